//! Finding one byte in a short haystack, eight bytes at a time.
//!
//! X12 segments are short (twenty to forty bytes). `memchr` is the fastest
//! way through long haystacks, but each call pays a set-up cost that
//! dominates at these lengths; this word-at-a-time search (SWAR) has none,
//! and needs no `unsafe`.

const LO: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// High bit set in each byte of `word` that equals the byte repeated in
/// `pattern`, exactly (no false positives from borrows).
#[inline(always)]
fn matches(word: u64, pattern: u64) -> u64 {
    let x = word ^ pattern;
    !((((x & LOW7) + LOW7) | x) | LOW7)
}

/// The index of the first `byte` in `haystack`.
#[inline(always)]
pub fn find_byte(byte: u8, haystack: &[u8]) -> Option<usize> {
    let pattern = LO * u64::from(byte);
    let mut chunks = haystack.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = matches(u64::from_le_bytes(word), pattern);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == byte)
        .map(|i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_a_plain_search() {
        let hay: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        for start in 0..hay.len() {
            for byte in [0u8, 1, 0x7F, 0x80, 0xFF, b'~', 37, 74] {
                let h = &hay[start..];
                assert_eq!(
                    find_byte(byte, h),
                    h.iter().position(|&b| b == byte),
                    "{start} {byte}"
                );
            }
        }
        assert_eq!(find_byte(b'~', b""), None);
        assert_eq!(find_byte(0x01, &[0x00, 0x01]), Some(1));
        assert_eq!(
            find_byte(0x80, &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]),
            Some(7)
        );
    }
}
