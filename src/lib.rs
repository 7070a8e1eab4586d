//! dropgate: an EDI and file gateway for dropship commerce.
//!
//! # Layout
//!
//! Data flows one way; the modules are listed in that order.
//!
//! - [`x12`]: the X12 engine (lexer, envelopes, validation from the
//!   definitions in `x12/`, 997/999/TA1 acknowledgments, writer).
//! - [`cli`]: the `dropgate` command line; the only place that prints.

pub mod cli;
pub mod format;
pub mod mapping;
pub mod model;
pub mod x12;
