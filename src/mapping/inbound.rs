//! Inbound mappings: compiled against the shape of a canonical document
//! type, evaluated on decoded trees, written as canonical JSON.
//!
//! A mapping's top-level keys are the document's fields, in any order; the
//! output follows the model's order. A scalar field is a rule; an object
//! field is a table of its fields (with an optional `from` context and
//! `when`); a list of objects has `each` (one item per node found),
//! `otherwise` (what to use when `each` finds nothing) and `when`; a list of
//! values is a rule with `all = true`. A field the mapping does not name is
//! left out (lists are written empty).
//!
//! Streaming: a top-level list marked `stream = true`, whose `each` is a
//! chain of names from the root (`LIN`, `record`, `Inventory/Item`), is
//! written item by item as the decoder completes them; the fields before it
//! are evaluated when the first item arrives.

use std::collections::HashMap;
use std::sync::Arc;

use crate::format::{DocumentSink, Flavor, Name, NodeId, Origin, Row, SinkError, Tree, Verdict};
use crate::model::schema::{Field, Shape};
use crate::model::{DocumentType, Extraction, Source, SourceFormat};

use super::MappingError;
use super::escape::write_string;
use super::hold::{Held, Output};
use super::library::{Direction as LoadDirection, Library, Loaded};
use super::path::{Compiler, Cond, Eval, Item, Path, Probed, Probes, Scratch, Vars};
use super::rows::{RowFailure, RowPlan, RowSite, record_place};
use super::rule::{Codes, Direction, Rule, RuleContext, RuleError, Target, is_rule_table};
use super::spec::Spec;

/// How a value is written in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Json {
    String,
    Number,
    Bool,
}

#[derive(Debug)]
pub(super) enum Plan {
    Scalar(Rule, Json),
    Values(Rule, Json),
    Object(ObjectPlan),
    List(ListPlan),
}

#[derive(Debug)]
pub(super) struct FieldPlan {
    pub(super) name: String,
    /// `"name":`, written once.
    pub(super) key: Box<[u8]>,
    pub(super) required: bool,
    pub(super) is_list: bool,
    pub(super) plan: Option<Plan>,
    /// A scalar rule that finds its value by paths and only trims and
    /// converts it ([`Rule::is_plain`]): the value found is written
    /// straight to the output ([`Rule::write_plain`]).
    pub(super) plain: bool,
    /// For a plain field whose paths are all probes of its object
    /// ([`ObjectPlan::probes`]): their numbers, in the rule's order.
    probes: Option<Box<[u16]>>,
}

#[derive(Debug)]
pub(super) struct ObjectPlan {
    pub(super) file: Arc<str>,
    pub(super) line: u32,
    pub(super) from: Option<Path>,
    pub(super) when: Option<Cond>,
    pub(super) fields: Vec<FieldPlan>,
    /// The one-step paths of the plain fields, looked up together (X12).
    probes: Probes,
}

#[derive(Debug)]
pub(super) struct ListPlan {
    file: Arc<str>,
    line: u32,
    each: Path,
    otherwise: Option<Path>,
    pub(super) when: Option<Cond>,
    pub(super) item: ObjectPlan,
    stream: bool,
    /// Where `stream` is written (for messages).
    stream_at: (Arc<str>, u32),
    /// `on_error = "skip"`: an item that cannot be mapped is left out and
    /// reported, and the rest of the list goes on.
    pub(super) skip_bad: bool,
}

/// A compiled inbound mapping.
#[derive(Debug)]
pub struct InboundMapping {
    /// The mapping's name (`x12/850`, `partners/acme/inventory`).
    pub name: String,
    /// The type of document it makes.
    pub document: DocumentType,
    /// The input format.
    pub flavor: Flavor,
    root: ObjectPlan,
    /// Index of the streamed field, and the names from the root to stream.
    stream: Option<(usize, Vec<Name>)>,
    /// For CSV: each name a path looks for, with the rule's file and line,
    /// to be checked against the header.
    names_used: Vec<(Name, Arc<str>, u32)>,
    /// `each` of the document table: one document per node found (a CSV
    /// record, an XML `<Shipment>`), instead of one per file.
    each: Option<Path>,
    /// When `each` is a chain of names from the root: the names, so that
    /// each document is streamed as its node completes.
    each_stream: Option<Vec<Name>>,
    /// For a CSV feed's streamed list: its items as column reads, mapped
    /// from the decoder's fields without a tree.
    rows: Option<RowPlan>,
    /// For CSV: the required rules and the columns each may read, to be
    /// checked against the header.
    required_columns: Vec<RequiredColumns>,
}

/// A required rule of a CSV mapping and the columns it reads: a header
/// that has none of them fails the file at once, instead of every record.
#[derive(Debug)]
struct RequiredColumns {
    /// The output field (`items[].sku`).
    field: String,
    file: Arc<str>,
    line: u32,
    /// For each path the rule (or its fallbacks) reads, the names of its
    /// steps (a record's column, mostly).
    paths: Vec<Vec<Name>>,
}

impl InboundMapping {
    /// Compiles a loaded mapping; names are interned in `tree`, which must
    /// be the tree the mapping then reads.
    pub fn compile(loaded: &Loaded, tree: &mut Tree) -> Result<InboundMapping, MappingError> {
        let header = &loaded.header;
        if header.direction != LoadDirection::Inbound {
            return Err(loaded
                .spec
                .error("this is an outbound mapping (direction = \"outbound\")"));
        }
        let document = header.document.ok_or_else(|| {
            loaded
                .spec
                .error("an inbound mapping names its document in [mapping] document = \"...\"")
        })?;
        let mut codes = HashMap::new();
        if let Some(tables) = loaded.spec.get("codes") {
            for (name, table) in tables.table().unwrap_or(&[]) {
                codes.insert(name.clone(), Arc::new(Codes::from_spec(table)?));
            }
        }
        let mut paths = Compiler {
            tree,
            flavor: header.flavor,
        };
        let mut cx = RuleContext {
            paths: &mut paths,
            codes: &codes,
            direction: Direction::Inbound,
        };
        let shape = Shape::of(document);
        let Shape::Object(fields) = shape else {
            return Err(MappingError::NotFound(format!("no shape for {document}")));
        };
        for (key, value) in loaded.spec.table().unwrap_or(&[]) {
            if key != "mapping" && key != "codes" && key != document.name() {
                return Err(value.error(format!(
                    "{key} is not a section of an inbound {document} mapping ([mapping], [codes.NAME], [{document}])"
                )));
            }
        }
        let body = loaded.spec.get(document.name()).ok_or_else(|| {
            loaded.spec.error(format!(
                "the fields of the document go in a [{document}] table"
            ))
        })?;
        let each = body.get("each").map(|e| path_of(e, &mut cx)).transpose()?;
        let root = compile_object(body, fields, &mut cx, &["each"], true)?;
        let each_stream = each.as_ref().and_then(Path::simple_names);
        if let Some(e) = body.get("each")
            && header.flavor == Flavor::X12
        {
            return Err(e.error(
                "X12 makes one document per transaction set; each is for CSV and XML files",
            ));
        }
        let mut stream = None;
        for (i, f) in root.fields.iter().enumerate() {
            if let Some(Plan::List(l)) = &f.plan
                && l.stream
            {
                if stream.is_some() {
                    return Err(MappingError::spec(
                        &l.file,
                        l.line,
                        "only one list can stream".into(),
                    ));
                }
                if each.is_some() {
                    return Err(MappingError::spec(
                        &l.file,
                        l.line,
                        "with one document per node (each), the documents stream, not a list"
                            .into(),
                    ));
                }
                let names = l.each.simple_names().ok_or_else(|| {
                    MappingError::spec(
                        &l.file,
                        l.line,
                        format!(
                            "a streamed list needs each = a chain of names from the root (like \"LIN\" or \"Items/Item\"), not {:?}",
                            l.each.text()
                        ),
                    )
                })?;
                if let Some(later) = root.fields[i + 1..].iter().find(|f| f.plan.is_some()) {
                    return Err(MappingError::spec(
                        &l.file,
                        l.line,
                        format!(
                            "a streamed list must be the last field mapped, and {} comes after {} in {document}",
                            later.name, f.name
                        ),
                    ));
                }
                stream = Some((i, names));
            }
        }
        nested_streams(&root, true)?;
        let mut names_used = Vec::new();
        let mut required_columns = Vec::new();
        if header.flavor.is_tabular() {
            names_in(&root, &mut names_used);
            required_in(&root, "", &mut required_columns);
        }
        let rows = match (&stream, header.flavor) {
            (Some((i, _)), f) if f.is_tabular() => match &root.fields[*i].plan {
                Some(Plan::List(l)) => RowPlan::compile(l),
                _ => None,
            },
            _ => None,
        };
        Ok(InboundMapping {
            name: loaded.name.clone(),
            document,
            flavor: header.flavor,
            root,
            stream,
            names_used,
            each,
            each_stream,
            rows,
            required_columns,
        })
    }

    /// The error for a required rule none of whose columns the CSV header
    /// has: a renamed column would otherwise fail every record alike.
    pub fn missing_required_column(&self, tree: &Tree) -> Option<MappingError> {
        if !self.flavor.is_tabular() {
            return None;
        }
        let columns = tree.columns();
        if columns.is_empty() {
            return None;
        }
        let names = tree.names();
        let structural = |n: &Name| {
            let text = names.text(*n);
            text == crate::format::csv::RECORD || text == crate::format::csv::GROUP
        };
        let found = |path: &Vec<Name>| {
            let mut read = path.iter().filter(|n| !structural(n)).peekable();
            read.peek().is_none() || read.any(|n| columns.contains(n))
        };
        let r = self
            .required_columns
            .iter()
            .find(|r| !r.paths.iter().any(found))?;
        let mut wanted: Vec<String> = Vec::new();
        for n in r.paths.iter().flatten().filter(|n| !structural(n)) {
            let text = format!("{:?}", names.text(*n));
            if !wanted.contains(&text) {
                wanted.push(text);
            }
        }
        Some(MappingError::Eval {
            file: Arc::clone(&r.file),
            line: r.line,
            field: r.field.clone(),
            message: format!(
                "is required, and the header has no column {} (the header's columns: {})",
                wanted.join(" or "),
                shorten(
                    &columns
                        .iter()
                        .map(|c| shorten(names.text(*c), 40))
                        .collect::<Vec<_>>()
                        .join(", "),
                    600
                )
            ),
            place: format!("{}: the header", tree.source_name()),
        })
    }

    /// Notes on the names a CSV mapping looks for that the file's header
    /// does not have: a misspelt column otherwise just maps to nothing.
    pub fn unknown_columns(&self, tree: &Tree) -> Vec<String> {
        if !self.flavor.is_tabular() {
            return Vec::new();
        }
        let columns = tree.columns();
        if columns.is_empty() {
            return Vec::new();
        }
        let names = tree.names();
        let mut missing: Vec<(Name, String)> = Vec::new();
        for (name, file, line) in &self.names_used {
            let text = names.text(*name);
            if columns.contains(name)
                || missing.iter().any(|(n, _)| n == name)
                || text == crate::format::csv::RECORD
                || text == crate::format::csv::GROUP
            {
                continue;
            }
            missing.push((*name, format!("{text:?} ({file}:{line})")));
        }
        if missing.is_empty() {
            return Vec::new();
        }
        let what = if missing.len() == 1 {
            "column"
        } else {
            "columns"
        };
        vec![format!(
            "the header has no {what} {}: what reads {} finds nothing (the header's columns: {})",
            missing
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if missing.len() == 1 { "it" } else { "them" },
            shorten(
                &columns
                    .iter()
                    .map(|c| shorten(names.text(*c), 40))
                    .collect::<Vec<_>>()
                    .join(", "),
                600
            )
        )]
    }
}

/// `text` cut to about `max` bytes (on a character boundary), with `…`.
fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Refuses `stream = true` below the document's own fields: only a list of
/// the document itself can stream.
fn nested_streams(plan: &ObjectPlan, top: bool) -> Result<(), MappingError> {
    for f in &plan.fields {
        match &f.plan {
            Some(Plan::List(l)) => {
                if l.stream && !top {
                    return Err(MappingError::spec(
                        &l.stream_at.0,
                        l.stream_at.1,
                        "only a list of the document itself can stream, not a list inside another field".into(),
                    ));
                }
                nested_streams(&l.item, false)?;
            }
            Some(Plan::Object(o)) => nested_streams(o, false)?,
            _ => {}
        }
    }
    Ok(())
}

/// Collects the required rules of a plan with the names their paths read;
/// `prefix` is the output path of the plan (`items[].`).
fn required_in(plan: &ObjectPlan, prefix: &str, out: &mut Vec<RequiredColumns>) {
    for f in &plan.fields {
        match &f.plan {
            Some(Plan::Scalar(rule, _)) | Some(Plan::Values(rule, _)) if rule.required => {
                let paths: Vec<Vec<Name>> = rule.paths().iter().map(|p| p.step_names()).collect();
                // A constant, or a fact such as $file, is always there.
                if rule.finds_constant() || paths.is_empty() || paths.iter().any(Vec::is_empty) {
                    continue;
                }
                out.push(RequiredColumns {
                    field: format!("{prefix}{}", f.name),
                    file: Arc::clone(&rule.file),
                    line: rule.line,
                    paths,
                });
            }
            Some(Plan::Object(o)) => required_in(o, &format!("{prefix}{}.", f.name), out),
            Some(Plan::List(l)) => required_in(&l.item, &format!("{prefix}{}[].", f.name), out),
            _ => {}
        }
    }
}

/// Collects the names the paths of a plan look for.
fn names_in(plan: &ObjectPlan, out: &mut Vec<(Name, Arc<str>, u32)>) {
    fn push(out: &mut Vec<(Name, Arc<str>, u32)>, names: Vec<Name>, file: &Arc<str>, line: u32) {
        out.extend(names.into_iter().map(|n| (n, Arc::clone(file), line)));
    }
    if let Some(p) = &plan.from {
        push(out, p.step_names(), &plan.file, plan.line);
    }
    let mut nested = Vec::new();
    for f in &plan.fields {
        match &f.plan {
            Some(Plan::Scalar(rule, _)) | Some(Plan::Values(rule, _)) => {
                for p in rule.paths() {
                    push(out, p.step_names(), &rule.file, rule.line);
                }
                push(out, rule.condition_names(), &rule.file, rule.line);
            }
            Some(Plan::Object(o)) => nested.push(o),
            Some(Plan::List(l)) => {
                push(out, l.each.step_names(), &l.file, l.line);
                if let Some(o) = &l.otherwise {
                    push(out, o.step_names(), &l.file, l.line);
                }
                nested.push(&l.item);
            }
            None => {}
        }
    }
    for o in nested {
        names_in(o, out);
    }
}

fn target_of(shape: &Shape) -> (Target, Json) {
    match shape {
        Shape::Text => (Target::Text, Json::String),
        Shape::Decimal => (Target::Decimal, Json::Number),
        Shape::Integer => (Target::Integer, Json::Number),
        Shape::Date => (Target::Date, Json::String),
        Shape::Bool => (Target::Bool, Json::Bool),
        Shape::Enum(v) => (Target::Enum(v.clone()), Json::String),
        Shape::Object(_) | Shape::List(_) => (Target::Text, Json::String),
    }
}

fn compile_object(
    spec: &Spec,
    fields: &[Field],
    cx: &mut RuleContext<'_, '_>,
    reserved: &[&str],
    root: bool,
) -> Result<ObjectPlan, MappingError> {
    let table = spec
        .table()
        .ok_or_else(|| spec.error(format!("expected a table of fields, found {}", spec.kind())))?;
    let mut plan = ObjectPlan {
        file: Arc::clone(&spec.file),
        line: spec.line,
        from: None,
        when: None,
        fields: fields
            .iter()
            .map(|f| FieldPlan {
                name: f.name.clone(),
                key: {
                    let mut k = Vec::new();
                    write_key(&mut k, &f.name);
                    k.into_boxed_slice()
                },
                required: f.required,
                is_list: matches!(f.shape, Shape::List(_)),
                plan: None,
                plain: false,
                probes: None,
            })
            .collect(),
        probes: Probes::default(),
    };
    for (key, value) in table {
        if reserved.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "from" if !root => {
                plan.from = Some(path_of(value, cx)?);
                continue;
            }
            "when" if !root => {
                plan.when = Some(cond_of(value, cx)?);
                continue;
            }
            _ => {}
        }
        let Some(index) = fields.iter().position(|f| f.name == *key) else {
            let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return Err(value.error(format!(
                "{key} is not a field here (fields: {})",
                known.join(", ")
            )));
        };
        if matches!(value.value, super::spec::Value::Bool(false)) {
            continue;
        }
        let field = &fields[index];
        let compiled = compile_field(value, &field.shape, cx)?;
        // `required = true` makes the field required in this mapping, as
        // the model makes some required in every mapping.
        if let Plan::Scalar(rule, _) | Plan::Values(rule, _) = &compiled {
            plan.fields[index].required |= rule.required;
        }
        plan.fields[index].plain =
            matches!(&compiled, Plan::Scalar(rule, _) if rule.is_plain() && rule.finds_by_paths());
        plan.fields[index].plan = Some(compiled);
    }
    if cx.paths.flavor == Flavor::X12 {
        add_probes(&mut plan);
    }
    Ok(plan)
}

/// Makes the relative fast paths of an X12 object's plain fields probes
/// of the object, when there are at least two: they are then looked up in
/// one pass over the object's children.
fn add_probes(plan: &mut ObjectPlan) {
    let mut probes = Probes::default();
    let mut taken = Vec::new();
    for (i, f) in plan.fields.iter().enumerate() {
        let Some(Plan::Scalar(rule, _)) = &f.plan else {
            continue;
        };
        let Some(paths) = rule.unconditional_paths().filter(|_| f.plain) else {
            continue;
        };
        // Only a rule whose paths are all probes: one that reads others
        // (an absolute path) is looked up path by path.
        if !paths.iter().all(Probes::takes) {
            continue;
        }
        let mut before = None;
        let ids: Option<Box<[u16]>> = paths
            .iter()
            .map(|p| {
                before = Some(probes.add(p, before)?);
                before
            })
            .collect();
        if let Some(ids) = ids {
            taken.push((i, ids));
        }
    }
    if probes.len() < 2 {
        return;
    }
    for (i, ids) in taken {
        plan.fields[i].probes = Some(ids);
    }
    plan.probes = probes;
}

fn path_of(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<Path, MappingError> {
    let text = spec
        .as_str()
        .ok_or_else(|| spec.error(format!("expected a path, found {}", spec.kind())))?;
    cx.paths.path(text).map_err(|e| spec.error(e.0))
}

fn cond_of(spec: &Spec, cx: &mut RuleContext<'_, '_>) -> Result<Cond, MappingError> {
    let text = spec
        .as_str()
        .ok_or_else(|| spec.error(format!("expected a condition, found {}", spec.kind())))?;
    cx.paths.cond(text).map_err(|e| spec.error(e.0))
}

fn compile_field(
    spec: &Spec,
    shape: &Shape,
    cx: &mut RuleContext<'_, '_>,
) -> Result<Plan, MappingError> {
    match shape {
        Shape::Object(fields) => {
            if spec.table().is_none() {
                return Err(spec.error(format!(
                    "this field is an object: give a table of its fields ({})",
                    fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Ok(Plan::Object(compile_object(spec, fields, cx, &[], false)?))
        }
        Shape::List(item) => match item.as_ref() {
            Shape::Object(fields) => {
                let each = spec.get("each").ok_or_else(|| {
                    spec.error("a list of objects needs each = \"path\" (one item per node found)")
                })?;
                let each = path_of(each, cx)?;
                let otherwise = spec.get("otherwise").map(|o| path_of(o, cx)).transpose()?;
                let when = spec.get("when").map(|w| cond_of(w, cx)).transpose()?;
                let stream = match spec.get("stream") {
                    Some(s) => s
                        .as_bool()
                        .ok_or_else(|| s.error("stream takes true or false"))?,
                    None => false,
                };
                let stream_at = spec.get("stream").map_or_else(
                    || (Arc::clone(&spec.file), spec.line),
                    |s| (Arc::clone(&s.file), s.line),
                );
                let skip_bad = match spec.get("on_error") {
                    Some(s) => match s.as_str() {
                        Some("skip") => true,
                        Some("fail") => false,
                        _ => return Err(s.error("on_error is \"fail\" (the default) or \"skip\"")),
                    },
                    None => false,
                };
                let item = compile_object(
                    spec,
                    fields,
                    cx,
                    &["each", "otherwise", "when", "stream", "on_error"],
                    true,
                )?;
                Ok(Plan::List(ListPlan {
                    file: Arc::clone(&spec.file),
                    line: spec.line,
                    each,
                    otherwise,
                    when,
                    item,
                    stream,
                    stream_at,
                    skip_bad,
                }))
            }
            scalar => {
                let (target, json) = target_of(scalar);
                let mut rule = Rule::compile(spec, target, cx)?;
                rule.all = true;
                Ok(Plan::Values(rule, json))
            }
        },
        scalar => {
            if spec.table().is_some() && !is_rule_table(spec) {
                return Err(spec.error(format!(
                    "this field is a {}: give a path or a rule table (from, value, codes, date, ...)",
                    scalar.describe()
                )));
            }
            let (target, json) = target_of(scalar);
            Ok(Plan::Scalar(Rule::compile(spec, target, cx)?, json))
        }
    }
}

/// One output value and where it came from (`dropgate mapping explain`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The output field (`lines[0].sku`).
    pub field: String,
    /// The value written.
    pub value: String,
    /// The rule's file and line.
    pub rule: String,
    /// Where in the input the value came from, if from the input.
    pub from: Option<String>,
    /// That place, as the tree holds it (a PDF value's page, left and
    /// top; see `format::pdf::template`).
    pub at: Option<crate::format::tree::Place>,
    /// The document the value is in (`document 2, set 850 0002`).
    pub document: String,
}

/// A file's name without its folder: what `source.file_name` and `$file`
/// say, whether the file was named by a path (`translate dir/a.csv`) or
/// came from a channel.
pub(super) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Facts about the input that paths may name.
struct Facts<'a> {
    origin: &'a Origin,
    partner: Option<&'a str>,
}

impl Vars for Facts<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let o = self.origin;
        match name {
            "file" | "file.name" => o.file_name.as_deref().map(|f| base_name(f).to_string()),
            "file.stem" => o.file_name.as_deref().map(|f| {
                let base = base_name(f);
                base.rsplit_once('.').map_or(base, |(s, _)| s).to_string()
            }),
            "partner" => self.partner.map(String::from),
            "set" => o.set_id.clone(),
            "version" => o.version.clone(),
            "sender" => o.sender.as_ref().map(|s| s.1.clone()),
            "receiver" => o.receiver.as_ref().map(|s| s.1.clone()),
            "application_sender" => o.application_sender.clone(),
            "application_receiver" => o.application_receiver.clone(),
            "interchange" => o.interchange_control_number.clone(),
            "group" => o.group_control_number.clone(),
            "control_number" => o.set_control_number.clone(),
            _ => None,
        }
    }
}

/// A step of the path of an output field, for messages.
#[derive(Clone, Copy, Debug)]
enum Part<'m> {
    Name(&'m str),
    Index(u64),
}

/// Writes documents of one mapping as JSON.
struct Writer<'m, 'e, 't, 'v> {
    eval: &'e Eval<'t, 'v>,
    /// The output field being written: the list and index of a streamed
    /// item, then the names and indexes below. A scalar field's own name
    /// is added only when a message or a trace needs it.
    item: Option<(&'m str, u64)>,
    field: Vec<Part<'m>>,
    trace: Option<&'e mut Vec<Trace>>,
    /// Items left out of lists with `on_error = "skip"`, and why.
    skipped: Vec<(String, MappingError)>,
    /// Plain values are written straight from what their paths find (off
    /// for the reference, which makes every value the general way).
    plain: bool,
}

impl<'m, 'e, 't, 'v> Writer<'m, 'e, 't, 'v> {
    fn new(eval: &'e Eval<'t, 'v>, trace: Option<&'e mut Vec<Trace>>) -> Self {
        Writer {
            plain: trace.is_none() && eval.is_fast(),
            eval,
            item: None,
            field: Vec::new(),
            trace,
            skipped: Vec::new(),
        }
    }
}

impl<'m> Writer<'m, '_, '_, '_> {
    /// Runs `f` with `name` added to the output field's path.
    fn named<T>(&mut self, name: &'m str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.field.push(Part::Name(name));
        let r = f(self);
        self.field.pop();
        r
    }

    fn field_path(&self) -> String {
        let mut s = String::new();
        let item = self
            .item
            .map(|(name, i)| [Part::Name(name), Part::Index(i)]);
        for part in item.iter().flatten().chain(&self.field) {
            match part {
                Part::Name(n) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(n);
                }
                Part::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    fn place(&self, item: Option<Item>) -> String {
        let tree = self.eval.tree;
        let file = tree.source_name();
        // The root is the whole document, not a place in it.
        match item
            .and_then(|i| i.node().map(|n| (i, n)))
            .filter(|&(_, n)| n != tree.root())
        {
            Some((i, n)) => {
                let offset = match i {
                    Item::Slice { start, .. } => start.saturating_sub(tree.text_start(n)),
                    _ => 0,
                };
                format!("{file}: {}", tree.describe(n, offset))
            }
            None => file.to_string(),
        }
    }

    fn rule_error(&self, rule: &Rule, e: RuleError, context: NodeId) -> MappingError {
        let item = e.item.or(Some(Item::Node(context)));
        MappingError::Eval {
            file: Arc::clone(&rule.file),
            line: rule.line,
            field: self.field_path(),
            message: e.message,
            place: self.place(item),
        }
    }

    fn missing(&self, file: &Arc<str>, line: u32, context: NodeId) -> MappingError {
        MappingError::Eval {
            file: Arc::clone(file),
            line,
            field: self.field_path(),
            message: "is required, and the mapping found no value".into(),
            place: self.place(Some(Item::Node(context))),
        }
    }

    fn record(&mut self, rule: &Rule, value: &str, item: Option<Item>) {
        if self.trace.is_none() {
            return;
        }
        let field = self.field_path();
        let from = match item {
            Some(i) if i.node().is_some() => Some(self.place(item)),
            // A variable: the file's name, the partner, the envelope.
            Some(i) => rule.variable(i).map(|v| format!("${v}")),
            None => None,
        };
        let tree = self.eval.tree;
        let at = item
            .and_then(|i| i.node())
            .filter(|&n| n != tree.root())
            .map(|n| tree.place(n));
        if let Some(t) = self.trace.as_mut() {
            t.push(Trace {
                field,
                value: value.to_string(),
                rule: format!("{}:{}", rule.file, rule.line),
                from,
                at,
                document: String::new(),
            });
        }
    }

    fn scalar(&self, out: &mut Vec<u8>, text: &str, json: Json) {
        match json {
            Json::String => write_string(out, text),
            Json::Number | Json::Bool => out.extend_from_slice(text.as_bytes()),
        }
    }

    /// Writes the fields of `plan` from `range` (without braces); returns
    /// whether any was written.
    fn fields(
        &mut self,
        plan: &'m ObjectPlan,
        range: std::ops::Range<usize>,
        context: NodeId,
        out: &mut Vec<u8>,
        mut first: bool,
    ) -> Result<bool, MappingError> {
        let comma = |out: &mut Vec<u8>, first: &mut bool| {
            if !*first {
                out.push(b',');
            }
            *first = false;
        };
        // What the plan's probes find, when a field first needs it.
        let mut probed: Option<Vec<Probed>> = None;
        for f in &plan.fields[range] {
            match &f.plan {
                None => {
                    if f.is_list {
                        comma(out, &mut first);
                        out.extend_from_slice(&f.key);
                        out.extend_from_slice(b"[]");
                    } else if f.required {
                        return Err(
                            self.named(&f.name, |w| w.missing(&plan.file, plan.line, context))
                        );
                    }
                }
                Some(Plan::Scalar(rule, json)) => {
                    if f.plain && self.plain {
                        // The common case: the value found, written as it
                        // is converted; the general way below otherwise.
                        let eval = self.eval;
                        let found = match &f.probes {
                            Some(ids) => {
                                let probed =
                                    probed.get_or_insert_with(|| eval.probe(&plan.probes, context));
                                // As Rule::found: the first path's value;
                                // a probe that cannot decide leaves the rule
                                // to it.
                                match ids
                                    .iter()
                                    .map(|&i| probed[usize::from(i)])
                                    .find(|p| *p != Probed::Missing)
                                {
                                    Some(Probed::Found(item)) => {
                                        Some(std::borrow::Cow::Borrowed(eval.item_text(item)))
                                    }
                                    Some(_) => rule.found(eval, context),
                                    None => None,
                                }
                            }
                            None => rule.found(eval, context),
                        };
                        match found {
                            Some(raw) => {
                                let (mark, was_first) = (out.len(), first);
                                comma(out, &mut first);
                                out.extend_from_slice(&f.key);
                                if rule.write_plain(&raw, out) {
                                    continue;
                                }
                                out.truncate(mark);
                                first = was_first;
                            }
                            // Nothing found and nothing to fall back on: no
                            // field.
                            None if !rule.has_fallback() && !f.required => continue,
                            None => {}
                        }
                    }
                    let v = match rule.value(self.eval, context) {
                        Ok(v) => v,
                        Err(e) => {
                            return Err(self.named(&f.name, |w| w.rule_error(rule, e, context)));
                        }
                    };
                    match v {
                        Some(p) => {
                            comma(out, &mut first);
                            out.extend_from_slice(&f.key);
                            self.scalar(out, &p.text, *json);
                            if self.trace.is_some() {
                                self.named(&f.name, |w| w.record(rule, &p.text, p.item));
                            }
                        }
                        None if f.required => {
                            return Err(
                                self.named(&f.name, |w| w.missing(&rule.file, rule.line, context))
                            );
                        }
                        None => {}
                    }
                }
                Some(Plan::Values(rule, json)) => {
                    self.field.push(Part::Name(&f.name));
                    let values = rule
                        .values(self.eval, context)
                        .map_err(|e| self.rule_error(rule, e, context))?;
                    if values.is_empty() && f.required {
                        let e = self.missing(&rule.file, rule.line, context);
                        self.field.pop();
                        return Err(e);
                    }
                    comma(out, &mut first);
                    out.extend_from_slice(&f.key);
                    out.push(b'[');
                    for (i, p) in values.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        self.scalar(out, &p.text, *json);
                        self.field.push(Part::Index(i as u64));
                        self.record(rule, &p.text, p.item);
                        self.field.pop();
                    }
                    out.push(b']');
                    self.field.pop();
                }
                Some(Plan::Object(o)) => {
                    self.field.push(Part::Name(&f.name));
                    let ctx = self.object_context(o, context);
                    match ctx {
                        Some(c) => {
                            let mark = out.len();
                            let was_first = first;
                            comma(out, &mut first);
                            out.extend_from_slice(&f.key);
                            out.push(b'{');
                            let n = o.fields.len();
                            if self.fields(o, 0..n, c, out, true)? {
                                out.push(b'}');
                            } else {
                                // Nothing found: no empty object.
                                out.truncate(mark);
                                first = was_first;
                            }
                        }
                        None if f.required => {
                            let e = self.missing(&o.file, o.line, context);
                            self.field.pop();
                            return Err(e);
                        }
                        None => {}
                    }
                    self.field.pop();
                }
                Some(Plan::List(l)) => {
                    self.field.push(Part::Name(&f.name));
                    comma(out, &mut first);
                    out.extend_from_slice(&f.key);
                    out.push(b'[');
                    let items = self.list_items(l, context);
                    let mut written = 0u64;
                    for node in items.iter().filter_map(Item::node) {
                        let mark = out.len();
                        if written > 0 {
                            out.push(b',');
                        }
                        let depth = self.field.len();
                        self.field.push(Part::Index(written));
                        let r = self.item(l, node, out);
                        // An error leaves the names of the fields it was in.
                        self.field.truncate(depth);
                        match r {
                            Ok(()) => written += 1,
                            Err(e) if l.skip_bad => {
                                out.truncate(mark);
                                let what = self.place(Some(Item::Node(node)));
                                self.skipped.push((what, e));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    self.eval.give_back(items);
                    out.push(b']');
                    self.field.pop();
                }
            }
        }
        if let Some(p) = probed {
            self.eval.give_probed(p);
        }
        Ok(!first)
    }

    fn object_context(&self, o: &ObjectPlan, context: NodeId) -> Option<NodeId> {
        let c = match &o.from {
            Some(p) => self.eval.first_node(p, context)?,
            None => context,
        };
        if let Some(w) = &o.when
            && !self.eval.holds(w, c)
        {
            return None;
        }
        Some(c)
    }

    /// The nodes of a list's items, in a buffer of the evaluator's (to be
    /// given back).
    fn list_items(&self, l: &ListPlan, context: NodeId) -> Vec<Item> {
        let mut nodes = self.eval.nodes_in_buffer(&l.each, context);
        if nodes.is_empty()
            && let Some(o) = &l.otherwise
        {
            self.eval.give_back(nodes);
            nodes = self.eval.nodes_in_buffer(o, context);
        }
        if let Some(w) = &l.when {
            nodes.retain(|i| i.node().is_some_and(|n| self.eval.holds(w, n)));
        }
        nodes
    }

    fn item(
        &mut self,
        l: &'m ListPlan,
        node: NodeId,
        out: &mut Vec<u8>,
    ) -> Result<(), MappingError> {
        out.push(b'{');
        let n = l.item.fields.len();
        self.fields(&l.item, 0..n, node, out, true)?;
        out.push(b'}');
        Ok(())
    }
}

fn write_key(out: &mut Vec<u8>, key: &str) {
    write_string(out, key);
    out.push(b':');
}

/// How `translate` writes documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// One JSON array; one document per line inside it.
    Array,
    /// One document per line, nothing around them.
    Lines,
}

/// What went wrong with one document (the run goes on).
#[derive(Clone, Debug)]
pub struct Problem {
    /// The input file.
    pub file: String,
    /// Which document (`set 850 0001`), if the input has several.
    pub document: Option<String>,
    /// What went wrong, one line each.
    pub messages: Vec<String>,
    /// The X12 envelope or validation rejected it: the partner is told (by
    /// the 997/999/TA1) to send it again. Otherwise the mapping could not
    /// make it, which is ours to fix.
    pub rejected: bool,
}

/// The documents written for one X12 group (or for the whole input, when
/// it has no envelopes), by their numbers in the output (0 is the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSpan {
    /// ISA13.
    pub interchange: Option<String>,
    /// GS06.
    pub group: Option<String>,
    /// The documents' numbers.
    pub documents: std::ops::Range<u64>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(d) = &self.document {
            write!(f, ": {d}")?;
        }
        for (i, m) in self.messages.iter().enumerate() {
            if i == 0 {
                write!(f, ": {m}")?;
            } else {
                write!(f, "\n    {m}")?;
            }
        }
        Ok(())
    }
}

/// Picks the mapping for each document.
pub enum Choice {
    /// One mapping for every document.
    Fixed(Box<Loaded>),
    /// X12: by set ID, the partner's mapping first, then the built-in one.
    ByPartner(Option<String>),
}

/// The serialized source object of the last envelope, around its set
/// control number.
struct HeadCache {
    key: Origin,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

impl HeadCache {
    /// True when `origin` differs from the cached one at most in its set
    /// control number.
    fn fits(&self, origin: &Origin) -> bool {
        let Origin {
            flavor,
            file_name,
            interchange_control_number,
            group_control_number,
            set_control_number: _,
            sender,
            receiver,
            application_sender,
            application_receiver,
            set_id,
            version,
            template,
            ocr,
        } = origin;
        let k = &self.key;
        *flavor == k.flavor
            && *file_name == k.file_name
            && *interchange_control_number == k.interchange_control_number
            && *group_control_number == k.group_control_number
            && *sender == k.sender
            && *receiver == k.receiver
            && *application_sender == k.application_sender
            && *application_receiver == k.application_receiver
            && *set_id == k.set_id
            && *version == k.version
            && *template == k.template
            && *ocr == k.ocr
    }
}

struct Open {
    mapping: Arc<InboundMapping>,
    /// Kept for streamed items, which come before the document's end.
    origin: Option<Arc<Origin>>,
    /// The document's start (and its streamed items so far) is written, or
    /// held.
    head_written: bool,
    items: u64,
    failed: bool,
    /// An X12 set's streamed document: held back (see [`super::hold`])
    /// until the set's verdict, and a mapping error waits for it too.
    hold: bool,
    /// The mapping error of a held document, reported with the verdict.
    error: Option<MappingError>,
    /// The CSV header was checked against the mapping's columns.
    columns_checked: bool,
    /// Documents begun for nodes found by the document's `each`.
    each_found: u64,
}

/// Streamed items are handed to the writer in chunks of about this size:
/// a few system calls per megabyte, and little memory.
const FLUSH_AT: usize = 1 << 16;

/// A [`DocumentSink`] that maps each document and writes it as JSON.
pub struct Translator<'l, W: Output> {
    library: &'l Library,
    choice: Choice,
    partner: Option<String>,
    compiled: Vec<(String, String, Result<Arc<InboundMapping>, String>)>,
    out: W,
    mode: OutputMode,
    buf: Vec<u8>,
    /// A document being written, reused.
    doc: Vec<u8>,
    head_cache: Option<HeadCache>,
    written: u64,
    open: Option<Open>,
    /// What went wrong, per document.
    pub problems: Vec<Problem>,
    /// What looks wrong without failing anything (a column the header does
    /// not have).
    pub warnings: Vec<String>,
    /// Traces of every value, when explaining.
    pub trace: Option<Vec<Trace>>,
    /// Whether flat records may be mapped from their fields (see
    /// [`super::rows`]); off, every record goes through the tree.
    rows: bool,
    /// Records mapped from their fields.
    rows_taken: u64,
    /// The first document of the set being read, and the problems before
    /// it.
    set_first: u64,
    set_problems: usize,
    /// Documents written for sets with a problem (written in part, or
    /// whole before the set's verdict was known): not to be used.
    pub untrusted: Vec<std::ops::Range<u64>>,
    /// The documents of each group, in order.
    pub spans: Vec<EnvelopeSpan>,
    /// The streamed document of the open X12 set, until its verdict.
    held: Held,
    /// The evaluators' buffers, from one item to the next.
    scratch: Scratch,
    /// Map every value the general way (see [`Translator::set_reference`]).
    reference: bool,
}

impl<'l, W: Output> Translator<'l, W> {
    /// A translator writing to `out`.
    pub fn new(
        library: &'l Library,
        choice: Choice,
        partner: Option<String>,
        out: W,
        mode: OutputMode,
    ) -> Self {
        Translator {
            library,
            choice,
            partner,
            compiled: Vec::new(),
            out,
            mode,
            buf: Vec::with_capacity(FLUSH_AT + (1 << 12)),
            doc: Vec::new(),
            head_cache: None,
            written: 0,
            open: None,
            problems: Vec::new(),
            warnings: Vec::new(),
            trace: None,
            rows: true,
            rows_taken: 0,
            set_first: 0,
            set_problems: 0,
            untrusted: Vec::new(),
            spans: Vec::new(),
            held: Held::default(),
            scratch: Scratch::default(),
            reference: false,
        }
    }

    /// Maps every value the general way: every path by the general walk,
    /// every value through all of its rule's transforms, every record
    /// through the tree (as [`Translator::set_rows`] off). The output is
    /// the same; tests compare the two.
    pub fn set_reference(&mut self, on: bool) {
        self.reference = on;
        if on {
            self.rows = false;
        }
    }

    /// An evaluator over `tree`, with the translator's buffers (given back
    /// with [`Eval::into_scratch`]).
    fn evaluator<'t, 'v>(
        scratch: &mut Scratch,
        reference: bool,
        tree: &'t Tree,
        facts: &'v Facts<'_>,
    ) -> Eval<'t, 'v> {
        let eval = Eval::reusing(tree, facts, std::mem::take(scratch));
        if reference { eval.general() } else { eval }
    }

    /// CSV records mapped from their fields so far, without a tree.
    pub fn rows_from_fields(&self) -> u64 {
        self.rows_taken
    }

    /// Maps flat records from their fields when the mapping allows it (the
    /// default), or always through the tree: the two give the same output,
    /// and tests compare them.
    pub fn set_rows(&mut self, on: bool) {
        self.rows = on;
    }

    /// Holds streamed X12 documents past 4 MB in a temporary file in `dir`
    /// (see [`super::hold`]) instead of the system's temporary folder.
    pub fn hold_in(&mut self, dir: std::path::PathBuf) {
        self.held = Held::default().in_dir(dir);
    }

    /// Documents written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the output (closes the array) and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.mode == OutputMode::Array {
            if self.written == 0 {
                self.out.write_all(b"[]\n")?;
            } else {
                self.out.write_all(b"\n]\n")?;
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// The compiled mapping for a document: one for every document with a
    /// fixed mapping, else per set ID and version (a partner's mapping may
    /// be for one version only). Failures are remembered too, so that a
    /// file of many sets of an unmapped type is not looked up set by set.
    fn mapping_for(
        &mut self,
        tree: &mut Tree,
        origin: &Origin,
    ) -> Result<Arc<InboundMapping>, String> {
        // A TA1 is no transaction set: a mapping chosen for the file's sets
        // is not for it (unless it says so), and the TA1's own mapping reads it.
        let by_set = match &self.choice {
            Choice::Fixed(l) => {
                origin.set_id.as_deref() == Some("TA1") && !l.header.sets.iter().any(|s| s == "TA1")
            }
            Choice::ByPartner(_) => true,
        };
        let (set_id, version) = if by_set {
            (
                origin.set_id.as_deref().unwrap_or(""),
                origin.version.as_deref().unwrap_or(""),
            )
        } else {
            ("", "")
        };
        if let Some((_, _, m)) = self
            .compiled
            .iter()
            .find(|(s, v, _)| s == set_id && v == version)
        {
            return m.clone();
        }
        let loaded = match &self.choice {
            Choice::Fixed(l) if !by_set => Ok((**l).clone()),
            Choice::Fixed(_) => self
                .library
                .for_x12_set(None, set_id, origin.version.as_deref())
                .map_err(|e| e.to_string()),
            Choice::ByPartner(partner) => self
                .library
                .for_x12_set(partner.as_deref(), set_id, origin.version.as_deref())
                .map_err(|e| e.to_string()),
        };
        let result = loaded.and_then(|l| {
            InboundMapping::compile(&l, tree)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        self.compiled
            .push((set_id.to_string(), version.to_string(), result.clone()));
        result
    }

    fn begin_document(&mut self, origin: &Origin) -> std::io::Result<()> {
        match self.mode {
            OutputMode::Array if self.written == 0 => self.out.write_all(b"[\n")?,
            OutputMode::Array => self.out.write_all(b",\n")?,
            OutputMode::Lines => {}
        }
        let n = self.written;
        match self.spans.last_mut() {
            Some(span)
                if span.interchange == origin.interchange_control_number
                    && span.group == origin.group_control_number =>
            {
                span.documents.end = n + 1;
            }
            _ => self.spans.push(EnvelopeSpan {
                interchange: origin.interchange_control_number.clone(),
                group: origin.group_control_number.clone(),
                documents: n..n + 1,
            }),
        }
        self.written += 1;
        Ok(())
    }

    /// Writes a document made without a mapping (a PDF invoice read
    /// without a template, [`super::generic`]), framed as the others are.
    pub fn write_made(&mut self, origin: &Origin, json: &[u8]) -> std::io::Result<()> {
        self.begin_document(origin)?;
        self.out.write_all(json)?;
        self.end_document()
    }

    fn end_document(&mut self) -> std::io::Result<()> {
        if self.mode == OutputMode::Lines {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn describe(origin: &Origin) -> Option<String> {
        origin.set_id.as_ref().map(|id| {
            format!(
                "set {id} {}",
                origin.set_control_number.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_string()
        })
    }

    /// Once per document, when the header is known: notes on the columns
    /// the mapping reads that the header does not have, and an error when
    /// a required rule has none of its columns.
    fn check_columns(&mut self, tree: &Tree) -> Result<(), SinkError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if open.columns_checked {
            return Ok(());
        }
        open.columns_checked = true;
        if let Some(e) = open.mapping.missing_required_column(tree) {
            open.failed = true;
            return Err(Box::new(e));
        }
        let file = tree.source_name();
        let notes = open.mapping.unknown_columns(tree);
        self.warnings
            .extend(notes.into_iter().map(|n| format!("{file}: note: {n}")));
        Ok(())
    }

    /// Names the document of the traces recorded since the last call.
    fn label_traces(&self, trace: &mut Option<Vec<Trace>>, origin: &Origin) {
        let Some(trace) = trace else {
            return;
        };
        let label = match Self::describe(origin) {
            Some(d) => format!("document {}, {d}", self.written + 1),
            None => format!("document {}", self.written + 1),
        };
        for t in trace.iter_mut().rev().take_while(|t| t.document.is_empty()) {
            t.document.clone_from(&label);
        }
    }

    /// Reports the items left out of lists with `on_error = "skip"`.
    fn skipped(&mut self, origin: &Origin, skipped: Vec<(String, MappingError)>) {
        let prefix = format!("{}: ", origin.file_name.as_deref().unwrap_or_default());
        let messages = skipped
            .into_iter()
            .map(|(what, e)| {
                let what = what.strip_prefix(&prefix).unwrap_or(&what).to_string();
                let e = e.to_string();
                let e = e.strip_prefix(&prefix).unwrap_or(&e);
                format!("item left out (on_error = \"skip\"), the one from {what}: {e}")
            })
            .collect();
        self.problem(origin, messages);
    }

    /// A problem of the mapping.
    fn problem(&mut self, origin: &Origin, messages: Vec<String>) {
        self.push_problem(origin, messages, false);
    }

    /// A set the X12 validation rejected.
    fn rejection(&mut self, origin: &Origin, messages: Vec<String>) {
        self.push_problem(origin, messages, true);
    }

    fn push_problem(&mut self, origin: &Origin, messages: Vec<String>, rejected: bool) {
        let file = origin.file_name.clone().unwrap_or_default();
        // The problem names the file once; messages that start with it
        // (places in the input) lose that start.
        let prefix = format!("{file}: ");
        let messages = messages
            .into_iter()
            .map(|m| match m.strip_prefix(&prefix) {
                Some(rest) if !file.is_empty() => rest.to_string(),
                _ => m,
            })
            .collect();
        self.problems.push(Problem {
            file,
            document: Self::describe(origin),
            messages,
            rejected,
        });
    }

    /// Writes `{"type":...,"source":{...}` for a document. The source
    /// object is the same for every set of a group but its control number,
    /// so it is serialized once per envelope and the number spliced in.
    fn head(
        cache: &mut Option<HeadCache>,
        partner: &Option<String>,
        mapping: &InboundMapping,
        origin: &Origin,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(b"{\"type\":");
        write_string(out, mapping.document.name());
        out.extend_from_slice(b",\"source\":");
        let Some(number) = origin.set_control_number.as_deref() else {
            let _ = serde_json::to_writer(&mut *out, &Self::source(partner, origin));
            return;
        };
        let fresh = cache.as_ref().is_none_or(|c| !c.fits(origin));
        if fresh {
            // A marker no control number can hold, found again in the
            // serialized text.
            const MARK: &str = "\u{1}set\u{1}";
            let mut key = origin.clone();
            key.set_control_number = Some(MARK.to_string());
            let mut text = Vec::new();
            let _ = serde_json::to_writer(&mut text, &Self::source(partner, &key));
            let escaped = b"\"\\u0001set\\u0001\"";
            let Some(at) = text.windows(escaped.len()).position(|w| w == escaped) else {
                let _ = serde_json::to_writer(&mut *out, &Self::source(partner, origin));
                return;
            };
            key.set_control_number = None;
            *cache = Some(HeadCache {
                key,
                prefix: text[..at].to_vec(),
                suffix: text[at + escaped.len()..].to_vec(),
            });
        }
        if let Some(c) = cache {
            out.extend_from_slice(&c.prefix);
            write_string(out, number);
            out.extend_from_slice(&c.suffix);
        }
    }

    fn source(partner: &Option<String>, origin: &Origin) -> Source {
        Source {
            format: match origin.flavor {
                Flavor::X12 => SourceFormat::X12,
                Flavor::Csv => SourceFormat::Csv,
                Flavor::Xml => SourceFormat::Xml,
                Flavor::Json => SourceFormat::Json,
                Flavor::Pdf => SourceFormat::Pdf,
                Flavor::Xlsx => SourceFormat::Xlsx,
                Flavor::Fixed => SourceFormat::Fixed,
            },
            partner: partner.clone(),
            file_name: origin
                .file_name
                .as_deref()
                .map(|f| base_name(f).to_string()),
            interchange_control_number: origin.interchange_control_number.clone(),
            group_control_number: origin.group_control_number.clone(),
            set_control_number: origin.set_control_number.clone(),
            sender_id: origin.sender.as_ref().map(|s| s.1.clone()),
            sender_qualifier: origin.sender.as_ref().map(|s| s.0.clone()),
            receiver_id: origin.receiver.as_ref().map(|s| s.1.clone()),
            receiver_qualifier: origin.receiver.as_ref().map(|s| s.0.clone()),
            application_sender: origin.application_sender.clone(),
            application_receiver: origin.application_receiver.clone(),
            set_id: origin.set_id.clone(),
            version: origin.version.clone(),
            extraction: match (origin.flavor, origin.ocr) {
                (Flavor::Pdf, true) => Some(Extraction::Ocr),
                (Flavor::Pdf, false) => Some(Extraction::Template),
                _ => None,
            },
            template: origin.template.clone(),
        }
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Hands the streamed items written so far on: to the output, or to
    /// what is held until the set's verdict.
    fn pass_on(&mut self) -> Result<(), SinkError> {
        if self.open.as_ref().is_some_and(|o| o.hold) {
            self.held.write(&self.buf)?;
            self.buf.clear();
            Ok(())
        } else {
            self.flush()
        }
    }

    /// Keeps the first mapping error of a held document for its verdict;
    /// the rest of the document is not mapped.
    fn hold_error(&mut self, e: MappingError) {
        if let Some(open) = self.open.as_mut() {
            open.failed = true;
            open.error.get_or_insert(e);
        }
    }
}

impl<W: Output> DocumentSink for Translator<'_, W> {
    fn start(&mut self, tree: &mut Tree, origin: &Origin) -> Result<Option<Vec<Name>>, SinkError> {
        self.open = None;
        self.set_first = self.written;
        self.set_problems = self.problems.len();
        match self.mapping_for(tree, origin) {
            Ok(m) => {
                let stream = match &m.each_stream {
                    Some(names) => Some(names.clone()),
                    None => m.stream.as_ref().map(|(_, names)| names.clone()),
                };
                self.held.discard();
                self.open = Some(Open {
                    mapping: m,
                    origin: stream.as_ref().map(|_| Arc::new(origin.clone())),
                    head_written: false,
                    items: 0,
                    failed: false,
                    hold: origin.flavor == Flavor::X12,
                    error: None,
                    columns_checked: false,
                    each_found: 0,
                });
                // Explaining keeps the whole document: no streaming.
                Ok(if self.trace.is_some() { None } else { stream })
            }
            Err(e) => {
                self.problem(origin, vec![e]);
                Ok(None)
            }
        }
    }

    fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if open.failed {
            return Ok(());
        }
        self.check_columns(tree)?;
        if let Some(open) = self.open.as_ref()
            && open.mapping.each.is_some()
            && let Some(origin) = open.origin.clone()
        {
            let mapping = Arc::clone(&open.mapping);
            if let Some(open) = self.open.as_mut() {
                open.each_found += 1;
            }
            return self.document_at(tree, &origin, &mapping, node);
        }
        if !self.open.as_ref().is_some_and(|o| o.head_written) {
            self.write_head(tree)?;
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let mapping = Arc::clone(&open.mapping);
        let Some((index, _)) = &mapping.stream else {
            return Ok(());
        };
        let Some(Plan::List(list)) = &mapping.root.fields[*index].plan else {
            return Ok(());
        };
        let Some(origin) = open.origin.clone() else {
            return Ok(());
        };
        if !open.head_written {
            return Ok(());
        }
        let items = open.items;
        let hold = open.hold;
        let facts = Facts {
            origin: &origin,
            partner: self.partner.as_deref(),
        };
        let eval = Self::evaluator(&mut self.scratch, self.reference, tree, &facts);
        if list.when.as_ref().is_some_and(|c| !eval.holds(c, node)) {
            self.scratch = eval.into_scratch();
            return Ok(());
        }
        let mut buf = std::mem::take(&mut self.buf);
        let mut w = Writer::new(&eval, None);
        let mark = buf.len();
        if items > 0 {
            buf.push(b',');
        }
        w.item = Some((&mapping.root.fields[*index].name, items));
        let result = w.item(list, node, &mut buf);
        let mut skipped = std::mem::take(&mut w.skipped);
        let result = match result {
            Err(e) if list.skip_bad => {
                skipped.push((w.place(Some(Item::Node(node))), e));
                Err(None)
            }
            r => r.map_err(Some),
        };
        drop(w);
        self.scratch = eval.into_scratch();
        let written = match result {
            Ok(()) => true,
            Err(None) => {
                buf.truncate(mark);
                false
            }
            Err(Some(e)) if hold => {
                buf.truncate(mark);
                self.buf = buf;
                self.hold_error(e);
                return Ok(());
            }
            Err(Some(e)) => {
                self.buf = buf;
                return Err(Box::new(e));
            }
        };
        self.buf = buf;
        if written && let Some(open) = self.open.as_mut() {
            open.items += 1;
        }
        if !skipped.is_empty() {
            self.skipped(&origin, skipped);
        }
        if self.buf.len() > FLUSH_AT {
            self.pass_on()?;
        }
        Ok(())
    }

    fn row(&mut self, tree: &Tree, row: &Row<'_>) -> Result<bool, SinkError> {
        // The first record goes through the tree: the fields before the
        // streamed list are evaluated on it.
        let Some(open) = self
            .open
            .as_ref()
            .filter(|o| self.rows && o.head_written && !o.failed && o.mapping.each.is_none())
        else {
            return Ok(false);
        };
        let mapping = Arc::clone(&open.mapping);
        let (Some(plan), Some((index, _))) = (&mapping.rows, &mapping.stream) else {
            return Ok(false);
        };
        let Some(Plan::List(list)) = &mapping.root.fields[*index].plan else {
            return Ok(false);
        };
        let items = open.items;
        let origin = open.origin.clone();
        match plan.takes(tree, row) {
            Ok(true) => {}
            Ok(false) => {
                self.rows_taken += 1;
                return Ok(true);
            }
            Err(_) => return Ok(false),
        }
        let site = RowSite {
            file: tree.source_name(),
            list: &mapping.root.fields[*index].name,
            index: items,
        };
        let mark = self.buf.len();
        if items > 0 {
            self.buf.push(b',');
        }
        match plan.write(list, tree, row, &site, &mut self.buf) {
            Ok(()) => {
                if let Some(open) = self.open.as_mut() {
                    open.items += 1;
                }
            }
            Err(RowFailure::Undecided) => {
                self.buf.truncate(mark);
                return Ok(false);
            }
            Err(RowFailure::Failed(e)) if list.skip_bad => {
                self.buf.truncate(mark);
                let what = record_place(&site, row);
                if let Some(origin) = origin {
                    self.skipped(&origin, vec![(what, e)]);
                }
            }
            Err(RowFailure::Failed(e)) => return Err(Box::new(e)),
        }
        self.rows_taken += 1;
        if self.buf.len() > FLUSH_AT {
            self.pass_on()?;
        }
        Ok(true)
    }

    fn end(&mut self, tree: &Tree, origin: &Origin, verdict: Verdict) -> Result<(), SinkError> {
        let r = self.end_set(tree, origin, verdict);
        if self.problems.len() > self.set_problems && self.written > self.set_first {
            self.untrusted.push(self.set_first..self.written);
        }
        r
    }
}

impl<W: Output> Translator<'_, W> {
    /// Ends a set (or a CSV or XML input): writes what is left of its
    /// document(s) or records why not.
    fn end_set(&mut self, tree: &Tree, origin: &Origin, verdict: Verdict) -> Result<(), SinkError> {
        self.check_columns(tree)?;
        let Some(mut open) = self.open.take() else {
            if let Verdict::Rejected(m) = verdict {
                self.rejection(origin, m);
            }
            return Ok(());
        };
        let mapping = Arc::clone(&open.mapping);
        if let Some(each) = &mapping.each {
            let mut found = open.each_found;
            if let Verdict::Rejected(m) = verdict {
                self.rejection(origin, m);
                return Ok(());
            }
            if mapping.each_stream.is_none() || self.trace.is_some() {
                // Not streamed: every node is in the tree now.
                let nodes: Vec<NodeId> = {
                    let facts = Facts {
                        origin,
                        partner: self.partner.as_deref(),
                    };
                    let eval = Self::evaluator(&mut self.scratch, self.reference, tree, &facts);
                    let nodes = eval.nodes(each, tree.root());
                    self.scratch = eval.into_scratch();
                    nodes
                };
                found += nodes.len() as u64;
                for node in nodes {
                    self.document_at(tree, origin, &mapping, node)?;
                }
            }
            if found == 0 {
                self.warnings.push(format!(
                    "{}: note: each = {:?} found nothing in the file: no document",
                    tree.source_name(),
                    each.text()
                ));
            }
            return Ok(());
        }
        let facts = Facts {
            origin,
            partner: self.partner.as_deref(),
        };
        let eval = Self::evaluator(&mut self.scratch, self.reference, tree, &facts);
        let mut trace = self.trace.take();
        let result = if let Some(e) = open.error.take() {
            // A held document that failed: nothing more to map.
            (Err(e), Vec::new())
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            let mut w = Writer::new(&eval, trace.as_mut());
            let n = mapping.root.fields.len();
            let r = if open.head_written {
                // Close the streamed list; nothing maps after it.
                buf.extend_from_slice(b"]");
                let from = mapping.stream.as_ref().map_or(n, |(i, _)| i + 1);
                w.fields(&mapping.root, from..n, tree.root(), &mut buf, false)
                    .map(|_| buf.push(b'}'))
            } else {
                let mut doc = std::mem::take(&mut self.doc);
                doc.clear();
                Self::head(
                    &mut self.head_cache,
                    &self.partner,
                    &mapping,
                    origin,
                    &mut doc,
                );
                let r = w
                    .fields(&mapping.root, 0..n, tree.root(), &mut doc, false)
                    .map(|_| doc.push(b'}'));
                if r.is_ok() {
                    buf.extend_from_slice(&doc);
                }
                self.doc = doc;
                r
            };
            self.buf = buf;
            (r, std::mem::take(&mut w.skipped))
        };
        let (result, skipped) = result;
        self.scratch = eval.into_scratch();
        self.label_traces(&mut trace, origin);
        self.trace = trace;
        if !skipped.is_empty() {
            self.skipped(origin, skipped);
        }
        let rejected = match verdict {
            Verdict::Accepted => None,
            Verdict::Rejected(m) => Some(m),
        };
        let released = open.hold && open.head_written;
        match (result, rejected) {
            (Ok(()), None) => {
                if released {
                    // Accepted: what was held goes out first, in order.
                    self.begin_document(origin)?;
                    self.out.release(&mut self.held)?;
                } else if !open.head_written {
                    self.begin_document(origin)?;
                }
                self.flush()?;
                self.end_document()?;
            }
            (result, rejected) => {
                if open.hold {
                    // Rejected, or not mappable: nothing of it is written.
                    self.held.discard();
                    self.buf.clear();
                } else if open.head_written {
                    // Part of it is out already: end it, so the output
                    // stays readable, and say it is not to be trusted.
                    if result.is_err() {
                        self.buf.extend_from_slice(b"]}");
                    }
                    self.flush()?;
                    self.end_document()?;
                } else {
                    self.buf.clear();
                }
                let mut messages = Vec::new();
                let was_rejected = rejected.is_some();
                if let Some(m) = rejected {
                    messages.push("the set is rejected:".to_string());
                    messages.extend(m);
                }
                if let Err(e) = result {
                    messages.push(e.to_string());
                }
                if was_rejected {
                    self.rejection(origin, messages);
                } else {
                    self.problem(origin, messages);
                }
            }
        }
        Ok(())
    }
}

impl<W: Output> Translator<'_, W> {
    /// Writes one whole document whose fields are read from `context` (a
    /// node found by the document's `each`); a document that cannot be
    /// mapped is a problem, and the next one is written all the same.
    fn document_at(
        &mut self,
        tree: &Tree,
        origin: &Origin,
        mapping: &InboundMapping,
        context: NodeId,
    ) -> Result<(), SinkError> {
        let facts = Facts {
            origin,
            partner: self.partner.as_deref(),
        };
        let eval = Self::evaluator(&mut self.scratch, self.reference, tree, &facts);
        let mut trace = self.trace.take();
        let mut doc = std::mem::take(&mut self.doc);
        doc.clear();
        Self::head(
            &mut self.head_cache,
            &self.partner,
            mapping,
            origin,
            &mut doc,
        );
        let (result, skipped) = {
            let mut w = Writer::new(&eval, trace.as_mut());
            let n = mapping.root.fields.len();
            let r = w
                .fields(&mapping.root, 0..n, context, &mut doc, false)
                .map(|_| doc.push(b'}'));
            (r, std::mem::take(&mut w.skipped))
        };
        self.scratch = eval.into_scratch();
        self.label_traces(&mut trace, origin);
        self.trace = trace;
        if !skipped.is_empty() {
            self.skipped(origin, skipped);
        }
        let out = match result {
            Ok(()) => {
                self.begin_document(origin)?;
                self.buf.extend_from_slice(&doc);
                self.flush()?;
                self.end_document().map_err(Into::into)
            }
            Err(e) => {
                self.problem(origin, vec![e.to_string()]);
                Ok(())
            }
        };
        self.doc = doc;
        out
    }

    /// Before the first streamed item: writes (or holds) the document's
    /// start and the fields before the streamed list.
    fn write_head(&mut self, tree: &Tree) -> Result<(), SinkError> {
        let Some(open) = self.open.as_ref() else {
            return Ok(());
        };
        if open.head_written {
            return Ok(());
        }
        let mapping = Arc::clone(&open.mapping);
        let Some(origin) = open.origin.clone() else {
            return Ok(());
        };
        let origin = &origin;
        let Some((index, _)) = &mapping.stream else {
            return Ok(());
        };
        let facts = Facts {
            origin,
            partner: self.partner.as_deref(),
        };
        let eval = Self::evaluator(&mut self.scratch, self.reference, tree, &facts);
        let mut doc = Vec::new();
        Self::head(
            &mut self.head_cache,
            &self.partner,
            &mapping,
            origin,
            &mut doc,
        );
        let mut w = Writer::new(&eval, None);
        let r = w.fields(&mapping.root, 0..*index, tree.root(), &mut doc, false);
        let skipped = std::mem::take(&mut w.skipped);
        drop(w);
        self.scratch = eval.into_scratch();
        if !skipped.is_empty() {
            self.skipped(origin, skipped);
        }
        let hold = self.open.as_ref().is_some_and(|o| o.hold);
        if let Err(e) = r {
            if hold {
                self.hold_error(e);
                return Ok(());
            }
            if let Some(open) = self.open.as_mut() {
                open.failed = true;
            }
            return Err(Box::new(e));
        }
        doc.push(b',');
        doc.extend_from_slice(&mapping.root.fields[*index].key);
        doc.push(b'[');
        // A held document begins when its set is accepted.
        if !hold {
            self.begin_document(origin)?;
        }
        self.buf.extend_from_slice(&doc);
        if let Some(open) = self.open.as_mut() {
            open.head_written = true;
        }
        Ok(())
    }
}
