//! Rules: how one value is found and transformed.
//!
//! A rule is a path (`"BEG03"`) or a table of a source and transforms,
//! applied in this order: find (`from`, `value`, `join`, `count`, `sum`,
//! `product`), `trim`, `null` (values that mean none), `remove` (characters
//! taken out), `pattern`, `case`, `codes`, `truncate`, `check_digit`,
//! `zero_pad`, then the number and date conversions the target field's type
//! asks for; when nothing is left, the fallback rule `or`, then `default`.
//! A `sum` of nothing found is no value (not zero). `required` is not a
//! transform: it says the field must get a value (see
//! [`super::inbound`]).
//!
//! Inbound (vendor → canonical), `date` and the number options say how the
//! vendor writes values, and the result is ISO dates and exact decimals.
//! Outbound (canonical → vendor) they say how to write them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use regex::Regex;
use rust_decimal::Decimal;

use crate::format::{Flavor, NodeId};

use super::MappingError;
use super::path::{Column, Columns, Compiler, Cond, Eval, Item, Path, RowCond};
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

/// A code table: vendor code to canonical value. Looked up once per value
/// mapped, so hashed with a fast (not DoS-resistant) hash: the keys are
/// the mapping author's.
#[derive(Clone, Debug, Default)]
pub struct Codes {
    map: foldhash::HashMap<String, String>,
    reverse: foldhash::HashMap<String, String>,
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
    Product(Vec<Path>),
}

impl Rule {
    /// The variable (`file.stem`, `partner`) a constant `item` this rule
    /// found was read from, when it was not a literal. The first path with
    /// a constant at that place is the one that found it (paths are tried
    /// in order, and a constant is always found).
    pub fn variable(&self, item: crate::mapping::path::Item) -> Option<&str> {
        let own = match &self.find {
            Find::From(paths) => paths.iter().find_map(|p| p.constant_source(item)),
            _ => None,
        };
        match own {
            Some(source) => source,
            None => self.or.as_ref().and_then(|o| o.variable(item)),
        }
    }
}

/// What a rule reads in a flat record (see [`Rule::row_form`]).
#[derive(Clone, Debug)]
pub struct RowRule {
    find: RowFind,
    when: Option<RowCond>,
    or: Option<Box<RowRule>>,
}

impl RowRule {
    /// The one column the rule reads, when it reads one column (not a
    /// constant) under no condition.
    pub fn single_column(&self) -> Option<&Column> {
        match (&self.find, &self.when) {
            (RowFind::From(columns), None) => match columns.as_slice() {
                [c] if !matches!(c, Column::Literal(_)) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
enum RowFind {
    Value,
    From(Vec<Column>),
    Join(Vec<Column>),
}

/// A rule's value in a flat record.
#[derive(Clone, Debug)]
pub struct RowValue<'a> {
    /// The value, converted to the target's form.
    pub text: Cow<'a, str>,
    /// The position of the column it came from.
    pub column: Option<usize>,
}

/// Why a rule gave no value in a flat record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowError {
    /// The columns cannot decide (a name two columns have): the record's
    /// node must.
    Undecided,
    /// The rule failed on the value of the column at this position.
    Rule {
        /// What is wrong.
        message: String,
        /// The column the value came from.
        column: Option<usize>,
    },
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
    /// Values that mean "no value" (`null = ["N/A", "-"]`).
    nulls: Vec<String>,
    /// Characters taken out of the value (`remove = " -()"`).
    remove: Option<String>,
    dates: Vec<DateFormat>,
    implied: Option<u32>,
    decimal_mark: Option<char>,
    thousands: Option<char>,
    /// `money = true`: the value is an amount as invoices print it
    /// (currency signs and codes, thousands groups, negatives in
    /// parentheses or with a trailing minus), read by
    /// [`super::amount::Marks`] with the rule's decimal mark.
    money: bool,
    multiply: Option<Decimal>,
    decimals: Option<u32>,
    default: Option<String>,
    /// The rule to try when this one finds nothing (`or = { ... }`).
    or: Option<Box<Rule>>,
    /// Every value found, not the first (lists of values).
    pub all: bool,
    unique: bool,
    /// `check_digit = "gs1"`: the GS1 check digit is appended.
    check_digit: bool,
    /// `zero_pad = N`: leading zeros up to N characters.
    zero_pad: Option<usize>,
    /// `required = true`: a field that gets no value fails its item (or
    /// document).
    pub required: bool,
    target: Target,
    direction: Direction,
    flavor: Flavor,
}

/// A value a rule produced, with the item it came from (for messages and
/// `mapping explain`).
#[derive(Clone, Debug)]
pub struct Produced<'a> {
    /// The value, converted to the target's form.
    pub text: Cow<'a, str>,
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
    "product",
    "when",
    "trim",
    "case",
    "pattern",
    "codes",
    "unknown",
    "truncate",
    "null",
    "remove",
    "date",
    "implied_decimals",
    "decimal",
    "thousands",
    "money",
    "multiply",
    "decimals",
    "default",
    "or",
    "all",
    "unique",
    "check_digit",
    "zero_pad",
    "required",
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
            nulls: Vec::new(),
            remove: None,
            dates: Vec::new(),
            implied: None,
            decimal_mark: None,
            thousands: None,
            money: false,
            multiply: None,
            decimals: None,
            default: None,
            or: None,
            all: false,
            unique: false,
            check_digit: false,
            zero_pad: None,
            required: false,
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
                "product" => found = Some(Find::Product(paths(cx, v)?)),
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
                        Some(pattern(&text()?).map_err(|e| v.error(format!("pattern: {e}")))?);
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
                "truncate" => {
                    rule.truncate = Some(match &v.value {
                        Value::Int(n) if *n > 0 => *n as usize,
                        _ => {
                            return Err(
                                v.error("truncate takes a number of characters (1 or more)")
                            );
                        }
                    });
                }
                "null" => {
                    rule.nulls = match &v.value {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_text().ok_or_else(|| i.error("null takes text")))
                            .collect::<Result<_, _>>()?,
                        _ => vec![text()?],
                    };
                }
                "remove" => rule.remove = Some(text()?),
                "date" => {
                    let written: Vec<String> = match &v.value {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_text().ok_or_else(|| i.error("a date format")))
                            .collect::<Result<_, _>>()?,
                        _ => vec![text()?],
                    };
                    if written.is_empty() {
                        return Err(v.error("date takes a format or a list of formats"));
                    }
                    rule.dates = written
                        .iter()
                        .map(|f| DateFormat::new(f).map_err(|e| v.error(e)))
                        .collect::<Result<_, _>>()?;
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
                "or" => {
                    if !matches!(v.value, Value::Table(_) | Value::Str(_)) {
                        return Err(v.error("or takes a rule (a path or a table)"));
                    }
                    let target = rule.target.clone();
                    let or = Rule::compile(v, target, cx)?;
                    if or.required {
                        return Err(
                            v.error("required goes on the field's rule, not on its fallback (or)")
                        );
                    }
                    rule.or = Some(Box::new(or));
                }
                "all" => rule.all = flag()?,
                "unique" => rule.unique = flag()?,
                "money" => rule.money = flag()?,
                "check_digit" => match text()?.as_str() {
                    "gs1" => rule.check_digit = true,
                    other => {
                        return Err(v.error(format!(
                            "check_digit is \"gs1\" (the GS1 mod-10 check digit), not {other:?}"
                        )));
                    }
                },
                "zero_pad" => {
                    rule.zero_pad = Some(match &v.value {
                        Value::Int(n) if (1..=64).contains(n) => *n as usize,
                        _ => return Err(v.error("zero_pad takes a number of characters, 1 to 64")),
                    });
                }
                "required" => rule.required = flag()?,
                other => return Err(v.error(format!("{other} is not a rule option"))),
            }
        }
        if let Some((codes, Unknown::Error)) = &rule.codes
            && codes.map.is_empty()
        {
            return Err(spec.error("unknown without codes"));
        }
        rule.find = found.ok_or_else(|| {
            spec.error("a rule needs one of from, value, join, count, sum or product")
        })?;
        if !matches!(rule.find, Find::From(_)) && rule.all {
            return Err(spec.error("all applies to from"));
        }
        Ok(rule)
    }

    /// The names the rule's `when` looks for (its fallback rule's too).
    pub fn condition_names(&self) -> Vec<crate::format::Name> {
        let mut out = self.when.as_ref().map(Cond::step_names).unwrap_or_default();
        if let Some(or) = &self.or {
            out.extend(or.condition_names());
        }
        out
    }

    /// True when the rule's own finding always gives a value (a constant,
    /// a count), whatever the input.
    pub fn finds_constant(&self) -> bool {
        matches!(self.find, Find::Value(_) | Find::Count(_))
    }

    /// The paths the rule reads values from (its fallback rule's too).
    pub fn paths(&self) -> Vec<&Path> {
        let mut out: Vec<&Path> = match &self.find {
            Find::From(p) | Find::Join(p, _) | Find::Product(p) => p.iter().collect(),
            Find::Count(p) | Find::Sum(p) => vec![p],
            Find::Value(_) => Vec::new(),
        };
        if let Some(or) = &self.or {
            out.extend(or.paths());
        }
        out
    }

    /// True when the rule finds its value by paths (`from`), not as a
    /// constant, a join or a count.
    pub fn finds_by_paths(&self) -> bool {
        matches!(self.find, Find::From(_))
    }

    /// The paths the rule finds its value by, tried in order, when it
    /// always applies (it has no `when`): what [`Rule::found`] reads.
    pub fn unconditional_paths(&self) -> Option<&[Path]> {
        match (&self.find, &self.when) {
            (Find::From(paths), None) => Some(paths),
            _ => None,
        }
    }

    /// What the rule's paths find at `context`, before any transform: the
    /// first non-blank value of the first path that has one, as
    /// [`Rule::value`] finds it; `None` when the rule does not apply or
    /// finds nothing (or finds other than by paths).
    #[inline]
    pub fn found<'a>(&self, eval: &'a Eval<'_, '_>, context: NodeId) -> Option<Cow<'a, str>> {
        let Find::From(paths) = &self.find else {
            return None;
        };
        if !self.applies(eval, context) {
            return None;
        }
        paths
            .iter()
            .find_map(|p| eval.first(p, context))
            .map(|(_, text)| text)
    }

    /// True when the rule applies at `context` (its `when` holds).
    pub fn applies(&self, eval: &Eval<'_, '_>, context: NodeId) -> bool {
        self.when.as_ref().is_none_or(|c| eval.holds(c, context))
    }

    /// The rule's value at `context`, or `None` when it finds nothing and
    /// has no default.
    pub fn value<'a>(
        &'a self,
        eval: &'a Eval<'_, '_>,
        context: NodeId,
    ) -> Result<Option<Produced<'a>>, RuleError> {
        if !self.applies(eval, context) {
            return Ok(None);
        }
        let (raw, item): (Option<Cow<'a, str>>, Option<Item>) = match &self.find {
            Find::Value(v) => (Some(Cow::Borrowed(v.as_str())), None),
            Find::From(paths) => match paths.iter().find_map(|p| eval.first(p, context)) {
                Some((item, text)) => (Some(text), Some(item)),
                None => (None, None),
            },
            Find::Join(paths, sep) => {
                let mut joined = String::new();
                let mut first = None;
                for p in paths {
                    if let Some((item, text)) = eval.first(p, context) {
                        first.get_or_insert(item);
                        let t = text.trim();
                        if !t.is_empty() {
                            if !joined.is_empty() {
                                joined.push_str(sep);
                            }
                            joined.push_str(t);
                        }
                    }
                }
                ((!joined.is_empty()).then_some(Cow::Owned(joined)), first)
            }
            Find::Count(p) => {
                let mut items = Vec::new();
                eval.items(p, context, &mut items);
                (Some(Cow::Owned(items.len().to_string())), None)
            }
            Find::Sum(p) => {
                let mut items = Vec::new();
                eval.items(p, context, &mut items);
                // A sum of nothing is no value, not zero: an 846 item
                // without SDQ quantities has no quantity, and zero would
                // say it is out of stock.
                let mut total: Option<Decimal> = None;
                for &i in &items {
                    let t = eval.text(p, i);
                    let error = |message: String| RuleError {
                        message,
                        item: Some(i),
                    };
                    let d = self.vendor_number(t.trim()).map_err(error)?;
                    total = Some(
                        total
                            .unwrap_or(Decimal::ZERO)
                            .checked_add(d)
                            .ok_or_else(|| error("the sum overflows".to_string()))?,
                    );
                }
                (total.map(|t| Cow::Owned(t.to_string())), None)
            }
            Find::Product(paths) => {
                // Every factor must be there: a line without a price has no
                // amount, not an amount of zero.
                let mut product = Some(Decimal::ONE);
                let mut first = None;
                for p in paths {
                    let Some((item, text)) = eval.first(p, context) else {
                        product = None;
                        break;
                    };
                    first.get_or_insert(item);
                    let d = self
                        .vendor_number(text.trim())
                        .map_err(|message| RuleError {
                            message,
                            item: Some(item),
                        })?;
                    product = Some(product.unwrap_or(Decimal::ONE).checked_mul(d).ok_or_else(
                        || RuleError {
                            message: "the product overflows".to_string(),
                            item: Some(item),
                        },
                    )?);
                }
                match product {
                    Some(p) => (Some(Cow::Owned(p.to_string())), first),
                    None => (None, None),
                }
            }
        };
        // A count, sum or product is a number already: the vendor's number
        // format (decimal mark, implied decimals) does not apply to it.
        let computed = matches!(self.find, Find::Count(_) | Find::Sum(_) | Find::Product(_));
        let found = match raw {
            Some(r) => self
                .finish(r, item, computed)?
                .map(|text| Produced { text, item }),
            None => None,
        };
        match (found, &self.or) {
            (Some(p), _) => Ok(Some(p)),
            (None, Some(or)) => match or.value(eval, context)? {
                Some(p) => Ok(Some(p)),
                None => Ok(self.default_value()),
            },
            (None, None) => Ok(self.default_value()),
        }
    }

    /// Every value the rule finds (for lists of values).
    pub fn values<'a>(
        &'a self,
        eval: &'a Eval<'_, '_>,
        context: NodeId,
    ) -> Result<Vec<Produced<'a>>, RuleError> {
        if !self.all {
            return Ok(self.value(eval, context)?.into_iter().collect());
        }
        if !self.applies(eval, context) {
            return Ok(Vec::new());
        }
        let Find::From(paths) = &self.find else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Produced<'a>> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut items = Vec::new();
        for p in paths {
            items.clear();
            eval.items(p, context, &mut items);
            for &i in &items {
                let t = eval.text(p, i);
                if t.trim().is_empty() {
                    continue;
                }
                if let Some(text) = self.finish(t, Some(i), false)?
                    && (!self.unique || seen.insert(text.to_string()))
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

    /// The rule's finding and condition on a flat record's columns, when
    /// every path it reads is a column or a constant (see
    /// [`Path::column`]). Counts, sums, products and lists of values have
    /// none.
    pub fn row_form(&self) -> Option<RowRule> {
        if self.all {
            return None;
        }
        let columns = |paths: &[Path]| paths.iter().map(Path::column).collect::<Option<Vec<_>>>();
        let find = match &self.find {
            Find::Value(_) => RowFind::Value,
            Find::From(paths) => RowFind::From(columns(paths)?),
            Find::Join(paths, _) => RowFind::Join(columns(paths)?),
            Find::Count(_) | Find::Sum(_) | Find::Product(_) => return None,
        };
        let when = match &self.when {
            Some(c) => Some(c.row_form()?),
            None => None,
        };
        let or = match &self.or {
            Some(r) => Some(Box::new(r.row_form()?)),
            None => None,
        };
        Some(RowRule { find, when, or })
    }

    /// The rule's value in a flat record, exactly as [`Rule::value`] finds
    /// it in the record's node; `form` is the rule's [`Rule::row_form`]. A
    /// value carries the position of the column it came from.
    pub fn row_value<'a>(
        &'a self,
        form: &'a RowRule,
        row: &'a impl Columns,
    ) -> Result<Option<RowValue<'a>>, RowError> {
        if let Some(c) = &form.when
            && !c.holds(row).map_err(|()| RowError::Undecided)?
        {
            return Ok(None);
        }
        let (raw, column): (Option<Cow<'a, str>>, Option<usize>) = match (&form.find, &self.find) {
            (RowFind::Value, Find::Value(v)) => (Some(Cow::Borrowed(v.as_str())), None),
            (RowFind::From(columns), Find::From(_)) => {
                let mut hit = None;
                for c in columns {
                    if let Some((text, at)) = c.first(row).map_err(|()| RowError::Undecided)? {
                        hit = Some((Cow::Borrowed(text), at));
                        break;
                    }
                }
                match hit {
                    Some((t, at)) => (Some(t), at),
                    None => (None, None),
                }
            }
            (RowFind::Join(columns), Find::Join(_, sep)) => {
                let mut joined = String::new();
                let mut first = None;
                for c in columns {
                    if let Some((text, at)) = c.first(row).map_err(|()| RowError::Undecided)? {
                        first.get_or_insert(at);
                        let t = text.trim();
                        if !t.is_empty() {
                            if !joined.is_empty() {
                                joined.push_str(sep);
                            }
                            joined.push_str(t);
                        }
                    }
                }
                (
                    (!joined.is_empty()).then_some(Cow::Owned(joined)),
                    first.flatten(),
                )
            }
            _ => return Err(RowError::Undecided),
        };
        let found = match raw {
            Some(r) => self
                .finish(r, None, false)
                .map_err(|e| RowError::Rule {
                    message: e.message,
                    column,
                })?
                .map(|text| RowValue { text, column }),
            None => None,
        };
        let default = || {
            self.default.as_deref().map(|d| RowValue {
                text: Cow::Borrowed(d),
                column: None,
            })
        };
        match (found, &self.or, &form.or) {
            (Some(p), _, _) => Ok(Some(p)),
            (None, Some(or), Some(or_form)) => match or.row_value(or_form, row)? {
                Some(p) => Ok(Some(p)),
                None => Ok(default()),
            },
            (None, None, _) => Ok(default()),
            (None, Some(_), None) => Err(RowError::Undecided),
        }
    }

    /// True when the rule may give a value where it finds none: it has a
    /// fallback rule or a default.
    pub fn has_fallback(&self) -> bool {
        self.or.is_some() || self.default.is_some()
    }

    /// True when the rule changes a value found only by trimming it and
    /// converting it to its target (text, a number with its marks, a date
    /// in its formats): [`Rule::write_plain`] can then write the value
    /// straight to the output.
    pub fn is_plain(&self) -> bool {
        let numeric = matches!(self.target, Target::Decimal | Target::Integer)
            && self.implied.is_none()
            && self.multiply.is_none()
            && self.decimals.is_none()
            && !self.money;
        self.direction == Direction::Inbound
            && self.nulls.is_empty()
            && self.remove.is_none()
            && self.pattern.is_none()
            && self.case.is_none()
            && self.codes.is_none()
            && self.truncate.is_none()
            && !self.check_digit
            && self.zero_pad.is_none()
            && (numeric || matches!(self.target, Target::Text | Target::Date))
    }

    /// Writes what [`Rule::finish`] makes of `raw` as JSON, without
    /// building it, for a rule that [`Rule::is_plain`]. False, with `out`
    /// as it was, when the value needs the general way: it is empty, or not
    /// already a canonical number, or not a date (the general way gives the
    /// error).
    #[inline(always)]
    pub fn write_plain(&self, raw: &str, out: &mut Vec<u8>) -> bool {
        let v = if self.trim {
            super::path::trim(raw)
        } else {
            raw
        };
        if v.is_empty() {
            return false;
        }
        match self.target {
            Target::Text => {
                super::escape::write_string(out, v);
                true
            }
            Target::Decimal | Target::Integer => {
                // What plain_number gives, written in place. Marks that are
                // not ASCII take the general way.
                let ascii = |c: Option<char>| match c {
                    None => Some(None),
                    Some(c) => u8::try_from(c).ok().filter(u8::is_ascii).map(Some),
                };
                let (Some(mark), Some(thousands)) = (
                    ascii(self.decimal_mark.filter(|&m| m != '.')),
                    ascii(self.thousands),
                ) else {
                    return false;
                };
                let bytes = v.as_bytes();
                if mark.is_some() && thousands.is_none() && bytes.contains(&b'.') {
                    return false;
                }
                let start = out.len();
                let marked = |b: &u8| Some(*b) == thousands || Some(*b) == mark;
                if bytes.iter().any(marked) {
                    for &b in bytes {
                        if Some(b) == thousands {
                            continue;
                        }
                        out.push(if Some(b) == mark { b'.' } else { b });
                    }
                } else {
                    out.extend_from_slice(bytes);
                }
                if is_canonical_number_bytes(&out[start..], self.target == Target::Integer) {
                    true
                } else {
                    out.truncate(start);
                    false
                }
            }
            Target::Date => match self.parse_date(v) {
                Ok(d) => {
                    out.push(b'"');
                    write_iso_date(d, out);
                    out.push(b'"');
                    true
                }
                Err(_) => false,
            },
            Target::Enum(_) | Target::Bool => false,
        }
    }

    fn default_value(&self) -> Option<Produced<'_>> {
        self.default.as_deref().map(|text| Produced {
            text: Cow::Borrowed(text),
            item: None,
        })
    }

    /// Transforms a raw value; `None` when it comes out empty. Values that
    /// need no change are passed on borrowed.
    fn finish<'a>(
        &'a self,
        raw: Cow<'a, str>,
        item: Option<Item>,
        computed: bool,
    ) -> Result<Option<Cow<'a, str>>, RuleError> {
        let err = |message: String| RuleError { message, item };
        let mut v = if self.trim { trim_cow(raw) } else { raw };
        if self.nulls.iter().any(|n| *n == v) {
            return Ok(None);
        }
        if let Some(chars) = &self.remove
            && v.contains(|c| chars.contains(c))
        {
            v = Cow::Owned(v.chars().filter(|c| !chars.contains(*c)).collect());
        }
        if let Some(re) = &self.pattern {
            v = Cow::Owned(match re.captures(&v) {
                Some(c) => c
                    .get(1)
                    .or_else(|| c.get(0))
                    .map_or(String::new(), |m| m.as_str().to_string()),
                None => String::new(),
            });
        }
        match self.case {
            Some(true) if v.bytes().any(|b| b.is_ascii_lowercase() || b >= 0x80) => {
                v = Cow::Owned(v.to_uppercase());
            }
            Some(false) if v.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) => {
                v = Cow::Owned(v.to_lowercase());
            }
            _ => {}
        }
        if let Some((codes, unknown)) = &self.codes
            && !v.is_empty()
        {
            let table = if self.direction == Direction::Inbound {
                &codes.map
            } else {
                &codes.reverse
            };
            match table.get(v.as_ref()) {
                Some(mapped) => v = Cow::Borrowed(mapped.as_str()),
                None => match unknown {
                    Unknown::Keep => {}
                    Unknown::Default => v = Cow::Borrowed(""),
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
        if let Some(n) = self.truncate
            && v.chars().nth(n).is_some()
        {
            v = Cow::Owned(v.chars().take(n).collect());
        }
        if self.check_digit && !v.is_empty() {
            let digit = gs1_check_digit(&v)
                .ok_or_else(|| err(format!("{v:?} is not a number of digits (check_digit)")))?;
            let mut with = v.into_owned();
            with.push(digit);
            v = Cow::Owned(with);
        }
        if let Some(n) = self.zero_pad
            && !v.is_empty()
        {
            let len = v.chars().count();
            if len < n {
                v = Cow::Owned(format!("{}{v}", "0".repeat(n - len)));
            }
        }
        if v.is_empty() {
            return Ok(None);
        }
        let v = match self.direction {
            Direction::Inbound => self.to_canonical(v, computed).map_err(err)?,
            Direction::Outbound => self.to_vendor(v).map_err(err)?,
        };
        Ok(Some(v))
    }

    fn parse_number(&self, s: &str) -> Result<Decimal, String> {
        if self.money {
            let marks = super::amount::Marks {
                decimal: self.decimal_mark.unwrap_or('.'),
            };
            return marks
                .amount(s)
                .ok_or_else(|| format!("{s:?} is not an amount"));
        }
        let mut t: Cow<'_, str> = match self.thousands {
            Some(sep) if s.contains(sep) => Cow::Owned(s.chars().filter(|c| *c != sep).collect()),
            _ => Cow::Borrowed(s),
        };
        if let Some(m) = self.decimal_mark
            && m != '.'
        {
            if t.contains('.') && self.thousands.is_none() {
                return Err(format!("{s:?} is not a number with decimal mark {m:?}"));
            }
            if t.contains(m) {
                t = Cow::Owned(t.replace(m, "."));
            }
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

    /// A number as the vendor writes it: its marks, then its implied
    /// decimals (`implied_decimals = 2`: 4598 is 45.98; a value with its
    /// own decimal mark keeps it, as X12 R types may).
    fn vendor_number(&self, v: &str) -> Result<Decimal, String> {
        let mut d = self.parse_number(v)?;
        if let Some(n) = self.implied
            && !v.contains('.')
            && !self.decimal_mark.is_some_and(|m| v.contains(m))
        {
            d.set_scale(d.scale() + n)
                .map_err(|_| format!("{v:?} has too many digits"))?;
        }
        Ok(d)
    }

    /// The canonical text of a number when it can be had without
    /// arithmetic: the value with its thousands separators dropped and its
    /// decimal mark made a point, if that is already how a Decimal would
    /// print it. `None` sends the value through the full parse (which also
    /// gives the errors).
    fn plain_number<'a>(&self, v: &Cow<'a, str>, integer: bool) -> Option<Cow<'a, str>> {
        if self.implied.is_some()
            || self.multiply.is_some()
            || self.decimals.is_some()
            || self.money
        {
            return None;
        }
        let mark = self.decimal_mark.filter(|&m| m != '.');
        if mark.is_some() && self.thousands.is_none() && v.contains('.') {
            return None;
        }
        let thousands = self.thousands.filter(|&t| v.contains(t));
        let candidate = match (mark.filter(|&m| v.contains(m)), thousands) {
            (None, None) => v.clone(),
            (m, t) => {
                let mut out = String::with_capacity(v.len());
                for c in v.chars() {
                    if Some(c) == t {
                        continue;
                    }
                    out.push(if Some(c) == m { '.' } else { c });
                }
                Cow::Owned(out)
            }
        };
        is_canonical_number(&candidate, integer).then_some(candidate)
    }

    fn to_canonical<'a>(&self, v: Cow<'a, str>, computed: bool) -> Result<Cow<'a, str>, String> {
        match &self.target {
            Target::Text => Ok(v),
            Target::Enum(allowed) => {
                if allowed.iter().any(|a| *a == v) {
                    Ok(v)
                } else {
                    Err(format!(
                        "{v:?} is not one of {} (map it with codes)",
                        allowed.join(", ")
                    ))
                }
            }
            Target::Bool => match v.to_ascii_lowercase().as_str() {
                "true" | "y" | "yes" | "1" => Ok(Cow::Borrowed("true")),
                "false" | "n" | "no" | "0" => Ok(Cow::Borrowed("false")),
                _ => Err(format!("{v:?} is not a yes/no value")),
            },
            Target::Decimal | Target::Integer => {
                let integer = self.target == Target::Integer;
                if !computed && let Some(plain) = self.plain_number(&v, integer) {
                    return Ok(plain);
                }
                let mut d = if computed {
                    Decimal::from_str_exact(&v).map_err(|_| format!("{v:?} is not a number"))?
                } else {
                    self.vendor_number(&v)?
                };
                if let Some(m) = self.multiply {
                    d = d
                        .checked_mul(m)
                        .ok_or_else(|| format!("{v:?} times {m} overflows"))?;
                }
                if let Some(n) = self.decimals {
                    d = d.round_dp(n);
                }
                if integer {
                    if !d.fract().is_zero() {
                        return Err(format!("{v:?} is not a whole number"));
                    }
                    return Ok(Cow::Owned(d.trunc().normalize().to_string()));
                }
                Ok(Cow::Owned(d.to_string()))
            }
            Target::Date => self.parse_date(&v).map(|d| Cow::Owned(iso_date(d))),
        }
    }

    fn parse_date(&self, v: &str) -> Result<NaiveDate, String> {
        let formats: &[DateFormat] = if self.dates.is_empty() {
            match self.flavor {
                Flavor::X12 => &X12_DATES,
                _ => &ISO_DATE,
            }
        } else {
            &self.dates
        };
        if let Some(d) = formats.iter().find_map(|f| f.parse(v)) {
            return Ok(d);
        }
        Err(format!(
            "{v:?} is not a date in the format {}",
            formats
                .iter()
                .map(|f| f.written.as_ref())
                .collect::<Vec<_>>()
                .join(" or ")
        ))
    }

    fn to_vendor<'a>(&self, v: Cow<'a, str>) -> Result<Cow<'a, str>, String> {
        if let Some(f) = self.dates.first() {
            let d = ISO_DATE[0]
                .parse(&v)
                .ok_or_else(|| format!("{v:?} is not an ISO date"))?;
            return Ok(Cow::Owned(f.format(d)));
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
            return Ok(Cow::Owned(mantissa.to_string()));
        }
        if let Some(n) = self.decimals {
            d = d.round_dp(n);
            d.rescale(n);
        }
        let mut s = d.to_string();
        if let Some(m) = self.decimal_mark {
            s = s.replace('.', &m.to_string());
        }
        Ok(Cow::Owned(s))
    }
}

/// The GS1 mod-10 check digit of a number written without it (a U.P.C.
/// of 11 digits, the 13 first digits of a GTIN-14): from the right, digits
/// weigh 3, 1, 3, 1... `None` when `digits` is empty or not all digits.
fn gs1_check_digit(digits: &str) -> Option<char> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum = digits.bytes().rev().enumerate().fold(0u32, |sum, (i, b)| {
        (sum + u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }) % 10
    });
    char::from_digit((10 - sum) % 10, 10)
}

/// Trims a value without copying it when it is borrowed.
fn trim_cow(v: Cow<'_, str>) -> Cow<'_, str> {
    let b = v.as_bytes();
    if b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic) {
        return v;
    }
    match v {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}

/// True when `v` is already written as the canonical JSON number for it:
/// digits with an optional `-` and one `.` (for decimals), no leading
/// zero, no sign on zero, at most 28 digits (what a Decimal holds).
fn is_canonical_number(v: &str, integer: bool) -> bool {
    is_canonical_number_bytes(v.as_bytes(), integer)
}

/// [`is_canonical_number`] on bytes.
#[inline]
fn is_canonical_number_bytes(b: &[u8], integer: bool) -> bool {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(_) if integer => return false,
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return false;
    }
    if int.len() > 1 && int[0] == b'0' {
        return false;
    }
    if digits.len() != b.len() && digits.iter().all(|&c| c == b'0' || c == b'.') {
        return false;
    }
    int.len() + frac.map_or(0, <[u8]>::len) <= 28
}

/// An ISO-8601 date as text.
/// Writes an ISO-8601 date.
fn write_iso_date(d: NaiveDate, out: &mut Vec<u8>) {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        out.extend_from_slice(d.format("%Y-%m-%d").to_string().as_bytes());
        return;
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let y = y as u32;
    out.extend_from_slice(&[
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ]);
}

/// The most patterns [`pattern`] keeps.
const PATTERNS_KEPT: usize = 256;

/// A rule's `pattern`, built once per process for each text. A mapping is
/// compiled for every file it reads (its names are interned in the file's
/// tree), and building a regex costs more than mapping a small file. The
/// patterns come from mapping files, so few are ever kept; past
/// [`PATTERNS_KEPT`] the cache starts over.
fn pattern(text: &str) -> Result<Regex, regex::Error> {
    static BUILT: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Regex>>> =
        std::sync::LazyLock::new(Default::default);
    if let Some(r) = BUILT.lock().ok().and_then(|b| b.get(text).cloned()) {
        return Ok(r);
    }
    let r = Regex::new(text)?;
    if let Ok(mut built) = BUILT.lock() {
        if built.len() >= PATTERNS_KEPT {
            built.clear();
        }
        built.insert(text.to_string(), r.clone());
    }
    Ok(r)
}

fn iso_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return d.format("%Y-%m-%d").to_string();
    }
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let y = y as u32;
    let mut s = String::with_capacity(10);
    for c in [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        '-',
        digit(m / 10),
        digit(m),
        '-',
        digit(day / 10),
        digit(day),
    ] {
        s.push(c);
    }
    s
}

/// A date format, compiled once: the X12 style (`CCYYMMDD`, `MM/DD/YY`),
/// read by fixed widths, or a strftime format read by chrono.
#[derive(Clone, Debug)]
pub struct DateFormat {
    written: Cow<'static, str>,
    how: DateHow,
}

#[derive(Clone, Debug)]
enum DateHow {
    Fixed(Cow<'static, [DatePart]>),
    Strftime(String),
    /// An Excel serial day number (`excel`): days since 1899-12-30, as a
    /// workbook stores a date in a cell not formatted as one.
    ExcelSerial,
}

/// Day 0 of Excel's serial dates (the 1900 date system; its day 60 is the
/// 29 February 1900 that never was).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DatePart {
    Year4,
    Year2,
    Month,
    Day,
    Literal(char),
}

const X12_DATES: [DateFormat; 2] = [
    DateFormat {
        written: Cow::Borrowed("CCYYMMDD"),
        how: DateHow::Fixed(Cow::Borrowed(&[
            DatePart::Year4,
            DatePart::Month,
            DatePart::Day,
        ])),
    },
    DateFormat {
        written: Cow::Borrowed("YYMMDD"),
        how: DateHow::Fixed(Cow::Borrowed(&[
            DatePart::Year2,
            DatePart::Month,
            DatePart::Day,
        ])),
    },
];

const ISO_DATE: [DateFormat; 1] = [DateFormat {
    written: Cow::Borrowed("YYYY-MM-DD"),
    how: DateHow::Fixed(Cow::Borrowed(&[
        DatePart::Year4,
        DatePart::Literal('-'),
        DatePart::Month,
        DatePart::Literal('-'),
        DatePart::Day,
    ])),
}];

impl DateFormat {
    /// Compiles a format in X12 style (`CCYY` or `YYYY`, `YY`, `MM`, `DD`
    /// and separators) or strftime (with `%`).
    pub fn new(f: &str) -> Result<DateFormat, String> {
        if f.eq_ignore_ascii_case("excel") {
            return Ok(DateFormat {
                written: Cow::Borrowed("excel"),
                how: DateHow::ExcelSerial,
            });
        }
        if f.contains('%') {
            let items = chrono::format::StrftimeItems::new(f);
            if items
                .clone()
                .any(|i| matches!(i, chrono::format::Item::Error))
            {
                return Err(format!("date format {f:?} is not a valid strftime format"));
            }
            return Ok(DateFormat {
                written: Cow::Owned(f.to_string()),
                how: DateHow::Strftime(f.to_string()),
            });
        }
        let mut parts = Vec::new();
        let mut rest = f;
        while !rest.is_empty() {
            let token = [
                ("CCYY", DatePart::Year4),
                ("YYYY", DatePart::Year4),
                ("YY", DatePart::Year2),
                ("MM", DatePart::Month),
                ("DD", DatePart::Day),
            ]
            .into_iter()
            .find(|(t, _)| rest.starts_with(t));
            match token {
                Some((t, part)) => {
                    parts.push(part);
                    rest = &rest[t.len()..];
                }
                None => {
                    let c = rest.chars().next().unwrap_or(' ');
                    if c.is_ascii_alphanumeric() {
                        return Err(format!(
                            "date format {f:?}: use CCYY or YYYY, YY, MM, DD (or a strftime format with %)"
                        ));
                    }
                    parts.push(DatePart::Literal(c));
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !parts.iter().any(|p| !matches!(p, DatePart::Literal(_))) {
            return Err(format!("date format {f:?} has no date in it"));
        }
        Ok(DateFormat {
            written: Cow::Owned(f.to_string()),
            how: DateHow::Fixed(Cow::Owned(parts)),
        })
    }

    /// The date `v` holds in this format, if it does.
    pub fn parse(&self, v: &str) -> Option<NaiveDate> {
        match &self.how {
            DateHow::ExcelSerial => {
                let (days, fraction) = v.trim().split_once('.').unwrap_or((v.trim(), "0"));
                if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let days: u32 = days.parse().ok()?;
                match days {
                    1..=59 => {
                        excel_epoch().checked_add_days(chrono::Days::new(u64::from(days) + 1))
                    }
                    61..=2_958_465 => {
                        excel_epoch().checked_add_days(chrono::Days::new(u64::from(days)))
                    }
                    _ => None,
                }
            }
            // chrono's %Y takes any number of digits: "24" would be the
            // year 24. No business document is dated before the year 1000.
            DateHow::Strftime(f) => NaiveDate::parse_from_str(v, f).ok().filter(|d| {
                let y = chrono::Datelike::year(d);
                (1000..=9999).contains(&y) || !f.contains("%Y")
            }),
            DateHow::Fixed(parts) => {
                let mut b = v.as_bytes();
                fn num(b: &mut &[u8], n: usize) -> Option<u32> {
                    let (d, rest) = b.split_at_checked(n)?;
                    *b = rest;
                    d.iter().try_fold(0u32, |acc, &c| {
                        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
                    })
                }
                let (mut y, mut m, mut d) = (None, 1, 1);
                for p in parts.iter() {
                    match *p {
                        DatePart::Year4 => y = Some(num(&mut b, 4)? as i32),
                        // chrono's %y: 69..=99 are 1969..1999.
                        DatePart::Year2 => {
                            let yy = num(&mut b, 2)? as i32;
                            y = Some(if yy >= 69 { 1900 + yy } else { 2000 + yy });
                        }
                        DatePart::Month => m = num(&mut b, 2)?,
                        DatePart::Day => d = num(&mut b, 2)?,
                        DatePart::Literal(c) => {
                            let mut buf = [0u8; 4];
                            b = b.strip_prefix(c.encode_utf8(&mut buf).as_bytes())?;
                        }
                    }
                }
                if !b.is_empty() {
                    return None;
                }
                NaiveDate::from_ymd_opt(y?, m, d)
            }
        }
    }

    /// `d` written in this format.
    pub fn format(&self, d: NaiveDate) -> String {
        use chrono::Datelike;
        use std::fmt::Write;
        match &self.how {
            DateHow::ExcelSerial => (d - excel_epoch()).num_days().to_string(),
            DateHow::Strftime(f) => d.format(f).to_string(),
            DateHow::Fixed(parts) => {
                let mut s = String::new();
                for p in parts.iter() {
                    let _ = match *p {
                        DatePart::Year4 => write!(s, "{:04}", d.year()),
                        DatePart::Year2 => write!(s, "{:02}", d.year().rem_euclid(100)),
                        DatePart::Month => write!(s, "{:02}", d.month()),
                        DatePart::Day => write!(s, "{:02}", d.day()),
                        DatePart::Literal(c) => write!(s, "{c}"),
                    };
                }
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers_pass_unparsed_and_others_do_not() {
        for (v, integer, expected) in [
            ("42.79", false, true),
            ("0.5", false, true),
            ("-3", false, true),
            ("7", true, true),
            ("7.0", true, false),
            ("007", false, false),
            ("+5", false, false),
            (".5", false, false),
            ("5.", false, false),
            ("-0", false, false),
            ("-0.00", false, false),
            ("1e3", false, false),
            ("", false, false),
            ("12345678901234567890123456789", false, false),
        ] {
            assert_eq!(is_canonical_number(v, integer), expected, "{v:?}");
            if expected {
                // What the slow path would have written.
                let d = Decimal::from_str_exact(v).expect("a number");
                assert_eq!(d.to_string(), v);
            }
        }
    }

    #[test]
    fn gs1_check_digits() {
        // U.P.C.s and a GTIN-14 whose check digits are known.
        for full in [
            "036000291452",
            "012345678905",
            "00012345600012",
            "4006381333931",
        ] {
            let (body, check) = full.split_at(full.len() - 1);
            assert_eq!(
                gs1_check_digit(body).map(String::from),
                Some(check.to_string()),
                "{full}"
            );
        }
        assert_eq!(gs1_check_digit(""), None);
        assert_eq!(gs1_check_digit("12a"), None);
        assert_eq!(gs1_check_digit("-1"), None);
    }

    #[test]
    fn date_formats_read_fixed_widths_and_write_back() {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        let f = DateFormat::new("CCYYMMDD").expect("compiles");
        assert_eq!(f.parse("20240229"), Some(ymd(2024, 2, 29)));
        assert_eq!(f.parse("20230229"), None, "no such day");
        assert_eq!(f.parse("2024022"), None, "too short");
        assert_eq!(f.parse("202402290"), None, "too long");
        let f = DateFormat::new("YYMMDD").expect("compiles");
        assert_eq!(f.parse("690101"), Some(ymd(1969, 1, 1)));
        assert_eq!(f.parse("680101"), Some(ymd(2068, 1, 1)));
        let f = DateFormat::new("excel").expect("compiles");
        assert_eq!(f.parse("45366"), NaiveDate::from_ymd_opt(2024, 3, 15));
        assert_eq!(f.parse("45366.75"), NaiveDate::from_ymd_opt(2024, 3, 15));
        assert_eq!(f.parse("1"), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(f.parse("61"), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(f.parse("60"), None, "the 29 February 1900 that never was");
        assert_eq!(f.parse("03/15/2024"), None);
        assert_eq!(
            f.format(NaiveDate::from_ymd_opt(2024, 3, 15).expect("date")),
            "45366"
        );
        let f = DateFormat::new("DD.MM.YYYY").expect("compiles");
        assert_eq!(f.parse("05.03.2025"), Some(ymd(2025, 3, 5)));
        assert_eq!(f.parse("5.3.2025"), None);
        assert_eq!(f.format(ymd(2025, 3, 5)), "05.03.2025");
        let f = DateFormat::new("%d/%m/%Y").expect("compiles");
        assert_eq!(f.parse("05/03/2025"), Some(ymd(2025, 3, 5)));
        assert_eq!(f.format(ymd(2025, 3, 5)), "05/03/2025");
        assert_eq!(f.parse("05/03/25"), None, "%Y is not two digits");
        assert_eq!(f.parse("05/03/+12024"), None, "nor five");
        assert!(DateFormat::new("DDMMMYY").is_err());
        assert!(DateFormat::new("--").is_err());
        assert!(DateFormat::new("%Q").is_err());
        assert_eq!(iso_date(ymd(2024, 1, 15)), "2024-01-15");
    }
}
