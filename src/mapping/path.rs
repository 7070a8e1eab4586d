//! The path language of mappings: where in a decoded tree a value is.
//!
//! A small XPath. Steps are separated by `/`; `//` searches at any depth.
//!
//! | step | means |
//! |---|---|
//! | `BEG`, `record`, `Order` | children with that name (an X12 segment or loop, a CSV record, an XML element) |
//! | `*` | any child |
//! | `03`, `03-2` | X12 element 3 (component 2) of a segment or of a loop's first segment; the 3rd child elsewhere (a CSV column) |
//! | `BEG03`, `N104-2` | shorthand for `BEG/03`, `N1/04-2` (X12) |
//! | `PO1{VP}`, `PO1{VP\|VN}`, `REF{01:DP}` | the value that follows qualifier VP among a segment's qualifier/value pairs (PO1/IT1 from 06, LIN from 02, SLN from 09, ACK from 07, POC/BLI from 08; `{NN:Q}` says where they start) |
//! | `@code` | an attribute (XML) |
//! | `.`, `..`, `ancestor::HL` | this node, its parent, the nearest enclosing `HL` |
//! | `[2]` | the second of what the step found |
//! | `[01=ST]`, `[01=ST\|BT]`, `[@type!='x']`, `[N1]`, `[not(REF)]` | a condition on each node found (`and`, `or`, `not(...)`) |
//! | `'text'` | a constant |
//! | `$file`, `$partner`, `$set`, `$sender`... | facts about the input |
//!
//! `a | b` is the union of two paths, in document order.

use std::fmt;

use crate::format::tree::NONE;
use crate::format::{Flavor, Kind, Name, NodeId, Tree};

/// A compiled path (or union of paths).
#[derive(Clone, Debug)]
pub struct Path {
    alternatives: Vec<Chain>,
    text: String,
    /// The same path as direct lookups, when it has the shape nearly every
    /// mapping uses (child names, an element test, an element or a
    /// qualifier pair at the end).
    fast: Option<Box<Fast>>,
}

/// A chain of child steps compiled to direct lookups: no buffers, no
/// callbacks. It finds exactly what the general walk finds, and hands the
/// rare case it cannot decide (a repeated element) back to it.
#[derive(Clone, Debug)]
struct Fast {
    absolute: bool,
    steps: Vec<FastStep>,
    end: FastEnd,
}

#[derive(Clone, Debug)]
struct FastStep {
    name: Name,
    /// `[NN=V|W]` or `[NN!=V]` on an X12 segment or loop.
    filter: Option<FastFilter>,
}

#[derive(Clone, Debug)]
struct FastFilter {
    element: u16,
    values: Vec<String>,
    negated: bool,
    /// The predicate as written, for the general evaluator.
    cond: Cond,
}

#[derive(Clone, Debug)]
enum FastEnd {
    /// The node reached.
    Node,
    /// Element n of the segment reached.
    Element(u16),
    /// Component c of element n of the segment reached.
    Component(u16, u16),
    /// The value after one of the qualifiers, from element `start` on.
    Qualifier { start: u16, qualifiers: Qualifiers },
}

/// Why a fast lookup gave up: the general walk must decide.
struct Undecided;

/// The relative fast paths (`BEG03`, `REF[01=CO]/02`, `PO1{VN|VP}`,
/// `QTY/SCH/06`) of the fields of one object, looked up together:
/// [`Eval::probe`] finds what each finds in one pass over the object's
/// children, instead of one pass per path, and a filter that several
/// paths share is tested once per child. Each finds exactly what
/// [`Eval::first`] finds.
#[derive(Clone, Debug, Default)]
pub struct Probes {
    probes: Vec<Probe>,
    /// For each name, the probes whose first step looks for it.
    by_name: Vec<ByName>,
    /// The distinct filters of the first steps: element, values, negated.
    filters: Vec<(u16, Vec<String>, bool)>,
}

#[derive(Clone, Debug)]
struct Probe {
    fast: Fast,
    /// The number of its first step's filter in [`Probes::filters`].
    filter: Option<u16>,
    /// The probe of the path before this one in the same rule: once it
    /// has found a value, this one is not needed.
    before: Option<u16>,
}

/// Filters whose verdicts are remembered per child while probing.
const FILTER_MEMO: usize = 32;

/// The probes that look for one name.
#[derive(Clone, Debug)]
struct ByName {
    name: Name,
    /// Those looked up one by one.
    each: Vec<u16>,
    /// Those that read qualifier/value pairs from the same element on,
    /// without a filter (`LIN{VN|VP}`, `LIN{UP}`...): looked up together,
    /// in one pass over the pairs.
    pairs: Vec<PairProbes>,
}

/// Qualifier probes of one name and first element.
#[derive(Clone, Debug)]
struct PairProbes {
    start: u16,
    /// The probes, in order.
    probes: Vec<u16>,
    /// Each qualifier they look for ([`pack`]ed), with the probe (its
    /// place in `probes`) and the qualifier's rank in its preference.
    wanted: Vec<(u32, u8, u8)>,
}

/// At most this many probes read pairs together.
const PAIR_PROBES: usize = 32;

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probed {
    /// Its first non-blank value.
    Found(Item),
    /// Nothing.
    Missing,
    /// The fast form cannot say: [`Eval::first`] must.
    Undecided,
}

impl Probes {
    /// Adds `path` as a probe when it is a one-step relative fast path of
    /// an X12 mapping; its number.
    /// Whether `path` can be a probe: a relative fast path.
    pub fn takes(path: &Path) -> bool {
        path.alternatives.len() == 1 && path.fast.as_deref().is_some_and(|f| !f.absolute)
    }

    /// `before` is the probe of the rule's path before this one, if any.
    pub fn add(&mut self, path: &Path, before: Option<u16>) -> Option<u16> {
        let fast = path.fast.as_deref()?;
        let step = fast.steps.first()?;
        if fast.absolute
            || path.alternatives.len() != 1
            || self.probes.len() >= usize::from(u16::MAX)
        {
            return None;
        }
        let id = self.probes.len() as u16;
        let filter = step.filter.as_ref().map(|f| {
            let key = (f.element, f.values.clone(), f.negated);
            match self.filters.iter().position(|k| *k == key) {
                Some(i) => i as u16,
                None => {
                    self.filters.push(key);
                    (self.filters.len() - 1) as u16
                }
            }
        });
        self.probes.push(Probe {
            fast: fast.clone(),
            filter,
            before,
        });
        let at = match self.by_name.iter().position(|b| b.name == step.name) {
            Some(at) => at,
            None => {
                self.by_name.push(ByName {
                    name: step.name,
                    each: Vec::new(),
                    pairs: Vec::new(),
                });
                self.by_name.len() - 1
            }
        };
        let by = &mut self.by_name[at];
        match &fast.end {
            FastEnd::Qualifier { start, qualifiers }
                if fast.steps.len() == 1
                    && step.filter.is_none()
                    && qualifiers.packed.len() <= usize::from(u8::MAX)
                    && !qualifiers.packed.contains(&LONG) =>
            {
                let group = match by.pairs.iter().position(|g| g.start == *start) {
                    Some(g) if by.pairs[g].probes.len() < PAIR_PROBES => g,
                    Some(_) => {
                        by.each.push(id);
                        return Some(id);
                    }
                    None => {
                        by.pairs.push(PairProbes {
                            start: *start,
                            probes: Vec::new(),
                            wanted: Vec::new(),
                        });
                        by.pairs.len() - 1
                    }
                };
                let g = &mut by.pairs[group];
                let place = g.probes.len() as u8;
                g.probes.push(id);
                for (rank, &q) in qualifiers.packed.iter().enumerate() {
                    g.wanted.push((q, place, rank as u8));
                }
            }
            _ => by.each.push(id),
        }
        Some(id)
    }

    /// How many probes there are.
    pub fn len(&self) -> usize {
        self.probes.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }
}

impl Fast {
    /// The fast form of a chain, when it has one.
    fn of(chain: &Chain, flavor: Flavor) -> Option<Fast> {
        let Chain::Steps { absolute, steps } = chain else {
            return None;
        };
        let mut fast = Fast {
            absolute: *absolute,
            steps: Vec::new(),
            end: FastEnd::Node,
        };
        for (i, step) in steps.iter().enumerate() {
            if step.axis != Axis::Child {
                return None;
            }
            let last = i + 1 == steps.len();
            match &step.test {
                Test::Name(name) => {
                    let filter = match step.predicates.as_slice() {
                        [] => None,
                        [Predicate::Cond(cond)] if flavor == Flavor::X12 => {
                            Some(FastFilter::of(cond)?)
                        }
                        _ => return None,
                    };
                    fast.steps.push(FastStep {
                        name: *name,
                        filter,
                    });
                }
                Test::Element { element, component }
                    if last && flavor == Flavor::X12 && step.predicates.is_empty() =>
                {
                    fast.end = match component {
                        None => FastEnd::Element(*element),
                        Some(c) => FastEnd::Component(*element, *c),
                    };
                }
                Test::Qualifier { start, qualifiers }
                    if last && flavor == Flavor::X12 && step.predicates.is_empty() =>
                {
                    fast.end = FastEnd::Qualifier {
                        start: *start,
                        qualifiers: qualifiers.clone(),
                    };
                }
                _ => return None,
            }
        }
        Some(fast)
    }
}

impl FastFilter {
    fn of(cond: &Cond) -> Option<FastFilter> {
        let Cond::Equals {
            path,
            values,
            negated,
        } = cond
        else {
            return None;
        };
        let [
            Chain::Steps {
                absolute: false,
                steps,
            },
        ] = path.alternatives.as_slice()
        else {
            return None;
        };
        let [
            Step {
                axis: Axis::Child,
                test:
                    Test::Element {
                        element,
                        component: None,
                    },
                predicates,
            },
        ] = steps.as_slice()
        else {
            return None;
        };
        if !predicates.is_empty() || *element == 0 {
            return None;
        }
        Some(FastFilter {
            element: *element,
            values: values.clone(),
            negated: *negated,
            cond: cond.clone(),
        })
    }
}

#[derive(Clone, Debug)]
enum Chain {
    Steps { absolute: bool, steps: Vec<Step> },
    Literal(String),
    Var(String),
}

#[derive(Clone, Debug)]
struct Step {
    axis: Axis,
    test: Test,
    predicates: Vec<Predicate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Axis {
    Child,
    Descendant,
}

#[derive(Clone, Debug)]
enum Test {
    Name(Name),
    Any,
    SelfNode,
    Parent,
    Ancestor(Name),
    Attribute(Name),
    Element {
        element: u16,
        component: Option<u16>,
    },
    Qualifier {
        start: u16,
        qualifiers: Qualifiers,
    },
}

/// The qualifiers of `PO1{VN|VP}`, in their order of preference, each with
/// its [`pack`]ed form, so that most are compared with a segment's
/// qualifiers as one number.
#[derive(Clone, Debug)]
struct Qualifiers {
    texts: Vec<String>,
    packed: Vec<u32>,
}

impl Qualifiers {
    fn new(texts: Vec<String>) -> Qualifiers {
        let packed = texts.iter().map(|q| pack(q.as_bytes())).collect();
        Qualifiers { texts, packed }
    }
}

/// What [`pack`] gives for more than three bytes: such qualifiers are
/// compared byte by byte.
const LONG: u32 = u32::MAX;

/// Up to three bytes (an X12 qualifier is two or three) and their count in
/// one number: two byte strings of up to three bytes are equal exactly
/// when their packed forms are. [`LONG`] for longer ones.
#[inline]
fn pack(b: &[u8]) -> u32 {
    if b.len() > 3 {
        return LONG;
    }
    let mut v = (b.len() as u32) << 24;
    for (i, &x) in b.iter().enumerate() {
        v |= u32::from(x) << (8 * i);
    }
    v
}

#[derive(Clone, Debug)]
enum Predicate {
    Index(usize),
    Cond(Cond),
}

/// A condition: `when` of a rule, or a predicate of a step.
#[derive(Clone, Debug)]
pub enum Cond {
    /// The path finds a non-empty value.
    Exists(Path),
    /// Some value found is (or, negated, none is) one of the values.
    Equals {
        /// Where.
        path: Path,
        /// One of these.
        values: Vec<String>,
        /// `!=`.
        negated: bool,
    },
    /// Both.
    And(Box<Cond>, Box<Cond>),
    /// Either.
    Or(Box<Cond>, Box<Cond>),
    /// Not.
    Not(Box<Cond>),
}

impl Cond {
    /// The names the condition's paths look for.
    pub fn step_names(&self) -> Vec<Name> {
        match self {
            Cond::Exists(p) | Cond::Equals { path: p, .. } => p.step_names(),
            Cond::And(a, b) | Cond::Or(a, b) => {
                let mut v = a.step_names();
                v.extend(b.step_names());
                v
            }
            Cond::Not(c) => c.step_names(),
        }
    }
}

/// What a path finds: a node, a value cut out of a segment, a constant or
/// a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A node; its value is its own text.
    Node(NodeId),
    /// Bytes `start..end` of the tree's text, inside `node`.
    Slice {
        /// The segment they are in.
        node: NodeId,
        /// Start in the tree's text.
        start: usize,
        /// End in the tree's text.
        end: usize,
    },
    /// The `n`th alternative's constant or variable of the path.
    Constant(u16),
}

impl Item {
    fn order_key(&self) -> (u64, usize) {
        match *self {
            Item::Node(n) => (u64::from(n), 0),
            Item::Slice { node, start, .. } => (u64::from(node), start.saturating_add(1)),
            Item::Constant(i) => (u64::MAX, usize::from(i)),
        }
    }

    /// The node the item is in.
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Item::Node(n) | Item::Slice { node: n, .. } => Some(n),
            Item::Constant(_) => None,
        }
    }
}

/// Facts about the input that paths can name (`$file`, `$partner`...).
pub trait Vars {
    /// The value of `$name`, if known.
    fn var(&self, name: &str) -> Option<String>;
}

impl Vars for () {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

/// Why a path does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub String);

impl Path {
    /// Where a constant `item` comes from in this path: `None` when the
    /// path has no constant there; `Some(None)` for a literal;
    /// `Some(Some(name))` for a variable (`file.stem`, `partner`).
    pub fn constant_source(&self, item: Item) -> Option<Option<&str>> {
        match item {
            Item::Constant(i) => match self.alternatives.get(usize::from(i)) {
                Some(Chain::Var(name)) => Some(Some(name)),
                Some(Chain::Literal(_)) => Some(None),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where X12 qualifier/value pairs start in the segments that have them.
fn pair_start(segment: &str) -> Option<u16> {
    match segment {
        "PO1" | "IT1" | "PO3" => Some(6),
        "LIN" => Some(2),
        "SLN" => Some(9),
        "ACK" => Some(7),
        // POC (860, 865) and BLI (180): the pairs after the quantities and
        // prices; BLI01/02 is a pair of its own (`BLI[01=VN]/02`).
        "POC" | "BLI" => Some(8),
        "SN1" => None,
        _ => None,
    }
}

/// The context in which paths are compiled: the tree's names and the
/// input format (which decides the shorthands and how names are written).
pub struct Compiler<'a> {
    /// Names are interned here.
    pub tree: &'a mut Tree,
    /// The input format.
    pub flavor: Flavor,
}

impl Compiler<'_> {
    /// Compiles a path (or a union).
    pub fn path(&mut self, text: &str) -> Result<Path, PathError> {
        self.parse_path(text).map_err(|e| {
            let normalized = crate::format::csv::normalize_header(text);
            if self.flavor.is_tabular() && !normalized.is_empty() && normalized != text {
                PathError(format!(
                    "{e} (CSV columns are named by their header, normalized: \
                     write {normalized:?} for {text:?})"
                ))
            } else {
                e
            }
        })
    }

    fn parse_path(&mut self, text: &str) -> Result<Path, PathError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            c: self,
        };
        let path = p.union()?;
        p.ws();
        if p.i < p.s.len() {
            return Err(p.err("unexpected text"));
        }
        let fast = match path.as_slice() {
            [chain] => Fast::of(chain, self.flavor).map(Box::new),
            _ => None,
        };
        Ok(Path {
            alternatives: path,
            text: text.to_string(),
            fast,
        })
    }

    /// Compiles a condition.
    pub fn cond(&mut self, text: &str) -> Result<Cond, PathError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            c: self,
        };
        let c = p.or()?;
        p.ws();
        if p.i < p.s.len() {
            return Err(p.err("unexpected text"));
        }
        Ok(c)
    }

    fn name(&mut self, raw: &str) -> Name {
        if self.flavor.is_tabular() {
            self.tree.intern(&crate::format::csv::normalize_header(raw))
        } else {
            self.tree.intern(raw)
        }
    }
}

struct Parser<'s, 'c, 'a> {
    s: &'s [u8],
    i: usize,
    c: &'c mut Compiler<'a>,
}

impl Parser<'_, '_, '_> {
    fn err(&self, what: &str) -> PathError {
        let text = String::from_utf8_lossy(self.s);
        PathError(format!("{what} at character {} of {text:?}", self.i + 1))
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|b| b == b' ' || b == b'\t') {
            self.i += 1;
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|b| {
            b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'#' || b >= 0x80
        }) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn union(&mut self) -> Result<Vec<Chain>, PathError> {
        let mut out = vec![self.chain()?];
        loop {
            self.ws();
            if self.eat("|") {
                out.push(self.chain()?);
            } else {
                return Ok(out);
            }
        }
    }

    /// A union inside a condition: `a | b = X` compares both; the `|` of
    /// values after `=` is not a union.
    fn union_in_condition(&mut self) -> Result<Vec<Chain>, PathError> {
        let mut out = vec![self.chain()?];
        loop {
            self.ws();
            if self.peek() == Some(b'|') {
                self.i += 1;
                out.push(self.chain()?);
            } else {
                return Ok(out);
            }
        }
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        let q = self.peek().ok_or_else(|| self.err("expected a quote"))?;
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|b| b != q) {
            self.i += 1;
        }
        if self.peek() != Some(q) {
            return Err(self.err("unterminated quote"));
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        Ok(text)
    }

    fn chain(&mut self) -> Result<Chain, PathError> {
        self.ws();
        match self.peek() {
            Some(b'\'') | Some(b'"') => return Ok(Chain::Literal(self.quoted()?)),
            Some(b'$') => {
                self.i += 1;
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                {
                    self.i += 1;
                }
                let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                if name.is_empty() {
                    return Err(self.err("a variable needs a name"));
                }
                return Ok(Chain::Var(name));
            }
            _ => {}
        }
        let mut absolute = false;
        let mut axis = Axis::Child;
        if self.eat("//") {
            absolute = true;
            axis = Axis::Descendant;
        } else if self.eat("/") {
            absolute = true;
        }
        let mut steps = Vec::new();
        loop {
            let mut step_list = self.step(axis)?;
            steps.append(&mut step_list);
            if self.eat("//") {
                axis = Axis::Descendant;
            } else if self.eat("/") {
                axis = Axis::Child;
            } else {
                break;
            }
        }
        Ok(Chain::Steps { absolute, steps })
    }

    fn step(&mut self, axis: Axis) -> Result<Vec<Step>, PathError> {
        let mut out = Vec::new();
        let test = if self.eat("..") {
            Test::Parent
        } else if self.eat(".") {
            Test::SelfNode
        } else if self.eat("*") {
            Test::Any
        } else if self.eat("@") {
            let w = self.word();
            if w.is_empty() {
                return Err(self.err("an attribute needs a name"));
            }
            Test::Attribute(self.c.name(&w))
        } else if self.eat("ancestor::") {
            let w = self.word();
            if w.is_empty() {
                return Err(self.err("ancestor:: needs a name"));
            }
            Test::Ancestor(self.c.name(&w))
        } else {
            let w = self.word();
            if w.is_empty() {
                return Err(self.err("expected a step"));
            }
            if let Some(t) = element_test(&w) {
                t
            } else if self.c.flavor == Flavor::X12
                && let Some((seg, element)) = x12_shorthand(&w)
            {
                out.push(Step {
                    axis,
                    test: Test::Name(self.c.name(seg)),
                    predicates: Vec::new(),
                });
                element
            } else if self.peek() == Some(b'{') {
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(|b| b != b'}') {
                    self.i += 1;
                }
                if self.peek() != Some(b'}') {
                    return Err(self.err("unterminated {"));
                }
                let inner = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                let (start_el, quals) = match inner.split_once(':') {
                    Some((n, q)) => (
                        n.trim()
                            .parse::<u16>()
                            .map_err(|_| self.err("expected an element number before ':'"))?,
                        q,
                    ),
                    None => (
                        pair_start(&w).ok_or_else(|| {
                            self.err(&format!(
                                "where do {w}'s qualifier pairs start? write {w}{{NN:{inner}}}"
                            ))
                        })?,
                        inner.as_str(),
                    ),
                };
                let qualifiers: Vec<String> = quals
                    .split('|')
                    .map(|q| q.trim().to_string())
                    .filter(|q| !q.is_empty())
                    .collect();
                if qualifiers.is_empty() {
                    return Err(self.err("no qualifier between { }"));
                }
                out.push(Step {
                    axis,
                    test: Test::Name(self.c.name(&w)),
                    predicates: Vec::new(),
                });
                Test::Qualifier {
                    start: start_el,
                    qualifiers: Qualifiers::new(qualifiers),
                }
            } else {
                Test::Name(self.c.name(&w))
            }
        };
        let mut predicates = Vec::new();
        loop {
            self.ws();
            if !self.eat("[") {
                break;
            }
            self.ws();
            let start = self.i;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            self.ws();
            if !digits.is_empty() && self.peek() == Some(b']') {
                let n: usize = digits.parse().map_err(|_| self.err("bad index"))?;
                if n == 0 {
                    return Err(self.err("indexes start at 1"));
                }
                predicates.push(Predicate::Index(n));
            } else {
                self.i = start;
                predicates.push(Predicate::Cond(self.or()?));
            }
            self.ws();
            if !self.eat("]") {
                return Err(self.err("expected ]"));
            }
        }
        // Predicates of `PO1{VP}[..]` or `BEG03[..]` apply to the last step.
        let first_axis = if out.is_empty() { axis } else { Axis::Child };
        out.push(Step {
            axis: first_axis,
            test,
            predicates,
        });
        Ok(out)
    }

    fn or(&mut self) -> Result<Cond, PathError> {
        let mut left = self.and()?;
        loop {
            self.ws();
            if self.eat("or ") {
                let right = self.and()?;
                left = Cond::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and(&mut self) -> Result<Cond, PathError> {
        let mut left = self.unary()?;
        loop {
            self.ws();
            if self.eat("and ") {
                let right = self.unary()?;
                left = Cond::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> Result<Cond, PathError> {
        self.ws();
        if self.eat("not(") {
            let c = self.or()?;
            self.ws();
            if !self.eat(")") {
                return Err(self.err("expected )"));
            }
            return Ok(Cond::Not(Box::new(c)));
        }
        if self.eat("(") {
            let c = self.or()?;
            self.ws();
            if !self.eat(")") {
                return Err(self.err("expected )"));
            }
            return Ok(c);
        }
        let alternatives = self.union_in_condition()?;
        let path = Path {
            alternatives,
            text: String::new(),
            fast: None,
        };
        self.ws();
        let negated = if self.eat("!=") {
            true
        } else if self.eat("=") {
            false
        } else {
            return Ok(Cond::Exists(path));
        };
        let mut values = Vec::new();
        loop {
            self.ws();
            let v = match self.peek() {
                Some(b'\'') | Some(b'"') => self.quoted()?,
                _ => {
                    let start = self.i;
                    while self
                        .peek()
                        .is_some_and(|b| !matches!(b, b']' | b'|' | b')' | b' ' | b'\t'))
                    {
                        self.i += 1;
                    }
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
                }
            };
            values.push(v);
            self.ws();
            if !self.eat("|") {
                break;
            }
        }
        Ok(Cond::Equals {
            path,
            values,
            negated,
        })
    }
}

/// `03` or `03-2`.
fn element_test(w: &str) -> Option<Test> {
    let (e, c) = match w.split_once('-') {
        Some((e, c)) => (e, Some(c)),
        None => (w, None),
    };
    if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let element = e.parse().ok()?;
    let component = match c {
        Some(c) if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) => Some(c.parse().ok()?),
        Some(_) => return None,
        None => None,
    };
    Some(Test::Element { element, component })
}

/// `BEG03` → (`BEG`, element 3); `N104-2` → (`N1`, element 4 component 2).
fn x12_shorthand(w: &str) -> Option<(&str, Test)> {
    let b = w.as_bytes();
    let id_end = b.iter().position(|c| *c == b'-').unwrap_or(b.len());
    if !(4..=5).contains(&id_end) {
        return None;
    }
    let split = id_end - 2;
    let (seg, rest) = w.split_at(split);
    let sb = seg.as_bytes();
    if !sb[0].is_ascii_uppercase()
        || !sb
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return None;
    }
    Some((seg, element_test(rest)?))
}

/// Evaluates paths and conditions over a tree.
pub struct Eval<'t, 'v> {
    /// The tree.
    pub tree: &'t Tree,
    /// The facts `$...` names.
    pub vars: &'v dyn Vars,
    /// Paths are evaluated by their fast forms where they have one; off,
    /// always by the general walk (the reference the fast forms are tested
    /// against).
    fast: bool,
    pool: std::cell::RefCell<Vec<Vec<Item>>>,
    probed: std::cell::RefCell<Vec<Vec<Probed>>>,
    /// The qualifier/value pairs of the segment read last (see
    /// [`Eval::qualified`]), for the next rule that reads the same one.
    pairs: std::cell::RefCell<Pairs>,
}

/// The buffers of an evaluator, kept from one to the next (one evaluator
/// per streamed item, thousands a second) so that they are allocated once.
#[derive(Debug, Default)]
pub struct Scratch {
    pool: Vec<Vec<Item>>,
    probed: Vec<Vec<Probed>>,
    pairs: Vec<Pair>,
}

/// A segment's qualifier/value pairs from an element on: the qualifier's
/// and the value's ranges of the tree's text.
#[derive(Debug)]
struct Pairs {
    segment: NodeId,
    start: u16,
    /// Each pair's qualifier ([`pack`]ed, and its range) and value.
    ranges: Vec<Pair>,
}

/// A qualifier/value pair of a segment: the qualifier [`pack`]ed, its
/// range and the value's range in the tree's text.
type Pair = (u32, (usize, usize), (usize, usize));

impl<'t, 'v> Eval<'t, 'v> {
    /// An evaluator over `tree`.
    pub fn new(tree: &'t Tree, vars: &'v dyn Vars) -> Eval<'t, 'v> {
        Eval::reusing(tree, vars, Scratch::default())
    }

    /// An evaluator over `tree` with the buffers of an earlier one (what
    /// they held is forgotten).
    pub fn reusing(tree: &'t Tree, vars: &'v dyn Vars, scratch: Scratch) -> Eval<'t, 'v> {
        let Scratch {
            pool,
            probed,
            mut pairs,
        } = scratch;
        pairs.clear();
        Eval {
            tree,
            vars,
            fast: true,
            pool: std::cell::RefCell::new(pool),
            probed: std::cell::RefCell::new(probed),
            pairs: std::cell::RefCell::new(Pairs {
                segment: NONE,
                start: 0,
                ranges: pairs,
            }),
        }
    }

    /// The same evaluator, walking every path the general way (no fast
    /// forms): the reference.
    pub fn general(mut self) -> Self {
        self.fast = false;
        self
    }

    /// Whether paths are evaluated by their fast forms.
    pub fn is_fast(&self) -> bool {
        self.fast
    }

    /// The evaluator's buffers, for the next one.
    pub fn into_scratch(self) -> Scratch {
        Scratch {
            pool: self.pool.into_inner(),
            probed: self.probed.into_inner(),
            pairs: self.pairs.into_inner().ranges,
        }
    }
}

impl Eval<'_, '_> {
    /// Every item `path` finds from `context`, in document order.
    pub fn items(&self, path: &Path, context: NodeId, out: &mut Vec<Item>) {
        let before = out.len();
        for (i, chain) in path.alternatives.iter().enumerate() {
            match chain {
                Chain::Literal(_) => out.push(Item::Constant(i as u16)),
                Chain::Var(name) => {
                    if self.vars.var(name).is_some() {
                        out.push(Item::Constant(i as u16));
                    }
                }
                Chain::Steps { absolute, steps } => {
                    let start = if *absolute { self.tree.root() } else { context };
                    self.walk(steps, start, out);
                }
            }
        }
        if path.alternatives.len() > 1 {
            out[before..].sort_by_key(Item::order_key);
            let mut seen = before;
            for i in before..out.len() {
                if i == before || out[i] != out[seen - 1] {
                    out[seen] = out[i];
                    seen += 1;
                }
            }
            out.truncate(seen);
        }
    }

    /// The nodes `path` finds from `context` (values cut out of segments
    /// and constants left aside), in document order.
    pub fn nodes(&self, path: &Path, context: NodeId) -> Vec<NodeId> {
        let mut items = Vec::new();
        self.items(path, context, &mut items);
        items
            .into_iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    /// The first non-empty value `path` finds.
    #[inline]
    pub fn first(&self, path: &Path, context: NodeId) -> Option<(Item, std::borrow::Cow<'_, str>)> {
        if self.fast
            && let Some(fast) = &path.fast
        {
            let start = if fast.absolute {
                self.tree.root()
            } else {
                context
            };
            if let Ok(hit) = self.fast_first::<false>(fast, &fast.steps, start) {
                return hit.map(|i| (i, self.text(path, i)));
            }
        }
        if let [chain @ Chain::Steps { .. }] = path.alternatives.as_slice() {
            let mut hit = None;
            self.search(chain, context, &mut |i| {
                let text = self.text(path, i);
                if is_blank(&text) {
                    return false;
                }
                hit = Some((i, text));
                true
            });
            return hit;
        }
        let mut items = self.take();
        self.items(path, context, &mut items);
        let found = items
            .iter()
            .map(|&i| (i, self.text(path, i)))
            .find(|(_, t)| !is_blank(t));
        self.give(items);
        found
    }

    /// What each of `probes` finds from `context`, as [`Eval::first`]
    /// finds it (into a buffer of the evaluator's: give it back with
    /// [`Eval::give_probed`]). Every probe is [`Probed::Undecided`] when
    /// the evaluator takes no fast forms or `context` is a segment.
    pub fn probe(&self, probes: &Probes, context: NodeId) -> Vec<Probed> {
        let mut out = self.probed.borrow_mut().pop().unwrap_or_default();
        out.clear();
        let t = self.tree;
        if !self.fast || t.kind(context) == Kind::Segment {
            out.resize(probes.len(), Probed::Undecided);
            return out;
        }
        // Missing until found: a probe looks on past blank values, as the
        // first non-blank value is what it finds.
        out.resize(probes.len(), Probed::Missing);
        // A probe is still wanted when it has found nothing and no probe
        // before it in its rule has found a value.
        let wanted = |out: &[Probed], id: u16| {
            let mut p = Some(id);
            while let Some(i) = p {
                let i = usize::from(i);
                if out[i] != Probed::Missing {
                    return false;
                }
                p = probes.probes[i].before;
            }
            true
        };
        // The verdicts of the filters at the child they were tested on.
        let mut memo = [(NONE, None); FILTER_MEMO];
        let mut c = t.first_child(context);
        while c != NONE {
            let name = t.name(c);
            if t.kind(c) != Kind::Attribute
                && let Some(by) = probes.by_name.iter().find(|b| b.name == name)
            {
                for &id in &by.each {
                    if !wanted(&out, id) {
                        continue;
                    }
                    let Probe { fast, filter, .. } = &probes.probes[usize::from(id)];
                    let step = &fast.steps[0];
                    let passes = match filter.map(usize::from).filter(|&f| f < FILTER_MEMO) {
                        Some(f) if memo[f].0 == c => memo[f].1,
                        Some(f) => {
                            let verdict = self.fast_filter(step, c).ok();
                            memo[f] = (c, verdict);
                            verdict
                        }
                        None => self.fast_filter(step, c).ok(),
                    };
                    let found = match passes {
                        Some(true) if fast.steps.len() == 1 => self.fast_end::<false>(&fast.end, c),
                        Some(true) => self.fast_first::<false>(fast, &fast.steps[1..], c),
                        Some(false) => Ok(None),
                        None => Err(Undecided),
                    };
                    match found {
                        Ok(Some(item)) => out[usize::from(id)] = Probed::Found(item),
                        Ok(None) => {}
                        Err(Undecided) => out[usize::from(id)] = Probed::Undecided,
                    }
                }
                for g in &by.pairs {
                    if g.probes.iter().any(|&id| wanted(&out, id)) {
                        self.probe_pairs(g, c, &mut out, &wanted);
                    }
                }
            }
            c = t.next_sibling(c);
        }
        out
    }

    /// The qualifier probes `g` at `node`: the pairs are read once, and
    /// each probe finds what [`Eval::qualified`] finds for it (the value
    /// of the first of its qualifiers that a pair has, if not blank).
    fn probe_pairs(
        &self,
        g: &PairProbes,
        node: NodeId,
        out: &mut [Probed],
        wanted: &impl Fn(&[Probed], u16) -> bool,
    ) {
        let Some(seg) = self.segment_of(node) else {
            return;
        };
        let t = self.tree;
        // For each probe, the best rank found so far and its value.
        let mut best = [(u8::MAX, (0usize, 0usize)); PAIR_PROBES];
        self.with_pairs(seg, g.start, |pairs| {
            for &(packed, _, value) in pairs {
                for &(q, place, rank) in &g.wanted {
                    let b = &mut best[usize::from(place)];
                    if q == packed && rank < b.0 {
                        *b = (rank, value);
                    }
                }
            }
        });
        for (place, &id) in g.probes.iter().enumerate() {
            let (rank, (start, end)) = best[place];
            if rank == u8::MAX || !wanted(out, id) || is_blank(t.str_slice(start, end)) {
                continue;
            }
            out[usize::from(id)] = Probed::Found(Item::Slice {
                node: seg,
                start,
                end,
            });
        }
    }

    /// Returns a buffer of [`Eval::probe`].
    pub fn give_probed(&self, probed: Vec<Probed>) {
        self.probed.borrow_mut().push(probed);
    }

    /// The text of an item found in the tree (not a constant).
    pub fn item_text(&self, item: Item) -> &str {
        match item {
            Item::Node(n) => self.tree.str_of(n),
            Item::Slice { start, end, .. } => self.tree.str_slice(start, end),
            Item::Constant(_) => "",
        }
    }

    /// The first node `path` finds from `context`, in document order
    /// (values cut out of segments and constants left aside): the context
    /// of an object read `from` it.
    pub fn first_node(&self, path: &Path, context: NodeId) -> Option<NodeId> {
        if self.fast
            && let Some(fast) = &path.fast
            && matches!(fast.end, FastEnd::Node)
        {
            let start = if fast.absolute {
                self.tree.root()
            } else {
                context
            };
            if let Ok(hit) = self.fast_first::<true>(fast, &fast.steps, start) {
                return hit.and_then(|i| i.node());
            }
        }
        let mut items = self.take();
        self.items(path, context, &mut items);
        let found = items.iter().find_map(|i| match i {
            Item::Node(n) => Some(*n),
            _ => None,
        });
        self.give(items);
        found
    }

    /// Every node `path` finds from `context` (see [`Eval::nodes`]), into
    /// a buffer of the evaluator's: give it back with
    /// [`Eval::give_back`].
    pub fn nodes_in_buffer(&self, path: &Path, context: NodeId) -> Vec<Item> {
        let mut items = self.take();
        self.items(path, context, &mut items);
        items.retain(|i| matches!(i, Item::Node(_)));
        items
    }

    /// Returns a buffer of [`Eval::nodes_in_buffer`].
    pub fn give_back(&self, items: Vec<Item>) {
        self.give(items);
    }

    /// The text of an item found by `path`.
    pub fn text(&self, path: &Path, item: Item) -> std::borrow::Cow<'_, str> {
        match item {
            Item::Node(n) => self.tree.text(n),
            Item::Slice { start, end, .. } => {
                std::borrow::Cow::Borrowed(self.tree.str_slice(start, end))
            }
            Item::Constant(i) => match path.alternatives.get(usize::from(i)) {
                Some(Chain::Literal(s)) => std::borrow::Cow::Owned(s.clone()),
                Some(Chain::Var(name)) => {
                    std::borrow::Cow::Owned(self.vars.var(name).unwrap_or_default())
                }
                _ => std::borrow::Cow::Borrowed(""),
            },
        }
    }

    /// Whether a condition holds at `context`.
    pub fn holds(&self, cond: &Cond, context: NodeId) -> bool {
        match cond {
            Cond::Exists(p) => {
                // A loop, a record or an element exists by being there; a
                // value, by not being empty.
                let t = self.tree;
                self.any(p, context, &mut |i| match i {
                    Item::Node(n)
                        if matches!(t.kind(n), Kind::Group | Kind::Segment | Kind::Root) =>
                    {
                        true
                    }
                    _ => !is_blank(&self.text(p, i)),
                })
            }
            Cond::Equals {
                path,
                values,
                negated,
            } => {
                let any = self.any(path, context, &mut |i| {
                    let t = self.text(path, i);
                    let t = t.trim();
                    values.iter().any(|v| v == t)
                });
                any != *negated
            }
            Cond::And(a, b) => self.holds(a, context) && self.holds(b, context),
            Cond::Or(a, b) => self.holds(a, context) || self.holds(b, context),
            Cond::Not(c) => !self.holds(c, context),
        }
    }

    /// True when `f` holds for some item `path` finds (order does not
    /// matter, so each alternative is searched on its own).
    fn any(&self, path: &Path, context: NodeId, f: &mut dyn FnMut(Item) -> bool) -> bool {
        path.alternatives
            .iter()
            .enumerate()
            .any(|(i, chain)| match chain {
                Chain::Literal(_) => f(Item::Constant(i as u16)),
                Chain::Var(name) => self.vars.var(name).is_some() && f(Item::Constant(i as u16)),
                Chain::Steps { .. } => self.search(chain, context, f),
            })
    }

    /// The first non-blank item of a fast chain, depth first in document
    /// order, as [`Eval::first`] would find it.
    fn fast_first<const NODES: bool>(
        &self,
        fast: &Fast,
        steps: &[FastStep],
        node: NodeId,
    ) -> Result<Option<Item>, Undecided> {
        let t = self.tree;
        let Some((step, rest)) = steps.split_first() else {
            return self.fast_end::<NODES>(&fast.end, node);
        };
        if t.kind(node) == Kind::Segment {
            // A segment's own name is the segment (`BEG03` in the BEG).
            if t.name(node) != step.name || !self.fast_filter(step, node)? {
                return Ok(None);
            }
            return self.fast_first::<NODES>(fast, rest, node);
        }
        if !t.may_have_child(node, step.name) {
            return Ok(None);
        }
        // A CSV record's first field of that name is at its column's
        // position (no earlier sibling has the name); when another column
        // has the name too, scan on from there.
        let mut c = match t.column(node, step.name) {
            Some((c, true)) => {
                return if step.filter.is_none() || self.fast_filter(step, c)? {
                    self.fast_first::<NODES>(fast, rest, c)
                } else {
                    Ok(None)
                };
            }
            Some((c, false)) => c,
            None => t.first_child(node),
        };
        while c != NONE {
            if t.name(c) == step.name
                && t.kind(c) != Kind::Attribute
                && (step.filter.is_none() || self.fast_filter(step, c)?)
            {
                let hit = if rest.is_empty() {
                    self.fast_end::<NODES>(&fast.end, c)?
                } else {
                    self.fast_first::<NODES>(fast, rest, c)?
                };
                if hit.is_some() {
                    return Ok(hit);
                }
            }
            c = t.next_sibling(c);
        }
        Ok(None)
    }

    /// The value after the first of `qualifiers` (in their order of
    /// preference) among the qualifier/value pairs of `seg` from element
    /// `start` on (`PO1{VN|VP}`); its first non-empty one. The rules of an
    /// item read one segment's pairs one after the other, so its pairs are
    /// found once and kept.
    #[inline]
    fn qualified(
        &self,
        seg: NodeId,
        start: u16,
        qualifiers: &Qualifiers,
    ) -> Option<(usize, usize)> {
        let t = self.tree;
        self.with_pairs(seg, start, |pairs| {
            qualifiers
                .packed
                .iter()
                .zip(&qualifiers.texts)
                .find_map(|(&packed, text)| {
                    pairs
                        .iter()
                        .find(|(p, (qs, qe), _)| {
                            *p == packed
                                && (packed != LONG || same(text.as_bytes(), t.slice(*qs, *qe)))
                        })
                        .map(|&(_, _, v)| v)
                })
        })
    }

    /// Runs `f` on the qualifier/value pairs of `seg` from element `start`
    /// on (those with a value), found once and kept for the next call.
    #[inline]
    fn with_pairs<T>(&self, seg: NodeId, start: u16, f: impl FnOnce(&[Pair]) -> T) -> T {
        let t = self.tree;
        let mut pairs = self.pairs.borrow_mut();
        if pairs.segment != seg || pairs.start != start {
            pairs.segment = seg;
            pairs.start = start;
            pairs.ranges.clear();
            let count = t.element_count(seg);
            let mut i = usize::from(start);
            while i < count {
                if let Some(q) = t.element_range(seg, i)
                    && let Some(v) = t.element_range(seg, i + 1)
                    && v.1 > v.0
                {
                    pairs.ranges.push((pack(t.slice(q.0, q.1)), q, v));
                }
                i += 2;
            }
        }
        f(&pairs.ranges)
    }

    /// Whether a fast step's filter lets `node` through.
    #[inline]
    fn fast_filter(&self, step: &FastStep, node: NodeId) -> Result<bool, Undecided> {
        let Some(f) = &step.filter else {
            return Ok(true);
        };
        let t = self.tree;
        let Some(seg) = self.segment_of(node) else {
            // Not a segment: the general rule (the nth child).
            return Ok(self.holds(&f.cond, node));
        };
        let Some(d) = t.delimiters() else {
            return Err(Undecided);
        };
        let value = match t.element_range(seg, usize::from(f.element)) {
            Some((a, b)) if b > a => {
                if d.repetition().is_some_and(|r| has_byte(t.slice(a, b), r)) {
                    return Ok(self.holds(&f.cond, node));
                }
                trim(t.str_slice(a, b))
            }
            // An absent or empty element is no value: `[01=X]` fails,
            // `[01!=X]` holds.
            _ => return Ok(f.negated),
        };
        Ok(f.values
            .iter()
            .any(|v| same(v.as_bytes(), value.as_bytes()))
            != f.negated)
    }

    /// The end of a fast chain at `node`: the node, or a value cut out of
    /// its segment; blank values are not found.
    #[inline]
    fn fast_end<const NODES: bool>(
        &self,
        end: &FastEnd,
        node: NodeId,
    ) -> Result<Option<Item>, Undecided> {
        let t = self.tree;
        match end {
            // Looking for nodes ([`Eval::first_node`]), any is found.
            FastEnd::Node if NODES => Ok(Some(Item::Node(node))),
            FastEnd::Node => Ok((!is_blank(&t.text(node))).then_some(Item::Node(node))),
            FastEnd::Element(element) => {
                let Some(seg) = self.segment_of(node) else {
                    return Err(Undecided);
                };
                let Some(d) = t.delimiters() else {
                    return Ok(None);
                };
                if *element == 0 {
                    return Ok(None);
                }
                let Some((a, b)) = t.element_range(seg, usize::from(*element)) else {
                    return Ok(None);
                };
                if d.repetition().is_some_and(|r| has_byte(t.slice(a, b), r)) {
                    return Err(Undecided);
                }
                Ok((!is_blank(t.str_slice(a, b))).then_some(Item::Slice {
                    node: seg,
                    start: a,
                    end: b,
                }))
            }
            FastEnd::Component(element, component) => {
                let Some(seg) = self.segment_of(node) else {
                    return Err(Undecided);
                };
                let Some(d) = t.delimiters() else {
                    return Ok(None);
                };
                if *element == 0 {
                    return Ok(None);
                }
                let Some((a, b)) = t.element_range(seg, usize::from(*element)) else {
                    return Ok(None);
                };
                let bytes = t.slice(a, b);
                if d.repetition().is_some_and(|r| has_byte(bytes, r)) {
                    return Err(Undecided);
                }
                // The component's range, as the general walk cuts it.
                let mut at = a;
                let mut found = None;
                for (i, piece) in bytes.split(|&x| x == d.component()).enumerate() {
                    if i + 1 == usize::from(*component) {
                        found = Some((at, at + piece.len()));
                        break;
                    }
                    at += piece.len() + 1;
                }
                Ok(found
                    .filter(|&(s, e)| !is_blank(t.str_slice(s, e)))
                    .map(|(start, end)| Item::Slice {
                        node: seg,
                        start,
                        end,
                    }))
            }
            FastEnd::Qualifier { start, qualifiers } => {
                let Some(seg) = self.segment_of(node) else {
                    return Ok(None);
                };
                // The general walk takes the first pair and then skips it
                // if blank.
                Ok(self
                    .qualified(seg, *start, qualifiers)
                    .filter(|&(vs, ve)| !is_blank(t.str_slice(vs, ve)))
                    .map(|(start, end)| Item::Slice {
                        node: seg,
                        start,
                        end,
                    }))
            }
        }
    }

    fn walk(&self, steps: &[Step], start: NodeId, out: &mut Vec<Item>) {
        if steps.len() < 2 || steps.iter().all(|s| s.axis == Axis::Child) {
            self.visit(steps, start, &mut |i| {
                out.push(i);
                false
            });
            return;
        }
        self.breadth_first(steps, start, out);
    }

    /// Calls `f` on what a single chain of steps finds, in document order,
    /// until `f` returns true (found: stop). Returns whether it stopped.
    fn search(&self, chain: &Chain, context: NodeId, f: &mut dyn FnMut(Item) -> bool) -> bool {
        let Chain::Steps { absolute, steps } = chain else {
            return false;
        };
        let start = if *absolute { self.tree.root() } else { context };
        if steps.len() < 2 || steps.iter().all(|s| s.axis == Axis::Child) {
            return self.visit(steps, start, f);
        }
        let mut items = self.take();
        self.breadth_first(steps, start, &mut items);
        let stopped = items.iter().any(|&i| f(i));
        self.give(items);
        stopped
    }

    /// Walks child steps depth first, in document order, calling `f` on
    /// each item found until it returns true; allocates only for
    /// positional predicates and for tests that find several values.
    fn visit(&self, steps: &[Step], node: NodeId, f: &mut dyn FnMut(Item) -> bool) -> bool {
        let Some((step, rest)) = steps.split_first() else {
            return f(Item::Node(node));
        };
        let t = self.tree;
        let positional = step
            .predicates
            .iter()
            .any(|p| matches!(p, Predicate::Index(_)));
        if !positional {
            if let (Test::Name(name), Axis::Child) = (&step.test, step.axis)
                && t.kind(node) != Kind::Segment
            {
                let mut c = t.first_child(node);
                while c != NONE {
                    if t.name(c) == *name
                        && t.kind(c) != Kind::Attribute
                        && self.predicates_hold(step, c)
                        && self.visit(rest, c, f)
                    {
                        return true;
                    }
                    c = t.next_sibling(c);
                }
                return false;
            }
            if rest.is_empty()
                && step.predicates.is_empty()
                && let Test::Element {
                    element,
                    component: None,
                } = step.test
                && let Some(seg) = self.segment_of(node)
                && let Some(d) = t.delimiters()
            {
                // The common case, one element of a segment, without a
                // buffer; repeated elements take the general way.
                if element == 0 {
                    return false;
                }
                let Some((a, b)) = t.element_range(seg, usize::from(element)) else {
                    return false;
                };
                let repeats = d.repetition().is_some_and(|r| t.slice(a, b).contains(&r));
                if !repeats {
                    return b > a
                        && f(Item::Slice {
                            node: seg,
                            start: a,
                            end: b,
                        });
                }
            }
        }
        let mut found = self.take();
        self.step(step, node, &mut found);
        for p in &step.predicates {
            match p {
                Predicate::Index(k) => {
                    let keep = found.get(k - 1).copied();
                    found.clear();
                    found.extend(keep);
                }
                Predicate::Cond(c) => found.retain(|i| match i {
                    Item::Node(n) => self.holds(c, *n),
                    _ => false,
                }),
            }
        }
        let mut stopped = false;
        for &item in &found {
            stopped = if rest.is_empty() {
                f(item)
            } else if let Item::Node(n) = item {
                self.visit(rest, n, f)
            } else {
                false
            };
            if stopped {
                break;
            }
        }
        self.give(found);
        stopped
    }

    fn predicates_hold(&self, step: &Step, node: NodeId) -> bool {
        step.predicates.iter().all(|p| match p {
            Predicate::Cond(c) => self.holds(c, node),
            Predicate::Index(_) => true,
        })
    }

    /// A cleared buffer from the pool.
    fn take(&self) -> Vec<Item> {
        self.pool.borrow_mut().pop().unwrap_or_default()
    }

    /// Returns a buffer to the pool.
    fn give(&self, mut v: Vec<Item>) {
        v.clear();
        self.pool.borrow_mut().push(v);
    }

    fn breadth_first(&self, steps: &[Step], start: NodeId, out: &mut Vec<Item>) {
        let mut current = vec![Item::Node(start)];
        let mut next = Vec::new();
        for step in steps {
            next.clear();
            for &item in &current {
                let Item::Node(n) = item else {
                    continue;
                };
                let before = next.len();
                self.step(step, n, &mut next);
                if !step.predicates.is_empty() {
                    let mut found: Vec<Item> = next.drain(before..).collect();
                    for p in &step.predicates {
                        match p {
                            Predicate::Index(k) => {
                                found = found.get(k - 1).copied().into_iter().collect();
                            }
                            Predicate::Cond(c) => found.retain(|i| match i {
                                Item::Node(n) => self.holds(c, *n),
                                _ => false,
                            }),
                        }
                    }
                    next.extend(found);
                }
            }
            if steps.len() > 1 && matches!(step.axis, Axis::Descendant) {
                next.sort_by_key(Item::order_key);
                next.dedup();
            }
            std::mem::swap(&mut current, &mut next);
            if current.is_empty() {
                return;
            }
        }
        out.extend(current);
    }

    fn step(&self, step: &Step, n: NodeId, out: &mut Vec<Item>) {
        let t = self.tree;
        match &step.test {
            Test::SelfNode => out.push(Item::Node(n)),
            Test::Parent => {
                let p = t.parent(n);
                if p != NONE {
                    out.push(Item::Node(p));
                }
            }
            Test::Ancestor(name) => {
                // Every enclosing node of that name, nearest first; a
                // predicate then picks among them (`ancestor::HL[03=T]` is
                // the nearest tare, however deep).
                let mut p = t.parent(n);
                while p != NONE {
                    if t.name(p) == *name && p != t.root() {
                        out.push(Item::Node(p));
                    }
                    p = t.parent(p);
                }
            }
            Test::Name(name) => match step.axis {
                // A segment's own name is the segment (`BEG03` inside a
                // rule whose context is the BEG).
                Axis::Child if t.kind(n) == Kind::Segment => {
                    if t.name(n) == *name {
                        out.push(Item::Node(n));
                    }
                }
                Axis::Child => {
                    for c in t.children(n) {
                        if t.name(c) == *name && t.kind(c) != Kind::Attribute {
                            out.push(Item::Node(c));
                        }
                    }
                }
                Axis::Descendant => self.descendants(n, &mut |c| {
                    if t.name(c) == *name && t.kind(c) != Kind::Attribute && !is_trigger(t, c) {
                        out.push(Item::Node(c));
                    }
                }),
            },
            Test::Any => match step.axis {
                Axis::Child => {
                    for c in t.children(n) {
                        if t.kind(c) != Kind::Attribute {
                            out.push(Item::Node(c));
                        }
                    }
                }
                Axis::Descendant => self.descendants(n, &mut |c| {
                    if t.kind(c) != Kind::Attribute {
                        out.push(Item::Node(c));
                    }
                }),
            },
            Test::Attribute(name) => {
                for c in t.children(n) {
                    if t.kind(c) == Kind::Attribute && t.name(c) == *name {
                        out.push(Item::Node(c));
                    }
                }
            }
            Test::Element { element, component } => {
                if let Some(seg) = self.segment_of(n) {
                    self.element(seg, *element, *component, out);
                } else if t.kind(n) != Kind::Segment {
                    // The nth child: a CSV column, an XML child element.
                    if let Some(c) = t
                        .children(n)
                        .filter(|&c| t.kind(c) != Kind::Attribute)
                        .nth(usize::from(*element).saturating_sub(1))
                        && *element > 0
                    {
                        out.push(Item::Node(c));
                    }
                }
            }
            Test::Qualifier { start, qualifiers } => {
                if let Some(seg) = self.segment_of(n)
                    && let Some((start, end)) = self.qualified(seg, *start, qualifiers)
                {
                    out.push(Item::Slice {
                        node: seg,
                        start,
                        end,
                    });
                }
            }
        }
    }

    /// The segment node a step on `n` applies to: `n` itself, or the first
    /// segment of a loop named like it.
    #[inline]
    fn segment_of(&self, n: NodeId) -> Option<NodeId> {
        let t = self.tree;
        match t.kind(n) {
            Kind::Segment => Some(n),
            Kind::Group => {
                let c = t.first_child(n);
                (c != NONE && t.kind(c) == Kind::Segment && t.name(c) == t.name(n)).then_some(c)
            }
            _ => None,
        }
    }

    fn element(&self, seg: NodeId, element: u16, component: Option<u16>, out: &mut Vec<Item>) {
        let t = self.tree;
        let Some(d) = t.delimiters() else {
            return;
        };
        if element == 0 {
            return;
        }
        let Some((s, e)) = t.element_range(seg, usize::from(element)) else {
            return;
        };
        let bytes = t.slice(s, e);
        let mut push = |a: usize, b: usize| {
            let (a, b) = match component {
                None => (a, b),
                Some(c) => {
                    let part = t.slice(a, b);
                    let mut at = a;
                    let mut found = None;
                    for (i, piece) in part.split(|&x| x == d.component()).enumerate() {
                        if i + 1 == usize::from(c) {
                            found = Some((at, at + piece.len()));
                            break;
                        }
                        at += piece.len() + 1;
                    }
                    match found {
                        Some(f) => f,
                        None => return,
                    }
                }
            };
            if b > a {
                out.push(Item::Slice {
                    node: seg,
                    start: a,
                    end: b,
                });
            }
        };
        match d.repetition() {
            Some(r) if bytes.contains(&r) => {
                let mut at = s;
                for piece in bytes.split(|&x| x == r) {
                    push(at, at + piece.len());
                    at += piece.len() + 1;
                }
            }
            _ => push(s, e),
        }
    }

    /// Calls `f` on every node below `n`, in document order, without
    /// allocating: down by first children, on by next siblings, up by
    /// parents.
    fn descendants(&self, n: NodeId, f: &mut dyn FnMut(NodeId)) {
        let t = self.tree;
        let mut c = t.first_child(n);
        while c != NONE {
            f(c);
            let down = t.first_child(c);
            if down != NONE {
                c = down;
                continue;
            }
            // Up until a node has a next sibling, stopping at `n`.
            loop {
                if c == n {
                    return;
                }
                let next = t.next_sibling(c);
                if next != NONE {
                    c = next;
                    break;
                }
                c = t.parent(c);
                if c == n || c == NONE {
                    return;
                }
            }
        }
    }
}

/// Two short byte strings (qualifiers, codes) are equal: compared in
/// place, not through `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// `bytes` (an element, a few bytes) holds `b`.
#[inline]
fn has_byte(bytes: &[u8], b: u8) -> bool {
    bytes.contains(&b)
}

/// A value without the white space around it (as [`str::trim`]); values
/// that start and end with a visible ASCII character (nearly all) are
/// seen at once.
#[inline]
pub(super) fn trim(v: &str) -> &str {
    let b = v.as_bytes();
    if b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic) {
        v
    } else {
        v.trim()
    }
}

/// True when a value is empty or only white space; values that start and
/// end with a visible ASCII character (nearly all) are seen at once.
#[inline]
fn is_blank(s: &str) -> bool {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (None, _) | (_, None) => true,
        (Some(a), Some(b)) if a.is_ascii_graphic() || b.is_ascii_graphic() => false,
        _ => s.trim().is_empty(),
    }
}

/// True for the segment that opens a loop named like it: `//HL` finds the
/// HL loops, not also their first segments.
fn is_trigger(t: &Tree, c: NodeId) -> bool {
    let p = t.parent(c);
    t.kind(c) == Kind::Segment
        && p != NONE
        && t.kind(p) == Kind::Group
        && t.name(p) == t.name(c)
        && t.first_child(p) == c
}

impl Path {
    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// When the path is a plain chain of child names from the root (or
    /// from the context, which streaming treats as the root): those names.
    pub fn simple_names(&self) -> Option<Vec<Name>> {
        let [Chain::Steps { steps, .. }] = self.alternatives.as_slice() else {
            return None;
        };
        steps
            .iter()
            .map(|s| match (&s.test, s.axis, s.predicates.is_empty()) {
                (Test::Name(n), Axis::Child, true) => Some(*n),
                _ => None,
            })
            .collect()
    }

    /// The names the path's steps look for (children, loops, columns),
    /// predicates left aside.
    pub fn step_names(&self) -> Vec<Name> {
        let mut out = Vec::new();
        for chain in &self.alternatives {
            if let Chain::Steps { steps, .. } = chain {
                out.extend(steps.iter().filter_map(|s| match s.test {
                    Test::Name(n) => Some(n),
                    _ => None,
                }));
            }
        }
        out
    }

    /// True when the path is a constant.
    pub fn is_constant(&self) -> bool {
        matches!(self.alternatives.as_slice(), [Chain::Literal(_)])
    }
}

/// What a path reads in a flat record when it reads one thing only: a
/// column of the record it is evaluated at, or a constant. Such paths are
/// evaluated straight from a CSV record's fields, without a tree (see
/// [`super::rows`]), and find exactly what [`Eval`] finds in the record's
/// node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The field of the column with this name.
    Named(Name),
    /// The `n`th field (from 0): a path `3` is `Nth(2)`.
    Nth(usize),
    /// A constant.
    Literal(String),
}

/// The fields of one flat record, by column.
pub trait Columns {
    /// The field of `column`, and its position, if the record has it.
    /// `Err(())` when the columns cannot say (a name two columns have):
    /// the tree must decide.
    #[allow(clippy::result_unit_err)]
    fn field(&self, column: &Column) -> Result<Option<(&str, usize)>, ()>;
}

impl Column {
    /// What [`Eval::first`] gives for the path: the value when it is not
    /// blank, with its position (`None` for a constant).
    #[inline(always)]
    #[allow(clippy::result_unit_err)]
    pub fn first<'a>(
        &'a self,
        row: &'a impl Columns,
    ) -> Result<Option<(&'a str, Option<usize>)>, ()> {
        Ok(match self {
            Column::Literal(s) => (!is_blank(s)).then_some((s.as_str(), None)),
            c => row
                .field(c)?
                .filter(|(t, _)| !is_blank(t))
                .map(|(t, i)| (t, Some(i))),
        })
    }
}

impl Path {
    /// The path as a [`Column`], when it is that simple: one relative child
    /// step by name or number without predicates, or a constant.
    pub fn column(&self) -> Option<Column> {
        match self.alternatives.as_slice() {
            [Chain::Literal(s)] => Some(Column::Literal(s.clone())),
            [
                Chain::Steps {
                    absolute: false,
                    steps,
                },
            ] => match steps.as_slice() {
                [
                    Step {
                        axis: Axis::Child,
                        test,
                        predicates,
                    },
                ] if predicates.is_empty() => match test {
                    Test::Name(n) => Some(Column::Named(*n)),
                    Test::Element {
                        element,
                        component: None,
                    } if *element > 0 => Some(Column::Nth(usize::from(*element) - 1)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }
}

/// A condition on one flat record: [`Cond`] with every path a [`Column`].
#[derive(Clone, Debug)]
pub enum RowCond {
    /// The column has a value that is not blank.
    Exists(Column),
    /// The column's value, trimmed, is (or, negated, is not) one of these.
    Equals {
        /// Where.
        column: Column,
        /// One of these.
        values: Vec<String>,
        /// `!=`.
        negated: bool,
    },
    /// Both.
    And(Box<RowCond>, Box<RowCond>),
    /// Either.
    Or(Box<RowCond>, Box<RowCond>),
    /// Not.
    Not(Box<RowCond>),
}

impl Cond {
    /// The condition on a flat record, when all its paths are columns.
    pub fn row_form(&self) -> Option<RowCond> {
        Some(match self {
            Cond::Exists(p) => RowCond::Exists(p.column()?),
            Cond::Equals {
                path,
                values,
                negated,
            } => RowCond::Equals {
                column: path.column()?,
                values: values.clone(),
                negated: *negated,
            },
            Cond::And(a, b) => RowCond::And(Box::new(a.row_form()?), Box::new(b.row_form()?)),
            Cond::Or(a, b) => RowCond::Or(Box::new(a.row_form()?), Box::new(b.row_form()?)),
            Cond::Not(c) => RowCond::Not(Box::new(c.row_form()?)),
        })
    }
}

impl RowCond {
    /// Whether the condition holds for the record, as [`Eval::holds`]
    /// decides it for the record's node.
    #[allow(clippy::result_unit_err)]
    pub fn holds(&self, row: &impl Columns) -> Result<bool, ()> {
        Ok(match self {
            RowCond::Exists(Column::Literal(s)) => !is_blank(s),
            RowCond::Exists(c) => row.field(c)?.is_some_and(|(t, _)| !is_blank(t)),
            RowCond::Equals {
                column,
                values,
                negated,
            } => {
                let found = match column {
                    Column::Literal(s) => Some(s.as_str().trim()),
                    c => row.field(c)?.map(|(t, _)| t.trim()),
                };
                found.is_some_and(|t| values.iter().any(|v| v == t)) != *negated
            }
            RowCond::And(a, b) => a.holds(row)? && b.holds(row)?,
            RowCond::Or(a, b) => a.holds(row)? || b.holds(row)?,
            RowCond::Not(c) => !c.holds(row)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Place, Tree};
    use crate::x12::Delimiters;

    fn x12_tree() -> Tree {
        let mut t = Tree::new(Flavor::X12);
        t.set_delimiters(Delimiters::new(b'*', b':', b'~', Some(b'^')).ok());
        let beg = t.intern("BEG");
        let n1 = t.intern("N1");
        let po1 = t.intern("PO1");
        let refn = t.intern("REF");
        t.append(
            0,
            beg,
            Kind::Segment,
            b"BEG*00*DS*PO-1**20240102",
            Place::default(),
        );
        for (who, name) in [("ST", "Ann"), ("BT", "Bob")] {
            let l = t.append(0, n1, Kind::Group, b"", Place::default());
            t.append(
                l,
                n1,
                Kind::Segment,
                format!("N1*{who}*{name}").as_bytes(),
                Place::default(),
            );
            t.append(l, refn, Kind::Segment, b"REF*DP*7:8", Place::default());
        }
        let l = t.append(0, po1, Kind::Group, b"", Place::default());
        t.append(
            l,
            po1,
            Kind::Segment,
            b"PO1*1*2*EA*9.5**UP*0123*VN*ABC-1",
            Place::default(),
        );
        t
    }

    fn values(t: &mut Tree, path: &str) -> Vec<String> {
        let p = Compiler {
            tree: t,
            flavor: Flavor::X12,
        }
        .path(path)
        .expect("compiles");
        let e = Eval::new(t, &());
        let mut items = Vec::new();
        e.items(&p, 0, &mut items);
        items.iter().map(|&i| e.text(&p, i).into_owned()).collect()
    }

    #[test]
    fn elements_shorthands_and_predicates() {
        let mut t = x12_tree();
        assert_eq!(values(&mut t, "BEG03"), vec!["PO-1"]);
        assert_eq!(values(&mut t, "BEG/05"), vec!["20240102"]);
        assert_eq!(values(&mut t, "BEG04"), Vec::<String>::new());
        assert_eq!(values(&mut t, "N1[01=BT]/N102"), vec!["Bob"]);
        assert_eq!(values(&mut t, "N1[01=ST|BT]/02"), vec!["Ann", "Bob"]);
        assert_eq!(values(&mut t, "N1[01!=ST]/REF02-2"), vec!["8"]);
        assert_eq!(values(&mut t, "N1[2]/02"), vec!["Bob"]);
        assert_eq!(values(&mut t, "PO1{VN}"), vec!["ABC-1"]);
        assert_eq!(values(&mut t, "PO1{VP|UP}"), vec!["0123"]);
        // The qualifiers' order is the preference, not the pairs' order.
        assert_eq!(values(&mut t, "PO1{VN|UP}"), vec!["ABC-1"]);
        assert_eq!(values(&mut t, "PO1{UP|VN}"), vec!["0123"]);
        assert_eq!(values(&mut t, "PO1{U|VNX|V}"), Vec::<String>::new());
        assert_eq!(values(&mut t, "PO1{06:VN}"), vec!["ABC-1"]);
        assert_eq!(values(&mut t, "//REF02-1"), vec!["7", "7"]);
        assert_eq!(
            values(&mut t, "BEG03 | 'x' | N1[01=ST]/02"),
            vec!["PO-1", "Ann", "x"]
        );
        assert_eq!(values(&mut t, "N1[not(REF)]"), Vec::<String>::new());
    }

    /// The fast lookups find what the general walk finds, from every node.
    #[test]
    fn fast_lookups_agree_with_the_general_walk() {
        let mut t = x12_tree();
        let n1 = t.intern("N1");
        let refn = t.intern("REF");
        let po1 = t.intern("PO1");
        let pid = t.intern("PID");
        // Blank and repeated values, an empty qualifier's value, a loop
        // without its filter element.
        let l = t.append(0, n1, Kind::Group, b"", Place::default());
        t.append(l, n1, Kind::Segment, b"N1*  *Blank", Place::default());
        t.append(l, refn, Kind::Segment, b"REF*DP^IA*9", Place::default());
        // Blank and missing components.
        t.append(l, refn, Kind::Segment, b"REF*XX: *A::C", Place::default());
        let l = t.append(0, n1, Kind::Group, b"", Place::default());
        t.append(l, n1, Kind::Segment, b"N1", Place::default());
        let l = t.append(0, po1, Kind::Group, b"", Place::default());
        t.append(
            l,
            po1,
            Kind::Segment,
            b"PO1*2*1*EA*1**VN**VP*X-2*UP* ",
            Place::default(),
        );
        t.append(l, pid, Kind::Segment, b"PID*F****A^B", Place::default());
        t.append(l, pid, Kind::Segment, b"PID*X****A:B:", Place::default());
        let paths = [
            "BEG03",
            "BEG/05",
            "BEG04",
            "BEG09",
            "N1[01=BT]/N102",
            "N1[01=ST|BT]/02",
            "N1[01!=ST]/N102",
            "N1[01!=ST]/REF02",
            "N1[01=IA]/REF01",
            "N1/REF[01=IA]/02",
            "N1/REF[01=DP]/02",
            "N1[01= ]/02",
            "PO1{VN}",
            "PO1{VP|UP}",
            "PO1{UP}",
            "PO1{06:VN}",
            "PO1/PID/05",
            "PO1[01=2]/PID05",
            "PO1",
            "N1",
            "REF02",
            "/BEG03",
            // Components, of repeated elements too.
            "N1/REF02-1",
            "N1/REF02-2",
            "N1/REF01-2",
            "REF02-3",
            "REF02-0",
            "N1[01=ST]/REF/02-2",
            "PO1/PID05-2",
            // Qualifiers of more than three bytes, and an empty one.
            "PO1{06:VNXX|VN}",
            "N1{01:BLANK|ST}",
            "N1[01!=XXXX]/REF",
            "PO1/PID",
            "/N1[01=BT]",
        ];
        fast_agrees_everywhere(&mut t, Flavor::X12, &paths);
    }

    /// Packed qualifiers are equal exactly when their bytes are.
    #[test]
    fn packed_qualifiers_compare_as_their_bytes() {
        let words: [&[u8]; 9] = [
            b"", b"A", b"AB", b"ABC", b"ABCD", b"BA", b"A\0", b"\0A", b"ABD",
        ];
        for a in words {
            for b in words {
                let (pa, pb) = (pack(a), pack(b));
                if pa != LONG && pb != LONG {
                    assert_eq!(pa == pb, a == b, "{a:?} {b:?}");
                }
                assert_eq!(pa == LONG, a.len() > 3);
            }
        }
    }

    /// Each path has a fast form, and from every node of `t` it finds what
    /// the general walk finds.
    fn fast_agrees_everywhere(t: &mut Tree, flavor: Flavor, paths: &[&str]) {
        let n = t.len() as NodeId;
        for text in paths {
            let p = Compiler { tree: t, flavor }.path(text).expect("compiles");
            assert!(p.fast.is_some(), "{text} should have a fast form");
            let mut slow = p.clone();
            slow.fast = None;
            let e = Eval::new(t, &());
            for context in 0..n {
                assert_eq!(
                    e.first(&p, context),
                    e.first(&slow, context),
                    "{text} from node {context}"
                );
                assert_eq!(
                    e.first_node(&p, context),
                    e.first_node(&slow, context),
                    "{text} from node {context}, its first node"
                );
            }
            // The general evaluator does not take the fast form.
            let general = Eval::new(t, &()).general();
            for context in 0..n {
                assert_eq!(
                    general.first(&p, context),
                    e.first(&slow, context),
                    "{text} from node {context}, evaluated the general way"
                );
            }
        }
    }

    /// CSV columns found by position agree with the scan, with duplicate
    /// headers, short rows and blank fields.
    #[test]
    fn csv_columns_by_position_agree_with_the_scan() {
        let mut t = Tree::new(Flavor::Csv);
        let record = t.intern("record");
        let names: Vec<Name> = ["sku", "qty", "sku", "note"]
            .iter()
            .map(|n| t.intern(n))
            .collect();
        t.set_columns(&names);
        for row in [
            &["A", "1", "B", "x"][..],
            &["", "2", "C"],
            &["D"],
            &[" ", " ", "E", ""],
        ] {
            let r = t.append(0, record, Kind::Group, b"", Place::default());
            for (i, v) in row.iter().enumerate() {
                t.append(r, names[i], Kind::Field, v.as_bytes(), Place::default());
            }
        }
        fast_agrees_everywhere(
            &mut t,
            Flavor::Csv,
            &["sku", "qty", "note", "record/sku", "missing"],
        );
    }

    #[test]
    fn bad_paths_say_where() {
        let mut t = x12_tree();
        let mut c = Compiler {
            tree: &mut t,
            flavor: Flavor::X12,
        };
        let e = c.path("N1[01=ST").expect_err("bad");
        assert!(e.0.contains("expected ]"), "{e}");
        let e = c.path("REF{DP}").expect_err("bad");
        assert!(e.0.contains("REF{NN:DP}"), "{e}");
    }
}
