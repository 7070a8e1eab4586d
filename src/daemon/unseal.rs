//! A received file's OpenPGP undone before the pipeline reads it, on a
//! channel with `[channel.NAME.pgp]`: the file as received stays what is
//! recorded (its archive copy and hash); its content, decrypted and its
//! signature checked, is archived beside it and is what is processed, and
//! the file's audit trail says with which key it was decrypted, whose
//! signature it carried and where its content is. A file that cannot be
//! opened (a key we do not have, a signature that fails or is missing
//! where required, keys that cannot be read) is quarantined with the
//! reason, and `reprocess` opens it again once the configuration is
//! fixed. This runs with no transaction open; the content is durable in
//! the archive before the transaction that records it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use crate::config::Gateway as Config;
use crate::pgp;
use crate::store::{Archive, FileRecord, StoreError};
use crate::transport::pgp::{PgpConfig, PgpKeys, Unencrypted};

use super::body::Body;

/// What a file is once its OpenPGP is undone.
#[derive(Debug)]
pub enum Unsealed {
    /// Its channel has no PGP, or it is a plain file its channel takes.
    Plain,
    /// Opened: its content, and what its audit trail says of it.
    Opened {
        /// The content, what the pipeline reads.
        body: Body,
        /// Its size.
        size: u64,
        /// Its SHA-256 (hex), by which a copy received before is found.
        sha256: String,
        /// Keys, signer and where the content is kept.
        note: String,
    },
    /// Cannot be opened: to be quarantined with this reason.
    Refused(String),
}

impl Unsealed {
    /// What the pipeline reads: the content, or the file as received.
    pub fn body<'a>(&'a self, received: &'a Body) -> &'a Body {
        match self {
            Unsealed::Opened { body, .. } => body,
            Unsealed::Plain | Unsealed::Refused(_) => received,
        }
    }

    /// The size of what the pipeline reads.
    pub fn size(&self, file: &FileRecord) -> u64 {
        match self {
            Unsealed::Opened { size, .. } => *size,
            Unsealed::Plain | Unsealed::Refused(_) => file.size,
        }
    }
}

/// The channels' keys, read once per batch of files or round of
/// deliveries (a key fixed on disk is read at the next).
#[derive(Default)]
pub struct Keyring {
    read: HashMap<String, Result<Arc<PgpKeys>, String>>,
}

impl Keyring {
    /// The keys of `channel` as `settings` name them.
    pub fn keys_of(&mut self, channel: &str, settings: &PgpConfig) -> Result<Arc<PgpKeys>, String> {
        self.read
            .entry(channel.to_string())
            .or_insert_with(|| settings.load().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
    }
}

/// Opens `file` (its bytes `body`) as its channel's `[pgp]` says; its
/// content is kept in `archive` (and synced) before this returns.
pub fn unseal(
    config: &Config,
    archive: &mut Archive,
    keyring: &mut Keyring,
    file: &FileRecord,
    body: &Body,
) -> Result<Unsealed, StoreError> {
    let Some(settings) = config.channel(&file.channel).and_then(|c| c.pgp.as_ref()) else {
        return Ok(Unsealed::Plain);
    };
    let mut bytes = Vec::new();
    body.reader()
        .and_then(|mut r| r.read_to_end(&mut bytes))
        .map_err(|e| StoreError::Archive {
            path: file.archive_path.clone(),
            source: e,
        })?;
    if !pgp::is_message(&bytes) {
        return Ok(match settings.unencrypted {
            Unencrypted::Accept => Unsealed::Plain,
            Unencrypted::Quarantine => Unsealed::Refused(format!(
                "not an OpenPGP message, and channel {0} takes only OpenPGP files (its [channel.{0}.pgp] has unencrypted = \"quarantine\"; \"accept\" takes plain files too)",
                file.channel
            )),
        });
    }
    let keys = match keyring.keys_of(&file.channel, settings) {
        Ok(k) => k,
        Err(e) => {
            return Ok(Unsealed::Refused(format!(
                "an OpenPGP message, and the keys of channel {} cannot be read: {e}",
                file.channel
            )));
        }
    };
    let opened = match pgp::open(
        &bytes,
        keys.ours.as_ref(),
        &keys.theirs,
        settings.signature,
        settings.max_bytes(),
    ) {
        Ok(o) => o,
        // Bytes that only looked like OpenPGP (a Latin-1 letter first) are
        // a plain file where plain files are taken.
        Err(pgp::OpenError::Unreadable(_)) if settings.unencrypted == Unencrypted::Accept => {
            return Ok(Unsealed::Plain);
        }
        Err(e) => return Ok(Unsealed::Refused(format!("OpenPGP: {e}"))),
    };
    let (hash, path) = archive.keep(&opened.content)?;
    archive.sync()?;
    let hash = hash.to_string();
    let mut said = Vec::new();
    said.push(match &opened.decrypted_with {
        Some(key) => format!("decrypted with key {key}"),
        None => "not encrypted".to_string(),
    });
    said.push(match (&opened.signed_by, &opened.unchecked_signers) {
        (Some(by), _) => format!("signed by {by} (verified)"),
        (None, Some(issuers)) => {
            format!("signed by {issuers}, not checked (the channel has no partner_keys)")
        }
        (None, None) => "not signed".to_string(),
    });
    said.push(format!(
        "{} OpenPGP; content {} bytes, SHA-256 {hash}, archived at {}",
        if opened.armored { "armoured" } else { "binary" },
        opened.content.len(),
        path
    ));
    let size = opened.content.len() as u64;
    Ok(Unsealed::Opened {
        body: Body::Memory(opened.content),
        size,
        sha256: hash,
        note: said.join("; "),
    })
}
