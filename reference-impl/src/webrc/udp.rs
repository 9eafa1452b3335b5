//! WEBRC over UDP multicast: the thin drivers around the sans-IO schedule and receiver. The
//! sender sends each scheduled packet at its time to its channel's group (one group per
//! channel, consecutive from the base address: CN 0..T-1 are the waves, T the base channel).
//! The receiver turns [`Action`]s into IGMP joins and leaves on one socket bound to the port,
//! and logs every action and a per-second reception count as JSON lines.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use rmt_inspector::wire::alc::{AlcContext, AlcPacket};

use super::packet::{alc_datagram, channel_group};
use super::receiver::{Action, ReceiverParams, WebrcReceiver};
use super::schedule::{Schedule, WebrcParams};

/// Sends the schedule of `params` for `duration` to the channels' groups from `base`; returns
/// the packets sent. `source`: the interface address to send from (multicast interface).
pub fn run_sender(
    params: WebrcParams,
    base: SocketAddrV4,
    source: Option<Ipv4Addr>,
    duration: Duration,
    tsi: u32,
) -> io::Result<u64> {
    let mut schedule =
        Schedule::new(params).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_multicast_ttl_v4(1)?;
    socket.set_multicast_loop_v4(true)?;
    if let Some(s) = source {
        socket.set_multicast_if_v4(&s)?;
    }
    let start = Instant::now();
    let payload = vec![0x5Au8; 1024];
    let mut sent = 0u64;
    // Bounded: schedule times grow and the loop stops at `duration`.
    loop {
        let p = schedule.next();
        if p.at > duration {
            return Ok(sent);
        }
        if let Some(wait) = p.at.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let datagram = alc_datagram(&p.cci, tsi, 1, (sent >> 16) as u16, sent as u16, &payload)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        let to = SocketAddrV4::new(channel_group(*base.ip(), p.cci.cn), base.port());
        socket.send_to(&datagram, &SocketAddr::V4(to).into())?;
        sent += 1;
    }
}

/// What a receiver run saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiverSummary {
    pub packets: u64,
    pub joins: u64,
    pub leaves: u64,
    /// Packets received in each second of the run.
    pub per_second: Vec<u64>,
    pub left_session: bool,
}

/// Runs a WEBRC receiver for `duration` on the channels from `base`, joining and leaving their
/// groups on `interface` as the receiver decides; writes one JSON line per action
/// (`{"t":..,"action":"join"|"leave"|"leave_session","cn":..,"ctsi":..,"nwc":..}`) and one per
/// second (`{"t":..,"packets":..}`) to `log`.
pub fn run_receiver(
    params: ReceiverParams,
    base: SocketAddrV4,
    interface: Ipv4Addr,
    duration: Duration,
    log: &mut impl Write,
) -> io::Result<ReceiverSummary> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, base.port())).into())?;
    let udp: std::net::UdpSocket = socket.into();
    let start = Instant::now();
    let mut rx = WebrcReceiver::new(params, Duration::ZERO);
    let mut summary = ReceiverSummary::default();
    let mut buf = vec![0u8; 65_536];
    let ctx = AlcContext {
        webrc: true,
        ..AlcContext::default()
    };
    let apply = |rx: &mut WebrcReceiver,
                 at: Duration,
                 summary: &mut ReceiverSummary,
                 log: &mut dyn Write|
     -> io::Result<()> {
        while let Some(a) = rx.poll_action() {
            let (kind, cn) = match a {
                Action::Join(cn) => {
                    udp.join_multicast_v4(&channel_group(*base.ip(), cn as u16), &interface)?;
                    summary.joins += 1;
                    ("join", Some(cn))
                }
                Action::Leave(cn) => {
                    udp.leave_multicast_v4(&channel_group(*base.ip(), cn as u16), &interface)?;
                    summary.leaves += 1;
                    ("leave", Some(cn))
                }
                Action::LeaveSession(_) => {
                    summary.left_session = true;
                    ("leave_session", None)
                }
            };
            writeln!(
                log,
                "{}",
                serde_json::json!({
                    "t": at.as_secs_f64(),
                    "action": kind,
                    "cn": cn,
                    "ctsi": rx.ctsi(),
                    "nwc": rx.nwc(),
                })
            )?;
        }
        Ok(())
    };
    apply(&mut rx, Duration::ZERO, &mut summary, &mut *log)?;
    // Bounded by `duration`: every wait is capped by the time left.
    loop {
        let now = start.elapsed();
        if now >= duration || rx.has_left() {
            break;
        }
        if let Some(t) = rx.poll_timeout().filter(|t| *t <= now) {
            rx.handle_timeout(t);
            apply(&mut rx, t, &mut summary, &mut *log)?;
            continue;
        }
        let until = rx.poll_timeout().unwrap_or(duration).min(duration);
        let wait = until.saturating_sub(now).max(Duration::from_millis(1));
        udp.set_read_timeout(Some(wait))?;
        let n = match udp.recv_from(&mut buf) {
            Ok((n, _)) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        let at = start.elapsed();
        let Some(cci) = AlcPacket::parse(&buf[..n], ctx)
            .ok()
            .and_then(|a| a.value.webrc)
        else {
            continue;
        };
        let second = at.as_secs() as usize;
        if summary.per_second.len() <= second {
            summary.per_second.resize(second + 1, 0);
        }
        summary.per_second[second] += 1;
        summary.packets += 1;
        rx.handle_packet(at, cci);
        apply(&mut rx, at, &mut summary, &mut *log)?;
    }
    for (t, n) in summary.per_second.iter().enumerate() {
        writeln!(log, "{}", serde_json::json!({"t": t, "packets": n}))?;
    }
    Ok(summary)
}
