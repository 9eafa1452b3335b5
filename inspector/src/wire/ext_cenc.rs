//! EXT_CENC (HET 193, fixed size; RFC 6726 §3.4.3): `HET | CENC(8) | Reserved(16)`.
//! CENC values come from the registry of RFC 6726 §8.4.

use crate::registry;
use crate::wire::finding::Finding;
use serde::Serialize;

use super::finding::Findings;
use super::lct::{LctRepr, HET_CENC, HET_FDT};

/// Content encodings of the FDT payload (RFC 6726 §8.4): an open registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentEncoding {
    Null,
    Zlib,
    Deflate,
    Gzip,
    Unknown(u8),
}

impl From<u8> for ContentEncoding {
    fn from(v: u8) -> Self {
        match v {
            0 => ContentEncoding::Null,
            1 => ContentEncoding::Zlib,
            2 => ContentEncoding::Deflate,
            3 => ContentEncoding::Gzip,
            n => ContentEncoding::Unknown(n),
        }
    }
}

impl From<ContentEncoding> for u8 {
    fn from(c: ContentEncoding) -> u8 {
        match c {
            ContentEncoding::Null => 0,
            ContentEncoding::Zlib => 1,
            ContentEncoding::Deflate => 2,
            ContentEncoding::Gzip => 3,
            ContentEncoding::Unknown(n) => n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExtCenc {
    pub cenc: ContentEncoding,
    pub reserved: u16,
}

/// RFC 6726 §3.4.3: EXT_CENC says how an FDT Instance is encoded, so it travels only with
/// EXT_FDT.
pub(crate) fn check_placement(lct: &LctRepr, f: &mut Findings) {
    if lct.extension(HET_CENC).is_some() && lct.extension(HET_FDT).is_none() {
        f.raise(
            &registry::flute::EXT_CENC_WITHOUT_EXT_FDT,
            "extensions",
            4,
            "EXT_CENC is only allowed together with EXT_FDT",
        );
    }
}

impl ExtCenc {
    pub(crate) fn parse(hec: [u8; 3], base: usize, f: &mut Findings) -> Self {
        // CENC is the byte right after HET (Wireshark reads it one byte late).
        let cenc = ContentEncoding::from(hec[0]);
        let reserved = u16::from_be_bytes([hec[1], hec[2]]);
        if reserved != 0 {
            f.raise(
                &registry::flute::EXT_CENC_RESERVED_NONZERO,
                "reserved",
                base + 2,
                format!("Reserved = {reserved:#06x}, MUST be 0"),
            );
        }
        if let ContentEncoding::Unknown(n) = cenc {
            f.push(
                Finding::of(
                    &registry::flute::EXT_CENC_UNKNOWN,
                    "cenc",
                    base + 1,
                    format!("CENC {n} is not registered (0-3)"),
                )
                .citing("RFC 6726 §8.4"),
            );
        }
        ExtCenc { cenc, reserved }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.cenc.into());
        out.extend_from_slice(&self.reserved.to_be_bytes());
    }
}
