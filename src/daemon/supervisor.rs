//! The running daemon (`dropgate run`): its components side by side, each
//! with its own connection to the store and no lock shared with another,
//! one shutdown for all and a reload on SIGHUP.
//!
//! - an intake per inbound channel ([`intake`]): passes over its channel
//!   on the channel's schedule (files listed, fetched, archived and
//!   recorded); a channel that hangs holds up only itself, and an intake
//!   takes no more off its channel while [`super::BACKLOG`] of its files
//!   wait to be translated;
//! - the translator ([`translator`]): claims the files recorded (by this
//!   instance's intakes or another's) and processes them a batch at a
//!   time, their acknowledgments and documents queued; the translators of
//!   several instances share out one busy channel's files;
//! - a delivery worker per target ([`super::delivery_worker`]);
//! - the HTTP API ([`super::api`]): reads and queues, never delivers;
//! - the web console ([`super::console`]): reads, and writes the small
//!   actions a person takes.
//!
//! Shutdown (SIGTERM) raises one [`Stop`] that every component looks at
//! between steps; what is under way gets `[gateway] shutdown_grace_secs`,
//! and past that it is abandoned (each step is atomic: what was left is
//! taken up at the next start). A reload (SIGHUP) stops the intakes
//! and the translator between two of their passes and starts them again
//! on the new
//! configuration, replaces the API's configuration and mappings, and
//! restarts the delivery workers whose settings changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    DaemonError, Gateway, IntakePlan, Stop, TranslatorPlan, alerts, api, as2, console, deliver,
    delivery_worker, handover, leases, open_store, wake, watch,
};
use crate::config::Gateway as Config;

/// Longest wait before a pass that failed is tried again, in seconds.
const MAX_PASS_RETRY_SECS: u64 = 300;

/// The moment `grace` from now (a day at most).
fn deadline_after(grace: Duration) -> Instant {
    Instant::now() + grace.min(Duration::from_secs(86_400))
}

/// How [`run`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Everything under way was finished.
    Finished,
    /// Told to stop, a pass (or a request to the API) went on past the
    /// grace and was left where it was: its thread may still be running,
    /// and the process should exit now. Nothing is lost (each step is atomic, what was left is taken up
    /// at the next start).
    Abandoned,
}

/// An HTTP server under way (the API, the console) with what its
/// handlers share, and the signal to stop it.
struct Served<S> {
    shared: Option<Arc<S>>,
    stop_api: tokio::sync::watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// What it is, for the log.
    what: &'static str,
}

/// The HTTP API under way.
type Api = Served<api::Shared>;

impl<S> Served<S> {
    /// Nothing served: not configured.
    fn none(what: &'static str) -> Served<S> {
        Served {
            shared: None,
            stop_api: tokio::sync::watch::channel(false).0,
            server: None,
            what,
        }
    }

    /// Serves `app` on `listener` until told to stop.
    fn start(
        what: &'static str,
        shared: Arc<S>,
        listener: tokio::net::TcpListener,
        app: axum::Router,
    ) -> Served<S> {
        let (stop_api, mut stopped) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        });
        Served {
            shared: Some(shared),
            stop_api,
            server: Some(server),
            what,
        }
    }

    /// Stops the server taking new connections.
    fn refuse_new_requests(&self) {
        let _ = self.stop_api.send(true);
    }

    /// Stops the server: no new connection is taken, and those under way
    /// get until `deadline`. False when some were still under way then.
    async fn stop(self, deadline: Instant) -> bool {
        self.refuse_new_requests();
        let Some(server) = self.server else {
            return true;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if tokio::time::timeout_at(deadline, server).await.is_err() {
            tracing::warn!(
                "requests to the {} still under way were abandoned",
                self.what
            );
            return false;
        }
        true
    }
}

/// The delivery workers under way, and those told to stop (on a reload)
/// that have not ended yet.
struct Workers {
    running: Vec<delivery_worker::Running>,
    metrics: Arc<api::Metrics>,
    wake: Arc<wake::Wake>,
    held: Arc<leases::Held>,
    stop: Stop,
}

impl Workers {
    /// Brings the workers in line with `config`: those whose plan changed
    /// or is gone are stopped, and their replacements started only once
    /// they have ended, so that two workers never make the same delivery.
    async fn align(&mut self, config: &Arc<Config>) -> Result<(), DaemonError> {
        let plans = delivery_worker::plans(config);
        let (kept, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|w| plans.contains(&w.plan));
        for w in &gone {
            w.stop();
        }
        self.wake.ring();
        while gone.iter().any(|w| !w.is_finished()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.running = kept;
        for plan in plans {
            if self.running.iter().any(|w| w.plan == plan) {
                continue;
            }
            let started = delivery_worker::start(
                plan,
                Arc::clone(config),
                Arc::clone(&self.wake),
                Arc::clone(&self.metrics),
                Arc::clone(&self.held),
                self.stop.clone(),
            )
            .map_err(|e| DaemonError::Api(format!("starting a delivery worker: {e}")))?;
            self.running.push(started);
        }
        Ok(())
    }

    /// Waits until every worker has ended (told to stop), or `deadline`.
    /// False when some were still at work then.
    async fn ended_by(&self, deadline: Instant) -> bool {
        self.wake.ring();
        while self.running.iter().any(|w| !w.is_finished()) {
            if Instant::now() >= deadline {
                tracing::warn!("deliveries still under way were abandoned");
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

/// What the intakes share with the supervisor.
#[derive(Clone)]
struct Common {
    metrics: Arc<api::Metrics>,
    wake: Arc<wake::Wake>,
    held: Arc<leases::Held>,
    /// This instance's id, under which the translator claims files.
    me: String,
    /// The bodies of the files the intakes recorded, for the translator.
    handover: Arc<handover::Handover>,
    /// Where an intake that stopped on a bug says so.
    fatal: tokio::sync::mpsc::Sender<DaemonError>,
}

/// An intake, or the translator, under way.
struct Intake {
    stop: Stop,
    task: tokio::task::JoinHandle<()>,
}

/// The leases the components of `gateway`'s configuration need.
fn leases_of(gateway: &Gateway) -> Vec<String> {
    gateway
        .intake_plans()
        .iter()
        .map(IntakePlan::lease)
        .chain(
            delivery_worker::plans(&gateway.config)
                .iter()
                .map(delivery_worker::Plan::lease),
        )
        .chain([watch::LEASE.to_string()])
        .collect()
}

/// Starts the intakes of `gateway`'s configuration and its translator,
/// each a child of `stop`.
fn start_intakes(gateway: &Gateway, common: &Common, stop: &Stop) -> Vec<Intake> {
    let mut started: Vec<Intake> = gateway
        .intake_plans()
        .into_iter()
        .map(|plan| {
            let own = stop.child();
            let task = tokio::spawn(intake(plan, own.clone(), common.clone()));
            Intake { stop: own, task }
        })
        .collect();
    let own = stop.child();
    let task = tokio::spawn(translator(
        gateway.translator_plan(),
        common.me.clone(),
        own.clone(),
        common.clone(),
    ));
    started.push(Intake { stop: own, task });
    let own = stop.child();
    let task = tokio::spawn(watcher(
        Arc::clone(&gateway.config),
        own.clone(),
        common.clone(),
    ));
    started.push(Intake { stop: own, task });
    started
}

/// The exception watcher's loop (see [`watch`]): under its lease, every
/// `[alerts] check_every`, the rules checked and exceptions opened and
/// closed, then the alerts sent ([`alerts`]), the store used on blocking
/// threads only and nothing held across the network.
async fn watcher(config: Arc<Config>, stop: Stop, common: Common) {
    let started = chrono::Utc::now();
    let every = config.alerts.check_every.0;
    let mut store: Option<Box<dyn crate::store::Store>> = None;
    let mut failures = 0u32;
    while !stop.is_raised() {
        let Some(busy) = common.held.enter(watch::LEASE) else {
            sleep_unless_stopped(LOOK_AT_LEASE, &stop).await;
            continue;
        };
        let (kept, round) = watch_round(Arc::clone(&config), store.take(), started).await;
        drop(busy);
        let wait = match round {
            Ok(()) => {
                store = kept;
                failures = 0;
                every
            }
            Err(DaemonError::Panicked(e)) => {
                let _ = common.fatal.send(DaemonError::Panicked(e)).await;
                return;
            }
            Err(e) => {
                // A connection that failed is opened again.
                failures += 1;
                failed_pass(&common, watch::LEASE, &e, every, failures)
            }
        };
        sleep_unless_stopped(wait, &stop).await;
    }
}

/// One round of the watcher: the rules checked and the exceptions opened
/// and closed (on a blocking thread), the alerts sent (with nothing
/// held), what was told recorded (on a blocking thread). Gives back the
/// store connection, and `Panicked` for a bug.
async fn watch_round(
    config: Arc<Config>,
    store: Option<Box<dyn crate::store::Store>>,
    started: chrono::DateTime<chrono::Utc>,
) -> (
    Option<Box<dyn crate::store::Store>>,
    Result<(), DaemonError>,
) {
    let cfg = Arc::clone(&config);
    let checked = tokio::task::spawn_blocking(move || {
        let mut s = store.map_or_else(|| open_store(&cfg), Ok)?;
        let now = chrono::Utc::now();
        let checked = watch::check(&cfg, s.as_mut(), now, started)?;
        let pending = alerts::pending(&cfg, s.as_mut(), now)?;
        Ok::<_, crate::store::StoreError>((s, checked, pending))
    })
    .await;
    let (mut s, checked, pending) = match checked {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return (None, Err(DaemonError::Store(e))),
        Err(e) => return (None, Err(DaemonError::Panicked(e.to_string()))),
    };
    if !checked.opened.is_empty() || checked.closed > 0 {
        tracing::info!(
            opened = checked.opened.len(),
            closed = checked.closed,
            open = checked.open,
            "exceptions"
        );
    }
    let told = alerts::send(&config, pending).await;
    for e in &told.errors {
        tracing::warn!(error = %e, "an alert was not sent; it is tried again");
    }
    let recorded = tokio::task::spawn_blocking(move || {
        let r = alerts::record(s.as_mut(), &told, chrono::Utc::now());
        (s, r)
    })
    .await;
    match recorded {
        Ok((s, Ok(()))) => (Some(s), Ok(())),
        Ok((_, Err(e))) => (None, Err(DaemonError::Store(e))),
        Err(e) => (None, Err(DaemonError::Panicked(e.to_string()))),
    }
}

/// Waits for `intakes` to end (told to stop), or `deadline`. False when
/// some pass was still under way then (it is abandoned).
async fn intakes_ended(intakes: Vec<Intake>, deadline: Instant, grace: Duration) -> bool {
    let mut finished = true;
    for i in intakes {
        i.stop.raise();
        let at = tokio::time::Instant::from_std(deadline);
        if tokio::time::timeout_at(at, i.task).await.is_err() {
            finished = false;
        }
    }
    if !finished {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "a pass under way did not finish within the grace: abandoned (what it left is taken up at the next start)"
        );
    }
    finished
}

/// An intake's loop: its connections opened, a pass over its channel,
/// then a wait of the channel's poll interval, until `stop` is raised. A
/// pass that fails (a full disk, a database restarting), or connections
/// that cannot be opened, are tried again after a growing wait.
async fn intake(plan: IntakePlan, stop: Stop, common: Common) {
    let every = Duration::from_secs(plan.poll_interval_secs());
    let lease = plan.lease();
    let mut gateway: Option<Gateway> = None;
    let mut failures = 0u32;
    while !stop.is_raised() {
        // Another instance polls the channel while it holds the lease; and
        // a lease being given up to another starts no new pass.
        let Some(busy) = common.held.enter(&lease) else {
            tokio::time::sleep(LOOK_AT_LEASE).await;
            continue;
        };
        let pass_stop = stop.clone();
        let opener = plan.clone();
        let handover = Arc::clone(&common.handover);
        let joined = tokio::task::spawn_blocking(move || {
            let mut g = match gateway.map_or_else(|| opener.open(&handover), Ok) {
                Ok(g) => g,
                Err(e) => return (None, Err(e)),
            };
            let report = g.scheduled_pass_until(&pass_stop);
            (Some(g), report)
        })
        .await;
        // The pass is over: the lease may go to another instance.
        drop(busy);
        let outcome = match joined {
            Ok((g, outcome)) => {
                gateway = g;
                outcome
            }
            Err(e) => {
                let _ = common
                    .fatal
                    .send(DaemonError::Panicked(e.to_string()))
                    .await;
                return;
            }
        };
        let wait = match outcome {
            Ok(report) => {
                failures = 0;
                common.metrics.record(&report);
                if report.received > 0 {
                    // The translator claims them.
                    common.wake.ring();
                }
                every
            }
            Err(DaemonError::Panicked(e)) => {
                let _ = common.fatal.send(DaemonError::Panicked(e)).await;
                return;
            }
            Err(e) => {
                failures += 1;
                failed_pass(&common, plan.channel(), &e, every, failures)
            }
        };
        sleep_unless_stopped(wait, &stop).await;
    }
}

/// Counts and logs a pass that failed for the `failures`th time in a row:
/// the wait before it is tried again, growing from `every`.
fn failed_pass(
    common: &Common,
    component: &str,
    e: &DaemonError,
    every: Duration,
    failures: u32,
) -> Duration {
    common.metrics.pass_failed();
    let wait = deliver::backoff_secs(
        every.as_secs(),
        failures.saturating_sub(1),
        MAX_PASS_RETRY_SECS,
        u64::from(std::process::id()),
    );
    tracing::error!(
        component,
        error = %e,
        failures,
        retry_secs = wait,
        "the pass failed; nothing is lost, it is tried again"
    );
    Duration::from_secs(wait)
}

/// Waits `wait`, or until `stop` is raised.
async fn sleep_unless_stopped(wait: Duration, stop: &Stop) {
    let until = tokio::time::Instant::now() + wait;
    while !stop.is_raised() && tokio::time::Instant::now() < until {
        tokio::time::sleep_until(until.min(tokio::time::Instant::now() + LOOK_AT_STOP)).await;
    }
}

/// The translator's loop: claims the files left `received` and processes
/// them ([`Gateway::process_claimed`]) until none is left, then waits to
/// be woken (an intake recorded files) or [`LOOK_FOR_FILES`] (another
/// instance's intake did), until `stop` is raised. A pass that fails is
/// tried again after a growing wait.
async fn translator(plan: TranslatorPlan, me: String, stop: Stop, common: Common) {
    let every = Duration::from_secs(1);
    let mut gateway: Option<Gateway> = None;
    let mut failures = 0u32;
    let mut seen = common.wake.seen();
    while !stop.is_raised() {
        let pass_stop = stop.clone();
        let opener = plan.clone();
        let holder = me.clone();
        let wake = Arc::clone(&common.wake);
        let handover = Arc::clone(&common.handover);
        let joined = tokio::task::spawn_blocking(move || {
            let mut g = match gateway.map_or_else(|| opener.open(&handover), Ok) {
                Ok(g) => g,
                Err(e) => return (None, Err(e), seen),
            };
            let report = g.process_claimed(&holder, &pass_stop);
            // Nothing to claim: it waits here, off the async workers.
            if report.as_ref().is_ok_and(|r| r.files.is_empty()) && !pass_stop.is_raised() {
                wake.wait(&mut seen, LOOK_FOR_FILES);
            }
            (Some(g), report, seen)
        })
        .await;
        let outcome = match joined {
            Ok((g, outcome, now_seen)) => {
                gateway = g;
                seen = now_seen;
                outcome
            }
            Err(e) => {
                let _ = common
                    .fatal
                    .send(DaemonError::Panicked(e.to_string()))
                    .await;
                return;
            }
        };
        match outcome {
            Ok(report) => {
                failures = 0;
                if !report.files.is_empty() {
                    common.metrics.record(&report);
                    // Their acknowledgments and documents wait in the outbox.
                    common.wake.ring();
                }
            }
            Err(DaemonError::Panicked(e)) => {
                let _ = common.fatal.send(DaemonError::Panicked(e)).await;
                return;
            }
            Err(e) => {
                failures += 1;
                let wait = failed_pass(&common, "translator", &e, every, failures);
                sleep_unless_stopped(wait, &stop).await;
            }
        }
    }
}

/// How often an idle translator looks for files that another instance
/// recorded (its own intakes wake it).
const LOOK_FOR_FILES: Duration = Duration::from_secs(1);

/// How often an intake without its lease looks whether it has it now.
const LOOK_AT_LEASE: Duration = Duration::from_millis(250);

/// How often a waiting intake looks whether it is told to stop.
const LOOK_AT_STOP: Duration = Duration::from_millis(50);

/// Runs the daemon's components (see the module's comment) until
/// `shutdown` resolves. A gateway received on `reloads` (the
/// configuration and mappings read again) replaces the running one.
pub async fn run(
    gateway: Gateway,
    shutdown: impl std::future::Future<Output = ()>,
    mut reloads: tokio::sync::mpsc::Receiver<Gateway>,
) -> Result<Ending, DaemonError> {
    let mut grace = Duration::from_secs(gateway.config.gateway.shutdown_grace_secs);
    let stop = Stop::new();
    let (fatal, mut fatals) = tokio::sync::mpsc::channel(4);
    // The leases outlive the components: given up once they have ended.
    let me = leases::Identity::of_this_process();
    tracing::info!(instance = %me.id, "this instance");
    let bell = Arc::new(wake::Wake::new());
    let common = Common {
        metrics: Arc::new(api::Metrics::default()),
        wake: Arc::clone(&bell),
        held: Arc::new(leases::Held::default()),
        me: me.id.clone(),
        handover: Arc::new(handover::Handover::ringing(bell)),
        fatal,
    };
    // What a killed process left half written goes before anything starts,
    // and on the embedded store what it held is free at once (before the
    // keeper takes the leases).
    let common_me = common.me.clone();
    let (gateway, cleaned) = tokio::task::spawn_blocking(move || {
        let mut gateway = gateway;
        let cleaned = gateway.remove_temporary_files();
        gateway.forget_the_dead_when_alone(&common_me);
        (gateway, cleaned)
    })
    .await
    .map_err(|e| DaemonError::Panicked(e.to_string()))?;
    common.held.want(&leases_of(&gateway));
    let keeper_stop = Stop::new();
    let keeper = leases::start(
        Arc::clone(&gateway.config),
        me,
        Arc::clone(&common.held),
        Arc::clone(&common.wake),
        keeper_stop.clone(),
    )
    .map_err(|e| DaemonError::Api(format!("starting the lease keeper: {e}")))?;
    match cleaned {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "temporary files left by an earlier run removed"),
        Err(e) => tracing::warn!(error = %e, "temporary files not removed"),
    }
    let api = serve(&gateway, &common.metrics, &common.wake).await?;
    let console = serve_console(&gateway, &common.wake).await?;
    let as2_server = serve_as2(&gateway, &common.wake).await?;
    let mut workers = Workers {
        running: Vec::new(),
        metrics: Arc::clone(&common.metrics),
        wake: Arc::clone(&common.wake),
        held: Arc::clone(&common.held),
        stop: stop.clone(),
    };
    workers.align(&gateway.config).await?;
    let mut intakes = start_intakes(&gateway, &common, &stop);
    tokio::pin!(shutdown);
    let result = loop {
        tokio::select! {
            () = &mut shutdown => {
                tracing::info!(
                    grace_secs = grace.as_secs(),
                    "stopping: no new work is taken up, what is under way gets the grace to finish"
                );
                break Ok(());
            }
            Some(e) = fatals.recv() => break Err(e),
            Some(fresh) = reloads.recv() => {
                grace = Duration::from_secs(fresh.config.gateway.shutdown_grace_secs);
                if let Some(shared) = &api.shared {
                    shared.replace_parts(api::Parts {
                        config: Arc::clone(&fresh.config),
                        library: Arc::clone(&fresh.library),
                    });
                }
                match &console.shared {
                    Some(shared) => reload_console(shared, &fresh.config).await,
                    None if fresh.config.console.is_some() => tracing::warn!(
                        "[console] was added: the console opens at the next start"
                    ),
                    None => {}
                }
                match &as2_server.shared {
                    Some(shared) => reload_as2(shared, &fresh.config).await,
                    None if fresh.config.as2.is_some() => tracing::warn!(
                        "[as2] was added: the AS2 server opens at the next start"
                    ),
                    None => {}
                }
                tracing::info!(
                    partners = fresh.config.partners.len(),
                    channels = fresh.channels.len(),
                    "configuration and mappings reloaded"
                );
                // The intakes end their pass under way, then start again
                // on the new configuration (two intakes never take up the
                // same file).
                for i in &intakes {
                    i.stop.raise();
                }
                common.wake.ring();
                for i in std::mem::take(&mut intakes) {
                    if let Err(e) = i.task.await {
                        tracing::error!(error = %e, "an intake stopped on a bug");
                    }
                }
                common.held.want(&leases_of(&fresh));
                let config = Arc::clone(&fresh.config);
                if let Err(e) = workers.align(&config).await {
                    break Err(e);
                }
                intakes = start_intakes(&fresh, &common, &stop);
            }
        }
    };
    stop.raise();
    common.wake.ring();
    api.refuse_new_requests();
    console.refuse_new_requests();
    as2_server.refuse_new_requests();
    let deadline = deadline_after(grace);
    let intakes_finished = intakes_ended(intakes, deadline, grace).await;
    let workers_finished = workers.ended_by(deadline).await;
    let api_finished = api.stop(deadline).await;
    let console_finished = console.stop(deadline).await;
    let as2_finished = as2_server.stop(deadline).await;
    // Nothing of this instance works any more (or it is abandoned, and
    // the process ends): its leases go to the others at once.
    keeper_stop.raise();
    common.wake.ring();
    if intakes_finished && workers_finished {
        let _ = tokio::task::spawn_blocking(move || keeper.join()).await;
    }
    result?;
    Ok(
        if intakes_finished && workers_finished && api_finished && console_finished && as2_finished
        {
            Ending::Finished
        } else {
            Ending::Abandoned
        },
    )
}

/// Starts the HTTP API, when it is configured, with a connection to the
/// store of its own.
async fn serve(
    gateway: &Gateway,
    metrics: &Arc<api::Metrics>,
    wake: &Arc<wake::Wake>,
) -> Result<Api, DaemonError> {
    let Some(settings) = gateway.config.api.clone() else {
        return Ok(Api::none("API"));
    };
    let token = api_token(&settings)?;
    let config = Arc::clone(&gateway.config);
    let (store, reader) = tokio::task::spawn_blocking(move || {
        Ok::<_, DaemonError>((open_store(&config)?, open_store(&config)?))
    })
    .await
    .map_err(|e| DaemonError::Panicked(e.to_string()))??;
    let shared = Arc::new(api::Shared {
        parts: std::sync::RwLock::new(Arc::new(api::Parts {
            config: Arc::clone(&gateway.config),
            library: Arc::clone(&gateway.library),
        })),
        store: std::sync::Mutex::new(store),
        reader: std::sync::Mutex::new(reader),
        metrics: Arc::clone(metrics),
        token,
        wake: Arc::clone(wake),
    });
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| DaemonError::Api(format!("listening on {}: {e}", settings.listen)))?;
    let app = api::router(Arc::clone(&shared), &settings);
    Ok(Api::start("API", shared, listener, app))
}

/// Starts the web console, when it is configured, with connections to
/// the store and an archive of its own.
async fn serve_console(
    gateway: &Gateway,
    wake: &Arc<wake::Wake>,
) -> Result<Served<console::Shared>, DaemonError> {
    let Some(settings) = gateway.config.console.clone() else {
        return Ok(Served::none("console"));
    };
    let config = Arc::clone(&gateway.config);
    let (reader, writer, archive) = tokio::task::spawn_blocking(move || {
        Ok::<_, DaemonError>((
            open_store(&config)?,
            open_store(&config)?,
            super::open_archive(&config)?,
        ))
    })
    .await
    .map_err(|e| DaemonError::Panicked(e.to_string()))??;
    let shared = Arc::new(console::Shared::new(
        console::Parts {
            config: Arc::clone(&gateway.config),
            archive,
        },
        reader,
        writer,
        Arc::clone(wake),
    ));
    let listener = bind("the console", &settings.listen).await?;
    tracing::info!(
        listen = %settings.listen,
        url = %settings.public_url,
        users = settings.users.len(),
        "the web console is open"
    );
    let app = console::router(Arc::clone(&shared));
    Ok(Served::start("console", shared, listener, app))
}

/// Puts the reloaded configuration in the console's place (its users
/// replaced; an archive that cannot be opened keeps the old one). Where
/// it listens changes only with a restart.
async fn reload_console(shared: &Arc<console::Shared>, config: &Arc<Config>) {
    if config.console.is_none() {
        tracing::warn!(
            "[console] was removed: the console takes no login until the daemon restarts"
        );
    }
    if let Some(archive) = reopen_archive("the console", config).await {
        shared.replace_parts(console::Parts {
            config: Arc::clone(config),
            archive,
        });
    }
}

/// Starts the AS2 server, when `[as2]` is configured, with a connection
/// to the store and an archive of its own.
async fn serve_as2(
    gateway: &Gateway,
    wake: &Arc<wake::Wake>,
) -> Result<Served<as2::Shared>, DaemonError> {
    let Some(settings) = gateway.config.as2.clone() else {
        return Ok(Served::none("AS2 server"));
    };
    let config = Arc::clone(&gateway.config);
    let (store, archive) = tokio::task::spawn_blocking(move || {
        Ok::<_, DaemonError>((open_store(&config)?, super::open_archive(&config)?))
    })
    .await
    .map_err(|e| DaemonError::Panicked(e.to_string()))??;
    let shared = Arc::new(as2::Shared::new(
        as2::Parts {
            config: Arc::clone(&gateway.config),
            archive,
        },
        store,
        Arc::clone(wake),
    ));
    let listener = bind("the AS2 server", &settings.listen).await?;
    tracing::info!(listen = %settings.listen, as2_id = %settings.as2_id, "the AS2 server is open");
    let app = as2::router(Arc::clone(&shared));
    Ok(Served::start("AS2 server", shared, listener, app))
}

/// Puts the reloaded configuration (the partnerships) in the AS2
/// server's place; where it listens changes only with a restart.
async fn reload_as2(shared: &Arc<as2::Shared>, config: &Arc<Config>) {
    if let Some(archive) = reopen_archive("the AS2 server", config).await {
        shared.replace_parts(as2::Parts {
            config: Arc::clone(config),
            archive,
        });
    }
}

/// Listens on `listen` for `what`.
async fn bind(what: &str, listen: &str) -> Result<tokio::net::TcpListener, DaemonError> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| DaemonError::Api(format!("{what}, listening on {listen}: {e}")))
}

/// The archive of a reloaded configuration, for `what`; `None` (said)
/// when it cannot be opened, and `what` keeps its configuration.
async fn reopen_archive(what: &str, config: &Arc<Config>) -> Option<crate::store::Archive> {
    let fresh = Arc::clone(config);
    match tokio::task::spawn_blocking(move || super::open_archive(&fresh)).await {
        Ok(Ok(archive)) => Some(archive),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "{what} keeps its configuration: the archive cannot be opened");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "{what} keeps its configuration");
            None
        }
    }
}

/// The API's bearer token, from its environment variable or file (the
/// rule `check-config` applies too).
fn api_token(api: &crate::config::ApiConfig) -> Result<String, DaemonError> {
    api.token().map_err(|e| DaemonError::Api(e.to_string()))
}
