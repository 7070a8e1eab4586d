//! The secrets of channels (passwords): read from an environment variable
//! or a file when they are needed, never kept in the configuration, and
//! never put in a message (errors say where a secret comes from, not what
//! it is).

use std::io;
use std::path::Path;

/// Checks how a secret is configured: at most one source, and a variable
/// name that is not empty. (Whether a secret is needed at all is the
/// channel's to say.)
pub fn check_sources(env: Option<&str>, file: Option<&Path>) -> Result<(), String> {
    if env.is_some() && file.is_some() {
        return Err("password_env and password_file are both set; keep one".into());
    }
    if env == Some("") {
        return Err("password_env is empty; it names an environment variable".into());
    }
    Ok(())
}

/// Whether the secret can be read where it is said to be (its variable
/// set, its file readable and not empty): what `check-config` asks, so
/// that a login that cannot work is found before the first connection.
/// The message says where the secret was looked for, never what it is.
pub fn check_readable(env: Option<&str>, file: Option<&Path>) -> Result<(), String> {
    read(env, file).map(|_| ()).map_err(|e| e.to_string())
}

/// The secret named by `env` (an environment variable) or held in `file`
/// (white space around it ignored); `None` when neither is set.
pub fn read(env: Option<&str>, file: Option<&Path>) -> Result<Option<String>, io::Error> {
    read_as(("password_env", "password_file"), env, file)
}

/// [`read`] for a secret configured under other keys (`keys`: the names
/// of the variable's key and of the file's, for messages).
pub fn read_as(
    keys: (&str, &str),
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<String>, io::Error> {
    let (env_key, file_key) = keys;
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(p) => Ok(Some(p)),
            Err(std::env::VarError::NotPresent) => Err(invalid(format!(
                "the environment variable {var} ({env_key}) is not set"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(invalid(format!(
                "the environment variable {var} ({env_key}) is not UTF-8"
            ))),
        };
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("reading {file_key} {}: {e}", path.display()),
            )
        })?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(invalid(format!("{file_key} {} is empty", path.display())));
        }
        return Ok(Some(secret.to_string()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_says_where_without_the_secret() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("pw");
        std::fs::write(&file, "  s3cret \n")?;
        assert_eq!(read(None, Some(&file))?, Some("s3cret".to_string()));
        std::fs::write(&file, " \n")?;
        let e = read(None, Some(&file)).expect_err("empty");
        assert!(e.to_string().contains("is empty"));
        let e = read(Some("DROPGATE_SURELY_UNSET_VARIABLE"), None).expect_err("unset");
        assert!(e.to_string().contains("is not set"));
        assert_eq!(read(None, None)?, None);
        // PATH is always set: the value comes back, and only from the
        // variable named.
        assert!(read(Some("PATH"), Some(&file))?.is_some_and(|p| !p.is_empty()));
        Ok(())
    }
}
