//! A partner's SFTP server as a channel, inbound or outbound: the folder
//! channel of `dir.rs` on the far side of an SSH connection (russh and
//! russh-sftp; SFTP version 3, which every server speaks).
//!
//! The server's host key is pinned, by a `known_hosts` line or by its
//! SHA-256 fingerprint: an unknown or changed key refuses the connection
//! and the error says whose key it was and what was expected. The client
//! logs in with a private key (ed25519 or RSA) or a password taken from an
//! environment variable or a file; a password is never put in an error.
//!
//! Inbound, a file is taken once it is complete by the rules of
//! [`super::watch`] (old enough and unchanged across looks spanning
//! `min_age_secs`, or its ready marker there; hidden and temporary names
//! never). Once the gateway has archived a file, it is moved into
//! `done_dir` (under a free name: an SFTP v3 rename onto an existing file
//! fails) or deleted, and its marker deleted. Outbound, a file is
//! uploaded as `.name.part`, closed, and renamed into place; an existing
//! file is never overwritten.
//!
//! The connection is opened at the first use and again after it dropped:
//! an operation whose first, read-only request finds a dead session
//! reconnects and tries that request once more.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use russh::client;
use russh::keys::{Algorithm, HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileType, OpenFlags, StatusCode};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::dir::After;
use super::watch::{Kind, Listed, Look, ReadyRule, Watch};
use super::{TransportError, Waiting, glob};

/// An SFTP channel's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SftpConfig {
    /// The server's host name or address.
    pub host: String,
    /// The server's port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// The user to log in as.
    pub user: String,
    /// A private key file (OpenSSH format, ed25519 or RSA, not encrypted)
    /// to log in with.
    #[serde(default)]
    pub private_key: Option<PathBuf>,
    /// The name of the environment variable holding the password to log in
    /// with (the password itself is never written in the configuration).
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file holding the password to log in with (surrounding white space
    /// is ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The server's `known_hosts` line, as `ssh-keyscan` prints it:
    /// `[sftp.example.com]:2222 ssh-ed25519 AAAA...`.
    #[serde(default)]
    pub known_hosts: Option<String>,
    /// The server's host key fingerprint as `ssh-keygen -l` prints it:
    /// `SHA256:...`. This or `known_hosts` is required.
    #[serde(default)]
    pub host_key_fingerprint: Option<String>,
    /// The remote folder: listed (inbound) or uploaded into (outbound).
    /// A relative path is relative to the folder the server starts the
    /// session in.
    pub path: String,
    /// File name patterns to take, like `*.edi` (default: every file).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Inbound: a file whose modification time is this many seconds old is
    /// complete (as is one unchanged between two looks).
    #[serde(default = "default_min_age_secs")]
    pub min_age_secs: u64,
    /// Inbound: what to do with a file once archived, `move` or `delete`.
    #[serde(default)]
    pub after: After,
    /// Inbound: the remote folder `move` puts files in (default:
    /// `processed` inside `path`); created when missing.
    #[serde(default)]
    pub done_dir: Option<String>,
    /// Seconds to wait for the connection, the login and each answer of
    /// the server; an idle connection is closed after as long.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

const fn default_port() -> u16 {
    22
}

const fn default_min_age_secs() -> u64 {
    2
}

const fn default_timeout_secs() -> u64 {
    30
}

impl SftpConfig {
    /// Whether the login's secrets are where the configuration says: the
    /// private key file there, the password's variable set or its file
    /// readable.
    pub fn check_login(&self) -> Result<(), String> {
        if let Some(key) = &self.private_key {
            std::fs::metadata(key).map_err(|e| format!("private_key {}: {e}", key.display()))?;
        }
        super::secret::check_readable(self.password_env.as_deref(), self.password_file.as_deref())
    }

    /// Checks what can be checked without the server: a way to log in, a
    /// pinned host key that reads and names this host, sane values. The
    /// error is one sentence naming the setting.
    pub fn check(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("host is empty".into());
        }
        if self.user.is_empty() {
            return Err("user is empty".into());
        }
        if self.path.is_empty() {
            return Err("path is empty (use \".\" for the folder the session starts in)".into());
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        if self.private_key.is_none() && self.password_env.is_none() && self.password_file.is_none()
        {
            return Err("no way to log in: set private_key, password_env or password_file".into());
        }
        super::secret::check_sources(self.password_env.as_deref(), self.password_file.as_deref())?;
        if self.known_hosts.is_none() && self.host_key_fingerprint.is_none() {
            return Err(
                "the server's host key is not pinned: set known_hosts or host_key_fingerprint"
                    .into(),
            );
        }
        if let Some(line) = &self.known_hosts {
            pinned_key(line, &self.host, self.port)?;
        }
        if let Some(fp) = &self.host_key_fingerprint {
            pinned_fingerprint(fp)?;
        }
        if let Some(done) = &self.done_dir
            && done.is_empty()
        {
            return Err("done_dir is empty".into());
        }
        Ok(())
    }
}

/// The key of a `known_hosts` line, once its host field is found to name
/// `host` on `port`.
fn pinned_key(line: &str, host: &str, port: u16) -> Result<PublicKey, String> {
    let line = line.trim();
    let Some((hosts, key)) = line.split_once(char::is_whitespace) else {
        return Err("the known_hosts line has no key (expected `HOST TYPE BASE64`)".into());
    };
    if hosts.starts_with('@') {
        return Err(format!(
            "the known_hosts line starts with the marker {hosts}, which is not supported; give a plain line"
        ));
    }
    if hosts.starts_with("|1|") {
        return Err(
            "the known_hosts line has a hashed host name, which is not supported; give the plain line (`ssh-keyscan -p PORT HOST` prints one)"
                .into(),
        );
    }
    let want = if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    };
    let mut matched = false;
    for pattern in hosts.split(',') {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob::matches(negated, &want) {
                matched = false;
                break;
            }
        } else if glob::matches(pattern, &want) {
            matched = true;
        }
    }
    if !matched {
        return Err(format!(
            "the known_hosts line is for {hosts}, not for {want}"
        ));
    }
    PublicKey::from_openssh(key.trim())
        .map_err(|e| format!("the key of the known_hosts line does not read: {e}"))
}

/// A `SHA256:...` fingerprint, without base64 padding.
fn pinned_fingerprint(fp: &str) -> Result<String, String> {
    let fp = fp.trim();
    match fp.strip_prefix("SHA256:") {
        Some(b64)
            if !b64.is_empty()
                && b64
                    .trim_end_matches('=')
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/') =>
        {
            Ok(fp.trim_end_matches('=').to_string())
        }
        _ => Err(format!(
            "host_key_fingerprint {fp:?} is not of the form SHA256:... that `ssh-keygen -l` prints"
        )),
    }
}

/// The algorithms to ask for, the pinned key's kind first: a server with
/// several host keys then shows the one pinned (as OpenSSH's client does
/// with the kinds it finds in `known_hosts`).
fn preferred_for(known: Option<&PublicKey>) -> russh::Preferred {
    let mut preferred = russh::Preferred::default();
    if let Some(known) = known {
        let pinned = known.algorithm();
        let rsa = |a: &Algorithm| matches!(a, Algorithm::Rsa { .. });
        let same_kind = |a: &Algorithm| a == &pinned || (rsa(a) && rsa(&pinned));
        let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
            preferred.key.iter().cloned().partition(same_kind);
        first.extend(rest);
        preferred.key = first.into();
    }
    preferred
}

/// What the client checks the server's host key against.
struct Pinned {
    /// `host:port`, for messages.
    target: String,
    fingerprint: Option<String>,
    known: Option<PublicKey>,
}

/// The handler's error: the connection's, or the refused host key.
#[derive(Debug)]
enum SshError {
    Ssh(russh::Error),
    HostKey(String),
}

impl From<russh::Error> for SshError {
    fn from(e: russh::Error) -> Self {
        SshError::Ssh(e)
    }
}

impl client::Handler for Pinned {
    type Error = SshError;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, SshError> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Err(SshError::HostKey(format!(
                "{} presented a host certificate; only a pinned host key is accepted",
                self.target
            )));
        };
        let fp = key.fingerprint(HashAlg::Sha256).to_string();
        if let Some(pin) = &self.fingerprint
            && fp.trim_end_matches('=') != pin
        {
            return Err(SshError::HostKey(format!(
                "host key of {} is {fp}, not the pinned {pin}",
                self.target
            )));
        }
        if let Some(known) = &self.known
            && known.key_data() != key.key_data()
        {
            return Err(SshError::HostKey(format!(
                "host key of {} ({} {fp}) does not match the known_hosts line ({} {})",
                self.target,
                key.algorithm(),
                known.algorithm(),
                known.fingerprint(HashAlg::Sha256),
            )));
        }
        Ok(true)
    }
}

/// An open session.
struct Connection {
    ssh: client::Handle<Pinned>,
    sftp: SftpSession,
}

/// An SFTP channel.
pub struct SftpChannel {
    name: String,
    config: SftpConfig,
    /// When files are complete.
    watch: Watch,
    /// The session, opened at the first use.
    conn: Option<Connection>,
}

impl fmt::Debug for SftpChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpChannel")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

/// True when an error says the session is gone (no answer came), false
/// when the server answered with a refusal and the session lives on.
fn connection_lost(e: &SftpError) -> bool {
    !matches!(e, SftpError::Status(_) | SftpError::Limited(_))
}

fn sftp_io(e: SftpError) -> io::Error {
    let kind = match &e {
        SftpError::Status(s) => match s.status_code {
            StatusCode::NoSuchFile => io::ErrorKind::NotFound,
            StatusCode::PermissionDenied => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        },
        SftpError::Timeout => io::ErrorKind::TimedOut,
        SftpError::IO(_) => io::ErrorKind::ConnectionAborted,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("sftp: {e}"))
}

fn ssh_io(e: SshError) -> io::Error {
    match e {
        SshError::HostKey(why) => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("refused to connect: {why}"),
        ),
        SshError::Ssh(russh::Error::IO(e)) => io::Error::new(e.kind(), format!("ssh: {e}")),
        SshError::Ssh(e) => io::Error::other(format!("ssh: {e}")),
    }
}

fn is_not_found(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile)
}

/// `dir/name` in the server's (slash-separated) paths.
/// A modification time in seconds since 1970, as SFTP gives it.
fn modified(mtime: Option<u32>) -> Option<SystemTime> {
    mtime.map(|m| UNIX_EPOCH + Duration::from_secs(u64::from(m)))
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Refuses anything but a plain file name (no folder, not hidden).
fn plain_name(name: &str) -> Result<(), io::Error> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a plain file name",
        ))
    } else {
        Ok(())
    }
}

impl SftpChannel {
    /// The channel `name` on `config`. Nothing is connected before the
    /// first use.
    pub fn new(name: &str, config: SftpConfig) -> SftpChannel {
        let done = config
            .done_dir
            .clone()
            .unwrap_or_else(|| join(&config.path, "processed"));
        let watch = Watch::for_folder(
            config.min_age_secs,
            config.patterns.clone(),
            &config.path,
            &done,
        );
        SftpChannel {
            name: name.to_string(),
            config,
            watch,
            conn: None,
        }
    }

    /// Files named by these rules are taken once their marker is there.
    pub fn set_ready_rules(&mut self, rules: Vec<ReadyRule>) {
        self.watch.set_rules(rules);
    }

    /// How long until a file seen but not yet complete may be.
    pub fn settling(&self) -> Option<Duration> {
        self.watch.settling()
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The remote folder.
    pub fn path(&self) -> &str {
        &self.config.path
    }

    fn error(&self, doing: String, source: io::Error) -> TransportError {
        TransportError {
            channel: self.name.clone(),
            doing,
            source,
        }
    }

    /// An error of the server's, dropping the session if it is gone.
    fn sftp_error(&mut self, doing: String, e: SftpError) -> TransportError {
        if connection_lost(&e) {
            self.conn = None;
        }
        self.error(doing, sftp_io(e))
    }

    fn target(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs)
    }

    fn done_dir(&self) -> String {
        self.config
            .done_dir
            .clone()
            .unwrap_or_else(|| join(&self.config.path, "processed"))
    }

    /// The password, from the environment or the file.
    fn password(&self) -> Result<Option<String>, io::Error> {
        super::secret::read(
            self.config.password_env.as_deref(),
            self.config.password_file.as_deref(),
        )
    }

    /// Opens a session: TCP, key exchange with the pinned host key, login,
    /// the `sftp` subsystem.
    async fn connect(&self) -> Result<Connection, io::Error> {
        self.config
            .check()
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        let config = &self.config;
        let known = match &config.known_hosts {
            Some(line) => Some(
                pinned_key(line, &config.host, config.port)
                    .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?,
            ),
            None => None,
        };
        let fingerprint = match &config.host_key_fingerprint {
            Some(fp) => Some(
                pinned_fingerprint(fp)
                    .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?,
            ),
            None => None,
        };
        let key = match &config.private_key {
            Some(path) => Some(russh::keys::load_secret_key(path, None).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("private_key {}: {e}", path.display()),
                )
            })?),
            None => None,
        };
        let password = self.password()?;
        let pinned = Pinned {
            target: self.target(),
            fingerprint,
            known,
        };
        let ssh_config = Arc::new(client::Config {
            inactivity_timeout: Some(self.timeout()),
            preferred: preferred_for(pinned.known.as_ref()),
            ..Default::default()
        });
        let timeout = self.timeout();
        let opening = async {
            let mut ssh = client::connect(ssh_config, (config.host.as_str(), config.port), pinned)
                .await
                .map_err(ssh_io)?;
            let mut logged_in = false;
            let mut tried = Vec::new();
            if let (Some(key), Some(path)) = (key, &config.private_key) {
                let hash = if key.algorithm().is_rsa() {
                    ssh.best_supported_rsa_hash()
                        .await
                        .map_err(|e| ssh_io(e.into()))?
                        .flatten()
                } else {
                    None
                };
                let auth = ssh
                    .authenticate_publickey(
                        config.user.as_str(),
                        PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                    )
                    .await
                    .map_err(|e| ssh_io(e.into()))?;
                logged_in = auth.success();
                tried.push(format!("the key {}", path.display()));
            }
            if let Some(password) = password
                && !logged_in
            {
                let auth = ssh
                    .authenticate_password(config.user.as_str(), password)
                    .await
                    .map_err(|e| ssh_io(e.into()))?;
                logged_in = auth.success();
                tried.push(match &config.password_env {
                    Some(var) => format!("the password from ${var}"),
                    None => "the password from password_file".into(),
                });
            }
            if !logged_in {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "the server refused {} for user {}",
                        tried.join(" and "),
                        config.user
                    ),
                ));
            }
            let channel = ssh
                .channel_open_session()
                .await
                .map_err(|e| ssh_io(e.into()))?;
            channel
                .request_subsystem(true, "sftp")
                .await
                .map_err(|e| ssh_io(e.into()))?;
            let sftp = SftpSession::new(channel.into_stream())
                .await
                .map_err(sftp_io)?;
            sftp.set_timeout(config.timeout_secs);
            Ok(Connection { ssh, sftp })
        };
        match tokio::time::timeout(timeout, opening).await {
            Ok(conn) => conn,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no session within {} s (timeout_secs)", config.timeout_secs),
            )),
        }
    }

    /// The session, opened when there is none or it is closed. True with
    /// it when it was open already (and so may turn out dead).
    async fn session(&mut self) -> Result<bool, TransportError> {
        if let Some(conn) = &self.conn
            && !conn.ssh.is_closed()
        {
            return Ok(true);
        }
        self.conn = None;
        let conn = self.connect().await.map_err(|e| {
            self.error(
                format!("connecting to {}@{}", self.config.user, self.target()),
                e,
            )
        })?;
        self.conn = Some(conn);
        Ok(false)
    }

    fn sftp(&self) -> Result<&SftpSession, TransportError> {
        match &self.conn {
            Some(conn) => Ok(&conn.sftp),
            None => Err(self.error(
                "using the session".into(),
                io::Error::new(io::ErrorKind::NotConnected, "not connected"),
            )),
        }
    }

    /// The files complete and waiting, by name, and what was skipped
    /// (once per name).
    pub async fn poll(&mut self) -> Result<Look, TransportError> {
        let dir = self.config.path.clone();
        let doing = || format!("listing {dir}");
        let mut reused = self.session().await?;
        let entries = loop {
            match self.sftp()?.read_dir(dir.as_str()).await {
                Ok(entries) => break entries,
                Err(e) if reused && connection_lost(&e) => {
                    self.conn = None;
                    reused = self.session().await?;
                }
                Err(e) => return Err(self.sftp_error(doing(), e)),
            }
        };
        let now = SystemTime::now();
        let listing = entries
            .map(|entry| {
                let meta = entry.metadata();
                let kind = match meta.file_type() {
                    FileType::File => Kind::File,
                    FileType::Dir => Kind::Directory,
                    FileType::Symlink => Kind::Symlink,
                    FileType::Other => Kind::Special,
                };
                Listed {
                    name: Ok(entry.file_name()),
                    kind,
                    size: meta.len(),
                    modified: modified(meta.mtime),
                }
            })
            .collect();
        Ok(self.watch.look(listing, now, Instant::now()))
    }

    /// Whether a file read after `poll` listed it is still as listed: one
    /// that changed while it was copied is to be taken later.
    pub async fn still(&mut self, waiting: &Waiting) -> Result<bool, TransportError> {
        let path = join(&self.config.path, &waiting.name);
        let doing = format!("looking at {path}");
        plain_name(&waiting.name).map_err(|e| self.error(doing.clone(), e))?;
        let meta = self.sftp()?.metadata(path.as_str()).await;
        let meta = meta.map_err(|e| self.sftp_error(doing, e))?;
        Ok(self.watch.still(waiting, meta.len(), modified(meta.mtime)))
    }

    /// The bytes of a waiting file.
    pub async fn read(&mut self, name: &str) -> Result<Vec<u8>, TransportError> {
        let path = join(&self.config.path, name);
        let doing = || format!("reading {path}");
        plain_name(name).map_err(|e| self.error(doing(), e))?;
        let mut reused = self.session().await?;
        loop {
            match self.sftp()?.read(path.as_str()).await {
                Ok(bytes) => return Ok(bytes),
                Err(e) if reused && connection_lost(&e) => {
                    self.conn = None;
                    reused = self.session().await?;
                }
                Err(e) => return Err(self.sftp_error(doing(), e)),
            }
        }
    }

    /// Copies a waiting file into `out`, a piece at a time (for a file
    /// too large to hold in memory); returns its size.
    pub async fn read_into(
        &mut self,
        name: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, TransportError> {
        use tokio::io::AsyncReadExt;
        let path = join(&self.config.path, name);
        let doing = || format!("reading {path}");
        plain_name(name).map_err(|e| self.error(doing(), e))?;
        let reused = self.session().await?;
        let opened = self.sftp()?.open(path.as_str()).await;
        let mut file = match opened {
            Ok(f) => f,
            Err(e) if reused && connection_lost(&e) => {
                self.conn = None;
                self.session().await?;
                match self.sftp()?.open(path.as_str()).await {
                    Ok(f) => f,
                    Err(e) => return Err(self.sftp_error(doing(), e)),
                }
            }
            Err(e) => return Err(self.sftp_error(doing(), e)),
        };
        let mut piece = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = file
                .read(&mut piece)
                .await
                .map_err(|e| self.error(doing(), e))?;
            if n == 0 {
                return Ok(total);
            }
            out.write_all(&piece[..n])
                .map_err(|e| self.error(doing(), e))?;
            total += n as u64;
        }
    }

    /// Makes sure `path` is there, and the session alive: reconnects once
    /// when the session turns out dead.
    async fn stat_alive(&mut self, path: &str, doing: &str) -> Result<(), TransportError> {
        let mut reused = self.session().await?;
        loop {
            match self.sftp()?.metadata(path).await {
                Ok(_) => return Ok(()),
                Err(e) if reused && connection_lost(&e) => {
                    self.conn = None;
                    reused = self.session().await?;
                }
                Err(e) => return Err(self.sftp_error(doing.to_string(), e)),
            }
        }
    }

    /// Whether `path` exists.
    async fn exists(&mut self, path: &str, doing: &str) -> Result<bool, TransportError> {
        match self.sftp()?.metadata(path).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sftp_error(doing.to_string(), e)),
        }
    }

    /// Creates the folder `dir` and its parents when missing.
    async fn create_dirs(&mut self, dir: &str) -> Result<(), TransportError> {
        let doing = format!("creating {dir}");
        if self.exists(dir, &doing).await? {
            return Ok(());
        }
        let mut prefix = String::new();
        for part in dir.split('/') {
            if prefix.is_empty() && part.is_empty() {
                prefix.push('/');
                continue;
            }
            if part.is_empty() {
                continue;
            }
            prefix = if prefix.is_empty() {
                part.to_string()
            } else {
                join(&prefix, part)
            };
            if !self.exists(&prefix, &doing).await? {
                let made = self.sftp()?.create_dir(prefix.as_str()).await;
                if let Err(e) = made {
                    // Made meanwhile by someone else is fine.
                    if !self.exists(&prefix, &doing).await? {
                        return Err(self.sftp_error(doing, e));
                    }
                }
            }
        }
        Ok(())
    }

    /// The file is archived and recorded: moves it into `done_dir` (under
    /// a free name) or deletes it.
    pub async fn done(&mut self, name: &str) -> Result<(), TransportError> {
        let path = join(&self.config.path, name);
        plain_name(name).map_err(|e| self.error(format!("finishing {path}"), e))?;
        self.watch.forget(name);
        self.stat_alive(&path, &format!("finishing {path}")).await?;
        if let Some(marker) = self.watch.marker_of(name) {
            let marker = join(&self.config.path, &marker);
            let removed = self.sftp()?.remove_file(marker.as_str()).await;
            match removed {
                Err(e) if !is_not_found(&e) => {
                    return Err(self.sftp_error(format!("deleting {marker}"), e));
                }
                _ => {}
            }
        }
        match self.config.after {
            After::Delete => {
                let removed = self.sftp()?.remove_file(path.as_str()).await;
                removed.map_err(|e| self.sftp_error(format!("deleting {path}"), e))
            }
            After::Move => {
                let done = self.done_dir();
                self.create_dirs(&done).await?;
                const MOST: u32 = 10_000;
                for n in 1..=MOST {
                    let target = if n == 1 {
                        join(&done, name)
                    } else {
                        join(&done, &format!("{name}.{n}"))
                    };
                    let doing = format!("moving {path} to {target}");
                    if self.exists(&target, &doing).await? {
                        continue;
                    }
                    let renamed = self.sftp()?.rename(path.as_str(), target.as_str()).await;
                    match renamed {
                        Ok(()) => return Ok(()),
                        // Taken meanwhile: the next name.
                        Err(e) if !connection_lost(&e) && self.exists(&target, &doing).await? => {}
                        Err(e) => return Err(self.sftp_error(doing, e)),
                    }
                }
                Err(self.error(
                    format!("moving {path} into {done}"),
                    io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{name} and {name}.2 to {name}.{MOST} are all taken"),
                    ),
                ))
            }
        }
    }

    /// Delivers `bytes` as `name`: uploaded under a hidden name, closed,
    /// then renamed into place. Fails rather than overwrite a file; the
    /// folder must exist.
    pub async fn deliver(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        let target = join(&self.config.path, name);
        let doing = format!("delivering {target}");
        plain_name(name).map_err(|e| self.error(format!("delivering {name:?}"), e))?;
        let tmp = join(&self.config.path, &format!(".{name}.part"));
        let already =
            || io::Error::new(io::ErrorKind::AlreadyExists, "a file of that name is there");
        // The first request is read-only: a dead session is reopened.
        let mut reused = self.session().await?;
        loop {
            match self.sftp()?.metadata(target.as_str()).await {
                Ok(_) => return Err(self.error(doing, already())),
                Err(e) if is_not_found(&e) => break,
                Err(e) if reused && connection_lost(&e) => {
                    self.conn = None;
                    reused = self.session().await?;
                }
                Err(e) => return Err(self.sftp_error(doing, e)),
            }
        }
        let written = async {
            let sftp = self.sftp().map_err(|e| e.source)?;
            let mut file = sftp
                .open_with_flags(
                    tmp.as_str(),
                    OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE,
                )
                .await?;
            file.write_all(bytes).await?;
            file.sync_all().await?;
            file.shutdown().await?;
            Ok::<(), SftpError>(())
        }
        .await;
        if let Err(e) = written {
            let err = self.sftp_error(format!("writing {tmp}"), e);
            self.remove_quietly(&tmp).await;
            return Err(err);
        }
        if self.exists(&target, &doing).await? {
            self.remove_quietly(&tmp).await;
            return Err(self.error(doing, already()));
        }
        let renamed = self.sftp()?.rename(tmp.as_str(), target.as_str()).await;
        if let Err(e) = renamed {
            let taken = !connection_lost(&e) && self.exists(&target, &doing).await?;
            self.remove_quietly(&tmp).await;
            return Err(if taken {
                self.error(doing, already())
            } else {
                self.sftp_error(format!("renaming {tmp} to {target}"), e)
            });
        }
        Ok(())
    }

    /// Removes a temporary file, if the session is still there.
    async fn remove_quietly(&mut self, path: &str) {
        if let Some(conn) = &self.conn {
            let _ = conn.sftp.remove_file(path).await;
        }
    }

    /// Closes the session (the next use opens another).
    pub async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.sftp.close().await;
            let _ = conn
                .ssh
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SftpConfig, toml::de::Error> {
        toml::from_str(text)
    }

    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHV6sOaD+/Mq/v54fAXm3/jG8SI5P0fd107e4whliv+9CX6eKTPuADMsLaWDSpq+SpoPUKCUbSKdL548FciMjC4myGpHxFZjgv/k+6aQRH2b8Dt4WpUH2DpWw9n+5xXu3dRUJiEU4Xig5uviGJfU4ZE06Liw8gKyyylREte2HUgQ==";

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";

    #[test]
    fn defaults() -> Result<(), Box<dyn std::error::Error>> {
        let c = parse(
            r#"
            host = "sftp.example.com"
            user = "acme"
            private_key = "keys/acme"
            host_key_fingerprint = "SHA256:abcdefghijklmnopqrstuvwxyz0123456789+/ABCDE"
            path = "outbound"
            "#,
        )?;
        assert_eq!(c.port, 22);
        assert_eq!(c.min_age_secs, 2);
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(c.after, After::Move);
        assert!(c.patterns.is_empty());
        assert_eq!(c.done_dir, None);
        assert_eq!(c.private_key, Some(PathBuf::from("keys/acme")));
        assert_eq!(c.check(), Ok(()));
        let ch = SftpChannel::new("acme", c);
        assert_eq!(ch.done_dir(), "outbound/processed");
        assert_eq!(ch.name(), "acme");
        Ok(())
    }

    #[test]
    fn every_field() -> Result<(), Box<dyn std::error::Error>> {
        let c = parse(&format!(
            r#"
            host = "127.0.0.1"
            port = 2222
            user = "root"
            password_env = "ACME_SFTP_PASSWORD"
            known_hosts = "[127.0.0.1]:2222 {KEY}"
            path = "/srv/in/"
            patterns = ["*.edi", "*.x12"]
            min_age_secs = 0
            after = "delete"
            done_dir = "/srv/done"
            timeout_secs = 5
            "#
        ))?;
        assert_eq!(c.port, 2222);
        assert_eq!(c.after, After::Delete);
        assert_eq!(c.patterns, vec!["*.edi".to_string(), "*.x12".to_string()]);
        assert_eq!(c.check(), Ok(()));
        let ch = SftpChannel::new("acme", c);
        assert_eq!(ch.done_dir(), "/srv/done");
        assert_eq!(join("/srv/in/", "a.edi"), "/srv/in/a.edi");
        assert_eq!(join("in", "a.edi"), "in/a.edi");
        Ok(())
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = parse(
            r#"
            host = "h"
            user = "u"
            path = "p"
            pasword_env = "X"
            "#,
        );
        let message = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("pasword_env"), "{message}");
        // `path` is required.
        assert!(parse("host = \"h\"\nuser = \"u\"").is_err());
    }

    fn base() -> SftpConfig {
        SftpConfig {
            host: "127.0.0.1".into(),
            port: 2222,
            user: "root".into(),
            private_key: Some("k".into()),
            password_env: None,
            password_file: None,
            known_hosts: None,
            host_key_fingerprint: Some("SHA256:abc".into()),
            path: "in".into(),
            patterns: vec![],
            min_age_secs: 2,
            after: After::Move,
            done_dir: None,
            timeout_secs: 30,
        }
    }

    #[test]
    fn check_names_the_problem() {
        let problem = |c: SftpConfig| c.check().err().unwrap_or_default();
        assert!(
            problem(SftpConfig {
                private_key: None,
                ..base()
            })
            .contains("no way to log in")
        );
        assert!(
            problem(SftpConfig {
                host_key_fingerprint: None,
                ..base()
            })
            .contains("not pinned")
        );
        assert!(
            problem(SftpConfig {
                host_key_fingerprint: Some("MD5:aa:bb".into()),
                ..base()
            })
            .contains("SHA256:")
        );
        assert!(
            problem(SftpConfig {
                password_env: Some("A".into()),
                password_file: Some("b".into()),
                ..base()
            })
            .contains("both set")
        );
        assert!(
            problem(SftpConfig {
                timeout_secs: 0,
                ..base()
            })
            .contains("timeout_secs")
        );
    }

    #[test]
    fn known_hosts_lines() {
        assert!(pinned_key(&format!("[127.0.0.1]:2222 {KEY}"), "127.0.0.1", 2222).is_ok());
        assert!(
            pinned_key(
                &format!("example.com,[127.0.0.1]:2222 {KEY} c"),
                "127.0.0.1",
                2222
            )
            .is_ok()
        );
        assert!(pinned_key(&format!("127.0.0.1 {KEY}"), "127.0.0.1", 22).is_ok());
        assert!(pinned_key(&format!("[127.0.0.*]:2222 {KEY}"), "127.0.0.1", 2222).is_ok());
        let e = pinned_key(&format!("127.0.0.1 {KEY}"), "127.0.0.1", 2222).err();
        assert_eq!(
            e.as_deref(),
            Some("the known_hosts line is for 127.0.0.1, not for [127.0.0.1]:2222")
        );
        assert!(pinned_key(&format!("*,!127.0.0.1 {KEY}"), "127.0.0.1", 22).is_err());
        let e = pinned_key(&format!("|1|abc=|def= {KEY}"), "127.0.0.1", 22).err();
        assert!(e.is_some_and(|e| e.contains("hashed")));
        let e = pinned_key("127.0.0.1 ssh-ed25519 notbase64!", "127.0.0.1", 22).err();
        assert!(e.is_some_and(|e| e.contains("does not read")));
        assert!(pinned_key("127.0.0.1", "127.0.0.1", 22).is_err());
    }

    #[test]
    fn fingerprints() {
        assert_eq!(
            pinned_fingerprint(" SHA256:ab+/c= "),
            Ok("SHA256:ab+/c".to_string())
        );
        assert!(pinned_fingerprint("SHA256:").is_err());
        assert!(pinned_fingerprint("ab:cd").is_err());
    }

    #[test]
    fn the_pinned_kind_of_key_is_asked_for_first() -> Result<(), Box<dyn std::error::Error>> {
        let ed25519 = PublicKey::from_openssh(KEY)?;
        let asked = preferred_for(Some(&ed25519));
        assert_eq!(asked.key.first(), Some(&Algorithm::Ed25519));
        assert_eq!(asked.key.len(), russh::Preferred::default().key.len());
        let rsa = PublicKey::from_openssh(RSA)?;
        let asked = preferred_for(Some(&rsa));
        assert!(
            asked
                .key
                .iter()
                .take(3)
                .all(|a| matches!(a, Algorithm::Rsa { .. })),
            "{:?}",
            asked.key
        );
        assert_eq!(asked.key.len(), russh::Preferred::default().key.len());
        assert_eq!(preferred_for(None).key, russh::Preferred::default().key);
        Ok(())
    }

    /// The gateway may run channels on a multi-threaded runtime.
    #[test]
    fn operations_are_send() {
        fn send<T: Send>(_: T) {}
        let mut ch = SftpChannel::new("acme", base());
        send(ch.poll());
        send(ch.read("a"));
        send(ch.done("a"));
        send(ch.deliver("a", b"x"));
        send(ch.close());
        send(ch);
    }

    #[test]
    fn plain_names_only() {
        assert!(plain_name("a.edi").is_ok());
        for bad in ["", ".a", "..", "a/b", "a\\b", "../x"] {
            assert!(plain_name(bad).is_err(), "{bad}");
        }
    }
}
