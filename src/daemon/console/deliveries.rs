//! Deliveries waiting in the outbox (target, key, attempts, last error,
//! next attempt), each with a "Retry now" (its next attempt set to now,
//! the delivery workers rung), and the documents set aside for a person.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::auth::{Flash, TokenForm, User};
use super::{PageError, Shared, layout};
use crate::store::{Durability, Outbox, OutboxEntry};

/// Deliveries listed at most.
const LISTED: usize = 500;

/// When a delivery is tried next, for people.
fn next_attempt(d: &OutboxEntry, now: i64) -> String {
    let wait = d.next_try_at - now;
    match wait {
        _ if d.done_at.is_some() => "-".into(),
        ..=0 => "due now".into(),
        1..=119 => format!("in {wait} s"),
        120..=7199 => format!("in {} min", wait / 60),
        _ => format!("in {} h", wait / 3600),
    }
}

/// A table of deliveries, with a Retry now button for those not made.
pub fn table(user: &User, deliveries: &[&OutboxEntry], now: i64) -> Markup {
    html! {
        table .deliveries {
            tr { th .num { "#" } th { "Target" } th { "Name" } th { "Key" } th { "File" } th { "Queued" } th { "State" } th .num { "Attempts" } th { "Next attempt" } th { "Last error" } th {} }
            @for d in deliveries {
                tr id={ "delivery-" (d.id) } data-delivery-id=(d.id) data-target=(d.target) {
                    td .num { (d.id) }
                    td { (d.target) }
                    td { (d.name) }
                    td { code { (d.key) } }
                    td { @if let Some(f) = d.file_id { a href={ "/files/" (f) } { (f) } } @else { "-" } }
                    td { (layout::when(&d.created_at)) }
                    td { (super::files::delivery_state(d)) }
                    td .num { (d.attempts) }
                    td { (next_attempt(d, now)) }
                    td { pre { (d.last_error.as_deref().unwrap_or("")) } }
                    td {
                        @if d.done_at.is_none() {
                            (layout::action(user, &format!("/deliveries/{}/retry", d.id), &format!("retry-{}", d.id), "Retry now", "", &[]))
                        }
                    }
                }
            }
        }
    }
}

/// `GET /deliveries`.
pub async fn page(State(shared): State<Arc<Shared>>, user: User) -> Result<Response, PageError> {
    let (waiting, total, aside) = shared
        .read(|_, store| {
            Ok((
                store.outbox(Outbox::Waiting(LISTED))?,
                store.pending_deliveries()?,
                store.set_aside()?,
            ))
        })
        .await?;
    let now = chrono::Utc::now().timestamp();
    let failing: Vec<&OutboxEntry> = waiting.iter().filter(|d| d.attempts > 0).collect();
    let queued: Vec<&OutboxEntry> = waiting.iter().filter(|d| d.attempts == 0).collect();
    let body = html! {
        p #deliveries-summary { (total) " deliveries waiting, " (failing.len()) " of those listed failing." }
        @if total as usize > waiting.len() {
            p .note { "The " (waiting.len()) " due first are listed." }
        }
        h2 { "Failing (tried again with a growing wait)" }
        @if failing.is_empty() { p #no-failing .note { "None." } } @else {
            p .targets {
                @for target in targets(&failing) {
                    (layout::action(&user, "/deliveries/retry", &format!("retry-target-{target}"), &format!("Retry all to {target} now"),
                        "", &[("target", target)]))
                    " "
                }
            }
            (table(&user, &failing, now))
        }
        h2 { "Waiting" }
        @if queued.is_empty() { p .note { "None." } } @else { (table(&user, &queued, now)) }
        h2 #set-aside { "Set aside for a person" }
        @if aside.is_empty() {
            p .note { "None." }
        } @else {
            p .note { "NetSuite refused these documents' data; fix the cause, then dropgate netsuite retry ID." }
            table #set-aside-table {
                tr { th .num { "#" } th { "Target" } th { "File" } th { "Document" } th { "Set aside" } th .num { "Retries" } th { "Reason" } }
                @for a in &aside {
                    tr data-set-aside-id=(a.id) {
                        td .num { (a.id) }
                        td { (a.target) }
                        td { @if let Some(f) = a.file_id { a href={ "/files/" (f) } { (f) } } @else { "-" } }
                        td { (a.seq) }
                        td { (layout::when(&a.at)) }
                        td .num { (a.retries) }
                        td { pre { (a.reason) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(&user, "/deliveries", "Deliveries", body).into_response())
}

/// The targets of `deliveries`, each once, in order.
fn targets<'d>(deliveries: &[&'d OutboxEntry]) -> Vec<&'d str> {
    let mut out: Vec<&str> = Vec::new();
    for d in deliveries {
        if !out.contains(&d.target.as_str()) {
            out.push(&d.target);
        }
    }
    out
}

/// The form retrying every failing delivery to a target.
#[derive(Default, serde::Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    target: String,
}

/// Makes deliveries `ids` due now, in one transaction, each in its file's
/// audit trail with who asked: how many were still waiting.
fn retry_these(
    store: &mut dyn crate::store::Store,
    ids: &[i64],
    by: &str,
) -> Result<Vec<crate::store::Retried>, crate::store::StoreError> {
    store.atomically(Durability::Synced, |tx| {
        let mut retried = Vec::new();
        for id in ids {
            let Some(r) = tx.retry_now(*id)? else {
                continue;
            };
            if let Some(file) = r.file_id {
                tx.audit(
                    file,
                    "retry",
                    &format!(
                        "delivery {} to {} tried now, asked for by {by} in the console",
                        r.name, r.target
                    ),
                )?;
            }
            retried.push(r);
        }
        Ok(retried)
    })
}

/// `POST /deliveries/retry` (`target`): every failing delivery to the
/// target is due now (after an outage of the receiver is over).
pub async fn retry_target(
    State(shared): State<Arc<Shared>>,
    user: User,
    Form(form): Form<TargetForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = user.refused(&form.csrf) {
        return Ok(refused);
    }
    let by = user.name.clone();
    let target = form.target.clone();
    let retried = shared
        .write(move |_, store| {
            let ids: Vec<i64> = store
                .outbox(Outbox::Waiting(RETRIED_AT_ONCE))?
                .into_iter()
                .filter(|d| d.target == target && d.attempts > 0)
                .map(|d| d.id)
                .collect();
            Ok(retry_these(store, &ids, &by)?)
        })
        .await?;
    if !retried.is_empty() {
        shared.ring();
    }
    tracing::info!(target = %form.target, deliveries = retried.len(), user = %user.name, "deliveries retried now, from the console");
    let flash = if retried.is_empty() {
        Flash::refused(format!("No delivery to {} is failing.", form.target))
    } else {
        Flash::done(format!(
            "{} delivery(ies) to {} are tried now.",
            retried.len(),
            form.target
        ))
    };
    Ok(user.redirect(&shared, "/deliveries", flash))
}

/// The most deliveries one "retry all" makes due.
const RETRIED_AT_ONCE: usize = 10_000;

/// `POST /deliveries/{id}/retry`: the delivery is due now; its file's
/// audit trail says who asked.
pub async fn retry(
    State(shared): State<Arc<Shared>>,
    user: User,
    Path(id): Path<i64>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = user.refused(&form.csrf) {
        return Ok(refused);
    }
    let by = user.name.clone();
    let retried = shared
        .write(move |_, store| Ok(retry_these(store, &[id], &by)?.pop()))
        .await?;
    let flash = match retried {
        Some(r) => {
            shared.ring();
            tracing::info!(delivery = id, user = %user.name, "delivery retried now, from the console");
            Flash::done(format!("Delivery {} to {} is tried now.", r.name, r.target))
        }
        None => Flash::refused(format!(
            "Delivery {id} is not waiting (made already, or no such delivery)."
        )),
    };
    Ok(user.redirect(&shared, "/deliveries", flash))
}
