//! ROUTE round trip (issue 20): the reference sender's session (LLS, SLS with S-TSID and MPD,
//! File- and Entity-mode source flows, a RaptorQ repair flow) goes through the reference
//! receiver and through rmt-inspect, and both rebuild every object under its name; source
//! packets lost within what the repair flow covers are repaired, and past it they are not.

use std::collections::BTreeMap;
use std::time::Duration;

use rmt_inspector::capture::read_capture;
use rmt_inspector::capture::reader::RawPacket;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::inspect::inspection::Inspection;
use rmt_inspector::track::assembler::AssemblerConfig;
use rmt_inspector::track::export::Exporter;
use rmt_inspector::track::route_signalling::prescan;
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::frame::Frame;
use rmt_reference::route::receiver::SENDER;
use rmt_reference::route::{route_session, Datagram, RouteConfig, RouteFile, RouteReceiver};

fn bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

const MPD: &str = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"><Period id="1"><AdaptationSet contentType="video"><Representation id="v" bandwidth="1000000"><SegmentTemplate initialization="init.mp4" media="seg-$Number$.m4s" startNumber="1"/></Representation></AdaptationSet></Period></MPD>"#;

fn config() -> RouteConfig {
    let mut cfg = RouteConfig::new(
        vec![
            RouteFile::new("init.mp4", "video/mp4", bytes(1, 2_000)),
            RouteFile::new("seg-1.m4s", "video/iso.segment", bytes(2, 30_000)),
            RouteFile::new("seg-2.m4s", "video/iso.segment", bytes(3, 20_001)),
            RouteFile::new("notes.txt", "text/plain", b"ROUTE notes".to_vec()),
        ],
        vec![
            RouteFile::new("seg-3.m4s", "video/iso.segment", bytes(4, 15_000)),
            RouteFile::new("readme.html", "text/html", b"<p>entity mode</p>".to_vec()),
        ],
    );
    cfg.mpd = Some(MPD.into());
    cfg
}

fn expected(cfg: &RouteConfig) -> BTreeMap<String, Vec<u8>> {
    cfg.file_mode
        .iter()
        .chain(&cfg.entity_mode)
        .map(|f| (f.name.clone(), f.data.clone()))
        .collect()
}

/// The receiver's named objects, and which were repaired.
fn receive(datagrams: &[Datagram]) -> (BTreeMap<String, (Vec<u8>, bool)>, RouteReceiver) {
    let mut rx = RouteReceiver::new();
    for (i, d) in datagrams.iter().enumerate() {
        rx.push(
            SENDER,
            d.destination,
            &d.payload,
            Duration::from_millis(i as u64),
        );
    }
    let objects = rx
        .finish()
        .into_iter()
        .filter_map(|o| Some((o.name?, (o.data, o.repaired))))
        .collect();
    (objects, rx)
}

/// The datagrams without the source packets `drop` of TSI 1's object `toi` (counted from 0).
fn without(datagrams: &[Datagram], toi: u32, drop: &[usize]) -> Vec<Datagram> {
    let mut n = 0;
    datagrams
        .iter()
        .filter(|d| {
            let source_of = d.tsi == Some(1)
                && !d.repair
                && u32::from_be_bytes(d.payload[12..16].try_into().unwrap()) == toi;
            if !source_of {
                return true;
            }
            n += 1;
            !drop.contains(&(n - 1))
        })
        .cloned()
        .collect()
}

#[test]
fn the_receiver_rebuilds_every_object_under_its_name_from_the_signalling_alone() {
    let cfg = config();
    let datagrams = route_session(&cfg).unwrap();
    let (objects, rx) = receive(&datagrams);
    for (name, data) in expected(&cfg) {
        let got = objects
            .get(&name)
            .unwrap_or_else(|| panic!("{name} not rebuilt: {objects:?}"));
        assert!(got.0 == data, "{name}: other bytes");
        assert!(!got.1, "{name}: nothing was lost, nothing to repair");
    }
    let (profile, why) = rx.profile_of(cfg.destination);
    assert_eq!(profile, "atsc3");
    assert!(why.contains("SLT") && why.contains("5001"), "{why}");
    assert!(rx.findings().is_empty(), "{:?}", rx.findings());
}

#[test]
fn lost_source_packets_are_repaired_within_the_repair_flow_and_not_beyond() {
    let cfg = config();
    let datagrams = route_session(&cfg).unwrap();
    // seg-1.m4s (TOI 2): 30,000 bytes in 22 packets of 1,400; 4 repair symbols of 1,400.
    let lossy = without(&datagrams, 2, &[0, 7, 21]);
    let (objects, _) = receive(&lossy);
    let (data, repaired) = &objects["seg-1.m4s"];
    assert!(*repaired, "rebuilt with repair symbols");
    assert!(data == &cfg.file_mode[1].data);
    // Five packets lost span five source symbols: four repair symbols are not enough.
    let too_lossy = without(&datagrams, 2, &[0, 3, 7, 12, 21]);
    let (objects, _) = receive(&too_lossy);
    assert!(!objects.contains_key("seg-1.m4s"), "{:?}", objects.keys());
    assert!(objects.contains_key("seg-2.m4s"));
    // Without the repair flow, one loss is final.
    let mut plain = config();
    plain.repair = None;
    let (objects, _) = receive(&without(&route_session(&plain).unwrap(), 2, &[7]));
    assert!(!objects.contains_key("seg-1.m4s"));
}

#[test]
fn rmt_inspect_exports_the_session_with_names_and_no_finding() {
    let cfg = config();
    let datagrams = without(&route_session(&cfg).unwrap(), 3, &[2]);
    let frames = datagrams.iter().enumerate().map(|(i, d)| {
        (
            Duration::from_millis(1_000 + i as u64),
            Frame::ipv4_udp(
                (*SENDER.ip(), SENDER.port()),
                (*d.destination.ip(), d.destination.port()),
                &d.payload,
                false,
            ),
        )
    });
    let dir = std::env::temp_dir().join(format!("rmtkit-route-rt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("route.pcap");
    rmt_inspector::capture::writer::write_pcap(&pcap, frames).unwrap();
    let export = dir.join("objects");
    // rmt-inspect's pipeline: the signalling read first, then every packet dissected and
    // inspected, objects exported as they complete.
    let capture = read_capture(&pcap).unwrap();
    let raws: Vec<RawPacket> = capture
        .packets
        .iter()
        .enumerate()
        .map(|(i, p)| RawPacket {
            frame: i as u64 + 1,
            link_type: p.link_type,
            timestamp: p.timestamp,
            data: &p.data,
            orig_len: p.data.len() as u32,
        })
        .collect();
    let mut flows = FlowSelector::new(vec![], AlcContext::default());
    flows.signalling = prescan(raws.iter().copied(), None, |_| {});
    let mut inspection = Inspection::new(AssemblerConfig::default())
        .with_exporter(Exporter::new(&export, false).unwrap());
    for raw in &raws {
        inspection.push(&dissect(*raw, &mut flows)).unwrap();
    }
    inspection.finish().unwrap();
    let errors: Vec<_> = inspection.findings.keys().collect();
    assert!(errors.is_empty(), "{errors:?}");
    // -z sessions: each LCT channel's role from the S-TSID.
    let stats =
        rmt_inspector::inspect::stats::Stats::of(&inspection).with_signalling(&flows.signalling);
    let roles: BTreeMap<u64, String> = rmt_inspector::inspect::stats::sessions(&stats, true)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|l| {
            (
                l["tsi"].as_u64().unwrap(),
                l["route_flow"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        BTreeMap::from([
            (0, "SLS".to_string()),
            (1, "source (file)".to_string()),
            (2, "source (entity)".to_string()),
            (3, "repair of TSI 1".to_string()),
        ])
    );
    for (name, data) in expected(&cfg) {
        let got = std::fs::read(export.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got == data, "{name}: other bytes");
    }
    // The SLS bundle's parts, by their Content-Location.
    let mpd = std::fs::read_to_string(export.join("manifest.mpd")).unwrap();
    assert_eq!(mpd, MPD);
    let stsid = std::fs::read_to_string(export.join("stsid.xml")).unwrap();
    assert!(
        stsid.contains("<RepairFlow>") && stsid.contains("fecOTI"),
        "{stsid}"
    );
    let manifest: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(export.join("manifest.json")).unwrap()).unwrap();
    let repaired: Vec<_> = manifest
        .iter()
        .filter(|e| e["fec_encoding_id"] == 6)
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        repaired,
        ["seg-2.m4s"],
        "the object a packet was dropped from"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rmt_ref_route_send_writes_a_session_the_receiver_rebuilds() {
    let dir = std::env::temp_dir().join(format!("rmtkit-route-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let seg = bytes(9, 5_000);
    std::fs::write(dir.join("seg-7.m4s"), &seg).unwrap();
    std::fs::write(dir.join("page.html"), b"<p>hi</p>").unwrap();
    std::fs::write(dir.join("m.mpd"), MPD).unwrap();
    let pcap = dir.join("route.pcap");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rmt-ref"))
        .arg("route-send")
        .arg(dir.join("seg-7.m4s"))
        .arg("--entity")
        .arg(dir.join("page.html"))
        .arg("--mpd")
        .arg(dir.join("m.mpd"))
        .arg("--pcap-out")
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let capture = read_capture(&pcap).unwrap();
    let mut rx = RouteReceiver::new();
    for (i, p) in capture.packets.iter().enumerate() {
        let f = Frame::parse(p.link_type, &p.data).unwrap().value;
        let (Some(ip), Some(udp)) = (f.ip.as_ref(), f.udp) else {
            continue;
        };
        let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (ip.src(), ip.dst()) else {
            continue;
        };
        rx.push(
            std::net::SocketAddrV4::new(src, udp.src_port),
            std::net::SocketAddrV4::new(dst, udp.dst_port),
            f.udp_payload(&p.data).unwrap(),
            Duration::from_millis(i as u64),
        );
    }
    let objects: BTreeMap<String, Vec<u8>> = rx
        .finish()
        .into_iter()
        .filter_map(|o| Some((o.name?, o.data)))
        .collect();
    assert_eq!(objects.get("seg-7.m4s"), Some(&seg));
    assert_eq!(
        objects.get("page.html").map(Vec::as_slice),
        Some(&b"<p>hi</p>"[..])
    );
    // A file that cannot be read is the documented input error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rmt-ref"))
        .args(["route-send", "/nonexistent/x", "--pcap-out"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_template_in_the_stsid_names_the_file_mode_objects() {
    let mut cfg = config();
    cfg.file_mode = vec![
        RouteFile::new("seg-00001.m4s", "video/iso.segment", bytes(5, 3_000)),
        RouteFile::new("seg-00002.m4s", "video/iso.segment", bytes(6, 4_000)),
    ];
    cfg.file_template = Some("seg-$TOI%05d$.m4s".into());
    let datagrams = route_session(&cfg).unwrap();
    // No EFDT on TOI 0 of the File-mode flow: the S-TSID carries it.
    assert!(!datagrams.iter().any(|d| d.tsi == Some(1)
        && !d.repair
        && u32::from_be_bytes(d.payload[12..16].try_into().unwrap()) == 0));
    let (objects, _) = receive(&datagrams);
    for f in &cfg.file_mode {
        assert!(
            objects.get(&f.name).is_some_and(|o| o.0 == f.data),
            "{} in {:?}",
            f.name,
            objects.keys()
        );
    }
}
