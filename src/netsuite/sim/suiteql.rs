//! SuiteQL: the subset of NetSuite's query language that dropgate uses,
//! answered from SQLite.
//!
//! Why views and not a parser of our own: SuiteQL is Oracle SQL over
//! NetSuite's Records Catalog, and the queries a client sends are plain
//! SELECTs with joins, `IN`, `ORDER BY`, aggregates and a few Oracle
//! functions. SQLite runs those as written once the tables exist, so the
//! catalog tables are views over the record JSON (`transaction`,
//! `transactionline`, `previoustransactionlinelink`,
//! `previoustransactionlink`, `item`, `vendor`, `customer`), their columns
//! in lower case as NetSuite names them, every custom field a column of
//! its table; the Oracle functions the client uses (`TO_TIMESTAMP`,
//! `TO_CHAR`, `TO_DATE`, `NVL`, `TO_NUMBER`) are SQLite functions with the
//! format masks it uses (`YYYY`, `MM`, `DD`, `HH24`, `HH`, `MI`, `SS`), and
//! `FETCH FIRST n ROWS ONLY` becomes `LIMIT n`. Writing an Oracle parser
//! would be a larger, less faithful copy of what SQLite already does.
//!
//! Safety: the query must be one SELECT (or WITH) with no `;`, no
//! `ATTACH`/`PRAGMA`/write keywords and no reference to the store's own
//! tables (`sim_*`, `sqlite_*`) outside string literals, and it runs on a
//! connection opened read-only with `query_only` set.
//!
//! Approximations (README): dates and times are UTC and a date column
//! selected without `TO_CHAR` comes back as `YYYY-MM-DD` (a timestamp as
//! `YYYY-MM-DD HH24:MI:SS`) rather than in the user's date format;
//! `BUILTIN.DF` and other NetSuite built-ins are not there.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value, json};

use super::error::NsError;
use super::records::RecordType;
use super::store;

/// The largest page NetSuite gives.
pub const MAX_LIMIT: u64 = 1000;

/// A page of results in NetSuite's form.
pub fn run(
    store: &store::Store,
    query: &str,
    limit: u64,
    offset: u64,
    href: &str,
) -> Result<Value, NsError> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(NsError::invalid_parameter(format!(
            "Invalid value for the parameter 'limit'. It must be between 1 and {MAX_LIMIT}."
        )));
    }
    let sql = check(query)?;
    // A custom field named in the query is a column even before a record
    // holds it, as in an account where the field is defined.
    let mentioned = custom_names(&sql);
    store::ensure_custom_fields(&store.conn, &mentioned)?;
    let conn = &store.reader;
    let total: i64 = conn
        .query_row(&format!("SELECT COUNT(*) FROM ({sql})"), [], |r| r.get(0))
        .map_err(search_error)?;
    let total = total.max(0) as u64;
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM ({sql}) LIMIT ?1 OFFSET ?2"))
        .map_err(search_error)?;
    if !stmt.readonly() {
        return Err(unsupported());
    }
    let names: Vec<String> = stmt
        .column_names()
        .enumerate()
        .map(|(i, n)| column_name(n, i))
        .collect();
    let mut rows = stmt
        .query(params_from_iter([limit as i64, offset as i64]))
        .map_err(search_error)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(search_error)? {
        let mut item = Map::new();
        item.insert("links".into(), json!([]));
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i).map_err(search_error)? {
                ValueRef::Null => continue,
                ValueRef::Integer(n) => n.to_string(),
                ValueRef::Real(f) => real_text(f),
                ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            };
            item.insert(name.clone(), Value::String(value));
        }
        items.push(Value::Object(item));
    }
    let count = items.len() as u64;
    let has_more = offset + count < total;
    let link = |rel: &str, off: u64| json!({ "rel": rel, "href": format!("{href}?limit={limit}&offset={off}") });
    let mut links = Vec::new();
    if offset > 0 {
        links.push(link("previous", offset.saturating_sub(limit)));
    }
    links.push(link("first", 0));
    if has_more {
        links.push(link("next", offset + limit));
    }
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    links.push(link("last", last));
    links.push(link("self", offset));
    Ok(json!({
        "links": links,
        "count": count,
        "hasMore": has_more,
        "items": items,
        "offset": offset,
        "totalResults": total,
    }))
}

fn unsupported() -> NsError {
    NsError::invalid_parameter(
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: Invalid or unsupported search.",
    )
}

fn search_error(e: rusqlite::Error) -> NsError {
    let what = match &e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    };
    let what = what
        .replace("no such column", "Field not found")
        .replace("no such table", "Record not found");
    NsError::invalid_parameter(format!(
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: {what}."
    ))
}

/// A column's name in the answer: lower case; an expression without an
/// alias is `expr1`, `expr2`, … as NetSuite names them.
fn column_name(name: &str, i: usize) -> String {
    let lower = name.to_ascii_lowercase();
    if !lower.is_empty() && lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        lower
    } else {
        format!("expr{}", i + 1)
    }
}

/// A float as NetSuite writes it in SuiteQL: `2`, `12.5`.
fn real_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The words of a query outside its string literals, with where they are.
fn words_outside_literals(q: &str) -> (Vec<String>, bool) {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_literal = false;
    let mut semicolon = false;
    for c in q.chars() {
        if in_literal {
            if c == '\'' {
                in_literal = false;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        match c {
            '\'' => in_literal = true,
            ';' => semicolon = true,
            _ => {}
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    (words, semicolon)
}

/// Checks that the query is one read-only SELECT on the catalog and turns
/// the Oracle-isms the client uses into SQLite.
pub fn check(query: &str) -> Result<String, NsError> {
    let q = query.trim();
    if q.is_empty() {
        return Err(NsError::invalid_parameter(
            "Invalid search query. The query 'q' is empty.",
        ));
    }
    let (words, semicolon) = words_outside_literals(q);
    if semicolon || q.contains("--") || q.contains("/*") {
        return Err(unsupported());
    }
    let first = words.first().map(|w| w.to_ascii_uppercase());
    if !matches!(first.as_deref(), Some("SELECT") | Some("WITH")) {
        return Err(unsupported());
    }
    const FORBIDDEN: &[&str] = &[
        "ATTACH", "DETACH", "PRAGMA", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER",
        "REPLACE", "VACUUM", "REINDEX", "ANALYZE",
    ];
    for w in &words {
        let upper = w.to_ascii_uppercase();
        let lower = w.to_ascii_lowercase();
        if FORBIDDEN.contains(&upper.as_str())
            || lower
                .split('.')
                .any(|p| p.starts_with("sim_") || p.starts_with("sqlite_"))
        {
            return Err(unsupported());
        }
    }
    Ok(quote_keywords(&fetch_first_to_limit(q)))
}

/// Quotes the catalog names that are SQLite keywords (`transaction`, a
/// table and a column of `transactionline`) outside string literals.
fn quote_keywords(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 8);
    let mut word = String::new();
    let mut in_literal = false;
    let flush = |word: &mut String, out: &mut String| {
        if word.eq_ignore_ascii_case("transaction") {
            out.push_str("\"transaction\"");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in q.chars() {
        if in_literal {
            out.push(c);
            if c == '\'' {
                in_literal = false;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        if c == '\'' {
            in_literal = true;
        }
        out.push(c);
    }
    flush(&mut word, &mut out);
    out
}

/// `FETCH FIRST n ROWS ONLY` (Oracle 12c) as `LIMIT n`.
fn fetch_first_to_limit(q: &str) -> String {
    let re = regex::Regex::new(r"(?i)\bFETCH\s+(?:FIRST|NEXT)\s+(\d+)\s+ROWS?\s+ONLY\b");
    match re {
        Ok(re) => re.replace_all(q, "LIMIT $1").into_owned(),
        Err(_) => q.to_string(),
    }
}

/// The custom field names a query mentions, with the table they belong to.
fn custom_names(sql: &str) -> Vec<(String, &'static str)> {
    let (words, _) = words_outside_literals(sql);
    words
        .iter()
        .flat_map(|w| w.split('.'))
        .filter_map(|w| {
            let lower = w.to_ascii_lowercase();
            let scope = if lower.starts_with("custbody_") {
                "transaction"
            } else if lower.starts_with("custcol_") {
                "transactionline"
            } else if lower.starts_with("custentity_") {
                "entity"
            } else if lower.starts_with("custitem_") {
                "item"
            } else {
                return None;
            };
            Some((lower, scope))
        })
        .collect()
}

/// A JSON value as a SuiteQL column: checkboxes `T`/`F`, references
/// their ID.
fn custom_column(source: &str, path: &str, name: &str) -> String {
    format!(
        "CASE json_type({source}, '{path}') WHEN 'true' THEN 'T' WHEN 'false' THEN 'F' \
         WHEN 'object' THEN CAST(json_extract({source}, '{path}.id') AS INTEGER) \
         ELSE json_extract({source}, '{path}') END AS {name}"
    )
}

/// (Re)creates the catalog views, with a column for every custom field.
pub fn rebuild_views(conn: &Connection) -> rusqlite::Result<()> {
    let custom = |scope: &str, source: &str, prefix: &str| -> rusqlite::Result<String> {
        Ok(store::custom_fields(conn, scope)?
            .iter()
            .map(|n| {
                format!(
                    ", {}",
                    custom_column(source, &format!("{prefix}.\"{n}\""), n)
                )
            })
            .collect::<String>())
    };
    let tran_types = RecordType::ALL
        .iter()
        .filter_map(|t| {
            t.tran_code()
                .map(|c| format!("WHEN '{}' THEN '{c}'", t.name()))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let negative = "CASE WHEN r.type IN ('salesOrder','itemFulfillment') THEN -1 ELSE 1 END";
    let body_custom = custom("transaction", "r.body", "$")?;
    let line_custom = custom("transactionline", "l.value", "$")?;
    let line_custom_nulls: String = store::custom_fields(conn, "transactionline")?
        .iter()
        .map(|n| format!(", NULL AS {n}"))
        .collect();
    let entity_custom = custom("entity", "r.body", "$")?;
    let item_custom = custom("item", "r.body", "$")?;
    let dt = |col: &str| format!("replace(replace(r.{col}, 'T', ' '), 'Z', '')");
    let sql = format!(
        "
DROP VIEW IF EXISTS \"transaction\";
DROP VIEW IF EXISTS transactionline;
DROP VIEW IF EXISTS previoustransactionlinelink;
DROP VIEW IF EXISTS previoustransactionlink;
DROP VIEW IF EXISTS item;
DROP VIEW IF EXISTS vendor;
DROP VIEW IF EXISTS customer;
CREATE VIEW \"transaction\" AS SELECT
    r.id AS id,
    json_extract(r.body, '$.tranId') AS tranid,
    CASE r.type {tran_types} END AS type,
    CAST(json_extract(r.body, '$.entity.id') AS INTEGER) AS entity,
    json_extract(r.body, '$.tranDate') AS trandate,
    json_extract(r.body, '$.dueDate') AS duedate,
    json_extract(r.body, '$.status.id') AS status,
    CAST(json_extract(r.body, '$.approvalStatus.id') AS INTEGER) AS approvalstatus,
    r.external_id AS externalid,
    {lm} AS lastmodifieddate,
    {cr} AS createddate,
    json_extract(r.body, '$.memo') AS memo,
    json_extract(r.body, '$.otherRefNum') AS otherrefnum,
    json_extract(r.body, '$.total') AS foreigntotal,
    CAST(json_extract(r.body, '$.createdFrom.id') AS INTEGER) AS createdfrom
    {body_custom}
FROM sim_record r WHERE r.family = 'transaction';
CREATE VIEW transactionline AS
SELECT r.id AS \"transaction\", 0 AS id, 0 AS linesequencenumber, 'T' AS mainline,
    NULL AS item, NULL AS quantity, NULL AS rate, NULL AS netamount,
    CAST(json_extract(r.body, '$.createdFrom.id') AS INTEGER) AS createdfrom, NULL AS createdpo,
    NULL AS quantitybilled, NULL AS quantityshiprecv, NULL AS isclosed,
    json_extract(r.body, '$.memo') AS memo
    {line_custom_nulls}
FROM sim_record r WHERE r.family = 'transaction'
UNION ALL
SELECT r.id, json_extract(l.value, '$.line'), l.key + 1, 'F',
    CAST(json_extract(l.value, '$.item.id') AS INTEGER),
    {negative} * json_extract(l.value, '$.quantity'),
    json_extract(l.value, '$.rate'),
    {negative} * json_extract(l.value, '$.amount'),
    COALESCE(CAST(json_extract(l.value, '$.linkedOrder.id') AS INTEGER), CAST(json_extract(r.body, '$.createdFrom.id') AS INTEGER)),
    CAST(json_extract(l.value, '$.createdPo.id') AS INTEGER),
    json_extract(l.value, '$.quantityBilled'),
    COALESCE(json_extract(l.value, '$.quantityFulfilled'), json_extract(l.value, '$.quantityReceived')),
    CASE json_extract(l.value, '$.isClosed') WHEN 1 THEN 'T' ELSE 'F' END,
    json_extract(l.value, '$.description')
    {line_custom}
FROM sim_record r, json_each(r.body, '$.item.items') l WHERE r.family = 'transaction';
CREATE VIEW previoustransactionlinelink AS
SELECT CAST(json_extract(l.value, '$.linkedOrder.id') AS INTEGER) AS previousdoc,
    CAST(json_extract(l.value, '$.orderLine') AS INTEGER) AS previousline,
    r.id AS nextdoc, json_extract(l.value, '$.line') AS nextline, 'DropShip' AS linktype
FROM sim_record r, json_each(r.body, '$.item.items') l
WHERE r.type = 'purchaseOrder' AND CAST(json_extract(l.value, '$.linkedOrder.id') AS INTEGER) IS NOT NULL
UNION ALL
SELECT CAST(json_extract(r.body, '$.createdFrom.id') AS INTEGER), json_extract(l.value, '$.orderLine'),
    r.id, json_extract(l.value, '$.line'),
    CASE r.type WHEN 'itemFulfillment' THEN 'ShipRcpt' ELSE 'OrdBill' END
FROM sim_record r, json_each(r.body, '$.item.items') l
WHERE r.type IN ('itemFulfillment', 'vendorBill') AND CAST(json_extract(r.body, '$.createdFrom.id') AS INTEGER) IS NOT NULL;
CREATE VIEW previoustransactionlink AS
SELECT DISTINCT previousdoc, nextdoc, linktype FROM previoustransactionlinelink;
CREATE VIEW item AS SELECT
    r.id AS id, json_extract(r.body, '$.itemId') AS itemid,
    json_extract(r.body, '$.displayName') AS displayname,
    json_extract(r.body, '$.upcCode') AS upccode,
    json_extract(r.body, '$.vendorName') AS vendorname,
    json_extract(r.body, '$.cost') AS cost,
    CASE json_extract(r.body, '$.isDropShipItem') WHEN 1 THEN 'T' ELSE 'F' END AS isdropshipitem,
    CAST(json_extract(r.body, '$.preferredVendor.id') AS INTEGER) AS preferredvendor,
    'InvtPart' AS itemtype, r.external_id AS externalid,
    {lm} AS lastmodifieddate
    {item_custom}
FROM sim_record r WHERE r.type = 'inventoryItem';
CREATE VIEW vendor AS SELECT
    r.id AS id, json_extract(r.body, '$.entityId') AS entityid,
    json_extract(r.body, '$.companyName') AS companyname,
    json_extract(r.body, '$.email') AS email, r.external_id AS externalid,
    {lm} AS lastmodifieddate
    {entity_custom}
FROM sim_record r WHERE r.type = 'vendor';
CREATE VIEW customer AS SELECT
    r.id AS id, json_extract(r.body, '$.entityId') AS entityid,
    json_extract(r.body, '$.companyName') AS companyname,
    json_extract(r.body, '$.email') AS email, r.external_id AS externalid,
    {lm} AS lastmodifieddate
    {entity_custom}
FROM sim_record r WHERE r.type = 'customer';
",
        lm = dt("last_modified"),
        cr = dt("created"),
    );
    conn.execute_batch(&sql)?;
    register_functions(conn)
}

/// The Oracle functions of the queries the client sends.
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("TO_TIMESTAMP", 2, flags, |ctx| {
        let (Some(text), Some(mask)) = (opt_text(ctx, 0)?, opt_text(ctx, 1)?) else {
            return Ok(None);
        };
        parse_masked(&text, &mask)
            .map(|t| Some(t.format("%Y-%m-%d %H:%M:%S").to_string()))
            .map_err(user_fn_error)
    })?;
    conn.create_scalar_function("TO_DATE", 2, flags, |ctx| {
        let (Some(text), Some(mask)) = (opt_text(ctx, 0)?, opt_text(ctx, 1)?) else {
            return Ok(None);
        };
        parse_masked(&text, &mask)
            .map(|t| Some(t.format("%Y-%m-%d").to_string()))
            .map_err(user_fn_error)
    })?;
    conn.create_scalar_function("TO_CHAR", 2, flags, |ctx| {
        let (Some(text), Some(mask)) = (opt_text(ctx, 0)?, opt_text(ctx, 1)?) else {
            return Ok(None);
        };
        let t = parse_stored(&text).map_err(user_fn_error)?;
        format_masked(&t, &mask).map(Some).map_err(user_fn_error)
    })?;
    conn.create_scalar_function("TO_NUMBER", 1, flags, |ctx| {
        let Some(text) = opt_text(ctx, 0)? else {
            return Ok(None);
        };
        text.trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| user_fn_error(format!("invalid number '{text}'")))
    })?;
    conn.create_scalar_function("NVL", 2, flags, |ctx| {
        let first: rusqlite::types::Value = ctx.get(0)?;
        if matches!(first, rusqlite::types::Value::Null) {
            ctx.get::<rusqlite::types::Value>(1)
        } else {
            Ok(first)
        }
    })?;
    Ok(())
}

fn opt_text(ctx: &rusqlite::functions::Context<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Blob(_) => return Err(user_fn_error("a blob is not a date".into())),
    })
}

fn user_fn_error(msg: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(msg.into())
}

/// One token of an Oracle format mask.
#[derive(Clone, Debug, PartialEq, Eq)]
enum MaskToken {
    Year,
    Month,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    Literal(String),
}

fn mask_tokens(mask: &str) -> Result<Vec<MaskToken>, String> {
    let mut out = Vec::new();
    let mut rest = mask;
    while !rest.is_empty() {
        let upper = rest.to_ascii_uppercase();
        let (token, len) = if upper.starts_with("YYYY") {
            (MaskToken::Year, 4)
        } else if upper.starts_with("HH24") {
            (MaskToken::Hour24, 4)
        } else if upper.starts_with("HH12") {
            (MaskToken::Hour12, 4)
        } else if upper.starts_with("HH") {
            (MaskToken::Hour12, 2)
        } else if upper.starts_with("MM") {
            (MaskToken::Month, 2)
        } else if upper.starts_with("DD") {
            (MaskToken::Day, 2)
        } else if upper.starts_with("MI") {
            (MaskToken::Minute, 2)
        } else if upper.starts_with("SS") {
            (MaskToken::Second, 2)
        } else if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| format!("unterminated quote in the format mask '{mask}'"))?;
            out.push(MaskToken::Literal(quoted[..end].to_string()));
            rest = &quoted[end + 1..];
            continue;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            if c.is_ascii_alphabetic() {
                return Err(format!("the format mask '{mask}' is not supported"));
            }
            (MaskToken::Literal(c.to_string()), c.len_utf8())
        };
        out.push(token);
        rest = &rest[len..];
    }
    Ok(out)
}

/// A date or time written with an Oracle mask.
fn parse_masked(text: &str, mask: &str) -> Result<chrono::NaiveDateTime, String> {
    let bad = || format!("'{text}' does not match the format mask '{mask}'");
    let mut rest = text.trim();
    let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (1970, 1, 1, 0, 0, 0);
    for token in mask_tokens(mask)? {
        let digits = |rest: &mut &str, max: usize| -> Result<u32, String> {
            let n = rest
                .chars()
                .take(max)
                .take_while(char::is_ascii_digit)
                .count();
            if n == 0 {
                return Err(bad());
            }
            let v = rest[..n].parse().map_err(|_| bad())?;
            *rest = &rest[n..];
            Ok(v)
        };
        match token {
            MaskToken::Year => y = digits(&mut rest, 4)? as i32,
            MaskToken::Month => mo = digits(&mut rest, 2)?,
            MaskToken::Day => d = digits(&mut rest, 2)?,
            MaskToken::Hour24 | MaskToken::Hour12 => h = digits(&mut rest, 2)?,
            MaskToken::Minute => mi = digits(&mut rest, 2)?,
            MaskToken::Second => s = digits(&mut rest, 2)?,
            MaskToken::Literal(l) => {
                rest = rest.strip_prefix(l.as_str()).ok_or_else(bad)?;
            }
        }
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_opt(h, mi, s))
        .ok_or_else(bad)
}

/// A stored date (`YYYY-MM-DD`) or timestamp (`YYYY-MM-DD HH:MM:SS`).
fn parse_stored(text: &str) -> Result<chrono::NaiveDateTime, String> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| format!("'{text}' is not a date"))
}

fn format_masked(t: &chrono::NaiveDateTime, mask: &str) -> Result<String, String> {
    use chrono::{Datelike, Timelike};
    let mut out = String::new();
    for token in mask_tokens(mask)? {
        match token {
            MaskToken::Year => out.push_str(&format!("{:04}", t.year())),
            MaskToken::Month => out.push_str(&format!("{:02}", t.month())),
            MaskToken::Day => out.push_str(&format!("{:02}", t.day())),
            MaskToken::Hour24 => out.push_str(&format!("{:02}", t.hour())),
            MaskToken::Hour12 => out.push_str(&format!("{:02}", t.hour12().1)),
            MaskToken::Minute => out.push_str(&format!("{:02}", t.minute())),
            MaskToken::Second => out.push_str(&format!("{:02}", t.second())),
            MaskToken::Literal(l) => out.push_str(&l),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_parse_and_format_as_oracle_does() {
        let t = parse_masked("2026-12-06 15:04:05", "YYYY-MM-DD HH24:MI:SS")
            .expect("the test input is valid");
        assert_eq!(
            format_masked(&t, "YYYY-MM-DD\"T\"HH24:MI:SS").expect("the test input is valid"),
            "2026-12-06T15:04:05"
        );
        assert_eq!(
            format_masked(&t, "MM/DD/YYYY").expect("the test input is valid"),
            "12/06/2026"
        );
        assert!(parse_masked("2026-12-06", "YYYY-MM-DD HH24:MI:SS").is_err());
        assert!(parse_masked("2026-13-06", "YYYY-MM-DD").is_err());
    }

    #[test]
    fn only_one_read_only_select_passes() {
        assert!(check("SELECT id FROM transaction WHERE memo = 'a;b'").is_ok());
        for bad in [
            "SELECT 1; DELETE FROM sim_record",
            "PRAGMA table_info(sim_record)",
            "SELECT * FROM sim_record",
            "ATTACH DATABASE 'x' AS y",
            "SELECT * FROM sqlite_master",
            "WITH x AS (SELECT 1) DELETE FROM item",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check("SELECT id FROM item FETCH FIRST 5 ROWS ONLY").expect("the test input is valid"),
            "SELECT id FROM item LIMIT 5"
        );
        assert_eq!(
            check("SELECT tl.transaction FROM Transaction t, transactionline tl WHERE t.memo = 'transaction'").expect("the test input is valid"),
            "SELECT tl.\"transaction\" FROM \"transaction\" t, transactionline tl WHERE t.memo = 'transaction'"
        );
    }
}
