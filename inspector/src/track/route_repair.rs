//! ROUTE repair flows (A/331 §A.4): RaptorQ (RFC 6330) repair symbols computed over the *FEC
//! transport object* of a source object, which is the object's F bytes, zero padding, and F
//! itself as a 4-byte big-endian number, S = ceil((F + 4) / T) symbols of T bytes in all
//! (§A.4.2). The padding and the length are never sent; a receiver knows them once it knows F.
//! The repair flow's parameters (T, Z, N, Al) are the S-TSID's `RprFlow/FECParameters@fecOTI`
//! (12 bytes: F 40 bits, reserved 8, T 16, Z 8, N 16, Al 8; §A.4.3.2), and a repair packet's TOI
//! is its source object's (the default mapping of §A.4.3.3); `ProtectedObject@tsi` names the
//! source flow.
//!
//! Shared by the inspector's ROUTE assembler (to rebuild an object from what its source flow
//! delivered plus repair symbols) and the reference sender (to compute them).

use std::borrow::Cow;

use crate::fec::codec::{BlockDecoder, BlockEncoder, DecodeStatus};
use crate::fec::raptorq::{RaptorQDecoder, RaptorQEncoder, RaptorQParams};
use crate::track::byte_ranges::ByteRangeObject;
pub use crate::wire::route::RepairFlow;

/// Repair symbols kept for one object, and their bytes (bounds memory per object).
pub const MAX_REPAIR_SYMBOLS: usize = 65_536;

impl RepairFlow {
    /// S: symbols of the FEC transport object of an object of `len` bytes.
    pub fn transport_symbols(&self, len: u64) -> u64 {
        (len + 4).div_ceil(u64::from(self.symbol_size.max(1)))
    }

    /// The RaptorQ OTI of that transport object.
    pub fn params(&self, len: u64) -> RaptorQParams {
        RaptorQParams {
            transfer_length: self.transport_symbols(len) * u64::from(self.symbol_size),
            symbol_size: self.symbol_size,
            source_blocks: self.source_blocks,
            sub_blocks: self.sub_blocks,
            alignment: self.alignment,
        }
    }

    /// The FEC transport object of `object` (A/331 §A.4.2).
    pub fn transport_object(&self, object: &[u8]) -> Vec<u8> {
        let total = self.params(object.len() as u64).transfer_length as usize;
        let mut v = object.to_vec();
        v.resize(total - 4, 0);
        v.extend((object.len() as u32).to_be_bytes());
        v
    }

    /// `count` repair symbols of each source block of `object`: (SBN, ESI, symbol).
    pub fn repair_symbols(
        &self,
        object: &[u8],
        count: u32,
    ) -> Result<Vec<(u8, u32, Vec<u8>)>, String> {
        let params = self.params(object.len() as u64);
        params.validate().map_err(|e| e.to_string())?;
        let transport = self.transport_object(object);
        let t = usize::from(self.symbol_size);
        let mut out = Vec::new();
        let mut at = 0usize;
        for sbn in 0..self.source_blocks {
            let k = params.block_symbols(sbn).unwrap_or(0) as usize;
            let block = &transport[at..at + k * t];
            at += k * t;
            let enc = RaptorQEncoder::new(&params, sbn, block).map_err(|e| e.to_string())?;
            let symbols = enc.symbols(k as u32, count).map_err(|e| e.to_string())?;
            out.extend(
                symbols
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (sbn, k as u32 + i as u32, Cow::into_owned(s))),
            );
        }
        Ok(out)
    }
}

/// The repair symbols received for one source object.
#[derive(Debug, Clone)]
pub struct RepairSymbols {
    pub flow: RepairFlow,
    symbols: Vec<(u8, u32, Vec<u8>)>,
    seen: std::collections::HashSet<(u8, u32)>,
    pub bytes: u64,
    /// Repair symbols and source bytes at the last failed attempt: the next waits for more.
    tried_with: (usize, u64),
}

impl RepairSymbols {
    pub fn new(flow: RepairFlow) -> Self {
        RepairSymbols {
            flow,
            symbols: Vec::new(),
            seen: Default::default(),
            bytes: 0,
            tried_with: (0, 0),
        }
    }

    /// Keeps a repair symbol (a repeat of one held is ignored).
    pub fn push(&mut self, sbn: u8, esi: u32, symbol: &[u8]) {
        if self.symbols.len() < MAX_REPAIR_SYMBOLS && self.seen.insert((sbn, esi)) {
            self.bytes += symbol.len() as u64;
            self.symbols.push((sbn, esi, symbol.to_vec()));
        }
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Rebuilds the object of `length` bytes from the source bytes received in `object` and
    /// the repair symbols, when every block has enough symbols: `None` when it does not (yet),
    /// `Some(Err)` when decoding or the transport object's trailing length disagrees.
    pub fn try_decode(
        &mut self,
        object: &ByteRangeObject,
        length: u64,
    ) -> Option<Result<Vec<u8>, String>> {
        // Only a change can make a failed attempt succeed: more repair symbols or more source
        // bytes (and the bound below keeps most attempts to O(1)).
        let covered = object.ranges.covered(length);
        let t64 = u64::from(self.flow.symbol_size.max(1));
        if (self.symbols.len(), covered) == self.tried_with {
            return None;
        }
        if self.flow.sub_blocks != 1 {
            return Some(Err(format!(
                "repair flow with N={} sub-blocks: not decoded (only N=1)",
                self.flow.sub_blocks
            )));
        }
        if length > u64::from(u32::MAX) - 4 {
            return Some(Err(format!(
                "an object of {length} bytes: the FEC transport object's 4-byte length cannot hold it (A/331 §A.4.2)"
            )));
        }
        // At most covered / T source symbols are known whole from received bytes, plus the one
        // holding the object's end (its padding is known) and one of padding and length alone:
        // with the repair symbols, too few means the count below is not worth it.
        let upper = covered / t64 + 2 + self.symbols.len() as u64;
        let params = self.flow.params(length);
        if params.validate().is_err() {
            return Some(Err(format!(
                "repair flow parameters invalid for {length} bytes: {:?}",
                params.validate().err()
            )));
        }
        if upper < params.transfer_length / t64 {
            self.tried_with = (self.symbols.len(), covered);
            return None;
        }
        let t = usize::from(self.flow.symbol_size);
        let total = params.transfer_length as usize;
        // The transport object's bytes known: the object's received ranges, then padding and
        // the length, which follow from `length`.
        let known = |i: usize| -> Option<Vec<u8>> {
            let (s, e) = (i * t, (i + 1) * t);
            let mut sym = vec![0u8; t];
            let data_end = (length as usize).min(e);
            if s < data_end {
                sym[..data_end - s].copy_from_slice(object.slice(s as u64, data_end as u64)?);
            }
            let trailer = (length as u32).to_be_bytes();
            for (j, b) in trailer.iter().enumerate() {
                let at = total - 4 + j;
                if (s..e).contains(&at) {
                    sym[at - s] = *b;
                }
            }
            Some(sym)
        };
        // Enough symbols in every block?
        let mut first = 0usize;
        let mut blocks = Vec::new();
        for sbn in 0..self.flow.source_blocks {
            let k = params.block_symbols(sbn).unwrap_or(0) as usize;
            let sources: Vec<(u32, Vec<u8>)> = (0..k)
                .filter_map(|j| known(first + j).map(|s| (j as u32, s)))
                .collect();
            let repairs = self.symbols.iter().filter(|(b, _, _)| *b == sbn).count();
            if sources.len() + repairs < k {
                self.tried_with = (self.symbols.len(), covered);
                return None;
            }
            blocks.push((sbn, sources));
            first += k;
        }
        self.tried_with = (self.symbols.len(), covered);
        let mut out = Vec::with_capacity(total);
        for (sbn, sources) in blocks {
            let mut dec = match RaptorQDecoder::new(&params, sbn) {
                Ok(d) => d,
                Err(e) => return Some(Err(e.to_string())),
            };
            for (esi, s) in sources {
                if let Err(e) = dec.push(esi, &s) {
                    return Some(Err(e.to_string()));
                }
            }
            for (_, esi, s) in self.symbols.iter().filter(|(b, _, _)| *b == sbn) {
                if dec.status() == DecodeStatus::Decoded {
                    break;
                }
                if let Err(e) = dec.push(*esi, s) {
                    return Some(Err(format!("repair symbol SBN {sbn} ESI {esi}: {e}")));
                }
            }
            match dec.source_block() {
                Some(b) => out.extend_from_slice(b),
                // Not decodable with these symbols: wait for more.
                None => return None,
            }
        }
        let trailer = u32::from_be_bytes(out[total - 4..total].try_into().ok()?);
        if u64::from(trailer) != length {
            return Some(Err(format!(
                "the repaired FEC transport object ends with length {trailer}, not {length} (A/331 §A.4.2)"
            )));
        }
        out.truncate(length as usize);
        Some(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> RepairFlow {
        RepairFlow {
            protects_tsi: 1,
            symbol_size: 64,
            source_blocks: 2,
            sub_blocks: 1,
            alignment: 4,
        }
    }

    #[test]
    fn the_fec_oti_reads_back_and_the_transport_object_ends_with_the_length() {
        let f = flow();
        let hex = f.fec_oti_hex(1000);
        assert_eq!(hex.len(), 24);
        assert_eq!(RepairFlow::from_fec_oti(&hex, 1), Some(f));
        // ceil(1004 / 64) = 16 symbols.
        assert_eq!(&hex[..10], format!("{:010X}", 16 * 64));
        let t = f.transport_object(&[7u8; 1000]);
        assert_eq!(t.len(), 1024);
        assert_eq!(&t[1020..], &1000u32.to_be_bytes());
        assert!(t[1000..1020].iter().all(|&b| b == 0));
        assert!(RepairFlow::from_fec_oti("00", 1).is_none());
    }

    #[test]
    fn lost_source_bytes_come_back_from_repair_symbols_and_not_without_enough() {
        let f = flow();
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let repairs = f.repair_symbols(&data, 4).unwrap();
        assert_eq!(repairs.len(), 8, "4 per block, 2 blocks");
        // Received: all but bytes 100..300 (symbols 1..4 of block 0 are incomplete: 4 lost).
        let mut o = ByteRangeObject::default();
        o.push(0, &data[..100], 1 << 20).unwrap();
        o.push(300, &data[300..], 1 << 20).unwrap();
        let mut r = RepairSymbols::new(f);
        // Block 0 only: block 0 has 4 lost, 3 repair symbols are not enough.
        for (sbn, esi, s) in repairs.iter().filter(|x| x.0 == 0).take(3) {
            r.push(*sbn, *esi, s);
        }
        assert!(r.try_decode(&o, 1000).is_none());
        for (sbn, esi, s) in repairs.iter().skip(3) {
            r.push(*sbn, *esi, s);
        }
        // A repeated repair packet is one symbol, not two.
        let (sbn, esi, s) = &repairs[7];
        r.push(*sbn, *esi, s);
        assert_eq!(r.len(), 8);
        assert_eq!(r.try_decode(&o, 1000), Some(Ok(data.clone())));
        // A wrong length: the trailer disagrees (or the symbols do not decode).
        let mut wrong = RepairSymbols::new(f);
        for (sbn, esi, s) in &repairs {
            wrong.push(*sbn, *esi, s);
        }
        assert!(matches!(wrong.try_decode(&o, 1001), Some(Err(_))));
        // Sub-blocks (N > 1) interleave sub-symbols: refused, not decoded wrongly.
        let mut n2 = RepairSymbols::new(RepairFlow { sub_blocks: 2, ..f });
        n2.push(0, 20, &[0; 64]);
        assert!(matches!(n2.try_decode(&o, 1000), Some(Err(e)) if e.contains("sub-blocks")));
    }
}
