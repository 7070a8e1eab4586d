//! The `dropgate` command line: parses arguments, calls the library, prints.
//!
//! This is the only layer that prints and the only one that uses `anyhow`.
//! Exit codes: 0 success, 1 the input has errors (`x12 validate`), 2 the input
//! cannot be read or the command is wrong.

/// `println!` that gives the error back (`?`) instead of panicking when
/// the reader of the output went away (`dropgate files | head -1`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod ack;
mod as2;
mod console;
mod gateway;
mod inspect;
mod mapping;
mod netsuite;
mod netsuite_sim;
mod orders;
mod pdf;
mod reconcile;
mod render;
mod translate;
mod x12;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// An EDI and file gateway for dropship commerce.
#[derive(Debug, Parser)]
#[command(name = "dropgate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prints the acknowledgments (997, or 999 with --999) for every
    /// functional group of an X12 file, and a TA1 where ISA14 asks for one
    /// (always with --ta1, never with --no-ta1); a rejected interchange is
    /// answered by its TA1 alone.
    Ack(ack::AckArgs),
    /// Translates a vendor file (X12, CSV, XML, JSON, an Excel workbook, a
    /// fixed-width file) to canonical JSON
    /// documents: a JSON array, or one document per line with --ndjson.
    /// Exits 1 when a document is rejected or cannot be mapped, 2 when the
    /// input cannot be read at all.
    Translate(translate::TranslateArgs),
    /// Renders a canonical document (an outbound purchase order) in a
    /// vendor's format: a complete X12 interchange, a CSV or an XML file.
    Render(render::RenderArgs),
    /// Checks an invoice against the purchase order sent and the ship
    /// notices received, as the gateway does (quantities, prices, charges,
    /// arithmetic): exit 0 when it matches, 1 on a variance or when no
    /// order matches, 2 when an input cannot be read.
    Reconcile(reconcile::ReconcileArgs),
    /// Mapping tools: test mappings on their samples, explain a mapping.
    #[command(subcommand)]
    Mapping(mapping::MappingCommand),
    /// Runs the gateway: polls the channels, processes and relays files,
    /// sends acknowledgments; SIGTERM stops it (exit 0). With --once, one
    /// pass and exit (1 when a file was quarantined, a channel failed or a
    /// delivery must wait; 2 when the pass could not be completed, as on a
    /// full disk).
    Run(gateway::RunArgs),
    /// Checks gateway.toml and the partner files; prints each problem with
    /// its file, line and column, and exits 1 if there is any.
    CheckConfig(gateway::ConfigArg),
    /// Lists the most recent files: number, state, channel, partner, name,
    /// documents, and why a file was quarantined.
    Files(gateway::FilesArgs),
    /// Sums up the gateway: files by state, deliveries waiting and why,
    /// the invoices held, the quarantined files.
    Status(gateway::ConfigArg),
    /// Shows one file: where it came from, its audit trail, its documents
    /// (with --documents, their canonical JSON).
    Show(gateway::ShowArgs),
    /// Processes a quarantined file again (after a mapping fix), or with
    /// --force a duplicate (a file received before, to be taken again).
    Reprocess(gateway::ReprocessArgs),
    /// Sends canonical purchase orders to a partner: rendered in its format
    /// (X12 with fresh control numbers, CSV, XML), queued and delivered on
    /// its outbound channel (exit 1 when the delivery must wait).
    SendPo(gateway::SendPoArgs),
    /// Sends canonical documents to a partner: purchase orders and
    /// remittance advices (X12 820 for partners paid by EFT), each
    /// rendered in the partner's format with fresh control numbers, queued
    /// and delivered on its outbound channel; a document sent before is
    /// not sent again (exit 1 when the delivery must wait).
    Send(gateway::SendArgs),
    /// Releases a held invoice (one with a variance) to the relay: it is
    /// relayed once, and the file's audit trail says who released it.
    Release(gateway::ReleaseArgs),
    /// Purchase orders followed from the order to the bill: the list with
    /// each order's state, one order's timeline (PO, 997, 855, ship
    /// notices with tracking, invoices), or the measures per partner.
    Orders(orders::OrdersArgs),
    /// The exceptions (orders without a 997 or 855 in time, late, shipped
    /// short, invoices held, files quarantined, channels failing, feeds
    /// missing, deliveries not made): the open ones, or all.
    Exceptions(orders::ExceptionsArgs),
    /// The web console: hash-password (for `[[console.users]]`).
    #[command(subcommand)]
    Console(console::ConsoleCommand),
    /// AS2 tools: keygen (a key pair and a self-signed certificate for a
    /// partnership).
    #[command(subcommand)]
    As2(as2::As2Command),
    /// X12 tools: validate, scan.
    #[command(subcommand)]
    X12(x12::X12Command),
    /// PDF tools: the text of a PDF, its words with their boxes, a drawing
    /// of what a template finds on it.
    #[command(subcommand)]
    Pdf(pdf::PdfCommand),
    /// NetSuite: check the connection of `[netsuite]`, run a SuiteQL
    /// query, read a record.
    #[command(subcommand)]
    Netsuite(netsuite::NetsuiteCommand),
    /// Runs a simulated NetSuite account (SuiteTalk REST, SuiteQL, TBA,
    /// the concurrency limit, injected faults) for tests and demos; prints
    /// its address once listening.
    NetsuiteSim(netsuite_sim::NetsuiteSimArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ack(args) => ack::run(args),
        Command::Translate(args) => translate::run(args),
        Command::Render(args) => render::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Mapping(cmd) => mapping::run(cmd),
        Command::X12(cmd) => x12::run(cmd),
        Command::Console(cmd) => console::run(cmd),
        Command::As2(cmd) => as2::run(cmd),
        Command::Pdf(cmd) => pdf::run(cmd),
        Command::Netsuite(cmd) => netsuite::run(cmd),
        Command::NetsuiteSim(args) => netsuite_sim::run(args),
        Command::Run(args) => gateway::run(args),
        Command::CheckConfig(args) => gateway::check_config(args),
        Command::Files(args) => gateway::files(args),
        Command::Status(args) => gateway::status(args),
        Command::Show(args) => gateway::show(args),
        Command::Reprocess(args) => gateway::reprocess(args),
        Command::SendPo(args) => gateway::send_po(args),
        Command::Send(args) => gateway::send(args),
        Command::Release(args) => gateway::release(args),
        Command::Orders(args) => orders::orders(args),
        Command::Exceptions(args) => orders::exceptions(args),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dropgate: {}", one_line(&message(&e)));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes, `: `-separated, each cause said once: the
/// library's errors often name their source in their own text
/// (`archive x: No space left on device`), which the chain would repeat.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Messages on stderr are one line: a path or value with a newline in it
/// must not split them.
/// The canonical documents in a JSON file: one document, or an array of
/// them; and the file's name, for messages.
fn read_documents(path: &std::path::Path) -> anyhow::Result<(String, Vec<serde_json::Value>)> {
    use anyhow::Context;
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{name}: not JSON"))?;
    let docs = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    Ok((name, docs))
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// What the X12 commands share: the file, definitions and overlays.
#[derive(Debug, clap::Args)]
struct X12Input {
    /// The X12 file to read (`-` for standard input).
    file: std::path::PathBuf,
    /// Read transaction-set definitions from this folder instead of the
    /// built-in copy of `x12/`.
    #[arg(long, value_name = "DIR")]
    defs: Option<std::path::PathBuf>,
    /// A partner overlay (implementation guide) to lay over the standard
    /// sets; may be given more than once.
    #[arg(long, value_name = "FILE")]
    overlay: Vec<std::path::PathBuf>,
}

impl X12Input {
    fn name(&self) -> String {
        self.file.display().to_string()
    }

    fn open(&self) -> anyhow::Result<Box<dyn std::io::Read>> {
        use anyhow::Context;
        if self.file.as_os_str() == "-" {
            return Ok(Box::new(std::io::stdin().lock()));
        }
        let f = std::fs::File::open(&self.file)
            .with_context(|| format!("{}: cannot open", self.name()))?;
        let input = crate::x12::unwrap::Unwrap::new(f)
            .with_context(|| format!("{}: cannot read", self.name()))?;
        if let Some(width) = input.wrapped_width() {
            eprintln!(
                "dropgate: {}: note: the file is wrapped in lines of {width} characters \
                 (fixed-record X12); its line breaks are removed, and places count in the \
                 unwrapped text",
                self.name()
            );
        }
        Ok(Box::new(input))
    }

    fn definitions(
        &self,
    ) -> anyhow::Result<std::borrow::Cow<'static, crate::x12::defs::Definitions>> {
        use crate::x12::defs::Definitions;
        Ok(match &self.defs {
            Some(dir) => std::borrow::Cow::Owned(Definitions::from_dir(dir)?),
            None => std::borrow::Cow::Borrowed(Definitions::embedded()),
        })
    }

    fn check_options(&self) -> anyhow::Result<crate::x12::envelope::CheckOptions> {
        let mut options = crate::x12::envelope::CheckOptions::default();
        for path in &self.overlay {
            options
                .overlays
                .push(crate::x12::defs::Overlay::from_path(path)?);
        }
        Ok(options)
    }
}

/// Standard output without the line buffering of [`std::io::Stdout`]
/// (which looks for line ends in everything written through it): for
/// large outputs that the caller buffers itself.
fn raw_stdout() -> Box<dyn std::io::Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device");
        let store = crate::store::StoreError::Archive {
            path: "var/archive/ab".into(),
            source: io,
        };
        let e = anyhow::Error::new(store).context("the pass stopped");
        assert_eq!(
            message(&e),
            "the pass stopped: archive var/archive/ab: No space left on device"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(message(&plain), "outer: inner");
    }
}
