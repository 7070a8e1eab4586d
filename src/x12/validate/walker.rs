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

use crate::x12::defs::{Frame, Node, SetDef, UNBOUNDED};
use crate::x12::ids::SegmentId;
use crate::x12::position::Position;
use crate::x12::segment::Segment;

use super::codes::SegmentError;
use super::element::{ByteClasses, SyntaxMemo, check_segment, segment_is_clean};
use super::finding::{LoopNote, SegmentFinding};

/// Default cap on the segment findings kept for one set.
pub const DEFAULT_MAX_FINDINGS: usize = 1000;

/// Validates one transaction set, fed segment by segment from ST to SE.
#[derive(Debug)]
pub struct SetValidator {
    def: Arc<SetDef>,
    walk: Walk,
}

/// The walker's state, apart from the definition it walks (so that the hot
/// path borrows the definition while it changes the state).
#[derive(Debug)]
struct Walk {
    /// The ordinal in the set of the segment being walked.
    in_set: u32,
    /// The segment node matched last (`None` before ST): with it, the
    /// precomputed transitions say where the next segment goes.
    last: Option<usize>,
    classes: Option<Box<ByteClasses>>,
    memo: Box<SyntaxMemo>,
    stack: Vec<Frame>,
    findings: Vec<SegmentFinding>,
    dropped: u64,
    max_findings: usize,
    /// Loops past a maximum that is only noted.
    notes: Vec<LoopNote>,
    /// Where the segment walked last went.
    placed: Placement,
}

/// Where the segment fed last went in the set's structure: the tree
/// builders of the mapping layer nest segments by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Index in the stack of open loops (0 is the set itself) of the loop
    /// the segment belongs to.
    pub depth: usize,
    /// The loop node the segment opened (it is the loop's trigger), if it
    /// opened one: a new loop instance at `depth`.
    pub opened: Option<usize>,
}

/// What one validator can hand to the next: its allocations and caches,
/// so that a stream of small sets does not pay for them set after set.
#[derive(Debug, Default)]
pub struct Scratch {
    classes: Option<Box<ByteClasses>>,
    memo: Box<SyntaxMemo>,
    stack: Vec<Frame>,
}

impl SetValidator {
    /// A validator for a set whose ST is about to be fed.
    pub fn new(def: Arc<SetDef>, max_findings: usize) -> SetValidator {
        SetValidator::with_scratch(def, max_findings, Scratch::default())
    }

    /// A validator that reuses what an earlier one left (see
    /// [`SetValidator::finish_with_scratch`]).
    pub fn with_scratch(def: Arc<SetDef>, max_findings: usize, scratch: Scratch) -> SetValidator {
        let root = def.root;
        let mut stack = scratch.stack;
        stack.clear();
        stack.push(Frame {
            node: root,
            cursor: None,
            uses: 0,
        });
        SetValidator {
            def,
            walk: Walk {
                in_set: 0,
                last: None,
                classes: scratch.classes,
                memo: scratch.memo,
                stack,
                findings: Vec::new(),
                dropped: 0,
                max_findings,
                notes: Vec::new(),
                placed: Placement::default(),
            },
        }
    }

    /// The definition in use.
    pub fn definition(&self) -> &Arc<SetDef> {
        &self.def
    }

    /// Feeds the next segment of the set (ST first, SE last). The segment's
    /// position must carry its ordinal in the set.
    pub fn segment(&mut self, segment: &Segment<'_>) {
        self.walk.in_set = segment.position().in_set.unwrap_or(0);
        self.walk.segment(&self.def, segment);
    }

    /// Feeds the next segment, `in_set` being its ordinal in the set (ST is
    /// 1); the segment's own position need not carry it.
    #[inline]
    pub fn segment_numbered(&mut self, segment: &Segment<'_>, in_set: u32) {
        self.walk.in_set = in_set;
        self.walk.segment(&self.def, segment);
    }

    /// Where the segment fed last went: the loop it is in, and whether it
    /// opened a new loop instance.
    #[inline]
    pub fn placement(&self) -> Placement {
        self.walk.placed
    }

    /// The ID of a loop node of the definition (its trigger segment's ID,
    /// as `x12/` names loops).
    pub fn loop_id(&self, node: usize) -> &str {
        match &self.def.nodes[node] {
            Node::Loop(l) => &l.id,
            Node::Segment(_) => "",
        }
    }

    /// The notes of the set so far (loops past a maximum that is only
    /// noted), taken out of the validator.
    pub fn take_notes(&mut self) -> Vec<LoopNote> {
        std::mem::take(&mut self.walk.notes)
    }

    /// Ends the set: checks what is still missing. `at` is where the end was
    /// found (the SE, or what stood in for a missing SE).
    pub fn finish(self, at: Position) -> (Vec<SegmentFinding>, u64) {
        let (findings, dropped, _) = self.finish_with_scratch(at);
        (findings, dropped)
    }

    /// [`SetValidator::finish`], also returning what the next validator can
    /// reuse.
    pub fn finish_with_scratch(mut self, at: Position) -> (Vec<SegmentFinding>, u64, Scratch) {
        let def = &self.def;
        while self.walk.stack.len() > 1 {
            self.walk.close_frame(def, at);
        }
        self.walk.leave_position(def, 0, None, at);
        let scratch = Scratch {
            classes: self.walk.classes,
            memo: self.walk.memo,
            stack: self.walk.stack,
        };
        (self.walk.findings, self.walk.dropped, scratch)
    }
}

impl Walk {
    #[inline]
    fn segment(&mut self, def: &SetDef, segment: &Segment<'_>) {
        let key = SegmentId::key_of(segment.id_bytes());
        // Where the segment goes from here was worked out when the
        // definition was loaded; the search below runs only for the
        // transitions that report something (or do not exist).
        if let Some(t) = def
            .transitions()
            .and_then(|table| table.transition(self.last, key))
            && t.depth < self.stack.len()
        {
            debug_assert_eq!(
                def.index.locate(&self.stack, key),
                Some((t.depth, t.child)),
                "a precomputed transition disagrees with the search"
            );
            self.stack.truncate(t.depth + 1);
            self.enter(def, segment, t.depth, t.child, t.same, t.node);
            return;
        }
        let Some((depth, child)) = def.index.locate(&self.stack, key) else {
            self.placed = Placement {
                depth: self.stack.len() - 1,
                opened: None,
            };
            let at = self.at(segment);
            let error = self.unmatched_error(def, segment);
            self.push(SegmentFinding {
                id: segment.id(),
                position_in_set: at.in_set.unwrap_or(0),
                loop_id: String::new(),
                error,
                elements: Vec::new(),
                at,
            });
            return;
        };
        while self.stack.len() > depth + 1 {
            self.close_frame(def, self.at(segment));
        }
        let frame_index = self.stack.len() - 1;
        let same = self.stack[frame_index].cursor == Some(child);
        if !same {
            self.leave_position(def, frame_index, Some(child), self.at(segment));
        }
        let node = def.index.children[self.stack[frame_index].node][child];
        self.enter(def, segment, frame_index, child, same, node);
    }

    /// Moves frame `frame_index` (the innermost open frame) to `child`,
    /// counts the use, opens the child's loop if it is one, and checks the
    /// segment.
    #[inline]
    fn enter(
        &mut self,
        def: &SetDef,
        segment: &Segment<'_>,
        frame_index: usize,
        child: usize,
        same: bool,
        node: usize,
    ) {
        let index = &def.index;
        let frame = self.stack[frame_index];
        let uses = if same {
            frame.uses.saturating_add(1)
        } else {
            1
        };
        self.stack[frame_index].cursor = Some(child);
        self.stack[frame_index].uses = uses;

        let info = index.info[node];
        let is_loop = info.is_loop;
        let error = if info.not_used {
            Some(SegmentError::ImplementationNotUsedSegmentPresent)
        } else if info.max != UNBOUNDED && uses > info.max && info.max_noted {
            // Noted once per run of the loop, where it goes past.
            if uses - 1 == info.max && self.notes.len() < self.max_findings {
                self.notes.push(LoopNote {
                    loop_id: match &def.nodes[node] {
                        Node::Loop(l) => l.id.clone(),
                        Node::Segment(_) => String::new(),
                    },
                    max: info.max,
                    at: self.at(segment),
                });
            }
            None
        } else if info.max != UNBOUNDED && uses > info.max {
            Some(if is_loop {
                SegmentError::LoopOverMaximum
            } else {
                SegmentError::SegmentOverMaximumUse
            })
        } else {
            None
        };
        let mut in_frame = frame_index;
        if is_loop {
            self.stack.push(Frame {
                node,
                cursor: Some(0),
                uses: 1,
            });
            in_frame += 1;
        }
        self.placed = Placement {
            depth: in_frame,
            opened: is_loop.then_some(node),
        };
        self.last = Some(info.checked as usize);
        self.check(def, segment, info.checked as usize, error, in_frame);
    }

    /// Checks a matched segment's elements; `frame` is the frame of the loop
    /// it is in (for the loop ID of findings).
    #[inline]
    fn check(
        &mut self,
        def: &SetDef,
        segment: &Segment<'_>,
        node: usize,
        error: Option<SegmentError>,
        frame: usize,
    ) {
        if let Some(error) = error {
            let at = self.at(segment);
            let loop_id = self.loop_id_at(def, frame);
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
        let Some(seg_def) = &def.index.segment[node] else {
            return;
        };
        let d = segment.delimiters();
        if self.classes.as_ref().is_none_or(|c| c.delimiters() != d) {
            self.classes = Some(Box::new(ByteClasses::new(d)));
        }
        if let Some(c) = &self.classes
            && segment_is_clean(segment, seg_def, c, &mut self.memo)
        {
            debug_assert!(
                {
                    let mut found = Vec::new();
                    check_segment(segment, seg_def, &mut found);
                    found.is_empty()
                },
                "the fast path called a segment with findings clean"
            );
            return;
        }
        let mut elements = Vec::new();
        check_segment(segment, seg_def, &mut elements);
        if !elements.is_empty() {
            let at = self.at(segment);
            let loop_id = self.loop_id_at(def, frame);
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

    fn unmatched_error(&self, def: &SetDef, segment: &Segment<'_>) -> SegmentError {
        let raw = segment.id_bytes();
        let Some(id) = SegmentId::parse(raw) else {
            return SegmentError::UnrecognizedSegmentId;
        };
        if !def.dictionary.segments.contains_key(&id) {
            return SegmentError::UnrecognizedSegmentId;
        }
        if !def.uses_segment(id) {
            return SegmentError::SegmentNotInSet;
        }
        // Passed already on the current path: out of sequence.
        let key = id.key();
        for frame in &self.stack {
            let keys = &def.index.child_keys[frame.node];
            let end = frame.cursor.map_or(0, |c| c + 1).min(keys.len());
            if keys[..end].contains(&key) {
                return SegmentError::SegmentOutOfSequence;
            }
        }
        SegmentError::UnexpectedSegment
    }

    /// Leaves the innermost frame: everything after its cursor that is
    /// mandatory is missing.
    fn close_frame(&mut self, def: &SetDef, at: Position) {
        let top = self.stack.len() - 1;
        self.leave_position(def, top, None, at);
        self.stack.pop();
    }

    /// Moves frame `f`'s cursor from where it is to `to` (or past the end):
    /// checks the minimum of the position left and reports mandatory
    /// children skipped. The SE is never reported missing here: a missing
    /// SE is the envelope's to report (AK5 code 2).
    #[inline]
    fn leave_position(&mut self, def: &SetDef, f: usize, to: Option<usize>, at: Position) {
        let index = &def.index;
        let frame = self.stack[f];
        let children = &index.children[frame.node];
        if let Some(c) = frame.cursor {
            let child = children[c];
            let info = index.info[child];
            if frame.uses < info.min {
                let error = if info.is_loop {
                    SegmentError::ImplementationLoopUnderMinimum
                } else {
                    SegmentError::ImplementationSegmentUnderMinimum
                };
                self.push_missing(def, index.first_id[child], error, f, at);
            }
        }
        let from = frame.cursor.map_or(0, |c| c + 1);
        let to = to.unwrap_or(children.len()).min(children.len());
        let prefix = &index.mandatory_prefix[frame.node];
        if from >= to || prefix[to] == prefix[from] {
            return;
        }
        for &child in &children[from..to] {
            if index.info[child].mandatory && index.first_id[child] != crate::x12::ids::seg::SE {
                self.push_missing(
                    def,
                    index.first_id[child],
                    SegmentError::MandatorySegmentMissing,
                    f,
                    at,
                );
            }
        }
    }

    fn push_missing(
        &mut self,
        def: &SetDef,
        id: SegmentId,
        error: SegmentError,
        frame: usize,
        at: Position,
    ) {
        let loop_id = self.loop_id_at(def, frame);
        self.push(SegmentFinding {
            id,
            position_in_set: at.in_set.unwrap_or(0),
            loop_id,
            error,
            elements: Vec::new(),
            at,
        });
    }

    /// Where `segment` is, with its ordinal in the set.
    #[inline]
    fn at(&self, segment: &Segment<'_>) -> Position {
        let mut at = segment.position();
        at.in_set = Some(self.in_set);
        at
    }

    fn loop_id_at(&self, def: &SetDef, f: usize) -> String {
        match &def.nodes[self.stack[f].node] {
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
