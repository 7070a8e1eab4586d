//! The errors the simulator answers, in NetSuite's REST form: an RFC 9457
//! problem body with `o:errorDetails` (`detail`, `o:errorCode`, and
//! `o:errorPath` naming the field of the request body when there is one).

use serde_json::{Value, json};

/// NetSuite's machine-readable error categories that the simulator uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// A field's value is wrong (a reference to nothing, a bad number).
    InvalidValue,
    /// The request breaks a business rule (over-fulfilment, a required field).
    UserError,
    /// The record does not exist (404).
    NonexistentId,
    /// Authentication failed (401), never saying why.
    InvalidLogin,
    /// The body is not JSON, or not the JSON the operation wants.
    InvalidContent,
    /// A query parameter or a SuiteQL query is wrong.
    InvalidParameter,
    /// The account's concurrency limit was exceeded (429).
    ConcurrencyLimitExceeded,
    /// The same, in the RESTlet form (400).
    SssRequestLimitExceeded,
    /// A server fault (5xx).
    UnexpectedError,
    /// A transform between these record types does not exist.
    InvalidRcrdTransfrm,
    /// A create with an external ID already used for the type.
    DupRcrd,
    /// The HTTP method is not allowed on the resource.
    MethodNotAllowed,
    /// A RESTlet's script or deployment ID names nothing deployed.
    SssInvalidScriptletId,
}

impl ErrorCode {
    /// The code as NetSuite writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidValue => "INVALID_VALUE",
            ErrorCode::UserError => "USER_ERROR",
            ErrorCode::NonexistentId => "NONEXISTENT_ID",
            ErrorCode::InvalidLogin => "INVALID_LOGIN",
            ErrorCode::InvalidContent => "INVALID_CONTENT",
            ErrorCode::InvalidParameter => "INVALID_PARAMETER",
            ErrorCode::ConcurrencyLimitExceeded => "CONCURRENCY_LIMIT_EXCEEDED",
            ErrorCode::SssRequestLimitExceeded => "SSS_REQUEST_LIMIT_EXCEEDED",
            ErrorCode::UnexpectedError => "UNEXPECTED_ERROR",
            ErrorCode::InvalidRcrdTransfrm => "INVALID_RCRD_TRANSFRM",
            ErrorCode::DupRcrd => "DUP_RCRD",
            ErrorCode::SssInvalidScriptletId => "SSS_INVALID_SCRIPTLET_ID",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
        }
    }
}

/// One error answer: its HTTP status, code, human detail, and the path of
/// the offending field in the request body, if any.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {detail}", code.as_str())]
pub struct NsError {
    /// The HTTP status.
    pub status: u16,
    /// The NetSuite error code.
    pub code: ErrorCode,
    /// What was wrong, for a person.
    pub detail: String,
    /// The JSON path in the request body (`item.items[0].item`).
    pub path: Option<String>,
}

impl NsError {
    /// An error with no body path.
    pub fn new(status: u16, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            path: None,
        }
    }

    /// 400 `INVALID_VALUE` on the field at `path`.
    pub fn invalid_value(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            ..Self::new(400, ErrorCode::InvalidValue, detail)
        }
    }

    /// The usual `INVALID_VALUE` for a field whose value is wrong.
    pub fn bad_field(path: &str) -> Self {
        Self::invalid_value(
            path,
            format!(
                "Invalid value for the resource or sub-resource field '{path}'. Provide a valid value."
            ),
        )
    }

    /// 400 `USER_ERROR`.
    pub fn user_error(detail: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::UserError, detail)
    }

    /// 400 `USER_ERROR` about the field at `path`.
    pub fn user_error_at(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            ..Self::user_error(detail)
        }
    }

    /// 404 `NONEXISTENT_ID`.
    pub fn not_found(record_type: &str, key: &str) -> Self {
        Self::new(
            404,
            ErrorCode::NonexistentId,
            format!(
                "The record instance does not exist. Provide a valid record instance ID. ({record_type} {key})"
            ),
        )
    }

    /// 400 `INVALID_CONTENT`.
    pub fn invalid_content(detail: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::InvalidContent, detail)
    }

    /// 400 `INVALID_PARAMETER`.
    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::InvalidParameter, detail)
    }

    /// 500 `UNEXPECTED_ERROR`.
    pub fn unexpected(detail: impl Into<String>) -> Self {
        Self::new(500, ErrorCode::UnexpectedError, detail)
    }

    /// 401 `INVALID_LOGIN`, with NetSuite's text that never says why.
    pub fn invalid_login() -> Self {
        Self::new(
            401,
            ErrorCode::InvalidLogin,
            "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
        )
    }

    /// The JSON body of the answer.
    pub fn body(&self) -> Value {
        let mut detail = json!({
            "detail": self.detail,
            "o:errorCode": self.code.as_str(),
        });
        if let (Some(path), Some(map)) = (&self.path, detail.as_object_mut()) {
            map.insert("o:errorPath".into(), Value::String(path.clone()));
        }
        json!({
            "type": type_link(self.status),
            "title": title(self.status),
            "status": self.status,
            "o:errorDetails": [detail],
        })
    }
}

impl From<rusqlite::Error> for NsError {
    fn from(e: rusqlite::Error) -> Self {
        NsError::unexpected(format!(
            "An unexpected error occurred in the simulator's store: {e}"
        ))
    }
}

/// The RFC section NetSuite links as the problem `type`.
fn type_link(status: u16) -> String {
    match status {
        429 => "https://www.rfc-editor.org/rfc/rfc6585.html#section-4".into(),
        400 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1".into(),
        401 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2".into(),
        403 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4".into(),
        404 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5".into(),
        405 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6".into(),
        500 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1".into(),
        502 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.3".into(),
        503 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4".into(),
        504 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.5".into(),
        _ => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15".into(),
    }
}

/// The HTTP reason phrase as the problem `title`.
fn title(status: u16) -> &'static str {
    http_reason(status).unwrap_or("Error")
}

fn http_reason(status: u16) -> Option<&'static str> {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_netsuites_shape() {
        let body = NsError::bad_field("entity").body();
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(body["o:errorDetails"][0]["o:errorCode"], "INVALID_VALUE");
        assert_eq!(body["o:errorDetails"][0]["o:errorPath"], "entity");
        let body = NsError::invalid_login().body();
        assert!(body["o:errorDetails"][0].get("o:errorPath").is_none());
        assert_eq!(body["title"], "Unauthorized");
    }
}
