//! The object-assembly engine shared by the capture [`super::assembler::Assembler`] and the
//! reference receiver. [`ObjectAssembly`] is one transport object being rebuilt: its symbols
//! held until its OTI is known (a FLUTE object's OTI may come with an FDT
//! Instance sent after its first packets), then a decoder per block ([`ObjectBuilder`]), the
//! object-size cap on the OTI, the replay of what was held, and every byte counted against
//! the tracker's [`ByteBudget`]. What it turns away it says ([`Refused`]); each caller keeps
//! only its policy: what a refusal means (a finding and a poisoned object in the inspector, a
//! counter in the receiver), which objects to track, and when an object leaves.
//!
//! A block's decoder (k * E bytes) is created only when the block's first symbol arrives, so
//! memory follows what was received, never the announced transfer length alone.

use std::collections::BTreeMap;

use crate::fec::codec::{BlockDecoder, DecodeStatus, FecError};
use crate::fec::scheme::FecObject;

/// One encoding symbol held before its object's OTI is known.
#[derive(Debug)]
struct PendingSymbol {
    sbn: u32,
    esi: u32,
    /// The Source Block Length where the FEC Payload ID carries it (FEC Encoding ID 129).
    sbl: Option<u16>,
    data: Vec<u8>,
}

/// The symbols of one object held until its OTI is known, then replayed in arrival order.
#[derive(Debug, Default)]
struct PendingSymbols {
    symbols: Vec<PendingSymbol>,
    bytes: u64,
}

impl PendingSymbols {
    fn push(&mut self, sbn: u32, esi: u32, sbl: Option<u16>, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.symbols.push(PendingSymbol {
            sbn,
            esi,
            sbl,
            data: data.to_vec(),
        });
    }

    /// Bytes held.
    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Every symbol held, in arrival order, and the bytes they released.
    fn take(&mut self) -> (Vec<PendingSymbol>, u64) {
        (
            std::mem::take(&mut self.symbols),
            std::mem::take(&mut self.bytes),
        )
    }
}

/// The bytes all objects of one tracker hold (decoders, symbols waiting for their OTI, objects
/// waiting for their description), and the cap on them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByteBudget {
    pub held: u64,
    pub cap: u64,
}

impl ByteBudget {
    pub fn new(cap: u64) -> Self {
        ByteBudget { held: 0, cap }
    }

    /// Whether `bytes` more fit under the cap.
    pub fn fits(&self, bytes: u64) -> bool {
        self.held.saturating_add(bytes) <= self.cap
    }

    pub fn take(&mut self, bytes: u64) {
        self.held += bytes;
    }

    pub fn release(&mut self, bytes: u64) {
        self.held -= bytes;
    }
}

/// Why [`ObjectAssembly`] did not take a packet's symbols.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// Holding them would pass the byte cap: the `bytes` they needed, with `held` already
    /// held; `sbn` is the block that would have been opened (`None`: symbols held until the
    /// OTI is known).
    OverBudget {
        sbn: Option<u32>,
        bytes: u64,
        held: u64,
        cap: u64,
    },
    /// The SBN is past the last of the object's `blocks` (RFC 5052 §9.1).
    SbnPastEnd { sbn: u32, blocks: u64 },
    /// Block `sbn`'s decoder cannot be made from the OTI and the packet's SBL: no symbol of
    /// it can be used.
    BlockUndecodable { sbn: u32, error: FecError },
    /// The symbols do not fit their block (the FEC scheme's rule).
    BadSymbol { sbn: u32, error: FecError },
}

/// One transport object being assembled: its symbols until the OTI is known, its decoders
/// after, all counted against the tracker's [`ByteBudget`]. The caller releases
/// [`ObjectAssembly::held`] from the budget when the object leaves.
#[derive(Debug)]
pub struct ObjectAssembly {
    builder: Option<ObjectBuilder>,
    pending: PendingSymbols,
    /// The codepoint of its first packet: a FLUTE description's FEC Encoding ID must match it
    /// (RFC 6726 §3.4.1, [`super::fdt_description::fdt_object`]).
    pub codepoint: u8,
}

impl ObjectAssembly {
    pub fn new(codepoint: u8) -> Self {
        ObjectAssembly {
            builder: None,
            pending: PendingSymbols::default(),
            codepoint,
        }
    }

    pub fn builder(&self) -> Option<&ObjectBuilder> {
        self.builder.as_ref()
    }

    /// The object's FEC parameters, once its OTI is known.
    pub fn fec(&self) -> Option<&FecObject> {
        self.builder.as_ref().map(|b| &b.fec)
    }

    pub fn has_oti(&self) -> bool {
        self.builder.is_some()
    }

    pub fn is_complete(&self) -> bool {
        self.builder
            .as_ref()
            .is_some_and(ObjectBuilder::is_complete)
    }

    /// Whether symbols wait for the OTI.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Bytes held: decoders and symbols waiting for the OTI.
    pub fn held(&self) -> u64 {
        self.pending.bytes() + self.builder.as_ref().map_or(0, ObjectBuilder::held_bytes)
    }

    /// Sets the OTI (once), refusing an object above `max_object_bytes`: its decoders are then
    /// never made, whatever its symbols. Held symbols wait for [`ObjectAssembly::replay`].
    pub fn set_oti(&mut self, fec: FecObject, max_object_bytes: u64) -> Result<(), String> {
        if fec.transfer_length > max_object_bytes {
            return Err(format!(
                "transfer length {} above the {max_object_bytes}-byte cap",
                fec.transfer_length
            ));
        }
        self.builder.get_or_insert_with(|| ObjectBuilder::new(fec));
        Ok(())
    }

    /// Drops the symbols waiting for an OTI that will not come (the object cannot be rebuilt).
    pub fn discard_pending(&mut self, budget: &mut ByteBudget) {
        let (_, bytes) = self.pending.take();
        budget.release(bytes);
    }

    /// Takes one packet's symbols (`esi` names the first): held until the OTI is known, fed to
    /// their block's decoder after, the block opened on its first symbol; within `budget`.
    pub fn take(
        &mut self,
        budget: &mut ByteBudget,
        sbn: u32,
        esi: u32,
        sbl: Option<u16>,
        symbols: &[u8],
    ) -> Result<PushOutcome, Refused> {
        let Some(builder) = self.builder.as_mut() else {
            let bytes = symbols.len() as u64;
            if !budget.fits(bytes) {
                return Err(Refused::OverBudget {
                    sbn: None,
                    bytes,
                    held: budget.held,
                    cap: budget.cap,
                });
            }
            self.pending.push(sbn, esi, sbl, symbols);
            budget.take(bytes);
            return Ok(PushOutcome::Pending);
        };
        // The SBN first: a symbol past the last block is said even for a complete object.
        let block_bytes = builder
            .block_bytes(sbn, sbl)
            .map_err(|blocks| Refused::SbnPastEnd { sbn, blocks })?;
        if builder.is_complete() {
            return Ok(PushOutcome::AlreadyComplete);
        }
        match block_bytes {
            Some(bytes) if !budget.fits(bytes) => {
                return Err(Refused::OverBudget {
                    sbn: Some(sbn),
                    bytes,
                    held: budget.held,
                    cap: budget.cap,
                })
            }
            Some(_) => {
                let bytes = builder
                    .open_block(sbn, sbl)
                    .map_err(|error| Refused::BlockUndecodable { sbn, error })?;
                budget.take(bytes);
            }
            None => {}
        }
        builder
            .push(sbn, esi, sbl, symbols)
            .map_err(|error| Refused::BadSymbol { sbn, error })
    }

    /// Once the OTI is set: feeds the symbols held for it, in arrival order. Returns whether
    /// they completed the object, and what was refused.
    pub fn replay(&mut self, budget: &mut ByteBudget) -> (bool, Vec<Refused>) {
        if self.builder.is_none() {
            return (false, Vec::new());
        }
        let (pending, bytes) = self.pending.take();
        budget.release(bytes);
        let mut completed = false;
        let mut refused = Vec::new();
        for p in pending {
            match self.take(budget, p.sbn, p.esi, p.sbl, &p.data) {
                Ok(PushOutcome::Completed) => completed = true,
                Ok(_) => {}
                Err(r) => refused.push(r),
            }
        }
        (completed, refused)
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

    /// Bytes block `sbn` would allocate when opened: `Ok(None)` when it is open already,
    /// `Err(blocks)` when `sbn` is past the last of the object's `blocks` (RFC 5052 §9.1).
    fn block_bytes(&self, sbn: u32, sbl: Option<u16>) -> Result<Option<u64>, u64> {
        if self.blocks.contains_key(&sbn) {
            return Ok(None);
        }
        let info = self.fec.block(sbn).ok_or(self.fec.block_count())?;
        Ok(Some(sbl.map_or(info.k, u64::from) * self.fec.symbol_length))
    }

    /// Opens block `sbn` (its decoder, k * E bytes) if it is not open: for a caller that
    /// treats a block that cannot be decoded apart from a bad symbol. Returns the bytes
    /// allocated.
    fn open_block(&mut self, sbn: u32, sbl: Option<u16>) -> Result<u64, FecError> {
        let bytes = match self.block_bytes(sbn, sbl) {
            Ok(None) => return Ok(0),
            Ok(Some(bytes)) => bytes,
            Err(blocks) => {
                return Err(FecError::InvalidParameters(format!(
                    "SBN {sbn} is past the last of {blocks} blocks (RFC 5052 §9.1)"
                )))
            }
        };
        let decoder = self.fec.decoder(sbn, sbl.map(u64::from))?;
        self.blocks.insert(sbn, decoder);
        self.held_bytes += bytes;
        Ok(bytes)
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
        self.open_block(sbn, sbl)?;
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

    /// Blocks decoded so far.
    pub fn decoded_blocks(&self) -> u64 {
        self.decoded_blocks
    }

    /// Per block opened: (SBN, useful symbols received, source symbols needed).
    pub fn per_block(&self) -> Vec<(u32, u64, u64)> {
        self.blocks
            .iter()
            .map(|(sbn, d)| {
                let k = self.fec.block(*sbn).map_or(0, |i| i.k);
                let received = match d.status() {
                    DecodeStatus::Decoded => k,
                    DecodeStatus::NeedMore { received, .. } => received as u64,
                };
                (*sbn, received, k)
            })
            .collect()
    }

    /// The object with every known source symbol in place and zeros elsewhere, and the number
    /// of bytes missing. Allocates the transfer length, which the caller's object-size cap
    /// bounds.
    pub fn partial(&self) -> (Vec<u8>, u64) {
        let fec = &self.fec;
        let mut buf = vec![0u8; fec.transfer_length as usize];
        let mut known = 0u64;
        let e = fec.symbol_length;
        for (sbn, d) in &self.blocks {
            let Some(info) = fec.block(*sbn) else {
                continue;
            };
            for esi in 0..info.k {
                let start = esi * e;
                if start >= info.length {
                    break;
                }
                if let Some(sym) = d.source_symbol(esi as u32) {
                    let len = e.min(info.length - start) as usize;
                    let at = (info.offset + start) as usize;
                    buf[at..at + len].copy_from_slice(&sym[..len]);
                    known += len as u64;
                }
            }
        }
        (buf, fec.transfer_length - known)
    }

    /// Bytes held by block decoders.
    pub fn held_bytes(&self) -> u64 {
        self.held_bytes
    }

    /// Useful symbols received and source symbols needed, over the blocks seen so far and the
    /// whole object respectively.
    pub fn progress(&self) -> (u64, u64) {
        let received = self.per_block().iter().map(|(_, r, _)| r).sum();
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
            // FEC Encoding ID 129 takes a block's k from the packet's SBL, which may be
            // smaller than the partition's: such a block cannot fill its place (no object).
            out.extend_from_slice(d.source_block()?.get(..len)?);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_whose_sbl_is_below_its_partition_gives_no_object_and_no_panic() {
        // FEC 129: the packet's SBL (1) says the block has one source symbol where the RFC 5052
        // §9.1 partition of 2,000 bytes in 1,000-byte symbols (B = 2) gives it two.
        let fec = FecObject::from_oti(
            129,
            &FecOti::SmallBlockSystematic {
                transfer_length: 2000,
                instance_id: 0,
                encoding_symbol_length: 1000,
                max_source_block_length: 2,
                max_encoding_symbols: 2,
                scheme_specific: None,
            },
        )
        .unwrap();
        let mut o = ObjectBuilder::new(fec);
        assert_eq!(
            o.push(0, 0, Some(1), &[7; 1000]),
            Ok(PushOutcome::Completed)
        );
        assert_eq!(o.bytes(), None);
        // With the partition's SBL the same object is rebuilt.
        let mut o = ObjectBuilder::new(o.fec.clone());
        o.push(0, 0, Some(2), &[7; 1000]).unwrap();
        assert_eq!(
            o.push(0, 1, Some(2), &[8; 1000]),
            Ok(PushOutcome::Completed)
        );
        assert_eq!(o.bytes().map(|b| b.len()), Some(2000));
    }
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
    fn an_assembly_holds_symbols_until_its_oti_then_replays_them_within_its_budget() {
        let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        // Room for two held symbols, not three.
        let mut budget = ByteBudget::new(250);
        let mut a = ObjectAssembly::new(0);
        for esi in 0..2u32 {
            let at = esi as usize * 100;
            let taken = a.take(&mut budget, 0, esi, None, &data[at..at + 100]);
            assert_eq!(taken, Ok(PushOutcome::Pending));
        }
        assert_eq!((a.held(), budget.held), (200, 200));
        assert_eq!(
            a.take(&mut budget, 0, 2, None, &data[200..]),
            Err(Refused::OverBudget {
                sbn: None,
                bytes: 100,
                held: 200,
                cap: 250
            })
        );
        // The OTI: an object above the size cap is refused, whatever its symbols.
        assert!(a
            .set_oti(nocode(300, 100, 3), 299)
            .unwrap_err()
            .contains("above the 299-byte cap"));
        assert!(!a.has_oti());
        a.set_oti(nocode(300, 100, 3), 300).unwrap();
        // Replayed: the held bytes are released and the block's decoder (300 bytes) does not
        // fit beside nothing else under 250.
        let (completed, refused) = a.replay(&mut budget);
        assert!(!completed);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(matches!(
            refused[0],
            Refused::OverBudget {
                sbn: Some(0),
                bytes: 300,
                ..
            }
        ));
        assert_eq!((a.held(), budget.held), (0, 0));
        // With room, the same symbols rebuild the object, and a block past the last is said.
        let mut budget = ByteBudget::new(1000);
        let mut a = ObjectAssembly::new(0);
        a.take(&mut budget, 0, 0, None, &data[..100]).unwrap();
        a.set_oti(nocode(300, 100, 3), 300).unwrap();
        assert_eq!(a.replay(&mut budget), (false, vec![]));
        assert_eq!(
            a.take(&mut budget, 1, 0, None, &data[..100]),
            Err(Refused::SbnPastEnd { sbn: 1, blocks: 1 })
        );
        a.take(&mut budget, 0, 1, None, &data[100..200]).unwrap();
        assert_eq!(
            a.take(&mut budget, 0, 2, None, &data[200..]),
            Ok(PushOutcome::Completed)
        );
        assert_eq!(a.builder().and_then(ObjectBuilder::bytes), Some(data));
        assert_eq!(budget.held, a.held());
        budget.release(a.held());
        assert_eq!(budget.held, 0);
    }

    #[test]
    fn refuses_a_block_past_the_partition() {
        let mut o = ObjectBuilder::new(nocode(1000, 100, 4));
        assert!(o.push(3, 0, None, &[0; 100]).is_err());
        assert_eq!(o.held_bytes(), 0);
        assert!(o.bytes().is_none());
    }
}
