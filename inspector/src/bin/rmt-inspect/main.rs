//! rmt-inspect: reads a capture, decodes LCT/ALC/FLUTE/FCAST, prints packets (summary, tree, hex,
//! JSON or fields), filters them, keeps state across packets (sessions, objects, FDT), reports
//! findings and statistics, and exports rebuilt objects.
//!
//! Exit codes: 0 done; 1 the input could not be read at all, or the output folder could not be
//! written; 2 bad arguments (including a bad display filter or an unknown field); 3 the capture
//! is truncated or corrupt part-way: everything before the break was processed and reported.

use std::collections::BTreeMap;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rmt_inspector::capture::reader::{Packets, ReadError, Source};
use rmt_inspector::capture::writer::PcapNgOut;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::inspect::fields::{glossary, lookup, Field};
use rmt_inspector::inspect::filter::Filter;
use rmt_inspector::inspect::output;
use rmt_inspector::inspect::stats::{self, count_finding, Stats};
use rmt_inspector::track::assembler::{Assembler, AssemblerConfig};
use rmt_inspector::track::export::export;
use rmt_inspector::track::session::SessionTracker;
use rmt_inspector::wire::alc::AlcContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Stat {
    Sessions,
    Objects,
    Findings,
    Fdt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Glossary {
    Fields,
}

#[derive(Parser, Debug)]
// `-V` is the decoded tree, as in tshark, so `--version` has no short form.
#[command(
    name = "rmt-inspect",
    version,
    disable_version_flag = true,
    about = "Inspect LCT/ALC/FLUTE/FCAST/WEBRC captures: packets, sessions, objects, FDT, findings"
)]
struct Args {
    /// Print the version.
    #[arg(long, action = clap::ArgAction::Version)]
    version: Option<bool>,
    /// Capture to read (pcap or pcapng); `-` reads standard input.
    #[arg(short = 'r', value_name = "FILE", required_unless_present = "glossary")]
    read: Option<PathBuf>,
    /// Decode UDP port P as ALC, tshark style (`-d udp.port==P`, repeatable). Without it, a
    /// heuristic keeps the UDP flows whose first datagram decodes as ALC without error.
    #[arg(short = 'd', value_name = "udp.port==P", value_parser = parse_decode_as)]
    decode_as: Vec<u16>,
    /// Stop after N packets.
    #[arg(short = 'c', value_name = "N")]
    count: Option<u64>,
    /// Display filter over the field names (see -G fields), e.g. 'lct.toi == 2 && fec.esi < 10'.
    #[arg(short = 'Y', value_name = "FILTER")]
    filter: Option<String>,
    /// Print the decoded tree of each packet.
    #[arg(short = 'V')]
    verbose: bool,
    /// Print a hex dump of each packet.
    #[arg(short = 'x')]
    hex: bool,
    /// Output format: text (default), json (one object per line), fields (with -e).
    #[arg(short = 'T', value_enum, default_value = "text")]
    format: Format,
    /// A field to print with -T fields (repeatable; Wireshark aliases accepted).
    #[arg(short = 'e', value_name = "FIELD")]
    fields: Vec<String>,
    /// Field output option: separator=X (tab by default).
    #[arg(short = 'E', value_name = "separator=X")]
    field_option: Vec<String>,
    /// Print the glossary: -G fields.
    #[arg(short = 'G', value_enum)]
    glossary: Option<Glossary>,
    /// Print no per-packet output.
    #[arg(short = 'q')]
    quiet: bool,
    /// Statistics at the end (repeatable): sessions, objects, findings, fdt.
    #[arg(short = 'z', value_enum)]
    stats: Vec<Stat>,
    /// Write the packets shown (after -Y and -c) to FILE as pcapng.
    #[arg(short = 'w', value_name = "FILE")]
    write: Option<PathBuf>,
    /// Decode the LCT CCI as WEBRC (RFC 3738 §5).
    #[arg(long)]
    webrc: bool,
    /// Write every rebuilt object, and manifest.json, into DIR.
    #[arg(long = "export-objects", value_name = "DIR")]
    export_objects: Option<PathBuf>,
    /// With --export-objects: also write objects not fully rebuilt (NAME.partial).
    #[arg(long)]
    partial: bool,
}

fn parse_decode_as(s: &str) -> Result<u16, String> {
    let port = s
        .strip_prefix("udp.port==")
        .and_then(|p| p.split(',').next())
        .ok_or_else(|| format!("expected udp.port==P, got {s:?}"))?;
    port.parse()
        .map_err(|_| format!("{port:?} is not a UDP port"))
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("rmt-inspect: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.glossary.is_some() {
        print!("{}", glossary());
        return ExitCode::SUCCESS;
    }
    let filter = match args.filter.as_deref().map(Filter::parse).transpose() {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    let mut fields: Vec<&'static Field> = Vec::new();
    for name in &args.fields {
        match lookup(name) {
            Some(f) => fields.push(f),
            None => {
                return usage(format!(
                    "unknown field {name:?} (rmt-inspect -G fields lists them)"
                ))
            }
        }
    }
    if args.format == Format::Fields && fields.is_empty() {
        return usage("-T fields needs at least one -e FIELD");
    }
    let mut separator = "\t".to_string();
    for opt in &args.field_option {
        match opt.strip_prefix("separator=") {
            Some(sep) => separator = sep.replace("\\t", "\t"),
            None => return usage(format!("unknown -E option {opt:?} (separator=X)")),
        }
    }
    let path = args.read.clone().expect("clap requires -r without -G");
    let source = match Source::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rmt-inspect: {e}");
            return ExitCode::from(1);
        }
    };
    let packets = match Packets::new(source.bytes()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rmt-inspect: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    let ctx = AlcContext {
        fec_encoding_id: None,
        rs_m: None,
        webrc: args.webrc,
    };
    let mut flows = FlowSelector::new(args.decode_as.clone(), ctx);
    // Rebuilding every object costs memory in proportion to the capture: only when asked for.
    let all_objects = args.export_objects.is_some() || args.stats.contains(&Stat::Objects);
    let mut assembler = Assembler::new(AssemblerConfig {
        all_objects,
        ..AssemblerConfig::default()
    });
    let total = source.bytes().len();
    let mut released = 0usize;
    let mut pcap_out = match &args.write {
        None => None,
        Some(p) => match std::fs::File::create(p).and_then(|f| PcapNgOut::new(BufWriter::new(f))) {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("rmt-inspect: cannot write {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
    };
    // A progress line on standard error, only when it is a terminal and the input is long.
    let progress = std::io::stderr().is_terminal() && total > 64 << 20;
    let mut next_progress = 0usize;
    let mut sessions = SessionTracker::default();
    let mut findings = BTreeMap::new();
    let mut times: Vec<(u64, Duration)> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut t0 = None;
    let mut last_frame = 0;
    let mut corrupt = None;
    let json = args.format == Format::Json;
    let mut packets = packets;
    while let Some(pkt) = packets.next() {
        let consumed = packets.consumed(total);
        if consumed - released >= 16 << 20 {
            // Pages behind the packet just read are not needed again.
            source.release_before(consumed - pkt.as_ref().map_or(0, |p| p.data.len() + 16));
            released = consumed;
        }
        let raw = match pkt {
            Ok(r) => r,
            Err(e) => {
                corrupt = Some(e);
                break;
            }
        };
        if args.count.is_some_and(|c| raw.frame > c) {
            break;
        }
        last_frame = raw.frame;
        let t0 = *t0.get_or_insert(raw.timestamp);
        let d = dissect(raw, &mut flows);
        for f in output::all_findings(&d) {
            count_finding(&mut findings, d.raw.frame, &f);
        }
        sessions.push(&d);
        if let (Some(a), Some(flow)) = (&d.alc, d.flow) {
            let before = assembler.fdt_instances.len();
            assembler.push(d.raw.frame, flow.src, a, d.symbols());
            if assembler.fdt_instances.len() > before {
                times.push((d.raw.frame, d.raw.timestamp));
            }
        }
        if progress && consumed >= next_progress {
            eprint!(
                "\rrmt-inspect: {:>3}% ({} packets)",
                consumed * 100 / total.max(1),
                d.raw.frame
            );
            next_progress = consumed + total / 100;
        }
        if filter.as_ref().is_some_and(|f| !f.matches(&d)) {
            continue;
        }
        if let Some(w) = pcap_out.as_mut() {
            if let Err(e) = w.write(&d.raw) {
                eprintln!("rmt-inspect: cannot write the pcapng output: {e}");
                return ExitCode::from(1);
            }
        }
        if args.quiet {
            continue;
        }
        let written = match args.format {
            Format::Json => output::write_json_line(&mut out, &d, t0),
            Format::Fields => writeln!(out, "{}", output::fields_line(&d, &fields, &separator)),
            Format::Text if args.verbose => write!(out, "{}", output::tree(&d, t0)),
            Format::Text => writeln!(out, "{}", output::summary_line(&d, t0)),
        };
        let hex = if args.hex {
            writeln!(out, "{}", output::hex_dump(d.raw.data))
        } else {
            Ok(())
        };
        if written.and(hex).is_err() {
            // Standard output closed (e.g. piped into `head`): stop quietly.
            return ExitCode::SUCCESS;
        }
    }
    if progress {
        eprintln!("\rrmt-inspect: 100% ({last_frame} packets)");
    }
    if let Some(w) = pcap_out.take() {
        if let Err(e) = w.finish() {
            eprintln!("rmt-inspect: cannot write the pcapng output: {e}");
            return ExitCode::from(1);
        }
    }
    for (key, _, inst) in &assembler.fdt_instances {
        sessions.fdt_files(key.sender, key.tsi, inst.files.iter().map(|f| f.toi));
    }
    sessions.finish(last_frame);
    for (frame, f) in sessions.findings.iter().chain(assembler.findings.iter()) {
        count_finding(&mut findings, *frame, f);
    }
    let reports = assembler.reports();
    let stats = Stats {
        sessions: &sessions,
        assembler: &assembler,
        objects: &reports,
        findings: &findings,
    };
    let frame_time = |frame: u64| {
        times
            .iter()
            .find(|(f, _)| *f == frame)
            .map_or(Duration::ZERO, |(_, t)| *t)
    };
    for z in &args.stats {
        let text = match z {
            Stat::Sessions => stats::sessions(&stats, json),
            Stat::Objects => stats::objects(&stats, json),
            Stat::Findings => stats::findings(&stats, json),
            Stat::Fdt => stats::fdt(&stats, json, &frame_time),
        };
        if write!(out, "{text}").is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let _ = out.flush();
    if flows.ports.is_empty() && !args.quiet {
        for (flow, n) in flows.chosen() {
            eprintln!("rmt-inspect: decoded as ALC: {flow} ({n} packets)");
        }
    }
    if let Some(dir) = &args.export_objects {
        match export(dir, &reports, args.partial) {
            Ok(entries) => {
                if !args.quiet {
                    eprintln!(
                        "rmt-inspect: exported {} object(s) to {}",
                        entries.len(),
                        dir.display()
                    );
                }
            }
            Err(e) => {
                eprintln!("rmt-inspect: cannot write to {}: {e}", dir.display());
                return ExitCode::from(1);
            }
        }
    }
    if let Some(e) = corrupt {
        eprintln!("rmt-inspect: {}: {e}", path.display());
        return ExitCode::from(if matches!(e, ReadError::Corrupt { .. }) {
            3
        } else {
            1
        });
    }
    ExitCode::SUCCESS
}
