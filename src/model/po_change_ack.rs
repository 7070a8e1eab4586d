//! `po_change_ack`: a vendor's answer to a purchase order change (X12
//! 865), linked to the order by its PO number as an 855 is.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::po_ack::{AckType, LineStatus};
use super::source::Source;

/// A vendor's answer to a change of a purchase order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoChangeAck {
    /// Where the document came from.
    pub source: Source,
    /// The purchase order whose change is answered.
    pub po_number: String,
    /// The vendor's answer to the change as a whole (X12 BCA02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_type: Option<AckType>,
    /// The number of the change answered (X12 BCA05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_sequence: Option<String>,
    /// The date of the purchase order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<NaiveDate>,
    /// The date of the answer (X12 BCA12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_date: Option<NaiveDate>,
    /// The vendor's own order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_order_number: Option<String>,
    /// The lines answered.
    #[serde(default)]
    pub lines: Vec<PoChangeAckLine>,
}

/// The answer to one line's change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoChangeAckLine {
    /// The line's identifier in the order (X12 POC01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// The change answered (X12 POC02, e.g. `QD`), as the partner codes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_code: Option<String>,
    /// The vendor's item number (X12 VN, VP, VC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The buyer's item number (X12 BP, IN, SK, PI, CB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_sku: Option<String>,
    /// The U.P.C. of the item, 12 digits (X12 UP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
    /// The quantity ordered after the change (X12 POC03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The price of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// The vendor's answer to the line (X12 ACK01 of its first ACK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LineStatus>,
    /// The partner's own status code (X12 ACK01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The quantity the status applies to (X12 ACK02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_quantity: Option<Decimal>,
    /// When the vendor expects to ship the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_date: Option<NaiveDate>,
}
