//! `pdf_harness`: the entry point of the `pdf_extract` fuzz target and of
//! its replay in the tests. Arbitrary bytes are decoded into pages of
//! positioned words (text from invoices' vocabulary or raw, coordinates
//! that may be NaN, infinite, negative, huge or overlapping), and those
//! pages go through everything that reads an invoice from positioned text:
//! extraction without a template, a template with every kind of locator
//! and a table, the whole PDF translation (a partner's template and the
//! generic path), and the money parser. Any outcome is fine; a panic, a
//! hang or work without a bound is not.

use std::sync::OnceLock;

use super::amount::Marks;
use super::library::Library;
use super::spec::Spec;
use super::translate::{Request, translate_pdf};
use crate::format::pdf::page::{Block, Line, Page, Rect, Rule, TextSource, Word};
use crate::format::pdf::template::{Template, folded_text};
use crate::format::tree::{Flavor, Tree};

/// Pages, lines of a page and words of a line the decoder makes at most
/// (a fuzzer's input is short anyway; these keep each run fast).
const MAX_PAGES: usize = 4;
const MAX_LINES: usize = 48;
const MAX_WORDS: usize = 24;

/// Words that invoices are read by: labels of every kind, numbers, dates,
/// amounts in both notations, currency signs, and text that is awkward
/// for a parser (letters that change length in lower case, marks alone).
const VOCABULARY: &[&str] = &[
    "Invoice",
    "#",
    "Invoice #:",
    "Invoice#:INV-7",
    "INV-1001",
    "INV-1002",
    "Date",
    "Date:",
    "Due",
    "11/15/2026",
    "15.11.2026",
    "15-Nov-2026",
    "November",
    "15,",
    "2026",
    "PO",
    "P.O.",
    "Number",
    "PM-558630",
    "Terms",
    "Net",
    "30",
    "Ship",
    "To",
    "SKU",
    "Item",
    "Description",
    "Qty",
    "Menge",
    "Unit",
    "Price",
    "Amount",
    "Betrag",
    "Line",
    "UoM",
    "EA",
    "Subtotal",
    "Freight",
    "Discount",
    "Tax",
    "Total",
    "Balance",
    "Outdoor",
    "Gesamtbetrag",
    "Page",
    "of",
    "INVOICE",
    "Harborline",
    "Supply",
    "Harborline Outdoor Supply",
    "Copperleaf",
    "1",
    "2",
    "36",
    "0",
    "-3",
    "6.25",
    "225.00",
    "1,459.56",
    "1,472.06",
    "12.50",
    "1,234.56",
    "1.234,56",
    "(12.50)",
    "12.50-",
    "(-)",
    "$",
    "€",
    "USD",
    "$1,234.56",
    "9999999999999999999999999999",
    "79228162514264337593543950335",
    "0.0000000000000000000000000001",
    "1,000,000,000,000,000,000,000,000.00",
    ":",
    "::",
    "",
    " ",
    "İİİ",
    "ß",
    "n°",
    "‘",
    "HL-TENT-2P",
    "Totalİİİİİİ",
];

/// Coordinates that break arithmetic.
const SPECIAL: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    -1.0,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    1e300,
    -1e300,
    f64::EPSILON,
];

/// Reads the input a piece at a time; past its end, zeros.
struct Bytes<'a> {
    data: &'a [u8],
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// A coordinate: mostly on a letter-sized page (so that layouts the
    /// extraction recognises are reachable), else anything at all.
    fn number(&mut self) -> f64 {
        match self.byte() % 8 {
            0 => SPECIAL[self.below(SPECIAL.len())],
            1 => {
                let mut raw = [0u8; 8];
                for b in &mut raw {
                    *b = self.byte();
                }
                f64::from_le_bytes(raw)
            }
            _ => f64::from(u16::from_le_bytes([self.byte(), self.byte()])) / 80.0,
        }
    }

    /// A word's text: from the vocabulary, or raw bytes.
    fn text(&mut self) -> String {
        let pick = self.byte();
        if pick < 224 {
            return VOCABULARY[usize::from(pick) % VOCABULARY.len()].to_string();
        }
        let n = self.below(16);
        let raw: Vec<u8> = (0..n).map(|_| self.byte()).collect();
        String::from_utf8_lossy(&raw).into_owned()
    }
}

fn union(rects: impl Iterator<Item = Rect>) -> Rect {
    rects.reduce(|a, b| a.union(&b)).unwrap_or_default()
}

/// Pages from `data`: each line a baseline and a run of words left to
/// right (as the reader makes them) or thrown anywhere, a box and font
/// size per word, lines into blocks, and a few rules.
pub fn pages(data: &[u8]) -> Vec<Page> {
    let mut bytes = Bytes { data };
    let mut pages = Vec::new();
    while !bytes.is_empty() && pages.len() < MAX_PAGES {
        let number = match bytes.byte() % 8 {
            0 => u32::MAX,
            n => u32::from(n),
        };
        let (width, height) = match bytes.byte() % 4 {
            0 => (bytes.number(), bytes.number()),
            _ => (612.0, 792.0),
        };
        let source = match bytes.byte() % 4 {
            0 => TextSource::Ocr,
            _ => TextSource::TextLayer,
        };
        let mut blocks: Vec<Block> = Vec::new();
        let mut lines: Vec<Line> = Vec::new();
        let line_count = bytes.below(MAX_LINES) + 1;
        for _ in 0..line_count {
            if bytes.is_empty() {
                break;
            }
            let control = bytes.byte();
            let y = bytes.number();
            let size = match control % 4 {
                0 => bytes.number(),
                _ => 10.0,
            };
            let tidy = control & 0x10 == 0;
            let mut x = bytes.number();
            let mut words = Vec::new();
            for _ in 0..bytes.below(MAX_WORDS) + 1 {
                let text = bytes.text();
                let rect = if tidy {
                    let w = 5.0 * text.chars().count() as f64;
                    let r = Rect {
                        x0: x,
                        y0: y,
                        x1: x + w,
                        y1: y + size,
                    };
                    x += w + f64::from(bytes.byte() % 64);
                    r
                } else {
                    Rect {
                        x0: bytes.number(),
                        y0: bytes.number(),
                        x1: bytes.number(),
                        y1: bytes.number(),
                    }
                };
                words.push(Word {
                    text,
                    rect,
                    font_size: size,
                    confidence: (source == TextSource::Ocr).then_some(50.0),
                });
            }
            let rect = union(words.iter().map(|w| w.rect));
            lines.push(Line { words, rect });
            // A new block every few lines.
            if control & 0x20 != 0 {
                let rect = union(lines.iter().map(|l| l.rect));
                blocks.push(Block {
                    lines: std::mem::take(&mut lines),
                    rect,
                });
            }
        }
        if !lines.is_empty() {
            let rect = union(lines.iter().map(|l| l.rect));
            blocks.push(Block { lines, rect });
        }
        let rules = (0..bytes.below(4))
            .map(|_| Rule {
                rect: Rect {
                    x0: bytes.number(),
                    y0: bytes.number(),
                    x1: bytes.number(),
                    y1: bytes.number(),
                },
            })
            .collect();
        pages.push(Page {
            number,
            width,
            height,
            source,
            blocks,
            rules,
        });
    }
    pages
}

/// A template with every kind of locator, page choice and table option.
const TEMPLATE: &str = r#"
[pdf]
keywords = ["INVOICE"]
exclude = ["CREDIT MEMO"]
starts = '^INVOICE'

[pdf.values]
number = { right_of = "Invoice #", words = 1 }
date = { right_of = "Invoice Date" }
ship_to = { below = "Ship To", lines = 3 }
po = { below = "P.O. Number", page = 1 }
vendor = { region = [36, 36, 300, 80], page = 1 }
everything = { region = [-1e300, -1e300, 1e300, 1e300] }
terms = { pattern = 'Terms\s*(.*)' }
whole = { pattern = '\d+' }
total = { right_of = "Total Due", page = "last" }
second = { right_of = "Total", page = 2 }

[pdf.table]
header = ["Line", "SKU", "Description", "Qty", "Unit Price", "Amount"]
columns = ["line", "sku", "description", "qty", "price", "amount"]
end = ["Subtotal", "Total"]
key = "sku"
required = ["qty"]
numeric = ["qty", "price", "amount"]
skip = ['^Page \d+ of \d+']
"#;

fn template() -> &'static Option<Template> {
    static TEMPLATE_ONCE: OnceLock<Option<Template>> = OnceLock::new();
    TEMPLATE_ONCE.get_or_init(|| {
        let spec = Spec::parse("pdf_harness.toml", TEMPLATE).ok()?;
        super::pdf::template(spec.get("pdf")?).ok()
    })
}

fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(Library::embedded)
}

/// Reads `data` as pages of positioned words and extracts invoices from
/// them every way dropgate does; any result is fine, a panic or a hang is
/// not.
pub fn extract(data: &[u8]) {
    let pages = pages(data);

    // Without a template.
    let _ = super::generic::extract_all(&pages);

    // A template with every locator kind and a table.
    if let Some(t) = template() {
        let _ = t.matches(&folded_text(&pages));
        for invoice in t.split(&pages) {
            let mut tree = Tree::new(Flavor::Pdf);
            let _ = t.fill(invoice, &mut tree);
        }
    }

    // The whole translation: a partner's template (its rules too), then
    // the choice by keywords, which falls back on generic extraction.
    for mapping in [Some("partners/harborline/invoice"), None] {
        let request = Request {
            file_name: "fuzz.pdf".into(),
            mapping: mapping.map(String::from),
            ..Request::default()
        };
        let _ = translate_pdf(&pages, &request, library(), Vec::new());
    }

    // The money parser, on every word and on the input as text.
    let words: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.words())
        .map(|w| w.text.as_str())
        .collect();
    let detected = Marks::detect(words.iter().copied());
    let raw = String::from_utf8_lossy(data);
    for marks in [detected, Marks { decimal: ',' }, Marks::default()] {
        for w in words.iter().copied().chain([raw.as_ref()]) {
            let _ = marks.amount(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_reads() {
        let t = template().as_ref().expect("the harness's template reads");
        assert_eq!(t.values.len(), 10);
        assert!(t.table.is_some());
    }

    #[test]
    fn bytes_become_words_of_the_vocabulary() {
        // Page 1, letter size, text layer, one line; the line: font size
        // 10, at y = 0x2800 / 80, from x = 0x1000 / 80, two words 10 pt
        // apart.
        let data = [1, 1, 1, 0, 1, 2, 0x00, 0x28, 2, 0x00, 0x10, 1, 1, 10, 2, 0];
        let pages = pages(&data);
        assert_eq!(pages.len(), 1);
        let words: Vec<&Word> = pages[0].words().collect();
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, VOCABULARY[1]);
        assert_eq!(words[1].text, VOCABULARY[2]);
        assert_eq!((words[0].rect.x0, words[0].rect.y0), (51.2, 128.0));
        assert_eq!(words[1].rect.x0, words[0].rect.x1 + 10.0);
        assert_eq!(pages[0].blocks[0].lines[0].rect.y1, 138.0);
    }

    /// The seeds reach the extraction's happy path: an invoice read
    /// without a template that adds up, and the partner's template.
    #[test]
    fn the_seed_is_an_invoice() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fuzz/regressions/pdf_extract/seed-harborline"
        );
        let pages = pages(&std::fs::read(path).expect("the seed"));
        let invoices = crate::mapping::generic::extract_all(&pages);
        assert_eq!(invoices.len(), 1);
        let invoice = invoices[0].as_ref().expect("read without a template");
        assert_eq!(invoice.invoice_number, "INV-1001");
        assert_eq!(invoice.lines.len(), 2);
        assert_eq!(
            invoice.total_amount.map(|t| t.to_string()),
            Some("1472.06".into())
        );
        let request = Request {
            file_name: "seed.pdf".into(),
            mapping: Some("partners/harborline/invoice".into()),
            ..Request::default()
        };
        let (outcome, out) = translate_pdf(&pages, &request, library(), Vec::new()).expect("read");
        assert_eq!(
            outcome.documents,
            1,
            "{:?} {}",
            outcome.problems,
            String::from_utf8_lossy(&out)
        );
        let json = String::from_utf8_lossy(&out);
        assert!(json.contains("\"HL-TENT-2P\""), "{json}");
    }
}
