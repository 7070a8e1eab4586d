//! A private PostgreSQL on 127.0.0.1 for the store's tests: a cluster made
//! by `initdb` in a temporary folder, started by `pg_ctl` on a free port
//! (TCP on 127.0.0.1 only, its socket in the folder, no fsync), with a
//! password for the `postgres` user (scram-sha-256 over TCP), and stopped
//! on `Drop`. Nothing of the system's clusters is read or used.
//!
//! initdb refuses to run as root: as root, the cluster belongs to the
//! package's `postgres` user, and `initdb`, `pg_ctl` and `psql` run as it
//! through `runuser`; the folder is handed to that user.
//!
//! `Postgres::start` gives `None` only when PostgreSQL is not installed
//! (or not where `DROPGATE_TEST_PG_BIN`, the folder of `initdb` and
//! `pg_ctl`, says), after printing why, and fails the test instead when
//! `CI` is set (see `skip`; `scripts/setup.sh` installs it). A server that
//! is installed but does not start is an error, with its log.

use std::error::Error;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::proc::{program, run};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The user the tests connect as.
pub const USER: &str = "postgres";

/// Its password.
pub const PASSWORD: &str = "Pg-s3cret-4711";

/// A running private PostgreSQL.
pub struct Postgres {
    dir: tempfile::TempDir,
    /// The folder of `initdb`, `pg_ctl` and `psql`.
    bin: PathBuf,
    port: u16,
    /// The user the server's programs run as, when this process is root.
    owner: Option<String>,
    running: bool,
    /// Databases made so far, to name the next.
    databases: u32,
}

/// The newest `/usr/lib/postgresql/<version>/bin/initdb` (Debian's
/// place), or a name that is not there.
fn debian_initdb() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let initdb = e.path().join("bin/initdb");
            initdb.is_file().then_some((version, initdb))
        })
        .collect();
    found.sort();
    found.pop().map_or_else(
        || PathBuf::from("/usr/lib/postgresql/VERSION/bin/initdb"),
        |(_, p)| p,
    )
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

impl Postgres {
    /// Makes a cluster and starts it, or says why not and gives `None`
    /// when PostgreSQL is not installed (a failure under CI).
    pub fn start() -> Result<Option<Postgres>> {
        let initdb = match std::env::var_os("DROPGATE_TEST_PG_BIN") {
            Some(dir) if !dir.is_empty() => {
                let initdb = PathBuf::from(dir).join("initdb");
                match initdb.is_file() {
                    true => Ok(initdb),
                    false => Err(format!(
                        "DROPGATE_TEST_PG_BIN has no initdb ({} is not a file)",
                        initdb.display()
                    )),
                }
            }
            _ => program(
                "DROPGATE_TEST_INITDB",
                &debian_initdb().to_string_lossy(),
                "initdb",
            ),
        };
        let initdb = match initdb {
            Ok(p) => p,
            Err(why) => return Ok(unavailable("PostgreSQL (postgresql)", &why)),
        };
        let bin = initdb.parent().ok_or("initdb has no folder")?.to_path_buf();
        let root = run(Command::new("id").arg("-u"))?.trim() == "0";
        let owner = root.then(|| USER.to_string());
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        // The server's user must get through the folder.
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        std::fs::create_dir(d.join("sock"))?;
        std::fs::write(d.join("pwfile"), format!("{PASSWORD}\n"))?;
        if let Some(user) = &owner {
            run(Command::new("chown").args(["-R", &format!("{user}:"), &d.to_string_lossy()]))?;
        }
        let mut server = Postgres {
            dir,
            bin,
            port: 0,
            owner,
            running: false,
            databases: 0,
        };
        let data = server.data();
        server.as_owner("initdb", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-U", USER, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
                .arg(format!(
                    "--pwfile={}",
                    server.dir.path().join("pwfile").display()
                ))
        })?;
        // Another process may take the free port before the server binds
        // it.
        let mut last = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.start_again() {
                Ok(()) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "PostgreSQL did not start".into()))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs, as its user.
    fn as_owner(
        &self,
        name: &str,
        args: impl FnOnce(&mut Command) -> &mut Command,
    ) -> Result<String> {
        let program = self.bin.join(name);
        let mut cmd = match &self.owner {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        args(&mut cmd);
        // The server's own environment: nothing of ours (PGPASSWORD and
        // the like) leaks in.
        cmd.env_remove("PGPASSWORD").env_remove("PGDATA");
        run(&mut cmd)
    }

    /// Starts the server (again, after `stop`) on its port.
    pub fn start_again(&mut self) -> Result<()> {
        let (data, log, sock, port) = (
            self.data(),
            self.log_path(),
            self.dir.path().join("sock"),
            self.port,
        );
        let started = self.as_owner("pg_ctl", |c| {
            c.arg("-D").arg(&data).arg("-l").arg(&log).args(["-w", "-t", "60", "start", "-o"]).arg(
                format!(
                    "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} -c fsync=off -c max_connections=50",
                    sock.display()
                ),
            )
        });
        match started {
            Ok(_) => {
                self.running = true;
                Ok(())
            }
            Err(e) => Err(format!("{e}\nits log:\n{}", self.log()).into()),
        }
    }

    /// Stops the server (a fast shutdown: connections are cut).
    pub fn stop(&mut self) -> Result<()> {
        let data = self.data();
        self.as_owner("pg_ctl", |c| {
            c.arg("-D").arg(&data).args(["-m", "fast", "-w", "stop"])
        })?;
        self.running = false;
        Ok(())
    }

    /// The port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its URL (without the password).
    pub fn database(&mut self) -> Result<String> {
        self.databases += 1;
        let name = format!("dropgate_{}", self.databases);
        let sock = self.dir.path().join("sock");
        let port = self.port.to_string();
        self.as_owner("psql", |c| {
            c.arg("-h")
                .arg(&sock)
                .args(["-p", &port, "-U", USER, "-d", "postgres", "-q", "-c"])
                .arg(format!("CREATE DATABASE {name}"))
        })?;
        Ok(self.url(&name))
    }

    /// The URL of database `name` (no password in it).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// A file holding `PASSWORD` (and a line break).
    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("pwfile")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The folder of the cluster, for a test's own files.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self.as_owner("pg_ctl", |c| {
                c.arg("-D")
                    .arg(&data)
                    .args(["-m", "immediate", "-w", "stop"])
            });
        }
    }
}
