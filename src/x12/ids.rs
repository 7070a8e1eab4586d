//! Small identifiers of X12: segment IDs and short element values kept inline.

use std::fmt;

/// A segment identifier such as `ISA`, `N1` or `PO1`, kept inline.
///
/// A well-formed ID is two or three upper-case letters or digits starting
/// with a letter; [`SegmentId::parse`] checks that. [`SegmentId::lossy`] keeps
/// up to three bytes of anything, so that a malformed ID can still be
/// reported (AK301 copies it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentId {
    bytes: [u8; 3],
    len: u8,
}

impl SegmentId {
    /// Parses a well-formed segment ID.
    pub fn parse(raw: &[u8]) -> Option<SegmentId> {
        let ok = matches!(raw.len(), 2 | 3)
            && raw[0].is_ascii_uppercase()
            && raw[1..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        ok.then(|| SegmentId::lossy(raw))
    }

    /// Keeps the first three bytes of `raw`, whatever they are.
    pub fn lossy(raw: &[u8]) -> SegmentId {
        let len = raw.len().min(3);
        let mut bytes = [0u8; 3];
        bytes[..len].copy_from_slice(&raw[..len]);
        SegmentId {
            bytes,
            len: len as u8,
        }
    }

    /// Builds an ID from a literal; for IDs known at compile time.
    pub const fn from_static(id: &'static str) -> SegmentId {
        let raw = id.as_bytes();
        let mut bytes = [0u8; 3];
        let mut i = 0;
        while i < raw.len() && i < 3 {
            bytes[i] = raw[i];
            i += 1;
        }
        SegmentId {
            bytes,
            len: i as u8,
        }
    }

    /// The ID's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The ID as text (lossy for malformed IDs).
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// True when the ID is well formed.
    pub fn is_well_formed(&self) -> bool {
        SegmentId::parse(self.as_bytes()).is_some()
    }

    /// The key of raw ID bytes, as [`SegmentId::key`] gives it for IDs of up
    /// to three bytes (longer IDs match no key of a well-formed ID).
    #[inline]
    pub fn key_of(raw: &[u8]) -> u32 {
        if raw.len() > 3 {
            return u32::MAX;
        }
        raw.iter().fold(0u32, |k, &b| (k << 8) | u32::from(b)) << (8 * (3 - raw.len() as u32))
    }

    /// The ID packed in a `u32`, for fast comparisons.
    pub const fn key(&self) -> u32 {
        (self.bytes[0] as u32) << 16 | (self.bytes[1] as u32) << 8 | self.bytes[2] as u32
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SegmentId({})", self.as_str())
    }
}

impl serde::Serialize for SegmentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

/// Well-known segment IDs.
pub mod seg {
    use super::SegmentId;
    pub const ISA: SegmentId = SegmentId::from_static("ISA");
    pub const IEA: SegmentId = SegmentId::from_static("IEA");
    pub const TA1: SegmentId = SegmentId::from_static("TA1");
    pub const GS: SegmentId = SegmentId::from_static("GS");
    pub const GE: SegmentId = SegmentId::from_static("GE");
    pub const ST: SegmentId = SegmentId::from_static("ST");
    pub const SE: SegmentId = SegmentId::from_static("SE");
}

/// A short value of at most `N` bytes kept inline (control numbers, codes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Short<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> Short<N> {
    /// Keeps `raw` when it fits, else `None`.
    pub fn new(raw: &[u8]) -> Option<Self> {
        (raw.len() <= N).then(|| Self::truncated(raw))
    }

    /// Keeps the first `N` bytes of `raw`.
    pub fn truncated(raw: &[u8]) -> Self {
        let len = raw.len().min(N);
        let mut bytes = [0u8; N];
        bytes[..len].copy_from_slice(&raw[..len]);
        Short {
            bytes,
            len: len as u8,
        }
    }

    /// The value's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The value as text (lossy).
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl<const N: usize> fmt::Display for Short<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl<const N: usize> fmt::Debug for Short<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl<const N: usize> serde::Serialize for Short<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_ids() {
        assert!(SegmentId::parse(b"N1").is_some());
        assert!(SegmentId::parse(b"PO1").is_some());
        assert!(SegmentId::parse(b"G61").is_some());
        assert!(SegmentId::parse(b"po1").is_none());
        assert!(SegmentId::parse(b"1PO").is_none());
        assert!(SegmentId::parse(b"PO12").is_none());
        assert!(SegmentId::parse(b"P").is_none());
        assert_eq!(SegmentId::lossy(b"garbage").to_string(), "gar");
        assert_eq!(seg::ISA.as_bytes(), b"ISA");
        assert_ne!(seg::GS.key(), seg::GE.key());
    }

    #[test]
    fn short_values() {
        let s = Short::<9>::new(b"0001").expect("fits");
        assert_eq!(s.as_bytes(), b"0001");
        assert!(Short::<3>::new(b"0001").is_none());
        assert_eq!(Short::<3>::truncated(b"0001").as_bytes(), b"000");
    }
}
