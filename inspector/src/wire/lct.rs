//! The LCT header (RFC 5651 §5.1) and the header-extension walk (§5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   V   | C |PSI|S| O |H|Res|A|B|   HDR_LEN     | Codepoint (CP)|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Congestion Control Information (CCI, length = 32*(C+1) bits)  |
//! | Transport Session Identifier (TSI, length = 32*S+16*H bits)   |
//! | Transport Object Identifier (TOI, length = 32*O+16*H bits)    |
//! |                Header Extensions (if applicable)              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! [`LctPacket`] is a zero-copy view over the first word; [`LctRepr`] keeps every wire choice
//! (field widths, HDR_LEN, reserved bits, CCI bytes, unknown extensions, bytes the walk could not
//! read) so that `emit(parse(b)) == b`.

use crate::registry;
use serde::Serialize;

use super::error::WireError;
use super::ext_auth::ExtAuth;
use super::ext_cenc::ExtCenc;
use super::ext_fdt::ExtFdt;
use super::ext_time::ExtTime;
use super::finding::{Decoded, Findings};
use super::reader::{check_width, put_uint, Reader};
use super::serde_hex;

const RULE: &str = "RFC 5651 §5.1";

pub const HET_NOP: u8 = 0;
pub const HET_AUTH: u8 = 1;
pub const HET_TIME: u8 = 2;
/// RFC 5775 §6.
pub const HET_FTI: u8 = 64;
/// RFC 6726 §8.5.
pub const HET_FDT: u8 = 192;
pub const HET_CENC: u8 = 193;

/// Byte positions of word 0, as in the RFC diagram.
mod field {
    pub const V_C_PSI: usize = 0;
    pub const S_O_H_RES_A_B: usize = 1;
    pub const HDR_LEN: usize = 2;
    pub const CP: usize = 3;
    pub const FIRST_WORD_END: usize = 4;
}

/// Zero-copy view over an LCT header's first word (and the sizes it implies).
#[derive(Debug, Clone, Copy)]
pub struct LctPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> LctPacket<T> {
    /// Checks only that the first word is present: the other lengths depend on its fields.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < field::FIRST_WORD_END {
            return Err(WireError::of(
                &registry::lct::TRUNCATED,
                "first_word",
                0,
                format!("needs 4 bytes, {len} present"),
            ));
        }
        Ok(LctPacket { buffer })
    }

    fn b(&self, i: usize) -> u8 {
        self.buffer.as_ref()[i]
    }
    pub fn version(&self) -> u8 {
        self.b(field::V_C_PSI) >> 4
    }
    pub fn c(&self) -> u8 {
        (self.b(field::V_C_PSI) >> 2) & 3
    }
    pub fn psi(&self) -> u8 {
        self.b(field::V_C_PSI) & 3
    }
    pub fn s(&self) -> bool {
        self.b(field::S_O_H_RES_A_B) & 0x80 != 0
    }
    pub fn o(&self) -> u8 {
        (self.b(field::S_O_H_RES_A_B) >> 5) & 3
    }
    pub fn h(&self) -> bool {
        self.b(field::S_O_H_RES_A_B) & 0x10 != 0
    }
    pub fn reserved(&self) -> u8 {
        (self.b(field::S_O_H_RES_A_B) >> 2) & 3
    }
    pub fn close_session(&self) -> bool {
        self.b(field::S_O_H_RES_A_B) & 2 != 0
    }
    pub fn close_object(&self) -> bool {
        self.b(field::S_O_H_RES_A_B) & 1 != 0
    }
    pub fn hdr_len(&self) -> u8 {
        self.b(field::HDR_LEN)
    }
    pub fn codepoint(&self) -> u8 {
        self.b(field::CP)
    }
    pub fn cci_len(&self) -> usize {
        4 * (usize::from(self.c()) + 1)
    }
    pub fn tsi_len(&self) -> usize {
        tsi_len(self.s(), self.h())
    }
    pub fn toi_len(&self) -> usize {
        toi_len(self.o(), self.h())
    }
    /// Bytes of the fixed part: word 0, CCI, TSI and TOI (RFC 5651 §5.1).
    pub fn fixed_len(&self) -> usize {
        4 + self.cci_len() + self.tsi_len() + self.toi_len()
    }
}

pub fn tsi_len(s: bool, h: bool) -> usize {
    4 * usize::from(s) + 2 * usize::from(h)
}

pub fn toi_len(o: u8, h: bool) -> usize {
    4 * usize::from(o) + 2 * usize::from(h)
}

/// One header extension, kept with its HET and (for HET < 128) HEL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderExtension {
    pub het: u8,
    /// Length in 32-bit words; `None` for the fixed-size HETs 128..255.
    pub hel: Option<u8>,
    #[serde(flatten)]
    pub body: ExtensionBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "ext", rename_all = "snake_case")]
pub enum ExtensionBody {
    /// EXT_NOP: content MUST be ignored (RFC 5651 §5.2).
    Nop {
        #[serde(serialize_with = "serde_hex::bytes")]
        content: Vec<u8>,
    },
    Auth(ExtAuth),
    Time(ExtTime),
    /// EXT_FTI (RFC 5775 §4.2): its content is decoded with the FEC Encoding ID, which the LCT
    /// header alone does not carry; see [`super::ext_fti`].
    Fti {
        #[serde(serialize_with = "serde_hex::bytes")]
        content: Vec<u8>,
    },
    Fdt(ExtFdt),
    Cenc(ExtCenc),
    /// An extension this dissector does not know: skipped, as RFC 5651 §5.2.1 requires.
    Unknown {
        #[serde(serialize_with = "serde_hex::bytes")]
        content: Vec<u8>,
    },
    /// A known extension whose content does not match its format (a finding says why).
    Malformed {
        #[serde(serialize_with = "serde_hex::bytes")]
        content: Vec<u8>,
    },
}

impl HeaderExtension {
    pub fn name(&self) -> &'static str {
        match self.het {
            HET_NOP => "EXT_NOP",
            HET_AUTH => "EXT_AUTH",
            HET_TIME => "EXT_TIME",
            HET_FTI => "EXT_FTI",
            HET_FDT => "EXT_FDT",
            HET_CENC => "EXT_CENC",
            _ => "unknown",
        }
    }

    /// Parses one extension from the start of `input`; returns it and its byte length.
    /// `base` is the offset of `input` in the caller's buffer (for findings and errors).
    pub fn parse(input: &[u8], base: usize) -> Result<Decoded<(Self, usize)>, WireError> {
        let mut f = Findings::default();
        let r = Self::parse_into(input, base, &mut f)?;
        Ok(Decoded::new(r, f.list))
    }

    pub(crate) fn parse_into(
        input: &[u8],
        base: usize,
        f: &mut Findings,
    ) -> Result<(Self, usize), WireError> {
        let mut r = Reader::new(input, &registry::lct::EXT_OVERRUN).with_base(base);
        let het = r.u8("het")?;
        if het >= 128 {
            let hec = r.bytes("hec", 3)?;
            let hec = [hec[0], hec[1], hec[2]];
            let body = match het {
                HET_FDT => ExtensionBody::Fdt(ExtFdt::parse(hec, base, f)),
                HET_CENC => ExtensionBody::Cenc(ExtCenc::parse(hec, base, f)),
                _ => ExtensionBody::Unknown {
                    content: hec.to_vec(),
                },
            };
            return Ok((
                HeaderExtension {
                    het,
                    hel: None,
                    body,
                },
                4,
            ));
        }
        let hel = r.u8("hel")?;
        if hel == 0 {
            // A zero length would make the walk loop forever (RFC 5651 §5.2: HEL counts the
            // whole extension, so it is at least 1).
            return Err(WireError::of(
                &registry::lct::EXT_HEL_ZERO,
                "hel",
                base + 1,
                format!("HET {het} has HEL=0"),
            ));
        }
        let len = 4 * usize::from(hel);
        if len > input.len() {
            return Err(WireError::of(
                &registry::lct::EXT_OVERRUN,
                "hel",
                base + 1,
                format!(
                    "HET {het} HEL={hel} spans {len} bytes, {} left in the header",
                    input.len()
                ),
            ));
        }
        let content = &input[2..len];
        let body = match het {
            HET_NOP => ExtensionBody::Nop {
                content: content.to_vec(),
            },
            HET_AUTH => ExtensionBody::Auth(ExtAuth::parse(content, base + 2, f)),
            HET_TIME => match ExtTime::parse(content, base + 2, f) {
                Ok(t) => ExtensionBody::Time(t),
                Err(e) => {
                    f.push(e.into());
                    ExtensionBody::Malformed {
                        content: content.to_vec(),
                    }
                }
            },
            HET_FTI => ExtensionBody::Fti {
                content: content.to_vec(),
            },
            _ => ExtensionBody::Unknown {
                content: content.to_vec(),
            },
        };
        Ok((
            HeaderExtension {
                het,
                hel: Some(hel),
                body,
            },
            len,
        ))
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.het);
        if let Some(hel) = self.hel {
            out.push(hel);
        }
        match &self.body {
            ExtensionBody::Nop { content }
            | ExtensionBody::Fti { content }
            | ExtensionBody::Unknown { content }
            | ExtensionBody::Malformed { content } => out.extend_from_slice(content),
            ExtensionBody::Auth(a) => a.emit(out),
            ExtensionBody::Time(t) => t.emit(out),
            ExtensionBody::Fdt(x) => x.emit(out),
            ExtensionBody::Cenc(x) => x.emit(out),
        }
    }

    /// Length of [`HeaderExtension::emit`]'s output, computed without emitting.
    pub fn buffer_len(&self) -> usize {
        let head = 1 + usize::from(self.hel.is_some());
        head + match &self.body {
            ExtensionBody::Nop { content }
            | ExtensionBody::Fti { content }
            | ExtensionBody::Unknown { content }
            | ExtensionBody::Malformed { content } => content.len(),
            ExtensionBody::Auth(ExtAuth::Opaque { content }) => content.len(),
            ExtensionBody::Auth(ExtAuth::Rfc6584 {
                anti_replay,
                authentication_data,
                ..
            }) => 1 + if *anti_replay { 5 } else { 1 } + authentication_data.len(),
            ExtensionBody::Time(t) => {
                let values = [t.sct_high, t.sct_low, t.ert, t.slc]
                    .iter()
                    .flatten()
                    .count();
                2 + 4 * (values + t.extra.len())
            }
            ExtensionBody::Fdt(_) | ExtensionBody::Cenc(_) => 3,
        }
    }
}

/// The Congestion Control Information field: 32*(C+1) bits, so at most 16 bytes (C is two bits,
/// RFC 5651 §5.1). Kept inline so that decoding a packet allocates nothing for it.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Cci {
    len: u8,
    bytes: [u8; Cci::MAX_LEN],
}

impl Cci {
    pub const MAX_LEN: usize = 16;

    /// The CCI holding `bytes`; None when longer than [`Cci::MAX_LEN`].
    pub fn from_slice(bytes: &[u8]) -> Option<Cci> {
        let mut cci = Cci {
            len: u8::try_from(bytes.len()).ok()?,
            bytes: [0; Cci::MAX_LEN],
        };
        cci.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(cci)
    }

    /// `len` zero bytes (at most [`Cci::MAX_LEN`]).
    pub fn zeros(len: usize) -> Cci {
        Cci {
            len: len.min(Cci::MAX_LEN) as u8,
            bytes: [0; Cci::MAX_LEN],
        }
    }
}

impl std::ops::Deref for Cci {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for Cci {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Cci {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_hex::bytes(self, s)
    }
}

/// The decoded LCT header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LctRepr {
    pub version: u8,
    /// C: the CCI is 32*(C+1) bits.
    pub c: u8,
    /// PSI; in ALC bit 6 (the high bit here) is the Source Packet Indicator (RFC 5775 §2.1).
    pub psi: u8,
    pub s: bool,
    pub o: u8,
    pub h: bool,
    /// Bits 12-13: sent as 0, ignored on receipt (RFC 5651 §5.1; not RFC 3451's T/R flags).
    pub reserved: u8,
    /// A flag.
    pub close_session: bool,
    /// B flag.
    pub close_object: bool,
    /// Total header length in 32-bit words, extensions included.
    pub hdr_len: u8,
    pub codepoint: u8,
    pub cci: Cci,
    /// Absent when S=H=0.
    pub tsi: Option<u64>,
    /// Absent when O=H=0. Up to 112 bits.
    #[serde(serialize_with = "serde_hex::opt_u128_num")]
    pub toi: Option<u128>,
    pub extensions: Vec<HeaderExtension>,
    /// Bytes of the extension area the walk could not read (after HEL=0 or an overrun).
    #[serde(serialize_with = "serde_hex::bytes")]
    pub unwalked: Vec<u8>,
}

impl LctRepr {
    pub fn tsi_len(&self) -> usize {
        tsi_len(self.s, self.h)
    }
    pub fn toi_len(&self) -> usize {
        toi_len(self.o, self.h)
    }
    pub fn fixed_len(&self) -> usize {
        4 + 4 * (usize::from(self.c) + 1) + self.tsi_len() + self.toi_len()
    }

    /// ALC's Source Packet Indicator (RFC 5775 §2.1): PSI bit X, word-0 bit 6.
    pub fn spi(&self) -> bool {
        self.psi & 2 != 0
    }

    pub fn extension(&self, het: u8) -> Option<&HeaderExtension> {
        self.extensions.iter().find(|e| e.het == het)
    }

    /// Bytes the header occupies in the datagram: 4*HDR_LEN, or the fixed part when HDR_LEN is
    /// too small to hold it (a finding reports that case).
    pub fn header_len(&self) -> usize {
        (4 * usize::from(self.hdr_len)).max(self.fixed_len())
    }

    /// Parses the LCT header at the start of a datagram (lax: findings are returned, not fatal).
    pub fn parse(datagram: &[u8]) -> Result<Decoded<LctRepr>, WireError> {
        let view = LctPacket::new_checked(datagram)?;
        let mut f = Findings::default();
        if view.version() != 1 {
            f.raise(
                &registry::lct::VERSION_UNSUPPORTED,
                "version",
                0,
                format!("V={}, LCT version 1 expected", view.version()),
            );
        }
        if view.reserved() != 0 {
            f.raise(
                &registry::lct::RESERVED_NONZERO,
                "reserved",
                1,
                format!(
                    "reserved bits 12-13 = {:#b}, MUST be sent as 0",
                    view.reserved()
                ),
            );
        }
        let mut r = Reader::new(datagram, &registry::lct::TRUNCATED);
        r.bytes("first_word", 4)?;
        // Never longer than 16 bytes: C is two bits.
        let cci = Cci::from_slice(r.bytes("cci", view.cci_len())?).unwrap_or_default();
        let tsi = match view.tsi_len() {
            0 => None,
            n => Some(r.uint("tsi", n)? as u64),
        };
        let toi = match view.toi_len() {
            0 => None,
            n => Some(r.uint("toi", n)?),
        };
        let fixed = view.fixed_len();
        let declared = 4 * usize::from(view.hdr_len());
        let mut repr = LctRepr {
            version: view.version(),
            c: view.c(),
            psi: view.psi(),
            s: view.s(),
            o: view.o(),
            h: view.h(),
            reserved: view.reserved(),
            close_session: view.close_session(),
            close_object: view.close_object(),
            hdr_len: view.hdr_len(),
            codepoint: view.codepoint(),
            cci,
            tsi,
            toi,
            extensions: Vec::new(),
            unwalked: Vec::new(),
        };
        if declared < fixed {
            f.raise(
                &registry::lct::HDR_LEN_TOO_SMALL,
                "hdr_len",
                field::HDR_LEN,
                format!(
                    "HDR_LEN={} ({declared} bytes) < {fixed} bytes of fixed fields",
                    view.hdr_len()
                ),
            );
            return Ok(Decoded::new(repr, f.list));
        }
        if declared > datagram.len() {
            return Err(WireError::of(
                &registry::lct::HDR_LEN_EXCEEDS_DATAGRAM,
                "hdr_len",
                field::HDR_LEN,
                format!(
                    "HDR_LEN={} ({declared} bytes) > {} bytes in the datagram",
                    view.hdr_len(),
                    datagram.len()
                ),
            ));
        }
        // The walk consumes at least 4 bytes per step, so it ends (RFC 5651 §5.2.1).
        let mut pos = fixed;
        while pos < declared {
            match HeaderExtension::parse_into(&datagram[pos..declared], pos, &mut f) {
                Ok((ext, len)) => {
                    repr.extensions.push(ext);
                    pos += len;
                }
                Err(e) => {
                    f.push(e.into());
                    repr.unwalked = datagram[pos..declared].to_vec();
                    break;
                }
            }
        }
        Ok(Decoded::new(repr, f.list))
    }

    /// Strict parse: any finding of severity Warning or Error is an error.
    pub fn parse_strict(datagram: &[u8]) -> Result<LctRepr, WireError> {
        Self::parse(datagram)?.strict()
    }

    /// Length of [`LctRepr::emit`]'s output.
    pub fn buffer_len(&self) -> usize {
        self.fixed_len()
            + self
                .extensions
                .iter()
                .map(HeaderExtension::buffer_len)
                .sum::<usize>()
            + self.unwalked.len()
    }

    /// Writes the header exactly as described, HDR_LEN included (it is not recomputed: a
    /// dissector must reproduce what it saw, a sender sets it with [`LctRepr::fix_hdr_len`]).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        check_width(u128::from(self.version), 4, "version", RULE)?;
        check_width(u128::from(self.c), 2, "c", RULE)?;
        check_width(u128::from(self.psi), 2, "psi", RULE)?;
        check_width(u128::from(self.o), 2, "o", RULE)?;
        check_width(u128::from(self.reserved), 2, "reserved", RULE)?;
        if self.cci.len() != 4 * (usize::from(self.c) + 1) {
            return Err(WireError::of(
                &registry::emit::LENGTH_MISMATCH,
                "cci",
                4,
                format!(
                    "C={} needs {} CCI bytes, {} given",
                    self.c,
                    4 * (self.c + 1),
                    self.cci.len()
                ),
            )
            .citing(RULE));
        }
        if self.tsi.is_some() != (self.tsi_len() > 0) || self.toi.is_some() != (self.toi_len() > 0)
        {
            return Err(WireError::of(
                &registry::emit::LENGTH_MISMATCH,
                "tsi/toi",
                4,
                "TSI/TOI presence disagrees with S, O and H",
            )
            .citing(RULE));
        }
        out.push((self.version << 4) | (self.c << 2) | self.psi);
        out.push(
            (u8::from(self.s) << 7)
                | (self.o << 5)
                | (u8::from(self.h) << 4)
                | (self.reserved << 2)
                | (u8::from(self.close_session) << 1)
                | u8::from(self.close_object),
        );
        out.push(self.hdr_len);
        out.push(self.codepoint);
        out.extend_from_slice(&self.cci);
        if let Some(tsi) = self.tsi {
            let n = self.tsi_len();
            put_uint(
                out,
                check_width(u128::from(tsi), 8 * n as u32, "tsi", RULE)?,
                n,
            );
        }
        if let Some(toi) = self.toi {
            let n = self.toi_len();
            put_uint(out, check_width(toi, 8 * n as u32, "toi", RULE)?, n);
        }
        for e in &self.extensions {
            e.emit(out);
        }
        out.extend_from_slice(&self.unwalked);
        Ok(())
    }

    /// Sets HDR_LEN from the fields and extensions (for senders).
    pub fn fix_hdr_len(&mut self) {
        self.hdr_len = (self.buffer_len() / 4).min(255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// V=1, C=0, S=1, O=1, H=0, A=0, B=1, HDR_LEN=5, CP=3, CCI, TSI 7, TOI 9, EXT_NOP.
    const PACKET: [u8; 20] = [
        0x10, 0xA1, 5, 3, 0xAA, 0xBB, 0xCC, 0xDD, 0, 0, 0, 7, 0, 0, 0, 9, 0, 1, 0xEE, 0xFF,
    ];

    #[test]
    fn view_deconstructs_the_first_word() {
        let p = LctPacket::new_checked(&PACKET[..]).unwrap();
        assert_eq!((p.version(), p.c(), p.psi()), (1, 0, 0));
        assert_eq!((p.s(), p.o(), p.h()), (true, 1, false));
        assert_eq!(
            (p.reserved(), p.close_session(), p.close_object()),
            (0, false, true)
        );
        assert_eq!((p.hdr_len(), p.codepoint()), (5, 3));
        assert_eq!(
            (p.cci_len(), p.tsi_len(), p.toi_len(), p.fixed_len()),
            (4, 4, 4, 16)
        );
        assert!(LctPacket::new_checked(&PACKET[..3]).is_err());
    }

    #[test]
    fn parse_then_emit_is_identity() {
        let r = LctRepr::parse_strict(&PACKET).unwrap();
        assert_eq!((r.tsi, r.toi), (Some(7), Some(9)));
        assert_eq!(r.extensions.len(), 1);
        assert_eq!(r.buffer_len(), PACKET.len());
        let mut out = Vec::new();
        r.emit(&mut out).unwrap();
        assert_eq!(out, PACKET);
    }

    #[test]
    fn lax_keeps_going_where_strict_stops() {
        let mut p = PACKET;
        p[1] |= 0x0C; // both reserved bits
        let lax = LctRepr::parse(&p).unwrap();
        assert!(lax.has("lct.reserved.nonzero"));
        assert_eq!(lax.value.reserved, 3);
        assert_eq!(
            LctRepr::parse_strict(&p).unwrap_err().id,
            "lct.reserved.nonzero"
        );
    }

    #[test]
    fn emit_rejects_values_wider_than_their_field() {
        let mut r = LctRepr::parse_strict(&PACKET).unwrap();
        r.toi = Some(1 << 32);
        let err = r.emit(&mut Vec::new()).unwrap_err();
        assert_eq!((err.id, err.field), ("emit.value_too_large", "toi"));
    }

    #[test]
    fn extension_buffer_len_matches_emit() {
        let exts = [
            &[0u8, 1, 0xEE, 0xFF][..],
            &[1, 2, 0x11, 1, 2, 3, 4, 5][..],
            &[2, 3, 0xC0, 0, 0, 0, 0, 1, 0, 0, 0, 2][..],
            &[192, 0x20, 0, 1][..],
            &[193, 3, 0, 0][..],
            &[64, 1, 9, 9][..],
            &[99, 1, 7, 7][..],
            &[2, 1, 0x80, 0][..],
        ];
        for b in exts {
            let (e, len) = HeaderExtension::parse(b, 0).unwrap().value;
            let mut out = Vec::new();
            e.emit(&mut out);
            assert_eq!((e.buffer_len(), len, out.as_slice()), (b.len(), b.len(), b));
        }
    }

    #[test]
    fn fix_hdr_len_counts_extensions() {
        let mut r = LctRepr::parse_strict(&PACKET).unwrap();
        r.extensions.push(r.extensions[0].clone());
        r.fix_hdr_len();
        assert_eq!(r.hdr_len, 6);
    }

    #[test]
    fn error_names_field_offset_and_rule() {
        let e = LctRepr::parse(&PACKET[..10]).unwrap_err();
        assert_eq!(
            (e.id, e.field, e.offset, e.rule),
            ("lct.truncated", "tsi", 8, "RFC 5651 §5.1")
        );
    }

    #[test]
    fn emit_refuses_a_cci_whose_length_disagrees_with_c() {
        let mut r = LctRepr::parse_strict(&PACKET).unwrap();
        r.c = 1; // 8 CCI bytes, 4 given
        let err = r.emit(&mut Vec::new()).unwrap_err();
        assert_eq!(
            (err.id, err.field),
            (registry::emit::LENGTH_MISMATCH.id, "cci")
        );
        r.cci = Cci::zeros(8);
        r.emit(&mut Vec::new()).unwrap();
    }

    #[test]
    fn emit_refuses_a_tsi_or_toi_whose_presence_disagrees_with_s_o_and_h() {
        let r = LctRepr::parse_strict(&PACKET).unwrap();
        for bad in [
            LctRepr {
                tsi: None,
                ..r.clone()
            },
            LctRepr {
                s: false,
                ..r.clone()
            },
            LctRepr {
                toi: None,
                ..r.clone()
            },
            LctRepr { o: 0, ..r.clone() },
        ] {
            let err = bad.emit(&mut Vec::new()).unwrap_err();
            assert_eq!(
                (err.id, err.field),
                (registry::emit::LENGTH_MISMATCH.id, "tsi/toi"),
                "{bad:?}"
            );
        }
        // Both sides agreeing that there is no TSI (nor TOI) emits.
        let mut out = Vec::new();
        LctRepr {
            s: false,
            tsi: None,
            o: 0,
            toi: None,
            ..r
        }
        .emit(&mut out)
        .unwrap();
        assert_eq!(out.len(), 4 + 4 + 4); // word 0, CCI, EXT_NOP
    }
}
