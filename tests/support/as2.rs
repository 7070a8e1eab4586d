//! An independent AS2 partner for the tests: pyas2lib (PyPI) behind the
//! small HTTP server of `tests/support/as2_peer.py`, run by the Python of
//! the virtualenv that `scripts/lib/as2-peers.sh` makes, on a free port of
//! 127.0.0.1, with its configuration, keys, inbox and log in temporary
//! folders of its own; killed on `Drop`.
//!
//! [`As2Keys`] makes the key pairs with the `openssl` CLI: the gateway's,
//! the peer's, a second ("wrong") one and one whose certificate expired in
//! 2021 (`openssl ca -selfsign` with `-startdate`/`-enddate`), each as a
//! PEM key, a PEM certificate and a PKCS#12 file.
//!
//! [`As2Peer`] receives the gateway's messages on `/as2` (their facts and
//! payloads in [`As2Peer::inbox`]), answers with pyas2lib's MDN, sync or
//! async, sends messages to the gateway ([`As2Peer::send`]) and checks the
//! MDN that comes back with pyas2lib's `Mdn.parse` ([`As2Peer::verdict`]),
//! and has fault knobs for both directions ([`Send`], [`Fault`]).
//!
//! The virtualenv is `DROPGATE_TEST_AS2_PEERS` when that is set, else
//! `${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/as2-peers-venv`; when
//! it is missing, `scripts/lib/as2-peers.sh` is run once to make it. When
//! pyas2lib still cannot be imported, or `openssl` is not there,
//! [`As2Peer::start`] fails the test under `CI` and otherwise prints a
//! skip and gives `None` (see `skip`).

use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::proc::{program, run};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The password of every PKCS#12 file [`As2Keys`] makes.
pub const P12_PASSWORD: &str = "as2-test-p12";

/// How long [`As2Peer::verdict`] and [`As2Peer::wait_inbox`] wait.
pub const WAIT: Duration = Duration::from_secs(30);

/// One key pair: its private key and self-signed certificate in PEM, and
/// both in a PKCS#12 file (password [`P12_PASSWORD`]).
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// Its name in [`As2Keys`].
    pub name: String,
    /// The private key (PEM, unencrypted).
    pub key: PathBuf,
    /// The self-signed certificate (PEM).
    pub cert: PathBuf,
    /// Key and certificate in PKCS#12.
    pub p12: PathBuf,
}

impl KeyPair {
    /// The certificate's PEM text.
    pub fn cert_pem(&self) -> Result<String> {
        Ok(std::fs::read_to_string(&self.cert)?)
    }

    /// The private key's PEM text.
    pub fn key_pem(&self) -> Result<String> {
        Ok(std::fs::read_to_string(&self.key)?)
    }
}

/// The key pairs of a test, in a temporary folder.
#[derive(Debug)]
pub struct As2Keys {
    dir: tempfile::TempDir,
    pairs: Vec<KeyPair>,
}

impl As2Keys {
    /// The gateway's (dropgate's) pair.
    pub const GATEWAY: &str = "gateway";
    /// The peer's pair.
    pub const PEER: &str = "peer";
    /// A second pair that is neither's: a wrong signature or recipient.
    pub const WRONG: &str = "wrong";
    /// A pair whose certificate was valid in 2020 only.
    pub const EXPIRED: &str = "expired";

    /// Makes the four pairs (RSA 2048, certificates for ten years but the
    /// expired one); `None` (after the skip convention) without `openssl`.
    pub fn generate() -> Result<Option<Arc<As2Keys>>> {
        let openssl = match program("DROPGATE_TEST_OPENSSL", "/usr/bin/openssl", "openssl") {
            Ok(p) => p,
            Err(why) => return Ok(unavailable("openssl (for the AS2 test keys)", &why)),
        };
        let dir = tempfile::tempdir()?;
        let mut pairs = Vec::new();
        for name in [Self::GATEWAY, Self::PEER, Self::WRONG] {
            pairs.push(make_pair(&openssl, dir.path(), name, false)?);
        }
        pairs.push(make_pair(&openssl, dir.path(), Self::EXPIRED, true)?);
        Ok(Some(Arc::new(As2Keys { dir, pairs })))
    }

    /// The pair named `name`.
    pub fn pair(&self, name: &str) -> Result<&KeyPair> {
        self.pairs
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("no AS2 test key pair {name:?}").into())
    }

    /// The gateway's pair.
    pub fn gateway(&self) -> &KeyPair {
        &self.pairs[0]
    }

    /// The peer's pair.
    pub fn peer(&self) -> &KeyPair {
        &self.pairs[1]
    }

    /// The wrong pair.
    pub fn wrong(&self) -> &KeyPair {
        &self.pairs[2]
    }

    /// The expired pair.
    pub fn expired(&self) -> &KeyPair {
        &self.pairs[3]
    }

    /// Their folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Makes `NAME.key`, `NAME.pem` and `NAME.p12` in `dir`; an expired one
/// is self-signed by `openssl ca` with validity dates in 2020 (OpenSSL
/// 3.0's `x509` has no `-not_after`, and `-days` takes no negative).
fn make_pair(openssl: &Path, dir: &Path, name: &str, expired: bool) -> Result<KeyPair> {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let p12 = dir.join(format!("{name}.p12"));
    let subject = format!("/CN=dropgate-test-{name}-as2/O=dropgate tests");
    let ssl = |args: &[&str]| run(Command::new(openssl).args(args).current_dir(dir));
    if expired {
        let ca = dir.join(format!("{name}-ca"));
        std::fs::create_dir(&ca)?;
        std::fs::write(ca.join("index.txt"), "")?;
        std::fs::write(ca.join("serial"), "01\n")?;
        std::fs::write(
            ca.join("ca.cnf"),
            "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\n\
             serial = serial\ndefault_md = sha256\npolicy = anything\nunique_subject = no\n\
             [anything]\ncommonName = supplied\norganizationName = optional\n",
        )?;
        let csr = format!("{name}-ca/req.csr");
        ssl(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &subject,
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &csr,
        ])?;
        run(Command::new(openssl).current_dir(&ca).args([
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            &key.display().to_string(),
            "-in",
            "req.csr",
            "-out",
            &cert.display().to_string(),
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
            "-notext",
        ]))?;
    } else {
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            &subject,
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ])?;
    }
    ssl(&[
        "pkcs12",
        "-export",
        "-inkey",
        &format!("{name}.key"),
        "-in",
        &format!("{name}.pem"),
        "-passout",
        &format!("pass:{P12_PASSWORD}"),
        "-out",
        &format!("{name}.p12"),
    ])?;
    Ok(KeyPair {
        name: name.to_string(),
        key,
        cert,
        p12,
    })
}

/// The MDN a message asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MdnRequest {
    /// No MDN.
    None,
    /// In the HTTP answer; signed with this digest (`sha256`) when given.
    Sync(Option<String>),
    /// POSTed later to the sender's MDN URL; signed as for `Sync`.
    Async(Option<String>),
}

impl MdnRequest {
    fn mode(&self) -> &'static str {
        match self {
            MdnRequest::None => "none",
            MdnRequest::Sync(_) => "sync",
            MdnRequest::Async(_) => "async",
        }
    }

    fn signed(&self) -> Option<&str> {
        match self {
            MdnRequest::None => None,
            MdnRequest::Sync(d) | MdnRequest::Async(d) => d.as_deref(),
        }
    }
}

/// How a message is built: pyas2lib's names for the algorithms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Security {
    /// Signed with this digest (`sha256`, `sha384`, `sha512`, `sha1`),
    /// or not signed.
    pub sign: Option<String>,
    /// Encrypted with this cipher (`aes_128_cbc`, `aes_192_cbc`,
    /// `aes_256_cbc`, `tripledes_192_cbc`), or not encrypted.
    pub encrypt: Option<String>,
    /// Compressed (RFC 5402) before signing.
    pub compress: bool,
    /// The MDN asked for.
    pub mdn: MdnRequest,
}

impl Default for Security {
    /// Signed (SHA-256), encrypted (AES-256-CBC), not compressed, a
    /// signed synchronous MDN.
    fn default() -> Self {
        Security {
            sign: Some("sha256".into()),
            encrypt: Some("aes_256_cbc".into()),
            compress: false,
            mdn: MdnRequest::Sync(Some("sha256".into())),
        }
    }
}

impl Security {
    fn to_json(&self) -> Value {
        json!({
            "sign": self.sign.is_some(),
            "digest": self.sign.clone().unwrap_or_else(|| "sha256".into()),
            "encrypt": self.encrypt.is_some(),
            "cipher": self.encrypt.clone().unwrap_or_else(|| "aes_256_cbc".into()),
            "compress": self.compress,
            "mdn": self.mdn.mode(),
            "mdn_signed": self.mdn.signed().is_some(),
            "mdn_digest": self.mdn.signed().unwrap_or("sha256"),
        })
    }
}

/// How the peer's key is given to pyas2lib.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyFormat {
    /// The PKCS#12 file.
    #[default]
    Pkcs12,
    /// The PEM key followed by the PEM certificate.
    Pem,
}

/// A peer's configuration.
#[derive(Clone, Debug)]
pub struct As2PeerOptions {
    /// Its AS2 name.
    pub as2_name: String,
    /// The gateway's AS2 name.
    pub gateway_as2_name: String,
    /// The gateway's AS2 URL (also settable later with
    /// [`As2Peer::set_gateway_url`]).
    pub gateway_url: Option<String>,
    /// The key pairs; made by `start` when `None`.
    pub keys: Option<Arc<As2Keys>>,
    /// The peer's own pair (signs, decrypts).
    pub own_key: String,
    /// The pair whose certificate it knows as the gateway's (verifies,
    /// encrypts).
    pub gateway_key: String,
    /// The pair of [`Send::sign_with_wrong_key`] and
    /// [`Send::encrypt_with_wrong_cert`].
    pub wrong_key: String,
    /// How its key is given to pyas2lib.
    pub key_format: KeyFormat,
    /// What it sends with.
    pub send: Security,
    /// The content type of what it sends.
    pub content_type: String,
    /// It refuses unsigned messages (`insufficient-message-security`).
    pub require_signed: bool,
    /// It refuses unencrypted messages.
    pub require_encrypted: bool,
    /// It tells pyas2lib which Message-IDs it processed already.
    pub detect_duplicates: bool,
    /// pyas2lib checks the certificates' validity.
    pub validate_certs: bool,
    /// How long after its HTTP answer it POSTs an asynchronous MDN.
    pub async_mdn_delay: Duration,
    /// It answers 413 to a larger body.
    pub max_body_bytes: Option<u64>,
}

impl Default for As2PeerOptions {
    fn default() -> Self {
        As2PeerOptions {
            as2_name: "PYAS2PEER".into(),
            gateway_as2_name: "DROPGATE".into(),
            gateway_url: None,
            keys: None,
            own_key: As2Keys::PEER.into(),
            gateway_key: As2Keys::GATEWAY.into(),
            wrong_key: As2Keys::WRONG.into(),
            key_format: KeyFormat::Pkcs12,
            send: Security::default(),
            content_type: "application/edi-x12".into(),
            require_signed: false,
            require_encrypted: false,
            detect_duplicates: true,
            validate_certs: true,
            async_mdn_delay: Duration::from_millis(100),
            max_body_bytes: None,
        }
    }
}

/// A message to send, and its faults.
#[derive(Clone, Debug, Default)]
pub struct Send {
    /// Its filename (Content-Disposition).
    pub filename: Option<String>,
    /// Its content type, instead of the peer's.
    pub content_type: Option<String>,
    /// Its security, instead of the peer's.
    pub security: Option<Security>,
    /// One byte of the body changed after signing and encryption.
    pub tamper: bool,
    /// Which byte ([`Send::tamper_at`]), negative from the end.
    pub tamper_at: Option<i64>,
    /// Signed with the wrong pair's key.
    pub sign_with_wrong_key: bool,
    /// Encrypted to the wrong pair's certificate.
    pub encrypt_with_wrong_cert: bool,
    /// This AS2-To instead of the gateway's name.
    pub as2_to: Option<String>,
    /// The payload repeated to this many bytes.
    pub oversize: Option<usize>,
    /// The left part of the Message-ID.
    pub message_id: Option<String>,
    /// Return before the HTTP exchange is over.
    pub no_wait: bool,
}

impl Send {
    /// A message with this filename.
    pub fn file(name: &str) -> Send {
        Send {
            filename: Some(name.into()),
            ..Send::default()
        }
    }

    /// With this security.
    pub fn security(mut self, security: Security) -> Send {
        self.security = Some(security);
        self
    }

    /// With this content type.
    pub fn content_type(mut self, content_type: &str) -> Send {
        self.content_type = Some(content_type.into());
        self
    }

    /// Tampered after signing and encryption.
    pub fn tamper(mut self) -> Send {
        self.tamper = true;
        self
    }

    /// Tampered at byte `at` (negative from the end).
    pub fn tamper_at(mut self, at: i64) -> Send {
        self.tamper_at = Some(at);
        self
    }

    /// Signed with the wrong key.
    pub fn sign_with_wrong_key(mut self) -> Send {
        self.sign_with_wrong_key = true;
        self
    }

    /// Encrypted to the wrong certificate.
    pub fn encrypt_with_wrong_cert(mut self) -> Send {
        self.encrypt_with_wrong_cert = true;
        self
    }

    /// To another AS2 name.
    pub fn as2_to(mut self, name: &str) -> Send {
        self.as2_to = Some(name.into());
        self
    }

    /// The payload repeated to `bytes`.
    pub fn oversize(mut self, bytes: usize) -> Send {
        self.oversize = Some(bytes);
        self
    }

    /// With this Message-ID's left part.
    pub fn message_id(mut self, id: &str) -> Send {
        self.message_id = Some(id.into());
        self
    }

    /// Without waiting for the HTTP exchange.
    pub fn no_wait(mut self) -> Send {
        self.no_wait = true;
        self
    }

    fn to_json(&self, payload: &[u8]) -> Value {
        let mut v = match &self.security {
            Some(s) => s.to_json(),
            None => json!({}),
        };
        v["payload_b64"] = json!(B64.encode(payload));
        v["filename"] = json!(self.filename);
        if let Some(ct) = &self.content_type {
            v["content_type"] = json!(ct);
        }
        v["tamper"] = json!(self.tamper);
        if let Some(at) = self.tamper_at {
            v["tamper_at"] = json!(at);
        }
        if self.sign_with_wrong_key {
            v["sign_with"] = json!("alt");
        }
        if self.encrypt_with_wrong_cert {
            v["encrypt_with"] = json!("alt");
        }
        if let Some(to) = &self.as2_to {
            v["as2_to"] = json!(to);
        }
        if let Some(n) = self.oversize {
            v["oversize"] = json!(n);
        }
        if let Some(id) = &self.message_id {
            v["message_id"] = json!(id);
        }
        v["wait"] = json!(!self.no_wait);
        v
    }
}

/// What the peer does to the next messages it receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers this HTTP status, without an MDN, and keeps nothing.
    Refuse(u16),
    /// Closes the connection without an answer, and keeps nothing.
    Close,
    /// Waits this long before handling the message.
    Delay(Duration),
    /// Processes the message but answers `processed/Error` with this
    /// modifier, and keeps nothing.
    NegativeMdn(String),
    /// Never sends the asynchronous MDN.
    WithholdAsyncMdn,
}

impl Fault {
    fn to_json(&self) -> Value {
        match self {
            Fault::Refuse(status) => json!({ "status": status }),
            Fault::Close => json!({ "close": true }),
            Fault::Delay(d) => json!({ "delay_ms": d.as_millis() as u64 }),
            Fault::NegativeMdn(m) => json!({ "negative_mdn": m }),
            Fault::WithholdAsyncMdn => json!({ "withhold_async_mdn": true }),
        }
    }
}

/// What an MDN said, read by the peer with Python's `email` package.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct MdnFacts {
    /// `multipart/signed` or `multipart/report`.
    pub content_type: Option<String>,
    /// Whether it is `multipart/signed`.
    pub signed: bool,
    /// The `micalg` of a signed one.
    pub micalg: Option<String>,
    /// Its `Message-ID` header.
    #[serde(rename = "message-id")]
    pub message_id: Option<String>,
    /// Its `AS2-From`.
    #[serde(rename = "as2-from")]
    pub as2_from: Option<String>,
    /// Its `AS2-To`.
    #[serde(rename = "as2-to")]
    pub as2_to: Option<String>,
    /// The human-readable part.
    pub text: Option<String>,
    /// The `Disposition` field.
    pub disposition: Option<String>,
    /// The `Original-Message-ID`, without `<>`.
    pub original_message_id: Option<String>,
    /// `Received-Content-MIC` (`base64, sha256`).
    pub received_content_mic: Option<String>,
    /// Every field of the disposition notification, names lower case.
    pub fields: std::collections::BTreeMap<String, String>,
}

/// One exchange of a sent message (the first, or a replay): its HTTP
/// answer and pyas2lib's verdict on its MDN.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Exchange {
    /// `original` or `replay`.
    pub kind: String,
    /// `posting`, `awaiting_mdn` or `done`.
    pub state: String,
    /// The gateway's HTTP status.
    pub http_status: Option<u16>,
    /// Why there is no MDN: a connection error or a non-2xx status.
    pub error: Option<String>,
    /// `Mdn.parse`'s status: `processed`, `processed/Error`,
    /// `processed/Warning`, `processed/warning` (a MIC mismatch),
    /// `failed/Failure` (a bad or unsigned MDN).
    pub status: Option<String>,
    /// `Mdn.parse`'s detail (the disposition modifier).
    pub detail: Option<String>,
    /// Whether the MDN's MIC equals the one the peer computed (`None`
    /// when either is missing).
    pub mic_ok: Option<bool>,
    /// The MDN.
    pub mdn: Option<MdnFacts>,
}

/// A sent message and what became of it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Verdict {
    /// Its Message-ID, without `<>`.
    pub message_id: String,
    /// Its AS2-To.
    pub as2_to: String,
    /// The MIC pyas2lib computed (base64), for a signed message.
    pub mic: Option<String>,
    /// The digest of that MIC.
    pub digest_alg: Option<String>,
    /// The payload's size.
    pub payload_size: usize,
    /// The body's size.
    pub size: usize,
    /// The headers it was sent with.
    pub headers: std::collections::BTreeMap<String, String>,
    /// Every exchange, the latest last.
    pub exchanges: Vec<Exchange>,
    /// The latest exchange's state.
    pub state: String,
    /// Its HTTP status.
    pub http_status: Option<u16>,
    /// Its error.
    pub error: Option<String>,
    /// Its `Mdn.parse` status.
    pub status: Option<String>,
    /// Its `Mdn.parse` detail.
    pub detail: Option<String>,
    /// Its MIC check.
    pub mic_ok: Option<bool>,
    /// Its MDN.
    pub mdn: Option<MdnFacts>,
}

impl Verdict {
    /// A positive MDN that pyas2lib verified, with a matching MIC where
    /// there is one.
    pub fn processed(&self) -> bool {
        self.status.as_deref() == Some("processed") && self.mic_ok != Some(false)
    }

    /// The latest exchange is over.
    pub fn done(&self) -> bool {
        self.state == "done"
    }
}

/// A message the peer received.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Received {
    /// Its place, from 1.
    pub seq: u64,
    /// Its Message-ID, without `<>`.
    pub message_id: Option<String>,
    /// AS2-From.
    pub as2_from: Option<String>,
    /// AS2-To.
    pub as2_to: Option<String>,
    /// The HTTP Content-Type.
    pub http_content_type: Option<String>,
    /// The HTTP headers it came with, names lower case.
    pub http_headers: std::collections::BTreeMap<String, String>,
    /// The body's size.
    pub size: u64,
    /// pyas2lib's status: `processed`, `processed/Error`,
    /// `processed/Warning`, `failed/Failure`.
    pub status: String,
    /// The disposition modifier of a failure.
    pub detail: Option<String>,
    /// The exception pyas2lib raised (type and message).
    pub exception: Option<String>,
    /// A Message-ID processed before.
    pub duplicate: bool,
    /// It was signed.
    pub signed: bool,
    /// It was encrypted.
    pub encrypted: bool,
    /// It was compressed.
    pub compressed: bool,
    /// The signature's digest.
    pub digest_alg: Option<String>,
    /// The content cipher (asn1crypto's name: `aes128_cbc`, `aes256_cbc`).
    pub cipher: Option<String>,
    /// The key encryption (`rsaes_pkcs1v15`, `rsaes_oaep`).
    pub key_enc_alg: Option<String>,
    /// The MIC pyas2lib computed (base64), for a signed message.
    pub mic: Option<String>,
    /// The filename of its Content-Disposition.
    pub filename: Option<String>,
    /// The payload's content type.
    pub content_type: Option<String>,
    /// `sync`, `async` or `None` (no MDN asked).
    pub mdn_mode: Option<String>,
    /// Whether the MDN it answered is signed.
    pub mdn_signed: Option<bool>,
    /// The Receipt-Delivery-Option URL.
    pub mdn_url: Option<String>,
    /// A signed MDN was asked.
    pub mdn_requested_signed: bool,
    /// The Disposition of its MDN.
    pub mdn_disposition: Option<String>,
    /// What became of the async MDN: `{"url", "http_status"}` or
    /// `{"url", "error"}`; `None` before it was sent (or withheld).
    pub async_mdn: Option<Value>,
    /// What the peer did where pyas2lib could not (an unsigned MDN for
    /// an unknown AS2-From, where pyas2lib fails building a signed one).
    pub note: Option<String>,
    #[serde(rename = "payload_b64")]
    payload_b64: Option<String>,
    /// The payload, for a processed message.
    #[serde(skip)]
    pub payload: Option<Vec<u8>>,
}

/// Finds (or makes, once) the virtualenv's Python with pyas2lib.
fn python() -> Option<PathBuf> {
    static FOUND: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let venv = std::env::var_os("DROPGATE_TEST_AS2_PEERS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .unwrap_or_else(|| PathBuf::from(".cache"))
                    .join("dropgate-tools/as2-peers-venv")
            });
        let python = venv.join("bin/python");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lib/as2-peers.sh");
        if !python.is_file() && std::env::var_os("DROPGATE_TEST_AS2_PEERS").is_none() {
            // The venv is made as scripts/setup.sh would.
            let _ = Command::new(&script)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status();
        }
        if !python.is_file() {
            return Err(format!(
                "{} is not there ({} makes it)",
                python.display(),
                script.display()
            ));
        }
        match Command::new(&python)
            .args(["-c", "import pyas2lib, asn1crypto"])
            .stdin(Stdio::null())
            .output()
        {
            Ok(out) if out.status.success() => Ok(python),
            Ok(out) => Err(format!(
                "{} cannot import pyas2lib: {}",
                python.display(),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )),
            Err(e) => Err(format!("{} does not run: {e}", python.display())),
        }
    });
    match found {
        Ok(p) => Some(p.clone()),
        Err(why) => unavailable("the AS2 peer (pyas2lib in its virtualenv)", why),
    }
}

/// A running AS2 peer.
pub struct As2Peer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    keys: Arc<As2Keys>,
    options: As2PeerOptions,
}

impl As2Peer {
    /// Starts a peer on a free port of 127.0.0.1; `None` (after the skip
    /// convention) when pyas2lib or openssl is missing.
    pub fn start(options: As2PeerOptions) -> Result<Option<As2Peer>> {
        let Some(python) = python() else {
            return Ok(None);
        };
        let keys = match &options.keys {
            Some(k) => Arc::clone(k),
            None => match As2Keys::generate()? {
                Some(k) => k,
                None => return Ok(None),
            },
        };
        let dir = tempfile::tempdir()?;
        let key_spec = |pair: &KeyPair| match options.key_format {
            KeyFormat::Pkcs12 => json!({ "p12": pair.p12, "password": P12_PASSWORD }),
            KeyFormat::Pem => json!({ "key_pem": pair.key, "cert_pem": pair.cert }),
        };
        let own = keys.pair(&options.own_key)?;
        let wrong = keys.pair(&options.wrong_key)?;
        let gateway = keys.pair(&options.gateway_key)?;
        let mut send = options.send.to_json();
        send["content_type"] = json!(options.content_type);
        let config = json!({
            "work_dir": dir.path().join("work"),
            "port": 0,
            "as2_name": options.as2_name,
            "key": key_spec(own),
            "alt_key": key_spec(wrong),
            "partner": {
                "as2_name": options.gateway_as2_name,
                "cert": gateway.cert,
                "alt_cert": wrong.cert,
                "url": options.gateway_url,
                "validate_certs": options.validate_certs,
            },
            "send": send,
            "require": { "sign": options.require_signed, "encrypt": options.require_encrypted },
            "detect_duplicates": options.detect_duplicates,
            "async_mdn_delay_ms": options.async_mdn_delay.as_millis() as u64,
            "max_body_bytes": options.max_body_bytes,
        });
        let config_path = dir.path().join("peer.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
        let stderr = std::fs::File::create(dir.path().join("peer.stderr"))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/as2_peer.py");
        let mut child = Command::new(&python)
            .arg("-u")
            .arg(&script)
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the peer's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(dir.path().join("peer.stderr")).unwrap_or_default();
            return Err(format!("the AS2 peer did not start ({line:?}): {err}").into());
        };
        Ok(Some(As2Peer {
            child,
            port,
            dir,
            keys,
            options,
        }))
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the gateway POSTs its messages: `http://127.0.0.1:PORT/as2`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/as2", self.port)
    }

    /// Where the gateway POSTs asynchronous MDNs for the peer's messages
    /// (the peer's Receipt-Delivery-Option).
    pub fn mdn_url(&self) -> String {
        format!("http://127.0.0.1:{}/mdn", self.port)
    }

    /// Its AS2 name.
    pub fn as2_name(&self) -> &str {
        &self.options.as2_name
    }

    /// The key pairs.
    pub fn keys(&self) -> &Arc<As2Keys> {
        &self.keys
    }

    /// Its options.
    pub fn options(&self) -> &As2PeerOptions {
        &self.options
    }

    /// Its work folder (`inbox/`, `sent/`, `peer.log`).
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Its log (and standard error).
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(self.work_dir().join("peer.log")).unwrap_or_default();
        let err = std::fs::read_to_string(self.dir.path().join("peer.stderr")).unwrap_or_default();
        format!("{log}{err}")
    }

    /// Points it at the gateway's AS2 URL (127.0.0.1 only).
    pub fn set_gateway_url(&self, url: &str) -> Result<()> {
        self.control(
            "POST",
            "/_peer/config",
            Some(&json!({ "partner_url": url })),
            204,
        )?;
        Ok(())
    }

    /// Builds a message of `payload` with pyas2lib and POSTs it to the
    /// gateway; its Message-ID (without `<>`). Unless `no_wait`, the HTTP
    /// exchange (and a synchronous MDN's check) is over on return.
    pub fn send(&self, payload: &[u8], send: &Send) -> Result<String> {
        let record = self.control("POST", "/_peer/send", Some(&send.to_json(payload)), 200)?;
        record["message_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no message_id in {record}").into())
    }

    /// POSTs the message `id` again, byte for byte.
    pub fn replay(&self, id: &str) -> Result<()> {
        self.control(
            "POST",
            "/_peer/replay",
            Some(&json!({ "message_id": id, "wait": true })),
            200,
        )?;
        Ok(())
    }

    /// The message `id` once its latest exchange is over (its MDN came,
    /// or the exchange failed); an error after [`WAIT`].
    pub fn verdict(&self, id: &str) -> Result<Verdict> {
        let v = self.verdict_within(id, WAIT)?;
        if v.done() {
            Ok(v)
        } else {
            Err(format!("no verdict for {id} within {WAIT:?}: {v:?}\n{}", self.log()).into())
        }
    }

    /// The message `id` once its latest exchange is over or `within` has
    /// passed (then `done()` is false).
    pub fn verdict_within(&self, id: &str, within: Duration) -> Result<Verdict> {
        let deadline = Instant::now() + within;
        let path = format!("/_peer/messages/{}", encode(id));
        loop {
            let v: Verdict = serde_json::from_value(self.control("GET", &path, None, 200)?)?;
            if v.done() || Instant::now() >= deadline {
                return Ok(v);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Every message received so far, in order, with the payloads.
    pub fn inbox(&self) -> Result<Vec<Received>> {
        let all: Vec<Received> =
            serde_json::from_value(self.control("GET", "/_peer/inbox", None, 200)?)?;
        all.into_iter()
            .map(|mut r| {
                r.payload = r.payload_b64.take().map(|b| B64.decode(b)).transpose()?;
                Ok(r)
            })
            .collect()
    }

    /// The inbox once it holds `n` messages; an error after [`WAIT`].
    pub fn wait_inbox(&self, n: usize) -> Result<Vec<Received>> {
        let deadline = Instant::now() + WAIT;
        loop {
            let all = self.inbox()?;
            if all.len() >= n {
                return Ok(all);
            }
            if Instant::now() >= deadline {
                return Err(format!("{} messages, not {n}\n{}", all.len(), self.log()).into());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The received message with this Message-ID (its latest copy).
    pub fn received(&self, id: &str) -> Result<Received> {
        self.inbox()?
            .into_iter()
            .rev()
            .find(|r| r.message_id.as_deref() == Some(id))
            .ok_or_else(|| format!("{id} was not received\n{}", self.log()).into())
    }

    /// Waits until the async MDN of the received message `id` was sent
    /// (or failed to be); an error after [`WAIT`].
    pub fn wait_async_mdn(&self, id: &str) -> Result<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = self.received(id)?.async_mdn {
                return Ok(v);
            }
            if Instant::now() >= deadline {
                return Err(format!("no async MDN for {id}\n{}", self.log()).into());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Every MDN that came to `/mdn`: `{"status", "detail", "mdn",
    /// "matched"}`.
    pub fn mdns(&self) -> Result<Vec<Value>> {
        match self.control("GET", "/_peer/mdns", None, 200)? {
            Value::Array(v) => Ok(v),
            other => Err(format!("not a list: {other}").into()),
        }
    }

    /// Arms `fault` for the next `times` messages it receives (armed
    /// faults apply one after the other).
    pub fn fault(&self, fault: Fault, times: u32) -> Result<()> {
        let mut spec = fault.to_json();
        spec["times"] = json!(times);
        self.control("POST", "/_peer/faults", Some(&spec), 204)?;
        Ok(())
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) -> Result<()> {
        self.control("DELETE", "/_peer/faults", None, 204)?;
        Ok(())
    }

    /// One control call; its JSON answer (`Null` when empty).
    fn control(&self, method: &str, path: &str, body: Option<&Value>, want: u16) -> Result<Value> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, answer) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("{method} {path}: no answer"))?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{method} {path}: no status in {head:?}"))?;
        if status != want {
            return Err(format!("{method} {path}: {status} {answer}\n{}", self.log()).into());
        }
        if answer.trim().is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_str(answer)?)
    }
}

/// A Message-ID in a URL path.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

impl Drop for As2Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
