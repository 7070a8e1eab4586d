//! Who may call the simulated account: token-based authentication checked
//! with `tba.rs` and NetSuite's policy (the realm is the account ID, the
//! token belongs to the integration, the timestamp within 300 s of the
//! simulator's clock, a (consumer key, token, nonce, timestamp) never
//! seen in the last 10 minutes), and OAuth 2.0 bearer tokens the token
//! endpoint issued. Every refusal is the same 401 `INVALID_LOGIN` outside;
//! the reason is kept in a small login audit trail (`/_sim/stats`), as
//! NetSuite keeps it in its Login Audit Trail.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use url::Url;

use super::config::SimConfig;
use crate::netsuite::tba::{AuthHeader, TbaError, fingerprint};

/// How far a TBA timestamp may be from the simulator's clock.
pub const MAX_SKEW_SECONDS: u64 = 300;
/// How long a nonce is remembered.
pub const NONCE_MEMORY_SECONDS: u64 = 600;
/// How many login failures the audit trail keeps.
const AUDIT_LEN: usize = 200;

/// Why a request was refused (never told to the caller).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginFailure {
    /// No `Authorization` header.
    #[error("no Authorization header")]
    NoHeader,
    /// The header is not a TBA header or is malformed.
    #[error("the TBA header: {0}")]
    Header(TbaError),
    /// The consumer key is not an integration of the account.
    #[error("unknown consumer key")]
    UnknownConsumer,
    /// The token is not one of the account's, or not of this integration.
    #[error("unknown token, or a token of another integration")]
    UnknownToken,
    /// The realm is not the account ID.
    #[error("the realm {0:?} is not the account ID")]
    Realm(Option<String>),
    /// The timestamp is too far from the clock.
    #[error("the timestamp is {0} s from the simulator's clock")]
    Clock(i64),
    /// The nonce was used before.
    #[error("the nonce was used before (a replay)")]
    Replay,
    /// The signature (or the body hash) does not match.
    #[error("the signature: {0}")]
    Signature(TbaError),
    /// A bearer token the simulator did not issue.
    #[error("an unknown bearer token")]
    UnknownBearer,
    /// A bearer token past its expiry.
    #[error("an expired bearer token")]
    ExpiredBearer,
}

/// Who a request came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A TBA token of an integration.
    Tba {
        /// The integration's consumer key.
        consumer_key: String,
    },
    /// An OAuth 2.0 client.
    Bearer {
        /// The client ID.
        client_id: String,
    },
}

#[derive(Default)]
struct Nonces {
    seen: HashSet<String>,
    order: VecDeque<(u64, String)>,
}

/// The account's credentials and the state of its checks.
pub struct Auth {
    account: String,
    integrations: HashMap<String, String>,
    tokens: HashMap<String, (String, String)>,
    nonces: Mutex<Nonces>,
    bearers: Mutex<HashMap<String, (String, u64)>>,
    token_lifetime: AtomicU64,
    audit: Mutex<VecDeque<String>>,
}

impl Auth {
    /// The account's credentials from the configuration.
    pub fn new(account: &str, config: &SimConfig) -> Auth {
        Auth {
            account: account.to_string(),
            integrations: config
                .integration
                .iter()
                .map(|i| {
                    (
                        i.consumer_key.clone(),
                        i.consumer_secret.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            tokens: config
                .token
                .iter()
                .map(|t| {
                    (
                        t.token_id.clone(),
                        (
                            t.consumer_key.clone(),
                            t.token_secret.clone().unwrap_or_default(),
                        ),
                    )
                })
                .collect(),
            nonces: Mutex::new(Nonces::default()),
            bearers: Mutex::new(HashMap::new()),
            token_lifetime: AtomicU64::new(config.token_lifetime_seconds.unwrap_or(3600)),
            audit: Mutex::new(VecDeque::new()),
        }
    }

    /// The account ID (the realm).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Checks a request's `Authorization` header: TBA (`OAuth …`) or a
    /// bearer token. `url` is the URL the client used, `now` Unix seconds.
    pub fn check(
        &self,
        method: &str,
        url: &Url,
        header: Option<&str>,
        body: &[u8],
        now: u64,
    ) -> Result<Principal, LoginFailure> {
        let result = match header {
            None => Err(LoginFailure::NoHeader),
            Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => {
                self.check_bearer(h[7..].trim(), now)
            }
            Some(h) => self.check_tba(method, url, h, body, now),
        };
        if let Err(why) = &result {
            self.remember_failure(format!("{method} {}: {why}", url.path()));
        }
        result
    }

    fn check_tba(
        &self,
        method: &str,
        url: &Url,
        header: &str,
        body: &[u8],
        now: u64,
    ) -> Result<Principal, LoginFailure> {
        let parsed = AuthHeader::parse(header).map_err(LoginFailure::Header)?;
        let consumer_key = parsed.consumer_key().map_err(LoginFailure::Header)?;
        let consumer_secret = self
            .integrations
            .get(consumer_key)
            .ok_or(LoginFailure::UnknownConsumer)?;
        let token_id = parsed.token().map_err(LoginFailure::Header)?;
        let (owner, token_secret) = self
            .tokens
            .get(token_id)
            .ok_or(LoginFailure::UnknownToken)?;
        if owner != consumer_key {
            return Err(LoginFailure::UnknownToken);
        }
        if parsed.realm.as_deref() != Some(self.account.as_str()) {
            return Err(LoginFailure::Realm(parsed.realm.clone()));
        }
        let timestamp = parsed.timestamp().map_err(LoginFailure::Header)?;
        let skew = timestamp as i64 - now as i64;
        if skew.unsigned_abs() > MAX_SKEW_SECONDS {
            return Err(LoginFailure::Clock(skew));
        }
        parsed
            .verify(method, url, body, consumer_secret, token_secret)
            .map_err(LoginFailure::Signature)?;
        // The nonce is remembered only once the signature holds, so a
        // forged request cannot burn a client's nonce.
        let nonce = parsed.nonce().map_err(LoginFailure::Header)?;
        let key = fingerprint(&format!("{consumer_key}\n{token_id}\n{nonce}\n{timestamp}"));
        let mut nonces = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((at, _)) = nonces.order.front() {
            if at + NONCE_MEMORY_SECONDS >= now {
                break;
            }
            if let Some((_, old)) = nonces.order.pop_front() {
                nonces.seen.remove(&old);
            }
        }
        if !nonces.seen.insert(key.clone()) {
            return Err(LoginFailure::Replay);
        }
        nonces.order.push_back((now, key));
        Ok(Principal::Tba {
            consumer_key: consumer_key.to_string(),
        })
    }

    fn check_bearer(&self, token: &str, now: u64) -> Result<Principal, LoginFailure> {
        let bearers = self
            .bearers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (client_id, expires) = bearers.get(token).ok_or(LoginFailure::UnknownBearer)?;
        if *expires <= now {
            return Err(LoginFailure::ExpiredBearer);
        }
        Ok(Principal::Bearer {
            client_id: client_id.clone(),
        })
    }

    /// Issues an access token to a client: the token and its lifetime.
    pub fn issue_bearer(&self, client_id: &str, now: u64) -> (String, u64) {
        let lifetime = self.token_lifetime.load(Ordering::Relaxed);
        let token = random_token(48);
        let mut bearers = self
            .bearers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        bearers.retain(|_, (_, exp)| *exp > now);
        bearers.insert(token.clone(), (client_id.to_string(), now + lifetime));
        (token, lifetime)
    }

    /// Sets the lifetime of the tokens issued from now on.
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.token_lifetime.store(seconds, Ordering::Relaxed);
    }

    /// Adds a refusal to the audit trail.
    pub fn remember_failure(&self, line: String) {
        let mut audit = self
            .audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if audit.len() == AUDIT_LEN {
            audit.pop_front();
        }
        audit.push_back(line);
    }

    /// The login audit trail, oldest first.
    pub fn audit(&self) -> Vec<String> {
        self.audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets nonces, tokens issued and the audit trail (`/_sim/reset`).
    pub fn reset(&self) {
        *self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Nonces::default();
        self.bearers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// `n` random letters and digits.
pub fn random_token(n: usize) -> String {
    let mut out = String::new();
    while out.len() < n {
        out.push_str(&crate::netsuite::tba::nonce());
    }
    out.truncate(n);
    out
}

/// The Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netsuite::tba::Credentials;

    fn creds(realm: &str, secret: &str) -> Credentials {
        Credentials {
            realm: realm.into(),
            consumer_key: super::super::config::DEMO_CONSUMER_KEY.into(),
            consumer_secret: secret.into(),
            token_id: super::super::config::DEMO_TOKEN_ID.into(),
            token_secret: super::super::config::DEMO_TOKEN_SECRET.into(),
        }
    }

    #[test]
    fn the_policy_refuses_realm_clock_replay_and_wrong_secrets() {
        let auth = Auth::new("123_SB1", &SimConfig::demo());
        let url = Url::parse("http://127.0.0.1:9/services/rest/record/v1/vendor/1")
            .expect("the test input is valid");
        let now = 1_800_000_000;
        let good = creds("123_SB1", super::super::config::DEMO_CONSUMER_SECRET);
        let h = good.authorization("GET", &url, "n1", now);
        assert!(auth.check("GET", &url, Some(&h), b"", now).is_ok());
        assert_eq!(
            auth.check("GET", &url, Some(&h), b"", now),
            Err(LoginFailure::Replay)
        );
        let old = good.authorization("GET", &url, "n2", now - 301);
        assert!(matches!(
            auth.check("GET", &url, Some(&old), b"", now),
            Err(LoginFailure::Clock(-301))
        ));
        let realm = creds("123_sb1", super::super::config::DEMO_CONSUMER_SECRET)
            .authorization("GET", &url, "n3", now);
        assert!(matches!(
            auth.check("GET", &url, Some(&realm), b"", now),
            Err(LoginFailure::Realm(_))
        ));
        let wrong = creds("123_SB1", "nope").authorization("GET", &url, "n4", now);
        assert!(matches!(
            auth.check("GET", &url, Some(&wrong), b"", now),
            Err(LoginFailure::Signature(_))
        ));
        // A forged request did not burn the nonce.
        let again = good.authorization("GET", &url, "n4", now);
        assert!(auth.check("GET", &url, Some(&again), b"", now).is_ok());
        assert_eq!(auth.audit().len(), 4);
    }
}
