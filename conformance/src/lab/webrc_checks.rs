//! The receiver checks of the WEBRC lab (RFC 3738 §3.2): a receiver's JSON-lines log (see
//! `rmt_reference::webrc::udp::run_receiver`) and the bridge's membership events of its port,
//! judged against the join and leave rules.

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Serialize;

use rmt_reference::webrc::packet::channel_group;

use super::membership::MembershipEvent;

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
    pub ctsi: Option<u32>,
    pub nwc: u32,
    pub artt: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoggedGap {
    pub t: f64,
    pub cn: u32,
    pub lost: u64,
    pub artt: f64,
}

/// A receiver's JSON-lines log (see `rmt_reference::webrc::udp::run_receiver`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiverLog {
    pub start_unix: f64,
    pub actions: Vec<LoggedAction>,
    /// (t, CN) of first packets after joins.
    pub firsts: Vec<(f64, u32)>,
    pub gaps: Vec<LoggedGap>,
    /// (packets, payload bytes) per second.
    pub per_second: Vec<(u64, u64)>,
}

impl ReceiverLog {
    pub fn parse(bytes: &[u8]) -> io::Result<ReceiverLog> {
        let bad = |n: usize, why: &str| io::Error::other(format!("receiver log line {n}: {why}"));
        let mut log = ReceiverLog::default();
        for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad(i + 1, &e.to_string()))?;
            let num = |k: &str| v[k].as_f64();
            let u32_of = |k: &str| v[k].as_u64().map(|x| x as u32);
            if let Some(s) = num("start_unix") {
                log.start_unix = s;
            } else if let Some(kind) = v["action"].as_str() {
                log.actions.push(LoggedAction {
                    t: num("t").ok_or_else(|| bad(i + 1, "no t"))?,
                    kind: kind.to_string(),
                    cn: u32_of("cn"),
                    ctsi: u32_of("ctsi"),
                    nwc: u32_of("nwc").unwrap_or(0),
                    artt: num("artt").unwrap_or(0.0),
                });
            } else if let Some(cn) = u32_of("first") {
                log.firsts.push((num("t").unwrap_or(0.0), cn));
            } else if let Some(cn) = u32_of("gap") {
                log.gaps.push(LoggedGap {
                    t: num("t").unwrap_or(0.0),
                    cn,
                    lost: v["lost"].as_u64().unwrap_or(0),
                    artt: num("artt").unwrap_or(0.0),
                });
            } else if let Some(p) = v["packets"].as_u64() {
                log.per_second.push((p, v["bytes"].as_u64().unwrap_or(0)));
            }
        }
        Ok(log)
    }
}

/// What the receiver checks need besides the log.
#[derive(Debug, Clone, Copy)]
pub struct Judging {
    /// T: wave channels; the base channel is CN = T.
    pub t: u32,
    /// The group of CN 0.
    pub group: Ipv4Addr,
    /// Unix time the sender stopped.
    pub sender_stop: f64,
    /// max{10 s, TSD}: silence after which the receiver must leave (§3.2.3.8).
    pub silence: Duration,
}

/// The receiver checks of RFC 3738 §3.2 on one receiver's log and the bridge's events of its
/// port.
pub fn judge_receiver(log: &ReceiverLog, bridge: &[&MembershipEvent], j: Judging) -> Vec<Check> {
    let t = j.t;
    let base = t;
    let fail = |id, detail: String| Check {
        id,
        passed: false,
        detail,
    };
    let pass = |id, detail: &str| Check {
        id,
        passed: true,
        detail: detail.to_string(),
    };
    let mut checks = Vec::new();

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
    checks.push(match (log.actions.first(), first_bridge_join) {
        (None, _) => fail(
            "rfc3738/3.2.1/base-channel-first",
            "no action logged".into(),
        ),
        (Some(a), _) if a.kind != "join" || a.cn != Some(base) => fail(
            "rfc3738/3.2.1/base-channel-first",
            format!(
                "first action {} of CN {:?}, not a join of CN {base}",
                a.kind, a.cn
            ),
        ),
        (_, Some(e)) if e.group != base_group => fail(
            "rfc3738/3.2.1/base-channel-first",
            format!(
                "the bridge saw {} joined first, not the base channel's {base_group}",
                e.group
            ),
        ),
        (_, None) => fail(
            "rfc3738/3.2.1/base-channel-first",
            "the bridge saw no join on the receiver's port".into(),
        ),
        _ => match log
            .actions
            .iter()
            .find(|a| a.kind == "join" && a.cn != Some(base) && a.t < first_base)
        {
            Some(a) => fail(
                "rfc3738/3.2.1/base-channel-first",
                format!(
                    "wave CN {:?} joined at {:.3} s, before the first base packet",
                    a.cn, a.t
                ),
            ),
            None => pass(
                "rfc3738/3.2.1/base-channel-first",
                "base channel joined first and alone until its first packet",
            ),
        },
    });

    // §3.2.3.6: a join targets CN = (CTSI + NWC) mod T (NWC before the join).
    let waves = |kind: &'static str| {
        log.actions
            .iter()
            .filter(move |a| a.kind == kind && a.cn.is_some_and(|c| c != base))
    };
    checks.push(
        match waves("join").find(|a| {
            a.ctsi
                .is_none_or(|c| a.cn != Some((c + a.nwc.saturating_sub(1)) % t.max(1)))
        }) {
            Some(a) => fail(
                "rfc3738/3.2.3.6/join-next-layer",
                format!(
                    "join of CN {:?} at {:.3} s with CTSI {:?}, NWC before {}",
                    a.cn,
                    a.t,
                    a.ctsi,
                    a.nwc.saturating_sub(1)
                ),
            ),
            None => pass(
                "rfc3738/3.2.3.6/join-next-layer",
                &format!(
                    "{} wave joins, each of (CTSI + NWC) mod T",
                    waves("join").count()
                ),
            ),
        },
    );

    // Interleave joins, leaves and first packets in time order (a first packet at the same time
    // as a join, from the same packet, comes before it: the packet ended the pending join).
    enum Ev<'a> {
        First(u32),
        Act(&'a LoggedAction),
    }
    let mut timeline: Vec<(f64, u8, Ev)> = log
        .firsts
        .iter()
        .map(|f| (f.0, 0, Ev::First(f.1)))
        .chain(log.actions.iter().map(|a| (a.t, 1, Ev::Act(a))))
        .collect();
    timeline.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

    // §3.2.3.6: no join while one is pending (from a wave's join to its first packet, or to its
    // leave when the join times out, §3.2.3.7); §3.2.3.3: a wave left is the lowest layer, CN
    // (CTSI − 1) mod T at a slot change, or the pending join that timed out.
    // Leaving the session leaves every channel at once (§3.2.3.8): those leaves are judged by
    // the session-leave check.
    let session_leave = log.actions.iter().find(|a| a.kind == "leave_session");
    let session_left_at = session_leave.map_or(f64::INFINITY, |a| a.t);
    let mut pending: Option<u32> = None;
    let mut while_pending = None;
    let mut wrong_leave = None;
    for (_, _, ev) in &timeline {
        match ev {
            Ev::First(cn) if pending == Some(*cn) => pending = None,
            Ev::First(_) => {}
            Ev::Act(a) if a.kind == "join" && a.cn != Some(base) => {
                if let (Some(p), None) = (pending, &while_pending) {
                    while_pending = Some(format!(
                        "join of CN {:?} at {:.3} s while the join of CN {p} was pending",
                        a.cn, a.t
                    ));
                }
                pending = a.cn;
            }
            Ev::Act(a) if a.kind == "leave" && a.cn != Some(base) => {
                let lowest = a.ctsi.map(|c| (c + t - 1) % t.max(1));
                if a.t >= session_left_at {
                    continue;
                }
                if a.cn.is_some() && a.cn == pending {
                    pending = None;
                } else if a.cn != lowest && wrong_leave.is_none() {
                    wrong_leave = Some(format!(
                        "leave of CN {:?} at {:.3} s with CTSI {:?}: neither the lowest layer nor a timed-out join",
                        a.cn, a.t, a.ctsi
                    ));
                }
            }
            Ev::Act(_) => {}
        }
    }
    checks.push(match while_pending {
        Some(d) => fail("rfc3738/3.2.3.6/no-join-while-pending", d),
        None => pass(
            "rfc3738/3.2.3.6/no-join-while-pending",
            "each wave join waited for the previous join's first packet or timeout",
        ),
    });
    checks.push(match wrong_leave {
        Some(d) => fail("rfc3738/3.2.3.3/leave-lowest-layer", d),
        None => pass(
            "rfc3738/3.2.3.3/leave-lowest-layer",
            &format!(
                "{} wave leaves, each of CN (CTSI - 1) mod T or a timed-out join",
                waves("leave").count()
            ),
        ),
    });

    // §3.2.3.6: no join during a loss event: a gap starts one unless inside one, and it lasts
    // ARTT.
    let mut events: Vec<(f64, f64)> = Vec::new();
    for g in &log.gaps {
        if !events.last().is_some_and(|e| g.t < e.1) {
            events.push((g.t, g.t + g.artt.max(0.0)));
        }
    }
    checks.push(
        match waves("join").find(|a| events.iter().any(|e| a.t >= e.0 && a.t < e.1)) {
            Some(a) => fail(
                "rfc3738/3.2.3.6/no-join-in-loss-event",
                format!("join of CN {:?} at {:.3} s during a loss event", a.cn, a.t),
            ),
            None => pass(
                "rfc3738/3.2.3.6/no-join-in-loss-event",
                &format!("{} loss events, no join inside one", events.len()),
            ),
        },
    );

    // §3.2.3.8: after max{10, TSD} s of silence the receiver leaves the session, and its
    // memberships are gone from the bridge.
    let silence = j.silence.as_secs_f64();
    let left = session_leave.map(|a| log.start_unix + a.t);
    let expected = j.sender_stop + silence;
    checks.push(match left {
        None => fail(
            "rfc3738/3.2.3.8/leave-after-silence",
            "no session leave after the sender stopped".into(),
        ),
        Some(at) if at < expected - 1.0 || at > expected + 2.5 => fail(
            "rfc3738/3.2.3.8/leave-after-silence",
            format!(
                "left the session {:.2} s after the sender stopped (expected about {silence} s)",
                at - j.sender_stop
            ),
        ),
        Some(at) => {
            let still: Vec<Ipv4Addr> = joined_at_end(bridge);
            if still.is_empty() {
                pass(
                    "rfc3738/3.2.3.8/leave-after-silence",
                    &format!(
                        "left {:.2} s after the sender stopped; the bridge shows no membership left",
                        at - j.sender_stop
                    ),
                )
            } else {
                fail(
                    "rfc3738/3.2.3.8/leave-after-silence",
                    format!("left the session but the bridge still has {still:?} on its port"),
                )
            }
        }
    });

    // The bridge saw each join and leave of the log (IGMP reached the network), within 1 s.
    let mismatch = log.actions.iter().find(|a| {
        let (Some(cn), joined) = (a.cn, a.kind == "join") else {
            return false;
        };
        if a.kind != "join" && a.kind != "leave" {
            return false;
        }
        let at = log.start_unix + a.t;
        let group = channel_group(j.group, cn as u16);
        !bridge
            .iter()
            .any(|e| e.group == group && e.joined == joined && e.at >= at - 0.2 && e.at <= at + 1.0)
    });
    let counted = bridge.len();
    checks.push(match mismatch {
        Some(a) => fail(
            "rfc3738/3.2/membership-on-the-network",
            format!(
                "{} of CN {:?} at {:.3} s not seen on the bridge within 1 s",
                a.kind, a.cn, a.t
            ),
        ),
        None => pass(
            "rfc3738/3.2/membership-on-the-network",
            &format!("every join and leave seen on the bridge ({counted} membership changes)"),
        ),
    });
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

    const T: u32 = 4;
    const GROUP: Ipv4Addr = Ipv4Addr::new(233, 252, 0, 1);

    fn act(t: f64, kind: &str, cn: Option<u32>, ctsi: Option<u32>, nwc: u32) -> LoggedAction {
        LoggedAction {
            t,
            kind: kind.into(),
            cn,
            ctsi,
            nwc,
            artt: 0.05,
        }
    }

    /// A receiver that does it right: base, then waves 1 and 2 at CTSI 1, wave 1 left at the
    /// slot change to CTSI 2, a wave joined after a loss event, and the session left after
    /// 10 s of silence (the sender stopped at 100.0 + 5 s); the bridge saw all of it.
    fn good() -> (ReceiverLog, Vec<MembershipEvent>) {
        let log = ReceiverLog {
            start_unix: 100.0,
            actions: vec![
                act(0.0, "join", Some(T), None, 0),
                act(0.5, "join", Some(1), Some(1), 1),
                act(0.7, "join", Some(2), Some(1), 2),
                act(1.0, "leave", Some(1), Some(2), 1),
                act(1.6, "join", Some(3), Some(2), 2),
                act(15.0, "leave", Some(T), Some(2), 2),
                act(15.0, "leave", Some(2), Some(2), 2),
                act(15.0, "leave", Some(3), Some(2), 2),
                act(15.0, "leave_session", None, Some(2), 0),
            ],
            firsts: vec![(0.1, T), (0.55, 1), (0.75, 2), (1.65, 3)],
            gaps: vec![LoggedGap {
                t: 1.2,
                cn: 2,
                lost: 3,
                artt: 0.1,
            }],
            per_second: vec![(10, 10_000)],
        };
        let mut bridge = Vec::new();
        for a in &log.actions {
            if let Some(cn) = a.cn {
                bridge.push(MembershipEvent {
                    at: 100.0 + a.t + 0.01,
                    port: "p1".into(),
                    group: channel_group(GROUP, cn as u16),
                    joined: a.kind == "join",
                });
            }
        }
        (log, bridge)
    }

    fn judge(log: &ReceiverLog, bridge: &[MembershipEvent]) -> Vec<(&'static str, bool)> {
        let refs: Vec<&MembershipEvent> = bridge.iter().collect();
        judge_receiver(
            log,
            &refs,
            Judging {
                t: T,
                group: GROUP,
                sender_stop: 105.0,
                silence: Duration::from_secs(10),
            },
        )
        .into_iter()
        .map(|c| (c.id, c.passed))
        .collect()
    }

    fn failed(log: &ReceiverLog, bridge: &[MembershipEvent]) -> Vec<&'static str> {
        judge(log, bridge)
            .into_iter()
            .filter(|c| !c.1)
            .map(|c| c.0)
            .collect()
    }

    #[test]
    fn a_correct_receiver_passes_every_check() {
        let (log, bridge) = good();
        let checks = judge(&log, &bridge);
        assert_eq!(checks.len(), 7);
        assert!(checks.iter().all(|c| c.1), "{checks:?}");
    }

    #[test]
    fn each_wrong_layer_change_fails_its_own_check() {
        let (good_log, bridge) = good();
        let mutate = |f: &dyn Fn(&mut ReceiverLog)| {
            let mut l = good_log.clone();
            f(&mut l);
            failed(&l, &bridge)
        };
        // A wave joined before the first base packet.
        assert_eq!(
            mutate(&|l| l.firsts[0].0 = 0.6),
            ["rfc3738/3.2.1/base-channel-first"]
        );
        // A join of the wrong layer: CN 3 where (CTSI 1 + NWC 1) mod 4 = 2 was due.
        assert!(mutate(&|l| l.actions[2].cn = Some(3)).contains(&"rfc3738/3.2.3.6/join-next-layer"));
        // The second join before the first's first packet.
        assert_eq!(
            mutate(&|l| l.firsts[1].0 = 0.8),
            ["rfc3738/3.2.3.6/no-join-while-pending"]
        );
        // The slot change to CTSI 2 leaves wave 2, not the lowest (1).
        assert!(
            mutate(&|l| l.actions[3].cn = Some(2)).contains(&"rfc3738/3.2.3.3/leave-lowest-layer")
        );
        // A join 50 ms into a 100 ms loss event.
        assert_eq!(
            mutate(&|l| l.gaps[0].t = 1.55),
            ["rfc3738/3.2.3.6/no-join-in-loss-event"]
        );
        // The session left after 3 s of silence, or never.
        assert_eq!(
            mutate(&|l| l.actions.iter_mut().for_each(|a| if a.t == 15.0 {
                a.t = 8.0
            })),
            [
                "rfc3738/3.2.3.8/leave-after-silence",
                "rfc3738/3.2/membership-on-the-network"
            ]
        );
        // Without the session leave, its leaves of waves 2 and 3 are unexplained too.
        assert_eq!(
            mutate(&|l| l.actions.retain(|a| a.kind != "leave_session")),
            [
                "rfc3738/3.2.3.3/leave-lowest-layer",
                "rfc3738/3.2.3.8/leave-after-silence"
            ]
        );
    }

    #[test]
    fn what_the_bridge_did_not_see_fails() {
        let (log, mut bridge) = good();
        // The leave of wave 1 never reached the network: the membership stays.
        bridge.retain(|e| e.group != channel_group(GROUP, 1) || e.joined);
        assert_eq!(
            failed(&log, &bridge),
            [
                "rfc3738/3.2.3.8/leave-after-silence",
                "rfc3738/3.2/membership-on-the-network"
            ]
        );
        // The bridge saw a wave first.
        let (log, mut bridge) = good();
        bridge.swap(0, 1);
        assert_eq!(failed(&log, &bridge), ["rfc3738/3.2.1/base-channel-first"]);
    }

    #[test]
    fn receiver_logs_parse() {
        let text = br#"{"start_unix":1700000000.5}
{"t":0.0,"action":"join","cn":24,"ctsi":null,"nwc":0,"artt":0.0}
{"t":0.1,"first":24}
{"t":2.5,"gap":3,"lost":2,"artt":0.02}
{"t":0,"packets":20,"bytes":28000}
{"summary":{"received":20}}
"#;
        let log = ReceiverLog::parse(text).unwrap();
        assert_eq!(log.start_unix, 1700000000.5);
        assert_eq!(log.actions.len(), 1);
        assert_eq!(log.actions[0].cn, Some(24));
        assert_eq!(log.actions[0].ctsi, None);
        assert_eq!(log.firsts, [(0.1, 24)]);
        assert_eq!(log.gaps[0].lost, 2);
        assert_eq!(log.per_second, [(20, 28000)]);
        assert!(ReceiverLog::parse(b"not json\n").is_err());
    }
}
