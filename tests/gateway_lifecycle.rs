//! The order lifecycle in the gateway, with its real channels and store:
//! orders sent with `send-po`, then the partner's 997 (linked by the
//! group the order went in), 855, ship notice and invoices received on a
//! folder channel; `dropgate orders` follows each order through its
//! states with its timeline and tracking number, `dropgate exceptions
//! --check` opens an exception when a rule finds one and closes it when
//! the document that resolves it comes; and the running daemon tells each
//! new exception once to a webhook receiver and once in a digest e-mail
//! (aiosmtpd), both on 127.0.0.1.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use support::cli::{dropgate, root, text};
use support::daemon::Daemon;
use support::http::Receiver;
use support::smtp::{Options, SmtpServer};

/// A gateway folder: a drop, Acme (X12 from VENDORID, its orders to
/// `out/acme`), exception rules that wait one second, and `extra`
/// (channels, alerts).
fn setup(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    for d in ["drop", "partners", "out/acme", "relay"] {
        std::fs::create_dir_all(p.join(d)).expect("folder");
    }
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

[exceptions]
no_997_after = "1s"
no_855_after = "1s"
{extra}
"#
        ),
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/acme.toml"),
        "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n\n[outbound]\nchannel = \"acme-out\"\n",
    )
    .expect("partner");
    dir
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/reconcile").join(name)
}

fn config(dir: &Path) -> String {
    dir.join("gateway.toml").to_string_lossy().into_owned()
}

/// An interchange from Acme with one set of `segments` (ST and SE
/// written here), under control number `control`.
fn from_acme(functional_id: &str, set: &str, segments: &[&str], control: u32) -> String {
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240305*0800*U*00401*{control:09}*0*P*>~\nGS*{functional_id}*VENDORID*RETAILERID*20240305*0800*{control}*X*004010~\nST*{set}*0001~\n"
    );
    for seg in segments {
        s.push_str(seg);
        s.push_str("~\n");
    }
    s.push_str(&format!(
        "SE*{}*0001~\nGE*1*{control}~\nIEA*1*{control:09}~\n",
        segments.len() + 2
    ));
    s
}

/// The group control number (GS06) each order went out in, by PO number.
fn groups(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in support::cli::names(&dir.join("out/acme")) {
        let body = std::fs::read_to_string(dir.join("out/acme").join(&name)).expect("an order");
        let segments: Vec<Vec<&str>> = body
            .split('~')
            .map(|s| s.trim().split('*').collect())
            .collect();
        let find = |id: &str, i: usize| {
            segments
                .iter()
                .find(|s| s[0] == id)
                .and_then(|s| s.get(i))
                .map(|v| v.to_string())
                .expect("the segment")
        };
        out.push((find("BEG", 3), find("GS", 6)));
    }
    out.sort();
    out
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
}

fn run(dir: &Path, args: &[&str]) -> String {
    let mut all = vec![args[0], "-c"];
    let c = config(dir);
    all.push(&c);
    all.extend(&args[1..]);
    let out = dropgate(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A pass over the drop, until its files are processed.
fn pass(dir: &Path) {
    let config = config::load(&dir.join("gateway.toml")).expect("configuration loads");
    let mut g = Gateway::open(config).expect("gateway opens");
    let report = g.pass().expect("a pass");
    assert!(
        report
            .files
            .iter()
            .all(|f| f.state == dropgate::store::FileState::Processed),
        "{:?}",
        report.files
    );
}

fn drop_file(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join("drop").join(name), body).expect("dropped");
}

#[test]
fn an_order_is_followed_to_the_bill_and_its_exceptions_open_and_close() {
    let dir = setup("");
    let p = dir.path();
    send_po(p);
    let groups = groups(p);
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0].0, "PO-9001");
    let group_9001 = groups[0].1.clone();
    let list = run(p, &["orders"]);
    assert!(
        list.contains("PO-9001") && list.contains("PO-9002"),
        "{list}"
    );
    let sent = list
        .lines()
        .filter(|l| l.starts_with("PO-900") && l.contains(" sent "))
        .count();
    assert_eq!(sent, 2, "{list}");

    // A second later, neither has its 997 nor its 855.
    std::thread::sleep(Duration::from_millis(1100));
    let checked = run(p, &["exceptions", "--check"]);
    assert!(
        checked.starts_with("checked: 4 opened, 0 closed, 4 open"),
        "{checked}"
    );
    assert!(
        checked.contains("no 997 for purchase order PO-9001"),
        "{checked}"
    );
    assert_eq!(
        run(p, &["exceptions", "--check"]).lines().next(),
        Some("checked: 0 opened, 0 closed, 4 open"),
        "never twice"
    );

    // The 997 for PO-9001's group: acknowledged, its exception closed.
    let ak1 = format!("AK1*PO*{group_9001}");
    drop_file(
        p,
        "997.edi",
        &from_acme("FA", "997", &[&ak1, "AK9*A*1*1*1"], 30001),
    );
    pass(p);
    let one = run(p, &["orders", "PO-9001"]);
    assert!(
        one.starts_with("purchase order PO-9001 for acme: acknowledged"),
        "{one}"
    );
    assert!(
        one.contains(&format!(
            "functional acknowledgment of group {group_9001}: accepted"
        )),
        "{one}"
    );
    let checked = run(p, &["exceptions", "--check"]);
    assert!(
        checked.starts_with("checked: 0 opened, 1 closed, 3 open"),
        "{checked}"
    );
    let all = run(p, &["exceptions", "--all"]);
    assert!(all.contains(": the 997 came"), "{all}");

    // The 855: line 2 backordered to 20 March 2027.
    let ack = from_acme(
        "PR",
        "855",
        &[
            "BAK*00*AC*PO-9001*20240301",
            "PO1*1*3*EA*12.50**VP*LAMP-01",
            "ACK*IA*3*EA",
            "PO1*2*2*EA*4.25**VP*BULB-60W",
            "ACK*IB*2*EA*068*20270320",
            "CTT*2",
        ],
        30002,
    );
    drop_file(p, "855.edi", &ack);
    pass(p);
    let one = run(p, &["orders", "PO-9001"]);
    assert!(
        one.starts_with(
            "purchase order PO-9001 for acme: backordered\n  due to ship by 2027-03-20"
        ),
        "{one}"
    );
    assert!(
        one.contains("acknowledgment: accepted with changes; line 2 backordered to 2027-03-20"),
        "{one}"
    );
    let checked = run(p, &["exceptions", "--check"]);
    assert!(
        checked.starts_with("checked: 0 opened, 1 closed, 2 open"),
        "{checked}"
    );

    // An 865 answering change 1 of the order: line 2 now promised for 25
    // March. It is in the timeline, linked by its PO number as the 855 is,
    // and its date is the line's promise.
    let change_ack = from_acme(
        "CA",
        "865",
        &[
            "BCA*00*AC*PO-9001**1*20240301****20240306",
            "POC*2*CA*2*2*EA*4.25**VP*BULB-60W",
            "ACK*IB*2*EA*068*20270325",
            "CTT*1",
        ],
        30003,
    );
    drop_file(p, "865.edi", &change_ack);
    pass(p);
    let one = run(p, &["orders", "PO-9001"]);
    assert!(
        one.contains("change 1 accepted with changes; line 2 backordered to 2027-03-25"),
        "{one}"
    );
    assert!(one.contains("due to ship by 2027-03-25"), "{one}");

    // An 870 on PO-9001 and another order: only PO-9001's part is in its
    // timeline.
    let status = from_acme(
        "RS",
        "870",
        &[
            "BSR*2*PP*STAT-9001*20240307",
            "HL*1**O",
            "PRF*PO-9001",
            "ISR*IP",
            "HL*2*1*I",
            "PO1*2*2*EA*4.25**VP*BULB-60W",
            "ISR*BK*20270326",
            "HL*3**O",
            "PRF*PO-OTHER",
            "ISR*DE",
            "CTT*3",
        ],
        30004,
    );
    drop_file(p, "870.edi", &status);
    pass(p);
    let one = run(p, &["orders", "PO-9001"]);
    assert!(
        one.contains("status report STAT-9001: in process, line 2 backordered to 2027-03-26"),
        "{one}"
    );
    assert!(!one.contains("cancelled"), "{one}");
    assert!(one.contains("due to ship by 2027-03-26"), "{one}");

    // The ship notice, then the invoice that bills it exactly.
    std::fs::copy(fixture("asn.edi"), p.join("drop/asn.edi")).expect("dropped");
    pass(p);
    let one = run(p, &["orders", "PO-9001"]);
    assert!(
        one.starts_with("purchase order PO-9001 for acme: shipped"),
        "{one}"
    );
    assert!(one.contains("tracking 1Z999AA10123456784"), "{one}");
    assert!(
        one.contains("ship notice ASN-9001: 5 units shipped on 2024-03-05 by UPSN"),
        "{one}"
    );
    let invoice = std::fs::read_to_string(fixture("invoice.edi")).expect("fixture");
    drop_file(p, "invoice.edi", &invoice);
    pass(p);
    let one = run(p, &["orders", "PO-9001"]);
    assert!(
        one.starts_with("purchase order PO-9001 for acme: reconciled"),
        "{one}"
    );
    assert!(one.contains("invoice INV-9001"), "{one}");

    // PO-9002 billed at a price off the order's, with no ship notice.
    let price = std::fs::read_to_string(fixture("invoice-price.edi")).expect("fixture");
    drop_file(
        p,
        "invoice-price.edi",
        &price.replace("10014", "10016").replace("10015", "10016"),
    );
    pass(p);
    let checked = run(p, &["exceptions", "--check"]);
    assert!(
        checked.starts_with("checked: 2 opened, 0 closed, 4 open"),
        "{checked}"
    );
    let open = run(p, &["exceptions"]);
    assert!(open.contains("invoice-held"), "{open}");
    assert!(open.contains("invoice-without-ship-notice"), "{open}");
    assert!(
        open.contains(
            "invoice INV-9002 bills purchase order PO-9002, for which no ship notice came"
        ),
        "{open}"
    );
    let list = run(p, &["orders", "--state", "held"]);
    assert!(
        list.contains("PO-9002") && !list.contains("PO-9001"),
        "{list}"
    );

    // The measures: PO-9001 shipped all 5 units and matched; PO-9002 did not.
    let m = run(p, &["orders", "--measures"]);
    assert!(
        m.contains("fill rate               100.0 % (5 of 5 units)"),
        "{m}"
    );
    assert!(
        m.contains("perfect orders          50.0 % (1 of 2 invoiced)"),
        "{m}"
    );
    assert!(
        m.contains("invoice variance        50.0 % (1 of 2 invoices)"),
        "{m}"
    );
    assert!(m.contains("order to 997            median "), "{m}");
}

#[test]
fn each_new_exception_is_told_once_by_webhook_and_in_one_digest() {
    let Some(server) = SmtpServer::start(Options::default()).expect("aiosmtpd") else {
        return;
    };
    let port = Receiver::free_port();
    let receiver = Receiver::start(port);
    let api_port = Receiver::free_port();
    let dir = setup(&format!(
        r#"
[api]
listen = "127.0.0.1:{api_port}"
token_file = "token"

[channel.alerts-mail]
type = "smtp"
host = "127.0.0.1"
port = {smtp}
tls = "starttls"
ca_file = "{ca}"
from = "dropgate <dropgate@retailer.test>"
to = ["ops@retailer.test"]
subject = "unused"
timeout_secs = 10

[alerts]
check_every = "1s"
digest_channel = "alerts-mail"
digest_every = "1h"
console_url = "http://127.0.0.1:8490"

[alerts.webhook]
url = "http://127.0.0.1:{port}/alerts"
secret_env = "DROPGATE_TEST_ALERT_SECRET"
timeout_secs = 5
"#,
        smtp = server.port(),
        ca = server.ca_file().display()
    ));
    let p = dir.path();
    std::fs::write(p.join("token"), "a-long-enough-api-token-4711").expect("token");
    let check = dropgate(&["check-config", "-c", &config(p)]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    send_po(p);
    let mut command = std::process::Command::new(Daemon::binary());
    command
        .args(["run", "-c", &config(p)])
        .env("DROPGATE_TEST_ALERT_SECRET", "alert-secret");
    let mut daemon = Daemon::spawn(command);
    // Two orders, each without its 997 and 855: four exceptions, each
    // posted once, listed in one digest.
    let deadline = Instant::now() + Duration::from_secs(30);
    let posted = loop {
        let posted: Vec<serde_json::Value> = receiver
            .requests()
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
            .collect();
        if posted.len() >= 4 {
            break posted;
        }
        assert!(
            Instant::now() < deadline,
            "alerts: {posted:?}\n{}",
            daemon.lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mail = server.wait_for(1, Duration::from_secs(10));
    // Several more checks: nothing is told again.
    std::thread::sleep(Duration::from_millis(3500));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 4, "each exception posted once");
    let mut kinds: Vec<String> = posted
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["po_number"].as_str().unwrap_or(""),
                a["kind"].as_str().unwrap_or("")
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "PO-9001 no-855",
            "PO-9001 no-997",
            "PO-9002 no-855",
            "PO-9002 no-997"
        ]
    );
    assert_eq!(
        posted[0]["link"]
            .as_str()
            .map(|l| l.starts_with("http://127.0.0.1:8490/orders/acme/PO-900")),
        Some(true)
    );
    let r = &requests[0];
    let signature = dropgate::relay::webhook::signature(b"alert-secret", &r.body);
    assert_eq!(r.header("x-dropgate-signature"), Some(signature.as_str()));
    assert!(
        r.header("idempotency-key")
            .is_some_and(|k| k.starts_with("exception:"))
    );
    assert_eq!(
        server.messages().len(),
        1,
        "one digest: {}",
        daemon.lines().join("\n")
    );
    let raw = String::from_utf8_lossy(&mail[0].raw).into_owned();
    assert!(
        raw.contains("Subject: dropgate: 2 orders need your attention"),
        "{raw}"
    );
    assert!(raw.contains("Purchase order PO-9001 (acme):"), "{raw}");
    assert!(
        raw.contains("http://127.0.0.1:8490/orders/acme/PO-9002"),
        "{raw}"
    );
    assert_eq!(mail[0].rcpt_tos, ["ops@retailer.test"]);
    // The orders and exceptions on /metrics.
    let (status, metrics) =
        support::http::request(api_port, "GET", "/metrics", None, "").expect("an answer");
    assert_eq!(status, 200);
    for line in [
        "dropgate_orders{partner=\"acme\",state=\"sent\"} 2",
        "dropgate_exceptions_open{kind=\"no-997\"} 2",
        "dropgate_exceptions_open{kind=\"late\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    daemon.signal("-TERM");
    assert!(
        daemon.wait(Duration::from_secs(20)).is_some(),
        "the daemon stops"
    );
}

#[test]
fn a_failing_channel_and_a_missing_inventory_feed_are_exceptions_until_they_recover() {
    let dir = setup(
        "channel_failing_after = \"1s\"\n\n[channel.feed]\ntype = \"dir\"\npath = \"feed\"\nmin_age_secs = 0\n",
    );
    let p = dir.path();
    std::fs::create_dir_all(p.join("feed")).expect("feed");
    let partner = p.join("partners/acme.toml");
    let mut acme = std::fs::read_to_string(&partner).expect("partner");
    acme.push_str("\n[[inbound]]\nchannel = \"feed\"\n\n[exceptions]\ninventory_every = \"1h\"\n");
    std::fs::write(&partner, acme).expect("partner");
    let check = dropgate(&["check-config", "-c", &config(p)]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );

    // The feed's folder goes away: its polls fail, for over a second.
    let config = config::load(&p.join("gateway.toml")).expect("configuration loads");
    let mut g = Gateway::open(config.clone()).expect("gateway opens");
    std::fs::remove_dir(p.join("feed")).expect("removed");
    let report = g.pass().expect("a pass");
    assert_eq!(report.channel_errors.len(), 1, "{report:?}");
    std::thread::sleep(Duration::from_millis(1100));
    g.pass().expect("a pass");
    let now = chrono::Utc::now();
    let checked =
        dropgate::daemon::watch::check(&config, g.store(), now, now - chrono::Duration::hours(2))
            .expect("a check");
    assert_eq!(
        (checked.opened.len(), checked.closed, checked.open),
        (2, 0, 2)
    );
    let open = g
        .store()
        .exceptions(&dropgate::store::ExceptionFilter {
            open_only: true,
            ..Default::default()
        })
        .expect("exceptions");
    let reasons: Vec<(&str, &str)> = open
        .iter()
        .map(|e| (e.kind.as_str(), e.reason.as_str()))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|(k, r)| *k == "channel-failing"
                && r.starts_with("channel feed has failed for 1 s: ")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&(
            "inventory-missing",
            "no inventory report from acme yet (expected every 1 h)"
        )),
        "{reasons:?}"
    );

    // An 846 from Acme, and the folder back: both close.
    std::fs::create_dir_all(p.join("feed")).expect("feed");
    std::fs::copy(
        root().join("samples/x12/good/846-4010-inventory.edi"),
        p.join("feed/846.edi"),
    )
    .expect("dropped");
    let report = g.pass().expect("a pass");
    assert!(report.channel_errors.is_empty(), "{report:?}");
    assert_eq!(report.files.len(), 1, "{report:?}");
    let checked = run(p, &["exceptions", "--check"]);
    assert!(
        checked.starts_with("checked: 0 opened, 2 closed, 0 open"),
        "{checked}"
    );
    let all = run(p, &["exceptions", "--all"]);
    assert!(all.contains("the channel works again"), "{all}");
    assert!(all.contains("an inventory report came"), "{all}");
}
