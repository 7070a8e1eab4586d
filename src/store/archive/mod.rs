//! The archive of received files and the document packs: every file's
//! bytes, kept under their SHA-256 before anything else is done with them
//! (so that any file can be processed again), and the canonical documents
//! made from them. Either on local disk, in the data directory (the
//! default, [`local`]), or in an S3-compatible bucket (`[archive] url =
//! "s3://bucket/prefix"`, [`s3`]); [`Archive`] is the one interface the
//! gateway uses, whichever it is.
//!
//! The rules hold for both: a file is kept (and durable: synced to disk,
//! or the bucket's PUT answered) before the store records it; document
//! packs are durable before the commit that points at them
//! ([`Archive::seal_packs`]); keys are the content's hash, so keeping the
//! same bytes again (a retried upload) changes nothing. Nothing kept is
//! ever rewritten or removed by the gateway.
//!
//! In a bucket, the layout is the data directory's: `PREFIX/archive/HASH`
//! for a received file, `PREFIX/documents/HASH.jsonl` for a pack. Packs
//! are written on local disk first (`staging/` of the data directory, as
//! a translation appends to them), uploaded whole under their hash when
//! the batch's translations are done, and removed from there afterwards.

pub mod bridge;
pub mod local;
pub mod s3;

use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{DocumentBody, Extent, NewDocument, StoreError, packs};
pub use local::LocalArchive;
pub use s3::{ArchiveConfig, Credentials, S3Archive};

/// SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// Where the archive keeps files and document packs.
#[derive(Debug)]
pub enum Archive {
    /// In the data directory.
    Local {
        /// `archive/` of the data directory.
        files: LocalArchive,
        /// The data directory (packs are in its `documents/`).
        data_dir: PathBuf,
    },
    /// In an S3-compatible bucket.
    S3(Box<S3Archive>),
}

/// A kept file's bytes on local disk, to be read (more than once) while
/// it is processed.
#[derive(Clone, Debug)]
pub enum LocalCopy {
    /// The archive's own copy, on local disk.
    Kept(PathBuf),
    /// A copy of an object of the bucket in an unnamed temporary file of
    /// the data directory, gone when the last handle is dropped.
    Staged(Arc<std::fs::File>),
}

impl PartialEq for LocalCopy {
    fn eq(&self, other: &LocalCopy) -> bool {
        match (self, other) {
            (LocalCopy::Kept(a), LocalCopy::Kept(b)) => a == b,
            (LocalCopy::Staged(a), LocalCopy::Staged(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl LocalCopy {
    /// All the bytes, from the start (each reader on its own, however many
    /// there are).
    pub fn reader(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        match self {
            LocalCopy::Kept(path) => {
                let file = std::fs::File::open(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                Ok(Box::new(io::BufReader::with_capacity(1 << 16, file)))
            }
            LocalCopy::Staged(file) => Ok(Box::new(io::BufReader::with_capacity(
                1 << 16,
                ReadAt {
                    file: file.as_ref(),
                    at: 0,
                },
            ))),
        }
    }
}

/// Reads a file from `at` on, with positional reads: readers of one file
/// do not share an offset.
struct ReadAt<'f> {
    file: &'f std::fs::File,
    at: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// A file being written into the archive as it is received, hashed on the
/// way (see [`Archive::incoming`]). Dropped without being kept, what was
/// written goes.
#[derive(Debug)]
pub struct Incoming {
    file: io::BufWriter<std::fs::File>,
    /// Its name, when it has one (the local archive's temporary name).
    tmp: local::Temporary,
    hasher: Sha256,
}

impl Write for Incoming {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Incoming {
    fn new(file: std::fs::File, tmp: local::Temporary) -> Incoming {
        Incoming {
            file: io::BufWriter::with_capacity(1 << 16, file),
            tmp,
            hasher: Sha256::new(),
        }
    }

    /// The temporary file's path (none for an unnamed one).
    pub fn temporary_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Everything written: the file, its temporary name and the hash.
    #[allow(clippy::result_large_err)]
    fn finish(
        self,
    ) -> Result<(std::fs::File, local::Temporary, String), (local::Temporary, io::Error)> {
        let Incoming { file, tmp, hasher } = self;
        match file.into_inner() {
            Ok(file) => Ok((file, tmp, hex(&hasher.finalize()))),
            Err(e) => Err((tmp, e.into_error())),
        }
    }
}

/// Bytes that must be UTF-8 (canonical JSON) as text.
fn utf8(file: &str, bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{file}: {e}")))
}

/// The extents of the packed documents at the start of `documents` that
/// follow one another in one pack (each at most a byte, its line's end,
/// after the one before); empty when the first is not packed.
fn packed_run(documents: &[NewDocument]) -> Vec<&Extent> {
    let mut run: Vec<&Extent> = Vec::new();
    for document in documents {
        let DocumentBody::Packed(extent) = &document.body else {
            break;
        };
        if extent.length == Extent::TO_END {
            break;
        }
        if let Some(last) = run.last() {
            let end = last.offset + last.length;
            if extent.file != last.file || extent.offset < end || extent.offset > end + 1 {
                break;
            }
        }
        run.push(extent);
    }
    run
}

/// The document packs of a batch made durable ([`Archive::seal_packs`]):
/// where each document written into them is to be found from now on.
/// Dropped, the local copies of packs uploaded to a bucket are removed.
#[derive(Debug, Default)]
pub struct Sealed {
    /// A pack's file as written (`staging/NAME`) and as stored
    /// (`documents/HASH.jsonl`).
    moved: Vec<(String, String)>,
    /// Local copies to remove once the batch is done with them.
    staged: Vec<PathBuf>,
}

impl Sealed {
    /// Where the documents written at `extent` are stored.
    pub fn stored(&self, extent: &Extent) -> Extent {
        let file = self
            .moved
            .iter()
            .find(|(from, _)| *from == extent.file)
            .map_or_else(|| extent.file.clone(), |(_, to)| to.clone());
        Extent {
            file,
            ..extent.clone()
        }
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        for path in &self.staged {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Archive {
    /// The archive in the data directory (`archive/`, `documents/`).
    pub fn local(data_dir: &Path) -> Archive {
        Archive::Local {
            files: LocalArchive::new(&data_dir.join("archive")),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Where it is, for messages: a folder or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match self {
            Archive::Local { data_dir, .. } => data_dir.display().to_string(),
            Archive::S3(s3) => s3.describe(),
        }
    }

    /// Where the file kept at `relative` is, for people: its path, or its
    /// `s3://` URL.
    pub fn location_of(&self, relative: &str) -> String {
        match self {
            Archive::Local { data_dir, .. } => data_dir
                .join("archive")
                .join(relative)
                .display()
                .to_string(),
            Archive::S3(s3) => s3.url_of(&format!("archive/{relative}")),
        }
    }

    /// Keeps `bytes` (durable once [`Archive::sync`] has run); returns
    /// their hash and their path relative to the archive.
    pub fn keep(&mut self, bytes: &[u8]) -> Result<(String, String), StoreError> {
        match self {
            Archive::Local { files, .. } => files.keep(bytes),
            Archive::S3(s3) => s3.keep(bytes),
        }
    }

    /// A writer for a file too large to hold in memory;
    /// [`Archive::keep_incoming`] keeps what was written.
    pub fn incoming(&mut self) -> Result<Incoming, StoreError> {
        match self {
            Archive::Local { files, .. } => files.incoming(),
            Archive::S3(s3) => s3.incoming(),
        }
    }

    /// Keeps what was written to `incoming` under its hash (in a bucket, by
    /// a multipart upload when it is large): its hash, its path and a copy
    /// on local disk to read it from while it is processed.
    pub fn keep_incoming(
        &mut self,
        incoming: Incoming,
    ) -> Result<(String, String, LocalCopy), StoreError> {
        match self {
            Archive::Local { files, .. } => files.keep_incoming(incoming),
            Archive::S3(s3) => s3.keep_incoming(incoming),
        }
    }

    /// Drops a file whose receiving failed half-way.
    pub fn discard(&mut self, incoming: Incoming) {
        drop(incoming);
    }

    /// Makes what was kept since the last call durable: one sync of the
    /// file system, or every upload answered by the bucket. Nothing kept
    /// is recorded before this returns.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        match self {
            Archive::Local { files, .. } => files.sync(),
            Archive::S3(s3) => s3.sync(),
        }
    }

    /// Removes what processes no longer running left half-written (local
    /// temporary files, local copies of packs not uploaded); returns how
    /// many. Called when the gateway starts to run.
    pub fn remove_temporary_files(&self) -> Result<usize, StoreError> {
        match self {
            Archive::Local { files, .. } => files.remove_temporary_files(),
            Archive::S3(s3) => s3.remove_staged_packs(),
        }
    }

    /// Whether it is a bucket: each read is a request, worth making side
    /// by side with others.
    pub fn is_bucket(&self) -> bool {
        matches!(self, Archive::S3(_))
    }

    /// The bytes kept at `relative`, whole (a file held in memory).
    pub fn read(&self, relative: &str) -> Result<Vec<u8>, StoreError> {
        match self {
            Archive::Local { files, .. } => files.read(relative),
            Archive::S3(s3) => s3.read(relative),
        }
    }

    /// The first `length` bytes of the file kept at `relative` (no more
    /// than its size): from its file, or by a range request to the bucket.
    pub fn read_head(&self, relative: &str, length: u64) -> io::Result<Vec<u8>> {
        self.read_extent(&Extent {
            file: format!("archive/{relative}"),
            offset: 0,
            length,
        })
    }

    /// The bytes kept at `relative` on local disk, for a file too large to
    /// hold in memory: where they are, or (from a bucket) copied a range
    /// at a time into a temporary file.
    pub fn copy_of(&self, relative: &str) -> Result<LocalCopy, StoreError> {
        match self {
            Archive::Local { files, .. } => Ok(files.copy_of(relative)),
            Archive::S3(s3) => s3.copy_of(relative),
        }
    }

    /// The folder of the data directory document packs are written into:
    /// `documents/` where they stay, `staging/` when they go to a bucket.
    pub fn pack_folder(&self) -> &'static str {
        match self {
            Archive::Local { .. } => packs::FOLDER,
            Archive::S3(_) => s3::STAGING,
        }
    }

    /// Makes the document packs `names` (of [`Archive::pack_folder`])
    /// durable before the store's commit that points at them: one sync of
    /// their file system, or each uploaded under its hash. The answer says
    /// where their documents are stored.
    pub fn seal_packs(&self, data_dir: &Path, names: &[String]) -> Result<Sealed, StoreError> {
        match self {
            Archive::Local { .. } => {
                let folder = data_dir.join(packs::FOLDER);
                let mut unsynced = super::disk::Unsynced::default();
                unsynced.add(&folder);
                unsynced.sync().map_err(|e| StoreError::Archive {
                    path: folder.display().to_string(),
                    source: e,
                })?;
                Ok(Sealed::default())
            }
            Archive::S3(s3) => s3.seal_packs(names),
        }
    }

    /// Opens a stored extent (a document, a delivery's documents) for
    /// reading: from its file, or from the bucket a range at a time.
    pub fn open_extent(&self, extent: &Extent) -> io::Result<Box<dyn Read + Send + '_>> {
        match self {
            Archive::Local { data_dir, .. } => Ok(Box::new(extent.open(data_dir)?)),
            Archive::S3(s3) => s3.open_extent(extent),
        }
    }

    /// Reads a stored extent whole.
    pub fn read_extent(&self, extent: &Extent) -> io::Result<Vec<u8>> {
        match self {
            Archive::Local { data_dir, .. } => extent.read(data_dir),
            Archive::S3(s3) => s3.read_extent(extent),
        }
    }

    /// A document's canonical JSON, read from its pack when it is in one.
    pub fn document_json(&self, document: &NewDocument) -> io::Result<String> {
        match &document.body {
            DocumentBody::Json(text) => Ok(text.clone()),
            DocumentBody::Packed(extent) => utf8(&extent.file, self.read_extent(extent)?),
        }
    }

    /// The canonical JSON of `documents` (a file's, in order), each handed
    /// to `each` in turn. Documents that follow one another in a pack
    /// (a file's, as a rule) are read in one go, a piece at a time: one
    /// request for many, rather than one each, when the pack is in a
    /// bucket.
    pub fn documents_json(
        &self,
        documents: &[NewDocument],
        mut each: impl FnMut(String) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut rest = documents;
        while let Some((first, _)) = rest.split_first() {
            let run = packed_run(rest);
            let (Some(start), Some(end)) = (run.first(), run.last()) else {
                each(self.document_json(first)?)?;
                rest = rest.get(1..).unwrap_or_default();
                continue;
            };
            let span = Extent {
                file: start.file.clone(),
                offset: start.offset,
                length: end.offset + end.length - start.offset,
            };
            let mut reader = self.open_extent(&span)?;
            let mut at = start.offset;
            for extent in &run {
                io::copy(&mut (&mut reader).take(extent.offset - at), &mut io::sink())?;
                // Read as it comes (a length is not trusted with memory).
                let mut bytes = Vec::new();
                (&mut reader).take(extent.length).read_to_end(&mut bytes)?;
                if bytes.len() as u64 != extent.length {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "{}: {} bytes at {} expected, {} found",
                            extent.file,
                            extent.length,
                            extent.offset,
                            bytes.len()
                        ),
                    ));
                }
                at = extent.offset + extent.length;
                each(utf8(&extent.file, bytes)?)?;
            }
            rest = rest.get(run.len()..).unwrap_or_default();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(file: &str, offset: u64, length: u64) -> NewDocument {
        NewDocument {
            doc_type: "t".into(),
            reference: None,
            body: DocumentBody::Packed(Extent {
                file: file.into(),
                offset,
                length,
            }),
        }
    }

    #[test]
    fn documents_next_to_each_other_are_read_in_one_go_and_come_out_alike()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("documents"))?;
        std::fs::write(
            dir.path().join("documents/a.jsonl"),
            "{\"a\":1}\n{\"b\":2}\nxx{\"c\":3}\n",
        )?;
        std::fs::write(dir.path().join("documents/b.jsonl"), "{\"d\":4}\n")?;
        let documents = [
            packed("documents/a.jsonl", 0, 7),
            packed("documents/a.jsonl", 8, 7),
            // Not next to the one before: a run of its own.
            packed("documents/a.jsonl", 18, 7),
            NewDocument {
                body: DocumentBody::Json("{\"kept\":0}".into()),
                ..packed("", 0, 0)
            },
            packed("documents/b.jsonl", 0, 7),
        ];
        assert_eq!(packed_run(&documents).len(), 2);
        assert!(packed_run(&documents[3..]).is_empty());
        let archive = Archive::local(dir.path());
        let mut read = Vec::new();
        archive.documents_json(&documents, |json| {
            read.push(json);
            Ok(())
        })?;
        let one_by_one: Vec<String> = documents
            .iter()
            .map(|d| archive.document_json(d))
            .collect::<io::Result<_>>()?;
        assert_eq!(read, one_by_one);
        assert_eq!(
            read,
            [
                "{\"a\":1}",
                "{\"b\":2}",
                "{\"c\":3}",
                "{\"kept\":0}",
                "{\"d\":4}"
            ]
        );
        // Short: an error naming the pack, not a panic.
        let short = [packed("documents/b.jsonl", 0, 70)];
        let e = archive
            .documents_json(&short, |_| Ok(()))
            .expect_err("past the end");
        assert!(e.to_string().contains("documents/b.jsonl"), "{e}");
        Ok(())
    }
}
