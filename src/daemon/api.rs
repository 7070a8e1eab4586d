//! The daemon's HTTP API (axum), when `[api]` is configured:
//!
//! - `GET /healthz`: 200 while the daemon runs and its store answers;
//! - `GET /metrics`: Prometheus text (passes, files by state, deliveries
//!   made and failed, deliveries waiting, channel errors);
//! - `POST /v1/purchase-orders`: `{"partner": "acme", "document": {...}}`
//!   (or `"documents": [...]`), with `Authorization: Bearer <token>`:
//!   the orders are rendered, queued and delivered as `dropgate send-po`
//!   does; 202 with what was queued, 400 when they cannot be, 401 without
//!   the right token.
//!
//! Requests share the gateway with the passes through a mutex: an order is
//! queued between two passes, never in the middle of one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::send::SendError;
use super::{Gateway, PassReport};
use crate::store::FileState;

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
        out
    }
}

/// What the API and the passes share.
pub struct Shared {
    /// The gateway; a pass holds it while it runs.
    pub gateway: Mutex<Gateway>,
    /// The counters.
    pub metrics: Metrics,
    /// The bearer token of `/v1/`.
    pub token: String,
}

/// The API's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/purchase-orders", post(purchase_orders))
        .with_state(shared)
}

async fn healthz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let ok = tokio::task::spawn_blocking(move || {
        shared
            .gateway
            .lock()
            .ok()
            .is_some_and(|g| g.store().pending_deliveries().is_ok())
    })
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
    (
        [("content-type", "text/plain; version=0.0.4")],
        shared.metrics.render(),
    )
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
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len()
        && !token.is_empty()
        && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn json_error(status: StatusCode, message: &str) -> (StatusCode, String) {
    (status, serde_json::json!({ "error": message }).to_string())
}

async fn purchase_orders(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    if !authorized(&headers, &shared.token) {
        return json_error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    }
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
    let worker = Arc::clone(&shared);
    let result = tokio::task::spawn_blocking(move || {
        let mut g = worker
            .gateway
            .lock()
            .map_err(|_| SendError::Config("the gateway stopped on an earlier error".into()))?;
        g.send_orders(&partner, &docs, "POST /v1/purchase-orders")
    })
    .await;
    match result {
        Ok(Ok((queued, report))) => {
            shared
                .metrics
                .orders
                .fetch_add(queued.len() as u64, Ordering::Relaxed);
            shared
                .metrics
                .delivered
                .fetch_add(report.delivered, Ordering::Relaxed);
            let body = serde_json::json!({
                "queued": queued.iter().map(|q| serde_json::json!({
                    "po_number": q.po_number, "name": q.name, "channel": q.channel,
                })).collect::<Vec<_>>(),
                "delivered": report.delivered,
                "pending": report.pending,
                "delivery_errors": report.delivery_errors,
            });
            (StatusCode::ACCEPTED, body.to_string())
        }
        Ok(Err(SendError::Store(e))) => {
            json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
        }
        Ok(Err(e)) => json_error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
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
    }
}
