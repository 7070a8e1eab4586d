//! Control numbers: the set of numbers seen (for duplicate checks in
//! bounded memory) and the allocator of outbound numbers.

use std::collections::{BTreeMap, HashMap, HashSet};

/// A set of control numbers that stays small when numbers come in runs.
///
/// Senders number interchanges, groups and sets 1, 2, 3, ...; storing runs
/// as ranges keeps a million sequential numbers in one entry. Non-numeric
/// values (ST02 is alphanumeric) fall back to a hash set.
#[derive(Clone, Debug, Default)]
pub struct NumberSet {
    /// Runs of numbers, by width ("01" and "1" are different numbers).
    ranges: HashMap<usize, BTreeMap<u64, u64>>,
    other: HashSet<Vec<u8>>,
}

impl NumberSet {
    /// Adds `value`; false when it was already there.
    pub fn insert(&mut self, value: &[u8]) -> bool {
        // "01" and "1" are different control numbers on the wire, so the
        // width is part of the key; runs of one width stay one range.
        if !value.is_empty() && value.len() <= 18 && value.iter().all(u8::is_ascii_digit) {
            let n = value
                .iter()
                .fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
            insert_number(self.ranges.entry(value.len()).or_default(), n)
        } else {
            self.other.insert(value.to_vec())
        }
    }

    /// Entries held (ranges plus other values): a measure of memory.
    pub fn entries(&self) -> usize {
        self.ranges.values().map(BTreeMap::len).sum::<usize>() + self.other.len()
    }
}

/// Inserts `n` into runs kept as `start -> end` (inclusive); false when it
/// was there.
fn insert_number(ranges: &mut BTreeMap<u64, u64>, n: u64) -> bool {
    if let Some((_, &end)) = ranges.range(..=n).next_back()
        && n <= end
    {
        return false;
    }
    let left = ranges
        .range(..n)
        .next_back()
        .filter(|&(_, &end)| end.checked_add(1) == Some(n))
        .map(|(&start, _)| start);
    let right = n
        .checked_add(1)
        .and_then(|next| ranges.get(&next).map(|&end| (next, end)));
    match (left, right) {
        (Some(start), Some((next, end))) => {
            ranges.remove(&next);
            ranges.insert(start, end);
        }
        (Some(start), None) => {
            ranges.insert(start, n);
        }
        (None, Some((next, end))) => {
            ranges.remove(&next);
            ranges.insert(n, end);
        }
        (None, None) => {
            ranges.insert(n, n);
        }
    }
    true
}

/// Hands out the control numbers of the interchanges and groups we send.
///
/// The daemon backs this with its store so numbers survive restarts; the
/// command line starts from a number given to it.
pub trait ControlNumbers {
    /// The next interchange control number (ISA13), 1 to 999,999,999.
    fn next_interchange(&mut self) -> u32;
    /// The next group control number (GS06), 1 to 999,999,999.
    fn next_group(&mut self) -> u32;
}

/// Control numbers counted in memory from a starting value, wrapping after
/// 999,999,999 back to 1.
#[derive(Clone, Copy, Debug)]
pub struct Counter {
    interchange: u32,
    group: u32,
}

/// The largest X12 interchange or group control number.
pub const MAX_CONTROL_NUMBER: u32 = 999_999_999;

impl Counter {
    /// Starts both sequences at `first` (clamped to 1..=999,999,999).
    pub fn starting_at(first: u32) -> Counter {
        let first = first.clamp(1, MAX_CONTROL_NUMBER);
        Counter {
            interchange: first,
            group: first,
        }
    }
}

fn bump(n: &mut u32) -> u32 {
    let current = *n;
    *n = if current >= MAX_CONTROL_NUMBER {
        1
    } else {
        current + 1
    };
    current
}

impl ControlNumbers for Counter {
    fn next_interchange(&mut self) -> u32 {
        bump(&mut self.interchange)
    }

    fn next_group(&mut self) -> u32 {
        bump(&mut self.group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates() {
        let mut s = NumberSet::default();
        assert!(s.insert(b"0001"));
        assert!(s.insert(b"0002"));
        assert!(!s.insert(b"0001"));
        assert!(s.insert(b"ABC"));
        assert!(!s.insert(b"ABC"));
        assert!(s.insert(b"1"));
        assert!(!s.insert(b"1"));
    }

    #[test]
    fn runs_take_one_entry() {
        let mut s = NumberSet::default();
        for n in 1..=100_000u32 {
            assert!(s.insert(format!("{n:09}").as_bytes()));
        }
        assert_eq!(s.entries(), 1);
        for n in (1..=1000u32).rev() {
            assert!(s.insert(format!("{n}").as_bytes()));
        }
        assert!(s.entries() <= 5, "{}", s.entries());
    }

    #[test]
    fn counters_wrap() {
        let mut c = Counter::starting_at(MAX_CONTROL_NUMBER);
        assert_eq!(c.next_interchange(), MAX_CONTROL_NUMBER);
        assert_eq!(c.next_interchange(), 1);
        assert_eq!(c.next_group(), MAX_CONTROL_NUMBER);
    }
}
