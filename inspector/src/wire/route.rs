//! ROUTE's profile of LCT/ALC (ATSC A/331 Annex A; RFC 9223 generalises it), as a receiver reads
//! it from one packet:
//!
//! - the PSI's high bit (ALC's SPI) tells a source packet (1) from a repair packet (0) (A/331
//!   §A.3.4, §A.4.2.4);
//! - a source packet's FEC Payload ID is a 32-bit `start_offset`, the position of its payload in
//!   the delivery object (A/331 §A.3.5.1), not SBN/ESI;
//! - a repair packet's is RaptorQ's, SBN (8 bits) and ESI (24 bits) (A/331 §A.3.5.2, RFC 6330
//!   §3.2);
//! - the codepoint names the payload format (A/331 Table A.3.6; 128-255 from the S-TSID's
//!   `SrcFlow/Payload@codePoint`), not the FEC Encoding ID as in FLUTE;
//! - two header extensions: EXT_TOL, the object's transfer length (A/331 §A.3.8.1: HET 67, HEL 2,
//!   48 bits; HET 194, a fixed one-word HET, 24 bits), and EXT_ROUTE_PRESENTATION_TIME (§A.3.7.1:
//!   HET 66, HEL 3, 16 reserved bits and a 64-bit NTP time);
//! - EXT_FTI, when present, reads as Compact No-Code's in a source packet (§A.3.3.2.7), as
//!   Wireshark's ATSC mode reads it.
//!
//! Sources: the section numbers are A/331:2022's as Wireshark's, GPAC's and libatsc3's ROUTE
//! code quote them (the standard itself is not copied here).
//!
//! Which sessions follow this profile is not in the packet: the LLS's SLT or an S-TSID says so
//! (`track/route_signalling.rs`), or `--profile`.

use crate::registry;
use serde::Serialize;

use super::error::WireError;
use super::fec_payload_id::FecPayloadId;
use super::finding::Findings;
use super::lct::{ExtensionBody, LctRepr};
use super::reader::Reader;

pub const HET_ROUTE_PRESENTATION_TIME: u8 = 66;
/// EXT_TOL with a 48-bit transfer length (a variable-length HET: HEL = 2).
pub const HET_TOL_48: u8 = 67;
/// EXT_TOL with a 24-bit transfer length (a fixed 32-bit HET, RFC 5651 §5.2).
pub const HET_TOL_24: u8 = 194;

pub const RULE_START_OFFSET: &str = "A/331 §A.3.5.1";

/// Which profile of ALC a session's packets follow: how their codepoint, PSI and FEC Payload
/// ID read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// ALC as RFC 5775 and FLUTE (RFC 6726/3926) define it: the codepoint is the FEC Encoding
    /// ID, the FEC Payload ID is the scheme's.
    #[default]
    Flute,
    /// ROUTE as RFC 9223 defines it.
    Route,
    /// ROUTE as ATSC 3.0 A/331 Annex A defines it (found through the LLS's SLT).
    Atsc3,
    /// DVB-MABR's ROUTE profile (ETSI TS 103 769), read as RFC 9223.
    DvbMabr,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Flute,
        Profile::Route,
        Profile::Atsc3,
        Profile::DvbMabr,
    ];

    /// Whether packets read as ROUTE (start_offset, PSI source/repair, EXT_TOL).
    pub fn is_route(self) -> bool {
        self != Profile::Flute
    }

    /// As `--profile` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Flute => "flute",
            Profile::Route => "route",
            Profile::Atsc3 => "atsc3",
            Profile::DvbMabr => "dvb-mabr",
        }
    }

    pub fn from_name(s: &str) -> Option<Profile> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// A repair flow's RaptorQ parameters and the source flow it protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RepairFlow {
    pub protects_tsi: u64,
    pub symbol_size: u16,
    pub source_blocks: u8,
    pub sub_blocks: u16,
    pub alignment: u8,
}

impl RepairFlow {
    /// From `@fecOTI` (hex, 12 bytes); F is the object's own and not used.
    pub fn from_fec_oti(hex: &str, protects_tsi: u64) -> Option<RepairFlow> {
        let hex = hex.trim();
        if hex.len() != 24 || !hex.is_ascii() {
            return None;
        }
        let b: Vec<u8> = (0..12)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()
            .ok()?;
        Some(RepairFlow {
            protects_tsi,
            symbol_size: u16::from_be_bytes([b[6], b[7]]),
            source_blocks: b[8],
            sub_blocks: u16::from_be_bytes([b[9], b[10]]),
            alignment: b[11],
        })
    }

    /// `@fecOTI` for an object of `len` bytes (F is its FEC transport object's length).
    pub fn fec_oti_hex(&self, len: u64) -> String {
        let f = self.transport_symbols(len) * u64::from(self.symbol_size);
        let mut b = f.to_be_bytes()[3..].to_vec();
        b.push(0);
        b.extend(self.symbol_size.to_be_bytes());
        b.push(self.source_blocks);
        b.extend(self.sub_blocks.to_be_bytes());
        b.push(self.alignment);
        b.iter().map(|x| format!("{x:02X}")).collect()
    }
}

/// A ROUTE packet's role and position in its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RoutePayload {
    /// A source packet: its payload starts `start_offset` bytes into the delivery object.
    Source { start_offset: u32 },
    /// A repair packet: its FEC Payload ID (RaptorQ) is the packet's `payload_id`.
    Repair,
}

/// What a ROUTE packet carries beyond the LCT header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RouteHeader {
    pub payload: RoutePayload,
    /// EXT_TOL: the object's transfer length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tol: Option<u64>,
    /// EXT_ROUTE_PRESENTATION_TIME: a 64-bit NTP timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presentation_time: Option<u64>,
    /// A repair packet's flow as its session's S-TSID describes it (not in the packet: the
    /// dissector adds it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_flow: Option<RepairFlow>,
    /// A source packet's delivery mode: from a fixed codepoint, or the S-TSID's formatId for
    /// its codepoint (the dissector adds that one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<DeliveryMode>,
}

impl RouteHeader {
    pub fn start_offset(&self) -> Option<u32> {
        match self.payload {
            RoutePayload::Source { start_offset } => Some(start_offset),
            RoutePayload::Repair => None,
        }
    }
}

/// The payload format a codepoint names in A/331 Table A.3.6 (the values 1-9 are fixed); 0 and
/// 10-127 are reserved, 128-255 are defined by the S-TSID of the session.
pub fn codepoint_meaning(cp: u8) -> &'static str {
    match cp {
        1 => "NRT, File Mode",
        2 => "NRT, Entity Mode",
        3 => "NRT, Unsigned Package Mode",
        4 => "NRT, Signed Package Mode",
        5 => "New IS, timeline changed",
        6 => "New IS, timeline continued",
        7 => "Redundant IS",
        8 => "Media Segment, File Mode",
        9 => "Media Segment, Entity Mode",
        128..=255 => "defined by the S-TSID (Payload@codePoint)",
        _ => "ATSC reserved (unless the S-TSID declares it)",
    }
}

/// The delivery-object mode a codepoint's format implies, for the fixed values (A/331 Table A.3.6): File (an EFDT
/// names the object), Entity (HTTP entity headers lead the object), Package (a multipart MIME
/// object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    File,
    Entity,
    Package,
}

impl DeliveryMode {
    /// From a fixed codepoint (A/331 Table A.3.6).
    pub fn of_codepoint(cp: u8) -> Option<DeliveryMode> {
        match cp {
            1 | 5..=8 => Some(DeliveryMode::File),
            2 | 9 => Some(DeliveryMode::Entity),
            3 | 4 => Some(DeliveryMode::Package),
            _ => None,
        }
    }

    /// From an S-TSID `Payload@formatId` (A/331 Table A.3.2: 1 File, 2 Entity, 3 Unsigned
    /// Package, 4 Signed Package).
    pub fn of_format_id(id: u8) -> Option<DeliveryMode> {
        match id {
            1 => Some(DeliveryMode::File),
            2 => Some(DeliveryMode::Entity),
            3 | 4 => Some(DeliveryMode::Package),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DeliveryMode::File => "file",
            DeliveryMode::Entity => "entity",
            DeliveryMode::Package => "package",
        }
    }
}

/// A big-endian unsigned number of up to 8 bytes (EXT_TOL's 24 or 48 bits, an NTP time).
pub(crate) fn be_uint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |v, &b| v << 8 | u64::from(b))
}

/// Reads the ROUTE extensions of `lct` (EXT_TOL, EXT_ROUTE_PRESENTATION_TIME), which the LCT
/// layer leaves opaque, raising a finding for one whose length does not fit its format.
pub(crate) fn extensions(lct: &LctRepr, f: &mut Findings) -> (Option<u64>, Option<u64>) {
    let mut tol = None;
    let mut presentation_time = None;
    let mut pt_at = None;
    let mut at = lct.fixed_len();
    for ext in &lct.extensions {
        let content = match &ext.body {
            ExtensionBody::Unknown { content } => Some(content.as_slice()),
            _ => None,
        };
        match (ext.het, content) {
            (HET_TOL_24, Some(c)) if c.len() == 3 => {
                tol = Some(be_uint(c));
            }
            (HET_TOL_48, Some(c)) if c.len() == 6 => {
                tol = Some(be_uint(c));
            }
            (HET_TOL_48, Some(_)) => f.raise(
                &registry::route::EXT_TOL_MALFORMED,
                "ext_tol",
                at,
                format!("EXT_TOL (HET 67) with HEL {}, not 2", ext.hel.unwrap_or(0)),
            ),
            (HET_ROUTE_PRESENTATION_TIME, Some(c)) if c.len() == 10 => {
                presentation_time = Some(be_uint(&c[2..]));
                pt_at = Some(at);
            }
            (HET_ROUTE_PRESENTATION_TIME, Some(_)) => f.raise(
                &registry::route::EXT_PRESENTATION_TIME_MALFORMED,
                "ext_route_presentation_time",
                at,
                format!(
                    "EXT_ROUTE_PRESENTATION_TIME (HET 66) with HEL {}, not 3",
                    ext.hel.unwrap_or(0)
                ),
            ),
            _ => {}
        }
        at += ext.buffer_len();
    }
    // §A.3.7.2: the packet also carries EXT_TIME with SCT-High and SCT-Low, which the
    // presentation time is compared with.
    if let (Some(_), Some(pt_at)) = (presentation_time, pt_at) {
        let sct = lct.extensions.iter().any(|e| {
            matches!(&e.body, ExtensionBody::Time(t) if t.sct_high.is_some() && t.sct_low.is_some())
        });
        if !sct {
            f.raise(
                &registry::route::PRESENTATION_TIME_WITHOUT_EXT_TIME,
                "ext_route_presentation_time",
                pt_at,
                "EXT_ROUTE_PRESENTATION_TIME without EXT_TIME's SCT-High and SCT-Low",
            );
        }
    }
    (tol, presentation_time)
}

/// Reads the FEC Payload ID of a ROUTE packet from `rest` (the bytes after the LCT header, at
/// `base` in the datagram): a source packet's start_offset, or a repair packet's RaptorQ
/// Payload ID. Returns the header, the repair packet's Payload ID and the Payload ID's length.
pub(crate) fn payload_id(
    lct: &LctRepr,
    rest: &[u8],
    base: usize,
) -> Result<(RoutePayload, Option<FecPayloadId>, usize), WireError> {
    if lct.spi() {
        let mut r = Reader::new(rest, &registry::fec::PAYLOAD_ID_TRUNCATED).with_base(base);
        r.set_rule(RULE_START_OFFSET);
        let start_offset = r.u32("start_offset")?;
        Ok((RoutePayload::Source { start_offset }, None, 4))
    } else {
        let p = FecPayloadId::parse(rest, 6, None)
            .map_err(|e| e.at(base).citing("A/331 §A.3.5.2, RFC 6330 §3.2"))?;
        Ok((RoutePayload::Repair, Some(p), p.buffer_len()))
    }
}

/// Whether a packet's PSI says repair: for the tree's label.
pub fn psi_role(lct: &LctRepr) -> &'static str {
    if lct.spi() {
        "source packet"
    } else {
        "repair packet"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::alc::{AlcContext, AlcPacket};

    fn packet(exts: &[u8]) -> Vec<u8> {
        let mut v = vec![0x12, 0xA0, (4 + exts.len() / 4) as u8, 8, 0, 0, 0, 0];
        v.extend(1u32.to_be_bytes());
        v.extend(5u32.to_be_bytes());
        v.extend(exts);
        v.extend(7u32.to_be_bytes());
        v.extend(b"data");
        v
    }

    fn route() -> AlcContext {
        AlcContext {
            profile: Profile::Route,
            ..AlcContext::default()
        }
    }

    #[test]
    fn findings_point_at_the_extension_they_are_about() {
        // EXT_FTI-free packet: the first extension is at byte 16 (the fixed LCT header).
        let mut exts = vec![194, 0, 0, 9];
        exts.extend([66, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let d = AlcPacket::parse(&packet(&exts), route()).unwrap();
        let f = &d.findings[0];
        assert_eq!(
            (f.id, f.offset),
            ("route.presentation_time.without_ext_time", 20)
        );
        let r = d.value.route.unwrap();
        assert_eq!((r.tol, r.start_offset()), (Some(9), Some(7)));
        let d = AlcPacket::parse(&packet(&[67, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]), route()).unwrap();
        assert_eq!(
            (d.findings[0].id, d.findings[0].offset),
            ("route.ext_tol.malformed", 16)
        );
        assert_eq!(d.value.route.unwrap().tol, None);
    }

    #[test]
    fn a_fixed_codepoint_gives_its_delivery_mode() {
        for (cp, mode) in [
            (1, Some(DeliveryMode::File)),
            (5, Some(DeliveryMode::File)),
            (8, Some(DeliveryMode::File)),
            (2, Some(DeliveryMode::Entity)),
            (9, Some(DeliveryMode::Entity)),
            (3, Some(DeliveryMode::Package)),
            (0, None),
            (128, None),
        ] {
            assert_eq!(DeliveryMode::of_codepoint(cp), mode, "CP {cp}");
        }
        assert_eq!(Profile::from_name("dvb-mabr"), Some(Profile::DvbMabr));
        assert!(Profile::Atsc3.is_route() && !Profile::Flute.is_route());
    }
}
