//! A file to send sealed: encrypted for the partner's keys (and ours, so
//! that the gateway can read back what it sent), signed with our key,
//! binary or in ASCII armour; SEIPD version 1 with AES-256, which every
//! OpenPGP implementation in use (GnuPG 2.2 and 2.4 among them) reads.

use pgp::composed::{ArmorOptions, MessageBuilder};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;

use super::keys::{KeyError, PublicKey, SecretKey};

/// How a file is sealed.
#[derive(Debug)]
pub struct Seal<'a> {
    /// The partner keys it is encrypted for; none: it is only signed.
    pub to: &'a [PublicKey],
    /// Our key: added as a recipient when encrypting (so that the file
    /// reads back), and the signer when `sign`.
    pub ours: Option<&'a SecretKey>,
    /// Whether it is signed with `ours`.
    pub sign: bool,
    /// ASCII armour instead of binary.
    pub armor: bool,
    /// The name put in the literal data.
    pub file_name: &'a str,
    /// The time keys are valid at (seconds since 1970).
    pub now: i64,
}

/// Why a file cannot be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A key cannot do its part.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Asked to sign without a key of ours.
    #[error("signing needs our secret key (secret_key)")]
    NoSigningKey,
    /// Neither encrypted nor signed: nothing to do.
    #[error("neither encrypting (no partner key) nor signing: nothing to seal with")]
    Nothing,
    /// rPGP failed.
    #[error("sealing failed: {0}")]
    Failed(String),
}

/// Seals `bytes` as `how` says.
pub fn seal<R>(bytes: &[u8], how: &Seal<'_>, mut rng: R) -> Result<Vec<u8>, SealError>
where
    R: rand_core06::RngCore + rand_core06::CryptoRng,
{
    let failed = |e: pgp::errors::Error| SealError::Failed(e.to_string());
    let signer = match (how.sign, how.ours) {
        (false, _) => None,
        (true, None) => return Err(SealError::NoSigningKey),
        (true, Some(ours)) => Some((ours.signer(how.now)?, ours.passphrase())),
    };
    let mut recipients = Vec::new();
    for key in how.to {
        recipients.extend(key.encryption_keys(how.now)?);
    }
    let ours_public = how.ours.map(SecretKey::public);
    if !recipients.is_empty()
        && let Some(ours) = &ours_public
    {
        // Ours may have expired for encryption: the partner's keys still
        // get the file, we only cannot read it back.
        recipients.extend(ours.encryption_keys(how.now).unwrap_or_default());
    }
    let name = how.file_name.as_bytes().to_vec();
    let out = if recipients.is_empty() {
        let Some((key, pw)) = signer else {
            return Err(SealError::Nothing);
        };
        let mut builder = MessageBuilder::from_bytes(name, bytes.to_vec());
        builder.sign(key, pw, HashAlgorithm::Sha256);
        finish(builder, how.armor, &mut rng).map_err(failed)?
    } else {
        let mut builder = MessageBuilder::from_bytes(name, bytes.to_vec())
            .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        for key in recipients {
            builder.encrypt_to_key(&mut rng, key).map_err(failed)?;
        }
        if let Some((key, pw)) = signer {
            builder.sign(key, pw, HashAlgorithm::Sha256);
        }
        finish(builder, how.armor, &mut rng).map_err(failed)?
    };
    Ok(out)
}

/// The message written, armoured or not.
fn finish<R, E>(
    builder: MessageBuilder<'_, pgp::composed::DummyReader, E>,
    armor: bool,
    rng: R,
) -> pgp::errors::Result<Vec<u8>>
where
    R: rand_core06::RngCore + rand_core06::CryptoRng,
    E: pgp::composed::Encryption,
{
    match armor {
        true => builder
            .to_armored_string(rng, ArmorOptions::default())
            .map(String::into_bytes),
        false => builder.to_vec(rng),
    }
}
