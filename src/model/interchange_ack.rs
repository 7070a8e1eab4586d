//! `interchange_ack`: what a partner's TA1 says about one of our
//! interchanges (its envelope, ISA to IEA), as a `functional_ack` says it
//! of a group.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::functional_ack::AckStatus;
use super::source::Source;

/// A TA1 interchange acknowledgment of one of our interchanges.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InterchangeAck {
    /// Where the document came from.
    pub source: Source,
    /// The control number of the interchange acknowledged (TA101, its
    /// ISA13).
    pub interchange_control_number: String,
    /// The date of the interchange acknowledged, as sent (TA102, its
    /// ISA09, `YYMMDD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interchange_date: Option<String>,
    /// The time of the interchange acknowledged, as sent (TA103, its
    /// ISA10, `HHMM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interchange_time: Option<String>,
    /// The verdict (TA104: `A` accepted, `E` accepted with errors noted,
    /// `R` rejected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AckStatus>,
    /// The note code (TA105, `000` for no error, `001` to `031` for what
    /// was wrong).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_code: Option<String>,
}
