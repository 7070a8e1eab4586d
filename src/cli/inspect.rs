//! `dropgate pdf inspect`: a PDF's pages drawn as SVG
//! ([`crate::format::pdf::svg`]) with what reading its invoices found on
//! them: with a template (named, or the partner's chosen by its keywords
//! as `translate` chooses it), each value and the label it was found from,
//! regions, where each invoice starts, the table's header, column
//! boundaries and rows, and in the legend what was not found; without
//! one, what extraction without a template found and why the invoice was
//! or was not accepted.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::format::pdf::locate::{Locator, locate_from, pages_of};
use crate::format::pdf::page::{Page, Rect};
use crate::format::pdf::svg::{self, Mark, MarkKind};
use crate::format::pdf::table::{self, Table, TableSpec};
use crate::format::pdf::template::{Template, folded_text};
use crate::mapping::generic;
use crate::mapping::translate::pdf_template;

/// Arguments of `pdf inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The PDF file.
    file: PathBuf,
    /// The template: a PDF mapping, by name (`partners/acme/invoice`) or
    /// file, as `translate --mapping` takes it.
    #[arg(long, visible_alias = "mapping", value_name = "T")]
    template: Option<String>,
    /// The partner whose templates are chosen from by their keywords, as
    /// `translate --partner` does (without --template or --partner, every
    /// partner's).
    #[arg(long, value_name = "P")]
    partner: Option<String>,
    /// Where to write the SVG picture.
    #[arg(long, value_name = "FILE.svg")]
    out: PathBuf,
    #[command(flatten)]
    mappings: super::translate::MappingsDir,
}

/// Runs `pdf inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let library = args.mappings.library()?;
    let name = args.file.display().to_string();
    let file = std::fs::File::open(&args.file).with_context(|| format!("{name}: cannot open"))?;
    let mut input = std::io::BufReader::new(file);
    let Some(pages) = super::pdf::read_pages(&mut input, &args.file, &name)? else {
        bail!("{name}: not a PDF (it does not start with %PDF-)");
    };
    let chosen = pdf_template(
        &pages,
        args.template.as_deref(),
        args.partner.as_deref(),
        &library,
    )?;
    let mut drawing = Drawing::default();
    match chosen {
        Some((_, template)) => {
            drawing
                .legend
                .push(format!("{name}: template {}", template.name));
            drawing.template(&template, &pages);
        }
        None => {
            drawing.legend.push(format!(
                "{name}: no template matches; extraction without one"
            ));
            let text = folded_text(&pages);
            for loaded in library.pdf_mappings(args.partner.as_deref())? {
                for why in loaded.header.pdf.why_not(&text) {
                    drawing
                        .legend
                        .push(format!("template {} not chosen: {why}", loaded.name));
                }
            }
            drawing.generic(&pages);
        }
    }
    let picture = svg::draw(&pages, &drawing.marks, &drawing.legend);
    std::fs::write(&args.out, picture)
        .with_context(|| format!("{}: cannot write", args.out.display()))?;
    say!("{}: {} page(s) drawn", args.out.display(), pages.len());
    for line in drawing.legend.iter().skip(1) {
        say!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The marks and the legend of a picture.
#[derive(Default)]
struct Drawing {
    marks: Vec<Mark>,
    legend: Vec<String>,
}

impl Drawing {
    fn mark(&mut self, page: u32, kind: MarkKind, rect: Rect, label: impl Into<String>) {
        self.marks.push(Mark {
            page,
            kind,
            rect,
            label: label.into(),
        });
    }

    /// What `template` finds on `pages`, an invoice at a time.
    fn template(&mut self, template: &Template, pages: &[Page]) {
        let invoices = template.split(pages);
        let several = invoices.len() > 1;
        for (k, invoice) in invoices.iter().enumerate() {
            let Some(first) = invoice.first() else {
                continue;
            };
            let of = if several {
                format!(" (invoice {}, from page {})", k + 1, first.number)
            } else {
                String::new()
            };
            if several {
                self.legend.push(format!(
                    "invoice {}: pages {}-{}",
                    k + 1,
                    first.number,
                    invoice.last().map_or(first.number, |p| p.number)
                ));
            }
            if let Some(line) = template.start_line(first) {
                self.mark(
                    first.number,
                    MarkKind::Start,
                    line.rect,
                    format!("invoice {} starts", k + 1),
                );
            }
            for value in &template.values {
                if let Locator::Region(rect) = &value.locator {
                    for page in pages_of(invoice, value.pages) {
                        self.mark(
                            page.number,
                            MarkKind::Region,
                            *rect,
                            format!("region of {}", value.name),
                        );
                    }
                }
                match locate_from(invoice, &value.locator, value.pages) {
                    Some(found) => {
                        if let Some(anchor) = &found.anchor {
                            self.mark(
                                anchor.page,
                                MarkKind::Anchor,
                                anchor.rect,
                                format!("label of {}", value.name),
                            );
                        }
                        self.mark(
                            found.value.page,
                            MarkKind::Value,
                            found.value.rect,
                            value.name.clone(),
                        );
                    }
                    None => self
                        .legend
                        .push(format!("not found: {} ({}){of}", value.name, value.locator)),
                }
            }
            if let Some(spec) = &template.table {
                let table = table::table(invoice, spec);
                self.table(spec, &table, &of);
            }
        }
    }

    /// A table's header, columns, rows and end.
    fn table(&mut self, spec: &TableSpec, table: &Table, of: &str) {
        if table.headers.is_empty() {
            self.legend.push(format!(
                "not found: the table's header ({}){of}",
                spec.header.join(", ")
            ));
            return;
        }
        for header in &table.headers {
            self.mark(header.page, MarkKind::Header, header.rect, "table header");
            let lefts = std::iter::once(header.rect.x0).chain(header.bounds.iter().copied());
            for (x, column) in lefts.zip(&spec.columns) {
                let line = Rect {
                    x0: x,
                    y0: header.rect.y0,
                    x1: x,
                    y1: header.bottom.max(header.rect.y1),
                };
                self.mark(header.page, MarkKind::Column, line, column.clone());
            }
        }
        for (n, row) in table.rows.iter().enumerate() {
            let page = row.cells.iter().flatten().next().map(|f| f.page);
            if let (Some(page), Some(rect)) = (page, table::row_rect(row)) {
                self.mark(page, MarkKind::Row, rect, (n + 1).to_string());
            }
        }
        if let Some(end) = &table.end {
            self.mark(end.page, MarkKind::End, end.rect, "end of the table");
        }
        if table.rows.is_empty() {
            self.legend
                .push(format!("the table has no rows under its header{of}"));
        } else {
            self.legend
                .push(format!("table: {} row(s){of}", table.rows.len()));
        }
    }

    /// What extraction without a template finds on `pages`.
    fn generic(&mut self, pages: &[Page]) {
        let readings = generic::read_all(pages);
        let several = readings.len() > 1;
        for (k, reading) in readings.iter().enumerate() {
            let of = match several {
                true => format!(" (invoice {})", k + 1),
                false => String::new(),
            };
            for seen in &reading.seen {
                self.mark(
                    seen.label.page,
                    MarkKind::Anchor,
                    seen.label.rect,
                    format!("label of {}", seen.what),
                );
                self.mark(
                    seen.value.page,
                    MarkKind::Value,
                    seen.value.rect,
                    seen.what.clone(),
                );
            }
            if let Some((spec, table)) = &reading.table {
                self.table(spec, table, &of);
            }
            match &reading.invoice {
                Ok(invoice) => self.legend.push(format!(
                    "accepted{of}: invoice {}, the lines and totals add up",
                    invoice.invoice_number
                )),
                Err(unsure) => {
                    for problem in &unsure.problems {
                        self.legend.push(format!("not accepted{of}: {problem}"));
                    }
                }
            }
        }
    }
}
