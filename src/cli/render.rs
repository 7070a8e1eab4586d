//! `dropgate render`: a canonical document in, the vendor's file out (an
//! outbound purchase order, purchase order change or return); with
//! `--changed-from`, purchase orders as they are now and as they were sent
//! in, their changes (860) out.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::mapping::OutboundMapping;
use crate::mapping::outbound::RenderOptions;
use crate::model::{Document, DocumentType, PoChange, PurchaseOrder};

use super::translate::{MappingsDir, flavor};

/// Arguments of `render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The canonical JSON document (an object, or an array of them).
    pub file: PathBuf,
    /// The partner whose outbound mapping to use (`mappings/partners/P/`:
    /// its mapping for the documents' type, else the built-in one).
    #[arg(long, value_name = "P")]
    pub partner: Option<String>,
    /// The purchase orders as they were sent (a JSON object or array): each
    /// order of FILE, as it is now, is rendered as its change since then (a
    /// `po_change`: an 860 in X12), or its cancellation when its `purpose`
    /// is `cancel`. Orders are matched by PO number, lines by line number.
    #[arg(long, value_name = "SENT")]
    pub changed_from: Option<PathBuf>,
    /// The outbound mapping to use (a name or a file).
    #[arg(long, value_name = "M")]
    pub mapping: Option<String>,
    /// The vendor format: x12, csv or xml.
    #[arg(long)]
    pub to: String,
    /// X12: the interchange and group control number (ISA13, GS06); each
    /// further document takes the next.
    #[arg(long, default_value_t = 1)]
    pub control_number: u32,
    /// X12: the envelope's date and time (`2024-01-15T10:30`); now when
    /// not given.
    #[arg(long)]
    pub timestamp: Option<String>,
    #[command(flatten)]
    pub mappings: MappingsDir,
}

/// Runs `render`.
pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let library = args.mappings.library()?;
    let to = flavor(&args.to)?.context("--to is x12, csv or xml")?;
    let (name, mut docs) = super::read_documents(&args.file)?;
    if let Some(sent) = &args.changed_from {
        docs = changes(&name, &docs, sent)?;
    }
    let document = docs
        .first()
        .and_then(|d| d.get("type"))
        .and_then(serde_json::Value::as_str)
        .and_then(DocumentType::from_name)
        .unwrap_or(DocumentType::PurchaseOrder);
    let loaded = match (&args.mapping, &args.partner) {
        (Some(m), _) => library.load(m)?,
        (None, Some(p)) => library.outbound_for(p, document, to)?,
        (None, None) => bail!("render needs --partner P or --mapping M"),
    };
    if loaded.header.flavor != to {
        bail!(
            "mapping {} writes {}, not {}",
            loaded.name,
            crate::mapping::library::flavor_name(loaded.header.flavor),
            args.to
        );
    }
    let mapping = OutboundMapping::compile(&loaded)?;
    let timestamp = match &args.timestamp {
        Some(t) => chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
            .with_context(|| format!("--timestamp {t:?} is not YYYY-MM-DDTHH:MM"))?,
        None => chrono::Local::now().naive_local(),
    };
    let last = u64::from(args.control_number) + docs.len().saturating_sub(1) as u64;
    if args.control_number == 0 || last > 999_999_999 {
        anyhow::bail!(
            "--control-number: ISA13 and ST02 take 1 to 999999999, and {} documents from {} would reach {last}",
            docs.len(),
            args.control_number
        );
    }
    // Rendered in memory first: a document that cannot be rendered leaves
    // no half-written file on stdout.
    let mut rendered = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let options = RenderOptions {
            control_number: args.control_number.wrapping_add(i as u32),
            group_control_number: args.control_number.wrapping_add(i as u32),
            timestamp,
            parties: None,
        };
        mapping.render(doc, &name, &options, &mut rendered)?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&rendered)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The purchase orders of `file` (`docs`), each as the change since the
/// order of the same PO number in `sent`.
fn changes(
    file: &str,
    docs: &[serde_json::Value],
    sent: &std::path::Path,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let (sent_name, sent_docs) = super::read_documents(sent)?;
    let orders = |name: &str, docs: &[serde_json::Value]| -> anyhow::Result<Vec<PurchaseOrder>> {
        docs.iter()
            .enumerate()
            .map(
                |(i, d)| match serde_json::from_value::<Document>(d.clone()) {
                    Ok(Document::PurchaseOrder(o)) => Ok(o),
                    Ok(other) => bail!(
                        "{name}: document {}: a {}, not a purchase_order",
                        i + 1,
                        other.document_type()
                    ),
                    Err(e) => bail!("{name}: document {}: not a purchase order: {e}", i + 1),
                },
            )
            .collect()
    };
    let sent = orders(&sent_name, &sent_docs)?;
    orders(file, docs)?
        .iter()
        .map(|now| {
            let Some(before) = sent.iter().find(|o| o.po_number == now.po_number) else {
                bail!("{file}: order {} is not in {sent_name}", now.po_number);
            };
            let change = PoChange::between(before, now).with_context(|| file.to_string())?;
            Ok(serde_json::to_value(Document::PoChange(change))?)
        })
        .collect()
}
