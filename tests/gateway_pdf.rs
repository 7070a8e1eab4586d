//! PDF invoices through the gateway, from a private Dovecot on 127.0.0.1:
//! a vendor's mail with a PDF invoice attached is read without a template,
//! reconciled and relayed; a scanned invoice, with OCR turned off, is
//! quarantined with that reason, and processed by `reprocess` once OCR is
//! turned on; a PDF that is not one (cut short) is quarantined, never
//! lost.

mod support;

use support::cli::{dropgate, names, root, text};
use support::dovecot::{self, Dovecot, Part};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The gateway's configuration, OCR on or off.
fn config(dovecot: &Dovecot, ocr: bool) -> String {
    format!(
        r#"
[gateway]
data_dir = "var"

{channel}
[relay]
type = "file"
path = "relay"

[ocr]
enabled = {ocr}
"#,
        channel = dovecot.imap_channel("mail", r#"["*.pdf"]"#),
    )
}

#[test]
fn mailed_pdf_invoices_are_read_reconciled_and_relayed() -> Result {
    let Some(dovecot) = Dovecot::start()? else {
        return Ok(());
    };
    let gw = tempfile::tempdir()?;
    std::fs::create_dir_all(gw.path().join("partners"))?;
    std::fs::write(gw.path().join("gateway.toml"), config(&dovecot, false))?;
    for (id, domain) in [
        ("sierra", "sierratrail.example"),
        ("copper", "coppercreek.example"),
    ] {
        std::fs::write(
            gw.path().join(format!("partners/{id}.toml")),
            format!(
                r#"
[partner]
emails = ["*@{domain}"]

[[inbound]]
channel = "mail"
patterns = ["*.pdf"]
"#
            ),
        )?;
    }
    let pdf = |p: &str| std::fs::read(root().join("samples/pdf").join(p));
    let invoice = pdf("sierra-trail/STA-INV-30077.pdf")?;
    let scanned = pdf("copper-creek-pet/CCP-004417-scanned.pdf")?;
    dovecot.deliver(&dovecot::message(
        "billing@sierratrail.example",
        "Invoice STA-INV-30077",
        &[Part {
            name: "STA-INV-30077.pdf",
            content_type: "application/pdf",
            bytes: &invoice,
        }],
    ))?;
    dovecot.deliver(&dovecot::message(
        "ar@coppercreek.example",
        "Invoice CCP-004417",
        &[Part {
            name: "CCP-004417.pdf",
            content_type: "application/octet-stream",
            bytes: &scanned,
        }],
    ))?;
    dovecot.deliver(&dovecot::message(
        "billing@sierratrail.example",
        "Invoice (broken)",
        &[Part {
            name: "cut.pdf",
            content_type: "application/pdf",
            bytes: &invoice[..invoice.len() / 3],
        }],
    ))?;
    let config = gw.path().join("gateway.toml");
    let config = config.to_string_lossy().to_string();
    let check = dropgate(&["check-config", "-c", &config]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));

    let out = dropgate(&["run", "--once", "-c", &config]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "two are quarantined: {stdout}");
    assert!(
        stdout.contains("image-only PDF, no text layer on page 1; OCR is off"),
        "{stdout}"
    );
    // The invoice read without a template is relayed, reconciled (no
    // order was sent for it: unmatched, relayed by default).
    let relayed = names(&gw.path().join("relay"));
    assert_eq!(relayed.len(), 1, "{relayed:?}\n{stdout}");
    let doc: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(gw.path().join("relay").join(&relayed[0]))?.trim(),
    )?;
    assert_eq!(doc["type"], "invoice");
    assert_eq!(doc["invoice_number"], "STA-INV-30077");
    assert_eq!(doc["po_number"], "BHO-PO-77170");
    assert_eq!(doc["source"]["format"], "pdf");
    assert_eq!(doc["source"]["extraction"], "generic");
    assert_eq!(doc["source"]["partner"], "sierra");
    assert_eq!(doc["lines"].as_array().map(Vec::len), Some(4));
    assert_eq!(doc["reconciliation"]["status"], "unmatched", "{doc}");
    let files = text(&dropgate(&["files", "-c", &config]).stdout);
    assert!(files.contains("cut.pdf"), "{files}");
    assert_eq!(
        files.lines().filter(|l| l.contains("quarantined")).count(),
        2,
        "{files}"
    );

    // OCR turned on: the scanned invoice is processed again, and read.
    if ["tesseract", "pdftoppm"]
        .iter()
        .any(|p| support::which(p).is_none())
    {
        support::skip::unavailable::<()>("tesseract and pdftoppm", "not on PATH");
        return Ok(());
    }
    std::fs::write(gw.path().join("gateway.toml"), self::config(&dovecot, true))?;
    let scanned_file = files
        .lines()
        .find(|l| l.contains("CCP-004417.pdf"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the scanned file's number")
        .to_string();
    let again = dropgate(&["reprocess", "-c", &config, &scanned_file]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}{}",
        text(&again.stdout),
        text(&again.stderr)
    );
    let relayed = names(&gw.path().join("relay"));
    assert_eq!(relayed.len(), 2, "{relayed:?}");
    let scanned_doc = relayed
        .iter()
        .find(|n| n.contains("CCP-004417"))
        .expect("the scanned invoice relayed");
    let doc: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(gw.path().join("relay").join(scanned_doc))?.trim(),
    )?;
    assert_eq!(doc["invoice_number"], "CCP-004417");
    assert_eq!(doc["source"]["extraction"], "ocr");
    assert_eq!(doc["total_amount"].to_string(), "902.50");
    Ok(())
}
