//! `layout`: positioned glyphs to words, lines and blocks in reading
//! order. Every threshold is a fraction of the font size, so the result
//! does not depend on the page's scale or on the engine that drew it.
//!
//! Words follow the rules of poppler's `TextOutputDev` (so that templates
//! written against `pdftotext` see the same words): glyphs join the word
//! before them in content-stream order unless a space character comes
//! between, the gap along the baseline is over 0.1 em or under -0.2 em,
//! the glyph starts within 0.1 em of the previous glyph's start (drawn
//! over it), the baseline moves more than 0.5 pt, or the font size or the
//! text direction changes. A word drawn again over itself (fake bold, a
//! drop shadow: the same text within 0.1 em along and 0.2 em across) is
//! kept once.
//!
//! Lines: words of one direction on one baseline (within 0.3 em) whose
//! gaps are under 1.5 em, left to right. Blocks: lines that follow each
//! other within 1 em vertically, overlap horizontally and have font sizes
//! within a factor 1.5. Blocks are ordered top to bottom, then left to
//! right; text in other directions follows, by direction.

use std::collections::HashMap;

use super::content::{Glyph, PageContent};
use super::page::{Block, Line, Rect, Word};

/// A word before it is placed in a line, with what grouping needs.
#[derive(Clone, Debug)]
struct Draft {
    word: Word,
    rot: u8,
    /// Start along the reading direction.
    p0: f64,
    /// End along the reading direction.
    p1: f64,
    /// The baseline across the reading direction (growing "down").
    base: f64,
}

/// Reading-frame coordinates (along, across) of a page point for a text
/// direction.
fn frame(rot: u8, (x, y): (f64, f64)) -> (f64, f64) {
    match rot {
        0 => (x, y),
        1 => (y, -x),
        2 => (-x, -y),
        _ => (-y, x),
    }
}

/// Groups glyphs into words, in content-stream order.
fn words(content: &PageContent) -> Vec<Draft> {
    let mut out: Vec<Draft> = Vec::new();
    let mut current: Option<(Draft, &Glyph)> = None;
    for glyph in &content.glyphs {
        let text = content.text_of(glyph);
        // A space (or other white space) ends the word; a glyph the font
        // does not map still takes its place in the word, with no text.
        if glyph.space || (!text.is_empty() && text.trim().is_empty()) {
            if let Some((d, _)) = current.take() {
                out.push(d);
            }
            continue;
        }
        let (p0, base) = frame(glyph.rot, glyph.start);
        let (p1, _) = frame(glyph.rot, glyph.end);
        let fs = glyph.font_size;
        if let Some((word, last)) = &mut current {
            let (last_p0, _) = frame(last.rot, last.start);
            let wfs = word.word.font_size;
            let gap = p0 - word.p1;
            let overlap = (p0 - last_p0).abs() < 0.1 * wfs && (base - word.base).abs() < 0.2 * wfs;
            let breaks = glyph.rot != word.rot
                || overlap
                || gap < -0.2 * wfs
                || gap > 0.1 * wfs
                || (base - word.base).abs() > 0.5
                || (fs - wfs).abs() > 1e-3 * wfs.max(1.0);
            if !breaks {
                word.word.text.push_str(text);
                word.word.rect = word.word.rect.union(&glyph.rect);
                word.p1 = p1;
                *last = glyph;
                continue;
            }
        }
        if let Some((d, _)) = current.take() {
            out.push(d);
        }
        current = Some((
            Draft {
                word: Word {
                    text: text.to_string(),
                    rect: glyph.rect,
                    font_size: fs,
                    confidence: None,
                },
                rot: glyph.rot,
                p0,
                p1,
                base,
            },
            glyph,
        ));
    }
    if let Some((d, _)) = current {
        out.push(d);
    }
    out.retain(|d| !d.word.text.is_empty());
    without_duplicates(out)
}

/// Drops a word drawn again over itself (fake bold, a drop shadow): the
/// same text within 0.1 em along and 0.2 em across of a word kept before
/// it (as poppler does).
fn without_duplicates(words: Vec<Draft>) -> Vec<Draft> {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    let mut kept: Vec<Draft> = Vec::with_capacity(words.len());
    for d in words {
        let fs = d.word.font_size;
        let same = seen.get(&d.word.text).is_some_and(|list| {
            list.iter().any(|&i| {
                let k = &kept[i];
                k.rot == d.rot
                    && (k.p0 - d.p0).abs() < 0.1 * fs
                    && (k.base - d.base).abs() < 0.2 * fs
            })
        });
        if !same {
            seen.entry(d.word.text.clone())
                .or_default()
                .push(kept.len());
            kept.push(d);
        }
    }
    kept
}

struct DraftLine {
    words: Vec<Draft>,
    rect: Rect,
    font_size: f64,
}

/// Words of one direction into lines.
fn lines(mut drafts: Vec<Draft>) -> Vec<DraftLine> {
    drafts.sort_by(|a, b| a.base.total_cmp(&b.base).then(a.p0.total_cmp(&b.p0)));
    // Cluster baselines, then split each cluster at wide gaps.
    let mut rows: Vec<Vec<Draft>> = Vec::new();
    for d in drafts {
        match rows.last_mut() {
            Some(row)
                if (d.base - row[0].base).abs()
                    <= 0.3 * d.word.font_size.min(row[0].word.font_size).max(0.5) =>
            {
                row.push(d)
            }
            _ => rows.push(vec![d]),
        }
    }
    let mut out = Vec::new();
    for mut row in rows {
        row.sort_by(|a, b| a.p0.total_cmp(&b.p0));
        let mut line: Vec<Draft> = Vec::new();
        for d in row {
            if let Some(prev) = line.last() {
                let fs = prev.word.font_size.max(d.word.font_size);
                if d.p0 - prev.p1 > 1.5 * fs {
                    out.push(finish_line(std::mem::take(&mut line)));
                }
            }
            line.push(d);
        }
        if !line.is_empty() {
            out.push(finish_line(line));
        }
    }
    out
}

fn finish_line(words: Vec<Draft>) -> DraftLine {
    let rect = words
        .iter()
        .skip(1)
        .fold(words[0].word.rect, |r, w| r.union(&w.word.rect));
    let font_size = words.iter().map(|w| w.word.font_size).fold(0.0, f64::max);
    DraftLine {
        words,
        rect,
        font_size,
    }
}

/// A box in the reading frame: along from, across from, along to, across to.
type Span = (f64, f64, f64, f64);

/// Lines into blocks, in reading order.
fn blocks(lines: Vec<DraftLine>, rot: u8) -> Vec<(Block, f64, f64)> {
    // Work in the reading frame: top = smallest `across`.
    let span = |l: &DraftLine| -> Span {
        let a = frame(rot, (l.rect.x0, l.rect.y0));
        let b = frame(rot, (l.rect.x1, l.rect.y1));
        (a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1))
    };
    let mut groups: Vec<(Vec<DraftLine>, Span)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for line in lines {
        let (l0, t0, l1, t1) = span(&line);
        let fs = line.font_size.max(1.0);
        open.retain(|&i| t0 - groups[i].1.3 <= 2.0 * fs);
        let found = open.iter().copied().find(|&i| {
            let (g0, _, g1, gb) = groups[i].1;
            let last_fs = groups[i].0.last().map_or(fs, |l| l.font_size.max(1.0));
            let ratio = fs.max(last_fs) / fs.min(last_fs);
            t0 - gb <= 1.0 * fs && t0 - gb >= -0.5 * fs && l0 < g1 && l1 > g0 && ratio <= 1.5
        });
        match found {
            Some(i) => {
                let g = &mut groups[i];
                g.1 = (g.1.0.min(l0), g.1.1.min(t0), g.1.2.max(l1), g.1.3.max(t1));
                g.0.push(line);
            }
            None => {
                groups.push((vec![line], (l0, t0, l1, t1)));
                open.push(groups.len() - 1);
            }
        }
    }
    let mut out: Vec<(Block, f64, f64)> = groups
        .into_iter()
        .map(|(lines, (l0, t0, _, _))| {
            let lines: Vec<Line> = lines
                .into_iter()
                .map(|l| Line {
                    rect: l.rect,
                    words: l.words.into_iter().map(|d| d.word).collect(),
                })
                .collect();
            let rect = lines
                .iter()
                .skip(1)
                .fold(lines[0].rect, |r, l| r.union(&l.rect));
            (Block { lines, rect }, t0, l0)
        })
        .collect();
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)));
    out
}

/// The page's words, lines and blocks in reading order.
pub fn layout(content: &PageContent) -> Vec<Block> {
    let drafts = words(content);
    let mut out = Vec::new();
    for rot in 0..4u8 {
        let of_rot: Vec<Draft> = drafts.iter().filter(|d| d.rot == rot).cloned().collect();
        if of_rot.is_empty() {
            continue;
        }
        out.extend(blocks(lines(of_rot), rot).into_iter().map(|(b, _, _)| b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Glyphs of `text` at `x`, baseline `y`, `w` wide each, size 10.
    fn run(content: &mut PageContent, text: &str, x: f64, y: f64, w: f64) {
        for (i, c) in text.chars().enumerate() {
            let from = content.text.len() as u32;
            content.text.push(c);
            let x0 = x + w * i as f64;
            content.glyphs.push(Glyph {
                text: (from, content.text.len() as u32),
                start: (x0, y),
                end: (x0 + w, y),
                rect: Rect {
                    x0,
                    y0: y - 7.0,
                    x1: x0 + w,
                    y1: y + 2.0,
                },
                font_size: 10.0,
                rot: 0,
                font: 0,
                space: c == ' ',
                mapped: true,
            });
        }
    }

    fn texts(blocks: &[Block]) -> Vec<Vec<String>> {
        blocks
            .iter()
            .map(|b| {
                b.lines
                    .iter()
                    .map(|l| {
                        l.words
                            .iter()
                            .map(|w| w.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn words_break_at_spaces_and_gaps_over_a_tenth_of_an_em() {
        let mut c = PageContent::default();
        run(&mut c, "Total due", 10.0, 100.0, 5.0);
        // 0.5 pt gap (0.05 em): the same word; 2 pt gap (0.2 em): a new word.
        run(&mut c, "X", 55.5, 100.0, 5.0);
        run(&mut c, "Y", 62.5, 100.0, 5.0);
        let w = words(&c);
        let t: Vec<&str> = w.iter().map(|d| d.word.text.as_str()).collect();
        assert_eq!(t, vec!["Total", "dueX", "Y"]);
        assert_eq!(
            w[0].word.rect,
            Rect {
                x0: 10.0,
                y0: 93.0,
                x1: 35.0,
                y1: 102.0
            }
        );
    }

    #[test]
    fn text_drawn_twice_over_itself_is_one_word() {
        let mut c = PageContent::default();
        run(&mut c, "Total", 10.0, 100.0, 5.0);
        run(&mut c, "Total", 10.4, 100.3, 5.0);
        run(&mut c, "Total", 60.0, 100.0, 5.0);
        let w = words(&c);
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].word.rect.x0, 60.0);
    }

    #[test]
    fn columns_become_blocks_in_reading_order() {
        let mut c = PageContent::default();
        // Drawn right column first, then the left one, lines out of order.
        run(&mut c, "Qty 2", 300.0, 100.0, 5.0);
        run(&mut c, "Qty 3", 300.0, 112.0, 5.0);
        run(&mut c, "Ship to", 50.0, 112.0, 5.0);
        run(&mut c, "Bill to", 50.0, 100.0, 5.0);
        run(&mut c, "Footer", 50.0, 300.0, 5.0);
        let blocks = layout(&c);
        assert_eq!(
            texts(&blocks),
            vec![
                vec!["Bill to".to_string(), "Ship to".to_string()],
                vec!["Qty 2".to_string(), "Qty 3".to_string()],
                vec!["Footer".to_string()],
            ]
        );
    }
}
