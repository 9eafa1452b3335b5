//! One captured frame, walked from the link layer to the UDP payload.

use crate::registry;
use serde::Serialize;

use super::error::WireError;
use super::finding::{Decoded, Findings};
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
        debug_assert_eq!(link_len, link_repr.header_len(), "the link header's length");
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
                f.raise(
                    &registry::link::NOT_IP,
                    "ethertype",
                    link_len.saturating_sub(2),
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
            f.raise(&registry::ip::NOT_UDP, "protocol", link_len + 9, "not UDP");
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

impl Frame {
    /// Builds an Ethernet II / IPv4 / UDP frame around `payload` (for captures that tests,
    /// benchmarks and the reference implementation write). The IPv4 checksum is computed; the UDP
    /// checksum is 0 (none, RFC 768). A multicast destination gets its RFC 1112 MAC address.
    /// `more_fragments` sets MF, to make the first fragment of a larger datagram.
    pub fn ipv4_udp(
        src: (std::net::Ipv4Addr, u16),
        dst: (std::net::Ipv4Addr, u16),
        payload: &[u8],
        more_fragments: bool,
    ) -> Vec<u8> {
        use super::ip::Ipv4Repr;
        use super::link::{EthernetRepr, ETHERTYPE_IPV4};
        let d = dst.0.octets();
        let dst_mac = if dst.0.is_multicast() {
            [0x01, 0x00, 0x5e, d[1] & 0x7f, d[2], d[3]]
        } else {
            [0x02, 0, 0, 0, 0, 2]
        };
        let mut out = Vec::with_capacity(42 + payload.len());
        LinkRepr::Ethernet(EthernetRepr {
            dst: dst_mac,
            src: [0x02, 0, 0, 0, 0, 1],
            vlans: vec![],
            ethertype: ETHERTYPE_IPV4,
        })
        .emit(&mut out);
        let total = (28 + payload.len()).min(usize::from(u16::MAX)) as u16;
        let mut ip = Ipv4Repr {
            ihl: 5,
            tos: 0,
            total_length: total,
            identification: 1,
            flags: if more_fragments { 1 } else { 2 },
            fragment_offset: 0,
            ttl: 16,
            protocol: IPPROTO_UDP,
            checksum: 0,
            src: src.0,
            dst: dst.0,
            options: vec![],
        };
        let mut header = Vec::with_capacity(20);
        IpRepr::V4(ip.clone()).emit(&mut header);
        ip.checksum = super::checksum::internet_checksum(&header);
        IpRepr::V4(ip).emit(&mut out);
        UdpRepr {
            src_port: src.1,
            dst_port: dst.1,
            length: (8 + payload.len()).min(usize::from(u16::MAX)) as u16,
            checksum: 0,
        }
        .emit(&mut out);
        out.extend_from_slice(payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn built_frames_parse_back_strictly() {
        let payload = b"an ALC packet";
        let f = Frame::ipv4_udp(
            (Ipv4Addr::new(10, 0, 0, 1), 4000),
            (Ipv4Addr::new(233, 252, 0, 7), 3400),
            payload,
            false,
        );
        let d = Frame::parse(LinkType::Ethernet, &f)
            .unwrap()
            .strict()
            .unwrap();
        assert_eq!(d.udp_payload(&f).unwrap(), payload);
        let udp = d.udp.unwrap();
        assert_eq!((udp.src_port, udp.dst_port), (4000, 3400));
        match &d.link {
            LinkRepr::Ethernet(e) => assert_eq!(
                e.dst,
                [0x01, 0x00, 0x5e, 0x7c, 0x00, 0x07],
                "RFC 1112 mapping"
            ),
            other => panic!("{other:?}"),
        }
        let frag = Frame::ipv4_udp(
            (Ipv4Addr::new(10, 0, 0, 1), 4000),
            (Ipv4Addr::new(10, 0, 0, 2), 3400),
            payload,
            true,
        );
        let d = Frame::parse(LinkType::Ethernet, &frag).unwrap();
        assert!(d.has("ipv4.fragment") && d.value.udp.is_none());
    }
}
