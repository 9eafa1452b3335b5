//! Reed-Solomon over GF(2^8) for the packet erasure channel (RFC 5510 §8), used by FEC Encoding
//! ID 5, ID 2 with m = 8, and ID 129 instance 0 (RFC 5510 §7).
//!
//! The generator matrix is GM = V_{k,k}^-1 * V_{k,n} (§8.2.1) with v_{i,j} = x_j^i: encoding
//! symbol j is the value at x_j of the polynomial of degree < k through the k source symbols, so
//! column j of GM holds the Lagrange basis polynomials of x_0..x_{k-1} evaluated at x_j. Computing
//! columns that way needs no matrix inversion.
//!
//! The evaluation points are those of Luigi Rizzo's codec: x_0 = 0 and x_j = alpha^(j-1). RFC 5510
//! states its goal is compatibility with that codec (§1, §2), and the deployed implementations
//! (Rizzo's, zfec, OpenFEC, the `flute` crate) all use these points; the literal v_{i,j} =
//! alpha^(i*j) of §8.2.1 (x_j = alpha^j) gives other repair symbols that none of them produce. The
//! interop test against the `flute` crate and the unit test `literal_text_differs` pin this down.
//! Codes are shortened by taking the first n columns, so every ESI below 2^8 - 1 is a valid column
//! whatever n the sender chose.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::codec::{BlockDecoder, BlockEncoder, DecodeStatus, FecError, SourceBlock, SymbolUse};
use super::gf256::{alpha_pow, inv, invert, mul, mul_add};

/// Evaluation point of ESI j (Rizzo's codec): 0, then alpha^0, alpha^1, ...
fn point(j: usize) -> u8 {
    if j == 0 {
        0
    } else {
        alpha_pow(j - 1)
    }
}

/// n <= 2^m - 1 (RFC 5510 §8.2).
pub const MAX_ENCODING_SYMBOLS: usize = 255;

/// Lagrange coefficients L_i(alpha^j) for i < k, i.e. column j of GM.
#[derive(Debug, Clone)]
struct Lagrange {
    k: usize,
    /// 1 / prod_{m != i} (x_i - x_m)
    inv_denominators: Vec<u8>,
}

impl Lagrange {
    fn new(k: usize) -> Self {
        let inv_denominators = (0..k)
            .map(|i| {
                let xi = point(i);
                inv((0..k)
                    .filter(|&m| m != i)
                    .fold(1u8, |acc, m| mul(acc, xi ^ point(m))))
            })
            .collect();
        Lagrange {
            k,
            inv_denominators,
        }
    }

    fn column(&self, j: usize) -> Vec<u8> {
        if j < self.k {
            let mut c = vec![0u8; self.k];
            c[j] = 1;
            return c;
        }
        let xj = point(j);
        // P(x_j) = prod_m (x_j - x_m); L_i(x_j) = P(x_j) / ((x_j - x_i) * d_i).
        let p = (0..self.k).fold(1u8, |acc, m| mul(acc, xj ^ point(m)));
        (0..self.k)
            .map(|i| mul(mul(p, inv(xj ^ point(i))), self.inv_denominators[i]))
            .collect()
    }
}

fn check_k(k: usize, e: usize) -> Result<(), FecError> {
    if k == 0 || k > MAX_ENCODING_SYMBOLS || e == 0 {
        return Err(FecError::InvalidParameters(format!(
            "RS GF(2^8) needs 1 <= k <= 255 and E > 0, got k={k}, E={e} (RFC 5510 §8.2)"
        )));
    }
    Ok(())
}

#[derive(Debug)]
pub struct RsEncoder<'a> {
    lagrange: Lagrange,
    source: SourceBlock<'a>,
}

impl<'a> RsEncoder<'a> {
    /// `block` holds the source block (its last symbol may be short).
    pub fn new(block: &'a [u8], k: usize, symbol_length: usize) -> Result<Self, FecError> {
        check_k(k, symbol_length)?;
        Ok(RsEncoder {
            lagrange: Lagrange::new(k),
            source: SourceBlock::new(block, symbol_length, k)?,
        })
    }
}

impl BlockEncoder for RsEncoder<'_> {
    fn k(&self) -> usize {
        self.lagrange.k
    }

    fn symbol(&self, esi: u32) -> Result<Cow<'_, [u8]>, FecError> {
        let j = esi as usize;
        if j < self.k() {
            return Ok(Cow::Borrowed(self.source.symbol(j)));
        }
        if j >= MAX_ENCODING_SYMBOLS {
            return Err(FecError::InvalidParameters(format!(
                "ESI {esi} >= 255 (RFC 5510 §8.2)"
            )));
        }
        let mut out = vec![0u8; self.source.e];
        for (i, c) in self.lagrange.column(j).into_iter().enumerate() {
            mul_add(&mut out, self.source.symbol(i), c);
        }
        Ok(Cow::Owned(out))
    }
}

#[derive(Debug)]
pub struct RsDecoder {
    k: usize,
    symbol_length: usize,
    lagrange: Lagrange,
    received: BTreeMap<usize, Vec<u8>>,
    block: Option<Vec<u8>>,
}

impl RsDecoder {
    pub fn new(k: usize, symbol_length: usize) -> Result<Self, FecError> {
        check_k(k, symbol_length)?;
        Ok(RsDecoder {
            k,
            symbol_length,
            lagrange: Lagrange::new(k),
            received: BTreeMap::new(),
            block: None,
        })
    }

    fn try_decode(&mut self) {
        if self.block.is_some() || self.received.len() < self.k {
            return;
        }
        let (k, e) = (self.k, self.symbol_length);
        let missing: Vec<usize> = (0..k).filter(|i| !self.received.contains_key(i)).collect();
        let mut block = vec![0u8; k * e];
        for (&i, s) in self.received.range(..k) {
            block[i * e..(i + 1) * e].copy_from_slice(s);
        }
        if !missing.is_empty() {
            // Use as many repair symbols as sources are missing: e'_r = e_r - sum_known s_i L_i(x_r)
            // = sum_missing s_m L_m(x_r); solve that t x t system.
            let repairs: Vec<(usize, &Vec<u8>)> = self
                .received
                .range(k..)
                .take(missing.len())
                .map(|(&j, s)| (j, s))
                .collect();
            let t = missing.len();
            let mut a = vec![0u8; t * t];
            let mut rhs: Vec<Vec<u8>> = Vec::with_capacity(t);
            for (row, (j, sym)) in repairs.iter().enumerate() {
                let col = self.lagrange.column(*j);
                let mut r = (*sym).clone();
                for (&i, s) in self.received.range(..k) {
                    mul_add(&mut r, s, col[i]);
                }
                for (c, &m) in missing.iter().enumerate() {
                    a[row * t + c] = col[m];
                }
                rhs.push(r);
            }
            let Some(a_inv) = invert(&a, t) else {
                // Cannot happen for an MDS code with distinct ESIs; keep waiting rather than panic.
                return;
            };
            for (c, &m) in missing.iter().enumerate() {
                let out = &mut block[m * e..(m + 1) * e];
                for (row, r) in rhs.iter().enumerate() {
                    mul_add(out, r, a_inv[c * t + row]);
                }
            }
        }
        self.block = Some(block);
    }
}

impl BlockDecoder for RsDecoder {
    fn push(&mut self, esi: u32, symbol: &[u8]) -> Result<SymbolUse, FecError> {
        let j = esi as usize;
        if j >= MAX_ENCODING_SYMBOLS || self.block.is_some() {
            return Ok(SymbolUse::Ignored);
        }
        let short_last_source = j == self.k - 1 && symbol.len() < self.symbol_length;
        if symbol.len() != self.symbol_length && !short_last_source {
            return Err(FecError::InvalidSymbol(format!(
                "ESI {esi}: {} bytes, symbol length is {}",
                symbol.len(),
                self.symbol_length
            )));
        }
        if self.received.contains_key(&j) {
            return Ok(SymbolUse::Duplicate);
        }
        let mut s = symbol.to_vec();
        s.resize(self.symbol_length, 0);
        self.received.insert(j, s);
        self.try_decode();
        Ok(SymbolUse::Accepted)
    }

    fn status(&self) -> DecodeStatus {
        DecodeStatus::of(self.block.is_some(), self.received.len(), self.k)
    }

    fn source_block(&self) -> Option<&[u8]> {
        self.block.as_deref()
    }

    fn source_symbol(&self, esi: u32) -> Option<&[u8]> {
        let (j, e) = (esi as usize, self.symbol_length);
        if j >= self.k {
            return None;
        }
        match &self.block {
            Some(b) => Some(&b[j * e..(j + 1) * e]),
            None => self.received.get(&j).map(Vec::as_slice),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) as u8
            })
            .collect()
    }

    /// GM = V_kk^-1 * V_kn computed literally (RFC 5510 §8.2.1) for v_{i,j} = x(j)^i.
    fn literal_column(k: usize, j: usize, x: impl Fn(usize) -> u8) -> Vec<u8> {
        let pow = |b: u8, e: usize| (0..e).fold(1u8, |acc, _| mul(acc, b));
        let v = |i: usize, j: usize| pow(x(j), i);
        let vkk: Vec<u8> = (0..k)
            .flat_map(|i| (0..k).map(move |c| (i, c)))
            .map(|(i, c)| v(i, c))
            .collect();
        let inv_m = invert(&vkk, k).unwrap();
        (0..k)
            .map(|i| (0..k).fold(0u8, |acc, l| acc ^ mul(inv_m[i * k + l], v(l, j))))
            .collect()
    }

    #[test]
    fn columns_equal_the_generator_matrix_with_rizzo_points() {
        for k in [1usize, 2, 5, 17, 64] {
            let l = Lagrange::new(k);
            for j in [0, k - 1, k, k + 1, 100, 254] {
                assert_eq!(l.column(j), literal_column(k, j, point), "k={k} j={j}");
            }
        }
    }

    #[test]
    fn literal_text_differs() {
        // x_j = alpha^j, as §8.2.1 reads, is a valid MDS code but not the deployed one.
        let l = Lagrange::new(4);
        assert_ne!(l.column(6), literal_column(4, 6, alpha_pow));
    }

    #[test]
    fn any_k_symbols_rebuild_the_block() {
        let (k, e) = (10usize, 16usize);
        let block = data(k * e - 5, 7);
        let enc = RsEncoder::new(&block, k, e).unwrap();
        let all: Vec<Vec<u8>> = (0..24u32)
            .map(|j| enc.symbol(j).unwrap().into_owned())
            .collect();
        // Drop every pattern of sources, keep k symbols in all.
        for drop_mask in [0b11_1111_1111u32, 0b10_1010_1010, 0b00_0000_0001, 0] {
            let mut dec = RsDecoder::new(k, e).unwrap();
            let mut esis: Vec<u32> = (0..k as u32).filter(|i| drop_mask >> i & 1 == 0).collect();
            esis.extend((k as u32..24).take(k - esis.len()));
            for j in esis {
                let sym = if j as usize == k - 1 {
                    &all[j as usize][..e - 5]
                } else {
                    &all[j as usize][..]
                };
                dec.push(j, sym).unwrap();
            }
            assert_eq!(dec.status(), DecodeStatus::Decoded, "mask {drop_mask:b}");
            assert_eq!(&dec.source_block().unwrap()[..block.len()], &block[..]);
        }
    }

    #[test]
    fn k_minus_one_symbols_are_not_enough_and_high_esis_are_tolerated() {
        let mut dec = RsDecoder::new(4, 8).unwrap();
        for j in [0u32, 5, 6] {
            dec.push(j, &[1; 8]).unwrap();
        }
        assert_eq!(
            dec.status(),
            DecodeStatus::NeedMore {
                received: 3,
                needed: 4
            }
        );
        assert_eq!(dec.push(300, &[0; 8]).unwrap(), SymbolUse::Ignored);
        assert_eq!(dec.push(5, &[1; 8]).unwrap(), SymbolUse::Duplicate);
        assert!(dec.push(7, &[1; 3]).is_err());
    }
}
