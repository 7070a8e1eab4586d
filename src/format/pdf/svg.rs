//! `svg`: a PDF's pages drawn as one SVG picture, for a person writing a
//! template (`dropgate pdf inspect`): the pages stacked top to bottom,
//! each at its size in points, with its frame, its ruling lines, each
//! word's box with its text in small letters, and over them the marks a
//! caller gives (what a template or extraction found: values, the labels
//! they were found from, regions, a table's header, columns and rows), and
//! a legend above the pages (what was not found, and why).
//!
//! Inside a page's group (`<g class="page" data-page="N">`) the
//! coordinates are the page's own ([`Page`]'s: points from its top left),
//! so a box in the picture has the numbers `dropgate pdf words` prints.
//! Each mark is an element with the class of its [`MarkKind`] and its
//! label in `data-label`, for tools that read the picture.

use std::fmt::Write as _;

use super::page::{Page, Rect, TextSource};

/// What a mark shows; each kind has its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A value found: its box, labelled with its name.
    Value,
    /// The label a value was found from.
    Anchor,
    /// A page region a value is looked for in.
    Region,
    /// A table's header row.
    Header,
    /// A column boundary of a table: a vertical line from the rect's top
    /// to its bottom at its left edge, labelled with the column right of
    /// it.
    Column,
    /// A table row: its box, labelled with its number.
    Row,
    /// Where an invoice starts: a line across the page above the rect.
    Start,
    /// The line that ends a table.
    End,
}

impl MarkKind {
    /// The element's class.
    pub fn class(self) -> &'static str {
        match self {
            MarkKind::Value => "value",
            MarkKind::Anchor => "anchor",
            MarkKind::Region => "region",
            MarkKind::Header => "header",
            MarkKind::Column => "column",
            MarkKind::Row => "row",
            MarkKind::Start => "start",
            MarkKind::End => "end",
        }
    }
}

/// A mark over a page.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// The page, from 1.
    pub page: u32,
    /// What it shows.
    pub kind: MarkKind,
    /// Where, in the page's points.
    pub rect: Rect,
    /// Its label (a value's name, a row's number).
    pub label: String,
}

/// Space around the picture and above each page (for its title), in
/// points.
const MARGIN: f64 = 24.0;
/// A legend line's height, in points.
const LEGEND_LINE: f64 = 13.0;

const STYLE: &str = "
.frame { fill: #fff; stroke: #444; stroke-width: 0.8 }
.title, .legend { font: 10px sans-serif; fill: #222 }
rect.word { fill: none; stroke: #9ab; stroke-width: 0.25 }
text.word { font-family: sans-serif; fill: #567 }
.rule { fill: none; stroke: #c80; stroke-width: 0.5 }
.mark { fill: none; stroke-width: 0.9 }
.label { font: 5px sans-serif }
.value { stroke: #06c; fill: #06c }
rect.value { fill: #06c; fill-opacity: 0.12 }
.anchor { stroke: #e70; fill: #e70; stroke-dasharray: 2 1 }
rect.anchor { fill: none }
.region { stroke: #909; fill: #909; stroke-dasharray: 4 2 }
rect.region { fill: none }
.header { stroke: #080; fill: #080 }
rect.header { fill: #080; fill-opacity: 0.08 }
.column { stroke: #080; fill: #080; stroke-dasharray: 3 2 }
.row { stroke: #c33; fill: #c33 }
rect.row { fill: none }
.start { stroke: #c0c; fill: #c0c; stroke-width: 2 }
.end { stroke: #555; fill: #555; stroke-dasharray: 1 1 }
rect.end { fill: none }
";

/// Draws `pages` with `marks` over them and `legend` above them.
pub fn draw(pages: &[Page], marks: &[Mark], legend: &[String]) -> String {
    // Wide enough for the widest page and the longest legend line (at
    // about 5.6 pt a letter of its 10 pt font).
    let legend_width = legend
        .iter()
        .map(|l| l.chars().count() as f64 * 5.6)
        .fold(0.0, f64::max);
    let width = pages
        .iter()
        .map(|p| finite(p.width))
        .fold(legend_width.max(200.0), f64::max)
        + 2.0 * MARGIN;
    let legend_height = legend.len() as f64 * LEGEND_LINE;
    let height = MARGIN
        + legend_height
        + pages.iter().map(|p| MARGIN + finite(p.height)).sum::<f64>()
        + MARGIN;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}pt\" \
         height=\"{height:.0}pt\" viewBox=\"0 0 {width:.2} {height:.2}\">"
    );
    let _ = writeln!(out, "<style>{STYLE}</style>");
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width:.2}\" height=\"{height:.2}\" fill=\"#eee\"/>"
    );
    for (k, line) in legend.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text class=\"legend\" x=\"{MARGIN}\" y=\"{:.2}\">{}</text>",
            MARGIN + (k as f64 + 0.8) * LEGEND_LINE,
            escape(line)
        );
    }
    let mut top = MARGIN + legend_height;
    for page in pages {
        top += MARGIN;
        draw_page(&mut out, page, top, marks);
        top += finite(page.height);
    }
    out.push_str("</svg>\n");
    out
}

/// One page, its top at `top`.
fn draw_page(out: &mut String, page: &Page, top: f64, marks: &[Mark]) {
    let (w, h) = (finite(page.width), finite(page.height));
    let _ = writeln!(
        out,
        "<g class=\"page\" data-page=\"{}\" transform=\"translate({MARGIN} {top:.2})\">",
        page.number
    );
    let source = match page.source {
        TextSource::TextLayer => "text layer",
        TextSource::Ocr => "OCR",
    };
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"0\" y=\"-6\">page {} ({w:.0} × {h:.0} pt, {source})</text>",
        page.number
    );
    let _ = writeln!(
        out,
        "<rect class=\"frame\" x=\"0\" y=\"0\" width=\"{w:.2}\" height=\"{h:.2}\"/>"
    );
    for rule in &page.rules {
        rect(out, "rule", &rule.rect);
    }
    for word in page.words() {
        let r = &word.rect;
        if !is_finite(r) {
            continue;
        }
        rect(out, "word", r);
        let size = (r.height() * 0.5).clamp(2.0, 6.0);
        let _ = writeln!(
            out,
            "<text class=\"word\" x=\"{:.2}\" y=\"{:.2}\" font-size=\"{size:.2}\">{}</text>",
            r.x0 + 0.5,
            r.y0 + size,
            escape(&word.text)
        );
    }
    for mark in marks.iter().filter(|m| m.page == page.number) {
        draw_mark(out, mark, w);
    }
    out.push_str("</g>\n");
}

fn draw_mark(out: &mut String, mark: &Mark, page_width: f64) {
    let r = &mark.rect;
    if !is_finite(r) {
        return;
    }
    let class = mark.kind.class();
    let label = escape(&mark.label);
    // The label: above the box, or where the kind puts it.
    let (x, y, anchor) = match mark.kind {
        MarkKind::Column => {
            let _ = writeln!(
                out,
                "<line class=\"mark {class}\" data-label=\"{label}\" x1=\"{x:.2}\" y1=\"{:.2}\" \
                 x2=\"{x:.2}\" y2=\"{:.2}\"/>",
                r.y0,
                r.y1,
                x = r.x0
            );
            (r.x0 + 1.0, r.y0 - 1.5, "start")
        }
        MarkKind::Start => {
            let _ = writeln!(
                out,
                "<line class=\"mark {class}\" data-label=\"{label}\" x1=\"0\" y1=\"{y:.2}\" \
                 x2=\"{page_width:.2}\" y2=\"{y:.2}\"/>",
                y = r.y0 - 2.0
            );
            (2.0, r.y0 - 4.0, "start")
        }
        MarkKind::Row => {
            let _ = writeln!(
                out,
                "<rect class=\"mark {class}\" data-label=\"{label}\" x=\"{:.2}\" y=\"{:.2}\" \
                 width=\"{:.2}\" height=\"{:.2}\"/>",
                r.x0 - 1.0,
                r.y0 - 0.5,
                r.width() + 2.0,
                r.height() + 1.0
            );
            (r.x0 - 2.5, r.y0 + 5.0, "end")
        }
        _ => {
            let _ = writeln!(
                out,
                "<rect class=\"mark {class}\" data-label=\"{label}\" x=\"{:.2}\" y=\"{:.2}\" \
                 width=\"{:.2}\" height=\"{:.2}\"/>",
                r.x0,
                r.y0,
                r.width(),
                r.height()
            );
            (r.x0, r.y0 - 1.0, "start")
        }
    };
    let _ = writeln!(
        out,
        "<text class=\"label {class}\" x=\"{x:.2}\" y=\"{y:.2}\" text-anchor=\"{anchor}\">{label}</text>"
    );
}

fn rect(out: &mut String, class: &str, r: &Rect) {
    if !is_finite(r) {
        return;
    }
    let _ = writeln!(
        out,
        "<rect class=\"{class}\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\"/>",
        r.x0,
        r.y0,
        r.width(),
        r.height()
    );
}

fn is_finite(r: &Rect) -> bool {
    [r.x0, r.y0, r.x1, r.y1].iter().all(|v| v.is_finite())
}

/// A page size as drawn: a size that is not a number is none.
fn finite(v: f64) -> f64 {
    if v.is_finite() { v.abs() } else { 0.0 }
}

/// Text as XML character data or an attribute value: the five special
/// characters escaped, and characters XML 1.0 does not allow (control
/// characters, U+FFFE, U+FFFF) left out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pdf::locate::tests::page;
    use crate::format::pdf::page::Rule;

    #[test]
    fn pages_are_stacked_with_words_rules_and_marks() {
        let mut one = page(1, &[(80.0, &[("Invoice", 350.0), ("<#1&\u{1}>", 400.0)])]);
        one.rules.push(Rule {
            rect: Rect {
                x0: 40.0,
                y0: 100.0,
                x1: 570.0,
                y1: 100.5,
            },
        });
        let two = page(2, &[(50.0, &[("Total", 50.0)])]);
        let marks = [
            Mark {
                page: 1,
                kind: MarkKind::Value,
                rect: Rect {
                    x0: 400.0,
                    y0: 80.0,
                    x1: 424.0,
                    y1: 90.0,
                },
                label: "number".into(),
            },
            Mark {
                page: 9,
                kind: MarkKind::Value,
                rect: Rect::default(),
                label: "nowhere".into(),
            },
        ];
        let svg = draw(&[one, two], &marks, &["not found: po".into()]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(svg.matches("<g class=\"page\"").count(), 2);
        assert!(svg.contains("data-page=\"2\""));
        // The legend, then page 1 below it, page 2 below page 1.
        assert!(svg.contains(">not found: po</text>"));
        assert!(svg.contains("translate(24 61.00)"), "{svg}");
        assert!(svg.contains("translate(24 877.00)"), "{svg}");
        assert!(svg.contains("&lt;#1&amp;&gt;"), "escaped, control gone");
        assert!(svg.contains("<rect class=\"rule\" x=\"40.00\" y=\"100.00\""));
        assert!(
            svg.contains(
                "<rect class=\"mark value\" data-label=\"number\" x=\"400.00\" y=\"80.00\""
            )
        );
        assert!(
            !svg.contains("nowhere"),
            "a mark off the pages is not drawn"
        );
    }
}
