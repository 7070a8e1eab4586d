//! Purchase orders out: a canonical purchase order is rendered in the
//! partner's format (X12 850 with the gateway's and the partner's IDs and a
//! fresh control number from the partner's sequence, or the partner's CSV
//! or XML), queued in the outbox for the partner's outbound channel, and
//! delivered at once when the channel takes it, later otherwise.
//!
//! An order is sent once. The same partner and PO number are the same
//! order: an original (`purpose` absent or `original`) sent again with the
//! same content is a repeat, not queued again (it is answered with what
//! was queued the first time), and with other content a conflict, refused.
//! A message about an order already sent (`purpose` `change`, `cancel` or
//! `duplicate`) is sent once per content: a different change is sent, the
//! same change again is a repeat. The content is the order's JSON without
//! its `source`, whatever the order of its keys.

use crate::config::Gateway as Config;
use crate::format::Flavor;
use crate::mapping::outbound::{Parties, RenderOptions};
use crate::mapping::{Library, OutboundMapping};
use crate::store::archive::sha256_hex;
use crate::store::{Durability, NewDelivery, SentOrder, Store, StoreError};

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

/// A purchase order queued for a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// The PO number.
    pub po_number: String,
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

/// Renders `docs` for `partner` and queues them; nothing is queued unless
/// every document renders and none is another order under a PO number
/// already sent. An order sent before is not queued again (see the
/// module's documentation).
pub fn queue_orders(
    config: &Config,
    library: &Library,
    store: &mut dyn Store,
    partner_id: &str,
    docs: &[serde_json::Value],
    source: &str,
) -> Result<Vec<Queued>, SendError> {
    let partner = config
        .partner(partner_id)
        .ok_or_else(|| SendError::Config(format!("there is no partner {partner_id:?}")))?;
    let outbound = partner.outbound.as_ref().ok_or_else(|| {
        SendError::Config(format!(
            "partner {partner_id} has no [outbound] channel to send purchase orders on"
        ))
    })?;
    let format = match (&outbound.format, &partner.x12) {
        (Some(f), _) => f.clone(),
        (None, Some(_)) => "x12".to_string(),
        (None, None) => {
            return Err(SendError::Config(format!(
                "partner {partner_id}: say the format of its orders in [outbound] format = \"x12\", \"csv\" or \"xml\""
            )));
        }
    };
    let flavor = match format.as_str() {
        "x12" => Flavor::X12,
        "csv" => Flavor::Csv,
        "xml" => Flavor::Xml,
        other => return Err(SendError::Config(format!("[outbound] format {other:?}"))),
    };
    let loaded = match &outbound.mapping {
        Some(m) => library.load(m),
        None => library.orders_for(partner_id, flavor),
    }
    .map_err(|e| SendError::Config(format!("partner {partner_id}: {e}")))?;
    let mapping =
        OutboundMapping::compile(&loaded).map_err(|e| SendError::Config(e.to_string()))?;
    let parties = match flavor {
        Flavor::X12 => {
            let ours = config.x12.as_ref().ok_or_else(|| {
                SendError::Config(
                    "X12 orders need our own identity: add [x12] interchange_id = \"ZZ:...\" to the gateway's configuration".into(),
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
    let timestamp = chrono::Local::now().naive_local();
    let mut deliveries = Vec::with_capacity(docs.len());
    let mut queued = Vec::with_capacity(docs.len());
    // Everything in one transaction: the orders are all queued, with
    // their control numbers, or none is (dropped on an error, it rolls
    // back). Rendering runs in it; nothing goes over the network.
    let mut tx = store.transaction(Durability::Synced)?;
    let result = (|| {
        for doc in docs {
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
                queued.push(Queued {
                    po_number,
                    name: earlier.name,
                    channel: earlier.channel,
                    repeat: true,
                });
                continue;
            }
            // The partner's own sequences, shared with its acknowledgments.
            let (n, group) = super::ack::take_envelope_numbers(tx.as_mut(), partner_id, 1, 1)?;
            let options = RenderOptions {
                control_number: n,
                group_control_number: group,
                timestamp,
                parties: parties.clone(),
            };
            let mut out = Vec::new();
            mapping
                .render(doc, source, &options, &mut out)
                .map_err(|e| SendError::Render(e.to_string()))?;
            let extension = if flavor == Flavor::X12 {
                "edi"
            } else {
                format.as_str()
            };
            let name = format!("{partner_id}-po-{}-{n:09}.{extension}", plain(&po_number));
            if !po_number.is_empty() {
                tx.record_order(&SentOrder {
                    partner: partner_id.to_string(),
                    po_number: po_number.clone(),
                    purpose: identity.purpose,
                    sha256: identity.sha256,
                    name: name.clone(),
                    channel: outbound.channel.clone(),
                    // What invoices that bill it are reconciled against.
                    document: Some(doc.to_string()),
                    // What the partner's 997 names.
                    group_control: (flavor == Flavor::X12).then_some(u64::from(group)),
                })?;
            }
            deliveries.push(NewDelivery {
                target: outbound.channel.clone(),
                key: format!("po:{partner_id}:{n}"),
                name: name.clone(),
                payload: out,
                payload_file: None,
            });
            queued.push(Queued {
                po_number,
                name,
                channel: outbound.channel.clone(),
                repeat: false,
            });
        }
        tx.queue(&deliveries)?;
        Ok(queued)
    })();
    let queued = result?;
    tx.commit()?;
    Ok(queued)
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
