//! Documents held until their interchange's verdict, for output that
//! people read (`dropgate translate`).
//!
//! A set's document is written once the set is accepted, but its group
//! and its interchange are judged only at their GE and IEA: a group
//! rejected for its trailer (a count that does not match, a control number
//! used twice) or an interchange rejected for its envelope (TA1 `R`) must
//! not leave documents behind that look good. The gate holds what the
//! translator writes (one document per line), marks where each
//! interchange and group begins, drops what a rejected group or
//! interchange wrote, and releases the rest when the interchange ends, as
//! lines or framed as the JSON array the translator would have written.
//! What is held goes to a temporary file past a few MB ([`super::hold`]).
//!
//! The gateway does not need it: it keeps every document in its pack and
//! relays only the accepted ones, by number.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use super::hold::{Held, Output};

/// The gate's state, shared by the writer the translator writes to and the
/// envelope sink that says where interchanges and groups begin and end.
#[derive(Debug)]
pub struct Gate<W> {
    out: W,
    held: Held,
    /// Frame the released lines as a JSON array.
    array: bool,
    /// Documents released so far, when framing an array.
    released: u64,
    /// Where the open interchange and group began in what is held.
    interchange_at: u64,
    group_at: u64,
}

/// A gate shared between the writer and the envelope sink.
pub type Shared<W> = Rc<RefCell<Gate<W>>>;

impl<W: Write> Gate<W> {
    /// A gate in front of `out`; `array` frames the documents as a JSON
    /// array (as [`super::inbound::OutputMode::Array`] writes them).
    pub fn new(out: W, array: bool, held: Held) -> Shared<W> {
        Rc::new(RefCell::new(Gate {
            out,
            held,
            array,
            released: 0,
            interchange_at: 0,
            group_at: 0,
        }))
    }

    /// An interchange begins.
    pub fn interchange_start(&mut self) -> io::Result<()> {
        self.interchange_at = self.held.len();
        self.group_at = self.interchange_at;
        Ok(())
    }

    /// A group begins.
    pub fn group_start(&mut self) -> io::Result<()> {
        self.group_at = self.held.len();
        Ok(())
    }

    /// The open group was rejected: its documents are dropped.
    pub fn group_rejected(&mut self) -> io::Result<()> {
        self.held.truncate(self.group_at)
    }

    /// The open interchange ended: its documents are dropped when it was
    /// rejected, and what is left is released.
    pub fn interchange_end(&mut self, rejected: bool) -> io::Result<()> {
        if rejected {
            self.held.truncate(self.interchange_at)?;
        }
        if self.array {
            let mut framed = Framed {
                out: &mut self.out,
                released: &mut self.released,
                line_start: true,
            };
            self.held.release(&mut framed)?;
        } else {
            // Lines go out as they are held.
            self.held.release(&mut self.out)?;
        }
        self.interchange_at = 0;
        self.group_at = 0;
        Ok(())
    }

    /// The output ends: what an unfinished interchange wrote is dropped,
    /// the array is closed, and the writer is given back.
    pub fn finish(mut self) -> io::Result<W> {
        self.held.discard();
        if self.array {
            if self.released == 0 {
                self.out.write_all(b"[]\n")?;
            } else {
                self.out.write_all(b"\n]\n")?;
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The writer the translator writes its lines to: into the gate's hold.
#[derive(Debug)]
pub struct Intake<W>(pub Shared<W>);

impl<W: Write> Write for Intake<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().held.write(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Output for Intake<W> {
    /// A set's held document joins what the gate holds: as a whole, its
    /// temporary file with it, when the gate holds nothing yet (a huge
    /// set alone in its interchange is not copied from file to file).
    fn release(&mut self, held: &mut Held) -> io::Result<()> {
        self.0.borrow_mut().held.adopt(held)
    }
}

/// Lines released to the output framed as an array: `[` and `,` before
/// each document, no line feed after it.
struct Framed<'a, W> {
    out: &'a mut W,
    released: &'a mut u64,
    line_start: bool,
}

impl<W: Write> Write for Framed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            if self.line_start {
                let sep: &[u8] = if *self.released == 0 { b"[\n" } else { b",\n" };
                self.out.write_all(sep)?;
                *self.released += 1;
                self.line_start = false;
            }
            // A JSON document has no raw line feed: each ends its line.
            match memchr::memchr(b'\n', rest) {
                Some(end) => {
                    self.out.write_all(&rest[..end])?;
                    self.line_start = true;
                    rest = &rest[end + 1..];
                }
                None => {
                    self.out.write_all(rest)?;
                    rest = &[];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(array: bool, bound: usize) -> io::Result<String> {
        let gate = Gate::new(Vec::new(), array, Held::new(bound));
        let mut intake = Intake(Rc::clone(&gate));
        let g = || gate.borrow_mut();
        g().interchange_start()?;
        g().group_start()?;
        intake.write_all(b"{\"n\":1}\n")?;
        g().group_start()?;
        intake.write_all(b"{\"n\":2}\n")?;
        g().group_rejected()?;
        g().group_start()?;
        intake.write_all(b"{\"n\":3}\n")?;
        g().interchange_end(false)?;
        g().interchange_start()?;
        intake.write_all(b"{\"n\":4}\n")?;
        g().interchange_end(true)?;
        g().interchange_start()?;
        intake.write_all(b"{\"n\":5}\n")?;
        g().interchange_end(false)?;
        g().interchange_start()?;
        intake.write_all(b"{\"n\":6}\n")?;
        drop(intake);
        let gate = Rc::try_unwrap(gate)
            .map_err(|_| io::Error::other("shared"))?
            .into_inner();
        let out = gate.finish()?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn rejected_groups_and_interchanges_leave_no_document() -> io::Result<()> {
        for bound in [0, 10, 1 << 20] {
            // Group 2 rejected, interchange 2 rejected, interchange 4 never
            // ended.
            assert_eq!(run(false, bound)?, "{\"n\":1}\n{\"n\":3}\n{\"n\":5}\n");
            assert_eq!(
                run(true, bound)?,
                "[\n{\"n\":1},\n{\"n\":3},\n{\"n\":5}\n]\n"
            );
        }
        let gate = Gate::new(Vec::new(), true, Held::default());
        let gate = Rc::try_unwrap(gate)
            .map_err(|_| io::Error::other("shared"))?
            .into_inner();
        assert_eq!(gate.finish()?, b"[]\n");
        Ok(())
    }
}
