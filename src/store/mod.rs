//! The durable state of the gateway: every file received (its content
//! hash, channel, partner, state), the documents made from it, the outbox
//! of deliveries still to make (to the relay, to partners), control-number
//! sequences, the audit trail of each file, and the purchase orders sent
//! (with the API's answers by idempotency key), to know a repeat.
//!
//! [`Store`] is the interface: queries ([`Query`]) answered on their own,
//! and a [`Transaction`] begun by [`Store::transaction`], in which every
//! write is made and which commits with [`Transaction::commit`] (dropped
//! without it, it rolls back). Two backends implement it:
//! [`sqlite::SqliteStore`], the embedded default (a file in the data
//! directory, WAL mode, migrations), and [`postgres::PgStore`], a
//! PostgreSQL database (`[store] url`), for a store on a server of its
//! own. [`open`] opens the one a [`Location`] names. Their errors are a
//! [`StoreError`] that names no backend's types.
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
pub mod postgres;
pub mod sqlite;

use std::fmt;

pub use archive::Archive;
pub use postgres::PgStore;
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
    /// In the store itself (documents stored before document packs, and
    /// invoices as reconciled).
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

/// A document a relay set aside for a person: the receiver refused its
/// data (NetSuite's `INVALID_VALUE`), or it does not fit what the receiver
/// holds (a PO NetSuite does not have). The documents after it went on;
/// this one waits until a person has fixed the cause and retries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAside {
    /// Its number.
    pub id: i64,
    /// The target (`netsuite`).
    pub target: String,
    /// The delivery it was part of.
    pub delivery_key: String,
    /// The file it comes from, if any.
    pub file_id: Option<FileId>,
    /// Its place in the delivery (from 0).
    pub seq: u64,
    /// Why.
    pub reason: String,
    /// The document (canonical JSON).
    pub document: String,
    /// When it was set aside.
    pub at: String,
    /// How often it was retried.
    pub retries: u32,
}

/// A document to set aside.
#[derive(Clone, Copy, Debug)]
pub struct NewSetAside<'a> {
    /// The target.
    pub target: &'a str,
    /// The delivery it is part of.
    pub delivery_key: &'a str,
    /// The file it comes from, if any.
    pub file_id: Option<FileId>,
    /// Its place in the delivery.
    pub seq: u64,
    /// Why.
    pub reason: &'a str,
    /// The document.
    pub document: &'a str,
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
    /// [`Transaction::add_documents`]).
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
    /// Its canonical JSON, as sent (kept for reconciling the invoices
    /// that bill it; none for orders recorded before it was kept).
    pub document: Option<String>,
    /// The group control number (GS06) it went out in, for an X12 order:
    /// what the partner's 997 names.
    pub group_control: Option<u64>,
}

/// A document of a file linked to a partner's purchase order: the ship
/// notices and invoices received for it, found by partner and PO number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The partner.
    pub partner: String,
    /// The PO number.
    pub po_number: String,
    /// `ship_notice`, `invoice`, `po_ack`, `po_change_ack`, `order_status`,
    /// `functional_ack`.
    pub doc_type: String,
    /// The file the document came from.
    pub file_id: FileId,
    /// The document's number in the file (from 0).
    pub seq: u64,
    /// What of the document the links' readers need without reading the
    /// document packs (for a ship notice, its canonical JSON).
    pub detail: Option<String>,
}

/// An order as sent, for its history (`Query::order_history`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentRow {
    /// `original`, `change`, `replace`, `cancel`, `duplicate`.
    pub purpose: String,
    /// The file name it was queued under.
    pub name: String,
    /// When it was queued (RFC 3339).
    pub at: String,
    /// Its canonical JSON, when kept.
    pub document: Option<String>,
}

/// A document linked to an order, with when its file came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedRow {
    /// `functional_ack`, `po_ack`, `po_change_ack`, `order_status`,
    /// `ship_notice`, `invoice`.
    pub doc_type: String,
    /// Its file.
    pub file_id: FileId,
    /// Its number in the file.
    pub seq: u64,
    /// What the link keeps of it (the JSON, but for invoices, which the
    /// `invoices` table keeps).
    pub detail: Option<String>,
    /// When its file was received (RFC 3339).
    pub at: String,
}

/// What was sent and received under a partner's PO number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderRows {
    /// The orders sent, oldest first.
    pub sent: Vec<SentRow>,
    /// The documents linked, oldest first.
    pub linked: Vec<LinkedRow>,
}

/// Which orders to list (`Query::order_keys`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// This partner's only.
    pub partner: Option<String>,
    /// PO numbers containing this.
    pub po_number: Option<String>,
    /// First seen at or after (RFC 3339).
    pub since: Option<String>,
    /// First seen before (RFC 3339).
    pub until: Option<String>,
    /// At most this many (the newest first).
    pub limit: usize,
    /// After skipping this many.
    pub offset: usize,
}

/// An order known by its partner and PO number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderKey {
    /// The partner.
    pub partner: String,
    /// The PO number.
    pub po_number: String,
    /// When it was first sent, or its first document came (RFC 3339).
    pub first_at: String,
}

/// An exception as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRecord {
    /// Its number.
    pub id: i64,
    /// Its kind (`no-997`, `late`, ...).
    pub kind: String,
    /// What it is about (`order:P:PO`, `file:ID`, `channel:NAME`).
    pub subject: String,
    /// The partner, when there is one.
    pub partner: Option<String>,
    /// The PO number, for an order's.
    pub po_number: Option<String>,
    /// Why, as last found.
    pub reason: String,
    /// When it was opened (RFC 3339).
    pub opened_at: String,
    /// When it was closed, and what closed it.
    pub closed: Option<(String, String)>,
    /// When the webhook was told of it.
    pub notified_at: Option<String>,
    /// When a digest e-mail listed it.
    pub digested_at: Option<String>,
}

/// An exception to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewException<'a> {
    /// Its kind.
    pub kind: &'a str,
    /// What it is about.
    pub subject: &'a str,
    /// The partner.
    pub partner: Option<&'a str>,
    /// The PO number.
    pub po_number: Option<&'a str>,
    /// Why.
    pub reason: &'a str,
}

/// Which exceptions to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExceptionFilter {
    /// Only those still open.
    pub open_only: bool,
    /// This partner's only.
    pub partner: Option<String>,
    /// This order's only.
    pub po_number: Option<String>,
    /// At most this many, newest first (0: all).
    pub limit: usize,
}

/// How an exception was told to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alerted {
    /// Posted to the alert webhook.
    Webhook,
    /// Listed in a digest e-mail.
    Digest,
}

/// How a channel's polls have gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelPoll {
    /// The channel.
    pub channel: String,
    /// The last poll (RFC 3339).
    pub last_poll_at: String,
    /// The last that worked.
    pub last_ok_at: Option<String>,
    /// The last error and when.
    pub last_error: Option<(String, String)>,
    /// Failing since (the first failure after the last success).
    pub failing_since: Option<String>,
}

/// Which way an AS2 message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum As2Direction {
    /// Received from a partner.
    In,
    /// Sent to a partner.
    Out,
}

impl As2Direction {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            As2Direction::In => "in",
            As2Direction::Out => "out",
        }
    }
}

/// An AS2 message received or sent, by its Message-ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct As2Record {
    /// Received or sent.
    pub direction: As2Direction,
    /// Its Message-ID, as in its header (with the angle brackets).
    pub message_id: String,
    /// The AS2 channel (the partnership).
    pub channel: String,
    /// Received: the file its payload was recorded as.
    pub file_id: Option<FileId>,
    /// Sent: the delivery it made.
    pub delivery_key: Option<String>,
    /// The MIC: returned (received) or expected back (sent).
    pub mic: Option<String>,
    /// The MDN: answered (received; answered again to a repeat) or got
    /// back (sent).
    pub mdn: Option<Vec<u8>>,
    /// `processed`, `error` (received: what the MDN said); `sent`,
    /// `processed`, `error` (sent: what its MDN said, when it came).
    pub status: String,
    /// The MDN's disposition or the error, in words.
    pub detail: Option<String>,
    /// When it was received or sent (RFC 3339).
    pub at: String,
}

/// Where a reconciled invoice stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceHold {
    /// Relayed with its file's documents.
    Relayed,
    /// Held for a person: not relayed until released.
    Held,
    /// Released by a person, and queued for the relay.
    Released,
}

impl InvoiceHold {
    /// As stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceHold::Relayed => "relayed",
            InvoiceHold::Held => "held",
            InvoiceHold::Released => "released",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<InvoiceHold> {
        Some(match s {
            "relayed" => InvoiceHold::Relayed,
            "held" => InvoiceHold::Held,
            "released" => InvoiceHold::Released,
            _ => return None,
        })
    }
}

/// An invoice as reconciled when its file was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceRecord {
    /// The file it came in.
    pub file_id: FileId,
    /// Its document number in the file (from 0).
    pub seq: u64,
    /// The partner (the vendor) that sent it.
    pub partner: String,
    /// Its number.
    pub invoice_number: String,
    /// The PO number it bills.
    pub po_number: Option<String>,
    /// `matched`, `variance` or `unmatched`.
    pub status: String,
    /// Held, relayed or released.
    pub hold: InvoiceHold,
    /// The invoice's canonical JSON with its `reconciliation`: what is
    /// relayed.
    pub document: String,
    /// When and by whom it was released.
    pub released: Option<(String, String)>,
}

/// Which invoices to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invoices<'a> {
    /// Those held for a person, oldest first.
    Held,
    /// A partner's invoices with this number.
    Numbered {
        /// The partner.
        partner: &'a str,
        /// The invoice number.
        invoice_number: &'a str,
    },
    /// A partner's invoices for this PO number.
    ForOrder {
        /// The partner.
        partner: &'a str,
        /// The PO number.
        po_number: &'a str,
    },
    /// Those of one file.
    OfFile(FileId),
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

/// Which files to list, newest first (the console's search): every
/// condition given holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSearch {
    /// From this partner.
    pub partner: Option<String>,
    /// In this state.
    pub state: Option<FileState>,
    /// Received on this channel.
    pub channel: Option<String>,
    /// Received at or after this moment (RFC 3339, or a date `2026-12-01`).
    pub received_from: Option<String>,
    /// Received before this moment (RFC 3339, or a date).
    pub received_before: Option<String>,
    /// With a document whose number is this PO number, or linked to it
    /// (`links`, reconciled invoices).
    pub po_number: Option<String>,
    /// Whose name holds this text (whatever the case).
    pub name: Option<String>,
    /// Of this format (`x12`, `csv`, ...).
    pub format: Option<String>,
    /// Numbered below this (the next page of a listing).
    pub before_id: Option<FileId>,
    /// At most this many.
    pub limit: usize,
}

impl FileSearch {
    /// `name` as a `LIKE` pattern (lower case, `\` escaping `%`, `_` and
    /// itself): the same on both backends.
    fn name_pattern(&self) -> Option<String> {
        self.name.as_ref().map(|n| {
            let mut p = String::from("%");
            for c in n.to_lowercase().chars() {
                if matches!(c, '%' | '_' | '\\') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        })
    }
}

/// Which deliveries of the outbox to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outbox {
    /// Those not made yet, the next due first, at most this many.
    Waiting(usize),
    /// Every delivery of a file (made or not), in the order queued, with
    /// the bytes of those kept in the outbox itself (acknowledgments).
    OfFile(FileId),
}

/// A delivery of the outbox, as people look at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its number.
    pub id: i64,
    /// The file it comes from, if any.
    pub file_id: Option<FileId>,
    /// `relay` or an outbound channel.
    pub target: String,
    /// Its idempotency key (`ack:FILE` for a file's acknowledgments).
    pub key: String,
    /// The name it is delivered under.
    pub name: String,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it is tried next (seconds since 1970, UTC).
    pub next_try_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was made.
    pub done_at: Option<String>,
    /// Its bytes, when the outbox holds them and they were asked for
    /// ([`Outbox::OfFile`]); empty otherwise.
    pub payload: Vec<u8>,
}

/// A delivery a person asked to be tried now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retried {
    /// The file it comes from, if any.
    pub file_id: Option<FileId>,
    /// Its target.
    pub target: String,
    /// Its name.
    pub name: String,
}

/// What arrived on a channel, for the console's partners page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelActivity {
    /// The channel.
    pub channel: String,
    /// Files received on it.
    pub files: u64,
    /// The last file received.
    pub last_file: FileId,
    /// When it was received.
    pub last_received_at: String,
    /// What became of it.
    pub last_state: FileState,
    /// When the last file processed was received.
    pub last_processed_at: Option<String>,
}

/// The largest delivery whose bytes [`Outbox::OfFile`] gives (an
/// acknowledgment is far smaller).
const MAX_SHOWN_PAYLOAD: usize = 1 << 20;

/// What arrived on each channel: the same statement on both backends.
const CHANNEL_ACTIVITY: &str = "SELECT f.channel, c.n, f.id, f.received_at, f.state, c.processed
     FROM files f JOIN (
         SELECT channel, COUNT(*) AS n, MAX(id) AS last,
                MAX(CASE WHEN state = 'processed' THEN received_at END) AS processed
         FROM files GROUP BY channel
     ) c ON f.id = c.last
     ORDER BY f.channel";

/// A row of [`CHANNEL_ACTIVITY`].
fn channel_activity_of(
    (channel, files, last_file, last_received_at, state, last_processed_at): (
        String,
        i64,
        FileId,
        String,
        String,
        Option<String>,
    ),
) -> Result<ChannelActivity, StoreError> {
    Ok(ChannelActivity {
        last_state: FileState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("file {last_file}: state {state:?}")))?,
        channel,
        files: files.max(0) as u64,
        last_file,
        last_received_at,
        last_processed_at,
    })
}

/// An error of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed, or cannot be reached.
    #[error("store {place}: {message}")]
    Database {
        /// The database: its file, or its URL (without a password).
        place: String,
        /// What kind of failure it is.
        kind: ErrorKind,
        /// What the database said.
        message: String,
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

/// What kind of failure of the database a [`StoreError::Database`] is,
/// whichever backend said it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Another writer held a lock too long, or a transaction lost a race
    /// with another: trying again later works.
    Busy,
    /// The database cannot be reached or opened (a server down or
    /// restarting, a login refused, a file that cannot be opened): trying
    /// again once it is back works.
    Unavailable,
    /// A row conflicts with one stored before (a unique key).
    Conflict,
    /// The database is damaged, or is not one of ours.
    Corrupt,
    /// No room left for it (a full disk).
    Full,
    /// Anything else.
    Other,
}

impl StoreError {
    /// The kind of a failure of the database, if it is one.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            StoreError::Database { kind, .. } => Some(*kind),
            StoreError::Archive { .. } | StoreError::Corrupt(_) => None,
        }
    }
}

/// Where the store is.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite database file (the embedded default: `data_dir/state.db`).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database.
    Postgres {
        /// `postgres://user@host:port/database` (key=value connection
        /// strings are taken too).
        url: String,
        /// The password, when the server asks for one.
        password: Option<String>,
    },
}

impl fmt::Debug for Location {
    // The password is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Location::Postgres { url, password } => f
                .debug_struct("Postgres")
                .field("url", url)
                .field("password", &password.as_ref().map(|_| "<hidden>"))
                .finish(),
        }
    }
}

/// Opens the store at `location` (creating it if needed) and brings its
/// schema up to date.
pub fn open(location: &Location) -> Result<Box<dyn Store>, StoreError> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(SqliteStore::open(path)?),
        Location::Postgres { url, password } => Box::new(PgStore::open(url, password.as_deref())?),
    })
}

/// How surely a transaction's commit is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// On disk when the commit returns: it survives a power cut.
    Synced,
    /// Kept when the commit returns, but perhaps not on disk yet: it
    /// survives a crash of the gateway, not a power cut (nor, on
    /// PostgreSQL, a crash of the server in the next moment). For how
    /// each delivery went, recorded one at a time as soon as it is known,
    /// where a sync each time would cost more than the delivery; a record
    /// lost makes the delivery again, under the same idempotency key and
    /// file name, which receivers and channels take as a repeat.
    Unsynced,
}

/// The store's queries. On a [`Store`], each is answered on its own; in
/// a [`Transaction`], what the transaction wrote so far is seen.
pub trait Query {
    /// The earliest file with these bytes (its own, or its content's for a
    /// file opened with OpenPGP: `sha256` is looked for in both), and this
    /// name, when one is given, from this partner (or channel, when the partner is not known
    /// yet), received before `except`; a duplicate or ignored file is none.
    fn find_same(
        &mut self,
        partner: Option<&str>,
        channel: &str,
        sha256: &str,
        name: Option<&str>,
        except: FileId,
    ) -> Result<Option<FileRecord>, StoreError>;

    /// One file.
    fn file(&mut self, id: FileId) -> Result<Option<FileRecord>, StoreError>;

    /// The most recent files, newest first.
    fn recent_files(&mut self, limit: usize) -> Result<Vec<FileRecord>, StoreError>;

    /// Files left in `received` (a crash in the middle, or a reprocess).
    fn unfinished_files(&mut self) -> Result<Vec<FileRecord>, StoreError>;

    /// The documents of a file, in order.
    fn documents(&mut self, id: FileId) -> Result<Vec<NewDocument>, StoreError>;

    /// Whether a delivery with this key was ever queued.
    fn queued(&mut self, key: &str) -> Result<bool, StoreError>;

    /// Deliveries due now to `targets`, oldest first.
    fn due_deliveries(
        &mut self,
        targets: &Targets,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Deliveries not made yet.
    fn pending_deliveries(&mut self) -> Result<u64, StoreError>;

    /// How many files are in each state, in the order of the states' names.
    fn count_by_state(&mut self) -> Result<Vec<(FileState, u64)>, StoreError>;

    /// Deliveries that have failed at least once and are still waiting:
    /// their target, name, attempts and last error.
    fn failing_deliveries(&mut self) -> Result<Vec<(String, String, u32, String)>, StoreError>;

    /// A file's audit trail, oldest first.
    fn audit_trail(&mut self, id: FileId) -> Result<Vec<AuditEntry>, StoreError>;

    /// The order already queued for `partner` that one with `po_number`,
    /// `purpose` and content `sha256` would repeat: for an original, the
    /// original with that PO number, whatever its content (compare the
    /// hashes to tell a repeat from a conflict); for a later message (a
    /// change), the one with the same purpose and content.
    fn sent_order(
        &mut self,
        partner: &str,
        po_number: &str,
        purpose: &str,
        sha256: &str,
    ) -> Result<Option<SentOrder>, StoreError>;

    /// The API's answer kept under `key`.
    fn kept_answer(&mut self, key: &str) -> Result<Option<KeptAnswer>, StoreError>;

    /// The last order queued for `partner` under `po_number` whose
    /// document was kept (the original, or its last change or
    /// cancellation).
    fn last_order(
        &mut self,
        partner: &str,
        po_number: &str,
    ) -> Result<Option<SentOrder>, StoreError>;

    /// The documents of type `doc_type` linked to a partner's PO number,
    /// in the order received.
    fn links(
        &mut self,
        partner: &str,
        po_number: &str,
        doc_type: &str,
    ) -> Result<Vec<Link>, StoreError>;

    /// The reconciled invoices `which` says, in the order received.
    fn invoices(&mut self, which: Invoices<'_>) -> Result<Vec<InvoiceRecord>, StoreError>;

    /// The documents set aside and not retried yet, oldest first.
    fn set_aside(&mut self) -> Result<Vec<SetAside>, StoreError>;

    /// Where a poll of a remote system stopped last (`netsuite:orders`).
    fn cursor(&mut self, name: &str) -> Result<Option<String>, StoreError>;

    /// What was sent and received under a partner's PO number.
    fn order_history(&mut self, partner: &str, po_number: &str) -> Result<OrderRows, StoreError>;

    /// The orders (sent, or with documents linked) `filter` says, newest
    /// first.
    fn order_keys(&mut self, filter: &OrderFilter) -> Result<Vec<OrderKey>, StoreError>;

    /// The PO numbers of the orders sent to `partner` in the group with
    /// this control number (GS06).
    fn orders_in_group(
        &mut self,
        partner: &str,
        group_control: u64,
    ) -> Result<Vec<String>, StoreError>;

    /// The exceptions `filter` says, newest first.
    fn exceptions(&mut self, filter: &ExceptionFilter) -> Result<Vec<ExceptionRecord>, StoreError>;

    /// How each channel's polls have gone.
    fn channel_polls(&mut self) -> Result<Vec<ChannelPoll>, StoreError>;

    /// The AS2 message with this Message-ID that went `direction`.
    fn as2_message(
        &mut self,
        direction: As2Direction,
        message_id: &str,
    ) -> Result<Option<As2Record>, StoreError>;

    /// When the last file with a document of `doc_type` came from
    /// `partner` (RFC 3339).
    fn last_received(
        &mut self,
        partner: &str,
        doc_type: &str,
    ) -> Result<Option<String>, StoreError>;
    /// The files `search` asks for, newest first.
    fn search_files(&mut self, search: &FileSearch) -> Result<Vec<FileRecord>, StoreError>;

    /// Deliveries of the outbox, as `which` says.
    fn outbox(&mut self, which: Outbox) -> Result<Vec<OutboxEntry>, StoreError>;

    /// What arrived on each channel files came on, by channel name.
    fn channel_activity(&mut self) -> Result<Vec<ChannelActivity>, StoreError>;
}

/// A transaction of the store: every write is made in one, and all of it
/// is kept at [`Transaction::commit`], or none of it. Dropped without a
/// commit (an error on the way, a panic), it rolls back.
///
/// A transaction holds the database's write lock on SQLite, and row locks
/// on PostgreSQL: it is kept short, and never held across the network.
/// After a write fails, the transaction is dropped, not used further: on
/// PostgreSQL nothing more can be done in it (a failed write of SQLite
/// leaves nothing of itself, but the backends must not be told apart). A
/// connection lost in the middle (a server restarted) fails every call of
/// the transaction with [`ErrorKind::Unavailable`]; the store connects
/// again once it is dropped.
pub trait Transaction: Query {
    /// Commits everything the transaction wrote.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;

    /// Records a file just archived; returns its number. Nothing else is
    /// done with a file before this is committed.
    fn record_received(&mut self, file: &NewFile) -> Result<FileId, StoreError>;

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
    /// again), with their links and reconciled invoices.
    fn clear_documents(&mut self, id: FileId) -> Result<(), StoreError>;

    /// Queues what processing gave and marks the file processed. Its
    /// documents are stored before, with [`Transaction::add_documents`],
    /// in the same transaction.
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
    /// the same transaction with the same bytes is then found to be a
    /// duplicate.
    fn identify(&mut self, id: FileId, partner: &str) -> Result<(), StoreError>;

    /// Records the SHA-256 of a file's content when it is not the bytes
    /// received (a file opened with OpenPGP), or forgets it (`None`):
    /// [`Query::find_same`] finds a file by either hash.
    fn set_content_sha256(&mut self, id: FileId, sha256: Option<&str>) -> Result<(), StoreError>;

    /// Marks a file ignored (nothing in it to process), with why.
    fn ignore(&mut self, id: FileId, partner: Option<&str>, reason: &str)
    -> Result<(), StoreError>;

    /// Forgets the documents of a quarantined or processed file and puts
    /// it back to `received`, to be processed again.
    fn reset_for_reprocess(&mut self, id: FileId) -> Result<(), StoreError>;

    /// Queues deliveries that come from no received file (purchase orders
    /// sent by the gateway). A key already queued is not queued again.
    fn queue(&mut self, deliveries: &[NewDelivery]) -> Result<(), StoreError>;

    /// Part of a delivery was made: `progress` units are acknowledged.
    fn delivery_progress(&mut self, id: i64, progress: u64) -> Result<(), StoreError>;

    /// A delivery was made.
    fn delivered(&mut self, id: i64) -> Result<(), StoreError>;

    /// A delivery failed; it is tried again after `retry_in_secs`
    /// (nothing when it was made meanwhile: an asynchronous receipt that
    /// came first).
    fn delivery_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_in_secs: u64,
    ) -> Result<(), StoreError>;

    /// Appends to a file's audit trail.
    fn audit(&mut self, id: FileId, event: &str, detail: &str) -> Result<(), StoreError>;

    /// Records an order queued (in the transaction that queues it). A
    /// second original under the same partner and PO number is refused
    /// ([`ErrorKind::Conflict`]).
    fn record_order(&mut self, order: &SentOrder) -> Result<(), StoreError>;

    /// Links documents of a file to purchase orders.
    fn add_links(&mut self, links: &[Link]) -> Result<(), StoreError>;

    /// Stores a reconciled invoice (replacing what was stored for the
    /// same file and document); the file's document becomes the
    /// invoice's JSON as reconciled, what is relayed.
    fn record_invoice(&mut self, invoice: &InvoiceRecord) -> Result<(), StoreError>;

    /// A person releases a held invoice: true when it was held (and is
    /// now released), false when it was not.
    fn release_invoice(&mut self, file: FileId, seq: u64, by: &str) -> Result<bool, StoreError>;

    /// Sets a document of a delivery aside for a person (once: the same
    /// document of the same delivery again is a no-op).
    fn put_aside(&mut self, doc: &NewSetAside<'_>) -> Result<(), StoreError>;

    /// Takes set-aside document `id` to retry it: marked retried, and
    /// returned; `None` when there is none waiting with that number.
    fn take_set_aside(&mut self, id: i64) -> Result<Option<SetAside>, StoreError>;

    /// Keeps where a poll stopped.
    fn set_cursor(&mut self, name: &str, value: &str) -> Result<(), StoreError>;

    /// Opens an exception; returns its number. One is open per kind and
    /// subject: opening another is a `Conflict`.
    fn open_exception(&mut self, e: &NewException<'_>) -> Result<i64, StoreError>;

    /// Says why an open exception is, as found now.
    fn note_exception(&mut self, id: i64, reason: &str) -> Result<(), StoreError>;

    /// Closes an exception, saying what resolved it.
    fn close_exception(&mut self, id: i64, resolution: &str) -> Result<(), StoreError>;

    /// Records that people were told of an exception.
    fn exception_alerted(&mut self, id: i64, how: Alerted) -> Result<(), StoreError>;

    /// Records a poll of a channel: fine (`None`) or its error.
    fn record_poll(&mut self, channel: &str, error: Option<&str>) -> Result<(), StoreError>;

    /// Records an AS2 message (a message already recorded with its
    /// direction and Message-ID is a `Conflict`).
    fn record_as2(&mut self, m: &As2Record) -> Result<(), StoreError>;

    /// Records an AS2 message sent (or sent again: its status is `sent`
    /// again, what its last MDN said kept until the next one comes).
    fn as2_sent(&mut self, m: &As2Record) -> Result<(), StoreError>;

    /// The delivery with `key` was made: the partner's asynchronous
    /// receipt came. Nothing when it was made before.
    fn delivered_by_key(&mut self, key: &str) -> Result<(), StoreError>;

    /// Notes on the delivery with `key`, not made yet, what happened to
    /// it (a negative asynchronous receipt); when it is tried again is
    /// unchanged.
    fn delivery_noted_by_key(&mut self, key: &str, note: &str) -> Result<(), StoreError>;

    /// Records what the MDN of a message sent said.
    fn as2_mdn(
        &mut self,
        message_id: &str,
        status: &str,
        detail: &str,
        mdn: &[u8],
    ) -> Result<(), StoreError>;

    /// Keeps the API's answer under `key`; the first kept under a key
    /// stays.
    fn keep_answer(&mut self, key: &str, answer: &KeptAnswer) -> Result<(), StoreError>;

    /// Whether every file of `ids` is still `received` and claimed by
    /// `holder` ([`Store::claim_files`]); the files are locked until the
    /// transaction ends, so that no other instance claims them meanwhile.
    /// A transaction that writes what processing a claimed file gave
    /// asks this first, and writes nothing when the claim was lost (its
    /// holder was taken for dead and another took the file up).
    fn holds_claims(&mut self, ids: &[FileId], holder: &str) -> Result<bool, StoreError>;

    /// Takes `count` control numbers from a partner's sequence at `level`
    /// (`ISA`, `GS`): returns the first. Sequences start at 1 and wrap
    /// after 999,999,999; a run never wraps in the middle. Numbers taken
    /// in a transaction that rolls back are taken again by the next one:
    /// none is skipped, none is given twice, whichever connection or
    /// process takes them.
    fn take_control_numbers(
        &mut self,
        partner: &str,
        level: &str,
        count: u32,
    ) -> Result<u32, StoreError>;

    /// A person asks for delivery `id` to be tried now (its next attempt
    /// set to now): which it is, or `None` when it is made already or
    /// there is none.
    fn retry_now(&mut self, id: i64) -> Result<Option<Retried>, StoreError>;
}

/// The durable state of the gateway.
pub trait Store: Query + Send {
    /// Which store it is, for people: `SQLite <file>` or `PostgreSQL
    /// postgres://user@host:port/database` (never a password).
    fn describe(&self) -> String;

    /// Begins a transaction (waiting, on SQLite, for another process's to
    /// end): what is written in it is kept at its commit, with
    /// `durability`, or dropped with it.
    fn transaction(
        &mut self,
        durability: Durability,
    ) -> Result<Box<dyn Transaction + '_>, StoreError>;

    /// Takes the lease `name` for `holder`, or keeps it, for `secs`
    /// seconds from now by the store's own clock (the database server's,
    /// so that instances on machines whose clocks differ agree): true when
    /// `holder` holds it afterwards. A lease whose holder did not renew it
    /// in time is taken over. One statement, committed at once.
    fn lease(&mut self, name: &str, holder: &str, secs: u64) -> Result<bool, StoreError>;

    /// Gives up the lease `name`, when `holder` holds it.
    fn release(&mut self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Says that instance `id` (`about` it: host, process, version) is
    /// alive, for `secs` seconds from now by the store's clock.
    fn heartbeat(&mut self, id: &str, about: &str, secs: u64) -> Result<(), StoreError>;

    /// Instance `id` stops: it is no longer listed, and its leases are
    /// free at once.
    fn leave(&mut self, id: &str) -> Result<(), StoreError>;

    /// The instances alive (their heartbeat not expired), with the leases
    /// each holds, oldest first.
    fn instances(&mut self) -> Result<Vec<Instance>, StoreError>;

    /// Claims up to `limit` files and `limit_bytes` bytes of them (at
    /// least one file) left `received` for `holder` (an
    /// instance that says it is alive with [`Store::heartbeat`]), oldest
    /// first: files no one claimed, claimed by an instance whose heartbeat
    /// expired, or by `holder` already. A file waits while an earlier file
    /// with the same bytes is `received` and not claimed by `holder`, so
    /// that which of two copies is the duplicate does not depend on which
    /// instance is quicker. Several instances claim at once without
    /// waiting for one another (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    /// One statement, committed at once.
    fn claim_files(
        &mut self,
        holder: &str,
        limit: usize,
        limit_bytes: u64,
    ) -> Result<Vec<FileRecord>, StoreError>;

    /// How many files of `channel` are `received` and not taken up yet.
    fn waiting_files(&mut self, channel: &str) -> Result<u64, StoreError>;
}

/// A gateway instance working on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its id (host, process and start).
    pub id: String,
    /// What it is, for people.
    pub about: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// The leases it holds: `channel:NAME`, `deliver:TARGET`.
    pub leases: Vec<String>,
    /// The files it has claimed and is processing (or about to).
    pub claimed: u64,
}

impl dyn Store + '_ {
    /// Runs `write` in a transaction of its own, committed when it
    /// succeeds (rolled back otherwise).
    pub fn atomically<T>(
        &mut self,
        durability: Durability,
        write: impl FnOnce(&mut dyn Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.transaction(durability)?;
        let value = write(tx.as_mut())?;
        tx.commit()?;
        Ok(value)
    }
}

/// A LIKE pattern matching text that contains `needle` (`%`, `_` and
/// the escape character taken literally).
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An extent's columns as both backends store it: the file, the offset,
/// and the length (integers are signed; [`Extent::TO_END`] is NULL).
fn extent_columns(e: Option<&Extent>) -> (Option<&str>, Option<i64>, Option<i64>) {
    match e {
        Some(e) => (
            Some(e.file.as_str()),
            Some(e.offset.min(i64::MAX as u64) as i64),
            (e.length != Extent::TO_END).then(|| e.length.min(i64::MAX as u64) as i64),
        ),
        None => (None, None, None),
    }
}

/// An extent from its stored columns.
fn extent_of(file: Option<String>, offset: Option<i64>, length: Option<i64>) -> Option<Extent> {
    file.map(|file| Extent {
        file,
        offset: offset.unwrap_or(0).max(0) as u64,
        length: length.map_or(Extent::TO_END, |l| l.max(0) as u64),
    })
}

/// The columns of `invoices` a query reads, in the order
/// [`invoice_of`] takes them.
const INVOICE_COLUMNS: &str = "file_id, seq, partner, invoice_number, po_number, status, hold, document, released_at, released_by";

/// An invoice from its columns (as [`INVOICE_COLUMNS`] lists them).
#[allow(clippy::too_many_arguments)]
fn invoice_of(
    file_id: FileId,
    seq: i64,
    partner: String,
    invoice_number: String,
    po_number: Option<String>,
    status: String,
    hold: String,
    document: String,
    released: (Option<String>, Option<String>),
) -> Result<InvoiceRecord, StoreError> {
    Ok(InvoiceRecord {
        file_id,
        seq: seq.max(0) as u64,
        partner,
        invoice_number,
        po_number,
        status,
        hold: InvoiceHold::parse(&hold).ok_or_else(|| {
            StoreError::Corrupt(format!("invoice {file_id}:{seq}: hold {hold:?}"))
        })?,
        document,
        released: match released {
            (Some(at), Some(by)) => Some((at, by)),
            _ => None,
        },
    })
}

/// Instances from rows of (id, about, started, a lease or none), in order:
/// one rule for both backends.
fn instances_of(rows: Vec<(String, String, String, Option<String>, i64)>) -> Vec<Instance> {
    let mut out: Vec<Instance> = Vec::new();
    for (id, about, started_at, lease, claimed) in rows {
        if out.last().is_none_or(|i| i.id != id) {
            out.push(Instance {
                id,
                about,
                started_at,
                leases: Vec::new(),
                claimed: claimed.max(0) as u64,
            });
        }
        if let (Some(last), Some(lease)) = (out.last_mut(), lease) {
            last.leases.push(lease);
        }
    }
    out
}

/// The audit trail's line for a file received: one wording, whichever the
/// backend.
fn received_detail(file: &NewFile) -> String {
    format!(
        "{} bytes on {} as {}, archived at {}",
        file.size, file.channel, file.name, file.archive_path
    )
}

/// Why a file is a duplicate, as its detail says.
fn duplicate_detail(of: FileId) -> String {
    format!("the same bytes as file {of}: not processed again")
}

/// The audit trail's line for a file processed.
fn processed_detail(processed: &Processed) -> String {
    format!(
        "{} as {}: {} document(s), {} delivery(ies) queued",
        processed.partner.as_deref().unwrap_or("no partner"),
        processed.format,
        processed.documents,
        processed.deliveries.len()
    )
}

/// Takes `$3` control numbers from partner `$1`'s sequence at level `$2`
/// and gives the first: one statement, the same on every backend (SQLite
/// numbers `$N` parameters in the order they first appear), so that the
/// rule is written once. Sequences start at 1 and wrap after 999,999,999
/// (ISA13 and GS06 have nine digits); a run never wraps in the middle. The
/// row stays locked until the transaction ends: no other connection takes
/// a number in between, and a rollback gives the numbers back.
const TAKE_CONTROL_NUMBERS: &str = "
INSERT INTO control_numbers (partner, level, next) VALUES ($1, $2, 1 + CAST($3 AS BIGINT))
ON CONFLICT (partner, level) DO UPDATE SET next = CASE
    WHEN control_numbers.next + CAST($3 AS BIGINT) - 1 > 999999999 THEN 1 + CAST($3 AS BIGINT)
    ELSE control_numbers.next + CAST($3 AS BIGINT)
END
RETURNING next - CAST($3 AS BIGINT)";

/// Implements [`Query`] for a backend's store or transaction type by
/// asking the value `$via` gives (`$this` is `self`; a `Result`), whose
/// inherent methods have the same names and arguments: one list of the
/// queries, whichever the caller is.
macro_rules! query_through {
    ($ty:ty, |$this:ident| $via:expr) => {
        impl $crate::store::Query for $ty {
            fn find_same(
                &mut self,
                partner: Option<&str>,
                channel: &str,
                sha256: &str,
                name: Option<&str>,
                except: $crate::store::FileId,
            ) -> Result<Option<$crate::store::FileRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.find_same(partner, channel, sha256, name, except)
            }
            fn file(
                &mut self,
                id: $crate::store::FileId,
            ) -> Result<Option<$crate::store::FileRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.file(id)
            }
            fn recent_files(
                &mut self,
                limit: usize,
            ) -> Result<Vec<$crate::store::FileRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.recent_files(limit)
            }
            fn unfinished_files(
                &mut self,
            ) -> Result<Vec<$crate::store::FileRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.unfinished_files()
            }
            fn documents(
                &mut self,
                id: $crate::store::FileId,
            ) -> Result<Vec<$crate::store::NewDocument>, $crate::store::StoreError> {
                let $this = self;
                $via?.documents(id)
            }
            fn queued(&mut self, key: &str) -> Result<bool, $crate::store::StoreError> {
                let $this = self;
                $via?.queued(key)
            }
            fn due_deliveries(
                &mut self,
                targets: &$crate::store::Targets,
                limit: usize,
            ) -> Result<Vec<$crate::store::Delivery>, $crate::store::StoreError> {
                let $this = self;
                $via?.due_deliveries(targets, limit)
            }
            fn pending_deliveries(&mut self) -> Result<u64, $crate::store::StoreError> {
                let $this = self;
                $via?.pending_deliveries()
            }
            fn count_by_state(
                &mut self,
            ) -> Result<Vec<($crate::store::FileState, u64)>, $crate::store::StoreError> {
                let $this = self;
                $via?.count_by_state()
            }
            fn failing_deliveries(
                &mut self,
            ) -> Result<Vec<(String, String, u32, String)>, $crate::store::StoreError> {
                let $this = self;
                $via?.failing_deliveries()
            }
            fn audit_trail(
                &mut self,
                id: $crate::store::FileId,
            ) -> Result<Vec<$crate::store::AuditEntry>, $crate::store::StoreError> {
                let $this = self;
                $via?.audit_trail(id)
            }
            fn sent_order(
                &mut self,
                partner: &str,
                po_number: &str,
                purpose: &str,
                sha256: &str,
            ) -> Result<Option<$crate::store::SentOrder>, $crate::store::StoreError> {
                let $this = self;
                $via?.sent_order(partner, po_number, purpose, sha256)
            }
            fn kept_answer(
                &mut self,
                key: &str,
            ) -> Result<Option<$crate::store::KeptAnswer>, $crate::store::StoreError> {
                let $this = self;
                $via?.kept_answer(key)
            }
            fn last_order(
                &mut self,
                partner: &str,
                po_number: &str,
            ) -> Result<Option<$crate::store::SentOrder>, $crate::store::StoreError> {
                let $this = self;
                $via?.last_order(partner, po_number)
            }
            fn links(
                &mut self,
                partner: &str,
                po_number: &str,
                doc_type: &str,
            ) -> Result<Vec<$crate::store::Link>, $crate::store::StoreError> {
                let $this = self;
                $via?.links(partner, po_number, doc_type)
            }
            fn invoices(
                &mut self,
                which: $crate::store::Invoices<'_>,
            ) -> Result<Vec<$crate::store::InvoiceRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.invoices(which)
            }
            fn set_aside(
                &mut self,
            ) -> Result<Vec<$crate::store::SetAside>, $crate::store::StoreError> {
                let $this = self;
                $via?.set_aside()
            }
            fn cursor(&mut self, name: &str) -> Result<Option<String>, $crate::store::StoreError> {
                let $this = self;
                $via?.cursor(name)
            }
            fn order_history(
                &mut self,
                partner: &str,
                po_number: &str,
            ) -> Result<$crate::store::OrderRows, $crate::store::StoreError> {
                let $this = self;
                $via?.order_history(partner, po_number)
            }
            fn order_keys(
                &mut self,
                filter: &$crate::store::OrderFilter,
            ) -> Result<Vec<$crate::store::OrderKey>, $crate::store::StoreError> {
                let $this = self;
                $via?.order_keys(filter)
            }
            fn orders_in_group(
                &mut self,
                partner: &str,
                group_control: u64,
            ) -> Result<Vec<String>, $crate::store::StoreError> {
                let $this = self;
                $via?.orders_in_group(partner, group_control)
            }
            fn exceptions(
                &mut self,
                filter: &$crate::store::ExceptionFilter,
            ) -> Result<Vec<$crate::store::ExceptionRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.exceptions(filter)
            }
            fn channel_polls(
                &mut self,
            ) -> Result<Vec<$crate::store::ChannelPoll>, $crate::store::StoreError> {
                let $this = self;
                $via?.channel_polls()
            }
            fn as2_message(
                &mut self,
                direction: $crate::store::As2Direction,
                message_id: &str,
            ) -> Result<Option<$crate::store::As2Record>, $crate::store::StoreError> {
                let $this = self;
                $via?.as2_message(direction, message_id)
            }
            fn last_received(
                &mut self,
                partner: &str,
                doc_type: &str,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                let $this = self;
                $via?.last_received(partner, doc_type)
            }
            fn search_files(
                &mut self,
                search: &$crate::store::FileSearch,
            ) -> Result<Vec<$crate::store::FileRecord>, $crate::store::StoreError> {
                let $this = self;
                $via?.search_files(search)
            }
            fn outbox(
                &mut self,
                which: $crate::store::Outbox,
            ) -> Result<Vec<$crate::store::OutboxEntry>, $crate::store::StoreError> {
                let $this = self;
                $via?.outbox(which)
            }
            fn channel_activity(
                &mut self,
            ) -> Result<Vec<$crate::store::ChannelActivity>, $crate::store::StoreError> {
                let $this = self;
                $via?.channel_activity()
            }
        }
    };
}
use query_through;
