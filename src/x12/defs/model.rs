//! The compiled form of transaction-set definitions: what the validator walks.
//!
//! Definitions are loaded from the data files in `x12/` (see
//! [`super::load`]) into these types once; a partner overlay
//! ([`super::overlay`]) produces a changed copy of a [`SetDef`], never an
//! edited shared one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::x12::ids::SegmentId;

/// The data type of an element, as X12 names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ElementType {
    /// `ID`: a code from a code list.
    Id,
    /// `AN`: free text.
    An,
    /// `Nn`: an integer with `n` implied decimal places (`N0`, `N2`, ...).
    Numeric(u8),
    /// `R`: a decimal number with an explicit decimal point.
    Decimal,
    /// `DT`: a date, `CCYYMMDD` (or `YYMMDD` when 6 long).
    Date,
    /// `TM`: a time, `HHMM[SS[d..]]`.
    Time,
    /// `B`: binary data; not checked.
    Binary,
}

impl ElementType {
    /// Parses `ID`, `AN`, `N0`..`N9`, `N`, `R`, `DT`, `TM` or `B`.
    pub fn parse(s: &str) -> Option<ElementType> {
        Some(match s {
            "ID" => ElementType::Id,
            "AN" => ElementType::An,
            "N" => ElementType::Numeric(0),
            "R" => ElementType::Decimal,
            "DT" => ElementType::Date,
            "TM" => ElementType::Time,
            "B" => ElementType::Binary,
            _ => {
                let digits = s.strip_prefix('N')?;
                let n: u8 = digits.parse().ok()?;
                if digits.len() != 1 {
                    return None;
                }
                ElementType::Numeric(n)
            }
        })
    }

    /// The X12 name of the type.
    pub fn name(&self) -> String {
        match self {
            ElementType::Id => "ID".into(),
            ElementType::An => "AN".into(),
            ElementType::Numeric(n) => format!("N{n}"),
            ElementType::Decimal => "R".into(),
            ElementType::Date => "DT".into(),
            ElementType::Time => "TM".into(),
            ElementType::Binary => "B".into(),
        }
    }
}

/// A data element of the dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementDef {
    /// The reference number, e.g. `373` or `I12`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ElementType,
    /// Minimum length.
    pub min: u32,
    /// Maximum length.
    pub max: u32,
    /// The codes known for it, when it is an `ID`.
    pub codes: Option<Arc<CodeList>>,
}

/// The codes of an `ID` element.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CodeList {
    /// Code to description.
    pub codes: BTreeMap<String, String>,
    /// True when the list is complete, so that other values are errors. Code
    /// lists kept only to name the qualifiers dropgate reads are open.
    pub closed: bool,
}

impl CodeList {
    /// True when `value` may be used: always for an open list.
    pub fn allows(&self, value: &[u8]) -> bool {
        !self.closed || std::str::from_utf8(value).is_ok_and(|v| self.codes.contains_key(v))
    }

    /// The description of a code.
    pub fn describe(&self, value: &str) -> Option<&str> {
        self.codes.get(value).map(String::as_str)
    }
}

/// How much an element or segment is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Requirement {
    /// `M`: must be present.
    Mandatory,
    /// `O`: may be present.
    Optional,
    /// `X`: present or not according to the segment's syntax notes.
    Relational,
}

impl Requirement {
    /// Parses `M`, `O` or `X`.
    pub fn parse(s: &str) -> Option<Requirement> {
        match s {
            "M" => Some(Requirement::Mandatory),
            "O" => Some(Requirement::Optional),
            "X" | "C" => Some(Requirement::Relational),
            _ => None,
        }
    }

    /// True for `M`.
    pub fn is_mandatory(self) -> bool {
        self == Requirement::Mandatory
    }
}

/// An X12 syntax note on the elements of a segment or composite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxRule {
    /// Which kind of rule.
    pub kind: SyntaxKind,
    /// The 1-based positions it names, in order.
    pub positions: Vec<usize>,
}

/// The five kinds of X12 syntax notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxKind {
    /// `P`: if any is present, all must be.
    Paired,
    /// `R`: at least one must be present.
    Required,
    /// `E`: not more than one may be present.
    Exclusion,
    /// `C`: if the first is present, all others must be.
    Conditional,
    /// `L`: if the first is present, at least one of the others must be.
    ListConditional,
}

impl SyntaxRule {
    /// Parses a note such as `P0102`, `R030405` or `L010203`.
    pub fn parse(s: &str) -> Option<SyntaxRule> {
        let mut chars = s.chars();
        let kind = match chars.next()? {
            'P' => SyntaxKind::Paired,
            'R' => SyntaxKind::Required,
            'E' => SyntaxKind::Exclusion,
            'C' => SyntaxKind::Conditional,
            'L' => SyntaxKind::ListConditional,
            _ => return None,
        };
        let digits = chars.as_str();
        if digits.len() < 4 || digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let positions: Vec<usize> = digits
            .as_bytes()
            .chunks(2)
            .map(|p| usize::from(p[0] - b'0') * 10 + usize::from(p[1] - b'0'))
            .collect();
        if positions.contains(&0) {
            return None;
        }
        Some(SyntaxRule { kind, positions })
    }

    /// The note as written, e.g. `P0102`.
    pub fn code(&self) -> String {
        let k = match self.kind {
            SyntaxKind::Paired => 'P',
            SyntaxKind::Required => 'R',
            SyntaxKind::Exclusion => 'E',
            SyntaxKind::Conditional => 'C',
            SyntaxKind::ListConditional => 'L',
        };
        let mut s = k.to_string();
        for p in &self.positions {
            s.push_str(&format!("{p:02}"));
        }
        s
    }
}

/// An element's place in a segment or composite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementUse {
    /// What goes there.
    pub kind: ElementKind,
    /// How much it is needed.
    pub req: Requirement,
    /// How many repetitions are allowed (5010+).
    pub repeat: u32,
    /// A partner implementation guide says it must not be sent.
    pub not_used: bool,
}

/// A simple element or a composite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElementKind {
    /// A simple element.
    Simple(Arc<ElementDef>),
    /// A composite of components.
    Composite(Arc<CompositeDef>),
}

impl ElementKind {
    /// The reference: the element number or the composite ID.
    pub fn id(&self) -> &str {
        match self {
            ElementKind::Simple(e) => &e.id,
            ElementKind::Composite(c) => &c.id,
        }
    }
}

/// A composite element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositeDef {
    /// The composite ID, e.g. `C040`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its components, each a simple element.
    pub components: Vec<ElementUse>,
    /// Syntax notes on the components.
    pub syntax: Vec<SyntaxRule>,
}

/// A segment of the dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentDef {
    /// The segment ID.
    pub id: SegmentId,
    /// Its name.
    pub name: String,
    /// Its elements in order.
    pub elements: Vec<ElementUse>,
    /// Syntax notes on the elements.
    pub syntax: Vec<SyntaxRule>,
}

/// The segment and element dictionary of one version.
#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    /// The version, e.g. `004010`.
    pub version: String,
    /// Elements by reference number.
    pub elements: HashMap<String, Arc<ElementDef>>,
    /// Composites by ID.
    pub composites: HashMap<String, Arc<CompositeDef>>,
    /// Segments by ID.
    pub segments: HashMap<SegmentId, Arc<SegmentDef>>,
}

/// Marks "no upper limit" (`>1` in the standard's tables).
pub const UNBOUNDED: u32 = u32::MAX;

/// One node of a set's structure: a segment or a loop.
#[derive(Clone, Debug)]
pub enum Node {
    /// A segment at its position.
    Segment(SegmentNode),
    /// A loop of nodes.
    Loop(LoopNode),
}

/// Whether a partner's guide changed how a segment or loop is used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Usage {
    /// As the standard says.
    #[default]
    Standard,
    /// The guide requires it.
    Required,
    /// The guide forbids it.
    NotUsed,
}

/// A segment at a position of a set.
#[derive(Clone, Debug)]
pub struct SegmentNode {
    /// The segment's definition; overlays may replace it with a changed copy.
    pub def: Arc<SegmentDef>,
    /// Mandatory or optional here.
    pub req: Requirement,
    /// Most uses in a row.
    pub max_use: u32,
    /// Fewest uses a guide asks for (0 for the standard).
    pub min_use: u32,
    /// A guide's usage.
    pub usage: Usage,
    /// Line of the structure in its definition file (for messages).
    pub line: usize,
}

/// A loop of a set.
#[derive(Clone, Debug)]
pub struct LoopNode {
    /// The loop's name: by X12 custom its trigger segment's ID.
    pub id: String,
    /// Mandatory or optional here.
    pub req: Requirement,
    /// Most repetitions.
    pub max_repeat: u32,
    /// Fewest repetitions a guide asks for.
    pub min_repeat: u32,
    /// A guide's usage.
    pub usage: Usage,
    /// Indices into [`SetDef::nodes`]; the first is the trigger segment.
    pub children: Vec<usize>,
    /// Line of the loop in its definition file.
    pub line: usize,
}

/// A transaction set: its identity and its structure as a tree of nodes.
#[derive(Clone, Debug)]
pub struct SetDef {
    /// The set ID, e.g. `850`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The functional identifier of groups that carry it (GS01), e.g. `PO`.
    pub functional_group: String,
    /// The version, e.g. `004010`.
    pub version: String,
    /// All nodes; [`SetDef::root`] is a loop holding the whole set.
    pub nodes: Vec<Node>,
    /// Index of the root loop (ST to SE).
    pub root: usize,
    /// Every segment ID used anywhere in the set.
    pub segment_ids: Vec<SegmentId>,
    /// For each node, the key ([`SegmentId::key`]) of its first segment.
    pub first_key: Vec<u32>,
    /// The file it came from, and the overlays applied to it.
    pub source: String,
    /// The dictionary the set uses.
    pub dictionary: Arc<Dictionary>,
}

impl SetDef {
    /// The root loop.
    pub fn root(&self) -> &LoopNode {
        match &self.nodes[self.root] {
            Node::Loop(l) => l,
            // Built only by the loader, which always makes the root a loop.
            Node::Segment(_) => unreachable!("the root of a set definition is a loop"),
        }
    }

    /// The first segment ID of node `i` (a loop's trigger).
    pub fn first_segment(&self, i: usize) -> SegmentId {
        match &self.nodes[i] {
            Node::Segment(s) => s.def.id,
            Node::Loop(l) => l
                .children
                .first()
                .map_or(SegmentId::lossy(b""), |&c| self.first_segment(c)),
        }
    }

    /// True when `id` is used somewhere in the set.
    pub fn uses_segment(&self, id: SegmentId) -> bool {
        self.segment_ids.contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types() {
        assert_eq!(ElementType::parse("N2"), Some(ElementType::Numeric(2)));
        assert_eq!(ElementType::parse("N"), Some(ElementType::Numeric(0)));
        assert_eq!(ElementType::parse("N10"), None);
        assert_eq!(ElementType::parse("DT"), Some(ElementType::Date));
        assert_eq!(ElementType::parse("XX"), None);
    }

    #[test]
    fn parses_syntax_notes() {
        let r = SyntaxRule::parse("L010203").expect("valid");
        assert_eq!(r.kind, SyntaxKind::ListConditional);
        assert_eq!(r.positions, vec![1, 2, 3]);
        assert_eq!(r.code(), "L010203");
        assert!(SyntaxRule::parse("P01").is_none());
        assert!(SyntaxRule::parse("Q0102").is_none());
        assert!(SyntaxRule::parse("P0001").is_none());
    }

    #[test]
    fn closed_code_lists_allow_only_their_codes() {
        let mut l = CodeList::default();
        l.codes.insert("DS".into(), "Dropship".into());
        assert!(l.allows(b"XX"));
        l.closed = true;
        assert!(l.allows(b"DS"));
        assert!(!l.allows(b"XX"));
    }
}
