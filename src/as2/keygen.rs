//! A new key pair and self-signed certificate for an AS2 partnership:
//! an RSA key (2048, 3072 or 4096 bits) and an X.509 v3 certificate for
//! it, signed with SHA-256, that says what AS2 uses the key for (signing
//! and key encipherment, not a CA). The time and the random number
//! generator are handed in, as everywhere in this module.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use cms::der::EncodePem;
use cms::der::pem::LineEnding;
use rsa::RsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use sha2::Digest;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use super::CryptoRng;

/// Why a key pair cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// The subject is not a distinguished name.
    #[error("the subject {subject:?} is not a distinguished name (CN=NAME,O=COMPANY): {why}")]
    Subject { subject: String, why: String },
    /// A key size other than 2048, 3072 or 4096.
    #[error("{0} bits: make a key of 2048, 3072 or 4096 bits")]
    Bits(usize),
    /// No days of validity.
    #[error("a certificate valid for {0} days: give at least 1")]
    Days(u32),
    /// The key, the certificate or their PEM could not be made.
    #[error("{0}")]
    Make(String),
}

/// A key pair made: the private key (PKCS#8 PEM) and the certificate
/// (PEM), and the certificate's SHA-256 fingerprint (colon-separated hex,
/// as `openssl x509 -fingerprint -sha256` prints it) to read to the
/// partner over the phone.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The private key, PKCS#8 PEM: keep it secret.
    pub private_key_pem: String,
    /// The certificate, PEM: give it to partners.
    pub certificate_pem: String,
    /// The certificate's SHA-256 fingerprint.
    pub fingerprint: String,
}

/// What an AS2 certificate says: a self-signed end entity whose key
/// signs and carries content keys.
struct As2Profile {
    subject: Name,
}

impl BuilderProfile for As2Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut extensions: Vec<Extension> = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        extensions.push(ski.to_extension(tbs.subject(), &extensions)?);
        extensions.push(
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment)
                .to_extension(tbs.subject(), &extensions)?,
        );
        Ok(extensions)
    }
}

/// Makes a key of `bits` and a certificate for `subject` (`CN=RETAILER
/// AS2,O=Retailer Inc.`), valid from `now` for `days`.
pub fn generate(
    subject: &str,
    bits: usize,
    days: u32,
    now: SystemTime,
    rng: &mut impl CryptoRng,
) -> Result<KeyPair, KeygenError> {
    let make = |e: &dyn std::fmt::Display| KeygenError::Make(e.to_string());
    if ![2048, 3072, 4096].contains(&bits) {
        return Err(KeygenError::Bits(bits));
    }
    if days == 0 {
        return Err(KeygenError::Days(days));
    }
    let name = Name::from_str(subject).map_err(|e| KeygenError::Subject {
        subject: subject.to_string(),
        why: e.to_string(),
    })?;
    if name.as_ref().is_empty() {
        return Err(KeygenError::Subject {
            subject: subject.to_string(),
            why: "it is empty".into(),
        });
    }
    let key = RsaPrivateKey::new(rng, bits).map_err(|e| make(&e))?;
    let public = key.to_public_key();
    let spki_der = public.to_public_key_der().map_err(|e| make(&e))?;
    let spki = SubjectPublicKeyInfo::try_from(spki_der.as_bytes()).map_err(|e| make(&e))?;
    // A positive 16-byte serial number, random as RFC 5280 advises.
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let serial = SerialNumber::new(&serial).map_err(|e| make(&e))?;
    // From a minute ago: a partner whose clock is a little behind takes it.
    let from = now.checked_sub(Duration::from_secs(60)).unwrap_or(now);
    let until = now + Duration::from_secs(u64::from(days) * 86_400);
    let validity = Validity::new(
        Time::try_from(from).map_err(|e| make(&e))?,
        Time::try_from(until).map_err(|e| make(&e))?,
    );
    let builder = CertificateBuilder::new(As2Profile { subject: name }, serial, validity, spki)
        .map_err(|e| make(&e))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let certificate = builder
        .build_with_rng::<_, rsa::pkcs1v15::Signature, _>(&signer, rng)
        .map_err(|e| make(&e))?;
    let certificate_pem = certificate.to_pem(LineEnding::LF).map_err(|e| make(&e))?;
    let der = cms::der::Encode::to_der(&certificate).map_err(|e| make(&e))?;
    let fingerprint = sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let private_key_pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| make(&e))?
        .to_string();
    Ok(KeyPair {
        private_key_pem,
        certificate_pem,
        fingerprint,
    })
}
