//! Documents out (`dropgate send`, `POST /v1/documents`): a canonical
//! purchase order or remittance advice is rendered in the partner's
//! format (X12 850 or 820 with the gateway's and the partner's IDs and a
//! fresh control number from the partner's sequence, or the partner's CSV
//! or XML), queued in the outbox for the partner's outbound channel, and
//! delivered at once when the channel takes it, later otherwise.
//!
//! A remittance is sent once per trace number: the same advice again is a
//! repeat (answered with what was queued the first time), another one
//! under the same trace number a conflict; its amount must be the sum of
//! what it pays on its invoices. What was sent under a trace number is
//! kept with the kept answers (`remittance:PARTNER:TRACE`).
//!
//! An order is sent once. The same partner and PO number are the same
//! order: an original (`purpose` absent or `original`) sent again with the
//! same content is a repeat, not queued again (it is answered with what
//! was queued the first time), and with other content a conflict, refused.
//! A message about an order already sent (`purpose` `change`, `cancel` or
//! `duplicate`) is sent once per content: a different change is sent, the
//! same change again is a repeat. The content is the order's JSON without
//! its `source`, whatever the order of its keys.

use std::collections::HashMap;

use crate::config::ChangesAs;
use crate::config::Gateway as Config;
use crate::format::Flavor;
use crate::mapping::outbound::{Parties, RenderOptions};
use crate::mapping::{Library, OutboundMapping};
use crate::model::DocumentType;
use crate::store::archive::sha256_hex;
use crate::store::{
    Durability, KeptAnswer, NewDelivery, SentOrder, Store, StoreError, Transaction,
};

/// Why purchase orders cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The partner, its outbound channel or its mapping is not configured.
    #[error("{0}")]
    Config(String),
    /// A document cannot be rendered (nothing was queued).
    #[error("{0}")]
    Render(String),
    /// A document is another order under a PO number already sent
    /// (nothing was queued).
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A document queued for a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// Its type.
    pub document: DocumentType,
    /// What it is known by: a purchase order's PO number, a remittance's
    /// trace number.
    pub number: String,
    /// The file name it is delivered under.
    pub name: String,
    /// The channel.
    pub channel: String,
    /// It was queued before (the same order sent again): not queued again,
    /// and these are the name and channel of the first time.
    pub repeat: bool,
}

fn plain(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// JSON written with the keys of every object in order, so that the same
/// value gives the same text (and hash) however its keys were ordered.
fn canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    canonical(v, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// SHA-256 (hex) of a JSON value, whatever the order of its keys.
pub fn content_sha256(value: &serde_json::Value) -> String {
    let mut text = String::new();
    canonical(value, &mut text);
    sha256_hex(text.as_bytes())
}

/// What makes an order the same as another: its PO number, its purpose
/// and its content (without `source`).
struct Identity {
    po_number: String,
    purpose: String,
    sha256: String,
}

impl Identity {
    fn of(doc: &serde_json::Value) -> Identity {
        let mut content = doc.clone();
        if let Some(map) = content.as_object_mut() {
            map.remove("source");
        }
        Identity {
            po_number: doc
                .get("po_number")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            purpose: doc
                .get("purpose")
                .and_then(|v| v.as_str())
                .unwrap_or("original")
                .to_string(),
            sha256: content_sha256(&content),
        }
    }
}

/// A way of queueing documents for a partner: [`queue_orders`] or
/// [`queue_documents`].
pub type Queue = fn(
    &Config,
    &Library,
    &mut dyn Store,
    &str,
    &[serde_json::Value],
    &str,
) -> Result<Vec<Queued>, SendError>;

/// Renders purchase orders for `partner` and queues them (as
/// [`queue_documents`], refusing any other document).
pub fn queue_orders(
    config: &Config,
    library: &Library,
    store: &mut dyn Store,
    partner_id: &str,
    docs: &[serde_json::Value],
    source: &str,
) -> Result<Vec<Queued>, SendError> {
    for d in docs {
        let t = document_type(d)?;
        if t != DocumentType::PurchaseOrder {
            return Err(SendError::Render(format!(
                "a {t} is not a purchase order: send it with `dropgate send` (POST /v1/documents)"
            )));
        }
    }
    queue_documents(config, library, store, partner_id, docs, source)
}

/// The type of a document to send, as its `"type"` says (a purchase
/// order when it says none): a purchase order (a change or cancellation
/// of one is a purchase order with its `purpose`), a remittance or a
/// return.
pub fn document_type(doc: &serde_json::Value) -> Result<DocumentType, SendError> {
    let name = doc
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("purchase_order");
    match DocumentType::from_name(name) {
        Some(
            t @ (DocumentType::PurchaseOrder
            | DocumentType::Remittance
            | DocumentType::ReturnAuthorization),
        ) => Ok(t),
        Some(t) => Err(SendError::Render(format!(
            "a {t} is not sent to partners: send purchase orders (\"type\": \"purchase_order\", changes and cancellations with their \"purpose\"), remittances (\"remittance\") or returns (\"return_authorization\")"
        ))),
        None => Err(SendError::Render(format!(
            "\"type\": {name:?} is not a document type"
        ))),
    }
}

/// Where and how a partner's documents go: its outbound channel, the
/// format, and for X12 the envelope's parties.
struct Route<'a> {
    channel: &'a str,
    format: String,
    flavor: Flavor,
    parties: Option<Parties>,
    /// Changes and cancellations of orders go as 860s.
    changes_as_860: bool,
}

fn route<'a>(config: &'a Config, partner_id: &str) -> Result<Route<'a>, SendError> {
    let partner = config
        .partner(partner_id)
        .ok_or_else(|| SendError::Config(format!("there is no partner {partner_id:?}")))?;
    let outbound = partner.outbound.as_ref().ok_or_else(|| {
        SendError::Config(format!(
            "partner {partner_id} has no [outbound] channel to send documents on"
        ))
    })?;
    let format = match (&outbound.format, &partner.x12) {
        (Some(f), _) => f.clone(),
        (None, Some(_)) => "x12".to_string(),
        (None, None) => {
            return Err(SendError::Config(format!(
                "partner {partner_id}: say the format of its documents in [outbound] format = \"x12\", \"csv\" or \"xml\""
            )));
        }
    };
    let flavor = match format.as_str() {
        "x12" => Flavor::X12,
        "csv" => Flavor::Csv,
        "xml" => Flavor::Xml,
        other => return Err(SendError::Config(format!("[outbound] format {other:?}"))),
    };
    let parties = match flavor {
        Flavor::X12 => {
            let ours = config.x12.as_ref().ok_or_else(|| {
                SendError::Config(
                    "X12 documents need our own identity: add [x12] interchange_id = \"ZZ:...\" to the gateway's configuration".into(),
                )
            })?;
            let theirs = partner.x12.as_ref().ok_or_else(|| {
                SendError::Config(format!(
                    "partner {partner_id} has no [x12] interchange_id to send X12 to"
                ))
            })?;
            let (Some((sq, sid)), Some((rq, rid))) =
                (ours.qualifier_and_id(), theirs.qualifier_and_id())
            else {
                return Err(SendError::Config(
                    "an interchange_id is not QUALIFIER:ID".into(),
                ));
            };
            Some(Parties {
                sender: (sq.to_string(), sid.to_string()),
                receiver: (rq.to_string(), rid.to_string()),
                application_sender: ours
                    .application_id
                    .clone()
                    .unwrap_or_else(|| sid.to_string()),
                application_receiver: theirs
                    .application_id
                    .clone()
                    .unwrap_or_else(|| rid.to_string()),
            })
        }
        _ => None,
    };
    Ok(Route {
        channel: &outbound.channel,
        changes_as_860: flavor == Flavor::X12 && outbound.changes == ChangesAs::PoChange,
        format,
        flavor,
        parties,
    })
}

/// The outbound mapping of each document type, compiled when first
/// needed: the partner's `[outbound] mapping` for its purchase orders,
/// else the library's choice ([`Library::outbound_for`]).
fn mapping_for<'m>(
    mappings: &'m mut HashMap<DocumentType, OutboundMapping>,
    config: &Config,
    library: &Library,
    partner_id: &str,
    document: DocumentType,
    flavor: Flavor,
) -> Result<&'m OutboundMapping, SendError> {
    use std::collections::hash_map::Entry;
    match mappings.entry(document) {
        Entry::Occupied(e) => Ok(e.into_mut()),
        Entry::Vacant(e) => {
            let configured = config
                .partner(partner_id)
                .and_then(|p| p.outbound.as_ref())
                .and_then(|o| o.mapping.as_ref())
                .filter(|_| document == DocumentType::PurchaseOrder);
            let loaded = match configured {
                Some(m) => library.load(m),
                None => library.outbound_for(partner_id, document, flavor),
            }
            .map_err(|e| SendError::Config(format!("partner {partner_id}: {e}")))?;
            let compiled =
                OutboundMapping::compile(&loaded).map_err(|e| SendError::Config(e.to_string()))?;
            Ok(e.insert(compiled))
        }
    }
}

/// Renders `docs` (purchase orders and remittances) for `partner` and
/// queues them; nothing is queued unless every document renders and none
/// is another document under a number already sent. A document sent
/// before is not queued again (see the module's documentation).
pub fn queue_documents(
    config: &Config,
    library: &Library,
    store: &mut dyn Store,
    partner_id: &str,
    docs: &[serde_json::Value],
    source: &str,
) -> Result<Vec<Queued>, SendError> {
    let route = route(config, partner_id)?;
    let types = docs
        .iter()
        .map(document_type)
        .collect::<Result<Vec<_>, _>>()?;
    // Every mapping needed, compiled before anything is queued: a change
    // of an order sent as an 860 is rendered with the 860's.
    let mut mappings = HashMap::new();
    for (doc, t) in docs.iter().zip(&types) {
        let render_as =
            if *t == DocumentType::PurchaseOrder && route.changes_as_860 && is_change(doc) {
                DocumentType::PoChange
            } else {
                *t
            };
        mapping_for(
            &mut mappings,
            config,
            library,
            partner_id,
            render_as,
            route.flavor,
        )?;
    }
    let mappings = mappings;
    let mapping = |t: DocumentType| {
        mappings
            .get(&t)
            .ok_or_else(|| SendError::Config(format!("no mapping of {t}")))
    };
    let timestamp = chrono::Local::now().naive_local();
    let mut deliveries = Vec::with_capacity(docs.len());
    let mut queued = Vec::with_capacity(docs.len());
    // Everything in one transaction: the documents are all queued, with
    // their control numbers, or none is (dropped on an error, it rolls
    // back). Rendering runs in it; nothing goes over the network.
    let mut tx = store.transaction(Durability::Synced)?;
    let result = (|| -> Result<Vec<Queued>, SendError> {
        for (doc, document) in docs.iter().zip(types) {
            let out = Out {
                route: &route,
                partner_id,
                source,
                timestamp,
            };
            let (q, delivery) = match document {
                DocumentType::Remittance => {
                    let trace = check_remittance(doc)?;
                    queue_once(tx.as_mut(), &out, mapping(document)?, doc, document, &trace)?
                }
                DocumentType::ReturnAuthorization => {
                    let rma = doc
                        .get("rma_number")
                        .and_then(|v| v.as_str())
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .ok_or_else(|| SendError::Render("the return has no rma_number".into()))?
                        .to_string();
                    queue_once(tx.as_mut(), &out, mapping(document)?, doc, document, &rma)?
                }
                _ if route.changes_as_860 && is_change(doc) => queue_order(
                    tx.as_mut(),
                    &out,
                    mapping(DocumentType::PoChange)?,
                    doc,
                    true,
                )?,
                _ => queue_order(tx.as_mut(), &out, mapping(document)?, doc, false)?,
            };
            deliveries.extend(delivery);
            queued.push(q);
        }
        tx.queue(&deliveries)?;
        Ok(queued)
    })();
    let queued = result?;
    tx.commit()?;
    Ok(queued)
}

/// Whether a purchase order is a change or a cancellation of one sent.
fn is_change(doc: &serde_json::Value) -> bool {
    matches!(
        doc.get("purpose").and_then(|p| p.as_str()),
        Some("change" | "cancel")
    )
}

/// Where, for whom and when documents are rendered.
struct Out<'a> {
    route: &'a Route<'a>,
    partner_id: &'a str,
    source: &'a str,
    timestamp: chrono::NaiveDateTime,
}

/// Renders one document with the partner's next control numbers: its
/// bytes, its control number, and the group's.
fn render(
    tx: &mut dyn Transaction,
    out: &Out<'_>,
    mapping: &OutboundMapping,
    doc: &serde_json::Value,
) -> Result<(Vec<u8>, u32, u32), SendError> {
    // The partner's own sequences, shared with its acknowledgments.
    let (n, group) = super::ack::take_envelope_numbers(tx, out.partner_id, 1, 1)?;
    let options = RenderOptions {
        control_number: n,
        group_control_number: group,
        timestamp: out.timestamp,
        parties: out.route.parties.clone(),
    };
    let mut bytes = Vec::new();
    mapping
        .render(doc, out.source, &options, &mut bytes)
        .map_err(|e| SendError::Render(e.to_string()))?;
    Ok((bytes, n, group))
}

/// The file name of a document: `PARTNER-KIND-NUMBER-CONTROL.EXT`.
fn file_name(route: &Route<'_>, partner_id: &str, kind: &str, number: &str, n: u32) -> String {
    let extension = if route.flavor == Flavor::X12 {
        "edi"
    } else {
        route.format.as_str()
    };
    format!("{partner_id}-{kind}-{}-{n:09}.{extension}", plain(number))
}

/// A purchase order: sent once per PO number (an original) or per
/// content (a change), recorded as an order sent. With `as_860`, a change
/// or cancellation is rendered as the 860 that turns the order last sent
/// into this one (`PoChange::between`), with `mapping` (the 860's).
fn queue_order(
    tx: &mut dyn Transaction,
    out: &Out<'_>,
    mapping: &OutboundMapping,
    doc: &serde_json::Value,
    as_860: bool,
) -> Result<(Queued, Option<NewDelivery>), SendError> {
    let partner_id = out.partner_id;
    let identity = Identity::of(doc);
    let po_number = identity.po_number.clone();
    // An order without a number cannot be told from another.
    let earlier = if po_number.is_empty() {
        None
    } else {
        tx.sent_order(partner_id, &po_number, &identity.purpose, &identity.sha256)?
    };
    if let Some(earlier) = earlier {
        if earlier.sha256 != identity.sha256 {
            return Err(SendError::Conflict(format!(
                "purchase order {po_number} was sent to {partner_id} before (as {}) with other content: to change it, send it with \"purpose\": \"change\"",
                earlier.name
            )));
        }
        return Ok((
            Queued {
                document: DocumentType::PurchaseOrder,
                number: po_number,
                name: earlier.name,
                channel: earlier.channel,
                repeat: true,
            },
            None,
        ));
    }
    let (bytes, n, group, kind) = if as_860 {
        let change = change_of(tx, partner_id, &po_number, doc)?;
        let (bytes, n, group) = render(tx, out, mapping, &change)?;
        (bytes, n, group, "po-change")
    } else {
        let (bytes, n, group) = render(tx, out, mapping, doc)?;
        (bytes, n, group, "po")
    };
    let name = file_name(out.route, partner_id, kind, &po_number, n);
    if !po_number.is_empty() {
        tx.record_order(&SentOrder {
            partner: partner_id.to_string(),
            po_number: po_number.clone(),
            purpose: identity.purpose,
            sha256: identity.sha256,
            name: name.clone(),
            channel: out.route.channel.to_string(),
            // What invoices that bill it are reconciled against (the
            // order as it is now, whichever set told the partner).
            document: Some(doc.to_string()),
            // What the partner's 997 names.
            group_control: (out.route.flavor == Flavor::X12).then_some(u64::from(group)),
        })?;
    }
    Ok((
        Queued {
            document: DocumentType::PurchaseOrder,
            number: po_number,
            name: name.clone(),
            channel: out.route.channel.to_string(),
            repeat: false,
        },
        Some(NewDelivery {
            target: out.route.channel.to_string(),
            key: format!("po:{partner_id}:{n}"),
            name,
            payload: bytes,
            payload_file: None,
        }),
    ))
}

/// The canonical 860 of a change or cancellation `doc`: what changed
/// since the order last sent under its number.
fn change_of(
    tx: &mut dyn Transaction,
    partner_id: &str,
    po_number: &str,
    doc: &serde_json::Value,
) -> Result<serde_json::Value, SendError> {
    let order = |value: serde_json::Value, what: &str| {
        let mut value = value;
        if let Some(map) = value.as_object_mut() {
            map.entry("source")
                .or_insert_with(|| serde_json::json!({ "format": "json" }));
            map.entry("type")
                .or_insert_with(|| serde_json::json!("purchase_order"));
        }
        match serde_json::from_value(value) {
            Ok(crate::model::Document::PurchaseOrder(o)) => Ok(o),
            Ok(_) => Err(SendError::Render(format!("{what} is not a purchase order"))),
            Err(e) => Err(SendError::Render(format!("{what}: {e}"))),
        }
    };
    let sent = tx
        .last_order(partner_id, po_number)?
        .and_then(|o| o.document)
        .ok_or_else(|| {
            SendError::Render(format!(
                "purchase order {po_number} was never sent to {partner_id}: an 860 changes an order sent"
            ))
        })?;
    let sent: serde_json::Value = serde_json::from_str(&sent)
        .map_err(|e| SendError::Render(format!("the order sent: {e}")))?;
    let sent = order(sent, "the order sent")?;
    let now = order(doc.clone(), "the change")?;
    let change = crate::model::PoChange::between(&sent, &now)
        .map_err(|e| SendError::Render(format!("purchase order {po_number}: {e}")))?;
    serde_json::to_value(crate::model::Document::PoChange(change))
        .map_err(|e| SendError::Render(e.to_string()))
}

/// Checks a remittance: its trace number, and that its amount is what it
/// pays on its invoices; gives the trace number.
fn check_remittance(doc: &serde_json::Value) -> Result<String, SendError> {
    let mut with_source = doc.clone();
    if let Some(map) = with_source.as_object_mut() {
        map.entry("source")
            .or_insert_with(|| serde_json::json!({ "format": "json" }));
    }
    let remittance = match serde_json::from_value(with_source) {
        Ok(crate::model::Document::Remittance(r)) => r,
        Ok(other) => {
            return Err(SendError::Render(format!(
                "a {} is not a remittance",
                other.document_type()
            )));
        }
        Err(e) => return Err(SendError::Render(format!("the remittance: {e}"))),
    };
    let trace = remittance.trace_number.trim().to_string();
    if trace.is_empty() {
        return Err(SendError::Render(
            "the remittance has no trace_number".into(),
        ));
    }
    let paid = remittance.invoices_total();
    if remittance.amount.get() != paid {
        return Err(SendError::Render(format!(
            "remittance {trace}: its amount {} is not the sum of what it pays on its invoices ({paid})",
            remittance.amount.get()
        )));
    }
    Ok(trace)
}

/// A document sent once per its `number` (a remittance's trace number, a
/// return's RMA number): the same content again is a repeat, other
/// content under the same number a conflict. What was sent is kept with
/// the kept answers under `TYPE:PARTNER:NUMBER`.
fn queue_once(
    tx: &mut dyn Transaction,
    out: &Out<'_>,
    mapping: &OutboundMapping,
    doc: &serde_json::Value,
    document: DocumentType,
    number: &str,
) -> Result<(Queued, Option<NewDelivery>), SendError> {
    let partner_id = out.partner_id;
    let kind = match document {
        DocumentType::Remittance => "remittance",
        _ => "return",
    };
    let mut content = doc.clone();
    if let Some(map) = content.as_object_mut() {
        map.remove("source");
    }
    let sha256 = content_sha256(&content);
    let key = format!("{kind}:{partner_id}:{number}");
    if let Some(kept) = tx.kept_answer(&key)? {
        let earlier: serde_json::Value = serde_json::from_str(&kept.body).unwrap_or_default();
        let text = |k: &str| {
            earlier
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        if kept.request_sha256 != sha256 {
            return Err(SendError::Conflict(format!(
                "{kind} {number} was sent to {partner_id} before (as {}) with other content: its number is its own",
                text("name")
            )));
        }
        return Ok((
            Queued {
                document,
                number: number.to_string(),
                name: text("name"),
                channel: text("channel"),
                repeat: true,
            },
            None,
        ));
    }
    let (bytes, n, _) = render(tx, out, mapping, doc)?;
    let name = file_name(out.route, partner_id, kind, number, n);
    tx.keep_answer(
        &key,
        &KeptAnswer {
            request_sha256: sha256,
            status: 202,
            body: serde_json::json!({ "name": name, "channel": out.route.channel }).to_string(),
        },
    )?;
    Ok((
        Queued {
            document,
            number: number.to_string(),
            name: name.clone(),
            channel: out.route.channel.to_string(),
            repeat: false,
        },
        Some(NewDelivery {
            target: out.route.channel.to_string(),
            key: format!("{kind}:{partner_id}:{n}"),
            name,
            payload: bytes,
            payload_file: None,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_of_an_order_is_the_same_whatever_the_order_of_its_keys() {
        let a: serde_json::Value = serde_json::from_str(
            r#"{"po_number": "1", "lines": [{"sku": "A", "quantity": 2}], "source": {"file_name": "x"}}"#,
        )
        .expect("JSON");
        let b: serde_json::Value =
            serde_json::from_str(r#"{"lines": [{"quantity": 2, "sku": "A"}], "po_number": "1"}"#)
                .expect("JSON");
        let c: serde_json::Value = serde_json::from_str(
            r#"{"lines": [{"quantity": 3, "sku": "A"}], "po_number": "1", "purpose": "change"}"#,
        )
        .expect("JSON");
        let (a, b, c) = (Identity::of(&a), Identity::of(&b), Identity::of(&c));
        assert_eq!(a.sha256, b.sha256, "keys in another order, and no source");
        assert_ne!(b.sha256, c.sha256);
        assert_eq!(
            (a.po_number.as_str(), a.purpose.as_str()),
            ("1", "original")
        );
        assert_eq!(c.purpose, "change");
    }
}
