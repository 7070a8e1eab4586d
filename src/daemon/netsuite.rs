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

/// The account's flows for `config`: its client and the mappings.
pub fn flows_of(config: &Config) -> Result<Flows, RelayError> {
    let netsuite = config
        .netsuite
        .as_ref()
        .ok_or_else(|| RelayError("there is no [netsuite] in the configuration any more".into()))?;
    let settings = netsuite
        .client_config()
        .map_err(|e| RelayError(e.to_string()))?;
    let client = Client::new(settings).map_err(|e| RelayError(e.to_string()))?;
    let library = library_of(config)?;
    Flows::new(client, library).map_err(|e| RelayError(e.to_string()))
}

fn library_of(config: &Config) -> Result<Library, RelayError> {
    match &config.gateway.mappings {
        Some(dir) => Library::with_dir(dir).map_err(|e| RelayError(e.to_string())),
        None => Ok(Library::embedded()),
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
        let flows = flows_of(&self.config)?;
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
        DocumentType::PoAck => vec![flows::ack::apply(flows, partner, vendor, json).await?],
        DocumentType::InventoryAdvice => {
            vec![flows::inventory::apply(flows, partner, &netsuite.inventory, json).await?]
        }
        _ => return Ok(Done::Passed),
    };
    let said: Vec<String> = made
        .iter()
        .map(|a| {
            let eid = a
                .external_id
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            let how = if a.created { "" } else { ", made before" };
            format!("{} {}{eid}{how}", a.record_type, a.id)
        })
        .collect();
    Ok(Done::Applied(said.join(", ")))
}

/// The purchase orders a document is about: two documents about one
/// order are never applied side by side (a second ship notice reads what
/// the first fulfilled).
fn orders_of(json: &Value) -> Vec<String> {
    let mut out: Vec<String> = json
        .get("orders")
        .and_then(Value::as_array)
        .map(|orders| {
            orders
                .iter()
                .filter_map(|o| o.get("po_number").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(po) = json.get("po_number").and_then(Value::as_str) {
        out.push(po.to_string());
    }
    out
}

/// A document read for a wave: its index, its text, its JSON.
struct Read {
    index: u64,
    text: Vec<u8>,
    json: Value,
}

impl DocumentRelay for NetSuiteRelay {
    /// The documents go in waves of at most `[netsuite] concurrency`,
    /// applied side by side, none two about one purchase order; each
    /// wave's documents are acknowledged in order. A transient failure
    /// ends the delivery at its document (those after it in the wave,
    /// done or not, are done again next time, and find what they made).
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
            let width = flows.client.limit().await;
            let mut documents = Documents::new(lines);
            let mut carried: Option<(Read, Vec<String>)> = None;
            loop {
                let mut wave: Vec<Read> = Vec::new();
                let mut orders: Vec<String> = Vec::new();
                if let Some((read, its)) = carried.take() {
                    orders.extend(its);
                    wave.push(read);
                }
                while wave.len() < width {
                    let (index, doc) = match documents.next_from(start) {
                        Ok(Some(d)) => d,
                        Ok(None) => break,
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
                    let read = Read {
                        index,
                        text: doc.to_vec(),
                        json,
                    };
                    let its = orders_of(&read.json);
                    if its.iter().any(|o| orders.contains(o)) {
                        carried = Some((read, its));
                        break;
                    }
                    orders.extend(its);
                    wave.push(read);
                }
                if wave.is_empty() {
                    return Ending::Made;
                }
                let results =
                    futures::future::join_all(wave.iter().map(|r| apply(config, &flows, &r.json)))
                        .await;
                for (read, result) in wave.iter().zip(results) {
                    let index = read.index;
                    let reason = match result {
                        Ok(Done::Applied(what)) => {
                            tracing::info!(delivery = %key, document = index, made = %what, "NetSuite");
                            None
                        }
                        Ok(Done::Passed) => None,
                        // The data is wrong, or does not fit what NetSuite
                        // holds: the same request would be refused again.
                        // It waits for a person; the documents after it go
                        // on.
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
                        document: &read.text,
                    });
                    if acknowledged(index + 1, set_aside).is_break() {
                        return Ending::Stopped;
                    }
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
    let number = ["asn_number", "invoice_number", "po_number", "report_id"]
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

/// The name of the purchase-order poll's cursor in the store.
pub const ORDERS_CURSOR: &str = "netsuite:orders";

/// What a poll of NetSuite's purchase orders did.
#[derive(Debug, Default)]
pub struct Pulled {
    /// Orders queued for their vendor (new ones, changes, cancellations).
    pub queued: Vec<String>,
    /// Orders seen again unchanged (sent before).
    pub unchanged: u64,
    /// Orders marked sent in NetSuite.
    pub marked: u64,
    /// Orders that could not be sent, and why (each is tried again at the
    /// next poll, for the cursor stays before it).
    pub errors: Vec<String>,
}

/// Why a poll could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No `[netsuite]`, or its client cannot start.
    #[error("{0}")]
    Config(String),
    /// NetSuite did not answer the query.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// One poll of NetSuite's purchase orders: those of the partners whose
/// `[netsuite] vendor` sends them orders, changed since the cursor, each
/// read, mapped, queued for the partner in its format and on its channel
/// (as `send-po` does: an order already sent with this content is not
/// sent again, a changed one goes again whole as a replacement, one whose lines are all
/// closed as a cancellation), then marked sent in NetSuite; the cursor
/// moves past the orders done, and stops before the first that failed.
pub fn pull_orders(
    config: &Config,
    library: &Library,
    store: &mut dyn crate::store::Store,
    flows: &Flows,
    blocking: &mut Blocking,
) -> Result<Pulled, PullError> {
    let Some(netsuite) = &config.netsuite else {
        return Err(PullError::Config(
            "there is no [netsuite] in the configuration".into(),
        ));
    };
    // Vendor → partner.
    let vendors: Vec<(String, String)> = config
        .partners
        .iter()
        .filter_map(|p| {
            let own = p.netsuite.as_ref()?;
            own.sends_orders(&netsuite.flows)
                .then(|| Some((own.vendor.clone()?, p.id.clone())))?
        })
        .collect();
    let mut pulled = Pulled::default();
    if vendors.is_empty() {
        return Ok(pulled);
    }
    let since = store.cursor(ORDERS_CURSOR)?;
    let ids: Vec<&str> = vendors.iter().map(|(v, _)| v.as_str()).collect();
    let changed = blocking
        .run(flows::orders::changed_since(
            flows,
            &ids,
            since.as_deref(),
            1000,
        ))
        .map_err(|e| PullError::Config(e.to_string()))??;
    let mut cursor = since;
    for c in changed {
        let Some((_, partner)) = vendors.iter().find(|(v, _)| *v == c.vendor) else {
            continue;
        };
        match pull_one(
            config,
            library,
            store,
            flows,
            blocking,
            &c,
            partner,
            &mut pulled,
        ) {
            Ok(()) => cursor = Some(c.modified.clone()),
            Err(e) => {
                pulled
                    .errors
                    .push(format!("purchase order {} ({}): {e}", c.po_number, c.id));
                break;
            }
        }
    }
    if let Some(c) = cursor {
        store.atomically(crate::store::Durability::Synced, |tx| {
            tx.set_cursor(ORDERS_CURSOR, &c)
        })?;
    }
    Ok(pulled)
}

#[allow(clippy::too_many_arguments)]
fn pull_one(
    config: &Config,
    library: &Library,
    store: &mut dyn crate::store::Store,
    flows: &Flows,
    blocking: &mut Blocking,
    c: &flows::orders::Changed,
    partner: &str,
    pulled: &mut Pulled,
) -> Result<(), PullError> {
    let read = blocking
        .run(flows::orders::read(flows, &c.id, partner))
        .map_err(|e| PullError::Config(e.to_string()))??;
    let mut order = serde_json::to_value(crate::model::Document::PurchaseOrder(read.order.clone()))
        .map_err(|e| PullError::Config(format!("purchase order {}: {e}", c.po_number)))?;
    let last = store.last_order(partner, &read.order.po_number)?;
    let purpose = match &last {
        None if read.order.lines.is_empty() => None,
        None => Some("original"),
        Some(last) => {
            // The same content under the last message's purpose is the
            // order as sent.
            let mut same = order.clone();
            same["purpose"] = Value::String(last.purpose.clone());
            if let Some(m) = same.as_object_mut() {
                m.remove("source");
            }
            if super::send::content_sha256(&same) == last.sha256 {
                pulled.unchanged += 1;
                None
            } else if read.order.lines.is_empty() {
                Some("cancel")
            } else {
                Some("replace")
            }
        }
    };
    if let Some(purpose) = purpose {
        // A cancellation names what it cancels: the order as last sent
        // (NetSuite's now has no open line left).
        if purpose == "cancel"
            && let Some(sent) = last
                .as_ref()
                .and_then(|l| l.document.as_deref())
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
        {
            order = sent;
        }
        order["purpose"] = Value::String(purpose.to_string());
        let queued = super::send::queue_orders(
            config,
            library,
            store,
            partner,
            std::slice::from_ref(&order),
            &format!("NetSuite purchase order {}", c.id),
        )
        .map_err(|e| PullError::Config(e.to_string()))?;
        for q in queued.iter().filter(|q| !q.repeat) {
            pulled.queued.push(format!(
                "{} ({purpose}) for {partner} on {}",
                q.number, q.channel
            ));
        }
    }
    if read.order.lines.is_empty() && last.is_none() {
        return Ok(());
    }
    let marked = blocking
        .run(flows::orders::mark_sent(flows, &c.id, &read.record, &order))
        .map_err(|e| PullError::Config(e.to_string()))??;
    if marked {
        pulled.marked += 1;
    }
    Ok(())
}

/// The daemon's poll of NetSuite's purchase orders, run by the delivery
/// worker of the target `netsuite` (so by one instance at a time, the
/// holder of that target's lease) every `[netsuite] poll_secs`.
pub struct OrderPoller {
    parts: Option<(Flows, Library)>,
    blocking: Blocking,
    next: std::time::Instant,
}

impl Default for OrderPoller {
    fn default() -> Self {
        OrderPoller {
            parts: None,
            blocking: Blocking::default(),
            next: std::time::Instant::now(),
        }
    }
}

impl OrderPoller {
    /// Whether some partner gets its orders from NetSuite.
    pub fn wanted(config: &Config) -> bool {
        config.netsuite.as_ref().is_some_and(|n| {
            config.partners.iter().any(|p| {
                p.netsuite
                    .as_ref()
                    .is_some_and(|o| o.sends_orders(&n.flows))
            })
        })
    }

    /// Polls when it is time; true when it queued something.
    pub fn poll_if_due(&mut self, config: &Config, store: &mut dyn crate::store::Store) -> bool {
        let Some(netsuite) = &config.netsuite else {
            return false;
        };
        let now = std::time::Instant::now();
        if now < self.next || !Self::wanted(config) {
            return false;
        }
        self.next = now + std::time::Duration::from_secs(netsuite.poll_secs.max(1));
        if self.parts.is_none() {
            match flows_of(config).and_then(|f| Ok((f, library_of(config)?))) {
                Ok(parts) => self.parts = Some(parts),
                Err(e) => {
                    tracing::error!(error = %e, "NetSuite purchase orders: cannot start");
                    return false;
                }
            }
        }
        let Some((flows, library)) = &self.parts else {
            return false;
        };
        match pull_orders(config, library, store, flows, &mut self.blocking) {
            Ok(p) => {
                for q in &p.queued {
                    tracing::info!(order = %q, "NetSuite purchase order queued");
                }
                for e in &p.errors {
                    tracing::warn!(error = %e, "NetSuite purchase order not sent; tried again at the next poll");
                }
                !p.queued.is_empty()
            }
            Err(e) => {
                tracing::warn!(error = %e, "NetSuite purchase orders: the poll failed; tried again");
                false
            }
        }
    }
}
