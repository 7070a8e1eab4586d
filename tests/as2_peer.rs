//! The AS2 test partner (`tests/support/as2.rs` around pyas2lib) proven
//! without dropgate: two peers, each the other's partner, A with the
//! peer's key and B with the gateway's (B stands where dropgate will),
//! exchange every combination of signing, encryption, compression and
//! MDN mode; then each fault the gateway's tests will use, with what
//! pyas2lib answers to it.

mod support;

use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::as2::{
    As2Keys, As2Peer, As2PeerOptions, Fault, KeyFormat, MdnRequest, Security, Send, Verdict,
};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A: sends as the peer; B: answers as the gateway would.
const A: &str = "PEER-A";
const B: &str = "PEER-B";

/// Two started peers pointed at each other, after `tweak_a`, `tweak_b`
/// changed their options; `None` when pyas2lib or openssl is missing.
fn pair(
    tweak_a: impl FnOnce(&mut As2PeerOptions),
    tweak_b: impl FnOnce(&mut As2PeerOptions),
) -> Result<Option<(As2Peer, As2Peer)>> {
    let Some(keys) = As2Keys::generate()? else {
        return Ok(None);
    };
    let mut a = As2PeerOptions {
        as2_name: A.into(),
        gateway_as2_name: B.into(),
        keys: Some(keys.clone()),
        own_key: As2Keys::PEER.into(),
        gateway_key: As2Keys::GATEWAY.into(),
        ..As2PeerOptions::default()
    };
    let mut b = As2PeerOptions {
        as2_name: B.into(),
        gateway_as2_name: A.into(),
        keys: Some(keys),
        own_key: As2Keys::GATEWAY.into(),
        gateway_key: As2Keys::PEER.into(),
        ..As2PeerOptions::default()
    };
    tweak_a(&mut a);
    tweak_b(&mut b);
    let Some(a) = As2Peer::start(a)? else {
        return Ok(None);
    };
    let Some(b) = As2Peer::start(b)? else {
        return Ok(None);
    };
    a.set_gateway_url(&b.url())?;
    b.set_gateway_url(&a.url())?;
    Ok(Some((a, b)))
}

/// An 850 without line breaks (pyas2lib turns `\n` into `\r\n` in any
/// content type but application/octet-stream).
fn x12(n: u32) -> Vec<u8> {
    format!(
        "ISA*00*          *00*          *ZZ*PEERA          *ZZ*PEERB          *261206*1200*U*00401*{n:09}*0*P*>~\
         GS*PO*PEERA*PEERB*20261206*1200*{n}*X*004010~ST*850*0001~BEG*00*SA*PO-{n}**20261206~\
         PO1*1*12*EA*9.99**VP*SKU-{n}~CTT*1~SE*5*0001~GE*1*{n}~IEA*1*{n:09}~"
    )
    .into_bytes()
}

fn sha256() -> Option<String> {
    Some("sha256".into())
}

/// The security of one combination.
fn security(sign: bool, cipher: Option<&str>, compress: bool, mdn: MdnRequest) -> Security {
    Security {
        sign: sign.then(sha256).flatten(),
        encrypt: cipher.map(str::to_string),
        compress,
        mdn,
    }
}

/// The Disposition of a verdict's MDN.
fn disposition(v: &Verdict) -> Option<String> {
    v.mdn.as_ref().and_then(|m| m.disposition.clone())
}

#[test]
fn every_combination_arrives_byte_exact_with_a_verified_mdn() -> Result<()> {
    let Some((a, b)) = pair(|_| {}, |_| {})? else {
        return Ok(());
    };
    let mdns = [
        MdnRequest::None,
        MdnRequest::Sync(None),
        MdnRequest::Sync(sha256()),
        MdnRequest::Async(None),
        MdnRequest::Async(sha256()),
    ];
    let mut n = 0;
    let mut async_ids = Vec::new();
    for sign in [false, true] {
        for cipher in [None, Some("aes_128_cbc"), Some("aes_256_cbc")] {
            for compress in [false, true] {
                for mdn in &mdns {
                    n += 1;
                    let sec = security(sign, cipher, compress, mdn.clone());
                    let payload = x12(n);
                    let file = format!("po-{n}.x12");
                    let id = a.send(&payload, &Send::file(&file).security(sec.clone()))?;
                    let got = b.received(&id)?;
                    let case = format!("{sec:?}: {got:?}\n{}", b.log());
                    assert_eq!(got.status, "processed", "{case}");
                    assert_eq!(got.payload.as_deref(), Some(&payload[..]), "{case}");
                    assert_eq!(got.filename.as_deref(), Some(file.as_str()), "{case}");
                    assert_eq!(
                        got.content_type.as_deref(),
                        Some("application/edi-x12"),
                        "{case}"
                    );
                    assert_eq!(got.as2_from.as_deref(), Some(A), "{case}");
                    assert_eq!(got.as2_to.as_deref(), Some(B), "{case}");
                    assert_eq!(got.signed, sign, "{case}");
                    assert_eq!(got.encrypted, cipher.is_some(), "{case}");
                    assert_eq!(got.compressed, compress, "{case}");
                    // asn1crypto's names of the content cipher.
                    let want_cipher = cipher.map(|c| c.replacen("aes_", "aes", 1));
                    assert_eq!(got.cipher, want_cipher, "{case}");
                    assert_eq!(got.key_enc_alg.is_some(), cipher.is_some(), "{case}");
                    assert_eq!(
                        got.digest_alg.as_deref(),
                        sign.then_some("sha256"),
                        "{case}"
                    );
                    assert_eq!(got.mic.is_some(), sign, "{case}");

                    let v = a.verdict(&id)?;
                    let case = format!("{sec:?}: {v:?}\n{}\n{}", a.log(), b.log());
                    assert_eq!(v.http_status, Some(200), "{case}");
                    assert!(v.error.is_none(), "{case}");
                    match mdn {
                        MdnRequest::None => {
                            assert!(v.mdn.is_none() && v.status.is_none(), "{case}");
                            assert_eq!(got.mdn_mode, None, "{case}");
                        }
                        MdnRequest::Sync(signed) | MdnRequest::Async(signed) => {
                            assert!(v.processed(), "{case}");
                            let m = v.mdn.as_ref().ok_or("an MDN")?;
                            assert_eq!(m.signed, signed.is_some(), "{case}");
                            assert_eq!(got.mdn_signed, Some(signed.is_some()), "{case}");
                            assert_eq!(
                                m.disposition.as_deref(),
                                Some("automatic-action/MDN-sent-automatically; processed"),
                                "{case}"
                            );
                            assert_eq!(m.original_message_id.as_deref(), Some(id.as_str()));
                            assert_eq!(m.as2_from.as_deref(), Some(B), "{case}");
                            assert_eq!(m.as2_to.as_deref(), Some(A), "{case}");
                            if sign {
                                // The MIC of both sides, "base64, sha256".
                                let mic = v.mic.clone().ok_or("A's MIC")?;
                                assert_eq!(got.mic.as_deref(), Some(mic.as_str()), "{case}");
                                assert_eq!(
                                    m.received_content_mic.as_deref(),
                                    Some(format!("{mic}, sha256").as_str()),
                                    "{case}"
                                );
                                assert_eq!(v.mic_ok, Some(true), "{case}");
                            } else {
                                // pyas2lib computes a MIC for signed messages only.
                                assert_eq!(m.received_content_mic, None, "{case}");
                                assert_eq!(v.mic, None, "{case}");
                            }
                            let mode = if matches!(mdn, MdnRequest::Sync(_)) {
                                "sync"
                            } else {
                                async_ids.push(id.clone());
                                assert_eq!(got.mdn_url, Some(a.mdn_url()), "{case}");
                                "async"
                            };
                            assert_eq!(got.mdn_mode.as_deref(), Some(mode), "{case}");
                        }
                    }
                }
            }
        }
    }
    assert_eq!(b.inbox()?.len(), n as usize);
    // Each async MDN came to A's /mdn, matched to its message, once.
    let mdns = a.mdns()?;
    assert_eq!(mdns.len(), async_ids.len());
    for id in &async_ids {
        assert_eq!(b.wait_async_mdn(id)?["http_status"], 200);
        assert!(
            mdns.iter().any(|m| m["matched"] == true
                && m["status"] == "processed"
                && m["mdn"]["original_message_id"] == id.as_str()),
            "{id}: {mdns:?}"
        );
    }
    Ok(())
}

#[test]
fn binary_arrives_byte_exact_and_text_lines_end_in_crlf() -> Result<()> {
    // A gives pyas2lib its key as PEM key + certificate, B as PKCS#12.
    let Some((a, b)) = pair(|a| a.key_format = KeyFormat::Pem, |_| {})? else {
        return Ok(());
    };
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let id = a.send(
        &binary,
        &Send::file("all-bytes.bin").content_type("application/octet-stream"),
    )?;
    assert!(a.verdict(&id)?.processed());
    let got = b.received(&id)?;
    assert_eq!(got.payload.as_deref(), Some(&binary[..]));
    assert_eq!(
        got.content_type.as_deref(),
        Some("application/octet-stream")
    );

    // A large one, compressed, signed and encrypted.
    let large: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let sec = Security {
        compress: true,
        ..Security::default()
    };
    let id = a.send(
        &large,
        &Send::file("large.bin")
            .content_type("application/octet-stream")
            .security(sec),
    )?;
    assert!(a.verdict(&id)?.processed());
    assert_eq!(b.received(&id)?.payload.as_deref(), Some(&large[..]));

    // The pitfall the gateway's tests must know: an X12 file with "~\n"
    // arrives with "~\r\n" when its type is not octet-stream.
    let lines = b"ISA*00~\nGS*PO~\nIEA*1~\n".to_vec();
    let id = a.send(&lines, &Send::file("lines.x12"))?;
    assert!(a.verdict(&id)?.processed());
    assert_eq!(
        b.received(&id)?.payload.as_deref(),
        Some(&b"ISA*00~\r\nGS*PO~\r\nIEA*1~\r\n"[..])
    );
    Ok(())
}

#[test]
fn a_chunked_body_is_read() -> Result<()> {
    let Some((a, b)) = pair(|_| {}, |b| b.detect_duplicates = false)? else {
        return Ok(());
    };
    let payload = x12(9);
    let id = a.send(&payload, &Send::file("c.x12"))?;
    let v = a.verdict(&id)?;
    assert!(v.processed());
    // The same message again, its body in chunks of 1000 bytes.
    let body = std::fs::read(a.work_dir().join("sent/0001.body"))?;
    let mut s = TcpStream::connect(("127.0.0.1", b.port()))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head =
        String::from("POST /as2 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n");
    for (name, value) in &v.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    for chunk in body.chunks(1000) {
        s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
        s.write_all(chunk)?;
        s.write_all(b"\r\n")?;
    }
    s.write_all(b"0\r\n\r\n")?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(
        answer.contains("Disposition: automatic-action/MDN-sent-automatically; processed\r\n"),
        "{answer}"
    );
    let inbox = b.inbox()?;
    assert_eq!(inbox.len(), 2);
    assert_eq!(inbox[1].payload.as_deref(), Some(&payload[..]));
    Ok(())
}

#[test]
fn tampered_bodies_get_error_mdns_and_nothing_is_kept() -> Result<()> {
    let Some((a, b)) = pair(|_| {}, |_| {})? else {
        return Ok(());
    };
    let cases = [
        // (sign, cipher, compress, status, modifier)
        (
            true,
            Some("aes_256_cbc"),
            false,
            "processed/Error",
            "decryption-failed",
        ),
        (
            false,
            Some("aes_128_cbc"),
            false,
            "processed/Error",
            "decryption-failed",
        ),
        (
            true,
            None,
            false,
            "processed/Error",
            "authentication-failed",
        ),
        (false, None, true, "processed/Error", "decompression-failed"),
    ];
    for (n, (sign, cipher, compress, status, modifier)) in cases.into_iter().enumerate() {
        let sec = security(sign, cipher, compress, MdnRequest::Sync(sha256()));
        let id = a.send(
            &x12(n as u32),
            &Send::file("t.x12").security(sec.clone()).tamper(),
        )?;
        let v = a.verdict(&id)?;
        let case = format!("{sec:?}: {v:?}\n{}", b.log());
        assert_eq!(v.status.as_deref(), Some(status), "{case}");
        assert_eq!(v.detail.as_deref(), Some(modifier), "{case}");
        assert_eq!(
            disposition(&v),
            Some(format!(
                "automatic-action/MDN-sent-automatically; {status}: {modifier}"
            )),
            "{case}"
        );
        // The error MDN is signed, as asked, and pyas2lib verified it.
        assert!(v.mdn.as_ref().is_some_and(|m| m.signed), "{case}");
        let got = b.received(&id)?;
        assert_eq!(got.status, status, "{case}");
        assert!(got.payload.is_none(), "{case}");
    }
    Ok(())
}

#[test]
fn wrong_key_wrong_certificate_and_unknown_as2_to_are_refused() -> Result<()> {
    let Some((a, b)) = pair(|_| {}, |_| {})? else {
        return Ok(());
    };
    // Signed with a key B does not know.
    let id = a.send(&x12(1), &Send::file("w.x12").sign_with_wrong_key())?;
    let v = a.verdict(&id)?;
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (Some("processed/Error"), Some("authentication-failed")),
        "{v:?}"
    );
    // Encrypted to a certificate that is not B's.
    let id = a.send(&x12(2), &Send::file("w.x12").encrypt_with_wrong_cert())?;
    let v = a.verdict(&id)?;
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (Some("processed/Error"), Some("decryption-failed")),
        "{v:?}"
    );
    // To an AS2 name B does not have: pyas2lib answers an UNSIGNED error
    // MDN (it has no organization to sign with), which A's pyas2lib then
    // refuses because it asked for a signed one.
    let id = a.send(&x12(3), &Send::file("w.x12").as2_to("NOBODY"))?;
    let v = a.verdict(&id)?;
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (
            Some("failed/Failure"),
            Some("Expected signed MDN but unsigned MDN returned")
        ),
        "{v:?}"
    );
    let m = v.mdn.as_ref().ok_or("an MDN")?;
    assert!(!m.signed);
    assert_eq!(
        m.disposition.as_deref(),
        Some("automatic-action/MDN-sent-automatically; processed/Error: unknown-trading-partner")
    );
    // Its AS2-From is the AS2-To that was asked for.
    assert_eq!(m.as2_from.as_deref(), Some("NOBODY"));
    let got = b.received(&id)?;
    assert_eq!(got.status, "processed/Error");
    assert_eq!(got.detail.as_deref(), Some("unknown-trading-partner"));
    // Unsigned MDN asked: the same error, now readable.
    let unsigned = Security {
        mdn: MdnRequest::Sync(None),
        ..Security::default()
    };
    let id = a.send(
        &x12(4),
        &Send::file("w.x12").as2_to("NOBODY").security(unsigned),
    )?;
    let v = a.verdict(&id)?;
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (Some("processed/Error"), Some("unknown-trading-partner")),
        "{v:?}"
    );
    assert_eq!(b.inbox()?.len(), 4);
    assert!(b.inbox()?.iter().all(|r| r.payload.is_none()));
    Ok(())
}

#[test]
fn an_unknown_sender_gets_an_unsigned_error_mdn() -> Result<()> {
    let Some((a, b)) = pair(|a| a.as2_name = "STRANGER".into(), |_| {})? else {
        return Ok(());
    };
    let id = a.send(&x12(1), &Send::file("s.x12"))?;
    let v = a.verdict(&id)?;
    assert_eq!(v.status.as_deref(), Some("failed/Failure"), "{v:?}");
    assert_eq!(
        disposition(&v).as_deref(),
        Some("automatic-action/MDN-sent-automatically; processed/Error: unknown-trading-partner")
    );
    let got = b.received(&id)?;
    assert_eq!(
        (got.status.as_str(), got.detail.as_deref()),
        ("processed/Error", Some("unknown-trading-partner"))
    );
    // pyas2lib itself fails building the signed MDN; the peer says so.
    assert!(
        got.note.is_some() && got.mdn_signed == Some(false),
        "{got:?}"
    );
    assert!(got.payload.is_none());
    Ok(())
}

#[test]
fn insufficient_security_is_refused_when_required() -> Result<()> {
    let Some((a, b)) = pair(
        |_| {},
        |b| {
            b.require_signed = true;
            b.require_encrypted = true;
        },
    )?
    else {
        return Ok(());
    };
    for (sign, cipher) in [(false, Some("aes_256_cbc")), (true, None)] {
        let sec = security(sign, cipher, false, MdnRequest::Sync(sha256()));
        let id = a.send(&x12(1), &Send::file("i.x12").security(sec.clone()))?;
        let v = a.verdict(&id)?;
        assert_eq!(
            (v.status.as_deref(), v.detail.as_deref()),
            (
                Some("processed/Error"),
                Some("insufficient-message-security")
            ),
            "{sec:?}: {v:?}"
        );
        assert!(b.received(&id)?.payload.is_none());
    }
    let id = a.send(&x12(3), &Send::file("i.x12"))?;
    assert!(a.verdict(&id)?.processed());
    Ok(())
}

#[test]
fn a_replayed_message_id_gets_a_duplicate_warning_and_is_kept_once() -> Result<()> {
    let Some((a, b)) = pair(|_| {}, |_| {})? else {
        return Ok(());
    };
    let payload = x12(7);
    let id = a.send(&payload, &Send::file("r.x12"))?;
    assert!(a.verdict(&id)?.processed());
    a.replay(&id)?;
    let v = a.verdict(&id)?;
    assert_eq!(v.exchanges.len(), 2);
    assert_eq!(v.exchanges[0].status.as_deref(), Some("processed"));
    assert_eq!(v.exchanges[1].kind, "replay");
    // pyas2lib does not repeat its first MDN: it answers a new one,
    // signed, "processed/Warning: duplicate-document", without a MIC
    // (it stops before decrypting).
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (Some("processed/Warning"), Some("duplicate-document")),
        "{v:?}"
    );
    let m = v.mdn.as_ref().ok_or("an MDN")?;
    assert!(m.signed && m.received_content_mic.is_none(), "{m:?}");
    assert_ne!(
        m.message_id,
        v.exchanges[0]
            .mdn
            .as_ref()
            .and_then(|f| f.message_id.clone())
    );
    let inbox = b.inbox()?;
    assert_eq!(inbox.len(), 2);
    assert_eq!(inbox[0].payload.as_deref(), Some(&payload[..]));
    assert!(
        inbox[1].duplicate && inbox[1].payload.is_none(),
        "{:?}",
        inbox[1]
    );
    Ok(())
}

#[test]
fn expired_certificates_are_refused_unless_validation_is_off() -> Result<()> {
    // A signs with the expired key; B verifies with the expired certificate.
    let Some((a, b)) = pair(
        |a| a.own_key = As2Keys::EXPIRED.into(),
        |b| b.gateway_key = As2Keys::EXPIRED.into(),
    )?
    else {
        return Ok(());
    };
    let id = a.send(&x12(1), &Send::file("e.x12"))?;
    let v = a.verdict(&id)?;
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (Some("failed/Failure"), Some("invalid-certificate")),
        "{v:?}"
    );
    assert!(v.mdn.as_ref().is_some_and(|m| m.signed));
    assert!(b.received(&id)?.payload.is_none());
    // A's MDN is signed by B with a valid key: fine. B's own MDN check is
    // the other way: B sends signed, unencrypted to A, whose certificate
    // for B is fine, but A signs its MDN with the expired key.
    let plain = Security {
        encrypt: None,
        ..Security::default()
    };
    let id = b.send(&x12(2), &Send::file("e.x12").security(plain))?;
    let v = b.verdict(&id)?;
    assert_eq!(v.status.as_deref(), Some("failed/Failure"), "{v:?}");
    assert!(
        v.detail.as_deref().is_some_and(
            |d| d.starts_with("Failed to parse received MDN. Partner Certificate Invalid")
        ),
        "{v:?}"
    );
    // Encrypting to an expired certificate: pyas2lib refuses to build.
    let err = b
        .send(&x12(3), &Send::file("e.x12"))
        .expect_err("no message to an expired certificate");
    assert!(
        err.to_string().contains("Partner Certificate Invalid"),
        "{err}"
    );

    // With validate_certs off, the expired signature is accepted.
    let Some((a, b)) = pair(
        |a| a.own_key = As2Keys::EXPIRED.into(),
        |b| {
            b.gateway_key = As2Keys::EXPIRED.into();
            b.validate_certs = false;
        },
    )?
    else {
        return Ok(());
    };
    let id = a.send(&x12(4), &Send::file("e.x12"))?;
    assert!(a.verdict(&id)?.processed());
    assert!(b.received(&id)?.payload.is_some());
    Ok(())
}

#[test]
fn an_mdn_signed_by_another_key_fails_the_check() -> Result<()> {
    // A knows the wrong certificate as B's: it can still sign to B, but
    // B's MDN signature does not verify.
    let Some((a, b)) = pair(|a| a.gateway_key = As2Keys::WRONG.into(), |_| {})? else {
        return Ok(());
    };
    let plain = Security {
        encrypt: None,
        ..Security::default()
    };
    let id = a.send(&x12(1), &Send::file("m.x12").security(plain))?;
    let v = a.verdict(&id)?;
    assert_eq!(b.received(&id)?.status, "processed");
    assert_eq!(v.status.as_deref(), Some("failed/Failure"), "{v:?}");
    assert!(
        v.detail
            .as_deref()
            .is_some_and(|d| d.starts_with("Failed to parse received MDN.")),
        "{v:?}"
    );
    assert!(!v.processed());
    Ok(())
}

#[test]
fn refusals_delays_negative_and_withheld_mdns() -> Result<()> {
    let Some((a, b)) = pair(|_| {}, |b| b.max_body_bytes = Some(100_000))? else {
        return Ok(());
    };
    b.fault(Fault::Refuse(500), 1)?;
    let id = a.send(&x12(1), &Send::file("f.x12"))?;
    let v = a.verdict(&id)?;
    assert_eq!(v.http_status, Some(500), "{v:?}");
    assert!(v.mdn.is_none() && v.error.is_some(), "{v:?}");

    b.fault(Fault::Close, 1)?;
    let id = a.send(&x12(2), &Send::file("f.x12"))?;
    let v = a.verdict(&id)?;
    assert_eq!(v.http_status, None, "{v:?}");
    assert!(v.error.is_some(), "{v:?}");
    assert!(b.inbox()?.is_empty());

    b.fault(Fault::Delay(Duration::from_millis(300)), 1)?;
    let id = a.send(&x12(3), &Send::file("f.x12"))?;
    assert!(a.verdict(&id)?.processed());

    b.fault(Fault::NegativeMdn("unexpected-processing-error".into()), 1)?;
    let id = a.send(&x12(4), &Send::file("f.x12"))?;
    let v = a.verdict(&id)?;
    assert_eq!(
        (v.status.as_deref(), v.detail.as_deref()),
        (Some("processed/Error"), Some("unexpected-processing-error")),
        "{v:?}"
    );
    assert!(b.received(&id)?.payload.is_none());

    // Withheld: the next async MDN comes, the withheld one never does.
    let async_mdn = Send::file("f.x12").security(Security {
        mdn: MdnRequest::Async(sha256()),
        ..Security::default()
    });
    b.fault(Fault::WithholdAsyncMdn, 1)?;
    let withheld = a.send(&x12(5), &async_mdn)?;
    let next = a.send(&x12(6), &async_mdn)?;
    assert!(a.verdict(&next)?.processed());
    let v = a.verdict_within(&withheld, Duration::ZERO)?;
    assert_eq!(v.state, "awaiting_mdn", "{v:?}");
    assert!(b.received(&withheld)?.async_mdn.is_none());

    // Oversized: B refuses a body over its limit with 413.
    let id = a.send(&x12(7), &Send::file("big.x12").oversize(300_000))?;
    let v = a.verdict(&id)?;
    assert_eq!(v.http_status, Some(413), "{v:?}");
    assert!(v.payload_size == 300_000 && v.size > 300_000, "{v:?}");
    // Every fault is spent: the next message goes through.
    let id = a.send(&x12(8), &Send::file("f.x12"))?;
    assert!(a.verdict(&id)?.processed());
    Ok(())
}
