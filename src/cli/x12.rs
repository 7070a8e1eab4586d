//! `dropgate x12 ...`: validate and scan X12 files.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;

use super::X12Input;
use crate::x12::SegmentReader;
use crate::x12::ack::{AckOptions, AckWriter};
use crate::x12::control::Counter;
use crate::x12::envelope::{Checker, check_reader};
use crate::x12::report::{Report, ReportFormat};

/// The `x12` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum X12Command {
    /// Validates a file against the X12 definitions and prints a report:
    /// each interchange, group and set, and each error with its place and
    /// value. Exits 1 when anything is in error, 2 when the input cannot
    /// be read as X12 (with `--format json`, a last line of kind
    /// `unreadable` says why and where).
    Validate(ValidateArgs),
    /// Reads a file as fast as it can and prints throughput and peak memory
    /// (for benchmarks): `--stage parse`, `validate` or `ack`.
    Scan(ScanArgs),
}

/// Arguments of `x12 validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    input: X12Input,
    /// `text` for people, `json` for one JSON object per line.
    #[arg(long, default_value = "text")]
    format: String,
    /// List only what is in error.
    #[arg(long)]
    errors_only: bool,
}

/// Arguments of `x12 scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    input: X12Input,
    /// How far to go: `parse` (segments only), `validate`, or `ack`
    /// (validate and write 997s to nowhere).
    #[arg(long, default_value = "validate")]
    stage: String,
}

/// Runs an `x12` subcommand.
pub fn run(cmd: X12Command) -> anyhow::Result<ExitCode> {
    match cmd {
        X12Command::Validate(args) => validate(args),
        X12Command::Scan(args) => scan(args),
    }
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format.as_str() {
        "text" => ReportFormat::Text,
        "json" => ReportFormat::JsonLines,
        other => bail!("--format {other:?}: expected text or json"),
    };
    let defs = args.input.definitions()?;
    let options = args.input.check_options()?;
    let mut checker = Checker::new(&defs, &options)?;
    let name = args.input.name();
    let mut reader = SegmentReader::new(args.input.open()?);
    let stdout = std::io::stdout().lock();
    let mut report = Report::new(std::io::BufWriter::new(stdout), format, args.errors_only);
    if format == ReportFormat::Text {
        writeln!(report_out(&mut report), "{name}")?;
    }
    let summary = match check_reader(&mut reader, &mut checker, &mut report) {
        Ok(summary) => summary,
        Err(e) => {
            let e = e.in_file(name.as_str());
            // What could be reported is; a reader of the JSON lines gets
            // the reason too, as a line of its own (exit 2, as in text).
            if format == ReportFormat::JsonLines {
                let mut out = report.into_inner()?;
                let line = serde_json::json!({
                    "kind": "unreadable",
                    "file": name.as_str(),
                    "error": e.kind().to_string(),
                    "at": e.position(),
                });
                writeln!(out, "{line}")?;
                out.flush()?;
            }
            return Err(e.into());
        }
    };
    let errors = report.errors();
    let mut out = report.into_inner()?;
    if format == ReportFormat::Text {
        writeln!(
            out,
            "summary: {} interchange(s), {} group(s), {} set(s); {} set(s) rejected, {} group(s) and {} interchange(s) with errors",
            summary.interchanges,
            summary.groups,
            summary.sets,
            summary.sets_rejected,
            summary.groups_with_errors,
            summary.interchanges_rejected
        )?;
    }
    out.flush()?;
    Ok(if errors == 0 && summary.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes a line before the report starts (the report owns the writer).
fn report_out<W: Write>(report: &mut Report<W>) -> &mut dyn Write {
    report.writer()
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let name = args.input.name();
    let bytes = if args.input.file.as_os_str() == "-" {
        0
    } else {
        std::fs::metadata(&args.input.file)?.len()
    };
    let start = Instant::now();
    let mut reader = SegmentReader::new(args.input.open()?);
    let (segments, sets) = match args.stage.as_str() {
        "parse" => {
            let mut segments = 0u64;
            let mut sets = 0u64;
            reader
                .for_each(|s, _, _| {
                    segments += 1;
                    sets += u64::from(s.is(b"ST"));
                    Ok(())
                })
                .map_err(|e| e.in_file(name.as_str()))?;
            (segments, sets)
        }
        "validate" | "ack" => {
            let defs = args.input.definitions()?;
            let options = args.input.check_options()?;
            let mut checker = Checker::new(&defs, &options)?;
            let summary = if args.stage == "ack" {
                let mut numbers = Counter::starting_at(1);
                let mut acks = AckWriter::new(
                    std::io::sink(),
                    AckOptions::new(chrono::Local::now().naive_local()),
                    &mut numbers,
                );
                check_reader(&mut reader, &mut checker, &mut acks)
            } else {
                check_reader(&mut reader, &mut checker, &mut ())
            }
            .map_err(|e| e.in_file(name.as_str()))?;
            (summary.segments, summary.sets)
        }
        other => bail!("--stage {other:?}: expected parse, validate or ack"),
    };
    let elapsed = start.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1_000_000.0;
    say!(
        "{{\"file\":{:?},\"stage\":{:?},\"bytes\":{bytes},\"segments\":{segments},\"sets\":{sets},\"seconds\":{elapsed:.3},\"mb_per_s\":{:.1},\"peak_rss_mb\":{:.1}}}",
        name,
        args.stage,
        if elapsed > 0.0 { mb / elapsed } else { 0.0 },
        peak_rss_mb()
    );
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process (VmHWM), in MB; 0 where unknown.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb * 1024.0 / 1_000_000.0)
}
