//! An AS2 partnership (RFC 4130) as a channel.
//!
//! Outbound, each delivery is one AS2 message built by [`crate::as2`]
//! (compressed, signed with our key and encrypted for the partner's
//! certificate, as the partnership says: [`As2Channel::prepare`]) and
//! POSTed to the partner's URL ([`As2Channel::post`]). The delivery is
//! made only when the partner's MDN says `processed`, its signature
//! verifies and it returns our MIC: a synchronous MDN comes in the answer;
//! an asynchronous one is posted later to `[as2] mdn_url`, where the
//! daemon matches it to its message (`daemon::as2`). Anything else (no
//! answer, an HTTP error, a negative or bad MDN, no asynchronous MDN
//! within `mdn_wait_secs`) fails the delivery, which the outbox retries
//! with its backoff. A retry sends the same message again under the same
//! Message-ID (it is made from the file's name and bytes), so that a
//! partner that got it the first time answers it without taking it
//! twice.
//!
//! Inbound, partners POST to the daemon's AS2 server (`daemon::as2`),
//! which finds the partnership by the message's AS2-From among the `as2`
//! channels and reads its certificate and what it requires from here.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::TransportError;
use crate::as2::mdn::{Expected, MdnOutcome};
use crate::as2::message::Outbound;
use crate::as2::mime::{Header, Limits};
use crate::as2::{
    Certificate, Cipher, Compression, DigestAlgorithm, Identity, MdnDelivery, MdnRequest,
    OutboundOptions, Policy,
};

/// A choice that may be turned off: `"sha256"` or `false`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum OrOff {
    /// `false` (or `true`, which takes the default).
    Flag(bool),
    /// A name.
    Name(String),
}

/// How the partner's MDN comes back.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MdnMode {
    /// In the answer to the POST.
    #[default]
    Sync,
    /// Posted later to our `[as2] mdn_url`: the delivery is made when it
    /// comes, or sent again after `mdn_wait_secs`.
    Async,
    /// No MDN asked for: the delivery is made on the HTTP answer.
    None,
}

/// Our side of every partnership (`[as2]` of `gateway.toml`), put into
/// each AS2 channel's configuration when it is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ours {
    /// Our AS2 identifier.
    pub as2_id: String,
    /// Our certificate (PEM or DER).
    pub certificate: PathBuf,
    /// Our private key (PEM: PKCS#8 or PKCS#1).
    pub private_key: PathBuf,
    /// Where partners post asynchronous MDNs to us.
    pub mdn_url: String,
}

/// An AS2 channel's configuration: one partnership.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct As2Config {
    /// The partner's AS2 identifier (its AS2-From, our AS2-To).
    pub as2_id: String,
    /// Where its AS2 server takes messages (`https://as2.acme.example/as2`);
    /// without it the channel only receives.
    #[serde(default)]
    pub url: Option<String>,
    /// The partner's certificate (PEM or DER): its signatures are checked
    /// against it, and what we send is encrypted for it.
    pub certificate: PathBuf,
    /// Sign what we send: `"sha256"` (the default), `"sha384"`, `"sha512"`,
    /// or `false`.
    #[serde(default)]
    pub sign: Option<OrOff>,
    /// Encrypt what we send: `"aes256-cbc"` (the default), `"aes192-cbc"`,
    /// `"aes128-cbc"`, `"aes256-gcm"`, `"aes128-gcm"` (RFC 5084; the
    /// partner must read AuthEnvelopedData), or `false`.
    #[serde(default)]
    pub encrypt: Option<OrOff>,
    /// Compress what we send (RFC 5402), before signing.
    #[serde(default)]
    pub compress: bool,
    /// The MDN we ask for: `"sync"` (the default), `"async"` (posted to
    /// `[as2] mdn_url`) or `"none"`.
    #[serde(default)]
    pub mdn: MdnMode,
    /// How long an asynchronous MDN may take, in seconds (an hour by
    /// default): without one by then the message is sent again.
    #[serde(default = "default_mdn_wait_secs")]
    pub mdn_wait_secs: u64,
    /// Ask for a signed MDN (the default), with our signing digest.
    #[serde(default = "yes")]
    pub mdn_signed: bool,
    /// Refuse a message from the partner that is not signed (the default).
    #[serde(default = "yes")]
    pub require_signed: bool,
    /// Refuse a message from the partner that is not encrypted (the
    /// default).
    #[serde(default = "yes")]
    pub require_encrypted: bool,
    /// The content type of what we send.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// How long one POST and its synchronous MDN may take, in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Our side, from `[as2]` (not written in the channel's table).
    #[serde(skip)]
    pub ours: Ours,
}

fn yes() -> bool {
    true
}

fn default_content_type() -> String {
    "application/edi-x12".into()
}

const fn default_timeout_secs() -> u64 {
    120
}

const fn default_mdn_wait_secs() -> u64 {
    3600
}

impl As2Config {
    /// The digest we sign with, if we sign.
    pub fn signing(&self) -> Result<Option<DigestAlgorithm>, String> {
        match &self.sign {
            None | Some(OrOff::Flag(true)) => Ok(Some(DigestAlgorithm::Sha256)),
            Some(OrOff::Flag(false)) => Ok(None),
            Some(OrOff::Name(n)) => match DigestAlgorithm::parse(n) {
                Ok(DigestAlgorithm::Sha1) => {
                    Err("sign = \"sha1\": sign with sha256 or better".to_string())
                }
                Ok(d) => Ok(Some(d)),
                Err(e) => Err(format!("sign: {e}")),
            },
        }
    }

    /// The cipher we encrypt with, if we encrypt.
    pub fn cipher(&self) -> Result<Option<Cipher>, String> {
        match &self.encrypt {
            None | Some(OrOff::Flag(true)) => Ok(Some(Cipher::Aes256Cbc)),
            Some(OrOff::Flag(false)) => Ok(None),
            Some(OrOff::Name(n)) => {
                match n.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                    "aes128-cbc" => Ok(Some(Cipher::Aes128Cbc)),
                    "aes192-cbc" => Ok(Some(Cipher::Aes192Cbc)),
                    "aes256-cbc" => Ok(Some(Cipher::Aes256Cbc)),
                    "aes128-gcm" => Ok(Some(Cipher::Aes128Gcm)),
                    "aes256-gcm" => Ok(Some(Cipher::Aes256Gcm)),
                    other => Err(format!(
                        "encrypt = {other:?}: one of \"aes128-cbc\", \"aes192-cbc\", \"aes256-cbc\", \"aes128-gcm\", \"aes256-gcm\" or false"
                    )),
                }
            }
        }
    }

    /// What is required of the partner's messages.
    pub fn policy(&self) -> Policy {
        Policy {
            require_signed: self.require_signed,
            require_encrypted: self.require_encrypted,
        }
    }

    /// Checks what can be checked before anything is sent: the name, the
    /// algorithms, the URL, and that the partner's certificate reads (our
    /// side is `[as2]`'s, checked there).
    pub fn check(&self) -> Result<(), String> {
        crate::as2::message::check_as2_name(&self.as2_id).map_err(|e| e.to_string())?;
        self.signing()?;
        self.cipher()?;
        if let Some(url) = &self.url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("url {url:?} is not an http:// or https:// URL"));
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        if self.mdn_wait_secs == 0 {
            return Err("mdn_wait_secs must be at least 1".into());
        }
        self.partner_certificate()?;
        Ok(())
    }

    /// The partner's certificate.
    pub fn partner_certificate(&self) -> Result<Certificate, String> {
        let bytes = std::fs::read(&self.certificate)
            .map_err(|e| format!("certificate {}: {e}", self.certificate.display()))?;
        Certificate::from_pem_or_der(&bytes)
            .map_err(|e| format!("certificate {}: {e}", self.certificate.display()))
    }

    /// Our certificate and key.
    pub fn identity(&self) -> Result<Identity, String> {
        load_identity(&self.ours)
    }
}

/// Our certificate and key, read from `[as2]`'s files.
pub fn load_identity(ours: &Ours) -> Result<Identity, String> {
    let cert = std::fs::read(&ours.certificate)
        .map_err(|e| format!("[as2] certificate {}: {e}", ours.certificate.display()))?;
    let key = std::fs::read(&ours.private_key)
        .map_err(|e| format!("[as2] private_key {}: {e}", ours.private_key.display()))?;
    Identity::from_pem_or_der(&cert, &key).map_err(|e| format!("[as2]: {e}"))
}

/// The Message-ID of `file` with `bytes` sent from `ours`: the same for
/// a retry, another for other bytes.
pub fn message_id(file: &str, bytes: &[u8], ours: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(file.as_bytes());
    h.update([0]);
    h.update(bytes);
    let digest = h.finalize();
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let host: String = ours
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("dropgate-{hex}@{host}")
}

/// An AS2 channel at work.
#[derive(Debug)]
pub struct As2Channel {
    name: String,
    config: As2Config,
    client: Option<reqwest::Client>,
}

impl As2Channel {
    /// The channel `name`.
    pub fn new(name: &str, config: As2Config) -> As2Channel {
        As2Channel {
            name: name.to_string(),
            config,
            client: None,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its configuration.
    pub fn config(&self) -> &As2Config {
        &self.config
    }

    fn error(&self, doing: &str, kind: std::io::ErrorKind, message: String) -> TransportError {
        TransportError {
            channel: self.name.clone(),
            doing: doing.to_string(),
            source: std::io::Error::new(kind, message),
        }
    }

    fn client(&mut self) -> Result<reqwest::Client, String> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let c = reqwest::Client::builder()
            .timeout(Duration::from_secs(self.config.timeout_secs.max(1)))
            .build()
            .map_err(|e| format!("starting the HTTP client: {e}"))?;
        self.client = Some(c.clone());
        Ok(c)
    }

    /// Builds the message that sends `bytes` as `file`: the same
    /// Message-ID and MIC for the same file and bytes.
    pub fn prepare(&self, file: &str, bytes: &[u8]) -> Result<Outbound, TransportError> {
        let doing = format!("sending {file} by AS2 to {}", self.config.as2_id);
        let invalid = |m: String| self.error(&doing, std::io::ErrorKind::InvalidInput, m);
        let sign = self.config.signing().map_err(invalid)?;
        let encrypt = self.config.cipher().map_err(invalid)?;
        let partner = self.config.partner_certificate().map_err(invalid)?;
        let us = self.config.identity().map_err(invalid)?;
        let signed = self
            .config
            .mdn_signed
            .then(|| sign.unwrap_or(DigestAlgorithm::Sha256));
        let mdn = |delivery| MdnRequest {
            notification_to: "dropgate".into(),
            signed,
            delivery,
        };
        let options = OutboundOptions {
            from: self.config.ours.as2_id.clone(),
            to: self.config.as2_id.clone(),
            message_id: message_id(file, bytes, &self.config.ours.as2_id),
            subject: format!("AS2 message {file}"),
            filename: Some(file.to_string()),
            content_type: self.config.content_type.clone(),
            sign,
            encrypt,
            compress: self.config.compress.then_some(Compression::BeforeSigning),
            mdn: match self.config.mdn {
                MdnMode::None => None,
                MdnMode::Sync => Some(mdn(MdnDelivery::Sync)),
                MdnMode::Async => Some(mdn(MdnDelivery::Async {
                    url: self.config.ours.mdn_url.clone(),
                })),
            },
        };
        let mut rng = crate::as2::system_rng();
        crate::as2::message::build(bytes, &options, &us, &partner, SystemTime::now(), &mut rng)
            .map_err(|e| invalid(e.to_string()))
    }

    /// What an MDN of `message` must match.
    pub fn expected<'a>(&self, message: &'a Outbound) -> Expected<'a> {
        Expected {
            message_id: &message.message_id,
            mic: message.signed.then_some(&message.mic),
            signed_mdn: self.config.mdn_signed,
        }
    }

    /// Reads and verifies an MDN of a message sent on this channel.
    pub fn read_mdn(
        &self,
        headers: &[Header],
        body: &[u8],
        expected: &Expected<'_>,
    ) -> Result<MdnOutcome, BadMdn> {
        let partner = self
            .config
            .partner_certificate()
            .map_err(BadMdn::Certificate)?;
        Ok(crate::as2::mdn::parse(
            headers,
            body,
            &partner,
            expected,
            SystemTime::now(),
            &Limits::default(),
        )?)
    }

    /// POSTs `message` to the partner: its synchronous MDN, verified (it
    /// may say the message was not processed), or `Posted::Accepted` when
    /// the MDN comes later or none was asked for.
    pub async fn post(&mut self, file: &str, message: &Outbound) -> Result<Posted, TransportError> {
        use std::io::ErrorKind;
        let doing = format!("sending {file} by AS2 to {}", self.config.as2_id);
        let url = self.config.url.clone().ok_or_else(|| {
            self.error(
                &doing,
                ErrorKind::Unsupported,
                "the channel has no url: it only receives".into(),
            )
        })?;
        let client = self
            .client()
            .map_err(|e| self.error(&doing, ErrorKind::Other, e))?;
        let mut request = client.post(&url);
        for (name, value) in &message.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let answer = request
            .body(message.body.clone())
            .send()
            .await
            .map_err(|e| {
                let kind = if e.is_timeout() {
                    ErrorKind::TimedOut
                } else {
                    ErrorKind::ConnectionRefused
                };
                self.error(&doing, kind, format!("posting to {url}: {e}"))
            })?;
        let status = answer.status();
        let headers: Vec<Header> = answer
            .headers()
            .iter()
            .map(|(n, v)| Header {
                name: n.as_str().to_string(),
                value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
            })
            .collect();
        let body = answer.bytes().await.map_err(|e| {
            self.error(
                &doing,
                ErrorKind::ConnectionAborted,
                format!("reading {url}'s answer: {e}"),
            )
        })?;
        if !status.is_success() {
            return Err(self.error(&doing, ErrorKind::Other, format!("{url} answered {status}")));
        }
        if self.config.mdn != MdnMode::Sync {
            return Ok(Posted::Accepted);
        }
        let outcome = self
            .read_mdn(&headers, &body, &self.expected(message))
            .map_err(|e| self.error(&doing, ErrorKind::InvalidData, e.to_string()))?;
        Ok(Posted::Receipt {
            outcome,
            raw: mdn_record(&headers, &body),
        })
    }

    /// Sends `bytes` as `file`: done when the partner's synchronous MDN
    /// says it was processed and returns our MIC (or, without a
    /// synchronous MDN, when the partner's server took it).
    pub async fn deliver(&mut self, file: &str, bytes: &[u8]) -> Result<(), TransportError> {
        let message = self.prepare(file, bytes)?;
        match self.post(file, &message).await? {
            Posted::Accepted => Ok(()),
            Posted::Receipt { outcome, .. } if outcome.report.disposition.taken() => Ok(()),
            Posted::Receipt { outcome, .. } => Err(self.error(
                &format!("sending {file} by AS2 to {}", self.config.as2_id),
                std::io::ErrorKind::Other,
                format!(
                    "the partner's MDN says {}: not taken",
                    outcome.report.disposition.says()
                ),
            )),
        }
    }
}

/// Why an MDN of a message we sent is not taken.
#[derive(Debug, thiserror::Error)]
pub enum BadMdn {
    /// The partner's certificate cannot be read.
    #[error("{0}")]
    Certificate(String),
    /// It does not verify, or does not answer the message.
    #[error("the partner's MDN: {0}")]
    Mdn(#[from] crate::as2::mdn::MdnError),
}

/// POSTs an MDN kept by [`mdn_record`] to a partner's URL (an
/// asynchronous MDN we owe it): done on a 2xx answer.
pub async fn post_mdn(
    client: &reqwest::Client,
    url: &str,
    record: &[u8],
) -> Result<(), TransportError> {
    let error = |kind, message: String| TransportError {
        channel: "as2-mdn".into(),
        doing: format!("posting an MDN to {url}"),
        source: std::io::Error::new(kind, message),
    };
    let (headers, body) = mdn_from_record(record);
    let mut request = client.post(url);
    for h in &headers {
        request = request.header(h.name.as_str(), h.value.as_str());
    }
    let answer = request
        .body(body)
        .send()
        .await
        .map_err(|e| error(std::io::ErrorKind::ConnectionRefused, e.to_string()))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(error(
            std::io::ErrorKind::Other,
            format!("answered {}", answer.status()),
        ))
    }
}

/// What posting a message came to.
#[derive(Debug)]
pub enum Posted {
    /// The partner's synchronous MDN, verified, and as received (its
    /// header fields, an empty line, its body).
    Receipt {
        /// What it says.
        outcome: MdnOutcome,
        /// The MDN as received, to keep.
        raw: Vec<u8>,
    },
    /// The partner's server took it; the MDN comes later, or none was
    /// asked for.
    Accepted,
}

/// An MDN's HTTP header fields and body as one record to keep (header
/// lines, an empty line, the body); [`mdn_from_record`] reads it back.
pub fn mdn_record(headers: &[Header], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for h in headers {
        out.extend_from_slice(format!("{}: {}\r\n", h.name, h.value).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// The header fields and body of an MDN kept by [`mdn_record`].
pub fn mdn_from_record(kept: &[u8]) -> (Vec<Header>, Vec<u8>) {
    let split = kept
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(kept.len());
    let head = String::from_utf8_lossy(&kept[..split]);
    let headers = head
        .split("\r\n")
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect();
    let body = kept.get(split + 4..).unwrap_or_default().to_vec();
    (headers, body)
}
