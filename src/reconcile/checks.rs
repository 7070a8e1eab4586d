//! The checks, one function each, over canonical documents: a duplicate
//! invoice number, the lines against the order and the ship notices
//! (unknown lines, quantities, unit prices), the charges against the
//! partner's policy, and the invoice's own arithmetic. Money is compared
//! to the cent with exact decimals.

use rust_decimal::{Decimal as Exact, RoundingStrategy};

use crate::model::{
    ChargeKind, Decimal, Invoice, InvoiceLine, InvoiceType, PurchaseOrder, ShipNotice, Variance,
    VarianceKind,
};

use super::matching::{Item, order_line};
use super::policy::Policy;

/// An amount to the cent (half away from zero).
fn cents(d: Exact) -> Exact {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Text of an amount to the cent.
fn money(d: Exact) -> String {
    format!("{:.2}", cents(d))
}

/// A variance about the line at `index` (from 0) of the invoice.
fn on_line(
    index: usize,
    line: &InvoiceLine,
    kind: VarianceKind,
    expected: Option<String>,
    actual: Option<String>,
    message: String,
) -> Variance {
    Variance {
        line: line.line_number.clone(),
        line_index: u32::try_from(index + 1).ok(),
        kind,
        expected,
        actual,
        message,
    }
}

/// How a line is named in a sentence.
fn line_name(index: usize, line: &InvoiceLine) -> String {
    let item = line
        .sku
        .as_deref()
        .or(line.buyer_sku.as_deref())
        .or(line.upc.as_deref())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    match &line.line_number {
        Some(n) => format!("line {n}{item}"),
        None => format!("line #{}{item}", index + 1),
    }
}

/// An invoice number the vendor sent before: `seen_before` says where
/// each earlier one is.
pub fn duplicate(invoice: &Invoice, seen_before: &[String]) -> Vec<Variance> {
    if seen_before.is_empty() {
        return Vec::new();
    }
    vec![Variance {
        line: None,
        line_index: None,
        kind: VarianceKind::DuplicateInvoice,
        expected: None,
        actual: Some(invoice.invoice_number.clone()),
        message: format!(
            "invoice {} was received before ({}): a duplicate bill",
            invoice.invoice_number,
            seen_before.join("; ")
        ),
    }]
}

/// The line's amount: as stated, else quantity times unit price.
fn line_amount(line: &InvoiceLine) -> Option<Exact> {
    line.amount
        .map(Decimal::get)
        .or_else(|| line.quantity?.get().checked_mul(line.unit_price?.get()))
}

/// The invoice's own figures: each line's quantity times unit price is
/// its amount, the lines add up to the subtotal, and the subtotal (or the
/// lines, when none is stated) plus charges minus allowances is the total.
pub fn arithmetic(invoice: &Invoice) -> Vec<Variance> {
    let mut found = Vec::new();
    for (i, line) in invoice.lines.iter().enumerate() {
        if let (Some(q), Some(p), Some(amount)) = (line.quantity, line.unit_price, line.amount) {
            let product = q.get().checked_mul(p.get());
            if product.is_none_or(|x| cents(x) != cents(amount.get())) {
                let expected = product.map(money);
                found.push(on_line(
                    i,
                    line,
                    VarianceKind::Arithmetic,
                    expected.clone(),
                    Some(money(amount.get())),
                    format!(
                        "{}: {q} × {p} is {}, the line says {}",
                        line_name(i, line),
                        expected.as_deref().unwrap_or("too large"),
                        money(amount.get())
                    ),
                ));
            }
        }
    }
    let amounts: Option<Vec<Exact>> = invoice.lines.iter().map(line_amount).collect();
    let lines_sum = amounts.map(|a| a.into_iter().sum::<Exact>());
    if let (Some(sum), Some(subtotal)) = (lines_sum, invoice.subtotal)
        && cents(sum) != cents(subtotal.get())
    {
        found.push(Variance {
            line: None,
            line_index: None,
            kind: VarianceKind::Arithmetic,
            expected: Some(money(sum)),
            actual: Some(money(subtotal.get())),
            message: format!(
                "the lines add up to {}, the subtotal says {}",
                money(sum),
                money(subtotal.get())
            ),
        });
    }
    let base = invoice.subtotal.map(Decimal::get).or(lines_sum);
    let charges: Option<Exact> = invoice
        .charges
        .iter()
        .map(|c| {
            let amount = c.amount?.get();
            Some(match c.kind {
                Some(ChargeKind::Allowance) => -amount,
                Some(ChargeKind::Charge) | None => amount,
            })
        })
        .sum();
    if let (Some(base), Some(charges), Some(total)) = (base, charges, invoice.total_amount) {
        let expected = base + charges;
        if cents(expected) != cents(total.get()) {
            found.push(Variance {
                line: None,
                line_index: None,
                kind: VarianceKind::Arithmetic,
                expected: Some(money(expected)),
                actual: Some(money(total.get())),
                message: format!(
                    "{} {} plus charges minus allowances ({}) is {}, the total says {}",
                    if invoice.subtotal.is_some() {
                        "the subtotal"
                    } else {
                        "the lines"
                    },
                    money(base),
                    money(charges),
                    money(expected),
                    money(total.get())
                ),
            });
        }
    }
    found
}

/// The charges against the partner's policy: a charge it may not bill,
/// and charges above their cap (added up per cap).
pub fn charges(invoice: &Invoice, policy: &Policy) -> Vec<Variance> {
    let mut found = Vec::new();
    let mut capped: Vec<(String, Decimal, Exact)> = Vec::new();
    for c in &invoice.charges {
        if c.kind == Some(ChargeKind::Allowance) {
            continue;
        }
        let (code, description) = (c.code.as_deref(), c.description.as_deref());
        let name = match (code, description) {
            (Some(code), Some(d)) => format!("{code} ({d})"),
            (Some(x), None) | (None, Some(x)) => x.to_string(),
            (None, None) => "a charge without code or description".to_string(),
        };
        if !policy.allows(code, description) {
            found.push(Variance {
                line: None,
                line_index: None,
                kind: VarianceKind::ChargeNotAllowed,
                expected: None,
                actual: c.amount.map(|a| money(a.get())),
                message: format!(
                    "the charge {name} is not one the partner may bill (its [reconcile] allowed_charges)"
                ),
            });
            continue;
        }
        if let Some((cap_name, cap)) = policy.cap_of(code, description) {
            let amount = c.amount.map_or(Exact::ZERO, Decimal::get);
            match capped.iter_mut().find(|(n, _, _)| *n == cap_name) {
                Some((_, _, sum)) => *sum += amount,
                None => capped.push((cap_name, cap, amount)),
            }
        }
    }
    for (name, cap, sum) in capped {
        if cents(sum) > cents(cap.get()) {
            found.push(Variance {
                line: None,
                line_index: None,
                kind: VarianceKind::ChargeOverCap,
                expected: Some(money(cap.get())),
                actual: Some(money(sum)),
                message: format!(
                    "{name} billed {}, above the partner's cap of {}",
                    money(sum),
                    money(cap.get())
                ),
            });
        }
    }
    found
}

/// The lines against the order and the ship notices: each invoice line
/// is an order line; its unit price is the order's within the partner's
/// tolerance; and what is invoiced of an order line, with what other
/// invoices of the same order billed of it, is no more than was ordered
/// and, when ship notices were received, than they say was shipped.
pub fn lines(
    invoice: &Invoice,
    order: &PurchaseOrder,
    notices: &[ShipNotice],
    billed_before: &[Invoice],
    policy: &Policy,
) -> Vec<Variance> {
    let mut found = Vec::new();
    let matched: Vec<Option<usize>> = invoice
        .lines
        .iter()
        .map(|l| order_line(&Item::from(l), &order.lines))
        .collect();
    for (i, (line, m)) in invoice.lines.iter().zip(&matched).enumerate() {
        let Some(m) = *m else {
            found.push(on_line(
                i,
                line,
                VarianceKind::UnknownLine,
                None,
                line.sku.clone().or(line.upc.clone()),
                format!(
                    "{} matches no line of order {} (by line number, SKU or UPC)",
                    line_name(i, line),
                    order.po_number
                ),
            ));
            continue;
        };
        let Some(po_line) = order.lines.get(m) else {
            continue;
        };
        if let (Some(billed), Some(ordered)) = (line.unit_price, po_line.unit_price) {
            let off = (billed.get() - ordered.get()).abs();
            let allowed = policy.price_allowance(ordered);
            if off > allowed {
                found.push(on_line(
                    i,
                    line,
                    VarianceKind::Price,
                    Some(ordered.to_string()),
                    Some(billed.to_string()),
                    format!(
                        "{}: unit price {billed}, the order's is {ordered} (off by {off}, the tolerance is {allowed})",
                        line_name(i, line),
                        off = off.normalize(),
                        allowed = allowed.normalize()
                    ),
                ));
            }
        }
    }
    if invoice.invoice_type == Some(InvoiceType::CreditMemo) {
        return found;
    }
    // What is invoiced of each order line, here and before.
    let mut invoiced = vec![Exact::ZERO; order.lines.len()];
    for (line, m) in invoice.lines.iter().zip(&matched) {
        if let (Some(m), Some(q)) = (m, line.quantity)
            && let Some(slot) = invoiced.get_mut(*m)
        {
            *slot += q.get();
        }
    }
    let mut before = vec![Exact::ZERO; order.lines.len()];
    for other in billed_before {
        if other.invoice_type == Some(InvoiceType::CreditMemo) {
            continue;
        }
        for line in &other.lines {
            if let (Some(m), Some(q)) = (order_line(&Item::from(line), &order.lines), line.quantity)
                && let Some(slot) = before.get_mut(m)
            {
                *slot += q.get();
            }
        }
    }
    let shipped = shipped(order, notices);
    for (m, po_line) in order.lines.iter().enumerate() {
        let Some(i) = matched.iter().position(|x| *x == Some(m)) else {
            continue;
        };
        let (Some(line), Some(&here)) = (invoice.lines.get(i), invoiced.get(m)) else {
            continue;
        };
        let total = here + before.get(m).copied().unwrap_or_default();
        let earlier = match before.get(m) {
            Some(b) if !b.is_zero() => format!(" ({} on earlier invoices)", b.normalize()),
            _ => String::new(),
        };
        if let Some(shipped) = shipped.as_ref().and_then(|s| s.get(m))
            && total > *shipped
        {
            found.push(on_line(
                i,
                line,
                VarianceKind::QuantityOverShipped,
                Some(shipped.normalize().to_string()),
                Some(total.normalize().to_string()),
                format!(
                    "{}: {} invoiced{earlier}, the ship notices say {} shipped",
                    line_name(i, line),
                    total.normalize(),
                    shipped.normalize()
                ),
            ));
        }
        if let Some(ordered) = po_line.quantity
            && total > ordered.get()
        {
            found.push(on_line(
                i,
                line,
                VarianceKind::QuantityOverOrdered,
                Some(ordered.get().normalize().to_string()),
                Some(total.normalize().to_string()),
                format!(
                    "{}: {} invoiced{earlier}, {} ordered",
                    line_name(i, line),
                    total.normalize(),
                    ordered.get().normalize()
                ),
            ));
        }
    }
    found
}

/// What the ship notices say was shipped of each order line, when there
/// are any for the order.
fn shipped(order: &PurchaseOrder, notices: &[ShipNotice]) -> Option<Vec<Exact>> {
    let ours = |po: &Option<String>| po.as_deref().map(str::trim) == Some(order.po_number.trim());
    let orders: Vec<_> = notices
        .iter()
        .flat_map(|n| &n.orders)
        .filter(|o| ours(&o.po_number))
        .collect();
    if orders.is_empty() {
        return None;
    }
    let mut shipped = vec![Exact::ZERO; order.lines.len()];
    for item in orders
        .iter()
        .flat_map(|o| &o.packages)
        .flat_map(|p| &p.items)
    {
        if let (Some(m), Some(q)) = (order_line(&Item::from(item), &order.lines), item.quantity)
            && let Some(slot) = shipped.get_mut(m)
        {
            *slot += q.get();
        }
    }
    Some(shipped)
}
