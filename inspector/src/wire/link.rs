//! Link layers found in captures: Ethernet II with 802.1Q/802.1ad tags, Linux cooked capture v1
//! (SLL) and v2 (SLL2), and raw IP.
//!
//! Ethernet and VLAN field reads go through pnet's packet views (`pnet_packet`): they are zero-copy, well
//! exercised views of these standard headers, so there is no reason to write them again. We add
//! what pnet lacks for a dissector: length checks with positioned errors before any view is built,
//! and a `Repr` that keeps every byte so the header can be emitted again unchanged.

use crate::registry;
use crate::wire::finding::FindingKind;
use pnet_packet::ethernet::EthernetPacket;
use pnet_packet::vlan::VlanPacket;
use serde::Serialize;

use super::error::WireError;
use super::serde_hex;

/// pcap/pcapng link types (tcpdump.org LINKTYPE_* values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LinkType {
    Ethernet,
    LinuxSll,
    LinuxSll2,
    RawIp,
    Ipv4,
    Ipv6,
    Unknown(u32),
}

impl From<u32> for LinkType {
    fn from(v: u32) -> Self {
        match v {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            // 101 is LINKTYPE_RAW; 12 and 14 are DLT_RAW on some BSDs.
            101 | 12 | 14 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            other => LinkType::Unknown(other),
        }
    }
}

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Tags beyond this are not walked (bounds the loop on hostile frames).
const MAX_VLAN_TAGS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VlanTag {
    pub tpid: u16,
    pub pcp: u8,
    pub dei: bool,
    pub vid: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EthernetRepr {
    #[serde(serialize_with = "serde_hex::bytes")]
    pub dst: [u8; 6],
    #[serde(serialize_with = "serde_hex::bytes")]
    pub src: [u8; 6],
    pub vlans: Vec<VlanTag>,
    pub ethertype: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SllRepr {
    pub packet_type: u16,
    pub arphrd_type: u16,
    pub address_length: u16,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub address: [u8; 8],
    pub protocol: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sll2Repr {
    pub protocol: u16,
    pub reserved: u16,
    pub interface_index: u32,
    pub arphrd_type: u16,
    pub packet_type: u8,
    pub address_length: u8,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub address: [u8; 8],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkRepr {
    Ethernet(EthernetRepr),
    Sll(SllRepr),
    Sll2(Sll2Repr),
    /// No link header: the frame starts with the IP header.
    Raw,
}

fn short(kind: &'static FindingKind, field: &'static str, need: usize, have: usize) -> WireError {
    WireError::of(
        kind,
        field,
        have.min(need),
        format!("needs {need} bytes, {have} present"),
    )
}

impl LinkRepr {
    /// Bytes of the link header: where the IP header starts.
    pub fn header_len(&self) -> usize {
        match self {
            LinkRepr::Ethernet(e) => 14 + 4 * e.vlans.len(),
            LinkRepr::Sll(_) => 16,
            LinkRepr::Sll2(_) => 20,
            LinkRepr::Raw => 0,
        }
    }

    /// Parses the link header; returns it, its length, and the EtherType of the payload
    /// (`None` for raw IP, where the IP version nibble tells).
    pub fn parse(
        link: LinkType,
        frame: &[u8],
    ) -> Result<(LinkRepr, usize, Option<u16>), WireError> {
        match link {
            LinkType::Ethernet => {
                let eth = EthernetPacket::new(frame)
                    .ok_or_else(|| short(&registry::eth::TRUNCATED, "header", 14, frame.len()))?;
                let mut repr = EthernetRepr {
                    dst: eth.get_destination().octets(),
                    src: eth.get_source().octets(),
                    vlans: Vec::new(),
                    ethertype: eth.get_ethertype().0,
                };
                let mut len = 14;
                while matches!(repr.ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ) {
                    if repr.vlans.len() == MAX_VLAN_TAGS {
                        return Err(WireError::of(
                            &registry::eth::VLAN_TOO_MANY,
                            "vlan",
                            len,
                            format!("more than {MAX_VLAN_TAGS} VLAN tags"),
                        ));
                    }
                    let tag = VlanPacket::new(&frame[len..]).ok_or_else(|| {
                        short(&registry::eth::TRUNCATED, "vlan", len + 4, frame.len())
                            .citing("IEEE 802.1Q")
                    })?;
                    repr.vlans.push(VlanTag {
                        tpid: repr.ethertype,
                        pcp: tag.get_priority_code_point().0,
                        dei: tag.get_drop_eligible_indicator() == 1,
                        vid: tag.get_vlan_identifier(),
                    });
                    repr.ethertype = tag.get_ethertype().0;
                    len += 4;
                }
                let ethertype = repr.ethertype;
                Ok((LinkRepr::Ethernet(repr), len, Some(ethertype)))
            }
            // SLL and SLL2 are read directly: pnet models their address as a variable-length
            // field and places later fields by it, while the capture format fixes it at 8 bytes.
            LinkType::LinuxSll => {
                if frame.len() < 16 {
                    return Err(short(&registry::sll::TRUNCATED, "header", 16, frame.len()));
                }
                let be16 = |i: usize| u16::from_be_bytes([frame[i], frame[i + 1]]);
                let mut address = [0u8; 8];
                address.copy_from_slice(&frame[6..14]);
                let repr = SllRepr {
                    packet_type: be16(0),
                    arphrd_type: be16(2),
                    address_length: be16(4),
                    address,
                    protocol: be16(14),
                };
                let proto = repr.protocol;
                Ok((LinkRepr::Sll(repr), 16, Some(proto)))
            }
            LinkType::LinuxSll2 => {
                if frame.len() < 20 {
                    return Err(short(&registry::sll2::TRUNCATED, "header", 20, frame.len()));
                }
                let be16 = |i: usize| u16::from_be_bytes([frame[i], frame[i + 1]]);
                let mut address = [0u8; 8];
                address.copy_from_slice(&frame[12..20]);
                let repr = Sll2Repr {
                    protocol: be16(0),
                    reserved: be16(2),
                    interface_index: u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]),
                    arphrd_type: be16(8),
                    packet_type: frame[10],
                    address_length: frame[11],
                    address,
                };
                let proto = repr.protocol;
                Ok((LinkRepr::Sll2(repr), 20, Some(proto)))
            }
            LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => Ok((LinkRepr::Raw, 0, None)),
            LinkType::Unknown(n) => Err(WireError::of(
                &registry::link::UNSUPPORTED,
                "linktype",
                0,
                format!("link type {n} is not supported"),
            )),
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            LinkRepr::Ethernet(e) => {
                out.extend_from_slice(&e.dst);
                out.extend_from_slice(&e.src);
                // Each tag is its TPID then its TCI; the EtherType after the last tag follows.
                for v in &e.vlans {
                    out.extend_from_slice(&v.tpid.to_be_bytes());
                    let tci =
                        (u16::from(v.pcp) << 13) | (u16::from(v.dei) << 12) | (v.vid & 0x0FFF);
                    out.extend_from_slice(&tci.to_be_bytes());
                }
                out.extend_from_slice(&e.ethertype.to_be_bytes());
            }
            LinkRepr::Sll(s) => {
                out.extend_from_slice(&s.packet_type.to_be_bytes());
                out.extend_from_slice(&s.arphrd_type.to_be_bytes());
                out.extend_from_slice(&s.address_length.to_be_bytes());
                out.extend_from_slice(&s.address);
                out.extend_from_slice(&s.protocol.to_be_bytes());
            }
            LinkRepr::Sll2(s) => {
                out.extend_from_slice(&s.protocol.to_be_bytes());
                out.extend_from_slice(&s.reserved.to_be_bytes());
                out.extend_from_slice(&s.interface_index.to_be_bytes());
                out.extend_from_slice(&s.arphrd_type.to_be_bytes());
                out.push(s.packet_type);
                out.push(s.address_length);
                out.extend_from_slice(&s.address);
            }
            LinkRepr::Raw => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with `tags` stacked 802.1Q tags and an IPv4 EtherType after them.
    fn tagged_frame(tags: usize) -> Vec<u8> {
        let mut f = vec![0x01, 0x00, 0x5E, 0x00, 0x00, 0x01, 0x02, 0, 0, 0, 0, 1];
        for _ in 0..tags {
            f.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            f.extend_from_slice(&[0x00, 0x0A]);
        }
        f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        f
    }

    #[test]
    fn an_unknown_link_type_is_refused_as_unsupported() {
        let err = LinkRepr::parse(LinkType::from(147), &[0u8; 32]).unwrap_err();
        assert_eq!(err.id, registry::link::UNSUPPORTED.id);
        assert_eq!(err.field, "linktype");
        assert!(LinkRepr::parse(LinkType::from(1), &[0u8; 32]).is_ok());
    }

    #[test]
    fn four_vlan_tags_are_walked_and_a_fifth_is_refused() {
        let (repr, len, ethertype) =
            LinkRepr::parse(LinkType::Ethernet, &tagged_frame(MAX_VLAN_TAGS)).unwrap();
        assert_eq!(len, 14 + 4 * MAX_VLAN_TAGS);
        assert_eq!(ethertype, Some(ETHERTYPE_IPV4));
        assert!(matches!(repr, LinkRepr::Ethernet(ref e) if e.vlans.len() == MAX_VLAN_TAGS));

        let err =
            LinkRepr::parse(LinkType::Ethernet, &tagged_frame(MAX_VLAN_TAGS + 1)).unwrap_err();
        assert_eq!(err.id, registry::eth::VLAN_TOO_MANY.id);
        assert_eq!(err.offset, 14 + 4 * MAX_VLAN_TAGS);
    }
}
