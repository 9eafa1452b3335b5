//! The suite proven by failures: every deliberately broken receiver and sender fails the cases
//! written for its bug, and the reference passes every case.

use rmt_conformance::catalogue::{lab_cases, receiver_cases, sender_cases};
use rmt_conformance::mutants::{judge_sender_capture, matrix, sender_capture, SenderMutant};
use rmt_conformance::outcome::Outcome;
use rmt_reference::sender::Mode;
use rmt_vectors::scenario::load_scenarios;

fn work(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rmt-mutants-test-{}-{tag}", std::process::id()))
}

#[test]
fn every_mutant_fails_the_cases_meant_for_it_and_the_reference_passes_every_case() {
    let scenarios = load_scenarios().unwrap();
    let w = work("matrix");
    // The lab section (root, a 30 s lab run) is tested on its own in tests/lab.rs
    // (`mutants::lab_section` on the same run).
    let m = matrix(&scenarios, &w, Err("tested in tests/lab.rs".into())).unwrap();
    assert_eq!(m.lab_skipped.as_deref(), Some("tested in tests/lab.rs"));
    let _ = std::fs::remove_dir_all(&w);
    assert!(
        m.reference_not_passing.is_empty(),
        "{:#?}",
        m.reference_not_passing
    );
    let mut ids: Vec<String> = sender_cases().into_iter().map(|c| c.id).collect();
    ids.extend(receiver_cases(&scenarios).into_iter().map(|c| c.id));
    ids.extend(lab_cases().into_iter().map(|c| c.id));
    for r in &m.rows {
        assert!(!r.meant_for.is_empty(), "{}", r.mutant);
        for id in &r.meant_for {
            assert!(ids.contains(id), "{}: no case {id}", r.mutant);
        }
        assert!(r.killed_as_meant(), "{} survives: {r:#?}", r.mutant);
    }
    assert!(m.rows.len() >= 17);
    assert_eq!(m.score(), (m.rows.len(), m.rows.len()));
    // A mutant caught only by SHOULD/MAY cases passes `rmt-conform run` (exit 0): each such one
    // is a decision recorded here, with its reason.
    let warn_only: Vec<&str> = m
        .rows
        .iter()
        .filter(|r| r.killed_by_warnings_only())
        .map(|r| r.mutant.as_str())
        .collect();
    // RFC 6968 §3.5 states no keyword for what a CID lists; the catalogue grades it SHOULD.
    assert_eq!(warn_only, ["sender-cid-lists-unsent-tois"]);
}

#[test]
fn every_case_that_forbids_a_delivery_also_requires_one() {
    // A positive control: a receiver that delivers nothing must fail every receiver case.
    for s in load_scenarios().unwrap() {
        let requires = !s.expect.delivered.is_empty() || s.expect.min_delivered > 0;
        assert!(requires, "{}: nothing must be delivered", s.id);
    }
}

#[test]
fn fcast_cases_on_a_flute_capture_are_not_applicable_never_pass() {
    let flute = sender_capture(Mode::Flute, None).unwrap();
    // Declared FLUTE, and told from the capture (it has FDT Instances and no FCAST object).
    for declared in [true, false] {
        let r = judge_sender_capture(&flute, Mode::Flute, declared).unwrap();
        let fcast: Vec<_> = r.iter().filter(|r| r.id.starts_with("rfc6968/")).collect();
        assert!(fcast.len() >= 7, "{}", fcast.len());
        for c in fcast {
            assert_eq!(c.outcome, Outcome::NotApplicable, "{c:#?}");
        }
        // FLUTE rules are judged on it: they pass, none is excused.
        assert!(r
            .iter()
            .filter(|r| r.id.starts_with("rfc6726/"))
            .all(|r| r.outcome == Outcome::Pass));
    }
    // The FCAST session: the FLUTE rules have nothing to judge.
    let fcast = sender_capture(Mode::Fcast, None).unwrap();
    let r = judge_sender_capture(&fcast, Mode::Fcast, false).unwrap();
    for c in r.iter().filter(|r| r.id.starts_with("rfc6726/")) {
        assert_eq!(c.outcome, Outcome::NotApplicable, "{c:#?}");
    }
    assert!(r
        .iter()
        .filter(|r| r.id.starts_with("rfc6968/"))
        .all(|r| r.outcome == Outcome::Pass));
}

#[test]
fn a_sender_declared_fcast_whose_objects_have_no_fcast_header_fails() {
    // FLUTE objects without their FDT, judged as an FCAST sender: plain objects, no header.
    let plain = sender_capture(Mode::Flute, Some(SenderMutant::NoFdt)).unwrap();
    // Declared FCAST, it fails; not declared, nothing says it is FCAST: not-applicable.
    for (declared, expected) in [(true, Outcome::Fail), (false, Outcome::NotApplicable)] {
        let r = judge_sender_capture(&plain, Mode::Fcast, declared).unwrap();
        let header = r
            .iter()
            .find(|r| r.id == "rfc6968/2.1/fcast-header")
            .unwrap();
        assert_eq!(header.outcome, expected, "{header:#?}");
        if declared {
            assert!(header
                .detail
                .contains("no complete object has an FCAST header"));
        }
    }
}

/// An FCAST push session of `n` objects in one Carousel Instance (no CID,
/// no EXT_TIME: the LCT header is 16 bytes and the TOI its last 4), `size` bytes each, object
/// `i` starting with `object {i:05}`.
fn many_objects(n: u32, size: usize) -> Vec<rmt_reference::sender::Transmit> {
    use rmt_reference::driver::capture::VIRTUAL_START;
    use rmt_reference::sender::{ObjectSpec, Sender, SenderConfig};
    let mut c = SenderConfig::new(Mode::Fcast, "233.252.0.1:3400".parse().unwrap(), 3);
    c.ext_time = false;
    c.cid = false;
    let mut s = Sender::new(c).unwrap();
    for i in 0..n {
        let mut data = format!("object {i:05}").into_bytes();
        data.resize(size, b'.');
        s.add_object(ObjectSpec {
            name: format!("o{i}"),
            content_type: "a/b".into(),
            data,
        })
        .unwrap();
    }
    s.commit(VIRTUAL_START, true).unwrap();
    let mut now = VIRTUAL_START;
    s.drain(&mut now, 1_000_000)
}

#[test]
fn a_bad_checksum_late_in_a_long_session_is_caught() {
    // Before objects left the assembler when complete, the 4,097th object and all after it
    // were turned away (track.objects.cap) and this checksum was never checked.
    use rmt_reference::driver::capture::transmits_pcap;
    let mut sent = many_objects(6_000, 40);
    let bad = sent
        .iter_mut()
        .find(|t| t.payload.windows(12).any(|w| w == b"object 05000"))
        .unwrap();
    // The checksum covers the header at least (RFC 6968 §3.1, G): change its Content-Type.
    let at = bad.payload.windows(3).position(|w| w == b"a/b").unwrap();
    bad.payload[at + 2] = b'c';
    let checksum_case = |sent: &[rmt_reference::sender::Transmit]| {
        judge_sender_capture(&transmits_pcap(sent, 4000), Mode::Fcast, true)
            .unwrap()
            .into_iter()
            .find(|r| r.id == "rfc6968/2.1/fcast-checksum")
            .unwrap()
    };
    let checksum = checksum_case(&sent);
    assert_eq!(checksum.outcome, Outcome::Fail, "{checksum:#?}");
    // The same session unharmed passes, every object judged.
    let checksum = checksum_case(&many_objects(6_000, 40));
    assert_eq!(checksum.outcome, Outcome::Pass, "{checksum:#?}");
}

#[test]
fn object_cases_are_could_not_test_when_the_inspector_turned_objects_away() {
    use rmt_reference::driver::capture::transmits_pcap;
    // 4,200 objects of several packets each, sent interleaved (every object's first packet,
    // then every second packet, ...): more than the inspector's 4,096 objects in flight at
    // once, so the oldest are abandoned unfinished and the object cases cannot be judged.
    let sent = many_objects(4_200, 3_000);
    let toi = |t: &rmt_reference::sender::Transmit| t.payload[12..16].to_vec();
    let mut nth = std::collections::HashMap::new();
    let mut keyed: Vec<(u32, rmt_reference::sender::Transmit)> = sent
        .into_iter()
        .map(|t| {
            let n = nth.entry(toi(&t)).or_insert(0u32);
            *n += 1;
            (*n, t)
        })
        .collect();
    assert!(
        keyed.iter().any(|(n, _)| *n > 1),
        "objects of several packets"
    );
    keyed.sort_by_key(|(n, _)| *n);
    let interleaved: Vec<_> = keyed.into_iter().map(|(_, t)| t).collect();
    let bytes = transmits_pcap(&interleaved, 4000);
    let r = judge_sender_capture(&bytes, Mode::Fcast, true).unwrap();
    let checksum = r
        .iter()
        .find(|r| r.id == "rfc6968/2.1/fcast-checksum")
        .unwrap();
    assert_eq!(checksum.outcome, Outcome::CouldNotTest, "{checksum:#?}");
    assert!(
        checksum.detail.contains("track.objects.cap"),
        "{}",
        checksum.detail
    );
    // Cases about packets alone are still judged.
    let version = r.iter().find(|r| r.id == "rfc5651/5.1/version-1").unwrap();
    assert_eq!(version.outcome, Outcome::Pass);
}
