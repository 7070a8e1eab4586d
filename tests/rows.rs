//! CSV records mapped straight from their fields (the fast path of
//! `src/mapping/rows.rs`) give exactly what mapping them through the tree
//! gives: the same bytes out, the same problems, warnings and errors. Random
//! feeds are tried with mappings that use every option the fast path
//! takes, and with shapes that send records back to the tree.

use std::path::Path;

use dropgate::mapping::Library;
use dropgate::mapping::harness::same_from_rows_and_tree;
use dropgate::mapping::translate::{Request, translate};
use dropgate::x12::defs::Definitions;
use proptest::prelude::*;

/// Every rule option the fast path takes, on a Latin-1 `;` feed; bad rows
/// are skipped (or, in `strict`, fail the feed).
const INVENTORY: &str = r#"
[mapping]
direction = "inbound"
document = "inventory_advice"
format = "csv"

[mapping.csv]
delimiter = ";"
encoding = "latin-1"

[inventory_advice]
supplier = "'ACME'"
as_of = { from = "record[1]/eta", pattern = '^(\d\d\.\d\d\.\d{4})$', date = "DD.MM.YYYY" }

[inventory_advice.items]
each = "record"
stream = true
ON_ERROR
when = "status != X|Z and not(hidden = Y)"
sku = { from = ["sku", "alt"], case = "upper", null = ["N/A", "-"] }
upc = { from = "3", pattern = '^(\d+)$' }
description = { join = ["name", "color", "'(c)'"], separator = " / " }
quantity_available = { from = "qty", decimal = ",", thousands = ".", default = "0" }
uom = { from = "uom", codes = { "Stk" = "EA", "Krt" = "CA" }, unknown = "error" }
unit_cost = { from = "cost", decimal = ",", or = { from = "list", decimal = ",", decimals = 2 } }
warehouse = { value = "MAIN", when = "wh = Y" }
next_available_date = { from = "eta", date = ["DD.MM.YYYY", "YYYY-MM-DD"] }
next_available_quantity = { from = "eta_qty", remove = " ", truncate = 4 }
"#;

/// Required fields, an enum, an unmapped list and lists of values (which
/// the fast path leaves to the tree) on a UTF-8 `,` feed.
const SETS: &str = r#"
[mapping]
direction = "inbound"
document = "functional_ack"
format = "csv"

[functional_ack]
functional_id = "'PO'"
group_control_number = "'1'"

[functional_ack.sets]
each = "record"
stream = true
ON_ERROR
set_id = "sku"
control_number = { from = "qty", trim = false }
status = { from = "status", codes = { "A" = "accepted", "R" = "rejected", "E" = "accepted_with_errors" }, unknown = "keep" }
"#;

fn library(dir: &Path) -> Library {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).expect("mapping written");
    };
    write(
        "inventory.toml",
        &INVENTORY.replace("ON_ERROR", r#"on_error = "skip""#),
    );
    write("strict.toml", &INVENTORY.replace("ON_ERROR", ""));
    write(
        "untrimmed.toml",
        &INVENTORY.replace("ON_ERROR", "").replace(
            "encoding = \"latin-1\"",
            "encoding = \"latin-1\"\ntrim = false",
        ),
    );
    write(
        "sets.toml",
        &SETS.replace("ON_ERROR", r#"on_error = "skip""#),
    );
    write("sets-strict.toml", &SETS.replace("ON_ERROR", ""));
    // Required rules: a header without their columns fails the feed, a
    // record without their values is left out (or fails the feed).
    let required = INVENTORY
        .replace(
            r#"null = ["N/A", "-"] }"#,
            r#"null = ["N/A", "-"], required = true }"#,
        )
        .replace(r#"default = "0" }"#, r#"default = "0", required = true }"#)
        .replace(
            r#"{ value = "MAIN", when = "wh = Y" }"#,
            r#"{ value = "MAIN", when = "wh = Y", required = true }"#,
        );
    write(
        "required.toml",
        &required.replace("ON_ERROR", r#"on_error = "skip""#),
    );
    write("required-strict.toml", &required.replace("ON_ERROR", ""));
    write(
        "values.toml",
        &SETS.replace("ON_ERROR", "").replace(
            "[functional_ack.sets]",
            "[functional_ack.sets]\nerror_codes = { from = \"name\", all = true }",
        ),
    );
    Library::with_dir(dir).expect("mappings load")
}

/// The columns the feeds draw their header from: every name a mapping
/// reads, a number (which a wide record's extra column may repeat) and
/// one no mapping reads.
const COLUMNS: [&str; 15] = [
    "sku", "alt", "upc", "name", "color", "qty", "uom", "cost", "list", "wh", "eta", "eta_qty",
    "status", "hidden", "4",
];

/// Field values: blanks, padding, numbers in both notations, dates, codes,
/// quotes and delimiters, Latin-1 letters and spaces (0xA0, 0x85), a
/// vertical tab, and bytes that are not UTF-8.
const VALUES: [&[u8]; 32] = [
    b" Y ",
    b"X\t",
    b"",
    b" ",
    b"  x ",
    b"abc",
    b"N/A",
    b"-",
    b"Stk",
    b"Krt",
    b"Box",
    b"1.234,5",
    b"12,5",
    b"7",
    b"-0",
    b"007",
    b"1e3",
    b"31.12.2024",
    b"2024-02-30",
    b"2024-12-31",
    b"Y",
    b"X",
    b"Z",
    b"\"a;b\"\"c\"",
    b"\"multi\nline\"",
    b"K\xfchlbox",
    b"\xa0pad\xa0",
    b"\x85nel",
    b"\x0bvt\x0b",
    b"4006381300001",
    b"A",
    b"\xe2\x80\x83em",
];

/// A feed: the header's columns, and rows of values (most as wide as the
/// header, some narrower or wider).
fn feed(delimiter: u8, header: &[usize], rows: &[(Vec<usize>, bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in header.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        out.extend_from_slice(COLUMNS[c % COLUMNS.len()].as_bytes());
    }
    out.push(b'\n');
    for (row, as_wide) in rows {
        let mut row = row.clone();
        if *as_wide {
            row.resize(header.len(), 3);
        }
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(delimiter);
            }
            out.extend_from_slice(VALUES[v % VALUES.len()]);
        }
        out.push(b'\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn rows_and_tree_agree(
        header in prop::collection::vec(0usize..COLUMNS.len(), 1..16),
        rows in prop::collection::vec(
            (prop::collection::vec(0usize..VALUES.len(), 0..18), prop::bool::weighted(0.8)),
            0..12,
        ),
    ) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let library = library(dir.path());
        let defs = Definitions::embedded();
        let latin1 = feed(b';', &header, &rows);
        for m in ["inventory", "strict", "untrimmed", "required", "required-strict"] {
            same_from_rows_and_tree(&latin1, &dir.path().join(format!("{m}.toml")).to_string_lossy(), &library, defs);
        }
        let utf8 = feed(b',', &header, &rows);
        for m in ["sets", "sets-strict", "values"] {
            same_from_rows_and_tree(&utf8, &dir.path().join(format!("{m}.toml")).to_string_lossy(), &library, defs);
        }
    }
}

/// A number in a path is a position, also when the header has a column of
/// that name and a wide record's 13th field is named "13" like it: both
/// ways read the 13th field.
#[test]
fn numbers_are_positions_both_ways() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mapping = dir.path().join("numbered.toml");
    std::fs::write(
        &mapping,
        INVENTORY.replace("ON_ERROR", "").replace(
            r#"sku = { from = ["sku", "alt"], case = "upper", null = ["N/A", "-"] }"#,
            r#"sku = "13""#,
        ),
    )
    .expect("mapping written");
    let library = Library::with_dir(dir.path()).expect("mappings load");
    let data = b"sku;13;qty;uom\n1;a;2;Stk\n5;b;3;Stk\n6;c;4;Krt;;;;;;;;;x\n7;d;5;Stk\n";
    let taken = same_from_rows_and_tree(
        data,
        &mapping.to_string_lossy(),
        &library,
        Definitions::embedded(),
    );
    assert_eq!(
        taken, 3,
        "every record but the first is mapped from its fields"
    );
}

/// What the fast path writes, checked against fixed expectations rather
/// than against the tree alone.
#[test]
fn rows_map_every_option_as_documented() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let library = library(dir.path());
    let data = "sku;alt;upc;name;color;qty;uom;cost;list;wh;eta;eta_qty;status\n\
                n/a;;1;First;;1.234,5;Stk;12,5;;Y;31.12.2024;1 2 3 4 5;A\n\
                ;alt-2;x9;Second;red;;Krt;;3,456;N;2024-12-31;;A\n\
                skip;;;;;;Stk;;;;;;X\n\
                bad;;;;;;Dose;;;;;;A\n";
    let request = Request {
        file_name: "feed.csv".into(),
        mapping: Some(
            dir.path()
                .join("inventory.toml")
                .to_string_lossy()
                .into_owned(),
        ),
        lines: true,
        ..Request::default()
    };
    let (outcome, out) = translate(
        data.as_bytes(),
        &request,
        &library,
        Definitions::embedded(),
        Vec::new(),
    )
    .expect("translates");
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("one JSON document");
    assert_eq!(
        doc["items"],
        serde_json::json!([
            {"sku": "N/A", "upc": "1", "description": "First / (c)", "quantity_available": 1234.5,
             "uom": "EA", "unit_cost": 12.5, "warehouse": "MAIN",
             "next_available_date": "2024-12-31", "next_available_quantity": 1234},
            {"sku": "ALT-2", "description": "Second / red / (c)", "quantity_available": 0,
             "uom": "CA", "unit_cost": 3.46, "next_available_date": "2024-12-31"}
        ]),
        "{doc}"
    );
    // The first record goes through the tree (the fields before the list
    // read it); the others, the one left out by `when` included, do not.
    assert_eq!(outcome.rows_from_fields, 3);
    let problems: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("record 4, line 5, field \"uom\"")
            && problems[0].contains("\"Dose\" is not in the code table"),
        "{problems:?}"
    );
}

/// Every mapping of the property test loads and takes records from their
/// fields (a mapping that failed to load would fail both ways alike, and
/// the comparison would prove nothing).
#[test]
fn every_test_mapping_takes_the_fast_path() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let library = library(dir.path());
    let latin1 = b"sku;qty;uom;wh;status\na;1;Stk; Y ;A\nb;2;Stk; Y ;A\nc;3;Krt;Y;A\n";
    let utf8 = b"sku,qty,uom,wh,status\na,1,Stk,Y,A\nb,2,Stk,Y,R\nc,3,Krt,Y,E\n";
    for (m, data) in [
        ("inventory", &latin1[..]),
        ("strict", latin1),
        ("untrimmed", latin1),
        ("required", latin1),
        ("required-strict", latin1),
        ("sets", utf8),
        ("sets-strict", utf8),
    ] {
        let mapping = dir.path().join(format!("{m}.toml"));
        let request = Request {
            file_name: "feed.csv".into(),
            mapping: Some(mapping.to_string_lossy().into_owned()),
            lines: true,
            ..Request::default()
        };
        let (outcome, _) = translate(
            data,
            &request,
            &library,
            Definitions::embedded(),
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{m}: {e}"));
        assert!(outcome.problems.is_empty(), "{m}: {:?}", outcome.problems);
        assert_eq!(outcome.rows_from_fields, 2, "{m}");
        same_from_rows_and_tree(
            data,
            &mapping.to_string_lossy(),
            &library,
            Definitions::embedded(),
        );
    }
}

/// A required rule without a value leaves the record out (with
/// `on_error = "skip"`) or fails the feed, and a header without any of its
/// columns fails the feed at once: the same from the fields and through
/// the tree.
#[test]
fn required_rules_fail_records_and_headers_alike() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let library = library(dir.path());
    let defs = Definitions::embedded();
    let run = |m: &str, data: &[u8]| {
        let mapping = dir.path().join(format!("{m}.toml"));
        let request = Request {
            file_name: "feed.csv".into(),
            mapping: Some(mapping.to_string_lossy().into_owned()),
            lines: true,
            ..Request::default()
        };
        let result = translate(data, &request, &library, defs, Vec::new())
            .map(|(o, out)| {
                (
                    String::from_utf8_lossy(&out).into_owned(),
                    o.problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                    o.rows_from_fields,
                )
            })
            .map_err(|e| e.to_string());
        same_from_rows_and_tree(data, &mapping.to_string_lossy(), &library, defs);
        result
    };
    // The third record has no SKU (nor an alternative one).
    let data = b"sku;alt;qty;uom;wh\na;;1;Stk;Y\nb;;2;Stk;Y\n-;;3;Stk;Y\nd;;4;Stk;Y\n";
    let (out, problems, taken) = run("required", data).expect("translates");
    assert_eq!(
        taken, 3,
        "the records after the first are taken from their fields"
    );
    let doc: serde_json::Value = serde_json::from_str(out.trim()).expect("a document");
    let skus: Vec<&str> = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["sku"].as_str())
        .collect();
    assert_eq!(skus, ["A", "B", "D"]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(
            "record 3, line 4: items[2].sku: is required, and the mapping found no value"
        ),
        "{problems:?}"
    );
    let e = run("required-strict", data).expect_err("the feed fails");
    assert!(
        e.contains("record 3, line 4: items[2].sku: is required"),
        "{e}"
    );

    // A header whose SKU columns were renamed.
    let renamed = b"item;qty;uom;wh\na;1;Stk;Y\n";
    let e = run("required", renamed).expect_err("the feed fails at its header");
    assert!(
        e.contains("feed.csv: the header: items[].sku: is required, and the header has no column \"sku\" or \"alt\""),
        "{e}"
    );
}
