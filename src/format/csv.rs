//! CSV feeds as trees (decoder) and trees as CSV (encoder).
//!
//! One CSV file is one document. Each data record becomes a `record` group
//! under the root, and each of its fields a field node named by the
//! normalized header of its column (see [`normalize_header`]), or by the
//! column number when there is no header. The decoder streams: it holds one
//! record at a time, and a sink that asks for `record` to be streamed gets
//! each record as soon as it is read, so that memory stays bounded whatever
//! the size of the feed.
//!
//! Decoding never guesses: the encoding is the one the options name, and a
//! byte that is not valid in it is an error naming the line and the field,
//! never a silent replacement. This module knows CSV, not the canonical
//! model.

use std::io::{self, BufRead, BufReader, Cursor, Read, Write};

use csv::{ByteRecord, QuoteStyle, ReaderBuilder, Terminator, WriterBuilder};

use super::{DocumentSink, Flavor, Kind, Name, NodeId, Place, Row, SinkError, Span, Tree, Verdict};

/// The name of the group node of each data record.
pub const RECORD: &str = "record";

/// The name of the node that holds a run of records with the same
/// `group_by` value.
pub const GROUP: &str = "group";

/// The UTF-8 byte order mark, skipped at the start of a UTF-8 feed.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The name of the output in encoder errors, which have no file.
const OUTPUT: &str = "CSV output";

/// The character encoding of a feed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; a leading byte order mark is skipped.
    #[default]
    Utf8,
    /// Windows-1252, as exported by spreadsheets on Windows.
    Windows1252,
    /// ISO-8859-1: each byte is the code point of the same number (unlike
    /// Windows-1252 for 0x80 to 0x9F).
    Latin1,
}

impl Encoding {
    /// The encoding for a configured name: `utf-8`, `utf8`, `windows-1252`,
    /// `cp1252`, `latin-1`, `latin1` or `iso-8859-1`, in any case.
    pub fn from_name(name: &str) -> Option<Encoding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" => Some(Encoding::Windows1252),
            "latin-1" | "latin1" | "iso-8859-1" => Some(Encoding::Latin1),
            _ => None,
        }
    }

    /// The canonical name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
            Encoding::Latin1 => "ISO-8859-1",
        }
    }
}

/// How a feed is delimited, quoted and encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter (`,` by default; `;` and tab are common too).
    pub delimiter: u8,
    /// The quote character (`"` by default).
    pub quote: u8,
    /// True when the first non-blank record (after `skip_rows`) is the
    /// header; its names then name the columns. On output, a header row
    /// is written from the field names of the first record.
    pub header: bool,
    /// The character encoding of the bytes.
    pub encoding: Encoding,
    /// Lines (ended by `\n`) to skip before the header, such as a title.
    pub skip_rows: usize,
    /// True to trim whitespace around field values.
    pub trim: bool,
    /// True to end output lines with `\r\n` rather than `\n`.
    pub crlf: bool,
    /// A column (its normalized header) whose value groups consecutive
    /// records: each run of records with the same value is put under a
    /// `group` node (one purchase order of several line rows, say).
    pub group_by: Option<String>,
    /// The most fields a record may have ([`DEFAULT_MAX_COLUMNS`]): a
    /// record with more is an error, so that memory stays proportional to
    /// a sane line whatever the input.
    pub max_columns: usize,
}

/// The most fields a record may have unless a mapping says otherwise.
pub const DEFAULT_MAX_COLUMNS: usize = 4096;

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            quote: b'"',
            header: true,
            encoding: Encoding::Utf8,
            skip_rows: 0,
            trim: true,
            crlf: false,
            group_by: None,
            max_columns: DEFAULT_MAX_COLUMNS,
        }
    }
}

/// What a decoder read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data records (the header and blank lines are not counted).
    pub records: u64,
    /// Bytes of input, all of them.
    pub bytes: u64,
}

/// Why a feed could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Reading the input or writing the output failed.
    #[error("{file}: {source}")]
    Io {
        /// The file read, or "CSV output".
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The CSV reader or writer failed.
    #[error("{file}, line {line}: {message}")]
    Csv {
        /// The file read, or "CSV output".
        file: String,
        /// The line (from 1) read or the record written.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// A field is not valid in the feed's encoding.
    #[error(
        "{file}, line {line}, field {field}: invalid {encoding} (valid up to byte {valid_up_to} of the field)"
    )]
    Encoding {
        /// The file read.
        file: String,
        /// The line (from 1) where the record starts.
        line: u64,
        /// The field number, from 1.
        field: usize,
        /// The encoding the options name.
        encoding: &'static str,
        /// How many bytes of the field are valid.
        valid_up_to: usize,
    },
    /// A character has no byte in the output encoding.
    #[error(
        "CSV output, record {record}, column {column}: {character:?} cannot be encoded in {encoding}"
    )]
    Unencodable {
        /// The record, from 1 (0 is the header row).
        record: u64,
        /// The column, from 1.
        column: usize,
        /// The character.
        character: char,
        /// The output encoding.
        encoding: &'static str,
    },
    /// The document sink failed; its error is passed through.
    #[error("document sink: {0}")]
    Sink(#[source] SinkError),
}

/// Normalizes a column header, so that mapping paths can name columns
/// whatever case and spacing a partner's header uses.
///
/// The name is trimmed and lowercased, every run of characters that are
/// not alphanumeric becomes one `_`, and no `_` is left at either end:
/// `"Qty Available "`, `"QTY_AVAILABLE"` and `"qty-available"` are all
/// `qty_available`, and `"Item #"` is `item`. Mapping paths name columns by
/// this normalized header. A header with nothing alphanumeric normalizes
/// to the empty string; the decoder then names that column by its number
/// (`"3"`), as it names every column of a feed without a header. Repeated
/// names get suffixes in the decoder: `qty`, `qty_2`, `qty_3`.
pub fn normalize_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.trim().chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Decodes one CSV file as one document and hands it to `sink`.
///
/// The tree is cleared and named after `file_name`; the sink's `start`
/// says whether to stream `record`s. Each data record becomes a `record`
/// group (its place: byte offset, line, column 1, and its number counting
/// data records from 1) with one field per value, named by the normalized
/// header of its column or by the column number past the header or without
/// one; a field's place has the same line and record number and its field
/// number as column. Blank lines are skipped; records may have more or
/// fewer fields than the header. Memory is bounded by one record when the
/// sink streams records: the input is never read whole.
pub fn decode<R: Read>(
    input: R,
    file_name: &str,
    options: &CsvOptions,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<Summary, CsvError> {
    let io_error = |source| CsvError::Io {
        file: file_name.to_string(),
        source,
    };
    let (origin, streamer) =
        super::start_file(tree, Flavor::Csv, file_name, sink).map_err(CsvError::Sink)?;

    // The byte order mark and the skipped lines are read here, before the
    // CSV reader starts, so positions from the reader are offset by them.
    let mut input = input;
    let mut head = Vec::with_capacity(BOM.len());
    (&mut input)
        .take(BOM.len() as u64)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let mut base_bytes = 0;
    if options.encoding == Encoding::Utf8 && head == BOM {
        head.clear();
        base_bytes = BOM.len() as u64;
    }
    let mut input = BufReader::with_capacity(64 * 1024, Cursor::new(head).chain(input));
    let mut base_lines = 0;
    let mut skipped = Vec::new();
    for _ in 0..options.skip_rows {
        skipped.clear();
        let n = input.read_until(b'\n', &mut skipped).map_err(io_error)?;
        if n == 0 {
            break;
        }
        base_bytes += n as u64;
        base_lines += 1;
    }

    let mut reader = ReaderBuilder::new()
        .delimiter(options.delimiter)
        .quote(options.quote)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(BUFFER)
        .from_reader(Tap::new(input));
    let record_name = tree.intern(RECORD);
    let group_name = tree.intern(GROUP);
    let mut group_column: Option<usize> = None;
    let mut group: Option<(NodeId, String)> = None;
    if !options.header
        && let Some(key) = &options.group_by
    {
        // Without a header, columns are named by number: "3" is the third.
        group_column = Some(
            key.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| n - 1)
                .ok_or_else(|| CsvError::Csv {
                    file: file_name.to_string(),
                    line: base_lines + 1,
                    message: format!(
                        "the feed has no header, so group_by names a column by number, not {key:?}"
                    ),
                })?,
        );
    }
    let mut columns: Vec<Name> = Vec::new();
    let mut need_header = options.header;
    let mut record = ByteRecord::new();
    let mut scratch = String::new();
    let mut fields = Fields::default();
    // Records streamed at the top level may be offered as rows.
    let rows = options.group_by.is_none() && streamer.streams_top(record_name);
    let mut records = 0u64;
    let mut line = base_lines + 1;
    loop {
        let start = reader.position().clone();
        reader.get_mut().mark(start.byte());
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(file_name, e, base_lines, line)),
        }
        // The reader places a record where it started to look for it, before
        // the line ends it skipped (a blank line, the LF of a CRLF).
        let (skipped, newlines) = reader.get_mut().skipped();
        let offset = start.byte() + skipped;
        line = start.line() + newlines + base_lines;
        if is_blank(&record, options.trim) {
            continue;
        }
        // Each field costs memory beyond its bytes (a name, a node): a
        // line of a million empty fields would take hundreds of MB.
        if record.len() > options.max_columns {
            return Err(CsvError::Csv {
                file: file_name.to_string(),
                line,
                message: format!(
                    "the record has {} fields, more than the {} a record may have \
                     (a feed that really is this wide sets [mapping.csv] max_columns)",
                    record.len(),
                    options.max_columns
                ),
            });
        }
        if need_header {
            need_header = false;
            columns = header_names(&record, options, file_name, line, tree)?;
            tree.set_columns(&columns);
            if let Some(key) = &options.group_by {
                let normalized = normalize_header(key);
                let name = tree.intern(&normalized);
                group_column = Some(columns.iter().position(|c| *c == name).ok_or_else(|| {
                    CsvError::Csv {
                        file: file_name.to_string(),
                        line,
                        message: format!(
                            "group_by names the column {normalized:?}, which the header does not have"
                        ),
                    }
                })?);
            }
            continue;
        }
        records += 1;
        let place = Place {
            offset: offset + base_bytes,
            line,
            column: 1,
            ordinal: records,
        };
        let mut parent = tree.root();
        if let Some(column) = group_column {
            let key = record.get(column).unwrap_or_default();
            let key = decode_text(key, options.encoding, &mut scratch)
                .map(|k| if options.trim { k.trim() } else { k })
                .unwrap_or_default();
            let same = group.as_ref().is_some_and(|(_, k)| k == key);
            if !same {
                let key = key.to_string();
                if let Some((g, _)) = group.take() {
                    streamer.closed(tree, g, sink).map_err(CsvError::Sink)?;
                }
                let g = tree.append(tree.root(), group_name, Kind::Group, b"", place);
                group = Some((g, key));
            }
            if let Some((g, _)) = &group {
                parent = *g;
            }
        }
        if columns.len() < record.len() {
            // Columns past the header (or every column, without one) are
            // named by number; the tree learns them once per new width.
            column_name(&mut columns, record.len() - 1, tree);
            tree.set_columns(&columns);
        }
        // The fields' text, decoded once: offered to the sink as a row, or
        // else made into nodes.
        let (text, spans) = fields.read(&record, options, file_name, line)?;
        let row = Row::new(text, spans, &columns, place);
        if rows && sink.row(tree, &row).map_err(CsvError::Sink)? {
            continue;
        }
        let node = append_record(tree, parent, record_name, &row);
        streamer.closed(tree, node, sink).map_err(CsvError::Sink)?;
    }
    if let Some((g, _)) = group.take() {
        streamer.closed(tree, g, sink).map_err(CsvError::Sink)?;
    }
    let bytes = reader.position().byte() + base_bytes;
    sink.end(tree, &origin, Verdict::Accepted)
        .map_err(CsvError::Sink)?;
    Ok(Summary { records, bytes })
}

/// Appends `row` as a record group under `parent`, a field per column
/// (its place: the record's, with the field's number as column).
pub fn append_record(tree: &mut Tree, parent: NodeId, record_name: Name, row: &Row<'_>) -> NodeId {
    let place = row.place();
    let node = tree.append(parent, record_name, Kind::Group, b"", place);
    for (i, text) in row.fields().enumerate() {
        let name = row
            .name(i)
            .unwrap_or_else(|| tree.intern(&(i + 1).to_string()));
        let place = Place {
            column: i as u64 + 1,
            ..place
        };
        tree.append_str(node, name, Kind::Field, text, place);
    }
    node
}

/// A record's fields as text, decoded once for the whole record: read in
/// place when the record is ASCII (or UTF-8 in a UTF-8 feed), as nearly
/// all are; converted as a whole when it is Latin-1; field by field
/// otherwise.
#[derive(Default)]
struct Fields {
    /// A Latin-1 record as UTF-8.
    utf8: Vec<u8>,
    /// Positions of the Latin-1 record's bytes above 0x7F (each becomes
    /// two bytes).
    high: Vec<usize>,
    /// Windows-1252 fields, decoded.
    text: String,
    scratch: String,
    /// Where each field is in the text.
    spans: Vec<Span>,
}

impl Fields {
    fn read<'r>(
        &'r mut self,
        record: &'r ByteRecord,
        options: &CsvOptions,
        file: &str,
        line: u64,
    ) -> Result<(&'r str, &'r [Span]), CsvError> {
        let whole = record.as_slice();
        // Spans are u32: a record (at most 16 MiB a line) fits, even
        // doubled.
        if whole.len() > (u32::MAX / 2) as usize {
            return Err(CsvError::Csv {
                file: file.to_string(),
                line,
                message: "the record is longer than 2 GiB".to_string(),
            });
        }
        self.spans.clear();
        let ascii = whole.is_ascii();
        if ascii || options.encoding == Encoding::Utf8 {
            if let Ok(text) = std::str::from_utf8(whole) {
                // The record's text is its fields one after the other.
                let mut start = 0;
                for field in record.iter() {
                    let end = start + field.len();
                    let (a, b) = match (options.trim, ascii) {
                        (false, _) => (0, field.len()),
                        (true, true) => trimmed(field),
                        // Fields end at delimiters, which are ASCII: on
                        // character boundaries.
                        (true, false) => trim_str(text.get(start..end).unwrap_or("")),
                    };
                    self.spans.push(((start + a) as u32, (start + b) as u32));
                    start = end;
                }
                return Ok((text, &self.spans));
            }
        } else if options.encoding == Encoding::Latin1 {
            // Each byte is the character of the same number: ASCII as it
            // is, the others as two UTF-8 bytes.
            high_bytes(whole, &mut self.high);
            self.utf8.clear();
            let mut prev = 0;
            for &h in &self.high {
                let b = whole[h];
                self.utf8.extend_from_slice(&whole[prev..h]);
                self.utf8
                    .extend_from_slice(&[0xC0 | (b >> 6), 0x80 | (b & 0x3F)]);
                prev = h + 1;
            }
            self.utf8.extend_from_slice(&whole[prev..]);
            let text = std::str::from_utf8(&self.utf8).unwrap_or("");
            // A field moves on by one byte for each byte above 0x7F before
            // it, and grows by one for each in it.
            let (mut start, mut k) = (0, 0);
            for field in record.iter() {
                let end = start + field.len();
                let first = k;
                while self.high.get(k).is_some_and(|&h| h < end) {
                    k += 1;
                }
                let (s, e) = (start + first, end + k);
                let (a, b) = match options.trim {
                    true => trim_str(text.get(s..e).unwrap_or("")),
                    false => (0, e - s),
                };
                self.spans.push(((s + a) as u32, (s + b) as u32));
                start = end;
            }
            return Ok((text, &self.spans));
        }
        self.text.clear();
        for (i, bytes) in record.iter().enumerate() {
            let text = decode_text(bytes, options.encoding, &mut self.scratch).map_err(|e| {
                CsvError::Encoding {
                    file: file.to_string(),
                    line,
                    field: i + 1,
                    encoding: options.encoding.name(),
                    valid_up_to: e.valid_up_to(),
                }
            })?;
            let text = if options.trim { text.trim() } else { text };
            let start = self.text.len();
            self.text.push_str(text);
            self.spans.push((start as u32, self.text.len() as u32));
        }
        Ok((&self.text, &self.spans))
    }
}

/// The positions of the bytes above 0x7F, eight bytes at a time.
fn high_bytes(bytes: &[u8], out: &mut Vec<usize>) {
    out.clear();
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if u64::from_le_bytes(word) & 0x8080_8080_8080_8080 != 0 {
            out.extend((0..8).filter(|&i| chunk[i] >= 0x80).map(|i| at + i));
        }
        at += 8;
    }
    let rest = chunks.remainder();
    out.extend((0..rest.len()).filter(|&i| rest[i] >= 0x80).map(|i| at + i));
}

/// True when the field has nothing to trim, as most have: it starts and
/// ends with a visible ASCII character.
#[inline]
fn starts_and_ends_graphic(field: &[u8]) -> bool {
    matches!((field.first(), field.last()), (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic())
}

/// The bounds of a field without the whitespace around it, as `str::trim`
/// takes it away.
#[inline]
fn trim_str(field: &str) -> (usize, usize) {
    if starts_and_ends_graphic(field.as_bytes()) {
        return (0, field.len());
    }
    let a = field.len() - field.trim_start().len();
    (a, a + field.trim().len())
}

/// The bounds of an ASCII field without the whitespace around it: what
/// `str::trim` leaves (tab, line feed, vertical tab, form feed, carriage
/// return and space are the ASCII characters it takes away).
#[inline]
fn trimmed(field: &[u8]) -> (usize, usize) {
    if starts_and_ends_graphic(field) {
        return (0, field.len());
    }
    let space = |b: &u8| *b == b' ' || (b'\t'..=b'\r').contains(b);
    let start = field.iter().position(|b| !space(b)).unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |i| i + 1);
    (start, end)
}

/// The capacity of the CSV reader's buffer.
const BUFFER: usize = 64 * 1024;

/// The longest line a feed may have (a record, or a line of a quoted field
/// that spans lines).
const MAX_LINE: u64 = 16 << 20;

/// Watches the bytes the CSV reader reads, to place records exactly.
///
/// The `csv` reader reports a record at the position where it started to
/// look for it, which is before the blank lines it skipped and, in a CRLF
/// file, before the LF that ended the previous record. The tap keeps the
/// bytes from that position (at most twice the reader's buffer) and counts
/// the line ends before the record's first byte.
struct Tap<R> {
    inner: R,
    /// Bytes read, from absolute offset `start`.
    window: Vec<u8>,
    start: u64,
    /// Where the reader starts to look for the next record.
    mark: u64,
    /// Line-end bytes and LFs seen from the mark so far.
    run: (u64, u64),
    /// True once a byte that is not a line end follows the mark.
    done: bool,
    /// Bytes read since the last LF: a line longer than [`MAX_LINE`] is
    /// refused, so that memory stays bounded whatever the input.
    line_len: u64,
}

impl<R> Tap<R> {
    fn new(inner: R) -> Tap<R> {
        Tap {
            inner,
            window: Vec::with_capacity(4 * BUFFER),
            start: 0,
            mark: 0,
            run: (0, 0),
            done: false,
            line_len: 0,
        }
    }

    /// The reader starts to look for a record at `offset`.
    fn mark(&mut self, offset: u64) {
        self.mark = offset;
        self.run = (0, 0);
        self.done = false;
        self.scan();
    }

    /// Line-end bytes, and LFs among them, between the mark and the record.
    fn skipped(&mut self) -> (u64, u64) {
        self.scan();
        self.run
    }

    /// Counts line ends from the mark through the window.
    fn scan(&mut self) {
        if self.done {
            return;
        }
        let end = self.start + self.window.len() as u64;
        let from = self.mark.max(self.start).min(end);
        let rest = &self.window[(from - self.start) as usize..];
        let n = rest
            .iter()
            .position(|b| !matches!(b, b'\r' | b'\n'))
            .unwrap_or(rest.len());
        self.run.0 += n as u64;
        self.run.1 += memchr::memchr_iter(b'\n', &rest[..n]).count() as u64;
        self.mark = from + n as u64;
        self.done = n < rest.len();
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match memchr::memrchr(b'\n', &buf[..n]) {
            Some(last) => self.line_len = (n - last - 1) as u64,
            None => self.line_len += n as u64,
        }
        if self.line_len > MAX_LINE {
            let at = self.start + self.window.len() as u64 + n as u64;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a line of more than {} MiB (up to byte {at}): no feed dropgate reads has one",
                    MAX_LINE >> 20
                ),
            ));
        }
        self.window.extend_from_slice(&buf[..n]);
        self.scan();
        // The reader's next mark is at most one buffer behind what it read,
        // so older bytes are no longer needed once the mark is scanned.
        if self.window.len() > 4 * BUFFER {
            let cut = self.window.len() - 2 * BUFFER;
            self.window.drain(..cut);
            self.start += cut as u64;
        }
        Ok(n)
    }
}

/// True when a record has no value: an empty line, or only delimiters
/// (and whitespace, when trimming).
fn is_blank(record: &ByteRecord, trim: bool) -> bool {
    record.iter().all(|f| {
        if trim {
            f.iter().all(u8::is_ascii_whitespace)
        } else {
            f.is_empty()
        }
    })
}

/// The interned names of the header's columns: normalized, numbered when
/// empty, suffixed when repeated.
fn header_names(
    record: &ByteRecord,
    options: &CsvOptions,
    file: &str,
    line: u64,
    tree: &mut Tree,
) -> Result<Vec<Name>, CsvError> {
    let mut scratch = String::new();
    let mut texts: Vec<String> = Vec::with_capacity(record.len());
    for (i, bytes) in record.iter().enumerate() {
        let text =
            decode_text(bytes, options.encoding, &mut scratch).map_err(|e| CsvError::Encoding {
                file: file.to_string(),
                line,
                field: i + 1,
                encoding: options.encoding.name(),
                valid_up_to: e.valid_up_to(),
            })?;
        texts.push(text.to_string());
    }
    Ok(column_names(texts.iter().map(String::as_str), tree))
}

/// The interned names of a header's cells: normalized, numbered when
/// empty, suffixed when repeated. The one rule for CSV and workbooks.
pub fn column_names<'a>(header: impl Iterator<Item = &'a str>, tree: &mut Tree) -> Vec<Name> {
    let mut seen: Vec<String> = Vec::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    // The next suffix to try for each repeated name.
    let mut next: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, text) in header.enumerate() {
        let mut name = normalize_header(text);
        if name.is_empty() {
            name = (i + 1).to_string();
        }
        if taken.contains(&name) {
            let base = name;
            let n = next.entry(base.clone()).or_insert(2);
            loop {
                name = format!("{base}_{n}");
                *n += 1;
                if !taken.contains(&name) {
                    break;
                }
            }
        }
        taken.insert(name.clone());
        seen.push(name);
    }
    seen.iter().map(|s| tree.intern(s)).collect()
}

/// The name of column `i` (from 0): its header name, or its number.
pub fn column_name(columns: &mut Vec<Name>, i: usize, tree: &mut Tree) -> Name {
    while columns.len() <= i {
        let number = (columns.len() + 1).to_string();
        columns.push(tree.intern(&number));
    }
    columns[i]
}

/// The text of a field in `encoding`: borrowed when the bytes are UTF-8
/// already, decoded into `scratch` otherwise. Also reads the lines of a
/// fixed-width file.
pub fn decode_text<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    scratch: &'a mut String,
) -> Result<&'a str, std::str::Utf8Error> {
    if encoding == Encoding::Utf8 || bytes.is_ascii() {
        return std::str::from_utf8(bytes);
    }
    scratch.clear();
    match encoding {
        Encoding::Latin1 => scratch.extend(bytes.iter().map(|&b| char::from(b))),
        _ => scratch.push_str(
            &encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0,
        ),
    }
    Ok(scratch.as_str())
}

/// Turns an error of the CSV reader into ours, with the line.
fn csv_error(file: &str, e: csv::Error, base_lines: u64, line: u64) -> CsvError {
    let line = e.position().map_or(line, |p| p.line() + base_lines);
    let message = e.to_string();
    if e.is_io_error()
        && let csv::ErrorKind::Io(source) = e.into_kind()
    {
        return CsvError::Io {
            file: file.to_string(),
            source,
        };
    }
    CsvError::Csv {
        file: file.to_string(),
        line,
        message,
    }
}

/// Writes a tree as CSV: the root's `record` groups are the rows, their
/// field children the columns, in order.
///
/// With `options.header`, the first row is the field names of the first
/// record, exactly as the mapping wrote them (they are column titles, not
/// normalized). Fields are quoted only when necessary. In Windows-1252 or
/// ISO-8859-1, a character with no byte in the encoding is an error.
pub fn encode<W: Write>(tree: &Tree, options: &CsvOptions, out: W) -> Result<(), CsvError> {
    let mut writer = WriterBuilder::new()
        .delimiter(options.delimiter)
        .quote(options.quote)
        .quote_style(QuoteStyle::Necessary)
        .flexible(true)
        .terminator(if options.crlf {
            Terminator::CRLF
        } else {
            Terminator::Any(b'\n')
        })
        .from_writer(out);
    let mut row = ByteRecord::new();
    let mut scratch = Vec::new();
    let mut number = 0u64;
    let records = tree
        .children(tree.root())
        .filter(|&n| tree.kind(n) == Kind::Group);
    for node in records {
        if number == 0 && options.header {
            row.clear();
            for (i, field) in fields(tree, node).enumerate() {
                let text = tree.name_text(field);
                encode_field(text, options.encoding, &mut scratch)
                    .map_err(|c| unencodable(0, i, c, options.encoding))?;
                row.push_field(&scratch);
            }
            write_row(&mut writer, &row, 0)?;
        }
        number += 1;
        row.clear();
        for (i, field) in fields(tree, node).enumerate() {
            encode_field(&tree.text(field), options.encoding, &mut scratch)
                .map_err(|c| unencodable(number, i, c, options.encoding))?;
            row.push_field(&scratch);
        }
        write_row(&mut writer, &row, number)?;
    }
    writer.flush().map_err(|source| CsvError::Io {
        file: OUTPUT.to_string(),
        source,
    })
}

/// The field children of a record.
fn fields(tree: &Tree, record: NodeId) -> impl Iterator<Item = NodeId> + '_ {
    tree.children(record)
        .filter(move |&n| tree.kind(n) == Kind::Field)
}

/// Writes one row, naming the record in an error.
fn write_row<W: Write>(
    writer: &mut csv::Writer<W>,
    row: &ByteRecord,
    number: u64,
) -> Result<(), CsvError> {
    writer.write_byte_record(row).map_err(|e| {
        let message = e.to_string();
        if e.is_io_error()
            && let csv::ErrorKind::Io(source) = e.into_kind()
        {
            return CsvError::Io {
                file: OUTPUT.to_string(),
                source,
            };
        }
        CsvError::Csv {
            file: OUTPUT.to_string(),
            line: number,
            message,
        }
    })
}

/// The error for a character with no byte in the output encoding.
fn unencodable(record: u64, i: usize, character: char, encoding: Encoding) -> CsvError {
    CsvError::Unencodable {
        record,
        column: i + 1,
        character,
        encoding: encoding.name(),
    }
}

/// Encodes `text` into `out` (cleared first); the error is the first
/// character that has no byte in `encoding`.
fn encode_field(text: &str, encoding: Encoding, out: &mut Vec<u8>) -> Result<(), char> {
    out.clear();
    match encoding {
        Encoding::Utf8 => out.extend_from_slice(text.as_bytes()),
        Encoding::Latin1 => {
            for c in text.chars() {
                out.push(u8::try_from(u32::from(c)).map_err(|_| c)?);
            }
        }
        Encoding::Windows1252 if text.is_ascii() => out.extend_from_slice(text.as_bytes()),
        Encoding::Windows1252 => {
            // A single-byte encoding never needs more bytes than the UTF-8
            // text has.
            out.resize(text.len(), 0);
            let mut encoder = encoding_rs::WINDOWS_1252.new_encoder();
            let (result, _, written) =
                encoder.encode_from_utf8_without_replacement(text, out, true);
            out.truncate(written);
            match result {
                encoding_rs::EncoderResult::InputEmpty => {}
                encoding_rs::EncoderResult::Unmappable(c) => return Err(c),
                encoding_rs::EncoderResult::OutputFull => return Err(char::REPLACEMENT_CHARACTER),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Origin;

    /// A record as the sink saw it: (field name, text) pairs.
    type Fields = Vec<(String, String)>;

    /// A sink that records what it receives.
    #[derive(Default)]
    struct Recorder {
        stream: bool,
        items: Vec<Fields>,
        places: Vec<Place>,
        max_len: usize,
        at_end: Vec<Fields>,
        ended: bool,
    }

    fn fields_of(tree: &Tree, node: NodeId) -> Fields {
        tree.children(node)
            .map(|f| (tree.name_text(f).to_string(), tree.text(f).into_owned()))
            .collect()
    }

    impl DocumentSink for Recorder {
        fn start(
            &mut self,
            tree: &mut Tree,
            origin: &Origin,
        ) -> Result<Option<Vec<Name>>, SinkError> {
            assert_eq!(origin.flavor, Flavor::Csv);
            assert_eq!(origin.file_name.as_deref(), Some("feed.csv"));
            Ok(self.stream.then(|| vec![tree.intern(RECORD)]))
        }

        fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError> {
            self.max_len = self.max_len.max(tree.len());
            self.items.push(fields_of(tree, node));
            self.places.push(tree.place(node));
            Ok(())
        }

        fn end(&mut self, tree: &Tree, _: &Origin, verdict: Verdict) -> Result<(), SinkError> {
            assert_eq!(verdict, Verdict::Accepted);
            self.at_end = tree
                .children(tree.root())
                .map(|r| fields_of(tree, r))
                .collect();
            self.ended = true;
            Ok(())
        }
    }

    fn run(input: &[u8], options: &CsvOptions, stream: bool) -> Result<Recorder, CsvError> {
        let mut tree = Tree::new(Flavor::Csv);
        let mut sink = Recorder {
            stream,
            ..Recorder::default()
        };
        let summary = decode(input, "feed.csv", options, &mut tree, &mut sink)?;
        assert_eq!(summary.bytes, input.len() as u64);
        let seen = if stream { &sink.items } else { &sink.at_end };
        assert_eq!(summary.records, seen.len() as u64);
        Ok(sink)
    }

    /// The records of a feed read without streaming.
    fn records(input: &[u8], options: &CsvOptions) -> Vec<Fields> {
        match run(input, options, false) {
            Ok(sink) => sink.at_end,
            Err(e) => panic!("{e}"),
        }
    }

    fn rec(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn normalizes_headers() {
        for raw in [
            "Qty Available ",
            "QTY_AVAILABLE",
            "qty-available",
            " Qty  -- Available",
        ] {
            assert_eq!(normalize_header(raw), "qty_available", "{raw:?}");
        }
        assert_eq!(normalize_header("Item #"), "item");
        assert_eq!(normalize_header("__SKU__"), "sku");
        assert_eq!(normalize_header("Größe (cm)"), "größe_cm");
        assert_eq!(normalize_header(" # "), "");
        let got = records(b"SKU,Qty,qty,#,QTY\na,1,2,3,4\n", &CsvOptions::default());
        let names: Vec<&str> = got[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sku", "qty", "qty_2", "4", "qty_3"]);
    }

    #[test]
    fn reads_semicolons_decimal_commas_and_quoted_fields() {
        let options = CsvOptions {
            delimiter: b';',
            ..CsvOptions::default()
        };
        let input = "Item #;Description;Price\n\
                     A-1;\"Bolt; zinc\nplated\";1,25\n\
                     B-2;\"Nut \"\"M6\"\"\" ;0,5\n";
        let sink = run(input.as_bytes(), &options, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sink.at_end,
            vec![
                rec(&[
                    ("item", "A-1"),
                    ("description", "Bolt; zinc\nplated"),
                    ("price", "1,25")
                ]),
                rec(&[
                    ("item", "B-2"),
                    ("description", "Nut \"M6\""),
                    ("price", "0,5")
                ]),
            ]
        );
    }

    #[test]
    fn places_name_offsets_lines_and_record_numbers() {
        let input = b"a,b\n1,\"x\ny\"\n\n2,z\n";
        let mut tree = Tree::new(Flavor::Csv);
        let mut sink = Recorder::default();
        decode(
            &input[..],
            "feed.csv",
            &CsvOptions::default(),
            &mut tree,
            &mut sink,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let recs: Vec<NodeId> = tree.children(tree.root()).collect();
        let first = tree.place(recs[0]);
        assert_eq!(
            (first.offset, first.line, first.column, first.ordinal),
            (4, 2, 1, 1)
        );
        let second = tree.place(recs[1]);
        assert_eq!((second.offset, second.line, second.ordinal), (13, 5, 2));
        let field = tree.last_child(recs[1]);
        assert_eq!(tree.place(field).column, 2);
        assert_eq!(tree.describe(field, 0), "record 2, line 5, field \"b\"");

        let crlf = b"a,b\r\n1,2\r\n\r\n\r\n3,4\r\n";
        let sink = run(crlf, &CsvOptions::default(), true).unwrap_or_else(|e| panic!("{e}"));
        let at: Vec<(u64, u64)> = sink.places.iter().map(|p| (p.offset, p.line)).collect();
        assert_eq!(at, [(5, 2), (14, 5)]);
    }

    #[test]
    fn skips_bom_blank_lines_and_title_rows() {
        let input = b"\xEF\xBB\xBFsku,qty\n\n , \n,,\nA,1\n\r\nB,2";
        assert_eq!(
            records(input, &CsvOptions::default()),
            vec![
                rec(&[("sku", "A"), ("qty", "1")]),
                rec(&[("sku", "B"), ("qty", "2")])
            ]
        );
        let options = CsvOptions {
            skip_rows: 2,
            ..CsvOptions::default()
        };
        let input = b"Inventory \"report\nPrinted today\nsku,qty\nA,1\n";
        let sink = run(input, &options, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sink.items, vec![rec(&[("sku", "A"), ("qty", "1")])]);
        assert_eq!(sink.places[0].line, 4);
        assert_eq!(sink.places[0].offset, 40);
    }

    #[test]
    fn decodes_latin1_and_windows_1252() {
        let input = b"name,price\ncaf\xE9,\x80 5\n";
        let latin1 = CsvOptions {
            encoding: Encoding::Latin1,
            ..CsvOptions::default()
        };
        assert_eq!(
            records(input, &latin1),
            vec![rec(&[("name", "café"), ("price", "\u{80} 5")])]
        );
        let cp1252 = CsvOptions {
            encoding: Encoding::Windows1252,
            ..CsvOptions::default()
        };
        assert_eq!(
            records(input, &cp1252),
            vec![rec(&[("name", "café"), ("price", "€ 5")])]
        );
        assert_eq!(Encoding::from_name("ISO-8859-1"), Some(Encoding::Latin1));
        assert_eq!(Encoding::from_name("CP1252"), Some(Encoding::Windows1252));
        assert_eq!(Encoding::from_name("Utf8"), Some(Encoding::Utf8));
        assert_eq!(Encoding::from_name("ebcdic"), None);
    }

    #[test]
    fn names_columns_by_number_without_header_or_past_it() {
        let options = CsvOptions {
            header: false,
            trim: false,
            ..CsvOptions::default()
        };
        assert_eq!(
            records(b"A, 1 \nB\n", &options),
            vec![rec(&[("1", "A"), ("2", " 1 ")]), rec(&[("1", "B")])]
        );
        assert_eq!(
            records(b"sku\nA,1,2\n", &CsvOptions::default()),
            vec![rec(&[("sku", "A"), ("2", "1"), ("3", "2")])]
        );
    }

    #[test]
    fn streams_records_in_order_and_forgets_them() {
        let mut input = String::from("sku,qty\n");
        for i in 0..1000 {
            input.push_str(&format!("S{i},{i}\n"));
        }
        let sink =
            run(input.as_bytes(), &CsvOptions::default(), true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sink.items.len(), 1000);
        assert!(sink.max_len <= 4, "the tree grew to {} nodes", sink.max_len);
        assert!(sink.at_end.is_empty());
        for (i, item) in sink.items.iter().enumerate() {
            assert_eq!(
                item,
                &rec(&[("sku", &format!("S{i}")), ("qty", &i.to_string())])
            );
            assert_eq!(sink.places[i].ordinal, i as u64 + 1);
        }
        let kept =
            run(input.as_bytes(), &CsvOptions::default(), false).unwrap_or_else(|e| panic!("{e}"));
        assert!(kept.items.is_empty());
        assert_eq!(kept.at_end, sink.items);
    }

    #[test]
    fn places_records_of_a_feed_longer_than_the_buffers() {
        // CRLF lines, a blank line every 7 records and one record longer
        // than the reader's buffers: each record's line must be exact.
        let mut input = b"sku,note\r\n".to_vec();
        let mut expected = Vec::new();
        let mut line = 2;
        for i in 0..20_000u64 {
            if i % 7 == 3 {
                input.extend_from_slice(b"\r\n");
                line += 1;
            }
            expected.push((input.len() as u64, line));
            let note = if i == 5000 {
                "x".repeat(5 * BUFFER)
            } else {
                format!("n{i}")
            };
            input.extend_from_slice(format!("S{i},\"{note}\"\r\n").as_bytes());
            line += 1;
        }
        let sink = run(&input, &CsvOptions::default(), true).unwrap_or_else(|e| panic!("{e}"));
        let at: Vec<(u64, u64)> = sink.places.iter().map(|p| (p.offset, p.line)).collect();
        assert_eq!(at.len(), expected.len());
        assert!(at == expected, "records are misplaced");
    }

    #[test]
    fn refuses_invalid_utf8_naming_the_line_and_field() {
        let err = run(b"a,b\n1,2\n3,x\xFFy\n", &CsvOptions::default(), true)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("feed.csv, line 3, field 2: invalid UTF-8 (valid up to byte 1 of the field)")
        );
    }

    #[test]
    fn refuses_records_wider_than_the_column_limit() {
        // A million empty fields on one line: refused at that line, before
        // a name or a node is made for each.
        let mut input = b"sku,qty\nA1,5\nA2,3".to_vec();
        input.extend(std::iter::repeat_n(b',', 1_000_000));
        input.extend_from_slice(b"\nA3,1\n");
        for stream in [true, false] {
            let err = run(&input, &CsvOptions::default(), stream)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert_eq!(
                err,
                "feed.csv, line 3: the record has 1000002 fields, more than the 4096 a record may \
                 have (a feed that really is this wide sets [mapping.csv] max_columns)"
            );
        }
        // A wide feed allowed by its mapping.
        let wide = CsvOptions {
            max_columns: 2_000_000,
            ..CsvOptions::default()
        };
        assert_eq!(records(&input, &wide).len(), 3);
        // A header wider than the limit is refused too.
        let mut header = vec![b'a'; 1];
        header.extend(std::iter::repeat_n(b",a", 5000).flatten());
        header.extend_from_slice(b"\n1\n");
        assert!(run(&header, &CsvOptions::default(), true).is_err());
    }

    #[test]
    fn passes_sink_errors_through() {
        struct Failing;
        impl DocumentSink for Failing {
            fn start(&mut self, t: &mut Tree, _: &Origin) -> Result<Option<Vec<Name>>, SinkError> {
                Ok(Some(vec![t.intern(RECORD)]))
            }
            fn item(&mut self, _: &Tree, _: NodeId) -> Result<(), SinkError> {
                Err("no room".into())
            }
            fn end(&mut self, _: &Tree, _: &Origin, _: Verdict) -> Result<(), SinkError> {
                Ok(())
            }
        }
        let mut tree = Tree::new(Flavor::Csv);
        let result = decode(
            &b"a\n1\n"[..],
            "f.csv",
            &CsvOptions::default(),
            &mut tree,
            &mut Failing,
        );
        assert!(matches!(result, Err(CsvError::Sink(e)) if e.to_string() == "no room"));
    }

    /// A tree of records, as a mapping would render it.
    fn tree_of(rows: &[&[(&str, &str)]]) -> Tree {
        let mut tree = Tree::new(Flavor::Csv);
        let record = tree.intern(RECORD);
        for row in rows {
            let r = tree.append(0, record, Kind::Group, b"", Place::default());
            for (name, text) in row.iter() {
                let name = tree.intern(name);
                tree.append(r, name, Kind::Field, text.as_bytes(), Place::default());
            }
        }
        tree
    }

    fn encoded(tree: &Tree, options: &CsvOptions) -> Result<Vec<u8>, CsvError> {
        let mut out = Vec::new();
        encode(tree, options, &mut out)?;
        Ok(out)
    }

    #[test]
    fn encodes_and_decodes_back() {
        let tree = tree_of(&[
            &[
                ("SKU", "A-1"),
                ("Qty Available", "5"),
                ("Note", "say \"hi\", then\nleave"),
            ],
            &[("SKU", "B;2"), ("Qty Available", ""), ("Note", "plain")],
        ]);
        let options = CsvOptions {
            trim: false,
            ..CsvOptions::default()
        };
        let out = encoded(&tree, &options).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "SKU,Qty Available,Note\nA-1,5,\"say \"\"hi\"\", then\nleave\"\nB;2,,plain\n"
        );
        let back = records(&out, &options);
        assert_eq!(
            back,
            vec![
                rec(&[
                    ("sku", "A-1"),
                    ("qty_available", "5"),
                    ("note", "say \"hi\", then\nleave")
                ]),
                rec(&[("sku", "B;2"), ("qty_available", ""), ("note", "plain")]),
            ]
        );
        let semicolons = CsvOptions {
            delimiter: b';',
            header: false,
            crlf: true,
            ..CsvOptions::default()
        };
        let out = encoded(&tree, &semicolons).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.starts_with(b"A-1;5;\"say"),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(
            out.ends_with(b"\"B;2\";;plain\r\n"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn encodes_latin1_and_refuses_unencodable_characters() {
        let tree = tree_of(&[&[("name", "café"), ("price", "5")]]);
        let latin1 = CsvOptions {
            encoding: Encoding::Latin1,
            ..CsvOptions::default()
        };
        let out = encoded(&tree, &latin1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, b"name,price\ncaf\xE9,5\n");
        let euro = tree_of(&[
            &[("name", "a"), ("price", "5")],
            &[("name", "b"), ("price", "€5")],
        ]);
        let err = encoded(&euro, &latin1).err();
        assert!(
            matches!(
                err,
                Some(CsvError::Unencodable {
                    record: 2,
                    column: 2,
                    character: '€',
                    ..
                })
            ),
            "{err:?}"
        );
        let cp1252 = CsvOptions {
            encoding: Encoding::Windows1252,
            ..CsvOptions::default()
        };
        let out = encoded(&euro, &cp1252).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, b"name,price\na,5\nb,\x805\n");
        let snowman = tree_of(&[&[("name", "\u{2603}")]]);
        let err = encoded(&snowman, &cp1252).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("CSV output, record 1, column 1: '☃' cannot be encoded in Windows-1252")
        );
    }
}
