//! One captured packet decoded as far as it goes ([`Dissected`]) and the UDP flow it belongs
//! to ([`Flow`]): what the dissector (`inspect/dissect.rs`) produces and the trackers
//! (`track/`) read. It sits below both, so that tracking never imports the inspection layer.

use std::net::IpAddr;

use crate::capture::reader::RawPacket;
use crate::wire::alc::AlcPacket;
use crate::wire::frame::Frame;
use crate::wire::lls::LlsTable;
use crate::wire::{Finding, WireError};

/// A UDP flow: source and destination address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
}

impl Flow {
    /// The UDP flow of a decoded frame, if it is UDP over IP.
    pub fn of_frame(frame: &Frame) -> Option<Flow> {
        let (Some(udp), Some(ip)) = (frame.udp, frame.ip.as_ref()) else {
            return None;
        };
        Some(Flow {
            src: ip.src(),
            src_port: udp.src_port,
            dst: ip.dst(),
            dst_port: udp.dst_port,
        })
    }
}

impl std::fmt::Display for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} -> {}:{}",
            self.src, self.src_port, self.dst, self.dst_port
        )
    }
}

/// A decoded packet.
#[derive(Debug)]
pub struct Dissected<'a> {
    pub raw: RawPacket<'a>,
    pub frame: Option<Frame>,
    pub flow: Option<Flow>,
    pub alc: Option<AlcPacket>,
    /// An ATSC 3.0 LLS table (UDP to 224.0.23.60:4937), decoded.
    pub lls: Option<Box<LlsTable>>,
    /// Offset of the UDP payload in `raw.data` (where the ALC packet starts).
    pub alc_offset: usize,
    pub findings: Vec<Finding>,
    /// The error that stopped decoding, if one did.
    pub error: Option<Box<WireError>>,
}

impl Dissected<'_> {
    pub fn symbols(&self) -> &[u8] {
        match &self.alc {
            Some(a) => {
                &self.raw.data[self.alc_offset + a.symbol_offset
                    ..self.alc_offset + a.symbol_offset + a.symbol_len]
            }
            None => &[],
        }
    }
}

impl<'a> Dissected<'a> {
    /// A packet not decoded yet.
    pub fn new(raw: RawPacket<'a>) -> Self {
        Dissected {
            raw,
            frame: None,
            flow: None,
            alc: None,
            lls: None,
            alc_offset: 0,
            findings: Vec::new(),
            error: None,
        }
    }
}
