//! AS2 in the gateway, against an independent partner (pyas2lib over
//! HTTP on 127.0.0.1, `tests/support/as2.rs`): the partner posts an X12
//! ship notice, signed and encrypted, to the daemon's AS2 server; the
//! daemon answers with a signed MDN that pyas2lib verifies (our MIC is
//! its MIC), processes the file like any other and sends its 997 back to
//! the partner over AS2, done when the partner's MDN verifies. The same
//! message again is answered with the same MDN and not taken twice; a
//! tampered message, an unknown partner and a message for another AS2
//! name are answered with the error MDN that says why, and nothing is
//! taken.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::as2::{As2Keys, As2Peer, As2PeerOptions, Send};
use support::cli::{dropgate, root, text};
use support::daemon::Daemon;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A gateway folder: our AS2 side on `port` with the gateway's keys, the
/// partnership with the peer (its certificate, its URL), and Acme (X12
/// from VENDORID) whose files come and whose 997s go over that AS2
/// channel.
fn setup(port: u16, peer: &As2Peer) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    for d in ["partners", "relay"] {
        std::fs::create_dir_all(p.join(d)).expect("folder");
    }
    let keys = peer.keys();
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
poll_interval_secs = 1
retry_secs = 1

[x12]
interchange_id = "ZZ:RETAILERID"

[as2]
listen = "127.0.0.1:{port}"
as2_id = "DROPGATE"
certificate = "{our_cert}"
private_key = "{our_key}"

[channel.acme-as2]
type = "as2"
as2_id = "PYAS2PEER"
url = "{peer_url}"
certificate = "{peer_cert}"

[relay]
type = "file"
path = "relay"
"#,
            our_cert = keys.gateway().cert.display(),
            our_key = keys.gateway().key.display(),
            peer_url = peer.url(),
            peer_cert = keys.peer().cert.display(),
        ),
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/acme.toml"),
        "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"997\"\nacknowledge = \"always\"\n\n[[inbound]]\nchannel = \"acme-as2\"\n\n[outbound]\nchannel = \"acme-as2\"\n",
    )
    .expect("partner");
    dir
}

fn files(dir: &Path) -> String {
    text(&dropgate(&["files", "-c", &dir.join("gateway.toml").to_string_lossy()]).stdout)
}

fn wait_until(what: &str, daemon: &Daemon, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} never happened:\n{}",
            daemon.lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_partner_sends_over_as2_and_gets_its_mdn_and_997_back() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let Some(peer) = As2Peer::start(As2PeerOptions {
        keys: Some(keys),
        require_signed: true,
        require_encrypted: true,
        ..As2PeerOptions::default()
    })
    .expect("the AS2 peer") else {
        return;
    };
    let port = free_port();
    let dir = setup(port, &peer);
    let p = dir.path();
    let check = dropgate(&[
        "check-config",
        "-c",
        &p.join("gateway.toml").to_string_lossy(),
    ]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    peer.set_gateway_url(&format!("http://127.0.0.1:{port}/as2"))
        .expect("the peer knows us");
    let daemon = Daemon::start(&p.join("gateway.toml"));
    assert!(
        daemon.wait_for_log(Duration::from_secs(20), |l| l
            .to_string()
            .contains("the AS2 server is open")),
        "{}",
        daemon.lines().join("\n")
    );

    // A ship notice, signed and encrypted, with a signed MDN asked for.
    let asn = std::fs::read(root().join("tests/fixtures/reconcile/asn.edi")).expect("fixture");
    let id = peer.send(&asn, &Send::file("asn.edi")).expect("sent");
    let verdict = peer.verdict(&id).expect("a verdict");
    assert!(
        verdict.processed(),
        "{verdict:?}\n{}",
        daemon.lines().join("\n")
    );
    assert_eq!(verdict.mic_ok, Some(true), "our MIC is pyas2lib's");
    assert!(
        verdict.mdn.as_ref().is_some_and(|m| m.signed),
        "a signed MDN: {verdict:?}"
    );
    wait_until("the file processed", &daemon, || {
        files(p)
            .lines()
            .any(|l| l.contains("asn.edi") && l.contains("processed"))
    });

    // Its 997 goes back over AS2, taken by the partner with a good MDN.
    let got = peer.wait_inbox(1).expect("the 997 arrives");
    let ack = got[0].payload.clone().unwrap_or_default();
    let ack = String::from_utf8_lossy(&ack);
    assert!(ack.starts_with("ISA") && ack.contains("ST*997"), "{ack}");
    assert_eq!(got[0].status, "processed", "{:?}", got[0]);
    assert_eq!(got[0].as2_from.as_deref(), Some("DROPGATE"));

    // The same message again: the same MDN, nothing taken twice.
    peer.replay(&id).expect("replayed");
    let replayed = peer.verdict(&id).expect("a verdict");
    assert_eq!(replayed.exchanges.len(), 2, "{replayed:?}");
    assert!(replayed.processed(), "{replayed:?}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(files(p).matches("asn.edi").count(), 1, "{}", files(p));

    // A tampered message, a stranger, a message for another AS2 name:
    // refused with the MDN that says why; nothing taken.
    let tampered = peer
        .send(&asn, &Send::file("tampered.edi").tamper())
        .expect("sent");
    let v = peer.verdict(&tampered).expect("a verdict");
    assert_eq!(v.detail.as_deref(), Some("decryption-failed"), "{v:?}");
    let wrong_key = peer
        .send(&asn, &Send::file("forged.edi").sign_with_wrong_key())
        .expect("sent");
    let v = peer.verdict(&wrong_key).expect("a verdict");
    assert_eq!(v.detail.as_deref(), Some("authentication-failed"), "{v:?}");
    let elsewhere = peer
        .send(&asn, &Send::file("elsewhere.edi").as2_to("SOMEONEELSE"))
        .expect("sent");
    let v = peer.verdict(&elsewhere).expect("a verdict");
    assert_eq!(v.detail.as_deref(), Some("authentication-failed"), "{v:?}");
    // The partnership requires signed and encrypted messages.
    let plain = peer
        .send(
            &asn,
            &Send::file("plain.edi").security(support::as2::Security {
                sign: None,
                encrypt: None,
                compress: false,
                mdn: support::as2::MdnRequest::Sync(Some("sha256".into())),
            }),
        )
        .expect("sent");
    let v = peer.verdict(&plain).expect("a verdict");
    assert_eq!(
        v.detail.as_deref(),
        Some("insufficient-message-security"),
        "{v:?}"
    );
    let listed = files(p);
    for name in ["tampered.edi", "forged.edi", "elsewhere.edi", "plain.edi"] {
        assert!(!listed.contains(name), "{name} was taken: {listed}");
    }
}

#[test]
fn every_security_a_partnership_allows_is_taken_and_what_it_requires_is_enforced() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let Some(peer) = As2Peer::start(As2PeerOptions {
        keys: Some(keys),
        ..As2PeerOptions::default()
    })
    .expect("the AS2 peer") else {
        return;
    };
    let port = free_port();
    let dir = setup(port, &peer);
    let p = dir.path();
    // This partnership takes unsigned and unencrypted messages too, and
    // messages of at most 1 MB.
    let config = p.join("gateway.toml");
    let edited = std::fs::read_to_string(&config)
        .expect("gateway.toml")
        .replace(
            "as2_id = \"PYAS2PEER\"",
            "as2_id = \"PYAS2PEER\"\nrequire_signed = false\nrequire_encrypted = false",
        )
        .replace(
            "as2_id = \"DROPGATE\"",
            "as2_id = \"DROPGATE\"\nmax_body_mb = 1",
        );
    std::fs::write(&config, edited).expect("gateway.toml");
    let check = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    peer.set_gateway_url(&format!("http://127.0.0.1:{port}/as2"))
        .expect("the peer knows us");
    let daemon = Daemon::start(&config);
    assert!(daemon.wait_for_log(Duration::from_secs(20), |l| {
        l.to_string().contains("the AS2 server is open")
    }));
    let asn = std::fs::read(root().join("tests/fixtures/reconcile/asn.edi")).expect("fixture");
    let mut n = 0;
    for sign in [None, Some("sha256"), Some("sha512")] {
        for encrypt in [None, Some("aes_128_cbc"), Some("aes_256_cbc")] {
            for compress in [false, true] {
                for mdn in [
                    support::as2::MdnRequest::Sync(None),
                    support::as2::MdnRequest::Sync(Some("sha256".into())),
                ] {
                    n += 1;
                    // Each its own interchange: another control number.
                    let body = String::from_utf8_lossy(&asn)
                        .replace("000010013", &format!("{:09}", 50_000 + n))
                        .replace("*10013*", &format!("*{}*", 50_000 + n))
                        .replace("GE*1*10013", &format!("GE*1*{}", 50_000 + n));
                    let security = support::as2::Security {
                        sign: sign.map(String::from),
                        encrypt: encrypt.map(String::from),
                        compress,
                        mdn: mdn.clone(),
                    };
                    let name = format!("asn-{n}.edi");
                    let id = peer
                        .send(
                            body.as_bytes(),
                            &Send::file(&name).security(security.clone()),
                        )
                        .expect("sent");
                    let v = peer.verdict(&id).expect("a verdict");
                    assert!(v.processed(), "{security:?}: {v:?}");
                    if sign.is_some() {
                        assert_eq!(v.mic_ok, Some(true), "{security:?}: {v:?}");
                    }
                }
            }
        }
    }
    wait_until("every message processed", &daemon, || {
        files(p)
            .lines()
            .filter(|l| l.contains("asn-") && l.contains("processed"))
            .count()
            == n
    });
    // Over max_body_mb: refused with an error MDN, nothing taken.
    let big = vec![b'x'; 2 << 20];
    let id = peer.send(&big, &Send::file("big.edi")).expect("sent");
    let v = peer.verdict(&id).expect("a verdict");
    assert_eq!(
        v.detail.as_deref(),
        Some("unexpected-processing-error"),
        "{v:?}"
    );
    assert!(!files(p).contains("big.edi"));
}

#[test]
fn a_partner_whose_certificate_expired_is_refused() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    // The partner signs with a certificate that expired in 2021, and we
    // know it by that certificate.
    let Some(peer) = As2Peer::start(As2PeerOptions {
        keys: Some(keys.clone()),
        own_key: As2Keys::EXPIRED.into(),
        validate_certs: false,
        ..As2PeerOptions::default()
    })
    .expect("the AS2 peer") else {
        return;
    };
    let port = free_port();
    let dir = setup(port, &peer);
    let p = dir.path();
    let config = p.join("gateway.toml");
    let edited = std::fs::read_to_string(&config)
        .expect("gateway.toml")
        .replace(
            &keys.peer().cert.display().to_string(),
            &keys.expired().cert.display().to_string(),
        );
    std::fs::write(&config, edited).expect("gateway.toml");
    // check-config says so, at the channel.
    let check = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    let said = format!("{}{}", text(&check.stdout), text(&check.stderr));
    assert!(
        said.contains("channel acme-as2: the partner's certificate expired on 2021-01-01"),
        "{said}"
    );
    peer.set_gateway_url(&format!("http://127.0.0.1:{port}/as2"))
        .expect("the peer knows us");
    let daemon = Daemon::start(&config);
    assert!(daemon.wait_for_log(Duration::from_secs(20), |l| {
        l.to_string().contains("the AS2 server is open")
    }));
    let asn = std::fs::read(root().join("tests/fixtures/reconcile/asn.edi")).expect("fixture");
    let id = peer.send(&asn, &Send::file("late.edi")).expect("sent");
    let v = peer.verdict(&id).expect("a verdict");
    assert_eq!(v.detail.as_deref(), Some("authentication-failed"), "{v:?}");
    assert!(!files(p).contains("late.edi"));
}
