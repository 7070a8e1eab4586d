//! Orders: the list with filters (partner, state, PO number, how many
//! days back) and an order's page: its state, due date and tracking
//! numbers, its lines, its timeline (the PO, 997, 855, each ship notice,
//! each invoice with its reconciliation, each linked to its file) and its
//! exceptions. What an order is comes from `daemon::orders`, followed by
//! `lifecycle`, as `dropgate orders` shows it.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::User;
use super::exceptions::exception_row;
use super::{PageError, Shared, layout};
use crate::daemon::orders;
use crate::lifecycle::{Order, OrderState};
use crate::store::{ExceptionFilter, ExceptionRecord, InvoiceHold, OrderFilter};

/// How many orders a page lists.
const PAGE: usize = 100;

/// The list's filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    po: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    page: String,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// An order state's badge.
pub fn badge(s: OrderState) -> Markup {
    html! { span .state .(s.as_str()) data-order-state=(s.as_str()) { (s.as_str()) } }
}

/// The link to an order's page.
pub fn href(partner: &str, po: &str) -> String {
    format!(
        "/orders/{}/{}",
        url::form_urlencoded::byte_serialize(partner.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(po.as_bytes()).collect::<String>()
    )
}

fn units(o: &Order) -> String {
    let ordered: rust_decimal::Decimal = o.lines.iter().map(|l| l.ordered).sum();
    let shipped: rust_decimal::Decimal = o.lines.iter().map(|l| l.shipped).sum();
    format!("{} of {}", shipped.normalize(), ordered.normalize())
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> Markup {
    match t {
        Some(t) => layout::when(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        None => html! { "-" },
    }
}

/// `GET /orders`.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    user: User,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let days: i64 = filters.days.trim().parse().unwrap_or(30).clamp(1, 3650);
    let page: usize = filters.page.trim().parse().unwrap_or(0);
    let state = OrderState::parse(filters.state.trim());
    let partner = given(&filters.partner);
    let po = given(&filters.po);
    let (found, partners, open) = shared
        .read(move |parts, store| {
            let since = (chrono::Utc::now() - chrono::Duration::days(days))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            // A state is known only once an order is followed: filtered
            // after, over the period's orders.
            let filter = OrderFilter {
                partner,
                po_number: po,
                since: Some(since),
                limit: if state.is_some() { 0 } else { PAGE + 1 },
                offset: if state.is_some() { 0 } else { page * PAGE },
                ..OrderFilter::default()
            };
            let mut found = orders::list(store, &filter)?;
            if let Some(s) = state {
                found.retain(|o| o.state == s);
                found = found.into_iter().skip(page * PAGE).take(PAGE + 1).collect();
            }
            let open = store.exceptions(&ExceptionFilter {
                open_only: true,
                ..ExceptionFilter::default()
            })?;
            let partners: Vec<String> =
                parts.config.partners.iter().map(|p| p.id.clone()).collect();
            Ok((found, partners, open))
        })
        .await?;
    let more = found.len() > PAGE;
    let open_of = |o: &Order| {
        open.iter()
            .filter(|e| {
                e.partner.as_deref() == Some(&o.partner)
                    && e.po_number.as_deref() == Some(&o.po_number)
            })
            .count()
    };
    let next = |p: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("partner", &filters.partner),
            ("state", &filters.state),
            ("po", &filters.po),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.append_pair("days", &days.to_string());
        q.append_pair("page", &p.to_string());
        format!("/orders?{}", q.finish())
    };
    let body = html! {
        form #order-filters .filters method="get" action="/orders" data-autosubmit="" {
            label { "PO number" input #order-search type="search" name="po" value=(filters.po) placeholder="4711"; }
            label { "Partner"
                select #order-partner name="partner" {
                    option value="" { "any" }
                    @for p in &partners {
                        option value=(p) selected[filters.partner == *p] { (p) }
                    }
                }
            }
            label { "State"
                select #order-state name="state" {
                    option value="" { "any" }
                    @for s in OrderState::ALL {
                        option value=(s.as_str()) selected[filters.state == s.as_str()] { (s.as_str()) }
                    }
                }
            }
            label { "Days back" input #order-days type="number" min="1" name="days" value=(days); }
            button #order-filter type="submit" { "Find" }
        }
        @if found.is_empty() {
            p #no-orders .note { "No order matches." }
        } @else {
            table #orders {
                tr { th { "PO" } th { "Partner" } th { "State" } th { "Sent" } th { "Shipped" } th { "Tracking" } th { "Exceptions" } }
                @for o in found.iter().take(PAGE) {
                    tr .order data-po=(o.po_number) data-partner=(o.partner) {
                        td { a .order-link href=(href(&o.partner, &o.po_number)) { (o.po_number) } }
                        td { (o.partner) }
                        td { (badge(o.state)) }
                        td { (when(o.sent_at)) }
                        td { (units(o)) }
                        td .tracking { (o.tracking.join(", ")) }
                        td { @match open_of(o) { 0 => "", n => span .exceptions-count { (n) } } }
                    }
                }
            }
            p .pages {
                @if page > 0 { a #orders-previous href=(next(page - 1)) { "Newer" } " " }
                @if more { a #orders-next href=(next(page + 1)) { "Older" } }
            }
        }
    };
    Ok(layout::page(&user, "/orders", "Orders", body).into_response())
}

/// `GET /orders/{partner}/{po}`.
pub async fn page(
    State(shared): State<Arc<Shared>>,
    user: User,
    Path((partner, po)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (p, n) = (partner.clone(), po.clone());
    let (order, exceptions) = shared
        .read(move |_, store| {
            let order = orders::order(store, &p, &n)?;
            let exceptions = store.exceptions(&ExceptionFilter {
                partner: Some(p),
                po_number: Some(n),
                ..ExceptionFilter::default()
            })?;
            Ok((order, exceptions))
        })
        .await?;
    let Some(o) = order else {
        return Err(PageError::NotFound(format!(
            "No order {po} of {partner} is known: nothing was sent or received under that number."
        )));
    };
    let body = html! {
        dl #order-summary .summary {
            dt { "Partner" } dd #order-partner-name { (o.partner) }
            dt { "State" } dd #order-state-now { (badge(o.state)) }
            dt { "Sent" } dd { (when(o.sent_at)) }
            dt { "Due to ship" } dd #order-due { @match o.due { Some(d) => (d.to_string()), None => "-" } }
            dt { "Tracking" } dd #tracking {
                @if o.tracking.is_empty() { "-" }
                @for t in &o.tracking { span .tracking-number data-tracking=(t) { (t) } " " }
            }
        }
        @let open: Vec<&ExceptionRecord> = exceptions.iter().filter(|e| e.closed.is_none()).collect();
        @if !open.is_empty() {
            h2 { "Needs attention" }
            ul #order-open-exceptions .exceptions {
                @for e in &open { li data-kind=(e.kind) { strong { (e.kind) } ": " (e.reason) } }
            }
        }
        h2 { "Lines" }
        @if o.lines.is_empty() {
            p .note { "The order's lines are not known (no order was sent under this number)." }
        } @else {
            table #order-lines {
                tr { th { "Line" } th { "Item" } th { "Description" } th { "Ordered" } th { "Promised" } th { "Shipped" } th { "Invoiced" } th { "State" } }
                @for (i, l) in o.lines.iter().enumerate() {
                    tr .line {
                        td { (l.line_number.clone().unwrap_or_else(|| format!("#{}", i + 1))) }
                        td { (l.sku.as_deref().unwrap_or("-")) }
                        td { (l.description.as_deref().unwrap_or("")) }
                        td { (l.ordered.normalize()) }
                        td { @match l.promised { Some(d) => (d.to_string()), None => "-" } }
                        td { (l.shipped.normalize()) }
                        td { (l.invoiced.normalize()) }
                        td { span .state .(l.state.as_str()) { (l.state.as_str()) } }
                    }
                }
            }
        }
        h2 { "Timeline" }
        ol #timeline .timeline {
            @for e in &o.timeline {
                li .event data-kind=(e.kind) {
                    span .kind { (e.kind) } " "
                    (layout::when(&e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))) " "
                    span .summary { (e.summary) }
                    @if let Some((file, seq)) = e.file {
                        " " a .file-link href={ "/files/" (file) } { "file " (file) } " (document " (seq) ")"
                    }
                }
            }
        }
        @let held: Vec<_> = o.invoices.iter().filter(|i| i.hold == InvoiceHold::Held).collect();
        @if !held.is_empty() {
            h2 { "Held invoices" }
            @for i in held {
                div .held-invoice {
                    "Invoice " (i.number) " ("
                    @match i.status { Some(s) => (s.name()), None => "not reconciled" }
                    ", " (i.variances) " variance(s)) "
                    (layout::action(&user, &format!("/invoices/{}:{}/release", i.file_id, i.seq),
                        &format!("release-{}-{}", i.file_id, i.seq), "Release",
                        "Release this invoice to the relay as it is, variance and all?", &[]))
                }
            }
        }
        @if !exceptions.is_empty() {
            h2 { "Exceptions" }
            table #order-exceptions {
                tr { th { "#" } th { "Kind" } th { "Reason" } th { "Opened" } th { "Now" } }
                @for e in &exceptions { (exception_row(e, false)) }
            }
        }
    };
    let title = format!("Purchase order {po}");
    Ok(layout::page(&user, "/orders", &title, body).into_response())
}
