//! The receiver checks of the WEBRC lab (RFC 3738 §3.2), judged from what the network saw:
//! the sender's schedule (its log: each slot's CTSI, so each wave's state), the bridge's
//! membership events of the receiver's port (its joins and leaves) and the tap on the
//! receiver's host (the packets and PSN gaps that reached it). The receiver's own log is
//! matched against the bridge both ways and gives only what the network cannot: when it
//! first heard the base channel, when it left the session, and its ARTT (a loss event's
//! length).

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Serialize;

use rmt_reference::webrc::packet::channel_group;

use super::membership::MembershipEvent;
use super::tap::TapRecord;

/// One RFC-keyed check of a receiver.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub passed: bool,
    /// What failed (the first offending event), or what was checked.
    pub detail: String,
}

/// One join, leave or session leave from a receiver's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedAction {
    pub t: f64,
    pub kind: String,
    pub cn: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoggedGap {
    pub t: f64,
    pub cn: u32,
    pub lost: u64,
}

/// A receiver's JSON-lines log (see `rmt_reference::driver::webrc::run_receiver`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiverLog {
    pub start_unix: f64,
    pub actions: Vec<LoggedAction>,
    /// (t, CN) of first packets after joins.
    pub firsts: Vec<(f64, u32)>,
    pub gaps: Vec<LoggedGap>,
    /// (packets, payload bytes) per second.
    pub per_second: Vec<(u64, u64)>,
    /// (t, ARTT) wherever the log gives ARTT, in time order.
    pub artts: Vec<(f64, f64)>,
}

/// The JSON lines of a lab log (`what`: whose), each with its line number; blank lines are
/// skipped.
fn json_lines<'a>(
    bytes: &'a [u8],
    what: &'static str,
) -> impl Iterator<Item = io::Result<(usize, serde_json::Value)>> + 'a {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .map(move |(i, line)| {
            serde_json::from_slice(line)
                .map(|v| (i + 1, v))
                .map_err(|e| bad_line(what, i + 1, &e.to_string()))
        })
}

fn bad_line(what: &str, n: usize, why: &str) -> io::Error {
    io::Error::other(format!("{what} log line {n}: {why}"))
}

impl ReceiverLog {
    pub fn parse(bytes: &[u8]) -> io::Result<ReceiverLog> {
        let bad = |n: usize, why: &str| bad_line("receiver", n, why);
        let mut log = ReceiverLog::default();
        for line in json_lines(bytes, "receiver") {
            let (n, v) = line?;
            let num = |k: &str| v[k].as_f64();
            let u32_of = |k: &str| v[k].as_u64().map(|x| x as u32);
            if let (Some(t), Some(a)) = (num("t"), num("artt")) {
                log.artts.push((t, a));
            }
            if let Some(s) = num("start_unix") {
                log.start_unix = s;
            } else if let Some(kind) = v["action"].as_str() {
                log.actions.push(LoggedAction {
                    t: num("t").ok_or_else(|| bad(n, "no t"))?,
                    kind: kind.to_string(),
                    cn: u32_of("cn"),
                });
            } else if let Some(cn) = u32_of("first") {
                log.firsts.push((num("t").unwrap_or(0.0), cn));
            } else if let Some(cn) = u32_of("gap") {
                log.gaps.push(LoggedGap {
                    t: num("t").unwrap_or(0.0),
                    cn,
                    lost: v["lost"].as_u64().unwrap_or(0),
                });
            } else if let Some(p) = v["packets"].as_u64() {
                log.per_second.push((p, v["bytes"].as_u64().unwrap_or(0)));
            }
        }
        log.artts.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(log)
    }

    /// The receiver's ARTT at log time `t` (its latest value then; 0 before any).
    pub fn artt_at(&self, t: f64) -> f64 {
        let i = self.artts.partition_point(|a| a.0 <= t);
        i.checked_sub(1).map_or(0.0, |i| self.artts[i].1)
    }
}

/// The sender's schedule from its log (`rmt_reference::driver::webrc::run_sender_logged`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SenderLog {
    pub start_unix: f64,
    pub tsd: f64,
    pub t: u32,
    pub n: u32,
    /// (unix time, CTSI) of each slot's first packet, in time order.
    pub slots: Vec<(f64, u32)>,
    /// Packets left out on purpose (the last line's `withheld`).
    pub withheld: u64,
}

impl SenderLog {
    pub fn parse(bytes: &[u8]) -> io::Result<SenderLog> {
        let bad = |n: usize, why: &str| bad_line("sender", n, why);
        let mut log = SenderLog::default();
        for line in json_lines(bytes, "sender") {
            let (n, v) = line?;
            if let Some(s) = v["start_unix"].as_f64() {
                log.start_unix = s;
                log.tsd = v["tsd"].as_f64().ok_or_else(|| bad(n, "no tsd"))?;
                log.t = v["t"].as_u64().ok_or_else(|| bad(n, "no t"))? as u32;
                log.n = v["n"].as_u64().ok_or_else(|| bad(n, "no n"))? as u32;
            } else if let Some(w) = v["withheld"].as_u64() {
                log.withheld = w;
            } else if let (Some(t), Some(c)) = (v["t"].as_f64(), v["ctsi"].as_u64()) {
                log.slots.push((log.start_unix + t, c as u32));
            }
        }
        if log.t == 0 {
            return Err(bad(1, "no start line"));
        }
        Ok(log)
    }

    /// The sender's CTSI at unix time `x` (None before its first packet).
    pub fn ctsi_at(&self, x: f64) -> Option<u32> {
        let i = self.slots.partition_point(|s| s.0 <= x);
        i.checked_sub(1).map(|i| self.slots[i].1)
    }

    /// The CTSIs of the slots that overlap `[from, to]`.
    fn ctsis_between(&self, from: f64, to: f64) -> Vec<u32> {
        let mut out: Vec<u32> = self.ctsi_at(from).into_iter().collect();
        out.extend(
            self.slots
                .iter()
                .filter(|s| s.0 > from && s.0 <= to)
                .map(|s| s.1),
        );
        out
    }

    /// Whether wave `cn` is active in the slot of CTSI `ctsi`: waves CTSI .. CTSI+N−1 mod T
    /// (RFC 3738 §3.1.2: wave i is active in slots i−N+1 .. i).
    pub fn active(&self, ctsi: u32, cn: u32) -> bool {
        let t = self.t.max(1);
        (cn % t + t - ctsi % t) % t < self.n
    }
}

/// What the receiver checks need besides the observations.
#[derive(Debug, Clone, Copy)]
pub struct Judging {
    /// The group of CN 0 (T, the base channel's CN, is the sender log's).
    pub group: Ipv4Addr,
    /// Unix time the sender stopped.
    pub sender_stop: f64,
    /// max{10 s, TSD}: silence after which the receiver must leave (§3.2.3.8).
    pub silence: Duration,
    /// The receiver's delay line: it hears a packet this long after the tap does.
    pub delay: Duration,
    /// The receiver's link, bit/s, where it is shaped.
    pub capacity_bps: Option<f64>,
    /// Bits one packet takes on the link (its Ethernet frame).
    pub frame_bits: f64,
    /// The sender's BCR_P (packets/s) and P.
    pub bcr_p: f64,
    pub p: f64,
}

/// What the network saw of the session and of the receiver's host.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub sender: &'a SenderLog,
    pub tap: &'a TapRecord,
}

/// How long after the tap sees a packet the receiver may act on it, besides its delay line:
/// processing and scheduling on a loaded lab host (two cores running every host).
pub const REACTION: f64 = 0.3;
/// Tolerance at the edges of the loss-event and pending-join windows: the tap and the receiver
/// read the same clock, not at the same instant.
pub const EDGE: f64 = 0.03;
/// Tolerance at the start of a loss event: a join decided just before the receiver heard the
/// loss may reach the bridge's log a little later.
pub const EVENT_START_EDGE: f64 = 0.05;
/// §3.2.3.7's RECOMMENDED join timeout is max{2V/ARTT, 10·ARTT}: a join is no longer judged
/// pending after 10·ARTT, and a leave is taken as its timeout only after half of that.
pub const JOIN_TIMEOUT_ARTTS: f64 = 10.0;
/// A link that carries this many times the base channel and the first wave at a slot's start
/// must see the receiver join a wave (`reaches-target`).
pub const REACH_FACTOR: f64 = 2.0;

/// One membership change on the bridge, with the waves joined just before it.
struct BridgeChange {
    at: f64,
    cn: u32,
    joined: bool,
    waves_before: u32,
}

/// The session's groups on the receiver's port, in the order the bridge reported them.
fn bridge_changes(bridge: &[&MembershipEvent], group: Ipv4Addr, t: u32) -> Vec<BridgeChange> {
    let cn_of = |g: Ipv4Addr| (0..=t).find(|cn| channel_group(group, *cn as u16) == g);
    let mut joined = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for e in bridge {
        let Some(cn) = cn_of(e.group) else { continue };
        let waves_before = joined.iter().filter(|c| **c != t).count() as u32;
        if e.joined {
            joined.insert(cn);
        } else {
            joined.remove(&cn);
        }
        out.push(BridgeChange {
            at: e.at,
            cn,
            joined: e.joined,
            waves_before,
        });
    }
    out
}

/// Whether the bridge had `cn` joined at `x`.
fn joined_at(changes: &[BridgeChange], cn: u32, x: f64) -> bool {
    changes
        .iter()
        .rfind(|c| c.cn == cn && c.at <= x)
        .is_some_and(|c| c.joined)
}

/// The receiver checks of RFC 3738 §3.2 on one receiver: its log, the bridge's events of its
/// port, and what the network saw.
pub fn judge_receiver(
    log: &ReceiverLog,
    bridge: &[&MembershipEvent],
    seen: Observed,
    j: Judging,
) -> Vec<Check> {
    let sender = seen.sender;
    let t = sender.t;
    let base = t;
    let delay = j.delay.as_secs_f64();
    let rel = |x: f64| x - sender.start_unix;
    let fail = |id, detail: String| Check {
        id,
        passed: false,
        detail,
    };
    let pass = |id, detail: String| Check {
        id,
        passed: true,
        detail,
    };
    let mut checks = Vec::new();
    let changes = bridge_changes(bridge, j.group, t);
    let wave_joins: Vec<&BridgeChange> = changes
        .iter()
        .filter(|c| c.joined && c.cn != base)
        .collect();
    let session_left = log
        .actions
        .iter()
        .find(|a| a.kind == "leave_session")
        .map_or(f64::INFINITY, |a| log.start_unix + a.t);

    // §3.2.1: the base channel alone first, on the log and on the bridge; no wave joined
    // before the first base packet.
    let first_base = log
        .firsts
        .iter()
        .find(|f| f.1 == base)
        .map(|f| f.0)
        .unwrap_or(f64::INFINITY);
    let first_bridge_join = bridge.iter().find(|e| e.joined);
    let base_group = channel_group(j.group, base as u16);
    const BASE_FIRST: &str = "rfc3738/3.2.1/base-channel-first";
    checks.push(match (log.actions.first(), first_bridge_join) {
        (None, _) => fail(BASE_FIRST, "no action logged".into()),
        (Some(a), _) if a.kind != "join" || a.cn != Some(base) => fail(
            BASE_FIRST,
            format!(
                "first action {} of CN {:?}, not a join of CN {base}",
                a.kind, a.cn
            ),
        ),
        (_, Some(e)) if e.group != base_group => fail(
            BASE_FIRST,
            format!(
                "the bridge saw {} joined first, not the base channel's {base_group}",
                e.group
            ),
        ),
        (_, None) => fail(
            BASE_FIRST,
            "the bridge saw no join on the receiver's port".into(),
        ),
        _ => match log
            .actions
            .iter()
            .find(|a| a.kind == "join" && a.cn != Some(base) && a.t < first_base)
        {
            Some(a) => fail(
                BASE_FIRST,
                format!(
                    "wave CN {:?} joined at {:.3} s, before the first base packet",
                    a.cn, a.t
                ),
            ),
            None => pass(
                BASE_FIRST,
                "base channel joined first and alone until its first packet".into(),
            ),
        },
    });
    // When the base channel's first packet reached the receiver: the tap's first arrival and
    // the delay line (the log's word only where the tap saw none).
    let first_base_unix = seen
        .tap
        .first_arrival(base, f64::NEG_INFINITY)
        .map_or(log.start_unix + first_base, |a| a + delay);
    let artt_at = |x: f64| {
        let a = log.artt_at(x - log.start_unix);
        // No ARTT logged: the join latency is at least the delay line.
        if a > 0.0 {
            a
        } else {
            delay
        }
    };

    // §3.2.3.6: "the wave channel with CN = i+NWC modulo T", i the sender's CTSI as the
    // receiver could know it (a slot it heard: begun a delay before the join, at most REACTION
    // more) and NWC the waves the bridge had joined just before.
    const NEXT_LAYER: &str = "rfc3738/3.2.3.6/join-next-layer";
    let wrong_join = wave_joins.iter().find_map(|c| {
        let heard = c.at - delay + EDGE;
        let ctsis = sender.ctsis_between(heard - REACTION, heard);
        let ok = ctsis.is_empty() || ctsis.iter().any(|i| (i + c.waves_before) % t == c.cn);
        (!ok).then(|| {
            format!(
                "join of CN {} at {:.3} s: the sender's CTSI was {ctsis:?} and {} waves were joined, so CN {:?} was next",
                c.cn,
                rel(c.at),
                c.waves_before,
                ctsis.iter().map(|i| (i + c.waves_before) % t).collect::<Vec<_>>()
            )
        })
    });
    checks.push(match wrong_join {
        Some(d) => fail(NEXT_LAYER, d),
        None => pass(
            NEXT_LAYER,
            format!(
                "{} wave joins on the bridge, each of (CTSI + NWC) mod T by the sender's CTSI",
                wave_joins.len()
            ),
        ),
    });

    // §3.2.3.6: no join while one is pending: from a wave's join to its first packet at the
    // receiver (the tap's first arrival + the delay line), or to its leave (timed out, or left
    // at a slot change, §3.2.3.3), at most 10·ARTT (§3.2.3.7, for a receiver that keeps a
    // timed-out group).
    const PENDING: &str = "rfc3738/3.2.3.6/no-join-while-pending";
    let while_pending = wave_joins.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        let heard = seen.tap.first_arrival(a.cn, a.at).map(|x| x + delay);
        let left = changes
            .iter()
            .find(|c| c.cn == a.cn && !c.joined && c.at >= a.at)
            .map(|c| c.at);
        let timeout = a.at + JOIN_TIMEOUT_ARTTS * artt_at(a.at);
        let end = [heard, left, Some(session_left), Some(timeout)]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
        (b.at < end - EDGE).then(|| {
            format!(
                "join of CN {} at {:.3} s while the join of CN {} ({:.3} s) was pending: its first packet reached the receiver at {}",
                b.cn,
                rel(b.at),
                a.cn,
                rel(a.at),
                heard.map_or("never".to_string(), |h| format!("{:.3} s", rel(h)))
            )
        })
    });
    checks.push(match while_pending {
        Some(d) => fail(PENDING, d),
        None => pass(
            PENDING,
            "each wave join on the bridge came after the previous one's first packet or leave"
                .into(),
        ),
    });

    // §3.2.3.3: a wave left while the sender sends (and before the session is left) is one
    // the sender had made quiescent (the lowest layer of the previous slot), or a pending join
    // that timed out (§3.2.3.7: nothing reached the host since its join, for at least half
    // the RECOMMENDED timeout).
    const LOWEST: &str = "rfc3738/3.2.3.3/leave-lowest-layer";
    let wave_leaves: Vec<&BridgeChange> = changes
        .iter()
        .filter(|c| !c.joined && c.cn != base && c.at < session_left.min(j.sender_stop) - 0.05)
        .collect();
    let wrong_leave = wave_leaves.iter().find_map(|c| {
        let ctsi = sender.ctsi_at(c.at)?;
        if !sender.active(ctsi, c.cn) {
            return None;
        }
        let joined = changes
            .iter()
            .rfind(|x| x.cn == c.cn && x.joined && x.at <= c.at)
            .map(|x| x.at);
        let timed_out = |from: f64| {
            c.at - from >= JOIN_TIMEOUT_ARTTS / 2.0 * artt_at(from)
                && !seen.tap.arrived_between(c.cn, from, c.at)
        };
        if joined.is_some_and(timed_out) {
            return None;
        }
        Some(format!(
            "leave of CN {} at {:.3} s: the sender's CTSI was {ctsi}, so wave {} was still active, and it was not a join timed out (packets of it had arrived since its join, or it was left within 5·ARTT)",
            c.cn,
            rel(c.at),
            c.cn
        ))
    });
    checks.push(match wrong_leave {
        Some(d) => fail(LOWEST, d),
        None => pass(
            LOWEST,
            format!(
                "{} wave leaves on the bridge, each of a quiescent wave or a timed-out join",
                wave_leaves.len()
            ),
        ),
    });

    // §3.2.3.3: a wave joined when the sender makes it quiescent (the slot change to CTSI
    // i ends wave i−1) is left by the time the receiver can have seen the new slot: delay
    // + half a slot.
    const AT_SLOT_CHANGE: &str = "rfc3738/3.2.3.3/left-at-slot-change";
    let grace = delay + 0.5 * sender.tsd;
    let judged: Vec<&(f64, u32)> = sender
        .slots
        .iter()
        .skip(1)
        .filter(|s| s.0 > first_base_unix && s.0 + grace < session_left.min(j.sender_stop))
        .collect();
    let kept = judged.iter().find_map(|(at, ctsi)| {
        let ended = (ctsi + t - 1) % t.max(1);
        (joined_at(&changes, ended, *at) && joined_at(&changes, ended, at + grace)).then(|| {
            format!(
                "wave {ended} went quiescent at the slot change to CTSI {ctsi} ({:.3} s) and was still joined on the bridge {grace:.2} s later",
                rel(*at)
            )
        })
    });
    checks.push(match kept {
        Some(d) => fail(AT_SLOT_CHANGE, d),
        None => pass(
            AT_SLOT_CHANGE,
            format!(
                "{} slot changes: each quiescent wave left within {grace:.2} s",
                judged.len()
            ),
        ),
    });

    // §3.2.3.6: no join during a loss event. Losses are the PSN gaps the tap saw; the receiver
    // hears one `delay` later, and its event lasts its ARTT then (§3.2.3.4); a loss inside an
    // event starts none.
    const LOSS: &str = "rfc3738/3.2.3.6/no-join-in-loss-event";
    let mut events: Vec<(f64, f64)> = Vec::new();
    for g in &seen.tap.gaps {
        let start = g.at + delay;
        if events.last().is_some_and(|e| start < e.1) {
            continue;
        }
        events.push((start, start + artt_at(start)));
    }
    let in_event = wave_joins.iter().find_map(|c| {
        let e = events
            .iter()
            .find(|e| c.at > e.0 + EVENT_START_EDGE && c.at < e.1 - EDGE)?;
        Some(format!(
            "join of CN {} at {:.3} s inside the loss event of {:.3} .. {:.3} s (packets lost on the way to the host)",
            c.cn,
            rel(c.at),
            rel(e.0),
            rel(e.1)
        ))
    });
    checks.push(match in_event {
        Some(d) => fail(LOSS, d),
        None => pass(
            LOSS,
            format!(
                "{} loss events from {} PSN gaps at the host, no wave join inside one",
                events.len(),
                seen.tap.gaps.len()
            ),
        ),
    });

    // §3.2.3.8: after max{10, TSD} s of silence the receiver leaves the session, and its
    // memberships are gone from the bridge. The silence starts when the last packet reached
    // the receiver (the tap's last arrival + the delay line).
    const SILENCE: &str = "rfc3738/3.2.3.8/leave-after-silence";
    let silence = j.silence.as_secs_f64();
    let last_heard = seen
        .tap
        .runs
        .iter()
        .map(|r| r.last + delay)
        .fold(f64::NEG_INFINITY, f64::max);
    let last_heard = if last_heard.is_finite() {
        last_heard
    } else {
        j.sender_stop
    };
    let expected = last_heard + silence;
    checks.push(if session_left.is_infinite() {
        fail(SILENCE, "no session leave after the sender stopped".into())
    } else if session_left < expected - 1.0 || session_left > expected + 2.5 {
        fail(
            SILENCE,
            format!(
                "left the session {:.2} s after its last packet (expected about {silence} s)",
                session_left - last_heard
            ),
        )
    } else {
        let still: Vec<Ipv4Addr> = joined_at_end(bridge);
        if still.is_empty() {
            pass(
                SILENCE,
                format!(
                    "left {:.2} s after its last packet; the bridge shows no membership left",
                    session_left - last_heard
                ),
            )
        } else {
            fail(
                SILENCE,
                format!("left the session but the bridge still has {still:?} on its port"),
            )
        }
    });

    // The log and the bridge agree both ways: each logged join and leave reached the network
    // within 1 s, and each membership change on the bridge was logged (IGMP the receiver does
    // not account for is a layer change no other check would see). Compared while the sender
    // sends: after it stops, the receiver's last changes race the end of the bridge's watch,
    // and leaving the session is the silence check's to judge.
    const ON_NETWORK: &str = "rfc3738/3.2/membership-on-the-network";
    let logged: Vec<(f64, u32, bool)> = log
        .actions
        .iter()
        .filter(|a| a.kind == "join" || a.kind == "leave")
        .filter_map(|a| Some((log.start_unix + a.t, a.cn?, a.kind == "join")))
        // A change on the bridge may precede its log line by up to 0.2 s (below).
        .filter(|(at, _, _)| *at <= j.sender_stop + 0.2)
        .collect();
    let unseen = logged.iter().find(|(at, cn, joined)| {
        !changes
            .iter()
            .any(|c| c.cn == *cn && c.joined == *joined && c.at >= at - 0.2 && c.at <= at + 1.0)
    });
    let unlogged = changes.iter().filter(|c| c.at <= j.sender_stop).find(|c| {
        !logged.iter().any(|(at, cn, joined)| {
            *cn == c.cn && *joined == c.joined && c.at >= at - 0.2 && c.at <= at + 1.0
        })
    });
    let verb = |joined: bool| if joined { "join" } else { "leave" };
    checks.push(match (unseen, unlogged) {
        (Some((at, cn, joined)), _) => fail(
            ON_NETWORK,
            format!(
                "{} of CN {cn} at {:.3} s not seen on the bridge within 1 s",
                verb(*joined),
                rel(*at)
            ),
        ),
        (None, Some(c)) => fail(
            ON_NETWORK,
            format!(
                "the bridge saw a {} of CN {} at {:.3} s that the receiver did not log",
                verb(c.joined),
                c.cn,
                rel(c.at)
            ),
        ),
        (None, None) => pass(
            ON_NETWORK,
            format!(
                "every join and leave seen on the bridge and every membership change on the bridge logged ({} changes)",
                changes.len()
            ),
        ),
    });

    // A receiver whose link carries the base channel and the first wave at a slot's start
    // REACH_FACTOR times over joins a wave: §3.2.3.6's decision lets it while TRATE allows,
    // and a link that wide leaves TRATE room.
    const REACH: &str = "rfc3738/3.2.3.6/reaches-target";
    let needed = REACH_FACTOR * j.bcr_p * (1.0 + 1.0 / j.p) * j.frame_bits;
    checks.push(match j.capacity_bps {
        Some(c) if c >= needed && wave_joins.is_empty() => fail(
            REACH,
            format!(
                "no wave joined on the bridge although the link ({:.2} Mbit/s) carries the base channel and the first wave ({:.2} Mbit/s at a slot's start) {REACH_FACTOR} times over",
                c / 1e6,
                needed / REACH_FACTOR / 1e6
            ),
        ),
        Some(c) if c >= needed => pass(
            REACH,
            format!(
                "{} wave joins on a link of {:.2} Mbit/s (a wave is required from {:.2} Mbit/s)",
                wave_joins.len(),
                c / 1e6,
                needed / 1e6
            ),
        ),
        _ => pass(
            REACH,
            format!(
                "not required: the link is below {:.2} Mbit/s or not shaped",
                needed / 1e6
            ),
        ),
    });
    if seen.tap.overflowed {
        checks.insert(
            0,
            fail(
                "lab/tap-complete",
                "the tap kept only the first runs and gaps: the network-judged checks saw part of the run".into(),
            ),
        );
    }
    checks
}

/// Groups whose last event on the port is a join.
fn joined_at_end(bridge: &[&MembershipEvent]) -> Vec<Ipv4Addr> {
    let mut last = std::collections::BTreeMap::new();
    for e in bridge {
        last.insert(e.group, e.joined);
    }
    last.into_iter()
        .filter(|(_, j)| *j)
        .map(|(g, _)| g)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::tap::{Gap, Run};

    /// T = 6 (N = 3, Q = 3), TSD 1 s; the sender starts at unix 100 in CTSI 0 and stops at
    /// 105; the receiver's delay line is 100 ms.
    const T: u32 = 6;
    const GROUP: Ipv4Addr = Ipv4Addr::new(233, 252, 0, 1);

    fn sender() -> SenderLog {
        SenderLog {
            start_unix: 100.0,
            tsd: 1.0,
            t: T,
            n: 3,
            slots: (0..5).map(|k| (100.0 + k as f64, k % T)).collect(),
            withheld: 0,
        }
    }

    fn act(t: f64, kind: &str, cn: Option<u32>) -> LoggedAction {
        LoggedAction {
            t,
            kind: kind.into(),
            cn,
        }
    }

    /// What the network saw of one receiver: its log, and the tap's runs and gaps.
    #[derive(Clone)]
    struct World {
        log: ReceiverLog,
        tap: TapRecord,
    }

    /// A receiver that does it right: base, then waves 0 and 1 in CTSI 0; at each slot change
    /// the lowest wave left (0 at CTSI 1, 1 at 2, 2 at 3, 3 at 4) and the next joined (2 at
    /// CTSI 1, 3 at CTSI 2 after a loss event of 102.6 .. 102.8); the session left 10 s after
    /// the sender stopped.
    fn good() -> World {
        let log = ReceiverLog {
            start_unix: 100.0,
            actions: vec![
                act(0.0, "join", Some(T)),
                act(0.2, "join", Some(0)),
                act(0.4, "join", Some(1)),
                act(1.15, "leave", Some(0)),
                act(1.3, "join", Some(2)),
                act(2.15, "leave", Some(1)),
                act(2.9, "join", Some(3)),
                act(3.15, "leave", Some(2)),
                act(4.15, "leave", Some(3)),
                act(15.0, "leave", Some(T)),
                act(15.0, "leave_session", None),
            ],
            firsts: vec![(0.05, T), (0.32, 0), (0.52, 1), (1.42, 2), (3.02, 3)],
            gaps: Vec::new(),
            per_second: vec![(10, 10_000)],
            artts: vec![(0.05, 0.2)],
        };
        let run = |cn, first, last| Run {
            cn,
            first,
            last,
            packets: 10,
        };
        let mut tap = TapRecord::default();
        tap.runs = vec![
            run(T, 100.05, 105.0),
            run(0, 100.22, 101.0),
            run(1, 100.42, 102.0),
            run(2, 101.32, 103.0),
            run(3, 102.92, 104.0),
        ];
        tap.gaps = vec![Gap {
            at: 102.5,
            cn: 2,
            lost: 2,
        }];
        tap.packets = 1000;
        World { log, tap }
    }

    /// The bridge saw each logged join and leave 10 ms later.
    fn bridge_of(log: &ReceiverLog) -> Vec<MembershipEvent> {
        log.actions
            .iter()
            .filter_map(|a| {
                Some(MembershipEvent {
                    at: log.start_unix + a.t + 0.01,
                    port: "p1".into(),
                    group: channel_group(GROUP, a.cn? as u16),
                    joined: a.kind == "join",
                })
            })
            .collect()
    }

    fn judge_with(w: &World, bridge: &[MembershipEvent]) -> Vec<Check> {
        let refs: Vec<&MembershipEvent> = bridge.iter().collect();
        let sender = sender();
        judge_receiver(
            &w.log,
            &refs,
            Observed {
                sender: &sender,
                tap: &w.tap,
            },
            Judging {
                group: GROUP,
                sender_stop: 105.0,
                silence: Duration::from_secs(10),
                delay: Duration::from_millis(100),
                capacity_bps: Some(10e6),
                frame_bits: 12_112.0,
                bcr_p: 20.0,
                p: 0.75,
            },
        )
    }

    fn failed_with(w: &World, bridge: &[MembershipEvent]) -> Vec<&'static str> {
        judge_with(w, bridge)
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.id)
            .collect()
    }

    fn failed(w: &World) -> Vec<&'static str> {
        failed_with(w, &bridge_of(&w.log))
    }

    fn mutate(f: impl Fn(&mut World)) -> Vec<&'static str> {
        let mut w = good();
        f(&mut w);
        failed(&w)
    }

    fn action(w: &mut World, t: f64) -> &mut LoggedAction {
        w.log.actions.iter_mut().find(|a| a.t == t).unwrap()
    }

    #[test]
    fn a_correct_receiver_passes_every_check_and_the_checks_are_the_catalogues() {
        let w = good();
        let checks = judge_with(&w, &bridge_of(&w.log));
        assert!(checks.iter().all(|c| c.passed), "{checks:#?}");
        let ids: Vec<&str> = checks.iter().map(|c| c.id).collect();
        let catalogue: Vec<&str> = crate::catalogue::LAB_CASES.iter().map(|c| c.0).collect();
        assert_eq!(ids, catalogue);
    }

    #[test]
    fn each_wrong_layer_change_fails_its_own_check_judged_from_the_network() {
        // A wave joined before the first base packet.
        assert_eq!(
            mutate(|w| w.log.firsts[0].0 = 0.3),
            ["rfc3738/3.2.1/base-channel-first"]
        );
        // CN 4 where the sender's CTSI 1 and one joined wave made CN 2 next (the later
        // checks see wave 4 kept to the end as well).
        let f = mutate(|w| {
            action(w, 1.3).cn = Some(4);
            w.tap.runs[3].cn = 4;
        });
        assert!(f.contains(&"rfc3738/3.2.3.6/join-next-layer"), "{f:?}");
        // Wave 1 joined at 0.25, while wave 0's join (0.2) waited for its first packet, which
        // reached the host at 100.22 and the receiver 100 ms later.
        assert_eq!(
            mutate(|w| action(w, 0.4).t = 0.25),
            ["rfc3738/3.2.3.6/no-join-while-pending"]
        );
        // At the slot change to CTSI 2, wave 2 (active, receiving) left instead of wave 1.
        let f = mutate(|w| {
            action(w, 2.15).cn = Some(2);
            action(w, 3.15).cn = Some(1);
        });
        assert!(f.contains(&"rfc3738/3.2.3.3/leave-lowest-layer"), "{f:?}");
        assert!(f.contains(&"rfc3738/3.2.3.3/left-at-slot-change"), "{f:?}");
        // Wave 1 never left at the slot change that made it quiescent (left a slot later).
        assert_eq!(
            mutate(|w| action(w, 2.15).t = 3.1),
            ["rfc3738/3.2.3.3/left-at-slot-change"]
        );
        // A loss at the host at 102.75: the receiver's event is 102.85 .. 103.05, and the join
        // at 102.91 is inside it.
        assert_eq!(
            mutate(|w| w.tap.gaps[0].at = 102.75),
            ["rfc3738/3.2.3.6/no-join-in-loss-event"]
        );
        // The session left after 3 s of silence, or never.
        let f = mutate(|w| {
            for a in w.log.actions.iter_mut().filter(|a| a.t == 15.0) {
                a.t = 8.0;
            }
        });
        assert_eq!(f, ["rfc3738/3.2.3.8/leave-after-silence"]);
        let f = mutate(|w| w.log.actions.retain(|a| a.t < 15.0));
        assert_eq!(f, ["rfc3738/3.2.3.8/leave-after-silence"]);
        // No wave ever joined on a 10 Mbit/s link: the base channel and the first wave take
        // 20 × (1 + 1/0.75) packets/s × 12,112 bits = 0.57 Mbit/s.
        let f = mutate(|w| {
            w.log.actions.retain(|a| a.cn == Some(T) || a.cn.is_none());
            w.tap.runs.truncate(1);
            w.tap.gaps.clear();
        });
        assert_eq!(f, ["rfc3738/3.2.3.6/reaches-target"]);
    }

    /// A join of wave 3 at 1.6 s that never gets a packet, left at 2.65 s (1.05 s = 5.25·ARTT
    /// later) while wave 3 is active: a timed-out join (§3.2.3.7), not a wrong leave. The
    /// pending join ends with its leave; the tap overflowing fails the run.
    #[test]
    fn a_timed_out_join_may_leave_an_active_wave_but_only_after_the_timeout() {
        let timed_out = || {
            let mut w = good();
            w.log.actions.insert(5, act(1.6, "join", Some(3)));
            w.log.actions.insert(7, act(2.65, "leave", Some(3)));
            w
        };
        assert_eq!(failed(&timed_out()), Vec::<&str>::new());
        // Left after 0.5 s: too early for a timeout.
        let mut w = timed_out();
        w.log.actions[7].t = 2.1;
        assert_eq!(failed(&w), ["rfc3738/3.2.3.3/leave-lowest-layer"]);
        // Packets of wave 3 had arrived: it did not time out.
        let mut w = timed_out();
        w.tap.runs[4].first = 101.7;
        assert!(failed(&w).contains(&"rfc3738/3.2.3.3/leave-lowest-layer"));
        // A join at 2.4 s, before the timed-out join's leave (2.65 s), was a join while
        // pending.
        let mut w = timed_out();
        w.log.actions.insert(7, act(2.4, "join", Some(4)));
        let f = failed(&w);
        assert!(
            f.contains(&"rfc3738/3.2.3.6/no-join-while-pending"),
            "{f:?}"
        );
        let mut w = good();
        w.tap.overflowed = true;
        assert_eq!(failed(&w), ["lab/tap-complete"]);
    }

    #[test]
    fn the_log_and_the_bridge_must_agree_both_ways() {
        let w = good();
        // The leave of wave 1 never reached the network: the membership stays.
        let mut bridge = bridge_of(&w.log);
        bridge.retain(|e| e.group != channel_group(GROUP, 1) || e.joined);
        let f = failed_with(&w, &bridge);
        assert!(
            f.contains(&"rfc3738/3.2/membership-on-the-network"),
            "{f:?}"
        );
        assert!(f.contains(&"rfc3738/3.2.3.3/left-at-slot-change"), "{f:?}");
        // A join on the bridge the receiver never logged.
        let mut bridge = bridge_of(&w.log);
        bridge.push(MembershipEvent {
            at: 103.5,
            port: "p1".into(),
            group: channel_group(GROUP, 5),
            joined: true,
        });
        bridge.push(MembershipEvent {
            at: 103.6,
            port: "p1".into(),
            group: channel_group(GROUP, 5),
            joined: false,
        });
        let f = failed_with(&w, &bridge);
        assert!(
            f.contains(&"rfc3738/3.2/membership-on-the-network"),
            "{f:?}"
        );
        // The bridge saw a wave first.
        let mut bridge = bridge_of(&w.log);
        bridge.swap(0, 1);
        assert!(failed_with(&w, &bridge).contains(&"rfc3738/3.2.1/base-channel-first"));
    }

    #[test]
    fn membership_changes_after_the_sender_stops_are_left_to_the_silence_check() {
        // A join logged once the sender had stopped (105 s), which the bridge's watch, ending
        // with the run, never saw: not a membership-on-the-network failure.
        let mut w = good();
        let bridge = bridge_of(&w.log);
        let after_stop = 105.5 - w.log.start_unix;
        w.log.actions.push(act(after_stop, "join", Some(3)));
        let f = failed_with(&w, &bridge);
        assert!(
            !f.contains(&"rfc3738/3.2/membership-on-the-network"),
            "{f:?}"
        );
        // The same join while the sender sends is still one.
        let mut w = good();
        let bridge = bridge_of(&w.log);
        let before_stop = 104.0 - w.log.start_unix;
        w.log.actions.push(act(before_stop, "join", Some(3)));
        let f = failed_with(&w, &bridge);
        assert!(
            f.contains(&"rfc3738/3.2/membership-on-the-network"),
            "{f:?}"
        );
    }

    #[test]
    fn logs_parse() {
        let text = br#"{"start_unix":1700000000.5}
{"t":0.0,"action":"join","cn":24,"ctsi":null,"nwc":0,"artt":0.0}
{"t":0.1,"first":24,"artt":0.02}
{"t":2.5,"gap":3,"lost":2,"artt":0.02}
{"t":0,"packets":20,"bytes":28000}
{"summary":{"received":20}}
"#;
        let log = ReceiverLog::parse(text).unwrap();
        assert_eq!(log.start_unix, 1700000000.5);
        assert_eq!(log.actions.len(), 1);
        assert_eq!(log.actions[0].cn, Some(24));
        // The judge reads ARTT from every line that gives one (the action's as well).
        assert_eq!(log.artts[0], (0.0, 0.0));
        assert_eq!(log.firsts, [(0.1, 24)]);
        assert_eq!(log.gaps[0].lost, 2);
        assert_eq!(log.per_second, [(20, 28000)]);
        assert_eq!(log.artt_at(0.05), 0.0);
        assert_eq!(log.artt_at(0.2), 0.02);
        assert!(ReceiverLog::parse(b"not json\n").is_err());
        let text = br#"{"start_unix":50.0,"tsd":1.0,"t":32,"n":22}
{"t":0.0,"ctsi":5}
{"t":1.0,"ctsi":6}
{"packets":900,"withheld":3}
"#;
        let s = SenderLog::parse(text).unwrap();
        assert_eq!((s.t, s.n, s.slots.len(), s.withheld), (32, 22, 2, 3));
        assert_eq!(s.ctsi_at(49.0), None);
        assert_eq!(s.ctsi_at(50.5), Some(5));
        assert_eq!(s.ctsi_at(51.0), Some(6));
        assert!(s.active(6, 6) && s.active(6, 27) && !s.active(6, 28) && !s.active(6, 5));
        assert!(SenderLog::parse(b"{\"t\":0.0,\"ctsi\":1}\n").is_err());
    }
}
