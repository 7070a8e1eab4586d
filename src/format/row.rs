//! A record of a flat feed as the decoder read it: its fields' text and
//! its place, before any tree node is made for it.
//!
//! A sink that can map a record straight from its fields (see
//! [`super::DocumentSink::row`]) spares the decoder building a node per
//! field; one that cannot declines, and the decoder appends the record to
//! the tree as usual.

use super::{Name, Place};

/// Where a field is in its record's text: start and end byte offsets.
pub type Span = (u32, u32);

/// One record: a text holding the fields' decoded text, and where each
/// field is in it.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    text: &'a str,
    spans: &'a [Span],
    names: &'a [Name],
    place: Place,
}

impl<'a> Row<'a> {
    /// A record whose field `i` (from 0) is `text[spans[i].0..spans[i].1]`,
    /// in the column named `names[i]`. A span that is not in the text, or
    /// not on character boundaries, reads as an empty field.
    pub fn new(text: &'a str, spans: &'a [Span], names: &'a [Name], place: Place) -> Row<'a> {
        Row {
            text,
            spans,
            names,
            place,
        }
    }

    /// The name of the column of field `i`.
    pub fn name(&self, i: usize) -> Option<Name> {
        self.names.get(i).copied()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True for a record without fields.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i` (from 0), if the record has it.
    #[inline(always)]
    pub fn field(&self, i: usize) -> Option<&'a str> {
        let &(start, end) = self.spans.get(i)?;
        Some(self.text.get(start as usize..end as usize).unwrap_or(""))
    }

    /// Every field, in order.
    pub fn fields(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).filter_map(|i| self.field(i))
    }

    /// Where the record is: its offset, line and record number.
    pub fn place(&self) -> Place {
        self.place
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fields_at_their_spans() {
        let spans = [(0, 2), (2, 2), (3, 5)];
        let row = Row::new("abcde", &spans, &[], Place::default());
        assert_eq!(row.len(), 3);
        assert_eq!(row.fields().collect::<Vec<_>>(), ["ab", "", "de"]);
        assert_eq!(row.field(3), None);
        let bad = [(4, 2), (1, 9)];
        let row = Row::new("abcde", &bad, &[], Place::default());
        assert_eq!(row.field(0), Some(""));
        assert_eq!(row.field(1), Some(""));
        let row = Row::new("aé", &[(0, 2)], &[], Place::default());
        assert_eq!(row.field(0), Some(""), "not on a character boundary");
    }
}
