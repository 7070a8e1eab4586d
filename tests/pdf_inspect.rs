//! The mapping author's tools for PDF templates, through the binary:
//! `dropgate pdf inspect` draws what a template (or extraction without
//! one) found, as well-formed SVG checked against `pdf words`; `mapping
//! explain` names each value's page, position and box.

mod support;

use std::path::Path;
use std::process::Output;

use support::cli::{dropgate, root, text};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

const HARBORLINE: &str = "samples/pdf/harborline-outdoor/HL-2026-118403.pdf";

/// An element of the picture: its name, attributes, text, and the page
/// whose group holds it.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    page: Option<u32>,
}

impl Element {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, key: &str) -> f64 {
        self.attr(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} of {self:?}"))
    }

    fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split(' ').any(|c| c == class))
    }
}

/// Parses the SVG: panics unless it is well-formed XML with an `<svg>`
/// root.
fn parse(svg: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(svg);
    let mut out: Vec<Element> = Vec::new();
    // The open elements: the index of each in `out`, and its page.
    let mut open: Vec<(usize, Option<u32>)> = Vec::new();
    let element = |e: &BytesStart, page: Option<u32>| {
        let attrs: Vec<(String, String)> = e
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(XmlVersion::Implicit1_0)
                        .expect("an attribute value")
                        .into_owned(),
                )
            })
            .collect();
        let mut el = Element {
            name: e.name().as_ref().to_owned(),
            attrs,
            text: String::new(),
            page,
        };
        if el.name == "g" && el.has_class("page") {
            el.page = el.attr("data-page").and_then(|p| p.parse().ok());
        }
        el
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let page = open.last().and_then(|(_, p)| *p);
                let el = element(&e, page);
                let page = el.page;
                out.push(el);
                open.push((out.len() - 1, page));
            }
            Event::Empty(e) => {
                let page = open.last().and_then(|(_, p)| *p);
                out.push(element(&e, page));
            }
            Event::End(_) => {
                open.pop().expect("a closing tag closes an open one");
            }
            Event::Text(t) => {
                if let Some((i, _)) = open.last() {
                    out[*i].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let c = quick_xml::escape::resolve_predefined_entity(&name)
                    .unwrap_or_else(|| panic!("an unknown entity &{name};"));
                if let Some((i, _)) = open.last() {
                    out[*i].text.push_str(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "every element is closed");
    assert_eq!(out.first().map(|e| e.name.as_str()), Some("svg"));
    out
}

/// Runs `pdf inspect` with `args` into a fresh file; the output and the
/// picture's elements.
fn inspect(args: &[&str]) -> (Output, Vec<Element>) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let svg = dir.path().join("out.svg");
    let svg_arg = svg.display().to_string();
    let mut all: Vec<&str> = vec!["pdf", "inspect"];
    all.extend(args);
    all.extend(["--out", svg_arg.as_str()]);
    let out = dropgate(&all);
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
    let picture = std::fs::read_to_string(&svg).expect("the SVG is written");
    (out, parse(&picture))
}

fn marks<'e>(elements: &'e [Element], class: &str) -> Vec<&'e Element> {
    elements
        .iter()
        .filter(|e| e.has_class("mark") && e.has_class(class))
        .collect()
}

fn legend(elements: &[Element]) -> Vec<&str> {
    elements
        .iter()
        .filter(|e| e.has_class("legend"))
        .map(|e| e.text.as_str())
        .collect()
}

/// `pdf words` of page `page`: (x0, y0, x1, y1, text).
fn words(file: &str, page: u32) -> Vec<(f64, f64, f64, f64, String)> {
    let out = dropgate(&["pdf", "words", file, "--page", &page.to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            let mut parts = l.splitn(6, ' ');
            let _page = parts.next();
            let mut n = || {
                parts
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .expect("a number")
            };
            let (x0, y0, x1, y1) = (n(), n(), n(), n());
            (x0, y0, x1, y1, parts.next().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn inspect_draws_the_pages_and_what_the_template_found() {
    let (out, svg) = inspect(&["--partner", "harborline", HARBORLINE]);
    assert!(text(&out.stdout).contains("2 page(s) drawn"));
    let pages: Vec<&Element> = svg
        .iter()
        .filter(|e| e.name == "g" && e.has_class("page"))
        .collect();
    let numbers: Vec<&str> = pages.iter().filter_map(|g| g.attr("data-page")).collect();
    assert_eq!(numbers, ["1", "2"]);
    // Each page's frame at its size, its words drawn.
    let frames: Vec<&Element> = svg.iter().filter(|e| e.has_class("frame")).collect();
    assert_eq!(frames.len(), 2);
    assert_eq!(
        (frames[0].num("width"), frames[0].num("height")),
        (612.0, 792.0)
    );
    let first_words = words(HARBORLINE, 1);
    let drawn_words = svg
        .iter()
        .filter(|e| e.name == "rect" && e.has_class("word") && e.page == Some(1))
        .count();
    assert_eq!(drawn_words, first_words.len());

    // The invoice number's box is around the word `pdf words` gives.
    let (x0, y0, x1, y1, _) = first_words
        .iter()
        .find(|w| w.4 == "HL-2026-118403")
        .expect("the number on page 1")
        .clone();
    let values = marks(&svg, "value");
    let number = values
        .iter()
        .find(|e| e.attr("data-label") == Some("number"))
        .expect("a box for number");
    assert_eq!(number.page, Some(1));
    let (bx, by) = (number.num("x"), number.num("y"));
    let (bw, bh) = (number.num("width"), number.num("height"));
    assert!(
        bx <= x0 + 0.01 && by <= y0 + 0.01 && bx + bw >= x1 - 0.01 && by + bh >= y1 - 0.01,
        "box {bx} {by} {bw} {bh} around {x0} {y0} {x1} {y1}"
    );
    // The label it was found from.
    let anchor = marks(&svg, "anchor")
        .into_iter()
        .find(|e| e.attr("data-label") == Some("label of number"))
        .expect("the label of number");
    assert!(anchor.num("x") < bx && (anchor.num("y") - by).abs() < 1.0);
    // The totals, on the last page.
    let total = values
        .iter()
        .find(|e| e.attr("data-label") == Some("total"))
        .expect("total");
    assert_eq!(total.page, Some(2));

    // The table: its header and column boundaries on both pages, in
    // order left to right, and its 58 rows.
    let columns = [
        "line",
        "sku",
        "description",
        "qty",
        "uom",
        "price",
        "amount",
    ];
    for page in [1, 2] {
        let lines: Vec<&Element> = marks(&svg, "column")
            .into_iter()
            .filter(|e| e.page == Some(page))
            .collect();
        let names: Vec<&str> = lines.iter().filter_map(|e| e.attr("data-label")).collect();
        assert_eq!(names, columns, "page {page}");
        let xs: Vec<f64> = lines.iter().map(|e| e.num("x1")).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        assert!(lines.iter().all(|e| e.num("x1") == e.num("x2")), "vertical");
        assert!(
            marks(&svg, "header").iter().any(|e| e.page == Some(page)),
            "a header on page {page}"
        );
    }
    let rows = marks(&svg, "row");
    assert_eq!(rows.len(), 58);
    let labels: Vec<String> = rows
        .iter()
        .filter_map(|e| e.attr("data-label").map(str::to_string))
        .collect();
    let expected: Vec<String> = (1..=58).map(|n| n.to_string()).collect();
    assert_eq!(labels, expected);
    assert!(rows.iter().any(|e| e.page == Some(2)), "rows go on page 2");
    assert_eq!(marks(&svg, "end").len(), 1, "the table ends at Subtotal");
    let legend = legend(&svg);
    assert!(
        legend
            .iter()
            .any(|l| l.contains("template partners/harborline/invoice")),
        "{legend:?}"
    );
    assert!(
        !legend.iter().any(|l| l.contains("not found")),
        "{legend:?}"
    );
    assert!(legend.contains(&"table: 58 row(s)"), "{legend:?}");
}

#[test]
fn without_a_template_inspect_draws_what_extraction_found() {
    let file = "samples/pdf/granite-peak/100734.pdf";
    let (_, svg) = inspect(&[file]);
    let legend = legend(&svg);
    assert!(
        legend.iter().any(|l| l.contains("no template matches")),
        "{legend:?}"
    );
    assert!(
        legend
            .iter()
            .any(|l| l.contains("accepted: invoice 100734")),
        "{legend:?}"
    );
    let values: Vec<&str> = marks(&svg, "value")
        .iter()
        .filter_map(|e| e.attr("data-label"))
        .collect();
    for what in ["invoice number", "date", "PO number", "subtotal", "total"] {
        assert!(values.contains(&what), "{what} in {values:?}");
    }
    // The number's box is around the word.
    let (x0, y0, ..) = words(file, 1)
        .into_iter()
        .find(|w| w.4 == "100734")
        .expect("the number");
    let number = marks(&svg, "value")
        .into_iter()
        .find(|e| e.attr("data-label") == Some("invoice number"))
        .expect("the invoice number");
    assert!((number.num("x") - x0).abs() < 0.01 && (number.num("y") - y0).abs() < 0.01);
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("samples/pdf/granite-peak/100734.truth.json"))
            .expect("truth"),
    )
    .expect("JSON");
    let lines = truth["invoices"][0]["lines"]
        .as_array()
        .expect("lines")
        .len();
    assert_eq!(marks(&svg, "row").len(), lines);
    assert!(!marks(&svg, "column").is_empty());
}

#[test]
fn a_value_the_template_misses_is_listed_as_not_found() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let template =
        std::fs::read_to_string(root().join("mappings/partners/harborline/invoice.toml"))
            .expect("the template")
            .replace(
                "po = { right_of = \"PO Number\" }",
                "po = { right_of = \"Purchase Order\" }",
            );
    assert!(template.contains("Purchase Order"));
    let path = dir.path().join("invoice.toml");
    std::fs::write(&path, template).expect("write");
    let path = path.display().to_string();
    let (out, svg) = inspect(&["--template", &path, HARBORLINE]);
    let legend = legend(&svg);
    assert!(
        legend.contains(&"not found: po (right of \"Purchase Order\")"),
        "{legend:?}"
    );
    assert!(text(&out.stdout).contains("not found: po"));
    let values: Vec<&str> = marks(&svg, "value")
        .iter()
        .filter_map(|e| e.attr("data-label"))
        .collect();
    assert!(
        !values.contains(&"po") && values.contains(&"number"),
        "{values:?}"
    );
}

#[test]
fn inspect_refuses_a_cut_pdf_naming_it() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let svg = dir.path().join("out.svg");
    let file = "samples/pdf/bad/truncated.pdf";
    let out = dropgate(&["pdf", "inspect", file, "--out", &svg.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("{file}: cannot read the PDF")),
        "{}",
        text(&out.stderr)
    );
    assert!(!Path::new(&svg).exists());
}

#[test]
fn explain_names_the_page_and_position_of_each_pdf_value() {
    let out = dropgate(&[
        "mapping",
        "explain",
        "--mapping",
        "partners/harborline/invoice",
        HARBORLINE,
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}{}", stdout, text(&out.stderr));
    let page_one = words(HARBORLINE, 1);
    // What explain says about a field: its three lines (the value, the
    // rule and place, how the template found it).
    let about = |field: &str| -> String {
        let start = stdout
            .find(&format!("\n{field} "))
            .or_else(|| stdout.starts_with(&format!("{field} ")).then_some(0))
            .unwrap_or_else(|| panic!("{field} in {stdout}"));
        let rest = stdout[start..].trim_start_matches('\n');
        let end = rest
            .match_indices('\n')
            .nth(2)
            .map_or(rest.len(), |(i, _)| i);
        rest[..end].to_string()
    };
    let (x0, y0, x1, y1, _) = page_one
        .iter()
        .find(|w| w.4 == "HL-2026-118403")
        .expect("the number")
        .clone();
    let number = about("invoice_number");
    assert!(
        number.contains(&format!(
            "\"number\", page 1, at x {} y {} pt",
            x0.round(),
            y0.round()
        )),
        "{number}"
    );
    assert!(number.contains("found right of \"Invoice #\""), "{number}");
    assert!(
        number.contains(&format!("box {x0:.1} {y0:.1} {x1:.1} {y1:.1} pt")),
        "{number}"
    );
    // The first line's amount: the rightmost word of the row whose SKU is
    // HL-TNT-2P-SA.
    let sku = page_one
        .iter()
        .find(|w| w.4 == "HL-TNT-2P-SA")
        .expect("the first SKU");
    let amount = page_one
        .iter()
        .filter(|w| (w.1 - sku.1).abs() < 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("the row's last word");
    let line = about("lines[0].amount");
    assert!(
        line.contains(&format!(
            "\"amount\" of table row 1, page 1, at x {} y {} pt",
            amount.0.round(),
            amount.1.round()
        )),
        "{line}"
    );
    assert!(line.contains("column amount under \"Amount\""), "{line}");
}

#[test]
fn inspect_shows_where_each_invoice_of_a_file_starts() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("kestrel.toml");
    std::fs::write(
        &path,
        r#"[mapping]
direction = "inbound"
document = "invoice"
format = "pdf"

[mapping.pdf]
keywords = ["Kestrel Home Goods"]
starts = 'INVOICE$'

[mapping.pdf.values]
number = { right_of = "Invoice No." }
vendor = { region = [36, 60, 300, 110], page = 1 }

[invoice]
invoice_number = "number"
"#,
    )
    .expect("write");
    let path = path.display().to_string();
    let file = "samples/pdf/kestrel-home/KHG-50211-50212.pdf";
    let (_, svg) = inspect(&["--template", &path, file]);
    let starts: Vec<(Option<u32>, Option<&str>)> = marks(&svg, "start")
        .iter()
        .map(|e| (e.page, e.attr("data-label")))
        .collect();
    assert_eq!(
        starts,
        [
            (Some(1), Some("invoice 1 starts")),
            (Some(2), Some("invoice 2 starts"))
        ]
    );
    let legend = legend(&svg);
    assert!(legend.contains(&"invoice 2: pages 2-2"), "{legend:?}");
    // Each invoice's number, and the region its vendor is read from, on
    // its own first page.
    for (class, label) in [("value", "number"), ("region", "region of vendor")] {
        let pages: Vec<Option<u32>> = marks(&svg, class)
            .iter()
            .filter(|e| e.attr("data-label") == Some(label))
            .map(|e| e.page)
            .collect();
        assert_eq!(pages, [Some(1), Some(2)], "{label}");
    }
    let (x0, ..) = words(file, 2)
        .into_iter()
        .find(|w| w.4 == "KHG-50212")
        .expect("the second number");
    let second = marks(&svg, "value")
        .into_iter()
        .find(|e| e.attr("data-label") == Some("number") && e.page == Some(2))
        .expect("on page 2");
    assert!((second.num("x") - x0).abs() < 0.01);
}
