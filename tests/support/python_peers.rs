//! The independent NetSuite peers of the tests: the Python of the
//! virtualenv that `scripts/setup.sh` makes (scripts/lib/netsuite-peers.sh)
//! with the PyPI `netsuite` client, authlib, oauthlib, PyJWT and
//! cryptography, and a way to run a script in it with JSON in and out.
//!
//! The virtualenv is `DROPGATE_TEST_NETSUITE_PEERS` when that is set,
//! else `${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/netsuite-peers-venv`.
//! When its Python is missing, [`python`] fails the test under `CI` and
//! otherwise prints a skip and gives `None` (see `skip`).

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::skip::unavailable;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Where a virtualenv of scripts/lib is said to be: `$variable` when it
/// is set, else `name` in the tools cache.
fn venv_at(variable: &str, name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(variable).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("dropgate-tools").join(name)
}

/// Where the NetSuite peers' virtualenv is said to be.
fn venv() -> PathBuf {
    venv_at("DROPGATE_TEST_NETSUITE_PEERS", "netsuite-peers-venv")
}

/// The Python of the AS2 peer's virtualenv (pyas2lib,
/// scripts/lib/as2-peers.sh; `DROPGATE_TEST_AS2_PEERS` when set), or
/// `None` (after the skip message) when it is not there.
pub fn as2_python() -> Option<PathBuf> {
    let python = venv_at("DROPGATE_TEST_AS2_PEERS", "as2-peers-venv").join("bin/python");
    if python.is_file() {
        Some(python)
    } else {
        unavailable(
            "the AS2 peer (Python with pyas2lib)",
            &format!("{} is not there", python.display()),
        )
    }
}

/// The virtualenv's Python, or `None` (after the skip message) when it
/// is not there.
pub fn python() -> Option<PathBuf> {
    let python = venv().join("bin/python");
    if python.is_file() {
        Some(python)
    } else {
        unavailable(
            "the NetSuite peers (Python with netsuite, oauthlib, PyJWT)",
            &format!("{} is not there", python.display()),
        )
    }
}

/// Runs `script` with `python`, `input` as JSON on its standard input,
/// and reads its standard output as JSON. A failing script is an error
/// with its standard error.
pub fn run(python: &Path, script: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin.write_all(input.to_string().as_bytes())?;
    drop(stdin);
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!(
            "the Python peer failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
