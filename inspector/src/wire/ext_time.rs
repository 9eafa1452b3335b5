//! EXT_TIME (RFC 5651 §5.2.2): `HET=2 | HEL | Use(16)` then 32-bit values in the fixed order
//! SCT-High, SCT-Low, ERT, SLC, as flagged in the Use field.

use crate::registry;
use serde::Serialize;

use super::error::WireError;
use super::finding::Findings;
use super::reader::Reader;

/// Use-field flags (bits 16..19 of the extension's first word).
pub const USE_SCT_HIGH: u16 = 0x8000;
pub const USE_SCT_LOW: u16 = 0x4000;
pub const USE_ERT: u16 = 0x2000;
pub const USE_SLC: u16 = 0x1000;
/// Bits 20..23: reserved by LCT, sent as 0.
pub const USE_LCT_RESERVED: u16 = 0x0F00;
/// Bits 24..31: protocol-instantiation specific.
pub const USE_PI_SPECIFIC: u16 = 0x00FF;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtTime {
    /// The whole 16-bit Use field, reserved and PI-specific bits included.
    pub use_field: u16,
    pub sct_high: Option<u32>,
    pub sct_low: Option<u32>,
    pub ert: Option<u32>,
    pub slc: Option<u32>,
    /// Values beyond those the Use field announces; receivers ignore them (§5.2.2).
    pub extra: Vec<u32>,
}

impl ExtTime {
    /// `body` is the extension content after HET and HEL (4*HEL - 2 bytes).
    pub(crate) fn parse(body: &[u8], base: usize, f: &mut Findings) -> Result<Self, WireError> {
        let mut r = Reader::new(body, &registry::lct::EXT_TIME_HEL_TOO_SMALL).with_base(base);
        let use_field = r.u16("use")?;
        let mut next = |flag: u16, field: &'static str| -> Result<Option<u32>, WireError> {
            if use_field & flag != 0 {
                r.u32(field).map(Some)
            } else {
                Ok(None)
            }
        };
        let sct_high = next(USE_SCT_HIGH, "sct_high")?;
        let sct_low = next(USE_SCT_LOW, "sct_low")?;
        let ert = next(USE_ERT, "ert")?;
        let slc = next(USE_SLC, "slc")?;
        let mut extra = Vec::new();
        while r.remaining() >= 4 {
            extra.push(r.u32("extra")?);
        }
        if sct_low.is_some() && sct_high.is_none() {
            f.raise(
                &registry::lct::EXT_TIME_SCT_LOW_WITHOUT_HIGH,
                "use",
                base,
                "SCT-Low MUST NOT be present without SCT-High",
            );
        }
        if use_field & USE_LCT_RESERVED != 0 {
            f.raise(
                &registry::lct::EXT_TIME_RESERVED_SET,
                "use",
                base,
                format!(
                    "LCT-reserved Use bits 20-23 are {:#x}, expected 0",
                    (use_field & USE_LCT_RESERVED) >> 8
                ),
            );
        }
        if !extra.is_empty() {
            f.raise(
                &registry::lct::EXT_TIME_EXTRA_VALUES,
                "extra",
                base + 2 + 4 * (body.len() / 4 - extra.len()),
                format!(
                    "{} value(s) beyond those the Use field announces",
                    extra.len()
                ),
            );
        }
        Ok(ExtTime {
            use_field,
            sct_high,
            sct_low,
            ert,
            slc,
            extra,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.use_field.to_be_bytes());
        for v in [self.sct_high, self.sct_low, self.ert, self.slc]
            .into_iter()
            .flatten()
            .chain(self.extra.iter().copied())
        {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}
