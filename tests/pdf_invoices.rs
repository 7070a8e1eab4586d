//! PDF invoices read end to end by `dropgate translate`, checked against
//! the truth file that the sample's generator wrote beside it
//! (`samples/pdf/*/NAME.truth.json`): every invoice's number, date, PO
//! number, vendor, bill-to and ship-to (name, address, country),
//! subtotal, freight, discount, tax and total, and every line's SKU,
//! quantity, unit price and amount. Each sample is read
//! without a template (and by OCR for the scanned sample, which needs
//! tesseract and pdftoppm; under CI their absence fails the test), and
//! with its vendor's template where the repository has one.

mod support;

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde_json::Value;
use support::cli::{dropgate, root, text};

/// The samples whose vendor has a template in `mappings/partners/`: its
/// folder under `samples/pdf/` and the partner.
const TEMPLATES: &[(&str, &str)] = &[("harborline-outdoor", "harborline")];

/// The samples with a truth file, each PDF with its truth.
fn samples() -> Vec<(PathBuf, Value)> {
    let dir = root().join("samples/pdf");
    let mut found = Vec::new();
    for vendor in std::fs::read_dir(&dir).expect("samples/pdf").flatten() {
        let name = vendor.file_name().to_string_lossy().to_string();
        if matches!(name.as_str(), "bad" | "reader") || !vendor.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(vendor.path())
            .expect("vendor folder")
            .flatten()
        {
            let path = f.path();
            if path.extension().is_some_and(|e| e == "pdf") {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                // The encrypted copies share the truth of the plain one.
                let truth_stem = stem.trim_end_matches("-aes256").trim_end_matches("-rc4");
                let truth = vendor.path().join(format!("{truth_stem}.truth.json"));
                let truth: Value = serde_json::from_str(
                    &std::fs::read_to_string(&truth)
                        .unwrap_or_else(|e| panic!("{}: {e}", truth.display())),
                )
                .expect("a truth file");
                found.push((path, truth));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// A decimal from the truth (text) or the output (a number).
fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str_exact(s).ok(),
        Value::Number(n) => Decimal::from_str_exact(&n.to_string()).ok(),
        _ => None,
    }
    .map(|d| d.normalize())
}

/// The countries the truth files print, and their codes.
const COUNTRIES: &[(&str, &str)] = &[("Deutschland", "DE"), ("France", "FR"), ("España", "ES")];

/// Parties that extraction without a template does not read from a
/// sample, and why; they must be absent (not wrong).
const PARTIES_NOT_READ: &[(&str, &str, &str)] = &[
    (
        "nordwind",
        "bill_to",
        "the address in the envelope window has no label",
    ),
    (
        "copper-creek-pet",
        "bill_to",
        "OCR does not read the label and name on the scan",
    ),
];

/// Words of an address, commas aside, sorted (a European city line puts
/// the postal code first, the party has it last).
fn words_of<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut words: Vec<&str> = parts
        .into_iter()
        .flat_map(|p| p.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_unstable();
    words.join(" ")
}

/// A party's address as read (its lines after the name) and its country.
fn party_address(party: &Value) -> (String, Option<String>) {
    let parts = [
        "name2",
        "address1",
        "address2",
        "city",
        "state",
        "postal_code",
    ]
    .iter()
    .filter_map(|k| party[k].as_str());
    (
        words_of(parts),
        party["country"].as_str().map(str::to_string),
    )
}

/// A truth party's address lines, the last one a country's name or not.
fn truth_address(party: &Value) -> (String, Option<String>) {
    let mut lines: Vec<&str> = party["address"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let country = lines
        .last()
        .and_then(|last| COUNTRIES.iter().find(|(name, _)| name == last))
        .map(|(_, code)| code.to_string());
    if country.is_some() {
        lines.pop();
    }
    (words_of(lines), country)
}

/// Compares what was read with the truth; returns the differences. The
/// bill-to and ship-to are compared when `parties` (extraction without a
/// template reads them; a template maps what its author chose).
fn differences(file: &Path, got: &Value, want: &Value, parties: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut same = |what: &str, got: Option<String>, want: Option<String>| {
        if got != want {
            out.push(format!(
                "{}: {what}: read {got:?}, the truth is {want:?}",
                file.display()
            ));
        }
    };
    let s = |v: &Value| v.as_str().map(str::to_string);
    let d = |v: &Value| dec(v).map(|d| d.to_string());
    same(
        "invoice number",
        s(&got["invoice_number"]),
        s(&want["invoice_number"]),
    );
    same("date", s(&got["invoice_date"]), s(&want["invoice_date"]));
    same("PO number", s(&got["po_number"]), s(&want["po_number"]));
    same(
        "due date",
        s(&got["terms"]["due_date"]),
        s(&want["due_date"]),
    );
    same("currency", s(&got["currency"]), s(&want["currency"]));
    same(
        "vendor",
        s(&got["vendor"]["name"]),
        s(&want["vendor"]["name"]),
    );
    same("total", d(&got["total_amount"]), d(&want["total"]));
    same("subtotal", d(&got["subtotal"]), d(&want["subtotal"]));
    // Charges by code; the truth's zero is none.
    let charge = |code: &str| {
        got["charges"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["code"] == code))
            .and_then(|c| dec(&c["amount"]))
            .map(|a| a.to_string())
    };
    let truth_charge = |key: &str| {
        dec(&want[key])
            .filter(|a| !a.is_zero())
            .map(|a| a.abs().to_string())
    };
    same("freight", charge("freight"), truth_charge("freight"));
    same("discount", charge("discount"), truth_charge("discount"));
    same("tax", charge("tax"), truth_charge("tax"));
    for role in ["bill_to", "ship_to"] {
        if !parties {
            break;
        }
        if let Some((_, _, why)) = PARTIES_NOT_READ
            .iter()
            .find(|(folder, r, _)| *r == role && file.to_string_lossy().contains(folder))
        {
            same(&format!("{role} ({why})"), s(&got[role]["name"]), None);
            continue;
        }
        same(
            &format!("{role} name"),
            s(&got[role]["name"]),
            s(&want[role]["name"]),
        );
        let (got_address, got_country) = party_address(&got[role]);
        let (want_address, want_country) = truth_address(&want[role]);
        same(
            &format!("{role} address"),
            Some(got_address),
            Some(want_address),
        );
        same(&format!("{role} country"), got_country, want_country);
    }
    let got_lines = got["lines"].as_array().cloned().unwrap_or_default();
    let want_lines = want["lines"].as_array().cloned().unwrap_or_default();
    same(
        "lines",
        Some(got_lines.len().to_string()),
        Some(want_lines.len().to_string()),
    );
    for (n, (g, w)) in got_lines.iter().zip(&want_lines).enumerate() {
        let line = n + 1;
        same(&format!("line {line} SKU"), s(&g["sku"]), s(&w["sku"]));
        same(
            &format!("line {line} quantity"),
            d(&g["quantity"]),
            d(&w["quantity"]),
        );
        same(
            &format!("line {line} unit price"),
            d(&g["unit_price"]),
            d(&w["unit_price"]),
        );
        same(
            &format!("line {line} amount"),
            d(&g["amount"]),
            d(&w["amount"]),
        );
    }
    out
}

#[test]
fn every_sample_invoice_is_read_as_its_truth_file_says() {
    let scanned_needs_ocr = ["tesseract", "pdftoppm"]
        .iter()
        .find(|p| support::which(p).is_none());
    let mut problems = Vec::new();
    let mut invoices = 0;
    for (pdf, truth) in samples() {
        let is_scan = pdf.to_string_lossy().contains("scanned");
        if is_scan
            && let Some(missing) = scanned_needs_ocr
            && support::skip::unavailable::<()>(missing, "not on PATH").is_none()
        {
            continue;
        }
        // Without a template (as from a vendor that has none), and with its
        // vendor's template where the repository has one.
        let path = pdf.to_string_lossy().to_string();
        let mut runs = vec![(
            vec!["translate", "--partner", "a-new-vendor", path.as_str()],
            if is_scan { "ocr" } else { "generic" },
        )];
        for (folder, partner) in TEMPLATES {
            if path.contains(folder) {
                runs.push((
                    vec!["translate", "--partner", partner, path.as_str()],
                    "template",
                ));
            }
        }
        for (args, how) in runs {
            let out = dropgate(&args);
            if !out.status.success() {
                problems.push(format!(
                    "{}: exit {:?}: {}",
                    pdf.display(),
                    out.status.code(),
                    text(&out.stderr)
                ));
                continue;
            }
            let got: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
            let got = got.as_array().cloned().unwrap_or_default();
            let want = truth["invoices"].as_array().cloned().unwrap_or_default();
            if got.len() != want.len() {
                problems.push(format!(
                    "{}: {} invoice(s) read, the truth has {}",
                    pdf.display(),
                    got.len(),
                    want.len()
                ));
            }
            for (g, w) in got.iter().zip(&want) {
                invoices += 1;
                assert_eq!(g["source"]["format"], "pdf");
                assert_eq!(g["source"]["extraction"], how, "{}", pdf.display());
                problems.extend(differences(&pdf, g, w, how != "template"));
            }
        }
    }
    assert!(invoices >= 12, "only {invoices} invoices compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Where `got` and `want` differ, one line each (`/0/lines/3/quantity:
/// expected 2, got 3`).
fn json_diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                json_diff(
                    &format!("{path}/{k}"),
                    wv,
                    g.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    out.push(format!("{path}/{k}: expected nothing, got {gv}"));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            for (n, wv) in w.iter().enumerate() {
                json_diff(
                    &format!("{path}/{n}"),
                    wv,
                    g.get(n).unwrap_or(&Value::Null),
                    out,
                );
            }
            for (n, gv) in g.iter().enumerate().skip(w.len()) {
                out.push(format!("{path}/{n}: expected nothing, got {gv}"));
            }
        }
        (w, g) if w != g => out.push(format!("{path}: expected {w}, got {g}")),
        _ => {}
    }
}

/// The expected canonical output of `dropgate translate` beside each
/// sample PDF (`NAME.expected.json`, read without a template; for
/// Harborline with its template, the one `dropgate mapping test` checks in
/// mappings/partners/harborline/invoice/): the output must be the same,
/// and the expected file must agree with the truth file, so that a
/// refreshed golden file cannot bless a wrong value.
/// `DROPGATE_BLESS=1 cargo test --test pdf_invoices` rewrites them.
#[test]
fn every_sample_invoice_gives_its_expected_canonical_json() {
    let bless = std::env::var_os("DROPGATE_BLESS").is_some();
    let ocr_missing = ["tesseract", "pdftoppm"]
        .iter()
        .find(|p| support::which(p).is_none());
    let mut problems = Vec::new();
    let mut compared = 0;
    let mut goldens = Vec::new();
    for (pdf, truth) in samples() {
        if pdf.to_string_lossy().contains("scanned")
            && let Some(missing) = ocr_missing
            && support::skip::unavailable::<()>(missing, "not on PATH").is_none()
        {
            continue;
        }
        let expected = pdf.with_extension("expected.json");
        let out = dropgate(&[
            "translate",
            "--partner",
            "a-new-vendor",
            &pdf.to_string_lossy(),
        ]);
        let got: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
        if bless {
            let mut text = serde_json::to_string_pretty(&got).expect("JSON");
            text.push('\n');
            std::fs::write(&expected, text).expect("write the expected file");
        }
        goldens.push((pdf.clone(), expected.clone(), truth, true));
        let want: Value = match std::fs::read_to_string(&expected) {
            Ok(text) => serde_json::from_str(&text).expect("an expected file"),
            Err(e) => {
                problems.push(format!(
                    "{}: {e} (DROPGATE_BLESS=1 cargo test --test pdf_invoices writes it)",
                    expected.display()
                ));
                continue;
            }
        };
        compared += 1;
        let mut diff = Vec::new();
        json_diff("", &want, &got, &mut diff);
        if !diff.is_empty() {
            problems.push(format!(
                "{} differs from the output:\n  {}",
                expected.display(),
                diff.join("\n  ")
            ));
        }
    }
    // The template's expected output, checked against the output by
    // `dropgate mapping test`, here against the truth.
    for (folder, partner) in TEMPLATES {
        let dir = root()
            .join("mappings/partners")
            .join(partner)
            .join("invoice");
        for f in std::fs::read_dir(&dir)
            .expect("the template's folder")
            .flatten()
        {
            let name = f.file_name().to_string_lossy().to_string();
            if let Some(stem) = name.strip_suffix(".pdf.expected.json") {
                let truth = root()
                    .join("samples/pdf")
                    .join(folder)
                    .join(format!("{stem}.truth.json"));
                let truth: Value =
                    serde_json::from_str(&std::fs::read_to_string(&truth).expect("its truth"))
                        .expect("a truth file");
                goldens.push((dir.join(format!("{stem}.pdf")), f.path(), truth, false));
            }
        }
    }
    for (pdf, expected, truth, parties) in &goldens {
        let Ok(text) = std::fs::read_to_string(expected) else {
            continue;
        };
        let want: Value = serde_json::from_str(&text).expect("an expected file");
        let want = want.as_array().cloned().unwrap_or_default();
        let truths = truth["invoices"].as_array().cloned().unwrap_or_default();
        if want.len() != truths.len() {
            problems.push(format!(
                "{}: {} invoice(s), the truth has {}",
                expected.display(),
                want.len(),
                truths.len()
            ));
        }
        for (w, t) in want.iter().zip(&truths) {
            problems.extend(
                differences(pdf, w, t, *parties)
                    .into_iter()
                    .map(|d| format!("{} disagrees with the truth: {d}", expected.display())),
            );
        }
    }
    assert!(compared >= 11, "only {compared} expected files compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
