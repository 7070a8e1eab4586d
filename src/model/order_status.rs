//! `order_status`: a vendor's report on the status of orders and their
//! lines (X12 870).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::source::Source;

/// Where an order or a line stands (X12 ISR01, element 368).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Received and accepted, not yet shipped.
    Accepted,
    /// Being picked, packed or made.
    InProcess,
    /// Waiting for stock.
    Backordered,
    /// Late against the date asked for.
    Delayed,
    /// Shipped in part; the rest follows or is cancelled.
    PartiallyShipped,
    /// Shipped in full.
    Shipped,
    /// Delivered.
    Delivered,
    /// Cancelled by the vendor.
    Cancelled,
    /// Rejected, or not known to the vendor.
    Rejected,
    /// On hold.
    OnHold,
}

/// A status report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatus {
    /// Where the document came from.
    pub source: Source,
    /// The report's own number (X12 BSR03).
    pub report_id: String,
    /// The date of the report (X12 BSR04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_date: Option<NaiveDate>,
    /// Why the report was sent, as the partner codes it (X12 BSR01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_code: Option<String>,
    /// The orders reported on.
    #[serde(default)]
    pub orders: Vec<OrderStatusOrder>,
}

/// The status of one order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusOrder {
    /// The purchase order (X12 PRF01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The date of the purchase order (X12 PRF04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<NaiveDate>,
    /// The vendor's own order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_order_number: Option<String>,
    /// Where the order stands, when the report says it for the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderState>,
    /// The partner's own status code (X12 ISR01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The date the status gives (X12 ISR02: shipped on, expected on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_date: Option<NaiveDate>,
    /// Why, as the partner codes it (X12 ISR03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// The lines reported on.
    #[serde(default)]
    pub lines: Vec<OrderStatusLine>,
}

/// The status of one order line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusLine {
    /// The line's identifier in the order (X12 PO101).
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
    /// The quantity ordered (X12 PO102).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_ordered: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// Where the line stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderState>,
    /// The partner's own status code (X12 ISR01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The date the status gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_date: Option<NaiveDate>,
    /// Why, as the partner codes it (X12 ISR03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// The quantity the status applies to (X12 QTY in the ISR loop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
}
