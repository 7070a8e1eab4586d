//! `lexer`: the tokens of a content stream or a CMap (numbers, names,
//! strings, arrays, dictionaries, operators), each with its byte offset.
//!
//! Lenient as readers are: a byte that starts no token is skipped, an
//! unterminated string or array ends at the end of the data, and inline
//! image data (`BI ... ID <bytes> EI`) is stepped over without being read
//! as tokens. Nesting of arrays and dictionaries is bounded by
//! [`MAX_NESTING`]; deeper values are read as [`Operand::Other`].

/// How deep arrays and dictionaries may nest in one operand.
pub const MAX_NESTING: usize = 32;

/// An operand of an operator.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A number (integer or real).
    Number(f64),
    /// A name, without its `/`, escapes (`#xx`) resolved.
    Name(Vec<u8>),
    /// A string's bytes, escapes resolved.
    Str(Vec<u8>),
    /// An array.
    Array(Vec<Operand>),
    /// Anything else (dictionaries, booleans, null, too deep a value).
    Other,
}

impl Operand {
    /// The number, if this is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Operand::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// A token: an operand or an operator.
#[derive(Clone, Debug, PartialEq)]
pub enum Token<'a> {
    /// An operand.
    Operand(Operand),
    /// An operator (a bare keyword such as `Tj`).
    Operator(&'a [u8]),
}

/// Reads tokens from a byte slice.
pub struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delimiter(b)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Lexer { data, pos: 0 }
    }

    /// The byte offset of the next token.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next token, or `None` at the end of the data.
    pub fn next_token(&mut self) -> Option<Token<'a>> {
        loop {
            self.skip_space();
            let b = self.peek()?;
            match b {
                b']' | b'>' | b'}' | b')' | b'{' => {
                    // Stray closers and PostScript braces carry nothing.
                    self.pos += 1;
                }
                b'[' | b'<' | b'(' | b'/' => return Some(Token::Operand(self.operand(0))),
                b'+' | b'-' | b'.' | b'0'..=b'9' => {
                    return Some(Token::Operand(self.number()));
                }
                _ => {
                    let start = self.pos;
                    while self.peek().is_some_and(is_regular) {
                        self.pos += 1;
                    }
                    let word = &self.data[start..self.pos];
                    return Some(match word {
                        b"true" | b"false" | b"null" => Token::Operand(Operand::Other),
                        _ => Token::Operator(word),
                    });
                }
            }
        }
    }

    /// Reads one operand starting at the current byte (not an operator).
    fn operand(&mut self, depth: usize) -> Operand {
        self.skip_space();
        let Some(b) = self.peek() else {
            return Operand::Other;
        };
        match b {
            b'(' => Operand::Str(self.literal_string()),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                self.dictionary(depth + 1);
                Operand::Other
            }
            b'<' => Operand::Str(self.hex_string()),
            b'/' => Operand::Name(self.name()),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        None => break,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => {
                            let before = self.pos;
                            let item = if depth >= MAX_NESTING {
                                self.pos += 1;
                                Operand::Other
                            } else {
                                self.operand(depth + 1)
                            };
                            if self.pos == before {
                                self.pos += 1;
                            }
                            items.push(item);
                        }
                    }
                }
                if depth >= MAX_NESTING {
                    Operand::Other
                } else {
                    Operand::Array(items)
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number(),
            _ => {
                // A keyword inside an array or dictionary (true, null, R...).
                let start = self.pos;
                while self.peek().is_some_and(is_regular) {
                    self.pos += 1;
                }
                if self.pos == start {
                    self.pos += 1;
                }
                Operand::Other
            }
        }
    }

    fn dictionary(&mut self, depth: usize) {
        loop {
            self.skip_space();
            match self.peek() {
                None => return,
                Some(b'>') => {
                    self.pos += 1;
                    if self.peek() == Some(b'>') {
                        self.pos += 1;
                    }
                    return;
                }
                Some(_) => {
                    let before = self.pos;
                    if depth < MAX_NESTING {
                        self.operand(depth);
                    }
                    if self.pos == before {
                        self.pos += 1;
                    }
                }
            }
        }
    }

    fn number(&mut self) -> Operand {
        let start = self.pos;
        let mut negative = false;
        let mut seen_digit = false;
        let mut int: f64 = 0.0;
        let mut frac_scale: f64 = 0.0;
        while let Some(b) = self.peek() {
            match b {
                b'-' if self.pos == start => negative = true,
                b'+' if self.pos == start => {}
                // Some writers emit "--5" or "1.2.3": readers take what parses.
                b'-' | b'+' => {}
                b'.' if frac_scale == 0.0 => frac_scale = 1.0,
                b'.' => {}
                b'0'..=b'9' => {
                    seen_digit = true;
                    let d = f64::from(b - b'0');
                    if frac_scale == 0.0 {
                        int = int * 10.0 + d;
                    } else {
                        frac_scale /= 10.0;
                        int += d * frac_scale;
                    }
                }
                _ => break,
            }
            self.pos += 1;
        }
        if self.pos == start {
            self.pos += 1;
        }
        if !seen_digit {
            return Operand::Number(0.0);
        }
        let value = if negative { -int } else { int };
        Operand::Number(if value.is_finite() { value } else { 0.0 })
    }

    fn name(&mut self) -> Vec<u8> {
        self.pos += 1; // the slash
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            if b == b'#'
                && let (Some(h), Some(l)) = (
                    self.data.get(self.pos + 1).copied().and_then(hex),
                    self.data.get(self.pos + 2).copied().and_then(hex),
                )
            {
                out.push(h << 4 | l);
                self.pos += 3;
                continue;
            }
            out.push(b);
            self.pos += 1;
        }
        out
    }

    fn hex_string(&mut self) -> Vec<u8> {
        self.pos += 1; // '<'
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'>' {
                break;
            }
            if let Some(v) = hex(b) {
                match high.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => high = Some(v),
                }
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    fn literal_string(&mut self) -> Vec<u8> {
        self.pos += 1; // '('
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else { break };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
        out
    }

    /// Steps over an inline image's data after its `ID` operator: to the
    /// `EI` that follows white space and is followed by white space or the
    /// end.
    pub fn skip_inline_image(&mut self) {
        // One white-space byte follows ID.
        self.pos = (self.pos + 1).min(self.data.len());
        let rest = &self.data[self.pos..];
        let mut i = 0;
        while let Some(found) = memchr::memmem::find(&rest[i..], b"EI") {
            let at = i + found;
            let before_ok = at == 0 || is_white(rest[at - 1]);
            let after_ok = rest
                .get(at + 2)
                .is_none_or(|&b| is_white(b) || is_delimiter(b));
            if before_ok && after_ok {
                self.pos += at + 2;
                return;
            }
            i = at + 2;
        }
        self.pos = self.data.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(data: &[u8]) -> Vec<Token<'_>> {
        let mut lexer = Lexer::new(data);
        std::iter::from_fn(|| lexer.next_token()).collect()
    }

    #[test]
    fn reads_operands_and_operators() {
        let t = tokens(b"BT /F1 12 Tf 1 0 0 1 72.5 -.5 Tm [(A) -120 <4142>] TJ ET");
        assert_eq!(t[0], Token::Operator(b"BT"));
        assert_eq!(t[1], Token::Operand(Operand::Name(b"F1".to_vec())));
        assert_eq!(t[2], Token::Operand(Operand::Number(12.0)));
        assert_eq!(t[8], Token::Operand(Operand::Number(72.5)));
        assert_eq!(t[9], Token::Operand(Operand::Number(-0.5)));
        assert_eq!(
            t[11],
            Token::Operand(Operand::Array(vec![
                Operand::Str(b"A".to_vec()),
                Operand::Number(-120.0),
                Operand::Str(b"AB".to_vec()),
            ]))
        );
        assert_eq!(t.last(), Some(&Token::Operator(b"ET")));
    }

    #[test]
    fn resolves_string_escapes_and_nested_parentheses() {
        let t = tokens(b"(a\\(b\\)c (d) \\101\\\nx\\n) <48 65 6C 6C 6F7> /A#20B");
        assert_eq!(
            t[0],
            Token::Operand(Operand::Str(b"a(b)c (d) Ax\n".to_vec()))
        );
        assert_eq!(t[1], Token::Operand(Operand::Str(b"Hellop".to_vec())));
        assert_eq!(t[2], Token::Operand(Operand::Name(b"A B".to_vec())));
    }

    #[test]
    fn steps_over_inline_images_and_dictionaries() {
        let data = b"/P <</MCID 3 /X [1 2]>> BDC BI /W 2 ID \x00EI\xff EI\nQ";
        let mut lexer = Lexer::new(data);
        let mut ops = Vec::new();
        while let Some(t) = lexer.next_token() {
            if let Token::Operator(op) = t {
                ops.push(op.to_vec());
                if op == b"ID" {
                    lexer.skip_inline_image();
                }
            }
        }
        assert_eq!(
            ops,
            vec![
                b"BDC".to_vec(),
                b"BI".to_vec(),
                b"ID".to_vec(),
                b"Q".to_vec()
            ]
        );
    }

    #[test]
    fn unterminated_and_deep_input_ends() {
        let deep = vec![b'['; 10_000];
        assert_eq!(tokens(&deep).len(), 1);
        assert_eq!(tokens(b"(abc").len(), 1);
        assert_eq!(tokens(b"<<").len(), 1);
        assert_eq!(tokens(b"--5 1.2.3").len(), 2);
    }
}
