//! Per-packet output modes: the summary line (default), the decoded tree (`-V`), a hex dump
//! (`-x`), JSON lines (`-T json`) and field columns (`-T fields -e ...`).

use std::time::Duration;

use super::dissect::Dissected;
use super::fields::{values, Field};
use crate::wire::lls;
use crate::wire::Finding;

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn relative(d: &Dissected, t0: Duration) -> f64 {
    seconds(d.raw.timestamp.saturating_sub(t0))
}

/// Findings of the packet, with the decoding error (if any) as an error-severity finding.
pub fn all_findings(d: &Dissected) -> Vec<Finding> {
    let mut v = d.findings.clone();
    if let Some(e) = &d.error {
        v.push(Finding::from((**e).clone()));
    }
    v
}

/// `frame time src -> dst protocol details [findings]`, as tshark's one-line summary.
pub fn summary_line(d: &Dissected, t0: Duration) -> String {
    let mut s = format!("{:>7} {:>12.6}", d.raw.frame, relative(d, t0));
    match (&d.flow, &d.alc) {
        (Some(flow), Some(a)) => {
            s.push_str(&format!(" {} → {} ALC", flow.src, flow.dst));
            if let Some(tsi) = a.lct.tsi {
                s.push_str(&format!(" TSI={tsi}"));
            }
            if let Some(toi) = a.lct.toi {
                s.push_str(&format!(" TOI={toi}"));
            }
            if let Some(start) = a.route.and_then(|r| r.start_offset()) {
                s.push_str(&format!(" start_offset={start}"));
            } else if a.route.is_some() {
                s.push_str(" repair");
            }
            if let Some(p) = a.payload_id {
                s.push_str(&format!(" SBN={} ESI={}", p.sbn, p.esi));
            }
            if a.lct.close_session {
                s.push_str(" A");
            }
            if a.lct.close_object {
                s.push_str(" B");
            }
            s.push_str(&format!(" len={}", a.symbol_len));
        }
        (Some(flow), None) => match &d.lls {
            Some(t) => s.push_str(&format!(
                " {} → {} LLS {} v{}{}",
                flow.src,
                flow.dst,
                lls::table_name(t.table_id),
                t.version,
                t.slt.as_ref().map_or(String::new(), |slt| format!(
                    " services={}",
                    slt.services.len()
                ))
            )),
            None => s.push_str(&format!(
                " {} → {} UDP {} → {}",
                flow.src, flow.dst, flow.src_port, flow.dst_port
            )),
        },
        (None, _) => s.push_str(" (not UDP)"),
    }
    let f = all_findings(d);
    if !f.is_empty() {
        s.push_str(" [");
        s.push_str(&f.iter().map(|f| f.id).collect::<Vec<_>>().join(", "));
        s.push(']');
    }
    s
}

/// One JSON object per packet (`-T json`): `frame` is the 1-based packet number. Serialised
/// straight from the decoded values (no intermediate JSON tree).
pub fn write_json_line(
    out: &mut impl std::io::Write,
    d: &Dissected,
    t0: Duration,
) -> std::io::Result<()> {
    // Serialised into a buffer reused across packets, then written at once.
    JSON_BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        append_json_line(buf, d, t0)?;
        out.write_all(buf)
    })
}

/// [`write_json_line`] appended to a buffer.
pub fn append_json_line(buf: &mut Vec<u8>, d: &Dissected, t0: Duration) -> std::io::Result<()> {
    let findings = all_findings(d);
    let (epoch, since_first) = (seconds(d.raw.timestamp), relative(d, t0));
    super::json_line::append_packet(buf, d, epoch, since_first, &findings)
        .map_err(std::io::Error::other)?;
    buf.push(b'\n');
    Ok(())
}

thread_local! {
    static JSON_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`write_json_line`] into a string (without the newline).
pub fn json_line(d: &Dissected, t0: Duration) -> String {
    let mut v = Vec::new();
    let _ = write_json_line(&mut v, d, t0);
    v.pop();
    String::from_utf8(v).unwrap_or_default()
}

/// The decoded tree (`-V`): see [`super::tree`].
pub fn tree(d: &Dissected, t0: Duration) -> String {
    super::tree::tree(d, t0)
}

/// tshark-style hex dump: offset, 16 bytes in hex, printable ASCII.
pub fn hex_dump(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{:04x}  {:<48} {}\n",
            i * 16,
            hex.join(" "),
            ascii
        ));
    }
    out
}

/// `-T fields`: the values of each field, repeated ones joined by ',', absent ones empty.
pub fn fields_line(d: &Dissected, fields: &[&Field], separator: &str) -> String {
    fields
        .iter()
        .map(|f| {
            values(f, d)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::load::read_capture;
    use serde::Serialize;

    use crate::capture::reader::RawPacket;
    use crate::inspect::dissect::{dissect, FlowSelector};
    use crate::inspect::json_line::FindingJson;
    use crate::wire::alc::AlcContext;
    use crate::wire::ip::IpRepr;
    use crate::wire::link::{LinkRepr, LinkType};

    // The serde model of a `-T json` line: the reference that `json_line`'s direct writer
    // must reproduce byte for byte.
    #[derive(Serialize)]
    struct FecJson<'a> {
        encoding_id: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        payload_id: Option<&'a crate::wire::fec_payload_id::FecPayloadId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        fti: Option<&'a crate::wire::ext_fti::ExtFti>,
    }

    #[derive(Serialize)]
    struct PayloadJson {
        offset: usize,
        length: usize,
    }

    #[derive(Serialize)]
    struct LayersJson<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<&'a crate::wire::link::LinkRepr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ip: Option<&'a crate::wire::ip::IpRepr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        udp: Option<&'a crate::wire::udp::UdpRepr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        lct: Option<&'a crate::wire::lct::LctRepr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        fec: Option<FecJson<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        webrc: Option<&'a crate::wire::webrc_cci::WebrcCci>,
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<PayloadJson>,
    }

    #[derive(Serialize)]
    struct PacketJson<'a> {
        frame: u64,
        time_epoch: f64,
        time_relative: f64,
        len: u32,
        layers: LayersJson<'a>,
        findings: Vec<FindingJson<'a>>,
    }

    fn packet_json<'a>(d: &'a Dissected, t0: Duration, findings: &'a [Finding]) -> PacketJson<'a> {
        let a = d.alc.as_ref();
        let frame = d.frame.as_ref();
        PacketJson {
            frame: d.raw.frame,
            time_epoch: seconds(d.raw.timestamp),
            time_relative: relative(d, t0),
            len: d.raw.orig_len,
            layers: LayersJson {
                link: frame.map(|f| &f.link),
                ip: frame.and_then(|f| f.ip.as_ref()),
                udp: frame.and_then(|f| f.udp.as_ref()),
                lct: a.map(|a| &a.lct),
                fec: a.map(|a| FecJson {
                    encoding_id: a.fec_encoding_id,
                    payload_id: a.payload_id.as_ref(),
                    fti: a.fti.as_deref(),
                }),
                webrc: a.and_then(|a| a.webrc.as_ref()),
                payload: a.map(|a| PayloadJson {
                    offset: d.alc_offset + a.symbol_offset,
                    length: a.symbol_len,
                }),
            },
            findings: findings.iter().map(FindingJson::from).collect(),
        }
    }

    /// `-T json`'s line for `d` (the direct writer) and the serde serializer of `json.rs` (what
    /// the direct writer falls back to for rare values), each against serde_json's output for
    /// the serde model of the line.
    fn assert_line_matches_serde_json(d: &Dissected) {
        let t0 = Duration::from_secs(1);
        let findings = all_findings(d);
        let value = packet_json(d, t0, &findings);
        let theirs = serde_json::to_vec(&value).unwrap();
        let mut via_serde = Vec::new();
        super::super::json::append(&mut via_serde, &value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&via_serde),
            String::from_utf8_lossy(&theirs)
        );
        let mut ours = Vec::new();
        append_json_line(&mut ours, d, t0).unwrap();
        assert_eq!(ours.pop(), Some(b'\n'));
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    /// Every frame vector (VLAN tags, SLL, SLL2, raw IPv4 and IPv6) and every LCT and ALC vector
    /// as the UDP payload of an Ethernet/IPv4 frame, decoded with and without WEBRC's CCI: the
    /// values the direct writer hands to serde (and a TOI wider than 64 bits) all occur.
    #[test]
    fn json_lines_match_serde_json_on_every_vector() {
        // Ethernet, IPv4 and UDP headers of the frame vector `frame-eth-ipv4-udp` (port 42001).
        let mut template = None;
        let mut packets = Vec::new();
        for (_, file) in rmt_vectors::load_all().unwrap() {
            for v in file.vectors {
                let bytes = v.bytes();
                match v.layer.as_str() {
                    "frame" => {
                        if v.id == "frame-eth-ipv4-udp" {
                            template = Some(bytes[..42].to_vec());
                        }
                        let link = match v.param_str("link").unwrap() {
                            "ethernet" => LinkType::Ethernet,
                            "sll" => LinkType::LinuxSll,
                            "sll2" => LinkType::LinuxSll2,
                            "raw" => LinkType::RawIp,
                            other => panic!("{}: unknown link {other}", v.id),
                        };
                        packets.push((Some(link), bytes));
                    }
                    // No link type: a UDP payload, framed below.
                    "lct" | "alc" => packets.push((None, bytes)),
                    _ => {}
                }
            }
        }
        let template = template.expect("frame-eth-ipv4-udp");
        let mut seen = std::collections::BTreeSet::new();
        for webrc in [false, true] {
            let ctx = AlcContext {
                webrc,
                ..AlcContext::default()
            };
            let mut flows = FlowSelector::new(vec![42001], ctx);
            for (i, (link, bytes)) in packets.iter().enumerate() {
                let (link, data) = match link {
                    // An ALC packet: in the template, with the IP and UDP lengths fixed.
                    None => {
                        let mut frame = template.clone();
                        frame.extend_from_slice(bytes);
                        let ip_len = (frame.len() - 14) as u16;
                        frame[16..18].copy_from_slice(&ip_len.to_be_bytes());
                        frame[38..40].copy_from_slice(&(ip_len - 20).to_be_bytes());
                        (LinkType::Ethernet, frame)
                    }
                    Some(link) => (*link, bytes.clone()),
                };
                let raw = RawPacket {
                    frame: i as u64 + 1,
                    link_type: link,
                    timestamp: Duration::from_millis(1500 + i as u64),
                    data: &data,
                    orig_len: data.len() as u32,
                };
                let d = dissect(raw, &mut flows);
                assert_line_matches_serde_json(&d);
                let frame = d.frame.as_ref();
                let link = frame.map(|f| &f.link);
                let checks = [
                    (
                        "vlan",
                        matches!(link, Some(LinkRepr::Ethernet(e)) if !e.vlans.is_empty()),
                    ),
                    ("sll", matches!(link, Some(LinkRepr::Sll(_)))),
                    ("sll2", matches!(link, Some(LinkRepr::Sll2(_)))),
                    ("raw", matches!(link, Some(LinkRepr::Raw))),
                    (
                        "ipv6",
                        matches!(frame.and_then(|f| f.ip.as_ref()), Some(IpRepr::V6(_))),
                    ),
                    (
                        "extensions",
                        d.alc.as_ref().is_some_and(|a| !a.lct.extensions.is_empty()),
                    ),
                    ("fti", d.alc.as_ref().is_some_and(|a| a.fti.is_some())),
                    ("webrc", d.alc.as_ref().is_some_and(|a| a.webrc.is_some())),
                    (
                        "toi>64",
                        d.alc
                            .as_ref()
                            .and_then(|a| a.lct.toi)
                            .is_some_and(|t| t > u128::from(u64::MAX)),
                    ),
                    ("findings", !all_findings(&d).is_empty()),
                    (
                        "rs_m",
                        d.alc
                            .as_ref()
                            .is_some_and(|a| a.payload_id.is_some_and(|p| p.m.is_some())),
                    ),
                    (
                        "sbl",
                        d.alc
                            .as_ref()
                            .is_some_and(|a| a.payload_id.is_some_and(|p| p.sbl.is_some())),
                    ),
                    (
                        "no_payload_id",
                        d.alc.as_ref().is_some_and(|a| a.payload_id.is_none()),
                    ),
                ];
                seen.extend(checks.iter().filter(|c| c.1).map(|c| c.0));
            }
        }
        let all = [
            "vlan",
            "sll",
            "sll2",
            "raw",
            "ipv6",
            "extensions",
            "fti",
            "webrc",
            "toi>64",
            "findings",
            "rs_m",
            "sbl",
            "no_payload_id",
        ];
        let missing: Vec<_> = all.iter().filter(|k| !seen.contains(*k)).collect();
        assert!(missing.is_empty(), "no vector exercises {missing:?}");
    }

    /// The fast JSON writer against serde_json on every packet of the bundled captures and on
    /// broken packets (findings with details, decoding errors).
    #[test]
    fn json_lines_are_byte_identical_to_serde_json() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/captures");
        let mut checked = 0;
        let mut with_findings = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "pcap") {
                continue;
            }
            let cap = read_capture(&path).unwrap();
            let mut flows = FlowSelector::new(Vec::new(), AlcContext::default());
            for (i, p) in cap.packets.iter().enumerate() {
                // Each packet as captured, and cut short (a decoding error), and with a flipped
                // byte in the LCT header (findings).
                let mut flipped = p.data.clone();
                if flipped.len() > 44 {
                    flipped[43] ^= 0x0C;
                }
                for data in [&p.data[..], &p.data[..p.data.len().min(50)], &flipped[..]] {
                    let raw = RawPacket {
                        frame: i as u64 + 1,
                        link_type: p.link_type,
                        timestamp: p.timestamp,
                        data,
                        orig_len: p.data.len() as u32,
                    };
                    let d = dissect(raw, &mut flows);
                    with_findings += usize::from(!all_findings(&d).is_empty());
                    assert_line_matches_serde_json(&d);
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked} packets");
        assert!(with_findings > 50, "{with_findings} packets with findings");
    }
}
