//! Files: the list with its filters (partner, state, channel, dates, PO
//! number, control number, name), a file's page (where it came from, its
//! audit trail, the raw file, its canonical documents, the
//! acknowledgments sent for it and its other deliveries), the quarantine,
//! and the reprocess of a quarantined file (the rule of `dropgate
//! reprocess`: [`crate::daemon::put_back`]; the running translator takes
//! it up).

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::auth::{Flash, User};
use super::x12_view;
use super::{PageError, Parts, Shared, layout};
use crate::store::{
    AuditEntry, FileId, FileRecord, FileSearch, FileState, Outbox, OutboxEntry, Store,
};

/// Files listed per page.
const PAGE: usize = 50;

/// The most of a file shown on its page (its beginning, past that).
const SHOWN_BYTES: u64 = 2 << 20;

/// The largest file the console hands out whole.
const DOWNLOAD_BYTES: u64 = 64 << 20;

/// Documents shown on a file's page, and the most of each.
const SHOWN_DOCUMENTS: usize = 20;
const SHOWN_DOCUMENT_BYTES: usize = 256 << 10;

/// How long a reprocess waits for the daemon to take the file up, to say
/// what became of it.
const REPROCESS_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A search by control number reads the archived X12 files: at most this
/// many, and this much of each.
const SCANNED_FILES: usize = 500;
const SCANNED_BYTES: u64 = 4 << 20;

/// The filters of the list (`GET /files?...`); an empty field is no
/// filter.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Filters {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    channel: String,
    /// A date, `2026-12-01`: received on that day or after.
    #[serde(default)]
    from: String,
    /// A date: received on that day or before.
    #[serde(default)]
    to: String,
    #[serde(default)]
    po: String,
    /// ISA13, GS06 or ST02.
    #[serde(default)]
    control: String,
    /// Text in the file's name.
    #[serde(default)]
    q: String,
    /// The next page: files numbered below this.
    #[serde(default)]
    before: String,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl Filters {
    /// The store's search, and what could not be understood.
    fn search(&self) -> (FileSearch, Vec<String>) {
        let mut problems = Vec::new();
        let date = |s: &str, what: &str, problems: &mut Vec<String>| {
            let s = given(s)?;
            match chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push(format!("{what} {s:?}: a date like 2026-12-01"));
                    None
                }
            }
        };
        let state = given(&self.state).and_then(|s| {
            FileState::parse(&s).or_else(|| {
                problems.push(format!("state {s:?} is not a file state"));
                None
            })
        });
        let from = date(&self.from, "from", &mut problems);
        let to = date(&self.to, "to", &mut problems);
        let search = FileSearch {
            partner: given(&self.partner),
            state,
            channel: given(&self.channel),
            received_from: from.map(|d| d.format("%Y-%m-%d").to_string()),
            received_before: to
                .and_then(|d| d.succ_opt())
                .map(|d| d.format("%Y-%m-%d").to_string()),
            po_number: given(&self.po),
            name: given(&self.q),
            format: None,
            before_id: given(&self.before).and_then(|b| b.parse().ok()),
            limit: PAGE,
        };
        (search, problems)
    }

    /// The query string of these filters, with the page starting below
    /// `before`.
    fn query_before(&self, before: FileId) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("partner", &self.partner),
            ("state", &self.state),
            ("channel", &self.channel),
            ("from", &self.from),
            ("to", &self.to),
            ("po", &self.po),
            ("control", &self.control),
            ("q", &self.q),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.append_pair("before", &before.to_string());
        q.finish()
    }
}

/// What a search by control number looked through.
struct Scanned {
    files: usize,
    /// The search stopped at its bound before the oldest file: where to go
    /// on.
    stopped_before: Option<FileId>,
}

/// The X12 files of `search` holding control number `wanted`, read from
/// the archive (the store keeps no control number of a received file),
/// newest first, within [`SCANNED_FILES`].
fn by_control_number(
    parts: &Parts,
    store: &mut dyn Store,
    mut search: FileSearch,
    wanted: &str,
) -> Result<(Vec<FileRecord>, Scanned), PageError> {
    let want = search.limit;
    search.format = Some("x12".into());
    search.limit = 100;
    let mut found = Vec::new();
    let mut scanned = Scanned {
        files: 0,
        stopped_before: None,
    };
    loop {
        let batch = store.search_files(&search)?;
        let Some(last) = batch.last().map(|f| f.id) else {
            return Ok((found, scanned));
        };
        for file in batch {
            if found.len() >= want || scanned.files >= SCANNED_FILES {
                scanned.stopped_before = Some(file.id + 1);
                return Ok((found, scanned));
            }
            scanned.files += 1;
            if let Ok(bytes) = parts
                .archive
                .read_head(&file.archive_path, file.size.min(SCANNED_BYTES))
                && x12_view::holds_control_number(&bytes, wanted)
            {
                found.push(file);
            }
        }
        search.before_id = Some(last);
    }
}

/// The partners a filter offers: those configured.
fn partner_names(parts: &Parts) -> Vec<String> {
    parts.config.partners.iter().map(|p| p.id.clone()).collect()
}

/// `GET /files`.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    user: User,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let (search, problems) = filters.search();
    let control = given(&filters.control);
    let (files, scanned, partners, channels) = shared
        .read(move |parts, store| {
            let (files, scanned) = match &control {
                Some(c) => {
                    let (files, scanned) = by_control_number(parts, store, search, c)?;
                    (files, Some(scanned))
                }
                None => (store.search_files(&search)?, None),
            };
            let channels = parts
                .config
                .channels
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>();
            Ok((files, scanned, partner_names(parts), channels))
        })
        .await?;
    let next = match &scanned {
        Some(s) => s.stopped_before,
        None => (files.len() == PAGE)
            .then(|| files.last().map(|f| f.id))
            .flatten(),
    };
    let body = html! {
        form #file-filters .filters method="get" action="/files" data-autosubmit="" {
            label { "Partner"
                select #filter-partner name="partner" {
                    option value="" { "any" }
                    @for p in &partners {
                        option value=(p) selected[filters.partner == *p] { (p) }
                    }
                }
            }
            label { "State"
                select #filter-state name="state" {
                    option value="" { "any" }
                    @for s in ["received", "processed", "quarantined", "duplicate", "ignored"] {
                        option value=(s) selected[filters.state == s] { (s) }
                    }
                }
            }
            label { "Channel"
                select #filter-channel name="channel" {
                    option value="" { "any" }
                    @for c in &channels {
                        option value=(c) selected[filters.channel == *c] { (c) }
                    }
                }
            }
            label { "From" input #filter-from type="date" name="from" value=(filters.from); }
            label { "To" input #filter-to type="date" name="to" value=(filters.to); }
            label { "PO number" input #search-po type="search" name="po" value=(filters.po) placeholder="4711"; }
            label { "Control number" input #search-control type="search" name="control" value=(filters.control) placeholder="ISA13, GS06, ST02"; }
            label { "Name" input #search-name type="search" name="q" value=(filters.q); }
            button #filter-submit type="submit" { "Search" }
            a href="/files" { "Clear" }
        }
        @for p in &problems {
            p .flash .refused { (p) }
        }
        @if let Some(s) = &scanned {
            p .note #control-scan {
                "The store keeps no control numbers of received files: the archived X12 files matching the other filters were read, "
                (s.files) " of them, newest first"
                @if s.stopped_before.is_some() { " (the search stops there: narrow it by partner or date, or go on below)" }
                "."
            }
        }
        (file_table(&files))
        @if let Some(before) = next {
            p .pager { a #older href={ "/files?" (filters.query_before(before)) } { "Older files →" } }
        }
    };
    Ok(layout::page(&user, "/files", "Files", body).into_response())
}

/// The table of files.
fn file_table(files: &[FileRecord]) -> Markup {
    html! {
        @if files.is_empty() {
            p #no-files .note { "No file matches." }
        } @else {
            table #files {
                tr { th .num { "#" } th { "Received" } th { "Partner" } th { "Channel" } th { "Name" } th { "Format" } th { "State" } th .num { "Documents" } th { "Detail" } }
                @for f in files {
                    tr id={ "file-" (f.id) } data-file-id=(f.id) data-state=(f.state.as_str()) {
                        td .num { a href={ "/files/" (f.id) } { (f.id) } }
                        td { (layout::when(&f.received_at)) }
                        td { (f.partner.as_deref().unwrap_or("-")) }
                        td { (f.channel) }
                        td { a href={ "/files/" (f.id) } { (f.name) } }
                        td { (f.format.as_deref().unwrap_or("-")) }
                        td { (layout::state(f.state)) }
                        td .num { (f.documents) }
                        td { (f.detail.as_deref().and_then(|d| d.lines().next()).unwrap_or("")) }
                    }
                }
            }
        }
    }
}

/// A file's bytes as its page shows them.
enum Raw {
    X12(x12_view::Laid),
    Text { text: String, cut: bool },
    Binary(String),
    Unreadable(String),
}

/// A document for its page: type, number, pretty JSON (cut when large).
struct Shown {
    doc_type: String,
    reference: Option<String>,
    json: String,
}

struct FilePage {
    file: FileRecord,
    trail: Vec<AuditEntry>,
    raw: Raw,
    documents: Vec<Shown>,
    more_documents: usize,
    deliveries: Vec<OutboxEntry>,
}

fn raw_of(parts: &Parts, file: &FileRecord) -> Raw {
    let cut = file.size > SHOWN_BYTES;
    let bytes = match parts
        .archive
        .read_head(&file.archive_path, file.size.min(SHOWN_BYTES))
    {
        Ok(b) => b,
        Err(e) => return Raw::Unreadable(e.to_string()),
    };
    let format = file.format.as_deref().unwrap_or("");
    let looks_x12 = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .is_some_and(|i| bytes[i..].starts_with(b"ISA"));
    if format == "x12" || (format.is_empty() && looks_x12) {
        let mut laid = x12_view::lay_out(&bytes, !cut);
        laid.cut = cut;
        return Raw::X12(laid);
    }
    if format == "pdf" || bytes.starts_with(b"%PDF") {
        return Raw::Binary("a PDF".into());
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Raw::Text {
            text: text.to_string(),
            cut,
        },
        // A cut may fall inside a character: what is before it is text.
        Err(e) if cut && e.error_len().is_none() => Raw::Text {
            text: String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
            cut,
        },
        Err(_) if bytes.iter().filter(|b| **b == 0).count() == 0 => Raw::Text {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            cut,
        },
        Err(_) => Raw::Binary("binary".into()),
    }
}

fn pretty(json: &str) -> String {
    let mut text = serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_string());
    if text.len() > SHOWN_DOCUMENT_BYTES {
        let mut end = SHOWN_DOCUMENT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n… (cut: dropgate show --documents FILE prints it whole)");
    }
    text
}

fn file_page(parts: &Parts, store: &mut dyn Store, id: FileId) -> Result<FilePage, PageError> {
    let file = store
        .file(id)?
        .ok_or_else(|| PageError::NotFound(format!("There is no file {id}.")))?;
    let trail = store.audit_trail(id)?;
    let docs = store.documents(id)?;
    let more_documents = docs.len().saturating_sub(SHOWN_DOCUMENTS);
    let mut documents = Vec::new();
    let shown = &docs[..docs.len().min(SHOWN_DOCUMENTS)];
    let mut jsons = Vec::new();
    let read = parts.archive.documents_json(shown, |json| {
        jsons.push(json);
        Ok(())
    });
    for (i, d) in shown.iter().enumerate() {
        documents.push(Shown {
            doc_type: d.doc_type.clone(),
            reference: d.reference.clone(),
            json: match (jsons.get(i), &read) {
                (Some(json), _) => pretty(json),
                (None, Err(e)) => format!("(not readable: {e})"),
                (None, Ok(())) => String::new(),
            },
        });
    }
    let deliveries = store.outbox(Outbox::OfFile(id))?;
    let raw = raw_of(parts, &file);
    Ok(FilePage {
        file,
        trail,
        raw,
        documents,
        more_documents,
        deliveries,
    })
}

/// A delivery's state in words.
pub fn delivery_state(d: &OutboxEntry) -> Markup {
    html! {
        @match &d.done_at {
            Some(at) => span .state .processed data-delivery-state="made" { "made " (layout::when(at)) },
            None if d.attempts > 0 => span .state .quarantined data-delivery-state="failing" { "failing, " (d.attempts) " attempt(s)" },
            None => span .state .received data-delivery-state="waiting" { "waiting" },
        }
    }
}

/// `GET /files/{id}`.
pub async fn page(
    State(shared): State<Arc<Shared>>,
    user: User,
    Path(id): Path<FileId>,
) -> Result<Response, PageError> {
    let p = shared
        .read(move |parts, store| file_page(parts, store, id))
        .await?;
    let f = &p.file;
    let ack_key = format!("ack:{}", f.id);
    let (acks, others): (Vec<&OutboxEntry>, Vec<&OutboxEntry>) =
        p.deliveries.iter().partition(|d| d.key == ack_key);
    let body = html! {
        div #file data-file-id=(f.id) data-state=(f.state.as_str()) data-refresh=[(f.state == FileState::Received).then_some(2)] {
            dl .facts {
                dt { "State" } dd #file-state { (layout::state(f.state)) }
                dt { "Name" } dd { (f.name) }
                dt { "Partner" } dd { (f.partner.as_deref().unwrap_or("-")) }
                dt { "Channel" } dd { (f.channel) }
                @if let Some(sender) = &f.sender { dt { "Sender" } dd { (sender) } }
                dt { "Received" } dd { (layout::when(&f.received_at)) }
                dt { "Size" } dd { (f.size) " bytes" }
                dt { "Format" } dd { (f.format.as_deref().unwrap_or("-")) }
                dt { "SHA-256" } dd { code { (f.sha256) } }
                dt { "Archived" } dd { code { (f.archive_path) } " " a #download href={ "/files/" (f.id) "/raw" } { "download" } }
                @if let Some(of) = f.duplicate_of { dt { "Duplicate of" } dd { a href={ "/files/" (of) } { "file " (of) } } }
            }
            @if let Some(detail) = &f.detail {
                h2 { @if f.state == FileState::Quarantined { "Why it is quarantined" } @else { "Notes" } }
                pre #file-detail .text { (detail) }
            }
            @if f.state == FileState::Quarantined {
                p { (layout::action(&user, &format!("/files/{}/reprocess", f.id), &format!("reprocess-{}", f.id), "Reprocess",
                    "Process this file again (after a fix of its mapping or partner)?", &[("back", &format!("/files/{}", f.id))])) }
            }
            h2 { "Audit trail" }
            table #trail {
                tr { th { "When" } th { "Event" } th { "Detail" } }
                @for e in &p.trail {
                    tr data-event=(e.event) { td { (layout::when(&e.at)) } td { (e.event) } td { pre { (e.detail) } } }
                }
            }
            h2 { "The file" }
            section #raw {
                @match &p.raw {
                    Raw::X12(laid) => (x12_view::render(laid)),
                    Raw::Text { text, cut } => {
                        pre .text { (text) }
                        @if *cut { p .note { "Only the beginning of this large file is shown." } }
                    },
                    Raw::Binary(kind) => p .note { "This file is " (kind) ": " a href={ "/files/" (f.id) "/raw" } { "download it" } " to look at it." },
                    Raw::Unreadable(e) => p .problems { "The archived copy cannot be read: " (e) },
                }
            }
            h2 { "Canonical documents" }
            @if p.documents.is_empty() {
                p .note { "None." }
            }
            @for (i, d) in p.documents.iter().enumerate() {
                details .document data-document=(i) open[i == 0] {
                    summary { (d.doc_type) " " (d.reference.as_deref().unwrap_or("")) }
                    pre .json { (d.json) }
                }
            }
            @if p.more_documents > 0 {
                p .note { "… " (p.more_documents) " more document(s): dropgate show --documents " (f.id) " prints them all." }
            }
            h2 { "Acknowledgments sent" }
            @if acks.is_empty() {
                p .note #no-acks { "None (the partner's policy asks for none, or the file is not X12)." }
            }
            @for a in &acks {
                section .ack data-delivery-id=(a.id) {
                    p { strong { (a.name) } " to " (a.target) " — " (delivery_state(a)) }
                    @if !a.payload.is_empty() {
                        (x12_view::render(&x12_view::lay_out(&a.payload, false)))
                    }
                }
            }
            @if !others.is_empty() {
                h2 { "Other deliveries" }
                (super::deliveries::table(&user, &others, chrono::Utc::now().timestamp()))
            }
        }
    };
    Ok(layout::page(&user, "/files", &format!("File {}", f.id), body).into_response())
}

/// `GET /files/{id}/raw`: the received bytes, as a download.
pub async fn raw(
    State(shared): State<Arc<Shared>>,
    _user: User,
    Path(id): Path<FileId>,
) -> Result<Response, PageError> {
    let (file, bytes) = shared
        .read(move |parts, store| {
            let file = store
                .file(id)?
                .ok_or_else(|| PageError::NotFound(format!("There is no file {id}.")))?;
            if file.size > DOWNLOAD_BYTES {
                return Ok((file, None));
            }
            let bytes = parts.archive.read(&file.archive_path)?;
            Ok((file, Some(bytes)))
        })
        .await?;
    let Some(bytes) = bytes else {
        return Ok(layout::bare(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            &format!(
                "File {id} has {} bytes: take it from the archive ({}).",
                file.size, file.archive_path
            ),
        ));
    };
    let name: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The most quarantined files listed.
const QUARANTINE_LISTED: usize = 500;

/// `GET /quarantine`: the quarantined files, newest first, with their
/// reasons and a Reprocess button each.
pub async fn quarantine(
    State(shared): State<Arc<Shared>>,
    user: User,
) -> Result<Response, PageError> {
    let files = shared
        .read(|_, store| {
            Ok(store.search_files(&FileSearch {
                state: Some(FileState::Quarantined),
                limit: QUARANTINE_LISTED,
                ..FileSearch::default()
            })?)
        })
        .await?;
    let body = html! {
        @if files.is_empty() {
            p #quarantine-empty .note { "Nothing is quarantined." }
        } @else {
            @if files.len() == QUARANTINE_LISTED {
                p .note { "The " (QUARANTINE_LISTED) " newest are listed: " a href="/files?state=quarantined" { "Files" } " lists them all." }
            }
            table #quarantine {
                tr { th .num { "#" } th { "Received" } th { "Partner" } th { "Channel" } th { "Name" } th { "Reason" } th {} }
                @for f in &files {
                    tr id={ "file-" (f.id) } data-file-id=(f.id) data-state=(f.state.as_str()) {
                        td .num { a href={ "/files/" (f.id) } { (f.id) } }
                        td { (layout::when(&f.received_at)) }
                        td { (f.partner.as_deref().unwrap_or("-")) }
                        td { (f.channel) }
                        td { a href={ "/files/" (f.id) } { (f.name) } }
                        td { (layout::first_lines(f.detail.as_deref().unwrap_or(""), 12)) }
                        td { (layout::action(&user, &format!("/files/{}/reprocess", f.id), &format!("reprocess-{}", f.id), "Reprocess",
                            "Process this file again (after a fix of its mapping or partner)?", &[("back", "/quarantine")])) }
                    }
                }
            }
        }
    };
    Ok(layout::page(&user, "/quarantine", "Quarantine", body).into_response())
}

/// File `id` once the daemon has taken it up again (no longer
/// `received`), within [`REPROCESS_WAIT`]; `None` when it has not yet.
async fn settled(shared: &Arc<Shared>, id: FileId) -> Result<Option<FileRecord>, PageError> {
    let until = tokio::time::Instant::now() + REPROCESS_WAIT;
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let file = shared.read(move |_, store| Ok(store.file(id)?)).await?;
        if let Some(f) = file.filter(|f| f.state != FileState::Received) {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// The reprocess form.
#[derive(Default, serde::Deserialize)]
pub struct ReprocessForm {
    #[serde(default)]
    csrf: String,
    /// The page to go back to.
    #[serde(default)]
    back: String,
}

/// `POST /files/{id}/reprocess`: the quarantined file is put back to be
/// processed (audited with the user's name) and the translator rung.
pub async fn reprocess(
    State(shared): State<Arc<Shared>>,
    user: User,
    Path(id): Path<FileId>,
    Form(form): Form<ReprocessForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = user.refused(&form.csrf) {
        return Ok(refused);
    }
    let by = user.name.clone();
    let done = shared
        .write(move |_, store| Ok(crate::daemon::put_back(store, id, false, Some(&by))))
        .await?;
    let back = match form.back.as_str() {
        "/quarantine" => "/quarantine".to_string(),
        _ => format!("/files/{id}"),
    };
    let flash = match done {
        Ok(file) => {
            shared.ring();
            tracing::info!(file = id, user = %user.name, "file put back to be processed, from the console");
            let name = file.name;
            match settled(&shared, id).await? {
                Some(f) if f.state == FileState::Processed => Flash::done(format!(
                    "File {id} ({name}) was processed again: {} document(s).",
                    f.documents
                )),
                Some(f) => Flash::refused(format!(
                    "File {id} ({name}) was processed again and is {} again: {}",
                    f.state,
                    f.detail
                        .as_deref()
                        .and_then(|d| d.lines().next())
                        .unwrap_or("")
                )),
                None => Flash::done(format!(
                    "File {id} ({name}) is put back to be processed: the gateway takes it up in a moment (its page shows its new state then)."
                )),
            }
        }
        Err(crate::daemon::ReprocessError::Daemon(e)) => {
            return Err(PageError::Failed(e.to_string()));
        }
        Err(e) => Flash::refused(e.to_string()),
    };
    Ok(user.redirect(&shared, &back, flash))
}
