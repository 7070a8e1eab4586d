//! A vendor's inventory report (846, or a stock feed) onto the items: its
//! quantities (and dates, costs) written where the mapping
//! `netsuite/inventory` says, through the inventory RESTlet
//! (`netsuite/restlets/dropgate_inventory.js`), `batch` items a request:
//! NetSuite's REST record service takes one record a request, and a feed
//! has thousands. Writing the same values again changes nothing, so a
//! retry needs no external ID. Items NetSuite does not have are reported
//! (the document is set aside for a person, the others are written).

use serde_json::{Map, Value, json};

use super::{Applied, FlowError, Flows, INVENTORY_MAPPING};
use crate::model::Document;
use crate::netsuite::config::InventoryRestlet;

/// Writes the inventory report `document` (canonical JSON) from
/// `partner` onto NetSuite's items.
pub async fn apply(
    flows: &Flows,
    partner: &str,
    restlet: &InventoryRestlet,
    document: &Value,
) -> Result<Applied, FlowError> {
    let report = super::document_as(document, "inventory report", |d| match d {
        Document::InventoryAdvice(a) => Some(a),
        _ => None,
    })?;
    let context = json!({ "partner": partner });
    let name = report
        .report_id
        .clone()
        .unwrap_or_else(|| "inventory".to_string());
    let body = flows.body(INVENTORY_MAPPING, document, &context, &name)?;
    let Some(Value::Array(items)) = body.get("items") else {
        return Err(FlowError::Mapping {
            mapping: INVENTORY_MAPPING.to_string(),
            source: crate::mapping::MappingError::Io(
                "the body has no items array (an [json.items] table with each)".into(),
            ),
        });
    };
    let mut missing = Vec::new();
    let mut written = 0usize;
    for chunk in items.chunks(restlet.batch.max(1)) {
        let mut batch: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
        batch.insert("items".into(), Value::Array(chunk.to_vec()));
        let answer = flows
            .client
            .restlet(&restlet.script, &restlet.deploy, &Value::Object(batch))
            .await?;
        if let Some(error) = answer.get("error").and_then(Value::as_str) {
            return Err(FlowError::Mismatch(format!(
                "the inventory RESTlet refused the batch: {error}"
            )));
        }
        let results = answer
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if results.len() != chunk.len() {
            return Err(FlowError::Mismatch(format!(
                "the inventory RESTlet answered {} results for {} items: is the deployed script dropgate's?",
                results.len(),
                chunk.len()
            )));
        }
        for r in results {
            match r.get("error").and_then(Value::as_str) {
                Some(e) => missing.push(e.to_string()),
                None => written += 1,
            }
        }
    }
    if !missing.is_empty() {
        const SHOWN: usize = 10;
        let more = missing.len().saturating_sub(SHOWN);
        let mut list = missing
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            list.push_str(&format!("; and {more} more"));
        }
        return Err(FlowError::Mismatch(format!(
            "inventory report {name}: {written} item(s) written, {} not: {list}",
            missing.len()
        )));
    }
    Ok(Applied {
        record_type: "inventoryItem",
        id: format!("{written} item(s)"),
        external_id: None,
        created: false,
    })
}
