//! `functional_ack`: what a partner's 997 or 999 says about the sets we
//! sent them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::source::Source;

/// A partner's verdict on a group or a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Accepted (`A`).
    Accepted,
    /// Accepted, but errors were noted (`E`).
    AcceptedWithErrors,
    /// Some sets accepted (`P`, groups only).
    PartiallyAccepted,
    /// Rejected (`R`, `M`, `W` or `X`).
    Rejected,
}

/// A functional (997) or implementation (999) acknowledgment of one of our
/// functional groups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionalAck {
    /// Where the document came from.
    pub source: Source,
    /// The functional identifier of the group acknowledged (AK101, e.g.
    /// `PO`).
    pub functional_id: String,
    /// The control number of the group acknowledged (AK102).
    pub group_control_number: String,
    /// The version of the group acknowledged (AK103).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The verdict on the group (AK901).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AckStatus>,
    /// Sets the group held, by its trailer (AK902).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sets_included: Option<i64>,
    /// Sets the partner received (AK903).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sets_received: Option<i64>,
    /// Sets the partner accepted (AK904).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sets_accepted: Option<i64>,
    /// Group error codes (AK905 to AK909).
    #[serde(default)]
    pub error_codes: Vec<String>,
    /// The verdict on each set, when given.
    #[serde(default)]
    pub sets: Vec<SetAck>,
}

/// The verdict on one of our transaction sets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAck {
    /// The set's identifier (AK201, e.g. `850`).
    pub set_id: String,
    /// The set's control number (AK202).
    pub control_number: String,
    /// The verdict (AK501 / IK501).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AckStatus>,
    /// Set error codes (AK502 to AK506).
    #[serde(default)]
    pub error_codes: Vec<String>,
    /// Segments in error (AK3 / IK3).
    #[serde(default)]
    pub segment_errors: Vec<SegmentError>,
}

/// A segment the partner found in error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentError {
    /// The segment's ID (AK301).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<String>,
    /// Its position in the set, ST being 1 (AK302).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// The loop it is in (AK303).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_id: Option<String>,
    /// The error code (AK304).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Elements in error (AK4 / IK4).
    #[serde(default)]
    pub elements: Vec<ElementError>,
}

/// An element the partner found in error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElementError {
    /// Its position in the segment (AK401).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// The data element reference number (AK402).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The error code (AK403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A copy of the bad value (AK404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}
