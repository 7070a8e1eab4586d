//! The gateway at work: wiring only. A pass ([`Gateway::pass`]) takes up
//! files left unfinished, looks at every inbound channel, runs each new
//! file through the [`pipeline`], then makes the deliveries due from the
//! outbox ([`deliver`]). `dropgate run --once` is one pass; `dropgate run`
//! splits it into components ([`run`]): an intake per channel records
//! what it takes off its channel, a translator claims recorded files and
//! processes them ([`Gateway::process_claimed`]), and delivery workers
//! make the deliveries; a pass that fails (a full disk, a store that does
//! not answer) is tried again later, with a growing wait, while the API
//! goes on serving.
//!
//! Invariants:
//! - a file is archived and recorded before anything else is done with it,
//!   and taken off its channel only after that;
//! - a file's documents, its deliveries and its new state are stored in one
//!   transaction: a crash leaves it `received`, and the next pass (or
//!   translator, once the claim of the one that crashed expired) takes it
//!   up again from the archive;
//! - a claimed file is written to only by its claim's holder.
//! - every delivery has a key that stays the same when it is retried.

pub mod ack;
pub mod alerts;
pub mod api;
pub mod as2;
pub mod body;
pub mod console;
pub mod deliver;
pub mod delivery_worker;
pub mod documents;
pub mod handover;
pub mod index;
pub mod invoices;
pub mod leases;
pub mod netsuite;
pub mod orders;
pub mod pipeline;
pub mod seal;
pub mod send;
pub mod stop;
pub mod supervisor;
pub mod unseal;
pub mod wake;
pub mod watch;

use std::time::{Duration, Instant};

use crate::config::Gateway as Config;
use crate::mapping::Library;
use crate::store::{Archive, Durability, FileRecord, KeptAnswer, Store, StoreError, Targets};
use crate::transport::channel::Channel;
use crate::transport::marker::Marker;
use crate::transport::watch::ReadyRule;
use crate::x12::defs::Definitions;
use body::Body;
use handover::Handover;
use std::sync::Arc;

pub use pipeline::FileOutcome;
pub use stop::Stop;
pub use supervisor::{Ending, run};

/// Files recorded, and processed, per transaction: at most this many...
const BATCH: usize = 64;

/// ...and at most this many bytes of them (a larger file is a batch of its
/// own): a batch's files are held in memory while it is processed.
const BATCH_BYTES: u64 = 64 << 20;

/// How long one pass (`run --once`) waits for files just seen to settle.
const ONCE_WAITS_AT_MOST: Duration = Duration::from_secs(10);

/// Files read from a bucket at the same time.
const READS_AT_ONCE: usize = 16;

/// A translator claims at most [`BATCH`] files and this many bytes of
/// them at a time (at least one file): the share of a backlog that one
/// instance takes, the rest being left to the others.
const CLAIM_BYTES: u64 = 16 << 20;

/// Files of a channel recorded and not taken up yet, past which its intake
/// takes no more off the channel until the translators catch up.
const BACKLOG: u64 = 2 * BATCH as u64;

/// How long an intake whose channel has [`BACKLOG`] files waiting looks
/// again.
const BACKLOG_LOOK: Duration = Duration::from_millis(100);

/// What every component's gateway shares: the configuration and the
/// mappings.
#[derive(Clone)]
struct Parts {
    config: Arc<Config>,
    library: Arc<Library>,
    defs: &'static Definitions,
}

impl Parts {
    /// A gateway on `channels` (all of them inbound), with a connection
    /// to the store and an archive of its own, which makes no deliveries.
    /// Blocks (it connects to the store).
    fn open(
        &self,
        channels: Vec<Channel>,
        records_only: bool,
        alone: bool,
        handover: &Arc<Handover>,
    ) -> Result<Gateway, DaemonError> {
        Ok(Gateway {
            config: Arc::clone(&self.config),
            store: open_store(&self.config)?,
            archive: open_archive(&self.config)?,
            library: Arc::clone(&self.library),
            defs: self.defs,
            inbound: (0..channels.len()).collect(),
            polled: vec![None; channels.len()],
            channels,
            delivers: false,
            alone,
            records_only,
            handover: Some(Arc::clone(handover)),
        })
    }
}

/// What one of the daemon's intakes is made of: the configuration and
/// mappings (shared) and its channel.
#[derive(Clone)]
pub struct IntakePlan {
    parts: Parts,
    channel: String,
}

impl IntakePlan {
    /// Its channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// A gateway that polls only the plan's channel, with a connection to
    /// the store and to the channel of its own: it records what it takes
    /// off the channel, for the translators to claim, and processes and
    /// delivers nothing; the bodies of the files it records are handed
    /// over to the instance's translator. Blocks (it connects to the
    /// store).
    pub fn open(&self, handover: &Arc<Handover>) -> Result<Gateway, DaemonError> {
        let config = &self.parts.config;
        let mut channels: Vec<Channel> = config
            .channel(&self.channel)
            .map(|c| Channel::new(&c.name, &c.kind))
            .into_iter()
            .collect();
        for c in &mut channels {
            c.set_ready_rules(ready_rules(config, c.name()));
        }
        self.parts.open(channels, true, false, handover)
    }

    /// The lease an instance holds to run this intake: `channel:NAME`.
    pub fn lease(&self) -> String {
        format!("channel:{}", self.channel)
    }

    /// How often its intake polls its channel, in seconds.
    pub fn poll_interval_secs(&self) -> u64 {
        self.parts.config.poll_every(&self.channel)
    }
}

/// What the daemon's translator is made of: the configuration and
/// mappings (shared).
#[derive(Clone)]
pub struct TranslatorPlan {
    parts: Parts,
    alone: bool,
}

impl TranslatorPlan {
    /// A gateway with a connection to the store and an archive of its
    /// own, and no channel: it processes the files it claims
    /// ([`Gateway::process_claimed`]), taking their bodies from the
    /// intakes' `handover` when they are there. Blocks (it connects to the
    /// store).
    pub fn open(&self, handover: &Arc<Handover>) -> Result<Gateway, DaemonError> {
        self.parts.open(Vec::new(), false, self.alone, handover)
    }
}

/// Opens another connection to the store `config` names (the daemon's
/// components each have their own).
pub fn open_store(config: &Config) -> Result<Box<dyn Store>, StoreError> {
    let location = config.store_location().map_err(|e| StoreError::Database {
        place: "[store]".into(),
        kind: crate::store::ErrorKind::Unavailable,
        message: format!("the password: {e}"),
    })?;
    crate::store::open(&location)
}

/// Cuts `items` into batches of at most [`BATCH`] items and
/// [`BATCH_BYTES`] bytes, in order.
fn batches<T>(items: &[T], size: impl Fn(&T) -> u64) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (i - start == BATCH || bytes.saturating_add(n) > BATCH_BYTES) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(n);
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// The ready-marker rules of the partners' files on channel `name`.
fn ready_rules(config: &Config, name: &str) -> Vec<ReadyRule> {
    config
        .partners
        .iter()
        .flat_map(|p| &p.inbound)
        .filter(|i| i.channel == name)
        .filter_map(|i| {
            // The configuration checked the template.
            let marker = Marker::new(i.ready_marker.as_deref()?).ok()?;
            Some(ReadyRule {
                patterns: i.patterns.clone(),
                marker,
            })
        })
        .collect()
}

/// An error that stops a pass: the store or the archive failed. Problems of
/// one file or one delivery never do; they are recorded with it.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The store or the archive.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mappings folder cannot be read.
    #[error("mappings: {0}")]
    Mappings(String),
    /// A pass stopped on a bug.
    #[error("a pass failed: {0}")]
    Panicked(String),
    /// The HTTP API cannot start.
    #[error("the API: {0}")]
    Api(String),
}

/// What a pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Each file taken up, in order.
    pub files: Vec<FileOutcome>,
    /// Problems of channels (a folder that cannot be listed): the pass went
    /// on without them.
    pub channel_errors: Vec<String>,
    /// Entries of inbound channels not taken, and why (each name said
    /// once, not at every pass): the channel, the name, the reason.
    pub skipped: Vec<(String, String, &'static str)>,
    /// Deliveries made.
    pub delivered: u64,
    /// Deliveries that failed (they are tried again later), and why.
    pub delivery_errors: Vec<String>,
    /// Deliveries still waiting after the pass.
    pub pending: u64,
    /// Files recorded and left to the translators (a daemon's intake).
    pub received: usize,
    /// The pass was told to stop before it was done: what it did not take
    /// up waits for the next one.
    pub stopped: bool,
    /// Instances of `dropgate run` work on the store: the deliveries were
    /// left to their delivery workers (two makers of one delivery would
    /// make it twice).
    pub left_to_running: bool,
}

/// A running gateway: its configuration, store, archive, mappings and
/// channels.
pub struct Gateway {
    config: std::sync::Arc<Config>,
    store: Box<dyn Store>,
    archive: Archive,
    library: std::sync::Arc<Library>,
    defs: &'static Definitions,
    /// Every configured channel.
    channels: Vec<Channel>,
    /// The indices of those that partners send on, polled in each pass
    /// that finds them due.
    inbound: Vec<usize>,
    /// When each channel was last polled.
    polled: Vec<Option<std::time::Instant>>,
    /// A pass makes the deliveries due at its end (`run --once`, and a
    /// gateway of the command line); not when the daemon's delivery
    /// workers make them.
    delivers: bool,
    /// This process holds the data directory's lock (the embedded store):
    /// no instance of `dropgate run` works on the store beside it, whatever
    /// the store still lists (one killed keeps its row a while).
    alone: bool,
    /// A pass records the files it takes off its channels and processes
    /// none (a daemon's intake: its translators claim them); otherwise it
    /// processes the files left `received`, and those it records.
    records_only: bool,
    /// Where the daemon's intakes leave the bodies of the files they
    /// record, and its translator takes them.
    handover: Option<Arc<Handover>>,
}

impl Gateway {
    /// Opens the data directory (creating it) and the store the
    /// configuration names (`[store]`; SQLite in the data directory by
    /// default). A PostgreSQL store must be opened where blocking is
    /// allowed (not on an async worker).
    pub fn open(config: Config) -> Result<Gateway, DaemonError> {
        let data = &config.gateway.data_dir;
        std::fs::create_dir_all(data).map_err(|source| StoreError::Archive {
            path: data.display().to_string(),
            source,
        })?;
        let store = open_store(&config)?;
        Gateway::with_store(config, store)
    }

    /// A gateway on a given store.
    pub fn with_store(config: Config, store: Box<dyn Store>) -> Result<Gateway, DaemonError> {
        let library = match &config.gateway.mappings {
            Some(dir) => {
                Library::with_dir(dir).map_err(|e| DaemonError::Mappings(e.to_string()))?
            }
            None => Library::embedded(),
        };
        let archive = open_archive(&config)?;
        let mut channels: Vec<Channel> = config
            .channels
            .iter()
            .map(|c| Channel::new(&c.name, &c.kind))
            .collect();
        for channel in &mut channels {
            channel.set_ready_rules(ready_rules(&config, channel.name()));
        }
        let inbound = channels
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                config
                    .partners
                    .iter()
                    .any(|p| p.inbound.iter().any(|i| i.channel == c.name()))
            })
            .map(|(i, _)| i)
            .collect();
        Ok(Gateway {
            config: std::sync::Arc::new(config),
            store,
            archive,
            library: std::sync::Arc::new(library),
            defs: Definitions::embedded(),
            polled: vec![None; channels.len()],
            channels,
            inbound,
            delivers: true,
            alone: false,
            records_only: false,
            handover: None,
        })
    }

    /// Says this process holds the data directory's lock: it is alone on
    /// the store.
    pub fn set_alone(&mut self) {
        self.alone = true;
    }

    /// On the embedded store, where this process holds the data
    /// directory's lock: the instances the store still lists other than
    /// `me` are gone (killed before their heartbeat expired), and their
    /// leases and the files they claimed are free at once rather than
    /// after their heartbeat expires. Nothing is done on a shared store.
    pub fn forget_the_dead_when_alone(&mut self, me: &str) {
        if !self.alone {
            return;
        }
        let forgotten = self.store.instances().and_then(|listed| {
            listed
                .iter()
                .filter(|i| i.id != me)
                .try_for_each(|i| self.store.leave(&i.id))
        });
        if let Err(e) = forgotten {
            tracing::warn!(error = %e, "instances that are gone not forgotten: their leases expire");
        }
    }

    /// The names of the channels partners send on.
    pub fn inbound_channels(&self) -> Vec<String> {
        self.inbound
            .iter()
            .map(|&i| self.channels[i].name().to_string())
            .collect()
    }

    /// The daemon's intakes for this configuration: one per inbound
    /// channel.
    pub fn intake_plans(&self) -> Vec<IntakePlan> {
        self.inbound_channels()
            .into_iter()
            .map(|channel| IntakePlan {
                parts: self.parts(),
                channel,
            })
            .collect()
    }

    /// The daemon's translator for this configuration.
    pub fn translator_plan(&self) -> TranslatorPlan {
        TranslatorPlan {
            parts: self.parts(),
            alone: self.alone,
        }
    }

    fn parts(&self) -> Parts {
        Parts {
            config: Arc::clone(&self.config),
            library: Arc::clone(&self.library),
            defs: self.defs,
        }
    }

    /// The store, to look at what happened.
    pub fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The archive of received files and document packs.
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// One pass over every channel: unfinished files, new files, due
    /// deliveries (`run --once`).
    pub fn pass(&mut self) -> Result<PassReport, DaemonError> {
        self.pass_with(true, &Stop::new())
    }

    /// One pass of the daemon: as [`Gateway::pass`], polling only the
    /// channels whose schedule says they are due.
    pub fn scheduled_pass(&mut self) -> Result<PassReport, DaemonError> {
        self.scheduled_pass_until(&Stop::new())
    }

    /// A scheduled pass that takes up no new work (no next batch of
    /// files, channel or delivery) once `stop` is raised.
    pub fn scheduled_pass_until(&mut self, stop: &Stop) -> Result<PassReport, DaemonError> {
        self.pass_with(false, stop)
    }

    fn pass_with(&mut self, every_channel: bool, stop: &Stop) -> Result<PassReport, DaemonError> {
        let mut report = PassReport::default();
        let unfinished = match self.records_only {
            true => Vec::new(),
            false => self.store.unfinished_files()?,
        };
        for chunk in batches(&unfinished, |f| self.config.gateway.held_in_memory(f.size)) {
            if stop.is_raised() {
                report.stopped = true;
                return Ok(report);
            }
            let files = self.with_bodies(chunk)?;
            let outcomes = self.process_batch(&files, None)?.unwrap_or_default();
            outcomes.iter().for_each(log_file);
            report.files.extend(outcomes);
        }
        for i in self.inbound.clone() {
            if stop.is_raised() {
                report.stopped = true;
                return Ok(report);
            }
            let every = Duration::from_secs(self.config.poll_every(self.channels[i].name()));
            if !every_channel && self.polled[i].is_some_and(|t| t.elapsed() < every) {
                continue;
            }
            self.polled[i] = Some(Instant::now());
            let Some(mut waiting) = self.look(i, &mut report) else {
                continue;
            };
            // One pass (`run --once`) waits for files that are not complete
            // yet only because they were just seen, and looks once more;
            // a channel that wants longer than that is looked at again by
            // the next pass.
            if every_channel
                && let Some(wait) = self.channels[i].settling()
                && wait <= ONCE_WAITS_AT_MOST
            {
                std::thread::sleep(wait + Duration::from_millis(50));
                if let Some(more) = self.look(i, &mut report) {
                    waiting = more;
                }
            }
            for chunk in batches(&waiting, |w| self.config.gateway.held_in_memory(w.size)) {
                if self.records_only && !self.room_for_more(i, every, stop)? {
                    break;
                }
                if stop.is_raised() {
                    report.stopped = true;
                    return Ok(report);
                }
                let mut errors = Vec::new();
                let files = self.receive(i, chunk, &mut errors)?;
                for e in &errors {
                    tracing::error!(error = %e, "channel failed");
                }
                report.channel_errors.extend(errors);
                if self.records_only {
                    report.received += files.len();
                    for (file, body) in files {
                        tracing::info!(
                            file = file.id,
                            name = %file.name,
                            channel = %file.channel,
                            "file received"
                        );
                        if let Some(handover) = &self.handover {
                            handover.put(file.id, body);
                        }
                    }
                    continue;
                }
                let outcomes = self.process_batch(&files, None)?.unwrap_or_default();
                outcomes.iter().for_each(log_file);
                report.files.extend(outcomes);
            }
        }
        if self.delivers {
            let made = deliver::due(
                &self.config,
                self.store.as_mut(),
                &mut self.channels,
                &self.archive,
                &Targets::All,
                stop,
            )?;
            report.delivered = made.delivered;
            report.delivery_errors = made.errors;
        }
        report.pending = self.store.pending_deliveries()?;
        report.stopped = stop.is_raised();
        Ok(report)
    }

    /// Whether an intake may take more files off channel `i`: once fewer
    /// than [`BACKLOG`] of its files wait to be taken up; false when they
    /// did not within `patience`, or the pass is told to stop (what is
    /// left waits on the channel for the next pass).
    fn room_for_more(
        &mut self,
        i: usize,
        patience: Duration,
        stop: &Stop,
    ) -> Result<bool, DaemonError> {
        let until = Instant::now() + patience;
        let channel = self.channels[i].name().to_string();
        loop {
            if self.store.waiting_files(&channel)? < BACKLOG {
                return Ok(true);
            }
            if stop.is_raised() || Instant::now() >= until {
                return Ok(false);
            }
            std::thread::sleep(BACKLOG_LOOK);
        }
    }

    /// Processes the files left `received` that this instance (`holder`)
    /// claims, a batch at a time, until none is left to claim or `stop`
    /// is raised: the daemon's translator. Files whose claim another
    /// instance took over meanwhile (this one was taken for dead) are left
    /// to it, and nothing of them is written.
    pub fn process_claimed(
        &mut self,
        holder: &str,
        stop: &Stop,
    ) -> Result<PassReport, DaemonError> {
        let mut report = PassReport::default();
        loop {
            if stop.is_raised() {
                report.stopped = true;
                return Ok(report);
            }
            let claimed = self.store.claim_files(holder, BATCH, CLAIM_BYTES)?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for chunk in batches(&claimed, |f| self.config.gateway.held_in_memory(f.size)) {
                if stop.is_raised() {
                    report.stopped = true;
                    return Ok(report);
                }
                let files = self.with_bodies(chunk)?;
                match self.process_batch(&files, Some(holder))? {
                    Some(outcomes) => {
                        outcomes.iter().for_each(log_file);
                        report.files.extend(outcomes);
                    }
                    None => tracing::warn!(
                        files = files.len(),
                        "files claimed by this instance were taken over by another (this one was taken for dead): left to it"
                    ),
                }
            }
        }
    }

    /// Records how a poll of channel `i` went, for the console and the
    /// exception rules (a channel failing); a store that cannot take it
    /// now is logged, not a failed pass.
    fn note_poll(&mut self, i: usize, error: Option<&str>) {
        let channel = self.channels[i].name().to_string();
        let noted = self
            .store
            .atomically(Durability::Unsynced, |tx| tx.record_poll(&channel, error));
        if let Err(e) = noted {
            tracing::warn!(channel, error = %e, "the poll's outcome was not recorded");
        }
    }

    /// Looks at inbound channel `i`: the files complete and waiting; what it
    /// skipped for a reason (once per name) and a failure are logged as they
    /// are found and go in the report.
    fn look(
        &mut self,
        i: usize,
        report: &mut PassReport,
    ) -> Option<Vec<crate::transport::Waiting>> {
        // A channel with a checkpoint (an HTTP feed's validators) gets
        // the one the store kept: it is moved only with a recorded file.
        if let Some(key) = self.channels[i].checkpoint_key() {
            match self.store.cursor(&key) {
                Ok(saved) => self.channels[i].resume(saved.as_deref()),
                Err(e) => {
                    let e = format!(
                        "channel {}: reading its checkpoint: {e}",
                        self.channels[i].name()
                    );
                    tracing::error!(error = %e, "channel failed");
                    report.channel_errors.push(e);
                    return None;
                }
            }
        }
        let polled = self.channels[i].poll();
        let error = polled.as_ref().err().map(|e| e.to_string());
        self.note_poll(i, error.as_deref());
        match polled {
            Ok(look) => {
                let channel = self.channels[i].name();
                for (name, reason) in &look.skipped {
                    tracing::info!(channel, name = %name, reason, "file skipped");
                }
                report.skipped.extend(
                    look.skipped
                        .into_iter()
                        .map(|(name, why)| (channel.to_string(), name, why)),
                );
                Some(look.ready)
            }
            Err(e) => {
                tracing::error!(error = %e, "channel failed");
                report.channel_errors.push(e.to_string());
                None
            }
        }
    }

    /// Removes the temporary files a process that is gone left in the
    /// archive (killed while writing one); returns how many. Called when
    /// the gateway starts to run.
    pub fn remove_temporary_files(&self) -> Result<usize, DaemonError> {
        Ok(self.archive.remove_temporary_files()?)
    }

    /// Receives waiting files: reads and archives each, records them all
    /// (one commit), then takes them off the channel. A file that cannot be
    /// read stays on the channel for the next pass, noted in `errors`.
    fn receive(
        &mut self,
        channel: usize,
        waiting: &[crate::transport::Waiting],
        errors: &mut Vec<String>,
    ) -> Result<Vec<(FileRecord, Body)>, DaemonError> {
        let mut read = Vec::with_capacity(waiting.len());
        for w in waiting {
            let name = w.name.as_str();
            // A large file goes from the channel to the archive a piece at
            // a time, and is read from there.
            let received = if self.config.gateway.streams(w.size) {
                let mut incoming = self.archive.incoming()?;
                let copied = self.channels[channel].read_into(name, &mut incoming);
                match copied.and_then(|size| Ok((size, self.unchanged(channel, w, size)?))) {
                    Ok((size, true)) => {
                        let (hash, path, copy) = self.archive.keep_incoming(incoming)?;
                        Ok(Some((Body::Archived(copy), size, (hash, path))))
                    }
                    Ok((_, false)) => {
                        self.archive.discard(incoming);
                        Ok(None)
                    }
                    Err(e) => {
                        self.archive.discard(incoming);
                        Err(e)
                    }
                }
            } else {
                let copied = self.channels[channel].read(name);
                match copied.and_then(|b| {
                    let still = self.unchanged(channel, w, b.len() as u64)?;
                    Ok((b, still))
                }) {
                    Ok((bytes, true)) => {
                        let kept = self.archive.keep(&bytes)?;
                        let size = bytes.len() as u64;
                        Ok(Some((Body::Memory(bytes), size, kept)))
                    }
                    Ok((_, false)) => Ok(None),
                    Err(e) => Err(e),
                }
            };
            match received {
                Ok(Some((body, size, kept))) => {
                    let sender = self.channels[channel].sender_of(name);
                    let file_name = self.channels[channel].file_name_of(name);
                    read.push((name, body, size, kept, (sender, file_name)));
                }
                Ok(None) => tracing::info!(
                    channel = self.channels[channel].name(),
                    name,
                    "file changed while it was copied: taken once it is complete"
                ),
                Err(e) => errors.push(e.to_string()),
            }
        }
        self.archive.sync()?;
        let channel_name = self.channels[channel].name().to_string();
        // A channel's checkpoint moves in the transaction that records
        // its files: never past a file that is not recorded.
        let checkpoints: Vec<(String, String)> = self.channels[channel]
            .checkpoint_key()
            .map(|key| {
                read.iter()
                    .filter_map(|(name, ..)| self.channels[channel].checkpoint(name))
                    .map(|value| (key.clone(), value))
                    .collect()
            })
            .unwrap_or_default();
        let ids = self.store.atomically(Durability::Synced, |tx| {
            let ids = read
                .iter()
                .map(
                    |(_, _, size, (sha256, archive_path), (sender, file_name))| {
                        tx.record_received(&crate::store::NewFile {
                            channel: channel_name.clone(),
                            partner: None,
                            name: file_name.clone(),
                            size: *size,
                            sha256: sha256.clone(),
                            archive_path: archive_path.clone(),
                            sender: sender.clone(),
                        })
                    },
                )
                .collect::<Result<Vec<_>, _>>()?;
            for (key, value) in &checkpoints {
                tx.set_cursor(key, value)?;
            }
            Ok(ids)
        })?;
        let mut files = Vec::with_capacity(ids.len());
        for ((name, body, _, _, _), id) in read.into_iter().zip(ids) {
            if let Err(e) = self.channels[channel].done(name) {
                // Recorded and archived: it is safe. Left on the channel,
                // it will be seen again and found to be a duplicate.
                self.store.atomically(Durability::Synced, |tx| {
                    tx.audit(id, "channel", &e.to_string())
                })?;
            }
            let file = self
                .store
                .file(id)?
                .ok_or_else(|| StoreError::Corrupt(format!("file {id} vanished")))?;
            files.push((file, body));
        }
        Ok(files)
    }

    /// Whether a file copied (`size` bytes) is as the channel listed it:
    /// the same size, and the same size and time on the channel still.
    fn unchanged(
        &mut self,
        channel: usize,
        w: &crate::transport::Waiting,
        size: u64,
    ) -> Result<bool, crate::transport::TransportError> {
        Ok(size == w.size && self.channels[channel].still(w)?)
    }

    /// A recorded file's bytes, from the archive: in memory, or to be read
    /// from there when the file is large.
    fn body_of(&self, file: &FileRecord) -> Result<Body, DaemonError> {
        body_from(&self.config, &self.archive, file)
    }

    /// Recorded files with their bytes: handed over by the intake that
    /// recorded them, or read from the archive, side by side when it is a
    /// bucket (a request each; [`READS_AT_ONCE`] at a time).
    fn with_bodies(&self, files: &[FileRecord]) -> Result<Vec<(FileRecord, Body)>, DaemonError> {
        let mut bodies: Vec<Option<Body>> = files
            .iter()
            .map(|f| self.handover.as_ref().and_then(|h| h.take(f.id)))
            .collect();
        let missing: Vec<usize> = (0..files.len()).filter(|&i| bodies[i].is_none()).collect();
        if self.archive.is_bucket() && missing.len() > 1 {
            let (config, archive) = (&self.config, &self.archive);
            let per_reader = missing.len().div_ceil(READS_AT_ONCE);
            let read: Vec<Result<Vec<(usize, Body)>, DaemonError>> = std::thread::scope(|scope| {
                let readers: Vec<_> = missing
                    .chunks(per_reader)
                    .map(|some| {
                        scope.spawn(move || {
                            some.iter()
                                .map(|&i| Ok((i, body_from(config, archive, &files[i])?)))
                                .collect::<Result<Vec<_>, DaemonError>>()
                        })
                    })
                    .collect();
                readers
                    .into_iter()
                    .map(|r| {
                        r.join().unwrap_or_else(|_| {
                            Err(DaemonError::Panicked(
                                "reading files from the archive".into(),
                            ))
                        })
                    })
                    .collect()
            });
            for part in read {
                for (i, body) in part? {
                    bodies[i] = Some(body);
                }
            }
        }
        files
            .iter()
            .zip(bodies)
            .map(|(file, body)| {
                let body = match body {
                    Some(b) => b,
                    None => self.body_of(file)?,
                };
                Ok((file.clone(), body))
            })
            .collect()
    }

    /// Processes recorded files (see [`process_files`] for its
    /// transactions); claimed by `holder`, when one is given (none when
    /// the claim was lost).
    fn process_batch(
        &mut self,
        files: &[(FileRecord, Body)],
        holder: Option<&str>,
    ) -> Result<Option<Vec<FileOutcome>>, DaemonError> {
        if files.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut keyring = unseal::Keyring::default();
        let unsealed = files
            .iter()
            .map(|(file, body)| {
                unseal::unseal(&self.config, &mut self.archive, &mut keyring, file, body)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let context = pipeline::Context {
            config: &self.config,
            library: &self.library,
            defs: self.defs,
            data_dir: &self.config.gateway.data_dir,
            archive: &self.archive,
            force: false,
        };
        let workers = self.config.gateway.max_concurrent_files.max(1);
        let store = self.store.as_mut();
        Ok(process_files(
            &context, store, files, &unsealed, workers, holder,
        )?)
    }

    /// Processes a file from its archived bytes (`force`: even if it is a
    /// duplicate).
    fn process_archived(
        &mut self,
        file: &FileRecord,
        force: bool,
    ) -> Result<FileOutcome, DaemonError> {
        let body = self.body_of(file)?;
        self.process(file, &body, force)
    }

    fn process(
        &mut self,
        file: &FileRecord,
        body: &Body,
        force: bool,
    ) -> Result<FileOutcome, DaemonError> {
        let unsealed = unseal::unseal(
            &self.config,
            &mut self.archive,
            &mut unseal::Keyring::default(),
            file,
            body,
        )?;
        let context = pipeline::Context {
            config: &self.config,
            library: &self.library,
            defs: self.defs,
            data_dir: &self.config.gateway.data_dir,
            archive: &self.archive,
            force,
        };
        Ok(pipeline::process(
            &context,
            self.store.as_mut(),
            file,
            body,
            &unsealed,
        )?)
    }

    /// Puts a quarantined file (or, with `force`, a duplicate) back to be
    /// processed at the next pass, and processes it now; a forced one is
    /// processed even though the same file was received before.
    pub fn reprocess(
        &mut self,
        id: crate::store::FileId,
        force: bool,
    ) -> Result<FileOutcome, ReprocessError> {
        let file = put_back(self.store.as_mut(), id, force, None)?;
        // A running gateway takes up files put back to `received` (its
        // intake of the file's channel): processing it here too would
        // process it twice. (A forced duplicate is processed here: the
        // running gateway would find it a duplicate again.)
        if !force && !self.running_instances()?.is_empty() {
            return Ok(FileOutcome::from(file));
        }
        let outcome = self.process_archived(&file, force)?;
        self.deliver_unless_running()?;
        Ok(outcome)
    }
}

impl Gateway {
    /// Renders canonical purchase orders for `partner` and queues them for
    /// its outbound channel, then makes the deliveries due (a channel that
    /// is down keeps them in the outbox for the next pass).
    pub fn send_orders(
        &mut self,
        partner: &str,
        docs: &[serde_json::Value],
        source: &str,
    ) -> Result<(Vec<send::Queued>, PassReport), send::SendError> {
        self.send_with(send::queue_orders, partner, docs, source)
    }

    /// Renders canonical documents (purchase orders, remittances, returns)
    /// for `partner` and queues them for its outbound channel, then makes
    /// the deliveries due.
    pub fn send_documents(
        &mut self,
        partner: &str,
        docs: &[serde_json::Value],
        source: &str,
    ) -> Result<(Vec<send::Queued>, PassReport), send::SendError> {
        self.send_with(send::queue_documents, partner, docs, source)
    }

    fn send_with(
        &mut self,
        queue: send::Queue,
        partner: &str,
        docs: &[serde_json::Value],
        source: &str,
    ) -> Result<(Vec<send::Queued>, PassReport), send::SendError> {
        let queued = queue(
            &self.config,
            &self.library,
            self.store.as_mut(),
            partner,
            docs,
            source,
        )?;
        let report = self.deliveries_after_command()?;
        Ok((queued, report))
    }

    /// A person (`by`) releases the held invoices of a file (or its
    /// document `seq`): queued for the relay once, and delivered at once
    /// unless a running gateway delivers them.
    pub fn release_invoices(
        &mut self,
        file: crate::store::FileId,
        seq: Option<u64>,
        by: &str,
    ) -> Result<(Vec<invoices::Released>, PassReport), invoices::ReleaseError> {
        let released = invoices::release(self.store.as_mut(), &self.config, file, seq, by)?;
        let report = self.deliveries_after_command()?;
        Ok((released, report))
    }

    /// One poll of NetSuite's purchase orders (as the running daemon
    /// makes every `[netsuite] poll_secs`): those queued are delivered at
    /// once unless a running gateway delivers them.
    pub fn pull_netsuite_orders(
        &mut self,
    ) -> Result<(netsuite::Pulled, PassReport), netsuite::PullError> {
        let flows = netsuite::flows_of(&self.config)
            .map_err(|e| netsuite::PullError::Config(e.to_string()))?;
        let mut blocking = crate::relay::Blocking::default();
        let pulled = netsuite::pull_orders(
            &self.config,
            &self.library,
            self.store.as_mut(),
            &flows,
            &mut blocking,
        )?;
        let report = self.deliveries_after_command()?;
        Ok((pulled, report))
    }

    /// The documents set aside for a person, waiting.
    pub fn set_aside(&mut self) -> Result<Vec<crate::store::SetAside>, StoreError> {
        self.store.set_aside()
    }

    /// A person (`by`) retries set-aside documents (`ids`, or all):
    /// queued again, and delivered at once unless a running gateway
    /// delivers them.
    pub fn retry_set_aside(
        &mut self,
        ids: &[i64],
        by: &str,
    ) -> Result<(Vec<crate::store::SetAside>, PassReport), StoreError> {
        let queued = netsuite::retry_set_aside(self.store.as_mut(), ids, by)?;
        let report = self.deliveries_after_command()?;
        Ok((queued, report))
    }

    /// What a command that queued something reports: the deliveries
    /// made at once (none when a running gateway makes them) and those
    /// waiting.
    fn deliveries_after_command(&mut self) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        match self.deliver_unless_running()? {
            Some(made) => {
                report.delivered = made.delivered;
                report.delivery_errors = made.errors;
            }
            None => report.left_to_running = true,
        }
        report.pending = self.store.pending_deliveries()?;
        Ok(report)
    }

    /// The instances of `dropgate run` at work on the store.
    pub fn running_instances(&mut self) -> Result<Vec<crate::store::Instance>, StoreError> {
        if self.alone {
            return Ok(Vec::new());
        }
        self.store.instances()
    }

    /// Makes the deliveries due, for a command of the command line; `None`
    /// when instances of `dropgate run` work on the store: their delivery
    /// workers make them (as soon as they look, within a second), and two
    /// makers of one delivery would make it twice.
    fn deliver_unless_running(&mut self) -> Result<Option<deliver::Made>, StoreError> {
        if !self.running_instances()?.is_empty() {
            return Ok(None);
        }
        deliver::due(
            &self.config,
            self.store.as_mut(),
            &mut self.channels,
            &self.archive,
            &Targets::All,
            &Stop::new(),
        )
        .map(Some)
    }

    /// The API's answer kept under an idempotency key.
    pub fn kept_answer(&mut self, key: &str) -> Result<Option<KeptAnswer>, StoreError> {
        self.store.kept_answer(key)
    }

    /// Keeps the API's answer under an idempotency key (the first stays).
    pub fn keep_answer(&mut self, key: &str, answer: &KeptAnswer) -> Result<(), StoreError> {
        self.store
            .atomically(Durability::Synced, |tx| tx.keep_answer(key, answer))
    }
}

/// Processes recorded files in three steps: partners and duplicates one
/// by one (in a transaction), translations side by side on up to
/// `workers` threads (with no transaction open), then acknowledgments,
/// documents and deliveries one by one in file order (in a second
/// transaction, after the packs are synced). The outcomes are what
/// processing the files one after the other gives. A crash between the
/// two transactions leaves the files to translate `received` (with their
/// partner known), and the next pass takes them up again.
///
/// Files claimed by `holder` are written only while the claim holds: each
/// transaction first checks, and locks, the claims of the files it writes,
/// and writes nothing (the answer is `None`) when one was taken over.
fn process_files(
    cx: &pipeline::Context<'_>,
    store: &mut dyn Store,
    files: &[(FileRecord, Body)],
    unsealed: &[unseal::Unsealed],
    workers: usize,
    holder: Option<&str>,
) -> Result<Option<Vec<FileOutcome>>, StoreError> {
    let mut outcomes: Vec<Option<FileOutcome>> = vec![None; files.len()];
    let mut work = Vec::new();
    let mut tx = store.transaction(Durability::Synced)?;
    let ids: Vec<_> = files.iter().map(|(f, _)| f.id).collect();
    if let Some(holder) = holder {
        if !tx.holds_claims(&ids, holder)? {
            return Ok(None);
        }
        for id in &ids {
            tx.audit(*id, "claimed", &format!("taken up by instance {holder}"))?;
        }
    }
    for (i, ((file, body), unsealed)) in files.iter().zip(unsealed).enumerate() {
        match pipeline::admit(cx, tx.as_mut(), file, body, unsealed)? {
            pipeline::Admitted::Settled(o) => outcomes[i] = Some(o),
            pipeline::Admitted::ToTranslate(w) => work.push((i, w)),
        }
    }
    tx.commit()?;
    let mut translated: Vec<Option<Result<pipeline::Translated, StoreError>>> =
        (0..work.len()).map(|_| None).collect();
    let per_worker = work.len().div_ceil(workers.max(1)).max(1);
    let first = files.first().map_or(0, |(f, _)| f.id);
    let packs: Vec<String> = (0..work.len().div_ceil(per_worker))
        .map(|worker| documents::pack_name(first, worker))
        .collect();
    let names = &packs;
    std::thread::scope(|scope| {
        for (worker, (jobs, slots)) in work
            .chunks(per_worker)
            .zip(translated.chunks_mut(per_worker))
            .enumerate()
        {
            scope.spawn(move || {
                let name = names.get(worker).map_or("", String::as_str);
                let mut pack = match documents::open_pack(cx, name) {
                    Ok(p) => p,
                    Err(e) => {
                        if let Some(slot) = slots.first_mut() {
                            *slot = Some(Err(e));
                        }
                        return;
                    }
                };
                for ((i, w), slot) in jobs.iter().zip(slots.iter_mut()) {
                    let (file, body) = &files[*i];
                    let body = unsealed.get(*i).map_or(body, |u| u.body(body));
                    *slot = Some(pipeline::translate_into(cx, w, file, body, &mut pack));
                }
            });
        }
    });
    // Durable (synced, or in the bucket) before the commit that points
    // at them; the local copies of uploaded packs go with `sealed`.
    if !work.is_empty() {
        let sealed = cx.archive.seal_packs(cx.data_dir, &packs)?;
        let mut tx = store.transaction(Durability::Synced)?;
        let ids: Vec<_> = work.iter().map(|(i, _)| files[*i].0.id).collect();
        if let Some(holder) = holder
            && !tx.holds_claims(&ids, holder)?
        {
            return Ok(None);
        }
        for ((i, w), t) in work.iter().zip(translated) {
            let (file, _) = &files[*i];
            let t =
                t.ok_or_else(|| StoreError::Corrupt(format!("file {}: no translation", file.id)))??;
            outcomes[*i] = Some(pipeline::finish(cx, tx.as_mut(), file, w, t, &sealed)?);
        }
        tx.commit()?;
    }
    outcomes
        .into_iter()
        .zip(files)
        .map(|(o, (file, _))| {
            o.ok_or_else(|| StoreError::Corrupt(format!("file {}: no outcome", file.id)))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A recorded file's bytes from `archive`: in memory, or to be read from a
/// local copy when the file is large.
fn body_from(config: &Config, archive: &Archive, file: &FileRecord) -> Result<Body, DaemonError> {
    Ok(if config.gateway.streams(file.size) {
        Body::Archived(archive.copy_of(&file.archive_path)?)
    } else {
        Body::Memory(archive.read(&file.archive_path)?)
    })
}

/// The archive `[archive]` names: the data directory, or a bucket reached
/// with the keys read from where the configuration says. Each component
/// of the daemon opens its own.
pub fn open_archive(config: &Config) -> Result<Archive, DaemonError> {
    let data_dir = &config.gateway.data_dir;
    let fails = |m: String| StoreError::Archive {
        path: config.archive.url.clone().unwrap_or_default(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, m),
    };
    if config.archive.bucket().map_err(fails)?.is_none() {
        return Ok(Archive::local(data_dir));
    }
    let credentials = crate::config::archive_credentials(&config.archive).map_err(fails)?;
    let s3 = crate::store::archive::S3Archive::open(data_dir, &config.archive, credentials)?;
    Ok(Archive::S3(Box::new(s3)))
}

/// Puts a quarantined file (or, with `force`, a duplicate) back to
/// `received`, its documents forgotten, to be processed again: by the
/// running gateway's translator, or by the caller. `by`, when a person
/// asked for it in the console, goes into the audit trail. The file's
/// state is checked in the transaction that puts it back: a file the
/// translator took up meanwhile is not put back twice.
pub fn put_back(
    store: &mut dyn Store,
    id: crate::store::FileId,
    force: bool,
    by: Option<&str>,
) -> Result<FileRecord, ReprocessError> {
    use crate::store::FileState;
    let mut tx = store.transaction(Durability::Synced)?;
    let file = tx.file(id)?.ok_or(ReprocessError::NoSuchFile(id))?;
    match (file.state, force) {
        (FileState::Quarantined, _) | (FileState::Duplicate, true) => {}
        (FileState::Duplicate, false) => {
            return Err(ReprocessError::Duplicate(id, file.duplicate_of));
        }
        (state, _) => return Err(ReprocessError::NotQuarantined(id, state)),
    }
    tx.reset_for_reprocess(id)?;
    if let Some(by) = by {
        tx.audit(
            id,
            "reprocess",
            &format!("asked for by {by} in the console"),
        )?;
    }
    let file = tx.file(id)?.ok_or(ReprocessError::NoSuchFile(id))?;
    tx.commit()?;
    Ok(file)
}

/// Why a file cannot be reprocessed.
#[derive(Debug, thiserror::Error)]
pub enum ReprocessError {
    /// No file has that number.
    #[error("there is no file {0}")]
    NoSuchFile(crate::store::FileId),
    /// Only quarantined files (and duplicates, forced) are processed again.
    #[error(
        "file {0} is {1}: only a quarantined file (or a duplicate, with --force) is processed again"
    )]
    NotQuarantined(crate::store::FileId, crate::store::FileState),
    /// A duplicate is processed again only when forced.
    #[error(
        "file {0} is a duplicate{of}: add --force to process it all the same (its documents are relayed again)",
        of = .1.map(|f| format!(" of file {f}")).unwrap_or_default()
    )]
    Duplicate(crate::store::FileId, Option<crate::store::FileId>),
    /// The store failed.
    #[error(transparent)]
    Daemon(#[from] DaemonError),
}

impl From<StoreError> for ReprocessError {
    fn from(e: StoreError) -> Self {
        ReprocessError::Daemon(DaemonError::Store(e))
    }
}

/// Logs what became of a file: a warning for a quarantined one, with its
/// reason, or one processed with a note.
fn log_file(f: &FileOutcome) {
    let partner = f.partner.as_deref().unwrap_or("-");
    match f.state {
        crate::store::FileState::Quarantined => tracing::warn!(
            file = f.id,
            name = %f.name,
            channel = %f.channel,
            partner,
            reason = f.detail.as_deref().unwrap_or(""),
            "file quarantined"
        ),
        // Processed with a note: sets rejected (the partner resends
        // them), or what the X12 envelopes noted.
        crate::store::FileState::Processed if f.detail.is_some() => tracing::warn!(
            file = f.id,
            name = %f.name,
            channel = %f.channel,
            partner,
            documents = f.documents,
            note = f.detail.as_deref().unwrap_or(""),
            "file processed, with a note"
        ),
        state => tracing::info!(
            file = f.id,
            name = %f.name,
            channel = %f.channel,
            partner,
            state = %state,
            documents = f.documents,
            "file {state}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stop_at_a_count_or_a_size() {
        let sizes: Vec<u64> = vec![1; 130];
        let lens: Vec<usize> = batches(&sizes, |s| *s).iter().map(|b| b.len()).collect();
        assert_eq!(lens, [64, 64, 2]);
        let big = BATCH_BYTES / 2 + 1;
        let sizes = vec![big, big, 1, BATCH_BYTES * 3, 1, 1];
        let lens: Vec<usize> = batches(&sizes, |s| *s).iter().map(|b| b.len()).collect();
        assert_eq!(
            lens,
            [1, 2, 1, 2],
            "a file larger than a batch is one alone"
        );
        assert!(batches::<u64>(&[], |s| *s).is_empty());
    }
}
