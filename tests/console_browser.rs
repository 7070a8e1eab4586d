//! The web console in a real browser (headless Chromium over WebDriver,
//! `tests/support/browser.rs`) against a real daemon on 127.0.0.1: a
//! person logs in, finds an order by its PO number, opens its timeline
//! and sees the tracking number, reprocesses a quarantined file with the
//! button (after its partner file was added) and sees its new state,
//! releases a held invoice from its order's page, and sees what needs
//! attention and the measures on the overview; the browser's console
//! shows no error on any page. A failing test keeps the page (PNG, HTML,
//! console log) under target/test-artifacts/.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::browser::Browser;
use support::cli::{dropgate, root, text};
use support::console::hash;
use support::daemon::Daemon;

const PASSWORD: &str = "ann's long password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A gateway folder with the console on `port` (the user ann), a drop
/// and Acme (X12 from VENDORID, its orders to `out/acme`).
fn setup(port: u16) -> tempfile::TempDir {
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

[console]
listen = "127.0.0.1:{port}"

[[console.users]]
name = "ann"
password_hash = "{hash}"

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

[alerts]
check_every = "1s"
"#,
            hash = hash(PASSWORD),
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

/// The files the store has, as `dropgate files` prints them.
fn files(dir: &Path) -> String {
    text(&dropgate(&["files", "-c", &config(dir)]).stdout)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An X12 file from a vendor no partner file names yet (Zephyr).
const STRANGER: &str = "ISA*00*          *00*          *ZZ*ZEPHYR         *ZZ*RETAILERID     *240305*0800*U*00401*000000077*0*P*>~\nGS*SH*ZEPHYR*RETAILERID*20240305*0800*77*X*004010~\nST*856*0001~\nBSN*00*Z-77*20240305*0800~\nHL*1**S~\nHL*2*1*O~\nPRF*Z-PO-1~\nCTT*2~\nSE*7*0001~\nGE*1*77~\nIEA*1*000000077~\n";

#[test]
fn an_operator_follows_an_order_reprocesses_a_file_and_releases_an_invoice() {
    let Some(b) = Browser::start().expect("the browser starts") else {
        return;
    };
    let port = free_port();
    let dir = setup(port);
    let p = dir.path();
    let sent = dropgate(&[
        "send-po",
        "-c",
        &config(p),
        "--partner",
        "acme",
        &fixture("po.json").to_string_lossy(),
    ]);
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
    // PO-9001 shipped; PO-9002 billed at a price off the order's (held);
    // a file from a vendor not configured yet (quarantined).
    std::fs::copy(fixture("asn.edi"), p.join("drop/asn.edi")).expect("dropped");
    std::fs::copy(
        fixture("invoice-price.edi"),
        p.join("drop/invoice-price.edi"),
    )
    .expect("dropped");
    std::fs::write(p.join("drop/zephyr.edi"), STRANGER).expect("dropped");
    let daemon = Daemon::start(&p.join("gateway.toml"));
    wait_until("the three files taken up", || {
        let f = files(p);
        f.contains("asn.edi")
            && f.contains("invoice-price.edi")
            && f.contains("zephyr.edi")
            && f.contains("quarantined")
    });
    let base = format!("http://127.0.0.1:{port}");

    // Log in.
    b.goto(&format!("{base}/orders"));
    b.wait_for("#login-name");
    b.fill("#login-name", "ann");
    b.fill("#login-password", PASSWORD);
    b.click("#login-submit");
    b.wait_for("#order-search");

    // Find PO-9001 by its number, open its timeline: the tracking number.
    b.fill("#order-search", "PO-9001");
    b.click("#order-filter");
    b.wait_for_url("po=PO-9001");
    b.wait_for_text("#orders", "PO-9001");
    assert_eq!(b.count("#orders tr.order"), 1, "only PO-9001 is found");
    b.click("#orders a.order-link");
    b.wait_for_text("#tracking", "1Z999AA10123456784");
    b.wait_for_text("#order-state-now", "shipped");
    let timeline = b.text_of("#timeline");
    assert!(
        timeline.contains("ship notice ASN-9001: 5 units shipped on 2024-03-05 by UPSN"),
        "{timeline}"
    );
    assert!(timeline.contains("sent (2 lines, 5 units)"), "{timeline}");

    // The quarantined file: Zephyr's partner file added, the daemon told,
    // the file reprocessed with the button: processed.
    std::fs::write(
        p.join("partners/zephyr.toml"),
        "[x12]\ninterchange_id = \"ZZ:ZEPHYR\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n",
    )
    .expect("partner");
    daemon.signal("-HUP");
    assert!(
        daemon.wait_for_log(Duration::from_secs(20), |l| l
            .to_string()
            .contains("configuration and mappings reloaded")),
        "the configuration reloaded: {:?}",
        daemon.lines()
    );
    b.goto(&format!("{base}/quarantine"));
    b.wait_for_text("main", "zephyr.edi");
    b.click("button[id^=reprocess-]");
    b.accept_dialog();
    b.wait_for("#flash");
    wait_until("zephyr.edi processed", || {
        files(p)
            .lines()
            .any(|l| l.contains("zephyr.edi") && l.contains("processed"))
    });
    b.goto(&format!("{base}/files?state=processed"));
    b.wait_for_text("main", "zephyr.edi");

    // PO-9002's invoice is held: released from its order's page.
    b.goto(&format!("{base}/orders/acme/PO-9002"));
    b.wait_for_text("#order-state-now", "held");
    b.wait_for_text("#order-open-exceptions", "invoice-held");
    b.click("button[id^=release-]");
    b.accept_dialog();
    b.wait_for_text("#flash", "released");
    b.goto(&format!("{base}/orders/acme/PO-9002"));
    let state = b.text_of("#order-state-now");
    assert_ne!(state.trim(), "held", "released");

    // The overview: what needs attention and the measures per vendor.
    b.goto(&format!("{base}/"));
    b.wait_for("#attention-summary");
    b.wait_for("#measures");
    assert!(b.exists("#chart-fill-rate"), "the fill rate's chart");
    // The measures of another period, with their figures: PO-9001
    // shipped all 5 of its units, PO-9002 none yet.
    b.click("#measures-period");
    b.wait_for("#measures-days");
    b.select("#measures-days", "90");
    b.click("#measures-apply");
    b.wait_for_url("days=90");
    let row = b.wait_for_text("#measures-table tr[data-partner=acme]", "units");
    assert!(row.contains("100.0 % (5 of 5 units)"), "{row}");
    b.assert_no_console_errors();
    drop(daemon);
}
