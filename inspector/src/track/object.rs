//! One transport object being rebuilt from its encoding symbols ([`ObjectBuilder`], used by the
//! reference receiver), and the symbols of an object kept until its OTI is known
//! ([`PendingSymbols`], used by the receiver and the capture [`super::assembler::Assembler`]:
//! a FLUTE object's OTI may come with an FDT Instance sent after its first packets).
//!
//! A block's decoder (k * E bytes) is created only when the block's first symbol arrives, so
//! memory follows what was received, never the announced transfer length alone.

use std::collections::BTreeMap;

use crate::fec::codec::{BlockDecoder, DecodeStatus, FecError};
use crate::fec::scheme::FecObject;

/// One encoding symbol held before its object's OTI is known.
#[derive(Debug)]
pub struct PendingSymbol {
    pub sbn: u32,
    pub esi: u32,
    /// The Source Block Length where the FEC Payload ID carries it (FEC Encoding ID 129).
    pub sbl: Option<u16>,
    pub data: Vec<u8>,
}

/// The symbols of one object held until its OTI is known, then replayed in arrival order.
/// The caller enforces its byte cap with [`PendingSymbols::bytes`] before each push.
#[derive(Debug, Default)]
pub struct PendingSymbols {
    symbols: Vec<PendingSymbol>,
    bytes: u64,
}

impl PendingSymbols {
    pub fn push(&mut self, sbn: u32, esi: u32, sbl: Option<u16>, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.symbols.push(PendingSymbol {
            sbn,
            esi,
            sbl,
            data: data.to_vec(),
        });
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Every symbol held, in arrival order, and the bytes they released.
    pub fn take(&mut self) -> (Vec<PendingSymbol>, u64) {
        (
            std::mem::take(&mut self.symbols),
            std::mem::take(&mut self.bytes),
        )
    }
}

#[derive(Debug)]
pub struct ObjectBuilder {
    pub fec: FecObject,
    blocks: BTreeMap<u32, Box<dyn BlockDecoder>>,
    decoded_blocks: u64,
    held_bytes: u64,
}

/// What one pushed packet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The symbols were taken (or were duplicates); the object is not complete yet.
    Pending,
    /// This packet completed the object.
    Completed,
    /// The object was already complete.
    AlreadyComplete,
}

impl ObjectBuilder {
    pub fn new(fec: FecObject) -> Self {
        ObjectBuilder {
            fec,
            blocks: BTreeMap::new(),
            decoded_blocks: 0,
            held_bytes: 0,
        }
    }

    /// Bytes a new block `sbn` would allocate, or `None` if it already exists or is out of range.
    pub fn bytes_for_new_block(&self, sbn: u32, sbl: Option<u16>) -> Option<u64> {
        if self.blocks.contains_key(&sbn) {
            return None;
        }
        let info = self.fec.block(sbn)?;
        Some(sbl.map_or(info.k, u64::from) * self.fec.symbol_length)
    }

    /// Adds the symbols of one packet (`esi` names the first; RFC 5052 §9.1 block partition).
    pub fn push(
        &mut self,
        sbn: u32,
        esi: u32,
        sbl: Option<u16>,
        symbols: &[u8],
    ) -> Result<PushOutcome, FecError> {
        if self.is_complete() {
            return Ok(PushOutcome::AlreadyComplete);
        }
        if !self.blocks.contains_key(&sbn) {
            let bytes = self.bytes_for_new_block(sbn, sbl).ok_or_else(|| {
                FecError::InvalidParameters(format!(
                    "SBN {sbn} is past the last of {} blocks (RFC 5052 §9.1)",
                    self.fec.block_count()
                ))
            })?;
            let decoder = self.fec.decoder(sbn, sbl.map(u64::from))?;
            self.blocks.insert(sbn, decoder);
            self.held_bytes += bytes;
        }
        let decoder = self.blocks.get_mut(&sbn).expect("inserted above");
        if decoder.status() == DecodeStatus::Decoded {
            return Ok(PushOutcome::Pending);
        }
        decoder.push_packet(esi, symbols, self.fec.symbol_length as usize)?;
        if decoder.status() == DecodeStatus::Decoded {
            self.decoded_blocks += 1;
            if self.is_complete() {
                return Ok(PushOutcome::Completed);
            }
        }
        Ok(PushOutcome::Pending)
    }

    pub fn is_complete(&self) -> bool {
        self.decoded_blocks == self.fec.block_count()
    }

    /// Bytes held by block decoders.
    pub fn held_bytes(&self) -> u64 {
        self.held_bytes
    }

    /// Useful symbols received and source symbols needed, over the blocks seen so far and the
    /// whole object respectively.
    pub fn progress(&self) -> (u64, u64) {
        let received = self
            .blocks
            .iter()
            .map(|(sbn, d)| match d.status() {
                DecodeStatus::Decoded => self.fec.block(*sbn).map_or(0, |b| b.k),
                DecodeStatus::NeedMore { received, .. } => received as u64,
            })
            .sum();
        let needed = self
            .fec
            .transfer_length
            .div_ceil(self.fec.symbol_length.max(1));
        (received, needed)
    }

    /// The object's bytes, once every block is decoded.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        if !self.is_complete() {
            return None;
        }
        let mut out = Vec::with_capacity(self.fec.transfer_length as usize);
        for (sbn, d) in &self.blocks {
            let len = self.fec.block(*sbn)?.length as usize;
            out.extend_from_slice(&d.source_block()?[..len]);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ext_fti::FecOti;

    fn nocode(len: u64, e: u16, b: u32) -> FecObject {
        FecObject::from_oti(
            0,
            &FecOti::CompactNoCode {
                transfer_length: len,
                reserved: 0,
                encoding_symbol_length: e,
                max_source_block_length: b,
            },
        )
        .unwrap()
    }

    #[test]
    fn completes_out_of_order_and_allocates_per_block() {
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut o = ObjectBuilder::new(nocode(1000, 100, 4));
        assert_eq!(o.fec.block_count(), 3);
        // RFC 5052 §9.1 balances the blocks: 10 symbols make blocks of 4, 3 and 3.
        let mut order: Vec<(u32, u32, usize)> = Vec::new();
        for sbn in 0..3 {
            let info = o.fec.block(sbn).unwrap();
            for esi in 0..info.k as u32 {
                order.push((sbn, esi, (info.offset + u64::from(esi) * 100) as usize));
            }
        }
        assert_eq!(order.len(), 10);
        order.reverse();
        let mut outcomes = Vec::new();
        for (sbn, esi, at) in order {
            let sym = &data[at..(at + 100).min(1000)];
            outcomes.push(o.push(sbn, esi, None, sym).unwrap());
            if outcomes.len() == 1 {
                // Only the last block (3 symbols) is allocated so far.
                assert_eq!(o.held_bytes(), 300);
            }
        }
        assert_eq!(outcomes.last(), Some(&PushOutcome::Completed));
        assert_eq!(
            outcomes
                .iter()
                .filter(|x| **x == PushOutcome::Completed)
                .count(),
            1
        );
        assert_eq!(o.bytes().unwrap(), data);
        assert_eq!(
            o.push(0, 0, None, &data[..100]).unwrap(),
            PushOutcome::AlreadyComplete
        );
    }

    #[test]
    fn refuses_a_block_past_the_partition() {
        let mut o = ObjectBuilder::new(nocode(1000, 100, 4));
        assert!(o.push(3, 0, None, &[0; 100]).is_err());
        assert_eq!(o.held_bytes(), 0);
        assert!(o.bytes().is_none());
    }
}
