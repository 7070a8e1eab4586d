//! `dropgate mapping ...`: test mappings on their samples, explain where
//! each output value comes from.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::format::pdf::Rect;
use crate::format::pdf::template::{LINE, place};
use crate::format::tree::{Flavor, Place, Tree};
use crate::mapping::testing;
use crate::mapping::translate::{Request, pdf_template, translate};

use super::translate::flavor;

/// The `mapping` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MappingCommand {
    /// Runs every mapping under DIR on its samples (`DIR/NAME/`) and
    /// compares with the expected output next to them; prints a diff for
    /// each mismatch and exits 1 on any.
    Test(TestArgs),
    /// Translates FILE with a mapping and shows, for each output value, the
    /// rule (file:line) and the place in the input it came from (for a
    /// PDF: the page, the position and box in points, and how the
    /// template found it).
    Explain(ExplainArgs),
}

/// Arguments of `mapping test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The mappings folder.
    #[arg(default_value = "mappings")]
    pub dir: PathBuf,
    /// Only the mappings whose name starts with this (`partners/acme`).
    #[arg(long)]
    pub only: Option<String>,
    /// Write the current output as the expected output.
    #[arg(long)]
    pub bless: bool,
}

/// Arguments of `mapping explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The mapping (a name or a file).
    #[arg(long, value_name = "M")]
    pub mapping: String,
    /// The input file.
    pub file: PathBuf,
    /// The input format: auto, x12, csv, xml, json, xlsx, fixed or pdf (a
    /// PDF is known by its bytes in any case).
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// The partner (`source.partner`).
    #[arg(long, value_name = "P")]
    pub partner: Option<String>,
    #[command(flatten)]
    pub mappings: super::translate::MappingsDir,
}

/// Runs a `mapping` subcommand.
pub fn run(cmd: MappingCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MappingCommand::Test(args) => test(args),
        MappingCommand::Explain(args) => explain(args),
    }
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let library = crate::mapping::Library::with_dir(&args.dir)?;
    let defs = crate::x12::defs::Definitions::embedded();
    let results = testing::run(&library, &args.dir, defs, args.only.as_deref(), args.bless)?;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for r in &results {
        match (&r.failure, r.blessed) {
            (_, true) => writeln!(out, "blessed {} ({})", r.input.display(), r.mapping)?,
            (None, false) => writeln!(out, "ok      {} ({})", r.input.display(), r.mapping)?,
            (Some(f), false) => {
                failed += 1;
                writeln!(out, "FAILED  {} ({})", r.input.display(), r.mapping)?;
                for line in f.lines() {
                    writeln!(out, "    {line}")?;
                }
            }
        }
    }
    writeln!(
        out,
        "{} sample(s), {} passed, {failed} failed",
        results.len(),
        results.len() - failed
    )?;
    Ok(if failed == 0 && !results.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let library = args.mappings.library()?;
    let name = args.file.display().to_string();
    let file = std::fs::File::open(&args.file).with_context(|| format!("{name}: cannot open"))?;
    let mut input = std::io::BufReader::new(file);
    // A PDF is read into its pages as `translate` reads it.
    let pdf_pages = super::pdf::read_pages(&mut input, &args.file, &name)?;
    let boxes = match &pdf_pages {
        Some(pages) => pdf_boxes(pages, &args.mapping, &library)?,
        None => Vec::new(),
    };
    let request = Request {
        file_name: name,
        flavor: flavor(&args.format)?,
        mapping: Some(args.mapping.clone()),
        partner: args.partner.clone(),
        lines: true,
        explain: true,
        pdf_pages,
        ..Request::default()
    };
    let defs = crate::x12::defs::Definitions::embedded();
    let (outcome, _) = translate(input, &request, &library, defs, std::io::sink())?;
    let width = outcome
        .traces
        .iter()
        .map(|t| t.field.len())
        .max()
        .unwrap_or(0)
        .min(40);
    let mut out = std::io::stdout().lock();
    let several = outcome
        .traces
        .first()
        .is_some_and(|f| outcome.traces.iter().any(|t| t.document != f.document));
    let mut document = None;
    for t in &outcome.traces {
        if several && document != Some(&t.document) {
            writeln!(out, "== {}", t.document)?;
            document = Some(&t.document);
        }
        writeln!(
            out,
            "{:width$} = {:?}\n{:width$}   rule {}{}",
            t.field,
            t.value,
            "",
            t.rule,
            t.from
                .as_ref()
                .map(|f| format!(", from {f}"))
                .unwrap_or_else(|| ", a constant or default".into())
        )?;
        // A PDF's value: how the template found it, and its box.
        if let Some((_, how, r)) = boxes.iter().find(|(at, _, _)| Some(*at) == t.at) {
            writeln!(
                out,
                "{:width$}   found {how}, box {:.1} {:.1} {:.1} {:.1} pt (left top right bottom)",
                "", r.x0, r.y0, r.x1, r.y1
            )?;
        }
    }
    Ok(super::translate::report(&outcome))
}

/// What the PDF mapping `mapping` finds on `pages`: each value's place in
/// the tree, how it was found, and its box.
fn pdf_boxes(
    pages: &[crate::format::pdf::Page],
    mapping: &str,
    library: &crate::mapping::Library,
) -> anyhow::Result<Vec<(Place, String, Rect)>> {
    let Some((_, template)) = pdf_template(pages, Some(mapping), None, library)? else {
        return Ok(Vec::new());
    };
    let mut boxes = Vec::new();
    for invoice in template.split(pages) {
        let mut tree = Tree::new(Flavor::Pdf);
        for (name, found) in template.fill(invoice, &mut tree) {
            // A table's cell is named `line[N]/column`.
            let cell = name
                .strip_prefix(&format!("{LINE}["))
                .and_then(|rest| rest.split_once("]/"))
                .and_then(|(n, column)| Some((n.parse::<u64>().ok()?, column)));
            let (ordinal, how) = match cell {
                Some((n, column)) => {
                    let label = template.table.as_ref().and_then(|t| {
                        let i = t.columns.iter().position(|c| c == column)?;
                        t.header.get(i)
                    });
                    let under = label.map(|l| format!(" under {l:?}")).unwrap_or_default();
                    (n, format!("in the table's row {n}, column {column}{under}"))
                }
                None => {
                    let how = template
                        .values
                        .iter()
                        .find(|v| v.name == name)
                        .map(|v| v.locator.to_string())
                        .unwrap_or_default();
                    (0, how)
                }
            };
            boxes.push((place(&found, ordinal), how, found.rect));
        }
    }
    Ok(boxes)
}
