//! RaptorQ (FEC Encoding ID 6, RFC 6330) through the `raptorq` crate, with the OTI of §3.3
//! (F, T, Z, N, Al) checked first: the crate asserts on values a hostile sender can send.

use std::borrow::Cow;
use std::iter::once;

use raptorq::{
    EncodingPacket, ObjectTransmissionInformation, PayloadId, SourceBlockDecoder,
    SourceBlockEncoder,
};

use super::codec::{BlockDecoder, BlockEncoder, DecodeStatus, FecError, SymbolUse};

/// RFC 6330 errata 5548: F <= 56403 * 65535 * 255 (Z has 8 bits), below §3.3.2's 946270874880.
pub const MAX_TRANSFER_LENGTH: u64 = 942_574_504_275;
/// K'_max (RFC 6330 §4.4.1.2).
pub const MAX_SOURCE_SYMBOLS: u64 = 56_403;
/// ESIs are 24 bits (RFC 6330 §3.2).
pub const MAX_ESI: u32 = (1 << 24) - 1;

/// The RaptorQ OTI (RFC 6330 §3.3.2, §3.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaptorQParams {
    pub transfer_length: u64,
    pub symbol_size: u16,
    pub source_blocks: u8,
    pub sub_blocks: u16,
    pub alignment: u8,
}

impl RaptorQParams {
    pub fn validate(&self) -> Result<(), FecError> {
        let bad = |why: String| Err(FecError::InvalidParameters(why));
        if self.transfer_length == 0 || self.transfer_length > MAX_TRANSFER_LENGTH {
            return bad(format!(
                "F={} outside 1..={MAX_TRANSFER_LENGTH} (RFC 6330 §3.3.2, errata 5548)",
                self.transfer_length
            ));
        }
        if self.alignment == 0
            || self.symbol_size == 0
            || !self.symbol_size.is_multiple_of(u16::from(self.alignment))
        {
            return bad(format!(
                "T={} must be a non-zero multiple of Al={} (RFC 6330 §4.4.1.2)",
                self.symbol_size, self.alignment
            ));
        }
        if self.source_blocks == 0 || self.sub_blocks == 0 {
            return bad(format!(
                "Z={} and N={} must be at least 1 (RFC 6330 §3.3.3)",
                self.source_blocks, self.sub_blocks
            ));
        }
        let kt = self.transfer_length.div_ceil(u64::from(self.symbol_size));
        if kt.div_ceil(u64::from(self.source_blocks)) > MAX_SOURCE_SYMBOLS {
            return bad(format!(
                "ceil(ceil(F/T)/Z) > {MAX_SOURCE_SYMBOLS} (RFC 6330 §4.4.1.2)"
            ));
        }
        if u64::from(self.source_blocks) > kt {
            return bad(format!(
                "Z={} source blocks for {kt} symbols",
                self.source_blocks
            ));
        }
        // Sub-symbols must be at least Al bytes: T/Al >= N (RFC 6330 §4.4.1.2).
        if u64::from(self.symbol_size / u16::from(self.alignment)) < u64::from(self.sub_blocks) {
            return bad(format!(
                "N={} sub-blocks exceed T/Al={}",
                self.sub_blocks,
                self.symbol_size / u16::from(self.alignment)
            ));
        }
        Ok(())
    }

    fn oti(&self) -> ObjectTransmissionInformation {
        ObjectTransmissionInformation::new(
            self.transfer_length,
            self.symbol_size,
            self.source_blocks,
            self.sub_blocks,
            self.alignment,
        )
    }

    /// Source symbols of block `sbn` (RFC 6330 §4.4.1.2 Partition[Kt, Z]).
    pub fn block_symbols(&self, sbn: u8) -> Option<u64> {
        block_symbols(
            self.transfer_length,
            self.symbol_size,
            u64::from(self.source_blocks),
            u64::from(sbn),
        )
    }

    /// Valid parameters' (K, T) of source block `sbn`, for its encoder or decoder.
    fn checked_block(&self, sbn: u8) -> Result<(usize, usize), FecError> {
        self.validate()?;
        let k = self
            .block_symbols(sbn)
            .ok_or_else(|| FecError::InvalidParameters(format!("no source block {sbn}")))?;
        Ok((k as usize, usize::from(self.symbol_size)))
    }
}

/// Partition[I, J] (RFC 6330 §4.4.1.2): (ceil(I/J), floor(I/J), I - floor(I/J)*J, J - that).
pub fn partition(i: u64, j: u64) -> (u64, u64, u64, u64) {
    if j == 0 {
        return (0, 0, 0, 0);
    }
    let (large, small) = (i.div_ceil(j), i / j);
    let big_count = i - small * j;
    (large, small, big_count, j - big_count)
}

/// Source symbols of block `sbn` of an object of `transfer_length` bytes in symbols of
/// `symbol_size` bytes and `source_blocks` blocks: Partition[ceil(F/T), Z], the same for Raptor
/// (RFC 5053 §5.3.1.2) and RaptorQ (RFC 6330 §4.4.1.2). `None` past the last block.
pub fn block_symbols(
    transfer_length: u64,
    symbol_size: u16,
    source_blocks: u64,
    sbn: u64,
) -> Option<u64> {
    let kt = transfer_length.div_ceil(u64::from(symbol_size.max(1)));
    let (kl, ks, zl, zs) = partition(kt, source_blocks);
    if sbn < zl {
        Some(kl)
    } else if sbn < zl + zs {
        Some(ks)
    } else {
        None
    }
}

#[derive(Debug)]
pub struct RaptorQEncoder {
    inner: SourceBlockEncoder,
    k: usize,
}

impl RaptorQEncoder {
    /// `block` is source block `sbn` (padded to k * T if it is the last one).
    pub fn new(params: &RaptorQParams, sbn: u8, block: &[u8]) -> Result<Self, FecError> {
        let (k, t) = params.checked_block(sbn)?;
        if block.len() > k * t || block.len() <= (k - 1) * t {
            return Err(FecError::InvalidParameters(format!(
                "block {sbn} has {} bytes, not {k} symbols of {t}",
                block.len()
            )));
        }
        let oti = params.oti();
        let inner = if block.len() == k * t {
            SourceBlockEncoder::new(sbn, &oti, block)
        } else {
            let mut padded = block.to_vec();
            padded.resize(k * t, 0);
            SourceBlockEncoder::new(sbn, &oti, &padded)
        };
        Ok(RaptorQEncoder { inner, k })
    }
}

impl BlockEncoder for RaptorQEncoder {
    fn k(&self) -> usize {
        self.k
    }

    fn symbol(&self, esi: u32) -> Result<Cow<'_, [u8]>, FecError> {
        Ok(self.symbols(esi, 1)?.swap_remove(0))
    }

    fn symbols(&self, first: u32, count: u32) -> Result<Vec<Cow<'_, [u8]>>, FecError> {
        let end = first
            .checked_add(count)
            .filter(|&e| e <= MAX_ESI + 1 && count > 0)
            .ok_or_else(|| {
                FecError::InvalidParameters(format!(
                    "ESIs {first}+{count}: empty or wider than 24 bits"
                ))
            })?;
        let k = self.k as u32;
        let mut out = Vec::with_capacity(count as usize);
        if first < k {
            let sources = self.inner.source_packets();
            out.extend(
                sources
                    .into_iter()
                    .skip(first as usize)
                    .take((end.min(k) - first) as usize)
                    .map(|p| Cow::Owned(p.split().1)),
            );
        }
        if end > k {
            let start = first.max(k);
            out.extend(
                self.inner
                    .repair_packets(start - k, end - start)
                    .into_iter()
                    .map(|p| Cow::Owned(p.split().1)),
            );
        }
        Ok(out)
    }
}

#[derive(Debug)]
pub struct RaptorQDecoder {
    inner: SourceBlockDecoder,
    sbn: u8,
    k: usize,
    symbol_size: usize,
    received: std::collections::HashSet<u32>,
    block: Option<Vec<u8>>,
}

impl RaptorQDecoder {
    pub fn new(params: &RaptorQParams, sbn: u8) -> Result<Self, FecError> {
        let (k, t) = params.checked_block(sbn)?;
        Ok(RaptorQDecoder {
            inner: SourceBlockDecoder::new(sbn, &params.oti(), (k * t) as u64),
            sbn,
            k,
            symbol_size: t,
            received: Default::default(),
            block: None,
        })
    }
}

impl BlockDecoder for RaptorQDecoder {
    fn push(&mut self, esi: u32, symbol: &[u8]) -> Result<SymbolUse, FecError> {
        if self.block.is_some() || esi > MAX_ESI {
            return Ok(SymbolUse::Ignored);
        }
        // RFC 6330 §4.4.2: only whole symbols are sent.
        if symbol.len() != self.symbol_size {
            return Err(FecError::InvalidSymbol(format!(
                "ESI {esi}: {} bytes, T is {}",
                symbol.len(),
                self.symbol_size
            )));
        }
        if !self.received.insert(esi) {
            return Ok(SymbolUse::Duplicate);
        }
        let packet = EncodingPacket::new(PayloadId::new(self.sbn, esi), symbol.to_vec());
        self.block = self.inner.decode(once(packet));
        Ok(SymbolUse::Accepted)
    }

    fn status(&self) -> DecodeStatus {
        DecodeStatus::of(self.block.is_some(), self.received.len(), self.k)
    }

    fn source_block(&self) -> Option<&[u8]> {
        self.block.as_deref()
    }

    /// Before decoding, the crate does not expose the source symbols it holds.
    fn source_symbol(&self, esi: u32) -> Option<&[u8]> {
        let (j, t) = (esi as usize, self.symbol_size);
        self.block
            .as_deref()
            .filter(|_| j < self.k)
            .map(|b| &b[j * t..(j + 1) * t])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(f: u64, t: u16, z: u8, n: u16, al: u8) -> RaptorQParams {
        RaptorQParams {
            transfer_length: f,
            symbol_size: t,
            source_blocks: z,
            sub_blocks: n,
            alignment: al,
        }
    }

    #[test]
    fn repair_symbols_rebuild_every_block() {
        for p in [params(100_000, 1024, 3, 1, 8), params(50_001, 512, 1, 4, 4)] {
            let data: Vec<u8> = (0..p.transfer_length)
                .map(|i| (i * 31 % 251) as u8)
                .collect();
            let mut offset = 0usize;
            for sbn in 0..p.source_blocks {
                let k = p.block_symbols(sbn).unwrap() as usize;
                let t = usize::from(p.symbol_size);
                let block = &data[offset..(offset + k * t).min(data.len())];
                offset += k * t;
                let enc = RaptorQEncoder::new(&p, sbn, block).unwrap();
                let mut dec = RaptorQDecoder::new(&p, sbn).unwrap();
                // Drop the first 5 source symbols; send repair symbols instead.
                for esi in (5..k as u32).chain(k as u32..k as u32 + 7) {
                    dec.push(esi, &enc.symbol(esi).unwrap()).unwrap();
                }
                assert_eq!(dec.status(), DecodeStatus::Decoded, "{p:?} block {sbn}");
                assert_eq!(&dec.source_block().unwrap()[..block.len()], block);
            }
        }
    }

    #[test]
    fn parameters_the_crate_would_panic_on_are_rejected() {
        for p in [
            params(0, 1024, 1, 1, 4),
            params(MAX_TRANSFER_LENGTH + 1, 65535, 255, 1, 1),
            params(1000, 1022, 1, 1, 4),
            params(1000, 1024, 1, 1, 0),
            params(1000, 1024, 0, 1, 4),
            params(56_404 * 16, 16, 1, 1, 4),
            params(1000, 16, 1, 5, 4),
        ] {
            assert!(p.validate().is_err(), "{p:?}");
            assert!(RaptorQDecoder::new(&p, 0).is_err());
        }
    }
}
