//! A ROUTE session as an ATSC 3.0 broadcaster sends it (A/331), sans-IO: the datagrams, in
//! order, of
//!
//! - the LLS's SLT (224.0.23.60:4937, A/331 §6.3) naming the service's SLS destination;
//! - the SLS bundle on TSI 0 (§7.1): a multipart/related object (Package mode, codepoint 3) with
//!   a metadata envelope, the USBD, the S-TSID and the MPD, its TOI built as Annex C's filter
//!   bits (USBD, S-TSID, MPD present; version 0);
//! - a File-mode source flow (TSI 1): its EFDT on TOI 0 (§A.3.3.2.3), then each file (init
//!   segments codepoint 5, media segments 8, others 1), the first packet of each media segment
//!   with EXT_ROUTE_PRESENTATION_TIME and the EXT_TIME it requires (§A.3.7.1, §A.3.7.2);
//! - an Entity-mode source flow (TSI 2, codepoints 2 and 9): each object is HTTP entity
//!   headers, an empty line and the body (§A.3.3.3);
//! - a RaptorQ repair flow (TSI 3) protecting TSI 1: after each file, its repair symbols, one a
//!   packet, over the FEC transport object (§A.4.2), with the S-TSID's fecOTI.
//!
//! Every source packet carries EXT_TOL (24 bits, or 48 past 16 MiB) and sets B on the packet
//! that ends its object.

use std::net::{Ipv4Addr, SocketAddrV4};

use flate2::write::GzEncoder;
use std::io::Write;

use rmt_inspector::track::route_repair::RepairFlow;
use rmt_inspector::wire::ext_time::{ExtTime, USE_SCT_HIGH, USE_SCT_LOW};
use rmt_inspector::wire::fec_payload_id::FecPayloadId;
use rmt_inspector::wire::lct::{ExtensionBody, HeaderExtension, HET_TIME};
use rmt_inspector::wire::lls::{LLS_GROUP, LLS_PORT};
use rmt_inspector::wire::route::{HET_ROUTE_PRESENTATION_TIME, HET_TOL_24, HET_TOL_48};

use crate::packet::{lct_header, FieldWidths};

/// The TSIs of the session's LCT channels.
pub const TSI_SLS: u64 = 0;
pub const TSI_FILE: u64 = 1;
pub const TSI_ENTITY: u64 = 2;
pub const TSI_REPAIR: u64 = 3;

/// Annex C's TOI bits of an SLS bundle: USBD, S-TSID and MPD present.
pub const SLS_TOI: u32 = (1 << 16) | (1 << 17) | (1 << 18);

/// One file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFile {
    /// Its Content-Location.
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl RouteFile {
    pub fn new(name: &str, content_type: &str, data: Vec<u8>) -> Self {
        RouteFile {
            name: name.into(),
            content_type: content_type.into(),
            data,
        }
    }

    /// A DASH init segment (codepoint 5) or media segment (8 or 9), from its name.
    fn kind(&self) -> FileKind {
        if self.name.contains("init") {
            FileKind::Init
        } else if self.name.ends_with(".m4s") || self.name.ends_with(".mp4") {
            FileKind::Segment
        } else {
            FileKind::Other
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Init,
    Segment,
    Other,
}

/// The repair flow: RaptorQ parameters and how many repair symbols each source block gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairConfig {
    pub symbol_size: u16,
    pub source_blocks: u8,
    pub repair_symbols: u32,
}

#[derive(Debug, Clone)]
pub struct RouteConfig {
    pub source: Ipv4Addr,
    pub destination: SocketAddrV4,
    pub service_id: u16,
    /// Largest payload of a source packet, bytes.
    pub payload_len: usize,
    pub file_mode: Vec<RouteFile>,
    pub entity_mode: Vec<RouteFile>,
    pub repair: Option<RepairConfig>,
    /// The MPD put in the SLS bundle, if any.
    pub mpd: Option<String>,
    /// Name the File-mode objects by this template (`$TOI$`) in an EFDT inside the S-TSID,
    /// instead of an EFDT on TOI 0 (the two are exclusive, A/331 Table A.3.1); the files are
    /// then sent on TOIs 1, 2, ... and should be named as the template names those TOIs.
    pub file_template: Option<String>,
}

impl RouteConfig {
    /// A session on 233.252.0.9:3400 (documentation addresses, RFC 5771) from 10.0.0.1.
    pub fn new(file_mode: Vec<RouteFile>, entity_mode: Vec<RouteFile>) -> Self {
        RouteConfig {
            source: Ipv4Addr::new(10, 0, 0, 1),
            destination: SocketAddrV4::new(Ipv4Addr::new(233, 252, 0, 9), 3400),
            service_id: 5001,
            payload_len: 1400,
            file_mode,
            entity_mode,
            repair: Some(RepairConfig {
                symbol_size: 1400,
                source_blocks: 1,
                repair_symbols: 4,
            }),
            mpd: None,
            file_template: None,
        }
    }

    fn repair_flow(&self) -> Option<RepairFlow> {
        self.repair.map(|r| RepairFlow {
            protects_tsi: TSI_FILE,
            symbol_size: r.symbol_size,
            source_blocks: r.source_blocks,
            sub_blocks: 1,
            alignment: 4,
        })
    }
}

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub destination: SocketAddrV4,
    pub payload: Vec<u8>,
    /// The LCT channel (None for the LLS), for callers that drop or reorder by flow.
    pub tsi: Option<u64>,
    /// Whether it is a repair packet.
    pub repair: bool,
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The LLS table carrying the SLT (A/331 §6.1, §6.3).
pub fn slt_datagram(cfg: &RouteConfig) -> Datagram {
    let slt = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><SLT xmlns="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/SLT/1.0/" bsid="1"><Service serviceId="{}" sltSvcSeqNum="0" serviceCategory="1" shortServiceName="rmtkit"><BroadcastSvcSignaling slsProtocol="1" slsDestinationIpAddress="{}" slsDestinationUdpPort="{}" slsSourceIpAddress="{}"/></Service></SLT>"#,
        cfg.service_id,
        cfg.destination.ip(),
        cfg.destination.port(),
        cfg.source
    );
    let mut payload = vec![1, 0, 0, 0];
    payload.extend(gzip(slt.as_bytes()));
    Datagram {
        destination: SocketAddrV4::new(LLS_GROUP, LLS_PORT),
        payload,
        tsi: None,
        repair: false,
    }
}

/// The S-TSID: the three source and repair channels with their payload formats.
pub fn stsid(cfg: &RouteConfig) -> String {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><S-TSID xmlns="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/S-TSID/1.0/"><RS sIpAddr="{}" dIpAddr="{}" dPort="{}">"#,
        cfg.source,
        cfg.destination.ip(),
        cfg.destination.port()
    );
    let efdt = cfg.file_template.as_ref().map_or(String::new(), |t| {
        format!(
            r#"<EFDT><FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" xmlns:afdt="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/ATSC-FDT/1.0/" Expires="4294967295" afdt:efdtVersion="0" afdt:fileTemplate="{}"/></EFDT>"#,
            xml_escape(t)
        )
    });
    s.push_str(&format!(
        r#"<LS tsi="{TSI_FILE}"><SrcFlow rt="true">{efdt}<Payload codePoint="1" formatId="1"/><Payload codePoint="5" formatId="1"/><Payload codePoint="8" formatId="1" frag="1"/></SrcFlow></LS>"#
    ));
    s.push_str(&format!(
        r#"<LS tsi="{TSI_ENTITY}"><SrcFlow rt="true"><Payload codePoint="2" formatId="2"/><Payload codePoint="9" formatId="2" frag="1"/></SrcFlow></LS>"#
    ));
    if let Some(flow) = cfg.repair_flow() {
        // F is each object's own: 0 here, as for live content (A/331 Table A.4.1).
        let t_z_n_al = &flow.fec_oti_hex(0)[10..];
        s.push_str(&format!(
            r#"<LS tsi="{TSI_REPAIR}"><RepairFlow><FECParameters fecOTI="0000000000{t_z_n_al}"><ProtectedObject tsi="{TSI_FILE}"/></FECParameters></RepairFlow></LS>"#
        ));
    }
    s.push_str("</RS></S-TSID>");
    s
}

/// The SLS bundle (A/331 §7.1): envelope, USBD, S-TSID and, if any, the MPD.
pub fn sls_bundle(cfg: &RouteConfig) -> Vec<u8> {
    let mut parts: Vec<(&str, &str, String)> = vec![
        (
            "application/mbms-envelope+xml",
            "envelope.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><metadataEnvelope xmlns="urn:3gpp:metadata:2005:MBMS:envelope"><item metadataURI="usbd.xml" version="0"/><item metadataURI="stsid.xml" version="0"/></metadataEnvelope>"#.into(),
        ),
        (
            "application/route-usd+xml",
            "usbd.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><BundleDescriptionROUTE xmlns="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/ROUTEUSD/1.0/"><UserServiceDescription serviceId="{}"/></BundleDescriptionROUTE>"#,
                cfg.service_id
            ),
        ),
        ("application/route-s-tsid+xml", "stsid.xml", stsid(cfg)),
    ];
    if let Some(mpd) = &cfg.mpd {
        parts.push(("application/dash+xml", "manifest.mpd", mpd.clone()));
    }
    let mut out = String::from(
        "Content-Type: multipart/related; type=\"application/mbms-envelope+xml\"; boundary=\"--rmtkit-sls\"\r\n\r\n",
    );
    for (ct, loc, body) in parts {
        out.push_str(&format!(
            "----rmtkit-sls\r\nContent-Type: {ct}\r\nContent-Location: {loc}\r\n\r\n{body}\r\n"
        ));
    }
    out.push_str("----rmtkit-sls--\r\n");
    out.into_bytes()
}

/// The EFDT of the File-mode flow (A/331 §A.3.3.2.3): one File entry per file.
pub fn efdt(cfg: &RouteConfig) -> Vec<u8> {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><EFDT xmlns="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/S-TSID/1.0/"><FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" xmlns:afdt="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/ATSC-FDT/1.0/" Expires="4294967295" afdt:efdtVersion="0">"#,
    );
    for (i, f) in cfg.file_mode.iter().enumerate() {
        s.push_str(&format!(
            r#"<File TOI="{}" Content-Location="{}" Content-Length="{}" Transfer-Length="{}" Content-Type="{}"/>"#,
            i + 1,
            xml_escape(&f.name),
            f.data.len(),
            f.data.len(),
            xml_escape(&f.content_type)
        ));
    }
    s.push_str("</FDT-Instance></EFDT>");
    s.into_bytes()
}

/// An Entity-mode object (A/331 §A.3.3.3): HTTP entity headers, an empty line, the body.
pub fn entity_object(f: &RouteFile) -> Vec<u8> {
    let mut v = format!(
        "Content-Location: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        f.name,
        f.content_type,
        f.data.len()
    )
    .into_bytes();
    v.extend(&f.data);
    v
}

/// EXT_TOL for an object of `len` bytes (A/331 §A.3.8.1).
fn ext_tol(len: u64) -> HeaderExtension {
    if len <= 0xFF_FFFF {
        HeaderExtension {
            het: HET_TOL_24,
            hel: None,
            body: ExtensionBody::Unknown {
                content: len.to_be_bytes()[5..].to_vec(),
            },
        }
    } else {
        HeaderExtension {
            het: HET_TOL_48,
            hel: Some(2),
            body: ExtensionBody::Unknown {
                content: len.to_be_bytes()[2..].to_vec(),
            },
        }
    }
}

/// EXT_ROUTE_PRESENTATION_TIME (§A.3.7.1) and the EXT_TIME with SCT-High and SCT-Low that
/// must come with it (§A.3.7.2), the presentation time `lead_ms` after the sender's time.
fn presentation_time(sct_ntp: u64, lead_ms: u64) -> [HeaderExtension; 2] {
    let pt = sct_ntp + (lead_ms << 32) / 1000;
    let mut content = vec![0, 0];
    content.extend(pt.to_be_bytes());
    [
        HeaderExtension {
            het: HET_ROUTE_PRESENTATION_TIME,
            hel: Some(3),
            body: ExtensionBody::Unknown { content },
        },
        HeaderExtension {
            het: HET_TIME,
            hel: Some(3),
            body: ExtensionBody::Time(ExtTime {
                use_field: USE_SCT_HIGH | USE_SCT_LOW,
                sct_high: Some((sct_ntp >> 32) as u32),
                sct_low: Some(sct_ntp as u32),
                ert: None,
                slc: None,
                extra: vec![],
            }),
        },
    ]
}

const WIDTHS: FieldWidths = FieldWidths {
    tsi_len: 4,
    toi_len: 4,
};

/// The source packets of one object: start_offset ranges of up to `payload_len` bytes.
#[allow(clippy::too_many_arguments)]
fn source_packets(
    cfg: &RouteConfig,
    tsi: u64,
    toi: u32,
    codepoint: u8,
    object: &[u8],
    first_extensions: Vec<HeaderExtension>,
    out: &mut Vec<Datagram>,
) -> Result<(), String> {
    let len = object.len() as u64;
    if len > u64::from(u32::MAX) {
        return Err(format!(
            "an object of {len} bytes: start_offset has 32 bits (A/331 §A.3.5.1)"
        ));
    }
    let chunks: Vec<&[u8]> = if object.is_empty() {
        vec![&[][..]]
    } else {
        object.chunks(cfg.payload_len.max(1)).collect()
    };
    let mut offset = 0u32;
    let last = chunks.len() - 1;
    let mut first = Some(first_extensions);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut exts = vec![ext_tol(len)];
        exts.extend(first.take().unwrap_or_default());
        let mut lct = lct_header(WIDTHS, tsi, Some(u128::from(toi)), codepoint, exts);
        // PSI: the source bit (A/331 §A.3.4).
        lct.psi = 2;
        lct.close_object = i == last;
        let mut payload = Vec::new();
        lct.emit(&mut payload).map_err(|e| e.to_string())?;
        payload.extend(offset.to_be_bytes());
        payload.extend(chunk);
        offset += chunk.len() as u32;
        out.push(Datagram {
            destination: cfg.destination,
            payload,
            tsi: Some(tsi),
            repair: false,
        });
    }
    Ok(())
}

/// The repair packets of one File-mode object (A/331 §A.4): PSI 0, its TOI, RaptorQ's Payload ID.
fn repair_packets(
    cfg: &RouteConfig,
    flow: RepairFlow,
    count: u32,
    toi: u32,
    object: &[u8],
    out: &mut Vec<Datagram>,
) -> Result<(), String> {
    for (sbn, esi, symbol) in flow.repair_symbols(object, count)? {
        let lct = lct_header(WIDTHS, TSI_REPAIR, Some(u128::from(toi)), 0, vec![]);
        let mut payload = Vec::new();
        lct.emit(&mut payload).map_err(|e| e.to_string())?;
        FecPayloadId {
            encoding_id: 6,
            m: None,
            sbn: u32::from(sbn),
            sbl: None,
            esi,
        }
        .emit(&mut payload)
        .map_err(|e| e.to_string())?;
        payload.extend(symbol);
        out.push(Datagram {
            destination: cfg.destination,
            payload,
            tsi: Some(TSI_REPAIR),
            repair: true,
        });
    }
    Ok(())
}

/// The whole session, in sending order.
pub fn route_session(cfg: &RouteConfig) -> Result<Vec<Datagram>, String> {
    let mut out = vec![slt_datagram(cfg)];
    source_packets(cfg, TSI_SLS, SLS_TOI, 3, &sls_bundle(cfg), vec![], &mut out)?;
    if cfg.file_template.is_none() {
        source_packets(cfg, TSI_FILE, 0, 1, &efdt(cfg), vec![], &mut out)?;
    }
    // The sender's clock for presentation times: 2026-01-01 in NTP seconds.
    let sct = 3_976_214_400u64 << 32;
    for (i, f) in cfg.file_mode.iter().enumerate() {
        let toi = i as u32 + 1;
        let (cp, first) = match f.kind() {
            FileKind::Init => (5, vec![]),
            FileKind::Segment => (8, presentation_time(sct, 500 + 1000 * i as u64).to_vec()),
            FileKind::Other => (1, vec![]),
        };
        source_packets(cfg, TSI_FILE, toi, cp, &f.data, first, &mut out)?;
        if let (Some(flow), Some(r)) = (cfg.repair_flow(), cfg.repair) {
            repair_packets(cfg, flow, r.repair_symbols, toi, &f.data, &mut out)?;
        }
    }
    for (i, f) in cfg.entity_mode.iter().enumerate() {
        let cp = if f.kind() == FileKind::Other { 2 } else { 9 };
        source_packets(
            cfg,
            TSI_ENTITY,
            i as u32 + 1,
            cp,
            &entity_object(f),
            vec![],
            &mut out,
        )?;
    }
    Ok(out)
}
