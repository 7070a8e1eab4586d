//! Purchase orders out, NetSuite's side: the drop-ship purchase orders of
//! the gateway's vendors changed since a cursor (SuiteQL on `transaction`:
//! purchase orders made from a sales order, by vendor, in the order of
//! their last change), each read and mapped as a canonical purchase order
//! (`netsuite/purchase_order`), and, once the gateway has queued it for
//! the vendor, marked sent by the body `netsuite/purchase_order_sent`
//! writes (a custom field by default). Marking changes the order's
//! last-modified time, so the next poll sees it again: it is then the
//! same order, not sent again, and not marked again (a body that would
//! change nothing is not sent).

use serde_json::{Value, json};

use super::lookup::{self, sql_text};
use super::{FlowError, Flows, SENT_MAPPING};
use crate::model::PurchaseOrder;
use crate::netsuite::client::RecordRef;

/// How NetSuite's last-modified times are read and compared.
pub const TIME_MASK: &str = "YYYY-MM-DD HH24:MI:SS";

/// A purchase order changed since the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// Its internal ID.
    pub id: String,
    /// Its number.
    pub po_number: String,
    /// The vendor's internal ID.
    pub vendor: String,
    /// When it last changed (`YYYY-MM-DD HH24:MI:SS`, the account's time).
    pub modified: String,
}

fn vendor_literal(v: &str) -> String {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) {
        v.to_string()
    } else {
        sql_text(v)
    }
}

/// The drop-ship purchase orders of `vendors` changed at or after `since`
/// (all of them when `None`), oldest change first, the first `max` of
/// them (the next poll, from a later cursor, takes the rest). An
/// order changed in the same second as the cursor is seen again; the
/// caller knows it (it sent it already).
pub async fn changed_since(
    flows: &Flows,
    vendors: &[&str],
    since: Option<&str>,
    max: usize,
) -> Result<Vec<Changed>, FlowError> {
    if vendors.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = vendors.iter().map(|v| vendor_literal(v)).collect();
    let mut query = format!(
        "SELECT id, tranid, entity, TO_CHAR(lastmodifieddate, '{TIME_MASK}') AS modified \
         FROM transaction WHERE type = 'PurchOrd' AND createdfrom IS NOT NULL AND entity IN ({})",
        list.join(", ")
    );
    if let Some(since) = since {
        query.push_str(&format!(
            " AND lastmodifieddate >= TO_TIMESTAMP({}, '{TIME_MASK}')",
            sql_text(since)
        ));
    }
    query.push_str(" ORDER BY lastmodifieddate, id");
    // At most `max` rows a poll: the cursor moves past them, and the next
    // poll takes up the rest.
    let mut rows = Vec::new();
    while rows.len() < max {
        let page = flows
            .client
            .suiteql(
                &query,
                (max - rows.len()).min(crate::netsuite::client::MAX_PAGE),
                rows.len(),
            )
            .await?;
        let got = page.items.len();
        rows.extend(page.items);
        if !page.has_more || got == 0 {
            break;
        }
    }
    Ok(rows
        .iter()
        .filter_map(|r| {
            let text = |k: &str| match r.get(k)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            Some(Changed {
                id: text("id")?,
                po_number: text("tranid")?,
                vendor: text("entity")?,
                modified: text("modified")?,
            })
        })
        .collect())
}

/// A purchase order read for a partner: the record, and the canonical
/// order the partner is sent.
#[derive(Clone, Debug)]
pub struct Read {
    /// The record as NetSuite gave it.
    pub record: Value,
    /// The canonical purchase order.
    pub order: PurchaseOrder,
}

/// Reads purchase order `id` and maps it for `partner`.
pub async fn read(flows: &Flows, id: &str, partner: &str) -> Result<Read, FlowError> {
    let record = flows
        .client
        .get("purchaseOrder", &RecordRef::Id(id.to_string()), true)
        .await?
        .ok_or_else(|| FlowError::Mismatch(format!("purchase order {id} is gone from NetSuite")))?;
    let order = lookup::canonical_order(&flows.library, &record, id, partner)?;
    Ok(Read { record, order })
}

/// Marks purchase order `id` sent: the body `netsuite/purchase_order_sent`
/// writes for `order`, PATCHed unless the record holds those values
/// already. True when it was PATCHed.
pub async fn mark_sent(
    flows: &Flows,
    id: &str,
    record: &Value,
    order: &Value,
) -> Result<bool, FlowError> {
    let context = json!({ "purchase_order_id": id });
    let body = flows.body(
        SENT_MAPPING,
        order,
        &context,
        &format!("purchaseOrder-{id}"),
    )?;
    let Some(fields) = body.as_object() else {
        return Ok(false);
    };
    if fields.iter().all(|(k, v)| record.get(k) == Some(v)) {
        return Ok(false);
    }
    flows
        .client
        .patch("purchaseOrder", &RecordRef::Id(id.to_string()), &body, &[])
        .await?;
    Ok(true)
}
