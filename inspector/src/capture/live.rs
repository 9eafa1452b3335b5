//! Live capture (`rmt-inspect -i IFACE`) through a memory-mapped TPACKET_V3 ring
//! ([`super::ring`]; needs root or CAP_NET_RAW), with a kernel capture filter ([`super::bpf`]),
//! pnet for the interface list, and multicast joins (`--join GROUP[,SOURCE]`) made on a
//! UDP socket of the interface: a capture alone does not join a group, and without a join, IGMP
//! or MLD snooping switches do not deliver the traffic.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::ring::{Ring, RingStats, PACKET_OUTGOING};

use crate::capture::reader::RawPacket;
use crate::wire::link::LinkType;

/// A group to join: any-source (ASM), or source-specific (SSM) when a source is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Join {
    pub group: IpAddr,
    pub source: Option<IpAddr>,
}

impl FromStr for Join {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (g, src) = match s.split_once(',') {
            Some((g, src)) => (g, Some(src)),
            None => (s, None),
        };
        let group: IpAddr = g
            .trim()
            .parse()
            .map_err(|_| format!("{g:?} is not an IP address"))?;
        if !group.is_multicast() {
            return Err(format!("{group} is not a multicast group"));
        }
        let source = src
            .map(|s| {
                s.trim()
                    .parse::<IpAddr>()
                    .map_err(|_| format!("{s:?} is not an IP address"))
            })
            .transpose()?;
        if source.is_some_and(|s| s.is_ipv4() != group.is_ipv4()) {
            return Err("the source and the group are not of the same IP version".into());
        }
        Ok(Join { group, source })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("no interface named {0:?} (available: {1})")]
    NoSuchInterface(String, String),
    #[error("cannot capture on {0}: {1} (live capture needs root or CAP_NET_RAW)")]
    Open(String, io::Error),
    #[error("cannot join {0}: {1}")]
    Join(String, io::Error),
    #[error("{0}")]
    Unsupported(String),
    #[error("capture filter {0:?}: {1}")]
    Filter(String, String),
}

/// How the ring is set up: its size and the kernel's capture filter.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// Ring size in MiB (`-B`); 0 means [`DEFAULT_BUFFER_MIB`].
    pub buffer_mib: usize,
    /// A capture filter (`-f`, [`super::bpf`]).
    pub filter: Option<String>,
}

/// The default ring: 64 MiB holds about 45,000 frames of 1,400 bytes, a quarter of a second at
/// the reference sender's top rate here, so a pause of the reader that long loses nothing.
pub const DEFAULT_BUFFER_MIB: usize = 64;

/// What a live capture saw and missed, for the end of the run (dumpcap's "packets captured,
/// dropped").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureStats {
    /// Frames the caller kept (a loopback datagram once): set by the caller, which alone knows
    /// what it kept (`rmt-inspect` counts what it processed).
    pub captured: u64,
    /// Frames the capturing program dropped itself, its processing behind (`rmt-inspect`'s
    /// queue after the ring; 0 for [`record`]).
    pub queue_dropped: u64,
    /// The kernel's counters: frames put in the ring, and dropped because it was full.
    pub kernel: RingStats,
    /// Outgoing copies left out on a loopback interface, where every datagram is seen twice
    /// (libpcap does the same).
    pub loopback_duplicates: u64,
    /// Outgoing frames on other interfaces, shown once as Linux cooked v2 with packet type 4
    /// ("Sent by us").
    pub outgoing: u64,
}

pub struct LiveCapture {
    ring: Ring,
    /// Kept open: closing them would leave the groups.
    _joins: Vec<Socket>,
    pub interface: String,
    loopback: bool,
    ifindex: u32,
    link_type: LinkType,
    /// An outgoing frame rewritten with a cooked header.
    scratch: Vec<u8>,
    stats: CaptureStats,
}

impl LiveCapture {
    pub fn open(name: &str, joins: &[Join], options: &LiveOptions) -> Result<Self, LiveError> {
        let all = pnet_datalink::interfaces();
        let Some(iface) = all.iter().find(|i| i.name == name).cloned() else {
            let names: Vec<String> = all.iter().map(|i| i.name.clone()).collect();
            return Err(LiveError::NoSuchInterface(
                name.to_string(),
                names.join(", "),
            ));
        };
        // Ethernet-like (Ethernet, veth, bridges, and `lo` with its zeroed MAC header), or a
        // layer-3 device (tun, WireGuard) whose frames start with the IP header.
        let link_type =
            if iface.is_loopback() || (iface.mac.is_some() && !iface.is_point_to_point()) {
                LinkType::Ethernet
            } else {
                LinkType::RawIp
            };
        if link_type != LinkType::Ethernet && options.filter.is_some() {
            return Err(LiveError::Filter(
                options.filter.clone().unwrap_or_default(),
                format!(
                    "{name} carries IP without a link header; capture filters read Ethernet frames"
                ),
            ));
        }
        let filter = options
            .filter
            .as_deref()
            .map(super::bpf::compile)
            .transpose()
            .map_err(|e| LiveError::Filter(options.filter.clone().unwrap_or_default(), e))?;
        let mib = if options.buffer_mib == 0 {
            DEFAULT_BUFFER_MIB
        } else {
            options.buffer_mib
        };
        let blocks = (mib << 20) / super::ring::BLOCK_SIZE;
        let ring = Ring::open(iface.index, blocks, filter.as_deref())
            .map_err(|e| LiveError::Open(name.to_string(), e))?;
        let v4 = iface.ips.iter().find_map(|n| match n.ip() {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        });
        let mut sockets = Vec::new();
        for j in joins {
            let what = match j.source {
                Some(s) => format!("{} from {s}", j.group),
                None => j.group.to_string(),
            };
            let socket = Socket::new(
                Domain::for_address(std::net::SocketAddr::new(j.group, 0)),
                Type::DGRAM,
                Some(Protocol::UDP),
            )
            .map_err(|e| LiveError::Join(what.clone(), e))?;
            let joined = match (j.group, j.source) {
                (IpAddr::V4(g), None) => {
                    socket.join_multicast_v4(&g, &v4.unwrap_or(Ipv4Addr::UNSPECIFIED))
                }
                (IpAddr::V4(g), Some(IpAddr::V4(s))) => {
                    socket.join_ssm_v4(&s, &g, &v4.unwrap_or(Ipv4Addr::UNSPECIFIED))
                }
                (IpAddr::V6(g), None) => socket.join_multicast_v6(&g, iface.index),
                (IpAddr::V6(g), Some(IpAddr::V6(s))) => join_ssm_v6(&socket, g, s, iface.index),
                _ => {
                    return Err(LiveError::Unsupported(format!(
                        "{what}: the source and the group are not of the same IP version"
                    )))
                }
            };
            joined.map_err(|e| LiveError::Join(what, e))?;
            sockets.push(socket);
        }
        Ok(LiveCapture {
            ring,
            _joins: sockets,
            interface: name.to_string(),
            loopback: iface.is_loopback(),
            ifindex: iface.index,
            link_type,
            scratch: Vec::new(),
            stats: CaptureStats::default(),
        })
    }

    /// The next frame as packet number `frame` of the capture, stamped with the kernel's
    /// receive time, or `None` when nothing arrived within 200 ms. On a loopback interface the
    /// outgoing copy of each datagram is left out; elsewhere an outgoing frame is handed on as
    /// Linux cooked v2 with packet type 4, so that it reads as sent by this host.
    pub fn next_packet(&mut self, frame: u64) -> io::Result<Option<RawPacket<'_>>> {
        let Some(f) = self
            .ring
            .next_frame(Duration::from_millis(200), self.loopback)?
        else {
            return Ok(None);
        };
        if f.packet_type != PACKET_OUTGOING || self.link_type != LinkType::Ethernet {
            return Ok(Some(RawPacket {
                frame,
                link_type: self.link_type,
                timestamp: f.timestamp,
                data: f.data,
                orig_len: f.len,
            }));
        }
        self.stats.outgoing += 1;
        // Linux cooked v2 (LINKTYPE_LINUX_SLL2): protocol, reserved, ifindex, ARPHRD_ETHER,
        // packet type, address length, address (8), then the frame after its Ethernet header.
        let (eth, rest) = f.data.split_at(f.data.len().min(14));
        let protocol = eth.get(12..14).unwrap_or(&[0, 0]);
        self.scratch.clear();
        self.scratch.extend_from_slice(protocol);
        self.scratch.extend_from_slice(&[0, 0]);
        self.scratch.extend_from_slice(&self.ifindex.to_be_bytes());
        self.scratch.extend_from_slice(&1u16.to_be_bytes());
        self.scratch.push(PACKET_OUTGOING);
        self.scratch.push(6);
        self.scratch
            .extend_from_slice(eth.get(6..12).unwrap_or(&[0; 6]));
        self.scratch.extend_from_slice(&[0, 0]);
        self.scratch.extend_from_slice(rest);
        Ok(Some(RawPacket {
            frame,
            link_type: LinkType::LinuxSll2,
            timestamp: f.timestamp,
            data: &self.scratch,
            orig_len: f.len + 20 - 14,
        }))
    }

    /// What was captured, left out and dropped so far (reads the kernel's counters).
    pub fn stats(&mut self) -> io::Result<CaptureStats> {
        self.stats.kernel = self.ring.stats()?;
        self.stats.loopback_duplicates = self.ring.skipped_outgoing();
        Ok(self.stats)
    }
}

/// Records `duration` of what `iface` carries (after the `joins`) as a pcapng file in memory:
/// what `rmt-inspect -i IFACE --duration S -q -w FILE` writes, for callers that judge the
/// capture themselves (`rmt-conform sender --iface`, `--exec`). `ready` runs once the capture
/// is open, so that a sender started from it loses no packet.
pub fn record(
    iface: &str,
    joins: &[Join],
    duration: Duration,
    ready: impl FnOnce(),
) -> Result<Vec<u8>, LiveError> {
    use crate::capture::writer::PcapNgOut;
    let mut cap = LiveCapture::open(iface, joins, &LiveOptions::default())?;
    let failed = |e: io::Error| LiveError::Open(iface.to_string(), e);
    let mut out = PcapNgOut::new(Vec::new()).map_err(failed)?;
    ready();
    let start = std::time::Instant::now();
    let mut frame = 0u64;
    // Bounded by the deadline: next_frame returns within its 200 ms read timeout.
    while start.elapsed() < duration {
        let Some(packet) = cap.next_packet(frame + 1).map_err(failed)? else {
            continue;
        };
        frame += 1;
        out.write(&packet).map_err(failed)?;
    }
    out.finish().map_err(failed)
}

/// A source-specific join for IPv6 (MCAST_JOIN_SOURCE_GROUP, RFC 3678 §5.1), which socket2
/// offers for IPv4 only. `ifindex` 0 lets the kernel choose the interface.
pub fn join_ssm_v6(
    s: &Socket,
    group: std::net::Ipv6Addr,
    source: std::net::Ipv6Addr,
    ifindex: u32,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: zeroed is a valid group_source_req; the sockaddr_in6 values are written in place.
    let mut req: libc::group_source_req = unsafe { std::mem::zeroed() };
    req.gsr_interface = ifindex;
    let put = |ss: &mut libc::sockaddr_storage, a: std::net::Ipv6Addr| {
        let sa = socket2::SockAddr::from(std::net::SocketAddr::new(IpAddr::V6(a), 0));
        // SAFETY: a sockaddr_in6 fits in sockaddr_storage; `sa.len()` bytes are initialised.
        unsafe {
            std::ptr::copy_nonoverlapping(
                sa.as_ptr() as *const u8,
                ss as *mut libc::sockaddr_storage as *mut u8,
                sa.len() as usize,
            )
        };
    };
    put(&mut req.gsr_group, group);
    put(&mut req.gsr_source, source);
    // SAFETY: valid fd, pointer and size of a group_source_req.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::MCAST_JOIN_SOURCE_GROUP,
            &req as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::group_source_req>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_syntax() {
        assert_eq!(
            "233.252.0.1".parse::<Join>().unwrap(),
            Join {
                group: "233.252.0.1".parse().unwrap(),
                source: None
            }
        );
        assert_eq!(
            "233.252.0.1,10.0.0.1".parse::<Join>().unwrap().source,
            Some("10.0.0.1".parse().unwrap())
        );
        assert!("10.0.0.1".parse::<Join>().is_err(), "not multicast");
        assert!("233.252.0.1,::1".parse::<Join>().is_err(), "mixed versions");
        assert!("ff0e::1".parse::<Join>().is_ok());
    }
}
