//! What validation finds, at each level, with the place it was found.

use crate::x12::ids::SegmentId;
use crate::x12::position::Position;

use super::codes::{ElementError, GroupError, InterchangeError, SegmentError, SetError};
use super::element::MAX_COPIED_VALUE;

/// A problem with one element (an AK4 / IK4).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ElementFinding {
    /// Element position in the segment, from 1.
    pub position: usize,
    /// Component position in a composite, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<usize>,
    /// Repetition, from 1, when the element repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repetition: Option<usize>,
    /// The data element reference number (`373`), or the composite ID.
    pub reference: String,
    /// What is wrong.
    pub error: ElementError,
    /// The offending value, at most 99 bytes.
    #[serde(serialize_with = "lossy")]
    pub value: Vec<u8>,
}

fn lossy<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(v))
}

impl ElementFinding {
    /// A finding; the value is cut to [`MAX_COPIED_VALUE`] bytes.
    pub fn new(
        position: usize,
        component: Option<usize>,
        repetition: Option<usize>,
        reference: &str,
        error: ElementError,
        value: &[u8],
    ) -> ElementFinding {
        ElementFinding {
            position,
            component,
            repetition,
            reference: reference.to_string(),
            error,
            value: value[..value.len().min(MAX_COPIED_VALUE)].to_vec(),
        }
    }
}

/// A problem with one segment (an AK3 / IK3, with its AK4s).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SegmentFinding {
    /// The segment ID (for a missing segment: the one missing).
    pub id: SegmentId,
    /// Position in the set, ST = 1 (for a missing segment: where it was
    /// found missing).
    pub position_in_set: u32,
    /// The loop the segment is in (empty at the top level).
    pub loop_id: String,
    /// What is wrong.
    pub error: SegmentError,
    /// Element problems, when `error` is "has element errors".
    pub elements: Vec<ElementFinding>,
    /// Where in the input.
    pub at: Position,
}

/// A loop that occurs more often than its maximum where the definition
/// notes that rather than rejects it (`loop LIN M 10000 note`: a
/// full-catalogue 846). The set stays accepted; reports and `translate`
/// show the note, the acknowledgment does not.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LoopNote {
    /// The loop (`LIN`).
    pub loop_id: String,
    /// Its maximum, which this occurrence goes past.
    pub max: u32,
    /// Where the first occurrence past the maximum starts.
    pub at: Position,
}

/// A problem with a transaction set as a whole (an AK5 / IK5 code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SetFinding {
    /// What is wrong.
    pub error: SetError,
    /// Details for people.
    pub detail: String,
    /// Where in the input.
    pub at: Position,
}

/// A problem with a functional group (an AK9 code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GroupFinding {
    /// What is wrong.
    pub error: GroupError,
    /// Details for people.
    pub detail: String,
    /// Where in the input.
    pub at: Position,
}

/// How bad an interchange-level problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Accepted, but noted (TA1 `E`).
    Warning,
    /// Rejected (TA1 `R`).
    Error,
}

/// A problem with an interchange envelope (a TA1 note code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InterchangeFinding {
    /// What is wrong.
    pub error: InterchangeError,
    /// How bad it is.
    pub severity: Severity,
    /// Details for people.
    pub detail: String,
    /// Where in the input.
    pub at: Position,
}
