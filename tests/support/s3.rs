//! A private s3s-fs (an S3-protocol server that keeps each object as a
//! file) on 127.0.0.1 for the tests of the archive in a bucket: its own
//! temporary root folder holding the bucket's folder, a free port, keys
//! it checks (SigV4: a wrong secret is refused with 403). It can be
//! stopped and started again on the same port and root, to see what the
//! gateway does while the bucket is away. Stopped on `Drop` too.
//!
//! `S3::start` gives `None` only when s3s-fs is not installed (where
//! `DROPGATE_TEST_S3S_FS` says, in `scripts/setup.sh`'s cache
//! `${XDG_CACHE_HOME:-~/.cache}/dropgate-tools/bin`, or on `PATH`), after
//! printing why, and fails the test instead when `CI` is set (see `skip`).

use std::error::Error;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::proc::{listening, program};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The bucket every server has.
pub const BUCKET: &str = "dropgate-test";
/// The access key the server takes.
pub const ACCESS_KEY: &str = "AKDROPGATETEST";
/// The secret key the server takes.
pub const SECRET_KEY: &str = "dropgate-test-secret-key";

/// A running private s3s-fs.
pub struct S3 {
    dir: tempfile::TempDir,
    program: PathBuf,
    port: u16,
    child: Option<Child>,
    starts: u32,
}

/// Where `scripts/lib/s3s-fs.sh` installs s3s-fs.
fn cached() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent"));
    cache.join("dropgate-tools/bin/s3s-fs")
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

impl S3 {
    /// Starts a server with an empty bucket, or says why not and gives
    /// `None` when s3s-fs is not installed (a failure under CI).
    pub fn start() -> Result<Option<S3>> {
        let fixed = cached();
        let program = match program("DROPGATE_TEST_S3S_FS", &fixed.to_string_lossy(), "s3s-fs") {
            Ok(p) => p,
            Err(why) => return Ok(unavailable("s3s-fs (scripts/setup.sh)", &why)),
        };
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("data").join(BUCKET))?;
        let mut server = S3 {
            dir,
            program,
            port: 0,
            child: None,
            starts: 0,
        };
        // Another process may take the free port before the server binds it.
        let mut last = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.launch() {
                Ok(()) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "s3s-fs did not start".into()))
    }

    fn launch(&mut self) -> Result<()> {
        self.starts += 1;
        let log = self.dir.path().join(format!("s3s-fs.{}.log", self.starts));
        let child = Command::new(&self.program)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(self.root())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if listening(self.port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("s3s-fs exited ({status}): {said}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err("s3s-fs did not listen within 20 s".into())
    }

    /// The port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's address, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The folder the server keeps buckets in.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The object `key` of the bucket, read from the server's folder.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root().join(BUCKET).join(key)).ok()
    }

    /// Every key of the bucket under `prefix`, sorted (from the server's
    /// folder: an object is a file there).
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if let Ok(rel) = path.strip_prefix(base) {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        let base = self.root().join(BUCKET);
        let mut out = Vec::new();
        walk(&base.join(prefix), &base, &mut out);
        out.sort();
        out
    }

    /// Stops the server (the port is then closed; the objects stay).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and folder.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        self.stop();
    }
}
