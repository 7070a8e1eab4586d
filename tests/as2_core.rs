//! `dropgate::as2` against itself, with keys the `openssl` CLI makes:
//! every combination of signing (SHA-256/384/512), encryption, compression
//! before or after signing and signed MDNs round-trips; each refusal names
//! what went wrong and maps to its MDN disposition modifier; keys and
//! certificates are checked (expired, EC, mismatched, encrypted); bounds
//! refuse oversized or deeply nested input. pyas2lib is in
//! tests/as2_pyas2lib.rs.

mod support;

use std::time::{Duration, SystemTime};

use dropgate::as2::mdn::{self, Expected, MdnError, MdnReport};
use dropgate::as2::message::{self, BuildError, Policy, Receiving};
use dropgate::as2::mime::{Header, Limits, MimeError};
use dropgate::as2::smime::{self, SmimeError};
use dropgate::as2::{
    Certificate, Cipher, Compression, DigestAlgorithm, Disposition, DispositionModifier, Identity,
    InboundError, KeyError, MdnDelivery, MdnRequest, OutboundOptions, PrivateKey, system_rng,
};
use support::as2_keys::{self, Party};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn identity(p: &Party) -> Result<Identity> {
    Ok(Identity::from_pem_or_der(
        &std::fs::read(&p.cert)?,
        &std::fs::read(&p.key)?,
    )?)
}

fn certificate(p: &Party) -> Result<Certificate> {
    Ok(Certificate::from_pem_or_der(&std::fs::read(&p.cert)?)?)
}

fn headers(pairs: &[(String, String)]) -> Vec<Header> {
    pairs
        .iter()
        .map(|(name, value)| Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn options(
    sign: Option<DigestAlgorithm>,
    encrypt: Option<Cipher>,
    compress: Option<Compression>,
    mdn: Option<DigestAlgorithm>,
) -> OutboundOptions {
    OutboundOptions {
        from: "GATEWAY".into(),
        to: "PARTNER CO".into(),
        message_id: "core-1@dropgate.example".into(),
        subject: "orders".into(),
        filename: Some("orders 1.edi".into()),
        content_type: "application/edi-x12".into(),
        sign,
        encrypt,
        compress,
        mdn: Some(MdnRequest {
            notification_to: "as2@dropgate.example".into(),
            signed: mdn,
            delivery: MdnDelivery::Async {
                url: "https://gateway.example/as2/mdn".into(),
            },
        }),
    }
}

#[test]
fn every_combination_round_trips_with_a_matching_mic_and_mdn() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let gateway = identity(&as2_keys::rsa(dir.path(), "GATEWAY")?)?;
    let partner = identity(&as2_keys::rsa(dir.path(), "PARTNER")?)?;
    let now = SystemTime::now();
    let mut rng = system_rng();
    let payload: Vec<u8> = b"ISA*00*~\nGS*PO~\r\n"
        .iter()
        .copied()
        .chain(0..=255u8)
        .collect();
    let limits = Limits::default();
    for sign in [
        None,
        Some(DigestAlgorithm::Sha256),
        Some(DigestAlgorithm::Sha384),
        Some(DigestAlgorithm::Sha512),
    ] {
        for encrypt in [
            None,
            Some(Cipher::Aes128Cbc),
            Some(Cipher::Aes192Cbc),
            Some(Cipher::Aes256Cbc),
        ] {
            for compress in [
                None,
                Some(Compression::BeforeSigning),
                Some(Compression::AfterSigning),
            ] {
                let what = format!("{sign:?} {encrypt:?} {compress:?}");
                let out = message::build(
                    &payload,
                    &options(sign, encrypt, compress, sign),
                    &gateway,
                    partner.certificate(),
                    now,
                    &mut rng,
                )?;
                let receiving = Receiving {
                    us: &partner,
                    partner: gateway.certificate(),
                    policy: Policy {
                        require_signed: sign.is_some(),
                        require_encrypted: encrypt.is_some(),
                    },
                    limits: &limits,
                };
                let inbound =
                    message::open(&headers(&out.headers), &out.body, &receiving, now, &mut rng)
                        .map_err(|e| format!("{what}: {e}"))?;
                assert_eq!(inbound.payload, payload, "{what}");
                assert_eq!(inbound.filename.as_deref(), Some("orders 1.edi"), "{what}");
                assert_eq!(inbound.envelope.to, "PARTNER CO", "{what}");
                assert_eq!(inbound.signed, sign, "{what}");
                assert_eq!(inbound.encrypted, encrypt, "{what}");
                assert_eq!(inbound.compressed, compress.is_some(), "{what}");
                assert_eq!(inbound.mic, out.mic, "{what}: the MICs");
                let request = inbound.envelope.mdn.clone().ok_or("no MDN request")?;
                assert_eq!(request.signed, sign, "{what}");
                assert_eq!(
                    request.delivery,
                    MdnDelivery::Async {
                        url: "https://gateway.example/as2/mdn".into()
                    }
                );
                let report = MdnReport::processed(&inbound, "dropgate");
                let built = mdn::build(
                    &report,
                    "PARTNER CO",
                    "GATEWAY",
                    "mdn-1@partner.example",
                    request.signed.map(|d| (d, &partner)),
                    now,
                    &mut rng,
                )?;
                let expected = Expected {
                    message_id: &out.message_id,
                    mic: out.signed.then_some(&out.mic),
                    signed_mdn: sign.is_some(),
                };
                let outcome = mdn::parse(
                    &headers(&built.headers),
                    &built.body,
                    partner.certificate(),
                    &expected,
                    now,
                    &limits,
                )
                .map_err(|e| format!("{what}: the MDN: {e}"))?;
                assert!(outcome.processed(), "{what}");
                assert_eq!(outcome.signed, sign, "{what}");
                assert_eq!(outcome.report, report, "{what}");
            }
        }
    }
    Ok(())
}

#[test]
fn refusals_name_the_fault_and_its_modifier() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let gateway = identity(&as2_keys::rsa(dir.path(), "GATEWAY")?)?;
    let partner = identity(&as2_keys::rsa(dir.path(), "PARTNER")?)?;
    let stranger = identity(&as2_keys::rsa(dir.path(), "STRANGER")?)?;
    let now = SystemTime::now();
    let mut rng = system_rng();
    let limits = Limits::default();
    let receiving = Receiving {
        us: &partner,
        partner: gateway.certificate(),
        policy: Policy::default(),
        limits: &limits,
    };
    let open = |out: &dropgate::as2::Outbound, receiving: &Receiving<'_>| -> InboundError {
        match message::open(
            &headers(&out.headers),
            &out.body,
            receiving,
            now,
            &mut system_rng(),
        ) {
            Ok(_) => panic!("a bad message was opened"),
            Err(e) => e,
        }
    };

    // Signed by the stranger in the gateway's name.
    let out = message::build(
        b"PO",
        &options(Some(DigestAlgorithm::Sha256), None, None, None),
        &stranger,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    let err = open(&out, &receiving);
    assert_eq!(
        err.modifier(),
        DispositionModifier::AuthenticationFailed,
        "{err}"
    );
    assert!(
        matches!(
            err,
            InboundError::Signature(SmimeError::BadSignature { .. })
        ),
        "{err}"
    );

    // The signed payload altered on the way.
    let mut out = message::build(
        b"PO-123",
        &options(Some(DigestAlgorithm::Sha256), None, None, None),
        &gateway,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    let at = out
        .body
        .windows(6)
        .position(|w| w == b"PO-123")
        .ok_or("no payload")?;
    out.body[at + 5] = b'4';
    let err = open(&out, &receiving);
    assert_eq!(
        err.modifier(),
        DispositionModifier::IntegrityCheckFailed,
        "{err}"
    );

    // Encrypted for the partner, opened by the stranger.
    let out = message::build(
        b"PO",
        &options(None, Some(Cipher::Aes256Cbc), None, None),
        &gateway,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    let wrong = Receiving {
        us: &stranger,
        ..receiving
    };
    let err = open(&out, &wrong);
    assert_eq!(
        err.modifier(),
        DispositionModifier::DecryptionFailed,
        "{err}"
    );

    // Plain when the partnership requires encryption.
    let out = message::build(
        b"PO",
        &options(None, None, None, None),
        &gateway,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    let strict = Receiving {
        policy: Policy {
            require_signed: false,
            require_encrypted: true,
        },
        ..receiving
    };
    let err = open(&out, &strict);
    assert_eq!(
        err.modifier(),
        DispositionModifier::InsufficientMessageSecurity,
        "{err}"
    );

    // No AS2-To.
    let mut out = message::build(
        b"PO",
        &options(None, None, None, None),
        &gateway,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    out.headers.retain(|(n, _)| n != "AS2-To");
    let err = open(&out, &receiving);
    assert_eq!(
        err.modifier(),
        DispositionModifier::UnexpectedProcessingError,
        "{err}"
    );

    // A compression bomb: 4 MiB of zeros against a 1 MiB limit.
    let bomb = vec![0u8; 4 << 20];
    let out = message::build(
        &bomb,
        &options(None, None, Some(Compression::BeforeSigning), None),
        &gateway,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    assert!(out.body.len() < 64 * 1024);
    let small = Limits {
        max_content_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = open(
        &out,
        &Receiving {
            limits: &small,
            ..receiving
        },
    );
    assert_eq!(
        err.modifier(),
        DispositionModifier::DecompressionFailed,
        "{err}"
    );
    assert!(
        matches!(
            err,
            InboundError::Decompression(SmimeError::TooLarge { limit: 1_048_576 })
        ),
        "{err}"
    );

    // An error MDN reads back as such, and a processed MDN whose MIC is not ours is bad.
    let out = message::build(
        b"PO",
        &options(
            Some(DigestAlgorithm::Sha256),
            None,
            None,
            Some(DigestAlgorithm::Sha256),
        ),
        &gateway,
        partner.certificate(),
        now,
        &mut rng,
    )?;
    let mut report = MdnReport {
        reporting_ua: "dropgate".into(),
        original_recipient: "PARTNER CO".into(),
        final_recipient: "PARTNER CO".into(),
        original_message_id: out.message_id.clone(),
        mic: None,
        disposition: Disposition::error(DispositionModifier::DecryptionFailed),
    };
    let expected = Expected {
        message_id: &out.message_id,
        mic: Some(&out.mic),
        signed_mdn: true,
    };
    let built = mdn::build(
        &report,
        "PARTNER CO",
        "GATEWAY",
        "m@p",
        Some((DigestAlgorithm::Sha256, &partner)),
        now,
        &mut rng,
    )?;
    let outcome = mdn::parse(
        &headers(&built.headers),
        &built.body,
        partner.certificate(),
        &expected,
        now,
        &limits,
    )?;
    assert_eq!(
        outcome.report.disposition,
        Disposition::Error("decryption-failed".into())
    );
    report.disposition = Disposition::Processed;
    report.mic = Some(dropgate::as2::Mic::compute(
        DigestAlgorithm::Sha256,
        b"not what was sent",
    ));
    let built = mdn::build(
        &report,
        "PARTNER CO",
        "GATEWAY",
        "m@p",
        Some((DigestAlgorithm::Sha256, &partner)),
        now,
        &mut rng,
    )?;
    let bad = mdn::parse(
        &headers(&built.headers),
        &built.body,
        partner.certificate(),
        &expected,
        now,
        &limits,
    );
    assert!(matches!(bad, Err(MdnError::MicMismatch { .. })), "{bad:?}");
    // Unsigned when a signed one was asked for.
    let built = mdn::build(&report, "PARTNER CO", "GATEWAY", "m@p", None, now, &mut rng)?;
    let bad = mdn::parse(
        &headers(&built.headers),
        &built.body,
        partner.certificate(),
        &expected,
        now,
        &limits,
    );
    assert!(matches!(bad, Err(MdnError::Unsigned)), "{bad:?}");
    Ok(())
}

#[test]
fn keys_and_certificates_are_checked() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let good = as2_keys::rsa(dir.path(), "GOOD")?;
    let other = as2_keys::rsa(dir.path(), "OTHER")?;
    let expired = as2_keys::expired(dir.path(), "EXPIRED")?;
    let ec = as2_keys::ec(dir.path(), "ELLIPTIC")?;
    let now = SystemTime::now();

    let cert = certificate(&good)?;
    cert.check_valid_at(now)?;
    assert!(matches!(
        cert.check_valid_at(now + Duration::from_secs(31 * 86_400)),
        Err(KeyError::Expired { .. })
    ));
    assert!(matches!(
        cert.check_valid_at(now - Duration::from_secs(86_400)),
        Err(KeyError::NotYetValid { .. })
    ));
    // DER works as PEM does.
    assert_eq!(
        Certificate::from_pem_or_der(cert.der())?.subject(),
        "CN=GOOD test AS2"
    );

    let old = certificate(&expired)?;
    let err = old
        .check_valid_at(now)
        .err()
        .ok_or("an expired certificate passed")?;
    assert!(
        err.to_string()
            .contains("CN=EXPIRED test AS2 expired on 2020-02-01"),
        "{err}"
    );
    // We do not sign with an expired certificate, nor encrypt for one.
    let us = identity(&expired)?;
    let build = message::build(
        b"x",
        &options(Some(DigestAlgorithm::Sha256), None, None, None),
        &us,
        &cert,
        now,
        &mut system_rng(),
    );
    assert!(
        matches!(
            build,
            Err(BuildError::Certificate {
                which: "our signing",
                ..
            })
        ),
        "{build:?}"
    );
    let build = message::build(
        b"x",
        &options(None, Some(Cipher::Aes128Cbc), None, None),
        &identity(&good)?,
        &old,
        now,
        &mut system_rng(),
    );
    assert!(
        matches!(build, Err(BuildError::Certificate { .. })),
        "{build:?}"
    );

    let err = Certificate::from_pem_or_der(&std::fs::read(&ec.cert)?)
        .err()
        .ok_or("EC accepted")?;
    assert!(matches!(err, KeyError::NotRsa { .. }), "{err}");
    assert!(PrivateKey::from_pem_or_der(&std::fs::read(&ec.key)?).is_err());

    let err = Identity::from_pem_or_der(&std::fs::read(&good.cert)?, &std::fs::read(&other.key)?)
        .err()
        .ok_or("a foreign key was paired")?;
    assert!(matches!(err, KeyError::KeyMismatch { .. }), "{err}");

    let encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(matches!(
        PrivateKey::from_pem_or_der(encrypted),
        Err(KeyError::EncryptedKey { .. })
    ));
    assert!(matches!(
        Certificate::from_pem_or_der(b"not a certificate"),
        Err(KeyError::Certificate(_))
    ));
    Ok(())
}

#[test]
fn cms_layers_refuse_what_is_not_theirs() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let us = identity(&as2_keys::rsa(dir.path(), "US")?)?;
    let mut rng = system_rng();
    assert!(matches!(
        smime::sign(
            b"x",
            DigestAlgorithm::Sha1,
            &us,
            SystemTime::now(),
            &mut rng
        ),
        Err(SmimeError::WeakDigest("sha-1"))
    ));
    // 3DES is read, never sent.
    assert!(matches!(
        smime::encrypt(b"x", Cipher::TripleDesCbc, us.certificate(), &mut rng),
        Err(SmimeError::Encrypt(_))
    ));
    let compressed = smime::compress(b"hello")?;
    assert_eq!(smime::decompress(&compressed, 5)?, b"hello");
    assert!(matches!(
        smime::decompress(&compressed, 4),
        Err(SmimeError::TooLarge { limit: 4 })
    ));
    assert!(matches!(
        smime::decrypt(&compressed, &us, &mut rng),
        Err(SmimeError::ContentType { .. })
    ));
    assert!(matches!(
        smime::verify(b"x", b"\x30\x00", us.certificate()),
        Err(SmimeError::Asn1 { .. })
    ));
    // A MIME body nested past the limit.
    let shallow = Limits {
        max_depth: 1,
        ..Limits::default()
    };
    let out = message::build(
        b"x",
        &options(
            Some(DigestAlgorithm::Sha256),
            None,
            Some(Compression::AfterSigning),
            None,
        ),
        &us,
        us.certificate(),
        SystemTime::now(),
        &mut rng,
    )?;
    let receiving = Receiving {
        us: &us,
        partner: us.certificate(),
        policy: Policy::default(),
        limits: &shallow,
    };
    let err = message::open(
        &headers(&out.headers),
        &out.body,
        &receiving,
        SystemTime::now(),
        &mut rng,
    )
    .err()
    .ok_or("too deep accepted")?;
    assert!(
        matches!(err, InboundError::Mime(MimeError::TooDeep { limit: 1 })),
        "{err}"
    );
    Ok(())
}

/// Arbitrary bytes under each content type an AS2 body may claim, and
/// arbitrary mutations of a real message, are refused or opened, never a
/// panic.
#[test]
fn arbitrary_bodies_never_panic() -> Result<()> {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let dir = tempfile::tempdir()?;
    let us = identity(&as2_keys::rsa(dir.path(), "US")?)?;
    let now = SystemTime::now();
    let real = message::build(
        b"ISA*00~",
        &options(
            Some(DigestAlgorithm::Sha256),
            Some(Cipher::Aes128Cbc),
            Some(Compression::BeforeSigning),
            Some(DigestAlgorithm::Sha256),
        ),
        &us,
        us.certificate(),
        now,
        &mut system_rng(),
    )?;
    let signed_only = message::build(
        b"ISA*00~",
        &options(
            Some(DigestAlgorithm::Sha256),
            None,
            Some(Compression::AfterSigning),
            None,
        ),
        &us,
        us.certificate(),
        now,
        &mut system_rng(),
    )?;
    let limits = Limits::default();
    let receiving = Receiving {
        us: &us,
        partner: us.certificate(),
        policy: Policy::default(),
        limits: &limits,
    };
    let content_types = [
        "application/pkcs7-mime; smime-type=enveloped-data",
        "application/pkcs7-mime; smime-type=compressed-data",
        "multipart/signed; boundary=b",
        "multipart/report; boundary=b",
        "application/edi-x12",
    ];
    let mut runner = TestRunner::new(Config {
        cases: 256,
        ..Config::default()
    });
    runner
        .run(
            &(
                0..content_types.len(),
                proptest::collection::vec(any::<u8>(), 0..512),
                any::<usize>(),
                any::<u8>(),
                any::<bool>(),
            ),
            |(kind, noise, at, byte, mutate_real)| {
                let (mut hs, body) = if mutate_real {
                    let source = if at % 2 == 0 { &real } else { &signed_only };
                    let mut body = source.body.clone();
                    let i = at % body.len().max(1);
                    if let Some(b) = body.get_mut(i) {
                        *b = byte;
                    }
                    body.truncate(body.len() - (at % 7).min(body.len()));
                    (source.headers.clone(), body)
                } else {
                    let mut hs = real.headers.clone();
                    hs.retain(|(n, _)| n != "Content-Type");
                    hs.push(("Content-Type".into(), content_types[kind].into()));
                    (hs, noise)
                };
                hs.push(("X-Case".into(), "1".into()));
                let _ = message::open(&headers(&hs), &body, &receiving, now, &mut system_rng());
                let expected = Expected {
                    message_id: "m",
                    mic: Some(&real.mic),
                    signed_mdn: false,
                };
                let _ = mdn::parse(
                    &headers(&hs),
                    &body,
                    us.certificate(),
                    &expected,
                    now,
                    &limits,
                );
                Ok(())
            },
        )
        .map_err(|e| format!("{e}"))?;
    Ok(())
}
