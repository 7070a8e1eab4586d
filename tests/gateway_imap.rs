//! The gateway on a mailbox (a private Dovecot on 127.0.0.1 over TLS):
//! attachments from a partner's address are processed with its mapping and
//! relayed, the mail marked seen; an attachment from an unknown sender is
//! quarantined with that reason, never lost.

mod support;

use support::cli::{dropgate, names, root, text};
use support::dovecot::{self, Dovecot, Part};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[test]
fn mailed_attachments_are_processed_by_sender_and_marked_seen() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let gw = tempfile::tempdir()?;
    std::fs::create_dir_all(gw.path().join("partners"))?;
    std::fs::write(
        gw.path().join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"

{channel}
[relay]
type = "file"
path = "relay"
"#,
            channel = dovecot.imap_channel("mail", r#"["*.csv"]"#),
        ),
    )?;
    std::fs::write(
        gw.path().join("partners/nordlys.toml"),
        r#"
[partner]
emails = ["*@nordlys.example"]

[[inbound]]
channel = "mail"
patterns = ["stock-*.csv"]
mapping = "partners/nordlys/inventory"
"#,
    )?;
    let stock =
        std::fs::read(root().join("mappings/partners/nordlys/inventory/stock-20240314.csv"))?;
    dovecot.deliver(&dovecot::message(
        "lager@nordlys.example",
        "Lagerbestand",
        &[Part {
            name: "stock-20240314.csv",
            content_type: "text/csv",
            bytes: &stock,
        }],
    ))?;
    dovecot.deliver(&dovecot::message(
        "someone@elsewhere.example",
        "Not ours",
        &[Part {
            name: "stock-20240315.csv",
            content_type: "text/csv",
            bytes: b"a;b\n1;2\n",
        }],
    ))?;
    let config = gw.path().join("gateway.toml");
    let config = config.to_string_lossy();
    let check = dropgate(&["check-config", "-c", &config]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));

    let out = dropgate(&["run", "--once", "-c", &config]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one is quarantined: {stdout}{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("processed")
            && stdout.contains("nordlys")
            && stdout.contains("stock-20240314.csv"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no partner's [[inbound]] takes \"stock-20240315.csv\" on channel mail from someone@elsewhere.example"),
        "{stdout}"
    );
    // Relayed as the mapping makes it, with the attachment's own name.
    let relayed = names(&gw.path().join("relay"));
    assert_eq!(relayed, ["000001-stock-20240314.csv.jsonl"]);
    let doc: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(gw.path().join("relay").join(&relayed[0]))?.trim(),
    )?;
    assert_eq!(doc["type"], "inventory_advice");
    assert_eq!(doc["supplier"], "NORDLYS");
    // Both mails are archived and recorded, so both are marked seen.
    assert!(dovecot.message("INBOX", "Lagerbestand")?.seen);
    assert!(dovecot.message("INBOX", "Not ours")?.seen);
    // The quarantined one is kept, with its sender.
    let show = dropgate(&["show", "-c", &config, "2"]);
    assert!(
        text(&show.stdout).contains("quarantined"),
        "{}",
        text(&show.stdout)
    );

    // Nothing new: a second pass takes nothing.
    let again = dropgate(&["run", "--once", "-c", &config]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    assert!(text(&again.stdout).contains("nothing waiting"));
    Ok(())
}
