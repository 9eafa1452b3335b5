//! One captured frame, walked from the link layer to the UDP payload.

use serde::Serialize;

use super::error::WireError;
use super::finding::{Decoded, Findings, Severity};
use super::ip::{IpPacket, IpRepr, IPPROTO_UDP};
use super::link::{LinkRepr, LinkType, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::udp::UdpRepr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub link: LinkRepr,
    pub ip: Option<IpRepr>,
    pub udp: Option<UdpRepr>,
    /// Offset and length of the UDP payload in the frame, when there is one.
    pub payload_offset: usize,
    pub payload_len: usize,
}

impl Frame {
    pub fn udp_payload<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        self.udp
            .map(|_| &frame[self.payload_offset..self.payload_offset + self.payload_len])
    }

    pub fn parse(link: LinkType, frame: &[u8]) -> Result<Decoded<Frame>, WireError> {
        let mut f = Findings::default();
        let (link_repr, link_len, ethertype) = LinkRepr::parse(link, frame)?;
        let mut out = Frame {
            link: link_repr,
            ip: None,
            udp: None,
            payload_offset: link_len,
            payload_len: frame.len() - link_len,
        };
        let ip_bytes = &frame[link_len..];
        let ip = match (link, ethertype) {
            (LinkType::Ipv4, _) | (_, Some(ETHERTYPE_IPV4)) => IpPacket::parse_v4(ip_bytes),
            (LinkType::Ipv6, _) | (_, Some(ETHERTYPE_IPV6)) => IpPacket::parse_v6(ip_bytes),
            (_, None) => IpPacket::parse(ip_bytes),
            (_, Some(other)) => {
                f.push(
                    "link.not_ip",
                    Severity::Info,
                    "ethertype",
                    link_len.saturating_sub(2),
                    "IEEE 802.3",
                    format!("EtherType {other:#06x} is not IP"),
                );
                return Ok(Decoded::new(out, f.list));
            }
        }
        .map_err(|e| e.at(link_len))?;
        f.extend_at(link_len, ip.findings);
        let ip = ip.value;
        let ip_payload = link_len + ip.payload_offset;
        out.payload_offset = ip_payload;
        out.payload_len = ip.payload_len;
        let fragment = ip.header.is_fragment();
        let is_udp = ip.header.protocol() == IPPROTO_UDP;
        out.ip = Some(ip.header);
        if fragment {
            return Ok(Decoded::new(out, f.list));
        }
        if !is_udp {
            f.push(
                "ip.not_udp",
                Severity::Info,
                "protocol",
                link_len + 9,
                "RFC 791",
                "not UDP",
            );
            return Ok(Decoded::new(out, f.list));
        }
        let udp = UdpRepr::parse(&frame[ip_payload..ip_payload + out.payload_len])
            .map_err(|e| e.at(ip_payload))?;
        out.payload_offset = ip_payload + 8;
        out.payload_len = udp.payload_len();
        out.udp = Some(udp);
        Ok(Decoded::new(out, f.list))
    }
}
