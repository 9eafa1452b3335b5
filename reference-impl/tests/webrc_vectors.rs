//! The reference WEBRC schedule against `vectors/webrc/schedule.yaml`, whose figures come from
//! RFC 3738 §3.1.1/§3.1.2's formulas in `vectors/tools/gen_vectors.py` (not from this code): L,
//! Q, T, the packets of a wave and of each of its slots, the top rate, and L base packets in
//! every slot. And the receiver against `vectors/webrc/receiver.yaml` (§3.2.3.3, §3.2.3.6): its
//! joins for a target rate from a session joined in any slot, the waves it holds in the next
//! slots (the generator's arithmetic, compared with the channels it joined, not with its NWC),
//! and its leaves for a CTSI sequence.

use std::collections::BTreeMap;
use std::time::Duration;

use rmt_inspector::wire::webrc_cci::CciForm;
use rmt_inspector::wire::webrc_cci::WebrcCci;
use rmt_reference::webrc::mutant::WebrcMutant;
use rmt_reference::webrc::receiver::{Action, ReceiverParams, WebrcReceiver};
use rmt_reference::webrc::schedule::{Schedule, WebrcParams};
use serde_yaml::Value;

fn f64_param(v: &rmt_vectors::Vector, name: &str) -> f64 {
    v.params[name]
        .as_f64()
        .unwrap_or_else(|| panic!("{}: {name}", v.id))
}

fn expected_u64(v: &rmt_vectors::Vector, name: &str) -> u64 {
    v.expected[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: {name}", v.id))
}

/// The sender parameters of a vector (short CCI unless `form: long`).
fn sender_params(v: &rmt_vectors::Vector) -> WebrcParams {
    WebrcParams {
        bcr_p: f64_param(v, "bcr_p"),
        tsd: Duration::from_secs_f64(f64_param(v, "tsd")),
        qd: Duration::from_secs_f64(f64_param(v, "qd")),
        p: f64_param(v, "p"),
        n: v.param_u64("n").unwrap() as u32,
        form: match v.param_str("form") {
            Some("long") => CciForm::Long,
            _ => CciForm::Short,
        },
    }
}

#[test]
fn the_schedule_matches_the_rfc_derived_vectors() {
    let path = rmt_vectors::vectors_dir().join("webrc/schedule.yaml");
    let file = rmt_vectors::load_file(&path).unwrap();
    assert!(file.vectors.len() >= 5);
    for v in &file.vectors {
        let params = sender_params(v);
        assert_eq!(params.l(), expected_u64(v, "l"), "{}: L", v.id);
        assert_eq!(u64::from(params.q()), expected_u64(v, "q"), "{}: Q", v.id);
        assert_eq!(u64::from(params.t()), expected_u64(v, "t"), "{}: T", v.id);
        assert_eq!(
            params.wave_packets(),
            expected_u64(v, "wave_packets"),
            "{}: packets of a wave",
            v.id
        );
        let top = v.expected["top_rate"].as_f64().unwrap();
        assert!((params.top_rate() - top).abs() < 1e-3, "{}: top rate", v.id);
        let per_slot: Vec<f64> = match &v.expected["wave_packets_per_slot"] {
            Value::Sequence(s) => s.iter().map(|x| x.as_f64().unwrap()).collect(),
            other => panic!("{}: {other:?}", v.id),
        };
        // One full cycle and a bit: packets per (slot, CN).
        let (t, n) = (params.t() as u64, u64::from(params.n));
        let tsd = params.tsd;
        let end = tsd * (t as u32 + n as u32 + 2);
        let mut s = Schedule::new(params).unwrap();
        let mut counts: BTreeMap<(u64, u16), u64> = BTreeMap::new();
        // Bounded: schedule times grow.
        loop {
            let p = s.next();
            if p.at >= end {
                break;
            }
            let slot = (p.at.as_nanos() / tsd.as_nanos()) as u64;
            *counts.entry((slot, p.cci.cn)).or_default() += 1;
        }
        let slots = end.as_nanos() / tsd.as_nanos();
        for slot in 0..slots as u64 {
            assert_eq!(
                counts.get(&(slot, t as u16)).copied().unwrap_or(0),
                expected_u64(v, "l"),
                "{}: base packets in slot {slot}",
                v.id
            );
        }
        // Wave i ends its run in slot i (mod T): the runs ending in slots N..T+N-1 lie inside
        // the window. The j-th active slot sends per_slot[j] packets, to within rounding.
        let mut checked = 0;
        for wave in 0..t {
            let last = if wave >= n - 1 { wave } else { wave + t };
            if last + 1 > slots as u64 || last + 1 < n {
                continue;
            }
            for (j, want) in per_slot.iter().enumerate() {
                let slot = last + 1 - n + j as u64;
                let got = counts.get(&(slot, wave as u16)).copied().unwrap_or(0) as f64;
                assert!(
                    (got - want).abs() <= 1.5,
                    "{}: wave {wave} slot {slot} (active slot {j}): {got} packets, {want} expected",
                    v.id
                );
            }
            checked += 1;
        }
        assert!(checked as u64 >= t / 2, "{}: {checked} waves checked", v.id);
    }
}

fn u32_list(v: &rmt_vectors::Vector, value: &Value) -> Vec<u32> {
    match value {
        Value::Sequence(s) => s.iter().map(|x| x.as_u64().unwrap() as u32).collect(),
        other => panic!("{}: {other:?}", v.id),
    }
}

/// Feeds `rx` the schedule's packets of the channels it has joined (a lossless path) up to
/// `until`, with its timeouts; returns its actions.
fn run_lossless(
    rx: &mut WebrcReceiver,
    schedule: &mut Schedule,
    joined: &mut std::collections::BTreeSet<u32>,
    until: Duration,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let mut drain = |rx: &mut WebrcReceiver, joined: &mut std::collections::BTreeSet<u32>| {
        while let Some(a) = rx.poll_action() {
            match a {
                Action::Join(cn) => {
                    joined.insert(cn);
                }
                Action::Leave(cn) => {
                    joined.remove(&cn);
                }
                Action::LeaveSession(_) => {}
            }
            actions.push(a);
        }
    };
    drain(rx, joined);
    // Bounded: schedule times grow and the loop ends at `until`.
    loop {
        let p = schedule.next();
        while let Some(t) = rx.poll_timeout().filter(|t| *t <= p.at.min(until)) {
            rx.handle_timeout(t);
            drain(rx, joined);
        }
        if p.at > until {
            return actions;
        }
        if joined.contains(&u32::from(p.cci.cn)) {
            rx.handle_packet(p.at, p.cci);
            drain(rx, joined);
        }
    }
}

/// A receiver of vector `v` (with `mutant` switched on) after the vector's start-up window on
/// a lossless path, the session joined in the vector's start slot.
struct StartedUp {
    rx: WebrcReceiver,
    schedule: Schedule,
    /// The channels its actions left joined.
    joined: std::collections::BTreeSet<u32>,
    actions: Vec<Action>,
    window: Duration,
}

fn start_up(v: &rmt_vectors::Vector, mutant: Option<WebrcMutant>) -> StartedUp {
    let params = sender_params(v);
    let mut rp = ReceiverParams::new(params.clone());
    rp.mrr_p = f64_param(v, "mrr_p");
    rp.mutant = mutant;
    let start_ctsi = v.param_u64("start_ctsi").unwrap_or(0);
    let mut rx = WebrcReceiver::new(rp, Duration::ZERO);
    let mut schedule = Schedule::starting_at(params.clone(), start_ctsi).unwrap();
    let mut joined = std::collections::BTreeSet::new();
    let window = params.tsd.mul_f64(f64_param(v, "startup_window"));
    let actions = run_lossless(&mut rx, &mut schedule, &mut joined, window);
    StartedUp {
        rx,
        schedule,
        joined,
        actions,
        window,
    }
}

#[test]
fn the_receiver_matches_the_rfc_derived_join_and_leave_vectors() {
    let path = rmt_vectors::vectors_dir().join("webrc/receiver.yaml");
    let file = rmt_vectors::load_file(&path).unwrap();
    assert!(file.vectors.len() >= 6);
    assert!(
        file.vectors
            .iter()
            .filter(|v| v.param_u64("start_ctsi").unwrap_or(0) != 0)
            .count()
            >= 3,
        "sessions joined mid-cycle"
    );
    for v in &file.vectors {
        let params = sender_params(v);
        let t = params.t();
        assert_eq!(u64::from(t), expected_u64(v, "t"), "{}: T", v.id);
        let tsd = params.tsd;
        let waves = expected_u64(v, "waves") as u32;

        // Start-up (§3.2.1, §3.2.3.6): the base channel, then the waves up to the target, in
        // order, within the vector's start-up window (a fraction of a slot).
        let StartedUp {
            mut rx,
            mut schedule,
            mut joined,
            actions,
            window,
        } = start_up(v, None);
        assert_eq!(
            actions.first(),
            Some(&Action::Join(expected_u64(v, "first_join") as u32)),
            "{}",
            v.id
        );
        let wave_joins: Vec<u32> = actions[1..]
            .iter()
            .map(|a| match a {
                Action::Join(cn) => *cn,
                other => panic!("{}: {other:?} in the start-up window", v.id),
            })
            .collect();
        assert_eq!(
            wave_joins,
            u32_list(v, &v.expected["startup_joins"]),
            "{}: start-up joins",
            v.id
        );
        // The target holds: in the middle of each of the next slots, the waves joined (as
        // the actions left them) are the K from that slot's CTSI up.
        let steady: Vec<Vec<u32>> = match &v.expected["steady_joined"] {
            Value::Sequence(s) => s.iter().map(|l| u32_list(v, l)).collect(),
            other => panic!("{}: {other:?}", v.id),
        };
        assert_eq!(steady.len(), 3, "{}", v.id);
        for (slot, want) in (1..4u32).zip(&steady) {
            run_lossless(&mut rx, &mut schedule, &mut joined, tsd * slot + tsd / 2);
            let waves_joined: Vec<u32> = joined.iter().copied().filter(|cn| *cn != t).collect();
            assert_eq!(
                &waves_joined, want,
                "{}: waves joined in the middle of slot {slot}",
                v.id
            );
        }

        // Slot changes (§3.2.3.3): base packets with the vector's CTSIs, nothing else.
        let mut rx = start_up(v, None).rx;
        assert_eq!(rx.nwc(), waves, "{}", v.id);
        let mut leaves = Vec::new();
        let mut at = window;
        for (i, ctsi) in u32_list(v, &v.params["ctsi_sequence"])
            .into_iter()
            .enumerate()
        {
            at += Duration::from_millis(10);
            rx.handle_packet(
                at,
                WebrcCci {
                    form: CciForm::Short,
                    ctsi: ctsi as u16,
                    cn: t as u16,
                    psn: 1_000 + i as u32,
                },
            );
            while let Some(a) = rx.poll_action() {
                match a {
                    Action::Leave(cn) => leaves.push(vec![ctsi, cn]),
                    other => panic!("{}: {other:?} on a base packet", v.id),
                }
            }
        }
        let expected: Vec<Vec<u32>> = match &v.expected["leaves"] {
            Value::Sequence(s) => s.iter().map(|l| u32_list(v, l)).collect(),
            other => panic!("{}: {other:?}", v.id),
        };
        assert_eq!(leaves, expected, "{}: leaves (CTSI, CN)", v.id);
    }
}

/// The vectors of sessions joined mid-cycle are what catches a receiver whose join target
/// ignores CTSI: with CTSI 0 at the start it would pass every other vector.
#[test]
fn a_receiver_that_ignores_ctsi_fails_the_mid_cycle_vectors_only() {
    let path = rmt_vectors::vectors_dir().join("webrc/receiver.yaml");
    let file = rmt_vectors::load_file(&path).unwrap();
    let mut caught = Vec::new();
    for v in &file.vectors {
        let joins: Vec<u32> = start_up(v, Some(WebrcMutant::JoinIgnoresCtsi))
            .actions
            .into_iter()
            .skip(1)
            .filter_map(|a| match a {
                Action::Join(cn) => Some(cn),
                _ => None,
            })
            .collect();
        if joins != u32_list(v, &v.expected["startup_joins"]) {
            caught.push(v.id.clone());
        }
    }
    assert_eq!(
        caught,
        [
            "receiver-start-ctsi-5",
            "receiver-start-ctsi-wrap",
            "receiver-start-ctsi-late"
        ]
    );
}
