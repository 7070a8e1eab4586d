//! Invoices held by reconciliation (a variance), each with its variances
//! and a Release button: the release of `dropgate release` and of the
//! API ([`crate::daemon::invoices::release`]), recorded with the user's
//! name.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::auth::{Flash, TokenForm, User};
use super::{PageError, Shared, layout};
use crate::daemon::invoices::{ReleaseError, parse_id, release as release_invoice};
use crate::model::Reconciliation;
use crate::store::{InvoiceRecord, Invoices};

/// An invoice's reconciliation, read from its document as reconciled.
fn reconciliation(invoice: &InvoiceRecord) -> Option<Reconciliation> {
    let document: serde_json::Value = serde_json::from_str(&invoice.document).ok()?;
    serde_json::from_value(document.get("reconciliation")?.clone()).ok()
}

/// `GET /invoices`.
pub async fn page(State(shared): State<Arc<Shared>>, user: User) -> Result<Response, PageError> {
    let held = shared
        .read(|_, store| Ok(store.invoices(Invoices::Held)?))
        .await?;
    let body = html! {
        @if held.is_empty() {
            p #no-held .note { "No invoice is held." }
        } @else {
            table #held-invoices {
                tr { th { "Invoice" } th { "Partner" } th { "PO" } th { "File" } th { "Status" } th { "Variances" } th {} }
                @for i in &held {
                    @let id = format!("{}:{}", i.file_id, i.seq);
                    tr id={ "invoice-" (i.file_id) "-" (i.seq) } data-invoice-id=(id) {
                        td { (i.invoice_number) }
                        td { (i.partner) }
                        td { (i.po_number.as_deref().unwrap_or("-")) }
                        td { a href={ "/files/" (i.file_id) } { (i.file_id) } " (document " (i.seq) ")" }
                        td { (i.status) }
                        td {
                            @match reconciliation(i) {
                                Some(r) => ul .variances {
                                    @for v in &r.variances {
                                        li {
                                            strong { (v.kind.name()) } ": " (v.message)
                                            @if let (Some(e), Some(a)) = (&v.expected, &v.actual) { " (expected " (e) ", invoiced " (a) ")" }
                                        }
                                    }
                                },
                                None => "-",
                            }
                        }
                        td { (layout::action(&user, &format!("/invoices/{id}/release"), &format!("release-{}-{}", i.file_id, i.seq), "Release",
                            "Release this invoice to the relay as it is, variance and all?", &[])) }
                    }
                }
            }
        }
    };
    Ok(layout::page(&user, "/invoices", "Invoices held", body).into_response())
}

/// `POST /invoices/{FILE:DOC}/release`.
pub async fn release(
    State(shared): State<Arc<Shared>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = user.refused(&form.csrf) {
        return Ok(refused);
    }
    let Some((file, Some(seq))) = parse_id(&id) else {
        return Ok(user.redirect(
            &shared,
            "/invoices",
            Flash::refused(format!("{id:?} is not an invoice (FILE:DOC).")),
        ));
    };
    let by = user.name.clone();
    let released = shared
        .write(move |parts, store| Ok(release_invoice(store, &parts.config, file, Some(seq), &by)))
        .await?;
    let flash = match released {
        Ok(released) => {
            let queued = released.iter().any(|r| r.queued);
            if queued {
                shared.ring();
            }
            tracing::info!(invoice = %id, user = %user.name, queued, "invoice released from the console");
            match released.first() {
                Some(r) if r.queued => Flash::done(format!(
                    "Invoice {} is released and queued for the relay.",
                    r.invoice.invoice_number
                )),
                Some(r) => Flash::refused(format!(
                    "Invoice {} was not held (released before, or never held): nothing queued.",
                    r.invoice.invoice_number
                )),
                None => Flash::refused("No invoice there.".to_string()),
            }
        }
        Err(ReleaseError::NotFound(e)) => Flash::refused(e),
        Err(ReleaseError::Store(e)) => return Err(e.into()),
    };
    Ok(user.redirect(&shared, "/invoices", flash))
}
