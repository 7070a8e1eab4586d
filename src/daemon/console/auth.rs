//! Who may use the console: the users of `[console]` (an argon2 hash of
//! each password), the sessions of those logged in (in memory, a random
//! id in an `HttpOnly`, `SameSite=Strict` cookie, ended after
//! `session_hours`, at logout, or when the user's entry changes), and the
//! CSRF tokens every form carries (one per session, and one per login
//! form, a double-submit cookie), compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts as RequestParts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use ring::rand::SecureRandom;

use super::{Shared, layout};
use crate::config::console::ConsoleUser;

/// The session cookie.
pub const SESSION_COOKIE: &str = "dropgate_session";

/// The login form's own token (before there is a session).
pub const LOGIN_COOKIE: &str = "dropgate_login";

/// Sessions kept at most; past that the oldest ends.
const MAX_SESSIONS: usize = 1024;

/// Passwords checked at the same time, at most; more logins wait.
pub const CHECKS_AT_ONCE: usize = 2;

/// How long a refused login waits before it is answered.
const REFUSED_DELAY: Duration = Duration::from_millis(300);

/// A message shown once, on the page a redirect leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// Whether it says something went as asked (or was refused).
    pub ok: bool,
    /// What it says.
    pub text: String,
}

impl Flash {
    /// Something done.
    pub fn done(text: impl Into<String>) -> Flash {
        Flash {
            ok: true,
            text: text.into(),
        }
    }

    /// Something that could not be done.
    pub fn refused(text: impl Into<String>) -> Flash {
        Flash {
            ok: false,
            text: text.into(),
        }
    }
}

struct Session {
    user: String,
    /// The user's password hash at the login: a new password ends it.
    hash: String,
    csrf: String,
    started: Instant,
    ends: Instant,
    flash: Option<Flash>,
}

/// The sessions of the people logged in, by session id.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for `user`, lasting `lifetime`; returns its id.
    fn start(
        &self,
        user: &ConsoleUser,
        lifetime: Duration,
    ) -> Result<String, ring::error::Unspecified> {
        let id = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut map = self.map();
        map.retain(|_, s| s.ends > now);
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(
            id.clone(),
            Session {
                user: user.name.clone(),
                hash: user.password_hash.clone(),
                csrf,
                started: now,
                ends: now + lifetime,
                flash: None,
            },
        );
        Ok(id)
    }

    /// Ends a session.
    fn end(&self, id: &str) {
        self.map().remove(id);
    }

    /// Leaves `flash` for the session's next page.
    pub fn flash(&self, id: &str, flash: Flash) {
        if let Some(s) = self.map().get_mut(id) {
            s.flash = Some(flash);
        }
    }

    /// Ends the sessions of users no longer in `users`, or whose password
    /// changed.
    pub fn keep_only(&self, users: &[ConsoleUser]) {
        self.map().retain(|_, s| {
            users
                .iter()
                .any(|u| u.name == s.user && u.password_hash == s.hash)
        });
    }

    /// The person logged in under `id`, unless the session ended or the
    /// user's entry changed; the flash is taken with it when `take_flash`.
    fn find(&self, id: &str, users: &[ConsoleUser], take_flash: bool) -> Option<User> {
        let mut map = self.map();
        let now = Instant::now();
        let valid = map.get(id).is_some_and(|s| {
            s.ends > now
                && users.iter().any(|u| {
                    u.name == s.user && same_secret(u.password_hash.as_bytes(), s.hash.as_bytes())
                })
        });
        if !valid {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        Some(User {
            name: s.user.clone(),
            csrf: s.csrf.clone(),
            session: id.to_string(),
            flash: if take_flash { s.flash.take() } else { None },
        })
    }
}

/// 32 random bytes, in hex.
pub fn random_token() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether two secrets are the same, in a time that does not depend on
/// where they differ (an empty secret is never the same).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// No randomness for the salt.
    #[error("no random salt could be drawn")]
    Random,
    /// argon2 refused it.
    #[error("argon2: {0}")]
    Argon2(String),
}

/// The argon2id hash of `password` (the crate's default parameters, a
/// random salt), as a PHC string for `[[console.users]] password_hash`.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| HashError::Random)?;
    argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

/// Whether `password` is the one `hash` was made from. Slow on purpose
/// (argon2): call it on a blocking thread.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to check an unknown user's password against, so that a login
/// takes as long whether the name exists or not.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("no user has this password").unwrap_or_default())
}

/// The person logged in, taken from the session cookie: a page without
/// one leads to the login (and back), an action without one is refused.
pub struct User {
    /// The user's name.
    pub name: String,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    session: String,
    /// The message left by the action that led here.
    pub flash: Option<Flash>,
}

impl User {
    /// `None` when a form's token is the session's; otherwise the answer
    /// refusing the action (403), which changed nothing.
    pub fn refused(&self, csrf: &str) -> Option<Response> {
        if same_secret(csrf.as_bytes(), self.csrf.as_bytes()) {
            None
        } else {
            tracing::warn!(user = %self.name, "a console form without its session's token was refused");
            Some(forbidden())
        }
    }

    /// Leaves `flash` for the next page and redirects there (POST,
    /// redirect, GET).
    pub fn redirect(&self, shared: &Shared, to: &str, flash: Flash) -> Response {
        shared.sessions.flash(&self.session, flash);
        Redirect::to(to).into_response()
    }
}

/// The answer to an action without a valid session and token.
fn forbidden() -> Response {
    layout::bare(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form was not sent from a page of this console's current session (or the session \
         ended): nothing was changed. Reload the page and try again.",
    )
}

/// A cookie's value from the request.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<Arc<Shared>> for User {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut RequestParts,
        shared: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        let reading = matches!(parts.method, Method::GET | Method::HEAD);
        let found = cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|id| shared.sessions.find(id, shared.parts().users(), reading));
        match found {
            Some(user) => Ok(user),
            None if reading => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                let next =
                    url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            None => Err(forbidden()),
        }
    }
}

/// Where a login leads: a path of the console, never another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// `?next=` of the login page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// The login form.
#[derive(Default, serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The login page, with a fresh token in its form and its cookie.
fn login_form(status: StatusCode, next: &str, name: &str, problem: Option<&str>) -> Response {
    let Ok(token) = random_token() else {
        return layout::bare(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not now",
            "No random token could be drawn; try again.",
        );
    };
    let body = html! {
        form #login-form .login method="post" action="/login" {
            h1 { "dropgate" }
            @if let Some(problem) = problem {
                p #flash .flash .refused data-flash="refused" role="alert" { (problem) }
            }
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(safe_next(next));
            label for="login-name" { "Name" }
            input #login-name type="text" name="name" value=(name) autocomplete="username" required autofocus;
            label for="login-password" { "Password" }
            input #login-password type="password" name="password" autocomplete="current-password" required;
            button #login-submit type="submit" { "Log in" }
        }
    };
    let mut response = layout::shell(status, "Log in", None, body);
    set_cookie(
        &mut response,
        &format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict"),
    );
    response
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = header::HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `GET /login`.
pub async fn login_page(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    let logged_in = cookie(&headers, SESSION_COOKIE)
        .and_then(|id| shared.sessions.find(id, shared.parts().users(), false))
        .is_some();
    if logged_in {
        return Redirect::to(safe_next(&next.next)).into_response();
    }
    login_form(StatusCode::OK, &next.next, "", None)
}

/// `POST /login`: the name and password checked (on a blocking thread),
/// a session started; the same answer for an unknown name and a wrong
/// password, after a short wait.
pub async fn login(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let token = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if !same_secret(token.as_bytes(), form.csrf.as_bytes()) {
        return forbidden();
    }
    let parts = shared.parts();
    let user = parts.users().iter().find(|u| u.name == form.name).cloned();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = form.password.clone();
    let matches = match shared.checks.acquire().await {
        Ok(_turn) => tokio::task::spawn_blocking(move || {
            verify_password(hash.as_deref().unwrap_or_else(|| decoy_hash()), &password)
        })
        .await
        .unwrap_or(false),
        Err(_) => false,
    };
    let Some(user) = user.filter(|_| matches) else {
        tracing::warn!(user = %form.name, "console login refused");
        tokio::time::sleep(REFUSED_DELAY).await;
        return login_form(
            StatusCode::UNAUTHORIZED,
            &form.next,
            &form.name,
            Some("The name or the password is wrong."),
        );
    };
    let Ok(id) = shared.sessions.start(&user, parts.session_lifetime()) else {
        return layout::bare(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not now",
            "No random session id could be drawn; try again.",
        );
    };
    tracing::info!(user = %user.name, "console login");
    let mut response = Redirect::to(safe_next(&form.next)).into_response();
    let secure = if parts.https() { "; Secure" } else { "" };
    set_cookie(
        &mut response,
        &format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            parts.session_lifetime().as_secs()
        ),
    );
    set_cookie(
        &mut response,
        &format!("{LOGIN_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

/// A form that carries only the CSRF token.
#[derive(Default, serde::Deserialize)]
pub struct TokenForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`: the session ends.
pub async fn logout(
    State(shared): State<Arc<Shared>>,
    user: User,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(refused) = user.refused(&form.csrf) {
        return refused;
    }
    shared.sessions.end(&user.session);
    tracing::info!(user = %user.name, "console logout");
    let mut response = Redirect::to("/login").into_response();
    set_cookie(
        &mut response,
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, hash: &str) -> ConsoleUser {
        ConsoleUser {
            name: name.into(),
            password_hash: hash.into(),
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").expect("hashed");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(crate::config::console::check_password_hash(&hash).is_ok());
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horsE"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert_ne!(
            hash,
            hash_password("correct horse").expect("hashed"),
            "salted"
        );
    }

    #[test]
    fn sessions_end_when_the_user_changes_or_leaves() {
        let sessions = Sessions::default();
        let ann = user("ann", "h1");
        let id = sessions
            .start(&ann, Duration::from_secs(60))
            .expect("started");
        let found = sessions
            .find(&id, std::slice::from_ref(&ann), true)
            .expect("found");
        assert_eq!(found.name, "ann");
        assert_eq!(found.csrf.len(), 64);
        assert!(
            sessions
                .find("someone-else", std::slice::from_ref(&ann), true)
                .is_none()
        );
        // A new password ends it.
        assert!(sessions.find(&id, &[user("ann", "h2")], true).is_none());
        let id = sessions
            .start(&ann, Duration::from_secs(60))
            .expect("started");
        sessions.keep_only(&[user("bob", "h1")]);
        assert!(
            sessions
                .find(&id, std::slice::from_ref(&ann), true)
                .is_none()
        );
        // Expired.
        let id = sessions.start(&ann, Duration::ZERO).expect("started");
        assert!(sessions.find(&id, &[ann], true).is_none());
    }

    #[test]
    fn the_oldest_session_goes_past_the_bound() {
        let sessions = Sessions::default();
        let ann = user("ann", "h");
        let first = sessions
            .start(&ann, Duration::from_secs(60))
            .expect("started");
        for _ in 0..MAX_SESSIONS {
            sessions
                .start(&ann, Duration::from_secs(60))
                .expect("started");
        }
        assert_eq!(sessions.map().len(), MAX_SESSIONS);
        assert!(sessions.find(&first, &[ann], false).is_none());
    }

    #[test]
    fn secrets_and_redirects() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"", b""));
        assert!(!same_secret(b"abc", b"abcd"));
        assert_eq!(
            safe_next("/files?state=quarantined"),
            "/files?state=quarantined"
        );
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; dropgate_session=xyz; b=2".parse().expect("header"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }
}
