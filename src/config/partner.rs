//! Partner files (`partners/<id>.toml`): who a partner is (X12 interchange
//! and application IDs), which files it sends on which channels and with
//! which mapping, what acknowledgments it wants, and where files for it go.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::gateway::{Gateway, check_inbound_dir};
use super::{ConfigError, Source};

/// Which acknowledgment an X12 partner gets.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum AckPolicy {
    /// A 997 functional acknowledgment.
    #[default]
    #[serde(rename = "997")]
    Functional,
    /// A 999 implementation acknowledgment.
    #[serde(rename = "999")]
    Implementation,
    /// None.
    #[serde(rename = "none")]
    None,
}

/// When an acknowledgment is sent.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AckWhen {
    /// For every group received.
    #[default]
    Always,
    /// Only for groups with errors.
    Errors,
}

/// How an X12 partner is recognized, and what it is sent back.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct X12Identity {
    /// The partner's interchange ID with its qualifier, as ISA05:ISA06 of
    /// what it sends (`ZZ:ACME`, `01:123456789`).
    pub interchange_id: String,
    /// The application sender ID (GS02), when the partner uses several
    /// under one interchange ID.
    #[serde(default)]
    pub application_id: Option<String>,
    /// `997`, `999` or `none`.
    #[serde(default)]
    pub acknowledgment: AckPolicy,
    /// `always`, or only on `errors`.
    #[serde(default)]
    pub acknowledge: AckWhen,
    /// Add a TA1 for every interchange.
    #[serde(default)]
    pub ta1: bool,
}

impl X12Identity {
    /// The qualifier and the ID.
    pub fn qualifier_and_id(&self) -> Option<(&str, &str)> {
        super::interchange_parts(&self.interchange_id)
    }
}

impl Partner {
    /// Whether mail from `sender` can be this partner's: always when the
    /// partner lists no addresses.
    pub fn sends_from(&self, sender: &str) -> bool {
        let sender = sender.to_ascii_lowercase();
        self.emails.is_empty()
            || self
                .emails
                .iter()
                .any(|e| crate::transport::glob::matches(&e.to_ascii_lowercase(), &sender))
    }
}

/// Files a partner sends on a channel.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InboundFiles {
    /// The channel they arrive on.
    pub channel: String,
    /// Their names (default: every file on the channel that is not X12
    /// from another partner).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// The mapping to read them with (default: the partner's mappings in
    /// `mappings/partners/<id>/`, found by format; X12 always uses the
    /// partner's or the built-in mapping of each set).
    #[serde(default)]
    pub mapping: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerSection {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outbound {
    channel: Spanned<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    mapping: Option<Spanned<String>>,
}

/// Where and how files for a partner go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundTo {
    /// The channel.
    pub channel: String,
    /// The format purchase orders are written in (`x12`, `csv`, `xml`;
    /// default: x12 for an X12 partner).
    pub format: Option<String>,
    /// The outbound mapping for purchase orders (default: the partner's
    /// outbound mapping for the format, else the built-in X12 850).
    pub mapping: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerFile {
    #[serde(default)]
    partner: Option<PartnerSection>,
    #[serde(default)]
    x12: Option<Spanned<X12Identity>>,
    #[serde(default)]
    inbound: Vec<Spanned<InboundFiles>>,
    #[serde(default)]
    outbound: Option<Outbound>,
}

/// A trading partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    /// Its id: the file's name without `.toml`; also the folder of its
    /// mappings, `mappings/partners/<id>/`.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The addresses its mail comes from (`edi@acme.example`,
    /// `*@acme.example`); a mailbox attachment from another sender is not
    /// its file.
    pub emails: Vec<String>,
    /// How it is recognized in X12, and what it gets back.
    pub x12: Option<X12Identity>,
    /// What it sends, where.
    pub inbound: Vec<InboundFiles>,
    /// Where files for it go (acknowledgments, orders), and how.
    pub outbound: Option<OutboundTo>,
}

pub(super) fn load_all(
    gateway: &mut Gateway,
    gateway_source: &Source,
    errors: &mut Vec<ConfigError>,
) {
    let dir = gateway.gateway.partners.clone();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        errors.push(gateway_source.error(format!(
            "[gateway] partners: cannot read the folder {}",
            dir.display()
        )));
        return;
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut inbound_channels = Vec::new();
    // The mappings partners name are looked up in one library, read once.
    let library = match &gateway.gateway.mappings {
        Some(dir) => crate::mapping::Library::with_dir(dir).ok(),
        None => Some(crate::mapping::Library::embedded()),
    };
    for path in paths {
        match load_one(&path, gateway, library.as_ref(), errors) {
            Some(p) => {
                inbound_channels.extend(p.inbound.iter().map(|i| i.channel.clone()));
                gateway.partners.push(p);
            }
            None => continue,
        }
    }
    // Two partners with the same X12 identity cannot be told apart.
    for (i, a) in gateway.partners.iter().enumerate() {
        for b in &gateway.partners[i + 1..] {
            if let (Some(x), Some(y)) = (&a.x12, &b.x12)
                && x.qualifier_and_id() == y.qualifier_and_id()
                && x.application_id == y.application_id
            {
                errors.push(gateway_source.error(format!(
                    "partners {} and {} both have interchange_id {:?}{}: they cannot be told apart (set application_id)",
                    a.id,
                    b.id,
                    x.interchange_id,
                    x.application_id
                        .as_deref()
                        .map(|g| format!(" and application_id {g:?}"))
                        .unwrap_or_default()
                )));
            }
        }
    }
    inbound_channels.sort();
    inbound_channels.dedup();
    for name in inbound_channels {
        if let Some(c) = gateway.channel(&name) {
            check_inbound_dir(c, errors, gateway_source);
        }
    }
}

fn load_one(
    path: &Path,
    gateway: &Gateway,
    library: Option<&crate::mapping::Library>,
    errors: &mut Vec<ConfigError>,
) -> Option<Partner> {
    let source = match Source::read(path) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let file: PartnerFile = match source.parse() {
        Ok(f) => f,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !super::gateway_name(&id) {
        errors.push(source.error(format!(
            "the partner id (the file name) {id:?} must be letters, digits, - and _"
        )));
    }
    let x12 = file.x12.map(|x| {
        let at = x.span().start;
        let x = x.into_inner();
        if x.qualifier_and_id().is_none() {
            errors.push(source.error_at(
                at,
                format!(
                    "[x12] interchange_id {:?}: write the qualifier and the ID as in ISA05 and ISA06, like \"ZZ:ACME\"",
                    x.interchange_id
                ),
            ));
        }
        x
    });
    if let Some(x) = &x12
        && x.acknowledgment != AckPolicy::None
        && file.outbound.is_none()
    {
        errors.push(source.error(
            "[x12] acknowledgments need a channel to go out on: add [outbound] channel = \"...\" (or acknowledgment = \"none\")",
        ));
    }
    let mut inbound = Vec::new();
    for i in file.inbound {
        let at = i.span().start;
        let i = i.into_inner();
        if gateway.channel(&i.channel).is_none() {
            errors.push(source.error_at(
                at,
                format!(
                    "[[inbound]] channel {:?} is not a channel of {} ({})",
                    i.channel,
                    gateway.file.display(),
                    known(gateway)
                ),
            ));
        }
        if let (Some(m), Some(library)) = (&i.mapping, library)
            && let Err(e) = library.load(m)
        {
            errors.push(source.error_at(at, format!("[[inbound]] mapping {m:?}: {e}")));
        }
        inbound.push(i);
    }
    let outbound = file.outbound.map(|o| {
        let at = o.channel.span().start;
        let name = o.channel.into_inner();
        if let Some(f) = &o.format
            && !matches!(f.as_str(), "x12" | "csv" | "xml")
        {
            errors.push(source.error_at(at, format!("[outbound] format {f:?}: x12, csv or xml")));
        }
        let mapping = o.mapping.map(|m| {
            let at = m.span().start;
            let m = m.into_inner();
            if let Some(library) = library
                && let Err(e) = library.load(&m)
            {
                errors.push(source.error_at(at, format!("[outbound] mapping {m:?}: {e}")));
            }
            m
        });
        if gateway.channel(&name).is_none() {
            errors.push(source.error_at(
                at,
                format!(
                    "[outbound] channel {name:?} is not a channel of {} ({})",
                    gateway.file.display(),
                    known(gateway)
                ),
            ));
        }
        OutboundTo {
            channel: name,
            format: o.format,
            mapping,
        }
    });
    let (name, emails) = match file.partner {
        Some(p) => (p.name, p.emails),
        None => (None, Vec::new()),
    };
    for e in &emails {
        if !e.contains('@') {
            errors.push(source.error(format!(
                "[partner] emails: {e:?} is not an address (like \"edi@acme.example\" or \"*@acme.example\")"
            )));
        }
    }
    Some(Partner {
        name: name.unwrap_or_else(|| id.clone()),
        emails,
        id,
        x12,
        inbound,
        outbound,
    })
}

fn known(gateway: &Gateway) -> String {
    if gateway.channels.is_empty() {
        return "it has none".to_string();
    }
    let names: Vec<&str> = gateway.channels.iter().map(|c| c.name.as_str()).collect();
    format!("channels: {}", names.join(", "))
}
