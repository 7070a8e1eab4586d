//! `return_authorization`: a return merchandise authorization or a notice
//! of returned goods (X12 180), sent by either side.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::party::Party;
use super::source::Source;

/// Why an item is returned (X12 RDR02, element 1293).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// Damaged or defective.
    Damaged,
    /// Not what was ordered: wrong item, size or colour.
    WrongItem,
    /// The customer does not want it (changed their mind, no longer needed).
    NotWanted,
    /// Not as described.
    NotAsDescribed,
    /// Arrived too late.
    Late,
    /// Sent more than ordered, or twice.
    Overshipped,
    /// Any other reason; `reason_code` says which.
    Other,
}

/// A return authorization or notification.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnAuthorization {
    /// Where the document came from.
    pub source: Source,
    /// The return merchandise authorization number (X12 BGN02).
    pub rma_number: String,
    /// The date of the authorization or notice (X12 BGN03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rma_date: Option<NaiveDate>,
    /// The purpose, as the partner codes it (X12 BGN01: `00` original,
    /// `01` cancellation, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_code: Option<String>,
    /// The purchase order of the goods returned (X12 PRF01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The consumer's order number at the retailer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_order_number: Option<String>,
    /// Why the goods are returned, for the whole return (X12 RDR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReturnReason>,
    /// The partner's own reason code (X12 RDR02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Who returns the goods (X12 N1 `RF` returned from, or `SF`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_from: Option<Party>,
    /// Where the goods go back to (X12 N1 `RT` returned to, or `ST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<Party>,
    /// Free-form notes (X12 NTE).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The items returned.
    #[serde(default)]
    pub lines: Vec<ReturnLine>,
}

/// One item returned.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    /// The line of the purchase order the item was ordered on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// The vendor's item number (X12 VN, VP, VC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The buyer's item number (X12 BP, IN, SK, PI, CB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_sku: Option<String>,
    /// The U.P.C. of the item, 12 digits (X12 UP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
    /// A description of the item (X12 PID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The quantity returned (X12 BLI03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure (X12 BLI04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The price of one unit (X12 BLI06).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// Why the item is returned (X12 RDR02 in the line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReturnReason>,
    /// The partner's own reason code (X12 RDR02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// What is to become of the item, as the partner codes it (X12
    /// RDR01: return to vendor, destroy, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition_code: Option<String>,
    /// The purchase order the item was ordered on, when it differs from
    /// the return's (X12 PRF01 in the line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// A remark on the item (X12 RDR04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
