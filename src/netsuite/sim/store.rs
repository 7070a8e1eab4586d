//! The simulator's SQLite store: one table of records (type, internal ID,
//! external ID, dates, the record's JSON), the ID sequences, and the
//! custom fields seen, from which the SuiteQL views (`suiteql.rs`) are
//! rebuilt when a new one appears. A file, or an in-memory database shared
//! by the writer and SuiteQL's read-only connection.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::{Map, Value};

use super::error::NsError;
use super::records::{Meta, RecordType, is_custom};
use super::suiteql;

/// The two connections: the writer, and the read-only one SuiteQL runs on.
pub struct Store {
    /// Every change goes through this one.
    pub conn: Connection,
    /// SuiteQL's connection: opened read-only.
    pub reader: Connection,
}

/// A stored record.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its dates and IDs.
    pub meta: Meta,
    /// Its JSON (stored form, see `records.rs`).
    pub body: Map<String, Value>,
}

/// Why the store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("the simulator's database {path}: {source}")]
    Sqlite {
        /// The file, or `:memory:`.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sim_record (
    type TEXT NOT NULL,
    id INTEGER NOT NULL,
    family TEXT NOT NULL,
    external_id TEXT,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (family, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS sim_record_eid ON sim_record (type, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sim_record_type ON sim_record (type, id);
CREATE TABLE IF NOT EXISTS sim_sequence (family TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sim_custom_field (name TEXT PRIMARY KEY, scope TEXT NOT NULL);
";

impl Store {
    /// Opens (creating) the store in `path`, or in memory.
    pub fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let (uri, shown) = match path {
            Some(p) => (p.to_string_lossy().into_owned(), p.display().to_string()),
            None => (
                format!(
                    "file:dropgate-netsuite-sim-{}-{}?mode=memory&cache=shared",
                    std::process::id(),
                    super::auth::random_token(12)
                ),
                ":memory:".to_string(),
            ),
        };
        let err = |source| StoreError::Sqlite {
            path: shown.clone(),
            source,
        };
        let base = OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(
            &uri,
            base | OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
        .map_err(err)?;
        if path.is_some() {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(err)?;
        }
        conn.execute_batch(SCHEMA).map_err(err)?;
        suiteql::rebuild_views(&conn).map_err(err)?;
        let reader = Connection::open_with_flags(&uri, base | OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(err)?;
        reader
            .pragma_update(None, "query_only", true)
            .map_err(err)?;
        suiteql::register_functions(&reader).map_err(err)?;
        Ok(Store { conn, reader })
    }
}

/// The current time as NetSuite writes it (ISO 8601 UTC, seconds).
pub fn now_iso() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The next internal ID of the type's sequence.
pub fn next_id(conn: &Connection, ty: RecordType) -> Result<i64, NsError> {
    next_in(conn, ty.family().name())
}

/// The next number of a named sequence (IDs, automatic `tranId`s).
pub fn next_in(conn: &Connection, family: &str) -> Result<i64, NsError> {
    let next: Option<i64> = conn
        .query_row(
            "SELECT next FROM sim_sequence WHERE family = ?1",
            [family],
            |r| r.get(0),
        )
        .optional()?;
    let id = next.unwrap_or(1);
    conn.execute(
        "INSERT INTO sim_sequence (family, next) VALUES (?1, ?2)
         ON CONFLICT (family) DO UPDATE SET next = excluded.next",
        params![family, id + 1],
    )?;
    Ok(id)
}

fn row(ty: &str, r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Row)> {
    let body: String = r.get(5)?;
    let body = serde_json::from_str::<Map<String, Value>>(&body).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok((
        ty.to_string(),
        Row {
            meta: Meta {
                id: r.get(0)?,
                external_id: r.get(1)?,
                created: r.get(2)?,
                last_modified: r.get(3)?,
            },
            body,
        },
    ))
}

const COLUMNS: &str = "id, external_id, created, last_modified, type, body";

/// A record by internal ID.
pub fn get(conn: &Connection, ty: RecordType, id: i64) -> Result<Option<Row>, NsError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM sim_record WHERE type = ?1 AND id = ?2"),
            params![ty.name(), id],
            |r| row(ty.name(), r),
        )
        .optional()?
        .map(|(_, r)| r))
}

/// The internal ID of the record of the type with this external ID.
pub fn find_external(conn: &Connection, ty: RecordType, eid: &str) -> Result<Option<i64>, NsError> {
    Ok(conn
        .query_row(
            "SELECT id FROM sim_record WHERE type = ?1 AND external_id = ?2",
            params![ty.name(), eid],
            |r| r.get(0),
        )
        .optional()?)
}

/// Every record of the type, by ID.
pub fn list(conn: &Connection, ty: RecordType) -> Result<Vec<Row>, NsError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM sim_record WHERE type = ?1 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([ty.name()], |r| row(ty.name(), r))?
        .map(|r| r.map(|(_, row)| row))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Writes a record (new or changed): its dates, external ID and JSON;
/// registers the custom fields it holds for SuiteQL.
pub fn put(
    conn: &Connection,
    ty: RecordType,
    meta: &Meta,
    body: &Map<String, Value>,
) -> Result<(), NsError> {
    let text = serde_json::to_string(body)
        .map_err(|e| NsError::unexpected(format!("a record cannot be written: {e}")))?;
    conn.execute(
        "INSERT INTO sim_record (type, id, family, external_id, created, last_modified, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (family, id) DO UPDATE SET external_id = excluded.external_id,
             last_modified = excluded.last_modified, body = excluded.body",
        params![
            ty.name(),
            meta.id,
            ty.family().name(),
            meta.external_id,
            meta.created,
            meta.last_modified,
            text
        ],
    )?;
    register_custom_fields(conn, ty, body)?;
    Ok(())
}

/// Deletes a record.
pub fn delete(conn: &Connection, ty: RecordType, id: i64) -> Result<(), NsError> {
    conn.execute(
        "DELETE FROM sim_record WHERE type = ?1 AND id = ?2",
        params![ty.name(), id],
    )?;
    Ok(())
}

/// Empties the store (records, sequences, custom fields).
pub fn reset(conn: &Connection) -> Result<(), NsError> {
    conn.execute_batch(
        "DELETE FROM sim_record; DELETE FROM sim_sequence; DELETE FROM sim_custom_field;",
    )?;
    suiteql::rebuild_views(conn)?;
    Ok(())
}

/// The scope of a custom field (which SuiteQL table gets its column).
pub fn custom_scope(ty: RecordType, name: &str, on_line: bool) -> Option<&'static str> {
    if !is_custom(name) {
        return None;
    }
    if on_line {
        return name.starts_with("custcol_").then_some("transactionline");
    }
    Some(match ty.family() {
        super::records::Family::Transaction => "transaction",
        super::records::Family::Entity => "entity",
        super::records::Family::Item => "item",
    })
}

fn register_custom_fields(
    conn: &Connection,
    ty: RecordType,
    body: &Map<String, Value>,
) -> Result<(), NsError> {
    let mut names: Vec<(String, &'static str)> = Vec::new();
    for (name, value) in body {
        if let Some(scope) = custom_scope(ty, name, false) {
            names.push((name.to_ascii_lowercase(), scope));
        }
        if let Some(items) = value.get("items").and_then(Value::as_array) {
            for line in items.iter().filter_map(Value::as_object) {
                for key in line.keys() {
                    if let Some(scope) = custom_scope(ty, key, true) {
                        names.push((key.to_ascii_lowercase(), scope));
                    }
                }
            }
        }
    }
    ensure_custom_fields(conn, &names)
}

/// Makes sure each custom field is a column of its SuiteQL table,
/// rebuilding the views when one is new.
pub fn ensure_custom_fields(conn: &Connection, names: &[(String, &str)]) -> Result<(), NsError> {
    let mut added = false;
    for (name, scope) in names {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        added |= conn.execute(
            "INSERT OR IGNORE INTO sim_custom_field (name, scope) VALUES (?1, ?2)",
            params![name, scope],
        )? > 0;
    }
    if added {
        suiteql::rebuild_views(conn)?;
    }
    Ok(())
}

/// The custom fields of a scope.
pub fn custom_fields(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT name FROM sim_custom_field WHERE scope = ?1 ORDER BY name")?;
    stmt.query_map([scope], |r| r.get(0))?.collect()
}
