//! Validation reports for people (text) and programs (JSON lines).
//!
//! [`Report`] is a [`Sink`] of the envelope checker that writes, as the
//! input streams by, one line per interchange, group and set, and one line
//! per problem with its place (line, column, byte, segment and position in
//! the set) and the offending value.

use std::io::{self, Write};

use super::envelope::{GroupHeader, GroupOutcome, InterchangeOutcome, SetOutcome, Sink};
use super::isa::IsaHeader;
use super::position::Position;
use super::validate::{AckFlavor, LoopNote, SegmentError, SetError, Severity};

/// How a report is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// Indented text for people.
    #[default]
    Text,
    /// One JSON object per set, group and interchange.
    JsonLines,
}

/// Writes a validation report.
pub struct Report<W: Write> {
    out: W,
    format: ReportFormat,
    errors_only: bool,
    errors: u64,
    flavor: AckFlavor,
}

impl<W: Write> Report<W> {
    /// A report into `out`; with `errors_only`, what is accepted is not
    /// listed.
    pub fn new(out: W, format: ReportFormat, errors_only: bool) -> Self {
        Report {
            out,
            format,
            errors_only,
            errors: 0,
            flavor: AckFlavor::Fa4010,
        }
    }

    /// Problems reported so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The output, to write around the report.
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn place(p: &Position) -> String {
    let mut s = format!(
        "line {}, column {}, byte {}, segment {}",
        p.line, p.column, p.byte, p.segment
    );
    if let Some(n) = p.in_set {
        s.push_str(&format!(", set position {n}"));
    }
    s
}

/// A loop past a maximum that is only noted, for people.
pub fn describe_note(n: &LoopNote) -> String {
    format!(
        "loop {} occurs more than its maximum of {} times, from {}: accepted (a partner overlay \
         with this maximum makes it strict)",
        n.loop_id,
        n.max,
        place(&n.at)
    )
}

fn json_line<W: Write>(out: &mut W, value: serde_json::Value) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

impl<W: Write> Sink for Report<W> {
    fn interchange_start(&mut self, header: &IsaHeader, at: Position) -> io::Result<()> {
        if self.format == ReportFormat::Text && !self.errors_only {
            let (sq, sid) = header.sender();
            let (rq, rid) = header.receiver();
            writeln!(
                self.out,
                "interchange {} {sq}:{sid} -> {rq}:{rid} (version {}), line {}",
                String::from_utf8_lossy(header.control_number()),
                header.version(),
                at.line
            )?;
        }
        Ok(())
    }

    fn group_start(&mut self, group: &GroupHeader) -> io::Result<()> {
        self.flavor = AckFlavor::for_997(group.version());
        if self.format == ReportFormat::Text && !self.errors_only {
            writeln!(
                self.out,
                "  group {} {} ({}), line {}",
                group.functional_id(),
                group.control_number(),
                group.version(),
                group.at.line
            )?;
        }
        Ok(())
    }

    fn set_end(&mut self, group: &GroupHeader, set: &SetOutcome) -> io::Result<()> {
        if !set.accepted() {
            self.errors += 1;
        }
        if self.format == ReportFormat::JsonLines {
            if self.errors_only && set.accepted() {
                return Ok(());
            }
            return json_line(
                &mut self.out,
                serde_json::json!({
                    "kind": "set",
                    "group": group.control_number(),
                    "accepted": set.accepted(),
                    "set": set,
                }),
            );
        }
        if self.errors_only && set.accepted() {
            return Ok(());
        }
        let verdict = if set.accepted() {
            "accepted".to_string()
        } else {
            let mut codes: Vec<&str> = set.set_findings.iter().map(|f| f.error.code()).collect();
            codes.dedup();
            format!("rejected [AK5 R {}]", codes.join(" "))
        };
        if self.errors_only {
            writeln!(
                self.out,
                "group {} {}:",
                group.functional_id(),
                group.control_number()
            )?;
        }
        writeln!(
            self.out,
            "    set {} {}, line {}: {verdict}",
            set.id, set.control_number, set.at.line
        )?;
        for f in &set.segment_findings {
            let in_loop = if f.loop_id.is_empty() {
                String::new()
            } else {
                format!(" in loop {}", f.loop_id)
            };
            let seen = if matches!(
                f.error,
                SegmentError::MandatorySegmentMissing
                    | SegmentError::ImplementationLoopUnderMinimum
                    | SegmentError::ImplementationSegmentUnderMinimum
            ) {
                "found missing at"
            } else {
                "at"
            };
            writeln!(
                self.out,
                "      {}{in_loop} {seen} {}: {} [AK3 {}]",
                f.id,
                place(&f.at),
                f.error.describe(),
                f.error.code(self.flavor)
            )?;
            for e in &f.elements {
                let mut at = format!("{}{:02}", f.id, e.position);
                if let Some(c) = e.component {
                    at.push_str(&format!("-{c:02}"));
                }
                if let Some(r) = e.repetition {
                    at.push_str(&format!(" (repetition {r})"));
                }
                let reference = if e.reference.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.reference)
                };
                let value = if e.value.is_empty() {
                    String::new()
                } else {
                    format!(": {:?}", String::from_utf8_lossy(&e.value))
                };
                writeln!(
                    self.out,
                    "        {at}{reference}: {} [AK4 {}]{value}",
                    e.error.describe(),
                    e.error.code(self.flavor)
                )?;
            }
        }
        if set.dropped_findings > 0 {
            writeln!(
                self.out,
                "      ... and {} more segment errors not shown",
                set.dropped_findings
            )?;
        }
        for n in &set.notes {
            writeln!(self.out, "      note: {}", describe_note(n))?;
        }
        for f in set
            .set_findings
            .iter()
            .filter(|f| f.error != SetError::SegmentsInError)
        {
            writeln!(
                self.out,
                "      {} at {}: {} [AK5 {}]",
                f.detail,
                place(&f.at),
                f.error.describe(),
                f.error.code()
            )?;
        }
        Ok(())
    }

    fn group_end(&mut self, group: &GroupOutcome) -> io::Result<()> {
        let ok = group.findings.is_empty() && group.accepted == group.received;
        if !group.findings.is_empty() {
            self.errors += 1;
        }
        if self.format == ReportFormat::JsonLines {
            if self.errors_only && ok {
                return Ok(());
            }
            return json_line(
                &mut self.out,
                serde_json::json!({ "kind": "group", "accepted": ok, "group": group }),
            );
        }
        if self.errors_only && ok {
            return Ok(());
        }
        writeln!(
            self.out,
            "  group {} {}: {} of {} sets accepted",
            group.header.functional_id(),
            group.header.control_number(),
            group.accepted,
            group.received
        )?;
        for f in &group.findings {
            let code = f
                .error
                .code(self.flavor)
                .map(|c| format!(" [AK9 {c}]"))
                .unwrap_or_default();
            writeln!(
                self.out,
                "    {} at {}: {}{code}",
                f.detail,
                place(&f.at),
                f.error.describe()
            )?;
        }
        Ok(())
    }

    fn interchange_end(&mut self, ix: &InterchangeOutcome) -> io::Result<()> {
        let (verdict, note) = ix.ta1();
        if ix.findings.iter().any(|f| f.severity == Severity::Error) {
            self.errors += 1;
        }
        let number = String::from_utf8_lossy(ix.header.control_number()).into_owned();
        if self.format == ReportFormat::JsonLines {
            if self.errors_only && ix.findings.is_empty() {
                return Ok(());
            }
            return json_line(
                &mut self.out,
                serde_json::json!({
                    "kind": "interchange",
                    "control_number": number,
                    "ta1": format!("{verdict} {note}"),
                    "interchange": ix,
                }),
            );
        }
        if self.errors_only && ix.findings.is_empty() {
            return Ok(());
        }
        let word = match verdict {
            'A' => "accepted",
            'E' => "accepted with notes",
            _ => "rejected",
        };
        writeln!(
            self.out,
            "interchange {number}: {word} [TA1 {verdict} {note}]"
        )?;
        for f in &ix.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "note",
            };
            writeln!(
                self.out,
                "  {level}: {} at {} [TA1 {}]",
                f.detail,
                place(&f.at),
                f.error.code()
            )?;
        }
        Ok(())
    }
}
