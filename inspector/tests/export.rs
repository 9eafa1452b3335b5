//! `rmt-inspect -r FILE --export-objects DIR`, end to end through the binary: the bundled
//! captures rebuild byte-exact (sha256 from their README), a capture with a seeded 5% of its
//! packets dropped gives partial objects marked as such, and captures whose objects need
//! Reed-Solomon (IDs 5, 129), or RaptorQ repair symbols (written from the `flute` crate's sender,
//! then 5% of packets dropped) rebuild byte-exact.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use flute::core::{Oti, UDPEndpoint};
use flute::sender::{ObjectDesc, Sender};
use pcap_file::pcap::PcapReader;
use serde_json::Value;
use sha2::{Digest, Sha256};

const README_SHA256: [(&str, &str); 3] = [
    (
        "obj1-10240.bin",
        "e39ba85cb109260fe41dc47c9f5c46cf01b24d0d9efe708f0aab310fbaef7799",
    ),
    (
        "obj2-1048576.bin",
        "f95dfc1a39c55c0f5900119018da4c0cabd87aa6a485e0cd84bf355d56742dfa",
    ),
    (
        "obj3-5242880.bin",
        "fb372a425e11874f3853b941dc1cfbccbf6878ed371ecf0e13a6ea85adc37add",
    ),
];

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rmtkit-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn run_export(capture: &Path, dir: &Path, extra: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .arg("-r")
        .arg(capture)
        .arg("--export-objects")
        .arg(dir)
        .args(extra)
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rmt-inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    manifest.as_array().unwrap().clone()
}

fn sha256_file(p: &Path) -> String {
    Sha256::digest(std::fs::read(p).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn bundled_captures_export_byte_exact() {
    for cap in [
        "flute-nocode-1.pcap",
        "rtlibflute-nocode-1.pcap",
        "mclv3-nocode-1.pcap",
    ] {
        let dir = tmp(cap);
        let manifest = run_export(&rmt_vectors::captures_dir().join(cap), &dir, &[]);
        assert_eq!(manifest.len(), 3, "{cap}");
        for (name, sha) in README_SHA256 {
            let entry = manifest
                .iter()
                .find(|e| e["file"].as_str().unwrap().ends_with(name))
                .unwrap_or_else(|| panic!("{cap}: {name} missing"));
            assert_eq!(entry["sha256"], sha, "{cap} {name}");
            assert_eq!(entry["state"], "complete");
            assert_eq!(
                sha256_file(&dir.join(entry["file"].as_str().unwrap())),
                sha,
                "file on disk"
            );
            assert_ne!(entry["integrity"], "mismatch");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Drops each packet with probability `pct`% (xorshift, seeded), except those `keep` says to keep.
fn drop_seeded(
    packets: Vec<Vec<u8>>,
    pct: u64,
    seed: u64,
    keep: impl Fn(&[u8]) -> bool,
) -> Vec<Vec<u8>> {
    let mut x = seed;
    packets
        .into_iter()
        .filter(|p| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            keep(p) || x % 100 >= pct
        })
        .collect()
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let timed = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (std::time::Duration::from_millis(i as u64), f.clone()));
    rmt_inspector::capture::writer::write_pcap(path, timed).unwrap();
}

fn read_frames(path: &Path) -> Vec<Vec<u8>> {
    let mut r = PcapReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        out.push(p.unwrap().data.into_owned());
    }
    out
}

/// Ethernet / IPv4 (checksummed) / UDP around an ALC payload, from 10.0.0.1 to 233.252.0.1:3400.
fn frame(payload: &[u8]) -> Vec<u8> {
    use std::net::Ipv4Addr;
    rmt_inspector::wire::frame::Frame::ipv4_udp(
        (Ipv4Addr::new(10, 0, 0, 1), 40000),
        (Ipv4Addr::new(233, 252, 0, 1), 3400),
        payload,
        false,
    )
}

#[test]
fn dropping_packets_of_a_no_code_capture_gives_marked_partial_objects() {
    let src = rmt_vectors::captures_dir().join("rtlibflute-nocode-1.pcap");
    let frames = read_frames(&src);
    // Keep the FDT packets (TOI 0): after word 0, the CCI and the 16-bit TSI, the TOI is at UDP
    // payload bytes 10..12.
    let toi_of = |f: &[u8]| u16::from_be_bytes([f[42 + 10], f[42 + 11]]);
    let kept = drop_seeded(frames, 5, 0x5eed, |f| toi_of(f) == 0);
    let path = tmp("dropped.pcap");
    write_pcap(&path, &kept);
    let dir = tmp("dropped");
    let manifest = run_export(&path, &dir, &["--partial"]);
    let partial: Vec<&Value> = manifest
        .iter()
        .filter(|e| e["state"] == "partial")
        .collect();
    assert!(
        !partial.is_empty(),
        "5% loss without FEC must leave partial objects"
    );
    for e in &partial {
        assert!(e["file"].as_str().unwrap().ends_with(".partial"));
        assert!(e["missing_bytes"].as_u64().unwrap() > 0);
    }
    for e in manifest.iter().filter(|e| e["state"] == "complete") {
        let sha = README_SHA256
            .iter()
            .find(|(n, _)| e["file"].as_str().unwrap().ends_with(n))
            .unwrap()
            .1;
        assert_eq!(e["sha256"], sha);
    }
    let without = run_export(&path, &tmp("dropped-strict"), &[]);
    assert!(
        without.iter().all(|e| e["state"] == "complete"),
        "without --partial, partial objects are not written"
    );
    let _ = std::fs::remove_file(&path);
}

fn fec_capture_rebuilds(name: &str, oti: Oti, len: usize, expect_id: u64) {
    let content: Vec<u8> = (0..len as u64)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let endpoint = UDPEndpoint::new(None, "233.252.0.1".to_string(), 3400);
    let mut sender = Sender::new(endpoint, 7, &oti, &Default::default());
    let url = url::Url::parse(&format!("file:///{name}.bin")).unwrap();
    sender
        .add_object(
            0,
            ObjectDesc::create_from_buffer(
                content.clone(),
                "application/octet-stream",
                &url,
                true,
                Default::default(),
            )
            .unwrap(),
        )
        .unwrap();
    let now = SystemTime::now();
    sender.publish(now).unwrap();
    let mut packets = Vec::new();
    while let Some(p) = sender.read(now) {
        packets.push(p);
        assert!(packets.len() < 100_000);
    }
    // Keep FDT packets (TOI 0); drop 5% of the others, seeded.
    let is_fdt = |p: &[u8]| {
        let a = rmt_inspector::wire::alc::AlcPacket::parse(p, Default::default())
            .unwrap()
            .value;
        a.lct.toi == Some(0)
    };
    let total = packets.len();
    let kept = drop_seeded(packets, 5, 0xC0FFEE ^ expect_id, is_fdt);
    assert!(kept.len() < total, "the seed dropped nothing");
    let path = tmp(&format!("{name}.pcap"));
    write_pcap(&path, &kept.iter().map(|p| frame(p)).collect::<Vec<_>>());
    let dir = tmp(name);
    let manifest = run_export(&path, &dir, &[]);
    assert_eq!(manifest.len(), 1, "{name}: {manifest:?}");
    let e = &manifest[0];
    assert_eq!(e["fec_encoding_id"], expect_id);
    assert_eq!(e["state"], "complete");
    assert_eq!(
        e["integrity"], "ok",
        "Content-MD5 from the flute crate's FDT"
    );
    let want: String = Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(e["sha256"], want, "{name}");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rs_id5_capture_with_loss_rebuilds() {
    fec_capture_rebuilds(
        "rs5",
        Oti::new_reed_solomon_rs28(1024, 64, 16).unwrap(),
        300_000,
        5,
    );
}

#[test]
fn rs_id129_capture_with_loss_rebuilds() {
    fec_capture_rebuilds(
        "rs129",
        Oti::new_reed_solomon_rs28_under_specified(1200, 100, 25).unwrap(),
        250_000,
        129,
    );
}

#[test]
fn raptorq_capture_with_loss_rebuilds() {
    fec_capture_rebuilds(
        "raptorq",
        Oti::new_raptorq(1024, 100, 20, 1, 4).unwrap(),
        400_000,
        6,
    );
}

/// ALC packets (Compact No-Code, EXT_FTI in each) carrying `object` as TOI `toi`, built with
/// the wire layer's emitters.
fn alc_packets(tsi: u64, toi: u128, object: &[u8], e: usize) -> Vec<Vec<u8>> {
    use rmt_inspector::wire::ext_fti::{ExtFti, FecOti};
    use rmt_inspector::wire::fec_payload_id::FecPayloadId;
    use rmt_inspector::wire::lct::{ExtensionBody, HeaderExtension, LctRepr};
    let fti = ExtFti {
        encoding_id: 0,
        hel: 4,
        oti: FecOti::CompactNoCode {
            transfer_length: object.len() as u64,
            reserved: 0,
            encoding_symbol_length: e as u16,
            max_source_block_length: 16,
        },
        trailing: vec![],
    };
    let mut fti_content = Vec::new();
    fti.emit_content(&mut fti_content).unwrap();
    let fec = rmt_inspector::fec::scheme::FecObject::from_oti(0, &fti.oti).unwrap();
    let mut out = Vec::new();
    for sbn in 0..fec.block_count() as u32 {
        let info = fec.block(sbn).unwrap();
        let block = &object[info.offset as usize..(info.offset + info.length) as usize];
        for (esi, sym) in block.chunks(e).enumerate() {
            let mut lct = LctRepr {
                version: 1,
                c: 0,
                psi: 0,
                s: true,
                o: 1,
                h: false,
                reserved: 0,
                close_session: false,
                close_object: false,
                hdr_len: 0,
                codepoint: 0,
                cci: rmt_inspector::wire::lct::Cci::zeros(4),
                tsi: Some(tsi),
                toi: Some(toi),
                extensions: vec![HeaderExtension {
                    het: 64,
                    hel: Some(4),
                    body: ExtensionBody::Fti {
                        content: fti_content.clone(),
                    },
                }],
                unwalked: vec![],
            };
            lct.fix_hdr_len();
            let mut p = Vec::new();
            lct.emit(&mut p).unwrap();
            FecPayloadId {
                encoding_id: 0,
                m: None,
                sbn,
                sbl: None,
                esi: esi as u32,
            }
            .emit(&mut p)
            .unwrap();
            p.extend_from_slice(sym);
            out.push(p);
        }
    }
    out
}

#[test]
fn fcast_objects_are_unwrapped_decoded_and_checked() {
    use base64::Engine;
    use rmt_inspector::wire::fcast::CompoundObject;
    let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &body).unwrap();
    let encoded = gz.finish().unwrap();
    let meta = format!("Content-Location: videos/../../seg 1.mp4\r\nContent-Encoding: gzip\r\nFcast-Obj-Digest-SHA256: {digest}\r\n");
    let good = CompoundObject::build(&meta, &encoded, true, false);
    let bad_meta = meta.replace(
        &digest,
        &base64::engine::general_purpose::STANDARD.encode([0u8; 32]),
    );
    let bad = CompoundObject::build(&bad_meta.replace("seg 1", "seg 2"), &encoded, false, false);
    let cid = CompoundObject::build(
        "Fcast-CID-ID: 0\r\nFcast-CID-Complete: 1\r\n",
        b"1-2",
        true,
        true,
    );
    let mut frames = Vec::new();
    for (toi, obj) in [(1u128, &good), (2, &bad), (3, &cid)] {
        frames.extend(alc_packets(9, toi, obj, 1000).iter().map(|p| frame(p)));
    }
    let path = tmp("fcast.pcap");
    write_pcap(&path, &frames);
    let dir = tmp("fcast");
    let manifest = run_export(&path, &dir, &[]);
    let good_entry = manifest.iter().find(|e| e["toi"] == "1").unwrap();
    assert_eq!(good_entry["kind"], "fcast");
    assert_eq!(
        good_entry["file"], "videos_seg_1.mp4",
        "sanitised Content-Location"
    );
    assert_eq!(good_entry["integrity"], "ok");
    assert_eq!(
        std::fs::read(dir.join("videos_seg_1.mp4")).unwrap(),
        body,
        "gzip undone, header removed"
    );
    let bad_entry = manifest.iter().find(|e| e["toi"] == "2").unwrap();
    assert_eq!(bad_entry["integrity"], "mismatch");
    // The CID is not an object of the carousel: it is exported as the raw compound object.
    let cid_entry = manifest.iter().find(|e| e["toi"] == "3").unwrap();
    assert_eq!(cid_entry["kind"], "alc");
    // -z objects names objects from their FCAST metadata and shows the carousel instance.
    let z = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .arg("-r")
        .arg(&path)
        .args(["-q", "-T", "json", "-z", "objects"])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&z.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_toi = |t: &str| lines.iter().find(|l| l["toi"] == t).unwrap();
    assert_eq!(by_toi("1")["content_location"], "videos/../../seg 1.mp4");
    assert_eq!(by_toi("3")["fcast"], "FCAST CID 0, complete, 2 objects");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir_all(&dir);
}
