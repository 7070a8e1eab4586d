//! `template`: how a vendor's invoice is read from positioned text, as
//! the `[mapping.pdf]` table of a PDF mapping gives it: whether a PDF is
//! this vendor's (keywords that must and must not appear), where each
//! invoice of the file starts (a page-start pattern), the named values
//! (each found by a [`Locator`]) and the line table. What it finds becomes
//! a [`Tree`] like a CSV record's: a field per value at the root, and a
//! `line` group per row of the table with a field per column; the
//! mapping's rules then turn it into the canonical invoice, with the same
//! options as for CSV and XML (dates, decimal marks, codes).
//!
//! A node's place is on the page: [`Place::line`] is the page, and
//! [`Place::column`] and [`Place::offset`] the left and top of the value's
//! box, in whole points ([`Place::ordinal`]: the row, for a table's
//! cells).

use regex::Regex;

use super::locate::{Found, Locator, Pages, line_text, lines_of, locate};
use super::page::{Line, Page};
use super::table::{self, Row, TableSpec};
use crate::format::tree::{Kind, NodeId, Place, Tree};

/// The name of a table row's group in the tree.
pub const LINE: &str = "line";

/// A named value of a template.
#[derive(Clone, Debug)]
pub struct Value {
    /// Its name in the tree.
    pub name: String,
    /// How it is found.
    pub locator: Locator,
    /// On which pages.
    pub pages: Pages,
}

/// A vendor's invoice template.
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// Its name (the mapping's), said in what it reads.
    pub name: String,
    /// Words that every invoice of the vendor has (its name, "INVOICE"),
    /// all of which must appear.
    pub keywords: Vec<String>,
    /// Words none of which may appear ("CREDIT MEMO").
    pub exclude: Vec<String>,
    /// A line that starts a new invoice on its page (several invoices in
    /// one file); none: the file is one invoice.
    pub starts: Option<Regex>,
    /// The values, in the order they are written to the tree.
    pub values: Vec<Value>,
    /// The line table.
    pub table: Option<TableSpec>,
}

/// Text compared for keywords: lower case, runs of white space as one
/// space.
fn folded(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of `pages`, folded, a line at a time.
pub fn folded_text(pages: &[Page]) -> String {
    let mut text = String::new();
    for page in pages {
        for line in lines_of(page) {
            text.push_str(&folded(&line_text(&line)));
            text.push('\n');
        }
    }
    text
}

impl Template {
    /// Whether `text` (from [`folded_text`]) is this template's: every
    /// keyword and no excluded word in it.
    pub fn matches(&self, text: &str) -> bool {
        self.why_not(text).is_empty()
    }

    /// Why `text` (from [`folded_text`]) is not this template's: each
    /// keyword missing and each excluded word present.
    pub fn why_not(&self, text: &str) -> Vec<String> {
        let missing = self
            .keywords
            .iter()
            .filter(|k| !text.contains(&folded(k)))
            .map(|k| format!("the keyword {k:?} is not in the text"));
        let excluded = self
            .exclude
            .iter()
            .filter(|k| text.contains(&folded(k)))
            .map(|k| format!("the excluded {k:?} is in the text"));
        missing.chain(excluded).collect()
    }

    /// The line of `page` that starts an invoice, by the page-start
    /// pattern.
    pub fn start_line(&self, page: &Page) -> Option<Line> {
        let starts = self.starts.as_ref()?;
        lines_of(page)
            .into_iter()
            .find(|l| starts.is_match(&line_text(l)))
    }

    /// The invoices of a file: runs of pages, each from a page that
    /// starts one (the first page always does).
    pub fn split<'p>(&self, pages: &'p [Page]) -> Vec<&'p [Page]> {
        if self.starts.is_none() {
            return vec![pages];
        }
        let mut invoices = Vec::new();
        let mut from = 0;
        for (k, page) in pages.iter().enumerate().skip(1) {
            if self.start_line(page).is_some() {
                invoices.push(&pages[from..k]);
                from = k;
            }
        }
        invoices.push(&pages[from..]);
        invoices
    }

    /// One invoice's values and rows, written into `tree` (after what it
    /// holds). Returns what was found, by name, for `explain` and
    /// `inspect`.
    pub fn fill(&self, pages: &[Page], tree: &mut Tree) -> Vec<(String, Found)> {
        let mut found = self.fill_values(pages, tree);
        for (n, row) in self.rows(pages).iter().enumerate() {
            self.append_row(tree, row, n + 1, &mut found);
        }
        found
    }

    /// One invoice's values, written at the root of `tree`; returns them.
    pub fn fill_values(&self, pages: &[Page], tree: &mut Tree) -> Vec<(String, Found)> {
        let mut found = Vec::new();
        for value in &self.values {
            if let Some(f) = locate(pages, &value.locator, value.pages) {
                let name = tree.intern(&value.name);
                tree.append_str(0, name, Kind::Field, &f.text, place(&f, 0));
                found.push((value.name.clone(), f));
            }
        }
        found
    }

    /// One invoice's table rows.
    pub fn rows(&self, pages: &[Page]) -> Vec<Row> {
        self.table
            .as_ref()
            .map(|spec| table::rows(pages, spec))
            .unwrap_or_default()
    }

    /// Appends row `ordinal` (from 1) to `tree` as a `line` group, and
    /// its cells to `found`; returns the group.
    pub fn append_row(
        &self,
        tree: &mut Tree,
        row: &Row,
        ordinal: usize,
        found: &mut Vec<(String, Found)>,
    ) -> NodeId {
        let ordinal = ordinal as u64;
        let line = tree.intern(LINE);
        let at = table::row_rect(row).map_or(Place::default(), |rect| {
            let page = row.cells.iter().flatten().next().map_or(0, |f| f.page);
            place(
                &Found {
                    text: String::new(),
                    page,
                    rect,
                },
                ordinal,
            )
        });
        let group = tree.append_str(0, line, Kind::Group, "", at);
        let columns = self.table.as_ref().map_or(&[][..], |t| &t.columns[..]);
        for (cell, column) in row.cells.iter().zip(columns) {
            if let Some(f) = cell {
                let name = tree.intern(column);
                tree.append_str(group, name, Kind::Field, &f.text, place(f, ordinal));
                found.push((format!("{LINE}[{ordinal}]/{column}"), f.clone()));
            }
        }
        group
    }
}

/// A found value's place in the tree (see the module's comment);
/// `ordinal` is its table row (from 1), 0 for a value.
pub fn place(f: &Found, ordinal: u64) -> Place {
    Place {
        offset: f.rect.y0.max(0.0).round() as u64,
        line: u64::from(f.page),
        column: f.rect.x0.max(0.0).round() as u64,
        ordinal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pdf::locate::tests::page;
    use crate::format::tree::Flavor;

    fn template() -> Template {
        Template {
            name: "copperleaf".into(),
            keywords: vec!["Copperleaf Pet".into(), "INVOICE".into()],
            exclude: vec!["credit memo".into()],
            starts: Some(Regex::new("^INVOICE$").expect("regex")),
            values: vec![
                Value {
                    name: "number".into(),
                    locator: Locator::RightOf {
                        label: "Invoice #".into(),
                        words: Some(1),
                    },
                    pages: Pages::Any,
                },
                Value {
                    name: "total".into(),
                    locator: Locator::RightOf {
                        label: "Total".into(),
                        words: None,
                    },
                    pages: Pages::Last,
                },
            ],
            table: Some(TableSpec {
                header: vec!["SKU".into(), "Qty".into()],
                columns: vec!["sku".into(), "qty".into()],
                end: vec!["Total".into()],
                key: 0,
                required: vec![1],
                skip: Vec::new(),
                numeric: vec![1],
            }),
        }
    }

    fn invoice(first: u32, number: &str, sku: &str) -> Page {
        page(
            first,
            &[
                (30.0, &[("Copperleaf", 50.0), ("Pet", 120.0)]),
                (45.0, &[("INVOICE", 50.0)]),
                (60.0, &[("Invoice", 50.0), ("#", 94.0), (number, 110.0)]),
                (90.0, &[("SKU", 50.0), ("Qty", 300.0)]),
                (105.0, &[(sku, 50.0), ("2", 306.0)]),
                (130.0, &[("Total", 250.0), ("$9.00", 300.0)]),
            ],
        )
    }

    #[test]
    fn keywords_choose_the_template() {
        let t = template();
        let pages = [invoice(1, "INV-1", "A-1")];
        assert!(t.matches(&folded_text(&pages)));
        let memo = page(
            1,
            &[(
                30.0,
                &[
                    ("Copperleaf", 50.0),
                    ("Pet", 120.0),
                    ("INVOICE", 200.0),
                    ("Credit", 300.0),
                    ("Memo", 340.0),
                ],
            )],
        );
        assert!(
            !t.matches(&folded_text(std::slice::from_ref(&memo))),
            "excluded"
        );
        let other = page(1, &[(30.0, &[("Acme", 50.0), ("INVOICE", 120.0)])]);
        assert!(
            !t.matches(&folded_text(std::slice::from_ref(&other))),
            "not its vendor"
        );
        assert_eq!(
            t.why_not(&folded_text(&[other])),
            ["the keyword \"Copperleaf Pet\" is not in the text"]
        );
        assert_eq!(
            t.why_not(&folded_text(&[memo])),
            ["the excluded \"credit memo\" is in the text"]
        );
    }

    #[test]
    fn two_invoices_in_one_file_become_two_trees() {
        let t = template();
        let pages = [invoice(1, "INV-1", "A-1"), invoice(2, "INV-2", "B-2")];
        let invoices = t.split(&pages);
        assert_eq!(invoices.len(), 2);
        let start = t.start_line(&pages[1]).expect("the start line");
        assert_eq!(start.rect.y0, 45.0);
        let mut tree = Tree::new(Flavor::Csv);
        let found = t.fill(invoices[1], &mut tree);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["number", "total", "line[1]/sku", "line[1]/qty"]);
        assert_eq!(found[0].1.text, "INV-2");
        assert_eq!(found[2].1.text, "B-2");
        // The tree: the values at the root, a group per row.
        let root_children: Vec<String> = tree
            .children(0)
            .map(|c| format!("{}={}", tree.name_text(c), tree.str_of(c)))
            .collect();
        assert_eq!(root_children, ["number=INV-2", "total=$9.00", "line="]);
        let line = tree.children(0).nth(2).expect("a line");
        let cells: Vec<String> = tree
            .children(line)
            .map(|c| format!("{}={}", tree.name_text(c), tree.str_of(c)))
            .collect();
        assert_eq!(cells, ["sku=B-2", "qty=2"]);
        let p = tree.place(tree.first_child(line));
        assert_eq!((p.line, p.column, p.offset, p.ordinal), (2, 50, 105, 1));
    }

    #[test]
    fn without_a_start_pattern_the_file_is_one_invoice() {
        let t = Template {
            starts: None,
            ..template()
        };
        let pages = [invoice(1, "INV-1", "A-1"), invoice(2, "INV-2", "B-2")];
        assert_eq!(t.split(&pages).len(), 1);
    }
}
