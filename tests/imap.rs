//! The IMAP channel against a real Dovecot on 127.0.0.1 (started per test
//! by `support::dovecot`): attachments listed and read byte-exact over
//! implicit TLS with a test CA, nothing marked by polling, `\Seen` or a
//! move only once every attachment of a message is done, sender, name and
//! type filters, certificate and login errors, reconnection after a
//! restart, unreadable messages surfaced whole.

mod support;

use std::io::ErrorKind;

use dropgate::transport::imap::{ImapChannel, ImapConfig, MailAfter, Tls};
use dropgate::transport::{TransportError, Waiting};
use sha2::{Digest, Sha256};
use support::dovecot::{self, Dovecot, Part};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const ACME: &str = "orders@acme.example";

/// A channel on the INBOX over implicit TLS, trusting the test CA, taking
/// PDF and CSV attachments from acme.example.
fn config(dovecot: &Dovecot) -> ImapConfig {
    ImapConfig {
        host: "127.0.0.1".into(),
        port: dovecot.imaps_port(),
        tls: Tls::Implicit,
        ca_file: Some(dovecot.ca_file()),
        user: dovecot::USER.into(),
        password_env: None,
        password_file: Some(dovecot.password_file()),
        mailbox: "INBOX".into(),
        senders: vec!["*@acme.example".into()],
        patterns: vec!["*.pdf".into(), "*.csv".into()],
        content_types: vec![],
        after: MailAfter::Seen,
        move_to: None,
        timeout_secs: 10,
    }
}

/// A CSV in Windows-1252 (é is the byte E9), CRLF line ends.
fn csv() -> Vec<u8> {
    b"sku;name;qty\r\nA-1;caf\xE9 cr\xE8me;12\r\nB-2;th\xE9;3\r\n".to_vec()
}

/// Bytes of every value, enough for several TLS records and IMAP reads.
fn big_pdf() -> Vec<u8> {
    let mut pdf = dovecot::tiny_pdf("Invoice 4711");
    pdf.extend((0..400_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    pdf
}

fn names(waiting: &[Waiting]) -> Vec<&str> {
    waiting.iter().map(|w| w.name.as_str()).collect()
}

/// The waiting name ending with `-{suffix}`.
fn named<'a>(waiting: &'a [Waiting], suffix: &str) -> Result<&'a Waiting> {
    let end = format!("-{suffix}");
    waiting
        .iter()
        .find(|w| w.name.ends_with(&end))
        .ok_or_else(|| format!("no {suffix} in {:?}", names(waiting)).into())
}

fn error_of<T: std::fmt::Debug>(
    r: std::result::Result<T, TransportError>,
) -> Result<TransportError> {
    match r {
        Ok(v) => Err(format!("succeeded: {v:?}").into()),
        Err(e) => Ok(e),
    }
}

#[tokio::test]
async fn lists_reads_and_marks_seen_only_when_all_is_done() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let pdf = big_pdf();
    let csv = csv();
    dovecot.deliver(&dovecot::message(
        ACME,
        "Invoice 4711",
        &[
            Part {
                name: "invoice-4711.pdf",
                content_type: "application/pdf",
                bytes: &pdf,
            },
            Part {
                name: "logo.png",
                content_type: "image/png",
                bytes: b"\x89PNG\r\n\x1a\n",
            },
            Part {
                name: "stock list.csv",
                content_type: "text/csv; charset=windows-1252",
                bytes: &csv,
            },
        ],
    ))?;

    let mut ch = ImapChannel::new("acme-mail", config(&dovecot));
    assert_eq!(ch.name(), "acme-mail");
    let waiting = ch.poll().await?;
    assert_eq!(waiting.len(), 2, "{:?}", names(&waiting));
    let pdf_item = named(&waiting, "1-invoice-4711.pdf")?.clone();
    let csv_item = named(&waiting, "3-stock_list.csv")?.clone();
    assert_eq!(
        waiting,
        vec![pdf_item.clone(), csv_item.clone()],
        "in order"
    );
    // <uidvalidity>-<uid>-<n>-<name>, both of the same message.
    let prefix = |n: &str| n.splitn(3, '-').take(2).collect::<Vec<_>>().join("-");
    assert_eq!(prefix(&pdf_item.name), prefix(&csv_item.name));
    assert!(
        pdf_item
            .name
            .split('-')
            .take(2)
            .all(|p| p.parse::<u32>().is_ok()),
        "{}",
        pdf_item.name
    );
    assert_eq!(pdf_item.size, pdf.len() as u64);
    assert_eq!(csv_item.size, csv.len() as u64);

    let read_pdf = ch.read(&pdf_item.name).await?;
    assert_eq!(Sha256::digest(&read_pdf), Sha256::digest(&pdf));
    assert_eq!(read_pdf.len(), pdf.len());
    let read_csv = ch.read(&csv_item.name).await?;
    assert_eq!(read_csv, csv, "Windows-1252 bytes, not converted");
    assert_eq!(ch.sender_of(&pdf_item.name).as_deref(), Some(ACME));
    assert_eq!(ch.sender_of("1-1-1-unknown.pdf"), None);

    // Polling and reading marked nothing: listed again, still unseen.
    assert!(!dovecot.message("INBOX", "Invoice 4711")?.seen);
    assert_eq!(ch.poll().await?, vec![pdf_item.clone(), csv_item.clone()]);
    assert!(!dovecot.message("INBOX", "Invoice 4711")?.seen);

    // One of two done: still unseen, both listed again.
    ch.done(&pdf_item.name).await?;
    assert!(!dovecot.message("INBOX", "Invoice 4711")?.seen);
    assert_eq!(ch.poll().await?, vec![pdf_item.clone(), csv_item.clone()]);
    // The other done too: seen, and no longer listed.
    ch.done(&csv_item.name).await?;
    let stored = dovecot.message("INBOX", "Invoice 4711")?;
    assert!(stored.seen, "{}", stored.file);
    assert!(ch.poll().await?.is_empty());
    assert_eq!(dovecot.mailbox("INBOX")?.len(), 1, "nothing moved");

    // Names that were never listed, or are not names of this channel.
    let e = error_of(ch.done(&pdf_item.name).await)?;
    assert_eq!(e.source.kind(), ErrorKind::NotFound, "{e}");
    let e = error_of(ch.read("../../etc/passwd").await)?;
    assert_eq!(e.source.kind(), ErrorKind::InvalidInput, "{e}");
    let (v, _) = pdf_item.name.split_once('-').ok_or("no uidvalidity")?;
    let e = error_of(ch.read(&format!("{v}-999-1-x.pdf")).await)?;
    assert_eq!(e.source.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        e.to_string().contains("UID 999 is no longer in INBOX"),
        "{e}"
    );
    let e = error_of(
        ch.read(&format!("{}-1-1-x.pdf", u64::from(v.parse::<u32>()?) + 1))
            .await,
    )?;
    assert!(e.to_string().contains("UIDVALIDITY"), "{e}");
    ch.close().await;
    assert_eq!(dovecot.logins(), 1, "one session for all of that");
    Ok(())
}

#[tokio::test]
async fn move_puts_the_message_in_the_archive() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let pdf = dovecot::tiny_pdf("Invoice 1");
    for subject in ["First", "Second"] {
        dovecot.deliver(&dovecot::message(
            ACME,
            subject,
            &[Part {
                name: "invoice.pdf",
                content_type: "application/pdf",
                bytes: &pdf,
            }],
        ))?;
    }
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            after: MailAfter::Move,
            move_to: Some("Archive/2026".into()),
            ..config(&dovecot)
        },
    );
    let waiting = ch.poll().await?;
    assert_eq!(waiting.len(), 2, "{:?}", names(&waiting));
    assert!(dovecot.mailbox("Archive/2026")?.is_empty());
    for (i, w) in waiting.iter().enumerate() {
        assert_eq!(ch.read(&w.name).await?, pdf);
        // The first move creates the mailbox, the second finds it.
        ch.done(&w.name).await?;
        assert_eq!(dovecot.mailbox("INBOX")?.len(), 1 - i);
        assert_eq!(dovecot.mailbox("Archive/2026")?.len(), i + 1);
    }
    for subject in ["First", "Second"] {
        let moved = dovecot.message("Archive/2026", subject)?;
        assert!(moved.seen, "moved and marked: {}", moved.file);
    }
    assert!(ch.poll().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn other_senders_names_and_types_are_left_alone() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let pdf = dovecot::tiny_pdf("x");
    let part = |name: &'static str, content_type: &'static str| Part {
        name,
        content_type,
        bytes: b"not really",
    };
    dovecot.deliver(&dovecot::message(
        "billing@acme.example.evil",
        "Stranger",
        &[part("invoice.pdf", "application/pdf")],
    ))?;
    dovecot.deliver(&dovecot::message(
        ACME,
        "Wrong name",
        &[part("notes.txt", "application/pdf")],
    ))?;
    dovecot.deliver(&dovecot::message(
        ACME,
        "Wrong type",
        &[part("scan.pdf", "application/octet-stream")],
    ))?;
    dovecot.deliver(
        format!("From: {ACME}\r\nTo: edi@gw.test\r\nSubject: No attachment\r\n\r\nJust text.\r\n")
            .as_bytes(),
    )?;
    dovecot.deliver(&dovecot::message(
        "ap@billing.acme.example",
        "Subdomain",
        &[part("invoice.pdf", "application/pdf")],
    ))?;
    dovecot.deliver(&dovecot::message(
        "AP@ACME.Example",
        "Accepted",
        &[Part {
            name: "invoice.pdf",
            content_type: "application/pdf",
            bytes: &pdf,
        }],
    ))?;
    // Plaintext IMAP, allowed on loopback.
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            port: dovecot.imap_port(),
            tls: Tls::None,
            ca_file: None,
            content_types: vec!["application/pdf".into()],
            ..config(&dovecot)
        },
    );
    let waiting = ch.poll().await?;
    assert_eq!(waiting.len(), 1, "{:?}", names(&waiting));
    assert!(waiting[0].name.ends_with("-1-invoice.pdf"));
    assert_eq!(
        ch.sender_of(&waiting[0].name).as_deref(),
        Some("ap@acme.example")
    );
    assert_eq!(ch.read(&waiting[0].name).await?, pdf);
    ch.done(&waiting[0].name).await?;
    assert!(dovecot.message("INBOX", "Accepted")?.seen);
    for subject in [
        "Stranger",
        "Subdomain",
        "Wrong name",
        "Wrong type",
        "No attachment",
    ] {
        assert!(!dovecot.message("INBOX", subject)?.seen, "{subject}");
    }
    assert!(ch.poll().await?.is_empty());

    // The same mail, any sender, any name, any type: all but the text
    // mail are taken.
    let mut any = ImapChannel::new(
        "any",
        ImapConfig {
            senders: vec![],
            patterns: vec![],
            ..config(&dovecot)
        },
    );
    let waiting = any.poll().await?;
    let mut suffixes: Vec<&str> = waiting
        .iter()
        .filter_map(|w| w.name.splitn(3, '-').nth(2))
        .collect();
    suffixes.sort();
    assert_eq!(
        suffixes,
        [
            "1-invoice.pdf",
            "1-invoice.pdf",
            "1-notes.txt",
            "1-scan.pdf"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn certificates_not_signed_by_the_trusted_ca_are_refused() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let port = dovecot.imaps_port();
    let other = dovecot.other_ca_file();
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            ca_file: Some(other.clone()),
            ..config(&dovecot)
        },
    );
    for _ in 0..2 {
        let e = error_of(ch.poll().await)?;
        let m = e.to_string();
        assert!(
            m.starts_with(&format!(
                "channel acme-mail: connecting to edi@127.0.0.1:{port}: TLS with 127.0.0.1:{port} failed: invalid peer certificate: UnknownIssuer"
            )),
            "{m}"
        );
        assert!(
            m.contains(&format!(
                "(trusting the CA certificates of ca_file {})",
                other.display()
            )),
            "{m}"
        );
    }
    assert_eq!(dovecot.logins(), 0);

    // The built-in web PKI roots do not know the test CA either.
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            ca_file: None,
            ..config(&dovecot)
        },
    );
    let m = error_of(ch.poll().await)?.to_string();
    assert!(
        m.contains("UnknownIssuer") && m.contains("the built-in web PKI roots"),
        "{m}"
    );

    // A ca_file that is not PEM.
    let junk = dovecot.scratch().join("junk.pem");
    std::fs::write(&junk, "not a certificate")?;
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            ca_file: Some(junk),
            ..config(&dovecot)
        },
    );
    let m = error_of(ch.poll().await)?.to_string();
    assert!(m.contains("holds no PEM certificate"), "{m}");

    // TLS spoken to the plaintext port fails, and does not hang.
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            port: dovecot.imap_port(),
            ..config(&dovecot)
        },
    );
    let m = error_of(ch.poll().await)?.to_string();
    assert!(m.contains("TLS with"), "{m}");

    // The right CA works.
    let mut ch = ImapChannel::new("acme-mail", config(&dovecot));
    assert!(ch.poll().await?.is_empty());
    assert_eq!(dovecot.logins(), 1);
    Ok(())
}

#[tokio::test]
async fn login_problems_are_clear_and_keep_secrets() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let port = dovecot.imaps_port();
    let wrong = std::fs::read_to_string(dovecot.wrong_password_file())?;
    let wrong = wrong.trim();
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            password_file: Some(dovecot.wrong_password_file()),
            ..config(&dovecot)
        },
    );
    let e = error_of(ch.poll().await)?;
    let m = e.to_string();
    assert_eq!(e.source.kind(), ErrorKind::PermissionDenied, "{m}");
    assert_eq!(
        m,
        format!(
            "channel acme-mail: connecting to edi@127.0.0.1:{port}: the server refused the password from password_file for user edi ([AUTHENTICATIONFAILED] Authentication failed.)"
        )
    );
    assert!(!m.contains(wrong) && !format!("{e:?}").contains(wrong));
    assert!(!format!("{ch:?}").contains(wrong));
    assert!(dovecot.log().contains("auth"), "the server saw the login");
    assert!(!dovecot.log().contains(wrong));
    assert!(!dovecot.log().contains(dovecot::PASSWORD));

    // A password from the environment: refused, and not shown. (The
    // tests cannot set variables: the crate forbids unsafe code, and
    // set_var is unsafe; PATH is one that is always set.)
    let path_value = std::env::var("PATH")?;
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            password_file: None,
            password_env: Some("PATH".into()),
            ..config(&dovecot)
        },
    );
    let e = error_of(ch.poll().await)?;
    let m = e.to_string();
    assert!(
        m.contains("the server refused the password from $PATH for user edi"),
        "{m}"
    );
    assert!(!m.contains(&path_value) && !format!("{e:?}").contains(&path_value));

    // A variable that is not set, a file that is not there: before any
    // network.
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            password_file: None,
            password_env: Some("DROPGATE_TEST_NEVER_SET_4711".into()),
            ..config(&dovecot)
        },
    );
    let m = error_of(ch.poll().await)?.to_string();
    assert!(
        m.contains(
            "the environment variable DROPGATE_TEST_NEVER_SET_4711 (password_env) is not set"
        ),
        "{m}"
    );
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            password_file: Some(dovecot.scratch().join("no-such-file")),
            ..config(&dovecot)
        },
    );
    let e = error_of(ch.poll().await)?;
    assert_eq!(e.source.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("reading password_file"), "{e}");

    // A configuration check() refuses: no network either.
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            host: "imap.example.com".into(),
            tls: Tls::None,
            ca_file: None,
            ..config(&dovecot)
        },
    );
    let e = error_of(ch.poll().await)?;
    assert_eq!(e.source.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("tls = \"none\""), "{e}");

    // A mailbox that is not there.
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            mailbox: "Nowhere".into(),
            ..config(&dovecot)
        },
    );
    let m = error_of(ch.poll().await)?.to_string();
    assert!(
        m.contains("the server refused to select mailbox Nowhere"),
        "{m}"
    );

    // Nothing listening: a connection error naming the target.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
    let free = closed.local_addr()?.port();
    drop(closed);
    let mut ch = ImapChannel::new(
        "acme-mail",
        ImapConfig {
            port: free,
            ..config(&dovecot)
        },
    );
    let e = error_of(ch.poll().await)?;
    assert_eq!(e.source.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(
        e.to_string()
            .contains(&format!("connecting to edi@127.0.0.1:{free}")),
        "{e}"
    );
    Ok(())
}

#[tokio::test]
async fn reconnects_after_the_server_restarts() -> Result {
    let Some(mut dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let pdf = dovecot::tiny_pdf("A");
    for subject in ["A", "B"] {
        dovecot.deliver(&dovecot::message(
            ACME,
            subject,
            &[Part {
                name: &format!("{subject}.pdf"),
                content_type: "application/pdf",
                bytes: &pdf,
            }],
        ))?;
    }
    let mut ch = ImapChannel::new("acme-mail", config(&dovecot));
    let waiting = ch.poll().await?;
    assert_eq!(
        waiting
            .iter()
            .map(|w| w.name.splitn(3, '-').nth(2).unwrap_or_default())
            .collect::<Vec<_>>(),
        ["1-A.pdf", "1-B.pdf"]
    );
    assert_eq!(dovecot.logins(), 1);

    // Every operation finds the connection dead and opens another.
    dovecot.restart()?;
    assert_eq!(ch.read(&waiting[0].name).await?, pdf);
    assert_eq!(dovecot.logins(), 2);
    dovecot.restart()?;
    ch.done(&waiting[0].name).await?;
    assert_eq!(dovecot.logins(), 3);
    assert!(dovecot.message("INBOX", "A")?.seen);
    dovecot.restart()?;
    let again = ch.poll().await?;
    assert_eq!(
        names(&again),
        [waiting[1].name.as_str()],
        "same UIDVALIDITY"
    );
    assert_eq!(dovecot.logins(), 4);

    // While the server is down, a clear error; back up, back to work.
    dovecot.stop();
    let e = error_of(ch.poll().await)?;
    assert!(e.to_string().contains("connecting to edi@127.0.0.1"), "{e}");
    dovecot.restart()?;
    assert_eq!(ch.poll().await?, again);
    assert_eq!(ch.read(&again[0].name).await?, pdf);
    ch.done(&again[0].name).await?;
    assert!(dovecot.message("INBOX", "B")?.seen);
    ch.close().await;
    Ok(())
}

#[tokio::test]
async fn unreadable_messages_are_surfaced_whole() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let mut broken = dovecot::message(
        ACME,
        "Broken",
        &[Part {
            name: "invoice.pdf",
            content_type: "application/pdf",
            bytes: &dovecot::tiny_pdf("broken"),
        }],
    );
    // Damage the base64 of the attachment.
    let at = broken
        .windows(8)
        .position(|w| w == b"JVBERi0x")
        .ok_or("no PDF in the message")?;
    broken.splice(at..at + 4, *b"!?!?");
    dovecot.deliver(&broken)?;
    // From another sender, broken too: not ours, left alone.
    let stranger = String::from_utf8(broken.clone())?.replace(ACME, "x@else.example");
    let stranger = stranger.replace("Subject: Broken", "Subject: Stranger");
    dovecot.deliver(stranger.as_bytes())?;

    let mut ch = ImapChannel::new("acme-mail", config(&dovecot));
    let waiting = ch.poll().await?;
    assert_eq!(waiting.len(), 1, "{:?}", names(&waiting));
    let item = &waiting[0];
    assert!(item.name.ends_with("-0-message.eml"), "{}", item.name);
    assert_eq!(item.size, broken.len() as u64);
    assert_eq!(ch.read(&item.name).await?, broken, "the raw message");
    assert_eq!(ch.sender_of(&item.name).as_deref(), Some(ACME));
    assert!(!dovecot.message("INBOX", "Broken")?.seen);
    ch.done(&item.name).await?;
    assert!(dovecot.message("INBOX", "Broken")?.seen);
    assert!(!dovecot.message("INBOX", "Stranger")?.seen);
    assert!(ch.poll().await?.is_empty());
    Ok(())
}
