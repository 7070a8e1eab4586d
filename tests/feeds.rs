//! Excel, fixed-width and JSON feeds end to end: through `dropgate
//! translate` with a partner's mappings, and through the gateway, where a
//! workbook is read when the partner's mapping says xlsx (and refused as
//! what it is otherwise), and a fixed-width file whose trailer does not
//! count its records is quarantined with the reason.

mod support;

use std::path::Path;

use dropgate::config;
use dropgate::daemon::Gateway;
use dropgate::store::FileState;
use rust_xlsxwriter::{Format, Formula, Workbook};
use support::cli::{dropgate, root, text};

const STOCK_XLSX: &str = "mappings/partners/tallyhome/inventory/tallyhome-stock-2024-w11.xlsx";
const STOCK_DAT: &str = "mappings/partners/ironvale/inventory/IVSTK-20240315.dat";

fn skus(json: &[u8]) -> Vec<String> {
    let docs: serde_json::Value = serde_json::from_slice(json).expect("JSON out");
    docs[0]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["sku"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_workbook_and_a_fixed_width_file_are_found_by_their_partner() {
    // No --mapping: the workbook is known for one by its bytes, the
    // fixed-width file is text the partner has a fixed mapping for.
    let out = dropgate(&["translate", STOCK_XLSX, "--partner", "tallyhome"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(skus(&out.stdout), ["00123", "00124", "00125"]);
    let out = dropgate(&["translate", STOCK_DAT, "--partner", "ironvale"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(skus(&out.stdout), ["IV-10020", "IV-10021", "IV-10022"]);
    let out = dropgate(&[
        "translate",
        "mappings/partners/brightwave/inventory/stock-page-1.json",
        "--partner",
        "brightwave",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(skus(&out.stdout), ["BW-2201", "BW-2202"]);
    // A workbook where the partner reads CSV is named for what it is.
    let out = dropgate(&["translate", STOCK_XLSX, "--partner", "nordlys"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("tallyhome-stock-2024-w11.xlsx: an Excel workbook (.xlsx), not a feed"),
        "{err}"
    );
}

fn fixed_lines(trailer: &str, extra: &str) -> Vec<u8> {
    // The sample is Windows-1252: each byte a char here, and back.
    let bytes = std::fs::read(root().join(STOCK_DAT)).expect("sample");
    let mut t: String = bytes.iter().map(|&c| char::from(c)).collect();
    t = t.replace("T0000003", trailer);
    t.push_str(extra);
    t.chars().map(|c| c as u32 as u8).collect()
}

#[test]
fn fixed_width_mistakes_name_the_line_and_column() {
    let dir = tempfile::tempdir().expect("temp");
    let run = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let p = path.display().to_string();
        dropgate(&["translate", &p, "--partner", "ironvale"])
    };
    let out = run("count.dat", &fixed_lines("T0000004", ""));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "count.dat, line 6: the trailer record's record_count says 4 records, and the file has 3 (detail records)"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = run("cut.dat", &fixed_lines("", ""));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "cut.dat, line 6: the file ends without its trailer record (\"T\"), whose record_count counts the records: it may be cut short"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = run("code.dat", &fixed_lines("T0000003", "X junk\r\n"));
    assert!(
        text(&out.stderr).contains(
            "code.dat, line 7, column 1: \"X\" is not a record code of the layout (\"H\", \"D\", \"T\")"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = run("short.dat", &fixed_lines("T0000003", "DIV-1  short\r\n"));
    assert!(
        text(&out.stderr)
            .contains("short.dat, line 7, column 13: the detail record is 12 characters long"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_json_list_at_the_top_maps_item_by_item() {
    let dir = tempfile::tempdir().expect("temp");
    let mapping = dir.path().join("list.toml");
    std::fs::write(
        &mapping,
        r#"[mapping]
direction = "inbound"
document = "inventory_advice"
format = "json"

[inventory_advice.items]
each = "item"
stream = true
sku = { from = "sku", required = true }
quantity_available = "qty"
"#,
    )
    .expect("mapping");
    let input = dir.path().join("stock.json");
    std::fs::write(&input, br#"[{"sku":"A","qty":1},{"sku":"B","qty":"2"}]"#).expect("input");
    let out = dropgate(&[
        "translate",
        &input.display().to_string(),
        "--mapping",
        &mapping.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(skus(&out.stdout), ["A", "B"]);
}

/// A workbook of `rows` items in TallyHome's layout, written by the test.
fn workbook(rows: u32) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Stock").expect("name");
    sheet
        .merge_range(0, 0, 0, 8, "Title", &Format::new())
        .expect("title");
    for (c, h) in [
        "Item #",
        "UPC",
        "Description",
        "On Hand",
        "Unit",
        "Cost",
        "Extended",
        "Next Delivery",
        "Warehouse",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(2, c as u16, *h).expect("header");
    }
    for i in 0..rows {
        let r = 3 + i;
        sheet.write_string(r, 0, format!("{:05}", i)).expect("sku");
        sheet.write_number(r, 3, f64::from(i)).expect("qty");
        sheet
            .write_formula(r, 5, Formula::new("=1+1").set_result("2"))
            .expect("cost");
    }
    book.save_to_buffer().expect("saved")
}

#[test]
fn a_large_sheet_is_streamed_record_by_record() {
    let dir = tempfile::tempdir().expect("temp");
    let input = dir.path().join("big.xlsx");
    std::fs::write(&input, workbook(5000)).expect("write");
    let out = dropgate(&[
        "translate",
        &input.display().to_string(),
        "--mapping",
        "partners/tallyhome/inventory",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = skus(&out.stdout);
    assert_eq!(got.len(), 5000);
    assert_eq!(got[4999], "04999");
}

fn gateway_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("drop")).expect("drop");
    std::fs::create_dir_all(dir.join("partners")).expect("partners");
    std::fs::copy(
        root().join("samples/partners/nordlys.toml"),
        dir.join("partners/nordlys.toml"),
    )
    .expect("nordlys");
    std::fs::write(
        dir.join("partners/tallyhome.toml"),
        "[partner]\nname = \"TallyHome Goods\"\n\n[[inbound]]\nchannel = \"drop\"\npatterns = [\"tallyhome-*.xlsx\"]\n",
    )
    .expect("tallyhome");
    std::fs::write(
        dir.join("partners/ironvale.toml"),
        "[partner]\nname = \"Ironvale Supply\"\n\n[[inbound]]\nchannel = \"drop\"\npatterns = [\"IVSTK-*.dat\"]\n",
    )
    .expect("ironvale");
    std::fs::write(
        dir.join("gateway.toml"),
        r#"
[gateway]
data_dir = "var"
partners = "partners"

[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0

[relay]
type = "file"
path = "relay"
"#,
    )
    .expect("gateway.toml");
}

#[test]
fn the_gateway_reads_workbooks_its_partners_send_and_checks_trailers() {
    let dir = tempfile::tempdir().expect("temp");
    let p = dir.path();
    gateway_folder(p);
    let bytes = std::fs::read(root().join(STOCK_XLSX)).expect("sample");
    std::fs::write(p.join("drop/tallyhome-stock-2024-w11.xlsx"), &bytes).expect("xlsx");
    // The same workbook from a partner whose mapping reads CSV.
    std::fs::write(p.join("drop/stock-20240315.csv"), &bytes).expect("misnamed");
    std::fs::write(
        p.join("drop/IVSTK-20240315.dat"),
        fixed_lines("T0000003", ""),
    )
    .expect("dat");
    std::fs::write(
        p.join("drop/IVSTK-20240316.dat"),
        fixed_lines("T0000002", ""),
    )
    .expect("cut");
    let config = config::load(&p.join("gateway.toml")).expect("configuration loads");
    let mut g = Gateway::open(config).expect("gateway opens");
    let report = g.pass().expect("a pass");
    let mut seen: Vec<(String, FileState, String)> = report
        .files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.state,
                f.detail.clone().unwrap_or_default(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let state = |name: &str| {
        seen.iter()
            .find(|f| f.0 == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {seen:?}"))
    };
    assert_eq!(
        state("tallyhome-stock-2024-w11.xlsx").1,
        FileState::Processed,
        "{seen:?}"
    );
    assert_eq!(
        state("IVSTK-20240315.dat").1,
        FileState::Processed,
        "{seen:?}"
    );
    let (_, cut, why) = state("IVSTK-20240316.dat");
    assert_eq!(cut, FileState::Quarantined);
    assert!(
        why.contains(
            "line 6: the trailer record's record_count says 2 records, and the file has 3"
        ),
        "{why}"
    );
    let (_, refused, why) = state("stock-20240315.csv");
    assert_eq!(refused, FileState::Quarantined);
    assert!(
        why.starts_with("an Excel workbook (.xlsx), not a feed"),
        "{why}"
    );
    let relayed = support::cli::names(&p.join("relay"));
    assert_eq!(relayed.len(), 2, "{relayed:?}");
}

/// The README's Excel and fixed-width mappings run as written on the
/// samples and give the items the partners' full mappings give.
#[test]
fn the_readme_feed_mappings_run_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let dir = tempfile::tempdir().expect("temp");
    for (format, sample, partner) in [
        ("xlsx", STOCK_XLSX, "tallyhome"),
        ("fixed", STOCK_DAT, "ironvale"),
    ] {
        let block = readme
            .split("```toml\n")
            .filter_map(|b| b.split("```").next())
            .find(|b| b.contains(&format!("format = \"{format}\"")))
            .unwrap_or_else(|| panic!("the README shows a {format} mapping"));
        let toml: String = block
            .lines()
            .map(|l| l.strip_prefix("   ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let mapping = dir.path().join(format!("{format}.toml"));
        std::fs::write(&mapping, toml).expect("mapping");
        let from_readme = dropgate(&[
            "translate",
            sample,
            "--mapping",
            &mapping.display().to_string(),
        ]);
        assert!(
            from_readme.status.success(),
            "{format}: {}",
            text(&from_readme.stderr)
        );
        let full = dropgate(&["translate", sample, "--partner", partner]);
        assert_eq!(skus(&from_readme.stdout), skus(&full.stdout), "{format}");
    }
}

/// A workbook's records are mapped straight from their cells, as a CSV
/// feed's are, and give exactly what the tree gives.
#[test]
fn workbook_rows_take_the_fast_path_and_agree_with_the_tree() {
    let library = dropgate::mapping::Library::embedded();
    let defs = dropgate::x12::defs::Definitions::embedded();
    let bytes = std::fs::read(root().join(STOCK_XLSX)).expect("sample");
    let from_rows = dropgate::mapping::harness::same_from_rows_and_tree(
        &bytes,
        "partners/tallyhome/inventory",
        &library,
        defs,
    );
    // Three items and the totals row (which `when` leaves out), less the
    // first record, which goes through the tree as a CSV feed's does.
    assert_eq!(from_rows, 3);
    let big = workbook(300);
    let from_rows = dropgate::mapping::harness::same_from_rows_and_tree(
        &big,
        "partners/tallyhome/inventory",
        &library,
        defs,
    );
    assert_eq!(from_rows, 299);
}

/// The documents of a translation, without their `source` (which names
/// the file).
fn without_source(json: &[u8]) -> serde_json::Value {
    let mut docs: serde_json::Value = serde_json::from_slice(json).expect("JSON out");
    for d in docs.as_array_mut().expect("documents") {
        if let Some(map) = d.as_object_mut() {
            map.remove("source");
        }
    }
    docs
}

#[test]
fn a_legacy_xls_workbook_reads_as_its_xlsx_twin() {
    // The same sheet written as Excel 97-2003 (BIFF8) by xlwt
    // (scripts/make-xls-sample.py): merged titles, the header on row 4,
    // text SKUs and quantities, date cells, a text date and a bare serial.
    let xls = root().join("tests/fixtures/feeds/tallyhome-stock-2024-w11.xls");
    let from_xls = dropgate(&[
        "translate",
        "--mapping",
        "partners/tallyhome/inventory",
        &xls.to_string_lossy(),
    ]);
    assert_eq!(
        from_xls.status.code(),
        Some(0),
        "{}",
        text(&from_xls.stderr)
    );
    let from_xlsx = dropgate(&[
        "translate",
        "--mapping",
        "partners/tallyhome/inventory",
        &root().join(STOCK_XLSX).to_string_lossy(),
    ]);
    assert_eq!(
        from_xlsx.status.code(),
        Some(0),
        "{}",
        text(&from_xlsx.stderr)
    );
    assert_eq!(skus(&from_xls.stdout), ["00123", "00124", "00125"]);
    assert_eq!(
        without_source(&from_xls.stdout),
        without_source(&from_xlsx.stdout)
    );
    let items = without_source(&from_xls.stdout)[0]["items"].clone();
    assert_eq!(items[0]["quantity_available"], 1250);
    assert_eq!(items[0]["next_available_date"], "2024-04-01");
    assert_eq!(items[1]["next_available_date"], "2024-04-15");
    assert_eq!(items[2]["next_available_date"], "2024-04-15");
    assert_eq!(items[1]["warehouse"], "Columbus OH", "the merged cell");
}
