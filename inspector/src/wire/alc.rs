//! An ALC packet (RFC 5775 §2, §4.1): `LCT header | FEC Payload ID | encoding symbol(s)`.
//!
//! The FEC Encoding ID is not in the packet: FLUTE puts it in the codepoint (RFC 6726 §5), other
//! uses learn it from the session description, so the caller says how to find it.

use crate::registry;
use crate::wire::finding::Finding;
use serde::Serialize;

use super::error::WireError;
use super::ext_fti::ExtFti;
use super::fec_payload_id::{FecPayloadId, KNOWN_ENCODING_IDS};
use super::finding::{Decoded, Findings};
use super::lct::{ExtensionBody, LctRepr};
use super::route::{self, DeliveryMode, Profile, RouteHeader};
use super::route_sls::StsidChannel;
use super::webrc_cci::WebrcCci;

/// How the receiver knows the FEC Encoding ID and the congestion control of a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlcContext {
    /// `None`: take the codepoint as the FEC Encoding ID (FLUTE, RFC 6726 §5).
    pub fec_encoding_id: Option<u8>,
    /// RS field size for FEC Encoding ID 2 when known (default 8).
    pub rs_m: Option<u8>,
    /// Decode the CCI as WEBRC (RFC 3738 §5).
    pub webrc: bool,
    /// The profile the packets follow: ROUTE's reads the PSI, codepoint and FEC Payload ID
    /// otherwise (`wire/route.rs`).
    pub profile: Profile,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlcPacket {
    pub lct: LctRepr,
    pub fec_encoding_id: u8,
    /// EXT_FTI decoded for the packet's FEC scheme, when present and decodable.
    /// Boxed: rare, and large next to the rest of the packet.
    pub fti: Option<Box<ExtFti>>,
    pub webrc: Option<WebrcCci>,
    /// Absent in a packet without payload (RFC 5775 §4.1, e.g. a close-session packet), and
    /// in a ROUTE source packet, whose start_offset is in `route`.
    pub payload_id: Option<FecPayloadId>,
    /// Read with a ROUTE profile: source or repair, start_offset, EXT_TOL, presentation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteHeader>,
    /// A ROUTE source packet's LCT channel as its session's S-TSID describes it (not in the
    /// packet: the dissector adds it), for the objects' names.
    #[serde(skip)]
    pub stsid: Option<std::sync::Arc<StsidChannel>>,
    /// Offset and length of the encoding symbol(s) in the datagram.
    pub symbol_offset: usize,
    pub symbol_len: usize,
}

impl AlcPacket {
    pub fn parse(datagram: &[u8], ctx: AlcContext) -> Result<Decoded<AlcPacket>, WireError> {
        let Decoded {
            value: lct,
            findings,
        } = LctRepr::parse(datagram)?;
        let mut f = Findings { list: findings };
        if lct.tsi.is_none() {
            f.raise(
                &registry::alc::TSI_ABSENT,
                "s",
                1,
                "S=0 and H=0: ALC requires a TSI",
            );
        }
        super::ext_cenc::check_placement(&lct, &mut f);
        let is_route = ctx.profile.is_route();
        // ROUTE: source packets carry no FEC scheme's Payload ID (EXT_FTI reads as Compact
        // No-Code's), repair packets RaptorQ's (A/331 §A.4.2.1).
        let fec_encoding_id = match (is_route, lct.spi()) {
            (true, true) => 0,
            (true, false) => 6,
            (false, _) => ctx.fec_encoding_id.unwrap_or(lct.codepoint),
        };
        // None of the ten known schemes defines a second (source-only) Payload ID format, so the
        // sender sets SPI=0 (RFC 5775 §2.1); receivers ignore it, hence a warning. ROUTE gives
        // the bit its meaning (source/repair).
        if !is_route && lct.spi() && KNOWN_ENCODING_IDS.contains(&fec_encoding_id) {
            f.raise(
                &registry::alc::SPI_SET,
                "psi",
                0,
                format!("SPI=1 with FEC Encoding ID {fec_encoding_id}, a single-format scheme"),
            );
        }
        let mut fti = None;
        let mut ext_pos = lct.fixed_len();
        for ext in &lct.extensions {
            if let ExtensionBody::Fti { content } = &ext.body {
                let hel = ext.hel.unwrap_or(0);
                match ExtFti::parse_content(content, hel, fec_encoding_id, ext_pos + 2) {
                    Ok(d) => {
                        f.list.extend(d.findings);
                        fti = Some(d.value);
                    }
                    Err(e) => f.push(e.into()),
                }
            }
            ext_pos += ext.buffer_len();
        }
        let rs_m = match &fti {
            Some(ExtFti {
                oti: super::ext_fti::FecOti::ReedSolomon { m, .. },
                ..
            }) => Some(*m),
            _ => ctx.rs_m,
        };
        let webrc = if ctx.webrc {
            WebrcCci::of_lct(&lct, &mut f)?
        } else {
            None
        };
        let header_len = lct.header_len();
        let rest = datagram.get(header_len..).unwrap_or(&[]);
        let mut route = None;
        let (payload_id, symbol_offset) = if is_route && !rest.is_empty() {
            let (tol, presentation_time) = route::extensions(&lct, &mut f);
            let (payload, pid, n) = route::payload_id(&lct, rest, header_len)?;
            route = Some(RouteHeader {
                payload,
                tol,
                presentation_time,
                repair_flow: None,
                mode: DeliveryMode::of_codepoint(lct.codepoint).filter(|_| lct.spi()),
            });
            (pid, header_len + n)
        } else if rest.is_empty() {
            (None, datagram.len())
        } else {
            match FecPayloadId::parse(rest, fec_encoding_id, rs_m) {
                Ok(p) => {
                    let n = p.buffer_len();
                    (Some(p), header_len + n)
                }
                Err(e) if e.id == registry::fec::ENCODING_ID_UNKNOWN.id => {
                    // Without a known scheme the payload stays opaque: not a header error, so
                    // the entry's own severity (a warning), not the error's.
                    f.push(
                        Finding::of(
                            &registry::fec::ENCODING_ID_UNKNOWN,
                            e.field,
                            header_len,
                            e.detail,
                        )
                        .citing(e.rule),
                    );
                    (None, header_len)
                }
                Err(e) => return Err(e.at(header_len)),
            }
        };
        if (payload_id.is_some() || route.is_some()) && symbol_offset == datagram.len() {
            f.raise(
                &registry::alc::SYMBOL_EMPTY,
                "payload",
                symbol_offset,
                "an FEC Payload ID with no encoding symbol after it",
            );
        }
        Ok(Decoded::new(
            AlcPacket {
                fec_encoding_id,
                fti: fti.map(Box::new),
                webrc,
                payload_id,
                route,
                stsid: None,
                symbol_offset,
                symbol_len: datagram.len() - symbol_offset,
                lct,
            },
            f.list,
        ))
    }

    /// Whether the packet carries an FEC Payload ID (a ROUTE source packet's start_offset
    /// counts): false for a packet of headers only, such as a close-session packet.
    pub fn has_payload_id(&self) -> bool {
        self.payload_id.is_some() || self.route.is_some()
    }

    pub fn symbols<'a>(&self, datagram: &'a [u8]) -> &'a [u8] {
        &datagram[self.symbol_offset..self.symbol_offset + self.symbol_len]
    }

    /// Re-emits the headers (LCT and FEC Payload ID) followed by `symbols`.
    pub fn emit(&self, symbols: &[u8], out: &mut Vec<u8>) -> Result<(), WireError> {
        self.lct.emit(out)?;
        if let Some(p) = &self.payload_id {
            p.emit(out)?;
        }
        if let Some(start_offset) = self.route.and_then(|r| r.start_offset()) {
            out.extend_from_slice(&start_offset.to_be_bytes());
        }
        out.extend_from_slice(symbols);
        Ok(())
    }
}
