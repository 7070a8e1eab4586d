//! Writes Excel workbooks for dropgate's samples and benchmarks, with
//! rust_xlsxwriter (which stores formulas' results, as Excel does).
//!
//! `cargo run --example xlsx_generate -- sample OUT.xlsx` writes the
//! TallyHome stock list of `mappings/partners/tallyhome/inventory/`: a
//! merged title, the header on row 4, SKUs stored as text, quantities as
//! text with thousands separators, dates as date-formatted serials, as
//! plain serials and as text, a formula with its cached value, a merged
//! warehouse cell, a totals row.
//!
//! `cargo run --release --example xlsx_generate -- large ROWS OUT.xlsx`
//! writes the same layout with ROWS item rows (for BENCHMARKS.md).

use rust_xlsxwriter::{Format, Formula, Workbook, Worksheet, XlsxError};

fn header(sheet: &mut Worksheet) -> Result<(), XlsxError> {
    let title = Format::new().set_bold().set_font_size(14);
    sheet.merge_range(0, 0, 0, 8, "TallyHome Goods - stock and prices", &title)?;
    sheet.merge_range(1, 0, 1, 8, "Week 11, 2024. Prices in USD.", &Format::new())?;
    let bold = Format::new().set_bold();
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
        sheet.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    Ok(())
}

fn sample(path: &str) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let read_me = book.add_worksheet();
    read_me.set_name("Read me")?;
    read_me.write_string(
        0,
        0,
        "Stock is on the sheet Stock. Call 555-0100 with questions.",
    )?;
    let sheet = book.add_worksheet();
    sheet.set_name("Stock")?;
    header(sheet)?;
    let date = Format::new().set_num_format("mm/dd/yyyy");
    let money = Format::new().set_num_format("$#,##0.00");
    // 00123: a SKU with leading zeros, stored as text.
    sheet.write_string(4, 0, "00123")?;
    sheet.write_string(4, 1, "012345678905")?;
    sheet.write_string(4, 2, "Linen napkins, set of 4")?;
    sheet.write_string(4, 3, "1,250")?;
    sheet.write_string(4, 4, "EA")?;
    sheet.write_number_with_format(4, 5, 6.5, &money)?;
    sheet.write_formula_with_format(4, 6, Formula::new("=D5*F5").set_result("8125"), &money)?;
    sheet.write_number_with_format(4, 7, 45383.0, &date)?;
    sheet.merge_range(4, 8, 5, 8, "Columbus OH", &Format::new())?;
    sheet.write_string(5, 0, "00124")?;
    sheet.write_string(5, 1, "012345678912")?;
    sheet.write_string(5, 2, "Table runner, oak")?;
    sheet.write_number(5, 3, 0.0)?;
    sheet.write_string(5, 4, "EA")?;
    sheet.write_number_with_format(5, 5, 12.0, &money)?;
    sheet.write_formula_with_format(5, 6, Formula::new("=D6*F6").set_result("0"), &money)?;
    // A date typed as text, as people do.
    sheet.write_string(5, 7, "04/15/2024")?;
    sheet.write_string(6, 0, "00125")?;
    sheet.write_string(6, 2, "Candle, beeswax")?;
    sheet.write_number(6, 3, 310.0)?;
    sheet.write_string(6, 4, "CS")?;
    sheet.write_formula_with_format(6, 5, Formula::new("=24*0.35").set_result("8.4"), &money)?;
    sheet.write_formula_with_format(6, 6, Formula::new("=D7*F7").set_result("2604"), &money)?;
    // A date stored as a bare serial number, in a cell not formatted as one.
    sheet.write_number(6, 7, 45397.0)?;
    sheet.write_string(6, 8, "Reno NV")?;
    sheet.write_string(8, 0, "Total")?;
    sheet.write_formula(8, 3, Formula::new("=SUM(D5:D7)").set_result("1560"))?;
    book.save(path)
}

fn large(rows: u32, path: &str) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Stock")?;
    header(sheet)?;
    let date = Format::new().set_num_format("mm/dd/yyyy");
    for i in 0..rows {
        let r = 4 + i;
        sheet.write_string(r, 0, format!("{:07}", i + 1))?;
        sheet.write_string(r, 1, format!("0{:011}", 12_345_000_000u64 + u64::from(i)))?;
        sheet.write_string(r, 2, format!("Item number {i}, assorted colours"))?;
        sheet.write_number(r, 3, f64::from(i % 5000))?;
        sheet.write_string(r, 4, "EA")?;
        sheet.write_number(r, 5, f64::from(i % 1000) / 4.0 + 0.99)?;
        let extended = f64::from(i % 5000) * (f64::from(i % 1000) / 4.0 + 0.99);
        sheet.write_formula(
            r,
            6,
            Formula::new(format!("=D{0}*F{0}", r + 1)).set_result(extended.to_string()),
        )?;
        sheet.write_number_with_format(r, 7, 45383.0 + f64::from(i % 90), &date)?;
        sheet.write_string(r, 8, if i % 2 == 0 { "Columbus OH" } else { "Reno NV" })?;
    }
    book.save(path)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["sample", out] => sample(out)?,
        ["large", rows, out] => large(rows.parse()?, out)?,
        _ => {
            eprintln!("usage: xlsx_generate sample OUT.xlsx | xlsx_generate large ROWS OUT.xlsx");
            std::process::exit(2);
        }
    }
    Ok(())
}
