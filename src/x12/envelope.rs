//! The envelope checker: follows ISA/IEA, GS/GE and ST/SE, checks their
//! counts and control numbers, runs the set validator, and reports what it
//! found to a [`Sink`] as each set, group and interchange ends.
//!
//! The checker holds only the open envelope (one interchange, group and set
//! at a time) and the control numbers seen, kept as ranges; it never holds a
//! set's segments. Acknowledgments ([`super::ack`]) and reports
//! ([`super::report`]) are sinks.
//!
//! Invariant: every set that starts is reported exactly once (with
//! "trailer missing" if its SE never comes), and the same for groups and
//! interchanges; an input that ends inside an interchange is a
//! [`ParseErrorKind::Truncated`] error, and one that cannot be read to its
//! end still reports what was open before its error
//! ([`Checker::abort`]; the interchange gets TA1 note 023 or 004).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use super::control::NumberSet;
use super::defs::{Definitions, DefsError, Overlay, SetDef};
use super::delimiters::LineStyle;
use super::delivery::{check_isb, check_ise};
use super::error::{ParseError, ParseErrorKind};
use super::group_version::GroupRules;
use super::ids::seg;
use super::isa::{IsaHeader, IsaWarning, is_control_version};
use super::position::Position;
use super::reader::SegmentReader;
use super::segment::Segment;
use super::validate::element::{check_segment, valid_date, valid_time};
use super::validate::{
    DEFAULT_MAX_FINDINGS, ElementFinding, GroupError, GroupFinding, InterchangeError,
    InterchangeFinding, LoopNote, Scratch, SegmentFinding, SetError, SetFinding, SetValidator,
    Severity,
};

/// Options of the checker.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Most segment findings kept per set; the rest are only counted.
    pub max_findings_per_set: usize,
    /// Partner overlays to lay over the standard sets.
    pub overlays: Vec<Overlay>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            max_findings_per_set: DEFAULT_MAX_FINDINGS,
            overlays: Vec::new(),
        }
    }
}

/// The GS header of a group, as sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GroupHeader {
    /// GS01 to GS08, trimmed.
    pub fields: Vec<String>,
    /// Where the GS is.
    pub at: Position,
    /// The definitions version used for the group's sets, if any.
    pub definitions: Option<String>,
}

impl GroupHeader {
    fn field(&self, n: usize) -> &str {
        self.fields.get(n - 1).map_or("", String::as_str)
    }
    /// GS01, the functional identifier (`PO`, `SH`, `FA`, ...).
    pub fn functional_id(&self) -> &str {
        self.field(1)
    }
    /// GS02, the application sender's code.
    pub fn sender(&self) -> &str {
        self.field(2)
    }
    /// GS03, the application receiver's code.
    pub fn receiver(&self) -> &str {
        self.field(3)
    }
    /// GS06, the group control number.
    pub fn control_number(&self) -> &str {
        self.field(6)
    }
    /// GS08, the version/release/industry code.
    pub fn version(&self) -> &str {
        self.field(8)
    }
    /// True for groups of acknowledgments (GS01 `FA`), which are never
    /// acknowledged.
    pub fn is_acknowledgment(&self) -> bool {
        self.functional_id() == "FA"
    }
}

/// What was found about one transaction set.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SetOutcome {
    /// ST01.
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// ST03, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation_reference: Option<String>,
    /// Where the ST is.
    pub at: Position,
    /// Segments counted, ST and SE included.
    pub segment_count: u32,
    /// Problems with the set as a whole.
    pub set_findings: Vec<SetFinding>,
    /// Problems with segments, in order.
    pub segment_findings: Vec<SegmentFinding>,
    /// Segment findings beyond the cap, counted but not kept.
    pub dropped_findings: u64,
    /// What is noted without rejecting the set (a loop past a maximum that
    /// the definition only notes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<LoopNote>,
    /// The definition used, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<Arc<str>>,
}

impl SetOutcome {
    /// True when the set is accepted (AK501 `A`).
    pub fn accepted(&self) -> bool {
        self.set_findings.is_empty()
    }
}

/// What was found about one functional group.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GroupOutcome {
    /// The GS header.
    pub header: GroupHeader,
    /// GE01 as sent, when there was a GE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_sets: Option<String>,
    /// Sets received.
    pub received: u32,
    /// Sets accepted.
    pub accepted: u32,
    /// Problems with the group.
    pub findings: Vec<GroupFinding>,
}

/// What was found about one interchange.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InterchangeOutcome {
    /// The ISA header.
    #[serde(skip)]
    pub header: Arc<IsaHeader>,
    /// Where the ISA is.
    pub at: Position,
    /// Groups received.
    pub groups: u32,
    /// Problems with the envelope, in the order found.
    pub findings: Vec<InterchangeFinding>,
    /// The line style of the input.
    #[serde(skip)]
    pub line_style: LineStyle,
}

impl InterchangeOutcome {
    /// The TA1 verdict: `A`, `E` or `R`, and the note code.
    pub fn ta1(&self) -> (char, &'static str) {
        if let Some(f) = self.findings.iter().find(|f| f.severity == Severity::Error) {
            ('R', f.error.code())
        } else if let Some(f) = self.findings.first() {
            ('E', f.error.code())
        } else {
            ('A', "000")
        }
    }
}

/// Receives what the checker finds, as each envelope ends.
///
/// Sink methods return I/O errors so that a sink writing acknowledgments or
/// reports can stop the run.
pub trait Sink {
    /// An interchange begins.
    fn interchange_start(&mut self, _header: &IsaHeader, _at: Position) -> std::io::Result<()> {
        Ok(())
    }
    /// A group begins.
    fn group_start(&mut self, _header: &GroupHeader) -> std::io::Result<()> {
        Ok(())
    }
    /// A set ended (or was cut off).
    fn set_end(&mut self, _group: &GroupHeader, _set: &SetOutcome) -> std::io::Result<()> {
        Ok(())
    }
    /// A group ended (or was cut off).
    fn group_end(&mut self, _group: &GroupOutcome) -> std::io::Result<()> {
        Ok(())
    }
    /// An interchange ended (or was cut off by the next ISA).
    fn interchange_end(&mut self, _interchange: &InterchangeOutcome) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink that ignores everything (for benchmarks and fuzzing).
impl Sink for () {}

/// Two sinks that see everything, the first before the second (a
/// translation's notes and its acknowledgments, in one pass).
pub struct Both<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Both<'_> {
    fn interchange_start(&mut self, header: &IsaHeader, at: Position) -> std::io::Result<()> {
        self.0.interchange_start(header, at)?;
        self.1.interchange_start(header, at)
    }
    fn group_start(&mut self, header: &GroupHeader) -> std::io::Result<()> {
        self.0.group_start(header)?;
        self.1.group_start(header)
    }
    fn set_end(&mut self, group: &GroupHeader, set: &SetOutcome) -> std::io::Result<()> {
        self.0.set_end(group, set)?;
        self.1.set_end(group, set)
    }
    fn group_end(&mut self, group: &GroupOutcome) -> std::io::Result<()> {
        self.0.group_end(group)?;
        self.1.group_end(group)
    }
    fn interchange_end(&mut self, interchange: &InterchangeOutcome) -> std::io::Result<()> {
        self.0.interchange_end(interchange)?;
        self.1.interchange_end(interchange)
    }
}

/// Counts of what a run saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Segments read.
    pub segments: u64,
    /// Interchanges.
    pub interchanges: u64,
    /// Interchanges with envelope errors (TA1 `R`).
    pub interchanges_rejected: u64,
    /// Functional groups.
    pub groups: u64,
    /// Groups not fully accepted.
    pub groups_with_errors: u64,
    /// Transaction sets.
    pub sets: u64,
    /// Sets rejected.
    pub sets_rejected: u64,
}

impl Summary {
    /// True when nothing was in error.
    pub fn clean(&self) -> bool {
        self.interchanges_rejected == 0 && self.groups_with_errors == 0 && self.sets_rejected == 0
    }
}

struct OpenSet {
    id: String,
    control_number: String,
    implementation_reference: Option<String>,
    at: Position,
    count: u32,
    validator: Option<SetValidator>,
    findings: Vec<SetFinding>,
}

struct OpenGroup {
    header: GroupHeader,
    findings: Vec<GroupFinding>,
    received: u32,
    accepted: u32,
    set_numbers: NumberSet,
    version: Option<String>,
    set: Option<OpenSet>,
}

struct OpenInterchange {
    header: Arc<IsaHeader>,
    at: Position,
    findings: Vec<InterchangeFinding>,
    groups: u32,
    group_numbers: NumberSet,
    group: Option<OpenGroup>,
    stray: bool,
    /// Whether an ISB, an ISE was read (each may come once, before the
    /// first GS).
    isb: bool,
    ise: bool,
}

/// Follows the envelopes of an X12 stream and validates its sets.
pub struct Checker<'d> {
    defs: &'d Definitions,
    /// What a GS is checked against, by its own GS08.
    group_rules: GroupRules,
    max_findings: usize,
    overlaid: HashMap<(String, String), Arc<SetDef>>,
    open: Option<OpenInterchange>,
    seen: HashMap<(String, String), NumberSet>,
    line_style: LineStyle,
    summary: Summary,
    scratch: Option<Scratch>,
    /// The last set definitions looked up: (version, set ID, definition).
    recent: Vec<(String, String, Option<Arc<SetDef>>)>,
    /// ST01 and ST02 buffers of the last set, for the next one.
    spare: Option<(String, String)>,
}

impl<'d> Checker<'d> {
    /// A checker over `defs`, with the overlays of `options` laid over the
    /// sets they name.
    pub fn new(defs: &'d Definitions, options: &CheckOptions) -> Result<Checker<'d>, DefsError> {
        let mut overlaid = HashMap::new();
        let versions: Vec<String> = defs.versions().map(str::to_string).collect();
        for version in versions {
            let Some(v) = defs.version(&version) else {
                continue;
            };
            for (id, set) in &v.sets {
                let mut current: Option<SetDef> = None;
                for overlay in options.overlays.iter().filter(|o| o.applies_to(set)) {
                    let base = current.as_ref().unwrap_or(set);
                    current = Some(overlay.apply(base)?);
                }
                if let Some(changed) = current {
                    overlaid.insert((version.clone(), id.clone()), Arc::new(changed));
                }
            }
        }
        for o in &options.overlays {
            let known = defs.versions().any(|v| {
                defs.version(v)
                    .is_some_and(|d| d.sets.get(&o.set).is_some_and(|s| o.applies_to(s)))
            });
            if !known {
                return Err(DefsError::new(
                    &o.file,
                    1,
                    format!(
                        "no built-in set {}{} to lay this overlay over",
                        o.set,
                        o.version
                            .as_deref()
                            .map(|v| format!(" in version {v}"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(Checker {
            defs,
            group_rules: GroupRules::new(defs),
            max_findings: options.max_findings_per_set,
            overlaid,
            open: None,
            seen: HashMap::new(),
            line_style: LineStyle::None,
            summary: Summary::default(),
            scratch: Some(Scratch::default()),
            recent: Vec::new(),
            spare: None,
        })
    }

    /// Tells the checker the input's line style (for acknowledgments that
    /// echo it).
    pub fn set_line_style(&mut self, style: LineStyle) {
        self.line_style = style;
    }

    /// The validator of the set open now, if the set has a definition:
    /// where its last segment went ([`SetValidator::placement`]).
    #[inline]
    pub fn open_validator(&self) -> Option<&SetValidator> {
        self.open
            .as_ref()
            .and_then(|ix| ix.group.as_ref())
            .and_then(|g| g.set.as_ref())
            .and_then(|s| s.validator.as_ref())
    }

    /// What is wrong with the elements of a TA1 received (one of a
    /// partner's, acknowledging an interchange of ours), checked against
    /// the TA1 of the definitions (the same in every release); `None` when
    /// no release defines a TA1. The envelope does not answer a TA1, so
    /// this is for whoever reads it.
    pub fn check_ta1(&self, segment: &Segment<'_>) -> Option<Vec<ElementFinding>> {
        let def = self
            .defs
            .versions()
            .find_map(|v| self.defs.version(v)?.dictionary.segments.get(&seg::TA1))?;
        let mut out = Vec::new();
        check_segment(segment, def, &mut out);
        Some(out)
    }

    /// What the run has seen so far.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// Feeds the next segment. `header` is the parsed ISA when the segment
    /// is one.
    pub fn feed(
        &mut self,
        segment: &Segment<'_>,
        header: Option<&IsaHeader>,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        self.summary.segments += 1;
        let io = |e: std::io::Error| {
            ParseError::new(
                ParseErrorKind::Io(e),
                segment.position(),
                Some(segment.id()),
            )
        };
        let id = segment.id_bytes();

        // Fast path: a segment inside an open set.
        if let Some(ix) = &mut self.open
            && let Some(g) = &mut ix.group
            && let Some(s) = &mut g.set
            && !is_envelope(id)
        {
            s.count = s.count.saturating_add(1);
            if let Some(v) = &mut s.validator {
                v.segment_numbered(segment, s.count);
            }
            return Ok(());
        }

        let at = segment.position();
        match id {
            b"ISA" => {
                if self.open.is_some() {
                    self.close_interchange(Cut::no_iea(), at, sink)
                        .map_err(io)?;
                }
                let Some(header) = header else {
                    return Err(ParseError::new(
                        ParseErrorKind::NoInterchange,
                        at,
                        Some(segment.id()),
                    ));
                };
                self.open_interchange(header, at);
                if let Some(ix) = &self.open {
                    sink.interchange_start(&ix.header, at).map_err(io)?;
                }
            }
            _ if self.open.is_none() => {
                return Err(ParseError::new(
                    ParseErrorKind::OutsideInterchange { id: segment.id() },
                    at,
                    Some(segment.id()),
                ));
            }
            b"IEA" => {
                self.close_group_if_open(at, sink).map_err(io)?;
                self.close_interchange(Cut::Trailer(segment), at, sink)
                    .map_err(io)?;
            }
            b"GS" => {
                self.close_group_if_open(at, sink).map_err(io)?;
                self.open_group(segment);
                if let Some(g) = self.open.as_ref().and_then(|ix| ix.group.as_ref()) {
                    sink.group_start(&g.header).map_err(io)?;
                }
            }
            b"GE" => {
                let has_group = self.open.as_ref().is_some_and(|ix| ix.group.is_some());
                if has_group {
                    self.close_set_if_open(None, at, sink).map_err(io)?;
                    self.close_group(Some(segment), at, sink).map_err(io)?;
                } else {
                    self.stray(segment, "a GE without a GS");
                }
            }
            b"ST" => {
                let has_group = self.open.as_ref().is_some_and(|ix| ix.group.is_some());
                if has_group {
                    self.close_set_if_open(None, at, sink).map_err(io)?;
                    self.open_set(segment);
                } else {
                    self.stray(segment, "an ST outside any functional group");
                }
            }
            b"SE" => {
                let has_set = self
                    .open
                    .as_ref()
                    .and_then(|ix| ix.group.as_ref())
                    .is_some_and(|g| g.set.is_some());
                if has_set {
                    self.close_set_if_open(Some(segment), at, sink)
                        .map_err(io)?;
                } else {
                    self.stray(segment, "an SE without an ST");
                }
            }
            b"TA1" if self.open.as_ref().is_some_and(|ix| ix.group.is_none()) => {
                // A TA1 between ISA and GS acknowledges one of our
                // interchanges; it is not answered.
            }
            b"ISB" | b"ISE" => self.delivery_request(segment),
            _ => self.stray(segment, "a segment outside any transaction set"),
        }
        Ok(())
    }

    /// Ends the input at `end` (the offset and segment count after the last
    /// segment).
    pub fn finish(&mut self, end: Position, sink: &mut dyn Sink) -> Result<Summary, ParseError> {
        if self.summary.segments == 0 {
            return Err(ParseError::new(ParseErrorKind::Empty, end, None));
        }
        if let Some(ix) = &self.open {
            // The input ends inside an interchange: what is open is still
            // reported (set and group trailers missing, TA1 023), so that a
            // caller may answer with a rejecting acknowledgment; the run is
            // an error all the same.
            let control_number = String::from_utf8_lossy(ix.header.control_number()).into_owned();
            let io = |e: std::io::Error| ParseError::new(ParseErrorKind::Io(e), end, None);
            self.close_interchange(Cut::no_iea(), end, sink)
                .map_err(io)?;
            return Err(ParseError::new(
                ParseErrorKind::Truncated { control_number },
                end,
                None,
            ));
        }
        Ok(self.summary)
    }

    fn stray(&mut self, segment: &Segment<'_>, what: &str) {
        if let Some(ix) = &mut self.open
            && !ix.stray
        {
            ix.stray = true;
            ix.findings.push(InterchangeFinding {
                error: InterchangeError::InvalidContent,
                severity: Severity::Error,
                detail: format!("{} ({what})", segment.id()),
                at: segment.position(),
            });
        }
    }

    /// An ISB or ISE: a request to the carriers, part of the interchange
    /// envelope between the ISA and the first GS, each at most once. Its
    /// content is checked ([`super::delivery`]); anywhere else it is
    /// invalid content.
    fn delivery_request(&mut self, segment: &Segment<'_>) {
        let Some(ix) = &mut self.open else { return };
        let isb = segment.id_bytes() == b"ISB";
        let seen = if isb { ix.isb } else { ix.ise };
        if ix.groups > 0 || ix.group.is_some() {
            self.stray(segment, "it belongs between the ISA and the first GS");
        } else if seen {
            self.stray(segment, "it may come only once");
        } else if isb {
            ix.isb = true;
            check_isb(segment, &mut ix.findings);
        } else {
            ix.ise = true;
            check_ise(segment, &mut ix.findings);
        }
    }

    fn open_interchange(&mut self, header: &IsaHeader, at: Position) {
        let mut findings = check_isa(header, at);
        let sender = header.sender();
        let number = header.control_number();
        if number.len() == 9
            && number.iter().all(u8::is_ascii_digit)
            && !self.seen.entry(sender).or_default().insert(number)
        {
            findings.push(InterchangeFinding {
                error: InterchangeError::DuplicateControlNumber,
                severity: Severity::Error,
                detail: format!(
                    "the sender used interchange control number {} before in this input",
                    String::from_utf8_lossy(number)
                ),
                at,
            });
        }
        self.summary.interchanges += 1;
        self.open = Some(OpenInterchange {
            header: Arc::new(header.clone()),
            at,
            findings,
            groups: 0,
            group_numbers: NumberSet::default(),
            group: None,
            stray: false,
            isb: false,
            ise: false,
        });
    }

    /// Ends the input after `error`, which stopped the reading: what is
    /// open is still reported (set and group trailers missing), and the
    /// interchange is rejected with the TA1 note that says why (004 for a
    /// terminator of several bytes, 023 for any other end before the IEA),
    /// so that a caller may answer it, since its ISA was read. After an I/O
    /// error nothing is reported: the input was not read, and its sender
    /// did nothing wrong.
    pub fn abort(&mut self, error: &ParseError, sink: &mut dyn Sink) -> std::io::Result<()> {
        if self.open.is_none() {
            return Ok(());
        }
        let cut = match error.kind() {
            ParseErrorKind::Io(_) => return Ok(()),
            kind @ ParseErrorKind::MultiByteTerminator { .. } => {
                Cut::Missing(InterchangeError::InvalidSegmentTerminator, kind.to_string())
            }
            kind => Cut::Missing(
                InterchangeError::PrematureEnd,
                format!("the interchange is cut short: {kind}"),
            ),
        };
        self.close_interchange(cut, error.position(), sink)
    }

    fn close_interchange(
        &mut self,
        end: Cut<'_, '_>,
        at: Position,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        self.close_group_if_open(at, sink)?;
        let Some(mut ix) = self.open.take() else {
            return Ok(());
        };
        match end {
            Cut::Trailer(iea) => {
                let count = iea.text(1);
                if count.parse::<u32>().ok() != Some(ix.groups) {
                    ix.findings.push(InterchangeFinding {
                        error: InterchangeError::GroupCountMismatch,
                        severity: Severity::Error,
                        detail: format!(
                            "IEA01 says {count:?} groups, the interchange holds {}",
                            ix.groups
                        ),
                        at,
                    });
                }
                let number = iea.element(2).unwrap_or(b"");
                if number != ix.header.control_number() {
                    ix.findings.push(InterchangeFinding {
                        error: InterchangeError::ControlNumberMismatch,
                        severity: Severity::Error,
                        detail: format!(
                            "IEA02 {:?} is not ISA13 {:?}",
                            String::from_utf8_lossy(number),
                            String::from_utf8_lossy(ix.header.control_number())
                        ),
                        at,
                    });
                }
            }
            Cut::Missing(error, detail) => ix.findings.push(InterchangeFinding {
                error,
                severity: Severity::Error,
                detail,
                at,
            }),
        }
        let outcome = InterchangeOutcome {
            header: ix.header,
            at: ix.at,
            groups: ix.groups,
            findings: ix.findings,
            line_style: self.line_style,
        };
        if outcome.ta1().0 == 'R' {
            self.summary.interchanges_rejected += 1;
        }
        sink.interchange_end(&outcome)
    }

    fn open_group(&mut self, gs: &Segment<'_>) {
        let defs = self.defs;
        let rules = &self.group_rules;
        let Some(ix) = &mut self.open else { return };
        ix.stray = false;
        ix.groups += 1;
        self.summary.groups += 1;
        let at = gs.position();
        let fields: Vec<String> = gs
            .elements()
            .map(|e| String::from_utf8_lossy(e.trim_ascii()).into_owned())
            .collect();
        let mut findings = Vec::new();
        let control = gs.element(6).unwrap_or(b"");
        if control.is_empty() || control.len() > 9 || !control.iter().all(u8::is_ascii_digit) {
            findings.push(GroupFinding {
                error: GroupError::ControlNumberSyntax,
                detail: format!(
                    "GS06 {:?} is not a number of 1 to 9 digits",
                    String::from_utf8_lossy(control)
                ),
                at,
            });
        } else if !ix.group_numbers.insert(control) {
            findings.push(GroupFinding {
                error: GroupError::ControlNumberNotUnique,
                detail: format!(
                    "GS06 {} is used twice in this interchange",
                    String::from_utf8_lossy(control)
                ),
                at,
            });
        }
        let gs08 = fields.get(7).map_or("", String::as_str);
        let version = defs.resolve(gs08).map(|(v, _)| v.to_string());
        if version.is_none() {
            findings.push(GroupFinding {
                error: GroupError::VersionNotSupported,
                detail: format!("no definitions for version {gs08:?} (GS08)"),
                at,
            });
        }
        // The GS itself, by the rules of its own version: an invalid GS is
        // invalid interchange content (TA1 024).
        if let Some(gs_def) = rules.for_group(defs, version.as_deref(), gs08) {
            let mut element_findings = Vec::new();
            check_segment(gs, gs_def, &mut element_findings);
            if let Some(f) = element_findings.first() {
                ix.findings.push(InterchangeFinding {
                    error: InterchangeError::InvalidContent,
                    severity: Severity::Error,
                    detail: format!(
                        "GS{:02} ({}): {} {:?}",
                        f.position,
                        f.reference,
                        f.error.describe(),
                        String::from_utf8_lossy(&f.value)
                    ),
                    at,
                });
            }
        }
        ix.group = Some(OpenGroup {
            header: GroupHeader {
                fields,
                at,
                definitions: version.clone(),
            },
            findings,
            received: 0,
            accepted: 0,
            set_numbers: NumberSet::default(),
            version,
            set: None,
        });
    }

    fn close_group_if_open(&mut self, at: Position, sink: &mut dyn Sink) -> std::io::Result<()> {
        if self.open.as_ref().is_some_and(|ix| ix.group.is_some()) {
            self.close_set_if_open(None, at, sink)?;
            self.close_group(None, at, sink)?;
        }
        Ok(())
    }

    fn close_group(
        &mut self,
        ge: Option<&Segment<'_>>,
        at: Position,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        let Some(ix) = &mut self.open else {
            return Ok(());
        };
        let Some(mut g) = ix.group.take() else {
            return Ok(());
        };
        let mut declared = None;
        match ge {
            Some(ge) => {
                let count = ge.text(1).into_owned();
                if count.parse::<u32>().ok() != Some(g.received) {
                    g.findings.push(GroupFinding {
                        error: GroupError::SetCountMismatch,
                        detail: format!("GE01 says {count:?} sets, the group holds {}", g.received),
                        at,
                    });
                }
                let number = ge.text(2);
                if number != g.header.control_number() {
                    g.findings.push(GroupFinding {
                        error: GroupError::ControlNumberMismatch,
                        detail: format!(
                            "GE02 {number:?} is not GS06 {:?}",
                            g.header.control_number()
                        ),
                        at,
                    });
                }
                declared = Some(count);
            }
            None => g.findings.push(GroupFinding {
                error: GroupError::TrailerMissing,
                detail: "the group has no GE".into(),
                at,
            }),
        }
        let outcome = GroupOutcome {
            header: g.header,
            declared_sets: declared,
            received: g.received,
            accepted: g.accepted,
            findings: g.findings,
        };
        if !outcome.findings.is_empty() || outcome.accepted < outcome.received {
            self.summary.groups_with_errors += 1;
        }
        sink.group_end(&outcome)
    }

    fn open_set(&mut self, st: &Segment<'_>) {
        let at = st.position();
        // The strings of the last set are reused: no allocation per set.
        let (mut st01, mut st02) = self.spare.take().unwrap_or_default();
        st01.clear();
        st01.push_str(&st.text(1));
        let st02_raw = st.element(2).unwrap_or(b"");
        st02.clear();
        st02.push_str(&String::from_utf8_lossy(st02_raw));
        let st03 = st
            .element(3)
            .filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(v).into_owned());
        let Some(g) = self.open.as_ref().and_then(|ix| ix.group.as_ref()) else {
            return;
        };
        let version = g.version.as_deref();
        let functional_id = g.header.functional_id();
        let mut findings = Vec::new();
        let def =
            version.and_then(|v| lookup_set(&mut self.recent, self.defs, &self.overlaid, v, &st01));
        if st01.len() != 3 || !st01.bytes().all(|b| b.is_ascii_digit()) {
            findings.push(SetFinding {
                error: SetError::InvalidSetIdentifier,
                detail: format!("ST01 {st01:?} is not a transaction set identifier"),
                at,
            });
        } else if let Some(d) = &def {
            if d.functional_group != functional_id {
                findings.push(SetFinding {
                    error: SetError::InvalidSetIdentifier,
                    detail: format!(
                        "a {st01} belongs in a {} group, not in this {functional_id:?} group",
                        d.functional_group
                    ),
                    at,
                });
            }
        } else {
            findings.push(SetFinding {
                error: SetError::NotSupported,
                detail: match version {
                    Some(v) => format!("no definition for transaction set {st01} in version {v}"),
                    None => "the group's version is not supported".into(),
                },
                at,
            });
        }
        let valid_number =
            (4..=9).contains(&st02_raw.len()) && st02_raw.iter().all(|&b| b > 0x20 && b != 0x7F);
        let Some(g) = self.open.as_mut().and_then(|ix| ix.group.as_mut()) else {
            return;
        };
        if !valid_number {
            findings.push(SetFinding {
                error: SetError::InvalidControlNumber,
                detail: format!("ST02 {st02:?} is not a control number of 4 to 9 characters"),
                at,
            });
        } else if !g.set_numbers.insert(st02_raw) {
            findings.push(SetFinding {
                error: SetError::ControlNumberNotUnique,
                detail: format!("ST02 {st02} is used twice in this group"),
                at,
            });
        }
        g.received += 1;
        self.summary.sets += 1;
        let scratch = self.scratch.take().unwrap_or_default();
        let mut validator = def.map(|d| SetValidator::with_scratch(d, self.max_findings, scratch));
        if let Some(v) = &mut validator {
            let mut inner = *st;
            inner.set_in_set(Some(1));
            v.segment(&inner);
        }
        g.set = Some(OpenSet {
            id: st01,
            control_number: st02,
            implementation_reference: st03,
            at,
            count: 1,
            validator,
            findings,
        });
    }

    fn close_set_if_open(
        &mut self,
        se: Option<&Segment<'_>>,
        at: Position,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        let Some(g) = self.open.as_mut().and_then(|ix| ix.group.as_mut()) else {
            return Ok(());
        };
        let Some(mut s) = g.set.take() else {
            return Ok(());
        };
        let end_at = match se {
            Some(se) => {
                s.count = s.count.saturating_add(1);
                let mut inner = *se;
                inner.set_in_set(Some(s.count));
                if let Some(v) = &mut s.validator {
                    v.segment(&inner);
                }
                let declared = se.text(1);
                if declared.parse::<u32>().ok() != Some(s.count) {
                    s.findings.push(SetFinding {
                        error: SetError::SegmentCountMismatch,
                        detail: format!("SE01 says {declared:?} segments, the set has {}", s.count),
                        at: inner.position(),
                    });
                }
                let number = se.element(2).unwrap_or(b"");
                if number != s.control_number.as_bytes() {
                    s.findings.push(SetFinding {
                        error: SetError::ControlNumberMismatch,
                        detail: format!(
                            "SE02 {:?} is not ST02 {:?}",
                            String::from_utf8_lossy(number),
                            s.control_number
                        ),
                        at: inner.position(),
                    });
                }
                inner.position()
            }
            None => {
                s.findings.push(SetFinding {
                    error: SetError::TrailerMissing,
                    detail: "the set has no SE".into(),
                    at,
                });
                at
            }
        };
        let definition = s
            .validator
            .as_ref()
            .map(|v| Arc::clone(&v.definition().source));
        let mut notes = Vec::new();
        let (segment_findings, dropped) = match s.validator.take() {
            Some(mut v) => {
                notes = v.take_notes();
                let (findings, dropped, scratch) = v.finish_with_scratch(end_at);
                self.scratch = Some(scratch);
                (findings, dropped)
            }
            None => (Vec::new(), 0),
        };
        if !segment_findings.is_empty() {
            s.findings.push(SetFinding {
                error: SetError::SegmentsInError,
                detail: format!(
                    "{} segment(s) in error",
                    segment_findings.len() as u64 + dropped
                ),
                at: s.at,
            });
        }
        let outcome = SetOutcome {
            id: s.id,
            control_number: s.control_number,
            implementation_reference: s.implementation_reference,
            at: s.at,
            segment_count: s.count,
            set_findings: s.findings,
            segment_findings,
            dropped_findings: dropped,
            notes,
            definition,
        };
        if outcome.accepted() {
            g.accepted += 1;
        } else {
            self.summary.sets_rejected += 1;
        }
        let result = sink.set_end(&g.header, &outcome);
        self.spare = Some((outcome.id, outcome.control_number));
        result
    }
}

/// The definition of set `id` in `version`, overlaid when an overlay
/// applies. Groups hold many sets of few kinds, so the last answers are
/// remembered in `recent`.
fn lookup_set(
    recent: &mut Vec<(String, String, Option<Arc<SetDef>>)>,
    defs: &Definitions,
    overlaid: &HashMap<(String, String), Arc<SetDef>>,
    version: &str,
    id: &str,
) -> Option<Arc<SetDef>> {
    if let Some((_, _, def)) = recent.iter().find(|(v, i, _)| v == version && i == id) {
        return def.clone();
    }
    let def = match overlaid.get(&(version.to_string(), id.to_string())) {
        Some(s) => Some(Arc::clone(s)),
        None => defs.version(version).and_then(|v| v.sets.get(id).cloned()),
    };
    if recent.len() >= 16 {
        recent.remove(0);
    }
    recent.push((version.to_string(), id.to_string(), def.clone()));
    def
}

/// How an interchange ends: with its IEA, or without, for a reason.
enum Cut<'a, 's> {
    /// Its IEA.
    Trailer(&'a Segment<'s>),
    /// No IEA: the note of the TA1 and what happened.
    Missing(InterchangeError, String),
}

impl Cut<'_, '_> {
    /// The IEA never came (the input or the next ISA came first).
    fn no_iea() -> Self {
        Cut::Missing(
            InterchangeError::PrematureEnd,
            "the interchange has no IEA".into(),
        )
    }
}

/// True for the IDs of envelope segments (ISA, IEA, GS, GE, ST, SE): a
/// comparison of packed keys, not of slices.
#[inline]
fn is_envelope(id: &[u8]) -> bool {
    const KEYS: [u32; 6] = [
        seg::ISA.key(),
        seg::IEA.key(),
        seg::GS.key(),
        seg::GE.key(),
        seg::ST.key(),
        seg::SE.key(),
    ];
    KEYS.contains(&super::ids::SegmentId::key_of(id))
}

/// Checks the fields of an ISA header (widths and values), giving TA1 codes.
pub fn check_isa(h: &IsaHeader, at: Position) -> Vec<InterchangeFinding> {
    use InterchangeError::*;
    let mut out = Vec::new();
    let mut add = |error: InterchangeError, severity: Severity, detail: String| {
        out.push(InterchangeFinding {
            error,
            severity,
            detail,
            at,
        });
    };
    let version = h.field(12);
    let from_5010 = version >= &b"00501"[..];
    let widths = super::isa::FIELD_WIDTHS;
    let codes: [(usize, InterchangeError, &[&str]); 4] = [
        (
            1,
            InvalidAuthorizationQualifier,
            &["00", "01", "02", "03", "04", "05", "06"],
        ),
        (3, InvalidSecurityQualifier, &["00", "01"]),
        (14, InvalidAckRequested, &["0", "1"]),
        (15, InvalidTestIndicator, &["P", "T", "I"]),
    ];
    for (n, error, allowed) in codes {
        let v = String::from_utf8_lossy(h.field(n).trim_ascii()).into_owned();
        if !allowed.contains(&v.as_str()) {
            add(
                error,
                Severity::Error,
                format!("ISA{n:02} {v:?} is not one of {}", allowed.join(", ")),
            );
        }
    }
    for (n, error) in [(5, InvalidSenderQualifier), (7, InvalidReceiverQualifier)] {
        let v = String::from_utf8_lossy(h.field(n).trim_ascii()).into_owned();
        if !is_id_qualifier(&v, from_5010) {
            add(
                error,
                Severity::Error,
                format!("ISA{n:02} {v:?} is not an interchange ID qualifier"),
            );
        }
    }
    for (n, error) in [(6, InvalidSenderId), (8, InvalidReceiverId)] {
        if h.field(n).trim_ascii().is_empty() {
            add(error, Severity::Error, format!("ISA{n:02} is blank"));
        }
    }
    // Field widths: a short or long field is read leniently and noted.
    let width_errors: [(usize, InterchangeError); 15] = [
        (1, InvalidAuthorizationQualifier),
        (2, InvalidAuthorizationValue),
        (3, InvalidSecurityQualifier),
        (4, InvalidSecurityValue),
        (5, InvalidSenderQualifier),
        (6, InvalidSenderId),
        (7, InvalidReceiverQualifier),
        (8, InvalidReceiverId),
        (9, InvalidDate),
        (10, InvalidTime),
        (11, InvalidStandardsIdentifier),
        (12, InvalidVersion),
        (13, InvalidControlNumber),
        (14, InvalidAckRequested),
        (15, InvalidTestIndicator),
    ];
    for (n, error) in width_errors {
        let len = h.field(n).len();
        if len != widths[n - 1] {
            add(
                error,
                Severity::Warning,
                format!("ISA{n:02} is {len} characters long, not {}", widths[n - 1]),
            );
        }
    }
    if !valid_date(h.field(9)) || h.field(9).len() != 6 {
        add(
            InvalidDate,
            Severity::Error,
            format!("ISA09 {:?} is not a date (YYMMDD)", h.text(9)),
        );
    }
    if !valid_time(h.field(10)) || h.field(10).len() != 4 {
        add(
            InvalidTime,
            Severity::Error,
            format!("ISA10 {:?} is not a time (HHMM)", h.text(10)),
        );
    }
    if !is_control_version(version) {
        add(
            InvalidVersion,
            Severity::Error,
            format!(
                "ISA12 {:?} is not an interchange control version (00401, 00501, ...)",
                h.text(12)
            ),
        );
    }
    let number = h.field(13);
    if number.len() != 9 || !number.iter().all(u8::is_ascii_digit) {
        add(
            InvalidControlNumber,
            Severity::Error,
            format!("ISA13 {:?} is not a 9-digit number", h.text(13)),
        );
    }
    for w in h.warnings() {
        match w {
            IsaWarning::NotPadded => add(InvalidControlStructure, Severity::Warning, w.to_string()),
            IsaWarning::RepetitionSeparatorIgnored { .. } | IsaWarning::StandardsIdNotU { .. } => {
                add(InvalidStandardsIdentifier, Severity::Warning, w.to_string())
            }
        }
    }
    out
}

/// Interchange ID qualifiers (I05); 005010 added a few.
pub(crate) fn is_id_qualifier(v: &str, from_5010: bool) -> bool {
    const BASE: &[&str] = &[
        "01", "02", "03", "04", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17",
        "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
        "33", "ZZ",
    ];
    const FROM_5010: &[&str] = &["34", "35", "36", "37", "38", "AM", "NR", "SA", "SN"];
    BASE.contains(&v) || (from_5010 && FROM_5010.contains(&v))
}

/// Runs the checker over a reader, reporting to `sink`.
pub fn check_reader<R: Read>(
    reader: &mut SegmentReader<R>,
    checker: &mut Checker<'_>,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    let read = reader.for_each(|segment, header, style| {
        checker.set_line_style(style);
        checker.feed(&segment, header, sink)
    });
    stop_on(read, checker, sink)?;
    checker.set_line_style(reader.line_style());
    let end = reader.next_position();
    checker.finish(end, sink)
}

/// The result of reading segments: an error still reports what was open
/// ([`Checker::abort`]) before it is returned.
fn stop_on(
    read: Result<(), ParseError>,
    checker: &mut Checker<'_>,
    sink: &mut dyn Sink,
) -> Result<(), ParseError> {
    let Err(e) = read else { return Ok(()) };
    checker
        .abort(&e, sink)
        .map_err(|io| ParseError::new(ParseErrorKind::Io(io), e.position(), None))?;
    Err(e)
}

/// Runs the checker over an async reader, reporting to `sink`.
pub async fn check_async_reader<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut super::async_reader::AsyncSegmentReader<R>,
    checker: &mut Checker<'_>,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    let read = reader
        .for_each(|segment, header, style| {
            checker.set_line_style(style);
            checker.feed(&segment, header, sink)
        })
        .await;
    stop_on(read, checker, sink)?;
    checker.set_line_style(reader.line_style());
    let end = reader.next_position();
    checker.finish(end, sink)
}

/// Runs the checker over bytes already in memory (the fastest path).
pub fn check_bytes(
    input: &[u8],
    checker: &mut Checker<'_>,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    let mut lexer = super::lexer::Lexer::default();
    let read = super::lexer::for_each_segment(input, &mut lexer, |segment, header, style| {
        checker.set_line_style(style);
        checker.feed(&segment, header, sink)
    });
    stop_on(read, checker, sink)?;
    checker.set_line_style(lexer.line_style());
    let end = lexer.next_position();
    checker.finish(end, sink)
}
