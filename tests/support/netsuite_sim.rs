//! `dropgate netsuite-sim` as a child process for the tests: started on a
//! free loopback port with a configuration of test credentials, its base
//! URL and account, requests signed with TBA (or sent as given), the
//! control API (`/_sim/…`), and the independent PyPI `netsuite` client as
//! a peer process that sends the requests a test gives it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use dropgate::netsuite::tba::{Credentials, nonce};
use serde_json::{Value, json};

/// The test account.
pub const ACCOUNT: &str = "7654321_SB1";
/// The test integration and token.
pub const CONSUMER_KEY: &str = "CK-test-4f1e";
/// Its secret.
pub const CONSUMER_SECRET: &str = "CS-test-93ab";
/// The token.
pub const TOKEN_ID: &str = "TK-test-77c2";
/// Its secret.
pub const TOKEN_SECRET: &str = "TS-test-0d5e";

/// A running simulator.
pub struct NetsuiteSim {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// An answer: status, headers (names lower case), body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The ID at the end of `Location`.
    pub fn location_id(&self) -> Option<String> {
        self.header("location")
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_string)
    }

    /// The first `o:errorCode` of an error body.
    pub fn error_code(&self) -> Option<String> {
        self.json()["o:errorDetails"][0]["o:errorCode"]
            .as_str()
            .map(str::to_string)
    }
}

impl NetsuiteSim {
    /// Starts the simulator with the test credentials and `args` (for
    /// example `--seed`, `--concurrency 3`).
    pub fn start(args: &[&str]) -> NetsuiteSim {
        NetsuiteSim::start_with(args, "")
    }

    /// Starts the simulator with the test credentials, `extra` appended
    /// to its configuration (`[[oauth2_client]]` tables), and `args`.
    pub fn start_with(args: &[&str], extra: &str) -> NetsuiteSim {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = dir.path().join("sim.toml");
        std::fs::write(dir.path().join("token.secret"), format!("{TOKEN_SECRET}\n"))
            .expect("the token secret is written");
        std::fs::write(
            &config,
            format!(
                "account = \"{ACCOUNT}\"\n\
                 [[integration]]\nconsumer_key = \"{CONSUMER_KEY}\"\nconsumer_secret = \"{CONSUMER_SECRET}\"\n\
                 [[token]]\nconsumer_key = \"{CONSUMER_KEY}\"\ntoken_id = \"{TOKEN_ID}\"\ntoken_secret_file = \"token.secret\"\n{extra}"
            ),
        )
        .expect("the configuration is written");
        let mut child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
            .arg("netsuite-sim")
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the simulator starts");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the simulator prints its address");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        NetsuiteSim {
            child,
            port,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The test credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            realm: ACCOUNT.into(),
            consumer_key: CONSUMER_KEY.into(),
            consumer_secret: CONSUMER_SECRET.into(),
            token_id: TOKEN_ID.into(),
            token_secret: TOKEN_SECRET.into(),
        }
    }

    /// The `Authorization` header for a request, signed with `creds` now.
    pub fn sign(&self, creds: &Credentials, method: &str, path: &str) -> String {
        let url = url::Url::parse(&format!("{}{path}", self.base_url())).expect("a URL");
        creds.authorization(method, &url, &nonce(), now())
    }

    /// A request signed with the test credentials.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let auth = self.sign(&self.credentials(), method, path);
        self.send(method, path, &[("Authorization", &auth)], body)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    /// SuiteQL, signed, with `Prefer: transient`.
    pub fn suiteql(&self, q: &str, limit: u32, offset: u32) -> Answer {
        let path = format!("/services/rest/query/v1/suiteql?limit={limit}&offset={offset}");
        let auth = self.sign(&self.credentials(), "POST", &path);
        self.send(
            "POST",
            &path,
            &[("Authorization", &auth), ("Prefer", "transient")],
            Some(&json!({ "q": q })),
        )
        .unwrap_or_else(|| panic!("SuiteQL {q}: no answer"))
    }

    /// A request with exactly these headers; `None` when the connection
    /// closed without an answer.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<Answer> {
        let body = body.map(Value::to_string).unwrap_or_default();
        self.exchange(method, path, headers, "application/json", &body)
    }

    /// A request with a body of another type (a form), unauthenticated.
    pub fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Option<Answer> {
        self.exchange(method, path, &[], content_type, body)
    }

    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &str,
    ) -> Option<Answer> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).ok()?;
        s.write_all(body.as_bytes()).ok()?;
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Answer {
            status,
            headers,
            body: body.to_string(),
        })
    }

    /// A control call (`/_sim/…`, unauthenticated).
    pub fn control(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        self.send(method, &format!("/_sim/{path}"), &[], body)
            .unwrap_or_else(|| panic!("/_sim/{path}: no answer"))
    }

    /// Arms a fault (`{"status":503,"times":2}` …).
    pub fn fault(&self, spec: Value) {
        let a = self.control("POST", "faults", Some(&spec));
        assert_eq!(a.status, 200, "the fault {spec} is armed: {}", a.body);
    }

    /// Every record of a type, expanded.
    pub fn records(&self, record_type: &str) -> Vec<Value> {
        match self
            .control("GET", &format!("records/{record_type}"), None)
            .json()
        {
            Value::Array(v) => v,
            other => panic!("records of {record_type}: {other}"),
        }
    }

    /// The counters.
    pub fn stats(&self) -> Value {
        self.control("GET", "stats", None).json()
    }

    /// Changes the concurrency limit, its form, the token lifetime.
    pub fn configure(&self, settings: Value) {
        let a = self.control("POST", "config", Some(&settings));
        assert_eq!(a.status, 204, "{}", a.body);
    }
}

impl Drop for NetsuiteSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The Python of the NetSuite peers' virtualenv (scripts/setup.sh makes
/// it), or `None` after the skip convention of `skip.rs`.
pub fn peer_python() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let python = cache.join("dropgate-tools/netsuite-peers-venv/bin/python");
    if python.is_file() {
        Some(python)
    } else {
        super::skip::unavailable(
            "the NetSuite peers' virtualenv (PyPI netsuite)",
            &format!("{} is missing", python.display()),
        )
    }
}

/// The peer: the PyPI `netsuite` package's REST client, pointed at the
/// simulator as feasibility-2.md §4 shows, reading one request per line
/// (JSON) and answering one line each.
const PEER: &str = r#"
import asyncio, json, sys, warnings
warnings.filterwarnings("ignore")
from netsuite import Config, TokenAuth
from netsuite.rest_api import NetSuiteRestApi

base, account, ck, cs, tk, ts = sys.argv[1:7]

class Local(NetSuiteRestApi):
    def _make_url(self, subpath):
        return f"{base}/services/rest{subpath}"

api = Local(Config(account=account, auth=TokenAuth(
    consumer_key=ck, consumer_secret=cs, token_id=tk, token_secret=ts)))

async def one(req):
    if "suiteql" in req:
        try:
            body = await api.suiteql(req["suiteql"], limit=req.get("limit", 10), offset=req.get("offset", 0))
            return {"status": 200, "body": body}
        except Exception as e:
            return {"status": getattr(e, "status_code", 0), "error": str(e)}
    kw = {}
    for k in ("json", "params", "headers"):
        if k in req:
            kw[k] = req[k]
    resp = await api._request_impl(req["method"], req["path"], **kw)
    body = None
    if resp.content:
        try:
            body = resp.json()
        except Exception:
            body = resp.text
    return {"status": resp.status_code, "location": resp.headers.get("location"), "body": body}

async def main():
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        req = json.loads(line)
        if isinstance(req, list):
            out = await asyncio.gather(*(one(r) for r in req), return_exceptions=True)
            out = [o if isinstance(o, dict) else {"status": 0, "error": repr(o)} for o in out]
        else:
            try:
                out = await one(req)
            except Exception as e:
                out = {"status": 0, "error": repr(e)}
        print(json.dumps(out), flush=True)

asyncio.run(main())
"#;

/// A running peer process.
pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Peer {
    /// Starts the peer against `sim` with these credentials (the test
    /// ones, or wrong ones).
    pub fn start(python: &PathBuf, sim: &NetsuiteSim, creds: &Credentials) -> Peer {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let script = dir.path().join("peer.py");
        std::fs::write(&script, PEER).expect("the peer script is written");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(sim.base_url())
            .args([
                &creds.realm,
                &creds.consumer_key,
                &creds.consumer_secret,
                &creds.token_id,
                &creds.token_secret,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the peer starts");
        let stdin = child.stdin.take().expect("its stdin");
        let stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        Peer {
            child,
            stdin,
            stdout,
            _dir: dir,
        }
    }

    /// Sends one request (or a list, sent at the same time) and reads the
    /// answer: `{"status","location","body"}` (a list for a list).
    pub fn ask(&mut self, request: Value) -> Value {
        writeln!(self.stdin, "{request}").expect("the peer reads");
        self.stdin.flush().expect("the peer reads");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("the peer answers");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("the peer's answer {line:?}"))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
