//! `objects`: typed reads of lopdf objects that follow references and
//! never fail: a missing or mistyped value is `None`, and a stream's data
//! is inflated under the size limit (over it is an error, the one thing
//! that is not ignored).

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::error::{PdfError, Place};

/// The objects of a document, read with a limit on inflated streams.
#[derive(Clone, Copy)]
pub struct Objects<'a> {
    doc: &'a Document,
    max_stream: usize,
}

impl<'a> Objects<'a> {
    /// Reads `doc`, inflating no stream past `max_stream` bytes.
    pub fn new(doc: &'a Document, max_stream: usize) -> Self {
        Objects { doc, max_stream }
    }

    /// The document.
    pub fn document(&self) -> &'a Document {
        self.doc
    }

    /// The object a reference leads to (itself if it is no reference).
    pub fn resolve(&self, obj: &'a Object) -> Option<&'a Object> {
        self.doc.dereference(obj).ok().map(|(_, o)| o)
    }

    /// The object and its id, if it was reached by reference.
    pub fn resolve_with_id(&self, obj: &'a Object) -> Option<(Option<ObjectId>, &'a Object)> {
        self.doc.dereference(obj).ok()
    }

    /// A dictionary (or a stream's dictionary).
    pub fn dict(&self, obj: &'a Object) -> Option<&'a Dictionary> {
        match self.resolve(obj)? {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// An entry of a dictionary, resolved.
    pub fn get(&self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
        self.resolve(dict.get(key).ok()?)
    }

    /// A dictionary entry that is a dictionary.
    pub fn get_dict(&self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
        self.dict(dict.get(key).ok()?)
    }

    /// A number.
    pub fn number(&self, obj: &'a Object) -> Option<f64> {
        match self.resolve(obj)? {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) if r.is_finite() => Some(f64::from(*r)),
            _ => None,
        }
    }

    /// A dictionary entry that is a number.
    pub fn get_number(&self, dict: &'a Dictionary, key: &[u8]) -> Option<f64> {
        self.number(dict.get(key).ok()?)
    }

    /// A dictionary entry that is a name.
    pub fn get_name(&self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
        match self.get(dict, key)? {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    /// A dictionary entry that is an array.
    pub fn get_array(&self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [Object]> {
        match self.get(dict, key)? {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Numbers of an array (`None` if any is not a number).
    pub fn numbers(&self, items: &'a [Object]) -> Option<Vec<f64>> {
        items.iter().map(|o| self.number(o)).collect()
    }

    /// A stream and its id.
    pub fn stream(&self, obj: &'a Object) -> Option<(Option<ObjectId>, &'a Stream)> {
        match self.resolve_with_id(obj)? {
            (id, Object::Stream(s)) => Some((id, s)),
            _ => None,
        }
    }

    /// A stream's data, its filters applied; data that cannot be decoded
    /// is empty (as readers show nothing for it), data over the limit is
    /// an error.
    pub fn stream_data(
        &self,
        stream: &Stream,
        id: Option<ObjectId>,
        page: Option<u32>,
    ) -> Result<Vec<u8>, PdfError> {
        let bomb = || PdfError::DecompressionBomb {
            place: Place {
                page,
                object: id,
                offset: None,
            },
            limit: self.max_stream,
        };
        if stream.dict.get(b"Filter").is_err() {
            if stream.content.len() > self.max_stream {
                return Err(bomb());
            }
            return Ok(stream.content.clone());
        }
        match stream.decompressed_content_with_limit(self.max_stream) {
            Ok(data) => Ok(data),
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                ..
            })) => Err(bomb()),
            Err(_) => Ok(Vec::new()),
        }
    }
}
