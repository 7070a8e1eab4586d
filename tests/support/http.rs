//! A small real HTTP/1.1 receiver on 127.0.0.1 for the webhook relay's
//! tests: it records every request (path, headers, body), answers 200, or
//! 500 to the idempotency keys it is told to fail once, and can be stopped
//! and started again on the same port. It can also hold the Nth request
//! without an answer until it is released, so that a test can stop or
//! kill the gateway while a document is in flight, and answer each
//! request only after a delay (a slow receiver). And a client of one
//! request at a time ([`request`], [`request_with`]) for the API's tests.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A request as received.
#[derive(Clone, Debug)]
pub struct Request {
    /// `POST /documents`.
    pub line: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The status answered; 0 while a held request has no answer yet.
    pub status: u16,
}

/// The request to hold, and whether it came and was let go.
#[derive(Debug, Default)]
struct HoldState {
    /// The request to hold, counting from 1.
    nth: Option<usize>,
    arrived: bool,
    released: bool,
}

/// A held request: its state, and a signal when it changes.
#[derive(Debug, Default)]
struct Hold {
    state: Mutex<HoldState>,
    changed: Condvar,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The receiver.
pub struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    fail_once: Arc<Mutex<HashSet<String>>>,
    hold: Arc<Hold>,
    /// Milliseconds to wait before each answer.
    delay_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn handle(
    stream: TcpStream,
    requests: &Mutex<Vec<Request>>,
    fail_once: &Mutex<HashSet<String>>,
    hold: &Hold,
    delay_ms: u64,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    // A request cut short (its sender killed while writing it) was never
    // received: it is not recorded, and gets no answer.
    let cut = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "request cut short");
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(cut());
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Err(cut());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let key = headers
        .iter()
        .find(|(n, _)| n == "idempotency-key")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let status = if fail_once
        .lock()
        .map(|mut f| f.remove(&key))
        .unwrap_or(false)
    {
        500
    } else {
        200
    };
    let request = Request {
        line: line.trim_end().to_string(),
        headers,
        body,
        status,
    };
    let Ok(mut all) = requests.lock() else {
        return Ok(());
    };
    let held = hold
        .state
        .lock()
        .is_ok_and(|h| h.nth == Some(all.len() + 1) && !h.released);
    if held {
        // Recorded as it arrived, unanswered; answered 200 once released
        // (to a gateway that may be gone by then).
        let at = all.len();
        all.push(Request {
            status: 0,
            ..request
        });
        drop(all);
        if let Ok(mut h) = hold.state.lock() {
            h.arrived = true;
            hold.changed.notify_all();
            while !h.released {
                h = match hold.changed.wait(h) {
                    Ok(h) => h,
                    Err(_) => return Ok(()),
                };
            }
        }
        if let Ok(mut all) = requests.lock()
            && let Some(r) = all.get_mut(at)
        {
            r.status = status;
        }
    } else {
        all.push(request);
        drop(all);
    }
    if delay_ms > 0 {
        std::thread::sleep(Duration::from_millis(delay_ms));
    }
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        if status == 200 {
            "OK"
        } else {
            "Internal Server Error"
        }
    )?;
    stream.flush()
}

impl Receiver {
    /// A free port on 127.0.0.1, with nothing listening on it yet.
    pub fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    /// Answers each request `delay` after it arrives.
    pub fn slow(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Starts listening on `port`.
    pub fn start(port: u16) -> Receiver {
        let mut r = Receiver {
            port,
            requests: Arc::new(Mutex::new(Vec::new())),
            fail_once: Arc::new(Mutex::new(HashSet::new())),
            hold: Arc::new(Hold::default()),
            delay_ms: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        r.listen();
        r
    }

    fn listen(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the port is free");
        listener.set_nonblocking(true).expect("nonblocking");
        self.stop.store(false, Ordering::SeqCst);
        let (requests, fail_once, hold, delay_ms, stop) = (
            Arc::clone(&self.requests),
            Arc::clone(&self.fail_once),
            Arc::clone(&self.hold),
            Arc::clone(&self.delay_ms),
            Arc::clone(&self.stop),
        );
        self.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = handle(
                            stream,
                            &requests,
                            &fail_once,
                            &hold,
                            delay_ms.load(Ordering::SeqCst),
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }));
    }

    /// Answers 500 the first time a request carries `key`.
    pub fn fail_once(&self, key: &str) {
        if let Ok(mut f) = self.fail_once.lock() {
            f.insert(key.to_string());
        }
    }

    /// Holds the `nth` request (counting from 1) without an answer until
    /// [`Receiver::release`].
    pub fn hold(&self, nth: usize) {
        if let Ok(mut h) = self.hold.state.lock() {
            *h = HoldState {
                nth: Some(nth),
                ..HoldState::default()
            };
        }
    }

    /// Waits until the held request has arrived; false if it has not
    /// within `timeout`.
    pub fn wait_for_held(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Ok(mut h) = self.hold.state.lock() else {
            return false;
        };
        while !h.arrived {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            h = match self.hold.changed.wait_timeout(h, left) {
                Ok((h, _)) => h,
                Err(_) => return false,
            };
        }
        true
    }

    /// Answers the held request (200), and holds no other.
    pub fn release(&self) {
        if let Ok(mut h) = self.hold.state.lock() {
            h.released = true;
            self.hold.changed.notify_all();
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Stops listening (connections are then refused).
    pub fn stop(&mut self) {
        self.release();
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One HTTP/1.1 request; the status and the body of the answer.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    request_with(port, method, path, token, &[], body).map(|(status, _, body)| (status, body))
}

/// An answer: its status, its headers (names lower-cased) and its body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// One HTTP/1.1 request with more headers.
pub fn request_with(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut extra: String = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    for (name, value) in headers {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers, body.to_string()))
}
