//! Bodies handed over from an instance's intakes to its translator: the
//! bytes of a file just recorded, so that the translator of the same
//! instance, claiming it a moment later, does not read it back from the
//! archive (one GET per file with the archive in a bucket). What another
//! instance claims is never taken here, and is forgotten as newer bodies
//! come: the handover keeps at most [`MAX_FILES`] bodies and
//! [`MAX_BYTES`] of them in memory, the oldest going first (read from the
//! archive when their file is processed after all).

use std::collections::VecDeque;
use std::sync::Mutex;

use super::body::Body;
use crate::store::FileId;

/// The most bodies kept.
pub const MAX_FILES: usize = 2 * super::BATCH;

/// The most bytes kept in memory (a body read from a copy on disk counts
/// as none).
pub const MAX_BYTES: u64 = 2 * super::BATCH_BYTES;

/// The most bodies kept as temporary copies on disk (large files from a
/// bucket, each as large as its file): a few, so that files another
/// instance claims do not fill the disk while they wait to be forgotten.
pub const MAX_STAGED: usize = 4;

/// The bodies waiting for their translator.
#[derive(Debug, Default)]
pub struct Handover {
    kept: Mutex<Kept>,
    /// Rung when a body is handed over: the translator takes the file up
    /// at once, not at its next look (an intake waiting for room on a
    /// busy channel would otherwise wait for that look too).
    wake: Option<std::sync::Arc<super::wake::Wake>>,
}

#[derive(Debug, Default)]
struct Kept {
    /// Oldest first: a file, its body and the bytes it holds in memory.
    bodies: VecDeque<(FileId, Body, u64)>,
    bytes: u64,
}

impl Handover {
    /// A handover that rings `wake` when a body is handed over.
    pub fn ringing(wake: std::sync::Arc<super::wake::Wake>) -> Handover {
        Handover {
            kept: Mutex::default(),
            wake: Some(wake),
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A poisoned lock only means a holder panicked between two plain
        // updates of the queue; it stays usable.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps the body of file `id`, just recorded, for its translator.
    pub fn put(&self, id: FileId, body: Body) {
        let bytes = match &body {
            Body::Memory(b) => b.len() as u64,
            Body::Archived(_) => 0,
        };
        if bytes > MAX_BYTES {
            return;
        }
        let mut kept = self.kept();
        if staged(&body) {
            let waiting: Vec<usize> = (0..kept.bodies.len())
                .filter(|&i| staged(&kept.bodies[i].1))
                .collect();
            if waiting.len() >= MAX_STAGED
                && let Some(&oldest) = waiting.first()
            {
                kept.bodies.remove(oldest);
            }
        }
        while kept.bodies.len() >= MAX_FILES || kept.bytes + bytes > MAX_BYTES {
            match kept.bodies.pop_front() {
                Some((_, _, gone)) => kept.bytes -= gone,
                None => break,
            }
        }
        kept.bytes += bytes;
        kept.bodies.push_back((id, body, bytes));
        drop(kept);
        if let Some(wake) = &self.wake {
            wake.ring();
        }
    }

    /// How many bodies are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept().bodies.len()
    }

    /// The body of file `id`, when it is still kept (it is then no more).
    pub fn take(&self, id: FileId) -> Option<Body> {
        let mut kept = self.kept();
        let at = kept.bodies.iter().position(|(f, _, _)| *f == id)?;
        let (_, body, bytes) = kept.bodies.remove(at)?;
        kept.bytes -= bytes;
        Some(body)
    }
}

/// Whether a body is a temporary copy on disk (of a bucket's object).
fn staged(body: &Body) -> bool {
    matches!(
        body,
        Body::Archived(crate::store::archive::LocalCopy::Staged(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(body: Option<Body>) -> Option<Vec<u8>> {
        match body {
            Some(Body::Memory(b)) => Some(b),
            _ => None,
        }
    }

    #[test]
    fn a_body_is_taken_once_and_the_oldest_go_first() {
        let handover = Handover::default();
        handover.put(1, Body::Memory(b"one".to_vec()));
        handover.put(2, Body::Memory(b"two".to_vec()));
        assert_eq!(bytes(handover.take(2)), Some(b"two".to_vec()));
        assert!(handover.take(2).is_none(), "taken once");
        for id in 3..(3 + MAX_FILES as FileId) {
            handover.put(id, Body::Memory(vec![b'x'; 10]));
        }
        assert!(handover.take(1).is_none(), "the oldest forgotten");
        assert!(handover.take(3 + MAX_FILES as FileId - 1).is_some());
        assert!(handover.kept().bytes <= MAX_BYTES);
    }

    #[test]
    fn few_temporary_copies_on_disk_are_kept() {
        use crate::store::archive::LocalCopy;
        let handover = Handover::default();
        let copy = || {
            let file = tempfile::tempfile().expect("a temporary file");
            Body::Archived(LocalCopy::Staged(std::sync::Arc::new(file)))
        };
        for id in 0..(MAX_STAGED as FileId + 2) {
            handover.put(id, copy());
        }
        assert_eq!(handover.len(), MAX_STAGED);
        assert!(handover.take(0).is_none(), "the oldest copies went");
        assert!(handover.take(1).is_none());
        assert!(handover.take(MAX_STAGED as FileId + 1).is_some());
        // The archive's own copies cost no disk: kept as other bodies.
        let handover = Handover::default();
        for id in 0..10 {
            handover.put(
                id,
                Body::Archived(LocalCopy::Kept(format!("a/{id}").into())),
            );
        }
        assert_eq!(handover.len(), 10);
    }

    #[test]
    fn bytes_are_bounded() {
        let handover = Handover::default();
        let half = (MAX_BYTES / 2) as usize;
        handover.put(1, Body::Memory(vec![0; half]));
        handover.put(2, Body::Memory(vec![0; half]));
        handover.put(3, Body::Memory(vec![0; 1]));
        assert!(handover.take(1).is_none(), "made room for the newest");
        assert!(handover.take(3).is_some());
        handover.put(4, Body::Memory(vec![0; MAX_BYTES as usize + 1]));
        assert!(
            handover.take(4).is_none(),
            "larger than the whole: not kept"
        );
        assert_eq!(handover.kept().bytes, half as u64);
    }
}
