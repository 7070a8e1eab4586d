//! The operator's web console (`[console]`): pages rendered on the
//! server, behind a login, served by the daemon on a listener of its own
//! (127.0.0.1:8490 by default).
//!
//! - [`auth`]: users (argon2), sessions in memory, CSRF tokens;
//! - [`layout`]: the page shell (navigation, flash message), escaping;
//! - [`overview`], [`files`] (the list with filters, a file's page, the
//!   quarantine and its reprocess), [`x12_view`] (a raw X12 file laid
//!   out with the validation findings at their place), [`deliveries`]
//!   (retry now), [`invoices`] (release), [`partners`]; [`orders`] (the
//!   list and an order's page: lines, timeline, exceptions) and
//!   [`exceptions`] (the list, and the overview's "needs attention" and
//!   measures per vendor with their bars);
//! - `assets/`: the stylesheet and the script, embedded in the binary.
//!
//! The console reads the store through connections of its own, on
//! blocking threads ([`Shared::read`]); it writes only the small actions
//! a person takes (a reprocess, a delivery retried now, an invoice
//! released), each one short transaction ([`Shared::write`]), then rings
//! the workers' [`Wake`]. Sessions are kept in memory: a restart ends
//! them, and with several instances a person logs in to each.

pub mod auth;
pub mod deliveries;
pub mod exceptions;
pub mod files;
pub mod invoices;
pub mod layout;
pub mod orders;
pub mod overview;
pub mod partners;
pub mod x12_view;

use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::wake::Wake;
use crate::config::Gateway as Config;
use crate::config::console::{ConsoleConfig, ConsoleUser};
use crate::store::{Archive, Store, StoreError};

/// What the console works with, replaced whole when the configuration is
/// reloaded (SIGHUP): the configuration (partners, channels, users) and
/// the archive it names.
pub struct Parts {
    /// The configuration.
    pub config: Arc<Config>,
    /// The archive, to show received files and documents.
    pub archive: Archive,
}

impl Parts {
    /// The console's users now.
    pub fn users(&self) -> &[ConsoleUser] {
        self.config.console.as_ref().map_or(&[], |c| &c.users)
    }

    /// How long a session lasts.
    pub fn session_lifetime(&self) -> std::time::Duration {
        let hours = self.config.console.as_ref().map_or(8, |c| c.session_hours);
        std::time::Duration::from_secs(hours.saturating_mul(3600))
    }

    /// Whether the console is reached over HTTPS (its `public_url`): the
    /// session cookie is then `Secure`.
    pub fn https(&self) -> bool {
        self.config
            .console
            .as_ref()
            .is_some_and(|c| c.public_url.starts_with("https://"))
    }
}

/// What the console's handlers share.
pub struct Shared {
    parts: RwLock<Arc<Parts>>,
    /// The connection pages read through, one request at a time.
    reader: Mutex<Box<dyn Store>>,
    /// The connection the actions write through (never held while a page
    /// is read: a write that waits for the store's lock holds up no page).
    writer: Mutex<Box<dyn Store>>,
    /// The sessions of the people logged in.
    pub sessions: auth::Sessions,
    /// Passwords checked at the same time at most (each argon2 check
    /// takes its memory, 19 MiB by default, and a core for a moment).
    pub checks: tokio::sync::Semaphore,
    /// Rung after an action queued work or put a file back.
    wake: Arc<Wake>,
}

/// Why a page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// A blocking task stopped (a bug).
    #[error("the console: {0}")]
    Failed(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Store(_) | PageError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "a console page failed");
        }
        layout::bare(status, "Not shown", &self.to_string())
    }
}

impl Shared {
    /// The console's state: `reader` and `writer` are its own connections
    /// to the store.
    pub fn new(
        parts: Parts,
        reader: Box<dyn Store>,
        writer: Box<dyn Store>,
        wake: Arc<Wake>,
    ) -> Shared {
        Shared {
            parts: RwLock::new(Arc::new(parts)),
            reader: Mutex::new(reader),
            writer: Mutex::new(writer),
            sessions: auth::Sessions::default(),
            checks: tokio::sync::Semaphore::new(auth::CHECKS_AT_ONCE),
            wake,
        }
    }

    /// The configuration and archive now.
    pub fn parts(&self) -> Arc<Parts> {
        Arc::clone(&self.parts.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts the reloaded configuration in place: the users are replaced,
    /// and the sessions of users no longer listed (or whose password
    /// changed) end.
    pub fn replace_parts(&self, parts: Parts) {
        self.sessions.keep_only(parts.users());
        *self.parts.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(parts);
    }

    /// Rings the workers (the translator, the delivery workers).
    pub fn ring(&self) {
        self.wake.ring();
    }

    /// Runs `f` with the reading connection, on a thread where blocking is
    /// allowed.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Parts, &mut dyn Store) -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        self.with(|s| &s.reader, f).await
    }

    /// Runs `f` (one small action) with the writing connection, on a
    /// thread where blocking is allowed.
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Parts, &mut dyn Store) -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        self.with(|s| &s.writer, f).await
    }

    async fn with<T: Send + 'static>(
        self: &Arc<Self>,
        which: fn(&Shared) -> &Mutex<Box<dyn Store>>,
        f: impl FnOnce(&Parts, &mut dyn Store) -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let parts = shared.parts();
            // A connection whose holder panicked is used again: every
            // transaction it had open was rolled back when dropped.
            let mut store = which(&shared).lock().unwrap_or_else(|e| e.into_inner());
            f(&parts, store.as_mut())
        })
        .await
        .map_err(|e| PageError::Failed(e.to_string()))?
    }
}

/// The console's routes. Each page is behind the login ([`auth::User`]);
/// each action is a form POST carrying the session's CSRF token
/// ([`auth::Action`]), answered by a redirect (POST, redirect, GET) with a
/// flash message.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/assets/{name}", get(asset))
        .route("/favicon.ico", get(favicon))
        .route("/", get(overview::page))
        .route("/files", get(files::list))
        .route("/files/{id}", get(files::page))
        .route("/files/{id}/raw", get(files::raw))
        .route("/files/{id}/reprocess", post(files::reprocess))
        .route("/quarantine", get(files::quarantine))
        .route("/deliveries", get(deliveries::page))
        .route("/deliveries/retry", post(deliveries::retry_target))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/invoices", get(invoices::page))
        .route("/invoices/{id}/release", post(invoices::release))
        .route("/partners", get(partners::page))
        .route("/orders", get(orders::list))
        .route("/orders/{partner}/{po}", get(orders::page))
        .route("/exceptions", get(exceptions::list))
        .route("/measures", get(exceptions::measures_page))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            own_host,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(shared)
}

/// Whether a request's `Host` names this console: the address it
/// listens on (and `localhost` for a loopback one) or its
/// `public_url`'s host, whatever the port. A page of another site whose
/// name was made to point here (DNS rebinding) is not answered. A
/// console listening on every address (`0.0.0.0`) takes any name.
fn answers_to(console: &ConsoleConfig, host: Option<&str>) -> bool {
    let Ok(listen) = console.listen.parse::<std::net::SocketAddr>() else {
        return true;
    };
    if listen.ip().is_unspecified() {
        return true;
    }
    let Some(name) = host.and_then(host_name) else {
        return false;
    };
    let public = url::Url::parse(&console.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let ip = match listen.ip() {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    name == ip
        || (listen.ip().is_loopback() && name == "localhost")
        || public.is_some_and(|p| p == name)
}

/// The host name of a `Host` header (without its port), lower case.
fn host_name(host: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    let name = match host.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => host.split(':').next()?.to_string(),
    };
    (!name.is_empty()).then_some(name)
}

/// Refuses a request whose `Host` is not this console's
/// ([`Parts::answers_to`]).
async fn own_host(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let answers = shared
        .parts()
        .config
        .console
        .as_ref()
        .is_none_or(|console| answers_to(console, host));
    if answers {
        return next.run(request).await;
    }
    tracing::warn!(
        host = host.unwrap_or(""),
        "a request for another host name was refused"
    );
    layout::bare(
        StatusCode::MISDIRECTED_REQUEST,
        "Not this console",
        "This console answers to its own address (its listen address, or public_url) only.",
    )
}

/// The largest form taken (a login, an action): a few fields.
const MAX_FORM_BYTES: usize = 16 << 10;

async fn not_found() -> Response {
    layout::bare(StatusCode::NOT_FOUND, "Not found", "There is no such page.")
}

/// The headers every answer carries: nothing from elsewhere runs or
/// loads (no inline script or style either), no framing, no sniffing, no
/// referrer beyond the console, nothing kept in caches.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The stylesheet and the script, embedded in the binary.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
];

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => not_found().await,
    }
}

async fn favicon() -> Response {
    asset(axum::extract::Path("icon.svg".to_string())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(listen: &str, public_url: Option<&str>) -> ConsoleConfig {
        ConsoleConfig {
            listen: listen.into(),
            users: Vec::new(),
            session_hours: 8,
            public_url: public_url.map_or_else(|| format!("http://{listen}/"), str::to_string),
        }
    }

    #[test]
    fn the_console_answers_to_its_own_names_only() {
        let c = console("127.0.0.1:8490", None);
        assert!(answers_to(&c, Some("127.0.0.1:8490")));
        assert!(answers_to(&c, Some("127.0.0.1")));
        assert!(answers_to(&c, Some("localhost:9000")), "a tunnel's port");
        assert!(answers_to(&c, Some("LOCALHOST:8490")));
        assert!(!answers_to(&c, Some("evil.example:8490")), "DNS rebinding");
        assert!(!answers_to(&c, None));
        let c = console("127.0.0.1:8490", Some("https://edi.example.com/"));
        assert!(answers_to(&c, Some("edi.example.com")));
        assert!(!answers_to(&c, Some("evil.example")));
        let c = console("[::1]:8490", None);
        assert!(answers_to(&c, Some("[::1]:8490")));
        assert!(answers_to(&c, Some("localhost")));
        assert!(answers_to(&console("0.0.0.0:8490", None), Some("anything")));
    }
}
