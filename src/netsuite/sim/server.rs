//! The simulator's HTTP server (axum): the REST record service, SuiteQL,
//! `governanceLimits` and the OAuth 2.0 token endpoint under
//! `/services/rest/`, each request authenticated, counted against the
//! account's concurrency limit and open to injected faults (the gate), and
//! the unauthenticated test control API under `/_sim/`, mounted only on a
//! loopback listener.
//!
//! A fault that drops the connection after the write needs the connection
//! itself: the listener wraps each stream with a switch the gate turns,
//! after which the stream refuses to write, so hyper closes it without a
//! byte of the answer, as a client sees a timeout after the work was done.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::auth::{Auth, unix_now};
use super::config::{LimitError, SimConfig};
use super::error::{ErrorCode, NsError};
use super::faults::{Fault, FaultSpec, Faults};
use super::governance::Governance;
use super::records::{ApplyOptions, RecordType, Rendering};
use super::service::{Key, Service};
use super::store::Store;
use super::{seed, suiteql};

/// The largest request body taken (NetSuite's REST limit is about 104 MB;
/// the simulator's records are small).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// How to run the simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Allow a non-loopback address (then the control API is off).
    pub public: bool,
    /// The SQLite file (in memory when absent).
    pub db: Option<PathBuf>,
    /// The account ID (the TBA realm).
    pub account: String,
    /// Integrations, tokens, OAuth 2.0 clients.
    pub config: SimConfig,
    /// The account's concurrency limit.
    pub concurrency: usize,
    /// Load the demo data set at start.
    pub seed: bool,
}

/// Why the simulator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A non-loopback address without `--public`.
    #[error(
        "{0} is not a loopback address: the simulator has an unauthenticated control API; give --public to listen there without it"
    )]
    NotLoopback(SocketAddr),
    /// The port cannot be bound.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The store cannot be opened.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    /// An OAuth 2.0 client's certificate cannot be read.
    #[error("an OAuth 2.0 client's certificate: {0}")]
    Certificate(#[from] super::token::CertificateFileError),
    /// The demo data cannot be loaded.
    #[error("loading the demo data: {0}")]
    Seed(NsError),
    /// The server stopped on an I/O error.
    #[error("serving: {0}")]
    Serve(io::Error),
}

/// The simulated account and its machinery.
pub struct Sim {
    service: Arc<Service>,
    auth: Auth,
    governance: Governance,
    faults: Faults,
    oauth2: super::token::Clients,
}

/// The connection a request came on: its drop switch.
#[derive(Clone, Debug)]
pub struct Conn {
    kill: Arc<AtomicBool>,
}

struct SimListener(TcpListener);

/// A TCP stream that stops writing once its switch is turned.
pub struct SwitchedStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl Listener for SimListener {
    type Io = SwitchedStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    return (
                        SwitchedStream {
                            inner: stream,
                            kill: Arc::clone(&kill),
                        },
                        Conn { kill },
                    );
                }
                // Out of file descriptors and the like: wait, as axum's
                // own TCP listener does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn {
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, SimListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn dropped() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the simulator dropped the connection (fault)",
    )
}

impl AsyncRead for SwitchedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SwitchedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Runs the simulator until `shutdown` completes; `on_listening` gets the
/// bound address once it accepts connections.
pub async fn serve(
    opts: SimOptions,
    on_listening: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    if !opts.listen.ip().is_loopback() && !opts.public {
        return Err(StartError::NotLoopback(opts.listen));
    }
    let control = opts.listen.ip().is_loopback() && !opts.public;
    let db = opts.db.clone();
    let service = tokio::task::spawn_blocking(move || Store::open(db.as_deref()).map(Service::new))
        .await
        .map_err(|e| StartError::Serve(io::Error::other(e.to_string())))??;
    let service = Arc::new(service);
    if opts.seed {
        let s = Arc::clone(&service);
        tokio::task::spawn_blocking(move || seed::load(&s))
            .await
            .map_err(|e| StartError::Serve(io::Error::other(e.to_string())))?
            .map_err(StartError::Seed)?;
    }
    let sim = Arc::new(Sim {
        service,
        auth: Auth::new(&opts.account, &opts.config),
        governance: Governance::new(opts.concurrency, opts.config.limit_error),
        faults: Faults::default(),
        oauth2: super::token::Clients::load(&opts.config.oauth2_client)?,
    });
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: opts.listen,
        source,
    })?;
    let app = router(Arc::clone(&sim), control);
    on_listening(addr);
    axum::serve(
        SimListener(listener),
        app.into_make_service_with_connect_info::<Conn>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(StartError::Serve)
}

fn router(sim: Arc<Sim>, control: bool) -> Router {
    let services = Router::new()
        .route(
            "/services/rest/record/v1/{ty}",
            get(list_records).post(create_record),
        )
        .route(
            "/services/rest/record/v1/{ty}/{key}",
            get(get_record)
                .patch(patch_record)
                .put(put_record)
                .delete(delete_record),
        )
        .route("/services/rest/record/v1/{ty}/{key}/{sub}", get(get_sub))
        .route(
            "/services/rest/record/v1/{ty}/{key}/{sub}/{rest}",
            get(get_sub_line).post(transform_record),
        )
        .route("/services/rest/query/v1/suiteql", post(suiteql_query))
        .route("/app/site/hosting/restlet.nl", post(run_restlet))
        .route(super::token::TOKEN_PATH, post(token))
        .route(
            "/services/rest/system/v1/governanceLimits",
            get(governance_limits),
        )
        .route_layer(middleware::from_fn_with_state(Arc::clone(&sim), gate));
    let mut app = services;
    if control {
        app = app
            .route("/_sim/faults", post(add_fault).delete(clear_faults))
            .route("/_sim/records/{ty}", get(dump_records))
            .route("/_sim/stats", get(stats))
            .route("/_sim/reset", post(reset))
            .route("/_sim/seed", post(load_seed))
            .route("/_sim/config", post(configure));
    }
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(sim)
}

/// An error as NetSuite answers it.
pub fn answer(e: &NsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, e.body().to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.oracle.resource+json; type=error"),
    );
    resp
}

fn json_answer(status: StatusCode, value: &Value, kind: &'static str) -> Response {
    let mut resp = (status, value.to_string()).into_response();
    let ct = match kind {
        "collection" => "application/vnd.oracle.resource+json; type=collection",
        "plain" => "application/json",
        _ => "application/vnd.oracle.resource+json; type=singular-resource",
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

/// Every request to `/services/rest/`: authenticated, counted against
/// the concurrency limit, open to faults.
async fn gate(
    State(sim): State<Arc<Sim>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
    next: Next,
) -> Response {
    let resp = gate_inner(&sim, &conn, req, next).await;
    sim.governance.count(resp.status().as_u16());
    resp
}

async fn gate_inner(sim: &Sim, conn: &Conn, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return answer(&NsError::invalid_content(format!(
            "The request body is larger than {MAX_BODY} bytes or could not be read."
        )));
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let method = parts.method.as_str().to_string();
    // The token endpoint authenticates the client by its assertion.
    if parts.uri.path() != super::token::TOKEN_PATH {
        let url = request_url(&parts.headers, &path_and_query);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let checked = match &url {
            Some(url) => sim
                .auth
                .check(&method, url, header, &bytes, unix_now())
                .map(|_| ()),
            None => {
                sim.auth
                    .remember_failure(format!("{method} {path_and_query}: no Host header"));
                Err(super::auth::LoginFailure::NoHeader)
            }
        };
        if checked.is_err() {
            return answer(&NsError::invalid_login());
        }
    }
    let _slot = match sim.governance.enter() {
        Ok(slot) => slot,
        Err(e) => return answer(&e),
    };
    let mut drop_after = false;
    match sim.faults.take(&method, &path_and_query) {
        Some(Fault::Status(status)) => {
            let e = NsError::new(
                status,
                ErrorCode::UnexpectedError,
                "An unexpected error occurred. Error ID: simulated fault.",
            );
            return answer(&e);
        }
        Some(Fault::RateLimit(retry_after)) => {
            let mut resp = answer(&sim.governance.refusal());
            if let Some(s) = retry_after
                && let Ok(v) = HeaderValue::from_str(&s.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropAfterWrite) => drop_after = true,
        None => {}
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if drop_after {
        conn.kill.store(true, Ordering::SeqCst);
    }
    resp
}

/// The URL the client used (what TBA signs): scheme http, the `Host`.
fn request_url(headers: &HeaderMap, path_and_query: &str) -> Option<url::Url> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    url::Url::parse(&format!("http://{host}{path_and_query}")).ok()
}

/// `http://host:port/services/rest`, for links and `Location`.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/services/rest")
}

fn record_type(name: &str) -> Result<RecordType, NsError> {
    RecordType::parse(name).ok_or_else(|| {
        NsError::new(
            404,
            ErrorCode::NonexistentId,
            format!("Record type '{name}' does not exist."),
        )
    })
}

fn apply_options(headers: &HeaderMap, query: &HashMap<String, String>) -> ApplyOptions {
    ApplyOptions {
        strict_names: headers
            .get("x-netsuite-propertynamevalidation")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("error")),
        replace: query
            .get("replace")
            .map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn body_object(bytes: &Bytes, empty_ok: bool) -> Result<Map<String, Value>, NsError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(Map::new())
        } else {
            Err(NsError::invalid_content(
                "The request body is empty; a JSON object is expected.",
            ))
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(NsError::invalid_content(
            "Invalid content in the request body: a JSON object is expected.",
        )),
        Err(e) => Err(NsError::invalid_content(format!(
            "Invalid content in the request body: the JSON cannot be read at line {}, column {}.",
            e.line(),
            e.column()
        ))),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NsError> + Send + 'static,
) -> Result<T, NsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| NsError::unexpected(format!("An unexpected error occurred: {e}")))?
}

fn created(base: &str, ty: RecordType, id: i64) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/record/v1/{}/{id}", ty.name())) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn respond(result: Result<Response, NsError>) -> Response {
    result.unwrap_or_else(|e| answer(&e))
}

type Q = Query<HashMap<String, String>>;

async fn create_record(
    State(sim): State<Arc<Sim>>,
    Path(ty): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let body = body_object(&bytes, false)?;
            let opts = apply_options(&headers, &query);
            let service = Arc::clone(&sim.service);
            let id = blocking(move || service.create(ty, &body, &opts)).await?;
            Ok(created(&base(&headers), ty, id))
        }
        .await,
    )
}

fn page_params(query: &HashMap<String, String>) -> Result<(u64, u64), NsError> {
    let parse = |name: &str, default: u64| -> Result<u64, NsError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                NsError::invalid_parameter(format!(
                    "Invalid value for the query parameter '{name}': '{v}' is not a number."
                ))
            }),
        }
    };
    Ok((parse("limit", suiteql::MAX_LIMIT)?, parse("offset", 0)?))
}

async fn list_records(
    State(sim): State<Arc<Sim>>,
    Path(ty): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let (limit, offset) = page_params(&query)?;
            let service = Arc::clone(&sim.service);
            let base = base(&headers);
            let v = blocking(move || service.list(ty, limit.min(1000), offset, &base)).await?;
            Ok(json_answer(StatusCode::OK, &v, "collection"))
        }
        .await,
    )
}

async fn get_record(
    State(sim): State<Arc<Sim>>,
    Path((ty, key)): Path<(String, String)>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let key = Key::parse(&key)?;
            let expand = query
                .get("expandSubResources")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let fields = query
                .get("fields")
                .map(|f| f.split(',').map(|s| s.trim().to_string()).collect());
            let service = Arc::clone(&sim.service);
            let base = base(&headers);
            let v = blocking(move || {
                service.get(
                    ty,
                    &key,
                    &Rendering {
                        base: &base,
                        expand,
                        fields,
                    },
                )
            })
            .await?;
            Ok(json_answer(StatusCode::OK, &v, "singular"))
        }
        .await,
    )
}

async fn patch_record(
    State(sim): State<Arc<Sim>>,
    Path((ty, key)): Path<(String, String)>,
    Query(query): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let key = Key::parse(&key)?;
            let body = body_object(&bytes, false)?;
            let opts = apply_options(&headers, &query);
            let service = Arc::clone(&sim.service);
            blocking(move || service.update(ty, &key, &body, &opts)).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

async fn put_record(
    State(sim): State<Arc<Sim>>,
    Path((ty, key)): Path<(String, String)>,
    Query(query): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let Key::External(eid) = Key::parse(&key)? else {
                return Err(NsError::new(
                    405,
                    ErrorCode::MethodNotAllowed,
                    "PUT is an upsert and takes an external ID: PUT …/{type}/eid:{externalId}.",
                ));
            };
            let body = body_object(&bytes, false)?;
            let opts = apply_options(&headers, &query);
            let service = Arc::clone(&sim.service);
            let (id, _) = blocking(move || service.upsert(ty, &eid, &body, &opts)).await?;
            Ok(created(&base(&headers), ty, id))
        }
        .await,
    )
}

async fn delete_record(
    State(sim): State<Arc<Sim>>,
    Path((ty, key)): Path<(String, String)>,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let key = Key::parse(&key)?;
            let service = Arc::clone(&sim.service);
            blocking(move || service.delete(ty, &key)).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

async fn get_sub(
    State(sim): State<Arc<Sim>>,
    Path((ty, key, sub)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    sub_answer(sim, ty, key, sub, None, headers).await
}

async fn get_sub_line(
    State(sim): State<Arc<Sim>>,
    Path((ty, key, sub, line)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let line = line.parse::<i64>().ok();
    match line {
        Some(n) => sub_answer(sim, ty, key, sub, Some(n), headers).await,
        None => answer(&NsError::not_found(&ty, &key)),
    }
}

async fn sub_answer(
    sim: Arc<Sim>,
    ty: String,
    key: String,
    sub: String,
    line: Option<i64>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let key = Key::parse(&key)?;
            let service = Arc::clone(&sim.service);
            let base = base(&headers);
            let v = blocking(move || service.sub(ty, &key, &sub, line, &base)).await?;
            Ok(json_answer(StatusCode::OK, &v, "singular"))
        }
        .await,
    )
}

async fn transform_record(
    State(sim): State<Arc<Sim>>,
    Path((ty, key, action, to)): Path<(String, String, String, String)>,
    Query(query): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    respond(
        async {
            if action != "!transform" {
                return Err(NsError::new(
                    405,
                    ErrorCode::MethodNotAllowed,
                    format!("POST is not allowed on '{action}'."),
                ));
            }
            let from = record_type(&ty)?;
            let key = Key::parse(&key)?;
            let to_type = RecordType::parse(&to).ok_or_else(|| {
                NsError::new(
                    400,
                    ErrorCode::InvalidRcrdTransfrm,
                    format!(
                        "That type of record transformation is not allowed: {} to {to}.",
                        from.name()
                    ),
                )
            })?;
            let body = body_object(&bytes, true)?;
            let opts = apply_options(&headers, &query);
            let service = Arc::clone(&sim.service);
            let id = blocking(move || service.transform(from, &key, to_type, &body, &opts)).await?;
            Ok(created(&base(&headers), to_type, id))
        }
        .await,
    )
}

async fn suiteql_query(
    State(sim): State<Arc<Sim>>,
    Query(query): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    respond(
        async {
            let transient = headers
                .get_all("prefer")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| {
                    v.split(',')
                        .any(|p| p.trim().eq_ignore_ascii_case("transient"))
                });
            if !transient {
                return Err(NsError::invalid_parameter(
                    "The 'Prefer: transient' header is required for SuiteQL queries.",
                ));
            }
            let body = body_object(&bytes, false)?;
            let q = body
                .get("q")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    NsError::invalid_value(
                        "q",
                        "The request body must have the query as a string in 'q'.",
                    )
                })?
                .to_string();
            let (limit, offset) = page_params(&query)?;
            let service = Arc::clone(&sim.service);
            let href = format!("{}/query/v1/suiteql", base(&headers));
            let v = blocking(move || service.suiteql(&q, limit, offset, &href)).await?;
            Ok(json_answer(StatusCode::OK, &v, "collection"))
        }
        .await,
    )
}

/// `POST /app/site/hosting/restlet.nl?script=…&deploy=…`: a deployed
/// RESTlet (the gate authenticates and governs it like any request).
async fn run_restlet(State(sim): State<Arc<Sim>>, Query(query): Q, bytes: Bytes) -> Response {
    respond(
        async {
            let script = query.get("script").cloned().unwrap_or_default();
            let deploy = query.get("deploy").cloned().unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
                NsError::new(
                    400,
                    ErrorCode::InvalidContent,
                    format!("The RESTlet's request body is not JSON: {e}"),
                )
            })?;
            let service = Arc::clone(&sim.service);
            let v =
                blocking(move || super::restlet::run(&service, &script, &deploy, &body)).await?;
            Ok(json_answer(StatusCode::OK, &v, "plain"))
        }
        .await,
    )
}

async fn token(State(sim): State<Arc<Sim>>, headers: HeaderMap, bytes: Bytes) -> Response {
    let audience = format!("{}/auth/oauth2/v1/token", base(&headers));
    match super::token::exchange(&sim.oauth2, &sim.auth, &bytes, &audience, unix_now()) {
        Ok(v) => json_answer(StatusCode::OK, &v, "plain"),
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            json_answer(status, &e.body(), "plain")
        }
    }
}

async fn governance_limits(State(sim): State<Arc<Sim>>) -> Response {
    json_answer(StatusCode::OK, &sim.governance.limits(), "singular")
}

async fn not_found() -> Response {
    answer(&NsError::new(
        404,
        ErrorCode::NonexistentId,
        "The requested URL does not exist. Check the path of the request.",
    ))
}

async fn method_not_allowed(method: Method) -> Response {
    answer(&NsError::new(
        405,
        ErrorCode::MethodNotAllowed,
        format!("The HTTP method {method} is not allowed on this resource."),
    ))
}

// The test control API.

fn control_error(status: StatusCode, message: String) -> Response {
    json_answer(status, &json!({ "error": message }), "plain")
}

async fn add_fault(State(sim): State<Arc<Sim>>, bytes: Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, format!("a fault: {e}")),
    };
    match sim.faults.add(spec) {
        Ok(()) => json_answer(
            StatusCode::OK,
            &json!({ "pending": sim.faults.pending() }),
            "plain",
        ),
        Err(e) => control_error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    sim.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn dump_records(
    State(sim): State<Arc<Sim>>,
    Path(ty): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let ty = record_type(&ty)?;
            let service = Arc::clone(&sim.service);
            let base = base(&headers);
            let v = blocking(move || service.dump(ty, &base)).await?;
            Ok(json_answer(StatusCode::OK, &v, "plain"))
        }
        .await,
    )
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    let mut v = sim.governance.stats();
    if let Some(m) = v.as_object_mut() {
        m.insert("login_failures".into(), json!(sim.auth.audit()));
        m.insert("faults_pending".into(), json!(sim.faults.pending()));
    }
    json_answer(StatusCode::OK, &v, "plain")
}

async fn reset(State(sim): State<Arc<Sim>>) -> Response {
    sim.faults.clear();
    sim.governance.reset();
    sim.auth.reset();
    let service = Arc::clone(&sim.service);
    match blocking(move || service.reset()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => answer(&e),
    }
}

async fn load_seed(State(sim): State<Arc<Sim>>) -> Response {
    let service = Arc::clone(&sim.service);
    match blocking(move || seed::load(&service)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => answer(&e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    concurrency: Option<usize>,
    limit_error: Option<LimitError>,
    token_lifetime_seconds: Option<u64>,
}

async fn configure(State(sim): State<Arc<Sim>>, bytes: Bytes) -> Response {
    let s: Settings = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, format!("settings: {e}")),
    };
    sim.governance.configure(s.concurrency, s.limit_error);
    if let Some(t) = s.token_lifetime_seconds {
        sim.auth.set_token_lifetime(t);
    }
    StatusCode::NO_CONTENT.into_response()
}
