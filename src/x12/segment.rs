//! Segments as they come out of the lexer (borrowed) and as code builds them
//! (owned).
//!
//! A [`Segment`] borrows its bytes from the reader's buffer and splits them
//! only when asked: the lexer never allocates. An [`OwnedSegment`] holds
//! elements, repetitions and components as separate values; it is what the
//! writer serializes and what code builds for outbound documents.

use super::delimiters::Delimiters;
use super::ids::SegmentId;
use super::position::Position;

/// One segment, borrowed from the input: its bytes without the terminator.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    raw: &'a [u8],
    /// `raw` and whatever the buffer holds after it (at least `raw`): lets
    /// SIMD code load whole blocks without copying the segment's tail.
    spare: &'a [u8],
    id_len: usize,
    delimiters: Delimiters,
    position: Position,
}

impl<'a> Segment<'a> {
    /// Wraps the bytes of one segment (without its terminator).
    pub fn new(raw: &'a [u8], delimiters: Delimiters, position: Position) -> Segment<'a> {
        Segment::within(raw, raw.len(), delimiters, position)
    }

    /// The segment made of the first `len` bytes of `bytes`; the bytes after
    /// them (the terminator, the next segments) may be read past the end of
    /// the segment by code that masks what it reads.
    pub fn within(
        bytes: &'a [u8],
        len: usize,
        delimiters: Delimiters,
        position: Position,
    ) -> Segment<'a> {
        let len = len.min(bytes.len());
        let raw = &bytes[..len];
        let id_len = raw
            .iter()
            .position(|&b| b == delimiters.element())
            .unwrap_or(raw.len());
        Segment {
            raw,
            spare: bytes,
            id_len,
            delimiters,
            position,
        }
    }

    /// The segment's bytes followed by what came after it in the buffer.
    pub fn spare(&self) -> &'a [u8] {
        self.spare
    }

    /// The segment ID (the bytes before the first element separator).
    pub fn id(&self) -> SegmentId {
        SegmentId::lossy(self.id_bytes())
    }

    /// The raw bytes of the segment ID, however long.
    pub fn id_bytes(&self) -> &'a [u8] {
        &self.raw[..self.id_len]
    }

    /// True when the segment's ID is exactly `id`.
    pub fn is(&self, id: &[u8]) -> bool {
        self.id_bytes() == id
    }

    /// The whole segment, ID and elements, without the terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The delimiters in force for this segment.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Where the segment is.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Sets the segment's ordinal within its transaction set.
    pub fn set_in_set(&mut self, n: Option<u32>) {
        self.position.in_set = n;
    }

    /// The elements, from element 01 on. Empty elements are yielded as empty
    /// slices; a segment with no separator has no elements.
    pub fn elements(&self) -> Elements<'a> {
        let rest = if self.id_len < self.raw.len() {
            Some(&self.raw[self.id_len + 1..])
        } else {
            None
        };
        Elements {
            rest,
            separator: self.delimiters.element(),
        }
    }

    /// The number of elements (separators), counting empty ones.
    pub fn element_count(&self) -> usize {
        memchr::memchr_iter(self.delimiters.element(), self.raw).count()
    }

    /// Element `n` (1-based, as in `BEG03`); `None` past the last element.
    pub fn element(&self, n: usize) -> Option<&'a [u8]> {
        n.checked_sub(1).and_then(|i| self.elements().nth(i))
    }

    /// Element `n` as text with surrounding spaces trimmed, `""` when absent.
    pub fn text(&self, n: usize) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.element(n).unwrap_or(b"").trim_ascii())
    }

    /// Copies the segment into an owned, fully split form.
    pub fn to_owned_segment(&self) -> OwnedSegment {
        let d = self.delimiters;
        // The ISA's elements are fixed-width values, two of which are
        // delimiters themselves: they are never split.
        let split = !self.is(b"ISA");
        OwnedSegment {
            id: self.id_bytes().to_vec(),
            elements: self
                .elements()
                .map(|e| {
                    if split {
                        split_element(e, &d, true)
                    } else {
                        Element::simple(e)
                    }
                })
                .collect(),
        }
    }
}

/// Splits an element into repetitions and components. When `split_components`
/// is false the element is one component per repetition.
pub fn split_element(raw: &[u8], d: &Delimiters, split_components: bool) -> Element {
    let reps: Vec<&[u8]> = match d.repetition() {
        Some(r) => raw.split(|&b| b == r).collect(),
        None => vec![raw],
    };
    Element(
        reps.into_iter()
            .map(|rep| {
                if split_components {
                    rep.split(|&b| b == d.component())
                        .map(<[u8]>::to_vec)
                        .collect()
                } else {
                    vec![rep.to_vec()]
                }
            })
            .collect(),
    )
}

/// Iterator over the elements of a [`Segment`].
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    rest: Option<&'a [u8]>,
    separator: u8,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        // Elements are short: a plain loop beats memchr's set-up cost here.
        match rest.iter().position(|&b| b == self.separator) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// An element split into repetitions, each split into components.
///
/// A simple element with one value is `[[value]]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Element(pub Vec<Vec<Vec<u8>>>);

impl Element {
    /// A simple element holding one value.
    pub fn simple(value: impl Into<Vec<u8>>) -> Element {
        Element(vec![vec![value.into()]])
    }

    /// A composite element with one repetition.
    pub fn composite<I, V>(components: I) -> Element
    where
        I: IntoIterator<Item = V>,
        V: Into<Vec<u8>>,
    {
        Element(vec![components.into_iter().map(Into::into).collect()])
    }

    /// True when the element carries no data at all.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|rep| rep.iter().all(Vec::is_empty))
    }
}

/// A segment owned and fully split, ready for the writer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OwnedSegment {
    /// The segment ID.
    pub id: Vec<u8>,
    /// Elements from 01 on.
    pub elements: Vec<Element>,
}

impl OwnedSegment {
    /// A segment with simple elements given as text.
    pub fn from_texts<S: AsRef<[u8]>>(id: &str, elements: &[S]) -> OwnedSegment {
        OwnedSegment {
            id: id.as_bytes().to_vec(),
            elements: elements
                .iter()
                .map(|e| Element::simple(e.as_ref().to_vec()))
                .collect(),
        }
    }

    /// Drops empty elements at the end, as X12 requires of a sender.
    pub fn trim_trailing_empty(&mut self) {
        while self.elements.last().is_some_and(Element::is_empty) {
            self.elements.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(raw: &[u8]) -> Segment<'_> {
        Segment::new(raw, Delimiters::x12_5010(), Position::default())
    }

    #[test]
    fn splits_elements_lazily() {
        let s = seg(b"PO1*1*2*EA*19.99**VN*SKU-100");
        assert_eq!(s.id().to_string(), "PO1");
        assert_eq!(s.element_count(), 7);
        assert_eq!(s.element(1), Some(&b"1"[..]));
        assert_eq!(s.element(5), Some(&b""[..]));
        assert_eq!(s.element(7), Some(&b"SKU-100"[..]));
        assert_eq!(s.element(8), None);
        assert_eq!(s.element(0), None);
        assert_eq!(s.text(3), "EA");
    }

    #[test]
    fn segment_without_elements() {
        let s = seg(b"BIA");
        assert_eq!(s.elements().count(), 0);
        let s = seg(b"REF*");
        assert_eq!(s.elements().collect::<Vec<_>>(), vec![&b""[..]]);
    }

    #[test]
    fn owned_form_splits_repetitions_and_components() {
        let s = seg(b"HI*A:1^B:2*X");
        let o = s.to_owned_segment();
        assert_eq!(o.id, b"HI");
        assert_eq!(
            o.elements[0].0,
            vec![
                vec![b"A".to_vec(), b"1".to_vec()],
                vec![b"B".to_vec(), b"2".to_vec()]
            ]
        );
        assert_eq!(o.elements[1], Element::simple("X"));
    }

    #[test]
    fn trims_trailing_empty_elements() {
        let mut o = OwnedSegment::from_texts("REF", &["IA", "123", "", ""]);
        o.trim_trailing_empty();
        assert_eq!(o.elements.len(), 2);
    }
}
