//! Our sender to our receiver over a simulated lossy network on a virtual clock (seeded).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};
use rmt_reference::sim::{SimNetwork, SimRun};

const START: Duration = Duration::from_secs(1_800_000_000);

fn dest() -> SocketAddr {
    "233.252.0.1:3400".parse().unwrap()
}

fn spec(name: &str, len: usize, seed: u64) -> ObjectSpec {
    ObjectSpec {
        name: name.into(),
        content_type: "application/octet-stream".into(),
        data: SeededRng::new(seed).bytes(len),
    }
}

fn delivered(run: &SimRun, rx: usize) -> Vec<(u128, String, Vec<u8>)> {
    run.events[rx]
        .iter()
        .filter_map(|e| match e {
            Event::Delivered(d) => Some((d.toi, d.name.clone(), d.data.clone())),
            _ => None,
        })
        .collect()
}

fn one_shot(
    mode: Mode,
    fec: &str,
    loss: f64,
    cycles: u32,
    sizes: &[usize],
) -> (SimRun, Vec<ObjectSpec>) {
    let mut cfg = SenderConfig::new(mode, dest(), 7);
    cfg.fec = fec.parse().unwrap();
    cfg.cycles = cycles;
    cfg.rate_bps = 100_000_000;
    let mut s = Sender::new(cfg).unwrap();
    let specs: Vec<ObjectSpec> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| spec(&format!("obj{i}.bin"), *n, i as u64 + 10))
        .collect();
    for sp in &specs {
        s.add_object(sp.clone()).unwrap();
    }
    s.commit(START, true).unwrap();
    let mut r = Receiver::new(ReceiverConfig::new(mode, 7));
    let net = SimNetwork {
        loss,
        seed: 99,
        ..Default::default()
    };
    let run = net.run(&mut s, &mut [&mut r], START, false, |_, _| true);
    assert!(s.is_finished(), "the sender finished");
    (run, specs)
}

fn assert_all_delivered(run: &SimRun, specs: &[ObjectSpec]) {
    let got = delivered(run, 0);
    assert_eq!(
        got.len(),
        specs.len(),
        "events: {:?}",
        run.events[0]
            .iter()
            .filter(|e| !matches!(e, Event::Delivered(_)))
            .collect::<Vec<_>>()
    );
    for sp in specs {
        let d = got
            .iter()
            .find(|(_, n, _)| *n == sp.name)
            .expect("delivered");
        assert!(d.2 == sp.data, "{} differs", sp.name);
    }
    assert!(run.events[0].contains(&Event::SessionComplete));
    assert!(run.events[0].contains(&Event::SessionClosed));
}

#[test]
fn flute_nocode_without_loss_delivers_every_file() {
    let (run, specs) = one_shot(Mode::Flute, "nocode", 0.0, 1, &[10_240, 1_048_576, 1]);
    assert_all_delivered(&run, &specs);
}

#[test]
fn fcast_ldpc_two_thirds_with_ten_percent_loss_decodes() {
    let (run, specs) = one_shot(Mode::Fcast, "ldpc:2/3", 0.10, 1, &[300_000, 50_000]);
    assert!(run.lost > 0);
    assert_all_delivered(&run, &specs);
}

#[test]
fn flute_every_scheme_with_loss_decodes() {
    for fec in ["rs", "rs2", "rs129", "ldpc-triangle:2/3", "raptorq"] {
        let (run, specs) = one_shot(Mode::Flute, fec, 0.05, 1, &[200_000]);
        assert!(run.lost > 0, "{fec}");
        assert_all_delivered(&run, &specs);
    }
}

#[test]
fn on_demand_cycles_recover_what_one_cycle_loses() {
    // No repair symbols, 20% loss: one cycle cannot deliver, three cycles can.
    let (run, _) = one_shot(Mode::Fcast, "nocode", 0.2, 1, &[100_000]);
    assert!(delivered(&run, 0).is_empty());
    let (run, specs) = one_shot(Mode::Fcast, "nocode", 0.2, 6, &[100_000]);
    assert_all_delivered(&run, &specs);
}

#[test]
fn a_second_sender_with_the_same_tsi_is_not_merged() {
    let mut cfg = SenderConfig::new(Mode::Fcast, dest(), 7);
    cfg.faults.second_sender = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)));
    let mut s = Sender::new(cfg).unwrap();
    let sp = spec("a.bin", 50_000, 3);
    s.add_object(sp.clone()).unwrap();
    s.commit(START, true).unwrap();
    let mut rc = ReceiverConfig::new(Mode::Fcast, 7);
    rc.source = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let mut r = Receiver::new(rc);
    let run = SimNetwork::default().run(&mut s, &mut [&mut r], START, false, |_, _| true);
    assert_eq!(delivered(&run, 0).len(), 1);
    assert_eq!(delivered(&run, 0)[0].2, sp.data);
    assert!(r.stats().foreign > 0);
    // The second sender's copies are valid packets with other symbols (FEC Payload ID kept): a
    // receiver that ignores the sender address takes them, none is malformed.
    let mut cfg = SenderConfig::new(Mode::Fcast, dest(), 7);
    cfg.faults.second_sender = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)));
    let mut s = Sender::new(cfg).unwrap();
    s.add_object(sp.clone()).unwrap();
    s.commit(START, true).unwrap();
    let mut rc = ReceiverConfig::new(Mode::Fcast, 7);
    rc.source = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let mut merging = Receiver::new(rc);
    merging.mutate(rmt_reference::receiver::mutant::ReceiverMutant::SourceIgnored);
    let run = SimNetwork::default().run(&mut s, &mut [&mut merging], START, false, |_, _| true);
    let _ = run;
    assert_eq!(merging.stats().malformed, 0, "{:?}", merging.stats());
    assert_eq!(merging.stats().foreign, 0, "{:?}", merging.stats());
}
