//! The gateway on a vendor's SFTP server (a private OpenSSH sshd on
//! 127.0.0.1): files are picked up from the vendor's folder and moved into
//! `processed/` there, their documents relayed, and the 997s uploaded back
//! into the vendor's outbound folder without a partial file; a changed host
//! key stops the channel, says why, and touches nothing.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::cli::{dropgate, names, root, text};
use support::sshd::Sshd;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A gateway whose Acme partner sends on, and receives from, the server,
/// logging in with the client key.
fn setup(sshd: &Sshd, known_hosts: &str) -> Result<tempfile::TempDir> {
    let login = format!(
        "user = \"root\"\nprivate_key = \"{}\"",
        sshd.client_key().display()
    );
    setup_with(sshd, known_hosts, &login)
}

/// The same, logging in as `login` (the channel's user and secret lines).
fn setup_with(sshd: &Sshd, known_hosts: &str, login: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(sshd.root().join("from-acme"))?;
    std::fs::create_dir_all(sshd.root().join("to-acme"))?;
    std::fs::create_dir_all(dir.path().join("partners"))?;
    let common = format!(
        "host = \"127.0.0.1\"\nport = {}\n{login}\nknown_hosts = \"{}\"\ntimeout_secs = 10",
        sshd.port(),
        known_hosts
    );
    std::fs::write(
        dir.path().join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
poll_interval_secs = 1

[channel.acme-sftp]
type = "sftp"
{common}
path = "from-acme"
min_age_secs = 0

[channel.acme-out]
type = "sftp"
{common}
path = "to-acme"

[relay]
type = "file"
path = "relay"
"#
        ),
    )?;
    std::fs::write(
        dir.path().join("partners/acme.toml"),
        r#"
[x12]
interchange_id = "ZZ:VENDORID"

[[inbound]]
channel = "acme-sftp"
patterns = ["*.edi"]

[outbound]
channel = "acme-out"
"#,
    )?;
    Ok(dir)
}

fn put(sshd: &Sshd, sample: &str, name: &str) -> Result {
    std::fs::copy(
        root().join(sample),
        sshd.root().join("from-acme").join(name),
    )?;
    Ok(())
}

#[test]
fn a_vendors_sftp_drop_is_picked_up_relayed_and_acknowledged() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    let gw = setup(&sshd, &sshd.known_hosts_line()?)?;
    let config = gw.path().join("gateway.toml");
    let config = config.to_string_lossy();
    let check = dropgate(&["check-config", "-c", &config]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    put(
        &sshd,
        "samples/x12/good/856-4010-pick-and-pack.edi",
        "asn.edi",
    )?;
    put(
        &sshd,
        "samples/x12/bad/810-4010-bad-date.edi",
        "invoice.edi",
    )?;

    let out = dropgate(&["run", "--once", "-c", &config]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file is quarantined: {stdout}{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("processed") && stdout.contains("asn.edi"),
        "{stdout}"
    );
    assert!(
        stdout.contains("quarantined") && stdout.contains("invoice.edi"),
        "{stdout}"
    );
    // Taken off the vendor's folder, kept on its side in processed/.
    assert!(names(&sshd.root().join("from-acme")).is_empty());
    assert_eq!(
        names(&sshd.root().join("from-acme/processed")),
        ["asn.edi", "invoice.edi"]
    );
    // Relayed here; acknowledged there, with no partial file left.
    assert_eq!(names(&gw.path().join("relay")), ["000001-asn.edi.jsonl"]);
    let acks = names(&sshd.root().join("to-acme"));
    assert_eq!(acks, ["acme-997-000000001.edi", "acme-997-000000002.edi"]);
    let rejecting = std::fs::read_to_string(sshd.root().join("to-acme/acme-997-000000002.edi"))?;
    assert!(rejecting.contains("AK5*R"), "{rejecting}");

    // The daemon: a file put on the server while it runs is picked up.
    let child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &config])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    put(&sshd, "samples/x12/good/846-5010.edi", "inventory.edi")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while names(&gw.path().join("relay")).len() < 2 {
        assert!(Instant::now() < deadline, "never relayed: {}", sshd.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    while names(&sshd.root().join("to-acme")).len() < 3 {
        assert!(Instant::now() < deadline, "never acknowledged");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status()?;
    let out = child.wait_with_output()?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    Ok(())
}

#[test]
fn a_changed_host_key_stops_the_channel_and_says_why() -> Result {
    let Some(mut sshd) = Sshd::start()? else {
        return Ok(());
    };
    let gw = setup(&sshd, &sshd.known_hosts_line()?)?;
    let config = gw.path().join("gateway.toml");
    let config = config.to_string_lossy();
    sshd.restart_with_new_host_key()?;
    put(
        &sshd,
        "samples/x12/good/856-4010-pick-and-pack.edi",
        "asn.edi",
    )?;
    let out = dropgate(&["run", "--once", "-c", &config]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("channel acme-sftp"), "{stdout}");
    assert!(
        stdout.contains("known_hosts"),
        "the message says the key does not match: {stdout}"
    );
    // Nothing was taken.
    assert_eq!(names(&sshd.root().join("from-acme")), ["asn.edi"]);
    assert!(names(&gw.path().join("relay")).is_empty());
    Ok(())
}

#[test]
fn a_killed_daemon_leaves_no_partial_file_on_the_server_and_loses_nothing() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    let gw = setup(&sshd, &sshd.known_hosts_line()?)?;
    let config = gw.path().join("gateway.toml");
    let config = config.to_string_lossy().into_owned();
    let sample = std::fs::read(root().join("samples/x12/good/856-4010-pick-and-pack.edi"))?;
    let count = 40;
    for i in 0..count {
        // A distinct shipment number in each file.
        let body =
            String::from_utf8_lossy(&sample).replacen("BSN*00*", &format!("BSN*00*{i:06}"), 1);
        std::fs::write(sshd.root().join(format!("from-acme/asn-{i:03}.edi")), body)?;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["run", "-c", &config])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    // Killed once acknowledgments have started to go up to the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = std::fs::read_dir(sshd.root().join("to-acme"))?.count();
        if up >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing was uploaded: {}",
            sshd.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill()?;
    let _ = child.wait();
    let at_kill = names(&sshd.root().join("to-acme")).len();
    assert!(
        at_kill < count,
        "the batch was over before the kill; nothing was tested"
    );
    let after = dropgate(&["run", "--once", "-c", &config]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}{}",
        text(&after.stdout),
        text(&after.stderr)
    );

    // Every input taken, processed once and relayed once.
    assert!(names(&sshd.root().join("from-acme")).is_empty());
    assert_eq!(names(&sshd.root().join("from-acme/processed")).len(), count);
    let relayed = names(&gw.path().join("relay"));
    assert_eq!(relayed.len(), count, "{relayed:?}");
    // One complete 997 per input on the server, and nothing partial.
    let everything: Vec<String> = std::fs::read_dir(sshd.root().join("to-acme"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        everything.iter().all(|n| !n.starts_with('.')),
        "a partial upload is left: {everything:?}"
    );
    assert_eq!(everything.len(), count, "{everything:?}");
    for name in &everything {
        let ack = std::fs::read_to_string(sshd.root().join("to-acme").join(name))?;
        assert!(
            ack.starts_with("ISA") && ack.trim_end().ends_with('~') && ack.contains("IEA*1*"),
            "{name}: {ack}"
        );
    }
    Ok(())
}

#[test]
fn a_password_from_the_environment_logs_in_and_is_never_shown() -> Result {
    let Some(mut sshd) = Sshd::start()? else {
        return Ok(());
    };
    let password = "Tr0ub4dor-and-3";
    sshd.enable_password_login("edi", password)?;
    let gw = setup_with(
        &sshd,
        &sshd.known_hosts_line()?,
        "user = \"edi\"\npassword_env = \"ACME_SFTP_PASSWORD\"",
    )?;
    let config = gw.path().join("gateway.toml");
    // Every file streamed from the server into the archive (and read from
    // there), not held in memory.
    let text_of_config = std::fs::read_to_string(&config)?;
    std::fs::write(
        &config,
        text_of_config.replace("[gateway]\n", "[gateway]\nstream_over_mb = 0\n"),
    )?;
    let config = config.to_string_lossy();
    put(
        &sshd,
        "samples/x12/good/856-4010-pick-and-pack.edi",
        "asn.edi",
    )?;
    let run = |secret: Option<&str>| -> Result<Output> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dropgate"));
        cmd.args(["run", "--once", "-c", &config])
            .env_remove("ACME_SFTP_PASSWORD");
        if let Some(secret) = secret {
            cmd.env("ACME_SFTP_PASSWORD", secret);
        }
        Ok(cmd.output()?)
    };

    let out = run(Some(password))?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("processed") && stdout.contains("asn.edi"),
        "{stdout}"
    );
    assert_eq!(names(&gw.path().join("relay")), ["000001-asn.edi.jsonl"]);
    assert_eq!(
        names(&sshd.root().join("to-acme")),
        ["acme-997-000000001.edi"]
    );
    // The archive copy is the file, byte for byte.
    let sample = std::fs::read(root().join("samples/x12/good/856-4010-pick-and-pack.edi"))?;
    let kept = names(&gw.path().join("var/archive"));
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::read(gw.path().join("var/archive").join(&kept[0]))?,
        sample
    );
    assert!(
        sshd.log().contains("Accepted password for edi"),
        "{}",
        sshd.log()
    );
    assert!(!stdout.contains(password) && !stderr.contains(password));

    // A wrong password is refused, said so, and not shown; a missing
    // variable is named.
    put(&sshd, "samples/x12/good/846-5010.edi", "inventory.edi")?;
    let wrong = "not-the-password-9";
    let out = run(Some(wrong))?;
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("the server refused the password from $ACME_SFTP_PASSWORD for user edi"),
        "{all}"
    );
    assert!(!all.contains(wrong), "{all}");
    // The variable not set: the configuration is refused before anything
    // is tried (as check-config refuses it), naming the variable.
    let out = run(None)?;
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("the environment variable ACME_SFTP_PASSWORD (password_env) is not set"),
        "{all}"
    );
    assert_eq!(
        names(&sshd.root().join("from-acme")),
        ["inventory.edi"],
        "left on the server until a login works"
    );
    Ok(())
}
