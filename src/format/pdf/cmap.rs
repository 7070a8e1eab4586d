//! `cmap`: CMaps: how a composite font's string splits into codes (the
//! code space ranges), codes to CIDs (`cidchar`, `cidrange`), and codes to
//! Unicode (a `ToUnicode` CMap's `bfchar` and `bfrange`, in both its
//! incrementing and its array form).
//!
//! Ranges stay ranges (a `bfrange` over 65,536 codes costs one entry), and
//! the number of entries read is bounded by [`MAX_ENTRIES`].

use super::lexer::{Lexer, Operand, Token};

/// How many mappings one CMap may hold.
pub const MAX_ENTRIES: usize = 200_000;

/// A code space range: codes of `len` bytes from `lo` to `hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Codespace {
    len: usize,
    lo: u32,
    hi: u32,
}

/// Where a range of codes goes in Unicode.
#[derive(Clone, Debug)]
enum Target {
    /// The first code's text; later codes increment its last character.
    Incrementing(Vec<u16>),
    /// One text per code.
    Each(Vec<String>),
}

#[derive(Clone, Debug)]
struct UnicodeRange {
    lo: u32,
    hi: u32,
    target: Target,
}

/// A parsed CMap.
#[derive(Clone, Debug, Default)]
pub struct CMap {
    codespace: Vec<Codespace>,
    cid_ranges: Vec<(u32, u32, u32)>,
    unicode: Vec<UnicodeRange>,
    /// Whether `unicode` is sorted by `lo` (for binary search).
    sorted: bool,
}

fn code_of(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    if bytes.len() == 1 {
        return vec![u16::from(bytes[0])];
    }
    bytes
        .chunks(2)
        .map(|c| (u16::from(c[0]) << 8) | u16::from(c.get(1).copied().unwrap_or(0)))
        .collect()
}

impl CMap {
    /// Parses a CMap's bytes. Never fails: what cannot be read is left out.
    pub fn parse(data: &[u8]) -> CMap {
        let mut cmap = CMap::default();
        let mut lexer = Lexer::new(data);
        let mut operands: Vec<Operand> = Vec::new();
        let mut entries = 0usize;
        while let Some(token) = lexer.next_token() {
            match token {
                Token::Operand(op) => {
                    if operands.len() < 30_000 {
                        operands.push(op);
                    }
                }
                Token::Operator(op) => {
                    match op {
                        b"endcodespacerange" => {
                            for pair in operands.chunks_exact(2) {
                                if let (Operand::Str(lo), Operand::Str(hi)) = (&pair[0], &pair[1])
                                    && !lo.is_empty()
                                    && lo.len() <= 4
                                {
                                    cmap.codespace.push(Codespace {
                                        len: lo.len(),
                                        lo: code_of(lo),
                                        hi: code_of(hi),
                                    });
                                }
                            }
                        }
                        b"endbfchar" => {
                            for pair in operands.chunks_exact(2) {
                                if entries >= MAX_ENTRIES {
                                    break;
                                }
                                if let Operand::Str(src) = &pair[0] {
                                    let code = code_of(src);
                                    let text = match &pair[1] {
                                        Operand::Str(dst) => {
                                            String::from_utf16_lossy(&utf16_units(dst))
                                        }
                                        Operand::Name(n) => {
                                            super::encoding::glyph_text(n).unwrap_or_default()
                                        }
                                        _ => continue,
                                    };
                                    cmap.unicode.push(UnicodeRange {
                                        lo: code,
                                        hi: code,
                                        target: Target::Each(vec![text]),
                                    });
                                    entries += 1;
                                }
                            }
                        }
                        b"endbfrange" => {
                            for triple in operands.chunks_exact(3) {
                                if entries >= MAX_ENTRIES {
                                    break;
                                }
                                let (Operand::Str(lo), Operand::Str(hi)) = (&triple[0], &triple[1])
                                else {
                                    continue;
                                };
                                let (lo, hi) = (code_of(lo), code_of(hi));
                                if hi < lo {
                                    continue;
                                }
                                let target = match &triple[2] {
                                    Operand::Str(dst) => Target::Incrementing(utf16_units(dst)),
                                    Operand::Array(items) => {
                                        let texts: Vec<String> = items
                                            .iter()
                                            .take(MAX_ENTRIES)
                                            .map(|i| match i {
                                                Operand::Str(d) => {
                                                    String::from_utf16_lossy(&utf16_units(d))
                                                }
                                                _ => String::new(),
                                            })
                                            .collect();
                                        entries += texts.len();
                                        Target::Each(texts)
                                    }
                                    _ => continue,
                                };
                                cmap.unicode.push(UnicodeRange { lo, hi, target });
                                entries += 1;
                            }
                        }
                        b"endcidrange" => {
                            for triple in operands.chunks_exact(3) {
                                if let (Operand::Str(lo), Operand::Str(hi), Some(cid)) =
                                    (&triple[0], &triple[1], triple[2].number())
                                    && cmap.cid_ranges.len() < MAX_ENTRIES
                                {
                                    cmap.cid_ranges.push((
                                        code_of(lo),
                                        code_of(hi),
                                        cid.max(0.0) as u32,
                                    ));
                                }
                            }
                        }
                        b"endcidchar" => {
                            for pair in operands.chunks_exact(2) {
                                if let (Operand::Str(code), Some(cid)) =
                                    (&pair[0], pair[1].number())
                                    && cmap.cid_ranges.len() < MAX_ENTRIES
                                {
                                    let code = code_of(code);
                                    cmap.cid_ranges.push((code, code, cid.max(0.0) as u32));
                                }
                            }
                        }
                        _ => {}
                    }
                    operands.clear();
                }
            }
        }
        // Later entries win over earlier ones in readers; a stable sort
        // keeps their order among equal starts, and lookup takes the last.
        cmap.unicode.sort_by_key(|r| r.lo);
        cmap.sorted = true;
        cmap
    }

    /// The Identity-H CMap: two-byte codes, CID = code.
    pub fn identity() -> CMap {
        CMap {
            codespace: vec![Codespace {
                len: 2,
                lo: 0,
                hi: 0xFFFF,
            }],
            ..CMap::default()
        }
    }

    /// Whether it has code space ranges (to split strings with).
    pub fn has_codespace(&self) -> bool {
        !self.codespace.is_empty()
    }

    /// Whether it maps any code to Unicode.
    pub fn has_unicode(&self) -> bool {
        !self.unicode.is_empty()
    }

    /// The length of the code at the start of `bytes` (at least 1).
    pub fn code_len(&self, bytes: &[u8]) -> usize {
        for len in 1..=4.min(bytes.len()) {
            let code = code_of(&bytes[..len]);
            if self
                .codespace
                .iter()
                .any(|c| c.len == len && c.lo <= code && code <= c.hi)
            {
                return len;
            }
        }
        // No range holds it: take the shortest length there is.
        self.codespace
            .iter()
            .map(|c| c.len)
            .min()
            .unwrap_or(1)
            .min(bytes.len())
            .max(1)
    }

    /// The CID of a code (the code itself where no range says otherwise).
    pub fn cid(&self, code: u32) -> u32 {
        if self.cid_ranges.is_empty() {
            return code;
        }
        self.cid_ranges
            .iter()
            .rev()
            .find(|(lo, hi, _)| *lo <= code && code <= *hi)
            .map_or(0, |(lo, _, cid)| cid.saturating_add(code - lo))
    }

    /// The Unicode text of a code, if the CMap maps it.
    pub fn unicode(&self, code: u32) -> Option<String> {
        let end = self.unicode.partition_point(|r| r.lo <= code);
        let range = self.unicode[..end].iter().rev().find(|r| code <= r.hi)?;
        let offset = code - range.lo;
        match &range.target {
            Target::Each(texts) => texts.get(offset as usize).cloned(),
            Target::Incrementing(units) => {
                let mut units = units.clone();
                if let Some(last) = units.last_mut() {
                    *last = last.wrapping_add(offset as u16);
                }
                Some(String::from_utf16_lossy(&units))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO_UNICODE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Adobe-Identity-UCS def
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0003> <0020> <0011> <D83DDE00> endbfchar
3 beginbfrange <0024> <0026> <0041> <0030> <0032> [<0078> <0079> <007A>]
<0040> <0040> <FB01>
endbfrange endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn bfchar_and_both_bfrange_forms() {
        let cmap = CMap::parse(TO_UNICODE);
        assert_eq!(cmap.unicode(0x03).as_deref(), Some(" "));
        assert_eq!(cmap.unicode(0x11).as_deref(), Some("😀"));
        assert_eq!(cmap.unicode(0x24).as_deref(), Some("A"));
        assert_eq!(cmap.unicode(0x26).as_deref(), Some("C"));
        assert_eq!(cmap.unicode(0x27), None);
        assert_eq!(cmap.unicode(0x31).as_deref(), Some("y"));
        assert_eq!(cmap.unicode(0x40).as_deref(), Some("\u{FB01}"));
        assert_eq!(cmap.code_len(&[0, 0x24, 0]), 2);
    }

    #[test]
    fn mixed_code_lengths_split_by_codespace() {
        let cmap = CMap::parse(
            b"2 begincodespacerange <00> <80> <8140> <9FFC> endcodespacerange
1 begincidrange <8140> <817E> 633 endcidrange",
        );
        assert_eq!(cmap.code_len(b"A"), 1);
        assert_eq!(cmap.code_len(&[0x81, 0x41]), 2);
        assert_eq!(cmap.cid(0x8141), 634);
        assert_eq!(CMap::identity().code_len(&[1, 2, 3]), 2);
    }

    #[test]
    fn garbage_gives_an_empty_map() {
        let cmap = CMap::parse(b"\xff\xfe beginbfrange <01> endbfrange [[[ ((");
        assert!(!cmap.has_unicode());
        assert_eq!(cmap.code_len(b"xy"), 1);
    }
}
