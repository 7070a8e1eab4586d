//! `adjustment`: a credit or debit adjustment (X12 812): a deduction or a
//! charge against an invoice, with the reason for each line.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::source::Source;

/// Whether an amount is owed to the one who receives the document or by
/// them (X12 element 478).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreditOrDebit {
    /// A credit (X12 `C`).
    Credit,
    /// A debit (X12 `D`).
    Debit,
}

/// Why an amount is adjusted (X12 CDD01, element 426).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    /// A price billed differs from the price agreed.
    Pricing,
    /// A quantity billed is contested, or goods were short or not received.
    Quantity,
    /// Goods arrived damaged.
    Damaged,
    /// Goods were returned.
    Returned,
    /// An allowance or promotion.
    Allowance,
    /// Freight charged or deducted.
    Freight,
    /// A charge for not following the retailer's rules (late, labels, ...).
    Compliance,
    /// A payment made twice.
    Duplicate,
    /// Tax.
    Tax,
    /// Any other reason; `reason_code` says which.
    Other,
}

/// A credit or debit adjustment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// Where the document came from.
    pub source: Source,
    /// The adjustment's own number (X12 BCD02).
    pub adjustment_number: String,
    /// The date of the adjustment (X12 BCD01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_date: Option<NaiveDate>,
    /// Whether the total is a credit or a debit (X12 BCD05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_or_debit: Option<CreditOrDebit>,
    /// The total amount, positive (X12 BCD04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The ISO 4217 currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The invoice adjusted (X12 BCD07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// The date of that invoice (X12 BCD06).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<NaiveDate>,
    /// The purchase order (X12 BCD08).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The vendor's identifier (X12 N1 `VN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// The lines, one per reason and item.
    #[serde(default)]
    pub lines: Vec<AdjustmentLine>,
}

/// One adjusted amount.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentLine {
    /// The line's identifier (X12 CDD03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<AdjustmentReason>,
    /// The partner's own reason code (X12 CDD01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Whether the line is a credit or a debit (X12 CDD02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_or_debit: Option<CreditOrDebit>,
    /// The amount, positive (X12 CDD04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The quantity credited or debited (X12 CDD07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure (X12 CDD08).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The difference of price per unit (X12 CDD09).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price_difference: Option<Decimal>,
    /// The price per unit (X12 CDD11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// The goods were returned (X12 CDD05 `Y`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<bool>,
    /// The vendor's item number (X12 LIN VN, VP, VC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The buyer's item number (X12 LIN BP, IN, SK, PI, CB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_sku: Option<String>,
    /// The U.P.C. of the item, 12 digits (X12 LIN UP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
}
