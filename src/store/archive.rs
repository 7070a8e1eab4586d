//! The archive of received files: every file's bytes, kept under their
//! SHA-256 in the data directory before anything else is done with them,
//! so that any file can be processed again.
//!
//! A file is written to a temporary name and renamed into place;
//! [`Archive::sync`] then syncs the file system (once for many files):
//! after it returns, the bytes survive a crash. The same bytes are
//! kept once.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::StoreError;

/// The archive folder.
#[derive(Clone, Debug)]
pub struct Archive {
    root: PathBuf,
    /// Folders renamed into since the last sync.
    unsynced: super::disk::Unsynced,
}

/// SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

impl Archive {
    /// The archive under `root` (created when first written to).
    pub fn new(root: &Path) -> Archive {
        Archive {
            root: root.to_path_buf(),
            unsynced: super::disk::Unsynced::default(),
        }
    }

    fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Archive {
            path: path.display().to_string(),
            source,
        }
    }

    /// Keeps `bytes` (durably once [`Archive::sync`] has run); returns
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
        f.write_all(bytes).map_err(|e| Self::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(|e| Self::io(&path, e))?;
        self.unsynced.add(&dir);
        Ok((hash, relative))
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
        let dir = tempfile::tempdir().map_err(|e| Archive::io(Path::new("tmp"), e))?;
        let mut a = Archive::new(dir.path());
        let (hash, rel) = a.keep(b"abc")?;
        a.sync()?;
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(rel, hash);
        assert_eq!(a.keep(b"abc")?.1, rel);
        assert_eq!(a.read(&rel)?, b"abc");
        Ok(())
    }
}
