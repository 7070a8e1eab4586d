//! A vendor's invoice (an 810, or a PDF invoice) as a vendor bill: the
//! purchase order's `purchaseOrder/{id}/!transform/vendorBill`, with the
//! vendor's invoice number and date, each invoiced line's quantity and
//! price on its order line, and the charges. The item sublist is replaced
//! by the invoiced lines (`?replace=item`): NetSuite would otherwise bill
//! every line not billed yet. The bill's external ID is
//! `dg-810-<partner>-<invoice number>`, so the same invoice is never
//! billed twice. An invoice held by reconciliation does not reach this
//! flow until a person releases it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Applied, BILL_MAPPING, FlowError, Flows, external_id, lookup};
use crate::model::{ChargeKind, Document};
use crate::netsuite::client::RecordRef;
use crate::reconcile::matching::Item;

/// Makes the vendor bill of an invoice (`document`, canonical JSON) from
/// `partner` (the vendor `vendor` in NetSuite, when known), or finds it
/// made already.
pub async fn apply(
    flows: &Flows,
    partner: &str,
    vendor: Option<&str>,
    document: &Value,
) -> Result<Applied, FlowError> {
    let invoice = super::document_as(document, "invoice", |d| match d {
        Document::Invoice(i) => Some(i),
        _ => None,
    })?;
    let number = invoice.invoice_number.as_str();
    let eid = external_id("dg-810", &[partner, number]);
    let client = &flows.client;
    if let Some(made) = lookup::made_before(client, "vendorBill", &eid).await? {
        return Ok(made);
    }
    let po_number = invoice.po_number.as_deref().ok_or_else(|| {
        FlowError::Mismatch(format!(
            "invoice {number} names no PO number, so NetSuite has no order to bill it against"
        ))
    })?;
    let po = lookup::order_numbered(flows, po_number, vendor, partner).await?;
    let po_id = po.id.clone();
    // Quantity and price per order line.
    let mut lines: BTreeMap<i64, (Decimal, Option<Decimal>)> = BTreeMap::new();
    for (i, line) in invoice.lines.iter().enumerate() {
        let n = line
            .line_number
            .clone()
            .unwrap_or_else(|| (i + 1).to_string());
        let facts = po.line_for(&Item::from(line), &format!("invoice {number} line {n}"))?;
        let quantity = line.quantity.map(|q| q.get()).ok_or_else(|| {
            FlowError::Mismatch(format!("invoice {number} line {}: no quantity", i + 1))
        })?;
        let price = line.unit_price.map(|p| p.get());
        let entry = lines.entry(facts.line).or_insert((Decimal::ZERO, price));
        if entry.1 != price {
            return Err(FlowError::Mismatch(format!(
                "invoice {number} bills purchase order {po_number} line {} twice at different prices",
                facts.line
            )));
        }
        entry.0 += quantity;
        let open = facts.quantity - facts.billed;
        if entry.0 > open {
            return Err(FlowError::Mismatch(format!(
                "invoice {number} bills {} of purchase order {po_number} line {}, which has {open} left to bill",
                entry.0, facts.line
            )));
        }
    }
    if lines.is_empty() {
        return Err(FlowError::Mismatch(format!(
            "invoice {number} has no lines to bill"
        )));
    }
    let lines: Vec<Value> = lines
        .iter()
        .map(|(line, (quantity, price))| {
            json!({
                "order_line": line.to_string(),
                "quantity": quantity.normalize().to_string(),
                "rate": price.map(|p| p.normalize().to_string()),
            })
        })
        .collect();
    let charges: Vec<Value> = invoice
        .charges
        .iter()
        .filter_map(|c| {
            let amount = c.amount?.get();
            let signed = match c.kind {
                Some(ChargeKind::Allowance) => -amount,
                _ => amount,
            };
            Some(json!({
                "kind": match c.kind {
                    Some(ChargeKind::Allowance) => "allowance",
                    _ => "charge",
                },
                "code": c.code,
                "description": c.description,
                "amount": signed.normalize().to_string(),
                "freight": crate::reconcile::policy::is_freight(c.code.as_deref(), c.description.as_deref()).to_string(),
            }))
        })
        .collect();
    let context = json!({
        "external_id": eid.as_str(),
        "po_number": po_number,
        "purchase_order_id": po_id,
        "lines": lines,
        "charges": charges,
    });
    let body = flows.body(BILL_MAPPING, document, &context, number)?;
    let id = client
        .transform(
            "purchaseOrder",
            &RecordRef::Id(po_id),
            "vendorBill",
            &body,
            &["item"],
        )
        .await?;
    Ok(Applied {
        record_type: "vendorBill",
        id,
        external_id: Some(eid),
        created: true,
    })
}
