//! The dropship loop's NetSuite side, one flow per document: a vendor's
//! ship notice becomes an item fulfillment on the sales order its purchase
//! order came from ([`fulfillment`]); a vendor's invoice becomes the
//! purchase order's vendor bill ([`bill`]); a vendor's acknowledgment
//! writes each line's answer onto the purchase order ([`ack`]); a
//! vendor's inventory report writes its quantities onto the items, a
//! batch a request, through the inventory RESTlet ([`inventory`]).
//!
//! Exactly once against a system that may time out after doing the work:
//! every record a flow creates carries a deterministic external ID (from
//! the partner, the document type and its number, [`external_id`]), and
//! every flow looks the record up by that ID before it writes. A retry
//! after a timeout, or after the gateway was killed in the middle, finds
//! the record the first attempt made instead of making a second one.
//!
//! What is looked up (the purchase order by its number, its sales order,
//! which order line each shipped or invoiced item is) is here, in code;
//! which NetSuite field gets what is data, in the mappings of
//! `mappings/netsuite/`: the purchase order read as a canonical one
//! (`netsuite/purchase_order`, inbound JSON) and the request bodies
//! (`netsuite/item_fulfillment`, `netsuite/vendor_bill`, outbound JSON),
//! which read the document and, under `netsuite/`, what was looked up.

pub mod ack;
pub mod bill;
pub mod fulfillment;
pub mod inventory;
pub mod lookup;
pub mod orders;

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::client::{Client, ExternalId};
use super::error::{ErrorClass, NetSuiteError};
use crate::mapping::MappingError;
use crate::mapping::library::Library;
use crate::mapping::outbound::OutboundMapping;

/// The mapping that reads a NetSuite purchase order.
pub const PURCHASE_ORDER_MAPPING: &str = "netsuite/purchase_order";
/// The mapping that writes an item fulfillment's transform body.
pub const FULFILLMENT_MAPPING: &str = "netsuite/item_fulfillment";
/// The mapping that writes a vendor bill's transform body.
pub const BILL_MAPPING: &str = "netsuite/vendor_bill";
/// The mapping that writes a vendor's acknowledgment onto its order.
pub const ACK_MAPPING: &str = "netsuite/po_ack";
/// The mapping that writes an inventory report's RESTlet body.
pub const INVENTORY_MAPPING: &str = "netsuite/inventory";
/// The mapping that writes what marks a purchase order sent.
pub const SENT_MAPPING: &str = "netsuite/purchase_order_sent";

/// A record a flow made, or found made already.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Its record type (`itemFulfillment`).
    pub record_type: &'static str,
    /// Its internal ID.
    pub id: String,
    /// The external ID dropgate gave it (none for a record it only
    /// updated).
    pub external_id: Option<ExternalId>,
    /// Made now (false: found, made by an earlier attempt).
    pub created: bool,
}

/// Why a flow did not make its record.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// NetSuite refused, or did not answer.
    #[error(transparent)]
    NetSuite(#[from] NetSuiteError),
    /// A mapping of `mappings/netsuite/` failed.
    #[error("mapping {mapping}: {source}")]
    Mapping {
        /// Its name.
        mapping: String,
        /// What failed.
        source: MappingError,
    },
    /// The document names a purchase order NetSuite does not have.
    #[error("NetSuite has no purchase order {po_number}{}", .vendor.as_ref().map(|v| format!(" from vendor {v}")).unwrap_or_default())]
    NoPurchaseOrder {
        /// The PO number the document gives.
        po_number: String,
        /// The vendor's internal ID, when the partner names one.
        vendor: Option<String>,
    },
    /// The document does not fit what NetSuite holds (an item not on the
    /// order, more than is left to ship or bill, no PO number).
    #[error("{0}")]
    Mismatch(String),
}

impl FlowError {
    /// Whether a person must look: the document or the mapping is wrong,
    /// or NetSuite refused the data; trying the same again gives the same
    /// answer. Otherwise (NetSuite busy, down, or its answer lost) the
    /// flow is tried again later.
    pub fn needs_attention(&self) -> bool {
        match self {
            FlowError::NetSuite(e) => e.class(true) == ErrorClass::Data,
            FlowError::Mapping { .. }
            | FlowError::NoPurchaseOrder { .. }
            | FlowError::Mismatch(_) => true,
        }
    }
}

/// A canonical document (its JSON, with its `type`) as the one type a
/// flow takes: `pick` returns the variant, `what` names it in the error.
pub(crate) fn document_as<T>(
    json: &serde_json::Value,
    what: &str,
    pick: impl FnOnce(crate::model::Document) -> Option<T>,
) -> Result<T, FlowError> {
    let doc: crate::model::Document = serde_json::from_value(json.clone())
        .map_err(|e| FlowError::Mismatch(format!("not a canonical {what}: {e}")))?;
    let kind = doc.document_type();
    pick(doc).ok_or_else(|| FlowError::Mismatch(format!("a {kind}, not a {what}")))
}

/// The longest external ID made; a longer one keeps its start and ends
/// in a hash of the whole.
const MAX_EXTERNAL_ID: usize = 96;

/// The external ID of what dropgate makes for a document: `prefix` and
/// the parts joined by `-`, each character NetSuite cannot take in a URL
/// (anything but letters, digits, `_` and `-`) as `_`. The same document
/// always gives the same ID; two documents give two IDs unless their
/// parts differ only in such characters (or past 96 characters, where a
/// hash of the whole ends the ID).
pub fn external_id(prefix: &str, parts: &[&str]) -> ExternalId {
    let whole = std::iter::once(prefix)
        .chain(parts.iter().copied())
        .collect::<Vec<_>>()
        .join("-");
    let mut id: String = whole
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.len() > MAX_EXTERNAL_ID {
        let hash: String = Sha256::digest(whole.as_bytes())[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        id.truncate(MAX_EXTERNAL_ID - hash.len() - 1);
        id.push('-');
        id.push_str(&hash);
    }
    match ExternalId::new(id) {
        Ok(id) => id,
        // Only letters, digits, `_` and `-` are left, and never nothing.
        Err(_) => unreachable!("an external ID made of allowed characters"),
    }
}

/// What the flows work with: the account's client and the mappings.
#[derive(Clone, Debug)]
pub struct Flows {
    /// The account.
    pub client: Client,
    /// The mappings (`mappings/netsuite/` among them).
    pub library: Library,
    bodies: Arc<HashMap<&'static str, OutboundMapping>>,
}

impl Flows {
    /// The flows of one account; the request-body mappings are compiled
    /// now, so that a broken one is found at start.
    pub fn new(client: Client, library: Library) -> Result<Flows, FlowError> {
        let mut bodies = HashMap::new();
        for name in [
            FULFILLMENT_MAPPING,
            BILL_MAPPING,
            ACK_MAPPING,
            INVENTORY_MAPPING,
            SENT_MAPPING,
        ] {
            let compiled = library
                .load(name)
                .and_then(|l| OutboundMapping::compile(&l))
                .map_err(|source| FlowError::Mapping {
                    mapping: name.to_string(),
                    source,
                })?;
            bodies.insert(name, compiled);
        }
        Ok(Flows {
            client,
            library,
            bodies: Arc::new(bodies),
        })
    }

    /// The request body `mapping` writes for `document`, with what was
    /// looked up under `netsuite/`.
    fn body(
        &self,
        mapping: &'static str,
        document: &serde_json::Value,
        context: &serde_json::Value,
        name: &str,
    ) -> Result<serde_json::Value, FlowError> {
        let compiled = self.bodies.get(mapping).ok_or_else(|| FlowError::Mapping {
            mapping: mapping.to_string(),
            source: MappingError::NotFound(format!("{mapping} is not loaded")),
        })?;
        compiled
            .render_json(document, Some(("netsuite", context)), name)
            .map_err(|source| FlowError::Mapping {
                mapping: mapping.to_string(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_stable_url_safe_and_bounded() {
        let a = external_id("dg-856", &["acme", "SHP 5001/A", "PO1"]);
        assert_eq!(a.as_str(), "dg-856-acme-SHP_5001_A-PO1");
        assert_eq!(a, external_id("dg-856", &["acme", "SHP 5001/A", "PO1"]));
        let long = "X".repeat(300);
        let l1 = external_id("dg-810", &["acme", &long]);
        let l2 = external_id("dg-810", &["acme", &format!("{long}Y")]);
        assert_eq!(l1.as_str().len(), MAX_EXTERNAL_ID);
        assert_ne!(l1, l2);
    }
}
