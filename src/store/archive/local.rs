//! The archive on local disk (the default): every file's bytes kept under
//! their SHA-256 in `archive/` of the data directory.
//!
//! A file is written to a temporary name and renamed into place;
//! [`LocalArchive::sync`] then syncs the file system (once for many
//! files): after it returns, the bytes survive a crash. The same bytes are
//! kept once. A temporary file whose writing fails (a full disk) is
//! removed at once; one left by a process killed while writing it (its
//! name holds the process's ID) goes with
//! [`LocalArchive::remove_temporary_files`].

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Incoming, LocalCopy, sha256_hex};
use crate::store::StoreError;

/// The archive folder.
#[derive(Clone, Debug)]
pub struct LocalArchive {
    root: PathBuf,
    /// Folders renamed into since the last sync.
    unsynced: crate::store::disk::Unsynced,
}

/// Numbers the incoming files of a process.
static INCOMING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A temporary file of the archive, removed when dropped unless it was
/// renamed into place.
#[derive(Debug)]
pub(super) struct Temporary(pub(super) Option<PathBuf>);

impl Temporary {
    pub(super) fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// Renames it to `to`; it is then no longer removed.
    fn rename_to(mut self, to: &Path) -> std::io::Result<()> {
        std::fs::rename(self.path(), to)?;
        self.0 = None;
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The ID of the process that wrote a temporary file of the archive
/// (`.HASH.PID.tmp`, `.incoming.PID.N.tmp`), when its name is one.
/// `None` when it is not a temporary name, `Some(None)` when it holds no
/// process ID.
pub(super) fn writer_of(name: &str) -> Option<Option<u32>> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    Some(inner.split('.').nth(1).and_then(|p| p.parse().ok()))
}

impl LocalArchive {
    /// The archive under `root` (created when first written to).
    pub fn new(root: &Path) -> LocalArchive {
        LocalArchive {
            root: root.to_path_buf(),
            unsynced: crate::store::disk::Unsynced::default(),
        }
    }

    fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Archive {
            path: path.display().to_string(),
            source,
        }
    }

    /// Keeps `bytes` (durably once [`LocalArchive::sync`] has run); returns
    /// their hash and their path relative to the archive's root (the hash
    /// itself: one folder, so that a batch of files costs one folder sync).
    pub fn keep(&mut self, bytes: &[u8]) -> Result<(String, String), StoreError> {
        let hash = sha256_hex(bytes);
        let relative = hash.clone();
        let path = self.root.join(&relative);
        if path.is_file() {
            return Ok((hash, relative));
        }
        let dir = self.root.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Self::io(&dir, e))?;
        let tmp = dir.join(format!(".{hash}.{}.tmp", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(|e| Self::io(&tmp, e))?;
        // From here on, a failure (a full disk) removes what was written.
        let tmp = Temporary(Some(tmp));
        f.write_all(bytes).map_err(|e| Self::io(tmp.path(), e))?;
        drop(f);
        tmp.rename_to(&path).map_err(|e| Self::io(&path, e))?;
        self.unsynced.add(&dir);
        Ok((hash, relative))
    }

    /// A writer that keeps what is written to it, for a file too large to
    /// hold in memory: [`LocalArchive::keep_incoming`] then gives its hash
    /// and path as [`LocalArchive::keep`] does.
    pub fn incoming(&mut self) -> Result<Incoming, StoreError> {
        let dir = self.root.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Self::io(&dir, e))?;
        let tmp = dir.join(format!(
            ".incoming.{}.{}.tmp",
            std::process::id(),
            INCOMING.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let file = std::fs::File::create(&tmp).map_err(|e| Self::io(&tmp, e))?;
        Ok(Incoming::new(file, Temporary(Some(tmp))))
    }

    /// Keeps what was written to `incoming` under its hash; gives its
    /// hash, its path and the copy to read it from.
    pub fn keep_incoming(
        &mut self,
        incoming: Incoming,
    ) -> Result<(String, String, LocalCopy), StoreError> {
        let (_, tmp, hash) = incoming
            .finish()
            .map_err(|(tmp, e)| Self::io(tmp.path(), e))?;
        let path = self.root.join(&hash);
        // Kept before: the copy just written goes when `tmp` is dropped
        // (a rare delete).
        if !path.is_file() {
            tmp.rename_to(&path).map_err(|e| Self::io(&path, e))?;
            self.unsynced.add(&self.root.clone());
        }
        Ok((hash.clone(), hash, LocalCopy::Kept(path)))
    }

    /// Removes the temporary files that processes no longer running left
    /// in the archive (killed while writing them), and those of this
    /// process's ID (left by an earlier process that had it: this one has
    /// written none yet when it calls this). Returns how many were removed.
    pub fn remove_temporary_files(&self) -> Result<usize, StoreError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Self::io(&self.root, e)),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry.map_err(|e| Self::io(&self.root, e))?;
            let name = entry.file_name();
            let Some(writer) = name.to_str().and_then(writer_of) else {
                continue;
            };
            let gone = match writer {
                Some(pid) => {
                    pid == std::process::id() || !Path::new("/proc").join(pid.to_string()).exists()
                }
                None => true,
            };
            if gone {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|e| Self::io(&path, e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The bytes kept at `relative`, to be read where they are.
    pub fn copy_of(&self, relative: &str) -> LocalCopy {
        LocalCopy::Kept(self.root.join(relative))
    }

    /// Syncs the folders files were renamed into: the files kept since the
    /// last sync are then on disk for good.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.unsynced.sync().map_err(|e| Self::io(&self.root, e))
    }

    /// The bytes kept at `relative`.
    pub fn read(&self, relative: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.root.join(relative);
        std::fs::read(&path).map_err(|e| Self::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_once_under_their_hash() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| LocalArchive::io(Path::new("tmp"), e))?;
        let mut a = LocalArchive::new(dir.path());
        let (hash, rel) = a.keep(b"abc")?;
        a.sync()?;
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(rel, hash);
        assert_eq!(a.keep(b"abc")?.1, rel);
        assert_eq!(a.read(&rel)?, b"abc");
        // Written as it comes: the same hash, kept once.
        let mut incoming = a.incoming()?;
        incoming
            .write_all(b"ab")
            .and_then(|()| incoming.write_all(b"c"))
            .map_err(|e| LocalArchive::io(Path::new("incoming"), e))?;
        let (h1, r1, _) = a.keep_incoming(incoming)?;
        assert_eq!((h1, r1), (hash.clone(), rel.clone()));
        let mut other = a.incoming()?;
        other
            .write_all(b"abcd")
            .map_err(|e| LocalArchive::io(Path::new("incoming"), e))?;
        let (h2, r2, copy) = a.keep_incoming(other)?;
        assert_eq!(h2, sha256_hex(b"abcd"));
        assert_eq!(copy, a.copy_of(&r2));
        assert_eq!(
            std::fs::read(dir.path().join(&r2)).ok(),
            Some(b"abcd".to_vec())
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .map_err(|e| LocalArchive::io(dir.path(), e))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        Ok(())
    }

    #[test]
    fn temporary_files_of_processes_that_are_gone_are_removed() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| LocalArchive::io(Path::new("tmp"), e))?;
        let a = LocalArchive::new(dir.path());
        let io = |e| LocalArchive::io(dir.path(), e);
        // pid_max is at most 2^22: these processes cannot exist.
        std::fs::write(dir.path().join(".abc.99999999.tmp"), b"x").map_err(io)?;
        std::fs::write(dir.path().join(".incoming.99999998.3.tmp"), b"x").map_err(io)?;
        // Left by an earlier process that had this one's ID.
        let own = format!(".def.{}.tmp", std::process::id());
        std::fs::write(dir.path().join(&own), b"x").map_err(io)?;
        // A process that runs (the parent of this one) is still writing.
        let parent = format!(".incoming.{}.0.tmp", std::os::unix::process::parent_id());
        std::fs::write(dir.path().join(&parent), b"x").map_err(io)?;
        std::fs::write(dir.path().join("abc"), b"kept").map_err(io)?;
        assert_eq!(a.remove_temporary_files()?, 3);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .map_err(io)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [parent, "abc".to_string()]);
        Ok(())
    }

    #[test]
    fn an_incoming_file_not_kept_leaves_no_temporary_file() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| LocalArchive::io(Path::new("tmp"), e))?;
        let incoming = LocalArchive::new(dir.path()).incoming()?;
        let tmp = incoming.temporary_path().to_path_buf();
        assert!(tmp.exists());
        drop(incoming);
        assert!(!tmp.exists(), "an incoming file dropped is removed");
        Ok(())
    }
}
