//! PDF: the text of a PDF page as positioned words, lines and blocks, and
//! the page's ruling lines, for invoice templates and extraction.
//!
//! [`page`] holds the result every source of text produces alike (the
//! text layer read from the PDF, or OCR of a scanned page); everything that
//! reads invoices works on it and never on the PDF itself. [`ocr`] reads
//! tesseract's words of a page without a text layer into the same result
//! (`crate::ocr` runs the programs). [`template`] reads a vendor's
//! invoices from the pages: values by [`locate`], the line table by
//! [`table`].

pub mod decode;
pub mod locate;
pub mod ocr;
pub mod page;
pub mod table;
pub mod template;

pub use page::{Block, Line, Page, Rect, Rule, TextSource, Word};
