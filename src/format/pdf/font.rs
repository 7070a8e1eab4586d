//! `font`: what the text layer needs of a font: how its strings split
//! into codes, each code's width and text, and the font's ascent and
//! descent (for word boxes).
//!
//! Simple fonts (Type1, TrueType, Type3, with their subsets) read
//! `/Widths` (or the standard 14 metrics) and `/Encoding` with
//! `/Differences`; composite fonts (Type0) read `/W`, `/DW` and their CMap
//! (Identity-H or embedded). Text comes from the `ToUnicode` CMap first,
//! then the encoding. Nothing here fails: a font that cannot be read is a
//! font whose codes have no text, which makes its page count as having no
//! text layer.

use lopdf::{Dictionary, Object};

use super::cmap::CMap;
use super::encoding::{BaseEncoding, SimpleEncoding, glyph_text, numeric_name_text};
use super::error::PdfError;
use super::objects::Objects;
use super::tables::{self, Standard14};

/// One code of a string shown with a font.
#[derive(Clone, Debug, PartialEq)]
pub struct Code {
    /// How many bytes of the string it took.
    pub len: usize,
    /// Its advance in text space units (1/1000 em already divided out).
    pub width: f64,
    /// Its text, if the font maps it.
    pub text: Option<String>,
    /// Whether it is the single-byte code 32, to which word spacing applies.
    pub is_space: bool,
}

#[derive(Debug)]
enum Widths {
    /// Simple font: width per code.
    Simple(Box<[f64; 256]>),
    /// Composite font: ranges of CIDs with their widths, and the default.
    Cid {
        ranges: Vec<(u32, u32, CidWidth)>,
        default: f64,
    },
}

#[derive(Debug)]
enum CidWidth {
    Same(f64),
    Each(Vec<f64>),
}

#[derive(Debug)]
enum Codes {
    /// One byte per code, text from the encoding.
    Simple(SimpleEncoding),
    /// Codes by the CMap's code space.
    Composite(CMap),
}

/// A font, ready to decode strings.
#[derive(Debug)]
pub struct Font {
    codes: Codes,
    widths: Widths,
    to_unicode: Option<CMap>,
    /// Ascent in em (positive).
    pub ascent: f64,
    /// Descent in em (negative).
    pub descent: f64,
    /// What the font size on the page is multiplied by: 1, except for
    /// Type3 fonts (see [`type3_size_factor`]).
    pub size_factor: f64,
}

/// How many `/W` entries a font may have.
const MAX_WIDTH_ENTRIES: usize = 100_000;

/// The standard 14 font a base font name stands for, aliases and subset
/// prefixes included.
pub(super) fn standard_14(base_font: &[u8]) -> Option<&'static Standard14> {
    let name = String::from_utf8_lossy(base_font);
    let name = match name.split_once('+') {
        Some((prefix, rest)) if prefix.len() == 6 => rest,
        _ => &name,
    };
    let compact: String = name.chars().filter(|c| *c != ' ').collect();
    let lower = compact.to_ascii_lowercase();
    let bold = lower.contains("bold");
    let italic = lower.contains("italic") || lower.contains("oblique");
    let family = if lower.starts_with("courier") {
        "Courier"
    } else if lower.starts_with("helvetica") || lower.starts_with("arial") {
        "Helvetica"
    } else if lower.starts_with("times") {
        "Times"
    } else if lower == "symbol" {
        "Symbol"
    } else if lower.starts_with("zapfdingbats") {
        "ZapfDingbats"
    } else {
        return None;
    };
    let wanted = match (family, bold, italic) {
        ("Times", false, false) => "Times-Roman".to_string(),
        ("Times", true, false) => "Times-Bold".to_string(),
        ("Times", false, true) => "Times-Italic".to_string(),
        ("Times", true, true) => "Times-BoldItalic".to_string(),
        ("Symbol" | "ZapfDingbats", _, _) => family.to_string(),
        (f, false, false) => f.to_string(),
        (f, true, false) => format!("{f}-Bold"),
        (f, false, true) => format!("{f}-Oblique"),
        (f, true, true) => format!("{f}-BoldOblique"),
    };
    tables::STANDARD_14.iter().find(|f| f.name == wanted)
}

fn std_width(font: &Standard14, code: u8, text: Option<&str>) -> Option<f64> {
    if !font.by_code.is_empty() {
        return font
            .by_code
            .binary_search_by_key(&code, |(c, _)| *c)
            .ok()
            .map(|i| f64::from(font.by_code[i].1));
    }
    let mut chars = text?.chars();
    let c = u16::try_from(u32::from(chars.next()?)).ok()?;
    font.by_char
        .binary_search_by_key(&c, |(ch, _)| *ch)
        .ok()
        .map(|i| f64::from(font.by_char[i].1))
}

fn helvetica() -> &'static Standard14 {
    &tables::STANDARD_14[4]
}

impl Font {
    /// Reads a font dictionary. Only a stream over the size limit (a
    /// `ToUnicode` or CMap bomb) is an error.
    pub fn load(objects: &Objects<'_>, dict: &Dictionary, page: u32) -> Result<Font, PdfError> {
        let subtype = objects.get_name(dict, b"Subtype").unwrap_or(b"Type1");
        let to_unicode = match dict.get(b"ToUnicode").ok().and_then(|o| objects.stream(o)) {
            Some((id, stream)) => {
                let data = objects.stream_data(stream, id, Some(page))?;
                Some(CMap::parse(&data)).filter(CMap::has_unicode)
            }
            None => None,
        };
        if subtype == b"Type0" {
            return Self::load_composite(objects, dict, page, to_unicode);
        }
        let base_font = objects.get_name(dict, b"BaseFont").unwrap_or(b"");
        let standard = standard_14(base_font);
        let descriptor = objects.get_dict(dict, b"FontDescriptor");
        let symbolic_std = standard.filter(|s| !s.by_code.is_empty());

        // The encoding: the named or dictionary /Encoding over the font's
        // built-in one (Symbol's for the symbolic standard fonts, else Standard).
        let builtin = if symbolic_std.is_some_and(|s| s.name == "Symbol") {
            BaseEncoding::Symbol
        } else if subtype == b"TrueType" {
            BaseEncoding::WinAnsi
        } else {
            BaseEncoding::Standard
        };
        let mut encoding = SimpleEncoding::new(builtin);
        let mut names: Vec<(u8, &[u8])> = Vec::new();
        match objects.get(dict, b"Encoding") {
            Some(Object::Name(name)) => {
                if let Some(base) = BaseEncoding::from_name(name) {
                    encoding = SimpleEncoding::new(base);
                }
            }
            Some(Object::Dictionary(enc)) => {
                if let Some(base) = objects
                    .get_name(enc, b"BaseEncoding")
                    .and_then(BaseEncoding::from_name)
                {
                    encoding = SimpleEncoding::new(base);
                }
                if let Some(diffs) = objects.get_array(enc, b"Differences") {
                    let mut code: Option<u32> = None;
                    for item in diffs.iter().take(4096) {
                        match objects.resolve(item) {
                            Some(Object::Integer(n)) => code = u32::try_from(*n).ok(),
                            Some(Object::Name(name)) => {
                                if let Some(c) = code.and_then(|c| u8::try_from(c).ok()) {
                                    names.push((c, name));
                                    match glyph_text(name) {
                                        None if subtype == b"Type3" => {
                                            encoding.set_text(c, numeric_name_text(name));
                                        }
                                        _ => encoding.set(c, name),
                                    }
                                }
                                code = code.map(|c| c + 1);
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }

        let font_matrix = (subtype == b"Type3").then(|| {
            objects
                .get_array(dict, b"FontMatrix")
                .and_then(|m| objects.numbers(m))
                .filter(|m| m.len() >= 4 && m[0] != 0.0)
                .unwrap_or_else(|| vec![0.001, 0.0, 0.0, 0.001])
        });
        let type3_scale = font_matrix.as_ref().map(|m| m[0].abs());
        // Widths in 1/1000 em (Type3: in glyph space, scaled below).
        let mut widths = Box::new([f64::NAN; 256]);
        if let (Some(first), Some(list)) = (
            objects.get_number(dict, b"FirstChar"),
            objects.get_array(dict, b"Widths"),
        ) {
            let first = first.max(0.0) as usize;
            for (i, w) in list.iter().enumerate() {
                let slot = first.checked_add(i).and_then(|at| widths.get_mut(at));
                if let (Some(slot), Some(w)) = (slot, objects.number(w)) {
                    *slot = w;
                }
            }
        }
        let missing = descriptor
            .and_then(|d| objects.get_number(d, b"MissingWidth"))
            .unwrap_or(0.0);
        let has_widths = widths.iter().any(|w| !w.is_nan());
        for code in 0..=255u8 {
            let slot = &mut widths[usize::from(code)];
            if !slot.is_nan() {
                continue;
            }
            *slot = if has_widths {
                missing
            } else {
                let metrics = standard.unwrap_or_else(helvetica);
                std_width(metrics, code, encoding.text(code)).unwrap_or(if standard.is_some() {
                    missing
                } else {
                    500.0
                })
            };
        }
        for w in widths.iter_mut() {
            match type3_scale {
                Some(scale) => *w *= scale,
                None => *w /= 1000.0,
            }
        }

        let size_factor = match &font_matrix {
            Some(m) => type3_size_factor(&names, &widths, m),
            None => 1.0,
        };
        let (ascent, descent) = ascent_descent(objects, descriptor, standard);
        Ok(Font {
            codes: Codes::Simple(encoding),
            widths: Widths::Simple(widths),
            to_unicode,
            ascent,
            descent,
            size_factor,
        })
    }

    fn load_composite(
        objects: &Objects<'_>,
        dict: &Dictionary,
        page: u32,
        to_unicode: Option<CMap>,
    ) -> Result<Font, PdfError> {
        let cmap = match dict.get(b"Encoding").ok().map(|o| (o, objects.stream(o))) {
            Some((_, Some((id, stream)))) => {
                let data = objects.stream_data(stream, id, Some(page))?;
                let cmap = CMap::parse(&data);
                if cmap.has_codespace() {
                    cmap
                } else {
                    CMap::identity()
                }
            }
            // Identity-H, Identity-V and the predefined CJK CMaps: two-byte
            // codes (their CIDs are not mapped to Unicode without ToUnicode).
            _ => CMap::identity(),
        };
        let descendant = objects
            .get_array(dict, b"DescendantFonts")
            .and_then(|a| a.first())
            .and_then(|d| objects.dict(d));
        let mut ranges = Vec::new();
        let mut default = 1000.0;
        let mut descriptor = None;
        if let Some(cid_font) = descendant {
            descriptor = objects.get_dict(cid_font, b"FontDescriptor");
            if let Some(dw) = objects.get_number(cid_font, b"DW") {
                default = dw;
            }
            if let Some(w) = objects.get_array(cid_font, b"W") {
                let mut i = 0;
                while i < w.len() && ranges.len() < MAX_WIDTH_ENTRIES {
                    let Some(first) = objects.number(&w[i]) else {
                        i += 1;
                        continue;
                    };
                    let first = first.max(0.0) as u32;
                    match w.get(i + 1).and_then(|o| objects.resolve(o)) {
                        Some(Object::Array(list)) => {
                            let each: Vec<f64> = list
                                .iter()
                                .take(MAX_WIDTH_ENTRIES)
                                .map(|o| objects.number(o).unwrap_or(default))
                                .collect();
                            let last = first.saturating_add(each.len().saturating_sub(1) as u32);
                            if !each.is_empty() {
                                ranges.push((first, last, CidWidth::Each(each)));
                            }
                            i += 2;
                        }
                        Some(_) => {
                            if let (Some(last), Some(width)) = (
                                w.get(i + 1).and_then(|o| objects.number(o)),
                                w.get(i + 2).and_then(|o| objects.number(o)),
                            ) {
                                ranges.push((first, last.max(0.0) as u32, CidWidth::Same(width)));
                            }
                            i += 3;
                        }
                        None => break,
                    }
                }
            }
        }
        let (ascent, descent) = ascent_descent(objects, descriptor, None);
        Ok(Font {
            codes: Codes::Composite(cmap),
            widths: Widths::Cid { ranges, default },
            to_unicode,
            ascent,
            descent,
            size_factor: 1.0,
        })
    }

    /// Splits a string into codes, calling `each` for every code in order.
    pub fn decode(&self, bytes: &[u8], mut each: impl FnMut(Code)) {
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            let (len, code) = match &self.codes {
                Codes::Simple(_) => (1, u32::from(rest[0])),
                Codes::Composite(cmap) => {
                    let len = cmap.code_len(rest);
                    let code = rest[..len]
                        .iter()
                        .fold(0u32, |a, &b| (a << 8) | u32::from(b));
                    (len, code)
                }
            };
            let from_cmap = self.to_unicode.as_ref().and_then(|m| m.unicode(code));
            let text = match &self.codes {
                Codes::Simple(enc) => from_cmap.or_else(|| {
                    u8::try_from(code)
                        .ok()
                        .and_then(|c| enc.text(c))
                        .map(str::to_string)
                }),
                Codes::Composite(_) => from_cmap,
            };
            let width = match (&self.widths, &self.codes) {
                (Widths::Simple(w), _) => w[(code & 0xFF) as usize],
                (Widths::Cid { ranges, default }, Codes::Composite(cmap)) => {
                    let cid = cmap.cid(code);
                    ranges
                        .iter()
                        .find(|(lo, hi, _)| *lo <= cid && cid <= *hi)
                        .map_or(*default, |(lo, _, w)| match w {
                            CidWidth::Same(w) => *w,
                            CidWidth::Each(list) => {
                                list.get((cid - lo) as usize).copied().unwrap_or(*default)
                            }
                        })
                        / 1000.0
                }
                (Widths::Cid { default, .. }, _) => *default / 1000.0,
            };
            each(Code {
                len,
                width: if width.is_finite() { width } else { 0.0 },
                text,
                is_space: len == 1 && code == 32,
            });
            i += len;
        }
    }
}

/// The size of a Type3 font's em, which only rendering its glyphs would
/// tell, guessed as poppler does (so that word boxes and word breaks
/// agree): from the width of its `m` against 0.6 em, else of its first
/// one-letter glyph against 0.5 em, else of any glyph with a width
/// against 0.5 em; then by the font matrix's aspect.
fn type3_size_factor(names: &[(u8, &[u8])], widths: &[f64; 256], matrix: &[f64]) -> f64 {
    let mut by_code: [Option<&[u8]>; 256] = [None; 256];
    for (code, name) in names {
        by_code[usize::from(*code)] = Some(name);
    }
    let named = || {
        by_code
            .iter()
            .enumerate()
            .filter_map(|(c, n)| Some((c, (*n)?)))
    };
    let one_letter = |n: &[u8]| n.len() == 1 && n[0].is_ascii_alphabetic();
    let width_of = |code: usize| Some(widths[code]).filter(|w| *w > 0.0);
    let m = named()
        .rfind(|(_, n)| *n == b"m")
        .and_then(|(c, _)| width_of(c));
    let letter = named()
        .find(|(_, n)| one_letter(n))
        .and_then(|(c, _)| width_of(c));
    let any = named().find_map(|(c, _)| width_of(c));
    let mut factor = match (m, letter, any) {
        (Some(w), _, _) => w / 0.6,
        (None, Some(w), _) | (None, None, Some(w)) => w / 0.5,
        _ => 1.0,
    };
    if matrix[0] != 0.0 {
        factor *= (matrix[3] / matrix[0]).abs();
    }
    if factor.is_finite() && factor > 0.0 {
        factor
    } else {
        1.0
    }
}

/// Ascent and descent in em: the font descriptor's where they are
/// sensible, else the standard font's, else 0.95 and -0.35 (as poppler).
fn ascent_descent(
    objects: &Objects<'_>,
    descriptor: Option<&Dictionary>,
    standard: Option<&Standard14>,
) -> (f64, f64) {
    let (mut ascent, mut descent) = standard.map_or((0.95, -0.35), |s| {
        (f64::from(s.ascent) / 1000.0, f64::from(s.descent) / 1000.0)
    });
    if let Some(d) = descriptor {
        if let Some(a) = objects.get_number(d, b"Ascent") {
            let a = (a / 1000.0).abs();
            if a != 0.0 && a < 3.0 {
                ascent = a;
            }
        }
        if let Some(dd) = objects.get_number(d, b"Descent") {
            let dd = -(dd / 1000.0).abs();
            if dd != 0.0 && dd > -3.0 {
                descent = dd;
            }
        }
    }
    (ascent, descent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Document, Stream, dictionary};

    fn load(doc: &Document, font: Dictionary) -> Font {
        Font::load(&Objects::new(doc, 1 << 20), &font, 1).expect("loads")
    }

    fn texts(font: &Font, bytes: &[u8]) -> (String, Vec<f64>) {
        let mut text = String::new();
        let mut widths = Vec::new();
        font.decode(bytes, |c| {
            text.push_str(c.text.as_deref().unwrap_or("\u{FFFD}"));
            widths.push(c.width);
        });
        (text, widths)
    }

    #[test]
    fn standard_14_names_and_aliases() {
        assert_eq!(standard_14(b"Helvetica").map(|f| f.name), Some("Helvetica"));
        assert_eq!(
            standard_14(b"ABCDEF+Arial,Bold").map(|f| f.name),
            Some("Helvetica-Bold")
        );
        assert_eq!(
            standard_14(b"TimesNewRomanPS-ItalicMT").map(|f| f.name),
            Some("Times-Italic")
        );
        assert_eq!(standard_14(b"Courier New").map(|f| f.name), Some("Courier"));
        assert!(standard_14(b"DejaVuSans").is_none());
    }

    #[test]
    fn standard_font_widths_come_from_the_afm_metrics() {
        let doc = Document::with_version("1.5");
        let font = load(
            &doc,
            dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding"},
        );
        let (text, widths) = texts(&font, b"Ai \xe9");
        assert_eq!(text, "Ai é");
        assert_eq!(widths, vec![0.667, 0.222, 0.278, 0.556]);
        assert_eq!((font.ascent, font.descent), (0.718, -0.207));
        let courier = load(
            &doc,
            dictionary! {"Subtype" => "Type1", "BaseFont" => "Courier-Bold"},
        );
        assert_eq!(texts(&courier, b"W.").1, vec![0.6, 0.6]);
    }

    #[test]
    fn widths_and_differences_of_an_embedded_simple_font() {
        let doc = Document::with_version("1.5");
        let font = load(
            &doc,
            dictionary! {
                "Subtype" => "Type1", "BaseFont" => "XYZABC+Custom",
                "FirstChar" => 65, "Widths" => vec![600.into(), 700.into()],
                "Encoding" => dictionary! {
                    "BaseEncoding" => "WinAnsiEncoding",
                    "Differences" => vec![66.into(), Object::Name(b"fi".to_vec()), 1.into(), Object::Name(b"Euro".to_vec())],
                },
                "FontDescriptor" => dictionary! {"Ascent" => 800, "Descent" => 200, "MissingWidth" => 250},
            },
        );
        let (text, widths) = texts(&font, b"AB\x01C");
        assert_eq!(text, "A\u{FB01}€C");
        assert_eq!(widths, vec![0.6, 0.7, 0.25, 0.25]);
        assert_eq!((font.ascent, font.descent), (0.8, -0.2));
    }

    #[test]
    fn type3_fonts_scale_widths_by_the_font_matrix_and_guess_their_em() {
        let doc = Document::with_version("1.5");
        let font = load(
            &doc,
            dictionary! {
                "Subtype" => "Type3", "FirstChar" => 97, "Widths" => vec![50.into(), 120.into()],
                "FontMatrix" => vec![0.01.into(), 0.into(), 0.into(), 0.01.into(), 0.into(), 0.into()],
                "Encoding" => dictionary! {"Differences" => vec![
                    97.into(), Object::Name(b"a97".to_vec()), Object::Name(b"m".to_vec())]},
            },
        );
        let (text, widths) = texts(&font, b"ab");
        assert_eq!(text, "am");
        assert!((widths[0] - 0.5).abs() < 1e-6 && (widths[1] - 1.2).abs() < 1e-6);
        // Its "m" is 1.2 em wide against poppler's 0.6: an em twice the size.
        assert!((font.size_factor - 2.0).abs() < 1e-6);
    }

    #[test]
    fn type0_identity_h_with_a_to_unicode_bfrange_and_w_widths() {
        let mut doc = Document::with_version("1.5");
        let cmap = doc.add_object(Stream::new(
            dictionary! {},
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange
1 beginbfrange <0010> <0012> <0049> endbfrange
1 beginbfchar <0020> <0066006C> endbfchar"
                .to_vec(),
        ));
        let font = load(
            &doc,
            dictionary! {
                "Subtype" => "Type0", "BaseFont" => "ABCDEF+Noto", "Encoding" => "Identity-H",
                "ToUnicode" => cmap,
                "DescendantFonts" => vec![dictionary! {
                    "Subtype" => "CIDFontType2", "DW" => 500,
                    "W" => vec![16.into(), vec![300.into(), 400.into()].into(), 32.into(), 32.into(), 900.into()],
                }.into()],
            },
        );
        let (text, widths) = texts(&font, &[0, 0x10, 0, 0x11, 0, 0x12, 0, 0x20, 0, 0x99]);
        assert_eq!(text, "IJKfl\u{FFFD}");
        assert_eq!(widths, vec![0.3, 0.4, 0.5, 0.9, 0.5]);
    }
}
