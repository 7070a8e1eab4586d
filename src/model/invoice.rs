//! `invoice`: a vendor's bill (X12 810, or a PDF invoice later).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::party::Party;
use super::reconciliation::Reconciliation;
use super::source::Source;

/// What kind of billing document an invoice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceType {
    /// An ordinary invoice: the buyer owes the amounts.
    Invoice,
    /// A credit memo: the amounts are owed to the buyer.
    CreditMemo,
    /// A debit memo: an additional amount the buyer owes.
    DebitMemo,
}

/// An invoice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    /// Where the document came from.
    pub source: Source,
    /// The invoice number.
    pub invoice_number: String,
    /// Who bills: the vendor, with its identifier (X12 N1 `VN`, `SU` or
    /// `RE`, the first of them in the invoice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Party>,
    /// An invoice, or a credit or debit memo (X12 BIG07); amounts are as
    /// sent, so a credit memo's positive amounts are owed to the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_type: Option<InvoiceType>,
    /// The date of the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<NaiveDate>,
    /// The purchase order billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The date of that purchase order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<NaiveDate>,
    /// The ISO 4217 currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The terms of payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<Terms>,
    /// Where to send payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remit_to: Option<Party>,
    /// Who is billed (X12 N1 `BT`; a PDF invoice's "Bill To"); boxed,
    /// as the ship-to, to keep an invoice small where it has neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to: Option<Box<Party>>,
    /// Where the goods were sent (X12 N1 `ST`; a PDF invoice's "Ship
    /// To").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Box<Party>>,
    /// The lines billed.
    #[serde(default)]
    pub lines: Vec<InvoiceLine>,
    /// Charges and allowances of the invoice as a whole (freight, ...).
    #[serde(default)]
    pub charges: Vec<Charge>,
    /// The sum of the lines' amounts as the vendor states it, before
    /// charges and allowances (X12 TDS02 when sent); absent when the
    /// invoice does not state it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Decimal>,
    /// The total amount due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<Decimal>,
    /// How the invoice matched the purchase order dropgate sent and the
    /// ship notices received for it: added by the gateway when it stores
    /// the invoice (and by `dropgate reconcile`); mappings leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<Reconciliation>,
}

/// Terms of payment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// The terms in words (e.g. `Net 30`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Days until the net amount is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_days: Option<i64>,
    /// The discount for early payment, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_percent: Option<Decimal>,
    /// Days within which the discount applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_days: Option<i64>,
    /// The date the net amount is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
}

/// One line of an invoice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLine {
    /// The order line billed.
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
    /// The quantity billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The price of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// The amount of the line (quantity times unit price, unless the
    /// partner says otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
}

/// Whether a charge adds to the amount due or takes from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// Taken from the amount due (a discount, a promotion).
    Allowance,
    /// Added to the amount due (freight, handling, tax).
    Charge,
}

/// A charge or an allowance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    /// Allowance or charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ChargeKind>,
    /// The partner's code for it (e.g. X12 SAC02 `D240`, freight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What it is, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The amount, positive for both kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
}
