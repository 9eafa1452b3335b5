//! rmt-inspect: reads a capture, decodes LCT/ALC/FLUTE/FCAST, rebuilds objects with the FEC
//! codecs, and exports them. (The tshark-like output modes, filters and statistics come with
//! the inspector CLI issue; only what works is offered here.)
//!
//! Exit codes: 0 done; 1 the input could not be read as pcap/pcapng, or the output folder could
//! not be written; 2 bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rmt_inspector::capture::read_capture;
use rmt_inspector::track::assembler::{Assembler, AssemblerConfig};
use rmt_inspector::track::export::export;
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::Severity;

#[derive(Parser, Debug)]
#[command(
    name = "rmt-inspect",
    version,
    about = "Inspect LCT/ALC/FLUTE/FCAST captures and rebuild their objects"
)]
struct Args {
    /// Capture to read (pcap or pcapng).
    #[arg(short = 'r', value_name = "FILE")]
    read: PathBuf,
    /// Decode UDP port P as ALC, tshark style: `-d udp.port==P` (repeatable). Without it, every
    /// UDP datagram that decodes as ALC without error is taken.
    #[arg(short = 'd', value_name = "udp.port==P", value_parser = parse_decode_as)]
    decode_as: Vec<u16>,
    /// Write every rebuilt object, and manifest.json, into DIR.
    #[arg(long = "export-objects", value_name = "DIR")]
    export_objects: Option<PathBuf>,
    /// With --export-objects: also write objects not fully rebuilt (as NAME.partial, zeros where
    /// data is missing).
    #[arg(long)]
    partial: bool,
    /// Print nothing but errors.
    #[arg(short = 'q')]
    quiet: bool,
}

fn parse_decode_as(s: &str) -> Result<u16, String> {
    let port = s
        .strip_prefix("udp.port==")
        .or_else(|| s.strip_prefix("udp.port=="))
        .and_then(|p| p.split(',').next())
        .ok_or_else(|| format!("expected udp.port==P, got {s:?}"))?;
    port.parse()
        .map_err(|_| format!("{port:?} is not a UDP port"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let capture = match read_capture(&args.read) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rmt-inspect: {e}");
            return ExitCode::from(1);
        }
    };
    let mut assembler = Assembler::new(AssemblerConfig::default());
    let mut alc_packets = 0u64;
    for (i, pkt) in capture.packets.iter().enumerate() {
        let frame_no = i as u64 + 1;
        let Ok(frame) = Frame::parse(pkt.link_type, &pkt.data) else {
            continue;
        };
        let frame = frame.value;
        let (Some(udp), Some(ip)) = (frame.udp, frame.ip.as_ref()) else {
            continue;
        };
        if !args.decode_as.is_empty() && !args.decode_as.contains(&udp.dst_port) {
            continue;
        }
        let payload = frame.udp_payload(&pkt.data).unwrap_or(&[]);
        let Ok(alc) = AlcPacket::parse(payload, AlcContext::default()) else {
            continue;
        };
        if args.decode_as.is_empty() && alc.findings.iter().any(|f| f.severity == Severity::Error) {
            continue;
        }
        alc_packets += 1;
        let a = alc.value;
        assembler.push(frame_no, ip.src(), &a, a.symbols(payload));
    }
    let reports = assembler.reports();
    if !args.quiet {
        println!(
            "{}: {} packets, {alc_packets} ALC",
            args.read.display(),
            capture.packets.len()
        );
        println!(
            "{:<16} {:>6} {:>6} {:>4} {:>12} {:>9} {:<9} location",
            "sender", "TSI", "TOI", "FEC", "length", "blocks", "state"
        );
        for r in reports.iter().filter(|r| r.key.toi != 0) {
            let state = if r.data.is_some() {
                "complete"
            } else if r.error.is_some() {
                "error"
            } else {
                "partial"
            };
            println!(
                "{:<16} {:>6} {:>6} {:>4} {:>12} {:>4}/{:<4} {:<9} {}",
                r.key.sender,
                r.key.tsi,
                r.key.toi,
                r.encoding_id.map_or("-".to_string(), |e| e.to_string()),
                r.transfer_length.map_or("-".to_string(), |l| l.to_string()),
                r.blocks_decoded,
                r.blocks,
                state,
                r.fdt_file
                    .as_ref()
                    .map_or(r.error.clone().unwrap_or_default(), |f| f
                        .content_location
                        .clone())
            );
        }
    }
    if let Some(dir) = &args.export_objects {
        match export(dir, &reports, args.partial) {
            Ok(entries) => {
                if !args.quiet {
                    println!("exported {} object(s) to {}", entries.len(), dir.display());
                }
            }
            Err(e) => {
                eprintln!("rmt-inspect: cannot write to {}: {e}", dir.display());
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
