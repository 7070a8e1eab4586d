//! Relays: canonical documents on their way out of the gateway, to the
//! order-routing core. Each delivery comes from the store's outbox with a
//! key that is the same every time it is tried, so that a receiver can
//! drop a repeat; a relay reports success only once the receiver has the
//! delivery for good.
//!
//! - [`file`]: JSON lines into a folder (the embedded default).
//! - [`webhook`]: each document POSTed to the routing core, signed.

pub mod file;
pub mod webhook;

use serde::Deserialize;

pub use file::FileRelay;

/// Where documents are relayed.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RelayConfig {
    /// JSON lines into a folder.
    File(file::FileRelayConfig),
    /// Each document POSTed to a URL.
    Webhook(webhook::WebhookConfig),
}

/// A relay that failed; the delivery is tried again later.
#[derive(Debug, thiserror::Error)]
#[error("relay: {0}")]
pub struct RelayError(pub String);
