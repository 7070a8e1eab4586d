//! `page`: a page's text as positioned words, grouped into lines and
//! blocks in reading order, and its ruling lines.
//!
//! Coordinates are PDF points (1/72 inch) on the page as it is shown: the
//! crop box, turned by the page's `/Rotate`, with the origin at its top
//! left and `y` growing downwards (as `pdftotext -bbox-layout` gives them),
//! so that reading order is "top to bottom, left to right" in numbers.

use serde::Serialize;

/// A rectangle on a page: left, top, right, bottom, in points from the
/// page's top-left corner (`x0 <= x1`, `y0 <= y1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rect {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Right edge.
    pub x1: f64,
    /// Bottom edge.
    pub y1: f64,
}

impl Rect {
    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// Width.
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    /// Height.
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// A word: letters with no gap between them, on one baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Word {
    /// The text, with ligatures split into letters.
    pub text: String,
    /// Its box.
    pub rect: Rect,
    /// The font size in points (for OCR, the height of the word's box).
    pub font_size: f64,
    /// How sure OCR is of the word, from 0 to 100 (tesseract's `conf`);
    /// `None` for a word of the PDF's own text layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

/// A line: words on one baseline, left to right.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// The words, left to right.
    pub words: Vec<Word>,
    /// The box of all its words.
    pub rect: Rect,
}

/// A block: lines that belong together (a paragraph, an address, a table
/// cell column), top to bottom.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Block {
    /// The lines, top to bottom.
    pub lines: Vec<Line>,
    /// The box of all its lines.
    pub rect: Rect,
}

/// A ruling line or a rectangle drawn on the page (a table's borders, a
/// cell's shading), as its box: a horizontal line is a box of (nearly) no
/// height.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Its box.
    pub rect: Rect,
}

/// Where a page's text came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// The PDF's own text layer.
    TextLayer,
    /// OCR of the page's image.
    Ocr,
}

/// One page's text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Page {
    /// The page number, from 1.
    pub number: u32,
    /// The page's width as shown, in points.
    pub width: f64,
    /// The page's height as shown, in points.
    pub height: f64,
    /// Where its text came from.
    pub source: TextSource,
    /// The blocks, in reading order.
    pub blocks: Vec<Block>,
    /// Its ruling lines and rectangles.
    pub rules: Vec<Rule>,
}

impl Page {
    /// Every word of the page, in reading order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.blocks
            .iter()
            .flat_map(|b| b.lines.iter())
            .flat_map(|l| l.words.iter())
    }
}
