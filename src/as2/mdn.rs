//! MDNs (RFC 3798/8098 as profiled by RFC 4130 section 7): a
//! multipart/report with a human-readable part and a
//! message/disposition-notification part, signed when the sender asked;
//! built for a received message, and read back (signature verified,
//! Original-Message-ID and MIC compared with the message sent).

use std::time::SystemTime;

use super::CryptoRng;
use super::keys::{Certificate, Identity, KeyError};
use super::message::{
    AS2_VERSION, Envelope, Inbound, InboundError, http_date, quote_as2_name, unquote_as2_name,
    verify_canonical,
};
use super::mic::{DigestAlgorithm, Mic, MicError};
use super::mime::{self, Entity, Header, Limits, MimeError};
use super::smime::{self, SmimeError};

/// The error modifiers of RFC 4130 section 7.4.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispositionModifier {
    AuthenticationFailed,
    DecompressionFailed,
    DecryptionFailed,
    InsufficientMessageSecurity,
    IntegrityCheckFailed,
    UnexpectedProcessingError,
}

impl DispositionModifier {
    pub fn as_str(self) -> &'static str {
        match self {
            DispositionModifier::AuthenticationFailed => "authentication-failed",
            DispositionModifier::DecompressionFailed => "decompression-failed",
            DispositionModifier::DecryptionFailed => "decryption-failed",
            DispositionModifier::InsufficientMessageSecurity => "insufficient-message-security",
            DispositionModifier::IntegrityCheckFailed => "integrity-check-failed",
            DispositionModifier::UnexpectedProcessingError => "unexpected-processing-error",
        }
    }
}

/// What an MDN says happened to the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `processed`.
    Processed,
    /// `processed/error: <modifier>` (as written, lower case).
    Error(String),
    /// `processed/warning: <text>`.
    Warning(String),
    /// `failed/failure: <text>` or another disposition type.
    Failed(String),
}

impl Disposition {
    /// An error disposition with a standard modifier.
    pub fn error(modifier: DispositionModifier) -> Disposition {
        Disposition::Error(modifier.as_str().to_string())
    }

    fn field(&self) -> String {
        format!("automatic-action/MDN-sent-automatically; {}", self.says())
    }

    /// What it says, as in the field (`processed/error: decryption-failed`).
    pub fn says(&self) -> String {
        match self {
            Disposition::Processed => "processed".to_string(),
            Disposition::Error(m) => format!("processed/error: {m}"),
            Disposition::Warning(m) => format!("processed/warning: {m}"),
            Disposition::Failed(m) => format!("failed/failure: {m}"),
        }
    }

    /// Whether the message was taken: `processed`, with or without a
    /// warning (RFC 4130 section 7.4.3).
    pub fn taken(&self) -> bool {
        matches!(self, Disposition::Processed | Disposition::Warning(_))
    }

    fn parse(value: &str) -> Disposition {
        let kind = value.rsplit_once(';').map_or(value, |(_, k)| k).trim();
        let (kind, detail) = match kind.split_once(':') {
            Some((k, d)) => (k.trim().to_ascii_lowercase(), d.trim().to_string()),
            None => (kind.to_ascii_lowercase(), String::new()),
        };
        match kind.as_str() {
            "processed" => Disposition::Processed,
            "processed/error" => Disposition::Error(detail.to_ascii_lowercase()),
            "processed/warning" => Disposition::Warning(detail),
            _ if detail.is_empty() => Disposition::Failed(kind),
            _ => Disposition::Failed(detail),
        }
    }
}

/// The fields of an MDN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdnReport {
    pub reporting_ua: String,
    /// Our AS2 identifier (the message's AS2-To).
    pub original_recipient: String,
    pub final_recipient: String,
    /// Without the angle brackets.
    pub original_message_id: String,
    pub mic: Option<Mic>,
    pub disposition: Disposition,
}

impl MdnReport {
    /// The report that a message was received and processed: its MIC
    /// returned.
    pub fn processed(inbound: &Inbound, reporting_ua: &str) -> MdnReport {
        MdnReport {
            reporting_ua: reporting_ua.to_string(),
            original_recipient: inbound.envelope.to.clone(),
            final_recipient: inbound.envelope.to.clone(),
            original_message_id: inbound.envelope.message_id.clone(),
            mic: Some(inbound.mic.clone()),
            disposition: Disposition::Processed,
        }
    }

    /// The report that a message was refused: `processed/error` with the
    /// modifier of `error`, no MIC.
    pub fn refused(envelope: &Envelope, error: &InboundError, reporting_ua: &str) -> MdnReport {
        MdnReport {
            reporting_ua: reporting_ua.to_string(),
            original_recipient: envelope.to.clone(),
            final_recipient: envelope.to.clone(),
            original_message_id: envelope.message_id.clone(),
            mic: None,
            disposition: Disposition::error(error.modifier()),
        }
    }
}

/// A built MDN: HTTP header fields and body.
#[derive(Clone, Debug)]
pub struct Mdn {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub message_id: String,
}

/// An MDN read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdnOutcome {
    pub report: MdnReport,
    /// The digest of its signature, when signed.
    pub signed: Option<DigestAlgorithm>,
}

impl MdnOutcome {
    /// Whether the message was processed without error.
    pub fn processed(&self) -> bool {
        self.report.disposition == Disposition::Processed
    }
}

/// Why an MDN cannot be built or is bad.
#[derive(Debug, thiserror::Error)]
pub enum MdnError {
    #[error("the MDN's MIME structure: {0}")]
    Mime(#[from] MimeError),
    #[error("the MDN's signature: {0}")]
    Signature(SmimeError),
    #[error("the MDN is not a multipart/report (found {0})")]
    NotAReport(String),
    #[error("the MDN has no message/disposition-notification part")]
    NoNotification,
    #[error("the MDN has no {0} field")]
    MissingField(&'static str),
    #[error("the MDN's MIC: {0}")]
    Mic(#[from] MicError),
    #[error("a signed MDN was asked for, and this one is not signed")]
    Unsigned,
    #[error("the MDN answers message <{found}>, not <{expected}>")]
    WrongMessage { expected: String, found: String },
    #[error(
        "the MDN returns MIC {found}, not the message's {expected}: the partner did not receive what was sent"
    )]
    MicMismatch { expected: String, found: String },
    #[error("the message was signed and the MDN returns no MIC")]
    NoMic,
    #[error("the partner's certificate: {0}")]
    PartnerCertificate(KeyError),
}

const TEXT_PROCESSED: &str = "The AS2 message has been received and processed.";
const TEXT_FAILED: &str = "The AS2 message could not be processed. The disposition-notification report has additional details.";

/// Builds the MDN `report` from `from` (us) to `to` (the partner), signed
/// with our key when `sign` says so.
pub fn build(
    report: &MdnReport,
    from: &str,
    to: &str,
    message_id: &str,
    sign: Option<(DigestAlgorithm, &Identity)>,
    now: SystemTime,
    rng: &mut impl CryptoRng,
) -> Result<Mdn, MdnError> {
    let text = if report.disposition == Disposition::Processed {
        TEXT_PROCESSED
    } else {
        TEXT_FAILED
    };
    let human = mime::write_entity(
        &[
            ("Content-Type", "text/plain; charset=us-ascii"),
            ("Content-Transfer-Encoding", "7bit"),
        ],
        format!("{text}\r\n").as_bytes(),
    )?;
    let mut fields = vec![
        ("Reporting-UA", report.reporting_ua.clone()),
        (
            "Original-Recipient",
            format!("rfc822; {}", report.original_recipient),
        ),
        (
            "Final-Recipient",
            format!("rfc822; {}", report.final_recipient),
        ),
        (
            "Original-Message-ID",
            format!("<{}>", report.original_message_id),
        ),
        ("Disposition", report.disposition.field()),
    ];
    if let Some(mic) = &report.mic {
        fields.push(("Received-Content-MIC", mic.to_string()));
    }
    let mut notification_body = Vec::new();
    let field_refs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    mime::write_headers(&mut notification_body, &field_refs)?;
    let notification = mime::write_entity(
        &[
            ("Content-Type", "message/disposition-notification"),
            ("Content-Transfer-Encoding", "7bit"),
        ],
        &notification_body,
    )?;
    let boundary = mime::new_boundary(rng, &[&human, &notification]);
    let mut content_type =
        format!("multipart/report; report-type=disposition-notification; boundary=\"{boundary}\"");
    let mut body = mime::write_multipart_body(&boundary, &[&human, &notification]);
    if let Some((algorithm, us)) = sign {
        let report_entity = mime::write_entity(&[("Content-Type", &content_type)], &body)?;
        let signature =
            smime::sign(&report_entity, algorithm, us, now, rng).map_err(MdnError::Signature)?;
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
        let outer = mime::new_boundary(rng, &[&report_entity, &signature_part]);
        content_type = format!(
            "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}; boundary=\"{outer}\"",
            algorithm.name()
        );
        body = mime::write_multipart_body(&outer, &[&report_entity, &signature_part]);
    }
    let headers = vec![
        ("AS2-Version".to_string(), AS2_VERSION.to_string()),
        ("AS2-From".into(), quote_as2_name(from)),
        ("AS2-To".into(), quote_as2_name(to)),
        ("Message-ID".into(), format!("<{message_id}>")),
        ("Subject".into(), "AS2 MDN".into()),
        ("Date".into(), http_date(now)),
        ("MIME-Version".into(), "1.0".into()),
        ("Content-Type".into(), content_type),
    ];
    Ok(Mdn {
        headers,
        body,
        message_id: message_id.to_string(),
    })
}

/// What the MDN of a sent message must match.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    /// The sent message's ID, without angle brackets.
    pub message_id: &'a str,
    /// The sent message's MIC when it was signed: a `processed` MDN must
    /// return it. (An unsigned message's MIC is not checked.)
    pub mic: Option<&'a Mic>,
    /// Whether we asked for a signed MDN.
    pub signed_mdn: bool,
}

/// The Original-Message-ID of an MDN, read without verifying anything:
/// which message it answers, to find the partnership whose certificate
/// then verifies it with [`parse`].
pub fn original_message_id(
    headers: &[Header],
    body: &[u8],
    limits: &Limits,
) -> Result<String, MdnError> {
    Ok(read(headers, body, None, limits)?.0.original_message_id)
}

/// Reads an MDN's report; its signature, when it has one, verified with
/// `verify`'s certificate (valid at its time), or not looked at without.
fn read(
    headers: &[Header],
    body: &[u8],
    verify: Option<(&Certificate, SystemTime)>,
    limits: &Limits,
) -> Result<(MdnReport, Option<DigestAlgorithm>), MdnError> {
    let content_headers: Vec<(&str, &str)> = headers
        .iter()
        .filter(|h| h.name.to_ascii_lowercase().starts_with("content-"))
        .map(|h| (h.name.as_str(), h.value.as_str()))
        .collect();
    let raw = mime::write_entity(&content_headers, body)?;
    let outer = Entity::parse(&raw, limits)?;
    let outer_type = outer.content_type()?;
    let mut signed = None;
    let covered;
    let report = if outer_type.is("multipart/signed") {
        let parts = outer.parts(limits)?;
        let [content, signature] = parts.as_slice() else {
            return Err(MdnError::NotAReport(format!(
                "multipart/signed with {} parts",
                parts.len()
            )));
        };
        match verify {
            Some((partner, now)) => {
                partner
                    .check_valid_at(now)
                    .map_err(MdnError::PartnerCertificate)?;
                let signature = signature.decoded_body()?;
                let (algorithm, bytes) = verify_canonical(content.raw(), &signature, partner)
                    .map_err(MdnError::Signature)?;
                signed = Some(algorithm);
                covered = bytes;
            }
            None => covered = content.raw().to_vec(),
        }
        Entity::parse(&covered, limits)?
    } else {
        outer
    };
    let report_type = report.content_type()?;
    if !report_type.is("multipart/report") {
        return Err(MdnError::NotAReport(report_type.mime));
    }
    let parts = report.parts(limits)?;
    let notification = parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_ok_and(|t| t.is("message/disposition-notification"))
        })
        .ok_or(MdnError::NoNotification)?;
    let mut fields_raw = notification.decoded_body()?.into_owned();
    fields_raw.extend_from_slice(b"\r\n\r\n");
    let fields = Entity::parse(&fields_raw, limits)?;
    let field = |name: &'static str| fields.header(name).ok_or(MdnError::MissingField(name));
    let recipient = |value: &str| unquote_as2_name(value.split_once(';').map_or(value, |(_, r)| r));
    let original_message_id = field("Original-Message-ID")?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    let mic = fields
        .header("Received-Content-MIC")
        .map(Mic::parse)
        .transpose()?;
    let report = MdnReport {
        reporting_ua: fields
            .header("Reporting-UA")
            .unwrap_or_default()
            .to_string(),
        original_recipient: fields
            .header("Original-Recipient")
            .map(recipient)
            .unwrap_or_default(),
        final_recipient: recipient(field("Final-Recipient")?),
        original_message_id,
        mic,
        disposition: Disposition::parse(field("Disposition")?),
    };
    Ok((report, signed))
}

/// Reads an MDN (HTTP header fields and body), verifies its signature
/// with the partner's certificate, and checks it answers `expected`.
pub fn parse(
    headers: &[Header],
    body: &[u8],
    partner: &Certificate,
    expected: &Expected<'_>,
    now: SystemTime,
    limits: &Limits,
) -> Result<MdnOutcome, MdnError> {
    let (report, signed) = read(headers, body, Some((partner, now)), limits)?;
    if expected.signed_mdn && signed.is_none() {
        return Err(MdnError::Unsigned);
    }
    if report.original_message_id != expected.message_id {
        return Err(MdnError::WrongMessage {
            expected: expected.message_id.to_string(),
            found: report.original_message_id,
        });
    }
    // A `processed` MDN returns the MIC; one with a warning (a duplicate
    // of a message taken before) may not, but a MIC it returns must match.
    if let Some(mic) = expected.mic
        && report.disposition.taken()
    {
        match &report.mic {
            Some(found) if found.digest != mic.digest => {
                return Err(MdnError::MicMismatch {
                    expected: mic.to_string(),
                    found: found.to_string(),
                });
            }
            None if report.disposition == Disposition::Processed => {
                return Err(MdnError::NoMic);
            }
            _ => {}
        }
    }
    Ok(MdnOutcome { report, signed })
}
