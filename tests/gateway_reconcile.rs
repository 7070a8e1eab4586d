//! Invoices reconciled in the gateway, with its real channels and relay:
//! orders sent with `send-po` (to Acme's outbound folder), a ship
//! notice and invoice received on a folder channel and relayed to a
//! webhook receiver on 127.0.0.1 with `"reconciliation": {"status":
//! "matched"}`; an invoice whose price is off the order's held (listed by
//! `dropgate status` and `GET /v1/invoices/held`, not relayed) until a
//! person releases it, after which it is relayed once; the same invoice
//! number again a `duplicate_invoice`.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::store::FileState;
use support::cli::{dropgate, root, text};
use support::daemon::Daemon;
use support::http::{Receiver, request, request_with};

const TOKEN: &str = "a-long-enough-api-token-4711";

/// A gateway folder: a drop, Acme (X12 from VENDORID; its orders to
/// `out/acme`; `reconcile` its `[reconcile]` table), the webhook relay to
/// `relay_port` and, with `api_port`, the API.
fn setup(relay_port: u16, api_port: Option<u16>, reconcile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    for d in ["drop", "partners", "out/acme"] {
        std::fs::create_dir_all(p.join(d)).expect("folder");
    }
    std::fs::write(p.join("secret"), "relay-secret\n").expect("secret");
    std::fs::write(p.join("token"), TOKEN).expect("token");
    let api = api_port
        .map(|port| format!("[api]\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"token\"\n"))
        .unwrap_or_default();
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

{api}
[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "out/acme"

[relay]
type = "webhook"
url = "http://127.0.0.1:{relay_port}/documents"
secret_file = "secret"
timeout_secs = 5
"#
        ),
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/acme.toml"),
        format!(
            "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n\n[outbound]\nchannel = \"acme-out\"\n\n[reconcile]\n{reconcile}\n"
        ),
    )
    .expect("partner");
    dir
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/reconcile").join(name)
}

/// Drops a fixture into the drop folder under `name`, its ISA13 and
/// GS06 replaced by `control` (another interchange, other bytes).
fn drop_as(dir: &Path, fixture_name: &str, name: &str, control: u32) {
    let body = std::fs::read_to_string(fixture(fixture_name)).expect("fixture");
    let body = body
        .replace("000010014", &format!("{control:09}"))
        .replace("000010015", &format!("{control:09}"))
        .replace("*10014*", &format!("*{control}*"))
        .replace("*10015*", &format!("*{control}*"))
        .replace("GE*1*10014", &format!("GE*1*{control}"))
        .replace("GE*1*10015", &format!("GE*1*{control}"));
    std::fs::write(dir.join("drop").join(name), body).expect("dropped");
}

fn config(dir: &Path) -> String {
    dir.join("gateway.toml").to_string_lossy().into_owned()
}

fn gateway(dir: &Path) -> Gateway {
    let config = config::load(&dir.join("gateway.toml")).expect("configuration loads");
    Gateway::open(config).expect("gateway opens")
}

/// Passes until nothing waits.
fn pass_until_delivered(g: &mut Gateway) -> Vec<dropgate::daemon::pipeline::FileOutcome> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut files = Vec::new();
    loop {
        let report = g.pass().expect("a pass");
        files.extend(report.files.iter().cloned());
        if report.pending == 0 {
            return files;
        }
        assert!(Instant::now() < deadline, "never delivered: {report:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The documents the receiver got, as JSON, in order.
fn relayed(receiver: &Receiver) -> Vec<serde_json::Value> {
    receiver
        .requests()
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| serde_json::from_slice(&r.body).expect("a JSON document"))
        .collect()
}

fn send_po(dir: &Path) {
    let out = dropgate(&[
        "send-po",
        "-c",
        &config(dir),
        "--partner",
        "acme",
        &fixture("po.json").to_string_lossy(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        support::cli::names(&dir.join("out/acme")).len(),
        2,
        "the orders went out"
    );
}

#[test]
fn invoices_are_reconciled_held_released_once_and_duplicates_caught() {
    let port = Receiver::free_port();
    let receiver = Receiver::start(port);
    let dir = setup(
        port,
        None,
        "price_tolerance = \"0.01\"\nfreight_cap = \"25.00\"",
    );
    let p = dir.path();
    send_po(p);
    let mut g = gateway(p);

    // The ship notice, then the invoice that bills it exactly.
    std::fs::copy(fixture("asn.edi"), p.join("drop/asn.edi")).expect("dropped");
    pass_until_delivered(&mut g);
    drop_as(p, "invoice.edi", "invoice.edi", 20001);
    let files = pass_until_delivered(&mut g);
    assert_eq!(files[0].state, FileState::Processed, "{files:?}");
    let docs = relayed(&receiver);
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert_eq!(docs[0]["type"], "ship_notice");
    assert_eq!(docs[1]["invoice_number"], "INV-9001");
    assert_eq!(
        docs[1]["reconciliation"],
        serde_json::json!({"status": "matched", "ship_notices": ["ASN-9001"], "variances": []})
    );
    assert_eq!(docs[1]["vendor"]["id"], "V-ACME");

    // A unit price 0.40 off the order's: held, not relayed.
    drop_as(p, "invoice-price.edi", "invoice-price.edi", 20002);
    let files = pass_until_delivered(&mut g);
    assert_eq!(files[0].state, FileState::Processed, "{files:?}");
    let held_file = files[0].id;
    assert_eq!(
        relayed(&receiver).len(),
        2,
        "the held invoice is not relayed"
    );
    let status = dropgate(&["status", "-c", &config(p)]);
    let status_text = text(&status.stdout);
    assert!(
        status_text.contains(&format!(
            "invoices held: 1 (dropgate show FILE; dropgate release FILE:DOC)\n  {held_file}:0 acme invoice INV-9002 (PO PO-9002): variance - price: line 1 (LAMP-01): unit price 12.90, the order's is 12.50"
        )),
        "{status_text}"
    );
    // Passes again relay nothing.
    pass_until_delivered(&mut g);
    assert_eq!(relayed(&receiver).len(), 2);

    // Released by a person: relayed once, with its variance.
    let id = format!("{held_file}:0");
    let out = dropgate(&["release", "-c", &config(p), &id, "--by", "ann"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).starts_with(&format!(
            "invoice INV-9002 (file {held_file}, document 0): released, queued for the relay\n"
        )),
        "{}",
        text(&out.stdout)
    );
    let docs = relayed(&receiver);
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert_eq!(docs[2]["invoice_number"], "INV-9002");
    assert_eq!(docs[2]["reconciliation"]["status"], "variance");
    assert_eq!(docs[2]["reconciliation"]["variances"][0]["kind"], "price");
    let out = dropgate(&["release", "-c", &config(p), &id, "--by", "bob"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("released before, by ann at"),
        "{}",
        text(&out.stdout)
    );
    pass_until_delivered(&mut g);
    assert_eq!(relayed(&receiver).len(), 3, "relayed once");
    let status = dropgate(&["status", "-c", &config(p)]);
    assert!(
        !text(&status.stdout).contains("invoices held"),
        "{}",
        text(&status.stdout)
    );
    let show = dropgate(&[
        "show",
        "-c",
        &config(p),
        &held_file.to_string(),
        "--documents",
    ]);
    let shown: serde_json::Value =
        serde_json::from_slice(&show.stdout).expect("the invoice's JSON");
    assert_eq!(shown["reconciliation"]["status"], "variance", "{shown}");
    let show = dropgate(&["show", "-c", &config(p), &held_file.to_string()]);
    assert!(
        text(&show.stdout).contains("invoice INV-9002 (document 0) released by ann"),
        "{}",
        text(&show.stdout)
    );

    // INV-9001 again, in another interchange: a duplicate bill, held.
    drop_as(p, "invoice.edi", "invoice-again.edi", 20003);
    let files = pass_until_delivered(&mut g);
    assert_eq!(files[0].state, FileState::Processed, "{files:?}");
    assert_eq!(relayed(&receiver).len(), 3);
    let held = g
        .store()
        .invoices(dropgate::store::Invoices::Held)
        .expect("held invoices");
    assert_eq!(held.len(), 1, "{held:?}");
    let doc: serde_json::Value = serde_json::from_str(&held[0].document).expect("JSON");
    let variances = &doc["reconciliation"]["variances"];
    assert_eq!(variances[0]["kind"], "duplicate_invoice", "{doc}");
    assert!(
        variances[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("invoice INV-9001 was received before")),
        "{doc}"
    );
    // A duplicate is said as such, not counted again against what was
    // ordered and shipped.
    let kinds: Vec<&str> = variances
        .as_array()
        .map(|v| v.iter().filter_map(|v| v["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["duplicate_invoice"], "{doc}");
}

#[test]
fn a_partner_whose_policy_relays_gets_its_variances_relayed() {
    let port = Receiver::free_port();
    let receiver = Receiver::start(port);
    let dir = setup(port, None, "on_variance = \"relay\"");
    let p = dir.path();
    send_po(p);
    let mut g = gateway(p);
    drop_as(p, "invoice-price.edi", "invoice-price.edi", 20002);
    pass_until_delivered(&mut g);
    let docs = relayed(&receiver);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["reconciliation"]["status"], "variance");
    assert!(
        g.store()
            .invoices(dropgate::store::Invoices::Held)
            .expect("held")
            .is_empty()
    );
}

#[test]
fn held_invoices_are_listed_and_released_over_the_api() {
    let relay_port = Receiver::free_port();
    let receiver = Receiver::start(relay_port);
    let api_port = Receiver::free_port();
    let dir = setup(relay_port, Some(api_port), "");
    let p = dir.path();
    send_po(p);
    let daemon = Daemon::start(&p.join("gateway.toml"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(api_port, "GET", "/healthz", None, "").is_none() {
        assert!(Instant::now() < deadline, "no API: {:?}", daemon.lines());
        std::thread::sleep(Duration::from_millis(100));
    }
    drop_as(p, "invoice-price.edi", "invoice-price.edi", 20002);
    let listed = loop {
        let (status, body) =
            request(api_port, "GET", "/v1/invoices/held", Some(TOKEN), "").expect("an answer");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        if v["invoices"].as_array().is_some_and(|a| !a.is_empty()) {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "never held: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let (_, metrics) = request(api_port, "GET", "/metrics", None, "").expect("metrics");
    assert!(
        metrics.contains("\ndropgate_invoices_held 1\n"),
        "{metrics}"
    );
    let invoice = &listed["invoices"][0];
    assert_eq!(invoice["invoice_number"], "INV-9002");
    assert_eq!(invoice["reconciliation"]["variances"][0]["kind"], "price");
    let id = invoice["id"].as_str().expect("an id").to_string();
    assert_eq!(
        request(api_port, "GET", "/v1/invoices/held", None, "").map(|a| a.0),
        Some(401)
    );
    let path = format!("/v1/invoices/{id}/release");
    assert_eq!(
        request(api_port, "POST", &path, None, "").map(|a| a.0),
        Some(401)
    );
    assert_eq!(
        request(
            api_port,
            "POST",
            "/v1/invoices/999:0/release",
            Some(TOKEN),
            ""
        )
        .map(|a| a.0),
        Some(404)
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(relayed(&receiver).is_empty(), "held, not relayed");
    let key = [("Idempotency-Key", "release-1")];
    let (status, headers, body) = request_with(
        api_port,
        "POST",
        &path,
        Some(TOKEN),
        &key,
        r#"{"by": "ann"}"#,
    )
    .expect("an answer");
    assert_eq!(status, 200, "{body}");
    assert!(!headers.iter().any(|(n, _)| n == "idempotent-replayed"));
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["released"][0]["queued"], true, "{answer}");
    assert_eq!(answer["released"][0]["released_by"], "ann", "{answer}");
    // The same request again: the same answer, replayed; another one
    // under the same key: 409; without a key: released before.
    let again = request_with(
        api_port,
        "POST",
        &path,
        Some(TOKEN),
        &key,
        r#"{"by": "ann"}"#,
    )
    .expect("an answer");
    assert_eq!((again.0, &again.2), (200, &body));
    assert!(
        again
            .1
            .iter()
            .any(|(n, v)| n == "idempotent-replayed" && v == "true")
    );
    let other = request_with(
        api_port,
        "POST",
        &path,
        Some(TOKEN),
        &key,
        r#"{"by": "bob"}"#,
    )
    .expect("an answer");
    assert_eq!(other.0, 409, "{}", other.2);
    let (status, body) = request(api_port, "POST", &path, Some(TOKEN), "").expect("an answer");
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["released"][0]["queued"], false, "{answer}");
    // Relayed once.
    let deadline = Instant::now() + Duration::from_secs(15);
    while relayed(&receiver).is_empty() {
        assert!(
            Instant::now() < deadline,
            "never relayed: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let docs = relayed(&receiver);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["invoice_number"], "INV-9002");
    let (_, body) = request(api_port, "GET", "/v1/invoices/held", Some(TOKEN), "").expect("held");
    assert_eq!(body, r#"{"invoices":[]}"#);
}
