//! rmt-inspect: reads a capture, decodes LCT/ALC/FLUTE/FCAST, prints packets (summary, tree, hex,
//! JSON or fields), filters them, keeps state across packets (sessions, objects, FDT), reports
//! findings and statistics, and exports rebuilt objects.
//!
//! Exit codes: 0 done; 1 the input could not be read at all (or the interface opened), or an
//! output could not be written; 2 bad arguments (including a bad display filter or an unknown
//! field); 3 the capture is truncated or corrupt part-way: everything before the break was
//! processed and reported.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};
use rmt_inspector::capture::live::{CaptureStats, Join, LiveCapture, LiveOptions};
use rmt_inspector::capture::reader::{Packets, RawPacket, ReadError, ReadPosition, Source};
use rmt_inspector::capture::writer::{add_comments, finding_comment, PcapNgOut};
use rmt_inspector::cli_docs::{self, Generated};
use rmt_inspector::inspect::dissect::{dissect, dissect_into, Dissected, FlowSelector};
use rmt_inspector::inspect::fields::{glossary, lookup, Field};
use rmt_inspector::inspect::filter::Filter;
use rmt_inspector::inspect::inspection::{Inspection, Observer};
use rmt_inspector::inspect::output;
use rmt_inspector::inspect::stats::{self, Stats};
use rmt_inspector::progress;
use rmt_inspector::track::assembler::AssemblerConfig;
use rmt_inspector::track::export::Exporter;
use rmt_inspector::track::route_signalling::{prescan, RouteSignalling};
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::route::Profile;

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
    Cid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Glossary {
    /// The display-filter fields: name, type, aliases, description.
    Fields,
    /// The findings registry: ID, severity, rule, summary.
    Findings,
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
    #[arg(short = 'r', value_name = "FILE", required_unless_present_any = ["glossary", "interface", "generate"], conflicts_with = "interface")]
    read: Option<PathBuf>,
    /// Capture live on an interface (needs root or CAP_NET_RAW).
    #[arg(short = 'i', value_name = "IFACE")]
    interface: Option<String>,
    /// With -i: join a multicast group, any-source or source-specific: GROUP[,SOURCE]
    /// (repeatable). A capture does not join groups by itself.
    #[arg(long, value_name = "GROUP[,SOURCE]", requires = "interface")]
    join: Vec<Join>,
    /// With -i: stop after S seconds.
    #[arg(long, value_name = "S", requires = "interface")]
    duration: Option<f64>,
    /// With -i: the capture ring's size in MiB (as dumpcap's -B; default 64).
    #[arg(short = 'B', value_name = "MiB", requires = "interface", value_parser = clap::value_parser!(u16).range(1..=4095))]
    buffer_mib: Option<u16>,
    /// With -i: a capture filter the kernel applies, so other traffic costs nothing:
    /// ip, ip6, udp, tcp, [src|dst] port N, [src|dst] host A.B.C.D, joined by and/or
    /// (e.g. -f "udp port 3400").
    #[arg(short = 'f', value_name = "FILTER", requires = "interface")]
    capture_filter: Option<String>,
    /// Decode UDP port P as ALC, tshark style (`-d udp.port==P`, repeatable). Without it, a
    /// heuristic keeps the UDP flows whose first datagram decodes as ALC without error.
    #[arg(short = 'd', value_name = "udp.port==P", value_parser = rmt_inspector::inspect::dissect::parse_decode_as)]
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
    /// Print a glossary, tab-separated as tshark -G: -G fields, -G findings.
    #[arg(short = 'G', value_enum)]
    glossary: Option<Glossary>,
    /// Print rmt-inspect's man page or its completions for a shell, and exit.
    #[arg(long, value_enum, value_name = "KIND")]
    generate: Option<Generated>,
    /// Print no per-packet output.
    #[arg(short = 'q')]
    quiet: bool,
    /// Statistics at the end (repeatable): sessions, objects, findings, fdt.
    #[arg(short = 'z', value_enum)]
    stats: Vec<Stat>,
    /// Write the packets shown (after -Y and -c) to FILE as pcapng, each with its findings as
    /// packet comments ("rmt: ID SEVERITY RULE: DETAIL"; Wireshark's frame.comment).
    #[arg(short = 'w', value_name = "FILE")]
    write: Option<PathBuf>,
    /// Decode the LCT CCI as WEBRC (RFC 3738 §5).
    #[arg(long)]
    webrc: bool,
    /// Read every ALC session with this profile: flute (RFC 5775/6726), route (RFC 9223), atsc3
    /// (A/331 Annex A), dvb-mabr (ROUTE as RFC 9223). Without it, a destination is ROUTE when the
    /// LLS's SLT or an S-TSID says so (a capture file is read once for them first), FLUTE else;
    /// -z sessions says which and why
    #[arg(long, value_name = "PROFILE", value_parser = ["flute", "route", "atsc3", "dvb-mabr"])]
    profile: Option<String>,
    /// Write every rebuilt object, and manifest.json, into DIR.
    #[arg(long = "export-objects", value_name = "DIR")]
    export_objects: Option<PathBuf>,
    /// With --export-objects: also write objects not fully rebuilt (NAME.partial).
    #[arg(long)]
    partial: bool,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("rmt-inspect: {msg}");
    ExitCode::from(2)
}

/// Everything done with each packet, from a file or from an interface.
struct Processor<'o> {
    args: &'o Args,
    printer: &'o Printer<'o>,
    inspection: Inspection,
    pcap_out: Option<PcapNgOut<BufWriter<std::fs::File>>>,
    /// With -w: the findings raised since the last packet was written, as comments.
    comments: Option<SharedComments>,
    /// With -w: the packets written, as runs of consecutive frames (first frame, its position
    /// in the file): one run when nothing is filtered out, so memory does not grow with the
    /// capture.
    written: Vec<(u64, usize)>,
    /// With -w: packets written so far.
    written_count: usize,
    out: BufWriter<std::io::Stdout>,
    /// Output of the current packet, reused.
    printed: Vec<u8>,
    t0: Option<Duration>,
    /// With -i: what the capture saw, left out and dropped.
    capture: Option<(String, CaptureStats)>,
}

/// Why processing stopped early.
enum Stop {
    /// Standard output was closed (e.g. piped into `head`).
    OutputClosed,
    Failed(String),
}

impl<'o> Processor<'o> {
    /// Everything after the dissection: findings, sessions, objects, filter, outputs. With
    /// `printed`, the packet's output was already written (by the reading thread).
    fn process(&mut self, d: &Dissected<'_>, printed: bool) -> Result<(), Stop> {
        let t0 = *self.t0.get_or_insert(d.raw.timestamp);
        self.inspection
            .push(d)
            .map_err(|e| Stop::Failed(format!("cannot write an exported object: {e}")))?;
        // Raised by this packet (its own findings, and the session and object findings it
        // set off): its comments if it is written, dropped with it if it is filtered out.
        let comments: Vec<String> = match &self.comments {
            Some(c) => std::mem::take(&mut *c.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .map(|(_, text)| text)
                .collect(),
            None => Vec::new(),
        };
        if !self.printer.shown(d) {
            return Ok(());
        }
        if let Some(w) = self.pcap_out.as_mut() {
            w.write_commented(&d.raw, &comments)
                .map_err(|e| Stop::Failed(format!("cannot write the pcapng output: {e}")))?;
            let frame = d.raw.frame;
            let continues = self
                .written
                .last()
                .is_some_and(|(first, at)| first + (self.written_count - at) as u64 == frame);
            if !continues {
                self.written.push((frame, self.written_count));
            }
            self.written_count += 1;
        }
        if printed || self.args.quiet {
            return Ok(());
        }
        self.printed.clear();
        self.printer.print(d, t0, &mut self.printed);
        self.out
            .write_all(&self.printed)
            .map_err(|_| Stop::OutputClosed)
    }
}

/// How the packets shown are printed (filter and output mode). Shared by the thread that reads
/// and dissects and the one that processes, so that both can print part of each batch.
struct Printer<'o> {
    args: &'o Args,
    filter: Option<Filter>,
    fields: Vec<&'static Field>,
    separator: String,
}

impl Printer<'_> {
    fn shown(&self, d: &Dissected) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(d))
    }

    /// Whether packets print anything (not with -q).
    fn prints(&self) -> bool {
        !self.args.quiet
    }

    /// Appends the output of one packet that passed the filter.
    fn print(&self, d: &Dissected, t0: Duration, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail.
        let _ = match self.args.format {
            Format::Json => output::append_json_line(out, d, t0),
            Format::Fields => writeln!(
                out,
                "{}",
                output::fields_line(d, &self.fields, &self.separator)
            ),
            Format::Text if self.args.verbose => write!(out, "{}", output::tree(d, t0)),
            Format::Text => writeln!(out, "{}", output::summary_line(d, t0)),
        };
        if self.args.hex {
            let _ = writeln!(out, "{}", output::hex_dump(d.raw.data));
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(kind) = args.generate {
        return cli_docs::print(kind, Args::command());
    }
    match args.glossary {
        Some(Glossary::Fields) => {
            print!("{}", glossary());
            return ExitCode::SUCCESS;
        }
        Some(Glossary::Findings) => {
            print!("{}", rmt_inspector::registry::glossary());
            return ExitCode::SUCCESS;
        }
        None => {}
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
    let pcap_out = match &args.write {
        None => None,
        Some(p) => match std::fs::File::create(p).and_then(|f| PcapNgOut::new(BufWriter::new(f))) {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("rmt-inspect: cannot write {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
    };
    let ctx = AlcContext {
        fec_encoding_id: None,
        rs_m: None,
        webrc: args.webrc,
        profile: Profile::Flute,
    };
    // Rebuilding every object costs memory in proportion to the capture: only when asked for.
    let all_objects = args.export_objects.is_some()
        || args.stats.contains(&Stat::Objects)
        || args.stats.contains(&Stat::Findings)
        || args.stats.contains(&Stat::Cid);
    let printer = Printer {
        args: &args,
        filter,
        fields,
        separator,
    };
    let mut inspection = Inspection::new(AssemblerConfig {
        all_objects,
        partial: args.partial,
        ..AssemblerConfig::default()
    });
    if let Some(dir) = &args.export_objects {
        match Exporter::new(dir, args.partial) {
            Ok(x) => inspection = inspection.with_exporter(x),
            Err(e) => {
                eprintln!("rmt-inspect: cannot write to {}: {e}", dir.display());
                return ExitCode::from(1);
            }
        }
    }
    let comments = pcap_out.as_ref().map(|_| Arc::new(Mutex::new(Vec::new())));
    if let Some(sink) = &comments {
        inspection = inspection.with_observer(Box::new(CommentSink(sink.clone())));
    }
    let mut p = Processor {
        args: &args,
        printer: &printer,
        printed: Vec::new(),
        inspection,
        pcap_out,
        comments,
        written: Vec::new(),
        written_count: 0,
        out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
        t0: None,
        capture: None,
    };
    let mut input_error: Option<(u8, String)> = None;
    let mut flows = FlowSelector::new(args.decode_as.clone(), ctx);
    flows.signalling =
        RouteSignalling::forcing(args.profile.as_deref().and_then(Profile::from_name));
    let stopped = match (&args.read, &args.interface) {
        (Some(path), _) => read_file(&mut p, &mut flows, path, &mut input_error),
        (None, Some(iface)) => read_live(&mut p, &mut flows, iface, &mut input_error),
        (None, None) => unreachable!("clap requires -r or -i"),
    };
    match stopped {
        Err(Stop::OutputClosed) => return ExitCode::SUCCESS,
        Err(Stop::Failed(msg)) => {
            eprintln!("rmt-inspect: {msg}");
            return ExitCode::from(1);
        }
        Ok(()) => {}
    }
    if let Some((code @ 1, msg)) = &input_error {
        eprintln!("rmt-inspect: {msg}");
        return ExitCode::from(*code);
    }
    finish(p, &mut flows, &args, input_error)
}

/// Reads a capture file (memory-mapped) or standard input.
fn read_file(
    p: &mut Processor,
    flows: &mut FlowSelector,
    path: &std::path::Path,
    input_error: &mut Option<(u8, String)>,
) -> Result<(), Stop> {
    let source = match Source::open(path) {
        Ok(s) => s,
        Err(e) => {
            *input_error = Some((1, e.to_string()));
            return Ok(());
        }
    };
    let mut packets = match Packets::new(source.bytes()) {
        Ok(p) => p,
        Err(e) => {
            *input_error = Some((1, format!("{}: {e}", path.display())));
            return Ok(());
        }
    };
    // The LLS and S-TSIDs at the start of the file decide the profiles from its first packet
    // on; the pages the look took leave the resident set again.
    if flows.signalling.forced.is_none() {
        if let Ok(all) = Packets::new(source.bytes()) {
            let base = source.bytes().as_ptr() as usize;
            flows.signalling = prescan(all.map_while(Result::ok), None, |raw| {
                source.release_before(raw.data.as_ptr() as usize - base)
            });
            source.release_before(usize::MAX);
        }
    }
    let total = source.bytes().len();
    let count = p.args.count;
    let printer = p.printer;
    let position = ReadPosition::default();
    // Three threads: one maps the pages ahead of the parser; this one reads and dissects the packets and prints part of each batch; one
    // processes them (sessions, objects) and prints the rest, in batches of BATCH packets.
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Batch>(4);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        let position = &position;
        let source = &source;
        scope.spawn(move || source.read_ahead(position));
        let processor = scope.spawn(move || {
            // Ends the read-ahead thread however this one ends (a panic included), so that
            // the scope never waits for it forever.
            let _finish = position.finish_on_drop();
            process_batches(p, full_rx, empty_tx, position, source)
        });
        let read = read_packets(
            flows,
            printer,
            path,
            &mut packets,
            total,
            (full_tx, empty_rx),
            count,
            input_error,
        );
        let processed = processor
            .join()
            .unwrap_or_else(|_| Err(Stop::Failed("the packet processing thread panicked".into())));
        processed.and(read)
    })
}

/// Bytes of the capture processed between two releases of the pages behind.
const RELEASE_STEP: usize = 4 << 20;

/// Packets per batch handed from the reading thread to the processing thread.
const BATCH: usize = 1024;

/// The share of each batch the reading thread prints. It also dissects, so it takes less than
/// half: with `-T json`, 6/16 gives both threads about the same instruction count per packet
/// (callgrind on the benchmark capture: reading and dissection about 1,450, processing 600, a
/// JSON line 3,500). Moving the ALC layers' decoding to the processing thread as well was measured
/// slower (the processor then reads each packet's header bytes from the other core's cache).
const PRINTED_BY_READER: usize = BATCH * 6 / 16;

/// Packets dissected by the reading thread, with the output of the first ones.
struct Batch<'a> {
    packets: Vec<Dissected<'a>>,
    /// Bytes of the capture consumed once these packets are done with.
    consumed: usize,
    /// The output of `packets[..printed_upto]`, in order.
    printed: Vec<u8>,
    printed_upto: usize,
}

impl Batch<'_> {
    fn new() -> Self {
        Batch {
            packets: Vec::with_capacity(BATCH),
            consumed: 0,
            printed: Vec::new(),
            printed_upto: 0,
        }
    }
}

type Batches<'a> = (
    std::sync::mpsc::SyncSender<Batch<'a>>,
    std::sync::mpsc::Receiver<Batch<'a>>,
);

/// The processing thread: batches in order; after each, the bytes before the batch's end are
/// done with. Returns at the end of input or when output fails (the reader then stops too).
fn process_batches<'a>(
    p: &mut Processor,
    full: std::sync::mpsc::Receiver<Batch<'a>>,
    empty: std::sync::mpsc::Sender<Batch<'a>>,
    position: &ReadPosition,
    source: &Source,
) -> Result<(), Stop> {
    let mut released = 0;
    for mut batch in full {
        p.out
            .write_all(&batch.printed)
            .map_err(|_| Stop::OutputClosed)?;
        for (i, d) in batch.packets.iter().enumerate() {
            p.process(d, i < batch.printed_upto)?;
        }
        batch.packets.clear();
        batch.printed.clear();
        position.set(batch.consumed);
        if batch.consumed >= released + RELEASE_STEP {
            source.release_before(batch.consumed);
            released = batch.consumed;
        }
        // The reader may have finished: a batch not recycled is simply dropped.
        let _ = empty.send(batch);
    }
    Ok(())
}

/// Inputs from this size on get a progress bar (when standard error is a terminal).
const PROGRESS_FROM_BYTES: usize = 4 << 20;

/// The reading thread: parses records and dissects packets, in batches to the processor.
#[allow(clippy::too_many_arguments)]
fn read_packets<'a>(
    flows: &mut FlowSelector,
    printer: &Printer,
    path: &std::path::Path,
    packets: &mut Packets<'a>,
    total: usize,
    (full, empty): Batches<'a>,
    count: Option<u64>,
    input_error: &mut Option<(u8, String)>,
) -> Result<(), Stop> {
    // A progress bar on standard error, only when it is a terminal and the input is large.
    let progress = if total >= PROGRESS_FROM_BYTES {
        progress::bar(total as u64, "rmt-inspect", progress::Unit::Bytes)
    } else {
        progress::ProgressBar::hidden()
    };
    let mut batch = Batch::new();
    let mut last_frame: u64;
    let mut t0 = None;
    while let Some(pkt) = packets.next() {
        let raw = match pkt {
            Ok(r) => r,
            Err(e) => {
                let code = if matches!(e, ReadError::Corrupt { .. }) {
                    3
                } else {
                    1
                };
                *input_error = Some((code, format!("{}: {e}", path.display())));
                break;
            }
        };
        if count.is_some_and(|c| raw.frame > c) {
            break;
        }
        last_frame = raw.frame;
        let t0 = *t0.get_or_insert(raw.timestamp);
        // Built in the vector's spare slot: `push` builds the 480-byte value on the stack and
        // copies it (a memcpy call per packet on the hot path).
        batch.packets.reserve(1);
        let len = batch.packets.len();
        match batch.packets.spare_capacity_mut().first_mut() {
            Some(slot) => {
                slot.write(Dissected::new(raw));
                // SAFETY: the slot at `len` was just initialised, and it is within the capacity.
                unsafe { batch.packets.set_len(len + 1) };
            }
            // Not reached after `reserve(1)`; a plain push rather than a packet left out.
            None => batch.packets.push(Dissected::new(raw)),
        }
        let n = batch.packets.len();
        if let Some(d) = batch.packets.last_mut() {
            dissect_into(d, flows);
            // The same output the processor would write, in the same order (the processor
            // writes `printed` before the rest of the batch).
            if n <= PRINTED_BY_READER && printer.prints() {
                if printer.shown(d) {
                    printer.print(d, t0, &mut batch.printed);
                }
                batch.printed_upto = n;
            }
        }
        if batch.packets.len() == BATCH {
            let consumed = packets.consumed(total);
            if !progress.is_hidden() {
                progress.set_position(consumed as u64);
                progress.set_message(format!("{last_frame} packets"));
            }
            batch.consumed = consumed;
            let next = empty.try_recv().unwrap_or_else(|_| Batch::new());
            if full.send(std::mem::replace(&mut batch, next)).is_err() {
                // The processor stopped (output closed or failed): it reports why.
                return Ok(());
            }
        }
    }
    batch.consumed = packets.consumed(total);
    let _ = full.send(batch);
    progress.finish_and_clear();
    Ok(())
}

/// Seconds without any packet after which the user is told nothing arrives.
const SILENCE_WARNING: Duration = Duration::from_secs(5);

/// Captures on an interface until -c packets, --duration seconds, or an error.
fn read_live(
    p: &mut Processor,
    flows: &mut FlowSelector,
    iface: &str,
    input_error: &mut Option<(u8, String)>,
) -> Result<(), Stop> {
    let options = LiveOptions {
        buffer_mib: p.args.buffer_mib.map_or(0, usize::from),
        filter: p.args.capture_filter.clone(),
    };
    let mut cap = match LiveCapture::open(iface, &p.args.join, &options) {
        Ok(c) => c,
        Err(e) => {
            *input_error = Some((1, e.to_string()));
            return Ok(());
        }
    };
    let start = std::time::Instant::now();
    let limit = p.args.duration.map(Duration::from_secs_f64);
    let mut frame = 0u64;
    let mut warned = false;
    // Two threads, as for files: this one dissects and processes; one drains the kernel's ring
    // into batches of copied frames, so that a slow packet (a long output line, an object
    // completing) never stalls the ring. Its queue is bounded: when it is full, a batch is
    // dropped and counted (our own drops, reported beside the kernel's).
    let stop = AtomicBool::new(false);
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<LiveBatch>(LIVE_QUEUE_BATCHES);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<LiveBatch>();
    let (result, queue_dropped) = std::thread::scope(|scope| {
        let stop = &stop;
        let cap = &mut cap;
        let capture = scope.spawn(move || drain_ring(cap, full_tx, empty_rx, stop, start, limit));
        let processed: Result<(), Stop> = (|| loop {
            if !warned && p.inspection.alc_packets == 0 && start.elapsed() >= SILENCE_WARNING {
                let joins: Vec<String> = p.args.join.iter().map(|j| format!("{j:?}")).collect();
                eprintln!(
                    "rmt-inspect: no ALC packet on {iface} after {} s{} (check the interface, the port, the group join, and IGMP/MLD snooping)",
                    SILENCE_WARNING.as_secs(),
                    if joins.is_empty() { " and no --join given".to_string() } else { String::new() }
                );
                warned = true;
            }
            let batch = match full_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(b) => b,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            };
            for f in &batch.frames {
                if p.args.count.is_some_and(|c| frame >= c) {
                    return Ok(());
                }
                frame += 1;
                let raw = RawPacket {
                    frame,
                    link_type: f.link_type,
                    timestamp: f.timestamp,
                    data: &batch.data[f.start..f.start + f.len],
                    orig_len: f.orig_len,
                };
                p.process(&dissect(raw, flows), false)?;
            }
            let _ = empty_tx.send(batch);
        })();
        stop.store(true, Ordering::Relaxed);
        // Ends the ring thread's wait for room, if it waits.
        drop(full_rx);
        let drained = capture
            .join()
            .unwrap_or_else(|_| (Err(std::io::Error::other("the capture thread panicked")), 0));
        processed.map(|()| drained)
    })?;
    if let Err(e) = result {
        *input_error = Some((1, format!("capture on {iface} failed: {e}")));
    }

    match cap.stats() {
        Ok(mut stats) => {
            stats.captured = frame;
            stats.queue_dropped = queue_dropped;
            if stats.kernel.dropped + stats.queue_dropped > 0 {
                let detail = format!(
                    "{} dropped by the kernel (its ring was full: a larger -B or a -f filter) and {} by rmt-inspect's queue (the processing fell behind: less output per packet)",
                    stats.kernel.dropped, stats.queue_dropped
                );
                let f = rmt_inspector::Finding::of(
                    &rmt_inspector::registry::capture::DROPPED,
                    "capture",
                    0,
                    detail,
                );
                p.inspection.note(frame.max(1), &f);
            }
            p.capture = Some((iface.to_string(), stats));
        }
        Err(e) => *input_error = Some((1, format!("capture statistics of {iface}: {e}"))),
    }
    Ok(())
}

/// Batches the ring thread may queue ahead of the processing thread: 32 of [`BATCH`] frames,
/// up to about 48 MiB of 1,400-byte datagrams, on top of the kernel's ring.
const LIVE_QUEUE_BATCHES: usize = 32;

/// A batch is handed on at the latest this long after its first frame, so that a slow stream
/// is shown as it comes.
const LIVE_BATCH_WAIT: Duration = Duration::from_millis(50);

/// Frames copied out of the ring, for the processing thread.
struct LiveBatch {
    data: Vec<u8>,
    frames: Vec<LiveFrame>,
}

struct LiveFrame {
    start: usize,
    len: usize,
    orig_len: u32,
    timestamp: Duration,
    link_type: rmt_inspector::wire::link::LinkType,
}

impl LiveBatch {
    fn new() -> Self {
        LiveBatch {
            data: Vec::with_capacity(BATCH * 1500),
            frames: Vec::with_capacity(BATCH),
        }
    }
}

/// The ring thread: copies frames into batches until `stop` or the time limit; a batch the
/// processing thread has no room for is dropped and counted. Returns the capture's outcome and
/// the frames dropped.
fn drain_ring(
    cap: &mut LiveCapture,
    full: std::sync::mpsc::SyncSender<LiveBatch>,
    empty: std::sync::mpsc::Receiver<LiveBatch>,
    stop: &AtomicBool,
    start: std::time::Instant,
    limit: Option<Duration>,
) -> (std::io::Result<()>, u64) {
    let mut dropped = 0u64;
    let mut batch = LiveBatch::new();
    let mut first_at = std::time::Instant::now();
    loop {
        let done = stop.load(Ordering::Relaxed) || limit.is_some_and(|l| start.elapsed() >= l);
        if done {
            // The last batch waits for room rather than be dropped.
            if !batch.frames.is_empty() {
                let _ = full.send(batch);
            }
            return (Ok(()), dropped);
        }
        match cap.next_packet(0) {
            Ok(Some(raw)) => {
                if batch.frames.is_empty() {
                    first_at = std::time::Instant::now();
                }
                batch.frames.push(LiveFrame {
                    start: batch.data.len(),
                    len: raw.data.len(),
                    orig_len: raw.orig_len,
                    timestamp: raw.timestamp,
                    link_type: raw.link_type,
                });
                batch.data.extend_from_slice(raw.data);
            }
            Ok(None) => {}
            Err(e) => {
                let _ = full.send(batch);
                return (Err(e), dropped);
            }
        }
        if batch.frames.len() >= BATCH
            || (!batch.frames.is_empty() && first_at.elapsed() >= LIVE_BATCH_WAIT)
        {
            let mut next = empty.try_recv().unwrap_or_else(|_| LiveBatch::new());
            next.data.clear();
            next.frames.clear();
            match full.try_send(std::mem::replace(&mut batch, next)) {
                Ok(()) => {}
                Err(std::sync::mpsc::TrySendError::Full(lost)) => {
                    dropped += lost.frames.len() as u64;
                    batch.data = lost.data;
                    batch.frames = lost.frames;
                    batch.data.clear();
                    batch.frames.clear();
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return (Ok(()), dropped),
            }
        }
    }
}

/// dumpcap's end-of-capture line: what was captured, dropped and left out.
fn capture_summary(iface: &str, s: &CaptureStats) -> String {
    let mut line = format!(
        "{iface}: {} packets captured, {} dropped by the kernel, {} by rmt-inspect's queue",
        s.captured, s.kernel.dropped, s.queue_dropped
    );
    if s.loopback_duplicates > 0 {
        line += &format!(", {} loopback duplicates left out", s.loopback_duplicates);
    }
    if s.outgoing > 0 {
        line += &format!(", {} outgoing", s.outgoing);
    }
    line
}

/// Findings as (frame, comment), from the inspection's observer to the writer of `-w`.
type SharedComments = Arc<Mutex<Vec<(u64, String)>>>;

/// Hands every finding to `-w` as a packet comment.
struct CommentSink(SharedComments);

impl Observer for CommentSink {
    fn finding(&mut self, frame: u64, f: &rmt_inspector::Finding) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.push((frame, finding_comment(f)));
    }
}

/// Puts findings raised after their packets were written (the end-of-capture checks) on the
/// written packet of their frame, or the last one written before it (its frame was filtered
/// out), rewriting the file once; nothing to do when there are none.
fn comment_written(
    path: &Path,
    written: &[(u64, usize)],
    count: usize,
    late: Vec<(u64, String)>,
) -> std::io::Result<()> {
    if late.is_empty() || written.is_empty() {
        return Ok(());
    }
    let mut by_packet: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for (frame, text) in late {
        // The run holding the frame, or the last one before it.
        let run = written
            .partition_point(|(first, _)| *first <= frame)
            .saturating_sub(1);
        let (first, at) = written[run];
        let run_end = written.get(run + 1).map_or(count, |next| next.1);
        let packet = (at + frame.saturating_sub(first) as usize).min(run_end - 1);
        by_packet.entry(packet).or_default().push(text);
    }
    let tmp = path.with_extension("rmt-inspect.tmp");
    let input = std::io::BufReader::new(std::fs::File::open(path)?);
    let output = BufWriter::new(std::fs::File::create(&tmp)?);
    add_comments(input, output, &by_packet)?;
    std::fs::rename(&tmp, path)
}

/// End of input: statistics, flows chosen, export, and the exit code.
fn finish(
    mut p: Processor,
    flows: &mut FlowSelector,
    args: &Args,
    input_error: Option<(u8, String)>,
) -> ExitCode {
    // The end-of-capture checks first: their findings go on the packets already written.
    if let Err(e) = p.inspection.finish() {
        let dir = args
            .export_objects
            .as_deref()
            .unwrap_or(std::path::Path::new("."));
        eprintln!("rmt-inspect: cannot write to {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    if let (Some(w), Some(path)) = (p.pcap_out.take(), &args.write) {
        let late = p.comments.as_ref().map_or_else(Vec::new, |c| {
            std::mem::take(&mut *c.lock().unwrap_or_else(|e| e.into_inner()))
        });
        let written = w
            .finish()
            .and_then(|_| comment_written(path, &p.written, p.written_count, late));
        if let Err(e) = written {
            eprintln!("rmt-inspect: cannot write the pcapng output: {e}");
            return ExitCode::from(1);
        }
    }
    let json = args.format == Format::Json;
    let stats = Stats::of(&p.inspection).with_signalling(&flows.signalling);
    for z in &args.stats {
        let text = match z {
            Stat::Sessions => stats::sessions(&stats, json),
            Stat::Objects => stats::objects(&stats, json),
            Stat::Findings => stats::findings(&stats, json),
            Stat::Fdt => stats::fdt(&stats, json),
            Stat::Cid => stats::cid(&stats, json),
        };
        if write!(p.out, "{text}").is_err() {
            return ExitCode::SUCCESS;
        }
        // The sessions table's footer: what the live capture may have missed.
        if let (Stat::Sessions, Some((iface, c)), false) = (z, &p.capture, json) {
            let _ = writeln!(p.out, "Capture {}", capture_summary(iface, c));
        }
    }
    if let (Some((iface, c)), true) = (&p.capture, json) {
        let line = serde_json::json!({ "log": "capture", "interface": iface, "stats": c });
        let _ = writeln!(p.out, "{line}");
    }
    let _ = p.out.flush();
    if let Some((iface, c)) = &p.capture {
        eprintln!("rmt-inspect: {}", capture_summary(iface, c));
    }
    if flows.ports.is_empty() && !args.quiet {
        for (flow, n) in flows.chosen() {
            eprintln!("rmt-inspect: decoded as ALC: {flow} ({n} packets)");
        }
    }
    if let Some(dir) = &args.export_objects {
        if !args.quiet {
            eprintln!(
                "rmt-inspect: exported {} object(s) to {}",
                p.inspection.exported(),
                dir.display()
            );
        }
    }
    if let Some((code, msg)) = input_error {
        eprintln!("rmt-inspect: {msg}");
        return ExitCode::from(code);
    }
    ExitCode::SUCCESS
}
