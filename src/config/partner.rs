//! Partner files (`partners/<id>.toml`): who a partner is (X12 interchange
//! and application IDs), which files it sends on which channels and with
//! which mapping, what acknowledgments it wants, and where files for it go.

use std::path::Path;

use serde::Deserialize;

use super::doc::Table;
use super::gateway::{Duplicates, Gateway, check_inbound_dir};
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

/// When an X12 partner gets a TA1 for an interchange that is accepted. An
/// interchange whose envelope is rejected always gets its TA1 `R` (and no
/// 997 or 999), whatever this says.
///
/// Written `"always"`, `"when-requested"` or `"never"`; `true` and `false`,
/// the spelling of earlier versions, read as `"always"` and `"never"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ta1When {
    /// For every interchange.
    Always,
    /// When the interchange asks for one (ISA14 = 1), as the standard says.
    #[default]
    WhenRequested,
    /// Only to reject an interchange.
    Never,
}

impl<'de> Deserialize<'de> for Ta1When {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Ta1When;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"always\", \"when-requested\" or \"never\"")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Ta1When, E> {
                Ok(if v { Ta1When::Always } else { Ta1When::Never })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ta1When, E> {
                match v {
                    "always" => Ok(Ta1When::Always),
                    "when-requested" => Ok(Ta1When::WhenRequested),
                    "never" => Ok(Ta1When::Never),
                    other => Err(E::custom(format!(
                        "[x12] ta1: {other:?} is not \"always\", \"when-requested\" or \"never\""
                    ))),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
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
    /// When to add a TA1 (default: when the interchange asks for one).
    #[serde(default)]
    pub ta1: Ta1When,
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
    /// When one of these files counts as a duplicate of one received
    /// before: `content`, `name-and-content` or `never` (default: the
    /// channel's `duplicates`).
    #[serde(default)]
    pub duplicates: Option<Duplicates>,
    /// A marker file the partner writes once a file is complete, named
    /// from the file's: `{name}.done` (for `stock.csv`, `stock.csv.done`)
    /// or `{stem}.ok` (`stock.ok`). A file is taken only once its marker
    /// is there; the marker goes with it.
    #[serde(default)]
    pub ready_marker: Option<String>,
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
    channel: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    mapping: Option<String>,
    #[serde(default)]
    changes: Option<String>,
}

/// How changes and cancellations of X12 purchase orders are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChangesAs {
    /// As an 850 with BEG01 `04` (change) or `01` (cancel): `changes =
    /// "850"`, the default.
    #[default]
    Order,
    /// As an 860 of what changed since the order sent: `changes = "860"`.
    PoChange,
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
    /// How changes and cancellations of X12 orders go.
    pub changes: ChangesAs,
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
    /// How its invoices are reconciled with the orders sent to it
    /// (`[reconcile]`; default: exact prices, any charge, a variance
    /// held).
    pub reconcile: crate::reconcile::Policy,
    /// Its side of the NetSuite flows (`[netsuite]`: its vendor's
    /// internal ID, a flow turned off or on for it).
    pub netsuite: Option<crate::netsuite::config::PartnerNetSuite>,
    /// Its exception rules over the gateway's (`[exceptions]`, key by
    /// key).
    pub exceptions: crate::lifecycle::rules::RulesTable,
}

/// Reads every partner file of the partners folder (`partners_at`: where
/// `gateway.toml` names it, for messages).
pub(super) fn load_all(
    gateway: &mut Gateway,
    gateway_source: &Source,
    partners_at: usize,
    errors: &mut Vec<ConfigError>,
) {
    let dir = gateway.gateway.partners.clone();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(gateway_source.error_at(
                partners_at,
                format!(
                    "[gateway] partners: cannot read the folder {}: {e}",
                    dir.display()
                ),
            ));
            return;
        }
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

/// Reads one partner file; every problem goes to `errors`, and what could
/// be read is returned.
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
    let mut doc = source.document(errors);
    let mut table = |key: &str, errors: &mut Vec<ConfigError>| -> Option<Table<'_>> {
        let value = doc.take(key)?;
        source
            .table(value, &format!("[{key}]"))
            .map_err(|e| errors.push(e))
            .ok()
    };
    let partner_table = table("partner", errors);
    let x12_table = table("x12", errors);
    let outbound_table = table("outbound", errors);
    let reconcile_table = table("reconcile", errors);
    let netsuite_table = table("netsuite", errors);
    let exceptions_table = table("exceptions", errors);
    let inbound_value = doc.take("inbound");
    for (key, at) in doc.keys() {
        errors.push(source.error_at(
            at,
            format!(
                "unknown table or key `{key}`, expected one of partner, x12, inbound, outbound, reconcile, netsuite, exceptions"
            ),
        ));
    }
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !super::gateway_name(&id) {
        errors.push(source.error(format!(
            "the partner id (the file name) {id:?} must be letters, digits, - and _"
        )));
    }
    let x12_at = x12_table.as_ref().map_or(0, Table::at);
    let x12 = x12_table.and_then(|t| {
        let at = t.key_at("interchange_id").unwrap_or(t.at());
        let x: X12Identity = source.value(t.into_value()).map_err(|e| errors.push(e)).ok()?;
        if x.qualifier_and_id().is_none() {
            errors.push(source.error_at(
                at,
                format!(
                    "[x12] interchange_id {:?}: write the qualifier and the ID as in ISA05 and ISA06, like \"ZZ:ACME\"",
                    x.interchange_id
                ),
            ));
        }
        Some(x)
    });
    if let Some(x) = &x12
        && x.acknowledgment != AckPolicy::None
        && outbound_table.is_none()
    {
        errors.push(source.error_at(
            x12_at,
            "[x12] acknowledgments need a channel to go out on: add [outbound] channel = \"...\" (or acknowledgment = \"none\")",
        ));
    }
    let mut inbound = Vec::new();
    let entries = match inbound_value.map(|v| (v.span().start, v.into_inner())) {
        None => Vec::new(),
        Some((_, toml::de::DeValue::Array(items))) => items.into_iter().collect(),
        Some((at, _)) => {
            errors.push(source.error_at(at, "inbound: write each entry as an [[inbound]] table"));
            Vec::new()
        }
    };
    for entry in entries {
        let at = entry.span().start;
        let Ok(i) = source
            .value::<InboundFiles>(entry)
            .map_err(|e| errors.push(e))
        else {
            continue;
        };
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
        if let Some(marker) = &i.ready_marker
            && let Err(e) = crate::transport::marker::Marker::new(marker)
        {
            errors.push(source.error_at(at, format!("[[inbound]] ready_marker: {e}")));
        }
        inbound.push(i);
    }
    let outbound = outbound_table.and_then(|t| {
        let at = t.at();
        let channel_at = t.key_at("channel").unwrap_or(at);
        let format_at = t.key_at("format").unwrap_or(at);
        let mapping_at = t.key_at("mapping").unwrap_or(at);
        let changes_at = t.key_at("changes").unwrap_or(at);
        let o: Outbound = source
            .value(t.into_value())
            .map_err(|e| errors.push(e))
            .ok()?;
        if let Some(f) = &o.format
            && !matches!(f.as_str(), "x12" | "csv" | "xml")
        {
            errors.push(source.error_at(
                format_at,
                format!("[outbound] format {f:?}: x12, csv or xml"),
            ));
        }
        if let (Some(m), Some(library)) = (&o.mapping, library)
            && let Err(e) = library.load(m)
        {
            errors.push(source.error_at(mapping_at, format!("[outbound] mapping {m:?}: {e}")));
        }
        if gateway.channel(&o.channel).is_none() {
            errors.push(source.error_at(
                channel_at,
                format!(
                    "[outbound] channel {:?} is not a channel of {} ({})",
                    o.channel,
                    gateway.file.display(),
                    known(gateway)
                ),
            ));
        }
        if let Some(c) = gateway.channel(&o.channel)
            && matches!(c.kind, crate::transport::channel::ChannelKind::Http(_))
        {
            errors.push(source.error_at(
                channel_at,
                format!(
                    "[outbound] channel {:?} is an HTTP feed: it only fetches; send through another channel",
                    o.channel
                ),
            ));
        }
        let changes = match o.changes.as_deref() {
            None | Some("850") => ChangesAs::Order,
            Some("860") => ChangesAs::PoChange,
            Some(other) => {
                errors.push(source.error_at(
                    changes_at,
                    format!("[outbound] changes {other:?}: \"850\" (the default) or \"860\""),
                ));
                ChangesAs::Order
            }
        };
        Some(OutboundTo {
            channel: o.channel,
            format: o.format,
            mapping: o.mapping,
            changes,
        })
    });
    let (name, emails, emails_at) = match partner_table {
        Some(t) => {
            let at = t.key_at("emails").unwrap_or(t.at());
            match source.value::<PartnerSection>(t.into_value()) {
                Ok(p) => (p.name, p.emails, at),
                Err(e) => {
                    errors.push(e);
                    (None, Vec::new(), at)
                }
            }
        }
        None => (None, Vec::new(), 0),
    };
    let reconcile = reconcile_table
        .and_then(|t| {
            source
                .value::<crate::reconcile::Policy>(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()
        })
        .unwrap_or_default();
    let netsuite = netsuite_table.and_then(|t| {
        source
            .value::<crate::netsuite::config::PartnerNetSuite>(t.into_value())
            .map_err(|e| errors.push(e))
            .ok()
    });
    let exceptions = exceptions_table
        .and_then(|t| {
            source
                .value::<crate::lifecycle::rules::RulesTable>(t.into_value())
                .map_err(|e| errors.push(e))
                .ok()
        })
        .unwrap_or_default();
    for e in &emails {
        if !e.contains('@') {
            errors.push(source.error_at(
                emails_at,
                format!(
                    "[partner] emails: {e:?} is not an address (like \"edi@acme.example\" or \"*@acme.example\")"
                ),
            ));
        }
    }
    Some(Partner {
        name: name.unwrap_or_else(|| id.clone()),
        emails,
        id,
        x12,
        inbound,
        outbound,
        reconcile,
        netsuite,
        exceptions,
    })
}

fn known(gateway: &Gateway) -> String {
    if gateway.channels.is_empty() {
        return "it has none".to_string();
    }
    let names: Vec<&str> = gateway.channels.iter().map(|c| c.name.as_str()).collect();
    format!("channels: {}", names.join(", "))
}
