//! Digest algorithms and the MIC (message integrity check) an MDN
//! returns: the base64 digest of what was signed (the signed MIME entity,
//! headers and body, exactly as transmitted in canonical CRLF form) or,
//! for an unsigned message, of the content (RFC 4130 section 7.3.1),
//! written `<base64>, <algorithm>` as in `Received-Content-MIC`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

/// A digest algorithm. SHA-1 is accepted to verify a legacy partner's
/// signature; we sign with SHA-256 or better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// What is wrong with a digest algorithm's name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown or unsupported digest algorithm {0:?} (sha-1, sha-256, sha-384, sha-512)")]
pub struct UnknownAlgorithm(pub String);

impl DigestAlgorithm {
    /// The name in `micalg` and MIC fields (RFC 5751): `sha-256`.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "sha-1",
            DigestAlgorithm::Sha256 => "sha-256",
            DigestAlgorithm::Sha384 => "sha-384",
            DigestAlgorithm::Sha512 => "sha-512",
        }
    }

    /// Reads a name as partners write it: `sha-256`, `sha256`, `SHA256`,
    /// `sha1`.
    pub fn parse(name: &str) -> Result<Self, UnknownAlgorithm> {
        let n = name.trim().to_ascii_lowercase().replace('-', "");
        match n.as_str() {
            "sha1" => Ok(DigestAlgorithm::Sha1),
            "sha256" => Ok(DigestAlgorithm::Sha256),
            "sha384" => Ok(DigestAlgorithm::Sha384),
            "sha512" => Ok(DigestAlgorithm::Sha512),
            _ => Err(UnknownAlgorithm(name.trim().to_string())),
        }
    }

    /// Whether we sign with it (SHA-1 only verifies).
    pub fn signs(self) -> bool {
        self != DigestAlgorithm::Sha1
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            DigestAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            DigestAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            DigestAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// A MIC: a digest and its algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mic {
    pub algorithm: DigestAlgorithm,
    /// The digest, base64.
    pub digest: String,
}

/// What is wrong with a `Received-Content-MIC` value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MicError {
    #[error("the MIC {0:?} is not `<base64>, <algorithm>`")]
    Form(String),
    #[error("the MIC names {0}")]
    Algorithm(#[from] UnknownAlgorithm),
}

impl Mic {
    /// The MIC of `data`.
    pub fn compute(algorithm: DigestAlgorithm, data: &[u8]) -> Mic {
        Mic {
            algorithm,
            digest: STANDARD.encode(algorithm.digest(data)),
        }
    }

    /// Reads `<base64>, <algorithm>`.
    pub fn parse(value: &str) -> Result<Mic, MicError> {
        let (digest, algorithm) = value
            .split_once(',')
            .ok_or_else(|| MicError::Form(value.to_string()))?;
        let digest = digest.trim();
        if digest.is_empty() || STANDARD.decode(digest).is_err() {
            return Err(MicError::Form(value.to_string()));
        }
        Ok(Mic {
            algorithm: DigestAlgorithm::parse(algorithm)?,
            digest: digest.to_string(),
        })
    }
}

impl std::fmt::Display for Mic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}", self.digest, self.algorithm.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_as_partners_write_them() {
        for name in ["sha-256", "sha256", "SHA256", " Sha-256 "] {
            assert_eq!(DigestAlgorithm::parse(name), Ok(DigestAlgorithm::Sha256));
        }
        assert_eq!(DigestAlgorithm::parse("sha1"), Ok(DigestAlgorithm::Sha1));
        assert!(DigestAlgorithm::parse("md5").is_err());
    }

    #[test]
    fn a_mic_reads_back_what_it_writes() {
        let mic = Mic::compute(DigestAlgorithm::Sha256, b"abc");
        assert_eq!(mic.digest, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(Mic::parse(&mic.to_string()), Ok(mic.clone()));
        assert_eq!(
            Mic::parse("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=, sha256"),
            Ok(mic)
        );
        assert!(Mic::parse("no comma").is_err());
    }
}
