//! The tree every decoder yields and every mapping reads.
//!
//! One arena per document: nodes in a `Vec`, linked parent/child/sibling by
//! index, their text in one byte buffer. An X12 transaction set is a tree of
//! loops and segments (a segment node holds its raw text; its elements are
//! cut out when a path asks for them, never stored); a CSV feed is a tree of
//! records and fields; an XML document a tree of elements and attributes.
//! Names are interned once per run, so that comparing a name is comparing
//! two integers.
//!
//! Streaming rests on one operation: [`Tree::truncate`] removes the subtree
//! appended last (a loop instance, a record, an element), so that a decoder
//! can hand each repeated group to the mapping and forget it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::x12::Delimiters;

/// Index of a node in its tree.
pub type NodeId = u32;

/// Marks a column name that more than one column has.
const REPEATED: u32 = 1 << 31;

/// No node (the end of a sibling chain, the parent of the root).
pub const NONE: NodeId = u32::MAX;

/// An interned name: a segment or loop ID, a column header, an element name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(u32);

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The document itself.
    Root,
    /// A container: an X12 loop instance, a CSV record, an XML element.
    Group,
    /// An X12 segment: its text is the raw segment, elements are cut on
    /// demand with the tree's delimiters.
    Segment,
    /// A leaf with text: a CSV field; an XML element's text is its own.
    Field,
    /// An XML attribute.
    Attribute,
}

/// Where a node came from in its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// Byte offset of the node's first byte in the input.
    pub offset: u64,
    /// Line, from 1 (0 when unknown).
    pub line: u64,
    /// Column, from 1 (0 when unknown).
    pub column: u64,
    /// Ordinal: the segment's position in its set (X12), the record number
    /// (CSV), 0 otherwise.
    pub ordinal: u64,
}

/// The input formats a tree can come from; it says how to name places.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// An X12 transaction set.
    #[default]
    X12,
    /// A CSV (or other delimited) feed.
    Csv,
    /// An XML document.
    Xml,
    /// A canonical JSON document (outbound rendering).
    Json,
    /// An invoice read from a PDF by its template
    /// ([`crate::format::pdf::template`]).
    Pdf,
    /// A sheet of an Excel workbook, read as a CSV feed is.
    Xlsx,
    /// A fixed-width file: records by type, fields at positions.
    Fixed,
}

impl Flavor {
    /// A feed of rows under a header whose columns are named by the
    /// normalized header (CSV, a workbook's sheet).
    pub fn is_tabular(self) -> bool {
        matches!(self, Flavor::Csv | Flavor::Xlsx)
    }
}

#[derive(Clone, Copy, Debug)]
struct Node {
    name: Name,
    kind: Kind,
    parent: NodeId,
    first_child: NodeId,
    last_child: NodeId,
    next_sibling: NodeId,
    prev_sibling: NodeId,
    text: (usize, usize),
    /// A segment's element separators: `cuts[a..b]` of the tree.
    cuts: (u32, u32),
    /// The names of the node's children, one bit each (a name's number
    /// modulo 64): a bit that is clear says no child has a name that maps
    /// to it, so that looking for a child that is not there costs one test.
    /// Bits may be set for names no child has any more (after a child was
    /// moved or removed), never the other way round.
    child_names: u64,
    place: Place,
}

/// The bit of a name in [`Node::child_names`].
#[inline]
const fn name_bit(name: Name) -> u64 {
    1 << (name.0 & 63)
}

/// Interned names, kept for the whole run (across documents).
#[derive(Debug, Default, Clone)]
pub struct Names {
    map: HashMap<Box<str>, Name>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The name for `s`, interning it when new.
    pub fn intern(&mut self, s: &str) -> Name {
        if let Some(&n) = self.map.get(s) {
            return n;
        }
        let n = Name(self.names.len() as u32);
        self.names.push(s.into());
        self.map.insert(s.into(), n);
        n
    }

    /// The name for `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<Name> {
        self.map.get(s).copied()
    }

    /// The text of a name.
    pub fn text(&self, n: Name) -> &str {
        self.names.get(n.0 as usize).map_or("", |s| s)
    }
}

/// A document as a tree.
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    /// The text of every node, converted to UTF-8 once when appended (bytes
    /// that are not UTF-8 become U+FFFD), so that reading a value needs no
    /// validation.
    text: String,
    /// Offsets of element separators in segment nodes' text, found once
    /// when the segment is appended so that reading element n is a lookup.
    cuts: Vec<u32>,
    /// For a CSV feed: the position of the first column of each name
    /// (indexed by name), so that a record's field is found without a scan.
    columns: Vec<u32>,
    names: Names,
    root_name: Name,
    flavor: Flavor,
    delimiters: Option<Delimiters>,
    source: String,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new(Flavor::X12)
    }
}

/// The text of a value: bytes of the tree, or text computed elsewhere.
pub type Text<'t> = Cow<'t, str>;

impl Tree {
    /// An empty tree (the root only).
    pub fn new(flavor: Flavor) -> Tree {
        let mut names = Names::default();
        let root_name = names.intern("");
        let mut t = Tree {
            nodes: Vec::new(),
            text: String::new(),
            cuts: Vec::new(),
            columns: Vec::new(),
            names,
            root_name,
            flavor,
            delimiters: None,
            source: String::new(),
        };
        t.clear();
        t
    }

    /// Empties the tree for the next document; names are kept.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.text.clear();
        self.cuts.clear();
        self.columns.clear();
        self.nodes.push(Node {
            name: self.root_name,
            kind: Kind::Root,
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            prev_sibling: NONE,
            text: (0, 0),
            cuts: (0, 0),
            child_names: 0,
            place: Place::default(),
        });
    }

    /// Empties the tree for the next document but for the root's first
    /// `kept` children, which must be leaves appended first (an X12 set's
    /// ISA and GS, the same for every set of a group): the tree is then as
    /// [`Tree::clear`] and appending them again would leave it. Returns
    /// false, with the tree cleared, when its first nodes are not such
    /// leaves.
    pub fn clear_after(&mut self, kept: usize) -> bool {
        let n = kept + 1;
        let prefix_ok = self.nodes.len() >= n
            && (1..n).all(|i| {
                let node = &self.nodes[i];
                let prev = if i == 1 { NONE } else { i as NodeId - 1 };
                node.parent == 0 && node.first_child == NONE && node.prev_sibling == prev
            });
        if !prefix_ok {
            self.clear();
            return false;
        }
        let (text_end, cuts_end) = {
            let last = &self.nodes[kept];
            (last.text.1, last.cuts.1)
        };
        self.nodes.truncate(n);
        self.text.truncate(text_end);
        self.cuts.truncate(cuts_end as usize);
        self.columns.clear();
        let mut names = 0;
        for node in &self.nodes[1..] {
            names |= name_bit(node.name);
        }
        self.nodes[kept].next_sibling = NONE;
        let root = &mut self.nodes[0];
        root.first_child = if kept == 0 { NONE } else { 1 };
        root.last_child = if kept == 0 { NONE } else { kept as NodeId };
        root.child_names = names;
        true
    }

    /// The root node.
    pub const fn root(&self) -> NodeId {
        0
    }

    /// The input format of this tree.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The name of the input (a file name), for messages.
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// Sets the name of the input.
    pub fn set_source_name(&mut self, name: &str) {
        name.clone_into(&mut self.source);
    }

    /// The X12 delimiters that cut segment nodes into elements.
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delimiters
    }

    /// Sets the X12 delimiters (each interchange declares its own).
    pub fn set_delimiters(&mut self, d: Option<Delimiters>) {
        self.delimiters = d;
    }

    /// The interned names.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The interned names, to intern more.
    pub fn names_mut(&mut self) -> &mut Names {
        &mut self.names
    }

    /// Interns a name.
    pub fn intern(&mut self, s: &str) -> Name {
        self.names.intern(s)
    }

    /// Number of nodes (the root included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the tree holds the root only.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// Appends a node as the last child of `parent`; text that is not
    /// UTF-8 is kept with U+FFFD in place of the bad bytes.
    #[inline]
    pub fn append(
        &mut self,
        parent: NodeId,
        name: Name,
        kind: Kind,
        text: &[u8],
        place: Place,
    ) -> NodeId {
        let start = self.text.len();
        push_lossy(&mut self.text, text);
        self.link(parent, name, kind, start, place)
    }

    /// Appends a node whose text is already a string.
    pub fn append_str(
        &mut self,
        parent: NodeId,
        name: Name,
        kind: Kind,
        text: &str,
        place: Place,
    ) -> NodeId {
        let start = self.text.len();
        self.text.push_str(text);
        self.link(parent, name, kind, start, place)
    }

    /// Links a node whose text is `self.text[start..]`.
    fn link(
        &mut self,
        parent: NodeId,
        name: Name,
        kind: Kind,
        start: usize,
        place: Place,
    ) -> NodeId {
        let end = self.text.len();
        let cut_start = self.cuts.len() as u32;
        if kind == Kind::Segment
            && let Some(d) = self.delimiters
        {
            // Segments are short (an X12 segment is at most a few hundred
            // bytes in practice); u32 offsets are ample.
            find_byte(
                &self.text.as_bytes()[start..end],
                d.element(),
                &mut self.cuts,
            );
        }
        let cuts = (cut_start, self.cuts.len() as u32);
        let id = self.nodes.len() as NodeId;
        let prev = self.nodes[parent as usize].last_child;
        self.nodes.push(Node {
            name,
            kind,
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            prev_sibling: prev,
            text: (start, end),
            cuts,
            child_names: 0,
            place,
        });
        if prev == NONE {
            self.nodes[parent as usize].first_child = id;
        } else {
            self.nodes[prev as usize].next_sibling = id;
        }
        let p = &mut self.nodes[parent as usize];
        p.last_child = id;
        p.child_names |= name_bit(name);
        id
    }

    /// False when no child of `id` is named `name`; true when one may be.
    #[inline]
    pub fn may_have_child(&self, id: NodeId, name: Name) -> bool {
        self.node(id).child_names & name_bit(name) != 0
    }

    /// Appends text to the node appended last (XML text split by entities
    /// or CDATA). Does nothing to any other node.
    pub fn extend_text(&mut self, node: NodeId, text: &[u8]) {
        if node as usize + 1 != self.nodes.len() || self.text.len() != self.node(node).text.1 {
            return;
        }
        push_lossy(&mut self.text, text);
        self.nodes[node as usize].text.1 = self.text.len();
    }

    /// Moves `node` (with its subtree) to be the last child of `parent`.
    /// Used to nest X12 HL loops by their parent IDs.
    pub fn reparent(&mut self, node: NodeId, parent: NodeId) {
        if node == 0 || parent == node || self.node(node).parent == parent {
            return;
        }
        let n = *self.node(node);
        // Unlink.
        if n.prev_sibling == NONE {
            self.nodes[n.parent as usize].first_child = n.next_sibling;
        } else {
            self.nodes[n.prev_sibling as usize].next_sibling = n.next_sibling;
        }
        if n.next_sibling == NONE {
            self.nodes[n.parent as usize].last_child = n.prev_sibling;
        } else {
            self.nodes[n.next_sibling as usize].prev_sibling = n.prev_sibling;
        }
        // Link.
        let prev = self.nodes[parent as usize].last_child;
        let me = &mut self.nodes[node as usize];
        me.parent = parent;
        me.prev_sibling = prev;
        me.next_sibling = NONE;
        let name = me.name;
        if prev == NONE {
            self.nodes[parent as usize].first_child = node;
        } else {
            self.nodes[prev as usize].next_sibling = node;
        }
        let p = &mut self.nodes[parent as usize];
        p.last_child = node;
        p.child_names |= name_bit(name);
    }

    /// Removes `node` and every node appended after it. `node` must be the
    /// start of the subtree appended last (its descendants follow it), as
    /// streamed groups are.
    pub fn truncate(&mut self, node: NodeId) {
        if node == 0 || node as usize >= self.nodes.len() {
            return;
        }
        let n = *self.node(node);
        debug_assert_eq!(n.next_sibling, NONE, "only the last subtree can go");
        if n.prev_sibling == NONE {
            self.nodes[n.parent as usize].first_child = NONE;
        } else {
            self.nodes[n.prev_sibling as usize].next_sibling = NONE;
        }
        self.nodes[n.parent as usize].last_child = n.prev_sibling;
        self.nodes.truncate(node as usize);
        self.text.truncate(n.text.0);
        self.cuts.truncate(n.cuts.0 as usize);
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// The node's name.
    pub fn name(&self, id: NodeId) -> Name {
        self.node(id).name
    }

    /// The node's name as text.
    pub fn name_text(&self, id: NodeId) -> &str {
        self.names.text(self.node(id).name)
    }

    /// The node's kind.
    pub fn kind(&self, id: NodeId) -> Kind {
        self.node(id).kind
    }

    /// The node's parent ([`NONE`] for the root).
    pub fn parent(&self, id: NodeId) -> NodeId {
        self.node(id).parent
    }

    /// The node's first child.
    pub fn first_child(&self, id: NodeId) -> NodeId {
        self.node(id).first_child
    }

    /// The node's last child.
    pub fn last_child(&self, id: NodeId) -> NodeId {
        self.node(id).last_child
    }

    /// The node's next sibling.
    pub fn next_sibling(&self, id: NodeId) -> NodeId {
        self.node(id).next_sibling
    }

    /// The children of a node, in order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            tree: self,
            next: self.node(id).first_child,
        }
    }

    /// The node's own text (a segment's raw text, a field's value).
    pub fn bytes(&self, id: NodeId) -> &[u8] {
        let (a, b) = self.node(id).text;
        &self.text.as_bytes()[a..b]
    }

    /// Bytes of the text buffer between two offsets (values cut out of a
    /// segment).
    pub fn slice(&self, start: usize, end: usize) -> &[u8] {
        &self.text.as_bytes()[start..end]
    }

    /// Element `n` of a segment node (0 is the segment ID) as a range of
    /// the tree's text; `None` past the last element or for other nodes.
    #[inline]
    pub fn element_range(&self, seg: NodeId, n: usize) -> Option<(usize, usize)> {
        let node = self.node(seg);
        if node.kind != Kind::Segment {
            return None;
        }
        let cuts = &self.cuts[node.cuts.0 as usize..node.cuts.1 as usize];
        let base = node.text.0;
        let start = match n {
            0 => 0,
            _ => *cuts.get(n - 1)? as usize + 1,
        };
        let end = cuts.get(n).map_or(node.text.1 - base, |&c| c as usize);
        Some((base + start, base + end))
    }

    /// Declares the columns of a CSV feed, in order: every record's fields
    /// are appended right after it, named by these.
    pub fn set_columns(&mut self, names: &[Name]) {
        self.columns.clear();
        for (i, n) in names.iter().enumerate() {
            let at = n.0 as usize;
            if self.columns.len() <= at {
                self.columns.resize(at + 1, u32::MAX);
            }
            if self.columns[at] == u32::MAX {
                self.columns[at] = i as u32;
            } else {
                self.columns[at] |= REPEATED;
            }
        }
    }

    /// The first child of `record` named `name`, found by its column
    /// position, and whether it is the only one (no other column has the
    /// name); `None` when the columns do not say (the caller scans).
    #[inline]
    pub fn column(&self, record: NodeId, name: Name) -> Option<(NodeId, bool)> {
        let slot = *self.columns.get(name.0 as usize)?;
        if slot == u32::MAX {
            return None;
        }
        let ordinal = slot & !REPEATED;
        let id = record.checked_add(1)?.checked_add(ordinal)?;
        let node = self.nodes.get(id as usize)?;
        (node.parent == record && node.name == name && node.kind == Kind::Field)
            .then_some((id, slot & REPEATED == 0))
    }

    /// The position (from 0) of the first column named `name`, and whether
    /// it is the only one; `None` when no column has the name.
    #[inline]
    pub fn column_position(&self, name: Name) -> Option<(usize, bool)> {
        let slot = *self.columns.get(name.0 as usize)?;
        (slot != u32::MAX).then_some(((slot & !REPEATED) as usize, slot & REPEATED == 0))
    }

    /// The declared CSV columns, in order (empty before a header is read).
    pub fn columns(&self) -> Vec<Name> {
        let mut named: Vec<(u32, Name)> = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, slot)| **slot != u32::MAX)
            .map(|(name, slot)| (slot & !REPEATED, Name(name as u32)))
            .collect();
        named.sort();
        named.into_iter().map(|(_, n)| n).collect()
    }

    /// Number of elements of a segment node, its ID included.
    pub fn element_count(&self, seg: NodeId) -> usize {
        let node = self.node(seg);
        match node.kind {
            Kind::Segment => (node.cuts.1 - node.cuts.0) as usize + 1,
            _ => 0,
        }
    }

    /// Where the node's text starts in the text buffer.
    pub fn text_start(&self, id: NodeId) -> usize {
        self.node(id).text.0
    }

    /// The node's own text as a string.
    pub fn text(&self, id: NodeId) -> Text<'_> {
        Cow::Borrowed(self.str_of(id))
    }

    /// The node's own text, borrowed.
    pub fn str_of(&self, id: NodeId) -> &str {
        let (a, b) = self.node(id).text;
        self.str_slice(a, b)
    }

    /// Text between two offsets of the text buffer, as a string (empty if
    /// they do not fall on character boundaries, which offsets found at
    /// ASCII delimiters always do).
    #[inline]
    pub fn str_slice(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or("")
    }

    /// Where the node came from.
    pub fn place(&self, id: NodeId) -> Place {
        self.node(id).place
    }

    /// Describes a place for a message: "segment 14 (PO1), line 14,
    /// column 1", "record 5 (line 6), field 3"...
    pub fn describe(&self, id: NodeId, column_offset: usize) -> String {
        let p = self.place(id);
        let name = self.name_text(id);
        match self.flavor {
            Flavor::X12 if p.ordinal == 0 => format!(
                "{name} segment, line {}, column {}",
                p.line,
                p.column + column_offset as u64
            ),
            Flavor::X12 => format!(
                "segment {} ({name}) of the set, line {}, column {}",
                p.ordinal,
                p.line,
                p.column + column_offset as u64
            ),
            Flavor::Csv if self.kind(id) == Kind::Group => {
                format!("record {}, line {}", p.ordinal, p.line)
            }
            Flavor::Csv => format!("record {}, line {}, field {name:?}", p.ordinal, p.line),
            Flavor::Xml => format!("<{name}> at line {}, column {}", p.line, p.column),
            Flavor::Json => format!("field {name:?}"),
            Flavor::Xlsx if self.kind(id) == Kind::Group => {
                format!("row {} (record {})", p.line, p.ordinal)
            }
            Flavor::Xlsx => format!(
                "row {}, column {} (record {}, field {name:?})",
                p.line,
                column_letters(p.column),
                p.ordinal
            ),
            Flavor::Fixed if self.kind(id) == Kind::Group => {
                format!("line {} ({name} record {})", p.line, p.ordinal)
            }
            Flavor::Fixed => format!("line {}, column {}, field {name:?}", p.line, p.column),
            Flavor::Pdf if p.ordinal > 0 => format!(
                "{name:?} of table row {}, page {}, at x {} y {} pt",
                p.ordinal, p.line, p.column, p.offset
            ),
            Flavor::Pdf => format!(
                "{name:?}, page {}, at x {} y {} pt",
                p.line, p.column, p.offset
            ),
        }
    }

    /// The path of names from the root to `id`, for messages.
    pub fn path_of(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut n = id;
        while n != 0 && n != NONE {
            parts.push(self.name_text(n).to_string());
            n = self.parent(n);
        }
        parts.reverse();
        parts.join("/")
    }
}

/// Appends to `out` the offsets in `bytes` of each byte equal to `b`,
/// eight bytes at a time.
#[inline]
fn find_byte(bytes: &[u8], b: u8, out: &mut Vec<u32>) {
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let pattern = u64::from_le_bytes([b; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0u32;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        // The high bit of each byte of x that is zero, exactly (no borrow
        // runs from one byte into the next).
        let mut zero = !(((x & LOW) + LOW) | x | LOW);
        while zero != 0 {
            out.push(at + zero.trailing_zeros() / 8);
            zero &= zero - 1;
        }
        at += 8;
    }
    for (i, &c) in chunks.remainder().iter().enumerate() {
        if c == b {
            out.push(at + i as u32);
        }
    }
}

/// Appends bytes to a string, with U+FFFD for what is not UTF-8.
#[inline]
fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// Iterator over a node's children.
#[derive(Clone)]
pub struct Children<'t> {
    tree: &'t Tree,
    next: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.tree.next_sibling(id);
        Some(id)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A sheet's column by its letters, as spreadsheets show it: 1 is `A`,
/// 27 is `AA`.
pub fn column_letters(column: u64) -> String {
    let mut n = column;
    let mut out = Vec::new();
    while n > 0 {
        let d = (n - 1) % 26;
        out.push(b'A' + d as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_walks_and_truncates() {
        let mut t = Tree::new(Flavor::Csv);
        let rec = t.intern("record");
        let a = t.intern("a");
        let r1 = t.append(0, rec, Kind::Group, b"", Place::default());
        t.append(r1, a, Kind::Field, b"one", Place::default());
        let r2 = t.append(0, rec, Kind::Group, b"", Place::default());
        let f2 = t.append(r2, a, Kind::Field, b"two", Place::default());
        assert_eq!(t.children(0).collect::<Vec<_>>(), vec![r1, r2]);
        assert_eq!(t.text(f2), "two");
        t.truncate(r2);
        assert_eq!(t.children(0).collect::<Vec<_>>(), vec![r1]);
        assert_eq!(t.last_child(0), r1);
        let r3 = t.append(0, rec, Kind::Group, b"", Place::default());
        let f3 = t.append(r3, a, Kind::Field, b"three", Place::default());
        assert_eq!(t.text(f3), "three");
        assert_eq!(t.children(0).collect::<Vec<_>>(), vec![r1, r3]);
        t.truncate(r3);
        t.truncate(r1);
        assert!(t.is_empty());
        assert_eq!(t.first_child(0), NONE);
    }

    #[test]
    fn cuts_segments_into_elements_once() {
        let mut t = Tree::new(Flavor::X12);
        t.set_delimiters(Delimiters::new(b'*', b':', b'~', Some(b'^')).ok());
        let po1 = t.intern("PO1");
        let s = t.append(0, po1, Kind::Segment, b"PO1*1**EA", Place::default());
        let e = |n| {
            t.element_range(s, n)
                .map(|(a, b)| t.str_slice(a, b).to_string())
        };
        assert_eq!(e(0).as_deref(), Some("PO1"));
        assert_eq!(e(1).as_deref(), Some("1"));
        assert_eq!(e(2).as_deref(), Some(""));
        assert_eq!(e(3).as_deref(), Some("EA"));
        assert_eq!(e(4), None);
        assert_eq!(t.element_count(s), 4);
        let g = t.append(0, po1, Kind::Group, b"", Place::default());
        assert_eq!(t.element_range(g, 1), None, "a loop has no elements");
        // Truncation forgets the cuts with the nodes.
        t.truncate(g);
        t.truncate(s);
        let s2 = t.append(0, po1, Kind::Segment, b"PO1*9", Place::default());
        assert_eq!(t.element_count(s2), 2);
        // Bytes that are not UTF-8 are replaced, never a panic.
        let bad = t.append(0, po1, Kind::Segment, b"PO1*\xff*x", Place::default());
        let (a, b) = t.element_range(bad, 2).expect("element 2");
        assert_eq!(t.str_slice(a, b), "x");
        assert_eq!(t.text(bad), "PO1*\u{fffd}*x");
    }

    #[test]
    fn finds_separators_as_a_byte_scan_does() {
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..80 {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        // Mostly the separator and its neighbours.
                        [b'*', b'+', b')', 0, 0xAA, b'A'][(rng % 6) as usize]
                    })
                    .collect();
                let mut found = Vec::new();
                find_byte(&bytes, b'*', &mut found);
                let expected: Vec<u32> = (0..len as u32)
                    .filter(|&i| bytes[i as usize] == b'*')
                    .collect();
                assert_eq!(found, expected, "{bytes:?}");
            }
        }
    }

    #[test]
    fn clearing_after_the_envelope_is_clearing_and_appending_it_again() {
        let mut t = Tree::new(Flavor::X12);
        t.set_delimiters(Delimiters::new(b'*', b':', b'~', Some(b'^')).ok());
        let (isa, gs, st, n1) = (
            t.intern("ISA"),
            t.intern("GS"),
            t.intern("ST"),
            t.intern("N1"),
        );
        let envelope = |t: &mut Tree| {
            t.append(0, isa, Kind::Segment, b"ISA*00*X", Place::default());
            t.append(0, gs, Kind::Segment, b"GS*PO*A*B", Place::default());
        };
        let body = |t: &mut Tree| {
            t.append(0, st, Kind::Segment, b"ST*850*1", Place::default());
            let l = t.append(0, n1, Kind::Group, b"", Place::default());
            t.append(l, n1, Kind::Segment, b"N1*ST*Ann", Place::default());
        };
        envelope(&mut t);
        body(&mut t);
        let mut fresh = t.clone();
        fresh.clear();
        envelope(&mut fresh);
        body(&mut fresh);
        assert!(t.clear_after(2));
        body(&mut t);
        assert_eq!(format!("{:?}", t.nodes), format!("{:?}", fresh.nodes));
        assert_eq!(t.text, fresh.text);
        assert_eq!(t.cuts, fresh.cuts);
        // A prefix that is not leaves of the root is cleared instead.
        assert!(!t.clear_after(4));
        assert_eq!(t.len(), 1);
        assert!(t.clear_after(0));
        assert_eq!(format!("{:?}", t.nodes), {
            let mut empty = fresh.clone();
            empty.clear();
            format!("{:?}", empty.nodes)
        });
    }

    #[test]
    fn reparents_a_subtree() {
        let mut t = Tree::new(Flavor::X12);
        let hl = t.intern("HL");
        let s = t.append(0, hl, Kind::Group, b"", Place::default());
        let o = t.append(0, hl, Kind::Group, b"", Place::default());
        let p = t.append(0, hl, Kind::Group, b"", Place::default());
        t.reparent(o, s);
        t.reparent(p, o);
        assert_eq!(t.children(0).collect::<Vec<_>>(), vec![s]);
        assert_eq!(t.children(s).collect::<Vec<_>>(), vec![o]);
        assert_eq!(t.children(o).collect::<Vec<_>>(), vec![p]);
        assert_eq!(t.path_of(p), "HL/HL/HL");
    }
}
