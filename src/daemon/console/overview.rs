//! The overview: files by state, deliveries waiting and failing, invoices
//! held, documents set aside for a person, and the quarantine's newest
//! files; each figure leads to its page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::auth::User;
use super::{PageError, Parts, Shared, layout};
use crate::store::{FileSearch, FileState, Invoices, Store};

/// What the overview shows, read in one go.
struct Figures {
    by_state: Vec<(FileState, u64)>,
    waiting: u64,
    failing: u64,
    held: usize,
    set_aside: usize,
    quarantined: Vec<crate::store::FileRecord>,
    more: Vec<Markup>,
}

fn figures(parts: &Parts, store: &mut dyn Store) -> Result<Figures, PageError> {
    Ok(Figures {
        by_state: store.count_by_state()?,
        waiting: store.pending_deliveries()?,
        failing: store.failing_deliveries()?.len() as u64,
        held: store.invoices(Invoices::Held)?.len(),
        set_aside: store.set_aside()?.len(),
        quarantined: store.search_files(&FileSearch {
            state: Some(FileState::Quarantined),
            limit: 5,
            ..FileSearch::default()
        })?,
        more: more_sections(parts, store)?,
    })
}

/// Further sections of the overview, after the figures of files,
/// deliveries and invoices: what needs attention (the open exceptions)
/// and the orders and measures per vendor ([`super::exceptions`]).
fn more_sections(parts: &Parts, store: &mut dyn Store) -> Result<Vec<Markup>, PageError> {
    super::exceptions::overview_sections(parts, store)
}

/// A figure that leads to its page.
fn card(id: &str, figure: impl std::fmt::Display, label: &str, href: &str) -> Markup {
    html! {
        div id=(id) data-figure=(id) {
            a href=(href) {
                div .figure { (figure.to_string()) }
                div .label { (label) }
            }
        }
    }
}

/// `GET /`.
pub async fn page(State(shared): State<Arc<Shared>>, user: User) -> Result<Response, PageError> {
    let f = shared.read(figures).await?;
    let count = |s: FileState| {
        f.by_state
            .iter()
            .find(|(state, _)| *state == s)
            .map_or(0, |(_, n)| *n)
    };
    let total: u64 = f.by_state.iter().map(|(_, n)| n).sum();
    let body = html! {
        h2 { "Files" }
        div .cards #files-by-state {
            (card("files-total", total, "files received", "/files"))
            @for s in [FileState::Processed, FileState::Received, FileState::Quarantined, FileState::Duplicate, FileState::Ignored] {
                (card(&format!("files-{}", s.as_str()), count(s), s.as_str(), &format!("/files?state={}", s.as_str())))
            }
        }
        h2 { "Waiting for something" }
        div .cards {
            (card("deliveries-waiting", f.waiting, "deliveries waiting", "/deliveries"))
            (card("deliveries-failing", f.failing, "deliveries failing (retried)", "/deliveries"))
            (card("invoices-held", f.held, "invoices held (a variance)", "/invoices"))
            (card("set-aside", f.set_aside, "documents set aside for a person (NetSuite; dropgate netsuite attention)", "/deliveries#set-aside"))
        }
        @if !f.quarantined.is_empty() {
            h2 { "Newest in quarantine" }
            table #overview-quarantine {
                tr { th { "#" } th { "Received" } th { "Partner" } th { "Name" } th { "Reason" } }
                @for file in &f.quarantined {
                    tr data-file-id=(file.id) {
                        td { a href={ "/files/" (file.id) } { (file.id) } }
                        td { (layout::when(&file.received_at)) }
                        td { (file.partner.as_deref().unwrap_or("-")) }
                        td { (file.name) }
                        td { (layout::first_lines(file.detail.as_deref().unwrap_or(""), 2)) }
                    }
                }
            }
            p { a href="/quarantine" { "The whole quarantine" } }
        }
        @for section in &f.more {
            (section)
        }
    };
    Ok(layout::page(&user, "/", "Overview", body).into_response())
}
