//! The HTTP pull channel against a vendor's feed on 127.0.0.1
//! (`support::feed`): a fetched feed goes through the pipeline like any
//! received file; an unchanged one (ETag or Last-Modified) is neither
//! fetched nor processed again, also after a restart; logins from the
//! environment and files, a wrong one an error of the channel; paging in
//! every way the channel knows; retries; the byte limit.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::cli::{dropgate, root, text};
use support::feed::{Feed, Login};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Tidewater's stock feed, as its mapping's sample.
fn stock() -> Result<Vec<u8>> {
    Ok(std::fs::read(root().join(
        "mappings/partners/tidewater/inventory/stock-feed.json",
    ))?)
}

/// A gateway whose channel `feed` pulls `url` (with the `extra` lines of
/// its table) for Tidewater, whose stock mapping reads what it gets.
fn gateway(url: &str, extra: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("partners"))?;
    std::fs::write(
        dir.path().join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
poll_interval_secs = 1

[channel.feed]
type = "http"
url = "{url}"
retry_wait_ms = 10
{extra}

[relay]
type = "file"
path = "relay"
"#
        ),
    )?;
    std::fs::write(
        dir.path().join("partners/tidewater.toml"),
        r#"
[partner]
name = "Tidewater Outdoor"

[[inbound]]
channel = "feed"
patterns = ["feed-*.json"]
mapping = "partners/tidewater/inventory"
"#,
    )?;
    Ok(dir)
}

fn run(dir: &Path, envs: &[(&str, &str)]) -> Output {
    let config = dir.join("gateway.toml");
    let mut c = Command::new(env!("CARGO_BIN_EXE_dropgate"));
    c.args(["run", "--once", "-c"]).arg(&config);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

fn cli(dir: &Path, args: &[&str]) -> String {
    cli_with(dir, args, &[])
}

/// `dropgate ARGS -c CONFIG` with these environment variables (the
/// configuration is checked first: its secrets must be there).
fn cli_with(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(args)
        .arg("-c")
        .arg(dir.join("gateway.toml"))
        .envs(envs.iter().copied())
        .output()
        .expect("the binary runs");
    text(&out.stdout) + &text(&out.stderr)
}

/// The lines of `dropgate files` that are files, as (state, name).
fn files(dir: &Path) -> Vec<(String, String)> {
    cli(dir, &["files"])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 5 && w[0].parse::<u64>().is_ok())
                .then(|| (w[1].to_string(), w[4].to_string()))
        })
        .collect()
}

/// The items of file `id`'s documents.
fn items(dir: &Path, id: usize) -> Result<Vec<serde_json::Value>> {
    let out = cli(dir, &["show", &id.to_string(), "--documents"]);
    let mut all = Vec::new();
    for line in out.lines().filter(|l| l.starts_with('{')) {
        let doc: serde_json::Value = serde_json::from_str(line)?;
        all.extend(doc["items"].as_array().cloned().unwrap_or_default());
    }
    Ok(all)
}

fn said(out: &Output) -> String {
    text(&out.stdout) + &text(&out.stderr)
}

#[test]
fn a_feed_is_taken_once_until_it_changes_across_restarts() -> Result {
    let feed = Feed::start()?;
    feed.set(&stock()?, "application/json", Some("\"v1\""), None);
    let gw = gateway(&feed.url("feed"), "")?;
    let check = dropgate(&[
        "check-config",
        "-c",
        &gw.path().join("gateway.toml").to_string_lossy(),
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", said(&check));

    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let taken = files(gw.path());
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].0, "processed", "{}", cli(gw.path(), &["files"]));
    assert!(
        taken[0].1.starts_with("feed-") && taken[0].1.ends_with("Z.json"),
        "named by the channel and the fetch's time: {taken:?}"
    );
    let skus: Vec<_> = items(gw.path(), 1)?
        .iter()
        .map(|i| i["sku"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(skus, ["TW-100", "TW-101"]);
    assert_eq!(feed.seen()[0].header("if-none-match"), None);

    // Another process (a restart): the ETag kept in the store is sent,
    // the feed answers 304, and nothing is taken.
    feed.forget();
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let seen = feed.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("if-none-match"), Some("\"v1\""));
    assert_eq!(seen[0].status, 304);
    assert_eq!(files(gw.path()).len(), 1);

    // Changed: taken and processed again.
    let changed = String::from_utf8(stock()?)?.replace("\"available\":0", "\"available\":40");
    feed.set(changed.as_bytes(), "application/json", Some("\"v2\""), None);
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let taken = files(gw.path());
    assert_eq!(taken.len(), 2, "{taken:?}");
    assert!(
        taken.iter().all(|(state, _)| state == "processed"),
        "{taken:?}"
    );
    let id = cli(gw.path(), &["files"])
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    assert_eq!(items(gw.path(), id)?[1]["quantity_available"], 40);

    // The same bytes under a new ETag: fetched, recorded, and found a
    // duplicate of what was taken; the new ETag is kept.
    feed.set(changed.as_bytes(), "application/json", Some("\"v3\""), None);
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let taken = files(gw.path());
    assert_eq!(taken.len(), 3, "{taken:?}");
    assert_eq!(
        taken.iter().filter(|(s, _)| s == "duplicate").count(),
        1,
        "{taken:?}"
    );
    feed.forget();
    run(gw.path(), &[]);
    assert_eq!(feed.seen()[0].header("if-none-match"), Some("\"v3\""));
    assert_eq!(files(gw.path()).len(), 3);
    Ok(())
}

#[test]
fn last_modified_alone_makes_the_request_conditional() -> Result {
    let feed = Feed::start()?;
    let date = "Wed, 13 Mar 2024 08:30:00 GMT";
    feed.set(&stock()?, "application/json", None, Some(date));
    let gw = gateway(&feed.url("feed"), "")?;
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(files(gw.path()).len(), 1);
    feed.forget();
    run(gw.path(), &[]);
    let seen = feed.seen();
    assert_eq!(seen[0].header("if-modified-since"), Some(date));
    assert_eq!(seen[0].status, 304);
    assert_eq!(files(gw.path()).len(), 1);

    // conditional = false: fetched every time, and a repeat is a
    // duplicate.
    let gw = gateway(&feed.url("feed"), "conditional = false")?;
    run(gw.path(), &[]);
    feed.forget();
    run(gw.path(), &[]);
    assert_eq!(feed.seen()[0].header("if-modified-since"), None);
    let states: Vec<String> = files(gw.path()).into_iter().map(|f| f.0).collect();
    assert_eq!(states.len(), 2);
    assert!(states.contains(&"duplicate".to_string()), "{states:?}");
    Ok(())
}

#[test]
fn logins_come_from_the_environment_or_files_and_a_wrong_one_is_a_channel_error() -> Result {
    let feed = Feed::start()?;
    feed.set(&stock()?, "application/json", Some("\"a\""), None);
    feed.require(Login::Basic("gw".into(), "pa55:word".into()));
    let gw = gateway(
        &feed.url("feed"),
        "user = \"gw\"\npassword_env = \"TIDEWATER_FEED_PASSWORD\"",
    )?;
    let out = run(gw.path(), &[("TIDEWATER_FEED_PASSWORD", "wrong")]);
    let all = said(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("channel feed")
            && all.contains(&feed.url("feed"))
            && all.contains("401")
            && all.contains("invalid credentials"),
        "{all}"
    );
    assert!(!all.contains("wrong"), "the password is never said: {all}");
    let wrong = [("TIDEWATER_FEED_PASSWORD", "wrong")];
    assert!(!cli_with(gw.path(), &["files"], &wrong).contains("feed-"));
    let status = cli_with(gw.path(), &["status"], &wrong);
    assert!(
        status.contains("channel feed failing since") && status.contains("401"),
        "{status}"
    );
    let right = [("TIDEWATER_FEED_PASSWORD", "pa55:word")];
    let out = run(gw.path(), &right);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(cli_with(gw.path(), &["files"], &right).contains("processed"));
    assert!(!cli_with(gw.path(), &["status"], &right).contains("failing since"));

    // A bearer token from a file, then from the environment.
    feed.require(Login::Bearer("t0ken-123".into()));
    let token = tempfile::NamedTempFile::new()?;
    std::fs::write(token.path(), "t0ken-123\n")?;
    let gw = gateway(
        &feed.url("feed"),
        &format!("token_file = \"{}\"", token.path().display()),
    )?;
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(files(gw.path()).len(), 1);
    let gw = gateway(&feed.url("feed"), "token_env = \"TIDEWATER_TOKEN\"")?;
    let out = run(gw.path(), &[("TIDEWATER_TOKEN", "t0ken-12")]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let right = [("TIDEWATER_TOKEN", "t0ken-123")];
    assert!(cli_with(gw.path(), &["status"], &right).contains("channel feed failing since"));
    let out = run(gw.path(), &right);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(cli_with(gw.path(), &["files"], &right).contains("processed"));
    let seen = feed.seen();
    assert_eq!(
        seen.last().and_then(|s| s.header("authorization")),
        Some("Bearer t0ken-123")
    );

    // check-config finds a token variable that is not set.
    let check = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["check-config", "-c"])
        .arg(gw.path().join("gateway.toml"))
        .env_remove("TIDEWATER_TOKEN")
        .output()?;
    assert_eq!(check.status.code(), Some(1), "{}", said(&check));
    assert!(said(&check).contains("TIDEWATER_TOKEN"), "{}", said(&check));
    Ok(())
}

/// Three pages of Tidewater's API, each with the next page's cursor and
/// URL; past the last, a page without items.
fn three_pages(feed: &Feed) {
    let page = |n: usize, next: Option<usize>| {
        let (cursor, link) = match next {
            Some(m) => (format!("\"c{m}\""), format!("\"/pages?page={m}\"")),
            None => ("null".into(), "null".into()),
        };
        format!(
            r#"{{"generated_at":"2024-03-14T08:30:00Z","data":[{{"sku":"tw-{n}","available":{n},"status":"active"}}],"meta":{{"next_cursor":{cursor}}},"links":{{"next":{link}}}}}"#
        )
    };
    let pages = [page(1, Some(2)), page(2, Some(3)), page(3, None)];
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    feed.set_pages(&refs, r#"{"data":[]}"#);
}

#[test]
fn pages_are_joined_into_one_file_in_every_way_of_paging() -> Result {
    let feed = Feed::start()?;
    three_pages(&feed);
    let ways = [
        (
            "by = \"link-header\"",
            vec!["/pages", "/pages?page=2", "/pages?page=3"],
        ),
        (
            "by = \"next-url\"\npath = \"links.next\"",
            vec!["/pages", "/pages?page=2", "/pages?page=3"],
        ),
        (
            "by = \"page\"\nparam = \"page\"",
            vec![
                "/pages?page=1",
                "/pages?page=2",
                "/pages?page=3",
                "/pages?page=4",
            ],
        ),
        (
            "by = \"cursor\"\nparam = \"cursor\"\npath = \"meta.next_cursor\"",
            vec!["/pages", "/pages?cursor=c2", "/pages?cursor=c3"],
        ),
    ];
    for (paging, requests) in ways {
        feed.forget();
        let gw = gateway(
            &feed.url("pages"),
            &format!("\n[channel.feed.paging]\n{paging}\nitems = \"data\""),
        )?;
        let out = run(gw.path(), &[]);
        assert_eq!(out.status.code(), Some(0), "{paging}: {}", said(&out));
        let seen: Vec<String> = feed.seen().into_iter().map(|s| s.target).collect();
        assert_eq!(seen, requests, "{paging}");
        let taken = files(gw.path());
        assert_eq!(taken.len(), 1, "{paging}: {taken:?}");
        assert_eq!(
            taken[0].0,
            "processed",
            "{paging}: {}",
            cli(gw.path(), &["show", "1"])
        );
        let skus: Vec<String> = items(gw.path(), 1)?
            .iter()
            .map(|i| i["sku"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(skus, ["TW-1", "TW-2", "TW-3"], "{paging}");
    }

    // More pages than max_pages: refused, nothing taken.
    let gw = gateway(
        &feed.url("pages"),
        "\n[channel.feed.paging]\nby = \"link-header\"\nitems = \"data\"\nmax_pages = 2",
    )?;
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("more than max_pages (2) pages"),
        "{}",
        said(&out)
    );
    assert!(files(gw.path()).is_empty());
    Ok(())
}

#[test]
fn server_errors_are_tried_again_and_large_feeds_refused() -> Result {
    let feed = Feed::start()?;
    feed.set(&stock()?, "application/json", Some("\"r\""), None);
    feed.fail_next(2);
    let gw = gateway(&feed.url("feed"), "retries = 2")?;
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let statuses: Vec<u16> = feed.seen().iter().map(|s| s.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(files(gw.path()).len(), 1);

    feed.forget();
    feed.fail_next(3);
    let gw = gateway(&feed.url("feed"), "retries = 1")?;
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("500 Internal Server Error: temporarily broken (tried 2 times)"),
        "{}",
        said(&out)
    );
    assert_eq!(feed.seen().len(), 2);
    assert!(files(gw.path()).is_empty());
    feed.fail_next(0);

    // Over max_bytes, with a length or without one (streamed): refused.
    let big = vec![b' '; 300_000];
    feed.set(&big, "application/json", Some("\"big\""), None);
    for path in ["feed", "chunked"] {
        let gw = gateway(&feed.url(path), "max_bytes = 100000")?;
        let out = run(gw.path(), &[]);
        assert_eq!(out.status.code(), Some(1), "{path}: {}", said(&out));
        assert!(
            said(&out).contains("larger than max_bytes (100000 bytes)"),
            "{path}: {}",
            said(&out)
        );
        assert!(files(gw.path()).is_empty());
    }
    Ok(())
}

/// Waits until the feed has seen `n` requests; false if not within a
/// minute.
fn wait_for_requests(feed: &Feed, n: usize) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if feed.seen().len() >= n {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn the_daemon_polls_the_feed_on_its_schedule_and_keeps_the_etag_over_a_restart() -> Result {
    let feed = Feed::start()?;
    feed.set(&stock()?, "application/json", Some("\"d1\""), None);
    let gw = gateway(&feed.url("feed"), "")?;
    let config = gw.path().join("gateway.toml");
    let mut daemon = support::daemon::Daemon::start(&config);
    assert!(wait_for_requests(&feed, 3), "{:#?}", daemon.lines());
    daemon.signal("-TERM");
    assert!(daemon.wait(std::time::Duration::from_secs(60)).is_some());
    let seen = feed.seen();
    assert_eq!(seen[0].status, 200);
    assert!(
        seen[1..]
            .iter()
            .all(|s| s.status == 304 && s.header("if-none-match") == Some("\"d1\"")),
        "{seen:#?}"
    );

    feed.forget();
    let mut daemon = support::daemon::Daemon::start(&config);
    assert!(wait_for_requests(&feed, 1), "{:#?}", daemon.lines());
    daemon.signal("-TERM");
    assert!(daemon.wait(std::time::Duration::from_secs(60)).is_some());
    let seen = feed.seen();
    assert_eq!(seen[0].header("if-none-match"), Some("\"d1\""));
    assert_eq!(seen[0].status, 304);
    let taken = files(gw.path());
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].0, "processed", "{taken:?}");
    Ok(())
}

#[test]
fn validators_move_only_with_a_file_taken() -> Result {
    use dropgate::transport::channel::{Channel, ChannelKind};
    let feed = Feed::start()?;
    feed.set(
        b"sku,qty\nA,1\n",
        "text/csv; charset=utf-8",
        Some("\"k1\""),
        None,
    );
    let config = toml::from_str(&format!("url = \"{}\"", feed.url("feed")))?;
    let mut channel = Channel::new("stock", &ChannelKind::Http(config));
    let look = channel.poll()?;
    assert_eq!(look.ready.len(), 1);
    let name = look.ready[0].name.clone();
    assert!(
        name.starts_with("stock-") && name.ends_with(".csv"),
        "{name}"
    );
    assert_eq!(channel.read(&name)?, b"sku,qty\nA,1\n");
    let mut copy = Vec::new();
    assert_eq!(channel.read_into(&name, &mut copy)?, 12);
    assert_eq!(copy, b"sku,qty\nA,1\n");
    assert_eq!(
        channel.checkpoint(&name).as_deref(),
        Some(format!(r#"{{"url":"{}","etag":"\"k1\""}}"#, feed.url("feed")).as_str())
    );
    assert_eq!(channel.checkpoint("other.csv"), None);

    // Not taken (not done): the next poll fetches it whole again.
    let again = channel.poll()?;
    assert_eq!(again.ready.len(), 1);
    assert_eq!(feed.seen()[1].header("if-none-match"), None);
    channel.done(&again.ready[0].name)?;
    assert!(channel.poll()?.ready.is_empty());
    assert_eq!(feed.seen()[2].header("if-none-match"), Some("\"k1\""));

    // What the store hands back is what is sent; another URL's is not.
    channel.resume(Some(
        r#"{"url":"http://127.0.0.1:1/elsewhere","etag":"\"k1\""}"#,
    ));
    assert_eq!(channel.poll()?.ready.len(), 1);
    assert_eq!(feed.seen()[3].header("if-none-match"), None);
    channel.resume(None);
    assert_eq!(channel.poll()?.ready.len(), 1);
    assert_eq!(feed.seen()[4].header("if-none-match"), None);
    Ok(())
}

#[test]
fn https_feeds_are_checked_against_the_ca_file() -> Result {
    let dir = tempfile::tempdir()?;
    let tls = dir.path().join("tls");
    support::tls::make(&tls)?;
    let feed = Feed::start_tls(&tls)?;
    feed.set(&stock()?, "application/json", Some("\"s1\""), None);
    assert!(feed.url("feed").starts_with("https://127.0.0.1:"));
    let ca = |name: &str| format!("ca_file = \"{}\"", tls.join(name).display());

    let gw = gateway(&feed.url("feed"), &ca("ca.pem"))?;
    let out = run(gw.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(files(gw.path()).len(), 1);

    // Another CA, or the built-in roots: the server is not trusted.
    for extra in [ca("other-ca.pem"), String::new()] {
        let gw = gateway(&feed.url("feed"), &extra)?;
        let out = run(gw.path(), &[]);
        assert_eq!(out.status.code(), Some(1), "{extra}: {}", said(&out));
        assert!(
            said(&out).contains("channel feed")
                && said(&out).to_lowercase().contains("certificate"),
            "{extra}: {}",
            said(&out)
        );
        assert!(files(gw.path()).is_empty());
    }
    Ok(())
}

#[test]
fn check_config_finds_a_feed_that_cannot_work() -> Result {
    let gw = gateway(
        "http://feeds.tidewater.example/stock.json",
        "user = \"gw\"\ntoken_file = \"missing-token\"\n\n[channel.feed.paging]\nby = \"cursor\"\nparam = \"cursor\"",
    )?;
    std::fs::write(
        gw.path().join("partners/other.toml"),
        "[[inbound]]\nchannel = \"feed\"\n\n[outbound]\nchannel = \"feed\"\n",
    )?;
    let check = dropgate(&[
        "check-config",
        "-c",
        &gw.path().join("gateway.toml").to_string_lossy(),
    ]);
    let all = said(&check);
    assert_eq!(check.status.code(), Some(1), "{all}");
    assert!(all.contains("gateway.toml:6:1: channel feed: url http://feeds.tidewater.example/stock.json: plain http to another machine"), "{all}");
    assert!(
        all.contains("[outbound] channel \"feed\" is an HTTP feed: it only fetches"),
        "{all}"
    );

    // Each problem in turn, once the one before is fixed.
    let fixes = [
        (
            "url = \"http://feeds",
            "url = \"https://feeds",
            "user (basic authentication) and a token are both set",
        ),
        ("user = \"gw\"\n", "", "paging by \"cursor\" needs path"),
        (
            "param = \"cursor\"",
            "param = \"cursor\"\npath = \"meta.next\"",
            "missing-token",
        ),
    ];
    let config = gw.path().join("gateway.toml");
    for (from, to, next) in fixes {
        let text = std::fs::read_to_string(&config)?.replacen(from, to, 1);
        std::fs::write(&config, text)?;
        let all = said(&dropgate(&[
            "check-config",
            "-c",
            &config.to_string_lossy(),
        ]));
        assert!(all.contains(next), "after {to:?}: {all}");
    }
    Ok(())
}
