//! The refillable byte buffer shared by the blocking and the tokio readers.
//!
//! It keeps the unconsumed bytes at its front and grows only when one segment
//! does not fit, so memory is bounded by the largest segment (which the lexer
//! caps), never by the input.

/// Bytes read but not yet consumed.
#[derive(Debug)]
pub(crate) struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
    max_len: usize,
}

impl Buffer {
    /// A buffer of `capacity` bytes that may grow to `max_len`.
    pub(crate) fn new(capacity: usize, max_len: usize) -> Buffer {
        Buffer {
            data: vec![0; capacity.max(4096)],
            start: 0,
            end: 0,
            max_len: max_len.max(capacity),
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn unconsumed(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Drops `n` unconsumed bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Makes room after the unconsumed bytes and returns it, moving the
    /// unconsumed bytes to the front and growing when they fill the buffer.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() && self.data.len() < self.max_len {
            let grown = (self.data.len() * 2).min(self.max_len);
            self.data.resize(grown, 0);
        }
        &mut self.data[self.end..]
    }

    /// Records that `n` bytes were written into the space.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unconsumed_bytes_and_grows_when_full() {
        let mut b = Buffer::new(4096, 10_000);
        let space = b.space();
        space[..4].copy_from_slice(b"abcd");
        b.filled(4);
        b.consume(2);
        assert_eq!(b.unconsumed(), b"cd");
        let space = b.space();
        assert_eq!(space.len(), 4094);
        b.filled(4094);
        assert_eq!(b.space().len(), 4096);
        assert_eq!(&b.unconsumed()[..2], b"cd");
    }
}
