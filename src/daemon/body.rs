//! A received file's bytes as the pipeline reads them: held in memory, or,
//! for a file larger than `[gateway] stream_over_mb`, read from its
//! archive copy each time they are needed (the head to identify it, the
//! whole to translate and to acknowledge it), so that memory does not grow
//! with the file.

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::PathBuf;

/// A received file's bytes.
#[derive(Debug)]
pub enum Body {
    /// In memory.
    Memory(Vec<u8>),
    /// In the archive, at this path.
    Archived(PathBuf),
}

impl Body {
    /// The first `n` bytes, or all of them when there are fewer.
    pub fn head(&self, n: usize) -> io::Result<Cow<'_, [u8]>> {
        match self {
            Body::Memory(bytes) => Ok(Cow::Borrowed(bytes.get(..n).unwrap_or(bytes))),
            Body::Archived(path) => {
                let mut head = Vec::with_capacity(n.min(1 << 20));
                self.reader()?
                    .take(n as u64)
                    .read_to_end(&mut head)
                    .map_err(|e| with_path(path, e))?;
                Ok(Cow::Owned(head))
            }
        }
    }

    /// All the bytes, from the start.
    pub fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        match self {
            Body::Memory(bytes) => Ok(Box::new(bytes.as_slice())),
            Body::Archived(path) => {
                let file = std::fs::File::open(path).map_err(|e| with_path(path, e))?;
                Ok(Box::new(io::BufReader::with_capacity(1 << 16, file)))
            }
        }
    }
}

fn with_path(path: &std::path::Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_archive_read_alike() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("kept");
        std::fs::write(&path, b"ISA*00*rest")?;
        for body in [
            Body::Memory(b"ISA*00*rest".to_vec()),
            Body::Archived(path.clone()),
        ] {
            assert_eq!(body.head(3)?.as_ref(), b"ISA");
            assert_eq!(body.head(100)?.as_ref(), b"ISA*00*rest");
            let mut all = Vec::new();
            body.reader()?.read_to_end(&mut all)?;
            assert_eq!(all, b"ISA*00*rest");
        }
        assert!(Body::Archived(dir.path().join("gone")).head(3).is_err());
        Ok(())
    }
}
