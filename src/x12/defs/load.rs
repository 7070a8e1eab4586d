//! Loading definitions from the data files of `x12/`.
//!
//! Each version has a folder (`004010/`, `005010/`) holding `elements.toml`
//! (the data element dictionary), `segments.toml` (composites and segments)
//! and one file per transaction set (`850.toml`, ...). A version may
//! `extends` another: its dictionary starts as a copy of the other's and its
//! entries replace or add whole elements, composites and segments. The format
//! is described in `x12/README.md`. Every problem is reported with the file
//! and line it comes from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::model::{
    CodeList, CompositeDef, Dictionary, ElementDef, ElementKind, ElementType, ElementUse, LoopNode,
    Node, Requirement, SegmentDef, SegmentNode, SetDef, SyntaxRule, UNBOUNDED, Usage,
};
use crate::x12::ids::SegmentId;

/// The `schema_version` this code reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A problem in a definition file, with its place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct DefsError {
    /// The file, as named to the loader.
    pub file: String,
    /// The line, from 1 (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl DefsError {
    pub(crate) fn new(file: &str, line: usize, message: impl Into<String>) -> Self {
        DefsError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn toml(file: &str, text: &str, e: toml::de::Error) -> Self {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        DefsError::new(file, line, e.message().to_string())
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementsFile {
    schema_version: u32,
    version: String,
    #[serde(default)]
    extends: Option<String>,
    #[serde(default)]
    elements: BTreeMap<String, Spanned<RawElement>>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElement {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    min: u32,
    max: u32,
    #[serde(default)]
    codes: BTreeMap<String, String>,
    #[serde(default)]
    closed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentsFile {
    schema_version: u32,
    version: String,
    #[serde(default)]
    extends: Option<String>,
    #[serde(default)]
    composites: BTreeMap<String, Spanned<RawComposite>>,
    #[serde(default)]
    segments: BTreeMap<String, Spanned<RawSegment>>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComposite {
    name: String,
    components: Vec<String>,
    #[serde(default)]
    syntax: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    name: String,
    #[serde(default)]
    elements: Vec<String>,
    #[serde(default)]
    syntax: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFile {
    schema_version: u32,
    id: String,
    name: String,
    functional_group: String,
    structure: Spanned<String>,
}

/// Raw entries with the file and line each came from, merged across
/// `extends`.
#[derive(Clone, Default)]
struct RawDictionary {
    elements: BTreeMap<String, (RawElement, String, usize)>,
    composites: BTreeMap<String, (RawComposite, String, usize)>,
    segments: BTreeMap<String, (RawSegment, String, usize)>,
}

/// The definitions of one version: its dictionary and its sets.
#[derive(Clone, Debug)]
pub struct VersionDefs {
    /// The dictionary.
    pub dictionary: Arc<Dictionary>,
    /// Sets by ID.
    pub sets: BTreeMap<String, Arc<SetDef>>,
}

/// Every version's definitions.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    versions: BTreeMap<String, VersionDefs>,
}

fn check_schema(file: &str, text: &str, v: u32) -> Result<(), DefsError> {
    if v == SCHEMA_VERSION {
        Ok(())
    } else {
        let line = text
            .lines()
            .position(|l| l.starts_with("schema_version"))
            .map_or(1, |i| i + 1);
        Err(DefsError::new(
            file,
            line,
            format!("schema_version {v} is not supported (this dropgate reads {SCHEMA_VERSION})"),
        ))
    }
}

impl Definitions {
    /// Loads definitions from `(path, text)` pairs whose paths look like
    /// `004010/elements.toml`, `004010/segments.toml`, `004010/850.toml`.
    /// `README.md` and other non-TOML files are ignored.
    pub fn from_files<'a, I>(files: I) -> Result<Definitions, DefsError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut by_version: BTreeMap<String, Vec<(&str, &str, &str)>> = BTreeMap::new();
        for (path, text) in files {
            let Some((version, name)) = path.rsplit_once('/') else {
                continue;
            };
            let version = version.rsplit('/').next().unwrap_or(version);
            if !name.ends_with(".toml") {
                continue;
            }
            by_version
                .entry(version.to_string())
                .or_default()
                .push((path, name, text));
        }

        // Dictionaries first, following `extends` chains.
        let mut raw: BTreeMap<String, RawDictionary> = BTreeMap::new();
        let mut extends: BTreeMap<String, (Option<String>, String, usize)> = BTreeMap::new();
        let mut own: BTreeMap<String, RawDictionary> = BTreeMap::new();
        for (version, files) in &by_version {
            let mut dict = RawDictionary::default();
            for &(path, name, text) in files {
                match name {
                    "elements.toml" => {
                        let f: ElementsFile =
                            toml::from_str(text).map_err(|e| DefsError::toml(path, text, e))?;
                        check_schema(path, text, f.schema_version)?;
                        check_version(path, version, &f.version)?;
                        note_extends(&mut extends, version, f.extends, path)?;
                        for (id, e) in f.elements {
                            let line = line_of(text, e.span().start);
                            dict.elements
                                .insert(id, (e.into_inner(), path.to_string(), line));
                        }
                    }
                    "segments.toml" => {
                        let f: SegmentsFile =
                            toml::from_str(text).map_err(|e| DefsError::toml(path, text, e))?;
                        check_schema(path, text, f.schema_version)?;
                        check_version(path, version, &f.version)?;
                        note_extends(&mut extends, version, f.extends, path)?;
                        for (id, c) in f.composites {
                            let line = line_of(text, c.span().start);
                            dict.composites
                                .insert(id, (c.into_inner(), path.to_string(), line));
                        }
                        for (id, s) in f.segments {
                            let line = line_of(text, s.span().start);
                            dict.segments
                                .insert(id, (s.into_inner(), path.to_string(), line));
                        }
                    }
                    _ => {}
                }
            }
            own.insert(version.clone(), dict);
        }
        for version in own.keys() {
            let mut chain = vec![version.clone()];
            let mut at = version.clone();
            while let Some((Some(base), file, line)) = extends.get(&at) {
                if chain.contains(base) {
                    return Err(DefsError::new(
                        file,
                        *line,
                        format!("`extends` goes round in a circle: {}", chain.join(" -> ")),
                    ));
                }
                if !own.contains_key(base) {
                    return Err(DefsError::new(
                        file,
                        *line,
                        format!("`extends = \"{base}\"`: there is no version {base}"),
                    ));
                }
                chain.push(base.clone());
                at = base.clone();
            }
            let mut merged = RawDictionary::default();
            for v in chain.iter().rev() {
                let d = &own[v];
                merged.elements.extend(d.elements.clone());
                merged.composites.extend(d.composites.clone());
                merged.segments.extend(d.segments.clone());
            }
            raw.insert(version.clone(), merged);
        }

        let mut versions = BTreeMap::new();
        for (version, merged) in raw {
            let dictionary = Arc::new(compile_dictionary(&version, &merged)?);
            let mut sets = BTreeMap::new();
            for &(path, name, text) in by_version.get(&version).map(Vec::as_slice).unwrap_or(&[]) {
                if matches!(name, "elements.toml" | "segments.toml") {
                    continue;
                }
                let f: SetFile =
                    toml::from_str(text).map_err(|e| DefsError::toml(path, text, e))?;
                check_schema(path, text, f.schema_version)?;
                let expected = name.trim_end_matches(".toml");
                if f.id != expected {
                    return Err(DefsError::new(
                        path,
                        1,
                        format!("the file is named {name} but defines set {}", f.id),
                    ));
                }
                // A multi-line string drops the line break right after its
                // opening quotes, so its first line is the next one.
                let span = f.structure.span();
                let opens_with_break = text[span.start..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(['\n', '\r']);
                let first_line = line_of(text, span.start) + usize::from(opens_with_break);
                let set = compile_set(
                    path,
                    first_line,
                    f.structure.get_ref(),
                    SetHeader {
                        id: f.id.clone(),
                        name: f.name,
                        functional_group: f.functional_group,
                        version: version.clone(),
                    },
                    &dictionary,
                )?;
                sets.insert(f.id, Arc::new(set));
            }
            versions.insert(version, VersionDefs { dictionary, sets });
        }
        Ok(Definitions { versions })
    }

    /// Loads definitions from a folder laid out like `x12/`.
    pub fn from_dir(dir: &std::path::Path) -> Result<Definitions, DefsError> {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| DefsError::new(&dir.display().to_string(), 0, e.to_string()))?;
        for entry in entries.flatten() {
            let sub = entry.path();
            if !sub.is_dir() {
                continue;
            }
            let version = entry.file_name().to_string_lossy().into_owned();
            let inner = std::fs::read_dir(&sub)
                .map_err(|e| DefsError::new(&sub.display().to_string(), 0, e.to_string()))?;
            for f in inner.flatten() {
                let p = f.path();
                if p.extension().is_some_and(|e| e == "toml") {
                    let text = std::fs::read_to_string(&p)
                        .map_err(|e| DefsError::new(&p.display().to_string(), 0, e.to_string()))?;
                    files.push((
                        format!("{version}/{}", f.file_name().to_string_lossy()),
                        text,
                    ));
                }
            }
        }
        Definitions::from_files(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
    }

    /// The definitions built into dropgate (the files of `x12/`).
    pub fn embedded() -> &'static Definitions {
        static DEFS: std::sync::OnceLock<Definitions> = std::sync::OnceLock::new();
        DEFS.get_or_init(
            || match Definitions::from_files(super::embedded::FILES.iter().copied()) {
                Ok(d) => d,
                // The embedded files are checked by the test suite; a failure here
                // is a broken build, not bad input.
                Err(e) => panic!("the built-in X12 definitions do not load: {e}"),
            },
        )
    }

    /// The versions defined, e.g. `["004010", "005010"]`.
    pub fn versions(&self) -> impl Iterator<Item = &str> {
        self.versions.keys().map(String::as_str)
    }

    /// The definitions of exactly `version`.
    pub fn version(&self, version: &str) -> Option<&VersionDefs> {
        self.versions.get(version)
    }

    /// Finds the definitions for a GS08 value such as `004010VICS` or
    /// `005010X222A1`: those of the release its first six characters name,
    /// and no other. Another release of the same version is not read with
    /// these tables (004030 allows an MTX in the 850's N9 loop that 004010
    /// does not): a group in a release without definitions is rejected as
    /// not supported. Returns the version used.
    pub fn resolve(&self, gs08: &str) -> Option<(&str, &VersionDefs)> {
        let key = gs08.get(..6)?;
        if !key.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.versions
            .get_key_value(key)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The set `id` of the version that `gs08` resolves to.
    pub fn set(&self, gs08: &str, id: &str) -> Option<Arc<SetDef>> {
        self.resolve(gs08)
            .and_then(|(_, v)| v.sets.get(id).cloned())
    }

    /// Adds or replaces a version (used by tests and `--defs`).
    pub fn insert(&mut self, version: String, defs: VersionDefs) {
        self.versions.insert(version, defs);
    }
}

fn check_version(file: &str, folder: &str, declared: &str) -> Result<(), DefsError> {
    if folder == declared {
        Ok(())
    } else {
        Err(DefsError::new(
            file,
            1,
            format!("the file says version {declared} but lies in folder {folder}"),
        ))
    }
}

fn note_extends(
    extends: &mut BTreeMap<String, (Option<String>, String, usize)>,
    version: &str,
    base: Option<String>,
    file: &str,
) -> Result<(), DefsError> {
    if let Some(b) = &base
        && let Some((Some(other), other_file, _)) = extends.get(version)
        && other != b
    {
        return Err(DefsError::new(
            file,
            1,
            format!("extends {b} but {other_file} extends {other}"),
        ));
    }
    if base.is_some() || !extends.contains_key(version) {
        extends.insert(version.to_string(), (base, file.to_string(), 1));
    }
    Ok(())
}

fn compile_dictionary(version: &str, raw: &RawDictionary) -> Result<Dictionary, DefsError> {
    let mut d = Dictionary {
        version: version.to_string(),
        ..Dictionary::default()
    };
    for (id, (e, file, line)) in &raw.elements {
        let ty = ElementType::parse(&e.ty).ok_or_else(|| {
            DefsError::new(
                file,
                *line,
                format!(
                    "element {id}: unknown type {:?} (ID, AN, N0-N9, R, DT, TM or B)",
                    e.ty
                ),
            )
        })?;
        if e.min > e.max || e.max == 0 {
            return Err(DefsError::new(
                file,
                *line,
                format!(
                    "element {id}: min {} and max {} do not make sense",
                    e.min, e.max
                ),
            ));
        }
        if e.closed && e.codes.is_empty() {
            return Err(DefsError::new(
                file,
                *line,
                format!("element {id}: a closed code list needs codes"),
            ));
        }
        let codes =
            (!e.codes.is_empty()).then(|| Arc::new(CodeList::new(e.codes.clone(), e.closed)));
        d.elements.insert(
            id.clone(),
            Arc::new(ElementDef {
                id: id.clone(),
                name: e.name.clone(),
                ty,
                min: e.min,
                max: e.max,
                codes,
            }),
        );
    }
    for (id, (c, file, line)) in &raw.composites {
        let components = c
            .components
            .iter()
            .map(|s| parse_use(s, &d, false, file, *line))
            .collect::<Result<Vec<_>, _>>()?;
        let syntax = parse_syntax(&c.syntax, components.len(), file, *line)?;
        d.composites.insert(
            id.clone(),
            Arc::new(CompositeDef {
                id: id.clone(),
                name: c.name.clone(),
                components,
                syntax,
            }),
        );
    }
    for (id, (s, file, line)) in &raw.segments {
        let seg_id = SegmentId::parse(id.as_bytes())
            .ok_or_else(|| DefsError::new(file, *line, format!("{id:?} is not a segment ID")))?;
        let elements = s
            .elements
            .iter()
            .map(|e| parse_use(e, &d, true, file, *line))
            .collect::<Result<Vec<_>, _>>()?;
        let syntax = parse_syntax(&s.syntax, elements.len(), file, *line)?;
        d.segments.insert(
            seg_id,
            Arc::new(SegmentDef::new(seg_id, s.name.clone(), elements, syntax)),
        );
    }
    Ok(d)
}

/// Parses `"M 353"`, `"O C040"` or `"O 1271 10"` (requirement, reference,
/// repeat).
fn parse_use(
    s: &str,
    d: &Dictionary,
    composites: bool,
    file: &str,
    line: usize,
) -> Result<ElementUse, DefsError> {
    let bad = |why: &str| DefsError::new(file, line, format!("{s:?}: {why}"));
    let mut parts = s.split_whitespace();
    let req = parts
        .next()
        .and_then(Requirement::parse)
        .ok_or_else(|| bad("expected M, O or X first"))?;
    let reference = parts
        .next()
        .ok_or_else(|| bad("expected an element reference after the requirement"))?;
    let repeat = match parts.next() {
        None => 1,
        Some(">1") => UNBOUNDED,
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad("the repeat count must be a number or >1"))?,
    };
    if parts.next().is_some() {
        return Err(bad("too many words (requirement, reference, repeat)"));
    }
    let kind = if let Some(e) = d.elements.get(reference) {
        ElementKind::Simple(e.clone())
    } else if let Some(c) = d.composites.get(reference).filter(|_| composites) {
        ElementKind::Composite(c.clone())
    } else if composites && reference.starts_with('C') {
        return Err(bad(
            "no such composite (composites must be defined before use only in the same dictionary)",
        ));
    } else {
        return Err(bad("no such element in the dictionary"));
    };
    Ok(ElementUse {
        kind,
        req,
        repeat,
        not_used: false,
    })
}

fn parse_syntax(
    notes: &[String],
    count: usize,
    file: &str,
    line: usize,
) -> Result<Vec<SyntaxRule>, DefsError> {
    notes
        .iter()
        .map(|n| {
            let rule = SyntaxRule::parse(n).ok_or_else(|| {
                DefsError::new(
                    file,
                    line,
                    format!("{n:?} is not a syntax note (P, R, E, C or L and two-digit positions)"),
                )
            })?;
            if rule.positions.iter().any(|&p| p > count) {
                return Err(DefsError::new(
                    file,
                    line,
                    format!("syntax note {n} names a position past the last element ({count})"),
                ));
            }
            Ok(rule)
        })
        .collect()
}

struct SetHeader {
    id: String,
    name: String,
    functional_group: String,
    version: String,
}

/// Compiles the `structure` text of a set file.
///
/// Each line is a segment (`ID REQ MAX`), the start of a loop
/// (`loop NAME REQ MAX`, followed by the loop's trigger segment; `loop NAME
/// REQ MAX note` when more than MAX is noted, not rejected) or `end`.
/// `REQ` is `M` or `O`; `MAX` a number or `>1`; `#` starts a comment.
fn compile_set(
    file: &str,
    first_line: usize,
    text: &str,
    h: SetHeader,
    dict: &Arc<Dictionary>,
) -> Result<SetDef, DefsError> {
    let mut nodes: Vec<Node> = Vec::new();
    // Open loops: (node index, line).
    let root = LoopNode {
        id: String::new(),
        req: Requirement::Mandatory,
        max_repeat: 1,
        min_repeat: 1,
        max_noted: false,
        usage: Usage::Standard,
        children: Vec::new(),
        line: first_line,
    };
    nodes.push(Node::Loop(root));
    let mut stack: Vec<usize> = vec![0];
    let mut segment_ids: Vec<SegmentId> = Vec::new();
    let mut seen_any = false;

    for (i, raw_line) in text.lines().enumerate() {
        let line = first_line + i;
        let content = raw_line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let words: Vec<&str> = content.split_whitespace().collect();
        let err = |m: String| DefsError::new(file, line, m);
        let parse_req = |w: &str| match w {
            "M" => Ok(Requirement::Mandatory),
            "O" => Ok(Requirement::Optional),
            other => Err(err(format!("{other:?}: the requirement must be M or O"))),
        };
        let parse_max = |w: &str| match w {
            ">1" => Ok(UNBOUNDED),
            n => n
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| err(format!("{n:?}: the maximum must be a number or >1"))),
        };
        let parent = *stack.last().unwrap_or(&0);
        // `loop NAME REQ MAX note`: past MAX, a note instead of an error.
        let (words, noted) = match words.as_slice() {
            ["loop", name, req, max, "note"] => (vec!["loop", *name, *req, *max], true),
            _ => (words, false),
        };
        match words.as_slice() {
            ["loop", name, req, max] => {
                if let Node::Loop(p) = &nodes[parent]
                    && parent != 0
                    && p.children.is_empty()
                {
                    return Err(err(format!(
                        "loop {} must start with a segment, not a loop",
                        p.id
                    )));
                }
                let node = LoopNode {
                    id: (*name).to_string(),
                    req: parse_req(req)?,
                    max_repeat: parse_max(max)?,
                    min_repeat: 0,
                    max_noted: noted,
                    usage: Usage::Standard,
                    children: Vec::new(),
                    line,
                };
                nodes.push(Node::Loop(node));
                let idx = nodes.len() - 1;
                push_child(&mut nodes, parent, idx);
                stack.push(idx);
            }
            ["end"] => {
                if stack.len() == 1 {
                    return Err(err("`end` without an open loop".into()));
                }
                stack.pop();
            }
            [id, req, max] => {
                let seg_id = SegmentId::parse(id.as_bytes())
                    .ok_or_else(|| err(format!("{id:?} is not a segment ID")))?;
                let def = dict.segments.get(&seg_id).cloned().ok_or_else(|| {
                    err(format!(
                        "segment {id} is not in the {} dictionary (segments.toml)",
                        dict.version
                    ))
                })?;
                let req = parse_req(req)?;
                let max_use = parse_max(max)?;
                if !seen_any && seg_id != crate::x12::ids::seg::ST {
                    return Err(err("a set's structure starts with ST".into()));
                }
                seen_any = true;
                if let Node::Loop(l) = &nodes[parent]
                    && l.children.is_empty()
                    && parent != 0
                    && (req != Requirement::Mandatory || max_use != 1)
                {
                    return Err(err(format!(
                        "{id} starts loop {}: a loop's first segment is `M 1`",
                        l.id
                    )));
                }
                nodes.push(Node::Segment(SegmentNode {
                    def,
                    req,
                    max_use,
                    min_use: 0,
                    usage: Usage::Standard,
                    line,
                }));
                let idx = nodes.len() - 1;
                push_child(&mut nodes, parent, idx);
                if !segment_ids.contains(&seg_id) {
                    segment_ids.push(seg_id);
                }
            }
            _ => {
                return Err(err(format!(
                    "{content:?}: expected `ID REQ MAX`, `loop NAME REQ MAX` or `end`"
                )));
            }
        }
    }
    if stack.len() > 1 {
        let open = &nodes[stack[stack.len() - 1]];
        let (name, line) = match open {
            Node::Loop(l) => (l.id.clone(), l.line),
            Node::Segment(_) => (String::new(), first_line),
        };
        return Err(DefsError::new(
            file,
            line,
            format!("loop {name} has no `end`"),
        ));
    }
    let mut set = SetDef {
        index: Default::default(),
        id: h.id,
        name: h.name,
        functional_group: h.functional_group,
        version: h.version,
        nodes,
        root: 0,
        segment_ids,
        source: Arc::from(file),
        dictionary: dict.clone(),
    };
    set.reindex();
    let last = set.root().children.last().map(|&i| set.first_segment(i));
    if last != Some(crate::x12::ids::seg::SE) {
        return Err(DefsError::new(
            file,
            first_line,
            "a set's structure ends with SE",
        ));
    }
    Ok(set)
}

fn push_child(nodes: &mut [Node], parent: usize, child: usize) {
    if let Node::Loop(l) = &mut nodes[parent] {
        l.children.push(child);
    }
}

/// Index of every loop by its path (`N1`, `PO1/N1`), for overlays.
pub(crate) fn loop_paths(set: &SetDef) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    fn walk(set: &SetDef, node: usize, prefix: &str, out: &mut HashMap<String, usize>) {
        if let Node::Loop(l) = &set.nodes[node] {
            let path = if node == set.root {
                String::new()
            } else if prefix.is_empty() {
                l.id.clone()
            } else {
                format!("{prefix}/{}", l.id)
            };
            if node != set.root {
                out.insert(path.clone(), node);
            }
            for &c in &l.children {
                walk(set, c, &path, out);
            }
        }
    }
    walk(set, set.root, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELEMENTS: &str = r#"
schema_version = 1
version = "004010"
[elements]
"143" = { name = "Transaction Set Identifier Code", type = "ID", min = 3, max = 3 }
"329" = { name = "Transaction Set Control Number", type = "AN", min = 4, max = 9 }
"96" = { name = "Number of Included Segments", type = "N0", min = 1, max = 10 }
"98" = { name = "Entity Identifier Code", type = "ID", min = 2, max = 3 }
"93" = { name = "Name", type = "AN", min = 1, max = 60 }
"#;
    const SEGMENTS: &str = r#"
schema_version = 1
version = "004010"
[segments.ST]
name = "Transaction Set Header"
elements = ["M 143", "M 329"]
[segments.SE]
name = "Transaction Set Trailer"
elements = ["M 96", "M 329"]
[segments.N1]
name = "Name"
elements = ["M 98", "X 93"]
syntax = ["R0102"]
"#;
    const SET: &str = r#"
schema_version = 1
id = "999"
name = "Test"
functional_group = "TT"
structure = """
ST M 1
loop N1 O 200
  N1 M 1
end
SE M 1
"""
"#;

    fn load(set: &str) -> Result<Definitions, DefsError> {
        Definitions::from_files([
            ("004010/elements.toml", ELEMENTS),
            ("004010/segments.toml", SEGMENTS),
            ("004010/999.toml", set),
        ])
    }

    #[test]
    fn loads_a_small_version() {
        let d = load(SET).expect("loads");
        let set = d.set("004010VICS", "999").expect("set");
        assert_eq!(set.root().children.len(), 3);
        assert!(set.uses_segment(SegmentId::from_static("N1")));
        assert_eq!(loop_paths(&set).len(), 1);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let bad = SET.replace("  N1 M 1", "  N9 M 1");
        let e = load(&bad).expect_err("unknown segment");
        assert_eq!(e.file, "004010/999.toml");
        assert_eq!(e.line, 9);
        assert!(e.message.contains("N9"), "{e}");

        let bad = SET.replace("end\n", "");
        let e = load(&bad).expect_err("unclosed loop");
        assert!(e.message.contains("no `end`"), "{e}");

        let bad = SET.replace("  N1 M 1", "  N1 O 1");
        assert!(load(&bad).is_err());

        let e = Definitions::from_files([("004010/elements.toml", "schema_version = 1\nversion = \"004010\"\n[elements]\n\"1\" = { name = \"x\", type = \"Q\", min = 1, max = 2 }\n")]).expect_err("bad type");
        assert_eq!(e.line, 4);
    }

    #[test]
    fn versions_resolve_to_their_own_release_only() {
        let d = load(SET).expect("loads");
        assert_eq!(d.resolve("004010").map(|(v, _)| v), Some("004010"));
        assert_eq!(d.resolve("004010VICS").map(|(v, _)| v), Some("004010"));
        // Another release is not read with 004010's tables.
        assert!(d.resolve("004030").is_none());
        assert!(d.resolve("003040").is_none());
        assert!(d.resolve("005010").is_none());
        assert!(d.resolve("X").is_none());
    }

    #[test]
    fn a_version_extends_another() {
        let five = "schema_version = 1\nversion = \"005010\"\nextends = \"004010\"\n[elements]\n\"93\" = { name = \"Name\", type = \"AN\", min = 1, max = 80 }\n";
        let d = Definitions::from_files([
            ("004010/elements.toml", ELEMENTS),
            ("004010/segments.toml", SEGMENTS),
            ("005010/elements.toml", five),
            ("005010/999.toml", SET),
        ])
        .expect("loads");
        let v5 = d.version("005010").expect("5010");
        assert_eq!(v5.dictionary.elements["93"].max, 80);
        assert_eq!(
            d.version("004010").expect("4010").dictionary.elements["93"].max,
            60
        );
        assert!(v5.sets.contains_key("999"));
    }
}
