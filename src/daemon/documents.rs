//! A file's documents on disk and in the store: the document packs a
//! batch's workers append to, what is kept of a partly rejected file, and
//! the store's index of each document (type, number, extent).

use std::io::Read;
use std::path::Path;

use crate::model::head::{Indexed, LineHeads};
use crate::store::packs::PackWriter;
use crate::store::{DocumentBody, Extent, FileId, NewDocument, StoreError, Transaction};

use super::pipeline::Context;

/// Documents stored per insert.
const CHUNK: usize = 512;

/// The name of the pack that `worker` writes the documents of a batch
/// into, the batch being known by its first file. The process's ID keeps
/// two processes (the daemon, and `dropgate reprocess` beside it) from
/// ever appending to the same pack.
pub fn pack_name(first_file: FileId, worker: usize) -> String {
    format!("{first_file:010}-{worker}-{}.jsonl", std::process::id())
}

/// Opens a document pack for appending (in the folder the archive says).
pub fn open_pack(cx: &Context<'_>, name: &str) -> Result<PackWriter, StoreError> {
    let folder = cx.archive.pack_folder();
    PackWriter::open_in(cx.data_dir, folder, name).map_err(|e| StoreError::Archive {
        path: format!("{folder}/{name}"),
        source: e,
    })
}

/// Of a file whose X12 was partly rejected (its documents kept whole as
/// `all`), copies the documents that can be used (those not in `untrusted`,
/// disjoint ranges of document numbers, in order) into a new entry of the
/// pack; gives that entry and their index.
pub fn keep_accepted(
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

/// Stores where each document of a file is in its pack, with its type and
/// number: from the index made as they were written, or else by reading
/// the pack back (from the page cache, as a rule) a piece at a time and
/// indexing it without parsing the documents. The documents are read at
/// `documents` (under `data_dir`) and stored as in the pack `stored_in`
/// (where the pack went: the same file, or its object in a bucket).
/// `seen` is shown each document with its number, as it is stored.
/// Returns how many there are.
pub fn store_documents(
    data_dir: &Path,
    store: &mut dyn Transaction,
    id: FileId,
    documents: &Extent,
    stored_in: &str,
    index: Option<Vec<Indexed>>,
    seen: &mut dyn FnMut(u64, &Indexed),
) -> Result<u64, StoreError> {
    let read_error = |e: std::io::Error| StoreError::Archive {
        path: documents.file.clone(),
        source: e,
    };
    let packed = |d: Indexed| NewDocument {
        doc_type: d.head.doc_type,
        reference: d.head.reference,
        body: DocumentBody::Packed(Extent {
            file: stored_in.to_string(),
            offset: documents.offset + d.offset,
            length: d.length,
        }),
    };
    store.clear_documents(id)?;
    if let Some(index) = index {
        let mut count = 0u64;
        let mut index = index.into_iter().peekable();
        while index.peek().is_some() {
            let chunk: Vec<NewDocument> = index
                .by_ref()
                .take(CHUNK)
                .zip(count..)
                .map(|(d, n)| {
                    seen(n, &d);
                    packed(d)
                })
                .collect();
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
            let chunk: Vec<NewDocument> = found
                .drain(..)
                .zip(count..)
                .map(|(d, n)| {
                    seen(n, &d);
                    packed(d)
                })
                .collect();
            store.add_documents(id, count, &chunk)?;
            count += chunk.len() as u64;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::index::Indexing;

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
            use crate::store::{Durability, Store};
            let mut sqlite = crate::store::SqliteStore::in_memory()?;
            let store: &mut dyn Store = &mut sqlite;
            let mut tx = store.transaction(Durability::Synced)?;
            let id = tx.record_received(&crate::store::NewFile {
                channel: "drop".into(),
                partner: None,
                name: "a".into(),
                size: 1,
                sha256: "h".into(),
                archive_path: "h".into(),
                sender: None,
            })?;
            assert_eq!(
                store_documents(
                    dir.path(),
                    tx.as_mut(),
                    id,
                    &extent,
                    &extent.file,
                    index,
                    &mut |_, _| ()
                )?,
                1500
            );
            tx.commit()?;
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
}
