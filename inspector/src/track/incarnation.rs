//! How many objects each TOI of a session has named so far, so that an object's identity
//! survives TOI reuse: (sender, TSI, TOI, incarnation), where incarnation 0 is the first object
//! sent on that TOI, 1 the next after the TOI came back (RFC 6968 §3.6 wrap and reuse, or a
//! FLUTE FDT Instance mapping the TOI to another file after the old description expired,
//! RFC 6726 §3.3).
//!
//! Counts are kept as ranges of TOIs with the same count: a sender allocates TOIs in order (or
//! with a stride), so a session of any length needs a handful of ranges, not one entry per
//! object. A hostile TOI pattern cannot grow it past [`MAX_RANGES`]: the lowest ranges are then
//! forgotten (their TOIs count from 0 again), and [`Incarnations::forgotten`] says how many.

use std::collections::BTreeMap;

/// Ranges kept per session.
pub const MAX_RANGES: usize = 65_536;

#[derive(Debug, Default, Clone)]
pub struct Incarnations {
    /// First TOI of a range -> (last TOI, objects each TOI of the range has named).
    ranges: BTreeMap<u128, (u128, u32)>,
    /// Ranges dropped past [`MAX_RANGES`].
    pub forgotten: u64,
}

impl Incarnations {
    /// Objects `toi` has named so far.
    pub fn count(&self, toi: u128) -> u32 {
        match self.ranges.range(..=toi).next_back() {
            Some((_, &(last, n))) if toi <= last => n,
            _ => 0,
        }
    }

    /// A new object on `toi`: returns its incarnation (the count before this one).
    pub fn next(&mut self, toi: u128) -> u32 {
        let before = self.count(toi);
        if let Some((&first, &(last, n))) = self.ranges.range(..=toi).next_back() {
            if toi <= last {
                self.ranges.remove(&first);
                if first < toi {
                    self.ranges.insert(first, (toi - 1, n));
                }
                if toi < last {
                    self.ranges.insert(toi + 1, (last, n));
                }
            }
        }
        let n = before.saturating_add(1);
        let mut first = toi;
        let mut last = toi;
        // Merge with the neighbours that have the same count.
        if let Some((&f, &(l, m))) = toi
            .checked_sub(1)
            .and_then(|p| self.ranges.range(..=p).next_back())
        {
            if l + 1 == toi && m == n {
                self.ranges.remove(&f);
                first = f;
            }
        }
        if let Some(&(l, m)) = toi.checked_add(1).and_then(|s| self.ranges.get(&s)) {
            if m == n {
                self.ranges.remove(&(toi + 1));
                last = l;
            }
        }
        self.ranges.insert(first, (last, n));
        while self.ranges.len() > MAX_RANGES {
            self.ranges.pop_first();
            self.forgotten += 1;
        }
        before
    }

    #[cfg(test)]
    pub fn ranges(&self) -> usize {
        self.ranges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_tois_wrapping_many_times_keep_two_ranges() {
        let mut inc = Incarnations::default();
        for round in 0..5u32 {
            for toi in 0..65_536u128 {
                assert_eq!(inc.next(toi), round, "TOI {toi} round {round}");
                assert!(inc.ranges() <= 2);
            }
        }
        assert_eq!(inc.count(123), 5);
        assert_eq!(inc.count(70_000), 0);
    }

    #[test]
    fn a_reused_toi_alone_counts_up_and_neighbours_do_not() {
        let mut inc = Incarnations::default();
        for toi in 1..=10 {
            inc.next(toi);
        }
        assert_eq!(inc.next(5), 1);
        assert_eq!(inc.next(5), 2);
        assert_eq!((inc.count(4), inc.count(5), inc.count(6)), (1, 3, 1));
        assert_eq!(inc.ranges(), 3);
        inc.next(4);
        inc.next(4);
        inc.next(6);
        inc.next(6);
        assert_eq!(inc.ranges(), 3, "4..=6 merged: {:?}", inc.ranges);
    }

    #[test]
    fn hostile_patterns_are_bounded() {
        let mut inc = Incarnations::default();
        for toi in (0..(MAX_RANGES as u128 + 100) * 2).step_by(2) {
            inc.next(toi);
        }
        assert_eq!(inc.ranges(), MAX_RANGES);
        assert_eq!(inc.forgotten, 100);
    }
}
