//! When a file waiting on an inbound channel is complete: the rules the
//! folder and SFTP channels share.
//!
//! A file is taken only when both hold:
//! - it is older (by its modification time) than the channel's
//!   `min_age_secs`, and
//! - it was seen with the same size and time at looks spanning at least
//!   `min_age_secs` (a writer that pauses, or a client that sets an old
//!   modification time, does not get its file taken half-written).
//!
//! A file with a ready-marker rule (a partner writes `stock.csv.done` once
//! `stock.csv` is complete) is taken as soon as its marker is there, and
//! markers are never taken themselves. Temporary names (`.part`, `.tmp`,
//! `.filepart`, anything starting with a dot) are files being written.
//! What is skipped for a reason (a hidden or temporary name, a name that
//! is not UTF-8, a symbolic link, a FIFO or device, a folder) is reported
//! once per name, not at every look. After copying a file, the channel
//! checks it again ([`Watch::still`]): a file that changed is dropped and
//! taken later.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use super::marker::Marker;
use super::{Waiting, glob};

/// What a listing says of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its name; `Err` with the name made readable when it is not UTF-8.
    pub name: Result<String, String>,
    /// What it is.
    pub kind: Kind,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, when the server says.
    pub modified: Option<SystemTime>,
}

/// A kind of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A plain file.
    File,
    /// A folder.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A FIFO, a socket or a device.
    Special,
}

/// Files named by `patterns` are taken once their marker is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyRule {
    /// The file names the rule is for (empty: every file).
    pub patterns: Vec<String>,
    /// The marker's name.
    pub marker: Marker,
}

/// Name endings of files still being written.
const TEMPORARY: [&str; 4] = [".part", ".tmp", ".filepart", ".partial"];

/// What one look found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Look {
    /// The files complete and waiting, by name.
    pub ready: Vec<Waiting>,
    /// Entries skipped for a reason not reported before: the name and why.
    pub skipped: Vec<(String, &'static str)>,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// The state of an inbound channel's looks.
#[derive(Debug)]
pub struct Watch {
    min_age: Duration,
    patterns: Vec<String>,
    rules: Vec<ReadyRule>,
    /// Folders of the channel's own (where taken files are moved): not
    /// reported.
    own: Vec<String>,
    seen: HashMap<String, Seen>,
    /// Names already reported as skipped.
    told: HashSet<String>,
    /// How long until the next file seen but not ready may be ready.
    settling: Option<Duration>,
}

impl Watch {
    /// The watch of a channel's `folder`, whose taken files are moved to
    /// `done` (a folder inside it is the channel's own, not reported as
    /// skipped): files named by `patterns` (empty: every file), complete
    /// after `min_age_secs`.
    pub fn for_folder(min_age_secs: u64, patterns: Vec<String>, folder: &str, done: &str) -> Watch {
        let own = done
            .strip_prefix(folder.trim_end_matches('/'))
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .map(str::to_string)
            .into_iter()
            .collect();
        Watch::new(Duration::from_secs(min_age_secs), patterns, own)
    }

    /// Files named by `patterns` (empty: every file), complete after
    /// `min_age`; `own` names the channel's own folders.
    pub fn new(min_age: Duration, patterns: Vec<String>, own: Vec<String>) -> Watch {
        Watch {
            min_age,
            patterns,
            rules: Vec::new(),
            own,
            seen: HashMap::new(),
            told: HashSet::new(),
            settling: None,
        }
    }

    /// Sets the ready-marker rules.
    pub fn set_rules(&mut self, rules: Vec<ReadyRule>) {
        self.rules = rules;
    }

    /// The minimum age.
    pub fn min_age(&self) -> Duration {
        self.min_age
    }

    fn rule_for(&self, name: &str) -> Option<&ReadyRule> {
        self.rules
            .iter()
            .find(|r| glob::matches_any(&r.patterns, name))
    }

    /// The marker that says `name` is complete, if it has a rule.
    pub fn marker_of(&self, name: &str) -> Option<String> {
        self.rule_for(name).map(|r| r.marker.of(name))
    }

    fn is_marker(&self, name: &str) -> bool {
        self.rules.iter().any(|r| r.marker.shapes(name))
    }

    /// Looks at a listing made at `now` (the channel's clock for
    /// modification times) and `clock` (the gateway's, for how long a file
    /// has been watched).
    pub fn look(&mut self, listing: Vec<Listed>, now: SystemTime, clock: Instant) -> Look {
        let mut look = Look::default();
        let mut seen = HashMap::with_capacity(self.seen.len());
        let mut listed = HashSet::with_capacity(listing.len());
        let names: HashSet<&str> = listing
            .iter()
            .filter_map(|l| l.name.as_deref().ok())
            .collect();
        let mut settling: Option<Duration> = None;
        let mut skipped = Vec::new();
        for entry in &listing {
            let name = match &entry.name {
                Ok(n) => n.as_str(),
                Err(readable) => {
                    listed.insert(readable.clone());
                    skipped.push((readable.clone(), "its name is not UTF-8"));
                    continue;
                }
            };
            listed.insert(name.to_string());
            let reason = match entry.kind {
                Kind::Directory if self.own.iter().any(|o| o == name) => continue,
                Kind::Directory => Some("a folder"),
                Kind::Symlink => Some("a symbolic link: only plain files are taken"),
                Kind::Special => Some("not a plain file (a FIFO, a socket or a device)"),
                Kind::File if name.starts_with('.') => {
                    Some("a hidden name (starting with a dot): a file being written")
                }
                Kind::File if TEMPORARY.iter().any(|t| name.ends_with(t)) => {
                    Some("a temporary name: a file being written")
                }
                Kind::File => None,
            };
            if let Some(reason) = reason {
                skipped.push((name.to_string(), reason));
                continue;
            }
            if !glob::matches_any(&self.patterns, name) || self.is_marker(name) {
                continue;
            }
            if let Some(rule) = self.rule_for(name) {
                if names.contains(rule.marker.of(name).as_str()) {
                    look.ready.push(Waiting {
                        name: name.to_string(),
                        size: entry.size,
                        modified: entry.modified,
                    });
                }
                continue;
            }
            let same = self
                .seen
                .get(name)
                .filter(|s| s.size == entry.size && s.modified == entry.modified);
            let since = same.map_or(clock, |s| s.since);
            seen.insert(
                name.to_string(),
                Seen {
                    size: entry.size,
                    modified: entry.modified,
                    since,
                },
            );
            // A time in the future (a clock that is ahead) counts as now.
            let age = entry
                .modified
                .map(|m| now.duration_since(m).unwrap_or(Duration::ZERO));
            let watched = clock.saturating_duration_since(since);
            let wait = self
                .min_age
                .saturating_sub(watched)
                .max(age.map_or(Duration::ZERO, |a| self.min_age.saturating_sub(a)));
            if wait.is_zero() {
                look.ready.push(Waiting {
                    name: name.to_string(),
                    size: entry.size,
                    modified: entry.modified,
                });
            } else {
                settling = Some(settling.map_or(wait, |s| s.min(wait)));
            }
        }
        for (name, reason) in skipped {
            if self.told.insert(name.clone()) {
                look.skipped.push((name, reason));
            }
        }
        // A name that went away is reported again if it comes back.
        self.told.retain(|n| listed.contains(n));
        self.seen = seen;
        self.settling = settling;
        look.ready.sort_by(|a, b| a.name.cmp(&b.name));
        look.skipped.sort();
        look
    }

    /// How long until a file seen at the last look but not taken may be
    /// complete; `None` when there is none.
    pub fn settling(&self) -> Option<Duration> {
        self.settling
    }

    /// Whether a file is as it was when listed (`then`), now that it has
    /// been copied (`now`: its size and time again). A file that changed
    /// is forgotten, to be watched from the start.
    pub fn still(&mut self, then: &Waiting, size: u64, modified: Option<SystemTime>) -> bool {
        let same = then.size == size && then.modified == modified;
        if !same {
            self.seen.remove(&then.name);
        }
        same
    }

    /// The file was taken: forgotten.
    pub fn forget(&mut self, name: &str) {
        self.seen.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64, modified: SystemTime) -> Listed {
        Listed {
            name: Ok(name.into()),
            kind: Kind::File,
            size,
            modified: Some(modified),
        }
    }

    fn names(look: &Look) -> Vec<&str> {
        look.ready.iter().map(|w| w.name.as_str()).collect()
    }

    #[test]
    fn a_file_must_be_old_and_watched_unchanged_for_the_minimum_age() {
        let min = Duration::from_secs(5);
        let mut watch = Watch::new(min, vec![], vec![]);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let c0 = Instant::now();
        let s = Duration::from_secs;
        // Old by its time, but seen only now: not yet (its writer may have
        // set an old time, or be pausing).
        let look = watch.look(vec![file("old.csv", 10, t0 - s(3600))], t0, c0);
        assert!(look.ready.is_empty());
        assert_eq!(watch.settling(), Some(min));
        // Two looks a second apart are not enough: they must span 5 s.
        let look = watch.look(
            vec![file("old.csv", 10, t0 - s(3600))],
            t0 + s(1),
            c0 + s(1),
        );
        assert!(look.ready.is_empty());
        assert_eq!(watch.settling(), Some(s(4)));
        let look = watch.look(
            vec![file("old.csv", 10, t0 - s(3600))],
            t0 + s(5),
            c0 + s(5),
        );
        assert_eq!(names(&look), ["old.csv"]);
        // A writer that pauses 3 s: the file grew, so the watch starts
        // again, and a young file also waits for its own age.
        let mut watch = Watch::new(min, vec![], vec![]);
        watch.look(vec![file("slow.csv", 10, t0)], t0, c0);
        let look = watch.look(vec![file("slow.csv", 20, t0 + s(3))], t0 + s(6), c0 + s(6));
        assert!(look.ready.is_empty(), "it changed since the last look");
        let look = watch.look(
            vec![file("slow.csv", 20, t0 + s(3))],
            t0 + s(10),
            c0 + s(10),
        );
        assert!(look.ready.is_empty(), "watched unchanged only 4 s");
        let look = watch.look(
            vec![file("slow.csv", 20, t0 + s(3))],
            t0 + s(11),
            c0 + s(11),
        );
        assert_eq!(names(&look), ["slow.csv"]);
        // No minimum age: taken at the first look.
        let mut watch = Watch::new(Duration::ZERO, vec![], vec![]);
        let look = watch.look(vec![file("a.csv", 1, t0)], t0, c0);
        assert_eq!(names(&look), ["a.csv"]);
        assert_eq!(watch.settling(), None);
    }

    #[test]
    fn a_file_changed_while_copied_is_watched_again() {
        let mut watch = Watch::new(Duration::ZERO, vec![], vec![]);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let look = watch.look(vec![file("a.csv", 1, t0)], t0, Instant::now());
        let w = &look.ready[0];
        assert!(watch.still(w, 1, Some(t0)));
        assert!(!watch.still(w, 2, Some(t0)));
        assert!(!watch.still(w, 1, Some(t0 + Duration::from_secs(1))));
    }

    #[test]
    fn skipped_entries_are_reported_once_with_their_reason() {
        let mut watch = Watch::new(
            Duration::ZERO,
            vec!["*.csv".into()],
            vec!["processed".into()],
        );
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let listing = || {
            vec![
                file(".stock.csv", 1, t0),
                file("stock.csv.part", 1, t0),
                file("stock.tmp", 1, t0),
                file("notes.txt", 1, t0),
                Listed {
                    name: Err("b\u{FFFD}d.csv".into()),
                    kind: Kind::File,
                    size: 1,
                    modified: None,
                },
                Listed {
                    name: Ok("link.csv".into()),
                    kind: Kind::Symlink,
                    size: 0,
                    modified: None,
                },
                Listed {
                    name: Ok("fifo.csv".into()),
                    kind: Kind::Special,
                    size: 0,
                    modified: None,
                },
                Listed {
                    name: Ok("sub".into()),
                    kind: Kind::Directory,
                    size: 0,
                    modified: None,
                },
                Listed {
                    name: Ok("processed".into()),
                    kind: Kind::Directory,
                    size: 0,
                    modified: None,
                },
                file("stock.csv", 1, t0),
            ]
        };
        let look = watch.look(listing(), t0, Instant::now());
        assert_eq!(names(&look), ["stock.csv"]);
        let skipped: Vec<&str> = look.skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            skipped,
            [
                ".stock.csv",
                "b\u{FFFD}d.csv",
                "fifo.csv",
                "link.csv",
                "stock.csv.part",
                "stock.tmp",
                "sub"
            ]
        );
        assert!(look.skipped.iter().all(|(_, why)| !why.is_empty()));
        // Once only.
        let look = watch.look(listing(), t0, Instant::now());
        assert!(look.skipped.is_empty());
        // Gone, then back: reported again.
        watch.look(vec![], t0, Instant::now());
        let look = watch.look(listing(), t0, Instant::now());
        assert_eq!(look.skipped.len(), 7);
    }

    #[test]
    fn a_marked_file_waits_for_its_marker_and_markers_are_not_taken()
    -> Result<(), Box<dyn std::error::Error>> {
        let mut watch = Watch::new(Duration::from_secs(3600), vec![], vec![]);
        watch.set_rules(vec![ReadyRule {
            patterns: vec!["stock-*.csv".into()],
            marker: Marker::new("{name}.done")?,
        }]);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let c0 = Instant::now();
        let look = watch.look(vec![file("stock-1.csv", 5, t0)], t0, c0);
        assert!(look.ready.is_empty(), "no marker yet");
        let look = watch.look(
            vec![file("stock-1.csv", 5, t0), file("stock-1.csv.done", 0, t0)],
            t0,
            c0,
        );
        // Taken at once, despite the hour of minimum age: the partner said
        // it is complete.
        assert_eq!(names(&look), ["stock-1.csv"]);
        assert_eq!(
            watch.marker_of("stock-1.csv").as_deref(),
            Some("stock-1.csv.done")
        );
        assert_eq!(watch.marker_of("other.csv"), None);
        Ok(())
    }
}
