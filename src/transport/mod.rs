//! Transports: bytes in and out, never parsed. An inbound channel lists
//! what is waiting, hands over each file's bytes, and once the gateway has
//! archived and recorded a file, moves it out of the way (or deletes it) on
//! its side; an outbound channel delivers bytes under a name, never leaving
//! a partial file where the partner looks.
//!
//! - [`channel`]: one interface over every kind, for the daemon.
//! - [`dir`]: a local folder (the embedded default).
//! - [`pgp`]: a channel's OpenPGP keys and settings (`[channel.NAME.pgp]`).
//! - [`secret`]: passwords from the environment or a file, never logged.
//! - [`glob`]: file name patterns (`*.edi`, `stock-????????.csv`).
//! - [`watch`]: when a waiting file is complete (age, looks, markers), and
//!   what is skipped; [`marker`]: ready-marker names.
//! - [`imap`]: attachments of e-mail in a partner's IMAP mailbox (TLS, sender filter).
//! - [`sftp`]: a partner's SFTP server (pinned host key, key or password login).
//! - [`http`]: a vendor's feed at a URL (conditional requests, paging,
//!   retries, a byte limit).
//! - [`smtp`]: outbound e-mail through an SMTP server, the file attached (STARTTLS or TLS, optional login).

pub mod as2;
pub mod channel;
pub mod dir;
pub mod glob;
pub mod http;
pub mod imap;
pub mod marker;
pub mod pgp;
pub mod secret;
pub mod sftp;
pub mod smtp;
pub mod watch;

use std::fmt;

/// True for the names of this machine's loopback interface.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A file waiting on an inbound channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Its name on the channel.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time when listed, where the channel has one.
    pub modified: Option<std::time::SystemTime>,
}

/// An error of a transport, with the channel and what it was doing.
#[derive(Debug, thiserror::Error)]
pub struct TransportError {
    /// The channel.
    pub channel: String,
    /// What it was doing (`listing /srv/drop`, `reading order.edi`).
    pub doing: String,
    /// What went wrong.
    #[source]
    pub source: std::io::Error,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "channel {}: {}: {}",
            self.channel, self.doing, self.source
        )
    }
}
