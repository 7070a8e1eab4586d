//! The RESTlet the simulated account has deployed: dropgate's inventory
//! RESTlet (`netsuite/restlets/dropgate_inventory.js`), answering as that
//! script does. A batch of items, each found by one field (`itemid`,
//! `vendorname`, `upccode` or `externalid`) and given the values its
//! entry names; one item's failure does not stop the others, and each
//! says what became of it.

use serde_json::{Map, Value, json};

use super::error::{ErrorCode, NsError};
use super::records::{ApplyOptions, RecordType};
use super::service::{Key, Service};

/// The script ID of the inventory RESTlet.
pub const SCRIPT: &str = "customscript_dropgate_inventory";
/// Its deployment ID.
pub const DEPLOY: &str = "customdeploy_dropgate_inventory";

/// The columns of SuiteQL's `item` table an entry may be found by.
const MATCH: [&str; 4] = ["itemid", "vendorname", "upccode", "externalid"];

/// Runs the RESTlet `script`/`deploy` on `body`.
pub fn run(service: &Service, script: &str, deploy: &str, body: &Value) -> Result<Value, NsError> {
    if !script.eq_ignore_ascii_case(SCRIPT) || !deploy.eq_ignore_ascii_case(DEPLOY) {
        return Err(NsError::new(
            400,
            ErrorCode::SssInvalidScriptletId,
            format!(
                "That Suitelet is invalid, disabled, or no longer exists (script {script}, deploy {deploy})."
            ),
        ));
    }
    let Some(field) = body
        .get("match")
        .and_then(Value::as_str)
        .filter(|m| MATCH.contains(m))
    else {
        return Ok(json!({ "error": format!("match is one of {}", MATCH.join(", ")) }));
    };
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let results = items
        .iter()
        .map(|item| {
            let key = match item.get("key") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            match apply(service, field, &key, item.get("values")) {
                Ok(id) => json!({ "key": key, "id": id.to_string() }),
                Err(e) => json!({ "key": key, "error": e }),
            }
        })
        .collect::<Vec<_>>();
    Ok(json!({ "results": results }))
}

/// Sets `values` on the item whose `field` is `key`: its internal ID, or
/// what went wrong as the script says it.
fn apply(service: &Service, field: &str, key: &str, values: Option<&Value>) -> Result<i64, String> {
    let query = format!(
        "SELECT id FROM item WHERE {field} = '{}'",
        key.replace('\'', "''")
    );
    let page = service
        .suiteql(&query, 2, 0, "")
        .map_err(|e| e.to_string())?;
    let ids: Vec<i64> = page
        .get("items")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(|r| match r.get("id")? {
                    Value::String(s) => s.parse().ok(),
                    Value::Number(n) => n.as_i64(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let id = match ids.as_slice() {
        [] => return Err(format!("no item with {field} {key}")),
        [one] => *one,
        _ => return Err(format!("more than one item with {field} {key}")),
    };
    let values: Map<String, Value> = match values {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err("values is not an object".into()),
    };
    service
        .update(
            RecordType::InventoryItem,
            &Key::Id(id),
            &values,
            &ApplyOptions::default(),
        )
        .map_err(|e| format!("{}: {}", e.code.as_str(), e.detail))?;
    Ok(id)
}
