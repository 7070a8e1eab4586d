//! Keys read from their bytes (ASCII armour or binary, as `gpg --export`
//! and `gpg --export-secret-keys` write them): our secret key, unlocked
//! with its passphrase, and a partner's public key; each checked (its
//! self-signatures) when read, and described by its fingerprint and
//! first user ID for messages and the audit trail.

use pgp::composed::{Deserializable, SignedPublicKey, SignedSecretKey};
use pgp::packet::Signature;
use pgp::types::{KeyDetails, Password};

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not an OpenPGP key of the kind expected.
    #[error("not an OpenPGP {what} (armoured or binary): {reason}")]
    Unreadable {
        /// "secret key" or "public key".
        what: &'static str,
        /// rPGP's words.
        reason: String,
    },
    /// A self-signature does not verify: the key was altered.
    #[error("the key {key} does not verify (its self-signatures are broken): {reason}")]
    Broken {
        /// The key's fingerprint.
        key: String,
        /// rPGP's words.
        reason: String,
    },
    /// The passphrase does not unlock the secret key.
    #[error("the passphrase does not unlock the secret key {key}{}", if *.given { "" } else { " (the key is protected and no passphrase is configured: passphrase_env or passphrase_file)" })]
    Passphrase {
        /// The key's fingerprint.
        key: String,
        /// Whether a passphrase was given at all.
        given: bool,
    },
    /// The key has no part that may do what is asked.
    #[error("the key {key} has no {what} key that is valid now")]
    NoKeyFor {
        /// The key's fingerprint.
        key: String,
        /// "encryption" or "signing".
        what: &'static str,
    },
}

/// Our secret key and its passphrase.
#[derive(Debug)]
pub struct SecretKey {
    key: SignedSecretKey,
    passphrase: String,
}

/// A partner's public key.
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: SignedPublicKey,
}

/// When a component made at `created` with the key-expiration subpacket of
/// `signature` expires, in seconds since 1970; `None`: never.
fn expiry(created: u32, signature: Option<&Signature>) -> Option<i64> {
    let secs = signature?.key_expiration_time()?.as_secs();
    (secs != 0).then_some(i64::from(created) + i64::from(secs))
}

/// The latest of a component's binding signatures.
fn latest(signatures: &[Signature]) -> Option<&Signature> {
    signatures
        .iter()
        .max_by_key(|s| s.created().map(|t| t.as_secs()).unwrap_or(0))
}

/// The signature that says what the primary key may do: its user IDs'
/// latest self-signature (the primary user ID's first), else a direct one.
fn primary_binding(details: &pgp::composed::SignedKeyDetails) -> Option<&Signature> {
    details
        .users
        .iter()
        .filter_map(|u| latest(&u.signatures))
        .max_by_key(|s| s.is_primary())
        .or_else(|| latest(&details.direct_signatures))
}

/// A key named for people: fingerprint and first user ID.
fn describe(fingerprint: String, details: &pgp::composed::SignedKeyDetails) -> String {
    match details.users.first().map(|u| u.id.id()) {
        Some(id) => format!("{fingerprint} ({})", String::from_utf8_lossy(id)),
        None => fingerprint,
    }
}

/// A key ID in upper-case hex, as GnuPG prints it.
pub(super) fn key_id(id: &pgp::types::KeyId) -> String {
    id.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// Whether `at` (seconds since 1970) is before `expires`.
fn valid_at(expires: Option<i64>, at: i64) -> bool {
    expires.is_none_or(|e| at < e)
}

impl SecretKey {
    /// Reads a secret key and checks that `passphrase` unlocks it (an
    /// unprotected key needs none).
    pub fn read(bytes: &[u8], passphrase: Option<&str>) -> Result<SecretKey, KeyError> {
        let (key, _) =
            SignedSecretKey::from_reader_single(bytes).map_err(|e| KeyError::Unreadable {
                what: "secret key",
                reason: e.to_string(),
            })?;
        let fingerprint = format!("{:X}", key.fingerprint());
        key.verify_bindings().map_err(|e| KeyError::Broken {
            key: fingerprint.clone(),
            reason: e.to_string(),
        })?;
        let passphrase_given = passphrase.is_some();
        let passphrase = passphrase.unwrap_or_default().to_string();
        let password = Password::from(passphrase.as_str());
        let unlocked = key
            .primary_key
            .unlock(&password, |_, _| Ok(()))
            .map(|r| r.is_ok())
            .unwrap_or(false)
            && key.secret_subkeys.iter().all(|s| {
                s.key
                    .unlock(&password, |_, _| Ok(()))
                    .map(|r| r.is_ok())
                    .unwrap_or(false)
            });
        if !unlocked {
            return Err(KeyError::Passphrase {
                key: fingerprint,
                given: passphrase_given,
            });
        }
        Ok(SecretKey { key, passphrase })
    }

    /// Its fingerprint, in upper-case hex.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.key.fingerprint())
    }

    /// Its fingerprint and first user ID.
    pub fn describe(&self) -> String {
        describe(self.fingerprint(), &self.key.details)
    }

    /// Its public half (what the partner encrypts to).
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.to_public_key(),
        }
    }

    /// When it expires (seconds since 1970), if it does.
    pub fn expires(&self) -> Option<i64> {
        self.public().expires()
    }

    /// Its public half in ASCII armour: what is sent to a partner.
    pub fn public_armored(&self) -> Vec<u8> {
        self.key
            .to_public_key()
            .to_armored_bytes(pgp::composed::ArmorOptions::default())
            .unwrap_or_default()
    }

    pub(super) fn signed(&self) -> &SignedSecretKey {
        &self.key
    }

    pub(super) fn passphrase(&self) -> Password {
        Password::from(self.passphrase.as_str())
    }

    /// The key that signs at `now`: the primary key if it may sign, else
    /// the first signing subkey valid then.
    pub(super) fn signer(&self, now: i64) -> Result<&dyn pgp::types::SigningKey, KeyError> {
        let primary = primary_binding(&self.key.details);
        let created = self.key.primary_key.created_at().as_secs();
        if primary.is_some_and(|s| s.key_flags().sign()) && valid_at(expiry(created, primary), now)
        {
            return Ok(&self.key.primary_key);
        }
        self.key
            .secret_subkeys
            .iter()
            .find(|s| {
                let binding = latest(&s.signatures);
                binding.is_some_and(|b| b.key_flags().sign())
                    && valid_at(expiry(s.key.created_at().as_secs(), binding), now)
            })
            .map(|s| &s.key as &dyn pgp::types::SigningKey)
            .ok_or(KeyError::NoKeyFor {
                key: self.fingerprint(),
                what: "signing",
            })
    }
}

impl PublicKey {
    /// Reads a public key (a certificate).
    pub fn read(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let (key, _) =
            SignedPublicKey::from_reader_single(bytes).map_err(|e| KeyError::Unreadable {
                what: "public key",
                reason: e.to_string(),
            })?;
        key.verify_bindings().map_err(|e| KeyError::Broken {
            key: format!("{:X}", key.fingerprint()),
            reason: e.to_string(),
        })?;
        Ok(PublicKey { key })
    }

    /// Its fingerprint, in upper-case hex.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.key.fingerprint())
    }

    /// Its fingerprint and first user ID.
    pub fn describe(&self) -> String {
        describe(self.fingerprint(), &self.key.details)
    }

    /// When the key as a whole expires (seconds since 1970), if it does.
    pub fn expires(&self) -> Option<i64> {
        expiry(
            self.key.primary_key.created_at().as_secs(),
            primary_binding(&self.key.details),
        )
    }

    /// Whether one of its keys (the primary or a subkey) has this
    /// fingerprint or, for a 16-hex-digit `id`, this key ID.
    pub(super) fn has(&self, id: &str) -> bool {
        let mut all = vec![(
            format!("{:X}", self.key.primary_key.fingerprint()),
            key_id(&self.key.primary_key.legacy_key_id()),
        )];
        all.extend(self.key.public_subkeys.iter().map(|s| {
            (
                format!("{:X}", s.key.fingerprint()),
                key_id(&s.key.legacy_key_id()),
            )
        }));
        all.iter()
            .any(|(f, k)| f.eq_ignore_ascii_case(id) || k.eq_ignore_ascii_case(id))
    }

    /// The keys a signature of this partner may be made with: the primary
    /// and every subkey (whether one may sign is the signer's to know; a
    /// signature that verifies with one of them is the partner's).
    pub(super) fn verifiers(&self) -> Vec<&dyn pgp::types::VerifyingKey> {
        let mut keys: Vec<&dyn pgp::types::VerifyingKey> = vec![&self.key.primary_key];
        keys.extend(
            self.key
                .public_subkeys
                .iter()
                .map(|s| &s.key as &dyn pgp::types::VerifyingKey),
        );
        keys
    }

    /// The keys to encrypt for at `now`: its subkeys for encryption valid
    /// then, else the primary key if it may encrypt.
    pub(super) fn encryption_keys(
        &self,
        now: i64,
    ) -> Result<Vec<&pgp::composed::SignedPublicSubKey>, KeyError> {
        let whole = valid_at(self.expires(), now);
        let found: Vec<_> = self
            .key
            .public_subkeys
            .iter()
            .filter(|s| {
                let binding = latest(&s.signatures);
                whole
                    && binding.is_some_and(|b| {
                        let flags = b.key_flags();
                        flags.encrypt_comms() || flags.encrypt_storage()
                    })
                    && valid_at(expiry(s.key.created_at().as_secs(), binding), now)
            })
            .collect();
        match found.is_empty() {
            false => Ok(found),
            true => Err(KeyError::NoKeyFor {
                key: self.fingerprint(),
                what: "encryption",
            }),
        }
    }
}
