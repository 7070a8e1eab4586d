//! A vendor's feed at a URL as an inbound channel (`type = "http"`): each
//! poll GETs the URL (with basic authentication or a token, and the
//! configured headers); an answer with a body is one waiting file, named
//! by the channel and the fetch's time, which the gateway archives,
//! records and maps like any other.
//!
//! - Conditional requests: the `ETag` and `Last-Modified` of the last
//!   file taken are sent back (`If-None-Match`, `If-Modified-Since`); a
//!   `304` (or the same `ETag` again) is an unchanged feed, and nothing is
//!   taken. The validators are the channel's checkpoint: the daemon keeps
//!   them in the store's cursors in the transaction that records the file
//!   ([`HttpChannel::checkpoint`]) and hands them back before each poll
//!   ([`HttpChannel::resume`]), so that they survive a restart and never
//!   move past a change that was not recorded.
//! - Paging (`[channel.NAME.paging]`): the pages of one fetch are joined
//!   into one JSON file ([`paging`]); the validators are the first page's.
//! - Retries, the byte limit, the answer copied to a temporary file:
//!   [`fetch`]. Configuration: [`config`].

pub mod config;
pub mod fetch;
pub mod paging;

use std::io::{self, Read, Seek, SeekFrom};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use self::config::{Login, PageBy, Paging};
use self::fetch::{Answer, Auth, FetchError, Fetcher, Got, Sink, Validators};
use self::paging::{Joiner, PageError};
use super::watch::Look;
use super::{TransportError, Waiting, secret};

pub use self::config::HttpConfig;

/// A poll that failed.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("{0}")]
    Config(String),
    #[error("the next page's URL {next:?} (from {url}): {why}")]
    NextUrl {
        url: String,
        next: String,
        why: String,
    },
    #[error("{url}: more than max_pages ({max}) pages: refused (raise max_pages)")]
    TooManyPages { url: String, max: u32 },
    #[error("{url}: the cursor {cursor:?} came back again: refused (the paging would not end)")]
    CursorStuck { url: String, cursor: String },
    #[error("{0}")]
    Secret(io::Error),
    #[error("keeping the answer: {0}")]
    Spool(io::Error),
}

impl PollError {
    fn kind(&self) -> io::ErrorKind {
        match self {
            PollError::Fetch(FetchError::Status { status, .. })
                if status.as_u16() == 401 || status.as_u16() == 403 =>
            {
                io::ErrorKind::PermissionDenied
            }
            PollError::Fetch(FetchError::Status { status, .. }) if status.as_u16() == 404 => {
                io::ErrorKind::NotFound
            }
            PollError::Fetch(FetchError::TooLarge { .. })
            | PollError::Page(PageError::TooLarge { .. }) => io::ErrorKind::FileTooLarge,
            PollError::Fetch(FetchError::Request { .. } | FetchError::Retried { .. }) => {
                io::ErrorKind::Other
            }
            PollError::Config(_) | PollError::Secret(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        }
    }
}

/// The file of the last fetch, waiting to be taken.
#[derive(Debug)]
struct Fetched {
    name: String,
    file: std::fs::File,
    size: u64,
    validators: Validators,
}

/// An HTTP pull channel at work.
#[derive(Debug)]
pub struct HttpChannel {
    name: String,
    config: HttpConfig,
    client: Option<reqwest::Client>,
    /// The validators of the last file taken, as the store keeps them.
    saved: Option<Validators>,
    fetched: Option<Fetched>,
}

impl HttpChannel {
    /// The channel `name`.
    pub fn new(name: &str, config: HttpConfig) -> HttpChannel {
        HttpChannel {
            name: name.to_string(),
            config,
            client: None,
            saved: None,
            fetched: None,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The store cursor its checkpoint is kept under.
    pub fn checkpoint_key(&self) -> String {
        format!("http:{}", self.name)
    }

    /// The checkpoint the store kept (the validators of the last file
    /// taken), before a poll; one that cannot be read is forgotten (the
    /// next fetch is a whole one, and a repeat is found a duplicate).
    pub fn resume(&mut self, saved: Option<&str>) {
        self.saved = saved.and_then(|s| match serde_json::from_str::<Validators>(s) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(channel = %self.name, error = %e, "the feed's saved validators cannot be read: fetching it whole");
                None
            }
        });
    }

    /// The checkpoint to keep once waiting file `file` is recorded.
    pub fn checkpoint(&self, file: &str) -> Option<String> {
        let f = self.fetched.as_ref().filter(|f| f.name == file)?;
        (!f.validators.is_empty())
            .then(|| serde_json::to_string(&f.validators).ok())
            .flatten()
    }

    fn error(&self, doing: &str, e: PollError) -> TransportError {
        TransportError {
            channel: self.name.clone(),
            doing: doing.to_string(),
            source: io::Error::new(e.kind(), e.to_string()),
        }
    }

    fn client(&mut self) -> Result<reqwest::Client, PollError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        if let Some(ca) = &self.config.ca_file {
            let bad = |e: String| PollError::Config(format!("ca_file {}: {e}", ca.display()));
            let pem = std::fs::read(ca).map_err(|e| bad(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
            builder = builder.tls_certs_only(certs);
        }
        let c = builder
            .timeout(Duration::from_secs(self.config.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(self.config.timeout_secs.clamp(1, 30)))
            .redirect(redirects(self.config.token_header.is_some()))
            .user_agent(concat!("dropgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PollError::Config(format!("starting the HTTP client: {e}")))?;
        self.client = Some(c.clone());
        Ok(c)
    }

    /// The login, its secret read now (a rotated token is taken up at the
    /// next poll).
    fn auth(&self) -> Result<Auth, PollError> {
        let c = &self.config;
        match c.login() {
            Login::Anonymous => Ok(Auth::None),
            Login::Basic { user } => {
                let password = secret::read(c.password_env.as_deref(), c.password_file.as_deref())
                    .map_err(PollError::Secret)?
                    .unwrap_or_default();
                Ok(Auth::Basic {
                    user: user.to_string(),
                    password,
                })
            }
            Login::Token => {
                let token = secret::read_as(
                    secret::TOKEN,
                    c.token_env.as_deref(),
                    c.token_file.as_deref(),
                )
                .map_err(PollError::Secret)?
                .unwrap_or_default();
                let (name, value) = match &c.token_header {
                    Some(h) => (h.as_str(), token),
                    None => ("authorization", format!("Bearer {token}")),
                };
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    PollError::Config(format!("token_header {name:?} is not a header name"))
                })?;
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    PollError::Secret(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "the token holds characters a header cannot",
                    ))
                })?;
                value.set_sensitive(true);
                Ok(Auth::Header(name, value))
            }
        }
    }

    fn headers(&self) -> Result<HeaderMap, PollError> {
        let mut map = HeaderMap::new();
        for (name, value) in &self.config.headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                PollError::Config(format!("headers: {name:?} is not a header name"))
            })?;
            let v = HeaderValue::from_str(value).map_err(|_| {
                PollError::Config(format!(
                    "headers: the value of {name} is not a header value"
                ))
            })?;
            map.insert(n, v);
        }
        Ok(map)
    }

    /// Fetches the feed: a file waiting when it changed, none when not.
    pub async fn poll(&mut self) -> Result<Look, TransportError> {
        self.fetched = None;
        self.fetch()
            .await
            .map_err(|e| self.error("polling", e))
            .map(|fetched| match fetched {
                None => Look::default(),
                Some(f) => {
                    let waiting = Waiting {
                        name: f.name.clone(),
                        size: f.size,
                        modified: Some(SystemTime::now()),
                    };
                    self.fetched = Some(f);
                    Look {
                        ready: vec![waiting],
                        skipped: Vec::new(),
                    }
                }
            })
    }

    async fn fetch(&mut self) -> Result<Option<Fetched>, PollError> {
        let url = self.config.parsed_url().map_err(PollError::Config)?;
        let client = self.client()?;
        let auth = self.auth()?;
        let headers = self.headers()?;
        let fetcher = Fetcher {
            client: &client,
            auth: &auth,
            headers: &headers,
            retries: self.config.retries,
            first_wait: Duration::from_millis(self.config.retry_wait_ms),
        };
        let saved = self
            .saved
            .as_ref()
            .filter(|v| self.config.conditional && v.url == self.config.url);
        let file = tempfile::tempfile().map_err(PollError::Spool)?;
        let mut spool = Sink::Spool(tokio::fs::File::from_std(file));
        let got = match &self.config.paging {
            None => {
                fetcher
                    .get(&url, saved, &mut spool, self.config.max_bytes)
                    .await?
            }
            Some(paging) => {
                self.pages(&fetcher, paging, &url, saved, &mut spool)
                    .await?
            }
        };
        let Answer::Body(got) = got else {
            tracing::debug!(channel = %self.name, url = %url, "feed not modified");
            return Ok(None);
        };
        if let (Some(before), Some(now)) = (saved.and_then(|v| v.etag.as_ref()), &got.etag)
            && before == now
        {
            tracing::debug!(channel = %self.name, url = %url, etag = %now, "feed answered with the ETag taken last: unchanged");
            return Ok(None);
        }
        let Sink::Spool(mut file) = spool else {
            return Err(PollError::Spool(io::Error::other(
                "the answer was not kept in a file",
            )));
        };
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(PollError::Spool)?;
        let mut file = file.into_std().await;
        let ext = match (&self.config.extension, &self.config.paging) {
            (Some(e), _) => e.clone(),
            (None, Some(_)) => "json".into(),
            (None, None) => extension(got.content_type.as_deref(), &url),
        };
        let time = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let name = self
            .config
            .file_name
            .replace("{channel}", &self.name)
            .replace("{time}", &time)
            .replace("{ext}", &ext);
        file.seek(SeekFrom::Start(0)).map_err(PollError::Spool)?;
        tracing::info!(channel = %self.name, url = %url, name, size = got.size, "feed fetched");
        Ok(Some(Fetched {
            name,
            file,
            size: got.size,
            validators: Validators {
                url: self.config.url.clone(),
                etag: got.etag,
                last_modified: got.last_modified,
            },
        }))
    }

    /// The pages of one fetch, joined into `spool`; the first page's
    /// answer (its validators), or `NotModified` for the first page.
    async fn pages(
        &self,
        fetcher: &Fetcher<'_>,
        paging: &Paging,
        first: &url::Url,
        saved: Option<&Validators>,
        spool: &mut Sink,
    ) -> Result<Answer, PollError> {
        let limit = self.config.max_bytes;
        let mut joiner = Joiner::new(paging.items.as_deref(), limit);
        let mut url = first.clone();
        let mut head: Option<Got> = None;
        let mut number = paging.first;
        let mut cursor: Option<String> = None;
        if paging.by == PageBy::Page {
            url = with_param(
                first,
                paging.param.as_deref().unwrap_or("page"),
                &number.to_string(),
            );
        }
        for taken in 1..=paging.max_pages {
            let mut page = Sink::Memory(Vec::new());
            let validators = if head.is_none() { saved } else { None };
            let got = match fetcher.get(&url, validators, &mut page, limit).await? {
                Answer::NotModified if head.is_none() => return Ok(Answer::NotModified),
                Answer::NotModified => {
                    return Err(PollError::Fetch(FetchError::Status {
                        url: url.to_string(),
                        status: reqwest::StatusCode::NOT_MODIFIED,
                        said: Some(
                            "a later page answered 304 to a request without validators".into(),
                        ),
                    }));
                }
                Answer::Body(got) => got,
            };
            let Sink::Memory(bytes) = page else {
                return Err(PollError::Spool(io::Error::other(
                    "a page was not kept in memory",
                )));
            };
            let value = paging::parse(url.as_str(), &bytes)?;
            drop(bytes);
            let next = match paging.by {
                PageBy::LinkHeader => got.next_link.clone(),
                PageBy::NextUrl => paging::text(paging::at(
                    &value,
                    paging.path.as_deref().unwrap_or_default(),
                )),
                PageBy::Page | PageBy::Cursor => None,
            };
            let next_cursor = match paging.by {
                PageBy::Cursor => paging::text(paging::at(
                    &value,
                    paging.path.as_deref().unwrap_or_default(),
                )),
                _ => None,
            };
            let items = joiner.page(url.as_str(), value, spool).await?;
            if head.is_none() {
                head = Some(got);
            }
            let next_url = match paging.by {
                PageBy::LinkHeader | PageBy::NextUrl => match next {
                    None => None,
                    Some(n) => Some(same_origin(first, &url, &n)?),
                },
                PageBy::Page => (items > 0).then(|| {
                    number += 1;
                    with_param(
                        first,
                        paging.param.as_deref().unwrap_or("page"),
                        &number.to_string(),
                    )
                }),
                PageBy::Cursor => match next_cursor {
                    None => None,
                    Some(c) if cursor.as_deref() == Some(c.as_str()) => {
                        return Err(PollError::CursorStuck {
                            url: url.to_string(),
                            cursor: c,
                        });
                    }
                    Some(c) => {
                        let u = with_param(first, paging.param.as_deref().unwrap_or("cursor"), &c);
                        cursor = Some(c);
                        Some(u)
                    }
                },
            };
            match next_url {
                None => {
                    let size = joiner.finish(spool).await?;
                    let mut got = head.unwrap_or_default();
                    got.size = size;
                    tracing::debug!(channel = %self.name, pages = taken, size, "feed pages joined");
                    return Ok(Answer::Body(got));
                }
                Some(n) => url = n,
            }
        }
        Err(PollError::TooManyPages {
            url: first.to_string(),
            max: paging.max_pages,
        })
    }

    fn waiting(&mut self, file: &str, doing: &str) -> Result<&mut Fetched, TransportError> {
        let name = self.name.clone();
        self.fetched
            .as_mut()
            .filter(|f| f.name == file)
            .ok_or_else(|| TransportError {
                channel: name,
                doing: doing.to_string(),
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    "not the feed's last fetch (poll again)",
                ),
            })
    }

    /// The fetched file's bytes.
    pub fn read(&mut self, file: &str) -> Result<Vec<u8>, TransportError> {
        let doing = format!("reading {file}");
        let f = self.waiting(file, &doing)?;
        let mut bytes = Vec::with_capacity(usize::try_from(f.size).unwrap_or(0));
        let read = f
            .file
            .seek(SeekFrom::Start(0))
            .and_then(|_| (&f.file).read_to_end(&mut bytes));
        let name = self.name.clone();
        read.map_err(|source| TransportError {
            channel: name,
            doing,
            source,
        })?;
        Ok(bytes)
    }

    /// Copies the fetched file into `out`; returns its size.
    pub fn read_into(
        &mut self,
        file: &str,
        out: &mut dyn io::Write,
    ) -> Result<u64, TransportError> {
        let doing = format!("reading {file}");
        let f = self.waiting(file, &doing)?;
        let copied = f
            .file
            .seek(SeekFrom::Start(0))
            .and_then(|_| io::copy(&mut f.file, out));
        let name = self.name.clone();
        copied.map_err(|source| TransportError {
            channel: name,
            doing,
            source,
        })
    }

    /// The file is archived and recorded (its checkpoint with it): its
    /// validators are the ones sent from now on.
    pub fn done(&mut self, file: &str) -> Result<(), TransportError> {
        let f = self.waiting(file, &format!("finishing {file}"))?;
        let validators = f.validators.clone();
        self.fetched = None;
        self.saved = Some(validators);
        Ok(())
    }
}

/// How redirects are followed: at most 5. reqwest drops `Authorization`
/// on a redirect to another host; a token in the vendor's own header it
/// would not, so with one a redirect must stay on the feed's origin.
fn redirects(own_token_header: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let first = attempt.previous().first().map(url::Url::origin);
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if own_token_header && first.is_some_and(|o| o != attempt.url().origin()) {
            attempt.error("a redirect to another host with the token in token_header: refused")
        } else {
            attempt.follow()
        }
    })
}

/// `base` with query parameter `param` set to `value` (replacing it).
fn with_param(base: &url::Url, param: &str, value: &str) -> url::Url {
    let mut url = base.clone();
    let kept: Vec<(String, String)> = base
        .query_pairs()
        .filter(|(k, _)| k != param)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(param, value);
    url
}

/// The next page's URL, resolved against the page's own; it must be on the
/// feed's origin (the login is sent to it).
fn same_origin(feed: &url::Url, page: &url::Url, next: &str) -> Result<url::Url, PollError> {
    let bad = |why: &str| PollError::NextUrl {
        url: page.to_string(),
        next: next.to_string(),
        why: why.to_string(),
    };
    let url = page.join(next).map_err(|e| bad(&e.to_string()))?;
    if url.origin() != feed.origin() {
        return Err(bad(
            "not on the feed's host (the login would go there): refused",
        ));
    }
    Ok(url)
}

/// The file's extension from its `Content-Type`, else the URL's path,
/// else `dat`.
fn extension(content_type: Option<&str>, url: &url::Url) -> String {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let known = match mime.as_str() {
        "application/json" | "text/json" => Some("json"),
        "text/csv" | "application/csv" => Some("csv"),
        "text/tab-separated-values" => Some("tsv"),
        "application/xml" | "text/xml" => Some("xml"),
        "application/edi-x12" => Some("edi"),
        "application/pdf" => Some("pdf"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some("xlsx"),
        "application/vnd.ms-excel" => Some("xls"),
        "application/zip" => Some("zip"),
        "text/plain" => Some("txt"),
        m if m.ends_with("+json") => Some("json"),
        m if m.ends_with("+xml") => Some("xml"),
        _ => None,
    };
    if let Some(k) = known {
        return k.to_string();
    }
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|last| last.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|e| (1..=5).contains(&e.len()) && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "dat".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_page_urls() -> Result<(), url::ParseError> {
        let u = url::Url::parse("https://x.example/feeds/stock.CSV?page=3&k=v")?;
        assert_eq!(
            extension(Some("application/json; charset=utf-8"), &u),
            "json"
        );
        assert_eq!(extension(Some("application/vnd.api+json"), &u), "json");
        assert_eq!(extension(Some("application/octet-stream"), &u), "csv");
        assert_eq!(
            extension(None, &url::Url::parse("https://x.example/feed")?),
            "dat"
        );
        assert_eq!(
            with_param(&u, "page", "4").as_str(),
            "https://x.example/feeds/stock.CSV?k=v&page=4"
        );
        assert!(same_origin(&u, &u, "/feeds/stock.CSV?page=4").is_ok());
        assert!(same_origin(&u, &u, "https://evil.example/p").is_err());
        assert!(same_origin(&u, &u, "http://x.example/p").is_err());
        Ok(())
    }
}
