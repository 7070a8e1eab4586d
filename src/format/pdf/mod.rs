//! PDF: the text of a PDF page as positioned words, lines and blocks, and
//! the page's ruling lines, for invoice templates and extraction.
//!
//! [`page`] holds the result every source of text produces alike (the
//! text layer read from the PDF, or OCR of a scanned page); everything that
//! reads invoices works on it and never on the PDF itself. [`ocr`] reads
//! tesseract's words of a page without a text layer into the same result
//! (`crate::ocr` runs the programs). [`template`] reads a vendor's
//! invoices from the pages: values by [`locate`], the line table by
//! [`table`], handed to a mapping by [`decode`]; [`svg`] draws pages and
//! what was found on them, for a person writing a template.
//!
//! The text layer: [`document`] opens the PDF on lopdf under [`Limits`]
//! and gives each page's geometry and content; [`content`] interprets the
//! content streams into glyphs and rules with the fonts of [`font`]
//! ([`encoding`], [`cmap`]); [`layout`] groups glyphs into words, lines
//! and blocks; [`text`] prints them. [`read`] does it all (or
//! [`Document::open`] and [`Document::page`], one page at a time). Each
//! [`ReadPage`] says how much text layer its page has
//! ([`TextLayer::has_text`]): a page without one is for OCR. No input
//! makes any of it panic or run without bound.

pub mod cmap;
pub mod content;
pub mod decode;
pub mod document;
pub mod encoding;
pub mod error;
pub mod font;
pub mod harness;
pub mod layout;
pub mod lexer;
pub mod locate;
pub mod matrix;
pub mod objects;
pub mod ocr;
pub mod page;
pub mod table;
#[rustfmt::skip]
mod tables;
pub mod svg;
pub mod template;
#[cfg(test)]
pub(crate) mod testpdf;
pub mod text;

pub use content::FontCache;
pub use document::{Document, Limits, ReadPage, TextLayer};
pub use error::{PdfError, Place};
pub use page::{Block, Line, Page, Rect, Rule, TextSource, Word};

/// Reads every page of a PDF from its text layer.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Vec<ReadPage>, PdfError> {
    let doc = Document::open(bytes, limits)?;
    let mut fonts = FontCache::default();
    (1..=doc.page_count() as u32)
        .map(|n| doc.page(n, &mut fonts))
        .collect()
}
