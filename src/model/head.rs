//! What a canonical document is called, read from its JSON without
//! building it: its `"type"` and its own number (`po_number`,
//! `asn_number`, ...). The gateway indexes every document it stores this
//! way, from a stream of JSON lines of any size, at the speed of one pass
//! over the bytes and in constant memory.
//!
//! [`LineHeads`] is fed the bytes of a JSON-lines stream in pieces of any
//! size and gives, for each document, its place in the stream and its
//! head. Only the top level of each object is looked at; nested objects,
//! arrays and every other value are skipped without being kept.

/// The field that holds the number of a document of type `doc_type`.
pub fn reference_field(doc_type: &str) -> Option<&'static str> {
    match doc_type {
        "purchase_order" | "po_ack" | "po_change" | "po_change_ack" => Some("po_number"),
        "ship_notice" => Some("asn_number"),
        "invoice" => Some("invoice_number"),
        "inventory_advice" | "order_status" => Some("report_id"),
        "return_authorization" => Some("rma_number"),
        "adjustment" => Some("adjustment_number"),
        "functional_ack" => Some("group_control_number"),
        "interchange_ack" => Some("interchange_control_number"),
        _ => None,
    }
}

/// The fields that hold a document's own number: the one of its type
/// ([`reference_field`]); for a type not known, the first of these it has.
pub const REFERENCE_FIELDS: [&str; 8] = [
    "po_number",
    "asn_number",
    "invoice_number",
    "report_id",
    "group_control_number",
    "interchange_control_number",
    "rma_number",
    "adjustment_number",
];

/// The longest string value kept as a type or a reference; a longer one is
/// not a document number and is left out.
const MAX_VALUE: usize = 256;

/// The longest key worth reading (the longest field looked for).
const MAX_KEY: usize = 26;

/// A document's type and number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentHead {
    /// `"type"`, or `unknown` when the document has none.
    pub doc_type: String,
    /// Its number: the string in its type's [`reference_field`] (or, for
    /// a type not known, in the first of [`REFERENCE_FIELDS`] it has).
    pub reference: Option<String>,
}

/// The number, given the type and the values of [`REFERENCE_FIELDS`].
fn pick_reference(doc_type: &str, mut values: Vec<Option<String>>) -> Option<String> {
    match reference_field(doc_type) {
        Some(field) => REFERENCE_FIELDS
            .iter()
            .position(|f| *f == field)
            .and_then(|i| values.get_mut(i).and_then(Option::take)),
        None => values.into_iter().flatten().next(),
    }
}

impl DocumentHead {
    /// The head of one parsed document (the reference the scanner is
    /// checked against).
    pub fn of_value(doc: &serde_json::Value) -> DocumentHead {
        let doc_type = doc
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unknown")
            .to_string();
        let values = REFERENCE_FIELDS
            .iter()
            .map(|k| doc.get(*k).and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        DocumentHead {
            reference: pick_reference(&doc_type, values),
            doc_type,
        }
    }
}

/// A document found in a stream: where it is and what it is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indexed {
    /// Offset of its first byte in the stream.
    pub offset: u64,
    /// Its length in bytes, without the line break and surrounding blanks.
    pub length: u64,
    /// Its type and number.
    pub head: DocumentHead,
}

/// What a string being read is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Skipped.
    Other,
    /// A key of the top-level object.
    Key,
    /// The value of a wanted key: 0 is `"type"`, 1.. the reference fields.
    Value(usize),
}

/// Finds the documents of a JSON-lines stream and their heads (see the
/// module's documentation). A line break ends a document only outside
/// strings and at the top level, so pretty-printed documents are read
/// correctly too.
#[derive(Debug, Default)]
pub struct LineHeads {
    /// Bytes fed so far.
    pos: u64,
    /// Where the current document's first byte is, once one is seen.
    start: Option<u64>,
    /// One past its last non-blank byte.
    end: u64,
    depth: u32,
    in_string: bool,
    escape: bool,
    role: Option<Role>,
    /// The next string at depth 1 is a key.
    expect_key: bool,
    /// A `:` at depth 1 was read and its value has not started.
    after_colon: bool,
    /// The key just read is wanted: which one.
    wanted: Option<usize>,
    text: Vec<u8>,
    /// Too long to be kept.
    overflow: bool,
    values: [Option<String>; 1 + REFERENCE_FIELDS.len()],
}

impl LineHeads {
    /// A scanner at the start of a stream.
    pub fn new() -> LineHeads {
        LineHeads::default()
    }

    /// Reads `bytes`, the next piece of the stream, appending each document
    /// it completes to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Indexed>) {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string {
                i = self.in_string_from(bytes, i);
                continue;
            }
            let b = bytes[i];
            let at = self.pos + i as u64;
            i += 1;
            match b {
                b' ' | b'\t' | b'\r' => continue,
                b'\n' => {
                    if self.depth == 0 {
                        self.end_document(out);
                    }
                    continue;
                }
                _ => {}
            }
            if self.start.is_none() {
                self.start = Some(at);
            }
            self.end = at + 1;
            match b {
                b'"' => {
                    self.in_string = true;
                    self.escape = false;
                    self.overflow = false;
                    self.text.clear();
                    self.role = Some(if self.depth == 1 && self.expect_key {
                        self.expect_key = false;
                        Role::Key
                    } else if self.depth == 1 && self.after_colon {
                        self.after_colon = false;
                        match self.wanted.take() {
                            Some(k) => Role::Value(k),
                            None => Role::Other,
                        }
                    } else {
                        Role::Other
                    });
                }
                b'{' | b'[' => {
                    if self.depth == 1 && self.after_colon {
                        self.not_a_string();
                    }
                    self.depth += 1;
                    self.expect_key = self.depth == 1 && b == b'{';
                }
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                b',' if self.depth == 1 => {
                    self.expect_key = true;
                    self.after_colon = false;
                    self.wanted = None;
                }
                b':' if self.depth == 1 => self.after_colon = true,
                _ => {
                    // A number, `true`, `false` or `null`.
                    if self.depth == 1 && self.after_colon {
                        self.not_a_string();
                    }
                }
            }
        }
        self.pos += bytes.len() as u64;
        // Copy `end` to the stream's position when the piece ended inside
        // a string: the string's bytes count as content.
        if self.in_string {
            self.end = self.pos;
        }
    }

    /// Reads inside a string from `bytes[i]`; returns where reading goes on.
    fn in_string_from(&mut self, bytes: &[u8], mut i: usize) -> usize {
        let keep = !matches!(self.role, Some(Role::Other) | None);
        while i < bytes.len() {
            if self.escape {
                self.escape = false;
                self.push(keep, bytes[i]);
                i += 1;
                continue;
            }
            // Skip to the next quote or backslash.
            let Some(n) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
                if keep {
                    for &b in &bytes[i..] {
                        self.push(true, b);
                    }
                }
                return bytes.len();
            };
            if keep {
                for &b in &bytes[i..i + n] {
                    self.push(true, b);
                }
            }
            i += n;
            let b = bytes[i];
            i += 1;
            if b == b'\\' {
                self.escape = true;
                self.push(keep, b);
                continue;
            }
            self.in_string = false;
            self.end = self.pos + i as u64;
            self.end_string();
            return i;
        }
        i
    }

    /// The value of the key just read is not a string: a wanted field
    /// that is not a string is not there (as `as_str` says).
    fn not_a_string(&mut self) {
        self.after_colon = false;
        if let Some(k) = self.wanted.take() {
            self.values[k] = None;
        }
    }

    fn push(&mut self, keep: bool, b: u8) {
        if !keep || self.overflow {
            return;
        }
        let limit = if self.role == Some(Role::Key) {
            MAX_KEY
        } else {
            MAX_VALUE
        };
        if self.text.len() >= limit {
            self.overflow = true;
            return;
        }
        self.text.push(b);
    }

    fn end_string(&mut self) {
        match self.role.take() {
            Some(Role::Key) => {
                self.wanted = if self.overflow {
                    None
                } else if self.text == b"type" {
                    Some(0)
                } else {
                    REFERENCE_FIELDS
                        .iter()
                        .position(|k| k.as_bytes() == self.text.as_slice())
                        .map(|p| p + 1)
                };
            }
            Some(Role::Value(k)) if self.overflow => self.values[k] = None,
            Some(Role::Value(k)) => {
                let mut quoted = Vec::with_capacity(self.text.len() + 2);
                quoted.push(b'"');
                quoted.extend_from_slice(&self.text);
                quoted.push(b'"');
                // A later duplicate key wins, as it does for serde_json.
                self.values[k] = serde_json::from_slice::<String>(&quoted).ok();
            }
            _ => {}
        }
    }

    fn end_document(&mut self, out: &mut Vec<Indexed>) {
        if let Some(start) = self.start.take() {
            let mut values = std::mem::take(&mut self.values);
            let doc_type = values[0].take().unwrap_or_else(|| "unknown".to_string());
            let reference = pick_reference(&doc_type, values[1..].to_vec());
            out.push(Indexed {
                offset: start,
                length: self.end - start,
                head: DocumentHead {
                    doc_type,
                    reference,
                },
            });
        }
        self.depth = 0;
        self.expect_key = false;
        self.after_colon = false;
        self.wanted = None;
    }

    /// Ends the stream: a last document without a line break after it.
    pub fn finish(&mut self, out: &mut Vec<Indexed>) {
        if !self.in_string && self.depth == 0 {
            self.end_document(out);
        } else if self.start.is_some() {
            // Cut short: indexed as it is, so that nothing is dropped.
            self.in_string = false;
            self.end_document(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan(text: &[u8], piece: usize) -> Vec<Indexed> {
        let mut heads = LineHeads::new();
        let mut out = Vec::new();
        for chunk in text.chunks(piece.max(1)) {
            heads.feed(chunk, &mut out);
        }
        heads.finish(&mut out);
        out
    }

    #[test]
    fn finds_type_and_number_at_the_top_level_only() {
        let text = br#"{"type":"purchase_order","source":{"po_number":"NESTED"},"lines":[{"po_number":"X"}],"po_number":"PO-1"}
{"type":"ship_notice","asn_number":"A\"1","po_number":null}

  {"type":"inventory_advice","report_id":"R1"}  
{"no_type":1}"#;
        let found = scan(text, 7);
        let heads: Vec<_> = found
            .iter()
            .map(|d| (d.head.doc_type.as_str(), d.head.reference.as_deref()))
            .collect();
        assert_eq!(
            heads,
            [
                ("purchase_order", Some("PO-1")),
                ("ship_notice", Some("A\"1")),
                ("inventory_advice", Some("R1")),
                ("unknown", None),
            ]
        );
        for d in &found {
            let slice = &text[d.offset as usize..(d.offset + d.length) as usize];
            let value: serde_json::Value = serde_json::from_slice(slice).unwrap_or_default();
            assert!(value.is_object(), "{:?}", String::from_utf8_lossy(slice));
        }
    }

    #[test]
    fn takes_the_number_of_the_documents_type() {
        let found = scan(
            br#"{"po_number":"P","invoice_number":"I","type":"invoice"}
{"asn_number":"A","po_number":"P","type":"ship_notice"}
{"asn_number":"A","po_number":"P","type":"invoice"}
{"asn_number":"A","po_number":"P","type":"x"}"#,
            100,
        );
        let refs: Vec<_> = found.iter().map(|d| d.head.reference.as_deref()).collect();
        assert_eq!(refs, [Some("I"), Some("A"), None, Some("P")]);
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let key = prop_oneof![
            Just("type".to_string()),
            Just("invoice_number".to_string()),
            Just("po_number".to_string()),
            Just("asn_number".to_string()),
            Just("report_id".to_string()),
            "[a-z_\"\\\\\n]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            "(?s).{0,12}".prop_map(serde_json::Value::from),
        ];
        let nested_key = key.clone();
        let value = leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::vec((nested_key.clone(), inner), 0..4)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        });
        let known_type = prop::option::of(prop_oneof![
            Just("invoice"),
            Just("ship_notice"),
            Just("purchase_order"),
            Just("other"),
        ]);
        (prop::collection::vec((key, value), 0..6), known_type).prop_map(|(kv, doc_type)| {
            let mut object: serde_json::Map<String, serde_json::Value> = kv.into_iter().collect();
            if let Some(t) = doc_type {
                object.insert("type".into(), t.into());
            }
            serde_json::Value::Object(object)
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json(
            docs in prop::collection::vec(json(), 1..5),
            pretty in any::<bool>(),
            piece in 1usize..40,
        ) {
            let mut text = Vec::new();
            for d in &docs {
                let one = if pretty {
                    serde_json::to_vec_pretty(d).unwrap_or_default()
                } else {
                    serde_json::to_vec(d).unwrap_or_default()
                };
                text.extend_from_slice(&one);
                text.push(b'\n');
            }
            let found = scan(&text, piece);
            prop_assert_eq!(found.len(), docs.len());
            for (d, f) in docs.iter().zip(&found) {
                prop_assert_eq!(&f.head, &DocumentHead::of_value(d));
                let slice = &text[f.offset as usize..(f.offset + f.length) as usize];
                let back: serde_json::Value = serde_json::from_slice(slice)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, d);
            }
        }
    }
}
