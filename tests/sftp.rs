//! The SFTP channel against a real OpenSSH sshd on 127.0.0.1 (started per
//! test by `support::sshd`): listing, stable files, download, move and
//! delete, upload under a temporary name, host key pinning, key and
//! password logins and their errors, reconnection after a restart.

mod support;

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use dropgate::transport::dir::After;
use dropgate::transport::sftp::{SftpChannel, SftpConfig};
use dropgate::transport::watch::Look;
use support::sshd::Sshd;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A channel on `path` (relative to the server's root) pinned by
/// `known_hosts` line, logging in with the client key.
fn config(sshd: &Sshd, path: &str) -> Result<SftpConfig> {
    Ok(SftpConfig {
        host: "127.0.0.1".into(),
        port: sshd.port(),
        user: "root".into(),
        private_key: Some(sshd.client_key()),
        password_env: None,
        password_file: None,
        known_hosts: Some(sshd.known_hosts_line()?),
        host_key_fingerprint: None,
        path: path.into(),
        patterns: vec!["*.edi".into()],
        min_age_secs: 0,
        after: After::Move,
        done_dir: None,
        timeout_secs: 10,
    })
}

/// Writes `bytes` as `path` with a modification time `age` ago.
fn write_aged(path: &Path, bytes: &[u8], age: Duration) -> Result {
    std::fs::write(path, bytes)?;
    let f = std::fs::File::options().write(true).open(path)?;
    f.set_modified(SystemTime::now() - age)?;
    Ok(())
}

const HOUR: Duration = Duration::from_secs(3600);

/// The names and sizes of the files a look found complete.
fn ready(look: &Look) -> Vec<(&str, u64)> {
    look.ready
        .iter()
        .map(|w| (w.name.as_str(), w.size))
        .collect()
}

fn names(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    names.sort();
    Ok(names)
}

#[tokio::test]
async fn lists_downloads_and_moves_away() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    let inbox = sshd.root().join("inbox");
    std::fs::create_dir(&inbox)?;
    write_aged(&inbox.join("b.edi"), b"ISA*bee", HOUR)?;
    write_aged(&inbox.join("a.edi"), b"ISA*a", HOUR)?;
    write_aged(&inbox.join(".c.edi.part"), b"hidden", HOUR)?;
    write_aged(&inbox.join("d.txt"), b"other pattern", HOUR)?;
    std::fs::create_dir(inbox.join("sub.edi"))?;

    let mut ch = SftpChannel::new("acme", config(&sshd, "inbox")?);
    assert_eq!(ch.name(), "acme");
    let waiting = ch.poll().await?;
    assert_eq!(ready(&waiting), [("a.edi", 5), ("b.edi", 7)]);
    // Skipped, and said why: a name being written, a folder.
    assert_eq!(
        waiting
            .skipped
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [".c.edi.part", "sub.edi"]
    );
    assert_eq!(
        waiting.ready[0]
            .modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok()),
        std::fs::metadata(inbox.join("a.edi"))?
            .modified()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(|d| Duration::from_secs(d.as_secs())),
        "the time the server says, in seconds"
    );
    assert!(ch.still(&waiting.ready[0]).await?);
    assert_eq!(ch.read("a.edi").await?, b"ISA*a");
    assert_eq!(ch.read("b.edi").await?, b"ISA*bee");
    ch.done("a.edi").await?;
    assert_eq!(std::fs::read(inbox.join("processed/a.edi"))?, b"ISA*a");
    assert!(!inbox.join("a.edi").exists());

    // A second a.edi does not replace the first in processed/.
    write_aged(&inbox.join("a.edi"), b"ISA*second", HOUR)?;
    let waiting = ch.poll().await?;
    assert_eq!(ready(&waiting), [("a.edi", 10), ("b.edi", 7)]);
    assert!(
        waiting.skipped.is_empty(),
        "said once: {:?}",
        waiting.skipped
    );
    ch.done("a.edi").await?;
    assert_eq!(std::fs::read(inbox.join("processed/a.edi"))?, b"ISA*a");
    assert_eq!(
        std::fs::read(inbox.join("processed/a.edi.2"))?,
        b"ISA*second"
    );

    // Names outside the folder are refused; a missing file is an error.
    assert!(ch.read("../inbox/b.edi").await.is_err());
    assert!(ch.done(".c.edi.part").await.is_err());
    let e = ch
        .read("gone.edi")
        .await
        .err()
        .ok_or("read a missing file")?;
    assert_eq!(e.source.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("inbox/gone.edi"), "{e}");
    let e = ch
        .done("gone.edi")
        .await
        .err()
        .ok_or("moved a missing file")?;
    assert_eq!(e.source.kind(), ErrorKind::NotFound, "{e}");

    assert_eq!(
        names(&inbox)?,
        [".c.edi.part", "b.edi", "d.txt", "processed", "sub.edi"]
    );
    ch.close().await;
    Ok(())
}

#[tokio::test]
async fn done_dir_is_created_with_its_parents() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    std::fs::create_dir(sshd.root().join("in"))?;
    write_aged(&sshd.root().join("in/x.edi"), b"x", HOUR)?;
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            done_dir: Some("archive/2026/11".into()),
            ..config(&sshd, "in")?
        },
    );
    assert_eq!(ch.poll().await?.ready.len(), 1);
    ch.done("x.edi").await?;
    assert_eq!(
        std::fs::read(sshd.root().join("archive/2026/11/x.edi"))?,
        b"x"
    );
    assert!(ch.poll().await?.ready.is_empty());
    Ok(())
}

#[tokio::test]
async fn takes_only_stable_files() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    let inbox = sshd.root().join("inbox");
    std::fs::create_dir(&inbox)?;
    // Two seconds of minimum age: a file must be that old and be seen
    // unchanged by looks two seconds apart, however old its time says it
    // is (a client may set an old time before the upload ends).
    std::fs::write(inbox.join("growing.edi"), b"ISA")?;
    write_aged(&inbox.join("touched.edi"), b"same", Duration::from_secs(30))?;
    write_aged(&inbox.join("old.edi"), b"old", 2 * HOUR)?;
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            min_age_secs: 2,
            ..config(&sshd, "inbox")?
        },
    );
    let first = ch.poll().await?;
    assert!(first.ready.is_empty(), "just seen: {:?}", first.ready);
    assert!(ch.settling().is_some_and(|s| s <= Duration::from_secs(2)));

    // Between the looks: one grows, one gets a new time at the same size.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    std::fs::write(inbox.join("growing.edi"), b"ISA*00*")?;
    write_aged(&inbox.join("touched.edi"), b"same", Duration::from_secs(10))?;
    assert!(ch.poll().await?.ready.is_empty(), "looks one second apart");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        ready(&ch.poll().await?),
        [("old.edi", 3)],
        "files that changed since the first look are watched again"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let last = ch.poll().await?;
    assert_eq!(
        ready(&last),
        [("growing.edi", 7), ("old.edi", 3), ("touched.edi", 4)]
    );
    // Copied, then changed before it was recorded: not as listed.
    std::fs::write(inbox.join("growing.edi"), b"ISA*00*more")?;
    assert!(!ch.still(&last.ready[0]).await?);
    Ok(())
}

#[tokio::test]
async fn delete_mode_deletes() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    let inbox = sshd.root().join("inbox");
    std::fs::create_dir(&inbox)?;
    write_aged(&inbox.join("a.edi"), b"a", HOUR)?;
    write_aged(&inbox.join("b.edi"), b"b", HOUR)?;
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            after: After::Delete,
            min_age_secs: 0,
            ..config(&sshd, "inbox")?
        },
    );
    assert_eq!(ch.poll().await?.ready.len(), 2);
    ch.done("a.edi").await?;
    assert_eq!(names(&inbox)?, ["b.edi"], "deleted, nothing moved");
    let left = ch.poll().await?;
    assert_eq!(ready(&left), [("b.edi", 1)]);
    Ok(())
}

#[tokio::test]
async fn delivers_under_a_temporary_name_and_never_overwrites() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    let outbox = sshd.root().join("outbox");
    std::fs::create_dir(&outbox)?;
    let mut ch = SftpChannel::new("acme-out", config(&sshd, "outbox")?);

    // Big enough for many SFTP write requests, and for the spy below to
    // watch the upload: the final name never holds a partial file.
    let big: Vec<u8> = (0..8_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let spy = {
        let (outbox, stop) = (outbox.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for e in std::fs::read_dir(&outbox).into_iter().flatten().flatten() {
                    let len = e.metadata().map_or(0, |m| m.len());
                    seen.push((e.file_name().to_string_lossy().into_owned(), len));
                }
            }
            seen
        })
    };
    ch.deliver("850-1.edi", &big).await?;
    stop.store(true, Ordering::Relaxed);
    let seen = spy.join().map_err(|_| "the spy panicked")?;
    assert_eq!(std::fs::read(outbox.join("850-1.edi"))?, big);
    let full = big.len() as u64;
    assert!(
        seen.iter()
            .any(|(name, len)| name == ".850-1.edi.part" && *len < full),
        "the upload went to the temporary name"
    );
    assert!(
        seen.iter()
            .all(|(name, len)| name == ".850-1.edi.part" || (name == "850-1.edi" && *len == full)),
        "only the temporary name grows, the final one appears complete"
    );

    // The same name again fails and leaves the first file as it was.
    let e = ch
        .deliver("850-1.edi", b"other")
        .await
        .err()
        .ok_or("overwrote a delivered file")?;
    assert_eq!(e.source.kind(), ErrorKind::AlreadyExists, "{e}");
    assert!(e.to_string().contains("outbox/850-1.edi"), "{e}");
    assert_eq!(std::fs::read(outbox.join("850-1.edi"))?, big);

    // A stale temporary file of an earlier attempt is replaced.
    std::fs::write(outbox.join(".997-7.edi.part"), b"stale and longer")?;
    ch.deliver("997-7.edi", b"ack").await?;
    assert_eq!(std::fs::read(outbox.join("997-7.edi"))?, b"ack");

    for bad in ["../escape.edi", ".hidden", "", "a/b"] {
        assert!(ch.deliver(bad, b"x").await.is_err(), "{bad:?} accepted");
    }
    assert_eq!(
        names(&outbox)?,
        ["850-1.edi", "997-7.edi"],
        "no temporary file is left"
    );
    assert!(!sshd.root().join("escape.edi").exists());

    // A folder that is not there is an error, not created.
    let mut missing = SftpChannel::new("acme-out", config(&sshd, "nowhere")?);
    let e = missing
        .deliver("x.edi", b"x")
        .await
        .err()
        .ok_or("delivered into a missing folder")?;
    assert_eq!(e.source.kind(), ErrorKind::NotFound, "{e}");
    assert!(!sshd.root().join("nowhere").exists());
    Ok(())
}

#[tokio::test]
async fn a_changed_host_key_is_refused() -> Result {
    let Some(mut sshd) = Sshd::start()? else {
        return Ok(());
    };
    std::fs::create_dir(sshd.root().join("inbox"))?;
    let old_fingerprint = sshd.fingerprint()?;
    let mut by_line = SftpChannel::new("by-line", config(&sshd, "inbox")?);
    let mut by_fingerprint = SftpChannel::new(
        "by-fp",
        SftpConfig {
            known_hosts: None,
            host_key_fingerprint: Some(old_fingerprint.clone()),
            ..config(&sshd, "inbox")?
        },
    );
    by_line.poll().await?;
    by_fingerprint.poll().await?;

    sshd.restart_with_new_host_key()?;
    let new_fingerprint = sshd.fingerprint()?;
    assert_ne!(new_fingerprint, old_fingerprint);
    for _ in 0..2 {
        let e = by_line
            .poll()
            .await
            .err()
            .ok_or("connected to a changed host key")?;
        let message = e.to_string();
        assert_eq!(e.source.kind(), ErrorKind::PermissionDenied, "{message}");
        assert!(
            message.contains(&format!(
                "host key of 127.0.0.1:{} (ssh-ed25519 {new_fingerprint}) does not match the known_hosts line (ssh-ed25519 {old_fingerprint})",
                sshd.port()
            )),
            "{message}"
        );
        assert!(message.starts_with("channel by-line: connecting to root@127.0.0.1:"));

        let e = by_fingerprint
            .poll()
            .await
            .err()
            .ok_or("connected to a changed host key")?;
        let message = e.to_string();
        assert!(
            message.contains(&format!(
                "refused to connect: host key of 127.0.0.1:{} is {new_fingerprint}, not the pinned {old_fingerprint}",
                sshd.port()
            )),
            "{message}"
        );
    }

    // A known_hosts line of another key altogether.
    let stranger = sshd.stranger_key()?;
    let other = std::fs::read_to_string(stranger.with_extension("pub"))?;
    let other: Vec<&str> = other.split_whitespace().take(2).collect();
    let mut ch = SftpChannel::new(
        "other",
        SftpConfig {
            known_hosts: Some(format!("[127.0.0.1]:{} {}", sshd.port(), other.join(" "))),
            ..config(&sshd, "inbox")?
        },
    );
    let e = ch.poll().await.err().ok_or("connected to an unknown key")?;
    assert!(
        e.to_string()
            .contains("does not match the known_hosts line"),
        "{e}"
    );

    // The new key, pinned both ways, is accepted.
    let mut ch = SftpChannel::new(
        "new",
        SftpConfig {
            host_key_fingerprint: Some(new_fingerprint),
            ..config(&sshd, "inbox")?
        },
    );
    assert!(ch.poll().await?.ready.is_empty());
    Ok(())
}

#[tokio::test]
async fn rsa_client_keys_log_in() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    std::fs::create_dir(sshd.root().join("inbox"))?;
    write_aged(&sshd.root().join("inbox/r.edi"), b"rsa", HOUR)?;
    let key = sshd.add_rsa_client_key()?;
    let mut ch = SftpChannel::new(
        "rsa",
        SftpConfig {
            private_key: Some(key),
            ..config(&sshd, "inbox")?
        },
    );
    assert_eq!(ch.poll().await?.ready.len(), 1);
    assert_eq!(ch.read("r.edi").await?, b"rsa");
    assert!(sshd.log().contains("Accepted publickey for root"));
    assert!(sshd.log().contains(": RSA SHA256:"), "{}", sshd.log());
    Ok(())
}

#[tokio::test]
async fn the_pinned_one_of_several_host_keys_is_asked_for() -> Result {
    let Some(mut sshd) = Sshd::start()? else {
        return Ok(());
    };
    std::fs::create_dir(sshd.root().join("inbox"))?;
    let rsa_line = sshd.add_rsa_host_key()?;
    assert!(rsa_line.contains(" ssh-rsa "), "{rsa_line}");
    // The server offers ed25519 first; pinned by its RSA line, the
    // channel asks for and checks the RSA key.
    let mut ch = SftpChannel::new(
        "rsa-host",
        SftpConfig {
            known_hosts: Some(rsa_line),
            ..config(&sshd, "inbox")?
        },
    );
    assert!(ch.poll().await?.ready.is_empty());
    let mut ch = SftpChannel::new("ed25519-host", config(&sshd, "inbox")?);
    assert!(ch.poll().await?.ready.is_empty());
    Ok(())
}

#[tokio::test]
async fn login_problems_are_clear_and_keep_secrets() -> Result {
    let Some(sshd) = Sshd::start()? else {
        return Ok(());
    };
    std::fs::create_dir(sshd.root().join("inbox"))?;
    let message = |r: std::result::Result<Look, _>| -> Result<String> {
        let e: dropgate::transport::TransportError = r.err().ok_or("logged in")?;
        Ok(e.to_string())
    };

    // No way to log in at all: a configuration error, before any network.
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            private_key: None,
            ..config(&sshd, "inbox")?
        },
    );
    let m = message(ch.poll().await)?;
    assert!(
        m.contains("no way to log in: set private_key, password_env or password_file"),
        "{m}"
    );

    // Nothing pinned: refused before connecting.
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            known_hosts: None,
            ..config(&sshd, "inbox")?
        },
    );
    let m = message(ch.poll().await)?;
    assert!(m.contains("host key is not pinned"), "{m}");

    // A password variable that is not set.
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            private_key: None,
            password_env: Some("DROPGATE_TEST_NEVER_SET_4711".into()),
            ..config(&sshd, "inbox")?
        },
    );
    let m = message(ch.poll().await)?;
    assert!(
        m.contains(
            "the environment variable DROPGATE_TEST_NEVER_SET_4711 (password_env) is not set"
        ),
        "{m}"
    );

    // The server takes keys only: a password from the environment is
    // tried, refused, and not shown. (The tests cannot set variables: the
    // crate forbids unsafe code, and set_var is unsafe; PATH is one that
    // is always set.)
    let path_value = std::env::var("PATH")?;
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            private_key: None,
            password_env: Some("PATH".into()),
            ..config(&sshd, "inbox")?
        },
    );
    let e = ch.poll().await.err().ok_or("logged in with a password")?;
    let m = e.to_string();
    assert_eq!(e.source.kind(), ErrorKind::PermissionDenied, "{m}");
    assert!(
        m.contains("the server refused the password from $PATH for user root"),
        "{m}"
    );
    assert!(!m.contains(&path_value), "{m}");
    assert!(!format!("{e:?}").contains(&path_value));

    // The same from a file.
    let secret = "s3cret-Pa55word";
    let file = sshd.root().join("../password");
    std::fs::write(&file, format!("{secret}\n"))?;
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            private_key: None,
            password_file: Some(file.clone()),
            ..config(&sshd, "inbox")?
        },
    );
    let e = ch.poll().await.err().ok_or("logged in with a password")?;
    let m = e.to_string();
    assert!(
        m.contains("the server refused the password from password_file for user root"),
        "{m}"
    );
    assert!(!m.contains(secret) && !format!("{e:?}").contains(secret));
    assert!(!sshd.log().contains(secret));

    // A key the server does not know.
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            private_key: Some(sshd.stranger_key()?),
            ..config(&sshd, "inbox")?
        },
    );
    let m = message(ch.poll().await)?;
    assert!(m.contains("the server refused the key"), "{m}");
    assert!(m.contains("stranger_ed25519 for user root"), "{m}");

    // A key file that is not there.
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            private_key: Some(sshd.root().join("../no-such-key")),
            ..config(&sshd, "inbox")?
        },
    );
    let m = message(ch.poll().await)?;
    assert!(
        m.contains("private_key ") && m.contains("no-such-key"),
        "{m}"
    );

    // Nothing listening: a connection error naming the target.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = closed.local_addr()?.port();
    drop(closed);
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            port,
            known_hosts: Some(
                sshd.known_hosts_line()?
                    .replace(&format!(":{} ", sshd.port()), &format!(":{port} ")),
            ),
            ..config(&sshd, "inbox")?
        },
    );
    let e = ch.poll().await.err().ok_or("connected to nothing")?;
    assert_eq!(e.source.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(
        e.to_string()
            .contains(&format!("connecting to root@127.0.0.1:{port}")),
        "{e}"
    );
    Ok(())
}

#[tokio::test]
async fn reconnects_after_the_server_restarts() -> Result {
    let Some(mut sshd) = Sshd::start()? else {
        return Ok(());
    };
    let inbox = sshd.root().join("inbox");
    std::fs::create_dir(&inbox)?;
    write_aged(&inbox.join("1.edi"), b"one", HOUR)?;
    let mut ch = SftpChannel::new("acme", config(&sshd, "inbox")?);
    assert_eq!(ch.poll().await?.ready.len(), 1);
    assert_eq!(ch.read("1.edi").await?, b"one");
    let logins = |sshd: &Sshd| sshd.log().matches("Accepted publickey").count();
    assert_eq!(logins(&sshd), 1, "one session for all of that");

    // Every operation finds the session dead and opens another.
    sshd.restart()?;
    ch.done("1.edi").await?;
    assert!(inbox.join("processed/1.edi").is_file());
    assert_eq!(logins(&sshd), 2);

    sshd.restart()?;
    write_aged(&inbox.join("2.edi"), b"two", HOUR)?;
    let waiting = ch.poll().await?;
    assert_eq!(
        waiting
            .ready
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>(),
        ["2.edi"]
    );
    sshd.restart()?;
    assert_eq!(ch.read("2.edi").await?, b"two");

    std::fs::create_dir(sshd.root().join("outbox"))?;
    sshd.restart()?;
    let mut out = SftpChannel::new("acme-out", config(&sshd, "outbox")?);
    out.deliver("a.edi", b"a").await?;
    sshd.restart()?;
    out.deliver("b.edi", b"b").await?;
    assert_eq!(names(&sshd.root().join("outbox"))?, ["a.edi", "b.edi"]);

    // While the server is down, a clear error; back up, back to work.
    sshd.stop();
    let e = ch.poll().await.err().ok_or("listed with the server down")?;
    assert!(
        e.to_string().contains("connecting to root@127.0.0.1"),
        "{e}"
    );
    sshd.restart()?;
    assert_eq!(ch.poll().await?.ready.len(), 1);
    ch.close().await;
    out.close().await;
    Ok(())
}

#[tokio::test]
async fn logs_in_with_a_password_from_a_file() -> Result {
    let Some(mut sshd) = Sshd::start()? else {
        return Ok(());
    };
    sshd.enable_password_login("edi", "c0rrect-h0rse")?;
    let inbox = sshd.root().join("inbox");
    std::fs::create_dir(&inbox)?;
    write_aged(&inbox.join("a.edi"), b"ISA*a", HOUR)?;
    let file = sshd.root().join("../edi-password");
    std::fs::write(&file, "c0rrect-h0rse\n")?;
    let mut ch = SftpChannel::new(
        "acme",
        SftpConfig {
            user: "edi".into(),
            private_key: None,
            password_file: Some(file),
            ..config(&sshd, "inbox")?
        },
    );
    let waiting = ch.poll().await?;
    assert_eq!(waiting.ready.len(), 1);
    assert_eq!(ch.read("a.edi").await?, b"ISA*a");
    assert!(
        sshd.log().contains("Accepted password for edi"),
        "{}",
        sshd.log()
    );
    Ok(())
}
