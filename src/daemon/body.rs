//! A received file's bytes as the pipeline reads them: held in memory, or,
//! for a file larger than `[gateway] stream_over_mb`, read from a copy on
//! local disk each time they are needed (the head to identify it, the
//! whole to translate and to acknowledge it), so that memory does not grow
//! with the file: the archive's own copy, or, with the archive in a
//! bucket, a temporary copy (the one uploaded from, or one fetched by
//! ranges to process the file again).

use std::borrow::Cow;
use std::io::{self, Read};

use crate::store::archive::LocalCopy;

/// A received file's bytes.
#[derive(Debug)]
pub enum Body {
    /// In memory.
    Memory(Vec<u8>),
    /// On local disk: the archive's copy, or (with the archive in a
    /// bucket) a temporary copy of its object.
    Archived(LocalCopy),
}

impl Body {
    /// The first `n` bytes, or all of them when there are fewer.
    pub fn head(&self, n: usize) -> io::Result<Cow<'_, [u8]>> {
        match self {
            Body::Memory(bytes) => Ok(Cow::Borrowed(bytes.get(..n).unwrap_or(bytes))),
            Body::Archived(_) => {
                let mut head = Vec::with_capacity(n.min(1 << 20));
                self.reader()?.take(n as u64).read_to_end(&mut head)?;
                Ok(Cow::Owned(head))
            }
        }
    }

    /// All the bytes, from the start.
    pub fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        match self {
            Body::Memory(bytes) => Ok(Box::new(bytes.as_slice())),
            Body::Archived(copy) => Ok(copy.reader()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_archive_read_alike() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("kept");
        std::fs::write(&path, b"ISA*00*rest")?;
        let staged = tempfile::tempfile()?;
        std::io::Write::write_all(&mut &staged, b"ISA*00*rest")?;
        for body in [
            Body::Memory(b"ISA*00*rest".to_vec()),
            Body::Archived(LocalCopy::Kept(path.clone())),
            Body::Archived(LocalCopy::Staged(std::sync::Arc::new(staged))),
        ] {
            assert_eq!(body.head(3)?.as_ref(), b"ISA");
            assert_eq!(body.head(100)?.as_ref(), b"ISA*00*rest");
            let mut all = Vec::new();
            body.reader()?.read_to_end(&mut all)?;
            assert_eq!(all, b"ISA*00*rest");
        }
        assert!(
            Body::Archived(LocalCopy::Kept(dir.path().join("gone")))
                .head(3)
                .is_err()
        );
        Ok(())
    }
}
