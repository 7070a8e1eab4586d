//! A configuration file read as TOML one table at a time: every syntax
//! error is kept, and each table is deserialized on its own, so that one
//! mistake does not hide the next (a typo in `[gateway]` and one in
//! `[channel.drop]` are both reported, with their lines and columns).

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::{ConfigError, Source};

/// A value of the file with its place.
pub(crate) type Value<'s> = Spanned<DeValue<'s>>;

/// A table of the file: its entries in order and its place.
pub(crate) struct Table<'s> {
    entries: Vec<(Spanned<String>, Value<'s>)>,
    span: Range<usize>,
}

impl<'s> Table<'s> {
    fn new(table: DeTable<'s>, span: Range<usize>) -> Table<'s> {
        let entries = table
            .into_iter()
            .map(|(k, v)| {
                let at = k.span();
                (Spanned::new(at, k.into_inner().into_owned()), v)
            })
            .collect();
        Table { entries, span }
    }

    /// Where the table is (its header, or its first key).
    pub fn at(&self) -> usize {
        self.span.start
    }

    /// Takes the value of `key` out of the table.
    pub fn take(&mut self, key: &str) -> Option<Value<'s>> {
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        Some(self.entries.remove(i).1)
    }

    /// Where `key` is written, if it is.
    pub fn key_at(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(k, _)| k.span().start)
    }

    /// The keys left, with their places.
    pub fn keys(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries
            .iter()
            .map(|(k, _)| (k.get_ref().as_str(), k.span().start))
    }

    /// The entries, in order.
    pub fn into_entries(self) -> impl Iterator<Item = (Spanned<String>, Value<'s>)> {
        self.entries.into_iter()
    }

    /// The table (what is left of it) as a value again.
    pub fn into_value(self) -> Value<'s> {
        let table: DeTable<'s> = self
            .entries
            .into_iter()
            .map(|(k, v)| {
                let at = k.span();
                (Spanned::new(at, std::borrow::Cow::Owned(k.into_inner())), v)
            })
            .collect();
        Spanned::new(self.span, DeValue::Table(table))
    }
}

impl Source {
    /// Parses the file: every syntax error goes to `errors`, and what could
    /// be read is returned (the whole file when there is none).
    pub fn document(&self, errors: &mut Vec<ConfigError>) -> Table<'_> {
        let (doc, syntax) = DeTable::parse_recoverable(&self.text);
        for e in syntax {
            errors.push(self.placed(&e, 0));
        }
        let span = doc.span();
        Table::new(doc.into_inner(), span)
    }

    /// `value` as a table, or an error naming `what` it should be.
    pub fn table<'s>(&self, value: Value<'s>, what: &str) -> Result<Table<'s>, ConfigError> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(t) => Ok(Table::new(t, span)),
            _ => Err(self.error_at(span.start, format!("{what} must be a table"))),
        }
    }

    /// Deserializes one value; its error is placed where the value says,
    /// or at the value.
    pub fn value<T: DeserializeOwned>(&self, value: Value<'_>) -> Result<T, ConfigError> {
        let at = value.span().start;
        T::deserialize(ValueDeserializer::from(value)).map_err(|e| self.placed(&e, at))
    }

    /// A TOML error at its place, or at `fallback`.
    fn placed(&self, e: &toml::de::Error, fallback: usize) -> ConfigError {
        let message = e.message().trim().to_string();
        self.error_at(e.span().map_or(fallback, |s| s.start), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Section {
        a: u64,
    }

    fn source(text: &str) -> Source {
        Source {
            path: "g.toml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn every_table_is_read_on_its_own() {
        let s = source("[one]\na = 1\nbogus = 2\n\n[two]\na = \"x\"\n[three\n");
        let mut errors = Vec::new();
        let mut doc = s.document(&mut errors);
        let one = doc.take("one").map(|v| s.value::<Section>(v));
        let two = doc.take("two").map(|v| s.value::<Section>(v));
        let messages: Vec<String> = errors
            .iter()
            .chain(one.and_then(Result::err).as_ref())
            .chain(two.and_then(Result::err).as_ref())
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            [
                "g.toml:7:7: unclosed table, expected `]`",
                "g.toml:3:1: unknown field `bogus`, expected `a`",
                "g.toml:6:5: invalid type: string \"x\", expected u64",
            ]
        );
    }
}
