//! OpenPGP messages as bytes in, bytes out (RFC 9580, as GnuPG writes and
//! reads them), on the `pgp` crate (rPGP): our secret key and partners'
//! public keys read from their bytes (`keys.rs`), a received message
//! decrypted and its signature checked (`open.rs`), a file to send
//! encrypted and signed (`seal.rs`). No I/O, no clock (the time is a
//! parameter) and no randomness of its own (a `CryptoRng` is a parameter;
//! [`system_rng`] is the one real source). Imports nothing from the crate.

pub mod keys;
pub mod open;
pub mod seal;

pub use keys::{KeyError, PublicKey, SecretKey};
pub use open::{OpenError, Opened, Signatures, open};
pub use seal::{Seal, SealError, seal};

/// The operating system's random numbers, for what is sealed.
pub fn system_rng() -> rand_core06::OsRng {
    rand_core06::OsRng
}

/// Whether `bytes` start like an OpenPGP message: ASCII armour
/// (`-----BEGIN PGP MESSAGE-----`, after blank space) or a binary packet
/// of a kind a message starts with (an encrypted session key, a
/// signature, a one-pass signature, compressed, literal or encrypted
/// data).
pub fn is_message(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let text = bytes.get(start..).unwrap_or_default();
    if text.starts_with(b"-----BEGIN PGP MESSAGE-----") {
        return true;
    }
    let Some(&first) = bytes.first() else {
        return false;
    };
    if first & 0x80 == 0 {
        return false;
    }
    // New format: the tag in the low six bits; old format: bits 5..2.
    let tag = match first & 0x40 {
        0 => (first >> 2) & 0x0f,
        _ => first & 0x3f,
    };
    matches!(tag, 1 | 2 | 3 | 4 | 8 | 9 | 11 | 18 | 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_told_from_other_files() {
        assert!(is_message(b"\n-----BEGIN PGP MESSAGE-----\n\nhQEMA"));
        // A public-key encrypted session key, old and new format.
        assert!(is_message(&[0x85, 0x01, 0x0c]));
        assert!(is_message(&[0xc1, 0x5e, 0x03]));
        // Compressed data (GnuPG's `--sign` without encryption).
        assert!(is_message(&[0xa3, 0x01]));
        assert!(!is_message(b"ISA*00*          *00*"));
        assert!(!is_message(b""));
        // A public key (tag 6) is not a message.
        assert!(!is_message(&[0x99, 0x01, 0x0d]));
        assert!(!is_message(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    }
}
