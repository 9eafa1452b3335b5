//! TOI arithmetic in a field of W bits (RFC 6968 §3.6): TOIs wrap modulo 2^W, and active TOIs
//! occupy at most half of the TOI space, so that "older" and "newer" keep a meaning after a
//! wrap. The inspector's session checks and the reference receiver and sender share it.

/// All ones in a `bits`-wide field.
pub fn mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// Distance from `a` forward to `b` modulo 2^bits.
pub fn forward_distance(a: u128, b: u128, bits: u32) -> u128 {
    b.wrapping_sub(a) & mask(bits)
}

/// Whether `toi` lies in the half of the TOI space that ends at `newest` (inclusive).
pub fn in_window(toi: u128, newest: u128, bits: u32) -> bool {
    forward_distance(toi, newest, bits) < (1u128 << (bits - 1))
}

/// Whether `toi` is newer than `newest`: ahead of it by less than half the space.
pub fn is_newer(toi: u128, newest: u128, bits: u32) -> bool {
    let ahead = forward_distance(newest, toi, bits);
    ahead != 0 && ahead < 1u128 << (bits - 1)
}

/// The TOIs that are out of the window of `newest`, as at most two inclusive ranges (the set
/// is cyclic): from `newest + 1` to `newest + half`. With `since`, the newest before the step,
/// only those that left the window with the step from `since` to `newest`: so a caller that
/// marks them does one pass over a capture, not one per step. `bits` is 16 to 112.
pub fn out_of_window(newest: u128, since: Option<u128>, bits: u32) -> Vec<(u128, u128)> {
    let m = mask(bits);
    let half = 1u128 << (bits - 1);
    let from = since.map_or(newest + 1, |s| s + half + 1) & m;
    let to = (newest + half) & m;
    if from <= to {
        vec![(from, to)]
    } else {
        vec![(from, m), (0, to)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_tois_wrap() {
        assert_eq!(forward_distance(65_535, 1, 16), 2);
        assert!(!in_window(1, 1 + 32_768, 16));
        assert!(in_window(1, 32_768, 16));
        assert!(is_newer(1, 65_535, 16));
        assert!(!is_newer(65_535, 1, 16));
        assert!(!is_newer(7, 7, 16));
    }

    #[test]
    fn the_ranges_out_of_the_window_are_its_complement_and_its_steps() {
        let bits = 16;
        for newest in [0u128, 5, 32_767, 32_768, 40_000, 65_535] {
            let ranges = out_of_window(newest, None, bits);
            for t in (0..65_536u128).step_by(97).chain([newest, newest + 1]) {
                let t = t & mask(bits);
                let listed = ranges.iter().any(|(a, b)| (*a..=*b).contains(&t));
                assert_eq!(
                    listed,
                    !in_window(t, newest, bits),
                    "newest {newest} toi {t}"
                );
            }
        }
        // A step from 100 to 110: exactly the ten TOIs 100+half+1 ..= 110+half leave.
        assert_eq!(
            out_of_window(110, Some(100), bits),
            [(100 + 32_769, 110 + 32_768)]
        );
        // Across the end of the space.
        assert_eq!(
            out_of_window(40_000, Some(30_000), bits),
            [(62_769, 65_535), (0, 7_232)]
        );
    }
}
