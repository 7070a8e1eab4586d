//! Fixed-width feeds as trees: each line one record, its fields cut at
//! the character positions a [`Layout`] gives.
//!
//! The files older ERPs write: a header record, detail records and a
//! trailer, told apart by a code at a fixed position, each type with its
//! own columns. Positions count characters (from 1) of the line decoded
//! from the file's encoding, so that `é` in a Latin-1 file is one
//! position, as the vendor's record layout counts it.
//!
//! Each record becomes a group named after its type (`header`, `detail`,
//! ...) under the root, with one field per column: text trimmed; numbers
//! (a column with `decimals` or `overpunch`) written out plain, with the
//! implied decimal point put in and the sign read from a COBOL zoned
//! decimal's last character. A trailer column may count records: the
//! count is checked when the file ends. The decoder holds one line at a
//! time, and streams the records the sink asks for.

use std::io::{BufRead, BufReader, Read};

use super::csv::{Encoding, decode_text};
use super::{DocumentSink, Flavor, Kind, NodeId, Place, SinkError, Verdict, start_file};
use crate::format::Tree;

/// The longest line read (a longer one is an error, not a memory risk).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How a fixed-width file is laid out: its encoding, where the record
/// code is, and each record type's columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The file's encoding.
    pub encoding: Encoding,
    /// Where the record code is; `None` when every line is one kind of
    /// record (its type is then the only one, named `record`).
    pub code: Option<Position>,
    /// The record types.
    pub records: Vec<RecordType>,
    /// Record codes to skip (comments, filler records).
    pub skip: Vec<String>,
    /// Read a line shorter than its columns as if padded with spaces (for
    /// files whose trailing blanks were stripped); otherwise it is an
    /// error.
    pub pad_short_lines: bool,
}

/// A span of characters on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The first character, from 1.
    pub start: usize,
    /// How many characters.
    pub width: usize,
}

impl Position {
    /// The character just past the span, from 1.
    pub fn end(self) -> usize {
        self.start + self.width
    }
}

/// One type of record: its name in the tree, its code, its columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordType {
    /// The name of its group node.
    pub name: String,
    /// The code that marks it (when the layout has a code position).
    pub code: Option<String>,
    /// Its columns, in the order written.
    pub columns: Vec<Column>,
}

/// A column of a record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The name of its field node.
    pub name: String,
    /// Where it is.
    pub at: Position,
    /// How to read it as a number, when it is one.
    pub number: Option<Number>,
    /// The records whose count it holds, checked at the end of the file.
    pub count: Option<Count>,
}

/// A numeric column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Number {
    /// Implied decimal places: with 2, `0001234` is 12.34.
    pub decimals: u32,
    /// The last character is a COBOL zoned-decimal (overpunched) digit:
    /// `{` and `A`-`I` are +0 to +9, `}` and `J`-`R` are -0 to -9.
    pub overpunch: bool,
}

/// What a trailer's count column counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Count {
    /// The records of these types.
    Records(Vec<String>),
    /// Every record of the file, the header and trailer included.
    All,
}

/// Why a fixed-width file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FixedError {
    /// Reading failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line that does not fit the layout.
    #[error("{file}, line {line}, column {column}: {message}")]
    Line {
        /// The file.
        file: String,
        /// The line, from 1.
        line: u64,
        /// The character, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A trailer's count that is not the count of the records.
    #[error("{file}, line {line}: {message}")]
    Count {
        /// The file.
        file: String,
        /// The trailer's line.
        line: u64,
        /// What it says and what was counted.
        message: String,
    },
    /// The sink failed; its error is passed through.
    #[error("document sink: {0}")]
    Sink(#[source] SinkError),
}

/// A count to check when the file ends.
struct Pending {
    line: u64,
    record: String,
    column: String,
    said: String,
    count: Count,
}

/// Decodes one fixed-width file as one document and hands it to `sink`.
/// Returns the number of records read.
pub fn decode<R: Read>(
    input: R,
    file_name: &str,
    layout: &Layout,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<u64, FixedError> {
    let (origin, streamer) =
        start_file(tree, Flavor::Fixed, file_name, sink).map_err(FixedError::Sink)?;
    let names: Vec<_> = layout
        .records
        .iter()
        .map(|r| tree.intern(&r.name))
        .collect();
    let columns: Vec<Vec<_>> = layout
        .records
        .iter()
        .map(|r| r.columns.iter().map(|c| tree.intern(&c.name)).collect())
        .collect();
    let line_error = |line: u64, column: usize, message: String| FixedError::Line {
        file: file_name.to_string(),
        line,
        column,
        message,
    };
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut bytes = Vec::new();
    let mut scratch = String::new();
    let mut chars: Vec<usize> = Vec::new();
    let mut value = String::new();
    let mut offset = 0u64;
    let mut line = 0u64;
    let mut counts = vec![0u64; layout.records.len()];
    let mut total = 0u64;
    let mut pending: Vec<Pending> = Vec::new();
    loop {
        bytes.clear();
        let n = (&mut input)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(|source| FixedError::Io {
                file: file_name.to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        line += 1;
        let at = offset;
        offset += n as u64;
        if bytes.len() > MAX_LINE_BYTES {
            return Err(line_error(
                line,
                1,
                format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        let mut raw = bytes.as_slice();
        raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line == 1 && layout.encoding == Encoding::Utf8 {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let text = decode_text(raw, layout.encoding, &mut scratch).map_err(|e| {
            line_error(
                line,
                char_count(&raw[..e.valid_up_to()]) + 1,
                format!("invalid {}", layout.encoding.name()),
            )
        })?;
        // Where each character starts, and the end.
        chars.clear();
        chars.extend(text.char_indices().map(|(i, _)| i));
        chars.push(text.len());
        let cut = |p: Position, pad: bool| -> Option<&str> {
            let last = chars.len() - 1;
            if p.end() - 1 > last && !pad {
                return None;
            }
            let from = chars[(p.start - 1).min(last)];
            let to = chars[(p.end() - 1).min(last)];
            Some(&text[from..to])
        };
        let kind = match layout.code {
            None => 0,
            Some(p) => {
                let code = cut(p, false).ok_or_else(|| {
                    line_error(
                        line,
                        chars.len(),
                        format!(
                            "the line ends before its record code (columns {} to {})",
                            p.start,
                            p.end() - 1
                        ),
                    )
                })?;
                let code = code.trim();
                if layout.skip.iter().any(|s| s == code) {
                    continue;
                }
                layout
                    .records
                    .iter()
                    .position(|r| r.code.as_deref() == Some(code))
                    .ok_or_else(|| {
                        line_error(
                            line,
                            p.start,
                            format!(
                                "{code:?} is not a record code of the layout ({})",
                                layout
                                    .records
                                    .iter()
                                    .filter_map(|r| r.code.as_deref())
                                    .map(|c| format!("{c:?}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?
            }
        };
        let record = &layout.records[kind];
        counts[kind] += 1;
        total += 1;
        let place = Place {
            offset: at,
            line,
            column: 1,
            ordinal: counts[kind],
        };
        let node = tree.append(tree.root(), names[kind], Kind::Group, b"", place);
        for (c, name) in record.columns.iter().zip(&columns[kind]) {
            let field = cut(c.at, layout.pad_short_lines).ok_or_else(|| {
                line_error(
                    line,
                    chars.len(),
                    format!(
                        "the {} record is {} characters long, and its column {} is at {} to {}",
                        record.name,
                        chars.len() - 1,
                        c.name,
                        c.at.start,
                        c.at.end() - 1
                    ),
                )
            })?;
            let field = field.trim();
            let text = match c.number {
                Some(n) if !field.is_empty() => {
                    value.clear();
                    number(field, n, &mut value).map_err(|m| {
                        line_error(line, c.at.start, format!("{} {field:?}: {m}", c.name))
                    })?;
                    value.as_str()
                }
                _ => field,
            };
            if let Some(count) = &c.count {
                pending.push(Pending {
                    line,
                    record: record.name.clone(),
                    column: c.name.clone(),
                    said: text.to_string(),
                    count: count.clone(),
                });
            }
            let place = Place {
                column: c.at.start as u64,
                ..place
            };
            tree.append_str(node, *name, Kind::Field, text, place);
        }
        closed(tree, node, &streamer, sink)?;
    }
    // A file cut short loses its trailer: a record type that counts the
    // others must be there.
    for (r, n) in layout.records.iter().zip(&counts) {
        if *n == 0
            && let Some(c) = r.columns.iter().find(|c| c.count.is_some())
        {
            return Err(FixedError::Count {
                file: file_name.to_string(),
                line,
                message: format!(
                    "the file ends without its {} record{}, whose {} counts the records: it may be cut short",
                    r.name,
                    r.code
                        .as_deref()
                        .map(|c| format!(" ({c:?})"))
                        .unwrap_or_default(),
                    c.name
                ),
            });
        }
    }
    for p in pending {
        let (found, what) = match &p.count {
            Count::All => (total, " (every record)".to_string()),
            Count::Records(types) => (
                layout
                    .records
                    .iter()
                    .zip(&counts)
                    .filter(|(r, _)| types.contains(&r.name))
                    .map(|(_, n)| n)
                    .sum(),
                format!(" ({} records)", types.join(" and ")),
            ),
        };
        if p.said.parse::<u64>().ok() != Some(found) {
            return Err(FixedError::Count {
                file: file_name.to_string(),
                line: p.line,
                message: format!(
                    "the {} record's {} says {} records, and the file has {found}{what}",
                    p.record, p.column, p.said
                ),
            });
        }
    }
    sink.end(tree, &origin, Verdict::Accepted)
        .map_err(FixedError::Sink)?;
    Ok(total)
}

fn closed(
    tree: &mut Tree,
    node: NodeId,
    streamer: &super::Streamer,
    sink: &mut dyn DocumentSink,
) -> Result<(), FixedError> {
    streamer.closed(tree, node, sink).map_err(FixedError::Sink)
}

fn char_count(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes).map_or(bytes.len(), |s| s.chars().count())
}

/// The digit and sign of an overpunched last character.
fn overpunch(c: char) -> Option<(char, bool)> {
    let (digit, negative) = match c {
        '0'..='9' => (c as u8 - b'0', false),
        '{' => (0, false),
        'A'..='I' => (c as u8 - b'A' + 1, false),
        '}' => (0, true),
        'J'..='R' => (c as u8 - b'J' + 1, true),
        _ => return None,
    };
    Some((char::from(b'0' + digit), negative))
}

/// Writes the number `field` (trimmed, not empty) as `n` reads it to
/// `out`: a sign if negative, the digits without leading zeros, the
/// implied decimal point put in. A `+` or `-` may lead or trail, and a
/// decimal point written in the field is kept (then `decimals` does not
/// apply).
pub fn number(field: &str, n: Number, out: &mut String) -> Result<(), String> {
    let mut digits = String::with_capacity(field.len() + 2);
    let mut negative = false;
    let mut body = field;
    if let Some(rest) = body.strip_prefix('-') {
        negative = true;
        body = rest.trim_start();
    } else if let Some(rest) = body.strip_prefix('+') {
        body = rest.trim_start();
    } else if let Some(rest) = body.strip_suffix('-') {
        negative = true;
        body = rest.trim_end();
    } else if let Some(rest) = body.strip_suffix('+') {
        body = rest.trim_end();
    }
    let mut point: Option<usize> = None;
    let count = body.chars().count();
    for (i, c) in body.chars().enumerate() {
        let c = if i + 1 == count && n.overpunch {
            let (d, neg) = overpunch(c).ok_or_else(|| {
                format!("{c:?} is not an overpunched digit ({{, A-I, }}, J-R or 0-9)")
            })?;
            negative |= neg;
            d
        } else {
            c
        };
        match c {
            '0'..='9' => digits.push(c),
            '.' if point.is_none() => point = Some(digits.len()),
            _ => return Err("not a number".to_string()),
        }
    }
    if digits.is_empty() {
        return Err("not a number".to_string());
    }
    let point = match point {
        Some(p) => p,
        None => {
            let places = n.decimals as usize;
            while digits.len() < places {
                digits.insert(0, '0');
            }
            digits.len() - places
        }
    };
    let (int, frac) = digits.split_at(point);
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let zero = int.is_empty() && frac.is_empty();
    if negative && !zero {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Name, Origin};

    fn num(field: &str, decimals: u32, overpunch: bool) -> Result<String, String> {
        let mut out = String::new();
        number(
            field,
            Number {
                decimals,
                overpunch,
            },
            &mut out,
        )?;
        Ok(out)
    }

    #[test]
    fn implied_decimals_and_signs() {
        assert_eq!(num("0001234", 2, false).as_deref(), Ok("12.34"));
        assert_eq!(num("0001200", 2, false).as_deref(), Ok("12"));
        assert_eq!(num("0000005", 2, false).as_deref(), Ok("0.05"));
        assert_eq!(num("5", 3, false).as_deref(), Ok("0.005"));
        assert_eq!(num("0000000", 2, false).as_deref(), Ok("0"));
        assert_eq!(num("-0001234", 2, false).as_deref(), Ok("-12.34"));
        assert_eq!(num("0001234-", 2, false).as_deref(), Ok("-12.34"));
        assert_eq!(num("12.5", 2, false).as_deref(), Ok("12.5"));
        assert_eq!(num("00042", 0, false).as_deref(), Ok("42"));
        assert!(num("12A4", 0, false).is_err());
        assert!(num("-", 0, false).is_err());
    }

    #[test]
    fn overpunched_last_digits() {
        assert_eq!(num("000123{", 2, true).as_deref(), Ok("12.3"));
        assert_eq!(num("000123A", 2, true).as_deref(), Ok("12.31"));
        assert_eq!(num("000123I", 2, true).as_deref(), Ok("12.39"));
        assert_eq!(num("000123}", 2, true).as_deref(), Ok("-12.3"));
        assert_eq!(num("000123J", 2, true).as_deref(), Ok("-12.31"));
        assert_eq!(num("000123R", 2, true).as_deref(), Ok("-12.39"));
        assert_eq!(num("0000001", 0, true).as_deref(), Ok("1"));
        assert_eq!(num("000000}", 0, true).as_deref(), Ok("0"));
        assert!(num("000123S", 2, true).is_err());
    }

    #[derive(Debug, Default)]
    struct Recorder {
        stream: Option<&'static str>,
        items: Vec<Vec<(String, String)>>,
        end: Vec<Vec<(String, String)>>,
    }

    fn fields(tree: &Tree, node: NodeId) -> Vec<(String, String)> {
        let mut v = vec![(tree.name_text(node).to_string(), String::new())];
        v.extend(
            tree.children(node)
                .map(|c| (tree.name_text(c).to_string(), tree.text(c).to_string())),
        );
        v
    }

    impl DocumentSink for Recorder {
        fn start(&mut self, tree: &mut Tree, _: &Origin) -> Result<Option<Vec<Name>>, SinkError> {
            Ok(self.stream.map(|s| vec![tree.intern(s)]))
        }
        fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError> {
            self.items.push(fields(tree, node));
            Ok(())
        }
        fn end(&mut self, tree: &Tree, _: &Origin, _: Verdict) -> Result<(), SinkError> {
            self.end = tree
                .children(tree.root())
                .map(|c| fields(tree, c))
                .collect();
            Ok(())
        }
    }

    fn col(name: &str, start: usize, width: usize) -> Column {
        Column {
            name: name.into(),
            at: Position { start, width },
            number: None,
            count: None,
        }
    }

    fn layout() -> Layout {
        Layout {
            encoding: Encoding::Latin1,
            code: Some(Position { start: 1, width: 2 }),
            records: vec![
                RecordType {
                    name: "header".into(),
                    code: Some("HD".into()),
                    columns: vec![col("vendor", 3, 6), col("date", 9, 8)],
                },
                RecordType {
                    name: "detail".into(),
                    code: Some("DT".into()),
                    columns: vec![
                        col("sku", 3, 6),
                        col("name", 9, 6),
                        Column {
                            number: Some(Number {
                                decimals: 2,
                                overpunch: true,
                            }),
                            ..col("amount", 15, 7)
                        },
                    ],
                },
                RecordType {
                    name: "trailer".into(),
                    code: Some("TR".into()),
                    columns: vec![Column {
                        number: Some(Number::default()),
                        count: Some(Count::Records(vec!["detail".into()])),
                        ..col("count", 3, 5)
                    }],
                },
            ],
            skip: vec!["CM".into()],
            pad_short_lines: false,
        }
    }

    fn run(
        input: &[u8],
        layout: &Layout,
        stream: Option<&'static str>,
    ) -> Result<Recorder, FixedError> {
        let mut sink = Recorder {
            stream,
            ..Recorder::default()
        };
        let mut tree = Tree::new(Flavor::Fixed);
        decode(input, "f.txt", layout, &mut tree, &mut sink)?;
        Ok(sink)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reads_record_types_by_code_in_latin1_and_streams_details() {
        let input = b"HDACME  20240314\r\nCM a comment\r\nDTA-1   Caf\xe9  000123}\r\n\r\nDTB-2   Tea   0000050\r\nTR00002\r\n";
        let r = run(input, &layout(), Some("detail")).expect("decodes");
        assert_eq!(
            r.items,
            [
                pairs(&[
                    ("detail", ""),
                    ("sku", "A-1"),
                    ("name", "Café"),
                    ("amount", "-12.3")
                ]),
                pairs(&[
                    ("detail", ""),
                    ("sku", "B-2"),
                    ("name", "Tea"),
                    ("amount", "0.5")
                ]),
            ]
        );
        assert_eq!(
            r.end,
            [
                pairs(&[("header", ""), ("vendor", "ACME"), ("date", "20240314")]),
                pairs(&[("trailer", ""), ("count", "2")]),
            ]
        );
    }

    #[test]
    fn checks_the_trailer_count() {
        let input = b"HDACME  20240314\nDTA-1   Tea   0000010\nTR00002\n";
        let e = run(input, &layout(), None).expect_err("count");
        assert_eq!(
            e.to_string(),
            "f.txt, line 3: the trailer record's count says 2 records, and the file has 1 (detail records)"
        );
        let mut all = layout();
        all.records[2].columns[0].count = Some(Count::All);
        let input = b"HDACME  20240314\nDTA-1   Tea   0000010\nTR00003\n";
        run(input, &all, None).expect("all three records");
        let cut = b"HDACME  20240314\nDTA-1   Tea   0000010\n";
        let e = run(cut, &layout(), None).expect_err("no trailer");
        assert_eq!(
            e.to_string(),
            "f.txt, line 2: the file ends without its trailer record (\"TR\"), whose count counts the records: it may be cut short"
        );
    }

    #[test]
    fn names_the_line_and_column_of_bad_lines() {
        let e = run(b"HDACME  20240314\nXX\n", &layout(), None).expect_err("code");
        assert_eq!(
            e.to_string(),
            "f.txt, line 2, column 1: \"XX\" is not a record code of the layout (\"HD\", \"DT\", \"TR\")"
        );
        let e = run(b"DTA-1   Tea   00001\n", &layout(), None).expect_err("short");
        assert_eq!(
            e.to_string(),
            "f.txt, line 1, column 20: the detail record is 19 characters long, and its column amount is at 15 to 21"
        );
        let e = run(b"DTA-1   Tea   00x0010\n", &layout(), None).expect_err("number");
        assert_eq!(
            e.to_string(),
            "f.txt, line 1, column 15: amount \"00x0010\": not a number"
        );
        let mut padded = layout();
        padded.pad_short_lines = true;
        let r = run(b"DTA-1   Tea\nTR00001\n", &padded, Some("detail")).expect("padded");
        assert_eq!(
            r.items,
            [pairs(&[
                ("detail", ""),
                ("sku", "A-1"),
                ("name", "Tea"),
                ("amount", "")
            ])]
        );
        let mut utf8 = layout();
        utf8.encoding = Encoding::Utf8;
        let e = run(b"DTA-1   Caf\xe9  0000010\n", &utf8, None).expect_err("utf-8");
        assert_eq!(e.to_string(), "f.txt, line 1, column 12: invalid UTF-8");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let mut utf8 = layout();
        utf8.encoding = Encoding::Utf8;
        let r = run(
            "DTÄ-1   Crème 0000010\nTR00001\n".as_bytes(),
            &utf8,
            Some("detail"),
        )
        .expect("utf-8");
        assert_eq!(
            r.items,
            [pairs(&[
                ("detail", ""),
                ("sku", "Ä-1"),
                ("name", "Crème"),
                ("amount", "0.1")
            ])]
        );
    }

    #[test]
    fn one_record_type_without_a_code() {
        let one = Layout {
            records: vec![RecordType {
                name: "record".into(),
                code: None,
                columns: vec![col("a", 1, 2), col("b", 3, 2)],
            }],
            ..Layout::default()
        };
        let r = run(b"x1y1\nx2y2", &one, Some("record")).expect("decodes");
        assert_eq!(
            r.items,
            [
                pairs(&[("record", ""), ("a", "x1"), ("b", "y1")]),
                pairs(&[("record", ""), ("a", "x2"), ("b", "y2")]),
            ]
        );
    }
}
