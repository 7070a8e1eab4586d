//! `dropgate translate`: a vendor file in, canonical JSON documents out.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::format::Flavor;
use crate::mapping::MappingError;
use crate::mapping::translate::{Outcome, Request, TranslateError, translate};

/// Arguments of `translate`.
#[derive(Debug, clap::Args)]
pub struct TranslateArgs {
    /// The file to translate (`-` for standard input).
    pub file: PathBuf,
    /// The mapping to use (a name such as `x12/850`, or a file). X12 needs
    /// none: each set is mapped by the built-in mapping of its type.
    #[arg(long, value_name = "M")]
    pub mapping: Option<String>,
    /// The partner whose mappings to use (`mappings/partners/P/`).
    #[arg(long, value_name = "P")]
    pub partner: Option<String>,
    /// The input format: auto, x12, csv, xml, json, xlsx, fixed or pdf (a
    /// PDF is known by its bytes in any case; a mapping's format is used
    /// when one is given).
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// One document per line (NDJSON), for huge inputs.
    #[arg(long)]
    pub ndjson: bool,
    /// A partner overlay (implementation guide) to lay over the standard
    /// X12 sets when validating; may be given more than once.
    #[arg(long, value_name = "FILE")]
    pub overlay: Vec<PathBuf>,
    #[command(flatten)]
    pub mappings: MappingsDir,
}

/// Where mappings come from.
#[derive(Debug, clap::Args)]
pub struct MappingsDir {
    /// The mappings folder (default `./mappings` when it exists; the
    /// built-in mappings otherwise).
    #[arg(long, value_name = "DIR")]
    pub mappings: Option<PathBuf>,
}

impl MappingsDir {
    /// The library of mappings.
    pub fn library(&self) -> anyhow::Result<crate::mapping::Library> {
        let dir = match &self.mappings {
            Some(d) => Some(d.clone()),
            None => {
                let d = PathBuf::from("mappings");
                d.is_dir().then_some(d)
            }
        };
        Ok(match dir {
            Some(d) => crate::mapping::Library::with_dir(&d)?,
            None => crate::mapping::Library::embedded(),
        })
    }
}

/// Parses `--format`.
pub fn flavor(s: &str) -> anyhow::Result<Option<Flavor>> {
    Ok(match s {
        "auto" => None,
        "x12" => Some(Flavor::X12),
        "csv" => Some(Flavor::Csv),
        "xml" => Some(Flavor::Xml),
        "pdf" => Some(Flavor::Pdf),
        "json" => Some(Flavor::Json),
        "xlsx" | "xls" => Some(Flavor::Xlsx),
        "fixed" => Some(Flavor::Fixed),
        other => anyhow::bail!(
            "--format is auto, x12, csv, xml, json, xlsx, fixed or pdf, not {other:?}"
        ),
    })
}

/// Prints a translation's warnings and problems on stderr; the exit code
/// is 1 when there is a problem.
pub fn report(outcome: &Outcome) -> ExitCode {
    for w in &outcome.warnings {
        eprintln!("dropgate: {w}");
    }
    for p in &outcome.problems {
        eprintln!("dropgate: {p}");
    }
    if outcome.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Runs `translate`.
pub fn run(args: TranslateArgs) -> anyhow::Result<ExitCode> {
    let library = args.mappings.library()?;
    let name = args.file.display().to_string();
    let input: Box<dyn std::io::Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else if args.file.is_dir() {
        anyhow::bail!("{name}: a folder; translate reads one file");
    } else {
        Box::new(std::fs::File::open(&args.file).with_context(|| format!("{name}: cannot open"))?)
    };
    let mut input = std::io::BufReader::with_capacity(1 << 16, input);
    // A PDF is read whole into its pages (OCR for those without text).
    let pdf_pages = super::pdf::read_pages(&mut input, &args.file, &name)?;
    let request = Request {
        file_name: name,
        flavor: flavor(&args.format)?,
        mapping: args.mapping.clone(),
        partner: args.partner.clone(),
        lines: args.ndjson,
        explain: false,
        // What is printed is what can be used: documents of a rejected
        // group or interchange are not.
        hold_envelopes: true,
        tree_only: false,
        // The system's temporary folder (TMPDIR).
        hold_dir: None,
        acknowledge: None,
        pdf_pages,
        overlays: args
            .overlay
            .iter()
            .map(|p| crate::x12::defs::Overlay::from_path(p))
            .collect::<Result<_, _>>()?,
    };
    let out = std::io::BufWriter::with_capacity(1 << 16, super::raw_stdout());
    let defs = crate::x12::defs::Definitions::embedded();
    match translate(input, &request, &library, defs, out) {
        Ok((outcome, mut out)) => {
            out.flush()?;
            Ok(report(&outcome))
        }
        Err(TranslateError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        // A value the mapping cannot make: the document is not mappable
        // (exit 1, as a rejected one), unlike input that cannot be read
        // or a mapping that cannot be loaded (exit 2).
        Err(TranslateError::Mapping(e @ MappingError::Eval { .. })) => {
            eprintln!("dropgate: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
