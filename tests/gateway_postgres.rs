//! The gateway end to end on a PostgreSQL store (`[store] url`, the
//! password in a file): a local folder drop, files processed, quarantined,
//! found to be duplicates and relayed to a file relay by `dropgate run
//! --once`, and what happened read back by `dropgate files`, `show` and
//! `status` on the same configuration; the daemon reloaded on SIGHUP and
//! going on after the server is stopped and started again; and what
//! `check-config` says of a `[store]` table that cannot work.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::cli::{dropgate, names, root, text};
use support::daemon::Daemon;
use support::postgres::{PASSWORD, Postgres};

/// A gateway folder whose store is `store` (a `[store]` table's body).
fn setup(dir: &Path, store: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("drop")).expect("drop");
    std::fs::create_dir_all(dir.join("partners")).expect("partners");
    for name in ["acme.toml", "nordlys.toml"] {
        std::fs::copy(
            root().join("samples/partners").join(name),
            dir.join("partners").join(name),
        )
        .expect("partner copied");
    }
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[gateway]
data_dir = "var"

[store]
{store}

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
    config
}

fn drop_sample(dir: &Path, sample: &str, name: &str) {
    std::fs::copy(root().join(sample), dir.join("drop").join(name)).expect("dropped");
}

#[test]
fn the_gateway_runs_on_postgres_and_its_commands_read_the_same_store() {
    let Some(mut pg) = Postgres::start().expect("PostgreSQL starts") else {
        return;
    };
    let url = pg.database().expect("a database");
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    std::fs::write(d.join("db-password"), format!("{PASSWORD}\n")).expect("password file");
    let config = setup(
        d,
        &format!("url = \"{url}\"\npassword_file = \"db-password\""),
    );
    let config = config.to_string_lossy().into_owned();
    let out = dropgate(&["check-config", "-c", &config]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    drop_sample(d, "samples/x12/good/856-4010-pick-and-pack.edi", "asn.edi");
    drop_sample(
        d,
        "samples/x12/good/856-4010-pick-and-pack.edi",
        "asn-again.edi",
    );
    drop_sample(d, "samples/x12/bad/810-4010-bad-date.edi", "invoice.edi");
    drop_sample(
        d,
        "mappings/partners/nordlys/inventory/stock-20240314.csv",
        "stock-20240314.csv",
    );
    let out = dropgate(&["run", "--once", "-c", &config]);
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    // 1: a file was quarantined (the invoice), as on the embedded store.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{log}\nserver log:\n{}",
        pg.log()
    );
    assert!(
        !log.contains(PASSWORD),
        "the password is never logged: {log}"
    );
    assert!(names(&d.join("drop")).is_empty(), "every file taken");

    // The accepted files relayed, once each; the rejected one answered.
    let relayed = names(&d.join("relay"));
    assert_eq!(relayed.len(), 2, "{relayed:?}");
    // The two copies of the ship notice, taken in one pass: whichever
    // came first is relayed, the other is its duplicate.
    let (first, copy) = match relayed.iter().any(|n| n.ends_with("-asn.edi.jsonl")) {
        true => ("asn.edi", "asn-again.edi"),
        false => ("asn-again.edi", "asn.edi"),
    };
    assert!(
        relayed
            .iter()
            .any(|n| n.ends_with(&format!("-{first}.jsonl"))),
        "{relayed:?}"
    );
    assert!(
        relayed
            .iter()
            .any(|n| n.ends_with("-stock-20240314.csv.jsonl")),
        "{relayed:?}"
    );
    let acks = names(&d.join("out/acme"));
    assert!(!acks.is_empty(), "the partner's acknowledgments: {acks:?}");
    // The state is in PostgreSQL, not in the data folder; no SQLite lock.
    assert!(!d.join("var/state.db").exists());
    assert!(!d.join("var/gateway.lock").exists());

    // Read back by the commands, from the same store.
    let out = dropgate(&["files", "-c", &config]);
    let files = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (name, state) in [
        (first, "processed"),
        (copy, "duplicate"),
        ("invoice.edi", "quarantined"),
        ("stock-20240314.csv", "processed"),
    ] {
        assert!(
            files
                .lines()
                .any(|l| l.split_whitespace().any(|w| w == name) && l.contains(state)),
            "{name} {state}:\n{files}"
        );
    }
    assert!(files.contains("0 delivery(ies) waiting"), "{files}");
    let out = dropgate(&["status", "-c", &config]);
    let status = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        status.contains("files: 4 (1 duplicate, 2 processed, 1 quarantined)"),
        "{status}"
    );
    assert!(status.contains("deliveries waiting: 0"), "{status}");
    assert!(
        status.contains(&format!("store: PostgreSQL {url}\n")),
        "{status}"
    );
    assert!(status.contains("invoice.edi"), "{status}");
    let out = dropgate(&["show", "-c", &config, "1"]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        shown.contains(first) && shown.contains("ship_notice"),
        "{shown}"
    );

    // A second run finds nothing new, and the same bytes dropped again are
    // a duplicate, found in PostgreSQL.
    drop_sample(
        d,
        "samples/x12/good/856-4010-pick-and-pack.edi",
        "asn-later.edi",
    );
    let out = dropgate(&["run", "--once", "-c", &config]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(names(&d.join("relay")), relayed, "nothing relayed twice");
    let out = dropgate(&["files", "-c", &config]);
    let files = text(&out.stdout);
    assert!(
        files
            .lines()
            .any(|l| l.contains("asn-later.edi") && l.contains("duplicate")),
        "{files}"
    );
}

#[test]
fn check_config_finds_a_store_that_cannot_work() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let check = |store: &str| {
        let config = setup(dir.path(), store);
        let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
        (out.status.code(), text(&out.stderr))
    };
    let (code, err) = check(
        "url = \"postgres://edi@127.0.0.1:5432/edi\"\npassword_env = \"DROPGATE_TEST_UNSET_DB_PASSWORD\"",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("[store] the environment variable DROPGATE_TEST_UNSET_DB_PASSWORD (password_env) is not set"),
        "{err}"
    );
    let (code, err) =
        check("url = \"postgres://edi@127.0.0.1:5432/edi\"\npassword_file = \"nowhere\"");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("[store] reading password_file ") && err.contains("nowhere"),
        "{err}"
    );
    let (code, err) = check("url = \"postgres://edi:hunter2@127.0.0.1/edi\"");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("[store] url holds a password"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password is not repeated: {err}"
    );
    let (code, err) = check("url = \"postgres://edi@127.0.0.1:notaport/edi\"");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("[store] url is not a PostgreSQL connection URL"),
        "{err}"
    );
    let (code, err) = check("password_env = \"PATH\"");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("[store] a password is set but no url"),
        "{err}"
    );
    let (code, err) = check("uri = \"postgres://edi@127.0.0.1/edi\"");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("uri"), "{err}");
    // A server that does not answer is not check-config's to find: the
    // table is right.
    let (code, err) = check("url = \"postgres://edi@127.0.0.1:1/edi\"\npassword_env = \"PATH\"");
    assert_eq!(code, Some(0), "{err}");
    // And none at all is the embedded store.
    let (code, err) = check("");
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn the_daemon_on_postgres_reloads_and_waits_for_a_restarted_server() {
    let Some(mut pg) = Postgres::start().expect("PostgreSQL starts") else {
        return;
    };
    let url = pg.database().expect("a database");
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    let config = setup(
        d,
        &format!("url = \"{url}\"\npassword_env = \"DROPGATE_TEST_DB_PASSWORD\""),
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"\n[schedule]\ndrop = 1\n"))
        .expect("schedule");
    let mut command = std::process::Command::new(Daemon::binary());
    command
        .args(["run", "--log-format", "json", "-c"])
        .arg(&config)
        .env("DROPGATE_TEST_DB_PASSWORD", PASSWORD);
    let daemon = Daemon::spawn(command);
    let feed = "mappings/partners/nordlys/inventory/stock-20240314.csv";
    let relayed = |n: usize, daemon: &Daemon, pg: &Postgres| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while names(&d.join("relay")).len() < n {
            assert!(
                Instant::now() < deadline,
                "never relayed {n}: {:#?}\nserver log:\n{}",
                daemon.lines(),
                pg.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    drop_sample(d, feed, "stock-1.csv");
    relayed(1, &daemon, &pg);

    // Reloaded on SIGHUP: a gateway on a new connection, the old one
    // closed on the way.
    daemon.signal("-HUP");
    assert!(
        daemon.wait_for_log(Duration::from_secs(30), |l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("reloaded"))),
        "{:#?}",
        daemon.lines()
    );

    // The server goes away: passes fail and are tried again; once it is
    // back, the gateway connects again and takes the next file.
    pg.stop().expect("stopped");
    let mut bytes = std::fs::read(root().join(feed)).expect("feed");
    bytes.extend_from_slice(b"\n");
    std::fs::write(d.join("drop/stock-2.csv"), &bytes).expect("dropped");
    assert!(
        daemon.wait_for_log(Duration::from_secs(30), |l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the pass failed"))
                && l["fields"]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("postgres://postgres@127.0.0.1"))
        }),
        "a failed pass is said: {:#?}",
        daemon.lines()
    );
    pg.start_again().expect("started again");
    relayed(2, &daemon, &pg);
    let mut daemon = daemon;
    daemon.signal("-TERM");
    let status = daemon.wait(Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{:#?}",
        daemon.lines()
    );
    let lines = daemon.lines().join("\n");
    assert!(!lines.contains("panicked"), "{lines}");
    assert!(!lines.contains(PASSWORD), "the password is never logged");
}
