//! Seeds `fuzz/corpus/receiver/` with whole sessions from our sender (FLUTE and FCAST, several
//! FEC schemes, with and without faults), in the framing the `receiver` fuzz target reads, so
//! that fuzzing starts from traffic the receiver accepts.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use rmt_reference::faults::Faults;
use rmt_reference::packet::FieldWidths;
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};
use rmt_reference::testkit::framed::{frame, run_framed, MAX_BUFFERED, MAX_OBJECTS};

fn session(mode: Mode, fec: &str, faults: Faults, widths: FieldWidths) -> Vec<u8> {
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(mode, dest, 1);
    c.fec = fec.parse().unwrap();
    c.fec.symbol_length = 200;
    c.widths = widths;
    c.rate_bps = 10_000_000;
    c.faults = faults;
    let mut s = Sender::new(c).unwrap();
    for (i, len) in [700usize, 2_000, 1].iter().enumerate() {
        s.add_object(ObjectSpec {
            name: format!("o{i}"),
            content_type: "x/y".into(),
            data: SeededRng::new(i as u64).bytes(*len),
        })
        .unwrap();
    }
    let start = Duration::from_secs(1_800_000_000);
    s.commit(start, true).unwrap();
    // Configuration byte: mode, fixed TSI, FEC ID 0 given for FCAST no-code.
    let mut out = vec![
        u8::from(mode == Mode::Fcast)
            | 2
            | if mode == Mode::Fcast && fec == "nocode" {
                4
            } else {
                0
            },
    ];
    let mut now = start;
    let mut last = start;
    while let Some(due) = s.poll_timeout() {
        now = now.max(due);
        let Some(t) = s.poll_transmit(now) else {
            continue;
        };
        let dt = t.at.saturating_sub(last).as_millis().min(255) as u8;
        last = t.at;
        frame(&mut out, dt, t.source != s.config().source, &t.payload);
        assert!(out.len() < 1 << 20, "seed too large");
    }
    out
}

/// Every input that once failed the `receiver` target, replayed: within the caps, and fast.
#[test]
fn receiver_regressions_replay_within_caps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/receiver");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(e.unwrap().path()).unwrap();
        let t = std::time::Instant::now();
        let r = run_framed(&data, |r| {
            assert!(r.buffered_bytes() <= MAX_BUFFERED && r.objects_in_flight() <= MAX_OBJECTS);
        });
        assert_eq!(r.buffered_bytes(), 0);
        // Not a speed target: a bound far above normal, far below the seconds the bug took.
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        n += 1;
    }
    assert!(n > 0);
}

/// The seeds are sessions the receiver accepts: each one delivers objects.
#[test]
fn seeds_deliver() {
    let wide = FieldWidths {
        tsi_len: 4,
        toi_len: 4,
    };
    for mode in [Mode::Flute, Mode::Fcast] {
        let r = run_framed(&session(mode, "rs", Faults::default(), wide), |_| {});
        assert_eq!(r.stats().delivered, 3, "{mode:?}");
    }
}

#[test]
fn write_receiver_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/receiver");
    std::fs::create_dir_all(&dir).unwrap();
    let narrow = FieldWidths {
        tsi_len: 2,
        toi_len: 2,
    };
    let wide = FieldWidths {
        tsi_len: 4,
        toi_len: 4,
    };
    let faulty = Faults {
        seed: 2,
        loss: 0.1,
        duplicate: 0.1,
        reorder: 0.1,
        wrong_hdr_len: 0.05,
        changing_oti: true,
        ..Default::default()
    };
    let mut n = 0;
    for mode in [Mode::Flute, Mode::Fcast] {
        for fec in ["nocode", "rs", "ldpc:2/3", "raptorq"] {
            for (faults, widths) in [(Faults::default(), wide), (faulty.clone(), narrow)] {
                let bytes = session(mode, fec, faults, widths);
                let name = format!("seed-{mode:?}-{}-{n}", fec.replace([':', '/'], "_"));
                std::fs::write(dir.join(name), &bytes).unwrap();
                n += 1;
            }
        }
    }
    assert_eq!(n, 16);
}
