//! The NetSuite flows in the gateway. A file whose partner has a NetSuite
//! flow turned on gets, beside its delivery to the relay, the same
//! delivery to the target `netsuite` ([`also_to_netsuite`]); a delivery
//! worker of its own takes those deliveries' documents to NetSuite one by
//! one, in the order received ([`NetSuiteRelay`]): a ship notice through
//! the fulfillment flow, an invoice through the vendor bill flow, any
//! other document passed over. Each document done is recorded before the
//! next starts, and each flow finds by its external ID what an earlier
//! attempt made, so a gateway killed in the middle makes nothing twice.

use std::ops::ControlFlow;

use serde_json::Value;

use crate::config::Gateway as Config;
use crate::mapping::Library;
use crate::model::DocumentType;
use crate::netsuite::client::Client;
use crate::netsuite::flows::{self, FlowError, Flows};
use crate::relay::{Blocking, DocumentRelay, Documents, Ending, RelayError, SetAsideDocument};
use crate::store::NewDelivery;

/// The outbox target of deliveries to NetSuite.
pub const TARGET: &str = "netsuite";

/// Whether documents of `partner` go to NetSuite at all.
pub fn takes_partner(config: &Config, partner: Option<&str>) -> bool {
    let Some(netsuite) = &config.netsuite else {
        return false;
    };
    let own = partner
        .and_then(|p| config.partner(p))
        .and_then(|p| p.netsuite.as_ref());
    netsuite.takes_any(own)
}

/// For each delivery to the relay in `deliveries`, the same delivery to
/// NetSuite (key `netsuite:…` for `relay:…`), when a NetSuite flow is on
/// for `partner`.
pub fn also_to_netsuite(config: &Config, partner: Option<&str>, deliveries: &mut Vec<NewDelivery>) {
    if !takes_partner(config, partner) {
        return;
    }
    let copies: Vec<NewDelivery> = deliveries
        .iter()
        .filter(|d| d.target == "relay")
        .map(|d| NewDelivery {
            target: TARGET.to_string(),
            key: format!(
                "{TARGET}:{}",
                d.key.strip_prefix("relay:").unwrap_or(&d.key)
            ),
            ..d.clone()
        })
        .collect();
    deliveries.extend(copies);
}

/// Takes documents to NetSuite through their flows.
pub struct NetSuiteRelay {
    config: Config,
    flows: Option<Flows>,
    blocking: Blocking,
}

impl std::fmt::Debug for NetSuiteRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSuiteRelay").finish_non_exhaustive()
    }
}

impl NetSuiteRelay {
    /// A relay for the account of `config`'s `[netsuite]`.
    pub fn new(config: &Config) -> NetSuiteRelay {
        NetSuiteRelay {
            config: config.clone(),
            flows: None,
            blocking: Blocking::default(),
        }
    }

    fn flows(&mut self) -> Result<Flows, RelayError> {
        if let Some(f) = &self.flows {
            return Ok(f.clone());
        }
        let netsuite = self.config.netsuite.as_ref().ok_or_else(|| {
            RelayError("there is no [netsuite] in the configuration any more".into())
        })?;
        let settings = netsuite
            .client_config()
            .map_err(|e| RelayError(e.to_string()))?;
        let client = Client::new(settings).map_err(|e| RelayError(e.to_string()))?;
        let library = match &self.config.gateway.mappings {
            Some(dir) => Library::with_dir(dir).map_err(|e| RelayError(e.to_string()))?,
            None => Library::embedded(),
        };
        let flows = Flows::new(client, library).map_err(|e| RelayError(e.to_string()))?;
        self.flows = Some(flows.clone());
        Ok(flows)
    }
}

/// What became of one document.
enum Done {
    /// Its records are in NetSuite (made now or before), or it is not for
    /// NetSuite.
    Applied(String),
    /// Not taken: its type has no flow, or the flow is off for its partner.
    Passed,
}

async fn apply(config: &Config, flows: &Flows, json: &Value) -> Result<Done, FlowError> {
    let doc_type = json
        .get("type")
        .and_then(Value::as_str)
        .and_then(DocumentType::from_name);
    let partner = json
        .get("source")
        .and_then(|s| s.get("partner"))
        .and_then(Value::as_str);
    let own = partner
        .and_then(|p| config.partner(p))
        .and_then(|p| p.netsuite.as_ref());
    let (Some(doc_type), Some(netsuite)) = (doc_type, &config.netsuite) else {
        return Ok(Done::Passed);
    };
    if !netsuite.takes(doc_type, own) {
        return Ok(Done::Passed);
    }
    let partner = partner.unwrap_or("unknown");
    let vendor = own.and_then(|o| o.vendor.as_deref());
    let made = match doc_type {
        DocumentType::ShipNotice => flows::fulfillment::apply(flows, partner, vendor, json).await?,
        DocumentType::Invoice => vec![flows::bill::apply(flows, partner, vendor, json).await?],
        _ => return Ok(Done::Passed),
    };
    let said: Vec<String> = made
        .iter()
        .map(|a| {
            format!(
                "{} {} ({}{})",
                a.record_type,
                a.id,
                a.external_id,
                if a.created { "" } else { ", made before" }
            )
        })
        .collect();
    Ok(Done::Applied(said.join(", ")))
}

impl DocumentRelay for NetSuiteRelay {
    fn deliver(
        &mut self,
        key: &str,
        lines: &mut dyn std::io::BufRead,
        start: u64,
        acknowledged: &mut dyn FnMut(u64, Option<SetAsideDocument<'_>>) -> ControlFlow<()>,
    ) -> Ending {
        let flows = match self.flows() {
            Ok(f) => f,
            Err(e) => return Ending::Failed(e),
        };
        let config = &self.config;
        let work = async move {
            let mut documents = Documents::new(lines);
            loop {
                let (index, doc) = match documents.next_from(start) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Ending::Made,
                    Err(e) => return Ending::Failed(e),
                };
                let json: Value = match serde_json::from_slice(doc) {
                    Ok(v) => v,
                    Err(e) => {
                        return Ending::Failed(RelayError(format!(
                            "{key}: document {index} is not JSON: {e}"
                        )));
                    }
                };
                let reason = match apply(config, &flows, &json).await {
                    Ok(Done::Applied(what)) => {
                        tracing::info!(delivery = %key, document = index, made = %what, "NetSuite");
                        None
                    }
                    Ok(Done::Passed) => None,
                    // The data is wrong, or does not fit what NetSuite
                    // holds: the same request would be refused again. It
                    // waits for a person; the documents after it go on.
                    Err(e) if e.needs_attention() => {
                        tracing::warn!(delivery = %key, document = index, error = %e, "NetSuite: set aside for a person");
                        Some(e.to_string())
                    }
                    Err(e) => {
                        return Ending::Failed(RelayError(format!(
                            "NetSuite, document {index}: {e}"
                        )));
                    }
                };
                let set_aside = reason.as_deref().map(|reason| SetAsideDocument {
                    reason,
                    document: doc,
                });
                if acknowledged(index + 1, set_aside).is_break() {
                    return Ending::Stopped;
                }
            }
        };
        self.blocking.run(work).unwrap_or_else(Ending::Failed)
    }
}

/// Queues set-aside documents again (those numbered `ids`, or every one
/// waiting when `ids` is empty), each as a delivery of its own to its
/// target, in one transaction; the file's audit trail says who retried
/// it. A retry that is refused again is set aside again, under a new
/// number. Returns what was queued.
pub fn retry_set_aside(
    store: &mut dyn crate::store::Store,
    ids: &[i64],
    by: &str,
) -> Result<Vec<crate::store::SetAside>, crate::store::StoreError> {
    let mut tx = store.transaction(crate::store::Durability::Synced)?;
    let ids: Vec<i64> = if ids.is_empty() {
        tx.set_aside()?.iter().map(|s| s.id).collect()
    } else {
        ids.to_vec()
    };
    let mut queued = Vec::new();
    for id in ids {
        let Some(aside) = tx.take_set_aside(id)? else {
            continue;
        };
        let mut payload = aside.document.clone().into_bytes();
        payload.push(b'\n');
        tx.queue(&[NewDelivery {
            target: aside.target.clone(),
            key: format!("{}:retry:{}:{}", aside.target, aside.id, aside.retries + 1),
            name: format!("set-aside-{}-retry-{}.jsonl", aside.id, aside.retries + 1),
            payload,
            payload_file: None,
        }])?;
        if let Some(file) = aside.file_id {
            tx.audit(
                file,
                "retried",
                &format!(
                    "document {} (set aside {}) queued for {} again by {by}",
                    aside.seq, aside.id, aside.target
                ),
            )?;
        }
        queued.push(aside);
    }
    tx.commit()?;
    Ok(queued)
}

/// One line about a set-aside document: its number, what it is, where
/// it came from, why.
pub fn describe(a: &crate::store::SetAside) -> String {
    let json: Value = serde_json::from_str(&a.document).unwrap_or(Value::Null);
    let kind = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("document");
    let number = ["asn_number", "invoice_number", "po_number"]
        .iter()
        .find_map(|k| json.get(*k).and_then(Value::as_str))
        .unwrap_or("?");
    let file = a
        .file_id
        .map(|f| format!(", file {f} document {}", a.seq))
        .unwrap_or_default();
    let retried = if a.retries > 0 {
        format!(", retried {} time(s)", a.retries)
    } else {
        String::new()
    };
    format!(
        "{:>5}  {kind} {number} to {} ({}{file}{retried}): {}",
        a.id, a.target, a.at, a.reason
    )
}
