//! The webhook relay against a real HTTP receiver on 127.0.0.1: each
//! document POSTed with its idempotency key and an HMAC-SHA256 signature
//! the receiver can check; a receiver that is down, and comes back, gets
//! every document once; a receiver that fails in the middle of a file's
//! documents gets the rest from where it stopped. A gateway killed, or
//! stopped with SIGTERM, while a document is in flight sends nothing
//! again but that document.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::relay::webhook::signature;
use dropgate::store::FileState;
use support::daemon::Daemon;
use support::http::Receiver;

const SECRET: &str = "routing-core-shared-secret";

/// A gateway relaying to `127.0.0.1:port`, with Acme (X12) and a
/// retailer-side partner whose 850 files hold several orders.
fn setup(port: u16) -> tempfile::TempDir {
    setup_with(port, 5, "")
}

/// The same, with requests that may take `timeout_secs`, and `extra`
/// lines in `[gateway]`.
fn setup_with(port: u16, timeout_secs: u64, extra: &str) -> tempfile::TempDir {
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
{extra}

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[relay]
type = "webhook"
url = "http://127.0.0.1:{port}/documents"
secret_file = "secret"
timeout_secs = {timeout_secs}
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
    orders(101, 3)
}

/// `count` 850s in one interchange numbered `control` (each number makes
/// other bytes, and other PO numbers).
fn orders(control: u32, count: u32) -> Vec<u8> {
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *240115*1030*U*00401*{control:09}*0*P*>~\nGS*PO*RETAILERID*VENDORID*20240115*1030*{control}*X*004010~\n",
    );
    for n in 1..=count {
        let po = if control == 101 {
            format!("PO-{n}")
        } else {
            format!("PO-{control}-{n}")
        };
        s.push_str(&format!(
            "ST*850*000{n}~\nBEG*00*DS*{po}**20240115~\nN1*ST*Jane Doe~\nN3*1 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*2*EA*4.5**VN*SKU-{n}~\nCTT*1~\nSE*8*000{n}~\n"
        ));
    }
    s.push_str(&format!("GE*{count}*{control}~\nIEA*1*{control:09}~\n"));
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

/// The idempotency keys of the requests the receiver got, in order, with
/// the status it answered (0: none, the request was held).
fn keys(receiver: &Receiver) -> Vec<(String, u16)> {
    receiver
        .requests()
        .iter()
        .map(|r| {
            (
                r.header("idempotency-key").unwrap_or("").to_string(),
                r.status,
            )
        })
        .collect()
}

/// The keys that came more than once.
fn repeated(keys: &[(String, u16)]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for (k, _) in keys {
        *seen.entry(k).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_string())
        .collect()
}

/// The distinct keys.
fn distinct(keys: &[(String, u16)]) -> Vec<String> {
    let mut k: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    k.sort();
    k.dedup();
    k
}

fn config_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("gateway.toml")
}

#[test]
fn a_gateway_killed_in_the_middle_of_a_delivery_sends_again_only_the_document_in_flight() {
    let port = Receiver::free_port();
    let dir = setup(port);
    let receiver = Receiver::start(port);
    std::fs::write(dir.path().join("drop/a.edi"), orders(201, 3)).expect("dropped");
    std::fs::write(dir.path().join("drop/b.edi"), orders(202, 3)).expect("dropped");
    // The fifth document is the second of the second file: the first
    // file's delivery is made, the second's half made, when it is killed.
    receiver.hold(5);
    let mut child = Command::new(Daemon::binary())
        .args(["run", "--once", "-c"])
        .arg(config_path(&dir))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dropgate runs");
    let held = receiver.wait_for_held(Duration::from_secs(60));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(held, "the fifth document never came: {:?}", keys(&receiver));
    receiver.release();
    let in_flight = keys(&receiver)[4].0.clone();

    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    let keys = keys(&receiver);
    assert_eq!(distinct(&keys).len(), 6, "every document arrived: {keys:?}");
    assert_eq!(
        repeated(&keys),
        [in_flight],
        "only the document in flight is sent again: {keys:?}"
    );
}

/// True for the log line of a delivery that failed.
fn delivery_failed(line: &serde_json::Value) -> bool {
    line["level"] == "WARN"
        && line["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("delivery failed"))
}

#[test]
fn sigterm_in_the_first_pass_stops_within_the_grace_and_loses_nothing() {
    let port = Receiver::free_port();
    let dir = setup_with(port, 60, "shutdown_grace_secs = 2");
    let receiver = Receiver::start(port);
    std::fs::write(dir.path().join("drop/a.edi"), orders(301, 3)).expect("dropped");
    receiver.hold(2);
    let mut daemon = Daemon::start(&config_path(&dir));
    assert!(
        receiver.wait_for_held(Duration::from_secs(60)),
        "the second document never came: {:?}",
        daemon.lines()
    );
    daemon.signal("-TERM");
    // The receiver never answers: the document in flight is abandoned
    // once the grace is over.
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "exit 0 on SIGTERM, within the grace: {status:?} {:?}",
        daemon.lines()
    );
    assert!(
        daemon.logs().iter().any(|l| l["level"] == "WARN"
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("abandoned"))),
        "{:?}",
        daemon.lines()
    );
    assert_eq!(keys(&receiver)[1].1, 0, "it stopped with the request held");
    receiver.release();
    let in_flight = keys(&receiver)[1].0.clone();

    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    let keys = keys(&receiver);
    assert_eq!(distinct(&keys).len(), 3, "every document arrived: {keys:?}");
    assert!(
        repeated(&keys).iter().all(|k| *k == in_flight),
        "nothing but the document in flight is sent again: {keys:?}"
    );
    let files = g.store().recent_files(10).expect("files");
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].state, FileState::Processed);
}

#[test]
fn sigterm_in_a_later_pass_finishes_the_document_in_flight_and_stops() {
    let port = Receiver::free_port();
    let dir = setup_with(port, 60, "poll_interval_secs = 1");
    let receiver = Receiver::start(port);
    std::fs::write(dir.path().join("drop/first.edi"), orders(401, 1)).expect("dropped");
    let mut daemon = Daemon::start(&config_path(&dir));
    let delivered = |l: &serde_json::Value| l["fields"]["message"] == "deliveries made";
    assert!(
        daemon.wait_for_log(Duration::from_secs(60), delivered),
        "the first file was never relayed: {:?}",
        daemon.lines()
    );
    // In a later pass: the first document of one file fails, and the
    // first of the other is held.
    receiver.fail_once("relay:2:0");
    receiver.hold(3);
    std::fs::write(dir.path().join("drop/a.edi"), orders(402, 3)).expect("dropped");
    std::fs::write(dir.path().join("drop/b.edi"), orders(403, 3)).expect("dropped");
    assert!(
        receiver.wait_for_held(Duration::from_secs(60)),
        "the held document never came: {:?} {:?}",
        keys(&receiver),
        daemon.lines()
    );
    // The failure was logged when it happened, not at the end of the pass.
    assert!(
        daemon.wait_for_log(Duration::from_secs(10), delivery_failed),
        "no log line for the failed delivery while the pass goes on: {:?}",
        daemon.lines()
    );
    daemon.signal("-TERM");
    let stopping = |l: &serde_json::Value| {
        l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("stopping"))
    };
    assert!(
        daemon.wait_for_log(Duration::from_secs(30), stopping),
        "{:?}",
        daemon.lines()
    );
    // Answered within the grace: that document is acknowledged, and the
    // next is not sent.
    receiver.release();
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "{status:?} {:?}",
        daemon.lines()
    );
    assert_eq!(
        keys(&receiver)[1..],
        [
            ("relay:2:0".to_string(), 500),
            ("relay:3:0".to_string(), 200)
        ],
        "nothing taken up after SIGTERM"
    );

    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    let keys = keys(&receiver);
    assert_eq!(distinct(&keys).len(), 7, "every document arrived: {keys:?}");
    let acknowledged: Vec<(String, u16)> =
        keys.iter().filter(|(_, s)| *s == 200).cloned().collect();
    assert!(
        repeated(&acknowledged).is_empty(),
        "no acknowledged document is sent again: {keys:?}"
    );
    assert_eq!(acknowledged.len(), 7, "{keys:?}");
}
