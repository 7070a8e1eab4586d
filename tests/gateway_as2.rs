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

/// `dropgate status`: the deliveries waiting, and why.
fn status(dir: &Path) -> String {
    let out = dropgate(&["status", "-c", &dir.join("gateway.toml").to_string_lossy()]);
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// The ship notice fixture as interchange `n` (its own control numbers).
fn asn_numbered(n: u32) -> Vec<u8> {
    let asn = std::fs::read(root().join("tests/fixtures/reconcile/asn.edi")).expect("fixture");
    String::from_utf8_lossy(&asn)
        .replace("000010013", &format!("{:09}", 60_000 + n))
        .replace("*10013*", &format!("*{}*", 60_000 + n))
        .replace("GE*1*10013", &format!("GE*1*{}", 60_000 + n))
        .into_bytes()
}

#[test]
fn asynchronous_mdns_go_both_ways_and_one_withheld_or_negative_gets_the_message_sent_again() {
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
    // Our 997s ask the partner for an asynchronous MDN, to
    // http://127.0.0.1:PORT/as2/mdn (the default [as2] mdn_url), and
    // are sent again when none came within 3 seconds.
    let config = p.join("gateway.toml");
    let edited = std::fs::read_to_string(&config)
        .expect("gateway.toml")
        .replace(
            "as2_id = \"PYAS2PEER\"",
            "as2_id = \"PYAS2PEER\"\nmdn = \"async\"\nmdn_wait_secs = 3",
        );
    std::fs::write(&config, edited).expect("gateway.toml");
    let check = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    peer.set_gateway_url(&format!("http://127.0.0.1:{port}/as2"))
        .expect("the peer knows us");
    let daemon = Daemon::start(&config);
    assert!(daemon.wait_for_log(Duration::from_secs(20), |l| {
        l.to_string().contains("the AS2 server is open")
    }));
    let async_mdn = support::as2::Security {
        sign: Some("sha256".into()),
        encrypt: Some("aes_256_cbc".into()),
        compress: false,
        mdn: support::as2::MdnRequest::Async(Some("sha256".into())),
    };

    // 1. The partner asks us for an asynchronous MDN: the outbox posts it
    // to the partner's URL, pyas2lib verifies it and our MIC.
    let id = peer
        .send(
            &asn_numbered(1),
            &Send::file("asn-1.edi").security(async_mdn.clone()),
        )
        .expect("sent");
    let v = peer.verdict(&id).expect("a verdict");
    assert!(v.processed(), "{v:?}\n{}", daemon.lines().join("\n"));
    assert_eq!(v.mic_ok, Some(true), "{v:?}");
    assert!(v.mdn.as_ref().is_some_and(|m| m.signed), "{v:?}");
    // Our 997 goes with a request for an asynchronous MDN to our URL; the
    // partner's MDN comes there and makes the delivery.
    let got = peer.wait_inbox(1).expect("the 997 arrives");
    assert_eq!(
        got[0].mdn_url.as_deref(),
        Some(format!("http://127.0.0.1:{port}/as2/mdn").as_str()),
        "{:?}",
        got[0]
    );
    assert_eq!(got[0].mdn_mode.as_deref(), Some("async"));
    let first_997 = got[0].message_id.clone().expect("a Message-ID");
    let mdn_sent = peer.wait_async_mdn(&first_997).expect("its MDN posted");
    assert_eq!(mdn_sent["http_status"], 200, "{mdn_sent}");
    wait_until("the 997's delivery made", &daemon, || {
        status(p).contains("deliveries waiting: 0")
    });
    let shown = text(&dropgate(&["show", "1", "-c", &config.to_string_lossy()]).stdout);
    assert!(
        shown.contains(&format!(
            "AS2 message <{first_997}> to acme-as2: its asynchronous MDN says processed"
        )),
        "{shown}"
    );

    // 2. The partner takes the next 997 but withholds its MDN: after 3
    // seconds the same message goes again, under the same Message-ID;
    // pyas2lib knows it (a duplicate, not taken twice) and answers.
    peer.fault(support::as2::Fault::WithholdAsyncMdn, 1)
        .expect("armed");
    let id = peer
        .send(&asn_numbered(2), &Send::file("asn-2.edi"))
        .expect("sent");
    assert!(peer.verdict(&id).expect("a verdict").processed());
    let got = peer.wait_inbox(2).expect("the second 997");
    let second_997 = got[1].message_id.clone().expect("a Message-ID");
    assert_ne!(second_997, first_997);
    wait_until("the 997 awaiting its MDN", &daemon, || {
        status(p).contains("its MDN is awaited")
    });
    let got = peer.wait_inbox(3).expect("the second 997 again");
    assert_eq!(got[2].message_id.as_deref(), Some(second_997.as_str()));
    assert!(got[2].duplicate, "{:?}", got[2]);
    wait_until("the second 997's delivery made", &daemon, || {
        status(p).contains("deliveries waiting: 0")
    });

    // 3. The partner answers the next one with a negative MDN: noted on
    // the delivery, the message sent again, taken the second time.
    peer.fault(
        support::as2::Fault::NegativeMdn("unexpected-processing-error".into()),
        1,
    )
    .expect("armed");
    let id = peer
        .send(&asn_numbered(3), &Send::file("asn-3.edi"))
        .expect("sent");
    assert!(peer.verdict(&id).expect("a verdict").processed());
    wait_until("the negative MDN noted", &daemon, || {
        status(p).contains("the partner's MDN says processed/error: unexpected-processing-error")
    });
    let got = peer.wait_inbox(5).expect("the third 997, twice");
    assert_eq!(got[3].message_id, got[4].message_id);
    assert_eq!(got[3].status, "processed/Error", "{:?}", got[3]);
    assert_eq!(got[4].status, "processed", "{:?}", got[4]);
    wait_until("the third 997's delivery made", &daemon, || {
        status(p).contains("deliveries waiting: 0")
    });
    // Each 997 taken once by the partner.
    let taken = peer
        .inbox()
        .expect("inbox")
        .into_iter()
        .filter(|r| r.status == "processed")
        .count();
    assert_eq!(taken, 3);
}

/// POSTs `body` with `headers` to `127.0.0.1:port` `path` over one
/// HTTP/1.1 connection: the status and the answer's body.
fn post_raw(port: u16, path: &str, headers: &[(String, String)], body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connected");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).expect("written");
    conn.write_all(body).expect("written");
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).expect("the answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let status = String::from_utf8_lossy(&answer[..split])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, answer[split + 4..].to_vec())
}

#[test]
fn one_message_posted_many_times_at_once_is_taken_once_and_each_post_gets_the_same_mdn() {
    use dropgate::as2::{
        Certificate, Cipher, DigestAlgorithm, Identity, MdnDelivery, MdnRequest, OutboundOptions,
    };
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let Some(peer) = As2Peer::start(As2PeerOptions {
        keys: Some(keys.clone()),
        ..As2PeerOptions::default()
    })
    .expect("the AS2 peer") else {
        return;
    };
    let port = free_port();
    let dir = setup(port, &peer);
    let p = dir.path();
    let daemon = Daemon::start(&p.join("gateway.toml"));
    assert!(daemon.wait_for_log(Duration::from_secs(20), |l| {
        l.to_string().contains("the AS2 server is open")
    }));
    // One message from the partner, built once (signed with its key,
    // encrypted for ours), posted by 8 connections at the same moment.
    let read = |p: &Path| std::fs::read(p).expect("key file");
    let partner = Identity::from_pem_or_der(&read(&keys.peer().cert), &read(&keys.peer().key))
        .expect("the partner's identity");
    let ours = Certificate::from_pem_or_der(&read(&keys.gateway().cert)).expect("our certificate");
    let options = OutboundOptions {
        from: "PYAS2PEER".into(),
        to: "DROPGATE".into(),
        message_id: "race-1@pyas2peer".into(),
        subject: "a race".into(),
        filename: Some("race.edi".into()),
        content_type: "application/edi-x12".into(),
        sign: Some(DigestAlgorithm::Sha256),
        encrypt: Some(Cipher::Aes256Cbc),
        compress: None,
        mdn: Some(MdnRequest {
            notification_to: "peer".into(),
            signed: Some(DigestAlgorithm::Sha256),
            delivery: MdnDelivery::Sync,
        }),
    };
    let message = dropgate::as2::message::build(
        &asn_numbered(9),
        &options,
        &partner,
        &ours,
        std::time::SystemTime::now(),
        &mut dropgate::as2::system_rng(),
    )
    .expect("the message");
    let start = std::sync::Barrier::new(8);
    let answers: Vec<(u16, Vec<u8>)> = std::thread::scope(|s| {
        let posts: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    post_raw(port, "/as2", &message.headers, &message.body)
                })
            })
            .collect();
        posts
            .into_iter()
            .map(|t| t.join().expect("a post"))
            .collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{}", String::from_utf8_lossy(body));
        assert_eq!(
            body, &answers[0].1,
            "every post is answered with the one MDN recorded"
        );
    }
    assert!(
        String::from_utf8_lossy(&answers[0].1).contains("processed"),
        "{}",
        String::from_utf8_lossy(&answers[0].1)
    );
    wait_until("the file processed", &daemon, || {
        files(p).contains("race.edi")
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(files(p).matches("race.edi").count(), 1, "{}", files(p));
    let said = daemon.lines().join("\n");
    eprintln!(
        "posts answered from the record: {} before opening, {} after a race",
        said.matches("answered again").count(),
        said.matches("recorded meanwhile").count()
    );
}

#[test]
fn check_config_says_when_a_partner_cannot_reach_our_asynchronous_mdn_url() {
    let Some(keys) = As2Keys::generate().expect("keys") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = dir.path().join("gateway.toml");
    std::fs::create_dir_all(dir.path().join("partners")).expect("partners");
    let write = |mdn_url: &str| {
        std::fs::write(
            &config,
            format!(
                r#"
[gateway]
data_dir = "var"

[as2]
as2_id = "DROPGATE"
certificate = "{}"
private_key = "{}"
{mdn_url}

[channel.acme-as2]
type = "as2"
as2_id = "ACME"
url = "https://as2.acme.example/as2"
certificate = "{}"
mdn = "async"
"#,
                keys.gateway().cert.display(),
                keys.gateway().key.display(),
                keys.peer().cert.display(),
            ),
        )
        .expect("gateway.toml");
        let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
        (
            out.status.code(),
            format!("{}{}", text(&out.stdout), text(&out.stderr)),
        )
    };
    let (_, said) = write("");
    assert!(
        said.contains("asynchronous MDNs are asked for at http://127.0.0.1:4080/as2/mdn, which the partner at https://as2.acme.example/as2 cannot reach"),
        "{said}"
    );
    let (code, said) = write("mdn_url = \"https://as2.retailer.example/as2/mdn\"");
    assert_eq!(code, Some(0), "{said}");
    assert!(!said.contains("cannot reach"), "{said}");
    let (code, said) = write("mdn_url = \"ftp://as2.retailer.example/mdn\"");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("is not an http:// or https:// URL"), "{said}");
}
