//! Orders as the store has them: a partner's PO number's history read
//! from the store (the orders sent, the documents linked, the invoices as
//! reconciled) and followed by `lifecycle`; lists of orders for the
//! command line, the console and the exception watcher.

use chrono::{DateTime, Utc};

use crate::lifecycle::{self, History, Linked, Order, Received, Sent};
use crate::model::{Document, Purpose};
use crate::store::{Invoices, OrderFilter, OrderKey, Query, StoreError};

fn time(at: &str, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{what}: the time {at:?}: {e}")))
}

fn purpose(p: &str) -> Purpose {
    match p {
        "change" => Purpose::Change,
        "replace" => Purpose::Replace,
        "cancel" => Purpose::Cancel,
        "duplicate" => Purpose::Duplicate,
        _ => Purpose::Original,
    }
}

/// A canonical document from stored JSON that may lack its `type` and
/// `source` (an order as sent).
fn document(json: &str, doc_type: &str) -> Option<Document> {
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    let object = value.as_object_mut()?;
    object
        .entry("type")
        .or_insert_with(|| doc_type.to_string().into());
    object
        .entry("source")
        .or_insert_with(|| serde_json::json!({ "format": "json" }));
    serde_json::from_value(value).ok()
}

/// Everything the store has under `partner`'s `po_number`.
pub fn history(
    store: &mut dyn Query,
    partner: &str,
    po_number: &str,
) -> Result<History, StoreError> {
    let rows = store.order_history(partner, po_number)?;
    let what = |s: &str| format!("order {po_number} of {partner}: {s}");
    let mut h = History {
        partner: partner.to_string(),
        po_number: po_number.to_string(),
        ..History::default()
    };
    for s in &rows.sent {
        let order = match s.document.as_deref().map(|j| document(j, "purchase_order")) {
            Some(Some(Document::PurchaseOrder(o))) => Some(o),
            Some(_) => return Err(StoreError::Corrupt(what("the order kept is not an order"))),
            None => None,
        };
        h.sent.push(Sent {
            at: time(&s.at, &what("sent"))?,
            purpose: purpose(&s.purpose),
            order,
            name: s.name.clone(),
        });
    }
    let invoices = store.invoices(Invoices::ForOrder { partner, po_number })?;
    for l in &rows.linked {
        let place = || what(&format!("file {}, document {}", l.file_id, l.seq));
        let doc = match l.doc_type.as_str() {
            "invoice" => {
                let Some(record) = invoices
                    .iter()
                    .find(|i| i.file_id == l.file_id && i.seq == l.seq)
                else {
                    continue;
                };
                match document(&record.document, "invoice") {
                    Some(Document::Invoice(invoice)) => Received::Invoice {
                        invoice: Box::new(invoice),
                        hold: record.hold,
                    },
                    _ => return Err(StoreError::Corrupt(place())),
                }
            }
            t => match l.detail.as_deref().and_then(|j| document(j, t)) {
                Some(Document::FunctionalAck(fa)) => Received::FunctionalAck(fa),
                Some(Document::PoAck(a)) => Received::PoAck(a),
                Some(Document::PoChangeAck(a)) => Received::PoChangeAck(a),
                Some(Document::OrderStatus(r)) => Received::OrderStatus(Box::new(r)),
                Some(Document::ShipNotice(n)) => Received::ShipNotice(Box::new(n)),
                _ => return Err(StoreError::Corrupt(place())),
            },
        };
        h.received.push(Linked {
            at: time(&l.at, &place())?,
            file_id: l.file_id,
            seq: l.seq,
            doc,
        });
    }
    Ok(h)
}

/// What became of `partner`'s order `po_number` (`None` when the store
/// knows nothing of it).
pub fn order(
    store: &mut dyn Query,
    partner: &str,
    po_number: &str,
) -> Result<Option<Order>, StoreError> {
    let h = history(store, partner, po_number)?;
    if h.sent.is_empty() && h.received.is_empty() {
        return Ok(None);
    }
    Ok(Some(lifecycle::follow(&h)))
}

/// The orders `filter` says, newest first, followed.
pub fn list(store: &mut dyn Query, filter: &OrderFilter) -> Result<Vec<Order>, StoreError> {
    let keys: Vec<OrderKey> = store.order_keys(filter)?;
    let mut orders = Vec::with_capacity(keys.len());
    for k in keys {
        let h = history(store, &k.partner, &k.po_number)?;
        orders.push(lifecycle::follow(&h));
    }
    Ok(orders)
}
