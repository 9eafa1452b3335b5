//! The FEC Payload ID of each FEC Encoding ID (RFC 5052 §3.2, §6.3): field widths per scheme.
//!
//! | ID  | scheme                         | SBN bits | SBL bits | ESI bits | RFC |
//! |-----|--------------------------------|----------|----------|----------|-----|
//! | 0   | Compact No-Code                | 16       | -        | 16       | 5445 §3.2.1 |
//! | 1   | Raptor                         | 16       | -        | 16       | 5053 §3.1 |
//! | 2   | Reed-Solomon GF(2^m)           | 32-m     | -        | m        | 5510 §4.1 |
//! | 3,4 | LDPC Staircase / Triangle      | 12       | -        | 20       | 5170 §4.1 |
//! | 5   | Reed-Solomon GF(2^8)           | 24       | -        | 8        | 5510 §5.1 |
//! | 6   | RaptorQ                        | 8        | -        | 24       | 6330 §3.2 |
//! | 128 | Small/Large Block, Expandable  | 32       | -        | 32       | 5445 §4.2.1 |
//! | 129 | Small Block Systematic         | 32       | 16       | 16       | 5445 §5.2.1 |
//! | 130 | Compact FEC                    | 16       | -        | 16       | 5445 §6.2.1 |

use crate::registry;
use serde::Serialize;

use super::error::WireError;
use super::reader::{check_width, put_uint, Reader};

/// The FEC Encoding IDs this dissector knows.
pub const KNOWN_ENCODING_IDS: [u8; 10] = [0, 1, 2, 3, 4, 5, 6, 128, 129, 130];

/// Bit widths of one scheme's FEC Payload ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadIdLayout {
    pub sbn_bits: u32,
    pub sbl_bits: u32,
    pub esi_bits: u32,
    pub rule: &'static str,
}

impl PayloadIdLayout {
    pub fn len(&self) -> usize {
        ((self.sbn_bits + self.sbl_bits + self.esi_bits) / 8) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `m` is the Reed-Solomon field size of ID 2 (default 8, RFC 5510 §4.2.3).
    pub fn for_scheme(encoding_id: u8, m: Option<u8>) -> Result<Self, WireError> {
        Self::lookup(encoding_id, m).ok_or_else(|| Self::no_layout(encoding_id, m))
    }

    /// Why [`Self::lookup`] found no layout.
    fn no_layout(encoding_id: u8, m: Option<u8>) -> WireError {
        match encoding_id {
            2 => WireError::of(
                &registry::fec::RS_M_INVALID,
                "m",
                0,
                format!("m={}, must be 2..16", m.unwrap_or(8)),
            ),
            other => WireError::of(
                &registry::fec::ENCODING_ID_UNKNOWN,
                "fec_encoding_id",
                0,
                format!("FEC Encoding ID {other} has no known FEC Payload ID format"),
            ),
        }
    }

    /// [`Self::for_scheme`] without the error: a small value on the per-packet path, where the
    /// error (with its formatted detail) would be built and moved for nothing.
    #[inline]
    pub fn lookup(encoding_id: u8, m: Option<u8>) -> Option<Self> {
        let l = |sbn_bits, sbl_bits, esi_bits, rule| PayloadIdLayout {
            sbn_bits,
            sbl_bits,
            esi_bits,
            rule,
        };
        Some(match encoding_id {
            0 => l(16, 0, 16, "RFC 5445 §3.2.1"),
            1 => l(16, 0, 16, "RFC 5053 §3.1"),
            2 => {
                let m = m.unwrap_or(8);
                if !(2..=16).contains(&m) {
                    return None;
                }
                l(32 - u32::from(m), 0, u32::from(m), "RFC 5510 §4.1")
            }
            3 | 4 => l(12, 0, 20, "RFC 5170 §4.1"),
            5 => l(24, 0, 8, "RFC 5510 §5.1"),
            6 => l(8, 0, 24, "RFC 6330 §3.2"),
            128 => l(32, 0, 32, "RFC 5445 §4.2.1"),
            129 => l(32, 16, 16, "RFC 5445 §5.2.1"),
            130 => l(16, 0, 16, "RFC 5445 §6.2.1"),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FecPayloadId {
    pub encoding_id: u8,
    /// RS field size for ID 2 when it is not the default 8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m: Option<u8>,
    pub sbn: u32,
    /// Source Block Length, ID 129 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbl: Option<u16>,
    pub esi: u32,
}

impl FecPayloadId {
    pub fn layout(&self) -> Result<PayloadIdLayout, WireError> {
        PayloadIdLayout::for_scheme(self.encoding_id, self.m)
    }

    /// Parses the FEC Payload ID at the start of `input` (what follows is the symbol data).
    pub fn parse(input: &[u8], encoding_id: u8, m: Option<u8>) -> Result<Self, WireError> {
        let layout = PayloadIdLayout::lookup(encoding_id, m)
            .ok_or_else(|| PayloadIdLayout::no_layout(encoding_id, m))?;
        let mut r = Reader::new(input, &registry::fec::PAYLOAD_ID_TRUNCATED);
        r.set_rule(layout.rule);
        let word = r.uint("fec_payload_id", layout.len())?;
        let esi_mask = (1u128 << layout.esi_bits) - 1;
        let esi = (word & esi_mask) as u32;
        let sbl = (layout.sbl_bits > 0).then(|| ((word >> layout.esi_bits) & 0xFFFF) as u16);
        let sbn = (word >> (layout.esi_bits + layout.sbl_bits)) as u32;
        Ok(FecPayloadId {
            encoding_id,
            m: if encoding_id == 2 {
                m.filter(|&m| m != 8)
            } else {
                None
            },
            sbn,
            sbl,
            esi,
        })
    }

    pub fn buffer_len(&self) -> usize {
        PayloadIdLayout::lookup(self.encoding_id, self.m).map_or(0, |l| l.len())
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let l = self.layout()?;
        let sbn = check_width(u128::from(self.sbn), l.sbn_bits, "sbn", l.rule)?;
        let esi = check_width(u128::from(self.esi), l.esi_bits, "esi", l.rule)?;
        let sbl = u128::from(self.sbl.unwrap_or(0));
        if (l.sbl_bits > 0) != self.sbl.is_some() {
            return Err(WireError::of(
                &registry::emit::LENGTH_MISMATCH,
                "sbl",
                0,
                "the Source Block Length is carried by FEC Encoding ID 129 only",
            )
            .citing(l.rule));
        }
        let word = (sbn << (l.esi_bits + l.sbl_bits)) | (sbl << l.esi_bits) | esi;
        put_uint(out, word, l.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(encoding_id: u8, sbl: Option<u16>) -> FecPayloadId {
        FecPayloadId {
            encoding_id,
            m: None,
            sbn: 1,
            sbl,
            esi: 2,
        }
    }

    #[test]
    fn emit_refuses_an_sbl_for_a_scheme_other_than_129() {
        let err = id(128, Some(3)).emit(&mut Vec::new()).unwrap_err();
        assert_eq!(
            (err.id, err.field, err.rule),
            (registry::emit::LENGTH_MISMATCH.id, "sbl", "RFC 5445 §4.2.1")
        );
        let mut out = Vec::new();
        id(128, None).emit(&mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0, 0, 0, 2]);
    }

    #[test]
    fn emit_refuses_scheme_129_without_an_sbl() {
        let err = id(129, None).emit(&mut Vec::new()).unwrap_err();
        assert_eq!(
            (err.id, err.field, err.rule),
            (registry::emit::LENGTH_MISMATCH.id, "sbl", "RFC 5445 §5.2.1")
        );
        let mut out = Vec::new();
        id(129, Some(3)).emit(&mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0, 3, 0, 2]);
        assert_eq!(
            FecPayloadId::parse(&out, 129, None).unwrap(),
            id(129, Some(3))
        );
    }
}
