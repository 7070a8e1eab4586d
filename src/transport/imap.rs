//! A partner's mailbox as an inbound channel: the file attachments of the
//! unseen e-mail in one IMAP mailbox (async-imap over tokio, TLS by rustls
//! with the ring provider, MIME by mail-parser).
//!
//! The connection is IMAP over implicit TLS (`imaps`, port 993), checked
//! against the built-in web PKI roots or the CA certificates of `ca_file`;
//! plaintext IMAP is allowed only to a loopback address (for tests and
//! local relays). The client logs in with a password taken from an
//! environment variable or a file; a password is never put in an error.
//!
//! A poll looks at the `UNSEEN` (and not `\Deleted`) messages of the
//! mailbox. It reads their headers, keeps those whose `From` address is an
//! accepted sender, and fetches those whole with `BODY.PEEK[]`, so that
//! polling marks nothing. Each attachment (every MIME part but the text
//! and HTML bodies, numbered from 1 in the message's order) whose file name
//! matches `patterns` and whose content type is one of `content_types`
//! waits as `<uidvalidity>-<uid>-<n>-<name>`, the name made plain (no
//! folders, no leading dot, only letters, digits, `.`, `-` and `_`). The
//! bytes read are the part's bytes with only the transfer encoding
//! (base64, quoted-printable) undone: a CSV in Windows-1252 stays in
//! Windows-1252. Messages from other senders, and messages with no
//! accepted attachment, are left as they are, unseen.
//!
//! A message from an accepted sender that cannot be read (no header, or an
//! attachment whose base64 or quoted-printable does not decode, or an
//! unknown transfer encoding) is not dropped: it waits whole as
//! `<uidvalidity>-<uid>-0-message.eml`, the raw message, so that the
//! gateway archives it and puts it in quarantine with its reason (it
//! decodes as no known format). Once that item is done the message is
//! marked or moved like any other.
//!
//! `done` is called for each attachment once the gateway has archived and
//! recorded it; when every attachment of a message that the last poll
//! listed is done, the message is marked `\Seen` (`after = "seen"`), or
//! marked `\Seen` and moved with `UID MOVE` into `move_to` (created when
//! missing). Until then it stays unseen and the next poll lists all of its
//! attachments again (the gateway finds those it has as duplicates).
//!
//! The connection is opened at the first use and again after it dropped:
//! an operation whose first, read-only command finds the connection dead
//! reconnects and sends that command once more.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::imap_proto::{
    AttributeValue, Capability, MailboxDatum, Response, ResponseCode, Status,
};
use mail_parser::{MessageParser, MessagePart, MimeHeaders};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{TransportError, Waiting, glob};

/// How the connection is protected.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Tls {
    /// TLS from the first byte (`imaps`, usually port 993).
    #[default]
    Implicit,
    /// No TLS at all: only to a loopback address (tests, a local relay).
    None,
}

/// What becomes of a message once all of its attachments are done.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MailAfter {
    /// It is marked `\Seen` and stays in the mailbox.
    #[default]
    Seen,
    /// It is marked `\Seen` and moved into `move_to`.
    Move,
}

/// An IMAP channel's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// The server's host name or address (checked against its
    /// certificate).
    pub host: String,
    /// The server's port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// `implicit` (TLS from the first byte, the default) or `none`
    /// (plaintext, allowed only to 127.0.0.1, ::1 or localhost).
    #[serde(default)]
    pub tls: Tls,
    /// A PEM file of the CA certificates to trust instead of the built-in
    /// web PKI roots (for a server with a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The user to log in as.
    pub user: String,
    /// The name of the environment variable holding the password (the
    /// password itself is never written in the configuration).
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file holding the password (surrounding white space is ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The mailbox to take mail from.
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// The `From` addresses to take mail from, compared without regard to
    /// case; `*` is any run of characters (`*@acme.example`). Empty: any
    /// sender.
    #[serde(default)]
    pub senders: Vec<String>,
    /// Attachment file name patterns to take, like `*.pdf`, matched against
    /// the plain name (default: every attachment).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Attachment content types to take, like `application/pdf` or
    /// `text/*`, compared without regard to case (default: any).
    #[serde(default)]
    pub content_types: Vec<String>,
    /// What to do with a message once all its attachments are done:
    /// `seen` (mark it `\Seen`) or `move` (mark it and move it into
    /// `move_to`).
    #[serde(default)]
    pub after: MailAfter,
    /// The mailbox `move` puts messages in, like `Archive` (created when
    /// missing).
    #[serde(default)]
    pub move_to: Option<String>,
    /// Seconds to wait for the connection, the login and each answer of
    /// the server.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

const fn default_port() -> u16 {
    993
}

fn default_mailbox() -> String {
    "INBOX".into()
}

const fn default_timeout_secs() -> u64 {
    30
}

/// Refuses a mailbox name this client cannot send (it sends names as
/// quoted strings, without modified UTF-7).
fn check_mailbox(setting: &str, name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("{setting} is empty"));
    }
    if !name.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return Err(format!(
            "{setting} {name:?} has characters other than printable ASCII, which this client cannot send"
        ));
    }
    Ok(())
}

impl ImapConfig {
    /// Whether the password is where the configuration says: its variable
    /// set or its file readable.
    pub fn check_login(&self) -> Result<(), String> {
        super::secret::check_readable(self.password_env.as_deref(), self.password_file.as_deref())
    }

    /// Checks what can be checked without the server: a way to log in,
    /// TLS unless on loopback, sane names and values. The error is one
    /// sentence naming the setting.
    pub fn check(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("host is empty".into());
        }
        if self.port == 0 {
            return Err("port must not be 0".into());
        }
        if self.user.is_empty() {
            return Err("user is empty".into());
        }
        if self.user.contains(['\r', '\n']) {
            return Err("user has a line break".into());
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        if self.tls == Tls::None && !super::is_loopback(&self.host) {
            return Err(format!(
                "tls = \"none\" sends the password in clear text and is allowed only to 127.0.0.1, ::1 or localhost, not to {}; use tls = \"implicit\"",
                self.host
            ));
        }
        if self.tls == Tls::None && self.ca_file.is_some() {
            return Err("ca_file is set but tls is \"none\"; remove one".into());
        }
        if self.password_env.is_none() && self.password_file.is_none() {
            return Err("no way to log in: set password_env or password_file".into());
        }
        super::secret::check_sources(self.password_env.as_deref(), self.password_file.as_deref())?;
        check_mailbox("mailbox", &self.mailbox)?;
        match (self.after, &self.move_to) {
            (MailAfter::Move, None) => {
                return Err("after = \"move\" needs move_to, the mailbox to move to".into());
            }
            (MailAfter::Seen, Some(_)) => {
                return Err("move_to is set but after is \"seen\"; set after = \"move\"".into());
            }
            (MailAfter::Move, Some(to)) => {
                check_mailbox("move_to", to)?;
                if to == &self.mailbox {
                    return Err(format!("move_to is the mailbox itself ({to})"));
                }
            }
            (MailAfter::Seen, None) => {}
        }
        for sender in &self.senders {
            if !sender.contains('@') || sender.trim() != sender {
                return Err(format!(
                    "sender {sender:?} is not an address like partner@acme.example or *@acme.example"
                ));
            }
        }
        for pattern in &self.patterns {
            if pattern.is_empty() {
                return Err("patterns holds an empty pattern".into());
            }
        }
        for t in &self.content_types {
            if t.split_once('/')
                .is_none_or(|(a, b)| a.is_empty() || b.is_empty())
            {
                return Err(format!(
                    "content type {t:?} is not of the form type/subtype (like application/pdf or text/*)"
                ));
            }
        }
        Ok(())
    }

    /// True when `sender` (an address or none) is one to take mail from.
    fn accepts_sender(&self, sender: Option<&str>) -> bool {
        if self.senders.is_empty() {
            return true;
        }
        let Some(sender) = sender else {
            return false;
        };
        let sender = sender.to_lowercase();
        self.senders
            .iter()
            .any(|p| glob::matches(&p.to_lowercase(), &sender))
    }

    /// True when an attachment of this plain name and content type is
    /// taken.
    fn accepts_attachment(&self, plain: &str, content_type: &str) -> bool {
        glob::matches_any(&self.patterns, plain)
            && (self.content_types.is_empty()
                || self
                    .content_types
                    .iter()
                    .any(|t| glob::matches(&t.to_lowercase(), content_type)))
    }
}

/// The socket under the IMAP session: plaintext or TLS.
#[derive(Debug)]
enum Wire {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_flush(cx),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type Session = async_imap::Session<Wire>;

/// Why a command failed.
#[derive(Debug)]
enum Fail {
    /// No answer came (I/O error, end of the stream, time out, an answer
    /// that does not parse): the connection is dropped.
    Lost(io::Error),
    /// The server answered NO or BAD; the connection lives on.
    Refused {
        /// What the server said.
        text: String,
        /// The server's `[TRYCREATE]`: the target mailbox is missing.
        try_create: bool,
    },
}

impl Fail {
    fn into_io(self) -> io::Error {
        match self {
            Fail::Lost(e) => e,
            Fail::Refused { text, .. } => io::Error::other(format!("the server refused: {text}")),
        }
    }
}

fn lost(e: async_imap::error::Error) -> Fail {
    use async_imap::error::Error;
    match e {
        Error::Io(e) => Fail::Lost(io::Error::new(e.kind(), format!("imap: {e}"))),
        Error::No(text) | Error::Bad(text) => Fail::Refused {
            text,
            try_create: false,
        },
        Error::ConnectionLost => Fail::Lost(closed()),
        e => Fail::Lost(io::Error::other(format!("imap: {e}"))),
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the server closed the connection",
    )
}

/// The server's own words in async-imap's rendering of a NO or BAD
/// (`code: None, info: Some("[AUTHENTICATIONFAILED] ...")`), at most 200
/// characters.
fn server_words(rendered: &str) -> Option<String> {
    const START: &str = "info: Some(\"";
    let rest = &rendered[rendered.find(START)? + START.len()..];
    let words = rest[..rest.rfind("\")")?]
        .replace("\\\"", "\"")
        .replace("\\\\", "\\");
    let words = words.trim();
    (!words.is_empty()).then(|| words.chars().take(200).collect())
}

/// One message's answer to a `FETCH`.
#[derive(Debug, Default)]
struct Fetched {
    uid: Option<u32>,
    /// The section asked for (`BODY[]` or `BODY[HEADER]`).
    data: Option<Vec<u8>>,
}

/// What the server answered to a command, of what this channel asks.
#[derive(Debug, Default)]
struct Answer {
    uid_validity: Option<u32>,
    search: Vec<u32>,
    fetched: Vec<Fetched>,
    capabilities: Vec<String>,
}

impl Answer {
    /// The data fetched for `uid`, if the message is there.
    fn data_of(&self, uid: u32) -> Option<&[u8]> {
        // An unsolicited FETCH (a flag change) may name the UID too.
        self.fetched
            .iter()
            .filter(|f| f.uid == Some(uid))
            .find_map(|f| f.data.as_deref())
    }

    fn has(&self, uid: u32) -> bool {
        self.fetched.iter().any(|f| f.uid == Some(uid))
    }
}

/// Sends `command` and reads every answer up to its tagged one, which must
/// be OK. (async-imap's fetch and store streams end quietly on a NO or a
/// closed connection; this does not.)
async fn exchange(session: &mut Session, command: &str) -> Result<Answer, Fail> {
    let id = session.run_command(command).await.map_err(lost)?;
    let mut answer = Answer::default();
    loop {
        let response = match session.read_response().await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(Fail::Lost(closed())),
            Err(e) => return Err(Fail::Lost(io::Error::new(e.kind(), format!("imap: {e}")))),
        };
        match response.parsed() {
            Response::Done {
                tag,
                status,
                outcome,
            } if *tag == id => {
                return match status {
                    Status::Ok => Ok(answer),
                    Status::No | Status::Bad => Err(Fail::Refused {
                        text: outcome
                            .information
                            .as_deref()
                            .unwrap_or("(no reason given)")
                            .to_string(),
                        try_create: matches!(outcome.code, Some(ResponseCode::TryCreate)),
                    }),
                    _ => Err(Fail::Lost(io::Error::other(format!(
                        "imap: unexpected answer {status:?} to {}",
                        command.split(' ').next().unwrap_or("the command")
                    )))),
                };
            }
            Response::Data {
                status: Status::Ok,
                outcome,
            } => {
                if let Some(ResponseCode::UidValidity(v)) = outcome.code {
                    answer.uid_validity = Some(v);
                }
            }
            Response::MailboxData(MailboxDatum::Search(uids)) => answer.search.extend(uids),
            Response::Capabilities(caps) => {
                answer.capabilities.extend(caps.iter().map(|c| match c {
                    Capability::Imap4rev1 => "IMAP4REV1".to_string(),
                    Capability::Auth(a) => format!("AUTH={}", a.to_ascii_uppercase()),
                    Capability::Atom(a) => a.to_ascii_uppercase(),
                }));
            }
            Response::Fetch(_, attributes) => {
                let mut fetched = Fetched::default();
                for a in attributes {
                    match a {
                        AttributeValue::Uid(uid) => fetched.uid = Some(*uid),
                        AttributeValue::BodySection {
                            data: Some(data), ..
                        }
                        | AttributeValue::Rfc822(Some(data)) => {
                            fetched.data = Some(data.to_vec());
                        }
                        _ => {}
                    }
                }
                answer.fetched.push(fetched);
            }
            _ => {}
        }
    }
}

/// `exchange` within `timeout`; running out of time loses the connection.
async fn ask(session: &mut Session, command: &str, timeout: Duration) -> Result<Answer, Fail> {
    match tokio::time::timeout(timeout, exchange(session, command)).await {
        Ok(answer) => answer,
        Err(_) => Err(Fail::Lost(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer within {} s (timeout_secs)", timeout.as_secs()),
        ))),
    }
}

/// A mailbox name as an IMAP quoted string (`check_mailbox` keeps line
/// breaks and other controls out).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An open, logged-in session with the mailbox selected.
struct Connection {
    session: Session,
    uid_validity: u32,
    can_move: bool,
}

/// What the last poll listed of one message.
#[derive(Debug, Default)]
struct Listed {
    /// Its `From` address, in lower case.
    sender: Option<String>,
    /// The names it waits under.
    names: BTreeSet<String>,
    /// Those of them done so far.
    done: BTreeSet<String>,
}

/// A waiting name taken apart.
#[derive(Debug, PartialEq, Eq)]
struct ItemName<'a> {
    uid_validity: u32,
    uid: u32,
    /// The attachment's number, from 1; 0 for the whole message.
    n: usize,
    plain: &'a str,
}

/// The name of the whole-message item of an unreadable message.
const WHOLE: &str = "message.eml";

fn item_name(uid_validity: u32, uid: u32, n: usize, plain: &str) -> String {
    format!("{uid_validity}-{uid}-{n}-{plain}")
}

/// `s` when it is ASCII digits only (no sign).
fn digits(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_item_name(name: &str) -> Option<ItemName<'_>> {
    let mut parts = name.splitn(4, '-');
    let uid_validity = digits(parts.next())?.parse().ok()?;
    let uid = digits(parts.next())?.parse().ok()?;
    let n = digits(parts.next())?.parse().ok()?;
    let plain = parts.next().filter(|p| !p.is_empty())?;
    if n == 0 && plain != WHOLE {
        return None;
    }
    Some(ItemName {
        uid_validity,
        uid,
        n,
        plain,
    })
}

/// The longest plain name, in characters.
const MOST_CHARS: usize = 120;

/// A file name made safe to use anywhere: its last path component, every
/// character but letters, digits, `.`, `-` and `_` replaced by `_`, no
/// leading dots, at most 120 characters (the extension kept).
fn plain_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        return "attachment".into();
    }
    let count = cleaned.chars().count();
    if count <= MOST_CHARS {
        return cleaned.to_string();
    }
    let extension = cleaned
        .rfind('.')
        .map(|i| &cleaned[i..])
        .filter(|e| e.chars().count() <= 10)
        .unwrap_or("");
    let keep = MOST_CHARS - extension.chars().count();
    let mut short: String = cleaned.chars().take(keep).collect();
    short.push_str(extension);
    short
}

/// A file name for an attachment that has none, from its content type.
fn unnamed(content_type: &str) -> String {
    let extension = match content_type {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "application/xml" | "text/xml" => "xml",
        "application/edi-x12" | "application/edifact" | "application/edi-consent" => "edi",
        "application/json" => "json",
        "text/plain" => "txt",
        "text/html" => "html",
        "message/rfc822" => "eml",
        _ => "bin",
    };
    format!("attachment.{extension}")
}

/// One attachment of a message.
#[derive(Debug, PartialEq, Eq)]
struct Attachment {
    /// Its number in the message, from 1.
    n: usize,
    /// Its file name, made plain.
    plain: String,
    /// `type/subtype` in lower case.
    content_type: String,
    /// Its bytes, the transfer encoding undone.
    bytes: Vec<u8>,
}

/// A part's content type as `type/subtype` in lower case (`text/plain`
/// when not given, as MIME says).
fn content_type_of(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_lowercase(),
            None => ct.ctype().to_lowercase(),
        },
        None => "text/plain".into(),
    }
}

/// A part's body with only its transfer encoding undone (no character
/// set conversion), or why it cannot be.
fn part_bytes(raw: &[u8], part: &MessagePart<'_>) -> Result<Vec<u8>, String> {
    let body = raw
        .get(part.offset_body as usize..part.offset_end as usize)
        .ok_or("its place in the message is out of bounds")?;
    let encoding = part
        .content_transfer_encoding()
        .map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("7bit" | "8bit" | "binary" | "") => Ok(body.to_vec()),
        Some("base64") => {
            mail_parser::decoders::base64::base64_decode(body).ok_or("its base64 is broken".into())
        }
        Some("quoted-printable") => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
                .ok_or("its quoted-printable is broken".into())
        }
        Some(other) => Err(format!("its transfer encoding {other:?} is unknown")),
    }
}

/// The `From` address of a message (or its header), in lower case.
fn sender(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse_headers(raw)?;
    let address = message.from()?.first()?.address()?.trim();
    (!address.is_empty()).then(|| address.to_lowercase())
}

/// Every attachment of a raw message, or why the message cannot be read.
fn attachments(raw: &[u8]) -> Result<Vec<Attachment>, String> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or("it has no header")?;
    let mut found = Vec::new();
    for (i, part) in message.attachments().enumerate() {
        let n = i + 1;
        let content_type = content_type_of(part);
        let name = part
            .attachment_name()
            .filter(|s| !s.trim().is_empty())
            .map_or_else(|| unnamed(&content_type), str::to_string);
        let plain = plain_name(&name);
        let bytes = part_bytes(raw, part)
            .map_err(|why| format!("attachment {n} ({plain}) cannot be read: {why}"))?;
        found.push(Attachment {
            n,
            plain,
            content_type,
            bytes,
        });
    }
    Ok(found)
}

/// An IMAP channel (inbound only).
pub struct ImapChannel {
    name: String,
    config: ImapConfig,
    /// What the last poll listed, by UIDVALIDITY and UID.
    listed: BTreeMap<(u32, u32), Listed>,
    /// The last message fetched whole: UIDVALIDITY, UID, raw bytes.
    cached: Option<(u32, u32, Vec<u8>)>,
    /// The session, opened at the first use.
    conn: Option<Connection>,
}

impl fmt::Debug for ImapChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapChannel")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("listed", &self.listed.len())
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl ImapChannel {
    /// The channel `name` on `config`. Nothing is connected before the
    /// first use.
    pub fn new(name: &str, config: ImapConfig) -> ImapChannel {
        ImapChannel {
            name: name.to_string(),
            config,
            listed: BTreeMap::new(),
            cached: None,
            conn: None,
        }
    }

    /// The channel's name.
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

    /// An error of a command, dropping the connection if it is lost.
    fn fail(&mut self, doing: String, fail: Fail) -> TransportError {
        if matches!(fail, Fail::Lost(_)) {
            self.conn = None;
        }
        self.error(doing, fail.into_io())
    }

    fn target(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs)
    }

    /// The password, from the environment or the file.
    fn password(&self) -> Result<(String, String), io::Error> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let from = match &self.config.password_env {
            Some(var) => format!("the password from ${var}"),
            None => "the password from password_file".to_string(),
        };
        let Some(password) = super::secret::read(
            self.config.password_env.as_deref(),
            self.config.password_file.as_deref(),
        )?
        else {
            return Err(invalid(
                "no way to log in: set password_env or password_file".into(),
            ));
        };
        if password.contains(['\r', '\n']) {
            return Err(invalid(format!(
                "{from} has a line break, which IMAP LOGIN cannot send"
            )));
        }
        Ok((password, from))
    }

    /// The TLS client configuration: ring, the roots of `ca_file` or the
    /// web PKI's.
    fn tls_config(&self) -> Result<rustls::ClientConfig, io::Error> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let mut roots = rustls::RootCertStore::empty();
        match &self.config.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    io::Error::new(e.kind(), format!("reading ca_file {}: {e}", path.display()))
                })?;
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| {
                        invalid(format!("ca_file {} does not read: {e}", path.display()))
                    })?;
                    roots.add(cert).map_err(|e| {
                        invalid(format!(
                            "ca_file {} has a certificate rustls refuses: {e}",
                            path.display()
                        ))
                    })?;
                }
                if roots.is_empty() {
                    return Err(invalid(format!(
                        "ca_file {} holds no PEM certificate",
                        path.display()
                    )));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| io::Error::other(format!("tls: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// Opens a session: TCP, TLS, the greeting, login, capabilities, the
    /// mailbox selected.
    async fn connect(&self) -> Result<Connection, io::Error> {
        let config = &self.config;
        config
            .check()
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        let (password, from) = self.password()?;
        let tls = match config.tls {
            Tls::Implicit => Some(self.tls_config()?),
            Tls::None => None,
        };
        let server_name = ServerName::try_from(
            config
                .host
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        )
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("host {:?} is not a host name or address: {e}", config.host),
            )
        })?;
        let target = self.target();
        let trusted = match &config.ca_file {
            Some(path) => format!("the CA certificates of ca_file {}", path.display()),
            None => "the built-in web PKI roots".into(),
        };
        let timeout = self.timeout();
        let opening = async {
            let tcp = TcpStream::connect((config.host.trim(), config.port))
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("tcp: {e}")))?;
            let wire = match tls {
                Some(tls) => {
                    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
                        .connect(server_name, tcp)
                        .await
                        .map_err(|e| {
                            io::Error::new(
                                e.kind(),
                                format!("TLS with {target} failed: {e} (trusting {trusted})"),
                            )
                        })?;
                    Wire::Tls(Box::new(stream))
                }
                None => Wire::Plain(tcp),
            };
            let mut client = async_imap::Client::new(wire);
            match client.read_response().await {
                Ok(Some(greeting)) => match greeting.parsed() {
                    Response::Data {
                        status: Status::Ok | Status::PreAuth,
                        ..
                    } => {}
                    Response::Data { outcome, .. } => {
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionRefused,
                            format!(
                                "the server turned the connection down: {}",
                                outcome
                                    .information
                                    .as_deref()
                                    .unwrap_or("(no reason given)")
                            ),
                        ));
                    }
                    _ => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "the server did not greet as an IMAP server does",
                        ));
                    }
                },
                Ok(None) => return Err(closed()),
                Err(e) => return Err(io::Error::new(e.kind(), format!("imap: {e}"))),
            }
            let mut session = match client.login(config.user.as_str(), password.as_str()).await {
                Ok(session) => session,
                Err((
                    async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text),
                    _,
                )) => {
                    let said = server_words(&text)
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default();
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("the server refused {from} for user {}{said}", config.user),
                    ));
                }
                Err((e, _)) => return Err(lost(e).into_io()),
            };
            drop(password);
            let caps = ask(&mut session, "CAPABILITY", timeout)
                .await
                .map_err(Fail::into_io)?;
            let can_move = caps.capabilities.iter().any(|c| c == "MOVE");
            if config.after == MailAfter::Move && !can_move {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the server cannot MOVE (RFC 6851); use after = \"seen\"",
                ));
            }
            let uid_validity = select(&mut session, &config.mailbox, timeout).await?;
            Ok(Connection {
                session,
                uid_validity,
                can_move,
            })
        };
        match tokio::time::timeout(timeout, opening).await {
            Ok(conn) => conn,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no session within {} s (timeout_secs)", config.timeout_secs),
            )),
        }
    }

    /// The session, opened when there is none. True with it when it was
    /// open already (and so may turn out dead).
    async fn session(&mut self) -> Result<bool, TransportError> {
        if self.conn.is_some() {
            return Ok(true);
        }
        let conn = self.connect().await.map_err(|e| {
            self.error(
                format!("connecting to {}@{}", self.config.user, self.target()),
                e,
            )
        })?;
        self.conn = Some(conn);
        Ok(false)
    }

    fn conn(&mut self) -> Result<&mut Connection, TransportError> {
        let name = self.name.clone();
        self.conn.as_mut().ok_or_else(|| TransportError {
            channel: name,
            doing: "using the session".into(),
            source: io::Error::new(io::ErrorKind::NotConnected, "not connected"),
        })
    }

    /// Sends a read-only `command`; when the connection was open already
    /// and turns out lost, reconnects and sends it once more.
    async fn ask_alive(&mut self, command: &str, doing: &str) -> Result<Answer, TransportError> {
        let mut reused = self.session().await?;
        let timeout = self.timeout();
        loop {
            let asked = ask(&mut self.conn()?.session, command, timeout).await;
            match asked {
                Ok(answer) => return Ok(answer),
                Err(Fail::Lost(_)) if reused => {
                    self.conn = None;
                    reused = self.session().await?;
                }
                Err(fail) => return Err(self.fail(doing.to_string(), fail)),
            }
        }
    }

    /// Sends `command` once, on the open session.
    async fn ask_once(&mut self, command: &str) -> Result<Answer, Fail> {
        let timeout = self.timeout();
        match self.conn.as_mut() {
            Some(conn) => ask(&mut conn.session, command, timeout).await,
            None => Err(Fail::Lost(io::Error::new(
                io::ErrorKind::NotConnected,
                "not connected",
            ))),
        }
    }

    /// Makes sure the open session's mailbox is the one of this
    /// UIDVALIDITY.
    fn same_mailbox(&mut self, uid_validity: u32, doing: &str) -> Result<(), TransportError> {
        let now = self.conn()?.uid_validity;
        if now != uid_validity {
            let mailbox = self.config.mailbox.clone();
            return Err(self.error(
                doing.to_string(),
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "mailbox {mailbox} was recreated (UIDVALIDITY {now}, not {uid_validity}): its messages have new numbers; poll again"
                    ),
                ),
            ));
        }
        Ok(())
    }

    /// The raw message `uid`, fetched with `BODY.PEEK[]` (marking
    /// nothing), or None when it is not in the mailbox.
    async fn fetch_message(
        &mut self,
        uid_validity: u32,
        uid: u32,
        doing: &str,
    ) -> Result<Option<Vec<u8>>, TransportError> {
        if let Some((v, u, raw)) = &self.cached
            && (*v, *u) == (uid_validity, uid)
        {
            return Ok(Some(raw.clone()));
        }
        let answer = self
            .ask_alive(&format!("UID FETCH {uid} (UID BODY.PEEK[])"), doing)
            .await?;
        // A reconnection selected the mailbox anew: the UID must still
        // mean the same message.
        self.same_mailbox(uid_validity, doing)?;
        let raw = answer.data_of(uid).map(<[u8]>::to_vec);
        if let Some(raw) = &raw {
            self.cached = Some((uid_validity, uid, raw.clone()));
        }
        Ok(raw)
    }

    /// The attachments waiting in the mailbox, one item per accepted
    /// attachment of each unseen message from an accepted sender, in the
    /// mailbox's order (by UID, then attachment number).
    pub async fn poll(&mut self) -> Result<Vec<Waiting>, TransportError> {
        let mailbox = self.config.mailbox.clone();
        let doing = format!("listing {mailbox}");
        let selected = self
            .ask_alive(&format!("SELECT {}", quoted(&mailbox)), &doing)
            .await?;
        let Some(uid_validity) = selected.uid_validity else {
            return Err(self.fail(
                doing,
                Fail::Lost(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the server gave no UIDVALIDITY for the mailbox",
                )),
            ));
        };
        self.conn()?.uid_validity = uid_validity;
        let found = self.ask_once("UID SEARCH UNSEEN UNDELETED").await;
        let mut uids = found.map_err(|f| self.fail(doing.clone(), f))?.search;
        uids.sort_unstable();
        uids.dedup();

        // Headers first: the whole message only from accepted senders.
        let mut senders = BTreeMap::new();
        for chunk in uids.chunks(200) {
            let set = chunk
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let headers = self
                .ask_once(&format!("UID FETCH {set} (UID BODY.PEEK[HEADER])"))
                .await
                .map_err(|f| self.fail(doing.clone(), f))?;
            for &uid in chunk {
                if let Some(header) = headers.data_of(uid) {
                    let from = sender(header);
                    if self.config.accepts_sender(from.as_deref()) {
                        senders.insert(uid, from);
                    }
                }
            }
        }

        let mut listed = BTreeMap::new();
        let mut waiting = Vec::new();
        for (uid, from) in senders {
            let Some(raw) = self.fetch_message(uid_validity, uid, &doing).await? else {
                continue; // gone meanwhile
            };
            let mut entry = Listed {
                sender: from,
                ..Listed::default()
            };
            match attachments(&raw) {
                Ok(found) => {
                    for a in found {
                        if self.config.accepts_attachment(&a.plain, &a.content_type) {
                            let name = item_name(uid_validity, uid, a.n, &a.plain);
                            entry.names.insert(name.clone());
                            waiting.push(Waiting {
                                name,
                                size: a.bytes.len() as u64,
                                modified: None,
                            });
                        }
                    }
                }
                Err(_) => {
                    let name = item_name(uid_validity, uid, 0, WHOLE);
                    entry.names.insert(name.clone());
                    waiting.push(Waiting {
                        name,
                        size: raw.len() as u64,
                        modified: None,
                    });
                }
            }
            if entry.names.is_empty() {
                continue;
            }
            // What was done of it before (its marking failed) stays done.
            if let Some(before) = self.listed.remove(&(uid_validity, uid)) {
                entry.done = before.done.intersection(&entry.names).cloned().collect();
            }
            listed.insert((uid_validity, uid), entry);
        }
        self.listed = listed;
        Ok(waiting)
    }

    /// The bytes of a waiting item: the attachment with its transfer
    /// encoding undone, or the raw message for `...-0-message.eml`.
    pub async fn read(&mut self, name: &str) -> Result<Vec<u8>, TransportError> {
        let doing = format!("reading {name}");
        let Some(item) = parse_item_name(name) else {
            return Err(self.error(doing, not_an_item()));
        };
        self.session().await?;
        self.same_mailbox(item.uid_validity, &doing)?;
        let Some(raw) = self
            .fetch_message(item.uid_validity, item.uid, &doing)
            .await?
        else {
            return Err(self.error(doing, self.gone(item.uid)));
        };
        if item.n == 0 {
            return Ok(raw);
        }
        let found = attachments(&raw).map_err(|why| {
            self.error(
                doing.clone(),
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the message cannot be read: {why}"),
                ),
            )
        })?;
        match found
            .into_iter()
            .find(|a| a.n == item.n && a.plain == item.plain)
        {
            Some(a) => Ok(a.bytes),
            None => Err(self.error(
                doing,
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "message UID {} has no attachment {} named {}",
                        item.uid, item.n, item.plain
                    ),
                ),
            )),
        }
    }

    fn gone(&self, uid: u32) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("message UID {uid} is no longer in {}", self.config.mailbox),
        )
    }

    /// The `From` address (in lower case) of the message a waiting item
    /// comes from, as the last poll saw it.
    pub fn sender_of(&self, name: &str) -> Option<String> {
        let item = parse_item_name(name)?;
        self.listed
            .get(&(item.uid_validity, item.uid))
            .filter(|l| l.names.contains(name))
            .and_then(|l| l.sender.clone())
    }

    /// The item is archived and recorded. Once every item the last poll
    /// listed of its message is done, the message is marked `\Seen` (and
    /// moved, with `after = "move"`); never before.
    pub async fn done(&mut self, name: &str) -> Result<(), TransportError> {
        let doing = format!("finishing {name}");
        let Some(item) = parse_item_name(name) else {
            return Err(self.error(doing, not_an_item()));
        };
        let key = (item.uid_validity, item.uid);
        if !self
            .listed
            .get(&key)
            .is_some_and(|l| l.names.contains(name))
        {
            return Err(self.error(
                doing,
                io::Error::new(io::ErrorKind::NotFound, "the last poll did not list it"),
            ));
        }
        // Read-only first: the session is alive, the message still there.
        let answer = self
            .ask_alive(&format!("UID FETCH {} (UID FLAGS)", item.uid), &doing)
            .await?;
        self.same_mailbox(item.uid_validity, &doing)?;
        if !answer.has(item.uid) {
            self.listed.remove(&key);
            return Err(self.error(doing, self.gone(item.uid)));
        }
        let complete = match self.listed.get_mut(&key) {
            Some(listed) => {
                listed.done.insert(name.to_string());
                listed.done.is_superset(&listed.names)
            }
            None => false,
        };
        if !complete {
            return Ok(());
        }
        let uid = item.uid;
        let seen = self
            .ask_once(&format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)"))
            .await;
        seen.map_err(|f| self.fail(format!("marking message UID {uid} seen"), f))?;
        if let (MailAfter::Move, Some(to)) = (self.config.after, self.config.move_to.clone()) {
            let doing = format!("moving message UID {uid} to {to}");
            if !self.conn()?.can_move {
                return Err(self.error(
                    doing,
                    io::Error::new(io::ErrorKind::Unsupported, "the server cannot MOVE"),
                ));
            }
            let command = format!("UID MOVE {uid} {}", quoted(&to));
            match self.ask_once(&command).await {
                Ok(_) => {}
                Err(Fail::Refused {
                    try_create: true, ..
                }) => {
                    let created = self.ask_once(&format!("CREATE {}", quoted(&to))).await;
                    created.map_err(|f| self.fail(format!("creating mailbox {to}"), f))?;
                    let moved = self.ask_once(&command).await;
                    moved.map_err(|f| self.fail(doing, f))?;
                }
                Err(f) => return Err(self.fail(doing, f)),
            }
        }
        self.listed.remove(&key);
        if self
            .cached
            .as_ref()
            .is_some_and(|(v, u, _)| (*v, *u) == key)
        {
            self.cached = None;
        }
        Ok(())
    }

    /// Logs out and closes the session (the next use opens another).
    pub async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = ask(&mut conn.session, "LOGOUT", self.timeout()).await;
        }
        self.cached = None;
    }
}

fn not_an_item() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a name this channel lists (UIDVALIDITY-UID-N-NAME)",
    )
}

/// Selects `mailbox`; its UIDVALIDITY.
async fn select(session: &mut Session, mailbox: &str, timeout: Duration) -> io::Result<u32> {
    let answer = ask(session, &format!("SELECT {}", quoted(mailbox)), timeout)
        .await
        .map_err(|f| match f {
            Fail::Refused { text, .. } => io::Error::new(
                io::ErrorKind::NotFound,
                format!("the server refused to select mailbox {mailbox}: {text}"),
            ),
            Fail::Lost(e) => e,
        })?;
    answer.uid_validity.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the server gave no UIDVALIDITY for mailbox {mailbox}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImapConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults() -> Result<(), Box<dyn std::error::Error>> {
        let c = parse(
            r#"
            host = "imap.example.com"
            user = "edi@example.com"
            password_env = "EDI_IMAP_PASSWORD"
            "#,
        )?;
        assert_eq!(c.port, 993);
        assert_eq!(c.tls, Tls::Implicit);
        assert_eq!(c.ca_file, None);
        assert_eq!(c.mailbox, "INBOX");
        assert!(c.senders.is_empty() && c.patterns.is_empty() && c.content_types.is_empty());
        assert_eq!(c.after, MailAfter::Seen);
        assert_eq!(c.move_to, None);
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(c.check(), Ok(()));
        let ch = ImapChannel::new("acme-mail", c);
        assert_eq!(ch.name(), "acme-mail");
        Ok(())
    }

    #[test]
    fn every_field() -> Result<(), Box<dyn std::error::Error>> {
        let c = parse(
            r#"
            host = "127.0.0.1"
            port = 10143
            tls = "none"
            user = "edi"
            password_file = "secrets/imap"
            mailbox = "Partners/Acme"
            senders = ["orders@acme.example", "*@billing.acme.example"]
            patterns = ["*.pdf", "*.csv"]
            content_types = ["application/pdf", "text/*"]
            after = "move"
            move_to = "Archive"
            timeout_secs = 5
            "#,
        )?;
        assert_eq!(c.port, 10143);
        assert_eq!(c.tls, Tls::None);
        assert_eq!(c.password_file, Some(PathBuf::from("secrets/imap")));
        assert_eq!(c.after, MailAfter::Move);
        assert_eq!(c.move_to.as_deref(), Some("Archive"));
        assert_eq!(c.check(), Ok(()));
        let c = parse(
            r#"
            host = "imap.example.com"
            ca_file = "ca.pem"
            user = "edi"
            password_env = "P"
            "#,
        )?;
        assert_eq!(c.ca_file, Some(PathBuf::from("ca.pem")));
        assert_eq!(c.check(), Ok(()));
        Ok(())
    }

    #[test]
    fn unknown_fields_and_values_are_refused() {
        let message = |text: &str| parse(text).err().map(|e| e.to_string()).unwrap_or_default();
        let m = message("host = \"h\"\nuser = \"u\"\npassword_env = \"P\"\nmail_box = \"X\"");
        assert!(m.contains("mail_box"), "{m}");
        let m = message("host = \"h\"\nuser = \"u\"\npassword_env = \"P\"\ntls = \"starttls\"");
        assert!(m.contains("starttls"), "{m}");
        let m = message("host = \"h\"\nuser = \"u\"\npassword_env = \"P\"\nafter = \"delete\"");
        assert!(m.contains("delete"), "{m}");
        // host and user are required.
        assert!(parse("user = \"u\"\npassword_env = \"P\"").is_err());
        assert!(parse("host = \"h\"\npassword_env = \"P\"").is_err());
    }

    fn base() -> ImapConfig {
        ImapConfig {
            host: "imap.example.com".into(),
            port: 993,
            tls: Tls::Implicit,
            ca_file: None,
            user: "edi".into(),
            password_env: Some("P".into()),
            password_file: None,
            mailbox: "INBOX".into(),
            senders: vec![],
            patterns: vec![],
            content_types: vec![],
            after: MailAfter::Seen,
            move_to: None,
            timeout_secs: 30,
        }
    }

    #[test]
    fn check_names_the_problem() {
        let problem = |c: ImapConfig| c.check().err().unwrap_or_default();
        let m = problem(ImapConfig {
            tls: Tls::None,
            ..base()
        });
        assert!(
            m.contains("tls = \"none\"") && m.contains("not to imap.example.com"),
            "{m}"
        );
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            let c = ImapConfig {
                tls: Tls::None,
                host: host.into(),
                ..base()
            };
            assert_eq!(c.check(), Ok(()), "{host}");
        }
        for host in ["10.0.0.1", "localhost.example.com", "::2"] {
            let c = ImapConfig {
                tls: Tls::None,
                host: host.into(),
                ..base()
            };
            assert!(c.check().is_err(), "{host}");
        }
        assert!(
            problem(ImapConfig {
                tls: Tls::None,
                host: "127.0.0.1".into(),
                ca_file: Some("ca.pem".into()),
                ..base()
            })
            .contains("ca_file is set")
        );
        assert!(
            problem(ImapConfig {
                password_env: None,
                ..base()
            })
            .contains("no way to log in")
        );
        assert!(
            problem(ImapConfig {
                password_file: Some("f".into()),
                ..base()
            })
            .contains("both set")
        );
        assert!(
            problem(ImapConfig {
                password_env: Some(String::new()),
                ..base()
            })
            .contains("password_env is empty")
        );
        assert!(
            problem(ImapConfig {
                after: MailAfter::Move,
                ..base()
            })
            .contains("needs move_to")
        );
        assert!(
            problem(ImapConfig {
                move_to: Some("Archive".into()),
                ..base()
            })
            .contains("after is \"seen\"")
        );
        assert!(
            problem(ImapConfig {
                after: MailAfter::Move,
                move_to: Some("INBOX".into()),
                ..base()
            })
            .contains("the mailbox itself")
        );
        assert!(
            problem(ImapConfig {
                mailbox: "Eingänge".into(),
                ..base()
            })
            .contains("printable ASCII")
        );
        assert!(
            problem(ImapConfig {
                mailbox: " ".into(),
                ..base()
            })
            .contains("mailbox is empty")
        );
        assert!(
            problem(ImapConfig {
                senders: vec!["acme.example".into()],
                ..base()
            })
            .contains("not an address")
        );
        assert!(
            problem(ImapConfig {
                content_types: vec!["pdf".into()],
                ..base()
            })
            .contains("type/subtype")
        );
        assert!(
            problem(ImapConfig {
                timeout_secs: 0,
                ..base()
            })
            .contains("timeout_secs")
        );
        assert!(
            problem(ImapConfig {
                user: String::new(),
                ..base()
            })
            .contains("user is empty")
        );
        assert!(problem(ImapConfig { port: 0, ..base() }).contains("port"));
    }

    #[test]
    fn senders_and_attachments_filter() {
        let c = ImapConfig {
            senders: vec![
                "Orders@Acme.example".into(),
                "*@billing.acme.example".into(),
            ],
            patterns: vec!["*.pdf".into(), "*.csv".into()],
            content_types: vec!["application/pdf".into(), "TEXT/*".into()],
            ..base()
        };
        assert!(c.accepts_sender(Some("orders@acme.example")));
        assert!(c.accepts_sender(Some("ORDERS@ACME.EXAMPLE")));
        assert!(c.accepts_sender(Some("ap@billing.acme.example")));
        assert!(!c.accepts_sender(Some("ap@billing.acme.example.evil")));
        assert!(!c.accepts_sender(Some("someone@else.example")));
        assert!(!c.accepts_sender(None));
        assert!(base().accepts_sender(None));
        assert!(c.accepts_attachment("inv.pdf", "application/pdf"));
        assert!(c.accepts_attachment("stock.csv", "text/csv"));
        assert!(!c.accepts_attachment("stock.csv", "application/octet-stream"));
        assert!(!c.accepts_attachment("logo.png", "text/plain"));
        assert!(base().accepts_attachment("logo.png", "image/png"));
    }

    #[test]
    fn plain_names() {
        assert_eq!(plain_name("invoice-42.pdf"), "invoice-42.pdf");
        assert_eq!(plain_name("../../etc/passwd"), "passwd");
        assert_eq!(
            plain_name("C:\\Users\\x\\Rechnung Müller (2).pdf"),
            "Rechnung_Müller__2_.pdf"
        );
        assert_eq!(plain_name(".hidden.csv"), "hidden.csv");
        assert_eq!(plain_name("..."), "attachment");
        assert_eq!(plain_name(""), "attachment");
        assert_eq!(plain_name("a\0b\r\n.txt"), "a_b__.txt");
        let long = format!("{}.pdf", "x".repeat(300));
        let short = plain_name(&long);
        assert_eq!(short.chars().count(), MOST_CHARS);
        assert!(short.ends_with("x.pdf"));
        assert_eq!(unnamed("application/pdf"), "attachment.pdf");
        assert_eq!(unnamed("image/png"), "attachment.bin");
    }

    #[test]
    fn item_names() {
        assert_eq!(item_name(7, 12, 2, "a-b.pdf"), "7-12-2-a-b.pdf");
        assert_eq!(
            parse_item_name("7-12-2-a-b.pdf"),
            Some(ItemName {
                uid_validity: 7,
                uid: 12,
                n: 2,
                plain: "a-b.pdf"
            })
        );
        assert_eq!(parse_item_name("7-12-0-message.eml").map(|i| i.n), Some(0));
        for bad in [
            "",
            "a.pdf",
            "7-12-2-",
            "7-12-x-a.pdf",
            "7-+12-2-a.pdf",
            "7-12-0-other.eml",
            "99999999999-1-1-a.pdf",
        ] {
            assert_eq!(parse_item_name(bad), None, "{bad}");
        }
    }

    /// A message of one text body and the given parts, CRLF line ends.
    fn multipart(parts: &[&str]) -> Vec<u8> {
        let mut m = String::from(
            "From: Acme Orders <Orders@Acme.example>\r\nTo: edi@gw.example\r\nSubject: t\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
             preamble\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n",
        );
        for p in parts {
            m.push_str("--XX\r\n");
            m.push_str(p);
            m.push_str("\r\n");
        }
        m.push_str("--XX--\r\n");
        m.into_bytes()
    }

    #[test]
    fn attachments_come_out_byte_exact() -> Result<(), String> {
        // Windows-1252 text, 7bit-ish, with a line break at its end.
        let mut raw = multipart(&[
            "Content-Type: text/csv; charset=windows-1252\r\n\
             Content-Disposition: attachment; filename=\"stock.csv\"\r\n\r\n\
             sku;name\r\n1;caf\u{e9}\r\n",
            "Content-Type: application/pdf; name=\"inv.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"inv.pdf\"\r\n\r\n\
             JVBERi0xLjQKJcOkw7zDtsOf\r\nAAEC/w==",
            "Content-Type: application/edi-x12\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\
             Content-Disposition: attachment; filename=\"po.edi\"\r\n\r\n\
             ISA*00*=3D~GS*PO=\r\n*1~",
            "Content-Type: message/rfc822\r\n\
             Content-Disposition: attachment\r\n\r\n\
             From: a@b.example\r\nSubject: inner\r\n\r\ninner body",
        ]);
        // The CSV in Windows-1252: é is the one byte E9.
        let at = raw
            .windows(5)
            .position(|w| w == "caf\u{e9}".as_bytes())
            .ok_or("no café")?;
        raw.splice(at + 3..at + 5, [0xE9]);
        let found = attachments(&raw)?;
        let view: Vec<(usize, &str, &str, &[u8])> = found
            .iter()
            .map(|a| {
                (
                    a.n,
                    a.plain.as_str(),
                    a.content_type.as_str(),
                    a.bytes.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            view,
            vec![
                (
                    1,
                    "stock.csv",
                    "text/csv",
                    b"sku;name\r\n1;caf\xE9\r\n".as_slice()
                ),
                (
                    2,
                    "inv.pdf",
                    "application/pdf",
                    b"%PDF-1.4\n%\xC3\xA4\xC3\xBC\xC3\xB6\xC3\x9F\x00\x01\x02\xFF".as_slice()
                ),
                (
                    3,
                    "po.edi",
                    "application/edi-x12",
                    b"ISA*00*=~GS*PO*1~".as_slice()
                ),
                (
                    4,
                    "attachment.eml",
                    "message/rfc822",
                    b"From: a@b.example\r\nSubject: inner\r\n\r\ninner body".as_slice()
                ),
            ]
        );
        assert_eq!(sender(&raw).as_deref(), Some("orders@acme.example"));
        Ok(())
    }

    #[test]
    fn single_part_and_plain_messages() -> Result<(), String> {
        let raw = b"From: a@b.example\r\nContent-Type: application/pdf\r\n\
                    Content-Disposition: attachment; filename=x.pdf\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n";
        let found = attachments(raw)?;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bytes, b"%PDF");
        assert_eq!(found[0].plain, "x.pdf");
        // A plain text mail has no attachment.
        assert_eq!(attachments(b"From: a@b.example\r\n\r\nhello\r\n")?, vec![]);
        Ok(())
    }

    #[test]
    fn broken_messages_say_why() {
        let raw = multipart(&["Content-Type: application/pdf\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"bad.pdf\"\r\n\r\n\
             !!!! not base64 ????"]);
        let why = attachments(&raw).err().unwrap_or_default();
        assert!(
            why.contains("attachment 1 (bad.pdf)") && why.contains("base64"),
            "{why}"
        );
        let raw = multipart(&["Content-Type: application/pdf\r\n\
             Content-Transfer-Encoding: x-uuencode\r\n\
             Content-Disposition: attachment; filename=\"u.pdf\"\r\n\r\nbegin 644 u.pdf"]);
        let why = attachments(&raw).err().unwrap_or_default();
        assert!(why.contains("x-uuencode"), "{why}");
        let why = attachments(b"").err().unwrap_or_default();
        assert!(why.contains("no header"), "{why}");
        assert_eq!(sender(b"Subject: no from\r\n\r\n"), None);
    }

    #[test]
    fn the_servers_words_are_kept() {
        assert_eq!(
            server_words(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            )
            .as_deref(),
            Some("[AUTHENTICATIONFAILED] Authentication failed.")
        );
        assert_eq!(
            server_words("code: None, info: Some(\"say \\\"hi\\\"\")").as_deref(),
            Some("say \"hi\"")
        );
        assert_eq!(server_words("code: None, info: None"), None);
        assert_eq!(server_words("code: None, info: Some(\" \")"), None);
    }

    #[test]
    fn fetched_data_is_found_past_unsolicited_answers() {
        let answer = Answer {
            fetched: vec![
                Fetched {
                    uid: Some(7),
                    data: None,
                },
                Fetched {
                    uid: Some(7),
                    data: Some(b"raw".to_vec()),
                },
            ],
            ..Answer::default()
        };
        assert_eq!(answer.data_of(7), Some(b"raw".as_slice()));
        assert_eq!(answer.data_of(8), None);
        assert!(answer.has(7) && !answer.has(8));
    }

    /// The gateway may run channels on a multi-threaded runtime.
    #[test]
    fn operations_are_send() {
        fn send<T: Send>(_: T) {}
        let mut ch = ImapChannel::new("acme", base());
        send(ch.poll());
        send(ch.read("1-1-1-a"));
        send(ch.done("1-1-1-a"));
        send(ch.close());
        send(ch);
    }
}
