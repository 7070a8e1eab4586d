//! A local folder as a channel, inbound or outbound: the embedded default,
//! and what a mounted share or a partner's drop synced by other means looks
//! like.
//!
//! Inbound, a file is taken once it is complete by the rules of
//! [`super::watch`]: old enough and unchanged across looks spanning
//! `min_age_secs`, or its ready marker there; hidden and temporary names
//! never. Once the gateway has archived a file, it is moved to `done_dir`
//! or deleted (its marker with it). Outbound, a file is written under a
//! hidden temporary name and renamed into place, so that a partner never
//! sees it half-written; an existing file is never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use super::watch::{Kind, Listed, Look, ReadyRule, Watch};
use super::{TransportError, Waiting};

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
    /// Inbound: a file is complete once it is this many seconds old and
    /// was seen unchanged for as long (0: at once, for drops where writers
    /// rename complete files into place).
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
    /// When files are complete.
    watch: Watch,
}

impl DirChannel {
    /// The channel `name` on `config`.
    pub fn new(name: &str, config: DirConfig) -> DirChannel {
        // The folder files are moved to, when it is inside the drop, is
        // the channel's own.
        let done = config
            .done_dir
            .clone()
            .unwrap_or_else(|| config.path.join("processed"));
        let watch = Watch::for_folder(
            config.min_age_secs,
            config.patterns.clone(),
            &config.path.to_string_lossy(),
            &done.to_string_lossy(),
        );
        DirChannel {
            name: name.to_string(),
            config,
            watch,
        }
    }

    /// Files named by these rules are taken once their marker is there.
    pub fn set_ready_rules(&mut self, rules: Vec<ReadyRule>) {
        self.watch.set_rules(rules);
    }

    /// How long until a file seen but not yet complete may be.
    pub fn settling(&self) -> Option<Duration> {
        self.watch.settling()
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

    /// The files complete and waiting, by name, and what was skipped
    /// (once per name).
    pub fn poll(&mut self) -> Result<Look, TransportError> {
        let dir = &self.config.path;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| self.error(format!("listing {}", dir.display()), e))?;
        let now = SystemTime::now();
        let mut listing = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(format!("listing {}", dir.display()), e))?;
            // Gone since the listing: nothing to look at.
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            let kind = kind_of(meta.file_type());
            listing.push(Listed {
                name: entry
                    .file_name()
                    .into_string()
                    .map_err(|n| n.to_string_lossy().into_owned()),
                kind,
                size: meta.len(),
                modified: meta.modified().ok(),
            });
        }
        Ok(self.watch.look(listing, now, Instant::now()))
    }

    /// Whether a file read after `poll` listed it is still as listed: one
    /// that changed while it was copied is to be taken later.
    pub fn still(&mut self, waiting: &Waiting) -> Result<bool, TransportError> {
        let path = self.config.path.join(&waiting.name);
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| self.error(format!("looking at {}", path.display()), e))?;
        Ok(self.watch.still(waiting, meta.len(), meta.modified().ok()))
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

    /// The file is archived and recorded: moves it away or deletes it,
    /// and deletes its ready marker.
    pub fn done(&mut self, name: &str) -> Result<(), TransportError> {
        let path = self.config.path.join(name);
        self.watch.forget(name);
        if let Some(marker) = self.watch.marker_of(name) {
            let marker = self.config.path.join(marker);
            match std::fs::remove_file(&marker) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(self.error(format!("deleting {}", marker.display()), e));
                }
                _ => {}
            }
        }
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

/// What a listed entry is (a symbolic link is not followed).
fn kind_of(t: std::fs::FileType) -> Kind {
    if t.is_symlink() {
        Kind::Symlink
    } else if t.is_dir() {
        Kind::Directory
    } else if t.is_file() {
        Kind::File
    } else {
        // A FIFO, a socket, a device.
        Kind::Special
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

    fn ready(ch: &mut DirChannel) -> Result<Vec<String>, TransportError> {
        Ok(ch.poll()?.ready.into_iter().map(|w| w.name).collect())
    }

    #[test]
    fn takes_complete_files_only_and_moves_them_away() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.edi"), b"x")?;
        std::fs::write(dir.path().join(".b.edi.part"), b"x")?;
        std::fs::write(dir.path().join("c.txt"), b"x")?;
        // An hour of minimum age: a file just written is not complete, at
        // the first look or the second.
        let mut ch = DirChannel::new("drop", config(dir.path(), 3600));
        assert!(ready(&mut ch)?.is_empty());
        assert!(ready(&mut ch)?.is_empty());
        assert!(ch.settling().is_some_and(|s| s > Duration::from_secs(3500)));
        let mut ch = DirChannel::new("drop", config(dir.path(), 0));
        let look = ch.poll()?;
        assert_eq!(
            look.ready,
            vec![Waiting {
                name: "a.edi".into(),
                size: 1,
                modified: std::fs::metadata(dir.path().join("a.edi"))?.modified().ok(),
            }]
        );
        assert_eq!(
            look.skipped
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            [".b.edi.part"]
        );
        let w = &look.ready[0];
        assert_eq!(ch.read("a.edi")?, b"x");
        assert!(ch.still(w)?);
        // A file that grew after it was listed is not as listed.
        std::fs::write(dir.path().join("a.edi"), b"xy")?;
        assert!(!ch.still(w)?);
        ch.done("a.edi")?;
        assert!(dir.path().join("processed/a.edi").is_file());
        std::fs::write(dir.path().join("a.edi"), b"z")?;
        assert_eq!(ready(&mut ch)?, ["a.edi"]);
        ch.done("a.edi")?;
        assert!(
            dir.path().join("processed/a.edi.2").is_file(),
            "an earlier one is kept"
        );
        // The folder taken files go to is not reported as skipped.
        assert!(ch.poll()?.skipped.is_empty());
        Ok(())
    }

    #[test]
    fn skips_links_fifos_and_folders_and_says_why_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let outside = tempfile::tempdir()?;
        std::fs::write(outside.path().join("secret.edi"), b"x")?;
        std::os::unix::fs::symlink(
            outside.path().join("secret.edi"),
            dir.path().join("link.edi"),
        )?;
        std::fs::create_dir(dir.path().join("sub.edi"))?;
        let fifo = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe.edi"))
            .status()?;
        assert!(fifo.success());
        let mut ch = DirChannel::new("drop", config(dir.path(), 0));
        let look = ch.poll()?;
        assert!(look.ready.is_empty(), "{:?}", look.ready);
        let mut skipped: Vec<(&str, &str)> =
            look.skipped.iter().map(|(n, r)| (n.as_str(), *r)).collect();
        skipped.sort();
        assert_eq!(
            skipped,
            [
                ("link.edi", "a symbolic link: only plain files are taken"),
                (
                    "pipe.edi",
                    "not a plain file (a FIFO, a socket or a device)"
                ),
                ("sub.edi", "a folder"),
            ]
        );
        assert!(ch.poll()?.skipped.is_empty(), "said once");
        Ok(())
    }

    #[test]
    fn a_marked_file_goes_with_its_marker() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut ch = DirChannel::new("drop", config(dir.path(), 3600));
        ch.set_ready_rules(vec![ReadyRule {
            patterns: vec!["*.edi".into()],
            marker: super::super::marker::Marker::new("{name}.done")?,
        }]);
        std::fs::write(dir.path().join("a.edi"), b"x")?;
        assert!(ready(&mut ch)?.is_empty());
        std::fs::write(dir.path().join("a.edi.done"), b"")?;
        assert_eq!(ready(&mut ch)?, ["a.edi"]);
        ch.done("a.edi")?;
        assert!(
            !dir.path().join("a.edi.done").exists(),
            "the marker is gone"
        );
        assert!(dir.path().join("processed/a.edi").is_file());
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
