//! Validation of transaction sets against their definitions.
//!
//! The [`SetValidator`] is fed one segment at a time and returns its
//! findings when the set ends; it never holds the set. Findings carry the
//! codes of the 997/999 (see [`codes`]) and the place in the input.

pub mod codes;
pub mod element;
pub mod finding;
mod walker;

pub use codes::{AckFlavor, ElementError, GroupError, InterchangeError, SegmentError, SetError};
pub use finding::{
    ElementFinding, GroupFinding, InterchangeFinding, LoopNote, SegmentFinding, SetFinding,
    Severity,
};
pub use walker::{DEFAULT_MAX_FINDINGS, Placement, Scratch, SetValidator};
