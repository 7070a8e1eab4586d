//! X12 transaction sets as trees: each set (ST..SE) becomes one document
//! whose tree nests segments in the loops of the set's definition, as the
//! validator walks them.
//!
//! The tree of a set holds, under its root, the interchange's ISA and the
//! group's GS (so that a mapping can read envelope IDs), then the set's
//! segments and loops. A loop node is named by its trigger segment's ID
//! (`N1`, `PO1`, `LIN`, `HL`) and holds that segment first. HL loops are
//! nested by their parent IDs (HL02), so an 856's shipment, orders, tares,
//! packs and items form the hierarchy they declare, whatever the order they
//! come in.
//!
//! Sets are validated on the way (the envelope checker and the set
//! validator of [`crate::x12`]); the verdict comes with the end of the
//! document. A set without a definition is still built, flat, and rejected.
//!
//! A TA1 between ISA and GS (a partner acknowledging one of our
//! interchanges) is a document of its own: a tree of the ISA and the TA1,
//! whose origin names the set `TA1` and no group, rejected when its
//! elements are not valid.

use std::collections::HashMap;
use std::io::Read;

use crate::x12::envelope::{Checker, GroupHeader, SetOutcome, Sink, Summary};
use crate::x12::{IsaHeader, ParseError, ParseErrorKind, Segment, SegmentReader};

use super::tree::{Kind, Name, NodeId, Place, Tree};
use super::{DocumentSink, Flavor, Origin, SinkError, Streamer, Verdict};

/// Why an X12 input could not be read into documents.
#[derive(Debug, thiserror::Error)]
pub enum X12DecodeError {
    /// The bytes cannot be cut into segments (or the input ended inside an
    /// interchange).
    #[error("{file}: {error}")]
    Parse {
        /// The input's name.
        file: String,
        /// What the lexer or envelope checker said.
        #[source]
        error: ParseError,
    },
    /// The document sink failed (a mapping error, an output error).
    #[error("{0}")]
    Sink(#[source] SinkError),
}

/// Reads the X12 `input` and hands each transaction set to `sink` as a
/// tree. `tree` is reused from set to set (its names stay interned);
/// `acks` also hears every envelope event (for acknowledgments).
pub fn decode<R: Read>(
    reader: &mut SegmentReader<R>,
    file_name: &str,
    checker: &mut Checker<'_>,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
    acks: &mut dyn Sink,
) -> Result<Summary, X12DecodeError> {
    let mut builder = Builder::new(file_name, tree);
    let mut failed: Option<SinkError> = None;
    let result = reader.for_each(|segment, header, style| {
        checker.set_line_style(style);
        let mut tee = Tee {
            acks: &mut *acks,
            verdict: None,
        };
        checker.feed(&segment, header, &mut tee)?;
        let verdict = tee.verdict.take();
        builder
            .segment(&segment, header, checker, verdict, tree, sink)
            .map_err(|e| {
                failed = Some(e);
                ParseError::new(
                    ParseErrorKind::Io(std::io::Error::other("the document sink failed")),
                    segment.position(),
                    Some(segment.id()),
                )
            })
    });
    if let Some(e) = failed {
        return Err(X12DecodeError::Sink(e));
    }
    let parse = |error| X12DecodeError::Parse {
        file: file_name.to_string(),
        error,
    };
    result.map_err(parse)?;
    checker.set_line_style(reader.line_style());
    let end = reader.next_position();
    let mut tee = Tee {
        acks,
        verdict: None,
    };
    let summary = checker.finish(end, &mut tee);
    // An input that ends inside a set still ends the set's document, so
    // that nothing streamed is left without its end.
    if let Some(verdict) = tee.verdict.take() {
        builder
            .end_set(Some(verdict), tree, sink)
            .map_err(X12DecodeError::Sink)?;
    }
    summary.map_err(parse)
}

/// Passes envelope events on and keeps the verdict on the set that ended.
struct Tee<'a> {
    acks: &'a mut dyn Sink,
    verdict: Option<Verdict>,
}

impl Sink for Tee<'_> {
    fn interchange_start(
        &mut self,
        header: &IsaHeader,
        at: crate::x12::Position,
    ) -> std::io::Result<()> {
        self.acks.interchange_start(header, at)
    }
    fn group_start(&mut self, header: &GroupHeader) -> std::io::Result<()> {
        self.acks.group_start(header)
    }
    fn set_end(&mut self, group: &GroupHeader, set: &SetOutcome) -> std::io::Result<()> {
        self.verdict = Some(if set.accepted() {
            Verdict::Accepted
        } else {
            Verdict::Rejected(describe(set))
        });
        self.acks.set_end(group, set)
    }
    fn group_end(&mut self, group: &crate::x12::envelope::GroupOutcome) -> std::io::Result<()> {
        self.acks.group_end(group)
    }
    fn interchange_end(
        &mut self,
        interchange: &crate::x12::envelope::InterchangeOutcome,
    ) -> std::io::Result<()> {
        self.acks.interchange_end(interchange)
    }
}

/// Builds the tree of the open set.
struct Builder {
    origin: Origin,
    isa: Vec<u8>,
    isa_place: Place,
    gs: Vec<u8>,
    gs_place: Place,
    /// The tree begins with the ISA and GS above (the nodes a set's tree
    /// starts with), so that the next set keeps them.
    envelope_in_tree: bool,
    in_set: bool,
    /// Between a GS and its GE: a TA1 is not in its place there.
    in_group: bool,
    ordinal: u64,
    /// Open loop instances, parallel to the validator's stack (0 is the
    /// set's root).
    open: Vec<NodeId>,
    streamer: Streamer,
    /// HL01 to the HL loop node, for nesting.
    hl: HashMap<Vec<u8>, NodeId>,
    names: foldhash::HashMap<u32, Name>,
    recent: [Option<(u32, Name)>; 256],
    hl_name: Name,
}

/// A segment ID of up to three bytes and its length in one number, so
/// that IDs are compared at once; `u32::MAX` for a longer ID.
const fn id_key(id: &[u8]) -> u32 {
    if id.len() > 3 {
        return u32::MAX;
    }
    let mut key = (id.len() as u32) << 24;
    let mut i = 0;
    while i < id.len() {
        key |= (id[i] as u32) << (8 * i);
        i += 1;
    }
    key
}

const ISA: u32 = id_key(b"ISA");
const GS: u32 = id_key(b"GS");
const GE: u32 = id_key(b"GE");
const IEA: u32 = id_key(b"IEA");
const ST: u32 = id_key(b"ST");
const SE: u32 = id_key(b"SE");
const TA1: u32 = id_key(b"TA1");

impl Builder {
    fn new(file_name: &str, tree: &mut Tree) -> Builder {
        tree.set_source_name(file_name);
        Builder {
            origin: Origin {
                flavor: Flavor::X12,
                file_name: Some(file_name.to_string()),
                ..Origin::default()
            },
            isa: Vec::new(),
            isa_place: Place::default(),
            gs: Vec::new(),
            gs_place: Place::default(),
            envelope_in_tree: false,
            in_set: false,
            in_group: false,
            ordinal: 0,
            open: Vec::new(),
            streamer: Streamer::default(),
            hl: HashMap::new(),
            names: foldhash::HashMap::default(),
            recent: [None; 256],
            hl_name: tree.intern("HL"),
        }
    }

    /// The interned name of a segment ID: a direct-mapped cache in front
    /// of the map, since a set uses a dozen IDs over and over. An ID of
    /// more than three bytes (invalid, and rejected) is interned as it is.
    fn name(&mut self, tree: &mut Tree, key: u32, id: &[u8]) -> Name {
        if key == u32::MAX {
            return tree.intern(&String::from_utf8_lossy(id));
        }
        let slot = (key.wrapping_mul(0x9E37_79B1) >> 24) as usize;
        if let Some((k, n)) = self.recent[slot]
            && k == key
        {
            return n;
        }
        let n = *self
            .names
            .entry(key)
            .or_insert_with(|| tree.intern(&String::from_utf8_lossy(id)));
        self.recent[slot] = Some((key, n));
        n
    }

    fn segment(
        &mut self,
        segment: &Segment<'_>,
        header: Option<&IsaHeader>,
        checker: &Checker<'_>,
        verdict: Option<Verdict>,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        let id = segment.id_bytes();
        let key = id_key(id);
        if matches!(key, ISA | GS | GE | IEA | ST) {
            return self.envelope(key, segment, header, verdict, tree, sink);
        }
        // A partner's TA1, between ISA and GS, acknowledges one of our
        // interchanges: it is a document of its own.
        if key == TA1 && !self.in_set && !self.in_group && !self.isa.is_empty() {
            return self.ta1(segment, checker, tree, sink);
        }
        if !self.in_set {
            return Ok(());
        }
        self.ordinal += 1;
        let name = self.name(tree, key, id);
        let at = place(segment, self.ordinal);
        if key == SE {
            self.close_to(1, tree, sink)?;
            tree.append(0, name, Kind::Segment, segment.raw(), at);
            return self.end_set(verdict, tree, sink);
        }
        let placement = match checker.open_validator() {
            Some(v) => {
                let p = v.placement();
                let loop_name = match p.opened {
                    Some(node) => {
                        let loop_id = v.loop_id(node);
                        let same = match key {
                            u32::MAX => loop_id.as_bytes() == id,
                            _ => id_key(loop_id.as_bytes()) == key,
                        };
                        Some(if same { name } else { tree.intern(loop_id) })
                    }
                    None => None,
                };
                Some((p, loop_name))
            }
            None => None,
        };
        match placement {
            Some((p, Some(loop_name))) => {
                // A new loop instance at depth p.depth, child of the loop
                // at p.depth - 1.
                self.close_to(p.depth.max(1), tree, sink)?;
                let parent = self.open.last().copied().unwrap_or(0);
                let node = tree.append(parent, loop_name, Kind::Group, b"", at);
                if loop_name == self.hl_name {
                    self.nest_hl(segment, node, tree);
                }
                self.open.push(node);
                tree.append(node, name, Kind::Segment, segment.raw(), at);
            }
            Some((p, None)) => {
                self.close_to(p.depth + 1, tree, sink)?;
                let parent = self.open.last().copied().unwrap_or(0);
                tree.append(parent, name, Kind::Segment, segment.raw(), at);
            }
            None => {
                tree.append(0, name, Kind::Segment, segment.raw(), at);
            }
        }
        Ok(())
    }

    /// An ISA, GS, GE, IEA or ST segment.
    #[inline(never)]
    fn envelope(
        &mut self,
        key: u32,
        segment: &Segment<'_>,
        header: Option<&IsaHeader>,
        verdict: Option<Verdict>,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        // An envelope segment ends a set left without its SE: the checker
        // has just given its verdict (trailer missing), and its document
        // must end here, not be left open.
        if self.in_set && key != ST {
            self.end_set(verdict.clone(), tree, sink)?;
        }
        match key {
            ISA => {
                if let Some(h) = header {
                    self.isa.clear();
                    self.isa.extend_from_slice(segment.raw());
                    self.envelope_in_tree = false;
                    self.isa_place = place(segment, 0);
                    self.origin.interchange_control_number = Some(
                        String::from_utf8_lossy(h.control_number())
                            .trim()
                            .to_string(),
                    );
                    self.origin.sender = Some(h.sender());
                    self.origin.receiver = Some(h.receiver());
                    tree.set_delimiters(Some(h.delimiters()));
                }
                self.in_group = false;
            }
            GS => {
                self.gs.clear();
                self.gs.extend_from_slice(segment.raw());
                self.envelope_in_tree = false;
                self.gs_place = place(segment, 0);
                let text = |n| Some(segment.text(n).trim().to_string()).filter(|s| !s.is_empty());
                self.origin.application_sender = text(2);
                self.origin.application_receiver = text(3);
                self.origin.group_control_number = text(6);
                self.origin.version = text(8);
                self.in_group = true;
            }
            GE | IEA => self.in_group = false,
            ST => {
                if self.in_set {
                    self.end_set(verdict, tree, sink)?;
                }
                self.start_set(segment, tree, sink)?;
                let st = self.name(tree, key, segment.id_bytes());
                self.ordinal = 1;
                tree.append(0, st, Kind::Segment, segment.raw(), place(segment, 1));
            }
            _ => {}
        }
        Ok(())
    }

    /// Nests an HL loop under the HL loop its HL02 names.
    fn nest_hl(&mut self, segment: &Segment<'_>, node: NodeId, tree: &mut Tree) {
        let own = segment.element(1).unwrap_or(b"");
        let parent = segment.element(2).unwrap_or(b"");
        if !parent.is_empty()
            && let Some(&p) = self.hl.get(parent)
        {
            tree.reparent(node, p);
        }
        if !own.is_empty() {
            self.hl.insert(own.to_vec(), node);
        }
    }

    /// Closes open loops until `depth` remain.
    #[inline(always)]
    fn close_to(
        &mut self,
        depth: usize,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        while self.open.len() > depth {
            if let Some(node) = self.open.pop() {
                self.streamer.closed(tree, node, sink)?;
            }
        }
        Ok(())
    }

    fn start_set(
        &mut self,
        st: &Segment<'_>,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        self.hl.clear();
        let kept = usize::from(!self.isa.is_empty()) + usize::from(!self.gs.is_empty());
        if !(self.envelope_in_tree && tree.clear_after(kept)) {
            tree.clear();
            let isa = self.name(tree, ISA, b"ISA");
            let gs = self.name(tree, GS, b"GS");
            if !self.isa.is_empty() {
                tree.append(0, isa, Kind::Segment, &self.isa, self.isa_place);
            }
            if !self.gs.is_empty() {
                tree.append(0, gs, Kind::Segment, &self.gs, self.gs_place);
            }
            self.envelope_in_tree = true;
        }
        set_text(&mut self.origin.set_id, st.text(1).trim());
        set_text(&mut self.origin.set_control_number, st.text(2).trim());
        self.in_set = true;
        self.open.clear();
        self.open.push(0);
        self.streamer = Streamer::new(sink.start(tree, &self.origin)?);
        Ok(())
    }

    /// Hands a TA1 on as a document of its own: the tree holds the ISA and
    /// the TA1; the origin names no group nor set but `TA1`. A TA1 whose
    /// elements are not valid is rejected with what is wrong.
    fn ta1(
        &mut self,
        segment: &Segment<'_>,
        checker: &Checker<'_>,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        tree.clear();
        // The tree no longer begins with the interchange's ISA and GS.
        self.envelope_in_tree = false;
        self.hl.clear();
        let isa = self.name(tree, ISA, b"ISA");
        tree.append(0, isa, Kind::Segment, &self.isa, self.isa_place);
        let name = self.name(tree, TA1, segment.id_bytes());
        tree.append(0, name, Kind::Segment, segment.raw(), place(segment, 1));
        let origin = Origin {
            application_sender: None,
            application_receiver: None,
            group_control_number: None,
            version: None,
            set_id: Some("TA1".to_string()),
            set_control_number: None,
            ..self.origin.clone()
        };
        let findings = checker.check_ta1(segment).unwrap_or_default();
        let verdict = if findings.is_empty() {
            Verdict::Accepted
        } else {
            let at = segment.position();
            Verdict::Rejected(
                findings
                    .iter()
                    .map(|e| {
                        format!(
                            "TA1{:02} ({}, {at}): {} {:?}",
                            e.position,
                            e.reference,
                            e.error,
                            String::from_utf8_lossy(&e.value)
                        )
                    })
                    .collect(),
            )
        };
        self.streamer = Streamer::new(sink.start(tree, &origin)?);
        sink.end(tree, &origin, verdict)
    }

    fn end_set(
        &mut self,
        verdict: Option<Verdict>,
        tree: &mut Tree,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        if !self.in_set {
            return Ok(());
        }
        self.close_to(1, tree, sink)?;
        self.in_set = false;
        let verdict =
            verdict.unwrap_or_else(|| Verdict::Rejected(vec!["the set has no SE".into()]));
        sink.end(tree, &self.origin, verdict)
    }
}

/// Sets an origin's field to `text` (`None` when empty), reusing the
/// string it held: one set after another, it is the same field.
fn set_text(field: &mut Option<String>, text: &str) {
    match field {
        _ if text.is_empty() => *field = None,
        Some(s) => text.clone_into(s),
        None => *field = Some(text.to_string()),
    }
}

fn place(segment: &Segment<'_>, ordinal: u64) -> Place {
    let p = segment.position();
    Place {
        offset: p.byte,
        line: p.line,
        column: p.column,
        ordinal,
    }
}

/// One line per problem of a rejected set, with its place.
fn describe(o: &SetOutcome) -> Vec<String> {
    let mut out = Vec::new();
    for f in &o.segment_findings {
        out.push(format!(
            "{} at segment {} of the set ({}): {}",
            f.id.as_str(),
            f.position_in_set,
            f.at,
            f.error
        ));
        for e in &f.elements {
            let component = e.component.map(|c| format!("-{c}")).unwrap_or_default();
            out.push(format!(
                "  element {:02}{component} ({}): {} {:?}",
                e.position,
                e.reference,
                e.error,
                String::from_utf8_lossy(&e.value)
            ));
        }
    }
    for f in &o.set_findings {
        if !matches!(f.error, crate::x12::validate::SetError::SegmentsInError) {
            out.push(format!("{} ({})", f.detail, f.at));
        }
    }
    if o.dropped_findings > 0 {
        out.push(format!("... and {} more", o.dropped_findings));
    }
    out
}
