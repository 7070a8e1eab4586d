//! JSON as a tree, read with the same paths as any other input: an
//! object's members are children named by key (an object is a group, a
//! value a field), a list is its items repeated under the list's name
//! (`lines`, `lines`, ...), `null` is absent. Outbound mappings read
//! canonical documents this way; as a decoder ([`decode`]), a JSON file
//! (a NetSuite record, a vendor API's answer) is one document for an
//! inbound mapping: an object, or a list whose items are named
//! [`ITEM`] under the root. The file is parsed as it is read (up to
//! [`MAX_JSON_BYTES`]), and the tree streams the list the mapping marks
//! `stream = true`, so it holds one of its items at a time.

/// The name of the items of a JSON file that is a list.
pub const ITEM: &str = "item";

use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{DocumentSink, Flavor, SinkError, Streamer, Verdict, start_file};
use crate::format::{Kind, NodeId, Place, Tree};

/// The largest JSON document read. It is parsed as it is read, and a
/// streamed list holds one item at a time; what is not streamed (and any
/// one value) is held whole.
pub const MAX_JSON_BYTES: u64 = 4 << 30;

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

/// Reads one JSON object or list from `input` as one document: its tree
/// handed to `sink` (the streamed group, if the sink asks for one, item by
/// item). The input is parsed as it is read, never whole: with a streamed
/// list, memory holds the rest of the tree and one item.
pub fn decode(
    input: impl Read,
    file_name: &str,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<(), JsonError> {
    let (origin, streamer) =
        start_file(tree, Flavor::Json, file_name, sink).map_err(JsonError::Sink)?;
    let mut limited = input.take(MAX_JSON_BYTES + 1);
    let mut state = State {
        tree,
        streamer: &streamer,
        sink: &mut *sink,
        failed: None,
        found: None,
    };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
        1 << 16,
        &mut limited,
    ));
    let parsed = Root(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(e) = state.failed.take() {
        return Err(JsonError::Sink(e));
    }
    if let Some(found) = state.found {
        return Err(JsonError::NotObject {
            file: file_name.to_string(),
            found,
        });
    }
    if limited.limit() == 0 {
        return Err(JsonError::TooLarge {
            file: file_name.to_string(),
        });
    }
    parsed.map_err(|e| match e.classify() {
        serde_json::error::Category::Io => JsonError::Io {
            file: file_name.to_string(),
            source: std::io::Error::other(e.to_string()),
        },
        _ => JsonError::Syntax {
            file: file_name.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        },
    })?;
    sink.end(tree, &origin, Verdict::Accepted)
        .map_err(JsonError::Sink)
}

/// What a streaming parse builds into, and what stopped it.
struct State<'s> {
    tree: &'s mut Tree,
    streamer: &'s Streamer,
    sink: &'s mut dyn DocumentSink,
    /// The sink failed: the parse was stopped for it.
    failed: Option<SinkError>,
    /// The document is not an object or a list, but this.
    found: Option<&'static str>,
}

impl State<'_> {
    /// `node` closed: handed to the sink when streamed.
    fn closed<E: de::Error>(&mut self, node: NodeId) -> Result<(), E> {
        self.streamer
            .closed(self.tree, node, self.sink)
            .map_err(|e| {
                self.failed = Some(e);
                E::custom("the document sink failed")
            })
    }
}

/// serde_json hands a number kept as written (`arbitrary_precision`) as a
/// map of one entry under this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// The document: an object's members or a list's items under the root.
struct Root<'a, 's>(&'a mut State<'s>);

impl<'de> DeserializeSeed<'de> for Root<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Root<'_, '_> {
    fn not<E: de::Error>(self, found: &'static str) -> Result<(), E> {
        self.0.found = Some(found);
        Err(E::custom("not an object or a list"))
    }
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object or a list")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not("null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let root = self.0.tree.root();
        let item = self.0.tree.intern(ITEM);
        Node {
            st: self.0,
            parent: root,
            key: item,
        }
        .visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let root = self.0.tree.root();
        while let Some(key) = map.next_key::<String>()? {
            if key == NUMBER_TOKEN {
                map.next_value::<String>()?;
                return self.not("a number");
            }
            let name = self.0.tree.intern(&key);
            map.next_value_seed(Node {
                st: &mut *self.0,
                parent: root,
                key: name,
            })?;
        }
        Ok(())
    }
}

/// A value to append under `parent`, named `key`.
struct Node<'a, 's> {
    st: &'a mut State<'s>,
    parent: NodeId,
    key: crate::format::Name,
}

impl Node<'_, '_> {
    fn field(self, text: &str) {
        self.st.tree.append(
            self.parent,
            self.key,
            Kind::Field,
            text.as_bytes(),
            Place::default(),
        );
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.field(if b { "true" } else { "false" });
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.field(&n.to_string());
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.field(&n.to_string());
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        self.field(&number_text(&n.to_string()));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.field(s);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A list's items repeat under the list's name.
        while seq
            .next_element_seed(Node {
                st: &mut *self.st,
                parent: self.parent,
                key: self.key,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let first = map.next_key::<String>()?;
        if first.as_deref() == Some(NUMBER_TOKEN) {
            let text = map.next_value::<String>()?;
            self.field(&number_text(&text));
            return Ok(());
        }
        let node = self
            .st
            .tree
            .append(self.parent, self.key, Kind::Group, b"", Place::default());
        let mut key = first;
        while let Some(k) = key {
            let name = self.st.tree.intern(&k);
            map.next_value_seed(Node {
                st: &mut *self.st,
                parent: node,
                key: name,
            })?;
            key = map.next_key::<String>()?;
        }
        self.st.closed(node)
    }
}

/// A JSON number as a field's text: as written, but one written with an
/// exponent (`2e+0`) written out plain.
fn number_text(text: &str) -> String {
    if text.contains(['e', 'E']) {
        rust_decimal::Decimal::from_scientific(text)
            .map(|d| d.normalize().to_string())
            .unwrap_or_else(|_| text.to_string())
    } else {
        text.to_string()
    }
}

/// Appends the fields of the JSON object `value` under `parent`: the tree
/// [`decode`] builds from the same text.
pub fn append_object(tree: &mut Tree, parent: NodeId, value: &Value) {
    if let Value::Object(map) = value {
        for (key, v) in map {
            append_value(tree, parent, key, v);
        }
    }
}

fn append_value(tree: &mut Tree, parent: NodeId, key: &str, v: &Value) {
    let name = tree.intern(key);
    match v {
        Value::Null => {}
        Value::Object(map) => {
            let node = tree.append(parent, name, Kind::Group, b"", Place::default());
            for (k, member) in map {
                append_value(tree, node, k, member);
            }
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
            let text = number_text(&n.to_string());
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
            Ok((!self.stream.is_empty())
                .then(|| self.stream.iter().map(|s| tree.intern(s)).collect()))
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

    fn dump(t: &Tree, node: NodeId, out: &mut Vec<String>) {
        for c in t.children(node) {
            out.push(format!(
                "{}/{}={}",
                t.name_text(node),
                t.name_text(c),
                t.text(c)
            ));
            dump(t, c, out);
        }
    }

    #[test]
    fn the_streaming_parse_builds_the_tree_of_the_parsed_value() {
        let text = r#"{"po":"P1","total":10.50,"big":12345678901234567890.125,"e":2e+2,"ok":true,"none":null,"empty":{},"ship_to":{"name":"Ann","lines":[1,null,"x"]},"lines":[{"sku":"A","tags":[]},{"sku":"B"}]}"#;
        let v: Value = serde_json::from_str(text).expect("json");
        let mut a = Tree::new(Flavor::Json);
        append_object(&mut a, 0, &v);
        let mut b = Tree::new(Flavor::Json);
        decode(text.as_bytes(), "f.json", &mut b, &mut Items::default()).expect("decodes");
        let (mut da, mut db) = (Vec::new(), Vec::new());
        dump(&a, 0, &mut da);
        dump(&b, 0, &mut db);
        assert_eq!(da, db);
        assert!(db.contains(&"/total=10.50".to_string()), "{db:?}");
        assert!(db.contains(&"/e=200".to_string()), "{db:?}");
        assert!(
            db.contains(&"/big=12345678901234567890.125".to_string()),
            "{db:?}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line_and_column() {
        let mut t = Tree::new(Flavor::Json);
        let e = decode(
            &b"{\n  \"a\": [1,\n  2,,\n]}"[..],
            "f.json",
            &mut t,
            &mut Items::default(),
        )
        .expect_err("bad");
        assert!(
            e.to_string()
                .starts_with("f.json: line 3, column 5: not JSON"),
            "{e}"
        );
    }
}
