//! The daemon's HTTP API, over real HTTP on 127.0.0.1: health, Prometheus
//! metrics after files were processed, purchase orders posted with the
//! bearer token (and refused without it), each order sent once however
//! often it is posted, and a clean stop on SIGTERM. A routing core that
//! does not answer holds up only its own deliveries: the API answers,
//! orders go out and new files are taken meanwhile. And a daemon whose
//! disk is full (a small tmpfs of its own) goes on serving, leaves the
//! file in the drop and takes it once there is room again.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::cli::{names, root, text};
use support::daemon::Daemon;
use support::http::{Answer, Receiver, request, request_with};

const TOKEN: &str = "a-long-enough-api-token-4711";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A gateway folder with the API on `port`, a drop, Acme (X12, its
/// outbound folder `out/acme`) and the file relay; `extra` goes at the end
/// of `[gateway]` and `api_extra` of `[api]`.
fn setup(port: u16, extra: &str, api_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    std::fs::create_dir_all(p.join("drop")).expect("drop");
    std::fs::create_dir_all(p.join("partners")).expect("partners");
    std::fs::copy(
        root().join("samples/partners/acme.toml"),
        p.join("partners/acme.toml"),
    )
    .expect("partner");
    std::fs::write(p.join("token"), TOKEN).expect("token");
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
poll_interval_secs = 1
{extra}

[x12]
interchange_id = "ZZ:RETAILERID"

[api]
listen = "127.0.0.1:{port}"
token_file = "token"
{api_extra}

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "out/acme"

[relay]
type = "file"
path = "relay"
"#
        ),
    )
    .expect("gateway.toml");
    dir
}

/// Waits for the API to answer `/healthz`.
fn wait_for_api(port: u16, daemon: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", "/healthz", None, "").is_none() {
        assert!(
            Instant::now() < deadline,
            "the API never answered: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &dir.join("gateway.toml").to_string_lossy()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the daemon starts")
}

#[test]
fn health_metrics_and_purchase_orders_over_http() {
    let port = free_port();
    let dir = setup(port, "", "");
    let p = dir.path();
    std::fs::copy(
        root().join("samples/x12/good/856-4010-pick-and-pack.edi"),
        p.join("drop/asn.edi"),
    )
    .expect("dropped");
    let child = start(p);

    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some(answer) = request(port, "GET", "/healthz", None, "") {
            break answer;
        }
        assert!(Instant::now() < deadline, "the API never answered");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health, (200, "ok\n".to_string()));

    // The file dropped before the start shows in the metrics.
    let metrics = loop {
        let (status, body) = request(port, "GET", "/metrics", None, "").expect("metrics");
        assert_eq!(status, 200);
        if body.contains("dropgate_files_total{state=\"processed\"} 1") {
            break body;
        }
        assert!(Instant::now() < deadline, "never processed: {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        metrics.contains("# TYPE dropgate_passes_total counter"),
        "{metrics}"
    );
    // Its acknowledgment and documents are delivered by the workers.
    drained(port);
    let metrics = request(port, "GET", "/metrics", None, "")
        .expect("metrics")
        .1;
    assert!(
        metrics.contains("dropgate_deliveries_total 2"),
        "the 997 and the relay: {metrics}"
    );

    let po = std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
        .expect("PO");
    let body = format!("{{\"partner\": \"acme\", \"document\": {po}}}");
    assert_eq!(
        request(port, "POST", "/v1/purchase-orders", None, &body).map(|a| a.0),
        Some(401)
    );
    assert_eq!(
        request(
            port,
            "POST",
            "/v1/purchase-orders",
            Some("a-wrong-token-of-the-same-len"),
            &body
        )
        .map(|a| a.0),
        Some(401)
    );
    let (status, answer) =
        request(port, "POST", "/v1/purchase-orders", Some(TOKEN), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    // Acme's 997 for asn.edi was its interchange 1: the order is its 2.
    assert_eq!(
        answer["queued"][0]["name"],
        "acme-po-PO123456-000000002.edi"
    );
    // Queued: the delivery worker of acme's channel sends it.
    assert!(answer["pending"].as_u64().is_some(), "{answer}");
    let sent = p.join("out/acme/acme-po-PO123456-000000002.edi");
    while !sent.exists() {
        assert!(Instant::now() < deadline, "the order was never delivered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let order = std::fs::read_to_string(&sent).expect("the 850");
    assert!(order.contains("ST*850*"), "{order}");
    let (status, answer) = request(
        port,
        "POST",
        "/v1/purchase-orders",
        Some(TOKEN),
        &format!("{{\"partner\": \"nobody\", \"document\": {po}}}"),
    )
    .expect("answer");
    assert_eq!(status, 400);
    assert!(answer.contains("there is no partner"), "{answer}");
    let (status, _) =
        request(port, "POST", "/v1/purchase-orders", Some(TOKEN), "not json").expect("answer");
    assert_eq!(status, 400);
    let metrics = request(port, "GET", "/metrics", None, "")
        .expect("metrics")
        .1;
    assert!(metrics.contains("dropgate_orders_total 1"), "{metrics}");

    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let out = child.wait_with_output().expect("the daemon exits");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        request(port, "GET", "/healthz", None, "").is_none(),
        "the API stopped too"
    );
}

/// The sample purchase order, as JSON, with `change` applied.
fn order(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut po: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
            .expect("PO"),
    )
    .expect("JSON");
    change(&mut po);
    po
}

/// The body that posts `po` to Acme.
fn post_body(po: &serde_json::Value) -> String {
    serde_json::json!({ "partner": "acme", "document": po }).to_string()
}

/// The 850s in Acme's outbound folder for a PO number.
fn sent(dir: &Path, po_number: &str) -> Vec<String> {
    let needle = format!("-po-{po_number}-");
    names(&dir.join("out/acme"))
        .into_iter()
        .filter(|n| n.contains(&needle))
        .collect()
}

/// Waits until the outbox is empty (the delivery workers send what the
/// API queued), as `/metrics` says.
fn drained(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = request(port, "GET", "/metrics", None, "").map(|a| a.1);
        if metrics
            .as_deref()
            .is_some_and(|m| m.contains("dropgate_deliveries_pending 0\n"))
        {
            return;
        }
        assert!(Instant::now() < deadline, "never delivered: {metrics:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn each_purchase_order_is_sent_once_however_often_it_is_posted() {
    let port = free_port();
    let dir = setup(port, "", "max_body_bytes = 16384");
    let p = dir.path();
    let config = p.join("gateway.toml");
    let mut daemon = Daemon::start(&config);
    wait_for_api(port, &daemon);
    let post = |key: Option<&str>, body: &str| {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        request_with(
            port,
            "POST",
            "/v1/purchase-orders",
            Some(TOKEN),
            &headers,
            body,
        )
        .expect("an answer")
    };

    // A client that times out and posts again, with its key or without.
    let body = post_body(&order(|_| {}));
    let (status, headers, first) = post(Some("order-PO123456-a"), &body);
    assert_eq!(status, 202, "{first}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "idempotent-replayed"), None);
    let (status, headers, again) = post(Some("order-PO123456-a"), &body);
    assert_eq!((status, &again), (202, &first), "the first answer again");
    assert_eq!(header(&headers, "idempotent-replayed"), Some("true"));
    let (status, _, again) = post(None, &body);
    assert_eq!(
        (status, &again),
        (202, &first),
        "the same order without a key"
    );
    let (status, _, again) = post(Some("another-key"), &body);
    assert_eq!(
        (status, &again),
        (202, &first),
        "the same order under another key"
    );
    drained(port);
    assert_eq!(sent(p, "PO123456").len(), 1, "one 850");

    // In a request with another order, it is not sent again either.
    let other = order(|po| po["po_number"] = "PO777".into());
    let both = serde_json::json!({ "partner": "acme", "documents": [order(|_| {}), other] });
    let (status, _, answer) = post(None, &both.to_string());
    assert_eq!(status, 202, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["queued"][0]["repeat"], true, "{answer}");
    assert_eq!(answer["queued"][1]["repeat"], false, "{answer}");
    drained(port);
    assert_eq!((sent(p, "PO123456").len(), sent(p, "PO777").len()), (1, 1));

    // The same key for another request, or the same PO number for another
    // order: refused, and nothing sent.
    let changed = order(|po| po["lines"][0]["quantity"] = 5.into());
    let (status, _, answer) = post(Some("order-PO123456-a"), &post_body(&changed));
    assert_eq!(status, 409, "{answer}");
    assert!(answer.contains("Idempotency-Key"), "{answer}");
    let (status, _, answer) = post(None, &post_body(&changed));
    assert_eq!(status, 409, "{answer}");
    let error: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("PO123456") && e.contains("change")),
        "{answer}"
    );
    drained(port);
    assert_eq!(sent(p, "PO123456").len(), 1);

    // A change is another order message: sent once too.
    let change = order(|po| {
        po["purpose"] = "change".into();
        po["lines"][0]["quantity"] = 5.into();
    });
    let (status, _, first_change) = post(None, &post_body(&change));
    assert_eq!(status, 202, "{first_change}");
    let (status, _, again) = post(None, &post_body(&change));
    assert_eq!((status, &again), (202, &first_change));
    drained(port);
    assert_eq!(sent(p, "PO123456").len(), 2, "the order and its change");

    // Two identical requests at the same moment send one order.
    for key in [Some("order-PO888"), None] {
        let po = order(|po| po["po_number"] = format!("PO888{}", key.is_some()).into());
        let body = post_body(&po);
        let answers: Vec<Answer> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2).map(|_| scope.spawn(|| post(key, &body))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a request"))
                .collect()
        });
        assert_eq!(answers[0].0, 202, "{answers:?}");
        assert_eq!(
            (answers[0].0, &answers[0].2),
            (answers[1].0, &answers[1].2),
            "the same answer to both"
        );
        drained(port);
        assert_eq!(
            sent(p, &format!("PO888{}", key.is_some())).len(),
            1,
            "{key:?}"
        );
    }

    // Kept in the store: a restart changes nothing.
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{:?}",
        daemon.lines()
    );
    let daemon = Daemon::start(&config);
    wait_for_api(port, &daemon);
    let (status, _, again) = post(Some("order-PO123456-a"), &body);
    assert_eq!(
        (status, &again),
        (202, &first),
        "the first answer, after a restart"
    );
    drained(port);
    assert_eq!(sent(p, "PO123456").len(), 2);

    // A body over the limit (by a byte): 413, in JSON.
    let large = format!(
        "{{\"partner\": \"acme\", \"padding\": \"{}\"}}",
        "x".repeat(16_385 - 34)
    );
    assert_eq!(large.len(), 16_385);
    let (status, headers, answer) = post(None, &large);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let error: serde_json::Value = serde_json::from_str(&answer).expect("a JSON error");
    assert!(error["error"].is_string(), "{answer}");
}

/// True when this process may make a private mount namespace (root, with
/// `unshare`); says so loudly when it may not, and fails under CI, where
/// it must.
fn can_mount_a_small_disk() -> bool {
    let ok = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let message = "SKIPPED: a disk-full test needs `unshare --mount` (root) for a small tmpfs";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("\n*** {message} ***\n");
    }
    ok
}

#[test]
fn a_full_disk_stops_no_daemon_and_loses_no_file() {
    if !can_mount_a_small_disk() {
        return;
    }
    let port = free_port();
    let dir = setup(port, "retry_secs = 1", "");
    let p = dir.path();
    let var = p.join("var");
    std::fs::create_dir_all(&var).expect("var");
    // The data directory on a 2 MB tmpfs of the daemon's own (a private
    // mount namespace: nothing shows outside, and it goes with it).
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=2m dropgate-test "$0" && exec "$1" run --log-format json -c "$2""#)
        .arg(&var)
        .arg(Daemon::binary())
        .arg(p.join("gateway.toml"));
    let mut daemon = Daemon::spawn(command);
    wait_for_api(port, &daemon);
    // The daemon's view of its data directory.
    let seen = PathBuf::from(format!("/proc/{}/root", daemon.pid()))
        .join(var.strip_prefix("/").expect("an absolute path"));
    assert!(seen.join("state.db").is_file(), "{:?}", daemon.lines());

    // Fill it up.
    let filler = seen.join("filler");
    let mut f = std::fs::File::create(&filler).expect("filler");
    let chunk = vec![0u8; 64 << 10];
    let full = loop {
        if let Err(e) = f.write_all(&chunk) {
            break e;
        }
    };
    drop(f);
    assert_eq!(full.raw_os_error(), Some(28), "ENOSPC: {full}");
    std::fs::copy(
        root().join("samples/x12/good/856-4010-pick-and-pack.edi"),
        p.join("drop/asn.edi"),
    )
    .expect("dropped");

    // The pass fails, and the daemon goes on.
    let failed = |l: &serde_json::Value| {
        l["level"] == "ERROR"
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the pass failed"))
    };
    assert!(
        daemon.wait_for_log(Duration::from_secs(30), failed),
        "{:?}",
        daemon.lines()
    );
    let line = daemon
        .logs()
        .into_iter()
        .find(|l| failed(l))
        .map(|l| l.to_string())
        .unwrap_or_default();
    assert!(line.contains("No space left on device"), "{line}");
    assert!(daemon.is_running());
    assert_eq!(
        request(port, "GET", "/healthz", None, ""),
        Some((200, "ok\n".to_string()))
    );
    let metrics = request(port, "GET", "/metrics", None, "")
        .expect("metrics")
        .1;
    assert!(
        !metrics.contains("dropgate_pass_failures_total 0"),
        "{metrics}"
    );
    assert_eq!(names(&p.join("drop")), ["asn.edi"], "left in the drop");
    let temporary: Vec<String> = names(&seen.join("archive"))
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(temporary.is_empty(), "{temporary:?}");

    // A second gateway on the same data directory is refused while this
    // one runs, and says which process holds it.
    let second = Command::new("nsenter")
        .args(["--mount", "--target", &daemon.pid().to_string()])
        .arg(Daemon::binary())
        .args(["run", "--once", "-c"])
        .arg(p.join("gateway.toml"))
        .output()
        .expect("nsenter runs");
    let said = text(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{said}");
    assert!(said.contains("is in use by another gateway"), "{said}");
    assert!(
        said.contains("run --log-format json"),
        "the holder's command: {said}"
    );
    assert_eq!(names(&p.join("drop")), ["asn.edi"]);

    // Room again: the file is taken at the next try.
    std::fs::remove_file(&filler).expect("filler removed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while names(&p.join("relay")).is_empty() {
        assert!(
            Instant::now() < deadline,
            "never processed: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(names(&p.join("drop")).is_empty());
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{:?}",
        daemon.lines()
    );

    // `run --once` on a full disk says why, exits 2, and leaves the file
    // in the drop: a store made, its disk filled, a file dropped.
    let once = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(
            r#"mount -t tmpfs -o size=2m dropgate-test "$0" && "$1" run --once -c "$2" >/dev/null && (cat /dev/zero > "$0/filler" 2>/dev/null; true) && cp "$3" "$4" && exec "$1" run --once -c "$2""#,
        )
        .arg(&var)
        .arg(Daemon::binary())
        .arg(p.join("gateway.toml"))
        .arg(root().join("samples/x12/good/846-5010.edi"))
        .arg(p.join("drop/stock.edi"))
        .output()
        .expect("unshare runs");
    let said = text(&once.stderr);
    assert_eq!(once.status.code(), Some(2), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert_eq!(names(&p.join("drop")), ["stock.edi"], "left in the drop");
}

#[test]
fn check_config_checks_the_body_limit_and_the_grace() {
    let dir = setup(
        free_port(),
        "shutdown_grace_secs = 7200",
        "max_body_bytes = 0",
    );
    let out = support::cli::dropgate(&[
        "check-config",
        "-c",
        &dir.path().join("gateway.toml").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("[api] max_body_bytes must be at least 1"),
        "{err}"
    );
    assert!(
        err.contains("[gateway] shutdown_grace_secs: at most 3600"),
        "{err}"
    );
}

#[test]
fn a_receiver_that_hangs_holds_up_only_its_own_deliveries() {
    let port = free_port();
    let hook = Receiver::free_port();
    let receiver = Receiver::start(hook);
    // The routing core takes the first document and then answers nothing.
    receiver.hold(1);
    let dir = setup(port, "shutdown_grace_secs = 2", "");
    let p = dir.path();
    let config = p.join("gateway.toml");
    let text = std::fs::read_to_string(&config).expect("gateway.toml");
    let text = text.replace(
        "[relay]\ntype = \"file\"\npath = \"relay\"",
        &format!(
            "[relay]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{hook}/documents\"\nsecret_file = \"token\"\ntimeout_secs = 120"
        ),
    );
    assert!(text.contains("type = \"webhook\""), "{text}");
    std::fs::write(&config, text).expect("gateway.toml");
    std::fs::copy(
        root().join("samples/x12/good/856-4010-pick-and-pack.edi"),
        p.join("drop/first.edi"),
    )
    .expect("dropped");
    let mut daemon = Daemon::start(&config);
    wait_for_api(port, &daemon);
    assert!(
        receiver.wait_for_held(Duration::from_secs(30)),
        "the first document never reached the routing core: {:?}",
        daemon.lines()
    );

    // While the relay's delivery hangs: the API answers at once...
    let asked = Instant::now();
    assert_eq!(
        request(port, "GET", "/healthz", None, ""),
        Some((200, "ok\n".to_string()))
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "/healthz waited {:?} for the delivery",
        asked.elapsed()
    );
    // ...an order is queued and sent to Acme by its own worker...
    let body = post_body(&order(|_| {}));
    let (status, answer) =
        request(port, "POST", "/v1/purchase-orders", Some(TOKEN), &body).expect("an answer");
    assert_eq!(status, 202, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent(p, "PO123456").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the order waited for the relay: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // ...and a new file is taken and processed (its 997 sent to Acme).
    std::fs::copy(
        root().join("samples/x12/good/856-4010-pick-and-pack.edi"),
        p.join("drop/second.edi"),
    )
    .expect("dropped");
    let mut second = std::fs::read(p.join("drop/second.edi")).expect("read");
    // Other bytes than the first file's: not a duplicate.
    second.extend_from_slice(b"\n");
    std::fs::write(p.join("drop/second.edi"), second).expect("written");
    while p.join("drop/second.edi").exists() {
        assert!(
            Instant::now() < deadline,
            "the second file waited for the relay: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = loop {
        let (_, m) = request(port, "GET", "/metrics", None, "").expect("metrics");
        if m.contains("dropgate_files_total{state=\"processed\"} 2") {
            break m;
        }
        assert!(Instant::now() < deadline, "not processed: {m}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(metrics.contains("dropgate_passes_total"), "{metrics}");
    // Its 997 goes out after it (the delivery worker is rung).
    while names(&p.join("out/acme"))
        .iter()
        .filter(|n| n.contains("-997-"))
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "the second 997 waited for the relay: {:?}",
            names(&p.join("out/acme"))
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Stopped while the delivery still hangs: within the grace, exit 0.
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{:?}",
        daemon.lines()
    );
    receiver.release();
}

#[test]
fn a_channel_that_hangs_holds_up_only_itself() {
    // An SFTP server that takes the connection and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let silent_port = silent.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => return,
            }
        }
    });
    let port = free_port();
    let dir = setup(port, "", "");
    let p = dir.path();
    // A real key: the channel gets as far as the server's silence.
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(p.join("key"))
        .status()
        .expect("ssh-keygen runs (scripts/setup.sh installs it)");
    assert!(keygen.success());
    let config = p.join("gateway.toml");
    let text = std::fs::read_to_string(&config).expect("gateway.toml");
    // The hanging channel comes first: a daemon that polls its channels
    // one after the other would wait for it a minute at each pass.
    let text = text.replace(
        "[channel.drop]",
        &format!(
            "[channel.a-hung-sftp]\ntype = \"sftp\"\nhost = \"127.0.0.1\"\nport = {silent_port}\nuser = \"nobody\"\nprivate_key = \"key\"\nknown_hosts = \"[127.0.0.1]:{silent_port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ\"\ntimeout_secs = 60\npath = \"in\"\n\n[channel.drop]"
        ),
    );
    std::fs::write(&config, text).expect("gateway.toml");
    std::fs::write(
        p.join("partners/hung.toml"),
        "[partner]\nname = \"Hung\"\n\n[[inbound]]\nchannel = \"a-hung-sftp\"\npatterns = [\"*.csv\"]\nmapping = \"partners/nordlys/inventory\"\n",
    )
    .expect("partner");
    let mut daemon = Daemon::start(&config);
    wait_for_api(port, &daemon);
    std::fs::copy(
        root().join("samples/x12/good/856-4010-pick-and-pack.edi"),
        p.join("drop/asn.edi"),
    )
    .expect("dropped");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, m) = request(port, "GET", "/metrics", None, "").expect("metrics");
        if m.contains("dropgate_files_total{state=\"processed\"} 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the drop waited for the hanging channel: {m} {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon.signal("-TERM");
    // The hanging channel's pass is abandoned after the grace (default 30 s
    // is too long for a test: the daemon is killed instead).
    daemon.signal("-KILL");
    let _ = daemon.wait(Duration::from_secs(30));
}

#[test]
fn beside_a_running_daemon_send_po_leaves_the_delivery_to_it() {
    let port = free_port();
    let dir = setup(port, "", "");
    let p = dir.path();
    let config = p.join("gateway.toml");
    let mut daemon = Daemon::start(&config);
    wait_for_api(port, &daemon);
    let po = root().join("mappings/partners/nordlys/po/po-123456.json");
    let out = support::cli::dropgate(&[
        "send-po",
        "-c",
        &config.to_string_lossy(),
        "--partner",
        "acme",
        &po.to_string_lossy(),
    ]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", text(&out.stderr));
    // Two makers of one delivery would make it twice: the daemon's
    // delivery worker makes it.
    assert!(said.contains("the running gateway makes them"), "{said}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent(p, "PO123456").is_empty() {
        assert!(
            Instant::now() < deadline,
            "never sent: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drained(port);
    assert_eq!(sent(p, "PO123456").len(), 1);
    daemon.signal("-TERM");
    assert_eq!(
        daemon.wait(Duration::from_secs(30)).and_then(|s| s.code()),
        Some(0)
    );
    // Alone, it delivers itself.
    let po2 = p.join("po-2.json");
    let mut order: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&po).expect("PO")).expect("JSON");
    order["po_number"] = "PO2".into();
    std::fs::write(&po2, order.to_string()).expect("written");
    let out = support::cli::dropgate(&[
        "send-po",
        "-c",
        &config.to_string_lossy(),
        "--partner",
        "acme",
        &po2.to_string_lossy(),
    ]);
    let said = text(&out.stdout);
    assert!(said.contains("1 delivery(ies) made"), "{said}");
    assert_eq!(sent(p, "PO2").len(), 1);
}

#[test]
fn health_is_answered_while_an_order_waits_for_the_store() {
    let port = free_port();
    let dir = setup(port, "", "");
    let p = dir.path();
    let mut daemon = Daemon::start(&p.join("gateway.toml"));
    wait_for_api(port, &daemon);
    // Another writer holds the database: the order's transaction waits.
    let db = rusqlite::Connection::open(p.join("var/state.db")).expect("the store");
    db.execute_batch("BEGIN IMMEDIATE").expect("the write lock");
    let body = post_body(&order(|po| po["po_number"] = "PO-WAITS".into()));
    std::thread::scope(|scope| {
        let posted =
            scope.spawn(|| request(port, "POST", "/v1/purchase-orders", Some(TOKEN), &body));
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !posted.is_finished(),
            "the order did not wait for the store"
        );
        let asked = Instant::now();
        assert_eq!(
            request(port, "GET", "/healthz", None, ""),
            Some((200, "ok\n".to_string()))
        );
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "/healthz waited {:?} behind the order",
            asked.elapsed()
        );
        db.execute_batch("ROLLBACK").expect("released");
        let (status, answer) = posted.join().expect("the order").expect("an answer");
        assert_eq!(status, 202, "{answer}");
    });
    daemon.signal("-TERM");
    assert_eq!(
        daemon.wait(Duration::from_secs(30)).and_then(|s| s.code()),
        Some(0)
    );
}

#[test]
fn remittances_are_posted_to_v1_documents_and_sent_once() {
    let port = free_port();
    let dir = setup(port, "", "");
    let p = dir.path();
    let mut child = start(p);
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", "/healthz", None, "").is_none() {
        assert!(Instant::now() < deadline, "the API never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let remittance: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/outbound/x12-820/ach-remittance.json"))
            .expect("remittance"),
    )
    .expect("JSON");
    let body = serde_json::json!({ "partner": "acme", "document": remittance }).to_string();
    let (status, answer) =
        request(port, "POST", "/v1/documents", Some(TOKEN), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["queued"][0]["type"], "remittance", "{answer}");
    assert_eq!(answer["queued"][0]["number"], "ACH-20261210-0042");
    assert_eq!(answer["queued"][0]["repeat"], false);
    let name = answer["queued"][0]["name"]
        .as_str()
        .expect("a name")
        .to_string();
    let sent = p.join("out/acme").join(&name);
    while !sent.exists() {
        assert!(Instant::now() < deadline, "the 820 was never delivered");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        std::fs::read_to_string(&sent)
            .expect("the 820")
            .contains("ST*820*")
    );
    // The same payment in another request (from another source): a
    // repeat, not sent again.
    let mut again = remittance.clone();
    again["source"] = serde_json::json!({ "format": "json", "file_name": "payments.json" });
    let body = serde_json::json!({ "partner": "acme", "documents": [again] }).to_string();
    let (status, answer) =
        request(port, "POST", "/v1/documents", Some(TOKEN), &body).expect("answer");
    assert_eq!(status, 202, "{answer}");
    assert!(answer.contains("\"repeat\":true"), "{answer}");
    // Purchase orders only at /v1/purchase-orders.
    again["trace_number"] = "ACH-OTHER".into();
    let body = serde_json::json!({ "partner": "acme", "document": again }).to_string();
    let (status, answer) =
        request(port, "POST", "/v1/purchase-orders", Some(TOKEN), &body).expect("answer");
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("not a purchase order"), "{answer}");
    drained(port);
    assert_eq!(names(&p.join("out/acme")), [name]);
    let _ = child.kill();
    let _ = child.wait();
}
