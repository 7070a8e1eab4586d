//! A client of the web console for the tests: one person's cookies kept
//! and sent back, pages read and forms posted over HTTP/1.1 on
//! 127.0.0.1, the CSRF token of a page found; and the password hash
//! `dropgate console hash-password` prints, for a `[[console.users]]`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::cli::text;

/// An answer: status, headers (names lower-cased), body.
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first `name="csrf" value="..."` of a page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no token in {}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').expect("quoted")].to_string()
    }
}

/// A client of one person: the cookies it was given, sent back.
#[derive(Default)]
pub struct Person {
    /// The console's port on 127.0.0.1.
    pub port: u16,
    /// The cookies it was given, by name.
    pub cookies: HashMap<String, String>,
}

impl Person {
    pub fn new(port: u16) -> Person {
        Person {
            port,
            cookies: HashMap::new(),
        }
    }

    pub fn request(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let body = form
            .map(|f| {
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(f)
                    .finish()
            })
            .unwrap_or_default();
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let cookie = if cookies.is_empty() {
            String::new()
        } else {
            format!("Cookie: {}\r\n", cookies.join("; "))
        };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("sent");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read");
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        for (_, c) in headers.iter().filter(|(n, _)| n == "set-cookie") {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        Answer {
            status,
            headers,
            body: body.to_string(),
        }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, None)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.request("POST", path, Some(form))
    }

    /// Logs in (the login page first, for its token).
    pub fn log_in(&mut self, name: &str, password: &str) -> Answer {
        let page = self.get("/login");
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("password", password),
                ("next", "/files"),
            ],
        )
    }
}

/// The argon2 hash `dropgate console hash-password` prints for `password`
/// (read from standard input).
pub fn hash(password: &str) -> String {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["console", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("ends");
    assert!(out.status.success());
    text(&out.stdout).trim().to_string()
}
