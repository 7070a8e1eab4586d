//! Where something is in an X12 stream: byte offset and segment ordinals.

use std::fmt;

/// The place of a segment in the input.
///
/// `byte` is the offset of the segment's first byte from the start of the
/// input (after nothing: a BOM counts), `segment` its ordinal in the input
/// (the first segment is 1) and `in_set` its ordinal in its transaction set
/// (ST is 1), when it belongs to one. Line and column count the line breaks
/// between segments (and newline terminators); a line break inside a
/// segment's data is an invalid character that validation reports, and is
/// not counted. [`LineColumn::locate`] computes exact ones from the bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Position {
    /// Offset of the segment's first byte.
    pub byte: u64,
    /// Ordinal of the segment in the input, from 1.
    pub segment: u64,
    /// Ordinal of the segment in its transaction set, ST = 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_set: Option<u32>,
    /// Line of the segment's first byte, from 1.
    pub line: u64,
    /// Column (byte in the line) of the segment's first byte, from 1.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}, byte {}, segment {}",
            self.line, self.column, self.byte, self.segment
        )?;
        if let Some(n) = self.in_set {
            write!(f, " (set position {n})")?;
        }
        Ok(())
    }
}

/// A 1-based line and column, for messages meant for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineColumn {
    /// Line number, from 1.
    pub line: u64,
    /// Column (byte within the line), from 1.
    pub column: u64,
}

impl LineColumn {
    /// Finds the line and column of `offset` in `data` (LF ends a line).
    pub fn locate(data: &[u8], offset: u64) -> LineColumn {
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let before = &data[..end];
        let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        LineColumn {
            line,
            column: (end - line_start) as u64 + 1,
        }
    }
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_columns() {
        let data = b"ISA*00~\nGS*PO~\nST*850~";
        assert_eq!(
            LineColumn::locate(data, 0),
            LineColumn { line: 1, column: 1 }
        );
        assert_eq!(
            LineColumn::locate(data, 8),
            LineColumn { line: 2, column: 1 }
        );
        assert_eq!(
            LineColumn::locate(data, 18),
            LineColumn { line: 3, column: 4 }
        );
        assert_eq!(LineColumn::locate(data, 9999).line, 3);
    }
}
