//! GF(2^8) with the RFC 5510 §8.1 polynomial 1 + x^2 + x^3 + x^4 + x^8 (0x11D), whose root
//! alpha = x (2) is primitive. Log/exp tables are built at compile time.

pub const POLYNOMIAL: u16 = 0x11D;

const fn build_tables() -> ([u8; 512], [u8; 256]) {
    let mut exp = [0u8; 512];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= POLYNOMIAL;
        }
        i += 1;
    }
    // exp[510], exp[511] are never reached by log sums (at most 254 + 254).
    (exp, log)
}

const TABLES: ([u8; 512], [u8; 256]) = build_tables();
/// exp[i] = alpha^i for 0 <= i < 510.
pub const EXP: [u8; 512] = TABLES.0;
/// log[x] for x != 0.
pub const LOG: [u8; 256] = TABLES.1;

#[inline]
pub fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        EXP[usize::from(LOG[usize::from(a)]) + usize::from(LOG[usize::from(b)])]
    }
}

/// Multiplicative inverse; `a` must not be 0.
#[inline]
pub fn inv(a: u8) -> u8 {
    debug_assert!(a != 0);
    EXP[255 - usize::from(LOG[usize::from(a)])]
}

/// alpha^e for any exponent.
#[inline]
pub fn alpha_pow(e: usize) -> u8 {
    EXP[e % 255]
}

/// dst[i] ^= c * src[i] over the shorter of the two (a short src is zero-padded, RFC 5510 §8.4).
pub fn mul_add(dst: &mut [u8], src: &[u8], c: u8) {
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    match c {
        0 => {}
        1 => dst.iter_mut().zip(src).for_each(|(d, s)| *d ^= s),
        _ => {
            let done = simd::mul_add(dst, src, c);
            mul_add_scalar(&mut dst[done..], &src[done..], c);
        }
    }
}

fn mul_add_scalar(dst: &mut [u8], src: &[u8], c: u8) {
    if dst.is_empty() {
        return;
    }
    // One 256-entry row of the multiplication table, then a table lookup per byte.
    let lc = usize::from(LOG[usize::from(c)]);
    let mut row = [0u8; 256];
    for (x, r) in row.iter_mut().enumerate().skip(1) {
        *r = EXP[usize::from(LOG[x]) + lc];
    }
    dst.iter_mut()
        .zip(src)
        .for_each(|(d, s)| *d ^= row[usize::from(*s)]);
}

const fn mul_const(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        EXP[LOG[a as usize] as usize + LOG[b as usize] as usize]
    }
}

const fn build_nibble_tables() -> [[[u8; 16]; 2]; 256] {
    let mut t = [[[0u8; 16]; 2]; 256];
    let mut c = 0;
    while c < 256 {
        let mut x = 0;
        while x < 16 {
            t[c][0][x] = mul_const(c as u8, x as u8);
            t[c][1][x] = mul_const(c as u8, (x as u8) << 4);
            x += 1;
        }
        c += 1;
    }
    t
}

/// For every c: c * x = c * (x & 0x0F) ^ c * (x & 0xF0), as two 16-entry tables that a byte
/// shuffle looks up 16 or 32 bytes at a time. Built at compile time (8 KiB).
static NIBBLE_TABLES: [[[u8; 16]; 2]; 256] = build_nibble_tables();

fn nibble_tables(c: u8) -> (&'static [u8; 16], &'static [u8; 16]) {
    let t = &NIBBLE_TABLES[usize::from(c)];
    (&t[0], &t[1])
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use super::nibble_tables;

    /// Multiplies-and-adds the largest prefix a vector unit handles; returns its length.
    pub fn mul_add(dst: &mut [u8], src: &[u8], c: u8) -> usize {
        if is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is present (checked just above).
            unsafe { mul_add_avx2(dst, src, c) }
        } else if is_x86_feature_detected!("ssse3") {
            // SAFETY: SSSE3 is present (checked just above).
            unsafe { mul_add_ssse3(dst, src, c) }
        } else {
            0
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn mul_add_avx2(dst: &mut [u8], src: &[u8], c: u8) -> usize {
        let (lo, hi) = nibble_tables(c);
        let n = dst.len().min(src.len()) / 32 * 32;
        // SAFETY (whole block): every load and store covers bytes i..i+32 with i + 32 <= n, and n
        // is within both slices; unaligned loads and stores are used.
        unsafe {
            let lo_t = _mm256_broadcastsi128_si256(_mm_loadu_si128(lo.as_ptr().cast()));
            let hi_t = _mm256_broadcastsi128_si256(_mm_loadu_si128(hi.as_ptr().cast()));
            let mask = _mm256_set1_epi8(0x0F);
            let mut i = 0;
            while i < n {
                let s = _mm256_loadu_si256(src.as_ptr().add(i).cast());
                let d = _mm256_loadu_si256(dst.as_ptr().add(i).cast());
                let l = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(s, mask));
                let h = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi64(s, 4), mask));
                _mm256_storeu_si256(
                    dst.as_mut_ptr().add(i).cast(),
                    _mm256_xor_si256(d, _mm256_xor_si256(l, h)),
                );
                i += 32;
            }
        }
        n
    }

    #[target_feature(enable = "ssse3")]
    unsafe fn mul_add_ssse3(dst: &mut [u8], src: &[u8], c: u8) -> usize {
        let (lo, hi) = nibble_tables(c);
        let n = dst.len().min(src.len()) / 16 * 16;
        // SAFETY: as for AVX2, with 16-byte steps.
        unsafe {
            let lo_t = _mm_loadu_si128(lo.as_ptr().cast());
            let hi_t = _mm_loadu_si128(hi.as_ptr().cast());
            let mask = _mm_set1_epi8(0x0F);
            let mut i = 0;
            while i < n {
                let s = _mm_loadu_si128(src.as_ptr().add(i).cast());
                let d = _mm_loadu_si128(dst.as_ptr().add(i).cast());
                let l = _mm_shuffle_epi8(lo_t, _mm_and_si128(s, mask));
                let h = _mm_shuffle_epi8(hi_t, _mm_and_si128(_mm_srli_epi64(s, 4), mask));
                _mm_storeu_si128(
                    dst.as_mut_ptr().add(i).cast(),
                    _mm_xor_si128(d, _mm_xor_si128(l, h)),
                );
                i += 16;
            }
        }
        n
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    pub fn mul_add(_dst: &mut [u8], _src: &[u8], _c: u8) -> usize {
        0
    }
}

/// Inverts a square matrix (row-major, `n` x `n`) by Gauss-Jordan; `None` if singular.
pub fn invert(m: &[u8], n: usize) -> Option<Vec<u8>> {
    let mut a = m.to_vec();
    let mut inv_m = vec![0u8; n * n];
    for i in 0..n {
        inv_m[i * n + i] = 1;
    }
    for col in 0..n {
        let pivot = (col..n).find(|&r| a[r * n + col] != 0)?;
        if pivot != col {
            for j in 0..n {
                a.swap(pivot * n + j, col * n + j);
                inv_m.swap(pivot * n + j, col * n + j);
            }
        }
        let p = inv(a[col * n + col]);
        for j in 0..n {
            a[col * n + j] = mul(a[col * n + j], p);
            inv_m[col * n + j] = mul(inv_m[col * n + j], p);
        }
        for r in 0..n {
            let f = a[r * n + col];
            if r != col && f != 0 {
                for j in 0..n {
                    a[r * n + j] ^= mul(f, a[col * n + j]);
                    inv_m[r * n + j] ^= mul(f, inv_m[col * n + j]);
                }
            }
        }
    }
    Some(inv_m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_is_primitive_and_tables_agree() {
        let mut seen = [false; 256];
        for (i, &x) in EXP.iter().enumerate().take(255) {
            assert!(!seen[usize::from(x)], "alpha^{i} repeats");
            seen[usize::from(x)] = true;
            assert_eq!(usize::from(LOG[usize::from(x)]), i);
        }
        // x^8 = x^4 + x^3 + x^2 + 1 under 0x11D.
        assert_eq!(EXP[8], 0x1D);
    }

    #[test]
    fn mul_inv_and_distributivity() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1);
            for b in [1u8, 2, 3, 0x53, 0xCA, 0xFF] {
                assert_eq!(mul(a, b), mul(b, a));
                assert_eq!(mul(a, b ^ 7), mul(a, b) ^ mul(a, 7));
            }
        }
        // Carry-less multiply then reduce, as an independent check.
        fn slow(a: u8, b: u8) -> u8 {
            let mut r: u16 = 0;
            for i in 0..8 {
                if b >> i & 1 == 1 {
                    r ^= u16::from(a) << i;
                }
            }
            for i in (8..16).rev() {
                if r >> i & 1 == 1 {
                    r ^= POLYNOMIAL << (i - 8);
                }
            }
            r as u8
        }
        for a in 0..=255u8 {
            for b in [0u8, 1, 2, 0x80, 0x9F, 0xFF] {
                assert_eq!(mul(a, b), slow(a, b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn vector_and_scalar_mul_add_agree() {
        let src: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for c in [2u8, 3, 0x53, 0x8E, 0xFF] {
            for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1000] {
                let mut fast: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut slow = fast.clone();
                mul_add(&mut fast, &src[..len], c);
                for (d, s) in slow.iter_mut().zip(&src[..len]) {
                    *d ^= mul(c, *s);
                }
                assert_eq!(fast, slow, "c={c} len={len}");
            }
        }
    }

    #[test]
    fn invert_round_trips() {
        let m = [2u8, 3, 1, 7, 9, 4, 1, 1, 1];
        let i = invert(&m, 3).unwrap();
        let mut prod = [0u8; 9];
        for r in 0..3 {
            for c in 0..3 {
                prod[r * 3 + c] = (0..3).fold(0, |acc, k| acc ^ mul(m[r * 3 + k], i[k * 3 + c]));
            }
        }
        assert_eq!(prod, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        assert!(invert(&[1, 1, 1, 1], 2).is_none());
    }
}
