//! The web console of a real daemon, over HTTP on 127.0.0.1: the login
//! (a wrong password and an unknown name refused alike, the right one
//! let in), every page behind it, the CSRF token every action needs (an
//! action without it, with another session's, or without a session is
//! refused with 403 and changes nothing), the actions themselves
//! (reprocess, retry now, release) done and audited with the user's
//! name, a partner's text escaped, the X12 errors marked at their
//! segment and element, and the security headers.

mod support;

use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use support::cli::{dropgate, root, text};
use support::console::{Person, hash};
use support::daemon::Daemon;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

const ANN: &str = "ann's long password";
const BOB: &str = "bob's other password";

/// A gateway folder with the console on `port` (users ann and bob), a
/// drop, Acme (X12 from VENDORID, a 997 for everything, its orders and
/// acknowledgments to `out/acme`) and the file relay.
fn setup(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    for d in ["drop", "partners", "out/acme"] {
        std::fs::create_dir_all(p.join(d)).expect("folder");
    }
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
poll_interval_secs = 1
retry_secs = 600

[x12]
interchange_id = "ZZ:RETAILERID"

[console]
listen = "127.0.0.1:{port}"
session_hours = 1

[[console.users]]
name = "ann"
password_hash = "{ann}"

[[console.users]]
name = "bob"
password_hash = "{bob}"

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
"#,
            ann = hash(ANN),
            bob = hash(BOB),
        ),
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/acme.toml"),
        "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"997\"\nacknowledge = \"always\"\n\n[[inbound]]\nchannel = \"drop\"\n\n[outbound]\nchannel = \"acme-out\"\n",
    )
    .expect("partner");
    dir
}

fn wait_for(what: &str, daemon: &Daemon, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} never happened: {:?}",
            daemon.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The audit events of file `id`, as `dropgate show` prints them.
fn trail(dir: &Path, id: i64) -> String {
    let out = dropgate(&[
        "show",
        "-c",
        &dir.join("gateway.toml").to_string_lossy(),
        &id.to_string(),
    ]);
    text(&out.stdout)
}

/// The number of the file named `name`, from the files page.
fn file_id(page: &str, name: &str) -> Option<i64> {
    let at = page.find(&format!(">{name}</a>"))?;
    let row = &page[..at];
    let start = row.rfind("data-file-id=\"")? + "data-file-id=\"".len();
    row[start..].split('"').next()?.parse().ok()
}

#[test]
fn the_console_over_http() {
    let port = free_port();
    let dir = setup(port);
    let p = dir.path();
    // An order sent, for the invoice to be reconciled against.
    let sent = dropgate(&[
        "send-po",
        "-c",
        &p.join("gateway.toml").to_string_lossy(),
        "--partner",
        "acme",
        &root()
            .join("tests/fixtures/reconcile/po.json")
            .to_string_lossy(),
    ]);
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
    // From now on Acme's folder cannot be written to: its acknowledgments
    // fail and wait (retry_secs is long).
    std::fs::remove_dir_all(p.join("out/acme")).expect("removed");
    std::fs::write(p.join("out/acme"), "not a folder").expect("a file in its place");
    // A quarantined X12 file (a bad date) with a script in an element,
    // and an invoice held for its price.
    let bad = std::fs::read_to_string(root().join("samples/x12/bad/810-4010-bad-date.edi"))
        .expect("sample")
        .replace("Example Vendor Inc", "<script>alert(1)</script>");
    std::fs::write(p.join("drop/bad.edi"), bad).expect("dropped");
    std::fs::copy(
        root().join("tests/fixtures/reconcile/invoice-price.edi"),
        p.join("drop/invoice.edi"),
    )
    .expect("dropped");
    let daemon = Daemon::start(&p.join("gateway.toml"));

    // Not logged in: a page leads to the login, an action is refused.
    let mut nobody = Person::new(port);
    wait_for("the console listening", &daemon, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let answer = nobody.get("/quarantine");
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/login?next=%2Fquarantine"));
    for path in [
        "/",
        "/files",
        "/files/1",
        "/deliveries",
        "/invoices",
        "/partners",
    ] {
        assert_eq!(nobody.get(path).status, 303, "{path}");
    }
    assert_eq!(nobody.post("/files/1/reprocess", &[]).status, 403);
    // The login form needs its own token (its cookie and its field).
    let answer = nobody.post(
        "/login",
        &[("csrf", "guess"), ("name", "ann"), ("password", ANN)],
    );
    assert_eq!(answer.status, 403);

    // A wrong password and an unknown name get the same answer, and no
    // session.
    let wrong = nobody.log_in("ann", "not her password");
    let unknown = nobody.log_in("carl", ANN);
    for answer in [&wrong, &unknown] {
        assert_eq!(answer.status, 401);
        assert!(
            answer.body.contains("The name or the password is wrong."),
            "{}",
            answer.body
        );
    }
    assert!(!nobody.cookies.contains_key("dropgate_session"));

    let mut ann = Person::new(port);
    let answer = ann.log_in("ann", ANN);
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/files"));
    let cookie = answer
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("dropgate_session="))
        .map(|(_, v)| v.clone())
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let mut bob = Person::new(port);
    assert_eq!(bob.log_in("bob", BOB).status, 303);

    // The files taken up.
    let mut files = String::new();
    wait_for("the files processed", &daemon, || {
        files = ann.get("/files").body;
        file_id(&files, "bad.edi").is_some() && file_id(&files, "invoice.edi").is_some()
    });
    let bad = file_id(&files, "bad.edi").expect("bad.edi");
    let invoice = file_id(&files, "invoice.edi").expect("invoice.edi");

    // Every page answers, with the security headers.
    for path in [
        "/",
        "/files",
        "/files?state=quarantined&partner=acme",
        "/files?po=PO-9002",
        "/quarantine",
        "/deliveries",
        "/invoices",
        "/partners",
        &format!("/files/{bad}"),
    ] {
        let answer = ann.get(path);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(
            answer
                .header("content-security-policy")
                .map(|c| c.starts_with("default-src 'self'")),
            Some(true),
            "{path}"
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("referrer-policy"), Some("same-origin"));
        assert!(!answer.body.contains("<script>alert"), "{path}");
    }
    // A page of another site whose name points here (DNS rebinding) is
    // not answered.
    let mut other = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    std::io::Write::write_all(
        &mut other,
        format!("GET /login HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .expect("sent");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut other, &mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");

    // The search by PO number finds the invoice, not the bad file.
    let found = ann.get("/files?po=PO-9002").body;
    assert_eq!(file_id(&found, "invoice.edi"), Some(invoice), "{found}");
    assert_eq!(file_id(&found, "bad.edi"), None);
    // By control number (ISA13 of bad.edi), read from the archive.
    let found = ann.get("/files?control=401").body;
    assert_eq!(file_id(&found, "bad.edi"), Some(bad), "{found}");
    assert_eq!(file_id(&found, "invoice.edi"), None);

    // The bad file's page: the partner's text escaped, the date marked at
    // BIG01 of segment 4.
    let page = ann.get(&format!("/files/{bad}")).body;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    let big = page
        .split("<li ")
        .find(|l| l.starts_with(r#"class="error" id="seg-4" data-segment="4""#))
        .unwrap_or_else(|| panic!("segment 4 not marked: {page}"));
    assert!(big.contains(r#"<span class="id">BIG</span>"#), "{big}");
    assert!(
        big.contains(r#"<span class="el error" data-element="1" title="BIG01">20241317</span>"#),
        "{big}"
    );
    assert!(big.contains("BIG01"), "{big}");
    // Its acknowledgment waits (Acme's folder cannot be written).
    assert!(page.contains("acme-997-"), "{page}");

    // An action without the token, with Bob's, or Bob's with Ann's
    // session changes nothing.
    let bobs = bob.get("/quarantine").csrf();
    let path = format!("/files/{bad}/reprocess");
    for form in [vec![], vec![("csrf", "")], vec![("csrf", bobs.as_str())]] {
        assert_eq!(ann.post(&path, &form).status, 403, "{form:?}");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(!trail(p, bad).contains("reprocess"), "{}", trail(p, bad));

    // Reprocess with the token: put back, audited with Ann's name, and
    // taken up again by the daemon (quarantined again: nothing changed).
    let csrf = ann.get("/quarantine").csrf();
    let answer = ann.post(&path, &[("csrf", &csrf), ("back", "/quarantine")]);
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/quarantine"));
    // The answer waits a moment for the daemon: the file was quarantined
    // again (nothing was fixed), and the message says so.
    let page = ann.get("/quarantine").body;
    assert!(
        page.contains(&format!(
            "File {bad} (bad.edi) was processed again and is quarantined again"
        )) || page.contains(&format!("File {bad} (bad.edi) is put back to be processed")),
        "{page}"
    );
    assert!(page.contains(r#"id="flash""#));
    wait_for("the file taken up again", &daemon, || {
        let t = trail(p, bad);
        t.contains("asked for by ann in the console")
            && t.rsplit("asked for by ann")
                .next()
                .is_some_and(|after| after.contains("quarantined"))
    });
    // The flash is shown once.
    assert!(!ann.get("/quarantine").body.contains("data-flash"));

    // Deliveries: the acknowledgments fail; Acme's folder is fixed and
    // one retried now goes at once (its next attempt was minutes away).
    let page = ann.get("/deliveries").body;
    let id: i64 = page
        .split("data-delivery-id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no delivery listed: {page}"));
    assert!(page.contains(&format!(r#"id="retry-{id}""#)), "{page}");
    // Every failing delivery to Acme's channel, retried now while it is
    // still broken: tried once more at once, failing again.
    assert!(page.contains(r#"id="retry-target-acme-out""#), "{page}");
    let csrf = ann.get("/deliveries").csrf();
    let answer = ann.post(
        "/deliveries/retry",
        &[("csrf", &csrf), ("target", "acme-out")],
    );
    assert_eq!(answer.status, 303);
    assert!(
        ann.get("/deliveries")
            .body
            .contains("to acme-out are tried now.")
    );
    wait_for("the failing deliveries tried again", &daemon, || {
        ann.get("/deliveries")
            .body
            .contains("failing, 2 attempt(s)")
    });
    std::fs::remove_file(p.join("out/acme")).expect("the file removed");
    std::fs::create_dir_all(p.join("out/acme")).expect("the folder back");
    let csrf = ann.get("/deliveries").csrf();
    assert_eq!(
        ann.post(&format!("/deliveries/{id}/retry"), &[("csrf", &bobs)])
            .status,
        403
    );
    let answer = ann.post(&format!("/deliveries/{id}/retry"), &[("csrf", &csrf)]);
    assert_eq!(answer.status, 303);
    assert!(ann.get("/deliveries").body.contains("is tried now."));
    wait_for("the delivery retried now made", &daemon, || {
        !support::cli::names(&p.join("out/acme")).is_empty()
    });
    let audited = [bad, invoice]
        .iter()
        .any(|f| trail(p, *f).contains("tried now, asked for by ann in the console"));
    assert!(audited, "{}\n{}", trail(p, bad), trail(p, invoice));

    // The held invoice, released by Ann.
    let page = ann.get("/invoices").body;
    let held = format!("{invoice}:0");
    assert!(
        page.contains(&format!(r#"data-invoice-id="{held}""#)),
        "{page}"
    );
    assert!(page.contains("price"), "its variance: {page}");
    let release = format!("/invoices/{held}/release");
    assert_eq!(ann.post(&release, &[("csrf", "nope")]).status, 403);
    assert!(!trail(p, invoice).contains("released by"));
    let csrf = ann.get("/invoices").csrf();
    assert_eq!(ann.post(&release, &[("csrf", &csrf)]).status, 303);
    let page = ann.get("/invoices").body;
    assert!(
        page.contains("is released and queued for the relay"),
        "{page}"
    );
    assert!(page.contains(r#"id="no-held""#), "{page}");
    assert!(
        trail(p, invoice).contains("released by ann, queued for the relay"),
        "{}",
        trail(p, invoice)
    );

    // Logged out, the session is gone.
    let csrf = ann.get("/").csrf();
    let session = ann
        .cookies
        .get("dropgate_session")
        .cloned()
        .expect("session");
    assert_eq!(ann.post("/logout", &[("csrf", &csrf)]).status, 303);
    ann.cookies.insert("dropgate_session".into(), session);
    assert_eq!(ann.get("/").status, 303);
}

#[test]
fn a_plain_password_in_the_configuration_is_refused_where_it_is() {
    let dir = setup(free_port());
    let p = dir.path().join("gateway.toml");
    let text_before = std::fs::read_to_string(&p).expect("read");
    let line = text_before
        .lines()
        .position(|l| l.starts_with("password_hash"))
        .expect("a hash")
        + 1;
    let mut first = true;
    let changed: Vec<String> = text_before
        .lines()
        .map(|l| {
            if first && l.starts_with("password_hash") {
                first = false;
                "password_hash = \"hunter2\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&p, changed.join("\n")).expect("written");
    let out = dropgate(&["check-config", "-c", &p.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "gateway.toml:{line}:1: [[console.users]] \"ann\": password_hash is not an argon2 hash"
        )),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn hash_password_refuses_a_short_password() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["console", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"short\n")
        .expect("written");
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("at least 8 characters"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_reload_replaces_the_users_and_ends_the_sessions_of_those_gone() {
    let port = free_port();
    let dir = setup(port);
    let config = dir.path().join("gateway.toml");
    let daemon = Daemon::start(&config);
    wait_for("the console listening", &daemon, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut ann = Person::new(port);
    let mut bob = Person::new(port);
    assert_eq!(ann.log_in("ann", ANN).status, 303);
    assert_eq!(bob.log_in("bob", BOB).status, 303);
    assert_eq!(bob.get("/").status, 200);
    // Bob leaves the configuration; Ann's entry stays as it was.
    let text_before = std::fs::read_to_string(&config).expect("read");
    let at = text_before.rfind("[[console.users]]").expect("bob's table");
    let end = text_before[at..]
        .find("\n\n")
        .map_or(text_before.len(), |e| at + e);
    std::fs::write(
        &config,
        format!("{}{}", &text_before[..at], &text_before[end..]),
    )
    .expect("written");
    daemon.signal("-HUP");
    wait_for("bob's session ended", &daemon, || {
        bob.get("/").status == 303
    });
    assert_eq!(ann.get("/").status, 200, "Ann's session goes on");
    let mut again = Person::new(port);
    assert_eq!(again.log_in("bob", BOB).status, 401);
}
