//! TOI allocation and comparison in a field of W bits (RFC 6968 §3.6): TOIs are allocated in
//! increasing order modulo 2^W, and active TOIs may occupy only half of the TOI space, so that
//! "older" and "newer" stay unambiguous after the counter wraps. An active object that falls out
//! of that window is re-sent under a new TOI, and the CID says which earlier {TOI; CIID} it is.

pub use rmt_inspector::track::toi_window::{forward_distance, in_window, mask};

#[derive(Debug, Clone)]
pub struct TOIAllocator {
    bits: u32,
    next: u128,
    /// TOI 0 is the FDT's in FLUTE (RFC 6726 §3.1); FCAST may use it.
    skip_zero: bool,
    newest: Option<u128>,
    /// Distance between consecutive TOIs (1: sequential).
    stride: u128,
}

impl TOIAllocator {
    pub fn new(bits: u32, first: u128, skip_zero: bool) -> Self {
        TOIAllocator {
            bits,
            next: first & mask(bits),
            skip_zero,
            newest: None,
            stride: 1,
        }
    }

    /// TOIs `stride` apart (modulo 2^W): a sender may manage its TOIs freely (RFC 6968 §3.6),
    /// and a large stride wraps a 16-bit space within a few objects.
    pub fn with_stride(mut self, stride: u128) -> Self {
        self.stride = (stride & mask(self.bits)).max(1);
        self
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    pub fn allocate(&mut self) -> u128 {
        if self.skip_zero && self.next == 0 {
            self.next = 1;
        }
        let toi = self.next;
        self.next = (self.next + self.stride) & mask(self.bits);
        self.newest = Some(toi);
        toi
    }

    /// The most recently allocated TOI.
    pub fn newest(&self) -> Option<u128> {
        self.newest
    }

    /// Whether an active object's TOI stays inside the half-space window once `ahead` more TOIs
    /// are allocated (the CID and objects of the instance being committed).
    pub fn still_valid(&self, toi: u128, ahead: u128) -> bool {
        self.newest.is_none_or(|n| {
            let ahead = ahead.wrapping_mul(self.stride);
            in_window(toi, n.wrapping_add(ahead) & mask(self.bits), self.bits)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_tois_wrap_and_skip_zero() {
        let mut a = TOIAllocator::new(16, 65_534, true);
        assert_eq!(
            [a.allocate(), a.allocate(), a.allocate()],
            [65_534, 65_535, 1]
        );
        assert!(a.still_valid(65_534, 0));
        assert!(!in_window(1, 1 + 32_768, 16));
        assert!(in_window(1, 32_768, 16));
        assert_eq!(forward_distance(65_535, 1, 16), 2);
    }

    #[test]
    fn a_stride_wraps_a_sixteen_bit_space_within_a_few_tois() {
        let mut a = TOIAllocator::new(16, 1, true).with_stride(16_384);
        let tois: Vec<u128> = (0..5).map(|_| a.allocate()).collect();
        assert_eq!(tois, [1, 16_385, 32_769, 49_153, 1]);
        // The window counts TOIs allocated ahead in strides.
        assert!(a.still_valid(1, 1));
        assert!(!a.still_valid(1, 2));
    }

    #[test]
    fn an_old_toi_leaves_the_window_after_half_the_space() {
        let mut a = TOIAllocator::new(16, 1, false);
        let first = a.allocate();
        for _ in 0..32_767 {
            a.allocate();
        }
        assert!(a.still_valid(first, 0));
        assert!(
            !a.still_valid(first, 1),
            "one more TOI to allocate would leave the window"
        );
        a.allocate();
        assert!(!a.still_valid(first, 0));
    }
}
