//! Document packs: the canonical documents made from received files, kept
//! as JSON lines appended to a few files per batch (one per translating
//! worker) under `documents/` in the data directory, rather than a file or
//! a database row of JSON per document. The store keeps where each
//! document is ([`super::Extent`]); the relay reads from the same bytes.
//!
//! A pack is only appended to. What a file's translation wrote is kept
//! only if the file is processed: on failure the pack is cut back to where
//! that file began. Bytes past the last committed document (a crash before
//! the commit) are never pointed at, and the next writer appends after
//! them. Packs are synced, with the rest of a batch, before the commit that
//! points at them (see [`super::disk`]), and never removed by the gateway:
//! like the archive, they are the record of what was received.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Extent;

/// The folder of document packs, relative to the data directory.
pub const FOLDER: &str = "documents";

/// A pack open for appending.
#[derive(Debug)]
pub struct PackWriter {
    file: std::fs::File,
    /// Relative to the data directory.
    name: String,
    path: PathBuf,
    /// Its length: where the next bytes go.
    len: u64,
}

impl PackWriter {
    /// Opens (creating it) the pack `name` (a plain file name) under
    /// `data_dir`'s `documents/`.
    pub fn open(data_dir: &Path, name: &str) -> io::Result<PackWriter> {
        PackWriter::open_in(data_dir, FOLDER, name)
    }

    /// Opens (creating it) the pack `name` under `data_dir`'s `folder`
    /// (`staging/` for packs on their way to a bucket).
    pub fn open_in(data_dir: &Path, folder: &str, name: &str) -> io::Result<PackWriter> {
        let relative = folder;
        let folder = data_dir.join(relative);
        std::fs::create_dir_all(&folder)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", folder.display())))?;
        let path = folder.join(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let len = file.metadata()?.len();
        Ok(PackWriter {
            file,
            name: format!("{relative}/{name}"),
            path,
            len,
        })
    }

    /// The folder packs are in (to be synced before a commit).
    pub fn folder(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Starts appending one file's documents.
    pub fn begin(&mut self) -> Entry<'_> {
        let start = self.len;
        Entry {
            pack: self,
            start,
            written: 0,
        }
    }
}

/// One file's documents being appended to a pack: a writer. [`Entry::keep`]
/// ends it and says where they are; dropped without it, they are cut off.
#[derive(Debug)]
pub struct Entry<'p> {
    pack: &'p mut PackWriter,
    start: u64,
    written: u64,
}

impl Write for Entry<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.pack.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.pack.file.flush()
    }
}

impl Entry<'_> {
    /// Another handle on the pack's file (to sync it from elsewhere).
    pub fn file(&self) -> io::Result<std::fs::File> {
        self.pack.file.try_clone()
    }

    /// Keeps what was written: its extent in the pack.
    pub fn keep(mut self) -> Extent {
        self.pack.len = self.start + self.written;
        let extent = Extent {
            file: self.pack.name.clone(),
            offset: self.start,
            length: self.written,
        };
        self.written = 0;
        self.start = self.pack.len;
        extent
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if self.start + self.written != self.pack.len {
            // Not kept: cut the pack back (best effort; bytes past the
            // last extent kept are never read in any case).
            if self.pack.file.set_len(self.start).is_ok() {
                self.pack.len = self.start;
            } else {
                self.pack.len = self.start + self.written;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_entries_are_read_back_and_dropped_ones_cut_off() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut pack = PackWriter::open(dir.path(), "1-0.jsonl")?;
        let mut a = pack.begin();
        a.write_all(b"{\"a\":1}\n")?;
        let a = a.keep();
        {
            let mut failed = pack.begin();
            failed.write_all(b"{\"half\":")?;
        }
        let mut b = pack.begin();
        b.write_all(b"{\"b\":2}\n")?;
        let b = b.keep();
        assert_eq!(a.read(dir.path())?, b"{\"a\":1}\n");
        assert_eq!(b.read(dir.path())?, b"{\"b\":2}\n");
        assert_eq!(b.offset, a.length, "the failed entry left nothing");
        assert_eq!(a.file, "documents/1-0.jsonl");
        drop(pack);
        // Opened again (the next batch, or after a restart): appended to.
        let mut again = PackWriter::open(dir.path(), "1-0.jsonl")?;
        let mut c = again.begin();
        c.write_all(b"{}\n")?;
        let c = c.keep();
        assert_eq!(c.offset, a.length + b.length);
        let short = Extent {
            length: 100,
            ..c.clone()
        };
        assert!(
            short.read(dir.path()).is_err(),
            "a short extent is an error"
        );
        Ok(())
    }
}
