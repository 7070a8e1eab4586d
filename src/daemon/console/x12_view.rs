//! A raw X12 file laid out for people: one segment per line, its
//! elements side by side, and what validation found (the envelope
//! checker and the validator of [`crate::x12`], as the gateway ran them)
//! marked at the segment and element it is about. The file is cut into
//! segments by the engine's own lexer; nothing here parses X12 itself.

use std::collections::BTreeMap;

use maud::{Markup, html};

use crate::x12::Position;
use crate::x12::defs::Definitions;
use crate::x12::envelope::{
    CheckOptions, Checker, GroupHeader, GroupOutcome, InterchangeOutcome, SetOutcome, Sink,
};
use crate::x12::lexer::{Lexer, for_each_segment};
use crate::x12::validate::{AckFlavor, SegmentError, SetError};

/// Segments laid out at most; a longer file shows its beginning.
const MAX_SEGMENTS: usize = 5_000;

/// A problem, where validation put it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The element (from 1), when it is about one.
    pub element: Option<usize>,
    /// The component of the element (from 1), when it is about one.
    pub component: Option<usize>,
    /// What is wrong, with the code the acknowledgment gives.
    pub text: String,
}

/// A segment laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its ordinal in the file (from 1).
    pub ordinal: u64,
    /// Its id (`BEG`).
    pub id: String,
    /// Its elements as written, from element 01.
    pub elements: Vec<String>,
    /// What validation found about it.
    pub marks: Vec<Mark>,
}

/// A file laid out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Laid {
    /// The segments shown.
    pub lines: Vec<Line>,
    /// Segments past those shown.
    pub more: u64,
    /// Problems about segments not shown (past the cut).
    pub elsewhere: Vec<(u64, Mark)>,
    /// Why the lexer stopped before the end, if it did.
    pub stopped: Option<String>,
    /// Whether validation ran (a file read whole).
    pub checked: bool,
    /// Whether the bytes are only the file's beginning (a large file).
    pub cut: bool,
    /// The file's element separator, shown between the elements.
    pub separator: char,
}

impl Laid {
    /// Problems found, shown or not.
    pub fn problems(&self) -> usize {
        self.lines.iter().map(|l| l.marks.len()).sum::<usize>() + self.elsewhere.len()
    }
}

/// Collects the checker's findings by segment ordinal.
#[derive(Default)]
struct Marks {
    by_segment: BTreeMap<u64, Vec<Mark>>,
    flavor: Option<AckFlavor>,
}

impl Marks {
    fn add(&mut self, at: Position, mark: Mark) {
        self.by_segment.entry(at.segment).or_default().push(mark);
    }
}

impl Sink for Marks {
    fn group_start(&mut self, group: &GroupHeader) -> std::io::Result<()> {
        self.flavor = Some(AckFlavor::for_997(group.version()));
        Ok(())
    }

    fn set_end(&mut self, _group: &GroupHeader, set: &SetOutcome) -> std::io::Result<()> {
        let flavor = self.flavor.unwrap_or(AckFlavor::Fa4010);
        for f in &set.segment_findings {
            let missing = matches!(
                f.error,
                SegmentError::MandatorySegmentMissing
                    | SegmentError::ImplementationLoopUnderMinimum
                    | SegmentError::ImplementationSegmentUnderMinimum
            );
            let about = if missing {
                format!("{} missing before this segment", f.id)
            } else {
                f.id.to_string()
            };
            self.add(
                f.at,
                Mark {
                    element: None,
                    component: None,
                    text: format!(
                        "{about}: {} [AK3 {}]",
                        f.error.describe(),
                        f.error.code(flavor)
                    ),
                },
            );
            for e in &f.elements {
                let mut place = format!("{}{:02}", f.id, e.position);
                if let Some(c) = e.component {
                    place.push_str(&format!("-{c:02}"));
                }
                let value = if e.value.is_empty() {
                    String::new()
                } else {
                    format!(": {:?}", String::from_utf8_lossy(&e.value))
                };
                self.add(
                    f.at,
                    Mark {
                        element: (!missing).then_some(e.position),
                        component: e.component,
                        text: format!(
                            "{place}: {} [AK4 {}]{value}",
                            e.error.describe(),
                            e.error.code(flavor)
                        ),
                    },
                );
            }
        }
        if set.dropped_findings > 0 {
            self.add(
                set.at,
                Mark {
                    element: None,
                    component: None,
                    text: format!(
                        "… and {} more segment errors in this set not shown",
                        set.dropped_findings
                    ),
                },
            );
        }
        for f in set
            .set_findings
            .iter()
            .filter(|f| f.error != SetError::SegmentsInError)
        {
            self.add(
                f.at,
                Mark {
                    element: None,
                    component: None,
                    text: format!(
                        "{}: {} [AK5 {}]",
                        f.detail,
                        f.error.describe(),
                        f.error.code()
                    ),
                },
            );
        }
        Ok(())
    }

    fn group_end(&mut self, group: &GroupOutcome) -> std::io::Result<()> {
        let flavor = self.flavor.unwrap_or(AckFlavor::Fa4010);
        for f in &group.findings {
            let code = f
                .error
                .code(flavor)
                .map(|c| format!(" [AK9 {c}]"))
                .unwrap_or_default();
            self.add(
                f.at,
                Mark {
                    element: None,
                    component: None,
                    text: format!("{}: {}{code}", f.detail, f.error.describe()),
                },
            );
        }
        Ok(())
    }

    fn interchange_end(&mut self, interchange: &InterchangeOutcome) -> std::io::Result<()> {
        for f in &interchange.findings {
            self.add(
                f.at,
                Mark {
                    element: None,
                    component: None,
                    text: format!("{} [TA1 {}]", f.detail, f.error.code()),
                },
            );
        }
        Ok(())
    }
}

/// Lays out the X12 in `bytes` (a fixed-record file unwrapped first),
/// with what validation finds when `check` (the bytes are the whole
/// file; a cut file would only show its cut).
pub fn lay_out(bytes: &[u8], check: bool) -> Laid {
    let unwrapped = unwrapped(bytes);
    let bytes = unwrapped.as_deref().unwrap_or(bytes);
    let mut laid = Laid {
        checked: check,
        separator: '*',
        ..Laid::default()
    };
    let mut marks = Marks::default();
    let mut checker = if check {
        Checker::new(Definitions::embedded(), &CheckOptions::default()).ok()
    } else {
        None
    };
    let mut lexer = Lexer::default();
    let read = for_each_segment(bytes, &mut lexer, |segment, header, style| {
        if laid.lines.is_empty() {
            laid.separator = char::from(segment.delimiters().element());
        }
        if laid.lines.len() < MAX_SEGMENTS {
            laid.lines.push(Line {
                ordinal: segment.position().segment,
                id: String::from_utf8_lossy(segment.id_bytes()).into_owned(),
                elements: segment
                    .elements()
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect(),
                marks: Vec::new(),
            });
        } else {
            laid.more += 1;
        }
        match &mut checker {
            Some(c) => {
                c.set_line_style(style);
                c.feed(&segment, header, &mut marks)
            }
            None => Ok(()),
        }
    });
    if let Err(e) = &read {
        laid.stopped = Some(e.to_string());
    }
    if let Some(c) = &mut checker {
        let _ = match &read {
            Err(e) => c.abort(e, &mut marks),
            Ok(()) => {
                c.set_line_style(lexer.line_style());
                c.finish(lexer.next_position(), &mut marks)
                    .map(|_| ())
                    .or(Ok(()))
            }
        };
    }
    for (segment, found) in marks.by_segment {
        match laid.lines.iter_mut().find(|l| l.ordinal == segment) {
            Some(line) => line.marks.extend(found),
            None => laid
                .elsewhere
                .extend(found.into_iter().map(|m| (segment, m))),
        }
    }
    laid
}

/// The bytes of a fixed-record ("wrapped") file without its line breaks,
/// as the gateway reads it; `None` for any other.
fn unwrapped(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut input = crate::x12::unwrap::Unwrap::new(bytes).ok()?;
    input.wrapped_width()?;
    let mut out = Vec::with_capacity(bytes.len());
    std::io::Read::read_to_end(&mut input, &mut out).ok()?;
    Some(out)
}

/// Whether an interchange, group or set of the X12 in `bytes` has the
/// control number `wanted` (ISA13, GS06 or ST02; leading zeros do not
/// count).
pub fn holds_control_number(bytes: &[u8], wanted: &str) -> bool {
    let wanted = wanted.trim().trim_start_matches('0');
    if wanted.is_empty() {
        return false;
    }
    let unwrapped = unwrapped(bytes);
    let bytes = unwrapped.as_deref().unwrap_or(bytes);
    let mut found = false;
    let mut lexer = Lexer::default();
    let _ = for_each_segment(bytes, &mut lexer, |segment, _, _| {
        let n = if segment.is(b"ISA") {
            13
        } else if segment.is(b"GS") {
            6
        } else if segment.is(b"ST") {
            2
        } else {
            return Ok(());
        };
        found |= segment.text(n).trim_start_matches('0') == wanted;
        Ok(())
    });
    found
}

/// The segments laid out, each with its marks; `data-segment` is its
/// ordinal, `data-element` an element's number.
pub fn render(laid: &Laid) -> Markup {
    html! {
        @if let Some(stopped) = &laid.stopped {
            p .problems data-x12-stopped="" { "The file could not be read to its end: " (stopped) }
        }
        @if laid.cut {
            p .note { "Only the beginning of this large file is shown, and it is not checked here (dropgate x12 validate checks it whole)." }
        } @else if !laid.checked {
        } @else if laid.problems() == 0 && laid.stopped.is_none() {
            p .note data-x12-clean="" { "Validation found nothing wrong." }
        } @else {
            p .problems data-x12-problems=(laid.problems()) { (laid.problems()) " problem(s) found, marked at their place." }
        }
        ol .x12 {
            @for line in &laid.lines {
                @let marked: Vec<usize> = line.marks.iter().filter_map(|m| m.element).collect();
                li .error[!line.marks.is_empty()] id={ "seg-" (line.ordinal) } data-segment=(line.ordinal) {
                    span .n { (line.ordinal) }
                    span .id { (line.id) }
                    @for (i, element) in line.elements.iter().enumerate() {
                        span .sep { (laid.separator) }
                        span .el .error[marked.contains(&(i + 1))] data-element=(i + 1) title={ (line.id) (format!("{:02}", i + 1)) } { (element) }
                    }
                    @if !line.marks.is_empty() {
                        ul .marks {
                            @for mark in &line.marks {
                                li data-mark-element=[mark.element] { (mark.text) }
                            }
                        }
                    }
                }
            }
        }
        @if laid.more > 0 {
            p .note { "… " (laid.more) " more segment(s) not shown." }
        }
        @if !laid.elsewhere.is_empty() {
            h3 { "Problems past the segments shown" }
            ul .problems {
                @for (segment, mark) in &laid.elsewhere {
                    li { "segment " (segment) ": " (mark.text) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "ISA*00*          *00*          *ZZ*ACME           *ZZ*RETAILER       *240101*1200*U*00401*000000905*0*P*>~GS*PO*ACME*RETAILER*20240101*1200*905*X*004010~ST*850*0001~BEG*00*SA*4711**20240101~PO1*1*2*EA*9.5**VP*SKU1~CTT*1~SE*5*0001~GE*1*905~IEA*1*000000905~";

    #[test]
    fn segments_are_laid_out_one_per_line() {
        let laid = lay_out(GOOD.as_bytes(), true);
        assert_eq!(laid.lines.len(), 9);
        assert_eq!(laid.lines[3].id, "BEG");
        assert_eq!(laid.lines[3].elements, ["00", "SA", "4711", "", "20240101"]);
        assert_eq!(laid.problems(), 0, "{laid:?}");
    }

    #[test]
    fn an_error_is_marked_at_its_segment_and_element() {
        // BEG05 is not a date.
        let bad = GOOD.replace("4711**20240101", "4711**20241399");
        let laid = lay_out(bad.as_bytes(), true);
        let beg = &laid.lines[3];
        assert_eq!(beg.id, "BEG");
        assert!(
            beg.marks
                .iter()
                .any(|m| m.element == Some(5) && m.text.starts_with("BEG05")),
            "{laid:?}"
        );
        assert!(laid.lines[4].marks.is_empty());
        let page = render(&laid).into_string();
        assert!(
            page.contains(r#"<li class="error" id="seg-4" data-segment="4">"#),
            "{page}"
        );
        assert!(
            page.contains(r#"class="el error" data-element="5""#),
            "{page}"
        );
    }

    #[test]
    fn the_files_own_separator_is_shown() {
        let laid = lay_out(GOOD.replace('*', "|").as_bytes(), true);
        assert_eq!(laid.separator, '|');
        assert_eq!(laid.lines[3].elements[2], "4711");
        assert!(
            render(&laid)
                .into_string()
                .contains(r#"<span class="sep">|</span>"#)
        );
    }

    #[test]
    fn text_is_escaped() {
        let evil = GOOD.replace("SKU1", "<script>alert(1)</script>");
        let page = render(&lay_out(evil.as_bytes(), true)).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }

    #[test]
    fn control_numbers_are_found_in_any_envelope() {
        assert!(holds_control_number(GOOD.as_bytes(), "905"));
        assert!(holds_control_number(GOOD.as_bytes(), "000000905"));
        assert!(holds_control_number(GOOD.as_bytes(), "0001"));
        assert!(!holds_control_number(GOOD.as_bytes(), "906"));
        assert!(!holds_control_number(GOOD.as_bytes(), "000"));
    }
}
