//! One running gateway per data directory, on the embedded store.
//!
//! Two daemons started on the same configuration by mistake (a service and
//! a manual run) both took the same drop, and relayed files twice. The
//! daemon (`run`, and `run --once`) takes an exclusive lock on
//! `data_dir/gateway.lock` for as long as it runs, and writes there who it
//! is; a second one finds the lock taken and refuses to start, naming the
//! process that holds it. The lock is the kernel's (`flock`): it goes with
//! its process, however that process ends, so a crashed gateway never
//! leaves the directory locked. The other commands (`files`, `status`,
//! `reprocess`, `send-po`) do not take it: SQLite lets them share the store
//! with the daemon.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

/// The name of the lock file in the data directory.
pub const LOCK_FILE: &str = "gateway.lock";

/// Why the data directory cannot be owned.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    /// Another gateway runs on it.
    #[error(
        "the data directory {dir} is in use by another gateway ({holder}): stop that one first, or give this one a data_dir of its own"
    )]
    Taken {
        /// The data directory.
        dir: PathBuf,
        /// What the holder wrote of itself.
        holder: String,
    },
    /// The lock file cannot be opened or written.
    #[error("{path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The data directory owned by this process, while this value lives.
#[derive(Debug)]
pub struct Owner {
    /// Held open: closing it (or the process ending) releases the lock.
    _file: File,
}

impl Owner {
    /// Takes `dir` for this process, or says who has it.
    pub fn take(dir: &Path) -> Result<Owner, OwnerError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| OwnerError::Io {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if let Err(e) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if e == rustix::io::Errno::WOULDBLOCK {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(OwnerError::Taken {
                    dir: dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "a process that has not said who it is yet".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            return Err(io(e.into()));
        }
        let me = format!(
            "process {}, started {}: {}",
            std::process::id(),
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(me.as_bytes()).map_err(io)?;
        Ok(Owner { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_refused_and_told_who_has_it() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = Owner::take(dir.path())?;
        // A lock is per open file: a second take in this very process is
        // refused as another process's would be.
        let second = Owner::take(dir.path());
        let message = second.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("is in use by another gateway"),
            "{message}"
        );
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        drop(first);
        // Released with its holder.
        let _again = Owner::take(dir.path())?;
        Ok(())
    }
}
