//! Indexing a file's documents while they are written: each document's
//! place in the pack, type and number ([`LineHeads`]), found from the bytes
//! on their way to the pack, so that storing the documents needs no second
//! read. For a large file the scan runs on a thread of its own, beside the
//! translation; a small file is scanned as it is written (a thread would
//! cost more than the scan).
//!
//! An index is kept in memory up to [`MAX_INDEXED`] documents; past that
//! the writer gives none and the documents are indexed by reading the pack
//! back, a piece at a time (see `pipeline::store_documents`).

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::model::head::{Indexed, LineHeads};

/// The most documents indexed in memory for one file.
pub const MAX_INDEXED: usize = 1 << 20;

/// Inputs at least this large are indexed on a thread of their own.
pub const THREAD_FROM_BYTES: usize = 1 << 20;

/// Pieces of output in flight to the indexing thread.
const IN_FLIGHT: usize = 16;

/// Where the bytes are scanned.
enum Scan {
    /// Here, as they are written.
    Inline(Box<Collect>),
    /// On the indexing thread.
    Thread(SyncSender<Vec<u8>>),
}

/// A scanner and what it found, until more than `limit` was found.
struct Collect {
    heads: LineHeads,
    found: Option<Vec<Indexed>>,
    limit: usize,
}

impl Collect {
    fn new(limit: usize) -> Collect {
        Collect {
            heads: LineHeads::new(),
            found: Some(Vec::new()),
            limit,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        if let Some(found) = &mut self.found {
            self.heads.feed(bytes, found);
            if found.len() > self.limit {
                self.found = None;
            }
        }
    }

    fn finish(mut self) -> Option<Vec<Indexed>> {
        let mut found = self.found.take()?;
        self.heads.finish(&mut found);
        (found.len() <= self.limit).then_some(found)
    }
}

/// A writer that indexes what goes through it.
pub struct Indexing<W: Write> {
    inner: W,
    scan: Scan,
}

/// The indexing thread's side, to be run by [`Indexing::threaded`]'s
/// caller (in a scope that outlives the writer).
pub struct IndexJob {
    pieces: Receiver<Vec<u8>>,
    limit: usize,
    /// The file being written, to push to disk as it grows.
    sync: Option<std::fs::File>,
}

/// With [`IndexJob::syncing`], the file is synced each time this much more
/// was written.
const SYNC_EVERY: usize = 8 << 20;

impl IndexJob {
    /// Also syncs `file` (the one being written) every few megabytes, so
    /// that its writing to disk overlaps the translation rather than
    /// waiting for it at the commit. Failures are left to the sync before
    /// the commit, which reports them.
    pub fn syncing(mut self, file: std::fs::File) -> IndexJob {
        self.sync = Some(file);
        self
    }

    /// Scans every piece until the writer is done or dropped.
    pub fn run(self) -> Option<Vec<Indexed>> {
        let mut collect = Collect::new(self.limit);
        let mut unsynced = 0usize;
        for piece in self.pieces {
            collect.feed(&piece);
            unsynced += piece.len();
            if unsynced >= SYNC_EVERY
                && let Some(file) = &self.sync
            {
                let _ = file.sync_data();
                unsynced = 0;
            }
        }
        collect.finish()
    }
}

impl<W: Write> Indexing<W> {
    /// Scans as bytes are written; gives no index past `limit`
    /// documents.
    pub fn inline(inner: W, limit: usize) -> Indexing<W> {
        Indexing {
            inner,
            scan: Scan::Inline(Box::new(Collect::new(limit))),
        }
    }

    /// Hands the bytes to a thread that runs the returned job (which gives
    /// no index past `limit` documents).
    pub fn threaded(inner: W, limit: usize) -> (Indexing<W>, IndexJob) {
        let (send, pieces) = sync_channel(IN_FLIGHT);
        (
            Indexing {
                inner,
                scan: Scan::Thread(send),
            },
            IndexJob {
                pieces,
                limit,
                sync: None,
            },
        )
    }

    /// The inner writer, and (inline) the index. With a thread, the index
    /// comes from its job, which ends now that the writer is gone.
    pub fn into_parts(self) -> (W, Option<Vec<Indexed>>) {
        let index = match self.scan {
            Scan::Inline(collect) => collect.finish(),
            Scan::Thread(_) => None,
        };
        (self.inner, index)
    }
}

impl<W: Write> Write for Indexing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        match &mut self.scan {
            Scan::Inline(collect) => collect.feed(written),
            Scan::Thread(send) => {
                // The thread stops only when this writer is dropped, so a
                // failed send cannot happen while it is in use; if it
                // did, the index is simply incomplete and then discarded.
                let _ = send.send(written.to_vec());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &[u8] = b"{\"type\":\"purchase_order\",\"po_number\":\"P1\"}\n{\"type\":\"invoice\",\"invoice_number\":\"I9\"}\n";

    fn heads(index: &[Indexed]) -> Vec<(u64, &str, Option<&str>)> {
        index
            .iter()
            .map(|d| {
                (
                    d.offset,
                    d.head.doc_type.as_str(),
                    d.head.reference.as_deref(),
                )
            })
            .collect()
    }

    #[test]
    fn inline_and_threaded_give_the_same_index() -> io::Result<()> {
        let mut inline = Indexing::inline(Vec::new(), 2);
        for piece in DOCS.chunks(5) {
            inline.write_all(piece)?;
        }
        let (bytes, index) = inline.into_parts();
        assert_eq!(bytes, DOCS);
        let index = index.unwrap_or_default();
        assert_eq!(
            heads(&index),
            [
                (0, "purchase_order", Some("P1")),
                (43, "invoice", Some("I9"))
            ]
        );
        let threaded = std::thread::scope(|s| -> io::Result<_> {
            let (mut writer, job) = Indexing::threaded(Vec::new(), 2);
            let job = s.spawn(move || job.run());
            for piece in DOCS.chunks(7) {
                writer.write_all(piece)?;
            }
            let (bytes, none) = writer.into_parts();
            assert_eq!(bytes, DOCS);
            assert!(none.is_none());
            Ok(job.join().ok().flatten())
        })?;
        assert_eq!(threaded, Some(index));
        Ok(())
    }

    #[test]
    fn past_the_limit_there_is_no_index() -> io::Result<()> {
        let mut inline = Indexing::inline(Vec::new(), 1);
        inline.write_all(DOCS)?;
        assert_eq!(inline.into_parts().1, None);
        let threaded = std::thread::scope(|s| -> io::Result<_> {
            let (mut writer, job) = Indexing::threaded(Vec::new(), 1);
            let job = s.spawn(move || job.run());
            writer.write_all(DOCS)?;
            drop(writer);
            Ok(job.join().ok().flatten())
        })?;
        assert_eq!(threaded, None);
        Ok(())
    }
}
