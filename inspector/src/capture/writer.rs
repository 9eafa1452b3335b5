//! Writing packets as pcapng (`rmt-inspect -w FILE`): one Interface Description Block per link
//! type met, then one Enhanced Packet Block per packet, with its capture time, wire length and
//! comments (`opt_comment`, pcapng §4.3: Wireshark shows them as `frame.comment` and as Expert
//! Info "Comment"). rmt-inspect puts each packet's findings there ([`finding_comment`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Write};

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::{Block, PcapNgReader, PcapNgWriter};
use pcap_file::DataLink;

use super::reader::RawPacket;
use crate::wire::link::LinkType;
use crate::wire::Finding;

/// A finding as a packet comment: `rmt: <id> <severity> <rule>: <detail>`, what a display
/// filter (`frame.comment contains "rmt:"`) and the Lua post-dissector
/// (`contrib/wireshark/rmtkit.lua`) read; a rule never has a colon, so the first `: ` after
/// the severity ends it.
pub fn finding_comment(f: &Finding) -> String {
    format!(
        "rmt: {} {} {}: {}",
        f.id,
        f.severity.name(),
        f.rule,
        f.detail
    )
}

pub struct PcapNgOut<W: Write> {
    writer: PcapNgWriter<W>,
    interfaces: Vec<LinkType>,
}

fn datalink(l: LinkType) -> DataLink {
    DataLink::from(match l {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::RawIp => 101,
        LinkType::Ipv4 => 228,
        LinkType::Ipv6 => 229,
        LinkType::Unknown(n) => n,
    })
}

impl<W: Write> PcapNgOut<W> {
    pub fn new(out: W) -> std::io::Result<Self> {
        let writer = PcapNgWriter::new(out).map_err(std::io::Error::other)?;
        Ok(PcapNgOut {
            writer,
            interfaces: Vec::new(),
        })
    }

    pub fn write(&mut self, p: &RawPacket<'_>) -> std::io::Result<()> {
        self.write_commented(p, &[])
    }

    /// Writes `p` with one comment option per entry of `comments`.
    pub fn write_commented(
        &mut self,
        p: &RawPacket<'_>,
        comments: &[String],
    ) -> std::io::Result<()> {
        let interface = match self.interfaces.iter().position(|l| *l == p.link_type) {
            Some(i) => i,
            None => {
                let idb = InterfaceDescriptionBlock {
                    linktype: datalink(p.link_type),
                    snaplen: 0,
                    options: vec![],
                };
                self.writer
                    .write_pcapng_block(idb)
                    .map_err(std::io::Error::other)?;
                self.interfaces.push(p.link_type);
                self.interfaces.len() - 1
            }
        };
        let epb = EnhancedPacketBlock {
            interface_id: interface as u32,
            timestamp: p.timestamp,
            original_len: p.orig_len,
            data: Cow::Borrowed(p.data),
            options: comments
                .iter()
                .map(|c| EnhancedPacketOption::Comment(Cow::Borrowed(c)))
                .collect(),
        };
        self.writer
            .write_pcapng_block(epb)
            .map_err(std::io::Error::other)?;
        Ok(())
    }

    pub fn finish(self) -> std::io::Result<W> {
        let mut w = self.writer.into_inner();
        w.flush()?;
        Ok(w)
    }
}

/// Copies a pcapng file from `input` to `output`, adding to its packets the comments of
/// `comments`, keyed by the packet's position among the file's packets (0 for the first):
/// for what is known only after the packets were written (end-of-capture findings).
pub fn add_comments<R: Read, W: Write>(
    input: R,
    output: W,
    comments: &BTreeMap<usize, Vec<String>>,
) -> std::io::Result<W> {
    let mut reader = PcapNgReader::new(input).map_err(std::io::Error::other)?;
    let mut writer = PcapNgWriter::with_section_header(output, reader.section().clone())
        .map_err(std::io::Error::other)?;
    let mut packet = 0usize;
    // Bounded by the input: one block per iteration.
    while let Some(block) = reader.next_block() {
        let mut block = block.map_err(std::io::Error::other)?;
        if let Block::EnhancedPacket(epb) = &mut block {
            for c in comments.get(&packet).into_iter().flatten() {
                epb.options
                    .push(EnhancedPacketOption::Comment(Cow::Owned(c.clone())));
            }
            packet += 1;
        }
        writer.write_block(&block).map_err(std::io::Error::other)?;
    }
    let mut w = writer.into_inner();
    w.flush()?;
    Ok(w)
}

/// Writes frames as a classic pcap file (Ethernet link type, microsecond timestamps), streaming.
pub fn write_pcap(
    path: &std::path::Path,
    frames: impl IntoIterator<Item = (std::time::Duration, Vec<u8>)>,
) -> std::io::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_pcap_to(file, frames)?.flush()
}

/// [`write_pcap`] to any writer (a `Vec<u8>` for a capture held in memory); returns it.
pub fn write_pcap_to<W: Write>(
    out: W,
    frames: impl IntoIterator<Item = (std::time::Duration, Vec<u8>)>,
) -> std::io::Result<W> {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let mut w = PcapWriter::with_header(
        out,
        PcapHeader {
            datalink: DataLink::ETHERNET,
            ..Default::default()
        },
    )
    .map_err(std::io::Error::other)?;
    for (t, f) in frames {
        w.write_packet(&PcapPacket::new(t, f.len() as u32, &f))
            .map_err(std::io::Error::other)?;
    }
    Ok(w.into_writer())
}
