//! The OAuth 2.0 token endpoint (`POST /services/rest/auth/oauth2/v1/token`)
//! of the client credentials flow: the form's client assertion is checked
//! with `oauth2::verify_assertion` against the certificate its `kid` names
//! (uploaded in the configuration), its `aud` must be this endpoint's URL
//! and its `iss` the client the certificate is mapped to; the answer is an
//! access token that the simulator accepts as `Authorization: Bearer` until
//! it expires. Refusals are OAuth errors (`{"error","error_description"}`),
//! never naming a key.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::auth::Auth;
use super::config::OAuth2Client;
use crate::netsuite::oauth2::{Certificate, verify_assertion};

/// Where the endpoint is.
pub const TOKEN_PATH: &str = "/services/rest/auth/oauth2/v1/token";
/// The `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The account's OAuth 2.0 clients: by certificate ID, the client ID it
/// is mapped to and the certificate.
pub struct Clients {
    by_kid: HashMap<String, (String, Certificate)>,
}

/// Why a client's certificate cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CertificateFileError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a certificate.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Clients {
    /// Reads each client's certificate.
    pub fn load(clients: &[OAuth2Client]) -> Result<Clients, CertificateFileError> {
        let mut by_kid = HashMap::new();
        for c in clients {
            let text = std::fs::read_to_string(&c.certificate_file).map_err(|source| {
                CertificateFileError::Read {
                    path: c.certificate_file.clone(),
                    source,
                }
            })?;
            let cert = Certificate::from_pem(&text).map_err(|e| CertificateFileError::Invalid {
                path: c.certificate_file.clone(),
                message: e.to_string(),
            })?;
            by_kid.insert(c.certificate_id.clone(), (c.client_id.clone(), cert));
        }
        Ok(Clients { by_kid })
    }
}

/// An OAuth error answer.
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// The HTTP status.
    pub status: u16,
    /// The OAuth `error`.
    pub error: &'static str,
    /// What was wrong.
    pub description: String,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

/// Answers a token request: `form` the urlencoded body, `audience` the
/// URL the client posted to, `now` Unix seconds.
pub fn exchange(
    clients: &Clients,
    auth: &Auth,
    form: &[u8],
    audience: &str,
    now: u64,
) -> Result<Value, OAuthError> {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(form).into_owned().collect();
    let field = |name: &str| {
        fields
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::new(400, "invalid_request", format!("{name} is missing")))
    };
    if field("grant_type")? != "client_credentials" {
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        ));
    }
    if field("client_assertion_type")? != ASSERTION_TYPE {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            format!("client_assertion_type must be {ASSERTION_TYPE}"),
        ));
    }
    let assertion = field("client_assertion")?;
    let mut owner = None;
    let claims = verify_assertion(
        assertion,
        |kid: &str| {
            clients.by_kid.get(kid).map(|(client, cert)| {
                owner = Some(client.clone());
                cert
            })
        },
        audience,
        now as i64,
    )
    .map_err(|e| {
        auth.remember_failure(format!("POST {TOKEN_PATH}: {e}"));
        OAuthError::new(401, "invalid_client", "The client assertion is not valid.")
    })?;
    let client = owner.unwrap_or_default();
    if claims.iss != client {
        auth.remember_failure(format!(
            "POST {TOKEN_PATH}: iss {} is not the client certificate {} is mapped to",
            claims.iss, claims.kid
        ));
        return Err(OAuthError::new(
            401,
            "invalid_client",
            "The client assertion is not valid.",
        ));
    }
    let (token, lifetime) = auth.issue_bearer(&client, now);
    // NetSuite writes expires_in as a string.
    Ok(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": lifetime.to_string(),
    }))
}
