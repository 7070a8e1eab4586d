//! `ocr`: tesseract's word boxes (its TSV) as a PDF [`Page`], for a page
//! that has no text layer (a scan, a fax).
//!
//! [`parse_tsv`] turns the TSV of one page image into the same [`Page`]
//! the text layer gives: pixel boxes become points (`px * 72 / dpi`), a
//! word's font size is the height of its box, its confidence is kept, and
//! tesseract's own paragraphs and lines become the page's blocks and
//! lines, in tesseract's reading order. Running the programs (render the
//! page, run tesseract) is I/O and lives outside the formats, in
//! `crate::ocr`.

use super::page::{Block, Line, Page, Rect, TextSource, Word};

/// A line of tesseract's TSV that does not read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}: {text:?}")]
pub struct TsvError {
    /// The line number, from 1 (the header is line 1).
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
    /// The line (its first 200 characters).
    pub text: String,
}

impl TsvError {
    fn new(line: usize, reason: &'static str, text: &str) -> TsvError {
        TsvError {
            line,
            reason,
            text: text.chars().take(200).collect(),
        }
    }
}

/// The header tesseract writes as the TSV's first line.
const TSV_HEADER: &str =
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext";

/// One row of the TSV, as numbers.
struct Row<'a> {
    level: u32,
    block: u32,
    par: u32,
    line: u32,
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    conf: f32,
    text: &'a str,
}

/// Splits one TSV line into a [`Row`].
fn row(n: usize, text: &str) -> Result<Row<'_>, TsvError> {
    let cols: Vec<&str> = text.splitn(12, '\t').collect();
    if cols.len() != 12 {
        return Err(TsvError::new(n, "not 12 columns", text));
    }
    let int = |i: usize| -> Result<u32, TsvError> {
        cols[i]
            .parse()
            .map_err(|_| TsvError::new(n, "a column that should be a whole number is not", text))
    };
    let px = |i: usize| -> Result<f64, TsvError> {
        cols[i]
            .parse::<i64>()
            .map(|v| v as f64)
            .map_err(|_| TsvError::new(n, "a box column is not a whole number", text))
    };
    let conf: f32 = cols[10]
        .parse()
        .map_err(|_| TsvError::new(n, "the confidence is not a number", text))?;
    if !conf.is_finite() {
        return Err(TsvError::new(n, "the confidence is not a number", text));
    }
    Ok(Row {
        level: int(0)?,
        block: int(2)?,
        par: int(3)?,
        line: int(4)?,
        left: px(6)?,
        top: px(7)?,
        width: px(8)?,
        height: px(9)?,
        conf,
        text: cols[11],
    })
}

/// Reads tesseract's TSV of one page (`tesseract IMAGE OUT tsv`) rendered
/// at `dpi` into page `number`: words (level 5) with text and a confidence
/// of 0 or more, their boxes in points, grouped into lines by tesseract's
/// line numbers and into blocks by its paragraphs (`block_num`,
/// `par_num`), in the order tesseract gives them. The page's size comes
/// from its level-1 row; a page with no words has no blocks.
pub fn parse_tsv(tsv: &str, number: u32, dpi: u32) -> Result<Page, TsvError> {
    let scale = 72.0 / f64::from(dpi.max(1));
    let mut lines = tsv.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, header)) if header.trim_end() == TSV_HEADER => {}
        Some((n, other)) => return Err(TsvError::new(n, "not tesseract's TSV header", other)),
        None => return Err(TsvError::new(1, "empty: no header", "")),
    }
    let mut size: Option<(f64, f64)> = None;
    let mut blocks: Vec<Block> = Vec::new();
    // The (block, par) and (block, par, line) the last word belonged to.
    let mut at_par: Option<(u32, u32)> = None;
    let mut at_line: Option<(u32, u32, u32)> = None;
    for (n, text) in lines {
        if text.is_empty() {
            continue;
        }
        let r = row(n, text)?;
        match r.level {
            1 => {
                if size.is_some() {
                    return Err(TsvError::new(n, "a second page in one page's TSV", text));
                }
                size = Some((r.width * scale, r.height * scale));
            }
            2..=4 => {}
            5 => {
                let word = r.text.trim();
                if word.is_empty() || r.conf < 0.0 {
                    continue;
                }
                let rect = Rect {
                    x0: r.left * scale,
                    y0: r.top * scale,
                    x1: (r.left + r.width) * scale,
                    y1: (r.top + r.height) * scale,
                };
                let word = Word {
                    text: word.to_string(),
                    rect,
                    font_size: rect.height(),
                    confidence: Some(r.conf),
                };
                if at_par != Some((r.block, r.par)) {
                    blocks.push(Block {
                        lines: Vec::new(),
                        rect,
                    });
                    at_par = Some((r.block, r.par));
                    at_line = None;
                }
                let Some(block) = blocks.last_mut() else {
                    continue;
                };
                if at_line != Some((r.block, r.par, r.line)) {
                    block.lines.push(Line {
                        words: Vec::new(),
                        rect,
                    });
                    at_line = Some((r.block, r.par, r.line));
                }
                block.rect = block.rect.union(&rect);
                if let Some(line) = block.lines.last_mut() {
                    line.rect = line.rect.union(&rect);
                    line.words.push(word);
                }
            }
            _ => return Err(TsvError::new(n, "a level other than 1 to 5", text)),
        }
    }
    let Some((width, height)) = size else {
        return Err(TsvError::new(1, "no page row (level 1)", ""));
    };
    Ok(Page {
        number,
        width,
        height,
        source: TextSource::Ocr,
        blocks,
        rules: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `tesseract page.pgm out --dpi 300 -l eng tsv` on
    /// samples/pdf/copper-creek-pet/CCP-004417-scanned.pdf rendered by
    /// `pdftoppm -r 300 -gray` (tesseract 5.3.0); rows cut out between.
    const CAPTURED: &str = "\
level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t2550\t3300\t-1\t
2\t1\t1\t0\t0\t0\t153\t154\t706\t181\t-1\t
3\t1\t1\t1\t0\t0\t153\t154\t706\t181\t-1\t
4\t1\t1\t1\t1\t0\t153\t154\t706\t155\t-1\t
5\t1\t1\t1\t1\t1\t153\t154\t205\t125\t96.436584\tCopper
5\t1\t1\t1\t1\t2\t374\t186\t160\t90\t94.945763\tCreek
5\t1\t1\t1\t1\t3\t554\t214\t91\t44\t96.992775\tPet
5\t1\t1\t1\t1\t4\t660\t193\t199\t116\t96.861115\tSupply
4\t1\t1\t1\t2\t0\t155\t290\t331\t45\t-1\t
5\t1\t1\t1\t2\t1\t155\t293\t45\t35\t95.928909\t51
5\t1\t1\t1\t2\t2\t215\t292\t168\t43\t95.055946\tTannery
5\t1\t1\t1\t2\t3\t399\t290\t87\t36\t96.242355\tRow
2\t1\t3\t0\t0\t0\t143\t1009\t2251\t28\t-1\t
3\t1\t3\t1\t0\t0\t143\t1009\t2251\t28\t-1\t
4\t1\t3\t1\t1\t0\t143\t1009\t2251\t28\t-1\t
5\t1\t3\t1\t1\t1\t143\t1009\t2251\t28\t95.000000\t 
2\t1\t8\t0\t0\t0\t155\t304\t2245\t1208\t-1\t
3\t1\t8\t1\t0\t0\t155\t304\t2245\t1208\t-1\t
4\t1\t8\t1\t1\t0\t155\t304\t2211\t73\t-1\t
5\t1\t8\t1\t1\t4\t610\t365\t5\t3\t90.006676\t.
5\t1\t8\t1\t1\t5\t1664\t309\t155\t37\t93.066635\tInvoice
5\t1\t8\t1\t1\t6\t1834\t310\t39\t47\t92.477005\t#
5\t1\t8\t1\t1\t7\t2106\t304\t260\t38\t91.350876\tCCP-004417
4\t1\t8\t1\t2\t0\t1664\t353\t704\t58\t-1\t
5\t1\t8\t1\t2\t1\t1664\t355\t97\t56\t96.616722\tDate
5\t1\t8\t1\t2\t2\t1970\t355\t210\t38\t96.143204\tNovember
";

    fn texts(page: &Page) -> Vec<Vec<Vec<&str>>> {
        page.blocks
            .iter()
            .map(|b| {
                b.lines
                    .iter()
                    .map(|l| l.words.iter().map(|w| w.text.as_str()).collect())
                    .collect()
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn captured_tsv_becomes_blocks_lines_and_words_in_points() {
        let page = parse_tsv(CAPTURED, 1, 300).expect("parses");
        assert_eq!(page.number, 1);
        assert_eq!(page.source, TextSource::Ocr);
        assert!(page.rules.is_empty());
        // 2550 x 3300 px at 300 dpi: US letter.
        assert!(close(page.width, 612.0) && close(page.height, 792.0));
        // The blank word of block 3 (a shaded band) is left out, and
        // with it the block; the lone "." stays.
        assert_eq!(
            texts(&page),
            vec![
                vec![
                    vec!["Copper", "Creek", "Pet", "Supply"],
                    vec!["51", "Tannery", "Row"]
                ],
                vec![
                    vec![".", "Invoice", "#", "CCP-004417"],
                    vec!["Date", "November"]
                ],
            ]
        );
        let number = page
            .words()
            .find(|w| w.text == "CCP-004417")
            .expect("the invoice number");
        // 2106,304 260x38 px -> points.
        let r = number.rect;
        assert!(close(r.x0, 2106.0 * 0.24) && close(r.y0, 304.0 * 0.24));
        assert!(close(r.x1, 2366.0 * 0.24) && close(r.y1, 342.0 * 0.24));
        assert!(close(number.font_size, 38.0 * 0.24));
        assert_eq!(number.confidence, Some(91.350876));
        // A line's box holds its words; a block's its lines.
        let first = &page.blocks[0];
        assert!(close(first.lines[0].rect.x0, 153.0 * 0.24));
        assert!(close(first.lines[0].rect.x1, 859.0 * 0.24));
        assert!(close(first.rect.y1, 335.0 * 0.24));
    }

    #[test]
    fn the_resolution_scales_the_boxes() {
        let page = parse_tsv(CAPTURED, 4, 150).expect("parses");
        assert_eq!(page.number, 4);
        assert!(close(page.width, 2550.0 * 72.0 / 150.0));
        let copper = page.words().next().expect("a word");
        assert!(close(copper.rect.x0, 153.0 * 72.0 / 150.0));
    }

    #[test]
    fn negative_confidence_words_are_left_out() {
        let tsv = format!(
            "{TSV_HEADER}\n1\t1\t0\t0\t0\t0\t0\t0\t300\t300\t-1\t\n\
             5\t1\t1\t1\t1\t1\t10\t10\t20\t10\t-1\tghost\n\
             5\t1\t1\t1\t1\t2\t40\t10\t20\t10\t0\tkept\n"
        );
        let page = parse_tsv(&tsv, 1, 300).expect("parses");
        assert_eq!(texts(&page), vec![vec![vec!["kept"]]]);
    }

    #[test]
    fn a_page_without_words_has_no_blocks() {
        let tsv = format!("{TSV_HEADER}\n1\t1\t0\t0\t0\t0\t0\t0\t2550\t3300\t-1\t\n");
        let page = parse_tsv(&tsv, 2, 300).expect("parses");
        assert!(page.blocks.is_empty());
        assert!(close(page.height, 792.0));
    }

    #[test]
    fn unreadable_tsv_names_the_line_and_why() {
        let cases = [
            ("", 1, "empty: no header"),
            ("words\n", 1, "not tesseract's TSV header"),
            (
                &format!("{TSV_HEADER}\n1\t1\t0\t0\t0\t0\t0\t0\t2550\n"),
                2,
                "not 12 columns",
            ),
            (
                &format!("{TSV_HEADER}\n1\t1\t0\t0\t0\t0\t0\t0\twide\t3300\t-1\t\n"),
                2,
                "a box column is not a whole number",
            ),
            (
                &format!(
                    "{TSV_HEADER}\n1\t1\t0\t0\t0\t0\t0\t0\t9\t9\t-1\t\n\
                     5\t1\t1\t1\t1\t1\t1\t1\t1\t1\tsure\tword\n"
                ),
                3,
                "the confidence is not a number",
            ),
            (
                &format!("{TSV_HEADER}\n7\t1\t0\t0\t0\t0\t0\t0\t9\t9\t-1\t\n"),
                2,
                "a level other than 1 to 5",
            ),
            (
                &format!("{TSV_HEADER}\n5\t1\t1\t1\t1\t1\t1\t1\t1\t1\t90\tword\n"),
                1,
                "no page row (level 1)",
            ),
        ];
        for (tsv, line, reason) in cases {
            let err = parse_tsv(tsv, 1, 300).expect_err(reason);
            assert_eq!((err.line, err.reason), (line, reason), "{tsv:?}");
        }
        let err = parse_tsv("words\n", 1, 300).expect_err("bad header");
        assert_eq!(
            err.to_string(),
            "line 1: not tesseract's TSV header: \"words\""
        );
    }
}
