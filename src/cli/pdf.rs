//! `dropgate pdf ...`: the text of a PDF, plain or laid out, its words
//! with their boxes, and a drawing of what a template finds on it
//! ([`super::inspect`]); and [`read_pages`], how every command that
//! reads invoices reads a PDF's pages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::format::pdf::{self, Limits, ReadPage, Rect};

/// The `pdf` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PdfCommand {
    /// Prints the text of a PDF's text layer: blocks in reading order, or
    /// with --layout in fixed-width columns as on the page. A form feed
    /// ends each page. Exits 2 when the PDF cannot be read.
    Text(TextArgs),
    /// Prints each word with its box (points from the page's top left):
    /// `page x0 y0 x1 y1 text`, or with --json one object per page with
    /// its size, how much text layer it has, and its words.
    Words(WordsArgs),
    /// Draws each page as SVG (every page stacked, at its size in points):
    /// its frame, word boxes, ruling lines, and what the template (or
    /// extraction without one) found: values with their labels, regions,
    /// the table's header, columns and rows, where each invoice starts; a
    /// legend lists what was not found. Exits 2 when the PDF cannot be
    /// read.
    Inspect(super::inspect::InspectArgs),
}

/// Arguments of `pdf text`.
#[derive(Debug, clap::Args)]
pub struct TextArgs {
    /// The PDF file.
    file: PathBuf,
    /// Lay the text out in columns, as `pdftotext -layout`.
    #[arg(long)]
    layout: bool,
}

/// Arguments of `pdf words`.
#[derive(Debug, clap::Args)]
pub struct WordsArgs {
    /// The PDF file.
    file: PathBuf,
    /// Only this page (from 1).
    #[arg(long, value_name = "N")]
    page: Option<u32>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a `pdf` subcommand.
pub fn run(cmd: PdfCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PdfCommand::Text(args) => text(args),
        PdfCommand::Words(args) => words(args),
        PdfCommand::Inspect(args) => super::inspect::run(args),
    }
}

/// The pages of `input` when it is a PDF (known by its first bytes), as
/// `translate`, `mapping explain` and `pdf inspect` read them: the text
/// layer, and OCR for a page without one ([`crate::ocr::pages`], with the
/// default `[ocr]` settings); `None` for any other input. `file` is the
/// input on disk (`-`: standard input), `name` how messages call it.
pub(super) fn read_pages(
    input: &mut impl std::io::BufRead,
    file: &Path,
    name: &str,
) -> anyhow::Result<Option<Vec<pdf::Page>>> {
    let head = input
        .fill_buf()
        .with_context(|| format!("{name}: cannot read"))?;
    if !head.starts_with(b"%PDF-") {
        return Ok(None);
    }
    let limits = Limits::default();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(input, limits.max_file_bytes as u64 + 1),
        &mut bytes,
    )
    .with_context(|| format!("{name}: cannot read"))?;
    let on_disk = (file.as_os_str() != "-").then_some(file);
    let config = crate::ocr::OcrConfig::default();
    let pages = crate::ocr::pages(&bytes, on_disk, &limits, &config)
        .with_context(|| format!("{name}: cannot read the PDF"))?;
    Ok(Some(pages))
}

fn read(file: &PathBuf) -> anyhow::Result<Vec<ReadPage>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    pdf::read(&bytes, &Limits::default()).with_context(|| format!("{}", file.display()))
}

/// Prints page by page, so that memory holds one page's text at a time;
/// a page that cannot be read stops the output there (exit 2).
fn text(args: TextArgs) -> anyhow::Result<ExitCode> {
    let file = &args.file;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let doc = pdf::Document::open(&bytes, &Limits::default())
        .with_context(|| format!("{}", file.display()))?;
    let mut fonts = pdf::FontCache::default();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for n in 1..=doc.page_count() as u32 {
        let page = doc
            .page(n, &mut fonts)
            .with_context(|| format!("{}", file.display()))?
            .page;
        let pages = std::slice::from_ref(&page);
        let out = if args.layout {
            pdf::text::laid_out(pages)
        } else {
            pdf::text::plain(pages)
        };
        stdout.write_all(out.as_bytes())?;
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct JsonWord<'a> {
    text: &'a str,
    #[serde(flatten)]
    rect: Rect,
    font_size: f64,
}

#[derive(Serialize)]
struct JsonPage<'a> {
    page: u32,
    width: f64,
    height: f64,
    has_text_layer: bool,
    text_layer: pdf::TextLayer,
    words: Vec<JsonWord<'a>>,
}

fn words(args: WordsArgs) -> anyhow::Result<ExitCode> {
    let pages = read(&args.file)?;
    if let Some(n) = args.page
        && (n == 0 || n as usize > pages.len())
    {
        bail!(
            "{}: --page {n}: the document has {} pages",
            args.file.display(),
            pages.len()
        );
    }
    let chosen: Vec<&ReadPage> = pages
        .iter()
        .filter(|p| args.page.is_none_or(|n| p.page.number == n))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        let json: Vec<JsonPage<'_>> = chosen
            .iter()
            .map(|p| JsonPage {
                page: p.page.number,
                width: p.page.width,
                height: p.page.height,
                has_text_layer: p.layer.has_text(),
                text_layer: p.layer,
                words: p
                    .page
                    .words()
                    .map(|w| JsonWord {
                        text: &w.text,
                        rect: w.rect,
                        font_size: w.font_size,
                    })
                    .collect(),
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    } else {
        for p in chosen {
            for w in p.page.words() {
                let r = w.rect;
                writeln!(
                    out,
                    "{} {:.2} {:.2} {:.2} {:.2} {}",
                    p.page.number, r.x0, r.y0, r.x1, r.y1, w.text
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
