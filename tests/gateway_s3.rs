//! The gateway with its archive in an S3-compatible bucket (`[archive]
//! url = "s3://…"`), against a real S3-protocol server on 127.0.0.1
//! (s3s-fs, `support::s3`): files taken from a folder are in the bucket
//! under their hash, the document packs too, and nothing of them stays on
//! local disk; documents are read back by `show` and the relay; a large
//! file goes by a multipart upload and a quarantined one is reprocessed
//! from the bucket; with the bucket away (or the keys wrong) the pass
//! fails with the bucket named, the files stay on their channel and
//! nothing is recorded, and once it is back everything is taken once.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::store::{DocumentBody, FileState};
use support::cli::{dropgate, root, text};
use support::s3::{BUCKET, S3, SECRET_KEY};

/// A gateway folder: a drop, the sample partners, the file relay, and the
/// archive in the bucket under `gw/`.
struct Setup {
    dir: tempfile::TempDir,
}

/// The file relay into `relay/` of the gateway's folder.
const FILE_RELAY: &str = "[relay]\ntype = \"file\"\npath = \"relay\"\n";

impl Setup {
    fn new(s3: &S3, secret: &str, extra: &str) -> Setup {
        Setup::with_relay(s3, secret, extra, FILE_RELAY)
    }

    fn with_relay(s3: &S3, secret: &str, extra: &str, relay: &str) -> Setup {
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
        std::fs::write(p.join("s3.secret"), format!("{secret}\n")).expect("secret");
        let archive = format!(
            r#"
[archive]
url = "s3://{BUCKET}/gw"
endpoint = "{}"
allow_http = true
access_key_id = "{}"
secret_access_key_file = "s3.secret"
max_retries = 1
timeout_secs = 10
"#,
            s3.endpoint(),
            support::s3::ACCESS_KEY
        );
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

{relay}
{archive}"#
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

    fn drop_bytes(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path().join("drop").join(name), bytes).expect("dropped");
    }

    fn drop_sample(&self, sample: &str, name: &str) -> Vec<u8> {
        let bytes = std::fs::read(root().join(sample)).expect("sample");
        self.drop_bytes(name, &bytes);
        bytes
    }

    fn gateway(&self) -> Gateway {
        let config = config::load(&self.config()).expect("configuration loads");
        Gateway::open(config).expect("gateway opens")
    }

    fn names(&self, folder: &str) -> Vec<String> {
        support::cli::names(&self.path().join(folder))
    }

    /// The files of the data directory's `folder` (none: nothing kept
    /// locally).
    fn local(&self, folder: &str) -> Vec<String> {
        support::cli::names(&self.path().join("var").join(folder))
    }
}

fn sha256(bytes: &[u8]) -> String {
    dropgate::store::archive::sha256_hex(bytes)
}

#[test]
fn files_and_documents_are_kept_in_the_bucket_and_read_back_from_it() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, SECRET_KEY, "");
    let asn = s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    let stock = s.drop_sample(
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    let states: Vec<(String, FileState)> = report
        .files
        .iter()
        .map(|f| (f.name.clone(), f.state))
        .collect();
    assert_eq!(
        states,
        [
            ("asn.edi".to_string(), FileState::Processed),
            ("stock-20240314.csv".to_string(), FileState::Processed)
        ],
        "{report:?}"
    );
    assert!(s.names("drop").is_empty(), "taken off the channel");
    // Each file in the bucket under its hash, byte for byte, and the
    // store pointing there.
    for (id, bytes) in [(1, &asn), (2, &stock)] {
        let file = g.store().file(id).expect("store").expect("recorded");
        assert_eq!(file.sha256, sha256(bytes));
        assert_eq!(
            s3.object(&format!("gw/archive/{}", file.archive_path))
                .as_ref(),
            Some(bytes),
            "file {id} in the bucket"
        );
    }
    // The documents in packs in the bucket, named by their hash; nothing
    // of the archive or the packs stays on local disk.
    let packs = s3.keys("gw/documents");
    assert!(!packs.is_empty(), "{:?}", s3.keys(""));
    for key in &packs {
        let bytes = s3.object(key).expect("pack");
        assert_eq!(key, &format!("gw/documents/{}.jsonl", sha256(&bytes)));
    }
    let documents = g.store().documents(2).expect("documents");
    assert_eq!(documents.len(), 1);
    match &documents[0].body {
        DocumentBody::Packed(extent) => {
            assert!(
                packs.contains(&format!("gw/{}", extent.file)),
                "{extent:?} in {packs:?}"
            );
        }
        other => panic!("a packed document expected: {other:?}"),
    }
    assert!(s.local("archive").is_empty(), "{:?}", s.local("archive"));
    assert!(s.local("documents").is_empty());
    assert!(s.local("staging").is_empty(), "{:?}", s.local("staging"));
    // The relay read the documents from the bucket; `show` reads the same.
    assert_eq!(
        s.names("relay"),
        ["000001-asn.edi.jsonl", "000002-stock-20240314.csv.jsonl"]
    );
    let relayed = std::fs::read_to_string(s.path().join("relay/000002-stock-20240314.csv.jsonl"))
        .expect("relayed");
    assert!(relayed.contains("\"sku\":\"NL-100\""), "{relayed}");
    let config = s.config();
    let shown = dropgate(&["show", "2", "--documents", "-c", &config.to_string_lossy()]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert_eq!(text(&shown.stdout), relayed);
    let shown = text(&dropgate(&["show", "2", "-c", &config.to_string_lossy()]).stdout);
    assert!(
        shown.contains(&format!(
            "archived  s3://{BUCKET}/gw/archive/{}",
            sha256(&stock)
        )),
        "{shown}"
    );
    // The acknowledgment of the 856 went out from the pack in the bucket.
    assert_eq!(s.names("out/acme").len(), 1, "{:?}", s.names("out/acme"));
    // The same file again is a duplicate; the bucket keeps one copy.
    s.drop_bytes("asn-again.edi", &asn);
    let again = g.pass().expect("a pass");
    assert_eq!(again.files[0].state, FileState::Duplicate, "{again:?}");
    assert_eq!(
        s3.keys("gw/archive").len(),
        2,
        "{:?}",
        s3.keys("gw/archive")
    );
}

/// A CSV feed of about 12 MiB (two multipart parts), `rows` items.
fn large_feed() -> (Vec<u8>, usize) {
    let sample =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("sample");
    let mut lines = sample.split(|&b| b == b'\n');
    let mut out = Vec::new();
    for _ in 0..2 {
        out.extend_from_slice(lines.next().expect("title and header"));
        out.push(b'\n');
    }
    let mut rows = 0;
    while out.len() < 12 << 20 {
        writeln!(
            &mut out,
            "NL-{rows};4006381333931;Artikel {rows};1.250;Stk;12,50;Hamburg;28.03.2024;300"
        )
        .expect("written");
        rows += 1;
    }
    (out, rows)
}

use std::io::Write;

#[test]
fn a_large_file_goes_by_multipart_and_is_reprocessed_from_the_bucket() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, SECRET_KEY, "stream_over_mb = 1\nmappings = \"maps\"");
    let maps = s.path().join("maps/partners/nordlys");
    std::fs::create_dir_all(&maps).expect("mappings folder");
    let good = std::fs::read_to_string(root().join("mappings/partners/nordlys/inventory.toml"))
        .expect("mapping");
    // A mapping author's mistake: dates read as the wrong format.
    let broken = good.replace("date = \"DD.MM.YYYY\"", "date = \"MM/DD/YYYY\"");
    assert_ne!(good, broken);
    std::fs::write(maps.join("inventory.toml"), &broken).expect("mapping written");
    let (feed, rows) = large_feed();
    s.drop_bytes("stock-20240315.csv", &feed);
    let mut g = s.gateway();
    let report = g.pass().expect("a pass");
    assert_eq!(report.files[0].state, FileState::Quarantined, "{report:?}");
    let key = format!("gw/archive/{}", sha256(&feed));
    assert_eq!(s3.object(&key).map(|b| b.len()), Some(feed.len()));
    assert!(
        s3.object(&key) == Some(feed.clone()),
        "the bucket has the file"
    );
    // Uploaded in parts: a multipart object's ETag ends with its count.
    let etag = head_etag(&s3, &key);
    assert!(etag.trim_matches('"').ends_with("-2"), "ETag {etag}");
    assert!(s.local("archive").is_empty() && s.local("staging").is_empty());
    drop(g);

    // Fixed, the file is processed again from the bucket's copy.
    std::fs::write(maps.join("inventory.toml"), &good).expect("mapping fixed");
    let config = s.config();
    let fixed = dropgate(&["reprocess", "-c", &config.to_string_lossy(), "1"]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}{}",
        text(&fixed.stdout),
        text(&fixed.stderr)
    );
    let relayed = std::fs::read_to_string(s.path().join("relay/000001-stock-20240315.csv.jsonl"))
        .expect("relayed");
    let document: serde_json::Value =
        serde_json::from_str(relayed.trim_end()).expect("one document");
    assert_eq!(
        document["items"].as_array().map(Vec::len),
        Some(rows),
        "every row of the large file"
    );
    assert!(s.local("staging").is_empty(), "{:?}", s.local("staging"));
}

/// The ETag of an object, asked through the S3 API.
fn head_etag(s3: &S3, key: &str) -> String {
    use object_store::ObjectStoreExt;
    let client = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(s3.endpoint())
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name(BUCKET)
        .with_access_key_id(support::s3::ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .build()
        .expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let meta = runtime
        .block_on(client.head(&object_store::path::Path::from(key)))
        .expect("HEAD");
    meta.e_tag.expect("an ETag")
}

#[test]
fn with_the_bucket_away_nothing_is_recorded_and_once_back_everything_is_taken_once() {
    let Some(mut s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, SECRET_KEY, "");
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    s.drop_sample(
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    s3.stop();
    let mut g = s.gateway();
    let failed = g.pass().expect_err("the pass fails without the bucket");
    let message = failed.to_string();
    assert!(
        message.contains(&format!("s3://{BUCKET}/gw/archive/")) && message.contains("PUT"),
        "{message}"
    );
    assert_eq!(s.names("drop").len(), 2, "the files stay on their channel");
    assert!(g.store().recent_files(10).expect("store").is_empty());
    // Failing again changes nothing.
    assert!(g.pass().is_err());
    assert!(g.store().recent_files(10).expect("store").is_empty());

    s3.restart().expect("s3s-fs starts again");
    let report = g.pass().expect("a pass");
    assert_eq!(report.files.len(), 2, "{report:?}");
    assert!(report.files.iter().all(|f| f.state == FileState::Processed));
    assert!(s.names("drop").is_empty());
    let again = g.pass().expect("a pass");
    assert!(again.files.is_empty(), "{again:?}");
    assert_eq!(g.store().recent_files(10).expect("store").len(), 2);
    assert_eq!(
        s.names("relay"),
        ["000001-asn.edi.jsonl", "000002-stock-20240314.csv.jsonl"]
    );
}

#[test]
fn documents_are_stored_only_once_their_pack_is_in_the_bucket() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, SECRET_KEY, "");
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    // A file where the packs' folder would be: the bucket takes the
    // received file but fails to store any pack.
    let blocker = s3.root().join(BUCKET).join("gw/documents");
    std::fs::create_dir_all(blocker.parent().expect("parent")).expect("gw/");
    std::fs::write(&blocker, b"in the way").expect("blocker");
    let mut g = s.gateway();
    let failed = g.pass().expect_err("the pack cannot be stored");
    let message = failed.to_string();
    assert!(
        message.contains(&format!("s3://{BUCKET}/gw/documents/")),
        "{message}"
    );
    // Archived and recorded, but nothing points at documents that are
    // not in the bucket: the file waits, nothing is queued.
    assert!(s.names("drop").is_empty());
    let file = g.store().file(1).expect("store").expect("recorded");
    assert_eq!(file.state, FileState::Received);
    assert!(g.store().documents(1).expect("documents").is_empty());
    assert_eq!(g.store().pending_deliveries().expect("store"), 0);
    assert!(s.local("staging").is_empty(), "{:?}", s.local("staging"));

    std::fs::remove_file(&blocker).expect("blocker removed");
    let report = g.pass().expect("a pass");
    assert_eq!(report.files.len(), 1, "{report:?}");
    assert_eq!(report.files[0].state, FileState::Processed);
    assert_eq!(s.names("relay"), ["000001-asn.edi.jsonl"]);
    assert!(g.pass().expect("a pass").files.is_empty());
}

#[test]
fn wrong_keys_are_refused_with_the_bucket_named() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, "not-the-secret", "");
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    let config = s.config();
    let run = dropgate(&["run", "--once", "-c", &config.to_string_lossy()]);
    assert_ne!(run.status.code(), Some(0));
    let said = text(&run.stderr);
    assert!(
        said.contains(&format!("s3://{BUCKET}/gw/archive/"))
            && said.contains(&format!("the bucket {BUCKET} refused the credentials")),
        "{said}"
    );
    assert!(
        !said.contains("not-the-secret"),
        "the secret is never shown: {said}"
    );
    assert_eq!(s.names("drop"), ["asn.edi"]);
    let files = dropgate(&["files", "-c", &config.to_string_lossy()]);
    assert!(
        text(&files.stdout).starts_with("0 delivery"),
        "{}",
        text(&files.stdout)
    );
    let status = text(&dropgate(&["status", "-c", &config.to_string_lossy()]).stdout);
    assert!(
        status.contains(&format!("archive: s3://{BUCKET}/gw\n")),
        "{status}"
    );
}

#[test]
fn the_daemon_keeps_files_in_the_bucket() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, SECRET_KEY, "");
    let mut daemon = support::daemon::Daemon::start(&s.config());
    s.drop_sample("samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.names("relay") != ["000001-asn.edi.jsonl"] && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        s.names("relay"),
        ["000001-asn.edi.jsonl"],
        "{:?}",
        daemon.lines()
    );
    assert_eq!(s3.keys("gw/archive").len(), 1);
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30)).expect("it stops");
    assert!(status.success(), "{:?}", daemon.lines());
}

#[test]
fn the_webhook_relay_sends_documents_read_from_the_bucket() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let port = support::http::Receiver::free_port();
    let receiver = support::http::Receiver::start(port);
    let relay = format!(
        "[relay]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{port}/documents\"\nsecret_file = \"s3.secret\"\n"
    );
    let s = Setup::with_relay(&s3, SECRET_KEY, "", &relay);
    s.drop_sample(
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    // The daemon: its passes on blocking threads, the webhook relay on
    // the daemon's runtime, the archive's requests on its own.
    let mut daemon = support::daemon::Daemon::start(&s.config());
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.requests().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(daemon.wait_for_log(Duration::from_secs(30), |l| {
        l["fields"]["message"] == "deliveries made"
    }));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{:?}", daemon.lines());
    let pack = s3.keys("gw/documents");
    assert_eq!(pack.len(), 1, "{pack:?}");
    let stored = s3.object(&pack[0]).expect("pack");
    assert_eq!(
        requests[0].body,
        stored.strip_suffix(b"\n").unwrap_or(&stored),
        "the document as the bucket has it"
    );
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30)).expect("it stops");
    assert!(status.success(), "{:?}", daemon.lines());
}

#[test]
fn check_config_says_what_is_wrong_with_the_archive() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = dir.path().join("gateway.toml");
    for (table, says) in [
        (
            "url = \"s3://edi/gw\"\nendpoint = \"http://127.0.0.1:9\"\naccess_key_id = \"A\"\nsecret_access_key_env = \"DROPGATE_TEST_UNSET_SECRET\"",
            "plain HTTP",
        ),
        (
            "url = \"s3://edi/gw\"\naccess_key_id = \"A\"\nsecret_access_key_env = \"DROPGATE_TEST_UNSET_SECRET\"",
            "the environment variable DROPGATE_TEST_UNSET_SECRET (secret_access_key_env) is not set",
        ),
        (
            "url = \"s3://edi/gw\"\naccess_key_id = \"A\"\nsecret_access_key_file = \"missing.secret\"",
            "reading secret_access_key_file",
        ),
        ("url = \"/var/archive\"", "an S3 bucket"),
        ("bucket = \"edi\"", "unknown field"),
    ] {
        std::fs::write(&config, format!("[archive]\n{table}\n")).expect("written");
        let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
        assert_eq!(out.status.code(), Some(1), "{table}");
        let said = text(&out.stderr);
        assert!(said.contains(says), "{table}: {said}");
    }
    // Right, and an archive left on local disk: said, not refused.
    std::fs::create_dir_all(dir.path().join("partners")).expect("partners");
    std::fs::write(dir.path().join("s3.secret"), "secret\n").expect("secret");
    let table =
        "url = \"s3://edi/gw\"\naccess_key_id = \"A\"\nsecret_access_key_file = \"s3.secret\"";
    std::fs::write(&config, format!("[archive]\n{table}\n")).expect("written");
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::create_dir_all(dir.path().join("var/archive")).expect("archive");
    std::fs::write(dir.path().join("var/archive/abc"), "kept").expect("kept");
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("warning:") && said.contains("var/archive still hold(s) files"),
        "{said}"
    );
}

#[test]
fn a_killed_daemon_loses_nothing_and_relays_nothing_twice() {
    let Some(s3) = S3::start().expect("s3s-fs starts") else {
        return;
    };
    let s = Setup::new(&s3, SECRET_KEY, "");
    // Each copy gets its own first SKU, so that no two are duplicates.
    let template =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))
            .expect("sample");
    let at = template
        .windows(7)
        .position(|w| w == b"NL-100;")
        .expect("the sample's first SKU");
    let count = 150;
    for i in 0..count {
        let mut body = template[..at].to_vec();
        body.extend_from_slice(format!("NL-{i}-X;").as_bytes());
        body.extend_from_slice(&template[at + 7..]);
        s.drop_bytes(&format!("stock-20240314-{i:04}.csv"), &body);
    }
    let config = s.config();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &config.to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("daemon starts");
    // Killed once it has got going, in the middle of the work.
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
        "everything was taken before the kill ({taken}); nothing was tested"
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
    // A file recorded but not yet taken off its channel when the daemon
    // was killed is seen again: a duplicate, not processed twice.
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
    for f in &files {
        assert!(
            s3.object(&format!("gw/archive/{}", f.archive_path))
                .is_some(),
            "file {} in the bucket",
            f.id
        );
    }
    assert_eq!(g.store().pending_deliveries().expect("outbox"), 0);
    assert!(s.names("drop").is_empty());
    assert!(s.local("staging").is_empty(), "{:?}", s.local("staging"));
}
