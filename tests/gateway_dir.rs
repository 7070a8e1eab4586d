//! The gateway end to end on local folders: a drop, the SQLite store, the
//! file relay and an outbound folder for acknowledgments. Files are
//! processed, quarantined with their reason and a rejecting 997, never
//! processed twice, reprocessed after a fix; deliveries survive a relay
//! that is down; a daemon killed with SIGKILL in the middle of a batch
//! loses nothing and relays nothing twice.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::store::FileState;
use support::cli::{dropgate, root, text};

/// A gateway folder: gateway.toml, the sample partners, an empty drop.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(relay: &str, extra: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temporary folder");
        let p = dir.path();
        std::fs::create_dir_all(p.join("drop")).expect("drop");
        std::fs::create_dir_all(p.join("partners")).expect("partners");
        for name in ["acme.toml", "nordlys.toml", "parcelco.toml"] {
            std::fs::copy(
                root().join("samples/partners").join(name),
                p.join("partners").join(name),
            )
            .expect("partner copied");
        }
        std::fs::write(
            p.join("gateway.toml"),
            format!(
                r#"
[gateway]
data_dir = "var"
retry_secs = 1
poll_interval_secs = 1
{extra}

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.acme-out]
type = "dir"
path = "out/acme"

[relay]
type = "file"
path = "{relay}"
"#
            ),
        )
        .expect("gateway.toml");
        Setup { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> PathBuf {
        self.path().join("gateway.toml")
    }

    fn drop_sample(&self, sample: &str, name: &str) {
        let bytes = std::fs::read(root().join(sample)).expect("sample");
        std::fs::write(self.path().join("drop").join(name), bytes).expect("dropped");
    }

    fn gateway(&self) -> Gateway {
        let config = config::load(&self.config()).expect("configuration loads");
        Gateway::open(config).expect("gateway opens")
    }

    /// The files in `folder` (relative to the gateway's folder), sorted.
    fn names(&self, folder: &str) -> Vec<String> {
        support::cli::names(&self.path().join(folder))
    }
}

#[test]
fn files_are_processed_quarantined_acknowledged_and_relayed_once() {
    processed_quarantined_acknowledged_and_relayed_once("");
}

/// The same with every file streamed from its channel into the archive
/// and read from there, never held in memory whole.
#[test]
fn files_streamed_through_the_archive_come_out_the_same() {
    processed_quarantined_acknowledged_and_relayed_once("stream_over_mb = 0");
}

fn processed_quarantined_acknowledged_and_relayed_once(extra: &str) {
    let s = Setup::new("relay", extra);
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    s.drop_sample("samples/x12/bad/810-4010-bad-date.edi", "invoice.edi");
    s.drop_sample(
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    s.drop_sample("samples/x12/good/850-4010-dropship.edi", "stranger.edi");
    s.drop_sample(
        "mappings/partners/bigbox/inventory/bigbox-inventory.csv",
        "unclaimed.csv",
    );
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let states: Vec<(String, FileState, Option<String>)> = report
        .files
        .iter()
        .map(|f| (f.name.clone(), f.state, f.partner.clone()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("asn.edi".into(), FileState::Processed, Some("acme".into())),
            (
                "invoice.edi".into(),
                FileState::Quarantined,
                Some("acme".into())
            ),
            (
                "stock-20240314.csv".into(),
                FileState::Processed,
                Some("nordlys".into())
            ),
            ("stranger.edi".into(), FileState::Quarantined, None),
            ("unclaimed.csv".into(), FileState::Quarantined, None),
        ]
    );
    let detail = |name: &str| {
        report
            .files
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.detail.clone())
            .unwrap_or_default()
    };
    assert!(
        detail("invoice.edi").contains("invalid date \"20241317\""),
        "{}",
        detail("invoice.edi")
    );
    assert!(detail("stranger.edi").contains("no partner has interchange_id \"ZZ:RETAILERID\""));
    assert!(
        detail("unclaimed.csv")
            .contains("no partner's [[inbound]] takes \"unclaimed.csv\" on channel drop")
    );
    // Taken off the drop, kept in processed/.
    assert!(s.names("drop").is_empty(), "{:?}", s.names("drop"));
    assert_eq!(s.names("drop/processed").len(), 5);

    // The relay has each processed file's documents, as translate makes them.
    let relayed = s.names("relay");
    assert_eq!(
        relayed,
        ["000001-asn.edi.jsonl", "000003-stock-20240314.csv.jsonl"]
    );
    let asn =
        std::fs::read_to_string(s.path().join("relay/000001-asn.edi.jsonl")).expect("relayed");
    let translated = dropgate(&[
        "translate",
        "--ndjson",
        &root()
            .join("samples/x12/good/856-4010-pick-and-pack.edi")
            .to_string_lossy(),
    ]);
    let doc = |line: &str| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        // The file name differs; the rest must not.
        v["source"]["file_name"] = serde_json::Value::Null;
        v["source"]["partner"] = serde_json::Value::Null;
        v
    };
    assert_eq!(doc(asn.trim()), doc(text(&translated.stdout).trim()));

    // Acme gets a 997 for each of its X12 files: accepting, and rejecting.
    let acks = s.names("out/acme");
    assert_eq!(acks, ["acme-997-000000001.edi", "acme-997-000000002.edi"]);
    let rejecting =
        std::fs::read_to_string(s.path().join("out/acme/acme-997-000000002.edi")).expect("997");
    assert!(
        rejecting.contains("AK5*R") && rejecting.contains("AK9*R"),
        "{rejecting}"
    );
    assert!(
        rejecting.contains("ISA*00*          *00*          *ZZ*RETAILERID"),
        "{rejecting}"
    );
    let accepting =
        std::fs::read_to_string(s.path().join("out/acme/acme-997-000000001.edi")).expect("997");
    assert!(accepting.contains("AK9*A"), "{accepting}");

    // The same bytes again, under another name: a duplicate, not processed;
    // the same for a file no partner claims.
    s.drop_sample(
        "samples/x12/good/856-4010-pick-and-pack.edi",
        "asn-again.edi",
    );
    s.drop_sample(
        "samples/x12/good/850-4010-dropship.edi",
        "stranger-again.edi",
    );
    let report = g.pass().expect("a pass");
    assert_eq!(report.files.len(), 2);
    assert_eq!(
        report.files[1].state,
        FileState::Duplicate,
        "{:?}",
        report.files[1]
    );
    assert_eq!(
        report.files[1].detail.as_deref(),
        Some("the same bytes as file 4: not processed again")
    );
    assert_eq!(report.files[0].state, FileState::Duplicate);
    assert_eq!(
        report.files[0].detail.as_deref(),
        Some("the same bytes as file 1: not processed again")
    );
    assert_eq!(s.names("relay").len(), 2, "nothing relayed twice");
    assert_eq!(s.names("out/acme").len(), 2, "no second 997");

    // The audit trail says what happened.
    let trail: Vec<String> = g
        .store()
        .audit_trail(2)
        .expect("trail")
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(trail, ["received", "quarantined"]);
}

#[test]
fn a_quarantined_file_is_reprocessed_after_the_mapping_is_fixed() {
    let s = Setup::new("relay", "mappings = \"maps\"");
    let maps = s.path().join("maps/partners/nordlys");
    std::fs::create_dir_all(&maps).expect("mappings folder");
    let good = std::fs::read_to_string(root().join("mappings/partners/nordlys/inventory.toml"))
        .expect("mapping");
    // A mapping author's mistake: dates read as the wrong format.
    let broken = good.replace("date = \"DD.MM.YYYY\"", "date = \"MM/DD/YYYY\"");
    assert_ne!(good, broken);
    std::fs::write(maps.join("inventory.toml"), &broken).expect("mapping written");
    s.drop_sample(
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    assert_eq!(
        report.files[0].state,
        FileState::Quarantined,
        "{:?}",
        report.files
    );
    assert!(
        report.files[0]
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("MM/DD/YYYY"),
        "{:?}",
        report.files[0].detail
    );
    assert!(s.names("relay").is_empty());

    // Reprocessing before the fix quarantines it again; after, it goes through.
    let config = s.config();
    let config = config.to_string_lossy();
    let again = dropgate(&["reprocess", "-c", &config, "1"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stdout));
    std::fs::write(maps.join("inventory.toml"), &good).expect("mapping fixed");
    let fixed = dropgate(&["reprocess", "-c", &config, "1"]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}{}",
        text(&fixed.stdout),
        text(&fixed.stderr)
    );
    assert!(
        text(&fixed.stdout).contains("processed"),
        "{}",
        text(&fixed.stdout)
    );
    assert_eq!(s.names("relay"), ["000001-stock-20240314.csv.jsonl"]);
    let processed_again = dropgate(&["reprocess", "-c", &config, "1"]);
    assert_eq!(processed_again.status.code(), Some(2));
    assert!(
        text(&processed_again.stderr).contains(
            "file 1 is processed: only a quarantined file (or a duplicate, with --force)"
        ),
        "{}",
        text(&processed_again.stderr)
    );
    let files = dropgate(&["files", "-c", &config]);
    assert!(
        text(&files.stdout).contains("processed"),
        "{}",
        text(&files.stdout)
    );
    let status = dropgate(&["status", "-c", &config]);
    let status = text(&status.stdout);
    assert!(status.contains("files: 1 (1 processed)"), "{status}");
    assert!(status.contains("deliveries waiting: 0"), "{status}");
    let show = dropgate(&["show", "-c", &config, "1"]);
    let trail = text(&show.stdout);
    for event in ["received", "quarantined", "reprocess", "processed"] {
        assert!(trail.contains(event), "{trail}");
    }
}

#[test]
fn a_relay_that_is_down_is_retried_and_delivers_once() {
    let s = Setup::new("relay", "");
    // The relay's folder cannot be made: a file is in the way.
    std::fs::write(s.path().join("relay"), b"in the way").expect("blocker");
    s.drop_sample("samples/x12/good/846-5010.edi", "inventory.edi");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Processed);
    assert_eq!(
        report.delivery_errors.len(),
        1,
        "{:?}",
        report.delivery_errors
    );
    assert_eq!(report.pending, 1);
    // Not due again before its wait is over.
    let report = g.pass().expect("a pass");
    assert!(report.delivery_errors.is_empty());
    assert_eq!(report.pending, 1);
    std::fs::remove_file(s.path().join("relay")).expect("blocker removed");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let report = g.pass().expect("a pass");
        if report.pending == 0 {
            assert_eq!(report.delivered, 1);
            break;
        }
        assert!(Instant::now() < deadline, "never delivered: {report:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(s.names("relay"), ["000001-inventory.edi.jsonl"]);
    let report = g.pass().expect("a pass");
    assert_eq!((report.delivered, report.pending), (0, 0));
}

#[test]
fn a_killed_daemon_loses_nothing_and_relays_nothing_twice() {
    let s = Setup::new("relay", "");
    // A Latin-1 feed; each copy gets its own first SKU, so that no two
    // files are duplicates.
    let template =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("sample");
    let at = template
        .windows(7)
        .position(|w| w == b"NL-100;")
        .expect("the sample's first SKU");
    let count = 120;
    for i in 0..count {
        let mut body = template[..at].to_vec();
        body.extend_from_slice(format!("NL-{i}-X;").as_bytes());
        body.extend_from_slice(&template[at + 7..]);
        std::fs::write(
            s.path().join(format!("drop/stock-20240314-{i:04}.csv")),
            body,
        )
        .expect("dropped");
    }
    let config = s.config();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &config.to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("daemon starts");
    // Kill it once it has got going, in the middle of the batch.
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.names("drop/processed").len() < 10 {
        assert!(Instant::now() < deadline, "the daemon never got going");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let taken = s.names("drop/processed").len();
    assert!(
        taken < count,
        "the batch was over before the kill ({taken}); nothing was tested"
    );

    // A restart takes up whatever was left, wherever it was.
    let after = dropgate(&["run", "--once", "-c", &config.to_string_lossy()]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}{}",
        text(&after.stdout),
        text(&after.stderr)
    );
    let relayed = s.names("relay");
    assert_eq!(relayed.len(), count, "one relay file per input");
    let mut skus = Vec::new();
    for name in &relayed {
        let body = std::fs::read_to_string(s.path().join("relay").join(name)).expect("relay file");
        for line in body.lines() {
            let doc: serde_json::Value =
                serde_json::from_str(line).expect("whole JSON documents only");
            skus.push(doc["items"][0]["sku"].as_str().unwrap_or("").to_string());
        }
    }
    skus.sort();
    skus.dedup();
    assert_eq!(
        skus.len(),
        count,
        "each input's documents relayed exactly once"
    );
    let mut g = s.gateway();
    let files = g.store().recent_files(1000).expect("files");
    let processed = files
        .iter()
        .filter(|f| f.state == FileState::Processed)
        .count();
    assert_eq!(processed, count, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| matches!(f.state, FileState::Processed | FileState::Duplicate))
    );
    assert_eq!(g.store().pending_deliveries().expect("outbox"), 0);
    assert!(s.names("drop").is_empty());
}

#[test]
fn the_daemon_picks_up_new_files_and_stops_on_sigterm() {
    let s = Setup::new("relay", "");
    let config = s.config();
    // Left in the archive by a process killed while writing it (no process
    // can have that ID): removed when the daemon starts.
    let stale = s.path().join("var/archive/.0123abcd.99999999.tmp");
    std::fs::create_dir_all(s.path().join("var/archive")).expect("archive");
    std::fs::write(&stale, b"half a file").expect("stale temporary file");
    let child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args([
            "run",
            "--log-format",
            "json",
            "-c",
            &config.to_string_lossy(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("daemon starts");
    std::thread::sleep(Duration::from_millis(300));
    s.drop_sample("samples/x12/good/846-5010.edi", "late.edi");
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.names("relay").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the file dropped after the start was never relayed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("daemon exits");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // One JSON object per log line: the file's lines name it, when it is
    // received (by the intake) and when it is processed (by the
    // translator), with its state.
    let logs: Vec<serde_json::Value> = text(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let lines: Vec<&serde_json::Value> = logs
        .iter()
        .filter(|l| l["fields"]["name"] == "late.edi")
        .collect();
    assert_eq!(
        lines.first().map(|l| &l["fields"]["message"]),
        Some(&serde_json::json!("file received")),
        "{lines:?}"
    );
    let file = lines
        .iter()
        .find(|l| l["fields"]["state"].is_string())
        .unwrap_or_else(|| panic!("no processed line for late.edi: {logs:?}"));
    assert_eq!(file["level"], "INFO");
    assert_eq!(file["fields"]["state"], "processed");
    assert_eq!(file["fields"]["partner"], "acme");
    assert!(
        logs.iter().any(|l| l["fields"]["message"] == "stopped"),
        "{logs:?}"
    );
    assert!(!stale.exists(), "the stale temporary file is removed");
    let bad = dropgate(&[
        "run",
        "--log-format",
        "xml",
        "-c",
        &config.to_string_lossy(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn check_config_names_the_file_line_and_column_of_each_problem() {
    let s = Setup::new(
        "relay",
        "poll_interval = 3\nmax_concurrent_files = 0\n\n[channel.bad]\ntype = \"dir\"\npath = 7\n",
    );
    std::fs::write(
        s.path().join("partners/broken.toml"),
        "[x12]\ninterchange_id = \"VENDOR\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"dorp\"\nready_marker = \"done\"\n",
    )
    .expect("partner");
    std::fs::write(
        s.path().join("partners/typo.toml"),
        "[partner]\nname = \"Typo\"\nemail = [\"a@b.example\"]\n\n[outbound\nchannel = \"x\"\n",
    )
    .expect("partner");
    std::fs::write(
        s.path().join("partners/ta1.toml"),
        "[x12]\ninterchange_id = \"ZZ:TA1\"\nacknowledgment = \"none\"\nta1 = \"sometimes\"\n",
    )
    .expect("partner");
    let config = s.config();
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    // Every problem of every file in one run, each at its place: the
    // gateway file's do not hide the partners'.
    for expected in [
        "gateway.toml:6:1: unknown field `poll_interval`",
        "gateway.toml:11:8: invalid type: integer `7`, expected path string",
        "broken.toml:2:1: [x12] interchange_id \"VENDOR\"",
        "broken.toml:5:1: [[inbound]] channel \"dorp\" is not a channel",
        "broken.toml:5:1: [[inbound]] ready_marker: \"done\" must hold {name} or {stem} once",
        "ta1.toml:4:7: [x12] ta1: \"sometimes\" is not \"always\", \"when-requested\" or \"never\"",
        "typo.toml:3:1: unknown field `email`, expected `name` or `emails`",
        "typo.toml:5:10: unclosed table, expected `]`",
    ] {
        assert!(err.contains(expected), "no {expected:?} in:\n{err}");
    }
    assert!(
        err.lines().all(|l| l.contains(".toml:")),
        "every line has its file, line and column:\n{err}"
    );
    // Fixed: the partners load.
    std::fs::remove_file(s.path().join("partners/broken.toml")).expect("removed");
    std::fs::remove_file(s.path().join("partners/typo.toml")).expect("removed");
    std::fs::remove_file(s.path().join("partners/ta1.toml")).expect("removed");
    let fixed = std::fs::read_to_string(&config)
        .expect("config")
        .replace("poll_interval = 3\nmax_concurrent_files = 0\n", "")
        .replace("path = 7", "path = \"drop\"");
    std::fs::write(&config, &fixed).expect("config fixed");
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok (3 channel(s), 3 partner(s))"));
    assert_eq!(text(&out.stderr), "");

    // Allowed, but said: an API open to the network; no partner at all.
    // A token the daemon would refuse is refused here too.
    let token = s.path().join("token");
    std::fs::write(&token, "short\n").expect("token");
    std::fs::write(
        &config,
        format!("{fixed}\n[api]\nlisten = \"0.0.0.0:8480\"\ntoken_file = \"token\"\n"),
    )
    .expect("config");
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("[api] the bearer token is shorter than 16 characters"),
        "{err}"
    );
    assert!(
        err.contains("warning: ")
            && err.contains("[api] listen \"0.0.0.0:8480\" is reachable from other machines"),
        "{err}"
    );
    std::fs::write(&token, "a-token-of-32-characters-and-one\n").expect("token");
    for p in ["acme", "nordlys", "parcelco"] {
        std::fs::remove_file(s.path().join(format!("partners/{p}.toml"))).expect("removed");
    }
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("warning: ")
            && l.contains("gateway.toml:")
            && l.contains("no partner is configured")),
        "{err}"
    );
}

#[test]
fn purchase_orders_go_out_in_each_partners_format() {
    let s = Setup::new(
        "relay",
        "\n[x12]\ninterchange_id = \"ZZ:RETAILERID\"\n\n[channel.nordlys-out]\ntype = \"dir\"\npath = \"out/nordlys\"\n",
    );
    let nordlys = s.path().join("partners/nordlys.toml");
    let mut partner = std::fs::read_to_string(&nordlys).expect("partner");
    partner.push_str("\n[outbound]\nchannel = \"nordlys-out\"\nformat = \"csv\"\nmapping = \"partners/nordlys/po\"\n");
    std::fs::write(&nordlys, partner).expect("partner");
    let config = s.config();
    let config = config.to_string_lossy();
    let po = root().join("mappings/partners/nordlys/po/po-123456.json");
    let po = po.to_string_lossy();

    // Acme speaks X12: an 850 from us to it, numbered from its sequence;
    // then a change of that order.
    let mut change: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(po.as_ref()).expect("PO")).expect("JSON");
    change["purpose"] = "change".into();
    let change_file = s.path().join("po-change.json");
    std::fs::write(&change_file, change.to_string()).expect("change written");
    let change_file = change_file.to_string_lossy();
    for (n, file) in [(1, &po), (2, &change_file)] {
        let out = dropgate(&["send-po", "-c", &config, "--partner", "acme", file]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(&format!("acme-po-PO123456-00000000{n}.edi")),
            "{}",
            text(&out.stdout)
        );
    }
    // The same order again is not sent again.
    let out = dropgate(&["send-po", "-c", &config, "--partner", "acme", &po]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("sent before, as acme-po-PO123456-000000001.edi"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        s.names("out/acme"),
        [
            "acme-po-PO123456-000000001.edi",
            "acme-po-PO123456-000000002.edi"
        ]
    );
    let edi = s.path().join("out/acme/acme-po-PO123456-000000002.edi");
    let body = std::fs::read_to_string(&edi).expect("850");
    assert!(
        body.starts_with("ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *"),
        "{body}"
    );
    assert!(
        body.contains("*000000002*0*P*"),
        "ISA13 is the second of Acme's sequence: {body}"
    );
    assert!(body.contains("GS*PO*RETAILERID*VENDORID*"), "{body}");
    // It reads back as the same order.
    let back = dropgate(&["translate", &edi.to_string_lossy()]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&back.stdout).expect("JSON");
    let sent: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
            .expect("PO"),
    )
    .expect("JSON");
    assert_eq!(docs[0]["po_number"], sent["po_number"]);
    assert_eq!(
        docs[0]["lines"].as_array().map(Vec::len),
        sent["lines"].as_array().map(Vec::len)
    );

    // Nordlys takes its own CSV, exactly as its mapping's sample says.
    let out = dropgate(&["send-po", "-c", &config, "--partner", "nordlys", &po]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let csv = std::fs::read(
        s.path()
            .join("out/nordlys/nordlys-po-PO123456-000000001.csv"),
    )
    .expect("CSV");
    let expected =
        std::fs::read(root().join("mappings/partners/nordlys/po/po-123456.json.expected.csv"))
            .expect("expected");
    assert_eq!(csv, expected);

    // A partner with no outbound channel gets nothing, and says why.
    let out = dropgate(&["send-po", "-c", &config, "--partner", "parcelco", &po]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("parcelco has no [outbound] channel"),
        "{}",
        text(&out.stderr)
    );
    let out = dropgate(&["send-po", "-c", &config, "--partner", "nobody", &po]);
    assert!(
        text(&out.stderr).contains("there is no partner \"nobody\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn each_channel_is_polled_on_its_own_schedule() {
    let s = Setup::new("relay", "\n[schedule]\ndrop = 3600\n");
    s.drop_sample("samples/x12/good/846-5010.edi", "first.edi");
    let mut g = s.gateway();
    assert_eq!(g.config().poll_every("drop"), 3600);
    assert_eq!(g.config().poll_every("acme-out"), 1);
    let report = g.scheduled_pass().expect("a pass");
    assert_eq!(report.files.len(), 1);
    // Not due again for an hour: the next file waits...
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "second.edi");
    let report = g.scheduled_pass().expect("a pass");
    assert!(report.files.is_empty(), "{report:?}");
    assert_eq!(s.names("drop"), ["second.edi"]);
    // ...unless a full pass is asked for (run --once).
    let report = g.pass().expect("a pass");
    assert_eq!(report.files.len(), 1);

    let bad = Setup::new("relay", "\n[schedule]\ndorp = 5\n");
    let config = bad.config();
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("[schedule] dorp is not a channel"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn files_translated_side_by_side_come_out_as_one_by_one() {
    let run = |workers: usize| {
        let s = Setup::new("relay", &format!("max_concurrent_files = {workers}"));
        for (i, sample) in [
            "samples/x12/good/856-4010-pick-and-pack.edi",
            "samples/x12/bad/810-4010-bad-date.edi",
            "samples/x12/good/846-5010.edi",
            "samples/x12/good/856-4010-pick-and-pack.edi",
            "samples/x12/good/850-4010-dropship.edi",
        ]
        .iter()
        .cycle()
        .take(15)
        .enumerate()
        {
            s.drop_sample(sample, &format!("f{i:02}.edi"));
        }
        let mut g = s.gateway();
        let report = g.pass().expect("a pass");
        let states: Vec<(String, FileState, u64)> = report
            .files
            .iter()
            .map(|f| (f.name.clone(), f.state, f.documents))
            .collect();
        let mut relayed = Vec::new();
        for name in s.names("relay") {
            relayed.push((
                name.clone(),
                std::fs::read(s.path().join("relay").join(&name)).expect("relay"),
            ));
        }
        let acks: Vec<String> = s.names("out/acme");
        (states, relayed, acks)
    };
    let one = run(1);
    let three = run(3);
    assert_eq!(one.0.len(), 15);
    assert!(one.0.iter().any(|f| f.1 == FileState::Duplicate));
    assert!(one.0.iter().any(|f| f.1 == FileState::Quarantined));
    assert_eq!(one.0, three.0, "the same outcomes");
    assert_eq!(one.1.len(), three.1.len());
    for ((n1, b1), (n3, b3)) in one.1.iter().zip(&three.1) {
        assert_eq!(n1, n3);
        assert_eq!(b1, b3, "{n1}: the same documents");
    }
    assert_eq!(one.2, three.2, "the same acknowledgments");
}

/// An X12 interchange from Acme of `sets` purchase orders, PO0000001 on.
fn acme_orders(sets: usize) -> String {
    let mut x12 = String::from(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240115*1030*U*00401*000000101*0*P*>~\nGS*PO*VENDORID*RETAILERID*20240115*1030*101*X*004010~\n",
    );
    for n in 1..=sets {
        x12.push_str(&format!(
            "ST*850*{n:09}~\nBEG*00*DS*PO{n:07}**20240115~\nREF*CO*ORD-{n}~\nN1*ST*Jane Doe~\nN3*123 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*2*EA*42.79**VN*SKU-{n}~\nPID*F****Widget~\nCTT*1~\nSE*10*{n:09}~\n"
        ));
    }
    x12.push_str(&format!("GE*{sets}*101~\nIEA*1*000000101~\n"));
    x12
}

#[test]
fn a_large_file_is_indexed_as_it_is_translated_and_read_back_whole() {
    let s = Setup::new("relay", "");
    let x12 = acme_orders(6000);
    assert!(
        x12.len() > 1 << 20,
        "large enough to be indexed on a thread"
    );
    std::fs::write(s.path().join("drop/orders.edi"), &x12).expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    assert_eq!(report.files.len(), 1);
    assert_eq!(
        report.files[0].state,
        FileState::Processed,
        "{:?}",
        report.files[0]
    );
    assert_eq!(report.files[0].documents, 6000);

    let relayed =
        std::fs::read_to_string(s.path().join("relay/000001-orders.edi.jsonl")).expect("relayed");
    let numbers: Vec<String> = relayed
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["po_number"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    let expected: Vec<String> = (1..=6000).map(|n| format!("PO{n:07}")).collect();
    assert_eq!(numbers, expected);

    // The store knows each document by type and number, and reads its
    // JSON back from the pack: the same bytes as relayed.
    let docs = g.store().documents(1).expect("documents");
    assert_eq!(docs.len(), 6000);
    assert!(docs.iter().all(|d| d.doc_type == "purchase_order"));
    let references: Vec<String> = docs
        .iter()
        .map(|d| d.reference.clone().unwrap_or_default())
        .collect();
    assert_eq!(references, expected);
    let config = s.config();
    let shown = dropgate(&["show", "1", "--documents", "-c", &config.to_string_lossy()]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert_eq!(text(&shown.stdout), relayed);

    let ack =
        std::fs::read_to_string(s.path().join("out/acme/acme-997-000000001.edi")).expect("a 997");
    assert!(ack.contains("AK9*A*6000*6000*6000"), "{ack}");
}

/// Acme's invoices INV-1 to INV-3 in one interchange; the second has a bad
/// date when `bad` is set, and the group's count is wrong when `bad_count`.
fn acme_invoices(bad: bool, bad_count: bool) -> String {
    let mut x12 = String::from(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240117*1700*U*00401*000000777*0*P*>~\nGS*IN*VENDORID*RETAILERID*20240117*1700*777*X*004010~\n",
    );
    for n in 1..=3 {
        let date = if bad && n == 2 {
            "20241317"
        } else {
            "20240117"
        };
        x12.push_str(&format!(
            "ST*810*000{n}~\nBIG*{date}*INV-{n}*20240115*PO-{n}~\nN1*RI*Example Vendor Inc~\nIT1*1*2*EA*19.99**VN*SKU-100~\nTDS*3998~\nCTT*1~\nSE*7*000{n}~\n"
        ));
    }
    let count = if bad_count { 4 } else { 3 };
    x12.push_str(&format!("GE*{count}*777~\nIEA*1*000000777~\n"));
    x12
}

#[test]
fn the_accepted_sets_of_a_partly_rejected_file_are_relayed() {
    let s = Setup::new("relay", "");
    std::fs::write(
        s.path().join("drop/invoices.edi"),
        acme_invoices(true, false),
    )
    .expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Processed, "{f:?}");
    assert_eq!(f.documents, 2);
    let detail = f.detail.clone().unwrap_or_default();
    assert!(
        detail.starts_with("2 document(s) accepted; rejected by the acknowledgment")
            && detail.contains("set 810 0002")
            && detail.contains("invalid date \"20241317\""),
        "{detail}"
    );

    // Only the accepted invoices are relayed and stored.
    let relayed =
        std::fs::read_to_string(s.path().join("relay/000001-invoices.edi.jsonl")).expect("relayed");
    let numbers: Vec<String> = relayed
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            v["invoice_number"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(numbers, ["INV-1", "INV-3"]);
    let stored: Vec<Option<String>> = g
        .store()
        .documents(1)
        .expect("documents")
        .into_iter()
        .map(|d| d.reference)
        .collect();
    assert_eq!(stored, [Some("INV-1".into()), Some("INV-3".into())]);

    // The 997 accepts the first and third sets and rejects the second.
    let ack =
        std::fs::read_to_string(s.path().join("out/acme/acme-997-000000001.edi")).expect("a 997");
    let verdicts: Vec<&str> = ack
        .split('~')
        .map(str::trim)
        .filter(|seg| seg.starts_with("AK5") || seg.starts_with("AK9"))
        .collect();
    assert_eq!(
        verdicts,
        ["AK5*A", "AK5*R*5", "AK5*A", "AK9*P*3*3*2"],
        "{ack}"
    );
}

#[test]
fn a_file_whose_every_set_is_rejected_is_quarantined() {
    let s = Setup::new("relay", "");
    // The group's count is wrong: the group is rejected, and every set in
    // it with it.
    std::fs::write(
        s.path().join("drop/invoices.edi"),
        acme_invoices(false, true),
    )
    .expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Quarantined, "{f:?}");
    assert!(
        f.detail.as_deref().unwrap_or("").contains("group IN 777"),
        "{f:?}"
    );
    assert!(s.names("relay").is_empty());
    let ack =
        std::fs::read_to_string(s.path().join("out/acme/acme-997-000000001.edi")).expect("a 997");
    assert!(ack.contains("AK9*R"), "{ack}");
}

/// An interchange whose envelope is rejected (IEA02 is not ISA13) is
/// quarantined and answered by a TA1 R alone, also for a partner with
/// `ta1 = false`: never by a 997 that would accept its groups.
#[test]
fn a_rejected_interchange_is_answered_by_a_ta1_whatever_the_partner_asks() {
    let s = Setup::new("relay", "");
    let acme = s.path().join("partners/acme.toml");
    let with = std::fs::read_to_string(&acme).expect("acme").replace(
        "acknowledge = \"always\"",
        "acknowledge = \"always\"\nta1 = false",
    );
    std::fs::write(&acme, with).expect("acme");
    s.drop_sample("samples/x12/bad/856-4010-iea-control-number.edi", "asn.edi");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    assert_eq!(
        report.files[0].state,
        FileState::Quarantined,
        "{:?}",
        report.files
    );
    assert!(s.names("relay").is_empty());
    let acks = s.names("out/acme");
    assert_eq!(acks, ["acme-ta1-000000001.edi"]);
    let ack = std::fs::read_to_string(s.path().join("out/acme").join(&acks[0])).expect("ack");
    assert!(ack.contains("TA1*000000311*240117*1630*R*001~"), "{ack}");
    assert!(!ack.contains("GS*") && !ack.contains("AK9"), "{ack}");
}

/// A file cut short (its IEA never comes) is quarantined and answered by a
/// TA1 R 023, since its ISA was read.
#[test]
fn a_file_without_its_iea_is_answered_by_a_ta1_r_023() {
    let s = Setup::new("relay", "");
    let asn = std::fs::read_to_string(root().join("samples/x12/good/856-4010-pick-and-pack.edi"))
        .expect("sample");
    let cut = asn.replace("IEA*1*000000301~", "");
    assert_ne!(asn, cut);
    std::fs::write(s.path().join("drop/asn.edi"), cut).expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Quarantined, "{f:?}");
    assert!(
        f.detail.as_deref().unwrap_or("").contains("no IEA"),
        "{f:?}"
    );
    assert_eq!(s.names("out/acme"), ["acme-ta1-000000001.edi"]);
    let ack =
        std::fs::read_to_string(s.path().join("out/acme/acme-ta1-000000001.edi")).expect("a TA1");
    assert!(ack.contains("TA1*000000301*240117*1630*R*023~"), "{ack}");
    assert!(!ack.contains("GS*"), "{ack}");
}

/// A partner that says nothing about TA1s gets one when its interchange
/// asks (ISA14 = 1); `ta1 = "never"` and `ta1 = "always"` override that.
#[test]
fn a_partner_gets_a_ta1_when_its_interchange_asks_for_one() {
    let asn = std::fs::read_to_string(root().join("samples/x12/good/856-4010-pick-and-pack.edi"))
        .expect("sample");
    let requested = asn.replace("*000000301*0*P*", "*000000301*1*P*");
    assert_ne!(asn, requested);
    for (setting, ta1) in [
        ("", true),
        ("ta1 = \"never\"\n", false),
        ("ta1 = \"when-requested\"\n", true),
    ] {
        let s = Setup::new("relay", "");
        let acme = s.path().join("partners/acme.toml");
        let with = std::fs::read_to_string(&acme)
            .expect("acme")
            .replace("[[inbound]]", &format!("{setting}\n[[inbound]]"));
        std::fs::write(&acme, with).expect("acme");
        std::fs::write(s.path().join("drop/asn.edi"), &requested).expect("dropped");
        let mut g = s.gateway();
        let report = g.pass().expect("a pass");
        assert_eq!(
            report.files[0].state,
            FileState::Processed,
            "{:?}",
            report.files
        );
        let ack = std::fs::read_to_string(s.path().join("out/acme/acme-997-000000001.edi"))
            .expect("a 997");
        assert!(ack.contains("AK9*A*1*1*1"), "{setting}: {ack}");
        assert_eq!(
            ack.contains("TA1*000000301*240117*1630*A*000"),
            ta1,
            "{setting}: {ack}"
        );
    }
    // The old spelling still reads: true is always.
    let s = Setup::new("relay", "");
    let acme = s.path().join("partners/acme.toml");
    let with = std::fs::read_to_string(&acme)
        .expect("acme")
        .replace("[[inbound]]", "ta1 = true\n\n[[inbound]]");
    std::fs::write(&acme, with).expect("acme");
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    let mut g = s.gateway();
    g.pass().expect("a pass");
    let ack =
        std::fs::read_to_string(s.path().join("out/acme/acme-997-000000001.edi")).expect("a 997");
    assert!(ack.contains("TA1*000000301*240117*1630*A*000"), "{ack}");
}

/// A partner's TA1 rejecting one of our interchanges is not taken as
/// "processed, 0 documents": it is relayed as an interchange_ack with the
/// interchange it rejects and why, and it is not answered.
#[test]
fn a_received_ta1_is_relayed_as_an_interchange_ack() {
    let s = Setup::new("relay", "");
    s.drop_sample("samples/x12/good/ta1-4010-rejecting.edi", "ta1.edi");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Processed, "{f:?}");
    assert_eq!(f.documents, 1, "{f:?}");
    let relayed =
        std::fs::read_to_string(s.path().join("relay/000001-ta1.edi.jsonl")).expect("relayed");
    let doc: serde_json::Value = serde_json::from_str(relayed.trim()).expect("one document");
    assert_eq!(doc["type"], "interchange_ack", "{doc}");
    assert_eq!(doc["interchange_control_number"], "000000101", "{doc}");
    assert_eq!(doc["status"], "rejected", "{doc}");
    assert_eq!(doc["note_code"], "024", "{doc}");
    assert!(
        std::fs::read_dir(s.path().join("out/acme"))
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "a TA1 is not acknowledged"
    );
}

#[test]
fn a_rejected_set_streamed_in_part_is_left_out_of_what_is_relayed() {
    let s = Setup::new("relay", "");
    // Two inventory reports; the second's last item has a unit code that
    // is too long, found after its items were written out.
    let set = |n: u32, unit: &str| {
        format!(
            "ST*846*000{n}~\nBIA*00*MM*INV-{n}*20240115~\nLIN*1*VN*SKU-100~\nQTY*33*150*EA~\nLIN*2*VN*SKU-200~\nQTY*33*7*{unit}~\nCTT*2~\nSE*8*000{n}~\n"
        )
    };
    let x12 = format!(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240115*0600*U*00401*000000502*0*P*>~\nGS*IB*VENDORID*RETAILERID*20240115*0600*502*X*004010~\n{}{}GE*2*502~\nIEA*1*000000502~\n",
        set(1, "EA"),
        set(2, "EACHES")
    );
    std::fs::write(s.path().join("drop/stock.edi"), x12).expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Processed, "{f:?}");
    assert_eq!(f.documents, 1, "{f:?}");
    let relayed =
        std::fs::read_to_string(s.path().join("relay/000001-stock.edi.jsonl")).expect("relayed");
    assert_eq!(relayed.lines().count(), 1, "{relayed}");
    let doc: serde_json::Value = serde_json::from_str(relayed.trim()).expect("one whole document");
    assert_eq!(doc["report_id"], "INV-1", "{doc}");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(2), "{doc}");
}

#[test]
fn sighup_reloads_the_partners_and_a_bad_configuration_is_not_taken() {
    let s = Setup::new("relay", "");
    let nordlys = s.path().join("partners/nordlys.toml");
    let partner = std::fs::read_to_string(&nordlys).expect("nordlys.toml");
    std::fs::remove_file(&nordlys).expect("Nordlys is not a partner yet");
    let config = s.config();
    let config = config.to_string_lossy();
    let log = s.path().join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "--log-format", "json", "-c", &config])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("daemon starts");
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();
    let pid = child.id().to_string();
    let signal = |name: &str| {
        let sent = Command::new("kill")
            .args([name, &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    };
    let feed = "mappings/partners/nordlys/inventory/stock-20240314.csv";
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "never {what}: {}", logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let states = || text(&dropgate(&["files", "-c", &config]).stdout);
    s.drop_sample(feed, "stock-1.csv");
    wait_for("quarantined", &|| states().contains("quarantined"));

    // A partner file with a problem: not taken, the daemon goes on.
    std::fs::write(
        s.path().join("partners/broken.toml"),
        "[[inbound]]\nchannel = \"dorp\"\n",
    )
    .expect("broken partner");
    signal("-HUP");
    wait_for("refused", &|| logs().contains("configuration not reloaded"));
    assert!(logs().contains("broken.toml"), "{}", logs());
    std::fs::remove_file(s.path().join("partners/broken.toml")).expect("removed");

    // Nordlys becomes a partner: its next feed is processed.
    std::fs::write(&nordlys, partner).expect("nordlys.toml");
    signal("-HUP");
    wait_for("reloaded", &|| {
        logs().contains("configuration and mappings reloaded")
    });
    let mut bytes = std::fs::read(root().join(feed)).expect("feed");
    bytes.extend_from_slice(b"\n");
    std::fs::write(s.path().join("drop/stock-2.csv"), bytes).expect("dropped");
    wait_for("relayed", &|| !s.names("relay").is_empty());
    assert_eq!(s.names("relay"), ["000002-stock-2.csv.jsonl"]);

    signal("-TERM");
    let out = child.wait_with_output().expect("daemon exits");
    assert_eq!(out.status.code(), Some(0), "{}", logs());
}

#[test]
fn text_logs_are_plain_off_a_terminal_and_skipped_entries_are_said_once() {
    let s = Setup::new("relay", "");
    let outside = s.path().join("outside.edi");
    std::fs::write(&outside, b"not for the gateway").expect("outside");
    std::os::unix::fs::symlink(&outside, s.path().join("drop/link.edi")).expect("symlink");
    std::fs::create_dir(s.path().join("drop/sub")).expect("folder");
    let config = s.config();
    let log = s.path().join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &config.to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("daemon starts");
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();
    s.drop_sample("samples/x12/good/846-5010.edi", "late.edi");
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.names("relay").is_empty() {
        assert!(Instant::now() < deadline, "never relayed: {}", logs());
        std::thread::sleep(Duration::from_millis(50));
    }
    // A few more passes.
    std::thread::sleep(Duration::from_millis(2500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut child = child;
    child.wait().expect("daemon exits");
    let logs = logs();
    assert!(logs.contains("file processed"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in a log file: {logs:?}"
    );
    // The link and the folder are not taken, and each is said once with
    // its reason, not at every pass.
    let said = |what: &str| logs.lines().filter(|l| l.contains(what)).count();
    assert_eq!(said("name=link.edi"), 1, "{logs}");
    assert!(
        logs.contains("a symbolic link: only plain files are taken"),
        "{logs}"
    );
    assert_eq!(said("name=sub"), 1, "{logs}");
    assert!(
        s.path().join("drop/link.edi").is_symlink(),
        "left where it is"
    );
}

#[test]
fn empty_and_unreadable_files_are_named_for_what_they_are() {
    let s = Setup::new("relay", "");
    let drop = s.path().join("drop");
    std::fs::write(drop.join("stock-empty.csv"), b"").expect("empty");
    std::fs::write(drop.join("stock-blank.csv"), b"\r\n\r\n").expect("blank");
    std::fs::write(
        drop.join("stock-invoice.csv"),
        b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj",
    )
    .expect("pdf");
    std::fs::write(
        drop.join("stock-photo.csv"),
        b"\xFF\xD8\xFF\xE0\0\x10JFIF\0",
    )
    .expect("jpeg");
    std::fs::write(drop.join("stock-blob.csv"), b"\x01\x02\x03\0\x04binary").expect("binary");
    std::fs::write(drop.join("empty.edi"), b"").expect("empty X12");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let mut seen: Vec<(String, FileState, Option<String>, String)> = report
        .files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.state,
                f.partner.clone(),
                f.detail.clone().unwrap_or_default(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let reason = |name: &str| {
        seen.iter()
            .find(|f| f.0 == name)
            .map(|f| (f.1, f.2.clone(), f.3.clone()))
            .unwrap_or_else(|| panic!("no {name} in {seen:?}"))
    };
    for name in ["stock-empty.csv", "stock-blank.csv"] {
        let (state, partner, why) = reason(name);
        assert_eq!(state, FileState::Quarantined);
        // The partner is known from the name's pattern, and the reason is
        // the emptiness, not a missing mapping or column.
        assert_eq!(partner.as_deref(), Some("nordlys"));
        assert!(why.starts_with("an empty file"), "{why}");
        assert!(why.contains("usually a failed upload"), "{why}");
    }
    // A PDF is read as one (PDF invoices), and this one is cut short.
    let (_, _, why) = reason("stock-invoice.csv");
    assert!(
        why.starts_with("a PDF document that cannot be read: "),
        "{why}"
    );
    let (_, _, why) = reason("stock-photo.csv");
    assert!(why.starts_with("a JPEG image"), "{why}");
    let (_, _, why) = reason("stock-blob.csv");
    assert!(why.starts_with("binary data, not text"), "{why}");
    // An empty file with an X12 name: no ISA to say who sent it, but what
    // it is comes first.
    let (state, partner, why) = reason("empty.edi");
    assert_eq!(
        (state, partner.as_deref()),
        (FileState::Quarantined, Some("acme"))
    );
    assert!(why.starts_with("an empty file"), "{why}");
    assert!(s.names("relay").is_empty(), "nothing relayed");

    // A channel whose partners send empty files on purpose ignores them;
    // an ignored file is nothing to be a duplicate of.
    let config = std::fs::read_to_string(s.config())
        .expect("config")
        .replace(
            "min_age_secs = 0\n",
            "min_age_secs = 0\nempty_files = \"ignore\"\n",
        );
    std::fs::write(s.config(), config).expect("config");
    std::fs::write(drop.join("stock-20240401.csv"), b"").expect("empty");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(
        (f.state, f.partner.as_deref()),
        (FileState::Ignored, Some("nordlys"))
    );
    assert!(
        f.detail
            .as_deref()
            .is_some_and(|d| d.contains("empty_files")),
        "{f:?}"
    );
    let files = text(&dropgate(&["files", "-c", &s.config().to_string_lossy()]).stdout);
    assert!(files.contains("ignored"), "{files}");
}

#[test]
fn duplicates_follow_the_rule_of_the_partner_or_channel() {
    let s = Setup::new("relay", "");
    let feed = "mappings/partners/nordlys/inventory/stock-20240314.csv";
    let config = s.config();
    let config = config.to_string_lossy();
    // By content (the default): the same snapshot under the next day's
    // name is a duplicate.
    s.drop_sample(feed, "stock-20240314.csv");
    s.gateway().pass().expect("a pass");
    s.drop_sample(feed, "stock-20240315.csv");
    let report = s.gateway().pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Duplicate);
    // `reprocess` says how to take it all the same, and --force does.
    let refused = dropgate(&["reprocess", "-c", &config, "2"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("file 2 is a duplicate of file 1: add --force"),
        "{}",
        text(&refused.stderr)
    );
    let forced = dropgate(&["reprocess", "--force", "-c", &config, "2"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert!(
        text(&forced.stdout).contains("processed"),
        "{}",
        text(&forced.stdout)
    );
    assert_eq!(s.names("relay").len(), 2, "relayed again");

    // By name and content, for this partner: a new name each day is a new
    // file; the same name and bytes again is a duplicate.
    let nordlys = s.path().join("partners/nordlys.toml");
    let partner = std::fs::read_to_string(&nordlys).expect("partner");
    std::fs::write(
        &nordlys,
        partner.replace(
            "mapping = \"partners/nordlys/inventory\"",
            "mapping = \"partners/nordlys/inventory\"\nduplicates = \"name-and-content\"",
        ),
    )
    .expect("partner");
    s.drop_sample(feed, "stock-20240316.csv");
    let report = s.gateway().pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Processed);
    s.drop_sample(feed, "stock-20240316.csv");
    let report = s.gateway().pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Duplicate);

    // Never, for the channel: every file is processed.
    std::fs::write(&nordlys, &partner).expect("partner");
    let gateway = std::fs::read_to_string(s.config())
        .expect("config")
        .replace(
            "min_age_secs = 0\n",
            "min_age_secs = 0\nduplicates = \"never\"\n",
        );
    std::fs::write(s.config(), gateway).expect("config");
    s.drop_sample(feed, "stock-20240316.csv");
    let report = s.gateway().pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Processed);
    assert_eq!(s.names("relay").len(), 4);
}

#[test]
fn a_file_is_taken_only_once_its_writer_is_done() {
    let s = Setup::new("relay", "");
    let config = std::fs::read_to_string(s.config())
        .expect("config")
        .replace("min_age_secs = 0\n", "min_age_secs = 2\n");
    std::fs::write(s.config(), config).expect("config");
    let feed = std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
        .expect("feed");
    let half = feed.len() / 2;
    let path = s.path().join("drop/stock-20240314.csv");
    std::fs::write(&path, &feed[..half]).expect("first half");
    // The writer pauses, then writes the rest while the pass watches.
    let writer = {
        let (path, rest) = (path.clone(), feed[half..].to_vec());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1200));
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("open");
            std::io::Write::write_all(&mut f, &rest).expect("rest");
        })
    };
    let mut g = s.gateway();
    let first = g.pass().expect("a pass");
    writer.join().expect("writer");
    assert!(
        first.files.is_empty(),
        "taken while it was being written: {:?}",
        first.files
    );
    // Unchanged for two seconds since: taken whole.
    let second = g.pass().expect("a pass");
    assert_eq!(second.files.len(), 1, "{second:?}");
    assert_eq!(second.files[0].state, FileState::Processed, "{second:?}");
    let relayed = std::fs::read_to_string(s.path().join("relay").join(&s.names("relay")[0]))
        .expect("relayed");
    let doc: serde_json::Value = serde_json::from_str(relayed.trim()).expect("document");
    let whole = text(
        &dropgate(&[
            "translate",
            "--mapping",
            "partners/nordlys/inventory",
            &root()
                .join("mappings/partners/nordlys/inventory/stock-20240314.csv")
                .to_string_lossy(),
        ])
        .stdout,
    );
    let expected: serde_json::Value = serde_json::from_str(&whole).expect("translated");
    assert_eq!(doc["items"], expected[0]["items"], "the whole feed");
}

#[test]
fn a_partner_with_a_ready_marker_has_its_file_taken_with_the_marker() {
    let s = Setup::new("relay", "");
    let config = std::fs::read_to_string(s.config())
        .expect("config")
        .replace("min_age_secs = 0\n", "min_age_secs = 3600\n");
    std::fs::write(s.config(), config).expect("config");
    let nordlys = s.path().join("partners/nordlys.toml");
    let partner = std::fs::read_to_string(&nordlys).expect("partner");
    std::fs::write(
        &nordlys,
        format!("{partner}ready_marker = \"{{stem}}.ok\"\n"),
    )
    .expect("partner");
    s.drop_sample(
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    let mut g = s.gateway();
    assert!(g.pass().expect("a pass").files.is_empty(), "no marker yet");
    std::fs::write(s.path().join("drop/stock-20240314.ok"), b"").expect("marker");
    let report = g.pass().expect("a pass");
    // Taken at once (the hour of minimum age does not apply: the partner
    // said the file is complete); the marker itself is not a file.
    assert_eq!(report.files.len(), 1, "{report:?}");
    assert_eq!(report.files[0].name, "stock-20240314.csv");
    assert_eq!(report.files[0].state, FileState::Processed);
    assert!(s.names("drop").is_empty(), "the marker went with it");
    assert_eq!(s.names("drop/processed"), ["stock-20240314.csv"]);
}

#[test]
fn files_and_status_line_up_and_say_whole_reasons() {
    let s = Setup::new("relay", "");
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    s.drop_sample("samples/x12/bad/810-4010-bad-date.edi", "invoice.edi");
    std::fs::remove_dir_all(s.path().join("out")).ok();
    let config = s.config();
    let config = config.to_string_lossy();
    // A channel that cannot be reached (an SFTP server on a closed port):
    // its error is said once, not "channel: channel ...".
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let broken = std::fs::read_to_string(s.config()).expect("config").replace(
        "[channel.acme-out]",
        &format!(
            "[channel.gone]\ntype = \"sftp\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"x\"\npassword_file = \"pw\"\nhost_key_fingerprint = \"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\"\npath = \"in\"\n\n[channel.acme-out]"
        ),
    );
    std::fs::write(s.config(), broken).expect("config");
    std::fs::write(s.path().join("pw"), "a password\n").expect("password");
    let acme = s.path().join("partners/acme.toml");
    let partner = std::fs::read_to_string(&acme).expect("acme");
    std::fs::write(
        &acme,
        partner.replace(
            "patterns = [\"*.edi\", \"*.x12\"]",
            "patterns = [\"*.edi\", \"*.x12\"]\n\n[[inbound]]\nchannel = \"gone\"",
        ),
    )
    .expect("acme");
    let run = dropgate(&["run", "--once", "-c", &config]);
    let out = text(&run.stdout);
    assert!(!out.contains("channel: channel"), "{out}");
    assert!(out.contains("        channel gone: "), "{out}");
    let files = text(&dropgate(&["files", "-c", &config]).stdout);
    // The state column is padded: the channel column starts at the same
    // place on every line.
    let starts: Vec<usize> = files
        .lines()
        .filter(|l| l.contains(" drop "))
        .map(|l| l.find(" drop ").unwrap_or(0))
        .collect();
    assert_eq!(starts.len(), 2, "{files}");
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{files}");
    // status gives the reason whole, not its first line.
    let status = text(&dropgate(&["status", "-c", &config]).stdout);
    let shown = dropgate(&["show", "-c", &config, "2"]);
    let shown = text(&shown.stdout);
    assert!(status.contains("invoice.edi"), "{status}");
    assert!(
        status.contains("20241317"),
        "the error and its value: {status}\n{shown}"
    );
}

/// A vendor renames a column that a required rule reads (Nordlys's stock):
/// the feed is quarantined with the rule, the field and the header's
/// columns, and nothing is relayed.
#[test]
fn a_feed_missing_a_required_column_is_quarantined() {
    let s = Setup::new("relay", "");
    let mut bytes =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("sample");
    let at = bytes
        .windows(9)
        .position(|w| w == b";Bestand;")
        .expect("the sample has a Bestand column");
    bytes.splice(at..at + 9, b";Lagerbestand;".iter().copied());
    std::fs::write(s.path().join("drop/stock-20240314.csv"), bytes).expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Quarantined, "{f:?}");
    let detail = f.detail.clone().unwrap_or_default();
    assert!(
        detail.contains("the header: items[].quantity_available: is required, and the header has no column \"bestand\"")
            && detail.contains("partners/nordlys/inventory.toml:"),
        "{detail}"
    );
    assert!(s.names("relay").is_empty());
}

/// A full-catalogue 846 (past the standard's 10,000 LIN loops, its JSON
/// past the 4 MB a set's document is held in memory until its verdict) is
/// accepted with a note, held in the data folder (in an unnamed file: none
/// is left there) and relayed whole.
#[test]
fn a_full_catalogue_846_is_held_until_its_verdict_and_relayed_whole() {
    let s = Setup::new("relay", "");
    let loops = 40_000;
    let mut body = String::from("ST*846*0001~\nBIA*00*SI*CAT-1*20240115~\n");
    for i in 1..=loops {
        body.push_str(&format!(
            "LIN*{i}*VN*SKU-{i}*UP*0{i:011}~\nPID*F****Catalogue item {i}~\nQTY*33*{i}*EA~\n"
        ));
    }
    let segments = body.matches('~').count() + 1;
    body.push_str(&format!("SE*{segments}*0001~\n"));
    let x12 = format!(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240115*0600*U*00401*000000503*0*P*>~\nGS*IB*VENDORID*RETAILERID*20240115*0600*503*X*004010~\n{body}GE*1*503~\nIEA*1*000000503~\n"
    );
    std::fs::write(s.path().join("drop/catalog.edi"), x12).expect("dropped");
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let f = &report.files[0];
    assert_eq!(f.state, FileState::Processed, "{f:?}");
    assert!(
        f.detail
            .as_deref()
            .unwrap_or("")
            .contains("loop LIN occurs more than its maximum of 10000 times"),
        "{f:?}"
    );
    let relayed =
        std::fs::read_to_string(s.path().join("relay/000001-catalog.edi.jsonl")).expect("relayed");
    let doc: serde_json::Value = serde_json::from_str(relayed.trim()).expect("one document");
    let items = doc["items"].as_array().expect("items");
    assert_eq!(items.len(), loops);
    assert_eq!(items[loops - 1]["sku"], format!("SKU-{loops}"));
    let files = support::cli::names(&s.path().join("var"));
    assert!(
        files.iter().all(|n| n.starts_with("state.db")),
        "only the store's own files are in the data folder: {files:?}"
    );
}

#[test]
fn copies_in_one_pass_are_duplicates_and_a_partner_never_gets_an_isa13_twice() {
    for workers in [1, 3] {
        let s = Setup::new("relay", &format!("max_concurrent_files = {workers}"));
        for name in ["a.edi", "b.edi", "c.edi"] {
            s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", name);
        }
        let mut g = s.gateway();
        let report = g.pass().expect("a pass");
        let states: Vec<FileState> = report.files.iter().map(|f| f.state).collect();
        assert_eq!(
            states,
            [
                FileState::Processed,
                FileState::Duplicate,
                FileState::Duplicate
            ],
            "{workers} worker(s): {report:?}"
        );
        assert_eq!(s.names("relay").len(), 1, "relayed once");
        assert_eq!(s.names("out/acme").len(), 1, "acknowledged once");
        // An order to the same partner: a new ISA13, not the 997's.
        let mut config = std::fs::read_to_string(s.config()).expect("config");
        config.push_str("\n[x12]\ninterchange_id = \"ZZ:RETAILERID\"\n");
        std::fs::write(s.config(), config).expect("config");
        let po = root().join("mappings/partners/nordlys/po/po-123456.json");
        let sent = dropgate(&[
            "send-po",
            "-c",
            &s.config().to_string_lossy(),
            "--partner",
            "acme",
            &po.to_string_lossy(),
        ]);
        assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
        let mut isa13s = Vec::new();
        let mut gs06s = Vec::new();
        for name in s.names("out/acme") {
            let body =
                std::fs::read_to_string(s.path().join("out/acme").join(&name)).expect("file");
            let isa = body.split('~').next().unwrap_or("").to_string();
            isa13s.push(isa.split('*').nth(13).unwrap_or("").to_string());
            let gs = body
                .split('~')
                .map(str::trim)
                .find(|seg| seg.starts_with("GS*"))
                .unwrap_or("")
                .to_string();
            gs06s.push(gs.split('*').nth(6).unwrap_or("").to_string());
        }
        assert_eq!(isa13s.len(), 2, "{isa13s:?}");
        assert_ne!(isa13s[0], isa13s[1], "ISA13 used twice: {isa13s:?}");
        assert_ne!(gs06s[0], gs06s[1], "GS06 used twice: {gs06s:?}");
    }
}

#[test]
fn listing_commands_end_quietly_when_their_reader_goes_away() {
    let s = Setup::new("relay", "");
    // More than a pipe holds (64 KB): the listing is still being written
    // when `head` has gone.
    for i in 0..500 {
        std::fs::write(s.path().join(format!("drop/empty-{i:03}.edi")), b"").expect("dropped");
    }
    s.gateway().pass().expect("a pass");
    let config = s.config();
    for command in ["files --limit 1000", "status"] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "\"{}\" {command} -c \"{}\" | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}",
                env!("CARGO_BIN_EXE_dropgate"),
                config.display()
            ))
            .output()
            .expect("bash runs");
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "{command}: {err}");
        assert_eq!(out.status.code(), Some(0), "{command}: {err}");
    }
}

#[test]
fn a_file_processed_again_takes_no_control_number() {
    let s = Setup::new("relay", "");
    s.drop_sample("samples/x12/bad/810-4010-bad-date.edi", "invoice.edi");
    let mut g = s.gateway();
    g.pass().expect("a pass");
    // Processed again (the mapping unchanged): quarantined again, and the
    // partner, answered already, is not answered again.
    let again = g.reprocess(1, false).expect("reprocessed");
    assert_eq!(again.state, FileState::Quarantined);
    s.drop_sample("samples/x12/good/846-5010.edi", "stock.edi");
    g.pass().expect("a pass");
    let mut isa13s: Vec<String> = s
        .names("out/acme")
        .iter()
        .map(|n| {
            let body = std::fs::read_to_string(s.path().join("out/acme").join(n)).expect("ack");
            body.split('*').nth(13).unwrap_or("").to_string()
        })
        .collect();
    isa13s.sort();
    assert_eq!(isa13s, ["000000001", "000000002"], "no number skipped");
}

#[test]
fn check_config_finds_logins_that_cannot_work_and_the_gateway_knows_its_own_files() {
    let s = Setup::new(
        "relay",
        "\n[x12]\ninterchange_id = \"ZZ:RETAILERID\"\n\n[channel.bolt]\ntype = \"sftp\"\nhost = \"127.0.0.1\"\nuser = \"retailer\"\nprivate_key = \"keys/missing_ed25519\"\nhost_key_fingerprint = \"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\"\npath = \"out\"\n\n[channel.mail]\ntype = \"imap\"\nhost = \"127.0.0.1\"\nuser = \"edi\"\npassword_env = \"DROPGATE_TEST_UNSET_MAIL_PASSWORD\"\n",
    );
    let config = s.config();
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("channel bolt: private_key ")
            && err.contains("keys/missing_ed25519: No such file"),
        "{err}"
    );
    assert!(
        err.contains("channel mail: the environment variable DROPGATE_TEST_UNSET_MAIL_PASSWORD (password_env) is not set"),
        "{err}"
    );

    // A file the gateway itself sent (its own interchange ID as sender)
    // that came back: said so, not "add it to the partner's [x12]".
    let s = Setup::new("relay", "\n[x12]\ninterchange_id = \"ZZ:RETAILERID\"\n");
    s.drop_sample("samples/x12/good/997-4010-accepting.edi", "ours.edi");
    let report = s.gateway().pass().expect("a pass");
    let why = report.files[0].detail.clone().unwrap_or_default();
    assert!(why.contains("this gateway's own interchange_id"), "{why}");
    assert!(!why.contains("add it to the partner"), "{why}");
}

#[test]
fn a_second_gateway_on_the_same_data_directory_is_refused_until_the_first_is_gone() {
    let s = Setup::new("relay", "");
    let config = s.config();
    let mut first = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &config.to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("daemon starts");
    let lock = s.path().join("var/gateway.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("process")) {
        assert!(
            Instant::now() < deadline,
            "the daemon never took its data directory"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A second daemon, or one pass, on the same configuration: refused,
    // naming the process that holds it.
    for args in [vec!["run", "--once"], vec!["run"]] {
        let mut all = args.clone();
        let config = config.to_string_lossy();
        all.extend(["-c", &config]);
        let second = dropgate(&all);
        let err = text(&second.stderr);
        assert_eq!(second.status.code(), Some(2), "{err}");
        assert!(err.contains("is in use by another gateway"), "{err}");
        assert!(err.contains(&format!("process {}", first.id())), "{err}");
    }
    // Reading commands share the store with the running daemon.
    let files = dropgate(&["files", "-c", &config.to_string_lossy()]);
    assert_eq!(files.status.code(), Some(0), "{}", text(&files.stderr));
    // Killed, the first lets go at once (the kernel's lock goes with it).
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    let after = dropgate(&["run", "--once", "-c", &config.to_string_lossy()]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after.stderr));
}

#[test]
fn remittances_go_out_as_820s_once_per_trace_number() {
    let s = Setup::new("relay", "\n[x12]\ninterchange_id = \"ZZ:RETAILERID\"\n");
    let config = s.config();
    let config = config.to_string_lossy();
    let sample = root().join("mappings/outbound/x12-820/ach-remittance.json");
    let sample = sample.to_string_lossy();
    // A purchase order and a remittance in one go: each by its own
    // mapping, numbered from Acme's one sequence.
    let mut both: Vec<serde_json::Value> = vec![
        serde_json::from_str(
            &std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
                .expect("PO"),
        )
        .expect("JSON"),
        serde_json::from_str(&std::fs::read_to_string(sample.as_ref()).expect("remittance"))
            .expect("JSON"),
    ];
    let file = s.path().join("both.json");
    std::fs::write(&file, serde_json::Value::from(both.clone()).to_string()).expect("written");
    let out = dropgate(&[
        "send",
        "-c",
        &config,
        "--partner",
        "acme",
        &file.to_string_lossy(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        s.names("out/acme"),
        [
            "acme-po-PO123456-000000001.edi",
            "acme-remittance-ACH-20261210-0042-000000002.edi"
        ]
    );
    let edi = std::fs::read_to_string(
        s.path()
            .join("out/acme/acme-remittance-ACH-20261210-0042-000000002.edi"),
    )
    .expect("820");
    assert!(edi.contains("GS*RA*RETAILERID*VENDORID*"), "{edi}");
    assert!(edi.contains("ST*820*0001~"), "{edi}");
    assert!(
        edi.contains("BPR*C*1410.50*C*ACH*CCP*01*021000021*DA*4401987654***01*071000013*SG*88123456*20261210~"),
        "{edi}"
    );
    assert!(edi.contains("RMR*IV*INV-1002**430.50*475.50~"), "{edi}");
    assert!(edi.contains("ADX*-45.00*04~"), "{edi}");
    // dropgate's own validator takes it (a 997 of it accepts it).
    let ack = dropgate(&[
        "ack",
        &s.path()
            .join("out/acme/acme-remittance-ACH-20261210-0042-000000002.edi")
            .to_string_lossy(),
    ]);
    assert!(
        text(&ack.stdout).contains("AK9*A*1*1*1"),
        "{}",
        text(&ack.stdout)
    );

    // The same remittance again: not sent again.
    let out = dropgate(&["send", "-c", &config, "--partner", "acme", &sample]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(
            "ACH-20261210-0042: sent before, as acme-remittance-ACH-20261210-0042-000000002.edi"
        ),
        "{}",
        text(&out.stdout)
    );
    // Another payment under the same trace number: refused.
    both[1]["invoices"][0]["amount_paid"] = "990.00".into();
    both[1]["amount"] = "1420.50".into();
    std::fs::write(&file, both[1].to_string()).expect("written");
    let out = dropgate(&[
        "send",
        "-c",
        &config,
        "--partner",
        "acme",
        &file.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("remittance ACH-20261210-0042 was sent to acme before"),
        "{}",
        text(&out.stderr)
    );
    // An amount that is not what the invoices are paid: refused, nothing sent.
    both[1]["trace_number"] = "ACH-2".into();
    both[1]["amount"] = "1.00".into();
    std::fs::write(&file, both[1].to_string()).expect("written");
    let out = dropgate(&[
        "send",
        "-c",
        &config,
        "--partner",
        "acme",
        &file.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains(
            "remittance ACH-2: its amount 1.00 is not the sum of what it pays on its invoices (1420.50)"
        ),
        "{}",
        text(&out.stderr)
    );
    // send-po takes purchase orders only.
    let out = dropgate(&["send-po", "-c", &config, "--partner", "acme", &sample]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a remittance is not a purchase order"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.names("out/acme").len(), 2);
}

#[test]
fn changes_go_as_860s_to_a_partner_that_asks_and_returns_as_180s() {
    let s = Setup::new("relay", "\n[x12]\ninterchange_id = \"ZZ:RETAILERID\"\n");
    let acme = s.path().join("partners/acme.toml");
    let partner = std::fs::read_to_string(&acme).expect("partner").replace(
        "[outbound]\nchannel = \"acme-out\"",
        "[outbound]\nchannel = \"acme-out\"\nchanges = \"860\"",
    );
    assert!(partner.contains("changes = \"860\""));
    std::fs::write(&acme, partner).expect("partner");
    let config = s.config();
    let config = config.to_string_lossy();
    let po: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/partners/nordlys/po/po-123456.json"))
            .expect("PO"),
    )
    .expect("JSON");
    let send = |doc: &serde_json::Value| {
        let file = s.path().join("doc.json");
        std::fs::write(&file, doc.to_string()).expect("written");
        dropgate(&[
            "send",
            "-c",
            &config,
            "--partner",
            "acme",
            &file.to_string_lossy(),
        ])
    };
    // A change before the order was sent: refused.
    let mut change = po.clone();
    change["purpose"] = "change".into();
    let out = send(&change);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("purchase order PO123456 was never sent to acme"),
        "{}",
        text(&out.stderr)
    );
    // The order (an 850), then its change: an 860 of what changed.
    let out = send(&po);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Line 1: 2 ordered, 5 now.
    change["lines"][0]["quantity"] = serde_json::json!(5);
    let out = send(&change);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names = s.names("out/acme");
    assert_eq!(
        names,
        [
            "acme-po-PO123456-000000001.edi",
            "acme-po-change-PO123456-000000002.edi"
        ]
    );
    let edi = std::fs::read_to_string(s.path().join("out/acme").join(&names[1])).expect("860");
    assert!(edi.contains("GS*PC*RETAILERID*VENDORID*"), "{edi}");
    assert!(edi.contains("ST*860*"), "{edi}");
    assert!(edi.contains("BCH*04*"), "{edi}");
    assert!(
        edi.contains("POC*1*QI*"),
        "a quantity increase of line 1: {edi}"
    );
    // The same change again: not sent again; a cancellation: BCH*01.
    let out = send(&change);
    assert!(
        text(&out.stdout).contains("sent before"),
        "{}",
        text(&out.stdout)
    );
    let mut cancel = po.clone();
    cancel["purpose"] = "cancel".into();
    let out = send(&cancel);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names = s.names("out/acme");
    assert_eq!(names.len(), 3, "{names:?}");
    let edi = std::fs::read_to_string(s.path().join("out/acme").join(&names[2])).expect("860");
    assert!(edi.contains("BCH*01*"), "{edi}");
    // The order's timeline has the order, its change and its cancellation.
    let order = dropgate(&["orders", "PO123456", "-c", &config, "--partner", "acme"]);
    assert!(
        text(&order.stdout).contains("cancelled"),
        "{}",
        text(&order.stdout)
    );

    // A return authorization goes as a 180, once per RMA number.
    let rma: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/outbound/x12-180/customer-return.json"))
            .expect("return"),
    )
    .expect("JSON");
    let out = send(&rma);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = send(&rma);
    assert!(
        text(&out.stdout).contains("sent before"),
        "{}",
        text(&out.stdout)
    );
    let names = s.names("out/acme");
    assert_eq!(names.len(), 4, "{names:?}");
    let edi = std::fs::read_to_string(
        s.path().join("out/acme").join(
            names
                .iter()
                .find(|n| n.contains("-return-"))
                .expect("the 180"),
        ),
    )
    .expect("180");
    assert!(edi.contains("ST*180*"), "{edi}");
}
