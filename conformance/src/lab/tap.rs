//! The network's view of a receiver host's port: a passive socket in the receiver's namespace,
//! bound to the session's port beside the receiver's (both with SO_REUSEADDR), joined to no
//! group. Linux hands it a copy of every datagram to a group any socket of the host joined
//! (IP_MULTICAST_ALL, on by default), so it sees exactly what the bottleneck let through to the
//! host, before the receiver's own delay line and without the receiver's word. From the CCI of
//! each packet (RFC 3738 §5) it keeps, per channel, the runs of arrivals and the PSN gaps
//! inside them: the sender's PSNs as they reached the port (§3.2.3.4's losses).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;
use socket2::{Domain, Protocol, Socket, Type};

use rmt_reference::webrc::udp::{recv_webrc, unix_now};

/// Arrivals on a channel more than this apart are two runs: longer than any gap inside a
/// joined wave of the lab's senders (a wave's lowest rate is BCR_P, one packet per 1/BCR_P s),
/// shorter than a leave and a join again.
pub const RUN_SILENCE: f64 = 0.3;
/// A PSN this far behind the last one starts the sequence again: half the short form's space.
const RESTART_DISTANCE: u64 = 1 << 15;
/// Runs and gaps kept (each): a run per join and a gap per loss, far more than a lab run makes.
const MAX_EVENTS: usize = 1_000_000;

/// Packets of one channel that arrived less than [`RUN_SILENCE`] apart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Run {
    pub cn: u32,
    /// Unix times of its first and last packets.
    pub first: f64,
    pub last: f64,
    pub packets: u64,
}

/// Packets a channel's PSNs skipped inside a run: lost on the way to the host.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gap {
    /// Unix time of the packet after the gap.
    pub at: f64,
    pub cn: u32,
    pub lost: u64,
}

/// What the tap saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TapRecord {
    pub runs: Vec<Run>,
    pub gaps: Vec<Gap>,
    pub packets: u64,
    /// Runs or gaps beyond [`MAX_EVENTS`] were dropped (the checks say so).
    pub overflowed: bool,
}

impl TapRecord {
    /// One packet of channel `cn` with `psn` arrived at `at` (unix time); `open` holds each
    /// channel's current run and its highest PSN.
    pub fn record(&mut self, open: &mut Vec<Option<(usize, u64)>>, at: f64, cn: u32, psn: u64) {
        self.packets += 1;
        let i = cn as usize;
        if open.len() <= i {
            open.resize(i + 1, None);
        }
        let current = open[i].filter(|(r, _)| at - self.runs[*r].last <= RUN_SILENCE);
        match current {
            Some((r, last_psn)) => {
                self.runs[r].last = at;
                self.runs[r].packets += 1;
                // A PSN behind the last one is late, or a wave starting again after its
                // quiescence: not a loss.
                if psn > last_psn + 1 {
                    if self.gaps.len() < MAX_EVENTS {
                        self.gaps.push(Gap {
                            at,
                            cn,
                            lost: psn - last_psn - 1,
                        });
                    } else {
                        self.overflowed = true;
                    }
                }
                // Far behind is the sequence starting again (a base channel's PSNs wrap at a
                // multiple of L, a wave restarts after quiescence); a little behind is late.
                let next = if psn + RESTART_DISTANCE < last_psn {
                    psn
                } else {
                    psn.max(last_psn)
                };
                open[i] = Some((r, next));
            }
            None if self.runs.len() < MAX_EVENTS => {
                self.runs.push(Run {
                    cn,
                    first: at,
                    last: at,
                    packets: 1,
                });
                open[i] = Some((self.runs.len() - 1, psn));
            }
            None => {
                self.overflowed = true;
                open[i] = None;
            }
        }
    }

    /// The first arrival on channel `cn` at or after `t`, if any.
    pub fn first_arrival(&self, cn: u32, t: f64) -> Option<f64> {
        self.runs
            .iter()
            .filter(|r| r.cn == cn && r.last >= t)
            .map(|r| r.first.max(t))
            .min_by(f64::total_cmp)
    }

    /// Whether a packet of `cn` arrived in `[from, to]`.
    pub fn arrived_between(&self, cn: u32, from: f64, to: f64) -> bool {
        self.runs
            .iter()
            .any(|r| r.cn == cn && r.last >= from && r.first <= to)
    }
}

/// Listens on `port` (IPv4) for `duration` in the calling thread's namespace; returns what
/// arrived. Bounded by `duration`.
pub fn run_tap(port: u16, duration: Duration) -> io::Result<TapRecord> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    socket.set_recv_buffer_size(4 << 20)?;
    let udp: UdpSocket = socket.into();
    udp.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut record = TapRecord::default();
    let mut open = Vec::new();
    let mut buf = vec![0u8; 65_536];
    let start = Instant::now();
    while start.elapsed() < duration {
        if let Some((cci, _)) = recv_webrc(&udp, &mut buf)? {
            let at = unix_now();
            record.record(&mut open, at, u32::from(cci.cn), u64::from(cci.psn));
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_silences_and_gaps_are_psn_skips_inside_a_run() {
        let mut r = TapRecord::default();
        let mut open = Vec::new();
        for (at, cn, psn) in [
            (10.0, 3, 100),
            (10.1, 3, 101),
            (10.2, 3, 104), // 2 lost
            (10.25, 5, 7),
            (10.3, 3, 103),    // late: not a loss
            (11.0, 3, 65_534), // a new run after 0.7 s: not a loss
            (11.1, 3, 65_535),
            (11.2, 3, 0), // the sequence starts again
            (11.3, 3, 2), // 1 lost
        ] {
            r.record(&mut open, at, cn, psn);
        }
        assert_eq!(r.packets, 9);
        assert_eq!(
            r.gaps,
            [
                Gap {
                    at: 10.2,
                    cn: 3,
                    lost: 2
                },
                Gap {
                    at: 11.3,
                    cn: 3,
                    lost: 1
                }
            ]
        );
        assert_eq!(r.runs.len(), 3);
        assert_eq!(
            (r.runs[0].first, r.runs[0].last, r.runs[0].packets),
            (10.0, 10.3, 4)
        );
        assert_eq!(r.first_arrival(3, 10.5), Some(11.0));
        assert_eq!(r.first_arrival(3, 10.15), Some(10.15));
        assert_eq!(r.first_arrival(4, 0.0), None);
        assert!(r.arrived_between(5, 10.0, 10.3));
        assert!(!r.arrived_between(5, 10.3, 12.0));
    }
}
