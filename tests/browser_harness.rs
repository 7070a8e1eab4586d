//! The browser machinery of the console's tests (`support::browser`)
//! against a real page: a small axum server on 127.0.0.1 serves a form, a
//! button whose script changes a text, and a page whose script throws; a
//! real headless Chromium fills, clicks and waits, the console log finds
//! the error where there is one and none elsewhere, a failing test keeps a
//! screenshot and the page, and no chromedriver or Chromium outlives the
//! `Browser`, a panicking test's included.

mod support;

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::response::Html;
use axum::routing::get;
use axum::{Form, Router};
use support::browser::{Browser, artifacts_dir, group_members, processes_mentioning};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

const FORM: &str = r#"<!doctype html>
<html><head><title>Form</title><link rel="icon" href="data:,"></head><body>
<h1>Greeter</h1>
<form method="post" action="/submit">
  <input id="name" name="name" value="nobody">
  <button id="send" type="submit">Send</button>
</form>
<select id="state"><option value="all">All</option><option value="held">Held</option></select>
<a id="help" href="/help">Help</a>
<button id="greet" type="button">Greet</button> <span id="greeting">idle</span>
<span id="pending">waiting for a click</span>
<button id="release" type="button">Release</button> <span id="released">held</span>
<script>
document.getElementById('greet').addEventListener('click', () => {
  const name = document.getElementById('name').value;
  // Later than the click's return, so that the test has to wait.
  setTimeout(() => {
    document.getElementById('greeting').textContent = 'Hello, ' + name + '!';
    document.getElementById('pending').remove();
  }, 300);
});
document.getElementById('release').addEventListener('click', () => {
  const yes = confirm('Release invoice 4711?');
  document.getElementById('released').textContent = yes ? 'released' : 'still held';
});
</script>
</body></html>"#;

const BROKEN: &str = r#"<!doctype html>
<html><head><title>Broken</title><link rel="icon" href="data:,"></head><body>
<p id="marker">This page throws.</p>
<script>
console.error("harness: a console error on purpose");
throw new Error("harness: an uncaught error on purpose");
</script>
</body></html>"#;

#[derive(serde::Deserialize)]
struct Submitted {
    name: String,
}

async fn submit(Form(form): Form<Submitted>) -> Html<String> {
    // The name is the test's own, plain letters: no escaping needed.
    Html(format!(
        r#"<!doctype html><html><head><title>Received</title><link rel="icon" href="data:,"></head>
<body><h1 id="received">Received {}</h1></body></html>"#,
        form.name
    ))
}

/// The pages, on a free port of 127.0.0.1, served for as long as the test
/// process lives; gives `http://127.0.0.1:PORT`.
fn serve() -> String {
    let (tx, rx) = mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port");
            tx.send(listener.local_addr().expect("its address"))
                .expect("the test waits");
            let app = Router::new()
                .route("/form", get(|| async { Html(FORM) }))
                .route("/submit", axum::routing::post(submit))
                .route("/broken", get(|| async { Html(BROKEN) }));
            axum::serve(listener, app).await.expect("the server runs");
        });
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server listens");
    format!("http://{addr}")
}

/// Waits until the process group is gone and no process names the
/// profile folder; false after 5 s.
fn all_gone(pgid: u32, profile: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if group_members(pgid).is_empty() && processes_mentioning(profile).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn fill_click_wait_and_teardown_on_a_real_page() {
    let base = serve();
    let Some(b) = Browser::start().expect("the browser starts") else {
        return;
    };
    b.goto(&format!("{base}/form"));
    assert_eq!(b.title(), "Form");
    assert_eq!(b.text_of("#greeting"), "idle");

    // A script changes the text 300 ms after the click.
    b.fill("#name", "Alice");
    assert_eq!(b.value_of("#name"), "Alice", "fill replaces the value");
    b.click("#greet");
    assert_eq!(b.wait_for_text("#greeting", "Hello"), "Hello, Alice!");
    b.wait_gone("#pending");
    assert!(!b.page_text().contains("waiting for a click"));

    b.select("#state", "held");
    assert_eq!(b.value_of("#state"), "held");
    assert_eq!(b.attr("#help", "href").as_deref(), Some("/help"));
    assert_eq!(b.attr("#help", "data-none"), None);
    assert!(b.source().contains(r#"<option value="held">"#));

    // A confirm() dialog, cancelled, then accepted.
    b.click("#release");
    assert_eq!(b.dismiss_dialog(), "Release invoice 4711?");
    b.wait_for_text("#released", "still held");
    b.click("#release");
    assert_eq!(b.accept_dialog(), "Release invoice 4711?");
    b.wait_for_text("#released", "released");

    // The form goes to the server and its answer is a new page.
    b.fill("#name", "Bob");
    b.click("#send");
    b.wait_for_url("/submit");
    assert_eq!(b.wait_for_text("h1", "Received"), "Received Bob");
    assert!(!b.exists("#greet"), "the form's page is gone");
    assert_eq!(b.count("h1"), 1);

    b.assert_no_console_errors();

    // Teardown: chromedriver leads a group that Chromium joined; after
    // the drop none of it is left, nor the profile.
    let pgid = b.process_group();
    let profile = b.profile_dir().display().to_string();
    assert!(
        group_members(pgid).contains(&pgid),
        "chromedriver leads its group"
    );
    assert!(group_members(pgid).len() >= 2, "Chromium joined the group");
    assert!(!processes_mentioning(&profile).is_empty(), "Chromium runs");
    drop(b);
    assert!(
        all_gone(pgid, &profile),
        "left: {:?} {:?}",
        group_members(pgid),
        processes_mentioning(&profile)
    );
    assert!(
        !std::path::Path::new(&profile).exists(),
        "the profile is removed"
    );
}

/// Inside a `#[tokio::test]` too: the facade runs on a runtime of its own,
/// and dropping it does not block this one.
#[tokio::test]
async fn the_console_log_finds_errors_and_the_page_is_kept() {
    let base = serve();
    let Some(b) = Browser::start().expect("the browser starts") else {
        return;
    };
    b.goto(&format!("{base}/form"));
    b.wait_for("#greeting");
    assert_eq!(b.console_errors().len(), 0, "{:?}", b.console_log());
    b.assert_no_console_errors();

    b.goto(&format!("{base}/broken"));
    b.wait_for_text("#marker", "throws");
    let errors = b.console_errors();
    assert!(
        errors
            .iter()
            .any(|e| e.source == "javascript" && e.message.contains("an uncaught error on purpose")),
        "the uncaught error is in {errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.source == "console-api" && e.message.contains("a console error on purpose")),
        "console.error is in {errors:#?}"
    );
    // Read once, kept: reading chromedriver's log empties it, the
    // Browser's copy does not.
    assert_eq!(b.console_errors().len(), errors.len());

    let refused = catch_unwind(AssertUnwindSafe(|| b.assert_no_console_errors()));
    let message = refused.expect_err("the assertion fails on the broken page");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("an uncaught error on purpose") && message.contains("/broken"),
        "the failure names the error and the page: {message}"
    );

    // The page is kept, as a failing test keeps it: a PNG, the source,
    // and the console log with the error.
    let dir = tempfile::tempdir().expect("a folder");
    b.save_artifacts_in(dir.path(), "check")
        .expect("every part is kept");
    let png = std::fs::read(dir.path().join("check.png")).expect("the screenshot");
    assert!(
        png.starts_with(PNG_MAGIC),
        "a PNG: {:?}",
        &png[..8.min(png.len())]
    );
    assert!(png.len() > 1000, "a real picture, {} bytes", png.len());
    let html = std::fs::read_to_string(dir.path().join("check.html")).expect("the page");
    assert!(
        html.contains("This page throws.") && html.contains("/broken"),
        "{html}"
    );
    let console =
        std::fs::read_to_string(dir.path().join("check.console.txt")).expect("the console log");
    assert!(
        console.contains("an uncaught error on purpose"),
        "{console}"
    );

    // Once forgotten, a good page is clean again.
    b.clear_console();
    b.goto(&format!("{base}/form"));
    b.wait_for("#greeting");
    b.assert_no_console_errors();
}

#[test]
fn a_wait_in_vain_names_what_and_where_and_a_dead_driver_is_cleaned_up() {
    let base = serve();
    let Some(mut b) = Browser::start().expect("the browser starts") else {
        return;
    };
    b.set_wait(Duration::from_millis(500));
    b.goto(&format!("{base}/form"));
    let failed = catch_unwind(AssertUnwindSafe(|| {
        b.wait_for_text("#greeting", "never written");
    }));
    let message = failed.expect_err("the wait fails");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("`#greeting` with the text \"never written\"")
            && message.contains(&format!("{base}/form"))
            && message.contains("Greeter"),
        "{message}"
    );

    // chromedriver dies alone, its Chromium left without a master: the
    // drop neither hangs nor leaves Chromium behind.
    let pgid = b.process_group();
    let profile = b.profile_dir().display().to_string();
    support::proc::signal("-KILL", &[pgid]);
    let started = Instant::now();
    drop(b);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the drop gave up in time"
    );
    assert!(
        all_gone(pgid, &profile),
        "left: {:?} {:?}",
        group_members(pgid),
        processes_mentioning(&profile)
    );
}

/// A test that panics with a `Browser` keeps the page in its artifacts
/// folder, and leaves no process behind.
#[test]
fn a_panicking_test_keeps_its_page_and_leaves_no_browser() {
    let base = serve();
    // The name of the thread is the test's name for the artifacts folder.
    let test = "panicking_probe";
    let dir = artifacts_dir(&format!("{}::{test}", env!("CARGO_CRATE_NAME")));
    let _ = std::fs::remove_dir_all(&dir);
    let (tx, rx) = mpsc::channel();
    let probe = std::thread::Builder::new()
        .name(test.into())
        .spawn(move || {
            let Some(b) = Browser::start().expect("the browser starts") else {
                return;
            };
            b.goto(&format!("{base}/form"));
            b.fill("#name", "Carol");
            let profile = b.profile_dir().display().to_string();
            let pgid = b.process_group();
            let live = (group_members(pgid), processes_mentioning(&profile));
            tx.send((pgid, profile, live)).expect("the test waits");
            panic!("a failure on purpose, to see the page kept");
        })
        .expect("a thread");
    let ended = probe.join();
    let Ok((pgid, profile, (group, chromium))) = rx.try_recv() else {
        // No browser here (skipped, or CI's failure shows in the thread).
        assert!(ended.is_ok(), "the probe failed before its browser ran");
        return;
    };
    assert!(ended.is_err(), "the probe panicked");
    assert!(
        group.len() >= 2,
        "chromedriver and Chromium ran in the group: {group:?}"
    );
    assert!(!chromium.is_empty(), "Chromium ran with the profile");
    assert!(
        all_gone(pgid, &profile),
        "left: {:?} {:?}",
        group_members(pgid),
        processes_mentioning(&profile)
    );

    let png = std::fs::read(dir.join("failure.png")).expect("the screenshot is kept");
    assert!(png.starts_with(PNG_MAGIC));
    let html = std::fs::read_to_string(dir.join("failure.html")).expect("the page is kept");
    assert!(html.contains("Greeter") && html.contains("/form"), "{html}");
    assert!(dir.join("failure.console.txt").is_file());
}
