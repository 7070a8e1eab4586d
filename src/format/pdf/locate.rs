//! `locate`: finding a template's values on positioned text: the words
//! right of a label, the lines below a label, the words in a region of a
//! page, or a regular expression over each line's text.
//!
//! Labels are matched word by word, ignoring case, and with what usually
//! differs between two invoices of one vendor ignored too: a colon at the
//! end, and how the label is cut into words (`Invoice #:` matches
//! `Invoice#`, and `Invoice #` matches the words `Invoice` `#:`). A label
//! glued to its value in one word (`Invoice#:INV-7`) gives the rest of the
//! word as the first word of the value.

use regex::Regex;

use super::page::{Line, Page, Rect, Word};

/// A value found: its text, and where (the box of its words).
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The words, joined by single spaces (lines by a space too).
    pub text: String,
    /// The page, from 1.
    pub page: u32,
    /// The box of its words.
    pub rect: Rect,
}

/// Which pages a value is looked for on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pages {
    /// Every page, the first found wins.
    #[default]
    Any,
    /// Page N (from 1) of the invoice.
    Number(u32),
    /// The invoice's last page (totals are there).
    Last,
}

/// How a value is found.
#[derive(Clone, Debug)]
pub enum Locator {
    /// The words right of `label` on its line, up to a gap wider than
    /// [`COLUMN_GAP_EMS`] font sizes (the next column), or at most `words`
    /// of them.
    RightOf {
        /// The label.
        label: String,
        /// At most this many words.
        words: Option<usize>,
    },
    /// The `lines` lines below `label`, in the label's column (words that
    /// start right of the label's left edge less [`COLUMN_GAP_EMS`], up to
    /// the next column).
    Below {
        /// The label.
        label: String,
        /// How many lines.
        lines: usize,
    },
    /// The words whose middle is inside a rectangle of the page, in
    /// reading order.
    Region(Rect),
    /// The first capture group (or the whole match) of a regular
    /// expression over each line's text (its words joined by spaces).
    Pattern(Regex),
}

/// A gap between two words, in font sizes, past which they are in two
/// columns.
pub const COLUMN_GAP_EMS: f64 = 1.5;

/// A value found, and the label it was found from (for `right_of` and
/// `below`): what `dropgate pdf inspect` draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// The value.
    pub value: Found,
    /// The label's own box, for a locator by label.
    pub anchor: Option<Found>,
}

/// Finds a value on `pages` (an invoice's pages, in order).
pub fn locate(pages: &[Page], locator: &Locator, on: Pages) -> Option<Found> {
    locate_from(pages, locator, on).map(|l| l.value)
}

/// Finds a value on `pages`, with the label it was found from.
pub fn locate_from(pages: &[Page], locator: &Locator, on: Pages) -> Option<Located> {
    pages_of(pages, on).find_map(|page| on_page(page, locator))
}

impl std::fmt::Display for Locator {
    /// How the value is found, as a template says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Locator::RightOf { label, words: None } => write!(f, "right of {label:?}"),
            Locator::RightOf {
                label,
                words: Some(n),
            } => write!(f, "right of {label:?} ({n} word(s))"),
            Locator::Below { label, lines } => write!(f, "below {label:?} ({lines} line(s))"),
            Locator::Region(r) => {
                write!(f, "in the region [{}, {}, {}, {}]", r.x0, r.y0, r.x1, r.y1)
            }
            Locator::Pattern(re) => write!(f, "by the pattern '{}'", re.as_str()),
        }
    }
}

/// The pages `on` selects.
pub fn pages_of(pages: &[Page], on: Pages) -> Box<dyn Iterator<Item = &Page> + '_> {
    match on {
        Pages::Any => Box::new(pages.iter()),
        Pages::Number(n) => Box::new(pages.get(n.saturating_sub(1) as usize).into_iter()),
        Pages::Last => Box::new(pages.last().into_iter()),
    }
}

fn on_page(page: &Page, locator: &Locator) -> Option<Located> {
    // A value found from the label `at` on `line`.
    let by_label = |line: &Line, at: &Label, value: Option<Found>| {
        value.map(|value| Located {
            value,
            anchor: Some(Found {
                text: line_text(&Line {
                    words: line.words[first_word(line, at)..at.after].to_vec(),
                    rect: line.rect,
                }),
                page: page.number,
                rect: label_box(line, at),
            }),
        })
    };
    let plain = |value: Option<Found>| {
        value.map(|value| Located {
            value,
            anchor: None,
        })
    };
    match locator {
        Locator::RightOf { label, words } => {
            let lines = lines_of(page);
            lines.iter().find_map(|line| {
                let at = find_label(line, label)?;
                by_label(
                    line,
                    &at,
                    found(page.number, &right_words(line, &at, *words)),
                )
            })
        }
        Locator::Below {
            label,
            lines: count,
        } => {
            let lines = lines_of(page);
            lines.iter().enumerate().find_map(|(k, line)| {
                let at = find_label(line, label)?;
                let left = at.start_x - COLUMN_GAP_EMS * at.em;
                let taken: Vec<Word> = lines
                    .iter()
                    .skip(k + 1)
                    .take(*count)
                    .flat_map(|below| column_words(below, left))
                    .collect();
                by_label(line, &at, found(page.number, &taken))
            })
        }
        Locator::Region(rect) => {
            let taken: Vec<Word> = page
                .words()
                .filter(|w| {
                    let (x, y) = middle(&w.rect);
                    x >= rect.x0 && x <= rect.x1 && y >= rect.y0 && y <= rect.y1
                })
                .cloned()
                .collect();
            plain(found(page.number, &taken))
        }
        Locator::Pattern(re) => lines_of(page).iter().find_map(|line| {
            let text = line_text(line);
            let caps = re.captures(&text)?;
            let m = caps.get(1).or_else(|| caps.get(0))?;
            let value = m.as_str().trim();
            if value.is_empty() {
                return None;
            }
            // The box: the words the match overlaps.
            let mut start = 0;
            let mut words = Vec::new();
            for w in &line.words {
                let end = start + w.text.len();
                if end > m.start() && start < m.end() {
                    words.push(w.clone());
                }
                start = end + 1;
            }
            let rect = words
                .iter()
                .map(|w| w.rect)
                .reduce(|a, b| a.union(&b))
                .unwrap_or(line.rect);
            plain(Some(Found {
                text: value.to_string(),
                page: page.number,
                rect,
            }))
        }),
    }
}

/// A place a label appears: what is right of it on its line (up to the
/// next column), the line below it in its column, and whether a word
/// stands just before it (`Due Date` holds `Date`, preceded by `Due`).
#[derive(Clone, Debug, PartialEq)]
pub struct Labelled {
    /// The label's own box.
    pub label: Found,
    /// The words right of it, up to a gap of [`COLUMN_GAP_EMS`].
    pub right: Option<Found>,
    /// The line below it, in its column.
    pub below: Option<Found>,
    /// Every word right of it on its line, whatever the gaps (a total's
    /// amount set at the page's right edge).
    pub line_rest: Option<Found>,
    /// A word ends less than a font size before it on its line.
    pub preceded: bool,
}

/// Every place `label` appears on `pages`, page by page, top to bottom.
pub fn labelled(pages: &[Page], label: &str) -> Vec<Labelled> {
    let mut out = Vec::new();
    for page in pages {
        let lines = lines_of(page);
        for (k, line) in lines.iter().enumerate() {
            let mut from = 0;
            while let Some(at) = find_label_from(line, label, from) {
                let first = first_word(line, &at);
                // A word that qualifies the label (`Due` of `Due Date`),
                // not a value that ends before it (`NS-88 Date:`).
                let preceded = first > 0
                    && line.words.get(first - 1).is_some_and(|w| {
                        at.start_x - w.rect.x1 < at.em
                            && !w.text.chars().any(|c| c.is_ascii_digit())
                            && w.text.chars().any(char::is_alphabetic)
                    });
                let label_rect = label_box(line, &at);
                let right = right_words(line, &at, None);
                let mut rest: Vec<Word> = at.rest.iter().cloned().collect();
                rest.extend(line.words[at.after..].iter().cloned());
                let below = lines.get(k + 1).and_then(|b| {
                    let taken = column_words(b, at.start_x - COLUMN_GAP_EMS * at.em);
                    found(page.number, &taken)
                });
                out.push(Labelled {
                    label: Found {
                        text: label.to_string(),
                        page: page.number,
                        rect: label_rect,
                    },
                    right: found(page.number, &right),
                    below,
                    line_rest: found(page.number, &rest),
                    preceded,
                });
                from = at.after;
            }
        }
    }
    out
}

/// The index of a label's first word on its line.
fn first_word(line: &Line, at: &Label) -> usize {
    line.words
        .iter()
        .position(|w| w.rect.x0 >= at.start_x)
        .unwrap_or(0)
        .min(at.after)
}

/// The box of a label's words on its line.
fn label_box(line: &Line, at: &Label) -> Rect {
    line.words[first_word(line, at)..at.after]
        .iter()
        .map(|w| w.rect)
        .reduce(|a, b| a.union(&b))
        .unwrap_or(line.rect)
}

/// The words right of a label on its line, up to the next column (or at
/// most `words` of them).
fn right_words(line: &Line, at: &Label, words: Option<usize>) -> Vec<Word> {
    let mut taken = Vec::new();
    if let Some(rest) = &at.rest {
        taken.push(rest.clone());
    }
    let mut right = at.end_x;
    for w in &line.words[at.after..] {
        if words.is_some_and(|n| taken.len() >= n) {
            break;
        }
        if !taken.is_empty() && w.rect.x0 - right > COLUMN_GAP_EMS * em(w) {
            break;
        }
        right = w.rect.x1;
        taken.push(w.clone());
    }
    taken
}

/// The words of `line` from the first whose middle is right of `left`
/// (a value of the column before that reaches past `left` is not this
/// column's), up to the next column.
fn column_words(line: &Line, left: f64) -> Vec<Word> {
    let mut taken = Vec::new();
    let mut right = None;
    for w in &line.words {
        if (w.rect.x0 + w.rect.x1) / 2.0 <= left {
            continue;
        }
        if right.is_some_and(|r: f64| w.rect.x0 - r > COLUMN_GAP_EMS * em(w)) {
            break;
        }
        right = Some(w.rect.x1);
        taken.push(w.clone());
    }
    taken
}

/// A line's words joined by single spaces.
pub fn line_text(line: &Line) -> String {
    let mut text = String::new();
    for (i, w) in line.words.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&w.text);
    }
    text
}

/// Every line of a page, top to bottom (lines of several blocks at the
/// same height, left to right, are merged into one line).
pub fn lines_of(page: &Page) -> Vec<Line> {
    let mut lines: Vec<Line> = page
        .blocks
        .iter()
        .flat_map(|b| b.lines.iter().cloned())
        .collect();
    lines.sort_by(|a, b| a.rect.y0.total_cmp(&b.rect.y0));
    let mut merged: Vec<Line> = Vec::with_capacity(lines.len());
    for line in lines {
        match merged.last_mut() {
            Some(last) if same_row(&last.rect, &line.rect) => {
                last.rect = last.rect.union(&line.rect);
                last.words.extend(line.words);
                last.words.sort_by(|a, b| a.rect.x0.total_cmp(&b.rect.x0));
            }
            _ => merged.push(line),
        }
    }
    merged
}

/// Whether two lines' boxes are on one row: their vertical middles are
/// within half the smaller height of each other.
fn same_row(a: &Rect, b: &Rect) -> bool {
    let (ma, mb) = ((a.y0 + a.y1) / 2.0, (b.y0 + b.y1) / 2.0);
    (ma - mb).abs() <= a.height().min(b.height()) / 2.0
}

fn middle(r: &Rect) -> (f64, f64) {
    ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0)
}

/// A word's font size, or its height when it has none.
fn em(w: &Word) -> f64 {
    if w.font_size > 0.0 {
        w.font_size
    } else {
        w.rect.height().max(1.0)
    }
}

fn found(page: u32, words: &[Word]) -> Option<Found> {
    let rect = words.iter().map(|w| w.rect).reduce(|a, b| a.union(&b))?;
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Some(Found { text, page, rect })
}

/// A label found on a line.
struct Label {
    /// The index of the first word after it.
    after: usize,
    /// Its left and right edges.
    start_x: f64,
    end_x: f64,
    /// Its font size.
    em: f64,
    /// What its last word holds past the label (`INV-7` of
    /// `Invoice#:INV-7`).
    rest: Option<Word>,
}

/// What a label is compared as: lower case, no spaces, no colon at the
/// end.
pub fn label_key(text: &str) -> String {
    let mut key: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    while key.ends_with(':') {
        key.pop();
    }
    key
}

/// Marks that OCR reads from specks and rules around a word.
const NOISE: &[char] = &[
    '‘', '’', '\'', '"', '`', '´', '©', '|', '_', '~', '“', '”', '«', '»',
];

/// Finds `label` on `line`: the first run of words that spell it.
fn find_label(line: &Line, label: &str) -> Option<Label> {
    find_label_from(line, label, 0)
}

/// Finds `label` on `line` from word `from` on: the words it is, as the
/// index of its first word, its left and right edges and the index of the
/// word after it.
pub fn label_at(line: &Line, label: &str, from: usize) -> Option<(f64, f64, usize)> {
    find_label_from(line, label, from).map(|l| (l.start_x, l.end_x, l.after))
}

fn find_label_from(line: &Line, label: &str, from: usize) -> Option<Label> {
    let want = label_key(label);
    if want.is_empty() {
        return None;
    }
    for start in from..line.words.len() {
        let mut have = String::new();
        for end in start..line.words.len() {
            let word = &line.words[end];
            let mut key: String = word.text.chars().flat_map(char::to_lowercase).collect();
            if end == start {
                // Specks that OCR reads before a word (`‘Price`).
                key = key.trim_start_matches(NOISE).to_string();
            }
            have.push_str(&key);
            let trimmed = have.trim_end_matches(':').trim_end_matches(NOISE);
            if trimmed == want {
                return Some(Label {
                    after: end + 1,
                    start_x: line.words[start].rect.x0,
                    end_x: word.rect.x1,
                    em: em(word),
                    rest: None,
                });
            }
            // The label ends inside this word: the rest is the value.
            if let Some(rest) = have.strip_prefix(want.as_str())
                && have.len() > want.len()
                && key.len() > rest.len()
            {
                let rest = rest.trim_start_matches(':');
                if rest.is_empty() {
                    continue;
                }
                // Where the rest starts in the word as written: its
                // lower case may be longer or shorter (`İ`, two bytes, is
                // `i̇`, three), so the place is counted letter by letter.
                let Some(cut) = written_offset(&word.text, key.len() - rest.len(), key.len())
                else {
                    continue;
                };
                let share = cut as f64 / word.text.len().max(1) as f64;
                let split = word.rect.x0 + word.rect.width() * share;
                return Some(Label {
                    after: end + 1,
                    start_x: line.words[start].rect.x0,
                    end_x: word.rect.x1,
                    em: em(word),
                    rest: word.text.get(cut..).map(|text| Word {
                        text: text.to_string(),
                        rect: Rect {
                            x0: split,
                            ..word.rect
                        },
                        font_size: word.font_size,
                        confidence: word.confidence,
                    }),
                });
            }
            // Each word of a label holds a letter of it at least: a run of
            // empty words or colons is not followed to the line's end.
            if (!want.starts_with(trimmed) && !want.starts_with(have.as_str()))
                || end - start >= want.len()
            {
                break;
            }
        }
    }
    None
}

/// The byte offset in `text` of byte `at` of its lower-case key (the
/// key being `text` in lower case, less `key_len`-`text` specks at its
/// start); `None` when `at` falls inside a letter's lower case.
fn written_offset(text: &str, at: usize, key_len: usize) -> Option<usize> {
    let lower_len: usize = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(char::len_utf8)
        .sum();
    // The specks trimmed off the key's start are the same bytes in both.
    let skipped = lower_len.checked_sub(key_len)?;
    let mut lower = skipped;
    let at = at + skipped;
    for (i, c) in text.char_indices() {
        if lower == at {
            return Some(i);
        }
        if lower > at {
            return None;
        }
        lower += c.to_lowercase().map(char::len_utf8).sum::<usize>();
    }
    (lower == at).then_some(text.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::pdf::page::{Block, TextSource};

    /// A page from lines of words given as (text, x) at a height `y`, each
    /// word 6 pt a letter, 10 pt high, font size 10.
    pub(crate) fn page(number: u32, rows: &[(f64, &[(&str, f64)])]) -> Page {
        let lines = rows
            .iter()
            .map(|(y, words)| {
                let words: Vec<Word> = words
                    .iter()
                    .map(|(text, x)| Word {
                        text: text.to_string(),
                        rect: Rect {
                            x0: *x,
                            y0: *y,
                            x1: x + 6.0 * text.chars().count() as f64,
                            y1: y + 10.0,
                        },
                        font_size: 10.0,
                        confidence: None,
                    })
                    .collect();
                let rect = words
                    .iter()
                    .map(|w| w.rect)
                    .reduce(|a, b| a.union(&b))
                    .unwrap_or_default();
                Line { words, rect }
            })
            .collect::<Vec<_>>();
        let rect = lines
            .iter()
            .map(|l| l.rect)
            .reduce(|a, b| a.union(&b))
            .unwrap_or_default();
        Page {
            number,
            width: 612.0,
            height: 792.0,
            source: TextSource::TextLayer,
            blocks: vec![Block { lines, rect }],
            rules: Vec::new(),
        }
    }

    fn right_of(label: &str) -> Locator {
        Locator::RightOf {
            label: label.into(),
            words: None,
        }
    }

    fn invoice() -> Page {
        page(
            1,
            &[
                (
                    50.0,
                    &[("Copperleaf", 50.0), ("Pet", 116.0), ("Provisions", 140.0)],
                ),
                (
                    80.0,
                    &[
                        ("Invoice", 350.0),
                        ("#:", 392.0),
                        ("INV-002431", 410.0),
                        ("Terms:", 500.0),
                        ("Net", 540.0),
                        ("45", 560.0),
                    ],
                ),
                (
                    95.0,
                    &[
                        ("Date:", 350.0),
                        ("22", 392.0),
                        ("Nov", 406.0),
                        ("2026", 428.0),
                    ],
                ),
                (
                    120.0,
                    &[("Ship", 50.0), ("To", 76.0), ("Bill", 300.0), ("To", 326.0)],
                ),
                (
                    135.0,
                    &[
                        ("Jane", 50.0),
                        ("Doe", 80.0),
                        ("Retail", 300.0),
                        ("Co", 340.0),
                    ],
                ),
                (
                    150.0,
                    &[
                        ("1", 50.0),
                        ("Main", 60.0),
                        ("St", 90.0),
                        ("PO", 300.0),
                        ("Box", 318.0),
                    ],
                ),
                (200.0, &[("P.O.#:PM-558630", 50.0)]),
            ],
        )
    }

    #[test]
    fn right_of_a_label_up_to_the_next_column() {
        let pages = [invoice()];
        let f = locate(&pages, &right_of("Invoice #"), Pages::Any).expect("found");
        assert_eq!(f.text, "INV-002431");
        assert_eq!((f.page, f.rect.x0, f.rect.y0), (1, 410.0, 80.0));
        // The label cut into other words, with and without its colon.
        let f = locate(&pages, &right_of("invoice#"), Pages::Any).expect("found");
        assert_eq!(f.text, "INV-002431");
        assert_eq!(
            locate(&pages, &right_of("Terms"), Pages::Any).map(|f| f.text),
            Some("Net 45".into())
        );
        assert_eq!(
            locate(&pages, &right_of("Date:"), Pages::Any).map(|f| f.text),
            Some("22 Nov 2026".into())
        );
        let one = Locator::RightOf {
            label: "Date".into(),
            words: Some(1),
        };
        assert_eq!(
            locate(&pages, &one, Pages::Any).map(|f| f.text),
            Some("22".into())
        );
        assert!(locate(&pages, &right_of("Due Date"), Pages::Any).is_none());
    }

    #[test]
    fn the_label_a_value_was_found_from() {
        let pages = [invoice()];
        let l = locate_from(&pages, &right_of("Invoice #"), Pages::Any).expect("found");
        let anchor = l.anchor.expect("found from a label");
        assert_eq!(anchor.text, "Invoice #:");
        assert_eq!((anchor.rect.x0, anchor.rect.x1), (350.0, 404.0));
        let below = Locator::Below {
            label: "Bill To".into(),
            lines: 1,
        };
        let l = locate_from(&pages, &below, Pages::Any).expect("found");
        assert_eq!(
            l.anchor.map(|a| (a.rect.x0, a.rect.y0)),
            Some((300.0, 120.0))
        );
        let re = Locator::Pattern(Regex::new(r"Terms:\s*(Net \d+)").expect("regex"));
        assert_eq!(
            locate_from(&pages, &re, Pages::Any).map(|l| l.anchor),
            Some(None),
            "a pattern has no label"
        );
        assert_eq!(right_of("Invoice #").to_string(), "right of \"Invoice #\"");
    }

    #[test]
    fn a_label_glued_to_its_value() {
        let f = locate(&[invoice()], &right_of("P.O. #"), Pages::Any).expect("found");
        assert_eq!(f.text, "PM-558630");
        assert!(
            f.rect.x0 > 50.0,
            "the value's part of the word: {:?}",
            f.rect
        );
    }

    #[test]
    fn a_glued_value_whose_letters_change_length_in_lower_case() {
        // `İ` is two bytes, its lower case `i̇` three: the value's place
        // in the word is counted in letters, not in the key's bytes.
        let p = page(1, &[(80.0, &[("TotalİİÅ", 50.0), ("Total:ẞ9", 200.0)])]);
        let f = locate(std::slice::from_ref(&p), &right_of("Total"), Pages::Any).expect("found");
        assert_eq!(f.text, "İİÅ");
        let f = locate(&[p], &right_of("Total:"), Pages::Any).expect("found");
        assert_eq!(f.text, "İİÅ");
        let colon = page(1, &[(80.0, &[("Total:ẞ9", 50.0)])]);
        let f = locate(&[colon], &right_of("Total"), Pages::Any).expect("found");
        assert_eq!(f.text, "ẞ9");
    }

    #[test]
    fn below_a_label_in_its_column() {
        let pages = [invoice()];
        let ship = Locator::Below {
            label: "Ship To".into(),
            lines: 2,
        };
        assert_eq!(
            locate(&pages, &ship, Pages::Any).map(|f| f.text),
            Some("Jane Doe 1 Main St".into())
        );
        let bill = Locator::Below {
            label: "Bill To".into(),
            lines: 1,
        };
        assert_eq!(
            locate(&pages, &bill, Pages::Any).map(|f| f.text),
            Some("Retail Co".into())
        );
    }

    #[test]
    fn a_region_and_a_pattern() {
        let pages = [invoice()];
        let region = Locator::Region(Rect {
            x0: 40.0,
            y0: 45.0,
            x1: 300.0,
            y1: 65.0,
        });
        assert_eq!(
            locate(&pages, &region, Pages::Any).map(|f| f.text),
            Some("Copperleaf Pet Provisions".into())
        );
        let re = Locator::Pattern(Regex::new(r"Terms:\s*(Net \d+)").expect("regex"));
        let f = locate(&pages, &re, Pages::Any).expect("found");
        assert_eq!(f.text, "Net 45");
        assert_eq!(f.rect.x0, 540.0);
    }

    #[test]
    fn every_place_of_a_label_with_its_neighbours() {
        let p = page(
            1,
            &[
                (
                    80.0,
                    &[
                        ("Date:", 50.0),
                        ("11/15/2026", 90.0),
                        ("Due", 300.0),
                        ("Date:", 320.0),
                        ("12/15/2026", 360.0),
                    ],
                ),
                (95.0, &[("Order", 50.0), ("Date", 86.0)]),
                (110.0, &[("11/01/2026", 50.0)]),
            ],
        );
        let found = labelled(&[p], "Date");
        let seen: Vec<(Option<String>, Option<String>, bool)> = found
            .iter()
            .map(|l| {
                (
                    l.right.as_ref().map(|f| f.text.clone()),
                    l.below.as_ref().map(|f| f.text.clone()),
                    l.preceded,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Some("11/15/2026".into()), Some("Order Date".into()), false),
                (Some("12/15/2026".into()), None, true),
                (None, Some("11/01/2026".into()), true),
            ]
        );
    }

    #[test]
    fn pages_are_chosen() {
        let second = page(2, &[(700.0, &[("Total", 400.0), ("$902.50", 450.0)])]);
        let pages = [invoice(), second];
        assert_eq!(
            locate(&pages, &right_of("Total"), Pages::Last).map(|f| f.page),
            Some(2)
        );
        assert!(locate(&pages, &right_of("Total"), Pages::Number(1)).is_none());
        assert!(locate(&pages, &right_of("Total"), Pages::Number(9)).is_none());
    }
}
