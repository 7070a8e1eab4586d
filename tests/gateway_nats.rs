//! The NATS relay against a real nats-server with JetStream on 127.0.0.1
//! (`support::nats`): documents of several types and partners stored in
//! the stream once each, on the subject of their type and partner, with
//! their idempotency key as `Nats-Msg-Id`; deliveries made again, and a
//! document stored before its acknowledgment was lost, dropped by
//! JetStream as duplicates; a server that is down fails the deliveries
//! with a clear error and, once it is back with the same storage, gets
//! every document once, also under a running daemon while the server
//! hangs (SIGSTOP) and is killed; a publish no stream takes, a document
//! larger than the server takes, a wrong login or CA: errors that say so;
//! logins by password or token, TLS with a private CA; a daemon killed
//! (SIGKILL) twice while it publishes a large batch leaves each document
//! in the stream exactly once, and SIGTERM stops it in the middle with
//! nothing published twice; check-config and the README's example.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::store::FileState;
use support::daemon::Daemon;
use support::nats::{Auth, NatsServer, Stored};

/// The stream dropgate creates in these tests.
const STREAM: &str = "EDI";

/// A started server, or `None` (the test returns) when nats-server is not
/// installed and CI is not set.
fn server(auth: Auth) -> Option<NatsServer> {
    NatsServer::start(auth).expect("nats-server starts")
}

/// A gateway relaying to `url` with `relay` lines added to `[relay]`,
/// and two partners: Acme (X12 from ZZ:VENDORID: invoices, ship notices,
/// inventory) and a retailer-side partner `orders` (850s from
/// ZZ:RETAILERID).
fn setup(url: &str, relay: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    std::fs::create_dir_all(p.join("drop")).expect("drop");
    std::fs::create_dir_all(p.join("partners")).expect("partners");
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
retry_secs = 1
poll_interval_secs = 1

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[relay]
type = "nats"
url = "{url}"
timeout_secs = 5
{relay}
"#
        ),
    )
    .expect("gateway.toml");
    for (id, interchange) in [("acme", "ZZ:VENDORID"), ("orders", "ZZ:RETAILERID")] {
        std::fs::write(
            p.join(format!("partners/{id}.toml")),
            format!(
                "[x12]\ninterchange_id = \"{interchange}\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n"
            ),
        )
        .expect("partner");
    }
    dir
}

/// A gateway with dropgate's own stream.
fn setup_with_stream(url: &str) -> tempfile::TempDir {
    setup(url, &format!("stream = \"{STREAM}\""))
}

fn config_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("gateway.toml")
}

/// `count` 850s from the retailer-side partner in one interchange
/// numbered `control`.
fn orders(control: u32, count: u32) -> Vec<u8> {
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *240115*1030*U*00401*{control:09}*0*P*>~\nGS*PO*RETAILERID*VENDORID*20240115*1030*{control}*X*004010~\n",
    );
    for n in 1..=count {
        s.push_str(&format!(
            "ST*850*{n:04}~\nBEG*00*DS*PO-{control}-{n}**20240115~\nN1*ST*Jane Doe~\nN3*1 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*2*EA*4.5**VN*SKU-{n}~\nCTT*1~\nSE*8*{n:04}~\n"
        ));
    }
    s.push_str(&format!("GE*{count}*{control}~\nIEA*1*{control:09}~\n"));
    s.into_bytes()
}

/// Copies a sample into the drop folder as `name`.
fn drop_sample(dir: &tempfile::TempDir, sample: &str, name: &str) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(sample);
    std::fs::copy(&from, dir.path().join("drop").join(name)).expect("sample copied");
}

fn gateway(dir: &tempfile::TempDir) -> Gateway {
    let config = config::load(&config_path(dir)).expect("configuration loads");
    Gateway::open(config).expect("gateway opens")
}

fn pass_until_delivered(g: &mut Gateway) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = g.pass().expect("a pass");
        if report.pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "never delivered: {report:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every document the gateway stored, by the `Nats-Msg-Id` it is
/// published with (`relay:<file>:<n>`): its JSON.
fn expected(g: &mut Gateway) -> BTreeMap<String, serde_json::Value> {
    let data_dir = g.config().gateway.data_dir.clone();
    let mut out = BTreeMap::new();
    for f in g.store().recent_files(1000).expect("files") {
        for (n, d) in g
            .store()
            .documents(f.id)
            .expect("documents")
            .iter()
            .enumerate()
        {
            let json = d.json(&data_dir).expect("document JSON");
            let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            out.insert(format!("relay:{}:{n}", f.id), value);
        }
    }
    out
}

/// Checks that the stream holds each expected document exactly once, on
/// the subject of its type and partner, with its body, and returns them.
fn assert_each_once(stored: &[Stored], expected: &BTreeMap<String, serde_json::Value>) {
    let mut seen = BTreeMap::<&str, usize>::new();
    for m in stored {
        *seen.entry(m.id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let ids: BTreeSet<&str> = seen.keys().copied().collect();
    let wanted: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(ids, wanted, "the stream holds every document, and no other");
    for m in stored {
        let doc = &expected[&m.id];
        let body: serde_json::Value = serde_json::from_slice(&m.payload).expect("a JSON body");
        assert_eq!(&body, doc, "the body of {}", m.id);
        let subject = format!(
            "dropgate.{}.{}",
            doc["type"].as_str().expect("a type"),
            doc["source"]["partner"].as_str().expect("a partner")
        );
        assert_eq!(m.subject, subject, "the subject of {}", m.id);
        assert!(
            m.headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v == "application/json"),
            "{:?}",
            m.headers
        );
    }
}

#[test]
fn documents_of_several_types_and_partners_are_stored_once_on_their_subjects() {
    let Some(nats) = server(Auth::None) else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    drop_sample(&dir, "samples/x12/good/810-4010-freight.edi", "invoice.edi");
    drop_sample(&dir, "samples/x12/good/856-4010-pallets.edi", "asn.edi");
    drop_sample(&dir, "samples/x12/good/846-4010-inventory.edi", "stock.edi");
    std::fs::write(dir.path().join("drop/orders.edi"), orders(501, 3)).expect("dropped");
    let watch = nats.watch("dropgate.>").expect("a subscription");
    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    let files = g.store().recent_files(10).expect("files");
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(
        files.iter().all(|f| f.state == FileState::Processed),
        "{files:?}"
    );

    let expected = expected(&mut g);
    let stored = nats.messages(STREAM).expect("the stream's messages");
    assert_each_once(&stored, &expected);
    let types: BTreeSet<&str> = expected
        .values()
        .filter_map(|d| d["type"].as_str())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "inventory_advice",
            "invoice",
            "purchase_order",
            "ship_notice"
        ])
    );
    let partners: BTreeSet<&str> = stored
        .iter()
        .filter_map(|m| m.subject.rsplit('.').next())
        .collect();
    assert_eq!(partners, BTreeSet::from(["acme", "orders"]));
    // dropgate made the stream, with the template's subjects and a
    // duplicate window longer than the longest wait between two tries.
    let (subjects, window) = nats.stream_config(STREAM).expect("the stream");
    assert_eq!(subjects, ["dropgate.*.*"]);
    assert_eq!(window, Duration::from_secs(7200));

    // The same outbox entries made again (as after a crash that lost the
    // record of them): each document is published again, and JetStream
    // drops every one as a duplicate.
    let published = watch.seen().len();
    assert_eq!(published, expected.len(), "each published once so far");
    drop(g);
    let db = rusqlite::Connection::open(dir.path().join("var/state.db")).expect("the store");
    let reset = db
        .execute(
            "UPDATE outbox SET done_at = NULL, progress = 0, next_try_at = 0 WHERE target = 'relay'",
            [],
        )
        .expect("outbox reset");
    assert_eq!(reset, 4);
    drop(db);
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!((report.delivered, report.pending), (4, 0), "{report:?}");
    assert!(
        watch.wait_for(2 * expected.len(), Duration::from_secs(10)),
        "every document was published again: {} of {}",
        watch.seen().len(),
        2 * expected.len()
    );
    let stored = nats.messages(STREAM).expect("the stream's messages");
    assert_each_once(&stored, &expected);
}

#[test]
fn a_document_stored_before_its_acknowledgment_was_lost_counts_as_delivered() {
    // Not started yet: the file is processed and its delivery waits.
    let Some(mut nats) = NatsServer::new(Auth::None).expect("a server") else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    std::fs::write(dir.path().join("drop/orders.edi"), orders(601, 3)).expect("dropped");
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!(report.pending, 1, "{report:?}");
    let expected = expected(&mut g);
    assert_eq!(expected.len(), 3);

    // The stream already holds the second document, as if it had been
    // published and its acknowledgment lost.
    nats.launch().expect("nats-server starts");
    nats.create_stream(STREAM, &["dropgate.*.*"], Duration::from_secs(7200))
        .expect("the stream");
    let watch = nats.watch("dropgate.>").expect("a subscription");
    let second = &expected["relay:1:1"];
    nats.publish(
        "dropgate.purchase_order.orders",
        "relay:1:1",
        second.to_string().as_bytes(),
    )
    .expect("published");
    pass_until_delivered(&mut g);
    assert!(
        watch.wait_for(4, Duration::from_secs(10)),
        "{:?}",
        watch.seen()
    );
    let sent: Vec<String> = watch.seen().iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        sent,
        ["relay:1:1", "relay:1:0", "relay:1:1", "relay:1:2"],
        "the gateway published the second document again"
    );
    assert_each_once(&nats.messages(STREAM).expect("messages"), &expected);
}

#[test]
fn nats_down_fails_deliveries_clearly_and_back_gets_every_document_once() {
    let Some(mut nats) = server(Auth::None) else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    std::fs::write(dir.path().join("drop/a.edi"), orders(701, 3)).expect("dropped");
    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    assert_eq!(nats.messages(STREAM).expect("messages").len(), 3);

    // Down: two more files are processed, their deliveries fail and wait.
    nats.stop();
    std::fs::write(dir.path().join("drop/b.edi"), orders(702, 3)).expect("dropped");
    std::fs::write(dir.path().join("drop/c.edi"), orders(703, 2)).expect("dropped");
    let report = g.pass().expect("a pass");
    assert_eq!(report.files.len(), 2, "{report:?}");
    assert_eq!(report.delivered, 0, "{report:?}");
    assert_eq!(report.pending, 2, "{report:?}");
    assert_eq!(report.delivery_errors.len(), 2, "{report:?}");
    let url = nats.url();
    assert!(
        report.delivery_errors[0].contains(&format!("connecting to NATS at {url}")),
        "{report:?}"
    );
    // The second is not tried again within the same pass: it says why.
    assert!(
        report.delivery_errors[1].contains("not tried")
            && report.delivery_errors[1].contains("connecting to NATS"),
        "{report:?}"
    );
    let again = g.pass().expect("a pass");
    assert_eq!(again.pending, 2, "still waiting: {again:?}");

    // Back, with the storage it had.
    nats.launch().expect("nats-server starts again");
    pass_until_delivered(&mut g);
    let expected = expected(&mut g);
    assert_eq!(expected.len(), 8);
    assert_each_once(&nats.messages(STREAM).expect("messages"), &expected);
}

#[test]
fn a_publish_no_stream_takes_is_an_error_that_says_so() {
    let Some(nats) = server(Auth::None) else {
        return;
    };
    // No `stream`: the stream is for whoever runs the bus to make.
    let dir = setup(&nats.url(), "subject = \"edi.{partner}.{type}\"");
    std::fs::write(dir.path().join("drop/orders.edi"), orders(801, 2)).expect("dropped");
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!(report.pending, 1, "{report:?}");
    assert!(
        report.delivery_errors[0].contains("no JetStream stream at nats://127.0.0.1")
            && report.delivery_errors[0].contains("captures subject edi.orders.purchase_order")
            && report.delivery_errors[0].contains("set stream = "),
        "{report:?}"
    );
    nats.create_stream("BUS", &["edi.>"], Duration::from_secs(7200))
        .expect("the stream");
    pass_until_delivered(&mut g);
    let stored = nats.messages("BUS").expect("messages");
    let ids: Vec<(&str, &str)> = stored
        .iter()
        .map(|m| (m.id.as_str(), m.subject.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("relay:1:0", "edi.orders.purchase_order"),
            ("relay:1:1", "edi.orders.purchase_order")
        ]
    );
}

#[test]
fn logins_with_a_password_or_a_token_from_a_file() {
    for auth in [Auth::User, Auth::Token] {
        let Some(nats) = server(auth) else {
            return;
        };
        let secret = nats.password_file().expect("a secret file");
        let login = match auth {
            Auth::User => format!(
                "user = \"{}\"\npassword_file = {secret:?}",
                support::nats::USER
            ),
            _ => {
                std::fs::write(&secret, format!("{}\n", support::nats::TOKEN)).expect("token");
                format!("token_file = {secret:?}")
            }
        };
        let dir = setup(&nats.url(), &format!("stream = \"{STREAM}\"\n{login}"));
        std::fs::write(dir.path().join("drop/orders.edi"), orders(901, 2)).expect("dropped");
        let mut g = gateway(&dir);
        pass_until_delivered(&mut g);
        assert_eq!(
            nats.messages(STREAM).expect("messages").len(),
            2,
            "{auth:?}"
        );

        // A wrong secret: the delivery fails, saying the server refused.
        std::fs::write(&secret, "wrong-secret\n").expect("wrong secret");
        std::fs::write(dir.path().join("drop/more.edi"), orders(902, 1)).expect("dropped");
        let mut g = gateway(&dir);
        let report = g.pass().expect("a pass");
        assert_eq!(report.pending, 1, "{auth:?} {report:?}");
        assert!(
            report.delivery_errors[0].contains("connecting to NATS")
                && report.delivery_errors[0]
                    .to_lowercase()
                    .contains("authorization"),
            "{auth:?} {report:?}"
        );
        assert!(
            !report.delivery_errors[0].contains("wrong-secret"),
            "never the secret: {report:?}"
        );
    }
}

/// `dropgate check-config`'s exit code and what it printed on stderr.
fn check_config(dir: &tempfile::TempDir) -> (Option<i32>, String) {
    let out = Command::new(Daemon::binary())
        .args(["check-config", "-c"])
        .arg(config_path(dir))
        .output()
        .expect("dropgate runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_names_what_is_wrong_with_the_nats_relay() {
    let dir = setup(
        "nats://127.0.0.1:4222",
        "subject = \"edi.*.{type}\"\nuser = \"gw\"\npassword_file = \"missing-password\"",
    );
    let (code, stderr) = check_config(&dir);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("gateway.toml:") && stderr.contains("[relay] subject"),
        "{stderr}"
    );
    let dir = setup(
        "nats://127.0.0.1:4222",
        "user = \"gw\"\npassword_file = \"missing-password\"",
    );
    let (code, stderr) = check_config(&dir);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("[relay] reading password_file") && stderr.contains("missing-password"),
        "{stderr}"
    );
    let dir = setup(
        "nats://127.0.0.1:4222",
        "stream = \"EDI\"\nduplicate_window_secs = 120",
    );
    let (code, stderr) = check_config(&dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("may be stored twice"),
        "{stderr}"
    );
    let dir = setup("tls://nats.example:4222", "ca_file = \"no-such-ca.pem\"");
    let (code, stderr) = check_config(&dir);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("[relay] reading ca_file") && stderr.contains("no-such-ca.pem"),
        "{stderr}"
    );
    let dir = setup("nats://nats.example:4222", "");
    let (code, stderr) = check_config(&dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("cross the network in clear"),
        "{stderr}"
    );
}

#[test]
fn a_daemon_killed_while_publishing_a_large_batch_leaves_each_document_once() {
    let Some(nats) = server(Auth::None) else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    const COUNT: u32 = 1500;
    std::fs::write(dir.path().join("drop/big.edi"), orders(1001, COUNT)).expect("dropped");
    let watch = nats.watch("dropgate.>").expect("a subscription");
    // Killed twice in the middle of publishing, at different places.
    for at in [150, 700] {
        let mut daemon = Daemon::start(&config_path(&dir));
        assert!(
            watch.wait_for(at, Duration::from_secs(120)),
            "only {} published: {:?}",
            watch.seen().len(),
            daemon.lines()
        );
        daemon.kill();
    }
    let stored_before = nats.messages(STREAM).expect("messages").len();
    assert!(
        stored_before < COUNT as usize,
        "killed in the middle of the batch ({stored_before} stored)"
    );
    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    let expected = expected(&mut g);
    assert_eq!(expected.len(), COUNT as usize);
    let stored = nats.messages(STREAM).expect("messages");
    assert_each_once(&stored, &expected);
    // What was acknowledged before a kill was not published again: at
    // most the one document in flight at each kill was.
    assert!(watch.wait_for(COUNT as usize, Duration::from_secs(10)));
    let mut times = BTreeMap::<String, usize>::new();
    for m in watch.seen() {
        *times.entry(m.id).or_default() += 1;
    }
    let again: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        again.len() <= 2 && again.iter().all(|(_, n)| **n == 2),
        "published again: {again:?}"
    );
}

/// The errors of the deliveries that failed, as the daemon logged them.
fn failures(daemon: &Daemon) -> Vec<String> {
    daemon
        .logs()
        .iter()
        .filter(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("delivery failed"))
        })
        .filter_map(|l| l["fields"]["error"].as_str().map(str::to_string))
        .collect()
}

/// Waits until the daemon logged a failed delivery whose error contains
/// `text`.
fn wait_for_failure(daemon: &Daemon, text: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if failures(daemon).iter().any(|e| e.contains(text)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_running_daemon_rides_out_nats_hanging_and_going_down() {
    let Some(mut nats) = server(Auth::None) else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    const COUNT: usize = 1000;
    std::fs::write(dir.path().join("drop/big.edi"), orders(1101, COUNT as u32)).expect("dropped");
    let watch = nats.watch("dropgate.>").expect("a subscription");
    let mut daemon = Daemon::start(&config_path(&dir));
    assert!(
        watch.wait_for(200, Duration::from_secs(120)),
        "{:?}",
        daemon.lines()
    );
    // Hanging (SIGSTOP): the acknowledgment does not come, and the wait
    // for it is bounded.
    nats.pause();
    assert!(
        wait_for_failure(
            &daemon,
            "no acknowledgment from JetStream at nats://127.0.0.1"
        ),
        "{:?}",
        failures(&daemon)
    );
    nats.resume();
    assert!(
        watch.wait_for(600, Duration::from_secs(120)),
        "{} published after the server went on: {:?}",
        watch.seen().len(),
        failures(&daemon)
    );
    // Down (killed) in the middle of publishing, and back with its
    // storage.
    nats.stop();
    assert!(
        wait_for_failure(&daemon, "NATS at nats://127.0.0.1"),
        "{:?}",
        failures(&daemon)
    );
    assert!(daemon.is_running(), "the daemon goes on");
    nats.launch().expect("nats-server starts again");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let held = nats.messages(STREAM).map(|m| m.len()).unwrap_or(0);
        if held >= COUNT {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{held} of {COUNT} stored: {:?}",
            failures(&daemon)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "{:?}",
        daemon.lines()
    );
    let mut g = gateway(&dir);
    assert_eq!(g.store().pending_deliveries().expect("pending"), 0);
    let expected = expected(&mut g);
    assert_eq!(expected.len(), COUNT);
    assert_each_once(&nats.messages(STREAM).expect("messages"), &expected);
}

/// The README's `[relay]` table for NATS, as written (its URL pointed at
/// the test's server), relays the documents into the stream it names.
#[test]
fn the_readme_nats_relay_works_as_written() {
    let Some(nats) = server(Auth::None) else {
        return;
    };
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let table = readme
        .split("```toml\n")
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("[relay]\ntype = \"nats\""))
        .expect("the README shows the NATS relay");
    assert!(table.contains("url = \"nats://127.0.0.1:4222\""), "{table}");
    let table = table.replace("nats://127.0.0.1:4222", &nats.url());
    let dir = setup(&nats.url(), "");
    let path = config_path(&dir);
    let text = std::fs::read_to_string(&path).expect("gateway.toml");
    let head = text.split("[relay]").next().expect("before [relay]");
    std::fs::write(&path, format!("{head}{table}")).expect("gateway.toml");
    std::fs::write(dir.path().join("drop/orders.edi"), orders(1201, 2)).expect("dropped");
    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    assert_each_once(&nats.messages(STREAM).expect("messages"), &expected(&mut g));
}

#[test]
fn tls_with_a_private_ca() {
    let Some(nats) = NatsServer::start_tls(Auth::Token).expect("nats-server starts with TLS")
    else {
        return;
    };
    assert!(nats.url().starts_with("tls://127.0.0.1:"));
    let token = nats.password_file().expect("a secret file");
    std::fs::write(&token, format!("{}\n", support::nats::TOKEN)).expect("token");
    let relay =
        |ca: &Path| format!("stream = \"{STREAM}\"\ntoken_file = {token:?}\nca_file = {ca:?}");
    let dir = setup(&nats.url(), &relay(&nats.ca_file()));
    std::fs::write(dir.path().join("drop/orders.edi"), orders(1301, 2)).expect("dropped");
    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    assert_each_once(&nats.messages(STREAM).expect("messages"), &expected(&mut g));

    // A CA that did not sign the server's certificate: refused.
    let dir = setup(&nats.url(), &relay(&nats.other_ca_file()));
    std::fs::write(dir.path().join("drop/orders.edi"), orders(1302, 1)).expect("dropped");
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!(report.pending, 1, "{report:?}");
    assert!(
        report.delivery_errors[0].contains("connecting to NATS at tls://127.0.0.1")
            && report.delivery_errors[0]
                .to_lowercase()
                .contains("certificate"),
        "{report:?}"
    );
}

#[test]
fn a_document_larger_than_the_server_takes_is_an_error_that_says_so() {
    let Some(nats) = server(Auth::None) else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    // Three orders, the second with 12,000 lines: well over the 1 MB a
    // nats-server takes by default.
    let mut x12 = String::from_utf8(orders(1401, 3)).expect("text");
    let lines: String = (1..=12_000)
        .map(|n| format!("PO1*{n}*2*EA*4.5**VN*SKU-LONG-DESCRIPTIVE-PART-NUMBER-{n:06}~\n"))
        .collect();
    let second = x12.find("ST*850*0002~").expect("the second order");
    let at = second + x12[second..].find("PO1*").expect("its first line");
    let end = at + x12[at..].find("CTT*1~").expect("its trailer");
    x12.replace_range(at..end, &lines);
    // ST, BEG, N1, N3, N4, the lines, CTT and SE.
    let count = 12_000 + 7;
    x12 = x12.replacen("SE*8*0002~", &format!("SE*{count}*0002~"), 1);
    std::fs::write(dir.path().join("drop/big.edi"), x12).expect("dropped");
    let mut g = gateway(&dir);
    let report = g.pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Processed, "{report:?}");
    assert_eq!(report.pending, 1, "{report:?}");
    assert!(
        report.delivery_errors[0].contains(
            "document 1 on dropgate.purchase_order.orders is larger than the largest message NATS"
        ) && report.delivery_errors[0].contains("raise max_payload"),
        "{report:?}"
    );
    // The documents before it are in the stream; it and those after it
    // wait.
    let stored = nats.messages(STREAM).expect("messages");
    let ids: Vec<&str> = stored.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["relay:1:0"]);
}

#[test]
fn sigterm_while_publishing_stops_in_the_middle_and_publishes_nothing_twice() {
    let Some(nats) = server(Auth::None) else {
        return;
    };
    let dir = setup_with_stream(&nats.url());
    const COUNT: usize = 1500;
    std::fs::write(dir.path().join("drop/big.edi"), orders(1501, COUNT as u32)).expect("dropped");
    let watch = nats.watch("dropgate.>").expect("a subscription");
    let mut daemon = Daemon::start(&config_path(&dir));
    assert!(
        watch.wait_for(200, Duration::from_secs(120)),
        "{:?}",
        daemon.lines()
    );
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "{:?}",
        daemon.lines()
    );
    let stored_before = nats.messages(STREAM).expect("messages").len();
    assert!(
        stored_before < COUNT,
        "it stopped in the middle ({stored_before} stored)"
    );
    let mut g = gateway(&dir);
    pass_until_delivered(&mut g);
    assert_each_once(&nats.messages(STREAM).expect("messages"), &expected(&mut g));
    assert!(watch.wait_for(COUNT, Duration::from_secs(10)));
    let mut ids: Vec<String> = watch.seen().into_iter().map(|m| m.id).collect();
    let published = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(published, ids.len(), "nothing was published twice");
}

#[test]
fn a_password_that_cannot_be_read_when_delivering_fails_the_delivery_saying_where() {
    let Some(nats) = server(Auth::User) else {
        return;
    };
    let password = nats.password_file().expect("a secret file");
    let dir = setup(
        &nats.url(),
        &format!(
            "stream = \"{STREAM}\"\nuser = \"{}\"\npassword_file = {password:?}",
            support::nats::USER
        ),
    );
    std::fs::write(dir.path().join("drop/orders.edi"), orders(1601, 1)).expect("dropped");
    // The configuration was read with the file there; it goes before the
    // delivery.
    let mut g = gateway(&dir);
    std::fs::remove_file(&password).expect("removed");
    let report = g.pass().expect("a pass");
    assert_eq!(report.pending, 1, "{report:?}");
    assert!(
        report.delivery_errors[0].contains("reading password_file")
            && report.delivery_errors[0].contains(&password.display().to_string()),
        "{report:?}"
    );
    nats.password_file().expect("the file back");
    pass_until_delivered(&mut g);
    assert_eq!(nats.messages(STREAM).expect("messages").len(), 1);
}
