//! The durable state of the gateway: every file received (its content
//! hash, channel, partner, state), the documents made from it, the outbox
//! of deliveries still to make (to the relay, to partners), control-number
//! sequences, the audit trail of each file, and the purchase orders sent
//! (with the API's answers by idempotency key), to know a repeat.
//!
//! [`Store`] is the interface; [`sqlite::SqliteStore`] the embedded
//! default (a file in the data directory, WAL mode, migrations); a
//! PostgreSQL backend, for several instances, is to implement the same
//! trait (not written yet).
//! [`archive`] keeps the received bytes themselves, content-addressed;
//! [`packs`] the canonical documents made from them, as JSON lines; the
//! store points at both.
//!
//! The store knows rows, not formats: a document is its type, its number
//! and where its canonical JSON is.

pub mod archive;
pub mod disk;
pub mod owner;
pub mod packs;
pub mod sqlite;

use std::fmt;

pub use archive::Archive;
pub use sqlite::SqliteStore;

/// A file's number in the store.
pub type FileId = i64;

/// What became of a received file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    /// Archived and recorded; not processed yet (or interrupted).
    Received,
    /// Mapped; its documents are stored and queued.
    Processed,
    /// Could not be processed; the reason says why. It can be reprocessed.
    Quarantined,
    /// The same bytes from the same partner were received before.
    Duplicate,
    /// Nothing to process, as its channel says (an empty file where
    /// `empty_files = "ignore"`); archived all the same.
    Ignored,
}

impl FileState {
    /// The state as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Received => "received",
            FileState::Processed => "processed",
            FileState::Quarantined => "quarantined",
            FileState::Duplicate => "duplicate",
            FileState::Ignored => "ignored",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<FileState> {
        Some(match s {
            "received" => FileState::Received,
            "processed" => FileState::Processed,
            "quarantined" => FileState::Quarantined,
            "duplicate" => FileState::Duplicate,
            "ignored" => FileState::Ignored,
            _ => return None,
        })
    }
}

impl fmt::Display for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padded when asked (`{:<11}`): states line up in columns.
        f.pad(self.as_str())
    }
}

/// A file as it arrives, before it has a number.
#[derive(Clone, Debug)]
pub struct NewFile {
    /// The inbound channel it came through.
    pub channel: String,
    /// The partner it belongs to, when known on arrival.
    pub partner: Option<String>,
    /// Its name on the channel.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// Where the archive keeps it (relative to the data directory).
    pub archive_path: String,
    /// Who sent it, when the channel says (the From address of a mail).
    pub sender: Option<String>,
}

/// A received file as the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    /// Its number.
    pub id: FileId,
    /// When it was received (RFC 3339, UTC).
    pub received_at: String,
    /// The channel.
    pub channel: String,
    /// The partner, once known.
    pub partner: Option<String>,
    /// Its name on the channel.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Where the archive keeps it.
    pub archive_path: String,
    /// The format found (x12, csv, xml).
    pub format: Option<String>,
    /// Its state.
    pub state: FileState,
    /// Documents made from it.
    pub documents: u64,
    /// Why it is quarantined, or what was noted.
    pub detail: Option<String>,
    /// The file it duplicates.
    pub duplicate_of: Option<FileId>,
    /// Who sent it, when the channel said.
    pub sender: Option<String>,
}

/// A run of bytes in a file of the data directory: where the store finds a
/// document, or a delivery's payload, without holding the bytes itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extent {
    /// The file, relative to the data directory
    /// (`documents/0000000042-0.jsonl`).
    pub file: String,
    /// Where the bytes start.
    pub offset: u64,
    /// How many there are; [`Extent::TO_END`] for the rest of the file.
    pub length: u64,
}

impl Extent {
    /// A length that reads to the end of the file.
    pub const TO_END: u64 = u64::MAX;

    /// The extent's file under `data_dir`.
    pub fn path(&self, data_dir: &std::path::Path) -> std::path::PathBuf {
        data_dir.join(&self.file)
    }

    /// Opens the extent for reading (a plain file, so that copying it to
    /// another file stays in the kernel).
    pub fn open(
        &self,
        data_dir: &std::path::Path,
    ) -> std::io::Result<std::io::Take<std::fs::File>> {
        use std::io::{Read, Seek};
        let path = self.path(data_dir);
        let with_path =
            |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let mut file = std::fs::File::open(&path).map_err(with_path)?;
        let size = file.metadata().map_err(with_path)?.len();
        if self.length != Extent::TO_END && size < self.offset.saturating_add(self.length) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: {} bytes at {} expected, the file has {size}",
                    path.display(),
                    self.length,
                    self.offset
                ),
            ));
        }
        file.seek(std::io::SeekFrom::Start(self.offset))
            .map_err(with_path)?;
        Ok(file.take(self.length))
    }

    /// Reads the extent whole.
    pub fn read(&self, data_dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut self.open(data_dir)?, &mut bytes)?;
        if self.length != Extent::TO_END && bytes.len() as u64 != self.length {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: {} bytes at {} expected, {} found",
                    self.file,
                    self.length,
                    self.offset,
                    bytes.len()
                ),
            ));
        }
        Ok(bytes)
    }
}

/// Where a document's canonical JSON is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentBody {
    /// In the store itself (documents stored before document packs).
    Json(String),
    /// In a document pack (see [`packs`]).
    Packed(Extent),
}

/// A canonical document made from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDocument {
    /// `purchase_order`, `ship_notice`, ...
    pub doc_type: String,
    /// The document's own number (PO, ASN, invoice number), when it has one.
    pub reference: Option<String>,
    /// The canonical JSON, or where it is.
    pub body: DocumentBody,
}

impl NewDocument {
    /// The document's JSON, read from its pack when it is in one.
    pub fn json(&self, data_dir: &std::path::Path) -> std::io::Result<String> {
        match &self.body {
            DocumentBody::Json(text) => Ok(text.clone()),
            DocumentBody::Packed(extent) => {
                let bytes = extent.read(data_dir)?;
                String::from_utf8(bytes).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", extent.file),
                    )
                })
            }
        }
    }
}

/// Something to deliver: a document to the relay, a file to a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// `relay` or the name of an outbound channel.
    pub target: String,
    /// Unique per delivery: the receiver uses it to drop repeats.
    pub key: String,
    /// The file name to deliver under.
    pub name: String,
    /// The bytes (empty when they are in `payload_file`).
    pub payload: Vec<u8>,
    /// Where the bytes are instead, for large deliveries (the documents of
    /// a file, in a document pack).
    pub payload_file: Option<Extent>,
}

/// A delivery waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Its number.
    pub id: i64,
    /// The file it comes from.
    pub file_id: Option<FileId>,
    /// What it is.
    pub new: NewDelivery,
    /// Attempts made so far.
    pub attempts: u32,
    /// How much of it the receiver has already acknowledged (documents,
    /// for a relay that takes them one by one).
    pub progress: u64,
}

/// Which deliveries a delivery worker makes: every target's, one
/// target's (`relay`, or an outbound channel's name), or those of every
/// target but some (the targets no other worker makes, such as a channel
/// no longer configured, whose deliveries then fail and say so).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Every delivery.
    All,
    /// The deliveries to this target.
    Only(String),
    /// The deliveries to any target but these.
    AllBut(Vec<String>),
}

impl Targets {
    /// Whether a delivery to `target` is one of these.
    pub fn includes(&self, target: &str) -> bool {
        match self {
            Targets::All => true,
            Targets::Only(t) => t == target,
            Targets::AllBut(ts) => !ts.iter().any(|t| t == target),
        }
    }
}

/// What processing a file gave, stored at once.
#[derive(Clone, Debug, Default)]
pub struct Processed {
    /// The partner it turned out to be from.
    pub partner: Option<String>,
    /// The format.
    pub format: String,
    /// How many documents were stored for it (with
    /// [`Store::add_documents`]).
    pub documents: u64,
    /// What to deliver because of it (relay, acknowledgments).
    pub deliveries: Vec<NewDelivery>,
    /// Notes worth keeping (warnings), one per line.
    pub notes: Option<String>,
}

/// A line of a file's audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What happened: `received`, `archived`, `processed`, ...
    pub event: String,
    /// Details.
    pub detail: String,
}

/// A purchase order the gateway queued for a partner, kept to know a
/// repeat of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentOrder {
    /// The partner.
    pub partner: String,
    /// Its PO number.
    pub po_number: String,
    /// `original`, or what a later message about the order does
    /// (`change`, `cancel`, `duplicate`).
    pub purpose: String,
    /// SHA-256 (hex) of its content.
    pub sha256: String,
    /// The file name it was queued under.
    pub name: String,
    /// The channel.
    pub channel: String,
}

/// An answer of the HTTP API, kept under the request's idempotency key so
/// that a repeat of the request gets it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptAnswer {
    /// SHA-256 (hex) of the request it answered.
    pub request_sha256: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its body.
    pub body: String,
}

/// An error of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The error.
        #[source]
        source: rusqlite::Error,
    },
    /// The archive could not be written or read.
    #[error("archive {path}: {source}")]
    Archive {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A stored value is not what it should be.
    #[error("store: {0}")]
    Corrupt(String),
}

/// The durable state of the gateway.
///
/// Each method is atomic on its own. Between [`Store::begin_batch`] and
/// [`Store::commit_batch`], they are all one transaction (one sync to disk
/// for the lot), which is how the daemon handles many small files.
pub trait Store {
    /// Starts a batch: what follows commits together.
    fn begin_batch(&mut self) -> Result<(), StoreError>;

    /// Commits the batch.
    fn commit_batch(&mut self) -> Result<(), StoreError>;

    /// Drops the batch, if one is open.
    fn rollback_batch(&mut self);

    /// Records a file just archived; returns its number. Nothing else is
    /// done with a file before this returns.
    fn record_received(&mut self, file: &NewFile) -> Result<FileId, StoreError>;

    /// The earliest file with these bytes (and this name, when one is
    /// given) from this partner (or channel, when the partner is not known
    /// yet), received before `except`.
    fn find_same(
        &self,
        partner: Option<&str>,
        channel: &str,
        sha256: &str,
        name: Option<&str>,
        except: FileId,
    ) -> Result<Option<FileRecord>, StoreError>;

    /// Marks a file from `partner` as a duplicate of an earlier one.
    fn mark_duplicate(
        &mut self,
        id: FileId,
        of: FileId,
        partner: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Stores documents of a file being processed, numbered from
    /// `first_seq`.
    fn add_documents(
        &mut self,
        id: FileId,
        first_seq: u64,
        documents: &[NewDocument],
    ) -> Result<(), StoreError>;

    /// Forgets the documents stored for a file (before it is processed
    /// again).
    fn clear_documents(&mut self, id: FileId) -> Result<(), StoreError>;

    /// Queues what processing gave and marks the file processed, at once
    /// (or nothing, on error). Its documents are stored before, with
    /// [`Store::add_documents`], in the same batch.
    fn finish(&mut self, id: FileId, processed: &Processed) -> Result<(), StoreError>;

    /// Quarantines a file with the reason a person can act on, queuing
    /// what must go out all the same (an acknowledgment that rejects it).
    fn quarantine(
        &mut self,
        id: FileId,
        partner: Option<&str>,
        format: Option<&str>,
        reason: &str,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError>;

    /// Records whose a file is, as soon as that is known: the next file of
    /// the same batch with the same bytes is then found to be a duplicate.
    fn identify(&mut self, id: FileId, partner: &str) -> Result<(), StoreError>;

    /// Marks a file ignored (nothing in it to process), with why.
    fn ignore(&mut self, id: FileId, partner: Option<&str>, reason: &str)
    -> Result<(), StoreError>;

    /// Forgets the documents of a quarantined or processed file and puts
    /// it back to `received`, to be processed again.
    fn reset_for_reprocess(&mut self, id: FileId) -> Result<(), StoreError>;

    /// One file.
    fn file(&self, id: FileId) -> Result<Option<FileRecord>, StoreError>;

    /// The most recent files, newest first.
    fn recent_files(&self, limit: usize) -> Result<Vec<FileRecord>, StoreError>;

    /// Files left in `received` (a crash in the middle, or a reprocess).
    fn unfinished_files(&self) -> Result<Vec<FileRecord>, StoreError>;

    /// The documents of a file, in order.
    fn documents(&self, id: FileId) -> Result<Vec<NewDocument>, StoreError>;

    /// Whether a delivery with this key was ever queued.
    fn queued(&self, key: &str) -> Result<bool, StoreError>;

    /// Queues deliveries that come from no received file (purchase orders
    /// sent by the gateway). A key already queued is not queued again.
    fn queue(&mut self, deliveries: &[NewDelivery]) -> Result<(), StoreError>;

    /// Deliveries due now to `targets`, oldest first.
    fn due_deliveries(&self, targets: &Targets, limit: usize) -> Result<Vec<Delivery>, StoreError>;

    /// Part of a delivery was made: `progress` units are acknowledged.
    ///
    /// This and the two next record how a delivery went, one at a time: a
    /// backend may commit them (outside a batch) so that they survive a
    /// crash of the process but not a power cut, after which those
    /// deliveries are made again, under the same keys and names.
    fn delivery_progress(&mut self, id: i64, progress: u64) -> Result<(), StoreError>;

    /// A delivery was made.
    fn delivered(&mut self, id: i64) -> Result<(), StoreError>;

    /// A delivery failed; it is tried again after `retry_in_secs`.
    fn delivery_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_in_secs: u64,
    ) -> Result<(), StoreError>;

    /// Deliveries not made yet.
    fn pending_deliveries(&self) -> Result<u64, StoreError>;

    /// How many files are in each state.
    fn count_by_state(&self) -> Result<Vec<(FileState, u64)>, StoreError>;

    /// Deliveries that have failed at least once and are still waiting:
    /// their target, name, attempts and last error.
    fn failing_deliveries(&self) -> Result<Vec<(String, String, u32, String)>, StoreError>;

    /// Appends to a file's audit trail.
    fn audit(&mut self, id: FileId, event: &str, detail: &str) -> Result<(), StoreError>;

    /// A file's audit trail, oldest first.
    fn audit_trail(&self, id: FileId) -> Result<Vec<AuditEntry>, StoreError>;

    /// The order already queued for `partner` that one with `po_number`,
    /// `purpose` and content `sha256` would repeat: for an original, the
    /// original with that PO number, whatever its content (compare the
    /// hashes to tell a repeat from a conflict); for a later message (a
    /// change), the one with the same purpose and content.
    fn sent_order(
        &self,
        partner: &str,
        po_number: &str,
        purpose: &str,
        sha256: &str,
    ) -> Result<Option<SentOrder>, StoreError>;

    /// Records an order queued (in the batch that queues it).
    fn record_order(&mut self, order: &SentOrder) -> Result<(), StoreError>;

    /// The API's answer kept under `key`.
    fn kept_answer(&self, key: &str) -> Result<Option<KeptAnswer>, StoreError>;

    /// Keeps the API's answer under `key`; the first kept under a key
    /// stays.
    fn keep_answer(&mut self, key: &str, answer: &KeptAnswer) -> Result<(), StoreError>;

    /// Takes `count` control numbers from a partner's sequence at `level`
    /// (`ISA`, `GS`): returns the first. Sequences start at 1 and wrap
    /// after 999,999,999.
    fn take_control_numbers(
        &mut self,
        partner: &str,
        level: &str,
        count: u32,
    ) -> Result<u32, StoreError>;
}
