//! Per-packet output modes: the summary line (default), the decoded tree (`-V`), a hex dump
//! (`-x`), JSON lines (`-T json`) and field columns (`-T fields -e ...`).

use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use super::dissect::Dissected;
use super::fields::{values, Field};
use crate::wire::{Finding, Severity};

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
        v.push(Finding::new(
            e.id,
            Severity::Error,
            e.field,
            e.offset,
            e.rule,
            e.detail.clone(),
        ));
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
        (Some(flow), None) => s.push_str(&format!(
            " {} → {} UDP {} → {}",
            flow.src, flow.dst, flow.src_port, flow.dst_port
        )),
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

fn layers(d: &Dissected) -> Map<String, Json> {
    let mut m = Map::new();
    if let Some(fr) = &d.frame {
        m.insert(
            "link".into(),
            serde_json::to_value(&fr.link).unwrap_or(Json::Null),
        );
        if let Some(ip) = &fr.ip {
            m.insert("ip".into(), serde_json::to_value(ip).unwrap_or(Json::Null));
        }
        if let Some(udp) = &fr.udp {
            m.insert(
                "udp".into(),
                serde_json::to_value(udp).unwrap_or(Json::Null),
            );
        }
    }
    if let Some(a) = &d.alc {
        m.insert(
            "lct".into(),
            serde_json::to_value(&a.lct).unwrap_or(Json::Null),
        );
        let mut fec = Map::new();
        fec.insert("encoding_id".into(), json!(a.fec_encoding_id));
        if let Some(p) = &a.payload_id {
            fec.insert(
                "payload_id".into(),
                serde_json::to_value(p).unwrap_or(Json::Null),
            );
        }
        if let Some(fti) = &a.fti {
            fec.insert(
                "fti".into(),
                serde_json::to_value(fti).unwrap_or(Json::Null),
            );
        }
        m.insert("fec".into(), Json::Object(fec));
        if let Some(w) = &a.webrc {
            m.insert(
                "webrc".into(),
                serde_json::to_value(w).unwrap_or(Json::Null),
            );
        }
        m.insert(
            "payload".into(),
            json!({ "offset": d.alc_offset + a.symbol_offset, "length": a.symbol_len }),
        );
    }
    m
}

fn findings_json(d: &Dissected) -> Json {
    Json::Array(
        all_findings(d)
            .iter()
            .map(|f| json!({ "id": f.id, "severity": f.severity, "rfc": f.rule, "field": f.field, "offset": f.offset, "detail": f.detail }))
            .collect(),
    )
}

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
struct FindingJson<'a> {
    id: &'a str,
    severity: Severity,
    rfc: &'a str,
    field: &'a str,
    offset: usize,
    detail: &'a str,
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
    super::json::append(buf, &packet_json(d, t0, &findings)).map_err(std::io::Error::other)?;
    buf.push(b'\n');
    Ok(())
}

thread_local! {
    static JSON_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
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
        findings: findings
            .iter()
            .map(|f| FindingJson {
                id: f.id,
                severity: f.severity,
                rfc: f.rule,
                field: f.field,
                offset: f.offset,
                detail: &f.detail,
            })
            .collect(),
    }
}

/// [`write_json_line`] into a string (without the newline).
pub fn json_line(d: &Dissected, t0: Duration) -> String {
    let mut v = Vec::new();
    let _ = write_json_line(&mut v, d, t0);
    v.pop();
    String::from_utf8(v).unwrap_or_default()
}

fn tree_into(out: &mut String, v: &Json, depth: usize) {
    let pad = "    ".repeat(depth);
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                match x {
                    Json::Object(_) | Json::Array(_) => {
                        out.push_str(&format!("{pad}{k}\n"));
                        tree_into(out, x, depth + 1);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(x))),
                }
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                match x {
                    Json::Object(_) | Json::Array(_) => {
                        out.push_str(&format!("{pad}[{i}]\n"));
                        tree_into(out, x, depth + 1);
                    }
                    _ => out.push_str(&format!("{pad}[{i}] {}\n", scalar(x))),
                }
            }
        }
        x => out.push_str(&format!("{pad}{}\n", scalar(x))),
    }
}

fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "-".into(),
        other => other.to_string(),
    }
}

/// The decoded tree (`-V`), one layer after the other, then the findings.
pub fn tree(d: &Dissected, t0: Duration) -> String {
    let mut out = format!(
        "Frame {}: {} bytes on wire, {} captured, at {:.6}\n",
        d.raw.frame,
        d.raw.orig_len,
        d.raw.data.len(),
        relative(d, t0)
    );
    tree_into(&mut out, &Json::Object(layers(d)), 0);
    let f = findings_json(d);
    if f.as_array().is_some_and(|a| !a.is_empty()) {
        out.push_str("findings\n");
        tree_into(&mut out, &f, 1);
    }
    out
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
    use crate::capture::reader::RawPacket;
    use crate::inspect::dissect::{dissect, FlowSelector};
    use crate::wire::alc::AlcContext;

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
                    let findings = all_findings(&d);
                    with_findings += usize::from(!findings.is_empty());
                    let value = packet_json(&d, Duration::from_secs(1), &findings);
                    let mut ours = Vec::new();
                    super::super::json::append(&mut ours, &value).unwrap();
                    let theirs = serde_json::to_vec(&value).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&ours),
                        String::from_utf8_lossy(&theirs)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked} packets");
        assert!(with_findings > 50, "{with_findings} packets with findings");
    }
}
