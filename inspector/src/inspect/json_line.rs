//! The `-T json` packet line written field by field for the layers nearly every packet has
//! (Ethernet or no link header, IPv4, UDP, LCT, the FEC Payload ID, the payload), with each key
//! and its punctuation one constant piece. Anything rarer (VLAN tags, SLL, IPv6, header
//! extensions, EXT_FTI, WEBRC's CCI, findings) goes through the serde serializer of
//! [`super::json`] for that value only.
//!
//! Why: the serde data model costs a trait call and a `Result` per field, about a third of the
//! `-T json` path's instructions (issue 3's 1 M packets/s target). The output is the same bytes
//! as `serde_json` writes for the serde model of the line (`output::tests` compares them on every
//! packet of the bundled captures, cut short and with findings).

use std::net::Ipv4Addr;

use super::dissect::Dissected;
use super::json::{self, put, JsonError};
use crate::wire::alc::AlcPacket;
use crate::wire::fec_payload_id::FecPayloadId;
use crate::wire::ip::{IpRepr, Ipv4Repr};
use crate::wire::lct::LctRepr;
use crate::wire::link::LinkRepr;
use crate::wire::udp::UdpRepr;
use crate::wire::Finding;

/// The finding as it appears in `findings` (the `rfc` key carries the rule).
#[derive(serde::Serialize)]
pub(super) struct FindingJson<'a> {
    pub id: &'a str,
    pub severity: crate::wire::Severity,
    pub rfc: &'a str,
    pub field: &'a str,
    pub offset: usize,
    pub detail: &'a str,
}

impl<'a> From<&'a Finding> for FindingJson<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingJson {
            id: f.id,
            severity: f.severity,
            rfc: f.rule,
            field: f.field,
            offset: f.offset,
            detail: &f.detail,
        }
    }
}

/// Appends the packet's JSON object (no newline): `frame`, `time_epoch`, `time_relative`,
/// `len`, `layers`, `findings`.
pub(super) fn append_packet(
    out: &mut Vec<u8>,
    d: &Dissected,
    time_epoch: f64,
    time_relative: f64,
    findings: &[Finding],
) -> Result<(), JsonError> {
    put(out, b"{\"frame\":");
    uint(out, d.raw.frame);
    put(out, b",\"time_epoch\":");
    float(out, time_epoch);
    put(out, b",\"time_relative\":");
    float(out, time_relative);
    put(out, b",\"len\":");
    uint(out, d.raw.orig_len);
    put(out, b",\"layers\":{");
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, name: &'static [u8]| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        put(out, name);
    };
    if let Some(frame) = &d.frame {
        key(out, b"\"link\":");
        link(out, &frame.link)?;
        if let Some(ip) = &frame.ip {
            key(out, b"\"ip\":");
            match ip {
                IpRepr::V4(v4) => ipv4(out, v4),
                IpRepr::V6(_) => json::append(out, ip)?,
            }
        }
        if let Some(u) = &frame.udp {
            key(out, b"\"udp\":");
            udp(out, u);
        }
    }
    if let Some(a) = &d.alc {
        key(out, b"\"lct\":");
        lct(out, &a.lct)?;
        key(out, b"\"fec\":");
        fec(out, a)?;
        if let Some(w) = &a.webrc {
            key(out, b"\"webrc\":");
            json::append(out, w)?;
        }
        // ROUTE: source or repair, start_offset, EXT_TOL, presentation time, mode.
        if let Some(r) = &a.route {
            key(out, b"\"route\":");
            json::append(out, r)?;
        }
        key(out, b"\"payload\":");
        put(out, b"{\"offset\":");
        uint(out, d.alc_offset + a.symbol_offset);
        put(out, b",\"length\":");
        uint(out, a.symbol_len);
        out.push(b'}');
    }
    if let Some(t) = &d.lls {
        key(out, b"\"lls\":");
        json::append(out, &**t)?;
    }
    put(out, b"},\"findings\":[");
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::append(out, &FindingJson::from(f))?;
    }
    put(out, b"]}");
    Ok(())
}

fn link(out: &mut Vec<u8>, l: &LinkRepr) -> Result<(), JsonError> {
    match l {
        LinkRepr::Ethernet(e) if e.vlans.is_empty() => {
            put(out, b"{\"type\":\"ethernet\",\"dst\":");
            hex(out, &e.dst);
            put(out, b",\"src\":");
            hex(out, &e.src);
            put(out, b",\"vlans\":[],\"ethertype\":");
            uint(out, e.ethertype);
            out.push(b'}');
        }
        LinkRepr::Raw => put(out, b"{\"type\":\"raw\"}"),
        other => json::append(out, other)?,
    }
    Ok(())
}

fn ipv4(out: &mut Vec<u8>, h: &Ipv4Repr) {
    put(out, b"{\"version\":\"v4\",\"ihl\":");
    uint(out, h.ihl);
    put(out, b",\"tos\":");
    uint(out, h.tos);
    put(out, b",\"total_length\":");
    uint(out, h.total_length);
    put(out, b",\"identification\":");
    uint(out, h.identification);
    put(out, b",\"flags\":");
    uint(out, h.flags);
    put(out, b",\"fragment_offset\":");
    uint(out, h.fragment_offset);
    put(out, b",\"ttl\":");
    uint(out, h.ttl);
    put(out, b",\"protocol\":");
    uint(out, h.protocol);
    put(out, b",\"checksum\":");
    uint(out, h.checksum);
    put(out, b",\"src\":");
    address(out, h.src);
    put(out, b",\"dst\":");
    address(out, h.dst);
    put(out, b",\"options\":");
    hex(out, &h.options);
    out.push(b'}');
}

fn udp(out: &mut Vec<u8>, u: &UdpRepr) {
    put(out, b"{\"src_port\":");
    uint(out, u.src_port);
    put(out, b",\"dst_port\":");
    uint(out, u.dst_port);
    put(out, b",\"length\":");
    uint(out, u.length);
    put(out, b",\"checksum\":");
    uint(out, u.checksum);
    out.push(b'}');
}

fn lct(out: &mut Vec<u8>, l: &LctRepr) -> Result<(), JsonError> {
    put(out, b"{\"version\":");
    uint(out, l.version);
    put(out, b",\"c\":");
    uint(out, l.c);
    put(out, b",\"psi\":");
    uint(out, l.psi);
    put(out, b",\"s\":");
    boolean(out, l.s);
    put(out, b",\"o\":");
    uint(out, l.o);
    put(out, b",\"h\":");
    boolean(out, l.h);
    put(out, b",\"reserved\":");
    uint(out, l.reserved);
    put(out, b",\"close_session\":");
    boolean(out, l.close_session);
    put(out, b",\"close_object\":");
    boolean(out, l.close_object);
    put(out, b",\"hdr_len\":");
    uint(out, l.hdr_len);
    put(out, b",\"codepoint\":");
    uint(out, l.codepoint);
    put(out, b",\"cci\":");
    hex(out, &l.cci);
    put(out, b",\"tsi\":");
    match l.tsi {
        Some(tsi) => uint(out, tsi),
        None => put(out, b"null"),
    }
    put(out, b",\"toi\":");
    match l.toi.map(u64::try_from) {
        Some(Ok(toi)) => uint(out, toi),
        // Wider than 64 bits: a decimal string, as `serde_hex::u128_num` writes it.
        Some(Err(_)) => json::append(out, &l.toi.map(|t| t.to_string()))?,
        None => put(out, b"null"),
    }
    put(out, b",\"extensions\":");
    if l.extensions.is_empty() {
        put(out, b"[]");
    } else {
        json::append(out, &l.extensions)?;
    }
    put(out, b",\"unwalked\":");
    hex(out, &l.unwalked);
    out.push(b'}');
    Ok(())
}

fn fec(out: &mut Vec<u8>, a: &AlcPacket) -> Result<(), JsonError> {
    put(out, b"{\"encoding_id\":");
    uint(out, a.fec_encoding_id);
    if let Some(p) = &a.payload_id {
        put(out, b",\"payload_id\":");
        payload_id(out, p);
    }
    if let Some(fti) = &a.fti {
        put(out, b",\"fti\":");
        json::append(out, &**fti)?;
    }
    out.push(b'}');
    Ok(())
}

fn payload_id(out: &mut Vec<u8>, p: &FecPayloadId) {
    put(out, b"{\"encoding_id\":");
    uint(out, p.encoding_id);
    if let Some(m) = p.m {
        put(out, b",\"m\":");
        uint(out, m);
    }
    put(out, b",\"sbn\":");
    uint(out, p.sbn);
    if let Some(sbl) = p.sbl {
        put(out, b",\"sbl\":");
        uint(out, sbl);
    }
    put(out, b",\"esi\":");
    uint(out, p.esi);
    out.push(b'}');
}

fn uint(out: &mut Vec<u8>, v: impl itoa::Integer) {
    put(out, itoa::Buffer::new().format(v).as_bytes());
}

/// As serde_json: the shortest round-trip form, `null` when not finite.
fn float(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        put(out, zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        put(out, b"null");
    }
}

fn boolean(out: &mut Vec<u8>, v: bool) {
    put(out, if v { b"true" } else { b"false" });
}

/// A dotted quad in quotes (serde's human-readable form of `Ipv4Addr`), built on the stack and
/// appended at once.
fn address(out: &mut Vec<u8>, a: Ipv4Addr) {
    let mut buf = [0u8; 17];
    buf[0] = b'"';
    let mut n = 1;
    for (i, octet) in a.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    buf[n] = b'"';
    out.extend_from_slice(&buf[..n + 1]);
}

/// Bytes as a quoted lowercase hex string (`serde_hex::bytes`). Addresses and CCIs (up to 16
/// bytes, once or more per packet) are built on the stack and appended at once.
fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digits = |pair: &mut [u8], byte: u8| {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xF)];
    };
    if bytes.len() <= 16 {
        let mut buf = [b'"'; 34];
        for (pair, &byte) in buf[1..].chunks_exact_mut(2).zip(bytes) {
            digits(pair, byte);
        }
        let n = bytes.len() * 2 + 2;
        buf[n - 1] = b'"';
        put(out, &buf[..n]);
        return;
    }
    out.push(b'"');
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    for (pair, &byte) in out[start..].chunks_exact_mut(2).zip(bytes) {
        digits(pair, byte);
    }
    out.push(b'"');
}
