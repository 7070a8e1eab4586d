//! Exceptions: the open ones (or all, with `?all=1`), by partner, each
//! with its reason, when it opened and what closed it, linked to its
//! order or file; and the overview's sections: what needs attention and
//! the measures per vendor, drawn as bars (inline SVG made here, no
//! script).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::User;
use super::orders::href;
use super::{PageError, Parts, Shared, layout};
use crate::daemon::orders;
use crate::lifecycle::measures::{self, Measures, Timing, hours_text, percent_text};
use crate::store::{ExceptionFilter, ExceptionRecord, OrderFilter, Store};

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    all: String,
    #[serde(default)]
    partner: String,
}

/// Where an exception's subject is seen.
fn subject_link(e: &ExceptionRecord) -> Markup {
    match (&e.partner, &e.po_number) {
        (Some(p), Some(po)) => {
            html! { a .order-link href=(href(p, po)) { "PO " (po) } " (" (p) ")" }
        }
        _ => match e.subject.strip_prefix("file:") {
            Some(id) => html! { a href={ "/files/" (id) } { "file " (id) } },
            None => match e.subject.strip_prefix("delivery:") {
                Some(id) => html! { a href="/deliveries" { "delivery " (id) } },
                None => html! { (e.subject) },
            },
        },
    }
}

/// An exception's row: its number, what it is about (`with_subject`),
/// kind, reason, when it opened, and what closed it.
pub fn exception_row(e: &ExceptionRecord, with_subject: bool) -> Markup {
    html! {
        tr .exception data-exception-id=(e.id) data-kind=(e.kind) {
            td { (e.id) }
            @if with_subject { td { (subject_link(e)) } }
            td { span .kind { (e.kind) } }
            td { (e.reason) }
            td { (layout::when(&e.opened_at)) }
            td {
                @match &e.closed {
                    Some((at, why)) => { "closed " (layout::when(at)) ": " (why) },
                    None => span .open { "open" },
                }
            }
        }
    }
}

/// `GET /exceptions`.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    user: User,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let all = !filters.all.trim().is_empty();
    let partner = Some(filters.partner.trim().to_string()).filter(|p| !p.is_empty());
    let list = shared
        .read(move |_, store| {
            Ok(store.exceptions(&ExceptionFilter {
                open_only: !all,
                partner,
                po_number: None,
                limit: 500,
            })?)
        })
        .await?;
    let body = html! {
        p .links {
            @if all { a #exceptions-open-only href="/exceptions" { "Open ones only" } }
            @else { a #exceptions-all href="/exceptions?all=1" { "Closed ones too" } }
        }
        @if list.is_empty() {
            p #no-exceptions .note { @if all { "No exception yet." } @else { "Nothing needs attention." } }
        } @else {
            table #exceptions {
                tr { th { "#" } th { "About" } th { "Kind" } th { "Reason" } th { "Opened" } th { "Now" } }
                @for e in &list { (exception_row(e, true)) }
            }
        }
    };
    let title = if all { "Exceptions" } else { "Open exceptions" };
    Ok(layout::page(&user, "/exceptions", title, body).into_response())
}

/// How far back the overview measures.
const MEASURED_DAYS: i64 = 30;

/// The overview's sections: the open exceptions ("N orders need your
/// attention"), and the measures per vendor with their bars.
pub fn overview_sections(_parts: &Parts, store: &mut dyn Store) -> Result<Vec<Markup>, PageError> {
    let open = store.exceptions(&ExceptionFilter {
        open_only: true,
        ..ExceptionFilter::default()
    })?;
    let mut orders_open: Vec<(&str, &str)> = open
        .iter()
        .filter_map(|e| Some((e.partner.as_deref()?, e.po_number.as_deref()?)))
        .collect();
    orders_open.sort_unstable();
    orders_open.dedup();
    let attention = html! {
        section .card #attention {
            h2 { "Needs attention" }
            p #attention-summary {
                @match (orders_open.len(), open.len()) {
                    (_, 0) => "Nothing needs attention.",
                    (1, n) => { "1 order needs your attention (" (n) " open exception(s))." },
                    (o, n) => { (o) " orders need your attention (" (n) " open exception(s))." },
                }
            }
            @if !open.is_empty() {
                table #overview-exceptions {
                    tr { th { "About" } th { "Kind" } th { "Reason" } th { "Opened" } }
                    @for e in open.iter().take(10) {
                        tr .exception data-kind=(e.kind) {
                            td { (subject_link(e)) }
                            td { (e.kind) }
                            td { (e.reason) }
                            td { (layout::when(&e.opened_at)) }
                        }
                    }
                }
                p { a href="/exceptions" { "All open exceptions" } }
            }
        }
    };
    let measures = period_sections(store, MEASURED_DAYS, false)?;
    Ok(vec![attention, measures])
}

/// The orders of the last `days` by state and the measures per vendor
/// as bars (with `table`, their exact figures too).
fn period_sections(store: &mut dyn Store, days: i64, table: bool) -> Result<Markup, PageError> {
    let now = chrono::Utc::now();
    let since =
        (now - chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let followed = orders::list(
        store,
        &OrderFilter {
            since: Some(since),
            ..OrderFilter::default()
        },
    )?;
    let mut partners: Vec<&str> = followed.iter().map(|o| o.partner.as_str()).collect();
    partners.sort_unstable();
    partners.dedup();
    let measured: Vec<(&str, Measures)> = partners
        .iter()
        .map(|p| {
            (
                *p,
                measures::measure(followed.iter().filter(|o| o.partner == *p), now),
            )
        })
        .collect();
    let states: Vec<(crate::lifecycle::OrderState, usize)> = crate::lifecycle::OrderState::ALL
        .iter()
        .map(|s| (*s, followed.iter().filter(|o| o.state == *s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(html! {
        section .card #orders-by-state {
            h2 { "Orders of the last " (days) " days" }
            div .cards {
                @for (s, n) in &states {
                    div data-figure={ "orders-" (s.as_str()) } {
                        a href={ "/orders?days=" (days) "&state=" (s.as_str()) } {
                            div .figure { (n) }
                            div .label { (s.as_str()) }
                        }
                    }
                }
            }
        }
        section .card #measures {
            h2 { "Measures per vendor (the last " (days) " days)" }
            @if measured.is_empty() {
                p .note { "No order in the period." }
            } @else {
                div .charts {
                    (rate_chart("fill-rate", "Fill rate", &measured, |m| m.fill.ratio()))
                    (rate_chart("on-time", "On-time shipment", &measured, |m| m.on_time.ratio()))
                    (rate_chart("perfect", "Perfect orders", &measured, |m| m.perfect.ratio()))
                    (rate_chart("variance", "Invoices with a variance", &measured, |m| m.invoice_variance.ratio()))
                    (time_chart("to-997", "Order to 997", &measured, |m| &m.turnaround_997))
                    (time_chart("to-ack", "Order to acknowledgment", &measured, |m| &m.order_to_ack))
                    (time_chart("to-ship", "Order to ship", &measured, |m| &m.order_to_ship))
                }
                @if table {
                    table #measures-table {
                        tr { th { "Vendor" } th { "Orders" } th { "Fill rate" } th { "On time" } th { "Perfect" } th { "Invoice variance" } th { "To 997" } th { "To 855" } th { "To ship" } }
                        @for (p, m) in &measured {
                            tr data-partner=(p) {
                                td { (p) }
                                td { (m.orders) }
                                td { (percent_text(m.fill.ratio())) " (" (m.fill.part.normalize()) " of " (m.fill.whole.normalize()) " units)" }
                                td { (percent_text(m.on_time.ratio())) " (" (m.on_time.part) " of " (m.on_time.whole) ")" }
                                td { (percent_text(m.perfect.ratio())) " (" (m.perfect.part) " of " (m.perfect.whole) ")" }
                                td { (percent_text(m.invoice_variance.ratio())) " (" (m.invoice_variance.part) " of " (m.invoice_variance.whole) ")" }
                                @for t in [&m.turnaround_997, &m.order_to_ack, &m.order_to_ship] {
                                    td { "median " (hours_text(t.median_secs)) ", p90 " (hours_text(t.p90_secs)) }
                                }
                            }
                        }
                    }
                }
            }
            @if !table { p { a #measures-period href="/measures" { "Other periods, and the figures" } } }
        }
    })
}

/// The measures page's period.
#[derive(Debug, Default, Deserialize)]
pub struct Period {
    #[serde(default)]
    days: String,
}

/// `GET /measures?days=N`: the orders and measures of a chosen period.
pub async fn measures_page(
    State(shared): State<Arc<Shared>>,
    user: User,
    Query(period): Query<Period>,
) -> Result<Response, PageError> {
    let days: i64 = period.days.trim().parse().unwrap_or(30).clamp(1, 3650);
    let sections = shared
        .read(move |_, store| period_sections(store, days, true))
        .await?;
    let body = html! {
        form #measures-filters .filters method="get" action="/measures" data-autosubmit="" {
            label { "The last"
                select #measures-days name="days" {
                    @for d in [7, 30, 90, 365] {
                        option value=(d) selected[d == days] { (d) " days" }
                    }
                    @if ![7, 30, 90, 365].contains(&days) { option value=(days) selected { (days) " days" } }
                }
            }
            button #measures-apply type="submit" { "Show" }
        }
        (sections)
    };
    Ok(layout::page(&user, "/measures", "Measures", body).into_response())
}

/// The width of a chart's bar area, in SVG units.
const BAR: f64 = 200.0;

/// Horizontal bars, one per vendor (SVG presentation attributes only: the
/// console's policy allows no inline style).
fn bars(id: &str, title: &str, rows: &[(&str, f64, String)]) -> Markup {
    let height = 22 * rows.len() + 4;
    html! {
        figure .chart id=(format!("chart-{id}")) data-chart=(id) {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" width="360" height=(height) viewBox={ "0 0 360 " (height) } role="img" aria-label=(title) {
                @for (i, (name, share, label)) in rows.iter().enumerate() {
                    @let y = 22 * i + 2;
                    text x="0" y=(y + 14) font-size="12" fill="currentColor" { (name) }
                    rect x="90" y=(y + 3) width=(format!("{:.1}", BAR * share.clamp(0.0, 1.0))) height="14" fill="#3b6ea5" {}
                    text x=(format!("{:.1}", 96.0 + BAR * share.clamp(0.0, 1.0))) y=(y + 14) font-size="12" fill="currentColor" data-value=(label) { (label) }
                }
            }
        }
    }
}

fn rate_chart(
    id: &str,
    title: &str,
    measured: &[(&str, Measures)],
    get: fn(&Measures) -> Option<f64>,
) -> Markup {
    let rows: Vec<(&str, f64, String)> = measured
        .iter()
        .map(|(p, m)| (*p, get(m).unwrap_or(0.0), percent_text(get(m))))
        .collect();
    bars(id, title, &rows)
}

fn time_chart(
    id: &str,
    title: &str,
    measured: &[(&str, Measures)],
    get: fn(&Measures) -> &Timing,
) -> Markup {
    let longest = measured
        .iter()
        .filter_map(|(_, m)| get(m).p90_secs)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let rows: Vec<(&str, f64, String)> = measured
        .iter()
        .map(|(p, m)| {
            let t = get(m);
            (
                *p,
                t.median_secs.unwrap_or(0) as f64 / longest,
                format!(
                    "median {}, p90 {}",
                    hours_text(t.median_secs),
                    hours_text(t.p90_secs)
                ),
            )
        })
        .collect();
    bars(id, title, &rows)
}
