//! The leases of a running instance: each channel is polled, and each
//! target delivered to, by one instance at a time, the one that holds its
//! lease in the store (`channel:NAME`, `deliver:TARGET`). The keeper, a
//! thread with its own store connection, says the instance is alive and
//! takes or renews every lease its components want, every third of
//! `[gateway] lease_secs`; a component works only while its lease is
//! surely held: until `lease_secs` after the renewal that gave it, by this
//! machine's clock, counted from before the renewal was asked for. An
//! instance killed, or cut off from the store, stops renewing; once its
//! leases expire, another instance's keeper takes them over, and what the
//! dead one left (files `received`, deliveries not made) is taken up
//! there. A clean stop gives the leases up at once.
//!
//! On the embedded store one instance owns the data directory (its lock):
//! its keeper takes every lease at once, and nothing waits.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::Gateway as Config;
use crate::store::Store;

use super::stop::Stop;
use super::wake::Wake;

/// Which leases the instance wants, and until when it surely holds each.
#[derive(Debug, Default)]
pub struct Held {
    /// Lease name → held until (none: not held).
    leases: Mutex<BTreeMap<String, Option<Instant>>>,
    /// Leases no longer wanted, to be given up.
    unwanted: Mutex<Vec<String>>,
}

impl Held {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Option<Instant>>> {
        self.leases.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wants exactly `names` from now on: the others are given up.
    pub fn want(&self, names: &[String]) {
        let mut map = self.map();
        let gone: Vec<String> = map.keys().filter(|k| !names.contains(k)).cloned().collect();
        for name in &gone {
            map.remove(name);
        }
        for name in names {
            map.entry(name.clone()).or_insert(None);
        }
        drop(map);
        self.unwanted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(gone);
    }

    /// Whether the instance surely holds lease `name` now.
    pub fn holds(&self, name: &str) -> bool {
        self.map()
            .get(name)
            .copied()
            .flatten()
            .is_some_and(|until| Instant::now() < until)
    }

    fn names(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }

    fn set(&self, name: &str, until: Option<Instant>) {
        if let Some(slot) = self.map().get_mut(name) {
            *slot = until;
        }
    }

    fn take_unwanted(&self) -> Vec<String> {
        std::mem::take(&mut *self.unwanted.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// This instance, as the store lists it.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Unique among the instances: host, process and start.
    pub id: String,
    /// For people: host, process, version.
    pub about: String,
}

impl Identity {
    /// This process's identity.
    pub fn of_this_process() -> Identity {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        let pid = std::process::id();
        let started = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        Identity {
            id: format!("{host}:{pid}:{started}"),
            about: format!("{host} pid {pid}, dropgate {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Starts the keeper on a thread of its own; it ends when `stop` is
/// raised, giving the instance's leases up. `wake` is rung when a lease is
/// taken, so that a waiting component starts at once.
pub fn start(
    config: Arc<Config>,
    me: Identity,
    held: Arc<Held>,
    wake: Arc<Wake>,
    stop: Stop,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("leases".into())
        .spawn(move || keep(&config, &me, &held, &wake, &stop))
}

fn keep(config: &Config, me: &Identity, held: &Held, wake: &Wake, stop: &Stop) {
    let secs = config.gateway.lease_secs.max(3);
    let every = Duration::from_secs(secs) / 3;
    let mut store: Option<Box<dyn Store>> = None;
    let mut seen = wake.seen();
    while !stop.is_raised() {
        if store.is_none() {
            match super::open_store(config) {
                Ok(s) => store = Some(s),
                Err(e) => tracing::error!(error = %e, "leases wait for the store; tried again"),
            }
        }
        if let Some(s) = store.as_mut()
            && let Err(e) = round(s.as_mut(), me, held, secs, wake)
        {
            tracing::error!(error = %e, "leases not renewed; tried again");
            // A connection that failed is opened again.
            store = None;
        }
        wake.wait(&mut seen, every);
    }
    // Stopped: the components have ended; the leases go at once.
    let s = match store {
        Some(s) => Some(s),
        None => super::open_store(config).ok(),
    };
    if let Some(mut s) = s
        && let Err(e) = s.leave(&me.id)
    {
        tracing::warn!(error = %e, "leases not given up: they expire");
    }
}

/// One round: the heartbeat, the leases given up, and every lease wanted
/// taken or renewed.
fn round(
    store: &mut dyn Store,
    me: &Identity,
    held: &Held,
    secs: u64,
    wake: &Wake,
) -> Result<(), crate::store::StoreError> {
    store.heartbeat(&me.id, &me.about, secs.saturating_mul(2))?;
    for name in held.take_unwanted() {
        store.release(&name, &me.id)?;
    }
    let mut taken = false;
    for name in held.names() {
        // Counted from before the store was asked: surely held until then.
        let asked = Instant::now();
        let had = held.holds(&name);
        let holds = store.lease(&name, &me.id, secs)?;
        held.set(&name, holds.then(|| asked + Duration::from_secs(secs)));
        if holds && !had {
            tracing::info!(lease = %name, "lease taken");
            taken = true;
        } else if had && !holds {
            tracing::warn!(lease = %name, "lease lost to another instance");
        }
    }
    if taken {
        wake.ring();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wanted_leases_are_kept_and_held_ones_expire() {
        let held = Held::default();
        held.want(&["channel:a".to_string(), "deliver:relay".to_string()]);
        assert!(!held.holds("channel:a"), "wanted is not held");
        held.set("channel:a", Some(Instant::now() + Duration::from_secs(60)));
        assert!(held.holds("channel:a"));
        held.set("deliver:relay", Some(Instant::now()));
        assert!(!held.holds("deliver:relay"), "held until a moment past");
        held.want(&["deliver:relay".to_string()]);
        assert!(!held.holds("channel:a"), "no longer wanted");
        assert_eq!(held.take_unwanted(), ["channel:a"]);
        assert!(held.take_unwanted().is_empty());
    }
}
