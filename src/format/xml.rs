//! XML documents as trees (decoder) and trees as XML (encoder).
//!
//! One XML file is one document. Each element becomes a group node named
//! by its *local* name: the namespace prefix is dropped, so mapping paths
//! match local names whatever prefix or default namespace a vendor uses
//! (`<ns0:Order>` and `<Order xmlns="...">` are both `Order`). Attributes
//! become attribute children (namespace declarations excepted), and an
//! element's text its own text. The decoder streams: a sink that asks for a
//! repeated element (`[Orders, Order]`) gets each instance as soon as its
//! end tag is read, and the tree forgets it.
//!
//! A DTD is never expanded: a document whose DOCTYPE declares an entity is
//! refused (this is what refuses entity bombs and external entities), and
//! a reference to any entity but the five predefined ones is an error.
//! Input is read as UTF-8, or decoded from the single-byte encoding its
//! declaration names (ISO-8859-1, Windows-1252). This module knows XML, not
//! the canonical model.

use std::io::{self, BufRead, Cursor, Read, Write};
use std::sync::Arc;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};
use quick_xml::reader::NsReader;
use quick_xml::{Writer, XmlVersion};

use super::{DocumentSink, Flavor, Kind, Name, NodeId, Place, SinkError, Tree, Verdict};

/// The name of the output in encoder errors, which have no file.
const OUTPUT: &str = "XML output";

/// How XML is decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlOptions {
    /// True to trim whitespace around element text.
    pub trim_text: bool,
}

impl Default for XmlOptions {
    fn default() -> Self {
        XmlOptions { trim_text: true }
    }
}

/// How XML is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlEncodeOptions {
    /// Spaces per level of indentation; `None` (or 0) writes one line.
    pub indent: Option<usize>,
    /// True to write `<?xml version="1.0" encoding="UTF-8"?>` first.
    pub declaration: bool,
    /// The default namespace, declared with `xmlns` on the document element.
    pub namespace: Option<String>,
}

impl Default for XmlEncodeOptions {
    fn default() -> Self {
        XmlEncodeOptions {
            indent: Some(2),
            declaration: true,
            namespace: None,
        }
    }
}

/// What a decoder read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Elements read, streamed ones included.
    pub elements: u64,
    /// Bytes of input.
    pub bytes: u64,
}

/// Why a document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// Reading the input or writing the output failed.
    #[error("{file}: {source}")]
    Io {
        /// The file read, or "XML output".
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The document is not well-formed XML.
    #[error("{file}, line {line}, column {column}: {message}")]
    Syntax {
        /// The file read.
        file: String,
        /// Line, from 1.
        line: u64,
        /// Column (in bytes), from 1.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// The DOCTYPE declares an entity.
    #[error(
        "{file}, line {line}: entity declarations are refused: dropgate never expands DTD entities"
    )]
    EntityDeclared {
        /// The file read.
        file: String,
        /// The line of the DOCTYPE.
        line: u64,
    },
    /// A reference to an entity that is not one of the five predefined.
    #[error("{file}, line {line}, column {column}: undefined entity &{entity};")]
    UndefinedEntity {
        /// The file read.
        file: String,
        /// Line, from 1.
        line: u64,
        /// Column (in bytes), from 1.
        column: u64,
        /// The entity's name.
        entity: String,
    },
    /// The tree has a name that is not an XML name.
    #[error("XML output: {name:?} is not a valid XML name")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The tree has text with a character XML cannot hold, even escaped.
    #[error("XML output, <{element}>: character {character:?} is not allowed in XML")]
    InvalidCharacter {
        /// The element whose text or attribute holds it.
        element: String,
        /// The character.
        character: char,
    },
    /// The tree has no element to write.
    #[error("XML output: the tree has no document element")]
    NoElement,
    /// The document sink failed; its error is passed through.
    #[error("document sink: {0}")]
    Sink(#[source] SinkError),
}

/// Line and column of byte offsets, counted once through the input.
#[derive(Clone, Copy, Debug)]
struct Lines {
    line: u64,
    /// Offset of the first byte of the current line.
    line_start: u64,
}

impl Lines {
    /// Counts the line ends in `bytes`, which start at `offset`.
    fn advance(&mut self, offset: u64, bytes: &[u8]) {
        self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
        if let Some(i) = memchr::memrchr(b'\n', bytes) {
            self.line_start = offset + i as u64 + 1;
        }
    }

    /// Line and column of `offset`, which is on the current line.
    fn at(&self, offset: u64) -> (u64, u64) {
        (self.line, offset.saturating_sub(self.line_start) + 1)
    }
}

/// The element being read whose text and attributes are not in the tree
/// yet: they are kept until its first child or its end, so that its text
/// can still extend it (the node appended last).
struct Pending {
    node: NodeId,
    text: String,
    /// Attribute names, with the end of their value in `values`.
    attributes: Vec<(Name, usize)>,
    values: String,
    place: Place,
}

/// Decodes one XML file as one document and hands it to `sink`.
///
/// The tree is cleared and named after `file_name`; the sink's `start`
/// says which element to stream. Each element becomes a group node named by
/// its local name, placed at its start tag (byte offset, line, column in
/// bytes). Its attributes (not `xmlns` declarations) become attribute
/// children, with their unescaped values, before any child element. Its
/// text (text and CDATA, unescaped, concatenated, trimmed when
/// `trim_text`) becomes its own text; whitespace alone is no text.
///
/// Limitation: text that follows a child element (mixed content, as in
/// `<p>a<b/>c</p>`) is ignored; only the text before the first child
/// element is kept.
pub fn decode<R: BufRead>(
    input: R,
    file_name: &str,
    options: &XmlOptions,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<Summary, XmlError> {
    let (origin, streamer) =
        super::start_file(tree, Flavor::Xml, file_name, sink).map_err(XmlError::Sink)?;
    let syntax = |(line, column): (u64, u64), message: String| XmlError::Syntax {
        file: file_name.to_string(),
        line,
        column,
        message,
    };

    // A UTF-8 byte order mark is taken off here, so that offsets from the
    // reader (which would skip it silently) count it.
    let mut input = input;
    let mut head = Vec::with_capacity(HEAD);
    (&mut input)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|source| XmlError::Io {
            file: file_name.to_string(),
            source,
        })?;
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        head.drain(..3);
        3
    } else {
        0
    };
    // A document that declares a single-byte encoding (ISO-8859-1,
    // Windows-1252, ...) is read through a decoder to UTF-8; places then
    // count in the decoded text (lines are the same).
    // A UTF-8 byte order mark wins over what the declaration says.
    let declared = if bom == 0 {
        declared_encoding(&head)
    } else {
        None
    };
    let source: Box<dyn Read + '_> = match declared {
        Some(encoding) => Box::new(Transcode::new(Cursor::new(head).chain(input), encoding)),
        None => Box::new(Cursor::new(head).chain(input)),
    };
    let source = RunLimit {
        inner: source,
        run: 0,
        read: 0,
    };
    let mut reader = NsReader::from_reader(io::BufReader::with_capacity(64 * 1024, source));
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut lines = Lines {
        line: 1,
        line_start: 0,
    };
    let mut open: Vec<NodeId> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut spare = (String::new(), Vec::new(), String::new());
    let mut elements = 0u64;
    let mut had_root = false;
    let mut declared: Option<String> = None;
    loop {
        let offset = reader.buffer_position();
        buf.clear();
        // Names are matched by local name, so namespaces are not resolved;
        // the reader still checks their declarations.
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                let at = reader.error_position();
                let upto = (at.saturating_sub(offset) as usize).min(buf.len());
                lines.advance(offset, &buf[..upto]);
                let mut message = e.to_string();
                if let (quick_xml::Error::Encoding(_), Some(name)) = (&e, &declared) {
                    message.push_str(&format!(
                        " (the document declares {name}; dropgate reads UTF-8)"
                    ));
                }
                return Err(match e {
                    quick_xml::Error::Io(source) => XmlError::Io {
                        file: file_name.to_string(),
                        source: Arc::try_unwrap(source)
                            .unwrap_or_else(|a| io::Error::new(a.kind(), a.to_string())),
                    },
                    _ => syntax(lines.at(at), message),
                });
            }
        };
        let place = lines.at(offset);
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                if open.is_empty() && had_root {
                    return Err(syntax(place, "a second document element".into()));
                }
                had_root = true;
                if let Some(p) = pending.take() {
                    flush(tree, p, options, &mut spare);
                }
                let name = tree.intern(e.local_name().into_inner());
                let place = Place {
                    offset: offset + bom,
                    line: place.0,
                    column: place.1,
                    ordinal: 0,
                };
                let parent = open.last().copied().unwrap_or(tree.root());
                let node = tree.append(parent, name, Kind::Group, b"", place);
                elements += 1;
                let (text, mut attributes, mut values) = std::mem::take(&mut spare);
                attributes.clear();
                values.clear();
                for attribute in e.attributes() {
                    let attribute =
                        attribute.map_err(|e| syntax(lines.at(offset), e.to_string()))?;
                    if attribute.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| escape_error(file_name, lines.at(offset), e))?;
                    forbidden(&value).map_or(Ok(()), |c| Err(syntax(lines.at(offset), c)))?;
                    values.push_str(&value);
                    let name = tree.intern(attribute.key.local_name().into_inner());
                    attributes.push((name, values.len()));
                }
                let p = Pending {
                    node,
                    text,
                    attributes,
                    values,
                    place,
                };
                lines.advance(offset, &buf);
                if empty {
                    flush(tree, p, options, &mut spare);
                    streamer.closed(tree, node, sink).map_err(XmlError::Sink)?;
                } else {
                    open.push(node);
                    pending = Some(p);
                }
                continue;
            }
            Event::End(_) => {
                let Some(node) = open.pop() else {
                    return Err(syntax(place, "an end tag without a start tag".into()));
                };
                if let Some(p) = pending.take() {
                    flush(tree, p, options, &mut spare);
                }
                streamer.closed(tree, node, sink).map_err(XmlError::Sink)?;
            }
            Event::Text(e) => {
                let text = e.xml10_content();
                forbidden(&text).map_or(Ok(()), |c| Err(syntax(place, c)))?;
                match &mut pending {
                    Some(p) => push_text(p, &text).map_err(|m| syntax(place, m))?,
                    None if open.is_empty() && !is_blank(&text) => {
                        return Err(syntax(place, "text outside the document element".into()));
                    }
                    None => {}
                }
            }
            Event::CData(e) => {
                let text = e.xml10_content();
                forbidden(&text).map_or(Ok(()), |c| Err(syntax(place, c)))?;
                match &mut pending {
                    Some(p) => push_text(p, &text).map_err(|m| syntax(place, m))?,
                    None if open.is_empty() => {
                        return Err(syntax(place, "CDATA outside the document element".into()));
                    }
                    None => {}
                }
            }
            Event::GeneralRef(e) => {
                let resolved = match e.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => resolve_predefined_entity(&e).map(str::to_string),
                    Err(err) => return Err(syntax(place, err.to_string())),
                };
                if let Some(c) = resolved.as_deref().and_then(forbidden) {
                    return Err(syntax(place, c));
                }
                let Some(resolved) = resolved else {
                    return Err(XmlError::UndefinedEntity {
                        file: file_name.to_string(),
                        line: place.0,
                        column: place.1,
                        entity: e.to_string(),
                    });
                };
                match &mut pending {
                    Some(p) => push_text(p, &resolved).map_err(|m| syntax(place, m))?,
                    None if open.is_empty() => {
                        return Err(syntax(
                            place,
                            "a reference outside the document element".into(),
                        ));
                    }
                    None => {}
                }
            }
            Event::DocType(e) => {
                if memchr::memmem::find(e.as_bytes(), b"<!ENTITY").is_some() {
                    return Err(XmlError::EntityDeclared {
                        file: file_name.to_string(),
                        line: place.0,
                    });
                }
            }
            Event::Decl(e) => {
                if let Some(Ok(name)) = e.encoding()
                    && !matches!(
                        name.to_ascii_lowercase().as_str(),
                        "utf-8" | "utf8" | "us-ascii"
                    )
                {
                    declared = Some(name.into_owned());
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if let Some(&node) = open.last() {
                    let message = format!(
                        "the document ends inside <{}> (opened at line {})",
                        tree.name_text(node),
                        tree.place(node).line
                    );
                    return Err(syntax(lines.at(offset), message));
                }
                if !had_root {
                    return Err(syntax(place, "no document element".into()));
                }
                break;
            }
        }
        lines.advance(offset, &buf);
    }
    let bytes = reader.buffer_position() + bom;
    sink.end(tree, &origin, Verdict::Accepted)
        .map_err(XmlError::Sink)?;
    Ok(Summary { elements, bytes })
}

/// The message for a control character that XML 1.0 does not allow,
/// escaped or not.
fn forbidden(text: &str) -> Option<String> {
    let b = text
        .bytes()
        .find(|&b| b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r'))?;
    Some(format!(
        "character {:?} is not allowed in XML",
        char::from(b)
    ))
}

/// True for XML whitespace only.
fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Puts an element's text and attributes in the tree, and keeps their
/// buffers for the next element.
fn flush(
    tree: &mut Tree,
    p: Pending,
    options: &XmlOptions,
    spare: &mut (String, Vec<(Name, usize)>, String),
) {
    let mut text = p.text.as_str();
    if options.trim_text {
        text = text.trim_matches([' ', '\t', '\r', '\n']);
    }
    if !is_blank(text) {
        tree.extend_text(p.node, text.as_bytes());
    }
    let mut start = 0;
    for &(name, end) in &p.attributes {
        let value = p.values.get(start..end).unwrap_or_default();
        tree.append_str(p.node, name, Kind::Attribute, value, p.place);
        start = end;
    }
    let mut text = p.text;
    text.clear();
    *spare = (text, p.attributes, p.values);
}

/// The error for an attribute value that cannot be unescaped.
fn escape_error(file: &str, (line, column): (u64, u64), e: quick_xml::Error) -> XmlError {
    match e {
        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, entity)) => {
            XmlError::UndefinedEntity {
                file: file.to_string(),
                line,
                column,
                entity,
            }
        }
        e => XmlError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.to_string(),
        },
    }
}

/// Writes a tree as XML: the root's first group is the document element.
///
/// Group (and field) nodes are elements named by their name text; their
/// attribute children become attributes, their own text their text
/// content, and their other children child elements, in order. Text and
/// attribute values are escaped. A name that is not an XML name, or a
/// character XML cannot hold, is an error.
pub fn encode<W: Write>(tree: &Tree, options: &XmlEncodeOptions, out: W) -> Result<(), XmlError> {
    let io_error = |source| XmlError::Io {
        file: OUTPUT.to_string(),
        source,
    };
    let Some(document) = tree.children(tree.root()).find(|&n| is_element(tree, n)) else {
        return Err(XmlError::NoElement);
    };
    let mut writer = match options.indent {
        Some(n) if n > 0 => Writer::new_with_indent(out, b' ', n),
        _ => Writer::new(out),
    };
    if options.declaration {
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(io_error)?;
    }
    // An explicit stack, not recursion: a deep tree must not overflow.
    let mut stack = vec![(document, true)];
    while let Some((node, opening)) = stack.pop() {
        let name = tree.name_text(node);
        if !opening {
            writer
                .write_event(Event::End(BytesStart::new(name).to_end()))
                .map_err(io_error)?;
            continue;
        }
        check_name(name)?;
        let mut start = BytesStart::new(name);
        if node == document
            && let Some(namespace) = &options.namespace
        {
            check_text(name, namespace)?;
            start.push_attribute(("xmlns", namespace.as_str()));
        }
        for attribute in tree
            .children(node)
            .filter(|&n| tree.kind(n) == Kind::Attribute)
        {
            let key = tree.name_text(attribute);
            check_name(key)?;
            let value = tree.text(attribute);
            check_text(name, &value)?;
            start.push_attribute((key, value.as_ref()));
        }
        let text = tree.text(node);
        check_text(name, &text)?;
        let first = stack.len();
        stack.extend(
            tree.children(node)
                .filter(|&n| is_element(tree, n))
                .map(|n| (n, true)),
        );
        if text.is_empty() && stack.len() == first {
            writer.write_event(Event::Empty(start)).map_err(io_error)?;
            continue;
        }
        // Children were pushed in order; they are popped in reverse.
        stack[first..].reverse();
        stack.insert(first, (node, false));
        writer.write_event(Event::Start(start)).map_err(io_error)?;
        if !text.is_empty() {
            writer
                .write_event(Event::Text(BytesText::new(&text)))
                .map_err(io_error)?;
        }
    }
    writer.get_mut().flush().map_err(io_error)
}

/// True for the nodes written as elements.
fn is_element(tree: &Tree, node: NodeId) -> bool {
    matches!(tree.kind(node), Kind::Group | Kind::Field)
}

/// Refuses a name that is not an XML name.
fn check_name(name: &str) -> Result<(), XmlError> {
    let start = |c: char| {
        matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    };
    let rest = |c: char| {
        start(c)
            || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if start(c) && chars.all(rest) => Ok(()),
        _ => Err(XmlError::InvalidName {
            name: name.to_string(),
        }),
    }
}

/// Refuses text with a character that XML 1.0 cannot hold.
fn check_text(element: &str, text: &str) -> Result<(), XmlError> {
    let bad = |c: &char| {
        (*c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    match text.chars().find(bad) {
        Some(character) => Err(XmlError::InvalidCharacter {
            element: element.to_string(),
            character,
        }),
        None => Ok(()),
    }
}

/// How much of the start of a document is looked at for its declaration.
const HEAD: usize = 1024;

/// The encoding an XML declaration names, when it is one dropgate decodes
/// (any single-byte encoding `encoding_rs` knows; not UTF-8 or UTF-16).
fn declared_encoding(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let decl = head.strip_prefix(b"<?xml")?;
    let end = memchr::memmem::find(decl, b"?>")?;
    let decl = &decl[..end];
    let at = memchr::memmem::find(decl, b"encoding")? + b"encoding".len();
    let rest = decl[at..]
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &rest[1..];
    let name = &value[..memchr::memchr(quote, value)?];
    let encoding = encoding_rs::Encoding::for_label(name)?;
    (encoding.is_single_byte() && encoding != encoding_rs::UTF_8).then_some(encoding)
}

/// The longest run of bytes without a `<` or `>`: a text, a tag with its
/// attributes. Longer is refused, so that memory stays bounded whatever the
/// input (the parser holds a whole text or tag at once).
const MAX_RUN: u64 = 16 << 20;

/// Adds text to an element's, refusing more than [`MAX_RUN`] bytes in all
/// (text split by comments, CDATA or references counts whole).
fn push_text(p: &mut Pending, text: &str) -> Result<(), String> {
    if (p.text.len() + text.len()) as u64 > MAX_RUN {
        return Err(format!(
            "an element's text of more than {} MiB: no feed dropgate reads has one",
            MAX_RUN >> 20
        ));
    }
    p.text.push_str(text);
    Ok(())
}

/// A reader that refuses a run of more than [`MAX_RUN`] bytes without a
/// markup character.
struct RunLimit<R> {
    inner: R,
    run: u64,
    read: u64,
}

impl<R: Read> Read for RunLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match memchr::memrchr2(b'<', b'>', &buf[..n]) {
            Some(last) => self.run = (n - last - 1) as u64,
            None => self.run += n as u64,
        }
        self.read += n as u64;
        if self.run > MAX_RUN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a text or tag of more than {} MiB (up to byte {}): no feed dropgate reads has one",
                    MAX_RUN >> 20,
                    self.read
                ),
            ));
        }
        Ok(n)
    }
}

/// A reader that decodes a single-byte encoding to UTF-8 as it goes.
struct Transcode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    decoded: String,
    at: usize,
    done: bool,
}

impl<R: Read> Transcode<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Transcode<R> {
        Transcode {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            raw: vec![0; 16 * 1024],
            decoded: String::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.decoded.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            self.decoded.clear();
            self.at = 0;
            let needed = self
                .decoder
                .max_utf8_buffer_length(n)
                .unwrap_or(n.saturating_mul(3) + 16);
            self.decoded.reserve(needed);
            let (_, read, _) =
                self.decoder
                    .decode_to_string(&self.raw[..n], &mut self.decoded, last);
            debug_assert_eq!(read, n, "the buffer was reserved for all of it");
            self.done = last;
        }
        let n = (self.decoded.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.decoded.as_bytes()[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Origin;

    /// A node and its subtree as one line: `name="text"(@attr="v" child)`.
    fn render(tree: &Tree, node: NodeId) -> String {
        let name = tree.name_text(node);
        if tree.kind(node) == Kind::Attribute {
            return format!("@{name}={:?}", tree.text(node));
        }
        let mut out = name.to_string();
        if !tree.bytes(node).is_empty() {
            out.push_str(&format!("={:?}", tree.text(node)));
        }
        let kids: Vec<String> = tree.children(node).map(|n| render(tree, n)).collect();
        if !kids.is_empty() {
            out.push_str(&format!("({})", kids.join(" ")));
        }
        out
    }

    /// A sink that records what it receives.
    #[derive(Default)]
    struct Recorder {
        path: Vec<&'static str>,
        items: Vec<String>,
        max_len: usize,
        at_first_item: Option<String>,
        at_end: String,
    }

    impl DocumentSink for Recorder {
        fn start(
            &mut self,
            tree: &mut Tree,
            origin: &Origin,
        ) -> Result<Option<Vec<Name>>, SinkError> {
            assert_eq!(origin.flavor, Flavor::Xml);
            if self.path.is_empty() {
                return Ok(None);
            }
            Ok(Some(self.path.iter().map(|s| tree.intern(s)).collect()))
        }

        fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError> {
            self.max_len = self.max_len.max(tree.len());
            self.items.push(render(tree, node));
            if self.at_first_item.is_none() {
                self.at_first_item = Some(render(tree, tree.root()));
            }
            Ok(())
        }

        fn end(&mut self, tree: &Tree, _: &Origin, verdict: Verdict) -> Result<(), SinkError> {
            assert_eq!(verdict, Verdict::Accepted);
            self.at_end = render(tree, tree.root());
            Ok(())
        }
    }

    fn run(xml: &str, path: &[&'static str]) -> Result<Recorder, XmlError> {
        let mut tree = Tree::new(Flavor::Xml);
        let mut sink = Recorder {
            path: path.to_vec(),
            ..Recorder::default()
        };
        let summary = decode(
            xml.as_bytes(),
            "po.xml",
            &XmlOptions::default(),
            &mut tree,
            &mut sink,
        )?;
        assert_eq!(summary.bytes, xml.len() as u64);
        Ok(sink)
    }

    /// The whole document, rendered from the root.
    fn parsed(xml: &str) -> String {
        match run(xml, &[]) {
            Ok(sink) => sink.at_end,
            Err(e) => panic!("{e}"),
        }
    }

    fn error(xml: &str) -> String {
        match run(xml, &[]) {
            Ok(sink) => panic!("accepted: {}", sink.at_end),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn names_elements_and_attributes_by_local_name() {
        let prefixed = r#"<?xml version="1.0"?>
            <ns0:Orders xmlns:ns0="urn:vendor-a" xmlns:x="urn:x">
              <ns0:Order x:id="1"><ns0:Sku>A</ns0:Sku></ns0:Order>
            </ns0:Orders>"#;
        let default = r#"<Orders xmlns="urn:vendor-b"><Order id="1"><Sku>A</Sku></Order></Orders>"#;
        assert_eq!(parsed(prefixed), r#"(Orders(Order(@id="1" Sku="A")))"#);
        assert_eq!(parsed(default), parsed(prefixed));
        assert_eq!(parsed("\u{FEFF}<a>x</a>"), r#"(a="x")"#);
    }

    #[test]
    fn reads_attributes_text_cdata_and_references() {
        let xml = "<a x=\"1 &amp; 2\" y='&#x41;&lt;'>  t &lt; u &#65;<![CDATA[<raw> & ]]>  <b/>\
                   <c k=\"v\">text</c> tail</a>";
        assert_eq!(
            parsed(xml),
            r#"(a="t < u A<raw> &"(@x="1 & 2" @y="A<" b c="text"(@k="v")))"#
        );
        let keep = XmlOptions { trim_text: false };
        let mut tree = Tree::new(Flavor::Xml);
        let mut sink = Recorder::default();
        let doc = "<a> x\r\n y </a>";
        decode(doc.as_bytes(), "t.xml", &keep, &mut tree, &mut sink)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sink.at_end, r#"(a=" x\n y ")"#);
    }

    #[test]
    fn places_start_tags() {
        let xml =
            "<?xml version=\"1.0\"?>\n<r>\n  <!-- a\n comment -->\n  <a\n k=\"v\"><b/></a>\n</r>";
        let mut tree = Tree::new(Flavor::Xml);
        let mut sink = Recorder::default();
        decode(
            xml.as_bytes(),
            "t.xml",
            &XmlOptions::default(),
            &mut tree,
            &mut sink,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let r = tree.first_child(tree.root());
        let a = tree.first_child(r);
        let b = tree.last_child(a);
        let at = |n| {
            let p = tree.place(n);
            (p.offset, p.line, p.column)
        };
        assert_eq!(at(r), (22, 2, 1));
        assert_eq!(at(a), (xml.find("<a").map_or(0, |i| i as u64), 5, 3));
        assert_eq!(at(b), (xml.find("<b").map_or(0, |i| i as u64), 6, 8));
        assert_eq!(tree.describe(b, 0), "<b> at line 6, column 8");
        let bom = "\u{FEFF}<a/>";
        decode(
            bom.as_bytes(),
            "t.xml",
            &XmlOptions::default(),
            &mut tree,
            &mut sink,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let a = tree.first_child(tree.root());
        assert_eq!((tree.place(a).offset, tree.place(a).column), (3, 1));
    }

    #[test]
    fn streams_repeated_elements_in_order() {
        let mut xml = String::from("<Feed><Header><Id>7</Id></Header><Items>");
        for i in 0..500 {
            xml.push_str(&format!(
                "\n  <Item n=\"{i}\"><Sku>S{i}</Sku><Qty>{i}</Qty></Item>"
            ));
        }
        xml.push_str("\n</Items><Trailer count=\"500\"/></Feed>");
        let sink = run(&xml, &["Feed", "Items", "Item"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sink.items.len(), 500);
        for (i, item) in sink.items.iter().enumerate() {
            assert_eq!(item, &format!(r#"Item(@n="{i}" Sku="S{i}" Qty="{i}")"#));
        }
        assert!(
            sink.max_len <= 10,
            "the tree grew to {} nodes",
            sink.max_len
        );
        assert_eq!(
            sink.at_first_item.as_deref(),
            Some(r#"(Feed(Header(Id="7") Items(Item(@n="0" Sku="S0" Qty="0"))))"#)
        );
        assert_eq!(
            sink.at_end,
            r#"(Feed(Header(Id="7") Items Trailer(@count="500")))"#
        );
    }

    #[test]
    fn refuses_entity_declarations() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"#;
        assert_eq!(
            error(laughs),
            "po.xml, line 2: entity declarations are refused: dropgate never expands DTD entities"
        );
        let xxe = "<!DOCTYPE foo [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]><foo>&xxe;</foo>";
        let result = run(xxe, &[]);
        assert!(matches!(
            result,
            Err(XmlError::EntityDeclared { line: 1, .. })
        ));
        assert_eq!(
            parsed("<!DOCTYPE note SYSTEM \"note.dtd\">\n<note>hi</note>"),
            r#"(note="hi")"#
        );
        assert_eq!(
            error("<a>\n&foo;</a>"),
            "po.xml, line 2, column 1: undefined entity &foo;"
        );
        assert_eq!(
            error("<a b=\"&bar;\"/>"),
            "po.xml, line 1, column 1: undefined entity &bar;"
        );
    }

    #[test]
    fn reports_malformed_documents_with_their_line() {
        let mismatched = error("<a>\n  <b>x</c>\n</a>");
        assert!(
            mismatched.starts_with("po.xml, line 2, column 7: "),
            "{mismatched}"
        );
        let truncated = error("<Orders>\n  <Order>\n    <Sku>A</Sku>");
        assert!(
            truncated.starts_with("po.xml, line 3, column 17: the document ends inside <Order>"),
            "{truncated}"
        );
        for bad in [
            "",
            "garbage",
            "<a></a><b/>",
            "<a>x</a>tail",
            "<a",
            "<a b=\"1></a>",
            "<a>\u{0}</a>",
            "<a>&#1;</a>",
            "<a b=\"\u{1}\"/>",
        ] {
            assert!(
                matches!(run(bad, &[]), Err(XmlError::Syntax { .. })),
                "{bad:?} accepted"
            );
        }
        let mut tree = Tree::new(Flavor::Xml);
        let invalid = decode(
            &b"<a>caf\xE9</a>"[..],
            "t.xml",
            &XmlOptions::default(),
            &mut tree,
            &mut Recorder::default(),
        );
        assert!(
            matches!(invalid, Err(XmlError::Syntax { line: 1, .. })),
            "{invalid:?}"
        );
    }

    #[test]
    fn survives_every_truncation() {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE r><r xmlns:p=\"u\" a='1'><p:b>&amp;x<![CDATA[y]]></p:b><!--c--><c/></r>";
        for end in 0..xml.len() {
            let mut tree = Tree::new(Flavor::Xml);
            let mut sink = Recorder::default();
            let _ = decode(
                &xml.as_bytes()[..end],
                "t.xml",
                &XmlOptions::default(),
                &mut tree,
                &mut sink,
            );
        }
    }

    /// A tree as a mapping would render it.
    fn order_tree() -> Tree {
        let mut tree = Tree::new(Flavor::Xml);
        let [order, id, line, sku, note, empty] =
            ["Order", "id", "Line", "Sku", "Note", "Empty"].map(|s| tree.intern(s));
        let p = Place::default();
        let o = tree.append(0, order, Kind::Group, b"", p);
        tree.append(o, id, Kind::Attribute, b"a\"<b>&c", p);
        for n in ["1", "2"] {
            let l = tree.append(o, line, Kind::Group, b"", p);
            tree.append(l, sku, Kind::Field, format!("S{n}").as_bytes(), p);
        }
        tree.append(o, note, Kind::Field, b"x < y & \"z\"", p);
        tree.append(o, empty, Kind::Group, b"", p);
        tree
    }

    fn encoded(tree: &Tree, options: &XmlEncodeOptions) -> Result<String, XmlError> {
        let mut out = Vec::new();
        encode(tree, options, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn encodes_escapes_and_decodes_back() {
        let tree = order_tree();
        let options = XmlEncodeOptions {
            namespace: Some("urn:dropgate".into()),
            ..XmlEncodeOptions::default()
        };
        let xml = encoded(&tree, &options).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <Order xmlns=\"urn:dropgate\" id=\"a&quot;&lt;b&gt;&amp;c\">\n  \
             <Line>\n    <Sku>S1</Sku>\n  </Line>\n  \
             <Line>\n    <Sku>S2</Sku>\n  </Line>\n  \
             <Note>x &lt; y &amp; &quot;z&quot;</Note>\n  \
             <Empty/>\n\
             </Order>"
        );
        assert_eq!(parsed(&xml), render(&tree, tree.root()));
        let flat = XmlEncodeOptions {
            indent: None,
            declaration: false,
            namespace: None,
        };
        let xml = encoded(&tree, &flat).unwrap_or_else(|e| panic!("{e}"));
        assert!(xml.starts_with("<Order id="), "{xml}");
        assert_eq!(parsed(&xml), render(&tree, tree.root()));
    }

    #[test]
    fn refuses_invalid_names_and_characters() {
        let mut tree = Tree::new(Flavor::Xml);
        let bad = tree.intern("Qty Available");
        tree.append(0, bad, Kind::Group, b"1", Place::default());
        let err = encoded(&tree, &XmlEncodeOptions::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("XML output: \"Qty Available\" is not a valid XML name")
        );
        let mut tree = Tree::new(Flavor::Xml);
        let a = tree.intern("a");
        tree.append(0, a, Kind::Group, b"bell\x07", Place::default());
        let err = encoded(&tree, &XmlEncodeOptions::default()).err();
        assert!(
            matches!(
                err,
                Some(XmlError::InvalidCharacter {
                    character: '\u{7}',
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(matches!(
            encoded(&Tree::new(Flavor::Xml), &XmlEncodeOptions::default()),
            Err(XmlError::NoElement)
        ));
    }
}
