//! UDP (RFC 768). The checksum is recorded, not verified: captures taken on the sending host
//! carry partial checksums left for offload, and flagging every such packet would bury real
//! findings.

use crate::registry;
use pnet_packet::udp::UdpPacket;
use serde::Serialize;

use super::error::WireError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub length: u16,
    pub checksum: u16,
}

impl UdpRepr {
    /// Parses the header; the payload is `input[8..length]`.
    pub fn parse(input: &[u8]) -> Result<UdpRepr, WireError> {
        let p = UdpPacket::new(input).ok_or_else(|| {
            WireError::of(
                &registry::udp::TRUNCATED,
                "header",
                input.len(),
                format!("needs 8 bytes, {} present", input.len()),
            )
        })?;
        let length = p.get_length();
        if length < 8 {
            return Err(WireError::of(
                &registry::udp::LENGTH_TOO_SMALL,
                "length",
                4,
                format!("length {length} < 8"),
            ));
        }
        if usize::from(length) > input.len() {
            return Err(WireError::of(
                &registry::udp::TRUNCATED,
                "length",
                4,
                format!("length {length} > {} bytes present", input.len()),
            ));
        }
        Ok(UdpRepr {
            src_port: p.get_source(),
            dst_port: p.get_destination(),
            length,
            checksum: p.get_checksum(),
        })
    }

    pub fn payload_len(&self) -> usize {
        usize::from(self.length) - 8
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        for v in [self.src_port, self.dst_port, self.length, self.checksum] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}
