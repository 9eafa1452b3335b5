//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, read through pnet's views after our own length
//! checks (pnet's views assume consistent lengths; hostile captures have none).
//! IPv4 fragments are detected and reported: the layers above cannot be read from one fragment.

use crate::registry;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use serde::Serialize;

use super::checksum::internet_checksum;
use super::error::WireError;
use super::finding::{Decoded, Findings};
use super::serde_hex;

pub const IPPROTO_UDP: u8 = 17;
/// IPv6 extension headers walked before giving up (bounds the loop).
const MAX_IPV6_EXTENSIONS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipv4Repr {
    pub ihl: u8,
    pub tos: u8,
    pub total_length: u16,
    pub identification: u16,
    /// The three flag bits (reserved, DF, MF).
    pub flags: u8,
    pub fragment_offset: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: u16,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub options: Vec<u8>,
}

impl Ipv4Repr {
    pub fn is_fragment(&self) -> bool {
        self.flags & 1 != 0 || self.fragment_offset != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipv6ExtensionHeader {
    pub header_type: u8,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipv6Repr {
    pub traffic_class: u8,
    pub flow_label: u32,
    pub payload_length: u16,
    pub next_header: u8,
    pub hop_limit: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub extension_headers: Vec<Ipv6ExtensionHeader>,
    /// The protocol after the extension headers.
    pub upper_protocol: u8,
    /// Set when a Fragment header was met.
    pub fragment: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "version", rename_all = "snake_case")]
pub enum IpRepr {
    V4(Ipv4Repr),
    V6(Ipv6Repr),
}

/// An IP packet's header and where its payload lies in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpPacket {
    pub header: IpRepr,
    pub payload_offset: usize,
    pub payload_len: usize,
}

impl IpRepr {
    pub fn src(&self) -> IpAddr {
        match self {
            IpRepr::V4(h) => IpAddr::V4(h.src),
            IpRepr::V6(h) => IpAddr::V6(h.src),
        }
    }
    pub fn dst(&self) -> IpAddr {
        match self {
            IpRepr::V4(h) => IpAddr::V4(h.dst),
            IpRepr::V6(h) => IpAddr::V6(h.dst),
        }
    }
    pub fn protocol(&self) -> u8 {
        match self {
            IpRepr::V4(h) => h.protocol,
            IpRepr::V6(h) => h.upper_protocol,
        }
    }
    pub fn is_fragment(&self) -> bool {
        match self {
            IpRepr::V4(h) => h.is_fragment(),
            IpRepr::V6(h) => h.fragment,
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            IpRepr::V4(h) => {
                out.push(0x40 | (h.ihl & 0x0F));
                out.push(h.tos);
                out.extend_from_slice(&h.total_length.to_be_bytes());
                out.extend_from_slice(&h.identification.to_be_bytes());
                let ff = (u16::from(h.flags & 7) << 13) | (h.fragment_offset & 0x1FFF);
                out.extend_from_slice(&ff.to_be_bytes());
                out.push(h.ttl);
                out.push(h.protocol);
                out.extend_from_slice(&h.checksum.to_be_bytes());
                out.extend_from_slice(&h.src.octets());
                out.extend_from_slice(&h.dst.octets());
                out.extend_from_slice(&h.options);
            }
            IpRepr::V6(h) => {
                let w =
                    (6u32 << 28) | (u32::from(h.traffic_class) << 20) | (h.flow_label & 0xF_FFFF);
                out.extend_from_slice(&w.to_be_bytes());
                out.extend_from_slice(&h.payload_length.to_be_bytes());
                out.push(h.next_header);
                out.push(h.hop_limit);
                out.extend_from_slice(&h.src.octets());
                out.extend_from_slice(&h.dst.octets());
                for e in &h.extension_headers {
                    out.extend_from_slice(&e.bytes);
                }
            }
        }
    }
}

impl IpPacket {
    /// Parses an IPv4 or IPv6 header, choosing by the version nibble.
    pub fn parse(input: &[u8]) -> Result<Decoded<IpPacket>, WireError> {
        match input.first().map(|b| b >> 4) {
            Some(4) => Self::parse_v4(input),
            Some(6) => Self::parse_v6(input),
            Some(v) => Err(WireError::of(
                &registry::ip::VERSION_UNKNOWN,
                "version",
                0,
                format!("IP version {v}"),
            )),
            None => Err(WireError::of(
                &registry::ip::TRUNCATED,
                "version",
                0,
                "empty packet",
            )),
        }
    }

    pub fn parse_v4(input: &[u8]) -> Result<Decoded<IpPacket>, WireError> {
        let mut f = Findings::default();
        let p = Ipv4Packet::new(input).ok_or_else(|| {
            WireError::of(
                &registry::ipv4::TRUNCATED,
                "header",
                input.len(),
                format!("needs 20 bytes, {} present", input.len()),
            )
        })?;
        let ihl = p.get_header_length();
        let hlen = 4 * usize::from(ihl);
        if ihl < 5 {
            return Err(WireError::of(
                &registry::ipv4::IHL_TOO_SMALL,
                "ihl",
                0,
                format!("IHL={ihl} < 5"),
            ));
        }
        if hlen > input.len() {
            return Err(WireError::of(
                &registry::ipv4::TRUNCATED,
                "options",
                20,
                format!("IHL={ihl} needs {hlen} bytes, {} present", input.len()),
            ));
        }
        let total = usize::from(p.get_total_length());
        if total < hlen {
            return Err(WireError::of(
                &registry::ipv4::TOTAL_LENGTH_TOO_SMALL,
                "total_length",
                2,
                format!("total length {total} < header {hlen}"),
            ));
        }
        if total > input.len() {
            return Err(WireError::of(
                &registry::ipv4::TRUNCATED,
                "total_length",
                2,
                format!("total length {total} > {} bytes captured", input.len()),
            ));
        }
        let header = Ipv4Repr {
            ihl,
            tos: input[1],
            total_length: p.get_total_length(),
            identification: p.get_identification(),
            flags: p.get_flags(),
            fragment_offset: p.get_fragment_offset(),
            ttl: p.get_ttl(),
            protocol: p.get_next_level_protocol().0,
            checksum: p.get_checksum(),
            src: p.get_source(),
            dst: p.get_destination(),
            options: input[20..hlen].to_vec(),
        };
        if internet_checksum(&input[..hlen]) != 0 {
            f.raise(
                &registry::ipv4::CHECKSUM_BAD,
                "checksum",
                10,
                format!("header checksum {:#06x} does not verify", header.checksum),
            );
        }
        if header.is_fragment() {
            f.raise(
                &registry::ipv4::FRAGMENT,
                "fragment_offset",
                6,
                format!(
                    "fragment (MF={}, offset={} bytes): upper layers not decoded",
                    header.flags & 1,
                    8 * u32::from(header.fragment_offset)
                ),
            );
        }
        Ok(Decoded::new(
            IpPacket {
                header: IpRepr::V4(header),
                payload_offset: hlen,
                payload_len: total - hlen,
            },
            f.list,
        ))
    }

    pub fn parse_v6(input: &[u8]) -> Result<Decoded<IpPacket>, WireError> {
        let mut f = Findings::default();
        let p = Ipv6Packet::new(input).ok_or_else(|| {
            WireError::of(
                &registry::ipv6::TRUNCATED,
                "header",
                input.len(),
                format!("needs 40 bytes, {} present", input.len()),
            )
        })?;
        let payload_length = usize::from(p.get_payload_length());
        if 40 + payload_length > input.len() {
            return Err(WireError::of(
                &registry::ipv6::TRUNCATED,
                "payload_length",
                4,
                format!(
                    "payload length {payload_length} > {} bytes captured",
                    input.len() - 40
                ),
            ));
        }
        let end = 40 + payload_length;
        let mut header = Ipv6Repr {
            traffic_class: p.get_traffic_class(),
            flow_label: p.get_flow_label(),
            payload_length: p.get_payload_length(),
            next_header: p.get_next_header().0,
            hop_limit: p.get_hop_limit(),
            src: p.get_source(),
            dst: p.get_destination(),
            extension_headers: Vec::new(),
            upper_protocol: p.get_next_header().0,
            fragment: false,
        };
        let mut pos = 40;
        for _ in 0..MAX_IPV6_EXTENSIONS {
            let nh = header.upper_protocol;
            let len = match nh {
                // Hop-by-Hop, Routing, Destination Options: (Hdr Ext Len + 1) * 8.
                0 | 43 | 60 => input.get(pos + 1).map(|l| (usize::from(*l) + 1) * 8),
                44 => Some(8),
                // Authentication Header: (Payload Len + 2) * 4 (RFC 4302).
                51 => input.get(pos + 1).map(|l| (usize::from(*l) + 2) * 4),
                _ => break,
            };
            let Some(len) = len.filter(|l| pos + l <= end) else {
                return Err(WireError::of(
                    &registry::ipv6::TRUNCATED,
                    "extension_header",
                    pos,
                    format!("extension header {nh} overruns the payload"),
                ));
            };
            header.extension_headers.push(Ipv6ExtensionHeader {
                header_type: nh,
                bytes: input[pos..pos + len].to_vec(),
            });
            header.upper_protocol = input[pos];
            if nh == 44 {
                header.fragment = true;
                f.raise(
                    &registry::ipv6::FRAGMENT,
                    "fragment",
                    pos,
                    "fragment: upper layers not decoded",
                );
            }
            pos += len;
        }
        Ok(Decoded::new(
            IpPacket {
                header: IpRepr::V6(header),
                payload_offset: pos,
                payload_len: end - pos,
            },
            f.list,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 header carrying `ext` then an 8-byte UDP header, with `next_header` first.
    fn ipv6(next_header: u8, ext: &[u8]) -> Vec<u8> {
        let payload_length = (ext.len() + 8) as u16;
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&payload_length.to_be_bytes());
        p.push(next_header);
        p.push(64);
        p.extend_from_slice(&[0u8; 15]);
        p.push(1);
        p.extend_from_slice(&[0xFF, 0x0E]);
        p.extend_from_slice(&[0u8; 13]);
        p.push(1);
        p.extend_from_slice(ext);
        p.extend_from_slice(&[0x12, 0x34, 0x12, 0x34, 0, 8, 0, 0]);
        p
    }

    #[test]
    fn an_ipv6_fragment_header_is_reported_as_a_fragment() {
        // Fragment header: Next Header UDP, reserved, offset 0 with M=1, identification.
        let frag = [IPPROTO_UDP, 0, 0x00, 0x01, 0xDE, 0xAD, 0xBE, 0xEF];
        let d = IpPacket::parse(&ipv6(44, &frag)).unwrap();
        let ids: Vec<_> = d.findings.iter().map(|f| f.id).collect();
        assert_eq!(ids, [registry::ipv6::FRAGMENT.id]);
        assert_eq!(d.findings[0].offset, 40);
        assert!(d.value.header.is_fragment());
        assert_eq!(d.value.header.protocol(), IPPROTO_UDP);
        assert_eq!(d.value.payload_offset, 48);
    }

    #[test]
    fn an_ipv6_destination_options_header_is_not_a_fragment() {
        // Destination Options, Hdr Ext Len 0, PadN filling the 8 bytes.
        let dst_opts = [IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0];
        let d = IpPacket::parse(&ipv6(60, &dst_opts)).unwrap();
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert!(!d.value.header.is_fragment());
        assert_eq!(d.value.header.protocol(), IPPROTO_UDP);
    }
}
