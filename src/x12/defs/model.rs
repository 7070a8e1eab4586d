//! The compiled form of transaction-set definitions: what the validator walks.
//!
//! Definitions are loaded from the data files in `x12/` (see
//! [`super::load`]) into these types once; a partner overlay
//! ([`super::overlay`]) produces a changed copy of a [`SetDef`], never an
//! edited shared one.

use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// The codes packed into integers (codes of up to 7 bytes), sorted,
    /// for lookups on the hot path.
    packed: Vec<u64>,
    /// Codes longer than 7 bytes.
    long: HashSet<Vec<u8>>,
}

/// A code of up to 7 bytes as one integer, its length in the top byte.
fn pack_code(code: &[u8]) -> Option<u64> {
    (code.len() <= 7).then(|| {
        code.iter()
            .fold(code.len() as u64, |k, &b| (k << 8) | u64::from(b))
    })
}

impl CodeList {
    /// A code list.
    pub fn new(codes: BTreeMap<String, String>, closed: bool) -> CodeList {
        let mut packed: Vec<u64> = codes
            .keys()
            .filter_map(|k| pack_code(k.as_bytes()))
            .collect();
        packed.sort_unstable();
        let long = codes
            .keys()
            .filter(|k| pack_code(k.as_bytes()).is_none())
            .map(|k| k.as_bytes().to_vec())
            .collect();
        CodeList {
            codes,
            closed,
            packed,
            long,
        }
    }

    /// True when `value` may be used: always for an open list.
    pub fn allows(&self, value: &[u8]) -> bool {
        !self.closed
            || match pack_code(value) {
                Some(key) => self.packed.binary_search(&key).is_ok(),
                None => self.long.contains(value),
            }
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
    /// Bit `p-1` for each position `p` (positions past 64 are ignored).
    pub mask: u64,
    /// The bit of the first position.
    pub first: u64,
}

/// The five kinds of X12 syntax notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SyntaxKind {
    /// `P`: if any is present, all must be.
    Paired = 0,
    /// `R`: at least one must be present.
    Required = 1,
    /// `E`: not more than one may be present.
    Exclusion = 2,
    /// `C`: if the first is present, all others must be.
    Conditional = 3,
    /// `L`: if the first is present, at least one of the others must be.
    ListConditional = 4,
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
        if digits.len() < 4
            || !digits.len().is_multiple_of(2)
            || !digits.bytes().all(|b| b.is_ascii_digit())
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
        let bit = |p: usize| if p <= 64 { 1u64 << (p - 1) } else { 0 };
        let mask = positions.iter().fold(0, |m, &p| m | bit(p));
        let first = bit(positions[0]);
        Some(SyntaxRule {
            kind,
            positions,
            mask,
            first,
        })
    }

    /// True when the elements present (bit `p-1` for position `p`) satisfy
    /// the note: a few bit operations, for the hot path.
    #[inline]
    pub fn holds(&self, present: u64) -> bool {
        let on = present & self.mask;
        let rest = self.mask & !self.first;
        let first_absent = on & self.first == 0;
        // Every verdict is computed, one bit each, and one is picked: no
        // branch to mispredict.
        let verdicts = u8::from(on == 0 || on == self.mask)
            | u8::from(on != 0) << 1
            | u8::from(on & on.wrapping_sub(1) == 0) << 2
            | u8::from(first_absent || on & rest == rest) << 3
            | u8::from(first_absent || on & rest != 0) << 4;
        verdicts >> (self.kind as u8) & 1 == 1
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
    /// The elements in the compact form the validator's fast path reads;
    /// derived by [`SegmentDef::compile`].
    pub specs: Vec<ElementSpec>,
    /// Bit `p-1` set for each mandatory element `p` (up to 64).
    pub mandatory_mask: u64,
    /// [`SegmentDef::specs`] in the packed form the fast path reads.
    pub fast: Vec<FastSpec>,
}

/// What the validator's fast path needs to know of one element position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementSpec {
    /// The type, or `None` for a composite (always checked in full).
    pub ty: Option<ElementType>,
    /// Minimum length.
    pub min: u32,
    /// Maximum length.
    pub max: u32,
    /// The element must be present.
    pub mandatory: bool,
    /// A guide says it must not be sent.
    pub not_used: bool,
    /// The code list, when closed.
    pub codes: Option<Arc<CodeList>>,
    /// For a composite that may be sent as its first component alone: that
    /// component (so that the fast path can check `EA` in a C001).
    pub first_component: Option<Box<ElementSpec>>,
    /// How the fast path may check a value without looking at it again.
    pub quick: Quick,
}

/// What a value's length and a summary of its bytes prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Quick {
    /// Plain text (an `AN`, or an `ID` with an open code list): valid when
    /// it holds no special byte and its length fits.
    Text = 0,
    /// An integer (`Nn`): digits, with a leading minus allowed.
    Integer = 1,
    /// A decimal (`R`): digits and at most one point, with a leading minus
    /// allowed.
    Decimal = 2,
    /// Anything else needs the full check of the value.
    Slow = 3,
}

fn quick_of(ty: Option<ElementType>, codes: &Option<Arc<CodeList>>, not_used: bool) -> Quick {
    match ty {
        _ if not_used || codes.is_some() => Quick::Slow,
        Some(ElementType::An | ElementType::Id) => Quick::Text,
        Some(ElementType::Numeric(_)) => Quick::Integer,
        Some(ElementType::Decimal) => Quick::Decimal,
        _ => Quick::Slow,
    }
}

/// The little the fast path needs of an element position, packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastSpec {
    /// Minimum length (saturated to `u16`).
    pub min: u16,
    /// Maximum length (saturated to `u16`).
    pub max: u16,
    /// How the value can be proved valid.
    pub quick: Quick,
}

impl ElementSpec {
    /// The compact form of an element's use.
    pub fn of(u: &ElementUse) -> ElementSpec {
        match &u.kind {
            ElementKind::Simple(e) => {
                let codes = e.codes.clone().filter(|c| c.closed);
                ElementSpec {
                    ty: Some(e.ty),
                    min: e.min,
                    max: e.max,
                    mandatory: u.req.is_mandatory(),
                    not_used: u.not_used,
                    quick: quick_of(Some(e.ty), &codes, u.not_used),
                    codes,
                    first_component: None,
                }
            }
            ElementKind::Composite(c) => {
                // Sent as its first component alone, the composite is valid
                // when no later component is mandatory and its notes hold.
                let alone_ok = c.components.iter().skip(1).all(|cu| !cu.req.is_mandatory())
                    && c.syntax.iter().all(|r| r.holds(1));
                let first = c
                    .components
                    .first()
                    .filter(|cu| alone_ok && matches!(cu.kind, ElementKind::Simple(_)))
                    .map(|cu| Box::new(ElementSpec::of(cu)));
                // A lone first component is checked as that component.
                let (quick, min, max) = match &first {
                    Some(f) if !u.not_used => (f.quick, f.min, f.max),
                    _ => (Quick::Slow, 0, 0),
                };
                ElementSpec {
                    ty: None,
                    min,
                    max,
                    mandatory: u.req.is_mandatory(),
                    not_used: u.not_used,
                    codes: None,
                    first_component: first,
                    quick,
                }
            }
        }
    }
}

impl SegmentDef {
    /// Builds a segment and derives its compact form.
    pub fn new(
        id: SegmentId,
        name: String,
        elements: Vec<ElementUse>,
        syntax: Vec<SyntaxRule>,
    ) -> SegmentDef {
        let mut def = SegmentDef {
            id,
            name,
            elements,
            syntax,
            specs: Vec::new(),
            mandatory_mask: 0,
            fast: Vec::new(),
        };
        def.compile();
        def
    }

    /// Recomputes [`SegmentDef::specs`] from the elements.
    pub fn compile(&mut self) {
        self.specs = self.elements.iter().map(ElementSpec::of).collect();
        self.fast = self
            .specs
            .iter()
            .map(|s| FastSpec {
                min: u16::try_from(s.min).unwrap_or(u16::MAX),
                max: u16::try_from(s.max).unwrap_or(u16::MAX),
                quick: s.quick,
            })
            .collect();
        self.mandatory_mask = self
            .specs
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, s)| s.mandatory)
            .fold(0, |m, (i, _)| m | 1 << i);
    }
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
    /// More repetitions than `max_repeat` are noted, not rejected (`note`
    /// after the maximum in a structure; an overlay's `max` makes the loop
    /// strict again).
    pub max_noted: bool,
    /// A guide's usage.
    pub usage: Usage,
    /// Indices into [`SetDef::nodes`]; the first is the trigger segment.
    pub children: Vec<usize>,
    /// Line of the loop in its definition file.
    pub line: usize,
}

/// The facts about one node the walker reads on every segment, together in
/// one small record.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeInfo {
    /// Most uses (segments) or repetitions (loops).
    pub max: u32,
    /// Fewest uses or repetitions a guide asks for.
    pub min: u32,
    /// The segment node checked when this node is matched (itself, or a
    /// loop's trigger).
    pub checked: u32,
    /// A loop.
    pub is_loop: bool,
    /// A guide says it is not used.
    pub not_used: bool,
    /// It must occur (mandatory, and not "not used").
    pub mandatory: bool,
    /// Past its maximum it is noted, not rejected (a loop).
    pub max_noted: bool,
}

/// Keys that pad each loop's list of child keys.
pub const KEY_PADDING: usize = 8;

/// One open loop while a set is walked: the loop node, the child last
/// matched in it, and how often that child was used in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The loop node.
    pub node: usize,
    /// Index into the loop's children of the child last matched.
    pub cursor: Option<usize>,
    /// Uses (or iterations, for a loop child) of the child at the cursor.
    pub uses: u32,
}

/// A precomputed transition: where a segment goes from a given position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The frame it matches in; frames above close.
    pub depth: usize,
    /// The child it matches in that frame's loop.
    pub child: usize,
    /// It matches the child already at the cursor (a repeat, or a new
    /// iteration of a loop).
    pub same: bool,
    /// The node of that child.
    pub node: usize,
}

const NO_TRANSITION: u64 = 0;
const VALID: u64 = 1 << 63;
const SAME: u64 = 1 << 62;
/// The transition skips a mandatory node or closes a frame that misses one:
/// the walker takes its slow path to report what is missing.
const SKIPS_MANDATORY: u64 = 1 << 61;

/// Per-node facts the validator needs on every segment, precomputed.
#[derive(Clone, Debug, Default)]
pub struct SetIndex {
    /// For each node, the facts the walker reads most.
    pub info: Vec<NodeInfo>,
    /// The first segment ID of each node (a loop's trigger).
    pub first_id: Vec<SegmentId>,
    /// [`SegmentId::key`] of `first_id`.
    pub first_key: Vec<u32>,
    /// True when the node must occur (mandatory, and not "not used").
    pub mandatory: Vec<bool>,
    /// Fewest uses or repetitions a guide asks for.
    pub min: Vec<u32>,
    /// For each loop node, the first keys of its children in order, then
    /// [`KEY_PADDING`] keys (`u32::MAX`) that no segment has.
    pub child_keys: Vec<Vec<u32>>,
    /// For each loop node, `prefix[j]` = mandatory children before child
    /// `j` (one more entry than children): skipped mandatory children are
    /// found by one subtraction.
    pub mandatory_prefix: Vec<Vec<u32>>,
    /// For each node: most uses (segments) or repetitions (loops).
    pub max: Vec<u32>,
    /// For each node: a guide says it is not used.
    pub not_used: Vec<bool>,
    /// For each node: the segment node to check when it is matched (itself,
    /// or a loop's trigger).
    pub checked: Vec<usize>,
    /// For each node: the segment definition of [`SetIndex::checked`].
    pub segment: Vec<Option<Arc<SegmentDef>>>,
    /// For each node: true for loops.
    pub is_loop: Vec<bool>,
    /// For each loop node: its children (empty for segments).
    pub children: Vec<Vec<usize>>,
    /// The transition table, built on first use (see
    /// [`SetDef::build_transitions`]).
    pub table: std::sync::OnceLock<TransitionTable>,
    /// Some node asks for a minimum number of uses (a partner overlay):
    /// leaving a position then depends on counts, and the walker does not
    /// use the transitions.
    pub has_minimums: bool,
}

/// For every position and every segment ID of a set, where the walker goes.
#[derive(Clone, Debug, Default)]
pub struct TransitionTable {
    /// The segment keys of the set, hashed to their column:
    /// `(key, column)`, `u32::MAX` when empty.
    key_columns: Vec<(u32, u16)>,
    /// Distinct segment keys of the set.
    key_count: usize,
    /// `(nodes + 1) × key_count` encoded transitions: row `node` for the
    /// position after that segment node, row `nodes` for before ST. Each
    /// holds flags, the frame, the child and the child's node.
    transitions: Vec<u64>,
    /// Rows: nodes + 1.
    rows: usize,
}

impl TransitionTable {
    /// The column of `key` in the transition table.
    #[inline]
    fn column(&self, key: u32) -> Option<usize> {
        // u32::MAX marks empty slots; no segment ID has that key.
        if key == u32::MAX {
            return None;
        }
        let mask = self.key_columns.len().wrapping_sub(1);
        let mut slot = (key.wrapping_mul(0x9E37_79B1) >> 16) as usize & mask;
        for _ in 0..self.key_columns.len() {
            let (k, column) = self.key_columns[slot];
            if k == key {
                return Some(usize::from(column));
            }
            if k == u32::MAX {
                return None;
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// The precomputed transition for segment `key` after segment node
    /// `after` (`None`: before ST), when there is one that reports nothing.
    #[inline]
    pub fn transition(&self, after: Option<usize>, key: u32) -> Option<Transition> {
        let column = self.column(key)?;
        let row = after.unwrap_or(self.rows - 1);
        let e = *self.transitions.get(row * self.key_count + column)?;
        (e & VALID != 0 && e & SKIPS_MANDATORY == 0).then_some(Transition {
            depth: ((e >> 48) & 0xFF) as usize,
            child: ((e >> 32) & 0xFFFF) as usize,
            same: e & SAME != 0,
            node: (e & 0xFFFF_FFFF) as usize,
        })
    }
}

impl SetIndex {
    /// Where segment `key` goes from `frames` (the open loops, root first):
    /// `(frame, child)`, looking forward from each frame's cursor, innermost
    /// frame first. A loop's own trigger is only matched by the enclosing
    /// frame (a new iteration).
    #[inline]
    pub fn locate(&self, frames: &[Frame], key: u32) -> Option<(usize, usize)> {
        // u32::MAX pads the key lists; IDs longer than three bytes have it.
        if key == u32::MAX {
            return None;
        }
        for depth in (0..frames.len()).rev() {
            let frame = frames[depth];
            let keys = &self.child_keys[frame.node];
            let real = keys.len() - KEY_PADDING;
            let first = usize::from(depth > 0);
            let mut start = frame.cursor.unwrap_or(0).max(first);
            // Eight keys at a time, without a branch per key: the next
            // segment is usually among the next few children.
            while start < real {
                let window = &keys[start..start + KEY_PADDING];
                let hits = window
                    .iter()
                    .enumerate()
                    .fold(0u32, |m, (i, &k)| m | u32::from(k == key) << i);
                if hits != 0 {
                    return Some((depth, start + hits.trailing_zeros() as usize));
                }
                start += KEY_PADDING;
            }
        }
        None
    }

    /// True when moving to `(depth, child)` from `frames` leaves a
    /// mandatory node behind (in a frame that closes, or skipped in the
    /// frame that moves). The SE is not counted: its absence is the
    /// envelope's to report.
    fn skips_mandatory(&self, frames: &[Frame], depth: usize, child: usize) -> bool {
        let se = crate::x12::ids::seg::SE;
        let missing = |frame: &Frame, to: usize| {
            let children = &self.children[frame.node];
            let from = frame.cursor.map_or(0, |c| c + 1);
            children
                .get(from..to.min(children.len()))
                .unwrap_or(&[])
                .iter()
                .any(|&c| self.info[c].mandatory && self.first_id[c] != se)
        };
        frames[depth + 1..].iter().any(|f| missing(f, usize::MAX))
            || (frames[depth].cursor != Some(child) && missing(&frames[depth], child))
    }
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
    /// Derived from the nodes by [`SetDef::index`], for the validator's hot
    /// path; recomputed whenever the nodes change.
    pub index: SetIndex,
    /// The file it came from, and the overlays applied to it.
    pub source: Arc<str>,
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

    /// Recomputes [`SetDef::index`] from the nodes.
    pub fn reindex(&mut self) {
        let n = self.nodes.len();
        let first_id: Vec<SegmentId> = (0..n).map(|i| self.first_segment(i)).collect();
        let first_key = first_id.iter().map(SegmentId::key).collect();
        let mandatory: Vec<bool> = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Segment(s) => s.req.is_mandatory() && s.usage != Usage::NotUsed,
                Node::Loop(l) => l.req.is_mandatory() && l.usage != Usage::NotUsed,
            })
            .collect();
        let min: Vec<u32> = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Segment(s) => s.min_use,
                Node::Loop(l) => l.min_repeat,
            })
            .collect();
        let child_keys = self
            .nodes
            .iter()
            .map(|node| match node {
                // Padded with keys no segment has, so that the walker can
                // compare eight at a time past the end.
                Node::Loop(l) => l
                    .children
                    .iter()
                    .map(|&c| first_id[c].key())
                    .chain(std::iter::repeat_n(u32::MAX, KEY_PADDING))
                    .collect(),
                Node::Segment(_) => vec![u32::MAX; KEY_PADDING],
            })
            .collect();
        let mandatory_prefix = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Loop(l) => {
                    let mut prefix = Vec::with_capacity(l.children.len() + 1);
                    let mut n = 0u32;
                    prefix.push(0);
                    for &c in &l.children {
                        n += u32::from(mandatory[c]);
                        prefix.push(n);
                    }
                    prefix
                }
                Node::Segment(_) => Vec::new(),
            })
            .collect();
        let max: Vec<u32> = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Segment(s) => s.max_use,
                Node::Loop(l) => l.max_repeat,
            })
            .collect();
        let not_used: Vec<bool> = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Segment(s) => s.usage == Usage::NotUsed,
                Node::Loop(l) => l.usage == Usage::NotUsed,
            })
            .collect();
        let checked: Vec<usize> = (0..n)
            .map(|i| match &self.nodes[i] {
                Node::Segment(_) => i,
                Node::Loop(l) => l.children.first().copied().unwrap_or(i),
            })
            .collect();
        let segment = checked
            .iter()
            .map(|&c| match &self.nodes[c] {
                Node::Segment(s) => Some(Arc::clone(&s.def)),
                Node::Loop(_) => None,
            })
            .collect();
        let is_loop: Vec<bool> = self
            .nodes
            .iter()
            .map(|node| matches!(node, Node::Loop(_)))
            .collect();
        let children = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Loop(l) => l.children.clone(),
                Node::Segment(_) => Vec::new(),
            })
            .collect();
        let info = (0..n)
            .map(|i| NodeInfo {
                max: max[i],
                min: min[i],
                checked: checked[i] as u32,
                is_loop: is_loop[i],
                not_used: not_used[i],
                mandatory: mandatory[i],
                max_noted: matches!(&self.nodes[i], Node::Loop(l) if l.max_noted),
            })
            .collect();
        // The root is never left, so its own minimum does not count.
        let has_minimums = min
            .iter()
            .enumerate()
            .any(|(i, &m)| i != self.root && m > 0);
        self.index = SetIndex {
            has_minimums,
            table: std::sync::OnceLock::new(),
            info,
            first_id,
            first_key,
            mandatory,
            min,
            child_keys,
            mandatory_prefix,
            max,
            not_used,
            checked,
            segment,
            is_loop,
            children,
        };
    }

    /// The transition table, built the first time a set of this kind is
    /// walked; `None` when counts matter (a guide's minimums).
    #[inline]
    pub fn transitions(&self) -> Option<&TransitionTable> {
        if self.index.has_minimums {
            return None;
        }
        Some(self.index.table.get_or_init(|| self.build_transitions()))
    }

    /// Precomputes, for every position (after each segment node, and
    /// before ST) and every segment ID of the set, where the walker goes.
    /// Positions are enough: the open loops are always the path from the
    /// root to the last segment matched.
    fn build_transitions(&self) -> TransitionTable {
        let n = self.nodes.len();
        let mut keys: Vec<u32> = self.segment_ids.iter().map(SegmentId::key).collect();
        keys.sort_unstable();
        keys.dedup();
        let slots = (keys.len() * 4).next_power_of_two().max(8);
        let mut key_columns = vec![(u32::MAX, 0u16); slots];
        for (column, &key) in keys.iter().enumerate() {
            let mut slot = (key.wrapping_mul(0x9E37_79B1) >> 16) as usize & (slots - 1);
            while key_columns[slot].0 != u32::MAX {
                slot = (slot + 1) & (slots - 1);
            }
            key_columns[slot] = (key, u16::try_from(column).unwrap_or(u16::MAX));
        }
        // Parents, to rebuild the open loops of each position.
        let mut parent = vec![(usize::MAX, 0usize); n];
        for (i, node) in self.nodes.iter().enumerate() {
            if let Node::Loop(l) = node {
                for (j, &c) in l.children.iter().enumerate() {
                    parent[c] = (i, j);
                }
            }
        }
        let mut transitions = vec![NO_TRANSITION; (n + 1) * keys.len()];
        for row in 0..=n {
            let frames: Vec<Frame> = if row == n {
                vec![Frame {
                    node: self.root,
                    cursor: None,
                    uses: 0,
                }]
            } else if matches!(self.nodes[row], Node::Segment(_)) && parent[row].0 != usize::MAX {
                // The path from the root down to the segment.
                let mut path = Vec::new();
                let mut at = row;
                while parent[at].0 != usize::MAX {
                    let (p, j) = parent[at];
                    path.push(Frame {
                        node: p,
                        cursor: Some(j),
                        uses: 1,
                    });
                    at = p;
                }
                path.reverse();
                path
            } else {
                continue;
            };
            for (column, &key) in keys.iter().enumerate() {
                let Some((depth, child)) = self.index.locate(&frames, key) else {
                    continue;
                };
                let (Ok(d), Ok(c)) = (u32::try_from(depth), u32::try_from(child)) else {
                    continue;
                };
                let Ok(node) = u32::try_from(self.index.children[frames[depth].node][child]) else {
                    continue;
                };
                if d > 0xFF || c > 0xFFFF {
                    continue;
                }
                let mut e = VALID | u64::from(d) << 48 | u64::from(c) << 32 | u64::from(node);
                if frames[depth].cursor == Some(child) {
                    e |= SAME;
                }
                if self.index.skips_mandatory(&frames, depth, child) {
                    e |= SKIPS_MANDATORY;
                }
                transitions[row * keys.len() + column] = e;
            }
        }
        TransitionTable {
            key_columns,
            key_count: keys.len(),
            transitions,
            rows: n + 1,
        }
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
    fn holds_agrees_with_the_definition_of_each_note() {
        for note in [
            "P0203",
            "R010305",
            "E0104",
            "C0302",
            "L020405",
            "P0102030405",
        ] {
            let rule = SyntaxRule::parse(note).expect("note");
            for present in 0u64..64 {
                let has = |p: usize| present & (1 << (p - 1)) != 0;
                let ps = &rule.positions;
                let expected = match rule.kind {
                    SyntaxKind::Paired => ps.iter().all(|&p| has(p)) || ps.iter().all(|&p| !has(p)),
                    SyntaxKind::Required => ps.iter().any(|&p| has(p)),
                    SyntaxKind::Exclusion => ps.iter().filter(|&&p| has(p)).count() <= 1,
                    SyntaxKind::Conditional => !has(ps[0]) || ps[1..].iter().all(|&p| has(p)),
                    SyntaxKind::ListConditional => !has(ps[0]) || ps[1..].iter().any(|&p| has(p)),
                };
                assert_eq!(rule.holds(present), expected, "{note} with {present:06b}");
            }
        }
    }

    #[test]
    fn closed_code_lists_allow_only_their_codes() {
        let codes: BTreeMap<String, String> = [("DS".to_string(), "Dropship".to_string())].into();
        let open = CodeList::new(codes.clone(), false);
        assert!(open.allows(b"XX"));
        let closed = CodeList::new(codes, true);
        assert!(closed.allows(b"DS"));
        assert!(!closed.allows(b"XX"));
    }
}
