//! The `[mapping.xlsx]` and `[mapping.fixed]` tables of a mapping file:
//! which sheet and header row of a workbook, and a fixed-width file's
//! layout (encoding, record code, each record type's columns), read into
//! the decoders' options, each mistake with its file and line.

use crate::format::csv::Encoding;
use crate::format::fixed::{Column, Count, Layout, Number, Position, RecordType};
use crate::format::xlsx::{HeaderRow, Sheet, XlsxOptions};

use super::MappingError;
use super::spec::{Spec, Value};

/// The name of the one record type of a layout without record codes.
pub const RECORD: &str = "record";

/// The most implied decimals a fixed-width column may have (what an exact
/// decimal holds).
const MAX_DECIMALS: u32 = 28;

/// Reads `[mapping.xlsx]`.
pub fn xlsx_options(v: &Spec) -> Result<XlsxOptions, MappingError> {
    let mut o = XlsxOptions::default();
    let table = v
        .table()
        .ok_or_else(|| v.error("[mapping.xlsx] is a table"))?;
    for (k, x) in table {
        match k.as_str() {
            "sheet" => {
                o.sheet = match &x.value {
                    Value::Str(s) if !s.trim().is_empty() => Sheet::Name(s.clone()),
                    Value::Int(n) if *n >= 1 => Sheet::Index(*n as usize),
                    _ => {
                        return Err(x.error(
                            "sheet takes the sheet's name, or its number from 1 (sheet = 2)",
                        ));
                    }
                }
            }
            "header_row" => {
                o.header = match &x.value {
                    Value::Int(n) if *n >= 1 && *n <= i64::from(u32::MAX) => {
                        HeaderRow::Number(*n as u32)
                    }
                    Value::Bool(false) => HeaderRow::None,
                    _ => {
                        return Err(x.error(
                            "header_row takes the header's row number as Excel shows it (header_row = 4), or false for none",
                        ));
                    }
                }
            }
            "header_cell" => {
                o.header = match x.as_str() {
                    Some(t) if !t.trim().is_empty() => HeaderRow::Cell(t.to_string()),
                    _ => {
                        return Err(x.error(
                            "header_cell takes the text of a cell of the header row (header_cell = \"Item #\")",
                        ));
                    }
                }
            }
            "max_columns" => {
                o.max_columns = match &x.value {
                    Value::Int(n) if *n > 0 => usize::try_from(*n).unwrap_or(usize::MAX),
                    _ => return Err(x.error("max_columns takes a whole number above 0")),
                }
            }
            other => {
                return Err(x.error(format!(
                    "{other} is not an xlsx option (sheet, header_row, header_cell, max_columns)"
                )));
            }
        }
    }
    if table.iter().any(|(k, _)| k == "header_row") && table.iter().any(|(k, _)| k == "header_cell")
    {
        return Err(v.error("say header_row or header_cell, not both"));
    }
    Ok(o)
}

fn whole(x: &Spec, what: &str, min: i64) -> Result<usize, MappingError> {
    match &x.value {
        Value::Int(n) if *n >= min => usize::try_from(*n).map_err(|_| x.error("too large")),
        _ => Err(x.error(format!("{what} takes a whole number from {min}"))),
    }
}

/// Reads a `{ start = 3, width = 10 }` (or `end = 12`) position.
fn position(v: &Spec, what: &str) -> Result<Position, MappingError> {
    let mut start = None;
    let mut width = None;
    let mut end = None;
    for (k, x) in v.table().unwrap_or(&[]) {
        match k.as_str() {
            "start" => start = Some(whole(x, "start", 1)?),
            "width" => width = Some(whole(x, "width", 1)?),
            "end" => end = Some(whole(x, "end", 1)?),
            _ => {}
        }
    }
    let start = start.ok_or_else(|| {
        v.error(format!(
            "{what} needs its first character, from 1: {{ start = 3, width = 10 }}"
        ))
    })?;
    let width = match (width, end) {
        (Some(w), None) => w,
        (None, Some(e)) if e >= start => e - start + 1,
        (None, Some(_)) => return Err(v.error(format!("{what} ends before it starts"))),
        _ => {
            return Err(v.error(format!(
                "{what} needs width (characters) or end (its last character), one of them"
            )));
        }
    };
    Ok(Position { start, width })
}

fn column(name: &str, v: &Spec) -> Result<Column, MappingError> {
    if v.table().is_none() {
        return Err(v.error(format!(
            "column {name} is a table: {{ start = 3, width = 10 }}, with decimals, overpunch or count if it is a number"
        )));
    }
    let at = position(v, &format!("column {name}"))?;
    let mut number: Option<Number> = None;
    let mut count = None;
    for (k, x) in v.table().unwrap_or(&[]) {
        match k.as_str() {
            "start" | "width" | "end" => {}
            "decimals" => {
                // An exact decimal holds at most 28 places.
                number.get_or_insert_with(Number::default).decimals =
                    u32::try_from(whole(x, "decimals", 0)?)
                        .ok()
                        .filter(|d| *d <= MAX_DECIMALS)
                        .ok_or_else(|| x.error(format!("decimals: at most {MAX_DECIMALS}")))?;
            }
            "overpunch" => {
                let on = x
                    .as_bool()
                    .ok_or_else(|| x.error("overpunch takes true or false"))?;
                number.get_or_insert_with(Number::default).overpunch = on;
            }
            "number" => {
                if x.as_bool()
                    .ok_or_else(|| x.error("number takes true or false"))?
                {
                    number.get_or_insert_with(Number::default);
                }
            }
            "count" => {
                count = Some(match &x.value {
                    Value::Str(s) if s == "*" => Count::All,
                    Value::Str(s) => Count::Records(vec![s.clone()]),
                    Value::Array(items) => Count::Records(
                        items
                            .iter()
                            .map(|i| {
                                i.as_str()
                                    .map(String::from)
                                    .ok_or_else(|| i.error("count names record types"))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => {
                        return Err(x.error(
                            "count takes the record types it counts (count = \"detail\"), or \"*\" for every record",
                        ));
                    }
                });
                number.get_or_insert_with(Number::default);
            }
            other => {
                return Err(x.error(format!(
                    "{other} is not a column option (start, width, end, decimals, overpunch, number, count)"
                )));
            }
        }
    }
    Ok(Column {
        name: name.to_string(),
        at,
        number,
        count,
    })
}

fn columns(v: &Spec, what: &str) -> Result<Vec<Column>, MappingError> {
    let table = v
        .table()
        .ok_or_else(|| v.error(format!("the columns of {what} are a table")))?;
    if table.is_empty() {
        return Err(v.error(format!("{what} has no columns")));
    }
    table.iter().map(|(k, x)| column(k, x)).collect()
}

/// Reads `[mapping.fixed]`.
pub fn fixed_layout(v: &Spec) -> Result<Layout, MappingError> {
    let mut layout = Layout::default();
    let table = v
        .table()
        .ok_or_else(|| v.error("[mapping.fixed] is a table"))?;
    let mut records: Option<&Spec> = None;
    let mut single: Option<&Spec> = None;
    for (k, x) in table {
        match k.as_str() {
            "encoding" => {
                let t = x.as_text().unwrap_or_default();
                layout.encoding = Encoding::from_name(&t).ok_or_else(|| {
                    x.error(format!(
                        "{t:?} is not an encoding (utf-8, windows-1252 or cp1252, latin-1)"
                    ))
                })?;
            }
            "code" => layout.code = Some(position(x, "code")?),
            "skip" => {
                layout.skip = match &x.value {
                    Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            i.as_text()
                                .ok_or_else(|| i.error("skip lists record codes"))
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(x.error("skip lists record codes: skip = [\"CM\"]")),
                }
            }
            "pad_short_lines" => {
                layout.pad_short_lines = x
                    .as_bool()
                    .ok_or_else(|| x.error("pad_short_lines takes true or false"))?;
            }
            "records" => records = Some(x),
            "columns" => single = Some(x),
            other => {
                return Err(x.error(format!(
                    "{other} is not a fixed-width option (encoding, code, records, columns, skip, pad_short_lines)"
                )));
            }
        }
    }
    match (layout.code, records, single) {
        (Some(_), Some(r), None) => {
            let types = r
                .table()
                .ok_or_else(|| r.error("[mapping.fixed.records] is a table of record types"))?;
            for (name, t) in types {
                let code = t.get("code").and_then(Spec::as_text).ok_or_else(|| {
                    t.error(format!("record type {name} needs its code = \"..\""))
                })?;
                if layout
                    .records
                    .iter()
                    .any(|r: &RecordType| r.code.as_deref() == Some(code.as_str()))
                {
                    return Err(t.error(format!("two record types have the code {code:?}")));
                }
                for (k, x) in t.table().unwrap_or(&[]) {
                    if k != "code" && k != "columns" {
                        return Err(
                            x.error(format!("{k} is not a record type key (code, columns)"))
                        );
                    }
                }
                let cols = t
                    .get("columns")
                    .ok_or_else(|| t.error(format!("record type {name} has no columns")))?;
                layout.records.push(RecordType {
                    name: name.clone(),
                    code: Some(code),
                    columns: columns(cols, &format!("record type {name}"))?,
                });
            }
            if layout.records.is_empty() {
                return Err(r.error("[mapping.fixed.records] names no record type"));
            }
        }
        (None, None, Some(c)) => layout.records.push(RecordType {
            name: RECORD.to_string(),
            code: None,
            columns: columns(c, "[mapping.fixed]")?,
        }),
        (Some(_), _, _) => {
            return Err(v.error(
                "with a record code, each record type has its columns: [mapping.fixed.records.detail] code = \"D\", and [mapping.fixed.records.detail.columns]",
            ));
        }
        (None, Some(r), _) => {
            return Err(r.error(
                "record types are told apart by a code: say where it is, code = { start = 1, width = 1 }",
            ));
        }
        (None, None, None) => {
            return Err(v.error(
                "[mapping.fixed] needs its columns ([mapping.fixed.columns]) or record types ([mapping.fixed.records.<type>])",
            ));
        }
    }
    // Counts name record types that exist.
    let names: Vec<String> = layout.records.iter().map(|r| r.name.clone()).collect();
    for r in &layout.records {
        for c in &r.columns {
            if let Some(Count::Records(types)) = &c.count
                && let Some(t) = types.iter().find(|t| !names.contains(t))
            {
                return Err(v.error(format!(
                    "column {} of {} counts {t:?}, which is not a record type ({})",
                    c.name,
                    r.name,
                    names.join(", ")
                )));
            }
        }
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> Result<Layout, String> {
        let spec = Spec::parse("m.toml", text).map_err(|e| e.to_string())?;
        let m = spec.get("mapping").and_then(|m| m.get("fixed"));
        fixed_layout(m.ok_or("no table")?).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_record_types_and_columns() {
        let l = fixed(
            r#"[mapping.fixed]
encoding = "cp1252"
code = { start = 1, width = 1 }
[mapping.fixed.records.header]
code = "H"
columns.date = { start = 2, end = 9 }
[mapping.fixed.records.detail]
code = "D"
columns.sku = { start = 2, width = 10 }
columns.qty = { start = 12, width = 5, overpunch = true, decimals = 1 }
[mapping.fixed.records.trailer]
code = "T"
columns.count = { start = 2, width = 6, count = "detail" }
"#,
        )
        .expect("reads");
        assert_eq!(l.encoding, Encoding::Windows1252);
        assert_eq!(l.records.len(), 3);
        assert_eq!(l.records[0].columns[0].at, Position { start: 2, width: 8 });
        assert_eq!(
            l.records[1].columns[1].number,
            Some(Number {
                decimals: 1,
                overpunch: true
            })
        );
        assert_eq!(
            l.records[2].columns[0].count,
            Some(Count::Records(vec!["detail".into()]))
        );
    }

    #[test]
    fn names_the_line_of_mistakes() {
        let e =
            fixed("[mapping.fixed]\ncolumns.a = { start = 0, width = 2 }\n").expect_err("start");
        assert!(
            e.contains("m.toml:2") && e.contains("start takes a whole number from 1"),
            "{e}"
        );
        let e = fixed(
            "[mapping.fixed]\ncode = { start = 1, width = 1 }\n[mapping.fixed.records.t]\ncode = \"T\"\ncolumns.n = { start = 2, width = 3, count = \"detail\" }\n",
        )
        .expect_err("count");
        assert!(
            e.contains("counts \"detail\", which is not a record type"),
            "{e}"
        );
        let e = fixed("[mapping.fixed]\ncolumns.a = { start = 2 }\n").expect_err("width");
        assert!(e.contains("needs width"), "{e}"); // A number of decimals no exact decimal holds (it would pad each
        // field with that many zeros).
        let e =
            fixed("[mapping.fixed]\ncolumns.a = { start = 1, width = 9, decimals = 4000000000 }\n")
                .expect_err("decimals");
        assert!(
            e.contains("m.toml:2") && e.contains("decimals: at most 28"),
            "{e}"
        );
    }
}
