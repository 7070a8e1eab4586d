//! Making what was written durable many files at a time: rather than an
//! fsync per file (a quarter of a millisecond or more each), files are
//! written plainly and the file systems they are on are synced once
//! (`syncfs`) before the store's commit that depends on them.

use std::collections::BTreeSet;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Folders written into since the last sync.
#[derive(Clone, Debug, Default)]
pub struct Unsynced {
    dirs: BTreeSet<PathBuf>,
}

impl Unsynced {
    /// Notes that files were written (or renamed) into `dir`.
    pub fn add(&mut self, dir: &Path) {
        self.dirs.insert(dir.to_path_buf());
    }

    /// True when nothing waits for a sync.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// Syncs every file system the noted folders are on, once each; after
    /// it returns, what was written there survives a crash.
    pub fn sync(&mut self) -> io::Result<()> {
        let mut devices = BTreeSet::new();
        for dir in std::mem::take(&mut self.dirs) {
            let folder = std::fs::File::open(&dir)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
            let device = folder.metadata()?.dev();
            if devices.insert(device) {
                rustix::fs::syncfs(&folder).map_err(|e| {
                    io::Error::new(
                        io::Error::from(e).kind(),
                        format!("syncing {}: {e}", dir.display()),
                    )
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_each_noted_folder_once() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut u = Unsynced::default();
        assert!(u.is_empty());
        std::fs::write(dir.path().join("a"), b"x")?;
        u.add(dir.path());
        u.add(dir.path());
        assert!(!u.is_empty());
        u.sync()?;
        assert!(u.is_empty());
        u.add(&dir.path().join("missing"));
        assert!(u.sync().is_err(), "a folder that is not there is an error");
        Ok(())
    }
}
