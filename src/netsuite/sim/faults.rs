//! Faults the tests inject through `POST /_sim/faults`: the next N
//! matching requests answer a 5xx, are refused by the concurrency limit,
//! are slow, or are done and committed and then lose their connection
//! without an answer (a timeout after the work). A fault can be limited
//! to a method and a path fragment.

use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

/// A fault as the control API takes it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Answer this status (5xx) with an `UNEXPECTED_ERROR` body.
    pub status: Option<u16>,
    /// Answer as the concurrency limit does.
    #[serde(default)]
    pub rate_limit: bool,
    /// With `rate_limit`: a `Retry-After` header of this many seconds.
    pub retry_after: Option<u64>,
    /// Wait this long before doing the request.
    pub slow_ms: Option<u64>,
    /// Do the request, then close the connection without an answer.
    #[serde(default)]
    pub drop_after_write: bool,
    /// How many requests it applies to (default 1).
    pub times: Option<u32>,
    /// Only requests with this method.
    pub method: Option<String>,
    /// Only requests whose path (and query) contains this.
    pub path_contains: Option<String>,
}

/// What a fault does to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status.
    Status(u16),
    /// Answer as the concurrency limit does, perhaps with `Retry-After`.
    RateLimit(Option<u64>),
    /// Wait, then do the request.
    Slow(Duration),
    /// Do the request, then drop the connection.
    DropAfterWrite,
}

/// Why a fault spec is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FaultError {
    /// None or several of `status`, `rate_limit`, `slow_ms`, `drop_after_write`.
    #[error("a fault is exactly one of status, rate_limit, slow_ms, drop_after_write")]
    NotOne,
    /// `status` is not an error status.
    #[error("status {0} is not a 4xx or 5xx status")]
    Status(u16),
}

impl FaultSpec {
    fn fault(&self) -> Result<Fault, FaultError> {
        let mut kinds = Vec::new();
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err(FaultError::Status(s));
            }
            kinds.push(Fault::Status(s));
        }
        if self.rate_limit {
            kinds.push(Fault::RateLimit(self.retry_after));
        }
        if let Some(ms) = self.slow_ms {
            kinds.push(Fault::Slow(Duration::from_millis(ms)));
        }
        if self.drop_after_write {
            kinds.push(Fault::DropAfterWrite);
        }
        match kinds.len() {
            1 => Ok(kinds.remove(0)),
            _ => Err(FaultError::NotOne),
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.to_ascii_lowercase().contains(&p.to_ascii_lowercase()))
    }
}

struct Armed {
    spec: FaultSpec,
    fault: Fault,
    left: u32,
}

/// The faults waiting for requests, in the order they were added.
#[derive(Default)]
pub struct Faults {
    armed: Mutex<Vec<Armed>>,
}

impl Faults {
    /// Arms a fault.
    pub fn add(&self, spec: FaultSpec) -> Result<(), FaultError> {
        let fault = spec.fault()?;
        let left = spec.times.unwrap_or(1);
        if left > 0 {
            self.lock().push(Armed { spec, fault, left });
        }
        Ok(())
    }

    /// The fault for this request, if one is armed for it (using it up).
    pub fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut armed = self.lock();
        let at = armed.iter().position(|a| a.spec.matches(method, path))?;
        let fault = armed[at].fault.clone();
        armed[at].left -= 1;
        if armed[at].left == 0 {
            armed.remove(at);
        }
        Some(fault)
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many requests the armed faults still apply to.
    pub fn pending(&self) -> u32 {
        self.lock().iter().map(|a| a.left).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Armed>> {
        self.armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order_and_only_on_matching_requests() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                drop_after_write: true,
                path_contains: Some("!transform/itemFulfillment".into()),
                method: Some("POST".into()),
                ..FaultSpec::default()
            })
            .expect("the test input is valid");
        faults
            .add(FaultSpec {
                status: Some(503),
                times: Some(2),
                ..FaultSpec::default()
            })
            .expect("the test input is valid");
        let t = "/services/rest/record/v1/salesOrder/3/!transform/itemfulfillment";
        assert_eq!(faults.take("GET", "/x"), Some(Fault::Status(503)));
        assert_eq!(faults.take("POST", t), Some(Fault::DropAfterWrite));
        assert_eq!(faults.take("POST", t), Some(Fault::Status(503)));
        assert_eq!(faults.take("POST", t), None);
        assert_eq!(
            faults.add(FaultSpec {
                status: Some(503),
                rate_limit: true,
                ..FaultSpec::default()
            }),
            Err(FaultError::NotOne)
        );
    }
}
