//! Criterion benchmarks of dropgate's AS2 message machinery (`dropgate::as2`,
//! no HTTP), on X12 payloads of 10 KB and 1 MB, with RSA-2048 keys made by
//! the `openssl` CLI:
//!
//! - outbound: `message::build` (sign SHA-256, encrypt AES-256-CBC, a
//!   signed MDN asked for), `mdn::parse` of the partner's signed MDN
//!   (signature verified, MIC compared), and both (one delivery);
//! - inbound: `message::open` (decrypt, verify, MIC), `mdn::build` of a
//!   signed MDN, and both (one received message).
//!
//! With `AS2_BENCH_DIR` set, the keys are made there once (or reused) and
//! the payloads, the message and the MDN of each size are written there,
//! so that scripts/bench_as2.py measures pyas2lib on the same bytes.

#[allow(dead_code)]
#[path = "../tests/support/as2_keys.rs"]
mod as2_keys;
#[path = "support/x12_data.rs"]
mod x12_data;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dropgate::as2::mdn::{self, Expected, MdnReport};
use dropgate::as2::message::{self, Outbound, Policy, Receiving};
use dropgate::as2::mime::{Header, Limits};
use dropgate::as2::{
    Certificate, Cipher, DigestAlgorithm, Identity, MdnDelivery, MdnRequest, OutboundOptions,
    system_rng,
};

/// Payload sizes, in bytes, with their names in benchmark IDs and files.
const SIZES: [(&str, usize); 2] = [("10KB", 10_000), ("1MB", 1_000_000)];

const SENDER: &str = "GATEWAY";
const RECEIVER: &str = "PARTNER";

/// X12 interchanges (a realistic 850/856/810/846 mix) cut to `len` bytes.
fn payload(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + (1 << 16));
    x12_data::write_mixed(&mut out, len as u64, 16).expect("in memory");
    out.truncate(len);
    out
}

fn headers(fields: &[(String, String)]) -> Vec<Header> {
    fields
        .iter()
        .map(|(name, value)| Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// Header fields and body as one HTTP-like byte string (what pyas2lib's
/// `parse` reads).
fn wire(fields: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 1024);
    for (name, value) in fields {
        write!(out, "{name}: {value}\r\n").expect("in memory");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

struct Keys {
    _temp: Option<tempfile::TempDir>,
    dir: PathBuf,
    sender: Identity,
    sender_cert: Certificate,
    receiver: Identity,
    receiver_cert: Certificate,
}

fn party(dir: &Path, name: &'static str) -> (Identity, Certificate) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    if !cert.exists() || !key.exists() {
        as2_keys::rsa(dir, name).expect("openssl makes an RSA-2048 key and certificate");
    }
    let cert = std::fs::read(cert).expect("certificate");
    let key = std::fs::read(key).expect("key");
    (
        Identity::from_pem_or_der(&cert, &key).expect("identity"),
        Certificate::from_pem_or_der(&cert).expect("certificate"),
    )
}

fn keys() -> Keys {
    let (temp, dir) = match std::env::var_os("AS2_BENCH_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("AS2_BENCH_DIR");
            (None, PathBuf::from(dir))
        }
        None => {
            let temp = tempfile::tempdir().expect("temporary folder");
            let dir = temp.path().to_path_buf();
            (Some(temp), dir)
        }
    };
    let (sender, sender_cert) = party(&dir, SENDER);
    let (receiver, receiver_cert) = party(&dir, RECEIVER);
    Keys {
        _temp: temp,
        dir,
        sender,
        sender_cert,
        receiver,
        receiver_cert,
    }
}

fn options(size: &str) -> OutboundOptions {
    OutboundOptions {
        from: SENDER.into(),
        to: RECEIVER.into(),
        message_id: format!("bench-{size}@dropgate"),
        subject: "AS2 benchmark".into(),
        filename: Some(format!("bench-{size}.edi")),
        content_type: "application/edi-x12".into(),
        sign: Some(DigestAlgorithm::Sha256),
        encrypt: Some(Cipher::Aes256Cbc),
        compress: None,
        mdn: Some(MdnRequest {
            notification_to: "edi@gateway.example".into(),
            signed: Some(DigestAlgorithm::Sha256),
            delivery: MdnDelivery::Sync,
        }),
    }
}

fn build(payload: &[u8], options: &OutboundOptions, keys: &Keys) -> Outbound {
    message::build(
        payload,
        options,
        &keys.sender,
        &keys.receiver_cert,
        SystemTime::now(),
        &mut system_rng(),
    )
    .expect("built")
}

fn open(message: &[Header], body: &[u8], keys: &Keys, limits: &Limits) -> message::Inbound {
    let receiving = Receiving {
        us: &keys.receiver,
        partner: &keys.sender_cert,
        policy: Policy {
            require_signed: true,
            require_encrypted: true,
        },
        limits,
    };
    message::open(
        message,
        body,
        &receiving,
        SystemTime::now(),
        &mut system_rng(),
    )
    .expect("opened")
}

fn build_mdn(inbound: &message::Inbound, keys: &Keys) -> mdn::Mdn {
    mdn::build(
        &MdnReport::processed(inbound, "dropgate benchmark"),
        RECEIVER,
        SENDER,
        &format!("mdn-{}", inbound.envelope.message_id),
        Some((DigestAlgorithm::Sha256, &keys.receiver)),
        SystemTime::now(),
        &mut system_rng(),
    )
    .expect("MDN built")
}

fn parse_mdn(
    mdn_headers: &[Header],
    mdn_body: &[u8],
    sent: &Outbound,
    keys: &Keys,
    limits: &Limits,
) -> bool {
    let expected = Expected {
        message_id: &sent.message_id,
        mic: Some(&sent.mic),
        signed_mdn: true,
    };
    let outcome = mdn::parse(
        mdn_headers,
        mdn_body,
        &keys.receiver_cert,
        &expected,
        SystemTime::now(),
        limits,
    )
    .expect("MDN verified");
    outcome.processed() && outcome.signed.is_some()
}

fn benches(c: &mut Criterion) {
    let keys = keys();
    let limits = Limits::default();
    let mut group = c.benchmark_group("as2");
    group.sample_size(10);
    for (size, len) in SIZES {
        let payload = payload(len);
        let options = options(size);
        // One message and its MDN, made once: what the open and the MDN
        // parse read (and what the pyas2lib script reads too).
        let sent = build(&payload, &options, &keys);
        let sent_headers = headers(&sent.headers);
        let inbound = open(&sent_headers, &sent.body, &keys, &limits);
        assert_eq!(
            inbound.payload, payload,
            "the payload arrives byte for byte"
        );
        assert_eq!(inbound.mic, sent.mic, "both sides compute the same MIC");
        let answer = build_mdn(&inbound, &keys);
        let answer_headers = headers(&answer.headers);
        assert!(parse_mdn(
            &answer_headers,
            &answer.body,
            &sent,
            &keys,
            &limits
        ));
        if keys._temp.is_none() {
            let dir = &keys.dir;
            std::fs::write(dir.join(format!("payload-{size}.edi")), &payload).expect("write");
            std::fs::write(
                dir.join(format!("message-{size}.eml")),
                wire(&sent.headers, &sent.body),
            )
            .expect("write");
            std::fs::write(
                dir.join(format!("mdn-{size}.eml")),
                wire(&answer.headers, &answer.body),
            )
            .expect("write");
            std::fs::write(
                dir.join(format!("sent-{size}.txt")),
                format!("{}\n{}\n", sent.message_id, sent.mic),
            )
            .expect("write");
        }

        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("outbound/build", size), |b| {
            b.iter(|| build(&payload, &options, &keys))
        });
        group.bench_function(BenchmarkId::new("outbound/mdn_parse", size), |b| {
            b.iter(|| {
                assert!(parse_mdn(
                    &answer_headers,
                    &answer.body,
                    &sent,
                    &keys,
                    &limits
                ))
            })
        });
        group.bench_function(BenchmarkId::new("outbound/total", size), |b| {
            b.iter(|| {
                let built = build(&payload, &options, &keys);
                assert!(parse_mdn(
                    &answer_headers,
                    &answer.body,
                    &built,
                    &keys,
                    &limits
                ));
            })
        });
        group.bench_function(BenchmarkId::new("inbound/open", size), |b| {
            b.iter(|| open(&sent_headers, &sent.body, &keys, &limits))
        });
        group.bench_function(BenchmarkId::new("inbound/mdn_build", size), |b| {
            b.iter(|| build_mdn(&inbound, &keys))
        });
        group.bench_function(BenchmarkId::new("inbound/total", size), |b| {
            b.iter(|| {
                let received = open(&sent_headers, &sent.body, &keys, &limits);
                build_mdn(&received, &keys)
            })
        });
    }
    group.finish();
}

criterion_group!(as2, benches);
criterion_main!(as2);
