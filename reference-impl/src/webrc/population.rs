//! Many WEBRC receivers on a virtual clock (issue 7: the "millions of receivers" design): one
//! sender schedule, receivers with heterogeneous last-link capacities and delays, each behind
//! its own bottleneck (a token bucket holding 50 ms of traffic, packets over it dropped), each
//! running [`WebrcReceiver`]. Membership follows the receivers' joins and leaves after their
//! delay. The report is the distribution of achieved/available rate ratios after a warm-up.
//!
//! Cost: one delivery per packet per receiver joined to its channel, so about
//! receivers x mean rate x duration deliveries; membership lists per channel keep the rest
//! proportional to that.

use std::time::Duration;

use super::receiver::{Action, ReceiverParams, WebrcReceiver};
use super::schedule::{Schedule, WebrcParams};
use crate::rng::SeededRng;

/// The population to simulate.
#[derive(Debug, Clone)]
pub struct PopulationConfig {
    pub sender: WebrcParams,
    pub receivers: usize,
    /// Last-link capacities in packets per second, drawn log-uniformly from this range.
    pub capacity: (f64, f64),
    /// One-way delays (and join latencies), drawn uniformly from this range.
    pub delay: (Duration, Duration),
    pub duration: Duration,
    /// Rates are averaged after this.
    pub warm_up: Duration,
    pub seed: u64,
}

impl PopulationConfig {
    /// The population of the example and the tests: [`WebrcParams::fast`] with N = 14, last
    /// links from 50 to 2,000 packets/s (log-uniform), one-way delays of 5-80 ms, a warm-up
    /// of 3/8 of the session.
    pub fn example(receivers: usize, duration: Duration, seed: u64) -> Self {
        PopulationConfig {
            sender: WebrcParams::fast(14),
            receivers,
            capacity: (50.0, 2000.0),
            delay: (Duration::from_millis(5), Duration::from_millis(80)),
            duration,
            warm_up: duration * 3 / 8,
            seed,
        }
    }
}

/// One receiver's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceiverOutcome {
    pub capacity: f64,
    /// Packets per second received after the warm-up.
    pub achieved: f64,
    /// The rate available to it: its capacity, or the sender's top rate if lower.
    pub available: f64,
    /// Packets lost (at its bottleneck) over packets sent to it, after the warm-up.
    pub loss: f64,
    pub left_session: bool,
}

impl ReceiverOutcome {
    pub fn ratio(&self) -> f64 {
        self.achieved / self.available
    }
}

struct Member {
    rx: WebrcReceiver,
    capacity: f64,
    delay: Duration,
    tokens: f64,
    depth: f64,
    last_arrival: Duration,
    received_after: u64,
    dropped_after: u64,
}

/// Channel membership: per channel the (receiver, from) list, and per (channel, receiver)
/// the position in it.
struct Channels {
    members: Vec<Vec<(usize, Duration)>>,
    position: Vec<Vec<Option<usize>>>,
}

impl Channels {
    fn new(channels: usize, receivers: usize) -> Self {
        Channels {
            members: vec![Vec::new(); channels],
            position: vec![vec![None; receivers]; channels],
        }
    }

    fn join(&mut self, cn: usize, receiver: usize, from: Duration) {
        let (Some(list), Some(pos)) = (self.members.get_mut(cn), self.position.get_mut(cn)) else {
            return;
        };
        if pos[receiver].is_none() {
            pos[receiver] = Some(list.len());
            list.push((receiver, from));
        }
    }

    fn leave(&mut self, cn: usize, receiver: usize) {
        let (Some(list), Some(pos)) = (self.members.get_mut(cn), self.position.get_mut(cn)) else {
            return;
        };
        if let Some(at) = pos[receiver].take() {
            list.swap_remove(at);
            if let Some((moved, _)) = list.get(at) {
                pos[*moved] = Some(at);
            }
        }
    }
}

/// Runs the population; returns one outcome per receiver, in creation order.
pub fn simulate(cfg: &PopulationConfig) -> Result<Vec<ReceiverOutcome>, String> {
    let mut schedule = Schedule::new(cfg.sender.clone())?;
    let t = cfg.sender.t() as usize;
    let top = cfg.sender.top_rate();
    let mut rng = SeededRng::new(cfg.seed);
    let (lo, hi) = (cfg.capacity.0.max(1e-3), cfg.capacity.1.max(cfg.capacity.0));
    let mut members: Vec<Member> = (0..cfg.receivers)
        .map(|_| {
            let capacity = (lo.ln() + rng.unit() * (hi.ln() - lo.ln())).exp();
            let (d0, d1) = (cfg.delay.0.as_secs_f64(), cfg.delay.1.as_secs_f64());
            let delay = Duration::from_secs_f64(d0 + rng.unit() * (d1 - d0).max(0.0));
            let depth = (capacity * 0.05).max(8.0);
            let mut params = ReceiverParams::new(cfg.sender.clone());
            // The receiver knows its last link (§3.2.1: the recommended MRR_b).
            params.mrr_p = capacity;
            Member {
                rx: WebrcReceiver::new(params, Duration::ZERO),
                capacity,
                delay,
                tokens: depth,
                depth,
                last_arrival: Duration::ZERO,
                received_after: 0,
                dropped_after: 0,
            }
        })
        .collect();
    // Per channel (CN 0..=T): receivers joined and from when packets reach them; leaves are
    // O(1) swap-removes (every receiver leaves a wave at every slot change).
    let mut channels = Channels::new(t + 1, members.len());
    let apply = |i: usize, m: &mut Member, now: Duration, channels: &mut Channels| {
        while let Some(a) = m.rx.poll_action() {
            match a {
                Action::Join(cn) => channels.join(cn as usize, i, now + m.delay),
                Action::Leave(cn) => channels.leave(cn as usize, i),
                Action::LeaveSession(_) => {}
            }
        }
    };
    for (i, m) in members.iter_mut().enumerate() {
        apply(i, m, Duration::ZERO, &mut channels);
    }
    let mut joined_now: Vec<(usize, Duration)> = Vec::new();
    // Bounded: schedule times grow, and the loop ends at `duration`.
    loop {
        let pkt = schedule.next();
        if pkt.at > cfg.duration {
            break;
        }
        let Some(list) = channels.members.get(usize::from(pkt.cci.cn)) else {
            continue;
        };
        joined_now.clear();
        joined_now.extend_from_slice(list);
        for &(i, from) in &joined_now {
            let m = &mut members[i];
            let arrival = pkt.at + m.delay;
            if arrival < from || m.rx.has_left() {
                continue;
            }
            while let Some(to) = m.rx.poll_timeout().filter(|to| *to <= arrival) {
                m.rx.handle_timeout(to);
                apply(i, m, to, &mut channels);
            }
            if !m.rx.joined().contains(&u32::from(pkt.cci.cn)) {
                continue;
            }
            m.tokens =
                (m.tokens + (arrival - m.last_arrival).as_secs_f64() * m.capacity).min(m.depth);
            m.last_arrival = arrival;
            let counted = arrival >= cfg.warm_up;
            if m.tokens < 1.0 {
                m.dropped_after += u64::from(counted);
                continue;
            }
            m.tokens -= 1.0;
            m.received_after += u64::from(counted);
            m.rx.handle_packet(arrival, pkt.cci);
            apply(i, m, arrival, &mut channels);
        }
    }
    let window = cfg
        .duration
        .saturating_sub(cfg.warm_up)
        .as_secs_f64()
        .max(1e-9);
    Ok(members
        .iter()
        .map(|m| {
            let sent = m.received_after + m.dropped_after;
            ReceiverOutcome {
                capacity: m.capacity,
                achieved: m.received_after as f64 / window,
                available: m.capacity.min(top),
                loss: if sent == 0 {
                    0.0
                } else {
                    m.dropped_after as f64 / sent as f64
                },
                left_session: m.rx.has_left(),
            }
        })
        .collect())
}

/// Percentiles of a list (nearest rank), for reports.
pub fn percentiles(values: &mut [f64], ps: &[f64]) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    ps.iter()
        .map(|p| {
            if values.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
            values[rank.min(values.len() - 1)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(receivers: usize) -> PopulationConfig {
        PopulationConfig::example(receivers, Duration::from_secs(40), 7)
    }

    #[test]
    fn a_population_reaches_most_of_its_capacity_and_nobody_leaves() {
        let out = simulate(&config(200)).unwrap();
        assert_eq!(out.len(), 200);
        assert!(out.iter().all(|o| !o.left_session));
        assert!(
            out.iter().all(|o| o.achieved <= o.capacity * 1.01),
            "never above the link"
        );
        let mut ratios: Vec<f64> = out.iter().map(ReceiverOutcome::ratio).collect();
        let p = percentiles(&mut ratios, &[10.0, 50.0]);
        assert!(p[0] >= 0.6, "10th percentile {p:?}");
        assert!(p[1] >= 0.8, "median {p:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_population() {
        let mut c = config(20);
        c.duration = Duration::from_secs(12);
        c.warm_up = Duration::from_secs(4);
        assert_eq!(simulate(&c).unwrap(), simulate(&c).unwrap());
        let mut other = c.clone();
        other.seed = 8;
        assert_ne!(simulate(&c).unwrap(), simulate(&other).unwrap());
    }
}
