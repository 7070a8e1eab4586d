//! `[mapping.pdf]`: the part of a PDF mapping that says how its vendor's
//! invoices are read ([`Template`]); the rest of the mapping file maps
//! what it finds, like a CSV mapping maps its columns.
//!
//! ```toml
//! [mapping.pdf]
//! keywords = ["Copperleaf Pet Provisions", "INVOICE"]
//! exclude = ["CREDIT MEMO"]
//! starts = '^INVOICE$'          # a page with this line starts an invoice
//!
//! [mapping.pdf.values]
//! number = { right_of = "Invoice #", words = 1 }
//! po = { below = "P.O. Number" }
//! vendor = { region = [36, 36, 300, 80], page = 1 }
//! total = { pattern = 'Balance Due\s*(\S+)', page = "last" }
//!
//! [mapping.pdf.table]
//! header = ["Item", "Description", "Qty", "Rate", "Amount"]
//! columns = ["sku", "description", "qty", "rate", "amount"]
//! end = "Subtotal"
//! required = ["qty"]
//! numeric = ["qty", "rate", "amount"]   # right-aligned numbers
//! skip = ['^Page \d+ of \d+']
//! ```

use regex::Regex;

use super::MappingError;
use super::spec::{Spec, Value};
use crate::format::pdf::locate::{Locator, Pages};
use crate::format::pdf::page::Rect;
use crate::format::pdf::table::TableSpec;
use crate::format::pdf::template::{Template, Value as Named};

/// Reads `[mapping.pdf]`.
pub fn template(spec: &Spec) -> Result<Template, MappingError> {
    let mut t = Template::default();
    for (key, v) in spec.table().unwrap_or(&[]) {
        match key.as_str() {
            "keywords" => t.keywords = texts(v)?,
            "exclude" => t.exclude = texts(v)?,
            "starts" => t.starts = Some(pattern(v)?),
            "values" => {
                for (name, value) in v.table().ok_or_else(|| v.error("values is a table"))? {
                    t.values.push(named(name, value)?);
                }
            }
            "table" => t.table = Some(table(v)?),
            other => {
                return Err(v.error(format!(
                    "{other} is not a PDF option (keywords, exclude, starts, values, table)"
                )));
            }
        }
    }
    Ok(t)
}

fn text(v: &Spec) -> Result<String, MappingError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| v.error(format!("expected text, found {}", v.kind())))
}

fn texts(v: &Spec) -> Result<Vec<String>, MappingError> {
    match &v.value {
        Value::Array(items) => items.iter().map(text).collect(),
        _ => Ok(vec![text(v)?]),
    }
}

fn pattern(v: &Spec) -> Result<Regex, MappingError> {
    let p = text(v)?;
    Regex::new(&p).map_err(|e| v.error(format!("not a regular expression: {e}")))
}

fn count(v: &Spec) -> Result<usize, MappingError> {
    match &v.value {
        Value::Int(n) if *n > 0 => Ok(*n as usize),
        _ => Err(v.error("expected a whole number above 0")),
    }
}

fn number(v: &Spec) -> Result<f64, MappingError> {
    let n = match &v.value {
        Value::Int(n) => Some(*n as f64),
        Value::Float(f) => f.parse().ok(),
        _ => None,
    };
    n.filter(|n: &f64| n.is_finite())
        .ok_or_else(|| v.error("expected a number of points"))
}

/// A named value: one locator (`right_of`, `below`, `region`, `pattern`)
/// and its options (`words`, `lines`, `page`).
fn named(name: &str, v: &Spec) -> Result<Named, MappingError> {
    let table = v.table().ok_or_else(|| {
        v.error(format!(
            "value {name} is a table: {{ right_of = \"Label\" }}, below, region or pattern"
        ))
    })?;
    let mut locator = None;
    let mut words = None;
    let mut lines = 1;
    let mut pages = Pages::Any;
    for (key, x) in table {
        match key.as_str() {
            "right_of" | "below" | "region" | "pattern" if locator.is_some() => {
                return Err(x.error(format!("value {name} has more than one way to be found")));
            }
            "right_of" => locator = Some(("right_of", x)),
            "below" => locator = Some(("below", x)),
            "region" => locator = Some(("region", x)),
            "pattern" => locator = Some(("pattern", x)),
            "words" => words = Some(count(x)?),
            "lines" => lines = count(x)?,
            "page" => {
                pages = match &x.value {
                    Value::Int(n) if *n > 0 => Pages::Number(*n as u32),
                    Value::Str(s) if s == "last" => Pages::Last,
                    _ => return Err(x.error("page is a page number (from 1) or \"last\"")),
                }
            }
            other => {
                return Err(x.error(format!(
                    "{other} is not an option of a value (right_of, below, region, pattern, words, lines, page)"
                )));
            }
        }
    }
    let locator = match locator {
        Some(("right_of", x)) => Locator::RightOf {
            label: text(x)?,
            words,
        },
        Some(("below", x)) => Locator::Below {
            label: text(x)?,
            lines,
        },
        Some(("region", x)) => {
            let corners = match &x.value {
                Value::Array(items) if items.len() == 4 => {
                    items.iter().map(number).collect::<Result<Vec<_>, _>>()?
                }
                _ => {
                    return Err(x.error(
                        "region is [left, top, right, bottom] in points from the top left",
                    ));
                }
            };
            Locator::Region(Rect {
                x0: corners[0].min(corners[2]),
                y0: corners[1].min(corners[3]),
                x1: corners[0].max(corners[2]),
                y1: corners[1].max(corners[3]),
            })
        }
        Some((_, x)) => Locator::Pattern(pattern(x)?),
        None => {
            return Err(v.error(format!(
                "value {name} says how it is found: right_of, below, region or pattern"
            )));
        }
    };
    Ok(Named {
        name: name.to_string(),
        locator,
        pages,
    })
}

fn table(v: &Spec) -> Result<TableSpec, MappingError> {
    let mut header = None;
    let mut columns = None;
    let mut end = Vec::new();
    let mut key = None;
    let mut required = Vec::new();
    let mut skip = Vec::new();
    let mut numeric = Vec::new();
    for (k, x) in v.table().ok_or_else(|| v.error("table is a table"))? {
        match k.as_str() {
            "header" => header = Some((texts(x)?, x)),
            "columns" => columns = Some((texts(x)?, x)),
            "end" => end = texts(x)?,
            "key" => key = Some((text(x)?, x)),
            "required" => required = texts(x)?.into_iter().map(|r| (r, x)).collect(),
            "numeric" => numeric = texts(x)?.into_iter().map(|r| (r, x)).collect(),
            "skip" => {
                skip = match &x.value {
                    Value::Array(items) => items.iter().map(pattern).collect::<Result<_, _>>()?,
                    _ => vec![pattern(x)?],
                }
            }
            other => {
                return Err(x.error(format!(
                    "{other} is not a table option (header, columns, end, key, required, numeric, skip)"
                )));
            }
        }
    }
    let (header, at) = header.ok_or_else(|| v.error("a table has a header: its column labels"))?;
    let columns = match columns {
        Some((c, x)) if c.len() != header.len() => {
            return Err(x.error(format!(
                "{} columns for {} header labels",
                c.len(),
                header.len()
            )));
        }
        Some((c, _)) => c,
        None => return Err(at.error("a table names its columns: columns = [\"sku\", ...]")),
    };
    let index = |name: &str, x: &Spec| {
        columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| x.error(format!("{name} is not one of the table's columns")))
    };
    let key = match key {
        Some((name, x)) => index(&name, x)?,
        None => 0,
    };
    let required = required
        .iter()
        .map(|(name, x)| index(name, x))
        .collect::<Result<Vec<_>, _>>()?;
    let numeric = numeric
        .iter()
        .map(|(name, x)| index(name, x))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TableSpec {
        header,
        columns,
        end,
        key,
        required,
        skip,
        numeric,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Template, MappingError> {
        let spec = Spec::parse("t.toml", text).expect("TOML");
        template(spec.get("pdf").expect("[pdf]"))
    }

    #[test]
    fn a_template_is_read_with_every_kind_of_value() {
        let t = read(
            r#"
[pdf]
keywords = ["Copperleaf", "INVOICE"]
exclude = "CREDIT MEMO"
starts = '^INVOICE$'
[pdf.values]
number = { right_of = "Invoice #", words = 1 }
ship_to = { below = "Ship To", lines = 3 }
vendor = { region = [300, 80, 36, 36.5], page = 1 }
total = { pattern = 'Due\s*(\S+)', page = "last" }
[pdf.table]
header = ["Item", "Qty"]
columns = ["sku", "qty"]
end = "Subtotal"
required = ["qty"]
skip = ['^Page']
"#,
        )
        .expect("read");
        assert_eq!(t.keywords, ["Copperleaf", "INVOICE"]);
        assert_eq!(t.exclude, ["CREDIT MEMO"]);
        assert!(t.starts.is_some());
        let names: Vec<&str> = t.values.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["number", "ship_to", "vendor", "total"]);
        assert!(matches!(
            &t.values[0].locator,
            Locator::RightOf { label, words: Some(1) } if label == "Invoice #"
        ));
        assert!(matches!(
            &t.values[1].locator,
            Locator::Below { lines: 3, .. }
        ));
        match &t.values[2].locator {
            Locator::Region(r) => assert_eq!((r.x0, r.y0, r.x1, r.y1), (36.0, 36.5, 300.0, 80.0)),
            other => panic!("{other:?}"),
        }
        assert_eq!(t.values[2].pages, Pages::Number(1));
        assert_eq!(t.values[3].pages, Pages::Last);
        let table = t.table.expect("table");
        assert_eq!((table.key, table.required.as_slice()), (0, &[1][..]));
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let cases = [
            ("[pdf]\nkeyword = \"x\"\n", "keyword is not a PDF option", 2),
            (
                "[pdf.values]\nn = { right_of = \"A\", below = \"B\" }\n",
                "more than one way",
                2,
            ),
            (
                "[pdf.values]\nn = { words = 2 }\n",
                "says how it is found",
                2,
            ),
            (
                "[pdf.values]\nn = { region = [1, 2] }\n",
                "region is [left",
                2,
            ),
            (
                "[pdf.values]\nn = { pattern = '(' }\n",
                "not a regular expression",
                2,
            ),
            (
                "[pdf.values]\nn = { right_of = \"A\", page = 0 }\n",
                "page is a page number",
                2,
            ),
            (
                "[pdf.table]\nheader = [\"A\", \"B\"]\ncolumns = [\"a\"]\n",
                "1 columns for 2 header labels",
                3,
            ),
            (
                "[pdf.table]\nheader = [\"A\"]\ncolumns = [\"a\"]\nrequired = [\"b\"]\n",
                "b is not one of the table's columns",
                4,
            ),
        ];
        for (text, says, line) in cases {
            let e = read(text).expect_err(text).to_string();
            assert!(e.contains(says), "{text}: {e}");
            assert!(e.contains(&format!("t.toml:{line}")), "{text}: {e}");
        }
    }
}
