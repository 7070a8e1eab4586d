//! Canonical JSON as a tree, for outbound mappings to read with the same
//! paths as any other input: an object's fields are children named by key
//! (an object is a group, a value a field), a list is its items repeated
//! under the list's name (`lines`, `lines`, ...), `null` is absent.

use serde_json::Value;

use crate::format::{Kind, NodeId, Place, Tree};

/// Appends the fields of the JSON object `value` under `parent`.
pub fn append_object(tree: &mut Tree, parent: NodeId, value: &Value) {
    let Value::Object(map) = value else {
        return;
    };
    for (key, v) in map {
        append_value(tree, parent, key, v);
    }
}

fn append_value(tree: &mut Tree, parent: NodeId, key: &str, v: &Value) {
    let name = tree.intern(key);
    match v {
        Value::Null => {}
        Value::Object(_) => {
            let node = tree.append(parent, name, Kind::Group, b"", Place::default());
            append_object(tree, node, v);
        }
        Value::Array(items) => {
            for item in items {
                append_value(tree, parent, key, item);
            }
        }
        Value::String(s) => {
            tree.append(parent, name, Kind::Field, s.as_bytes(), Place::default());
        }
        Value::Number(n) => {
            // A number written with an exponent (2e+0) is written out plain.
            let text = n.to_string();
            let text = if text.contains(['e', 'E']) {
                rust_decimal::Decimal::from_scientific(&text)
                    .map(|d| d.normalize().to_string())
                    .unwrap_or(text)
            } else {
                text
            };
            tree.append(parent, name, Kind::Field, text.as_bytes(), Place::default());
        }
        Value::Bool(b) => {
            let text: &[u8] = if *b { b"true" } else { b"false" };
            tree.append(parent, name, Kind::Field, text, Place::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Flavor;

    #[test]
    fn objects_lists_and_values() {
        let v: Value = serde_json::from_str(
            r#"{"po_number":"P1","total":10.50,"ship_to":{"name":"Ann"},"lines":[{"sku":"A"},{"sku":"B"}],"notes":["x","y"],"gone":null}"#,
        )
        .expect("json");
        let mut t = Tree::new(Flavor::Json);
        append_object(&mut t, 0, &v);
        let names: Vec<String> = t.children(0).map(|c| t.name_text(c).to_string()).collect();
        assert_eq!(
            names,
            [
                "po_number",
                "total",
                "ship_to",
                "lines",
                "lines",
                "notes",
                "notes"
            ]
        );
        let total = t.children(0).nth(1).expect("total");
        assert_eq!(t.text(total), "10.50");
    }
}
