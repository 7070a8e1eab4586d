//! `gateway.toml`: the data directory, the channels, the relay, the
//! schedule, and where the partner files and mappings are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::doc::{Table, Value};
use super::partner::{self, Partner};
use super::{ConfigError, ConfigErrors, Source};
use crate::relay::RelayConfig;
use crate::relay::file::FileRelayConfig;
use crate::store::Location;
use crate::store::archive::{ArchiveConfig, Credentials};
pub use crate::transport::channel::ChannelKind;
use crate::transport::secret;

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
    /// Each channel is polled, and each target delivered to, by one
    /// instance at a time, which holds its lease: renewed every third of
    /// this many seconds, and taken over by another instance when its
    /// holder stopped renewing it this long (killed, or cut off from the
    /// store).
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            data_dir: default_data_dir(),
            mappings: None,
            partners: default_partners(),
            poll_interval_secs: default_poll_interval_secs(),
            max_concurrent_files: default_max_concurrent_files(),
            retry_secs: default_retry_secs(),
            stream_over_mb: default_stream_over_mb(),
            shutdown_grace_secs: default_shutdown_grace_secs(),
            lease_secs: default_lease_secs(),
        }
    }
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
const fn default_lease_secs() -> u64 {
    30
}
/// The shortest `lease_secs` taken: renewed every second at least.
const MIN_LEASE_SECS: u64 = 3;
/// The longest `shutdown_grace_secs` taken.
const MAX_SHUTDOWN_GRACE_SECS: u64 = 3600;

/// What the gateway does with an empty file.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmptyFiles {
    /// Quarantined, with the reason "an empty file (usually a failed
    /// upload)": someone should look.
    #[default]
    Quarantine,
    /// Archived and recorded as ignored: a partner whose system sends
    /// empty files when it has nothing to say.
    Ignore,
}

/// When a file is a duplicate of one received before (and dropped).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Duplicates {
    /// The same bytes from the same partner, whatever the name.
    #[default]
    #[serde(rename = "content")]
    Content,
    /// The same bytes under the same name: a daily full stock snapshot
    /// that did not change (a new name each day) is taken every day.
    #[serde(rename = "name-and-content")]
    NameAndContent,
    /// Never: every file is processed.
    #[serde(rename = "never")]
    Never,
}

/// The gateway's rules for files arriving on a channel (beside the
/// channel's own settings, which belong to its transport).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelPolicy {
    /// `empty_files`: what is done with an empty file.
    pub empty_files: EmptyFiles,
    /// `duplicates`: when a file counts as one received before (a
    /// partner's `[[inbound]] duplicates` comes first).
    pub duplicates: Duplicates,
}

/// A named channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Its name (`[channel.NAME]`).
    pub name: String,
    /// What it is.
    pub kind: ChannelKind,
    /// The gateway's rules for what arrives on it.
    pub policy: ChannelPolicy,
    /// `[channel.NAME.pgp]`: inbound files opened, outbound files sealed
    /// with OpenPGP.
    pub pgp: Option<crate::transport::pgp::PgpConfig>,
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

/// The `[store]` table: where the gateway keeps its state. Without a
/// `url`, the embedded SQLite database `state.db` in the data directory,
/// which needs nothing else.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// A PostgreSQL database instead: `postgres://user@host:port/database`
    /// (with no password in it).
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the database user's password (the
    /// password itself is never written in the configuration).
    #[serde(default)]
    pub password_env: Option<String>,
    /// Or a file holding it (relative to this file; white space around it
    /// ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

impl StoreSection {
    /// Whether the table can work: one password source at most, a URL
    /// that parses, a password that can be read where it is said to be.
    /// Messages say where the password is, never what it is.
    fn check(&self) -> Result<(), String> {
        secret::check_sources(self.password_env.as_deref(), self.password_file.as_deref())?;
        match &self.url {
            None if self.password_env.is_some() || self.password_file.is_some() => Err(
                "a password is set but no url: set url = \"postgres://user@host:port/database\", or remove the password".into(),
            ),
            None => Ok(()),
            Some(url) => {
                crate::store::postgres::parse_url(url)?;
                secret::check_readable(self.password_env.as_deref(), self.password_file.as_deref())
            }
        }
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

/// Why the API's bearer token cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Its environment variable is not set.
    #[error("the bearer token: the environment variable {0} (token_env) is not set")]
    Unset(String),
    /// Its file cannot be read.
    #[error("the bearer token: token_file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Neither is configured.
    #[error("the bearer token: set token_env or token_file")]
    Missing,
    /// It is too short to be a secret.
    #[error("the bearer token is shorter than {MIN_TOKEN} characters")]
    Short,
}

/// The shortest bearer token taken.
pub const MIN_TOKEN: usize = 16;

impl ApiConfig {
    /// The bearer token, from its environment variable or file, white
    /// space around it removed; refused when shorter than [`MIN_TOKEN`].
    pub fn token(&self) -> Result<String, TokenError> {
        let token = match (&self.token_env, &self.token_file) {
            (Some(var), _) => std::env::var(var).map_err(|_| TokenError::Unset(var.clone()))?,
            (None, Some(path)) => {
                std::fs::read_to_string(path).map_err(|source| TokenError::File {
                    path: path.clone(),
                    source,
                })?
            }
            (None, None) => return Err(TokenError::Missing),
        };
        let token = token.trim().to_string();
        if token.chars().count() < MIN_TOKEN {
            return Err(TokenError::Short);
        }
        Ok(token)
    }
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
    /// Where received files and document packs are kept (`[archive]`;
    /// by default the data directory).
    pub archive: ArchiveConfig,
    /// How pages without a text layer (scanned PDFs) are read (`[ocr]`).
    pub ocr: crate::ocr::OcrConfig,
    /// The NetSuite account, when one is configured (`[netsuite]`).
    pub netsuite: Option<crate::netsuite::config::NetSuiteConfig>,
    /// The exception rules every partner starts from (`[exceptions]`).
    pub exceptions: crate::lifecycle::Rules,
    /// How exceptions are looked for and told (`[alerts]`).
    pub alerts: super::alerts::AlertsConfig,
    /// Our X12 identity, for what we send (purchase orders).
    pub x12: Option<OwnX12>,
    /// The HTTP API, when configured.
    pub api: Option<ApiConfig>,
    /// The operator's web console, when configured (`[console]`).
    pub console: Option<super::console::ConsoleConfig>,
    /// The AS2 server and our side of every AS2 partnership (`[as2]`).
    pub as2: Option<super::as2::As2Server>,
    /// Where the state is kept (`[store]`).
    pub store: StoreSection,
    /// How often each channel is polled, in seconds, where it differs from
    /// `[gateway] poll_interval_secs` (`[schedule] acme-sftp = 300`).
    pub schedule: BTreeMap<String, u64>,
    /// The partners, by id.
    pub partners: Vec<Partner>,
    /// What is allowed but probably a mistake (no partner, the API open
    /// to the network): printed by `check-config`, logged at start.
    pub warnings: Vec<ConfigError>,
}

impl Gateway {
    /// Where the store is: the PostgreSQL database of `[store] url`, with
    /// its password read now from where the table says; otherwise the
    /// embedded database in the data directory. The error says where the
    /// password was looked for, never what it is.
    pub fn store_location(&self) -> Result<Location, std::io::Error> {
        Ok(match &self.store.url {
            None => Location::Sqlite(self.gateway.data_dir.join("state.db")),
            Some(url) => Location::Postgres {
                url: url.clone(),
                password: secret::read(
                    self.store.password_env.as_deref(),
                    self.store.password_file.as_deref(),
                )?,
            },
        })
    }

    /// A channel by name.
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// A partner by id.
    pub fn partner(&self, id: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.id == id)
    }

    /// The exception rules for partner `id` (the gateway's, with the
    /// partner's `[exceptions]` over them).
    pub fn rules_for(&self, id: &str) -> crate::lifecycle::Rules {
        match self.partner(id) {
            Some(p) => self.exceptions.with(&p.exceptions),
            None => self.exceptions,
        }
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
    let checked = check(path);
    match checked.gateway {
        Some(g) if checked.errors.is_empty() => Ok(g),
        _ => Err(ConfigErrors(checked.errors)),
    }
}

/// What checking a configuration found: the configuration when it could
/// be read, every error, every warning.
#[derive(Debug)]
pub struct Checked {
    /// The configuration, as far as it could be read (not to be run
    /// when there are errors).
    pub gateway: Option<Gateway>,
    /// What is wrong.
    pub errors: Vec<ConfigError>,
    /// What is allowed but probably a mistake.
    pub warnings: Vec<ConfigError>,
}

pub(super) fn check(path: &Path) -> Checked {
    let source = match Source::read(path) {
        Ok(s) => s,
        Err(e) => {
            return Checked {
                gateway: None,
                errors: vec![e],
                warnings: Vec::new(),
            };
        }
    };
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut doc = source.document(&mut errors);
    // Each table on its own: a mistake in one does not hide the others.
    let mut take = |key: &str, errors: &mut Vec<ConfigError>| -> Option<Table<'_>> {
        let value = doc.take(key)?;
        source
            .table(value, &format!("[{key}]"))
            .map_err(|e| errors.push(e))
            .ok()
    };
    let gateway_table = take("gateway", &mut errors);
    let api_table = take("api", &mut errors);
    let x12_table = take("x12", &mut errors);
    let channel_table = take("channel", &mut errors);
    let schedule_table = take("schedule", &mut errors);
    let relay_table = take("relay", &mut errors);
    let store_table = take("store", &mut errors);
    let archive_table = take("archive", &mut errors);
    let ocr_table = take("ocr", &mut errors);
    let netsuite_table = take("netsuite", &mut errors);
    let exceptions_table = take("exceptions", &mut errors);
    let alerts_table = take("alerts", &mut errors);
    let console_table = take("console", &mut errors);
    let as2_table = take("as2", &mut errors);
    for (key, at) in doc.keys() {
        errors.push(source.error_at(
            at,
            format!("unknown table or key `{key}`, expected one of gateway, api, x12, channel, schedule, relay, store, archive, ocr, netsuite, exceptions, alerts, console, as2"),
        ));
    }
    // Where a [gateway] key is written, for messages about its value.
    let gateway_at = |key: &str| {
        gateway_table
            .as_ref()
            .and_then(|t| t.key_at(key).or(Some(t.at())))
            .unwrap_or(0)
    };
    let gateway_keys: Vec<(String, usize)> = [
        "max_concurrent_files",
        "poll_interval_secs",
        "mappings",
        "partners",
        "shutdown_grace_secs",
        "lease_secs",
    ]
    .iter()
    .map(|k| (k.to_string(), gateway_at(k)))
    .collect();
    let key_at = |key: &str| {
        gateway_keys
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(_, at)| *at)
    };
    let mut section = gateway_table
        .and_then(|t| {
            source
                .value::<GatewaySection>(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()
        })
        .unwrap_or_default();
    section.data_dir = source.resolve(&section.data_dir);
    section.partners = source.resolve(&section.partners);
    section.mappings = section.mappings.map(|m| source.resolve(&m));
    if section.max_concurrent_files == 0 {
        errors.push(source.error_at(
            key_at("max_concurrent_files"),
            "[gateway] max_concurrent_files must be at least 1",
        ));
    }
    if section.shutdown_grace_secs > MAX_SHUTDOWN_GRACE_SECS {
        errors.push(source.error_at(
            key_at("shutdown_grace_secs"),
            format!("[gateway] shutdown_grace_secs: at most {MAX_SHUTDOWN_GRACE_SECS} (an hour)"),
        ));
    }
    if section.lease_secs < MIN_LEASE_SECS {
        errors.push(source.error_at(
            key_at("lease_secs"),
            format!("[gateway] lease_secs must be at least {MIN_LEASE_SECS}"),
        ));
    }
    if section.poll_interval_secs == 0 {
        errors.push(source.error_at(
            key_at("poll_interval_secs"),
            "[gateway] poll_interval_secs must be at least 1",
        ));
    }
    if let Some(m) = &section.mappings
        && !m.is_dir()
    {
        errors.push(source.error_at(
            key_at("mappings"),
            format!("[gateway] mappings: {} is not a folder", m.display()),
        ));
    }
    let mut channels = Vec::new();
    if let Some(table) = channel_table {
        for (name, value) in table.into_entries() {
            let at = name.span().start;
            let name = name.into_inner();
            if !is_name(&name) {
                errors.push(source.error_at(
                    at,
                    format!("channel {name:?}: a name is letters, digits, - and _"),
                ));
            }
            if let Some(c) = channel(&source, name, value, &mut errors, &mut warnings) {
                channels.push(c);
            }
        }
    }
    let relay = match relay_table.map(|t| {
        let at = t.at();
        (at, source.value::<RelayConfig>(t.into_value()))
    }) {
        Some((at, Ok(r))) => match r {
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
            RelayConfig::Nats(mut n) => {
                n.ca_file = n.ca_file.map(|p| source.resolve(&p));
                n.password_file = n.password_file.map(|p| source.resolve(&p));
                n.token_file = n.token_file.map(|p| source.resolve(&p));
                if let Err(e) = n.check().and_then(|()| nats_login_readable(&n)) {
                    errors.push(source.error_at(at, format!("[relay] {e}")));
                }
                let mut said = n.warnings();
                if let Some(host) = n.host_in_clear()
                    && !crate::transport::is_loopback(&host)
                {
                    said.push(format!(
                        "url {:?} is plain text to another machine: documents and credentials cross the network in clear; use a tls:// URL",
                        n.url
                    ));
                }
                warnings.extend(
                    said.into_iter()
                        .map(|w| source.error_at(at, format!("[relay] {w}"))),
                );
                RelayConfig::Nats(n)
            }
        },
        Some((_, Err(e))) => {
            errors.push(e);
            default_relay(&section)
        }
        None => default_relay(&section),
    };
    let x12 = x12_table.and_then(|t| {
        let at = t.at();
        let x: OwnX12 = source.value(t.into_value()).map_err(|e| errors.push(e)).ok()?;
        if x.qualifier_and_id().is_none() {
            errors.push(source.error_at(
                at,
                format!(
                    "[x12] interchange_id {:?}: write our qualifier and ID as in ISA05 and ISA06, like \"ZZ:RETAILER\"",
                    x.interchange_id
                ),
            ));
        }
        Some(x)
    });
    let api = api_table.and_then(|t| {
        let at = t.at();
        let listen_at = t.key_at("listen").unwrap_or(at);
        let body_at = t.key_at("max_body_bytes").unwrap_or(at);
        let mut a: ApiConfig = source
            .value(t.into_value())
            .map_err(|e| errors.push(e))
            .ok()?;
        a.token_file = a.token_file.map(|p| source.resolve(&p));
        match a.listen.parse::<std::net::SocketAddr>() {
            Err(_) => errors.push(source.error_at(
                listen_at,
                format!(
                    "[api] listen {:?}: an address and port, like \"127.0.0.1:8480\"",
                    a.listen
                ),
            )),
            Ok(addr) if !addr.ip().is_loopback() => warnings.push(source.error_at(
                listen_at,
                format!(
                    "[api] listen {:?} is reachable from other machines: the API speaks plain \
                     HTTP, so its bearer token and orders cross the network in clear; listen on \
                     127.0.0.1 behind a TLS proxy",
                    a.listen
                ),
            )),
            Ok(_) => {}
        }
        if a.max_body_bytes == 0 {
            errors.push(source.error_at(body_at, "[api] max_body_bytes must be at least 1"));
        }
        if a.token_env.is_some() == a.token_file.is_some() {
            errors.push(source.error_at(
                at,
                "[api] the bearer token: set token_env or token_file (one of them)",
            ));
        } else if let Err(e) = a.token() {
            errors.push(source.error_at(at, format!("[api] {e}")));
        }
        Some(a)
    });
    let archive = archive_table
        .and_then(|t| {
            let at = t.at();
            let mut a: ArchiveConfig = source
                .value(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()?;
            a.secret_access_key_file = a.secret_access_key_file.map(|p| source.resolve(&p));
            let checked = a
                .bucket()
                .and_then(|bucket| bucket.map(|_| archive_credentials(&a)).transpose());
            match checked {
                Err(e) => errors.push(source.error_at(at, format!("[archive] {e}"))),
                Ok(Some(_)) => {
                    // Files recorded before the bucket are looked for in it.
                    let local = ["archive", "documents"]
                        .map(|f| section.data_dir.join(f))
                        .into_iter()
                        .filter(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some()))
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>();
                    if !local.is_empty() {
                        warnings.push(source.error_at(
                            at,
                            format!(
                                "[archive] {} still hold(s) files of the archive on local disk: with url set they are read from the bucket, so copy them there first (archive/ and documents/ under the prefix, like `aws s3 sync`)",
                                local.join(" and ")
                            ),
                        ));
                    }
                }
                Ok(None) => {}
            }
            Some(a)
        })
        .unwrap_or_default();
    let ocr = ocr_table
        .and_then(|t| {
            let at = t.at();
            let o: crate::ocr::OcrConfig = source
                .value(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()?;
            if o.dpi == 0 || o.timeout_secs == 0 {
                errors.push(source.error_at(at, "[ocr] dpi and timeout_secs are at least 1"));
            }
            Some(o)
        })
        .unwrap_or_default();
    let netsuite = netsuite_table.and_then(|t| {
        let at = t.at();
        let keys: Vec<(String, usize)> = t.keys().map(|(k, p)| (k.to_string(), p)).collect();
        let mut n: crate::netsuite::config::NetSuiteConfig = source
            .value(t.into_value())
            .map_err(|e| errors.push(e))
            .ok()?;
        n.resolve_paths(|p| source.resolve(p));
        for (key, problem) in n.check_keyed() {
            let place = keys.iter().find(|(k, _)| k == key).map_or(at, |(_, p)| *p);
            errors.push(source.error_at(place, problem.to_string()));
        }
        Some(n)
    });
    let exceptions = exceptions_table
        .and_then(|t| {
            source
                .value::<crate::lifecycle::rules::RulesTable>(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()
        })
        .map(|t| crate::lifecycle::Rules::default().with(&t))
        .unwrap_or_default();
    let alerts = alerts_table
        .and_then(|t| {
            let at = t.at();
            let keys: Vec<(String, usize)> = t.keys().map(|(k, p)| (k.to_string(), p)).collect();
            let key_at = |k: &str| keys.iter().find(|(n, _)| n == k).map_or(at, |(_, p)| *p);
            let mut a: super::alerts::AlertsConfig = source
                .value(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()?;
            if a.check_every.secs() == 0 {
                errors.push(
                    source.error_at(key_at("check_every"), "[alerts] check_every: at least 1s"),
                );
            }
            if let Some(w) = &mut a.webhook {
                w.secret_file = w.secret_file.as_ref().map(|p| source.resolve(p));
                if let Err(e) = w.check() {
                    errors
                        .push(source.error_at(key_at("webhook"), format!("[alerts.webhook] {e}")));
                }
            }
            if let Some(name) = &a.digest_channel {
                let smtp = channels
                    .iter()
                    .find(|c| &c.name == name)
                    .map(|c| matches!(c.kind, ChannelKind::Smtp(_)));
                match smtp {
                    Some(true) => {}
                    Some(false) => errors.push(source.error_at(
                        key_at("digest_channel"),
                        format!("[alerts] digest_channel {name:?} is not an smtp channel"),
                    )),
                    None => errors.push(source.error_at(
                        key_at("digest_channel"),
                        format!("[alerts] digest_channel {name:?} is not a channel"),
                    )),
                }
            }
            Some(a)
        })
        .unwrap_or_default();
    let console =
        console_table.and_then(|t| super::console::read(&source, t, &mut errors, &mut warnings));
    let as2 = as2_table.and_then(|t| {
        let at = t.at();
        let keys: Vec<(String, usize)> = t.keys().map(|(k, p)| (k.to_string(), p)).collect();
        let key_at = |k: &str| keys.iter().find(|(n, _)| n == k).map_or(at, |(_, p)| *p);
        let mut a: super::as2::As2Server = source
            .value(t.into_value())
            .map_err(|e| errors.push(e))
            .ok()?;
        a.certificate = source.resolve(&a.certificate);
        a.private_key = source.resolve(&a.private_key);
        match a.listen.parse::<std::net::SocketAddr>() {
            Err(_) => errors.push(source.error_at(
                key_at("listen"),
                format!("[as2] listen {:?}: an address and port, like \"127.0.0.1:4080\"", a.listen),
            )),
            Ok(addr) if !addr.ip().is_loopback() => warnings.push(source.error_at(
                key_at("listen"),
                format!(
                    "[as2] listen {:?} is reachable from other machines over plain HTTP: put a TLS proxy in front and listen on 127.0.0.1",
                    a.listen
                ),
            )),
            Ok(_) => {}
        }
        if let Err(e) = crate::as2::message::check_as2_name(&a.as2_id) {
            errors.push(source.error_at(key_at("as2_id"), format!("[as2] as2_id: {e}")));
        }
        if a.max_body_mb == 0 {
            errors.push(source.error_at(key_at("max_body_mb"), "[as2] max_body_mb: at least 1"));
        }
        if let Some(url) = &a.mdn_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            errors.push(source.error_at(
                key_at("mdn_url"),
                format!("[as2] mdn_url {url:?} is not an http:// or https:// URL"),
            ));
        }
        if let Err(e) = crate::transport::as2::load_identity(&a.ours()) {
            errors.push(source.error_at(at, e));
        }
        Some(a)
    });
    // Certificates that expired, or will within a month, are said (a
    // partner's: its messages are refused; ours: partners refuse ours).
    let expiry = |what: String, cert: Result<crate::as2::Certificate, String>, at: usize| {
        let Ok(cert) = cert else { return None };
        let now = std::time::SystemTime::now();
        let ends = chrono::DateTime::<chrono::Utc>::from(cert.not_after()).format("%Y-%m-%d");
        if cert.not_after() < now {
            Some(source.error_at(at, format!("{what} expired on {ends}: messages it signs are refused, and what is encrypted for it cannot be read; exchange a new one")))
        } else if cert.not_after() < now + std::time::Duration::from_secs(30 * 86_400) {
            Some(source.error_at(
                at,
                format!(
                    "{what} expires on {ends}: exchange a new one with the partner before then"
                ),
            ))
        } else {
            None
        }
    };
    if let Some(a) = &as2 {
        let ours = std::fs::read(&a.certificate)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::as2::Certificate::from_pem_or_der(&b).map_err(|e| e.to_string()));
        warnings.extend(expiry("[as2] our certificate".into(), ours, 0));
    }
    for c in &channels {
        if let ChannelKind::As2(p) = &c.kind {
            warnings.extend(expiry(
                format!("channel {}: the partner's certificate", c.name),
                p.partner_certificate(),
                c.at,
            ));
        }
    }
    // Each AS2 partnership gets our side; one without it cannot work.
    for c in &mut channels {
        if let ChannelKind::As2(p) = &mut c.kind {
            match &as2 {
                Some(a) => {
                    p.ours = a.ours();
                    // An asynchronous MDN must be posted from the partner's
                    // side to a URL it can reach.
                    let host = |u: &str| {
                        url::Url::parse(u)
                            .ok()
                            .and_then(|u| u.host_str().map(String::from))
                            .unwrap_or_default()
                    };
                    if p.mdn == crate::transport::as2::MdnMode::Async
                        && let Some(url) = &p.url
                        && !crate::transport::is_loopback(&host(url))
                        && crate::transport::is_loopback(&host(&p.ours.mdn_url))
                    {
                        warnings.push(source.error_at(
                            c.at,
                            format!(
                                "channel {}: asynchronous MDNs are asked for at {}, which the partner at {url} cannot reach: set [as2] mdn_url to the URL it reaches us at",
                                c.name, p.ours.mdn_url
                            ),
                        ));
                    }
                }
                None => errors.push(source.error_at(
                    c.at,
                    format!(
                        "channel {}: an as2 channel needs [as2] (our AS2 identifier, certificate and private key, and where partners post)",
                        c.name
                    ),
                )),
            }
        }
    }
    let schedule = match schedule_table {
        Some(table) => {
            let mut out = BTreeMap::new();
            for (name, value) in table.into_entries() {
                let at = name.span().start;
                let name = name.into_inner();
                if !channels.iter().any(|c: &ChannelConfig| c.name == name) {
                    errors.push(source.error_at(at, format!("[schedule] {name} is not a channel")));
                }
                match source.value::<u64>(value) {
                    Ok(0) => errors
                        .push(source.error_at(at, format!("[schedule] {name}: at least 1 second"))),
                    Ok(secs) => {
                        out.insert(name, secs);
                    }
                    Err(e) => errors.push(e),
                }
            }
            out
        }
        None => BTreeMap::new(),
    };
    let store = store_table
        .and_then(|t| {
            let at = t.at();
            let mut store: StoreSection = source
                .value(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()?;
            store.password_file = store.password_file.map(|p| source.resolve(&p));
            if let Err(e) = store.check() {
                errors.push(source.error_at(at, format!("[store] {e}")));
            }
            Some(store)
        })
        .unwrap_or_default();
    let mut gateway = Gateway {
        file: path.to_path_buf(),
        gateway: section,
        channels,
        relay,
        archive,
        ocr,
        netsuite,
        exceptions,
        alerts,
        x12,
        api,
        console,
        as2,
        store,
        schedule,
        partners: Vec::new(),
        warnings: Vec::new(),
    };
    // A shared store with the archive on this machine: another instance
    // that takes over a file this one archived cannot read it.
    if gateway.store.url.is_some() && gateway.archive.url.is_none() {
        warnings.push(source.error_at(
            0,
            "[store] is on PostgreSQL and the archive is in data_dir: run one instance, or put the archive in a bucket ([archive] url) or data_dir on storage every instance shares, so that one instance can take up what another left",
        ));
    }
    partner::load_all(&mut gateway, &source, key_at("partners"), &mut errors);
    if gateway.partners.is_empty() && errors.is_empty() {
        warnings.push(source.error_at(key_at("partners"), format!(
            "no partner is configured (no partners/<id>.toml in {}): every file received will be quarantined as from an unknown sender",
            gateway.gateway.partners.display()
        )));
    }
    gateway.warnings = warnings.clone();
    Checked {
        gateway: Some(gateway),
        errors,
        warnings,
    }
}

/// Whether the NATS relay's CA file can be read, and its password or
/// token is where the configuration says (its variable set, its file
/// readable).
fn nats_login_readable(n: &crate::relay::nats::NatsConfig) -> Result<(), String> {
    use crate::relay::nats::Login;
    use crate::transport::secret;
    if let Some(ca) = &n.ca_file
        && let Err(e) = std::fs::File::open(ca)
    {
        return Err(format!("reading ca_file {}: {e}", ca.display()));
    }
    match n.login() {
        Login::Anonymous => Ok(()),
        Login::User { env, file, .. } => secret::check_readable_as(secret::PASSWORD, env, file),
        Login::Token { env, file } => secret::check_readable_as(secret::TOKEN, env, file),
    }
}

/// The keys to the archive's bucket, read from where `[archive]` says
/// (environment variables or files, as every secret); the message says
/// where a key was looked for, never what it is.
pub fn archive_credentials(archive: &ArchiveConfig) -> Result<Credentials, String> {
    use crate::transport::secret::read_as;
    let access_key_id = match &archive.access_key_id {
        Some(id) => Some(id.clone()),
        None => read_as(
            crate::transport::secret::Keys {
                env: "access_key_id_env",
                file: "",
            },
            archive.access_key_id_env.as_deref(),
            None,
        )
        .map_err(|e| e.to_string())?,
    };
    let secret_access_key = read_as(
        crate::transport::secret::Keys {
            env: "secret_access_key_env",
            file: "secret_access_key_file",
        },
        archive.secret_access_key_env.as_deref(),
        archive.secret_access_key_file.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    match (access_key_id, secret_access_key) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
        }),
        (None, _) => Err("the access key: set access_key_id or access_key_id_env".into()),
        (_, None) => {
            Err("the secret access key: set secret_access_key_env or secret_access_key_file".into())
        }
    }
}

/// The file relay into `relay/` of the data directory.
fn default_relay(section: &GatewaySection) -> RelayConfig {
    RelayConfig::File(FileRelayConfig {
        path: section.data_dir.join("relay"),
    })
}

/// One `[channel.NAME]` table: its `type` says which component's settings
/// the rest are; the keys of [`ChannelPolicy`] are the gateway's own.
fn channel(
    source: &Source,
    name: String,
    value: Value<'_>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<ChannelConfig> {
    let mut table = source
        .table(value, &format!("[channel.{name}]"))
        .map_err(|e| errors.push(e))
        .ok()?;
    let at = table.at();
    let pgp = table.take("pgp").and_then(|v| {
        let pgp_at = v.span().start;
        source
            .value::<crate::transport::pgp::PgpConfig>(v)
            .map_err(|e| errors.push(e))
            .ok()
            .and_then(|mut p| {
                p.resolve(|f| source.resolve(f));
                let said = |m: String| source.error_at(pgp_at, format!("channel {name}: {m}"));
                if let Err(e) = p.check() {
                    errors.push(said(e));
                    return None;
                }
                match p.load() {
                    Err(e) => errors.push(said(format!("pgp: {e}"))),
                    Ok(keys) => {
                        let now = chrono::Utc::now().timestamp();
                        warnings.extend(keys.expiring(now, 30).into_iter().map(said));
                    }
                }
                Some(p)
            })
    });
    let mut policy = ChannelPolicy::default();
    if let Some(v) = table.take("empty_files") {
        source
            .value(v)
            .map(|e| policy.empty_files = e)
            .unwrap_or_else(|e| errors.push(e));
    }
    if let Some(v) = table.take("duplicates") {
        source
            .value(v)
            .map(|d| policy.duplicates = d)
            .unwrap_or_else(|e| errors.push(e));
    }
    let kind = match table.take("type") {
        None => {
            errors.push(source.error_at(
                at,
                format!("channel {name}: say what it is with type = \"dir\", \"sftp\", \"imap\", \"smtp\", \"as2\" or \"http\""),
            ));
            return None;
        }
        Some(t) => {
            let type_at = t.span().start;
            match source.value::<String>(t) {
                Err(e) => {
                    errors.push(e);
                    return None;
                }
                Ok(t) => (t, type_at),
            }
        }
    };
    let rest = table.into_value();
    let parsed = match kind.0.as_str() {
        "dir" => source.value(rest).map(ChannelKind::Dir),
        "sftp" => source.value(rest).map(ChannelKind::Sftp),
        "imap" => source.value(rest).map(ChannelKind::Imap),
        "smtp" => source.value(rest).map(ChannelKind::Smtp),
        "as2" => source.value(rest).map(ChannelKind::As2),
        "http" => source.value(rest).map(ChannelKind::Http),
        other => Err(source.error_at(
            kind.1,
            format!("channel {name}: type {other:?} is not dir, sftp, imap, smtp, as2 or http"),
        )),
    };
    let parsed = parsed.map_err(|e| errors.push(e)).ok()?;
    let mut problem = None;
    let mut check = |r: Result<(), String>| {
        if let Err(e) = r {
            problem = Some(source.error_at(at, format!("channel {name}: {e}")));
        }
    };
    let kind = match parsed {
        ChannelKind::Dir(mut d) => {
            d.path = source.resolve(&d.path);
            d.done_dir = d.done_dir.map(|p| source.resolve(&p));
            ChannelKind::Dir(d)
        }
        ChannelKind::Imap(mut m) => {
            m.ca_file = m.ca_file.map(|p| source.resolve(&p));
            m.password_file = m.password_file.map(|p| source.resolve(&p));
            check(m.check().and_then(|()| m.check_login()));
            ChannelKind::Imap(m)
        }
        ChannelKind::Sftp(mut s) => {
            s.private_key = s.private_key.map(|p| source.resolve(&p));
            s.password_file = s.password_file.map(|p| source.resolve(&p));
            check(s.check().and_then(|()| s.check_login()));
            ChannelKind::Sftp(s)
        }
        ChannelKind::Smtp(mut m) => {
            m.ca_file = m.ca_file.map(|p| source.resolve(&p));
            m.password_file = m.password_file.map(|p| source.resolve(&p));
            check(m.check().and_then(|()| m.check_login()));
            ChannelKind::Smtp(m)
        }
        ChannelKind::As2(mut a) => {
            a.certificate = source.resolve(&a.certificate);
            check(a.check());
            ChannelKind::As2(a)
        }
        ChannelKind::Http(mut h) => {
            h.password_file = h.password_file.map(|p| source.resolve(&p));
            h.token_file = h.token_file.map(|p| source.resolve(&p));
            h.ca_file = h.ca_file.map(|p| source.resolve(&p));
            check(h.check().and_then(|()| h.check_login()));
            ChannelKind::Http(h)
        }
    };
    errors.extend(problem);
    if matches!(kind, ChannelKind::Smtp(_)) && policy != ChannelPolicy::default() {
        errors.push(source.error_at(
            at,
            format!("channel {name}: an SMTP channel only sends; empty_files and duplicates are for channels files arrive on"),
        ));
    }
    if pgp.is_some() && matches!(kind, ChannelKind::As2(_)) {
        errors.push(source.error_at(
            at,
            format!("channel {name}: an AS2 channel secures its messages with S/MIME ([as2] and the partnership's certificate); pgp is for the other channels"),
        ));
    }
    Some(ChannelConfig {
        name,
        kind,
        policy,
        pgp,
        at,
    })
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
