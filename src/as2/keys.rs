//! Certificates and private keys of an AS2 partnership: an X.509
//! certificate (PEM or DER) and an RSA private key (PKCS#8 or PKCS#1,
//! PEM or DER, unencrypted), loaded from bytes and checked. Only RSA keys
//! are supported (what AS2 partners use in practice); an EC key or
//! certificate is refused as such.

use std::time::SystemTime;

use cms::cert::IssuerAndSerialNumber;
use cms::der::Decode;
use cms::der::referenced::OwnedToRef;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// rsaEncryption (PKCS#1), the one key algorithm supported.
const RSA_ENCRYPTION: cms::der::asn1::ObjectIdentifier =
    cms::der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// What can be wrong with a certificate or a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM or DER certificate: {0}")]
    Certificate(String),
    #[error("the certificate's key is {algorithm}, not RSA; only RSA keys are supported")]
    NotRsa { algorithm: String },
    #[error("the certificate's RSA public key cannot be read: {0}")]
    PublicKey(String),
    #[error("not a PKCS#8 or PKCS#1 RSA private key: {0}")]
    PrivateKey(String),
    #[error(
        "the private key is encrypted (PEM label {label:?}); give it unencrypted (openssl pkey -in KEY -out PLAIN)"
    )]
    EncryptedKey { label: String },
    #[error("the certificate of {subject} expired on {not_after}")]
    Expired { subject: String, not_after: String },
    #[error("the certificate of {subject} is not valid before {not_before}")]
    NotYetValid { subject: String, not_before: String },
    #[error("the private key does not belong to the certificate of {subject}")]
    KeyMismatch { subject: String },
}

/// A checked X.509 certificate with an RSA public key.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    public: RsaPublicKey,
}

impl Certificate {
    /// Reads a certificate in PEM (the first CERTIFICATE block) or DER.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, KeyError> {
        let der = der_of(bytes, "CERTIFICATE").map_err(KeyError::Certificate)?;
        let cert = x509_cert::Certificate::from_der(&der)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(KeyError::NotRsa {
                algorithm: spki.algorithm.oid.to_string(),
            });
        }
        let public = RsaPublicKey::try_from(spki.owned_to_ref())
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        Ok(Certificate { der, cert, public })
    }

    /// The subject, as RFC 4514 text.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The start of the validity period.
    pub fn not_before(&self) -> SystemTime {
        self.cert
            .tbs_certificate()
            .validity()
            .not_before
            .to_system_time()
    }

    /// The end of the validity period.
    pub fn not_after(&self) -> SystemTime {
        self.cert
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time()
    }

    /// Checks that `now` is inside the validity period.
    pub fn check_valid_at(&self, now: SystemTime) -> Result<(), KeyError> {
        let validity = self.cert.tbs_certificate().validity();
        if now > self.not_after() {
            return Err(KeyError::Expired {
                subject: self.subject(),
                not_after: validity.not_after.to_string(),
            });
        }
        if now < self.not_before() {
            return Err(KeyError::NotYetValid {
                subject: self.subject(),
                not_before: validity.not_before.to_string(),
            });
        }
        Ok(())
    }

    /// The certificate's DER encoding, as it was read.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn x509(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    pub(crate) fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// The issuer and serial number that name this certificate in CMS.
    pub(crate) fn issuer_and_serial(&self) -> IssuerAndSerialNumber {
        IssuerAndSerialNumber {
            issuer: self.cert.tbs_certificate().issuer().clone(),
            serial_number: self.cert.tbs_certificate().serial_number().clone(),
        }
    }
}

/// An RSA private key.
#[derive(Clone)]
pub struct PrivateKey {
    key: RsaPrivateKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey(RSA {} bits)", self.key.size() * 8)
    }
}

impl PrivateKey {
    /// Reads an unencrypted RSA private key: PEM (`PRIVATE KEY` or
    /// `RSA PRIVATE KEY`) or DER (PKCS#8 or PKCS#1).
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, KeyError> {
        let (label, der) = if looks_like_pem(bytes) {
            let (label, der) = cms::der::pem::decode_vec(bytes)
                .map_err(|e| KeyError::PrivateKey(format!("bad PEM: {e}")))?;
            (Some(label.to_string()), der)
        } else {
            (None, bytes.to_vec())
        };
        let key = match label.as_deref() {
            Some("ENCRYPTED PRIVATE KEY") => {
                return Err(KeyError::EncryptedKey {
                    label: "ENCRYPTED PRIVATE KEY".into(),
                });
            }
            Some("RSA PRIVATE KEY") => RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|e| KeyError::PrivateKey(e.to_string()))?,
            Some("PRIVATE KEY") => RsaPrivateKey::from_pkcs8_der(&der)
                .map_err(|e| KeyError::PrivateKey(e.to_string()))?,
            Some(other) => {
                return Err(KeyError::PrivateKey(format!(
                    "PEM label {other:?} is not an RSA private key"
                )));
            }
            None => RsaPrivateKey::from_pkcs8_der(&der)
                .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|e| KeyError::PrivateKey(e.to_string()))?,
        };
        Ok(PrivateKey { key })
    }

    pub(crate) fn rsa(&self) -> &RsaPrivateKey {
        &self.key
    }
}

/// Our side of a partnership: our certificate and its private key,
/// checked to belong together.
#[derive(Clone, Debug)]
pub struct Identity {
    certificate: Certificate,
    key: PrivateKey,
}

impl Identity {
    /// Pairs a certificate with its private key.
    pub fn new(certificate: Certificate, key: PrivateKey) -> Result<Self, KeyError> {
        if RsaPublicKey::from(&key.key) != certificate.public {
            return Err(KeyError::KeyMismatch {
                subject: certificate.subject(),
            });
        }
        Ok(Identity { certificate, key })
    }

    /// Reads both from PEM or DER bytes.
    pub fn from_pem_or_der(certificate: &[u8], key: &[u8]) -> Result<Self, KeyError> {
        Identity::new(
            Certificate::from_pem_or_der(certificate)?,
            PrivateKey::from_pem_or_der(key)?,
        )
    }

    /// Our certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub(crate) fn key(&self) -> &PrivateKey {
        &self.key
    }
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN ")
}

/// The DER of the first PEM block labelled `label` in `bytes`, or `bytes`
/// themselves when they are not PEM.
fn der_of(bytes: &[u8], label: &str) -> Result<Vec<u8>, String> {
    if !looks_like_pem(bytes) {
        return Ok(bytes.to_vec());
    }
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let text = std::str::from_utf8(bytes).map_err(|_| "PEM that is not text".to_string())?;
    let start = text
        .find(&begin)
        .ok_or_else(|| format!("no {begin} block"))?;
    let stop = text[start..]
        .find(&end)
        .ok_or_else(|| format!("no {end} line"))?
        + start
        + end.len();
    let (found, der) = cms::der::pem::decode_vec(&text.as_bytes()[start..stop])
        .map_err(|e| format!("bad PEM: {e}"))?;
    debug_assert_eq!(found, label);
    Ok(der)
}
