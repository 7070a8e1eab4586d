//! Translating one input file to canonical documents: detects the format,
//! picks the decoder and the mappings, and writes JSON. What `dropgate
//! translate`, `mapping test` and `mapping explain` share.

use std::io::{BufReader, Read, Write};

use crate::format::sniff::{self, sniff};
use crate::format::{Flavor, Tree, csv as csv_format, x12 as x12_format, xml as xml_format};
use crate::x12::SegmentReader;
use crate::x12::defs::Definitions;
use crate::x12::envelope::{CheckOptions, Checker};
use crate::x12::unwrap::Unwrap;

use std::rc::Rc;

use super::MappingError;
use super::gate;
use super::hold::Held;
use super::inbound::{Choice, OutputMode, Problem, Trace, Translator};
use super::library::{Direction, Library, Loaded};

/// What to translate with.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The input's name (for messages and `source.file_name`).
    pub file_name: String,
    /// The format, or `None` to detect it.
    pub flavor: Option<Flavor>,
    /// A mapping by name or path.
    pub mapping: Option<String>,
    /// The partner (its mappings first; `source.partner`).
    pub partner: Option<String>,
    /// Output mode.
    pub lines: bool,
    /// Record which rule made each value.
    pub explain: bool,
    /// Partner overlays (implementation guides) laid over the standard X12
    /// sets while validating, e.g. to lift a loop maximum that a partner's
    /// full-catalogue 846 goes past.
    pub overlays: Vec<crate::x12::defs::Overlay>,
    /// Map every CSV record through the tree, never from its fields (see
    /// [`super::rows`]), and every value the general way (paths by the
    /// general walk, values through all of their rule's transforms): the
    /// reference the fast paths are tested against.
    pub tree_only: bool,
    /// Where a streamed X12 document waits for its set's verdict once it
    /// is past 4 MB (see [`super::hold`]): the system's temporary folder
    /// when `None`.
    pub hold_dir: Option<std::path::PathBuf>,
    /// Hold X12 documents until their interchange is judged, and drop
    /// those of a rejected group or interchange ([`super::gate`]): for
    /// output people read. The gateway keeps them all and relays the
    /// accepted ones by number (`Outcome::untrusted`).
    pub hold_envelopes: bool,
    /// Write the X12 acknowledgments in the same pass, with these options
    /// and placeholder control numbers ([`crate::x12::renumber`]): the
    /// gateway's one read of a file gives its documents and its 997s.
    pub acknowledge: Option<crate::x12::ack::AckOptions>,
    /// A PDF's pages, read by the caller (the text layer, and OCR of the
    /// pages without one): the input is then these, not the bytes, and
    /// its invoices are read by a PDF mapping ([`translate_pdf`]).
    pub pdf_pages: Option<Vec<crate::format::pdf::Page>>,
}

/// What a translation did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Documents written.
    pub documents: u64,
    /// Documents that could not be made, and why.
    pub problems: Vec<Problem>,
    /// With `explain`: each value and its rule.
    pub traces: Vec<Trace>,
    /// What the X12 envelopes noted without rejecting anything (a TA1 `E`
    /// note): worth a line on stderr, not a failure.
    pub warnings: Vec<String>,
    /// CSV records mapped straight from their fields, without a tree (see
    /// [`super::rows`]).
    pub rows_from_fields: u64,
    /// Documents written that must not be used, by their numbers in the
    /// output (0 is the first): those of sets with a problem, and of
    /// rejected groups and interchanges. Disjoint, in order.
    pub untrusted: Vec<std::ops::Range<u64>>,
    /// With [`Request::acknowledge`], for X12: the acknowledgments,
    /// numbered with placeholders.
    pub acknowledgment: Option<Unnumbered>,
}

/// Acknowledgments written with placeholder control numbers.
#[derive(Debug, Default)]
pub struct Unnumbered {
    /// Their bytes.
    pub bytes: Vec<u8>,
    /// What they hold.
    pub summary: crate::x12::ack::AckSummary,
    /// How many interchange and group numbers they took.
    pub numbers: crate::x12::renumber::Placeholders,
}

impl Outcome {
    /// Whether every problem is a rejection by the X12 envelope or
    /// validation (the partner sends those sets again), none the
    /// mapping's, and some documents remain: those can be used.
    pub fn partly_accepted(&self) -> bool {
        !self.problems.is_empty() && self.problems.iter().all(|p| p.rejected) && self.accepted() > 0
    }

    /// How many documents can be used: those written and not untrusted.
    pub fn accepted(&self) -> u64 {
        let covered: u64 = self.untrusted.iter().map(|r| r.end - r.start).sum();
        self.documents.saturating_sub(covered)
    }
}

/// Collects what the X12 envelope checker finds about interchanges and
/// groups: a rejected interchange (TA1 `R`) or a group in error is a
/// problem even when every set in it mapped, since the sender is told to
/// send it again.
struct EnvelopeNotes<'a, W> {
    file: &'a str,
    problems: Vec<Problem>,
    warnings: Vec<String>,
    /// ISA13 of the interchange being read.
    interchange: Option<String>,
    /// Rejected envelopes: an interchange (no group) or one group of it.
    rejected: Vec<(Option<String>, Option<String>)>,
    /// The gate documents wait behind until their interchange's verdict
    /// (see [`Request::hold_envelopes`]).
    gate: Option<gate::Shared<W>>,
}

/// A control number as the decoder puts it in a document's origin.
fn control_number(text: &[u8]) -> Option<String> {
    Some(String::from_utf8_lossy(text).trim().to_string()).filter(|s| !s.is_empty())
}

impl<W: Write> crate::x12::envelope::Sink for EnvelopeNotes<'_, W> {
    fn interchange_start(
        &mut self,
        header: &crate::x12::isa::IsaHeader,
        _at: crate::x12::position::Position,
    ) -> std::io::Result<()> {
        self.interchange = control_number(header.control_number());
        if let Some(g) = &self.gate {
            g.borrow_mut().interchange_start()?;
        }
        Ok(())
    }

    fn group_start(&mut self, _header: &crate::x12::envelope::GroupHeader) -> std::io::Result<()> {
        if let Some(g) = &self.gate {
            g.borrow_mut().group_start()?;
        }
        Ok(())
    }

    fn set_end(
        &mut self,
        _group: &crate::x12::envelope::GroupHeader,
        set: &crate::x12::envelope::SetOutcome,
    ) -> std::io::Result<()> {
        for n in &set.notes {
            self.warnings.push(format!(
                "{}: set {} {}: note: {}",
                self.file,
                set.id,
                set.control_number,
                crate::x12::report::describe_note(n)
            ));
        }
        Ok(())
    }

    fn group_end(&mut self, group: &crate::x12::envelope::GroupOutcome) -> std::io::Result<()> {
        if group.findings.is_empty() {
            return Ok(());
        }
        if let Some(g) = &self.gate {
            g.borrow_mut().group_rejected()?;
        }
        self.rejected.push((
            self.interchange.clone(),
            control_number(group.header.control_number().as_bytes()),
        ));
        self.problems.push(Problem {
            rejected: true,
            file: self.file.to_string(),
            document: Some(format!(
                "group {} {}",
                group.header.functional_id(),
                group.header.control_number()
            )),
            messages: std::iter::once(
                "the group is rejected [AK9 R]; its documents should not be used".to_string(),
            )
            .chain(group.findings.iter().map(|f| {
                format!(
                    "{}: {} (line {}, column {})",
                    f.detail,
                    f.error.describe(),
                    f.at.line,
                    f.at.column
                )
            }))
            .collect(),
        });
        Ok(())
    }

    fn interchange_end(
        &mut self,
        ix: &crate::x12::envelope::InterchangeOutcome,
    ) -> std::io::Result<()> {
        use crate::x12::validate::Severity;
        let (verdict, code) = ix.ta1();
        if let Some(g) = &self.gate {
            g.borrow_mut().interchange_end(verdict == 'R')?;
        }
        let number = String::from_utf8_lossy(ix.header.control_number()).into_owned();
        let line = |f: &crate::x12::validate::InterchangeFinding| {
            format!(
                "{} (line {}, column {}) [TA1 {}]",
                f.detail,
                f.at.line,
                f.at.column,
                f.error.code()
            )
        };
        if verdict == 'R' {
            let mut messages = vec![format!(
                "the interchange is rejected [TA1 R {code}]; its documents should not be used"
            )];
            messages.extend(ix.findings.iter().map(line));
            self.rejected
                .push((control_number(ix.header.control_number()), None));
            self.problems.push(Problem {
                rejected: true,
                file: self.file.to_string(),
                document: Some(format!("interchange {number}")),
                messages,
            });
        } else {
            for f in ix
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
            {
                self.warnings.push(format!(
                    "{}: interchange {number}: note: {}",
                    self.file,
                    line(f)
                ));
            }
        }
        Ok(())
    }
}

/// Why the input could not be translated at all.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// The input cannot be read as its format.
    #[error("{0}")]
    Input(String),
    /// The mapping is wrong or missing.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// Writing the output failed.
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
}

/// Guesses a format from the first bytes (delimited text when nothing
/// else fits; see [`sniff`] for what no decoder reads).
pub fn detect(head: &[u8]) -> Flavor {
    sniff(head, false).flavor().unwrap_or(Flavor::Csv)
}

/// The first bytes of `input`, read (up to [`sniff::HEAD`]) to tell what
/// it is, and the input whole again.
fn head_of<R: Read>(mut input: R, file: &str) -> Result<(Vec<u8>, impl Read), TranslateError> {
    let mut head = Vec::with_capacity(sniff::HEAD);
    (&mut input)
        .take(sniff::HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| TranslateError::Input(format!("{file}: cannot read: {e}")))?;
    Ok((head.clone(), std::io::Cursor::new(head).chain(input)))
}

/// Translates `input` to canonical JSON on `out`.
pub fn translate<R: Read, W: Write>(
    input: R,
    request: &Request,
    library: &Library,
    defs: &Definitions,
    out: W,
) -> Result<(Outcome, W), TranslateError> {
    if let Some(pages) = &request.pdf_pages {
        return translate_pdf(pages, request, library, out);
    }
    let (head, input) = head_of(input, &request.file_name)?;
    let content = sniff(&head, head.len() < sniff::HEAD);
    let workbook = content.is_workbook();
    if !content.is_text() && !workbook {
        return Err(TranslateError::Input(format!(
            "{}: {}",
            request.file_name,
            content.refusal()
        )));
    }
    let sniffed = match workbook {
        true => Flavor::Xlsx,
        false => content.flavor().unwrap_or(Flavor::Csv),
    };
    if sniffed == Flavor::Json
        && request.mapping.is_none()
        && request.partner.is_none()
        && request.flavor.is_none()
    {
        return Err(TranslateError::Input(format!(
            "{}: {}; a vendor's JSON feed is read with --mapping or --partner (canonical JSON is rendered with `dropgate render`)",
            request.file_name,
            content.describe()
        )));
    }
    let input = BufReader::with_capacity(1 << 16, input);
    let fixed: Option<Loaded> = match (&request.mapping, &request.partner) {
        (Some(m), _) => Some(library.load(m)?),
        (None, Some(p)) if sniffed != Flavor::X12 => Some(
            partner_mapping(library, p, request.flavor, sniffed).map_err(|e| match e {
                // Said as what the file is: no mapping reads it.
                MappingError::NotFound(why) if workbook => TranslateError::Input(format!(
                    "{}: {}; {why}",
                    request.file_name,
                    content.refusal()
                )),
                other => TranslateError::Mapping(other),
            })?,
        ),
        _ => None,
    };
    let flavor = request
        .flavor
        .or(fixed.as_ref().map(|l| l.header.flavor))
        .unwrap_or(sniffed);
    if workbook && (flavor != Flavor::Xlsx || fixed.is_none()) {
        return Err(TranslateError::Input(format!(
            "{}: {}",
            request.file_name,
            content.refusal()
        )));
    }
    if let Some(l) = &fixed
        && l.header.flavor != flavor
    {
        return Err(TranslateError::Mapping(MappingError::NotFound(format!(
            "mapping {} reads {}, and the input is {}",
            l.name,
            super::library::flavor_name(l.header.flavor),
            super::library::flavor_name(flavor)
        ))));
    }
    if flavor != Flavor::X12 && fixed.is_none() {
        return Err(TranslateError::Mapping(MappingError::NotFound(format!(
            "{}: a {} feed needs --mapping or --partner (X12 has built-in mappings)",
            request.file_name,
            super::library::flavor_name(flavor)
        ))));
    }
    let csv_options = fixed
        .as_ref()
        .map(|l| l.header.csv.clone())
        .unwrap_or_default();
    let xlsx_options = fixed
        .as_ref()
        .map(|l| l.header.xlsx.clone())
        .unwrap_or_default();
    let layout = fixed
        .as_ref()
        .map(|l| l.header.fixed.clone())
        .unwrap_or_default();
    let xml_options = fixed
        .as_ref()
        .map(|l| l.header.xml.clone())
        .unwrap_or_default();
    let choice = match fixed {
        Some(l) => Choice::Fixed(Box::new(l)),
        None => Choice::ByPartner(request.partner.clone()),
    };
    // X12 documents wait behind the gate, when asked, until their
    // interchange is judged; the gate frames them as the array.
    let (gate, mode, writer) = if request.hold_envelopes && flavor == Flavor::X12 {
        let held = match &request.hold_dir {
            Some(dir) => Held::default().in_dir(dir.clone()),
            None => Held::default(),
        };
        let g = gate::Gate::new(out, !request.lines, held);
        let intake = Out::Gated(gate::Intake(Rc::clone(&g)));
        (Some(g), OutputMode::Lines, intake)
    } else if request.lines {
        (None, OutputMode::Lines, Out::Direct(out))
    } else {
        (None, OutputMode::Array, Out::Direct(out))
    };
    let mut translator = translator_for(library, choice, request, writer, mode);
    let mut tree = Tree::new(flavor);
    let name = request.file_name.as_str();
    let mut envelope = EnvelopeNotes {
        file: name,
        problems: Vec::new(),
        warnings: Vec::new(),
        interchange: None,
        rejected: Vec::new(),
        gate: gate.as_ref().map(Rc::clone),
    };
    let mut acknowledgment = None;
    let decoded: Result<(), TranslateError> = match flavor {
        Flavor::X12 => {
            let input = Unwrap::new(input)?;
            if let Some(width) = input.wrapped_width() {
                envelope.warnings.push(format!(
                    "{name}: note: the file is wrapped in lines of {width} characters \
                     (fixed-record X12); its line breaks are removed, and places count \
                     in the unwrapped text"
                ));
            }
            let mut reader = SegmentReader::new(input);
            let options = CheckOptions {
                overlays: request.overlays.clone(),
                ..CheckOptions::default()
            };
            let mut checker =
                Checker::new(defs, &options).map_err(|e| TranslateError::Input(e.to_string()))?;
            let mut numbers = crate::x12::renumber::Placeholders::default();
            let mut acks = request
                .acknowledge
                .clone()
                .map(|o| crate::x12::ack::AckWriter::new(Vec::new(), o, &mut numbers));
            let r = match &mut acks {
                Some(acks) => x12_format::decode(
                    &mut reader,
                    name,
                    &mut checker,
                    &mut tree,
                    &mut translator,
                    &mut crate::x12::envelope::Both(&mut envelope, acks),
                ),
                None => x12_format::decode(
                    &mut reader,
                    name,
                    &mut checker,
                    &mut tree,
                    &mut translator,
                    &mut envelope,
                ),
            };
            if let Some(acks) = acks {
                let summary = acks.summary();
                let bytes = acks.into_inner().map_err(TranslateError::Output)?;
                acknowledgment = Some(Unnumbered {
                    bytes,
                    summary,
                    numbers,
                });
            }
            r.map(|_| ()).map_err(|e| match e {
                x12_format::X12DecodeError::Sink(s) => sink_error(s),
                other => TranslateError::Input(other.to_string()),
            })
        }
        Flavor::Csv => csv_format::decode(input, name, &csv_options, &mut tree, &mut translator)
            .map(|_| ())
            .map_err(|e| match e {
                csv_format::CsvError::Sink(s) => sink_error(s),
                other => TranslateError::Input(other.to_string()),
            }),
        Flavor::Xml => xml_format::decode(input, name, &xml_options, &mut tree, &mut translator)
            .map(|_| ())
            .map_err(|e| match e {
                xml_format::XmlError::Sink(s) => sink_error(s),
                other => TranslateError::Input(other.to_string()),
            }),
        Flavor::Json => crate::format::json::decode(input, name, &mut tree, &mut translator)
            .map_err(|e| match e {
                crate::format::json::JsonError::Sink(s) => sink_error(s),
                other => TranslateError::Input(other.to_string()),
            }),
        Flavor::Xlsx => {
            crate::format::xlsx::decode(input, name, &xlsx_options, &mut tree, &mut translator)
                .map(|_| ())
                .map_err(|e| match e {
                    crate::format::xlsx::WorkbookError::Sink(s) => sink_error(s),
                    other => TranslateError::Input(other.to_string()),
                })
        }
        Flavor::Fixed => {
            crate::format::fixed::decode(input, name, &layout, &mut tree, &mut translator)
                .map(|_| ())
                .map_err(|e| match e {
                    crate::format::fixed::FixedError::Sink(s) => sink_error(s),
                    other => TranslateError::Input(other.to_string()),
                })
        }
        Flavor::Pdf => Err(TranslateError::Input(format!(
            "{name}: a PDF is read into pages first (dropgate translate and the gateway do)"
        ))),
    };
    let mut problems = std::mem::take(&mut translator.problems);
    envelope.warnings.append(&mut translator.warnings);
    problems.append(&mut envelope.problems);
    let traces = translator.trace.take().unwrap_or_default();
    let documents = translator.written();
    let rows_from_fields = translator.rows_from_fields();
    let mut untrusted = std::mem::take(&mut translator.untrusted);
    for span in &translator.spans {
        let in_rejected = envelope.rejected.iter().any(|(ix, group)| {
            *ix == span.interchange && (group.is_none() || *group == span.group)
        });
        if in_rejected {
            untrusted.push(span.documents.clone());
        }
    }
    untrusted.sort_by_key(|r| r.start);
    // Disjoint, in order.
    let mut merged: Vec<std::ops::Range<u64>> = Vec::with_capacity(untrusted.len());
    for r in untrusted {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let untrusted = merged;
    let out = match translator.finish()? {
        Out::Direct(out) => out,
        Out::Gated(intake) => {
            drop(intake);
            envelope.gate = None;
            let gate = gate.and_then(|g| Rc::try_unwrap(g).ok()).ok_or_else(|| {
                TranslateError::Output(std::io::Error::other("the gate is shared"))
            })?;
            gate.into_inner().finish()?
        }
    };
    decoded?;
    Ok((
        Outcome {
            documents,
            problems,
            traces,
            warnings: envelope.warnings,
            rows_from_fields,
            untrusted,
            acknowledgment,
        },
        out,
    ))
}

/// The partner's inbound mapping for an input that sniffed as `sniffed`
/// (or that the request says is `flavor`): text may be a CSV feed or a
/// fixed-width file, whichever mapping the partner has.
pub fn partner_mapping(
    library: &Library,
    partner: &str,
    flavor: Option<Flavor>,
    sniffed: Flavor,
) -> Result<Loaded, MappingError> {
    if let Some(f) = flavor {
        return library.for_partner(partner, Direction::Inbound, Some(f));
    }
    match library.for_partner(partner, Direction::Inbound, Some(sniffed)) {
        Err(MappingError::NotFound(e)) if sniffed == Flavor::Csv => library
            .for_partner(partner, Direction::Inbound, Some(Flavor::Fixed))
            .map_err(|_| MappingError::NotFound(e)),
        other => other,
    }
}

/// The translator of `request`, writing to `writer`.
fn translator_for<'l, W: Write>(
    library: &'l Library,
    choice: Choice,
    request: &Request,
    writer: Out<W>,
    mode: OutputMode,
) -> Translator<'l, Out<W>> {
    let mut translator = Translator::new(library, choice, request.partner.clone(), writer, mode);
    if request.explain {
        translator.trace = Some(Vec::new());
    }
    translator.set_rows(!request.tree_only);
    translator.set_reference(request.tree_only);
    if let Some(dir) = &request.hold_dir {
        translator.hold_in(dir.clone());
    }
    translator
}

/// Translates the invoices of a PDF read into `pages`: with the mapping
/// the request names, else the first PDF mapping of the partner (of any
/// partner, when none is given) whose keywords the text has.
pub fn translate_pdf<W: Write>(
    pages: &[crate::format::pdf::Page],
    request: &Request,
    library: &Library,
    out: W,
) -> Result<(Outcome, W), TranslateError> {
    let name = request.file_name.as_str();
    let chosen = pdf_template(
        pages,
        request.mapping.as_deref(),
        request.partner.as_deref(),
        library,
    )?;
    let Some((loaded, template)) = chosen else {
        return translate_without_template(pages, request, library, out);
    };
    let mode = match request.lines {
        true => OutputMode::Lines,
        false => OutputMode::Array,
    };
    let choice = Choice::Fixed(Box::new(loaded));
    let mut translator = translator_for(library, choice, request, Out::Direct(out), mode);
    let mut tree = Tree::new(Flavor::Pdf);
    let decoded =
        crate::format::pdf::decode::decode(pages, &template, name, &mut tree, &mut translator)
            .map_err(sink_error);
    let problems = std::mem::take(&mut translator.problems);
    let warnings = std::mem::take(&mut translator.warnings);
    let traces = translator.trace.take().unwrap_or_default();
    let documents = translator.written();
    let rows_from_fields = translator.rows_from_fields();
    let out = match translator.finish()? {
        Out::Direct(out) => out,
        Out::Gated(_) => {
            return Err(TranslateError::Output(std::io::Error::other(
                "a PDF's invoices are not gated",
            )));
        }
    };
    decoded?;
    Ok((
        Outcome {
            documents,
            problems,
            traces,
            warnings,
            rows_from_fields,
            untrusted: Vec::new(),
            acknowledgment: None,
        },
        out,
    ))
}

/// The template a PDF's pages are read with: the mapping `mapping`
/// names (which must be a PDF mapping), else the first PDF mapping of
/// `partner` (of any partner, when none is given) whose keywords the text
/// has; `None` when no template matches. The template is named after its
/// mapping.
pub fn pdf_template(
    pages: &[crate::format::pdf::Page],
    mapping: Option<&str>,
    partner: Option<&str>,
    library: &Library,
) -> Result<Option<(Loaded, crate::format::pdf::template::Template)>, TranslateError> {
    let loaded = match mapping {
        Some(m) => library.load(m)?,
        None => {
            let text = crate::format::pdf::template::folded_text(pages);
            let chosen = library
                .pdf_mappings(partner)?
                .into_iter()
                .find(|l| l.header.pdf.matches(&text));
            match chosen {
                Some(l) => l,
                None => return Ok(None),
            }
        }
    };
    if loaded.header.flavor != Flavor::Pdf {
        return Err(TranslateError::Mapping(MappingError::NotFound(format!(
            "mapping {} reads {}, and the input is a PDF",
            loaded.name,
            super::library::flavor_name(loaded.header.flavor)
        ))));
    }
    let template = crate::format::pdf::template::Template {
        name: loaded.name.clone(),
        ..loaded.header.pdf.clone()
    };
    Ok(Some((loaded, template)))
}

/// Translates the invoices of a PDF that no template matches: one invoice
/// read by [`super::generic`], or a problem saying what was found and what
/// did not add up.
fn translate_without_template<W: Write>(
    pages: &[crate::format::pdf::Page],
    request: &Request,
    library: &Library,
    out: W,
) -> Result<(Outcome, W), TranslateError> {
    let name = request.file_name.as_str();
    let mode = match request.lines {
        true => OutputMode::Lines,
        false => OutputMode::Array,
    };
    let choice = Choice::ByPartner(request.partner.clone());
    let mut translator = translator_for(library, choice, request, Out::Direct(out), mode);
    let origin = crate::format::Origin {
        flavor: Flavor::Pdf,
        file_name: Some(name.to_string()),
        ..crate::format::Origin::default()
    };
    let mut problems = Vec::new();
    let invoices = super::generic::extract_all(pages);
    let several = invoices.len() > 1;
    for (n, read) in invoices.into_iter().enumerate() {
        match read {
            Ok(mut invoice) => {
                invoice.source.partner = request.partner.clone();
                invoice.source.file_name = Some(super::inbound::base_name(name).to_string());
                let json = serde_json::to_vec(&crate::model::Document::Invoice(invoice))
                    .map_err(|e| TranslateError::Output(std::io::Error::other(e)))?;
                translator
                    .write_made(&origin, &json)
                    .map_err(TranslateError::Output)?;
            }
            Err(unsure) => problems.push(Problem {
                file: name.to_string(),
                document: several.then(|| format!("invoice {} of the file", n + 1)),
                messages: std::iter::once(unsure.to_string()).collect(),
                rejected: false,
            }),
        }
    }
    let documents = translator.written();
    let out = match translator.finish()? {
        Out::Direct(out) => out,
        Out::Gated(_) => {
            return Err(TranslateError::Output(std::io::Error::other(
                "a PDF's invoices are not gated",
            )));
        }
    };
    Ok((
        Outcome {
            documents,
            problems,
            ..Outcome::default()
        },
        out,
    ))
}

/// Where the translator writes: the output itself, or the gate in front
/// of it.
enum Out<W: Write> {
    Direct(W),
    Gated(gate::Intake<W>),
}

impl<W: Write> super::hold::Output for Out<W> {
    fn release(&mut self, held: &mut Held) -> std::io::Result<()> {
        match self {
            Out::Direct(w) => held.release(w),
            Out::Gated(g) => g.release(held),
        }
    }
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::Direct(w) => w.write(buf),
            Out::Gated(g) => g.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Direct(w) => w.write_all(buf),
            Out::Gated(g) => g.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Direct(w) => w.flush(),
            Out::Gated(g) => g.flush(),
        }
    }
}

fn sink_error(e: crate::format::SinkError) -> TranslateError {
    match e.downcast::<MappingError>() {
        Ok(m) => TranslateError::Mapping(*m),
        Err(e) => match e.downcast::<std::io::Error>() {
            Ok(io) => TranslateError::Output(*io),
            Err(other) => TranslateError::Input(other.to_string()),
        },
    }
}
