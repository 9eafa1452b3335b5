//! The reference WEBRC schedule against `vectors/webrc/schedule.yaml`, whose figures come from
//! RFC 3738 §3.1.1/§3.1.2's formulas in `vectors/tools/gen_vectors.py` (not from this code): L,
//! Q, T, the packets of a wave and of each of its slots, the top rate, and L base packets in
//! every slot.

use std::collections::BTreeMap;
use std::time::Duration;

use rmt_inspector::wire::webrc_cci::CciForm;
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

#[test]
fn the_schedule_matches_the_rfc_derived_vectors() {
    let path = rmt_vectors::vectors_dir().join("webrc/schedule.yaml");
    let file = rmt_vectors::load_file(&path).unwrap();
    assert!(file.vectors.len() >= 5);
    for v in &file.vectors {
        let params = WebrcParams {
            bcr_p: f64_param(v, "bcr_p"),
            tsd: Duration::from_secs_f64(f64_param(v, "tsd")),
            qd: Duration::from_secs_f64(f64_param(v, "qd")),
            p: f64_param(v, "p"),
            n: v.param_u64("n").unwrap() as u32,
            form: match v.param_str("form") {
                Some("long") => CciForm::Long,
                _ => CciForm::Short,
            },
        };
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
