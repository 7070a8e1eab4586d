//! What a test does when its server cannot be started: with `CI` set it
//! fails, naming the server and why; without, it is skipped with a line
//! on the terminal that the test harness does not swallow. Each starter of
//! `tests/support` (sshd, Dovecot, aiosmtpd, s3s-fs) is run in a child test process
//! with its program pointed at a file that does not exist.

mod support;

use std::process::{Command, Output};

use support::dovecot::Dovecot;
use support::proc::listening;
use support::s3::S3;
use support::skip::ci_from;
use support::smtp::{Options, SmtpServer};
use support::sshd::Sshd;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A path that is no program.
const MISSING: &str = "/nonexistent/dropgate-test-no-such-program";

/// The probes, each with the variable that names its server's program and
/// the server's name as the starter gives it.
const PROBES: &[(&str, &str, &str)] = &[
    ("probe_sshd", "DROPGATE_TEST_SSHD", "sshd"),
    ("probe_dovecot", "DROPGATE_TEST_DOVECOT", "dovecot"),
    ("probe_aiosmtpd", "DROPGATE_TEST_PYTHON", "aiosmtpd"),
    ("probe_s3s_fs", "DROPGATE_TEST_S3S_FS", "s3s-fs"),
];

#[test]
#[ignore = "a probe, run by the tests below in a child process"]
fn probe_sshd() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    assert!(listening(sshd.port()));
    Ok(())
}

#[test]
#[ignore = "a probe, run by the tests below in a child process"]
fn probe_dovecot() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    assert!(listening(dovecot.imap_port()));
    Ok(())
}

#[test]
#[ignore = "a probe, run by the tests below in a child process"]
fn probe_aiosmtpd() -> Result {
    let Some(server) = SmtpServer::start(Options::default())? else {
        return Ok(());
    };
    assert!(listening(server.port()));
    Ok(())
}

#[test]
#[ignore = "a probe, run by the tests below in a child process"]
fn probe_s3s_fs() -> Result {
    let Some(server) = S3::start()? else {
        return Ok(());
    };
    assert!(listening(server.port()));
    Ok(())
}

/// Runs one probe of this test binary with its server's program missing,
/// with `CI` as given (or unset).
fn run_probe(probe: &str, var: &str, ci: Option<&str>) -> Result<Output> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--ignored", "--exact", probe, "--test-threads=1"])
        .env(var, MISSING);
    match ci {
        Some(value) => cmd.env("CI", value),
        None => cmd.env_remove("CI"),
    };
    Ok(cmd.output()?)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_server_that_cannot_be_started_fails_the_test_under_ci() -> Result {
    for (probe, var, server) in PROBES {
        let out = run_probe(probe, var, Some("true"))?;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{probe} passed:\n{stdout}{stderr}");
        assert!(stdout.contains("1 failed"), "{probe}:\n{stdout}{stderr}");
        // The failure names the server and what is missing.
        assert!(stdout.contains(server), "{probe}:\n{stdout}");
        assert!(
            stdout.contains(&format!("{var}={MISSING}")),
            "{probe}:\n{stdout}"
        );
    }
    Ok(())
}

#[test]
fn without_ci_a_server_that_cannot_be_started_is_skipped_loudly() -> Result {
    for (probe, var, server) in PROBES {
        let out = run_probe(probe, var, None)?;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{probe} failed:\n{stdout}{stderr}");
        assert!(stdout.contains("1 passed"), "{probe}:\n{stdout}{stderr}");
        // The skip is on stderr although the test passed (the harness
        // shows a passing test's own output only with --nocapture).
        let line = stderr
            .lines()
            .find(|l| l.contains("SKIPPED"))
            .unwrap_or_else(|| panic!("{probe}: no SKIPPED line in:\n{stderr}"));
        assert!(line.contains(&format!("servers::{probe}")), "{line}");
        assert!(line.contains(server), "{line}");
        assert!(line.contains(&format!("{var}={MISSING}")), "{line}");
        assert!(line.contains("CI"), "{line}");
    }
    Ok(())
}

#[test]
fn ci_is_any_value_but_empty_0_or_false() {
    for set in ["true", "1", "yes", "TRUE"] {
        assert!(ci_from(Some(set.as_ref())), "{set}");
    }
    for unset in ["", "0", "false", "False"] {
        assert!(!ci_from(Some(unset.as_ref())), "{unset:?}");
    }
    assert!(!ci_from(None));
}
