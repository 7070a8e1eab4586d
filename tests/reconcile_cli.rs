//! `dropgate reconcile`: an 810 translated, then checked against the
//! order sent and the ship notice received, offline; the exit code says
//! matched (0), a variance (1) or an unreadable input (2). Also what the
//! 810 mapping gives reconciliation: the vendor and the subtotal.

mod support;

use support::cli::{dropgate, root, text};

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/reconcile")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The invoice JSON `translate` makes of an 810 fixture, written into
/// `dir`.
fn translated(dir: &std::path::Path, edi: &str) -> String {
    let out = dropgate(&["translate", &fixture(edi)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = dir.join(format!("{edi}.json"));
    std::fs::write(&path, &out.stdout).expect("written");
    path.to_string_lossy().into_owned()
}

#[test]
fn the_810_gives_the_vendor_and_the_subtotal() {
    let out = dropgate(&["translate", &fixture("invoice.edi")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        docs[0]["vendor"],
        serde_json::json!({"id": "V-ACME", "name": "Acme Supply"})
    );
    assert_eq!(docs[0]["subtotal"].to_string(), "46.00");
    assert_eq!(docs[0]["remit_to"]["name"], "Acme Supply Remit");
    assert!(docs[0].get("reconciliation").is_none());
}

#[test]
fn an_invoice_that_matches_exits_0() {
    let dir = tempfile::tempdir().expect("dir");
    let invoice = translated(dir.path(), "invoice.edi");
    let out = dropgate(&[
        "reconcile",
        &invoice,
        "--po",
        &fixture("po.json"),
        "--asn",
        &fixture("asn.json"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        "invoice INV-9001: matched (ship notices ASN-9001)\n"
    );
    let out = dropgate(&[
        "reconcile",
        &invoice,
        "--po",
        &fixture("po.json"),
        "--asn",
        &fixture("asn.json"),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        docs[0]["reconciliation"],
        serde_json::json!({"status": "matched", "ship_notices": ["ASN-9001"], "variances": []})
    );
    assert_eq!(docs[0]["invoice_number"], "INV-9001");
}

#[test]
fn a_price_off_the_order_exits_1_unless_the_partner_tolerates_it() {
    let dir = tempfile::tempdir().expect("dir");
    let invoice = translated(dir.path(), "invoice-price.edi");
    let args = ["reconcile", &invoice, "--po", &fixture("po.json")];
    let out = dropgate(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("invoice INV-9002 (the gateway would hold it): variance\n  price: line 1 (LAMP-01): unit price 12.90, the order's is 12.50"),
        "{stdout}"
    );
    let out = dropgate(&[&args[..], &["--json"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let v = &docs[0]["reconciliation"]["variances"][0];
    assert_eq!(v["kind"], "price");
    assert_eq!(v["line"], "1");
    assert_eq!(v["line_index"], 1);
    assert_eq!(v["expected"], "12.50");
    assert_eq!(v["actual"], "12.90");

    // A partner that tolerates 4 % (0.50 of 12.50) takes it; its policy
    // relays a variance.
    let p = dir.path();
    std::fs::create_dir_all(p.join("partners")).expect("partners");
    std::fs::create_dir_all(p.join("drop")).expect("drop");
    std::fs::write(
        p.join("gateway.toml"),
        "[gateway]\ndata_dir = \"var\"\n\n[channel.drop]\ntype = \"dir\"\npath = \"drop\"\n\n[relay]\ntype = \"file\"\npath = \"out\"\n",
    )
    .expect("gateway.toml");
    let config = p.join("gateway.toml").to_string_lossy().into_owned();
    let with = |percent: &str| {
        std::fs::write(
            p.join("partners/acme.toml"),
            format!("[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n\n[reconcile]\nprice_tolerance_percent = \"{percent}\"\n"),
        )
        .expect("partner");
        dropgate(&[&args[..], &["--partner", "acme", "-c", &config]].concat())
    };
    // 3.2 % of 12.50 is exactly 0.40: at the boundary.
    let out = with("3.2");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = with("3.19");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn no_order_is_unmatched_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().expect("dir");
    let invoice = translated(dir.path(), "invoice.edi");
    let out = dropgate(&["reconcile", &invoice]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("unmatched\n  no_order: no purchase order PO-9001 was sent"),
        "{}",
        text(&out.stdout)
    );
    // The order given as the invoice: named for what it is.
    let out = dropgate(&["reconcile", &fixture("po.json")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("po.json: document 1 is a purchase_order, not an invoice"),
        "{}",
        text(&out.stderr)
    );
    let out = dropgate(&[
        "reconcile",
        &fixture("invoice.edi"),
        "--po",
        &fixture("po.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invoice.edi: not JSON"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_config_names_a_wrong_reconcile_key_with_its_place() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path();
    std::fs::create_dir_all(p.join("partners")).expect("partners");
    std::fs::create_dir_all(p.join("drop")).expect("drop");
    std::fs::write(
        p.join("gateway.toml"),
        "[gateway]\ndata_dir = \"var\"\n\n[channel.drop]\ntype = \"dir\"\npath = \"drop\"\n\n[relay]\ntype = \"file\"\npath = \"out\"\n",
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/acme.toml"),
        "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"drop\"\n\n[reconcile]\nprice_tolerance = \"0.01\"\nfreight_limit = \"25\"\non_variance = \"keep\"\n",
    )
    .expect("partner");
    let out = dropgate(&[
        "check-config",
        "-c",
        &p.join("gateway.toml").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains("acme.toml:10:") && all.contains("freight_limit"),
        "{all}"
    );
}
