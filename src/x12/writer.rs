//! Serializes segments with any delimiters and line style.
//!
//! The writer is strict where the reader is lenient: a data value that holds
//! one of the delimiters is refused (the caller decides whether to replace or
//! drop it), and repetitions need a repetition separator. Counts and control
//! numbers are not the writer's business: callers that build envelopes
//! compute SE01, GE01 and IEA01 from what they wrote ([`Writer::written`]).

use std::io::{self, Write};

use super::delimiters::{Delimiters, LineStyle, Printable};
use super::segment::{OwnedSegment, Segment};

/// Why a segment cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A value contains a delimiter.
    #[error("{segment}{element:02}: the value holds the delimiter {}", Printable(*.byte))]
    DelimiterInData {
        segment: String,
        element: usize,
        byte: u8,
    },
    /// An element repeats but the interchange has no repetition separator.
    #[error("{segment}{element:02}: repeats, but the interchange has no repetition separator")]
    NoRepetitionSeparator { segment: String, element: usize },
    /// The output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes segments to a byte sink.
#[derive(Debug)]
pub struct Writer<W> {
    out: W,
    delimiters: Delimiters,
    line_style: LineStyle,
    segments: u64,
}

impl<W: Write> Writer<W> {
    /// A writer with the given delimiters and line style.
    pub fn new(out: W, delimiters: Delimiters, line_style: LineStyle) -> Self {
        Writer {
            out,
            delimiters,
            line_style,
            segments: 0,
        }
    }

    /// The delimiters in use.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Changes the delimiters, e.g. at a new interchange.
    pub fn set_delimiters(&mut self, delimiters: Delimiters) {
        self.delimiters = delimiters;
    }

    /// Changes the line style, e.g. at a new interchange.
    pub fn set_line_style(&mut self, line_style: LineStyle) {
        self.line_style = line_style;
    }

    /// Segments written so far.
    pub fn written(&self) -> u64 {
        self.segments
    }

    /// Writes a segment exactly as it was read. Its delimiters must be the
    /// writer's: raw bytes are not re-encoded.
    pub fn write_raw(&mut self, segment: &Segment<'_>) -> io::Result<()> {
        self.out.write_all(segment.raw())?;
        self.end_segment()
    }

    /// Writes an owned segment, checking that no value holds a delimiter.
    pub fn write(&mut self, segment: &OwnedSegment) -> Result<(), WriteError> {
        check_id(segment, &self.delimiters)?;
        let is_isa = segment.id == b"ISA";
        for (i, element) in segment.elements.iter().enumerate() {
            let n = i + 1;
            // ISA11 and ISA16 carry delimiters as their values.
            let carries_delimiter = is_isa && (n == 11 || n == 16);
            if element.0.len() > 1 && self.delimiters.repetition().is_none() {
                return Err(WriteError::NoRepetitionSeparator {
                    segment: String::from_utf8_lossy(&segment.id).into_owned(),
                    element: n,
                });
            }
            if !carries_delimiter {
                for value in element.0.iter().flatten() {
                    if let Some(&byte) = value.iter().find(|&&b| self.delimiters.is_delimiter(b)) {
                        return Err(WriteError::DelimiterInData {
                            segment: String::from_utf8_lossy(&segment.id).into_owned(),
                            element: n,
                            byte,
                        });
                    }
                }
            }
        }
        self.out.write_all(&segment.id)?;
        let d = self.delimiters;
        for element in &segment.elements {
            self.out.write_all(&[d.element()])?;
            for (r, repetition) in element.0.iter().enumerate() {
                if r > 0 {
                    // Checked above: repetitions imply a separator.
                    self.out
                        .write_all(&[d.repetition().unwrap_or(d.element())])?;
                }
                for (c, component) in repetition.iter().enumerate() {
                    if c > 0 {
                        self.out.write_all(&[d.component()])?;
                    }
                    self.out.write_all(component)?;
                }
            }
        }
        self.end_segment()?;
        Ok(())
    }

    /// Writes a segment of simple text elements, dropping trailing empty
    /// elements as X12 asks of senders. Written directly, with no
    /// intermediate segment: acknowledgments write millions of these.
    pub fn write_texts<S: AsRef<[u8]>>(
        &mut self,
        id: &str,
        elements: &[S],
    ) -> Result<(), WriteError> {
        let d = self.delimiters;
        if let Some(&byte) = id.as_bytes().iter().find(|&&b| d.is_delimiter(b)) {
            return Err(WriteError::DelimiterInData {
                segment: id.to_string(),
                element: 0,
                byte,
            });
        }
        let used = elements
            .iter()
            .rposition(|e| !e.as_ref().is_empty())
            .map_or(0, |i| i + 1);
        for (i, e) in elements[..used].iter().enumerate() {
            if let Some(&byte) = e.as_ref().iter().find(|&&b| d.is_delimiter(b)) {
                return Err(WriteError::DelimiterInData {
                    segment: id.to_string(),
                    element: i + 1,
                    byte,
                });
            }
        }
        self.out.write_all(id.as_bytes())?;
        for e in &elements[..used] {
            self.out.write_all(&[d.element()])?;
            self.out.write_all(e.as_ref())?;
        }
        self.end_segment()?;
        Ok(())
    }

    fn end_segment(&mut self) -> io::Result<()> {
        self.out.write_all(&[self.delimiters.segment()])?;
        self.out.write_all(self.line_style.as_bytes())?;
        self.segments += 1;
        Ok(())
    }

    /// Flushes and returns the sink.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// The sink.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

fn check_id(segment: &OwnedSegment, d: &Delimiters) -> Result<(), WriteError> {
    match segment.id.iter().find(|&&b| d.is_delimiter(b)) {
        Some(&byte) => Err(WriteError::DelimiterInData {
            segment: String::from_utf8_lossy(&segment.id).into_owned(),
            element: 0,
            byte,
        }),
        None => Ok(()),
    }
}

/// Pads (with spaces) or cuts `value` to exactly `width` bytes, as the ISA's
/// fixed-width fields need.
pub fn fixed_width(value: &[u8], width: usize) -> Vec<u8> {
    let mut out: Vec<u8> = value.iter().copied().take(width).collect();
    out.resize(width, b' ');
    out
}

/// Writes `n` zero-padded to `width` digits (ISA13).
pub fn zero_padded(n: u64, width: usize) -> Vec<u8> {
    format!("{n:0width$}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::segment::Element;

    fn write(d: Delimiters, style: LineStyle, segs: &[OwnedSegment]) -> Result<String, WriteError> {
        let mut w = Writer::new(Vec::new(), d, style);
        for s in segs {
            w.write(s)?;
        }
        Ok(String::from_utf8(w.into_inner()?).expect("utf-8"))
    }

    #[test]
    fn writes_elements_components_and_repetitions() {
        let seg = OwnedSegment {
            id: b"HI".to_vec(),
            elements: vec![
                Element(vec![
                    vec![b"A".to_vec(), b"1".to_vec()],
                    vec![b"B".to_vec()],
                ]),
                Element::simple(""),
                Element::simple("X"),
            ],
        };
        let out = write(Delimiters::x12_5010(), LineStyle::CrLf, &[seg]).expect("writes");
        assert_eq!(out, "HI*A:1^B**X~\r\n");
    }

    #[test]
    fn refuses_delimiters_in_data() {
        let seg = OwnedSegment::from_texts("N1", &["ST", "Smith*Jones"]);
        let e = write(Delimiters::x12_4010(), LineStyle::None, &[seg]).expect_err("refused");
        assert!(matches!(
            e,
            WriteError::DelimiterInData {
                element: 2,
                byte: b'*',
                ..
            }
        ));
        assert_eq!(e.to_string(), "N102: the value holds the delimiter '*'");
    }

    #[test]
    fn refuses_repetitions_without_a_separator() {
        let seg = OwnedSegment {
            id: b"X".to_vec(),
            elements: vec![Element(vec![vec![b"A".to_vec()], vec![b"B".to_vec()]])],
        };
        assert!(write(Delimiters::x12_4010(), LineStyle::None, &[seg]).is_err());
    }

    #[test]
    fn isa11_and_isa16_may_hold_delimiters() {
        let mut fields: Vec<Vec<u8>> = (1..=16).map(|_| b"X".to_vec()).collect();
        fields[10] = b"^".to_vec();
        fields[15] = b":".to_vec();
        let seg = OwnedSegment {
            id: b"ISA".to_vec(),
            elements: fields.into_iter().map(Element::simple).collect(),
        };
        assert!(write(Delimiters::x12_5010(), LineStyle::None, &[seg]).is_ok());
    }

    #[test]
    fn drops_trailing_empty_elements_of_text_segments() {
        let mut w = Writer::new(Vec::new(), Delimiters::x12_4010(), LineStyle::Lf);
        w.write_texts("AK3", &["BIG", "2", "", "8"])
            .expect("writes");
        w.write_texts("AK5", &["A", "", ""]).expect("writes");
        assert_eq!(w.written(), 2);
        assert_eq!(w.into_inner().expect("flush"), b"AK3*BIG*2**8~\nAK5*A~\n");
    }

    #[test]
    fn fixed_width_fields() {
        assert_eq!(fixed_width(b"ABC", 5), b"ABC  ");
        assert_eq!(fixed_width(b"ABCDEFG", 5), b"ABCDE");
        assert_eq!(zero_padded(101, 9), b"000000101");
    }
}
