//! The strict, bounded MIME reader and writer AS2 needs (RFC 2045-2046):
//! header fields (folded lines, case-insensitive names, parameters with
//! quoted values), a body, multipart bodies split on their boundary, and
//! the transfer encodings base64, binary, 7bit and 8bit.
//!
//! An [`Entity`] borrows the bytes it was read from and keeps them: the
//! MIC and a detached signature cover an entity exactly as transmitted
//! ([`Entity::raw`]), never a re-serialization. The writer puts every
//! header on one line as `Name: value` with CRLF line ends, so that what
//! it writes is already canonical and is what a peer that re-serializes
//! (as pyas2lib does) gets back. Limits on headers, parts and nesting
//! refuse absurd input with an error naming the limit.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose::STANDARD};

/// Bounds on what the reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Header fields in one entity.
    pub max_headers: usize,
    /// Bytes of one entity's header section.
    pub max_header_bytes: usize,
    /// Parts in one multipart body.
    pub max_parts: usize,
    /// Multipart (and CMS) layers one inside the other.
    pub max_depth: usize,
    /// Bytes of a payload after decryption or decompression.
    pub max_content_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_headers: 100,
            max_header_bytes: 64 * 1024,
            max_parts: 16,
            max_depth: 6,
            max_content_bytes: 1 << 30,
        }
    }
}

/// What is wrong with a MIME entity.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MimeError {
    #[error("header line {line} is not `Name: value`: {text:?}")]
    HeaderLine { line: usize, text: String },
    #[error("the header section has no end (no empty line before the body)")]
    NoHeaderEnd,
    #[error("more than {limit} header fields")]
    TooManyHeaders { limit: usize },
    #[error("the header section is longer than {limit} bytes")]
    HeadersTooLong { limit: usize },
    #[error("Content-Type {value:?} cannot be read: {reason}")]
    ContentType { value: String, reason: &'static str },
    #[error("the multipart entity has no boundary parameter")]
    NoBoundary,
    #[error("the multipart body has no closing boundary --{boundary}--")]
    NoClosingBoundary { boundary: String },
    #[error("the multipart body has more than {limit} parts")]
    TooManyParts { limit: usize },
    #[error("MIME entities nested more than {limit} deep")]
    TooDeep { limit: usize },
    #[error("Content-Transfer-Encoding {0:?} is not supported (base64, binary, 7bit, 8bit)")]
    TransferEncoding(String),
    #[error("the base64 body cannot be decoded: {0}")]
    Base64(String),
    #[error("header {name} has a line break or a control character in its value")]
    HeaderValue { name: String },
}

/// One header field, its value unfolded and trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A MIME entity read from bytes.
#[derive(Clone, Debug)]
pub struct Entity<'a> {
    raw: &'a [u8],
    headers: Vec<Header>,
    body: &'a [u8],
    depth: usize,
}

impl<'a> Entity<'a> {
    /// Reads an entity (header section, empty line, body).
    pub fn parse(raw: &'a [u8], limits: &Limits) -> Result<Entity<'a>, MimeError> {
        Entity::parse_at(raw, limits, 0)
    }

    fn parse_at(raw: &'a [u8], limits: &Limits, depth: usize) -> Result<Entity<'a>, MimeError> {
        if depth > limits.max_depth {
            return Err(MimeError::TooDeep {
                limit: limits.max_depth,
            });
        }
        let (headers, body_start) = read_headers(raw, limits)?;
        Ok(Entity {
            raw,
            headers,
            body: &raw[body_start..],
            depth,
        })
    }

    /// The entity's bytes as read, header section and body.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The body as transmitted (still transfer-encoded).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The header fields in order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The content type; `text/plain` when there is none (RFC 2045).
    pub fn content_type(&self) -> Result<ContentType, MimeError> {
        match self.header("content-type") {
            Some(value) => ContentType::parse(value),
            None => Ok(ContentType {
                mime: "text/plain".into(),
                params: vec![],
            }),
        }
    }

    /// The body with its transfer encoding undone.
    pub fn decoded_body(&self) -> Result<Cow<'a, [u8]>, MimeError> {
        let encoding = self
            .header("content-transfer-encoding")
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match encoding.as_str() {
            "" | "binary" | "7bit" | "8bit" => Ok(Cow::Borrowed(self.body)),
            "base64" => decode_base64(self.body).map(Cow::Owned),
            _ => Err(MimeError::TransferEncoding(encoding)),
        }
    }

    /// The parts of a multipart entity.
    pub fn parts(&self, limits: &Limits) -> Result<Vec<Entity<'a>>, MimeError> {
        let content_type = self.content_type()?;
        let boundary = content_type
            .param("boundary")
            .ok_or(MimeError::NoBoundary)?;
        split_multipart(self.body, boundary, limits)?
            .into_iter()
            .map(|raw| Entity::parse_at(raw, limits, self.depth + 1))
            .collect()
    }
}

/// The first value of the header `name` (case-insensitive) in `headers`.
pub fn header<'h>(headers: &'h [Header], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A content type and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lower case.
    pub mime: String,
    /// Parameters, names in lower case, values unquoted.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// Reads `type/subtype; name=value; name="quoted value"`.
    pub fn parse(value: &str) -> Result<ContentType, MimeError> {
        let bad = |reason| MimeError::ContentType {
            value: value.to_string(),
            reason,
        };
        let (mime, rest) = match value.find(';') {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        };
        let mime = mime.trim().to_ascii_lowercase();
        let Some((kind, sub)) = mime.split_once('/') else {
            return Err(bad("no type/subtype"));
        };
        if kind.is_empty() || sub.is_empty() || !mime.chars().all(is_token_char_or_slash) {
            return Err(bad("the type/subtype is not two tokens"));
        }
        let params = parse_params(rest).map_err(bad)?;
        Ok(ContentType { mime, params })
    }

    /// The parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the type is `mime` (lower case).
    pub fn is(&self, mime: &str) -> bool {
        self.mime == mime
    }
}

/// Reads `; name=value; name="quoted value"` after a header's main value.
fn parse_params(rest: &str) -> Result<Vec<(String, String)>, &'static str> {
    let mut rest = rest;
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start();
        let Some(after) = rest.strip_prefix(';') else {
            if rest.is_empty() {
                break;
            }
            return Err("parameters are not separated by `;`");
        };
        let after = after.trim_start();
        if after.is_empty() {
            break;
        }
        let eq = after.find('=').ok_or("a parameter has no `=`")?;
        let name = after[..eq].trim().to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(is_token_char) {
            return Err("a parameter name is not a token");
        }
        let after_eq = after[eq + 1..].trim_start();
        let (value, remaining) = if let Some(quoted) = after_eq.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, escaped)) => out.push(escaped),
                        None => break,
                    },
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => out.push(c),
                }
            }
            let end = end.ok_or("a quoted parameter value has no closing quote")?;
            (out, &quoted[end..])
        } else {
            let end = after_eq.find(';').unwrap_or(after_eq.len());
            let token = after_eq[..end].trim();
            if token.is_empty() || !token.chars().all(is_token_char) {
                return Err("a parameter value is neither a token nor quoted");
            }
            (token.to_string(), &after_eq[end..])
        };
        params.push((name, value));
        rest = remaining;
    }
    Ok(params)
}

/// The `filename` parameter of a `Content-Disposition` value.
pub fn disposition_filename(value: &str) -> Option<String> {
    let rest = &value[value.find(';')?..];
    parse_params(rest)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "filename")
        .map(|(_, v)| v)
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
}

fn is_token_char_or_slash(c: char) -> bool {
    c == '/' || is_token_char(c)
}

/// A parameter value, quoted when it is not a token.
pub fn param_value(value: &str) -> String {
    if !value.is_empty() && value.chars().all(is_token_char) {
        value.to_string()
    } else {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('"');
        for c in value.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }
}

/// Reads the header section; gives the fields and where the body starts.
fn read_headers(raw: &[u8], limits: &Limits) -> Result<(Vec<Header>, usize), MimeError> {
    let mut headers: Vec<Header> = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    loop {
        if pos > limits.max_header_bytes {
            return Err(MimeError::HeadersTooLong {
                limit: limits.max_header_bytes,
            });
        }
        let Some(nl) = memchr::memchr(b'\n', &raw[pos..]) else {
            // Headers without a body and without the empty line.
            if raw[pos..].iter().all(|b| b.is_ascii_whitespace()) && !headers.is_empty() {
                return Ok((headers, raw.len()));
            }
            return Err(MimeError::NoHeaderEnd);
        };
        line_no += 1;
        let line_end = pos + nl + 1;
        let line = &raw[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos = line_end;
        if line.is_empty() {
            return Ok((headers, pos));
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            let Some(last) = headers.last_mut() else {
                return Err(MimeError::HeaderLine {
                    line: line_no,
                    text: text.into_owned(),
                });
            };
            last.value.push(' ');
            last.value.push_str(text.trim());
            continue;
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(MimeError::HeaderLine {
                line: line_no,
                text: text.into_owned(),
            });
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic()) {
            return Err(MimeError::HeaderLine {
                line: line_no,
                text: text.into_owned(),
            });
        }
        if headers.len() == limits.max_headers {
            return Err(MimeError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        headers.push(Header {
            name: name.to_string(),
            value: value.trim().to_string(),
        });
    }
}

/// Splits a multipart body into its parts' bytes (RFC 2046 5.1.1): the
/// line break before a delimiter belongs to the delimiter; the preamble
/// and the epilogue are dropped.
fn split_multipart<'a>(
    body: &'a [u8],
    boundary: &str,
    limits: &Limits,
) -> Result<Vec<&'a [u8]>, MimeError> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut search = 0;
    while let Some(found) = finder.find(&body[search..]) {
        let at = search + found;
        search = at + delimiter.len();
        if at != 0 && body[at - 1] != b'\n' {
            continue;
        }
        let after = &body[at + delimiter.len()..];
        let closing = after.starts_with(b"--");
        let rest = if closing { &after[2..] } else { after };
        let padding = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let rest = &rest[padding..];
        let line_break = if rest.starts_with(b"\r\n") {
            2
        } else if rest.starts_with(b"\n") {
            1
        } else if rest.is_empty() && closing {
            0
        } else {
            // The boundary text at the start of a longer line.
            continue;
        };
        if let Some(start) = part_start {
            let mut end = at;
            if end > start && body[end - 1] == b'\n' {
                end -= 1;
                if end > start && body[end - 1] == b'\r' {
                    end -= 1;
                }
            }
            if parts.len() == limits.max_parts {
                return Err(MimeError::TooManyParts {
                    limit: limits.max_parts,
                });
            }
            parts.push(&body[start..end]);
        }
        if closing {
            return Ok(parts);
        }
        let next = body.len() - rest.len() + line_break;
        part_start = Some(next);
        search = next;
    }
    Err(MimeError::NoClosingBoundary {
        boundary: boundary.to_string(),
    })
}

fn decode_base64(body: &[u8]) -> Result<Vec<u8>, MimeError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    LENIENT
        .decode(&compact)
        .map_err(|e| MimeError::Base64(e.to_string()))
}

/// base64 in lines of 76 characters with CRLF line ends.
pub fn encode_base64(data: &[u8]) -> Vec<u8> {
    let text = STANDARD.encode(data);
    let mut out = Vec::with_capacity(text.len() + text.len() / 76 * 2 + 2);
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Writes header fields, each on one line, for an entity or an HTTP
/// request. A value with a line break or a control character is refused
/// (it would inject a header).
pub fn write_headers(out: &mut Vec<u8>, headers: &[(&str, &str)]) -> Result<(), MimeError> {
    for (name, value) in headers {
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(MimeError::HeaderValue {
                name: name.to_string(),
            });
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    Ok(())
}

/// An entity: its header fields, an empty line, its body.
pub fn write_entity(headers: &[(&str, &str)], body: &[u8]) -> Result<Vec<u8>, MimeError> {
    let mut out = Vec::with_capacity(body.len() + 256);
    write_headers(&mut out, headers)?;
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok(out)
}

/// A multipart body of `parts` with `boundary`.
pub fn write_multipart_body(boundary: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

/// A boundary that appears in none of `parts`.
pub fn new_boundary(rng: &mut impl super::CryptoRng, parts: &[&[u8]]) -> String {
    loop {
        let mut bytes = [0u8; 12];
        rng.fill_bytes(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let boundary = format!("----=_dropgate_{hex}");
        let finder = memchr::memmem::Finder::new(boundary.as_bytes());
        if parts.iter().all(|p| finder.find(p).is_none()) {
            return boundary;
        }
    }
}

/// `data` with every bare LF made CRLF (canonical form, RFC 5751 3.1.1).
pub fn canonical_crlf(data: &[u8]) -> Cow<'_, [u8]> {
    let bare = data
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\n' && (i == 0 || data[i - 1] != b'\r'));
    if !bare {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(*b);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_unfold_and_names_ignore_case() {
        let raw = b"Content-Type: multipart/signed;\r\n\tprotocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n boundary=\"b 1\"\r\nX-Empty:\r\n\r\nbody";
        let e = Entity::parse(raw, &Limits::default()).expect("entity");
        assert_eq!(e.body(), b"body");
        assert_eq!(e.header("x-empty"), Some(""));
        let ct = e.content_type().expect("content type");
        assert!(ct.is("multipart/signed"));
        assert_eq!(ct.param("BOUNDARY"), Some("b 1"));
        assert_eq!(ct.param("micalg"), Some("sha-256"));
        assert_eq!(ct.param("protocol"), Some("application/pkcs7-signature"));
    }

    #[test]
    fn quoted_values_keep_escapes_and_semicolons() {
        let ct = ContentType::parse(r#"application/x; name="a\"b;c"; x=y;"#).expect("ct");
        assert_eq!(ct.param("name"), Some("a\"b;c"));
        assert_eq!(ct.param("x"), Some("y"));
        assert!(ContentType::parse("nosubtype").is_err());
        assert!(ContentType::parse(r#"a/b; name="open"#).is_err());
        assert_eq!(param_value("a b\"c"), r#""a b\"c""#);
        assert_eq!(param_value("sha-256"), "sha-256");
        assert_eq!(
            disposition_filename(r#"attachment; filename="orders 1.edi""#).as_deref(),
            Some("orders 1.edi")
        );
        assert_eq!(disposition_filename("inline"), None);
    }

    #[test]
    fn multipart_parts_are_exact_and_the_crlf_before_a_delimiter_is_not_theirs() {
        let body = b"preamble\r\n--XX\r\nA: 1\r\n\r\none\r\n--XX \r\nB: 2\r\n\r\ntwo\r\n\r\n--XXnot\r\n--XX--\r\nepilogue";
        let raw = [
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n".as_slice(),
            body,
        ]
        .concat();
        let e = Entity::parse(&raw, &Limits::default()).expect("entity");
        let parts = e.parts(&Limits::default()).expect("parts");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].raw(), b"A: 1\r\n\r\none");
        assert_eq!(parts[1].raw(), b"B: 2\r\n\r\ntwo\r\n\r\n--XXnot");
        assert_eq!(parts[1].header("b"), Some("2"));
    }

    #[test]
    fn limits_and_malformed_input_are_errors() {
        let limits = Limits {
            max_headers: 2,
            max_parts: 1,
            ..Limits::default()
        };
        assert_eq!(
            Entity::parse(b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n", &limits).err(),
            Some(MimeError::TooManyHeaders { limit: 2 })
        );
        assert!(matches!(
            Entity::parse(b"no colon here\r\n\r\n", &limits),
            Err(MimeError::HeaderLine { line: 1, .. })
        ));
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b--\r\n";
        let e = Entity::parse(raw, &limits).expect("entity");
        assert_eq!(
            e.parts(&limits).err(),
            Some(MimeError::TooManyParts { limit: 1 })
        );
        let open = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n1\r\n";
        let e = Entity::parse(open, &limits).expect("entity");
        assert!(matches!(
            e.parts(&limits),
            Err(MimeError::NoClosingBoundary { .. })
        ));
        let deep = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        let e = Entity::parse(raw, &deep).expect("entity");
        assert_eq!(e.parts(&deep).err(), Some(MimeError::TooDeep { limit: 0 }));
    }

    #[test]
    fn transfer_encodings_decode_and_unknown_ones_are_refused() {
        let e = Entity::parse(
            b"Content-Transfer-Encoding: BASE64\r\n\r\naGVs\r\nbG8=\r\n",
            &Limits::default(),
        )
        .expect("entity");
        assert_eq!(e.decoded_body().expect("decoded").as_ref(), b"hello");
        let e = Entity::parse(
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\na=20",
            &Limits::default(),
        )
        .expect("entity");
        assert!(matches!(
            e.decoded_body(),
            Err(MimeError::TransferEncoding(_))
        ));
    }

    #[test]
    fn the_writer_refuses_header_injection_and_writes_canonical_lines() {
        assert!(write_entity(&[("Subject", "a\r\nBcc: x")], b"").is_err());
        let out = write_entity(&[("A", "1")], b"x").expect("entity");
        assert_eq!(out, b"A: 1\r\n\r\nx");
        assert_eq!(canonical_crlf(b"a\nb\r\nc").as_ref(), b"a\r\nb\r\nc");
        let body = write_multipart_body("q", &[b"1", b"2"]);
        assert_eq!(body, b"--q\r\n1\r\n--q\r\n2\r\n--q--\r\n");
    }
}
