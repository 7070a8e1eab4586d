//! `gateway.toml`: the data directory, the channels, the relay, the
//! schedule, and where the partner files and mappings are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::partner::{self, Partner};
use super::{ConfigError, ConfigErrors, Source};
use crate::relay::RelayConfig;
use crate::relay::file::FileRelayConfig;
pub use crate::transport::channel::ChannelKind;

/// The `[gateway]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// The data directory: the store (`state.db`) and the archive of every
    /// received file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// A folder of mappings (its `partners/<P>/` mappings come first);
    /// default: the built-in mappings only.
    #[serde(default)]
    pub mappings: Option<PathBuf>,
    /// The folder of partner files, one `<partner>.toml` each.
    #[serde(default = "default_partners")]
    pub partners: PathBuf,
    /// How often each inbound channel is looked at, in seconds.
    #[serde(default = "default_poll_interval_secs")]
    pub poll_interval_secs: u64,
    /// Files translated at the same time (each on a thread of its own);
    /// default: the number of cores, at most 4.
    #[serde(default = "default_max_concurrent_files")]
    pub max_concurrent_files: usize,
    /// The first retry of a failed delivery waits this long; each next one
    /// twice as long, up to an hour.
    #[serde(default = "default_retry_secs")]
    pub retry_secs: u64,
    /// Files larger than this many megabytes are not held in memory: they
    /// are copied from their channel into the archive a piece at a time,
    /// and read from there (0: every file).
    #[serde(default = "default_stream_over_mb")]
    pub stream_over_mb: u64,
    /// On SIGTERM (or Ctrl-C), the daemon takes up no new work and gives
    /// what is under way (a batch of files, a delivery) this many seconds
    /// to finish; what is still going then is abandoned, to be taken up
    /// again at the next start, and the daemon exits 0. Keep it under the
    /// supervisor's own limit (systemd's `TimeoutStopSec`, 90 s by
    /// default).
    #[serde(default = "default_shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
}

impl GatewaySection {
    /// Whether a file of `size` bytes is read from its archive copy rather
    /// than held in memory.
    pub fn streams(&self, size: u64) -> bool {
        size > self.stream_over_mb.saturating_mul(1 << 20)
    }

    /// The bytes a file of `size` takes in memory while it is processed:
    /// none when it is read from its archive copy.
    pub fn held_in_memory(&self, size: u64) -> u64 {
        if self.streams(size) { 0 } else { size }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("var")
}
fn default_partners() -> PathBuf {
    PathBuf::from("partners")
}
const fn default_poll_interval_secs() -> u64 {
    10
}
fn default_max_concurrent_files() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}
const fn default_retry_secs() -> u64 {
    5
}
const fn default_stream_over_mb() -> u64 {
    64
}
const fn default_shutdown_grace_secs() -> u64 {
    30
}
/// The longest `shutdown_grace_secs` taken.
const MAX_SHUTDOWN_GRACE_SECS: u64 = 3600;

/// A named channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Its name (`[channel.NAME]`).
    pub name: String,
    /// What it is.
    pub kind: ChannelKind,
    /// Where its table is in `gateway.toml` (a byte offset), for messages.
    pub(super) at: usize,
}

/// The gateway's own X12 identity: the sender of what it sends.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OwnX12 {
    /// Our interchange ID with its qualifier (ISA05:ISA06 of what we
    /// send), like `ZZ:RETAILER`.
    pub interchange_id: String,
    /// Our application ID (GS02 of what we send); default: the interchange
    /// ID.
    #[serde(default)]
    pub application_id: Option<String>,
}

impl OwnX12 {
    /// The qualifier and the ID.
    pub fn qualifier_and_id(&self) -> Option<(&str, &str)> {
        super::interchange_parts(&self.interchange_id)
    }
}

/// The daemon's HTTP API: health, metrics, purchase orders.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Where to listen, like `127.0.0.1:8480`.
    pub listen: String,
    /// The environment variable holding the bearer token that `/v1/`
    /// requests must carry.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Or a file holding it (relative to this file).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The largest request body taken, in bytes (2 MiB by default); a
    /// larger one is refused with 413 and a JSON error.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
}

const fn default_max_body_bytes() -> usize {
    2 << 20
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayFile {
    gateway: Option<GatewaySection>,
    #[serde(default)]
    api: Option<Spanned<ApiConfig>>,
    #[serde(default)]
    x12: Option<Spanned<OwnX12>>,
    #[serde(default)]
    channel: BTreeMap<String, Spanned<ChannelKind>>,
    #[serde(default)]
    schedule: Option<Spanned<BTreeMap<String, u64>>>,
    #[serde(default)]
    relay: Option<Spanned<RelayConfig>>,
}

/// The whole configuration, checked, with paths resolved.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// `gateway.toml` itself.
    pub file: PathBuf,
    /// Its `[gateway]` table (paths resolved).
    pub gateway: GatewaySection,
    /// The channels, by name.
    pub channels: Vec<ChannelConfig>,
    /// Where documents are relayed.
    pub relay: RelayConfig,
    /// Our X12 identity, for what we send (purchase orders).
    pub x12: Option<OwnX12>,
    /// The HTTP API, when configured.
    pub api: Option<ApiConfig>,
    /// How often each channel is polled, in seconds, where it differs from
    /// `[gateway] poll_interval_secs` (`[schedule] acme-sftp = 300`).
    pub schedule: BTreeMap<String, u64>,
    /// The partners, by id.
    pub partners: Vec<Partner>,
}

impl Gateway {
    /// A channel by name.
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// A partner by id.
    pub fn partner(&self, id: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.id == id)
    }

    /// How often channel `name` is polled, in seconds.
    pub fn poll_every(&self, name: &str) -> u64 {
        self.schedule
            .get(name)
            .copied()
            .unwrap_or(self.gateway.poll_interval_secs)
            .max(1)
    }

    /// How often the daemon wakes up: as often as its most frequent
    /// channel.
    pub fn tick_secs(&self) -> u64 {
        self.channels
            .iter()
            .map(|c| self.poll_every(&c.name))
            .chain([self.gateway.poll_interval_secs.max(1)])
            .min()
            .unwrap_or(1)
    }
}

pub(super) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(super) fn load(path: &Path) -> Result<Gateway, ConfigErrors> {
    let source = Source::read(path).map_err(|e| ConfigErrors(vec![e]))?;
    let file: GatewayFile = source.parse().map_err(|e| ConfigErrors(vec![e]))?;
    let mut errors = Vec::new();
    let mut section = file.gateway.unwrap_or(GatewaySection {
        data_dir: default_data_dir(),
        mappings: None,
        partners: default_partners(),
        poll_interval_secs: default_poll_interval_secs(),
        max_concurrent_files: default_max_concurrent_files(),
        retry_secs: default_retry_secs(),
        stream_over_mb: default_stream_over_mb(),
        shutdown_grace_secs: default_shutdown_grace_secs(),
    });
    section.data_dir = source.resolve(&section.data_dir);
    section.partners = source.resolve(&section.partners);
    section.mappings = section.mappings.map(|m| source.resolve(&m));
    if section.max_concurrent_files == 0 {
        errors.push(source.error("[gateway] max_concurrent_files must be at least 1"));
    }
    if section.shutdown_grace_secs > MAX_SHUTDOWN_GRACE_SECS {
        errors.push(source.error(format!(
            "[gateway] shutdown_grace_secs: at most {MAX_SHUTDOWN_GRACE_SECS} (an hour)"
        )));
    }
    if section.poll_interval_secs == 0 {
        errors.push(source.error("[gateway] poll_interval_secs must be at least 1"));
    }
    if let Some(m) = &section.mappings
        && !m.is_dir()
    {
        errors.push(source.error(format!(
            "[gateway] mappings: {} is not a folder",
            m.display()
        )));
    }
    let mut channels = Vec::new();
    for (name, kind) in file.channel {
        let at = kind.span().start;
        if !is_name(&name) {
            errors.push(source.error_at(
                at,
                format!("channel {name:?}: a name is letters, digits, - and _"),
            ));
        }
        let kind = match kind.into_inner() {
            ChannelKind::Dir(mut d) => {
                d.path = source.resolve(&d.path);
                d.done_dir = d.done_dir.map(|p| source.resolve(&p));
                ChannelKind::Dir(d)
            }
            ChannelKind::Imap(mut m) => {
                m.ca_file = m.ca_file.map(|p| source.resolve(&p));
                m.password_file = m.password_file.map(|p| source.resolve(&p));
                if let Err(e) = m.check() {
                    errors.push(source.error_at(at, format!("channel {name}: {e}")));
                }
                ChannelKind::Imap(m)
            }
            ChannelKind::Sftp(mut s) => {
                s.private_key = s.private_key.map(|p| source.resolve(&p));
                s.password_file = s.password_file.map(|p| source.resolve(&p));
                if let Err(e) = s.check() {
                    errors.push(source.error_at(at, format!("channel {name}: {e}")));
                }
                ChannelKind::Sftp(s)
            }
            ChannelKind::Smtp(mut m) => {
                m.ca_file = m.ca_file.map(|p| source.resolve(&p));
                m.password_file = m.password_file.map(|p| source.resolve(&p));
                if let Err(e) = m.check() {
                    errors.push(source.error_at(at, format!("channel {name}: {e}")));
                }
                ChannelKind::Smtp(m)
            }
        };
        channels.push(ChannelConfig { name, kind, at });
    }
    let relay = match file.relay {
        Some(r) => {
            let at = r.span().start;
            match r.into_inner() {
                RelayConfig::File(mut f) => {
                    f.path = source.resolve(&f.path);
                    RelayConfig::File(f)
                }
                RelayConfig::Webhook(mut w) => {
                    w.secret_file = w.secret_file.map(|p| source.resolve(&p));
                    if let Err(e) = w.check() {
                        errors.push(source.error_at(at, format!("[relay] {e}")));
                    }
                    RelayConfig::Webhook(w)
                }
            }
        }
        None => RelayConfig::File(FileRelayConfig {
            path: section.data_dir.join("relay"),
        }),
    };
    let x12 = file.x12.map(|x| {
        let at = x.span().start;
        let x = x.into_inner();
        if x.qualifier_and_id().is_none() {
            errors.push(source.error_at(
                at,
                format!(
                    "[x12] interchange_id {:?}: write our qualifier and ID as in ISA05 and ISA06, like \"ZZ:RETAILER\"",
                    x.interchange_id
                ),
            ));
        }
        x
    });
    let api = file.api.map(|a| {
        let at = a.span().start;
        let mut a = a.into_inner();
        a.token_file = a.token_file.map(|p| source.resolve(&p));
        if a.listen.parse::<std::net::SocketAddr>().is_err() {
            errors.push(source.error_at(
                at,
                format!(
                    "[api] listen {:?}: an address and port, like \"127.0.0.1:8480\"",
                    a.listen
                ),
            ));
        }
        if a.max_body_bytes == 0 {
            errors.push(source.error_at(at, "[api] max_body_bytes must be at least 1"));
        }
        if a.token_env.is_some() == a.token_file.is_some() {
            errors.push(source.error_at(
                at,
                "[api] the bearer token: set token_env or token_file (one of them)",
            ));
        }
        a
    });
    let schedule = match file.schedule {
        Some(table) => {
            let at = table.span().start;
            let table = table.into_inner();
            for (name, secs) in &table {
                if !channels.iter().any(|c| &c.name == name) {
                    errors.push(source.error_at(at, format!("[schedule] {name} is not a channel")));
                }
                if *secs == 0 {
                    errors
                        .push(source.error_at(at, format!("[schedule] {name}: at least 1 second")));
                }
            }
            table
        }
        None => BTreeMap::new(),
    };
    let mut gateway = Gateway {
        file: path.to_path_buf(),
        gateway: section,
        channels,
        relay,
        x12,
        api,
        schedule,
        partners: Vec::new(),
    };
    partner::load_all(&mut gateway, &source, &mut errors);
    if errors.is_empty() {
        Ok(gateway)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// A channel folder that must be there to be read.
pub(super) fn check_inbound_dir(
    channel: &ChannelConfig,
    errors: &mut Vec<ConfigError>,
    source: &Source,
) {
    let ChannelKind::Dir(d) = &channel.kind else {
        return;
    };
    if !d.path.is_dir() {
        errors.push(source.error_at(
            channel.at,
            format!(
                "channel {}: the folder {} does not exist",
                channel.name,
                d.path.display()
            ),
        ));
    }
}
