//! Checks the elements of one segment against its definition: presence,
//! repetitions, components, type, length, codes and syntax notes.
//!
//! Every element gets at most one finding (the first problem found), as an
//! AK4 carries one code. Numbers are measured the way X12 measures them: a
//! sign and a decimal point do not count toward the length.

use crate::x12::defs::{
    ElementDef, ElementKind, ElementSpec, ElementType, ElementUse, Quick, SegmentDef, SyntaxKind,
    SyntaxRule,
};
use crate::x12::delimiters::Delimiters;
use crate::x12::segment::Segment;

use super::codes::ElementError;
use super::finding::ElementFinding;

/// Most bytes of a bad value copied into a finding (AK404 holds 99).
pub const MAX_COPIED_VALUE: usize = 99;

const DIGIT: u8 = 1;
const MINUS: u8 = 2;
const DOT: u8 = 4;
const EXPONENT: u8 = 8;
const CONTROL: u8 = 16;
const HIGH: u8 = 32;
const DELIMITER: u8 = 64;
const OTHER: u8 = 128;

/// What each byte is, for the fast path: one table lookup per byte tells
/// digits, signs, control characters, non-ASCII bytes and the delimiters
/// that split an element (component and repetition separators).
#[derive(Clone, Debug)]
pub struct ByteClasses {
    table: [u8; 256],
    delimiters: Delimiters,
}

impl ByteClasses {
    /// The classes for values read with `d`.
    pub fn new(d: Delimiters) -> ByteClasses {
        let mut table = [OTHER; 256];
        for (b, class) in table.iter_mut().enumerate() {
            let b = b as u8;
            *class = match b {
                b'0'..=b'9' => DIGIT,
                b'-' => MINUS,
                b'.' => DOT,
                b'E' => EXPONENT | OTHER,
                0..=0x1F | 0x7F => CONTROL,
                0x80..=0xFF => HIGH,
                _ => OTHER,
            };
        }
        table[usize::from(d.component())] |= DELIMITER;
        if let Some(r) = d.repetition() {
            table[usize::from(r)] |= DELIMITER;
        }
        ByteClasses {
            table,
            delimiters: d,
        }
    }

    /// The delimiters the classes were made for.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }
}

/// True when `segment` certainly has no element findings, with no
/// allocation. `false` means "look closer": the full check then finds the
/// problems, or finds none (composites sent with several components,
/// repetitions and non-ASCII text always take the full check).
///
/// Segments of up to 64 bytes are classified eight bytes at a time into
/// three bit masks (separators, bytes that need a closer look, non-digits);
/// each element is then checked with a few bit operations.
pub fn segment_is_clean(
    segment: &Segment<'_>,
    def: &SegmentDef,
    classes: &ByteClasses,
    memo: &mut SyntaxMemo,
) -> bool {
    let raw = segment.raw();
    let id_len = segment.id_bytes().len();
    let specs = &def.specs;
    if id_len >= raw.len() {
        return def.mandatory_mask == 0
            && specs.len() <= 64
            && def.syntax.iter().all(|r| r.holds(0));
    }
    let body = &raw[id_len + 1..];
    if body.len() >= 64 {
        return segment_is_clean_bytewise(body, segment.delimiters().element(), def, classes);
    }
    let d = classes.delimiters;
    let body_with_spare = &segment.spare()[id_len + 1..];
    let Some(masks) = classify(body_with_spare, body.len(), d) else {
        // Control characters, non-ASCII text or component and repetition
        // separators: the byte-by-byte path tells them apart.
        return segment_is_clean_bytewise(body, d.element(), def, classes);
    };
    let fast = &def.fast;
    // Bytes past the body count as non-digits, so a run of digits never
    // reads beyond its value.
    let non_digits = !masks.digits;
    let mut present: u64 = 0;
    let mut position = 0usize;
    let mut start = 0usize;
    // The body is shorter than 64 bytes: a separator bit at its end makes
    // the last element end like the others.
    let mut rest = masks.separators | 1 << body.len();
    while rest != 0 {
        let end = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        if end > start {
            let Some(spec) = fast.get(position) else {
                return false;
            };
            present |= 1 << (position & 63);
            // Most values are proved valid by their length alone (text) or
            // by their digit mask (numbers); dates, decimals with a point,
            // closed code lists and the rest are looked at in full.
            let len = end - start;
            let digits = (non_digits >> start).trailing_zeros() as usize >= len;
            let quick_ok = len >= usize::from(spec.min)
                && len <= usize::from(spec.max)
                && (spec.quick == Quick::Text || (spec.quick != Quick::Slow && digits));
            if !quick_ok {
                let look = Look {
                    special: false,
                    digits,
                    classes,
                };
                if !value_is_clean(
                    &body[start..end],
                    look,
                    def.specs.get(position),
                    position,
                    &mut present,
                ) {
                    return false;
                }
            }
        }
        start = end + 1;
        position += 1;
    }
    fast.len() <= 64 && def.mandatory_mask & !present == 0 && syntax_holds(def, present, memo)
}

/// Where the element separators and the digits are in the first bytes of
/// a segment body.
struct Masks {
    separators: u64,
    digits: u64,
}

/// Syntax notes hold for this presence pattern. Segments of one kind come
/// with the same pattern again and again, so verdicts are remembered.
#[inline]
fn syntax_holds(def: &SegmentDef, present: u64, memo: &mut SyntaxMemo) -> bool {
    if def.syntax.is_empty() {
        return true;
    }
    let key = (def as *const SegmentDef as usize as u64) ^ present.rotate_left(17);
    let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize;
    if memo.0[slot] == (key, present) {
        return true;
    }
    let holds = def.syntax.iter().all(|r| r.holds(present));
    if holds {
        memo.0[slot] = (key, present);
    }
    holds
}

/// Presence patterns already found to satisfy a segment's syntax notes,
/// keyed by the definition's address (stable while the validator holds it).
#[derive(Clone, Debug)]
pub struct SyntaxMemo([(u64, u64); 64]);

impl SyntaxMemo {
    /// Forgets every verdict.
    pub fn clear(&mut self) {
        *self = SyntaxMemo::default();
    }
}

impl Default for SyntaxMemo {
    fn default() -> Self {
        SyntaxMemo([(u64::MAX, u64::MAX); 64])
    }
}

/// Classifies the first `len` bytes (at most 64) of `bytes` into bit masks,
/// or `None` when they hold a byte that needs a closer look (control
/// characters, DEL, non-ASCII bytes, component or repetition separators).
/// Sixteen bytes are classified per step with safe SIMD (`wide`); blocks may
/// reach past `len` into `bytes` (the buffer), and what lies past `len` is
/// masked off.
#[inline]
fn classify(bytes: &[u8], len: usize, d: Delimiters) -> Option<Masks> {
    use wide::u8x16;
    let element = u8x16::splat(d.element());
    let component = u8x16::splat(d.component());
    let repetition = u8x16::splat(d.repetition().unwrap_or(d.component()));
    let last_control = u8x16::splat(0x1F);
    let del = u8x16::splat(0x7F);
    let zero = u8x16::splat(b'0');
    let nine = u8x16::splat(9);
    let mut m = Masks {
        separators: 0,
        digits: 0,
    };
    let mut special = 0u64;
    let mut at = 0;
    while at < len {
        let mut block = [0u8; 16];
        match bytes.get(at..at + 16) {
            Some(whole) => block.copy_from_slice(whole),
            None => {
                // The end of the buffer: copy what there is.
                for (b, &t) in block.iter_mut().zip(&bytes[at..]) {
                    *b = t;
                }
            }
        }
        let x = u8x16::from(block);
        let control = x.min(last_control).cmp_eq(x);
        let sp = control | x.cmp_eq(del) | x.cmp_eq(component) | x.cmp_eq(repetition);
        // move_mask on `x` itself gives the high bit: non-ASCII bytes.
        special |= ((sp.move_mask() | x.move_mask()) as u64) << at;
        let offset = x - zero;
        m.separators |= (x.cmp_eq(element).move_mask() as u64) << at;
        m.digits |= (offset.min(nine).cmp_eq(offset).move_mask() as u64) << at;
        at += 16;
    }
    let keep = if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    };
    if special & keep != 0 {
        return None;
    }
    m.separators &= keep;
    m.digits &= keep;
    Some(m)
}

/// The byte-by-byte fast path, for segments longer than 64 bytes.
fn segment_is_clean_bytewise(
    body: &[u8],
    separator: u8,
    def: &SegmentDef,
    classes: &ByteClasses,
) -> bool {
    let specs = &def.specs;
    let mut present: u64 = 0;
    let mut position = 0usize;
    let mut start = 0;
    let mut class = 0u8;
    for (i, &b) in body.iter().enumerate() {
        if b == separator {
            if !value_is_clean(
                &body[start..i],
                Look::of(class, classes),
                specs.get(position),
                position,
                &mut present,
            ) {
                return false;
            }
            position += 1;
            start = i + 1;
            class = 0;
        } else {
            class |= classes.table[usize::from(b)];
        }
    }
    if !value_is_clean(
        &body[start..],
        Look::of(class, classes),
        specs.get(position),
        position,
        &mut present,
    ) {
        return false;
    }
    !specs
        .get(position + 1..)
        .unwrap_or(&[])
        .iter()
        .any(|s| s.mandatory)
        && def.syntax.iter().all(|r| r.holds(present))
}

/// What is known of a value's bytes before it is checked.
#[derive(Clone, Copy)]
struct Look<'a> {
    /// It holds a control character, DEL, a non-ASCII byte or a component
    /// or repetition separator.
    special: bool,
    /// It holds only digits.
    digits: bool,
    classes: &'a ByteClasses,
}

impl<'a> Look<'a> {
    fn of(class: u8, classes: &'a ByteClasses) -> Look<'a> {
        Look {
            special: class & (CONTROL | HIGH | DELIMITER) != 0,
            digits: class & !DIGIT == 0,
            classes,
        }
    }
}

#[inline]
fn value_is_clean(
    v: &[u8],
    look: Look<'_>,
    spec: Option<&ElementSpec>,
    position: usize,
    present: &mut u64,
) -> bool {
    let Some(spec) = spec else {
        return v.is_empty();
    };
    if v.is_empty() {
        return !spec.mandatory;
    }
    if spec.not_used {
        return false;
    }
    if position < 64 {
        *present |= 1 << position;
    }
    match (&spec.ty, &spec.first_component) {
        (Some(_), _) => simple_is_clean(v, look, spec),
        (None, Some(first)) => !first.not_used && simple_is_clean(v, look, first),
        (None, None) => false,
    }
}

#[inline]
fn simple_is_clean(v: &[u8], look: Look<'_>, spec: &ElementSpec) -> bool {
    let Some(ty) = spec.ty else {
        return false;
    };
    let length = match ty {
        ElementType::An | ElementType::Id => {
            if look.special {
                let class = v
                    .iter()
                    .fold(0u8, |c, &b| c | look.classes.table[usize::from(b)]);
                if class & (CONTROL | DELIMITER) != 0 {
                    return false;
                }
                text_length(v)
            } else {
                v.len()
            }
        }
        ElementType::Numeric(_) if look.digits => v.len(),
        ElementType::Decimal if look.digits => v.len(),
        ElementType::Numeric(_) | ElementType::Decimal if look.special => return false,
        ElementType::Numeric(_) => match numeric_digits(v) {
            Some(n) => n,
            None => return false,
        },
        ElementType::Decimal => match decimal_digits(v) {
            Some(n) => n,
            None => return false,
        },
        ElementType::Date => {
            if !look.digits || !valid_date(v) {
                return false;
            }
            v.len()
        }
        ElementType::Time => {
            if !look.digits || !valid_time(v) {
                return false;
            }
            v.len()
        }
        ElementType::Binary => return true,
    };
    length >= spec.min as usize
        && length <= spec.max as usize
        && spec.codes.as_ref().is_none_or(|c| c.allows(v))
}

/// Checks the elements of `segment` against `def`, appending findings.
pub fn check_segment(segment: &Segment<'_>, def: &SegmentDef, out: &mut Vec<ElementFinding>) {
    let delimiters = segment.delimiters();
    let mut present: u64 = 0;
    let mut count = 0usize;
    for (i, value) in segment.elements().enumerate() {
        count = i + 1;
        let position = i + 1;
        let Some(u) = def.elements.get(i) else {
            if !value.is_empty() {
                out.push(ElementFinding::new(
                    position,
                    None,
                    None,
                    "",
                    ElementError::TooManyElements,
                    value,
                ));
            }
            continue;
        };
        if value.is_empty() {
            if u.req.is_mandatory() {
                out.push(ElementFinding::new(
                    position,
                    None,
                    None,
                    u.kind.id(),
                    ElementError::MandatoryMissing,
                    b"",
                ));
            }
            continue;
        }
        if position <= 64 {
            present |= 1 << (position - 1);
        }
        if u.not_used {
            out.push(ElementFinding::new(
                position,
                None,
                None,
                u.kind.id(),
                ElementError::ImplementationNotUsedElementPresent,
                value,
            ));
            continue;
        }
        check_element(value, position, u, &delimiters, out);
    }
    for (i, u) in def.elements.iter().enumerate().skip(count) {
        if u.req.is_mandatory() {
            out.push(ElementFinding::new(
                i + 1,
                None,
                None,
                u.kind.id(),
                ElementError::MandatoryMissing,
                b"",
            ));
        }
    }
    if !def.syntax.is_empty() {
        let before = out.len();
        check_syntax(&def.syntax, present, &mut |position, error| {
            // One finding per element: a value already found wrong stays so.
            if out[..before]
                .iter()
                .any(|f| f.position == position && f.component.is_none())
            {
                return;
            }
            let reference = def.elements.get(position - 1).map_or("", |u| u.kind.id());
            let value = if error == ElementError::ExclusionViolated {
                segment.element(position).unwrap_or(b"")
            } else {
                b""
            };
            out.push(ElementFinding::new(
                position, None, None, reference, error, value,
            ));
        });
    }
}

fn check_element(
    value: &[u8],
    position: usize,
    u: &ElementUse,
    d: &Delimiters,
    out: &mut Vec<ElementFinding>,
) {
    match d.repetition() {
        Some(r) if memchr::memchr(r, value).is_some() => {
            let mut n = 0u32;
            for rep in value.split(|&b| b == r) {
                n += 1;
                if n > u.repeat {
                    out.push(ElementFinding::new(
                        position,
                        None,
                        Some(n as usize),
                        u.kind.id(),
                        ElementError::TooManyRepetitions,
                        rep,
                    ));
                    return;
                }
                if !rep.is_empty() {
                    check_one(rep, position, Some(n as usize), u, d, out);
                }
            }
        }
        _ => check_one(value, position, None, u, d, out),
    }
}

fn check_one(
    value: &[u8],
    position: usize,
    repetition: Option<usize>,
    u: &ElementUse,
    d: &Delimiters,
    out: &mut Vec<ElementFinding>,
) {
    match &u.kind {
        ElementKind::Simple(e) => {
            if let Some(error) = check_value(value, e) {
                out.push(ElementFinding::new(
                    position, None, repetition, &e.id, error, value,
                ));
            }
        }
        ElementKind::Composite(c) => {
            let mut present: u64 = 0;
            let mut count = 0;
            let before = out.len();
            for (j, component) in value.split(|&b| b == d.component()).enumerate() {
                count = j + 1;
                let Some(cu) = c.components.get(j) else {
                    out.push(ElementFinding::new(
                        position,
                        Some(j + 1),
                        repetition,
                        "",
                        ElementError::TooManyComponents,
                        value,
                    ));
                    return;
                };
                let id = cu.kind.id();
                if component.is_empty() {
                    if cu.req.is_mandatory() {
                        out.push(ElementFinding::new(
                            position,
                            Some(j + 1),
                            repetition,
                            id,
                            ElementError::MandatoryMissing,
                            b"",
                        ));
                    }
                    continue;
                }
                if j < 64 {
                    present |= 1 << j;
                }
                if cu.not_used {
                    out.push(ElementFinding::new(
                        position,
                        Some(j + 1),
                        repetition,
                        id,
                        ElementError::ImplementationNotUsedElementPresent,
                        component,
                    ));
                    continue;
                }
                if let ElementKind::Simple(e) = &cu.kind
                    && let Some(error) = check_value(component, e)
                {
                    out.push(ElementFinding::new(
                        position,
                        Some(j + 1),
                        repetition,
                        id,
                        error,
                        component,
                    ));
                }
            }
            for (j, cu) in c.components.iter().enumerate().skip(count) {
                if cu.req.is_mandatory() {
                    out.push(ElementFinding::new(
                        position,
                        Some(j + 1),
                        repetition,
                        cu.kind.id(),
                        ElementError::MandatoryMissing,
                        b"",
                    ));
                }
            }
            let after_components = out.len();
            check_syntax(&c.syntax, present, &mut |j, error| {
                if out[before..after_components]
                    .iter()
                    .any(|f| f.component == Some(j))
                {
                    return;
                }
                let id = c.components.get(j - 1).map_or("", |cu| cu.kind.id());
                out.push(ElementFinding::new(
                    position,
                    Some(j),
                    repetition,
                    id,
                    error,
                    b"",
                ));
            });
        }
    }
}

/// Checks one simple value against its element definition; the first
/// problem found, if any.
pub fn check_value(value: &[u8], e: &ElementDef) -> Option<ElementError> {
    let length = match e.ty {
        ElementType::Numeric(_) => match numeric_digits(value) {
            Some(n) => n,
            None => return Some(ElementError::InvalidCharacter),
        },
        ElementType::Decimal => match decimal_digits(value) {
            Some(n) => n,
            None => return Some(ElementError::InvalidCharacter),
        },
        ElementType::Date => {
            if !valid_date(value) {
                return Some(
                    if value.iter().all(u8::is_ascii_digit) && !matches!(value.len(), 6 | 8) {
                        length_error(value.len(), e).unwrap_or(ElementError::InvalidDate)
                    } else {
                        ElementError::InvalidDate
                    },
                );
            }
            value.len()
        }
        ElementType::Time => {
            if !valid_time(value) {
                return Some(
                    if value.iter().all(u8::is_ascii_digit) && !(4..=8).contains(&value.len()) {
                        length_error(value.len(), e).unwrap_or(ElementError::InvalidTime)
                    } else {
                        ElementError::InvalidTime
                    },
                );
            }
            value.len()
        }
        ElementType::Binary => return None,
        ElementType::An | ElementType::Id => {
            if value.iter().any(|&b| b < 0x20 || b == 0x7F) {
                return Some(ElementError::InvalidCharacter);
            }
            text_length(value)
        }
    };
    if let Some(error) = length_error(length, e) {
        return Some(error);
    }
    if e.ty == ElementType::Id
        && let Some(codes) = &e.codes
        && !codes.allows(value)
    {
        return Some(ElementError::InvalidCode);
    }
    None
}

fn length_error(length: usize, e: &ElementDef) -> Option<ElementError> {
    if length < e.min as usize {
        Some(ElementError::TooShort)
    } else if length > e.max as usize {
        Some(ElementError::TooLong)
    } else {
        None
    }
}

/// Characters of a text value: bytes for ASCII, code points for UTF-8, bytes
/// for anything else.
fn text_length(value: &[u8]) -> usize {
    if value.is_ascii() {
        value.len()
    } else {
        std::str::from_utf8(value).map_or(value.len(), |s| s.chars().count())
    }
}

/// Digits of an `Nn` value (`-?[0-9]+`), or `None` when it is not one.
fn numeric_digits(value: &[u8]) -> Option<usize> {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(digits.len())
}

/// Digits of an `R` value (`-?` digits with at most one `.`, and an optional
/// exponent `E-?digits`), or `None`. The exponent's digits do not count.
fn decimal_digits(value: &[u8]) -> Option<usize> {
    let body = value.strip_prefix(b"-").unwrap_or(value);
    let (mantissa, exponent) = match body.iter().position(|&b| b == b'E') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(exp) = exponent {
        let exp = exp.strip_prefix(b"-").unwrap_or(exp);
        if exp.is_empty() || !exp.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    let mut digits = 0;
    let mut points = 0;
    for &b in mantissa {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    (digits > 0 && points <= 1).then_some(digits)
}

fn two(v: &[u8]) -> u32 {
    u32::from(v[0] - b'0') * 10 + u32::from(v[1] - b'0')
}

/// `CCYYMMDD` or `YYMMDD`, a real calendar date.
pub fn valid_date(value: &[u8]) -> bool {
    if !value.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (year, rest) = match value.len() {
        8 => (two(&value[..2]) * 100 + two(&value[2..4]), &value[4..]),
        // Six-digit years pivot like the ISA's: 00-49 are 20xx.
        6 => {
            let yy = two(&value[..2]);
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &value[2..])
        }
        _ => return false,
    };
    let (month, day) = (two(&rest[..2]), two(&rest[2..4]));
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `HHMM`, `HHMMSS`, `HHMMSSD` or `HHMMSSDD`.
pub fn valid_time(value: &[u8]) -> bool {
    if !(4..=8).contains(&value.len()) || value.len() == 5 || !value.iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    two(&value[..2]) < 24 && two(&value[2..4]) < 60 && (value.len() < 6 || two(&value[4..6]) < 60)
}

/// Evaluates syntax notes over a presence bitmap (bit `p-1` set when
/// position `p` is present), calling `emit` for each position at fault.
pub fn check_syntax(rules: &[SyntaxRule], present: u64, emit: &mut dyn FnMut(usize, ElementError)) {
    let has = |p: usize| (1..=64).contains(&p) && present & (1 << (p - 1)) != 0;
    for rule in rules {
        if rule.holds(present) {
            continue;
        }
        let ps = &rule.positions;
        match rule.kind {
            SyntaxKind::Paired => {
                if ps.iter().any(|&p| has(p)) {
                    for &p in ps.iter().filter(|&&p| !has(p)) {
                        emit(p, ElementError::ConditionalMissing);
                    }
                }
            }
            SyntaxKind::Required => {
                if !ps.iter().any(|&p| has(p)) {
                    emit(ps[0], ElementError::ConditionalMissing);
                }
            }
            SyntaxKind::Exclusion => {
                for &p in ps.iter().filter(|&&p| has(p)).skip(1) {
                    emit(p, ElementError::ExclusionViolated);
                }
            }
            SyntaxKind::Conditional => {
                if has(ps[0]) {
                    for &p in ps[1..].iter().filter(|&&p| !has(p)) {
                        emit(p, ElementError::ConditionalMissing);
                    }
                }
            }
            SyntaxKind::ListConditional => {
                if has(ps[0]) && !ps[1..].iter().any(|&p| has(p)) {
                    emit(ps[1], ElementError::ConditionalMissing);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::defs::{CodeList, Requirement};
    use crate::x12::ids::SegmentId;
    use crate::x12::position::Position;
    use std::sync::Arc;

    fn el(id: &str, ty: ElementType, min: u32, max: u32) -> Arc<ElementDef> {
        Arc::new(ElementDef {
            id: id.into(),
            name: id.into(),
            ty,
            min,
            max,
            codes: None,
        })
    }

    fn simple(e: Arc<ElementDef>, req: Requirement) -> ElementUse {
        ElementUse {
            kind: ElementKind::Simple(e),
            req,
            repeat: 1,
            not_used: false,
        }
    }

    fn beg() -> SegmentDef {
        let mut purpose = (*el("353", ElementType::Id, 2, 2)).clone();
        let codes = [("00".to_string(), "Original".to_string())].into();
        purpose.codes = Some(Arc::new(CodeList::new(codes, true)));
        SegmentDef::new(
            SegmentId::from_static("BEG"),
            "BEG".into(),
            vec![
                simple(Arc::new(purpose), Requirement::Mandatory),
                simple(el("92", ElementType::Id, 2, 2), Requirement::Mandatory),
                simple(el("324", ElementType::An, 1, 22), Requirement::Mandatory),
                simple(el("328", ElementType::An, 1, 30), Requirement::Optional),
                simple(el("373", ElementType::Date, 8, 8), Requirement::Mandatory),
                simple(
                    el("330", ElementType::Decimal, 1, 15),
                    Requirement::Relational,
                ),
                simple(el("355", ElementType::Id, 2, 2), Requirement::Relational),
            ],
            vec![SyntaxRule::parse("P0607").expect("note")],
        )
    }

    fn check(raw: &str) -> Vec<(usize, ElementError, String)> {
        let seg = Segment::new(raw.as_bytes(), Delimiters::x12_5010(), Position::default());
        let mut out = Vec::new();
        let def = beg();
        check_segment(&seg, &def, &mut out);
        // The fast path must never call a segment with findings clean.
        let clean = segment_is_clean(
            &seg,
            &def,
            &ByteClasses::new(Delimiters::x12_5010()),
            &mut SyntaxMemo::default(),
        );
        assert!(
            !clean || out.is_empty(),
            "{raw}: the fast path missed {out:?}"
        );
        // A component or repetition separator in a value is left to the
        // full check (the fast path declines it), so only without them
        // must the two agree.
        let separators = raw.contains([':', '^']);
        assert!(
            clean == (out.is_empty() && raw.is_ascii()) || (separators && !clean),
            "{raw}: the fast path disagrees"
        );
        out.into_iter()
            .map(|f| {
                (
                    f.position,
                    f.error,
                    String::from_utf8_lossy(&f.value).into_owned(),
                )
            })
            .collect()
    }

    proptest::proptest! {
        /// The fast path and the full check agree on any body, short or
        /// long (the fast path changes strategy at 64 bytes).
        #[test]
        fn fast_path_agrees_with_full_check(body in "[0-9A-Z0O .*:^-]{0,80}") {
            check(&format!("BEG*{body}"));
        }

        /// The same, on bodies built from values that are near misses of
        /// valid ones, so that clean segments come up often.
        #[test]
        fn fast_path_agrees_on_near_misses(values in proptest::collection::vec(proptest::sample::select(vec![
            "00", "0", "000", "01", "DS", "D", "PO123", "", "20240115", "2024011", "20241315",
            "-1.5", "1.5", "1.", "15", "EA", "E", "PO:1", "123456789012345678901234567890AB",
            "12345678901234567890123456789", "20240229", "20230229",
        ]), 0..10)) {
            check(&format!("BEG*{}", values.join("*")));
        }
    }

    #[test]
    fn a_good_segment_has_no_findings() {
        assert!(check("BEG*00*DS*PO123**20240115").is_empty());
        assert!(check("BEG*00*DS*PO123**20240115*-1.5*EA").is_empty());
    }

    #[test]
    fn each_kind_of_element_error() {
        assert_eq!(
            check("BEG*00*DS*PO123**20241317"),
            vec![(5, ElementError::InvalidDate, "20241317".into())]
        );
        assert_eq!(
            check("BEG*00*DS***20240115"),
            vec![(3, ElementError::MandatoryMissing, String::new())]
        );
        assert_eq!(
            check("BEG*XX*DS*PO1**20240115"),
            vec![(1, ElementError::InvalidCode, "XX".into())]
        );
        assert_eq!(
            check("BEG*00*D*PO1**20240115"),
            vec![(2, ElementError::TooShort, "D".into())]
        );
        assert_eq!(
            check(&format!("BEG*00*DS*{}**20240115", "P".repeat(23))),
            vec![(3, ElementError::TooLong, "P".repeat(23))]
        );
        assert_eq!(
            check("BEG*00*DS*PO1**20240115*1.2.3*EA"),
            vec![(6, ElementError::InvalidCharacter, "1.2.3".into())]
        );
        assert_eq!(
            check("BEG*00*DS*PO1**20240115*1*EA*X"),
            vec![(8, ElementError::TooManyElements, "X".into())]
        );
        assert_eq!(
            check("BEG*00*DS*PO1**20240115*1"),
            vec![(7, ElementError::ConditionalMissing, String::new())]
        );
        assert_eq!(
            check("BEG*00*DS*PO1**2024011"),
            vec![(5, ElementError::TooShort, "2024011".into())]
        );
        assert_eq!(
            check("BEG*00*DS*PO\u{1}1**20240115"),
            vec![(3, ElementError::InvalidCharacter, "PO\u{1}1".into())]
        );
        assert_eq!(
            check("BEG*00*DS*PO1"),
            vec![(5, ElementError::MandatoryMissing, String::new())]
        );
    }

    #[test]
    fn trailing_empty_elements_are_tolerated() {
        assert!(check("BEG*00*DS*PO1**20240115***").is_empty());
    }

    #[test]
    fn repetitions_need_a_repeatable_element() {
        assert_eq!(
            check("BEG*00*DS^SA*PO1**20240115")[0].1,
            ElementError::TooManyRepetitions
        );
    }

    #[test]
    fn numbers_count_digits_only() {
        let e = el("380", ElementType::Decimal, 1, 3);
        assert_eq!(check_value(b"-1.25", &e), None);
        assert_eq!(check_value(b"1.2345", &e), Some(ElementError::TooLong));
        assert_eq!(check_value(b"1E-5", &e), None);
        assert_eq!(check_value(b".", &e), Some(ElementError::InvalidCharacter));
        assert_eq!(
            check_value(b"1,5", &e),
            Some(ElementError::InvalidCharacter)
        );
        let n = el("96", ElementType::Numeric(0), 1, 3);
        assert_eq!(check_value(b"-123", &n), None);
        assert_eq!(
            check_value(b"12.3", &n),
            Some(ElementError::InvalidCharacter)
        );
    }

    #[test]
    fn dates_and_times() {
        assert!(valid_date(b"20240229"));
        assert!(!valid_date(b"20230229"));
        assert!(valid_date(b"20000229"));
        assert!(!valid_date(b"19000229"));
        assert!(valid_date(b"240115"));
        assert!(!valid_date(b"20240431"));
        assert!(!valid_date(b"2024011A"));
        assert!(valid_time(b"2359"));
        assert!(valid_time(b"235959"));
        assert!(valid_time(b"23595999"));
        assert!(!valid_time(b"2400"));
        assert!(!valid_time(b"12345"));
        assert!(!valid_time(b"1260"));
        let t = el("337", ElementType::Time, 4, 8);
        assert_eq!(check_value(b"2460", &t), Some(ElementError::InvalidTime));
        assert_eq!(check_value(b"123", &t), Some(ElementError::TooShort));
    }

    #[test]
    fn utf8_text_counts_characters() {
        let e = el("93", ElementType::An, 1, 5);
        assert_eq!(check_value("Zoë K".as_bytes(), &e), None);
        assert_eq!(
            check_value("Zoë Ka".as_bytes(), &e),
            Some(ElementError::TooLong)
        );
    }

    #[test]
    fn syntax_notes() {
        let mut out = Vec::new();
        let rules: Vec<SyntaxRule> = ["R0102", "E0304", "C0506", "L070809"]
            .iter()
            .map(|r| SyntaxRule::parse(r).expect("note"))
            .collect();
        // Present: 3, 4, 5, 7.
        check_syntax(&rules, 0b0101_1100, &mut |p, e| out.push((p, e)));
        assert_eq!(
            out,
            vec![
                (1, ElementError::ConditionalMissing),
                (4, ElementError::ExclusionViolated),
                (6, ElementError::ConditionalMissing),
                (8, ElementError::ConditionalMissing),
            ]
        );
    }
}
