//! `[channel.NAME]` with `type = "http"`: the URL, the login, the headers,
//! the paging of the vendor's API and the limits, checked without the
//! server.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::super::secret;

/// An HTTP pull channel's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The feed's URL (`http` or `https`).
    pub url: String,
    /// Basic authentication: the user, with `password_env` or
    /// `password_file`.
    #[serde(default)]
    pub user: Option<String>,
    /// The environment variable holding the basic authentication password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file holding the basic authentication password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The environment variable holding a token (sent as
    /// `Authorization: Bearer`, or in `token_header`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// A file holding the token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The header the token goes in, as it is (`X-Api-Key`); default:
    /// `Authorization: Bearer <token>`.
    #[serde(default)]
    pub token_header: Option<String>,
    /// More request headers (`Accept = "application/json"`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// PEM CA certificates to trust instead of the built-in web roots (a
    /// vendor or an internal system with a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Plain `http://` to another machine than this one (the login goes
    /// in clear): refused unless this is set.
    #[serde(default)]
    pub allow_http: bool,
    /// Conditional requests (`If-None-Match`, `If-Modified-Since`): an
    /// unchanged feed is neither fetched nor processed again.
    #[serde(default = "yes")]
    pub conditional: bool,
    /// The received file's name: `{channel}`, `{time}` (the fetch's UTC
    /// time, `20240314T083000Z`) and `{ext}` are replaced.
    #[serde(default = "default_file_name")]
    pub file_name: String,
    /// The file's extension; default: from the answer's `Content-Type`,
    /// else from the URL's path, else `dat`.
    #[serde(default)]
    pub extension: Option<String>,
    /// The largest feed taken (all its pages), in bytes; a larger one is
    /// refused.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Seconds for one request and its answer.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Requests tried again within a poll after a connection error, a
    /// timeout, a 5xx or a 429.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The wait before the first retry, in milliseconds; doubled for each
    /// next one (at most a minute).
    #[serde(default = "default_retry_wait_ms")]
    pub retry_wait_ms: u64,
    /// How the vendor's API pages, when it does.
    #[serde(default)]
    pub paging: Option<Paging>,
}

/// How the next page is found.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PageBy {
    /// The `Link` header's `rel="next"` URL.
    LinkHeader,
    /// A URL at `path` in the page's JSON.
    NextUrl,
    /// The page number in the query parameter `param`, from `first`,
    /// until a page has no items.
    Page,
    /// The value at `path` in the page's JSON, sent in the query parameter
    /// `param`, until there is none.
    Cursor,
}

/// `[channel.NAME.paging]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// How the next page is found.
    pub by: PageBy,
    /// The query parameter (`page`, `cursor`) for `page` and `cursor`.
    #[serde(default)]
    pub param: Option<String>,
    /// The JSON path (`links.next`, `meta.next_cursor`) for `next-url` and
    /// `cursor`.
    #[serde(default)]
    pub path: Option<String>,
    /// The first page's number, for `page`.
    #[serde(default = "default_first_page")]
    pub first: u64,
    /// The JSON path of each page's list of items (`data`); default: the
    /// page is the list.
    #[serde(default)]
    pub items: Option<String>,
    /// The most pages one fetch takes; a feed with more is refused.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
}

const fn yes() -> bool {
    true
}

fn default_file_name() -> String {
    "{channel}-{time}.{ext}".into()
}

const fn default_max_bytes() -> u64 {
    64 << 20
}

const fn default_timeout_secs() -> u64 {
    60
}

const fn default_retries() -> u32 {
    3
}

const fn default_retry_wait_ms() -> u64 {
    1000
}

const fn default_first_page() -> u64 {
    1
}

const fn default_max_pages() -> u32 {
    100
}

/// How requests are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login<'a> {
    /// None.
    Anonymous,
    /// Basic authentication.
    Basic {
        /// The user.
        user: &'a str,
    },
    /// A token.
    Token,
}

impl HttpConfig {
    /// How requests are authenticated (after [`HttpConfig::check`]).
    pub fn login(&self) -> Login<'_> {
        match (
            &self.user,
            self.token_env.is_some() || self.token_file.is_some(),
        ) {
            (Some(user), _) => Login::Basic { user },
            (None, true) => Login::Token,
            (None, false) => Login::Anonymous,
        }
    }

    /// The URL, parsed.
    pub fn parsed_url(&self) -> Result<url::Url, String> {
        let url = url::Url::parse(&self.url).map_err(|e| format!("url {:?}: {e}", self.url))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "url {}: a login in the URL would be written in logs; set user and password_env or password_file",
                url.host_str().unwrap_or_default()
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                let host = url.host_str().unwrap_or_default();
                if !self.allow_http && !super::super::is_loopback(host) {
                    return Err(format!(
                        "url {}: plain http to another machine sends the login and the feed in clear; use https, or set allow_http = true",
                        self.url
                    ));
                }
            }
            other => return Err(format!("url {}: {other:?} is not http or https", self.url)),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("url {}: no host", self.url));
        }
        Ok(url)
    }

    /// Checks what can be checked without the server; the error is one
    /// sentence naming the setting.
    pub fn check(&self) -> Result<(), String> {
        self.parsed_url()?;
        secret::check_sources(self.password_env.as_deref(), self.password_file.as_deref())?;
        if self.token_env.is_some() && self.token_file.is_some() {
            return Err("token_env and token_file are both set; keep one".into());
        }
        if self.token_env.as_deref() == Some("") {
            return Err("token_env is empty; it names an environment variable".into());
        }
        let password = self.password_env.is_some() || self.password_file.is_some();
        let token = self.token_env.is_some() || self.token_file.is_some();
        match (&self.user, password, token) {
            (Some(_), _, true) => {
                return Err(
                    "user (basic authentication) and a token are both set; keep one".into(),
                );
            }
            (Some(u), false, false) => {
                return Err(format!(
                    "user {u:?} has no password: set password_env or password_file"
                ));
            }
            (Some(u), _, _) if u.is_empty() || u.contains(':') => {
                return Err("user must not be empty nor hold a ':'".into());
            }
            (None, true, _) => {
                return Err("a password without a user: set user (basic authentication)".into());
            }
            _ => {}
        }
        if self.token_header.is_some() && !token {
            return Err("token_header without a token: set token_env or token_file".into());
        }
        if let Some(h) = &self.token_header {
            reqwest::header::HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| format!("token_header {h:?} is not a header name"))?;
        }
        for (name, value) in &self.headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("headers: {name:?} is not a header name"))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| format!("headers: the value of {name} is not a header value"))?;
            if name.eq_ignore_ascii_case("authorization") {
                return Err(
                    "headers: Authorization comes from user or a token, never from the configuration"
                        .into(),
                );
            }
        }
        if !self.file_name.contains("{time}") {
            return Err("file_name must hold {time}: each fetch is a file of its own name".into());
        }
        if self.file_name.contains(['/', '\\']) {
            return Err(format!(
                "file_name {:?} must not hold a folder",
                self.file_name
            ));
        }
        if let Some(ext) = &self.extension
            && (ext.is_empty() || !ext.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(format!(
                "extension {ext:?} must be letters and digits (json, csv)"
            ));
        }
        if self.max_bytes == 0 {
            return Err("max_bytes must be at least 1".into());
        }
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        if let Some(p) = &self.paging {
            p.check()?;
        }
        if self.ca_file.is_some() && self.url.starts_with("http:") {
            return Err("ca_file is set but the URL is plain http; remove one".into());
        }
        Ok(())
    }

    /// Whether the login's secret is where the configuration says (and
    /// the CA file reads).
    pub fn check_login(&self) -> Result<(), String> {
        if let Some(ca) = &self.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("ca_file {}: {e}", ca.display()))?;
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => {}
                _ => {
                    return Err(format!(
                        "ca_file {}: no PEM certificate in it",
                        ca.display()
                    ));
                }
            }
        }
        secret::check_readable(self.password_env.as_deref(), self.password_file.as_deref())?;
        secret::check_readable_as(
            secret::TOKEN,
            self.token_env.as_deref(),
            self.token_file.as_deref(),
        )
    }
}

impl Paging {
    fn check(&self) -> Result<(), String> {
        let needs = |key: &str, v: &Option<String>| match v.as_deref() {
            Some(s) if !s.trim().is_empty() => Ok(()),
            _ => Err(format!("paging by {:?} needs {key}", self.by_name())),
        };
        let unused = |key: &str, v: &Option<String>| match v {
            Some(_) => Err(format!("paging by {:?} takes no {key}", self.by_name())),
            None => Ok(()),
        };
        match self.by {
            PageBy::LinkHeader => {
                unused("param", &self.param)?;
                unused("path", &self.path)?;
            }
            PageBy::NextUrl => {
                unused("param", &self.param)?;
                needs("path", &self.path)?;
            }
            PageBy::Page => {
                needs("param", &self.param)?;
                unused("path", &self.path)?;
            }
            PageBy::Cursor => {
                needs("param", &self.param)?;
                needs("path", &self.path)?;
            }
        }
        if self.max_pages == 0 {
            return Err("paging: max_pages must be at least 1".into());
        }
        Ok(())
    }

    fn by_name(&self) -> &'static str {
        match self.by {
            PageBy::LinkHeader => "link-header",
            PageBy::NextUrl => "next-url",
            PageBy::Page => "page",
            PageBy::Cursor => "cursor",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> HttpConfig {
        toml::from_str(&format!(
            "url = \"https://feeds.example/stock.json\"\n{extra}"
        ))
        .expect("config")
    }

    #[test]
    fn checks_the_url_the_login_and_the_paging() {
        assert_eq!(config("").check(), Ok(()));
        assert_eq!(config("").login(), Login::Anonymous);
        let basic = config("user = \"gw\"\npassword_env = \"P\"");
        assert_eq!(basic.check(), Ok(()));
        assert_eq!(basic.login(), Login::Basic { user: "gw" });
        let e = |extra: &str| config(extra).check().expect_err(extra);
        assert!(e("user = \"gw\"").contains("no password"));
        assert!(e("password_env = \"P\"").contains("without a user"));
        assert!(e("user = \"gw\"\npassword_env = \"P\"\ntoken_env = \"T\"").contains("both"));
        assert!(e("token_header = \"X-Key\"").contains("without a token"));
        assert!(e("headers = { Authorization = \"x\" }").contains("Authorization"));
        assert!(e("file_name = \"feed.json\"").contains("{time}"));
        assert!(e("[paging]\nby = \"cursor\"\nparam = \"c\"").contains("needs path"));
        assert!(e("[paging]\nby = \"page\"").contains("needs param"));
        let ftp: HttpConfig = toml::from_str("url = \"ftp://x.example/f\"").expect("config");
        assert!(ftp.check().expect_err("ftp").contains("not http or https"));
        let plain: HttpConfig = toml::from_str("url = \"http://x.example/f\"").expect("config");
        assert!(plain.check().expect_err("http").contains("allow_http"));
        let login: HttpConfig =
            toml::from_str("url = \"https://u:secret@x.example/f\"").expect("config");
        let e = login.check().expect_err("login in the URL");
        assert!(
            e.contains("user and password_env") && !e.contains("secret"),
            "{e}"
        );
        let local: HttpConfig = toml::from_str("url = \"http://127.0.0.1:8/f\"").expect("config");
        assert_eq!(local.check(), Ok(()));
    }
}
