//! Deliveries from the outbox: documents to the relay, acknowledgments and
//! orders to partners' outbound channels. A failed delivery is tried again
//! later, waiting twice as long each time (with some jitter), up to an hour;
//! it stays in the outbox until it is made.

use crate::config::Gateway as Config;
use crate::relay::webhook::WebhookRelay;
use crate::relay::{FileRelay, RelayConfig};
use crate::store::{Delivery, Store, StoreError};
use crate::transport::channel::Channel;

/// Longest wait between two tries, in seconds.
const MAX_RETRY_SECS: u64 = 3600;

/// How long to wait after the `attempts`th failure.
pub fn retry_after(first_secs: u64, attempts: u32, jitter_seed: u64) -> u64 {
    let base = first_secs
        .max(1)
        .saturating_mul(1u64 << attempts.min(20))
        .min(MAX_RETRY_SECS);
    // Up to a quarter more, so that many failed deliveries do not all
    // come back at the same second.
    base + jitter_seed % (base / 4 + 1)
}

/// What one attempt did: made, or failed after `progress` units.
enum Attempt {
    Made,
    Failed {
        progress: Option<u64>,
        error: String,
    },
}

/// A delivery's bytes: its payload, or read from where it points.
fn payload(config: &Config, d: &Delivery) -> Result<Vec<u8>, String> {
    match &d.new.payload_file {
        Some(extent) => extent
            .read(&config.gateway.data_dir)
            .map_err(|e| format!("the documents to deliver: {e}")),
        None => Ok(d.new.payload.clone()),
    }
}

fn attempt_relay_webhook(
    relay: &mut Option<WebhookRelay>,
    config: &Config,
    webhook: &crate::relay::webhook::WebhookConfig,
    d: &Delivery,
) -> Attempt {
    // The documents are read one at a time: a large file's are never all
    // in memory.
    let mut lines: Box<dyn std::io::BufRead> = match &d.new.payload_file {
        Some(extent) => match extent.open(&config.gateway.data_dir) {
            Ok(r) => Box::new(std::io::BufReader::with_capacity(1 << 16, r)),
            Err(e) => {
                return Attempt::Failed {
                    progress: None,
                    error: format!("the documents to deliver: {e}"),
                };
            }
        },
        None => Box::new(d.new.payload.as_slice()),
    };
    let relay = relay.get_or_insert_with(|| WebhookRelay::new(webhook));
    match relay.deliver(&d.new.key, lines.as_mut(), d.progress) {
        (_, None) => Attempt::Made,
        (done, Some(e)) => Attempt::Failed {
            progress: Some(d.progress + done),
            error: e.to_string(),
        },
    }
}

fn attempt(
    config: &Config,
    channels: &mut [Channel],
    webhook: &mut Option<WebhookRelay>,
    d: &Delivery,
) -> Attempt {
    if d.new.target == "relay"
        && let RelayConfig::Webhook(w) = &config.relay
    {
        return attempt_relay_webhook(webhook, config, w, d);
    }
    match attempt_other(config, channels, d) {
        Ok(()) => Attempt::Made,
        Err(error) => Attempt::Failed {
            progress: None,
            error,
        },
    }
}

fn attempt_other(config: &Config, channels: &mut [Channel], d: &Delivery) -> Result<(), String> {
    if d.new.target == "relay" {
        return match (&config.relay, &d.new.payload_file) {
            (RelayConfig::File(f), Some(extent)) => {
                let mut documents = extent
                    .open(&config.gateway.data_dir)
                    .map_err(|e| format!("the documents to deliver: {e}"))?;
                FileRelay::new(f)
                    .deliver_from(&d.new.name, &mut documents)
                    .map_err(|e| e.to_string())
            }
            (RelayConfig::File(f), None) => FileRelay::new(f)
                .deliver(&d.new.name, &d.new.payload)
                .map_err(|e| e.to_string()),
            (RelayConfig::Webhook(_), _) => Err("the webhook relay is not reached this way".into()),
        };
    }
    let payload = payload(config, d)?;
    let payload = payload.as_slice();
    let Some(channel) = channels.iter_mut().find(|c| c.name() == d.new.target) else {
        return Err(format!("there is no channel {:?} any more", d.new.target));
    };
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
            RelayConfig::Webhook(_) => None,
        };
    }
    channels
        .iter()
        .find(|c| c.name() == target)
        .and_then(Channel::local_folder)
}

/// Makes the deliveries that are due.
pub fn due(
    config: &Config,
    store: &mut dyn Store,
    channels: &mut [Channel],
) -> Result<Made, StoreError> {
    let mut made = 0;
    let mut errors = Vec::new();
    let mut webhook = None;
    loop {
        let batch = store.due_deliveries(256)?;
        if batch.is_empty() {
            break;
        }
        let mut progressed = false;
        // Files written into local folders are synced together before the
        // deliveries count as made.
        let mut unsynced = crate::store::disk::Unsynced::default();
        let mut written = Vec::new();
        for d in &batch {
            match attempt(config, channels, &mut webhook, d) {
                Attempt::Made => {
                    if let Some(folder) = local_folder(config, channels, &d.new.target) {
                        unsynced.add(&folder);
                    }
                    written.push(d);
                }
                Attempt::Failed { progress, error: e } => {
                    if let Some(p) = progress
                        && p > d.progress
                    {
                        store.delivery_progress(d.id, p)?;
                    }
                    let wait = retry_after(
                        config.gateway.retry_secs,
                        d.attempts,
                        (d.id as u64).wrapping_mul(7919),
                    );
                    store.delivery_failed(d.id, &e, wait)?;
                    errors.push(format!(
                        "delivery {} ({} to {}): {e}; tried again in {wait} s",
                        d.id, d.new.name, d.new.target
                    ));
                }
            }
        }
        let synced = unsynced.sync();
        for d in written {
            match &synced {
                Ok(()) => {
                    store.delivered(d.id)?;
                    made += 1;
                    progressed = true;
                }
                Err(e) => {
                    let wait = retry_after(
                        config.gateway.retry_secs,
                        d.attempts,
                        (d.id as u64).wrapping_mul(7919),
                    );
                    store.delivery_failed(d.id, &e.to_string(), wait)?;
                    errors.push(format!(
                        "delivery {} ({} to {}): {e}; tried again in {wait} s",
                        d.id, d.new.name, d.new.target
                    ));
                }
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(Made {
        delivered: made,
        errors,
    })
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
    }
}
