//! A transport object ready to send: its bytes, FEC OTI, block partition and repair symbols.
//! Repair symbols are computed once when the object is added, so every cycle of a carousel
//! sends the same encoding symbols without encoding again.

use rmt_inspector::fec::codec::FecError;
use std::borrow::Cow;

use rmt_inspector::fec::scheme::{BlockInfo, Codec, FecObject};
use rmt_inspector::wire::ext_fti::FecOti;
use rmt_inspector::wire::fec_payload_id::FecPayloadId;
use rmt_inspector::wire::lct::HeaderExtension;

use crate::fec_config::FecConfig;
use crate::packet::ext_fti;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A file (FLUTE) or an ordinary Compound Object (FCAST).
    File,
    /// An FDT Instance on TOI 0 (RFC 6726 §3.4).
    Fdt { instance_id: u32 },
    /// A Carousel Instance Descriptor (RFC 6968 §2.2).
    Cid { ciid: u64 },
}

#[derive(Debug)]
pub struct PreparedObject {
    pub kind: ObjectKind,
    pub name: String,
    pub toi: u128,
    pub encoding_id: u8,
    pub oti: FecOti,
    pub fec: FecObject,
    pub fec_config: FecConfig,
    /// The bytes sent (for FCAST, the whole Compound Object).
    pub transport: Vec<u8>,
    pub blocks: Vec<BlockInfo>,
    /// Per block, the repair symbols sent after the k source symbols.
    pub repair: Vec<Vec<Vec<u8>>>,
    pub fti: HeaderExtension,
    /// The {TOI; CIID} of the object's first transmission (RFC 6968 §3.6), once committed.
    pub first_sent: Option<(u128, u64)>,
    /// Length and SHA-256 of the content before FCAST packaging (for manifests and FDTs).
    pub content_length: u64,
}

impl PreparedObject {
    pub fn new(
        kind: ObjectKind,
        name: String,
        toi: u128,
        fec_config: &FecConfig,
        transport: Vec<u8>,
        content_length: u64,
    ) -> Result<Self, FecError> {
        let oti = fec_config.oti(transport.len() as u64)?;
        let fec = FecObject::from_oti(fec_config.encoding_id, &oti)?;
        let blocks: Vec<BlockInfo> = (0..fec.block_count() as u32)
            .map(|sbn| fec.block(sbn).expect("within block_count"))
            .collect();
        let mut repair = Vec::with_capacity(blocks.len());
        for b in &blocks {
            let n = fec_config.repair_count(b.k, b.n);
            if n == 0 {
                repair.push(Vec::new());
                continue;
            }
            let data = &transport[b.offset as usize..(b.offset + b.length) as usize];
            let enc = fec.encoder(b.sbn, data)?;
            let symbols = enc.symbols(b.k as u32, n as u32)?;
            repair.push(symbols.into_iter().map(|s| s.into_owned()).collect());
        }
        let fti = ext_fti(fec_config.encoding_id, &oti)
            .map_err(|e| FecError::InvalidParameters(e.to_string()))?;
        Ok(PreparedObject {
            kind,
            name,
            toi,
            encoding_id: fec_config.encoding_id,
            oti,
            fec,
            fec_config: fec_config.clone(),
            transport,
            blocks,
            repair,
            fti,
            first_sent: None,
            content_length,
        })
    }

    /// Every (SBN, ESI) sent in one cycle: per block, the source symbols, then the repair ones.
    pub fn symbol_ids(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for (b, rep) in self.blocks.iter().zip(&self.repair) {
            let n = b.k as u32 + rep.len() as u32;
            out.extend((0..n).map(|esi| (b.sbn, esi)));
        }
        out
    }

    /// The encoding symbol (SBN, ESI). A short last source symbol is sent unpadded where
    /// RFC 5052 §9.1 allows it, and padded to T for Raptor and RaptorQ, whose source blocks are
    /// whole symbols (RFC 5053 §5.3.1.2, RFC 6330 §4.4.1.2).
    pub fn symbol(&self, sbn: u32, esi: u32) -> Cow<'_, [u8]> {
        let b = &self.blocks[sbn as usize];
        if u64::from(esi) < b.k {
            let e = self.fec.symbol_length;
            let start = b.offset + u64::from(esi) * e;
            let end = (start + e).min(b.offset + b.length);
            let sym = &self.transport[start as usize..end as usize];
            if sym.len() < e as usize
                && matches!(self.fec.codec, Codec::Raptor(_) | Codec::RaptorQ(_))
            {
                let mut padded = sym.to_vec();
                padded.resize(e as usize, 0);
                return Cow::Owned(padded);
            }
            Cow::Borrowed(sym)
        } else {
            Cow::Borrowed(&self.repair[sbn as usize][(u64::from(esi) - b.k) as usize])
        }
    }

    pub fn payload_id(&self, sbn: u32, esi: u32) -> FecPayloadId {
        FecPayloadId {
            encoding_id: self.encoding_id,
            m: None,
            sbn,
            sbl: (self.encoding_id == 129).then(|| self.blocks[sbn as usize].k as u16),
            esi,
        }
    }
}
