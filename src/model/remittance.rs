//! `remittance`: the retailer's remittance advice to a vendor (X12 820):
//! one payment (by ACH, wire or check) and the invoices it pays, each with
//! what was paid, the discount taken and the adjustments (deductions)
//! made, so that the vendor can apply the cash to its open invoices.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::party::Party;
use super::source::Source;

/// How the money goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// An ACH credit (X12 `ACH`).
    Ach,
    /// A wire transfer (`FWT`).
    Wire,
    /// A check (`CHK`).
    Check,
    /// No money moves with this advice: it only tells what a payment made
    /// otherwise pays (`NON`).
    None,
}

/// A bank account the money leaves or reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccount {
    /// The bank's routing (ABA) number.
    pub routing_number: String,
    /// The account number.
    pub account_number: String,
    /// `checking` (the default) or `savings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
}

/// The type of a bank account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// A checking (demand deposit) account.
    Checking,
    /// A savings account.
    Savings,
}

/// An adjustment to what an invoice is paid: a deduction (negative) or an
/// addition, with its reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceAdjustment {
    /// The amount: negative for a deduction (a shortage, a chargeback),
    /// positive for an addition.
    pub amount: Decimal,
    /// The reason, as the X12 adjustment reason code (ADX02: `01` pricing
    /// error, `04` item not received, `06` quantity contested, `CS`
    /// adjustment, ...).
    pub reason: String,
    /// Words about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One invoice the payment pays.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittedInvoice {
    /// The vendor's invoice number.
    pub invoice_number: String,
    /// What is paid on it.
    pub amount_paid: Decimal,
    /// The invoice's total, as billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_amount: Option<Decimal>,
    /// The discount taken (payment terms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<Decimal>,
    /// The purchase order it bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The invoice's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<NaiveDate>,
    /// Adjustments to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<RemittanceAdjustment>,
}

/// A remittance advice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remittance {
    /// Where the document came from.
    pub source: Source,
    /// The payment's trace number: the ACH trace or check number the
    /// vendor's bank shows (X12 TRN02). One remittance is sent per trace
    /// number.
    pub trace_number: String,
    /// The payment's total.
    pub amount: Decimal,
    /// How it is paid.
    pub method: PaymentMethod,
    /// The day the money is there (the ACH effective entry date, the
    /// check's date).
    pub payment_date: NaiveDate,
    /// The currency (ISO 4217), when not the partner's usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The account the money leaves (for ACH and wires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_account: Option<BankAccount>,
    /// The vendor's account it reaches (for ACH and wires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_account: Option<BankAccount>,
    /// Who pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Party>,
    /// Who is paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<Party>,
    /// The invoices paid.
    pub invoices: Vec<RemittedInvoice>,
}

impl Remittance {
    /// The sum of what is paid on the invoices.
    pub fn invoices_total(&self) -> rust_decimal::Decimal {
        self.invoices.iter().map(|i| i.amount_paid.get()).sum()
    }
}
