//! The embedded store: one SQLite database in the data directory, in WAL
//! mode with full synchronous commits (a committed state survives a power
//! cut; the one exception, [`Durability::Unsynced`] transactions, which
//! record how each delivery went, survives a crash of the process), schema
//! migrations numbered by `PRAGMA user_version`, every statement prepared
//! once. A transaction is `BEGIN IMMEDIATE`: it holds the database's write
//! lock until it ends, so other processes (a `dropgate send-po` beside the
//! daemon) wait for it, up to five seconds, and then fail with
//! [`ErrorKind::Busy`].

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Alerted, As2Direction, As2Record, AuditEntry, ChannelPoll, Delivery, DocumentBody, Durability,
    ErrorKind, ExceptionFilter, ExceptionRecord, FileId, FileRecord, FileState, INVOICE_COLUMNS,
    Instance, InvoiceRecord, Invoices, KeptAnswer, Link, LinkedRow, NewDelivery, NewDocument,
    NewException, NewFile, NewSetAside, OrderFilter, OrderKey, OrderRows, Processed, SentOrder,
    SentRow, SetAside, Store, StoreError, TAKE_CONTROL_NUMBERS, Targets, Transaction,
    extent_columns, extent_of, invoice_of, like_pattern, query_through,
};
use super::{
    CHANNEL_ACTIVITY, ChannelActivity, FileSearch, MAX_SHOWN_PAYLOAD, Outbox, OutboxEntry, Retried,
    channel_activity_of,
};

/// Schema migrations, applied in order; the database's `user_version` is
/// the number applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    partner TEXT,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    archive_path TEXT NOT NULL,
    format TEXT,
    state TEXT NOT NULL,
    documents INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    duplicate_of INTEGER REFERENCES files(id)
);
CREATE INDEX files_by_hash ON files(sha256);
CREATE INDEX files_by_state ON files(state);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    seq INTEGER NOT NULL,
    doc_type TEXT NOT NULL,
    reference TEXT,
    json TEXT NOT NULL,
    UNIQUE (file_id, seq)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    file_id INTEGER REFERENCES files(id),
    target TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL,
    last_error TEXT,
    done_at TEXT
);
CREATE INDEX outbox_due ON outbox(done_at, next_try_at);
CREATE TABLE control_numbers (
    partner TEXT NOT NULL,
    level TEXT NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (partner, level)
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_file ON audit(file_id);
"#,
    r#"
ALTER TABLE outbox ADD COLUMN payload_file TEXT;
"#,
    r#"
ALTER TABLE files ADD COLUMN sender TEXT;
"#,
    r#"
ALTER TABLE outbox ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
"#,
    // Documents point into document packs instead of holding their JSON;
    // an outbox payload can be part of a file.
    r#"
ALTER TABLE outbox ADD COLUMN payload_offset INTEGER;
ALTER TABLE outbox ADD COLUMN payload_length INTEGER;
CREATE TABLE documents_v5 (
    file_id INTEGER NOT NULL REFERENCES files(id),
    seq INTEGER NOT NULL,
    doc_type TEXT NOT NULL,
    reference TEXT,
    json TEXT,
    pack TEXT,
    pack_offset INTEGER,
    pack_length INTEGER,
    PRIMARY KEY (file_id, seq),
    CHECK ((json IS NULL) != (pack IS NULL))
) WITHOUT ROWID;
INSERT INTO documents_v5 (file_id, seq, doc_type, reference, json)
    SELECT file_id, seq, doc_type, reference, json FROM documents;
DROP TABLE documents;
ALTER TABLE documents_v5 RENAME TO documents;
"#,
    // Purchase orders sent, to know a repeat (one original per partner and
    // PO number), and the API's answers by idempotency key.
    r#"
CREATE TABLE orders (
    partner TEXT NOT NULL,
    po_number TEXT NOT NULL,
    purpose TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    PRIMARY KEY (partner, po_number, purpose, sha256)
) WITHOUT ROWID;
CREATE UNIQUE INDEX orders_originals ON orders(partner, po_number) WHERE purpose = 'original';
CREATE TABLE api_answers (
    key TEXT PRIMARY KEY,
    request_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    answered_at TEXT NOT NULL
) WITHOUT ROWID;
"#,
    // One interchange (ISA13) and one group (GS06) sequence per partner,
    // for everything sent to it: acknowledgments and orders had a sequence
    // each and sent the same ISA13 twice. Each starts past every number
    // either used.
    r#"
INSERT INTO control_numbers (partner, level, next)
    SELECT partner, 'ISA', MAX(next) FROM control_numbers
    WHERE level IN ('ack-ISA', 'po') GROUP BY partner;
INSERT INTO control_numbers (partner, level, next)
    SELECT partner, 'GS', MAX(next) FROM control_numbers
    WHERE level IN ('ack-GS', 'po') GROUP BY partner;
DELETE FROM control_numbers WHERE level IN ('ack-ISA', 'ack-GS', 'po');
"#,
    // Leases (a channel polled, a target delivered to, by one instance at
    // a time) and the instances alive, for `status`.
    r#"
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    about TEXT NOT NULL,
    started_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // Files claimed by the instance that processes them (any instance may
    // take up a file its channel's intake recorded).
    r#"
ALTER TABLE files ADD COLUMN claimed_by TEXT;
CREATE INDEX files_waiting ON files(id) WHERE state = 'received';
"#,
    // Invoice reconciliation (issue 13): the orders' documents as sent,
    // the documents linked to a partner's PO number, and the invoices as
    // reconciled (held or not).
    r#"
ALTER TABLE orders ADD COLUMN document TEXT;
CREATE TABLE links (
    partner TEXT NOT NULL,
    po_number TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    file_id INTEGER NOT NULL REFERENCES files(id),
    seq INTEGER NOT NULL,
    detail TEXT,
    PRIMARY KEY (partner, po_number, doc_type, file_id, seq)
) WITHOUT ROWID;
CREATE INDEX links_by_file ON links(file_id);
CREATE TABLE invoices (
    file_id INTEGER NOT NULL REFERENCES files(id),
    seq INTEGER NOT NULL,
    partner TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    po_number TEXT,
    status TEXT NOT NULL,
    hold TEXT NOT NULL,
    document TEXT NOT NULL,
    released_at TEXT,
    released_by TEXT,
    PRIMARY KEY (file_id, seq)
) WITHOUT ROWID;
CREATE INDEX invoices_by_number ON invoices(partner, invoice_number);
CREATE INDEX invoices_by_order ON invoices(partner, po_number);
CREATE INDEX invoices_by_hold ON invoices(hold);
"#,
    // Documents a relay set aside for a person (NetSuite refused their
    // data), each until it is retried.
    r#"
CREATE TABLE set_aside (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    file_id INTEGER REFERENCES files(id),
    seq INTEGER NOT NULL,
    reason TEXT NOT NULL,
    document TEXT NOT NULL,
    at TEXT NOT NULL,
    retries INTEGER NOT NULL DEFAULT 0,
    retried_at TEXT,
    UNIQUE (delivery_key, seq)
);
CREATE INDEX set_aside_waiting ON set_aside(retried_at);
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
"#,
    // The order lifecycle (issue 15): the group each X12 order went out
    // in (what a 997 names), the exceptions opened and closed, and how
    // each channel's polls go.
    r#"
ALTER TABLE orders ADD COLUMN group_control INTEGER;
CREATE INDEX orders_by_group ON orders(partner, group_control);
CREATE TABLE exceptions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    partner TEXT,
    po_number TEXT,
    reason TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    resolution TEXT,
    notified_at TEXT,
    digested_at TEXT
);
CREATE UNIQUE INDEX exceptions_open ON exceptions(kind, subject) WHERE closed_at IS NULL;
CREATE INDEX exceptions_by_order ON exceptions(partner, po_number);
CREATE TABLE channel_polls (
    channel TEXT PRIMARY KEY,
    last_poll_at TEXT NOT NULL,
    last_ok_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    failing_since TEXT
) WITHOUT ROWID;
CREATE INDEX documents_by_type ON documents(doc_type, file_id);
"#,
    // AS2 (issue 16): each message received or sent, by its Message-ID:
    // a message received again is answered with the MDN it got the first
    // time, and a message sent waits here for its MDN.
    r#"
CREATE TABLE as2_messages (
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    file_id INTEGER REFERENCES files(id),
    delivery_key TEXT,
    mic TEXT,
    mdn BLOB,
    status TEXT NOT NULL,
    detail TEXT,
    at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (direction, message_id)
) WITHOUT ROWID;
CREATE INDEX as2_by_delivery ON as2_messages(delivery_key);
"#,
    // A file opened with OpenPGP: the SHA-256 of its content (the file's
    // own `sha256` is of the bytes received), so that the same content
    // encrypted anew is found to be received before.
    r#"
ALTER TABLE files ADD COLUMN content_sha256 TEXT;
CREATE INDEX files_by_content ON files(content_sha256) WHERE content_sha256 IS NOT NULL;
"#,
];

/// The columns of a set-aside document, in [`set_aside_of`]'s order.
const SET_ASIDE_COLUMNS: &str =
    "id, target, delivery_key, file_id, seq, reason, document, at, retries";

fn set_aside_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<SetAside> {
    Ok(SetAside {
        id: r.get(0)?,
        target: r.get(1)?,
        delivery_key: r.get(2)?,
        file_id: r.get(3)?,
        seq: r.get::<_, i64>(4)?.max(0) as u64,
        reason: r.get(5)?,
        document: r.get(6)?,
        at: r.get(7)?,
        retries: r.get::<_, i64>(8)?.clamp(0, i64::from(u32::MAX)) as u32,
    })
}

/// What forgetting a file's documents deletes (before it is processed
/// again): its documents, their links and its reconciled invoices.
const FORGET_DOCUMENTS: [&str; 3] = [
    "DELETE FROM documents WHERE file_id = ?1",
    "DELETE FROM links WHERE file_id = ?1",
    "DELETE FROM invoices WHERE file_id = ?1",
];

/// Runs a statement, prepared once per connection and cached.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Puts a delivery in the outbox, due at `due` (a key already there is
/// not queued again).
fn enqueue(
    conn: &Connection,
    file_id: Option<FileId>,
    d: &NewDelivery,
    at: &str,
    due: i64,
) -> rusqlite::Result<()> {
    let (file, offset, length) = extent_columns(d.payload_file.as_ref());
    exec(
        conn,
        "INSERT INTO outbox (file_id, target, key, name, payload, created_at, next_try_at, payload_file, payload_offset, payload_length)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (key) DO NOTHING",
        params![file_id, d.target, d.key, d.name, d.payload, at, due, file, offset, length],
    )?;
    Ok(())
}

/// Whether the file system holding `path` has no room left for an
/// unprivileged writer.
fn disk_is_full(path: &Path) -> bool {
    let dir = path.parent().unwrap_or(Path::new("."));
    rustix::fs::statvfs(dir).is_ok_and(|s| s.f_bavail == 0)
}

/// A failure of SQLite as the store's error: its kind, and what SQLite
/// said. SQLite says "disk I/O error" when it cannot grow its files: when
/// the disk is full, that is said instead.
fn error(path: &str, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let code = match &source {
        rusqlite::Error::SqliteFailure(e, _) => Some(e.code),
        _ => None,
    };
    let mut message = source.to_string();
    let kind = match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ErrorKind::Busy,
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            ErrorKind::Unavailable
        }
        Some(ErrorCode::ConstraintViolation) => ErrorKind::Conflict,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => ErrorKind::Corrupt,
        Some(ErrorCode::DiskFull) => ErrorKind::Full,
        Some(ErrorCode::SystemIoFailure) if disk_is_full(path.as_ref()) => {
            message = format!("No space left on device: the disk holding it is full ({message})");
            ErrorKind::Full
        }
        _ => ErrorKind::Other,
    };
    StoreError::Database {
        place: path.to_string(),
        kind,
        message,
    }
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

const FILE_COLUMNS: &str = "id, received_at, channel, partner, name, size, sha256, archive_path, format, state, documents, detail, duplicate_of, sender";

fn file_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(FileRecord, String)> {
    let state: String = row.get(9)?;
    Ok((
        FileRecord {
            id: row.get(0)?,
            received_at: row.get(1)?,
            channel: row.get(2)?,
            partner: row.get(3)?,
            name: row.get(4)?,
            size: row.get::<_, i64>(5)?.max(0) as u64,
            sha256: row.get(6)?,
            archive_path: row.get(7)?,
            format: row.get(8)?,
            state: FileState::Received,
            documents: row.get::<_, i64>(10)?.max(0) as u64,
            detail: row.get(11)?,
            duplicate_of: row.get(12)?,
            sender: row.get(13)?,
        },
        state,
    ))
}

fn with_state((mut record, state): (FileRecord, String)) -> Result<FileRecord, StoreError> {
    record.state = FileState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("file {}: state {state:?}", record.id)))?;
    Ok(record)
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| error(&name, e))?;
        let mut store = SqliteStore { conn, path: name };
        store.setup()?;
        Ok(store)
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| error(":memory:", e))?;
        let mut store = SqliteStore {
            conn,
            path: ":memory:".into(),
        };
        store.setup()?;
        Ok(store)
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        error(&self.path, source)
    }

    fn setup(&mut self) -> Result<(), StoreError> {
        // Every statement the store runs stays prepared.
        self.conn.set_prepared_statement_cache_capacity(64);
        // Waiting for another process's lock comes first: switching to WAL
        // (and the migrations) take the database's lock, and a `dropgate
        // files` started beside the daemon must wait, not fail.
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| self.err(e))?;
        // Switching a new database to WAL needs it alone, and SQLite says
        // "busy" at once rather than wait: tried again for a few seconds.
        let mut tries = 0;
        loop {
            match self.conn.execute_batch("PRAGMA journal_mode = WAL") {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 250 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        self.conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))?;
        // The version is read, and the migrations applied, under the write
        // lock: two processes opening a new store at once do not both
        // migrate it.
        let path = self.path.clone();
        let sqlite = |source| error(&path, source);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(sql)
                .and_then(|()| tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1)))
                .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)?;
        Ok(())
    }

    /// Runs `f` in a savepoint of the open transaction: a write made of
    /// several statements is all made or not at all, even when the caller
    /// goes on after its error.
    fn atomically<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Savepoint<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        let sp = self.conn.savepoint().map_err(|e| error(&path, e))?;
        let value = f(&sp).map_err(|e| error(&path, e))?;
        sp.commit().map_err(|e| error(&path, e))?;
        Ok(value)
    }

    /// Runs one statement of the open transaction.
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        exec(&self.conn, sql, params).map_err(|e| self.err(e))?;
        Ok(())
    }

    fn files_where(
        &self,
        clause: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<FileRecord>, StoreError> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files {clause}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, file_row)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter().map(with_state).collect()
    }
}

// The queries, answered the same on the store and in a transaction (the
// `Query` implementations below ask these).
impl SqliteStore {
    fn find_same(
        &self,
        partner: Option<&str>,
        channel: &str,
        sha256: &str,
        name: Option<&str>,
        except: FileId,
    ) -> Result<Option<FileRecord>, StoreError> {
        // ?4 IS NULL: any name.
        let found = match partner {
            Some(p) => self.files_where(
                "WHERE (sha256 = ?1 OR content_sha256 = ?1) AND partner = ?2 AND id < ?3 AND (?4 IS NULL OR name = ?4) AND state NOT IN ('duplicate', 'ignored') ORDER BY id LIMIT 1",
                &[&sha256, &p, &except, &name],
            )?,
            None => self.files_where(
                "WHERE (sha256 = ?1 OR content_sha256 = ?1) AND partner IS NULL AND channel = ?2 AND id < ?3 AND (?4 IS NULL OR name = ?4) AND state NOT IN ('duplicate', 'ignored') ORDER BY id LIMIT 1",
                &[&sha256, &channel, &except, &name],
            )?,
        };
        Ok(found.into_iter().next())
    }

    fn file(&self, id: FileId) -> Result<Option<FileRecord>, StoreError> {
        Ok(self
            .files_where("WHERE id = ?1", &[&id])?
            .into_iter()
            .next())
    }

    fn recent_files(&self, limit: usize) -> Result<Vec<FileRecord>, StoreError> {
        self.files_where("ORDER BY id DESC LIMIT ?1", &[&(limit as i64)])
    }

    fn unfinished_files(&self) -> Result<Vec<FileRecord>, StoreError> {
        self.files_where("WHERE state = 'received' ORDER BY id", &[])
    }

    fn documents(&self, id: FileId) -> Result<Vec<NewDocument>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT doc_type, reference, json, pack, pack_offset, pack_length FROM documents WHERE file_id = ?1 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![id], |r| {
                let json: Option<String> = r.get(2)?;
                let packed = extent_of(r.get(3)?, r.get(4)?, r.get(5)?);
                Ok(NewDocument {
                    doc_type: r.get(0)?,
                    reference: r.get(1)?,
                    body: match (json, packed) {
                        (_, Some(e)) => DocumentBody::Packed(e),
                        (json, None) => DocumentBody::Json(json.unwrap_or_default()),
                    },
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn queued(&self, key: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .conn
            .prepare_cached("SELECT 1 FROM outbox WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row(params![key], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        Ok(found.is_some())
    }

    fn due_deliveries(&self, targets: &Targets, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        const COLUMNS: &str = "SELECT id, file_id, target, key, name, payload, attempts, payload_file, progress, payload_offset, payload_length FROM outbox
                 WHERE done_at IS NULL AND next_try_at <= ?1";
        let (sql, target) = match targets {
            Targets::All => (
                format!("{COLUMNS} AND ?3 IS NULL ORDER BY id LIMIT ?2"),
                None,
            ),
            Targets::Only(t) => (
                format!("{COLUMNS} AND target = ?3 ORDER BY id LIMIT ?2"),
                Some(t.clone()),
            ),
            Targets::AllBut(ts) => (
                format!(
                    "{COLUMNS} AND target NOT IN (SELECT value FROM json_each(?3)) ORDER BY id LIMIT ?2"
                ),
                Some(serde_json::Value::from(ts.clone()).to_string()),
            ),
        };
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![now_secs(), limit as i64, target], |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    file_id: r.get(1)?,
                    new: NewDelivery {
                        target: r.get(2)?,
                        key: r.get(3)?,
                        name: r.get(4)?,
                        payload: r.get(5)?,
                        payload_file: extent_of(r.get(7)?, r.get(9)?, r.get(10)?),
                    },
                    attempts: r.get::<_, i64>(6)?.max(0) as u32,
                    progress: r.get::<_, i64>(8)?.max(0) as u64,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn pending_deliveries(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE done_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    fn count_by_state(&self) -> Result<Vec<(FileState, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM files GROUP BY state ORDER BY state")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(state, n)| {
                FileState::parse(&state)
                    .map(|s| (s, n.max(0) as u64))
                    .ok_or_else(|| StoreError::Corrupt(format!("state {state:?}")))
            })
            .collect()
    }

    fn failing_deliveries(&self) -> Result<Vec<(String, String, u32, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT target, name, attempts, COALESCE(last_error, '') FROM outbox
                 WHERE done_at IS NULL AND attempts > 0 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, i64>(2)?.max(0) as u32,
                    r.get(3)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn audit_trail(&self, id: FileId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at, event, detail FROM audit WHERE file_id = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    event: r.get(1)?,
                    detail: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn sent_order(
        &self,
        partner: &str,
        po_number: &str,
        purpose: &str,
        sha256: &str,
    ) -> Result<Option<SentOrder>, StoreError> {
        let row = |r: &rusqlite::Row<'_>| {
            Ok(SentOrder {
                partner: r.get(0)?,
                po_number: r.get(1)?,
                purpose: r.get(2)?,
                sha256: r.get(3)?,
                name: r.get(4)?,
                channel: r.get(5)?,
                document: r.get(6)?,
                group_control: r.get::<_, Option<i64>>(7)?.map(|g| g.max(0) as u64),
            })
        };
        let found = if purpose == "original" {
            self.conn
                .prepare_cached(
                    "SELECT partner, po_number, purpose, sha256, name, channel, document, group_control FROM orders
                     WHERE partner = ?1 AND po_number = ?2 AND purpose = 'original'",
                )
                .and_then(|mut s| s.query_row(params![partner, po_number], row).optional())
        } else {
            self.conn
                .prepare_cached(
                    "SELECT partner, po_number, purpose, sha256, name, channel, document, group_control FROM orders
                     WHERE partner = ?1 AND po_number = ?2 AND purpose = ?3 AND sha256 = ?4",
                )
                .and_then(|mut s| {
                    s.query_row(params![partner, po_number, purpose, sha256], row)
                        .optional()
                })
        };
        found.map_err(|e| self.err(e))
    }

    fn last_order(&self, partner: &str, po_number: &str) -> Result<Option<SentOrder>, StoreError> {
        // The last queued; an original and its change queued in the same
        // millisecond: the change.
        self.conn
            .prepare_cached(
                "SELECT partner, po_number, purpose, sha256, name, channel, document, group_control FROM orders
                 WHERE partner = ?1 AND po_number = ?2 AND document IS NOT NULL
                 ORDER BY queued_at DESC, purpose = 'original' LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![partner, po_number], |r| {
                    Ok(SentOrder {
                        partner: r.get(0)?,
                        po_number: r.get(1)?,
                        purpose: r.get(2)?,
                        sha256: r.get(3)?,
                        name: r.get(4)?,
                        channel: r.get(5)?,
                        document: r.get(6)?,
                        group_control: r.get::<_, Option<i64>>(7)?.map(|g| g.max(0) as u64),
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    fn links(
        &self,
        partner: &str,
        po_number: &str,
        doc_type: &str,
    ) -> Result<Vec<Link>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT file_id, seq, detail FROM links
                 WHERE partner = ?1 AND po_number = ?2 AND doc_type = ?3 ORDER BY file_id, seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![partner, po_number, doc_type], |r| {
                Ok(Link {
                    partner: partner.to_string(),
                    po_number: po_number.to_string(),
                    doc_type: doc_type.to_string(),
                    file_id: r.get(0)?,
                    seq: r.get::<_, i64>(1)?.max(0) as u64,
                    detail: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn invoices(&self, which: Invoices<'_>) -> Result<Vec<InvoiceRecord>, StoreError> {
        let (clause, a, b): (&str, Option<String>, Option<String>) = match which {
            Invoices::Held => ("hold = 'held' AND ?1 IS NULL AND ?2 IS NULL", None, None),
            Invoices::Numbered {
                partner,
                invoice_number,
            } => (
                "partner = ?1 AND invoice_number = ?2",
                Some(partner.into()),
                Some(invoice_number.into()),
            ),
            Invoices::ForOrder { partner, po_number } => (
                "partner = ?1 AND po_number = ?2",
                Some(partner.into()),
                Some(po_number.into()),
            ),
            Invoices::OfFile(id) => (
                "file_id = CAST(?1 AS INTEGER) AND ?2 IS NULL",
                Some(id.to_string()),
                None,
            ),
        };
        let sql =
            format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE {clause} ORDER BY file_id, seq");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![a, b], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    (
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<String>>(9)?,
                    ),
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(f, q, p, n, po, st, h, d, rel)| invoice_of(f, q, p, n, po, st, h, d, rel))
            .collect()
    }

    fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT value FROM cursors WHERE name = ?1")
            .and_then(|mut s| s.query_row(params![name], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    fn set_aside(&self) -> Result<Vec<SetAside>, StoreError> {
        let sql = format!(
            "SELECT {SET_ASIDE_COLUMNS} FROM set_aside WHERE retried_at IS NULL ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], set_aside_of)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn kept_answer(&self, key: &str) -> Result<Option<KeptAnswer>, StoreError> {
        self.conn
            .prepare_cached("SELECT request_sha256, status, body FROM api_answers WHERE key = ?1")
            .and_then(|mut s| {
                s.query_row(params![key], |r| {
                    Ok(KeptAnswer {
                        request_sha256: r.get(0)?,
                        status: r.get::<_, i64>(1)?.clamp(0, 999) as u16,
                        body: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    fn order_history(&self, partner: &str, po_number: &str) -> Result<OrderRows, StoreError> {
        let mut rows = OrderRows::default();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT purpose, name, queued_at, document FROM orders
                 WHERE partner = ?1 AND po_number = ?2 ORDER BY queued_at, purpose <> 'original'",
            )
            .map_err(|e| self.err(e))?;
        rows.sent = stmt
            .query_map(params![partner, po_number], |r| {
                Ok(SentRow {
                    purpose: r.get(0)?,
                    name: r.get(1)?,
                    at: r.get(2)?,
                    document: r.get(3)?,
                })
            })
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT l.doc_type, l.file_id, l.seq, l.detail, f.received_at
                 FROM links l JOIN files f ON f.id = l.file_id
                 WHERE l.partner = ?1 AND l.po_number = ?2 ORDER BY f.received_at, l.file_id, l.seq",
            )
            .map_err(|e| self.err(e))?;
        rows.linked = stmt
            .query_map(params![partner, po_number], |r| {
                Ok(LinkedRow {
                    doc_type: r.get(0)?,
                    file_id: r.get(1)?,
                    seq: r.get::<_, i64>(2)?.max(0) as u64,
                    detail: r.get(3)?,
                    at: r.get(4)?,
                })
            })
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn order_keys(&self, f: &OrderFilter) -> Result<Vec<OrderKey>, StoreError> {
        let pattern = f.po_number.as_deref().map(like_pattern);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partner, po_number, MIN(at) AS first_at FROM (
                     SELECT partner, po_number, queued_at AS at FROM orders
                     UNION ALL
                     SELECT l.partner, l.po_number, f.received_at FROM links l JOIN files f ON f.id = l.file_id
                 )
                 WHERE (?1 IS NULL OR partner = ?1) AND (?2 IS NULL OR po_number LIKE ?2 ESCAPE '\\')
                 GROUP BY partner, po_number
                 HAVING (?3 IS NULL OR first_at >= ?3) AND (?4 IS NULL OR first_at < ?4)
                 ORDER BY first_at DESC, partner, po_number LIMIT ?5 OFFSET ?6",
            )
            .map_err(|e| self.err(e))?;
        let limit = if f.limit == 0 {
            i64::MAX
        } else {
            f.limit.min(i64::MAX as usize) as i64
        };
        stmt.query_map(
            params![
                f.partner,
                pattern,
                f.since,
                f.until,
                limit,
                f.offset.min(i64::MAX as usize) as i64
            ],
            |r| {
                Ok(OrderKey {
                    partner: r.get(0)?,
                    po_number: r.get(1)?,
                    first_at: r.get(2)?,
                })
            },
        )
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err(e))
    }

    fn orders_in_group(
        &self,
        partner: &str,
        group_control: u64,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT po_number FROM orders WHERE partner = ?1 AND group_control = ?2 ORDER BY po_number",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(
            params![partner, group_control.min(i64::MAX as u64) as i64],
            |r| r.get(0),
        )
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err(e))
    }

    fn exceptions(&self, f: &ExceptionFilter) -> Result<Vec<ExceptionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, subject, partner, po_number, reason, opened_at, closed_at, resolution, notified_at, digested_at
                 FROM exceptions
                 WHERE (?1 = 0 OR closed_at IS NULL) AND (?2 IS NULL OR partner = ?2) AND (?3 IS NULL OR po_number = ?3)
                 ORDER BY id DESC LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let limit = if f.limit == 0 {
            i64::MAX
        } else {
            f.limit.min(i64::MAX as usize) as i64
        };
        stmt.query_map(params![f.open_only, f.partner, f.po_number, limit], |r| {
            let closed_at: Option<String> = r.get(7)?;
            let resolution: Option<String> = r.get(8)?;
            Ok(ExceptionRecord {
                id: r.get(0)?,
                kind: r.get(1)?,
                subject: r.get(2)?,
                partner: r.get(3)?,
                po_number: r.get(4)?,
                reason: r.get(5)?,
                opened_at: r.get(6)?,
                closed: closed_at.map(|at| (at, resolution.unwrap_or_default())),
                notified_at: r.get(9)?,
                digested_at: r.get(10)?,
            })
        })
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err(e))
    }

    fn as2_message(
        &self,
        direction: As2Direction,
        message_id: &str,
    ) -> Result<Option<As2Record>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT channel, file_id, delivery_key, mic, mdn, status, detail, at FROM as2_messages
                 WHERE direction = ?1 AND message_id = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![direction.as_str(), message_id], |r| {
                    Ok(As2Record {
                        direction,
                        message_id: message_id.to_string(),
                        channel: r.get(0)?,
                        file_id: r.get(1)?,
                        delivery_key: r.get(2)?,
                        mic: r.get(3)?,
                        mdn: r.get(4)?,
                        status: r.get(5)?,
                        detail: r.get(6)?,
                        at: r.get(7)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    fn channel_polls(&self) -> Result<Vec<ChannelPoll>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT channel, last_poll_at, last_ok_at, last_error, last_error_at, failing_since
                 FROM channel_polls ORDER BY channel",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| {
            let error: Option<String> = r.get(3)?;
            let error_at: Option<String> = r.get(4)?;
            Ok(ChannelPoll {
                channel: r.get(0)?,
                last_poll_at: r.get(1)?,
                last_ok_at: r.get(2)?,
                last_error: error.zip(error_at),
                failing_since: r.get(5)?,
            })
        })
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err(e))
    }

    fn last_received(&self, partner: &str, doc_type: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT MAX(f.received_at) FROM documents d JOIN files f ON f.id = d.file_id
                 WHERE d.doc_type = ?2 AND f.partner = ?1",
            )
            .and_then(|mut s| s.query_row(params![partner, doc_type], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }
}

// The console's queries.
impl SqliteStore {
    fn search_files(&self, q: &FileSearch) -> Result<Vec<FileRecord>, StoreError> {
        let limit = q.limit.min(i64::MAX as usize) as i64;
        self.files_where(
            "WHERE (?1 IS NULL OR partner = ?1)
               AND (?2 IS NULL OR state = ?2)
               AND (?3 IS NULL OR channel = ?3)
               AND (?4 IS NULL OR received_at >= ?4)
               AND (?5 IS NULL OR received_at < ?5)
               AND (?6 IS NULL OR id IN (
                    SELECT file_id FROM documents WHERE reference = ?6
                    UNION SELECT file_id FROM links WHERE po_number = ?6
                    UNION SELECT file_id FROM invoices WHERE po_number = ?6))
               AND (?7 IS NULL OR lower(name) LIKE ?7 ESCAPE '\\')
               AND (?8 IS NULL OR format = ?8)
               AND (?9 IS NULL OR id < ?9)
             ORDER BY id DESC LIMIT ?10",
            &[
                &q.partner,
                &q.state.map(FileState::as_str),
                &q.channel,
                &q.received_from,
                &q.received_before,
                &q.po_number,
                &q.name_pattern(),
                &q.format,
                &q.before_id,
                &limit,
            ],
        )
    }

    fn outbox(&self, which: Outbox) -> Result<Vec<OutboxEntry>, StoreError> {
        const COLUMNS: &str = "SELECT id, file_id, target, key, name, created_at, attempts, next_try_at, last_error, done_at";
        let (sql, arg) = match which {
            Outbox::Waiting(limit) => (
                format!(
                    "{COLUMNS}, NULL FROM outbox WHERE done_at IS NULL ORDER BY next_try_at, id LIMIT ?1"
                ),
                limit.min(i64::MAX as usize) as i64,
            ),
            Outbox::OfFile(id) => (
                format!(
                    "{COLUMNS}, CASE WHEN payload_file IS NULL AND length(payload) <= {MAX_SHOWN_PAYLOAD} THEN payload END
                     FROM outbox WHERE file_id = ?1 ORDER BY id"
                ),
                id,
            ),
        };
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![arg], |r| {
                Ok(OutboxEntry {
                    id: r.get(0)?,
                    file_id: r.get(1)?,
                    target: r.get(2)?,
                    key: r.get(3)?,
                    name: r.get(4)?,
                    created_at: r.get(5)?,
                    attempts: r.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
                    next_try_at: r.get(7)?,
                    last_error: r.get(8)?,
                    done_at: r.get(9)?,
                    payload: r.get::<_, Option<Vec<u8>>>(10)?.unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn channel_activity(&self) -> Result<Vec<ChannelActivity>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(CHANNEL_ACTIVITY)
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter().map(channel_activity_of).collect()
    }
}

query_through!(SqliteStore, |s| Ok::<&SqliteStore, StoreError>(s));

impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("SQLite {}", self.path)
    }

    fn lease(&mut self, name: &str, holder: &str, secs: u64) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, unixepoch() + ?3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at <= unixepoch()
                 RETURNING holder",
            )
            .and_then(|mut st| {
                st.query_row(params![name, holder, secs.min(i64::MAX as u64) as i64], |_| Ok(()))
                    .optional()
            })
            .map(|held| held.is_some())
            .map_err(|e| self.err(e))
    }

    fn release(&mut self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2")
            .and_then(|mut st| st.execute(params![name, holder]))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn heartbeat(&mut self, id: &str, about: &str, secs: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO instances (id, about, started_at, expires_at) VALUES (?1, ?2, ?3, unixepoch() + ?4)
                 ON CONFLICT (id) DO UPDATE SET about = excluded.about, expires_at = excluded.expires_at",
            )
            .and_then(|mut st| {
                st.execute(params![id, about, now(), secs.min(i64::MAX as u64) as i64])
            })
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn leave(&mut self, id: &str) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .and_then(|()| {
                self.conn
                    .execute("DELETE FROM leases WHERE holder = ?1", params![id])
            })
            .and_then(|_| {
                self.conn
                    .execute("DELETE FROM instances WHERE id = ?1", params![id])
            })
            .and_then(|_| self.conn.execute_batch("COMMIT"))
            .map_err(|e| {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.err(e)
            })
    }

    fn claim_files(
        &mut self,
        holder: &str,
        limit: usize,
        limit_bytes: u64,
    ) -> Result<Vec<FileRecord>, StoreError> {
        // One writer at a time on SQLite: the statement is the claim.
        let sql = format!(
            "UPDATE files SET claimed_by = ?1 WHERE id IN (
                 SELECT id FROM (
                     SELECT f.id, SUM(f.size) OVER (ORDER BY f.id) - f.size AS before
                     FROM files f
                     WHERE f.state = 'received'
                       AND (f.claimed_by IS NULL OR f.claimed_by = ?1 OR NOT EXISTS (
                            SELECT 1 FROM instances i WHERE i.id = f.claimed_by AND i.expires_at > unixepoch()))
                       AND NOT EXISTS (
                            SELECT 1 FROM files e WHERE e.sha256 = f.sha256 AND e.id < f.id
                              AND e.state = 'received' AND e.claimed_by IS NOT ?1)
                     ORDER BY f.id LIMIT ?2)
                 WHERE before < ?3)
             RETURNING {FILE_COLUMNS}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    holder,
                    limit.min(i64::MAX as usize) as i64,
                    limit_bytes.clamp(1, i64::MAX as u64) as i64
                ],
                file_row,
            )
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        let mut files = rows
            .into_iter()
            .map(with_state)
            .collect::<Result<Vec<_>, _>>()?;
        files.sort_by_key(|f| f.id);
        Ok(files)
    }

    fn waiting_files(&mut self, channel: &str) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM files WHERE state = 'received' AND channel = ?1")
            .and_then(|mut st| st.query_row(params![channel], |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    fn instances(&mut self) -> Result<Vec<Instance>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>, i64)> = self
            .conn
            .prepare_cached(
                "SELECT i.id, i.about, i.started_at, l.name,
                        (SELECT COUNT(*) FROM files f WHERE f.state = 'received' AND f.claimed_by = i.id)
                 FROM instances i
                 LEFT JOIN leases l ON l.holder = i.id AND l.expires_at > unixepoch()
                 WHERE i.expires_at > unixepoch() ORDER BY i.started_at, i.id, l.name",
            )
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                    .collect()
            })
            .map_err(|e| self.err(e))?;
        Ok(super::instances_of(rows))
    }

    fn transaction(
        &mut self,
        durability: Durability,
    ) -> Result<Box<dyn Transaction + '_>, StoreError> {
        // In WAL mode, a commit with `synchronous = NORMAL` is written to
        // the log but not synced: it survives a crash of the process, and
        // the next synced commit syncs it too.
        if durability == Durability::Unsynced {
            self.conn
                .execute_batch("PRAGMA synchronous = NORMAL")
                .map_err(|e| self.err(e))?;
        }
        // IMMEDIATE: the write lock is taken now (waiting up to the busy
        // timeout for another process's transaction), not at the first
        // write, where a reader turned writer could only fail.
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let e = self.err(e);
            let _ = self.conn.execute_batch("PRAGMA synchronous = FULL");
            return Err(e);
        }
        Ok(Box::new(SqliteTransaction {
            store: self,
            durability,
            open: true,
        }))
    }
}

/// A transaction of the SQLite store: `BEGIN IMMEDIATE` (the database's
/// write lock) to `COMMIT`, or `ROLLBACK` when dropped.
pub struct SqliteTransaction<'s> {
    store: &'s mut SqliteStore,
    durability: Durability,
    /// Neither committed nor rolled back yet.
    open: bool,
}

impl SqliteTransaction<'_> {
    /// Inserts an AS2 message's record; `on_conflict` says what a record
    /// already there becomes (nothing: a `Conflict`).
    fn insert_as2(&mut self, m: &As2Record, on_conflict: &str) -> Result<(), StoreError> {
        self.store.exec(
            &format!(
                "INSERT INTO as2_messages (direction, message_id, channel, file_id, delivery_key, mic, mdn, status, detail, at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) {on_conflict}"
            ),
            params![
                m.direction.as_str(),
                m.message_id,
                m.channel,
                m.file_id,
                m.delivery_key,
                m.mic,
                m.mdn,
                m.status,
                m.detail,
                m.at
            ],
        )
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.open && !self.store.conn.is_autocommit() {
            // Nothing to do if it fails: the connection is then unusable
            // and the next statement says so.
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
        if self.durability == Durability::Unsynced {
            let _ = self.store.conn.execute_batch("PRAGMA synchronous = FULL");
        }
    }
}

query_through!(SqliteTransaction<'_>, |t| Ok::<&SqliteStore, StoreError>(
    &*t.store
));

impl Transaction for SqliteTransaction<'_> {
    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.store
            .conn
            .execute_batch("COMMIT")
            .map_err(|e| self.store.err(e))?;
        self.open = false;
        Ok(())
    }

    fn record_received(&mut self, file: &NewFile) -> Result<FileId, StoreError> {
        let at = now();
        self.store.atomically(|tx| {
            exec(
                tx,
                "INSERT INTO files (received_at, updated_at, channel, partner, name, size, sha256, archive_path, state, sender)
                 VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'received', ?8)",
                params![at, file.channel, file.partner, file.name, file.size as i64, file.sha256, file.archive_path, file.sender],
            )?;
            let id = tx.last_insert_rowid();
            exec(
                tx,
                "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, 'received', ?3)",
                params![id, at, super::received_detail(file)],
            )?;
            Ok(id)
        })
    }

    fn holds_claims(&mut self, ids: &[FileId], holder: &str) -> Result<bool, StoreError> {
        // The transaction holds the database's write lock: no one claims
        // meanwhile.
        let mut stmt = self
            .store
            .conn
            .prepare_cached(
                "SELECT 1 FROM files WHERE id = ?1 AND state = 'received' AND claimed_by = ?2",
            )
            .map_err(|e| self.store.err(e))?;
        for id in ids {
            let held = stmt
                .query_row(params![id, holder], |_| Ok(()))
                .optional()
                .map_err(|e| self.store.err(e))?;
            if held.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn identify(&mut self, id: FileId, partner: &str) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE files SET partner = ?2 WHERE id = ?1",
            params![id, partner],
        )
    }

    fn set_content_sha256(&mut self, id: FileId, sha256: Option<&str>) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE files SET content_sha256 = ?2 WHERE id = ?1",
            params![id, sha256],
        )
    }

    fn ignore(
        &mut self,
        id: FileId,
        partner: Option<&str>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let at = now();
        self.store.atomically(|tx| {
            exec(
                tx,
                "UPDATE files SET state = 'ignored', partner = COALESCE(?2, partner), detail = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, partner, reason, at],
            )?;
            exec(
                tx,
                "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, 'ignored', ?3)",
                params![id, at, reason],
            )?;
            Ok(())
        })
    }

    fn mark_duplicate(
        &mut self,
        id: FileId,
        of: FileId,
        partner: Option<&str>,
    ) -> Result<(), StoreError> {
        let at = now();
        self.store.atomically(|tx| {
            exec(
                tx,
                "UPDATE files SET state = 'duplicate', duplicate_of = ?2, detail = ?3, updated_at = ?4, partner = COALESCE(?5, partner) WHERE id = ?1",
                params![id, of, super::duplicate_detail(of), at, partner],
            )?;
            exec(
                tx,
                "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, 'duplicate', ?3)",
                params![id, at, format!("the same bytes as file {of}")],
            )?;
            Ok(())
        })
    }

    fn add_documents(
        &mut self,
        id: FileId,
        first_seq: u64,
        documents: &[NewDocument],
    ) -> Result<(), StoreError> {
        self.store.atomically(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO documents (file_id, seq, doc_type, reference, json, pack, pack_offset, pack_length)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (i, d) in documents.iter().enumerate() {
                let (json, extent) = match &d.body {
                    DocumentBody::Json(text) => (Some(text.as_str()), None),
                    DocumentBody::Packed(e) => (None, Some(e)),
                };
                let (pack, offset, length) = extent_columns(extent);
                stmt.execute(params![
                    id,
                    (first_seq + i as u64) as i64,
                    d.doc_type,
                    d.reference,
                    json,
                    pack,
                    offset,
                    length
                ])?;
            }
            Ok(())
        })
    }

    fn clear_documents(&mut self, id: FileId) -> Result<(), StoreError> {
        self.store.atomically(|tx| {
            for sql in FORGET_DOCUMENTS {
                exec(tx, sql, params![id])?;
            }
            Ok(())
        })
    }

    fn finish(&mut self, id: FileId, processed: &Processed) -> Result<(), StoreError> {
        let at = now();
        let due = now_secs();
        self.store.atomically(|tx| {
            for d in &processed.deliveries {
                enqueue(tx, Some(id), d, &at, due)?;
            }
            exec(
                tx,
                "UPDATE files SET state = 'processed', partner = COALESCE(?2, partner), format = ?3, documents = ?4, detail = ?5, updated_at = ?6 WHERE id = ?1",
                params![id, processed.partner, processed.format, processed.documents as i64, processed.notes, at],
            )?;
            exec(
                tx,
                "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, 'processed', ?3)",
                params![id, at, super::processed_detail(processed)],
            )?;
            Ok(())
        })
    }

    fn quarantine(
        &mut self,
        id: FileId,
        partner: Option<&str>,
        format: Option<&str>,
        reason: &str,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        let at = now();
        let due = now_secs();
        self.store.atomically(|tx| {
            for d in deliveries {
                enqueue(tx, Some(id), d, &at, due)?;
            }
            exec(
                tx,
                "UPDATE files SET state = 'quarantined', partner = COALESCE(?2, partner), format = COALESCE(?3, format), detail = ?4, updated_at = ?5 WHERE id = ?1",
                params![id, partner, format, reason, at],
            )?;
            exec(
                tx,
                "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, 'quarantined', ?3)",
                params![id, at, reason],
            )?;
            Ok(())
        })
    }

    fn reset_for_reprocess(&mut self, id: FileId) -> Result<(), StoreError> {
        let at = now();
        self.store.atomically(|tx| {
            for sql in FORGET_DOCUMENTS {
                exec(tx, sql, params![id])?;
            }
            exec(
                tx,
                "UPDATE files SET state = 'received', documents = 0, detail = NULL, claimed_by = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            exec(
                tx,
                "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, 'reprocess', 'put back to be processed again')",
                params![id, at],
            )?;
            Ok(())
        })
    }

    fn queue(&mut self, deliveries: &[NewDelivery]) -> Result<(), StoreError> {
        let at = now();
        let due = now_secs();
        self.store.atomically(|tx| {
            for d in deliveries {
                enqueue(tx, None, d, &at, due)?;
            }
            Ok(())
        })
    }

    fn delivery_progress(&mut self, id: i64, progress: u64) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE outbox SET progress = ?2 WHERE id = ?1",
            params![id, progress as i64],
        )
    }

    fn delivered(&mut self, id: i64) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE outbox SET done_at = ?2, attempts = attempts + 1 WHERE id = ?1",
            params![id, now()],
        )
    }

    fn delivery_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_in_secs: u64,
    ) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_try_at = ?3 WHERE id = ?1 AND done_at IS NULL",
            params![id, error, now_secs() + retry_in_secs.min(i64::MAX as u64) as i64],
        )
    }

    fn audit(&mut self, id: FileId, event: &str, detail: &str) -> Result<(), StoreError> {
        self.store.exec(
            "INSERT INTO audit (file_id, at, event, detail) VALUES (?1, ?2, ?3, ?4)",
            params![id, now(), event, detail],
        )
    }

    fn add_links(&mut self, links: &[Link]) -> Result<(), StoreError> {
        self.store.atomically(|tx| {
            for l in links {
                exec(
                    tx,
                    "INSERT INTO links (partner, po_number, doc_type, file_id, seq, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET detail = excluded.detail",
                    params![l.partner, l.po_number, l.doc_type, l.file_id, l.seq.min(i64::MAX as u64) as i64, l.detail],
                )?;
            }
            Ok(())
        })
    }

    fn record_invoice(&mut self, i: &InvoiceRecord) -> Result<(), StoreError> {
        let (at, by) = i.released.clone().unzip();
        let seq = i.seq.min(i64::MAX as u64) as i64;
        self.store.atomically(|tx| {
            exec(
                tx,
                "INSERT OR REPLACE INTO invoices (file_id, seq, partner, invoice_number, po_number, status, hold, document, released_at, released_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![i.file_id, seq, i.partner, i.invoice_number, i.po_number, i.status, i.hold.as_str(), i.document, at, by],
            )?;
            exec(
                tx,
                "UPDATE documents SET json = ?3, pack = NULL, pack_offset = NULL, pack_length = NULL WHERE file_id = ?1 AND seq = ?2",
                params![i.file_id, seq, i.document],
            )?;
            Ok(())
        })
    }

    fn open_exception(&mut self, e: &NewException<'_>) -> Result<i64, StoreError> {
        let at = now();
        self.store
            .conn
            .prepare_cached(
                "INSERT INTO exceptions (kind, subject, partner, po_number, reason, opened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![e.kind, e.subject, e.partner, e.po_number, e.reason, at],
                    |r| r.get(0),
                )
            })
            .map_err(|err| self.store.err(err))
    }

    fn note_exception(&mut self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE exceptions SET reason = ?2 WHERE id = ?1",
            params![id, reason],
        )
    }

    fn close_exception(&mut self, id: i64, resolution: &str) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE exceptions SET closed_at = ?2, resolution = ?3 WHERE id = ?1 AND closed_at IS NULL",
            params![id, now(), resolution],
        )
    }

    fn exception_alerted(&mut self, id: i64, how: Alerted) -> Result<(), StoreError> {
        let sql = match how {
            Alerted::Webhook => "UPDATE exceptions SET notified_at = ?2 WHERE id = ?1",
            Alerted::Digest => "UPDATE exceptions SET digested_at = ?2 WHERE id = ?1",
        };
        self.store.exec(sql, params![id, now()])
    }

    fn record_as2(&mut self, m: &As2Record) -> Result<(), StoreError> {
        self.insert_as2(m, "")
    }

    fn as2_sent(&mut self, m: &As2Record) -> Result<(), StoreError> {
        self.insert_as2(
            m,
            "ON CONFLICT (direction, message_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        )
    }

    fn delivered_by_key(&mut self, key: &str) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE outbox SET done_at = ?2, attempts = attempts + 1 WHERE key = ?1 AND done_at IS NULL",
            params![key, now()],
        )
    }

    fn delivery_noted_by_key(&mut self, key: &str, note: &str) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE outbox SET last_error = ?2 WHERE key = ?1 AND done_at IS NULL",
            params![key, note],
        )
    }

    fn as2_mdn(
        &mut self,
        message_id: &str,
        status: &str,
        detail: &str,
        mdn: &[u8],
    ) -> Result<(), StoreError> {
        self.store.exec(
            "UPDATE as2_messages SET status = ?2, detail = ?3, mdn = ?4, updated_at = ?5
             WHERE direction = 'out' AND message_id = ?1",
            params![message_id, status, detail, mdn, now()],
        )
    }

    fn record_poll(&mut self, channel: &str, error: Option<&str>) -> Result<(), StoreError> {
        let at = now();
        match error {
            None => self.store.exec(
                "INSERT INTO channel_polls (channel, last_poll_at, last_ok_at) VALUES (?1, ?2, ?2)
                 ON CONFLICT (channel) DO UPDATE SET last_poll_at = ?2, last_ok_at = ?2, failing_since = NULL",
                params![channel, at],
            ),
            Some(e) => self.store.exec(
                "INSERT INTO channel_polls (channel, last_poll_at, last_error, last_error_at, failing_since)
                 VALUES (?1, ?2, ?3, ?2, ?2)
                 ON CONFLICT (channel) DO UPDATE SET last_poll_at = ?2, last_error = ?3, last_error_at = ?2,
                     failing_since = COALESCE(channel_polls.failing_since, ?2)",
                params![channel, at, e],
            ),
        }
    }

    fn set_cursor(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        self.store.exec(
            "INSERT INTO cursors (name, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![name, value, now()],
        )
    }

    fn put_aside(&mut self, doc: &NewSetAside<'_>) -> Result<(), StoreError> {
        self.store.exec(
            "INSERT INTO set_aside (target, delivery_key, file_id, seq, reason, document, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (delivery_key, seq) DO NOTHING",
            params![
                doc.target,
                doc.delivery_key,
                doc.file_id,
                doc.seq.min(i64::MAX as u64) as i64,
                doc.reason,
                doc.document,
                now()
            ],
        )
    }

    fn take_set_aside(&mut self, id: i64) -> Result<Option<SetAside>, StoreError> {
        let sql = format!(
            "UPDATE set_aside SET retried_at = ?2, retries = retries + 1
             WHERE id = ?1 AND retried_at IS NULL RETURNING {SET_ASIDE_COLUMNS}"
        );
        self.store
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params![id, now()], set_aside_of).optional())
            .map_err(|e| self.store.err(e))
    }

    fn release_invoice(&mut self, file: FileId, seq: u64, by: &str) -> Result<bool, StoreError> {
        let changed = exec(
            &self.store.conn,
            "UPDATE invoices SET hold = 'released', released_at = ?3, released_by = ?4
             WHERE file_id = ?1 AND seq = ?2 AND hold = 'held'",
            params![file, seq.min(i64::MAX as u64) as i64, now(), by],
        )
        .map_err(|e| self.store.err(e))?;
        Ok(changed > 0)
    }

    fn record_order(&mut self, order: &SentOrder) -> Result<(), StoreError> {
        self.store.exec(
            "INSERT INTO orders (partner, po_number, purpose, sha256, name, channel, queued_at, document, group_control)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                order.partner,
                order.po_number,
                order.purpose,
                order.sha256,
                order.name,
                order.channel,
                now(),
                order.document,
                order.group_control.map(|g| g.min(i64::MAX as u64) as i64)
            ],
        )
    }

    fn keep_answer(&mut self, key: &str, answer: &KeptAnswer) -> Result<(), StoreError> {
        self.store.exec(
            "INSERT INTO api_answers (key, request_sha256, status, body, answered_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING",
            params![
                key,
                answer.request_sha256,
                i64::from(answer.status),
                answer.body,
                now()
            ],
        )
    }

    fn take_control_numbers(
        &mut self,
        partner: &str,
        level: &str,
        count: u32,
    ) -> Result<u32, StoreError> {
        let count = i64::from(count.max(1));
        let first: i64 = self
            .store
            .conn
            .prepare_cached(TAKE_CONTROL_NUMBERS)
            .and_then(|mut s| s.query_row(params![partner, level, count], |r| r.get(0)))
            .map_err(|e| self.store.err(e))?;
        u32::try_from(first).map_err(|_| StoreError::Corrupt(format!("control number {first}")))
    }

    fn retry_now(&mut self, id: i64) -> Result<Option<Retried>, StoreError> {
        self.store
            .conn
            .prepare_cached(
                "UPDATE outbox SET next_try_at = ?2 WHERE id = ?1 AND done_at IS NULL
                 RETURNING file_id, target, name",
            )
            .and_then(|mut st| {
                st.query_row(params![id, now_secs()], |r| {
                    Ok(Retried {
                        file_id: r.get(0)?,
                        target: r.get(1)?,
                        name: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.store.err(e))
    }
}

#[cfg(test)]
mod tests {
    //! What only the SQLite store does: its migrations, and opening one
    //! file from several processes. What every backend does is tested by
    //! `tests/store_backends.rs`, on each.

    use super::*;
    use crate::store::{Extent, Query};

    fn new_file(name: &str, hash: &str) -> NewFile {
        NewFile {
            channel: "drop".into(),
            partner: Some("acme".into()),
            name: name.into(),
            size: 3,
            sha256: hash.into(),
            archive_path: format!("archive/{hash}"),
            sender: None,
        }
    }

    fn take(s: &mut dyn Store, partner: &str, level: &str) -> Result<u32, StoreError> {
        s.atomically(Durability::Synced, |tx| {
            tx.take_control_numbers(partner, level, 1)
        })
    }

    #[test]
    fn the_sequences_sent_to_a_partner_become_one_past_every_number_used()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("state.db");
        {
            let conn = Connection::open(&path)?;
            for sql in &MIGRATIONS[..6] {
                conn.execute_batch(sql)?;
            }
            conn.execute_batch(
                "PRAGMA user_version = 6;
                 INSERT INTO control_numbers (partner, level, next) VALUES
                     ('acme', 'ack-ISA', 5), ('acme', 'ack-GS', 9), ('acme', 'po', 7),
                     ('bolt', 'po', 3);",
            )?;
        }
        let s: &mut dyn Store = &mut SqliteStore::open(&path)?;
        // Acme: 997s used ISA13 1-4 and GS06 1-8, orders 1-6 for both.
        assert_eq!(take(s, "acme", "ISA")?, 7);
        assert_eq!(take(s, "acme", "GS")?, 9);
        assert_eq!(take(s, "bolt", "ISA")?, 3);
        assert_eq!(take(s, "bolt", "GS")?, 3);
        Ok(())
    }

    #[test]
    fn documents_kept_as_json_before_packs_survive_the_migration()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("state.db");
        {
            let conn = Connection::open(&path)?;
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql)?;
            }
            conn.execute_batch(
                "PRAGMA user_version = 4;
                 INSERT INTO files (id, received_at, updated_at, channel, name, size, sha256, archive_path, state)
                     VALUES (1, 'x', 'x', 'drop', 'a.edi', 3, 'h', 'h', 'processed');
                 INSERT INTO documents (file_id, seq, doc_type, reference, json)
                     VALUES (1, 0, 'purchase_order', 'PO-1', '{\"type\":\"purchase_order\"}');
                 INSERT INTO outbox (file_id, target, key, name, payload, created_at, next_try_at, payload_file)
                     VALUES (1, 'relay', 'relay:1', 'a.jsonl', x'', 'x', 0, '/var/spool/000001.jsonl');",
            )?;
        }
        let mut s = SqliteStore::open(&path)?;
        let docs = Query::documents(&mut s, 1)?;
        assert_eq!(docs.len(), 1);
        assert_eq!(
            docs[0].body,
            DocumentBody::Json(r#"{"type":"purchase_order"}"#.into())
        );
        assert_eq!(docs[0].reference.as_deref(), Some("PO-1"));
        let due = Query::due_deliveries(&mut s, &Targets::All, 10)?;
        assert_eq!(
            due[0].new.payload_file,
            Some(Extent {
                file: "/var/spool/000001.jsonl".into(),
                offset: 0,
                length: Extent::TO_END,
            }),
            "an old spooled payload is read whole, from its absolute path"
        );
        Ok(())
    }

    #[test]
    fn processes_opening_the_store_at_once_wait_for_each_other()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("state.db");
        let opened: Vec<Result<FileId, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let path = &path;
                    scope.spawn(move || {
                        let s: &mut dyn Store =
                            &mut SqliteStore::open(path).map_err(|e| e.to_string())?;
                        s.atomically(Durability::Synced, |tx| {
                            tx.record_received(&new_file(&format!("{i}.edi"), "h"))
                        })
                        .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
                .collect()
        });
        for r in &opened {
            assert!(r.is_ok(), "{r:?}");
        }
        assert_eq!(
            Query::recent_files(&mut SqliteStore::open(&path)?, 100)?.len(),
            8
        );
        Ok(())
    }

    #[test]
    fn a_run_of_control_numbers_does_not_wrap_in_the_middle() -> Result<(), StoreError> {
        let mut s = SqliteStore::in_memory()?;
        assert_eq!(take(&mut s, "acme", "ISA")?, 1);
        s.conn
            .execute("UPDATE control_numbers SET next = 999999999 WHERE partner = 'acme' AND level = 'ISA'", [])
            .map_err(|e| s.err(e))?;
        let s: &mut dyn Store = &mut s;
        assert_eq!(
            s.atomically(Durability::Synced, |tx| tx
                .take_control_numbers("acme", "ISA", 2))?,
            1,
            "a run does not wrap in the middle"
        );
        assert_eq!(take(s, "acme", "ISA")?, 3);
        Ok(())
    }

    #[test]
    fn an_unsynced_transaction_leaves_the_connection_synced_again() -> Result<(), StoreError> {
        let mut s = SqliteStore::in_memory()?;
        let synchronous = |s: &SqliteStore| -> Result<i64, StoreError> {
            s.conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .map_err(|e| s.err(e))
        };
        // FULL is 2, NORMAL 1.
        assert_eq!(synchronous(&s)?, 2);
        {
            let tx = Store::transaction(&mut s, Durability::Unsynced)?;
            drop(tx);
        }
        assert_eq!(synchronous(&s)?, 2);
        let tx = Store::transaction(&mut s, Durability::Unsynced)?;
        tx.commit()?;
        assert_eq!(synchronous(&s)?, 2);
        Ok(())
    }
}
