//! The Internet checksum (RFC 1071), used by IPv4 and by FCAST (RFC 6968 §2.1).

/// One's complement sum of big-endian 16-bit words, folded to 16 bits. An odd last byte is
/// padded on the right with zero (the pad is not transmitted).
pub fn ones_complement_sum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    fold(sum)
}

fn fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// The checksum field value: the one's complement of the one's complement sum.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !ones_complement_sum(data)
}

/// The checksum of `data` computed as if the 16-bit field at the even offset `field` were zero,
/// without copying `data` (subtracting a word in one's complement is adding its complement).
pub fn internet_checksum_with_zeroed_field(data: &[u8], field: usize) -> u16 {
    let sum = ones_complement_sum(data);
    let word = u16::from_be_bytes([data[field], data[field + 1]]);
    !fold(u64::from(sum) + u64::from(!word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sum() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (folded).
        assert_eq!(
            ones_complement_sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
    }

    #[test]
    fn zeroed_field_matches_copy() {
        let data: Vec<u8> = (0..41u8).map(|i| i.wrapping_mul(37)).collect();
        let mut copy = data.clone();
        copy[2] = 0;
        copy[3] = 0;
        assert_eq!(
            internet_checksum_with_zeroed_field(&data, 2),
            internet_checksum(&copy)
        );
    }

    #[test]
    fn odd_length_pads_right() {
        assert_eq!(ones_complement_sum(&[0x12]), 0x1200);
    }
}
