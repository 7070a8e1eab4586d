//! A local folder as a channel, inbound or outbound: the embedded default,
//! and what a mounted share or a partner's drop synced by other means looks
//! like.
//!
//! Inbound, a file is taken once it is stable: unchanged (size and
//! modification time) for `min_age_secs`, or the same at two looks in a
//! row. Names starting with a dot are never taken (they are files being
//! written, ours included). Once the gateway has archived a file, it is
//! moved to `done_dir` or deleted. Outbound, a file is written under a
//! hidden temporary name and renamed into place, so that a partner never
//! sees it half-written; an existing file is never overwritten.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::{TransportError, Waiting, glob};

/// What becomes of an inbound file once it is archived.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum After {
    /// Moved into `done_dir`.
    #[default]
    Move,
    /// Deleted.
    Delete,
}

/// A folder channel's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DirConfig {
    /// The folder (relative paths are relative to the gateway's
    /// configuration file).
    pub path: PathBuf,
    /// File name patterns to take, like `*.edi` (default: every file).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Inbound: a file unchanged for this many seconds is complete.
    #[serde(default = "default_min_age_secs")]
    pub min_age_secs: u64,
    /// Inbound: what to do with a file once archived, `move` or `delete`.
    #[serde(default)]
    pub after: After,
    /// Inbound: where `move` puts files (default: `processed` inside the
    /// folder).
    #[serde(default)]
    pub done_dir: Option<PathBuf>,
}

const fn default_min_age_secs() -> u64 {
    2
}

/// A folder channel.
#[derive(Debug)]
pub struct DirChannel {
    name: String,
    config: DirConfig,
    /// Size and time of each file at the last look.
    last_look: HashMap<String, (u64, SystemTime)>,
}

impl DirChannel {
    /// The channel `name` on `config`.
    pub fn new(name: &str, config: DirConfig) -> DirChannel {
        DirChannel {
            name: name.to_string(),
            config,
            last_look: HashMap::new(),
        }
    }

    fn error(&self, doing: String, source: std::io::Error) -> TransportError {
        TransportError {
            channel: self.name.clone(),
            doing,
            source,
        }
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    fn done_dir(&self) -> PathBuf {
        self.config
            .done_dir
            .clone()
            .unwrap_or_else(|| self.config.path.join("processed"))
    }

    /// The files complete and waiting, by name.
    pub fn poll(&mut self) -> Result<Vec<Waiting>, TransportError> {
        let dir = &self.config.path;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| self.error(format!("listing {}", dir.display()), e))?;
        let now = SystemTime::now();
        let min_age = Duration::from_secs(self.config.min_age_secs);
        let mut look = HashMap::new();
        let mut ready = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(format!("listing {}", dir.display()), e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') || !glob::matches_any(&self.config.patterns, &name) {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(now);
            let size = meta.len();
            let old_enough = now.duration_since(modified).is_ok_and(|age| age >= min_age);
            let unchanged = self.last_look.get(&name) == Some(&(size, modified));
            look.insert(name.clone(), (size, modified));
            if old_enough || unchanged {
                ready.push(Waiting { name, size });
            }
        }
        self.last_look = look;
        ready.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ready)
    }

    /// The bytes of a waiting file.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, TransportError> {
        let path = self.config.path.join(name);
        std::fs::read(&path).map_err(|e| self.error(format!("reading {}", path.display()), e))
    }

    /// Copies a waiting file into `out`, a piece at a time (for a file
    /// too large to hold in memory); returns its size.
    pub fn read_into(&self, name: &str, out: &mut dyn Write) -> Result<u64, TransportError> {
        let path = self.config.path.join(name);
        let doing = || format!("reading {}", path.display());
        let mut file = std::fs::File::open(&path).map_err(|e| self.error(doing(), e))?;
        std::io::copy(&mut file, out).map_err(|e| self.error(doing(), e))
    }

    /// The file is archived and recorded: moves it away or deletes it.
    pub fn done(&mut self, name: &str) -> Result<(), TransportError> {
        let path = self.config.path.join(name);
        self.last_look.remove(name);
        match self.config.after {
            After::Delete => std::fs::remove_file(&path)
                .map_err(|e| self.error(format!("deleting {}", path.display()), e)),
            After::Move => {
                let done = self.done_dir();
                std::fs::create_dir_all(&done)
                    .map_err(|e| self.error(format!("creating {}", done.display()), e))?;
                let mut target = done.join(name);
                let mut n = 1;
                while target.exists() {
                    n += 1;
                    target = done.join(format!("{name}.{n}"));
                }
                std::fs::rename(&path, &target).map_err(|e| {
                    self.error(
                        format!("moving {} to {}", path.display(), target.display()),
                        e,
                    )
                })
            }
        }
    }

    /// Delivers `bytes` as `name`: written under a hidden name, synced,
    /// then renamed into place. Fails rather than overwrite a file.
    pub fn deliver(&self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        deliver_to(&self.name, &self.config.path, name, bytes)
    }
}

/// Writes `bytes` as `dir/name` without a partial or overwritten file. The
/// caller syncs the folder's file system before it counts the delivery as
/// made (once for many files).
pub fn deliver_to(
    channel: &str,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(), TransportError> {
    let error = |doing: String, source| TransportError {
        channel: channel.to_string(),
        doing,
        source,
    };
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return Err(error(
            format!("delivering {name:?}"),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a plain file name"),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| error(format!("creating {}", dir.display()), e))?;
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.part"));
    let mut f =
        std::fs::File::create(&tmp).map_err(|e| error(format!("writing {}", tmp.display()), e))?;
    f.write_all(bytes)
        .map_err(|e| error(format!("writing {}", tmp.display()), e))?;
    drop(f);
    if target.exists() {
        let _ = std::fs::remove_file(&tmp);
        return Err(error(
            format!("delivering {}", target.display()),
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file of that name is there",
            ),
        ));
    }
    std::fs::rename(&tmp, &target)
        .map_err(|e| error(format!("renaming to {}", target.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, min_age_secs: u64) -> DirConfig {
        DirConfig {
            path: dir.to_path_buf(),
            patterns: vec!["*.edi".into()],
            min_age_secs,
            after: After::Move,
            done_dir: None,
        }
    }

    #[test]
    fn takes_stable_files_only_and_moves_them_away() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.edi"), b"x")?;
        std::fs::write(dir.path().join(".b.edi.part"), b"x")?;
        std::fs::write(dir.path().join("c.txt"), b"x")?;
        let mut ch = DirChannel::new("drop", config(dir.path(), 3600));
        // Too young at the first look; unchanged at the second.
        assert!(ch.poll()?.is_empty());
        let ready = ch.poll()?;
        assert_eq!(
            ready,
            vec![Waiting {
                name: "a.edi".into(),
                size: 1
            }]
        );
        assert_eq!(ch.read("a.edi")?, b"x");
        // A file that grows between looks is not taken.
        std::fs::write(dir.path().join("a.edi"), b"xy")?;
        assert!(ch.poll()?.is_empty());
        ch.done("a.edi")?;
        assert!(dir.path().join("processed/a.edi").is_file());
        std::fs::write(dir.path().join("a.edi"), b"z")?;
        ch.poll()?;
        ch.poll()?;
        ch.done("a.edi")?;
        assert!(
            dir.path().join("processed/a.edi.2").is_file(),
            "an earlier one is kept"
        );
        Ok(())
    }

    #[test]
    fn old_files_are_taken_at_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.edi"), b"x")?;
        let mut ch = DirChannel::new("drop", config(dir.path(), 0));
        assert_eq!(ch.poll()?.len(), 1);
        Ok(())
    }

    #[test]
    fn delivers_without_partial_or_overwritten_files() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        deliver_to("out", dir.path(), "997-1.edi", b"ack")?;
        assert_eq!(std::fs::read(dir.path().join("997-1.edi"))?, b"ack");
        assert!(deliver_to("out", dir.path(), "997-1.edi", b"other").is_err());
        assert_eq!(std::fs::read(dir.path().join("997-1.edi"))?, b"ack");
        assert!(deliver_to("out", dir.path(), "../x", b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
        Ok(())
    }
}
