//! The sample orders of `scripts/run.sh`, run as the script runs them: in
//! a copy of `samples/` (its gateway.toml, partners and drop files, with
//! `var/` beside it), the twelve orders and the cancellation in
//! `samples/orders/` sent to Acme with `dropgate send-po`, then Acme's
//! answers dropped with the other sample files and one pass run. Each
//! order must end in the state it is there to show, every state of the
//! lifecycle shown by one; and the committed samples must be what
//! `scripts/make-demo-orders.py` makes.

mod support;

use std::path::{Path, PathBuf};

use dropgate::config;
use dropgate::daemon::{Gateway, orders};
use dropgate::lifecycle::OrderState;
use dropgate::store::FileState;
use support::cli::{dropgate, names, root, text};

/// Each sample order and the state one pass leaves it in, in the order
/// they are sent (the n-th goes out in Acme's group n).
const ORDERS: [(&str, OrderState); 12] = [
    ("PO-58201", OrderState::Sent),
    ("PO-58202", OrderState::Acknowledged),
    ("PO-58203", OrderState::Accepted),
    ("PO-58204", OrderState::Backordered),
    ("PO-58205", OrderState::PartlyShipped),
    ("PO-58206", OrderState::Shipped),
    ("PO-58207", OrderState::Invoiced),
    ("PO-58208", OrderState::Reconciled),
    ("PO-58209", OrderState::Held),
    ("PO-58210", OrderState::Rejected),
    ("PO-58211", OrderState::Cancelled),
    ("PO-58212", OrderState::Shipped),
];

/// The ship notice for a PO Acme was never sent.
const UNKNOWN: &str = "PO-58120";

fn samples() -> PathBuf {
    root().join("samples")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for name in names(from) {
        // `copy` follows a link: the drop's files are links to samples/x12.
        std::fs::copy(from.join(&name), to.join(&name)).expect("copied");
    }
}

/// `dropgate ARGS -c CONFIG ...` in the copy; its output, or the test
/// fails with it.
fn run(config: &Path, args: &[&str]) -> String {
    let c = config.to_string_lossy();
    let mut all = vec![args[0], "-c", &c];
    all.extend(&args[1..]);
    let out = dropgate(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The segment `id`'s element `i` in an X12 file.
fn element(body: &str, id: &str, i: usize) -> String {
    body.split('~')
        .map(|s| s.trim().split('*').collect::<Vec<_>>())
        .find(|s| s[0] == id)
        .and_then(|s| s.get(i).map(|v| v.to_string()))
        .unwrap_or_else(|| panic!("no {id}{i:02} in {body}"))
}

#[test]
fn one_pass_leaves_the_sample_orders_in_every_state() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let copy = dir.path().join("samples");
    copy_dir(&samples().join("partners"), &copy.join("partners"));
    std::fs::copy(samples().join("gateway.toml"), copy.join("gateway.toml")).expect("copied");
    let config_file = copy.join("gateway.toml");
    let drop_dir = dir.path().join("var/drop");
    std::fs::create_dir_all(&drop_dir).expect("the drop");
    run(&config_file, &["check-config"]);

    // The orders, in the order scripts/run.sh sends them, the
    // cancellation last.
    let sent: Vec<PathBuf> = ORDERS
        .iter()
        .map(|(po, _)| samples().join(format!("orders/{po}.json")))
        .chain([samples().join("orders/PO-58211-cancel.json")])
        .collect();
    for file in &sent {
        let said = run(
            &config_file,
            &["send-po", "--partner", "acme", &file.to_string_lossy()],
        );
        assert!(said.contains(": queued as acme-po-"), "{said}");
    }
    // Each went out in its own group, numbered as Acme's 997s say.
    let outbox = dir.path().join("var/outbox/acme");
    let mut groups: Vec<(String, String, String)> = names(&outbox)
        .iter()
        .map(|name| {
            let body = std::fs::read_to_string(outbox.join(name)).expect("an order");
            (
                element(&body, "GS", 6),
                element(&body, "BEG", 3),
                element(&body, "BEG", 1),
            )
        })
        .collect();
    groups.sort_by_key(|(g, _, _)| g.parse::<u32>().unwrap_or(u32::MAX));
    let mut expected: Vec<(String, String, String)> = ORDERS
        .iter()
        .enumerate()
        .map(|(i, (po, _))| ((i + 1).to_string(), po.to_string(), "00".to_string()))
        .collect();
    expected.push(("13".into(), "PO-58211".into(), "01".into()));
    assert_eq!(groups, expected, "the groups the orders went in");

    copy_dir(&samples().join("drop"), &drop_dir);
    let answers: Vec<String> = names(&samples().join("orders"))
        .into_iter()
        .filter(|n| n.ends_with(".edi"))
        .collect();
    assert_eq!(
        answers,
        [
            "acme-1-997.edi",
            "acme-2-855.edi",
            "acme-3-856.edi",
            "acme-4-810.edi"
        ]
    );
    for name in &answers {
        std::fs::copy(samples().join("orders").join(name), drop_dir.join(name)).expect("dropped");
    }

    // One pass, as `run --once` (the drop's files are taken once two
    // seconds old: the pass waits for them).
    let config = config::load(&config_file).expect("configuration loads");
    let mut gateway = Gateway::open(config).expect("gateway opens");
    let report = gateway.pass().expect("a pass");
    for name in &answers {
        let file = report
            .files
            .iter()
            .find(|f| &f.name == name)
            .unwrap_or_else(|| panic!("{name} taken: {:?}", report.files));
        assert_eq!(file.state, FileState::Processed, "{file:?}");
    }

    let store = gateway.store();
    let mut shown = Vec::new();
    for (po, state) in ORDERS {
        let order = orders::order(store, "acme", po)
            .expect("the store answers")
            .unwrap_or_else(|| panic!("{po} is known"));
        assert_eq!(order.state, state, "{po}: {order:#?}");
        shown.push(order.state);
    }
    let unknown = orders::order(store, "acme", UNKNOWN)
        .expect("the store answers")
        .expect("the ship notice is kept");
    assert_eq!(unknown.state, OrderState::Unknown);
    assert_eq!(unknown.tracking, ["1Z8A4E710344633528"]);
    shown.push(unknown.state);
    for state in OrderState::ALL {
        assert!(shown.contains(&state), "no sample order is {state}");
    }

    // What the states rest on.
    let mut one = |po: &str| {
        orders::order(gateway.store(), "acme", po)
            .expect("the store answers")
            .expect("known")
    };
    let shipped = one("PO-58206");
    assert_eq!(shipped.tracking, ["1Z8A4E710344158382"]);
    assert!(shipped.fully_shipped());
    assert_eq!(
        one("PO-58212").tracking,
        ["1Z8A4E710344475146", "1Z8A4E710344554337"],
        "two parcels, two ship notices"
    );
    let backordered = one("PO-58204");
    assert_eq!(
        backordered.due,
        chrono::NaiveDate::from_ymd_opt(2027, 2, 15),
        "promised for 2027: not late"
    );
    let invoiced = one("PO-58207");
    assert_eq!(invoiced.invoices.len(), 1);
    assert_eq!(
        invoiced.invoices[0].status,
        Some(dropgate::model::ReconciliationStatus::Matched),
        "billed exactly for what shipped, the rest to come"
    );
    let held = one("PO-58209");
    assert_eq!(held.invoices[0].variances, 1, "the kettle's price");
    drop(gateway);

    // The same on the command line, and the exceptions run.sh prints.
    let list = run(&config_file, &["orders"]);
    for (po, state) in ORDERS {
        assert!(
            list.lines()
                .any(|l| l.starts_with(po) && l.split_whitespace().nth(2) == Some(state.as_str())),
            "{po} {state} in\n{list}"
        );
    }
    let one = run(&config_file, &["orders", "PO-58206"]);
    assert!(
        one.starts_with("purchase order PO-58206 for acme: shipped"),
        "{one}"
    );
    assert!(one.contains("tracking 1Z8A4E710344158382"), "{one}");
    let exceptions = run(&config_file, &["exceptions", "--check"]);
    for reason in [
        "purchase order PO-58203 was due to ship by ",
        "invoice INV-58209 (1 variance) for purchase order PO-58209 held by reconciliation",
        "acme rejected purchase order PO-58210",
    ] {
        assert!(exceptions.contains(reason), "{reason} in\n{exceptions}");
    }
}

#[test]
fn the_committed_samples_are_what_the_script_makes() {
    let Some(python) = support::which("python3") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = std::process::Command::new(python)
        .arg(root().join("scripts/make-demo-orders.py"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made = names(dir.path());
    assert_eq!(made, names(&samples().join("orders")));
    for name in made {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&name)).expect("made"),
            std::fs::read_to_string(samples().join("orders").join(&name)).expect("committed"),
            "{name}: run scripts/make-demo-orders.py and commit what it makes"
        );
    }
}
