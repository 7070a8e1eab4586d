//! JSON as a tree, read with the same paths as any other input: an
//! object's members are children named by key (an object is a group, a
//! value a field), a list is its items repeated under the list's name
//! (`lines`, `lines`, ...), `null` is absent. Outbound mappings read
//! canonical documents this way; as a decoder ([`decode`]), a JSON file
//! (a NetSuite record, a vendor API's answer) is one document for an
//! inbound mapping: an object, or a list whose items are named
//! [`ITEM`] under the root. The file is parsed whole (up to
//! [`MAX_JSON_BYTES`]); the tree then streams the list the mapping marks
//! `stream = true`, so it holds one of its items at a time.

/// The name of the items of a JSON file that is a list.
pub const ITEM: &str = "item";

use std::io::Read;

use serde_json::Value;

use super::{DocumentSink, Flavor, SinkError, Streamer, Verdict, start_file};
use crate::format::{Kind, NodeId, Place, Tree};

/// The largest JSON document read (it is parsed whole).
pub const MAX_JSON_BYTES: u64 = 64 << 20;

/// A JSON input that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Reading failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON.
    #[error("{file}: line {line}, column {column}: not JSON: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// Where.
        line: usize,
        /// Where on the line.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// JSON, but not an object or a list.
    #[error("{file}: a JSON document is an object or a list, not {found}")]
    NotObject {
        /// The file.
        file: String,
        /// What it is.
        found: &'static str,
    },
    /// Larger than [`MAX_JSON_BYTES`].
    #[error("{file}: larger than {} MB, the most a JSON document may be", MAX_JSON_BYTES >> 20)]
    TooLarge {
        /// The file.
        file: String,
    },
    /// The sink failed.
    #[error(transparent)]
    Sink(SinkError),
}

/// Reads one JSON object or list from `input` as one document: its tree handed to
/// `sink` (the streamed group, if the sink asks for one, item by item).
pub fn decode(
    input: impl Read,
    file_name: &str,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<(), JsonError> {
    let mut bytes = Vec::new();
    input
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| JsonError::Io {
            file: file_name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(JsonError::TooLarge {
            file: file_name.to_string(),
        });
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| JsonError::Syntax {
        file: file_name.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    decode_value(&value, file_name, tree, sink)
}

/// [`decode`] for a value already parsed.
pub fn decode_value(
    value: &Value,
    file_name: &str,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<(), JsonError> {
    if !matches!(value, Value::Object(_) | Value::Array(_)) {
        return Err(JsonError::NotObject {
            file: file_name.to_string(),
            found: kind(value),
        });
    }
    let (origin, streamer) =
        start_file(tree, Flavor::Json, file_name, sink).map_err(JsonError::Sink)?;
    let mut feed = Feed {
        streamer: &streamer,
        sink: &mut *sink,
    };
    let root = tree.root();
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                append_value(tree, root, key, v, &mut Some(&mut feed)).map_err(JsonError::Sink)?;
            }
        }
        list => {
            append_value(tree, root, ITEM, list, &mut Some(&mut feed)).map_err(JsonError::Sink)?
        }
    }
    sink.end(tree, &origin, Verdict::Accepted)
        .map_err(JsonError::Sink)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Where closed groups go while a decoder builds the tree.
struct Feed<'a> {
    streamer: &'a Streamer,
    sink: &'a mut dyn DocumentSink,
}

/// Appends the fields of the JSON object `value` under `parent`.
pub fn append_object(tree: &mut Tree, parent: NodeId, value: &Value) {
    if let Value::Object(map) = value {
        for (key, v) in map {
            // Without a feed nothing is handed over, so nothing can fail.
            let _ = append_value(tree, parent, key, v, &mut None);
        }
    }
}

fn append_value(
    tree: &mut Tree,
    parent: NodeId,
    key: &str,
    v: &Value,
    feed: &mut Option<&mut Feed<'_>>,
) -> Result<(), SinkError> {
    let name = tree.intern(key);
    match v {
        Value::Null => {}
        Value::Object(map) => {
            let node = tree.append(parent, name, Kind::Group, b"", Place::default());
            for (k, member) in map {
                append_value(tree, node, k, member, feed)?;
            }
            if let Some(f) = feed {
                f.streamer.closed(tree, node, f.sink)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                append_value(tree, parent, key, item, feed)?;
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
    Ok(())
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

    #[derive(Default)]
    struct Items {
        stream: Vec<&'static str>,
        items: Vec<String>,
        left: usize,
    }

    impl DocumentSink for Items {
        fn start(
            &mut self,
            tree: &mut Tree,
            _: &super::super::Origin,
        ) -> Result<Option<Vec<crate::format::Name>>, SinkError> {
            Ok(Some(self.stream.iter().map(|s| tree.intern(s)).collect()))
        }
        fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError> {
            let sku = tree.children(node).next().map(|c| tree.text(c).to_string());
            self.items.push(sku.unwrap_or_default());
            Ok(())
        }
        fn end(
            &mut self,
            tree: &Tree,
            _: &super::super::Origin,
            _: Verdict,
        ) -> Result<(), SinkError> {
            self.left = tree.len();
            Ok(())
        }
    }

    #[test]
    fn a_list_at_the_top_is_items_and_streams() {
        let mut sink = Items {
            stream: vec![ITEM],
            ..Items::default()
        };
        let mut t = Tree::new(Flavor::Json);
        decode(
            &br#"[{"sku":"A"},{"sku":"B"}]"#[..],
            "f.json",
            &mut t,
            &mut sink,
        )
        .expect("decodes");
        assert_eq!(sink.items, ["A", "B"]);
        assert_eq!(sink.left, 1, "streamed items are forgotten");
    }

    #[test]
    fn a_list_inside_an_object_streams_by_its_path() {
        let mut sink = Items {
            stream: vec!["data", "products"],
            ..Items::default()
        };
        let mut t = Tree::new(Flavor::Json);
        let input =
            br#"{"meta":{"page":1},"data":{"products":[{"sku":"A"},{"sku":"B"},{"sku":"C"}]}}"#;
        decode(&input[..], "f.json", &mut t, &mut sink).expect("decodes");
        assert_eq!(sink.items, ["A", "B", "C"]);
        let e = decode(&b"42"[..], "f.json", &mut t, &mut sink).expect_err("a number");
        assert_eq!(
            e.to_string(),
            "f.json: a JSON document is an object or a list, not a number"
        );
    }
}
