//! The capture driver: a pcap or pcapng file read as if it were the network, each packet's
//! capture timestamp as the receiver's clock (so FDT expiry is judged as when it was recorded);
//! and the sender's datagrams written to a pcap on a virtual clock.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

#[cfg(feature = "drivers")]
use rmt_inspector::capture::reader::{Packets, ReadError, Source};
use rmt_inspector::wire::frame::Frame;

#[cfg(feature = "drivers")]
use crate::receiver::{Event, Receiver};
use crate::sender::Sender;
use crate::time::Now;

/// Which UDP datagrams of a capture belong to the session.
#[derive(Debug, Clone, Default)]
pub struct FlowFilter {
    /// Destination ports (`-d udp.port==P`); empty: any.
    pub ports: Vec<u16>,
    /// Destination address (the channel's group); `None`: any.
    pub destination: Option<IpAddr>,
}

#[cfg(feature = "drivers")]
impl FlowFilter {
    fn accepts(&self, dst: IpAddr, src_port: u16, dst_port: u16) -> bool {
        (self.ports.is_empty() || self.ports.contains(&dst_port) || self.ports.contains(&src_port))
            && self.destination.is_none_or(|d| d == dst)
    }
}

#[derive(Debug, Default)]
pub struct CaptureReport {
    pub frames: u64,
    pub datagrams: u64,
    /// The capture ended early (truncated or corrupt), with the reason.
    pub damaged: Option<String>,
    pub last_time: Now,
}

/// Feeds every matching datagram of `path` to `receiver`; `on_event` sees each event as it
/// happens. The receiver is closed at the end of the capture.
#[cfg(feature = "drivers")]
pub fn receive_capture(
    path: &Path,
    filter: &FlowFilter,
    receiver: &mut Receiver,
    mut on_event: impl FnMut(Event),
) -> Result<CaptureReport, ReadError> {
    let source = Source::open(path)?;
    let mut report = CaptureReport::default();
    for item in Packets::new(source.bytes())? {
        let p = match item {
            Ok(p) => p,
            Err(e) => {
                report.damaged = Some(e.to_string());
                break;
            }
        };
        report.frames += 1;
        report.last_time = p.timestamp;
        let Ok(frame) = Frame::parse(p.link_type, p.data) else {
            continue;
        };
        let frame = frame.value;
        let (Some(ip), Some(udp), Some(payload)) =
            (&frame.ip, frame.udp, frame.udp_payload(p.data))
        else {
            continue;
        };
        if !filter.accepts(ip.dst(), udp.src_port, udp.dst_port) {
            continue;
        }
        report.datagrams += 1;
        receiver.handle(p.timestamp, ip.src(), payload);
        while let Some(e) = receiver.poll_event() {
            on_event(e);
        }
    }
    receiver.close("end of the capture before the object was complete");
    while let Some(e) = receiver.poll_event() {
        on_event(e);
    }
    Ok(report)
}

/// Runs `sender` on a virtual clock from `start` and writes every datagram to a pcap file as
/// Ethernet/IPv4/UDP frames from `source_port`, streaming. Returns the number of datagrams.
pub fn send_to_capture(
    sender: &mut Sender,
    path: &Path,
    start: Now,
    source_port: u16,
    max_datagrams: u64,
) -> std::io::Result<u64> {
    let mut now = start;
    let mut count = 0u64;
    let mut not_v4 = false;
    let frames = std::iter::from_fn(|| {
        let mut stalls = 0;
        while count < max_datagrams && stalls < 1000 {
            let due = sender.poll_timeout()?;
            now = now.max(due);
            let Some(t) = sender.poll_transmit(now) else {
                stalls += 1;
                continue;
            };
            let (IpAddr::V4(src), SocketAddr::V4(dst)) = (t.source, t.destination) else {
                not_v4 = true;
                return None;
            };
            count += 1;
            let frame = Frame::ipv4_udp(
                (src, source_port),
                (*dst.ip(), dst.port()),
                &t.payload,
                false,
            );
            return Some((t.at, frame));
        }
        None
    });
    rmt_inspector::capture::writer::write_pcap(path, frames)?;
    if not_v4 {
        return Err(std::io::Error::other("capture output is IPv4 only"));
    }
    Ok(count)
}

/// Datagrams as Ethernet/IPv4/UDP frames from `source_port` (IPv4 ones only: others are left
/// out), with their send times.
fn transmit_frames(
    transmits: &[crate::sender::Transmit],
    source_port: u16,
) -> impl Iterator<Item = (Duration, Vec<u8>)> + '_ {
    transmits
        .iter()
        .filter_map(move |t| match (t.source, t.destination) {
            (IpAddr::V4(s), SocketAddr::V4(d)) => Some((
                t.at,
                Frame::ipv4_udp(
                    (s, source_port),
                    (*d.ip(), d.port().max(1)),
                    &t.payload,
                    false,
                ),
            )),
            _ => None,
        })
}

/// Writes datagrams to a pcap file (see [`transmits_pcap`]).
pub fn write_transmits(
    path: &Path,
    transmits: &[crate::sender::Transmit],
    source_port: u16,
) -> std::io::Result<()> {
    rmt_inspector::capture::writer::write_pcap(path, transmit_frames(transmits, source_port))
}

/// Datagrams as a classic pcap capture held in memory: Ethernet/IPv4/UDP frames from
/// `source_port` (IPv4 ones only).
pub fn transmits_pcap(transmits: &[crate::sender::Transmit], source_port: u16) -> Vec<u8> {
    rmt_inspector::capture::writer::write_pcap_to(
        Vec::new(),
        transmit_frames(transmits, source_port),
    )
    .expect("writing to a Vec")
}

/// A fixed start time for virtual-clock runs (2027-01-15), so captures reproduce.
pub const VIRTUAL_START: Duration = Duration::from_secs(1_800_000_000);
