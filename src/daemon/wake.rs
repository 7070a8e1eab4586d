//! Waking a component that waits for work: the intake and the API ring a
//! [`Wake`] after they queue deliveries, and the delivery workers, which
//! otherwise look at the outbox once a second for retries that came due,
//! start at once. A ring between two looks is not lost: each waiter keeps
//! the count it last saw.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A bell that any number of waiters hear.
#[derive(Debug, Default)]
pub struct Wake {
    rings: Mutex<u64>,
    rung: Condvar,
}

impl Wake {
    /// A bell not rung yet.
    pub fn new() -> Wake {
        Wake::default()
    }

    /// Rings: every waiter wakes, and the next wait of one that was not
    /// waiting returns at once.
    pub fn ring(&self) {
        // A poisoned lock only means a waiter panicked; the count is a
        // plain number and stays usable.
        let mut rings = self.rings.lock().unwrap_or_else(|e| e.into_inner());
        *rings = rings.wrapping_add(1);
        drop(rings);
        self.rung.notify_all();
    }

    /// What the bell's count is now: a waiter starts from it.
    pub fn seen(&self) -> u64 {
        *self.rings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the bell rings after `seen` (which it updates), or
    /// `timeout` passes. True when it rang.
    pub fn wait(&self, seen: &mut u64, timeout: Duration) -> bool {
        let rings = self.rings.lock().unwrap_or_else(|e| e.into_inner());
        let (rings, _) = self
            .rung
            .wait_timeout_while(rings, timeout, |r| *r == *seen)
            .unwrap_or_else(|e| e.into_inner());
        let rang = *rings != *seen;
        *seen = *rings;
        rang
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_ring_before_the_wait_is_not_lost() {
        let wake = Wake::new();
        let mut seen = wake.seen();
        wake.ring();
        assert!(wake.wait(&mut seen, Duration::from_secs(5)));
        assert!(
            !wake.wait(&mut seen, Duration::from_millis(10)),
            "rung once"
        );
    }

    #[test]
    fn a_ring_wakes_a_waiter_on_another_thread() {
        let wake = Arc::new(Wake::new());
        let mut seen = wake.seen();
        let ringer = Arc::clone(&wake);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            ringer.ring();
        });
        assert!(wake.wait(&mut seen, Duration::from_secs(30)));
        thread.join().expect("the ringer ends");
    }
}
