//! Output held back until a verdict.
//!
//! A streamed X12 document (an 846's items) is mapped item by item as its
//! segments arrive, but the set's verdict comes only with its SE: a set the
//! validation rejects must not be written at all. [`Held`] keeps such a
//! document's bytes until then, in memory up to a bound and past it in an
//! unnamed temporary file (removed by the system when it is closed, even
//! after a crash), so that a 1 GB 846 is still mapped in bounded memory. On
//! an accepted verdict the bytes are released to the output in order; on a
//! rejected one they are dropped. The file goes in the folder given (the
//! gateway's data folder), else in the system's temporary folder (`TMPDIR`),
//! which may be memory (a tmpfs) on some systems.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Bytes held in memory before they go to a temporary file.
pub const IN_MEMORY: usize = 4 << 20;

/// Once held in a file, bytes go to it this many at a time (and are read
/// back as many at a time): a held document is written in a few large
/// writes, not one per document or item.
const CHUNK: usize = 1 << 20;

/// Bytes held back from the output.
#[derive(Debug)]
pub struct Held {
    /// Every byte held while they fit in `bound`; past it, the last ones,
    /// not yet written to the file.
    memory: Vec<u8>,
    file: Option<File>,
    /// How many bytes the file holds (it is written only at its end).
    in_file: u64,
    bound: usize,
    /// Where the temporary file goes; the system's temporary folder when
    /// `None`.
    dir: Option<PathBuf>,
}

impl Default for Held {
    fn default() -> Self {
        Held::new(IN_MEMORY)
    }
}

impl Held {
    /// Holds up to `bound` bytes in memory, the rest in a temporary file.
    pub fn new(bound: usize) -> Held {
        Held {
            memory: Vec::new(),
            file: None,
            in_file: 0,
            bound,
            dir: None,
        }
    }

    /// Puts the temporary file, when one is needed, in `dir`.
    pub fn in_dir(mut self, dir: PathBuf) -> Held {
        self.dir = Some(dir);
        self
    }

    /// Whether the bytes went to a temporary file.
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Holds `bytes` after those held already.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            if self.memory.len() + bytes.len() <= self.bound {
                self.memory.extend_from_slice(bytes);
                return Ok(());
            }
            self.file = Some(match &self.dir {
                Some(dir) => tempfile::tempfile_in(dir)?,
                None => tempfile::tempfile()?,
            });
            self.in_file = 0;
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() >= CHUNK {
            self.write_out()?;
        }
        Ok(())
    }

    /// Writes what memory holds to the file, when there is one.
    fn write_out(&mut self) -> io::Result<()> {
        if let Some(f) = &mut self.file {
            f.write_all(&self.memory)?;
            self.in_file += self.memory.len() as u64;
            self.memory.clear();
        }
        Ok(())
    }

    /// Writes everything held to `out`, in order, and holds nothing more.
    pub fn release(&mut self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        self.write_out()?;
        if let Some(mut f) = self.file.take() {
            f.seek(SeekFrom::Start(0))?;
            // Read back a chunk at a time through the memory buffer.
            self.memory.resize(CHUNK, 0);
            loop {
                let n = match f.read(&mut self.memory) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.memory.clear();
                        return Err(e);
                    }
                };
                if let Err(e) = out.write_all(&self.memory[..n]) {
                    self.memory.clear();
                    return Err(e);
                }
            }
            self.memory.clear();
            self.in_file = 0;
            return Ok(());
        }
        let r = out.write_all(&self.memory);
        self.memory.clear();
        r
    }

    /// Takes over what `other` holds, after what this holds: as a whole
    /// (its file, without a copy) when this holds nothing yet.
    pub fn adopt(&mut self, other: &mut Held) -> io::Result<()> {
        if self.file.is_none() && self.memory.is_empty() {
            std::mem::swap(&mut self.memory, &mut other.memory);
            std::mem::swap(&mut self.file, &mut other.file);
            std::mem::swap(&mut self.in_file, &mut other.in_file);
            other.discard();
            return Ok(());
        }
        other.release(self)
    }

    /// Drops everything held.
    pub fn discard(&mut self) {
        self.memory.clear();
        self.file = None;
        self.in_file = 0;
    }

    /// How many bytes are held.
    pub fn len(&self) -> u64 {
        self.in_file + self.memory.len() as u64
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops what was held after the first `len` bytes.
    pub fn truncate(&mut self, len: u64) -> io::Result<()> {
        match &mut self.file {
            Some(f) if len < self.in_file => {
                f.set_len(len)?;
                f.seek(SeekFrom::End(0))?;
                self.in_file = len;
                self.memory.clear();
            }
            Some(_) => self
                .memory
                .truncate(usize::try_from(len - self.in_file).unwrap_or(usize::MAX)),
            None => self
                .memory
                .truncate(usize::try_from(len).unwrap_or(usize::MAX)),
        }
        Ok(())
    }
}

impl Write for Held {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Held::write(self, buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Held::write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An output that held bytes are released to: any writer, or one that
/// holds them further and can take them over whole (the gate of
/// [`super::gate`]).
pub trait Output: Write {
    /// Writes what `held` holds, and leaves it empty.
    fn release(&mut self, held: &mut Held) -> io::Result<()> {
        held.release(self)
    }
}

impl Output for Vec<u8> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_order_from_memory_and_from_a_file() {
        for bound in [0, 5, 1 << 20] {
            let mut held = Held::new(bound);
            let mut expected = Vec::new();
            for i in 0..100u32 {
                let piece = format!("[{i}]");
                held.write(piece.as_bytes()).expect("held");
                expected.extend_from_slice(piece.as_bytes());
            }
            assert_eq!(held.spilled(), bound < expected.len(), "bound {bound}");
            let mut out = b"head:".to_vec();
            held.release(&mut out).expect("released");
            assert_eq!(&out[5..], &expected[..], "bound {bound}");
            assert!(!held.spilled());
            // Reused for the next document, which starts empty.
            held.write(b"next").expect("held");
            let mut out = Vec::new();
            held.release(&mut out).expect("released");
            assert_eq!(out, b"next");
        }
    }

    #[test]
    fn the_file_goes_in_the_folder_given_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut held = Held::new(2).in_dir(dir.path().to_path_buf());
        held.write(b"held in a file").expect("held");
        assert!(held.spilled());
        let mut out = Vec::new();
        held.release(&mut out).expect("released");
        assert_eq!(out, b"held in a file");
        let left = std::fs::read_dir(dir.path()).expect("listed").count();
        assert_eq!(left, 0, "the temporary file has no name in the folder");
        let mut missing = Held::new(0).in_dir(dir.path().join("missing"));
        assert!(
            missing.write(b"x").is_err(),
            "a folder that is not there is an error"
        );
    }

    #[test]
    fn what_comes_after_a_mark_can_be_dropped() {
        for bound in [0, 6, 1 << 20] {
            let mut held = Held::new(bound);
            held.write(b"first\n").expect("held");
            let mark = held.len();
            held.write(b"second\n").expect("held");
            held.truncate(mark).expect("truncated");
            held.write(b"third\n").expect("held");
            let mut out = Vec::new();
            held.release(&mut out).expect("released");
            assert_eq!(out, b"first\nthird\n", "bound {bound}");
            assert!(held.is_empty());
        }
    }

    #[test]
    fn discarded_bytes_are_never_written() {
        let mut held = Held::new(4);
        held.write(b"rejected document").expect("held");
        assert!(held.spilled());
        held.discard();
        assert!(!held.spilled());
        let mut out = Vec::new();
        held.release(&mut out).expect("released");
        assert!(out.is_empty());
    }
}
