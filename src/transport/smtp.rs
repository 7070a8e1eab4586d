//! A partner's mail address as an outbound channel: delivering a file sends
//! one e-mail through an SMTP server (lettre), with a short text body and
//! the file attached under its name, byte for byte (base64).
//!
//! The connection is encrypted with STARTTLS (the default, port 587) or
//! implicit TLS (port 465 style), verified against the built-in web PKI
//! roots or the CA certificates of `ca_file`, with the ring provider.
//! Plain text (`tls = "none"`) is refused unless the server is on this
//! machine's loopback interface. With `user` set, the client logs in with
//! a password taken from an environment variable or a file; a password is
//! never put in an error.
//!
//! Each message carries a Message-ID derived from the file's name and
//! bytes, so a delivery that is retried after a lost answer sends a message
//! the receiving side can recognize as the same one.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::TransportError;

/// How the connection to the SMTP server is encrypted.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text first, then `STARTTLS`, which the server must offer.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 style).
    Implicit,
    /// No encryption: only to a server on the loopback interface.
    None,
}

/// An SMTP channel's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The SMTP server's host name or address; the server's certificate
    /// must name it.
    pub host: String,
    /// The server's port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// How the connection is encrypted: `starttls`, `implicit` or `none`
    /// (refused unless the host is a loopback address or `localhost`).
    #[serde(default)]
    pub tls: SmtpTls,
    /// A PEM file of CA certificates to trust instead of the built-in web
    /// PKI roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The user to log in as (SMTP AUTH); no login when not set.
    #[serde(default)]
    pub user: Option<String>,
    /// The name of the environment variable holding the password to log in
    /// with (the password itself is never written in the configuration).
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file holding the password to log in with (surrounding white space
    /// is ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, envelope and `From` header: `edi@example.com` or
    /// `EDI Gateway <edi@example.com>`.
    pub from: String,
    /// The recipients, envelope and `To` header; at least one.
    pub to: Vec<String>,
    /// The subject; `{name}` is replaced by the file's name.
    #[serde(default = "default_subject")]
    pub subject: String,
    /// Seconds to wait for the connection and each answer of the server.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

const fn default_port() -> u16 {
    587
}

fn default_subject() -> String {
    "{name}".to_string()
}

const fn default_timeout_secs() -> u64 {
    30
}

impl SmtpConfig {
    /// Whether the password is where the configuration says: its variable
    /// set or its file readable.
    pub fn check_login(&self) -> Result<(), String> {
        super::secret::check_readable(self.password_env.as_deref(), self.password_file.as_deref())
    }

    /// Checks what can be checked without the server: addresses that
    /// read, a way to log in when a user is set, sane values. The error is
    /// one sentence naming the setting.
    pub fn check(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("host is empty".into());
        }
        if self.port == 0 {
            return Err("port must not be 0".into());
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        if self.tls == SmtpTls::None && !super::is_loopback(&self.host) {
            return Err(format!(
                "tls is \"none\" but host {} is not on this machine; mail to another machine is sent over TLS (\"starttls\" or \"implicit\")",
                self.host
            ));
        }
        if self.tls == SmtpTls::None && self.ca_file.is_some() {
            return Err("ca_file is set but tls is \"none\"; remove one".into());
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|e| format!("from {:?} is not a mail address: {e}", self.from))?;
        if self.to.is_empty() {
            return Err("to is empty; give at least one recipient".into());
        }
        for to in &self.to {
            to.parse::<Mailbox>()
                .map_err(|e| format!("to {to:?} is not a mail address: {e}"))?;
        }
        if self.subject.contains(['\r', '\n']) {
            return Err("subject holds a line break".into());
        }
        match &self.user {
            Some(user) => {
                if user.is_empty() {
                    return Err("user is empty".into());
                }
                super::secret::check_sources(
                    self.password_env.as_deref(),
                    self.password_file.as_deref(),
                )?;
                if self.password_env.is_none() && self.password_file.is_none() {
                    return Err(
                        "user is set but no password: set password_env or password_file".into(),
                    );
                }
            }
            None => {
                if self.password_env.is_some() || self.password_file.is_some() {
                    return Err(
                        "a password is set but no user: set user, or remove the password".into(),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The content type of a file, from its extension.
fn content_type_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "edi" | "x12" => "application/EDI-X12",
        "csv" => "text/csv",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The Message-ID of the message delivering `bytes` as `name`: the same
/// for a retried delivery of the same file.
fn message_id(name: &str, bytes: &[u8], from: &Mailbox) -> String {
    let readable: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut hash = Sha256::new();
    hash.update(name.as_bytes());
    hash.update([0]);
    hash.update(bytes);
    let digest = hash.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let domain = from.email.domain();
    let domain = if domain.is_empty() || domain.contains(['[', ']']) {
        "dropgate.invalid"
    } else {
        domain
    };
    format!("<dropgate.{readable}.{hex}@{domain}>")
}

/// An SMTP channel.
#[derive(Debug)]
pub struct SmtpChannel {
    name: String,
    config: SmtpConfig,
}

impl SmtpChannel {
    /// The channel `name` over `config`; nothing is opened before the
    /// first delivery.
    pub fn new(name: &str, config: SmtpConfig) -> SmtpChannel {
        SmtpChannel {
            name: name.to_string(),
            config,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn error(&self, doing: String, source: io::Error) -> TransportError {
        TransportError {
            channel: self.name.clone(),
            doing,
            source,
        }
    }

    /// The password, from the environment or the file.
    fn password(&self) -> Result<Option<String>, io::Error> {
        super::secret::read(
            self.config.password_env.as_deref(),
            self.config.password_file.as_deref(),
        )
    }

    /// The TLS parameters: the roots of `ca_file` or the web PKI roots.
    fn tls_parameters(&self) -> Result<TlsParameters, io::Error> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let mut builder = TlsParameters::builder(self.config.host.trim().to_string());
        match &self.config.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    io::Error::new(e.kind(), format!("reading ca_file {}: {e}", path.display()))
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    invalid(format!("ca_file {} does not read: {e}", path.display()))
                })?;
                builder = builder
                    .certificate_store(CertificateStore::None)
                    .add_root_certificate(cert);
            }
            None => builder = builder.certificate_store(CertificateStore::WebpkiRoots),
        }
        builder
            .build_rustls()
            .map_err(|e| invalid(format!("setting up TLS: {e}")))
    }

    /// A message from the channel's `from` to its `to`, with `subject`,
    /// its ID made from `seed` and `bytes`.
    fn builder(
        &self,
        subject: &str,
        seed: &str,
        bytes: &[u8],
    ) -> Result<lettre::message::MessageBuilder, io::Error> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let from: Mailbox = self.config.from.parse().map_err(|e| {
            invalid(format!(
                "from {:?} is not a mail address: {e}",
                self.config.from
            ))
        })?;
        let mut builder = Message::builder()
            .from(from.clone())
            .subject(subject)
            .message_id(Some(message_id(seed, bytes, &from)));
        for to in &self.config.to {
            let to: Mailbox = to
                .parse()
                .map_err(|e| invalid(format!("to {to:?} is not a mail address: {e}")))?;
            builder = builder.to(to);
        }
        Ok(builder)
    }

    /// The message delivering `bytes` as `name`.
    fn message(&self, name: &str, bytes: &[u8]) -> Result<Message, io::Error> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let builder = self.builder(&self.config.subject.replace("{name}", name), name, bytes)?;
        let content_type = ContentType::parse(content_type_of(name))
            .map_err(|e| invalid(format!("content type of {name}: {e}")))?;
        let body = Body::new_with_encoding(bytes.to_vec(), ContentTransferEncoding::Base64)
            .map_err(|_| invalid(format!("{name} cannot be encoded in base64")))?;
        builder
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(format!("dropgate: {name}")))
                    .singlepart(Attachment::new(name.to_string()).body(body, content_type)),
            )
            .map_err(|e| invalid(format!("building the message: {e}")))
    }

    /// Sends one message with `bytes` attached as `name`.
    pub async fn deliver(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        let doing = format!("sending {name} by mail to {}", self.server());
        let message = self
            .message(name, bytes)
            .map_err(|e| self.error(doing.clone(), e))?;
        self.send(message, doing).await
    }

    /// Sends a plain-text message (`subject`, `body`) to the channel's
    /// recipients: the alerts' digest.
    pub async fn send_text(&mut self, subject: &str, body: &str) -> Result<(), TransportError> {
        let doing = format!("sending {subject:?} by mail to {}", self.server());
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let built = self
            .builder(subject, subject, body.as_bytes())
            .and_then(|b| {
                b.singlepart(SinglePart::plain(body.to_string()))
                    .map_err(|e| invalid(format!("building the message: {e}")))
            });
        let message = built.map_err(|e| self.error(doing.clone(), e))?;
        self.send(message, doing).await
    }

    fn server(&self) -> String {
        format!("{}:{}", self.config.host.trim(), self.config.port)
    }

    /// Sends `message` on the channel's server.
    async fn send(&mut self, message: Message, doing: String) -> Result<(), TransportError> {
        let config = &self.config;
        let server = self.server();
        let password = self.password().map_err(|e| self.error(doing.clone(), e))?;
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(
                self.tls_parameters()
                    .map_err(|e| self.error(doing.clone(), e))?,
            ),
            SmtpTls::Implicit => Tls::Wrapper(
                self.tls_parameters()
                    .map_err(|e| self.error(doing.clone(), e))?,
            ),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.trim())
                .port(config.port)
                .timeout(Some(Duration::from_secs(config.timeout_secs)))
                .tls(tls);
        if let (Some(user), Some(password)) = (&config.user, &password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let mailer = builder.build();
        match mailer.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // lettre repeats "Connection error: " once per layer.
                let mut text = e.to_string();
                while let Some(rest) = text.strip_prefix("Connection error: ")
                    && rest.starts_with("Connection error: ")
                {
                    text = rest.to_string();
                }
                if let Some(p) = &password
                    && !p.is_empty()
                {
                    text = text.replace(p.as_str(), "***");
                }
                let trusted = match &config.ca_file {
                    Some(path) => format!("the CA certificates of ca_file {}", path.display()),
                    None => "the web PKI roots".to_string(),
                };
                let (kind, what) = if e.is_tls() || text.contains("certificate") {
                    (
                        io::ErrorKind::InvalidData,
                        format!("TLS with {server} failed (trusting {trusted}): {text}"),
                    )
                } else if e.is_timeout() {
                    (
                        io::ErrorKind::TimedOut,
                        format!(
                            "{server} did not answer within {} s: {text}",
                            config.timeout_secs
                        ),
                    )
                } else if let (Some(code), Some(user)) = (
                    e.status()
                        .map(|c| c.to_string())
                        .filter(|c| c.starts_with("53")),
                    &config.user,
                ) && code != "530"
                {
                    (
                        io::ErrorKind::PermissionDenied,
                        format!("{server} refused the login of {user}: {text}"),
                    )
                } else if e.status().is_some_and(|c| c.to_string() == "530") {
                    (
                        io::ErrorKind::PermissionDenied,
                        format!(
                            "{server} requires a login (set user, with password_env or password_file): {text}"
                        ),
                    )
                } else if e.is_permanent() || e.is_transient() {
                    (
                        io::ErrorKind::Other,
                        format!("{server} refused the message: {text}"),
                    )
                } else {
                    (
                        io::ErrorKind::ConnectionRefused,
                        format!("connecting to {server}: {text}"),
                    )
                };
                Err(self.error(doing, io::Error::new(kind, what)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> SmtpConfig {
        toml::from_str(&format!(
            "host = \"smtp.example.com\"\nfrom = \"edi@gw.example\"\nto = [\"orders@acme.example\"]\n{extra}"
        ))
        .expect("config")
    }

    #[test]
    fn defaults_and_checks() {
        let c = config("");
        assert_eq!(c.port, 587);
        assert_eq!(c.tls, SmtpTls::Starttls);
        assert_eq!(c.subject, "{name}");
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(c.check(), Ok(()));
        let none = config("tls = \"none\"");
        assert!(
            none.check()
                .expect_err("refused")
                .contains("not on this machine")
        );
        let mut local = config("tls = \"none\"");
        local.host = "127.0.0.1".into();
        assert_eq!(local.check(), Ok(()));
        assert!(
            config("user = \"u\"")
                .check()
                .expect_err("refused")
                .contains("no password")
        );
        assert!(
            config("user = \"u\"\npassword_env = \"A\"\npassword_file = \"b\"")
                .check()
                .expect_err("refused")
                .contains("both set")
        );
        assert!(
            config("password_env = \"A\"")
                .check()
                .expect_err("refused")
                .contains("no user")
        );
        let mut no_to = config("");
        no_to.to.clear();
        assert!(no_to.check().expect_err("refused").contains("to is empty"));
        let mut bad_from = config("");
        bad_from.from = "not an address".into();
        assert!(bad_from.check().expect_err("refused").contains("from"));
        assert!(
            toml::from_str::<SmtpConfig>("host = \"h\"\nfrom = \"a@b\"\nto = []\nbogus = 1")
                .is_err()
        );
    }

    #[test]
    fn content_types_and_message_ids() {
        assert_eq!(content_type_of("a.EDI"), "application/EDI-X12");
        assert_eq!(content_type_of("a.x12"), "application/EDI-X12");
        assert_eq!(content_type_of("a.csv"), "text/csv");
        assert_eq!(content_type_of("a.xml"), "application/xml");
        assert_eq!(content_type_of("a.pdf"), "application/pdf");
        assert_eq!(content_type_of("README"), "application/octet-stream");
        let from: Mailbox = "EDI <edi@gw.example>".parse().expect("mailbox");
        let a = message_id("997 #1.edi", b"ISA", &from);
        assert_eq!(a, message_id("997 #1.edi", b"ISA", &from));
        assert_ne!(a, message_id("997 #2.edi", b"ISA", &from));
        assert!(a.starts_with("<dropgate.997__1.edi."), "{a}");
        assert!(a.ends_with("@gw.example>"), "{a}");
    }
}
