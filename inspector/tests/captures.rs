//! The three bundled captures from other implementations decode with no error-severity finding,
//! and what they carry matches their README (vectors/captures/README.md): packet counts, TSIs,
//! FDT instance IDs, Content-Locations, and per-TOI payload bytes equal to the object sizes.

use std::collections::{BTreeMap, BTreeSet};

use rmt_inspector::capture::read_capture;
use rmt_inspector::fec::partition::BlockPartition;
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::ext_cenc::ContentEncoding;
use rmt_inspector::wire::fdt::FdtInstance;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::inflate::DEFAULT_MAX_INFLATED;
use rmt_inspector::wire::lct::{ExtensionBody, HET_CENC, HET_FDT};
use rmt_inspector::wire::Severity;

#[derive(Default, Debug)]
struct Summary {
    packets: usize,
    tsis: BTreeSet<u64>,
    packets_per_toi: BTreeMap<u128, u64>,
    bytes_per_toi: BTreeMap<u128, u64>,
    fdt_instance_ids: BTreeSet<u32>,
    locations: BTreeSet<String>,
    close_session_packets: u64,
    errors: Vec<String>,
}

fn summarise(name: &str) -> Summary {
    let path = rmt_vectors::captures_dir().join(name);
    let capture = read_capture(&path).unwrap();
    let mut s = Summary {
        packets: capture.packets.len(),
        ..Default::default()
    };
    let mut fdt_buffers: BTreeMap<u32, (Vec<u8>, BTreeSet<usize>)> = BTreeMap::new();
    let mut decoded_fdts = BTreeSet::new();
    for (i, pkt) in capture.packets.iter().enumerate() {
        let frame = Frame::parse(pkt.link_type, &pkt.data)
            .unwrap_or_else(|e| panic!("{name} frame {}: {e}", i + 1));
        let payload = frame
            .value
            .udp_payload(&pkt.data)
            .expect("every packet is UDP");
        let alc = AlcPacket::parse(payload, AlcContext::default())
            .unwrap_or_else(|e| panic!("{name} frame {}: {e}", i + 1));
        for f in frame.findings.iter().chain(&alc.findings) {
            if f.severity == Severity::Error {
                s.errors
                    .push(format!("frame {}: {} {}", i + 1, f.id, f.detail));
            }
        }
        let a = alc.value;
        s.tsis.insert(a.lct.tsi.expect("ALC packets carry a TSI"));
        if a.lct.close_session && a.payload_id.is_none() {
            s.close_session_packets += 1;
        }
        let Some(toi) = a.lct.toi else { continue };
        *s.packets_per_toi.entry(toi).or_default() += 1;
        *s.bytes_per_toi.entry(toi).or_default() += a.symbol_len as u64;
        if let Some(ExtensionBody::Fdt(fdt)) = a.lct.extension(HET_FDT).map(|e| &e.body) {
            s.fdt_instance_ids.insert(fdt.instance_id);
            // Reassemble the FDT instance (Compact No-Code, RFC 5445 §3.4.1) from its symbols.
            let (Some(fti), Some(pid)) = (a.fti.as_ref(), a.payload_id) else {
                continue;
            };
            let oti = &fti.oti;
            let e = u64::from(oti.encoding_symbol_length());
            let part = BlockPartition::new(
                oti.transfer_length(),
                e,
                u64::from(oti.max_source_block_length().unwrap()),
            )
            .unwrap();
            let block_start: u64 = (0..u64::from(pid.sbn))
                .map(|b| part.block_symbols(b).unwrap())
                .sum();
            let offset = ((block_start + u64::from(pid.esi)) * e) as usize;
            let buf = fdt_buffers
                .entry(fdt.instance_id)
                .or_insert_with(|| (vec![0u8; oti.transfer_length() as usize], BTreeSet::new()));
            let sym = a.symbols(payload);
            buf.0[offset..offset + sym.len()].copy_from_slice(sym);
            buf.1.insert(offset);
            let received: usize = buf.1.len() * e as usize;
            if received >= buf.0.len() && !decoded_fdts.contains(&fdt.instance_id) {
                decoded_fdts.insert(fdt.instance_id);
                let cenc = match a.lct.extension(HET_CENC).map(|e| &e.body) {
                    Some(ExtensionBody::Cenc(c)) => Some(c.cenc),
                    _ => None::<ContentEncoding>,
                };
                let inst = FdtInstance::parse_payload(&buf.0, cenc, DEFAULT_MAX_INFLATED).unwrap();
                for f in inst
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                {
                    s.errors
                        .push(format!("frame {} FDT: {} {}", i + 1, f.id, f.detail));
                }
                s.locations
                    .extend(inst.value.files.iter().map(|f| f.content_location.clone()));
            }
        }
    }
    s
}

const OBJECT_SIZES: [(u128, u64); 3] = [(1, 10240), (2, 1048576), (3, 5242880)];

fn check_common(s: &Summary, packets: usize, tsi: u64, locations: [&str; 3]) {
    assert!(s.errors.is_empty(), "error findings: {:#?}", s.errors);
    assert_eq!(s.packets, packets);
    assert_eq!(s.tsis, BTreeSet::from([tsi]));
    for (toi, size) in OBJECT_SIZES {
        assert_eq!(
            s.bytes_per_toi.get(&toi),
            Some(&size),
            "TOI {toi}: payload bytes should equal the object size (each symbol sent once)"
        );
    }
    assert_eq!(
        s.locations,
        locations
            .iter()
            .map(|l| l.to_string())
            .collect::<BTreeSet<_>>()
    );
}

#[test]
fn flute_crate_capture() {
    let s = summarise("flute-nocode-1.pcap");
    check_common(
        &s,
        4430,
        1,
        [
            "file:///obj1-10240.bin",
            "file:///obj2-1048576.bin",
            "file:///obj3-5242880.bin",
        ],
    );
    assert_eq!(s.fdt_instance_ids, BTreeSet::from([1]));
    assert_eq!(
        s.close_session_packets, 1,
        "ends with one close-session packet without TOI"
    );
}

#[test]
fn rt_libflute_capture() {
    let s = summarise("rtlibflute-nocode-1.pcap");
    check_common(
        &s,
        4394,
        16,
        ["obj1-10240.bin", "obj2-1048576.bin", "obj3-5242880.bin"],
    );
    assert_eq!(
        s.packets_per_toi,
        BTreeMap::from([(0, 3), (1, 8), (2, 731), (3, 3652)])
    );
    assert_eq!(s.fdt_instance_ids, BTreeSet::from([3, 4, 5]));
    assert_eq!(s.close_session_packets, 0);
}

#[test]
fn mclv3_capture() {
    let s = summarise("mclv3-nocode-1.pcap");
    check_common(
        &s,
        4879,
        5,
        [
            "objs/obj1-10240.bin",
            "objs/obj2-1048576.bin",
            "objs/obj3-5242880.bin",
        ],
    );
    assert_eq!(s.fdt_instance_ids, BTreeSet::from([0]));
    assert_eq!(s.packets_per_toi.get(&0), Some(&1), "one FDT packet");
}

/// The long-session regression captures (`vectors/captures/long/`, written by
/// `cargo run -p rmt-reference --example regression_captures`): 16-bit FCAST push sessions whose
/// TOIs wrap and are reused for new objects are legitimate, and raise no finding of warning
/// severity or above (they raised `alc.oti.changed_within_object` and
/// `fcast.toi.window_exceeded` before objects had incarnations).
#[test]
fn reused_tois_in_the_regression_captures_raise_no_finding() {
    let dir = rmt_vectors::captures_dir().join("long");
    let mut seen = 0;
    for name in ["fcast-toi-reuse-cid.pcap", "fcast-toi-reuse-nocid.pcap"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let ctx = AlcContext {
            fec_encoding_id: Some(0),
            ..AlcContext::default()
        };
        let f = rmt_inspector::inspect::check::check_capture(&bytes, vec![3400], ctx).unwrap();
        let bad: Vec<_> = f
            .iter()
            .filter(|(_, c)| c.severity >= Severity::Warning)
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:#?}");
        seen += 1;
    }
    assert_eq!(seen, 2);
}
