//! The WEBRC receiver (RFC 3738 §3.2), sans-IO: it takes `(now, CCI)` for every packet received
//! on a joined channel and `now` at its timeouts, and hands out [`Action`]s (join or leave a
//! channel, leave the session) that a driver turns into group membership (IGMP/MLD).
//!
//! What it keeps (§3.2.2): the loss estimate LOSSP from the W/X/Y/Z filters (time filter Nu,
//! loss filter Delta), the round-trip estimate ARTT and V from join latencies, the true and
//! anticipated reception rates TRR_P and ARR_P per epoch (EL = TSD/20), slow start (SSR_P),
//! REQN and the target rate TRATE. The events of §3.2.3: the first packet after a join, time
//! slot changes (leaving wave CTSI−1, late packets of the old slot ignored), loss events (no
//! join for ARTT), epochs with the join decision and every no-join condition, join timeouts,
//! and the exceptional timeouts that leave the session.
//!
//! Not done: the OPTIONAL RR_P check before a join (§3.2.3.6 "MAY"), the SHOULD to leave the
//! session under heavy loss on the base channel alone, and senders at constant aggregate rate
//! (this receiver assumes the plain schedule of `super::schedule`).

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use rmt_inspector::wire::webrc_cci::{CciForm, WebrcCci};

use super::mutant::WebrcMutant;
use super::schedule::WebrcParams;

/// What the receiver asks its driver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Join the group of this channel (CN; T is the base channel).
    Join(u32),
    /// Leave the group of this channel.
    Leave(u32),
    /// Leave the session (every joined channel was left first).
    LeaveSession(SessionExit),
}

/// Why the receiver left the session (§3.2.3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionExit {
    /// No packet for max{10, TSD} seconds.
    NoPackets,
    /// No time slot change for max{20, 2·TSD} seconds.
    NoSlotChange,
    /// A high fraction of the base channel's packets lost, slot after slot, while joined to the
    /// base channel only (§3.2.1 SHOULD).
    BaseChannelLoss,
}

/// Receiver parameters: the sender's (§3.2.1: known before or learnt at the start) and its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverParams {
    pub sender: WebrcParams,
    /// MRR_P: the most this receiver wants, packets per second (e.g. its last link's capacity
    /// divided by the packet size); infinite by default.
    pub mrr_p: f64,
    /// Nu, Delta (§3.2.2.1) and Alpha (§3.2.2.2): the RFC's recommended 0.3, 0.3 and 0.25.
    pub nu: f64,
    pub delta: f64,
    pub alpha: f64,
    /// §3.2.1 leaves "a high fraction" and "continually" open: the session is left after
    /// `base_loss_slots` whole slots in a row joined to the base channel only, each losing more
    /// than `base_loss_limit` of its base packets (0.5 and 3 by default).
    pub base_loss_limit: f64,
    pub base_loss_slots: u32,
    /// §3.2.2.6 ends slow start on a large increase of the join latency, and RECOMMENDS
    /// "large" as (P^(NWC+1)−1)/(P·log P)/ARR_P: a few ms at tens of Mbit/s. A receiver on a
    /// real host also sees its own scheduling jitter in the latency (±10 ms measured in the
    /// WEBRC lab, seven receivers on two cores), which is not a queue building up; an increase
    /// is large only above this too. Zero by default (the RFC's threshold alone).
    pub latency_jitter: Duration,
    /// A layer-change bug switched on (tests and the lab's kill matrix only).
    pub mutant: Option<WebrcMutant>,
}

impl ReceiverParams {
    pub fn new(sender: WebrcParams) -> Self {
        ReceiverParams {
            sender,
            mrr_p: f64::INFINITY,
            nu: 0.3,
            delta: 0.3,
            alpha: 0.25,
            base_loss_limit: 0.5,
            base_loss_slots: 3,
            latency_jitter: Duration::ZERO,
            mutant: None,
        }
    }

    /// EL = TSD/20 (§3.2.2.4).
    pub fn epoch(&self) -> Duration {
        self.sender.tsd / 20
    }
}

/// The loss filters of §3.2.2.1.
#[derive(Debug, Clone, Copy)]
struct LossFilter {
    w: f64,
    x: f64,
    y: f64,
    z: f64,
}

impl LossFilter {
    /// The state for LOSSP = a ("to reset the loss calculation to a value LOSSP = a").
    fn reset(a: f64) -> Self {
        LossFilter {
            w: 0.0,
            x: 0.0,
            y: 0.0,
            z: 1.0 / a.clamp(1e-12, 1.0),
        }
    }

    /// End of an epoch: filters a fraction G of X and Y into Z and returns LOSSP.
    fn end_epoch(&mut self, g: f64, delta: f64) -> f64 {
        let d = 1.0 - delta;
        self.z = self.z * d.powf(g * self.y)
            + g * self.x / (g * self.y + 1.0) * (1.0 - d.powf(g * self.y + 1.0));
        self.x *= 1.0 - g;
        self.y *= 1.0 - g;
        let z1 = self.z * d.powf(self.y) + self.x / (self.y + 1.0) * (1.0 - d.powf(self.y + 1.0));
        let z2 = self.z * d.powf(self.y + 1.0)
            + (self.x + self.w + 1.0) / (self.y + 2.0) * (1.0 - d.powf(self.y + 2.0));
        1.0 / z1.max(z2).max(1.0)
    }

    fn loss_event(&mut self) {
        self.x += self.w;
        self.w = 0.0;
        self.y += 1.0;
    }
}

/// REQN (§3.2.2.3): the TCP-friendly rate for a round-trip time and a loss probability.
pub fn reqn(artt: f64, lossp: f64) -> f64 {
    1.0 / (artt * lossp.sqrt() * (0.816 + 7.35 * lossp * (1.0 + 32.0 * lossp * lossp)))
}

/// The LOSSP for which REQN(artt, LOSSP) = rate (REQN falls as LOSSP grows; bisection in
/// log space, 100 steps, so bounded).
fn lossp_for(artt: f64, rate: f64) -> f64 {
    let (mut lo, mut hi) = (1e-12f64.ln(), 0.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if reqn(artt, mid.exp()) > rate {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    ((lo + hi) / 2.0).exp()
}

/// Per channel: the next PSN expected, to find losses (§3.2.3.4).
#[derive(Debug, Clone, Copy)]
struct Sequence {
    next: u64,
}

/// The WEBRC receiver's state machine.
#[derive(Debug)]
pub struct WebrcReceiver {
    params: ReceiverParams,
    /// T, N, L, P, BCR_P, TSD in seconds, EL in seconds.
    t: u32,
    n: u32,
    q: u32,
    l: u64,
    p: f64,
    bcr_p: f64,
    tsd: f64,
    el: f64,
    /// The exceptional timeouts (§3.2.3.8) and the largest PSN jump that is a loss rather
    /// than a restart, computed once (they are checked on every packet).
    no_packets_after: Duration,
    no_slot_change_after: Duration,
    max_gap: u64,
    actions: VecDeque<Action>,
    joined: BTreeSet<u32>,
    /// Per CN (0..=T): joined or not, and the next PSN expected (checked on every packet).
    member: Vec<bool>,
    sequences: Vec<Option<Sequence>>,
    left_session: bool,
    ctsi: Option<u32>,
    last_packet: Duration,
    last_slot_change: Duration,
    nwc: u32,
    arr_p: f64,
    trr_p: f64,
    ssr_p: f64,
    ssminr_p: f64,
    loss: LossFilter,
    lossp: f64,
    /// LOSSP is used once slow start ends (§3.2.2.1: "initialized at the end of slow start").
    lossp_valid: bool,
    artt: f64,
    v: f64,
    rtt_measurements: u32,
    /// The channel joined last and when, while JOINING.
    joining: Option<(u32, Duration)>,
    /// When the first packet of the most recently joined wave arrived.
    last_wave_first_packet: Option<Duration>,
    /// (FirstTime − JoinTime) of the previous wave, for slow start's latency check.
    last_join_delay: Option<f64>,
    loss_event_until: Option<Duration>,
    /// When the loss event in progress began (the `JoinsInLossEvent` mutant's clock).
    loss_event_began: Duration,
    /// The `JoinsWhilePending` mutant joins once more, at the next epoch, after each join it
    /// decided by the rules.
    chain_join: bool,
    next_epoch: Duration,
    epoch_received: u64,
    epoch_lost: u64,
    /// RR_P of the last epoch.
    rr_p: f64,
    /// This slot's base packets received and lost, and whether it has been joined to the base
    /// channel only since it began (§3.2.1's base-loss rule).
    slot_base_received: u64,
    slot_base_lost: u64,
    slot_base_only: bool,
    /// Slots in a row that were base-only and lost more than the limit.
    heavy_base_loss_slots: u32,
    /// Counters for tests and reports.
    pub stats: ReceiverStats,
}

/// What the receiver did, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    pub received: u64,
    pub lost: u64,
    pub joins: u64,
    pub leaves: u64,
    pub join_timeouts: u64,
    pub loss_events: u64,
    pub late_packets: u64,
}

impl WebrcReceiver {
    /// Enters the session at `now`: the first action joins the base channel only (§3.2.1
    /// MUST).
    pub fn new(params: ReceiverParams, now: Duration) -> Self {
        let s = &params.sender;
        let (t, n, q, l, p, bcr_p) = (s.t(), s.n, s.q(), s.l(), s.p, s.bcr_p);
        let tsd = s.tsd.as_secs_f64();
        let el = params.epoch().as_secs_f64();
        let mut r = WebrcReceiver {
            t,
            n,
            q,
            l: l.max(1),
            p,
            bcr_p,
            tsd,
            el,
            no_packets_after: Duration::from_secs_f64(tsd.max(10.0)),
            no_slot_change_after: Duration::from_secs_f64((2.0 * tsd).max(20.0)),
            max_gap: (bcr_p * (1.0 / p).powi(n as i32) * tsd) as u64 + 1,
            actions: VecDeque::new(),
            joined: BTreeSet::new(),
            member: vec![false; t as usize + 1],
            sequences: vec![None; t as usize + 1],
            left_session: false,
            ctsi: None,
            last_packet: now,
            last_slot_change: now,
            nwc: 0,
            arr_p: bcr_p,
            trr_p: bcr_p,
            ssr_p: f64::INFINITY,
            ssminr_p: bcr_p * (1.0 + 1.0 / p + 1.0 / (p * p)),
            loss: LossFilter::reset(1.0),
            lossp: 1.0,
            lossp_valid: false,
            artt: 0.0,
            v: 0.0,
            rtt_measurements: 0,
            joining: Some((t, now)),
            last_wave_first_packet: None,
            last_join_delay: None,
            loss_event_until: None,
            loss_event_began: now,
            chain_join: false,
            next_epoch: now + params.epoch(),
            epoch_received: 0,
            epoch_lost: 0,
            rr_p: 0.0,
            slot_base_received: 0,
            slot_base_lost: 0,
            // The first slot is partial: it does not count.
            slot_base_only: false,
            heavy_base_loss_slots: 0,
            stats: ReceiverStats::default(),
            params,
        };
        r.join(t);
        r
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The channels joined now.
    pub fn joined(&self) -> &BTreeSet<u32> {
        &self.joined
    }

    /// NWC: wave channels joined.
    pub fn nwc(&self) -> u32 {
        self.nwc
    }

    pub fn arr_p(&self) -> f64 {
        self.arr_p
    }

    pub fn trr_p(&self) -> f64 {
        self.trr_p
    }

    pub fn artt(&self) -> f64 {
        self.artt
    }

    /// LOSSP, once slow start has ended.
    pub fn lossp(&self) -> Option<f64> {
        self.lossp_valid.then_some(self.lossp)
    }

    pub fn in_slow_start(&self) -> bool {
        self.ssr_p.is_infinite()
    }

    pub fn ctsi(&self) -> Option<u32> {
        self.ctsi
    }

    pub fn has_left(&self) -> bool {
        self.left_session
    }

    fn join(&mut self, cn: u32) {
        self.joined.insert(cn);
        if let Some(m) = self.member.get_mut(cn as usize) {
            *m = true;
        }
        self.stats.joins += 1;
        if cn != self.t {
            self.slot_base_only = false;
        }
        self.actions.push_back(Action::Join(cn));
    }

    fn leave(&mut self, cn: u32) {
        if self.joined.remove(&cn) {
            if let Some(m) = self.member.get_mut(cn as usize) {
                *m = false;
            }
            if let Some(s) = self.sequences.get_mut(cn as usize) {
                *s = None;
            }
            self.stats.leaves += 1;
            self.actions.push_back(Action::Leave(cn));
        }
    }

    fn leave_session(&mut self, why: SessionExit) {
        let all: Vec<u32> = self.joined.iter().copied().collect();
        for cn in all {
            self.leave(cn);
        }
        self.left_session = true;
        self.actions.push_back(Action::LeaveSession(why));
    }

    /// The largest PSN + 1 of a channel's sequence: base PSNs wrap at the largest multiple of
    /// L that fits (§3.1.2), wave PSNs at the field size.
    fn psn_space(&self, cn: u32) -> u64 {
        let field = match self.params.sender.form {
            CciForm::Short => 1u64 << 16,
            CciForm::Long => 1u64 << 32,
        };
        if cn == self.t {
            field / self.l * self.l
        } else {
            field
        }
    }

    /// A packet received at `now` on a joined channel, with its CCI.
    pub fn handle_packet(&mut self, now: Duration, cci: WebrcCci) {
        if self.left_session {
            return;
        }
        let (cn, ctsi, psn) = (u32::from(cci.cn), u32::from(cci.ctsi), u64::from(cci.psn));
        if ctsi >= self.t.max(1) || !self.member.get(cn as usize).copied().unwrap_or(false) {
            // Not a channel of this session's layout, or one left already (late packets).
            return;
        }
        self.last_packet = now;
        self.stats.received += 1;
        self.epoch_received += 1;
        self.loss.w += 1.0;
        // §3.2.3.2: the first packet in response to the latest join.
        if let Some((joined_cn, at)) = self.joining {
            if joined_cn == cn {
                self.first_packet_after_join(now, cn, at, psn);
            }
        }
        if cn == self.t {
            self.slot_base_received += 1;
        }
        self.check_sequence(now, cn, psn);
        self.slot(now, ctsi);
    }

    fn first_packet_after_join(&mut self, now: Duration, cn: u32, at: Duration, psn: u64) {
        self.joining = None;
        let delay = now.saturating_sub(at).as_secs_f64();
        if cn == self.t {
            // The session's first base packet: ARTT, ARR_P and TRR_P start (§3.2.2.2, §3.2.2.5).
            self.artt = delay.max(1e-3);
            self.v = self.artt * self.artt;
            self.rtt_measurements = 1;
            let k = (psn % self.l) as f64;
            let start = (self.bcr_p + k * self.p.ln() / self.tsd).max(self.p * self.bcr_p);
            self.arr_p = start;
            self.trr_p = start;
            return;
        }
        self.last_wave_first_packet = Some(now);
        // MRTT corrects for the time the wave takes to send its first packet (§3.2.2.2).
        let mrtt = delay
            - (1.0 / self.p).ln() / 2.0 / (1.0 - self.p) / self.bcr_p
                * self.p.powi(self.nwc as i32);
        let omega = (self.params.alpha * self.artt * self.artt / self.v.max(1e-12)).min(1.0);
        let k = self.rtt_measurements;
        let rho = omega / (1.0 - (1.0 - omega).powi(k as i32 + 1)).max(1e-12);
        let rho = rho.min(1.0);
        self.v = (1.0 - rho) * self.v + rho * mrtt * mrtt;
        self.artt = (self.p * self.artt).max((1.0 - rho) * self.artt + rho * mrtt);
        self.rtt_measurements += 1;
        // Slow start ends on a sharp increase of the join latency (§3.2.2.6, MUST).
        if self.in_slow_start() {
            if let Some(previous) = self.last_join_delay {
                let large = ((self.p.powi(self.nwc as i32 + 1) - 1.0)
                    / (self.p * self.p.ln())
                    / self.arr_p.max(1e-9))
                .max(self.params.latency_jitter.as_secs_f64());
                if delay - previous > large {
                    self.end_slow_start(self.ssminr_p.max(self.p * self.trr_p));
                }
            }
        }
        self.last_join_delay = Some(delay);
    }

    /// Loss detection from the PSN sequence of the channel (§3.2.3.4), tolerant to simple
    /// misordering: a PSN behind the expected one is late, not a loss.
    fn check_sequence(&mut self, now: Duration, cn: u32, psn: u64) {
        let space = self.psn_space(cn);
        let psn = psn % space;
        let Some(slot) = self.sequences.get_mut(cn as usize) else {
            return;
        };
        let expected = match slot {
            None => {
                *slot = Some(Sequence {
                    next: (psn + 1) % space,
                });
                return;
            }
            Some(s) => s.next,
        };
        let ahead = (psn + space - expected) % space;
        if ahead >= space / 2 {
            self.stats.late_packets += 1;
            return;
        }
        *slot = Some(Sequence {
            next: (psn + 1) % space,
        });
        // A wave restarts its sequence after quiescence; a jump of more than a slot's worth
        // of packets at the top rate is a restart, not a loss.
        if ahead == 0 || ahead > self.max_gap {
            return;
        }
        self.stats.lost += ahead;
        self.epoch_lost += ahead;
        if cn == self.t {
            self.slot_base_lost += ahead;
        }
        self.loss.w += ahead as f64;
        let in_event = self.loss_event_until.is_some_and(|until| now < until);
        if !in_event {
            self.stats.loss_events += 1;
            self.loss_event_until = Some(now + Duration::from_secs_f64(self.artt.max(0.0)));
            self.loss_event_began = now;
            let ssr = self.ssminr_p.max(self.p * self.trr_p);
            if self.in_slow_start() {
                self.end_slow_start(ssr);
            } else {
                self.ssr_p = ssr;
                self.loss.loss_event();
            }
        }
    }

    /// Ends slow start with SSR_P = `ssr_p`; LOSSP is reset so that REQN equals TRR_P.
    fn end_slow_start(&mut self, ssr_p: f64) {
        self.ssr_p = ssr_p;
        let a = lossp_for(self.artt.max(1e-3), self.trr_p.max(1e-9));
        self.loss = LossFilter::reset(a);
        self.lossp = a;
        self.lossp_valid = true;
    }

    /// Time slot changes (§3.2.3.3): leave wave CTSI−1 at each step.
    fn slot(&mut self, now: Duration, ctsi: u32) {
        let Some(current) = self.ctsi else {
            self.ctsi = Some(ctsi);
            self.last_slot_change = now;
            return;
        };
        let step = (ctsi + self.t - current) % self.t;
        // Zero is the same slot; a difference above T − Q/2 is a late packet of an old slot.
        if step == 0 || step > self.t - self.q / 2 {
            return;
        }
        for s in 1..=step {
            let i = (current + s) % self.t;
            let lowest = (i + self.t - 1) % self.t;
            // The base channel's rate starts high again.
            self.arr_p += (1.0 - self.p) * self.bcr_p;
            if self.joined.contains(&lowest) {
                let left = match self.params.mutant {
                    Some(WebrcMutant::NeverLeaves) => continue,
                    // The top of the joined block lowest..lowest+NWC−1.
                    Some(WebrcMutant::LeavesHighest) => {
                        (lowest + self.nwc.max(1) - 1) % self.t.max(1)
                    }
                    _ => lowest,
                };
                if self.joining.is_some_and(|(cn, _)| cn == left) {
                    self.joining = None;
                }
                self.leave(left);
                self.nwc = self.nwc.saturating_sub(1);
                self.arr_p = (self.arr_p - self.bcr_p).max(self.p * self.bcr_p);
            }
        }
        self.ctsi = Some(ctsi);
        self.last_slot_change = now;
        self.base_loss_at_slot_end();
    }

    /// §3.2.1 SHOULD: leave the session when the base channel alone keeps losing a high
    /// fraction of its packets; judged on whole slots joined to the base channel only.
    fn base_loss_at_slot_end(&mut self) {
        let (received, lost) = (self.slot_base_received, self.slot_base_lost);
        let heavy = self.slot_base_only
            && lost > 0
            && lost as f64 > self.params.base_loss_limit * (received + lost) as f64;
        self.heavy_base_loss_slots = if heavy {
            self.heavy_base_loss_slots + 1
        } else {
            0
        };
        self.slot_base_received = 0;
        self.slot_base_lost = 0;
        self.slot_base_only = self.nwc == 0;
        if self.heavy_base_loss_slots >= self.params.base_loss_slots.max(1) {
            self.leave_session(SessionExit::BaseChannelLoss);
        }
    }

    /// When [`WebrcReceiver::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.left_session {
            return None;
        }
        let (no_packets, no_slot) = self.exit_deadlines();
        let mut next = self.next_epoch.min(no_packets).min(no_slot);
        // The base channel's join has no timeout of its own: the exceptional timeouts cover it.
        if let Some((_, at)) = self.joining.filter(|(cn, _)| *cn != self.t) {
            next = next.min(at + self.join_timeout());
        }
        Some(next)
    }

    fn exit_deadlines(&self) -> (Duration, Duration) {
        (
            self.last_packet + self.no_packets_after,
            self.last_slot_change + self.no_slot_change_after,
        )
    }

    /// max{2V/ARTT, 10·ARTT} (§3.2.3.7), at least one epoch.
    fn join_timeout(&self) -> Duration {
        let artt = self.artt.max(1e-3);
        Duration::from_secs_f64((2.0 * self.v / artt).max(10.0 * artt).max(self.el))
    }

    /// Timers: epochs (with the join decision), join timeouts, exceptional timeouts.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.left_session {
            return;
        }
        let (no_packets, no_slot) = self.exit_deadlines();
        if now >= no_packets {
            return self.leave_session(SessionExit::NoPackets);
        }
        if now >= no_slot && self.ctsi.is_some() {
            return self.leave_session(SessionExit::NoSlotChange);
        }
        if let Some((cn, at)) = self.joining {
            if cn != self.t && now >= at + self.join_timeout() {
                // §3.2.3.7: the join timed out.
                self.joining = None;
                self.stats.join_timeouts += 1;
                let f = 1.0 / self.p;
                self.arr_p *= (f.powi(self.nwc as i32) - 1.0) / (f.powi(self.nwc as i32 + 1) - 1.0);
                self.nwc = self.nwc.saturating_sub(1);
                self.leave(cn);
            }
        }
        // Bounded: one epoch per EL of elapsed time.
        while now >= self.next_epoch {
            self.epoch(self.next_epoch);
            self.next_epoch += self.params.epoch();
        }
    }

    fn epoch(&mut self, now: Duration) {
        let rr = self.epoch_received as f64 / self.el;
        let irr = (self.epoch_received + self.epoch_lost) as f64 / self.el;
        self.epoch_received = 0;
        self.epoch_lost = 0;
        self.rr_p = rr;
        let ctsi_known = self.ctsi.is_some() && self.rtt_measurements > 0;
        if !ctsi_known {
            return;
        }
        // §3.2.2.5: TRR_P and ARR_P, with the start-up or normal weights.
        let (beta, zeta) = if self.in_slow_start() {
            (
                (1.0 - self.p.powf(0.25)) / 2.0,
                self.p.sqrt() / (1.0 + self.p.sqrt()),
            )
        } else {
            (
                1.0 - (self.p / (1.0 + self.p)).powf(self.el / self.tsd),
                2.0 * self.el / (4.0 + self.tsd),
            )
        };
        self.trr_p = (1.0 - zeta) * self.trr_p + zeta * rr;
        self.arr_p = self.p.powf(self.el / self.tsd) * (1.0 - beta) * self.arr_p + beta * irr;
        let f = 1.0 / self.p;
        let arr_max = (f.powi(self.nwc as i32 + 1) - 1.0) / (f - 1.0) * self.bcr_p;
        self.arr_p = self.arr_p.min(arr_max);
        if self.lossp_valid {
            let g = self.params.nu * self.el / self.tsd;
            self.lossp = self.loss.end_epoch(g, self.params.delta);
        }
        if self.should_join(now) {
            let i = match self.params.mutant {
                Some(WebrcMutant::JoinIgnoresCtsi) => 0,
                _ => self.ctsi.unwrap_or(0),
            };
            let cn = (i + self.nwc) % self.t;
            self.nwc += 1;
            self.arr_p *= (f.powi(self.nwc as i32 + 1) - 1.0) / (f.powi(self.nwc as i32) - 1.0);
            self.joining = Some((cn, now));
            self.join(cn);
        }
    }

    /// The join decision of §3.2.3.6, every no-join condition in order.
    fn should_join(&mut self, now: Duration) -> bool {
        if self.rtt_measurements == 0 {
            return false; // no base packet yet
        }
        let mutant = self.params.mutant;
        if mutant == Some(WebrcMutant::NeverJoins) {
            return false;
        }
        if self.loss_event_until.is_some_and(|until| now < until) {
            let into = now.saturating_sub(self.loss_event_began).as_secs_f64();
            return mutant == Some(WebrcMutant::JoinsInLossEvent)
                && into >= 0.5 * self.artt
                && self.joining.is_none()
                && self.nwc < self.n;
        }
        if self.nwc >= self.n {
            return false;
        }
        if self.joining.is_some() {
            // The mutant's second join: the first still waits for its packet.
            return mutant == Some(WebrcMutant::JoinsWhilePending)
                && std::mem::take(&mut self.chain_join);
        }
        let f = 1.0 / self.p;
        let next_rate =
            self.arr_p * (f.powi(self.nwc as i32 + 2) - 1.0) / (f.powi(self.nwc as i32 + 1) - 1.0);
        if self.in_slow_start() {
            // The maximum rate is reached (§3.2.2.6, MUST).
            if next_rate > self.params.mrr_p {
                self.end_slow_start(self.ssminr_p.max(self.trr_p));
            } else if let Some(first) = self.last_wave_first_packet {
                // The OPTIONAL rule: a full epoch after the last wave's first packet, and
                // TRR_P not greatly below ARR_P.
                if now.saturating_sub(first).as_secs_f64() < self.el {
                    return false;
                }
                let zeta = self.p.sqrt() / (1.0 + self.p.sqrt());
                let g = (f.powi(self.nwc as i32 + 1) - 1.0) / (f.powi(self.nwc as i32) - 1.0);
                let pe = self.p.powf(-self.el / self.tsd);
                let c = zeta + (1.0 - zeta) * pe * (zeta + (1.0 - zeta) * self.p.sqrt() * pe) / g;
                if self.trr_p < c * self.arr_p - 2.0 / self.el {
                    self.end_slow_start(self.ssminr_p.max(self.trr_p));
                    return false;
                }
            }
        }
        let trate = self.trate();
        self.chain_join = trate >= next_rate;
        self.chain_join
    }

    /// TRATE (§3.2.2.7).
    pub fn trate(&self) -> f64 {
        if self.in_slow_start() {
            (4.0 * self.trr_p).min(self.params.mrr_p)
        } else {
            let reqn = reqn(self.artt.max(1e-3), self.lossp.max(1e-12));
            self.ssr_p.max(reqn).min(self.params.mrr_p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webrc::schedule::Schedule;
    use std::collections::HashMap;

    fn sender() -> WebrcParams {
        WebrcParams::fast(14)
    }

    /// An action, when it was taken and the CTSI then.
    type Timed = (Duration, Option<u32>, Action);

    /// A receiver behind a link of `capacity` packets/s (a token bucket holding 50 ms of
    /// traffic; packets over it are dropped), with `delay` from the sender and joins taking effect
    /// after `delay` too. Runs `secs` seconds; returns the receiver, every action with its
    /// time and the CTSI then, and the packets received per second.
    fn run(
        capacity: f64,
        delay: Duration,
        secs: u64,
        mrr_p: f64,
    ) -> (WebrcReceiver, Vec<Timed>, Vec<u64>) {
        run_from(capacity, delay, secs, mrr_p, None, 0)
    }

    /// [`run`] with a layer-change bug switched on (or none), the session joined in
    /// `start_slot`.
    fn run_from(
        capacity: f64,
        delay: Duration,
        secs: u64,
        mrr_p: f64,
        mutant: Option<WebrcMutant>,
        start_slot: u64,
    ) -> (WebrcReceiver, Vec<Timed>, Vec<u64>) {
        let mut schedule = Schedule::starting_at(sender(), start_slot).unwrap();
        let mut params = ReceiverParams::new(sender());
        params.mrr_p = mrr_p;
        params.mutant = mutant;
        let start = Duration::from_secs(0);
        let mut rx = WebrcReceiver::new(params, start);
        // Membership as the network sees it: (CN, from when).
        let mut member: HashMap<u32, Duration> = HashMap::new();
        let mut actions = Vec::new();
        let mut per_second = vec![0u64; secs as usize + 1];
        // The bottleneck's buffer: 50 ms at its rate, at least 8 packets.
        let depth = (capacity * 0.05).max(8.0);
        let mut tokens = depth;
        let mut last = Duration::ZERO;
        let end = Duration::from_secs(secs);
        let apply = |rx: &mut WebrcReceiver,
                     now: Duration,
                     member: &mut HashMap<u32, Duration>,
                     actions: &mut Vec<_>| {
            while let Some(a) = rx.poll_action() {
                actions.push((now, rx.ctsi(), a));
                match a {
                    Action::Join(cn) => {
                        member.insert(cn, now + delay);
                    }
                    Action::Leave(cn) => {
                        member.remove(&cn);
                    }
                    Action::LeaveSession(_) => {}
                }
            }
        };
        apply(&mut rx, start, &mut member, &mut actions);
        // Bounded: the schedule's times grow, and the loop stops at `end`.
        loop {
            let pkt = schedule.next();
            let arrival = pkt.at + delay;
            if arrival > end {
                break;
            }
            while let Some(t) = rx.poll_timeout().filter(|t| *t <= arrival) {
                rx.handle_timeout(t);
                apply(&mut rx, t, &mut member, &mut actions);
            }
            let cn = u32::from(pkt.cci.cn);
            if member.get(&cn).is_none_or(|from| pkt.at + delay < *from) {
                continue;
            }
            tokens = (tokens + (arrival - last).as_secs_f64() * capacity).min(depth);
            last = arrival;
            if tokens < 1.0 {
                continue; // dropped at the bottleneck
            }
            tokens -= 1.0;
            rx.handle_packet(arrival, pkt.cci);
            apply(&mut rx, arrival, &mut member, &mut actions);
            per_second[arrival.as_secs() as usize] += 1;
        }
        (rx, actions, per_second)
    }

    #[test]
    fn starts_with_the_base_channel_only_and_joins_the_next_layer_up() {
        let (_rx, actions, _) = run(2_000.0, Duration::from_millis(20), 30, f64::INFINITY);
        let t = sender().t();
        assert_eq!(actions[0].2, Action::Join(t), "first the base channel");
        assert_eq!(actions[0].1, None, "before any CTSI is known");
        let mut nwc = 0u32;
        for (at, ctsi, a) in &actions[1..] {
            match a {
                Action::Join(cn) => {
                    let ctsi = ctsi.expect("no wave join before the first base packet");
                    assert_eq!(
                        *cn,
                        (ctsi + nwc) % t,
                        "join at {at:?}: CN = (CTSI + NWC) mod T"
                    );
                    nwc += 1;
                }
                Action::Leave(cn) => {
                    assert_ne!(*cn, t, "the base channel stays joined");
                    nwc -= 1;
                }
                Action::LeaveSession(_) => panic!("left the session at {at:?}"),
            }
        }
    }

    /// Each mutant shows its bug in what it asks the network for (the lab's checks judge it
    /// from the network; see `conformance/src/lab/webrc_checks.rs`).
    #[test]
    fn each_mutant_breaks_its_own_rule_on_a_virtual_clock() {
        let t = sender().t();
        // 400 packets/s, joined in slot 5, `delay_ms` from the sender.
        let actions = |mutant, delay_ms| {
            run_from(
                400.0,
                Duration::from_millis(delay_ms),
                20,
                f64::INFINITY,
                mutant,
                5,
            )
            .1
        };
        let go = |m| actions(Some(m), 20);
        let wave_joins = |actions: &[Timed]| {
            actions
                .iter()
                .filter(|a| matches!(a.2, Action::Join(cn) if cn != t))
                .count()
        };
        // Never leaves: no leave before the session ends.
        let a = go(WebrcMutant::NeverLeaves);
        assert!(wave_joins(&a) > 0);
        assert!(!a.iter().any(|x| matches!(x.2, Action::Leave(_))), "{a:?}");
        // Never joins: the base channel only.
        assert_eq!(wave_joins(&go(WebrcMutant::NeverJoins)), 0);
        // Ignores CTSI: in slot 5, its first wave join is CN 0.
        let a = go(WebrcMutant::JoinIgnoresCtsi);
        let first = a
            .iter()
            .find(|x| matches!(x.2, Action::Join(cn) if cn != t));
        assert!(
            matches!(first, Some((_, Some(5), Action::Join(0)))),
            "{first:?}"
        );
        // Leaves the highest: some slot-change leave is not of CN CTSI − 1.
        let a = go(WebrcMutant::LeavesHighest);
        assert!(
            a.iter().any(|(_, ctsi, x)| matches!(x, Action::Leave(cn)
                if ctsi.is_some_and(|c| *cn != (c + t - 1) % t))),
            "{a:?}"
        );
        // Joins while pending, or in loss events: more joins than the reference's rules allow,
        // on a path whose join latency (150 ms) spans epochs (50 ms).
        let far = |m| actions(m, 150);
        let reference = wave_joins(&far(None));
        for m in [
            WebrcMutant::JoinsWhilePending,
            WebrcMutant::JoinsInLossEvent,
        ] {
            let joins = wave_joins(&far(Some(m)));
            assert!(
                joins > reference,
                "{m}: {joins} joins, the reference {reference}"
            );
        }
    }

    #[test]
    fn the_lowest_wave_is_left_at_each_slot_change() {
        let (_rx, actions, _) = run(2_000.0, Duration::from_millis(20), 30, f64::INFINITY);
        let t = sender().t();
        // A leave is of wave CTSI−1 (a slot change) or of the wave joined last (a timed-out
        // join), nothing else.
        let mut last_join = None;
        let mut leaves = 0;
        for (at, ctsi, a) in &actions {
            match a {
                Action::Join(cn) => last_join = Some(*cn),
                Action::Leave(cn) => {
                    let ctsi = ctsi.unwrap();
                    assert!(
                        *cn == (ctsi + t - 1) % t || Some(*cn) == last_join,
                        "leave of {cn} at {at:?} in slot {ctsi}, last join {last_join:?}"
                    );
                    leaves += 1;
                }
                Action::LeaveSession(_) => {}
            }
        }
        assert!(leaves > 5, "{actions:?}");
    }

    #[test]
    fn converges_near_a_bottleneck_and_never_far_above_it() {
        // The links of 2, 8 and 30 Mbit/s with 1,400-byte packets.
        for capacity in [178.0, 714.0, 2678.0] {
            let (rx, _actions, per_second) =
                run(capacity, Duration::from_millis(20), 90, f64::INFINITY);
            let settled = &per_second[30..90];
            let mean = settled.iter().sum::<u64>() as f64 / settled.len() as f64;
            let loss = rx.stats.lost as f64 / (rx.stats.lost + rx.stats.received) as f64;
            eprintln!(
                "capacity {capacity} packets/s: mean {mean:.0} ({:.0}%), loss {:.2}%, NWC {}, ARTT {:.3} s, LOSSP {:?}",
                100.0 * mean / capacity,
                100.0 * loss,
                rx.nwc(),
                rx.artt(),
                rx.lossp()
            );
            // Measured on this model: 100%, 92% and 81% of the link, with 6%, 3.6% and 1.1% loss
            // (a short round-trip time makes REQN accept more loss at low rates). The issue's
            // lab targets (90%, 1%) are for real links; this bounds regressions.
            assert!(
                mean >= 0.75 * capacity,
                "{capacity}: mean {mean}, {per_second:?}"
            );
            assert!(mean <= capacity);
            assert!(loss <= 0.10, "{capacity}: loss {loss}");
            assert!(
                !rx.in_slow_start(),
                "losses at the bottleneck end slow start"
            );
        }
    }

    /// A receiver whose joins take effect after 20 ms plus 0 or 12 ms in turn (a host's
    /// scheduling jitter), with MRR_P = 2,000 packets/s and no bottleneck: its NWC and whether
    /// it is still in slow start after 12 s.
    fn jittered_joins(tolerance: Duration) -> (u32, bool, f64) {
        let mut params = ReceiverParams::new(sender());
        params.mrr_p = 2000.0;
        params.latency_jitter = tolerance;
        let mut rx = WebrcReceiver::new(params, Duration::ZERO);
        let mut schedule = Schedule::new(sender()).unwrap();
        let mut member: HashMap<u32, Duration> = HashMap::new();
        let mut joins = 0u32;
        let mut apply =
            |rx: &mut WebrcReceiver, now: Duration, member: &mut HashMap<u32, Duration>| {
                while let Some(a) = rx.poll_action() {
                    match a {
                        Action::Join(cn) => {
                            joins += 1;
                            let jitter = Duration::from_millis(12 * u64::from(joins % 2));
                            member.insert(cn, now + Duration::from_millis(20) + jitter);
                        }
                        Action::Leave(cn) => {
                            member.remove(&cn);
                        }
                        Action::LeaveSession(_) => {}
                    }
                }
            };
        apply(&mut rx, Duration::ZERO, &mut member);
        let mut slow_start_ended_at = f64::INFINITY;
        // Bounded: schedule times grow; the loop ends at 12 s.
        loop {
            let p = schedule.next();
            if p.at > Duration::from_secs(12) {
                break;
            }
            while let Some(t) = rx.poll_timeout().filter(|t| *t <= p.at) {
                rx.handle_timeout(t);
                apply(&mut rx, t, &mut member);
            }
            if member
                .get(&u32::from(p.cci.cn))
                .is_none_or(|from| p.at < *from)
            {
                continue;
            }
            rx.handle_packet(p.at, p.cci);
            apply(&mut rx, p.at, &mut member);
            if !rx.in_slow_start() && slow_start_ended_at.is_infinite() {
                slow_start_ended_at = rx.trr_p();
            }
        }
        (rx.nwc(), rx.in_slow_start(), slow_start_ended_at)
    }

    #[test]
    fn join_latency_jitter_below_the_tolerance_does_not_end_slow_start() {
        // The RFC's threshold alone: a 12 ms jump is "large" once the rate is a few hundred
        // packets/s, and slow start ends far below MRR_P.
        let (_, _, ended_at) = jittered_joins(Duration::ZERO);
        assert!(
            ended_at < 1000.0,
            "slow start ended at {ended_at} packets/s"
        );
        // With 25 ms tolerated, slow start runs until the maximum rate is reached (§3.2.2.6).
        let (nwc, slow_start, ended_at) = jittered_joins(Duration::from_millis(25));
        assert!(!slow_start);
        assert!(
            ended_at > 1000.0,
            "slow start ended at {ended_at} packets/s"
        );
        assert!(nwc >= 8, "NWC {nwc}");
    }

    #[test]
    fn a_receiver_with_a_maximum_rate_stays_below_it_without_losses() {
        let (rx, _actions, per_second) = run(100_000.0, Duration::from_millis(20), 60, 200.0);
        let settled = &per_second[30..60];
        let peak = *settled.iter().max().unwrap() as f64;
        assert!(peak <= 200.0 * 1.5, "peak {peak}, {per_second:?}");
        assert_eq!(rx.stats.lost, 0);
    }

    /// The base channel alone (MRR_P below one wave), with `drop_of_four` of every four base
    /// packets lost, for `slots` slots: when the receiver left the session, and why.
    fn base_only_with_loss(drop_of_four: usize, slots: u32) -> Option<(Duration, SessionExit)> {
        let mut params = ReceiverParams::new(sender());
        params.mrr_p = 30.0;
        let mut rx = WebrcReceiver::new(params, Duration::ZERO);
        let mut schedule = Schedule::new(sender()).unwrap();
        let t = sender().t() as u16;
        let end = sender().tsd * slots;
        let mut base = 0usize;
        // Bounded: schedule times grow; the loop ends at `end`.
        loop {
            let p = schedule.next();
            if p.at > end {
                return None;
            }
            while let Some(at) = rx.poll_timeout().filter(|at| *at <= p.at) {
                rx.handle_timeout(at);
                while let Some(a) = rx.poll_action() {
                    assert!(
                        !matches!(a, Action::Join(cn) if cn != u32::from(t)),
                        "{a:?}"
                    );
                }
            }
            if p.cci.cn != t {
                continue;
            }
            base += 1;
            if base % 4 < drop_of_four {
                continue;
            }
            rx.handle_packet(p.at, p.cci);
            while let Some(a) = rx.poll_action() {
                if let Action::LeaveSession(why) = a {
                    return Some((p.at, why));
                }
            }
        }
    }

    #[test]
    fn heavy_base_channel_loss_on_the_base_alone_leaves_the_session() {
        // 75% of the base lost: three whole base-only slots after the first partial one.
        let (at, why) = base_only_with_loss(3, 10).expect("left the session");
        assert_eq!(why, SessionExit::BaseChannelLoss);
        assert!(
            at >= sender().tsd * 3 && at < sender().tsd * 5,
            "after three slots of heavy loss: {at:?}"
        );
        // 25% lost is not "a high fraction": the receiver stays.
        assert_eq!(base_only_with_loss(1, 10), None);
    }

    #[test]
    fn silence_leaves_the_session() {
        let mut rx = WebrcReceiver::new(ReceiverParams::new(sender()), Duration::ZERO);
        let mut exit = None;
        for _ in 0..1000 {
            let Some(t) = rx.poll_timeout() else { break };
            rx.handle_timeout(t);
            while let Some(a) = rx.poll_action() {
                if let Action::LeaveSession(why) = a {
                    exit = Some((t, why));
                }
            }
        }
        let (at, why) = exit.expect("left");
        assert_eq!(why, SessionExit::NoPackets);
        assert_eq!(at, Duration::from_secs(10), "max{{10, TSD}} seconds");
        assert!(rx.joined().is_empty());
    }

    #[test]
    fn a_frozen_ctsi_leaves_the_session_after_max_20_2tsd() {
        let mut rx = WebrcReceiver::new(ReceiverParams::new(sender()), Duration::ZERO);
        let t = sender().t() as u16;
        let mut exit = None;
        // Base packets every 40 ms, always CTSI 3.
        for i in 1..2000u32 {
            let now = Duration::from_millis(40 * u64::from(i));
            let psn = i - 1;
            while let Some(to) = rx.poll_timeout().filter(|to| *to <= now) {
                rx.handle_timeout(to);
            }
            rx.handle_packet(
                now,
                WebrcCci {
                    form: CciForm::Short,
                    ctsi: 3,
                    cn: t,
                    psn,
                },
            );
            while let Some(a) = rx.poll_action() {
                if let Action::LeaveSession(why) = a {
                    exit.get_or_insert((now, why));
                }
            }
            if exit.is_some() {
                break;
            }
        }
        let (at, why) = exit.expect("left");
        assert_eq!(why, SessionExit::NoSlotChange);
        assert!(
            at >= Duration::from_secs(20) && at <= Duration::from_millis(20_100),
            "{at:?}"
        );
    }

    #[test]
    fn no_join_during_a_loss_event_and_a_silent_wave_times_out() {
        let t = sender().t();
        let mut rx = WebrcReceiver::new(ReceiverParams::new(sender()), Duration::ZERO);
        let mut joins = Vec::new();
        let mut leaves = Vec::new();
        let mut psn = 0u32;
        let mut lost_at = None;
        // Only the base channel ever sends; at 5 s two base packets are lost.
        for i in 1..400u64 {
            let now = Duration::from_millis(25 * i);
            while let Some(to) = rx.poll_timeout().filter(|to| *to <= now) {
                rx.handle_timeout(to);
            }
            if i == 200 {
                psn += 2;
                lost_at = Some(now);
            }
            let ctsi = (now.as_secs() % u64::from(t)) as u16;
            rx.handle_packet(
                now,
                WebrcCci {
                    form: CciForm::Short,
                    ctsi,
                    cn: t as u16,
                    psn,
                },
            );
            psn += 1;
            while let Some(a) = rx.poll_action() {
                match a {
                    Action::Join(cn) => joins.push((now, cn)),
                    Action::Leave(cn) => leaves.push((now, cn)),
                    Action::LeaveSession(_) => panic!("left"),
                }
            }
        }
        assert!(rx.stats.join_timeouts > 0, "the waves never answered");
        assert!(rx.stats.loss_events >= 1);
        let lost_at = lost_at.unwrap();
        let artt = Duration::from_secs_f64(rx.artt());
        assert!(
            !joins
                .iter()
                .any(|(at, _)| *at > lost_at && *at < lost_at + artt),
            "joined during the loss event: {joins:?}"
        );
        // Every timed-out wave is left again.
        for (_, cn) in joins.iter().filter(|(_, cn)| *cn != t) {
            assert!(leaves.iter().any(|(_, l)| l == cn), "wave {cn} never left");
        }
    }

    #[test]
    fn late_packets_of_the_old_slot_do_not_change_the_slot() {
        let t = sender().t() as u16;
        let mut rx = WebrcReceiver::new(ReceiverParams::new(sender()), Duration::ZERO);
        let base = |psn, ctsi| WebrcCci {
            form: CciForm::Short,
            ctsi,
            cn: t,
            psn,
        };
        rx.handle_packet(Duration::from_millis(10), base(0, 5));
        rx.handle_packet(Duration::from_millis(20), base(1, 6));
        assert_eq!(rx.ctsi(), Some(6));
        rx.handle_packet(Duration::from_millis(30), base(2, 5));
        assert_eq!(rx.ctsi(), Some(6), "a late packet of slot 5");
    }

    #[test]
    fn reqn_and_its_inverse_agree() {
        for (artt, rate) in [(0.05, 100.0), (0.2, 10.0), (0.01, 5000.0)] {
            let p = lossp_for(artt, rate);
            assert!(
                (reqn(artt, p) - rate).abs() / rate < 1e-6,
                "{artt} {rate} {p}"
            );
        }
    }
}
