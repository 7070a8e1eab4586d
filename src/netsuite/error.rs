//! What NetSuite answered when a request failed, and what the caller may
//! do about it: NetSuite's error bodies (`o:errorDetails` with
//! `o:errorCode`, `o:errorPath` and `detail`) turned into errors that say
//! what was wrong with which field, and each error sorted into a class —
//! retry it, look the record up first (a write that may have been done),
//! set it aside for a person (the data is wrong), or fix the credentials.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// One entry of a NetSuite error body's `o:errorDetails`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ErrorDetail {
    /// NetSuite's code (`INVALID_VALUE`, `USER_ERROR`, …).
    #[serde(rename = "o:errorCode", default)]
    pub code: String,
    /// The field the error is about (`entity`, `item.items[0].quantity`).
    #[serde(rename = "o:errorPath", default)]
    pub path: Option<String>,
    /// NetSuite's message.
    #[serde(default)]
    pub detail: String,
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = if self.code.is_empty() {
            "no code"
        } else {
            &self.code
        };
        match &self.path {
            Some(path) if !path.is_empty() => write!(f, "{code} at {path}: {}", self.detail),
            _ => write!(f, "{code}: {}", self.detail),
        }
    }
}

/// A NetSuite error body (RFC 7807 with NetSuite's own members).
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    title: String,
    #[serde(rename = "o:errorDetails", default)]
    details: Vec<ErrorDetail>,
}

/// The details of an error body, or none when the body is not one
/// (NetSuite's 401s and a proxy's pages carry no details). A body that is
/// not NetSuite's JSON gives its first line, shortened, as one detail
/// without a code, so that the message still says something.
pub fn parse_details(body: &[u8]) -> Vec<ErrorDetail> {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        if !parsed.details.is_empty() {
            return parsed.details;
        }
        if !parsed.title.is_empty() {
            return vec![ErrorDetail {
                code: String::new(),
                path: None,
                detail: parsed.title,
            }];
        }
    }
    let text = String::from_utf8_lossy(body);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(line) => vec![ErrorDetail {
            code: String::new(),
            path: None,
            detail: line.chars().take(200).collect(),
        }],
        None => Vec::new(),
    }
}

/// A failed NetSuite request.
#[derive(Debug, thiserror::Error)]
pub enum NetSuiteError {
    /// NetSuite answered with an error status.
    #[error("NetSuite answered {status} to {operation}{}", list(.details))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The method and the path of the request, without its query.
        operation: String,
        /// NetSuite's error details.
        details: Vec<ErrorDetail>,
        /// What `Retry-After` asked for, when it did.
        retry_after: Option<Duration>,
    },
    /// No answer: the connection failed or the request timed out. For a
    /// write, the work may have been done.
    #[error("no answer from NetSuite to {operation}: {reason}")]
    Transport {
        /// The method and path.
        operation: String,
        /// What went wrong (reqwest's message, which has no secret).
        reason: String,
        /// Whether the request was sent before it failed (a time-out, a
        /// connection closed while waiting), rather than refused before.
        sent: bool,
    },
    /// An answer that is not what the operation gives (a create without a
    /// `Location`, a body that is not JSON).
    #[error("NetSuite's answer to {operation} is not understood: {what}")]
    Answer {
        /// The method and path.
        operation: String,
        /// What was wrong with it.
        what: String,
    },
    /// The request could not be signed or its token not obtained.
    #[error("NetSuite authentication: {0}")]
    Auth(String),
    /// A request the client refuses to build (an external ID NetSuite
    /// cannot take in a URL, a record type with a `/`).
    #[error("{0}")]
    Request(String),
}

fn list(details: &[ErrorDetail]) -> String {
    if details.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = details.iter().map(ToString::to_string).collect();
    format!(": {}", parts.join("; "))
}

/// What may be done about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Refused before any work (a concurrency limit, a server error on a
    /// request that changes nothing): try again after a wait, at least
    /// `after` when NetSuite said so.
    Retry {
        /// NetSuite's `Retry-After`.
        after: Option<Duration>,
    },
    /// A write whose outcome is not known (no answer, or a server error):
    /// look the record up by its external ID before writing again.
    Unknown,
    /// The data or the request is wrong (`INVALID_VALUE`, `USER_ERROR`, a
    /// record that does not exist): a person must look; retrying the same
    /// request gives the same answer.
    Data,
    /// The credentials are refused (401, 403): nothing works until they
    /// are fixed.
    Auth,
}

/// Codes that mean "too many requests at once", whatever the status.
const LIMIT_CODES: &[&str] = &[
    "SSS_REQUEST_LIMIT_EXCEEDED",
    "CONCURRENCY_LIMIT_EXCEEDED",
    "WS_REQUEST_BLOCKED",
    "WS_CONCUR_SESSION_DISALLWD",
];

/// Codes of a conflict with another writer of the same record at the same
/// moment: refused before any work, to be tried again.
const CONFLICT_CODES: &[&str] = &["RCRD_HAS_BEEN_CHANGED", "RCRD_LOCKED_BY_WF"];

impl NetSuiteError {
    /// Whether NetSuite refused this for its concurrency limit.
    pub fn is_rate_limit(&self) -> bool {
        match self {
            NetSuiteError::Status {
                status, details, ..
            } => {
                *status == 429
                    || details
                        .iter()
                        .any(|d| LIMIT_CODES.contains(&d.code.as_str()))
            }
            _ => false,
        }
    }

    /// The first error code NetSuite gave, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            NetSuiteError::Status { details, .. } => details
                .iter()
                .map(|d| d.code.as_str())
                .find(|c| !c.is_empty()),
            _ => None,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            NetSuiteError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What may be done about it, for a request that changes something
    /// (`writes`) or not.
    pub fn class(&self, writes: bool) -> ErrorClass {
        match self {
            _ if self.is_rate_limit() => ErrorClass::Retry {
                after: match self {
                    NetSuiteError::Status { retry_after, .. } => *retry_after,
                    _ => None,
                },
            },
            NetSuiteError::Status { details, .. }
                if details
                    .iter()
                    .any(|d| CONFLICT_CODES.contains(&d.code.as_str())) =>
            {
                ErrorClass::Retry { after: None }
            }
            NetSuiteError::Status { status, .. } => match status {
                401 | 403 => ErrorClass::Auth,
                408 | 500..=599 if writes => ErrorClass::Unknown,
                408 | 500..=599 => ErrorClass::Retry { after: None },
                _ => ErrorClass::Data,
            },
            NetSuiteError::Transport { sent: false, .. } => ErrorClass::Retry { after: None },
            NetSuiteError::Transport { .. } if writes => ErrorClass::Unknown,
            NetSuiteError::Transport { .. } => ErrorClass::Retry { after: None },
            NetSuiteError::Answer { .. } if writes => ErrorClass::Unknown,
            NetSuiteError::Answer { .. } => ErrorClass::Retry { after: None },
            NetSuiteError::Auth(_) => ErrorClass::Auth,
            NetSuiteError::Request(_) => ErrorClass::Data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> NetSuiteError {
        NetSuiteError::Status {
            status,
            operation: "POST record/v1/purchaseOrder/12/!transform/vendorBill".into(),
            details: parse_details(body.as_bytes()),
            retry_after: None,
        }
    }

    #[test]
    fn an_error_body_says_what_was_wrong_with_which_field() {
        let e = status(
            400,
            r#"{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1","title":"Bad Request","status":400,
               "o:errorDetails":[{"detail":"Invalid value for the resource or sub-resource field 'entity'.","o:errorPath":"entity","o:errorCode":"INVALID_VALUE"}]}"#,
        );
        assert_eq!(
            e.to_string(),
            "NetSuite answered 400 to POST record/v1/purchaseOrder/12/!transform/vendorBill: INVALID_VALUE at entity: Invalid value for the resource or sub-resource field 'entity'."
        );
        assert_eq!(e.code(), Some("INVALID_VALUE"));
        assert_eq!(e.class(true), ErrorClass::Data);
    }

    #[test]
    fn limits_server_errors_and_logins_are_told_apart() {
        let limit = status(
            400,
            r#"{"title":"Bad Request","o:errorDetails":[{"detail":"limit","o:errorCode":"SSS_REQUEST_LIMIT_EXCEEDED"}]}"#,
        );
        assert_eq!(limit.class(true), ErrorClass::Retry { after: None });
        let mut too_many = status(429, r#"{"title":"Too Many Requests"}"#);
        if let NetSuiteError::Status { retry_after, .. } = &mut too_many {
            *retry_after = Some(Duration::from_secs(7));
        }
        assert_eq!(
            too_many.class(true),
            ErrorClass::Retry {
                after: Some(Duration::from_secs(7))
            }
        );
        let server = status(503, "<html><body>Service Unavailable</body></html>");
        assert_eq!(server.class(true), ErrorClass::Unknown);
        assert_eq!(server.class(false), ErrorClass::Retry { after: None });
        assert!(
            server
                .to_string()
                .ends_with("<html><body>Service Unavailable</body></html>")
        );
        assert_eq!(status(401, "").class(false), ErrorClass::Auth);
        let changed = status(
            400,
            r#"{"o:errorDetails":[{"detail":"Record has been changed","o:errorCode":"RCRD_HAS_BEEN_CHANGED"}]}"#,
        );
        assert_eq!(changed.class(true), ErrorClass::Retry { after: None });
        assert_eq!(
            status(401, "").to_string(),
            "NetSuite answered 401 to POST record/v1/purchaseOrder/12/!transform/vendorBill"
        );
        let refused = NetSuiteError::Transport {
            operation: "GET x".into(),
            reason: "connection refused".into(),
            sent: false,
        };
        assert_eq!(refused.class(true), ErrorClass::Retry { after: None });
        let timed_out = NetSuiteError::Transport {
            operation: "POST x".into(),
            reason: "timed out".into(),
            sent: true,
        };
        assert_eq!(timed_out.class(true), ErrorClass::Unknown);
    }
}
