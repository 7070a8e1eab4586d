//! An AS2 message (RFC 4130) built from a payload and opened on receipt.
//!
//! Building follows pyas2lib's order: the payload entity (sent
//! `Content-Transfer-Encoding: binary`, so it arrives byte for byte), then
//! compression (before signing, or after it), the signature
//! (multipart/signed), encryption (application/pkcs7-mime), and the AS2
//! header fields. The outermost entity's header fields become HTTP header
//! fields and its body the HTTP body.
//!
//! Opening undoes the layers in whatever order they came, verifies the
//! signature against the partner's certificate, computes the MIC to
//! return, and maps each failure to the MDN disposition modifier that
//! names it ([`InboundError::modifier`]).

use std::time::SystemTime;

use super::CryptoRng;
use super::keys::{Certificate, Identity, KeyError};
use super::mdn::DispositionModifier;
use super::mic::{DigestAlgorithm, Mic};
use super::mime::{self, Entity, Header, Limits, MimeError};
pub use super::smime::Cipher;
use super::smime::{self, SmimeError};

/// The AS2 version we speak (1.2: compression, RFC 5402).
pub const AS2_VERSION: &str = "1.2";

/// Where compression goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Compress the payload, then sign (pyas2lib's way; RFC 5402 3.2).
    BeforeSigning,
    /// Sign, then compress the signed entity.
    AfterSigning,
}

/// How the MDN comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MdnDelivery {
    /// In the HTTP response.
    Sync,
    /// Posted later to this URL (`Receipt-Delivery-Option`).
    Async { url: String },
}

/// An MDN asked for by a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdnRequest {
    /// `Disposition-Notification-To` (an address; AS2 ignores its value).
    pub notification_to: String,
    /// A signed MDN with this digest, or an unsigned one.
    pub signed: Option<DigestAlgorithm>,
    pub delivery: MdnDelivery,
}

/// What to build.
#[derive(Clone, Debug)]
pub struct OutboundOptions {
    pub from: String,
    pub to: String,
    /// Without the angle brackets.
    pub message_id: String,
    pub subject: String,
    pub filename: Option<String>,
    pub content_type: String,
    pub sign: Option<DigestAlgorithm>,
    pub encrypt: Option<Cipher>,
    pub compress: Option<Compression>,
    pub mdn: Option<MdnRequest>,
}

/// A built message: HTTP header fields and body, and what the MDN must
/// return.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub message_id: String,
    /// The MIC the partner's MDN must return.
    pub mic: Mic,
    pub signed: bool,
}

/// Why a message cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Header(#[from] MimeError),
    #[error("{0}")]
    Smime(#[from] SmimeError),
    #[error("{which} certificate: {source}")]
    Certificate {
        which: &'static str,
        source: KeyError,
    },
    #[error(
        "the AS2 identifier {0:?} is empty, longer than 128 characters or has a control character"
    )]
    As2Name(String),
}

/// One MIME layer: header fields and body.
struct Layer {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Layer {
    fn bytes(&self) -> Result<Vec<u8>, MimeError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        mime::write_entity(&headers, &self.body)
    }
}

fn pkcs7_mime(smime_type: &str, file: &str, der: Vec<u8>) -> Layer {
    Layer {
        headers: vec![
            (
                "Content-Type".into(),
                format!("application/pkcs7-mime; smime-type={smime_type}; name={file}"),
            ),
            ("Content-Transfer-Encoding".into(), "binary".into()),
            (
                "Content-Disposition".into(),
                format!("attachment; filename={file}"),
            ),
        ],
        body: der,
    }
}

/// An AS2 identifier as a header value: quoted when it has a space, a
/// quote or a backslash (RFC 4130 6.2).
pub fn quote_as2_name(name: &str) -> String {
    if name.contains([' ', '"', '\\']) {
        mime::param_value(name)
    } else {
        name.to_string()
    }
}

/// An AS2 identifier read from a header value.
pub fn unquote_as2_name(value: &str) -> String {
    let v = value.trim();
    match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_string(),
    }
}

pub fn check_as2_name(name: &str) -> Result<(), BuildError> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(BuildError::As2Name(name.to_string()));
    }
    Ok(())
}

/// `now` as an RFC 5322 date in UTC.
pub fn http_date(now: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(now)
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// Builds a message from `payload`: signed with our key, encrypted for
/// the partner's certificate, as `options` say.
pub fn build(
    payload: &[u8],
    options: &OutboundOptions,
    us: &Identity,
    partner: &Certificate,
    now: SystemTime,
    rng: &mut impl CryptoRng,
) -> Result<Outbound, BuildError> {
    check_as2_name(&options.from)?;
    check_as2_name(&options.to)?;
    let mut headers = vec![
        ("Content-Type".to_string(), options.content_type.clone()),
        ("Content-Transfer-Encoding".into(), "binary".into()),
    ];
    if let Some(name) = &options.filename {
        headers.push((
            "Content-Disposition".into(),
            format!("attachment; filename={}", mime::param_value(name)),
        ));
    }
    let mut layer = Layer {
        headers,
        body: payload.to_vec(),
    };
    let unsigned_mic = |layer: &Layer, algorithm| -> Result<Mic, MimeError> {
        // RFC 4130 7.3.1: the content alone, or the whole entity when it
        // is encrypted.
        Ok(if options.encrypt.is_some() {
            Mic::compute(algorithm, &layer.bytes()?)
        } else {
            Mic::compute(algorithm, payload)
        })
    };
    let mic_algorithm = options
        .mdn
        .as_ref()
        .and_then(|m| m.signed)
        .or(options.sign)
        .unwrap_or(DigestAlgorithm::Sha256);
    let mut mic = unsigned_mic(&layer, mic_algorithm)?;
    if options.compress == Some(Compression::BeforeSigning) {
        layer = pkcs7_mime(
            "compressed-data",
            "smime.p7z",
            smime::compress(&layer.bytes()?)?,
        );
    }
    if let Some(algorithm) = options.sign {
        us.certificate()
            .check_valid_at(now)
            .map_err(|source| BuildError::Certificate {
                which: "our signing",
                source,
            })?;
        let content = layer.bytes()?;
        let signature = smime::sign(&content, algorithm, us, now, rng)?;
        let signature_part = mime::write_entity(
            &[
                (
                    "Content-Type",
                    "application/pkcs7-signature; name=smime.p7s; smime-type=signed-data",
                ),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", "attachment; filename=smime.p7s"),
            ],
            &mime::encode_base64(&signature),
        )?;
        let boundary = mime::new_boundary(rng, &[&content, &signature_part]);
        mic = Mic::compute(algorithm, &content);
        layer = Layer {
            headers: vec![(
                "Content-Type".into(),
                format!(
                    "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}; boundary=\"{boundary}\"",
                    algorithm.name()
                ),
            )],
            body: mime::write_multipart_body(&boundary, &[&content, &signature_part]),
        };
    }
    if options.compress == Some(Compression::AfterSigning) {
        layer = pkcs7_mime(
            "compressed-data",
            "smime.p7z",
            smime::compress(&layer.bytes()?)?,
        );
    }
    if let Some(cipher) = options.encrypt {
        partner
            .check_valid_at(now)
            .map_err(|source| BuildError::Certificate {
                which: "the partner's encryption",
                source,
            })?;
        if options.sign.is_none() {
            mic = unsigned_mic(&layer, mic_algorithm)?;
        }
        layer = pkcs7_mime(
            cipher.smime_type(),
            "smime.p7m",
            smime::encrypt(&layer.bytes()?, cipher, partner, rng)?,
        );
    }
    let mut http = vec![
        ("AS2-Version".to_string(), AS2_VERSION.to_string()),
        ("AS2-From".into(), quote_as2_name(&options.from)),
        ("AS2-To".into(), quote_as2_name(&options.to)),
        ("Message-ID".into(), format!("<{}>", options.message_id)),
        ("Subject".into(), options.subject.clone()),
        ("Date".into(), http_date(now)),
        ("MIME-Version".into(), "1.0".into()),
    ];
    if let Some(mdn) = &options.mdn {
        http.push((
            "Disposition-Notification-To".into(),
            mdn.notification_to.clone(),
        ));
        if let Some(algorithm) = mdn.signed {
            http.push((
                "Disposition-Notification-Options".into(),
                format!(
                    "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, {}",
                    algorithm.name()
                ),
            ));
        }
        if let MdnDelivery::Async { url } = &mdn.delivery {
            http.push(("Receipt-Delivery-Option".into(), url.clone()));
        }
    }
    http.extend(layer.headers);
    // Refuse a header value that would inject a line.
    let check: Vec<(&str, &str)> = http.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    mime::write_headers(&mut Vec::new(), &check)?;
    Ok(Outbound {
        headers: http,
        body: layer.body,
        message_id: options.message_id.clone(),
        mic,
        signed: options.sign.is_some(),
    })
}

/// The AS2 header fields of a received message, read before anything is
/// opened (to find the partnership and answer even a broken message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: String,
    /// Without the angle brackets.
    pub message_id: String,
    pub subject: Option<String>,
    pub mdn: Option<MdnRequest>,
}

/// What is required of an inbound message from this partner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub require_signed: bool,
    pub require_encrypted: bool,
}

/// Our side and the partner's for opening a message: our key, the
/// partner's certificate, what is required, and the bounds.
#[derive(Clone, Copy, Debug)]
pub struct Receiving<'a> {
    pub us: &'a Identity,
    pub partner: &'a Certificate,
    pub policy: Policy,
    pub limits: &'a Limits,
}

/// A received, opened message.
#[derive(Clone, Debug)]
pub struct Inbound {
    pub envelope: Envelope,
    pub payload: Vec<u8>,
    pub filename: Option<String>,
    pub content_type: String,
    pub signed: Option<DigestAlgorithm>,
    pub encrypted: Option<Cipher>,
    pub compressed: bool,
    /// The MIC to return in the MDN.
    pub mic: Mic,
}

/// Why a received message is refused; [`InboundError::modifier`] is what
/// the MDN says.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("the message has no {0} header")]
    MissingHeader(&'static str),
    #[error("unknown AS2 partnership: AS2-From {from:?}, AS2-To {to:?}")]
    UnknownPartner { from: String, to: String },
    #[error("the message's MIME structure: {0}")]
    Mime(#[from] MimeError),
    #[error("decryption failed: {0}")]
    Decryption(SmimeError),
    #[error("decompression failed: {0}")]
    Decompression(SmimeError),
    #[error("the signature: {0}")]
    Signature(SmimeError),
    #[error("the partner's certificate: {0}")]
    PartnerCertificate(KeyError),
    #[error("insufficient message security: {0}")]
    InsufficientSecurity(&'static str),
    #[error("unexpected structure: {0}")]
    Structure(String),
    #[error("the message or its content is larger than {limit} bytes")]
    TooLarge { limit: usize },
}

impl InboundError {
    /// The disposition modifier of the MDN that answers this failure.
    pub fn modifier(&self) -> DispositionModifier {
        match self {
            InboundError::UnknownPartner { .. } | InboundError::PartnerCertificate(_) => {
                DispositionModifier::AuthenticationFailed
            }
            InboundError::Decryption(_) => DispositionModifier::DecryptionFailed,
            InboundError::Decompression(_) => DispositionModifier::DecompressionFailed,
            InboundError::Signature(SmimeError::ContentAltered { .. }) => {
                DispositionModifier::IntegrityCheckFailed
            }
            InboundError::Signature(_) => DispositionModifier::AuthenticationFailed,
            InboundError::InsufficientSecurity(_) => {
                DispositionModifier::InsufficientMessageSecurity
            }
            InboundError::MissingHeader(_)
            | InboundError::Mime(_)
            | InboundError::Structure(_)
            | InboundError::TooLarge { .. } => DispositionModifier::UnexpectedProcessingError,
        }
    }
}

/// Reads the AS2 header fields.
pub fn envelope(headers: &[Header]) -> Result<Envelope, InboundError> {
    let get = |name| mime::header(headers, name);
    let from = get("as2-from").ok_or(InboundError::MissingHeader("AS2-From"))?;
    let to = get("as2-to").ok_or(InboundError::MissingHeader("AS2-To"))?;
    let message_id = get("message-id").ok_or(InboundError::MissingHeader("Message-ID"))?;
    let mdn = get("disposition-notification-to").map(|to| MdnRequest {
        notification_to: to.to_string(),
        signed: get("disposition-notification-options").and_then(signed_receipt),
        delivery: match get("receipt-delivery-option") {
            Some(url) if !url.trim().is_empty() => MdnDelivery::Async {
                url: url.trim().to_string(),
            },
            _ => MdnDelivery::Sync,
        },
    });
    Ok(Envelope {
        from: unquote_as2_name(from),
        to: unquote_as2_name(to),
        message_id: message_id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string(),
        subject: get("subject").map(str::to_string),
        mdn,
    })
}

/// Whether `Disposition-Notification-Options` asks for a signed MDN
/// (RFC 4130 7.3), and with which digest: the first one of
/// `signed-receipt-micalg` that we sign with, else SHA-256.
fn signed_receipt(options: &str) -> Option<DigestAlgorithm> {
    let lower = options.to_ascii_lowercase();
    if !lower.contains("signed-receipt-protocol") && !lower.contains("signed-receipt-micalg") {
        return None;
    }
    let requested = options
        .split(';')
        .find(|p| {
            p.trim()
                .to_ascii_lowercase()
                .starts_with("signed-receipt-micalg")
        })
        .and_then(|p| p.split_once('='))
        .and_then(|(_, values)| {
            let mut values = values.split(',').map(str::trim);
            let _importance = values.next();
            values.find_map(|v| DigestAlgorithm::parse(v).ok().filter(|d| d.signs()))
        });
    Some(requested.unwrap_or(DigestAlgorithm::Sha256))
}

/// Opens a received message (its HTTP header fields and body) with our
/// key and the partner's certificate, the time `now` (for the partner
/// certificate's validity).
pub fn open(
    headers: &[Header],
    body: &[u8],
    receiving: &Receiving<'_>,
    now: SystemTime,
    rng: &mut impl CryptoRng,
) -> Result<Inbound, InboundError> {
    let Receiving {
        us,
        partner,
        policy,
        limits,
    } = *receiving;
    let envelope = envelope(headers)?;
    if body.len() > limits.max_content_bytes {
        return Err(InboundError::TooLarge {
            limit: limits.max_content_bytes,
        });
    }
    let mic_algorithm = envelope
        .mdn
        .as_ref()
        .and_then(|m| m.signed)
        .unwrap_or(DigestAlgorithm::Sha256);
    // The outer entity: the HTTP body under the HTTP content fields.
    let content_headers: Vec<(&str, &str)> = headers
        .iter()
        .filter(|h| h.name.to_ascii_lowercase().starts_with("content-"))
        .map(|h| (h.name.as_str(), h.value.as_str()))
        .collect();
    let mut raw = mime::write_entity(&content_headers, body)?;
    let (mut signed, mut encrypted, mut compressed) = (None, None, false);
    let mut mic = None;
    for _ in 0..=limits.max_depth {
        let entity = Entity::parse(&raw, limits)?;
        let content_type = entity.content_type()?;
        let smime_type = content_type
            .param("smime-type")
            .map(str::to_ascii_lowercase);
        let pkcs7 = content_type.is("application/pkcs7-mime")
            || content_type.is("application/x-pkcs7-mime");
        if pkcs7
            && matches!(
                smime_type.as_deref(),
                Some("enveloped-data" | "authenveloped-data")
            )
        {
            if encrypted.is_some() || signed.is_some() {
                return Err(InboundError::Structure(
                    "encryption inside another layer".into(),
                ));
            }
            let der = entity.decoded_body()?;
            let (cipher, content) =
                smime::decrypt(&der, us, rng).map_err(InboundError::Decryption)?;
            if content.len() > limits.max_content_bytes {
                return Err(InboundError::TooLarge {
                    limit: limits.max_content_bytes,
                });
            }
            encrypted = Some(cipher);
            if signed.is_none() {
                mic = Some(Mic::compute(mic_algorithm, &content));
            }
            raw = content;
        } else if pkcs7 && smime_type.as_deref() == Some("compressed-data") {
            if compressed {
                return Err(InboundError::Structure("compressed twice".into()));
            }
            let der = entity.decoded_body()?;
            raw = smime::decompress(&der, limits.max_content_bytes)
                .map_err(InboundError::Decompression)?;
            compressed = true;
        } else if content_type.is("multipart/signed") {
            if signed.is_some() {
                return Err(InboundError::Structure("signed twice".into()));
            }
            let parts = entity.parts(limits)?;
            let [content, signature] = parts.as_slice() else {
                return Err(InboundError::Structure(format!(
                    "multipart/signed with {} parts, not 2",
                    parts.len()
                )));
            };
            let signature_type = signature.content_type()?;
            if !signature_type.is("application/pkcs7-signature")
                && !signature_type.is("application/x-pkcs7-signature")
            {
                return Err(InboundError::Structure(format!(
                    "the signature part is {}",
                    signature_type.mime
                )));
            }
            partner
                .check_valid_at(now)
                .map_err(InboundError::PartnerCertificate)?;
            let signature = signature.decoded_body()?;
            let (algorithm, covered) = verify_canonical(content.raw(), &signature, partner)
                .map_err(InboundError::Signature)?;
            mic = Some(Mic::compute(algorithm, &covered));
            signed = Some(algorithm);
            raw = content.raw().to_vec();
        } else {
            if policy.require_encrypted && encrypted.is_none() {
                return Err(InboundError::InsufficientSecurity(
                    "the message is not encrypted",
                ));
            }
            if policy.require_signed && signed.is_none() {
                return Err(InboundError::InsufficientSecurity(
                    "the message is not signed",
                ));
            }
            let payload = entity.decoded_body()?.into_owned();
            let filename = entity
                .header("content-disposition")
                .and_then(mime::disposition_filename);
            let mic = mic.unwrap_or_else(|| Mic::compute(mic_algorithm, &payload));
            return Ok(Inbound {
                envelope,
                filename,
                content_type: content_type.mime,
                payload,
                signed,
                encrypted,
                compressed,
                mic,
            });
        }
    }
    Err(InboundError::Mime(MimeError::TooDeep {
        limit: limits.max_depth,
    }))
}

/// Verifies `content` as received and, when that fails on a message with
/// bare LF line ends, in canonical CRLF form; gives the algorithm and the
/// bytes the signature covers.
pub(crate) fn verify_canonical(
    content: &[u8],
    signature: &[u8],
    partner: &Certificate,
) -> Result<(DigestAlgorithm, Vec<u8>), SmimeError> {
    match smime::verify(content, signature, partner) {
        Ok(algorithm) => Ok((algorithm, content.to_vec())),
        Err(first) => {
            let canonical = mime::canonical_crlf(content);
            if canonical.as_ref() == content {
                return Err(first);
            }
            smime::verify(&canonical, signature, partner)
                .map(|algorithm| (algorithm, canonical.into_owned()))
                .map_err(|_| first)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_receipt_is_read_from_the_options_as_partners_write_them() {
        let pyas2lib = "signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=optional, sha256";
        assert_eq!(signed_receipt(pyas2lib), Some(DigestAlgorithm::Sha256));
        let list = "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, md5, sha-1, sha-512";
        assert_eq!(signed_receipt(list), Some(DigestAlgorithm::Sha512));
        let unknown = "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, md5";
        assert_eq!(signed_receipt(unknown), Some(DigestAlgorithm::Sha256));
        assert_eq!(signed_receipt(""), None);
    }

    #[test]
    fn as2_names_with_spaces_are_quoted_and_read_back() {
        assert_eq!(quote_as2_name("ACME"), "ACME");
        assert_eq!(quote_as2_name("ACME CO \"X\""), "\"ACME CO \\\"X\\\"\"");
        assert_eq!(
            unquote_as2_name(&quote_as2_name("ACME CO \"X\"")),
            "ACME CO \"X\""
        );
    }
}
