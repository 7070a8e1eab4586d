//! The file relay: each delivery (the documents of one received file, one
//! JSON document per line) becomes a file in a folder, written under a
//! hidden name and renamed into place. The caller makes it durable (one
//! sync of the folder's file system for many deliveries) before it counts
//! the delivery as made. The file's name comes from the
//! delivery's key, so a delivery tried twice (after a crash between the
//! write and the outbox's record of it) leaves one file with the same
//! content: nothing is relayed twice. A write that fails (a full disk)
//! leaves no hidden file behind.

use std::io::Write;
use std::path::PathBuf;

use serde::Deserialize;

use super::RelayError;

/// The file relay's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileRelayConfig {
    /// The folder (relative paths are relative to the gateway's
    /// configuration file).
    pub path: PathBuf,
}

/// The file relay.
#[derive(Clone, Debug)]
pub struct FileRelay {
    path: PathBuf,
}

impl FileRelay {
    /// A relay into the configured folder.
    pub fn new(config: &FileRelayConfig) -> FileRelay {
        FileRelay {
            path: config.path.clone(),
        }
    }

    /// The folder deliveries are written into.
    pub fn folder(&self) -> &std::path::Path {
        &self.path
    }

    /// Writes the delivery as `name` (which its key determines).
    pub fn deliver(&self, name: &str, payload: &[u8]) -> Result<(), RelayError> {
        self.deliver_from(name, &mut &payload[..])
    }

    /// Writes the delivery as `name`, copying it from `source` (a document
    /// pack's extent, however large).
    pub fn deliver_from<R: std::io::Read>(
        &self,
        name: &str,
        source: &mut R,
    ) -> Result<(), RelayError> {
        let fail = |what: &str, e: std::io::Error| RelayError(format!("{what}: {e}"));
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return Err(RelayError(format!("{name:?} is not a plain file name")));
        }
        std::fs::create_dir_all(&self.path)
            .map_err(|e| fail(&format!("creating {}", self.path.display()), e))?;
        let tmp = self.path.join(format!(".{name}.part"));
        let target = self.path.join(name);
        let mut f = std::fs::File::create(&tmp)
            .map_err(|e| fail(&format!("writing {}", tmp.display()), e))?;
        let written = std::io::copy(source, &mut f).and_then(|_| f.flush());
        drop(f);
        let renamed = match written {
            Ok(()) => std::fs::rename(&tmp, &target)
                .map_err(|e| fail(&format!("renaming to {}", target.display()), e)),
            Err(e) => Err(fail(&format!("writing {}", tmp.display()), e)),
        };
        if renamed.is_err() {
            // A full disk: what was written goes, the delivery is retried.
            let _ = std::fs::remove_file(&tmp);
        }
        renamed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_delivery_leaves_one_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let relay = FileRelay::new(&FileRelayConfig {
            path: dir.path().join("relay"),
        });
        relay.deliver("1-a.jsonl", b"{}\n")?;
        relay.deliver("1-a.jsonl", b"{}\n")?;
        let names: Vec<_> = std::fs::read_dir(dir.path().join("relay"))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["1-a.jsonl"]);
        assert!(relay.deliver("../x", b"").is_err());
        Ok(())
    }
}
