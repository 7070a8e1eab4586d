//! Outbound mappings: a canonical document (a purchase order) rendered in
//! the vendor's format. The canonical JSON is read as a tree ([`super::json`])
//! and the same paths and rules as inbound find values in it; the mapping's
//! body says what to write:
//!
//! - `[csv]`: `each` (one record per node found, e.g. `lines`) and
//!   `[csv.columns]`, a table of column title = rule, in order.
//! - `[xml]`: one table named by the document element; inside an element
//!   table, `@name` keys are attributes, `#text` is the text, `from` moves
//!   the context, `each` repeats the element per node found, `when` keeps it
//!   only when a condition holds; any other key is a child element (a rule
//!   for a leaf, a table for an element with children). Empty elements are
//!   left out.
//! - `[json]`: a JSON object (a NetSuite request body). Each key is a
//!   member: a rule gives a string, or with `type = "number"`,
//!   `"integer"` or `"boolean"` that JSON type (a value that is not one is
//!   an error); a TOML number or boolean is that constant; a table of
//!   members is an object, and with `each` an array of objects, one per
//!   node found (`from` and `when` as in `[xml]`). Members without a value
//!   and empty objects or arrays are left out.
//! - `[x12]`: the set's segments in order. A key whose label starts with a
//!   segment ID (`BEG`, `N1_ship_to`, `REF_co`) is a segment: digit keys are
//!   its elements (`01`, `04-2` for a component), other segment keys under
//!   it follow it (the N3 and N4 of an N1 loop); a lowercase key is a group
//!   of segments (with `each`, for the lines); `pairs = 6` says a segment's
//!   elements from 06 on are qualifier/value pairs, written without the
//!   empty ones (a PO1 with a few of many item IDs). `[mapping.x12]` holds the
//!   envelope: sender and receiver IDs, version, usage. The envelope,
//!   control numbers and counts are written by dropgate.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::format::csv::{self as csv_format, CsvOptions};
use crate::format::xml::{self as xml_format};
use crate::format::{Flavor, Kind, NodeId, Place, Tree};
use crate::model::{Document, DocumentType};
use crate::x12::segment::{Element, OwnedSegment};
use crate::x12::writer::{Writer, fixed_width, zero_padded};
use crate::x12::{Delimiters, LineStyle};

use super::MappingError;
use super::library::{Direction as LoadDirection, Loaded};
use super::path::{Compiler, Cond, Eval, Path};
use super::rule::{Codes, Direction, Rule, RuleContext, Target, is_rule_table};
use super::spec::{Spec, Value};

/// A compiled outbound mapping.
#[derive(Debug)]
pub struct OutboundMapping {
    /// Its name.
    pub name: String,
    /// The document type it renders.
    pub document: DocumentType,
    /// The vendor format.
    pub flavor: Flavor,
    csv: CsvOptions,
    body: Body,
    envelope: Envelope,
    tree: Tree,
}

#[derive(Debug)]
enum Body {
    Csv {
        each: Option<Path>,
        columns: Vec<(String, Rule)>,
    },
    Xml {
        namespace: Option<String>,
        root: Box<ElementPlan>,
    },
    X12(Vec<SegPlan>),
    Json(Box<JsonPlan>),
}

/// An object of a `[json]` body: its members in order; with `each`, an
/// array of such objects.
#[derive(Debug)]
struct JsonPlan {
    repeat: Repeat,
    members: Vec<(String, JsonMember)>,
}

#[derive(Debug)]
enum JsonMember {
    Object(Box<JsonPlan>),
    Value(Box<Rule>, JsonType),
    Constant(serde_json::Value),
}

/// The JSON type a rule's text is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
}

#[derive(Debug)]
struct Repeat {
    from: Option<Path>,
    each: Option<Path>,
    when: Option<Cond>,
}

#[derive(Debug)]
struct ElementPlan {
    name: String,
    repeat: Repeat,
    text: Option<Rule>,
    attributes: Vec<(String, Rule)>,
    children: Vec<XmlChild>,
}

#[derive(Debug)]
enum XmlChild {
    Element(Box<ElementPlan>),
    Leaf(String, Box<Rule>),
}

#[derive(Debug)]
enum SegPlan {
    Segment {
        id: String,
        repeat: Repeat,
        elements: Vec<(u16, Option<u16>, Rule)>,
        /// `pairs = N`: from element N on, qualifier/value pairs; a pair
        /// left empty is dropped and the ones after it move up, so that a
        /// line with a few of many IDs has no run of empty elements.
        pairs: Option<u16>,
        after: Vec<SegPlan>,
    },
    Group {
        repeat: Repeat,
        items: Vec<SegPlan>,
    },
}

/// The envelope of outbound X12.
#[derive(Clone, Debug)]
struct Envelope {
    sender: (String, String),
    receiver: (String, String),
    application_sender: String,
    application_receiver: String,
    version: String,
    functional_id: String,
    set: String,
    usage: String,
}

/// Per rendering: control numbers and the time of the envelope.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// ISA13 (ST02 is 0001).
    pub control_number: u32,
    /// GS06.
    pub group_control_number: u32,
    /// ISA09/10 and GS04/05.
    pub timestamp: NaiveDateTime,
    /// X12: who sends and who receives, instead of the mapping's
    /// `[mapping.x12]` IDs (the gateway knows its partners' IDs).
    pub parties: Option<Parties>,
}

/// The sender and receiver of an X12 interchange and group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parties {
    /// ISA05 and ISA06.
    pub sender: (String, String),
    /// ISA07 and ISA08.
    pub receiver: (String, String),
    /// GS02.
    pub application_sender: String,
    /// GS03.
    pub application_receiver: String,
}

impl OutboundMapping {
    /// Compiles a loaded outbound mapping.
    pub fn compile(loaded: &Loaded) -> Result<OutboundMapping, MappingError> {
        let h = &loaded.header;
        if h.direction != LoadDirection::Outbound {
            return Err(loaded
                .spec
                .error("this is an inbound mapping; outbound ones say direction = \"outbound\""));
        }
        let document = h.document.ok_or_else(|| {
            loaded
                .spec
                .error("an outbound mapping names its document in [mapping] document = \"...\"")
        })?;
        let mut codes = HashMap::new();
        if let Some(tables) = loaded.spec.get("codes") {
            for (name, table) in tables.table().unwrap_or(&[]) {
                codes.insert(name.clone(), Arc::new(Codes::from_spec(table)?));
            }
        }
        let mut tree = Tree::new(Flavor::Json);
        let section = super::library::flavor_name(h.flavor);
        for (key, value) in loaded.spec.table().unwrap_or(&[]) {
            if key != "mapping" && key != "codes" && key != section {
                return Err(value.error(format!(
                    "{key} is not a section of an outbound {section} mapping ([mapping], [codes.NAME], [{section}])"
                )));
            }
        }
        let body_spec = loaded.spec.get(section).ok_or_else(|| {
            loaded
                .spec
                .error(format!("the output is described in a [{section}] table"))
        })?;
        let mut paths = Compiler {
            tree: &mut tree,
            flavor: Flavor::Json,
        };
        let mut cx = RuleContext {
            paths: &mut paths,
            codes: &codes,
            direction: Direction::Outbound,
        };
        let body = match h.flavor {
            Flavor::Csv => compile_csv(body_spec, &mut cx)?,
            Flavor::Xml => compile_xml(body_spec, &mut cx)?,
            Flavor::X12 => Body::X12(compile_segments(body_spec, &mut cx, &[])?),
            Flavor::Json => compile_json(body_spec, &mut cx)?,
            Flavor::Pdf => return Err(body_spec.error("PDF is read, not written")),
            Flavor::Xlsx | Flavor::Fixed => {
                return Err(body_spec
                    .error("workbooks and fixed-width files are read, not written (write CSV)"));
            }
        };
        let envelope = envelope(loaded.spec.get("mapping").and_then(|m| m.get("x12")))?;
        Ok(OutboundMapping {
            name: loaded.name.clone(),
            document,
            flavor: h.flavor,
            csv: h.csv.clone(),
            body,
            envelope,
            tree,
        })
    }

    /// Renders the canonical document `json` (its text is `file` for
    /// messages).
    pub fn render(
        &self,
        json: &serde_json::Value,
        file: &str,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> Result<(), MappingError> {
        let doc: Document = serde_json::from_value(json.clone())
            .map_err(|e| MappingError::Io(format!("{file}: not a canonical document: {e}")))?;
        if doc.document_type() != self.document {
            return Err(MappingError::Io(format!(
                "{file}: a {} document, and mapping {} renders {}",
                doc.document_type(),
                self.name,
                self.document
            )));
        }
        let tree = self.input_tree(json, None, file);
        let eval = Eval::new(&tree, &());
        let r = Renderer { eval: &eval };
        let io = |e: std::io::Error| MappingError::Io(format!("writing the output: {e}"));
        match &self.body {
            Body::Json(plan) => {
                let value = serde_json::Value::Object(r.json_members(plan, 0)?);
                serde_json::to_writer(&mut *out, &value).map_err(|e| io(e.into()))
            }
            Body::Csv { each, columns } => {
                let mut t = Tree::new(Flavor::Csv);
                let record = t.intern("record");
                let rows = match each {
                    Some(p) => r.nodes(p, 0),
                    None => vec![0],
                };
                for row in rows {
                    let node = t.append(0, record, Kind::Group, b"", Place::default());
                    for (title, rule) in columns {
                        let v = r.value(rule, row)?.unwrap_or_default();
                        let name = t.intern(title);
                        t.append(node, name, Kind::Field, v.as_bytes(), Place::default());
                    }
                }
                csv_format::encode(&t, &self.csv, out)
                    .map_err(|e| MappingError::Io(format!("{file}: {e}")))
            }
            Body::Xml { namespace, root } => {
                let mut t = Tree::new(Flavor::Xml);
                r.element(root, 0, &mut t, 0)?;
                let options = xml_format::XmlEncodeOptions {
                    namespace: namespace.clone(),
                    ..xml_format::XmlEncodeOptions::default()
                };
                xml_format::encode(&t, &options, out)
                    .map_err(|e| MappingError::Io(format!("{file}: {e}")))
            }
            Body::X12(items) => {
                let mut segments = Vec::new();
                r.segments(items, 0, &mut segments)?;
                let mut edi = Vec::new();
                self.write_x12(&segments, options, &mut edi).map_err(io)?;
                // What dropgate sends must pass what it checks on receipt: a
                // value too long for its element, a missing mandatory
                // segment, are found here, not by the partner.
                check_rendered(&edi, file)?;
                out.write_all(&edi).map_err(io)
            }
        }
    }

    /// The tree a rendering reads: the document, and `context` under its
    /// name (what the caller looked up for it, such as the NetSuite IDs of
    /// a ship notice's order lines: `netsuite/lines`).
    fn input_tree(
        &self,
        json: &serde_json::Value,
        context: Option<(&str, &serde_json::Value)>,
        file: &str,
    ) -> Tree {
        let mut tree = self.tree.clone();
        tree.clear();
        tree.set_source_name(file);
        crate::format::json::append_object(&mut tree, 0, json);
        if let Some((name, value)) = context {
            let mut wrapper = serde_json::Map::new();
            wrapper.insert(name.to_string(), value.clone());
            crate::format::json::append_object(&mut tree, 0, &serde_json::Value::Object(wrapper));
        }
        tree
    }

    /// Renders a `[json]` mapping's object for the canonical document
    /// `json` (its type checked), with `context` readable under its name.
    pub fn render_json(
        &self,
        json: &serde_json::Value,
        context: Option<(&str, &serde_json::Value)>,
        file: &str,
    ) -> Result<serde_json::Value, MappingError> {
        let Body::Json(plan) = &self.body else {
            return Err(MappingError::Io(format!(
                "mapping {} writes {}, not JSON",
                self.name,
                super::library::flavor_name(self.flavor)
            )));
        };
        let doc_type = json.get("type").and_then(serde_json::Value::as_str);
        if doc_type != Some(self.document.name()) {
            return Err(MappingError::Io(format!(
                "{file}: a {} document, and mapping {} renders {}",
                doc_type.unwrap_or("untyped"),
                self.name,
                self.document
            )));
        }
        let tree = self.input_tree(json, context, file);
        let eval = Eval::new(&tree, &());
        let r = Renderer { eval: &eval };
        Ok(serde_json::Value::Object(r.json_members(plan, 0)?))
    }

    fn write_x12(
        &self,
        body: &[OwnedSegment],
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let mut envelope = self.envelope.clone();
        if let Some(p) = &options.parties {
            envelope.sender = p.sender.clone();
            envelope.receiver = p.receiver.clone();
            envelope.application_sender = p.application_sender.clone();
            envelope.application_receiver = p.application_receiver.clone();
        }
        let e = &envelope;
        let from_5010 = e.version.as_str() >= "005010";
        let repetition = if from_5010 { Some(b'^') } else { None };
        let d = Delimiters::new(b'*', b':', b'~', repetition)
            .map_err(|err| std::io::Error::other(err.to_string()))?;
        let mut w = Writer::new(out, d, LineStyle::Lf);
        let n = options.control_number;
        let stamp = options.timestamp;
        let isa_version = if from_5010 { "00501" } else { "00401" };
        let isa11 = match repetition {
            Some(r) => vec![r],
            None => b"U".to_vec(),
        };
        let fields: Vec<Vec<u8>> = vec![
            b"00".to_vec(),
            fixed_width(b"", 10),
            b"00".to_vec(),
            fixed_width(b"", 10),
            fixed_width(e.sender.0.as_bytes(), 2),
            fixed_width(e.sender.1.as_bytes(), 15),
            fixed_width(e.receiver.0.as_bytes(), 2),
            fixed_width(e.receiver.1.as_bytes(), 15),
            stamp.format("%y%m%d").to_string().into_bytes(),
            stamp.format("%H%M").to_string().into_bytes(),
            isa11,
            isa_version.as_bytes().to_vec(),
            zero_padded(u64::from(n), 9),
            b"0".to_vec(),
            e.usage.as_bytes().to_vec(),
            vec![d.component()],
        ];
        let isa = OwnedSegment {
            id: b"ISA".to_vec(),
            elements: fields.into_iter().map(Element::simple).collect(),
        };
        let to_io = |err: crate::x12::writer::WriteError| std::io::Error::other(err.to_string());
        w.write(&isa).map_err(to_io)?;
        let date = stamp.format("%Y%m%d").to_string();
        let time = stamp.format("%H%M").to_string();
        let number = options.group_control_number.to_string();
        w.write_texts(
            "GS",
            &[
                e.functional_id.as_str(),
                &e.application_sender,
                &e.application_receiver,
                &date,
                &time,
                &number,
                "X",
                &e.version,
            ],
        )
        .map_err(to_io)?;
        let start = w.written();
        let st: Vec<&str> = if from_5010 {
            vec![&e.set, "0001", &e.version]
        } else {
            vec![&e.set, "0001"]
        };
        w.write_texts("ST", &st).map_err(to_io)?;
        for s in body {
            w.write(s).map_err(to_io)?;
        }
        let count = (w.written() - start + 1).to_string();
        w.write_texts("SE", &[count.as_str(), "0001"])
            .map_err(to_io)?;
        w.write_texts("GE", &["1", number.as_str()])
            .map_err(to_io)?;
        w.write_texts("IEA", &["1", &format!("{n:09}")])
            .map_err(to_io)?;
        w.into_inner()?;
        Ok(())
    }
}

struct Renderer<'e, 't, 'v> {
    eval: &'e Eval<'t, 'v>,
}

impl Renderer<'_, '_, '_> {
    fn nodes(&self, p: &Path, context: NodeId) -> Vec<NodeId> {
        self.eval.nodes(p, context)
    }

    fn value(&self, rule: &Rule, context: NodeId) -> Result<Option<String>, MappingError> {
        let tree = self.eval.tree;
        let error = |node: NodeId, message: String| MappingError::Eval {
            file: Arc::clone(&rule.file),
            line: rule.line,
            field: tree.path_of(node),
            message,
            place: tree.source_name().to_string(),
        };
        match rule.value(self.eval, context) {
            Ok(Some(p)) => Ok(Some(p.text.into_owned())),
            Ok(None) if rule.required => Err(error(
                context,
                "is required, and the mapping found no value".into(),
            )),
            Ok(None) => Ok(None),
            Err(e) => Err(error(
                e.item.and_then(|i| i.node()).unwrap_or(context),
                e.message,
            )),
        }
    }

    /// The members of a JSON object for `context` (those with a value).
    fn json_members(
        &self,
        plan: &JsonPlan,
        context: NodeId,
    ) -> Result<serde_json::Map<String, serde_json::Value>, MappingError> {
        let mut out = serde_json::Map::new();
        for (name, member) in &plan.members {
            let value = match member {
                JsonMember::Constant(v) => Some(v.clone()),
                JsonMember::Value(rule, ty) => match self.value(rule, context)? {
                    Some(text) => Some(self.typed(rule, context, text, *ty)?),
                    None => None,
                },
                JsonMember::Object(p) if p.repeat.each.is_some() => {
                    let mut items = Vec::new();
                    for c in self.contexts(&p.repeat, context) {
                        let object = self.json_members(p, c)?;
                        if !object.is_empty() {
                            items.push(serde_json::Value::Object(object));
                        }
                    }
                    (!items.is_empty()).then_some(serde_json::Value::Array(items))
                }
                JsonMember::Object(p) => match self.contexts(&p.repeat, context).first() {
                    Some(&c) => {
                        let object = self.json_members(p, c)?;
                        (!object.is_empty()).then_some(serde_json::Value::Object(object))
                    }
                    None => None,
                },
            };
            if let Some(v) = value {
                out.insert(name.clone(), v);
            }
        }
        Ok(out)
    }

    /// A rule's text as the JSON type its member asks for.
    fn typed(
        &self,
        rule: &Rule,
        context: NodeId,
        text: String,
        ty: JsonType,
    ) -> Result<serde_json::Value, MappingError> {
        let wrong = |what: &str| MappingError::Eval {
            file: Arc::clone(&rule.file),
            line: rule.line,
            field: self.eval.tree.path_of(context),
            message: format!("{text:?} is not {what}"),
            place: self.eval.tree.source_name().to_string(),
        };
        Ok(match ty {
            JsonType::String => serde_json::Value::String(text),
            JsonType::Number => {
                let n: serde_json::Number = text
                    .trim()
                    .parse::<rust_decimal::Decimal>()
                    .ok()
                    .and_then(|d| serde_json::from_str(&d.normalize().to_string()).ok())
                    .ok_or_else(|| wrong("a number"))?;
                serde_json::Value::Number(n)
            }
            JsonType::Integer => serde_json::Value::from(
                text.trim()
                    .parse::<i64>()
                    .map_err(|_| wrong("a whole number"))?,
            ),
            JsonType::Boolean => match text.trim() {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                _ => return Err(wrong("true or false")),
            },
        })
    }

    /// The contexts a repeat gives: none when `when` fails or `from` finds
    /// nothing, one per node of `each`.
    fn contexts(&self, r: &Repeat, context: NodeId) -> Vec<NodeId> {
        let base = match &r.from {
            Some(p) => match self.nodes(p, context).first() {
                Some(&n) => n,
                None => return Vec::new(),
            },
            None => context,
        };
        let all = match &r.each {
            Some(p) => self.nodes(p, base),
            None => vec![base],
        };
        all.into_iter()
            .filter(|&n| r.when.as_ref().is_none_or(|w| self.eval.holds(w, n)))
            .collect()
    }

    fn element(
        &self,
        plan: &ElementPlan,
        context: NodeId,
        out: &mut Tree,
        parent: NodeId,
    ) -> Result<(), MappingError> {
        for c in self.contexts(&plan.repeat, context) {
            let name = out.intern(&plan.name);
            let text = match &plan.text {
                Some(rule) => self.value(rule, c)?.unwrap_or_default(),
                None => String::new(),
            };
            let node = out.append(parent, name, Kind::Group, text.as_bytes(), Place::default());
            let mut filled = !text.is_empty();
            for (attr, rule) in &plan.attributes {
                if let Some(v) = self.value(rule, c)? {
                    let a = out.intern(attr);
                    out.append(node, a, Kind::Attribute, v.as_bytes(), Place::default());
                    filled = true;
                }
            }
            for child in &plan.children {
                let before = out.len();
                match child {
                    XmlChild::Leaf(name, rule) => {
                        if let Some(v) = self.value(rule, c)? {
                            let n = out.intern(name);
                            out.append(node, n, Kind::Group, v.as_bytes(), Place::default());
                        }
                    }
                    XmlChild::Element(e) => self.element(e, c, out, node)?,
                }
                filled |= out.len() > before;
            }
            if !filled {
                out.truncate(node);
            }
        }
        Ok(())
    }

    fn segments(
        &self,
        items: &[SegPlan],
        context: NodeId,
        out: &mut Vec<OwnedSegment>,
    ) -> Result<(), MappingError> {
        for item in items {
            match item {
                SegPlan::Group { repeat, items } => {
                    for c in self.contexts(repeat, context) {
                        self.segments(items, c, out)?;
                    }
                }
                SegPlan::Segment {
                    id,
                    repeat,
                    elements,
                    pairs,
                    after,
                } => {
                    for c in self.contexts(repeat, context) {
                        let mut values: Vec<Vec<String>> = Vec::new();
                        let mut any = false;
                        for (e, comp, rule) in elements {
                            let v = x12_safe(self.value(rule, c)?.unwrap_or_default());
                            let i = usize::from(*e).saturating_sub(1);
                            if values.len() <= i {
                                values.resize(i + 1, Vec::new());
                            }
                            let k = usize::from(comp.unwrap_or(1)).saturating_sub(1);
                            if values[i].len() <= k {
                                values[i].resize(k + 1, String::new());
                            }
                            any |= !v.is_empty();
                            values[i][k] = v;
                        }
                        if let Some(start) = pairs {
                            compact_pairs(&mut values, usize::from(*start));
                        }
                        if any {
                            let mut seg = OwnedSegment {
                                id: id.as_bytes().to_vec(),
                                elements: values
                                    .into_iter()
                                    .map(|components| {
                                        let mut c: Vec<Vec<u8>> = components
                                            .into_iter()
                                            .map(String::into_bytes)
                                            .collect();
                                        while c.len() > 1 && c.last().is_some_and(Vec::is_empty) {
                                            c.pop();
                                        }
                                        Element::composite(c)
                                    })
                                    .collect(),
                            };
                            seg.trim_trailing_empty();
                            out.push(seg);
                            self.segments(after, c, out)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn repeat_of(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<Repeat, MappingError> {
    let path = |cx: &mut RuleContext<'_, '_>, key: &str| -> Result<Option<Path>, MappingError> {
        spec.get(key)
            .map(|v| {
                let t = v
                    .as_str()
                    .ok_or_else(|| v.error(format!("{key} takes a path")))?;
                cx.paths.path(t).map_err(|e| v.error(e.0))
            })
            .transpose()
    };
    let from = path(cx, "from")?;
    let each = path(cx, "each")?;
    let when = spec
        .get("when")
        .map(|v| {
            let t = v
                .as_str()
                .ok_or_else(|| v.error("when takes a condition"))?;
            cx.paths.cond(t).map_err(|e| v.error(e.0))
        })
        .transpose()?;
    Ok(Repeat { from, each, when })
}

fn compile_csv(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<Body, MappingError> {
    let each = match spec.get("each") {
        Some(v) => Some(
            cx.paths
                .path(v.as_str().ok_or_else(|| v.error("each takes a path"))?)
                .map_err(|e| v.error(e.0))?,
        ),
        None => None,
    };
    let columns_spec = spec
        .get("columns")
        .ok_or_else(|| spec.error("[csv.columns] lists the columns: title = rule"))?;
    let mut columns = Vec::new();
    for (title, rule) in columns_spec.table().unwrap_or(&[]) {
        columns.push((title.clone(), Rule::compile(rule, Target::Text, cx)?));
    }
    for (k, v) in spec.table().unwrap_or(&[]) {
        if k != "each" && k != "columns" {
            return Err(v.error(format!("{k} is not a [csv] key (each, columns)")));
        }
    }
    Ok(Body::Csv { each, columns })
}

fn compile_xml(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<Body, MappingError> {
    let mut namespace = None;
    let mut root = None;
    for (k, v) in spec.table().unwrap_or(&[]) {
        if k == "namespace" {
            namespace = v.as_text();
        } else if root.is_none() {
            root = Some(element_plan(k, v, cx)?);
        } else {
            return Err(v.error("an XML document has one root element"));
        }
    }
    let root = root.ok_or_else(|| spec.error("[xml] needs the document element: [xml.Name]"))?;
    Ok(Body::Xml {
        namespace,
        root: Box::new(root),
    })
}

fn element_plan(
    name: &str,
    spec: &Spec,
    cx: &mut RuleContext<'_, '_>,
) -> Result<ElementPlan, MappingError> {
    let repeat = repeat_of(spec, cx)?;
    let mut plan = ElementPlan {
        name: name.to_string(),
        repeat,
        text: None,
        attributes: Vec::new(),
        children: Vec::new(),
    };
    for (k, v) in spec.table().unwrap_or(&[]) {
        match k.as_str() {
            "from" | "each" | "when" => {}
            "#text" => plan.text = Some(Rule::compile(v, Target::Text, cx)?),
            a if a.starts_with('@') => plan
                .attributes
                .push((a[1..].to_string(), Rule::compile(v, Target::Text, cx)?)),
            child => {
                if v.table().is_some() && !is_rule_table(v) {
                    plan.children
                        .push(XmlChild::Element(Box::new(element_plan(child, v, cx)?)));
                } else {
                    plan.children.push(XmlChild::Leaf(
                        child.to_string(),
                        Box::new(Rule::compile(v, Target::Text, cx)?),
                    ));
                }
            }
        }
    }
    Ok(plan)
}

fn compile_json(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<Body, MappingError> {
    for key in ["each", "from", "when"] {
        if let Some(v) = spec.get(key) {
            return Err(v.error(format!(
                "[json] is one object; {key} belongs to a member table ([json.item] each = ...)"
            )));
        }
    }
    Ok(Body::Json(Box::new(json_plan(spec, cx)?)))
}

fn json_plan(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<JsonPlan, MappingError> {
    let mut plan = JsonPlan {
        repeat: repeat_of(spec, cx)?,
        members: Vec::new(),
    };
    for (k, v) in spec.table().unwrap_or(&[]) {
        if matches!(k.as_str(), "from" | "each" | "when") {
            continue;
        }
        let member = match &v.value {
            Value::Bool(b) => JsonMember::Constant(serde_json::Value::Bool(*b)),
            Value::Int(i) => JsonMember::Constant(serde_json::Value::from(*i)),
            Value::Float(f) => JsonMember::Constant(
                serde_json::from_str(f)
                    .map_err(|_| v.error(format!("{f} is not a JSON number")))?,
            ),
            Value::Table(entries) if !is_json_leaf(entries) => {
                JsonMember::Object(Box::new(json_plan(v, cx)?))
            }
            Value::Table(entries) => {
                let ty = match v.get("type") {
                    None => JsonType::String,
                    Some(t) => match t.as_str() {
                        Some("string") => JsonType::String,
                        Some("number") => JsonType::Number,
                        Some("integer") => JsonType::Integer,
                        Some("boolean") => JsonType::Boolean,
                        _ => {
                            return Err(t.error(
                                "type is \"string\", \"number\", \"integer\" or \"boolean\"",
                            ));
                        }
                    },
                };
                let target = match ty {
                    JsonType::String => Target::Text,
                    JsonType::Number => Target::Decimal,
                    JsonType::Integer => Target::Integer,
                    JsonType::Boolean => Target::Bool,
                };
                let rule_spec = Spec {
                    file: Arc::clone(&v.file),
                    line: v.line,
                    value: Value::Table(
                        entries
                            .iter()
                            .filter(|(k, _)| k != "type")
                            .cloned()
                            .collect(),
                    ),
                };
                JsonMember::Value(Box::new(Rule::compile(&rule_spec, target, cx)?), ty)
            }
            _ => JsonMember::Value(
                Box::new(Rule::compile(v, Target::Text, cx)?),
                JsonType::String,
            ),
        };
        plan.members.push((k.clone(), member));
    }
    Ok(plan)
}

/// Whether a table under `[json]` is one member's rule (every key a rule
/// option or `type`) rather than an object of members.
fn is_json_leaf(entries: &[(String, Spec)]) -> bool {
    let rule_keys: Vec<(String, Spec)> = entries
        .iter()
        .filter(|(k, _)| k != "type")
        .cloned()
        .collect();
    let probe = Spec {
        file: Arc::from(""),
        line: 0,
        value: Value::Table(rule_keys),
    };
    is_rule_table(&probe)
}

/// The segment ID a label starts with (`N1_ship_to` → `N1`).
fn segment_id(label: &str) -> Option<&str> {
    let id = label.split('_').next().unwrap_or("");
    let b = id.as_bytes();
    ((2..=3).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    .then_some(id)
}

fn element_key(key: &str) -> Option<(u16, Option<u16>)> {
    let (e, c) = match key.split_once('-') {
        Some((e, c)) => (e, Some(c)),
        None => (key, None),
    };
    if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let e: u16 = e.parse().ok().filter(|n| *n > 0)?;
    let c = match c {
        Some(c) => Some(c.parse::<u16>().ok().filter(|n| *n > 0)?),
        None => None,
    };
    Some((e, c))
}

fn compile_segments(
    spec: &Spec,
    cx: &mut RuleContext<'_, '_>,
    reserved: &[&str],
) -> Result<Vec<SegPlan>, MappingError> {
    let mut out = Vec::new();
    for (k, v) in spec.table().unwrap_or(&[]) {
        if reserved.contains(&k.as_str()) || element_key(k).is_some() {
            continue;
        }
        if v.table().is_none() {
            return Err(v.error(format!("{k}: a segment or a group of segments is a table")));
        }
        let repeat = repeat_of(v, cx)?;
        match segment_id(k) {
            Some(id) => {
                let mut elements = Vec::new();
                for (ek, ev) in v.table().unwrap_or(&[]) {
                    if let Some((e, c)) = element_key(ek) {
                        elements.push((e, c, Rule::compile(ev, Target::Text, cx)?));
                    }
                }
                let pairs = match v.get("pairs") {
                    Some(p) => Some(match &p.value {
                        Value::Int(n) if (1..=99).contains(n) => *n as u16,
                        _ => {
                            return Err(p.error(
                                "pairs takes the element the qualifier/value pairs start at (6 for PO1)",
                            ));
                        }
                    }),
                    None => None,
                };
                let after = compile_segments(v, cx, &["from", "each", "when", "pairs"])?;
                out.push(SegPlan::Segment {
                    id: id.to_string(),
                    repeat,
                    elements,
                    pairs,
                    after,
                });
            }
            None => {
                let items = compile_segments(v, cx, &["from", "each", "when"])?;
                out.push(SegPlan::Group { repeat, items });
            }
        }
    }
    Ok(out)
}

/// Drops the empty qualifier/value pairs from element `start` (from 1) on;
/// the pairs after one dropped move up.
fn compact_pairs(values: &mut Vec<Vec<String>>, start: usize) {
    let from = start.saturating_sub(1);
    if values.len() <= from {
        return;
    }
    let tail = values.split_off(from);
    let empty = |e: &Vec<String>| e.iter().all(String::is_empty);
    for pair in tail.chunks(2) {
        if !pair.iter().all(empty) {
            values.extend(pair.iter().cloned());
        }
    }
}

fn envelope(spec: Option<&Spec>) -> Result<Envelope, MappingError> {
    let mut e = Envelope {
        sender: ("ZZ".into(), "DROPGATE".into()),
        receiver: ("ZZ".into(), "PARTNER".into()),
        application_sender: "DROPGATE".into(),
        application_receiver: "PARTNER".into(),
        version: "004010".into(),
        functional_id: "PO".into(),
        set: "850".into(),
        usage: "P".into(),
    };
    let Some(spec) = spec else {
        return Ok(e);
    };
    for (k, v) in spec.table().unwrap_or(&[]) {
        let t = v
            .as_text()
            .ok_or_else(|| v.error(format!("{k} takes a value")))?;
        match k.as_str() {
            "sender_qualifier" => e.sender.0 = t,
            "sender_id" => e.sender.1 = t,
            "receiver_qualifier" => e.receiver.0 = t,
            "receiver_id" => e.receiver.1 = t,
            "application_sender" => e.application_sender = t,
            "application_receiver" => e.application_receiver = t,
            "version" => e.version = t,
            "functional_id" => e.functional_id = t,
            "set" => e.set = t,
            "usage" => {
                if t != "P" && t != "T" {
                    return Err(v.error("usage is P (production) or T (test)"));
                }
                e.usage = t;
            }
            other => {
                return Err(v.error(format!(
                    "{other} is not an envelope key (sender_qualifier, sender_id, receiver_qualifier, receiver_id, application_sender, application_receiver, version, functional_id, set, usage)"
                )));
            }
        }
    }
    Ok(e)
}
/// Validates a rendered interchange against the built-in definitions; the
/// error lists each problem with its segment and element.
fn check_rendered(edi: &[u8], file: &str) -> Result<(), MappingError> {
    use crate::x12::defs::Definitions;
    use crate::x12::envelope::{CheckOptions, Checker, check_bytes};
    use crate::x12::report::{Report, ReportFormat};
    let mut checker = Checker::new(Definitions::embedded(), &CheckOptions::default())
        .map_err(|e| MappingError::Io(format!("{file}: {e}")))?;
    let mut report = Report::new(Vec::new(), ReportFormat::Text, true);
    let summary = check_bytes(edi, &mut checker, &mut report).map_err(|e| {
        MappingError::Io(format!("{file}: the rendered X12 does not read back: {e}"))
    })?;
    if summary.clean() {
        return Ok(());
    }
    let text = report.into_inner().unwrap_or_default();
    Err(MappingError::Io(format!(
        "{file}: the rendered X12 is not valid, nothing is written (shorten or fix the values, \
         or change the mapping):\n{}",
        String::from_utf8_lossy(&text).trim_end()
    )))
}

/// A value as X12 can carry it: control characters (line breaks in a gift
/// message) become spaces, and the value is trimmed. Delimiters are left:
/// the writer refuses them, so an identifier is never changed behind the
/// mapping's back; free-text rules take `remove = "*~:^"` to drop them.
fn x12_safe(v: String) -> String {
    if !v.contains(char::is_control) {
        return v;
    }
    let replaced: String = v
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    replaced.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::library::Library;

    fn compile(text: &str) -> Result<OutboundMapping, MappingError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("body.toml");
        std::fs::write(&path, text).expect("write mapping");
        let loaded = Library::embedded().load(&path.display().to_string())?;
        OutboundMapping::compile(&loaded)
    }

    const FULFILLMENT: &str = r#"
[mapping]
direction = "outbound"
document = "ship_notice"
format = "json"

[json]
externalId = "netsuite/external_id"
tranDate = "ship_date"
memo = { join = ["'ASN'", "asn_number"], separator = " " }
isDropShip = true
version = 2
[json.shipStatus]
id = { value = "C" }
[json.item]
[json.item.items]
each = "netsuite/lines"
orderLine = { from = "order_line", type = "integer" }
quantity = { from = "quantity", type = "number" }
itemReceive = { from = "receive", type = "boolean" }
[json.package]
[json.package.items]
each = "netsuite/packages"
packageTrackingNumber = "tracking_number"
packageWeight = { from = "weight", type = "number", default = "1" }
[json.nothing]
here = "no/such/path"
"#;

    #[test]
    fn a_json_body_has_typed_members_objects_and_arrays() {
        let mapping = compile(FULFILLMENT).expect("compiles");
        let doc = serde_json::json!({
            "type": "ship_notice", "asn_number": "SHP-5001", "ship_date": "2024-01-17",
            "orders": [{"po_number": "PO1"}]
        });
        let context = serde_json::json!({
            "external_id": "dg-856-acme-SHP-5001-PO1",
            "lines": [
                {"order_line": "3", "quantity": "2.50", "receive": "true"},
                {"order_line": "7", "receive": "false"}
            ],
            "packages": [{"tracking_number": "1Z9"}, {"tracking_number": "1Z8", "weight": "4.2"}]
        });
        let body = mapping
            .render_json(&doc, Some(("netsuite", &context)), "asn.json")
            .expect("renders");
        assert_eq!(
            body.to_string(),
            serde_json::json!({
                "externalId": "dg-856-acme-SHP-5001-PO1",
                "tranDate": "2024-01-17",
                "memo": "ASN SHP-5001",
                "isDropShip": true,
                "version": 2,
                "shipStatus": {"id": "C"},
                "item": {"items": [
                    {"orderLine": 3, "quantity": 2.5, "itemReceive": true},
                    {"orderLine": 7, "itemReceive": false}
                ]},
                "package": {"items": [
                    {"packageTrackingNumber": "1Z9", "packageWeight": 1},
                    {"packageTrackingNumber": "1Z8", "packageWeight": 4.2}
                ]}
            })
            .to_string()
        );
    }

    #[test]
    fn a_value_that_is_not_its_type_says_where() {
        let mapping = compile(FULFILLMENT).expect("compiles");
        let doc = serde_json::json!({"type": "ship_notice", "asn_number": "S"});
        let context = serde_json::json!({"lines": [{"order_line": "three"}]});
        let e = mapping
            .render_json(&doc, Some(("netsuite", &context)), "asn.json")
            .expect_err("not a whole number")
            .to_string();
        assert!(e.contains("\"three\" is not a whole number"), "{e}");
        assert!(e.contains("body.toml:18)"), "{e}");
        let e = mapping
            .render_json(&serde_json::json!({"type": "invoice"}), None, "inv.json")
            .expect_err("wrong type")
            .to_string();
        assert!(
            e.contains("a invoice document")
                || e.contains("an invoice document")
                || e.contains("invoice document"),
            "{e}"
        );
    }

    #[test]
    fn bad_json_bodies_are_refused_where_written() {
        let e = compile(&FULFILLMENT.replace("type = \"integer\"", "type = \"int\""))
            .expect_err("bad type")
            .to_string();
        assert!(e.contains("type is \"string\""), "{e}");
        let e = compile(&FULFILLMENT.replace("[json]\n", "[json]\neach = \"orders\"\n"))
            .expect_err("each at the top")
            .to_string();
        assert!(e.contains("[json] is one object"), "{e}");
    }
}
