//! Loading a whole pcap or pcapng file into memory (pcap-file crate). The streaming reader with
//! flat memory, stdin and live capture is the inspector CLI's work; this loader serves tests and
//! the per-TOI example.

use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

use crate::wire::link::LinkType;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a pcap or pcapng file: {detail}")]
    Format { path: String, detail: String },
}

#[derive(Debug, Clone)]
pub struct CapturedPacket {
    pub link_type: LinkType,
    /// Time since the Unix epoch, as recorded.
    pub timestamp: Duration,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Capture {
    /// Link type of the first interface.
    pub link_type: LinkType,
    pub packets: Vec<CapturedPacket>,
}

/// pcapng magic of a Section Header Block.
const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];

pub fn read_capture(path: &Path) -> Result<Capture, CaptureError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Io {
        path: p.clone(),
        source,
    })?;
    parse_capture(&bytes).map_err(|detail| CaptureError::Format { path: p, detail })
}

pub fn parse_capture(bytes: &[u8]) -> Result<Capture, String> {
    let mut packets = Vec::new();
    if bytes.starts_with(&PCAPNG_MAGIC) {
        let mut r = PcapNgReader::new(bytes).map_err(|e| e.to_string())?;
        let mut interfaces: Vec<LinkType> = Vec::new();
        while let Some(block) = r.next_block() {
            match block.map_err(|e| e.to_string())? {
                Block::InterfaceDescription(idb) => {
                    interfaces.push(LinkType::from(u32::from(idb.linktype)))
                }
                Block::EnhancedPacket(epb) => {
                    let link_type = *interfaces
                        .get(epb.interface_id as usize)
                        .ok_or("packet on an undeclared interface")?;
                    packets.push(CapturedPacket {
                        link_type,
                        timestamp: epb.timestamp,
                        data: epb.data.into_owned(),
                    });
                }
                Block::SimplePacket(spb) => {
                    let link_type = *interfaces.first().ok_or("packet before any interface")?;
                    packets.push(CapturedPacket {
                        link_type,
                        timestamp: Duration::ZERO,
                        data: spb.data.into_owned(),
                    });
                }
                _ => {}
            }
        }
        let link_type = packets.first().map_or(LinkType::Ethernet, |p| p.link_type);
        Ok(Capture { link_type, packets })
    } else {
        let mut r = PcapReader::new(bytes).map_err(|e| e.to_string())?;
        let link_type = LinkType::from(u32::from(r.header().datalink));
        while let Some(pkt) = r.next_packet() {
            let pkt = pkt.map_err(|e| e.to_string())?;
            packets.push(CapturedPacket {
                link_type,
                timestamp: pkt.timestamp,
                data: pkt.data.into_owned(),
            });
        }
        Ok(Capture { link_type, packets })
    }
}
