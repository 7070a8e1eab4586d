//! What a file is, from its first bytes: an X12 interchange, an XML or
//! JSON document, delimited text (a CSV feed), or something no decoder
//! reads (an empty upload, a PDF, a picture, an archive, binary data).
//!
//! Asked before a decoder is picked, so that a vendor's PDF invoice or a
//! failed (empty) upload is named as what it is, instead of failing as a
//! CSV feed with a message about columns.

use super::Flavor;

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// No bytes at all, or only blank lines.
    Empty,
    /// An X12 interchange (starts with `ISA`).
    X12,
    /// An XML document (starts with `<`).
    Xml,
    /// A JSON document (starts with `{` or `[`).
    Json,
    /// Text that is none of those: read as delimited text (CSV).
    Text,
    /// Text with X12 segments (GS, ST, SE) that does not start with an
    /// ISA: a damaged or cut interchange.
    DamagedX12,
    /// A PDF document.
    Pdf,
    /// A picture.
    Image(Image),
    /// An Office Open XML workbook (`.xlsx`).
    Xlsx,
    /// Another ZIP archive (or a Word or other Office Open XML document).
    Zip,
    /// An OLE compound file: an Excel 97–2003 workbook (`.xls`) or another
    /// old Office document.
    OleCompound,
    /// gzip-compressed data.
    Gzip,
    /// An OpenPGP message in ASCII armour (an encrypted file).
    PgpArmored,
    /// Text in UTF-16 (it starts with a UTF-16 byte order mark).
    Utf16,
    /// Bytes that are not text.
    Binary,
}

/// A kind of picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Image {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// TIFF (what scanners and fax servers often write).
    Tiff,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Content {
    /// The decoder that reads it, if any does.
    pub fn flavor(self) -> Option<Flavor> {
        match self {
            Content::X12 => Some(Flavor::X12),
            Content::Xml => Some(Flavor::Xml),
            Content::Text => Some(Flavor::Csv),
            Content::Json => Some(Flavor::Json),
            _ => None,
        }
    }

    /// Whether it may be an Excel workbook, read when the partner's
    /// mapping says `format = "xlsx"`: an `.xlsx` (a ZIP archive, named
    /// as a workbook when its first entries say so) or an `.xls` (an OLE
    /// compound file).
    pub fn is_workbook(self) -> bool {
        matches!(self, Content::Xlsx | Content::Zip | Content::OleCompound)
    }

    /// Whether it is text a feed's decoder may read: X12, XML, JSON or
    /// other text.
    pub fn is_text(self) -> bool {
        self.flavor().is_some()
    }

    /// Why no decoder reads it, for people: what it is, and, for what is
    /// not damaged X12 or empty, that it is not a feed.
    pub fn refusal(self) -> String {
        match self {
            Content::Empty | Content::DamagedX12 => self.describe().to_string(),
            other => format!(
                "{}, not a feed dropgate reads (X12, CSV, XML or JSON; a workbook when the mapping says format = \"xlsx\")",
                other.describe()
            ),
        }
    }

    /// What it is, for people: "an empty file", "a PDF document".
    pub fn describe(self) -> &'static str {
        match self {
            Content::Empty => "an empty file (usually a failed upload)",
            Content::X12 => "an X12 interchange",
            Content::Xml => "an XML document",
            Content::Json => "a JSON document",
            Content::Text => "text (read as CSV)",
            Content::DamagedX12 => {
                "X12 segments without an ISA segment first (a damaged or cut interchange: ask the partner to send it again)"
            }
            Content::Pdf => "a PDF document",
            Content::Image(Image::Png) => "a PNG image",
            Content::Image(Image::Jpeg) => "a JPEG image",
            Content::Image(Image::Gif) => "a GIF image",
            Content::Image(Image::Tiff) => "a TIFF image",
            Content::Xlsx => "an Excel workbook (.xlsx)",
            Content::Zip => "a ZIP archive",
            Content::OleCompound => {
                "an Excel 97-2003 workbook (.xls) or another old Office document"
            }
            Content::Gzip => "a gzip-compressed file",
            Content::PgpArmored => "an OpenPGP-encrypted message",
            Content::Utf16 => {
                "UTF-16 text (save it as UTF-8; dropgate reads UTF-8, Windows-1252 and Latin-1)"
            }
            Content::Binary => "binary data, not text",
        }
    }
}

/// How much of the start is looked at.
pub const HEAD: usize = 4096;

/// What `head`, the first bytes of a file (at most [`HEAD`] are looked
/// at), says the file is. `complete` is true when `head` is the whole file:
/// only then can blank text be called empty.
pub fn sniff(head: &[u8], complete: bool) -> Content {
    let head = head.get(..HEAD).unwrap_or(head);
    if let Some(kind) = magic(head) {
        return kind;
    }
    let text = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        // Blank so far: empty if that is all there is.
        return if complete || text.is_empty() {
            Content::Empty
        } else {
            Content::Text
        };
    };
    let trimmed = text.get(start..).unwrap_or_default();
    // X12 may use control characters as delimiters: recognized first.
    if trimmed.starts_with(b"ISA") {
        return Content::X12;
    }
    if binary(trimmed) {
        return Content::Binary;
    }
    match trimmed.first() {
        Some(b'<') => Content::Xml,
        Some(b'{' | b'[') => Content::Json,
        _ if trimmed.starts_with(b"-----BEGIN PGP MESSAGE-----") => Content::PgpArmored,
        _ if crate::x12::isa::segments_without_isa(trimmed) => Content::DamagedX12,
        _ => Content::Text,
    }
}

/// The kinds known by their first bytes.
fn magic(head: &[u8]) -> Option<Content> {
    const ZIP: &[u8] = b"PK\x03\x04";
    const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    let kind = if head.starts_with(b"%PDF-") {
        Content::Pdf
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Content::Image(Image::Png)
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        Content::Image(Image::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Content::Image(Image::Gif)
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Content::Image(Image::Tiff)
    } else if head.starts_with(ZIP) {
        // A workbook's first entries name its parts.
        if memchr::memmem::find(head, b"xl/").is_some() {
            Content::Xlsx
        } else {
            Content::Zip
        }
    } else if head.starts_with(OLE) {
        Content::OleCompound
    } else if head.starts_with(b"\x1F\x8B") {
        Content::Gzip
    } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        Content::Utf16
    } else {
        return None;
    };
    Some(kind)
}

/// Whether text-looking bytes are binary: a NUL, or more than one in a
/// hundred of the other control characters that text does not use (tab,
/// line feed, carriage return, form feed and the DOS end-of-file mark are
/// text).
fn binary(bytes: &[u8]) -> bool {
    let mut control = 0usize;
    for &b in bytes {
        match b {
            0 => return true,
            b'\t' | b'\n' | b'\r' | 0x0C | 0x1A => {}
            0x01..=0x1F | 0x7F => control += 1,
            _ => {}
        }
    }
    control * 100 > bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_no_decoder_reads() {
        assert_eq!(sniff(b"", true), Content::Empty);
        assert_eq!(sniff(b"\r\n  \n", true), Content::Empty);
        assert_eq!(sniff(b"\xEF\xBB\xBF", true), Content::Empty);
        // Blank so far, more to come: not known to be empty.
        assert_eq!(sniff(b"\n\n", false), Content::Text);
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3", true), Content::Pdf);
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF", true),
            Content::Image(Image::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0", true),
            Content::Image(Image::Png)
        );
        assert_eq!(sniff(b"GIF89a..", true), Content::Image(Image::Gif));
        assert_eq!(sniff(b"II*\0\x08", true), Content::Image(Image::Tiff));
        assert_eq!(
            sniff(
                b"PK\x03\x04\x14\0\0\0[Content_Types].xml..xl/workbook.xml",
                true
            ),
            Content::Xlsx
        );
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0readme.txt", true), Content::Zip);
        assert_eq!(
            sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0", true),
            Content::OleCompound
        );
        assert_eq!(sniff(b"\x1F\x8B\x08\0", true), Content::Gzip);
        assert_eq!(sniff(b"\xFF\xFEs\0k\0u\0", true), Content::Utf16);
        assert_eq!(
            sniff(b"-----BEGIN PGP MESSAGE-----\n\nhQEMA", true),
            Content::PgpArmored
        );
        assert_eq!(sniff(b"sku,qty\0\x01\x02", true), Content::Binary);
        let noisy: Vec<u8> = (0..200u8)
            .map(|i| if i % 10 == 0 { 0x02 } else { b'a' })
            .collect();
        assert_eq!(sniff(&noisy, true), Content::Binary);
    }

    #[test]
    fn recognizes_the_formats_it_reads() {
        assert_eq!(sniff(b"\xEF\xBB\xBF  ISA*00*", true), Content::X12);
        // X12 with control characters as delimiters is still X12.
        assert_eq!(sniff(b"ISA\x1D00\x1D          \x1D00", true), Content::X12);
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><a/>", true), Content::Xml);
        assert_eq!(sniff(b"{\"items\": []}", true), Content::Json);
        assert_eq!(sniff(b"sku;qty\r\nA1;5\r\n", true), Content::Text);
        // X12 whose ISA is damaged: not a CSV feed.
        assert_eq!(
            sniff(
                b"SA*00*  *00*~GS*PO*A*B*20240101*1200*1*X*004010~ST*850*0001~BEG*00~SE*3*0001~",
                true
            ),
            Content::DamagedX12
        );
        // The tail of a file cut in two.
        assert_eq!(
            sniff(
                b"LIN**VN*A1~SN1**1*EA~SE*12*0001~GE*1*7~IEA*1*000000007~",
                true
            ),
            Content::DamagedX12
        );
        // A CSV of states and codes is still CSV.
        assert_eq!(
            sniff(b"code,name\nGS,Gold\nST,Steel\nSE,Sea\n", true),
            Content::Text
        );
        // Windows-1252 and Latin-1 text is text.
        assert_eq!(
            sniff(b"sku,name\nA1,Caf\xE9 cr\xE8me\n", true),
            Content::Text
        );
        assert_eq!(Content::Text.flavor(), Some(Flavor::Csv));
        assert_eq!(Content::Pdf.flavor(), None);
        assert!(!Content::Empty.is_text());
    }
}
