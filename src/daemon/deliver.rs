//! Deliveries from the outbox: documents to the relay, acknowledgments and
//! orders to partners' outbound channels. A failed delivery is tried again
//! later, waiting twice as long each time (with some jitter), up to an hour;
//! it stays in the outbox until it is made.
//!
//! What is made is recorded as soon as it is made, each in a transaction
//! of its own, and no transaction is open while a delivery is under way:
//! a delivery over the network (the webhook and NATS relays, SFTP, mail)
//! is marked made as soon as the receiver has it, and the count of
//! documents the webhook or NATS relay saw acknowledged is stored after
//! each one, so that a gateway
//! killed in the middle sends nothing again but the one document in
//! flight. Files written into local folders are synced together (one
//! `syncfs` for many) and then marked made together; one written again
//! after a crash is the same file under the same name. Each failure is
//! logged when it happens.

use std::ops::ControlFlow;

use crate::config::Gateway as Config;
use crate::relay::nats::{Login, NatsAuth, NatsConfig, NatsRelay};
use crate::relay::webhook::WebhookRelay;
use crate::relay::{DocumentRelay, Ending, FileRelay, RelayConfig};
use crate::store::{Archive, Delivery, Durability, Extent, Store, StoreError, Targets};
use crate::transport::channel::Channel;
use crate::transport::secret;

use super::stop::Stop;

/// Longest wait between two tries, in seconds.
const MAX_RETRY_SECS: u64 = 3600;

/// How long to wait after the `attempts`th failure of a delivery.
pub fn retry_after(first_secs: u64, attempts: u32, jitter_seed: u64) -> u64 {
    backoff_secs(first_secs, attempts, MAX_RETRY_SECS, jitter_seed)
}

/// An exponential backoff: `first_secs` after the first failure, twice as
/// long after each next one, at most `max_secs`, and up to a quarter more
/// (from `jitter_seed`) so that many failures do not all come back at the
/// same second.
pub fn backoff_secs(first_secs: u64, attempts: u32, max_secs: u64, jitter_seed: u64) -> u64 {
    let base = first_secs
        .max(1)
        .saturating_mul(1u64 << attempts.min(20))
        .min(max_secs.max(1));
    base + jitter_seed % (base / 4 + 1)
}

/// What one attempt did.
enum Attempt {
    /// Made (and, for a local folder, to be synced).
    Made,
    /// Stopped on request in the middle, what was acknowledged recorded.
    Stopped,
    /// Failed; tried again later.
    Failed(String),
    /// Sent, its receipt to come (an AS2 message with an asynchronous
    /// MDN): made when the receipt comes, tried again after `wait_secs`
    /// if it does not.
    Awaiting {
        /// The message sent.
        message_id: String,
        /// What is awaited.
        note: String,
        /// How long.
        wait_secs: u64,
    },
}

/// Deliveries whose documents are read ahead from a bucket, side by side,
/// when each is at most this long...
const READ_AHEAD_EACH: u64 = 1 << 20;

/// ...and all together at most this long.
const READ_AHEAD_ALL: u64 = 64 << 20;

/// Reads at the same time.
const READS_AT_ONCE: usize = 16;

/// With the archive in a bucket, where reading a delivery's documents is a
/// request and most of a small delivery's time: the documents of the small
/// deliveries of `batch` are read side by side, and carried in the
/// deliveries as their payload (the same bytes, so the deliveries are the
/// same). One that cannot be read is left to be read, and to fail, in its
/// turn.
fn read_ahead(archive: &Archive, batch: &mut [Delivery]) {
    if !archive.is_bucket() {
        return;
    }
    let mut budget = READ_AHEAD_ALL;
    let mut wanted: Vec<(usize, Extent)> = Vec::new();
    for (i, d) in batch.iter().enumerate() {
        if let Some(extent) = &d.new.payload_file
            && extent.length <= READ_AHEAD_EACH
            && extent.length <= budget
        {
            budget -= extent.length;
            wanted.push((i, extent.clone()));
        }
    }
    if wanted.len() < 2 {
        return;
    }
    let per_reader = wanted.len().div_ceil(READS_AT_ONCE);
    let read: Vec<(usize, Vec<u8>)> = std::thread::scope(|scope| {
        let readers: Vec<_> = wanted
            .chunks(per_reader)
            .map(|some| {
                scope.spawn(move || {
                    some.iter()
                        .filter_map(|(i, extent)| Some((*i, archive.read_extent(extent).ok()?)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        readers
            .into_iter()
            .flat_map(|r| r.join().unwrap_or_default())
            .collect()
    });
    for (i, bytes) in read {
        if let Some(d) = batch.get_mut(i) {
            d.new.payload = bytes;
            d.new.payload_file = None;
        }
    }
}

/// A delivery's bytes: its payload, or read from where it points.
fn payload(archive: &Archive, d: &Delivery) -> Result<Vec<u8>, String> {
    match &d.new.payload_file {
        Some(extent) => archive
            .read_extent(extent)
            .map_err(|e| format!("the documents to deliver: {e}")),
        None => Ok(d.new.payload.clone()),
    }
}

/// The NATS relay's credentials, read from where the configuration says.
fn nats_auth(config: &NatsConfig) -> Result<NatsAuth, String> {
    let missing = |what: &str| format!("the NATS {what} is not configured");
    match config.login() {
        Login::Anonymous => Ok(NatsAuth::Anonymous),
        Login::User { user, env, file } => secret::read_as(secret::PASSWORD, env, file)
            .map_err(|e| e.to_string())?
            .map(|password| NatsAuth::User {
                user: user.to_string(),
                password,
            })
            .ok_or_else(|| missing("password")),
        Login::Token { env, file } => secret::read_as(secret::TOKEN, env, file)
            .map_err(|e| e.to_string())?
            .map(NatsAuth::Token)
            .ok_or_else(|| missing("token")),
    }
}

/// The relay that sends the documents of a delivery one by one, made
/// when the first delivery to it is due.
fn document_relay(config: &RelayConfig) -> Option<Box<dyn DocumentRelay>> {
    match config {
        RelayConfig::File(_) => None,
        RelayConfig::Webhook(w) => Some(Box::new(WebhookRelay::new(w))),
        RelayConfig::Nats(n) => Some(Box::new(match nats_auth(n) {
            Ok(auth) => NatsRelay::new(n, auth),
            Err(why) => NatsRelay::failing(n, why),
        })),
    }
}

/// A delivery to a relay that takes documents one by one (webhook,
/// NATS): each document acknowledged is recorded in the store before the
/// next is sent.
fn attempt_relay_documents(
    relay: &mut dyn DocumentRelay,
    archive: &Archive,
    store: &mut dyn Store,
    stop: &Stop,
    d: &Delivery,
) -> Result<Attempt, StoreError> {
    // The documents are read one at a time: a large file's are never all
    // in memory.
    let mut lines: Box<dyn std::io::BufRead> = match &d.new.payload_file {
        Some(extent) => match archive.open_extent(extent) {
            Ok(r) => Box::new(std::io::BufReader::with_capacity(1 << 16, r)),
            Err(e) => return Ok(Attempt::Failed(format!("the documents to deliver: {e}"))),
        },
        None => Box::new(d.new.payload.as_slice()),
    };
    let mut failed = None;
    let ending = relay.deliver(
        &d.new.key,
        lines.as_mut(),
        d.progress,
        &mut |progress, aside| {
            let recorded = match aside {
                None => store.atomically(Durability::Unsynced, |tx| {
                    tx.delivery_progress(d.id, progress)
                }),
                // Set aside and counted done in one transaction: a crash
                // between the two would deliver it again or lose it.
                Some(aside) => store.atomically(Durability::Synced, |tx| {
                    let document = String::from_utf8_lossy(aside.document);
                    tx.put_aside(&crate::store::NewSetAside {
                        target: &d.new.target,
                        delivery_key: &d.new.key,
                        file_id: d.file_id,
                        seq: progress.saturating_sub(1),
                        reason: aside.reason,
                        document: &document,
                    })?;
                    if let Some(file) = d.file_id {
                        tx.audit(
                            file,
                            "set aside",
                            &format!(
                                "document {} not delivered to {}, set aside for a person: {}",
                                progress.saturating_sub(1),
                                d.new.target,
                                aside.reason
                            ),
                        )?;
                    }
                    tx.delivery_progress(d.id, progress)
                }),
            };
            if let Err(e) = recorded {
                failed = Some(e);
                return ControlFlow::Break(());
            }
            if stop.is_raised() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(match ending {
        Ending::Made => Attempt::Made,
        Ending::Stopped => Attempt::Stopped,
        Ending::Failed(e) => Attempt::Failed(e.to_string()),
    })
}

/// The relays of documents one by one a worker has started: the
/// configured relay's and NetSuite's.
#[derive(Default)]
struct Relays {
    relay: Option<Box<dyn DocumentRelay>>,
    netsuite: Option<super::netsuite::NetSuiteRelay>,
    /// Where asynchronous MDNs we owe are posted from.
    mdns: Option<(crate::relay::Blocking, reqwest::Client)>,
    /// The OpenPGP keys of channels that seal their files.
    pgp: super::unseal::Keyring,
}

/// Posts an asynchronous MDN we owe a partner: the delivery's name is
/// the partner's URL, its payload the MDN as kept.
fn post_owed_mdn(relays: &mut Relays, d: &Delivery) -> Result<(), String> {
    if relays.mdns.is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| format!("starting the HTTP client: {e}"))?;
        relays.mdns = Some((crate::relay::Blocking::default(), client));
    }
    let Some((blocking, client)) = relays.mdns.as_mut() else {
        return Err("no HTTP client".into());
    };
    let client = client.clone();
    blocking
        .run(crate::transport::as2::post_mdn(
            &client,
            &d.new.name,
            &d.new.payload,
        ))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// A delivery to an AS2 partnership: the message is built, recorded as
/// sent (before it goes: an asynchronous MDN may come back before the
/// POST's answer), and posted; a synchronous MDN is recorded with what it
/// says, and an asynchronous one is awaited (`daemon::as2` makes the
/// delivery when it comes).
fn attempt_as2(
    config: &Config,
    channel: &mut Channel,
    archive: &Archive,
    store: &mut dyn Store,
    d: &Delivery,
) -> Result<Attempt, StoreError> {
    use crate::transport::as2::{MdnMode, Posted};
    let bytes = match payload(archive, d) {
        Ok(b) => b,
        Err(e) => return Ok(Attempt::Failed(e)),
    };
    let Some(a) = channel.as2() else {
        return Ok(Attempt::Failed("not an AS2 channel".into()));
    };
    let mode = a.config().mdn;
    let wait_secs = a.config().mdn_wait_secs;
    let message = match a.prepare(&d.new.name, &bytes) {
        Ok(m) => m,
        Err(e) => return Ok(Attempt::Failed(e.to_string())),
    };
    let at = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    store.atomically(Durability::Synced, |tx| {
        tx.as2_sent(&crate::store::As2Record {
            direction: crate::store::As2Direction::Out,
            message_id: message.message_id.clone(),
            channel: d.new.target.clone(),
            file_id: d.file_id,
            delivery_key: Some(d.new.key.clone()),
            // The MIC an MDN must return: a signed message's only.
            mic: message.signed.then(|| message.mic.to_string()),
            mdn: None,
            status: "sent".into(),
            detail: None,
            at: at(),
        })
    })?;
    let posted = match channel.post_as2(&d.new.name, &message) {
        Ok(p) => p,
        Err(e) => return Ok(Attempt::Failed(e.to_string())),
    };
    Ok(match (posted, mode) {
        (Posted::Receipt { outcome, raw }, _) => {
            let taken = outcome.report.disposition.taken();
            let says = outcome.report.disposition.says();
            store.atomically(Durability::Unsynced, |tx| {
                tx.as2_mdn(
                    &message.message_id,
                    if taken { "processed" } else { "error" },
                    &says,
                    &raw,
                )?;
                if let Some(file) = d.file_id {
                    tx.audit(
                        file,
                        "as2",
                        &format!(
                            "{} sent to {} as AS2 message <{}>: its MDN says {says}",
                            d.new.name, d.new.target, message.message_id
                        ),
                    )?;
                }
                Ok(())
            })?;
            if taken {
                Attempt::Made
            } else {
                Attempt::Failed(format!("the partner's MDN says {says}: not taken"))
            }
        }
        (Posted::Accepted, MdnMode::Async) => Attempt::Awaiting {
            message_id: message.message_id.clone(),
            note: format!(
                "sent as AS2 message <{}>; its MDN is awaited, the message sent again without one",
                message.message_id
            ),
            wait_secs: wait_secs.max(retry_after(
                config.gateway.retry_secs,
                d.attempts,
                (d.id as u64).wrapping_mul(7919),
            )),
        },
        (Posted::Accepted, MdnMode::Sync | MdnMode::None) => Attempt::Made,
    })
}

fn attempt(
    config: &Config,
    channels: &mut [Channel],
    archive: &Archive,
    relays: &mut Relays,
    store: &mut dyn Store,
    stop: &Stop,
    d: &Delivery,
) -> Result<Attempt, StoreError> {
    if d.new.target == super::netsuite::TARGET {
        let netsuite = relays
            .netsuite
            .get_or_insert_with(|| super::netsuite::NetSuiteRelay::new(config));
        return attempt_relay_documents(netsuite, archive, store, stop, d);
    }
    if d.new.target == super::as2::MDN_TARGET {
        return Ok(match post_owed_mdn(relays, d) {
            Ok(()) => Attempt::Made,
            Err(e) => Attempt::Failed(e),
        });
    }
    if let Some(channel) = channels
        .iter_mut()
        .find(|c| c.name() == d.new.target && c.as2().is_some())
    {
        return attempt_as2(config, channel, archive, store, d);
    }
    let relay = &mut relays.relay;
    if d.new.target == "relay" {
        if relay.is_none() {
            *relay = document_relay(&config.relay);
        }
        if let Some(relay) = relay {
            return attempt_relay_documents(relay.as_mut(), archive, store, stop, d);
        }
    }
    Ok(
        match attempt_other(config, channels, archive, &mut relays.pgp, d) {
            Ok(()) => Attempt::Made,
            Err(error) => Attempt::Failed(error),
        },
    )
}

fn attempt_other(
    config: &Config,
    channels: &mut [Channel],
    archive: &Archive,
    keyring: &mut super::unseal::Keyring,
    d: &Delivery,
) -> Result<(), String> {
    if d.new.target == "relay" {
        return match (&config.relay, &d.new.payload_file) {
            (RelayConfig::File(f), Some(extent)) => {
                let mut documents = archive
                    .open_extent(extent)
                    .map_err(|e| format!("the documents to deliver: {e}"))?;
                FileRelay::new(f)
                    .deliver_from(&d.new.name, &mut documents)
                    .map_err(|e| e.to_string())
            }
            (RelayConfig::File(f), None) => FileRelay::new(f)
                .deliver(&d.new.name, &d.new.payload)
                .map_err(|e| e.to_string()),
            (RelayConfig::Webhook(_) | RelayConfig::Nats(_), _) => {
                Err("a relay of documents one by one is not reached this way".into())
            }
        };
    }
    let payload = payload(archive, d)?;
    let payload = payload.as_slice();
    let Some(channel) = channels.iter_mut().find(|c| c.name() == d.new.target) else {
        return Err(format!("there is no channel {:?} any more", d.new.target));
    };
    if let Some(settings) = config
        .channel(&d.new.target)
        .and_then(|c| c.pgp.as_ref())
        .filter(|p| p.seals())
    {
        return super::seal::deliver(settings, keyring, channel, &d.new.name, payload);
    }
    channel.deliver(&d.new.name, payload).or_else(|e| {
        // Delivered before a crash kept the outbox from knowing: the same
        // bytes under the same name are the delivery.
        if channel.holds(&d.new.name, payload) {
            Ok(())
        } else {
            Err(e.to_string())
        }
    })
}

/// What [`due`] did.
#[derive(Debug, Default)]
pub struct Made {
    /// Deliveries made.
    pub delivered: u64,
    /// Why the others failed.
    pub errors: Vec<String>,
}

/// The local folder a delivery to `target` is written into, if it is one.
fn local_folder(config: &Config, channels: &[Channel], target: &str) -> Option<std::path::PathBuf> {
    if target == "relay" {
        return match &config.relay {
            RelayConfig::File(f) => Some(FileRelay::new(f).folder().to_path_buf()),
            RelayConfig::Webhook(_) | RelayConfig::Nats(_) => None,
        };
    }
    channels
        .iter()
        .find(|c| c.name() == target)
        .and_then(Channel::local_folder)
}

/// Records a failed attempt (one small transaction), logs it and notes it
/// in `made`.
fn failed(
    config: &Config,
    store: &mut dyn Store,
    d: &Delivery,
    error: &str,
    made: &mut Made,
) -> Result<(), StoreError> {
    let wait = retry_after(
        config.gateway.retry_secs,
        d.attempts,
        (d.id as u64).wrapping_mul(7919),
    );
    store.atomically(Durability::Unsynced, |tx| {
        tx.delivery_failed(d.id, error, wait)
    })?;
    tracing::warn!(
        delivery = d.id,
        name = %d.new.name,
        target = %d.new.target,
        error = %error,
        retry_secs = wait,
        "delivery failed, to be retried"
    );
    made.errors.push(format!(
        "delivery {} ({} to {}): {error}; tried again in {wait} s",
        d.id, d.new.name, d.new.target
    ));
    Ok(())
}

/// Makes the deliveries to `targets` that are due, until there are none
/// or `stop` is raised. No transaction is open while a delivery is under
/// way: each delivery's outcome is committed in one of its own as soon as
/// it is known (unsynced, see [`Durability::Unsynced`]), but those of
/// local folders, synced together with the files written.
pub fn due(
    config: &Config,
    store: &mut dyn Store,
    channels: &mut [Channel],
    archive: &Archive,
    targets: &Targets,
    stop: &Stop,
) -> Result<Made, StoreError> {
    let mut made = Made::default();
    let mut relays = Relays::default();
    while !stop.is_raised() {
        let mut batch = store.due_deliveries(targets, 256)?;
        if batch.is_empty() {
            break;
        }
        read_ahead(archive, &mut batch);
        let mut progressed = false;
        // Files written into local folders are synced together before the
        // deliveries count as made.
        let mut unsynced = crate::store::disk::Unsynced::default();
        let mut written = Vec::new();
        for d in &batch {
            if stop.is_raised() {
                break;
            }
            match attempt(config, channels, archive, &mut relays, store, stop, d)? {
                Attempt::Made => match local_folder(config, channels, &d.new.target) {
                    Some(folder) => {
                        unsynced.add(&folder);
                        written.push(d);
                    }
                    None => {
                        store.atomically(Durability::Unsynced, |tx| tx.delivered(d.id))?;
                        made.delivered += 1;
                        progressed = true;
                    }
                },
                Attempt::Stopped => break,
                Attempt::Failed(e) => failed(config, store, d, &e, &mut made)?,
                Attempt::Awaiting {
                    message_id,
                    note,
                    wait_secs,
                } => {
                    store.atomically(Durability::Unsynced, |tx| {
                        tx.delivery_failed(d.id, &note, wait_secs)
                    })?;
                    // A negative MDN that came before the line above was
                    // written is noted again (a positive one made the
                    // delivery, which the line above then left alone).
                    if let Some(sent) =
                        store.as2_message(crate::store::As2Direction::Out, &message_id)?
                        && sent.status == "error"
                    {
                        let says = sent.detail.unwrap_or_default();
                        store.atomically(Durability::Unsynced, |tx| {
                            tx.delivery_noted_by_key(
                                &d.new.key,
                                &super::as2::negative_mdn_note(&says),
                            )
                        })?;
                    }
                    tracing::info!(
                        delivery = d.id,
                        name = %d.new.name,
                        target = %d.new.target,
                        wait_secs,
                        "sent; its receipt is awaited"
                    );
                }
            }
        }
        if !written.is_empty() {
            match unsynced.sync() {
                Ok(()) => {
                    store.atomically(Durability::Synced, |tx| {
                        written.iter().try_for_each(|d| tx.delivered(d.id))
                    })?;
                    made.delivered += written.len() as u64;
                    progressed = true;
                }
                Err(e) => {
                    for d in written {
                        failed(config, store, d, &e.to_string(), &mut made)?;
                    }
                }
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_stop_at_an_hour() {
        assert_eq!(retry_after(5, 0, 0), 5);
        assert_eq!(retry_after(5, 1, 0), 10);
        assert_eq!(retry_after(5, 3, 0), 40);
        assert_eq!(retry_after(5, 30, 0), 3600);
        assert!(retry_after(5, 3, 1_000_003) <= 50);
        assert_eq!(retry_after(0, 0, 0), 1);
        assert_eq!(backoff_secs(10, 6, 300, 0), 300);
        assert_eq!(backoff_secs(10, 1, 300, 0), 20);
    }

    #[test]
    fn the_nats_relay_knows_the_longest_wait() {
        // The NATS relay warns of a duplicate window shorter than this.
        let longest = (0..2000).map(|seed| retry_after(1, 40, seed)).max();
        assert_eq!(longest, Some(crate::relay::nats::LONGEST_RETRY_WAIT_SECS));
    }
}
