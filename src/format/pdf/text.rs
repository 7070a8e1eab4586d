//! `text`: a document's words as plain text (blocks in reading order)
//! or laid out in fixed-width columns (as `pdftotext -layout` does), one
//! form feed after each page.

use super::page::{Page, Word};

/// The rightmost column a word may start at.
const MAX_COLUMN: f64 = 1000.0;

/// Plain text: each block's lines, a blank line between blocks.
pub fn plain(pages: &[Page]) -> String {
    let mut out = String::new();
    for page in pages {
        for (i, block) in page.blocks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            for line in &block.lines {
                let words: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
                out.push_str(&words.join(" "));
                out.push('\n');
            }
        }
        out.push('\u{c}');
    }
    out
}

/// Laid-out text: the page's words in rows by baseline and in columns by
/// their left edge, at the page's average character width.
pub fn laid_out(pages: &[Page]) -> String {
    let mut out = String::new();
    for page in pages {
        layout_page(page, &mut out);
        out.push('\u{c}');
    }
    out
}

fn layout_page(page: &Page, out: &mut String) {
    let mut words: Vec<&Word> = page.words().collect();
    if words.is_empty() {
        return;
    }
    // The character pitch: the mean width of a character on the page.
    let (width, chars) = words.iter().fold((0.0, 0usize), |(w, n), word| {
        (w + word.rect.width(), n + word.text.chars().count())
    });
    let pitch = if chars > 0 && width > 0.0 {
        (width / chars as f64).max(1.0)
    } else {
        5.0
    };
    // The leftmost word starts the lines (as pdftotext -layout does).
    let left = words
        .iter()
        .map(|w| w.rect.x0)
        .fold(f64::INFINITY, f64::min);
    // Rows: words whose vertical centers lie within half a line.
    words.sort_by(|a, b| {
        let (ca, cb) = (a.rect.y1, b.rect.y1);
        ca.total_cmp(&cb).then(a.rect.x0.total_cmp(&b.rect.x0))
    });
    let mut rows: Vec<Vec<&Word>> = Vec::new();
    for w in words {
        match rows.last_mut() {
            Some(row)
                if (w.rect.y1 - row[0].rect.y1).abs()
                    <= 0.4 * row[0].font_size.max(w.font_size) =>
            {
                row.push(w)
            }
            _ => rows.push(vec![w]),
        }
    }
    let line_height = {
        let mut gaps: Vec<f64> = rows
            .windows(2)
            .map(|r| r[1][0].rect.y1 - r[0][0].rect.y1)
            .filter(|g| *g > 0.0)
            .collect();
        gaps.sort_by(f64::total_cmp);
        gaps.get(gaps.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or(12.0)
    };
    let mut previous_bottom: Option<f64> = None;
    for mut row in rows {
        row.sort_by(|a, b| a.rect.x0.total_cmp(&b.rect.x0));
        if let Some(prev) = previous_bottom {
            let gap = row[0].rect.y1 - prev;
            let blanks = ((gap / line_height).round() as i64 - 1).clamp(0, 2);
            for _ in 0..blanks {
                out.push('\n');
            }
        }
        previous_bottom = Some(row[0].rect.y1);
        let mut line = String::new();
        let mut column = 0usize;
        for w in row {
            // Far off the page (a broken matrix) is at most a line's width away.
            let want = ((w.rect.x0 - left) / pitch).round().clamp(0.0, MAX_COLUMN) as usize;
            let want = if column == 0 && line.is_empty() {
                want
            } else {
                want.max(column + 1)
            };
            while column < want {
                line.push(' ');
                column += 1;
            }
            line.push_str(&w.text);
            column += w.text.chars().count();
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pdf::page::{Block, Line, Rect, TextSource};

    fn word(text: &str, x0: f64, y1: f64) -> Word {
        let x1 = x0 + 6.0 * text.chars().count() as f64;
        Word {
            text: text.to_string(),
            rect: Rect {
                x0,
                y0: y1 - 10.0,
                x1,
                y1,
            },
            font_size: 10.0,
            confidence: None,
        }
    }

    fn page(words: Vec<Word>) -> Page {
        let lines = words
            .into_iter()
            .map(|w| Line {
                rect: w.rect,
                words: vec![w],
            })
            .collect::<Vec<_>>();
        Page {
            number: 1,
            width: 612.0,
            height: 792.0,
            source: TextSource::TextLayer,
            blocks: vec![Block {
                rect: lines[0].rect,
                lines,
            }],
            rules: Vec::new(),
        }
    }

    #[test]
    fn layout_keeps_columns_aligned() {
        let p = page(vec![
            word("SKU", 60.0, 100.0),
            word("Qty", 300.0, 100.0),
            word("A-1", 60.0, 112.0),
            word("12", 300.0, 112.0),
            word("Total", 60.0, 148.0),
        ]);
        let text = laid_out(&[p]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].find("Qty"), lines[1].find("12"));
        assert!(lines[0].starts_with("SKU "));
        assert_eq!(lines[2], "");
        assert_eq!(lines[lines.len() - 2].trim(), "Total");
        assert!(lines.len() <= 6, "at most two blank lines: {lines:?}");
        assert!(text.ends_with("Total\n\u{c}"));
    }

    #[test]
    fn plain_text_joins_words_and_blocks() {
        let p = page(vec![word("Invoice", 60.0, 100.0), word("42", 60.0, 112.0)]);
        assert_eq!(plain(&[p]), "Invoice\n42\n\u{c}");
    }
}
