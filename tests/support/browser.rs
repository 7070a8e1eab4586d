//! A real headless Chromium for the web console's tests, driven over
//! WebDriver (fantoccini) through Debian's `chromedriver`, behind a
//! blocking facade so that a plain `#[test]` (which also runs the daemon as
//! a child process, `support::daemon`) reads top to bottom:
//!
//! ```ignore
//! let Some(b) = Browser::start().expect("the browser starts") else { return };
//! b.goto(&format!("{base}/login"));
//! b.fill("#username", "alice");
//! b.click("button[type=submit]");
//! b.wait_for_text("h1", "Overview");
//! b.assert_no_console_errors();
//! ```
//!
//! Each `Browser` has its own chromedriver on a free port of 127.0.0.1
//! (never `--allowed-ips`, which would make it listen on every interface),
//! in a process group of its own, and a fresh profile folder. Every
//! WebDriver call runs on a small runtime the `Browser` owns, with a time
//! limit, so the facade works from a plain test as from a `#[tokio::test]`
//! and never hangs on a chromedriver that is gone. The helpers panic with
//! what they were doing, the page's URL and the start of its text, at the
//! test's line (`#[track_caller]`): they are test assertions.
//!
//! When the `Browser` is dropped while its thread panics (a failed
//! assertion), the page is kept first: a PNG screenshot, the page source
//! and the console log, in `artifacts_dir()` (`DROPGATE_TEST_ARTIFACTS`,
//! default `target/test-artifacts`, then the test crate and the test's
//! name), and the folder is printed. Teardown, panic or not, closes the
//! session and then kills chromedriver's whole process group (SIGTERM, then
//! SIGKILL), so that no Chromium outlives the test.
//!
//! `Browser::start` gives `None` only when chromedriver or Chromium is not
//! installed (`DROPGATE_TEST_CHROMEDRIVER`, `DROPGATE_TEST_CHROMIUM` name other
//! builds), after printing why, and fails the test instead when `CI` is set
//! (see `skip`; `scripts/setup.sh` installs `chromium` and
//! `chromium-driver`).

use std::cell::RefCell;
use std::error::Error;
use std::fmt::Display;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::proc::program;
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// How long the `wait_*` helpers (and `click`, `fill`, ... for their
/// element to appear) wait by default.
pub const WAIT: Duration = Duration::from_secs(10);

/// How long one WebDriver command may take (a page load included).
const COMMAND: Duration = Duration::from_secs(30);

/// How long a command of the teardown may take (saving the page, closing
/// the session): short, chromedriver may be gone.
const TEARDOWN: Duration = Duration::from_secs(5);

/// How long chromedriver may take to answer `/status` with ready.
const READY: Duration = Duration::from_secs(20);

/// The start of the page's text that a failure message shows.
const SNIPPET: usize = 600;

/// The flags Chromium runs with: headless as root without a display
/// (`--no-sandbox`), and a /dev/shm of containers too small for it.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--window-size=1280,900",
    "--no-first-run",
    "--no-default-browser-check",
];

/// An entry of the browser's console log, as chromedriver gives it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    /// `javascript` (an uncaught error), `console-api` (`console.*`),
    /// `network` (a failed request), ...
    #[serde(default)]
    pub source: String,
    /// The message, with the script's URL and line first.
    pub message: String,
}

impl LogEntry {
    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.level == "SEVERE"
    }
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} {}] {}", self.level, self.source, self.message)
    }
}

/// chromedriver's browser log (`POST /session/{id}/se/log`), which
/// fantoccini has no call for. Reading it empties it.
#[derive(Debug)]
struct GetLog;

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// A headless Chromium with its chromedriver.
pub struct Browser {
    /// Runs every WebDriver call; `None` once shut down.
    rt: Option<tokio::runtime::Runtime>,
    /// The session; `None` before it is opened and after it is closed.
    client: Option<Client>,
    /// chromedriver, leader of the process group that Chromium joins.
    driver: Child,
    /// chromedriver's output, and Chromium's profile.
    dir: tempfile::TempDir,
    /// The console log read so far (reading chromedriver's empties it).
    log: RefCell<Vec<LogEntry>>,
    /// The test, `crate::test`, that artifacts are kept for.
    test: String,
    wait: Duration,
}

impl Browser {
    /// A browser with a blank page; or `None` (after saying why) when
    /// chromedriver or Chromium is not installed (a failure under CI).
    pub fn start() -> Result<Option<Browser>> {
        let driver = match program(
            "DROPGATE_TEST_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromedriver",
        ) {
            Ok(p) => p,
            Err(why) => return Ok(unavailable("chromedriver (chromium-driver)", &why)),
        };
        let chromium = match program("DROPGATE_TEST_CHROMIUM", "/usr/bin/chromium", "chromium") {
            Ok(p) => p,
            Err(why) => return Ok(unavailable("Chromium (chromium)", &why)),
        };
        let dir = tempfile::Builder::new()
            .prefix("dropgate-browser")
            .tempdir()?;
        std::fs::create_dir(dir.path().join("profile"))?;
        // Another process may take the free port before chromedriver binds it.
        let mut last: Option<Box<dyn Error>> = None;
        let mut launched = None;
        for _ in 0..3 {
            match launch(&driver, dir.path()) {
                Ok(l) => {
                    launched = Some(l);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some((child, port)) = launched else {
            return Err(last.unwrap_or_else(|| "chromedriver did not start".into()));
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("browser-webdriver")
            .enable_all()
            .build();
        let test = std::thread::current()
            .name()
            .unwrap_or("a-test")
            .to_string();
        // Built before the session opens, so that a failure below still
        // kills chromedriver and whatever it started.
        let mut browser = Browser {
            rt: None,
            client: None,
            driver: child,
            log: RefCell::new(Vec::new()),
            test: format!("{}::{test}", env!("CARGO_CRATE_NAME")),
            dir,
            wait: WAIT,
        };
        browser.rt = Some(rt?);
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": CHROMIUM_ARGS
                    .iter()
                    .map(|a| a.to_string())
                    .chain([format!("--user-data-dir={}", browser.profile_dir().display())])
                    .collect::<Vec<_>>(),
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(caps) = caps else {
            return Err("the capabilities are not an object".into());
        };
        let url = format!("http://127.0.0.1:{port}");
        let client = browser
            .run(COMMAND, async move {
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url)
                    .await
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| {
                format!(
                    "no Chromium session: {e}; chromedriver said: {}",
                    browser.driver_output()
                )
            })?;
        browser.client = Some(client);
        Ok(Some(browser))
    }

    /// How long the `wait_*` helpers wait from now on (`WAIT` by default).
    pub fn set_wait(&mut self, limit: Duration) {
        self.wait = limit;
    }

    /// The process group of chromedriver and Chromium.
    pub fn process_group(&self) -> u32 {
        self.driver.id()
    }

    /// Chromium's profile folder (every Chromium process names it, its
    /// crash handler too).
    pub fn profile_dir(&self) -> PathBuf {
        self.dir.path().join("profile")
    }

    /// Opens `url` and waits for it to load.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        let target = url.to_string();
        self.expect(
            format!("open {url}"),
            |c| async move { c.goto(&target).await },
        );
    }

    /// The page's URL.
    #[track_caller]
    pub fn url(&self) -> String {
        self.expect("read the URL", |c| async move {
            c.current_url().await.map(String::from)
        })
    }

    /// The page's title.
    #[track_caller]
    pub fn title(&self) -> String {
        self.expect("read the title", |c| async move { c.title().await })
    }

    /// The page's HTML as it is now.
    #[track_caller]
    pub fn source(&self) -> String {
        self.expect("read the page source", |c| async move { c.source().await })
    }

    /// The page's visible text.
    #[track_caller]
    pub fn page_text(&self) -> String {
        let text = self.script(
            "return document.body ? document.body.innerText : ''",
            vec![],
        );
        text.as_str().unwrap_or_default().to_string()
    }

    /// Runs `script` (a function body; its arguments are `arguments[i]`)
    /// and gives what it returns.
    #[track_caller]
    pub fn script(&self, script: &str, args: Vec<Value>) -> Value {
        let body = script.to_string();
        self.expect(format!("run the script {script:?}"), |c| async move {
            c.execute(&body, args).await
        })
    }

    /// The visible text of each element `css` selects now (none: empty).
    #[track_caller]
    pub fn texts(&self, css: &str) -> Vec<String> {
        match self.try_texts(css, COMMAND) {
            Ok(texts) => texts,
            Err(e) => panic!("browser: cannot read `{css}`: {e}; {}", self.where_now()),
        }
    }

    /// `texts`, or why not (while a page loads, say).
    fn try_texts(&self, css: &str, limit: Duration) -> std::result::Result<Vec<String>, String> {
        let css = json!(css);
        let found = self.run_cmd(limit, |c| async move {
            c.execute(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);",
                vec![css],
            )
            .await
        })?;
        let found = found.as_array().ok_or("the page gave no list")?;
        Ok(found
            .iter()
            .map(|t| t.as_str().unwrap_or_default().trim().to_string())
            .collect())
    }

    /// How many elements `css` selects now.
    #[track_caller]
    pub fn count(&self, css: &str) -> usize {
        self.texts(css).len()
    }

    /// Whether `css` selects an element now.
    #[track_caller]
    pub fn exists(&self, css: &str) -> bool {
        self.count(css) > 0
    }

    /// The visible text of the first element `css` selects, once there is
    /// one.
    #[track_caller]
    pub fn text_of(&self, css: &str) -> String {
        self.wait_for(css);
        self.texts(css).into_iter().next().unwrap_or_default()
    }

    /// The value of the form field `css` selects, once there is one.
    #[track_caller]
    pub fn value_of(&self, css: &str) -> String {
        self.wait_for(css);
        let v = self.script(
            "return document.querySelector(arguments[0]).value;",
            vec![json!(css)],
        );
        v.as_str().unwrap_or_default().to_string()
    }

    /// The attribute `name` of the first element `css` selects, once there
    /// is one.
    #[track_caller]
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let (sel, name) = (css.to_string(), name.to_string());
        self.wait_for(css);
        self.expect(format!("read {name} of {css}"), |c| async move {
            c.find(Locator::Css(&sel)).await?.attr(&name).await
        })
    }

    /// Clicks the element `css` selects, once there is one.
    #[track_caller]
    pub fn click(&self, css: &str) {
        let sel = css.to_string();
        self.wait_for(css);
        self.expect(format!("click {css}"), |c| async move {
            c.find(Locator::Css(&sel)).await?.click().await
        });
    }

    /// Types `value` into the field `css` selects (once there is one),
    /// replacing what it held.
    #[track_caller]
    pub fn fill(&self, css: &str, value: &str) {
        let (sel, value) = (css.to_string(), value.to_string());
        self.wait_for(css);
        self.expect(format!("fill {css}"), |c| async move {
            let field = c.find(Locator::Css(&sel)).await?;
            field.clear().await?;
            field.send_keys(&value).await
        });
    }

    /// Chooses the option of value `value` in the `<select>` `css`
    /// selects, once there is one.
    #[track_caller]
    pub fn select(&self, css: &str, value: &str) {
        let (sel, value) = (css.to_string(), value.to_string());
        self.wait_for(css);
        self.expect(format!("choose {value:?} in {css}"), |c| async move {
            c.find(Locator::Css(&sel))
                .await?
                .select_by_value(&value)
                .await
        });
    }

    /// Waits for the page's dialog (`confirm()`, `alert()`, `prompt()`, as
    /// `hx-confirm` opens), accepts it, and gives its text.
    #[track_caller]
    pub fn accept_dialog(&self) -> String {
        let text = self.dialog_text();
        self.expect(
            "accept the dialog",
            |c| async move { c.accept_alert().await },
        );
        text
    }

    /// Waits for the page's dialog, dismisses it (Cancel), and gives its
    /// text.
    #[track_caller]
    pub fn dismiss_dialog(&self) -> String {
        let text = self.dialog_text();
        self.expect(
            "dismiss the dialog",
            |c| async move { c.dismiss_alert().await },
        );
        text
    }

    /// The text of the dialog, once one is open.
    #[track_caller]
    fn dialog_text(&self) -> String {
        let mut text = String::new();
        self.wait_until("a dialog", || {
            match self.run_cmd(TEARDOWN, |c| async move { c.get_alert_text().await }) {
                Ok(t) => {
                    text = t;
                    true
                }
                Err(_) => false,
            }
        });
        text
    }

    /// Waits until `css` selects an element.
    #[track_caller]
    pub fn wait_for(&self, css: &str) {
        self.wait_until(&format!("an element `{css}`"), || {
            self.try_texts(css, TEARDOWN).is_ok_and(|t| !t.is_empty())
        });
    }

    /// Waits until `css` selects no element.
    #[track_caller]
    pub fn wait_gone(&self, css: &str) {
        self.wait_until(&format!("no element `{css}` left"), || {
            self.try_texts(css, TEARDOWN).is_ok_and(|t| t.is_empty())
        });
    }

    /// Waits until an element `css` selects has a text containing `text`,
    /// and gives that element's whole text.
    #[track_caller]
    pub fn wait_for_text(&self, css: &str, text: &str) -> String {
        let mut found = String::new();
        self.wait_until(
            &format!("an element `{css}` with the text {text:?}"),
            || {
                let texts = self.try_texts(css, TEARDOWN).unwrap_or_default();
                match texts.into_iter().find(|t| t.contains(text)) {
                    Some(t) => {
                        found = t;
                        true
                    }
                    None => false,
                }
            },
        );
        found
    }

    /// Waits until the page's URL contains `part`.
    #[track_caller]
    pub fn wait_for_url(&self, part: &str) {
        self.wait_until(&format!("a URL containing {part:?}"), || {
            self.run_cmd(TEARDOWN, |c| async move { c.current_url().await })
                .is_ok_and(|u| u.as_str().contains(part))
        });
    }

    /// Waits until `done` is true, asking again every 50 ms; panics after
    /// the wait limit, naming `what`, the page's URL and its text.
    #[track_caller]
    pub fn wait_until(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + self.wait;
        loop {
            if done() {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "browser: waited {:?} for {what}, in vain; {}",
                    self.wait,
                    self.where_now()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page as a PNG image.
    #[track_caller]
    pub fn screenshot(&self) -> Vec<u8> {
        self.expect("take a screenshot", |c| async move { c.screenshot().await })
    }

    /// Every console entry of the session so far (all pages).
    #[track_caller]
    pub fn console_log(&self) -> Vec<LogEntry> {
        if let Err(e) = self.read_log(COMMAND) {
            panic!("browser: cannot read the console log: {e}");
        }
        self.log.borrow().clone()
    }

    /// The console's errors (`SEVERE`) of the session so far: uncaught
    /// exceptions, `console.error`, failed requests (a missing favicon
    /// too: a page without one may say `<link rel="icon" href="data:,">`).
    #[track_caller]
    pub fn console_errors(&self) -> Vec<LogEntry> {
        self.console_log()
            .into_iter()
            .filter(LogEntry::is_error)
            .collect()
    }

    /// Forgets the console entries so far (after a page that errs on
    /// purpose).
    #[track_caller]
    pub fn clear_console(&self) {
        let _ = self.console_log();
        self.log.borrow_mut().clear();
    }

    /// Panics, listing them, if the console has had an error.
    #[track_caller]
    pub fn assert_no_console_errors(&self) {
        let errors = self.console_errors();
        if !errors.is_empty() {
            let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            panic!(
                "browser: {} error(s) in the console:\n{}\n{}",
                errors.len(),
                list.join("\n"),
                self.where_now()
            );
        }
    }

    /// Where the page is kept when the test fails.
    pub fn artifacts_dir(&self) -> PathBuf {
        artifacts_dir(&self.test)
    }

    /// Keeps the page in `artifacts_dir()`: `LABEL.png` (a screenshot),
    /// `LABEL.html` (its source) and `LABEL.console.txt` (the console log);
    /// gives the folder.
    pub fn save_artifacts(&self, label: &str) -> Result<PathBuf> {
        let dir = self.artifacts_dir();
        self.save_artifacts_in(&dir, label)?;
        Ok(dir)
    }

    /// Keeps the page in `dir`, as `save_artifacts` does. Each part that
    /// cannot be had (chromedriver gone) is left out, and its error given.
    pub fn save_artifacts_in(&self, dir: &Path, label: &str) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut missing = Vec::new();
        match self.run_cmd(TEARDOWN, |c| async move { c.screenshot().await }) {
            Ok(png) => std::fs::write(dir.join(format!("{label}.png")), png)?,
            Err(e) => missing.push(format!("screenshot: {e}")),
        }
        match self.run_cmd(TEARDOWN, |c| async move {
            let url = c.current_url().await?;
            Ok(format!("<!-- {url} -->\n{}", c.source().await?))
        }) {
            Ok(html) => std::fs::write(dir.join(format!("{label}.html")), html)?,
            Err(e) => missing.push(format!("page source: {e}")),
        }
        if let Err(e) = self.read_log(TEARDOWN) {
            missing.push(format!("console log: {e}"));
        }
        let console: String = self.log.borrow().iter().map(|e| format!("{e}\n")).collect();
        std::fs::write(dir.join(format!("{label}.console.txt")), console)?;
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing.join("; ").into())
        }
    }

    /// Appends what chromedriver's console log holds to `self.log`.
    fn read_log(&self, limit: Duration) -> std::result::Result<(), String> {
        let entries = self.run_cmd(limit, |c| async move { c.issue_cmd(GetLog).await })?;
        let entries: Vec<LogEntry> = serde_json::from_value(entries)
            .map_err(|e| format!("the console log is not a list of entries: {e}"))?;
        self.log.borrow_mut().extend(entries);
        Ok(())
    }

    /// Where the page is and what it says, for a failure message; bounded,
    /// and mute about what cannot be had.
    fn where_now(&self) -> String {
        let url = self
            .run_cmd(TEARDOWN, |c| async move {
                c.current_url().await.map(String::from)
            })
            .unwrap_or_else(|e| format!("(unknown: {e})"));
        let text = self
            .run_cmd(TEARDOWN, |c| async move {
                c.execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await
            })
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let mut snippet: String = text.chars().take(SNIPPET).collect();
        if snippet.len() < text.len() {
            snippet.push_str(" [...]");
        }
        format!("the page is {url}, its text:\n---\n{snippet}\n---")
    }

    /// Runs a WebDriver call on the session, or panics naming `what`.
    #[track_caller]
    fn expect<T, F, Fut>(&self, what: impl Display, call: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = std::result::Result<T, CmdError>> + Send + 'static,
    {
        match self.run_cmd(COMMAND, call) {
            Ok(v) => v,
            Err(e) => panic!("browser: cannot {what}: {e}; {}", self.where_now()),
        }
    }

    /// Runs a WebDriver call on the session within `limit`.
    fn run_cmd<T, F, Fut>(&self, limit: Duration, call: F) -> std::result::Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = std::result::Result<T, CmdError>> + Send + 'static,
    {
        let client = self.client.clone().ok_or("the session is closed")?;
        let fut = call(client);
        self.run(limit, async move { fut.await.map_err(|e| e.to_string()) })
    }

    /// Runs `fut` on the browser's runtime within `limit`, from any
    /// thread, inside a runtime or not.
    fn run<T: Send + 'static>(
        &self,
        limit: Duration,
        fut: impl Future<Output = std::result::Result<T, String>> + Send + 'static,
    ) -> std::result::Result<T, String> {
        let rt = self.rt.as_ref().ok_or("the browser is shut down")?;
        // The timer is made on the runtime: the caller may have none.
        let task = rt.spawn(async move { tokio::time::timeout(limit, fut).await });
        match futures::executor::block_on(task) {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(format!("no answer from chromedriver within {limit:?}")),
            Err(e) => Err(format!("the WebDriver call failed: {e}")),
        }
    }

    /// What chromedriver printed.
    fn driver_output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.out")).unwrap_or_default()
    }

    /// Closes the session, then kills the process group, bounded.
    fn shutdown(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.run(TEARDOWN, async move {
                client.close().await.map_err(|e| e.to_string())
            });
        }
        kill_group(self.process_group());
        // Chromium's crash handler has a session of its own; it ends with
        // Chromium, or here.
        let profile = self.profile_dir().display().to_string();
        super::proc::signal("-KILL", &processes_mentioning(&profile));
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if let Some(rt) = self.rt.take() {
            // Dropping a runtime blocks, which panics inside another one.
            rt.shutdown_background();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() && self.client.is_some() {
            let dir = self.artifacts_dir();
            let note = match self.save_artifacts_in(&dir, "failure") {
                Ok(()) => String::new(),
                Err(e) => format!(", in part: {e}"),
            };
            // Captured with the test's output, which a failure shows.
            eprintln!(
                "browser: the page at the failure is kept in {}{note}",
                dir.display()
            );
        }
        self.shutdown();
    }
}

/// Where the artifacts of the test `test` (`crate::test`) go:
/// `$DROPGATE_TEST_ARTIFACTS/crate/test`, by default under the target
/// folder's `test-artifacts`.
pub fn artifacts_dir(test: &str) -> PathBuf {
    let root = std::env::var_os("DROPGATE_TEST_ARTIFACTS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // CARGO_TARGET_TMPDIR is the target folder's `tmp`.
            option_env!("CARGO_TARGET_TMPDIR")
                .and_then(|t| Path::new(t).parent().map(Path::to_path_buf))
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("test-artifacts")
        });
    let safe = |part: &str| -> String {
        part.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    test.split("::")
        .filter(|p| !p.is_empty())
        .fold(root, |dir, part| dir.join(safe(part)))
}

/// The live processes of the process group `pgid` (zombies, which are
/// dead and only wait to be reaped, left out).
pub fn group_members(pgid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.pgid == pgid && p.state != 'Z')
        .map(|p| p.pid)
        .collect()
}

/// The live processes whose command line mentions `needle` (Chromium's
/// processes all name their profile folder).
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.state != 'Z' && p.cmdline.contains(needle))
        .map(|p| p.pid)
        .collect()
}

struct Process {
    pid: u32,
    pgid: u32,
    state: char,
    cmdline: String,
}

/// Every process, from /proc.
fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ...": comm may hold anything, so
        // read after its last parenthesis.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(state), Some(pgid)) = (
            fields.first().and_then(|s| s.chars().next()),
            fields.get(2).and_then(|s| s.parse().ok()),
        ) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        out.push(Process {
            pid,
            pgid,
            state,
            cmdline,
        });
    }
    out
}

/// SIGTERM to the group, then SIGKILL to what is left after 3 s.
fn kill_group(pgid: u32) {
    let signal_group = |signal: &str| {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    signal_group("-TERM");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if group_members(pgid).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group("-KILL");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && !group_members(pgid).is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Starts chromedriver on a free port, in a process group of its own, and
/// waits until it is ready; gives it and its port.
fn launch(driver: &Path, dir: &Path) -> Result<(Child, u16)> {
    let port = free_port()?;
    let out = std::fs::File::create(dir.join("chromedriver.out"))?;
    // Chromium's crash reports and caches go into the profile folder,
    // not the user's home.
    let profile = dir.join("profile");
    let mut child = Command::new(driver)
        // Not --allowed-ips: with it chromedriver listens on every
        // interface; without, on 127.0.0.1 and ::1 only.
        .arg(format!("--port={port}"))
        .env("XDG_CONFIG_HOME", profile.join("xdg-config"))
        .env("XDG_CACHE_HOME", profile.join("xdg-cache"))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0)
        .spawn()?;
    let deadline = Instant::now() + READY;
    loop {
        if ready(port) {
            return Ok((child, port));
        }
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let said = std::fs::read_to_string(dir.join("chromedriver.out")).unwrap_or_default();
            return Err(match exited {
                Some(status) => format!("chromedriver exited ({status}): {said}"),
                None => format!("chromedriver not ready within {READY:?}: {said}"),
            }
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether chromedriver's `/status` says ready. HTTP/1.1 (it refuses 1.0),
/// read until the answer says so: it keeps the connection open even when
/// asked to close it.
fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    if s.set_read_timeout(Some(Duration::from_millis(500)))
        .is_err()
        || s.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
    {
        return false;
    }
    let (mut seen, mut chunk) = (Vec::new(), [0u8; 4096]);
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            return false;
        }
        seen.extend_from_slice(&chunk[..n]);
        if String::from_utf8_lossy(&seen).contains("\"ready\":true") {
            return true;
        }
    }
    false
}
