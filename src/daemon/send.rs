//! Purchase orders out: a canonical purchase order is rendered in the
//! partner's format (X12 850 with the gateway's and the partner's IDs and a
//! fresh control number from the partner's sequence, or the partner's CSV
//! or XML), queued in the outbox for the partner's outbound channel, and
//! delivered at once when the channel takes it, later otherwise.

use crate::config::Gateway as Config;
use crate::format::Flavor;
use crate::mapping::library::Direction;
use crate::mapping::outbound::{Parties, RenderOptions};
use crate::mapping::{Library, OutboundMapping};
use crate::store::{NewDelivery, Store, StoreError};

/// Why purchase orders cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The partner, its outbound channel or its mapping is not configured.
    #[error("{0}")]
    Config(String),
    /// A document cannot be rendered (nothing was queued).
    #[error("{0}")]
    Render(String),
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
}

/// The level name of the sequence purchase orders are numbered from.
const PO: &str = "po";

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

/// Renders `docs` for `partner` and queues them; nothing is queued unless
/// every document renders.
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
        None => library
            .for_partner(partner_id, Direction::Outbound, Some(flavor))
            .or_else(|e| match flavor {
                Flavor::X12 => library.load("outbound/x12-850"),
                _ => Err(e),
            }),
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
    store.begin_batch()?;
    let result = (|| {
        for doc in docs {
            let po_number = doc
                .get("po_number")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let n = store.take_control_numbers(partner_id, PO, 1)?;
            let options = RenderOptions {
                control_number: n,
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
            deliveries.push(NewDelivery {
                target: outbound.channel.clone(),
                key: format!("po:{partner_id}:{n}"),
                name: format!("{partner_id}-po-{}-{n:09}.{extension}", plain(&po_number)),
                payload: out,
                payload_file: None,
            });
            queued.push(Queued {
                po_number,
                name: deliveries
                    .last()
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
                channel: outbound.channel.clone(),
            });
        }
        store.queue(&deliveries)?;
        Ok(queued)
    })();
    match result {
        Ok(q) => {
            store.commit_batch()?;
            Ok(q)
        }
        Err(e) => {
            store.rollback_batch();
            Err(e)
        }
    }
}
