//! A received OpenPGP message opened: read (armoured or binary),
//! decrypted with our secret key, decompressed, its content read under a
//! limit and its signature checked against the partner's public keys.
//! Every failure is an [`OpenError`] that says what to do about it.

use std::io::Read;

use pgp::composed::{DecryptionOptions, Esk, Message, TheRing};

use super::keys::{PublicKey, SecretKey};

/// Whether a message must be signed by the partner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signatures {
    /// Checked when there is one; an unsigned message is taken.
    #[default]
    Optional,
    /// An unsigned message is refused.
    Required,
}

/// What was opened.
#[derive(Debug)]
pub struct Opened {
    /// The content: the literal data.
    pub content: Vec<u8>,
    /// Whether it came in ASCII armour.
    pub armored: bool,
    /// The key it was decrypted with (fingerprint and user ID); `None`
    /// for a message that was only signed.
    pub decrypted_with: Option<String>,
    /// The partner key whose signature verified (fingerprint and user ID);
    /// `None` for an unsigned message, or one whose signature was not
    /// checked.
    pub signed_by: Option<String>,
    /// The keys a signature names that was not checked: no partner key
    /// was given, and none was required.
    pub unchecked_signers: Option<String>,
    /// The file name the sender put in the literal data, if any.
    pub literal_name: Option<String>,
}

/// Why a message cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not an OpenPGP message at all, or one that does not parse.
    #[error("not a readable OpenPGP message: {0}")]
    Unreadable(String),
    /// Encrypted, and we have no secret key.
    #[error(
        "the file is encrypted (for {recipients}) and the channel has no secret key to decrypt it"
    )]
    NoSecretKey {
        /// The key IDs it is encrypted for.
        recipients: String,
    },
    /// Encrypted for other keys than ours.
    #[error(
        "the file is encrypted for {recipients}, not for our key {ours}: the partner used an old or wrong key of ours (send it our public key), or the channel's secret_key is not the one the partner has"
    )]
    NotForUs {
        /// The key IDs it is encrypted for.
        recipients: String,
        /// Our key.
        ours: String,
    },
    /// Decryption failed (corrupt data, a failed integrity check).
    #[error("decrypting with our key {ours} failed: {reason}")]
    Decrypt {
        /// Our key.
        ours: String,
        /// rPGP's words.
        reason: String,
    },
    /// The content is larger than allowed.
    #[error("the decrypted content is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Unsigned where a signature is required.
    #[error(
        "the file is not signed, and the channel requires the partner's signature (signature = \"required\")"
    )]
    Unsigned,
    /// Signed, but by a key that is not one of the partner's.
    #[error(
        "the file is signed by key {issuers}, which is not among the partner's keys ({known}): add the partner's new public key to partner_keys if it is theirs"
    )]
    UnknownSigner {
        /// The issuers the signature names.
        issuers: String,
        /// The partner keys configured.
        known: String,
    },
    /// The signature does not verify.
    #[error(
        "the signature of key {issuers} does not verify: the file was altered after it was signed, or the signature is not for this content"
    )]
    BadSignature {
        /// The issuers the signature names.
        issuers: String,
    },
}

/// The fingerprint-or-key-ID list of `ids`, for messages.
fn list(ids: &[String]) -> String {
    match ids.is_empty() {
        true => "no key named".into(),
        false => ids.join(", "),
    }
}

/// The key IDs a message is encrypted for.
fn recipients(esk: &[Esk]) -> Vec<String> {
    esk.iter()
        .map(|e| match e {
            Esk::PublicKeyEncryptedSessionKey(p) => p
                .fingerprint()
                .ok()
                .flatten()
                .map(|f| format!("{f:X}"))
                .or_else(|| p.id().ok().map(super::keys::key_id))
                .unwrap_or_else(|| "an anonymous recipient".into()),
            Esk::SymKeyEncryptedSessionKey(_) => "a password".into(),
        })
        .collect()
}

/// Opens `bytes` with our key `ours` (for an encrypted message) and checks
/// its signature against `theirs` as `signatures` says; the content may
/// be at most `limit` bytes.
pub fn open(
    bytes: &[u8],
    ours: Option<&SecretKey>,
    theirs: &[PublicKey],
    signatures: Signatures,
    limit: u64,
) -> Result<Opened, OpenError> {
    let unreadable = |e: pgp::errors::Error| OpenError::Unreadable(e.to_string());
    let (mut message, headers) = Message::from_reader(bytes).map_err(unreadable)?;
    let armored = headers.is_some();
    let mut decrypted_with = None;
    if let Message::Encrypted { esk, .. } = &message {
        let to = recipients(esk);
        let Some(key) = ours else {
            return Err(OpenError::NoSecretKey {
                recipients: list(&to),
            });
        };
        let password = key.passphrase();
        let ring = TheRing {
            secret_keys: vec![key.signed()],
            key_passwords: vec![&password],
            decrypt_options: DecryptionOptions::new().enable_gnupg_aead(),
            ..Default::default()
        };
        message = match message.decrypt_the_ring(ring, true) {
            Ok((m, _)) => m,
            Err(pgp::errors::Error::MissingKey) => {
                return Err(OpenError::NotForUs {
                    recipients: list(&to),
                    ours: key.describe(),
                });
            }
            Err(e) => {
                return Err(OpenError::Decrypt {
                    ours: key.describe(),
                    reason: e.to_string(),
                });
            }
        };
        decrypted_with = Some(key.describe());
    }
    // Compressed around the signature (GnuPG), or inside it.
    for _ in 0..4 {
        if !message.is_compressed() {
            break;
        }
        message = message.decompress().map_err(unreadable)?;
    }
    let literal_name = message
        .literal_data_header()
        .map(|h| String::from_utf8_lossy(h.file_name()).into_owned())
        .filter(|n| !n.is_empty());
    let mut content = Vec::new();
    let read = (&mut message)
        .take(limit.saturating_add(1))
        .read_to_end(&mut content);
    if let Err(e) = read {
        return Err(match decrypted_with {
            Some(ours) => OpenError::Decrypt {
                ours,
                reason: e.to_string(),
            },
            None => OpenError::Unreadable(e.to_string()),
        });
    }
    if content.len() as u64 > limit {
        return Err(OpenError::TooLarge { limit });
    }
    let mut unchecked_signers = None;
    let signed_by = match &message {
        Message::Signed { reader, .. }
            if theirs.is_empty() && signatures == Signatures::Optional =>
        {
            unchecked_signers = Some(list(&issuers_of(reader)));
            None
        }
        Message::Signed { reader, .. } => {
            let issuers = issuers_of(reader);
            let verified = theirs.iter().find(|partner| {
                partner.verifiers().into_iter().any(|k| {
                    message.verify_nested(&[k]).is_ok_and(|r| {
                        r.iter()
                            .any(|v| matches!(v, pgp::composed::VerificationResult::Valid(_)))
                    })
                })
            });
            match verified {
                Some(partner) => Some(partner.describe()),
                None if theirs.iter().any(|p| issuers.iter().any(|i| p.has(i))) => {
                    return Err(OpenError::BadSignature {
                        issuers: list(&issuers),
                    });
                }
                None => {
                    return Err(OpenError::UnknownSigner {
                        issuers: list(&issuers),
                        known: list(
                            &theirs
                                .iter()
                                .map(PublicKey::fingerprint)
                                .collect::<Vec<_>>(),
                        ),
                    });
                }
            }
        }
        _ => None,
    };
    if signed_by.is_none() && signatures == Signatures::Required {
        return Err(OpenError::Unsigned);
    }
    Ok(Opened {
        content,
        armored,
        decrypted_with,
        signed_by,
        unchecked_signers,
        literal_name,
    })
}

/// The keys a message's signatures name (their issuer fingerprints, else
/// key IDs).
fn issuers_of(reader: &pgp::composed::SignatureManyReader<'_>) -> Vec<String> {
    (0..reader.num_signatures())
        .filter_map(|i| reader.signature(i))
        .flat_map(|s| {
            let ids: Vec<String> = s
                .issuer_fingerprint()
                .iter()
                .map(|f| format!("{f:X}"))
                .collect();
            match ids.is_empty() {
                false => ids,
                true => s
                    .issuer_key_id()
                    .into_iter()
                    .map(super::keys::key_id)
                    .collect(),
            }
        })
        .collect()
}
