//! `dropgate reconcile`: an invoice checked against a purchase order and
//! its ship notices offline, as the gateway checks it, for a mapping
//! author (exit 0 matched, 1 a variance or no order, 2 unreadable input).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::model::{Document, Invoice, PurchaseOrder, ReconciliationStatus, ShipNotice};
use crate::reconcile::{Input, Order, Policy, describe, reconcile};

/// Arguments of `reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The invoice: a canonical JSON document, or an array of them (the
    /// output of `dropgate translate`); each invoice in it is reconciled.
    pub file: PathBuf,
    /// The purchase order sent (canonical JSON, one or an array): the one
    /// with the invoice's PO number is used.
    #[arg(long, value_name = "PO.json")]
    pub po: Option<PathBuf>,
    /// A ship notice received for the order (canonical JSON, one or an
    /// array); may be given more than once.
    #[arg(long, value_name = "ASN.json")]
    pub asn: Vec<PathBuf>,
    /// The partner whose `[reconcile]` policy applies (read with
    /// --config); default: exact prices, any charge.
    #[arg(long, value_name = "P")]
    pub partner: Option<String>,
    /// The gateway's configuration, for --partner.
    #[arg(long, short, value_name = "FILE", default_value = "gateway.toml")]
    pub config: PathBuf,
    /// Print the invoices with their `reconciliation` as a JSON array
    /// instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// The documents of a JSON file, each read as the model says.
fn documents(path: &std::path::Path) -> anyhow::Result<Vec<Document>> {
    let (name, values) = super::read_documents(path)?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<Document>(v)
                .with_context(|| format!("{name}: document {}: not a canonical document", i + 1))
        })
        .collect()
}

/// The documents of `path` of one type, or an error naming what else is
/// there.
fn of_type<T>(
    path: &std::path::Path,
    want: &str,
    pick: impl Fn(Document) -> Result<T, Box<Document>>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    for (i, doc) in documents(path)?.into_iter().enumerate() {
        match pick(doc) {
            Ok(t) => out.push(t),
            Err(other) => bail!(
                "{}: document {} is a {}, not {want}",
                path.display(),
                i + 1,
                other.document_type()
            ),
        }
    }
    Ok(out)
}

/// Runs `reconcile`.
pub fn run(args: ReconcileArgs) -> anyhow::Result<ExitCode> {
    let invoices = of_type(&args.file, "an invoice", |d| match d {
        Document::Invoice(i) => Ok(i),
        other => Err(Box::new(other)),
    })?;
    if invoices.is_empty() {
        bail!("{}: no invoice in it", args.file.display());
    }
    let orders: Vec<PurchaseOrder> = match &args.po {
        Some(p) => of_type(p, "a purchase_order", |d| match d {
            Document::PurchaseOrder(o) => Ok(o),
            other => Err(Box::new(other)),
        })?,
        None => Vec::new(),
    };
    let mut notices: Vec<ShipNotice> = Vec::new();
    for path in &args.asn {
        notices.extend(of_type(path, "a ship_notice", |d| match d {
            Document::ShipNotice(n) => Ok(n),
            other => Err(Box::new(other)),
        })?);
    }
    let policy = match &args.partner {
        Some(p) => {
            let config = crate::config::load(&args.config).map_err(|e| {
                for problem in &e.0 {
                    eprintln!("{problem}");
                }
                anyhow::anyhow!("{}: {} problem(s)", args.config.display(), e.0.len())
            })?;
            config
                .partners
                .iter()
                .find(|x| &x.id == p)
                .with_context(|| format!("no partner {p} in {}", args.config.display()))?
                .reconcile
                .clone()
        }
        None => Policy::default(),
    };
    let mut all_matched = true;
    let mut out: Vec<Invoice> = Vec::new();
    for invoice in invoices {
        let order = orders
            .iter()
            .find(|o| invoice.po_number.as_deref().map(str::trim) == Some(o.po_number.trim()));
        let r = reconcile(&Input {
            invoice: &invoice,
            order: order.map_or(Order::NotFound, Order::Sent),
            ship_notices: &notices,
            billed_before: &[],
            seen_before: &[],
            policy: &policy,
        });
        all_matched &= r.status == ReconciliationStatus::Matched;
        if !args.json {
            let held = match policy.holds(&r) {
                true => " (the gateway would hold it)",
                false => "",
            };
            say!("invoice {}{held}: {}", invoice.invoice_number, describe(&r));
        }
        out.push(Invoice {
            reconciliation: Some(r),
            ..invoice
        });
    }
    if args.json {
        let docs: Vec<Document> = out.into_iter().map(Document::Invoice).collect();
        say!("{}", serde_json::to_string_pretty(&docs)?);
    }
    Ok(match all_matched {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    })
}
