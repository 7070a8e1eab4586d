//! Excel workbooks as trees: one sheet read as a CSV feed is, its rows
//! under a header row becoming `record`s whose fields are named by the
//! normalized header ([`super::csv::normalize_header`]), so that a
//! workbook is mapped by the same rules as a CSV export of it.
//!
//! `.xlsx` (and `.xlsm`) is read with calamine's cell reader, which walks
//! the sheet's XML as it inflates it: memory holds the file's bytes, its
//! shared strings and styles, and one row. `.xls` (Excel 97-2003) is read
//! by calamine whole, one sheet at a time.
//!
//! What a cell says is written as text: text as is (so `00123` stays
//! `00123`), numbers plain (no exponent, at most 15 significant digits as
//! Excel shows them), cells formatted as dates as ISO dates
//! (`2024-03-14`, with `T10:30:00` when they have a time), formulas by the
//! value Excel cached when it saved the file, error values as Excel writes
//! them (`#N/A`). Rows above the header (titles, merged or not) are not
//! read; a merged region below it gives its value to each of its cells.

use std::io::{Cursor, Read};

use calamine::{CellErrorType, Data, DataRef, Dimensions, Reader, Xls, Xlsx};

use super::csv::{RECORD, append_record, column_name, column_names};
use super::{DocumentSink, Flavor, Name, Place, Row, SinkError, Span, Tree, Verdict, start_file};

/// The largest workbook read (its bytes are held: a ZIP is read from its
/// end).
pub const MAX_WORKBOOK_BYTES: u64 = 256 << 20;

/// The most columns a row may have unless a mapping says otherwise.
pub const DEFAULT_MAX_COLUMNS: usize = 4096;

/// Which sheet to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Sheet {
    /// The first sheet.
    #[default]
    First,
    /// The sheet of this name (letter case aside).
    Name(String),
    /// The sheet at this position, from 1.
    Index(usize),
}

/// Which row is the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum HeaderRow {
    /// The first row with two values or more (a title, merged across the
    /// columns or not, has one).
    #[default]
    Auto,
    /// The row of this number, from 1, as Excel shows it.
    Number(u32),
    /// The first row with a cell of this text (trimmed, letter case
    /// aside).
    Cell(String),
    /// None: every row is a record, columns named by number.
    None,
}

/// How a workbook is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XlsxOptions {
    /// The sheet.
    pub sheet: Sheet,
    /// The header row.
    pub header: HeaderRow,
    /// The most columns a row may have.
    pub max_columns: usize,
}

impl Default for XlsxOptions {
    fn default() -> Self {
        XlsxOptions {
            sheet: Sheet::First,
            header: HeaderRow::Auto,
            max_columns: DEFAULT_MAX_COLUMNS,
        }
    }
}

/// Why a workbook cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// Reading the input failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Larger than [`MAX_WORKBOOK_BYTES`].
    #[error("{file}: larger than {} MB, the most a workbook may be", MAX_WORKBOOK_BYTES >> 20)]
    TooLarge {
        /// The file.
        file: String,
    },
    /// Not a workbook at all.
    #[error(
        "{file}: not an Excel workbook (an .xlsx file is a ZIP archive, an .xls file an OLE compound file; this is {what})"
    )]
    NotWorkbook {
        /// The file.
        file: String,
        /// What it looks like.
        what: &'static str,
    },
    /// The workbook cannot be opened or read.
    #[error("{file}: {place}: {message}")]
    Read {
        /// The file.
        file: String,
        /// Where: the workbook, or a sheet.
        place: String,
        /// calamine's message.
        message: String,
    },
    /// The sheet asked for is not there.
    #[error("{file}: the workbook has no {wanted} (its sheets: {sheets})")]
    NoSheet {
        /// The file.
        file: String,
        /// The sheet asked for.
        wanted: String,
        /// The sheets it has.
        sheets: String,
    },
    /// No row is the header.
    #[error("{file}: sheet {sheet:?}: {message}")]
    NoHeader {
        /// The file.
        file: String,
        /// The sheet.
        sheet: String,
        /// Which header was looked for.
        message: String,
    },
    /// A row wider than the limit.
    #[error(
        "{file}: sheet {sheet:?}, row {row}: the row has {columns} columns, more than the {max} a row may have (a sheet that really is this wide sets [mapping.xlsx] max_columns)"
    )]
    TooWide {
        /// The file.
        file: String,
        /// The sheet.
        sheet: String,
        /// The row, from 1.
        row: u32,
        /// Its columns.
        columns: usize,
        /// The limit.
        max: usize,
    },
    /// The sink failed; its error is passed through.
    #[error("document sink: {0}")]
    Sink(#[source] SinkError),
}

/// The two kinds of workbook.
enum Book {
    Xlsx(Box<Xlsx<Cursor<Vec<u8>>>>),
    Xls(Box<Xls<Cursor<Vec<u8>>>>),
}

/// Decodes one sheet of a workbook as one document and hands it to
/// `sink`. Returns the number of records.
pub fn decode<R: Read>(
    input: R,
    file_name: &str,
    options: &XlsxOptions,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<u64, WorkbookError> {
    let file = || file_name.to_string();
    let mut bytes = Vec::new();
    input
        .take(MAX_WORKBOOK_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| WorkbookError::Io {
            file: file(),
            source,
        })?;
    if bytes.len() as u64 > MAX_WORKBOOK_BYTES {
        return Err(WorkbookError::TooLarge { file: file() });
    }
    let read_error = |place: &str, e: &dyn std::fmt::Display| WorkbookError::Read {
        file: file(),
        place: place.to_string(),
        message: e.to_string(),
    };
    let mut book = if bytes.starts_with(b"PK\x03\x04") {
        Book::Xlsx(Box::new(
            Xlsx::new(Cursor::new(bytes))
                .map_err(|e| read_error("cannot open the workbook", &e))?,
        ))
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        Book::Xls(Box::new(
            Xls::new(Cursor::new(bytes)).map_err(|e| read_error("cannot open the workbook", &e))?,
        ))
    } else {
        let what = super::sniff::sniff(&bytes, true).describe();
        return Err(WorkbookError::NotWorkbook { file: file(), what });
    };
    let names = match &book {
        Book::Xlsx(b) => b.sheet_names(),
        Book::Xls(b) => b.sheet_names(),
    };
    let sheet = match &options.sheet {
        Sheet::First => names.first().cloned(),
        Sheet::Index(n) => n.checked_sub(1).and_then(|i| names.get(i)).cloned(),
        Sheet::Name(wanted) => names
            .iter()
            .find(|n| *n == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().to_lowercase() == wanted.trim().to_lowercase())
            })
            .cloned(),
    }
    .ok_or_else(|| WorkbookError::NoSheet {
        file: file(),
        wanted: match &options.sheet {
            Sheet::First => "sheet".to_string(),
            Sheet::Index(n) => format!("sheet number {n}"),
            Sheet::Name(n) => format!("sheet {n:?}"),
        },
        sheets: names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let place = format!("sheet {sheet:?}");
    let (origin, streamer) =
        start_file(tree, Flavor::Xlsx, file_name, sink).map_err(WorkbookError::Sink)?;
    let record_name = tree.intern(RECORD);
    let mut rows = Rows {
        file: file_name,
        sheet: &sheet,
        options,
        record_name,
        stream_rows: streamer.streams_top(record_name),
        streamer: &streamer,
        header_seen: options.header == HeaderRow::None,
        columns: Vec::new(),
        merged: Merged::default(),
        row: None,
        cells: Vec::new(),
        width: 0,
        text: String::new(),
        spans: Vec::new(),
        records: 0,
        last_row: 0,
    };
    match &mut book {
        Book::Xlsx(b) => {
            let regions = b
                .merge_cells_by_sheet_name(&sheet)
                .map_err(|e| read_error(&place, &e))?;
            rows.merged = Merged::new(regions);
            let mut reader = b
                .worksheet_cells_reader(&sheet)
                .map_err(|e| read_error(&place, &e))?;
            let mut text = String::new();
            while let Some(cell) = reader.next_cell().map_err(|e| read_error(&place, &e))? {
                text.clear();
                cell_text(cell.get_value(), &mut text);
                let (row, column) = cell.get_position();
                rows.cell(row, column, &text, tree, sink)?;
            }
        }
        Book::Xls(b) => {
            let regions = b
                .merge_cells_by_sheet_name(&sheet)
                .map_err(|e| read_error(&place, &e))?;
            rows.merged = Merged::new(regions);
            let range = b
                .worksheet_range(&sheet)
                .map_err(|e| read_error(&place, &e))?;
            let (top, left) = range.start().unwrap_or_default();
            let mut text = String::new();
            for (r, c, value) in range.cells() {
                text.clear();
                cell_text(&data_ref(value), &mut text);
                rows.cell(top + r as u32, left + c as u32, &text, tree, sink)?;
            }
        }
    }
    rows.flush(tree, sink)?;
    if !rows.header_seen {
        return Err(WorkbookError::NoHeader {
            file: file(),
            sheet: sheet.clone(),
            message: match &options.header {
                HeaderRow::Auto => format!(
                    "no row has two values or more to be the header (the sheet's last row is {})",
                    rows.last_row
                ),
                HeaderRow::Number(n) => format!(
                    "the header is row {n} ([mapping.xlsx] header_row), and {}",
                    match rows.last_row {
                        0 => "the sheet has no rows".to_string(),
                        last if last < *n => format!("the sheet has rows up to {last} only"),
                        _ => format!("row {n} is blank"),
                    }
                ),
                HeaderRow::Cell(t) => {
                    format!("no row has a cell {t:?} ([mapping.xlsx] header_cell) to be the header")
                }
                HeaderRow::None => String::new(),
            },
        });
    }
    let records = rows.records;
    sink.end(tree, &origin, Verdict::Accepted)
        .map_err(WorkbookError::Sink)?;
    Ok(records)
}

/// A `Data` cell (of an `.xls` sheet) as the `DataRef` the `.xlsx` reader
/// gives.
fn data_ref(d: &Data) -> DataRef<'_> {
    match d {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(d) => DataRef::DateTime(*d),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

/// Writes what a cell says as text to `out`.
pub fn cell_text(value: &DataRef<'_>, out: &mut String) {
    use std::fmt::Write;
    match value {
        DataRef::Int(i) => {
            let _ = write!(out, "{i}");
        }
        DataRef::Float(f) => excel_number(*f, out),
        DataRef::String(s) => out.push_str(s.trim()),
        DataRef::SharedString(s) => out.push_str(s.trim()),
        DataRef::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        DataRef::DateTime(d) => {
            let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
            let serial = d.as_f64();
            let timed = h != 0 || mi != 0 || s != 0 || ms != 0;
            if d.is_duration() || serial < 1.0 && timed {
                let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
            } else if timed {
                let _ = write!(out, "{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}");
            } else {
                let _ = write!(out, "{y:04}-{mo:02}-{day:02}");
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => out.push_str(s.trim()),
        DataRef::Error(e) => {
            let e: &CellErrorType = e;
            let _ = write!(out, "{e}");
        }
        DataRef::Empty => {}
    }
}

/// A number as Excel shows it in General format: plain, at most 15
/// significant digits (so a formula's 0.30000000000000004 is 0.3).
pub fn excel_number(f: f64, out: &mut String) {
    use std::fmt::Write;
    if !f.is_finite() {
        return;
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        let _ = write!(out, "{}", f as i64);
        return;
    }
    let magnitude = if f.abs() >= 1.0 {
        f.abs().log10().floor() as i32 + 1
    } else {
        1
    };
    let places = (15 - magnitude).clamp(0, 15) as usize;
    let text = format!("{f:.places$}");
    let text = match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.'),
        false => &text,
    };
    out.push_str(if text == "-0" { "0" } else { text });
}

/// The merged regions below the header, active on the row being read.
#[derive(Default)]
struct Merged {
    /// By first row, the first first.
    regions: Vec<Dimensions>,
    next: usize,
    /// Regions that cover the row, with their top-left cell's value.
    active: Vec<(Dimensions, String)>,
}

impl Merged {
    fn new(mut regions: Vec<Dimensions>) -> Merged {
        regions.sort();
        Merged {
            regions,
            ..Merged::default()
        }
    }

    /// Row `row` starts: regions that end above it go, those that start
    /// on it come.
    fn enter(&mut self, row: u32) {
        self.active.retain(|(d, _)| d.end.0 >= row);
        while let Some(d) = self.regions.get(self.next) {
            if d.start.0 > row {
                break;
            }
            if d.end.0 >= row {
                self.active.push((*d, String::new()));
            }
            self.next += 1;
        }
    }
}

/// Cells gathered into rows, rows handed over as records.
struct Rows<'a> {
    file: &'a str,
    sheet: &'a str,
    options: &'a XlsxOptions,
    record_name: Name,
    stream_rows: bool,
    streamer: &'a super::Streamer,
    header_seen: bool,
    columns: Vec<Name>,
    merged: Merged,
    /// The row being gathered (from 0).
    row: Option<u32>,
    /// Its cells' text, by column from 0 (up to `width`).
    cells: Vec<String>,
    width: usize,
    text: String,
    spans: Vec<Span>,
    records: u64,
    last_row: u32,
}

impl Rows<'_> {
    fn cell(
        &mut self,
        row: u32,
        column: u32,
        text: &str,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), WorkbookError> {
        if self.row != Some(row) {
            self.flush(tree, sink)?;
            self.row = Some(row);
            self.merged.enter(row);
        }
        if text.is_empty() {
            return Ok(());
        }
        let column = column as usize;
        if column >= self.options.max_columns {
            return Err(WorkbookError::TooWide {
                file: self.file.to_string(),
                sheet: self.sheet.to_string(),
                row: row + 1,
                columns: column + 1,
                max: self.options.max_columns,
            });
        }
        while self.cells.len() <= column {
            self.cells.push(String::new());
        }
        self.width = self.width.max(column + 1);
        self.cells[column].clear();
        self.cells[column].push_str(text);
        Ok(())
    }

    /// The row gathered is complete: the header, a record, or a row above
    /// the header.
    fn flush(&mut self, tree: &mut Tree, sink: &mut dyn DocumentSink) -> Result<(), WorkbookError> {
        let Some(row) = self.row.take() else {
            return Ok(());
        };
        self.last_row = row + 1;
        // A merged region's value is its top-left cell's, given to all.
        for (d, value) in &mut self.merged.active {
            let left = d.start.1 as usize;
            if d.start.0 == row {
                *value = self.cells.get(left).cloned().unwrap_or_default();
                if self.width <= left {
                    continue;
                }
            }
            // Above the header, a merged title stays one value.
            if value.is_empty() || !self.header_seen {
                continue;
            }
            for c in left..=(d.end.1 as usize).min(self.options.max_columns - 1) {
                while self.cells.len() <= c {
                    self.cells.push(String::new());
                }
                if self.cells[c].is_empty() {
                    self.cells[c].push_str(value);
                }
                self.width = self.width.max(c + 1);
            }
        }
        let width = self.width;
        self.width = 0;
        let cells = &mut self.cells[..width];
        let blank = cells.iter().all(String::is_empty);
        let result = if blank {
            Ok(())
        } else if !self.header_seen {
            let is_header = match &self.options.header {
                HeaderRow::Auto => cells.iter().filter(|c| !c.is_empty()).count() >= 2,
                HeaderRow::Number(n) => row + 1 == *n,
                HeaderRow::Cell(t) => {
                    let t = t.trim().to_lowercase();
                    cells.iter().any(|c| c.to_lowercase() == t)
                }
                HeaderRow::None => true,
            };
            if is_header {
                self.header_seen = true;
                self.columns = column_names(cells.iter().map(String::as_str), tree);
                tree.set_columns(&self.columns);
            }
            Ok(())
        } else {
            self.record(row, width, tree, sink)
        };
        for c in &mut self.cells[..width] {
            c.clear();
        }
        result
    }

    fn record(
        &mut self,
        row: u32,
        width: usize,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), WorkbookError> {
        self.records += 1;
        if self.columns.len() < width {
            column_name(&mut self.columns, width - 1, tree);
            tree.set_columns(&self.columns);
        }
        self.text.clear();
        self.spans.clear();
        for c in &self.cells[..width] {
            let start = self.text.len() as u32;
            self.text.push_str(c);
            self.spans.push((start, self.text.len() as u32));
        }
        let place = Place {
            offset: 0,
            line: u64::from(row) + 1,
            column: 1,
            ordinal: self.records,
        };
        let row = Row::new(&self.text, &self.spans, &self.columns, place);
        if self.stream_rows && sink.row(tree, &row).map_err(WorkbookError::Sink)? {
            return Ok(());
        }
        let node = append_record(tree, tree.root(), self.record_name, &row);
        self.streamer
            .closed(tree, node, sink)
            .map_err(WorkbookError::Sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Kind, NodeId, Origin};
    use rust_xlsxwriter::{Format, Formula, Workbook};

    #[derive(Debug, Default)]
    struct Recorder {
        stream: bool,
        records: Vec<Vec<(String, String)>>,
        places: Vec<String>,
    }

    impl DocumentSink for Recorder {
        fn start(&mut self, tree: &mut Tree, _: &Origin) -> Result<Option<Vec<Name>>, SinkError> {
            Ok(self.stream.then(|| vec![tree.intern(RECORD)]))
        }
        fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError> {
            self.records.push(
                tree.children(node)
                    .filter(|c| !tree.text(*c).is_empty())
                    .map(|c| (tree.name_text(c).to_string(), tree.text(c).to_string()))
                    .collect(),
            );
            self.places.push(tree.describe(node, 0));
            if let Some(last) = tree.children(node).last() {
                self.places.push(tree.describe(last, 0));
            }
            Ok(())
        }
        fn end(&mut self, tree: &Tree, _: &Origin, _: Verdict) -> Result<(), SinkError> {
            for node in tree.children(tree.root()) {
                if tree.kind(node) == Kind::Group {
                    self.item(tree, node)?;
                }
            }
            Ok(())
        }
    }

    /// A stock list as vendors send them: a merged title, a blank row, the
    /// header on row 4, SKUs and quantities stored as text, dates as
    /// date-formatted serials and as text, a formula with its cached
    /// value, a warehouse merged down two rows, an error value.
    fn stock_workbook() -> Vec<u8> {
        let mut book = Workbook::new();
        let notes = book.add_worksheet();
        notes.set_name("Notes").expect("name");
        notes.write_string(0, 0, "Read me").expect("write");
        let sheet = book.add_worksheet();
        sheet.set_name("Stock").expect("name");
        let title = Format::new().set_bold();
        sheet
            .merge_range(0, 0, 0, 5, "ACME stock list, March 2024", &title)
            .expect("merge");
        sheet.write_string(1, 0, "Prices in USD").expect("write");
        for (c, h) in [
            "Item #",
            "Description",
            "Qty",
            "Cost",
            "Next Delivery",
            "DC",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(3, c as u16, *h).expect("header");
        }
        let date = Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_string(4, 0, "00123").expect("write");
        sheet.write_string(4, 1, "Widget").expect("write");
        sheet.write_string(4, 2, " 1,250 ").expect("write");
        sheet.write_number(4, 3, 2.5).expect("write");
        sheet
            .write_number_with_format(4, 4, 45366.0, &date)
            .expect("write");
        sheet
            .merge_range(4, 5, 5, 5, "DC-EAST", &Format::new())
            .expect("merge");
        sheet.write_string(5, 0, "00456").expect("write");
        sheet.write_string(5, 1, "Gadget").expect("write");
        sheet.write_number(5, 2, 40.0).expect("write");
        sheet
            .write_formula(5, 3, Formula::new("=D5*3").set_result("7.5"))
            .expect("write");
        sheet.write_string(5, 4, "03/20/2024").expect("write");
        sheet.write_string(7, 0, "00789").expect("write");
        sheet
            .write_formula(7, 2, Formula::new("=1/0").set_result("#DIV/0!"))
            .expect("write");
        sheet
            .write_formula(
                7,
                3,
                Formula::new("=0.1+0.2").set_result("0.30000000000000004"),
            )
            .expect("write");
        book.save_to_buffer().expect("saves")
    }

    fn run(bytes: &[u8], options: &XlsxOptions, stream: bool) -> Result<Recorder, WorkbookError> {
        let mut sink = Recorder {
            stream,
            ..Recorder::default()
        };
        let mut tree = Tree::new(Flavor::Xlsx);
        decode(bytes, "stock.xlsx", options, &mut tree, &mut sink)?;
        Ok(sink)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reads_a_sheet_under_its_header_as_records() {
        let options = XlsxOptions {
            sheet: Sheet::Name("stock".into()),
            ..XlsxOptions::default()
        };
        let expected = [
            pairs(&[
                ("item", "00123"),
                ("description", "Widget"),
                ("qty", "1,250"),
                ("cost", "2.5"),
                ("next_delivery", "2024-03-15"),
                ("dc", "DC-EAST"),
            ]),
            pairs(&[
                ("item", "00456"),
                ("description", "Gadget"),
                ("qty", "40"),
                ("cost", "7.5"),
                ("next_delivery", "03/20/2024"),
                ("dc", "DC-EAST"),
            ]),
            pairs(&[("item", "00789"), ("qty", "#DIV/0!"), ("cost", "0.3")]),
        ];
        for stream in [true, false] {
            let r = run(&stock_workbook(), &options, stream).expect("decodes");
            assert_eq!(r.records, expected, "streamed: {stream}");
        }
        let r = run(&stock_workbook(), &options, true).expect("decodes");
        assert_eq!(r.places[0], "row 5 (record 1)");
        assert_eq!(r.places[1], "row 5, column F (record 1, field \"dc\")");
    }

    #[test]
    fn finds_the_header_by_number_or_cell_and_the_sheet_by_number() {
        let by_row = XlsxOptions {
            sheet: Sheet::Index(2),
            header: HeaderRow::Number(4),
            ..XlsxOptions::default()
        };
        let by_cell = XlsxOptions {
            sheet: Sheet::Index(2),
            header: HeaderRow::Cell("ITEM #".into()),
            ..XlsxOptions::default()
        };
        let a = run(&stock_workbook(), &by_row, true).expect("by row");
        let b = run(&stock_workbook(), &by_cell, true).expect("by cell");
        assert_eq!(a.records, b.records);
        assert_eq!(a.records.len(), 3);
        // Without a header, every row is a record named by column number,
        // and a merged region's value is in each of its cells.
        let none = XlsxOptions {
            sheet: Sheet::Index(2),
            header: HeaderRow::None,
            ..XlsxOptions::default()
        };
        let r = run(&stock_workbook(), &none, true).expect("no header");
        let title = "ACME stock list, March 2024";
        assert_eq!(
            r.records[0],
            pairs(&[
                ("1", title),
                ("2", title),
                ("3", title),
                ("4", title),
                ("5", title),
                ("6", title)
            ])
        );
        assert_eq!(r.records.len(), 6);
    }

    #[test]
    fn says_what_is_wrong_with_a_bad_workbook() {
        let e = run(b"sku,qty\nA,1\n", &XlsxOptions::default(), true).expect_err("csv");
        assert_eq!(
            e.to_string(),
            "stock.xlsx: not an Excel workbook (an .xlsx file is a ZIP archive, an .xls file an OLE compound file; this is text (read as CSV))"
        );
        let e = run(b"PK\x03\x04garbage", &XlsxOptions::default(), true).expect_err("zip");
        assert!(
            e.to_string()
                .starts_with("stock.xlsx: cannot open the workbook: "),
            "{e}"
        );
        let missing = XlsxOptions {
            sheet: Sheet::Name("Prices".into()),
            ..XlsxOptions::default()
        };
        let e = run(&stock_workbook(), &missing, true).expect_err("sheet");
        assert_eq!(
            e.to_string(),
            "stock.xlsx: the workbook has no sheet \"Prices\" (its sheets: \"Notes\", \"Stock\")"
        );
        let e = run(&stock_workbook(), &XlsxOptions::default(), true).expect_err("no header");
        assert_eq!(
            e.to_string(),
            "stock.xlsx: sheet \"Notes\": no row has two values or more to be the header (the sheet's last row is 1)"
        );
        let far = XlsxOptions {
            sheet: Sheet::Index(2),
            header: HeaderRow::Number(40),
            ..XlsxOptions::default()
        };
        let e = run(&stock_workbook(), &far, true).expect_err("past the end");
        assert_eq!(
            e.to_string(),
            "stock.xlsx: sheet \"Stock\": the header is row 40 ([mapping.xlsx] header_row), and the sheet has rows up to 8 only"
        );
    }

    #[test]
    fn refuses_rows_wider_than_the_limit() {
        let narrow = XlsxOptions {
            sheet: Sheet::Index(2),
            max_columns: 4,
            ..XlsxOptions::default()
        };
        let e = run(&stock_workbook(), &narrow, true).expect_err("too wide");
        assert_eq!(
            e.to_string(),
            "stock.xlsx: sheet \"Stock\", row 4: the row has 5 columns, more than the 4 a row may have (a sheet that really is this wide sets [mapping.xlsx] max_columns)"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// A damaged workbook is an error, never a panic.
        #[test]
        fn damaged_workbooks_do_not_panic(
            flips in proptest::collection::vec((0usize..1 << 16, 0u8..=255), 1..8),
            cut in 0usize..1 << 16,
        ) {
            let mut bytes = stock_workbook();
            let len = bytes.len();
            for (at, b) in flips {
                bytes[at % len] ^= b;
            }
            bytes.truncate(cut.max(64));
            let options = XlsxOptions {
                sheet: Sheet::Index(2),
                ..XlsxOptions::default()
            };
            let _ = run(&bytes, &options, true);
        }
    }

    #[test]
    fn writes_numbers_as_excel_shows_them() {
        let text = |f: f64| {
            let mut s = String::new();
            excel_number(f, &mut s);
            s
        };
        assert_eq!(text(42.0), "42");
        assert_eq!(text(-3.0), "-3");
        assert_eq!(text(0.1 + 0.2), "0.3");
        assert_eq!(text(1234.5678), "1234.5678");
        assert_eq!(text(0.000001), "0.000001");
        assert_eq!(text(-0.5), "-0.5");
        assert_eq!(text(123456789012.25), "123456789012.25");
    }
}
