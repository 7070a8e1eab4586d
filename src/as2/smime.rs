//! S/MIME's CMS layers (RFC 5652, RFC 5751, RFC 3274, RFC 5083/5084) on
//! bytes: a detached SignedData (RSA PKCS#1 v1.5 with SHA-256/384/512,
//! signed attributes content-type, signing-time and message-digest) made
//! and verified, an EnvelopedData (AES-128/192/256-CBC) or an
//! AuthEnvelopedData (AES-128/256-GCM) with its content key carried by RSA
//! PKCS#1 v1.5 key transport made and opened, and a CompressedData (zlib)
//! made and opened within a size limit.
//!
//! The primitives are RustCrypto's (`rsa`, `aes`, `cbc`, `aes-gcm`,
//! `sha1`, `sha2`) and flate2's; the structures are the `cms` crate's
//! types, assembled here. A content key sent with RSAES-OAEP (SHA-1 or
//! SHA-256) is decrypted too. Triple-DES-CBC is decrypted (legacy
//! partners; pyas2lib's default) but never used to encrypt. RC2 is refused
//! with an error that names it.

use std::io::Read;
use std::time::SystemTime;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use cms::authenveloped_data::AuthEnvelopedData;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::compressed_data::CompressedData;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::der::asn1::{ObjectIdentifier as Oid, OctetString, SetOfVec};
use cms::der::{Any, Decode, Encode};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::CryptoRng;
use super::keys::{Certificate, Identity};
use super::mic::DigestAlgorithm;

const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const ID_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
const ID_AUTH_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.23");
const ID_COMPRESSED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.9");
const ID_ZLIB: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.3.8");
const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const RSAES_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
const AES128_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.6");
const AES256_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.46");
const RC2_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.2");

/// A content encryption algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    /// AES-128 in GCM (an AuthEnvelopedData, RFC 5084).
    Aes128Gcm,
    /// AES-256 in GCM.
    Aes256Gcm,
    /// Triple-DES, read from legacy partners (pyas2lib's default) and
    /// never sent: [`encrypt`] refuses it.
    TripleDesCbc,
}

impl Cipher {
    /// The name pyas2lib and partner files use: `aes_128_cbc`.
    pub fn name(self) -> &'static str {
        match self {
            Cipher::Aes128Cbc => "aes_128_cbc",
            Cipher::Aes192Cbc => "aes_192_cbc",
            Cipher::Aes256Cbc => "aes_256_cbc",
            Cipher::Aes128Gcm => "aes_128_gcm",
            Cipher::Aes256Gcm => "aes_256_gcm",
            Cipher::TripleDesCbc => "tripledes_192_cbc",
        }
    }

    /// Whether it authenticates the content (GCM: an AuthEnvelopedData,
    /// `smime-type=authEnveloped-data`).
    pub fn is_authenticated(self) -> bool {
        matches!(self, Cipher::Aes128Gcm | Cipher::Aes256Gcm)
    }

    /// The S/MIME type of the layer it makes.
    pub fn smime_type(self) -> &'static str {
        if self.is_authenticated() {
            "authEnveloped-data"
        } else {
            "enveloped-data"
        }
    }

    /// Reads `aes_128_cbc`, `aes128-cbc`, `AES-256-CBC` and the like.
    pub fn parse(name: &str) -> Option<Cipher> {
        let n: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match n.as_str() {
            "aes128cbc" => Some(Cipher::Aes128Cbc),
            "aes192cbc" => Some(Cipher::Aes192Cbc),
            "aes256cbc" => Some(Cipher::Aes256Cbc),
            "aes128gcm" => Some(Cipher::Aes128Gcm),
            "aes256gcm" => Some(Cipher::Aes256Gcm),
            "tripledes192cbc" | "3descbc" | "desede3cbc" => Some(Cipher::TripleDesCbc),
            _ => None,
        }
    }

    fn oid(self) -> Oid {
        match self {
            Cipher::Aes128Cbc => AES128_CBC,
            Cipher::Aes192Cbc => AES192_CBC,
            Cipher::Aes256Cbc => AES256_CBC,
            Cipher::Aes128Gcm => AES128_GCM,
            Cipher::Aes256Gcm => AES256_GCM,
            Cipher::TripleDesCbc => DES_EDE3_CBC,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc => 16,
            Cipher::Aes192Cbc => 24,
            Cipher::Aes256Cbc => 32,
            Cipher::Aes128Gcm => 16,
            Cipher::Aes256Gcm => 32,
            Cipher::TripleDesCbc => 24,
        }
    }
}

/// What went wrong in a CMS layer.
#[derive(Debug, thiserror::Error)]
pub enum SmimeError {
    #[error("the {what} is not valid DER CMS: {source}")]
    Asn1 {
        what: &'static str,
        source: cms::der::Error,
    },
    #[error("expected CMS {expected}, found content type {found}")]
    ContentType {
        expected: &'static str,
        found: String,
    },
    #[error("the signature has no signer")]
    NoSigner,
    #[error("the signature uses digest {0}, which is not supported")]
    DigestAlgorithm(String),
    #[error("the signature uses algorithm {0}, not RSA PKCS#1 v1.5")]
    SignatureAlgorithm(String),
    #[error("{0} cannot sign (SHA-256 or better)")]
    WeakDigest(&'static str),
    #[error("the signed attributes have no message-digest")]
    NoMessageDigest,
    #[error(
        "the content does not match its signature's message digest ({algorithm}): the content was altered"
    )]
    ContentAltered { algorithm: &'static str },
    #[error("the signature does not verify with the certificate of {subject}{signer}")]
    BadSignature { subject: String, signer: String },
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error(
        "the message is not encrypted for our certificate ({subject}): its recipients are {recipients}"
    )]
    NotForUs { subject: String, recipients: String },
    #[error(
        "the content key is encrypted with {0}, not RSA PKCS#1 v1.5 or RSAES-OAEP (SHA-1 or SHA-256)"
    )]
    KeyTransport(String),
    #[error("the content key cannot be decrypted with our private key (wrong key?)")]
    KeyDecryption,
    #[error(
        "the content is encrypted with {0}, which is not supported (AES-128/192/256-CBC, AES-128/256-GCM, 3DES-CBC)"
    )]
    UnsupportedCipher(String),
    #[error("the content cannot be decrypted: {0}")]
    ContentDecryption(&'static str),
    #[error("compression failed: {0}")]
    Compress(String),
    #[error("the compression algorithm {0} is not zlib")]
    CompressionAlgorithm(String),
    #[error("the compressed content cannot be inflated: {0}")]
    Inflate(String),
    #[error("the content inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
}

fn asn1(what: &'static str) -> impl Fn(cms::der::Error) -> SmimeError {
    move |source| SmimeError::Asn1 { what, source }
}

fn digest_oid(algorithm: DigestAlgorithm) -> Oid {
    match algorithm {
        DigestAlgorithm::Sha1 => SHA1,
        DigestAlgorithm::Sha256 => SHA256,
        DigestAlgorithm::Sha384 => SHA384,
        DigestAlgorithm::Sha512 => SHA512,
    }
}

fn digest_of_oid(oid: &Oid) -> Option<DigestAlgorithm> {
    match *oid {
        SHA1 => Some(DigestAlgorithm::Sha1),
        SHA256 => Some(DigestAlgorithm::Sha256),
        SHA384 => Some(DigestAlgorithm::Sha384),
        SHA512 => Some(DigestAlgorithm::Sha512),
        _ => None,
    }
}

fn pkcs1v15(algorithm: DigestAlgorithm) -> Pkcs1v15Sign {
    match algorithm {
        DigestAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
        DigestAlgorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
        DigestAlgorithm::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        DigestAlgorithm::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
    }
}

fn null_params(oid: Oid) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: Some(Any::null()),
    }
}

fn content_info<T: cms::der::EncodeValue + cms::der::Tagged>(
    content_type: Oid,
    content: &T,
) -> Result<Vec<u8>, cms::der::Error> {
    ContentInfo {
        content_type,
        content: Any::encode_from(content)?,
    }
    .to_der()
}

fn open_content_info(
    der: &[u8],
    expected: Oid,
    name: &'static str,
) -> Result<ContentInfo, SmimeError> {
    let info = ContentInfo::from_der(der).map_err(asn1(name))?;
    if info.content_type != expected {
        return Err(SmimeError::ContentType {
            expected: name,
            found: info.content_type.to_string(),
        });
    }
    Ok(info)
}

/// A detached signature (DER ContentInfo of SignedData) over `content`,
/// the exact bytes of the signed MIME entity.
pub fn sign(
    content: &[u8],
    algorithm: DigestAlgorithm,
    signer: &Identity,
    signing_time: SystemTime,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, SmimeError> {
    if !algorithm.signs() {
        return Err(SmimeError::WeakDigest(algorithm.name()));
    }
    let sign_err = |e: cms::der::Error| SmimeError::Sign(e.to_string());
    let time = x509_cert::time::Time::try_from(signing_time).map_err(sign_err)?;
    let attribute = |oid: Oid, value: Any| -> Result<Attribute, SmimeError> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).map_err(sign_err)?,
        })
    };
    let digest = OctetString::new(algorithm.digest(content)).map_err(sign_err)?;
    let attrs = SetOfVec::try_from(vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_DATA).map_err(sign_err)?,
        )?,
        attribute(ID_SIGNING_TIME, Any::encode_from(&time).map_err(sign_err)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&digest).map_err(sign_err)?,
        )?,
    ])
    .map_err(sign_err)?;
    let signed = attrs.to_der().map_err(sign_err)?;
    let signature = signer
        .key()
        .rsa()
        .sign_with_rng(rng, pkcs1v15(algorithm), &algorithm.digest(&signed))
        .map_err(|e| SmimeError::Sign(e.to_string()))?;
    let certificate = signer.certificate().x509().clone();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![null_params(digest_oid(algorithm))])
            .map_err(sign_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(
            CertificateSet::try_from(vec![CertificateChoices::Certificate(certificate)])
                .map_err(sign_err)?,
        ),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(signer.certificate().issuer_and_serial()),
            digest_alg: null_params(digest_oid(algorithm)),
            signed_attrs: Some(attrs),
            signature_algorithm: null_params(RSA_ENCRYPTION),
            signature: OctetString::new(signature).map_err(sign_err)?,
            unsigned_attrs: None,
        }])
        .map_err(sign_err)?,
    };
    content_info(ID_SIGNED_DATA, &signed_data).map_err(sign_err)
}

/// Verifies a detached signature over `content` with `certificate`;
/// gives the digest algorithm the signer used.
pub fn verify(
    content: &[u8],
    signature: &[u8],
    certificate: &Certificate,
) -> Result<DigestAlgorithm, SmimeError> {
    let info = open_content_info(signature, ID_SIGNED_DATA, "signed-data")?;
    let signed: SignedData = info.content.decode_as().map_err(asn1("signed-data"))?;
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or(SmimeError::NoSigner)?;
    let algorithm = digest_of_oid(&signer.digest_alg.oid)
        .ok_or_else(|| SmimeError::DigestAlgorithm(signer.digest_alg.oid.to_string()))?;
    match signer.signature_algorithm.oid {
        RSA_ENCRYPTION | SHA1_WITH_RSA | SHA256_WITH_RSA | SHA384_WITH_RSA | SHA512_WITH_RSA => {}
        other => return Err(SmimeError::SignatureAlgorithm(other.to_string())),
    }
    let content_digest = algorithm.digest(content);
    let signed_bytes = match &signer.signed_attrs {
        Some(attrs) => {
            let digest = attrs
                .iter()
                .find(|a| a.oid == ID_MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .ok_or(SmimeError::NoMessageDigest)?
                .decode_as::<OctetString>()
                .map_err(asn1("message-digest attribute"))?;
            if digest.as_bytes() != content_digest.as_slice() {
                return Err(SmimeError::ContentAltered {
                    algorithm: algorithm.name(),
                });
            }
            algorithm.digest(&attrs.to_der().map_err(asn1("signed attributes"))?)
        }
        None => content_digest,
    };
    certificate
        .public_key()
        .verify(
            pkcs1v15(algorithm),
            &signed_bytes,
            signer.signature.as_bytes(),
        )
        .map_err(|_| SmimeError::BadSignature {
            subject: certificate.subject(),
            signer: match &signer.sid {
                SignerIdentifier::IssuerAndSerialNumber(id)
                    if *id != certificate.issuer_and_serial() =>
                {
                    format!(
                        "; it was made by another certificate (issuer {}, serial {})",
                        id.issuer, id.serial_number
                    )
                }
                _ => String::new(),
            },
        })?;
    Ok(algorithm)
}

/// Encrypts `content` for `recipient`: a DER ContentInfo of EnvelopedData
/// (CBC) or of AuthEnvelopedData (GCM, a 12-byte nonce and a 16-byte
/// tag).
pub fn encrypt(
    content: &[u8],
    cipher: Cipher,
    recipient: &Certificate,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, SmimeError> {
    let enc_err = |e: cms::der::Error| SmimeError::Encrypt(e.to_string());
    let mut key = vec![0u8; cipher.key_len()];
    rng.fill_bytes(&mut key);
    let bad_key = |_| SmimeError::Encrypt("bad key or IV length".into());
    let (ciphertext, parameters, tag) = match cipher {
        Cipher::Aes128Cbc | Cipher::Aes192Cbc | Cipher::Aes256Cbc => {
            let mut iv = [0u8; 16];
            rng.fill_bytes(&mut iv);
            let ciphertext = match cipher {
                Cipher::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv)
                    .map_err(bad_key)?
                    .encrypt_padded_vec::<Pkcs7>(content),
                Cipher::Aes192Cbc => cbc::Encryptor::<aes::Aes192>::new_from_slices(&key, &iv)
                    .map_err(bad_key)?
                    .encrypt_padded_vec::<Pkcs7>(content),
                _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv)
                    .map_err(bad_key)?
                    .encrypt_padded_vec::<Pkcs7>(content),
            };
            let iv = Any::encode_from(&OctetString::new(iv.to_vec()).map_err(enc_err)?)
                .map_err(enc_err)?;
            (ciphertext, iv, None)
        }
        Cipher::Aes128Gcm | Cipher::Aes256Gcm => {
            let mut nonce = [0u8; GCM_NONCE_LEN];
            rng.fill_bytes(&mut nonce);
            let mut buffer = content.to_vec();
            let tag = gcm_seal(cipher, &key, &nonce, &mut buffer)?;
            (buffer, gcm_parameters(&nonce)?, Some(tag))
        }
        Cipher::TripleDesCbc => {
            return Err(SmimeError::Encrypt(
                "3DES is read from legacy partners, never sent: use AES".into(),
            ));
        }
    };
    let encrypted_key = recipient
        .public_key()
        .encrypt(rng, Pkcs1v15Encrypt, &key)
        .map_err(|e| SmimeError::Encrypt(e.to_string()))?;
    let recip_infos = RecipientInfos::try_from(vec![RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(recipient.issuer_and_serial()),
        key_enc_alg: null_params(RSA_ENCRYPTION),
        enc_key: OctetString::new(encrypted_key).map_err(enc_err)?,
    })])
    .map_err(enc_err)?;
    let encrypted_content = EncryptedContentInfo {
        content_type: ID_DATA,
        content_enc_alg: AlgorithmIdentifierOwned {
            oid: cipher.oid(),
            parameters: Some(parameters),
        },
        encrypted_content: Some(OctetString::new(ciphertext).map_err(enc_err)?),
    };
    match tag {
        None => content_info(
            ID_ENVELOPED_DATA,
            &EnvelopedData {
                version: CmsVersion::V0,
                originator_info: None,
                recip_infos,
                encrypted_content,
                unprotected_attrs: None,
            },
        ),
        Some(tag) => content_info(
            ID_AUTH_ENVELOPED_DATA,
            &AuthEnvelopedData {
                version: CmsVersion::V0,
                originator_info: None,
                recip_infos,
                auth_encrypted_content_info: encrypted_content,
                auth_attrs: None,
                mac: OctetString::new(tag).map_err(enc_err)?,
                unauth_attrs: None,
            },
        ),
    }
    .map_err(enc_err)
}

/// The nonce length we use for GCM (RFC 5084 recommends 12).
const GCM_NONCE_LEN: usize = 12;

/// The tag length we make for GCM (the longest; RFC 5084's default is 12).
const GCM_TAG_LEN: u8 = 16;

/// RFC 5084's GCMParameters: `SEQUENCE { aes-nonce OCTET STRING,
/// aes-ICVlen INTEGER }`, written by hand (two fields).
fn gcm_parameters(nonce: &[u8; GCM_NONCE_LEN]) -> Result<Any, SmimeError> {
    let mut der = vec![
        0x30,
        (2 + GCM_NONCE_LEN + 3) as u8,
        0x04,
        GCM_NONCE_LEN as u8,
    ];
    der.extend_from_slice(nonce);
    der.extend_from_slice(&[0x02, 0x01, GCM_TAG_LEN]);
    Any::from_der(&der).map_err(|e| SmimeError::Encrypt(e.to_string()))
}

/// Reads GCMParameters: the nonce, and the tag length (12 when absent).
fn read_gcm_parameters(parameters: &Any) -> Result<(Vec<u8>, usize), SmimeError> {
    use cms::der::Reader;
    let bad = asn1("GCM parameters");
    let mut reader = cms::der::SliceReader::new(parameters.value()).map_err(bad)?;
    let nonce = OctetString::decode(&mut reader).map_err(asn1("GCM parameters"))?;
    let tag_len = if reader.is_finished() {
        12
    } else {
        u8::decode(&mut reader).map_err(asn1("GCM parameters"))?
    };
    Ok((nonce.as_bytes().to_vec(), usize::from(tag_len)))
}

/// Encrypts `buffer` in place with AES-GCM; gives the 16-byte tag.
fn gcm_seal(
    cipher: Cipher,
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    buffer: &mut [u8],
) -> Result<Vec<u8>, SmimeError> {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let failed = |_| SmimeError::Encrypt("AES-GCM failed".into());
    let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::from(*nonce);
    let tag = match cipher {
        Cipher::Aes128Gcm => aes_gcm::Aes128Gcm::new_from_slice(key)
            .map_err(|_| SmimeError::Encrypt("bad key length".into()))?
            .encrypt_inout_detached(&nonce, &[], buffer.into())
            .map_err(failed)?,
        _ => aes_gcm::Aes256Gcm::new_from_slice(key)
            .map_err(|_| SmimeError::Encrypt("bad key length".into()))?
            .encrypt_inout_detached(&nonce, &[], buffer.into())
            .map_err(failed)?,
    };
    Ok(tag.to_vec())
}

/// Decrypts `buffer` in place with AES-GCM, checking `tag` over it and
/// `aad`: a 12-byte nonce, a 12- or 16-byte tag.
fn gcm_open(
    cipher: Cipher,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8],
) -> Result<(), SmimeError> {
    use aes_gcm::aead::consts::{U12, U16};
    use aes_gcm::aead::{AeadInOut, KeyInit};
    fn open<A, T>(
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<(), SmimeError>
    where
        A: aes::cipher::BlockCipherEncrypt
            + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>
            + aes::cipher::KeyInit,
        T: aes_gcm::TagSize,
    {
        let gcm = aes_gcm::AesGcm::<A, U12, T>::new_from_slice(key)
            .map_err(|_| SmimeError::ContentDecryption("bad key length"))?;
        let nonce = aes_gcm::Nonce::<U12>::try_from(nonce)
            .map_err(|_| SmimeError::ContentDecryption("the GCM nonce is not 12 bytes"))?;
        let tag = aes_gcm::Tag::<T>::try_from(tag)
            .map_err(|_| SmimeError::ContentDecryption("the GCM tag has another length"))?;
        gcm.decrypt_inout_detached(&nonce, aad, buffer.into(), &tag)
            .map_err(|_| {
                SmimeError::ContentDecryption(
                    "the GCM tag does not verify (wrong key or altered content)",
                )
            })
    }
    match (cipher, tag.len()) {
        (Cipher::Aes128Gcm, 16) => open::<aes::Aes128, U16>(key, nonce, aad, buffer, tag),
        (Cipher::Aes128Gcm, 12) => open::<aes::Aes128, U12>(key, nonce, aad, buffer, tag),
        (Cipher::Aes256Gcm, 16) => open::<aes::Aes256, U16>(key, nonce, aad, buffer, tag),
        (Cipher::Aes256Gcm, 12) => open::<aes::Aes256, U12>(key, nonce, aad, buffer, tag),
        _ => Err(SmimeError::ContentDecryption(
            "a GCM tag of 12 or 16 bytes is read",
        )),
    }
}

/// Decrypts an EnvelopedData (CBC) or AuthEnvelopedData (GCM) made for
/// `us`; gives the cipher and the content.
pub fn decrypt(
    der: &[u8],
    us: &Identity,
    rng: &mut impl CryptoRng,
) -> Result<(Cipher, Vec<u8>), SmimeError> {
    let info = ContentInfo::from_der(der).map_err(asn1("enveloped-data"))?;
    let (recip_infos, encrypted, mac, aad) = match info.content_type {
        ID_ENVELOPED_DATA => {
            let e: EnvelopedData = info.content.decode_as().map_err(asn1("enveloped-data"))?;
            (e.recip_infos, e.encrypted_content, None, Vec::new())
        }
        ID_AUTH_ENVELOPED_DATA => {
            let e: AuthEnvelopedData = info
                .content
                .decode_as()
                .map_err(asn1("authEnveloped-data"))?;
            // RFC 5083: the authenticated attributes, DER with a SET tag,
            // are the additional authenticated data.
            let aad = match &e.auth_attrs {
                Some(attrs) => attrs.to_der().map_err(asn1("authEnveloped-data"))?,
                None => Vec::new(),
            };
            (
                e.recip_infos,
                e.auth_encrypted_content_info,
                Some(e.mac),
                aad,
            )
        }
        other => {
            return Err(SmimeError::ContentType {
                expected: "enveloped-data",
                found: other.to_string(),
            });
        }
    };
    let ours = us.certificate().issuer_and_serial();
    let ktris: Vec<&KeyTransRecipientInfo> = recip_infos
        .0
        .iter()
        .filter_map(|r| match r {
            RecipientInfo::Ktri(k) => Some(k),
            _ => None,
        })
        .collect();
    let recipient = ktris
        .iter()
        .find(|k| matches!(&k.rid, RecipientIdentifier::IssuerAndSerialNumber(id) if *id == ours))
        .or_else(|| (ktris.len() == 1).then(|| &ktris[0]))
        .ok_or_else(|| SmimeError::NotForUs {
            subject: us.certificate().subject(),
            recipients: ktris
                .iter()
                .map(|k| match &k.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                        issuer,
                        serial_number,
                    }) => format!("issuer {issuer} serial {serial_number}"),
                    RecipientIdentifier::SubjectKeyIdentifier(_) => {
                        "a subject key identifier".into()
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        })?;
    let alg = &encrypted.content_enc_alg;
    let cipher = match (alg.oid, mac.is_some()) {
        (AES128_CBC, false) => Cipher::Aes128Cbc,
        (AES192_CBC, false) => Cipher::Aes192Cbc,
        (AES256_CBC, false) => Cipher::Aes256Cbc,
        (DES_EDE3_CBC, false) => Cipher::TripleDesCbc,
        (AES128_GCM, true) => Cipher::Aes128Gcm,
        (AES256_GCM, true) => Cipher::Aes256Gcm,
        (RC2_CBC, _) => return Err(SmimeError::UnsupportedCipher("RC2-CBC".into())),
        (other, authenticated) => {
            return Err(SmimeError::UnsupportedCipher(format!(
                "{other}{}",
                if authenticated {
                    " in an AuthEnvelopedData"
                } else {
                    ""
                }
            )));
        }
    };
    let rsa = us.key().rsa();
    let encrypted_key = recipient.enc_key.as_bytes();
    let key = match key_transport(&recipient.key_enc_alg)? {
        KeyTransport::Pkcs1v15 => rsa.decrypt_blinded(rng, Pkcs1v15Encrypt, encrypted_key),
        KeyTransport::OaepSha1 => {
            rsa.decrypt_blinded(rng, rsa::Oaep::<sha1::Sha1>::new(), encrypted_key)
        }
        KeyTransport::OaepSha256 => {
            rsa.decrypt_blinded(rng, rsa::Oaep::<sha2::Sha256>::new(), encrypted_key)
        }
    }
    .map_err(|_| SmimeError::KeyDecryption)?;
    if key.len() != cipher.key_len() {
        return Err(SmimeError::KeyDecryption);
    }
    let parameters = alg
        .parameters
        .as_ref()
        .ok_or(SmimeError::ContentDecryption("no IV or nonce"))?;
    let ciphertext = encrypted
        .encrypted_content
        .as_ref()
        .ok_or(SmimeError::ContentDecryption("no encrypted content"))?
        .as_bytes();
    if let Some(mac) = mac {
        let (nonce, tag_len) = read_gcm_parameters(parameters)?;
        if mac.as_bytes().len() != tag_len {
            return Err(SmimeError::ContentDecryption(
                "the GCM tag is not as long as its parameters say",
            ));
        }
        let mut content = ciphertext.to_vec();
        gcm_open(cipher, &key, &nonce, &aad, &mut content, mac.as_bytes())?;
        return Ok((cipher, content));
    }
    let iv = parameters
        .decode_as::<OctetString>()
        .map_err(asn1("content encryption IV"))?;
    let bad_iv = |_| SmimeError::ContentDecryption("the IV is not one block long");
    let bad_padding =
        |_| SmimeError::ContentDecryption("bad padding (wrong key or altered content)");
    let content = match cipher {
        Cipher::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, iv.as_bytes())
            .map_err(bad_iv)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(bad_padding)?,
        Cipher::Aes192Cbc => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, iv.as_bytes())
            .map_err(bad_iv)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(bad_padding)?,
        Cipher::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, iv.as_bytes())
            .map_err(bad_iv)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(bad_padding)?,
        Cipher::TripleDesCbc => {
            cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, iv.as_bytes())
                .map_err(bad_iv)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext)
                .map_err(bad_padding)?
        }
        Cipher::Aes128Gcm | Cipher::Aes256Gcm => {
            return Err(SmimeError::ContentDecryption("GCM without its tag"));
        }
    };
    Ok((cipher, content))
}

/// How the content key was encrypted for us.
enum KeyTransport {
    Pkcs1v15,
    /// RSAES-OAEP with its defaults (SHA-1, MGF1 with SHA-1, no label).
    OaepSha1,
    /// RSAES-OAEP with SHA-256 and MGF1 with SHA-256.
    OaepSha256,
}

fn key_transport(algorithm: &AlgorithmIdentifierOwned) -> Result<KeyTransport, SmimeError> {
    let unsupported = || SmimeError::KeyTransport(algorithm.oid.to_string());
    match algorithm.oid {
        RSA_ENCRYPTION => Ok(KeyTransport::Pkcs1v15),
        RSAES_OAEP => {
            let Some(params) = &algorithm.parameters else {
                return Ok(KeyTransport::OaepSha1);
            };
            let der = params.to_der().map_err(asn1("RSAES-OAEP parameters"))?;
            let params = rsa::pkcs1::RsaOaepParams::from_der(&der).map_err(|_| unsupported())?;
            let mgf_hash = params
                .mask_gen
                .parameters
                .as_ref()
                .map(|p| p.oid)
                .ok_or_else(unsupported)?;
            if params
                .p_source
                .parameters
                .is_some_and(|label| !label.value().is_empty())
            {
                return Err(unsupported());
            }
            match (params.hash.oid, mgf_hash) {
                (SHA1, SHA1) => Ok(KeyTransport::OaepSha1),
                (SHA256, SHA256) => Ok(KeyTransport::OaepSha256),
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

/// Compresses `content` with zlib (DER ContentInfo of CompressedData).
pub fn compress(content: &[u8]) -> Result<Vec<u8>, SmimeError> {
    let err = |e: cms::der::Error| SmimeError::Compress(e.to_string());
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, content)
        .map_err(|e| SmimeError::Compress(e.to_string()))?;
    let zlib = encoder
        .finish()
        .map_err(|e| SmimeError::Compress(e.to_string()))?;
    let compressed = CompressedData {
        version: CmsVersion::V0,
        compression_alg: AlgorithmIdentifierOwned {
            oid: ID_ZLIB,
            parameters: None,
        },
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: Some(Any::encode_from(&OctetString::new(zlib).map_err(err)?).map_err(err)?),
        },
    };
    content_info(ID_COMPRESSED_DATA, &compressed).map_err(err)
}

/// Inflates a CompressedData, refusing more than `limit` bytes.
pub fn decompress(der: &[u8], limit: usize) -> Result<Vec<u8>, SmimeError> {
    let info = open_content_info(der, ID_COMPRESSED_DATA, "compressed-data")?;
    let compressed: CompressedData = info.content.decode_as().map_err(asn1("compressed-data"))?;
    if compressed.compression_alg.oid != ID_ZLIB {
        return Err(SmimeError::CompressionAlgorithm(
            compressed.compression_alg.oid.to_string(),
        ));
    }
    let data = compressed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or(SmimeError::Inflate("no content".into()))?
        .decode_as::<OctetString>()
        .map_err(asn1("compressed content"))?;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data.as_bytes())
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| SmimeError::Inflate(e.to_string()))?;
    if out.len() > limit {
        return Err(SmimeError::TooLarge { limit });
    }
    Ok(out)
}
