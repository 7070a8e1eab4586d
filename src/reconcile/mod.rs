//! Invoice reconciliation: an invoice (from an 810, or a PDF) matched
//! with the purchase order dropgate sent and the ship notices received
//! for it, and checked: a duplicate invoice number, lines that are not on
//! the order, quantities above what was shipped or ordered, unit prices
//! off the order's beyond the partner's tolerance, charges the partner
//! may not bill or above their cap, and the invoice's own arithmetic.
//!
//! Pure functions over canonical documents: the caller (the gateway, or
//! `dropgate reconcile`) finds the order, the ship notices and the
//! earlier invoices; nothing here reads a store or a file.
//!
//! - `matching.rs`: which order line an invoice line or shipped item is;
//! - `checks.rs`: the checks, one function each;
//! - `policy.rs`: the partner's tolerances, charges and what happens to
//!   an invoice with a variance.

pub mod checks;
pub mod matching;
pub mod policy;

pub use policy::{OnVariance, Policy};

use crate::model::{
    Invoice, PurchaseOrder, Purpose, Reconciliation, ReconciliationStatus, ShipNotice, Variance,
    VarianceKind,
};

/// The order an invoice bills, as found.
#[derive(Clone, Copy, Debug)]
pub enum Order<'a> {
    /// The last order sent under the invoice's PO number (the original,
    /// or its last change).
    Sent(&'a PurchaseOrder),
    /// None was sent under it (or the invoice names none).
    NotFound,
}

/// What an invoice is reconciled against.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The invoice.
    pub invoice: &'a Invoice,
    /// The order it bills.
    pub order: Order<'a>,
    /// The ship notices received for the order.
    pub ship_notices: &'a [ShipNotice],
    /// The vendor's other invoices for the same order (other numbers):
    /// what they billed counts with this one against what was ordered
    /// and shipped.
    pub billed_before: &'a [Invoice],
    /// Where the vendor sent an invoice with this number before (`file
    /// 12, document 0`), one entry each.
    pub seen_before: &'a [String],
    /// The partner's policy.
    pub policy: &'a Policy,
}

/// Reconciles an invoice: every check, and the status they give.
pub fn reconcile(input: &Input<'_>) -> Reconciliation {
    let invoice = input.invoice;
    let mut variances = checks::duplicate(invoice, input.seen_before);
    let status = match input.order {
        Order::NotFound => {
            variances.insert(0, no_order(invoice));
            ReconciliationStatus::Unmatched
        }
        Order::Sent(order) => {
            if order.purpose == Some(Purpose::Cancel) {
                variances.push(Variance {
                    line: None,
                    line_index: None,
                    kind: VarianceKind::OrderCancelled,
                    expected: None,
                    actual: Some(order.po_number.clone()),
                    message: format!("order {} was cancelled", order.po_number),
                });
            }
            variances.extend(checks::lines(
                invoice,
                order,
                input.ship_notices,
                input.billed_before,
                input.policy,
            ));
            ReconciliationStatus::Matched
        }
    };
    variances.extend(checks::charges(invoice, input.policy));
    variances.extend(checks::arithmetic(invoice));
    let status = match status {
        ReconciliationStatus::Matched if !variances.is_empty() => ReconciliationStatus::Variance,
        s => s,
    };
    let mut ship_notices: Vec<String> = Vec::new();
    if let Order::Sent(order) = input.order {
        for n in input.ship_notices {
            let ours = n
                .orders
                .iter()
                .any(|o| o.po_number.as_deref().map(str::trim) == Some(order.po_number.trim()));
            if ours && !ship_notices.contains(&n.asn_number) {
                ship_notices.push(n.asn_number.clone());
            }
        }
    }
    Reconciliation {
        status,
        ship_notices,
        variances,
    }
}

fn no_order(invoice: &Invoice) -> Variance {
    Variance {
        line: None,
        line_index: None,
        kind: VarianceKind::NoOrder,
        expected: None,
        actual: invoice.po_number.clone(),
        message: match &invoice.po_number {
            Some(po) => format!("no purchase order {po} was sent to this partner"),
            None => "the invoice names no purchase order".to_string(),
        },
    }
}

/// The reconciliation in a few lines, for a person: the status, then one
/// line per variance.
pub fn describe(reconciliation: &Reconciliation) -> String {
    let mut out = reconciliation.status.name().to_string();
    if !reconciliation.ship_notices.is_empty() {
        out.push_str(&format!(
            " (ship notices {})",
            reconciliation.ship_notices.join(", ")
        ));
    }
    for v in &reconciliation.variances {
        out.push_str(&format!("\n  {}: {}", v.kind.name(), v.message));
    }
    out
}

#[cfg(test)]
mod tests;
