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

/// What the instance knows of one lease it wants.
#[derive(Debug, Default)]
struct State {
    /// Surely held until then (none: not held).
    until: Option<Instant>,
    /// Being given up to another instance: no new work starts under it,
    /// and it goes once the work under way has ended.
    giving_up: bool,
    /// Components at work under it now.
    busy: usize,
    /// Given up a moment ago: not taken again before then, so that the
    /// instance it was given up for takes it.
    not_before: Option<Instant>,
}

/// Which leases the instance wants, and what it holds.
#[derive(Debug, Default)]
pub struct Held {
    leases: Mutex<BTreeMap<String, State>>,
    /// Leases no longer wanted, to be given up.
    unwanted: Mutex<Vec<String>>,
}

/// Work under way under a lease: while it lives, the lease is not given up.
#[derive(Debug)]
pub struct Busy {
    held: Arc<Held>,
    name: String,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(state) = self.held.map().get_mut(&self.name) {
            state.busy = state.busy.saturating_sub(1);
        }
    }
}

impl Held {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, State>> {
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
            map.entry(name.clone()).or_default();
        }
        drop(map);
        self.unwanted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(gone);
    }

    /// Whether the instance surely holds lease `name` now (and is not
    /// giving it up); the components ask with [`Held::enter`].
    #[cfg(test)]
    fn holds(&self, name: &str) -> bool {
        self.map().get(name).is_some_and(usable)
    }

    /// Starts work under lease `name`, when the instance holds it and is
    /// not giving it up: the lease stays while the answer lives.
    pub fn enter(self: &Arc<Self>, name: &str) -> Option<Busy> {
        let mut map = self.map();
        let state = map.get_mut(name).filter(|s| usable(s))?;
        state.busy += 1;
        Some(Busy {
            held: Arc::clone(self),
            name: name.to_string(),
        })
    }

    fn names(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }

    fn take_unwanted(&self) -> Vec<String> {
        std::mem::take(&mut *self.unwanted.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Whether work may start under a lease in `state`.
fn usable(state: &State) -> bool {
    !state.giving_up && state.until.is_some_and(|until| Instant::now() < until)
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

/// One round: the heartbeat; the leases no longer wanted, and those given
/// up whose work has ended, released; the leases held renewed; one given
/// up when this instance holds two more than another; and free ones taken
/// while it holds fewer than its share (the wanted leases over the
/// instances alive, rounded up).
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
    let alive = store.instances()?;
    let names = held.names();
    let share = names.len().div_ceil(alive.len().max(1));
    let fewest = alive.iter().map(|i| i.leases.len()).min().unwrap_or(0);
    let now = Instant::now();
    let valid = Duration::from_secs(secs);
    // Renew what is held; release what was given up once idle.
    let mut holding = 0;
    for name in &names {
        let (until, giving_up, busy) = match held.map().get(name) {
            Some(s) => (s.until, s.giving_up, s.busy),
            None => continue,
        };
        if until.is_none_or(|u| u <= now) {
            continue;
        }
        if giving_up && busy == 0 {
            store.release(name, &me.id)?;
            if let Some(s) = held.map().get_mut(name) {
                *s = State {
                    not_before: Some(now + valid),
                    ..State::default()
                };
            }
            tracing::info!(lease = %name, "lease given up to another instance");
            continue;
        }
        let asked = Instant::now();
        let kept = store.lease(name, &me.id, secs)?;
        if let Some(s) = held.map().get_mut(name) {
            s.until = kept.then(|| asked + valid);
        }
        if kept {
            holding += 1;
        } else {
            tracing::warn!(lease = %name, "lease lost to another instance");
        }
    }
    // Two more than another instance: one is given up (once its work has
    // ended), for that one to take.
    if holding > fewest + 1 {
        let mut map = held.map();
        // An idle one first: a busy one (a relay that is delivering) would
        // keep the others waiting until its work ends.
        let held_now = |s: &State| s.until.is_some_and(|u| u > now);
        let idle = map.values().rev().position(|s| held_now(s) && s.busy == 0);
        let any = map.values().rev().position(held_now);
        if !map.values().any(|s| s.giving_up)
            && let Some(k) = idle.or(any)
            && let Some(s) = map.values_mut().rev().nth(k)
        {
            s.giving_up = true;
        }
    }
    // Free leases taken, up to the share.
    let mut taken = false;
    for name in &names {
        if holding >= share {
            break;
        }
        let free_to_take = held.map().get(name).is_some_and(|s| {
            s.until.is_none_or(|u| u <= now) && s.not_before.is_none_or(|t| t <= now)
        });
        if !free_to_take {
            continue;
        }
        let asked = Instant::now();
        if store.lease(name, &me.id, secs)? {
            if let Some(s) = held.map().get_mut(name) {
                s.until = Some(asked + valid);
                s.giving_up = false;
            }
            tracing::info!(lease = %name, "lease taken");
            holding += 1;
            taken = true;
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

    fn held_until(held: &Held, name: &str, until: Instant) {
        if let Some(s) = held.map().get_mut(name) {
            s.until = Some(until);
        }
    }

    #[test]
    fn only_wanted_leases_are_kept_and_held_ones_expire() {
        let held = Held::default();
        held.want(&["channel:a".to_string(), "deliver:relay".to_string()]);
        assert!(!held.holds("channel:a"), "wanted is not held");
        held_until(&held, "channel:a", Instant::now() + Duration::from_secs(60));
        assert!(held.holds("channel:a"));
        held_until(&held, "deliver:relay", Instant::now());
        assert!(!held.holds("deliver:relay"), "held until a moment past");
        held.want(&["deliver:relay".to_string()]);
        assert!(!held.holds("channel:a"), "no longer wanted");
        assert_eq!(held.take_unwanted(), ["channel:a"]);
        assert!(held.take_unwanted().is_empty());
    }

    #[test]
    fn a_lease_given_up_starts_no_new_work_and_waits_for_the_work_under_way() {
        let held = Arc::new(Held::default());
        held.want(&["channel:a".to_string()]);
        held_until(&held, "channel:a", Instant::now() + Duration::from_secs(60));
        let busy = held.enter("channel:a").expect("held");
        if let Some(s) = held.map().get_mut("channel:a") {
            s.giving_up = true;
        }
        assert!(held.enter("channel:a").is_none(), "no new work");
        assert_eq!(held.map().get("channel:a").map(|s| s.busy), Some(1));
        drop(busy);
        assert_eq!(held.map().get("channel:a").map(|s| s.busy), Some(0));
    }
}
