//! Mapping files as written: TOML read into a tree that remembers the file
//! and line of every key, so that every later error can point at the line
//! the mapping author wrote. Also the `extends` merge that lets a partner's
//! mapping change one field of another mapping without copying it.

use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use super::MappingError;

/// A value of a mapping file, with where it was written.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The file it comes from.
    pub file: Arc<str>,
    /// The line of its key (or of the value, in an array).
    pub line: u32,
    /// The value.
    pub value: Value,
}

/// A TOML value.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float, as written (kept as text: it may be a decimal factor).
    Float(String),
    /// A boolean.
    Bool(bool),
    /// An array.
    Array(Vec<Spec>),
    /// A table, keys in the order written.
    Table(Vec<(String, Spec)>),
}

impl Spec {
    /// Parses the TOML `text` of `file`.
    pub fn parse(file: &str, text: &str) -> Result<Spec, MappingError> {
        let file: Arc<str> = Arc::from(file);
        let lines = LineIndex::new(text);
        let table = DeTable::parse(text).map_err(|e| {
            let line = e.span().map_or(1, |s| lines.line(s.start));
            MappingError::spec(&file, line, e.message().trim().to_string())
        })?;
        let line = lines.line(table.span().start);
        Ok(Spec {
            value: convert_table(table.get_ref(), &file, &lines),
            file,
            line,
        })
    }

    /// A table's entries.
    pub fn table(&self) -> Option<&[(String, Spec)]> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// An entry of a table.
    pub fn get(&self, key: &str) -> Option<&Spec> {
        self.table()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as text (strings, numbers and booleans).
    pub fn as_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An error at this value's line.
    pub fn error(&self, message: impl Into<String>) -> MappingError {
        MappingError::spec(&self.file, self.line, message.into())
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }

    /// Lays `over` over `self`: tables merge key by key (recursively), a
    /// key set to `false` in `over` is removed, anything else in `over`
    /// replaces what was there.
    pub fn merge(&mut self, over: &Spec) {
        match (&mut self.value, &over.value) {
            (Value::Table(base), Value::Table(top)) => {
                for (key, value) in top {
                    let removes = matches!(value.value, Value::Bool(false))
                        && base
                            .iter()
                            .any(|(k, v)| k == key && !matches!(v.value, Value::Bool(_)));
                    if removes {
                        base.retain(|(k, _)| k != key);
                        continue;
                    }
                    match base.iter_mut().find(|(k, _)| k == key) {
                        Some((_, existing)) => existing.merge(value),
                        None => base.push((key.clone(), value.clone())),
                    }
                }
            }
            _ => *self = over.clone(),
        }
    }
}

fn convert_table(table: &DeTable<'_>, file: &Arc<str>, lines: &LineIndex) -> Value {
    let mut out = Vec::with_capacity(table.len());
    for (key, value) in table {
        let line = lines.line(key.span().start);
        out.push((
            key.get_ref().to_string(),
            Spec {
                file: Arc::clone(file),
                line,
                value: convert(value.get_ref(), file, lines, line),
            },
        ));
    }
    Value::Table(out)
}

fn convert(value: &DeValue<'_>, file: &Arc<str>, lines: &LineIndex, line: u32) -> Value {
    match value {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => match i.to_string().replace('_', "").parse::<i64>() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Str(i.to_string()),
        },
        DeValue::Float(f) => Value::Float(f.to_string().replace('_', "")),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Str(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| {
                    let l = lines.line(v.span().start);
                    let l = if l == 0 { line } else { l };
                    Spec {
                        file: Arc::clone(file),
                        line: l,
                        value: convert(v.get_ref(), file, lines, l),
                    }
                })
                .collect(),
        ),
        DeValue::Table(t) => convert_table(t, file, lines),
    }
}

/// Byte offset to line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> u32 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_lines() {
        let s = Spec::parse("m.toml", "a = 1\n\n[b]\nc = \"x\"\nd = [1, 2]\n").expect("parses");
        assert_eq!(s.get("a").map(|v| v.line), Some(1));
        let b = s.get("b").expect("b");
        assert_eq!(b.get("c").map(|v| v.line), Some(4));
        assert_eq!(b.get("d").map(|v| v.line), Some(5));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = Spec::parse("m.toml", "a = 1\nb = = 2\n").expect_err("bad");
        assert!(e.to_string().starts_with("m.toml:2:"), "{e}");
    }

    #[test]
    fn merges_and_removes() {
        let mut base = Spec::parse(
            "base.toml",
            "x = \"A\"\ny = \"B\"\n[t]\nfrom = \"P\"\ndate = \"CCYYMMDD\"\n",
        )
        .expect("parses");
        let over = Spec::parse("over.toml", "y = false\n[t]\nfrom = \"Q\"\n").expect("parses");
        base.merge(&over);
        assert!(base.get("y").is_none());
        assert_eq!(base.get("x").and_then(Spec::as_str), Some("A"));
        let t = base.get("t").expect("t");
        assert_eq!(t.get("from").and_then(Spec::as_str), Some("Q"));
        assert_eq!(&*t.get("from").expect("from").file, "over.toml");
        assert_eq!(t.get("date").and_then(Spec::as_str), Some("CCYYMMDD"));
    }
}
