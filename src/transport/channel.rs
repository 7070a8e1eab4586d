//! One interface over every kind of channel, for the daemon: a folder, an
//! SFTP server, a mailbox or an SMTP server, inbound (poll, read, done)
//! and outbound (deliver; a mailbox takes no deliveries, an SMTP server
//! only takes deliveries; an HTTP feed is inbound only, and keeps a
//! checkpoint in the store through the daemon).
//!
//! The daemon's pass is synchronous (it runs on a blocking thread); an SFTP
//! operation is run to completion on the tokio runtime the pass was started
//! (or an SMTP delivery) from (`Handle::block_on`, which is meant for blocking threads), or, with
//! no runtime around, on a small one of the channel's own.

use super::as2::{As2Channel, As2Config};
use super::dir::{DirChannel, DirConfig};
use super::http::{HttpChannel, HttpConfig};
use super::imap::{ImapChannel, ImapConfig};
use super::sftp::{SftpChannel, SftpConfig};
use super::smtp::{SmtpChannel, SmtpConfig};
use super::watch::{Look, ReadyRule};
use super::{TransportError, Waiting};

/// What a channel is, as configured.
#[derive(Clone, Debug, serde::Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelKind {
    /// A local folder.
    Dir(DirConfig),
    /// A folder on an SFTP server.
    Sftp(SftpConfig),
    /// The attachments of mail in an IMAP mailbox.
    Imap(ImapConfig),
    /// Mail with the file attached, sent through an SMTP server.
    Smtp(SmtpConfig),
    /// An AS2 partnership: messages sent to the partner's AS2 server, and
    /// received on the daemon's (`[as2]`).
    As2(As2Config),
    /// A vendor's feed at a URL, fetched on the channel's schedule.
    Http(HttpConfig),
}

/// A channel at work.
#[derive(Debug)]
pub enum Channel {
    /// A local folder.
    Dir(Box<DirChannel>),
    /// An SFTP server, with the runtime its operations run on when the
    /// caller has none.
    Sftp(Box<SftpChannel>, Option<tokio::runtime::Runtime>),
    /// A mailbox, likewise.
    Imap(Box<ImapChannel>, Option<tokio::runtime::Runtime>),
    /// An SMTP server, likewise.
    Smtp(Box<SmtpChannel>, Option<tokio::runtime::Runtime>),
    /// An AS2 partnership, likewise.
    As2(Box<As2Channel>, Option<tokio::runtime::Runtime>),
    /// A feed at a URL, likewise.
    Http(Box<HttpChannel>, Option<tokio::runtime::Runtime>),
}

impl Channel {
    /// The channel `name` of `kind`.
    pub fn new(name: &str, kind: &ChannelKind) -> Channel {
        match kind {
            ChannelKind::Dir(d) => Channel::Dir(Box::new(DirChannel::new(name, d.clone()))),
            ChannelKind::Sftp(s) => {
                Channel::Sftp(Box::new(SftpChannel::new(name, s.clone())), None)
            }
            ChannelKind::Imap(m) => {
                Channel::Imap(Box::new(ImapChannel::new(name, m.clone())), None)
            }
            ChannelKind::Smtp(m) => {
                Channel::Smtp(Box::new(SmtpChannel::new(name, m.clone())), None)
            }
            ChannelKind::As2(a) => Channel::As2(Box::new(As2Channel::new(name, a.clone())), None),
            ChannelKind::Http(h) => {
                Channel::Http(Box::new(HttpChannel::new(name, h.clone())), None)
            }
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Channel::Dir(d) => d.name(),
            Channel::Sftp(s, _) => s.name(),
            Channel::Imap(m, _) => m.name(),
            Channel::Smtp(m, _) => m.name(),
            Channel::As2(a, _) => a.name(),
            Channel::Http(h, _) => h.name(),
        }
    }

    fn block<T>(
        rt: &mut Option<tokio::runtime::Runtime>,
        name: &str,
        f: impl std::future::Future<Output = Result<T, TransportError>>,
    ) -> Result<T, TransportError> {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return handle.block_on(f);
        }
        let rt = match rt {
            Some(rt) => rt,
            None => rt.insert(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|source| TransportError {
                        channel: name.to_string(),
                        doing: "starting a runtime".into(),
                        source,
                    })?,
            ),
        };
        rt.block_on(f)
    }

    /// The error of reading from an AS2 channel: its messages are pushed
    /// to the daemon's AS2 server, never read from the channel.
    fn pushed(a: &As2Channel, doing: String) -> TransportError {
        TransportError {
            channel: a.name().to_string(),
            doing,
            source: std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "an AS2 partner posts its messages to the daemon's AS2 server ([as2])",
            ),
        }
    }

    /// The error of an inbound operation on an SMTP channel.
    fn sends_only(m: &SmtpChannel, doing: String) -> TransportError {
        TransportError {
            channel: m.name().to_string(),
            doing,
            source: std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "an SMTP channel only sends: read mail through an IMAP or folder channel",
            ),
        }
    }

    /// The files complete and waiting, and what was skipped for a reason
    /// not told before.
    pub fn poll(&mut self) -> Result<Look, TransportError> {
        match self {
            Channel::Dir(d) => d.poll(),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.poll())
            }
            Channel::Imap(m, rt) => {
                let name = m.name().to_string();
                Self::block(rt, &name, m.poll()).map(|ready| Look {
                    ready,
                    skipped: Vec::new(),
                })
            }
            Channel::Smtp(m, _) => Err(Self::sends_only(m, "listing waiting files".into())),
            // Partners push their messages to the daemon's AS2 server.
            Channel::As2(..) => Ok(Look::default()),
            Channel::Http(h, rt) => {
                let name = h.name().to_string();
                Self::block(rt, &name, h.poll())
            }
        }
    }

    /// Whether a file read after `poll` listed it is still as listed (a
    /// mail attachment always is): one that changed while it was copied
    /// is to be taken later.
    pub fn still(&mut self, waiting: &Waiting) -> Result<bool, TransportError> {
        match self {
            Channel::Dir(d) => d.still(waiting),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.still(waiting))
            }
            Channel::Imap(..) | Channel::Smtp(..) | Channel::As2(..) | Channel::Http(..) => {
                Ok(true)
            }
        }
    }

    /// Files named by these rules are taken once their ready marker is
    /// there (folders and SFTP; a mailbox has no markers).
    pub fn set_ready_rules(&mut self, rules: Vec<ReadyRule>) {
        match self {
            Channel::Dir(d) => d.set_ready_rules(rules),
            Channel::Sftp(s, _) => s.set_ready_rules(rules),
            Channel::Imap(..) | Channel::Smtp(..) | Channel::As2(..) | Channel::Http(..) => {}
        }
    }

    /// How long until a file seen at the last poll but not yet complete
    /// may be; `None` when there is none.
    pub fn settling(&self) -> Option<std::time::Duration> {
        match self {
            Channel::Dir(d) => d.settling(),
            Channel::Sftp(s, _) => s.settling(),
            Channel::Imap(..) | Channel::Smtp(..) | Channel::As2(..) | Channel::Http(..) => None,
        }
    }

    /// A waiting file's bytes.
    pub fn read(&mut self, file: &str) -> Result<Vec<u8>, TransportError> {
        match self {
            Channel::Dir(d) => d.read(file),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.read(file))
            }
            Channel::Imap(m, rt) => {
                let name = m.name().to_string();
                Self::block(rt, &name, m.read(file))
            }
            Channel::Smtp(m, _) => Err(Self::sends_only(m, format!("reading {file}"))),
            Channel::As2(a, _) => Err(Self::pushed(a, format!("reading {file}"))),
            Channel::Http(h, _) => h.read(file),
        }
    }

    /// Copies a waiting file into `out`, a piece at a time where the
    /// channel can (a folder, SFTP; a mail attachment is in memory
    /// anyway); returns its size.
    pub fn read_into(
        &mut self,
        file: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, TransportError> {
        match self {
            Channel::Dir(d) => d.read_into(file, out),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.read_into(file, out))
            }
            Channel::Imap(..) => {
                let bytes = self.read(file)?;
                out.write_all(&bytes).map_err(|e| TransportError {
                    channel: self.name().to_string(),
                    doing: format!("reading {file}"),
                    source: e,
                })?;
                Ok(bytes.len() as u64)
            }
            Channel::Smtp(m, _) => Err(Self::sends_only(m, format!("reading {file}"))),
            Channel::As2(a, _) => Err(Self::pushed(a, format!("reading {file}"))),
            Channel::Http(h, _) => h.read_into(file, out),
        }
    }

    /// The file is archived and recorded: moves it away or deletes it.
    pub fn done(&mut self, file: &str) -> Result<(), TransportError> {
        match self {
            Channel::Dir(d) => d.done(file),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.done(file))
            }
            Channel::Imap(m, rt) => {
                let name = m.name().to_string();
                Self::block(rt, &name, m.done(file))
            }
            Channel::Smtp(m, _) => Err(Self::sends_only(m, format!("finishing {file}"))),
            Channel::As2(a, _) => Err(Self::pushed(a, format!("finishing {file}"))),
            Channel::Http(h, _) => h.done(file),
        }
    }

    /// Delivers `bytes` as `file`, never leaving a partial file or
    /// overwriting one.
    pub fn deliver(&mut self, file: &str, bytes: &[u8]) -> Result<(), TransportError> {
        match self {
            Channel::Dir(d) => d.deliver(file, bytes),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.deliver(file, bytes))
            }
            Channel::Smtp(m, rt) => {
                let name = m.name().to_string();
                Self::block(rt, &name, m.deliver(file, bytes))
            }
            Channel::As2(a, rt) => {
                let name = a.name().to_string();
                Self::block(rt, &name, a.deliver(file, bytes))
            }
            Channel::Imap(m, _) => Err(TransportError {
                channel: m.name().to_string(),
                doing: format!("delivering {file}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "a mailbox takes no deliveries: send through an SMTP or folder channel",
                ),
            }),
            Channel::Http(h, _) => Err(TransportError {
                channel: h.name().to_string(),
                doing: format!("delivering {file}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "an HTTP feed takes no deliveries: send through another channel",
                ),
            }),
        }
    }

    /// The AS2 partnership, for an AS2 channel.
    pub fn as2(&self) -> Option<&As2Channel> {
        match self {
            Channel::As2(a, _) => Some(a),
            _ => None,
        }
    }

    /// POSTs an AS2 message built by [`As2Channel::prepare`] (an AS2
    /// channel only).
    pub fn post_as2(
        &mut self,
        file: &str,
        message: &crate::as2::message::Outbound,
    ) -> Result<super::as2::Posted, TransportError> {
        match self {
            Channel::As2(a, rt) => {
                let name = a.name().to_string();
                Self::block(rt, &name, a.post(file, message))
            }
            other => Err(TransportError {
                channel: other.name().to_string(),
                doing: format!("sending {file} by AS2"),
                source: std::io::Error::new(std::io::ErrorKind::Unsupported, "not an AS2 channel"),
            }),
        }
    }

    /// Whether `file` is there with exactly `bytes` (a delivery made before
    /// a crash kept the outbox from knowing). Folders and SFTP servers;
    /// `false` when it cannot be told.
    pub fn holds(&mut self, file: &str, bytes: &[u8]) -> bool {
        self.read_back(file).is_some_and(|b| b == bytes)
    }

    /// The bytes of a file delivered under `file`, where the channel can
    /// read them back (a folder, SFTP); `None` otherwise or when there is
    /// none.
    pub fn read_back(&mut self, file: &str) -> Option<Vec<u8>> {
        match self {
            Channel::Dir(d) => std::fs::read(d.path().join(file)).ok(),
            Channel::Sftp(s, rt) => {
                let name = s.name().to_string();
                Self::block(rt, &name, s.read(file)).ok()
            }
            Channel::Imap(..) | Channel::Smtp(..) | Channel::As2(..) | Channel::Http(..) => None,
        }
    }
    /// The file's own name: a mailbox item's attachment name without the
    /// `<uidvalidity>-<uid>-<n>-` that makes it unique; the name itself
    /// elsewhere.
    pub fn file_name_of(&self, item: &str) -> String {
        match self {
            Channel::Imap(..) => {
                let mut parts = item.splitn(4, '-');
                let numbered = (0..3).all(|_| {
                    parts
                        .next()
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                });
                match (numbered, parts.next()) {
                    (true, Some(rest)) if !rest.is_empty() => rest.to_string(),
                    _ => item.to_string(),
                }
            }
            _ => item.to_string(),
        }
    }

    /// The local folder files are delivered into, for a folder channel.
    pub fn local_folder(&self) -> Option<std::path::PathBuf> {
        match self {
            Channel::Dir(d) => Some(d.path().to_path_buf()),
            _ => None,
        }
    }

    /// The store cursor a channel keeps its checkpoint under (an HTTP
    /// feed's validators), for a channel that has one.
    pub fn checkpoint_key(&self) -> Option<String> {
        match self {
            Channel::Http(h, _) => Some(h.checkpoint_key()),
            _ => None,
        }
    }

    /// Hands the checkpoint the store kept to the channel, before a poll.
    pub fn resume(&mut self, saved: Option<&str>) {
        if let Channel::Http(h, _) = self {
            h.resume(saved);
        }
    }

    /// The checkpoint to keep, in the transaction that records waiting
    /// file `file`.
    pub fn checkpoint(&self, file: &str) -> Option<String> {
        match self {
            Channel::Http(h, _) => h.checkpoint(file),
            _ => None,
        }
    }

    /// Who sent the waiting file (the From address of the mail an
    /// attachment came in), when the channel knows.
    pub fn sender_of(&self, file: &str) -> Option<String> {
        match self {
            Channel::Imap(m, _) => m.sender_of(file),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_items_are_named_by_their_attachment() {
        let ch = Channel::new(
            "mail",
            &ChannelKind::Imap(
                toml::from_str("host = \"127.0.0.1\"\nuser = \"u\"\npassword_env = \"P\"")
                    .expect("config"),
            ),
        );
        assert_eq!(ch.file_name_of("17-42-1-stock-2024.csv"), "stock-2024.csv");
        assert_eq!(ch.file_name_of("17-42-0-message.eml"), "message.eml");
        assert_eq!(ch.file_name_of("x-42-1-a.csv"), "x-42-1-a.csv");
        assert_eq!(ch.file_name_of("17-42-1-"), "17-42-1-");
        let dir = Channel::new(
            "drop",
            &ChannelKind::Dir(toml::from_str("path = \"/tmp\"").expect("config")),
        );
        assert_eq!(dir.file_name_of("17-42-1-a.csv"), "17-42-1-a.csv");
    }
}
