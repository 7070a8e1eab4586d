//! The daemon's HTTP API (axum), when `[api]` is configured:
//!
//! - `GET /healthz`: 200 while the daemon runs and its store answers;
//! - `GET /metrics`: Prometheus text (passes and failed passes, files by
//!   state, deliveries made and failed, deliveries waiting, channel
//!   errors, orders, invoices held);
//! - `POST /v1/purchase-orders`: `{"partner": "acme", "document": {...}}`
//!   (or `"documents": [...]`), with `Authorization: Bearer <token>`:
//!   the orders are rendered and queued as `dropgate send-po` does, and
//!   the delivery workers send them; 202 with what was queued and how many
//!   deliveries wait, 400 when they cannot be, 401 without
//!   the right token, 409 for another order under a PO number already sent
//!   or an `Idempotency-Key` used for another request, 413 for a body over
//!   `[api] max_body_bytes`. Every answer is JSON.
//!
//! - `GET /v1/invoices/held`: the invoices held for a person (a variance
//!   found when they were reconciled), each with its `id` (`FILE:DOC`)
//!   and its `reconciliation`;
//! - `POST /v1/invoices/{id}/release` (`{"by": "ann"}`, optional): the
//!   held invoice is queued for the relay, once; 200 with what was
//!   released (`"queued": false` when it was released before), 404 for
//!   no such invoice. Both with the bearer token; a release with an
//!   `Idempotency-Key` is answered as orders are.
//!
//! A request is answered once: its first 202 answer is kept in the store,
//! under its `Idempotency-Key` when it has one and under its content
//! either way, and the same request again (a client retrying after a
//! timeout, with the key or not) gets that answer again, with
//! `Idempotent-Replayed: true`, and sends nothing. An order already sent
//! in another request is not sent again either (see [`super::send`]).
//!
//! The API has a connection to the store of its own and shares nothing
//! with the intake's passes nor with the delivery workers: it answers
//! while a large file is translated or a receiver is slow. It only reads
//! from the store and queues work (then rings the workers' [`Wake`]).
//! Requests that queue orders take the API's connection one after the
//! other, so that two identical requests at once send one order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::rejection::StringRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::PassReport;
use super::send::{self, SendError};
use super::wake::Wake;
use crate::config::{ApiConfig, Gateway as Config};
use crate::mapping::Library;
use crate::store::{Durability, ErrorKind, FileState, KeptAnswer, Store, StoreError};

/// Counters kept for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    passes: AtomicU64,
    files: [AtomicU64; 5],
    delivered: AtomicU64,
    delivery_failures: AtomicU64,
    channel_errors: AtomicU64,
    pending: AtomicU64,
    orders: AtomicU64,
    pass_failures: AtomicU64,
    invoices_held: AtomicU64,
}

fn state_index(s: FileState) -> usize {
    match s {
        FileState::Received => 0,
        FileState::Processed => 1,
        FileState::Quarantined => 2,
        FileState::Duplicate => 3,
        FileState::Ignored => 4,
    }
}

const STATES: [FileState; 5] = [
    FileState::Received,
    FileState::Processed,
    FileState::Quarantined,
    FileState::Duplicate,
    FileState::Ignored,
];

impl Metrics {
    /// Counts what a pass did.
    pub fn record(&self, r: &PassReport) {
        self.passes.fetch_add(1, Ordering::Relaxed);
        for f in &r.files {
            self.files[state_index(f.state)].fetch_add(1, Ordering::Relaxed);
        }
        self.delivered.fetch_add(r.delivered, Ordering::Relaxed);
        self.delivery_failures
            .fetch_add(r.delivery_errors.len() as u64, Ordering::Relaxed);
        self.channel_errors
            .fetch_add(r.channel_errors.len() as u64, Ordering::Relaxed);
        self.pending.store(r.pending, Ordering::Relaxed);
    }

    /// Counts what a delivery worker did.
    pub fn deliveries(&self, made: &super::deliver::Made) {
        self.delivered.fetch_add(made.delivered, Ordering::Relaxed);
        self.delivery_failures
            .fetch_add(made.errors.len() as u64, Ordering::Relaxed);
    }

    /// Counts a pass that failed (to be tried again).
    pub fn pass_failed(&self) {
        self.pass_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        };
        counter(
            "dropgate_passes_total",
            "Passes over the channels.",
            self.passes.load(Ordering::Relaxed),
        );
        counter(
            "dropgate_deliveries_total",
            "Deliveries made (relay, acknowledgments, orders).",
            self.delivered.load(Ordering::Relaxed),
        );
        counter(
            "dropgate_pass_failures_total",
            "Passes that failed (the store or the archive: a full disk) and were tried again.",
            self.pass_failures.load(Ordering::Relaxed),
        );
        counter(
            "dropgate_delivery_failures_total",
            "Delivery attempts that failed and wait for a retry.",
            self.delivery_failures.load(Ordering::Relaxed),
        );
        counter(
            "dropgate_channel_errors_total",
            "Channels that could not be read in a pass.",
            self.channel_errors.load(Ordering::Relaxed),
        );
        counter(
            "dropgate_orders_total",
            "Purchase orders queued through the API.",
            self.orders.load(Ordering::Relaxed),
        );
        out.push_str("# HELP dropgate_files_total Files taken up, by what became of them.\n# TYPE dropgate_files_total counter\n");
        for s in STATES {
            out.push_str(&format!(
                "dropgate_files_total{{state=\"{s}\"}} {}\n",
                self.files[state_index(s)].load(Ordering::Relaxed)
            ));
        }
        out.push_str(&format!(
            "# HELP dropgate_deliveries_pending Deliveries waiting in the outbox after the last pass.\n# TYPE dropgate_deliveries_pending gauge\ndropgate_deliveries_pending {}\n",
            self.pending.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP dropgate_invoices_held Invoices held for a person (a variance), not relayed until released.\n# TYPE dropgate_invoices_held gauge\ndropgate_invoices_held {}\n",
            self.invoices_held.load(Ordering::Relaxed)
        ));
        out
    }
}

/// What the API works with, replaced whole when the configuration is
/// reloaded.
pub struct Parts {
    /// The configuration.
    pub config: Arc<Config>,
    /// The mappings.
    pub library: Arc<Library>,
}

/// What the API's handlers share.
pub struct Shared {
    /// The configuration and mappings; read for a moment by each request.
    pub parts: std::sync::RwLock<Arc<Parts>>,
    /// The API's own connection to the store for the orders it queues,
    /// held for one request at a time (never across the network; it may
    /// wait for a file's finishing transaction, for the partner's control
    /// numbers).
    pub store: Mutex<Box<dyn Store>>,
    /// Another, for `/healthz` and `/metrics`: they only read, and never
    /// wait behind an order that waits for the store.
    pub reader: Mutex<Box<dyn Store>>,
    /// The counters, shared with the intake and the delivery workers.
    pub metrics: Arc<Metrics>,
    /// The bearer token of `/v1/`.
    pub token: String,
    /// Rung when orders are queued.
    pub wake: Arc<Wake>,
}

impl Shared {
    /// The configuration and mappings now.
    pub fn parts(&self) -> Arc<Parts> {
        Arc::clone(&self.parts.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts the reloaded configuration and mappings in place.
    pub fn replace_parts(&self, parts: Parts) {
        *self.parts.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(parts);
    }

    /// Runs `f` with the API's connection for orders, on a thread where
    /// blocking is allowed.
    async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Shared, &mut dyn Store) -> T + Send + 'static,
    ) -> Result<T, String> {
        self.with(|s| &s.store, f).await
    }

    /// Runs `f` with the API's connection for reading.
    async fn with_reader<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Shared, &mut dyn Store) -> T + Send + 'static,
    ) -> Result<T, String> {
        self.with(|s| &s.reader, f).await
    }

    async fn with<T: Send + 'static>(
        self: &Arc<Self>,
        which: fn(&Shared) -> &Mutex<Box<dyn Store>>,
        f: impl FnOnce(&Shared, &mut dyn Store) -> T + Send + 'static,
    ) -> Result<T, String> {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut store = which(&shared).lock().map_err(|_| {
                "the API's store connection stopped on an earlier error".to_string()
            })?;
            Ok(f(&shared, store.as_mut()))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// The API's routes, taking bodies of up to `[api] max_body_bytes`.
pub fn router(shared: Arc<Shared>, config: &ApiConfig) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/purchase-orders", post(purchase_orders))
        .route("/v1/documents", post(documents))
        .route("/v1/invoices/held", get(held_invoices))
        .route("/v1/invoices/{id}/release", post(release_invoice))
        .route("/v1/set-aside", get(set_aside))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(shared)
}

async fn healthz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let ok = shared
        .with_reader(|_, store| store.pending_deliveries().is_ok())
        .await
        .unwrap_or(false);
    if ok {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store does not answer\n",
        )
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    // The deliveries waiting, as the store has them now.
    if let Ok(Ok(pending)) = shared
        .with_reader(|_, store| store.pending_deliveries())
        .await
    {
        shared.metrics.pending.store(pending, Ordering::Relaxed);
    }
    if let Ok(Ok(held)) = shared
        .with_reader(|_, store| store.invoices(crate::store::Invoices::Held))
        .await
    {
        let held = held.len() as u64;
        shared.metrics.invoices_held.store(held, Ordering::Relaxed);
    }
    let mut text = shared.metrics.render();
    match shared
        .with_reader(|_, store| lifecycle_metrics(store, chrono::Utc::now()))
        .await
    {
        Ok(Ok(more)) => text.push_str(&more),
        Ok(Err(e)) => tracing::warn!(error = %e, "the order measures were not read for /metrics"),
        Err(e) => tracing::warn!(error = %e, "the order measures were not read for /metrics"),
    }
    ([("content-type", "text/plain; version=0.0.4")], text)
}

/// One of the timings of the measures.
type TimingOf = fn(&crate::lifecycle::measures::Measures) -> &crate::lifecycle::measures::Timing;

/// One of the rates of the measures.
type RateOf = fn(&crate::lifecycle::measures::Measures) -> Option<f64>;

/// How far back `/metrics` measures the orders.
const MEASURED_DAYS: i64 = 30;

/// The orders by partner and state, the open exceptions by kind, and the
/// measures of each partner's orders of the last [`MEASURED_DAYS`], as
/// Prometheus gauges.
pub fn lifecycle_metrics(
    store: &mut dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, StoreError> {
    use crate::lifecycle::measures::measure;
    use std::fmt::Write as _;
    let since = (now - chrono::Duration::days(MEASURED_DAYS))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let orders = super::orders::list(
        store,
        &crate::store::OrderFilter {
            since: Some(since),
            ..crate::store::OrderFilter::default()
        },
    )?;
    let mut partners: Vec<&str> = orders.iter().map(|o| o.partner.as_str()).collect();
    partners.sort_unstable();
    partners.dedup();
    let mut out = String::new();
    let label = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let _ = writeln!(
        out,
        "# HELP dropgate_orders Orders first seen in the last {MEASURED_DAYS} days, by partner and state.\n# TYPE dropgate_orders gauge"
    );
    for p in &partners {
        for state in crate::lifecycle::OrderState::ALL {
            let n = orders
                .iter()
                .filter(|o| o.partner == *p && o.state == state)
                .count();
            if n > 0 {
                let _ = writeln!(
                    out,
                    "dropgate_orders{{partner=\"{}\",state=\"{state}\"}} {n}",
                    label(p)
                );
            }
        }
    }
    let open = store.exceptions(&crate::store::ExceptionFilter {
        open_only: true,
        ..crate::store::ExceptionFilter::default()
    })?;
    let _ = writeln!(
        out,
        "# HELP dropgate_exceptions_open Exceptions open, by kind.\n# TYPE dropgate_exceptions_open gauge"
    );
    for kind in crate::lifecycle::ExceptionKind::ALL {
        let n = open.iter().filter(|e| e.kind == kind.as_str()).count();
        let _ = writeln!(out, "dropgate_exceptions_open{{kind=\"{kind}\"}} {n}");
    }
    let measured: Vec<(&str, crate::lifecycle::measures::Measures)> = partners
        .iter()
        .map(|p| (*p, measure(orders.iter().filter(|o| o.partner == *p), now)))
        .collect();
    let timings: [(&str, &str, TimingOf); 3] = [
        (
            "dropgate_order_to_ack_seconds",
            "From the order sent to its first 855.",
            |m| &m.order_to_ack,
        ),
        (
            "dropgate_order_to_ship_seconds",
            "From the order sent to its first ship notice.",
            |m| &m.order_to_ship,
        ),
        (
            "dropgate_order_to_997_seconds",
            "From the order sent to its 997/999.",
            |m| &m.turnaround_997,
        ),
    ];
    for (name, help, get) in timings {
        let _ = writeln!(
            out,
            "# HELP {name} {help} (the last {MEASURED_DAYS} days)\n# TYPE {name} gauge"
        );
        for (p, m) in &measured {
            let t = get(m);
            for (q, v) in [("0.5", t.median_secs), ("0.9", t.p90_secs)] {
                if let Some(v) = v {
                    let _ = writeln!(
                        out,
                        "{name}{{partner=\"{}\",quantile=\"{q}\"}} {v}",
                        label(p)
                    );
                }
            }
        }
    }
    let rates: [(&str, &str, RateOf); 4] = [
        (
            "dropgate_fill_rate",
            "Units shipped over units ordered.",
            |m| m.fill.ratio(),
        ),
        (
            "dropgate_on_time_shipment_rate",
            "Orders shipped complete by their due date.",
            |m| m.on_time.ratio(),
        ),
        (
            "dropgate_perfect_order_rate",
            "Invoiced orders complete, on time and matched.",
            |m| m.perfect.ratio(),
        ),
        (
            "dropgate_invoice_variance_rate",
            "Invoices whose reconciliation did not match.",
            |m| m.invoice_variance.ratio(),
        ),
    ];
    for (name, help, get) in rates {
        let _ = writeln!(
            out,
            "# HELP {name} {help} (the last {MEASURED_DAYS} days)\n# TYPE {name} gauge"
        );
        for (p, m) in &measured {
            if let Some(v) = get(m) {
                let _ = writeln!(out, "{name}{{partner=\"{}\"}} {v}", label(p));
            }
        }
    }
    Ok(out)
}

/// True when the request carries the token (compared in constant time).
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    super::console::auth::same_secret(given.as_bytes(), token.as_bytes())
}

/// A JSON answer.
fn json(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

fn json_error(status: StatusCode, message: &str) -> Response {
    json(status, serde_json::json!({ "error": message }).to_string())
}

/// The longest `Idempotency-Key` taken.
const MAX_KEY_LEN: usize = 255;

/// The request's `Idempotency-Key`, if it has one; an error when it is not
/// 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, &'static str> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(k)
            if !k.is_empty()
                && k.len() <= MAX_KEY_LEN
                && k.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(k.to_string()))
        }
        _ => Err("the Idempotency-Key header: 1 to 255 visible ASCII characters"),
    }
}

/// An answer to a purchase-order request, fresh or kept from the first
/// time the request came.
struct Answer {
    status: StatusCode,
    body: String,
    replayed: bool,
    /// Orders queued (for a fresh answer).
    queued: u64,
}

impl Answer {
    fn error(status: StatusCode, message: &str) -> Answer {
        Answer {
            status,
            body: serde_json::json!({ "error": message }).to_string(),
            replayed: false,
            queued: 0,
        }
    }

    fn replay(kept: KeptAnswer) -> Answer {
        Answer {
            status: StatusCode::from_u16(kept.status).unwrap_or(StatusCode::ACCEPTED),
            body: kept.body,
            replayed: true,
            queued: 0,
        }
    }
}

/// Sends the orders of a request unless it came before (under `key`, or
/// with the same content, `request_sha256`), in which case the first
/// answer is given again. Runs with the API's store connection held: two
/// requests never interleave.
/// The endpoints that queue documents for partners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sending {
    /// `POST /v1/purchase-orders`: purchase orders only.
    PurchaseOrders,
    /// `POST /v1/documents`: purchase orders and remittances.
    Documents,
}

impl Sending {
    fn source(self) -> &'static str {
        match self {
            Sending::PurchaseOrders => "POST /v1/purchase-orders",
            Sending::Documents => "POST /v1/documents",
        }
    }

    fn queue(
        self,
        parts: &Parts,
        store: &mut dyn Store,
        partner: &str,
        docs: &[serde_json::Value],
    ) -> Result<Vec<send::Queued>, SendError> {
        let queue: send::Queue = match self {
            Sending::PurchaseOrders => send::queue_orders,
            Sending::Documents => send::queue_documents,
        };
        queue(
            &parts.config,
            &parts.library,
            store,
            partner,
            docs,
            self.source(),
        )
    }
}

fn answer_once(
    parts: &Parts,
    store: &mut dyn Store,
    sending: Sending,
    partner: &str,
    docs: &[serde_json::Value],
    key: Option<&str>,
    request_sha256: &str,
) -> Result<Answer, StoreError> {
    let by_key = key.map(|k| format!("key:{k}"));
    let by_content = format!("request:{request_sha256}");
    if let Some(answer) = answered_under_key(store, key, request_sha256)? {
        return Ok(answer);
    }
    if let Some(kept) = store.kept_answer(&by_content)? {
        if let Some(by_key) = &by_key {
            store.atomically(Durability::Synced, |tx| tx.keep_answer(by_key, &kept))?;
        }
        return Ok(Answer::replay(kept));
    }
    let queued = match sending.queue(parts, store, partner, docs) {
        Ok(sent) => sent,
        Err(SendError::Store(e)) => return Err(e),
        Err(SendError::Conflict(e)) => return Ok(Answer::error(StatusCode::CONFLICT, &e)),
        Err(e) => return Ok(Answer::error(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let body = serde_json::json!({
        "queued": queued.iter().map(|q| match sending {
            Sending::PurchaseOrders => serde_json::json!({
                "po_number": q.number, "name": q.name, "channel": q.channel, "repeat": q.repeat,
            }),
            Sending::Documents => serde_json::json!({
                "type": q.document.name(), "number": q.number, "name": q.name,
                "channel": q.channel, "repeat": q.repeat,
            }),
        }).collect::<Vec<_>>(),
        "pending": store.pending_deliveries()?,
    })
    .to_string();
    // Kept once the orders are queued: after a crash in between, the
    // request again finds its orders sent, and is answered from them.
    let kept = KeptAnswer {
        request_sha256: request_sha256.to_string(),
        status: StatusCode::ACCEPTED.as_u16(),
        body,
    };
    store.atomically(Durability::Synced, |tx| tx.keep_answer(&by_content, &kept))?;
    if let Some(by_key) = &by_key {
        store.atomically(Durability::Synced, |tx| tx.keep_answer(by_key, &kept))?;
    }
    Ok(Answer {
        status: StatusCode::ACCEPTED,
        body: kept.body,
        replayed: false,
        queued: queued.iter().filter(|q| !q.repeat).count() as u64,
    })
}

/// A request that queues work, accepted: its body and its
/// Idempotency-Key; or the answer refusing it (no bearer token, a body too
/// large or not UTF-8, a bad key), in JSON.
fn accepted(
    shared: &Shared,
    headers: &HeaderMap,
    body: Result<String, StringRejection>,
) -> Result<(String, Option<String>), Box<Response>> {
    if !authorized(headers, &shared.token) {
        return Err(Box::new(json_error(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required",
        )));
    }
    // Too large (413), not UTF-8 (400): said in JSON as well.
    let body =
        body.map_err(|rejection| Box::new(json_error(rejection.status(), &rejection.body_text())))?;
    let key =
        idempotency_key(headers).map_err(|e| Box::new(json_error(StatusCode::BAD_REQUEST, e)))?;
    Ok((body, key))
}

async fn purchase_orders(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Response {
    queue_for_partner(shared, headers, body, Sending::PurchaseOrders).await
}

async fn documents(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Response {
    queue_for_partner(shared, headers, body, Sending::Documents).await
}

/// Queues the documents of a request for its partner (once: see
/// [`answer_once`]).
async fn queue_for_partner(
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
    sending: Sending,
) -> Response {
    let (body, key) = match accepted(&shared, &headers, body) {
        Ok(accepted) => accepted,
        Err(refused) => return *refused,
    };
    let request: serde_json::Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not JSON: {e}"),
            );
        }
    };
    let Some(partner) = request
        .get("partner")
        .and_then(|p| p.as_str())
        .map(str::to_string)
    else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "say the partner: {\"partner\": \"...\", \"document\": {...}}",
        );
    };
    let docs: Vec<serde_json::Value> = match (request.get("document"), request.get("documents")) {
        (Some(d), None) => vec![d.clone()],
        (None, Some(serde_json::Value::Array(ds))) => ds.clone(),
        _ => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "give one \"document\" or a \"documents\" array",
            );
        }
    };
    let request_sha256 =
        send::content_sha256(&serde_json::json!({ "partner": partner, "documents": docs }));
    let result = shared
        .with_store(move |shared, store| {
            let parts = shared.parts();
            let answer = |store: &mut dyn Store| {
                answer_once(
                    &parts,
                    store,
                    sending,
                    &partner,
                    &docs,
                    key.as_deref(),
                    &request_sha256,
                )
            };
            match answer(store) {
                // Another instance queued the same order in the same
                // moment, and the store refused the second: asked again,
                // it is a repeat of the first.
                Err(e) if e.kind() == Some(ErrorKind::Conflict) => answer(store),
                other => other,
            }
        })
        .await;
    let answer = match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    if answer.queued > 0 {
        shared.wake.ring();
    }
    shared
        .metrics
        .orders
        .fetch_add(answer.queued, Ordering::Relaxed);
    let mut response = json(answer.status, answer.body);
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

async fn held_invoices(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&headers, &shared.token) {
        return json_error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    }
    let held = shared
        .with_reader(|_, store| store.invoices(crate::store::Invoices::Held))
        .await;
    match held {
        Ok(Ok(held)) => json(
            StatusCode::OK,
            serde_json::json!({
                "invoices": held.iter().map(super::invoices::to_json).collect::<Vec<_>>(),
            })
            .to_string(),
        ),
        Ok(Err(e)) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

/// `GET /v1/set-aside`: the documents set aside for a person (NetSuite
/// refused them), oldest first.
async fn set_aside(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&headers, &shared.token) {
        return json_error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    }
    match shared.with_reader(|_, store| store.set_aside()).await {
        Ok(Ok(aside)) => json(
            StatusCode::OK,
            serde_json::json!({
                "set_aside": aside.iter().map(|a| serde_json::json!({
                    "id": a.id,
                    "target": a.target,
                    "file": a.file_id,
                    "document": a.seq,
                    "at": a.at,
                    "retries": a.retries,
                    "reason": a.reason,
                    "type": serde_json::from_str::<serde_json::Value>(&a.document)
                        .ok()
                        .and_then(|d| d.get("type").cloned()),
                })).collect::<Vec<_>>(),
            })
            .to_string(),
        ),
        Ok(Err(e)) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

/// Releases a held invoice unless the request came before under its
/// `key` (then its first answer again, or 409 for another request).
/// The answer already given under Idempotency-Key `key`: the same again
/// for the same request, a conflict for another.
fn answered_under_key(
    store: &mut dyn Store,
    key: Option<&str>,
    request_sha256: &str,
) -> Result<Option<Answer>, StoreError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let Some(kept) = store.kept_answer(&format!("key:{key}"))? else {
        return Ok(None);
    };
    if kept.request_sha256 != request_sha256 {
        return Ok(Some(Answer::error(
            StatusCode::CONFLICT,
            &format!(
                "Idempotency-Key {key:?} was used for another request: a new request needs a new key"
            ),
        )));
    }
    Ok(Some(Answer::replay(kept)))
}

fn release_once(
    store: &mut dyn Store,
    config: &Config,
    id: &str,
    by: &str,
    key: Option<&str>,
) -> Result<Answer, StoreError> {
    let request_sha256 = send::content_sha256(&serde_json::json!({ "release": id, "by": by }));
    let by_key = key.map(|k| format!("key:{k}"));
    if let Some(answer) = answered_under_key(store, key, &request_sha256)? {
        return Ok(answer);
    }
    let Some((file, seq)) = super::invoices::parse_id(id) else {
        return Ok(Answer::error(
            StatusCode::BAD_REQUEST,
            "an invoice's id is FILE:DOC, as GET /v1/invoices/held lists it",
        ));
    };
    let released = match super::invoices::release(store, config, file, seq, by) {
        Ok(r) => r,
        Err(super::invoices::ReleaseError::NotFound(e)) => {
            return Ok(Answer::error(StatusCode::NOT_FOUND, &e));
        }
        Err(super::invoices::ReleaseError::Store(e)) => return Err(e),
    };
    let queued = released.iter().filter(|r| r.queued).count() as u64;
    let body = serde_json::json!({
        "released": released.iter().map(|r| {
            let mut v = super::invoices::to_json(&r.invoice);
            v["queued"] = r.queued.into();
            v
        }).collect::<Vec<_>>(),
    })
    .to_string();
    if let Some(by_key) = &by_key {
        let kept = KeptAnswer {
            request_sha256,
            status: StatusCode::OK.as_u16(),
            body: body.clone(),
        };
        store.atomically(Durability::Synced, |tx| tx.keep_answer(by_key, &kept))?;
    }
    Ok(Answer {
        status: StatusCode::OK,
        body,
        replayed: false,
        queued,
    })
}

async fn release_invoice(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Response {
    let (body, key) = match accepted(&shared, &headers, body) {
        Ok(accepted) => accepted,
        Err(refused) => return *refused,
    };
    let by = if body.trim().is_empty() {
        "api".to_string()
    } else {
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(v) => match v.get("by") {
                None => "api".to_string(),
                Some(serde_json::Value::String(by)) if !by.trim().is_empty() => by.clone(),
                Some(_) => {
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        "\"by\" is who releases it, a name",
                    );
                }
            },
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    &format!("the body is not JSON: {e}"),
                );
            }
        }
    };
    let result = shared
        .with_store(move |shared, store| {
            release_once(store, &shared.parts().config, &id, &by, key.as_deref())
        })
        .await;
    let answer = match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    if answer.queued > 0 {
        shared.wake.ring();
    }
    let mut response = json(answer.status, answer.body);
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, "t0k"));
        h.insert("authorization", "Bearer t0k".parse().expect("header"));
        assert!(authorized(&h, "t0k"));
        assert!(!authorized(&h, "t0K"));
        assert!(!authorized(&h, "t0k1"));
        assert!(!authorized(&h, ""));
        h.insert("authorization", "Basic t0k".parse().expect("header"));
        assert!(!authorized(&h, "t0k"));
    }

    #[test]
    fn metrics_are_prometheus_text() {
        let m = Metrics::default();
        m.record(&PassReport {
            files: vec![],
            delivered: 2,
            pending: 1,
            ..PassReport::default()
        });
        let text = m.render();
        assert!(text.contains("dropgate_passes_total 1\n"), "{text}");
        assert!(text.contains("dropgate_deliveries_total 2\n"));
        assert!(text.contains("dropgate_deliveries_pending 1\n"));
        assert!(text.contains("dropgate_files_total{state=\"processed\"} 0\n"));
        m.pass_failed();
        assert!(m.render().contains("dropgate_pass_failures_total 1\n"));
    }
}
