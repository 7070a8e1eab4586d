//! The X12 engine: lexer, readers, envelopes, validation, acknowledgments and
//! the writer.
//!
//! This module is a core in the sense of rust-csv's `csv-core`: it knows X12
//! and nothing else. It does no I/O of its own beyond the `Read`/`AsyncRead`
//! it is handed, never touches the store or the canonical model, and keeps
//! policy (what to acknowledge, how strict to be) in options passed in.
//!
//! Layers, from bytes up:
//! - [`lexer`]: finds segments in bytes (sans I/O); [`isa`] reads the header
//!   that brings each interchange's delimiters.
//! - [`reader`] / [`async_reader`]: feed the lexer from a byte source in
//!   bounded memory.
//! - [`defs`]: transaction-set definitions loaded from `x12/`.
//! - [`validate`]: walks a set against its definition, element by element.
//! - [`envelope`]: checks ISA/IEA, GS/GE and ST/SE and drives the validator;
//!   `group_version` holds the rules of a GS by its own GS08, `delivery`
//!   the checks of an interchange's ISB and ISE.
//! - [`ack`]: builds 997, 999 and TA1 from what the envelope checker found;
//!   [`renumber`] puts the control numbers into those written before they
//!   were known.
//! - [`writer`]: serializes segments with any delimiters.

pub mod ack;
pub mod async_reader;
mod buffer;
pub mod control;
pub mod defs;
pub mod delimiters;
mod delivery;
pub mod envelope;
pub mod error;
mod group_version;
pub mod harness;
pub mod ids;
pub mod isa;
pub mod lexer;
pub mod position;
pub mod reader;
pub mod renumber;
pub mod report;
mod scan;
pub mod segment;
pub mod unwrap;
pub mod validate;
pub mod writer;

pub use async_reader::AsyncSegmentReader;
pub use delimiters::{Delimiters, LineStyle};
pub use error::{ParseError, ParseErrorKind};
pub use ids::SegmentId;
pub use isa::IsaHeader;
pub use position::Position;
pub use reader::{ReaderOptions, SegmentReader};
pub use segment::{Element, OwnedSegment, Segment};
pub use writer::Writer;
