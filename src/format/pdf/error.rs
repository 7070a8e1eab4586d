//! `error`: why a PDF cannot be read, naming the place (page, object,
//! byte offset of the operator) where there is one.

use std::fmt;

/// Where in a PDF something happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// The page, from 1.
    pub page: Option<u32>,
    /// The object (number, generation).
    pub object: Option<(u32, u16)>,
    /// The byte offset of the operator in its content stream.
    pub offset: Option<usize>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(page) = self.page {
            parts.push(format!("page {page}"));
        }
        if let Some((n, g)) = self.object {
            parts.push(format!("object {n} {g} R"));
        }
        if let Some(offset) = self.offset {
            parts.push(format!("content byte {offset}"));
        }
        if parts.is_empty() {
            f.write_str("the document")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Why a PDF cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The bytes do not start a PDF.
    #[error("not a PDF (no %PDF- header in the first 1024 bytes)")]
    NotPdf,
    /// The file is larger than the limit.
    #[error("the file is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The object layer cannot be read (no usable cross-reference data and
    /// no objects found by scanning, no catalog, no page tree).
    #[error("cannot read the PDF's objects: {0}")]
    Unreadable(#[source] lopdf::Error),
    /// Encrypted, and the empty user password does not open it.
    #[error("encrypted with a user password that we do not have")]
    PasswordRequired,
    /// Encrypted with a security handler that cannot be used.
    #[error("encrypted with a security handler that cannot be read: {0}")]
    Encryption(#[source] lopdf::Error),
    /// More pages than the limit.
    #[error("{pages} pages, over the limit of {limit}")]
    TooManyPages {
        /// How many it has.
        pages: usize,
        /// The limit.
        limit: usize,
    },
    /// More objects than the limit.
    #[error("{objects} objects, over the limit of {limit}")]
    TooManyObjects {
        /// How many it has.
        objects: usize,
        /// The limit.
        limit: usize,
    },
    /// No pages.
    #[error("the document has no pages")]
    NoPages,
    /// A stream inflates past the limit (a decompression bomb): refused,
    /// not inflated.
    #[error("{place}: a stream inflates past the limit of {limit} bytes; refused")]
    DecompressionBomb {
        /// Where.
        place: Place,
        /// The limit.
        limit: usize,
    },
    /// A page's content stream is not in the file (truncated or damaged).
    #[error(
        "{place}: the page's content stream is missing or cut short (a truncated or damaged file)"
    )]
    MissingContent {
        /// Where (the page and the missing object).
        place: Place,
    },
    /// A page needs more work than the limit allows.
    #[error("{place}: over the limit of {limit} operators for one page")]
    TooMuchWork {
        /// Where (the page and the offset of the operator where it stopped).
        place: Place,
        /// The limit.
        limit: usize,
    },
    /// The document needs more work than the limit allows.
    #[error("{place}: over the limit of {limit} operators for the whole document")]
    DocumentTooLong {
        /// Where (the page where it stopped).
        place: Place,
        /// The limit.
        limit: usize,
    },
}
