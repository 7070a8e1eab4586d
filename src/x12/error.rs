//! Errors that stop the reading of an X12 input, with the place they happened.
//!
//! Only input that cannot be cut into segments is an error here: no ISA, a
//! malformed ISA, a terminator of several bytes, a segment without a
//! terminator, a segment over the length
//! limit, an input that ends inside an interchange, or an I/O failure.
//! Everything else (a wrong count, a bad date, an unknown segment) is a
//! finding of the validator and goes into acknowledgments and reports.

use std::fmt;
use std::sync::Arc;

use super::ids::SegmentId;
use super::isa::IsaError;
use super::position::Position;

/// An input that cannot be read as X12, and where.
#[derive(Debug)]
pub struct ParseError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ParseErrorKind,
    position: Position,
    segment_id: Option<SegmentId>,
    file: Option<Arc<str>>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is empty or only whitespace.
    #[error("the input is empty: no ISA segment")]
    Empty,
    /// The input does not start with an ISA segment.
    #[error("not X12: the input does not start with an ISA segment")]
    NoInterchange,
    /// The input holds X12 segments (GS, ST, SE, GE, IEA) but no ISA
    /// first: a damaged or cut interchange.
    #[error(
        "X12 segments without an ISA segment first (a damaged or cut interchange: ask the partner to send it again)"
    )]
    NoIsa,
    /// The ISA header cannot be read.
    #[error("malformed ISA header: {0}")]
    Isa(IsaError),
    /// The ISA's segment terminator is the first byte of a multi-byte
    /// UTF-8 character: X12 delimiters are single bytes, so the segments
    /// after it cannot be cut.
    #[error(
        "the segment terminator is byte {lead:#04X}, the first byte of the UTF-8 character {character:?}; X12 delimiters are single bytes, so the interchange cannot be cut into segments"
    )]
    MultiByteTerminator { lead: u8, character: char },
    /// The input ends inside a segment.
    #[error("segment {id} is not terminated before the end of the input")]
    Unterminated { id: SegmentId },
    /// A segment is longer than the limit (often: the terminator is wrong).
    #[error("segment {id} is longer than {limit} bytes; is the segment terminator right?")]
    SegmentTooLong { limit: usize, id: SegmentId },
    /// The input ends inside an interchange (no IEA).
    #[error("the input ends inside interchange {control_number} (no IEA)")]
    Truncated { control_number: String },
    /// A segment stands outside any interchange (after an IEA, before an ISA).
    #[error("segment {id} stands outside any interchange")]
    OutsideInterchange { id: SegmentId },
    /// Reading failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
}

impl ParseError {
    /// An error of `kind` at `position`.
    pub fn new(kind: ParseErrorKind, position: Position, segment_id: Option<SegmentId>) -> Self {
        ParseError(Box::new(Inner {
            kind,
            position,
            segment_id,
            file: None,
        }))
    }

    /// Names the file the error was found in.
    pub fn in_file(mut self, file: impl Into<Arc<str>>) -> Self {
        self.0.file = Some(file.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.0.kind
    }

    /// Where it went wrong.
    pub fn position(&self) -> Position {
        self.0.position
    }

    /// The ID of the segment at fault, when there is one.
    pub fn segment_id(&self) -> Option<SegmentId> {
        self.0.segment_id
    }

    /// The file, when known.
    pub fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.0.file {
            write!(f, "{file}: ")?;
        }
        let p = self.0.position;
        write!(
            f,
            "line {}, column {} (byte {}, segment {}",
            p.line, p.column, p.byte, p.segment
        )?;
        if let Some(n) = self.0.position.in_set {
            write!(f, " (set position {n})")?;
        }
        if let Some(id) = self.0.segment_id {
            write!(f, ", {id}")?;
        }
        write!(f, "): {}", self.0.kind)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.kind.source()
    }
}

impl From<std::io::Error> for ParseError {
    fn from(e: std::io::Error) -> Self {
        ParseError::new(ParseErrorKind::Io(e), Position::default(), None)
    }
}
