//! `[alerts]`: how often exceptions are looked for, and how people hear
//! of them (a webhook for each new one, a digest e-mail on a schedule).

use std::time::Duration;

use serde::Deserialize;

use crate::lifecycle::Span;
use crate::relay::webhook::WebhookConfig;

/// The `[alerts]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// How often the exception rules are checked (`"1m"`).
    #[serde(default = "default_check_every")]
    pub check_every: Span,
    /// Each new exception is POSTed here (signed as the relay's
    /// webhook is, under an idempotency key of its own).
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// The SMTP channel the digest goes out on (its `from` and `to`).
    #[serde(default)]
    pub digest_channel: Option<String>,
    /// How often a digest goes out, when there is something new.
    #[serde(default = "default_digest_every")]
    pub digest_every: Span,
    /// Where the console is, for the links in alerts
    /// (`https://dropgate.example`; default: the console's own address).
    #[serde(default)]
    pub console_url: Option<String>,
}

fn default_check_every() -> Span {
    Span(Duration::from_secs(60))
}

fn default_digest_every() -> Span {
    Span(Duration::from_secs(24 * 3600))
}

impl Default for AlertsConfig {
    fn default() -> AlertsConfig {
        AlertsConfig {
            check_every: default_check_every(),
            webhook: None,
            digest_channel: None,
            digest_every: default_digest_every(),
            console_url: None,
        }
    }
}
