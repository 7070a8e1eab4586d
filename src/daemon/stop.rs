//! Telling work under way to stop: the daemon raises a [`Stop`] when it
//! is told to shut down, and a pass looks at it between batches of files,
//! between deliveries and between the documents of a delivery, so that it
//! takes up no new work. What it is doing when the flag goes up is
//! finished (or, past the grace, abandoned: every step is atomic, so an
//! abandoned pass is taken up again at the next start). A component that
//! can be stopped alone (a delivery worker, on a reload) has a
//! [`Stop::child`] of the daemon's: raised by its own flag or the
//! daemon's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag shared by the daemon and its components.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    own: Arc<AtomicBool>,
    /// The flags of the stops this one is a child of.
    above: Arc<[Arc<AtomicBool>]>,
}

impl Stop {
    /// A flag not raised yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// A flag of its own that is also raised when this one is.
    pub fn child(&self) -> Stop {
        let above: Vec<Arc<AtomicBool>> = self
            .above
            .iter()
            .cloned()
            .chain([Arc::clone(&self.own)])
            .collect();
        Stop {
            own: Arc::new(AtomicBool::new(false)),
            above: above.into(),
        }
    }

    /// Asks what looks at this flag (and at its children) to stop taking
    /// up work.
    pub fn raise(&self) {
        self.own.store(true, Ordering::SeqCst);
    }

    /// True once this flag, or one it is a child of, was raised.
    pub fn is_raised(&self) -> bool {
        self.own.load(Ordering::SeqCst) || self.above.iter().any(|f| f.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_stops_with_its_parent_but_not_the_other_way() {
        let daemon = Stop::new();
        let worker = daemon.child();
        let other = daemon.child();
        worker.raise();
        assert!(worker.is_raised());
        assert!(!daemon.is_raised() && !other.is_raised());
        daemon.raise();
        assert!(other.is_raised() && other.child().is_raised());
    }
}
