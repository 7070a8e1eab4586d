//! dropgate: an EDI and file gateway for dropship commerce.
//!
//! # Layout
//!
//! Data flows one way; the modules are listed in that order.
//!
//! - [`transport`]: channels, bytes in and out (local folders, SFTP,
//!   IMAP mailboxes in; folders, SFTP, SMTP out).
//! - [`as2`]: AS2 messages and MDNs as bytes (S/MIME signing,
//!   encryption, compression, MIC), no network and no store.
//! - [`x12`]: the X12 engine (lexer, envelopes, validation from the
//!   definitions in `x12/`, 997/999/TA1 acknowledgments, writer).
//! - [`format`]: what a file is, and decoders and encoders (X12, CSV,
//!   XML) to and from trees; a PDF page's positioned text.
//! - [`ocr`]: OCR of a PDF page without a text layer (runs pdftoppm and
//!   tesseract).
//! - [`mapping`]: mappings from trees to the canonical model and back.
//! - [`model`]: the canonical documents.
//! - [`relay`]: documents out to the routing core.
//! - [`lifecycle`]: each purchase order followed from the order to the
//!   bill, its exceptions and the measures.
//! - [`netsuite`]: NetSuite's REST services (signing, client, simulator).
//! - [`store`]: the durable state (files, documents, outbox, control
//!   numbers, audit) and the archive.
//! - [`config`]: `gateway.toml` and the partner files, checked.
//! - [`daemon`]: the gateway at work: polls, processes, delivers.
//! - [`cli`]: the `dropgate` command line; the only place that prints.

pub mod as2;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod format;
pub mod lifecycle;
pub mod mapping;
pub mod model;
pub mod netsuite;
pub mod ocr;
pub mod pgp;
pub mod reconcile;
pub mod relay;
pub mod store;
pub mod transport;
pub mod x12;
