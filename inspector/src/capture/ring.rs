//! A memory-mapped AF_PACKET receive ring, TPACKET_V3 (Linux `packet(7)`,
//! Documentation/networking/packet_mmap.rst): the kernel writes frames into blocks of a ring
//! shared with us and hands over a block at a time, so a capture costs no system call per packet
//! and a burst is absorbed by the whole ring (`-B`, as dumpcap's buffer) instead of a socket
//! buffer. Each frame comes with the kernel's timestamp and its direction; the kernel counts what
//! it dropped when the ring was full (PACKET_STATISTICS).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

// linux/if_packet.h and linux/if_ether.h; written here so as not to depend on which of them a
// given libc release exports.
const SOL_PACKET: libc::c_int = 263;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const ETH_P_ALL: u16 = 0x0003;
/// `sll_pkttype` of a frame this host sent.
pub const PACKET_OUTGOING: u8 = 4;

/// Block layout (struct tpacket_block_desc, tpacket_hdr_v1): offsets of the fields read.
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
/// Frame header (struct tpacket3_hdr), then the struct sockaddr_ll at TPACKET_ALIGN(48).
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_MAC: usize = 24;
const PKT_SLL_PKTTYPE: usize = 48 + 10;

/// Bytes of one block: 1 MiB, so that `-B` counts in blocks.
pub const BLOCK_SIZE: usize = 1 << 20;
/// A block is handed to us at the latest this long after its first frame, so that a slow
/// stream is not held back until a block fills.
const BLOCK_TIMEOUT_MS: u32 = 10;

/// One received frame, borrowed from the ring until the next call.
#[derive(Debug)]
pub struct RingFrame<'a> {
    pub data: &'a [u8],
    /// Length on the wire (more than `data.len()` when the frame was cut).
    pub len: u32,
    /// The kernel's receive time, since the Unix epoch.
    pub timestamp: Duration,
    /// `sll_pkttype`: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    pub packet_type: u8,
}

/// A frame's place in the current block (start, end), its length on the wire, timestamp and
/// packet type.
type RawSlot = (usize, usize, u32, Duration, u8);

/// What the kernel reports for the socket since it was opened (PACKET_STATISTICS, counters the
/// kernel resets on each read, summed here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RingStats {
    /// Frames the kernel put in the ring (both directions).
    pub received: u64,
    /// Frames the kernel dropped because the ring was full.
    pub dropped: u64,
    /// Times the ring was found full (the queue froze).
    pub freezes: u64,
}

pub struct Ring {
    fd: OwnedFd,
    map: *mut u8,
    blocks: usize,
    /// The block being read, how many of its frames are left and where the next one is.
    block: usize,
    left: u32,
    next: usize,
    /// Whether `block` is ours (status USER) and must be handed back when done.
    holding: bool,
    stats: RingStats,
    skipped_outgoing: u64,
}

// SAFETY: the mapping is owned by the Ring and only touched through &mut self.
unsafe impl Send for Ring {}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn set<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a T of the size given.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })
}

impl Ring {
    /// A ring of `blocks` blocks of [`BLOCK_SIZE`] on interface `ifindex`, with `filter` (a
    /// classic BPF program, see [`super::bpf`]) attached before the ring fills.
    pub fn open(
        ifindex: u32,
        blocks: usize,
        filter: Option<&[libc::sock_filter]>,
    ) -> io::Result<Ring> {
        // The kernel wants the ring under 4 GiB (and its frame count in 32 bits).
        let blocks = blocks.clamp(1, 4095);
        // SAFETY: plain socket(2) call; the fd is owned from here on.
        // Protocol 0: the socket receives nothing until `bind` names the interface and
        // ETH_P_ALL, so no frame of another interface gets into the ring meanwhile.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        check(raw)?;
        // SAFETY: `raw` is a new, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        if let Some(program) = filter {
            let prog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut libc::sock_filter,
            };
            set(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)?;
        }
        set(&fd, SOL_PACKET, PACKET_VERSION, &TPACKET_V3)?;
        // struct tpacket_req3: block size, block count, frame size, frame count, block
        // timeout (ms), private area size, feature word.
        let frame_size: u32 = 2048;
        let req: [u32; 7] = [
            BLOCK_SIZE as u32,
            blocks as u32,
            frame_size,
            (blocks * (BLOCK_SIZE / frame_size as usize)) as u32,
            BLOCK_TIMEOUT_MS,
            0,
            0,
        ];
        set(&fd, SOL_PACKET, PACKET_RX_RING, &req)?;
        // SAFETY: maps the ring the kernel just allocated for this socket.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                BLOCK_SIZE * blocks,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: zeroed is a valid sockaddr_ll; the fields are set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex as i32;
        let ring = Ring {
            fd,
            map: map as *mut u8,
            blocks,
            block: 0,
            left: 0,
            next: 0,
            holding: false,
            stats: RingStats::default(),
            skipped_outgoing: 0,
        };
        // SAFETY: binds the socket to the interface with a valid sockaddr_ll.
        check(unsafe {
            libc::bind(
                ring.fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(ring)
    }

    fn block_ptr(&self, i: usize) -> *mut u8 {
        // SAFETY: i < blocks, so the offset is inside the mapping.
        unsafe { self.map.add(i * BLOCK_SIZE) }
    }

    fn read_u32(&self, at: *const u8) -> u32 {
        // SAFETY: callers pass addresses inside the mapping (the kernel's headers are aligned).
        unsafe { std::ptr::read_volatile(at as *const u32) }
    }

    fn status(&self, i: usize) -> u32 {
        let s = self.read_u32(self.block_ptr(i).wrapping_add(BLOCK_STATUS));
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        s
    }

    /// Hands the block being read back to the kernel and moves to the next one.
    fn release(&mut self) {
        if self.holding {
            std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
            // SAFETY: the status word of a block of the mapping.
            unsafe {
                std::ptr::write_volatile(
                    self.block_ptr(self.block).add(BLOCK_STATUS) as *mut u32,
                    TP_STATUS_KERNEL,
                )
            };
            self.holding = false;
            self.block = (self.block + 1) % self.blocks;
        }
    }

    /// The next frame, or `None` when none arrived within `timeout`; outgoing frames are
    /// passed over (and counted) when `skip_outgoing`. The frame is valid until the next call
    /// (its block goes back to the kernel then).
    pub fn next_frame(
        &mut self,
        timeout: Duration,
        skip_outgoing: bool,
    ) -> io::Result<Option<RingFrame<'_>>> {
        loop {
            let Some((start, end, len, timestamp, packet_type)) = self.next_raw(timeout)? else {
                return Ok(None);
            };
            if skip_outgoing && packet_type == PACKET_OUTGOING {
                self.skipped_outgoing += 1;
                continue;
            }
            let b = self.block_ptr(self.block);
            // SAFETY: [start, end) lies inside the block being read, which stays ours until
            // the next call.
            let data = unsafe { std::slice::from_raw_parts(b.add(start), end - start) };
            return Ok(Some(RingFrame {
                data,
                len,
                timestamp,
                packet_type,
            }));
        }
    }

    /// Outgoing frames passed over by [`Ring::next_frame`].
    pub fn skipped_outgoing(&self) -> u64 {
        self.skipped_outgoing
    }

    /// The next frame of the ring as (start, end) in the current block, length on the wire,
    /// timestamp and packet type.
    fn next_raw(&mut self, timeout: Duration) -> io::Result<Option<RawSlot>> {
        if self.holding && self.left == 0 {
            self.release();
        }
        if !self.holding {
            if self.status(self.block) & TP_STATUS_USER == 0 {
                let mut pfd = libc::pollfd {
                    fd: self.fd.as_raw_fd(),
                    events: libc::POLLIN | libc::POLLERR,
                    revents: 0,
                };
                let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
                // SAFETY: one valid pollfd.
                let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
                if rc < 0 {
                    let e = io::Error::last_os_error();
                    return if e.kind() == io::ErrorKind::Interrupted {
                        Ok(None)
                    } else {
                        Err(e)
                    };
                }
                // An error on the socket (the interface went down): poll would return at once
                // from now on, so say it rather than spin.
                if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                    let mut err: libc::c_int = 0;
                    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                    // SAFETY: reads one int into `err`.
                    unsafe {
                        libc::getsockopt(
                            self.fd.as_raw_fd(),
                            libc::SOL_SOCKET,
                            libc::SO_ERROR,
                            &mut err as *mut libc::c_int as *mut libc::c_void,
                            &mut len,
                        )
                    };
                    return Err(if err != 0 {
                        io::Error::from_raw_os_error(err)
                    } else {
                        io::Error::other("the capture socket failed")
                    });
                }
                if self.status(self.block) & TP_STATUS_USER == 0 {
                    return Ok(None);
                }
            }
            let b = self.block_ptr(self.block);
            self.left = self.read_u32(b.wrapping_add(BLOCK_NUM_PKTS));
            self.next = self.read_u32(b.wrapping_add(BLOCK_FIRST_PKT)) as usize;
            self.holding = true;
            if self.left == 0 {
                return Ok(None);
            }
        }
        let b = self.block_ptr(self.block);
        let at = self.next;
        // A frame header must lie inside the block; the kernel wrote it, but a bad offset
        // must not make us read outside the mapping.
        if at + 64 > BLOCK_SIZE {
            self.left = 0;
            return Ok(None);
        }
        let h = b.wrapping_add(at);
        let field = |off: usize| self.read_u32(h.wrapping_add(off));
        let next = field(PKT_NEXT) as usize;
        let (sec, nsec) = (field(PKT_SEC), field(PKT_NSEC));
        let snaplen = field(PKT_SNAPLEN) as usize;
        let len = field(PKT_LEN);
        // SAFETY: within the frame header, as above.
        let mac = usize::from(unsafe { std::ptr::read_volatile(h.add(PKT_MAC) as *const u16) });
        // SAFETY: within the frame header's sockaddr_ll, as above.
        let packet_type = unsafe { std::ptr::read_volatile(h.add(PKT_SLL_PKTTYPE)) };
        self.left -= 1;
        self.next = if next == 0 { BLOCK_SIZE } else { at + next };
        if self.left > 0 && self.next + 64 > BLOCK_SIZE {
            self.left = 0;
        }
        let start = (at + mac).min(BLOCK_SIZE);
        let end = (start + snaplen).min(BLOCK_SIZE);
        let timestamp = Duration::new(u64::from(sec), nsec.min(999_999_999));
        Ok(Some((start, end, len, timestamp, packet_type)))
    }

    /// The kernel's counters so far (read and summed; the kernel resets them on each read).
    pub fn stats(&mut self) -> io::Result<RingStats> {
        // struct tpacket_stats_v3: tp_packets, tp_drops, tp_freeze_q_cnt.
        let mut s = [0u32; 3];
        let mut len = std::mem::size_of_val(&s) as libc::socklen_t;
        // SAFETY: `s` is large enough for tpacket_stats_v3 and `len` says so.
        check(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                SOL_PACKET,
                PACKET_STATISTICS,
                s.as_mut_ptr() as *mut libc::c_void,
                &mut len,
            )
        })?;
        // tp_packets counts the dropped frames too.
        self.stats.received += u64::from(s[0].saturating_sub(s[1]));
        self.stats.dropped += u64::from(s[1]);
        self.stats.freezes += u64::from(s[2]);
        Ok(self.stats)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in `open`, once.
        unsafe { libc::munmap(self.map as *mut libc::c_void, BLOCK_SIZE * self.blocks) };
    }
}
