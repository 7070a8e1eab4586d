//! `dropgate render`: a canonical document in, the vendor's file out (the
//! outbound purchase order).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::mapping::OutboundMapping;
use crate::mapping::outbound::RenderOptions;

use super::translate::{MappingsDir, flavor};

/// Arguments of `render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The canonical JSON document (an object, or an array of them).
    pub file: PathBuf,
    /// The partner whose outbound mapping to use (`mappings/partners/P/`).
    #[arg(long, value_name = "P")]
    pub partner: Option<String>,
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

/// The one type of the documents (`"type"`; a purchase order when not
/// said).
fn document_type(docs: &[serde_json::Value]) -> anyhow::Result<crate::model::DocumentType> {
    let mut found = None;
    for d in docs {
        let t = crate::daemon::send::document_type(d).map_err(|e| anyhow::anyhow!("{e}"))?;
        match found {
            Some(f) if f != t => {
                bail!("the documents are of several types ({f} and {t}): render one type at a time")
            }
            _ => found = Some(t),
        }
    }
    Ok(found.unwrap_or(crate::model::DocumentType::PurchaseOrder))
}

/// Runs `render`.
pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let library = args.mappings.library()?;
    let to = flavor(&args.to)?.context("--to is x12, csv or xml")?;
    let (name, docs) = super::read_documents(&args.file)?;
    let loaded = match (&args.mapping, &args.partner) {
        (Some(m), _) => library.load(m)?,
        (None, Some(p)) => library.outbound_for(p, document_type(&docs)?, to)?,
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
