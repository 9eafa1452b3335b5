//! EXT_FDT (HET 192, fixed size; RFC 6726 §3.4.1): `HET | V(4) | FDT Instance ID(20)`.
//! V=2 is FLUTE (RFC 6726); V=1 is the RFC 3926 FLUTE still sent by deployed senders.

use crate::registry;
use serde::Serialize;

use super::finding::Findings;

pub const FDT_INSTANCE_ID_MODULUS: u32 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExtFdt {
    pub version: u8,
    pub instance_id: u32,
}

impl ExtFdt {
    /// `hec` is the 3-byte content after HET.
    pub(crate) fn parse(hec: [u8; 3], base: usize, f: &mut Findings) -> Self {
        let word = u32::from_be_bytes([0, hec[0], hec[1], hec[2]]);
        let version = (word >> 20) as u8;
        let instance_id = word & (FDT_INSTANCE_ID_MODULUS - 1);
        match version {
            2 => {}
            1 => f.raise(
                &registry::flute::EXT_FDT_VERSION1,
                "version",
                base,
                "EXT_FDT V=1: FLUTE version 1 (RFC 3926), not RFC 6726",
            ),
            v => f.raise(
                &registry::flute::EXT_FDT_VERSION_UNSUPPORTED,
                "version",
                base,
                format!("EXT_FDT V={v}, RFC 6726 defines V=2"),
            ),
        }
        ExtFdt {
            version,
            instance_id,
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let word = (u32::from(self.version & 0xF) << 20) | (self.instance_id & 0xF_FFFF);
        out.extend_from_slice(&word.to_be_bytes()[1..]);
    }
}
