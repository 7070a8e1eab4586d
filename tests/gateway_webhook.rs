//! The webhook relay against a real HTTP receiver on 127.0.0.1: each
//! document POSTed with its idempotency key and an HMAC-SHA256 signature
//! the receiver can check; a receiver that is down, and comes back, gets
//! every document once; a receiver that fails in the middle of a file's
//! documents gets the rest from where it stopped.

mod support;

use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::relay::webhook::signature;
use dropgate::store::FileState;
use support::http::Receiver;

const SECRET: &str = "routing-core-shared-secret";

/// A gateway relaying to `127.0.0.1:port`, with Acme (X12) and a
/// retailer-side partner whose 850 files hold several orders.
fn setup(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    std::fs::create_dir_all(p.join("drop")).expect("drop");
    std::fs::create_dir_all(p.join("partners")).expect("partners");
    std::fs::write(p.join("secret"), format!("{SECRET}\n")).expect("secret");
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
retry_secs = 1

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[relay]
type = "webhook"
url = "http://127.0.0.1:{port}/documents"
secret_file = "secret"
timeout_secs = 5
"#
        ),
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/orders.toml"),
        "[x12]\ninterchange_id = \"ZZ:RETAILERID\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n",
    )
    .expect("partner");
    dir
}

/// Three 850s in one interchange.
fn three_orders() -> Vec<u8> {
    let mut s = String::from(
        "ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *240115*1030*U*00401*000000101*0*P*>~\nGS*PO*RETAILERID*VENDORID*20240115*1030*101*X*004010~\n",
    );
    for n in 1..=3 {
        s.push_str(&format!(
            "ST*850*000{n}~\nBEG*00*DS*PO-{n}**20240115~\nN1*ST*Jane Doe~\nN3*1 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*2*EA*4.5**VN*SKU-{n}~\nCTT*1~\nSE*8*000{n}~\n"
        ));
    }
    s.push_str("GE*3*101~\nIEA*1*000000101~\n");
    s.into_bytes()
}

fn gateway(dir: &tempfile::TempDir) -> Gateway {
    let config = config::load(&dir.path().join("gateway.toml")).expect("configuration loads");
    Gateway::open(config).expect("gateway opens")
}

fn pass_until_delivered(g: &mut Gateway) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let report = g.pass().expect("a pass");
        if report.pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "never delivered: {report:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_receiver_that_is_down_gets_every_document_once_when_it_is_back() {
    let port = Receiver::free_port();
    let dir = setup(port);
    std::fs::write(dir.path().join("drop/orders.edi"), three_orders()).expect("dropped");
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Processed, "{report:?}");
    assert_eq!(report.files[0].documents, 3);
    assert_eq!(report.delivery_errors.len(), 1, "{report:?}");
    assert!(
        report.delivery_errors[0].contains("posting document 0"),
        "{report:?}"
    );
    assert_eq!(report.pending, 1);

    let receiver = Receiver::start(port);
    pass_until_delivered(&mut g);
    let requests = receiver.requests();
    let keys: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.header("idempotency-key"))
        .collect();
    assert_eq!(keys, ["relay:1:0", "relay:1:1", "relay:1:2"]);
    for r in &requests {
        assert_eq!(r.line, "POST /documents HTTP/1.1");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("x-dropgate-signature"),
            Some(signature(SECRET.as_bytes(), &r.body).as_str()),
            "the signature is the HMAC of the body under the shared secret"
        );
        let doc: serde_json::Value = serde_json::from_slice(&r.body).expect("a JSON document");
        assert_eq!(doc["type"], "purchase_order");
    }
    // Nothing more to send.
    let report = g.pass().expect("a pass");
    assert_eq!((report.delivered, report.pending), (0, 0));
    assert_eq!(receiver.requests().len(), 3);
    // A wrong signature would not match.
    assert_ne!(
        requests[0].header("x-dropgate-signature"),
        Some(signature(b"another secret", &requests[0].body).as_str())
    );
}

#[test]
fn a_failure_in_the_middle_resumes_where_it_stopped() {
    let port = Receiver::free_port();
    let dir = setup(port);
    let receiver = Receiver::start(port);
    receiver.fail_once("relay:1:1");
    std::fs::write(dir.path().join("drop/orders.edi"), three_orders()).expect("dropped");
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!(report.delivery_errors.len(), 1, "{report:?}");
    assert!(report.delivery_errors[0].contains("500"), "{report:?}");
    pass_until_delivered(&mut g);
    let seen: Vec<(String, u16)> = receiver
        .requests()
        .iter()
        .map(|r| {
            (
                r.header("idempotency-key").unwrap_or("").to_string(),
                r.status,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("relay:1:0".to_string(), 200),
            ("relay:1:1".to_string(), 500),
            ("relay:1:1".to_string(), 200),
            ("relay:1:2".to_string(), 200),
        ],
        "document 0 is not sent again"
    );
}
