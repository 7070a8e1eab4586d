//! `content`: the content-stream interpreter. It keeps the graphics state
//! (`cm`, `q`/`Q`) and the text state (`BT`/`ET`, `Tm`, `Td`, `TD`, `T*`,
//! `TL`, `Tc`, `Tw`, `Tz`, `Ts`, `Tf`), shows strings (`Tj`, `TJ` with its
//! kerning, `'`, `"`) as positioned glyphs, descends into Form XObjects
//! (`Do`, with their `/Matrix` and resources, to a depth limit and never
//! into a form already being drawn), and collects the page's ruling lines
//! and rectangles from its paths (`re`, `m`, `l`, `h`, painted by `S`,
//! `f`, `B`, ...; `n` drops them).
//!
//! Coordinates out are those of the page as shown (the caller's initial
//! matrix maps user space there). Work is bounded: every operator and
//! every glyph counts against the page's budget, and past it the page is
//! an error naming the operator's offset.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::{Dictionary, Object, ObjectId};

use super::Limits;
use super::encoding::push_split_ligatures;
use super::error::{PdfError, Place};
use super::font::Font;
use super::lexer::{Lexer, Operand, Token};
use super::matrix::Matrix;
use super::objects::Objects;
use super::page::Rect;

/// A glyph shown on the page, in page coordinates (y down).
#[derive(Clone, Debug, PartialEq)]
pub struct Glyph {
    /// Its text: a range of [`PageContent::text`] (empty when the font
    /// does not map the code).
    pub text: (u32, u32),
    /// Where its advance starts and ends along the baseline.
    pub start: (f64, f64),
    /// The end of its advance.
    pub end: (f64, f64),
    /// Its box (advance by ascent to descent).
    pub rect: Rect,
    /// The font size on the page (the text matrix and CTM applied).
    pub font_size: f64,
    /// The direction of its baseline: 0 right, 1 down, 2 left, 3 up.
    pub rot: u8,
    /// Which font showed it (an index per page).
    pub font: u32,
    /// It is a space character (a word break).
    pub space: bool,
    /// Its font maps it to text that is not in a private-use area.
    pub mapped: bool,
}

/// What the interpreter found on a page.
#[derive(Debug, Default)]
pub struct PageContent {
    /// All glyph text, one after the other.
    pub text: String,
    /// The glyphs in content-stream order.
    pub glyphs: Vec<Glyph>,
    /// Ruling lines and rectangles.
    pub rules: Vec<Rect>,
    /// Images drawn (image XObjects and inline images).
    pub images: usize,
}

impl PageContent {
    /// A glyph's text.
    pub fn text_of(&self, glyph: &Glyph) -> &str {
        self.text
            .get(glyph.text.0 as usize..glyph.text.1 as usize)
            .unwrap_or("")
    }
}

/// Fonts already read, by object, shared by the pages of a document.
#[derive(Default)]
pub struct FontCache {
    fonts: HashMap<ObjectId, Rc<Font>>,
    ids: HashMap<ObjectId, u32>,
}

#[derive(Clone)]
struct TextState {
    font: Option<(Rc<Font>, u32)>,
    size: f64,
    char_space: f64,
    word_space: f64,
    scale: f64,
    leading: f64,
    rise: f64,
}

#[derive(Clone)]
struct GraphicsState {
    ctm: Matrix,
    text: TextState,
}

/// How many `q` may nest (deeper ones are counted but not saved).
const MAX_SAVE_DEPTH: usize = 256;
/// How many operands one operator may take (more are dropped).
const MAX_OPERANDS: usize = 64;
/// How many path segments one path may collect.
const MAX_PATH: usize = 10_000;
/// How many rules one page may have.
const MAX_RULES: usize = 100_000;

/// Interprets the content streams of one page.
pub struct Interpreter<'a, 'c> {
    objects: Objects<'a>,
    fonts: &'c mut FontCache,
    limits: &'c Limits,
    page: u32,
    work: usize,
    forms: Vec<ObjectId>,
    out: PageContent,
    state: GraphicsState,
    stack: Vec<GraphicsState>,
    skipped_saves: usize,
    tm: Matrix,
    tlm: Matrix,
    path: Vec<Rect>,
    current: Option<(f64, f64)>,
    subpath_start: Option<(f64, f64)>,
    next_font_id: u32,
    /// The page's size as shown: glyphs outside it are not kept.
    size: (f64, f64),
}

fn num(ops: &[Operand], i: usize) -> f64 {
    ops.get(i).and_then(Operand::number).unwrap_or(0.0)
}

/// The last `n` operands as numbers, if there are `n` numbers there.
fn last_numbers<const N: usize>(ops: &[Operand]) -> Option<[f64; N]> {
    let start = ops.len().checked_sub(N)?;
    let mut out = [0.0; N];
    for (slot, op) in out.iter_mut().zip(&ops[start..]) {
        *slot = op.number()?;
    }
    Some(out)
}

impl<'a, 'c> Interpreter<'a, 'c> {
    /// An interpreter for page `page` whose user space maps to the page as
    /// shown by `base`, `size` wide and high.
    pub fn new(
        objects: Objects<'a>,
        fonts: &'c mut FontCache,
        limits: &'c Limits,
        page: u32,
        base: Matrix,
        size: (f64, f64),
    ) -> Self {
        Interpreter {
            objects,
            fonts,
            limits,
            page,
            work: 0,
            forms: Vec::new(),
            out: PageContent::default(),
            state: GraphicsState {
                ctm: base,
                text: TextState {
                    font: None,
                    size: 0.0,
                    char_space: 0.0,
                    word_space: 0.0,
                    scale: 1.0,
                    leading: 0.0,
                    rise: 0.0,
                },
            },
            stack: Vec::new(),
            skipped_saves: 0,
            tm: Matrix::IDENTITY,
            tlm: Matrix::IDENTITY,
            path: Vec::new(),
            current: None,
            subpath_start: None,
            next_font_id: 0,
            size,
        }
    }

    /// What was found, and the work it took (operators and glyphs).
    pub fn finish(self) -> (PageContent, usize) {
        (self.out, self.work)
    }

    fn charge(
        &mut self,
        amount: usize,
        offset: usize,
        object: Option<ObjectId>,
    ) -> Result<(), PdfError> {
        self.work = self.work.saturating_add(amount);
        if self.work > self.limits.max_operators_per_page {
            return Err(PdfError::TooMuchWork {
                place: Place {
                    page: Some(self.page),
                    object,
                    offset: Some(offset),
                },
                limit: self.limits.max_operators_per_page,
            });
        }
        Ok(())
    }

    /// Runs a content stream with its resources; `object` names the form
    /// it belongs to (for errors).
    pub fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        object: Option<ObjectId>,
    ) -> Result<(), PdfError> {
        let mut lexer = Lexer::new(content);
        let mut operands: Vec<Operand> = Vec::new();
        loop {
            let offset = lexer.offset();
            let Some(token) = lexer.next_token() else {
                break;
            };
            let op = match token {
                Token::Operand(o) => {
                    if operands.len() < MAX_OPERANDS {
                        operands.push(o);
                    }
                    continue;
                }
                Token::Operator(op) => op,
            };
            self.charge(1, offset, object)?;
            if op == b"ID" {
                self.out.images += 1;
                lexer.skip_inline_image();
            } else {
                self.operator(op, &operands, resources, offset, object)?;
            }
            operands.clear();
        }
        Ok(())
    }

    fn operator(
        &mut self,
        op: &[u8],
        ops: &[Operand],
        resources: Option<&'a Dictionary>,
        offset: usize,
        object: Option<ObjectId>,
    ) -> Result<(), PdfError> {
        match op {
            b"q" => {
                if self.stack.len() < MAX_SAVE_DEPTH {
                    self.stack.push(self.state.clone());
                } else {
                    self.skipped_saves += 1;
                }
            }
            b"Q" => {
                if self.skipped_saves > 0 {
                    self.skipped_saves -= 1;
                } else if let Some(s) = self.stack.pop() {
                    self.state = s;
                }
            }
            b"cm" => {
                if let Some(m) = last_numbers::<6>(ops).and_then(|m| Matrix::from_slice(&m)) {
                    self.state.ctm = m.then(&self.state.ctm);
                }
            }
            b"BT" => {
                self.tm = Matrix::IDENTITY;
                self.tlm = Matrix::IDENTITY;
            }
            b"ET" => {}
            b"Tm" => {
                if let Some(m) = last_numbers::<6>(ops).and_then(|m| Matrix::from_slice(&m)) {
                    self.tm = m;
                    self.tlm = m;
                }
            }
            b"Td" => {
                if let Some([x, y]) = last_numbers::<2>(ops) {
                    self.next_line(x, y);
                }
            }
            b"TD" => {
                if let Some([x, y]) = last_numbers::<2>(ops) {
                    self.state.text.leading = -y;
                    self.next_line(x, y);
                }
            }
            b"T*" => self.next_line(0.0, -self.state.text.leading),
            b"TL" => self.state.text.leading = num(ops, 0),
            b"Tc" => self.state.text.char_space = num(ops, 0),
            b"Tw" => self.state.text.word_space = num(ops, 0),
            b"Tz" => self.state.text.scale = num(ops, 0) / 100.0,
            b"Ts" => self.state.text.rise = num(ops, 0),
            b"Tf" => {
                self.state.text.size = num(ops, 1);
                let font = match ops.first() {
                    Some(Operand::Name(name)) => self.font(resources, name)?,
                    _ => None,
                };
                self.state.text.font = font;
            }
            b"Tj" => {
                if let Some(Operand::Str(s)) = ops.last() {
                    self.show(s, offset, object)?;
                }
            }
            b"'" => {
                self.next_line(0.0, -self.state.text.leading);
                if let Some(Operand::Str(s)) = ops.last() {
                    self.show(s, offset, object)?;
                }
            }
            b"\"" => {
                self.state.text.word_space = num(ops, 0);
                self.state.text.char_space = num(ops, 1);
                self.next_line(0.0, -self.state.text.leading);
                if let Some(Operand::Str(s)) = ops.get(2) {
                    self.show(s, offset, object)?;
                }
            }
            b"TJ" => {
                if let Some(Operand::Array(items)) = ops.last() {
                    for item in items {
                        match item {
                            Operand::Str(s) => self.show(s, offset, object)?,
                            Operand::Number(n) => {
                                let t = &self.state.text;
                                let tx = -n / 1000.0 * t.size * t.scale;
                                self.tm = Matrix::translate(tx, 0.0).then(&self.tm);
                            }
                            _ => {}
                        }
                    }
                }
            }
            b"Do" => {
                if let Some(Operand::Name(name)) = ops.last() {
                    self.draw_xobject(resources, name, offset, object)?;
                }
            }
            // Paths: only their straight parts can be rules.
            b"re" => {
                if let Some([x, y, w, h]) = last_numbers::<4>(ops) {
                    let corners = [(x, y), (x + w, y), (x, y + h), (x + w, y + h)];
                    let rect = self.device_box(&corners);
                    self.push_path(rect);
                    self.current = Some((x, y));
                    self.subpath_start = Some((x, y));
                }
            }
            b"m" => {
                if let Some([x, y]) = last_numbers::<2>(ops) {
                    self.current = Some((x, y));
                    self.subpath_start = Some((x, y));
                }
            }
            b"l" => {
                if let Some([x, y]) = last_numbers::<2>(ops) {
                    self.line_to(x, y);
                }
            }
            b"c" | b"v" | b"y" => {
                if let Some([x, y]) = last_numbers::<2>(ops) {
                    self.current = Some((x, y));
                }
            }
            b"h" => {
                if let Some((x, y)) = self.subpath_start {
                    self.line_to(x, y);
                }
            }
            b"S" | b"s" | b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" => {
                if (op == b"s" || op == b"b" || op == b"b*")
                    && let Some((x, y)) = self.subpath_start
                {
                    self.line_to(x, y);
                }
                let room = MAX_RULES.saturating_sub(self.out.rules.len());
                let path = std::mem::take(&mut self.path);
                self.out.rules.extend(path.into_iter().take(room));
                self.current = None;
            }
            b"n" => {
                self.path.clear();
                self.current = None;
            }
            _ => {}
        }
        Ok(())
    }

    fn next_line(&mut self, x: f64, y: f64) {
        self.tlm = Matrix::translate(x, y).then(&self.tlm);
        self.tm = self.tlm;
    }

    fn device_box(&self, points: &[(f64, f64)]) -> Rect {
        let mut r = Rect {
            x0: f64::INFINITY,
            y0: f64::INFINITY,
            x1: f64::NEG_INFINITY,
            y1: f64::NEG_INFINITY,
        };
        for &(x, y) in points {
            let (dx, dy) = self.state.ctm.apply(x, y);
            r.x0 = r.x0.min(dx);
            r.y0 = r.y0.min(dy);
            r.x1 = r.x1.max(dx);
            r.y1 = r.y1.max(dy);
        }
        r
    }

    fn push_path(&mut self, rect: Rect) {
        let finite = [rect.x0, rect.y0, rect.x1, rect.y1]
            .iter()
            .all(|v| v.is_finite());
        if finite && self.path.len() < MAX_PATH {
            self.path.push(rect);
        }
    }

    fn line_to(&mut self, x: f64, y: f64) {
        if let Some((x0, y0)) = self.current {
            let rect = self.device_box(&[(x0, y0), (x, y)]);
            // Only horizontal and vertical segments are rules.
            if rect.width() < 0.5 || rect.height() < 0.5 {
                self.push_path(rect);
            }
        }
        self.current = Some((x, y));
    }

    fn font(
        &mut self,
        resources: Option<&'a Dictionary>,
        name: &[u8],
    ) -> Result<Option<(Rc<Font>, u32)>, PdfError> {
        let Some(fonts) = resources.and_then(|r| self.objects.get_dict(r, b"Font")) else {
            return Ok(None);
        };
        let Some(entry) = fonts.get(name).ok() else {
            return Ok(None);
        };
        let Some((id, obj)) = self.objects.resolve_with_id(entry) else {
            return Ok(None);
        };
        let Some(dict) = (match obj {
            Object::Dictionary(d) => Some(d),
            _ => None,
        }) else {
            return Ok(None);
        };
        if let Some(id) = id {
            if let (Some(font), Some(&n)) = (self.fonts.fonts.get(&id), self.fonts.ids.get(&id)) {
                return Ok(Some((Rc::clone(font), n)));
            }
            let font = Rc::new(Font::load(&self.objects, dict, self.page)?);
            let n = self.fonts.ids.len() as u32;
            self.fonts.fonts.insert(id, Rc::clone(&font));
            self.fonts.ids.insert(id, n);
            return Ok(Some((font, n)));
        }
        self.next_font_id += 1;
        let font = Rc::new(Font::load(&self.objects, dict, self.page)?);
        Ok(Some((font, u32::MAX - self.next_font_id)))
    }

    fn show(
        &mut self,
        bytes: &[u8],
        offset: usize,
        object: Option<ObjectId>,
    ) -> Result<(), PdfError> {
        let Some((font, font_id)) = self.state.text.font.clone() else {
            return Ok(());
        };
        self.charge(bytes.len(), offset, object)?;
        let t = self.state.text.clone();
        let ctm = self.state.ctm;
        // The font size on the page: the text matrix and CTM applied to a
        // vertical em (as poppler measures it).
        let (vx, vy) = self.tm.then(&ctm).apply_delta(0.0, t.size);
        let font_size = vx.hypot(vy) * font.size_factor;
        let mut glyphs = Vec::new();
        font.decode(bytes, |code| glyphs.push(code));
        for code in glyphs {
            let trm = Matrix([t.size * t.scale, 0.0, 0.0, t.size, 0.0, t.rise])
                .then(&self.tm)
                .then(&ctm);
            let start = trm.apply(0.0, 0.0);
            let end = trm.apply(code.width, 0.0);
            let (dx, dy) = (end.0 - start.0, end.1 - start.1);
            let (ax, ay) = trm.apply_delta(1.0, 0.0);
            let rot = if ax.abs() >= ay.abs() {
                if ax >= 0.0 { 0 } else { 2 }
            } else if ay > 0.0 {
                1
            } else {
                3
            };
            let (a, d) = (font.ascent * font_size, font.descent * font_size);
            let (x, y) = start;
            let rect = match rot {
                0 => Rect {
                    x0: x,
                    x1: x + dx,
                    y0: y - a,
                    y1: y - d,
                },
                1 => Rect {
                    x0: x + d,
                    x1: x + a,
                    y0: y,
                    y1: y + dy,
                },
                2 => Rect {
                    x0: x + dx,
                    x1: x,
                    y0: y + d,
                    y1: y + a,
                },
                _ => Rect {
                    x0: x - a,
                    x1: x - d,
                    y0: y + dy,
                    y1: y,
                },
            };
            let from = self.out.text.len() as u32;
            let mapped = match code.text.as_deref() {
                Some(text) => {
                    push_split_ligatures(&mut self.out.text, text);
                    !text.is_empty()
                        && !text.chars().any(|c| {
                            matches!(u32::from(c), 0xE000..=0xF8FF | 0xF0000.. )
                                || c == '\u{FFFD}'
                                || c.is_control()
                        })
                }
                None => false,
            };
            let to = self.out.text.len() as u32;
            let space = &self.out.text[from as usize..] == " ";
            let finite = [rect.x0, rect.x1, rect.y0, rect.y1, font_size]
                .iter()
                .all(|v| v.is_finite());
            // As poppler: a glyph whose origin and advance lie off the page is dropped.
            let (w, h) = self.size;
            let on_page = x.min(x + dx) <= w
                && x.max(x + dx) >= 0.0
                && y.min(y + dy) <= h
                && y.max(y + dy) >= 0.0;
            if finite && on_page {
                self.out.glyphs.push(Glyph {
                    text: (from, to),
                    start,
                    end,
                    rect,
                    font_size,
                    rot,
                    font: font_id,
                    space,
                    mapped,
                });
            }
            // The advance: width, character and word spacing, scaled.
            let word = if code.is_space { t.word_space } else { 0.0 };
            let advance = (code.width * t.size + t.char_space + word) * t.scale;
            self.tm = Matrix::translate(advance, 0.0).then(&self.tm);
        }
        Ok(())
    }

    fn draw_xobject(
        &mut self,
        resources: Option<&'a Dictionary>,
        name: &[u8],
        offset: usize,
        object: Option<ObjectId>,
    ) -> Result<(), PdfError> {
        let objects = self.objects;
        let Some(entry) = resources
            .and_then(|r| objects.get_dict(r, b"XObject"))
            .and_then(|x| x.get(name).ok())
        else {
            return Ok(());
        };
        let Some((id, stream)) = objects.stream(entry) else {
            return Ok(());
        };
        match objects.get_name(&stream.dict, b"Subtype") {
            Some(b"Form") => {}
            Some(b"Image") => {
                self.out.images += 1;
                return Ok(());
            }
            _ => return Ok(()),
        }
        // A form that draws itself, or forms nested past the limit, are
        // not followed (as readers do); the rest of the page is read.
        if self.forms.len() >= self.limits.max_form_depth
            || id.is_some_and(|id| self.forms.contains(&id))
        {
            return Ok(());
        }
        self.charge(1, offset, object)?;
        let data = objects.stream_data(stream, id, Some(self.page))?;
        let matrix = objects
            .get_array(&stream.dict, b"Matrix")
            .and_then(|m| objects.numbers(m))
            .and_then(|m| Matrix::from_slice(&m))
            .unwrap_or(Matrix::IDENTITY);
        let form_resources = objects.get_dict(&stream.dict, b"Resources").or(resources);
        let saved = (
            self.state.clone(),
            self.tm,
            self.tlm,
            std::mem::take(&mut self.stack),
            self.skipped_saves,
        );
        self.skipped_saves = 0;
        self.state.ctm = matrix.then(&self.state.ctm);
        if let Some(id) = id {
            self.forms.push(id);
        }
        let result = self.run(&data, form_resources, id.or(object));
        if id.is_some() {
            self.forms.pop();
        }
        (
            self.state,
            self.tm,
            self.tlm,
            self.stack,
            self.skipped_saves,
        ) = saved;
        result
    }
}

#[cfg(test)]
mod tests {
    use lopdf::{Dictionary, Object, Stream, dictionary};

    use crate::format::pdf::testpdf::{PageSpec, build, helvetica, page};
    use crate::format::pdf::{Limits, PdfError, ReadPage, Rect, read};

    fn one(spec: PageSpec) -> ReadPage {
        let pdf = build(|_| vec![spec]);
        read(&pdf, &Limits::default()).expect("reads").remove(0)
    }

    fn words(p: &ReadPage) -> Vec<(String, Rect)> {
        p.page.words().map(|w| (w.text.clone(), w.rect)).collect()
    }

    fn close(a: Rect, b: Rect) -> bool {
        [(a.x0, b.x0), (a.y0, b.y0), (a.x1, b.x1), (a.y1, b.y1)]
            .iter()
            .all(|(x, y)| (x - y).abs() < 0.01)
    }

    #[test]
    fn tm_places_a_word_with_afm_widths_and_ascent() {
        let p = one(page("BT /F1 10 Tf 1 0 0 1 100 700 Tm (Hello) Tj ET"));
        let w = words(&p);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].0, "Hello");
        // H e l l o = 722 + 556 + 222 + 222 + 556; Helvetica ascent 718, descent -207.
        let want = Rect {
            x0: 100.0,
            y0: 92.0 - 7.18,
            x1: 122.78,
            y1: 92.0 + 2.07,
        };
        assert!(close(w[0].1, want), "{:?}", w[0].1);
        assert!(p.layer.has_text());
    }

    #[test]
    fn glyphs_off_the_page_are_dropped() {
        let p = one(page(
            "BT /F1 10 Tf -500 700 Td (Gone) Tj 600 0 Td (Kept) Tj 0 100000000000 Td (Far) Tj ET",
        ));
        let texts: Vec<String> = words(&p).into_iter().map(|(t, _)| t).collect();
        assert_eq!(texts, vec!["Kept".to_string()]);
    }

    #[test]
    fn tj_kerning_joins_small_gaps_and_splits_large_ones() {
        let p = one(page(
            "BT /F1 10 Tf 100 700 Td [(Hel) -50 (lo) 300 (W) -300 (orld)] TJ ET",
        ));
        let w = words(&p);
        let texts: Vec<&str> = w.iter().map(|(t, _)| t.as_str()).collect();
        // -50: 0.5 pt apart (joined); +300 moves back 3 pt (overlap: split); -300: 3 pt gap.
        assert_eq!(texts, vec!["Hello", "W", "orld"]);
        let hello_end = 100.0 + 22.78 + 0.5;
        assert!((w[1].1.x0 - (hello_end - 3.0)).abs() < 0.01);
        assert!((w[2].1.x0 - (w[1].1.x1 + 3.0)).abs() < 0.01);
    }

    #[test]
    fn tz_scales_and_ts_raises() {
        let p = one(page("BT /F1 10 Tf 50 Tz 5 Ts 100 700 Td (AA) Tj ET"));
        let w = words(&p);
        assert!((w[0].1.width() - 6.67).abs() < 0.01, "{:?}", w[0].1);
        // Risen by 5: the baseline is at 92 - 5 from the top.
        assert!((w[0].1.y1 - (87.0 + 2.07)).abs() < 0.01);
    }

    #[test]
    fn text_line_operators_and_spacing() {
        let p = one(page(
            "BT /F1 10 Tf 14 TL 100 700 Td (a) Tj T* (b) Tj (c) ' 3 2 (d e) \" 0 -20 TD (f) Tj T* (g) Tj ET",
        ));
        let w = words(&p);
        let at = |t: &str| w.iter().find(|(x, _)| x == t).map(|(_, r)| *r).expect(t);
        assert!((at("b").y1 - at("a").y1 - 14.0).abs() < 0.01);
        assert!((at("c").y1 - at("b").y1 - 14.0).abs() < 0.01);
        assert!((at("d").y1 - at("c").y1 - 14.0).abs() < 0.01);
        // d: 556 wide, then 2 pt character spacing; the space 278 + 2 + 3 word spacing.
        assert!((at("e").x0 - (100.0 + 5.56 + 2.0 + 2.78 + 2.0 + 3.0)).abs() < 0.01);
        // TD sets the leading to 20.
        assert!((at("f").y1 - at("d").y1 - 20.0).abs() < 0.01);
        assert!((at("g").y1 - at("f").y1 - 20.0).abs() < 0.01);
    }

    #[test]
    fn cm_and_q_q_scale_and_restore() {
        let p = one(page(
            "q 2 0 0 2 0 0 cm BT /F1 10 Tf 10 10 Td (X) Tj ET Q BT /F1 10 Tf 10 10 Td (Y) Tj ET",
        ));
        let fonts: Vec<(String, f64, f64)> = p
            .page
            .words()
            .map(|w| (w.text.clone(), w.font_size, w.rect.x0))
            .collect();
        assert!(fonts.contains(&("X".into(), 20.0, 20.0)), "{fonts:?}");
        assert!(fonts.contains(&("Y".into(), 10.0, 10.0)), "{fonts:?}");
    }

    fn form(
        doc: &mut lopdf::Document,
        content: &str,
        matrix: Option<Vec<Object>>,
    ) -> lopdf::ObjectId {
        let mut dict = dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! {"Font" => dictionary! {"F9" => helvetica()}},
        };
        if let Some(m) = matrix {
            dict.set("Matrix", m);
        }
        doc.add_object(Stream::new(dict, content.as_bytes().to_vec()))
    }

    #[test]
    fn form_xobjects_apply_their_matrix_and_resources() {
        let pdf = build(|doc| {
            let id = form(
                doc,
                "BT /F9 10 Tf 10 20 Td (Inside) Tj ET",
                Some(vec![
                    1.into(),
                    0.into(),
                    0.into(),
                    1.into(),
                    50.into(),
                    100.into(),
                ]),
            );
            let mut spec = page("q 1 0 0 1 5 0 cm /Fm1 Do Q BT /F1 10 Tf 10 20 Td (Outside) Tj ET");
            spec.resources.set("XObject", dictionary! {"Fm1" => id});
            vec![spec]
        });
        let p = read(&pdf, &Limits::default()).expect("reads").remove(0);
        let w = words(&p);
        let inside = w.iter().find(|(t, _)| t == "Inside").expect("form text");
        let outside = w.iter().find(|(t, _)| t == "Outside").expect("page text");
        assert!((inside.1.x0 - 65.0).abs() < 0.01);
        assert!((inside.1.y1 - (792.0 - 120.0 + 2.07)).abs() < 0.01);
        assert!((outside.1.x0 - 10.0).abs() < 0.01);
    }

    #[test]
    fn a_form_that_draws_itself_and_deep_nesting_end() {
        let pdf = build(|doc| {
            // Form 1 draws itself; forms 2..40 each draw the next.
            let own = doc.new_object_id();
            let mut dict = dictionary! {"Type" => "XObject", "Subtype" => "Form",
            "Resources" => dictionary! {"XObject" => dictionary! {"Me" => own}}};
            dict.set("BBox", vec![0.into(), 0.into(), 10.into(), 10.into()]);
            doc.objects.insert(
                own,
                Object::Stream(Stream::new(dict, b"/Me Do /Me Do".to_vec())),
            );
            let mut next: Option<lopdf::ObjectId> = None;
            for _ in 0..40 {
                let res = match next {
                    Some(n) => dictionary! {"XObject" => dictionary! {"N" => n}},
                    None => Dictionary::new(),
                };
                let d = dictionary! {"Type" => "XObject", "Subtype" => "Form", "Resources" => res};
                next = Some(doc.add_object(Stream::new(d, b"/N Do /N Do".to_vec())));
            }
            let mut spec = page("/Me Do /Deep Do BT /F1 10 Tf 10 20 Td (Still) Tj ET");
            spec.resources.set(
                "XObject",
                dictionary! {"Me" => own, "Deep" => next.expect("made")},
            );
            vec![spec]
        });
        let p = read(&pdf, &Limits::default()).expect("reads").remove(0);
        assert_eq!(words(&p).len(), 1);
    }

    #[test]
    fn rotation_and_crop_box_give_the_page_as_shown() {
        let text = "BT /F1 10 Tf 100 700 Td (Up) Tj ET";
        let shown = |attrs: Dictionary| {
            let mut spec = page(text);
            spec.attrs = attrs;
            let p = one(spec);
            let r = p.page.words().next().expect("a word").rect;
            (p.page.width, p.page.height, r)
        };
        let (w, h, r) = shown(dictionary! {"Rotate" => 90});
        assert_eq!((w, h), (792.0, 612.0));
        // Turned clockwise: user (100, 700) is shown at (700, 100), reading down.
        assert!(
            (r.y0 - 100.0).abs() < 0.01 && r.x0 < 700.0 && r.x1 > 700.0,
            "{r:?}"
        );
        let (_, _, r) = shown(dictionary! {"Rotate" => 180});
        assert!(
            (r.x1 - 512.0).abs() < 0.01 && r.y0 < 700.0 - 92.0 + 100.0,
            "{r:?}"
        );
        let (w, h, r) = shown(dictionary! {"Rotate" => 270});
        assert_eq!((w, h), (792.0, 612.0));
        assert!((r.y1 - 512.0).abs() < 0.01, "{r:?}");
        let (w, h, r) = shown(dictionary! {
            "CropBox" => vec![50.into(), 40.into(), 562.into(), 752.into()]
        });
        assert_eq!((w, h), (512.0, 712.0));
        assert!(
            (r.x0 - 50.0).abs() < 0.01 && (r.y1 - (52.0 + 2.07)).abs() < 0.01,
            "{r:?}"
        );
    }

    #[test]
    fn differences_type0_to_unicode_and_ligatures_on_a_page() {
        let pdf = build(|doc| {
            let cmap = doc.add_object(Stream::new(
                Dictionary::new(),
                b"1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfrange <0001> <0003> <0049> <0010> <0011> [<FB01> <0078>] endbfrange"
                    .to_vec(),
            ));
            let type0 = dictionary! {
                "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+Sans",
                "Encoding" => "Identity-H", "ToUnicode" => cmap,
                "DescendantFonts" => vec![dictionary! {"Subtype" => "CIDFontType2", "DW" => 600}.into()],
            };
            let diff = dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman",
                "Encoding" => dictionary! {"Differences" => vec![
                    65.into(), Object::Name(b"ffl".to_vec()), Object::Name(b"Euro".to_vec())]},
            };
            let mut spec = page(
                "BT /F2 10 Tf 100 700 Td <000100020003> Tj <0010> Tj ET BT /F3 10 Tf 100 650 Td (\\102\\101) Tj ET",
            );
            spec.resources = dictionary! {"Font" => dictionary! {"F2" => type0, "F3" => diff}};
            vec![spec]
        });
        let p = read(&pdf, &Limits::default()).expect("reads").remove(0);
        let texts: Vec<String> = p.page.words().map(|w| w.text.clone()).collect();
        assert_eq!(texts, vec!["IJKfi".to_string(), "€ffl".to_string()]);
        let first = p.page.words().next().expect("word").rect;
        assert!((first.width() - 24.0).abs() < 0.01);
    }

    #[test]
    fn ruling_lines_and_rectangles_are_collected() {
        let p = one(page(
            "100 100 200 0.5 re f 100 200 m 300 200 l S 0 0 m 50 50 l S 10 10 m 20 10 l n 5 5 20 20 re B",
        ));
        let rules: Vec<Rect> = p.page.rules.iter().map(|r| r.rect).collect();
        assert_eq!(rules.len(), 3, "{rules:?}");
        assert!(close(
            rules[0],
            Rect {
                x0: 100.0,
                y0: 691.5,
                x1: 300.0,
                y1: 692.0
            }
        ));
        assert!(close(
            rules[1],
            Rect {
                x0: 100.0,
                y0: 592.0,
                x1: 300.0,
                y1: 592.0
            }
        ));
    }

    #[test]
    fn unmapped_and_image_only_pages_have_no_text_layer() {
        let pdf = build(|doc| {
            let image = doc.add_object(Stream::new(
                dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8},
                vec![0],
            ));
            let type0 = dictionary! {
                "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+Sans", "Encoding" => "Identity-H",
                "DescendantFonts" => vec![dictionary! {"Subtype" => "CIDFontType2"}.into()],
            };
            let mut scan = page("q 612 0 0 792 0 0 cm /Im0 Do Q BT /F1 8 Tf 500 20 Td (1) Tj ET");
            scan.resources.set("XObject", dictionary! {"Im0" => image});
            let mut garbage = page("BT /F2 10 Tf 100 700 Td <00410042004300440045> Tj ET");
            garbage.resources = dictionary! {"Font" => dictionary! {"F2" => type0}};
            vec![
                scan,
                garbage,
                page("BT /F1 10 Tf 100 700 Td (Invoice) Tj ET"),
            ]
        });
        let pages = read(&pdf, &Limits::default()).expect("reads");
        assert!(!pages[0].layer.has_text(), "{:?}", pages[0].layer);
        assert_eq!(pages[0].layer.images, 1);
        assert!(!pages[1].layer.has_text(), "{:?}", pages[1].layer);
        assert_eq!(pages[1].layer.unmapped, 5);
        assert!(pages[2].layer.has_text());
    }

    #[test]
    fn work_past_the_limit_is_an_error_naming_the_place() {
        let content = "BT /F1 10 Tf 100 700 Td (x) Tj ET ".repeat(100);
        let pdf = build(|_| vec![page(&content)]);
        let limits = Limits {
            max_operators_per_page: 50,
            ..Limits::default()
        };
        match read(&pdf, &limits) {
            Err(e @ PdfError::TooMuchWork { .. }) => {
                let text = e.to_string();
                assert!(text.starts_with("page 1, object "), "{text}");
                assert!(text.contains("content byte "), "{text}");
            }
            other => panic!("expected TooMuchWork, got {other:?}"),
        }
    }
}
