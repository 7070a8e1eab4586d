//! Acknowledgments: 997 and 999 for functional groups, TA1 for interchanges.
//!
//! [`AckWriter`] is a [`Sink`] of the envelope checker: it writes one
//! acknowledgment set per received functional group as each group ends, and
//! one acknowledgment interchange per received interchange. The
//! acknowledgment swaps sender and receiver, uses the received version and
//! delimiters unless told otherwise, and takes its own control numbers from
//! a [`ControlNumbers`] source.
//!
//! Groups of acknowledgments (GS01 `FA`) are never acknowledged, as the 997
//! and 999 notes require; a received TA1 is not answered either.
//!
//! An interchange whose envelope is rejected is answered by its TA1 `R`
//! alone, whatever the [`Ta1Policy`]: never by a 997 or 999 that would
//! accept its groups.
//!
//! Only the acknowledgment of the current interchange is held in memory
//! (about 20 bytes per accepted set), so that a TA1 can precede its groups
//! and a rejected interchange can be answered by the TA1 alone.

use std::io::{self, Write};
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::control::ControlNumbers;
use super::delimiters::{Delimiters, LineStyle};
use super::envelope::{GroupHeader, GroupOutcome, InterchangeOutcome, SetOutcome, Sink};
use super::group_version::GroupDate;
use super::isa::{IsaHeader, is_control_version};
use super::position::Position;
use super::segment::{Element, OwnedSegment};
use super::validate::{AckFlavor, ElementFinding, InterchangeError, SegmentFinding};
use super::writer::{Writer, fixed_width, zero_padded};

/// Which functional acknowledgment to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AckKind {
    /// 997 Functional Acknowledgment.
    #[default]
    Functional,
    /// 999 Implementation Acknowledgment (005010 and later).
    Implementation,
}

/// When to send a TA1 for an interchange that is not rejected.
///
/// An interchange whose envelope is rejected (TA1 `R`) is always answered
/// by its TA1, whatever the policy, and by nothing else: a 997 or 999
/// would tell the sender that its groups were accepted, while the whole
/// interchange is refused (X12.5: the TA1 reports on the interchange
/// header and trailer; BizTalk and MuleSoft answer a bad ISA or IEA with a
/// TA1 whatever their TA1 setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ta1Policy {
    /// Only to reject an interchange.
    #[default]
    Never,
    /// When the interchange asks for one (ISA14 = 1), as the standard
    /// says, and to reject one.
    WhenRequested,
    /// For every interchange.
    Always,
}

/// How acknowledgments are written.
#[derive(Clone, Debug)]
pub struct AckOptions {
    /// 997 or 999.
    pub kind: AckKind,
    /// When to add a TA1.
    pub ta1: Ta1Policy,
    /// Acknowledge every set (AK2 + AK5), or only the sets in error.
    pub ack_all_sets: bool,
    /// The date and time written in ISA09/10 and GS04/05.
    pub timestamp: NaiveDateTime,
    /// GS08 of the acknowledgments; the received group's by default.
    pub version: Option<String>,
    /// Delimiters of the acknowledgments; the received ones by default.
    pub delimiters: Option<Delimiters>,
    /// Line style of the acknowledgments; the received one by default.
    pub line_style: Option<LineStyle>,
}

impl AckOptions {
    /// Defaults: 997, no TA1, every set acknowledged, stamped `timestamp`.
    pub fn new(timestamp: NaiveDateTime) -> AckOptions {
        AckOptions {
            kind: AckKind::Functional,
            ta1: Ta1Policy::Never,
            ack_all_sets: true,
            timestamp,
            version: None,
            delimiters: None,
            line_style: None,
        }
    }
}

/// What an [`AckWriter`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AckSummary {
    /// Acknowledgment interchanges written.
    pub interchanges: u64,
    /// 997 or 999 sets written (one per acknowledged group).
    pub acknowledgments: u64,
    /// TA1 segments written.
    pub ta1s: u64,
    /// Interchanges rejected (answered by a TA1 `R` alone).
    pub rejections: u64,
}

struct OpenAckSet {
    control_number: String,
    first_segment: u64,
    flavor: AckFlavor,
    /// Where in the body the `A` of each AK5/IK5 that accepts a set is:
    /// a group rejected as a whole at its end (GE) makes them `R`.
    accepted_at: Vec<usize>,
}

struct OpenFaGroup {
    version: String,
    control_number: u32,
    sets: u32,
}

struct Pending {
    header: Arc<IsaHeader>,
    delimiters: Delimiters,
    body: Writer<Vec<u8>>,
    groups: u32,
    fa: Option<OpenFaGroup>,
    set: Option<OpenAckSet>,
    skipping: bool,
    acknowledgments: u64,
}

/// Writes acknowledgments for what the checker reports.
pub struct AckWriter<'c, W: Write> {
    out: W,
    options: AckOptions,
    numbers: &'c mut dyn ControlNumbers,
    pending: Option<Pending>,
    summary: AckSummary,
}

impl<'c, W: Write> AckWriter<'c, W> {
    /// A writer of acknowledgments into `out`.
    pub fn new(out: W, options: AckOptions, numbers: &'c mut dyn ControlNumbers) -> Self {
        AckWriter {
            out,
            options,
            numbers,
            pending: None,
            summary: AckSummary::default(),
        }
    }

    /// What was written so far.
    pub fn summary(&self) -> AckSummary {
        self.summary
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// GS04 of an acknowledgment group in `version`: `YYMMDD` before
    /// 004000, `CCYYMMDD` after.
    fn group_date(&self, version: &str) -> String {
        let form = GroupDate::of(version).format();
        self.options.timestamp.format(form).to_string()
    }

    fn time4(&self) -> String {
        self.options.timestamp.format("%H%M").to_string()
    }
}

/// Delimiters for the acknowledgment of `header`: the received ones, with a
/// repetition separator when the acknowledgment's ISA12 needs one.
fn ack_delimiters(header: &IsaHeader, forced: Option<Delimiters>) -> Delimiters {
    let d = forced.unwrap_or(header.delimiters());
    if d.repetition().is_some() || !isa_version(header).as_bytes().ge(b"00402".as_slice()) {
        return d;
    }
    for candidate in [b'^', b'|', b'!', b'{', b'}', b'\\'] {
        if let Ok(with) = Delimiters::new(d.element(), d.component(), d.segment(), Some(candidate))
        {
            return with;
        }
    }
    d
}

/// `d` with a terminator of one character, for the TA1 that rejects an
/// interchange whose terminator was the first byte of a multi-byte one.
fn single_byte_terminator(d: Delimiters) -> Delimiters {
    [b'~', b'!', b'\'', b'|']
        .into_iter()
        .find_map(|t| Delimiters::new(d.element(), d.component(), t, d.repetition()).ok())
        .unwrap_or(d)
}

/// The received ISA05 or ISA07, to be our ISA07 or ISA05: as sent when it
/// is an interchange ID qualifier of `version`, else `ZZ` (mutually
/// defined), so that an interchange rejected for its qualifier (TA1 005,
/// 007) is not answered with the qualifier refused.
fn qualifier(header: &IsaHeader, field: usize, version: &str) -> String {
    let q = header.text(field);
    if super::envelope::is_id_qualifier(&q, version >= "00501") {
        q
    } else {
        "ZZ".to_string()
    }
}

/// ISA12 of the acknowledgment: the received one, or 00401 when the
/// received one is not a code of ISA12's list.
fn isa_version(header: &IsaHeader) -> String {
    let v = header.text(12);
    if is_control_version(v.as_bytes()) {
        v
    } else {
        "00401".to_string()
    }
}

fn to_io(e: super::writer::WriteError) -> io::Error {
    match e {
        super::writer::WriteError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// Removes delimiters from a copied value and cuts it to 99 bytes; borrows
/// when there is nothing to remove.
fn sanitize<'v>(value: &'v [u8], d: &Delimiters) -> std::borrow::Cow<'v, [u8]> {
    let clean = |b: &u8| !d.is_delimiter(*b) && *b >= 0x20;
    if value.len() <= 99 && value.iter().all(clean) {
        return std::borrow::Cow::Borrowed(value);
    }
    std::borrow::Cow::Owned(
        value
            .iter()
            .copied()
            .filter(|b| clean(b))
            .take(99)
            .collect(),
    )
}

impl<W: Write> AckWriter<'_, W> {
    fn write(&mut self, id: &str, elements: &[&[u8]]) -> io::Result<()> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        p.body.write_texts(id, elements).map_err(to_io)
    }

    fn close_fa_group(&mut self) -> io::Result<()> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        if let Some(fa) = p.fa.take() {
            let count = fa.sets.to_string();
            let number = fa.control_number.to_string();
            p.body
                .write_texts("GE", &[count.as_bytes(), number.as_bytes()])
                .map_err(to_io)?;
        }
        Ok(())
    }

    fn segment_error(&mut self, f: &SegmentFinding, flavor: AckFlavor) -> io::Result<()> {
        let Some(d) = self.pending.as_ref().map(|p| p.delimiters) else {
            return Ok(());
        };
        let id = sanitize(f.id.as_bytes(), &d);
        let loop_id = sanitize(f.loop_id.as_bytes(), &d);
        let position = f.position_in_set.to_string();
        let code = f.error.code(flavor);
        let tag = if flavor == AckFlavor::Ia999 {
            "IK3"
        } else {
            "AK3"
        };
        self.write(tag, &[&id, position.as_bytes(), &loop_id, code.as_bytes()])?;
        for e in f.elements.iter().take(99) {
            self.element_error(e, flavor)?;
        }
        Ok(())
    }

    fn element_error(&mut self, e: &ElementFinding, flavor: AckFlavor) -> io::Result<()> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        let d = p.delimiters;
        let mut position: Vec<Vec<u8>> = vec![e.position.to_string().into_bytes()];
        let with_repetition = flavor != AckFlavor::Fa4010 && e.repetition.is_some();
        if e.component.is_some() || with_repetition {
            position.push(
                e.component
                    .map(|c| c.to_string().into_bytes())
                    .unwrap_or_default(),
            );
        }
        if with_repetition {
            position.push(
                e.repetition
                    .map(|r| r.to_string().into_bytes())
                    .unwrap_or_default(),
            );
        }
        let reference = if e.reference.bytes().all(|b| b.is_ascii_digit()) {
            e.reference.clone().into_bytes()
        } else {
            Vec::new()
        };
        let mut seg = OwnedSegment {
            id: if flavor == AckFlavor::Ia999 {
                b"IK4".to_vec()
            } else {
                b"AK4".to_vec()
            },
            elements: vec![
                Element::composite(position),
                Element::simple(reference),
                Element::simple(e.error.code(flavor)),
                Element::simple(sanitize(&e.value, &d)),
            ],
        };
        seg.trim_trailing_empty();
        p.body.write(&seg).map_err(to_io)
    }
}

impl<W: Write> Sink for AckWriter<'_, W> {
    fn interchange_start(&mut self, header: &IsaHeader, _at: Position) -> io::Result<()> {
        let delimiters = ack_delimiters(header, self.options.delimiters);
        self.pending = Some(Pending {
            header: Arc::new(header.clone()),
            delimiters,
            body: Writer::new(Vec::new(), delimiters, LineStyle::None),
            groups: 0,
            fa: None,
            set: None,
            skipping: false,
            acknowledgments: 0,
        });
        Ok(())
    }

    fn group_start(&mut self, group: &GroupHeader) -> io::Result<()> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        p.skipping = group.is_acknowledgment();
        if p.skipping {
            return Ok(());
        }
        let received = group.version().to_string();
        let version = match (&self.options.version, self.options.kind) {
            (Some(v), _) => v.clone(),
            (None, AckKind::Implementation) if received.get(..6).is_none_or(|v| v < "005010") => {
                "005010".to_string()
            }
            (None, _) if received.is_empty() => "004010".to_string(),
            (None, _) => received.clone(),
        };
        let flavor = match self.options.kind {
            AckKind::Implementation => AckFlavor::Ia999,
            AckKind::Functional => AckFlavor::for_997(&version),
        };
        if p.fa.as_ref().is_some_and(|fa| fa.version != version) {
            self.close_fa_group()?;
        }
        let (date, time) = (self.group_date(&version), self.time4());
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        if p.fa.is_none() {
            let number = self.numbers.next_group();
            let (mut from, mut to) = (group.receiver().to_string(), group.sender().to_string());
            if from.is_empty() {
                from = p.header.text(8);
            }
            if to.is_empty() {
                to = p.header.text(6);
            }
            let n = number.to_string();
            let d = p.delimiters;
            let (from, to, v) = (
                sanitize(from.as_bytes(), &d),
                sanitize(to.as_bytes(), &d),
                sanitize(version.as_bytes(), &d),
            );
            p.body
                .write_texts(
                    "GS",
                    &[
                        &b"FA"[..],
                        &from,
                        &to,
                        date.as_bytes(),
                        time.as_bytes(),
                        n.as_bytes(),
                        b"X",
                        &v,
                    ],
                )
                .map_err(to_io)?;
            p.groups += 1;
            p.fa = Some(OpenFaGroup {
                version: version.clone(),
                control_number: number,
                sets: 0,
            });
        }
        let Some(fa) = &mut p.fa else { return Ok(()) };
        fa.sets += 1;
        let control_number = format!("{:04}", fa.sets);
        let first_segment = p.body.written();
        let set_id = if flavor == AckFlavor::Ia999 {
            "999"
        } else {
            "997"
        };
        let st03 = if flavor == AckFlavor::Ia999 && version.contains("X231") {
            version.as_str()
        } else {
            ""
        };
        let st03 = sanitize(st03.as_bytes(), &p.delimiters);
        p.body
            .write_texts("ST", &[set_id.as_bytes(), control_number.as_bytes(), &st03])
            .map_err(to_io)?;
        let ak103 = if flavor == AckFlavor::Fa4010 {
            ""
        } else {
            group.version()
        };
        let d = p.delimiters;
        let ak1 = [group.functional_id(), group.control_number(), ak103]
            .map(|v| sanitize(v.as_bytes(), &d));
        p.body.write_texts("AK1", &ak1).map_err(to_io)?;
        p.set = Some(OpenAckSet {
            control_number,
            first_segment,
            flavor,
            accepted_at: Vec::new(),
        });
        Ok(())
    }

    fn set_end(&mut self, _group: &GroupHeader, set: &SetOutcome) -> io::Result<()> {
        let Some(p) = &self.pending else {
            return Ok(());
        };
        if p.skipping {
            return Ok(());
        }
        let Some(flavor) = p.set.as_ref().map(|s| s.flavor) else {
            return Ok(());
        };
        if set.accepted() && !self.options.ack_all_sets {
            return Ok(());
        }
        let d = p.delimiters;
        let ak203 = if flavor == AckFlavor::Fa4010 {
            ""
        } else {
            set.implementation_reference.as_deref().unwrap_or("")
        };
        let (st01, st02, st03) = (
            sanitize(set.id.as_bytes(), &d),
            sanitize(set.control_number.as_bytes(), &d),
            sanitize(ak203.as_bytes(), &d),
        );
        self.write("AK2", &[&st01, &st02, &st03])?;
        for f in &set.segment_findings {
            self.segment_error(f, flavor)?;
        }
        let mut codes: Vec<&str> = Vec::new();
        for f in &set.set_findings {
            let c = f.error.code();
            if !codes.contains(&c) && codes.len() < 5 {
                codes.push(c);
            }
        }
        let verdict = if set.accepted() { "A" } else { "R" };
        let mut elements: Vec<&[u8]> = vec![verdict.as_bytes()];
        elements.extend(codes.iter().map(|c| c.as_bytes()));
        let tag = if flavor == AckFlavor::Ia999 {
            "IK5"
        } else {
            "AK5"
        };
        if let Some(p) = &mut self.pending
            && set.accepted()
        {
            // The acknowledgment body is written with no line breaks: the
            // code follows the tag and one element separator.
            let at = p.body.get_mut().len() + tag.len() + 1;
            if let Some(open) = &mut p.set {
                open.accepted_at.push(at);
            }
        }
        self.write(tag, &elements)
    }

    fn group_end(&mut self, group: &GroupOutcome) -> io::Result<()> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        if p.skipping {
            p.skipping = false;
            return Ok(());
        }
        let Some(set) = p.set.take() else {
            return Ok(());
        };
        // A group rejected as a whole (a duplicate GS06, a GE that does not
        // agree with it) has no set accepted: AK904 is 0 and no AK5 says A,
        // so that the sender sends the whole group again and no reader
        // takes a set of it as accepted.
        let rejected = !group.findings.is_empty();
        if rejected {
            let body = p.body.get_mut();
            for &at in &set.accepted_at {
                if let Some(b) = body.get_mut(at) {
                    *b = b'R';
                }
            }
        }
        let mut codes: Vec<&str> = Vec::new();
        for f in &group.findings {
            if let Some(c) = f.error.code(set.flavor)
                && !codes.contains(&c)
                && codes.len() < 5
            {
                codes.push(c);
            }
        }
        let verdict = if rejected {
            "R"
        } else if group.accepted == group.received {
            "A"
        } else if group.accepted == 0 {
            "R"
        } else {
            "P"
        };
        let included = group
            .declared_sets
            .as_deref()
            .filter(|d| !d.is_empty() && d.len() <= 6 && d.bytes().all(|b| b.is_ascii_digit()))
            .map_or_else(|| group.received.to_string(), str::to_string);
        let accepted = if rejected { 0 } else { group.accepted };
        let (received, accepted) = (group.received.to_string(), accepted.to_string());
        let mut elements: Vec<&[u8]> = vec![
            verdict.as_bytes(),
            included.as_bytes(),
            received.as_bytes(),
            accepted.as_bytes(),
        ];
        elements.extend(codes.iter().map(|c| c.as_bytes()));
        p.body.write_texts("AK9", &elements).map_err(to_io)?;
        let count = (p.body.written() - set.first_segment + 1).to_string();
        p.body
            .write_texts("SE", &[count.as_bytes(), set.control_number.as_bytes()])
            .map_err(to_io)?;
        p.acknowledgments += 1;
        Ok(())
    }

    fn interchange_end(&mut self, outcome: &InterchangeOutcome) -> io::Result<()> {
        self.close_fa_group()?;
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let header = &p.header;
        let send_ta1 = match self.options.ta1 {
            Ta1Policy::Never => false,
            Ta1Policy::WhenRequested => header.ack_requested(),
            Ta1Policy::Always => true,
        };
        let (verdict, note) = outcome.ta1();
        // A rejected interchange is answered by its TA1 alone.
        let rejected = verdict == 'R';
        let send_ta1 = send_ta1 || rejected;
        let send_groups = p.groups > 0 && !rejected;
        if !send_ta1 && !send_groups {
            return Ok(());
        }
        let d = if note == InterchangeError::InvalidSegmentTerminator.code() {
            single_byte_terminator(p.delimiters)
        } else {
            p.delimiters
        };
        let style = self.options.line_style.unwrap_or(outcome.line_style);
        let version = isa_version(header);
        let number = self.numbers.next_interchange();
        let isa11 = if version.as_str() >= "00402" {
            vec![d.repetition().unwrap_or(b'^')]
        } else {
            b"U".to_vec()
        };
        let usage = match header.text(15).as_str() {
            u @ ("P" | "T" | "I") => u.to_string(),
            _ => "P".to_string(),
        };
        let stamp = self.options.timestamp;
        let fields: Vec<Vec<u8>> = vec![
            b"00".to_vec(),
            fixed_width(b"", 10),
            b"00".to_vec(),
            fixed_width(b"", 10),
            fixed_width(qualifier(header, 7, &version).as_bytes(), 2),
            fixed_width(header.text(8).as_bytes(), 15),
            fixed_width(qualifier(header, 5, &version).as_bytes(), 2),
            fixed_width(header.text(6).as_bytes(), 15),
            stamp.format("%y%m%d").to_string().into_bytes(),
            stamp.format("%H%M").to_string().into_bytes(),
            isa11,
            version.into_bytes(),
            zero_padded(u64::from(number), 9),
            b"0".to_vec(),
            usage.into_bytes(),
            vec![d.component()],
        ];
        let isa = OwnedSegment {
            id: b"ISA".to_vec(),
            elements: fields.into_iter().map(Element::simple).collect(),
        };
        let mut w = Writer::new(&mut self.out, d, style);
        w.write(&isa).map_err(to_io)?;
        if send_ta1 {
            let ta1 = [
                header.field(13).to_vec(),
                header.field(9).to_vec(),
                header.field(10).to_vec(),
                vec![verdict as u8],
                note.as_bytes().to_vec(),
            ];
            let mut seg = OwnedSegment {
                id: b"TA1".to_vec(),
                elements: ta1
                    .into_iter()
                    .map(|v| Element::simple(sanitize(&v, &d)))
                    .collect(),
            };
            seg.trim_trailing_empty();
            w.write(&seg).map_err(to_io)?;
            self.summary.ta1s += 1;
            if rejected {
                self.summary.rejections += 1;
            }
        }
        let body = p.body.into_inner()?;
        let groups = if send_groups {
            // The body was written without line breaks; values hold no
            // terminator, so each terminator ends exactly one segment.
            for segment in body.split_inclusive(|&b| b == d.segment()) {
                w.get_mut().write_all(segment)?;
                w.get_mut().write_all(style.as_bytes())?;
            }
            self.summary.acknowledgments += p.acknowledgments;
            p.groups
        } else {
            0
        };
        let (count, control) = (groups.to_string(), format!("{number:09}"));
        w.write_texts("IEA", &[count.as_bytes(), control.as_bytes()])
            .map_err(to_io)?;
        self.summary.interchanges += 1;
        Ok(())
    }
}
