//! Control numbers: the set of numbers seen (for duplicate checks in
//! bounded memory) and the allocator of outbound numbers.

use std::collections::{BTreeMap, HashSet};

/// A set of control numbers that stays small when numbers come in runs.
///
/// Senders number interchanges, groups and sets 1, 2, 3, ...; storing runs
/// as ranges keeps a million sequential numbers in one entry. Non-numeric
/// values (ST02 is alphanumeric) fall back to a hash set.
#[derive(Clone, Debug, Default)]
pub struct NumberSet {
    /// Runs of numbers, by width ("01" and "1" are different numbers).
    ranges: Vec<(usize, BTreeMap<u64, u64>)>,
    /// The run being extended: (width, start, end). Sequential numbers, the
    /// common case, only move its end; it joins `ranges` when it breaks.
    run: Option<(usize, u64, u64)>,
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
            let width = value.len();
            if let Some((w, start, end)) = self.run
                && w == width
            {
                if end.checked_add(1) == Some(n) {
                    // The sequence goes on: inside the run only if the
                    // stored ranges do not hold it already.
                    if self.ranges(width).is_some_and(|r| contains(r, n)) {
                        return false;
                    }
                    self.run = Some((w, start, n));
                    return true;
                }
                if (start..=end).contains(&n) {
                    return false;
                }
            }
            // The run breaks: store it, and start a new one at `n`.
            if let Some((w, start, end)) = self.run.take() {
                merge_range(self.ranges_mut(w), start, end);
            }
            if self.ranges(width).is_some_and(|r| contains(r, n)) {
                return false;
            }
            self.run = Some((width, n, n));
            true
        } else {
            self.other.insert(value.to_vec())
        }
    }

    /// Entries held (ranges plus other values): a measure of memory.
    pub fn entries(&self) -> usize {
        self.ranges.iter().map(|(_, r)| r.len()).sum::<usize>()
            + usize::from(self.run.is_some())
            + self.other.len()
    }

    fn ranges(&self, width: usize) -> Option<&BTreeMap<u64, u64>> {
        self.ranges
            .iter()
            .find(|(w, _)| *w == width)
            .map(|(_, r)| r)
    }

    fn ranges_mut(&mut self, width: usize) -> &mut BTreeMap<u64, u64> {
        let i = match self.ranges.iter().position(|(w, _)| *w == width) {
            Some(i) => i,
            None => {
                self.ranges.push((width, BTreeMap::new()));
                self.ranges.len() - 1
            }
        };
        &mut self.ranges[i].1
    }
}

/// True when `n` lies in one of the ranges.
fn contains(ranges: &BTreeMap<u64, u64>, n: u64) -> bool {
    ranges
        .range(..=n)
        .next_back()
        .is_some_and(|(_, &end)| n <= end)
}

/// Adds the run `start..=end`, which overlaps no stored number, joining
/// neighbours.
fn merge_range(ranges: &mut BTreeMap<u64, u64>, start: u64, end: u64) {
    let (mut start, mut end) = (start, end);
    if let Some((&s, &e)) = ranges.range(..start).next_back()
        && e.checked_add(1) == Some(start)
    {
        ranges.remove(&s);
        start = s;
    }
    if let Some(next) = end.checked_add(1)
        && let Some(e) = ranges.remove(&next)
    {
        end = e;
    }
    ranges.insert(start, end);
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
        // One range per width (9, 4, 3, 2, 1), plus the open run.
        assert!(s.entries() <= 6, "{}", s.entries());
    }

    proptest::proptest! {
        /// Whatever the order, the set answers as a plain hash set would.
        #[test]
        fn agrees_with_a_hash_set(values in proptest::collection::vec((0u64..40, 1usize..4), 0..300)) {
            let mut s = NumberSet::default();
            let mut model = HashSet::new();
            for (n, width) in values {
                let text = format!("{n:0width$}");
                proptest::prop_assert_eq!(s.insert(text.as_bytes()), model.insert(text.clone()), "{}", text);
            }
        }
    }

    #[test]
    fn counters_wrap() {
        let mut c = Counter::starting_at(MAX_CONTROL_NUMBER);
        assert_eq!(c.next_interchange(), MAX_CONTROL_NUMBER);
        assert_eq!(c.next_interchange(), 1);
        assert_eq!(c.next_group(), MAX_CONTROL_NUMBER);
    }
}
