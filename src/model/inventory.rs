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
    /// The vendor's part number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The UPC (or GTIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
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
