//! What a test does when the server it needs cannot be started because
//! its program is not installed: with `CI` set (to anything but empty,
//! `0` or `false`; CI services set `CI=true`) the test fails, naming the
//! server and why, so that a broken `scripts/setup.sh` cannot go
//! unnoticed; without it, a `SKIPPED` line goes straight to the terminal
//! (the test harness would swallow `eprintln!` of a passing test) and the
//! starter gives `None`, on which the test returns early.
//!
//! A server that is installed but does not start is an error in either
//! case (each starter returns it, with the server's log).

use std::ffi::OsStr;
use std::io::Write;

/// Whether a value of `CI` means a CI run.
pub fn ci_from(value: Option<&OsStr>) -> bool {
    value
        .and_then(OsStr::to_str)
        .map(|v| v.trim())
        .is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Whether this is a CI run.
pub fn ci() -> bool {
    ci_from(std::env::var_os("CI").as_deref())
}

/// A server the test needs is not installed (`why` says where it was
/// looked for): panics under CI, otherwise prints the skip and gives
/// `None` for the starter to return.
pub fn unavailable<T>(server: &str, why: &str) -> Option<T> {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let test = format!("{}::{test}", env!("CARGO_CRATE_NAME"));
    if ci() {
        panic!(
            "{test} needs {server}, which cannot be started: {why}. \
             CI is set, so this fails the test; scripts/setup.sh installs it"
        );
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n*** SKIPPED {test}: {server} cannot be started: {why}. \
         scripts/setup.sh installs it; with CI=true this fails the test. ***\n"
    );
    None
}
