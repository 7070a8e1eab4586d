//! Relays: canonical documents on their way out of the gateway, to the
//! order-routing core. Each delivery comes from the store's outbox with a
//! key that is the same every time it is tried, so that a receiver can
//! drop a repeat; a relay reports success only once the receiver has the
//! delivery for good.
//!
//! - [`file`]: JSON lines into a folder (the embedded default).
//! - [`webhook`]: each document POSTed to the routing core, signed.
//! - [`nats`]: each document published to a NATS JetStream stream.
//!
//! The webhook and NATS relays send a delivery document by document
//! ([`DocumentRelay`]): the caller hears of each acknowledgment as it
//! comes, records it, and a retry resumes after the last one recorded.

pub mod file;
pub mod nats;
pub mod webhook;

use std::io::BufRead;
use std::ops::ControlFlow;

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
    /// Each document published to NATS JetStream.
    Nats(nats::NatsConfig),
}

/// A relay that failed; the delivery is tried again later.
#[derive(Debug, thiserror::Error)]
#[error("relay: {0}")]
pub struct RelayError(pub String);

/// How a delivery made document by document ended.
#[derive(Debug)]
pub enum Ending {
    /// Every document is acknowledged.
    Made,
    /// The caller asked to stop after a document was acknowledged.
    Stopped,
    /// A document failed; those before it were acknowledged (and reported).
    Failed(RelayError),
}

/// A relay that sends a delivery one document at a time and is told by
/// the receiver of each one it has for good.
pub trait DocumentRelay {
    /// Sends the documents (one JSON document per line of `lines`, read
    /// one at a time) from the `start`th on. Each time the receiver
    /// acknowledges one, `acknowledged` is called with how many are
    /// acknowledged now (counting from the first document, not from
    /// `start`), and, when the relay set that document aside for a person
    /// instead of delivering it, why; it says whether to go on. Document
    /// `n` (from 0) is sent with the idempotency key `KEY:n`.
    fn deliver(
        &mut self,
        key: &str,
        lines: &mut dyn BufRead,
        start: u64,
        acknowledged: &mut dyn FnMut(u64, Option<SetAsideDocument<'_>>) -> ControlFlow<()>,
    ) -> Ending;
}

/// A document a relay did not deliver but set aside for a person: the
/// receiver refused its data, and sending it again would be refused again.
#[derive(Clone, Copy, Debug)]
pub struct SetAsideDocument<'a> {
    /// Why.
    pub reason: &'a str,
    /// The document.
    pub document: &'a [u8],
}

/// The idempotency key of document `index` (from 0) of delivery `key`:
/// what the webhook relay sends as `Idempotency-Key` and the NATS relay
/// as `Nats-Msg-Id`.
pub fn document_key(key: &str, index: u64) -> String {
    format!("{key}:{index}")
}

/// The documents of a delivery, one JSON document per line, read one at
/// a time; blank lines are not documents.
pub struct Documents<'a> {
    lines: &'a mut dyn BufRead,
    line: Vec<u8>,
    count: u64,
}

impl<'a> Documents<'a> {
    /// The documents `lines` holds.
    pub fn new(lines: &'a mut dyn BufRead) -> Documents<'a> {
        Documents {
            lines,
            line: Vec::new(),
            count: 0,
        }
    }

    /// The next document from the `start`th on (counting from 0), with
    /// its index, or `None` at the end.
    pub fn next_from(&mut self, start: u64) -> Result<Option<(u64, &[u8])>, RelayError> {
        loop {
            self.line.clear();
            match self.lines.read_until(b'\n', &mut self.line) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(e) => {
                    return Err(RelayError(format!("reading document {}: {e}", self.count)));
                }
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.count += 1;
            if self.count > start {
                return Ok(Some((self.count - 1, self.line.trim_ascii_end())));
            }
        }
    }
}

/// Runs a relay's network I/O to completion from the calling thread: on
/// the runtime of the thread (a pass runs on the daemon runtime's
/// blocking pool), or on a small runtime of the relay's own when there is
/// none (`run --once`, `send-po`). Never called from an async task.
#[derive(Debug, Default)]
pub struct Blocking {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Blocking {
    /// Runs `work` to completion.
    pub fn run<F: std::future::Future>(&mut self, work: F) -> Result<F::Output, RelayError> {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Ok(handle.block_on(work));
        }
        let runtime = match &self.runtime {
            Some(rt) => rt,
            None => match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => self.runtime.insert(rt),
                Err(e) => return Err(RelayError(format!("starting a runtime: {e}"))),
            },
        };
        Ok(runtime.block_on(work))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_skip_blank_lines_and_start_where_asked() -> Result<(), RelayError> {
        let text = b"{\"a\":1}\n\n  \n{\"b\":2}  \n{\"c\":3}";
        let mut lines = &text[..];
        let mut docs = Documents::new(&mut lines);
        let mut seen = Vec::new();
        while let Some((n, doc)) = docs.next_from(1)? {
            seen.push((n, String::from_utf8_lossy(doc).into_owned()));
        }
        assert_eq!(
            seen,
            [(1, "{\"b\":2}".to_string()), (2, "{\"c\":3}".to_string())]
        );
        assert_eq!(document_key("relay:7", 2), "relay:7:2");
        Ok(())
    }
}
