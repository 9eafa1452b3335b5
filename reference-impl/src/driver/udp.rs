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
/// linux/udp.h: segmentation offload on send, and its receive counterpart (Linux 4.18, 5.0).
const UDP_SEGMENT: libc::c_int = 103;
const UDP_GRO: libc::c_int = 104;
/// At most this many bytes and segments in one GSO send (the kernel's limits are 64 KiB and
/// UDP_MAX_SEGMENTS = 64).
const GSO_MAX_BYTES: usize = 65_000;
const GSO_MAX_SEGMENTS: usize = 64;

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
    set_recv_buffer(&s, o.recv_buffer.unwrap_or(64 << 20));
    enable_gro(&s);
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
            rmt_inspector::capture::live::join_ssm_v6(&s, g, src, o.interface_v6.unwrap_or(0))?
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

/// UDP GRO: the kernel may hand over several datagrams of one size in one read, with their
/// size in a control message (split again in [`run_receiver`]). Best effort.
fn enable_gro(s: &Socket) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: valid fd, pointer to an int and its size.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_UDP,
            UDP_GRO,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

/// The GRO segment size of a received message, from its control data.
fn gro_segment_size(m: &libc::msghdr) -> Option<usize> {
    // SAFETY: the kernel filled msg_control with msg_controllen bytes of cmsgs; the CMSG_*
    // accessors stay within them.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                return usize::try_from(v).ok().filter(|v| *v > 0);
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    None
}

/// A large receive buffer absorbs bursts at Gbit/s rates. SO_RCVBUF is capped by
/// net.core.rmem_max; as root, SO_RCVBUFFORCE is not.
pub(crate) fn set_recv_buffer(s: &Socket, bytes: usize) {
    use std::os::fd::AsRawFd;
    let v = bytes.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: valid fd, pointer to an int and its size.
    let forced = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &v as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    } == 0;
    if !forced {
        s.set_recv_buffer_size(bytes).ok();
    }
}

/// One iovec per datagram's payload, for sendmmsg and GSO; they borrow the payloads, which
/// outlive the send.
fn iovecs(datagrams: &[Transmit]) -> Vec<libc::iovec> {
    datagrams
        .iter()
        .map(|t| libc::iovec {
            iov_base: t.payload.as_ptr() as *mut libc::c_void,
            iov_len: t.payload.len(),
        })
        .collect()
}

/// Sends a batch of datagrams with one sendmmsg call; returns how many were sent.
fn send_batch(s: &Socket, batch: &[Transmit]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let addrs: Vec<SockAddr> = batch.iter().map(|t| t.destination.into()).collect();
    let mut iov = iovecs(batch);
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
    loop {
        // SAFETY: msgs holds batch.len() initialised headers.
        let n = unsafe { libc::sendmmsg(s.as_raw_fd(), msgs.as_mut_ptr(), msgs.len() as u32, 0) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS) {
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        return Err(e);
    }
}

/// Sends consecutive datagrams of one size to one destination as one UDP GSO send
/// (UDP_SEGMENT): the kernel cuts them into datagrams, which saves most of the per-packet cost
/// of the stack. Other datagrams go through sendmmsg. GSO is dropped after the first refusal.
#[derive(Debug)]
pub struct BatchSender {
    pub gso: bool,
}

impl Default for BatchSender {
    fn default() -> Self {
        BatchSender { gso: true }
    }
}

impl BatchSender {
    /// Sends every datagram of `batch`, in order.
    pub fn send(&mut self, s: &Socket, batch: &[Transmit]) -> io::Result<()> {
        let mut i = 0;
        while i < batch.len() {
            let run = if self.gso { gso_run(&batch[i..]) } else { 1 };
            if run > 1 {
                match send_gso(s, &batch[i..i + run]) {
                    Ok(()) => {
                        i += run;
                        continue;
                    }
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT)
                        ) =>
                    {
                        self.gso = false;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            // Up to the next GSO run, through sendmmsg.
            let mut j = i + 1;
            while j < batch.len() && (!self.gso || gso_run(&batch[j..]) < 2) {
                j += 1;
            }
            let mut sent = i;
            while sent < j {
                sent += send_batch(s, &batch[sent..j])?.max(1);
            }
            i = j;
        }
        Ok(())
    }
}

/// How many datagrams from the start of `batch` can go in one GSO send: same destination, the
/// same length, except that the last may be shorter.
fn gso_run(batch: &[Transmit]) -> usize {
    let Some(first) = batch.first() else { return 0 };
    let size = first.payload.len();
    let mut n = 1;
    let mut bytes = size;
    while n < batch.len() && n < GSO_MAX_SEGMENTS {
        let t = &batch[n];
        if t.destination != first.destination
            || t.payload.len() > size
            || bytes + t.payload.len() > GSO_MAX_BYTES
        {
            break;
        }
        bytes += t.payload.len();
        n += 1;
        if t.payload.len() < size {
            break;
        }
    }
    n
}

fn send_gso(s: &Socket, run: &[Transmit]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let addr: SockAddr = run[0].destination.into();
    let mut iov = iovecs(run);
    let seg = run[0].payload.len() as u16;
    // SAFETY: CMSG_SPACE of a u16 is a small constant.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: zeroed msghdr is valid; all pointers outlive the call; the control buffer holds
    // exactly one cmsg of a u16, written through the CMSG_* accessors.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = addr.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = addr.len();
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_UDP;
        (*c).cmsg_type = UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut u16, seg);
        loop {
            let n = libc::sendmsg(s.as_raw_fd(), &msg, 0);
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS) {
                std::thread::sleep(Duration::from_micros(50));
                continue;
            }
            return Err(e);
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct SendReport {
    pub datagrams: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Runs `sender` on the wall clock until it is finished or `limit` passes, pacing with sleeps
/// and sending what is due in batches (with UDP GSO when `gso`: a capture taken on the sending
/// host, before segmentation, then shows super-datagrams holding several ALC packets).
pub fn run_sender(
    sender: &mut Sender,
    socket: &Socket,
    limit: Option<Duration>,
    gso: bool,
    mut progress: impl FnMut(&SendReport),
) -> io::Result<SendReport> {
    let start = wall_clock();
    let mut report = SendReport::default();
    let mut batch: Vec<Transmit> = Vec::with_capacity(BATCH);
    let mut batch_sender = BatchSender { gso };
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
            batch_sender.send(socket, &batch)?;
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
    /// Wall-clock times of the first and last datagram.
    pub first: Option<Now>,
    pub last: Option<Now>,
    /// Why the loop ended.
    pub ended_by: String,
}

/// Receives into `receiver` until the session is complete or closed, `limit` passes, or
/// nothing arrives for `idle` (then says so: IGMP snooping or a wrong group/port are the usual
/// reasons). `on_event` sees every event as it happens; `progress` is called every 250 ms.
pub fn run_receiver(
    receiver: &mut Receiver,
    socket: &Socket,
    limit: Option<Duration>,
    idle: Duration,
    mut on_event: impl FnMut(Event),
    mut progress: impl FnMut(&ReceiveReport, &Receiver),
) -> io::Result<ReceiveReport> {
    let mut last_progress = wall_clock();
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
    let mut controls: Vec<[u8; 64]> = vec![[0u8; 64]; BATCH];
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
            m.msg_hdr.msg_control = controls[i].as_mut_ptr() as *mut libc::c_void;
            m.msg_hdr.msg_controllen = controls[i].len();
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
        report.first.get_or_insert(now);
        report.last = Some(now);
        for i in 0..n as usize {
            let len = msgs[i].msg_len as usize;
            // SAFETY: the kernel wrote a sockaddr of msg_namelen bytes.
            let from = unsafe { SockAddr::new(names[i], msgs[i].msg_hdr.msg_namelen) };
            let Some(src) = from.as_socket() else {
                continue;
            };
            let seg = gro_segment_size(&msgs[i].msg_hdr).unwrap_or(len).max(1);
            for datagram in bufs[i][..len].chunks(seg) {
                report.datagrams += 1;
                report.bytes += datagram.len() as u64;
                receiver.handle(now, src.ip(), datagram);
            }
            while let Some(e) = receiver.poll_event() {
                complete |= matches!(e, Event::SessionComplete);
                on_event(e);
            }
        }
        if now.saturating_sub(last_progress) >= Duration::from_millis(250) {
            last_progress = now;
            progress(&report, receiver);
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
