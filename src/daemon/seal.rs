//! An outbound file sealed with OpenPGP for a channel with
//! `[channel.NAME.pgp]`: encrypted for the partner's keys (and ours, so
//! that it reads back), signed with ours, under its name with the
//! channel's suffix. The outbox keeps the plain file; it is sealed anew at
//! each try (a new session key each time), and a file already there under
//! the name, left by a try that a crash kept from being recorded, is the
//! delivery when it opens with our key to the same content.

use crate::pgp::{self, Seal, Signatures};
use crate::transport::channel::Channel;
use crate::transport::pgp::PgpConfig;

use super::unseal::Keyring;

/// Delivers `payload` as `name` (with the suffix) on `channel`, sealed as
/// `settings` say; the error says what failed.
pub fn deliver(
    settings: &PgpConfig,
    keyring: &mut Keyring,
    channel: &mut Channel,
    name: &str,
    payload: &[u8],
) -> Result<(), String> {
    let keys = keyring
        .keys_of(channel.name(), settings)
        .map_err(|e| format!("the OpenPGP keys of channel {}: {e}", channel.name()))?;
    let sealed_name = settings.outbound_name(name);
    let to: &[pgp::PublicKey] = match settings.encrypts() {
        true => &keys.theirs,
        false => &[],
    };
    let sealed = pgp::seal(
        payload,
        &Seal {
            to,
            ours: keys.ours.as_ref(),
            sign: settings.signs(),
            armor: settings.armor,
            file_name: name,
            now: chrono::Utc::now().timestamp(),
        },
        pgp::system_rng(),
    )
    .map_err(|e| format!("sealing {sealed_name} with OpenPGP: {e}"))?;
    channel.deliver(&sealed_name, &sealed).or_else(|e| {
        let ours: Vec<pgp::PublicKey> = keys.ours.iter().map(pgp::SecretKey::public).collect();
        let there = channel.read_back(&sealed_name).and_then(|b| {
            pgp::open(
                &b,
                keys.ours.as_ref(),
                &ours,
                Signatures::Optional,
                payload.len() as u64,
            )
            .ok()
        });
        match there {
            Some(opened) if opened.content == payload => Ok(()),
            _ => Err(e.to_string()),
        }
    })
}
