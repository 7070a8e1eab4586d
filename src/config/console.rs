//! `[console]`: the operator's web console served by the daemon (where it
//! listens, who may log in, how long a session lasts). Users are listed
//! with an argon2 hash of their password (a PHC string, as `dropgate
//! console hash-password` prints it), never the password itself.

use serde::Deserialize;
use toml::de::DeValue;

use super::doc::Table;
use super::{ConfigError, Source};

/// Where the console listens when `listen` is not said.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8490";

/// The longest session taken, in hours (a month).
const MAX_SESSION_HOURS: u64 = 24 * 31;

/// The `[console]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// Where to listen, like `127.0.0.1:8490`.
    pub listen: String,
    /// Who may log in.
    pub users: Vec<ConsoleUser>,
    /// A session ends this many hours after the login.
    pub session_hours: u64,
    /// Where people open the console (for links sent elsewhere, such as
    /// e-mails): `public_url`, or `http://LISTEN/`.
    pub public_url: String,
}

/// A user of the console (`[[console.users]]`).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsoleUser {
    /// The name typed at the login, and written in the audit trail.
    pub name: String,
    /// The argon2 hash of the password, as a PHC string
    /// (`$argon2id$v=19$m=...,t=...,p=...$SALT$HASH`).
    pub password_hash: String,
}

impl std::fmt::Debug for ConsoleUser {
    // The hash is not a secret, but it is not printed either.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleUser")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The keys of `[console]` beside its users.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default = "default_listen")]
    listen: String,
    #[serde(default = "default_session_hours")]
    session_hours: u64,
    #[serde(default)]
    public_url: Option<String>,
}

fn default_listen() -> String {
    DEFAULT_LISTEN.to_string()
}

const fn default_session_hours() -> u64 {
    8
}

/// Whether `hash` is an argon2 hash written as a PHC string. Says why
/// not, never repeating the value (it may be a password written there by
/// mistake).
pub fn check_password_hash(hash: &str) -> Result<(), &'static str> {
    let plain = "is not an argon2 hash: write the PHC string `dropgate console hash-password` prints \
                 ($argon2id$v=19$...), never the password itself";
    let parsed = argon2::password_hash::phc::PasswordHash::new(hash).map_err(|_| plain)?;
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" if parsed.hash.is_some() && parsed.salt.is_some() => {
            Ok(())
        }
        _ => Err(plain),
    }
}

/// Reads `[console]`: errors (a bad address, a user without a proper
/// hash, two users of one name) and warnings (listening beyond this
/// machine) go where they are written.
pub(super) fn read(
    source: &Source,
    mut table: Table<'_>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<ConsoleConfig> {
    let at = table.at();
    let listen_at = table.key_at("listen").unwrap_or(at);
    let hours_at = table.key_at("session_hours").unwrap_or(at);
    let url_at = table.key_at("public_url").unwrap_or(at);
    let users_value = table.take("users");
    let mut users: Vec<ConsoleUser> = Vec::new();
    match users_value.map(|v| (v.span().start, v.into_inner())) {
        None => errors.push(source.error_at(
            at,
            "[console] no user: add a [[console.users]] with name and password_hash (dropgate console hash-password)",
        )),
        Some((_, DeValue::Array(items))) => {
            for item in items {
                let Ok(user_table) = source
                    .table(item, "[[console.users]]")
                    .map_err(|e| errors.push(e))
                else {
                    continue;
                };
                let name_at = user_table.key_at("name").unwrap_or(user_table.at());
                let hash_at = user_table.key_at("password_hash").unwrap_or(user_table.at());
                let Ok(user) = source
                    .value::<ConsoleUser>(user_table.into_value())
                    .map_err(|e| errors.push(e))
                else {
                    continue;
                };
                if user.name.trim().is_empty() || user.name.chars().any(char::is_control) {
                    errors.push(source.error_at(
                        name_at,
                        "[[console.users]] name: a name without control characters, not empty",
                    ));
                } else if users.iter().any(|u| u.name == user.name) {
                    errors.push(source.error_at(
                        name_at,
                        format!("[[console.users]] {:?} is listed twice", user.name),
                    ));
                }
                if let Err(e) = check_password_hash(&user.password_hash) {
                    errors.push(source.error_at(
                        hash_at,
                        format!("[[console.users]] {:?}: password_hash {e}", user.name),
                    ));
                }
                users.push(user);
            }
        }
        Some((users_at, _)) => errors.push(source.error_at(
            users_at,
            "[console] users: write each user as a [[console.users]] table",
        )),
    }
    let section: Section = source
        .value(table.into_value())
        .map_err(|e| errors.push(e))
        .ok()?;
    match section.listen.parse::<std::net::SocketAddr>() {
        Err(_) => errors.push(source.error_at(
            listen_at,
            format!(
                "[console] listen {:?}: an address and port, like \"{DEFAULT_LISTEN}\"",
                section.listen
            ),
        )),
        Ok(addr) if !addr.ip().is_loopback() => warnings.push(source.error_at(
            listen_at,
            format!(
                "[console] listen {:?} is reachable from other machines: the console speaks plain \
                 HTTP, so passwords and session cookies cross the network in clear; listen on \
                 127.0.0.1 behind a TLS proxy (and set public_url to its https:// address)",
                section.listen
            ),
        )),
        Ok(_) => {}
    }
    if section.session_hours == 0 || section.session_hours > MAX_SESSION_HOURS {
        errors.push(source.error_at(
            hours_at,
            format!("[console] session_hours: from 1 to {MAX_SESSION_HOURS}"),
        ));
    }
    let public_url = match section.public_url {
        Some(u) => {
            match url::Url::parse(&u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
                _ => errors.push(source.error_at(
                    url_at,
                    format!(
                        "[console] public_url {u:?}: an http:// or https:// address, like \"https://edi.example.com/\""
                    ),
                )),
            }
            u
        }
        None => format!("http://{}/", section.listen),
    };
    Some(ConsoleConfig {
        listen: section.listen,
        users,
        session_hours: section.session_hours,
        public_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> (Option<ConsoleConfig>, Vec<String>, Vec<String>) {
        let source = Source {
            path: "g.toml".into(),
            text: text.into(),
        };
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut doc = source.document(&mut errors);
        let table = doc
            .take("console")
            .and_then(|v| source.table(v, "[console]").ok());
        let config = table.and_then(|t| read(&source, t, &mut errors, &mut warnings));
        let said = |v: Vec<ConfigError>| v.iter().map(ToString::to_string).collect();
        (config, said(errors), said(warnings))
    }

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$mrh6dT7PvOx2HdH8Tpr0hPBeGrlfAV9ZqOX/IeHgP1s";

    #[test]
    fn defaults_and_a_user() {
        let (config, errors, warnings) = read_text(&format!(
            "[console]\n[[console.users]]\nname = \"ann\"\npassword_hash = \"{HASH}\"\n"
        ));
        assert!(errors.is_empty() && warnings.is_empty(), "{errors:?}");
        let config = config.expect("read");
        assert_eq!(config.listen, DEFAULT_LISTEN);
        assert_eq!(config.session_hours, 8);
        assert_eq!(config.public_url, "http://127.0.0.1:8490/");
        assert_eq!(config.users[0].name, "ann");
    }

    #[test]
    fn a_plain_password_is_refused_where_it_is_written() {
        let (_, errors, _) = read_text(
            "[console]\nlisten = \"127.0.0.1:9000\"\n\n[[console.users]]\nname = \"ann\"\npassword_hash = \"hunter2\"\n",
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "g.toml:6:1: [[console.users]] \"ann\": password_hash is not an argon2 hash"
            ),
            "{errors:?}"
        );
        assert!(!errors[0].contains("hunter2"), "{errors:?}");
    }

    #[test]
    fn the_network_is_a_warning_and_mistakes_are_errors() {
        let (_, errors, warnings) = read_text(&format!(
            "[console]\nlisten = \"0.0.0.0:8490\"\nsession_hours = 0\npublic_url = \"ftp://x\"\n[[console.users]]\nname = \"ann\"\npassword_hash = \"{HASH}\"\n[[console.users]]\nname = \"ann\"\npassword_hash = \"{HASH}\"\n"
        ));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("g.toml:2:1: [console] listen \"0.0.0.0:8490\" is reachable")
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("g.toml:3:1: [console] session_hours")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("g.toml:4:1: [console] public_url")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("g.toml:9:1: [[console.users]] \"ann\" is listed twice")),
            "{errors:?}"
        );
    }

    #[test]
    fn no_user_is_an_error() {
        let (_, errors, _) = read_text("[console]\n");
        assert!(errors[0].contains("no user"), "{errors:?}");
    }
}
