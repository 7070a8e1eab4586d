//! The refillable byte buffer and the lexer state shared by the blocking and
//! the tokio readers: everything but the way bytes arrive.
//!
//! The buffer keeps the unconsumed bytes at its front and grows only when
//! one segment does not fit, so memory is bounded by the largest segment
//! (which the lexer caps), never by the input.

use super::delimiters::{Delimiters, LineStyle};
use super::error::ParseError;
use super::isa::IsaHeader;
use super::lexer::{Lexer, Token};
use super::reader::Item;
use super::segment::Segment;

/// Bytes read but not yet consumed.
#[derive(Debug)]
pub(crate) struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
    max_len: usize,
}

impl Buffer {
    /// A buffer of `capacity` bytes that may grow to `max_len`.
    pub(crate) fn new(capacity: usize, max_len: usize) -> Buffer {
        Buffer {
            data: vec![0; capacity.max(4096)],
            start: 0,
            end: 0,
            max_len: max_len.max(capacity),
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn unconsumed(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Drops `n` unconsumed bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Makes room after the unconsumed bytes and returns it, moving the
    /// unconsumed bytes to the front and growing when they fill the buffer.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() && self.data.len() < self.max_len {
            let grown = (self.data.len() * 2).min(self.max_len);
            self.data.resize(grown, 0);
        }
        &mut self.data[self.end..]
    }

    /// Records that `n` bytes were written into the space.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }
}

/// What the lexer needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pull {
    /// A segment is ready: [`Feed::item`] gives it.
    Ready,
    /// The buffer must be filled (or the end of the input declared).
    Fill,
    /// The input is exhausted.
    End,
}

/// A buffer, the lexer that cuts it, and the ISA of the current
/// interchange: a reader without its source.
#[derive(Debug)]
pub(crate) struct Feed {
    pub(crate) buffer: Buffer,
    pub(crate) lexer: Lexer,
    pub(crate) eof: bool,
    /// Bytes of the segment last handed out, dropped at the next pull.
    pending: usize,
    /// The segment last handed out is an ISA.
    isa: bool,
    pub(crate) header: Option<Box<IsaHeader>>,
}

impl Feed {
    pub(crate) fn new(buffer_len: usize, max_segment_len: usize) -> Feed {
        Feed {
            buffer: Buffer::new(buffer_len, max_segment_len * 2),
            lexer: Lexer::new(max_segment_len),
            eof: false,
            pending: 0,
            isa: false,
            header: None,
        }
    }

    /// Moves to the next segment.
    pub(crate) fn pull(&mut self) -> Result<Pull, ParseError> {
        self.buffer.consume(std::mem::take(&mut self.pending));
        match self.lexer.next(self.buffer.unconsumed(), self.eof)? {
            Token::Segment { consumed, isa } => {
                if isa {
                    self.header = self.lexer.take_header();
                }
                self.isa = isa;
                self.pending = consumed;
                Ok(Pull::Ready)
            }
            Token::NeedMore { consumed } => {
                self.buffer.consume(consumed);
                Ok(Pull::Fill)
            }
            Token::End => Ok(Pull::End),
        }
    }

    /// The segment the last [`Feed::pull`] made ready.
    pub(crate) fn item(&self) -> Item<'_> {
        let span = self.lexer.span();
        let delimiters = self.lexer.delimiters().unwrap_or(Delimiters::x12_4010());
        let bytes = &self.buffer.unconsumed()[span.start..];
        let segment = Segment::within(bytes, span.end - span.start, delimiters, span.position);
        let header = if self.isa {
            self.header.as_deref()
        } else {
            None
        };
        (segment, header, self.lexer.line_style())
    }

    /// Calls `f` for every complete segment buffered, in one loop (faster
    /// than pulling them one by one); says what is needed next.
    pub(crate) fn drain<F>(&mut self, f: &mut F) -> Result<Pull, ParseError>
    where
        F: FnMut(Segment<'_>, Option<&IsaHeader>, LineStyle) -> Result<(), ParseError>,
    {
        self.buffer.consume(std::mem::take(&mut self.pending));
        let buf = self.buffer.unconsumed();
        let mut at = 0;
        let next = loop {
            match self.lexer.next(&buf[at..], self.eof)? {
                Token::Segment { consumed, isa } => {
                    let span = self.lexer.span();
                    if isa {
                        self.header = self.lexer.take_header();
                    }
                    let delimiters = self.lexer.delimiters().unwrap_or(Delimiters::x12_4010());
                    let segment = Segment::within(
                        &buf[at + span.start..],
                        span.end - span.start,
                        delimiters,
                        span.position,
                    );
                    let header = if isa { self.header.as_deref() } else { None };
                    f(segment, header, self.lexer.line_style())?;
                    at += consumed;
                }
                Token::NeedMore { consumed } => {
                    at += consumed;
                    break Pull::Fill;
                }
                Token::End => break Pull::End,
            }
        };
        self.buffer.consume(at);
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unconsumed_bytes_and_grows_when_full() {
        let mut b = Buffer::new(4096, 10_000);
        let space = b.space();
        space[..4].copy_from_slice(b"abcd");
        b.filled(4);
        b.consume(2);
        assert_eq!(b.unconsumed(), b"cd");
        let space = b.space();
        assert_eq!(space.len(), 4094);
        b.filled(4094);
        assert_eq!(b.space().len(), 4096);
        assert_eq!(&b.unconsumed()[..2], b"cd");
    }
}
