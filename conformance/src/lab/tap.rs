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

use rmt_reference::driver::webrc::{recv_webrc, unix_now};

/// What the tap must know of the session to read PSNs (RFC 3738 §3.1.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TapParams {
    /// The base channel's CN (T) and its PSN space: PSNs wrap at the largest multiple of L in
    /// the field, so that each slot starts at PSN ≡ 0 (mod L).
    pub base_cn: u32,
    pub base_space: u64,
    /// A wave's PSN space: 2^16 (short CCI) or 2^32 (long).
    pub wave_space: u64,
    /// Arrivals on a channel more than this apart are two runs: longer than the largest gap
    /// between packets of a joined channel (the base channel's lowest rate is P·BCR_P),
    /// shorter than a leave and a join again. A loss burst longer than this is not a gap.
    pub run_silence: f64,
}

impl TapParams {
    pub fn of(sender: &rmt_reference::webrc::schedule::WebrcParams) -> TapParams {
        let wave_space = match sender.form {
            rmt_inspector::wire::webrc_cci::CciForm::Short => 1 << 16,
            rmt_inspector::wire::webrc_cci::CciForm::Long => 1 << 32,
        };
        let l = sender.l().max(1);
        TapParams {
            base_cn: sender.t(),
            base_space: wave_space / l * l,
            wave_space,
            run_silence: (3.0 / (sender.p * sender.bcr_p)).max(0.3),
        }
    }

    fn space(&self, cn: u32) -> u64 {
        if cn == self.base_cn {
            self.base_space
        } else {
            self.wave_space
        }
    }
}
/// Runs and gaps kept (each): a run per join and a gap per loss, far more than a lab run makes.
const MAX_EVENTS: usize = 1_000_000;

/// Packets of one channel that arrived less than [`TapParams::run_silence`] apart.
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
    /// Per channel: its current run and the PSN it expects next.
    #[serde(skip)]
    open: Vec<Option<(usize, u64)>>,
}

impl TapRecord {
    /// One packet of channel `cn` with `psn` arrived at `at` (unix time).
    pub fn record(&mut self, p: &TapParams, at: f64, cn: u32, psn: u64) {
        let open = &mut self.open;
        self.packets += 1;
        let i = cn as usize;
        if open.len() <= i {
            open.resize(i + 1, None);
        }
        let space = p.space(cn).max(2);
        let psn = psn % space;
        let current = open[i].filter(|(r, _)| at - self.runs[*r].last <= p.run_silence);
        match current {
            Some((r, expected)) => {
                self.runs[r].last = at;
                self.runs[r].packets += 1;
                // Counted modulo the channel's space (§3.2.3.4): ahead by less than half of it
                // is the packets lost before this one; further is a late packet (misordered,
                // §3.2.3.4 RECOMMENDS not counting it), which changes nothing.
                let ahead = (psn + space - expected) % space;
                if ahead < space / 2 {
                    if ahead > 0 {
                        if self.gaps.len() < MAX_EVENTS {
                            self.gaps.push(Gap {
                                at,
                                cn,
                                lost: ahead,
                            });
                        } else {
                            self.overflowed = true;
                        }
                    }
                    open[i] = Some((r, (psn + 1) % space));
                }
            }
            None if self.runs.len() < MAX_EVENTS => {
                self.runs.push(Run {
                    cn,
                    first: at,
                    last: at,
                    packets: 1,
                });
                open[i] = Some((self.runs.len() - 1, (psn + 1) % space));
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
pub fn run_tap(port: u16, params: TapParams, duration: Duration) -> io::Result<TapRecord> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    socket.set_recv_buffer_size(4 << 20)?;
    let udp: UdpSocket = socket.into();
    udp.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut record = TapRecord::default();
    let mut buf = vec![0u8; 65_536];
    let start = Instant::now();
    while start.elapsed() < duration {
        if let Some((cci, _)) = recv_webrc(&udp, &mut buf)? {
            let at = unix_now();
            record.record(&params, at, u32::from(cci.cn), u64::from(cci.psn));
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_silences_and_gaps_are_psn_skips_inside_a_run() {
        // T = 20, L = 19: base PSNs wrap at 65,531.
        let p = TapParams {
            base_cn: 20,
            base_space: 65_531,
            wave_space: 1 << 16,
            run_silence: 0.3,
        };
        let mut r = TapRecord::default();
        for (at, cn, psn) in [
            (10.0, 3, 100),
            (10.1, 3, 101),
            (10.2, 3, 104), // 2 lost
            (10.25, 5, 7),
            (10.3, 3, 103),    // late: not a loss
            (11.0, 3, 65_534), // a new run after 0.7 s: not a loss
            (11.1, 3, 0),      // 65,535 lost: 1
            (11.2, 3, 65_535), // late, from before the wrap
            (11.3, 3, 2),      // 1 lost
            (12.0, 20, 65_529),
            (12.05, 20, 1), // 65,530 and 0 lost across the base channel's wrap
        ] {
            r.record(&p, at, cn, psn);
        }
        assert_eq!(r.packets, 11);
        let gaps: Vec<(f64, u32, u64)> = r.gaps.iter().map(|g| (g.at, g.cn, g.lost)).collect();
        assert_eq!(
            gaps,
            [(10.2, 3, 2), (11.1, 3, 1), (11.3, 3, 1), (12.05, 20, 2)]
        );
        assert_eq!(r.runs.len(), 4);
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

    #[test]
    fn tap_parameters_follow_the_senders() {
        let p = TapParams::of(&rmt_reference::webrc::schedule::WebrcParams {
            p: 0.85,
            ..rmt_reference::webrc::schedule::WebrcParams::fast(22)
        });
        // L = ceil(20 × (0.85 − 1) / ln 0.85) = 19; T = 22 + 10.
        assert_eq!(
            (p.base_cn, p.base_space, p.wave_space),
            (32, 65_531, 65_536)
        );
        assert_eq!(p.run_silence, 0.3);
        // BCR_P 1 (the RFC's default): base packets ~1.3 s apart at the slot's end.
        let slow = TapParams::of(&rmt_reference::webrc::schedule::WebrcParams::new(10));
        assert!(slow.run_silence >= 3.0);
    }
}
