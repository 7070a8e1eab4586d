//! AS2 (RFC 4130) messages and MDNs as bytes in, bytes out: no network,
//! no store, no clock and no randomness of its own (the time and a
//! random number generator are handed in; [`system_rng`] is the one place
//! that makes a real one).
//!
//! From the bottom up:
//!
//! - [`keys`]: certificates (PEM or DER X.509) and RSA private keys,
//!   loaded and checked (validity period, key matches certificate).
//! - [`keygen`]: a new key and self-signed certificate for a partnership.
//! - [`mime`]: the strict, bounded MIME reader and writer AS2 needs
//!   (headers, parameters, multipart, transfer encodings).
//! - [`mic`]: digest algorithms and the MIC returned in an MDN.
//! - [`smime`]: CMS signing and verifying (detached SignedData),
//!   enveloping (AES-CBC, RSA key transport) and compression (zlib).
//! - [`message`]: an AS2 message built from a payload, and an inbound one
//!   opened (decrypted, decompressed, verified) into its payload and MIC,
//!   or refused with the MDN disposition modifier that says why.
//! - [`mdn`]: MDNs (multipart/report) built, signed when asked, and read
//!   back against the message they answer.

pub mod keygen;
pub mod keys;
pub mod mdn;
pub mod message;

pub mod mic;
pub mod mime;
pub mod smime;

pub use keys::{Certificate, Identity, KeyError, PrivateKey};
pub use mdn::{Disposition, DispositionModifier, Mdn, MdnError, MdnOutcome, MdnReport};
pub use message::{
    Compression, Envelope, Inbound, InboundError, MdnDelivery, MdnRequest, Outbound,
    OutboundOptions, Policy, Receiving,
};
pub use smime::Cipher;

pub use mic::{DigestAlgorithm, Mic};

/// The random number generator type the functions of this module take.
pub use rsa::rand_core::CryptoRng;

/// The operating system's random number generator, the one real source
/// of randomness for AS2 (content keys, IVs, boundaries, RSA blinding).
/// A failing system generator panics: there is no safe way to go on.
pub fn system_rng() -> impl CryptoRng {
    rsa::rand_core::UnwrapErr(getrandom::SysRng)
}
