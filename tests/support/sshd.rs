//! A private OpenSSH sshd on 127.0.0.1 for the SFTP tests: its own
//! temporary folder, host key, client keys, configuration and free port,
//! `ForceCommand internal-sftp` starting every session in `root()`. Nothing
//! of the system's sshd is read or used. Stopping (on `Drop` too) kills the
//! listener and every session process it forked, so that a restart drops
//! the connections as a real one does. `enable_password_login` adds a
//! password account without touching the system's (see there).
//!
//! `Sshd::start` gives `None` only when sshd is not installed (or not where
//! `DROPGATE_TEST_SSHD` says), after printing why, and fails the test
//! instead when `CI` is set (see `skip`; `scripts/setup.sh` installs it).

use std::error::Error;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::proc::{kill_tree, program, run};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A running private sshd.
pub struct Sshd {
    dir: tempfile::TempDir,
    sshd: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Starts so far, to name each start's log.
    starts: u32,
    /// The host key files, in the order sshd is given them.
    host_keys: Vec<&'static str>,
    /// With a password account: the passwd and shadow files sshd sees.
    accounts: Option<(PathBuf, PathBuf)>,
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

fn keygen(path: &Path, kind: &str) -> Result<()> {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", "", "-C", "dropgate-test", "-f"])
        .arg(path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    run(&mut cmd)?;
    Ok(())
}

impl Sshd {
    /// Starts a server, or says why not and gives `None` when sshd is not
    /// installed (a failure under CI).
    pub fn start() -> Result<Option<Sshd>> {
        let sshd = match program("DROPGATE_TEST_SSHD", "/usr/sbin/sshd", "sshd") {
            Ok(sshd) => sshd,
            Err(why) => return Ok(unavailable("sshd (openssh-server)", &why)),
        };
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("root"))?;
        keygen(&dir.path().join("host_ed25519"), "ed25519")?;
        keygen(&dir.path().join("client_ed25519"), "ed25519")?;
        std::fs::copy(
            dir.path().join("client_ed25519.pub"),
            dir.path().join("authorized_keys"),
        )?;
        let mut server = Sshd {
            dir,
            sshd,
            port: 0,
            child: None,
            starts: 0,
            host_keys: vec!["host_ed25519"],
            accounts: None,
        };
        // Another process may take the free port before sshd binds it.
        let mut last = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.launch() {
                Ok(()) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "sshd did not start".into()))
    }

    /// The port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder sessions start in (relative paths are relative to it).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The client key the server accepts.
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_ed25519")
    }

    /// A new RSA client key, which the server accepts from now on.
    pub fn add_rsa_client_key(&self) -> Result<PathBuf> {
        let key = self.dir.path().join("client_rsa");
        keygen(&key, "rsa")?;
        let public = std::fs::read_to_string(key.with_extension("pub"))?;
        let authorized = self.dir.path().join("authorized_keys");
        let mut all = std::fs::read_to_string(&authorized)?;
        all.push_str(&public);
        std::fs::write(&authorized, all)?;
        Ok(key)
    }

    /// A new key the server does not know.
    pub fn stranger_key(&self) -> Result<PathBuf> {
        let key = self.dir.path().join("stranger_ed25519");
        keygen(&key, "ed25519")?;
        Ok(key)
    }

    /// The server's `known_hosts` line: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`.
    pub fn known_hosts_line(&self) -> Result<String> {
        self.known_hosts_line_of("host_ed25519")
    }

    fn known_hosts_line_of(&self, host_key: &str) -> Result<String> {
        let public = std::fs::read_to_string(self.dir.path().join(host_key).with_extension("pub"))?;
        let key: Vec<&str> = public.split_whitespace().take(2).collect();
        Ok(format!("[127.0.0.1]:{} {}", self.port, key.join(" ")))
    }

    /// The fingerprint of a public key file, as `ssh-keygen -l` prints it.
    pub fn fingerprint_of(public: &Path) -> Result<String> {
        let out = run(Command::new("ssh-keygen").arg("-lf").arg(public))?;
        out.split_whitespace()
            .nth(1)
            .map(str::to_string)
            .ok_or_else(|| format!("no fingerprint in {out:?}").into())
    }

    /// The server's host key fingerprint: `SHA256:...`.
    pub fn fingerprint(&self) -> Result<String> {
        Self::fingerprint_of(&self.dir.path().join("host_ed25519.pub"))
    }

    /// Everything the server logged (all starts).
    pub fn log(&self) -> String {
        let mut all = String::new();
        for n in 1..=self.starts {
            if let Ok(mut f) = std::fs::File::open(self.log_path(n)) {
                let _ = f.read_to_string(&mut all);
            }
        }
        all
    }

    fn log_path(&self, start: u32) -> PathBuf {
        self.dir.path().join(format!("sshd-{start}.log"))
    }

    fn write_config(&self) -> Result<PathBuf> {
        let d = self.dir.path().display();
        let config = format!(
            "ListenAddress 127.0.0.1\n\
             Port {port}\n\
             {host_keys}\
             PidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\n\
             StrictModes no\n\
             PermitRootLogin {root_login}\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication {passwords}\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             AllowTcpForwarding no\n\
             X11Forwarding no\n\
             PermitTTY no\n\
             PrintMotd no\n\
             LogLevel VERBOSE\n\
             Subsystem sftp internal-sftp\n\
             ForceCommand internal-sftp -d {d}/root\n",
            port = self.port,
            root_login = if self.accounts.is_some() {
                "yes"
            } else {
                "prohibit-password"
            },
            passwords = if self.accounts.is_some() { "yes" } else { "no" },
            host_keys = self
                .host_keys
                .iter()
                .map(|k| format!("HostKey {d}/{k}\n"))
                .collect::<String>(),
        );
        let path = self.dir.path().join("sshd_config");
        std::fs::write(&path, config)?;
        Ok(path)
    }

    /// Starts sshd in the foreground (`-D -e`) and waits until it listens.
    fn launch(&mut self) -> Result<()> {
        std::fs::create_dir_all("/run/sshd")?; // privilege separation
        let config = self.write_config()?;
        run(Command::new(&self.sshd).arg("-t").arg("-f").arg(&config))?;
        self.starts += 1;
        let log_path = self.log_path(self.starts);
        let log = std::fs::File::create(&log_path)?;
        let mut command = match &self.accounts {
            None => Command::new(&self.sshd),
            Some((passwd, shadow)) => {
                // In a mount namespace of its own, sshd sees the test's
                // account files in place of the system's (which stay
                // untouched); `exec` keeps one process to stop.
                let mut c = Command::new("unshare");
                c.args(["--mount", "--propagation", "private", "sh", "-c"])
                    .arg(
                        "mount --bind \"$1\" /etc/passwd && mount --bind \"$2\" /etc/shadow && shift 2 && exec \"$@\"",
                    )
                    .arg("sh")
                    .arg(passwd)
                    .arg(shadow)
                    .arg(&self.sshd);
                c
            }
        };
        let mut child = command
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if text.contains("Server listening") {
                break;
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("sshd exited ({status}): {text}").into());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("sshd did not listen within 10 s: {text}").into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
        // Listening, so the port accepts; make sure it is ours.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        Ok(())
    }

    /// Stops the server and every session it forked (which outlive the
    /// listener otherwise).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        kill_tree(&mut child);
    }

    /// Stops and starts the server on the same port with the same keys:
    /// every connection drops.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch()
    }

    /// Gives the server an RSA host key besides its ed25519 one (which
    /// stays first), restarts it, and gives the RSA key's `known_hosts`
    /// line.
    pub fn add_rsa_host_key(&mut self) -> Result<String> {
        keygen(&self.dir.path().join("host_rsa"), "rsa")?;
        self.host_keys.push("host_rsa");
        self.restart()?;
        self.known_hosts_line_of("host_rsa")
    }

    /// Restarts the server with a password login for `user` (sessions run
    /// as root, in `root()`), besides the keys. sshd reads the account
    /// from passwd and shadow files of the test's own, bind-mounted over
    /// the system's in a mount namespace of sshd's alone (`unshare`, which
    /// needs root), so nothing of the system changes.
    pub fn enable_password_login(&mut self, user: &str, password: &str) -> Result<()> {
        let hash = run(Command::new("openssl")
            .args(["passwd", "-6", "-salt", "dropgatetest"])
            .arg(password))?;
        let system = std::fs::read_to_string("/etc/passwd")?;
        // root, and the privilege separation user sshd needs.
        let mut passwd: String = system
            .lines()
            .filter(|l| l.starts_with("root:") || l.starts_with("sshd:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let root = self.root();
        passwd.push_str(&format!("{user}:x:0:0:test:{}:/bin/sh\n", root.display()));
        let shadow = format!(
            "root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n{user}:{}:19000:0:99999:7:::\n",
            hash.trim()
        );
        let passwd_path = self.dir.path().join("passwd");
        let shadow_path = self.dir.path().join("shadow");
        std::fs::write(&passwd_path, passwd)?;
        std::fs::write(&shadow_path, shadow)?;
        self.accounts = Some((passwd_path, shadow_path));
        self.restart()
    }

    /// Restarts the server with a new ed25519 host key.
    pub fn restart_with_new_host_key(&mut self) -> Result<()> {
        self.stop();
        keygen(&self.dir.path().join("host_ed25519"), "ed25519")?;
        self.launch()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}
