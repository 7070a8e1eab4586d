//! The delivery workers of a running daemon: one per target (the relay,
//! and each outbound channel partners are sent to), and one for any other
//! target found in the outbox (a channel no longer configured, whose
//! deliveries then fail and say so). Each owns its store connection and
//! its channel, runs on a thread of its own, and makes its target's due
//! deliveries ([`deliver::due`]) whenever the intake or the API rings the
//! [`Wake`] after queuing some, and once a second for retries come due.
//! A receiver that is slow or down holds up only its own target: files
//! are still taken in, and the API still answers.
//!
//! Each delivery is committed on its own as it is made (see [`deliver`]),
//! so a worker stopped or killed between two leaves nothing half done but
//! the one delivery in flight, made again under the same key.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::ChannelConfig;
use crate::config::Gateway as Config;
use crate::relay::RelayConfig;
use crate::store::{Archive, Store, Targets};
use crate::transport::channel::Channel;

use super::api::Metrics;
use super::deliver;
use super::leases::Held;
use super::stop::Stop;
use super::wake::Wake;

/// How often a worker looks at the outbox when nobody rings: the finest
/// step of the retry waits (whole seconds).
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// What a worker's deliveries depend on in the configuration: a worker is
/// started again on a reload only when this changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The deliveries it makes.
    pub targets: Targets,
    relay: Option<RelayConfig>,
    channel: Option<ChannelConfig>,
    retry_secs: u64,
    data_dir: std::path::PathBuf,
}

impl Plan {
    /// The lease an instance holds to run this worker: `deliver:TARGET`
    /// (`deliver:*` for the other targets).
    pub fn lease(&self) -> String {
        match &self.targets {
            Targets::Only(t) => format!("deliver:{t}"),
            Targets::AllBut(_) | Targets::All => "deliver:*".to_string(),
        }
    }

    /// The name of the worker's thread and in its logs.
    pub fn name(&self) -> String {
        match &self.targets {
            Targets::Only(t) => t.clone(),
            Targets::AllBut(_) => "other targets".to_string(),
            Targets::All => "every target".to_string(),
        }
    }
}

/// The workers a configuration needs: the relay's, one per outbound
/// channel of a partner, and one for the rest.
pub fn plans(config: &Config) -> Vec<Plan> {
    let mut targets = vec!["relay".to_string()];
    if config.netsuite.is_some() {
        targets.push(super::netsuite::TARGET.to_string());
    }
    for p in &config.partners {
        if let Some(out) = &p.outbound
            && !targets.contains(&out.channel)
        {
            targets.push(out.channel.clone());
        }
    }
    let plan = |targets: Targets, relay, channel| Plan {
        targets,
        relay,
        channel,
        retry_secs: config.gateway.retry_secs,
        data_dir: config.gateway.data_dir.clone(),
    };
    let mut plans: Vec<Plan> = targets
        .iter()
        .map(|t| match t.as_str() {
            "relay" => plan(Targets::Only(t.clone()), Some(config.relay.clone()), None),
            name => plan(
                Targets::Only(t.clone()),
                None,
                config.channel(name).cloned(),
            ),
        })
        .collect();
    plans.push(plan(Targets::AllBut(targets), None, None));
    plans
}

/// A worker under way.
pub struct Running {
    /// What it was started for.
    pub plan: Plan,
    stop: Stop,
    thread: JoinHandle<()>,
}

impl Running {
    /// Tells it to take up no new delivery (the one under way is
    /// finished, or stopped between two documents).
    pub fn stop(&self) {
        self.stop.raise();
    }

    /// Whether its thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Starts a worker for `plan` on a thread of its own, which opens its own
/// connection to the store (again and again, with a growing wait, while
/// the store cannot be reached). `daemon_stop` is the daemon's: the worker ends
/// when it or its own ([`Running::stop`]) is raised.
pub fn start(
    plan: Plan,
    config: Arc<Config>,
    wake: Arc<Wake>,
    metrics: Arc<Metrics>,
    held: Arc<Held>,
    daemon_stop: Stop,
) -> std::io::Result<Running> {
    let stop = daemon_stop.child();
    let own = stop.clone();
    let worker_plan = plan.clone();
    let thread = std::thread::Builder::new()
        .name(format!("deliver {}", plan.name()))
        .spawn(move || work(&worker_plan, &config, &wake, &metrics, &held, &own))?;
    Ok(Running { plan, stop, thread })
}

/// How long a worker waits after its `failures`th failure in a row of
/// the store: a second, twice as long each time, up to a minute.
fn retry_secs(failures: u32) -> u64 {
    deliver::backoff_secs(
        1,
        failures.saturating_sub(1),
        60,
        u64::from(std::process::id()),
    )
}

/// The worker's loop: due deliveries, then a wait for a ring or a second.
fn work(
    plan: &Plan,
    config: &Config,
    wake: &Wake,
    metrics: &Metrics,
    held: &Arc<Held>,
    stop: &Stop,
) {
    let mut channels: Vec<Channel> = plan
        .channel
        .iter()
        .map(|c| Channel::new(&c.name, &c.kind))
        .collect();
    let mut seen = wake.seen();
    let mut failures = 0u32;
    let mut opened: Option<(Box<dyn Store>, Archive)> = None;
    let lease = plan.lease();
    // The worker of NetSuite's deliveries also looks for its purchase
    // orders.
    let mut poller = (plan.targets == Targets::Only(super::netsuite::TARGET.to_string()))
        .then(super::netsuite::OrderPoller::default);
    while !stop.is_raised() {
        // Another instance delivers to this target while it holds the
        // lease; and a lease being given up to another starts no new round.
        let Some(busy) = held.enter(&lease) else {
            wake.wait(&mut seen, LOOK_EVERY);
            continue;
        };
        let (store, archive) = match &mut opened {
            Some((s, a)) => (s, a),
            None => match super::open_store(config)
                .map_err(super::DaemonError::from)
                .and_then(|s| Ok((s, super::open_archive(config)?)))
            {
                Ok(both) => {
                    let (s, a) = opened.insert(both);
                    (s, a)
                }
                Err(e) => {
                    failures += 1;
                    let secs = retry_secs(failures);
                    tracing::error!(
                        worker = %plan.name(),
                        error = %e,
                        retry_secs = secs,
                        "deliveries wait for the store or the archive; tried again"
                    );
                    wake.wait(&mut seen, Duration::from_secs(secs));
                    continue;
                }
            },
        };
        if let Some(poller) = &mut poller
            && poller.poll_if_due(config, store.as_mut())
        {
            // Orders queued for partners' channels: their workers deliver.
            wake.ring();
        }
        let wait = match deliver::due(
            config,
            store.as_mut(),
            &mut channels,
            archive,
            &plan.targets,
            stop,
        ) {
            Ok(made) => {
                failures = 0;
                metrics.deliveries(&made);
                if made.delivered > 0 {
                    tracing::info!(
                        worker = %plan.name(),
                        delivered = made.delivered,
                        "deliveries made"
                    );
                }
                LOOK_EVERY
            }
            Err(e) => {
                // The store failed (a full disk, a database restarting):
                // nothing was lost; the outbox is looked at again later.
                failures += 1;
                let secs =
                    deliver::backoff_secs(1, failures - 1, 60, u64::from(std::process::id()));
                tracing::error!(
                    worker = %plan.name(),
                    error = %e,
                    retry_secs = secs,
                    "deliveries stopped on the store; tried again"
                );
                Duration::from_secs(secs)
            }
        };
        // The round is over: the lease may go to another instance.
        drop(busy);
        if stop.is_raised() {
            break;
        }
        wake.wait(&mut seen, wait);
    }
}
