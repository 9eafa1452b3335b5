//! Decodes a capture and prints a per-session, per-TOI summary (packets, bytes, FDT instances,
//! findings by ID). Until `rmt-inspect` lands this is the main job on bundled defaults:
//!
//!     cargo run -p rmt-inspector --example toi_summary [-- FILE.pcap[ng] ...] [--port P]
//!
//! With no file it reads the three bundled captures in `vectors/captures/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rmt_inspector::capture::{read_capture, CaptureError};
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::lct::{ExtensionBody, HET_FDT};

#[derive(Default)]
struct Toi {
    packets: u64,
    symbol_bytes: u64,
    close_object: bool,
}

fn summarise(path: &Path, port: Option<u16>) -> Result<(), CaptureError> {
    let capture = read_capture(path)?;
    let mut tois: BTreeMap<(String, u64, u128), Toi> = BTreeMap::new();
    let mut findings: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut fdt_ids = Vec::new();
    let mut undecoded = 0u64;
    for (i, pkt) in capture.packets.iter().enumerate() {
        let frame_no = i as u64 + 1;
        let mut note = |id: &'static str| {
            findings.entry(id).or_insert((0, frame_no)).0 += 1;
        };
        let Ok(frame) = Frame::parse(capture.link_type, &pkt.data) else {
            undecoded += 1;
            continue;
        };
        frame.findings.iter().for_each(|f| note(f.id));
        let frame = frame.value;
        let Some(udp) = frame.udp else { continue };
        if port.is_some_and(|p| p != udp.dst_port) {
            continue;
        }
        let payload = frame.udp_payload(&pkt.data).unwrap_or(&[]);
        let alc = match AlcPacket::parse(payload, AlcContext::default()) {
            Ok(a) => a,
            Err(e) => {
                note(e.id);
                continue;
            }
        };
        alc.findings.iter().for_each(|f| note(f.id));
        let a = alc.value;
        if let Some(ext) = a.lct.extension(HET_FDT) {
            if let ExtensionBody::Fdt(fdt) = &ext.body {
                if !fdt_ids.contains(&fdt.instance_id) {
                    fdt_ids.push(fdt.instance_id);
                }
            }
        }
        let src = frame
            .ip
            .as_ref()
            .map(|ip| ip.src().to_string())
            .unwrap_or_default();
        let Some(toi) = a.lct.toi else { continue };
        let entry = tois.entry((src, a.lct.tsi.unwrap_or(0), toi)).or_default();
        entry.packets += 1;
        entry.symbol_bytes += a.symbol_len as u64;
        entry.close_object |= a.lct.close_object;
    }
    println!(
        "{}: {} packets, link type {:?}",
        path.display(),
        capture.packets.len(),
        capture.link_type
    );
    println!(
        "  {:<16} {:>6} {:>6} {:>9} {:>12} {:>5}",
        "sender", "TSI", "TOI", "packets", "bytes", "B=1"
    );
    for ((src, tsi, toi), t) in &tois {
        println!(
            "  {src:<16} {tsi:>6} {toi:>6} {:>9} {:>12} {:>5}",
            t.packets,
            t.symbol_bytes,
            if t.close_object { "yes" } else { "" }
        );
    }
    println!("  FDT instance IDs: {fdt_ids:?}");
    if undecoded > 0 {
        println!("  frames not decoded: {undecoded}");
    }
    for (id, (count, first)) in &findings {
        println!("  finding {id}: {count} (first in frame {first})");
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut files = Vec::new();
    let mut port = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port" {
            match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = Some(p),
                None => {
                    eprintln!("--port needs a UDP port number");
                    return ExitCode::from(2);
                }
            }
        } else {
            files.push(PathBuf::from(a));
        }
    }
    if files.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/captures");
        files = [
            "flute-nocode-1.pcap",
            "rtlibflute-nocode-1.pcap",
            "mclv3-nocode-1.pcap",
        ]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    }
    for f in &files {
        if let Err(e) = summarise(f, port) {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
