//! dropgate's AS2 messages and MDNs (`dropgate::as2`) against an
//! independent implementation, pyas2lib, offline (no HTTP): every
//! combination of signing, encryption (none, AES-128-CBC, AES-256-CBC),
//! compression and signed or unsigned MDN, in both directions, with the
//! payload byte-exact, the MICs equal and the MDNs verified; and bad
//! messages (another key's signature, an altered body, the wrong
//! decryption key, an expired certificate) refused with the right MDN
//! disposition modifier.
//!
//! Keys are made at test time with the `openssl` CLI. pyas2lib runs in
//! the virtualenv of scripts/lib/as2-peers.sh (tests/support/as2_offline.py).

mod support;

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dropgate::as2::mdn::{self, Expected, MdnReport};
use dropgate::as2::message::{self, Policy, Receiving};
use dropgate::as2::mime::{Header, Limits};
use dropgate::as2::smime;
use dropgate::as2::{
    Certificate, Cipher, Compression, DigestAlgorithm, Disposition, DispositionModifier, Identity,
    MdnDelivery, MdnRequest, OutboundOptions, system_rng,
};
use serde_json::{Value, json};
use support::as2_keys::{self, Party};
use support::python_peers;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const SCRIPT: &str = include_str!("support/as2_offline.py");

/// An X12 interchange without line breaks, and binary bytes: both must
/// arrive byte for byte.
const X12: &[u8] = b"ISA*00*          *00*          *ZZ*GATEWAY        *ZZ*PARTNER        *261206*1200*U*00401*000000001*0*P*>~GS*PO*GATEWAY*PARTNER*20261206*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO-1**20261206~SE*3*0001~GE*1*1~IEA*1*000000001~";

struct Keys {
    _dir: tempfile::TempDir,
    gateway: Party,
    partner: Party,
    stranger: Party,
    expired: Party,
}

fn keys() -> Result<Keys> {
    let dir = tempfile::tempdir()?;
    Ok(Keys {
        gateway: as2_keys::rsa(dir.path(), "GATEWAY")?,
        partner: as2_keys::rsa(dir.path(), "PARTNER")?,
        stranger: as2_keys::rsa(dir.path(), "STRANGER")?,
        expired: as2_keys::expired(dir.path(), "EXPIRED")?,
        _dir: dir,
    })
}

fn identity(p: &Party) -> Result<Identity> {
    Ok(Identity::from_pem_or_der(
        &std::fs::read(&p.cert)?,
        &std::fs::read(&p.key)?,
    )?)
}

fn certificate(p: &Party) -> Result<Certificate> {
    Ok(Certificate::from_pem_or_der(&std::fs::read(&p.cert)?)?)
}

#[derive(Clone, Copy, Debug)]
struct Combo {
    sign: bool,
    encrypt: Option<Cipher>,
    compress: Option<Compression>,
    mdn_signed: bool,
    /// For the signature and the MDN's signature.
    digest: DigestAlgorithm,
}

/// Every combination; compression after signing only when `after` (pyas2lib
/// compresses before signing, and reads both).
fn combos(after: bool) -> Vec<Combo> {
    let compressions: &[Option<Compression>] = if after {
        &[
            None,
            Some(Compression::BeforeSigning),
            Some(Compression::AfterSigning),
        ]
    } else {
        &[None, Some(Compression::BeforeSigning)]
    };
    let mut out = Vec::new();
    for sign in [false, true] {
        for encrypt in [None, Some(Cipher::Aes128Cbc), Some(Cipher::Aes256Cbc)] {
            for &compress in compressions {
                for mdn_signed in [false, true] {
                    let digest = [
                        DigestAlgorithm::Sha256,
                        DigestAlgorithm::Sha384,
                        DigestAlgorithm::Sha512,
                    ][out.len() % 3];
                    out.push(Combo {
                        sign,
                        encrypt,
                        compress,
                        mdn_signed,
                        digest,
                    });
                }
            }
        }
    }
    out
}

fn org_json(p: &Party) -> Value {
    json!({"name": p.name, "key": p.key, "cert": p.cert, "mdn_url": "http://127.0.0.1:9/mdn"})
}

/// The partner as pyas2lib's side sees it, with what it sends (or
/// expects).
fn partner_json(p: &Party, c: &Combo) -> Value {
    json!({
        "name": p.name, "cert": p.cert,
        "sign": c.sign, "digest_alg": pyas2lib_digest(c.digest),
        "encrypt": c.encrypt.is_some(), "enc_alg": c.encrypt.map(Cipher::name),
        "compress": c.compress.is_some(),
        "mdn_mode": "SYNC",
        "mdn_digest_alg": c.mdn_signed.then(|| pyas2lib_digest(c.digest)),
    })
}

/// pyas2lib's name of a digest: `sha256`.
fn pyas2lib_digest(digest: DigestAlgorithm) -> String {
    digest.name().replace('-', "")
}

fn headers_json(headers: &[(String, String)]) -> Value {
    Value::Array(headers.iter().map(|(n, v)| json!([n, v])).collect())
}

fn headers_of(value: &Value) -> Vec<Header> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| Header {
                    name: h[0].as_str().unwrap_or_default().to_string(),
                    value: h[1].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn bytes_of(value: &Value) -> Vec<u8> {
    STANDARD
        .decode(value.as_str().unwrap_or_default())
        .unwrap_or_default()
}

fn run(python: &Path, jobs: Vec<Value>) -> Result<Vec<Value>> {
    let out = python_peers::run(python, SCRIPT, &json!({ "jobs": jobs }))?;
    Ok(out["results"].as_array().cloned().unwrap_or_default())
}

fn options(c: &Combo, id: usize, payload_type: &str) -> OutboundOptions {
    OutboundOptions {
        from: "GATEWAY".into(),
        to: "PARTNER".into(),
        message_id: format!("test-{id}@dropgate.example"),
        subject: "AS2 test".into(),
        filename: Some(format!("orders-{id}.edi")),
        content_type: payload_type.into(),
        sign: c.sign.then_some(c.digest),
        encrypt: c.encrypt,
        compress: c.compress,
        mdn: Some(MdnRequest {
            notification_to: "as2@dropgate.example".into(),
            signed: c.mdn_signed.then_some(c.digest),
            delivery: MdnDelivery::Sync,
        }),
    }
}

fn payload(i: usize) -> Vec<u8> {
    if i.is_multiple_of(2) {
        X12.to_vec()
    } else {
        // Binary, with bare LFs and CRs that must not be touched.
        (0..=255u8).chain(b"\n\r\n\rend".iter().copied()).collect()
    }
}

fn payload_type(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "application/EDI-X12"
    } else {
        "application/octet-stream"
    }
}

#[test]
fn dropgate_sends_and_pyas2lib_receives_every_combination() -> Result<()> {
    let Some(python) = python_peers::as2_python() else {
        return Ok(());
    };
    let keys = keys()?;
    let us = identity(&keys.gateway)?;
    let partner = certificate(&keys.partner)?;
    let now = SystemTime::now();
    let mut rng = system_rng();
    let mut sent = Vec::new();
    let mut jobs = Vec::new();
    for (i, c) in combos(true).iter().enumerate() {
        let out = message::build(
            &payload(i),
            &options(c, i, payload_type(i)),
            &us,
            &partner,
            now,
            &mut rng,
        )?;
        jobs.push(json!({
            "op": "parse",
            "us": org_json(&keys.partner),
            "partner": partner_json(&keys.gateway, c),
            "headers": headers_json(&out.headers),
            "body": STANDARD.encode(&out.body),
        }));
        sent.push(out);
    }
    let results = run(&python, jobs)?;
    for (i, ((c, out), r)) in combos(true).iter().zip(&sent).zip(&results).enumerate() {
        assert_eq!(r["status"], "processed", "{c:?}: {r}");
        assert_eq!(bytes_of(&r["payload"]), payload(i), "{c:?}: the payload");
        assert_eq!(r["filename"], format!("orders-{i}.edi"), "{c:?}");
        assert_eq!(r["signed"], c.sign, "{c:?}");
        assert_eq!(r["encrypted"], c.encrypt.is_some(), "{c:?}");
        assert_eq!(r["compressed"], c.compress.is_some(), "{c:?}");
        if c.sign {
            assert_eq!(
                r["mic"].as_str(),
                Some(out.mic.digest.as_str()),
                "{c:?}: the MICs"
            );
        }
        let mdn = &r["mdn"];
        let outcome = mdn::parse(
            &headers_of(&mdn["headers"]),
            &bytes_of(&mdn["body"]),
            &partner,
            &Expected {
                message_id: &out.message_id,
                mic: out.signed.then_some(&out.mic),
                signed_mdn: c.mdn_signed,
            },
            now,
            &Limits::default(),
        )
        .map_err(|e| format!("{c:?}: pyas2lib's MDN: {e}"))?;
        assert!(outcome.processed(), "{c:?}: {outcome:?}");
        assert_eq!(outcome.signed.is_some(), c.mdn_signed, "{c:?}");
    }
    Ok(())
}

#[test]
fn pyas2lib_sends_and_dropgate_receives_every_combination() -> Result<()> {
    let Some(python) = python_peers::as2_python() else {
        return Ok(());
    };
    let keys = keys()?;
    let us = identity(&keys.gateway)?;
    let partner = certificate(&keys.partner)?;
    let now = SystemTime::now();
    let mut rng = system_rng();
    let jobs = combos(false)
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "op": "build",
                "us": org_json(&keys.partner),
                "partner": partner_json(&keys.gateway, c),
                "payload": STANDARD.encode(payload(i)),
                "filename": format!("orders-{i}.edi"),
                "content_type": payload_type(i),
            })
        })
        .collect();
    let built = run(&python, jobs)?;
    let mut mdn_jobs = Vec::new();
    for (i, (c, b)) in combos(false).iter().zip(&built).enumerate() {
        let headers = headers_of(&b["headers"]);
        let inbound = message::open(
            &headers,
            &bytes_of(&b["body"]),
            &receiving(&us, &partner, Policy::default()),
            now,
            &mut rng,
        )
        .map_err(|e| format!("{c:?}: {e}"))?;
        assert_eq!(inbound.payload, payload(i), "{c:?}: the payload");
        assert_eq!(
            inbound.filename.as_deref(),
            Some(format!("orders-{i}.edi").as_str())
        );
        assert_eq!(inbound.signed.is_some(), c.sign, "{c:?}");
        assert_eq!(inbound.encrypted, c.encrypt, "{c:?}");
        assert_eq!(inbound.compressed, c.compress.is_some(), "{c:?}");
        if c.sign {
            assert_eq!(
                b["mic"].as_str(),
                Some(inbound.mic.digest.as_str()),
                "{c:?}: the MICs"
            );
        }
        let request = inbound.envelope.mdn.clone().ok_or("no MDN asked for")?;
        assert_eq!(request.signed.is_some(), c.mdn_signed, "{c:?}");
        let report = MdnReport {
            reporting_ua: "dropgate".into(),
            original_recipient: inbound.envelope.to.clone(),
            final_recipient: inbound.envelope.to.clone(),
            original_message_id: inbound.envelope.message_id.clone(),
            mic: Some(inbound.mic.clone()),
            disposition: Disposition::Processed,
        };
        let mdn = mdn::build(
            &report,
            &inbound.envelope.to,
            &inbound.envelope.from,
            &format!("mdn-{i}@dropgate.example"),
            request.signed.map(|a| (a, &us)),
            now,
            &mut rng,
        )?;
        mdn_jobs.push(json!({
            "op": "parse_mdn",
            "partner": partner_json(&keys.gateway, c),
            "headers": headers_json(&mdn.headers),
            "body": STANDARD.encode(&mdn.body),
            "message_id": b["message_id"],
            "mic": b["mic"],
        }));
    }
    for (c, r) in combos(false).iter().zip(run(&python, mdn_jobs)?) {
        assert_eq!(
            r["status"], "processed",
            "{c:?}: pyas2lib read our MDN as {r}"
        );
        assert_eq!(r["detail"], Value::Null, "{c:?}: {r}");
    }
    Ok(())
}

/// A signed and encrypted message from pyas2lib, to spoil.
fn pyas2lib_message(
    python: &Path,
    keys: &Keys,
    from: &Party,
    encrypt: bool,
) -> Result<(Vec<Header>, Vec<u8>)> {
    let c = Combo {
        sign: true,
        encrypt: encrypt.then_some(Cipher::Aes256Cbc),
        compress: None,
        mdn_signed: true,
        digest: DigestAlgorithm::Sha256,
    };
    let b = run(
        python,
        vec![json!({
            "op": "build",
            "us": org_json(from),
            "partner": partner_json(&keys.gateway, &c),
            "payload": STANDARD.encode(X12),
            "filename": "orders.edi",
            "content_type": "application/EDI-X12",
        })],
    )?;
    Ok((headers_of(&b[0]["headers"]), bytes_of(&b[0]["body"])))
}

const LIMITS: Limits = Limits {
    max_headers: 100,
    max_header_bytes: 64 * 1024,
    max_parts: 16,
    max_depth: 6,
    max_content_bytes: 1 << 24,
};

fn receiving<'a>(us: &'a Identity, partner: &'a Certificate, policy: Policy) -> Receiving<'a> {
    Receiving {
        us,
        partner,
        policy,
        limits: &LIMITS,
    }
}

fn refusal(
    headers: &[Header],
    body: &[u8],
    us: &Identity,
    partner: &Certificate,
    now: SystemTime,
) -> Result<(DispositionModifier, String)> {
    match message::open(
        headers,
        body,
        &receiving(us, partner, Policy::default()),
        now,
        &mut system_rng(),
    ) {
        Ok(_) => Err("the bad message was accepted".into()),
        Err(e) => Ok((e.modifier(), e.to_string())),
    }
}

#[test]
fn bad_messages_from_pyas2lib_get_the_right_modifier() -> Result<()> {
    let Some(python) = python_peers::as2_python() else {
        return Ok(());
    };
    let keys = keys()?;
    let us = identity(&keys.gateway)?;
    let partner = certificate(&keys.partner)?;
    let now = SystemTime::now();

    // Signed by another key than the partner's certificate.
    let (headers, body) = pyas2lib_message(&python, &keys, &keys.stranger, false)?;
    // pyas2lib wrote the stranger's name; the partnership is the partner's.
    let (modifier, why) = refusal(&headers, &body, &us, &partner, now)?;
    assert_eq!(modifier, DispositionModifier::AuthenticationFailed, "{why}");
    assert!(
        why.contains("does not verify with the certificate of CN=PARTNER"),
        "{why}"
    );
    assert!(why.contains("another certificate"), "{why}");

    // A byte of the signed content changed.
    let (headers, mut body) = pyas2lib_message(&python, &keys, &keys.partner, false)?;
    let at = body
        .windows(4)
        .position(|w| w == b"PO-1")
        .ok_or("no PO-1 in the body")?;
    body[at + 3] = b'2';
    let (modifier, why) = refusal(&headers, &body, &us, &partner, now)?;
    assert_eq!(modifier, DispositionModifier::IntegrityCheckFailed, "{why}");
    assert!(why.contains("the content was altered"), "{why}");
    // Our signed MDN says so, and pyas2lib reads it so.
    let envelope = message::envelope(&headers)?;
    let err = message::open(
        &headers,
        &body,
        &receiving(&us, &partner, Policy::default()),
        now,
        &mut system_rng(),
    )
    .err()
    .ok_or("the altered message was opened")?;
    let answer = mdn::build(
        &MdnReport::refused(&envelope, &err, "dropgate"),
        &envelope.to,
        &envelope.from,
        "mdn-altered@dropgate.example",
        Some((DigestAlgorithm::Sha256, &us)),
        now,
        &mut system_rng(),
    )?;
    let c = Combo {
        sign: true,
        encrypt: None,
        compress: None,
        mdn_signed: true,
        digest: DigestAlgorithm::Sha256,
    };
    let read = run(
        &python,
        vec![json!({
            "op": "parse_mdn",
            "partner": partner_json(&keys.gateway, &c),
            "headers": headers_json(&answer.headers),
            "body": STANDARD.encode(&answer.body),
            "message_id": envelope.message_id,
            "mic": Value::Null,
        })],
    )?;
    assert_eq!(read[0]["status"], "processed/error", "{}", read[0]);
    assert_eq!(read[0]["detail"], "integrity-check-failed", "{}", read[0]);

    // Encrypted for us, opened with another key (the stranger's).
    let (headers, body) = pyas2lib_message(&python, &keys, &keys.partner, true)?;
    let stranger = identity(&keys.stranger)?;
    let (modifier, why) = refusal(&headers, &body, &stranger, &partner, now)?;
    assert_eq!(modifier, DispositionModifier::DecryptionFailed, "{why}");
    // And with our own key it opens.
    message::open(
        &headers,
        &body,
        &receiving(&us, &partner, Policy::default()),
        now,
        &mut system_rng(),
    )?;

    // The partner's certificate has expired by the time the message comes.
    let later = now + Duration::from_secs(60 * 86_400);
    let (modifier, why) = refusal(&headers, &body, &us, &partner, later)?;
    assert_eq!(modifier, DispositionModifier::AuthenticationFailed, "{why}");
    assert!(why.contains("expired"), "{why}");

    // Signed with a key whose certificate expired in 2020.
    let (headers, body) = pyas2lib_message(&python, &keys, &keys.expired, false)?;
    let expired = certificate(&keys.expired)?;
    let (modifier, why) = refusal(&headers, &body, &us, &expired, now)?;
    assert_eq!(modifier, DispositionModifier::AuthenticationFailed, "{why}");
    assert!(
        why.contains("CN=EXPIRED test AS2 expired on 2020-02-01"),
        "{why}"
    );

    // Unsigned when the partnership requires signing.
    let c = Combo {
        sign: false,
        encrypt: None,
        compress: None,
        mdn_signed: false,
        digest: DigestAlgorithm::Sha256,
    };
    let b = run(
        &python,
        vec![json!({
            "op": "build", "us": org_json(&keys.partner), "partner": partner_json(&keys.gateway, &c),
            "payload": STANDARD.encode(X12), "filename": "o.edi", "content_type": "application/EDI-X12",
        })],
    )?;
    let policy = Policy {
        require_signed: true,
        require_encrypted: false,
    };
    let err = message::open(
        &headers_of(&b[0]["headers"]),
        &bytes_of(&b[0]["body"]),
        &receiving(&us, &partner, policy),
        now,
        &mut system_rng(),
    )
    .err()
    .ok_or("an unsigned message was accepted")?;
    assert_eq!(
        err.modifier(),
        DispositionModifier::InsufficientMessageSecurity,
        "{err}"
    );
    Ok(())
}

#[test]
fn pyas2lib_refuses_what_dropgate_spoiled_and_dropgate_reads_its_error_mdn() -> Result<()> {
    let Some(python) = python_peers::as2_python() else {
        return Ok(());
    };
    let keys = keys()?;
    // We sign with the stranger's key, in the gateway's name.
    let stranger = identity(&keys.stranger)?;
    let partner = certificate(&keys.partner)?;
    let now = SystemTime::now();
    let c = Combo {
        sign: true,
        encrypt: None,
        compress: None,
        mdn_signed: true,
        digest: DigestAlgorithm::Sha256,
    };
    let out = message::build(
        X12,
        &options(&c, 0, "application/EDI-X12"),
        &stranger,
        &partner,
        now,
        &mut system_rng(),
    )?;
    let r = run(
        &python,
        vec![json!({
            "op": "parse",
            "us": org_json(&keys.partner),
            "partner": partner_json(&keys.gateway, &c),
            "headers": headers_json(&out.headers),
            "body": STANDARD.encode(&out.body),
        })],
    )?;
    assert_eq!(r[0]["status"], "processed/Error", "{}", r[0]);
    assert_eq!(r[0]["modifier"], "authentication-failed", "{}", r[0]);
    // Its MDN says so, and is signed by the partner.
    let mdn = &r[0]["mdn"];
    let outcome = mdn::parse(
        &headers_of(&mdn["headers"]),
        &bytes_of(&mdn["body"]),
        &partner,
        &Expected {
            message_id: &out.message_id,
            mic: Some(&out.mic),
            signed_mdn: true,
        },
        now,
        &Limits::default(),
    )?;
    assert_eq!(
        outcome.report.disposition,
        Disposition::Error("authentication-failed".into())
    );
    // An MDN for another message, or with another MIC, is bad.
    let other_mic = dropgate::as2::Mic::compute(DigestAlgorithm::Sha256, b"something else");
    let wrong = mdn::parse(
        &headers_of(&mdn["headers"]),
        &bytes_of(&mdn["body"]),
        &partner,
        &Expected {
            message_id: "another@id",
            mic: Some(&other_mic),
            signed_mdn: true,
        },
        now,
        &Limits::default(),
    );
    assert!(
        matches!(wrong, Err(mdn::MdnError::WrongMessage { .. })),
        "{wrong:?}"
    );
    // Verified with another certificate, the MDN's signature fails.
    let bad = mdn::parse(
        &headers_of(&mdn["headers"]),
        &bytes_of(&mdn["body"]),
        &certificate(&keys.stranger)?,
        &Expected {
            message_id: &out.message_id,
            mic: Some(&out.mic),
            signed_mdn: true,
        },
        now,
        &Limits::default(),
    );
    assert!(matches!(bad, Err(mdn::MdnError::Signature(_))), "{bad:?}");
    Ok(())
}

#[test]
fn a_legacy_sha1_signed_3des_message_from_pyas2lib_opens_and_its_mic_says_sha_1() -> Result<()> {
    let Some(python) = python_peers::as2_python() else {
        return Ok(());
    };
    let keys = keys()?;
    let us = identity(&keys.gateway)?;
    let partner = certificate(&keys.partner)?;
    let now = SystemTime::now();
    let c = Combo {
        sign: true,
        encrypt: Some(Cipher::TripleDesCbc),
        compress: None,
        mdn_signed: true,
        digest: DigestAlgorithm::Sha1,
    };
    let b = run(
        &python,
        vec![json!({
            "op": "build",
            "us": org_json(&keys.partner),
            "partner": partner_json(&keys.gateway, &c),
            "payload": STANDARD.encode(X12),
            "filename": "legacy.edi",
            "content_type": "application/EDI-X12",
        })],
    )?;
    let headers = headers_of(&b[0]["headers"]);
    let inbound = message::open(
        &headers,
        &bytes_of(&b[0]["body"]),
        &receiving(&us, &partner, Policy::default()),
        now,
        &mut system_rng(),
    )?;
    assert_eq!(inbound.payload, X12);
    assert_eq!(inbound.signed, Some(DigestAlgorithm::Sha1));
    assert_eq!(inbound.encrypted, Some(Cipher::TripleDesCbc));
    assert_eq!(inbound.mic.algorithm, DigestAlgorithm::Sha1);
    assert_eq!(b[0]["mic"].as_str(), Some(inbound.mic.digest.as_str()));
    // A signed MDN asked for with sha1 is signed with SHA-256, which
    // pyas2lib verifies.
    let request = inbound.envelope.mdn.clone().ok_or("no MDN asked for")?;
    assert_eq!(request.signed, Some(DigestAlgorithm::Sha256));
    let answer = mdn::build(
        &MdnReport::processed(&inbound, "dropgate"),
        &inbound.envelope.to,
        &inbound.envelope.from,
        "mdn-sha1@dropgate.example",
        request.signed.map(|d| (d, &us)),
        now,
        &mut system_rng(),
    )?;
    let read = run(
        &python,
        vec![json!({
            "op": "parse_mdn",
            "partner": partner_json(&keys.gateway, &c),
            "headers": headers_json(&answer.headers),
            "body": STANDARD.encode(&answer.body),
            "message_id": b[0]["message_id"],
            "mic": b[0]["mic"],
        })],
    )?;
    assert_eq!(read[0]["status"], "processed", "{}", read[0]);
    Ok(())
}

#[test]
fn content_keys_pyas2lib_sends_with_rsaes_oaep_or_pkcs1_are_decrypted() -> Result<()> {
    let Some(python) = python_peers::as2_python() else {
        return Ok(());
    };
    let keys = keys()?;
    let us = identity(&keys.gateway)?;
    let data = b"Content-Type: application/edi-x12\r\n\r\nISA*00~";
    let cases = [
        ("rsaes_oaep", "aes_128_cbc", Cipher::Aes128Cbc),
        ("rsaes_oaep", "aes_192_cbc", Cipher::Aes192Cbc),
        ("rsaes_pkcs1v15", "aes_256_cbc", Cipher::Aes256Cbc),
        ("rsaes_pkcs1v15", "tripledes_192_cbc", Cipher::TripleDesCbc),
    ];
    let jobs = cases
        .iter()
        .map(|(key_enc_alg, enc_alg, _)| {
            json!({
                "op": "encrypt", "cert": keys.gateway.cert, "data": STANDARD.encode(data),
                "enc_alg": enc_alg, "key_enc_alg": key_enc_alg,
            })
        })
        .collect();
    for ((key_enc_alg, _, cipher), r) in cases.iter().zip(run(&python, jobs)?) {
        let (found, content) = smime::decrypt(&bytes_of(&r["der"]), &us, &mut system_rng())
            .map_err(|e| format!("{key_enc_alg} {cipher:?}: {e}"))?;
        assert_eq!(found, *cipher, "{key_enc_alg}");
        assert_eq!(content, data, "{key_enc_alg} {cipher:?}");
    }
    Ok(())
}
