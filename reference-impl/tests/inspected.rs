//! Our sender's traffic, captured, passes `rmt-inspector` with no finding; each fault-injection
//! knob produces the finding it should.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use rmt_inspector::inspect::check::{check_capture, FindingCounts};
use rmt_inspector::wire::alc::AlcContext;
use rmt_reference::driver::capture::{send_to_capture, VIRTUAL_START};
use rmt_reference::faults::Faults;
use rmt_reference::packet::FieldWidths;
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::fcast::Packaging;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rmt-ref-inspected-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn capture(cfg: SenderConfig, name: &str) -> Vec<u8> {
    let mut s = Sender::new(cfg).unwrap();
    for (i, len) in [20_000usize, 3_000, 150_000].iter().enumerate() {
        s.add_object(ObjectSpec {
            name: format!("file-{i}.bin"),
            content_type: "application/octet-stream".into(),
            data: SeededRng::new(i as u64).bytes(*len),
        })
        .unwrap();
    }
    s.commit(VIRTUAL_START, true).unwrap();
    let path = tmp(name);
    send_to_capture(&mut s, &path, VIRTUAL_START, 4000, 1_000_000).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    bytes
}

fn config(mode: Mode, fec: &str) -> SenderConfig {
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(mode, dest, 9);
    c.fec = fec.parse().unwrap();
    c.rate_bps = 50_000_000;
    c
}

fn findings(bytes: &[u8], mode: Mode, fec_id: u8) -> FindingCounts {
    let ctx = AlcContext {
        fec_encoding_id: (mode == Mode::Fcast).then_some(fec_id),
        ..Default::default()
    };
    check_capture(bytes, vec![3400], ctx).unwrap()
}

/// Runs `p` over an FCAST capture (FEC Encoding ID 0, port 3400) as `rmt-inspect` does,
/// calling `each` after every packet, and finishes it.
fn run_pipeline(
    bytes: &[u8],
    mut p: rmt_inspector::inspect::inspection::Inspection,
    mut each: impl FnMut(&rmt_inspector::inspect::inspection::Inspection),
) -> rmt_inspector::inspect::inspection::Inspection {
    use rmt_inspector::capture::reader::Packets;
    use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
    let ctx = AlcContext {
        fec_encoding_id: Some(0),
        ..Default::default()
    };
    let mut flows = FlowSelector::new(vec![3400], ctx);
    for raw in Packets::new(bytes).unwrap() {
        p.push(&dissect(raw.unwrap(), &mut flows)).unwrap();
        each(&p);
    }
    p.finish().unwrap();
    p
}

/// An FCAST carousel (two cycles) of three 3,000-byte objects, one more per Carousel
/// Instance, the last one Complete.
fn carousel_of_three() -> Sender {
    let mut c = config(Mode::Fcast, "nocode");
    c.cycles = 2;
    let mut s = Sender::new(c).unwrap();
    for i in 0..3u64 {
        s.add_object(ObjectSpec {
            name: format!("i{i}"),
            content_type: "a/b".into(),
            data: SeededRng::new(i).bytes(3000),
        })
        .unwrap();
        s.commit(VIRTUAL_START, i == 2).unwrap();
    }
    s
}

#[test]
fn our_traffic_has_no_finding_in_every_mode_and_scheme() {
    for mode in [Mode::Flute, Mode::Fcast] {
        for fec in rmt_reference::fec_config::EVERY_SCHEME.iter().copied() {
            for variant in 0..2 {
                let mut c = config(mode, fec);
                if variant == 1 {
                    c.widths = FieldWidths {
                        tsi_len: 2,
                        toi_len: 2,
                    };
                    c.fdt_cenc = true;
                    c.cycles = 2;
                    c.packaging = Packaging {
                        global_checksum: true,
                        gzip_metadata: true,
                        gzip_content: true,
                    };
                }
                let id = c.fec.encoding_id;
                let f = findings(&capture(c, "clean.pcap"), mode, id);
                assert!(f.is_empty(), "{mode:?} {fec} variant {variant}: {f:#?}");
            }
        }
    }
}

/// The capture of a run with one fault, and the findings it raises.
fn with_fault(mode: Mode, set: impl FnOnce(&mut Faults)) -> FindingCounts {
    let mut c = config(mode, "nocode");
    c.faults.seed = 4;
    set(&mut c.faults);
    findings(&capture(c, "fault.pcap"), mode, 0)
}

type SetFault = Box<dyn FnOnce(&mut Faults)>;

#[test]
fn each_fault_knob_raises_its_finding() {
    let cases: Vec<(&str, Mode, SetFault, &str)> = vec![
        // One word short, HDR_LEN cuts into EXT_FTI: the extension walk overruns it.
        (
            "wrong HDR_LEN",
            Mode::Flute,
            Box::new(|f| f.wrong_hdr_len = 0.05),
            "lct.ext.overrun",
        ),
        (
            "changing OTI",
            Mode::Flute,
            Box::new(|f| f.changing_oti = true),
            "alc.oti.changed_within_object",
        ),
        (
            "duplicate TOI",
            Mode::Flute,
            Box::new(|f| f.duplicate_toi = true),
            "flute.fdt.toi_duplicate",
        ),
        (
            "second sender",
            Mode::Flute,
            Box::new(|f| f.second_sender = Some(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)))),
            "lct.tsi.multiple_senders",
        ),
        (
            "FDT parameters change",
            Mode::Flute,
            Box::new(|f| f.fdt_changes_parameters = true),
            "flute.fdt.parameters_changed",
        ),
        (
            "corrupt checksum",
            Mode::Fcast,
            Box::new(|f| f.corrupt_checksum = true),
            "fcast.checksum.bad",
        ),
        (
            "CID with wrong TOIs",
            Mode::Fcast,
            Box::new(|f| f.cid_wrong_tois = true),
            "fcast.cid.toi_unseen",
        ),
    ];
    for (what, mode, set, id) in cases {
        let f = with_fault(mode, set);
        assert!(
            f.contains_key(id),
            "{what}: expected {id}, got {:?}",
            f.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_cid_table_shows_each_carousel_instance() {
    use rmt_inspector::inspect::check::track_capture;
    use rmt_inspector::inspect::stats::{cid, Stats};
    let mut s = carousel_of_three();
    let path = tmp("cid.pcap");
    send_to_capture(&mut s, &path, VIRTUAL_START, 4000, 100_000).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let t = track_capture(
        &bytes,
        vec![3400],
        AlcContext {
            fec_encoding_id: Some(0),
            ..Default::default()
        },
    )
    .unwrap();
    let stats = Stats::of(&t);
    let lines: Vec<serde_json::Value> = cid(&stats, true)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Three instances, each listing the objects added so far, the last one Complete.
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["ciid"], i as u64);
        assert_eq!(l["objects"], (i + 1).to_string());
        assert_eq!(l["objects_seen"], i + 1);
        assert_eq!(l["complete"], i == 2);
    }
    assert!(cid(&stats, false).contains("Carousel Instance Descriptors"));
}

#[test]
fn tois_reused_for_new_objects_after_a_wrap_are_new_objects_to_the_inspector() {
    // Before objects had incarnations, the first reused TOI gave alc.oti.changed_within_object
    // and fcast.toi.window_exceeded (the old and new objects merged into one).
    for cid in [true, false] {
        let bytes = rmt_reference::driver::capture::transmits_pcap(
            &rmt_reference::sessions::wrapping_fcast_push(cid),
            4000,
        );
        let f = findings(&bytes, Mode::Fcast, 0);
        let bad: Vec<_> = f
            .iter()
            .filter(|(_, c)| c.severity >= rmt_inspector::wire::Severity::Warning)
            .collect();
        assert!(bad.is_empty(), "cid={cid}: {bad:#?}");
        // The committed regression capture is this session (examples/regression_captures.rs).
        let name = if cid { "cid" } else { "nocid" };
        let committed = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            format!("../vectors/captures/long/fcast-toi-reuse-{name}.pcap"),
        ))
        .unwrap();
        assert!(
            committed == bytes,
            "vectors/captures/long/fcast-toi-reuse-{name}.pcap is not current: cargo run -p rmt-reference --example regression_captures"
        );
    }
}

#[test]
fn a_receiver_delivers_every_object_of_the_wrapping_sessions() {
    use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
    for cid in [true, false] {
        let mut r = Receiver::new(ReceiverConfig::new(Mode::Fcast, 9));
        for t in rmt_reference::sessions::wrapping_fcast_push(cid) {
            r.handle(t.at, t.source, &t.payload);
        }
        let mut got = std::collections::BTreeMap::new();
        while let Some(e) = r.poll_event() {
            if let Event::Delivered(d) = e {
                assert!(
                    got.insert(d.name.clone(), d.data).is_none(),
                    "{} twice",
                    d.name
                );
            }
        }
        assert_eq!(
            got.len() as u64,
            rmt_reference::sessions::WRAPPING_OBJECTS,
            "cid={cid}"
        );
        for (name, data) in &got {
            let n: u64 = name
                .trim_start_matches("seg-")
                .trim_end_matches(".m4s")
                .parse()
                .unwrap();
            assert_eq!(
                data,
                &SeededRng::new(n).bytes(200 + 50 * n as usize),
                "{name}"
            );
        }
    }
}

#[test]
fn the_inspector_keeps_a_bounded_toi_history_and_says_so() {
    // 70,000 one-packet objects, 16-bit TOIs 4096 apart without CIDs: every TOI is reused
    // about 4,400 times, more objects than the 65,536 whose history the inspector keeps.
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(Mode::Fcast, dest, 9);
    c.widths = FieldWidths {
        tsi_len: 2,
        toi_len: 2,
    };
    c.toi_stride = 4096;
    c.cid = false;
    c.ext_time = false;
    let mut s = Sender::new(c).unwrap();
    let objects = (0..70_000u32).map(|i| ObjectSpec {
        name: format!("o{i}"),
        content_type: "a/b".into(),
        data: i.to_be_bytes().to_vec(),
    });
    let frames = rmt_reference::sessions::one_at_a_time(&mut s, None, objects, 200_000).unwrap();
    let bytes = rmt_reference::driver::capture::transmits_pcap(&frames, 4000);
    let f = findings(&bytes, Mode::Fcast, 0);
    assert!(f.contains_key("track.toi_history.cap"), "{f:#?}");
    // 70,000 objects, 65,536 records for -z objects: said, not silent.
    assert!(f.contains_key("track.objects.records.cap"), "{f:#?}");
    assert!(!f.contains_key("fcast.toi.window_exceeded"), "{f:#?}");
    assert!(!f.contains_key("alc.oti.changed_within_object"), "{f:#?}");
}

#[test]
fn objects_on_reused_tois_show_their_incarnation_in_the_table_and_the_manifest() {
    use rmt_inspector::inspect::inspection::Inspection;
    use rmt_inspector::inspect::stats::{objects, Stats};
    use rmt_inspector::track::assembler::AssemblerConfig;
    use rmt_inspector::track::export::Exporter;
    // 40 objects, TOIs 4096 apart in 16 bits: 16 TOIs used once, twice and (8 of them) three
    // times (rmt_reference::sessions::wrapping_fcast_push).
    let bytes = rmt_reference::driver::capture::transmits_pcap(
        &rmt_reference::sessions::wrapping_fcast_push(false),
        4000,
    );
    let dir = tmp("incarnations");
    let _ = std::fs::remove_dir_all(&dir);
    let p = run_pipeline(
        &bytes,
        Inspection::new(AssemblerConfig::default())
            .with_exporter(Exporter::new(&dir, false).unwrap()),
        |_| {},
    );
    let lines: Vec<serde_json::Value> = objects(&Stats::of(&p), true)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &serde_json::Value| l["log"] == "objects")
        .collect();
    assert!(!p.findings.contains_key("track.objects.records.cap"));
    let count = |n: u64| lines.iter().filter(|l| l["incarnation"] == n).count();
    assert_eq!((lines.len(), count(0), count(1), count(2)), (40, 16, 16, 8));
    let manifest: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.len(), 40);
    // The same TOI, three objects, each with its own name and bytes.
    let on_toi_1: Vec<_> = manifest.iter().filter(|m| m["toi"] == "1").collect();
    let incarnations: Vec<u64> = on_toi_1
        .iter()
        .map(|m| m["incarnation"].as_u64().unwrap())
        .collect();
    assert_eq!(incarnations, [0, 1, 2], "{on_toi_1:#?}");
    let names: std::collections::BTreeSet<_> = on_toi_1
        .iter()
        .map(|m| m["file"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_session_checks_hold_a_bounded_number_of_objects_with_32_bit_tois() {
    // 32-bit TOIs never wrap in a session, so no object ever leaves the §3.6 window: before the
    // cap, the session checks kept one entry per object for ever.
    use rmt_inspector::inspect::inspection::Inspection;
    use rmt_inspector::track::assembler::AssemblerConfig;
    use rmt_reference::sender::{ObjectSpec, SenderConfig};
    let mut c = SenderConfig::new(Mode::Fcast, "233.252.0.1:3400".parse().unwrap(), 9);
    c.cid = false;
    let mut s = Sender::new(c).unwrap();
    let objects = (0..3_000u64).map(|i| ObjectSpec {
        name: format!("o{i}"),
        content_type: "a/b".into(),
        data: SeededRng::new(i).bytes(100),
    });
    let sent = rmt_reference::sessions::one_at_a_time(&mut s, None, objects, 100_000).unwrap();
    let bytes = rmt_reference::driver::capture::transmits_pcap(&sent, 4000);
    let mut p = Inspection::new(AssemblerConfig::default());
    p.sessions.max_tracked_objects = 500;
    let mut most = 0;
    let p = run_pipeline(&bytes, p, |p| {
        let held: usize = p
            .sessions
            .sessions
            .values()
            .map(|s| s.tracked_objects())
            .sum();
        most = most.max(held);
    });
    assert!(most <= 500, "{most} objects held");
    let bad: Vec<_> = p
        .findings
        .iter()
        .filter(|(_, c)| c.severity >= rmt_inspector::wire::Severity::Warning)
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!((p.objects.objects, p.objects.recoverable), (3_000, 3_000));
    let s = p.sessions.sessions.values().next().unwrap();
    assert_eq!(s.data_tois(), 3_000, "every object counted");
}

/// The carousel of three, inspected with `config`: objects rebuilt, and whether `id` was said.
fn carousel_inspected(
    config: rmt_inspector::track::assembler::AssemblerConfig,
    id: &str,
) -> (u64, bool) {
    use rmt_inspector::inspect::inspection::Inspection;
    let mut s = carousel_of_three();
    let mut now = VIRTUAL_START;
    let bytes = rmt_reference::driver::capture::transmits_pcap(&s.drain(&mut now, 100_000), 4000);
    let p = run_pipeline(&bytes, Inspection::new(config), |_| {});
    (p.objects.objects, p.findings.contains_key(id))
}

#[test]
fn completed_objects_forgotten_past_the_cap_are_said() {
    // A carousel (two cycles) of three objects and their CIDs: repeats of a completed object
    // are repeats while it is remembered. With room for one, the others' repeats become new
    // objects, and track.objects.done.cap says so.
    use rmt_inspector::track::assembler::AssemblerConfig;
    let run = |max_done: usize| {
        let config = AssemblerConfig {
            max_done,
            ..AssemblerConfig::default()
        };
        carousel_inspected(config, "track.objects.done.cap")
    };
    let (objects, said) = run(AssemblerConfig::default().max_done);
    assert!(!said);
    // Three files and a CID per Carousel Instance, each rebuilt once.
    assert_eq!(objects, 6);
    let (objects, said) = run(1);
    assert!(said);
    assert!(objects > 6, "{objects} objects");
}

#[test]
fn symbols_dropped_at_the_buffer_cap_are_said() {
    // The same carousel with room for less than one block (3,000-byte objects): every object
    // is turned away at the cap, and track.buffer.cap says so; with the default cap, nothing.
    use rmt_inspector::track::assembler::AssemblerConfig;
    let run = |max_buffered_bytes: u64| {
        let config = AssemblerConfig {
            max_buffered_bytes,
            ..AssemblerConfig::default()
        };
        carousel_inspected(config, "track.buffer.cap").1
    };
    assert!(!run(AssemblerConfig::default().max_buffered_bytes));
    assert!(run(100));
}

#[test]
fn the_inspection_hands_out_fdt_instances_objects_and_findings_as_they_happen() {
    // A FLUTE session whose second file's OTI changes mid-object: the observer sees FDT
    // Instances and objects while the packets are pushed, not at the end, and every finding
    // the counts hold.
    use rmt_inspector::inspect::inspection::{Inspection, Observer};
    use rmt_inspector::track::assembler::{AssemblerConfig, FdtEvent, ObjectReport};
    use rmt_inspector::wire::fcast::CompoundObject;
    use rmt_inspector::wire::Finding;
    use std::sync::{Arc, Mutex};
    #[derive(Default)]
    struct Seen {
        fdt: u64,
        objects: u64,
        findings: Vec<&'static str>,
    }
    struct Record(Arc<Mutex<Seen>>);
    impl Observer for Record {
        fn finding(&mut self, _frame: u64, f: &Finding) {
            self.0.lock().unwrap().findings.push(f.id);
        }
        fn fdt_instance(&mut self, _e: &FdtEvent) {
            self.0.lock().unwrap().fdt += 1;
        }
        fn object(&mut self, _r: &ObjectReport, _f: Option<&CompoundObject>) {
            self.0.lock().unwrap().objects += 1;
        }
    }
    let mut c = config(Mode::Flute, "nocode");
    c.faults.changing_oti = true;
    let bytes = capture(c, "observed.pcap");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let config = AssemblerConfig {
        all_objects: true,
        ..AssemblerConfig::default()
    };
    let p = Inspection::new(config).with_observer(Box::new(Record(seen.clone())));
    let mut during = (0, 0, 0);
    let p = run_pipeline(&bytes, p, |_| {
        let s = seen.lock().unwrap();
        during = (s.fdt, s.objects, s.findings.len());
    });
    // Seen before `finish`: the FDT Instances, the objects and the session findings (the OTI
    // change is raised by the packet that makes it).
    assert!(
        during.0 > 0 && during.1 > 0 && during.2 > 0,
        "not handed out during the loop: {during:?}"
    );
    let s = seen.lock().unwrap();
    assert_eq!(s.objects, p.objects.objects);
    let counted: u64 = p.findings.values().map(|c| c.count).sum();
    assert_eq!(s.findings.len() as u64, counted);
    assert!(
        s.findings.contains(&"alc.oti.changed_within_object"),
        "{:?}",
        s.findings
    );
}
