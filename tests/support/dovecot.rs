//! A private Dovecot on 127.0.0.1 for the IMAP tests: its own temporary
//! folder (mode 755, so that Dovecot's unprivileged processes get through
//! it), a test CA and a leaf certificate for `localhost` and `127.0.0.1`
//! made with openssl, its own configuration (`base_dir`, `state_dir` and
//! logs in the folder; nothing of the system's Dovecot is read or used),
//! IMAP and IMAPS on free ports, one static password for every user, and
//! Maildir mail owned by `nobody`. Stopping (on `Drop` too) kills the
//! master and every process it forked, so that a restart drops the
//! connections as a real one does.
//!
//! Mail is put in place as a delivery agent does (written into
//! `Maildir/tmp`, renamed into `Maildir/new`), and read back from the
//! Maildir for the tests' checks: which messages a folder holds and
//! whether they carry `\Seen` (the `S` of the file name's `:2,` flags).
//!
//! `Dovecot::start` gives `None` only when Dovecot is not installed (or
//! not where `DROPGATE_TEST_DOVECOT` says), after printing why, and fails
//! the test instead when `CI` is set (see `skip`; `scripts/setup.sh`
//! installs it).

use std::error::Error;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::proc::{kill_tree, listening, program, run};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The user the tests log in as (any name logs in with `PASSWORD`).
pub const USER: &str = "edi";

/// The password of every user.
pub const PASSWORD: &str = "Dovecot-s3cret-4711";

/// A running private Dovecot.
pub struct Dovecot {
    dir: tempfile::TempDir,
    dovecot: PathBuf,
    imap_port: u16,
    imaps_port: u16,
    child: Option<Child>,
    /// Starts so far, to name each start's stderr file.
    starts: u32,
    uid: u32,
    gid: u32,
}

/// Two distinct free ports on 127.0.0.1.
fn free_ports() -> Result<(u16, u16)> {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

fn id_of(flag: &str) -> Result<u32> {
    Ok(run(Command::new("id").args([flag, "nobody"]))?
        .trim()
        .parse()?)
}

/// A message in a Maildir folder.
#[derive(Debug)]
pub struct Stored {
    /// Its file name.
    pub file: String,
    /// Whether it carries `\Seen`.
    pub seen: bool,
    /// Its bytes.
    pub raw: Vec<u8>,
}

impl Stored {
    /// Whether its header has this `Subject`.
    pub fn has_subject(&self, subject: &str) -> bool {
        let needle = format!("\r\nSubject: {subject}\r\n");
        self.raw
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }
}

impl Dovecot {
    /// Starts a server, or says why not and gives `None` when Dovecot is
    /// not installed (a failure under CI).
    pub fn start() -> Result<Option<Dovecot>> {
        let dovecot = match program("DROPGATE_TEST_DOVECOT", "/usr/sbin/dovecot", "dovecot") {
            Ok(dovecot) => dovecot,
            Err(why) => return Ok(unavailable("dovecot (dovecot-core, dovecot-imapd)", &why)),
        };
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        super::tls::make(&d.join("tls"))?;
        let (uid, gid) = (id_of("-u")?, id_of("-g")?);
        for sub in ["run", "state"] {
            std::fs::create_dir(d.join(sub))?;
        }
        // The mail root and the user's Maildir, owned by the mail uid.
        let maildir = d.join("mail").join(USER).join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub))?;
        }
        for path in [
            d.join("mail"),
            d.join("mail").join(USER),
            maildir.clone(),
            maildir.join("cur"),
            maildir.join("new"),
            maildir.join("tmp"),
        ] {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
        }
        std::fs::write(d.join("password"), format!("{PASSWORD}\n"))?;
        std::fs::write(d.join("wrong-password"), "Not-the-Passw0rd-815\n")?;
        let mut server = Dovecot {
            dir,
            dovecot,
            imap_port: 0,
            imaps_port: 0,
            child: None,
            starts: 0,
            uid,
            gid,
        };
        // Another process may take the free ports before Dovecot binds
        // them.
        let mut last = None;
        for _ in 0..3 {
            (server.imap_port, server.imaps_port) = free_ports()?;
            match server.launch() {
                Ok(()) => return Ok(Some(server)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "dovecot did not start".into()))
    }

    /// The plaintext IMAP port, on 127.0.0.1.
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// The IMAPS (implicit TLS) port, on 127.0.0.1.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
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

    /// The `[channel.NAME]` table of a gateway reading this server's
    /// mailbox over IMAPS, taking the attachments `patterns` names (a TOML
    /// array, `["*.csv"]`).
    pub fn imap_channel(&self, name: &str, patterns: &str) -> String {
        format!(
            r#"[channel.{name}]
type = "imap"
host = "127.0.0.1"
port = {port}
ca_file = "{ca}"
user = "{USER}"
password_file = "{password}"
patterns = {patterns}
timeout_secs = 10
"#,
            port = self.imaps_port(),
            ca = self.ca_file().display(),
            password = self.password_file().display(),
        )
    }

    /// A file holding a password the server refuses.
    pub fn wrong_password_file(&self) -> PathBuf {
        self.dir.path().join("wrong-password")
    }

    /// A scratch folder for the tests' own files.
    pub fn scratch(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Everything the server logged (all starts).
    pub fn log(&self) -> String {
        let mut all =
            std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default();
        for n in 1..=self.starts {
            all.push_str(&std::fs::read_to_string(self.stderr_path(n)).unwrap_or_default());
        }
        all
    }

    /// How many IMAP logins of `USER` succeeded so far.
    pub fn logins(&self) -> usize {
        self.log()
            .matches(&format!("imap-login: Info: Login: user=<{USER}>,"))
            .count()
    }

    fn stderr_path(&self, start: u32) -> PathBuf {
        self.dir.path().join(format!("stderr-{start}.log"))
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail").join(USER).join("Maildir")
    }

    /// The Maildir++ folder of a mailbox (`/` separates levels).
    fn folder(&self, mailbox: &str) -> PathBuf {
        if mailbox.eq_ignore_ascii_case("INBOX") {
            self.maildir()
        } else {
            self.maildir()
                .join(format!(".{}", mailbox.replace('/', ".")))
        }
    }

    /// Puts a message into the INBOX as a delivery agent does: written
    /// into `tmp/`, owned by the mail user, renamed into `new/`.
    pub fn deliver(&self, raw: &[u8]) -> Result<()> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let unique = format!(
            "{}.M{}P{}Q{}.dropgate-test",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = self.maildir().join("tmp").join(&unique);
        std::fs::write(&tmp, raw)?;
        std::os::unix::fs::chown(&tmp, Some(self.uid), Some(self.gid))?;
        std::fs::rename(&tmp, self.maildir().join("new").join(&unique))?;
        Ok(())
    }

    /// The messages of a mailbox (`INBOX`, `Archive`, ...), from its
    /// Maildir folder; none when the folder is not there.
    pub fn mailbox(&self, mailbox: &str) -> Result<Vec<Stored>> {
        let folder = self.folder(mailbox);
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(folder.join(sub)) else {
                continue;
            };
            for entry in entries {
                let entry = entry?;
                let file = entry.file_name().to_string_lossy().into_owned();
                let seen = file
                    .rsplit_once(":2,")
                    .is_some_and(|(_, flags)| flags.contains('S'));
                found.push(Stored {
                    raw: std::fs::read(entry.path())?,
                    file,
                    seen,
                });
            }
        }
        found.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(found)
    }

    /// The message of `mailbox` with this subject.
    pub fn message(&self, mailbox: &str, subject: &str) -> Result<Stored> {
        let mut all: Vec<Stored> = self
            .mailbox(mailbox)?
            .into_iter()
            .filter(|m| m.has_subject(subject))
            .collect();
        match all.len() {
            1 => Ok(all.remove(0)),
            n => Err(format!("{n} messages with subject {subject:?} in {mailbox}").into()),
        }
    }

    fn write_config(&self) -> Result<PathBuf> {
        let d = self.dir.path().display();
        let config = format!(
            "instance_name = dropgate-test-{imap}\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             info_log_path = {d}/dovecot.log\n\
             listen = 127.0.0.1\n\
             protocols = imap\n\
             ssl = yes\n\
             ssl_cert = <{d}/tls/server.pem\n\
             ssl_key = <{d}/tls/server.key\n\
             ssl_min_protocol = TLSv1.2\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             auth_failure_delay = 0\n\
             passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/mail/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             namespace inbox {{\n  inbox = yes\n  separator = /\n}}\n\
             service anvil {{\n  unix_listener anvil-auth-penalty {{\n    mode = 0\n  }}\n}}\n\
             service imap-login {{\n\
             \x20 inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap}\n  }}\n\
             \x20 inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n    ssl = yes\n  }}\n\
             }}\n",
            imap = self.imap_port,
            imaps = self.imaps_port,
            uid = self.uid,
            gid = self.gid,
        );
        let path = self.dir.path().join("dovecot.conf");
        std::fs::write(&path, config)?;
        Ok(path)
    }

    /// Starts dovecot in the foreground (`-F`) and waits until both ports
    /// accept connections.
    fn launch(&mut self) -> Result<()> {
        let config = self.write_config()?;
        self.starts += 1;
        let stderr = std::fs::File::create(self.stderr_path(self.starts))?;
        let mut child = Command::new(&self.dovecot)
            .arg("-c")
            .arg(&config)
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(format!("dovecot exited ({status}): {}", self.log()).into());
            }
            if listening(self.imap_port) && listening(self.imaps_port) {
                break;
            }
            if Instant::now() > deadline {
                self.child = Some(child);
                self.stop();
                return Err(format!("dovecot did not listen within 10 s: {}", self.log()).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        Ok(())
    }

    /// Stops the server and every process it forked (listeners and
    /// sessions), and waits until its ports are free.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        kill_tree(&mut child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while (listening(self.imap_port) || listening(self.imaps_port)) && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops and starts the server on the same ports with the same mail
    /// and certificates: every connection drops.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An attachment of a test message.
pub struct Part<'a> {
    /// Its file name.
    pub name: &'a str,
    /// Its content type, like `application/pdf`.
    pub content_type: &'a str,
    /// Its bytes (sent in base64).
    pub bytes: &'a [u8],
}

/// Base64 in lines of 76 characters, CRLF after each.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut flat = String::with_capacity(bytes.len() / 3 * 4 + 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                flat.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                flat.push('=');
            }
        }
    }
    let mut out = String::with_capacity(flat.len() + flat.len() / 38);
    for line in flat.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    out
}

/// A multipart/mixed message (CRLF line ends) from `from` with a short
/// text body and `parts` as base64 attachments.
pub fn message(from: &str, subject: &str, parts: &[Part<'_>]) -> Vec<u8> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let boundary = "=_dropgate_test_boundary";
    let mut m = format!(
        "From: Partner <{from}>\r\n\
         To: {USER}@gw.test\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{n}.{pid}@dropgate.test>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\
         \r\n\
         This is a message in MIME format.\r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Please find the documents attached.\r\n",
        pid = std::process::id(),
    );
    for p in parts {
        m.push_str(&format!(
            "--{boundary}\r\n\
             Content-Type: {ct}; name=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             \r\n\
             {data}",
            ct = p.content_type,
            name = p.name,
            data = base64(p.bytes),
        ));
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    m.into_bytes()
}

/// A valid one-page PDF showing `text`.
pub fn tiny_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 24 Tf 20 60 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
