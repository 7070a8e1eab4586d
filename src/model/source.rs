//! Where a canonical document came from: the format, the partner, the file
//! and, for X12, the envelope that carried it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The format a document was read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// ANSI X12 EDI.
    #[default]
    X12,
    /// A delimited text feed.
    Csv,
    /// An XML feed.
    Xml,
    /// A PDF document.
    Pdf,
    /// Canonical JSON submitted directly, or a vendor's JSON feed.
    Json,
    /// An Excel workbook's sheet.
    Xlsx,
    /// A fixed-width file.
    Fixed,
}

/// The origin of a canonical document. dropgate fills it in; mappings do
/// not write it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The format the document was read from.
    pub format: SourceFormat,
    /// The trading partner, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// The name of the file the document was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// X12: the interchange control number (ISA13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interchange_control_number: Option<String>,
    /// X12: the group control number (GS06).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_control_number: Option<String>,
    /// X12: the transaction set control number (ST02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_control_number: Option<String>,
    /// X12: the interchange sender ID (ISA06, trimmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// X12: the qualifier of the sender ID (ISA05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_qualifier: Option<String>,
    /// X12: the interchange receiver ID (ISA08, trimmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_id: Option<String>,
    /// X12: the qualifier of the receiver ID (ISA07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_qualifier: Option<String>,
    /// X12: the application sender's code (GS02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_sender: Option<String>,
    /// X12: the application receiver's code (GS03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_receiver: Option<String>,
    /// X12: the transaction set identifier (ST01), e.g. `850`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_id: Option<String>,
    /// X12: the version of the group (GS08), e.g. `004010`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// PDF: how the document was read from the pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction: Option<Extraction>,
    /// PDF: the template (mapping) that read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// How a document was read from a PDF's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Extraction {
    /// By the vendor's template, from the PDF's text.
    Template,
    /// Without a template: labels, the line table's columns, and the
    /// arithmetic as the check.
    Generic,
    /// From text that OCR read off an image of the page (a scan): worth a
    /// person's look however it was then read.
    Ocr,
}
