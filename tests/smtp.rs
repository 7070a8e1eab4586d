//! The SMTP channel against a real server (aiosmtpd on 127.0.0.1): a
//! delivered file arrives as an attachment, byte for byte, with the
//! configured sender, recipients and subject, over STARTTLS or implicit
//! TLS trusting a test CA; a certificate from another CA, a wrong password
//! and a server that is down each give a clear error, never holding the
//! password; the daemon's channel refuses to read from it.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use dropgate::transport::channel::{Channel, ChannelKind};
use dropgate::transport::smtp::{SmtpChannel, SmtpConfig, SmtpTls};
use mail_parser::{MessageParser, MimeHeaders};
use support::smtp::{Options, PASSWORD, SmtpServer, USER};

fn config(port: u16, ca_file: PathBuf) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::Starttls,
        ca_file: Some(ca_file),
        user: None,
        password_env: None,
        password_file: None,
        from: "EDI Gateway <edi@gw.test>".into(),
        to: vec![
            "orders@acme.test".into(),
            "Backup <archive@acme.test>".into(),
        ],
        subject: "EDI file {name}".into(),
        timeout_secs: 10,
    }
}

fn server(options: Options) -> Option<SmtpServer> {
    SmtpServer::start(options).expect("aiosmtpd starts")
}

/// The attachments of a raw message: (name, content type, bytes).
fn attachments(raw: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let msg = MessageParser::default().parse(raw).expect("message parses");
    msg.attachments()
        .map(|a| {
            let ct = a
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                .unwrap_or_default();
            (
                a.attachment_name().unwrap_or_default().to_string(),
                ct,
                a.contents().to_vec(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_delivered_file_arrives_attached_byte_exact_over_starttls() {
    let Some(server) = server(Options::default()) else {
        return;
    };
    config(server.port(), server.ca_file())
        .check()
        .expect("config checks");
    let mut ch = SmtpChannel::new("acme-mail", config(server.port(), server.ca_file()));
    assert_eq!(ch.name(), "acme-mail");
    // LF line ends, a lone CR, a long line and no final line break: all
    // must arrive unchanged.
    let mut csv = b"sku;qty\nA-1;5\r\nB-2;\r7\n".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 1500));
    let edi = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/x12/good/846-5010.edi"),
    )
    .expect("sample");
    ch.deliver("stock-20240314.csv", &csv)
        .await
        .expect("csv delivered");
    ch.deliver("inventory.edi", &edi)
        .await
        .expect("edi delivered");

    let got = server.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "server log: {}", server.log());
    let first = &got[0];
    assert_eq!(first.mail_from, "edi@gw.test");
    assert_eq!(first.rcpt_tos, ["orders@acme.test", "archive@acme.test"]);
    let msg = MessageParser::default()
        .parse(&first.raw)
        .expect("message parses");
    assert_eq!(msg.subject(), Some("EDI file stock-20240314.csv"));
    let from = msg.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("edi@gw.test"));
    assert_eq!(from.name(), Some("EDI Gateway"));
    let to: Vec<_> = msg
        .to()
        .expect("To")
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, ["orders@acme.test", "archive@acme.test"]);
    assert_eq!(
        msg.body_text(0).map(|t| t.trim().to_string()),
        Some("dropgate: stock-20240314.csv".to_string())
    );
    let id = msg.message_id().expect("Message-ID").to_string();
    assert!(id.contains("stock-20240314.csv"), "{id}");
    assert_eq!(
        attachments(&first.raw),
        [(
            "stock-20240314.csv".to_string(),
            "text/csv".to_string(),
            csv.clone()
        )]
    );
    let second = attachments(&got[1].raw);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0, "inventory.edi");
    assert!(
        second[0].1.eq_ignore_ascii_case("application/EDI-X12"),
        "{}",
        second[0].1
    );
    assert_eq!(second[0].2, edi);

    // A retried delivery of the same file carries the same Message-ID.
    ch.deliver("stock-20240314.csv", &csv)
        .await
        .expect("delivered again");
    let got = server.wait_for(3, Duration::from_secs(10));
    assert_eq!(got.len(), 3);
    let again = MessageParser::default().parse(&got[2].raw).expect("parses");
    assert_eq!(again.message_id(), Some(id.as_str()));
    let other = MessageParser::default().parse(&got[1].raw).expect("parses");
    assert_ne!(other.message_id(), Some(id.as_str()));
}

#[tokio::test]
async fn implicit_tls_delivers_too() {
    let Some(server) = server(Options {
        implicit: true,
        auth: false,
    }) else {
        return;
    };
    let mut c = config(server.port(), server.ca_file());
    c.tls = SmtpTls::Implicit;
    let mut ch = SmtpChannel::new("acme-mail", c);
    ch.deliver("report.pdf", b"%PDF-1.4 not really\n")
        .await
        .expect("delivered");
    let got = server.wait_for(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "server log: {}", server.log());
    assert_eq!(
        attachments(&got[0].raw),
        [(
            "report.pdf".to_string(),
            "application/pdf".to_string(),
            b"%PDF-1.4 not really\n".to_vec()
        )]
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let Some(server) = server(Options::default()) else {
        return;
    };
    let mut ch = SmtpChannel::new("acme-mail", config(server.port(), server.other_ca_file()));
    let e = ch
        .deliver("order.edi", b"ISA*00*")
        .await
        .expect_err("refused")
        .to_string();
    eprintln!("{e}");
    assert!(e.contains("channel acme-mail"), "{e}");
    assert!(e.contains("TLS with 127.0.0.1"), "{e}");
    assert!(e.contains("other-ca.pem"), "{e}");
    assert!(
        e.contains("UnknownIssuer") || e.contains("unknown issuer") || e.contains("certificate"),
        "{e}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn login_with_the_right_password_sends_and_a_wrong_one_is_refused() {
    let Some(server) = server(Options {
        implicit: false,
        auth: true,
    }) else {
        return;
    };
    let mut good = config(server.port(), server.ca_file());
    good.user = Some(USER.into());
    good.password_file = Some(server.password_file());
    good.check().expect("checks");
    SmtpChannel::new("acme-mail", good)
        .deliver("a.xml", b"<a/>")
        .await
        .expect("delivered with a login");
    let got = server.wait_for(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "server log: {}", server.log());
    assert_eq!(attachments(&got[0].raw)[0].1, "application/xml");

    let mut wrong = config(server.port(), server.ca_file());
    wrong.user = Some(USER.into());
    wrong.password_file = Some(server.wrong_password_file());
    let e = SmtpChannel::new("acme-mail", wrong)
        .deliver("b.xml", b"<b/>")
        .await
        .expect_err("refused")
        .to_string();
    eprintln!("{e}");
    assert!(e.contains(&format!("refused the login of {USER}")), "{e}");
    assert!(e.contains("535"), "{e}");
    assert!(!e.contains("Not-the-Passw0rd-4711"), "{e}");
    assert!(!e.contains(PASSWORD), "{e}");

    // Without a login, the server takes nothing.
    let e = SmtpChannel::new("acme-mail", config(server.port(), server.ca_file()))
        .deliver("c.xml", b"<c/>")
        .await
        .expect_err("refused")
        .to_string();
    eprintln!("{e}");
    assert!(e.contains("requires a login"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_server_that_is_down_gives_a_connecting_error() {
    let port = support::smtp::free_port().expect("a free port");
    let dir = tempfile::tempdir().expect("temporary folder");
    let ca = dir.path().join("ca.pem");
    let mut ch = SmtpChannel::new("acme-mail", config(port, ca.clone()));
    // The CA file is read first: a missing one says so.
    let e = ch
        .deliver("a.csv", b"x")
        .await
        .expect_err("no ca")
        .to_string();
    assert!(e.contains("reading ca_file"), "{e}");
    let mut c = config(port, ca);
    c.ca_file = None;
    let mut ch = SmtpChannel::new("acme-mail", c);
    let e = ch
        .deliver("a.csv", b"x")
        .await
        .expect_err("down")
        .to_string();
    eprintln!("{e}");
    assert!(
        e.contains(&format!("connecting to 127.0.0.1:{port}")),
        "{e}"
    );
    assert!(e.contains("channel acme-mail: sending a.csv"), "{e}");
}

#[test]
fn the_daemon_channel_only_sends() {
    let mut ch = Channel::new(
        "acme-mail",
        &ChannelKind::Smtp(config(2525, PathBuf::from("ca.pem"))),
    );
    assert_eq!(ch.name(), "acme-mail");
    let e = ch.poll().expect_err("no polling").to_string();
    assert!(e.contains("an SMTP channel only sends"), "{e}");
    let e = ch.read("a.edi").expect_err("no reading").to_string();
    assert!(e.contains("an SMTP channel only sends"), "{e}");
    let e = ch.done("a.edi").expect_err("no done").to_string();
    assert!(e.contains("an SMTP channel only sends"), "{e}");
    assert!(!ch.holds("a.edi", b""));
}

#[test]
fn the_daemon_channel_delivers_blocking() {
    let Some(server) = server(Options::default()) else {
        return;
    };
    let mut ch = Channel::new(
        "acme-mail",
        &ChannelKind::Smtp(config(server.port(), server.ca_file())),
    );
    ch.deliver("997-1.edi", b"ISA*00*~").expect("delivered");
    let got = server.wait_for(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "server log: {}", server.log());
    assert_eq!(attachments(&got[0].raw)[0].2, b"ISA*00*~");
}
