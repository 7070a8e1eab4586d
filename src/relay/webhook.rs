//! The webhook relay: each canonical document POSTed as JSON to the
//! routing core, with an `Idempotency-Key` header that is the same every
//! time the document is sent, and an `X-Dropgate-Signature` header
//! (`sha256=` and the hex HMAC-SHA256 of the body under a shared secret),
//! so that the receiver can check where it came from and drop a repeat.
//!
//! A delivery (the documents of one received file) is made document by
//! document, in order; the receiver's 2xx answer (or 409, "already have
//! it") acknowledges one, and the caller is told at once, so that it can
//! record the count before the next document goes (and say when to stop).
//! A failure stops the delivery; the outbox tries it again later, from the
//! first document not yet acknowledged, so nothing is lost and nothing is
//! sent twice except the one document in flight when the gateway stopped.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{Blocking, DocumentRelay, Documents, Ending, RelayError, document_key};

/// The webhook relay's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (`https://routing.example/v1/documents`).
    pub url: String,
    /// The environment variable holding the shared signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Or a file holding it (white space around it is ignored; relative
    /// paths are relative to the gateway's configuration file).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// How long one request may take, in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

const fn default_timeout_secs() -> u64 {
    30
}

impl WebhookConfig {
    /// Checks what can be checked before sending: the URL and exactly one
    /// source of the secret.
    pub fn check(&self) -> Result<(), String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "url {:?} is not an http:// or https:// URL",
                self.url
            ));
        }
        match (&self.secret_env, &self.secret_file) {
            (Some(_), Some(_)) => Err("set secret_env or secret_file, not both".into()),
            (None, None) => Err("the signing secret: set secret_env or secret_file".into()),
            _ if self.timeout_secs == 0 => Err("timeout_secs must be at least 1".into()),
            _ => Ok(()),
        }
    }

    /// The signing secret, read from where the configuration says.
    pub fn secret(&self) -> Result<Vec<u8>, RelayError> {
        match (&self.secret_env, &self.secret_file) {
            (Some(var), _) => std::env::var(var)
                .map(|s| s.trim().as_bytes().to_vec())
                .map_err(|_| RelayError(format!("the signing secret: ${var} is not set"))),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| s.trim().as_bytes().to_vec())
                .map_err(|e| RelayError(format!("the signing secret {}: {e}", path.display()))),
            (None, None) => Err(RelayError("no signing secret is configured".into())),
        }
    }
}

/// The signature header's value for `body`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return "sha256=".to_string();
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for b in bytes.iter() {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// POSTs one JSON body to `url`, signed with `secret`, under the
/// idempotency key `key`; a 2xx or a 409 (seen before) is delivered.
/// `what` names the body in errors.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    key: &str,
    body: &[u8],
    what: &str,
) -> Result<(), RelayError> {
    let sent = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .header("X-Dropgate-Signature", signature(secret, body))
        .body(body.to_vec())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => Ok(()),
        Ok(r) => Err(RelayError(format!(
            "{url} answered {} to {what}",
            r.status()
        ))),
        Err(e) => Err(RelayError(format!("posting {what} to {url}: {e}"))),
    }
}

/// An HTTP client for the webhook's requests (`timeout_secs` each).
pub fn client(config: &WebhookConfig) -> Result<reqwest::Client, RelayError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_secs.max(1)))
        .build()
        .map_err(|e| RelayError(format!("starting the HTTP client: {e}")))
}

/// The webhook relay.
#[derive(Debug)]
pub struct WebhookRelay {
    config: WebhookConfig,
    client: Option<reqwest::Client>,
    blocking: Blocking,
}

impl WebhookRelay {
    /// A relay to the configured URL.
    pub fn new(config: &WebhookConfig) -> WebhookRelay {
        WebhookRelay {
            config: config.clone(),
            client: None,
            blocking: Blocking::default(),
        }
    }

    fn client(&mut self) -> Result<reqwest::Client, RelayError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let c = client(&self.config)?;
        self.client = Some(c.clone());
        Ok(c)
    }
}

impl DocumentRelay for WebhookRelay {
    fn deliver(
        &mut self,
        key: &str,
        lines: &mut dyn std::io::BufRead,
        start: u64,
        acknowledged: &mut dyn FnMut(u64, Option<super::SetAsideDocument<'_>>) -> ControlFlow<()>,
    ) -> Ending {
        let secret = match self.config.secret() {
            Ok(s) => s,
            Err(e) => return Ending::Failed(e),
        };
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Ending::Failed(e),
        };
        let url = self.config.url.clone();
        let work = async move {
            let mut documents = Documents::new(lines);
            loop {
                let (index, doc) = match documents.next_from(start) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Ending::Made,
                    Err(e) => return Ending::Failed(e),
                };
                let what = format!("document {index}");
                let key = document_key(key, index);
                if let Err(e) = post(&client, &url, &secret, &key, doc, &what).await {
                    return Ending::Failed(e);
                }
                if acknowledged(index + 1, None).is_break() {
                    return Ending::Stopped;
                }
            }
        };
        self.blocking.run(work).unwrap_or_else(Ending::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_bodies_as_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn config_needs_a_url_and_one_secret() {
        let c: WebhookConfig =
            toml::from_str("url = \"http://127.0.0.1:1/x\"\nsecret_env = \"S\"").expect("config");
        assert_eq!(c.check(), Ok(()));
        assert_eq!(c.timeout_secs, 30);
        let c: WebhookConfig =
            toml::from_str("url = \"ftp://x\"\nsecret_env = \"S\"").expect("config");
        assert!(c.check().is_err());
        let c: WebhookConfig = toml::from_str("url = \"http://x\"").expect("config");
        assert!(c.check().is_err_and(|e| e.contains("secret")));
        assert!(toml::from_str::<WebhookConfig>("url = \"http://x\"\nsecrt = \"S\"").is_err());
    }
}
