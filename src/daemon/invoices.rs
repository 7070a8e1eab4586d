//! Invoices reconciled as their file is stored, held when they do not
//! match, and released by a person.
//!
//! In the transaction that finishes a file (`pipeline::finish`): its ship
//! notices are linked to their partner's PO numbers (with the JSON of
//! their part for the order, so that reconciling reads the store only,
//! never the archive); each
//! invoice is reconciled (`crate::reconcile`) against the last order sent
//! under its PO number, the ship notices linked to it, the vendor's other
//! invoices for it and those with the same number; the result is kept
//! with the invoice (`store::InvoiceRecord`) and written into its JSON as
//! `reconciliation`. The file's relay delivery then carries its documents
//! with the reconciled invoices, without those held (the partner's
//! `[reconcile] on_variance`). A held invoice is relayed once, when
//! [`release`] queues it.

use std::path::Path;

use crate::config::Partner;
use crate::model::head::Indexed;
use crate::model::{Document, Invoice, OrderStatus, PurchaseOrder, ShipNotice};
use crate::reconcile::{self, Order};
use crate::store::{
    Extent, FileId, FileRecord, InvoiceHold, InvoiceRecord, Invoices, Link, NewDelivery, Store,
    StoreError, Transaction,
};

/// The partner's sequence whose row is locked while its invoices are
/// reconciled (its numbers are not used).
const RECONCILE_LOCK: &str = "reconcile";

/// The types whose documents are reconciled or linked to their orders.
const LINKED: [&str; 6] = [
    "invoice",
    "ship_notice",
    "po_ack",
    "po_change_ack",
    "order_status",
    "functional_ack",
];

/// The invoices and ship notices of a file's documents: their number in
/// the file and where they are (in the local pack the file's documents
/// are in), noted as the documents are stored.
#[derive(Default)]
pub struct Found {
    documents: Vec<(u64, String, Extent)>,
}

impl Found {
    /// Notes document `seq`, at `d` in the file's `documents`, when it is
    /// one reconciliation reads.
    pub fn note(&mut self, documents: &Extent, seq: u64, d: &Indexed) {
        if LINKED.contains(&d.head.doc_type.as_str()) {
            self.documents.push((
                seq,
                d.head.doc_type.clone(),
                Extent {
                    file: documents.file.clone(),
                    offset: documents.offset + d.offset,
                    length: d.length,
                },
            ));
        }
    }

    /// Whether the file has none.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }
}

/// A stored JSON that is not what it should be.
fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A canonical document from its JSON (an order as sent may lack its
/// `type` and `source`).
/// The PO numbers a document names, trimmed, each once, in order.
fn po_numbers<'a>(numbers: impl Iterator<Item = Option<&'a str>>) -> Vec<&'a str> {
    let mut pos: Vec<&str> = numbers
        .filter_map(|p| p.map(str::trim))
        .filter(|p| !p.is_empty())
        .collect();
    pos.sort_unstable();
    pos.dedup();
    pos
}

/// For each PO number `orders` name, the document `cut` makes of that
/// order's part only (as JSON): what is linked to each order of a ship
/// notice or a status report of many orders.
fn per_order<O: Clone>(
    orders: &[O],
    po_of: impl Fn(&O) -> Option<&str>,
    cut: impl Fn(Vec<O>) -> Document,
) -> Result<Vec<(String, String)>, serde_json::Error> {
    po_numbers(orders.iter().map(&po_of))
        .into_iter()
        .map(|po| {
            let part = orders
                .iter()
                .filter(|o| po_of(o).map(str::trim) == Some(po))
                .cloned()
                .collect();
            Ok((po.to_string(), serde_json::to_string(&cut(part))?))
        })
        .collect()
}

fn document(json: &str, doc_type: &str) -> Result<Document, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(json)?;
    if let Some(object) = value.as_object_mut() {
        object
            .entry("type")
            .or_insert_with(|| doc_type.to_string().into());
        object
            .entry("source")
            .or_insert_with(|| serde_json::json!({ "format": "json" }));
    }
    serde_json::from_value(value)
}

/// The last order sent to `partner` under `po_number`, when its
/// document was kept and reads as an order.
fn order(
    store: &mut dyn Transaction,
    partner: &str,
    po_number: &str,
) -> Result<Option<PurchaseOrder>, StoreError> {
    let Some(sent) = store.last_order(partner, po_number)? else {
        return Ok(None);
    };
    let Some(json) = sent.document else {
        return Ok(None);
    };
    match document(&json, "purchase_order") {
        Ok(Document::PurchaseOrder(o)) => Ok(Some(o)),
        Ok(other) => Err(corrupt(
            format!("order {po_number} of {partner}"),
            format!("a {} was kept", other.document_type()),
        )),
        Err(e) => Err(corrupt(format!("order {po_number} of {partner}"), e)),
    }
}

/// What the file's relay delivery carries, when the file has invoices:
/// its documents, the invoices with their reconciliation, the held ones
/// left out (none at all when every document is held).
pub struct Relay {
    /// The JSON lines to relay.
    pub payload: Vec<u8>,
    /// How many documents they are.
    pub documents: u64,
}

/// Links the file's acknowledgments, ship notices and invoices to their
/// orders and reconciles its invoices, in the finishing transaction. `documents` is
/// the file's extent in its local pack; `None` when the file has no
/// invoice (its documents go to the relay as they are).
pub fn reconcile_file(
    data_dir: &Path,
    store: &mut dyn Transaction,
    file: &FileRecord,
    partner: &Partner,
    documents: &Extent,
    found: &Found,
) -> Result<Option<Relay>, StoreError> {
    if found.is_empty() {
        return Ok(None);
    }
    let read = |e: &Extent| -> Result<String, StoreError> {
        let bytes = e.read(data_dir).map_err(|source| StoreError::Archive {
            path: e.file.clone(),
            source,
        })?;
        String::from_utf8(bytes).map_err(|err| corrupt(&e.file, err))
    };
    // One file of a partner at a time from here to the commit, whichever
    // instance finishes it: the row of a sequence of the partner's own
    // stays locked until the transaction ends (as control numbers do), so
    // that two files with the same invoice number finished at once on
    // PostgreSQL see each other (on SQLite the transaction is alone).
    store.take_control_numbers(&partner.id, RECONCILE_LOCK, 1)?;
    let place = |seq: u64| format!("file {} ({}), document {seq}", file.id, file.name);
    let link = |po_number: String, doc_type: &str, seq: u64, detail: String| Link {
        partner: partner.id.clone(),
        po_number,
        doc_type: doc_type.to_string(),
        file_id: file.id,
        seq,
        detail: Some(detail),
    };
    // Ship notices first: an invoice in the same file sees them.
    let mut links = Vec::new();
    for (seq, doc_type, extent) in &found.documents {
        if doc_type != "ship_notice" {
            continue;
        }
        let json = read(extent)?;
        let Ok(Document::ShipNotice(notice)) = document(&json, doc_type) else {
            return Err(corrupt(place(*seq), "not a ship notice"));
        };
        // The notice with each order's part only: a notice of a thousand
        // orders is not kept a thousand times whole.
        let parts = per_order(
            &notice.orders,
            |o| o.po_number.as_deref(),
            |orders| {
                Document::ShipNotice(ShipNotice {
                    orders,
                    ..notice.clone()
                })
            },
        )
        .map_err(|e| corrupt(place(*seq), e))?;
        for (po, detail) in parts {
            links.push(link(po, doc_type, *seq, detail));
        }
    }
    // Acknowledgments: an 855 or 865 by its PO number, a 997/999 by the group
    // control number of the orders it answers; a status report (870) by
    // each order it reports on, with that order's part only.
    for (seq, doc_type, extent) in &found.documents {
        match doc_type.as_str() {
            "order_status" => {
                let json = read(extent)?;
                let Ok(Document::OrderStatus(report)) = document(&json, doc_type) else {
                    return Err(corrupt(place(*seq), "not a status report"));
                };
                let parts = per_order(
                    &report.orders,
                    |o| o.po_number.as_deref(),
                    |orders| {
                        Document::OrderStatus(OrderStatus {
                            orders,
                            ..report.clone()
                        })
                    },
                )
                .map_err(|e| corrupt(place(*seq), e))?;
                for (po, detail) in parts {
                    links.push(link(po, doc_type, *seq, detail));
                }
            }
            "po_ack" | "po_change_ack" => {
                let json = read(extent)?;
                let po = match document(&json, doc_type) {
                    Ok(Document::PoAck(ack)) => ack.po_number,
                    Ok(Document::PoChangeAck(ack)) => ack.po_number,
                    _ => return Err(corrupt(place(*seq), "not an acknowledgment")),
                };
                let po = po.trim();
                if !po.is_empty() {
                    links.push(link(po.to_string(), doc_type, *seq, json));
                }
            }
            "functional_ack" => {
                let json = read(extent)?;
                let Ok(Document::FunctionalAck(fa)) = document(&json, doc_type) else {
                    return Err(corrupt(place(*seq), "not a functional acknowledgment"));
                };
                let Ok(group) = fa.group_control_number.trim().parse::<u64>() else {
                    continue;
                };
                if fa.functional_id != "PO" {
                    continue;
                }
                for po in store.orders_in_group(&partner.id, group)? {
                    links.push(link(po, doc_type, *seq, json.clone()));
                }
            }
            _ => {}
        }
    }
    store.add_links(&links)?;
    if !found.documents.iter().any(|(_, t, _)| t == "invoice") {
        // Nothing of the file's relay delivery changes.
        return Ok(None);
    }
    let mut reconciled: Vec<(u64, Option<String>)> = Vec::new();
    for (seq, doc_type, extent) in &found.documents {
        if doc_type != "invoice" {
            continue;
        }
        let Ok(Document::Invoice(invoice)) = document(&read(extent)?, doc_type) else {
            return Err(corrupt(place(*seq), "not an invoice"));
        };
        let record = reconcile_invoice(store, file, partner, *seq, invoice)?;
        store.record_invoice(&record)?;
        let sentence = format!(
            "invoice {}: {}{}",
            record.invoice_number,
            record.status,
            match record.hold {
                InvoiceHold::Held => ", held for a person (dropgate release)",
                _ => "",
            }
        );
        store.audit(file.id, "reconciled", &sentence)?;
        let relayed = (record.hold != InvoiceHold::Held).then_some(record.document);
        reconciled.push((*seq, relayed));
    }
    // The documents as they will be relayed.
    let all = read(documents)?;
    let mut payload = Vec::with_capacity(all.len());
    let mut count = 0u64;
    let lines = all.split('\n').filter(|l| !l.trim().is_empty());
    for (seq, line) in (0u64..).zip(lines) {
        let line = match reconciled.iter().find(|(s, _)| *s == seq) {
            Some((_, Some(json))) => json.as_str(),
            Some((_, None)) => continue,
            None => line,
        };
        payload.extend_from_slice(line.as_bytes());
        payload.push(b'\n');
        count += 1;
    }
    Ok(Some(Relay {
        payload,
        documents: count,
    }))
}

/// Reconciles one invoice against what the store knows, and says whether
/// it is held.
fn reconcile_invoice(
    store: &mut dyn Transaction,
    file: &FileRecord,
    partner: &Partner,
    seq: u64,
    invoice: Invoice,
) -> Result<InvoiceRecord, StoreError> {
    let this = |i: &InvoiceRecord| i.file_id == file.id && i.seq == seq;
    let seen_before: Vec<String> = store
        .invoices(Invoices::Numbered {
            partner: &partner.id,
            invoice_number: &invoice.invoice_number,
        })?
        .iter()
        .filter(|i| !this(i))
        .map(|i| format!("file {}, document {}", i.file_id, i.seq))
        .collect();
    let po: Option<String> = invoice
        .po_number
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from);
    let (order, notices, billed_before) = match po.as_deref() {
        None => (None, Vec::new(), Vec::new()),
        Some(po) => {
            let order = order(store, &partner.id, po)?;
            let mut notices: Vec<ShipNotice> = Vec::new();
            for link in store.links(&partner.id, po, "ship_notice")? {
                let json = link.detail.unwrap_or_default();
                match document(&json, "ship_notice") {
                    Ok(Document::ShipNotice(n)) => notices.push(n),
                    _ => {
                        return Err(corrupt(
                            format!("file {}, document {}", link.file_id, link.seq),
                            "its link holds no ship notice",
                        ));
                    }
                }
            }
            let mut billed: Vec<Invoice> = Vec::new();
            for other in store.invoices(Invoices::ForOrder {
                partner: &partner.id,
                po_number: po,
            })? {
                // A duplicate is said as such, not counted twice.
                if this(&other) || other.invoice_number == invoice.invoice_number {
                    continue;
                }
                if let Ok(Document::Invoice(i)) = document(&other.document, "invoice") {
                    billed.push(i);
                }
            }
            (order, notices, billed)
        }
    };
    let reconciliation = reconcile::reconcile(&reconcile::Input {
        invoice: &invoice,
        order: order.as_ref().map_or(Order::NotFound, Order::Sent),
        ship_notices: &notices,
        billed_before: &billed_before,
        seen_before: &seen_before,
        policy: &partner.reconcile,
    });
    let hold = match partner.reconcile.holds(&reconciliation) {
        true => InvoiceHold::Held,
        false => InvoiceHold::Relayed,
    };
    let status = reconciliation.status.name().to_string();
    let invoice = Invoice {
        reconciliation: Some(reconciliation),
        ..invoice
    };
    let document = serde_json::to_string(&Document::Invoice(invoice.clone()))
        .map_err(|e| corrupt(format!("file {}, document {seq}", file.id), e))?;
    if let Some(po) = &po {
        store.add_links(&[Link {
            partner: partner.id.clone(),
            po_number: po.clone(),
            doc_type: "invoice".into(),
            file_id: file.id,
            seq,
            detail: None,
        }])?;
    }
    Ok(InvoiceRecord {
        file_id: file.id,
        seq,
        partner: partner.id.clone(),
        invoice_number: invoice.invoice_number,
        po_number: po,
        status,
        hold,
        document,
        released: None,
    })
}

/// What releasing an invoice did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Released {
    /// The invoice.
    pub invoice: InvoiceRecord,
    /// True when it was held and is now queued for the relay; false when
    /// it was not held (released before, or never held).
    pub queued: bool,
}

/// The relay delivery of a released invoice: its own key, so that it is
/// queued once however often it is released.
fn delivery(file: &FileRecord, invoice: &InvoiceRecord) -> NewDelivery {
    let mut payload = invoice.document.clone().into_bytes();
    payload.push(b'\n');
    NewDelivery {
        target: "relay".into(),
        key: format!("relay:{}:invoice:{}", file.id, invoice.seq),
        name: format!(
            "{:06}-{}-invoice-{}.jsonl",
            file.id,
            super::pipeline::plain_name(&file.name),
            invoice.seq
        ),
        payload,
        payload_file: None,
    }
}

/// Why an invoice cannot be released.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// No such file, or no invoice there.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A person (`by`) releases the held invoices of file `file` (or its
/// document `seq` only): each is queued for the relay once, in one
/// transaction, and the file's audit trail says who released it.
pub fn release(
    store: &mut dyn Store,
    config: &crate::config::Gateway,
    file: FileId,
    seq: Option<u64>,
    by: &str,
) -> Result<Vec<Released>, ReleaseError> {
    let mut tx = store.transaction(crate::store::Durability::Synced)?;
    let Some(record) = tx.file(file)? else {
        return Err(ReleaseError::NotFound(format!("there is no file {file}")));
    };
    let invoices: Vec<InvoiceRecord> = tx
        .invoices(Invoices::OfFile(file))?
        .into_iter()
        .filter(|i| seq.is_none_or(|s| s == i.seq))
        .collect();
    if invoices.is_empty() {
        return Err(ReleaseError::NotFound(match seq {
            Some(s) => format!("document {s} of file {file} is not an invoice"),
            None => format!("file {file} has no invoice"),
        }));
    }
    let mut out = Vec::new();
    for invoice in invoices {
        let queued = tx.release_invoice(file, invoice.seq, by)?;
        if queued {
            let mut deliveries = vec![delivery(&record, &invoice)];
            super::netsuite::also_to_netsuite(config, record.partner.as_deref(), &mut deliveries);
            tx.queue(&deliveries)?;
            tx.audit(
                file,
                "released",
                &format!(
                    "invoice {} (document {}) released by {by}, queued for the relay",
                    invoice.invoice_number, invoice.seq
                ),
            )?;
        }
        out.push(Released { invoice, queued });
    }
    // As they stand now: released, by whom and when.
    let now = tx.invoices(Invoices::OfFile(file))?;
    for r in &mut out {
        if let Some(i) = now.iter().find(|i| i.seq == r.invoice.seq) {
            r.invoice = i.clone();
        }
    }
    tx.commit()?;
    Ok(out)
}

/// An invoice's id, `FILE:DOC` (its file's number and its document's in
/// the file), or `FILE` for every invoice of the file.
pub fn parse_id(id: &str) -> Option<(FileId, Option<u64>)> {
    match id.split_once(':') {
        Some((f, d)) => Some((f.trim().parse().ok()?, Some(d.trim().parse().ok()?))),
        None => Some((id.trim().parse().ok()?, None)),
    }
}

/// A held invoice for people: file and document, partner, number, PO,
/// status and each variance's sentence.
pub fn describe(invoice: &InvoiceRecord) -> String {
    let variances = match document(&invoice.document, "invoice") {
        Ok(Document::Invoice(i)) => i
            .reconciliation
            .map(|r| {
                r.variances
                    .iter()
                    .map(|v| format!("{}: {}", v.kind.name(), v.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    format!(
        "{}:{} {} invoice {} (PO {}): {} - {}",
        invoice.file_id,
        invoice.seq,
        invoice.partner,
        invoice.invoice_number,
        invoice.po_number.as_deref().unwrap_or("none"),
        invoice.status,
        variances
    )
}

/// A held invoice as the API lists it.
pub fn to_json(invoice: &InvoiceRecord) -> serde_json::Value {
    let reconciliation = serde_json::from_str::<serde_json::Value>(&invoice.document)
        .ok()
        .and_then(|d| d.get("reconciliation").cloned())
        .unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "id": format!("{}:{}", invoice.file_id, invoice.seq),
        "file": invoice.file_id,
        "document": invoice.seq,
        "partner": invoice.partner,
        "invoice_number": invoice.invoice_number,
        "po_number": invoice.po_number,
        "status": invoice.status,
        "hold": invoice.hold.as_str(),
        "released_by": invoice.released.as_ref().map(|(_, by)| by),
        "reconciliation": reconciliation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_as_sent_reads_without_its_type_and_source() {
        let order = document(r#"{"po_number": "PO-1", "lines": []}"#, "purchase_order");
        assert!(
            matches!(order, Ok(Document::PurchaseOrder(ref o)) if o.po_number == "PO-1"),
            "{order:?}"
        );
        let wrong = document(
            r#"{"type": "invoice", "invoice_number": "1"}"#,
            "purchase_order",
        );
        assert!(
            matches!(wrong, Ok(Document::Invoice(_))),
            "its own type stays"
        );
        assert!(document("[1]", "purchase_order").is_err());
    }

    #[test]
    fn ids_are_file_and_document() {
        assert_eq!(parse_id("12:0"), Some((12, Some(0))));
        assert_eq!(parse_id("12"), Some((12, None)));
        assert_eq!(parse_id("12:x"), None);
        assert_eq!(parse_id("inv"), None);
    }
}
