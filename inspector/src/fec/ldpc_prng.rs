//! The pseudo-random number generator of LDPC-Staircase and LDPC-Triangle (RFC 5170 §5.7):
//! Park and Miller's "minimal standard" generator, x <- 16807 * x mod (2^31 - 1), scaled to
//! `0..maxv` by the high-order bits as the RFC specifies.

/// 2^31 - 1.
pub const MODULUS: u64 = 0x7FFF_FFFF;
const MULTIPLIER: u64 = 16_807;

#[derive(Debug, Clone)]
pub struct LdpcPrng {
    state: u64,
}

impl LdpcPrng {
    /// `seed` must be in 1..=2^31-2 (RFC 5170 §4.2.3); `None` otherwise.
    pub fn new(seed: u32) -> Option<Self> {
        (1..=0x7FFF_FFFE).contains(&seed).then_some(LdpcPrng {
            state: u64::from(seed),
        })
    }

    /// The next raw value in 1..2^31-2.
    pub fn next_raw(&mut self) -> u32 {
        self.state = (self.state * MULTIPLIER) % MODULUS;
        self.state as u32
    }

    /// `pmms_rand(maxv)`: a value in 0..maxv, taken from the high bits (RFC 5170 §5.7).
    pub fn rand(&mut self, maxv: u32) -> u32 {
        ((u64::from(maxv) * u64::from(self.next_raw())) / MODULUS) as u32
    }
}
