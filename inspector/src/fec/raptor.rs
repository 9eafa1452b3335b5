//! Raptor (FEC Encoding ID 1, RFC 5053) through the `raptor-code` crate, with our own object and
//! sub-block partitioning (§5.3.1.2) and checks of the OTI (§3.2) before the crate sees it.
//!
//! With N sub-blocks, sub-block j holds K contiguous sub-symbols and encoding symbol i is the
//! concatenation of sub-symbol i of every sub-block (§5.3.1.2). Raptor is linear with
//! coefficients that depend only on the ESI and K, so coding those concatenated symbols is the
//! same as coding each sub-block: the block is interleaved into symbols, coded, and
//! de-interleaved.

use std::borrow::Cow;

use super::codec::{BlockDecoder, BlockEncoder, DecodeStatus, FecError, SymbolUse};
use super::raptorq::partition;

/// RFC 5053 §3.2.1: F < 2^45.
pub const MAX_TRANSFER_LENGTH: u64 = (1 << 45) - 1;
/// K_max (RFC 5053 §5.3.1.2); the crate needs K >= 4.
pub const MAX_SOURCE_SYMBOLS: u64 = 8192;
pub const MIN_SOURCE_SYMBOLS: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaptorParams {
    pub transfer_length: u64,
    pub symbol_size: u16,
    pub source_blocks: u16,
    pub sub_blocks: u8,
    pub alignment: u8,
}

impl RaptorParams {
    pub fn validate(&self) -> Result<(), FecError> {
        let bad = |why: String| Err(FecError::InvalidParameters(why));
        if self.transfer_length == 0 || self.transfer_length > MAX_TRANSFER_LENGTH {
            return bad(format!(
                "F={} outside 1..2^45 (RFC 5053 §3.2.1)",
                self.transfer_length
            ));
        }
        if self.alignment == 0
            || self.symbol_size == 0
            || !self.symbol_size.is_multiple_of(u16::from(self.alignment))
        {
            return bad(format!(
                "T={} must be a non-zero multiple of Al={} (RFC 5053 §3.2.1)",
                self.symbol_size, self.alignment
            ));
        }
        if self.source_blocks == 0
            || self.sub_blocks == 0
            || u16::from(self.sub_blocks) > self.symbol_size / u16::from(self.alignment)
        {
            return bad(format!(
                "Z={} and 1 <= N={} <= T/Al needed (RFC 5053 §5.3.1.2)",
                self.source_blocks, self.sub_blocks
            ));
        }
        let kt = self.transfer_length.div_ceil(u64::from(self.symbol_size));
        let (kl, ks, _, zs) = partition(kt, u64::from(self.source_blocks));
        if kl > MAX_SOURCE_SYMBOLS || (ks < MIN_SOURCE_SYMBOLS && zs > 0) || kl < MIN_SOURCE_SYMBOLS
        {
            return bad(format!("source blocks of {ks}..{kl} symbols; Raptor needs {MIN_SOURCE_SYMBOLS}..={MAX_SOURCE_SYMBOLS} (RFC 5053 §5.3.1.2)"));
        }
        Ok(())
    }

    pub fn block_symbols(&self, sbn: u16) -> Option<u64> {
        super::raptorq::block_symbols(
            self.transfer_length,
            self.symbol_size,
            u64::from(self.source_blocks),
            u64::from(sbn),
        )
    }

    /// Byte sizes of the sub-symbols: Partition[T/Al, N] in units of Al.
    fn sub_symbol_sizes(&self) -> Vec<usize> {
        let al = usize::from(self.alignment);
        let (tl, ts, nl, _) = partition(
            u64::from(self.symbol_size) / al as u64,
            u64::from(self.sub_blocks),
        );
        (0..u64::from(self.sub_blocks))
            .map(|j| {
                if j < nl {
                    tl as usize * al
                } else {
                    ts as usize * al
                }
            })
            .collect()
    }

    /// Source block (k * T bytes, padded) to k encoding symbols laid end to end.
    fn interleave(&self, block: &[u8], k: usize) -> Vec<u8> {
        let sizes = self.sub_symbol_sizes();
        if sizes.len() == 1 {
            return block.to_vec();
        }
        let t = usize::from(self.symbol_size);
        let mut out = vec![0u8; k * t];
        let mut sub_block_start = 0;
        let mut within = 0;
        for size in sizes {
            for i in 0..k {
                out[i * t + within..i * t + within + size].copy_from_slice(
                    &block[sub_block_start + i * size..sub_block_start + (i + 1) * size],
                );
            }
            sub_block_start += k * size;
            within += size;
        }
        out
    }

    fn deinterleave(&self, symbols: &[u8], k: usize) -> Vec<u8> {
        let sizes = self.sub_symbol_sizes();
        if sizes.len() == 1 {
            return symbols.to_vec();
        }
        let t = usize::from(self.symbol_size);
        let mut out = Vec::with_capacity(k * t);
        let mut within = 0;
        for size in sizes {
            for i in 0..k {
                out.extend_from_slice(&symbols[i * t + within..i * t + within + size]);
            }
            within += size;
        }
        out
    }
}

pub struct RaptorEncoder {
    inner: std::sync::Mutex<raptor_code::SourceBlockEncoder>,
    symbols: Vec<u8>,
    k: usize,
    t: usize,
}

impl std::fmt::Debug for RaptorEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RaptorEncoder {{ k: {}, t: {} }}", self.k, self.t)
    }
}

impl RaptorEncoder {
    pub fn new(params: &RaptorParams, sbn: u16, block: &[u8]) -> Result<Self, FecError> {
        params.validate()?;
        let k = params
            .block_symbols(sbn)
            .ok_or_else(|| FecError::InvalidParameters(format!("no source block {sbn}")))?
            as usize;
        let t = usize::from(params.symbol_size);
        if block.len() > k * t || block.len() <= (k - 1) * t {
            return Err(FecError::InvalidParameters(format!(
                "block {sbn} has {} bytes, not {k} symbols of {t}",
                block.len()
            )));
        }
        let mut padded = block.to_vec();
        padded.resize(k * t, 0);
        let symbols = params.interleave(&padded, k);
        let inner = raptor_code::SourceBlockEncoder::new(&symbols, k)
            .map_err(|e| FecError::InvalidParameters(e.to_string()))?;
        Ok(RaptorEncoder {
            inner: std::sync::Mutex::new(inner),
            symbols,
            k,
            t,
        })
    }
}

impl BlockEncoder for RaptorEncoder {
    fn k(&self) -> usize {
        self.k
    }

    fn symbol(&self, esi: u32) -> Result<Cow<'_, [u8]>, FecError> {
        if esi > u32::from(u16::MAX) {
            return Err(FecError::InvalidParameters(format!(
                "ESI {esi} wider than 16 bits (RFC 5053 §3.1)"
            )));
        }
        if (esi as usize) < self.k {
            let i = esi as usize;
            return Ok(Cow::Borrowed(&self.symbols[i * self.t..(i + 1) * self.t]));
        }
        // The crate's encoder takes &mut self for a lookup it could do through &self.
        let mut s = self
            .inner
            .lock()
            .map_err(|_| FecError::InvalidParameters("encoder poisoned".into()))?
            .fountain(esi);
        s.resize(self.t, 0);
        Ok(Cow::Owned(s))
    }
}

pub struct RaptorDecoder {
    params: RaptorParams,
    k: usize,
    t: usize,
    /// Received symbols until the crate's decoder is started (at k symbols).
    received: std::collections::BTreeMap<u32, Vec<u8>>,
    inner: Option<raptor_code::SourceBlockDecoder>,
    block: Option<Vec<u8>>,
}

impl std::fmt::Debug for RaptorDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RaptorDecoder {{ k: {}, received: {}, decoded: {} }}",
            self.k,
            self.received.len(),
            self.block.is_some()
        )
    }
}

impl RaptorDecoder {
    pub fn new(params: &RaptorParams, sbn: u16) -> Result<Self, FecError> {
        params.validate()?;
        let k = params
            .block_symbols(sbn)
            .ok_or_else(|| FecError::InvalidParameters(format!("no source block {sbn}")))?
            as usize;
        Ok(RaptorDecoder {
            params: *params,
            k,
            t: usize::from(params.symbol_size),
            received: Default::default(),
            inner: None,
            block: None,
        })
    }

    fn finish(&mut self, symbols: Vec<u8>) {
        self.block = Some(self.params.deinterleave(&symbols, self.k));
        self.inner = None;
        self.received.clear();
    }
}

impl BlockDecoder for RaptorDecoder {
    fn push(&mut self, esi: u32, symbol: &[u8]) -> Result<SymbolUse, FecError> {
        if self.block.is_some() || esi > u32::from(u16::MAX) {
            return Ok(SymbolUse::Ignored);
        }
        let short_last_source = esi as usize == self.k - 1 && symbol.len() < self.t;
        if symbol.len() != self.t && !short_last_source {
            return Err(FecError::InvalidSymbol(format!(
                "ESI {esi}: {} bytes, T is {}",
                symbol.len(),
                self.t
            )));
        }
        if self.received.contains_key(&esi) {
            return Ok(SymbolUse::Duplicate);
        }
        let mut s = symbol.to_vec();
        s.resize(self.t, 0);
        if let Some(dec) = self.inner.as_mut() {
            dec.push_encoding_symbol(&s, esi);
        }
        self.received.insert(esi, s);
        if (0..self.k as u32).all(|i| self.received.contains_key(&i)) {
            let symbols: Vec<u8> = (0..self.k as u32)
                .flat_map(|i| self.received[&i].clone())
                .collect();
            self.finish(symbols);
            return Ok(SymbolUse::Accepted);
        }
        if self.inner.is_none() && self.received.len() >= self.k {
            let mut dec = raptor_code::SourceBlockDecoder::new(self.k);
            for (esi, s) in &self.received {
                dec.push_encoding_symbol(s, *esi);
            }
            self.inner = Some(dec);
        }
        let decoded = match self.inner.as_mut() {
            Some(dec) if dec.fully_specified() => dec.decode(self.k * self.t),
            _ => None,
        };
        if let Some(symbols) = decoded {
            self.finish(symbols);
        }
        Ok(SymbolUse::Accepted)
    }

    fn status(&self) -> DecodeStatus {
        DecodeStatus::of(self.block.is_some(), self.received.len(), self.k)
    }

    fn source_block(&self) -> Option<&[u8]> {
        self.block.as_deref()
    }

    fn source_symbol(&self, esi: u32) -> Option<&[u8]> {
        let (i, t) = (esi as usize, self.t);
        if i >= self.k {
            return None;
        }
        match &self.block {
            Some(b) => Some(&b[i * t..(i + 1) * t]),
            // Before decoding, a received symbol is contiguous source bytes only without sub-blocks.
            None => self
                .received
                .get(&esi)
                .map(Vec::as_slice)
                .filter(|_| self.params.sub_blocks == 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repair_symbols_rebuild_blocks_with_and_without_sub_blocks() {
        for p in [
            RaptorParams {
                transfer_length: 60_000,
                symbol_size: 512,
                source_blocks: 2,
                sub_blocks: 1,
                alignment: 4,
            },
            RaptorParams {
                transfer_length: 33_333,
                symbol_size: 256,
                source_blocks: 1,
                sub_blocks: 3,
                alignment: 4,
            },
        ] {
            let data: Vec<u8> = (0..p.transfer_length)
                .map(|i| (i * 131 % 253) as u8)
                .collect();
            let t = usize::from(p.symbol_size);
            let mut offset = 0;
            for sbn in 0..p.source_blocks {
                let k = p.block_symbols(sbn).unwrap() as usize;
                let block = &data[offset..(offset + k * t).min(data.len())];
                offset += k * t;
                let enc = RaptorEncoder::new(&p, sbn, block).unwrap();
                let mut dec = RaptorDecoder::new(&p, sbn).unwrap();
                for esi in (3..k as u32).chain(k as u32..k as u32 + 10) {
                    dec.push(esi, &enc.symbol(esi).unwrap()).unwrap();
                }
                assert_eq!(dec.status(), DecodeStatus::Decoded, "{p:?} block {sbn}");
                assert_eq!(&dec.source_block().unwrap()[..block.len()], block);
            }
        }
    }

    #[test]
    fn out_of_range_parameters_are_rejected() {
        let ok = RaptorParams {
            transfer_length: 10_000,
            symbol_size: 100,
            source_blocks: 1,
            sub_blocks: 1,
            alignment: 4,
        };
        assert!(ok.validate().is_ok());
        for p in [
            RaptorParams { alignment: 0, ..ok },
            RaptorParams {
                symbol_size: 102,
                ..ok
            },
            RaptorParams {
                source_blocks: 0,
                ..ok
            },
            RaptorParams {
                transfer_length: 100 * 8193,
                ..ok
            },
            RaptorParams {
                transfer_length: 300,
                ..ok
            },
            RaptorParams {
                transfer_length: 1 << 45,
                ..ok
            },
            RaptorParams {
                sub_blocks: 26,
                ..ok
            },
        ] {
            assert!(p.validate().is_err(), "{p:?}");
        }
    }
}
