//! `document`: opening a PDF under limits (file size, pages, objects,
//! inflated stream size), the standard security handler with the empty
//! user password (RC4 and AES, as lopdf implements them), and each page's
//! geometry (`/MediaBox`, `/CropBox`, `/Rotate`, inherited through the
//! page tree) and content.
//!
//! A broken cross-reference table is rebuilt by lopdf by scanning the
//! file for `N G obj` (lenient loading; [`Document::recovered`] says when
//! it happened).

use lopdf::{Dictionary, LoadOptions, Object, ObjectId};

use super::content::{FontCache, Interpreter};
use super::error::{PdfError, Place};
use super::layout::layout;
use super::matrix::Matrix;
use super::objects::Objects;
use super::page::{Page, Rect, Rule, TextSource};

/// Bounds on the work and memory one PDF may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest file read, in bytes.
    pub max_file_bytes: usize,
    /// The most pages.
    pub max_pages: usize,
    /// The most objects.
    pub max_objects: usize,
    /// The most bytes one stream (or one page's content) may inflate to.
    pub max_stream_bytes: usize,
    /// The most operators and glyphs one page may take.
    pub max_operators_per_page: usize,
    /// The most operators and glyphs all pages together may take.
    pub max_operators_per_document: usize,
    /// How deep Form XObjects may nest.
    pub max_form_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 << 20,
            max_pages: 2_000,
            max_objects: 2_000_000,
            max_stream_bytes: 64 << 20,
            max_operators_per_page: 5_000_000,
            max_operators_per_document: 50_000_000,
            max_form_depth: 16,
        }
    }
}

/// How much text a page's own text layer has: the OCR step's cue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TextLayer {
    /// Glyphs shown (spaces not counted).
    pub glyphs: usize,
    /// Of those, glyphs with no text or private-use text.
    pub unmapped: usize,
    /// Images drawn on the page.
    pub images: usize,
}

impl TextLayer {
    /// Whether the page has a usable text layer: most of its glyphs map to
    /// text, and (when it draws an image, as a scan does) at least 10 do,
    /// so that a scan with a stamped page number still counts as a scan.
    pub fn has_text(&self) -> bool {
        let mapped = self.glyphs - self.unmapped.min(self.glyphs);
        mapped > 0 && mapped * 2 > self.glyphs && (self.images == 0 || mapped >= 10)
    }
}

/// A page read from the text layer, with how much text it has.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadPage {
    /// The page's words, lines, blocks and rules.
    pub page: Page,
    /// How much of a text layer it has.
    pub layer: TextLayer,
}

/// An opened PDF.
pub struct Document {
    doc: lopdf::Document,
    pages: Vec<ObjectId>,
    limits: Limits,
    /// The work its pages took so far.
    work: std::cell::Cell<usize>,
    /// Whether the cross-reference table was rebuilt by scanning.
    pub recovered: bool,
}

fn load_error(e: lopdf::Error, limit: usize) -> PdfError {
    match e {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            PdfError::DecompressionBomb {
                place: Place::default(),
                limit,
            }
        }
        lopdf::Error::InvalidPassword => PdfError::PasswordRequired,
        e @ (lopdf::Error::Decryption(_) | lopdf::Error::UnsupportedSecurityHandler(_)) => {
            PdfError::Encryption(e)
        }
        e => PdfError::Unreadable(e),
    }
}

/// A key of a page, or of the nearest ancestor that has it.
fn inherited<'a>(objects: &Objects<'a>, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..64 {
        if let Some(v) = objects.get(node, key) {
            return Some(v);
        }
        node = objects.get_dict(node, b"Parent")?;
    }
    None
}

fn rect_of(objects: &Objects<'_>, obj: Option<&Object>) -> Option<[f64; 4]> {
    let Object::Array(items) = obj? else {
        return None;
    };
    let v = objects.numbers(items)?;
    let [a, b, c, d]: [f64; 4] = v.get(..4)?.try_into().ok()?;
    let r = [a.min(c), b.min(d), a.max(c), b.max(d)];
    (r.iter().all(|x| x.is_finite()) && r[2] > r[0] && r[3] > r[1]).then_some(r)
}

impl Document {
    /// Opens a PDF from its bytes.
    pub fn open(bytes: &[u8], limits: &Limits) -> Result<Document, PdfError> {
        if bytes.len() > limits.max_file_bytes {
            return Err(PdfError::TooLarge {
                size: bytes.len(),
                limit: limits.max_file_bytes,
            });
        }
        let head = &bytes[..bytes.len().min(1024)];
        if memchr::memmem::find(head, b"%PDF-").is_none() {
            return Err(PdfError::NotPdf);
        }
        let options = LoadOptions {
            max_decompressed_size: Some(limits.max_stream_bytes),
            ..LoadOptions::default()
        };
        let doc = lopdf::Document::load_mem_with_options(bytes, options)
            .map_err(|e| load_error(e, limits.max_stream_bytes))?;
        // lopdf tries the empty user password itself; the dictionary is
        // still there when that did not open it.
        if doc.trailer.has(b"Encrypt") {
            return Err(PdfError::PasswordRequired);
        }
        if doc.objects.len() > limits.max_objects {
            return Err(PdfError::TooManyObjects {
                objects: doc.objects.len(),
                limit: limits.max_objects,
            });
        }
        let pages: Vec<ObjectId> = doc.page_iter().take(limits.max_pages + 1).collect();
        if pages.len() > limits.max_pages {
            return Err(PdfError::TooManyPages {
                pages: doc.get_pages().len().max(pages.len()),
                limit: limits.max_pages,
            });
        }
        if pages.is_empty() {
            return Err(PdfError::NoPages);
        }
        Ok(Document {
            recovered: doc.xref_recovery.is_some(),
            doc,
            pages,
            limits: limits.clone(),
            work: std::cell::Cell::new(0),
        })
    }

    /// How many pages it has.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Reads page `number` (from 1) with a font cache shared across pages.
    pub fn page(&self, number: u32, fonts: &mut FontCache) -> Result<ReadPage, PdfError> {
        let objects = Objects::new(&self.doc, self.limits.max_stream_bytes);
        let index = (number as usize).checked_sub(1);
        let Some(&id) = index.and_then(|i| self.pages.get(i)) else {
            return Err(PdfError::NoPages);
        };
        let empty = Dictionary::new();
        let dict = self.doc.get_dictionary(id).unwrap_or(&empty);

        // The page as shown: the crop box (within the media box), turned.
        let media = rect_of(&objects, inherited(&objects, dict, b"MediaBox"))
            .unwrap_or([0.0, 0.0, 612.0, 792.0]);
        let crop = rect_of(&objects, inherited(&objects, dict, b"CropBox"))
            .map(|c| {
                [
                    c[0].max(media[0]),
                    c[1].max(media[1]),
                    c[2].min(media[2]),
                    c[3].min(media[3]),
                ]
            })
            .filter(|c| c[2] > c[0] && c[3] > c[1])
            .unwrap_or(media);
        let rotate = inherited(&objects, dict, b"Rotate")
            .and_then(|r| objects.number(r))
            .map_or(0, |r| ((r as i64 % 360 + 360) % 360) / 90 * 90);
        let [cx0, cy0, cx1, cy1] = crop;
        let (base, width, height) = match rotate {
            90 => (
                Matrix([0.0, 1.0, 1.0, 0.0, -cy0, -cx0]),
                cy1 - cy0,
                cx1 - cx0,
            ),
            180 => (
                Matrix([-1.0, 0.0, 0.0, 1.0, cx1, -cy0]),
                cx1 - cx0,
                cy1 - cy0,
            ),
            270 => (
                Matrix([0.0, -1.0, -1.0, 0.0, cy1, cx1]),
                cy1 - cy0,
                cx1 - cx0,
            ),
            _ => (
                Matrix([1.0, 0.0, 0.0, -1.0, -cx0, cy1]),
                cx1 - cx0,
                cy1 - cy0,
            ),
        };

        // The content: its streams one after the other, within the limit.
        let mut content = Vec::new();
        let streams: Vec<&Object> = match dict.get(b"Contents") {
            Ok(c) => match objects.resolve(c) {
                Some(Object::Array(items)) => items.iter().collect(),
                // A missing object is reported below.
                Some(_) | None => vec![c],
            },
            Err(_) => Vec::new(),
        };
        for s in streams {
            let Some((sid, stream)) = objects.stream(s) else {
                return Err(PdfError::MissingContent {
                    place: Place {
                        page: Some(number),
                        object: s.as_reference().ok(),
                        offset: None,
                    },
                });
            };
            {
                let data = objects.stream_data(stream, sid, Some(number))?;
                if content.len() + data.len() > self.limits.max_stream_bytes {
                    return Err(PdfError::DecompressionBomb {
                        place: Place {
                            page: Some(number),
                            object: sid,
                            offset: None,
                        },
                        limit: self.limits.max_stream_bytes,
                    });
                }
                content.extend_from_slice(&data);
                content.push(b'\n');
            }
        }
        let resources = inherited(&objects, dict, b"Resources").and_then(|r| objects.dict(r));

        let mut interpreter =
            Interpreter::new(objects, fonts, &self.limits, number, base, (width, height));
        interpreter.run(&content, resources, Some(id))?;
        let (found, work) = interpreter.finish();
        self.work.set(self.work.get().saturating_add(work));
        if self.work.get() > self.limits.max_operators_per_document {
            return Err(PdfError::DocumentTooLong {
                place: Place {
                    page: Some(number),
                    ..Place::default()
                },
                limit: self.limits.max_operators_per_document,
            });
        }

        let mut layer = TextLayer {
            images: found.images,
            ..TextLayer::default()
        };
        for g in found.glyphs.iter().filter(|g| !g.space) {
            layer.glyphs += 1;
            if !g.mapped {
                layer.unmapped += 1;
            }
        }
        let page_rect = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: width,
            y1: height,
        };
        let rules = found
            .rules
            .iter()
            .filter(|r| {
                r.x1 >= page_rect.x0
                    && r.x0 <= page_rect.x1
                    && r.y1 >= page_rect.y0
                    && r.y0 <= page_rect.y1
            })
            .map(|&rect| Rule { rect })
            .collect();
        Ok(ReadPage {
            page: Page {
                number,
                width,
                height,
                source: TextSource::TextLayer,
                blocks: layout(&found),
                rules,
            },
            layer,
        })
    }
}
