//! The access token of OAuth 2.0 client credentials, for the client: got
//! from NetSuite's token endpoint with a fresh client assertion, kept
//! until shortly before it expires, and got again then (client
//! credentials have no refresh token).
//!
//! One fetch at a time: the tasks that find no valid token wait on one
//! tokio mutex, held only around the request to the token endpoint; the
//! first fetches, the others then take its token (or its error, so that
//! a refused client is asked once, not once per waiting task). The token
//! itself sits behind a std mutex that is never held across an await.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use super::assertion::sign_assertion;
use super::key::SigningKey;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a request to the token endpoint may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a token endpoint's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The life assumed when the answer has no `expires_in`: NetSuite's
/// access tokens last 60 minutes.
const DEFAULT_LIFE: Duration = Duration::from_secs(3600);

/// The longest life believed, whatever the answer says.
const MAX_LIFE: Duration = Duration::from_secs(24 * 3600);

/// An access token. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// The token, for an `Authorization: Bearer` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(..)")
    }
}

/// Why no access token could be had. The messages never hold the token,
/// the key or the assertion.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// The assertion could not be signed.
    #[error("signing the client assertion failed: the system random generator failed")]
    Sign,
    /// The request did not get an answer.
    #[error("POST {url}: {message}")]
    Http {
        /// The token endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The endpoint refused the client with an OAuth error.
    #[error(
        "the token endpoint {url} refused the client credentials (HTTP {status}): {error}{}; check the client ID (the integration's consumer key), the certificate ID, that the private key is the certificate's, and the mapping under Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    Refused {
        /// The token endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code (`invalid_client`, `invalid_grant`, …).
        error: String,
        /// Its `error_description`.
        description: Option<String>,
    },
    /// The endpoint answered another error.
    #[error("the token endpoint {url} answered HTTP {status}: {detail}")]
    Status {
        /// The token endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// NetSuite's error code and detail, or the start of the body.
        detail: String,
    },
    /// A success that holds no usable token.
    #[error("the token endpoint {url} answered without a usable token: {why}")]
    Answer {
        /// The token endpoint.
        url: String,
        /// What is wrong with the answer.
        why: &'static str,
    },
}

impl TokenError {
    /// Whether asking again later may work (no answer, or a server
    /// error or rate limit), as opposed to a refusal to fix by hand.
    pub fn is_transient(&self) -> bool {
        match self {
            TokenError::Http { .. } => true,
            TokenError::Status { status, .. } => *status >= 500 || *status == 429,
            TokenError::Sign | TokenError::Refused { .. } | TokenError::Answer { .. } => false,
        }
    }
}

struct Cached {
    token: AccessToken,
    renew_at: Instant,
}

/// The access tokens of one NetSuite client (client ID, certificate,
/// key) at one token endpoint. Share it (in an `Arc`) between the tasks
/// that talk to the account.
pub struct TokenSource {
    http: reqwest::Client,
    token_url: Url,
    client_id: String,
    certificate_id: String,
    key: Arc<SigningKey>,
    cached: Mutex<Option<Cached>>,
    /// Held around a fetch; holds the error of the last one, if it failed.
    fetching: tokio::sync::Mutex<Option<TokenError>>,
    /// Fetches done, to tell a waiter that one finished while it waited.
    fetches: AtomicU64,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("certificate_id", &self.certificate_id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// How long before its end a token is renewed: 5 minutes, or a tenth of
/// its life when that is shorter.
fn margin(life: Duration) -> Duration {
    (life / 10).min(Duration::from_secs(300))
}

impl TokenSource {
    /// A source of tokens for `client_id` (the integration record's
    /// consumer key) whose certificate NetSuite knows as
    /// `certificate_id`, signed by `key`, from `token_url`
    /// (`https://<account>.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token`,
    /// which is also the assertion's `aud`).
    pub fn new(
        http: reqwest::Client,
        token_url: Url,
        client_id: impl Into<String>,
        certificate_id: impl Into<String>,
        key: impl Into<Arc<SigningKey>>,
    ) -> Self {
        Self {
            http,
            token_url,
            client_id: client_id.into(),
            certificate_id: certificate_id.into(),
            key: key.into(),
            cached: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// A valid access token: the one kept, or a new one when there is
    /// none or it is about to expire.
    pub async fn bearer(&self) -> Result<AccessToken, TokenError> {
        if let Some(token) = self.current() {
            return Ok(token);
        }
        let seen = self.fetches.load(Ordering::Acquire);
        let mut last_error = self.fetching.lock().await;
        if let Some(token) = self.current() {
            return Ok(token);
        }
        if self.fetches.load(Ordering::Acquire) != seen
            && let Some(error) = last_error.as_ref()
        {
            return Err(error.clone());
        }
        let started = Instant::now();
        let result = self.fetch().await;
        self.fetches.fetch_add(1, Ordering::AcqRel);
        match result {
            Ok((token, life)) => {
                *last_error = None;
                let renew_at = started.checked_add(life - margin(life)).unwrap_or(started);
                *self.cache() = Some(Cached {
                    token: token.clone(),
                    renew_at,
                });
                Ok(token)
            }
            Err(error) => {
                *last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Forgets `refused`, a token the server answered 401 to before it
    /// should have expired, so that the next [`TokenSource::bearer`]
    /// fetches a new one. A token fetched since (by another task that
    /// saw the 401 first) is kept.
    pub fn invalidate(&self, refused: &AccessToken) {
        let mut cached = self.cache();
        if cached.as_ref().is_some_and(|c| &c.token == refused) {
            *cached = None;
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self) -> Option<AccessToken> {
        self.cache()
            .as_ref()
            .filter(|c| Instant::now() < c.renew_at)
            .map(|c| c.token.clone())
    }

    /// One request to the token endpoint: the token and its life.
    async fn fetch(&self) -> Result<(AccessToken, Duration), TokenError> {
        let url = self.token_url.as_str();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let assertion = sign_assertion(&self.key, &self.client_id, &self.certificate_id, url, now)
            .map_err(|_| TokenError::Sign)?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_assertion_type", ASSERTION_TYPE)
            .append_pair("client_assertion", &assertion)
            .finish();
        let http_error = |e: reqwest::Error| TokenError::Http {
            url: url.to_string(),
            message: error_chain(&e),
        };
        let mut response = self
            .http
            .post(self.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .timeout(FETCH_TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status();
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http_error)? {
            let room = MAX_ANSWER_BYTES.saturating_sub(answer.len());
            answer.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if answer.len() >= MAX_ANSWER_BYTES {
                break;
            }
        }
        let json: Option<Value> = serde_json::from_slice(&answer).ok();
        if !status.is_success() {
            return Err(refusal(
                url,
                status.as_u16(),
                json.as_ref(),
                &answer,
                &assertion,
            ));
        }
        let answer_error = |why| TokenError::Answer {
            url: url.to_string(),
            why,
        };
        let json = json.ok_or_else(|| answer_error("it is not JSON"))?;
        let token = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| answer_error("it has no access_token"))?;
        if let Some(kind) = json.get("token_type")
            && !kind
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case("bearer"))
        {
            return Err(answer_error("its token_type is not bearer"));
        }
        // NetSuite writes `expires_in` as a string ("3600"); RFC 6749 as
        // a number. Both are read.
        let life = match json.get("expires_in") {
            None => DEFAULT_LIFE,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .map(Duration::from_secs)
                .ok_or_else(|| answer_error("its expires_in is not a number of seconds"))?,
        }
        .min(MAX_LIFE);
        tracing::debug!(
            token_url = url,
            expires_in_secs = life.as_secs(),
            "fetched a NetSuite OAuth 2.0 access token"
        );
        Ok((AccessToken(token.into()), life))
    }
}

/// The error of a token endpoint's non-success answer: an OAuth error
/// (`{"error","error_description"}`), NetSuite's error body
/// (`o:errorDetails`), or the start of the text. The assertion is cut
/// out in case the server echoes it.
fn refusal(
    url: &str,
    status: u16,
    json: Option<&Value>,
    body: &[u8],
    assertion: &str,
) -> TokenError {
    let clean = |s: &str| s.replace(assertion, "<assertion>");
    if let Some(error) = json.and_then(|j| j.get("error")).and_then(Value::as_str) {
        return TokenError::Refused {
            url: url.to_string(),
            status,
            error: clean(error),
            description: json
                .and_then(|j| j.get("error_description"))
                .and_then(Value::as_str)
                .map(clean),
        };
    }
    let details: Vec<String> = json
        .and_then(|j| j.get("o:errorDetails"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    let code = d.get("o:errorCode").and_then(Value::as_str).unwrap_or("");
                    let detail = d.get("detail").and_then(Value::as_str).unwrap_or("");
                    clean(&format!("{code}: {detail}"))
                })
                .collect()
        })
        .unwrap_or_default();
    let detail = if details.is_empty() {
        let text = String::from_utf8_lossy(body);
        let text: String = text.trim().chars().take(300).collect();
        if text.is_empty() {
            "(no body)".to_string()
        } else {
            clean(&text)
        }
    } else {
        details.join("; ")
    };
    TokenError::Status {
        url: url.to_string(),
        status,
        detail,
    }
}

/// An error and its sources, joined by `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        message.push_str(": ");
        message.push_str(&e.to_string());
        source = e.source();
    }
    message
}
