//! A vendor's feed on 127.0.0.1 for the HTTP pull channel's tests (axum,
//! on a runtime of its own): `/feed` answers the body it is given with its
//! `ETag` and `Last-Modified`, `304` to a matching `If-None-Match` or
//! `If-Modified-Since`, `401` to a wrong login, `500` as many times as it
//! is told; `/chunked` is the same body without a length; `/pages` serves
//! JSON pages by `?page=N` or `?cursor=cN` (1 when neither), with a
//! `Link: rel="next"` header while there are more, and a page it is
//! given past the last.
//! Every request is recorded. Over plain HTTP, or TLS with a test CA's
//! certificate.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The login the feed asks for.
#[derive(Clone, Debug)]
pub enum Login {
    /// Basic authentication with this user and password.
    Basic(String, String),
    /// `Authorization: Bearer` with this token.
    Bearer(String),
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Path and query.
    pub target: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The status answered.
    pub status: u16,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct FeedState {
    body: Vec<u8>,
    content_type: String,
    etag: Option<String>,
    last_modified: Option<String>,
    login: Option<Login>,
    failures: u32,
    pages: Vec<String>,
    past_last: String,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<FeedState>>;

/// The running feed.
pub struct Feed {
    addr: SocketAddr,
    tls: bool,
    state: Shared,
    _runtime: tokio::runtime::Runtime,
}

/// TLS connections on a TCP listener; a failed handshake is dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl Feed {
    /// Starts a feed on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<Feed> {
        Feed::start_with(None)
    }

    /// Starts a feed over TLS with the certificate and key of `tls`
    /// (`support::tls::make`: `server.pem`, `server.key`).
    pub fn start_tls(tls: &std::path::Path) -> Result<Feed, Box<dyn std::error::Error>> {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(tls.join("server.pem"))?
            .collect::<Result<Vec<_>, _>>()?;
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(tls.join("server.key"))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
        Ok(Feed::start_with(Some(tokio_rustls::TlsAcceptor::from(
            Arc::new(config),
        )))?)
    }

    fn start_with(tls: Option<tokio_rustls::TlsAcceptor>) -> std::io::Result<Feed> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/feed", get(feed))
            .route("/chunked", get(feed))
            .route("/pages", get(pages))
            .with_state(Arc::clone(&state));
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let secure = tls.is_some();
        match tls {
            None => runtime.spawn(async move {
                let _ = axum::serve(listener, app).await;
            }),
            Some(acceptor) => runtime.spawn(async move {
                let tls = TlsListener {
                    tcp: listener,
                    acceptor,
                };
                let _ = axum::serve(tls, app).await;
            }),
        };
        Ok(Feed {
            addr,
            tls: secure,
            state,
            _runtime: runtime,
        })
    }

    /// `http://127.0.0.1:PORT/PATH` (`https://` over TLS).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    fn with<T>(&self, f: impl FnOnce(&mut FeedState) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s)
    }

    /// Serves `body` as `content_type`, with these validators.
    pub fn set(
        &self,
        body: &[u8],
        content_type: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) {
        self.with(|s| {
            s.body = body.to_vec();
            s.content_type = content_type.to_string();
            s.etag = etag.map(str::to_string);
            s.last_modified = last_modified.map(str::to_string);
        });
    }

    /// Asks for this login from now on.
    pub fn require(&self, login: Login) {
        self.with(|s| s.login = Some(login));
    }

    /// Answers the next `n` requests with 500.
    pub fn fail_next(&self, n: u32) {
        self.with(|s| s.failures = n);
    }

    /// The JSON pages of `/pages`, and what comes past the last.
    pub fn set_pages(&self, pages: &[&str], past_last: &str) {
        self.with(|s| {
            s.pages = pages.iter().map(|p| p.to_string()).collect();
            s.past_last = past_last.to_string();
        });
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }

    /// Forgets the requests so far.
    pub fn forget(&self) {
        self.with(|s| s.seen.clear());
    }
}

fn record(s: &mut FeedState, uri: &Uri, headers: &HeaderMap, status: StatusCode) {
    s.seen.push(Seen {
        target: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        status: status.as_u16(),
    });
}

/// The login and the failures to give: an answer, or `None` to go on.
fn gate(s: &mut FeedState, headers: &HeaderMap) -> Option<StatusCode> {
    if let Some(login) = &s.login {
        let want = match login {
            Login::Basic(u, p) => {
                use base64::Engine;
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                )
            }
            Login::Bearer(t) => format!("Bearer {t}"),
        };
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            return Some(StatusCode::UNAUTHORIZED);
        }
    }
    if s.failures > 0 {
        s.failures -= 1;
        return Some(StatusCode::INTERNAL_SERVER_ERROR);
    }
    None
}

async fn feed(State(state): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(status) = gate(&mut s, &headers) {
        record(&mut s, &uri, &headers, status);
        let said = match status {
            StatusCode::UNAUTHORIZED => "invalid credentials",
            _ => "temporarily broken",
        };
        return (status, said).into_response();
    }
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    let unchanged = match (text(header::IF_NONE_MATCH), &s.etag) {
        (Some(sent), Some(etag)) => sent == etag,
        (Some(_), None) => false,
        (None, _) => matches!(
            (text(header::IF_MODIFIED_SINCE), &s.last_modified),
            (Some(sent), Some(lm)) if sent == lm
        ),
    };
    let mut builder = Response::builder();
    if let Some(etag) = &s.etag {
        builder = builder.header(header::ETAG, etag);
    }
    if let Some(lm) = &s.last_modified {
        builder = builder.header(header::LAST_MODIFIED, lm);
    }
    let status = if unchanged {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    record(&mut s, &uri, &headers, status);
    if unchanged {
        return builder
            .status(status)
            .body(Body::empty())
            .unwrap_or_default();
    }
    let body = if uri.path() == "/chunked" {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            s.body.chunks(64 << 10).map(|c| Ok(c.to_vec())).collect();
        Body::from_stream(futures::stream::iter(chunks))
    } else {
        Body::from(s.body.clone())
    };
    builder
        .status(status)
        .header(header::CONTENT_TYPE, &s.content_type)
        .body(body)
        .unwrap_or_default()
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<usize>,
    cursor: Option<String>,
}

async fn pages(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(status) = gate(&mut s, &headers) {
        record(&mut s, &uri, &headers, status);
        return status.into_response();
    }
    let n = q
        .page
        .or_else(|| {
            q.cursor
                .as_deref()
                .and_then(|c| c.trim_start_matches('c').parse().ok())
        })
        .unwrap_or(1);
    let body = n
        .checked_sub(1)
        .and_then(|i| s.pages.get(i))
        .cloned()
        .unwrap_or_else(|| s.past_last.clone());
    record(&mut s, &uri, &headers, StatusCode::OK);
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json");
    if n < s.pages.len() {
        builder = builder.header(
            header::LINK,
            format!(
                "</pages?page={}>; rel=\"next\", </pages?page={}>; rel=\"last\"",
                n + 1,
                s.pages.len()
            ),
        );
    }
    builder.body(Body::from(body)).unwrap_or_default()
}
