//! A private SMTP server on 127.0.0.1 for the SMTP tests: aiosmtpd (the
//! Debian package `python3-aiosmtpd`, run by `/usr/bin/python3` unless
//! `DROPGATE_TEST_PYTHON` names another) with a small script written to
//! its own temporary folder. It offers STARTTLS with a leaf certificate
//! for `localhost` and `127.0.0.1` signed by a test CA (made with openssl)
//! and requires it before any mail; or, in implicit mode, TLS from the
//! first byte. With `auth`, it requires a login (AUTH
//! PLAIN or LOGIN, over TLS only) as `USER` with `PASSWORD`.
//!
//! Each message received is written to the folder `mail`: `<n>.env` (the
//! envelope sender on the first line, a recipient on each further line),
//! then `<n>.eml` (the data as received), the latter written under a
//! temporary name and renamed into place. Stopping (on `Drop` too) kills
//! the process.
//!
//! `SmtpServer::start` gives `None` only when aiosmtpd is not installed
//! (for the Python `DROPGATE_TEST_PYTHON` names, if set), after printing
//! why, and fails the test instead when `CI` is set (see `skip`;
//! `scripts/setup.sh` installs it).

use std::error::Error;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::proc::{listening, program};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The user the server accepts (with `auth`).
pub const USER: &str = "gateway";

/// Its password.
pub const PASSWORD: &str = "Smtp-s3cret-0815";

const SCRIPT: &str = r#"
import asyncio, os, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

port, store, tls_dir, mode, user, password = sys.argv[1:7]

class Handler:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        n = self.count
        with open(os.path.join(store, "%d.env" % n), "w") as f:
            f.write(envelope.mail_from + "\n")
            for rcpt in envelope.rcpt_tos:
                f.write(rcpt + "\n")
        tmp = os.path.join(store, ".%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(store, "%d.eml" % n))
        return "250 OK stored as %d" % n

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == user.encode()
          and auth_data.password == password.encode())
    return AuthResult(success=ok, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(os.path.join(tls_dir, "server.pem"), os.path.join(tls_dir, "server.key"))
handler = Handler()
kwargs = dict(hostname="localhost")
if user:
    kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
if mode == "starttls":
    kwargs.update(tls_context=ctx, require_starttls=True)

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
server = loop.run_until_complete(loop.create_server(
    lambda: SMTP(handler, **kwargs),
    host="127.0.0.1", port=int(port),
    ssl=ctx if mode == "implicit" else None))
print("listening", flush=True)
loop.run_forever()
"#;

/// How the server is set up.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// TLS from the first byte instead of STARTTLS.
    pub implicit: bool,
    /// A login is required.
    pub auth: bool,
}

/// A message as received.
#[derive(Debug)]
pub struct Received {
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// The data.
    pub raw: Vec<u8>,
}

/// A running private aiosmtpd.
pub struct SmtpServer {
    dir: tempfile::TempDir,
    python: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// A free port on 127.0.0.1, with nothing listening on it yet.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

impl SmtpServer {
    /// Starts a server, or says why not and gives `None` when aiosmtpd is
    /// not installed (a failure under CI).
    pub fn start(options: Options) -> Result<Option<SmtpServer>> {
        let python =
            program("DROPGATE_TEST_PYTHON", "/usr/bin/python3", "python3").and_then(|python| {
                let imports = Command::new(&python)
                    .args(["-c", "import aiosmtpd"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if imports {
                    Ok(python)
                } else {
                    Err(format!("{} cannot import aiosmtpd", python.display()))
                }
            });
        let python = match python {
            Ok(python) => python,
            Err(why) => return Ok(unavailable("aiosmtpd (python3-aiosmtpd)", &why)),
        };
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        super::tls::make(&d.join("tls"))?;
        std::fs::create_dir(d.join("mail"))?;
        std::fs::write(d.join("server.py"), SCRIPT)?;
        std::fs::write(d.join("password"), format!("{PASSWORD}\n"))?;
        std::fs::write(d.join("wrong-password"), "Not-the-Passw0rd-4711\n")?;
        let mut server = SmtpServer {
            dir,
            python,
            port: 0,
            child: None,
        };
        // Another process may take the free port before the server binds it.
        let mut last = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.launch(options) {
                Ok(()) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "aiosmtpd did not start".into()))
    }

    fn launch(&mut self, options: Options) -> Result<()> {
        let d = self.dir.path();
        let stderr = std::fs::File::create(d.join("server.log"))?;
        let (user, password) = if options.auth {
            (USER, PASSWORD)
        } else {
            ("", "")
        };
        let mut child = Command::new(&self.python)
            .arg(d.join("server.py"))
            .arg(self.port.to_string())
            .arg(d.join("mail"))
            .arg(d.join("tls"))
            .arg(if options.implicit {
                "implicit"
            } else {
                "starttls"
            })
            .args([user, password])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if listening(self.port) {
                self.child = Some(child);
                return Ok(());
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("aiosmtpd exited ({status}): {}", self.log()).into());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("aiosmtpd did not listen: {}", self.log()).into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM of the CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    /// The PEM of a CA that did not sign the server's certificate.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/other-ca.pem")
    }

    /// A file holding `PASSWORD` (and a line break).
    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("password")
    }

    /// A file holding a password the server refuses.
    pub fn wrong_password_file(&self) -> PathBuf {
        self.dir.path().join("wrong-password")
    }

    /// What the server wrote to stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        let mail = self.dir.path().join("mail");
        let mut out = Vec::new();
        for n in 1.. {
            let Ok(raw) = std::fs::read(mail.join(format!("{n}.eml"))) else {
                break;
            };
            let env = std::fs::read_to_string(mail.join(format!("{n}.env"))).unwrap_or_default();
            let mut lines = env.lines().map(str::to_string);
            out.push(Received {
                mail_from: lines.next().unwrap_or_default(),
                rcpt_tos: lines.collect(),
                raw,
            });
        }
        out
    }

    /// The messages, once there are at least `n` (or after `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server; connections are then refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
