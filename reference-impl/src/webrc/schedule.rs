//! The WEBRC sender's packet schedule (RFC 3738 §3.1): a base channel and T = N + Q wave
//! channels, time slots of TSD seconds, the CCI (CTSI, CN, PSN) of every packet.
//!
//! - The base channel (CN = T) starts each slot at BCR_P packets/s and decays exponentially to
//!   P·BCR_P at its end, which makes L = ceil(BCR_P·TSD·(P−1)/ln P) packets per slot; the first
//!   base packet of each slot has PSN ≡ 0 (mod L) (§3.1.1, §3.1.2).
//! - Wave channel i is active in slots i−N+1 .. i (mod T) and quiescent for the Q slots after.
//!   Its rate falls by P per TSD down to BCR_P at the end of slot i, so it is BCR_P·(1/P)^k at k
//!   slots before the end; its last packet before quiescence has the largest PSN (2^16−1 short,
//!   2^32−1 long). The optional reshaping of a wave's first two slots (§3.1.2 "MAY") is not used.
//!
//! Sans-IO: [`Schedule::next`] yields the packets in time order from a start time; the caller
//! fills them with ALC content and sends each to its channel's group.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use rmt_inspector::wire::webrc_cci::{CciForm, WebrcCci};

/// Sender parameters (§3.1.1), with the RFC's defaults from [`WebrcParams::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct WebrcParams {
    /// BCR_P: the base channel's rate at the start of a slot, packets per second (default 1).
    pub bcr_p: f64,
    /// TSD: time slot duration (default 10 s).
    pub tsd: Duration,
    /// QD: quiescent period (default 300 s).
    pub qd: Duration,
    /// P: rate decay per slot, 0 < P < 1 (default 0.75).
    pub p: f64,
    /// N: slots a wave is active, also the number of active waves.
    pub n: u32,
    pub form: CciForm,
}

impl WebrcParams {
    pub fn new(n: u32) -> Self {
        WebrcParams {
            bcr_p: 1.0,
            tsd: Duration::from_secs(10),
            qd: Duration::from_secs(300),
            p: 0.75,
            n,
            form: CciForm::Short,
        }
    }

    /// A session ten times faster than the defaults, for simulations and tests: BCR_P 20
    /// packets/s, TSD 1 s (EL 50 ms), QD 10 s, P 0.75. With N = 14 it reaches about 4,400
    /// packets/s at the start of a slot with every wave joined.
    pub fn fast(n: u32) -> Self {
        WebrcParams {
            bcr_p: 20.0,
            tsd: Duration::from_secs(1),
            qd: Duration::from_secs(10),
            ..WebrcParams::new(n)
        }
    }

    /// The sender of the population and the lab: P = 0.92, BCR_P 5 packets/s, TSD 1 s, QD 10 s,
    /// and the fewest waves N whose top rate reaches `top` packets/s.
    ///
    /// Why: a receiver that knows its link (MRR_P = its capacity) climbs to it, and in a slot its
    /// rate decays by P until the next join, which multiplies it by about 1/P: a sawtooth from
    /// C·P to C, whose mean is C·(1−P)/ln(1/P), 0.959 of C at P = 0.92 (0.869 at the RFC's
    /// 0.75). The small base rate keeps the low layers, where one join more than doubles the
    /// rate, below the slowest links of the population. See docs/lab.md.
    pub fn for_top_rate(top: f64) -> Self {
        WebrcParams::reaching(top, 0.92, 5.0)
    }

    /// TSD 1 s, QD 10 s, this P and BCR_P, and the fewest waves whose top rate reaches `top`
    /// packets/s, or the most that [`WebrcParams::validate`] allows (a wave's packets must fit
    /// the PSN, T the CN).
    pub fn reaching(top: f64, p: f64, bcr_p: f64) -> Self {
        let mut params = WebrcParams {
            bcr_p,
            p,
            ..WebrcParams::fast(1)
        };
        // Bounded: T ≤ 255 in the short form, so at most 255 steps.
        while params.top_rate() < top {
            let more = WebrcParams {
                n: params.n + 1,
                ..params.clone()
            };
            if more.validate().is_err() {
                break;
            }
            params = more;
        }
        params
    }

    /// The sender's top rate, packets per second: the base channel and every active wave at the
    /// start of a slot, BCR_P·(1 + 1/P + ... + (1/P)^N).
    pub fn top_rate(&self) -> f64 {
        let f = 1.0 / self.p;
        self.bcr_p * (f.powi(self.n as i32 + 1) - 1.0) / (f - 1.0)
    }

    /// L: base packets per slot.
    pub fn l(&self) -> u64 {
        (self.bcr_p * self.tsd.as_secs_f64() * (self.p - 1.0) / self.p.ln()).ceil() as u64
    }

    /// Q: quiescent slots.
    pub fn q(&self) -> u32 {
        (self.qd.as_secs_f64() / self.tsd.as_secs_f64()).ceil() as u32
    }

    /// T = N + Q: wave channels, and slots per cycle.
    pub fn t(&self) -> u32 {
        self.n + self.q()
    }

    fn max_psn(&self) -> u64 {
        match self.form {
            CciForm::Short => u64::from(u16::MAX),
            CciForm::Long => u64::from(u32::MAX),
        }
    }

    /// Checks the rules of §3.1.1 and §5.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.p > 0.0 && self.p < 1.0) || self.bcr_p <= 0.0 || self.tsd.is_zero() || self.n == 0
        {
            return Err(
                "WEBRC needs 0 < P < 1, BCR_P > 0, TSD > 0 and N >= 1 (RFC 3738 §3.1.1)".into(),
            );
        }
        let limit = match self.form {
            CciForm::Short => 255,
            CciForm::Long => 65_535,
        };
        if self.t() > limit {
            return Err(format!(
                "T = N + Q = {} > {limit} for the {:?} CCI form (RFC 3738 §5)",
                self.t(),
                self.form
            ));
        }
        if self.wave_packets() > self.max_psn() + 1 {
            return Err(format!(
                "a wave of {} packets does not fit the PSN space (RFC 3738 §3.1.2)",
                self.wave_packets()
            ));
        }
        Ok(())
    }

    /// Packets of one wave: the integral of BCR_P·(1/P)^(u/TSD) over the N active slots.
    pub fn wave_packets(&self) -> u64 {
        let k = (1.0 / self.p).ln();
        (self.bcr_p * self.tsd.as_secs_f64() / k * ((1.0 / self.p).powi(self.n as i32) - 1.0))
            .floor() as u64
    }
}

/// One packet of the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledPacket {
    /// Time since the start of the schedule.
    pub at: Duration,
    pub cci: WebrcCci,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    Base,
    Wave(u32),
}

/// The packets of all channels in time order.
#[derive(Debug)]
pub struct Schedule {
    params: WebrcParams,
    l: u64,
    /// Next packet time per channel, as a min-heap of (nanoseconds, channel).
    heap: BinaryHeap<Reverse<(u128, Channel)>>,
    /// Per channel: the index of its next packet (base: in the whole schedule; wave: within the
    /// wave that ends at `wave_end[i]`).
    base_index: u64,
    wave_index: Vec<u64>,
    wave_end_slot: Vec<u64>,
    /// The slot the schedule starts in: the CTSI of time 0 is `start_slot mod T`.
    start_slot: u64,
}

impl Schedule {
    /// A schedule that starts at slot 0 (CTSI 0) as if the session had been running: the N
    /// waves active in slot 0 are there, mid-run, from their first packet at or after time 0
    /// (wave i ends at the end of slot i for i < N, PSNs as in a full run), so that a
    /// receiver finds the lowest layer from the start; the other waves start in their first
    /// active slot.
    pub fn new(params: WebrcParams) -> Result<Self, String> {
        Schedule::starting_at(params, 0)
    }

    /// [`Schedule::new`] for a session joined in slot `start_slot`: time 0 is the start of a
    /// slot whose CTSI is `start_slot mod T`, and wave `i` ends at the end of the slot with
    /// CTSI `i` (after `(i − start_slot) mod T` slots), the waves active then already mid-run.
    pub fn starting_at(params: WebrcParams, start_slot: u64) -> Result<Self, String> {
        params.validate()?;
        let t = params.t();
        let start_slot = start_slot % u64::from(t);
        let mut s = Schedule {
            l: params.l(),
            heap: BinaryHeap::new(),
            base_index: 0,
            wave_index: vec![0; t as usize],
            wave_end_slot: vec![0; t as usize],
            start_slot,
            params,
        };
        s.push(Channel::Base);
        let w = s.params.wave_packets();
        for i in 0..t {
            s.wave_end_slot[i as usize] = (u64::from(i) + u64::from(t) - start_slot) % u64::from(t);
            // A wave that started before slot 0 begins with its first packet at or after 0
            // (bounded: at most the W packets of the wave).
            let mut j = 0;
            while j + 1 < w && s.wave_time(i, j) < 0.0 {
                j += 1;
            }
            s.wave_index[i as usize] = j;
            s.push(Channel::Wave(i));
        }
        Ok(s)
    }

    pub fn params(&self) -> &WebrcParams {
        &self.params
    }

    fn tsd(&self) -> f64 {
        self.params.tsd.as_secs_f64()
    }

    /// Time of base packet `index` (k-th of its slot): the cumulative count of a rate
    /// BCR_P·P^(τ/TSD) reaches k at τ = TSD·ln(1 + k·ln P/(BCR_P·TSD))/ln P.
    fn base_time(&self, index: u64) -> f64 {
        let (slot, k) = (index / self.l, index % self.l);
        let lnp = self.params.p.ln();
        let x = 1.0 + (k as f64 + 0.5) * lnp / (self.params.bcr_p * self.tsd());
        let tau = if x > 0.0 {
            self.tsd() * x.ln() / lnp
        } else {
            self.tsd()
        };
        slot as f64 * self.tsd() + tau.min(self.tsd() * (1.0 - 1e-9))
    }

    /// Time of packet `j` of the wave of channel `i`: counted back from the wave's end, the
    /// cumulative count of BCR_P·(1/P)^(u/TSD) reaches W − j at
    /// u = TSD·ln(1 + (W−j−0.5)·ln(1/P)/(BCR_P·TSD))/ln(1/P).
    fn wave_time(&self, i: u32, j: u64) -> f64 {
        let w = self.params.wave_packets();
        let end = (self.wave_end_slot[i as usize] + 1) as f64 * self.tsd();
        let k = (1.0 / self.params.p).ln();
        let back = (w - j) as f64 - 0.5;
        let u = self.tsd() * (1.0 + back * k / (self.params.bcr_p * self.tsd())).ln() / k;
        end - u
    }

    fn push(&mut self, c: Channel) {
        let secs = match c {
            Channel::Base => self.base_time(self.base_index),
            Channel::Wave(i) => self.wave_time(i, self.wave_index[i as usize]),
        };
        self.heap.push(Reverse(((secs * 1e9) as u128, c)));
    }

    /// The next packet, in time order (the schedule never ends).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> ScheduledPacket {
        let Reverse((nanos, c)) = self.heap.pop().expect("every channel keeps one entry");
        let at = Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64);
        let t = u64::from(self.params.t());
        let slot = (at.as_secs_f64() / self.tsd()).floor() as u64;
        let ctsi = ((slot + self.start_slot) % t) as u16;
        let cci = match c {
            Channel::Base => {
                // PSNs wrap at the largest multiple of L within the PSN space, so that each
                // slot's first packet stays ≡ 0 (mod L).
                let modulus = (self.params.max_psn() + 1) / self.l * self.l;
                let psn = (self.base_index % modulus) as u32;
                self.base_index += 1;
                WebrcCci {
                    form: self.params.form,
                    ctsi,
                    cn: t as u16,
                    psn,
                }
            }
            Channel::Wave(i) => {
                let w = self.params.wave_packets();
                let j = self.wave_index[i as usize];
                let psn = (self.params.max_psn() - (w - 1 - j)) as u32;
                self.wave_index[i as usize] += 1;
                if self.wave_index[i as usize] == w {
                    self.wave_index[i as usize] = 0;
                    self.wave_end_slot[i as usize] += t;
                }
                WebrcCci {
                    form: self.params.form,
                    ctsi,
                    cn: i as u16,
                    psn,
                }
            }
        };
        self.push(c);
        ScheduledPacket { at, cci }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn params(n: u32) -> WebrcParams {
        let mut p = WebrcParams::new(n);
        p.bcr_p = 20.0;
        p.tsd = Duration::from_secs(1);
        p.qd = Duration::from_secs(6);
        p
    }

    #[test]
    fn defaults_give_the_rfc_l_and_q() {
        let p = WebrcParams::new(10);
        // L = ceil(1·10·(0.75−1)/ln 0.75) = ceil(8.69) = 9; Q = ceil(300/10) = 30.
        assert_eq!((p.l(), p.q(), p.t()), (9, 30, 40));
        let mut long = WebrcParams::new(10);
        long.qd = Duration::from_secs(3000);
        assert!(
            long.validate().is_err(),
            "T = 10 + 300 > 255 in the short form"
        );
        long.form = CciForm::Long;
        assert!(long.validate().is_ok());
        // A wave of (1/P)^N growth must fit the PSN space.
        assert!(WebrcParams::new(60)
            .validate()
            .unwrap_err()
            .contains("PSN space"));
    }

    /// Packets of two full cycles, per (slot, CN).
    fn run(p: &WebrcParams, cycles: u64) -> (Vec<ScheduledPacket>, BTreeMap<(u64, u16), u64>) {
        let mut s = Schedule::new(p.clone()).unwrap();
        let end = Duration::from_secs_f64(p.tsd.as_secs_f64() * (cycles * u64::from(p.t())) as f64);
        let mut out = Vec::new();
        let mut per: BTreeMap<(u64, u16), u64> = BTreeMap::new();
        loop {
            let pkt = s.next();
            if pkt.at >= end {
                break;
            }
            let slot = (pkt.at.as_secs_f64() / p.tsd.as_secs_f64()) as u64;
            *per.entry((slot, pkt.cci.cn)).or_default() += 1;
            out.push(pkt);
            assert!(out.len() < 5_000_000);
        }
        (out, per)
    }

    #[test]
    fn ctsi_steps_by_one_mod_t_on_every_channel_at_once_and_time_never_goes_back() {
        let p = params(4);
        let t = u64::from(p.t());
        let (pkts, _) = run(&p, 2);
        for w in pkts.windows(2) {
            assert!(w[1].at >= w[0].at);
        }
        for pkt in &pkts {
            let slot = (pkt.at.as_secs_f64() / p.tsd.as_secs_f64()) as u64;
            assert_eq!(u64::from(pkt.cci.ctsi), slot % t, "{pkt:?}");
            assert!(u64::from(pkt.cci.cn) <= t);
        }
    }

    #[test]
    fn a_schedule_joined_mid_cycle_has_that_slots_ctsi_and_active_waves() {
        let p = params(4);
        let (n, t) = (u64::from(p.n), u64::from(p.t()));
        let start = 7;
        let mut s = Schedule::starting_at(p.clone(), start).unwrap();
        let end = p.tsd * (2 * t as u32);
        let mut last_psn: BTreeMap<u16, (u32, u16)> = BTreeMap::new();
        let mut seen = 0;
        // Bounded: schedule times grow.
        loop {
            let pkt = s.next();
            if pkt.at >= end {
                break;
            }
            seen += 1;
            let slot = (pkt.at.as_secs_f64() / p.tsd.as_secs_f64()) as u64;
            let ctsi = (slot + start) % t;
            assert_eq!(u64::from(pkt.cci.ctsi), ctsi, "{pkt:?}");
            let cn = u64::from(pkt.cci.cn);
            if cn < t {
                // Wave CN is active in the N slots whose CTSI is CN−N+1 .. CN (mod T).
                assert!((cn + t - ctsi) % t < n, "wave {cn} sends in CTSI {ctsi}");
                // Its wave's last packet (PSN 65535) is sent in the slot whose CTSI is CN.
                if let Some((psn, at_ctsi)) =
                    last_psn.insert(pkt.cci.cn, (pkt.cci.psn, pkt.cci.ctsi))
                {
                    if pkt.cci.psn < psn {
                        assert_eq!((psn, u64::from(at_ctsi)), (65_535, cn));
                    }
                }
            }
        }
        assert!(seen > 1000);
        assert!(last_psn.len() as u64 == t, "every wave sent");
    }

    #[test]
    fn base_channel_sends_l_packets_per_slot_from_psn_zero_mod_l() {
        let p = params(4);
        let (l, t) = (p.l(), p.t() as u16);
        let (pkts, per) = run(&p, 2);
        for slot in 0..2 * u64::from(p.t()) {
            assert_eq!(per.get(&(slot, t)).copied().unwrap_or(0), l, "slot {slot}");
        }
        let base: Vec<&ScheduledPacket> = pkts.iter().filter(|x| x.cci.cn == t).collect();
        for (i, b) in base.iter().enumerate() {
            assert_eq!(u64::from(b.cci.psn), i as u64, "consecutive");
            if (i as u64).is_multiple_of(l) {
                assert_eq!(u64::from(b.cci.psn) % l, 0);
            }
        }
    }

    #[test]
    fn waves_are_active_n_slots_decay_by_p_end_at_psn_max_then_stay_quiet_q_slots() {
        let p = params(4);
        let (n, t) = (u64::from(p.n), u64::from(p.t()));
        let (pkts, per) = run(&p, 3);
        for i in 0..t {
            let cn = i as u16;
            let mine: Vec<&ScheduledPacket> = pkts.iter().filter(|x| x.cci.cn == cn).collect();
            assert!(!mine.is_empty(), "wave {i} sends");
            // Consecutive PSNs within a wave; the last before quiescence is 65535.
            for w in mine.windows(2) {
                let (a, b) = (w[0].cci.psn, w[1].cci.psn);
                assert!(
                    b == a + 1 || (a == 65_535 && b < a),
                    "wave {i}: {a} then {b}"
                );
            }
            for pkt in &mine {
                let slot = (pkt.at.as_secs_f64() / p.tsd.as_secs_f64()) as u64;
                // Active only in slots i−N+1 .. i (mod T).
                let back = (i + t - slot % t) % t;
                assert!(back < n, "wave {i} sends in slot {slot} (quiescent)");
            }
            let last_of_wave: Vec<u32> = mine
                .windows(2)
                .filter(|w| w[1].cci.psn < w[0].cci.psn)
                .map(|w| w[0].cci.psn)
                .collect();
            assert!(last_of_wave.iter().all(|x| *x == 65_535));
        }
        // Per-slot counts of a wave fall by about P per slot.
        let wave = 5u16;
        let counts: Vec<f64> = (0..t)
            .filter_map(|s| per.get(&(s + t, wave)).map(|c| *c as f64))
            .collect();
        assert_eq!(counts.len() as u64, n);
        for w in counts.windows(2) {
            let ratio = w[1] / w[0];
            assert!((ratio - p.p).abs() < 0.1, "{counts:?}");
        }
        // The last active slot carries about the base channel's count (BCR_P at its end).
        assert!(
            (counts[counts.len() - 1] - p.l() as f64 / p.p).abs() <= 2.0,
            "{counts:?}"
        );
    }
}
