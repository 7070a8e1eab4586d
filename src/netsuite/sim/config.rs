//! The simulator's configuration file (`--config FILE.toml`): the
//! account, its TBA integrations and tokens, its OAuth 2.0 clients and
//! their certificates, the concurrency limit and how it is answered.
//!
//! ```toml
//! account = "1234567_SB1"
//! concurrency = 5
//! limit_error = "429"            # or "sss": 400 SSS_REQUEST_LIMIT_EXCEEDED
//! token_lifetime_seconds = 3600  # OAuth 2.0 access tokens
//!
//! [[integration]]
//! consumer_key = "CK123"
//! consumer_secret = "CS789"      # or consumer_secret_file = "…"
//!
//! [[token]]
//! consumer_key = "CK123"
//! token_id = "TK456"
//! token_secret = "TS012"         # or token_secret_file = "…"
//!
//! [[oauth2_client]]
//! client_id = "CLIENT1"
//! certificate_id = "KID1"
//! certificate_file = "cert.pem"
//! ```
//!
//! Without a file the simulator has one integration and token with the
//! demo credentials of [`SimConfig::demo`] (test-only values, in README).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How a concurrency refusal is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum LimitError {
    /// HTTP 429 with `CONCURRENCY_LIMIT_EXCEEDED` (REST web services).
    #[default]
    #[serde(rename = "429")]
    TooManyRequests,
    /// HTTP 400 with `SSS_REQUEST_LIMIT_EXCEEDED` (the RESTlet form).
    #[serde(rename = "sss")]
    Sss,
}

/// One TBA integration record.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    /// Its consumer key.
    pub consumer_key: String,
    /// Its consumer secret, or…
    pub consumer_secret: Option<String>,
    /// …a file holding it.
    pub consumer_secret_file: Option<PathBuf>,
}

/// One TBA access token of an integration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// The integration's consumer key.
    pub consumer_key: String,
    /// The token ID.
    pub token_id: String,
    /// The token secret, or…
    pub token_secret: Option<String>,
    /// …a file holding it.
    pub token_secret_file: Option<PathBuf>,
}

/// One OAuth 2.0 client credentials mapping (integration + certificate).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Client {
    /// The integration's client ID (the JWT's `iss`).
    pub client_id: String,
    /// The certificate ID NetSuite gave the uploaded certificate (the `kid`).
    pub certificate_id: String,
    /// The certificate (PEM).
    pub certificate_file: PathBuf,
}

/// The file's contents.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// The account ID (`1234567_SB1`); `--account` wins.
    pub account: Option<String>,
    /// The account's concurrency limit; `--concurrency` wins.
    pub concurrency: Option<usize>,
    /// How a concurrency refusal is answered.
    #[serde(default)]
    pub limit_error: LimitError,
    /// The lifetime of the OAuth 2.0 access tokens the simulator issues.
    pub token_lifetime_seconds: Option<u64>,
    /// TBA integrations.
    #[serde(default)]
    pub integration: Vec<Integration>,
    /// TBA tokens.
    #[serde(default)]
    pub token: Vec<Token>,
    /// OAuth 2.0 clients.
    #[serde(default)]
    pub oauth2_client: Vec<OAuth2Client>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is wrong (the message has the line and column).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What toml said, with the place.
        message: String,
    },
    /// A semantic problem.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The demo consumer key when no file is given.
pub const DEMO_CONSUMER_KEY: &str = "dropgate-sim-consumer-key";
/// The demo consumer secret.
pub const DEMO_CONSUMER_SECRET: &str = "dropgate-sim-consumer-secret";
/// The demo token ID.
pub const DEMO_TOKEN_ID: &str = "dropgate-sim-token-id";
/// The demo token secret.
pub const DEMO_TOKEN_SECRET: &str = "dropgate-sim-token-secret";

impl SimConfig {
    /// Reads and checks a configuration file; relative paths in it are
    /// relative to its folder.
    pub fn load(path: &Path) -> Result<SimConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let mut config: SimConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let secret =
            |inline: &Option<String>, file: &Option<PathBuf>, what: &str| match (inline, file) {
                (Some(s), None) => Ok(s.clone()),
                (None, Some(f)) => {
                    let f = dir.join(f);
                    std::fs::read_to_string(&f)
                        .map(|s| s.trim().to_string())
                        .map_err(|source| ConfigError::Read {
                            path: f.display().to_string(),
                            source,
                        })
                }
                _ => Err(ConfigError::Invalid {
                    path: shown.clone(),
                    message: format!("{what}: give the secret or its file, exactly one"),
                }),
            };
        for i in &mut config.integration {
            let s = secret(&i.consumer_secret, &i.consumer_secret_file, &i.consumer_key)?;
            i.consumer_secret = Some(s);
        }
        for t in &mut config.token {
            let s = secret(&t.token_secret, &t.token_secret_file, &t.token_id)?;
            t.token_secret = Some(s);
            if !config
                .integration
                .iter()
                .any(|i| i.consumer_key == t.consumer_key)
            {
                return Err(ConfigError::Invalid {
                    path: shown.clone(),
                    message: format!(
                        "token {} names the consumer key {}, which no [[integration]] has",
                        t.token_id, t.consumer_key
                    ),
                });
            }
        }
        for c in &mut config.oauth2_client {
            c.certificate_file = dir.join(&c.certificate_file);
        }
        Ok(config)
    }

    /// The configuration without a file: one integration and token with
    /// the demo credentials.
    pub fn demo() -> SimConfig {
        SimConfig {
            integration: vec![Integration {
                consumer_key: DEMO_CONSUMER_KEY.into(),
                consumer_secret: Some(DEMO_CONSUMER_SECRET.into()),
                consumer_secret_file: None,
            }],
            token: vec![Token {
                consumer_key: DEMO_CONSUMER_KEY.into(),
                token_id: DEMO_TOKEN_ID.into(),
                token_secret: Some(DEMO_TOKEN_SECRET.into()),
                token_secret_file: None,
            }],
            ..SimConfig::default()
        }
    }
}
