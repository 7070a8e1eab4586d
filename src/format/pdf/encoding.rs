//! `encoding`: single-byte font encodings: the standard base encodings
//! (Standard, WinAnsi, MacRoman, Symbol), `/Differences` over them, and
//! glyph names to Unicode (the Adobe Glyph List for the names that occur,
//! `uniXXXX`, `uXXXX[XX]`, `f_f_i`-style ligature names, `.suffix` variants).

use super::tables;

/// A base encoding named by a font's `/Encoding` or `/BaseEncoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseEncoding {
    /// Adobe StandardEncoding (the default of Type 1 text fonts).
    Standard,
    /// WinAnsiEncoding (Windows code page 1252).
    WinAnsi,
    /// MacRomanEncoding.
    MacRoman,
    /// The Symbol font's built-in encoding.
    Symbol,
}

impl BaseEncoding {
    /// The encoding a name stands for (`WinAnsiEncoding`, ...).
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"StandardEncoding" => Some(Self::Standard),
            b"WinAnsiEncoding" => Some(Self::WinAnsi),
            b"MacRomanEncoding" | b"MacExpertEncoding" => Some(Self::MacRoman),
            _ => None,
        }
    }

    fn table(self) -> &'static [u16; 256] {
        match self {
            Self::Standard => &tables::STANDARD,
            Self::WinAnsi => &tables::WIN_ANSI,
            Self::MacRoman => &tables::MAC_ROMAN,
            Self::Symbol => &tables::SYMBOL,
        }
    }
}

/// A complete single-byte encoding: a character (or several, for a
/// ligature glyph name such as `f_i`) per code.
#[derive(Clone, Debug)]
pub struct SimpleEncoding {
    chars: Vec<Option<Box<str>>>,
}

impl SimpleEncoding {
    /// The base encoding as it is.
    pub fn new(base: BaseEncoding) -> Self {
        let table = base.table();
        let chars = table
            .iter()
            .map(|&c| {
                (c != 0)
                    .then(|| char::from_u32(u32::from(c)))
                    .flatten()
                    .map(|c| c.to_string().into_boxed_str())
            })
            .collect();
        SimpleEncoding { chars }
    }

    /// Applies a `/Differences` entry: `code` now shows the glyph `name`.
    pub fn set(&mut self, code: u8, name: &[u8]) {
        self.chars[usize::from(code)] = glyph_text(name).map(String::into_boxed_str);
    }

    /// Sets the text of a code directly.
    pub fn set_text(&mut self, code: u8, text: Option<String>) {
        self.chars[usize::from(code)] = text.map(String::into_boxed_str);
    }

    /// The text of a code, if the encoding gives it one.
    pub fn text(&self, code: u8) -> Option<&str> {
        self.chars[usize::from(code)].as_deref()
    }
}

/// The Unicode text of a glyph name, if it has one.
pub fn glyph_text(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    // "a.sc", "one.oldstyle": the part before the first dot names the character.
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base.contains('_') {
        let mut out = String::new();
        for part in base.split('_') {
            out.push_str(&single(part)?);
        }
        return Some(out);
    }
    single(base)
}

fn single(name: &str) -> Option<String> {
    if let Ok(i) = tables::GLYPH_NAMES.binary_search_by(|(n, _)| (*n).cmp(name)) {
        return char::from_u32(u32::from(tables::GLYPH_NAMES[i].1)).map(String::from);
    }
    if let Some(hex) = name.strip_prefix("uni")
        && hex.len() >= 4
        && hex.len() % 4 == 0
    {
        let mut out = String::new();
        for chunk in hex.as_bytes().chunks(4) {
            let v = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
            out.push(char::from_u32(v)?);
        }
        return Some(out);
    }
    if let Some(hex) = name.strip_prefix('u')
        && (4..=6).contains(&hex.len())
    {
        let v = u32::from_str_radix(hex, 16).ok()?;
        return char::from_u32(v).map(String::from);
    }
    None
}

/// The character a numeric glyph name stands for, as Type3 fonts made
/// from bitmaps name their glyphs (`a65`, `g97`, `C101`, `119`): one or two
/// letters, then the decimal character code (as poppler reads them).
pub fn numeric_name_text(name: &[u8]) -> Option<String> {
    let digits_at = name.iter().position(u8::is_ascii_digit)?;
    if digits_at > 2 || !name[..digits_at].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let digits = &name[digits_at..];
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (32..=255)
        .contains(&value)
        .then(|| char::from_u32(value))
        .flatten()
        .filter(|c| !c.is_control())
        .map(String::from)
}

/// Splits the Latin ligature characters (U+FB00 to U+FB06) into their
/// letters and leaves every other character as it is.
pub fn push_split_ligatures(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' => out.push_str("\u{17F}t"),
            '\u{FB06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_encodings_differ_where_the_standard_says() {
        let win = SimpleEncoding::new(BaseEncoding::WinAnsi);
        let std = SimpleEncoding::new(BaseEncoding::Standard);
        let mac = SimpleEncoding::new(BaseEncoding::MacRoman);
        assert_eq!(win.text(0x41), Some("A"));
        assert_eq!(win.text(0x80), Some("€"));
        assert_eq!(win.text(0xE9), Some("é"));
        assert_eq!(std.text(0x27), Some("\u{2019}"));
        assert_eq!(std.text(0xE9), Some("Ø"));
        assert_eq!(mac.text(0x8E), Some("é"));
        assert_eq!(win.text(0x05), None);
    }

    #[test]
    fn differences_name_glyphs() {
        let mut enc = SimpleEncoding::new(BaseEncoding::Standard);
        enc.set(1, b"T");
        enc.set(2, b"fi");
        enc.set(3, b"uni20AC");
        enc.set(4, b"f_f_l");
        enc.set(5, b"a.sc");
        enc.set(6, b"g123");
        enc.set(7, b"u1F600");
        assert_eq!(enc.text(1), Some("T"));
        assert_eq!(enc.text(2), Some("\u{FB01}"));
        assert_eq!(enc.text(3), Some("€"));
        assert_eq!(enc.text(4), Some("ffl"));
        assert_eq!(enc.text(5), Some("a"));
        assert_eq!(enc.text(6), None);
        assert_eq!(enc.text(7), Some("😀"));
    }

    #[test]
    fn numeric_glyph_names_of_bitmap_fonts() {
        assert_eq!(numeric_name_text(b"a119").as_deref(), Some("w"));
        assert_eq!(numeric_name_text(b"g65").as_deref(), Some("A"));
        assert_eq!(numeric_name_text(b"50").as_deref(), Some("2"));
        assert_eq!(numeric_name_text(b"abc12"), None);
        assert_eq!(numeric_name_text(b"a7"), None);
    }

    #[test]
    fn ligatures_split_into_letters() {
        let mut s = String::new();
        push_split_ligatures(&mut s, "o\u{FB03}ce \u{FB02}ow");
        assert_eq!(s, "office flow");
    }
}
