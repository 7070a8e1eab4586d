//! Rules: how one value is found and transformed.
//!
//! A rule is a path (`"BEG03"`) or a table of a source and transforms,
//! applied in this order: find (`from`, `value`, `join`, `count`, `sum`),
//! `trim`, `pattern`, `case`, `codes`, `truncate`, then the number and date
//! conversions the target field's type asks for, then `default`.
//!
//! Inbound (vendor → canonical), `date` and the number options say how the
//! vendor writes values, and the result is ISO dates and exact decimals.
//! Outbound (canonical → vendor) they say how to write them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use regex::Regex;
use rust_decimal::Decimal;

use crate::format::{Flavor, NodeId};

use super::MappingError;
use super::path::{Compiler, Cond, Eval, Item, Path};
use super::spec::{Spec, Value};

/// The type a rule's value must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Any text.
    Text,
    /// An exact decimal.
    Decimal,
    /// A whole number.
    Integer,
    /// An ISO date.
    Date,
    /// A boolean.
    Bool,
    /// One of these strings.
    Enum(Vec<String>),
}

/// Which way a mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Vendor format to canonical model.
    Inbound,
    /// Canonical model to vendor format.
    Outbound,
}

/// A code table: vendor code to canonical value.
#[derive(Clone, Debug, Default)]
pub struct Codes {
    map: HashMap<String, String>,
    reverse: HashMap<String, String>,
}

impl Codes {
    /// Reads a code table (`"00" = "original"`).
    pub fn from_spec(spec: &Spec) -> Result<Codes, MappingError> {
        let table = spec
            .table()
            .ok_or_else(|| spec.error("a code table is a table of code = value"))?;
        let mut codes = Codes::default();
        for (k, v) in table {
            let v = v
                .as_text()
                .ok_or_else(|| v.error(format!("the code {k:?} needs a text value")))?;
            codes.reverse.entry(v.clone()).or_insert_with(|| k.clone());
            codes.map.insert(k.clone(), v);
        }
        Ok(codes)
    }
}

/// What to do with a code not in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unknown {
    Error,
    Keep,
    Default,
}

#[derive(Clone, Debug)]
enum Find {
    From(Vec<Path>),
    Value(String),
    Join(Vec<Path>, String),
    Count(Path),
    Sum(Path),
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The mapping file and line the rule was written at.
    pub file: Arc<str>,
    /// The line.
    pub line: u32,
    find: Find,
    when: Option<Cond>,
    trim: bool,
    case: Option<bool>,
    pattern: Option<Regex>,
    codes: Option<(Arc<Codes>, Unknown)>,
    truncate: Option<usize>,
    dates: Vec<String>,
    implied: Option<u32>,
    decimal_mark: Option<char>,
    thousands: Option<char>,
    multiply: Option<Decimal>,
    decimals: Option<u32>,
    default: Option<String>,
    /// Every value found, not the first (lists of values).
    pub all: bool,
    unique: bool,
    target: Target,
    direction: Direction,
    flavor: Flavor,
}

/// A value a rule produced, with the item it came from (for messages and
/// `mapping explain`).
#[derive(Clone, Debug)]
pub struct Produced {
    /// The value, converted to the target's form.
    pub text: String,
    /// Where it came from.
    pub item: Option<Item>,
}

/// A rule that failed on a value.
#[derive(Clone, Debug)]
pub struct RuleError {
    /// What is wrong.
    pub message: String,
    /// Where the value came from.
    pub item: Option<Item>,
}

const KEYS: &[&str] = &[
    "from",
    "value",
    "join",
    "separator",
    "count",
    "sum",
    "when",
    "trim",
    "case",
    "pattern",
    "codes",
    "unknown",
    "truncate",
    "date",
    "implied_decimals",
    "decimal",
    "thousands",
    "multiply",
    "decimals",
    "default",
    "all",
    "unique",
];

/// True when every key of a table is a rule option (it is a rule, not an
/// object of fields).
pub fn is_rule_table(spec: &Spec) -> bool {
    spec.table()
        .is_some_and(|t| !t.is_empty() && t.iter().all(|(k, _)| KEYS.contains(&k.as_str())))
}

/// What a rule needs to compile.
pub struct RuleContext<'a, 'b> {
    /// Paths compile here.
    pub paths: &'a mut Compiler<'b>,
    /// Named code tables of the mapping.
    pub codes: &'a HashMap<String, Arc<Codes>>,
    /// Which way the mapping goes.
    pub direction: Direction,
}

impl Rule {
    /// Compiles a rule written as a path or a table.
    pub fn compile(
        spec: &Spec,
        target: Target,
        cx: &mut RuleContext<'_, '_>,
    ) -> Result<Rule, MappingError> {
        let path = |cx: &mut RuleContext<'_, '_>, s: &Spec| -> Result<Path, MappingError> {
            let text = s
                .as_str()
                .ok_or_else(|| s.error(format!("expected a path, found {}", s.kind())))?;
            cx.paths.path(text).map_err(|e| s.error(e.0))
        };
        let paths = |cx: &mut RuleContext<'_, '_>, s: &Spec| -> Result<Vec<Path>, MappingError> {
            match &s.value {
                Value::Array(items) => items.iter().map(|i| path(cx, i)).collect(),
                _ => Ok(vec![path(cx, s)?]),
            }
        };
        let mut rule = Rule {
            file: Arc::clone(&spec.file),
            line: spec.line,
            find: Find::Value(String::new()),
            when: None,
            trim: true,
            case: None,
            pattern: None,
            codes: None,
            truncate: None,
            dates: Vec::new(),
            implied: None,
            decimal_mark: None,
            thousands: None,
            multiply: None,
            decimals: None,
            default: None,
            all: false,
            unique: false,
            target,
            direction: cx.direction,
            flavor: cx.paths.flavor,
        };
        let table = match &spec.value {
            Value::Str(_) => {
                rule.find = Find::From(vec![path(cx, spec)?]);
                return Ok(rule);
            }
            Value::Table(t) => t,
            _ => {
                return Err(spec.error(format!("a rule is a path or a table, not {}", spec.kind())));
            }
        };
        let mut found = None;
        for (key, v) in table {
            let text = || {
                v.as_text()
                    .ok_or_else(|| v.error(format!("{key} takes a value, not {}", v.kind())))
            };
            let uint = || -> Result<u32, MappingError> {
                match &v.value {
                    Value::Int(n) if *n >= 0 && *n <= 28 => Ok(*n as u32),
                    _ => Err(v.error(format!("{key} takes a whole number from 0 to 28"))),
                }
            };
            let flag = || {
                v.as_bool()
                    .ok_or_else(|| v.error(format!("{key} takes true or false")))
            };
            let mark = || -> Result<char, MappingError> {
                let t = text()?;
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(c),
                    _ => Err(v.error(format!("{key} takes one character"))),
                }
            };
            match key.as_str() {
                "from" => found = Some(Find::From(paths(cx, v)?)),
                "value" => found = Some(Find::Value(text()?)),
                "join" => {
                    let sep = table
                        .iter()
                        .find(|(k, _)| k == "separator")
                        .and_then(|(_, s)| s.as_text())
                        .unwrap_or_else(|| " ".into());
                    found = Some(Find::Join(paths(cx, v)?, sep));
                }
                "separator" => {}
                "count" => found = Some(Find::Count(path(cx, v)?)),
                "sum" => found = Some(Find::Sum(path(cx, v)?)),
                "when" => {
                    let c = v
                        .as_str()
                        .ok_or_else(|| v.error("when takes a condition"))?;
                    rule.when = Some(cx.paths.cond(c).map_err(|e| v.error(e.0))?);
                }
                "trim" => rule.trim = flag()?,
                "case" => {
                    rule.case = Some(match text()?.as_str() {
                        "upper" => true,
                        "lower" => false,
                        other => {
                            return Err(
                                v.error(format!("case is \"upper\" or \"lower\", not {other:?}"))
                            );
                        }
                    });
                }
                "pattern" => {
                    rule.pattern =
                        Some(Regex::new(&text()?).map_err(|e| v.error(format!("pattern: {e}")))?);
                }
                "codes" => {
                    let codes = match &v.value {
                        Value::Str(name) => cx.codes.get(name).cloned().ok_or_else(|| {
                            v.error(format!("no code table [codes.{name}] in this mapping"))
                        })?,
                        Value::Table(_) => Arc::new(Codes::from_spec(v)?),
                        _ => return Err(v.error("codes takes a table name or a table")),
                    };
                    let unknown = rule.codes.as_ref().map_or(Unknown::Error, |c| c.1);
                    rule.codes = Some((codes, unknown));
                }
                "unknown" => {
                    let u = match text()?.as_str() {
                        "error" => Unknown::Error,
                        "keep" => Unknown::Keep,
                        "default" => Unknown::Default,
                        other => {
                            return Err(v.error(format!(
                                "unknown is \"error\", \"keep\" or \"default\", not {other:?}"
                            )));
                        }
                    };
                    match &mut rule.codes {
                        Some(c) => c.1 = u,
                        None => rule.codes = Some((Arc::new(Codes::default()), u)),
                    }
                }
                "truncate" => rule.truncate = Some(uint()? as usize),
                "date" => {
                    rule.dates = match &v.value {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_text().ok_or_else(|| i.error("a date format")))
                            .collect::<Result<_, _>>()?,
                        _ => vec![text()?],
                    };
                    for f in &rule.dates {
                        chrono_format(f).map_err(|e| v.error(e))?;
                    }
                }
                "implied_decimals" => rule.implied = Some(uint()?),
                "decimal" => rule.decimal_mark = Some(mark()?),
                "thousands" => rule.thousands = Some(mark()?),
                "multiply" => {
                    let t = text()?;
                    rule.multiply = Some(
                        t.parse::<Decimal>()
                            .map_err(|_| v.error(format!("multiply: {t:?} is not a number")))?,
                    );
                }
                "decimals" => rule.decimals = Some(uint()?),
                "default" => rule.default = Some(text()?),
                "all" => rule.all = flag()?,
                "unique" => rule.unique = flag()?,
                other => return Err(v.error(format!("{other} is not a rule option"))),
            }
        }
        if let Some((codes, Unknown::Error)) = &rule.codes
            && codes.map.is_empty()
        {
            return Err(spec.error("unknown without codes"));
        }
        rule.find = found
            .ok_or_else(|| spec.error("a rule needs one of from, value, join, count or sum"))?;
        if !matches!(rule.find, Find::From(_)) && rule.all {
            return Err(spec.error("all applies to from"));
        }
        Ok(rule)
    }

    /// True when the rule applies at `context` (its `when` holds).
    pub fn applies(&self, eval: &Eval<'_, '_>, context: NodeId) -> bool {
        self.when.as_ref().is_none_or(|c| eval.holds(c, context))
    }

    /// The rule's value at `context`, or `None` when it finds nothing and
    /// has no default.
    pub fn value(
        &self,
        eval: &Eval<'_, '_>,
        context: NodeId,
    ) -> Result<Option<Produced>, RuleError> {
        if !self.applies(eval, context) {
            return Ok(None);
        }
        let (raw, item) = match &self.find {
            Find::Value(v) => (Some(v.clone()), None),
            Find::From(paths) => {
                let mut hit = None;
                for p in paths {
                    if let Some((item, text)) = eval.first(p, context) {
                        hit = Some((text.into_owned(), Some(item)));
                        break;
                    }
                }
                match hit {
                    Some((t, i)) => (Some(t), i),
                    None => (None, None),
                }
            }
            Find::Join(paths, sep) => {
                let mut parts = Vec::new();
                let mut first = None;
                for p in paths {
                    if let Some((item, text)) = eval.first(p, context) {
                        first.get_or_insert(item);
                        let t = text.trim().to_string();
                        if !t.is_empty() {
                            parts.push(t);
                        }
                    }
                }
                ((!parts.is_empty()).then(|| parts.join(sep)), first)
            }
            Find::Count(p) => {
                let mut items = Vec::new();
                eval.items(p, context, &mut items);
                (Some(items.len().to_string()), None)
            }
            Find::Sum(p) => {
                let mut items = Vec::new();
                eval.items(p, context, &mut items);
                let mut total = Decimal::ZERO;
                for &i in &items {
                    let t = eval.text(p, i);
                    let d = self.parse_number(t.trim()).map_err(|message| RuleError {
                        message,
                        item: Some(i),
                    })?;
                    total += d;
                }
                (Some(total.to_string()), None)
            }
        };
        match raw {
            Some(r) => self.finish(r, item).map(|o| {
                o.map(|text| Produced { text, item })
                    .or_else(|| self.default_value())
            }),
            None => Ok(self.default_value()),
        }
    }

    /// Every value the rule finds (for lists of values).
    pub fn values(&self, eval: &Eval<'_, '_>, context: NodeId) -> Result<Vec<Produced>, RuleError> {
        if !self.all {
            return Ok(self.value(eval, context)?.into_iter().collect());
        }
        if !self.applies(eval, context) {
            return Ok(Vec::new());
        }
        let Find::From(paths) = &self.find else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Produced> = Vec::new();
        let mut items = Vec::new();
        for p in paths {
            items.clear();
            eval.items(p, context, &mut items);
            for &i in &items {
                let t = eval.text(p, i);
                if t.trim().is_empty() {
                    continue;
                }
                if let Some(text) = self.finish(t.into_owned(), Some(i))?
                    && !(self.unique && out.iter().any(|o| o.text == text))
                {
                    out.push(Produced {
                        text,
                        item: Some(i),
                    });
                }
            }
        }
        Ok(out)
    }

    fn default_value(&self) -> Option<Produced> {
        self.default
            .clone()
            .map(|text| Produced { text, item: None })
    }

    /// Transforms a raw value; `None` when it comes out empty.
    fn finish(&self, raw: String, item: Option<Item>) -> Result<Option<String>, RuleError> {
        let err = |message: String| RuleError { message, item };
        let mut v = if self.trim {
            raw.trim().to_string()
        } else {
            raw
        };
        if let Some(re) = &self.pattern {
            v = match re.captures(&v) {
                Some(c) => c
                    .get(1)
                    .or_else(|| c.get(0))
                    .map_or(String::new(), |m| m.as_str().to_string()),
                None => String::new(),
            };
        }
        match self.case {
            Some(true) => v = v.to_uppercase(),
            Some(false) => v = v.to_lowercase(),
            None => {}
        }
        if let Some((codes, unknown)) = &self.codes
            && !v.is_empty()
        {
            let table = if self.direction == Direction::Inbound {
                &codes.map
            } else {
                &codes.reverse
            };
            match table.get(&v) {
                Some(mapped) => v = mapped.clone(),
                None => match unknown {
                    Unknown::Keep => {}
                    Unknown::Default => v.clear(),
                    Unknown::Error => {
                        let mut known: Vec<&String> = table.keys().collect();
                        known.sort();
                        return Err(err(format!(
                            "{v:?} is not in the code table (known: {})",
                            known
                                .iter()
                                .map(|k| format!("{k:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                },
            }
        }
        if let Some(n) = self.truncate {
            v = v.chars().take(n).collect();
        }
        if v.is_empty() {
            return Ok(None);
        }
        let v = match self.direction {
            Direction::Inbound => self.to_canonical(v).map_err(err)?,
            Direction::Outbound => self.to_vendor(v).map_err(err)?,
        };
        Ok(Some(v))
    }

    fn parse_number(&self, s: &str) -> Result<Decimal, String> {
        let mut t: String = s.chars().filter(|c| Some(*c) != self.thousands).collect();
        if let Some(m) = self.decimal_mark
            && m != '.'
        {
            if t.contains('.') && self.thousands.is_none() {
                return Err(format!("{s:?} is not a number with decimal mark {m:?}"));
            }
            t = t.replace(m, ".");
        }
        // X12 numbers may carry a leading + and no digit before the mark.
        let t = t.strip_prefix('+').unwrap_or(&t);
        let d = Decimal::from_str_exact(t)
            .or_else(|_| {
                if let Some(rest) = t.strip_prefix('.') {
                    Decimal::from_str_exact(&format!("0.{rest}"))
                } else if let Some(rest) = t.strip_prefix("-.") {
                    Decimal::from_str_exact(&format!("-0.{rest}"))
                } else {
                    Err(rust_decimal::Error::ConversionTo(String::new()))
                }
            })
            .map_err(|_| format!("{s:?} is not a number"))?;
        Ok(d)
    }

    fn to_canonical(&self, v: String) -> Result<String, String> {
        match &self.target {
            Target::Text => Ok(v),
            Target::Enum(allowed) => {
                if allowed.contains(&v) {
                    Ok(v)
                } else {
                    Err(format!(
                        "{v:?} is not one of {} (map it with codes)",
                        allowed.join(", ")
                    ))
                }
            }
            Target::Bool => match v.to_ascii_lowercase().as_str() {
                "true" | "y" | "yes" | "1" => Ok("true".into()),
                "false" | "n" | "no" | "0" => Ok("false".into()),
                _ => Err(format!("{v:?} is not a yes/no value")),
            },
            Target::Decimal | Target::Integer => {
                let mut d = self.parse_number(&v)?;
                if let Some(n) = self.implied {
                    if v.contains('.') || self.decimal_mark.is_some_and(|m| v.contains(m)) {
                        // A value with its own mark keeps it (X12 N types
                        // never have one; R types may).
                    } else {
                        d.set_scale(d.scale() + n)
                            .map_err(|_| format!("{v:?} has too many digits"))?;
                    }
                }
                if let Some(m) = self.multiply {
                    d = d
                        .checked_mul(m)
                        .ok_or_else(|| format!("{v:?} times {m} overflows"))?;
                }
                if let Some(n) = self.decimals {
                    d = d.round_dp(n);
                }
                if self.target == Target::Integer {
                    if !d.fract().is_zero() {
                        return Err(format!("{v:?} is not a whole number"));
                    }
                    return Ok(d.trunc().normalize().to_string());
                }
                Ok(d.to_string())
            }
            Target::Date => self
                .parse_date(&v)
                .map(|d| d.format("%Y-%m-%d").to_string()),
        }
    }

    fn parse_date(&self, v: &str) -> Result<NaiveDate, String> {
        let defaults: &[&str] = match self.flavor {
            Flavor::X12 => &["CCYYMMDD", "YYMMDD"],
            _ => &["YYYY-MM-DD"],
        };
        let formats: Vec<&str> = if self.dates.is_empty() {
            defaults.to_vec()
        } else {
            self.dates.iter().map(String::as_str).collect()
        };
        for f in &formats {
            let Ok(cf) = chrono_format(f) else { continue };
            if let Ok(d) = NaiveDate::parse_from_str(v, &cf) {
                // %y alone accepts one digit years; the format's width is
                // the value's.
                if f.contains('%') || v.len() == expected_len(f) {
                    return Ok(d);
                }
            }
        }
        Err(format!(
            "{v:?} is not a date in the format {}",
            formats.join(" or ")
        ))
    }

    fn to_vendor(&self, v: String) -> Result<String, String> {
        if !self.dates.is_empty() {
            let d = NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map_err(|_| format!("{v:?} is not an ISO date"))?;
            let f = chrono_format(&self.dates[0])?;
            return Ok(d.format(&f).to_string());
        }
        let numeric = self.implied.is_some()
            || self.decimals.is_some()
            || self.multiply.is_some()
            || self.decimal_mark.is_some();
        if !numeric {
            return Ok(v);
        }
        let mut d = Decimal::from_str_exact(&v).map_err(|_| format!("{v:?} is not a number"))?;
        if let Some(m) = self.multiply {
            d = d
                .checked_mul(m)
                .ok_or_else(|| format!("{v:?} times {m} overflows"))?;
        }
        if let Some(n) = self.implied {
            let mut scaled = d;
            scaled.rescale(n);
            let mantissa = scaled.mantissa();
            return Ok(mantissa.to_string());
        }
        if let Some(n) = self.decimals {
            d = d.round_dp(n);
            d.rescale(n);
        }
        let mut s = d.to_string();
        if let Some(m) = self.decimal_mark {
            s = s.replace('.', &m.to_string());
        }
        Ok(s)
    }
}

fn expected_len(f: &str) -> usize {
    f.replace("CCYY", "YYYY").len()
}

/// A date format in X12 style (`CCYYMMDD`, `YYMMDD`, `MM/DD/YYYY`) or
/// strftime (`%d.%m.%Y`) as a chrono format.
pub fn chrono_format(f: &str) -> Result<String, String> {
    if f.contains('%') {
        return Ok(f.to_string());
    }
    let mut out = String::new();
    let mut rest = f;
    let mut any = false;
    while !rest.is_empty() {
        let (token, replacement) = [
            ("CCYY", "%Y"),
            ("YYYY", "%Y"),
            ("YY", "%y"),
            ("MM", "%m"),
            ("DD", "%d"),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t))
        .unwrap_or(("", ""));
        if token.is_empty() {
            let c = rest.chars().next().unwrap_or(' ');
            if c.is_ascii_alphabetic() {
                return Err(format!(
                    "date format {f:?}: use CCYY or YYYY, YY, MM, DD (or a strftime format with %)"
                ));
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        } else {
            any = true;
            out.push_str(replacement);
            rest = &rest[token.len()..];
        }
    }
    if !any {
        return Err(format!("date format {f:?} has no date in it"));
    }
    Ok(out)
}
