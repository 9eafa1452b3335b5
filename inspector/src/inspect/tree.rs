//! The packet tree (`-V`), printed the way `tshark -V` prints one: a line per layer in wire
//! order (Frame, link, IP, UDP, then ALC with its LCT header, each header extension, the FEC
//! Payload ID, the FEC OTI and what the payload holds), fields labelled with their RFC names,
//! bit fields drawn as tshark draws them (`.... ..1. = Close Session flag (A): Set`), values
//! with their units, and each finding as an Expert Info line under the layer that raised it.
//!
//! The layer and field names follow Wireshark's where Wireshark has one (so that a user
//! reading both sees the same words) and the RFC's where it does not; the RFC's abbreviation
//! is kept in parentheses, as tshark does for LCT's flags.

use std::fmt::Display;
use std::time::Duration;

use super::dissect::Dissected;
use super::output::all_findings;
use crate::wire::alc::AlcPacket;
use crate::wire::ext_auth::ExtAuth;
use crate::wire::ext_cenc::ContentEncoding;
use crate::wire::ext_fti::{ExtFti, FecOti, SchemeSpecificOti};
use crate::wire::ext_time::ExtTime;
use crate::wire::fcast::CompoundObject;
use crate::wire::fdt::{FdtInstance, FdtNamespace, NS_FLUTE_V1, NS_FLUTE_V2, NTP_UNIX_OFFSET};
use crate::wire::fec_payload_id::FecPayloadId;
use crate::wire::flute_flavor::NS_3GPP_2022;
use crate::wire::frame::Frame;
use crate::wire::ip::{IpRepr, Ipv4Repr, Ipv6Repr};
use crate::wire::lct::{ExtensionBody, HeaderExtension, LctRepr, HET_CENC, HET_FDT};
use crate::wire::link::{EthernetRepr, LinkRepr, LinkType, Sll2Repr, SllRepr, VlanTag};
use crate::wire::lls::{self, LlsTable};
use crate::wire::route;
use crate::wire::udp::UdpRepr;
use crate::wire::webrc_cci::{CciForm, WebrcCci};
use crate::wire::{Finding, Severity};

/// An FDT Instance or FCAST object shown decoded only when it is this small: the tree is for
/// one packet, and a larger object spans several anyway.
const MAX_DECODED_PAYLOAD: usize = 64 * 1024;

/// Bytes of a raw field shown in hex in the tree before it is cut short.
const MAX_HEX_SHOWN: usize = 32;

/// Indented lines, four spaces a level, as tshark prints them.
#[derive(Default)]
struct Tree {
    out: String,
    depth: usize,
}

impl Tree {
    fn line(&mut self, text: impl Display) {
        use std::fmt::Write;
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        let _ = writeln!(self.out, "{text}");
    }

    /// A line with the lines `body` writes under it.
    fn node(&mut self, title: impl Display, body: impl FnOnce(&mut Tree)) {
        self.line(title);
        self.depth += 1;
        body(self);
        self.depth -= 1;
    }

    fn field(&mut self, label: &str, value: impl Display) {
        self.line(format_args!("{label}: {value}"));
    }

    /// A field of `len` bits at `shift` (from the least significant bit) of a `width`-bit word.
    fn bits(
        &mut self,
        width: u32,
        word: u64,
        shift: u32,
        len: u32,
        label: &str,
        value: impl Display,
    ) {
        self.line(format_args!(
            "{} = {label}: {value}",
            bit_pattern(word, width, shift, len)
        ));
    }

    fn flag(&mut self, width: u32, word: u64, shift: u32, label: &str) {
        let set = (word >> shift) & 1 == 1;
        self.bits(width, word, shift, 1, label, set_or_not(set));
    }

    fn expert(&mut self, f: &Finding) {
        let level = match f.severity {
            Severity::Info => "Chat",
            Severity::Warning => "Warning",
            Severity::Error => "Error",
        };
        self.node(
            format_args!("[Expert Info ({level}/rmt): {}: {}]", f.id, f.detail),
            |t| {
                t.line(format_args!("[rmt.finding.id: {}]", f.id));
                t.line(format_args!("[Severity level: {}]", f.severity.name()));
                t.line(format_args!("[Rule: {}]", f.rule));
                t.line(format_args!("[Field: {}, byte {}]", f.field, f.offset));
            },
        );
    }
}

fn set_or_not(set: bool) -> &'static str {
    if set {
        "Set"
    } else {
        "Not set"
    }
}

/// tshark's drawing of a bit field: the `width` bits of `word` most significant first, in
/// groups of four, the field's `len` bits at `shift` as 0/1 and the others as dots.
pub fn bit_pattern(word: u64, width: u32, shift: u32, len: u32) -> String {
    let mut s = String::with_capacity(width as usize * 5 / 4);
    for i in (0..width).rev() {
        let inside = i >= shift && i < shift + len;
        s.push(match (inside, (word >> i) & 1) {
            (false, _) => '.',
            (true, 1) => '1',
            (true, _) => '0',
        });
        if i % 4 == 0 && i != 0 {
            s.push(' ');
        }
    }
    s
}

fn mac(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Bytes in hex, the first [`MAX_HEX_SHOWN`] of them when there are more (`-x` shows all).
fn hex(bytes: &[u8]) -> String {
    let mut s: String = bytes
        .iter()
        .take(MAX_HEX_SHOWN)
        .map(|b| format!("{b:02x}"))
        .collect();
    if bytes.len() > MAX_HEX_SHOWN {
        s.push_str("...");
    }
    s
}

fn bytes_and_bits(n: usize) -> String {
    format!("{n} bytes ({} bits)", n as u64 * 8)
}

/// `N bytes on wire (B bits), M bytes captured (C bits)`, tshark's frame line.
fn wire_and_captured(on_wire: usize, captured: usize) -> String {
    format!(
        "{on_wire} bytes on wire ({} bits), {captured} bytes captured ({} bits)",
        on_wire as u64 * 8,
        captured as u64 * 8
    )
}

/// A UTC date as tshark prints arrival times: `Nov 22, 2026 01:20:49.056711000 UTC`.
fn utc(t: Duration) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{} {d}, {y} {:02}:{:02}:{:02}.{:09} UTC",
        MONTHS[(m - 1) as usize],
        s / 3600,
        s / 60 % 60,
        s % 60,
        t.subsec_nanos()
    )
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// NTP seconds (the top 32 bits of an NTP timestamp) as a UTC date, when after 1970.
fn ntp_date(seconds: u64) -> String {
    match seconds.checked_sub(NTP_UNIX_OFFSET) {
        Some(unix) => utc(Duration::from_secs(unix)).replace(".000000000", ""),
        None => "before 1970".into(),
    }
}

fn ethertype_name(t: u16) -> String {
    let name = match t {
        0x0800 => "IPv4",
        0x86DD => "IPv6",
        0x8100 => "802.1Q Virtual LAN",
        0x88A8 => "802.1ad Provider Bridge (Q-in-Q)",
        _ => "Unknown",
    };
    format!("{name} ({t:#06x})")
}

fn ip_protocol_name(p: u8) -> String {
    let name = match p {
        0 => "IPv6 Hop-by-Hop Option",
        6 => "TCP",
        17 => "UDP",
        43 => "Routing Header for IPv6",
        44 => "Fragment Header for IPv6",
        58 => "ICMPv6",
        60 => "Destination Options for IPv6",
        1 => "ICMP",
        2 => "IGMP",
        _ => "Unknown",
    };
    format!("{name} ({p})")
}

/// FEC Encoding IDs of the IANA registry (RFC 5052 §12 and the schemes' RFCs).
pub fn fec_scheme_name(id: u8) -> &'static str {
    match id {
        0 => "Compact No-Code",
        1 => "Raptor",
        2 => "Reed-Solomon over GF(2^m)",
        3 => "LDPC Staircase",
        4 => "LDPC Triangle",
        5 => "Reed-Solomon over GF(2^8)",
        6 => "RaptorQ",
        128 => "Small Block, Large Block and Expandable",
        129 => "Small Block Systematic",
        130 => "Compact",
        _ => "Unknown",
    }
}

/// The decoded tree of one packet (`-V`).
pub fn tree(d: &Dissected, t0: Duration) -> String {
    // Each top-level layer is rendered on its own, with the byte offset where it starts, so
    // that a finding can be shown under the layer its offset falls in.
    let mut layers: Vec<(usize, Tree)> = vec![(0, frame_layer(d, t0))];
    if let Some(fr) = &d.frame {
        link_layers(&mut layers, &fr.link);
        let ip_start = fr.link.header_len();
        if let Some(ip) = &fr.ip {
            layers.push((ip_start, ip_layer(ip, d)));
        }
        if let Some(udp) = &fr.udp {
            layers.push((fr.payload_offset.saturating_sub(8), udp_layer(udp, fr)));
        }
    }
    if let Some(a) = &d.alc {
        layers.push((d.alc_offset, alc_layer(a, d)));
    }
    if let Some(t) = &d.lls {
        layers.push((d.alc_offset, lls_layer(t)));
    }
    for f in all_findings(d) {
        let layer = layers
            .iter_mut()
            .rev()
            .find(|(start, _)| *start <= f.offset)
            .map(|(_, t)| t);
        if let Some(t) = layer {
            t.depth = 1;
            t.expert(&f);
        }
    }
    // tshark ends each packet's tree with an empty line.
    let mut out: String = layers.into_iter().map(|(_, t)| t.out).collect();
    out.push('\n');
    out
}

fn protocols(d: &Dissected) -> String {
    let mut p: Vec<&str> = Vec::new();
    if let Some(fr) = &d.frame {
        match &fr.link {
            LinkRepr::Ethernet(e) => {
                p.push("eth");
                p.extend(e.vlans.iter().map(|_| "vlan"));
                p.push("ethertype");
            }
            LinkRepr::Sll(_) => p.extend(["sll", "ethertype"]),
            LinkRepr::Sll2(_) => p.extend(["sll2", "ethertype"]),
            LinkRepr::Raw => p.push("raw"),
        }
        match &fr.ip {
            Some(IpRepr::V4(_)) => p.push("ip"),
            Some(IpRepr::V6(_)) => p.push("ipv6"),
            None => {}
        }
        if fr.udp.is_some() {
            p.push("udp");
        }
    }
    if d.lls.is_some() {
        p.push("lls");
    }
    if let Some(a) = &d.alc {
        p.extend(["alc", "lct"]);
        if a.route.is_some() {
            p.push("route");
        }
        if a.payload_id.is_some() {
            p.push("fec");
        }
        if a.lct.extension(HET_FDT).is_some() {
            p.push("fdt");
        }
    }
    p.join(":")
}

fn frame_layer(d: &Dissected, t0: Duration) -> Tree {
    let r = &d.raw;
    let mut t = Tree::default();
    t.node(
        format_args!(
            "Frame {}: {}",
            r.frame,
            wire_and_captured(r.orig_len as usize, r.data.len())
        ),
        |t| {
            t.field("Encapsulation type", link_type_name(r.link_type));
            t.field("Arrival Time", utc(r.timestamp));
            t.field(
                "Epoch Time",
                format_args!(
                    "{}.{:09} seconds",
                    r.timestamp.as_secs(),
                    r.timestamp.subsec_nanos()
                ),
            );
            let since = r.timestamp.saturating_sub(t0);
            t.line(format_args!(
                "[Time since reference or first frame: {}.{:09} seconds]",
                since.as_secs(),
                since.subsec_nanos()
            ));
            t.field("Frame Number", r.frame);
            t.field("Frame Length", bytes_and_bits(r.orig_len as usize));
            t.field("Capture Length", bytes_and_bits(r.data.len()));
            t.line(format_args!("[Protocols in frame: {}]", protocols(d)));
        },
    );
    t
}

fn link_type_name(l: LinkType) -> String {
    match l {
        LinkType::Ethernet => "Ethernet (1)".into(),
        LinkType::LinuxSll => "Linux cooked-mode capture v1 (113)".into(),
        LinkType::LinuxSll2 => "Linux cooked-mode capture v2 (276)".into(),
        LinkType::RawIp => "Raw IP (101)".into(),
        LinkType::Ipv4 => "Raw IPv4 (228)".into(),
        LinkType::Ipv6 => "Raw IPv6 (229)".into(),
        LinkType::Unknown(n) => format!("Unknown ({n})"),
    }
}

fn link_layers(layers: &mut Vec<(usize, Tree)>, l: &LinkRepr) {
    let mut t = Tree::default();
    match l {
        LinkRepr::Ethernet(e) => {
            ethernet(&mut t, e);
            layers.push((0, t));
            for (i, v) in e.vlans.iter().enumerate() {
                let inner = e.vlans.get(i + 1).map_or(e.ethertype, |n| n.tpid);
                layers.push((14 + 4 * i, vlan(v, inner)));
            }
        }
        LinkRepr::Sll(s) => {
            sll(&mut t, s);
            layers.push((0, t));
        }
        LinkRepr::Sll2(s) => {
            sll2(&mut t, s);
            layers.push((0, t));
        }
        LinkRepr::Raw => {
            t.node("Raw packet data", |t| {
                t.line("No link information available")
            });
            layers.push((0, t));
        }
    }
}

fn mac_address(t: &mut Tree, label: &str, m: &[u8; 6]) {
    let word = u64::from(m[0]) << 16 | u64::from(m[1]) << 8 | u64::from(m[2]);
    t.node(format_args!("{label}: {}", mac(m)), |t| {
        let lg = if m[0] & 2 != 0 {
            "Locally administered address (this is NOT the factory default)"
        } else {
            "Globally unique address (factory default)"
        };
        let ig = if m[0] & 1 != 0 {
            "Group address (multicast/broadcast)"
        } else {
            "Individual address (unicast)"
        };
        t.bits(24, word, 17, 1, "LG bit", lg);
        t.bits(24, word, 16, 1, "IG bit", ig);
    });
}

fn ethernet(t: &mut Tree, e: &EthernetRepr) {
    t.node(
        format_args!("Ethernet II, Src: {}, Dst: {}", mac(&e.src), mac(&e.dst)),
        |t| {
            mac_address(t, "Destination", &e.dst);
            mac_address(t, "Source", &e.src);
            let first = e.vlans.first().map_or(e.ethertype, |v| v.tpid);
            t.field("Type", ethertype_name(first));
        },
    );
}

fn vlan(v: &VlanTag, inner: u16) -> Tree {
    let mut t = Tree::default();
    let tci = u64::from(v.pcp) << 13 | u64::from(v.dei) << 12 | u64::from(v.vid);
    t.node(
        format_args!(
            "802.1Q Virtual LAN, PRI: {}, DEI: {}, ID: {}",
            v.pcp,
            u8::from(v.dei),
            v.vid
        ),
        |t| {
            t.bits(16, tci, 13, 3, "Priority", v.pcp);
            t.bits(
                16,
                tci,
                12,
                1,
                "DEI",
                if v.dei { "Eligible" } else { "Ineligible" },
            );
            t.bits(16, tci, 0, 12, "ID", v.vid);
            t.field("Type", ethertype_name(inner));
        },
    );
    t
}

fn sll_packet_type(p: u16) -> String {
    let name = match p {
        0 => "Unicast to us",
        1 => "Broadcast",
        2 => "Multicast",
        3 => "Unicast to another host",
        4 => "Sent by us",
        _ => "Unknown",
    };
    format!("{name} ({p})")
}

fn sll(t: &mut Tree, s: &SllRepr) {
    let addr = &s.address[..usize::from(s.address_length).min(8)];
    t.node(
        format_args!("Linux cooked capture v1, Src: {}", mac(addr)),
        |t| {
            t.field("Packet type", sll_packet_type(s.packet_type));
            t.field("Link-layer address type", s.arphrd_type);
            t.field("Link-layer address length", s.address_length);
            t.field("Source", mac(addr));
            t.field("Protocol", ethertype_name(s.protocol));
        },
    );
}

fn sll2(t: &mut Tree, s: &Sll2Repr) {
    let addr = &s.address[..usize::from(s.address_length).min(8)];
    t.node(
        format_args!("Linux cooked capture v2, Src: {}", mac(addr)),
        |t| {
            t.field("Protocol", ethertype_name(s.protocol));
            t.field("Reserved", s.reserved);
            t.field("Interface index", s.interface_index);
            t.field("Link-layer address type", s.arphrd_type);
            t.field("Packet type", sll_packet_type(u16::from(s.packet_type)));
            t.field("Link-layer address length", s.address_length);
            t.field("Source", mac(addr));
        },
    );
}

fn ecn_name(ecn: u8) -> &'static str {
    match ecn {
        0 => "Not ECN-Capable Transport (0)",
        1 => "ECN-Capable Transport codepoint '01' (1)",
        2 => "ECN-Capable Transport codepoint '10' (2)",
        _ => "Congestion Experienced (3)",
    }
}

fn ecn_short(ecn: u8) -> &'static str {
    ["Not-ECT", "ECT(1)", "ECT(0)", "CE"][usize::from(ecn & 3)]
}

/// DSCP names as Wireshark gives them (RFC 2474, 2597, 3246, 5865, 8622): short and long.
fn dscp_name(dscp: u8) -> (String, String) {
    match dscp {
        0 => ("CS0".into(), "Default".into()),
        1 => ("LE".into(), "Lower Effort".into()),
        44 => ("VA".into(), "Voice Admit".into()),
        46 => ("EF".into(), "Expedited Forwarding".into()),
        d if d % 8 == 0 => (format!("CS{}", d / 8), format!("Class Selector {}", d / 8)),
        d if (10..=38).contains(&d) && d % 2 == 0 && (d % 8) / 2 >= 1 => {
            let (class, drop) = (d / 8, (d % 8) / 2);
            (
                format!("AF{class}{drop}"),
                format!("Assured Forwarding {class}{drop}"),
            )
        }
        d => (d.to_string(), "Unknown".into()),
    }
}

fn ip_layer(ip: &IpRepr, d: &Dissected) -> Tree {
    let mut t = Tree::default();
    match ip {
        IpRepr::V4(h) => ipv4(&mut t, h, d),
        IpRepr::V6(h) => ipv6(&mut t, h),
    }
    t
}

fn ipv4(t: &mut Tree, h: &Ipv4Repr, d: &Dissected) {
    t.node(
        format_args!(
            "Internet Protocol Version 4, Src: {}, Dst: {}",
            h.src, h.dst
        ),
        |t| {
            let first = 0x40 | u64::from(h.ihl & 0xF);
            t.bits(8, first, 4, 4, "Version", 4);
            t.bits(
                8,
                first,
                0,
                4,
                "Header Length",
                format_args!("{} bytes ({})", 4 * u32::from(h.ihl), h.ihl),
            );
            let tos = u64::from(h.tos);
            let (dscp_short, dscp_long) = dscp_name(h.tos >> 2);
            t.node(
                format_args!(
                    "Differentiated Services Field: {:#04x} (DSCP: {dscp_short}, ECN: {})",
                    h.tos,
                    ecn_short(h.tos & 3)
                ),
                |t| {
                    t.bits(
                        8,
                        tos,
                        2,
                        6,
                        "Differentiated Services Codepoint",
                        format_args!("{dscp_long} ({})", h.tos >> 2),
                    );
                    t.bits(
                        8,
                        tos,
                        0,
                        2,
                        "Explicit Congestion Notification",
                        ecn_name(h.tos & 3),
                    );
                },
            );
            t.field("Total Length", h.total_length);
            t.field(
                "Identification",
                format_args!("{:#06x} ({})", h.identification, h.identification),
            );
            let flags = u64::from(h.flags & 7) << 5;
            let named = match (h.flags & 2 != 0, h.flags & 1 != 0) {
                (true, true) => ", Don't fragment, More fragments",
                (true, false) => ", Don't fragment",
                (false, true) => ", More fragments",
                (false, false) => "",
            };
            t.line(format_args!(
                "{} = Flags: {:#x}{named}",
                bit_pattern(flags, 8, 5, 3),
                h.flags & 7
            ));
            t.depth += 1;
            t.flag(8, flags, 7, "Reserved bit");
            t.flag(8, flags, 6, "Don't fragment");
            t.flag(8, flags, 5, "More fragments");
            t.depth -= 1;
            t.bits(
                16,
                u64::from(h.fragment_offset),
                0,
                13,
                // In bytes, as Wireshark shows it; the field counts 8-byte units.
                "Fragment Offset",
                8 * u32::from(h.fragment_offset),
            );
            t.field("Time to Live", h.ttl);
            t.field("Protocol", ip_protocol_name(h.protocol));
            let verdict = if d.findings.iter().any(|f| f.id == "ipv4.checksum.bad") {
                "incorrect"
            } else {
                "correct"
            };
            t.field(
                "Header Checksum",
                format_args!("{:#06x} [{verdict}]", h.checksum),
            );
            if !h.options.is_empty() {
                t.field(
                    "Options",
                    format_args!("({} bytes) {}", h.options.len(), hex(&h.options)),
                );
            }
            t.field("Source Address", h.src);
            t.field("Destination Address", h.dst);
        },
    );
}

fn ipv6(t: &mut Tree, h: &Ipv6Repr) {
    t.node(
        format_args!(
            "Internet Protocol Version 6, Src: {}, Dst: {}",
            h.src, h.dst
        ),
        |t| {
            let word = 6u64 << 28 | u64::from(h.traffic_class) << 20 | u64::from(h.flow_label);
            t.bits(32, word, 28, 4, "Version", 6);
            t.bits(
                32,
                word,
                20,
                8,
                "Traffic Class",
                format_args!(
                    "{:#04x} (DSCP: {}, ECN: {})",
                    h.traffic_class,
                    h.traffic_class >> 2,
                    h.traffic_class & 3
                ),
            );
            t.bits(
                32,
                word,
                0,
                20,
                "Flow Label",
                format_args!("{:#07x}", h.flow_label),
            );
            t.field("Payload Length", h.payload_length);
            t.field("Next Header", ip_protocol_name(h.next_header));
            t.field("Hop Limit", h.hop_limit);
            t.field("Source Address", h.src);
            t.field("Destination Address", h.dst);
            for e in &h.extension_headers {
                t.node(
                    format_args!(
                        "{}, {} bytes",
                        ip_protocol_name(e.header_type),
                        e.bytes.len()
                    ),
                    |t| t.field("Data", hex(&e.bytes)),
                );
            }
        },
    );
}

/// An ATSC 3.0 LLS table (A/331 §6.1) and, for an SLT, its services (§6.3).
fn lls_layer(l: &LlsTable) -> Tree {
    let mut t = Tree::default();
    t.node("ATSC 3.0 Low Level Signalling (LLS, A/331 §6.1)", |t| {
        t.field(
            "LLS_table_id",
            format_args!("{} ({})", l.table_id, lls::table_name(l.table_id)),
        );
        t.field("LLS_group_id", l.group_id);
        t.field("group_count_minus1", l.group_count_minus1);
        t.field("LLS_table_version", l.version);
        if let Some(x) = &l.xml {
            t.line(format_args!("[XML, inflated: {} bytes]", x.len()));
        }
        if let Some(slt) = &l.slt {
            t.node("Service List Table (SLT, A/331 §6.3)", |t| {
                if let Some(b) = slt.bsid {
                    t.field("bsid", b);
                }
                for s in &slt.services {
                    let id = s.service_id.map_or("?".into(), |i| i.to_string());
                    let name = s.short_name.as_deref().unwrap_or("");
                    t.node(format_args!("Service {id} \"{name}\""), |t| {
                        if let Some(c) = s.category {
                            t.field("serviceCategory", c);
                        }
                        if let Some(sls) = &s.sls {
                            t.field(
                                "SLS",
                                format_args!(
                                    "{} on {}:{}{}",
                                    sls.protocol_name(),
                                    sls.destination,
                                    sls.port,
                                    sls.source.map_or(String::new(), |a| format!(" from {a}"))
                                ),
                            );
                        }
                    });
                }
            });
        }
    });
    t
}

fn udp_layer(u: &UdpRepr, fr: &Frame) -> Tree {
    let mut t = Tree::default();
    t.node(
        format_args!(
            "User Datagram Protocol, Src Port: {}, Dst Port: {}",
            u.src_port, u.dst_port
        ),
        |t| {
            t.field("Source Port", u.src_port);
            t.field("Destination Port", u.dst_port);
            t.field("Length", u.length);
            if u.checksum == 0 {
                t.field("Checksum", "0x0000 [zero-value ignored]");
            } else {
                t.field("Checksum", format_args!("{:#06x} [unverified]", u.checksum));
            }
            t.line(format_args!("UDP payload ({} bytes)", fr.payload_len));
        },
    );
    t
}

fn alc_layer(a: &AlcPacket, d: &Dissected) -> Tree {
    let mut t = Tree::default();
    t.node("Asynchronous Layered Coding (ALC, RFC 5775)", |t| {
        t.field("Version", a.lct.version);
        lct(t, &a.lct, a);
        match &a.payload_id {
            None if a.route.is_some_and(|r| r.start_offset().is_some()) => {
                let start = a.route.and_then(|r| r.start_offset()).unwrap_or(0);
                t.node("ROUTE source FEC Payload ID (A/331 §A.3.5.1)", |t| {
                    t.field(
                        "start_offset",
                        format_args!(
                            "{start} (bytes {start}..{} of the object)",
                            u64::from(start) + a.symbol_len as u64
                        ),
                    );
                });
            }
            Some(p) => fec_payload_id(t, p),
            None if d.symbols().is_empty() => {
                t.line("[No FEC Payload ID: packet without payload (RFC 5775 §4.1)]")
            }
            None => t.line(format_args!(
                "[FEC Payload ID not decoded: FEC Encoding ID {} has no known format]",
                a.fec_encoding_id
            )),
        }
        payload(t, a, d.symbols());
    });
    t
}

fn lct(t: &mut Tree, l: &LctRepr, a: &AlcPacket) {
    t.node("Layered Coding Transport (LCT, RFC 5651 §5.1)", |t| {
        let word = u64::from(l.version & 0xF) << 12
            | u64::from(l.c & 3) << 10
            | u64::from(l.psi & 3) << 8
            | u64::from(l.s) << 7
            | u64::from(l.o & 3) << 5
            | u64::from(l.h) << 4
            | u64::from(l.reserved & 3) << 2
            | u64::from(l.close_session) << 1
            | u64::from(l.close_object);
        t.bits(16, word, 12, 4, "Version (V)", l.version);
        t.bits(
            16,
            word,
            10,
            2,
            "Congestion control flag (C)",
            format_args!("{} (CCI of {} bits)", l.c, 32 * (u32::from(l.c) + 1)),
        );
        t.bits(16, word, 8, 2, "Protocol-Specific Indication (PSI)", l.psi);
        t.depth += 1;
        let spi = match (l.psi & 2 != 0, a.route.is_some()) {
            (true, true) => "Set (ROUTE source packet, A/331 §A.3.4)",
            (false, true) => "Not set (ROUTE repair packet, A/331 §A.4.2.4)",
            (true, false) => "Set (source packet)",
            (false, false) => "Not set",
        };
        t.bits(
            16,
            word,
            9,
            1,
            "Source Packet Indicator (SPI, RFC 5775 §2.1)",
            spi,
        );
        t.depth -= 1;
        t.bits(
            16,
            word,
            7,
            1,
            "Transport Session Identifier flag (S)",
            u8::from(l.s),
        );
        t.bits(16, word, 5, 2, "Transport Object Identifier flag (O)", l.o);
        t.bits(16, word, 4, 1, "Half-word flag (H)", u8::from(l.h));
        t.depth += 1;
        t.line(format_args!(
            "[TSI field size: {} bytes, TOI field size: {} bytes]",
            l.tsi_len(),
            4 * usize::from(l.o) + 2 * usize::from(l.h)
        ));
        t.depth -= 1;
        t.bits(16, word, 2, 2, "Reserved", l.reserved);
        t.flag(16, word, 1, "Close Session flag (A)");
        t.flag(16, word, 0, "Close Object flag (B)");
        t.field(
            "Header length (HDR_LEN)",
            format_args!("{} ({} bytes)", l.hdr_len, 4 * usize::from(l.hdr_len)),
        );
        if a.route.is_some() {
            t.field(
                "Codepoint (CP)",
                format_args!(
                    "{} (ROUTE: {}, A/331 Table A.3.6)",
                    l.codepoint,
                    route::codepoint_meaning(l.codepoint)
                ),
            );
        } else {
            t.field(
                "Codepoint (CP)",
                format_args!(
                    "{} (FEC Encoding ID {}: {})",
                    l.codepoint,
                    a.fec_encoding_id,
                    fec_scheme_name(a.fec_encoding_id)
                ),
            );
        }
        match &a.webrc {
            Some(w) => webrc(t, &l.cci, w),
            None => t.field("Congestion Control Information (CCI)", hex(&l.cci)),
        }
        match l.tsi {
            Some(tsi) => t.field("Transport Session Identifier (TSI)", tsi),
            None => t.line("[Transport Session Identifier (TSI): absent (S=0, H=0)]"),
        }
        match l.toi {
            Some(toi) => t.field("Transport Object Identifier (TOI)", toi),
            None => t.line("[Transport Object Identifier (TOI): absent (O=0, H=0)]"),
        }
        if l.extensions.is_empty() && l.unwalked.is_empty() {
            return;
        }
        t.node(
            format_args!("Header Extensions: {}", l.extensions.len()),
            |t| {
                for e in &l.extensions {
                    extension(t, e, a);
                }
                if !l.unwalked.is_empty() {
                    t.field(
                        "[Unwalked extension bytes]",
                        format_args!("{} bytes: {}", l.unwalked.len(), hex(&l.unwalked)),
                    );
                }
            },
        );
    });
}

fn webrc(t: &mut Tree, cci: &[u8], w: &WebrcCci) {
    t.node(
        format_args!(
            "Congestion Control Information (CCI): {} (WEBRC, RFC 3738 §5)",
            hex(cci)
        ),
        |t| {
            t.field(
                "Form",
                match w.form {
                    CciForm::Short => "short (32 bits, RFC 3738 §5.1)",
                    CciForm::Long => "long (64 bits, RFC 3738 §5.2)",
                },
            );
            t.field("Current Time Slot Index (CTSI)", w.ctsi);
            t.field("Channel Number (CN)", w.cn);
            t.field("Packet Sequence Number (PSN)", w.psn);
        },
    );
}

fn extension_title(e: &HeaderExtension) -> &'static str {
    match e.name() {
        "EXT_NOP" => "EXT_NOP, No-Operation (RFC 5651 §5.2.1)",
        "EXT_AUTH" => "EXT_AUTH, Packet authentication (RFC 5651 §5.2.1; RFC 6584 layout assumed)",
        "EXT_TIME" => "EXT_TIME, Time (RFC 5651 §5.2.2)",
        "EXT_FTI" => "EXT_FTI, FEC Object Transmission Information (RFC 5775 §4.2)",
        "EXT_FDT" => "EXT_FDT, FDT Instance Header (RFC 6726 §3.4.1)",
        "EXT_CENC" => "EXT_CENC, FDT Instance Content Encoding (RFC 6726 §3.4.3)",
        _ => "Unknown header extension (RFC 5651 §5.2.1: skipped)",
    }
}

/// ROUTE's extensions (A/331 §A.3.7.1, §A.3.8.1), when the packet is read as ROUTE; false
/// when `het` is not one of them or its length does not fit (printed as bytes then).
fn route_extension(t: &mut Tree, het: u8, content: &[u8]) -> bool {
    let be = route::be_uint;
    match (het, content.len()) {
        (route::HET_TOL_24, 3) | (route::HET_TOL_48, 6) => t.field(
            "Transport Object Length (TOL)",
            format_args!("{} bytes", be(content)),
        ),
        (route::HET_ROUTE_PRESENTATION_TIME, 10) => {
            t.field("Reserved", be(&content[..2]));
            let ntp = be(&content[2..]);
            t.field(
                "Presentation Time (NTP)",
                format_args!(
                    "{ntp:#018x} ({}.{:09} s since 1900)",
                    ntp >> 32,
                    ((ntp & 0xFFFF_FFFF) * 1_000_000_000) >> 32
                ),
            );
        }
        _ => return false,
    }
    true
}

fn extension(t: &mut Tree, e: &HeaderExtension, a: &AlcPacket) {
    let title = match (a.route.is_some(), e.het) {
        (true, route::HET_TOL_24) => "EXT_TOL, Transport Object Length, 24 bits (A/331 §A.3.8.1)",
        (true, route::HET_TOL_48) => "EXT_TOL, Transport Object Length, 48 bits (A/331 §A.3.8.1)",
        (true, route::HET_ROUTE_PRESENTATION_TIME) => {
            "EXT_ROUTE_PRESENTATION_TIME (A/331 §A.3.7.1)"
        }
        _ => extension_title(e),
    };
    t.node(
        format_args!("Header Extension Type (HET): {} ({})", title, e.het),
        |t| {
            if let Some(hel) = e.hel {
                t.field(
                    "Header Extension Length (HEL)",
                    format_args!("{hel} ({} bytes)", 4 * usize::from(hel)),
                );
            }
            match &e.body {
                ExtensionBody::Unknown { content }
                    if a.route.is_some() && route_extension(t, e.het, content) => {}
                ExtensionBody::Nop { content } | ExtensionBody::Unknown { content } => {
                    t.field("Header Extension Content", hex(content))
                }
                ExtensionBody::Malformed { content } => {
                    t.field("Header Extension Content [malformed]", hex(content))
                }
                ExtensionBody::Auth(auth) => ext_auth(t, auth),
                ExtensionBody::Time(time) => ext_time(t, time),
                ExtensionBody::Fti { content } => match &a.fti {
                    Some(fti) => ext_fti(t, fti),
                    None => t.field("Header Extension Content [not decoded]", hex(content)),
                },
                ExtensionBody::Fdt(f) => {
                    let word = u64::from(f.version & 0xF) << 20 | u64::from(f.instance_id);
                    t.bits(32, word, 20, 4, "FLUTE version (V)", f.version);
                    t.bits(32, word, 0, 20, "FDT Instance ID", f.instance_id);
                }
                ExtensionBody::Cenc(c) => {
                    let name = match c.cenc {
                        ContentEncoding::Null => "null",
                        ContentEncoding::Zlib => "ZLIB (RFC 1950)",
                        ContentEncoding::Deflate => "DEFLATE (RFC 1951)",
                        ContentEncoding::Gzip => "GZIP (RFC 1952)",
                        ContentEncoding::Unknown(_) => "unregistered",
                    };
                    t.field(
                        "Content Encoding Algorithm (CENC)",
                        format_args!("{name} ({})", u8::from(c.cenc)),
                    );
                    t.field("Reserved", c.reserved);
                }
            }
        },
    );
}

fn ext_auth(t: &mut Tree, auth: &ExtAuth) {
    let ExtAuth::Rfc6584 {
        sequence_number,
        authentication_data,
        ..
    } = auth
    else {
        let mut content = Vec::new();
        auth.emit(&mut content);
        t.field("Authentication content", hex(&content));
        return;
    };
    // The first byte as sent: ASID (4 bits), reserved (3), AR (1), RFC 6584 §3.1.
    let mut first = Vec::new();
    auth.emit(&mut first);
    let word = u64::from(first.first().copied().unwrap_or(0));
    t.bits(8, word, 4, 4, "Authentication Scheme ID (ASID)", word >> 4);
    t.bits(8, word, 1, 3, "Reserved", (word >> 1) & 7);
    t.flag(8, word, 0, "Anti-replay flag (AR)");
    t.field("Sequence Number", sequence_number);
    t.field(
        "Authentication Data",
        format_args!(
            "{} bytes: {}",
            authentication_data.len(),
            hex(authentication_data)
        ),
    );
}

fn ext_time(t: &mut Tree, time: &ExtTime) {
    let word = u64::from(time.use_field);
    t.node(format_args!("Use: {:#06x}", time.use_field), |t| {
        t.flag(16, word, 15, "SCT-High present");
        t.flag(16, word, 14, "SCT-Low present");
        t.flag(16, word, 13, "ERT present");
        t.flag(16, word, 12, "SLC present");
        t.bits(16, word, 8, 4, "Reserved", (time.use_field >> 8) & 0xF);
        t.bits(16, word, 0, 8, "PI-specific", time.use_field & 0xFF);
    });
    if let Some(hi) = time.sct_high {
        t.field(
            "Sender Current Time, seconds (SCT-High)",
            format_args!("{hi} (NTP; {})", ntp_date(u64::from(hi))),
        );
    }
    if let Some(lo) = time.sct_low {
        t.field(
            "Sender Current Time, fraction (SCT-Low)",
            format_args!("{lo} ({:.6} s)", f64::from(lo) / 4_294_967_296.0),
        );
    }
    if let Some(ert) = time.ert {
        t.field(
            "Expected Residual Time (ERT)",
            format_args!("{ert} seconds"),
        );
    }
    if let Some(slc) = time.slc {
        t.field(
            "Session Last Changed (SLC)",
            format_args!("{slc} (NTP; {})", ntp_date(u64::from(slc))),
        );
    }
    for x in &time.extra {
        t.field(
            "[Value beyond those Use announces, ignored]",
            format_args!("{x:#010x}"),
        );
    }
}

fn ext_fti(t: &mut Tree, fti: &ExtFti) {
    t.field(
        "[FEC Encoding ID]",
        format_args!("{} ({})", fti.encoding_id, fec_scheme_name(fti.encoding_id)),
    );
    for (label, value) in oti_rows(&fti.oti) {
        t.field(label, value);
    }
    if !fti.trailing.is_empty() {
        t.field("[Bytes after the OTI]", hex(&fti.trailing));
    }
}

/// The OTI's fields in wire order, labelled as the scheme's RFC names them, with units.
fn oti_rows(oti: &FecOti) -> Vec<(&'static str, String)> {
    let bytes = |n: u64| format!("{n} bytes");
    let symbols = |n: u64| format!("{n} symbols");
    let ssi = |s: &Option<SchemeSpecificOti>| {
        s.as_ref()
            .map(|s| format!("Length {} words: {}", s.length, hex(&s.info)))
    };
    let mut rows = vec![("Transfer Length", bytes(oti.transfer_length()))];
    let mut more = |r: &[(&'static str, Option<String>)]| {
        rows.extend(r.iter().filter_map(|(l, v)| Some((*l, v.clone()?))));
    };
    let esl = Some(bytes(u64::from(oti.encoding_symbol_length())));
    let sbl = oti.max_source_block_length().map(|b| symbols(u64::from(b)));
    let n = |v: u64| Some(v.to_string());
    // Raptor (RFC 5053 §3.2.3) and RaptorQ (RFC 6330 §3.3.3) differ only in field widths.
    let raptor = |oti: &FecOti| {
        let (reserved, z, sub_blocks, al) = match *oti {
            FecOti::Raptor {
                reserved: r,
                source_blocks: z,
                sub_blocks: nb,
                alignment: al,
                ..
            } => (u64::from(r), u64::from(z), u64::from(nb), al),
            FecOti::RaptorQ {
                reserved: r,
                source_blocks: z,
                sub_blocks: nb,
                alignment: al,
                ..
            } => (u64::from(r), u64::from(z), u64::from(nb), al),
            _ => (0, 0, 0, 0),
        };
        [
            ("Reserved", n(reserved)),
            ("Symbol Size (T)", esl.clone()),
            ("Number of Source Blocks (Z)", n(z)),
            ("Number of Sub-Blocks (N)", n(sub_blocks)),
            ("Symbol Alignment (Al)", Some(bytes(u64::from(al)))),
        ]
    };
    match oti {
        FecOti::CompactNoCode { reserved, .. } => more(&[
            ("Reserved", n(u64::from(*reserved))),
            ("Encoding Symbol Length", esl),
            ("Maximum Source Block Length", sbl),
        ]),
        FecOti::Raptor { .. } | FecOti::RaptorQ { .. } => more(&raptor(oti)),
        FecOti::ReedSolomon {
            m,
            g,
            max_encoding_symbols,
            ..
        } => more(&[
            ("Field size exponent (m)", n(u64::from(*m))),
            ("Symbols per packet (G)", n(u64::from(*g))),
            ("Encoding Symbol Length", esl),
            ("Maximum Source Block Length", sbl),
            (
                "Max Number of Encoding Symbols",
                n(u64::from(*max_encoding_symbols)),
            ),
        ]),
        FecOti::Ldpc {
            n1m3,
            g,
            max_encoding_symbols,
            prng_seed,
            ..
        } => more(&[
            ("Encoding Symbol Length", esl),
            (
                "N1 minus 3 (N1m3)",
                Some(format!("{n1m3} (N1 = {})", u32::from(*n1m3) + 3)),
            ),
            ("Symbols per packet (G)", n(u64::from(*g))),
            ("Maximum Source Block Length", sbl),
            (
                "Max Number of Encoding Symbols",
                n(u64::from(*max_encoding_symbols)),
            ),
            ("PRNG seed", n(u64::from(*prng_seed))),
        ]),
        FecOti::ReedSolomonGf8 {
            max_encoding_symbols,
            ..
        } => more(&[
            ("Encoding Symbol Length", esl),
            ("Maximum Source Block Length", sbl),
            (
                "Max Number of Encoding Symbols",
                n(u64::from(*max_encoding_symbols)),
            ),
        ]),
        FecOti::UnderSpecified {
            instance_id,
            scheme_specific,
            ..
        } => more(&[
            ("FEC Instance ID", n(u64::from(*instance_id))),
            ("Encoding Symbol Length", esl),
            ("Maximum Source Block Length", sbl),
            ("Scheme-Specific Information", ssi(scheme_specific)),
        ]),
        FecOti::SmallBlockSystematic {
            instance_id,
            max_encoding_symbols,
            scheme_specific,
            ..
        } => more(&[
            ("FEC Instance ID", n(u64::from(*instance_id))),
            ("Encoding Symbol Length", esl),
            ("Maximum Source Block Length", sbl),
            (
                "Max Number of Encoding Symbols",
                n(u64::from(*max_encoding_symbols)),
            ),
            ("Scheme-Specific Information", ssi(scheme_specific)),
        ]),
    }
    rows
}

fn fec_payload_id(t: &mut Tree, p: &FecPayloadId) {
    t.node(
        format_args!(
            "FEC Payload ID (FEC Encoding ID {}: {}, {})",
            p.encoding_id,
            fec_scheme_name(p.encoding_id),
            p.layout().map_or("RFC 5052 §6.3", |l| l.rule)
        ),
        |t| {
            if let Some(m) = p.m {
                t.field("[Field size exponent (m)]", m);
            }
            t.field("Source Block Number (SBN)", p.sbn);
            if let Some(sbl) = p.sbl {
                t.field("Source Block Length (SBL)", format_args!("{sbl} symbols"));
            }
            t.field("Encoding Symbol ID (ESI)", p.esi);
        },
    );
}

/// The encoding symbols, and what they hold when the whole object is in this packet (the
/// first symbol of the only block, as long as the transfer length): the FDT Instance of an
/// EXT_FDT packet, or an FCAST Compound Object that decodes cleanly.
fn payload(t: &mut Tree, a: &AlcPacket, symbols: &[u8]) {
    t.line(format_args!("Encoding Symbol(s): {} bytes", symbols.len()));
    let whole = a
        .fti
        .as_ref()
        .is_some_and(|f| usize::try_from(f.oti.transfer_length()).ok() == Some(symbols.len()))
        && a.payload_id.is_some_and(|p| p.sbn == 0 && p.esi == 0)
        && symbols.len() <= MAX_DECODED_PAYLOAD
        && a.fec_encoding_id == 0;
    if a.lct.extension(HET_FDT).is_some() {
        if !whole {
            t.line("[FDT Instance not decoded here: not the whole object in one Compact No-Code symbol with EXT_FTI; -z fdt shows the instances rebuilt]");
            return;
        }
        let cenc = a.lct.extension(HET_CENC).and_then(|e| match &e.body {
            ExtensionBody::Cenc(c) => Some(c.cenc),
            _ => None,
        });
        match FdtInstance::parse_payload(symbols, cenc, MAX_DECODED_PAYLOAD * 16) {
            Ok(fdt) => fdt_instance(t, &fdt.value),
            Err(e) => t.line(format_args!("[FDT Instance does not decode: {e}]")),
        }
    } else if whole {
        if let Ok(obj) = CompoundObject::parse(symbols) {
            if obj.findings.is_empty() {
                fcast_object(t, &obj.value);
            }
        }
    }
}

fn fdt_instance(t: &mut Tree, fdt: &FdtInstance) {
    t.node("FDT Instance (RFC 6726 §3.4.2)", |t| {
        t.field("Namespace", fdt_namespace(&fdt.namespace));
        match fdt.expires {
            Some(e) => t.field(
                "Expires",
                format_args!("{e} (NTP; {})", ntp_date(u64::from(e))),
            ),
            None => t.line("[Expires: absent]"),
        }
        if let Some(c) = fdt.complete {
            t.field("Complete", c);
        }
        if let Some(id) = fdt.defaults.fec_encoding_id {
            t.field("FEC-OTI-FEC-Encoding-ID", id);
        }
        for f in &fdt.files {
            t.node(
                format_args!("File: TOI {}, {}", f.toi, f.content_location),
                |t| {
                    t.field("TOI", f.toi);
                    t.field("Content-Location", &f.content_location);
                    if let Some(n) = f.content_length {
                        t.field("Content-Length", format_args!("{n} bytes"));
                    }
                    if let Some(n) = f.transfer_length {
                        t.field("Transfer-Length", format_args!("{n} bytes"));
                    }
                    if let Some(ct) = &f.attributes.content_type {
                        t.field("Content-Type", ct);
                    }
                    if let Some(ce) = &f.attributes.content_encoding {
                        t.field("Content-Encoding", ce);
                    }
                    if let Some(md5) = &f.content_md5 {
                        use base64::Engine;
                        let b64 = base64::engine::general_purpose::STANDARD.encode(md5);
                        t.field("Content-MD5", b64);
                    }
                },
            );
        }
    });
}

fn fdt_namespace(n: &FdtNamespace) -> String {
    match n {
        FdtNamespace::FluteV2 => format!("{NS_FLUTE_V2} (RFC 6726)"),
        FdtNamespace::FluteV1 => format!("{NS_FLUTE_V1} (3GPP TS 26.346)"),
        FdtNamespace::ThreeGpp2022 => format!("{NS_3GPP_2022} (3GPP TS 26.346 Annex L)"),
        FdtNamespace::None => "none".into(),
        FdtNamespace::Other(s) => s.clone(),
    }
}

fn fcast_object(t: &mut Tree, obj: &CompoundObject) {
    let h = &obj.header;
    t.node("FCAST Compound Object (RFC 6968 §2)", |t| {
        // Ver (3 bits), Resvd (3), G, C: RFC 6968 §2.1.
        let word = u64::from(h.version & 7) << 5
            | u64::from(h.reserved & 7) << 2
            | u64::from(h.global_checksum) << 1
            | u64::from(h.is_cid);
        t.bits(8, word, 5, 3, "Version (V)", h.version);
        t.bits(8, word, 2, 3, "Reserved", h.reserved);
        t.flag(8, word, 1, "Global checksum flag (G)");
        t.flag(8, word, 0, "Carousel Instance Descriptor flag (C)");
        t.field("Metadata Format (MDFmt)", h.mdfmt);
        t.field("Metadata Encoding (MDEnc)", h.mdenc);
        t.field("Checksum", format_args!("{:#06x}", h.checksum));
        t.field("Header Length", format_args!("{} bytes", h.header_length));
        for m in &h.metadata {
            t.field(&m.name, &m.value);
        }
        t.line(format_args!("Object Data: {} bytes", obj.data.len()));
        if let Some(cid) = &obj.cid {
            t.field("[CID Complete]", cid.complete);
            t.field("[CID object count]", cid.object_list.object_count);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_drawn_as_tshark_draws_them() {
        assert_eq!(bit_pattern(0x1010, 16, 12, 4), "0001 .... .... ....");
        assert_eq!(bit_pattern(0b10, 16, 1, 1), ".... .... .... ..1.");
        assert_eq!(bit_pattern(0x45, 8, 0, 4), ".... 0101");
        assert_eq!(
            bit_pattern(0x2_00001, 32, 0, 20),
            ".... .... .... 0000 0000 0000 0000 0001"
        );
        assert_eq!(bit_pattern(0x40, 8, 5, 3), "010. ....");
    }

    #[test]
    fn dates_are_utc_as_tshark_prints_them() {
        // The first frame of ../shared/captures/flute-nocode-1.pcap, as tshark prints it.
        assert_eq!(
            utc(Duration::new(1_795_310_449, 56_711_000)),
            "Nov 22, 2026 01:20:49.056711000 UTC"
        );
        assert_eq!(utc(Duration::ZERO), "Jan 1, 1970 00:00:00.000000000 UTC");
        assert_eq!(
            utc(Duration::from_secs(951_782_400)),
            "Feb 29, 2000 00:00:00.000000000 UTC"
        );
        assert_eq!(ntp_date(4_004_299_249), "Nov 22, 2026 01:20:49 UTC");
        assert_eq!(ntp_date(1), "before 1970");
    }
}
