//! A vendor's ship notice as item fulfillments: for each purchase order it
//! ships, one item fulfillment on the sales order the order was created
//! from (`salesOrder/{id}/!transform/itemFulfillment`), for the order's
//! lines and the quantities shipped, with the carrier and every tracking
//! number. A partial shipment is a partial fulfillment; a later notice for
//! the rest makes a second one.
//!
//! NetSuite's transform starts with every sales order line that has
//! something left to fulfil; the lines this notice does not ship (other
//! vendors' lines of the same order, or what this vendor has not shipped
//! yet) are sent with `itemReceive: false`, so that NetSuite fulfils
//! exactly what shipped. The fulfillment's external ID is
//! `dg-856-<partner>-<notice>-<PO>`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::lookup::{self, SalesLine};
use super::{Applied, FULFILLMENT_MAPPING, FlowError, Flows, external_id};
use crate::model::{Document, ShipNotice, ShipOrder};
use crate::netsuite::client::RecordRef;
use crate::reconcile::matching::Item;

/// Makes the item fulfillments of a ship notice (`document`, canonical
/// JSON) from `partner` (the vendor `vendor` in NetSuite, when known), or
/// finds them made already.
pub async fn apply(
    flows: &Flows,
    partner: &str,
    vendor: Option<&str>,
    document: &Value,
) -> Result<Vec<Applied>, FlowError> {
    let notice = super::document_as(document, "ship notice", |d| match d {
        Document::ShipNotice(n) => Some(n),
        _ => None,
    })?;
    let mut applied = Vec::new();
    for (index, order) in notice.orders.iter().enumerate() {
        let po_number = order.po_number.as_deref().ok_or_else(|| {
            FlowError::Mismatch(format!(
                "ship notice {}: order {} names no PO number",
                notice.asn_number,
                index + 1
            ))
        })?;
        applied
            .push(apply_order(flows, partner, vendor, document, &notice, order, po_number).await?);
    }
    Ok(applied)
}

async fn apply_order(
    flows: &Flows,
    partner: &str,
    vendor: Option<&str>,
    document: &Value,
    notice: &ShipNotice,
    order: &ShipOrder,
    po_number: &str,
) -> Result<Applied, FlowError> {
    let eid = external_id("dg-856", &[partner, &notice.asn_number, po_number]);
    let client = &flows.client;
    if let Some(made) = lookup::made_before(client, "itemFulfillment", &eid).await? {
        return Ok(made);
    }
    let po = lookup::order_numbered(flows, po_number, vendor, partner).await?;
    let po_id = po.id.clone();
    let so_id = po.sales_order.clone().ok_or_else(|| {
        FlowError::Mismatch(format!(
            "purchase order {po_number} was not created from a sales order, so it is no drop shipment to fulfil"
        ))
    })?;
    let sales = lookup::sales_lines(client, &so_id).await?;
    // What shipped, per sales order line.
    let mut shipped: BTreeMap<i64, Decimal> = BTreeMap::new();
    let mut taken: Vec<i64> = Vec::new();
    let mut by_po_line: BTreeMap<i64, i64> = BTreeMap::new();
    for item in order.packages.iter().flat_map(|p| p.items.iter()) {
        let what = describe(item);
        let facts = po.line_for(
            &Item::from(item),
            &format!("ship notice {}: {what}", notice.asn_number),
        )?;
        let sales_line = match by_po_line.get(&facts.line) {
            Some(&s) => s,
            None => {
                let s = lookup::sales_line_of(&po_id, facts, &sales, &taken).ok_or_else(|| {
                    FlowError::Mismatch(format!(
                        "purchase order {po_number} line {}: no line of its sales order {so_id} was made for it",
                        facts.line
                    ))
                })?;
                taken.push(s);
                by_po_line.insert(facts.line, s);
                s
            }
        };
        let quantity = item.quantity.map(|q| q.get()).ok_or_else(|| {
            FlowError::Mismatch(format!(
                "ship notice {}: {what} has no quantity shipped",
                notice.asn_number
            ))
        })?;
        *shipped.entry(sales_line).or_default() += quantity;
    }
    if shipped.is_empty() {
        return Err(FlowError::Mismatch(format!(
            "ship notice {}: nothing shipped on purchase order {po_number}",
            notice.asn_number
        )));
    }
    let lines = fulfillment_lines(&sales, &shipped, po_number)?;
    let mut tracking: Vec<&str> = order
        .packages
        .iter()
        .filter_map(|p| p.tracking_number.as_deref())
        .collect();
    if tracking.is_empty() {
        tracking = notice.tracking_numbers.iter().map(String::as_str).collect();
    }
    tracking.dedup();
    let packages: Vec<Value> = tracking
        .iter()
        .map(|t| json!({ "tracking_number": t }))
        .collect();
    let context = json!({
        "external_id": eid.as_str(),
        "po_number": po_number,
        "purchase_order_id": po_id,
        "sales_order_id": so_id,
        "lines": lines,
        "packages": packages,
    });
    let name = format!("{}-{po_number}", notice.asn_number);
    let body = flows.body(FULFILLMENT_MAPPING, document, &context, &name)?;
    let id = client
        .transform(
            "salesOrder",
            &RecordRef::Id(so_id),
            "itemFulfillment",
            &body,
            &[],
        )
        .await?;
    Ok(Applied {
        record_type: "itemFulfillment",
        id,
        external_id: Some(eid),
        created: true,
    })
}

/// The fulfillment's lines: every sales order line with something left to
/// fulfil, those shipped with their quantity, the others not received.
fn fulfillment_lines(
    sales: &[SalesLine],
    shipped: &BTreeMap<i64, Decimal>,
    po_number: &str,
) -> Result<Vec<Value>, FlowError> {
    for (line, quantity) in shipped {
        let open = sales
            .iter()
            .find(|s| s.line == *line)
            .map(SalesLine::open)
            .unwrap_or_default();
        if *quantity > open {
            return Err(FlowError::Mismatch(format!(
                "purchase order {po_number}: {quantity} shipped on sales order line {line}, which has {open} left to fulfil"
            )));
        }
    }
    Ok(sales
        .iter()
        .filter(|s| s.open() > Decimal::ZERO)
        .map(|s| match shipped.get(&s.line) {
            Some(q) => json!({
                "order_line": s.line.to_string(),
                "quantity": q.normalize().to_string(),
                "receive": "true",
                "item_id": s.item,
            }),
            None => json!({
                "order_line": s.line.to_string(),
                "receive": "false",
                "item_id": s.item,
            }),
        })
        .collect())
}

/// How a shipped item is named in messages.
fn describe(item: &crate::model::ShipItem) -> String {
    let named = [
        ("SKU", item.sku.as_deref()),
        ("UPC", item.upc.as_deref()),
        ("buyer SKU", item.buyer_sku.as_deref()),
        ("line", item.line_number.as_deref()),
    ];
    named
        .iter()
        .find_map(|(k, v)| v.map(|v| format!("item {k} {v}")))
        .unwrap_or_else(|| "an item without an identifier".to_string())
}
