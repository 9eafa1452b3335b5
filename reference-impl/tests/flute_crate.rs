//! Interop with a third-party FLUTE implementation, the `flute` crate, in both directions, in
//! process: FEC Encoding IDs 0, 2 (m=8), 5, 6 and 129; objects of 10 KiB, 1 MiB and 5 MiB in one
//! session; seeded loss of object packets (not of the FDT) forcing FEC decoding; byte-exact.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use flute::core::{Oti, UDPEndpoint};
use flute::receiver::writer::ObjectWriterBufferBuilder;
use flute::receiver::MultiReceiver;
use flute::sender::{ObjectDesc, Sender as FluteSender};
use rmt_inspector::wire::lct::LctRepr;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};

const SIZES: [usize; 3] = [10 * 1024, 1 << 20, 5 << 20];
const START: Duration = Duration::from_secs(1_800_000_000);

fn objects() -> Vec<(String, Vec<u8>)> {
    SIZES
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                format!("obj{}-{n}.bin", i + 1),
                SeededRng::new(i as u64 + 1).bytes(*n),
            )
        })
        .collect()
}

fn endpoint() -> UDPEndpoint {
    UDPEndpoint::new(None, "233.252.0.1".to_string(), 3400)
}

/// Drops object packets (TOI > 0) with probability `loss`, seeded; never the FDT.
fn lossy(packets: Vec<Vec<u8>>, loss: f64, seed: u64) -> (Vec<Vec<u8>>, usize) {
    let mut rng = SeededRng::new(seed);
    let before = packets.len();
    let kept: Vec<Vec<u8>> = packets
        .into_iter()
        .filter(|p| {
            let toi = LctRepr::parse(p).ok().and_then(|d| d.value.toi);
            !(toi.is_some_and(|t| t > 0) && rng.chance(loss))
        })
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}

fn theirs_to_ours(oti: Oti, loss: f64, expect_id: u8) {
    let mut sender = FluteSender::new(endpoint(), 1, &oti, &Default::default());
    let objs = objects();
    for (name, data) in &objs {
        let url = url::Url::parse(&format!("file:///{name}")).unwrap();
        let o = ObjectDesc::create_from_buffer(
            data.clone(),
            "application/octet-stream",
            &url,
            true,
            Default::default(),
        )
        .unwrap();
        sender.add_object(0, o).unwrap();
    }
    let now = SystemTime::UNIX_EPOCH + START;
    sender.publish(now).unwrap();
    let mut packets = Vec::new();
    while let Some(p) = sender.read(now) {
        packets.push(p);
        assert!(packets.len() < 1_000_000, "the flute sender does not stop");
    }
    let (packets, dropped) = lossy(packets, loss, 7);
    assert!(loss == 0.0 || dropped > 100, "dropped {dropped}");
    let mut r = Receiver::new(ReceiverConfig::new(Mode::Flute, 1));
    let src = "127.0.0.1".parse().unwrap();
    let mut got = Vec::new();
    for p in &packets {
        r.handle(START, src, p);
        while let Some(e) = r.poll_event() {
            if let Event::Delivered(d) = e {
                got.push(d);
            }
        }
    }
    assert_eq!(
        got.len(),
        3,
        "ID {expect_id}: delivered {}, stats {:?}",
        got.len(),
        r.stats()
    );
    for (name, data) in &objs {
        let d = got
            .iter()
            .find(|d| d.name.ends_with(name.as_str()))
            .unwrap_or_else(|| panic!("{name}"));
        assert!(d.data == *data, "ID {expect_id}: {name} differs");
    }
    assert_eq!(r.stats().malformed, 0);
}

fn ours_to_theirs(fec: &str, loss: f64, expect_id: u8) {
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut cfg = SenderConfig::new(Mode::Flute, dest, 1);
    cfg.fec = fec.parse().unwrap();
    cfg.ext_time = false;
    assert_eq!(cfg.fec.encoding_id, expect_id);
    let mut s = Sender::new(cfg).unwrap();
    let objs = objects();
    for (name, data) in &objs {
        s.add_object(ObjectSpec {
            name: format!("file:///{name}"),
            content_type: "application/octet-stream".into(),
            data: data.clone(),
        })
        .unwrap();
    }
    s.commit(START, true).unwrap();
    let mut packets = Vec::new();
    while let Some(t) = s.poll_transmit(START) {
        packets.push(t.payload);
        assert!(packets.len() < 1_000_000, "our sender does not stop");
    }
    assert!(s.is_finished());
    let (packets, dropped) = lossy(packets, loss, 11);
    assert!(loss == 0.0 || dropped > 100, "dropped {dropped}");
    let writer = Rc::new(ObjectWriterBufferBuilder::new(true));
    let mut receiver = MultiReceiver::new(writer.clone(), None, false);
    let now = SystemTime::UNIX_EPOCH + START;
    for p in &packets {
        receiver.push(&endpoint(), p, now).unwrap();
    }
    let objects = writer.objects.borrow();
    for (name, data) in &objs {
        let o = objects
            .iter()
            .find(|o| o.borrow().meta.content_location.ends_with(name.as_str()))
            .unwrap_or_else(|| panic!("ID {expect_id}: the flute receiver has no {name}"));
        let o = o.borrow();
        assert!(
            o.complete && !o.error,
            "ID {expect_id} {name}: complete={} error={}",
            o.complete,
            o.error
        );
        assert!(o.data == *data, "ID {expect_id}: {name} differs");
    }
}

#[test]
fn flute_crate_to_us_no_code() {
    theirs_to_ours(Oti::new_no_code(1400, 64), 0.0, 0);
}

#[test]
fn flute_crate_to_us_reed_solomon_5_with_loss() {
    theirs_to_ours(Oti::new_reed_solomon_rs28(1400, 200, 40).unwrap(), 0.05, 5);
}

#[test]
fn flute_crate_to_us_reed_solomon_2_m8_with_loss() {
    theirs_to_ours(
        Oti::new_reed_solomon_rs2m(1400, 200, 40, 8).unwrap(),
        0.05,
        2,
    );
}

#[test]
fn flute_crate_to_us_reed_solomon_129_with_loss() {
    theirs_to_ours(
        Oti::new_reed_solomon_rs28_under_specified(1400, 200, 40).unwrap(),
        0.05,
        129,
    );
}

#[test]
fn flute_crate_to_us_raptorq_with_loss() {
    theirs_to_ours(Oti::new_raptorq(1400, 1000, 100, 1, 4).unwrap(), 0.03, 6);
}

#[test]
fn us_to_flute_crate_no_code() {
    ours_to_theirs("nocode", 0.0, 0);
}

#[test]
fn us_to_flute_crate_reed_solomon_5_with_loss() {
    ours_to_theirs("rs:4/5", 0.05, 5);
}

#[test]
fn us_to_flute_crate_reed_solomon_2_m8_with_loss() {
    ours_to_theirs("rs2:4/5", 0.05, 2);
}

#[test]
fn us_to_flute_crate_reed_solomon_129_with_loss() {
    ours_to_theirs("rs129:4/5", 0.05, 129);
}

#[test]
fn us_to_flute_crate_raptorq_with_loss() {
    ours_to_theirs("raptorq:10/11", 0.03, 6);
}
