//! An object rebuilt from byte ranges, as ROUTE source packets deliver it: each packet's payload
//! lands at its start_offset (A/331 §A.3.5.1), and the object is complete when
//! `[0, transfer length)` is covered. The transfer length comes from EXT_TOL or EXT_FTI, the
//! EFDT, or the close-object flag (B) on the packet that ends the object.
//!
//! Memory follows what was received (the buffer grows to the highest byte seen), up to a cap
//! the caller gives.

/// Separate byte ranges one object may be in: more means a hostile or broken sender (each is a
/// packet that neither touches nor overlaps another), and inserting would cost too much.
pub const MAX_RANGES: usize = 65_536;

/// Ranges received, merged and sorted: `[start, end)`.
#[derive(Debug, Default, Clone)]
pub struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let i = self.ranges.partition_point(|&(_, e)| e < start);
        let mut j = i;
        let (mut s, mut e) = (start, end);
        while j < self.ranges.len() && self.ranges[j].0 <= e {
            s = s.min(self.ranges[j].0);
            e = e.max(self.ranges[j].1);
            j += 1;
        }
        self.ranges.splice(i..j, [(s, e)]);
    }

    /// Whether `[0, len)` is covered.
    pub fn covers(&self, len: u64) -> bool {
        len == 0
            || self
                .ranges
                .first()
                .is_some_and(|&(s, e)| s == 0 && e >= len)
    }

    /// Bytes covered below `len`.
    pub fn covered(&self, len: u64) -> u64 {
        self.ranges
            .iter()
            .map(|&(s, e)| e.min(len).saturating_sub(s))
            .sum()
    }

    /// Whether `[start, end)` is covered.
    pub fn covers_range(&self, start: u64, end: u64) -> bool {
        start >= end || self.ranges.iter().any(|&(s, e)| s <= start && e >= end)
    }

    /// Ranges held (separate runs of bytes).
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn end(&self) -> u64 {
        self.ranges.last().map_or(0, |r| r.1)
    }
}

/// Why a range was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRefused {
    /// It ends past the transfer length.
    PastLength { end: u64, length: u64 },
    /// It ends past the cap on one object's bytes.
    PastCap { end: u64, cap: u64 },
    /// The object is in too many separate pieces.
    TooManyRanges { ranges: usize },
}

impl std::fmt::Display for RangeRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeRefused::PastLength { end, length } => {
                write!(f, "bytes up to {end} past the transfer length {length}")
            }
            RangeRefused::PastCap { end, cap } => {
                write!(f, "bytes up to {end} past the {cap} bytes that may be held")
            }
            RangeRefused::TooManyRanges { ranges } => {
                write!(f, "{ranges} separate byte ranges")
            }
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct ByteRangeObject {
    data: Vec<u8>,
    pub ranges: RangeSet,
    /// The transfer length, once known.
    pub length: Option<u64>,
}

impl ByteRangeObject {
    /// Places `bytes` at `offset`; bytes already received are overwritten with the same
    /// positions' new copy (a carousel repeat).
    pub fn push(&mut self, offset: u64, bytes: &[u8], cap: u64) -> Result<(), RangeRefused> {
        let end = offset + bytes.len() as u64;
        if let Some(length) = self.length {
            if end > length {
                return Err(RangeRefused::PastLength { end, length });
            }
        }
        if end > cap {
            return Err(RangeRefused::PastCap { end, cap });
        }
        if self.ranges.len() >= MAX_RANGES {
            return Err(RangeRefused::TooManyRanges {
                ranges: self.ranges.len(),
            });
        }
        if self.data.len() < end as usize {
            // The buffer grows with what arrives (doubling), never past the cap nor the known
            // length: an announced length alone takes no memory (its capacity is what is
            // counted against the budget).
            let limit = self.length.unwrap_or(cap).min(cap);
            let want = end.max((2 * self.data.capacity() as u64).min(limit));
            self.data
                .reserve_exact((want as usize).saturating_sub(self.data.len()));
            self.data.resize(end as usize, 0);
        }
        self.data[offset as usize..end as usize].copy_from_slice(bytes);
        self.ranges.insert(offset, end);
        Ok(())
    }

    /// Bytes `[start, end)`, if all were received.
    pub fn slice(&self, start: u64, end: u64) -> Option<&[u8]> {
        self.ranges
            .covers_range(start, end)
            .then(|| &self.data[start as usize..end as usize])
    }

    /// Bytes held.
    pub fn held(&self) -> u64 {
        self.data.capacity() as u64
    }

    pub fn is_complete(&self) -> bool {
        self.length.is_some_and(|l| self.ranges.covers(l))
    }

    /// The object, when complete.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        let l = self.length? as usize;
        self.is_complete().then(|| self.data[..l].to_vec())
    }

    /// What was received with zeros elsewhere, and the bytes missing (`--partial`).
    pub fn partial(&self) -> (Vec<u8>, u64) {
        // Never more than was received and what its length says (checked against the cap
        // before any byte was taken).
        let l = self
            .length
            .filter(|&l| l <= self.data.capacity() as u64)
            .unwrap_or(self.ranges.end());
        let mut v = self.data.clone();
        v.resize(l as usize, 0);
        (v, l - self.ranges.covered(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_in_any_order_and_complete_at_the_length() {
        let mut o = ByteRangeObject::default();
        o.push(4, b"efgh", 100).unwrap();
        o.push(10, b"kl", 100).unwrap();
        assert!(!o.ranges.covers(12));
        o.push(0, b"abcd", 100).unwrap();
        o.push(8, b"ij", 100).unwrap();
        assert!(o.bytes().is_none(), "no length yet");
        o.length = Some(12);
        assert_eq!(o.bytes().unwrap(), b"abcdefghijkl");
        assert_eq!(
            o.push(10, b"xyz", 100),
            Err(RangeRefused::PastLength {
                end: 13,
                length: 12
            })
        );
        assert_eq!(
            ByteRangeObject::default().push(90, b"0123456789abc", 100),
            Err(RangeRefused::PastCap { end: 103, cap: 100 })
        );
    }

    #[test]
    fn a_gap_leaves_it_incomplete_and_partial_counts_the_missing_bytes() {
        let mut o = ByteRangeObject {
            length: Some(10),
            ..Default::default()
        };
        o.push(0, b"ab", 100).unwrap();
        o.push(6, b"ghij", 100).unwrap();
        assert!(!o.is_complete());
        let (bytes, missing) = o.partial();
        assert_eq!((bytes.len(), missing), (10, 4));
        assert_eq!(&bytes[..2], b"ab");
    }
}
