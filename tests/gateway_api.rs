//! The daemon's HTTP API, over real HTTP on 127.0.0.1: health, Prometheus
//! metrics after files were processed, purchase orders posted with the
//! bearer token (and refused without it), and a clean stop on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::cli::root;

const TOKEN: &str = "a-long-enough-api-token-4711";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One HTTP/1.1 request; the status and the body of the answer.
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
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
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    let port = free_port();
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

[x12]
interchange_id = "ZZ:RETAILERID"

[api]
listen = "127.0.0.1:{port}"
token_file = "token"

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "out/acme"
"#
        ),
    )
    .expect("gateway.toml");
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
    assert!(
        metrics.contains("dropgate_deliveries_pending 0"),
        "{metrics}"
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
    assert_eq!(
        answer["queued"][0]["name"],
        "acme-po-PO123456-000000001.edi"
    );
    assert_eq!(answer["delivered"], 1);
    let order = std::fs::read_to_string(p.join("out/acme/acme-po-PO123456-000000001.edi"))
        .expect("the 850");
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
