//! Walks a transaction set's segments through its definition, one segment at
//! a time, keeping only the path of open loops: memory is bounded by the
//! depth of the structure, not by the size of the set.
//!
//! Notes for maintainers: the walker keeps a stack of frames, one per open
//! loop (the root loop, ST..SE, at the bottom). Each frame has a cursor on
//! the child last matched and how often it was used in a row. A segment is
//! matched by looking forward from the cursor of the innermost frame, then
//! of each enclosing frame; a loop's trigger segment matches only in the
//! enclosing frame (a new iteration, or entering the loop). Leaving a
//! position checks what was skipped: mandatory children never seen are
//! "mandatory segment missing". A segment that matches nowhere is reported
//! and skipped without moving any cursor.

use std::sync::Arc;

use crate::x12::defs::{Node, SetDef, UNBOUNDED, Usage};
use crate::x12::ids::SegmentId;
use crate::x12::position::Position;
use crate::x12::segment::Segment;

use super::codes::SegmentError;
use super::element::check_segment;
use super::finding::SegmentFinding;

/// Default cap on the segment findings kept for one set.
pub const DEFAULT_MAX_FINDINGS: usize = 1000;

#[derive(Clone, Copy, Debug)]
struct Frame {
    /// The loop node.
    node: usize,
    /// Index into the loop's children of the child last matched.
    cursor: Option<usize>,
    /// Uses (or iterations, for a loop child) of the child at the cursor.
    uses: u32,
}

/// Validates one transaction set, fed segment by segment from ST to SE.
#[derive(Debug)]
pub struct SetValidator {
    def: Arc<SetDef>,
    stack: Vec<Frame>,
    findings: Vec<SegmentFinding>,
    dropped: u64,
    max_findings: usize,
}

impl SetValidator {
    /// A validator for a set whose ST is about to be fed.
    pub fn new(def: Arc<SetDef>, max_findings: usize) -> SetValidator {
        let root = def.root;
        SetValidator {
            def,
            stack: vec![Frame {
                node: root,
                cursor: None,
                uses: 0,
            }],
            findings: Vec::new(),
            dropped: 0,
            max_findings,
        }
    }

    /// The definition in use.
    pub fn definition(&self) -> &Arc<SetDef> {
        &self.def
    }

    /// Feeds the next segment of the set (ST first, SE last). The segment's
    /// position must carry its ordinal in the set.
    pub fn segment(&mut self, segment: &Segment<'_>) {
        let id = segment.id();
        let at = segment.position();
        let Some((depth, child)) = self.locate(segment.id_bytes()) else {
            let error = self.unmatched_error(segment);
            self.push(SegmentFinding {
                id,
                position_in_set: at.in_set.unwrap_or(0),
                loop_id: String::new(),
                error,
                elements: Vec::new(),
                at,
            });
            return;
        };
        while self.stack.len() > depth + 1 {
            self.close_frame(id, at);
        }
        let def = Arc::clone(&self.def);
        let frame_index = self.stack.len() - 1;
        let frame = self.stack[frame_index];
        let Node::Loop(parent) = &def.nodes[frame.node] else {
            return;
        };
        let node_index = parent.children[child];
        let same = frame.cursor == Some(child);
        if !same {
            self.leave_position(frame_index, Some(child), id, at);
        }
        let uses = if same {
            frame.uses.saturating_add(1)
        } else {
            1
        };
        self.stack[frame_index].cursor = Some(child);
        self.stack[frame_index].uses = uses;

        match &def.nodes[node_index] {
            Node::Segment(s) => {
                let error = if s.usage == Usage::NotUsed {
                    Some(SegmentError::ImplementationNotUsedSegmentPresent)
                } else if s.max_use != UNBOUNDED && uses > s.max_use {
                    Some(SegmentError::SegmentOverMaximumUse)
                } else {
                    None
                };
                self.check(segment, node_index, error, frame_index);
            }
            Node::Loop(l) => {
                let error = if l.usage == Usage::NotUsed {
                    Some(SegmentError::ImplementationNotUsedSegmentPresent)
                } else if l.max_repeat != UNBOUNDED && uses > l.max_repeat {
                    Some(SegmentError::LoopOverMaximum)
                } else {
                    None
                };
                self.stack.push(Frame {
                    node: node_index,
                    cursor: Some(0),
                    uses: 1,
                });
                let trigger = l.children[0];
                self.check(segment, trigger, error, frame_index + 1);
            }
        }
    }

    /// Ends the set: checks what is still missing. `at` is where the end was
    /// found (the SE, or what stood in for a missing SE).
    pub fn finish(mut self, at: Position) -> (Vec<SegmentFinding>, u64) {
        let se = crate::x12::ids::seg::SE;
        while self.stack.len() > 1 {
            self.close_frame(se, at);
        }
        self.leave_position(0, None, se, at);
        (self.findings, self.dropped)
    }

    /// Checks a matched segment's elements; `frame` is the frame of the loop
    /// it is in (for the loop ID of findings).
    fn check(
        &mut self,
        segment: &Segment<'_>,
        node: usize,
        error: Option<SegmentError>,
        frame: usize,
    ) {
        let at = segment.position();
        if let Some(error) = error {
            let loop_id = self.loop_id_at(frame);
            self.push(SegmentFinding {
                id: segment.id(),
                position_in_set: at.in_set.unwrap_or(0),
                loop_id,
                error,
                elements: Vec::new(),
                at,
            });
            return;
        }
        let Node::Segment(s) = &self.def.nodes[node] else {
            return;
        };
        let mut elements = Vec::new();
        check_segment(segment, &s.def, &mut elements);
        if !elements.is_empty() {
            let loop_id = self.loop_id_at(frame);
            self.push(SegmentFinding {
                id: segment.id(),
                position_in_set: at.in_set.unwrap_or(0),
                loop_id,
                error: SegmentError::SegmentHasElementErrors,
                elements,
                at,
            });
        }
    }

    /// Finds where segment `id` belongs: (frame depth, child index).
    fn locate(&self, id: &[u8]) -> Option<(usize, usize)> {
        if id.len() > 3 {
            return None;
        }
        let key = SegmentId::lossy(id).key();
        for depth in (0..self.stack.len()).rev() {
            let frame = self.stack[depth];
            let Node::Loop(l) = &self.def.nodes[frame.node] else {
                continue;
            };
            // A loop's own trigger starts a new iteration, which the
            // enclosing frame decides; inside the loop, search past it.
            let first = if depth > 0 { 1 } else { 0 };
            let start = frame.cursor.unwrap_or(0).max(first);
            for (j, &child) in l.children.iter().enumerate().skip(start) {
                if self.def.first_key[child] == key {
                    return Some((depth, j));
                }
            }
        }
        None
    }

    fn unmatched_error(&self, segment: &Segment<'_>) -> SegmentError {
        let raw = segment.id_bytes();
        let Some(id) = SegmentId::parse(raw) else {
            return SegmentError::UnrecognizedSegmentId;
        };
        if !self.def.dictionary.segments.contains_key(&id) {
            return SegmentError::UnrecognizedSegmentId;
        }
        if !self.def.uses_segment(id) {
            return SegmentError::SegmentNotInSet;
        }
        // Passed already on the current path: out of sequence.
        for frame in &self.stack {
            if let Node::Loop(l) = &self.def.nodes[frame.node] {
                let end = frame.cursor.map_or(0, |c| c + 1);
                if l.children[..end.min(l.children.len())]
                    .iter()
                    .any(|&c| self.def.first_segment(c) == id)
                {
                    return SegmentError::SegmentOutOfSequence;
                }
            }
        }
        SegmentError::UnexpectedSegment
    }

    /// Leaves the innermost frame: everything after its cursor that is
    /// mandatory is missing.
    fn close_frame(&mut self, found: SegmentId, at: Position) {
        let top = self.stack.len() - 1;
        self.leave_position(top, None, found, at);
        self.stack.pop();
    }

    /// Moves frame `f`'s cursor from where it is to `to` (or past the end):
    /// checks the minimum of the position left and reports mandatory
    /// children skipped.
    fn leave_position(&mut self, f: usize, to: Option<usize>, found: SegmentId, at: Position) {
        let def = Arc::clone(&self.def);
        let frame = self.stack[f];
        let Node::Loop(l) = &def.nodes[frame.node] else {
            return;
        };
        let loop_id = self.loop_id_at(f);
        if let Some(c) = frame.cursor {
            let (min, is_loop) = match &def.nodes[l.children[c]] {
                Node::Segment(s) => (s.min_use, false),
                Node::Loop(inner) => (inner.min_repeat, true),
            };
            if frame.uses < min {
                let error = if is_loop {
                    SegmentError::ImplementationLoopUnderMinimum
                } else {
                    SegmentError::ImplementationSegmentUnderMinimum
                };
                self.push(SegmentFinding {
                    id: def.first_segment(l.children[c]),
                    position_in_set: at.in_set.unwrap_or(0),
                    loop_id: loop_id.clone(),
                    error,
                    elements: Vec::new(),
                    at,
                });
            }
        }
        let from = frame.cursor.map_or(0, |c| c + 1);
        let to = to.unwrap_or(l.children.len());
        for &child in l.children.iter().take(to).skip(from) {
            let mandatory = match &def.nodes[child] {
                Node::Segment(s) => s.req.is_mandatory() && s.usage != Usage::NotUsed,
                Node::Loop(inner) => inner.req.is_mandatory() && inner.usage != Usage::NotUsed,
            };
            let missing = def.first_segment(child);
            // The SE that ends the set is fed to the walker; a missing SE is
            // the envelope's to report (AK5 code 2), not a segment finding.
            let _ = found;
            if mandatory && missing != crate::x12::ids::seg::SE {
                self.push(SegmentFinding {
                    id: missing,
                    position_in_set: at.in_set.unwrap_or(0),
                    loop_id: loop_id.clone(),
                    error: SegmentError::MandatorySegmentMissing,
                    elements: Vec::new(),
                    at,
                });
            }
        }
    }

    fn loop_id_at(&self, f: usize) -> String {
        match &self.def.nodes[self.stack[f].node] {
            Node::Loop(l) => l.id.clone(),
            Node::Segment(_) => String::new(),
        }
    }

    fn push(&mut self, finding: SegmentFinding) {
        if self.findings.len() < self.max_findings {
            self.findings.push(finding);
        } else {
            self.dropped += 1;
        }
    }
}
