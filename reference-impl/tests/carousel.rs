//! FCAST carousels over the simulated network: push mode with one cycle per Carousel Instance,
//! 16-bit TOIs that wrap, the RFC 6968 §3.6 TOI window with equivalences, CIDs that remove
//! objects, and a Complete CID that ends the session.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use rmt_reference::packet::FieldWidths;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};
use rmt_reference::sim::{SimNetwork, SimRun};

const START: Duration = Duration::from_secs(1_800_000_000);

fn config(first_toi: u128) -> SenderConfig {
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(Mode::Fcast, dest, 3);
    c.widths = FieldWidths {
        tsi_len: 2,
        toi_len: 2,
    };
    c.first_toi = first_toi;
    c.fec.symbol_length = 500;
    c.ext_time = false;
    c
}

fn object(i: u64, len: usize) -> ObjectSpec {
    ObjectSpec {
        name: format!("segment-{i}.m4s"),
        content_type: "video/mp4".into(),
        data: SeededRng::new(i).bytes(len),
    }
}

/// Push mode: instance n holds `keep` (if any) and one new object; instances are committed
/// as soon as the previous one is scheduled, `instances` in all, the last one Complete.
fn push_session(
    sender: &mut Sender,
    receiver: &mut Receiver,
    instances: u64,
    loss: f64,
    keep: Option<ObjectSpec>,
) -> (SimRun, BTreeMap<String, Vec<u8>>) {
    let mut sent = BTreeMap::new();
    if let Some(k) = &keep {
        sender.add_object(k.clone()).unwrap();
        sent.insert(k.name.clone(), k.data.clone());
    }
    let mut next = 0u64;
    let mut current: Option<u128> = None;
    let net = SimNetwork {
        loss,
        seed: 5,
        ..Default::default()
    };
    let run = net.run(sender, &mut [receiver], START, false, |s, now| {
        if next < instances && s.poll_timeout().is_none() {
            if let Some(t) = current.take() {
                s.remove_object(t);
            }
            let o = object(1000 + next, 1200);
            sent.insert(o.name.clone(), o.data.clone());
            current = Some(s.add_object(o).unwrap());
            next += 1;
            s.commit(now, next == instances).unwrap();
        }
        true
    });
    (run, sent)
}

fn deliveries(run: &SimRun) -> Vec<(u128, String, Vec<u8>)> {
    run.events[0]
        .iter()
        .filter_map(|e| match e {
            Event::Delivered(d) => Some((d.toi, d.name.clone(), d.data.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn push_mode_delivers_every_instance_and_a_complete_cid_ends_the_session() {
    let mut s = Sender::new(config(1)).unwrap();
    let mut r = Receiver::new(ReceiverConfig::new(Mode::Fcast, 3));
    let (run, sent) = push_session(&mut s, &mut r, 20, 0.0, None);
    let got = deliveries(&run);
    assert_eq!(got.len(), 20);
    for (_, name, data) in &got {
        assert_eq!(&sent[name], data, "{name}");
    }
    let cids = run.events[0]
        .iter()
        .filter(|e| matches!(e, Event::Cid { .. }))
        .count();
    assert_eq!(cids, 20, "one CID per carousel instance");
    assert!(run.events[0].contains(&Event::Cid {
        ciid: Some(19),
        complete: true,
        objects: 1
    }));
    assert!(run.events[0].contains(&Event::SessionComplete));
}

#[test]
fn sixteen_bit_tois_wrap_for_a_long_session_without_splicing_or_double_delivery() {
    // 2 TOIs per instance (object + CID): 40,000 instances go once and a fifth around the
    // 16-bit TOI space; one object stays in every instance and must be renewed under new
    // TOIs with CID equivalences (RFC 6968 §3.6) yet delivered once. 20% loss: objects lost
    // in their one push cycle are abandoned when the next CID drops them, never spliced with
    // the object that later reuses their TOI.
    let mut s = Sender::new(config(60_000)).unwrap();
    let mut r = Receiver::new(ReceiverConfig::new(Mode::Fcast, 3));
    let keep = object(1, 300);
    let (run, sent) = push_session(&mut s, &mut r, 40_000, 0.2, Some(keep.clone()));
    let got = deliveries(&run);
    for (toi, name, data) in &got {
        assert_eq!(&sent[name], data, "TOI {toi} {name}: spliced or corrupt");
    }
    // Renewed twice (80,000 TOIs); re-delivered only when the CID announcing the equivalence
    // was lost before the object's packets under the new TOI arrived.
    let keep_count = got.iter().filter(|(_, n, _)| *n == keep.name).count();
    assert!(
        (1..=3).contains(&keep_count),
        "the kept object: {keep_count} deliveries"
    );
    let mut tois: BTreeMap<u128, usize> = BTreeMap::new();
    for (toi, _, _) in &got {
        *tois.entry(*toi).or_default() += 1;
    }
    assert!(
        tois.values().any(|n| *n > 1),
        "some TOI was reused after the wrap"
    );
    // Three packets per object, 20% loss, one push cycle: 0.8^3 = 51% arrive.
    assert!(
        got.len() > 18_000,
        "objects that arrive whole are delivered: {}",
        got.len()
    );
    let abandoned = run.events[0]
        .iter()
        .filter(|e| matches!(e, Event::Abandoned { .. }))
        .count();
    assert!(
        abandoned > 15_000,
        "lost objects are abandoned: {abandoned}"
    );
    // Abandoned objects do not stay in memory: the CIDs drop them as the session goes.
    assert!(
        r.objects_in_flight() <= 2,
        "{} objects in flight",
        r.objects_in_flight()
    );
    assert!(r.is_closed(), "one of the close-session packets arrived");
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn an_object_renewed_under_a_new_toi_is_announced_by_equivalence_and_not_delivered_twice() {
    // 17,000 instances of 2 TOIs pass half of the 16-bit space: the kept object (TOI 1) must
    // be renewed (RFC 6968 §3.6) and the CID must say `(new=1/0)`.
    let mut s = Sender::new(config(1)).unwrap();
    let mut r = Receiver::new(ReceiverConfig::new(Mode::Fcast, 3));
    let keep = object(1, 300);
    let (run, _) = push_session(&mut s, &mut r, 17_000, 0.0, Some(keep.clone()));
    let got = deliveries(&run);
    assert_eq!(got.len(), 17_001);
    let keep_tois: Vec<u128> = got
        .iter()
        .filter(|(_, n, _)| *n == keep.name)
        .map(|d| d.0)
        .collect();
    assert_eq!(keep_tois, vec![1], "delivered once, under its first TOI");
    assert!(
        !s.members().contains(&1),
        "the kept object left TOI 1: {:?}",
        s.members()
    );
}

#[test]
fn a_toi_stride_of_half_the_space_is_refused_and_a_smaller_one_is_used() {
    let mut c = config(1);
    c.toi_stride = 32_768;
    let e = Sender::new(c).unwrap_err().to_string();
    assert!(e.contains("half the 16-bit TOI space"), "{e}");
    let mut c = config(1);
    c.toi_stride = 16_384;
    let mut s = Sender::new(c).unwrap();
    let tois: Vec<u128> = (0..4)
        .map(|i| s.add_object(object(i, 10)).unwrap())
        .collect();
    assert_eq!(tois, [1, 16_385, 32_769, 49_153]);
}

#[test]
fn with_its_cids_lost_a_receiver_still_takes_a_reused_toi_as_a_new_object() {
    // 16-bit TOIs 8192 apart, a CID and one new object per instance: each TOI comes back every
    // fourth instance. Only the first CID arrives, so no CID says an object is gone: the
    // receiver must forget a delivered TOI once it leaves the half-space window (RFC 6968
    // §3.6) or it takes the reused TOI's packets for repeats of the old object.
    let mut c = config(1);
    c.toi_stride = 8192;
    let mut s = Sender::new(c).unwrap();
    let mut r = Receiver::new(ReceiverConfig::new(Mode::Fcast, 3));
    let mut sent = BTreeMap::new();
    let mut now = START;
    let mut previous = None;
    let mut first_cid_seen = false;
    for i in 0..24u64 {
        if let Some(t) = previous.take() {
            s.remove_object(t);
        }
        let o = object(2000 + i, 700);
        sent.insert(o.name.clone(), o.data.clone());
        let toi = s.add_object(o).unwrap();
        previous = Some(toi);
        s.commit(now, i == 23).unwrap();
        while let Some(due) = s.poll_timeout() {
            now = now.max(due);
            let Some(t) = s.poll_transmit(now) else {
                continue;
            };
            let toi = rmt_inspector::wire::lct::LctRepr::parse(&t.payload)
                .unwrap()
                .value
                .toi
                .unwrap();
            // One object per instance: any other TOI is the instance's CID.
            let is_cid = Some(toi) != previous;
            if is_cid && first_cid_seen {
                continue;
            }
            first_cid_seen |= is_cid;
            r.handle(now, t.source, &t.payload);
        }
    }
    let mut got = BTreeMap::new();
    while let Some(e) = r.poll_event() {
        if let Event::Delivered(d) = e {
            got.insert(d.name, d.data);
        }
    }
    assert_eq!(got.len(), 24, "{:?}", got.keys().collect::<Vec<_>>());
    assert_eq!(got, sent);
}

#[test]
fn after_an_idle_spell_packets_follow_the_clock() {
    // Before, a paced sender stamped the first packet after an idle spell with its old slot,
    // so an FDT made an hour later looked an hour old (and expired early to receivers).
    use rmt_reference::driver::capture::VIRTUAL_START;
    let mut c = SenderConfig::new(Mode::Flute, "233.252.0.1:3400".parse().unwrap(), 1);
    c.rate_bps = 1_000_000;
    let mut s = Sender::new(c).unwrap();
    let mut now = VIRTUAL_START;
    let first = s.add_object(object(1, 500)).unwrap();
    s.commit(now, false).unwrap();
    let sent = s.drain(&mut now, 1000);
    assert!(!sent.is_empty());
    let later = VIRTUAL_START + Duration::from_secs(3600);
    s.remove_object(first);
    s.add_object(object(2, 500)).unwrap();
    now = later;
    s.commit(now, true).unwrap();
    let sent = s.drain(&mut now, 1000);
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|t| t.at >= later),
        "first packet at {:?}, the clock at {later:?}",
        sent[0].at
    );
}
