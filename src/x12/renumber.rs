//! Acknowledgments written before their control numbers are known: the
//! gateway writes a file's 997s in the same pass that translates it, with
//! no store at hand, numbering its interchanges and groups 1, 2, 3
//! ([`Placeholders`]); once the partner's sequences give it the first
//! numbers of blocks that long, [`renumber`] puts the real ones in ISA13,
//! IEA02, GS06 and GE02. Nothing else is touched: the ISA keeps its fixed
//! width, and the control numbers of the partner's envelopes that the
//! acknowledgment quotes (TA101, AK102) stay as they are.

use super::control::{ControlNumbers, MAX_CONTROL_NUMBER};

/// Control numbers counted from 1, remembering how many were given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// Interchange numbers given.
    pub interchanges: u32,
    /// Group numbers given.
    pub groups: u32,
}

impl ControlNumbers for Placeholders {
    fn next_interchange(&mut self) -> u32 {
        self.interchanges = self.interchanges.saturating_add(1);
        self.interchanges
    }
    fn next_group(&mut self) -> u32 {
        self.groups = self.groups.saturating_add(1);
        self.groups
    }
}

/// The `placeholder`th number of a block starting at `first`, wrapping
/// after 999,999,999 back to 1 as the sequences do.
fn nth(first: u32, placeholder: u32) -> u32 {
    let first = u64::from(first.clamp(1, MAX_CONTROL_NUMBER));
    let offset = u64::from(placeholder.max(1)) - 1;
    let n = (first - 1 + offset) % u64::from(MAX_CONTROL_NUMBER) + 1;
    u32::try_from(n).unwrap_or(MAX_CONTROL_NUMBER)
}

/// `ack`, written with [`Placeholders`], with the real numbers: the
/// interchange numbered `k` gets the `k`th number from `first_interchange`
/// on, the group numbered `k` the `k`th from `first_group` on. Each
/// interchange's delimiters are read from its own ISA.
pub fn renumber(ack: &[u8], first_interchange: u32, first_group: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(ack.len());
    let (mut separator, mut terminator) = (b'*', b'~');
    let mut rest = ack;
    while !rest.is_empty() {
        let blank = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        out.extend_from_slice(&rest[..blank]);
        rest = &rest[blank..];
        if rest.starts_with(b"ISA") && rest.len() >= 106 {
            separator = rest[3];
            terminator = rest[105];
        }
        let end = memchr::memchr(terminator, rest).map_or(rest.len(), |i| i + 1);
        let (segment, after) = rest.split_at(end);
        rest = after;
        let (which, first, width) = match segment.split(|&b| b == separator).next() {
            Some(b"ISA") => (13, first_interchange, 9),
            Some(b"IEA") => (2, first_interchange, 9),
            Some(b"GS") => (6, first_group, 0),
            Some(b"GE") => (2, first_group, 0),
            _ => {
                out.extend_from_slice(segment);
                continue;
            }
        };
        for (i, element) in segment.split(|&b| b == separator).enumerate() {
            if i > 0 {
                out.push(separator);
            }
            // The last element carries the terminator with it.
            let (value, tail) = match element.last() {
                Some(&t) if t == terminator => element.split_at(element.len() - 1),
                _ => (element, &b""[..]),
            };
            let number = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<u32>().ok());
            match number {
                Some(placeholder) if i == which => {
                    let real = nth(first, placeholder);
                    out.extend_from_slice(format!("{real:0width$}").as_bytes());
                }
                _ => out.extend_from_slice(value),
            }
            out.extend_from_slice(tail);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_their_block_and_wrap() {
        assert_eq!(nth(5, 1), 5);
        assert_eq!(nth(5, 3), 7);
        assert_eq!(nth(MAX_CONTROL_NUMBER, 1), MAX_CONTROL_NUMBER);
        assert_eq!(nth(MAX_CONTROL_NUMBER, 2), 1);
        assert_eq!(nth(MAX_CONTROL_NUMBER - 1, 4), 2);
    }

    #[test]
    fn only_our_envelopes_are_renumbered() {
        let ack = b"ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *240115*1030*U*00401*000000001*0*P*>~\nTA1*000000101*240115*1030*A*000~\nGS*FA*RETAILERID*VENDORID*20240115*1030*1*X*004010~\nST*997*0001~\nAK1*PO*1~\nAK9*A*1*1*1~\nSE*4*0001~\nGE*1*1~\nGS*FA*RETAILERID*VENDORID*20240115*1030*2*X*004010~\nGE*0*2~\nIEA*2*000000001~\n";
        let out = String::from_utf8(renumber(ack, 4711, 999_999_999)).expect("text");
        assert!(out.contains("*00401*000004711*0*P*>~\n"), "{out}");
        assert!(
            out.contains("TA1*000000101*"),
            "the partner's ISA13 stays: {out}"
        );
        assert!(out.contains("AK1*PO*1~"), "the partner's GS06 stays: {out}");
        assert!(out.contains("*1030*999999999*X*004010~\nST"), "{out}");
        assert!(out.contains("GE*1*999999999~"), "{out}");
        assert!(out.contains("*1030*1*X*004010~\nGE*0*1~"), "wrapped: {out}");
        assert!(out.ends_with("IEA*2*000004711~\n"), "{out}");
        assert_eq!(out.len(), ack.len() + 16, "only the numbers changed");
    }
}
