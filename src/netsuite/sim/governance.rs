//! The account's concurrency governance and the simulator's counters:
//! requests in flight over the limit are refused (429
//! `CONCURRENCY_LIMIT_EXCEEDED`, or 400 `SSS_REQUEST_LIMIT_EXCEEDED` when
//! configured), `governanceLimits` answers the limit, and `/_sim/stats`
//! reports requests by status, the highest concurrency seen and the
//! refusals sent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::config::LimitError;
use super::error::{ErrorCode, NsError};

/// The limit, the requests in flight and the counters.
pub struct Governance {
    limit: AtomicUsize,
    sss: std::sync::atomic::AtomicBool,
    in_flight: Arc<AtomicUsize>,
    max_seen: AtomicUsize,
    refused: AtomicU64,
    by_status: Mutex<BTreeMap<u16, u64>>,
}

/// A request's place in the account's limit, given back when dropped.
pub struct Slot {
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Governance {
    /// A limit of `limit` requests at a time, refused in the `form` given.
    pub fn new(limit: usize, form: LimitError) -> Governance {
        Governance {
            limit: AtomicUsize::new(limit.max(1)),
            sss: std::sync::atomic::AtomicBool::new(form == LimitError::Sss),
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_seen: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            by_status: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes a place, or the refusal when the limit is reached.
    pub fn enter(&self) -> Result<Slot, NsError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let slot = Slot {
            in_flight: Arc::clone(&self.in_flight),
        };
        if now > self.limit.load(Ordering::SeqCst) {
            drop(slot);
            return Err(self.refusal());
        }
        self.max_seen.fetch_max(now, Ordering::SeqCst);
        Ok(slot)
    }

    /// The answer to a request over the limit (counted).
    pub fn refusal(&self) -> NsError {
        self.refused.fetch_add(1, Ordering::SeqCst);
        let limit = self.limit.load(Ordering::SeqCst);
        if self.sss.load(Ordering::SeqCst) {
            NsError::new(
                400,
                ErrorCode::SssRequestLimitExceeded,
                format!(
                    "SSS_REQUEST_LIMIT_EXCEEDED: the account's limit of {limit} concurrent requests is reached. Retry later."
                ),
            )
        } else {
            NsError::new(
                429,
                ErrorCode::ConcurrencyLimitExceeded,
                format!(
                    "Request rejected: the concurrency limit of {limit} requests for the account has been exceeded. Retry later."
                ),
            )
        }
    }

    /// Counts an answer.
    pub fn count(&self, status: u16) {
        *self
            .by_status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(status)
            .or_default() += 1;
    }

    /// Changes the limit and the form of the refusal.
    pub fn configure(&self, limit: Option<usize>, form: Option<LimitError>) {
        if let Some(l) = limit {
            self.limit.store(l.max(1), Ordering::SeqCst);
        }
        if let Some(f) = form {
            self.sss.store(f == LimitError::Sss, Ordering::SeqCst);
        }
    }

    /// `GET /services/rest/system/v1/governanceLimits`, in the
    /// `accountLimit` form of Oracle's page (no integration-specific limit).
    pub fn limits(&self) -> Value {
        let limit = self.limit.load(Ordering::SeqCst);
        json!({
            "accountConcurrencyLimit": limit,
            "accountUnallocatedConcurrencyLimit": limit,
            "integrationLimitType": "accountLimit",
        })
    }

    /// The counters for `/_sim/stats`.
    pub fn stats(&self) -> Value {
        let by_status = self
            .by_status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let total: u64 = by_status.values().sum();
        let by_status: serde_json::Map<String, Value> = by_status
            .iter()
            .map(|(s, n)| (s.to_string(), json!(n)))
            .collect();
        json!({
            "requests": total,
            "by_status": by_status,
            "max_concurrency": self.max_seen.load(Ordering::SeqCst),
            "limit_refusals": self.refused.load(Ordering::SeqCst),
            "concurrency_limit": self.limit.load(Ordering::SeqCst),
            "in_flight": self.in_flight.load(Ordering::SeqCst),
        })
    }

    /// Zeroes the counters.
    pub fn reset(&self) {
        self.max_seen.store(0, Ordering::SeqCst);
        self.refused.store(0, Ordering::SeqCst);
        self.by_status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_refuses_the_request_over_it_and_frees_places() {
        let g = Governance::new(2, LimitError::TooManyRequests);
        let a = g.enter().expect("the test input is valid");
        let _b = g.enter().expect("the test input is valid");
        let err = g.enter().err().expect("the test input is valid");
        assert_eq!(err.status, 429);
        drop(a);
        assert!(g.enter().is_ok());
        g.configure(None, Some(LimitError::Sss));
        let _c = g.enter().expect("the test input is valid");
        let err = g.enter().err().expect("the test input is valid");
        assert_eq!(
            (err.status, err.code.as_str()),
            (400, "SSS_REQUEST_LIMIT_EXCEEDED")
        );
        assert_eq!(g.stats()["max_concurrency"], 2);
    }
}
