//! The gateway's configuration: one `gateway.toml` (data directory,
//! channels, relay, schedule) and one file per partner in its `partners`
//! folder (identity, inbound files and their mappings, acknowledgment
//! policy, outbound channel). Every problem is reported with the file, line
//! and column it is at, all of them at once ([`ConfigErrors`]).
//!
//! This module reads and checks; the configuration types of channels and
//! relays belong to their components ([`crate::transport`],
//! [`crate::relay`]). Relative paths are relative to the file that names
//! them.

pub mod alerts;
pub mod as2;
pub mod console;
mod doc;
mod gateway;
mod partner;

use std::fmt;
use std::path::{Path, PathBuf};

pub use gateway::{
    ApiConfig, ChannelConfig, ChannelKind, ChannelPolicy, Checked, Duplicates, EmptyFiles, Gateway,
    GatewaySection, OwnX12, TokenError, archive_credentials,
};
pub use partner::{
    AckPolicy, AckWhen, ChangesAs, InboundFiles, OutboundTo, Partner, Ta1When, X12Identity,
};

use gateway::is_name as gateway_name;

/// A problem in a configuration file, at a place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// Line, from 1 (0: the file as a whole).
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// Every problem found in a configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A configuration file's text, to turn byte offsets into lines.
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        Ok(Source {
            path: path.to_path_buf(),
            text,
        })
    }

    /// An error at byte `offset`.
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        let before = self.text.get(..offset).unwrap_or(&self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError {
            file: self.path.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error of the file as a whole.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.path.clone(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// A path named in the file, made relative to the file's folder (and
    /// absolute, so that messages name the folder meant, wherever the
    /// gateway was started).
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            return path.to_path_buf();
        }
        let joined = self.path.parent().unwrap_or(Path::new(".")).join(path);
        normalize(&std::path::absolute(&joined).unwrap_or(joined))
    }
}

/// `a/b/../c` as `a/c`, without looking at the file system (a leading
/// `..` stays).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// An X12 interchange ID written `QUALIFIER:ID`, split, when it has the
/// shape ISA05 and ISA06 take: a 2-character qualifier and an ID of 1 to
/// 15 characters.
pub(crate) fn interchange_parts(written: &str) -> Option<(&str, &str)> {
    let (q, id) = written.split_once(':')?;
    let (q, id) = (q.trim(), id.trim());
    (q.len() == 2 && !id.is_empty() && id.len() <= 15).then_some((q, id))
}

/// Reads and checks the gateway's configuration.
pub fn load(path: &Path) -> Result<Gateway, ConfigErrors> {
    gateway::load(path)
}

/// Reads and checks the gateway's configuration, every file of it, and
/// says every error and warning (`dropgate check-config`).
pub fn check(path: &Path) -> Checked {
    gateway::check(path)
}
