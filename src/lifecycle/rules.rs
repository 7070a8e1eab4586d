//! The exception rules: what counts as an order (or a channel, or a feed)
//! needing a person, with the gateway's defaults (`[exceptions]` in
//! `gateway.toml`) and a partner's overrides (`[exceptions]` in its file).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// A span of time as written in the configuration: `45s`, `30m`, `4h`,
/// `2d`, or several (`1h30m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

/// Why a span does not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{text:?} is not a span of time: write a number and a unit, like \"45s\", \"30m\", \"4h\", \"2d\" or \"1h30m\""
)]
pub struct SpanError {
    /// What was written.
    pub text: String,
}

impl Span {
    /// Reads `4h`, `30m`, `1h30m`, `2d`, `45s`.
    pub fn parse(text: &str) -> Result<Span, SpanError> {
        let err = || SpanError {
            text: text.to_string(),
        };
        let s = text.trim();
        if s.is_empty() {
            return Err(err());
        }
        let mut total: u64 = 0;
        let mut number: Option<u64> = None;
        for c in s.chars() {
            if let Some(d) = c.to_digit(10) {
                number = Some(
                    number
                        .unwrap_or(0)
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(d)))
                        .ok_or_else(err)?,
                );
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(err()),
            };
            let n = number.take().ok_or_else(err)?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(err)?;
        }
        if number.is_some() {
            return Err(err());
        }
        Ok(Span(Duration::from_secs(total)))
    }

    /// In seconds.
    pub fn secs(self) -> u64 {
        self.0.as_secs()
    }

    /// As chrono's duration.
    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.secs()).unwrap_or(i64::MAX / 1000))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.secs();
        if s == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if s >= size {
                write!(f, "{}{unit}", s / size)?;
                s %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let text = String::deserialize(d)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A rule with a span that may be turned off: `"4h"` or `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Off.
    Off,
    /// On, after this long.
    After(Span),
}

impl<'de> Deserialize<'de> for After {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<After, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(false) => Ok(After::Off),
            Raw::Flag(true) => Err(serde::de::Error::custom(
                "say after how long, like \"4h\" (or false to turn the rule off)",
            )),
            Raw::Text(t) => Span::parse(&t)
                .map(After::After)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl After {
    /// The span, when on.
    pub fn span(self) -> Option<Span> {
        match self {
            After::Off => None,
            After::After(s) => Some(s),
        }
    }
}

/// An `[exceptions]` table as written: every key optional, so that a
/// partner's table overrides the gateway's key by key.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RulesTable {
    /// No 997/999 this long after an X12 order was sent.
    pub no_997_after: Option<After>,
    /// No 855 this long after an order was sent.
    pub no_855_after: Option<After>,
    /// Not shipped in full by the promised (or requested) ship date, plus
    /// this grace (`false`: off).
    pub late_after: Option<After>,
    /// A line shipped in another quantity than ordered.
    pub quantity_mismatch: Option<bool>,
    /// An invoice with no ship notice for its order.
    pub invoice_without_ship_notice: Option<bool>,
    /// An invoice held by reconciliation.
    pub invoice_held: Option<bool>,
    /// A file of the partner quarantined.
    pub quarantined: Option<bool>,
    /// A channel failing for this long.
    pub channel_failing_after: Option<After>,
    /// A delivery tried and not made for this long (the gateway's table
    /// only: deliveries are not a partner's).
    pub delivery_failing_after: Option<After>,
    /// No inventory report from the partner for this long (off unless
    /// set).
    pub inventory_every: Option<After>,
}

/// The rules in force for a partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// No 997/999 this long after an X12 order was sent.
    pub no_997_after: Option<Span>,
    /// No 855 this long after an order was sent.
    pub no_855_after: Option<Span>,
    /// Late: not shipped in full by the due date plus this.
    pub late_after: Option<Span>,
    /// Shipped quantities that differ from the order's.
    pub quantity_mismatch: bool,
    /// Invoices with no ship notice.
    pub invoice_without_ship_notice: bool,
    /// Invoices held.
    pub invoice_held: bool,
    /// Files quarantined.
    pub quarantined: bool,
    /// Channels failing for this long.
    pub channel_failing_after: Option<Span>,
    /// Deliveries tried and not made for this long.
    pub delivery_failing_after: Option<Span>,
    /// Inventory reports expected this often.
    pub inventory_every: Option<Span>,
}

impl Default for Rules {
    fn default() -> Rules {
        let h = |n: u64| Some(Span(Duration::from_secs(n * 3600)));
        Rules {
            no_997_after: h(4),
            no_855_after: h(24),
            late_after: Some(Span(Duration::ZERO)),
            quantity_mismatch: true,
            invoice_without_ship_notice: true,
            invoice_held: true,
            quarantined: true,
            channel_failing_after: Some(Span(Duration::from_secs(30 * 60))),
            delivery_failing_after: h(2),
            inventory_every: None,
        }
    }
}

impl Rules {
    /// These rules with a table's keys over them.
    pub fn with(&self, t: &RulesTable) -> Rules {
        let span = |over: Option<After>, base: Option<Span>| over.map_or(base, After::span);
        Rules {
            no_997_after: span(t.no_997_after, self.no_997_after),
            no_855_after: span(t.no_855_after, self.no_855_after),
            late_after: span(t.late_after, self.late_after),
            quantity_mismatch: t.quantity_mismatch.unwrap_or(self.quantity_mismatch),
            invoice_without_ship_notice: t
                .invoice_without_ship_notice
                .unwrap_or(self.invoice_without_ship_notice),
            invoice_held: t.invoice_held.unwrap_or(self.invoice_held),
            quarantined: t.quarantined.unwrap_or(self.quarantined),
            channel_failing_after: span(t.channel_failing_after, self.channel_failing_after),
            delivery_failing_after: span(t.delivery_failing_after, self.delivery_failing_after),
            inventory_every: span(t.inventory_every, self.inventory_every),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_written_and_print_back() {
        for (text, secs) in [
            ("45s", 45),
            ("30m", 1800),
            ("4h", 14_400),
            ("2d", 172_800),
            ("1h30m", 5400),
            ("0s", 0),
        ] {
            let span = Span::parse(text).expect("a span");
            assert_eq!(span.secs(), secs, "{text}");
            assert_eq!(span.to_string(), text);
        }
        for bad in ["", "4", "h", "4x", "4h3", "-1h", "99999999999999999999d"] {
            assert!(Span::parse(bad).is_err(), "{bad:?} read");
        }
    }

    #[test]
    fn a_partner_table_overrides_key_by_key_and_turns_rules_off() {
        let t: RulesTable = toml::from_str(
            "no_997_after = \"2h\"\nno_855_after = false\ninventory_every = \"26h\"\ninvoice_held = false\n",
        )
        .expect("a table");
        let r = Rules::default().with(&t);
        assert_eq!(r.no_997_after.map(Span::secs), Some(7200));
        assert_eq!(r.no_855_after, None);
        assert_eq!(r.inventory_every.map(Span::secs), Some(26 * 3600));
        assert!(!r.invoice_held);
        assert!(r.quantity_mismatch, "untouched keys keep the default");
        assert_eq!(r.late_after, Rules::default().late_after);
        let e = toml::from_str::<RulesTable>("no_997_after = true").expect_err("true");
        assert!(e.to_string().contains("after how long"), "{e}");
        let e = toml::from_str::<RulesTable>("no_997_after = \"soon\"").expect_err("soon");
        assert!(e.to_string().contains("not a span"), "{e}");
    }
}
