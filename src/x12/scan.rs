//! Finding one byte in a short haystack, sixteen bytes at a time.
//!
//! X12 segments are short (twenty to forty bytes). `memchr` is the fastest
//! way through long haystacks, but each call pays a set-up cost that
//! dominates at these lengths. This search compares sixteen bytes per step
//! with the `wide` crate's safe SIMD types (SSE2 on x86_64, which every
//! x86_64 machine has), then finishes with a word-at-a-time (SWAR) step.

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
    let needle = wide::u8x16::splat(byte);
    let mut wide_chunks = haystack.chunks_exact(16);
    let mut base = 0;
    for chunk in &mut wide_chunks {
        let mut block = [0u8; 16];
        block.copy_from_slice(chunk);
        let m = wide::u8x16::from(block).cmp_eq(needle).move_mask();
        if m != 0 {
            return Some(base + m.trailing_zeros() as usize);
        }
        base += 16;
    }
    find_byte_swar(byte, wide_chunks.remainder()).map(|i| base + i)
}

/// The index of the first `byte` in `haystack`, eight bytes at a time.
#[inline(always)]
fn find_byte_swar(byte: u8, haystack: &[u8]) -> Option<usize> {
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
