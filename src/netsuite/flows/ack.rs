//! A vendor's purchase order acknowledgment (an 855, or its CSV or XML)
//! onto the purchase order: each line's answer (accepted, backordered with
//! its date, rejected, changed) written into the fields the mapping
//! `netsuite/po_ack` names, by a PATCH that merges the order's lines by
//! their `line`. Writing the same answer again changes nothing, so a retry
//! needs no external ID.

use serde_json::{Value, json};

use super::{ACK_MAPPING, Applied, FlowError, Flows, lookup};
use crate::model::Document;
use crate::netsuite::client::RecordRef;
use crate::reconcile::matching::Item;

/// Writes the acknowledgment `document` (canonical JSON) from `partner`
/// (the vendor `vendor` in NetSuite, when known) onto its purchase order.
pub async fn apply(
    flows: &Flows,
    partner: &str,
    vendor: Option<&str>,
    document: &Value,
) -> Result<Applied, FlowError> {
    let ack = super::document_as(document, "purchase order acknowledgment", |d| match d {
        Document::PoAck(a) => Some(a),
        _ => None,
    })?;
    let po_number = ack.po_number.as_str();
    let po = lookup::order_numbered(flows, po_number, vendor, partner).await?;
    let po_id = po.id.clone();
    let mut lines = Vec::new();
    for (i, line) in ack.lines.iter().enumerate() {
        let number = line
            .line_number
            .clone()
            .unwrap_or_else(|| (i + 1).to_string());
        let facts = po.line_for(
            &Item::from(line),
            &format!("acknowledgment of {po_number} line {number}"),
        )?;
        let status = line
            .status
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| v.as_str().map(String::from));
        lines.push(json!({
            "line": facts.line.to_string(),
            "status": status,
            "status_code": line.status_code,
            "quantity": line.quantity.map(|q| q.get().normalize().to_string()),
            "unit_price": line.unit_price.map(|p| p.get().normalize().to_string()),
            "ship_date": line.ship_date.map(|d| d.to_string()),
            "delivery_date": line.delivery_date.map(|d| d.to_string()),
        }));
    }
    let context = json!({
        "purchase_order_id": po_id,
        "po_number": po_number,
        "lines": lines,
    });
    let body = flows.body(ACK_MAPPING, document, &context, po_number)?;
    flows
        .client
        .patch("purchaseOrder", &RecordRef::Id(po_id.clone()), &body, &[])
        .await?;
    Ok(Applied {
        record_type: "purchaseOrder",
        id: po_id,
        external_id: None,
        created: false,
    })
}
