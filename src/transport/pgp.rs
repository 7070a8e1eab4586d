//! A channel's OpenPGP settings, `[channel.NAME.pgp]`: our secret key and
//! its passphrase (from the environment or a file, through `secret`), the
//! partner's public keys, what an inbound file must be (encrypted, signed)
//! and how an outbound file is sealed (encrypted, signed, armoured, the
//! suffix of its name); and the keys read from their files
//! ([`PgpConfig::load`]) for the daemon and `check-config`. The OpenPGP
//! itself is `crate::pgp`'s.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::pgp::{KeyError, PublicKey, SecretKey, Signatures};

use super::secret;

/// What is done with a file that is not an OpenPGP message on a channel
/// with PGP.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unencrypted {
    /// Quarantined: the partnership says files are encrypted.
    #[default]
    Quarantine,
    /// Taken as it is (a partner moving to PGP, or sending some files
    /// plain).
    Accept,
}

/// `[channel.NAME.pgp]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PgpConfig {
    /// Our secret key (armoured or binary): decrypts what comes in, signs
    /// what goes out.
    #[serde(default)]
    pub secret_key: Option<PathBuf>,
    /// The environment variable holding its passphrase.
    #[serde(default)]
    pub passphrase_env: Option<String>,
    /// Or the file holding it.
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// The partner's public keys: its signatures are checked against them,
    /// and what goes out is encrypted for them.
    #[serde(default)]
    pub partner_keys: Vec<PathBuf>,
    /// Whether an inbound file must be signed by the partner.
    #[serde(default)]
    pub signature: Signatures,
    /// What becomes of an inbound file that is not OpenPGP.
    #[serde(default)]
    pub unencrypted: Unencrypted,
    /// Outbound files encrypted for `partner_keys` (default: when there
    /// are partner keys).
    #[serde(default)]
    pub encrypt: Option<bool>,
    /// Outbound files signed with `secret_key` (default: when there is a
    /// secret key and outbound files are encrypted).
    #[serde(default)]
    pub sign: Option<bool>,
    /// Outbound files in ASCII armour rather than binary.
    #[serde(default)]
    pub armor: bool,
    /// Added to an outbound file's name (`.pgp`, `.gpg`, `.asc`).
    #[serde(default)]
    pub suffix: Option<String>,
    /// The largest decrypted content taken, in MB (it is held in memory).
    #[serde(default = "default_max_mb")]
    pub max_mb: u64,
}

fn default_max_mb() -> u64 {
    256
}

const PASSPHRASE: secret::Keys = secret::Keys {
    env: "passphrase_env",
    file: "passphrase_file",
};

/// The keys of a channel, read.
#[derive(Debug)]
pub struct PgpKeys {
    /// Ours.
    pub ours: Option<SecretKey>,
    /// The partner's.
    pub theirs: Vec<PublicKey>,
}

/// Why a channel's keys cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PgpKeyError {
    /// A key file cannot be read.
    #[error("reading {what} {}: {source}", .path.display())]
    Read {
        /// `secret_key` or `partner_keys`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The passphrase cannot be read.
    #[error("the passphrase of secret_key: {0}")]
    Passphrase(std::io::Error),
    /// A key file is not a usable key.
    #[error("{what} {}: {source}", .path.display())]
    Key {
        /// `secret_key` or `partner_keys`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: KeyError,
    },
}

impl PgpConfig {
    /// Resolves its paths against `resolve` (the folder of
    /// `gateway.toml`).
    pub fn resolve(&mut self, resolve: impl Fn(&Path) -> PathBuf) {
        self.secret_key = self.secret_key.as_deref().map(&resolve);
        self.passphrase_file = self.passphrase_file.as_deref().map(&resolve);
        self.partner_keys = self.partner_keys.iter().map(|p| resolve(p)).collect();
    }

    /// Whether outbound files are encrypted.
    pub fn encrypts(&self) -> bool {
        self.encrypt.unwrap_or(!self.partner_keys.is_empty())
    }

    /// Whether outbound files are signed.
    pub fn signs(&self) -> bool {
        self.sign
            .unwrap_or(self.secret_key.is_some() && self.encrypts())
    }

    /// Whether outbound files are sealed at all.
    pub fn seals(&self) -> bool {
        self.encrypts() || self.signs()
    }

    /// The name an outbound file `name` is delivered under.
    pub fn outbound_name(&self, name: &str) -> String {
        match (&self.suffix, self.seals()) {
            (Some(s), true) => format!("{name}{s}"),
            _ => name.to_string(),
        }
    }

    /// Checks the settings against each other (not the files).
    pub fn check(&self) -> Result<(), String> {
        secret::check_sources(
            self.passphrase_env.as_deref(),
            self.passphrase_file.as_deref(),
        )
        .map_err(|e| e.replace("password", "passphrase"))?;
        if self.encrypt == Some(true) && self.partner_keys.is_empty() {
            return Err(
                "pgp: encrypt = true needs the partner's public key in partner_keys".into(),
            );
        }
        if self.signs() && self.secret_key.is_none() {
            return Err("pgp: sign = true needs our secret key in secret_key".into());
        }
        if self.signature == Signatures::Required && self.partner_keys.is_empty() {
            return Err(
                "pgp: signature = \"required\" needs the partner's public key in partner_keys"
                    .into(),
            );
        }
        if self.secret_key.is_none() && self.partner_keys.is_empty() {
            return Err("pgp: give our secret_key, the partner's partner_keys, or both".into());
        }
        if let Some(s) = &self.suffix
            && (s.is_empty() || s.contains(['/', '\\']))
        {
            return Err(format!("pgp: suffix {s:?} is not a file name ending"));
        }
        if self.max_mb == 0 {
            return Err("pgp: max_mb must be at least 1".into());
        }
        Ok(())
    }

    /// The largest decrypted content taken, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_mb.saturating_mul(1 << 20)
    }

    /// Reads the keys from their files (and the passphrase from where it
    /// is), each checked.
    pub fn load(&self) -> Result<PgpKeys, PgpKeyError> {
        let ours = match &self.secret_key {
            None => None,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| PgpKeyError::Read {
                    what: "secret_key",
                    path: path.clone(),
                    source,
                })?;
                let passphrase = secret::read_as(
                    PASSPHRASE,
                    self.passphrase_env.as_deref(),
                    self.passphrase_file.as_deref(),
                )
                .map_err(PgpKeyError::Passphrase)?;
                Some(
                    SecretKey::read(&bytes, passphrase.as_deref()).map_err(|source| {
                        PgpKeyError::Key {
                            what: "secret_key",
                            path: path.clone(),
                            source,
                        }
                    })?,
                )
            }
        };
        let theirs = self
            .partner_keys
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).map_err(|source| PgpKeyError::Read {
                    what: "partner_keys",
                    path: path.clone(),
                    source,
                })?;
                PublicKey::read(&bytes).map_err(|source| PgpKeyError::Key {
                    what: "partner_keys",
                    path: path.clone(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PgpKeys { ours, theirs })
    }
}

impl PgpKeys {
    /// What is to be said about keys that expired or expire within `days`
    /// of `now` (seconds since 1970).
    pub fn expiring(&self, now: i64, days: i64) -> Vec<String> {
        let mut said = Vec::new();
        let mut look = |what: &str, who: String, expires: Option<i64>| {
            let Some(at) = expires else { return };
            let when = chrono::DateTime::from_timestamp(at, 0)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| at.to_string());
            if at <= now {
                said.push(format!("pgp: {what} {who} expired on {when}"));
            } else if at - now < days * 86_400 {
                said.push(format!("pgp: {what} {who} expires on {when}"));
            }
        };
        if let Some(ours) = &self.ours {
            look("our key", ours.describe(), ours.expires());
        }
        for theirs in &self.theirs {
            look("the partner key", theirs.describe(), theirs.expires());
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> PgpConfig {
        toml::from_str(toml).expect("a pgp table")
    }

    #[test]
    fn defaults_follow_the_keys_given() {
        let both = config("secret_key = \"ours.asc\"\npartner_keys = [\"theirs.asc\"]");
        assert!(both.encrypts() && both.signs() && both.check().is_ok());
        assert_eq!(both.outbound_name("a.edi"), "a.edi");
        let inbound = config("secret_key = \"ours.asc\"");
        assert!(!inbound.seals() && inbound.check().is_ok());
        let suffixed = config("partner_keys = [\"t.asc\"]\nsuffix = \".pgp\"");
        assert!(suffixed.encrypts() && !suffixed.signs());
        assert_eq!(suffixed.outbound_name("a.edi"), "a.edi.pgp");
        for (bad, says) in [
            ("encrypt = true\nsecret_key = \"o\"", "partner_keys"),
            ("sign = true\npartner_keys = [\"t\"]", "secret_key"),
            (
                "signature = \"required\"\nsecret_key = \"o\"",
                "partner_keys",
            ),
            ("armor = true", "both"),
            ("secret_key = \"o\"\nsuffix = \"/x\"", "suffix"),
            (
                "secret_key = \"o\"\npassphrase_env = \"A\"\npassphrase_file = \"f\"",
                "passphrase_env and passphrase_file",
            ),
        ] {
            let e = config(bad).check().expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(toml::from_str::<PgpConfig>("secret_key = \"o\"\ncolour = 1").is_err());
    }
}
