//! `dropgate ack FILE`: acknowledgments for every functional group.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDateTime;

use super::X12Input;
use crate::x12::ack::{AckKind, AckOptions, AckWriter, Ta1Policy};
use crate::x12::control::Counter;
use crate::x12::envelope::{Checker, check_reader};
use crate::x12::{LineStyle, SegmentReader};

/// Arguments of `dropgate ack`.
#[derive(Debug, clap::Args)]
pub struct AckArgs {
    #[command(flatten)]
    input: X12Input,
    /// Send 999 implementation acknowledgments instead of 997s.
    #[arg(long = "999")]
    implementation: bool,
    /// Add a TA1 interchange acknowledgment for every interchange (by
    /// default, for those that ask for one in ISA14; a rejected
    /// interchange always gets its TA1).
    #[arg(long, conflicts_with = "no_ta1")]
    ta1: bool,
    /// No TA1 but to reject an interchange, even when ISA14 asks for one.
    #[arg(long)]
    no_ta1: bool,
    /// Acknowledge only the sets in error (the default acknowledges all).
    #[arg(long)]
    errors_only: bool,
    /// The first interchange and group control number to use.
    #[arg(long, value_name = "N", default_value_t = 1)]
    control_number: u32,
    /// The date and time to stamp, as YYYY-MM-DDTHH:MM (default: now).
    #[arg(long, value_name = "WHEN")]
    timestamp: Option<String>,
    /// GS08 for the acknowledgments (default: each received group's).
    #[arg(long, value_name = "GS08")]
    ack_version: Option<String>,
    /// Line breaks after each segment: none, lf or crlf (default: as received).
    #[arg(long, value_name = "STYLE")]
    line_style: Option<String>,
}

fn parse_timestamp(s: &str) -> anyhow::Result<NaiveDateTime> {
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t);
        }
    }
    bail!("--timestamp {s:?}: expected YYYY-MM-DDTHH:MM")
}

/// Runs `dropgate ack`.
pub fn run(args: AckArgs) -> anyhow::Result<ExitCode> {
    let timestamp = match &args.timestamp {
        Some(s) => parse_timestamp(s)?,
        None => chrono::Local::now().naive_local(),
    };
    let mut options = AckOptions::new(timestamp);
    options.kind = if args.implementation {
        AckKind::Implementation
    } else {
        AckKind::Functional
    };
    options.ta1 = match (args.ta1, args.no_ta1) {
        (true, _) => Ta1Policy::Always,
        (false, true) => Ta1Policy::Never,
        (false, false) => Ta1Policy::WhenRequested,
    };
    options.ack_all_sets = !args.errors_only;
    options.version = args.ack_version.clone();
    options.line_style = match args.line_style.as_deref() {
        None => None,
        Some("none") => Some(LineStyle::None),
        Some("lf") => Some(LineStyle::Lf),
        Some("crlf") => Some(LineStyle::CrLf),
        Some(other) => bail!("--line-style {other:?}: expected none, lf or crlf"),
    };
    let defs = args.input.definitions()?;
    let check_options = args.input.check_options()?;
    let mut checker = Checker::new(&defs, &check_options)?;
    let mut numbers = Counter::starting_at(args.control_number);
    let name = args.input.name();
    let mut reader = SegmentReader::new(args.input.open()?);

    // Acknowledgments go to a buffer first: input that is not X12 prints
    // nothing. Input whose ISA was read but which is not whole (no IEA, a
    // segment cut off, a terminator of several bytes) is answered by the
    // TA1 R that rejects it, and the error still says why.
    let mut acks = AckWriter::new(Vec::new(), options, &mut numbers);
    let checked = check_reader(&mut reader, &mut checker, &mut acks);
    let summary = acks.summary();
    let out = acks.into_inner()?;
    std::io::stdout()
        .lock()
        .write_all(&out)
        .context("cannot write to standard output")?;
    if let Err(e) = checked {
        let e = e.in_file(name.as_str());
        if summary.rejections > 0 {
            bail!("{e}; answered with TA1 R on standard output");
        }
        return Err(e.into());
    }
    if summary.interchanges == 0 {
        eprintln!("dropgate: {name}: no acknowledgment: the file holds only acknowledgments");
    }
    Ok(ExitCode::SUCCESS)
}
