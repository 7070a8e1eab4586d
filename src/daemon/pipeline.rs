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

use std::io::Read;
use std::path::Path;

use crate::config::{Gateway as Config, InboundFiles, Partner};
use crate::format::Flavor;
use crate::mapping::Library;
use crate::mapping::translate::{Request, detect, translate};
use crate::model::head::{Indexed, LineHeads};

use super::index::{self, Indexing};
use crate::store::packs::{self, PackWriter};
use crate::store::{
    DocumentBody, Extent, FileId, FileRecord, FileState, NewDelivery, NewDocument, Processed,
    Store, StoreError,
};
use crate::transport::glob;
use crate::x12::defs::Definitions;
use crate::x12::isa::{IsaHeader, IsaParse};

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
}

/// Documents stored per insert.
const CHUNK: usize = 512;

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

fn flavor_name(f: Flavor) -> &'static str {
    match f {
        Flavor::X12 => "x12",
        Flavor::Csv => "csv",
        Flavor::Xml => "xml",
        Flavor::Json => "json",
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
fn plain_name(name: &str) -> String {
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

/// Runs a recorded file through the pipeline and stores the outcome.
pub fn process(
    cx: &Context<'_>,
    store: &mut dyn Store,
    file: &FileRecord,
    bytes: &[u8],
) -> Result<FileOutcome, StoreError> {
    match admit(cx, store, file, bytes)? {
        Admitted::Settled(outcome) => Ok(outcome),
        Admitted::ToTranslate(work) => {
            let mut pack = open_pack(cx, &pack_name(file.id, 0))?;
            let translated = translate_into(cx, &work, file, bytes, &mut pack)?;
            sync_packs(cx)?;
            finish(cx, store, file, bytes, &work, translated)
        }
    }
}

/// The name of the pack that `worker` writes the documents of a batch
/// into, the batch being known by its first file. The process's ID keeps
/// two processes (the daemon, and `dropgate reprocess` beside it) from
/// ever appending to the same pack.
pub fn pack_name(first_file: FileId, worker: usize) -> String {
    format!("{first_file:010}-{worker}-{}.jsonl", std::process::id())
}

/// Opens a document pack for appending.
pub fn open_pack(cx: &Context<'_>, name: &str) -> Result<PackWriter, StoreError> {
    PackWriter::open(cx.data_dir, name).map_err(|e| StoreError::Archive {
        path: format!("{}/{name}", packs::FOLDER),
        source: e,
    })
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
}

/// The first step, with the store: identifies the partner and drops
/// duplicates.
pub fn admit<'c>(
    cx: &Context<'c>,
    store: &mut dyn Store,
    file: &FileRecord,
    bytes: &[u8],
) -> Result<Admitted<'c>, StoreError> {
    let flavor = detect(bytes.get(..4096).unwrap_or(bytes));
    let format = flavor_name(flavor);
    let (partner, entry) = match identify(cx.config, file, bytes, flavor) {
        Ok(found) => found,
        Err(reason) => {
            // The same bytes on the same channel, already set aside for the
            // same reason: a duplicate, not a second quarantine.
            if let Some(earlier) = store.find_same(None, &file.channel, &file.sha256, file.id)? {
                store.mark_duplicate(file.id, earlier.id, None)?;
            } else {
                store.quarantine(file.id, None, Some(format), &reason, &[])?;
            }
            return Ok(Admitted::Settled(outcome(store, file.id)?));
        }
    };
    if let Some(earlier) =
        store.find_same(Some(&partner.id), &file.channel, &file.sha256, file.id)?
    {
        store.mark_duplicate(file.id, earlier.id, Some(&partner.id))?;
        return Ok(Admitted::Settled(outcome(store, file.id)?));
    }
    Ok(Admitted::ToTranslate(Work {
        flavor,
        partner,
        entry,
    }))
}

/// The second step, without the store: translates the file, its documents
/// appended to `pack` (files of a batch run this side by side, each worker
/// with its own pack). The documents are kept there only when the file
/// translated without a problem.
pub fn translate_into(
    cx: &Context<'_>,
    work: &Work<'_>,
    file: &FileRecord,
    bytes: &[u8],
    pack: &mut PackWriter,
) -> Result<Translated, StoreError> {
    let request = Request {
        file_name: file.name.clone(),
        partner: Some(work.partner.id.clone()),
        mapping: work.entry.and_then(|e| e.mapping.clone()),
        lines: true,
        ..Request::default()
    };
    let entry = pack.begin();
    let written = if bytes.len() >= index::THREAD_FROM_BYTES {
        let file = entry.file().map_err(|e| StoreError::Archive {
            path: packs::FOLDER.to_string(),
            source: e,
        })?;
        std::thread::scope(|scope| {
            let (writer, job) = Indexing::threaded(entry, index::MAX_INDEXED);
            let job = job.syncing(file);
            let job = scope.spawn(move || job.run());
            let written = write_translation(cx, &request, bytes, writer);
            // The writer is gone: the job has seen everything.
            let index = job.join().ok().flatten();
            written.map(|w| w.map(|(outcome, entry, _)| (outcome, entry, index)))
        })
    } else {
        write_translation(
            cx,
            &request,
            bytes,
            Indexing::inline(entry, index::MAX_INDEXED),
        )
    };
    let (outcome, entry, index) = match written? {
        Ok(w) => w,
        Err(reason) => {
            return Ok(Translated {
                documents: None,
                index: None,
                result: Err(reason),
            });
        }
    };
    // Written out; the caller syncs the packs before the store points at
    // them (once for a whole batch).
    let (documents, index) = if outcome.problems.is_empty() {
        (Some(entry.keep()), index)
    } else if outcome.partly_accepted() {
        let all = entry.keep();
        let (accepted, index) = keep_accepted(cx.data_dir, pack, &all, index, &outcome.untrusted)
            .map_err(|e| StoreError::Archive {
            path: all.file.clone(),
            source: e,
        })?;
        (Some(accepted), Some(index))
    } else {
        (None, None)
    };
    Ok(Translated {
        documents,
        index,
        result: Ok(outcome),
    })
}

/// Of a file whose X12 was partly rejected (its documents kept whole as
/// `all`), copies the documents that can be used (those not in `untrusted`,
/// disjoint ranges of document numbers, in order) into a new entry of the
/// pack; gives that entry and their index.
fn keep_accepted(
    data_dir: &Path,
    pack: &mut PackWriter,
    all: &Extent,
    index: Option<Vec<Indexed>>,
    untrusted: &[std::ops::Range<u64>],
) -> std::io::Result<(Extent, Vec<Indexed>)> {
    use std::io::Write;
    use std::os::unix::fs::FileExt;
    let index = match index {
        Some(index) => index,
        None => scan(data_dir, all)?,
    };
    let source = std::fs::File::open(all.path(data_dir))?;
    let mut entry = pack.begin();
    let mut kept = Vec::new();
    let mut at = 0u64;
    let mut bytes = Vec::new();
    let mut skip = untrusted.iter().peekable();
    for (n, doc) in (0u64..).zip(index) {
        while skip.next_if(|r| r.end <= n).is_some() {}
        if skip.peek().is_some_and(|r| r.contains(&n)) {
            continue;
        }
        bytes.resize(usize::try_from(doc.length).unwrap_or(usize::MAX), 0);
        source.read_exact_at(&mut bytes, all.offset + doc.offset)?;
        entry.write_all(&bytes)?;
        entry.write_all(b"\n")?;
        let length = doc.length;
        kept.push(Indexed { offset: at, ..doc });
        at += length + 1;
    }
    Ok((entry.keep(), kept))
}

/// Indexes the documents of an extent, read a piece at a time.
fn scan(data_dir: &Path, extent: &Extent) -> std::io::Result<Vec<Indexed>> {
    let mut reader = extent.open(data_dir)?;
    let mut heads = LineHeads::new();
    let mut found = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            heads.finish(&mut found);
            return Ok(found);
        }
        heads.feed(&buf[..n], &mut found);
    }
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

/// Translates `bytes` through `writer` into its pack entry.
fn write_translation<'p>(
    cx: &Context<'_>,
    request: &Request,
    bytes: &[u8],
    writer: Indexing<packs::Entry<'p>>,
) -> Result<Written<'p>, StoreError> {
    let translated = translate(
        bytes,
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

/// Makes the document packs durable (one sync of their file system),
/// before the store's commit that points at them.
pub fn sync_packs(cx: &Context<'_>) -> Result<(), StoreError> {
    let folder = cx.data_dir.join(packs::FOLDER);
    let mut unsynced = crate::store::disk::Unsynced::default();
    unsynced.add(&folder);
    unsynced.sync().map_err(|e| StoreError::Archive {
        path: folder.display().to_string(),
        source: e,
    })
}

/// The last step, with the store: acknowledges, stores the documents and
/// queues the deliveries, or quarantines.
pub fn finish(
    cx: &Context<'_>,
    store: &mut dyn Store,
    file: &FileRecord,
    bytes: &[u8],
    work: &Work<'_>,
    translated: Translated,
) -> Result<FileOutcome, StoreError> {
    let (flavor, partner) = (work.flavor, work.partner);
    let format = flavor_name(flavor);
    let outcome_of_translation = match translated.result {
        Ok(o) => o,
        Err(reason) => {
            let ack = if flavor == Flavor::X12 {
                super::ack::for_file(store, cx.defs, partner, file.id, bytes, true)?
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
    if flavor == Flavor::X12
        && let Some(ack) =
            super::ack::for_file(store, cx.defs, partner, file.id, bytes, has_problems)?
    {
        deliveries.push(ack);
    }
    // Documents are kept when there was no problem, or when the only
    // problems are rejections and some documents remain (see
    // `translate_into`).
    let Some(documents) = translated.documents else {
        store.quarantine(
            file.id,
            Some(&partner.id),
            Some(format),
            &reasons(),
            &deliveries,
        )?;
        return outcome(store, file.id);
    };
    let count = store_documents(cx.data_dir, store, file.id, &documents, translated.index)?;
    if count > 0 {
        deliveries.push(NewDelivery {
            target: "relay".into(),
            key: format!("relay:{}", file.id),
            name: format!("{:06}-{}.jsonl", file.id, plain_name(&file.name)),
            payload: Vec::new(),
            payload_file: Some(documents),
        });
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

/// Stores where each document of a file is in its pack, with its type and
/// number: from the index made as they were written, or else by reading
/// the pack back (from the page cache, as a rule) a piece at a time and
/// indexing it without parsing the documents. Returns how many there are.
fn store_documents(
    data_dir: &Path,
    store: &mut dyn Store,
    id: FileId,
    documents: &Extent,
    index: Option<Vec<Indexed>>,
) -> Result<u64, StoreError> {
    let read_error = |e: std::io::Error| StoreError::Archive {
        path: documents.file.clone(),
        source: e,
    };
    let packed = |d: Indexed| NewDocument {
        doc_type: d.head.doc_type,
        reference: d.head.reference,
        body: DocumentBody::Packed(Extent {
            file: documents.file.clone(),
            offset: documents.offset + d.offset,
            length: d.length,
        }),
    };
    store.clear_documents(id)?;
    if let Some(index) = index {
        let mut count = 0u64;
        let mut index = index.into_iter().peekable();
        while index.peek().is_some() {
            let chunk: Vec<NewDocument> = index.by_ref().take(CHUNK).map(packed).collect();
            store.add_documents(id, count, &chunk)?;
            count += chunk.len() as u64;
        }
        return Ok(count);
    }
    let mut reader = documents.open(data_dir).map_err(read_error)?;
    let mut heads = LineHeads::new();
    let mut found = Vec::with_capacity(CHUNK);
    let mut buf = vec![0u8; 1 << 16];
    let mut count = 0u64;
    let mut done = false;
    while !done {
        let n = reader.read(&mut buf).map_err(read_error)?;
        if n == 0 {
            heads.finish(&mut found);
            done = true;
        } else {
            heads.feed(&buf[..n], &mut found);
        }
        if found.len() >= CHUNK || (done && !found.is_empty()) {
            let chunk: Vec<NewDocument> = found.drain(..).map(packed).collect();
            store.add_documents(id, count, &chunk)?;
            count += chunk.len() as u64;
        }
    }
    Ok(count)
}

fn outcome(store: &dyn Store, id: FileId) -> Result<FileOutcome, StoreError> {
    let f = store
        .file(id)?
        .ok_or_else(|| StoreError::Corrupt(format!("file {id} vanished")))?;
    Ok(FileOutcome {
        id: f.id,
        name: f.name,
        channel: f.channel,
        partner: f.partner,
        state: f.state,
        documents: f.documents,
        detail: f.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_stored_alike_from_the_index_or_from_the_pack()
    -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let mut pack = PackWriter::open(dir.path(), "1-0.jsonl")?;
        // Something before, so that offsets in the pack and in the entry
        // differ.
        let mut before = pack.begin();
        before.write_all(b"{\"type\":\"other\"}\n")?;
        before.keep();
        let mut writer = Indexing::inline(pack.begin(), 10_000);
        for n in 0..1500 {
            writeln!(
                writer,
                r#"{{"type":"purchase_order","po_number":"PO{n}","lines":[]}}"#
            )?;
        }
        let (entry, index) = writer.into_parts();
        assert!(index.is_some());
        let extent = entry.keep();
        let mut stores = Vec::new();
        for index in [None, index] {
            let mut store = crate::store::SqliteStore::in_memory()?;
            let id = store.record_received(&crate::store::NewFile {
                channel: "drop".into(),
                partner: None,
                name: "a".into(),
                size: 1,
                sha256: "h".into(),
                archive_path: "h".into(),
                sender: None,
            })?;
            assert_eq!(
                store_documents(dir.path(), &mut store, id, &extent, index)?,
                1500
            );
            stores.push(store.documents(id)?);
        }
        assert_eq!(stores[0], stores[1]);
        let last = &stores[0][1499];
        assert_eq!(last.reference.as_deref(), Some("PO1499"));
        assert_eq!(
            last.json(dir.path())?,
            r#"{"type":"purchase_order","po_number":"PO1499","lines":[]}"#
        );
        Ok(())
    }

    #[test]
    fn plain_names_keep_what_is_safe() {
        assert_eq!(plain_name("../a b/ü.edi"), "_a_b__.edi");
        assert_eq!(plain_name("stock-2024.csv"), "stock-2024.csv");
    }
}
