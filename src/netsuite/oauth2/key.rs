//! The private key that signs the client assertion, read from PEM, and
//! the JWS algorithms NetSuite takes.
//!
//! NetSuite accepts only `PS256`, `PS384`, `PS512`, `ES256`, `ES384` and
//! `ES512` for the client assertion: RSA PKCS#1 v1.5 (`RS256`) is no
//! longer taken ("The Request Token Structure",
//! https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html).
//! An RSA key signs with RSASSA-PSS and SHA-256 (`PS256`), an EC key with
//! ECDSA on its curve (`ES256` for P-256, `ES384` for P-384). P-521
//! (`ES512`) is not offered: ring has no P-521.

use std::fmt;
use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, RSA_PSS_SHA256,
    RsaKeyPair,
};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::{self, PemObject as _};

use crate::transport::secret;

/// A JWS signature algorithm of the client assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
}

impl Algorithm {
    /// Every algorithm this module signs or verifies.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
    ];

    /// The `alg` of a JWS header.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
        }
    }

    /// The algorithm an `alg` names, if it is one of [`Algorithm::ALL`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a private key. The messages say what kind of key
/// was found and how to make a good one, never anything of the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key could not be read from where it is configured (the
    /// message says where).
    #[error("{0}")]
    Read(std::io::Error),
    /// The key is configured nowhere.
    #[error("no private key is configured")]
    NotConfigured,
    /// The text has no private key section.
    #[error(
        "no private key in the PEM text (expected a `-----BEGIN PRIVATE KEY-----` section, as `openssl req -x509 -newkey rsa:3072 -nodes` writes)"
    )]
    NoKey,
    /// The key is encrypted with a passphrase.
    #[error(
        "the private key is encrypted (`BEGIN ENCRYPTED PRIVATE KEY`); dropgate needs it unencrypted: make it with `-nodes`, or decrypt it with `openssl pkcs8 -in key.pem -out key-plain.pem`"
    )]
    Encrypted,
    /// An EC key in the SEC1 form, which ring does not read.
    #[error(
        "the private key is a SEC1 EC key (`BEGIN EC PRIVATE KEY`); convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`"
    )]
    Sec1,
    /// The PEM framing is broken.
    #[error("the PEM text of the private key is malformed: {0}")]
    Pem(&'static str),
    /// The key is not one this module signs with.
    #[error(
        "the private key is neither an RSA key (rsaEncryption, 2048 to 4096 bits) nor an EC P-256 or P-384 key ({0}); an RSASSA-PSS-only key (`-newkey rsa-pss`) is not supported, make it with `-newkey rsa:3072`"
    )]
    Unsupported(String),
    /// Signing failed (the system has no randomness).
    #[error("signing the client assertion failed: the system random generator failed")]
    Sign,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, Algorithm),
}

/// The private key of the certificate uploaded to NetSuite. `Debug`
/// shows only its algorithm.
pub struct SigningKey {
    pair: Pair,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// The configuration keys of a private key read by [`SigningKey::read`]
/// (the `[netsuite]` section may name its own).
pub const PRIVATE_KEY: secret::Keys = secret::Keys {
    env: "private_key_env",
    file: "private_key_file",
};

impl SigningKey {
    /// Reads a key from PEM text: PKCS#8 (`BEGIN PRIVATE KEY`, RSA or
    /// EC P-256/P-384) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). Other
    /// sections (a certificate before the key, as in a combined file)
    /// are skipped. A PEM whose line breaks were written as `\n` (as
    /// happens when a key is put in an environment variable) is read too.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let unescaped;
        let text = if !text.contains('\n') && text.contains("\\n") {
            unescaped = text.replace("\\n", "\n");
            unescaped.as_str()
        } else {
            text
        };
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(KeyError::Encrypted);
        }
        let der = PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| match e {
            pem::Error::NoItemsFound => KeyError::NoKey,
            pem::Error::MissingSectionEnd { .. } => KeyError::Pem("a section has no END line"),
            pem::Error::IllegalSectionStart { .. } => KeyError::Pem("a BEGIN line is malformed"),
            pem::Error::Base64Decode(_) => KeyError::Pem("the base64 is broken"),
            pem::Error::SectionTooLarge => KeyError::Pem("a section is too large"),
            _ => KeyError::Pem("it cannot be read"),
        })?;
        let rng = SystemRandom::new();
        let pair = match &der {
            PrivateKeyDer::Pkcs1(key) => Pair::Rsa(
                RsaKeyPair::from_der(key.secret_pkcs1_der())
                    .map_err(|e| KeyError::Unsupported(e.to_string()))?,
            ),
            PrivateKeyDer::Sec1(_) => return Err(KeyError::Sec1),
            PrivateKeyDer::Pkcs8(key) => {
                let pkcs8 = key.secret_pkcs8_der();
                match RsaKeyPair::from_pkcs8(pkcs8) {
                    Ok(pair) => Pair::Rsa(pair),
                    Err(rsa) => {
                        if let Ok(pair) =
                            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
                        {
                            Pair::Ec(pair, Algorithm::Es256)
                        } else if let Ok(pair) =
                            EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8, &rng)
                        {
                            Pair::Ec(pair, Algorithm::Es384)
                        } else {
                            return Err(KeyError::Unsupported(rsa.to_string()));
                        }
                    }
                }
            }
            _ => return Err(KeyError::Unsupported("an unknown key format".into())),
        };
        Ok(Self { pair, rng })
    }

    /// Reads the key from the environment variable `env` or the file
    /// `file` (as every secret of dropgate, [`secret::read_as`]); `keys`
    /// names the configuration keys for messages.
    pub fn read(
        keys: secret::Keys,
        env: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Self, KeyError> {
        let text = secret::read_as(keys, env, file)
            .map_err(KeyError::Read)?
            .ok_or(KeyError::NotConfigured)?;
        Self::from_pem(&text)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match &self.pair {
            Pair::Rsa(_) => Algorithm::Ps256,
            Pair::Ec(_, alg) => *alg,
        }
    }

    /// The size of the key in bits (the RSA modulus, or the curve).
    pub fn bits(&self) -> usize {
        match &self.pair {
            Pair::Rsa(pair) => pair.public().modulus_len() * 8,
            Pair::Ec(_, Algorithm::Es384) => 384,
            Pair::Ec(..) => 256,
        }
    }

    /// The JWS signature of `message` (for ECDSA the fixed-size `r‖s`
    /// that JWS wants, not DER).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PSS_SHA256, &self.rng, message, &mut signature)
                    .map_err(|_| KeyError::Sign)?;
                Ok(signature)
            }
            Pair::Ec(pair, _) => pair
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::{self, openssl};
    use super::*;

    #[test]
    fn reads_the_keys_openssl_makes() {
        let (rsa, rsa_cert) = test_keys::make("rsa:3072", &[]);
        let key = SigningKey::from_pem(&rsa).expect("the test key is valid");
        assert_eq!((key.algorithm(), key.bits()), (Algorithm::Ps256, 3072));
        let (p256, _) = test_keys::p256();
        let key = SigningKey::from_pem(&p256).expect("the test key is valid");
        assert_eq!((key.algorithm(), key.bits()), (Algorithm::Es256, 256));
        let (p384, _) = test_keys::make("ec", &["ec_paramgen_curve:P-384"]);
        assert_eq!(
            SigningKey::from_pem(&p384)
                .expect("the test key is valid")
                .algorithm(),
            Algorithm::Es384
        );
        // A combined file (certificate, then key), as Oracle's SuiteScript
        // page makes with `cat public.pem private.pem`.
        let combined = format!("{rsa_cert}{rsa}");
        assert_eq!(
            SigningKey::from_pem(&combined)
                .expect("the test key is valid")
                .algorithm(),
            Algorithm::Ps256
        );
        // A key put in an environment variable with `\n` for line breaks.
        let escaped = p256.trim().replace('\n', "\\n");
        assert_eq!(
            SigningKey::from_pem(&escaped)
                .expect("the test key is valid")
                .algorithm(),
            Algorithm::Es256
        );
        // PKCS#1, as `openssl genrsa -traditional` writes.
        let pkcs1 = openssl(&["rsa", "-traditional"], &rsa);
        assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"), "{pkcs1}");
        assert_eq!(
            SigningKey::from_pem(&pkcs1)
                .expect("the test key is valid")
                .algorithm(),
            Algorithm::Ps256
        );
    }

    #[test]
    fn keys_it_cannot_use_are_named_and_not_shown() {
        let (p256, cert) = test_keys::p256();
        let sec1 = openssl(&["ec"], &p256);
        assert!(sec1.contains("BEGIN EC PRIVATE KEY"), "{sec1}");
        assert!(matches!(SigningKey::from_pem(&sec1), Err(KeyError::Sec1)));
        let encrypted = openssl(&["pkcs8", "-topk8", "-passout", "pass:secret-pass"], &p256);
        assert!(matches!(
            SigningKey::from_pem(&encrypted),
            Err(KeyError::Encrypted)
        ));
        assert!(matches!(SigningKey::from_pem(&cert), Err(KeyError::NoKey)));
        assert!(matches!(SigningKey::from_pem(""), Err(KeyError::NoKey)));
        let (pss, _) = test_keys::make("rsa-pss", &["rsa_keygen_bits:2048"]);
        let err = SigningKey::from_pem(&pss).expect_err("it is refused");
        assert!(matches!(err, KeyError::Unsupported(_)), "{err}");
        assert!(err.to_string().contains("rsa:3072"), "{err}");
        let body: String = p256.lines().filter(|l| !l.starts_with("-----")).collect();
        let cut = format!("-----BEGIN PRIVATE KEY-----\n{body}\n");
        let err = SigningKey::from_pem(&cut).expect_err("it is refused");
        assert!(matches!(err, KeyError::Pem(_)), "{err}");
        assert!(!err.to_string().contains(&body[..20]), "{err}");
        let shown = format!(
            "{:?}",
            SigningKey::from_pem(&p256).expect("the test key is valid")
        );
        assert_eq!(shown, "SigningKey { algorithm: Es256, .. }");
    }

    #[test]
    fn a_key_is_read_from_a_file_or_a_variable_as_every_secret() {
        let (p256, _) = test_keys::p256();
        let dir = tempfile::tempdir().expect("the test key is valid");
        let file = dir.path().join("netsuite.key");
        std::fs::write(&file, &p256).expect("the test key is valid");
        let key = SigningKey::read(PRIVATE_KEY, None, Some(&file)).expect("the test key is valid");
        assert_eq!(key.algorithm(), Algorithm::Es256);
        let err = SigningKey::read(PRIVATE_KEY, None, Some(&dir.path().join("none")))
            .expect_err("it is refused");
        assert!(err.to_string().contains("private_key_file"), "{err}");
        let err = SigningKey::read(PRIVATE_KEY, Some("DROPGATE_SURELY_UNSET_KEY"), None)
            .expect_err("it is refused");
        assert!(err.to_string().contains("private_key_env"), "{err}");
        assert!(matches!(
            SigningKey::read(PRIVATE_KEY, None, None),
            Err(KeyError::NotConfigured)
        ));
    }
}
