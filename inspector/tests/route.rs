//! ROUTE (ATSC 3.0 A/331 Annex A, RFC 9223) through rmt-inspect: the bundled ATSC 3.0 captures
//! decode with the ROUTE profile found from their signalling, with no false finding and their
//! complete objects exported under their EFDT names; crafted sessions break each ROUTE rule once
//! and the finding must come out; the profile comes from the LLS's SLT, an S-TSID or --profile.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rmt_inspector::wire::frame::Frame;
use serde_json::Value;

fn atsc3(name: &str) -> PathBuf {
    rmt_vectors::captures_dir().join("atsc3").join(name)
}

const CAPTURES: [&str; 2] = ["1548126444.pcap", "1548126464.pcap"];

fn inspect(capture: &Path, args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .arg("-r")
        .arg(capture)
        .args(["-q", "-T", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn finding_ids(lines: &[Value]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter(|l| l["log"] == "findings")
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The FLUTE/ALC rules that misread ROUTE (issue 20's list).
const FLUTE_MISREADINGS: [&str; 4] = [
    "fec.esi.out_of_range",
    "flute.fdt.root",
    "alc.oti.changed_within_object",
    "alc.spi.set",
];

#[test]
fn the_atsc3_captures_decode_as_route_with_no_error_and_no_flute_misreading() {
    for name in CAPTURES {
        let found = finding_ids(&inspect(&atsc3(name), &["-z", "findings"]));
        for (id, severity) in &found {
            assert_ne!(severity, "error", "{name}: {id}");
            assert!(!FLUTE_MISREADINGS.contains(&id.as_str()), "{name}: {id}");
        }
        // The same capture read as FLUTE shows what the profile fixes: the check can fail.
        let flute = finding_ids(&inspect(
            &atsc3(name),
            &["-z", "findings", "--profile", "flute"],
        ));
        assert!(
            flute.contains_key("alc.spi.set") && flute.contains_key("fec.esi.out_of_range"),
            "{name} as FLUTE: {flute:?}"
        );
    }
}

#[test]
fn sessions_say_which_profile_and_why() {
    let flows: Vec<(u64, String)> = inspect(&atsc3(CAPTURES[0]), &["-z", "sessions"])
        .iter()
        .filter(|l| l["log"] == "sessions")
        .map(|l| {
            (
                l["tsi"].as_u64().unwrap(),
                l["route_flow"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (tsi, flow) in flows {
        let expected = if tsi == 0 { "SLS" } else { "source (file)" };
        assert_eq!(flow, expected, "TSI {tsi}");
    }
    let sessions = |name: &str, extra: &[&str]| -> Vec<(u64, String, String)> {
        let mut args = vec!["-z", "sessions"];
        args.extend(extra);
        inspect(&atsc3(name), &args)
            .iter()
            .filter(|l| l["log"] == "sessions")
            .map(|l| {
                (
                    l["tsi"].as_u64().unwrap(),
                    l["profile"].as_str().unwrap().to_string(),
                    l["profile_why"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The first capture has the LLS's SLT: ATSC 3.0, from its first packet on.
    let first = sessions(CAPTURES[0], &[]);
    assert_eq!(first.len(), 5, "TSI 0 (SLS) and four source flows");
    for (tsi, profile, why) in &first {
        assert_eq!(profile, "atsc3", "TSI {tsi}");
        assert!(why.contains("SLT") && why.contains("5009"), "{why}");
    }
    // The second has no SLT, but its S-TSID lists the TSIs: ROUTE.
    assert_eq!(sessions(CAPTURES[1], &[]).len(), 5);
    for (tsi, profile, why) in sessions(CAPTURES[1], &[]) {
        assert_eq!(profile, "route", "TSI {tsi}");
        assert!(
            why.contains("S-TSID") && why.contains("1, 2, 3, 4"),
            "{why}"
        );
    }
    for (_, profile, why) in sessions(CAPTURES[1], &["--profile", "dvb-mabr"]) {
        assert_eq!(
            (profile.as_str(), why.as_str()),
            ("dvb-mabr", "--profile dvb-mabr")
        );
    }
}

/// Each exported object the EFDT names, with its Content-Length after gzip when it has one.
#[test]
fn complete_objects_are_exported_under_their_efdt_names_and_inflate_to_their_length() {
    let dir = std::env::temp_dir().join(format!("rmtkit-route-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .arg("-r")
        .arg(atsc3(CAPTURES[0]))
        .args(["-q", "--export-objects"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let named: BTreeMap<String, u64> = manifest
        .iter()
        .filter_map(|e| {
            Some((
                e["content_location"].as_str()?.to_string(),
                e["size"].as_u64()?,
            ))
        })
        .collect();
    // The EFDTs of TSI 1-3 name these; each was sent whole within the capture.
    let expected = [
        ("SLS", 1720, None),
        ("sgdd_1244", 3048, Some(38269)),
        ("sgdu_long_2228", 688, Some(1051)),
        ("sgdu_long_2230", 12417, Some(75163)),
        ("sgdu_service_schedule_4487", 2253, Some(19319)),
        ("sgdu_short_3229", 13568, Some(82073)),
    ];
    for (name, size, content_length) in expected {
        assert_eq!(named.get(name), Some(&size), "{name} in {named:?}");
        let bytes = std::fs::read(dir.join(name)).unwrap();
        if let Some(l) = content_length {
            let mut inflated = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut inflated)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(inflated.len(), l, "{name}: Content-Length");
        }
    }
    // The SLS bundle is the multipart object with the S-TSID in it.
    let sls = std::fs::read_to_string(dir.join("SLS")).unwrap();
    assert!(sls.contains("application/route-s-tsid+xml") && sls.ends_with("--boundary-content--"));
    // Its parts are written too, under their Content-Location (A/331 §7.1 package).
    for part in ["envelope.xml", "usbd.rusd", "stsid.sls"] {
        let kind = manifest
            .iter()
            .find(|e| e["file"] == part)
            .map(|e| e["kind"].as_str().unwrap().to_string());
        assert_eq!(kind.as_deref(), Some("route-package-part"), "{part}");
    }
    let stsid = std::fs::read_to_string(dir.join("stsid.sls")).unwrap();
    assert!(
        stsid.starts_with("<?xml") && stsid.ends_with("</S-TSID>"),
        "{stsid}"
    );
    // Objects cut by the capture's ends are not written (no --partial).
    assert!(!named.contains_key("sgdu_long_2227"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One ROUTE packet: V=1, C=0, S=1, O=01, H=0 (A/331 §A.3.6), TSI and TOI 32 bits, the given
/// extensions (raw), then a source packet's start_offset or a repair packet's RaptorQ ID.
struct Route {
    tsi: u32,
    toi: u32,
    cp: u8,
    b: bool,
    repair: bool,
    exts: Vec<u8>,
    start: u32,
    payload: Vec<u8>,
}

fn route(tsi: u32, toi: u32, start: u32, payload: &[u8]) -> Route {
    Route {
        tsi,
        toi,
        cp: 1,
        b: false,
        repair: false,
        exts: Vec::new(),
        start,
        payload: payload.to_vec(),
    }
}

/// EXT_TOL, 24 bits (HET 194) or 48 bits (HET 67, HEL 2) (A/331 §A.3.8.1).
fn tol24(l: u32) -> Vec<u8> {
    let b = l.to_be_bytes();
    vec![194, b[1], b[2], b[3]]
}

fn tol48(l: u64, hel: u8) -> Vec<u8> {
    let mut v = vec![67, hel];
    v.extend(&l.to_be_bytes()[2..]);
    v.resize(4 * usize::from(hel), 0);
    v
}

/// EXT_ROUTE_PRESENTATION_TIME (HET 66, HEL 3: 16 reserved bits, 64-bit NTP; A/331 §A.3.7.1).
fn presentation_time(ntp: u64, hel: u8) -> Vec<u8> {
    let mut v = vec![66, hel, 0, 0];
    v.extend(ntp.to_be_bytes());
    v.resize(4 * usize::from(hel), 0);
    v
}

/// EXT_TIME with SCT-High and SCT-Low (RFC 5651 §5.2.2), which a presentation time needs.
fn ext_time(sct_ntp: u64) -> Vec<u8> {
    let mut v = vec![2, 3, 0xC0, 0x00];
    v.extend(sct_ntp.to_be_bytes());
    v
}

impl Route {
    fn bytes(&self) -> Vec<u8> {
        let hdr_len = 4 + self.exts.len() / 4;
        let mut v = vec![
            if self.repair { 0x10 } else { 0x12 },
            0xA0 | u8::from(self.b),
            hdr_len as u8,
            self.cp,
        ];
        v.extend([0; 4]);
        v.extend(self.tsi.to_be_bytes());
        v.extend(self.toi.to_be_bytes());
        v.extend(&self.exts);
        v.extend(self.start.to_be_bytes());
        v.extend(&self.payload);
        v
    }
}

fn udp(dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
    Frame::ipv4_udp((Ipv4Addr::new(10, 0, 0, 1), 40000), dst, payload, false)
}

const ROUTE_DST: (Ipv4Addr, u16) = (Ipv4Addr::new(233, 252, 0, 9), 3400);

fn write(name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("rmtkit-route-{}-{name}.pcap", std::process::id()));
    let timed = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (Duration::from_millis(1_000 + i as u64), f.clone()));
    rmt_inspector::capture::writer::write_pcap(&path, timed).unwrap();
    path
}

/// rmt-inspect's JSON lines on ROUTE packets to 233.252.0.9:3400 (`-d udp.port==3400` and the
/// given arguments).
fn inspect_packets(name: &str, packets: &[Route], args: &[&str]) -> Vec<Value> {
    let frames: Vec<Vec<u8>> = packets.iter().map(|p| udp(ROUTE_DST, &p.bytes())).collect();
    let path = write(name, &frames);
    let mut all = vec!["-d", "udp.port==3400"];
    all.extend(args);
    let lines = inspect(&path, &all);
    let _ = std::fs::remove_file(&path);
    lines
}

fn findings_of(name: &str, packets: &[Route], extra: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["-z", "findings"];
    args.extend(extra);
    finding_ids(&inspect_packets(name, packets, &args))
}

/// Findings and objects of ROUTE packets read with `--profile route`.
fn route_findings_and_objects(name: &str, packets: &[Route]) -> Vec<Value> {
    inspect_packets(
        name,
        packets,
        &["--profile", "route", "-z", "findings", "-z", "objects"],
    )
}

/// A well-formed flow: TOI 1 in two packets with a 24-bit EXT_TOL, TOI 2 with a 48-bit one and
/// a presentation time, TOI 3 ended by its close-object flag alone.
fn good_flow() -> Vec<Route> {
    let mut v = vec![
        Route {
            exts: tol24(10),
            ..route(1, 1, 0, b"hello")
        },
        Route {
            exts: tol24(10),
            b: true,
            ..route(1, 1, 5, b"world")
        },
    ];
    let mut ext = tol48(4, 2);
    ext.extend(presentation_time(0xE000_0000_8000_0000, 3));
    ext.extend(ext_time(0xE000_0000_0000_0000));
    v.push(Route {
        exts: ext,
        cp: 8,
        ..route(1, 2, 0, b"abcd")
    });
    v.push(Route {
        b: true,
        ..route(1, 3, 0, b"xyz")
    });
    v
}

#[test]
fn a_well_formed_route_flow_raises_nothing_and_its_objects_are_rebuilt() {
    let found = findings_of("good", &good_flow(), &["--profile", "route"]);
    assert!(found.is_empty(), "{found:?}");
    // Read as FLUTE, the PSI's source bit is ALC's SPI misused: the profile is what fixes it.
    let flute = findings_of("good-flute", &good_flow(), &[]);
    assert!(flute.contains_key("alc.spi.set"), "{flute:?}");
    let objects: BTreeMap<u64, (u64, bool)> =
        route_findings_and_objects("good-objects", &good_flow())
            .iter()
            .filter(|l| l["log"] == "objects")
            .map(|l| {
                (
                    l["toi"].as_str().unwrap().parse().unwrap(),
                    (
                        l["transfer_length"].as_u64().unwrap(),
                        l["recoverable"].as_bool().unwrap(),
                    ),
                )
            })
            .collect();
    assert_eq!(
        objects,
        BTreeMap::from([(1, (10, true)), (2, (4, true)), (3, (3, true))])
    );
}

#[test]
fn each_route_rule_breach_is_reported_with_its_id() {
    let route_profile = ["--profile", "route"];
    let cases: Vec<(&str, Vec<Route>)> = vec![
        (
            "route.start_offset.past_length",
            vec![Route {
                exts: tol24(6),
                ..route(1, 1, 4, b"tail")
            }],
        ),
        (
            "route.tol.changed",
            vec![
                Route {
                    exts: tol24(10),
                    ..route(1, 1, 0, b"hello")
                },
                Route {
                    exts: tol24(12),
                    ..route(1, 1, 5, b"world")
                },
            ],
        ),
        (
            "route.close_object.resent",
            vec![
                Route {
                    exts: tol24(5),
                    b: true,
                    ..route(1, 1, 0, b"hello")
                },
                Route {
                    exts: tol24(5),
                    b: true,
                    ..route(1, 1, 0, b"hello")
                },
            ],
        ),
        (
            "route.ext_tol.malformed",
            vec![Route {
                exts: tol48(5, 3),
                ..route(1, 1, 0, b"hello")
            }],
        ),
        (
            "route.ext_presentation_time.malformed",
            vec![Route {
                exts: [presentation_time(1, 2), ext_time(0)].concat(),
                ..route(1, 1, 0, b"hello")
            }],
        ),
        (
            "route.presentation_time.without_ext_time",
            vec![Route {
                exts: presentation_time(1, 3),
                ..route(1, 1, 0, b"hello")
            }],
        ),
    ];
    for (id, packets) in cases {
        let found = findings_of(id, &packets, &route_profile);
        assert_eq!(found.keys().collect::<Vec<_>>(), [id], "{found:?}");
    }
}

/// The SLS bundle on TSI 0 with an S-TSID that lists TSI 1 (codepoint 128, File mode).
fn sls_packets() -> Vec<Route> {
    let sls = "Content-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/route-s-tsid+xml\r\nContent-Location: stsid.xml\r\n\r\n<S-TSID><RS><LS tsi=\"1\"><SrcFlow><Payload codePoint=\"128\" formatId=\"1\"/></SrcFlow></LS></RS></S-TSID>\r\n--b--\r\n";
    let half = sls.len() / 2;
    vec![
        Route {
            cp: 3,
            ..route(0, 0x0002_0001, 0, &sls.as_bytes()[..half])
        },
        Route {
            cp: 3,
            b: true,
            ..route(0, 0x0002_0001, half as u32, &sls.as_bytes()[half..])
        },
    ]
}

#[test]
fn an_stsid_makes_the_destination_route_and_judges_its_tsis_and_codepoints() {
    let mut packets = sls_packets();
    packets.push(Route {
        cp: 128,
        b: true,
        ..route(1, 5, 0, b"declared")
    });
    // Without --profile: the S-TSID decides, and the declared flow is clean.
    let found = findings_of("stsid-good", &packets, &[]);
    assert!(found.is_empty(), "{found:?}");
    let mut wrong_cp = sls_packets();
    wrong_cp.push(Route {
        cp: 130,
        b: true,
        ..route(1, 5, 0, b"undeclared codepoint")
    });
    let found = findings_of("stsid-cp", &wrong_cp, &[]);
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        ["route.codepoint.not_in_stsid"]
    );
    let mut wrong_tsi = sls_packets();
    wrong_tsi.push(Route {
        cp: 128,
        b: true,
        ..route(2, 5, 0, b"unlisted TSI")
    });
    let found = findings_of("stsid-tsi", &wrong_tsi, &[]);
    assert_eq!(found.keys().collect::<Vec<_>>(), ["route.tsi.not_in_stsid"]);
}

fn lls(table_id: u8, body: &[u8], gzip: bool) -> Vec<u8> {
    use std::io::Write;
    let mut d = vec![table_id, 1, 0, 1];
    if gzip {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body).unwrap();
        d.extend(gz.finish().unwrap());
    } else {
        d.extend(body);
    }
    udp((Ipv4Addr::new(224, 0, 23, 60), 4937), &d)
}

#[test]
fn an_slt_makes_its_route_destination_atsc3_and_a_broken_lls_table_is_a_finding() {
    let slt = br#"<SLT bsid="1"><Service serviceId="7" shortServiceName="T"><BroadcastSvcSignaling slsProtocol="1" slsDestinationIpAddress="233.252.0.9" slsDestinationUdpPort="3400" slsSourceIpAddress="10.0.0.1"/></Service></SLT>"#;
    let mut frames = vec![lls(1, slt, true)];
    frames.extend(good_flow().iter().map(|p| udp(ROUTE_DST, &p.bytes())));
    let path = write("slt", &frames);
    let lines = inspect(
        &path,
        &["-d", "udp.port==3400", "-z", "sessions", "-z", "findings"],
    );
    let _ = std::fs::remove_file(&path);
    let s = lines.iter().find(|l| l["log"] == "sessions").unwrap();
    assert_eq!(s["profile"], "atsc3");
    assert!(s["profile_why"].as_str().unwrap().contains("frame 1"));
    assert!(finding_ids(&lines).is_empty());
    // Not gzip: the table is reported, and nothing is decided from it.
    let mut frames = vec![lls(1, slt, false)];
    frames.extend(good_flow().iter().map(|p| udp(ROUTE_DST, &p.bytes())));
    let path = write("slt-broken", &frames);
    let lines = inspect(
        &path,
        &["-d", "udp.port==3400", "-z", "sessions", "-z", "findings"],
    );
    let _ = std::fs::remove_file(&path);
    let s = lines.iter().find(|l| l["log"] == "sessions").unwrap();
    assert_eq!(s["profile"], "flute");
    let found = finding_ids(&lines);
    assert!(found.contains_key("lls.table.undecodable"), "{found:?}");
}

/// ROUTE objects count against the assembler's caps on objects in flight and bytes held, as ALC
/// objects do: the idle longest leaves, and says so.
#[test]
fn route_objects_in_flight_and_bytes_held_stay_under_the_caps() {
    use rmt_inspector::capture::reader::RawPacket;
    use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
    use rmt_inspector::inspect::inspection::Inspection;
    use rmt_inspector::track::assembler::AssemblerConfig;
    use rmt_inspector::track::route_signalling::RouteSignalling;
    use rmt_inspector::wire::alc::AlcContext;
    use rmt_inspector::wire::link::LinkType;
    use rmt_inspector::wire::route::Profile;

    let mut flows = FlowSelector::new(vec![3400], AlcContext::default());
    flows.signalling = RouteSignalling::forcing(Some(Profile::Route));
    let mut inspection = Inspection::new(AssemblerConfig {
        max_objects: 4,
        max_buffered_bytes: 20_000,
        ..AssemblerConfig::default()
    });
    // 40 objects of 10,000 bytes, each sent only its first 8,000: none completes; two fit in
    // the byte budget, the third is turned away (and said), the fifth pushes out the first.
    let mut most = 0;
    for toi in 1..=40u32 {
        let p = Route {
            exts: tol24(10_000),
            ..route(1, toi, 0, &[7u8; 8_000])
        };
        let frame = udp(ROUTE_DST, &p.bytes());
        let raw = RawPacket {
            frame: u64::from(toi),
            link_type: LinkType::Ethernet,
            timestamp: Duration::from_millis(u64::from(toi)),
            data: &frame,
            orig_len: frame.len() as u32,
        };
        inspection.push(&dissect(raw, &mut flows)).unwrap();
        assert!(inspection.assembler.in_flight() <= 4, "TOI {toi}");
        assert!(inspection.assembler.buffered_bytes() <= 20_000, "TOI {toi}");
        most = most.max(inspection.assembler.buffered_bytes());
    }
    assert!(most >= 16_000, "the byte cap binds: {most}");
    assert!(inspection.findings.contains_key("track.objects.cap"));
    assert!(inspection.findings.contains_key("track.buffer.cap"));
    inspection.finish().unwrap();
    assert_eq!(inspection.assembler.buffered_bytes(), 0);
}

#[test]
fn json_lines_carry_the_route_layer() {
    let frames: Vec<Vec<u8>> = good_flow()
        .iter()
        .map(|p| udp(ROUTE_DST, &p.bytes()))
        .collect();
    let path = write("json", &frames);
    let out = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .arg("-r")
        .arg(&path)
        .args(["-d", "udp.port==3400", "--profile", "route", "-T", "json"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let route = |i: usize| lines[i]["layers"]["route"].clone();
    assert_eq!(route(1)["payload"]["kind"], "source");
    assert_eq!(route(1)["payload"]["start_offset"], 5);
    assert_eq!(route(1)["tol"], 10);
    assert_eq!(route(2)["presentation_time"], 0xE000_0000_8000_0000u64);
    assert_eq!(route(2)["mode"], "file");
}

#[test]
fn lls_tables_are_listed_and_decoded_with_their_services() {
    let capture = atsc3(CAPTURES[0]);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
            .arg("-r")
            .arg(&capture)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = run(&["-Y", "frame.number == 164 || frame.number == 945"]);
    assert!(
        list.contains("→ 224.0.23.60 LLS SLT v2 services=5"),
        "{list}"
    );
    assert!(list.contains("LLS SystemTime v1"), "{list}");
    let tree = run(&["-c", "164", "-V"]);
    assert!(tree.contains("ATSC 3.0 Low Level Signalling (LLS, A/331 §6.1)"));
    assert!(tree.contains("Service 5009 \"ESG\""));
    assert!(tree.contains("SLS: ROUTE on 239.255.20.9:52009 from 172.16.200.1"));
    assert!(tree.contains("SLS: MMTP on 239.255.10.1:51001"));
    let json = run(&["-c", "164", "-T", "json"]);
    let line: Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(
        line["layers"]["lls"]["slt"]["services"][4]["service_id"],
        5009
    );
}

/// Two ROUTE sessions from one gateway, each with its own destination and the same TSI and TOI
/// (every ATSC service's SLS is on TSI 0): their objects and checks stay apart.
#[test]
fn sessions_to_two_destinations_with_the_same_tsi_do_not_mix() {
    let other = (Ipv4Addr::new(233, 252, 0, 10), 3400);
    let frames = vec![
        udp(
            ROUTE_DST,
            &Route {
                exts: tol24(10),
                b: false,
                ..route(1, 1, 0, b"hello")
            }
            .bytes(),
        ),
        udp(
            other,
            &Route {
                exts: tol24(6),
                b: true,
                ..route(1, 1, 0, b"second")
            }
            .bytes(),
        ),
        udp(
            ROUTE_DST,
            &Route {
                exts: tol24(10),
                b: true,
                ..route(1, 1, 5, b"world")
            }
            .bytes(),
        ),
    ];
    let path = write("two-destinations", &frames);
    let dir = std::env::temp_dir().join(format!("rmtkit-route-two-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lines = inspect(
        &path,
        &[
            "-d",
            "udp.port==3400",
            "--profile",
            "route",
            "-z",
            "findings",
            "--export-objects",
            dir.to_str().unwrap(),
        ],
    );
    let _ = std::fs::remove_file(&path);
    assert!(finding_ids(&lines).is_empty(), "{:?}", finding_ids(&lines));
    let mut exported: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "manifest.json")
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    exported.sort();
    assert_eq!(exported, [b"helloworld".to_vec(), b"second".to_vec()]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stray packet past its object's length is reported and skipped: the object is still rebuilt
/// from its other packets. Another length for the object spoils it (which is right is unknown).
#[test]
fn a_stray_packet_past_the_length_does_not_spoil_its_object() {
    let packets = [
        Route {
            exts: tol24(10),
            ..route(1, 1, 0, b"hello")
        },
        Route {
            exts: tol24(10),
            ..route(1, 1, 9, b"zz")
        },
        Route {
            exts: tol24(10),
            b: true,
            ..route(1, 1, 5, b"world")
        },
    ];
    let lines = route_findings_and_objects("stray", &packets);
    let found = finding_ids(&lines);
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        ["route.start_offset.past_length"]
    );
    let object = lines.iter().find(|l| l["log"] == "objects").unwrap();
    assert_eq!(object["recoverable"], true, "{object}");
}

/// TOI 0 of a File-mode flow is its EFDT, sent again with each new version: another length
/// there is the next version (no route.tol.changed), and the newer names the objects.
#[test]
fn a_new_efdt_version_on_toi_0_is_a_new_object_not_a_changed_one() {
    let v1 = br#"<EFDT><FDT-Instance Expires="1"><File TOI="7" Content-Location="old.bin"/></FDT-Instance></EFDT>"#;
    let v2 = br#"<EFDT><FDT-Instance Expires="1"><File TOI="7" Content-Location="new-name.bin"/><File TOI="8" Content-Location="x"/></FDT-Instance></EFDT>"#;
    let packets = [
        // The first version's first half only, without B: it is still in flight.
        Route {
            exts: tol24(v1.len() as u32),
            ..route(1, 0, 0, &v1[..20])
        },
        Route {
            exts: tol24(v2.len() as u32),
            b: true,
            ..route(1, 0, 0, v2)
        },
        Route {
            exts: tol24(4),
            b: true,
            ..route(1, 7, 0, b"data")
        },
    ];
    let lines = route_findings_and_objects("efdt-versions", &packets);
    assert!(finding_ids(&lines).is_empty(), "{:?}", finding_ids(&lines));
    let named: Vec<&str> = lines
        .iter()
        .filter(|l| l["log"] == "objects" && l["toi"] == "7")
        .map(|l| l["content_location"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(named, ["new-name.bin"]);
}
