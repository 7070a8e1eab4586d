//! Flat feeds mapped record by record, straight from the decoder's fields.
//!
//! A CSV feed's streamed list (`each = "record"`, `stream = true`) is
//! usually one scalar rule per field, each reading a column of the record.
//! Such a list compiles to a [`RowPlan`]: the record is then mapped from the
//! fields the CSV decoder already holds (a [`Row`]), with no tree node per
//! field and no path walk, and the output is exactly what the tree would
//! give. The rules' transforms are the same code ([`Rule::row_value`]).
//!
//! What a plan cannot say (a rule counting or summing, a nested object or
//! list, a path reaching outside the record, a column name two columns
//! have) leaves the record to the tree: either the whole list (no plan) or
//! that one record ([`RowFailure::Undecided`]). The translator takes the
//! first record through the tree in any case, since the fields before the
//! list are evaluated on it.

use crate::format::{Name, Row, Tree};

use super::MappingError;
use super::escape::write_string;
use super::inbound::{FieldPlan, Json, ListPlan, Plan};
use super::path::{Column, Columns, RowCond};
use super::rule::{RowError, RowRule};

/// A streamed list's item compiled to column reads.
#[derive(Debug)]
pub struct RowPlan {
    when: Option<RowCond>,
    /// The fields of the item that write something or may fail, in the
    /// item's order, by their index in the item's plan: a field the mapping
    /// does not name, and that is neither a list nor required, is left out
    /// (the model has many more fields than a feed has columns).
    fields: Vec<(usize, RowField)>,
}

#[derive(Debug)]
enum RowField {
    /// A scalar rule and its column form; `plain` when the rule is plain
    /// ([`super::rule::Rule::is_plain`]) and reads this one column: a
    /// value found there is written straight to the output.
    Rule {
        form: RowRule,
        plain: Option<Column>,
    },
    /// A field the mapping does not name.
    Unmapped,
}

/// Why a record was not written.
#[derive(Debug)]
pub enum RowFailure {
    /// The columns cannot decide: map the record through the tree.
    Undecided,
    /// A rule failed, or a required field has no value.
    Failed(MappingError),
}

/// The names a message about a record needs.
pub struct RowSite<'a> {
    /// The input file.
    pub file: &'a str,
    /// The streamed list's field name (`items`).
    pub list: &'a str,
    /// The item's index in the list.
    pub index: u64,
}

/// A record's fields by column: the tree knows the columns' positions.
struct RecordColumns<'a> {
    tree: &'a Tree,
    row: &'a Row<'a>,
}

impl Columns for RecordColumns<'_> {
    #[inline(always)]
    fn field(&self, column: &Column) -> Result<Option<(&str, usize)>, ()> {
        let at = match column {
            Column::Named(name) => match self.tree.column_position(*name) {
                Some((at, true)) => at,
                Some((_, false)) => return Err(()),
                None => return Ok(None),
            },
            Column::Nth(at) => *at,
            Column::Literal(_) => return Ok(None),
        };
        Ok(self.row.field(at).map(|t| (t, at)))
    }
}

impl RowPlan {
    /// The plan for a list's items, when every field is a scalar rule on
    /// the record's columns (or unmapped).
    pub(super) fn compile(list: &ListPlan) -> Option<RowPlan> {
        if list.item.from.is_some() || list.item.when.is_some() {
            return None;
        }
        let when = match &list.when {
            Some(c) => Some(c.row_form()?),
            None => None,
        };
        let fields = list
            .item
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.plan.is_some() || f.is_list || f.required)
            .map(|(i, f)| match &f.plan {
                None => Some((i, RowField::Unmapped)),
                Some(Plan::Scalar(rule, _)) => rule.row_form().map(|form| {
                    (
                        i,
                        RowField::Rule {
                            plain: form.single_column().filter(|_| rule.is_plain()).cloned(),
                            form,
                        },
                    )
                }),
                Some(_) => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(RowPlan { when, fields })
    }

    /// Whether the list's `when` takes the record.
    pub fn takes(&self, tree: &Tree, row: &Row<'_>) -> Result<bool, RowFailure> {
        let columns = RecordColumns { tree, row };
        match &self.when {
            Some(c) => c.holds(&columns).map_err(|()| RowFailure::Undecided),
            None => Ok(true),
        }
    }

    /// Writes the record's item (`{...}`) to `out`, as the tree would.
    pub(super) fn write(
        &self,
        list: &ListPlan,
        tree: &Tree,
        row: &Row<'_>,
        site: &RowSite<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RowFailure> {
        let columns = RecordColumns { tree, row };
        out.push(b'{');
        let mut first = true;
        for (i, field) in &self.fields {
            let Some(f) = list.item.fields.get(*i) else {
                return Err(RowFailure::Undecided);
            };
            let (rule, form, json) = match (&f.plan, field) {
                (Some(Plan::Scalar(rule, json)), RowField::Rule { form, plain }) => {
                    // The common case: the value as found, written as it
                    // is converted.
                    if let Some(column) = plain {
                        match column.first(&columns).map_err(|()| RowFailure::Undecided)? {
                            Some((text, _)) => {
                                let mark = out.len();
                                if !first {
                                    out.push(b',');
                                }
                                out.extend_from_slice(&f.key);
                                if rule.write_plain(text, out) {
                                    first = false;
                                    continue;
                                }
                                out.truncate(mark);
                            }
                            // Nothing found and nothing to fall back on: no
                            // field.
                            None if !rule.has_fallback() && !f.required => continue,
                            None => {}
                        }
                    }
                    (rule, form, *json)
                }
                (_, RowField::Unmapped) => {
                    if f.is_list {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        out.extend_from_slice(&f.key);
                        out.extend_from_slice(b"[]");
                    } else if f.required {
                        return Err(missing(&list.item.file, list.item.line, f, site, row));
                    }
                    continue;
                }
                _ => return Err(RowFailure::Undecided),
            };
            match rule.row_value(form, &columns) {
                Ok(Some(value)) => {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(&f.key);
                    match json {
                        Json::String => write_string(out, &value.text),
                        Json::Number | Json::Bool => out.extend_from_slice(value.text.as_bytes()),
                    }
                }
                Ok(None) if f.required => {
                    return Err(missing(&rule.file, rule.line, f, site, row));
                }
                Ok(None) => {}
                Err(RowError::Undecided) => return Err(RowFailure::Undecided),
                Err(RowError::Rule { message, column }) => {
                    return Err(RowFailure::Failed(MappingError::Eval {
                        file: rule.file.clone(),
                        line: rule.line,
                        field: field_path(site, &f.name),
                        message,
                        place: match column {
                            Some(at) => field_place(site, tree, row, at),
                            None => record_place(site, row),
                        },
                    }));
                }
            }
        }
        out.push(b'}');
        Ok(())
    }
}

fn missing(
    file: &std::sync::Arc<str>,
    line: u32,
    f: &FieldPlan,
    site: &RowSite<'_>,
    row: &Row<'_>,
) -> RowFailure {
    RowFailure::Failed(MappingError::Eval {
        file: file.clone(),
        line,
        field: field_path(site, &f.name),
        message: "is required, and the mapping found no value".into(),
        place: record_place(site, row),
    })
}

/// `items[3].sku`.
fn field_path(site: &RowSite<'_>, name: &str) -> String {
    format!("{}[{}].{name}", site.list, site.index)
}

/// Where a record is, as the tree describes its node.
pub fn record_place(site: &RowSite<'_>, row: &Row<'_>) -> String {
    let p = row.place();
    format!("{}: record {}, line {}", site.file, p.ordinal, p.line)
}

/// Where a record's field is, as the tree describes the field's node.
fn field_place(site: &RowSite<'_>, tree: &Tree, row: &Row<'_>, at: usize) -> String {
    let p = row.place();
    let name: Option<Name> = row.name(at);
    let name = name.map_or(String::new(), |n| tree.names().text(n).to_string());
    format!(
        "{}: record {}, line {}, field {name:?}",
        site.file, p.ordinal, p.line
    )
}
