//! Telling a pass under way to stop: the daemon raises a [`Stop`] when it
//! is told to shut down, and the pass looks at it between batches of
//! files, between deliveries and between the documents of a delivery, so
//! that it takes up no new work. What it is doing when the flag goes up is
//! finished (or, past the grace, abandoned: every step is atomic, so an
//! abandoned pass is taken up again at the next start).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag shared by the daemon and its passes.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// A flag not raised yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks the pass to stop taking up work.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`Stop::raise`] was called.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
