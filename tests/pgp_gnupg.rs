//! `dropgate::pgp` against GnuPG, both ways: what gpg encrypts and signs
//! (armoured and binary, RSA and Curve25519 keys) opens with our key and
//! the partner's signature is found; what we seal gpg decrypts and finds
//! our good signature on; and each way it fails says why (a file for
//! another key, an altered file, a stranger's signature, none where one is
//! required, a wrong passphrase).

mod support;

use dropgate::pgp::{self, OpenError, PublicKey, Seal, SecretKey, Signatures};
use support::gpg::Gpg;

const X12: &[u8] = b"ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240101*1200*U*00401*000000001*0*P*>~\n";
const LIMIT: u64 = 1 << 20;

/// The partner's GnuPG with its key, and ours made there too and exported
/// (as a user exports the gateway's key from the gpg it made it with).
struct Pair {
    partner: Gpg,
    ours: SecretKey,
    theirs: PublicKey,
}

fn pair(our_algo: &str, passphrase: Option<&str>) -> Option<Pair> {
    let partner = Gpg::new()?;
    partner.make_key("Partner <edi@partner.example>", "future-default", None);
    let us = Gpg::new()?;
    us.make_key("Gateway <edi@retailer.example>", our_algo, passphrase);
    partner.import(&us.export_public("edi@retailer.example", true));
    let ours = SecretKey::read(
        &us.export_secret("edi@retailer.example", passphrase),
        passphrase,
    )
    .expect("our key reads");
    let theirs =
        PublicKey::read(&partner.export_public("edi@partner.example", false)).expect("theirs");
    Some(Pair {
        partner,
        ours,
        theirs,
    })
}

#[test]
fn gnupg_files_open_armoured_and_binary_with_the_signature_found() {
    let Some(p) = pair("rsa3072", Some("s3cret")) else {
        return;
    };
    for armor in [false, true] {
        let sealed = p.partner.encrypt(
            X12,
            "edi@retailer.example",
            Some(("edi@partner.example", None)),
            armor,
        );
        assert!(pgp::is_message(&sealed));
        let opened = pgp::open(
            &sealed,
            Some(&p.ours),
            std::slice::from_ref(&p.theirs),
            Signatures::Required,
            LIMIT,
        )
        .expect("opens");
        assert_eq!(opened.content, X12);
        assert_eq!(opened.armored, armor);
        assert_eq!(opened.decrypted_with, Some(p.ours.describe()));
        assert_eq!(opened.signed_by, Some(p.theirs.describe()));
        assert!(p.theirs.describe().contains("edi@partner.example"));
    }
    // Encrypted, not signed: taken where a signature is optional only.
    let unsigned = p.partner.encrypt(X12, "edi@retailer.example", None, false);
    let opened =
        pgp::open(&unsigned, Some(&p.ours), &[], Signatures::Optional, LIMIT).expect("opens");
    assert_eq!((opened.content.as_slice(), opened.signed_by), (X12, None));
    let refused = pgp::open(
        &unsigned,
        Some(&p.ours),
        std::slice::from_ref(&p.theirs),
        Signatures::Required,
        LIMIT,
    );
    assert!(matches!(refused, Err(OpenError::Unsigned)), "{refused:?}");
    // Signed, not encrypted.
    let signed = p.partner.sign(X12, "edi@partner.example", None);
    let opened = pgp::open(
        &signed,
        None,
        std::slice::from_ref(&p.theirs),
        Signatures::Required,
        LIMIT,
    )
    .expect("opens");
    assert_eq!(opened.decrypted_with, None);
    assert_eq!(opened.signed_by, Some(p.theirs.describe()));
    // Over the limit.
    let big = p
        .partner
        .encrypt(&[b'x'; 5000], "edi@retailer.example", None, false);
    let refused = pgp::open(&big, Some(&p.ours), &[], Signatures::Optional, 4096);
    assert!(matches!(refused, Err(OpenError::TooLarge { limit: 4096 })));
}

#[test]
fn what_we_seal_gnupg_decrypts_with_our_good_signature() {
    let Some(p) = pair("future-default", None) else {
        return;
    };
    for armor in [false, true] {
        let sealed = pgp::seal(
            X12,
            &Seal {
                to: std::slice::from_ref(&p.theirs),
                ours: Some(&p.ours),
                sign: true,
                armor,
                file_name: "acme-997-1.edi",
                now: now(),
            },
            pgp::system_rng(),
        )
        .expect("sealed");
        assert_eq!(sealed.starts_with(b"-----BEGIN PGP MESSAGE-----"), armor);
        let decrypted = p.partner.decrypt(&sealed, None).expect("gpg decrypts");
        assert_eq!(decrypted.content, X12);
        assert_eq!(
            decrypted.valid_signature().as_deref(),
            Some(p.ours.fingerprint().as_str()),
            "{}",
            decrypted.status
        );
        // We can read back what we sent: it is encrypted for us too.
        let back = pgp::open(
            &sealed,
            Some(&p.ours),
            &[p.ours.public()],
            Signatures::Required,
            LIMIT,
        )
        .expect("reads back");
        assert_eq!(back.content, X12);
        assert_eq!(back.signed_by, Some(p.ours.describe()));
    }
    // Encrypted, not signed.
    let sealed = pgp::seal(
        X12,
        &Seal {
            to: std::slice::from_ref(&p.theirs),
            ours: Some(&p.ours),
            sign: false,
            armor: false,
            file_name: "x.edi",
            now: now(),
        },
        pgp::system_rng(),
    )
    .expect("sealed");
    let decrypted = p.partner.decrypt(&sealed, None).expect("gpg decrypts");
    assert_eq!(decrypted.content, X12);
    assert_eq!(decrypted.valid_signature(), None);
}

#[test]
fn failures_say_why() {
    let Some(p) = pair("future-default", Some("right")) else {
        return;
    };
    let theirs = std::slice::from_ref(&p.theirs);
    // For another key of ours (an old one the partner still has).
    let other = Gpg::new().expect("gpg");
    other.make_key("Old <old@retailer.example>", "future-default", None);
    p.partner
        .import(&other.export_public("old@retailer.example", true));
    let for_old = p.partner.encrypt(X12, "old@retailer.example", None, true);
    let e = pgp::open(&for_old, Some(&p.ours), theirs, Signatures::Optional, LIMIT)
        .expect_err("not for us");
    assert!(matches!(e, OpenError::NotForUs { .. }), "{e:?}");
    assert!(e.to_string().contains(&p.ours.fingerprint()), "{e}");
    // Encrypted, and no secret key configured.
    let e = pgp::open(&for_old, None, theirs, Signatures::Optional, LIMIT).expect_err("no key");
    assert!(matches!(e, OpenError::NoSecretKey { .. }), "{e:?}");
    // Signed by a stranger.
    let stranger = Gpg::new().expect("gpg");
    stranger.make_key("Mallory <m@evil.example>", "future-default", None);
    stranger.import(&p.ours.public_armored());
    let by_stranger = stranger.encrypt(
        X12,
        "edi@retailer.example",
        Some(("m@evil.example", None)),
        false,
    );
    let e = pgp::open(
        &by_stranger,
        Some(&p.ours),
        theirs,
        Signatures::Optional,
        LIMIT,
    )
    .expect_err("stranger");
    assert!(matches!(e, OpenError::UnknownSigner { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&stranger.fingerprint("m@evil.example")),
        "{e}"
    );
    // Signed by the partner, then altered: a signed-only file with one
    // byte of its content changed.
    let mut signed = p.partner.sign(X12, "edi@partner.example", None);
    assert!(!pgp::is_message(b"") && pgp::is_message(&signed));
    let at = find(&signed, b"VENDORID").expect("content in the clear");
    signed[at] = b'W';
    let e = pgp::open(&signed, None, theirs, Signatures::Optional, LIMIT).expect_err("altered");
    assert!(matches!(e, OpenError::BadSignature { .. }), "{e:?}");
    // Not OpenPGP.
    let e = pgp::open(X12, Some(&p.ours), theirs, Signatures::Optional, LIMIT).expect_err("plain");
    assert!(matches!(e, OpenError::Unreadable(_)), "{e:?}");
    // The passphrase.
    let us = Gpg::new().expect("gpg");
    us.make_key(
        "Locked <l@retailer.example>",
        "future-default",
        Some("right"),
    );
    let armored = us.export_secret("l@retailer.example", Some("right"));
    assert!(SecretKey::read(&armored, Some("right")).is_ok());
    let wrong = SecretKey::read(&armored, Some("wrong")).expect_err("wrong passphrase");
    assert!(wrong.to_string().contains("does not unlock"), "{wrong}");
    let none = SecretKey::read(&armored, None).expect_err("no passphrase");
    assert!(none.to_string().contains("passphrase_env"), "{none}");
    assert!(PublicKey::read(b"not a key").is_err());
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
