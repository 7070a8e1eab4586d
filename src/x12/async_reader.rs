//! A segment reader over any tokio [`AsyncRead`]: the daemon's face of the lexer.
//!
//! It is the same lexer and buffer as [`super::reader::SegmentReader`]; only
//! the way bytes arrive differs.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::buffer::{Feed, Pull};
use super::delimiters::LineStyle;
use super::error::{ParseError, ParseErrorKind};
use super::isa::IsaHeader;
use super::reader::{Item, ReaderOptions};
use super::segment::Segment;

/// Reads segments one at a time from an async byte source.
#[derive(Debug)]
pub struct AsyncSegmentReader<R> {
    source: R,
    feed: Feed,
}

impl<R: AsyncRead + Unpin> AsyncSegmentReader<R> {
    /// A reader with default options.
    pub fn new(source: R) -> Self {
        Self::with_options(source, ReaderOptions::default())
    }

    /// A reader with the given options.
    pub fn with_options(source: R, options: ReaderOptions) -> Self {
        AsyncSegmentReader {
            source,
            feed: Feed::new(options.buffer_len, options.max_segment_len),
        }
    }

    /// The next segment, or `None` at the end of the input.
    pub async fn next_segment(&mut self) -> Result<Option<Segment<'_>>, ParseError> {
        Ok(self.next_item().await?.map(|(segment, _, _)| segment))
    }

    /// The next segment with, when it is an ISA, its parsed header, and the
    /// line style seen so far; `None` at the end of the input.
    pub async fn next_item(&mut self) -> Result<Option<Item<'_>>, ParseError> {
        loop {
            match self.feed.pull()? {
                Pull::Ready => return Ok(Some(self.feed.item())),
                Pull::Fill => self.fill().await?,
                Pull::End => return Ok(None),
            }
        }
    }

    /// Calls `f` for every remaining segment, with the ISA header when the
    /// segment is one and the line style seen so far; faster than
    /// [`AsyncSegmentReader::next_item`], as each buffer-full is walked in
    /// one loop.
    pub async fn for_each<F>(&mut self, mut f: F) -> Result<(), ParseError>
    where
        F: FnMut(Segment<'_>, Option<&IsaHeader>, LineStyle) -> Result<(), ParseError>,
    {
        loop {
            match self.feed.drain(&mut f)? {
                Pull::Fill => self.fill().await?,
                Pull::End | Pull::Ready => return Ok(()),
            }
        }
    }

    async fn fill(&mut self) -> Result<(), ParseError> {
        let space = self.feed.buffer.space();
        if space.is_empty() {
            self.feed.eof = true;
            return Ok(());
        }
        match self.source.read(space).await {
            Ok(0) => self.feed.eof = true,
            Ok(n) => self.feed.buffer.filled(n),
            Err(e) => {
                return Err(ParseError::new(
                    ParseErrorKind::Io(e),
                    self.feed.lexer.next_position(),
                    None,
                ));
            }
        }
        Ok(())
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_segments_from_an_async_source() {
        let edi: &[u8] = b"ISA*00*          *00*          *ZZ*S              *ZZ*R              *240115*1030*U*00401*000000001*0*P*>~\nGS*PO*S*R*20240115*1030*1*X*004010~\nGE*0*1~\nIEA*1*000000001~\n";
        let (mut tx, rx) = tokio::io::duplex(7);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            tx.write_all(edi).await.expect("writes");
        });
        let mut reader = AsyncSegmentReader::new(rx);
        let mut ids = Vec::new();
        while let Some(s) = reader.next_segment().await.expect("reads") {
            ids.push(s.id().to_string());
        }
        writer.await.expect("writer finished");
        assert_eq!(ids, ["ISA", "GS", "GE", "IEA"]);
        assert_eq!(reader.line_style(), LineStyle::Lf);
    }
}
