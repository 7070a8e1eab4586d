//! `reconciliation`: what the gateway found when it matched an invoice
//! with the purchase order it sent and the ship notices received for it
//! (`src/reconcile/` makes it; the invoice carries it).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outcome of matching an invoice with its order and ship notices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reconciliation {
    /// `matched`: every check passed; `variance`: at least one did not;
    /// `unmatched`: no purchase order sent under the invoice's PO number
    /// was found (the checks that need no order still ran).
    pub status: ReconciliationStatus,
    /// The ship notices matched (their `asn_number`), in the order
    /// received.
    #[serde(default)]
    pub ship_notices: Vec<String>,
    /// What did not agree, one entry per finding.
    #[serde(default)]
    pub variances: Vec<Variance>,
}

/// The status of a reconciliation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReconciliationStatus {
    /// Every check passed.
    Matched,
    /// At least one check found a variance.
    Variance,
    /// No purchase order was found for the invoice.
    Unmatched,
}

impl ReconciliationStatus {
    /// The status as written in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ReconciliationStatus::Matched => "matched",
            ReconciliationStatus::Variance => "variance",
            ReconciliationStatus::Unmatched => "unmatched",
        }
    }
}

/// One thing that did not agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variance {
    /// The invoice line's `line_number`, when the variance is about a line
    /// that has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// The line's place in the invoice's `lines`, counting from 1, when
    /// the variance is about a line; absent for the invoice as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_index: Option<u32>,
    /// What kind of variance it is.
    pub kind: VarianceKind,
    /// What was expected (from the order, the ship notices, the
    /// arithmetic or the partner's limits), as text: an amount or a
    /// quantity written digit for digit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the invoice says, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The variance in a sentence, for a person.
    pub message: String,
}

/// The kinds of variance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VarianceKind {
    /// The vendor sent an invoice with this number before: a duplicate
    /// bill.
    DuplicateInvoice,
    /// No purchase order was sent under the invoice's PO number (or the
    /// invoice names none).
    NoOrder,
    /// The order the invoice bills was cancelled.
    OrderCancelled,
    /// An invoice line matches no line of the order.
    UnknownLine,
    /// More is invoiced than the ship notices say was shipped.
    QuantityOverShipped,
    /// More is invoiced than was ordered.
    QuantityOverOrdered,
    /// The unit price is off the order's beyond the partner's tolerance.
    Price,
    /// A charge the partner may not bill.
    ChargeNotAllowed,
    /// A charge above the partner's cap for it.
    ChargeOverCap,
    /// The invoice's own figures do not add up (quantity times unit price,
    /// the lines to the subtotal, the subtotal and charges to the total).
    Arithmetic,
}

impl VarianceKind {
    /// The kind as written in JSON.
    pub fn name(self) -> &'static str {
        match self {
            VarianceKind::DuplicateInvoice => "duplicate_invoice",
            VarianceKind::NoOrder => "no_order",
            VarianceKind::OrderCancelled => "order_cancelled",
            VarianceKind::UnknownLine => "unknown_line",
            VarianceKind::QuantityOverShipped => "quantity_over_shipped",
            VarianceKind::QuantityOverOrdered => "quantity_over_ordered",
            VarianceKind::Price => "price",
            VarianceKind::ChargeNotAllowed => "charge_not_allowed",
            VarianceKind::ChargeOverCap => "charge_over_cap",
            VarianceKind::Arithmetic => "arithmetic",
        }
    }
}
