//! A segment reader over any [`std::io::Read`]: the blocking face of the lexer.
//!
//! ```
//! use dropgate::x12::SegmentReader;
//!
//! let edi = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*1030*U*00401*000000001*0*P*>~IEA*0*000000001~";
//! let mut reader = SegmentReader::new(&edi[..]);
//! let mut ids = Vec::new();
//! while let Some(segment) = reader.next_segment()? {
//!     ids.push(segment.id().to_string());
//! }
//! assert_eq!(ids, ["ISA", "IEA"]);
//! # Ok::<(), dropgate::x12::ParseError>(())
//! ```

use std::io::{ErrorKind, Read};

use super::buffer::{Feed, Pull};
use super::delimiters::LineStyle;
use super::error::{ParseError, ParseErrorKind};
use super::isa::IsaHeader;
use super::lexer::DEFAULT_MAX_SEGMENT_LEN;
use super::segment::Segment;

/// A segment, the ISA header when the segment is one, and the line style
/// of its interchange seen so far.
pub type Item<'a> = (Segment<'a>, Option<&'a IsaHeader>, LineStyle);

/// Size of the first buffer; it grows only for longer segments.
pub const DEFAULT_BUFFER_LEN: usize = 256 * 1024;

/// Options of a reader.
#[derive(Clone, Copy, Debug)]
pub struct ReaderOptions {
    /// Longest segment accepted, in bytes; the buffer never grows past it.
    pub max_segment_len: usize,
    /// Initial buffer size in bytes.
    pub buffer_len: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_segment_len: DEFAULT_MAX_SEGMENT_LEN,
            buffer_len: DEFAULT_BUFFER_LEN,
        }
    }
}

/// Reads segments one at a time from a byte source, in bounded memory.
#[derive(Debug)]
pub struct SegmentReader<R> {
    source: R,
    feed: Feed,
}

impl<R: Read> SegmentReader<R> {
    /// A reader with default options.
    pub fn new(source: R) -> Self {
        Self::with_options(source, ReaderOptions::default())
    }

    /// A reader with the given options.
    pub fn with_options(source: R, options: ReaderOptions) -> Self {
        SegmentReader {
            source,
            feed: Feed::new(options.buffer_len, options.max_segment_len),
        }
    }

    /// The next segment, or `None` at the end of the input.
    pub fn next_segment(&mut self) -> Result<Option<Segment<'_>>, ParseError> {
        Ok(self.next_item()?.map(|(segment, _, _)| segment))
    }

    /// The next segment with, when it is an ISA, its parsed header, and the
    /// line style seen so far; `None` at the end of the input.
    pub fn next_item(&mut self) -> Result<Option<Item<'_>>, ParseError> {
        loop {
            match self.feed.pull()? {
                Pull::Ready => return Ok(Some(self.feed.item())),
                Pull::Fill => self.fill()?,
                Pull::End => return Ok(None),
            }
        }
    }

    /// Calls `f` for every remaining segment, with the ISA header when the
    /// segment is one and the line style seen so far. This internal
    /// iteration is faster than [`SegmentReader::next_item`]: it walks each
    /// buffer-full of segments in one loop.
    pub fn for_each<F>(&mut self, mut f: F) -> Result<(), ParseError>
    where
        F: FnMut(Segment<'_>, Option<&IsaHeader>, LineStyle) -> Result<(), ParseError>,
    {
        loop {
            match self.feed.drain(&mut f)? {
                Pull::Fill => self.fill()?,
                Pull::End | Pull::Ready => return Ok(()),
            }
        }
    }

    fn fill(&mut self) -> Result<(), ParseError> {
        loop {
            let space = self.feed.buffer.space();
            if space.is_empty() {
                // Only reachable when a segment outgrows the limit, which the
                // lexer reports; treat it as the end to let it do so.
                self.feed.eof = true;
                return Ok(());
            }
            match self.source.read(space) {
                Ok(0) => {
                    self.feed.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.feed.buffer.filled(n);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ParseError::new(
                        ParseErrorKind::Io(e),
                        self.feed.lexer.next_position(),
                        None,
                    ));
                }
            }
        }
    }

    /// The ISA header of the current interchange.
    pub fn isa(&self) -> Option<&IsaHeader> {
        self.feed.header.as_deref()
    }

    /// The position the next segment would have (the end, once at the end).
    pub fn next_position(&self) -> super::position::Position {
        self.feed.lexer.next_position()
    }

    /// The line style seen after the first terminator.
    pub fn line_style(&self) -> LineStyle {
        self.feed.lexer.line_style()
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.feed.lexer.offset()
    }

    /// Segments read so far.
    pub fn segments(&self) -> u64 {
        self.feed.lexer.segments()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out a few bytes at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    const EDI: &[u8] = b"ISA*00*          *00*          *ZZ*S              *ZZ*R              *240115*1030*U*00401*000000001*0*P*>~\r\nGS*PO*S*R*20240115*1030*1*X*004010~\r\nST*850*0001~\r\nBEG*00*DS*PO1**20240115~\r\nSE*3*0001~\r\nGE*1*1~\r\nIEA*1*000000001~\r\n";

    fn read_all<R: Read>(mut r: SegmentReader<R>) -> Vec<(String, u64, u64)> {
        let mut out = Vec::new();
        while let Some(s) = r.next_segment().expect("reads") {
            out.push((s.id().to_string(), s.position().byte, s.position().segment));
        }
        out
    }

    #[test]
    fn same_segments_whatever_the_read_sizes() {
        let whole = read_all(SegmentReader::new(EDI));
        assert_eq!(whole.len(), 7);
        assert_eq!(whole[1], ("GS".into(), 108, 2));
        for chunk in [1, 2, 3, 7, 64, 105, 106, 107] {
            let small = ReaderOptions {
                max_segment_len: 4096,
                buffer_len: 16,
            };
            assert_eq!(
                read_all(SegmentReader::with_options(Trickle(EDI, chunk), small)),
                whole,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn remembers_the_isa_and_line_style() {
        let mut r = SegmentReader::new(EDI);
        while r.next_segment().expect("reads").is_some() {}
        assert_eq!(r.isa().map(|h| h.version()), Some("00401".to_string()));
        assert_eq!(r.line_style(), LineStyle::CrLf);
        assert_eq!(r.offset(), EDI.len() as u64);
    }
}
