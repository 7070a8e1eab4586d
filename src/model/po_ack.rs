//! `po_ack`: a vendor's answer to a purchase order (X12 855).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::source::Source;

/// The vendor's answer to the order as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AckType {
    /// Accepted as ordered.
    Accepted,
    /// Accepted with changes (quantities, prices, dates or items).
    AcceptedWithChanges,
    /// Rejected.
    Rejected,
}

/// The vendor's answer to one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Accepted as ordered.
    Accepted,
    /// Accepted, to ship later.
    Backordered,
    /// Rejected or deleted.
    Rejected,
    /// Accepted with a change of quantity, price, date or item.
    Changed,
    /// Held by the vendor (waiting for a waiver, a description, a
    /// decision): neither accepted nor rejected yet.
    OnHold,
}

/// A purchase order acknowledgment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoAck {
    /// Where the document came from.
    pub source: Source,
    /// The purchase order acknowledged.
    pub po_number: String,
    /// The vendor's answer to the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_type: Option<AckType>,
    /// The date of the acknowledgment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_date: Option<NaiveDate>,
    /// The date of the purchase order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<NaiveDate>,
    /// The vendor's own order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_order_number: Option<String>,
    /// The lines, with the vendor's answer to each.
    #[serde(default)]
    pub lines: Vec<PoAckLine>,
}

/// The acknowledgment of one order line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoAckLine {
    /// The line's identifier in the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// The vendor's item number (X12 VN, VP, VC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The buyer's (the retailer's) item number (X12 BP, IN, SK, PI, CB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_sku: Option<String>,
    /// The U.P.C. of the item, 12 digits with the check digit (a GTIN-12;
    /// X12 UP, or UI with its check digit added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
    /// The GTIN of the item as 14 digits (X12 UK; an EAN-13 or a GTIN-8,
    /// X12 EN or EO, with leading zeros). A U.P.C. is in `upc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    /// The U.P.C. case code of the case the item comes in, as sent (X12 UA,
    /// UN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_code: Option<String>,
    /// The vendor's style number (X12 VA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// The buyer's style number (X12 IT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_style: Option<String>,
    /// The manufacturer's part number (X12 MG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_part: Option<String>,
    /// The model number (X12 MN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_number: Option<String>,
    /// The National Drug Code (X12 ND, N4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ndc: Option<String>,
    /// The ISBN (X12 IB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    /// The answer to the line (the first status when there are several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LineStatus>,
    /// The partner's own status code (X12 ACK01, e.g. `IB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The quantity ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_ordered: Option<Decimal>,
    /// The quantity the status applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The price of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// When the vendor expects to ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_date: Option<NaiveDate>,
    /// When the vendor expects delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<NaiveDate>,
    /// Every status given for the line, when there are several (e.g. 2
    /// accepted and 1 backordered).
    #[serde(default)]
    pub statuses: Vec<LineStatusDetail>,
}

/// One status of a line, with the quantity and date it applies to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineStatusDetail {
    /// The answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LineStatus>,
    /// The partner's own status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The quantity it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The date it gives (ship or delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}
