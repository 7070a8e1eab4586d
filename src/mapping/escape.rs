//! JSON strings: what must be escaped, and writing a value as a JSON
//! string. Every canonical document is written through here.

/// Bytes that a JSON string cannot hold as they are: control characters,
/// the quote and the backslash.
static ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Writes a JSON string.
#[inline(always)]
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    match first_escaped(bytes) {
        None => {
            out.reserve(bytes.len() + 2);
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.push(b'"');
        }
        Some(first) => write_escaped(out, bytes, first),
    }
}

#[cold]
/// The position of the first byte JSON must escape (a control character,
/// `"` or `\\`), eight bytes at a time: most values have none.
#[inline(always)]
fn first_escaped(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `v` is zero: its high bit in the result (exact as to
    // whether any is).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // Below 0x20 (bytes of 0x80 and over excepted), or a quote, or a
        // backslash.
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        if control | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) != 0 {
            return chunk
                .iter()
                .position(|&b| ESCAPED[usize::from(b)])
                .map(|i| at + i);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| ESCAPED[usize::from(b)])
        .map(|i| at + i)
}

fn write_escaped(out: &mut Vec<u8>, bytes: &[u8], first: usize) {
    out.push(b'"');
    out.extend_from_slice(&bytes[..first]);
    let mut start = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1F => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-at-a-time search finds what a byte-by-byte one finds, for
    /// every special byte at every place of strings around the word size.
    #[test]
    fn finds_the_first_byte_to_escape_like_a_plain_search() {
        let specials: Vec<u8> = (0u8..0x20).chain([b'"', b'\\']).collect();
        let plain = |b: &[u8]| b.iter().position(|&c| ESCAPED[usize::from(c)]);
        for len in 0..20 {
            let base: Vec<u8> = (0..len).map(|i| b"aZ~ \x7f\xc3\xa9"[i % 7]).collect();
            assert_eq!(first_escaped(&base), plain(&base));
            for at in 0..len {
                for &s in &specials {
                    let mut v = base.clone();
                    v[at] = s;
                    assert_eq!(first_escaped(&v), plain(&v), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn writes_strings_with_escapes() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, b"\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
    }
}
