//! The segment lexer: a sans-I/O state machine that finds segments in bytes.
//!
//! The lexer owns no buffer. It is handed the bytes not yet consumed and says
//! what it found: a segment (as a range of those bytes), a need for more
//! bytes, or the end. "Need more" is not an error: the same lexer drives the
//! blocking reader ([`super::reader`]), the tokio reader
//! ([`super::async_reader`]) and in-memory slices.
//!
//! The lexer has no policy about envelopes or contents; it knows only what it
//! takes to cut segments: each `ISA` at the start of a segment brings its own
//! delimiters, a UTF-8 BOM and whitespace before a segment are skipped
//! (line breaks after a terminator are formatting), and a segment longer than
//! the configured limit is an error rather than a reason to buffer the file.
//!
//! Notes for maintainers: this is the hot loop of the whole engine. Finding a
//! segment is one `memchr` for the terminator plus a short scan for the ID;
//! keep it free of allocation and of per-element work.

use nom::IResult;

use super::delimiters::{Delimiters, LineStyle};
use super::error::{ParseError, ParseErrorKind};
use super::ids::SegmentId;
use super::isa::{IsaHeader, IsaParse};
use super::position::Position;

/// Default limit on the length of one segment.
pub const DEFAULT_MAX_SEGMENT_LEN: usize = 1 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the lexer found at the start of the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A segment, described by [`Lexer::span`]; the first `consumed` bytes
    /// of the buffer may be dropped once it is used. `isa` says that it is
    /// an ISA, whose header [`Lexer::take_header`] gives.
    Segment { consumed: usize, isa: bool },
    /// No complete segment yet; the first `consumed` bytes (whitespace) may
    /// be dropped.
    NeedMore { consumed: usize },
    /// The input is exhausted.
    End,
}

/// Where the last segment found lies in the buffer the lexer was given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    /// First byte of the segment.
    pub start: usize,
    /// The byte after the segment (its terminator, when it has one).
    pub end: usize,
    /// Where it is in the input.
    pub position: Position,
}

/// The segment lexer.
#[derive(Clone, Debug)]
pub struct Lexer {
    delimiters: Option<Delimiters>,
    offset: u64,
    segments: u64,
    at_start: bool,
    line_style: Option<LineStyle>,
    max_segment_len: usize,
    line: u64,
    line_start: u64,
    // The last segment found, kept as scalars: a struct written here and
    // copied whole by the caller right after would stall the copy.
    last_start: usize,
    last_end: usize,
    last_byte: u64,
    last_line: u64,
    last_column: u64,
    header: Option<Box<IsaHeader>>,
    /// A terminator of several bytes found with the last ISA (its first
    /// byte, the character, the place), an error given on the next call,
    /// once the ISA itself was handed out.
    fault: Option<(u8, char, Position)>,
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer::new(DEFAULT_MAX_SEGMENT_LEN)
    }
}

impl Lexer {
    /// A lexer that refuses segments longer than `max_segment_len` bytes.
    pub fn new(max_segment_len: usize) -> Lexer {
        Lexer {
            delimiters: None,
            offset: 0,
            segments: 0,
            at_start: true,
            line_style: None,
            max_segment_len: max_segment_len.max(super::isa::ISA_LEN),
            line: 1,
            line_start: 0,
            last_start: 0,
            last_end: 0,
            last_byte: 0,
            last_line: 1,
            last_column: 1,
            header: None,
            fault: None,
        }
    }

    /// The delimiters of the current interchange, once an ISA was seen.
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delimiters
    }

    /// The line style of the current interchange, seen after its ISA.
    pub fn line_style(&self) -> LineStyle {
        self.line_style.unwrap_or_default()
    }

    /// Segments found so far.
    pub fn segments(&self) -> u64 {
        self.segments
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The position the next segment would have.
    pub fn next_position(&self) -> Position {
        self.position(0, self.segments + 1)
    }

    /// The configured segment length limit.
    pub fn max_segment_len(&self) -> usize {
        self.max_segment_len
    }

    fn position(&self, at: usize, segment: u64) -> Position {
        let byte = self.offset + at as u64;
        Position {
            byte,
            segment,
            in_set: None,
            line: self.line,
            column: byte.saturating_sub(self.line_start) + 1,
        }
    }

    fn error(&self, at: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::new(kind, self.position(at, self.segments + 1), None)
    }

    /// Finds the next segment in `buf` (the bytes not yet consumed). `eof`
    /// says that no more bytes will follow.
    #[inline]
    pub fn next(&mut self, buf: &[u8], eof: bool) -> Result<Token, ParseError> {
        // The common case, inside an interchange whose line style is known:
        // line breaks, then a segment that is not an ISA, then a terminator.
        if let (Some(d), Some(_), false) = (self.delimiters, self.line_style, self.at_start) {
            let terminator = d.segment();
            let mut i = 0;
            let (mut line, mut line_start) = (self.line, self.line_start);
            while let Some(&b) = buf.get(i) {
                if b == b'\n' {
                    line += 1;
                    line_start = self.offset + i as u64 + 1;
                } else if b != b'\r' {
                    break;
                }
                i += 1;
            }
            if let Some(&first) = buf.get(i)
                && first != b'I'
                && first != terminator
                && !matches!(first, b' ' | b'\t' | 0x0C | b'\n' | b'\r' | 0x00 | 0x1A)
                && let Some(end) = self.find_terminator(buf, i, terminator)
            {
                self.line = line;
                self.line_start = line_start;
                return Ok(self.segment(i, end, end + 1));
            }
        }
        self.next_slow(buf, eof)
    }

    fn next_slow(&mut self, buf: &[u8], eof: bool) -> Result<Token, ParseError> {
        // The fast path is never taken after an ISA before this point: the
        // ISA resets the line style.
        if let Some((lead, character, at)) = self.fault.take() {
            return Err(ParseError::new(
                ParseErrorKind::MultiByteTerminator { lead, character },
                at,
                Some(super::ids::seg::ISA),
            ));
        }
        let mut i = 0;
        if self.at_start {
            if buf.len() < BOM.len() && BOM.starts_with(buf) && !eof {
                return Ok(Token::NeedMore { consumed: 0 });
            }
            if buf.starts_with(BOM) {
                i = BOM.len();
            }
        }
        let gap_start = i;
        // Line breaks are counted in locals and committed only with the bytes
        // they belong to, so a gap that is looked at twice counts once.
        let (mut line, mut line_start) = (self.line, self.line_start);
        // An empty segment (a doubled terminator, a blank line) is formatting,
        // and so are the NUL padding and DOS end-of-file mark (0x1A) that
        // old systems leave at the end of a file.
        let terminator = self.delimiters.map(|d| d.segment());
        while i < buf.len()
            && (matches!(buf[i], b' ' | b'\t' | b'\r' | b'\n' | 0x0C | 0x00 | 0x1A)
                || Some(buf[i]) == terminator)
        {
            if buf[i] == b'\n' {
                line += 1;
                line_start = self.offset + i as u64 + 1;
            }
            i += 1;
        }
        if self.line_style.is_none() && self.segments > 0 && i > gap_start {
            if i < buf.len() || eof || i - gap_start >= 2 {
                self.line_style = Some(LineStyle::detect(&buf[gap_start..i]));
            } else {
                // The gap may go on in the next read; decide then.
                return Ok(Token::NeedMore { consumed: 0 });
            }
        } else if self.line_style.is_none() && self.segments > 0 && i < buf.len() {
            self.line_style = Some(LineStyle::None);
        }
        self.line = line;
        self.line_start = line_start;
        if i == buf.len() {
            return Ok(if eof {
                self.offset += i as u64;
                Token::End
            } else {
                self.consume(i, Token::NeedMore { consumed: i })
            });
        }
        self.at_start = false;
        let rest = &buf[i..];

        // An ISA at the start of a segment begins an interchange and brings its
        // delimiters. "ISA" inside data never gets here: only segment starts do.
        if rest.len() < 4 && !eof && b"ISA".starts_with(&rest[..rest.len().min(3)]) {
            return Ok(self.consume(i, Token::NeedMore { consumed: i }));
        }
        if rest.starts_with(b"ISA") && rest.len() > 3 && !rest[3].is_ascii_alphanumeric() {
            return match IsaHeader::parse(rest, eof) {
                Ok(IsaParse::NeedMore) => Ok(self.consume(i, Token::NeedMore { consumed: i })),
                Ok(IsaParse::Header(header)) => {
                    // A terminator that starts a multi-byte UTF-8 character
                    // is said at the ISA, after the ISA itself (whose
                    // header can still be answered).
                    let at = i + header.len() - 1;
                    let lead = header.delimiters().segment();
                    if let Some(n) = super::isa::utf8_lead_len(lead) {
                        if rest.len() < header.len() - 1 + n && !eof {
                            return Ok(self.consume(i, Token::NeedMore { consumed: i }));
                        }
                        let written = super::isa::character_at(&buf[at..]);
                        if let Some(character) = std::str::from_utf8(written)
                            .ok()
                            .filter(|_| written.len() > 1)
                            .and_then(|c| c.chars().next())
                        {
                            self.fault =
                                Some((lead, character, self.position(at, self.segments + 1)));
                        }
                    }
                    self.delimiters = Some(header.delimiters());
                    // Each interchange has its own line style, seen after its ISA.
                    self.line_style = None;
                    let len = header.len();
                    self.header = Some(header);
                    Ok(self.segment(i, i + len - 1, i + len))
                }
                Err(e) => Err(self.error(i, ParseErrorKind::Isa(e))),
            };
        }
        let Some(delimiters) = self.delimiters else {
            let kind = match super::isa::segments_without_isa(rest) {
                true => ParseErrorKind::NoIsa,
                false => ParseErrorKind::NoInterchange,
            };
            return Err(self.error(i, kind));
        };

        let found = if self.segments < 4 {
            // The first segments go through the nom parser; after that,
            // terminators are found word by word (same answers, faster on
            // short segments).
            let limit = self.max_segment_len.min(rest.len());
            terminated(&rest[..limit], delimiters.segment())
                .ok()
                .map(|(_, body)| i + body.len())
        } else {
            self.find_terminator(buf, i, delimiters.segment())
                .filter(|&end| end - i <= self.max_segment_len)
        };
        match found {
            Some(end) => Ok(self.segment(i, end, end + 1)),
            None if rest.len() > self.max_segment_len => Err(self.error(
                i,
                ParseErrorKind::SegmentTooLong {
                    limit: self.max_segment_len,
                    id: SegmentId::lossy(segment_id(rest, delimiters.element())),
                },
            )),
            None if !eof => Ok(self.consume(i, Token::NeedMore { consumed: i })),
            None if matches!(delimiters.segment(), b'\n' | b'\r')
                || (rest.starts_with(b"IEA") && rest.get(3) == Some(&delimiters.element())) =>
            {
                // A newline-terminated file often lacks its last newline, and
                // some senders drop the terminator after the final IEA.
                let end = buf.len();
                Ok(self.segment(i, end, end))
            }
            None => Err(self.error(
                i,
                ParseErrorKind::Unterminated {
                    id: SegmentId::lossy(segment_id(rest, delimiters.element())),
                },
            )),
        }
    }

    /// The index in `buf` of the first `terminator` at or after `i`.
    #[inline]
    fn find_terminator(&self, buf: &[u8], i: usize, terminator: u8) -> Option<usize> {
        let window = &buf[i..buf
            .len()
            .min(i.saturating_add(self.max_segment_len).saturating_add(1))];
        super::scan::find_byte(terminator, window).map(|n| i + n)
    }

    fn consume(&mut self, n: usize, token: Token) -> Token {
        self.offset += n as u64;
        token
    }

    #[inline]
    fn segment(&mut self, start: usize, end: usize, consumed: usize) -> Token {
        self.segments += 1;
        let byte = self.offset + start as u64;
        self.last_start = start;
        self.last_end = end;
        self.last_byte = byte;
        self.last_line = self.line;
        self.last_column = byte.saturating_sub(self.line_start) + 1;
        self.offset += consumed as u64;
        if consumed > end && self.delimiters.is_some_and(|d| d.segment() == b'\n') {
            self.line += 1;
            self.line_start = self.offset;
        }
        Token::Segment {
            consumed,
            isa: self.header.is_some(),
        }
    }

    /// Where the last segment found lies.
    #[inline]
    pub fn span(&self) -> Span {
        Span {
            start: self.last_start,
            end: self.last_end,
            position: Position {
                byte: self.last_byte,
                segment: self.segments,
                in_set: None,
                line: self.last_line,
                column: self.last_column,
            },
        }
    }

    /// The parsed header when the last segment found is an ISA; taken once.
    pub fn take_header(&mut self) -> Option<Box<IsaHeader>> {
        self.header.take()
    }
}

/// A nom streaming parser for one segment body: everything up to the
/// terminator, which is consumed but not returned. Without a terminator in
/// sight it asks for more input.
fn terminated(input: &[u8], terminator: u8) -> IResult<&[u8], &[u8]> {
    match memchr::memchr(terminator, input) {
        Some(n) => Ok((&input[n + 1..], &input[..n])),
        None => Err(nom::Err::Incomplete(nom::Needed::Unknown)),
    }
}

/// The bytes of a segment's ID: up to the element separator, at most 3 bytes
/// looked at beyond what a valid ID needs.
fn segment_id(rest: &[u8], element: u8) -> &[u8] {
    let window = &rest[..rest.len().min(8)];
    let n = window
        .iter()
        .position(|&b| b == element || b == b'\n' || b == b'\r')
        .unwrap_or(window.len());
    &rest[..n]
}

/// Lexes a complete in-memory input, calling `f` for every segment.
///
/// This is the fastest way through bytes that are already in memory; the
/// readers do the same over buffers they refill.
pub fn for_each_segment<'a, F>(
    input: &'a [u8],
    lexer: &mut Lexer,
    mut f: F,
) -> Result<(), ParseError>
where
    F: FnMut(super::segment::Segment<'a>, Option<&IsaHeader>, LineStyle) -> Result<(), ParseError>,
{
    let mut at = 0;
    loop {
        match lexer.next(&input[at..], true)? {
            Token::Segment { consumed, isa } => {
                let span = lexer.span();
                let header = if isa { lexer.take_header() } else { None };
                let delimiters = lexer.delimiters().unwrap_or(Delimiters::x12_4010());
                let seg = super::segment::Segment::within(
                    &input[at + span.start..],
                    span.end - span.start,
                    delimiters,
                    span.position,
                );
                f(seg, header.as_deref(), lexer.line_style())?;
                at += consumed;
            }
            Token::NeedMore { consumed } => at += consumed,
            Token::End => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(input: &[u8]) -> Result<Vec<String>, ParseError> {
        let mut out = Vec::new();
        let mut lexer = Lexer::default();
        for_each_segment(input, &mut lexer, |s, _, _| {
            out.push(String::from_utf8_lossy(s.raw()).into_owned());
            Ok(())
        })?;
        Ok(out)
    }

    const ISA: &str = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *240115*1030*U*00401*000000001*0*P*>~";

    #[test]
    fn cuts_segments_at_the_terminator_and_skips_line_breaks() {
        let input = format!("{ISA}\r\nGS*PO*S*R~\r\n\r\nGE*0*1~\nIEA*1*000000001~\n");
        let segs = ids(input.as_bytes()).expect("lexes");
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[1], "GS*PO*S*R");
        assert_eq!(segs[3], "IEA*1*000000001");
    }

    #[test]
    fn skips_a_bom_and_leading_whitespace() {
        let input = format!("\u{FEFF}  \n{ISA}IEA*0*000000001~");
        assert_eq!(ids(input.as_bytes()).expect("lexes").len(), 2);
    }

    #[test]
    fn newline_as_terminator() {
        let isa = ISA.replace(">~", ">\n");
        let input = format!("{isa}GS*PO*S*R\n\nGE*0*1\nIEA*1*000000001");
        let segs = ids(input.as_bytes()).expect("lexes");
        assert_eq!(
            segs,
            vec![
                &isa[..isa.len() - 1],
                "GS*PO*S*R",
                "GE*0*1",
                "IEA*1*000000001"
            ]
        );
    }

    #[test]
    fn isa_inside_data_does_not_start_an_interchange() {
        let input = format!("{ISA}N1*ST*ISAAC NEWTON~N2*ISA*X~IEA*0*000000001~");
        let segs = ids(input.as_bytes()).expect("lexes");
        assert_eq!(segs[1], "N1*ST*ISAAC NEWTON");
        assert_eq!(segs.len(), 4);
    }

    #[test]
    fn each_interchange_brings_its_delimiters() {
        let second = ISA.replace('*', "|").replace(">~", ":!");
        let input = format!("{ISA}IEA*0*000000001~{second}GS|PO|S|R!IEA|0|000000001!");
        let segs = ids(input.as_bytes()).expect("lexes");
        assert_eq!(segs[3], "GS|PO|S|R");
    }

    #[test]
    fn garbage_and_truncation_are_errors_with_positions() {
        let e = ids(b"hello world").expect_err("garbage");
        assert!(matches!(e.kind(), ParseErrorKind::NoInterchange));
        assert_eq!(e.position().byte, 0);

        // X12 whose ISA is gone (its first byte cut off): said so.
        let cut = format!(
            "{}GS*PO*S*R*20240115*1030*1*X*004010~ST*850*0001~SE*2*0001~",
            &ISA[1..]
        );
        let e = ids(cut.as_bytes()).expect_err("no ISA");
        assert!(matches!(e.kind(), ParseErrorKind::NoIsa), "{e}");

        let input = format!("{ISA}GS*PO*S*R");
        let e = ids(input.as_bytes()).expect_err("truncated");
        assert!(matches!(e.kind(), ParseErrorKind::Unterminated { .. }));
        assert_eq!(e.position().byte, 106);
        assert_eq!(e.position().segment, 2);

        let e = ids(&ISA.as_bytes()[..60]).expect_err("short ISA");
        assert!(matches!(e.kind(), ParseErrorKind::Isa(_)));
    }

    #[test]
    fn a_terminator_of_several_bytes_is_said_at_the_isa() {
        for character in ["§", "…", "𝄞"] {
            let isa = ISA.replace('~', character);
            let input = format!("{isa}\nGS*PO*S*R{character}\nIEA*0*000000001{character}\n");
            let mut seen = Vec::new();
            let mut lexer = Lexer::default();
            let e = for_each_segment(input.as_bytes(), &mut lexer, |s, _, _| {
                seen.push(s.id().to_string());
                Ok(())
            })
            .expect_err("several bytes");
            // The ISA itself is handed out first: it can be answered.
            assert_eq!(seen, ["ISA"]);
            let expected = character.chars().next().expect("a character");
            assert!(
                matches!(e.kind(), ParseErrorKind::MultiByteTerminator { character, .. } if *character == expected),
                "{e}"
            );
            let at = e.position();
            assert_eq!((at.line, at.column, at.byte), (1, 106, 105), "{e}");
        }
        // A buffer that ends inside the character asks for more.
        let isa = ISA.replace('~', "…");
        let mut lexer = Lexer::default();
        let cut = &isa.as_bytes()[..106];
        assert_eq!(
            lexer.next(cut, false).expect("no error yet"),
            Token::NeedMore { consumed: 0 }
        );
        // A byte of Latin-1 is a terminator like any other.
        let mut latin1 = ISA.as_bytes().to_vec();
        latin1[105] = 0xA7;
        latin1.extend_from_slice(b"IEA*0*000000001\xA7");
        let mut lexer = Lexer::default();
        for_each_segment(&latin1, &mut lexer, |_, _, _| Ok(())).expect("one byte");
    }

    #[test]
    fn a_segment_longer_than_the_limit_is_refused() {
        let input = format!("{ISA}N1*{}~", "X".repeat(500));
        let mut lexer = Lexer::new(200);
        let e =
            for_each_segment(input.as_bytes(), &mut lexer, |_, _, _| Ok(())).expect_err("too long");
        assert!(matches!(
            e.kind(),
            ParseErrorKind::SegmentTooLong { limit: 200, .. }
        ));
    }

    #[test]
    fn a_final_iea_without_terminator_and_trailing_padding_are_accepted() {
        let input = format!("{ISA}IEA*0*000000001");
        assert_eq!(ids(input.as_bytes()).expect("lexes").len(), 2);
        let input = format!("{ISA}IEA*0*000000001~\r\n\u{1A}\0\0");
        assert_eq!(ids(input.as_bytes()).expect("lexes").len(), 2);
        // Anything else cut short is still an error.
        let input = format!("{ISA}GE*0*1");
        assert!(ids(input.as_bytes()).is_err());
    }

    #[test]
    fn empty_input_ends_at_once() {
        assert_eq!(ids(b"").expect("empty").len(), 0);
        assert_eq!(ids(b" \r\n").expect("blank").len(), 0);
    }

    #[test]
    fn detects_the_line_style() {
        for (sep, style) in [
            ("", LineStyle::None),
            ("\n", LineStyle::Lf),
            ("\r\n", LineStyle::CrLf),
        ] {
            let input = format!("{ISA}{sep}IEA*0*000000001~{sep}");
            let mut lexer = Lexer::default();
            for_each_segment(input.as_bytes(), &mut lexer, |_, _, _| Ok(())).expect("lexes");
            assert_eq!(lexer.line_style(), style);
        }
    }
}
