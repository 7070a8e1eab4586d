//! Partner overlays: an implementation guide laid over a standard set.
//!
//! A trading partner's guide narrows the standard: a segment becomes
//! required or not used, a loop must occur at least once, an element takes
//! only some codes. An overlay says just that, by path, without copying the
//! base definition:
//!
//! ```toml
//! schema_version = 1
//! set = "850"
//! version = "004010"        # optional: any version when absent
//! name = "ACME 850 guide"
//!
//! [[segment]]
//! path = "PO1/PID"          # loop path, then the segment ID
//! usage = "required"        # "required", "not_used" or "standard"
//!
//! [[loop]]
//! path = "N1"
//! min = 1
//! max = 3                   # strict, even where the standard's maximum is only noted
//!
//! [[element]]
//! path = "BEG02"            # segment path plus the element position
//! codes = ["DS", "SA"]
//! ```
//!
//! Applying an overlay yields a new [`SetDef`]; the shared definitions are
//! never edited.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::load::{DefsError, line_of, loop_paths};
use super::model::{CodeList, ElementDef, ElementKind, Node, Requirement, SetDef, Usage};

/// A parsed overlay file.
#[derive(Clone, Debug)]
pub struct Overlay {
    /// The file it came from.
    pub file: String,
    /// The set it applies to.
    pub set: String,
    /// The version it applies to, or every version.
    pub version: Option<String>,
    /// Its name.
    pub name: String,
    segments: Vec<(SegmentRule, usize)>,
    loops: Vec<(LoopRule, usize)>,
    elements: Vec<(ElementRule, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayFile {
    schema_version: u32,
    set: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    segment: Vec<Spanned<SegmentRule>>,
    #[serde(default, rename = "loop")]
    loops: Vec<Spanned<LoopRule>>,
    #[serde(default)]
    element: Vec<Spanned<ElementRule>>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RuleUsage {
    Required,
    NotUsed,
    Standard,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentRule {
    path: String,
    #[serde(default)]
    usage: Option<RuleUsage>,
    #[serde(default)]
    min: Option<u32>,
    #[serde(default)]
    max: Option<u32>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoopRule {
    path: String,
    #[serde(default)]
    usage: Option<RuleUsage>,
    #[serde(default)]
    min: Option<u32>,
    #[serde(default)]
    max: Option<u32>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementRule {
    path: String,
    #[serde(default)]
    usage: Option<RuleUsage>,
    #[serde(default)]
    codes: Option<Vec<String>>,
    #[serde(default)]
    min: Option<u32>,
    #[serde(default)]
    max: Option<u32>,
}

impl Overlay {
    /// Parses an overlay; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Overlay, DefsError> {
        let f: OverlayFile = toml::from_str(text).map_err(|e| DefsError::toml(file, text, e))?;
        if f.schema_version != super::load::SCHEMA_VERSION {
            return Err(DefsError::new(
                file,
                1,
                format!("schema_version {} is not supported", f.schema_version),
            ));
        }
        let line = |s: std::ops::Range<usize>| line_of(text, s.start);
        Ok(Overlay {
            file: file.to_string(),
            name: f.name.unwrap_or_else(|| file.to_string()),
            set: f.set,
            version: f.version,
            segments: f
                .segment
                .into_iter()
                .map(|s| {
                    let l = line(s.span());
                    (s.into_inner(), l)
                })
                .collect(),
            loops: f
                .loops
                .into_iter()
                .map(|s| {
                    let l = line(s.span());
                    (s.into_inner(), l)
                })
                .collect(),
            elements: f
                .element
                .into_iter()
                .map(|s| {
                    let l = line(s.span());
                    (s.into_inner(), l)
                })
                .collect(),
        })
    }

    /// Reads and parses an overlay file.
    pub fn from_path(path: &std::path::Path) -> Result<Overlay, DefsError> {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| DefsError::new(&name, 0, e.to_string()))?;
        Overlay::parse(&name, &text)
    }

    /// True when the overlay applies to `set` in `version`.
    pub fn applies_to(&self, set: &SetDef) -> bool {
        self.set == set.id && self.version.as_deref().is_none_or(|v| v == set.version)
    }

    /// Lays the overlay over `base`, returning the changed copy.
    pub fn apply(&self, base: &SetDef) -> Result<SetDef, DefsError> {
        let mut set = base.clone();
        set.source = Arc::from(format!("{} + {}", base.source, self.file));
        let loops = loop_paths(&set);
        let err = |line: usize, m: String| DefsError::new(&self.file, line, m);

        for (rule, line) in &self.loops {
            let &idx = loops.get(&rule.path).ok_or_else(|| {
                err(
                    *line,
                    format!(
                        "set {} has no loop {:?} (loops: {})",
                        set.id,
                        rule.path,
                        known(&loops)
                    ),
                )
            })?;
            if let Node::Loop(l) = &mut set.nodes[idx] {
                match rule.usage {
                    Some(RuleUsage::Required) => {
                        l.usage = Usage::Required;
                        l.req = Requirement::Mandatory;
                        l.min_repeat = l.min_repeat.max(1);
                    }
                    Some(RuleUsage::NotUsed) => l.usage = Usage::NotUsed,
                    Some(RuleUsage::Standard) | None => {}
                }
                if let Some(min) = rule.min {
                    l.min_repeat = min;
                    if min > 0 {
                        l.req = Requirement::Mandatory;
                    }
                }
                // The partner's guide states the maximum: it is strict.
                if let Some(max) = rule.max {
                    l.max_repeat = max;
                    l.max_noted = false;
                }
            }
        }
        for (rule, line) in &self.segments {
            let nodes = find_segments(&set, &loops, &rule.path).map_err(|m| err(*line, m))?;
            for idx in nodes {
                if let Node::Segment(s) = &mut set.nodes[idx] {
                    match rule.usage {
                        Some(RuleUsage::Required) => {
                            s.usage = Usage::Required;
                            s.req = Requirement::Mandatory;
                            s.min_use = s.min_use.max(1);
                        }
                        Some(RuleUsage::NotUsed) => s.usage = Usage::NotUsed,
                        Some(RuleUsage::Standard) | None => {}
                    }
                    if let Some(min) = rule.min {
                        s.min_use = min;
                        if min > 0 {
                            s.req = Requirement::Mandatory;
                        }
                    }
                    if let Some(max) = rule.max {
                        s.max_use = max;
                    }
                }
            }
        }
        for (rule, line) in &self.elements {
            let (seg_path, position, component) = split_element_path(&rule.path)
                .ok_or_else(|| err(*line, format!("{:?}: an element path is a segment path and a two-digit position, e.g. BEG02 or PO1/PID05", rule.path)))?;
            let nodes = find_segments(&set, &loops, &seg_path).map_err(|m| err(*line, m))?;
            for idx in nodes {
                if let Node::Segment(s) = &mut set.nodes[idx] {
                    let def = Arc::make_mut(&mut s.def);
                    let count = def.elements.len();
                    let u = def.elements.get_mut(position - 1).ok_or_else(|| {
                        err(
                            *line,
                            format!("{}: segment {} has {count} elements", rule.path, def.id),
                        )
                    })?;
                    let target = match (component, &mut u.kind) {
                        (None, _) => u,
                        (Some(c), ElementKind::Composite(comp)) => {
                            let comp = Arc::make_mut(comp);
                            let n = comp.components.len();
                            comp.components.get_mut(c - 1).ok_or_else(|| {
                                err(
                                    *line,
                                    format!(
                                        "{}: composite {} has {n} components",
                                        rule.path, comp.id
                                    ),
                                )
                            })?
                        }
                        (Some(_), ElementKind::Simple(_)) => {
                            return Err(err(
                                *line,
                                format!("{}: the element is not a composite", rule.path),
                            ));
                        }
                    };
                    match rule.usage {
                        Some(RuleUsage::Required) => target.req = Requirement::Mandatory,
                        Some(RuleUsage::NotUsed) => target.not_used = true,
                        Some(RuleUsage::Standard) | None => {}
                    }
                    if rule.codes.is_some() || rule.min.is_some() || rule.max.is_some() {
                        let ElementKind::Simple(e) = &mut target.kind else {
                            return Err(err(
                                *line,
                                format!(
                                    "{}: codes and lengths apply to simple elements; name a component",
                                    rule.path
                                ),
                            ));
                        };
                        let e: &mut ElementDef = Arc::make_mut(e);
                        if let Some(codes) = &rule.codes {
                            let known = e.codes.clone().unwrap_or_default();
                            let mut list = BTreeMap::new();
                            for c in codes {
                                list.insert(c.clone(), known.describe(c).unwrap_or("").to_string());
                            }
                            e.codes = Some(Arc::new(CodeList::new(list, true)));
                        }
                        if let Some(min) = rule.min {
                            e.min = min;
                        }
                        if let Some(max) = rule.max {
                            e.max = max;
                        }
                        if e.min > e.max {
                            return Err(err(
                                *line,
                                format!("{}: min {} is above max {}", rule.path, e.min, e.max),
                            ));
                        }
                    }
                }
            }
        }
        for node in &mut set.nodes {
            if let Node::Segment(s) = node {
                Arc::make_mut(&mut s.def).compile();
            }
        }
        set.reindex();
        Ok(set)
    }
}

fn known(loops: &std::collections::HashMap<String, usize>) -> String {
    let mut names: Vec<&str> = loops.keys().map(String::as_str).collect();
    names.sort_unstable();
    names.join(", ")
}

/// Node indices of the segments at `path` (`BEG`, `N1/N3`, `PO1/N1/N1`).
fn find_segments(
    set: &SetDef,
    loops: &std::collections::HashMap<String, usize>,
    path: &str,
) -> Result<Vec<usize>, String> {
    let (loop_path, seg) = match path.rsplit_once('/') {
        Some((l, s)) => (l, s),
        None => ("", path),
    };
    let parent = if loop_path.is_empty() {
        set.root
    } else {
        *loops.get(loop_path).ok_or_else(|| {
            format!(
                "set {} has no loop {loop_path:?} (loops: {})",
                set.id,
                known(loops)
            )
        })?
    };
    let Node::Loop(l) = &set.nodes[parent] else {
        return Err(format!("{loop_path} is not a loop"));
    };
    let found: Vec<usize> = l
        .children
        .iter()
        .copied()
        .filter(
            |&c| matches!(&set.nodes[c], Node::Segment(s) if s.def.id.as_bytes() == seg.as_bytes()),
        )
        .collect();
    if found.is_empty() {
        let hint = if loops.contains_key(seg) {
            format!("; the loop is {seg}/{seg}")
        } else {
            String::new()
        };
        let place = if loop_path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in loop {loop_path}")
        };
        return Err(format!("set {} has no segment {seg} {place}{hint}", set.id));
    }
    Ok(found)
}

/// Splits `PO1/PID05` into (`PO1/PID`, 5, None) and `REF04-02` into
/// (`REF`, 4, Some(2)).
fn split_element_path(path: &str) -> Option<(String, usize, Option<usize>)> {
    let (main, component) = match path.rsplit_once('-') {
        Some((m, c)) => (m, Some(c.parse::<usize>().ok().filter(|&c| c > 0)?)),
        None => (path, None),
    };
    if main.len() < 4 {
        return None;
    }
    let (seg, pos) = main.split_at(main.len() - 2);
    let pos: usize = pos.parse().ok().filter(|&p| p > 0)?;
    if seg.ends_with('/') || seg.is_empty() {
        return None;
    }
    Some((seg.to_string(), pos, component))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_paths() {
        assert_eq!(split_element_path("BEG02"), Some(("BEG".into(), 2, None)));
        assert_eq!(
            split_element_path("PO1/PID05"),
            Some(("PO1/PID".into(), 5, None))
        );
        assert_eq!(
            split_element_path("REF04-02"),
            Some(("REF".into(), 4, Some(2)))
        );
        assert_eq!(split_element_path("N1"), None);
        assert_eq!(split_element_path("BEG00"), None);
    }
}
