//! Fixed-record ("wrapped") X12: files cut into lines of a fixed width, 80
//! characters most often, wherever the width falls, inside segments and
//! inside the ISA itself. Old mainframe and VAN links still deliver them.
//!
//! Line breaks are never data in X12 (they are outside its character
//! sets), and in such a file they are not segment terminators either. So
//! when the start of a file shows wrapping, [`Unwrap`] removes every CR and
//! LF from the whole stream before the lexer sees it. Places in messages
//! then count in the unwrapped text: all of it is one line, and the byte
//! offsets are those of the text without its line breaks.
//!
//! A file is taken as wrapped when, once CR and LF are ignored, it starts
//! with a well-formed ISA whose segment terminator is not itself a line
//! break; either a line break falls inside that ISA or some line of the
//! first few kilobytes does not end with the terminator (lines in an
//! ordinary file end right after a terminator, if they end at all); and
//! its lines have one fixed width, as fixed records do: every line of the
//! first interchange that the first kilobytes hold has the same length
//! but the last, which is no longer. A line break anywhere else (a segment
//! cut in two in an ordinary file) is left where it is, and found at its
//! own line. A terminator that is the first byte of a multi-byte UTF-8
//! character (a `§`, say) is taken whole for that comparison: such a file
//! is not wrapped, and the lexer then says what is wrong with it.

use std::io::{self, Read};

/// How much of the start of a file is looked at.
const LOOK: usize = 8 * 1024;

/// A reader that removes line breaks from a wrapped X12 file, and passes
/// any other input through untouched.
pub struct Unwrap<R> {
    inner: R,
    head: Vec<u8>,
    at: usize,
    wrapped: Option<usize>,
}

impl<R: Read> Unwrap<R> {
    /// Looks at the start of `inner` and decides whether it is wrapped.
    pub fn new(mut inner: R) -> io::Result<Unwrap<R>> {
        let mut head = Vec::with_capacity(LOOK);
        while head.len() < LOOK {
            let mut buf = [0u8; 4096];
            let want = (LOOK - head.len()).min(buf.len());
            match inner.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let wrapped = width_if_wrapped(&head);
        Ok(Unwrap {
            inner,
            head,
            at: 0,
            wrapped,
        })
    }

    /// The width of the lines, when the input is wrapped and is being
    /// unwrapped.
    pub fn wrapped_width(&self) -> Option<usize> {
        self.wrapped
    }
}

impl<R: Read> Read for Unwrap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = if self.at < self.head.len() {
                let n = (self.head.len() - self.at).min(buf.len());
                buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
                self.at += n;
                n
            } else {
                self.inner.read(buf)?
            };
            if n == 0 || self.wrapped.is_none() {
                return Ok(n);
            }
            let mut kept = 0;
            for i in 0..n {
                let b = buf[i];
                if b != b'\n' && b != b'\r' {
                    buf[kept] = b;
                    kept += 1;
                }
            }
            // A read that was all line breaks is not the end of the input.
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

/// The line width when `head` (the start of a file) is wrapped X12.
fn width_if_wrapped(head: &[u8]) -> Option<usize> {
    let mut start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = start {
        start = rest;
    }
    if !start.starts_with(b"ISA") {
        return None;
    }
    // The first 105 bytes that are not line breaks, up to ISA16, then the
    // byte right after: the terminator. A line break there is the
    // terminator of a newline-terminated file, not a wrap.
    let mut isa = Vec::with_capacity(106);
    let mut broken = false;
    let mut bytes = start.iter();
    for &b in bytes.by_ref() {
        if b == b'\n' || b == b'\r' {
            broken = true;
        } else {
            isa.push(b);
            if isa.len() == 105 {
                break;
            }
        }
    }
    let after_isa16 = bytes.as_slice();
    isa.push(*after_isa16.first()?);
    if isa.len() < 106 {
        return None;
    }
    let element = isa[3];
    let fixed = [6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103];
    if fixed.iter().any(|&i| isa[i] != element) {
        return None;
    }
    if isa[105] == b'\n' || isa[105] == b'\r' {
        return None;
    }
    let terminator = super::isa::character_at(after_isa16);
    let lines: Vec<&[u8]> = start.split(|&b| b == b'\n').collect();
    // The last piece may be cut by the look-ahead or be the file's end.
    // Only the first interchange is looked at: the next may declare other
    // delimiters.
    let mut complete = &lines[..lines.len().saturating_sub(1)];
    if let Some(next) = complete
        .iter()
        .skip(1)
        .position(|l| l.trim_ascii_start().starts_with(b"ISA"))
    {
        complete = &complete[..next + 1];
    }
    // Lines of white space only (after the IEA, say) are not data.
    let ragged = complete.iter().any(|line| {
        let line = line.trim_ascii_end();
        !line.is_empty() && !line.ends_with(terminator)
    });
    if !broken && !ragged {
        return None;
    }
    // The lines of data: the complete ones, and the piece after them when
    // it belongs to the same interchange.
    let mut data: Vec<&[u8]> = complete.to_vec();
    if complete.len() + 1 == lines.len()
        && let Some(last) = lines.last()
    {
        data.push(last);
    }
    while data.last().is_some_and(|l| l.trim_ascii().is_empty()) {
        data.pop();
    }
    let widths: Vec<usize> = data
        .iter()
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).len())
        .collect();
    fixed_width(&widths, broken)
}

/// The width of lines cut at one fixed width: every line but the last
/// that width, the last no longer. One full line shows a width only when
/// it breaks the ISA or is a usual record length; otherwise a line break
/// in an ordinary file (a segment cut in two) would pass for wrapping.
fn fixed_width(widths: &[usize], isa_broken: bool) -> Option<usize> {
    const RECORD_LENGTHS: [usize; 5] = [80, 128, 132, 256, 512];
    let (&last, full) = widths.split_last()?;
    let &width = full.first()?;
    if width == 0 || full.iter().any(|&w| w != width) || last > width {
        return None;
    }
    (full.len() >= 2 || isa_broken || RECORD_LENGTHS.contains(&width)).then_some(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*U*00401*000000001*0*P*>~";

    fn body() -> String {
        format!(
            "{ISA}GS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010~ST*850*0001~\
             BEG*00*DS*PO-1**20240101~SE*3*0001~GE*1*1~IEA*1*000000001~"
        )
    }

    fn wrap(text: &str, width: usize, eol: &str) -> String {
        text.as_bytes()
            .chunks(width)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(eol)
    }

    fn read(input: &str) -> (String, Option<usize>) {
        let mut r = Unwrap::new(input.as_bytes()).expect("reads");
        let width = r.wrapped_width();
        let mut out = String::new();
        r.read_to_string(&mut out).expect("reads");
        (out, width)
    }

    #[test]
    fn unwraps_fixed_records_of_any_width() {
        for (width, eol) in [(80, "\n"), (80, "\r\n"), (132, "\n"), (40, "\r\n")] {
            let wrapped = wrap(&body(), width, eol) + eol;
            let (out, w) = read(&wrapped);
            assert_eq!(out, body(), "width {width}");
            assert_eq!(w, Some(width));
        }
    }

    #[test]
    fn leaves_ordinary_files_alone() {
        let one_per_line = body().replace('~', "~\r\n");
        for input in [body(), one_per_line, String::new(), "not x12\n".to_string()] {
            let (out, w) = read(&input);
            assert_eq!(out, input);
            assert_eq!(w, None);
        }
        // Two interchanges with different terminators, one per line.
        let second = body().replace('*', "|").replace('~', "!\r\n");
        let two = format!("{}\n{second}", body().replace('~', "~\n"));
        let (out, w) = read(&two);
        assert_eq!((out, w), (two, None));
        // White space after the IEA.
        let trailing = format!("{}  \r\n\t\n   \n", body().replace('~', "~\n"));
        let (out, w) = read(&trailing);
        assert_eq!((out, w), (trailing, None));
        // A file whose terminator is the newline itself.
        let newline = body().replace('~', "\n");
        let (out, w) = read(&newline);
        assert_eq!((out, w), (newline, None));
        // Terminators of two, three and four bytes (not X12, but not wrapped
        // either: the lexer says what is wrong), one segment per line.
        for character in ["§", "€", "𝄞"] {
            for eol in ["\n", "\r\n"] {
                let multi = body().replace('~', &format!("{character}{eol}"));
                let (out, w) = read(&multi);
                assert_eq!((out, w), (multi, None), "{character:?} {eol:?}");
            }
        }
    }

    #[test]
    fn a_stray_line_break_does_not_make_a_file_wrapped() {
        // One segment per line, and one line break inside a segment: the
        // lines have no one width, so the break is data, not wrapping.
        let one_per_line = body().replace('~', "~\n");
        let stray = one_per_line.replace("BEG*00*DS*", "BEG*00*\nDS*");
        let (out, w) = read(&stray);
        assert_eq!((out, w), (stray.clone(), None));
        let crlf = stray.replace('\n', "\r\n");
        let (out, w) = read(&crlf);
        assert_eq!((out, w), (crlf, None));
        // The same with a first line longer than the others.
        let long_first = one_per_line
            .replacen("~\n", "~", 2)
            .replace("PO-1**", "PO-1\n**");
        let (out, w) = read(&long_first);
        assert_eq!((out, w), (long_first.clone(), None));
    }

    #[test]
    fn a_fixed_width_needs_more_than_one_line_to_show() {
        // A file wrapped at a width larger than half of it has one full
        // line: wrapped only when its ISA is broken too.
        let text = body();
        let width = text.len() / 2 + 10;
        assert!(width > 106 && width != 128 && width != 132, "{width}");
        let once = wrap(&text, width, "\n");
        let (out, w) = read(&once);
        assert_eq!((out, w), (once.clone(), None));
        // Narrower than the ISA: the ISA is broken, so it is wrapped.
        let narrow = wrap(&text, 100, "\n");
        let (out, w) = read(&narrow);
        assert_eq!((out, w), (text, Some(100)));
    }

    #[test]
    fn unwraps_past_the_look_ahead() {
        let mut long = body();
        let st = long.find("ST*").expect("ST");
        let filler = "REF*ZZ*0123456789~".repeat(2000);
        long.insert_str(st + 12, &filler);
        let wrapped = wrap(&long, 80, "\n");
        assert!(wrapped.len() > LOOK * 4);
        let (out, w) = read(&wrapped);
        assert_eq!(out, long);
        assert_eq!(w, Some(80));
    }
}
