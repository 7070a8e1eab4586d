//! The client of NetSuite's REST services: the record service (create,
//! read, update, upsert by external ID, transform, delete) and SuiteQL,
//! each request signed for the account, at most `concurrency` of them at
//! once (the account's governance limit), and retried where that is safe.
//!
//! What is retried here, with a growing wait (at least NetSuite's
//! `Retry-After`): a refusal for the concurrency limit (429, or 400
//! `SSS_REQUEST_LIMIT_EXCEEDED`) of any request, since nothing was done;
//! and, for a request that changes nothing (a read, SuiteQL), a server
//! error or no answer. A write that got no answer or a server error is
//! not sent again: its outcome is unknown, and the caller looks the
//! record up by its external ID before writing again
//! ([`ErrorClass::Unknown`]). Data errors come back at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use url::Url;

use super::error::{ErrorClass, NetSuiteError, parse_details};
use super::oauth2::{AccessToken, SigningKey, TokenSource};
use super::tba;

/// How requests are authenticated.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Token-based authentication: each request signed (OAuth 1.0a).
    Tba(tba::Credentials),
    /// OAuth 2.0 client credentials: an access token, had for a client
    /// assertion signed with the certificate's key, sent as a bearer
    /// token and renewed before it expires.
    OAuth2 {
        /// The integration record's client ID (its consumer key).
        client_id: String,
        /// The certificate's ID in NetSuite's M2M setup.
        certificate_id: String,
        /// The certificate's private key.
        key: Arc<SigningKey>,
    },
}

/// How the client signs each request, once built.
#[derive(Clone, Debug)]
enum Signer {
    Tba(tba::Credentials),
    Bearer(Arc<TokenSource>),
}

impl Signer {
    /// The `Authorization` header, and the access token it carries (to
    /// forget it when NetSuite refuses it).
    async fn header(
        &self,
        method: &Method,
        url: &Url,
    ) -> Result<(String, Option<AccessToken>), NetSuiteError> {
        match self {
            Signer::Tba(creds) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_err(|_| NetSuiteError::Auth("the clock is before 1970".into()))?
                    .as_secs();
                Ok((
                    creds.authorization(method.as_str(), url, &tba::nonce(), now),
                    None,
                ))
            }
            Signer::Bearer(source) => {
                let token = source.bearer().await.map_err(|e| {
                    if e.is_transient() {
                        NetSuiteError::Transport {
                            operation: "POST auth/oauth2/v1/token".into(),
                            reason: e.to_string(),
                            sent: false,
                        }
                    } else {
                        NetSuiteError::Auth(e.to_string())
                    }
                })?;
                Ok((format!("Bearer {}", token.as_str()), Some(token)))
            }
        }
    }
}

/// How requests refused for the concurrency limit (and reads that failed
/// on the server) are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first one included.
    pub attempts: u32,
    /// The first wait; each next one twice as long.
    pub first: Duration,
    /// The longest wait (also the most of a `Retry-After` taken).
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 8,
            first: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }
}

impl Retry {
    /// The wait before attempt `attempt` (from 1 for the first retry):
    /// doubling from `first`, up to `max`, at least `asked`, with up to a
    /// quarter added at random so that waiting clients do not come back
    /// all at once.
    fn wait(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let doubled = self.first.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let base = doubled
            .min(self.max)
            .max(asked.unwrap_or_default().min(self.max));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

/// The client's settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Where the account's REST services are: `https://<account>.suitetalk.api.netsuite.com`
    /// ([`account_url`]), or a simulator's address.
    pub base_url: Url,
    /// Where the account's RESTlets run:
    /// `https://<account>.restlets.api.netsuite.com` ([`restlet_url`]), or
    /// the simulator's address.
    pub restlet_url: Url,
    /// How requests are authenticated.
    pub auth: Auth,
    /// Requests at once, at most (the account's or the integration's
    /// concurrency limit, less what other integrations use), or as
    /// NetSuite's governance limits say.
    pub concurrency: Concurrency,
    /// How long one request may take.
    pub timeout: Duration,
    /// How refused requests are retried.
    pub retry: Retry,
}

/// How many requests the client sends at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// This many.
    Fixed(usize),
    /// As `governanceLimits` says, read before the first request: the
    /// integration's own limit when it has one, else the account's pool
    /// left to integrations, less one for the others (at least one).
    Auto,
}

/// The limit `governanceLimits` gives dropgate: the integration's own,
/// else what the account leaves to integrations, less one.
pub fn limit_from_governance(limits: &Value) -> Option<usize> {
    let n = |k: &str| limits.get(k).and_then(Value::as_u64);
    let own =
        limits.get("integrationLimitType").and_then(Value::as_str) == Some("integrationLimit");
    let limit = if own {
        n("integrationConcurrencyLimit")
    } else {
        n("accountUnallocatedConcurrencyLimit").or_else(|| n("accountConcurrencyLimit"))
    }?;
    let keep = if own { limit } else { limit.saturating_sub(1) };
    usize::try_from(keep.max(1)).ok()
}

/// The REST host of an account: its ID in lower case with `_` as `-`
/// (`1234567_SB1` → `https://1234567-sb1.suitetalk.api.netsuite.com`).
pub fn account_url(account: &str) -> Result<Url, NetSuiteError> {
    let host = account.to_ascii_lowercase().replace('_', "-");
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(NetSuiteError::Request(format!(
            "account {account:?} is not a NetSuite account ID (letters, digits and _)"
        )));
    }
    Url::parse(&format!("https://{host}.suitetalk.api.netsuite.com"))
        .map_err(|e| NetSuiteError::Request(format!("account {account:?}: {e}")))
}

/// The RESTlet host of an account (`1234567_SB1` →
/// `https://1234567-sb1.restlets.api.netsuite.com`).
pub fn restlet_url(account: &str) -> Result<Url, NetSuiteError> {
    let rest = account_url(account)?;
    let host = rest
        .host_str()
        .unwrap_or_default()
        .replace(".suitetalk.api.", ".restlets.api.");
    Url::parse(&format!("https://{host}"))
        .map_err(|e| NetSuiteError::Request(format!("account {account:?}: {e}")))
}

/// An external ID as NetSuite takes it in a URL (`eid:`): letters,
/// digits, `_` and `-`, at most 255 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    /// Checks `id`.
    pub fn new(id: impl Into<String>) -> Result<Self, NetSuiteError> {
        let id = id.into();
        let fits = !id.is_empty()
            && id.len() <= 255
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if fits {
            Ok(ExternalId(id))
        } else {
            Err(NetSuiteError::Request(format!(
                "external ID {id:?} has characters NetSuite cannot take in a URL (keep to letters, digits, _ and -)"
            )))
        }
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ExternalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record named by its internal ID or its external ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordRef {
    /// NetSuite's internal ID.
    Id(String),
    /// The external ID the record was given.
    External(ExternalId),
}

impl RecordRef {
    fn segment(&self) -> Result<String, NetSuiteError> {
        match self {
            RecordRef::Id(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {
                Ok(id.clone())
            }
            RecordRef::Id(id) => Err(NetSuiteError::Request(format!(
                "internal ID {id:?} is not a number"
            ))),
            RecordRef::External(eid) => Ok(format!("eid:{eid}")),
        }
    }
}

/// One page of a SuiteQL answer.
#[derive(Clone, Debug, Deserialize)]
pub struct QueryPage {
    /// The rows: column names in lower case, values as NetSuite gives them
    /// (strings; a NULL column is left out).
    #[serde(default)]
    pub items: Vec<Map<String, Value>>,
    /// Whether more rows follow.
    #[serde(rename = "hasMore", default)]
    pub has_more: bool,
    /// Rows in all, when NetSuite said.
    #[serde(rename = "totalResults", default)]
    pub total_results: Option<u64>,
}

/// The most rows one SuiteQL query may page through (NetSuite's limit).
pub const MAX_QUERY_ROWS: usize = 100_000;
/// The largest page NetSuite gives.
pub const MAX_PAGE: usize = 1000;

/// The NetSuite client of one account. Cheap to clone; clones share the
/// connection pool and the concurrency limit.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    rest: String,
    restlets: String,
    signer: Signer,
    permits: Arc<Semaphore>,
    /// With [`Concurrency::Auto`]: the limit, once read.
    auto: Option<Arc<tokio::sync::OnceCell<usize>>>,
    limit: usize,
    retry: Retry,
}

/// An answer with a 2xx status.
struct Answer {
    location: Option<String>,
    body: Vec<u8>,
}

fn record_type(name: &str) -> Result<&str, NetSuiteError> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name)
    } else {
        Err(NetSuiteError::Request(format!(
            "{name:?} is not a NetSuite record type"
        )))
    }
}

/// The internal ID at the end of a `Location` header.
fn id_from_location(operation: &str, location: Option<&str>) -> Result<String, NetSuiteError> {
    let id = location
        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
    match id {
        Some(id) => Ok(id.to_string()),
        None => Err(NetSuiteError::Answer {
            operation: operation.to_string(),
            what: match location {
                None => "no Location header".into(),
                Some(l) => format!("Location {l:?} does not end in a record's internal ID"),
            },
        }),
    }
}

/// An error and its causes, `: `-separated (reqwest's own message is
/// only "error sending request"; the cause says "connection refused").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

impl Client {
    /// A client with these settings.
    pub fn new(config: ClientConfig) -> Result<Self, NetSuiteError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| NetSuiteError::Request(format!("starting the HTTP client: {e}")))?;
        let rest = format!(
            "{}/services/rest/",
            config.base_url.as_str().trim_end_matches('/')
        );
        let signer = match config.auth {
            Auth::Tba(creds) => Signer::Tba(creds),
            Auth::OAuth2 {
                client_id,
                certificate_id,
                key,
            } => {
                let token_url = Url::parse(&format!("{rest}auth/oauth2/v1/token"))
                    .map_err(|e| NetSuiteError::Request(format!("the token URL: {e}")))?;
                Signer::Bearer(Arc::new(TokenSource::new(
                    http.clone(),
                    token_url,
                    client_id,
                    certificate_id,
                    key,
                )))
            }
        };
        let restlets = format!(
            "{}/app/site/hosting/restlet.nl",
            config.restlet_url.as_str().trim_end_matches('/')
        );
        Ok(Client {
            http,
            rest,
            restlets,
            signer,
            permits: Arc::new(Semaphore::new(match config.concurrency {
                Concurrency::Fixed(n) => n.max(1),
                Concurrency::Auto => 1,
            })),
            auto: (config.concurrency == Concurrency::Auto)
                .then(|| Arc::new(tokio::sync::OnceCell::new())),
            limit: match config.concurrency {
                Concurrency::Fixed(n) => n.max(1),
                Concurrency::Auto => 1,
            },
            retry: config.retry,
        })
    }

    /// Creates a record; its internal ID.
    pub async fn create(&self, kind: &str, body: &Value) -> Result<String, NetSuiteError> {
        let path = format!("record/v1/{}", record_type(kind)?);
        let answer = self
            .send(Method::POST, &path, &[], Some(body), true)
            .await?;
        id_from_location(&format!("POST {path}"), answer.location.as_deref())
    }

    /// Reads a record (sublists and subrecords too with `expand`); `None`
    /// when there is none.
    pub async fn get(
        &self,
        kind: &str,
        record: &RecordRef,
        expand: bool,
    ) -> Result<Option<Value>, NetSuiteError> {
        let path = format!("record/v1/{}/{}", record_type(kind)?, record.segment()?);
        let query: &[(&str, &str)] = if expand {
            &[("expandSubResources", "true")]
        } else {
            &[]
        };
        match self.send(Method::GET, &path, query, None, false).await {
            Ok(answer) => Ok(Some(self.json(&path, &answer)?)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Updates fields of a record; sublists named in `replace` are
    /// replaced, the others merged line by line.
    pub async fn patch(
        &self,
        kind: &str,
        record: &RecordRef,
        body: &Value,
        replace: &[&str],
    ) -> Result<(), NetSuiteError> {
        let path = format!("record/v1/{}/{}", record_type(kind)?, record.segment()?);
        let joined = replace.join(",");
        let query: &[(&str, &str)] = if replace.is_empty() {
            &[]
        } else {
            &[("replace", joined.as_str())]
        };
        self.send(Method::PATCH, &path, query, Some(body), true)
            .await
            .map(|_| ())
    }

    /// Creates the record with this external ID, or updates it when it
    /// exists; its internal ID when NetSuite said.
    pub async fn upsert(
        &self,
        kind: &str,
        id: &ExternalId,
        body: &Value,
    ) -> Result<Option<String>, NetSuiteError> {
        let path = format!("record/v1/{}/eid:{id}", record_type(kind)?);
        let answer = self.send(Method::PUT, &path, &[], Some(body), true).await?;
        Ok(answer
            .location
            .as_deref()
            .and_then(|l| id_from_location(&path, Some(l)).ok()))
    }

    /// Deletes a record.
    pub async fn delete(&self, kind: &str, record: &RecordRef) -> Result<(), NetSuiteError> {
        let path = format!("record/v1/{}/{}", record_type(kind)?, record.segment()?);
        self.send(Method::DELETE, &path, &[], None, true)
            .await
            .map(|_| ())
    }

    /// Makes a record of type `to` from record `id` of type `from` (a
    /// purchase order's vendor bill, a sales order's item fulfillment),
    /// with the fields of `body` (the sublists named in `replace` hold
    /// only the lines the body gives; the others start from every open
    /// line of the source); the new record's internal ID.
    pub async fn transform(
        &self,
        from: &str,
        id: &RecordRef,
        to: &str,
        body: &Value,
        replace: &[&str],
    ) -> Result<String, NetSuiteError> {
        let path = format!(
            "record/v1/{}/{}/!transform/{}",
            record_type(from)?,
            id.segment()?,
            record_type(to)?
        );
        let joined = replace.join(",");
        let query: &[(&str, &str)] = if replace.is_empty() {
            &[]
        } else {
            &[("replace", joined.as_str())]
        };
        let answer = self
            .send(Method::POST, &path, query, Some(body), true)
            .await?;
        id_from_location(&format!("POST {path}"), answer.location.as_deref())
    }

    /// One page of a SuiteQL query.
    pub async fn suiteql(
        &self,
        query: &str,
        limit: usize,
        offset: usize,
    ) -> Result<QueryPage, NetSuiteError> {
        let path = "query/v1/suiteql";
        let limit = limit.clamp(1, MAX_PAGE).to_string();
        let offset = offset.to_string();
        let answer = self
            .send(
                Method::POST,
                path,
                &[("limit", &limit), ("offset", &offset)],
                Some(&serde_json::json!({ "q": query })),
                false,
            )
            .await?;
        serde_json::from_slice(&answer.body).map_err(|e| NetSuiteError::Answer {
            operation: format!("POST {path}"),
            what: format!("not a SuiteQL page: {e}"),
        })
    }

    /// Every row of a SuiteQL query, page by page, up to `max_rows` (at
    /// most NetSuite's 100,000; a query with more must be narrowed, by
    /// ID ranges for example).
    pub async fn query_all(
        &self,
        query: &str,
        max_rows: usize,
    ) -> Result<Vec<Map<String, Value>>, NetSuiteError> {
        let max_rows = max_rows.min(MAX_QUERY_ROWS);
        let mut rows = Vec::new();
        loop {
            let page = self.suiteql(query, MAX_PAGE, rows.len()).await?;
            let got = page.items.len();
            rows.extend(page.items);
            if !page.has_more || got == 0 {
                return Ok(rows);
            }
            if rows.len() >= max_rows {
                return Err(NetSuiteError::Request(format!(
                    "the SuiteQL query has more than {max_rows} rows; narrow it (by ID ranges or a later cursor)"
                )));
            }
        }
    }

    /// Calls a deployed RESTlet (`script`, `deploy`: its IDs) with a JSON
    /// body; its JSON answer. A RESTlet may write, so a call without an
    /// answer is not sent again here.
    pub async fn restlet(
        &self,
        script: &str,
        deploy: &str,
        body: &Value,
    ) -> Result<Value, NetSuiteError> {
        let mut url = Url::parse(&self.restlets)
            .map_err(|e| NetSuiteError::Request(format!("the RESTlet URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("script", script)
            .append_pair("deploy", deploy);
        let operation = format!("POST restlet {script}");
        let answer = self
            .send_url(Method::POST, url, operation.clone(), Some(body), true, true)
            .await?;
        serde_json::from_slice(&answer.body).map_err(|e| NetSuiteError::Answer {
            operation,
            what: format!("not JSON: {e}"),
        })
    }

    /// How many requests may run at once: the configured number, or with
    /// [`Concurrency::Auto`] the one governance gives (read now if it was
    /// not; 1 when it cannot be read).
    pub async fn limit(&self) -> usize {
        let Some(cell) = &self.auto else {
            return self.limit;
        };
        *cell
            .get_or_init(|| async {
                let read = match self.url("system/v1/governanceLimits", &[]) {
                    Ok(url) => self
                        .send_url(
                            Method::GET,
                            url,
                            "GET system/v1/governanceLimits".into(),
                            None,
                            false,
                            false,
                        )
                        .await
                        .ok()
                        .and_then(|a| serde_json::from_slice::<Value>(&a.body).ok()),
                    Err(_) => None,
                };
                match read.as_ref().and_then(limit_from_governance) {
                    Some(n) => {
                        self.permits.add_permits(n.saturating_sub(1));
                        tracing::info!(
                            limit = n,
                            "NetSuite: the concurrency limit from governanceLimits"
                        );
                        n
                    }
                    None => {
                        tracing::warn!(
                            "NetSuite: governanceLimits could not be read; one request at a time"
                        );
                        1
                    }
                }
            })
            .await
    }

    /// The account's governance limits (concurrency), as NetSuite gives
    /// them.
    pub async fn governance_limits(&self) -> Result<Value, NetSuiteError> {
        let path = "system/v1/governanceLimits";
        let answer = self.send(Method::GET, path, &[], None, false).await?;
        self.json(path, &answer)
    }

    fn json(&self, path: &str, answer: &Answer) -> Result<Value, NetSuiteError> {
        serde_json::from_slice(&answer.body).map_err(|e| NetSuiteError::Answer {
            operation: path.to_string(),
            what: format!("not JSON: {e}"),
        })
    }

    /// Sends one request to the REST services, retrying what
    /// [`ErrorClass::Retry`] allows.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        writes: bool,
    ) -> Result<Answer, NetSuiteError> {
        let url = self.url(path, query)?;
        let operation = format!("{method} {path}");
        self.send_url(method, url, operation, body, writes, true)
            .await
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, NetSuiteError> {
        let mut url = Url::parse(&format!("{}{path}", self.rest))
            .map_err(|e| NetSuiteError::Request(format!("{path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends one request to `url`, retrying what [`ErrorClass::Retry`]
    /// allows (with `governed`, once the limit is known).
    async fn send_url(
        &self,
        method: Method,
        url: Url,
        operation: String,
        body: Option<&Value>,
        writes: bool,
        governed: bool,
    ) -> Result<Answer, NetSuiteError> {
        if governed {
            Box::pin(self.limit()).await;
        }
        let body = body.map(|b| b.to_string());
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let (result, token) = self
                .send_once(&method, &url, &operation, body.as_deref())
                .await;
            let error = match result {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            // An access token refused before it should have expired (the
            // integration re-authorized, a token revoked): a new one,
            // once. The request was refused before any work.
            if let (Some(token), Signer::Bearer(source), Some(401)) =
                (&token, &self.signer, error.status())
                && !renewed
            {
                source.invalidate(token);
                renewed = true;
                continue;
            }
            match error.class(writes) {
                ErrorClass::Retry { after } if attempt < self.retry.attempts => {
                    let wait = self.retry.wait(attempt, after);
                    tracing::debug!(%operation, attempt, ?wait, error = %error, "NetSuite: retrying");
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(error),
            }
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        operation: &str,
        body: Option<&str>,
    ) -> (Result<Answer, NetSuiteError>, Option<AccessToken>) {
        let (authorization, token) = match self.signer.header(method, url).await {
            Ok(h) => h,
            Err(e) => return (Err(e), None),
        };
        (
            self.send_signed(method, url, operation, body, authorization)
                .await,
            token,
        )
    }

    async fn send_signed(
        &self,
        method: &Method,
        url: &Url,
        operation: &str,
        body: Option<&str>,
        authorization: String,
    ) -> Result<Answer, NetSuiteError> {
        // The permit is the account's concurrency limit: held for the
        // request only, never across a retry's wait (nor a token fetch).
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| NetSuiteError::Request("the NetSuite client is closed".into()))?;
        let started = Instant::now();
        let mut request = self
            .http
            .request(method.clone(), url.as_str())
            .header("Authorization", authorization)
            .header("Accept", "application/json");
        if url.path().ends_with("/suiteql") {
            request = request.header("Prefer", "transient");
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .header("X-NetSuite-PropertyNameValidation", "error")
                .body(body.to_string());
        }
        let transport = |e: reqwest::Error| {
            let sent = !e.is_connect();
            NetSuiteError::Transport {
                operation: operation.to_string(),
                reason: with_causes(&e.without_url()),
                sent,
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let location = response
            .headers()
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.map_err(transport)?;
        tracing::debug!(
            %operation,
            status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "NetSuite"
        );
        if status.is_success() {
            return Ok(Answer {
                location,
                body: bytes.to_vec(),
            });
        }
        Err(NetSuiteError::Status {
            status: status.as_u16(),
            operation: operation.to_string(),
            details: parse_details(&bytes),
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_the_integrations_own_or_the_pool_less_one() {
        let own = serde_json::json!({"integrationLimitType": "integrationLimit",
            "integrationConcurrencyLimit": 4, "accountConcurrencyLimit": 15});
        assert_eq!(limit_from_governance(&own), Some(4));
        let pool = serde_json::json!({"integrationLimitType": "accountLimit",
            "accountConcurrencyLimit": 15, "accountUnallocatedConcurrencyLimit": 11});
        assert_eq!(limit_from_governance(&pool), Some(10));
        let one = serde_json::json!({"accountConcurrencyLimit": 1});
        assert_eq!(limit_from_governance(&one), Some(1));
        assert_eq!(limit_from_governance(&serde_json::json!({})), None);
    }

    #[test]
    fn an_account_id_gives_its_host() {
        assert_eq!(
            account_url("1234567_SB1").expect("test input").as_str(),
            "https://1234567-sb1.suitetalk.api.netsuite.com/"
        );
        assert!(account_url("12/34").is_err());
        assert!(account_url("").is_err());
    }

    #[test]
    fn external_ids_keep_to_what_a_url_takes() {
        assert!(ExternalId::new("dg-856-acme-SN1001").is_ok());
        assert!(ExternalId::new("a|b").is_err());
        assert!(ExternalId::new("a b").is_err());
        assert!(ExternalId::new("").is_err());
        assert!(ExternalId::new("x".repeat(256)).is_err());
        assert_eq!(
            RecordRef::External(ExternalId::new("X-1").expect("test input"))
                .segment()
                .expect("test input"),
            "eid:X-1"
        );
        assert!(RecordRef::Id("12/../13".into()).segment().is_err());
    }

    #[test]
    fn the_id_is_read_from_location() {
        assert_eq!(
            id_from_location(
                "x",
                Some("https://h/services/rest/record/v1/vendorBill/2041")
            )
            .expect("test input"),
            "2041"
        );
        assert!(id_from_location("x", None).is_err());
        assert!(
            id_from_location("x", Some("https://h/services/rest/record/v1/vendorBill/")).is_err()
        );
    }

    #[test]
    fn waits_double_up_to_the_most_and_honour_retry_after() {
        let r = Retry {
            attempts: 5,
            first: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        let w1 = r.wait(1, None);
        assert!(w1 >= Duration::from_millis(100) && w1 <= Duration::from_millis(125));
        let w3 = r.wait(3, None);
        assert!(w3 >= Duration::from_millis(400) && w3 <= Duration::from_millis(500));
        let capped = r.wait(30, None);
        assert!(capped >= Duration::from_secs(2) && capped <= Duration::from_millis(2500));
        let asked = r.wait(1, Some(Duration::from_secs(1)));
        assert!(asked >= Duration::from_secs(1));
        let asked_too_much = r.wait(1, Some(Duration::from_secs(3600)));
        assert!(asked_too_much <= Duration::from_millis(2500));
    }
}
