//! One received file through every stage: identify its partner, drop it as
//! a duplicate, translate it with the partner's mappings, acknowledge it,
//! and store the outcome (documents and deliveries, or the quarantine and
//! its reason) in one step.
//!
//! When a document cannot be made by the mapping (ours to fix), the file is
//! quarantined and none of its documents is relayed; `dropgate reprocess`
//! runs it again once the cause is fixed. When the X12 validation or
//! envelope rejects some sets, groups or interchanges (the partner's to
//! fix: its acknowledgment says which to send again), the documents of the
//! others are stored and relayed, and the file is processed with a note of
//! what was rejected; if nothing is left, it is quarantined. Either way the
//! acknowledgment goes out.

use std::path::Path;

use crate::config::{Duplicates, EmptyFiles, Gateway as Config, InboundFiles, Partner};
use crate::format::Flavor;
use crate::format::sniff::{Content, sniff};
use crate::mapping::Library;
use crate::mapping::library::{Direction, flavor_name};
use crate::mapping::translate::{Request, translate};
use crate::model::head::Indexed;
use crate::store::packs::{self, PackWriter};
use crate::store::{
    Durability, Extent, FileId, FileRecord, FileState, NewDelivery, Processed, Store, StoreError,
    Transaction,
};
use crate::transport::glob;
use crate::x12::defs::Definitions;
use crate::x12::isa::{IsaHeader, IsaParse};

use super::body::Body;
use super::documents;
use super::index::{self, Indexing};
use super::unseal::Unsealed;

/// What the pipeline needs besides the store.
pub struct Context<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// The mappings.
    pub library: &'a Library,
    /// The X12 definitions.
    pub defs: &'static Definitions,
    /// The data directory: a file's documents are written into a document
    /// pack there as they are translated, so memory stays flat whatever
    /// the size.
    pub data_dir: &'a Path,
    /// The archive: the document packs are made durable there before the
    /// store points at them.
    pub archive: &'a crate::store::Archive,
    /// Process a file even if it is a duplicate (`reprocess --force`).
    pub force: bool,
}

/// What became of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOutcome {
    /// Its number.
    pub id: FileId,
    /// Its name.
    pub name: String,
    /// The channel it came on.
    pub channel: String,
    /// Its partner, when known.
    pub partner: Option<String>,
    /// Its state now.
    pub state: FileState,
    /// Documents made.
    pub documents: u64,
    /// Why it is quarantined, what it duplicates, or what was noted.
    pub detail: Option<String>,
}

impl From<FileRecord> for FileOutcome {
    fn from(f: FileRecord) -> FileOutcome {
        FileOutcome {
            id: f.id,
            name: f.name,
            channel: f.channel,
            partner: f.partner,
            state: f.state,
            documents: f.documents,
            detail: f.detail,
        }
    }
}

/// Who sent the file, and under which inbound entry; or why that cannot be
/// said.
fn identify<'c>(
    config: &'c Config,
    file: &FileRecord,
    bytes: &[u8],
    flavor: Flavor,
) -> Result<(&'c Partner, Option<&'c InboundFiles>), String> {
    let entry_for = |p: &'c Partner| {
        if file.sender.as_deref().is_some_and(|s| !p.sends_from(s)) {
            return None;
        }
        p.inbound
            .iter()
            .find(|i| i.channel == file.channel && glob::matches_any(&i.patterns, &file.name))
    };
    if flavor == Flavor::X12 {
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let header = match IsaHeader::parse(bytes.get(start..).unwrap_or_default(), true) {
            Ok(IsaParse::Header(h)) => h,
            _ => return Err("the file starts with ISA but its ISA segment cannot be read".into()),
        };
        let (qualifier, id) = header.sender();
        let gs02 = application_sender(bytes, &header);
        let found = config.partners.iter().find(|p| {
            p.x12.as_ref().is_some_and(|x| {
                x.qualifier_and_id() == Some((qualifier.as_str(), id.as_str()))
                    && x.application_id
                        .as_deref()
                        .is_none_or(|a| Some(a) == gs02.as_deref())
            })
        });
        let ours = config
            .x12
            .as_ref()
            .and_then(|x| x.qualifier_and_id())
            .is_some_and(|own| own == (qualifier.as_str(), id.as_str()));
        if found.is_none() && ours {
            return Err(format!(
                "the sender \"{qualifier}:{id}\" (ISA05/ISA06) is this gateway's own interchange_id ([x12] of {}): a file the gateway sent (an acknowledgment or an order) that came back, not a partner's",
                config.file.display()
            ));
        }
        let Some(partner) = found else {
            return Err(format!(
                "no partner has interchange_id \"{qualifier}:{id}\"{} (the sender in ISA05/ISA06): add it to the partner's [x12]",
                gs02.map(|g| format!(" with application_id {g:?}"))
                    .unwrap_or_default()
            ));
        };
        if !partner.inbound.iter().any(|i| i.channel == file.channel) {
            return Err(format!(
                "partner {} does not send on channel {} (its [[inbound]] entries do not name it)",
                partner.id, file.channel
            ));
        }
        return Ok((partner, entry_for(partner)));
    }
    config
        .partners
        .iter()
        .find_map(|p| entry_for(p).map(|e| (p, Some(e))))
        .ok_or_else(|| {
            format!(
                "no partner's [[inbound]] takes {:?} on channel {}{}",
                file.name,
                file.channel,
                file.sender
                    .as_deref()
                    .map(|s| format!(
                        " from {s} (a partner's [partner] emails must name the sender)"
                    ))
                    .unwrap_or_default()
            )
        })
}

/// GS02 of the first group, if there is one.
fn application_sender(bytes: &[u8], header: &IsaHeader) -> Option<String> {
    let d = header.delimiters();
    let needle = [b'G', b'S', d.element()];
    let gs = bytes.windows(3).position(|w| w == needle)?;
    let rest = bytes.get(gs..)?;
    let end = rest
        .iter()
        .position(|&b| b == d.segment())
        .unwrap_or(rest.len());
    let segment = rest.get(..end)?;
    let element = segment.split(|&b| b == d.element()).nth(2)?;
    Some(String::from_utf8_lossy(element).trim().to_string())
}

/// A file name for a delivery made of `name`: letters, digits, `.`, `-`
/// and `_` kept, the rest `_`.
pub(super) fn plain_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.trim_start_matches('.').to_string()
}

/// Runs a recorded file through the pipeline and stores the outcome: the
/// first and the last step each in a transaction, the translation between
/// them with none open. `unsealed` is what its OpenPGP gave (`body` as
/// received).
pub fn process(
    cx: &Context<'_>,
    store: &mut dyn Store,
    file: &FileRecord,
    body: &Body,
    unsealed: &Unsealed,
) -> Result<FileOutcome, StoreError> {
    let mut tx = store.transaction(Durability::Synced)?;
    let admitted = admit(cx, tx.as_mut(), file, body, unsealed)?;
    let body = unsealed.body(body);
    tx.commit()?;
    match admitted {
        Admitted::Settled(outcome) => Ok(outcome),
        Admitted::ToTranslate(work) => {
            let name = documents::pack_name(file.id, 0);
            let mut pack = documents::open_pack(cx, &name)?;
            let translated = translate_into(cx, &work, file, body, &mut pack)?;
            drop(pack);
            let sealed = cx.archive.seal_packs(cx.data_dir, &[name])?;
            let mut tx = store.transaction(Durability::Synced)?;
            let outcome = finish(cx, tx.as_mut(), file, &work, translated, &sealed)?;
            tx.commit()?;
            Ok(outcome)
        }
    }
}

/// How much of a file's start is read to identify it.
const HEAD: usize = 64 * 1024;

/// An archive copy that cannot be read: the pass stops (the file stays
/// `received`, to be taken up again).
fn archive_error(file: &FileRecord, e: std::io::Error) -> StoreError {
    StoreError::Archive {
        path: file.archive_path.clone(),
        source: e,
    }
}

/// A file found to be a partner's and not a duplicate: to be translated.
pub struct Work<'c> {
    flavor: Flavor,
    partner: &'c Partner,
    entry: Option<&'c InboundFiles>,
}

/// What the first, sequential step made of a file.
pub enum Admitted<'c> {
    /// Nothing more to do: quarantined (no partner) or a duplicate.
    Settled(FileOutcome),
    /// To be translated (which may run beside other files' translations),
    /// then finished.
    ToTranslate(Work<'c>),
}

/// A translation into a document pack: its outcome and where its
/// documents are (none when it had problems), or why the input could not
/// be read at all.
pub struct Translated {
    documents: Option<Extent>,
    /// The documents' places (from the start of `documents`) and heads,
    /// when they were indexed as they were written.
    index: Option<Vec<Indexed>>,
    result: Result<crate::mapping::translate::Outcome, String>,
    /// The file's acknowledgments, numbered with placeholders: written in
    /// the translation's pass, or, when it could not read the file to its
    /// end, by reading it again (still before the store is written to).
    acknowledgment: Option<crate::mapping::translate::Unnumbered>,
}

/// The first step, with the store: settles what cannot be translated
/// (an OpenPGP file that cannot be opened, an empty file, a file no
/// partner sends, a PDF or a picture where a feed is expected) and drops
/// duplicates. What follows reads `unsealed`'s body (an opened file's
/// content), not `body` as received.
pub fn admit<'c>(
    cx: &Context<'c>,
    store: &mut dyn Transaction,
    file: &FileRecord,
    body: &Body,
    unsealed: &Unsealed,
) -> Result<Admitted<'c>, StoreError> {
    // An opened file's content is what a copy received before has (and
    // one that no longer opens has none).
    match unsealed {
        Unsealed::Opened { sha256, .. } => store.set_content_sha256(file.id, Some(sha256))?,
        Unsealed::Refused(_) => store.set_content_sha256(file.id, None)?,
        Unsealed::Plain => {}
    }
    match unsealed {
        Unsealed::Refused(reason) => {
            store.quarantine(file.id, None, None, reason, &[])?;
            return Ok(Admitted::Settled(outcome(store, file.id)?));
        }
        Unsealed::Opened { note, .. } => store.audit(file.id, "decrypted", note)?,
        Unsealed::Plain => {}
    }
    let body = unsealed.body(body);
    // What it is and who sent it are said in its first bytes (the ISA and
    // the first GS).
    let head = body.head(HEAD).map_err(|e| archive_error(file, e))?;
    let content = sniff(&head, unsealed.size(file) <= head.len() as u64);
    // A PDF is read into pages, and its invoices by the partner's
    // template or without one.
    let flavor = match content {
        Content::Pdf => Flavor::Pdf,
        other => other.flavor().unwrap_or(Flavor::Csv),
    };
    let format = match content {
        Content::Pdf => Some(flavor_name(Flavor::Pdf)),
        other => other.flavor().map(flavor_name),
    };
    let policy = cx
        .config
        .channel(&file.channel)
        .map(|c| c.policy)
        .unwrap_or_default();
    let identified = identify(cx.config, file, &head, flavor);
    if content == Content::Empty {
        let partner = identified.as_ref().ok().map(|(p, _)| p.id.as_str());
        match policy.empty_files {
            EmptyFiles::Ignore => store.ignore(
                file.id,
                partner,
                "an empty file: ignored, as its channel says (empty_files = \"ignore\")",
            )?,
            EmptyFiles::Quarantine => store.quarantine(
                file.id,
                partner,
                None,
                "an empty file (0 bytes, or only blank lines): usually a failed upload; \
                 ask the partner to send it again (a channel whose partners send empty files \
                 on purpose sets empty_files = \"ignore\")",
                &[],
            )?,
        }
        return Ok(Admitted::Settled(outcome(store, file.id)?));
    }
    let (partner, entry) = match identified {
        Ok(found) => found,
        Err(reason) => {
            let reason = match content.is_text() {
                true => reason,
                false => format!(
                    "{}{}; and {reason}",
                    content.describe(),
                    openpgp_hint(&file.channel, &head, unsealed)
                ),
            };
            // The same bytes on the same channel, already set aside for the
            // same reason: a duplicate, not a second quarantine.
            let earlier = received_before(store, None, policy.duplicates, file, unsealed)?;
            if let Some(earlier) = earlier {
                store.mark_duplicate(file.id, earlier.id, None)?;
            } else {
                store.quarantine(file.id, None, format, &reason, &[])?;
            }
            return Ok(Admitted::Settled(outcome(store, file.id)?));
        }
    };
    // Said at once, so that a copy of this file later in the same batch
    // finds it.
    store.identify(file.id, &partner.id)?;
    let rule = entry
        .and_then(|e| e.duplicates)
        .unwrap_or(policy.duplicates);
    let earlier = match cx.force {
        true => None,
        false => received_before(store, Some(&partner.id), rule, file, unsealed)?,
    };
    if let Some(earlier) = earlier {
        store.mark_duplicate(file.id, earlier.id, Some(&partner.id))?;
        return Ok(Admitted::Settled(outcome(store, file.id)?));
    }
    // A workbook is read when the partner's mapping for it says xlsx.
    let reads_workbook = content.is_workbook() && workbook_mapping(cx, &partner.id, entry);
    if !content.is_text() && content != Content::Pdf && !reads_workbook {
        let reason = format!(
            "{}{}",
            content.refusal(),
            openpgp_hint(&file.channel, &head, unsealed)
        );
        store.quarantine(file.id, Some(&partner.id), None, &reason, &[])?;
        return Ok(Admitted::Settled(outcome(store, file.id)?));
    }
    Ok(Admitted::ToTranslate(Work {
        flavor,
        partner,
        entry,
    }))
}

/// Whether the mapping a partner's file is translated with reads
/// workbooks: the one its inbound entry names, else the partner's xlsx
/// mapping.
fn workbook_mapping(cx: &Context<'_>, partner: &str, entry: Option<&InboundFiles>) -> bool {
    match entry.and_then(|e| e.mapping.as_deref()) {
        Some(m) => cx
            .library
            .load(m)
            .is_ok_and(|l| l.header.flavor == Flavor::Xlsx),
        None => cx
            .library
            .for_partner(partner, Direction::Inbound, Some(Flavor::Xlsx))
            .is_ok(),
    }
}

/// What to add to the refusal of an OpenPGP message that came, as it
/// was, on a channel without `[channel.NAME.pgp]`; nothing for another
/// file.
fn openpgp_hint(channel: &str, head: &[u8], unsealed: &Unsealed) -> String {
    match unsealed {
        Unsealed::Plain if crate::pgp::is_message(head) => format!(
            " (an OpenPGP message: channel {channel} decrypts it once it has a [channel.{channel}.pgp] with our secret key; then reprocess it)"
        ),
        _ => String::new(),
    }
}

/// The file `file` duplicates by `rule`, from `partner` (or, when it is
/// not known, on the same channel), if there is one: one with the same
/// bytes, or, for a file opened with OpenPGP, the same content (the same
/// file encrypted anew is other bytes).
fn received_before(
    store: &mut dyn Transaction,
    partner: Option<&str>,
    rule: Duplicates,
    file: &FileRecord,
    unsealed: &Unsealed,
) -> Result<Option<FileRecord>, StoreError> {
    let sha256 = match unsealed {
        Unsealed::Opened { sha256, .. } => sha256,
        Unsealed::Plain | Unsealed::Refused(_) => &file.sha256,
    };
    let name = match rule {
        Duplicates::Never => return Ok(None),
        Duplicates::Content => None,
        Duplicates::NameAndContent => Some(file.name.as_str()),
    };
    store.find_same(partner, &file.channel, sha256, name, file.id)
}

/// The second step, without the store: translates the file, its documents
/// appended to `pack` (files of a batch run this side by side, each worker
/// with its own pack). The documents are kept there only when the file
/// translated without a problem.
pub fn translate_into(
    cx: &Context<'_>,
    work: &Work<'_>,
    file: &FileRecord,
    body: &Body,
    pack: &mut PackWriter,
) -> Result<Translated, StoreError> {
    // A PDF's pages: its text layer, OCR for pages without one. What
    // cannot be read is quarantined with the reason.
    let pdf_pages = match work.flavor {
        Flavor::Pdf => match pdf_pages(cx, file, body)? {
            Ok(pages) => Some(pages),
            Err(reason) => {
                return Ok(Translated {
                    documents: None,
                    index: None,
                    result: Err(reason),
                    acknowledgment: None,
                });
            }
        },
        _ => None,
    };
    let request = Request {
        file_name: file.name.clone(),
        partner: Some(work.partner.id.clone()),
        pdf_pages,
        mapping: work.entry.and_then(|e| e.mapping.clone()),
        lines: true,
        // A streamed document past 4 MB waits for its set's verdict in an
        // unnamed file here, not in a temporary folder that may be memory.
        hold_dir: Some(cx.data_dir.to_path_buf()),
        // The 997s in the same pass: the file is read once.
        acknowledge: match work.flavor {
            Flavor::X12 => super::ack::options_for(work.partner),
            _ => None,
        },
        ..Request::default()
    };
    let entry = pack.begin();
    let written = if file.size >= index::THREAD_FROM_BYTES as u64 {
        let pack_file = entry.file().map_err(|e| StoreError::Archive {
            path: packs::FOLDER.to_string(),
            source: e,
        })?;
        std::thread::scope(|scope| {
            let (writer, job) = Indexing::threaded(entry, index::MAX_INDEXED);
            let job = job.syncing(pack_file);
            let job = scope.spawn(move || job.run());
            let written = write_translation(cx, &request, file, body, writer);
            // The writer is gone: the job has seen everything.
            let index = job.join().ok().flatten();
            written.map(|w| w.map(|(outcome, entry, _)| (outcome, entry, index)))
        })
    } else {
        write_translation(
            cx,
            &request,
            file,
            body,
            Indexing::inline(entry, index::MAX_INDEXED),
        )
    };
    let (mut outcome, entry, index) = match written? {
        Ok(w) => w,
        Err(reason) => {
            let acknowledgment = match request.acknowledge {
                Some(_) => {
                    let mut input = body.reader().map_err(|e| archive_error(file, e))?;
                    super::ack::written_again(&mut input, work.partner, cx.defs)
                }
                None => None,
            };
            return Ok(Translated {
                documents: None,
                index: None,
                result: Err(reason),
                acknowledgment,
            });
        }
    };
    let acknowledgment = outcome.acknowledgment.take();
    // Written out; the caller syncs the packs before the store points at
    // them (once for a whole batch).
    let (documents, index) = if outcome.problems.is_empty() {
        (Some(entry.keep()), index)
    } else if outcome.partly_accepted() {
        let all = entry.keep();
        let (accepted, index) =
            documents::keep_accepted(cx.data_dir, pack, &all, index, &outcome.untrusted).map_err(
                |e| StoreError::Archive {
                    path: all.file.clone(),
                    source: e,
                },
            )?;
        (Some(accepted), Some(index))
    } else {
        (None, None)
    };
    Ok(Translated {
        documents,
        index,
        result: Ok(outcome),
        acknowledgment,
    })
}

/// The pages of a received PDF, or why they cannot be had (the reason
/// its file is quarantined with).
fn pdf_pages(
    cx: &Context<'_>,
    file: &FileRecord,
    body: &Body,
) -> Result<Result<Vec<crate::format::pdf::Page>, String>, StoreError> {
    let limits = crate::format::pdf::Limits::default();
    let mut bytes = Vec::new();
    body.reader()
        .and_then(|r| {
            std::io::Read::read_to_end(
                &mut std::io::Read::take(r, limits.max_file_bytes as u64 + 1),
                &mut bytes,
            )
        })
        .map_err(|e| archive_error(file, e))?;
    Ok(
        crate::ocr::pages(&bytes, None, &limits, &cx.config.ocr).map_err(|e| match e {
            crate::ocr::PagesError::Pdf(e) => {
                format!("a PDF document that cannot be read: {e}")
            }
            other => other.to_string(),
        }),
    )
}

/// A translation written into a pack entry: its outcome, the entry and its
/// index (inline only); or why the input could not be read.
type Written<'p> = Result<
    (
        crate::mapping::translate::Outcome,
        packs::Entry<'p>,
        Option<Vec<Indexed>>,
    ),
    String,
>;

/// Translates the file through `writer` into its pack entry.
fn write_translation<'p>(
    cx: &Context<'_>,
    request: &Request,
    file: &FileRecord,
    body: &Body,
    writer: Indexing<packs::Entry<'p>>,
) -> Result<Written<'p>, StoreError> {
    let input = body.reader().map_err(|e| archive_error(file, e))?;
    let translated = translate(
        input,
        request,
        cx.library,
        cx.defs,
        std::io::BufWriter::with_capacity(1 << 16, writer),
    );
    match translated {
        // The entry, dropped with the writer, is cut off the pack.
        Err(e) => Ok(Err(e.to_string())),
        Ok((outcome, out)) => {
            let (entry, index) = out
                .into_inner()
                .map_err(|e| e.into_error())
                .map_err(|e| StoreError::Archive {
                    path: packs::FOLDER.to_string(),
                    source: e,
                })?
                .into_parts();
            Ok(Ok((outcome, entry, index)))
        }
    }
}

/// The last step, with the store: acknowledges, stores the documents and
/// queues the deliveries, or quarantines. `sealed` says where the packs
/// written are stored now.
pub fn finish(
    cx: &Context<'_>,
    store: &mut dyn Transaction,
    file: &FileRecord,
    work: &Work<'_>,
    translated: Translated,
    sealed: &crate::store::archive::Sealed,
) -> Result<FileOutcome, StoreError> {
    let written = translated.acknowledgment;
    let ack = |store: &mut dyn Transaction, has_errors: bool| {
        super::ack::for_file(store, work.partner, file.id, written, has_errors)
    };
    let (flavor, partner) = (work.flavor, work.partner);
    let format = flavor_name(flavor);
    let outcome_of_translation = match translated.result {
        Ok(o) => o,
        Err(reason) => {
            let ack = if flavor == Flavor::X12 {
                ack(store, true)?
            } else {
                None
            };
            store.quarantine(
                file.id,
                Some(&partner.id),
                Some(format),
                &reason,
                ack.as_slice(),
            )?;
            return outcome(store, file.id);
        }
    };
    let has_problems = !outcome_of_translation.problems.is_empty();
    let reasons = || {
        outcome_of_translation
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut deliveries: Vec<NewDelivery> = Vec::new();
    // Documents are kept when there was no problem, or when the only
    // problems are rejections and some documents remain (see
    // `translate_into`).
    let Some(documents) = translated.documents else {
        if flavor == Flavor::X12
            && let Some(ack) = ack(store, has_problems)?
        {
            deliveries.push(ack);
        }
        store.quarantine(
            file.id,
            Some(&partner.id),
            Some(format),
            &reasons(),
            &deliveries,
        )?;
        return outcome(store, file.id);
    };
    let stored = sealed.stored(&documents);
    let mut found = super::invoices::Found::default();
    let count = documents::store_documents(
        cx.data_dir,
        store,
        file.id,
        &documents,
        &stored.file,
        translated.index,
        &mut |seq, d| found.note(&documents, seq, d),
    )?;
    // Invoices reconciled: the relay gets them with their reconciliation,
    // and not those held.
    let reconciled =
        super::invoices::reconcile_file(cx.data_dir, store, file, partner, &documents, &found)?;
    let relay = |payload, payload_file| NewDelivery {
        target: "relay".into(),
        key: format!("relay:{}", file.id),
        name: format!("{:06}-{}.jsonl", file.id, plain_name(&file.name)),
        payload,
        payload_file,
    };
    match reconciled {
        None if count > 0 => deliveries.push(relay(Vec::new(), Some(stored))),
        Some(r) if r.documents > 0 => deliveries.push(relay(r.payload, None)),
        _ => {}
    }
    super::netsuite::also_to_netsuite(cx.config, Some(&partner.id), &mut deliveries);
    // The acknowledgment's control numbers last: their rows stay locked
    // until the commit, which follows at once, so an order for the same
    // partner does not wait while a large file's documents are stored.
    if flavor == Flavor::X12
        && let Some(ack) = ack(store, has_problems)?
    {
        deliveries.insert(0, ack);
    }
    let mut notes = outcome_of_translation.warnings.clone();
    if has_problems {
        notes.insert(
            0,
            format!(
                "{count} document(s) accepted; rejected by the acknowledgment, for the partner to send again:\n{}",
                reasons()
            ),
        );
    }
    let notes = (!notes.is_empty()).then(|| notes.join("\n"));
    store.finish(
        file.id,
        &Processed {
            partner: Some(partner.id.clone()),
            format: format.to_string(),
            documents: count,
            deliveries,
            notes,
        },
    )?;
    outcome(store, file.id)
}

fn outcome(store: &mut dyn Transaction, id: FileId) -> Result<FileOutcome, StoreError> {
    store
        .file(id)?
        .map(FileOutcome::from)
        .ok_or_else(|| StoreError::Corrupt(format!("file {id} vanished")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_keep_what_is_safe() {
        assert_eq!(plain_name("../a b/ü.edi"), "_a_b__.edi");
        assert_eq!(plain_name("stock-2024.csv"), "stock-2024.csv");
    }
}
