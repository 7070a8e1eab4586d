//! `inventory_advice`: what a vendor has in stock (X12 846, or a CSV/XML
//! inventory feed).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::source::Source;

/// An inventory report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryAdvice {
    /// Where the document came from.
    pub source: Source,
    /// The date the quantities are valid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    /// The report's identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// The supplier reporting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// One entry per item (and warehouse).
    #[serde(default)]
    pub items: Vec<InventoryItem>,
}

/// The stock of one item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryItem {
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
    /// The quantity available to sell (may be negative in real feeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_available: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The cost of one unit to the retailer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Decimal>,
    /// The warehouse holding the stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    /// When more stock is expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_available_date: Option<NaiveDate>,
    /// How much is expected then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_available_quantity: Option<Decimal>,
}
