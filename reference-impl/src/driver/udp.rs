//! The UDP driver: sockets (socket2) for unicast and multicast, ASM and SSM joins for IPv4 and
//! IPv6, TTL and interface choice, and batched I/O with sendmmsg/recvmmsg on Linux. It only
//! moves datagrams: all protocol logic is in the sans-IO sender and receiver.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::receiver::{Event, Receiver};
use crate::sender::{Sender, Transmit};
use crate::time::{wall_clock, Now};

/// Datagrams per sendmmsg/recvmmsg call.
const BATCH: usize = 64;
/// Largest datagram received (UDP over IPv4 carries at most 65,507 bytes).
const MAX_DATAGRAM: usize = 65_536;

#[derive(Debug, Clone, Default)]
pub struct SocketOptions {
    /// Multicast TTL / hop limit.
    pub ttl: Option<u32>,
    /// Outgoing or joining interface: an IPv4 address of the interface, or for IPv6 its index.
    pub interface_v4: Option<Ipv4Addr>,
    pub interface_v6: Option<u32>,
    /// Local address to send from (the session's source address).
    pub bind: Option<IpAddr>,
    /// Receive buffer size to ask the kernel for.
    pub recv_buffer: Option<usize>,
}

fn domain(a: &SocketAddr) -> Domain {
    if a.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    }
}

/// A socket to send to `destination`.
pub fn sender_socket(destination: SocketAddr, o: &SocketOptions) -> io::Result<Socket> {
    let s = Socket::new(domain(&destination), Type::DGRAM, Some(Protocol::UDP))?;
    if let Some(b) = o.bind {
        s.bind(&SocketAddr::new(b, 0).into())?;
    }
    match destination.ip() {
        IpAddr::V4(g) if g.is_multicast() => {
            s.set_multicast_ttl_v4(o.ttl.unwrap_or(1))?;
            s.set_multicast_loop_v4(true)?;
            if let Some(i) = o.interface_v4 {
                s.set_multicast_if_v4(&i)?;
            }
        }
        IpAddr::V6(g) if g.is_multicast() => {
            s.set_multicast_hops_v6(o.ttl.unwrap_or(1))?;
            s.set_multicast_loop_v6(true)?;
            if let Some(i) = o.interface_v6 {
                s.set_multicast_if_v6(i)?;
            }
        }
        _ => {
            if let Some(t) = o.ttl {
                s.set_ttl(t)?;
            }
        }
    }
    s.set_send_buffer_size(4 << 20).ok();
    Ok(s)
}

/// A socket receiving the channel `group` (port included), joined as ASM, or as SSM when
/// `source` is given (RFC 4607), so that IGMP/MLD snooping delivers the traffic.
pub fn receiver_socket(
    group: SocketAddr,
    source: Option<IpAddr>,
    o: &SocketOptions,
) -> io::Result<Socket> {
    let s = Socket::new(domain(&group), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_recv_buffer_size(o.recv_buffer.unwrap_or(8 << 20))
        .ok();
    let any: SocketAddr = match group {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, group.port()).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, group.port()).into(),
    };
    // Binding to the group address filters other groups on the same port.
    let bind = if group.ip().is_multicast() {
        group
    } else {
        any
    };
    s.bind(&bind.into()).or_else(|_| s.bind(&any.into()))?;
    match (group.ip(), source) {
        (IpAddr::V4(g), None) if g.is_multicast() => {
            s.join_multicast_v4(&g, &o.interface_v4.unwrap_or(Ipv4Addr::UNSPECIFIED))?
        }
        (IpAddr::V4(g), Some(IpAddr::V4(src))) if g.is_multicast() => {
            s.join_ssm_v4(&src, &g, &o.interface_v4.unwrap_or(Ipv4Addr::UNSPECIFIED))?
        }
        (IpAddr::V6(g), None) if g.is_multicast() => {
            s.join_multicast_v6(&g, o.interface_v6.unwrap_or(0))?
        }
        (IpAddr::V6(g), Some(IpAddr::V6(src))) if g.is_multicast() => {
            join_ssm_v6(&s, g, src, o.interface_v6.unwrap_or(0))?
        }
        (g, Some(src)) if g.is_multicast() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("source {src} and group {g} are not the same IP version"),
            ))
        }
        _ => {}
    }
    Ok(s)
}

/// MCAST_JOIN_SOURCE_GROUP (RFC 3678 §5.1), which socket2 offers for IPv4 only.
fn join_ssm_v6(s: &Socket, group: Ipv6Addr, source: Ipv6Addr, ifindex: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: zeroed is a valid group_source_req; the sockaddr_in6 values are written in place.
    let mut req: libc::group_source_req = unsafe { std::mem::zeroed() };
    req.gsr_interface = ifindex;
    let put = |ss: &mut libc::sockaddr_storage, a: Ipv6Addr| {
        let sa = SockAddr::from(SocketAddr::new(IpAddr::V6(a), 0));
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

/// Sends a batch of datagrams with one sendmmsg call; returns how many were sent.
fn send_batch(s: &Socket, batch: &[Transmit]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let addrs: Vec<SockAddr> = batch.iter().map(|t| t.destination.into()).collect();
    let mut iov: Vec<libc::iovec> = batch
        .iter()
        .map(|t| libc::iovec {
            iov_base: t.payload.as_ptr() as *mut libc::c_void,
            iov_len: t.payload.len(),
        })
        .collect();
    // SAFETY: zeroed mmsghdr is valid; every pointer set below outlives the call.
    let mut msgs: Vec<libc::mmsghdr> = (0..batch.len())
        .map(|_| unsafe { std::mem::zeroed() })
        .collect();
    for (i, m) in msgs.iter_mut().enumerate() {
        m.msg_hdr.msg_name = addrs[i].as_ptr() as *mut libc::c_void;
        m.msg_hdr.msg_namelen = addrs[i].len();
        m.msg_hdr.msg_iov = &mut iov[i];
        m.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: msgs holds batch.len() initialised headers.
    let n = unsafe { libc::sendmmsg(s.as_raw_fd(), msgs.as_mut_ptr(), msgs.len() as u32, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[derive(Debug, Default, Clone)]
pub struct SendReport {
    pub datagrams: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Runs `sender` on the wall clock until it is finished or `limit` passes, pacing with sleeps
/// and sending what is due in batches.
pub fn run_sender(
    sender: &mut Sender,
    socket: &Socket,
    limit: Option<Duration>,
    mut progress: impl FnMut(&SendReport),
) -> io::Result<SendReport> {
    let start = wall_clock();
    let mut report = SendReport::default();
    let mut batch: Vec<Transmit> = Vec::with_capacity(BATCH);
    loop {
        let now = wall_clock();
        report.elapsed = now.saturating_sub(start);
        if limit.is_some_and(|l| report.elapsed > l) {
            break;
        }
        while batch.len() < BATCH {
            match sender.poll_transmit(now) {
                Some(t) => batch.push(t),
                None => break,
            }
        }
        if !batch.is_empty() {
            let mut sent = 0;
            while sent < batch.len() {
                match send_batch(socket, &batch[sent..]) {
                    Ok(n) => sent += n.max(1),
                    Err(e)
                        if e.kind() == io::ErrorKind::WouldBlock
                            || e.raw_os_error() == Some(libc::ENOBUFS) =>
                    {
                        std::thread::sleep(Duration::from_micros(50))
                    }
                    Err(e) => return Err(e),
                }
            }
            report.datagrams += batch.len() as u64;
            report.bytes += batch.iter().map(|t| t.payload.len() as u64).sum::<u64>();
            batch.clear();
            if report.datagrams % (BATCH as u64 * 64) == 0 {
                progress(&report);
            }
            continue;
        }
        match sender.poll_timeout() {
            None => break,
            Some(due) if due > now => {
                std::thread::sleep((due - now).min(Duration::from_millis(50)))
            }
            Some(_) => {}
        }
    }
    progress(&report);
    Ok(report)
}

#[derive(Debug, Default, Clone)]
pub struct ReceiveReport {
    pub datagrams: u64,
    pub bytes: u64,
    /// Why the loop ended.
    pub ended_by: String,
}

/// Receives into `receiver` until the session is complete or closed, `limit` passes, or
/// nothing arrives for `idle` (then says so: IGMP snooping or a wrong group/port are the usual
/// reasons). `on_event` sees every event as it happens.
pub fn run_receiver(
    receiver: &mut Receiver,
    socket: &Socket,
    limit: Option<Duration>,
    idle: Duration,
    mut on_event: impl FnMut(Event),
) -> io::Result<ReceiveReport> {
    use std::os::fd::AsRawFd;
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let start = wall_clock();
    let mut last_rx: Now = start;
    let mut report = ReceiveReport::default();
    let mut bufs: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; MAX_DATAGRAM]).collect();
    // SAFETY: zeroed sockaddr_storage is valid.
    let mut names: Vec<libc::sockaddr_storage> =
        (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
    let mut iov: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        })
        .collect();
    // SAFETY: zeroed mmsghdr is valid.
    let mut msgs: Vec<libc::mmsghdr> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
    let mut complete = false;
    loop {
        let now = wall_clock();
        if limit.is_some_and(|l| now.saturating_sub(start) > l) {
            report.ended_by = "time limit".into();
            break;
        }
        if now.saturating_sub(last_rx) > idle {
            report.ended_by = if report.datagrams == 0 {
                format!("nothing arrived in {} s: check the group, port and source, and that the network forwards the joined group (IGMP/MLD snooping)", idle.as_secs())
            } else {
                format!("nothing arrived for {} s", idle.as_secs())
            };
            break;
        }
        for (i, m) in msgs.iter_mut().enumerate() {
            m.msg_hdr.msg_name = &mut names[i] as *mut _ as *mut libc::c_void;
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
            m.msg_hdr.msg_iov = &mut iov[i];
            m.msg_hdr.msg_iovlen = 1;
            m.msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the sizes given.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        }
        let now = wall_clock();
        last_rx = now;
        for i in 0..n as usize {
            let len = msgs[i].msg_len as usize;
            // SAFETY: the kernel wrote a sockaddr of msg_namelen bytes.
            let from = unsafe { SockAddr::new(names[i], msgs[i].msg_hdr.msg_namelen) };
            let Some(src) = from.as_socket() else {
                continue;
            };
            report.datagrams += 1;
            report.bytes += len as u64;
            receiver.handle(now, src.ip(), &bufs[i][..len]);
            while let Some(e) = receiver.poll_event() {
                complete |= matches!(e, Event::SessionComplete);
                on_event(e);
            }
        }
        if complete || receiver.is_closed() {
            report.ended_by = if complete {
                "session complete".into()
            } else {
                "close-session".into()
            };
            break;
        }
    }
    receiver.close("the receiver stopped before the object was complete");
    while let Some(e) = receiver.poll_event() {
        on_event(e);
    }
    Ok(report)
}
