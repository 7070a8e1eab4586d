//! The dropship loop through NetSuite, end to end, against the simulator
//! (the vendor on folders, on SFTP and by mail)
//! (`dropgate netsuite-sim`, a real HTTP server on 127.0.0.1 that checks
//! every TBA signature): a drop-ship sales order in NetSuite makes its
//! purchase order; `dropgate netsuite pull-orders` sends it to the vendor
//! as an X12 850 on its outbound folder and marks it sent; the vendor's
//! two ship notices (a partial shipment, then the rest) and its invoice,
//! dropped on the inbound folder, become two item fulfillments on the
//! sales order (with the tracking numbers) and one vendor bill on the
//! purchase order. NetSuite failing on the way (a 503 on a transform, an
//! answer lost after the write, 429s) makes nothing twice; a ship notice
//! for a PO NetSuite does not have is set aside for a person and goes
//! through once the order exists and it is retried; the daemon killed
//! with SIGKILL while a fulfillment is being written, and started again,
//! still makes one.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use serde_json::{Value, json};
use support::cli::{dropgate, text};
use support::daemon::Daemon;
use support::dovecot::{Dovecot, Part, message};
use support::netsuite_sim::{
    ACCOUNT, CONSUMER_KEY, CONSUMER_SECRET, NetsuiteSim, TOKEN_ID, TOKEN_SECRET,
};
use support::smtp::{Options, PASSWORD, SmtpServer, USER};
use support::sshd::Sshd;

/// Where the vendor's files come and go: local folders, its SFTP server
/// (a private sshd on 127.0.0.1), or mail (it mails the gateway's
/// mailbox on a private Dovecot; the gateway mails it through a private
/// SMTP server).
struct Vendor {
    /// The `[channel.*]` tables of `acme-in` and `acme-out`.
    channels: String,
    /// Where the vendor puts its files (folders and SFTP).
    inbox: PathBuf,
    /// Where the gateway puts the vendor's orders (folders and SFTP).
    outbox: PathBuf,
    _sshd: Option<Sshd>,
    _dir: Option<tempfile::TempDir>,
    mail: Option<(Dovecot, SmtpServer)>,
}

impl Vendor {
    fn folders() -> Vendor {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (inbox, outbox) = (dir.path().join("drop"), dir.path().join("out"));
        for d in [&inbox, &outbox] {
            std::fs::create_dir_all(d).expect("folder");
        }
        Vendor {
            channels: format!(
                "[channel.acme-in]\ntype = \"dir\"\npath = \"{}\"\nmin_age_secs = 0\n\n[channel.acme-out]\ntype = \"dir\"\npath = \"{}\"\n",
                inbox.display(),
                outbox.display()
            ),
            inbox,
            outbox,
            _sshd: None,
            _dir: Some(dir),
            mail: None,
        }
    }

    /// By mail; `None` where Dovecot or the SMTP server cannot run
    /// (outside CI).
    fn mail() -> Option<Vendor> {
        let dovecot = Dovecot::start().expect("dovecot")?;
        let smtp = SmtpServer::start(Options {
            implicit: false,
            auth: true,
        })
        .expect("smtp")?;
        let dir = tempfile::tempdir().expect("temporary folder");
        let password = dir.path().join("smtp-password");
        std::fs::write(&password, format!("{PASSWORD}\n")).expect("password");
        let channels = format!(
            "{}\n[channel.acme-out]\ntype = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = \"{}\"\nuser = \"{USER}\"\npassword_file = \"{}\"\nfrom = \"EDI Gateway <edi@retailer.test>\"\nto = [\"edi@acme.test\"]\nsubject = \"Orders: {{name}}\"\ntimeout_secs = 10\n",
            dovecot.imap_channel("acme-in", "[\"*.edi\"]"),
            smtp.port(),
            smtp.ca_file().display(),
            password.display()
        );
        Some(Vendor {
            channels,
            inbox: PathBuf::new(),
            outbox: PathBuf::new(),
            _sshd: None,
            _dir: Some(dir),
            mail: Some((dovecot, smtp)),
        })
    }

    /// On SFTP; `None` where sshd cannot run (outside CI).
    fn sftp() -> Option<Vendor> {
        let sshd = Sshd::start().expect("sshd")?;
        let (inbox, outbox) = (sshd.root().join("from-acme"), sshd.root().join("to-acme"));
        for d in [&inbox, &outbox] {
            std::fs::create_dir_all(d).expect("folder");
        }
        let common = format!(
            "host = \"127.0.0.1\"\nport = {}\nuser = \"root\"\nprivate_key = \"{}\"\nknown_hosts = \"{}\"\ntimeout_secs = 10",
            sshd.port(),
            sshd.client_key().display(),
            sshd.known_hosts_line().expect("known hosts")
        );
        Some(Vendor {
            channels: format!(
                "[channel.acme-in]\ntype = \"sftp\"\n{common}\npath = \"from-acme\"\nmin_age_secs = 0\n\n[channel.acme-out]\ntype = \"sftp\"\n{common}\npath = \"to-acme\"\n"
            ),
            inbox,
            outbox,
            _sshd: Some(sshd),
            _dir: None,
            mail: None,
        })
    }

    /// The vendor puts a file (whole: written aside, then renamed; or
    /// mailed as an attachment).
    fn put(&self, name: &str, body: &str) {
        if let Some((dovecot, _)) = &self.mail {
            let mail = message(
                "edi@acme.test",
                name,
                &[Part {
                    name,
                    content_type: "application/edi-x12",
                    bytes: body.as_bytes(),
                }],
            );
            dovecot.deliver(&mail).expect("delivered to the mailbox");
            return;
        }
        let tmp = self.inbox.join(format!(".{name}.part"));
        std::fs::write(&tmp, body).expect("write");
        std::fs::rename(&tmp, self.inbox.join(name)).expect("rename");
    }

    /// The orders the vendor got.
    fn orders(&self) -> Vec<String> {
        if let Some((_, smtp)) = &self.mail {
            let mut got: Vec<String> = smtp
                .messages()
                .iter()
                .flat_map(|m| {
                    let parsed = MessageParser::default().parse(&m.raw).expect("a message");
                    parsed
                        .attachments()
                        .map(|a| String::from_utf8_lossy(a.contents()).into_owned())
                        .collect::<Vec<_>>()
                })
                .collect();
            got.sort();
            return got;
        }
        let mut files: Vec<_> = std::fs::read_dir(&self.outbox)
            .expect("the vendor's inbox")
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| std::fs::read_to_string(e.path()).expect("an order"))
            .collect();
        files.sort();
        files
    }
}

/// A gateway talking to `sim`: Acme (X12 from VENDORID, on `vendor`'s
/// channels; NetSuite vendor `vendor_id`), every NetSuite flow on.
fn setup(sim: &NetsuiteSim, vendor_id: &str, vendor: &Vendor) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let p = dir.path();
    for d in ["partners", "secrets"] {
        std::fs::create_dir_all(p.join(d)).expect("folder");
    }
    for (name, value) in [
        ("ck", CONSUMER_KEY),
        ("cs", CONSUMER_SECRET),
        ("ti", TOKEN_ID),
        ("ts", TOKEN_SECRET),
    ] {
        std::fs::write(p.join("secrets").join(name), value).expect("secret");
    }
    std::fs::write(
        p.join("gateway.toml"),
        format!(
            r#"
[gateway]
data_dir = "var"
poll_interval_secs = 1
retry_secs = 1

[x12]
interchange_id = "ZZ:RETAILERID"

{channels}
[netsuite]
account = "{ACCOUNT}"
base_url = "{base}"
concurrency = 3
timeout_secs = 5
poll_secs = 1

[netsuite.auth]
method = "tba"
consumer_key_file = "secrets/ck"
consumer_secret_file = "secrets/cs"
token_id_file = "secrets/ti"
token_secret_file = "secrets/ts"

[netsuite.flows]
purchase_orders = true
po_acks = true
ship_notices = true
invoices = true
inventory = true

[netsuite.inventory]
batch = 2
"#,
            channels = vendor.channels,
            base = sim.base_url()
        ),
    )
    .expect("gateway.toml");
    std::fs::write(
        p.join("partners/acme.toml"),
        format!(
            "[x12]\ninterchange_id = \"ZZ:VENDORID\"\nacknowledgment = \"none\"\n\n[[inbound]]\nchannel = \"acme-in\"\n\n[outbound]\nchannel = \"acme-out\"\n\n[netsuite]\nvendor = \"{vendor_id}\"\n"
        ),
    )
    .expect("partner");
    dir
}

fn config(dir: &Path) -> String {
    dir.join("gateway.toml").to_string_lossy().into_owned()
}

/// An X12 document from VENDORID: ISA, GS, the set's segments, trailers.
fn x12(control: u32, functional: &str, segments: &[String]) -> String {
    let mut out = format!(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *261206*0800*U*00401*{control:09}*0*P*>~\nGS*{functional}*VENDORID*RETAILERID*20261206*0800*{control}*X*004010~\n"
    );
    for s in segments {
        out.push_str(s);
        out.push_str("~\n");
    }
    out.push_str(&format!(
        "SE*{}*0001~\nGE*1*{control}~\nIEA*1*{control:09}~\n",
        segments.len() + 1
    ));
    out
}

/// A ship notice for `po`: one package with `tracking`, the items
/// (PO line, vendor SKU, quantity).
fn asn(control: u32, number: &str, po: &str, tracking: &str, items: &[(u32, &str, u32)]) -> String {
    let mut s = vec![
        "ST*856*0001".to_string(),
        format!("BSN*00*{number}*20261206*0800"),
        "HL*1**S".into(),
        "TD5**2*UPSN".into(),
        "DTM*011*20261206".into(),
        "HL*2*1*O".into(),
        format!("PRF*{po}"),
        "HL*3*2*P".into(),
        format!("MAN*CP*{tracking}"),
    ];
    for (i, (line, sku, qty)) in items.iter().enumerate() {
        s.push(format!("HL*{}*3*I", i + 4));
        s.push(format!("LIN*{line}*VN*{sku}"));
        s.push(format!("SN1*{line}*{qty}*EA"));
    }
    s.push(format!("CTT*{}", items.len() + 3));
    x12(control, "SH", &s)
}

/// A line acknowledged: PO line, vendor SKU, quantity, price, ACK01, the
/// date it promises.
type AckLine<'a> = (u32, &'a str, u32, &'a str, &'a str, Option<&'a str>);

/// An acknowledgment of `po`.
fn acknowledgment(control: u32, po: &str, lines: &[AckLine<'_>]) -> String {
    let mut s = vec![
        "ST*855*0001".to_string(),
        format!("BAK*00*AC*{po}*20261206"),
    ];
    for (line, sku, qty, price, code, date) in lines {
        s.push(format!("PO1*{line}*{qty}*EA*{price}**VN*{sku}"));
        match date {
            Some(d) => s.push(format!("ACK*{code}*{qty}*EA*068*{d}")),
            None => s.push(format!("ACK*{code}*{qty}*EA")),
        }
    }
    s.push(format!("CTT*{}", lines.len()));
    x12(control, "PR", &s)
}

/// An invoice for `po`: the items (PO line, vendor SKU, quantity, price).
fn invoice(control: u32, number: &str, po: &str, items: &[(u32, &str, u32, &str)]) -> String {
    let mut s = vec![
        "ST*810*0001".to_string(),
        format!("BIG*20261206*{number}*20261204*{po}"),
        "N1*VN*Acme Supply Co*92*V-ACME".into(),
    ];
    let mut total = 0u64;
    for (line, sku, qty, price) in items {
        s.push(format!("IT1*{line}*{qty}*EA*{price}**VN*{sku}"));
        let cents: u64 = price.replace('.', "").parse::<u64>().expect("a price")
            * if price.contains('.') {
                10u64.pow(2 - price.split('.').nth(1).map_or(0, |d| d.len() as u32))
            } else {
                100
            };
        total += cents * u64::from(*qty);
    }
    s.push(format!("TDS*{total}"));
    s.push(format!("CTT*{}", items.len()));
    x12(control, "IN", &s)
}

/// `dropgate run --once` until no delivery waits (NetSuite's included).
fn run_until_done(dir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut said = String::new();
    loop {
        let out = dropgate(&["run", "--once", "-c", &config(dir)]);
        said.push_str(&text(&out.stdout));
        said.push_str(&text(&out.stderr));
        let status = dropgate(&["status", "-c", &config(dir)]);
        let status = text(&status.stdout);
        if status.contains("deliveries waiting: 0") {
            return said;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries still waiting after a minute:\n{status}\n{said}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The demo vendor's internal ID.
fn vendor_id(sim: &NetsuiteSim, external: &str) -> String {
    sim.records("vendor")
        .iter()
        .find(|v| v["externalId"] == external)
        .map(id_of)
        .unwrap_or_else(|| panic!("no vendor {external}"))
}

/// Creates a drop-ship sales order for the demo customer; its ID.
fn sales_order(sim: &NetsuiteSim, lines: &[(&str, u32)]) -> String {
    let items: Vec<Value> = lines
        .iter()
        .map(|(item, qty)| {
            json!({"item": {"externalId": item}, "quantity": qty, "rate": 20, "createPo": {"id": "DropShip"}})
        })
        .collect();
    let answer = sim.call(
        "POST",
        "/services/rest/record/v1/salesOrder",
        Some(&json!({
            "entity": {"externalId": "C-DEMO"},
            "otherRefNum": "WEB-1001",
            "shippingAddress": {"addressee": "Dana Whitfield", "addr1": "1187 Larkspur Lane",
                "city": "Boise", "state": "ID", "zip": "83702", "country": {"id": "US"}},
            "item": {"items": items}
        })),
    );
    assert_eq!(answer.status, 204, "{}", answer.body);
    answer.location_id().expect("the order's ID")
}

/// The purchase order NetSuite made for sales order `so`: (ID, number).
fn purchase_order_of(sim: &NetsuiteSim, so: &str) -> (String, String) {
    let po = sim
        .records("purchaseOrder")
        .into_iter()
        .find(|p| id_of(&p["createdFrom"]) == so)
        .expect("the drop-ship purchase order");
    (
        id_of(&po),
        po["tranId"].as_str().unwrap_or_default().to_string(),
    )
}

fn quantities(record: &Value) -> Vec<(i64, f64)> {
    record["item"]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|l| {
                    (
                        l["orderLine"].as_i64().unwrap_or(-1),
                        l["quantity"].as_f64().unwrap_or(-1.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn tracking(record: &Value) -> Vec<String> {
    record["package"]["items"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|x| x["packageTrackingNumber"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_dropship_loop_runs_through_netsuite_once_whatever_fails_on_folders() {
    the_loop(&Vendor::folders());
}

#[test]
fn the_dropship_loop_runs_through_netsuite_once_whatever_fails_by_mail() {
    let Some(vendor) = Vendor::mail() else {
        return;
    };
    the_loop(&vendor);
}

#[test]
fn the_dropship_loop_runs_through_netsuite_once_whatever_fails_on_sftp() {
    let Some(vendor) = Vendor::sftp() else {
        return;
    };
    the_loop(&vendor);
}

/// The whole loop with `vendor`'s channels.
fn the_loop(vendor: &Vendor) {
    let sim = NetsuiteSim::start(&["--seed"]);
    let acme = vendor_id(&sim, "V-ACME");
    let dir = setup(&sim, &acme, vendor);
    let p = dir.path();
    let so = sales_order(&sim, &[("I-WIDGET", 3), ("I-GADGET", 2)]);
    let (po_id, po) = purchase_order_of(&sim, &so);

    // The order reaches the vendor as an 850, and is marked sent.
    let out = dropgate(&["netsuite", "pull-orders", "-c", &config(p)]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(
        said.contains(&format!("queued {po} (original) for acme")),
        "{said}"
    );
    let sent = vendor.orders();
    assert_eq!(sent.len(), 1, "one 850");
    assert!(sent[0].contains(&format!("BEG*00*DS*{po}*")), "{}", sent[0]);
    assert!(
        sent[0].contains("ACME-WB-100") && sent[0].contains("ACME-GR-200"),
        "{}",
        sent[0]
    );
    assert!(
        sent[0].contains("N1*ST*Dana Whitfield"),
        "the customer's address: {}",
        sent[0]
    );
    let marked = sim
        .records("purchaseOrder")
        .into_iter()
        .find(|r| id_of(r) == po_id)
        .expect("the PO");
    assert_eq!(marked["custbody_dropgate_sent"], json!(true), "{marked}");
    // Seen again (marking changed it): not sent, not marked again.
    let again = dropgate(&["netsuite", "pull-orders", "-c", &config(p)]);
    let said = text(&again.stdout);
    assert!(
        said.contains("0 queued, 1 unchanged, 0 marked sent"),
        "{said}"
    );
    assert_eq!(vendor.orders().len(), 1);

    // The vendor acknowledges: the widget accepted, the gadget
    // backordered to the 15th; each line says so in NetSuite.
    vendor.put(
        "ack-1.edi",
        &acknowledgment(
            100,
            &po,
            &[
                (1, "ACME-WB-100", 3, "4.25", "IA", None),
                (2, "ACME-GR-200", 2, "11.50", "IB", Some("20261215")),
            ],
        ),
    );
    run_until_done(p);
    let acknowledged = sim
        .records("purchaseOrder")
        .into_iter()
        .find(|r| id_of(r) == po_id)
        .expect("the PO");
    let lines = acknowledged["item"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(lines.len(), 2, "{acknowledged}");
    assert_eq!(
        lines[0]["custcol_dropgate_ack_status"], "accepted IA",
        "{acknowledged}"
    );
    assert_eq!(
        lines[1]["custcol_dropgate_ack_status"], "backordered IB",
        "{acknowledged}"
    );
    assert_eq!(
        lines[1]["custcol_dropgate_ship_date"], "2026-12-15",
        "{acknowledged}"
    );
    assert_eq!(
        lines[0]["quantity"].as_f64(),
        Some(3.0),
        "the lines are merged, not replaced"
    );

    // A partial shipment; NetSuite fails the first transform (503).
    sim.fault(json!({"status": 503, "times": 1, "path_contains": "!transform/itemFulfillment"}));
    vendor.put(
        "asn-1.edi",
        &asn(
            101,
            "ASN-1",
            &po,
            "1Z999AA10000000001",
            &[(1, "ACME-WB-100", 3)],
        ),
    );
    run_until_done(p);
    let fulfilled = sim.records("itemFulfillment");
    assert_eq!(fulfilled.len(), 1, "{fulfilled:?}");
    assert_eq!(
        fulfilled[0]["externalId"],
        json!(format!("dg-856-acme-ASN-1-{po}"))
    );
    assert_eq!(
        quantities(&fulfilled[0]),
        vec![(1, 3.0)],
        "only the widget: {}",
        fulfilled[0]
    );
    assert_eq!(tracking(&fulfilled[0]), vec!["1Z999AA10000000001"]);

    // The rest; the answer to the transform is lost after the write.
    sim.fault(json!({"drop_after_write": true, "times": 1, "path_contains": "!transform/itemFulfillment"}));
    vendor.put(
        "asn-2.edi",
        &asn(
            102,
            "ASN-2",
            &po,
            "1Z999AA10000000002",
            &[(2, "ACME-GR-200", 2)],
        ),
    );
    run_until_done(p);
    let fulfilled = sim.records("itemFulfillment");
    assert_eq!(
        fulfilled.len(),
        2,
        "the lost answer made no second one: {fulfilled:?}"
    );
    assert_eq!(
        quantities(&fulfilled[1]),
        vec![(2, 2.0)],
        "{}",
        fulfilled[1]
    );
    assert_eq!(tracking(&fulfilled[1]), vec!["1Z999AA10000000002"]);

    // The invoice: NetSuite busy (429) twice, then the bill's answer lost.
    sim.fault(json!({"rate_limit": true, "times": 2}));
    sim.fault(
        json!({"drop_after_write": true, "times": 1, "path_contains": "!transform/vendorBill"}),
    );
    vendor.put(
        "inv-1.edi",
        &invoice(
            103,
            "INV-1",
            &po,
            &[
                (1, "ACME-WB-100", 3, "4.25"),
                (2, "ACME-GR-200", 2, "11.50"),
            ],
        ),
    );
    run_until_done(p);
    let bills = sim.records("vendorBill");
    assert_eq!(bills.len(), 1, "{bills:?}");
    assert_eq!(bills[0]["tranId"], "INV-1");
    assert_eq!(bills[0]["externalId"], "dg-810-acme-INV-1");
    assert_eq!(id_of(&bills[0]["createdFrom"]), po_id);
    assert_eq!(
        quantities(&bills[0]),
        vec![(1, 3.0), (2, 2.0)],
        "{}",
        bills[0]
    );

    // The same invoice again is a duplicate bill: never billed twice.
    vendor.put(
        "inv-1-again.edi",
        &invoice(
            104,
            "INV-1",
            &po,
            &[
                (1, "ACME-WB-100", 3, "4.25"),
                (2, "ACME-GR-200", 2, "11.50"),
            ],
        ),
    );
    run_until_done(p);
    assert_eq!(sim.records("vendorBill").len(), 1);
    let status = text(&dropgate(&["status", "-c", &config(p)]).stdout);
    assert!(!status.contains("set aside for a person"), "{status}");
}

#[test]
fn a_ship_notice_for_an_order_netsuite_lacks_waits_for_a_person_and_goes_once_retried() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let acme = vendor_id(&sim, "V-ACME");
    let vendor = Vendor::folders();
    let dir = setup(&sim, &acme, &vendor);
    let p = dir.path();
    let so = sales_order(&sim, &[("I-WIDGET", 1)]);
    let (_, po) = purchase_order_of(&sim, &so);
    // The number NetSuite will give the next purchase order.
    let digits = po.trim_start_matches(|c: char| !c.is_ascii_digit());
    let next: u64 = digits.parse().expect("a numbered PO");
    let later = format!("{}{}", &po[..po.len() - digits.len()], next + 1);
    // A notice for that PO, which NetSuite does not have yet, then one for
    // a real one: the second is not held up by the first.
    vendor.put(
        "asn-x.edi",
        &asn(201, "ASN-X", &later, "1ZX", &[(1, "ACME-WB-100", 1)]),
    );
    run_until_done(p);
    vendor.put(
        "asn-y.edi",
        &asn(202, "ASN-Y", &po, "1ZY", &[(1, "ACME-WB-100", 1)]),
    );
    run_until_done(p);
    assert_eq!(sim.records("itemFulfillment").len(), 1);
    let status = text(&dropgate(&["status", "-c", &config(p)]).stdout);
    assert!(status.contains("set aside for a person: 1"), "{status}");
    assert!(
        status.contains(&format!("NetSuite has no purchase order {later}")),
        "{status}"
    );
    let first_id = |listed: &str| {
        listed
            .split_whitespace()
            .next()
            .expect("a number")
            .to_string()
    };
    let listed = text(&dropgate(&["netsuite", "attention", "-c", &config(p)]).stdout);
    assert!(listed.contains("ship_notice ASN-X"), "{listed}");
    let id = first_id(&listed);

    // Retried while NetSuite still lacks it: set aside again, under a new
    // number; the old one is gone from the list.
    let out = dropgate(&["netsuite", "retry", &id, "--by", "ops", "-c", &config(p)]);
    assert!(
        text(&out.stdout).contains(&format!("{id}: queued again")),
        "{}",
        text(&out.stdout)
    );
    run_until_done(p);
    let listed = text(&dropgate(&["netsuite", "attention", "-c", &config(p)]).stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("ship_notice ASN-X"), "{listed}");
    let again = first_id(&listed);
    assert_ne!(again, id, "{listed}");
    // Retried once more, the same number: nothing waits under the old one.
    let out = dropgate(&["netsuite", "retry", &id, "-c", &config(p)]);
    assert!(text(&out.stdout).contains("nothing waits under this number"));
    assert_eq!(sim.records("itemFulfillment").len(), 1);

    // The order exists now; retried, the notice goes through, once.
    let so = sales_order(&sim, &[("I-WIDGET", 1)]);
    assert_eq!(purchase_order_of(&sim, &so).1, later);
    let out = dropgate(&["netsuite", "retry", "--all", "-c", &config(p)]);
    assert!(text(&out.stdout).contains(&format!("{again}: queued again")));
    run_until_done(p);
    let fulfilled = sim.records("itemFulfillment");
    assert_eq!(fulfilled.len(), 2, "{fulfilled:?}");
    assert!(
        fulfilled
            .iter()
            .any(|f| f["externalId"] == json!(format!("dg-856-acme-ASN-X-{later}"))),
        "{fulfilled:?}"
    );
    let listed = text(&dropgate(&["netsuite", "attention", "-c", &config(p)]).stdout);
    assert!(listed.contains("nothing is set aside"), "{listed}");
    let status = text(&dropgate(&["status", "-c", &config(p)]).stdout);
    assert!(!status.contains("set aside for a person"), "{status}");
}

#[test]
fn a_daemon_killed_while_a_fulfillment_is_written_makes_one_after_its_restart() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let acme = vendor_id(&sim, "V-ACME");
    let vendor = Vendor::folders();
    let dir = setup(&sim, &acme, &vendor);
    let p = dir.path();
    let so = sales_order(&sim, &[("I-GADGET", 4)]);
    let (_, po) = purchase_order_of(&sim, &so);
    // The transform is slow: the daemon is killed while it waits.
    sim.fault(json!({"slow_ms": 3000, "times": 1, "path_contains": "!transform/itemFulfillment"}));
    let mut daemon = Daemon::start(&p.join("gateway.toml"));
    vendor.put(
        "asn-k.edi",
        &asn(301, "ASN-K", &po, "1ZK", &[(1, "ACME-GR-200", 4)]),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    // The slow fault is taken by the transform: it is under way.
    loop {
        let stats = sim.stats();
        if stats["faults_pending"] == json!(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the transform never started: {stats}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon.kill();
    let killed = Instant::now();
    // Killed in the middle of the request: NetSuite may or may not finish
    // it. Either way, one fulfillment after the restart.
    let mut daemon = Daemon::start(&p.join("gateway.toml"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = text(&dropgate(&["status", "-c", &config(p)]).stdout);
        if status.contains("deliveries waiting: 0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never done after the restart:\n{status}\n{}",
            daemon.lines().join("\n")
        );
        assert!(
            daemon.is_running(),
            "the daemon ended:\n{}",
            daemon.lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    daemon.signal("-TERM");
    daemon.wait(Duration::from_secs(20));
    // The slow request of the killed daemon has had its time too.
    std::thread::sleep(Duration::from_millis(3500).saturating_sub(killed.elapsed()));
    let fulfilled = sim.records("itemFulfillment");
    assert_eq!(
        fulfilled.len(),
        1,
        "exactly one after the kill: {fulfilled:?}"
    );
    assert_eq!(quantities(&fulfilled[0]), vec![(1, 4.0)]);
}

#[test]
fn a_file_of_many_ship_notices_goes_side_by_side_within_the_governance_limit_one_order_at_a_time() {
    let sim = NetsuiteSim::start(&["--seed", "--concurrency", "3"]);
    let acme = vendor_id(&sim, "V-ACME");
    let vendor = Vendor::folders();
    let dir = setup(&sim, &acme, &vendor);
    let p = dir.path();
    // The limit as NetSuite's governance says: a pool of 3, one left to
    // the account's other integrations.
    let toml = std::fs::read_to_string(p.join("gateway.toml")).expect("read");
    std::fs::write(
        p.join("gateway.toml"),
        toml.replace("concurrency = 3", "concurrency = \"auto\""),
    )
    .expect("write");
    // Five orders; the first shipped in two notices, in the same file.
    let mut orders = Vec::new();
    for _ in 0..5 {
        let so = sales_order(&sim, &[("I-WIDGET", 2)]);
        orders.push(purchase_order_of(&sim, &so).1);
    }
    let mut file = asn(
        400,
        "ASN-400",
        &orders[0],
        "1Z400",
        &[(1, "ACME-WB-100", 1)],
    );
    for (i, po) in orders.iter().enumerate() {
        let n = 401 + i as u32;
        file.push_str(&asn(
            n,
            &format!("ASN-{n}"),
            po,
            &format!("1Z{n}"),
            &[(1, "ACME-WB-100", if i == 0 { 1 } else { 2 })],
        ));
    }
    // NetSuite answers in 150 ms: side by side is what makes it quick.
    sim.fault(json!({"slow_ms": 150, "times": 10000}));
    vendor.put("asns.edi", &file);
    run_until_done(p);
    let fulfilled = sim.records("itemFulfillment");
    assert_eq!(fulfilled.len(), 6, "{fulfilled:?}");
    let stats = sim.stats();
    let most = stats["max_concurrency"].as_u64().unwrap_or(0);
    assert_eq!(most, 2, "the governance limit less one: {stats}");
    assert_eq!(stats["limit_refusals"], json!(0), "{stats}");
    // The order shipped twice: 1 then 1, neither over what was left.
    let of_first: Vec<_> = fulfilled
        .iter()
        .filter(|f| {
            f["externalId"]
                .as_str()
                .is_some_and(|e| e.ends_with(&format!("-{}", orders[0])))
        })
        .collect();
    assert_eq!(of_first.len(), 2, "{fulfilled:?}");
    let status = text(&dropgate(&["status", "-c", &config(p)]).stdout);
    assert!(!status.contains("set aside for a person"), "{status}");
}

/// An inventory report: (vendor SKU, quantity available).
fn stock(control: u32, items: &[(&str, u32)]) -> String {
    let mut s = vec![
        "ST*846*0001".to_string(),
        "BIA*00*MM*STOCK-1*20261206".into(),
    ];
    for (i, (sku, qty)) in items.iter().enumerate() {
        s.push(format!("LIN*{}*VN*{sku}", i + 1));
        s.push(format!("QTY*33*{qty}*EA"));
    }
    s.push(format!("CTT*{}", items.len()));
    x12(control, "IB", &s)
}

#[test]
fn an_inventory_report_reaches_the_items_in_batches_and_names_what_netsuite_lacks() {
    let sim = NetsuiteSim::start(&["--seed"]);
    let acme = vendor_id(&sim, "V-ACME");
    let vendor = Vendor::folders();
    let dir = setup(&sim, &acme, &vendor);
    let p = dir.path();
    let before = sim.stats()["requests"].as_u64().unwrap_or(0);
    vendor.put(
        "stock.edi",
        &stock(
            501,
            &[("ACME-WB-100", 40), ("ACME-GR-200", 0), ("NOPE-1", 5)],
        ),
    );
    run_until_done(p);
    let items = sim.records("inventoryItem");
    let qty = |external: &str| {
        items
            .iter()
            .find(|i| i["externalId"] == external)
            .map(|i| i["custitem_dropgate_vendor_qty"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(qty("I-WIDGET"), json!(40), "{items:?}");
    assert_eq!(qty("I-GADGET"), json!(0), "{items:?}");
    assert_eq!(
        qty("I-SPROCKET"),
        Value::Null,
        "another vendor's item is untouched"
    );
    // Three items, batches of two: two requests, not three.
    let requests = sim.stats()["requests"].as_u64().unwrap_or(0) - before;
    assert_eq!(requests, 2, "{}", sim.stats());
    let listed = text(&dropgate(&["netsuite", "attention", "-c", &config(p)]).stdout);
    assert!(
        listed.contains("inventory_advice STOCK-1")
            && listed.contains("2 item(s) written, 1 not: no item with vendorname NOPE-1"),
        "{listed}"
    );
}

#[test]
fn a_purchase_order_changed_or_closed_in_netsuite_goes_out_again_as_a_replacement_or_a_cancellation()
 {
    let sim = NetsuiteSim::start(&["--seed"]);
    let acme = vendor_id(&sim, "V-ACME");
    let vendor = Vendor::folders();
    let dir = setup(&sim, &acme, &vendor);
    let p = dir.path();
    let so = sales_order(&sim, &[("I-WIDGET", 3), ("I-GADGET", 2)]);
    let (po_id, po) = purchase_order_of(&sim, &so);
    let pull = || {
        let out = dropgate(&["netsuite", "pull-orders", "-c", &config(p)]);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    pull();
    assert_eq!(vendor.orders().len(), 1);
    // The buyer changes the widget's quantity in NetSuite.
    let changed = sim.call(
        "PATCH",
        &format!("/services/rest/record/v1/purchaseOrder/{po_id}"),
        Some(&json!({"item": {"items": [{"line": 1, "quantity": 5}]}})),
    );
    assert_eq!(changed.status, 204, "{}", changed.body);
    let said = pull();
    assert!(
        said.contains(&format!("queued {po} (replace) for acme")),
        "{said}"
    );
    let orders = vendor.orders();
    assert_eq!(orders.len(), 2, "{orders:?}");
    let replacement = orders
        .iter()
        .find(|o| o.contains(&format!("BEG*05*DS*{po}*")))
        .expect("a replacement 850");
    assert!(replacement.contains("PO1*1*5"), "{replacement}");
    // Unchanged since: nothing more.
    assert!(pull().contains("0 queued, 1 unchanged"));
    // Every line closed: the order is cancelled.
    let closed = sim.call(
        "PATCH",
        &format!("/services/rest/record/v1/purchaseOrder/{po_id}"),
        Some(&json!({"item": {"items": [{"line": 1, "isClosed": true}, {"line": 2, "isClosed": true}]}})),
    );
    assert_eq!(closed.status, 204, "{}", closed.body);
    let said = pull();
    assert!(
        said.contains(&format!("queued {po} (cancel) for acme")),
        "{said}"
    );
    let orders = vendor.orders();
    assert_eq!(orders.len(), 3, "{orders:?}");
    assert!(
        orders
            .iter()
            .any(|o| o.contains(&format!("BEG*01*DS*{po}*"))),
        "{orders:?}"
    );
}

#[test]
fn check_config_names_the_line_of_each_netsuite_problem() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path();
    std::fs::create_dir_all(p.join("partners")).expect("partners");
    std::fs::write(p.join("ck"), "CK\n").expect("secret");
    std::fs::write(
        p.join("gateway.toml"),
        "[gateway]\ndata_dir = \"var\"\n\n[netsuite]\naccount = \"1234567_SB1\"\nbase_url = \"ftp://nowhere\"\npoll_secs = 0\n\n[netsuite.auth]\nmethod = \"tba\"\nconsumer_key_file = \"ck\"\nconsumer_secret_env = \"DROPGATE_TEST_UNSET_SECRET\"\ntoken_id_file = \"ck\"\n\n[netsuite.flows]\ninventory = true\n\n[netsuite.inventory]\nbatch = 5000\n",
    )
    .expect("config");
    let out = dropgate(&["check-config", "-c", &config(p)]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for expected in [
        "gateway.toml:6:1: [netsuite] base_url \"ftp://nowhere\" is not an http:// or https:// URL",
        "gateway.toml:7:1: [netsuite] poll_secs must be at least 1",
        "gateway.toml:9:11: [netsuite] the consumer secret: the environment variable DROPGATE_TEST_UNSET_SECRET (consumer_secret_env) is not set",
        "gateway.toml:9:11: [netsuite] the token secret: set token_secret_env or token_secret_file",
        "gateway.toml:18:11: [netsuite] [netsuite.inventory] batch is 1 to 1000 items a request",
    ] {
        assert!(err.contains(expected), "no {expected:?} in:\n{err}");
    }
    assert!(
        !err.contains("CK"),
        "a secret's value is never shown:\n{err}"
    );
}
