//! One received file through every stage: identify its partner, drop it as
//! a duplicate, translate it with the partner's mappings, acknowledge it,
//! and store the outcome (documents and deliveries, or the quarantine and
//! its reason) in one step.
//!
//! A file is processed whole: when any of its documents cannot be made, or
//! the X12 envelope rejects any part of it, the file is quarantined and
//! none of its documents is relayed (its acknowledgment still goes out, so
//! the partner learns what it must send again). `dropgate reprocess` runs it
//! again once the cause is fixed.

use std::io::BufRead;
use std::path::Path;

use crate::config::{Gateway as Config, InboundFiles, Partner};
use crate::format::Flavor;
use crate::mapping::Library;
use crate::mapping::translate::{Request, detect, translate};
use crate::store::{
    FileId, FileRecord, FileState, NewDelivery, NewDocument, Processed, Store, StoreError,
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
    /// Where a file's documents are written while it is translated (and
    /// kept until they are relayed): memory stays flat whatever the size.
    pub spool: &'a Path,
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

/// The number a document is known by.
fn reference(doc: &serde_json::Value) -> Option<String> {
    [
        "po_number",
        "asn_number",
        "invoice_number",
        "report_id",
        "group_control_number",
    ]
    .iter()
    .find_map(|k| doc.get(*k).and_then(|v| v.as_str()).map(str::to_string))
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
            let translated = translate_to_spool(cx, &work, file, bytes)?;
            sync_spool(cx)?;
            finish(cx, store, file, bytes, &work, translated)
        }
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

/// A translation into the spool: its outcome, or why the input could not
/// be read at all.
pub struct Translated {
    spool: std::path::PathBuf,
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

/// The second step, without the store: translates the file into its
/// spool file, synced. Files of a batch run this side by side.
pub fn translate_to_spool(
    cx: &Context<'_>,
    work: &Work<'_>,
    file: &FileRecord,
    bytes: &[u8],
) -> Result<Translated, StoreError> {
    let request = Request {
        file_name: file.name.clone(),
        partner: Some(work.partner.id.clone()),
        mapping: work.entry.and_then(|e| e.mapping.clone()),
        lines: true,
        ..Request::default()
    };
    let spool_error = |e: std::io::Error, path: &Path| StoreError::Archive {
        path: path.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(cx.spool).map_err(|e| spool_error(e, cx.spool))?;
    let spool = cx.spool.join(format!("{:06}.jsonl", file.id));
    let out = std::fs::File::create(&spool).map_err(|e| spool_error(e, &spool))?;
    let translated = translate(
        bytes,
        &request,
        cx.library,
        cx.defs,
        std::io::BufWriter::with_capacity(1 << 16, out),
    );
    let (outcome_of_translation, out) = match translated {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&spool);
            return Ok(Translated {
                spool,
                result: Err(e.to_string()),
            });
        }
    };
    // Written out; the caller syncs the spool before the outbox points at
    // it (once for a whole batch).
    out.into_inner()
        .map_err(|e| e.into_error())
        .map_err(|e| spool_error(e, &spool))?;
    Ok(Translated {
        spool,
        result: Ok(outcome_of_translation),
    })
}

/// Makes the spooled translations durable (one sync of their file
/// system), before the store's commit that points at them.
pub fn sync_spool(cx: &Context<'_>) -> Result<(), StoreError> {
    let mut unsynced = crate::store::disk::Unsynced::default();
    unsynced.add(cx.spool);
    unsynced.sync().map_err(|e| StoreError::Archive {
        path: cx.spool.display().to_string(),
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
    let spool = translated.spool;
    let spool_error = |e: std::io::Error, path: &Path| StoreError::Archive {
        path: path.display().to_string(),
        source: e,
    };
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
    let mut deliveries: Vec<NewDelivery> = Vec::new();
    if flavor == Flavor::X12
        && let Some(ack) =
            super::ack::for_file(store, cx.defs, partner, file.id, bytes, has_problems)?
    {
        deliveries.push(ack);
    }
    if has_problems {
        let _ = std::fs::remove_file(&spool);
        let reason = outcome_of_translation
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        store.quarantine(
            file.id,
            Some(&partner.id),
            Some(format),
            &reason,
            &deliveries,
        )?;
        return outcome(store, file.id);
    }
    // The documents, read back from the spool a chunk at a time.
    store.clear_documents(file.id)?;
    let reader = std::fs::File::open(&spool).map_err(|e| spool_error(e, &spool))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let mut line = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut count = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| spool_error(e, &spool))?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        chunk.push(NewDocument {
            doc_type: value
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("unknown")
                .to_string(),
            reference: reference(&value),
            json: text,
        });
        if chunk.len() == CHUNK {
            store.add_documents(file.id, count, &chunk)?;
            count += chunk.len() as u64;
            chunk.clear();
        }
    }
    store.add_documents(file.id, count, &chunk)?;
    count += chunk.len() as u64;
    if count > 0 {
        deliveries.push(NewDelivery {
            target: "relay".into(),
            key: format!("relay:{}", file.id),
            name: format!("{:06}-{}.jsonl", file.id, plain_name(&file.name)),
            payload: Vec::new(),
            payload_file: Some(spool.display().to_string()),
        });
    } else {
        let _ = std::fs::remove_file(&spool);
    }
    let notes = (!outcome_of_translation.warnings.is_empty())
        .then(|| outcome_of_translation.warnings.join("\n"));
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
    fn plain_names_keep_what_is_safe() {
        assert_eq!(plain_name("../a b/ü.edi"), "_a_b__.edi");
        assert_eq!(plain_name("stock-2024.csv"), "stock-2024.csv");
    }
}
