//! `table`: an invoice's line table, found by its header row. The header's
//! labels give the columns: each column runs from halfway after the label
//! before it to halfway before the label after it, so that numbers set
//! right-aligned under their label, and text set left-aligned, fall in
//! their column. Rows run from the line under the header to the end
//! anchor (or the page's end); a line with nothing in the key column
//! continues the row above it (a description that wraps). On a later page
//! the table goes on under its header again, until the end anchor is
//! found.

use regex::Regex;

use super::locate::{Found, label_at, line_text, lines_of};
use super::page::{Line, Page, Rect, Word};

/// How a template describes its line table.
#[derive(Clone, Debug)]
pub struct TableSpec {
    /// The header's labels, left to right.
    pub header: Vec<String>,
    /// The column each label heads: its name in the tree (`sku`, `qty`).
    pub columns: Vec<String>,
    /// The anchors after the last row (`Subtotal`): the first found ends
    /// the table.
    pub end: Vec<String>,
    /// The column a row starts with (the others may wrap): an index into
    /// `columns`.
    pub key: usize,
    /// Columns a row must have to be a row (a page footer in the key
    /// column has no quantity): indexes into `columns`.
    pub required: Vec<usize>,
    /// Lines that are not rows (`Page \d+ of \d+`, `continued`).
    pub skip: Vec<Regex>,
    /// Columns of numbers set right-aligned (quantities, prices,
    /// amounts): indexes into `columns`. A number may reach left of its
    /// label, so such a column after a column of text starts two font
    /// sizes before its label rather than halfway.
    pub numeric: Vec<usize>,
}

/// A gap below the last row, in line heights, past which the table has
/// ended on its page (what follows is a footer).
const ROW_GAP_LINES: f64 = 2.5;

/// A row of the table: a cell per column.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The cells, in the order of [`TableSpec::columns`].
    pub cells: Vec<Option<Found>>,
}

/// The table's header row on one page.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The page, from 1.
    pub page: u32,
    /// The header line's box.
    pub rect: Rect,
    /// The boundaries between its columns, left to right: column `i` runs
    /// from `bounds[i - 1]` (the page's left edge for the first) to
    /// `bounds[i]` (the right edge for the last).
    pub bounds: Vec<f64>,
    /// The bottom of the last line read as part of the table on the page.
    pub bottom: f64,
}

/// The table on an invoice's pages: its header on each page it is on,
/// its rows, and the end anchor's line where it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The headers, a page each.
    pub headers: Vec<Header>,
    /// The rows that have every required column.
    pub rows: Vec<Row>,
    /// The line with the end anchor, when found.
    pub end: Option<Found>,
}

/// The rows of the table on `pages` (an invoice's pages, in order).
pub fn rows(pages: &[Page], spec: &TableSpec) -> Vec<Row> {
    table(pages, spec).rows
}

/// The table on `pages` (an invoice's pages, in order): its rows and
/// where it was found.
pub fn table(pages: &[Page], spec: &TableSpec) -> Table {
    let mut rows: Vec<Row> = Vec::new();
    let mut headers = Vec::new();
    for page in pages {
        let lines = lines_of(page);
        let Some((at, bounds)) = lines
            .iter()
            .enumerate()
            .find_map(|(k, line)| header(line, spec).map(|b| (k, b)))
        else {
            continue;
        };
        // A line at the top of a later page with nothing in the key
        // column goes on with the last row of the page before.
        let mut last_y = lines[at].rect.y1;
        let mut end = None;
        let edges = right_edges(&lines[at + 1..], &bounds);
        for line in &lines[at + 1..] {
            let height = line.rect.height().max(1.0);
            if line.rect.y0 - last_y > ROW_GAP_LINES * height {
                break;
            }
            if spec.end.iter().any(|end| label_at(line, end, 0).is_some()) {
                end = Some(Found {
                    text: line_text(line),
                    page: page.number,
                    rect: line.rect,
                });
                break;
            }
            let text = line_text(line);
            if spec.skip.iter().any(|re| re.is_match(&text)) {
                continue;
            }
            last_y = line.rect.y1;
            let cells = cells(page.number, line, &bounds, &edges);
            let starts = cells.get(spec.key).is_some_and(Option::is_some);
            match (starts, rows.last_mut()) {
                (true, _) => rows.push(Row { cells }),
                (false, Some(last)) => continue_row(last, cells),
                (false, None) => {}
            }
        }
        headers.push(Header {
            page: page.number,
            rect: lines[at].rect,
            bounds,
            bottom: last_y,
        });
        // A page's subtotal (`Page Subtotal`, `Zwischensumme`) ends the
        // table on its page only when the header comes again on a later
        // page.
        let again = pages
            .iter()
            .filter(|p| p.number > page.number)
            .any(|p| lines_of(p).iter().any(|l| header(l, spec).is_some()));
        if end.is_some() && !again {
            return Table {
                headers,
                rows: finished(rows, spec),
                end,
            };
        }
    }
    Table {
        headers,
        rows: finished(rows, spec),
        end: None,
    }
}

/// The rows that have every required column.
fn finished(rows: Vec<Row>, spec: &TableSpec) -> Vec<Row> {
    rows.into_iter()
        .filter(|r| {
            spec.required
                .iter()
                .all(|&c| r.cells.get(c).is_some_and(Option::is_some))
        })
        .collect()
}

/// The column boundaries a header line gives, when `line` is the header:
/// every label found, in order.
fn header(line: &Line, spec: &TableSpec) -> Option<Vec<f64>> {
    let mut from = 0;
    let mut spans = Vec::with_capacity(spec.header.len());
    for label in &spec.header {
        let (x0, x1, after) = label_at(line, label, from)?;
        spans.push((x0, x1));
        from = after;
    }
    let em = line
        .words
        .iter()
        .map(|w| w.font_size)
        .fold(0.0, f64::max)
        .max(1.0);
    Some(
        spans
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let middle = (w[0].1 + w[1].0) / 2.0;
                // Text, then right-aligned numbers: the numbers' column
                // starts just before its label.
                let (numbers, next_numbers) =
                    (spec.numeric.contains(&i), spec.numeric.contains(&(i + 1)));
                if next_numbers && !numbers {
                    middle.max(w[1].0 - 2.0 * em)
                } else if numbers && !next_numbers {
                    // Numbers, then text set left-aligned under its label:
                    // the numbers may reach right of their label up to
                    // about where that text starts (`12` under `Qty`, `EA`
                    // under `Unit`).
                    middle.max(w[1].0 - 0.5 * em)
                } else {
                    middle
                }
            })
            .collect(),
    )
}

/// Points within which numbers set right-aligned end at the same place.
const ALIGNED: f64 = 1.5;

/// The column a word's middle falls in.
fn column_of(w: &Word, bounds: &[f64]) -> usize {
    let middle = (w.rect.x0 + w.rect.x1) / 2.0;
    bounds
        .iter()
        .position(|&b| middle < b)
        .unwrap_or(bounds.len())
}

/// For each column, the right edge that most of its numbers end at (to
/// within [`ALIGNED`]), when at least two do: the edge of numbers set
/// right-aligned.
fn right_edges(lines: &[Line], bounds: &[f64]) -> Vec<Option<f64>> {
    let mut ends: Vec<Vec<f64>> = vec![Vec::new(); bounds.len() + 1];
    for w in lines.iter().flat_map(|l| &l.words) {
        if w.text.chars().any(|c| c.is_ascii_digit()) {
            ends[column_of(w, bounds)].push(w.rect.x1);
        }
    }
    ends.iter()
        .map(|xs| {
            xs.iter()
                .map(|&x| (x, xs.iter().filter(|&&y| (x - y).abs() < ALIGNED).count()))
                .filter(|&(_, n)| n >= 2)
                .max_by_key(|&(_, n)| n)
                .map(|(x, _)| x)
        })
        .collect()
}

/// A line's words, put in the columns `bounds` divide. A number that
/// ends where the numbers of the column beside its own end, and not
/// where its own column's do, is of that column (`6` set right-aligned
/// under a `Qty` heading set left reaches past the boundary).
fn cells(page: u32, line: &Line, bounds: &[f64], edges: &[Option<f64>]) -> Vec<Option<Found>> {
    let mut cells: Vec<Option<Found>> = vec![None; bounds.len() + 1];
    let aligned = |w: &Word, c: usize| {
        edges
            .get(c)
            .copied()
            .flatten()
            .is_some_and(|e| (w.rect.x1 - e).abs() < ALIGNED)
    };
    for w in &line.words {
        let mut column = column_of(w, bounds);
        if w.text.chars().any(|c| c.is_ascii_digit()) && !aligned(w, column) {
            if column > 0 && aligned(w, column - 1) {
                column -= 1;
            } else if column < bounds.len() && aligned(w, column + 1) {
                column += 1;
            }
        }
        let cell = &mut cells[column];
        match cell {
            Some(f) => {
                f.text.push(' ');
                f.text.push_str(&w.text);
                f.rect = f.rect.union(&w.rect);
            }
            None => {
                *cell = Some(Found {
                    text: w.text.clone(),
                    page,
                    rect: w.rect,
                })
            }
        }
    }
    cells
}

/// A line that continues `row`: its words go on the end of each cell.
fn continue_row(row: &mut Row, cells: Vec<Option<Found>>) {
    for (cell, more) in row.cells.iter_mut().zip(cells) {
        let Some(more) = more else { continue };
        match cell {
            Some(f) if f.page == more.page => {
                f.text.push(' ');
                f.text.push_str(&more.text);
                f.rect = f.rect.union(&more.rect);
            }
            Some(f) => {
                f.text.push(' ');
                f.text.push_str(&more.text);
            }
            None => *cell = Some(more),
        }
    }
}

/// The box of a row's cells.
pub fn row_rect(row: &Row) -> Option<Rect> {
    row.cells
        .iter()
        .flatten()
        .map(|f| f.rect)
        .reduce(|a, b| a.union(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pdf::locate::tests::page;

    fn spec() -> TableSpec {
        TableSpec {
            header: ["SKU", "Description", "Qty", "Unit Price", "Amount"]
                .map(String::from)
                .to_vec(),
            columns: ["sku", "description", "qty", "price", "amount"]
                .map(String::from)
                .to_vec(),
            end: vec!["Subtotal".into()],
            key: 0,
            required: vec![2],
            skip: vec![Regex::new(r"^Page \d+ of \d+").expect("regex")],
            numeric: vec![2, 3, 4],
        }
    }

    fn texts(rows: &[Row]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|c| c.as_ref().map_or(String::new(), |f| f.text.clone()))
                    .collect()
            })
            .collect()
    }

    /// The header of the table at `y`.
    const HEADER: &[(&str, f64)] = &[
        ("SKU", 50.0),
        ("Description", 120.0),
        ("Qty", 330.0),
        ("Unit", 390.0),
        ("Price", 420.0),
        ("Amount", 500.0),
    ];

    #[test]
    fn rows_under_the_header_wrapped_descriptions_and_the_end() {
        let p = page(
            1,
            &[
                (100.0, HEADER),
                (
                    115.0,
                    &[
                        ("CPP-TRT-250", 50.0),
                        ("Salmon", 120.0),
                        ("Bites", 160.0),
                        ("36", 336.0),
                        ("6.25", 426.0),
                        ("225.00", 506.0),
                    ],
                ),
                (
                    127.0,
                    &[
                        ("Dog", 120.0),
                        ("Treats", 144.0),
                        ("8", 186.0),
                        ("oz", 198.0),
                    ],
                ),
                (
                    142.0,
                    &[
                        ("CPP-TOY-CM3", 50.0),
                        ("Catnip", 120.0),
                        ("Mice", 162.0),
                        ("20", 336.0),
                        ("4.80", 426.0),
                        ("96.00", 512.0),
                    ],
                ),
                (170.0, &[("Subtotal", 420.0), ("321.00", 506.0)]),
                (185.0, &[("Freight", 50.0), ("3", 336.0)]),
            ],
        );
        let rows = rows(&[p], &spec());
        assert_eq!(
            texts(&rows),
            [
                [
                    "CPP-TRT-250",
                    "Salmon Bites Dog Treats 8 oz",
                    "36",
                    "6.25",
                    "225.00"
                ],
                ["CPP-TOY-CM3", "Catnip Mice", "20", "4.80", "96.00"],
            ]
        );
        let first = &rows[0].cells[1].as_ref().expect("description");
        assert_eq!((first.rect.y0, first.rect.y1), (115.0, 137.0), "both lines");
    }

    #[test]
    fn a_table_goes_on_under_its_header_on_the_next_page() {
        let one = page(
            1,
            &[
                (100.0, HEADER),
                (
                    115.0,
                    &[
                        ("A-1", 50.0),
                        ("Widget", 120.0),
                        ("1", 336.0),
                        ("2.00", 426.0),
                        ("2.00", 506.0),
                    ],
                ),
                (
                    760.0,
                    &[("Page", 50.0), ("1", 80.0), ("of", 90.0), ("2", 105.0)],
                ),
            ],
        );
        let two = page(
            2,
            &[
                (
                    40.0,
                    &[("Invoice", 50.0), ("INV-1", 100.0), ("(continued)", 150.0)],
                ),
                (60.0, HEADER),
                (
                    75.0,
                    &[
                        ("A-2", 50.0),
                        ("Gadget", 120.0),
                        ("3", 336.0),
                        ("1.50", 426.0),
                        ("4.50", 506.0),
                    ],
                ),
                (100.0, &[("Subtotal", 420.0), ("6.50", 506.0)]),
            ],
        );
        let table = table(&[one, two], &spec());
        let headers: Vec<(u32, f64, f64)> = table
            .headers
            .iter()
            .map(|h| (h.page, h.rect.y0, h.bottom))
            .collect();
        assert_eq!(headers, [(1, 100.0, 125.0), (2, 60.0, 85.0)]);
        // Each boundary halfway between labels, or two font sizes before a
        // number's label after text.
        assert_eq!(table.headers[0].bounds, [94.0, 310.0, 369.0, 475.0]);
        assert_eq!(
            table.end.as_ref().map(|e| (e.page, e.rect.y0)),
            Some((2, 100.0))
        );
        let rows = table.rows;
        assert_eq!(
            texts(&rows),
            [
                ["A-1", "Widget", "1", "2.00", "2.00"],
                ["A-2", "Gadget", "3", "1.50", "4.50"],
            ]
        );
        assert_eq!(rows[1].cells[0].as_ref().map(|f| f.page), Some(2));
    }

    #[test]
    fn no_header_no_rows() {
        let p = page(1, &[(100.0, &[("Thank", 50.0), ("you", 90.0)])]);
        assert!(rows(&[p], &spec()).is_empty());
    }
}
