//! `dropgate orders` and `dropgate exceptions`: the order lifecycle, its
//! exceptions and the measures, as the console shows them, in a terminal.

use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};

use super::gateway::ConfigArg;
use crate::daemon::{orders, watch};
use crate::lifecycle::measures::{self, Measures, Timing, hours_text, percent_text};
use crate::lifecycle::{Order, OrderState};
use crate::store::{ExceptionFilter, OrderFilter};

/// Arguments of `dropgate orders`.
#[derive(Debug, clap::Args)]
pub struct OrdersArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// One order's timeline: its PO number (with --partner when two
    /// partners have it).
    po_number: Option<String>,
    /// This partner's orders only.
    #[arg(long)]
    partner: Option<String>,
    /// Orders in this state only (sent, acknowledged, accepted,
    /// backordered, partly-shipped, shipped, invoiced, reconciled, held,
    /// rejected, cancelled, unknown-po).
    #[arg(long)]
    state: Option<String>,
    /// Orders first seen in the last N days.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// How many, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// The measures per partner over the period, instead of the list.
    #[arg(long)]
    measures: bool,
}

/// Arguments of `dropgate exceptions`.
#[derive(Debug, clap::Args)]
pub struct ExceptionsArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Closed ones too.
    #[arg(long)]
    all: bool,
    /// This partner's only.
    #[arg(long)]
    partner: Option<String>,
    /// Check the rules now (as the running daemon does every
    /// `[alerts] check_every`) before listing.
    #[arg(long)]
    check: bool,
    /// How many, newest first.
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

fn timing(t: &Timing) -> String {
    format!(
        "median {}, p90 {} ({} orders)",
        hours_text(t.median_secs),
        hours_text(t.p90_secs),
        t.count
    )
}

/// The measures as lines of text.
pub fn describe_measures(m: &Measures) -> Vec<String> {
    vec![
        format!("orders                  {}", m.orders),
        format!("order to 997            {}", timing(&m.turnaround_997)),
        format!("order to acknowledgment {}", timing(&m.order_to_ack)),
        format!("order to ship           {}", timing(&m.order_to_ship)),
        format!(
            "fill rate               {} ({} of {} units)",
            percent_text(m.fill.ratio()),
            m.fill.part.normalize(),
            m.fill.whole.normalize()
        ),
        format!(
            "on-time shipment        {} ({} of {})",
            percent_text(m.on_time.ratio()),
            m.on_time.part,
            m.on_time.whole
        ),
        format!(
            "perfect orders          {} ({} of {} invoiced)",
            percent_text(m.perfect.ratio()),
            m.perfect.part,
            m.perfect.whole
        ),
        format!(
            "invoice variance        {} ({} of {} invoices)",
            percent_text(m.invoice_variance.ratio()),
            m.invoice_variance.part,
            m.invoice_variance.whole
        ),
    ]
}

fn shipped(o: &Order) -> String {
    let ordered: rust_decimal::Decimal = o.lines.iter().map(|l| l.ordered).sum();
    let shipped: rust_decimal::Decimal = o.lines.iter().map(|l| l.shipped).sum();
    format!("{}/{}", shipped.normalize(), ordered.normalize())
}

/// Runs `dropgate orders`.
pub fn orders(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    let state = match &args.state {
        Some(s) => Some(OrderState::parse(s).ok_or_else(|| {
            anyhow::anyhow!(
                "--state {s:?}: one of {}",
                OrderState::ALL.map(OrderState::as_str).join(", ")
            )
        })?),
        None => None,
    };
    let mut gateway = args.config.open()?;
    let store = gateway.store();
    if let Some(po) = &args.po_number {
        let mut keys = store.order_keys(&OrderFilter {
            partner: args.partner.clone(),
            po_number: Some(po.clone()),
            ..OrderFilter::default()
        })?;
        keys.retain(|k| &k.po_number == po);
        if keys.is_empty() {
            anyhow::bail!("no order {po} is known");
        }
        for k in keys {
            let Some(o) = orders::order(store, &k.partner, &k.po_number)? else {
                continue;
            };
            say!(
                "purchase order {} for {}: {}",
                o.po_number,
                o.partner,
                o.state
            );
            if let Some(due) = o.due {
                say!("  due to ship by {due}");
            }
            if !o.tracking.is_empty() {
                say!("  tracking {}", o.tracking.join(", "));
            }
            for (i, l) in o.lines.iter().enumerate() {
                say!(
                    "  line {:<6} {:<16} ordered {:>6}  shipped {:>6}  invoiced {:>6}  {}",
                    l.line_number
                        .clone()
                        .unwrap_or_else(|| format!("#{}", i + 1)),
                    l.sku.as_deref().unwrap_or("-"),
                    l.ordered.normalize(),
                    l.shipped.normalize(),
                    l.invoiced.normalize(),
                    l.state.as_str()
                );
            }
            for e in &o.timeline {
                let file = e
                    .file
                    .map(|(f, s)| format!(" (file {f}, document {s})"))
                    .unwrap_or_default();
                say!(
                    "  {}  {:<7} {}{file}",
                    &e.at.format("%Y-%m-%d %H:%M:%S"),
                    e.kind,
                    e.summary
                );
            }
            let open = store.exceptions(&ExceptionFilter {
                open_only: true,
                partner: Some(o.partner.clone()),
                po_number: Some(o.po_number.clone()),
                limit: 0,
            })?;
            for e in open {
                say!("  exception #{} {}: {}", e.id, e.kind, e.reason);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let now = Utc::now();
    let since = (now - Duration::days(args.days.max(0)))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let filter = OrderFilter {
        partner: args.partner.clone(),
        since: Some(since),
        ..OrderFilter::default()
    };
    let mut list = orders::list(store, &filter)?;
    if args.measures {
        let mut partners: Vec<String> = list.iter().map(|o| o.partner.clone()).collect();
        partners.sort();
        partners.dedup();
        for p in partners {
            say!("{p} (the last {} days)", args.days);
            let m = measures::measure(list.iter().filter(|o| o.partner == p), now);
            for line in describe_measures(&m) {
                say!("  {line}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = state {
        list.retain(|o| o.state == s);
    }
    say!(
        "{:<14} {:<12} {:<15} {:<20} {:>9}  tracking",
        "PO",
        "partner",
        "state",
        "sent",
        "shipped"
    );
    for o in list.iter().take(args.limit) {
        say!(
            "{:<14} {:<12} {:<15} {:<20} {:>9}  {}",
            o.po_number,
            o.partner,
            o.state.as_str(),
            o.sent_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "-".into()),
            shipped(o),
            o.tracking.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `dropgate exceptions`.
pub fn exceptions(args: ExceptionsArgs) -> anyhow::Result<ExitCode> {
    let mut gateway = args.config.open()?;
    if args.check {
        let config = gateway.config().clone();
        let now = Utc::now();
        // A feed never received is missing however long ago the gateway
        // started (the running daemon counts from its start).
        let c = watch::check(&config, gateway.store(), now, DateTime::<Utc>::MIN_UTC)?;
        say!(
            "checked: {} opened, {} closed, {} open",
            c.opened.len(),
            c.closed,
            c.open
        );
    }
    let list = gateway.store().exceptions(&ExceptionFilter {
        open_only: !args.all,
        partner: args.partner.clone(),
        po_number: None,
        limit: args.limit,
    })?;
    for e in &list {
        let state = match &e.closed {
            Some((at, why)) => format!("closed {at}: {why}"),
            None => format!("open since {}", e.opened_at),
        };
        let about = match (&e.partner, &e.po_number) {
            (Some(p), Some(po)) => format!("{p} PO {po}"),
            (Some(p), None) => format!("{p} {}", e.subject),
            _ => e.subject.clone(),
        };
        say!("#{:<5} {:<28} {:<24} {}", e.id, e.kind, about, state);
        say!("       {}", e.reason);
    }
    if list.is_empty() {
        say!("no {}exceptions", if args.all { "" } else { "open " });
    }
    Ok(ExitCode::SUCCESS)
}
