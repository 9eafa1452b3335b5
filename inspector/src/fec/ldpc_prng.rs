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

    /// `pmms_rand(maxv)`: a value in 0..maxv, taken from the high bits. RFC 5170 §5.7 says the
    /// scaling MUST be computed in double precision; an exact integer floor would differ for
    /// some large `maxv`, and with it the parity check matrix.
    pub fn rand(&mut self, maxv: u32) -> u32 {
        (f64::from(maxv) * f64::from(self.next_raw()) / MODULUS as f64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5170_check_value() {
        let mut p = LdpcPrng::new(1).unwrap();
        let mut v = 0;
        for _ in 0..10_000 {
            v = p.next_raw();
        }
        assert_eq!(v, 1_043_618_065);
    }

    #[test]
    fn scaled_values_stay_below_maxv() {
        let mut p = LdpcPrng::new(12345).unwrap();
        for maxv in [1u32, 2, 7, 1000, 0x7FFF_FFFE] {
            for _ in 0..1000 {
                assert!(p.rand(maxv) < maxv);
            }
        }
        assert_eq!(p.rand(0), 0);
        assert!(LdpcPrng::new(0).is_none() && LdpcPrng::new(0x7FFF_FFFF).is_none());
    }
}
