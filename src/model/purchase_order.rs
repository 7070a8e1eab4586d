//! `purchase_order`: an order from the retailer to a vendor (X12 850, or a
//! vendor's CSV/XML order format on the way out).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::party::{Carrier, Party};
use super::source::Source;

/// What a purchase order does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A new order.
    Original,
    /// A change to an earlier order (X12 BEG01 `04`).
    Change,
    /// The whole order again, in place of the one sent before (X12 BEG01
    /// `05`): how an order changed in NetSuite goes out again.
    Replace,
    /// The cancellation of an earlier order.
    Cancel,
    /// A copy of an order already sent.
    Duplicate,
}

/// The kind of purchase order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoType {
    /// Shipped by the vendor straight to the consumer.
    Dropship,
    /// A stand-alone order.
    StandAlone,
    /// A release against a blanket order.
    Release,
    /// A blanket order.
    Blanket,
    /// A rush order.
    Rush,
    /// Any other kind.
    Other,
}

/// A purchase order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    /// Where the document came from.
    pub source: Source,
    /// The purchase order number.
    pub po_number: String,
    /// The date of the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<NaiveDate>,
    /// What the order does: original, change, cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// The kind of order: dropship, stand_alone, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_type: Option<PoType>,
    /// The ISO 4217 currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The buyer's identifier (the retailer, as the vendor knows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<String>,
    /// The vendor's identifier (as the retailer knows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// The consumer's order number at the retailer (drop ship).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_order_number: Option<String>,
    /// Where to ship: the consumer, for a drop-ship order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    /// Who pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to: Option<Party>,
    /// How to ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_method: Option<Carrier>,
    /// The date the order should ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_ship_date: Option<NaiveDate>,
    /// The date the order should reach the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery_date: Option<NaiveDate>,
    /// Free-form notes (gift messages, packing-slip text).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The order lines.
    #[serde(default)]
    pub lines: Vec<PoLine>,
    /// The total amount of the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<Decimal>,
}

/// One line of a purchase order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoLine {
    /// The line's identifier in the order (X12 PO101, e.g. `1` or `001`).
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
    /// A description of the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The quantity ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure (e.g. `EA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The price of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
}
