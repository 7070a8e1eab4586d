//! The gateway sending to a partner by e-mail (aiosmtpd on 127.0.0.1,
//! STARTTLS and a login): the 997 for a file dropped in a folder and an
//! 850 sent with `send-po` each arrive as one message with the X12 file
//! attached; the CA and password files are found relative to the
//! configuration.

mod support;

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use support::cli::{dropgate, root, text};
use support::smtp::{Options, PASSWORD, SmtpServer, USER};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A gateway folder whose Acme partner's outbound channel is the server.
fn setup(server: &SmtpServer) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let p = dir.path();
    std::fs::create_dir_all(p.join("drop"))?;
    std::fs::create_dir_all(p.join("partners"))?;
    std::fs::create_dir_all(p.join("secrets"))?;
    std::fs::copy(server.ca_file(), p.join("secrets/smtp-ca.pem"))?;
    std::fs::write(p.join("secrets/smtp-password"), format!("{PASSWORD}\n"))?;
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
retry_secs = 1
poll_interval_secs = 1

[x12]
interchange_id = "ZZ:RETAILERID"

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[channel.acme-mail]
type = "smtp"
host = "127.0.0.1"
port = {port}
ca_file = "secrets/smtp-ca.pem"
user = "{USER}"
password_file = "secrets/smtp-password"
from = "EDI Gateway <edi@retailer.test>"
to = ["edi@acme.test"]
subject = "EDI for Acme: {{name}}"
timeout_secs = 10

[relay]
type = "file"
path = "relay"
"#,
            port = server.port()
        ),
    )?;
    std::fs::write(
        p.join("partners/acme.toml"),
        r#"
[x12]
interchange_id = "ZZ:VENDORID"

[[inbound]]
channel = "drop"
patterns = ["*.edi"]

[outbound]
channel = "acme-mail"
"#,
    )?;
    Ok(dir)
}

/// The only attachment of a message: its name and bytes.
fn attachment(raw: &[u8]) -> (String, Vec<u8>) {
    let msg = MessageParser::default().parse(raw).expect("message parses");
    let all: Vec<_> = msg.attachments().collect();
    assert_eq!(all.len(), 1, "one attachment: {}", text(raw));
    (
        all[0].attachment_name().unwrap_or_default().to_string(),
        all[0].contents().to_vec(),
    )
}

fn subject(raw: &[u8]) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn acknowledgments_and_purchase_orders_go_out_by_mail() -> Result {
    let Some(server) = SmtpServer::start(Options {
        implicit: false,
        auth: true,
    })?
    else {
        return Ok(());
    };
    let gw = setup(&server)?;
    let config = gw.path().join("gateway.toml");
    let config = config.to_string_lossy();
    let check = dropgate(&["check-config", "-c", &config]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );

    std::fs::copy(
        root().join("samples/x12/good/846-5010.edi"),
        gw.path().join("drop/inventory.edi"),
    )?;
    let out = dropgate(&["run", "--once", "-c", &config]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}\nserver log: {}",
        text(&out.stderr),
        server.log()
    );
    assert!(
        stdout.contains("processed") && stdout.contains("inventory.edi"),
        "{stdout}"
    );
    let got = server.wait_for(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "the 997 by mail: {stdout}{}", server.log());
    assert_eq!(got[0].mail_from, "edi@retailer.test");
    assert_eq!(got[0].rcpt_tos, ["edi@acme.test"]);
    let (name, ack) = attachment(&got[0].raw);
    assert!(name.contains("997") && name.ends_with(".edi"), "{name}");
    assert_eq!(subject(&got[0].raw), format!("EDI for Acme: {name}"));
    assert!(ack.starts_with(b"ISA"), "{}", text(&ack));
    let ack = text(&ack);
    assert!(
        ack.contains("*ZZ*RETAILERID     *ZZ*VENDORID       *"),
        "{ack}"
    );
    assert!(ack.contains("ST*997*"), "{ack}");
    assert!(ack.contains("AK9*A*"), "accepted: {ack}");

    let po = root().join("mappings/partners/nordlys/po/po-123456.json");
    let out = dropgate(&[
        "send-po",
        "-c",
        &config,
        "--partner",
        "acme",
        &po.to_string_lossy(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}\nserver log: {}",
        text(&out.stdout),
        text(&out.stderr),
        server.log()
    );
    let got = server.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "the 850 by mail: {}", server.log());
    let (name, order) = attachment(&got[1].raw);
    assert!(
        name.starts_with("acme-po-PO123456-") && name.ends_with(".edi"),
        "{name}"
    );
    assert!(
        text(&out.stdout).contains(&name),
        "send-po names the file: {}",
        text(&out.stdout)
    );
    let order = text(&order);
    assert!(
        order.starts_with("ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *"),
        "{order}"
    );
    assert!(order.contains("GS*PO*RETAILERID*VENDORID*"), "{order}");
    assert!(order.contains("ST*850*"), "{order}");
    Ok(())
}

#[test]
fn a_bad_smtp_channel_is_refused_by_check_config() -> Result {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("gateway.toml"),
        r#"
[gateway]
data_dir = "var"

[channel.acme-mail]
type = "smtp"
host = "smtp.acme.test"
tls = "none"
from = "edi@retailer.test"
to = ["edi@acme.test"]
"#,
    )?;
    let config = dir.path().join("gateway.toml");
    let out = dropgate(&["check-config", "-c", &config.to_string_lossy()]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "channel acme-mail: tls is \"none\" but host smtp.acme.test is not on this machine"
        ),
        "{err}"
    );
    Ok(())
}
