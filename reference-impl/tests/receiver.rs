//! The receiver against the sender's fault injection and hostile timing, on a virtual clock:
//! what it delivers is always byte-exact, what it cannot trust it does not deliver, and its
//! memory stays under the configured caps.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rmt_inspector::wire::lct::LctRepr;
use rmt_reference::faults::Faults;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::fcast::Packaging;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig, Transmit};

const START: Duration = Duration::from_secs(1_800_000_000);
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn files(n: usize, len: usize) -> Vec<ObjectSpec> {
    (0..n)
        .map(|i| ObjectSpec {
            name: format!("f{i}.bin"),
            content_type: "application/octet-stream".into(),
            data: SeededRng::new(100 + i as u64).bytes(len + i * 1000),
        })
        .collect()
}

fn config(mode: Mode, fec: &str, set: impl FnOnce(&mut SenderConfig)) -> SenderConfig {
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(mode, dest, 5);
    c.fec = fec.parse().unwrap();
    c.rate_bps = 80_000_000;
    set(&mut c);
    c
}

/// Every datagram of a session that sends `specs` in one instance.
fn transmits(cfg: SenderConfig, specs: &[ObjectSpec]) -> Vec<Transmit> {
    let mut s = Sender::new(cfg).unwrap();
    for sp in specs {
        s.add_object(sp.clone()).unwrap();
    }
    s.commit(START, true).unwrap();
    let mut out = Vec::new();
    let mut now = START;
    while let Some(due) = s.poll_timeout() {
        now = now.max(due);
        if let Some(t) = s.poll_transmit(now) {
            out.push(t);
        }
        assert!(out.len() < 2_000_000);
    }
    out
}

struct Outcome {
    events: Vec<Event>,
    receiver: Receiver,
}

impl Outcome {
    fn delivered(&self) -> Vec<&rmt_reference::receiver::Delivered> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Event::Delivered(d) = e {
                    Some(d)
                } else {
                    None
                }
            })
            .collect()
    }
    fn abandoned(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Event::Abandoned { reason, .. } = e {
                    Some(reason.as_str())
                } else {
                    None
                }
            })
            .collect()
    }
    /// Every delivered object is one that was sent, byte for byte.
    fn assert_exact(&self, specs: &[ObjectSpec]) {
        for d in self.delivered() {
            let sp = specs
                .iter()
                .find(|s| d.name.ends_with(&s.name))
                .unwrap_or_else(|| panic!("unknown {}", d.name));
            assert!(d.data == sp.data, "{} delivered with other bytes", d.name);
        }
    }
}

fn receive(
    rc: ReceiverConfig,
    packets: &[Transmit],
    clock_shift: Duration,
    mut each: impl FnMut(&Receiver),
) -> Outcome {
    let mut r = Receiver::new(rc);
    let mut events = Vec::new();
    for t in packets {
        r.handle(t.at + clock_shift, t.source, &t.payload);
        each(&r);
        while let Some(e) = r.poll_event() {
            events.push(e);
        }
    }
    r.close("end of test");
    while let Some(e) = r.poll_event() {
        events.push(e);
    }
    Outcome {
        events,
        receiver: r,
    }
}

/// The session of `c` with `specs`, received by a plain receiver.
fn run_plain(mode: Mode, c: SenderConfig, specs: &[ObjectSpec]) -> Outcome {
    receive(plain(mode), &transmits(c, specs), Duration::ZERO, |_| {})
}

fn plain(mode: Mode) -> ReceiverConfig {
    let mut rc = ReceiverConfig::new(mode, 5);
    rc.source = Some(LOCAL);
    rc
}

#[test]
fn malformed_headers_are_dropped_and_the_carousel_still_delivers() {
    let specs = files(2, 30_000);
    let c = config(Mode::Flute, "nocode", |c| {
        c.cycles = 3;
        c.faults = Faults {
            wrong_hdr_len: 0.1,
            seed: 3,
            ..Default::default()
        };
    });
    let o = run_plain(Mode::Flute, c, &specs);
    assert!(o.receiver.stats().malformed > 5, "{:?}", o.receiver.stats());
    assert_eq!(o.delivered().len(), 2);
    o.assert_exact(&specs);
}

#[test]
fn a_wrong_fcast_checksum_rejects_the_object_and_the_others_arrive() {
    let specs = files(3, 10_000);
    let c = config(Mode::Fcast, "nocode", |c| c.faults.corrupt_checksum = true);
    let o = run_plain(Mode::Fcast, c, &specs);
    assert_eq!(o.delivered().len(), 2);
    assert!(
        o.abandoned()
            .iter()
            .any(|r| r.contains("fcast.checksum.bad")),
        "{:?}",
        o.abandoned()
    );
    assert!(o.delivered().iter().all(|d| d.name != "f0.bin"));
    o.assert_exact(&specs);
}

#[test]
fn gzip_metadata_and_content_encoding_with_a_global_checksum_are_unpacked() {
    let specs = files(2, 50_000);
    let c = config(Mode::Fcast, "rs", |c| {
        c.packaging = Packaging {
            global_checksum: true,
            gzip_metadata: true,
            gzip_content: true,
        }
    });
    let o = run_plain(Mode::Fcast, c, &specs);
    assert_eq!(o.delivered().len(), 2);
    o.assert_exact(&specs);
}

#[test]
fn an_oti_that_changes_within_an_object_never_yields_a_wrong_object() {
    let specs = files(2, 20_000);
    let c = config(Mode::Flute, "nocode", |c| c.faults.changing_oti = true);
    let o = run_plain(Mode::Flute, c, &specs);
    assert!(o.receiver.stats().oti_mismatch > 0);
    o.assert_exact(&specs);
    assert!(
        o.delivered().iter().any(|d| d.name == "f1.bin"),
        "the other file is not affected"
    );
}

#[test]
fn two_files_under_one_toi_are_not_spliced() {
    let specs = files(2, 20_000);
    let c = config(Mode::Flute, "nocode", |c| c.faults.duplicate_toi = true);
    let o = run_plain(Mode::Flute, c, &specs);
    o.assert_exact(&specs);
    assert!(o.delivered().len() <= 1);
}

#[test]
fn a_cid_with_wrong_tois_does_not_filter_packets_and_does_not_complete() {
    // RFC 6968 §3.5: the receiver MUST NOT filter on the CID's list.
    let specs = files(2, 20_000);
    let c = config(Mode::Fcast, "nocode", |c| c.faults.cid_wrong_tois = true);
    let o = run_plain(Mode::Fcast, c, &specs);
    assert_eq!(o.delivered().len(), 2);
    o.assert_exact(&specs);
    assert!(!o.events.contains(&Event::SessionComplete));
}

#[test]
fn an_expired_fdt_is_not_used() {
    let specs = files(1, 20_000);
    let c = config(Mode::Flute, "nocode", |c| {
        c.fdt_validity = Duration::from_secs(10)
    });
    // The receiver's clock is an hour ahead of the sender's: every FDT has expired.
    let o = receive(
        plain(Mode::Flute),
        &transmits(c, &specs),
        Duration::from_secs(3600),
        |_| {},
    );
    assert!(o.delivered().is_empty());
    assert!(o
        .events
        .iter()
        .any(|e| matches!(e, Event::FdtIgnored { reason, .. } if reason.contains("expired"))));
    // The same packets on time are delivered (RFC 6726 §3.3 is about the packet's time).
    let c = config(Mode::Flute, "nocode", |c| {
        c.fdt_validity = Duration::from_secs(10)
    });
    let o = run_plain(Mode::Flute, c, &specs);
    assert_eq!(o.delivered().len(), 1);
}

#[test]
fn fdt_instance_ids_wrap_at_two_to_the_twenty() {
    let specs = files(4, 3_000);
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(Mode::Flute, dest, 5);
    c.first_fdt_instance_id = 1_048_574;
    let mut s = Sender::new(c).unwrap();
    let mut packets = Vec::new();
    for (i, sp) in specs.iter().enumerate() {
        s.add_object(sp.clone()).unwrap();
        s.commit(START, i == 3).unwrap();
        while let Some(t) = s.poll_transmit(START) {
            packets.push(t);
        }
    }
    let o = receive(plain(Mode::Flute), &packets, Duration::ZERO, |_| {});
    let ids: Vec<u32> = o
        .events
        .iter()
        .filter_map(|e| {
            if let Event::FdtInstance { instance_id, .. } = e {
                Some(*instance_id)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(ids, vec![1_048_574, 1_048_575, 0, 1]);
    assert_eq!(o.delivered().len(), 4);
    o.assert_exact(&specs);
    assert!(o.events.contains(&Event::SessionComplete));
}

#[test]
fn fdt_parameters_given_for_a_toi_do_not_change() {
    let specs = files(2, 20_000);
    let c = config(Mode::Flute, "nocode", |c| {
        c.faults.fdt_changes_parameters = true;
        c.fdt_interval = 8;
    });
    let o = run_plain(Mode::Flute, c, &specs);
    assert!(o.events.iter().any(|e| matches!(e, Event::FdtIgnored { reason, .. } if reason.contains("changes the parameters"))));
    assert_eq!(o.delivered().len(), 2);
    o.assert_exact(&specs);
}

#[test]
fn memory_caps_are_enforced_packet_by_packet() {
    let specs = files(6, 200_000);
    let c = config(Mode::Fcast, "nocode", |_| {});
    let packets = transmits(c, &specs);
    let mut rc = plain(Mode::Fcast);
    rc.max_buffered_bytes = 300_000;
    rc.max_objects = 2;
    let mut peak = (0u64, 0usize);
    let o = receive(rc, &packets, Duration::ZERO, |r| {
        peak.0 = peak.0.max(r.buffered_bytes());
        peak.1 = peak.1.max(r.objects_in_flight());
    });
    assert!(peak.0 <= 300_000 && peak.1 <= 2, "peak {peak:?}");
    assert!(o.receiver.stats().capped > 0);
    o.assert_exact(&specs);
}

#[test]
fn the_same_toi_in_another_field_width_is_the_same_object() {
    // RFC 6968 §3.6: TOIs compare by value; half of the packets carry a 64-bit TOI field.
    let specs = files(1, 40_000);
    let c = config(Mode::Fcast, "nocode", |_| {});
    let mut packets = transmits(c, &specs);
    for (i, t) in packets.iter_mut().enumerate() {
        let Ok(d) = LctRepr::parse(&t.payload) else {
            continue;
        };
        let mut lct = d.value;
        if i % 2 == 0 || lct.toi.is_none() {
            continue;
        }
        let rest = t.payload[lct.header_len()..].to_vec();
        lct.o = 2; // 64-bit TOI (H=0 with the 32-bit TSI)
        lct.fix_hdr_len();
        let mut out = Vec::new();
        lct.emit(&mut out).unwrap();
        out.extend_from_slice(&rest);
        t.payload = out;
    }
    let o = receive(plain(Mode::Fcast), &packets, Duration::ZERO, |_| {});
    assert_eq!(o.delivered().len(), 1);
    o.assert_exact(&specs);
}

#[test]
fn late_packets_of_an_earlier_object_still_count() {
    // RFC 5651 §6.2: packets of TOI n+1 do not close TOI n. Every packet of the first file is
    // delivered after all packets of the second.
    let specs = files(2, 30_000);
    let c = config(Mode::Fcast, "nocode", |c| c.cid = false);
    let packets = transmits(c, &specs);
    let first_toi =
        |t: &Transmit| LctRepr::parse(&t.payload).ok().and_then(|d| d.value.toi) == Some(1);
    let (mut late, mut rest): (Vec<Transmit>, Vec<Transmit>) =
        packets.into_iter().partition(first_toi);
    let a_flag = rest
        .iter()
        .position(|t| LctRepr::parse(&t.payload).is_ok_and(|d| d.value.close_session))
        .unwrap();
    let tail = rest.split_off(a_flag);
    rest.append(&mut late);
    rest.extend(tail);
    let o = receive(plain(Mode::Fcast), &rest, Duration::ZERO, |_| {});
    assert_eq!(o.delivered().len(), 2);
    o.assert_exact(&specs);
}

#[test]
fn a_file_whose_fdt_entry_never_came_does_not_swallow_the_next_file_on_its_toi() {
    // File A on TOI 1 is rebuilt but every copy of its FDT Instance is lost, so its bytes wait
    // for an FDT entry. An hour later file B comes on TOI 1 (long sessions reuse TOIs). Before,
    // B's packets were taken for repeats of the waiting A, and when B's FDT came A's bytes were
    // delivered under B's entry (or given up) and B was lost.
    let lct = |t: &Transmit| LctRepr::parse(&t.payload).ok().map(|d| d.value);
    let a: Vec<Transmit> = transmits(config(Mode::Flute, "nocode", |_| {}), &files(1, 500))
        .into_iter()
        .filter(|t| lct(t).is_some_and(|l| l.toi != Some(0) && !l.close_session))
        .collect();
    let b_file = ObjectSpec {
        name: "next.bin".into(),
        content_type: "application/octet-stream".into(),
        data: SeededRng::new(7).bytes(900),
    };
    let later = Duration::from_secs(3600);
    // B's FDT Instance goes after each data packet; its first copy, before them, is lost: B's
    // data comes first.
    let mut b: Vec<Transmit> = transmits(
        config(Mode::Flute, "nocode", |c| {
            c.first_fdt_instance_id = 9;
            c.fdt_interval = 1;
        }),
        std::slice::from_ref(&b_file),
    )
    .into_iter()
    .map(|mut t| {
        t.at += later;
        t
    })
    .collect();
    let first_fdt = b
        .iter()
        .position(|t| lct(t).is_some_and(|l| l.toi == Some(0)));
    assert_eq!(first_fdt, Some(0), "the FDT Instance leads B's cycle");
    b.remove(0);
    assert!(b.iter().any(|t| lct(t).is_some_and(|l| l.toi == Some(0))));
    assert!(!a.is_empty() && !b.is_empty());
    assert!(a.iter().chain(&b).all(|t| lct(t).is_some()));
    let mut r = Receiver::new(plain(Mode::Flute));
    let mut delivered = Vec::new();
    for t in a.iter().chain(&b) {
        r.handle(t.at, t.source, &t.payload);
        while let Some(e) = r.poll_event() {
            if let Event::Delivered(d) = e {
                delivered.push((d.name, d.data == b_file.data));
            }
        }
    }
    assert_eq!(delivered, [("next.bin".to_string(), true)]);
}
