//! One GET of the feed (or of one of its pages): the login, the headers
//! and the validators of the last fetch sent; the answer's body copied
//! into a [`Sink`] under a byte limit; a connection error, a timeout, a
//! 5xx or a 429 tried again with a doubling wait (or the server's
//! `Retry-After`, at most a minute).

use std::io::SeekFrom;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// What the server says of the body the last fetch took, sent back so
/// that an unchanged feed is answered `304 Not Modified`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// The URL they are of: a feed moved to another URL starts afresh.
    pub url: String,
    /// Its `ETag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Its `Last-Modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether there is anything to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// How requests prove who we are; the secret is never logged
/// (its header value is marked sensitive).
#[derive(Clone)]
pub enum Auth {
    /// No login.
    None,
    /// Basic authentication.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// A header holding the secret (`Authorization: Bearer ...`, or the
    /// vendor's own).
    Header(HeaderName, HeaderValue),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}, ...)"),
            Auth::Header(name, _) => write!(f, "Header({name}, ...)"),
        }
    }
}

/// Where a body goes: memory (a page to read as JSON) or a file.
#[derive(Debug)]
pub enum Sink {
    /// In memory.
    Memory(Vec<u8>),
    /// A temporary file.
    Spool(tokio::fs::File),
}

impl Sink {
    async fn reset(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Memory(v) => v.clear(),
            Sink::Spool(f) => {
                f.set_len(0).await?;
                f.seek(SeekFrom::Start(0)).await?;
            }
        }
        Ok(())
    }

    /// Appends `bytes`.
    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(v) => v.extend_from_slice(bytes),
            Sink::Spool(f) => f.write_all(bytes).await?,
        }
        Ok(())
    }
}

/// An answer with a body.
#[derive(Debug, Default)]
pub struct Got {
    /// Its bytes (written to the sink).
    pub size: u64,
    /// Its `ETag` and `Last-Modified`.
    pub etag: Option<String>,
    /// Its `Last-Modified`.
    pub last_modified: Option<String>,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// The `Link` header's `rel="next"` URL, as written.
    pub next_link: Option<String>,
}

/// What a GET came to.
#[derive(Debug)]
pub enum Answer {
    /// `304 Not Modified`.
    NotModified,
    /// A 2xx with its body in the sink.
    Body(Got),
}

/// A failed fetch.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server refused (4xx) or failed (5xx, after the retries).
    #[error("GET {url}: {status}{}", said.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Status {
        /// The URL.
        url: String,
        /// Its answer.
        status: StatusCode,
        /// The start of its body, when it is text.
        said: Option<String>,
    },
    /// The body is larger than the limit.
    #[error("GET {url}: the feed is larger than max_bytes ({limit} bytes): refused")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// No answer (connection, TLS, timeout), after the retries.
    #[error("GET {url}: {message}")]
    Request {
        /// The URL.
        url: String,
        /// What went wrong, with its causes.
        message: String,
    },
    /// A transient failure, the last of several tries.
    #[error("{last} (tried {tries} times)")]
    Retried {
        /// How many tries.
        tries: u32,
        /// The last one's failure.
        last: Box<FetchError>,
    },
    /// The body could not be kept.
    #[error("GET {url}: keeping the body: {source}")]
    Io {
        /// The URL.
        url: String,
        /// Why.
        source: std::io::Error,
    },
}

impl FetchError {
    /// Whether trying again may help.
    fn transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            FetchError::Request { .. } => true,
            FetchError::TooLarge { .. } | FetchError::Io { .. } | FetchError::Retried { .. } => {
                false
            }
        }
    }
}

/// What every request of a poll shares.
#[derive(Debug)]
pub struct Fetcher<'a> {
    /// The client.
    pub client: &'a reqwest::Client,
    /// The login.
    pub auth: &'a Auth,
    /// The configured headers.
    pub headers: &'a HeaderMap,
    /// Retries after the first try.
    pub retries: u32,
    /// The first wait.
    pub first_wait: Duration,
}

impl Fetcher<'_> {
    /// GETs `url` (with `validators`, if any) into `sink`, at most `limit`
    /// bytes, trying again what may pass.
    pub async fn get(
        &self,
        url: &url::Url,
        validators: Option<&Validators>,
        sink: &mut Sink,
        limit: u64,
    ) -> Result<Answer, FetchError> {
        let mut wait = self.first_wait;
        let mut tries = 0;
        loop {
            tries += 1;
            sink.reset().await.map_err(|source| FetchError::Io {
                url: url.to_string(),
                source,
            })?;
            let (result, retry_after) = self.once(url, validators, sink, limit).await;
            match result {
                Err(e) if e.transient() && tries <= self.retries => {
                    let pause = retry_after.map_or(wait, |r| r.max(wait)).min(MAX_WAIT);
                    tracing::warn!(url = %url, error = %e, tries, wait_ms = pause.as_millis() as u64, "fetch failed: trying again");
                    tokio::time::sleep(pause).await;
                    wait = (wait * 2).min(MAX_WAIT);
                }
                Err(e) if e.transient() && tries > 1 => {
                    return Err(FetchError::Retried {
                        tries,
                        last: Box::new(e),
                    });
                }
                other => return other,
            }
        }
    }

    async fn once(
        &self,
        url: &url::Url,
        validators: Option<&Validators>,
        sink: &mut Sink,
        limit: u64,
    ) -> (Result<Answer, FetchError>, Option<Duration>) {
        let request_error = |e: reqwest::Error| FetchError::Request {
            url: url.to_string(),
            message: causes(&e),
        };
        let mut request = self.client.get(url.clone()).headers(self.headers.clone());
        request = match self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            Auth::Header(name, value) => request.header(name, value),
        };
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return (Err(request_error(e)), None),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = |name: HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if status == StatusCode::NOT_MODIFIED {
            return (Ok(Answer::NotModified), None);
        }
        if !status.is_success() {
            let retry_after = text(header::RETRY_AFTER)
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let said = said(response).await;
            return (
                Err(FetchError::Status {
                    url: url.to_string(),
                    status,
                    said,
                }),
                retry_after,
            );
        }
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return (Err(too_large()), None);
        }
        let mut size = 0u64;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    if size > limit {
                        return (Err(too_large()), None);
                    }
                    if let Err(source) = sink.write(&chunk).await {
                        return (
                            Err(FetchError::Io {
                                url: url.to_string(),
                                source,
                            }),
                            None,
                        );
                    }
                }
                Ok(None) => break,
                Err(e) => return (Err(request_error(e)), None),
            }
        }
        let next_link = headers
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link);
        (
            Ok(Answer::Body(Got {
                size,
                etag: text(header::ETAG),
                last_modified: text(header::LAST_MODIFIED),
                content_type: text(header::CONTENT_TYPE),
                next_link,
            })),
            None,
        )
    }
}

/// An error with its causes: reqwest's own message alone ("error sending
/// request") does not say what happened.
fn causes(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        message.push_str(" (timed out)");
    }
    message
}

/// The start of an error answer's body, when it is text: what the vendor
/// says is wrong.
async fn said(mut response: reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < 512 {
        match response.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .take(200)
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The `rel="next"` URL of one `Link` header value (RFC 8288):
/// `<https://x/p?page=2>; rel="next", <...>; rel="last"`.
pub fn next_link(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
        let params = after[close + 1..params_end].trim_end_matches([' ', '\t', ',']);
        let is_next = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim().to_string());
        }
        rest = &after[params_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_their_next_url() {
        assert_eq!(
            next_link(
                r#"<https://x.example/p?page=2&a=1,2>; rel="next", <https://x.example/p?page=9>; rel="last""#
            ),
            Some("https://x.example/p?page=2&a=1,2".into())
        );
        assert_eq!(
            next_link(r#"</p?page=1>; rel="prev", </p?page=3>; rel="next""#),
            Some("/p?page=3".into())
        );
        assert_eq!(
            next_link(r#"</p?page=3>; rel="prefetch next""#),
            Some("/p?page=3".into())
        );
        assert_eq!(next_link(r#"</p?page=9>; rel=last"#), None);
        assert_eq!(next_link(""), None);
    }
}
