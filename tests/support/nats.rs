//! A private nats-server with JetStream on 127.0.0.1 for the NATS relay's
//! tests: the Debian package `nats-server` (or the program
//! `DROPGATE_TEST_NATS_SERVER` names), on a free port, with its JetStream
//! storage, pid file and log in a temporary folder of its own. It can be
//! stopped and started again on the same port with the same storage (NATS
//! down and back), paused and resumed (SIGSTOP, SIGCONT), and it is killed
//! on `Drop`. With `Auth`, it requires a user and password or a token;
//! with `start_tls`, it speaks TLS only, with a certificate of the test CA
//! (`support::tls`).
//!
//! The test's side of the bus is async-nats too, each call on a small
//! runtime of its own: `messages` reads every message a stream holds
//! through a consumer, as the routing core would; `Watch` is a core
//! subscription that sees every publish, a repeat that JetStream drops
//! included.
//!
//! `NatsServer::new` gives `None` only when nats-server is not installed,
//! after printing why, and fails the test instead when `CI` is set (see
//! `skip`; `scripts/setup.sh` installs it).

use std::error::Error;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;

use super::proc::{listening, program, signal};
use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The user the server accepts with `Auth::User`.
pub const USER: &str = "gateway";

/// Its password.
pub const PASSWORD: &str = "Nats-s3cret-0815";

/// The token the server accepts with `Auth::Token`.
pub const TOKEN: &str = "nats-token-4711-abcdef";

/// What the server asks of a client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// Nothing.
    #[default]
    None,
    /// `USER` and `PASSWORD`.
    User,
    /// `TOKEN`.
    Token,
}

/// A message a stream holds.
#[derive(Clone, Debug)]
pub struct Stored {
    /// Its subject.
    pub subject: String,
    /// Its `Nats-Msg-Id` header.
    pub id: String,
    /// Its headers, names as sent.
    pub headers: Vec<(String, String)>,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// A private nats-server.
pub struct NatsServer {
    dir: tempfile::TempDir,
    program: PathBuf,
    port: u16,
    auth: Auth,
    /// Whether it speaks TLS only, with a leaf of the test CA
    /// (`support::tls`).
    tls: bool,
    child: Option<Child>,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A small runtime for one call of the test's side.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

impl NatsServer {
    /// A server on a free port, not started yet; or `None` (after saying
    /// why) when nats-server is not installed (a failure under CI).
    pub fn new(auth: Auth) -> Result<Option<NatsServer>> {
        NatsServer::new_with(auth, false)
    }

    /// A server that speaks TLS only (its certificate signed by the test
    /// CA, `ca_file`), started; or `None` as for `new`.
    pub fn start_tls(auth: Auth) -> Result<Option<NatsServer>> {
        let Some(mut server) = NatsServer::new_with(auth, true)? else {
            return Ok(None);
        };
        server.launch()?;
        Ok(Some(server))
    }

    fn new_with(auth: Auth, tls: bool) -> Result<Option<NatsServer>> {
        let program = match program(
            "DROPGATE_TEST_NATS_SERVER",
            "/usr/sbin/nats-server",
            "nats-server",
        ) {
            Ok(p) => p,
            Err(why) => return Ok(unavailable("nats-server (nats-server)", &why)),
        };
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("jetstream"))?;
        if tls {
            super::tls::make(&dir.path().join("tls"))?;
        }
        Ok(Some(NatsServer {
            dir,
            program,
            port: free_port()?,
            auth,
            tls,
            child: None,
        }))
    }

    /// A started server, or `None` as for `new`.
    pub fn start(auth: Auth) -> Result<Option<NatsServer>> {
        let Some(mut server) = NatsServer::new(auth)? else {
            return Ok(None);
        };
        // Another process may take the free port before the server binds it.
        let mut last = None;
        for _ in 0..3 {
            match server.launch() {
                Ok(()) => return Ok(Some(server)),
                Err(e) => {
                    last = Some(e);
                    server.port = free_port()?;
                }
            }
        }
        Err(last.unwrap_or_else(|| "nats-server did not start".into()))
    }

    /// Starts it (again) on its port, with the storage it had.
    pub fn launch(&mut self) -> Result<()> {
        self.stop();
        let d = self.dir.path();
        let mut command = Command::new(&self.program);
        command
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(d.join("jetstream"))
            .arg("-P")
            .arg(d.join("nats.pid"))
            .arg("-l")
            .arg(d.join("nats.log"));
        if self.tls {
            let tls = d.join("tls");
            command
                .arg("--tls")
                .arg("--tlscert")
                .arg(tls.join("server.pem"))
                .arg("--tlskey")
                .arg(tls.join("server.key"));
        }
        match self.auth {
            Auth::None => {}
            Auth::User => {
                command.args(["--user", USER, "--pass", PASSWORD]);
            }
            Auth::Token => {
                command.args(["--auth", TOKEN]);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // Listening, and JetStream ready (the log says so last).
            if listening(self.port) && self.log().contains("Server is ready") {
                self.child = Some(child);
                return Ok(());
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("nats-server exited ({status}): {}", self.log()).into());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("nats-server did not start: {}", self.log()).into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills it; connections are then refused. What JetStream stored stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The log of the next start is read from its beginning.
        let _ = std::fs::remove_file(self.dir.path().join("nats.log"));
    }

    /// Freezes it (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) {
        if let Some(child) = &self.child {
            signal("-STOP", &[child.id()]);
        }
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        if let Some(child) = &self.child {
            signal("-CONT", &[child.id()]);
        }
    }

    /// Its port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL (`tls://` when it speaks TLS only).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "tls" } else { "nats" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA that signed its certificate (with `start_tls`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    /// A CA that signed nothing it shows.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/other-ca.pem")
    }

    /// What it logged since it was last started.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default()
    }

    /// A file holding `PASSWORD` (and a line break).
    pub fn password_file(&self) -> Result<PathBuf> {
        let path = self.dir.path().join("password");
        std::fs::write(&path, format!("{PASSWORD}\n"))?;
        Ok(path)
    }

    fn options(&self) -> async_nats::ConnectOptions {
        let mut options = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(Some(20));
        if self.tls {
            options = options
                .require_tls(true)
                .add_root_certificates(self.ca_file());
        }
        match self.auth {
            Auth::None => options,
            Auth::User => options.user_and_password(USER.into(), PASSWORD.into()),
            Auth::Token => options.token(TOKEN.into()),
        }
    }

    /// Creates `stream` taking `subjects` (a stream made before the
    /// gateway starts, by whoever runs the bus).
    pub fn create_stream(&self, stream: &str, subjects: &[&str], window: Duration) -> Result<()> {
        runtime()?.block_on(async {
            let client = self.options().connect(self.url()).await?;
            let js = async_nats::jetstream::new(client);
            js.create_stream(async_nats::jetstream::stream::Config {
                name: stream.to_string(),
                subjects: subjects.iter().map(|s| s.to_string()).collect(),
                duplicate_window: window,
                ..Default::default()
            })
            .await?;
            Ok(())
        })
    }

    /// Publishes `payload` on `subject` with `Nats-Msg-Id: id` (and the
    /// gateway's `Content-Type`), as if a delivery had been published
    /// once before its acknowledgment was lost.
    pub fn publish(&self, subject: &str, id: &str, payload: &[u8]) -> Result<()> {
        runtime()?.block_on(async {
            let client = self.options().connect(self.url()).await?;
            let js = async_nats::jetstream::new(client);
            let publish = async_nats::jetstream::message::PublishMessage::build()
                .payload(payload.to_vec().into())
                .message_id(id)
                .header("Content-Type", "application/json");
            js.send_publish(subject.to_string(), publish).await?.await?;
            Ok(())
        })
    }

    /// The configuration of `stream`: its subjects and duplicate window.
    pub fn stream_config(&self, stream: &str) -> Result<(Vec<String>, Duration)> {
        runtime()?.block_on(async {
            let client = self.options().connect(self.url()).await?;
            let js = async_nats::jetstream::new(client);
            let mut s = js.get_stream(stream).await?;
            let info = s.info().await?;
            Ok((info.config.subjects.clone(), info.config.duplicate_window))
        })
    }

    /// Every message `stream` holds, in order, read by an ephemeral
    /// consumer from its first message.
    pub fn messages(&self, stream: &str) -> Result<Vec<Stored>> {
        use async_nats::jetstream::consumer::{AckPolicy, pull};
        runtime()?.block_on(async {
            let client = self.options().connect(self.url()).await?;
            let js = async_nats::jetstream::new(client);
            let mut s = js.get_stream(stream).await?;
            let count = s.info().await?.state.messages;
            let consumer = s
                .create_consumer(pull::Config {
                    ack_policy: AckPolicy::None,
                    ..Default::default()
                })
                .await?;
            let mut out = Vec::new();
            while (out.len() as u64) < count {
                let mut batch = consumer
                    .fetch()
                    .max_messages(1000)
                    .expires(Duration::from_secs(2))
                    .messages()
                    .await?;
                let before = out.len();
                while let Some(m) = batch.next().await {
                    let m = m.map_err(|e| e.to_string())?;
                    out.push(stored(&m.message));
                }
                if out.len() == before {
                    return Err(format!(
                        "the stream holds {count} messages, {} could be read",
                        out.len()
                    )
                    .into());
                }
            }
            Ok(out)
        })
    }

    /// Starts watching `subject` (core NATS: every publish, repeats that
    /// JetStream drops included). Returns once the server has the
    /// subscription.
    pub fn watch(&self, subject: &str) -> Result<Watch> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::result::Result<(), String>>();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let options = self.options();
        let url = self.url();
        let subject = subject.to_string();
        let sink = Arc::clone(&seen);
        let thread = std::thread::spawn(move || {
            let Ok(rt) = runtime() else {
                let _ = ready_tx.send(Err("no runtime".into()));
                return;
            };
            rt.block_on(async move {
                let subscribed = async {
                    let client = options.connect(url).await?;
                    let sub = client.subscribe(subject).await?;
                    client.flush().await?;
                    Ok::<_, async_nats::Error>((client, sub))
                }
                .await;
                let (_client, mut sub) = match subscribed {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                loop {
                    tokio::select! {
                        m = sub.next() => match m {
                            Some(m) => {
                                if let Ok(mut seen) = sink.lock() {
                                    seen.push(stored(&m));
                                }
                            }
                            None => break,
                        },
                        _ = &mut stop_rx => break,
                    }
                }
            });
        });
        ready_rx.recv_timeout(Duration::from_secs(20))??;
        Ok(Watch {
            seen,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

fn stored(m: &async_nats::Message) -> Stored {
    let headers: Vec<(String, String)> = m
        .headers
        .iter()
        .flat_map(|h| h.iter())
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(move |v| (name.to_string(), v.as_str().to_string()))
        })
        .collect();
    let id = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Nats-Msg-Id"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Stored {
        subject: m.subject.to_string(),
        id,
        headers,
        payload: m.payload.to_vec(),
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // A paused server does not die of SIGKILL until it is let go.
        self.resume();
        self.stop();
    }
}

/// A core subscription's messages, as they come.
pub struct Watch {
    seen: Arc<Mutex<Vec<Stored>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    /// The messages seen so far.
    pub fn seen(&self) -> Vec<Stored> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` messages were seen; false if they did not
    /// come within `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.seen().len() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
