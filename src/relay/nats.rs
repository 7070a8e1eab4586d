//! The NATS relay: each canonical document published to a NATS JetStream
//! stream, on a subject made from a template per document type and
//! partner (`dropgate.{type}.{partner}`), with the document's idempotency
//! key (`relay:<file>:<n>`, the webhook relay's `Idempotency-Key`) as its
//! `Nats-Msg-Id`, so that JetStream drops a repeat that comes within the
//! stream's duplicate window.
//!
//! A document counts as delivered only once JetStream's publish
//! acknowledgment has come (one that says `duplicate` too: the stream
//! had it already); the caller is told of each one at once, records it,
//! and a retry resumes after the last one recorded, as with the webhook
//! relay. A plain NATS publish, which no one acknowledges, is never used.
//!
//! With `stream = "NAME"` the relay creates that stream if it is missing
//! (taking the template's subjects, with `duplicate_window_secs`) and
//! asks JetStream to store each document in it and no other
//! (`Nats-Expected-Stream`); without it, a stream someone else made must
//! capture the subjects, and a publish that no stream takes fails the
//! delivery saying so. It never changes a stream that exists.
//!
//! A connection that cannot be made, or a publish whose acknowledgment
//! does not come within `timeout_secs`, fails the delivery (the outbox
//! tries it again later); the deliveries after it in the same round fail
//! at once with the same reason instead of each waiting for the timeout.
//! Secrets are read by the caller and handed over ([`NatsAuth`]).

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use serde::Deserialize;

use super::{Blocking, DocumentRelay, Documents, Ending, RelayError, document_key};

/// The NATS relay's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// The server: `nats://host:4222`, or `tls://host:4222` for TLS
    /// (the server's certificate checked against the system's roots, or
    /// `ca_file`).
    pub url: String,
    /// A private CA (PEM) to check the server's certificate against,
    /// with a `tls://` URL (relative paths are relative to the gateway's
    /// configuration file).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The subject of each document: text and the placeholders `{type}`
    /// (the document's type, `ship_notice`) and `{partner}` (its
    /// partner's id), separated by dots.
    #[serde(default = "default_subject")]
    pub subject: String,
    /// The stream that must store the documents; created (with the
    /// subjects of the template) when it does not exist. Without it, a
    /// stream made by whoever runs the bus must capture the subjects.
    #[serde(default)]
    pub stream: Option<String>,
    /// The duplicate window of the stream dropgate creates, in seconds:
    /// how long JetStream remembers a `Nats-Msg-Id` to drop a repeat.
    #[serde(default = "default_duplicate_window_secs")]
    pub duplicate_window_secs: u64,
    /// The user to log in as (with `password_env` or `password_file`).
    #[serde(default)]
    pub user: Option<String>,
    /// The environment variable holding the user's password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Or a file holding it (relative paths are relative to the gateway's
    /// configuration file).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The environment variable holding a token to log in with (instead
    /// of a user).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Or a file holding it.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// How long connecting, and waiting for each acknowledgment, may
    /// take, in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_subject() -> String {
    "dropgate.{type}.{partner}".to_string()
}

/// Two hours: longer than the longest wait between two tries of a
/// delivery (an hour and a quarter), so that a document whose
/// acknowledgment was lost is dropped when it is sent again.
const fn default_duplicate_window_secs() -> u64 {
    7200
}

/// The longest wait between two tries of a delivery, jitter included
/// (see `daemon::deliver`), in seconds: a duplicate window shorter than
/// this may let a document whose acknowledgment was lost be stored twice.
pub const LONGEST_RETRY_WAIT_SECS: u64 = 4500;

const fn default_timeout_secs() -> u64 {
    10
}

/// How the relay logs in, as the configuration says (the secrets are
/// read from where these name, by the caller).
#[derive(Debug, PartialEq, Eq)]
pub enum Login<'a> {
    /// Without credentials.
    Anonymous,
    /// As a user, with the password from the variable or the file.
    User {
        /// The user.
        user: &'a str,
        /// `password_env`.
        env: Option<&'a str>,
        /// `password_file`.
        file: Option<&'a std::path::Path>,
    },
    /// With a token from the variable or the file.
    Token {
        /// `token_env`.
        env: Option<&'a str>,
        /// `token_file`.
        file: Option<&'a std::path::Path>,
    },
}

/// The credentials the relay logs in with, read.
#[derive(Clone, PartialEq, Eq)]
pub enum NatsAuth {
    /// None.
    Anonymous,
    /// A user and password.
    User {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// A token.
    Token(String),
}

impl std::fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        match self {
            NatsAuth::Anonymous => f.write_str("Anonymous"),
            NatsAuth::User { user, .. } => write!(f, "User({user})"),
            NatsAuth::Token(_) => f.write_str("Token"),
        }
    }
}

impl NatsConfig {
    /// How to log in.
    pub fn login(&self) -> Login<'_> {
        match &self.user {
            Some(user) => Login::User {
                user,
                env: self.password_env.as_deref(),
                file: self.password_file.as_deref(),
            },
            None if self.token_env.is_some() || self.token_file.is_some() => Login::Token {
                env: self.token_env.as_deref(),
                file: self.token_file.as_deref(),
            },
            None => Login::Anonymous,
        }
    }

    /// Checks what can be checked without the server: the URL, the
    /// subject template, the stream's name, one way to log in, sane
    /// values. The error is one sentence naming the setting.
    pub fn check(&self) -> Result<(), String> {
        let addr = self
            .url
            .parse::<async_nats::ServerAddr>()
            .map_err(|e| format!("url {:?}: {e}", self.url))?;
        if !matches!(addr.scheme(), "nats" | "tls") {
            return Err(format!(
                "url {:?}: a nats:// or tls:// URL is needed",
                self.url
            ));
        }
        if self.ca_file.is_some() && !addr.tls_required() {
            return Err(format!(
                "ca_file is set but url {:?} is not a tls:// URL; make it tls:// or remove ca_file",
                self.url
            ));
        }
        if addr.has_user_pass() {
            return Err(format!(
                "url {:?} holds credentials; set user with password_env or password_file, or token_env or token_file",
                self.url
            ));
        }
        SubjectTemplate::parse(&self.subject).map_err(|e| format!("subject: {e}"))?;
        if let Some(stream) = &self.stream {
            check_stream_name(stream)?;
        }
        if self.duplicate_window_secs == 0 {
            return Err("duplicate_window_secs must be at least 1".into());
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        let password = self.password_env.is_some() || self.password_file.is_some();
        let token = self.token_env.is_some() || self.token_file.is_some();
        if self.password_env.is_some() && self.password_file.is_some() {
            return Err("password_env and password_file are both set; keep one".into());
        }
        if self.token_env.is_some() && self.token_file.is_some() {
            return Err("token_env and token_file are both set; keep one".into());
        }
        if self.password_env.as_deref() == Some("") || self.token_env.as_deref() == Some("") {
            return Err(
                "password_env or token_env is empty; it names an environment variable".into(),
            );
        }
        match (&self.user, password, token) {
            (Some(_), _, true) => Err("user and a token are both set; log in with one".into()),
            (Some(u), false, false) => Err(format!(
                "user {u:?} has no password: set password_env or password_file"
            )),
            (Some(u), _, _) if u.is_empty() => Err("user is empty".into()),
            (None, true, _) => Err("a password is set but no user".into()),
            _ => Ok(()),
        }
    }

    /// The host of a URL without TLS (`nats://`), whose traffic is in
    /// clear: the caller warns when it is not this machine.
    pub fn host_in_clear(&self) -> Option<String> {
        let addr = self.url.parse::<async_nats::ServerAddr>().ok()?;
        (!addr.tls_required()).then(|| addr.host().to_string())
    }

    /// What is allowed but probably a mistake: a duplicate window shorter
    /// than the longest wait between two tries of a delivery.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();

        if self.stream.is_some() && self.duplicate_window_secs < LONGEST_RETRY_WAIT_SECS {
            out.push(format!(
                "duplicate_window_secs = {} is shorter than the longest wait between two tries of a delivery ({LONGEST_RETRY_WAIT_SECS} s): a document whose acknowledgment was lost may be stored twice",
                self.duplicate_window_secs
            ));
        }
        out
    }
}

/// A stream's name: not empty, none of ` `, `.`, `*`, `>`, `/`, `\` or
/// control characters.
fn check_stream_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.chars().any(|c| {
            matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace() || c.is_control()
        })
    {
        return Err(format!(
            "stream {name:?} is not a stream name (no spaces, '.', '*', '>', '/' or '\\')"
        ));
    }
    Ok(())
}

/// One piece of a subject token.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Type,
    Partner,
}

/// A subject template, checked: tokens separated by dots, each text and
/// placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectTemplate {
    tokens: Vec<Vec<Piece>>,
}

impl SubjectTemplate {
    /// Parses `template`: dot-separated tokens, none empty, of text
    /// without white space, `*`, `>` or braces, and the placeholders
    /// `{type}` and `{partner}`.
    pub fn parse(template: &str) -> Result<SubjectTemplate, String> {
        let mut tokens = Vec::new();
        for token in template.split('.') {
            if token.is_empty() {
                return Err(format!(
                    "{template:?} has an empty token (two dots, or a dot at an end)"
                ));
            }
            let mut pieces = Vec::new();
            let mut rest = token;
            while !rest.is_empty() {
                if let Some(after) = rest.strip_prefix('{') {
                    let Some(end) = after.find('}') else {
                        return Err(format!("{template:?}: a '{{' is not closed"));
                    };
                    pieces.push(match &after[..end] {
                        "type" => Piece::Type,
                        "partner" => Piece::Partner,
                        other => {
                            return Err(format!(
                                "{template:?}: {{{other}}} is not a placeholder (there are {{type}} and {{partner}})"
                            ));
                        }
                    });
                    rest = &after[end + 1..];
                    continue;
                }
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if let Some(c) = text
                    .chars()
                    .find(|c| matches!(c, '*' | '>' | '}') || c.is_whitespace() || c.is_control())
                {
                    return Err(format!(
                        "{template:?}: {c:?} cannot be in a subject that is published to"
                    ));
                }
                pieces.push(Piece::Text(text.to_string()));
                rest = &rest[end..];
            }
            tokens.push(pieces);
        }
        Ok(SubjectTemplate { tokens })
    }

    /// The subject of a document of `doc_type` from `partner`. Each value
    /// has the characters a subject token cannot hold (`.`, `*`, `>`,
    /// white space, control characters) replaced by `_`; an empty one is
    /// `unknown`.
    pub fn render(&self, doc_type: &str, partner: &str) -> String {
        let mut out = String::new();
        for (i, token) in self.tokens.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            for piece in token {
                match piece {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Type => push_token_value(&mut out, doc_type),
                    Piece::Partner => push_token_value(&mut out, partner),
                }
            }
        }
        out
    }

    /// The subjects a stream must capture to hold every subject of the
    /// template: each token with a placeholder becomes `*`.
    pub fn filter(&self) -> String {
        let tokens: Vec<String> = self
            .tokens
            .iter()
            .map(|token| {
                if token.iter().all(|p| matches!(p, Piece::Text(_))) {
                    token
                        .iter()
                        .map(|p| match p {
                            Piece::Text(t) => t.as_str(),
                            _ => "",
                        })
                        .collect()
                } else {
                    "*".to_string()
                }
            })
            .collect();
        tokens.join(".")
    }
}

/// `value` as (part of) a subject token.
fn push_token_value(out: &mut String, value: &str) {
    if value.is_empty() {
        out.push_str("unknown");
        return;
    }
    out.extend(value.chars().map(|c| {
        if matches!(c, '.' | '*' | '>') || c.is_whitespace() || c.is_control() {
            '_'
        } else {
            c
        }
    }));
}

/// What the subject is made of, read from a document.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow, default)]
    doc_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source: Option<SourceHead<'a>>,
}

#[derive(Deserialize)]
struct SourceHead<'a> {
    #[serde(borrow, default)]
    partner: Option<Cow<'a, str>>,
}

/// The type and partner of a document (`unknown` for what it does not
/// say).
fn head(doc: &[u8]) -> Result<(String, String), serde_json::Error> {
    let head: Head<'_> = serde_json::from_slice(doc)?;
    let doc_type = head.doc_type.map(Cow::into_owned);
    let partner = head.source.and_then(|s| s.partner).map(Cow::into_owned);
    Ok((
        doc_type.unwrap_or_else(|| "unknown".into()),
        partner.unwrap_or_else(|| "unknown".into()),
    ))
}

/// Whether a short duplicate window of `stream` is to be logged: once
/// per process for a stream and window, not at every pass.
fn first_warning(stream: &str, window: Duration) -> bool {
    static WARNED: std::sync::Mutex<Option<(String, Duration)>> = std::sync::Mutex::new(None);
    let Ok(mut warned) = WARNED.lock() else {
        return true;
    };
    let now = Some((stream.to_string(), window));
    if *warned == now {
        return false;
    }
    *warned = now;
    true
}

/// A connection to the server, and its JetStream.
struct Connection {
    client: async_nats::Client,
    jetstream: jetstream::Context,
}

/// A publish that failed: why, and which document on which subject.
struct PublishFailure {
    kind: PublishErrorKind,
    error: String,
    index: u64,
    subject: String,
}

/// The NATS relay.
pub struct NatsRelay {
    config: NatsConfig,
    subject: Result<SubjectTemplate, String>,
    auth: NatsAuth,
    connection: Option<Connection>,
    /// Why the server could not be reached in this round: the deliveries
    /// after the one that found it fail at once.
    unreachable: Option<String>,
    /// Why no delivery can be made (a secret that cannot be read).
    broken: Option<String>,
    blocking: Blocking,
}

impl std::fmt::Debug for NatsRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsRelay")
            .field("url", &self.config.url)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl NatsRelay {
    /// A relay to the configured server, logging in with `auth`.
    pub fn new(config: &NatsConfig, auth: NatsAuth) -> NatsRelay {
        NatsRelay {
            subject: SubjectTemplate::parse(&config.subject),
            config: config.clone(),
            auth,
            connection: None,
            unreachable: None,
            broken: None,
            blocking: Blocking::default(),
        }
    }

    /// A relay whose deliveries fail with `why` (its secret cannot be
    /// read).
    pub fn failing(config: &NatsConfig, why: String) -> NatsRelay {
        let mut relay = NatsRelay::new(config, NatsAuth::Anonymous);
        relay.broken = Some(why);
        relay
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs.max(1))
    }

    /// Connects, and makes the configured stream if it is missing.
    async fn connect(
        config: &NatsConfig,
        auth: &NatsAuth,
        filter: String,
        timeout: Duration,
    ) -> Result<Connection, RelayError> {
        let mut options = async_nats::ConnectOptions::new()
            .name("dropgate")
            .connection_timeout(timeout)
            .request_timeout(Some(timeout));
        options = match auth {
            NatsAuth::Anonymous => options,
            NatsAuth::User { user, password } => {
                options.user_and_password(user.clone(), password.clone())
            }
            NatsAuth::Token(token) => options.token(token.clone()),
        };
        let url = &config.url;
        if url.starts_with("tls://") {
            options = options.require_tls(true);
        }
        if let Some(ca) = &config.ca_file {
            options = options.add_root_certificates(ca.clone());
        }
        let client = options
            .connect(url.as_str())
            .await
            .map_err(|e| RelayError(format!("connecting to NATS at {url}: {e}")))?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(timeout)
            .build(client.clone());
        if let Some(name) = &config.stream {
            let wanted = stream::Config {
                name: name.clone(),
                subjects: vec![filter],
                duplicate_window: Duration::from_secs(config.duplicate_window_secs),
                storage: stream::StorageType::File,
                ..Default::default()
            };
            let made = jetstream.get_or_create_stream(wanted).await.map_err(|e| {
                RelayError(format!(
                    "finding or creating the JetStream stream {name} at {url}: {e}"
                ))
            })?;
            let window = made.cached_info().config.duplicate_window;
            if window.as_secs() < LONGEST_RETRY_WAIT_SECS && first_warning(name, window) {
                tracing::warn!(
                    stream = %name,
                    duplicate_window_secs = window.as_secs(),
                    "The stream's duplicate window is shorter than the longest wait between two tries of a delivery: a document whose acknowledgment was lost may be stored twice."
                );
            }
        }
        Ok(Connection { client, jetstream })
    }

    /// The reason a publish failed, in a sentence; and whether it says
    /// that the server is out of reach.
    fn publish_error(&self, failure: &PublishFailure, disconnected: bool) -> (String, bool) {
        let url = &self.config.url;
        let PublishFailure {
            kind,
            error,
            index,
            subject,
        } = failure;
        match kind {
            PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe if disconnected => (
                format!(
                    "the connection to NATS at {url} was lost before JetStream acknowledged document {index} on {subject}"
                ),
                true,
            ),
            PublishErrorKind::StreamNotFound => (
                match &self.config.stream {
                    Some(s) => format!(
                        "no JetStream stream at {url} captures subject {subject} (document {index}); the stream {s} does not take it"
                    ),
                    None => format!(
                        "no JetStream stream at {url} captures subject {subject} (document {index}); create one, or set stream = \"NAME\" in [relay] for dropgate to create it"
                    ),
                },
                false,
            ),
            PublishErrorKind::TimedOut => (
                format!(
                    "no acknowledgment from JetStream at {url} within {} s for document {index} on {subject}",
                    self.config.timeout_secs
                ),
                true,
            ),
            PublishErrorKind::MaxPayloadExceeded => (
                format!(
                    "document {index} on {subject} is larger than the largest message NATS at {url} takes ({error}); raise max_payload in the server's configuration (up to 64 MB)"
                ),
                false,
            ),
            PublishErrorKind::BrokenPipe => (
                format!(
                    "the connection to NATS at {url} was lost publishing document {index} on {subject}"
                ),
                true,
            ),
            _ => (
                format!("publishing document {index} on {subject} to NATS at {url}: {error}"),
                false,
            ),
        }
    }
}

impl DocumentRelay for NatsRelay {
    fn deliver(
        &mut self,
        key: &str,
        lines: &mut dyn std::io::BufRead,
        start: u64,
        acknowledged: &mut dyn FnMut(u64, Option<super::SetAsideDocument<'_>>) -> ControlFlow<()>,
    ) -> Ending {
        if let Some(why) = &self.broken {
            return Ending::Failed(RelayError(why.clone()));
        }
        if let Some(why) = &self.unreachable {
            return Ending::Failed(RelayError(format!("not tried: {why}")));
        }
        let template = match &self.subject {
            Ok(t) => t.clone(),
            Err(e) => return Ending::Failed(RelayError(format!("subject: {e}"))),
        };
        let timeout = self.timeout();
        if self.connection.is_none() {
            let connected = self.blocking.run(NatsRelay::connect(
                &self.config,
                &self.auth,
                template.filter(),
                timeout,
            ));
            match connected.and_then(|c| c) {
                Ok(c) => self.connection = Some(c),
                Err(e) => {
                    self.unreachable = Some(e.0.clone());
                    return Ending::Failed(e);
                }
            }
        }
        let Some(connection) = &self.connection else {
            return Ending::Failed(RelayError("no connection to NATS".into()));
        };
        let jetstream = connection.jetstream.clone();
        let stream = self.config.stream.clone();
        let work = async {
            let mut documents = Documents::new(lines);
            loop {
                let (index, doc) = match documents.next_from(start) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Ok(Ending::Made),
                    Err(e) => return Ok(Ending::Failed(e)),
                };
                let (doc_type, partner) = match head(doc) {
                    Ok(h) => h,
                    Err(e) => {
                        return Ok(Ending::Failed(RelayError(format!(
                            "document {index} is not a JSON object: {e}"
                        ))));
                    }
                };
                let subject = template.render(&doc_type, &partner);
                let mut publish = PublishMessage::build()
                    .payload(doc.to_vec().into())
                    .message_id(document_key(key, index))
                    .header("Content-Type", "application/json");
                if let Some(s) = &stream {
                    publish = publish.expected_stream(s);
                }
                let acked = match jetstream.send_publish(subject.clone(), publish).await {
                    Ok(ack) => ack.await,
                    Err(e) => Err(e),
                };
                match acked {
                    // Stored, or (`duplicate`) the stream had it already:
                    // either way it is there.
                    Ok(_ack) => {
                        if acknowledged(index + 1, None).is_break() {
                            return Ok(Ending::Stopped);
                        }
                    }
                    Err(e) => {
                        return Err(PublishFailure {
                            kind: e.kind(),
                            error: e.to_string(),
                            index,
                            subject,
                        });
                    }
                }
            }
        };
        let failure = match self.blocking.run(work) {
            Ok(Ok(ending)) => return ending,
            Ok(Err(failure)) => failure,
            Err(e) => return Ending::Failed(e),
        };
        let disconnected = self.connection.as_ref().is_some_and(|c| {
            c.client.connection_state() != async_nats::connection::State::Connected
        });
        let (why, out_of_reach) = self.publish_error(&failure, disconnected);
        if out_of_reach || disconnected {
            self.unreachable = Some(why.clone());
            self.connection = None;
        }
        Ending::Failed(RelayError(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Result<NatsConfig, toml::de::Error> {
        toml::from_str(&format!("url = \"nats://127.0.0.1:4222\"\n{extra}"))
    }

    #[test]
    fn subjects_come_from_the_template_with_forbidden_characters_replaced() -> Result<(), String> {
        let t = SubjectTemplate::parse("dropgate.{type}.{partner}")?;
        assert_eq!(t.render("ship_notice", "acme"), "dropgate.ship_notice.acme");
        assert_eq!(
            t.render("invoice", "a.b c*d>e\tf"),
            "dropgate.invoice.a_b_c_d_e_f"
        );
        assert_eq!(t.render("", "acme"), "dropgate.unknown.acme");
        assert_eq!(t.filter(), "dropgate.*.*");
        let t = SubjectTemplate::parse("edi.in.{partner}-{type}")?;
        assert_eq!(t.render("po_ack", "bolt"), "edi.in.bolt-po_ack");
        assert_eq!(t.filter(), "edi.in.*");
        let t = SubjectTemplate::parse("edi.documents")?;
        assert_eq!(t.filter(), "edi.documents");
        for bad in [
            "", "a..b", ".a", "a.", "a.*", "a.>", "a b", "a.{kind}", "a.{type", "a.type}",
        ] {
            assert!(SubjectTemplate::parse(bad).is_err(), "{bad:?} is refused");
        }
        Ok(())
    }

    #[test]
    fn heads_name_the_type_and_the_partner() -> Result<(), serde_json::Error> {
        let doc = br#"{"type":"ship_notice","source":{"format":"x12","partner":"acme"},"asn_number":"A1","items":[{"x":1}]}"#;
        assert_eq!(head(doc)?, ("ship_notice".into(), "acme".into()));
        assert_eq!(head(br#"{"a":1}"#)?, ("unknown".into(), "unknown".into()));
        assert!(head(b"not json").is_err());
        Ok(())
    }

    #[test]
    fn config_checks_the_url_the_subject_and_the_login() -> Result<(), toml::de::Error> {
        let c = config("")?;
        assert_eq!(c.check(), Ok(()));
        assert_eq!(c.subject, "dropgate.{type}.{partner}");
        assert_eq!((c.timeout_secs, c.duplicate_window_secs), (10, 7200));
        assert_eq!(c.login(), Login::Anonymous);
        let c = config("user = \"gw\"\npassword_env = \"P\"")?;
        assert_eq!(c.check(), Ok(()));
        assert!(matches!(c.login(), Login::User { user: "gw", .. }));
        let c = config("token_file = \"t\"")?;
        assert_eq!(c.check(), Ok(()));
        assert!(matches!(c.login(), Login::Token { .. }));
        for (bad, says) in [
            ("user = \"gw\"", "no password"),
            ("password_env = \"P\"", "no user"),
            (
                "user = \"gw\"\npassword_env = \"P\"\ntoken_env = \"T\"",
                "both set",
            ),
            ("token_env = \"T\"\ntoken_file = \"t\"", "keep one"),
            ("subject = \"a.*\"", "subject"),
            ("stream = \"a.b\"", "stream"),
            ("timeout_secs = 0", "timeout_secs"),
            ("duplicate_window_secs = 0", "duplicate_window_secs"),
        ] {
            let e = config(bad)?.check().expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
        let e = toml::from_str::<NatsConfig>("url = \"http://x\"")?
            .check()
            .expect_err("http");
        assert!(e.contains("url"), "{e}");
        let e = toml::from_str::<NatsConfig>("url = \"nats://u:p@x:4222\"")?
            .check()
            .expect_err("credentials in the url");
        assert!(e.contains("credentials"), "{e}");
        assert!(toml::from_str::<NatsConfig>("url = \"nats://x\"\nsubjet = \"a\"").is_err());
        let c = toml::from_str::<NatsConfig>(
            "url = \"tls://nats.example:4222\"\nca_file = \"ca.pem\"",
        )?;
        assert_eq!(c.check(), Ok(()));
        assert!(c.warnings().is_empty());
        let e = config("ca_file = \"ca.pem\"")?
            .check()
            .expect_err("ca_file without TLS");
        assert!(e.contains("tls://"), "{e}");
        assert_eq!(c.host_in_clear(), None);
        let c = toml::from_str::<NatsConfig>("url = \"nats://nats.example:4222\"")?;
        assert_eq!(c.host_in_clear().as_deref(), Some("nats.example"));
        assert!(
            config("stream = \"S\"\nduplicate_window_secs = 120")?.warnings()[0]
                .contains("stored twice")
        );
        assert!(config("stream = \"S\"")?.warnings().is_empty());
        Ok(())
    }
}
