//! The mapping engine: mapping files say how a vendor's documents become
//! canonical documents (inbound) and how canonical purchase orders become
//! the vendor's files (outbound).
//!
//! - [`spec`]: mapping files as written (TOML with lines; `extends`).
//! - [`path`]: the path language that finds values in decoded trees.
//! - [`rule`]: one value: where it is, how it is transformed.
//! - [`rows`]: flat feeds mapped record by record from the decoder's
//!   fields, without a tree (the fast path for CSV).
//! - [`inbound`]: compiles a mapping against the model's shape and evaluates
//!   it on trees, writing canonical JSON (streaming repeated groups).
//! - [`hold`]: a streamed X12 document held back until its set's verdict.
//! - [`outbound`]: renders canonical documents in a vendor's format.
//! - [`feeds`]: the `[mapping.xlsx]` and `[mapping.fixed]` tables.
//! - [`library`]: finds mappings (built in, in `mappings/`, per partner).
//! - [`testing`]: runs mappings on their samples (`dropgate mapping test`).
//!
//! This layer imports the formats and the model, never the transports.

pub mod address;
pub mod amount;
pub mod escape;
pub mod feeds;
pub mod gate;
pub mod generic;
pub mod harness;
pub mod hold;
pub mod inbound;
pub mod library;
pub mod outbound;
pub mod path;
pub mod pdf;
pub mod pdf_harness;
pub mod rows;
pub mod rule;
pub mod spec;
pub mod testing;
pub mod translate;

use std::fmt;
use std::sync::Arc;

pub use inbound::{InboundMapping, Translator};
pub use library::Library;
pub use outbound::OutboundMapping;

/// An error of a mapping: in the file (`file:line: message`), or while
/// mapping a document (the rule's file and line, the output field, and the
/// place in the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingError {
    /// The mapping file is wrong.
    Spec {
        /// The mapping file.
        file: Arc<str>,
        /// Its line.
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// A rule failed on a document.
    Eval {
        /// The mapping file of the rule.
        file: Arc<str>,
        /// The rule's line.
        line: u32,
        /// The output field (`lines[2].quantity`).
        field: String,
        /// What is wrong.
        message: String,
        /// Where in the input (`orders.edi: segment 14 (PO1) ...`).
        place: String,
    },
    /// A mapping cannot be found.
    NotFound(String),
    /// Reading or writing failed.
    Io(String),
}

impl MappingError {
    /// An error in a mapping file.
    pub fn spec(file: &Arc<str>, line: u32, message: String) -> MappingError {
        MappingError::Spec {
            file: Arc::clone(file),
            line,
            message,
        }
    }
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingError::Spec {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: {message}"),
            MappingError::Eval {
                file,
                line,
                field,
                message,
                place,
            } => {
                write!(f, "{place}: {field}: {message} (rule at {file}:{line})")
            }
            MappingError::NotFound(m) | MappingError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for MappingError {}
