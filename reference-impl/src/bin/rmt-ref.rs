//! `rmt-ref`: the reference FLUTE/FCAST sender and receiver.
//!
//! Exit codes: 0 done; 1 runtime error (I/O, socket); 2 usage error; 3 input unusable (capture
//! or SDP cannot be read); 4 the capture is damaged (truncated or corrupt): what came before
//! the damage was received and written.

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use rmt_inspector::cli_docs::{self, Generated};

use rmt_reference::driver::capture::{receive_capture, send_to_capture, FlowFilter, VIRTUAL_START};
use rmt_reference::driver::output::OutputDir;
use rmt_reference::driver::udp::{
    receiver_socket, run_receiver, run_sender, sender_socket, SocketOptions,
};
use rmt_reference::faults::Faults;
use rmt_reference::fec_config::FecConfig;
use rmt_reference::http::{get, SdpServer};
use rmt_reference::packet::FieldWidths;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::sdp::SessionDescription;
use rmt_reference::sender::fcast::Packaging;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};
use rmt_reference::time::wall_clock;

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INPUT: u8 = 3;
const EXIT_DAMAGED: u8 = 4;

#[derive(Parser)]
#[command(
    name = "rmt-ref",
    version,
    about = "Reference ALC/FLUTE/FCAST sender and receiver"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send files as one FLUTE or FCAST session.
    Send(SendArgs),
    /// Receive a session from the network or from a capture file.
    Recv(RecvArgs),
    /// Write an ATSC 3.0 ROUTE session (A/331) to a pcap: the LLS's SLT, the SLS on TSI 0
    /// (USBD, S-TSID, MPD), File-mode files on TSI 1 with their EFDT, Entity-mode files on
    /// TSI 2, and a RaptorQ repair flow on TSI 3.
    RouteSend(RouteSendArgs),
    /// Send a WEBRC channel schedule (RFC 3738 §3.1): one group per channel from --group.
    WebrcSend(WebrcSendArgs),
    /// Run a WEBRC receiver (RFC 3738 §3.2): joins and leaves the channels' groups, logs its
    /// actions and reception per second as JSON lines.
    WebrcRecv(WebrcRecvArgs),
    /// Print rmt-ref's man page or its completions for a shell.
    Generate {
        #[arg(value_enum)]
        kind: Generated,
    },
}

/// The sender parameters shared by webrc-send and webrc-recv (RFC 3738 §3.1.1).
#[derive(Args, Clone)]
struct WebrcArgs {
    /// First channel's group and port (wave 0), IPv4 or IPv6 (`[ff3e::db8:1]:3400`); channel
    /// CN uses the CN-th next address and the base channel CN = T.
    #[arg(long, default_value = "233.252.0.1:3400")]
    group: std::net::SocketAddr,
    /// N: active waves (slots a wave lasts).
    #[arg(long, default_value_t = 14)]
    waves: u32,
    /// BCR_P: base channel rate at a slot start, packets per second.
    #[arg(long, default_value_t = 20.0)]
    bcr: f64,
    /// TSD: time slot duration, seconds.
    #[arg(long, default_value_t = 1.0)]
    tsd: f64,
    /// QD: quiescent period, seconds.
    #[arg(long, default_value_t = 10.0)]
    qd: f64,
    /// P: rate decay per slot.
    #[arg(long, default_value_t = 0.75)]
    p: f64,
    /// Run for this many seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
}

impl WebrcArgs {
    fn params(&self) -> rmt_reference::webrc::schedule::WebrcParams {
        rmt_reference::webrc::schedule::WebrcParams {
            bcr_p: self.bcr,
            tsd: Duration::from_secs_f64(self.tsd),
            qd: Duration::from_secs_f64(self.qd),
            p: self.p,
            ..rmt_reference::webrc::schedule::WebrcParams::new(self.waves)
        }
    }
}

#[derive(Args)]
struct WebrcSendArgs {
    #[command(flatten)]
    webrc: WebrcArgs,
    /// Interface to send from: its IPv4 address, or its index for an IPv6 group.
    #[arg(long)]
    source: Option<rmt_reference::driver::webrc::McastInterface>,
    #[arg(long, default_value_t = 1)]
    tsi: u32,
    /// Path MTU, bytes: packets are as large as fits without IP fragmentation.
    #[arg(long, default_value_t = 1500)]
    mtu: usize,
}

#[derive(Args)]
struct WebrcRecvArgs {
    #[command(flatten)]
    webrc: WebrcArgs,
    /// Interface to join on: its IPv4 address, or its index for an IPv6 group (default: the
    /// system's choice).
    #[arg(long)]
    interface: Option<rmt_reference::driver::webrc::McastInterface>,
    /// MRR_P: the most this receiver takes, packets per second.
    #[arg(long)]
    max_rate: Option<f64>,
    /// Hold each received packet this many milliseconds before the receiver sees it: the
    /// one-way delay of a last link, where tc netem is not available.
    #[arg(long, default_value_t = 0.0)]
    delay_ms: f64,
}

#[derive(Args)]
struct RouteSendArgs {
    /// Files sent in File mode (TSI 1, named by the EFDT).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A file sent in Entity mode (TSI 2, named by its HTTP headers); repeatable.
    #[arg(long = "entity")]
    entity: Vec<PathBuf>,
    /// An MPD put in the SLS bundle.
    #[arg(long)]
    mpd: Option<PathBuf>,
    /// Repair symbols per source block of each File-mode file (0: no repair flow).
    #[arg(long, default_value_t = 4)]
    repair: u32,
    /// RaptorQ symbol size of the repair flow (a multiple of 4).
    #[arg(long, default_value_t = 1400)]
    symbol_length: u16,
    /// Destination of the ROUTE session, written in the SLT and the S-TSID.
    #[arg(long, default_value = "233.252.0.9:3400")]
    group: std::net::SocketAddrV4,
    /// Where to write the session (pcap, one packet a millisecond); nothing is sent.
    #[arg(long, required = true)]
    pcap_out: PathBuf,
}

#[derive(Args)]
struct SendArgs {
    /// Files to send.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// FCAST (RFC 6968) compound objects and CIDs instead of FLUTE.
    #[arg(long, conflicts_with = "flute")]
    fcast: bool,
    /// FLUTE (RFC 6726), the default.
    #[arg(long)]
    flute: bool,
    /// FEC: nocode, rs, rs2, rs129, ldpc, ldpc-triangle, raptorq, optionally :k/n (e.g. ldpc:2/3).
    #[arg(long, default_value = "nocode")]
    fec: FecConfig,
    /// Encoding symbol length in bytes (one symbol per packet).
    #[arg(long)]
    symbol_length: Option<u16>,
    /// Rate in bit/s with an optional k/M/G suffix; 0 sends as fast as possible.
    #[arg(long, default_value = "10M", value_parser = parse_rate)]
    rate: u64,
    /// Destination (a multicast group or a unicast address) and port.
    #[arg(long, default_value = "127.0.0.1:3400")]
    group: SocketAddr,
    /// The session's source address (bound, and written in the SDP).
    #[arg(long)]
    source: Option<IpAddr>,
    #[arg(long, default_value_t = 1)]
    tsi: u64,
    /// TSI field width in bits (16, 32, 48).
    #[arg(long, default_value_t = 32)]
    tsi_bits: usize,
    /// TOI field width in bits (16 to 112; H is shared with the TSI).
    #[arg(long, default_value_t = 32)]
    toi_bits: usize,
    #[arg(long, default_value_t = 1)]
    first_toi: u128,
    /// Transmission cycles (FCAST push mode = 1, on-demand = N).
    #[arg(long, default_value_t = 1)]
    cycles: u32,
    /// Multicast TTL.
    #[arg(long, default_value_t = 1)]
    ttl: u32,
    /// Outgoing interface (its IPv4 address; for IPv6 the interface index).
    #[arg(long)]
    iface: Option<String>,
    /// Write the session description here.
    #[arg(long)]
    sdp_out: Option<PathBuf>,
    /// Serve the session description over HTTP at ADDR:PORT while sending.
    #[arg(long)]
    serve_sdp: Option<SocketAddr>,
    /// Wait this long after starting the SDP server before sending (receivers fetch it first).
    #[arg(long, default_value_t = 0.0)]
    sdp_lead: f64,
    /// Do not touch the network: write the datagrams to this pcap on a virtual clock.
    #[arg(long)]
    pcap_out: Option<PathBuf>,
    /// FCAST: no CID.
    #[arg(long)]
    no_cid: bool,
    /// FCAST: checksum over the whole object (G=1).
    #[arg(long)]
    global_checksum: bool,
    /// FCAST: gzip the metadata (MDEnc=1).
    #[arg(long)]
    gzip_metadata: bool,
    /// FCAST: gzip the object data (Content-Encoding: gzip).
    #[arg(long)]
    gzip_content: bool,
    /// FLUTE: deflate the FDT (EXT_CENC).
    #[arg(long)]
    fdt_cenc: bool,
    /// FLUTE flavour: rfc6726 (EXT_FDT V=2, RFC 6726 namespace), rfc3926 (V=1, no
    /// namespace, no EXT_TIME), 3gpp (V=1, urn:IETF:metadata:2005:FLUTE:FDT, 3GPP form, no
    /// EXT_TIME) or 3gpp-2022 (V=2, urn:3GPP:metadata:2022:FLUTE:FDT).
    #[arg(long, default_value = "rfc6726")]
    flavor: rmt_inspector::wire::flute_flavor::FluteFlavor,
    /// EXT_TIME in every packet: on, off (default: on where the flavour has it).
    #[arg(long, value_parser = rmt_reference::driver::options::parse_on_off)]
    ext_time: Option<bool>,
    /// No EXT_TIME (same as --ext-time off).
    #[arg(long, conflicts_with = "ext_time")]
    no_ext_time: bool,
    /// FLUTE: end with header-only packets without TOI (on, the default) or with A=1 on
    /// repeats of the last data packet (off), for receivers that drop TOI-less packets.
    #[arg(long, value_parser = rmt_reference::driver::options::parse_on_off, default_value = "on", action = clap::ArgAction::Set)]
    close_session_packet: bool,
    /// Send runs of equal-size datagrams with UDP GSO (much faster; a capture on the sending
    /// host then shows the unsegmented super-datagrams).
    #[arg(long)]
    gso: bool,
    /// Fault injection, repeatable: loss=P, duplicate=P, reorder=P, wrong-hdr-len=P, seed=N,
    /// second-sender=IP, changing-oti, duplicate-toi, no-close-session, corrupt-checksum,
    /// cid-wrong-tois, cid-ciid-decreasing, cid-ciid-missing,
    /// cid-ciid-reused, toi-window-ignored, fdt-changes-parameters,
    /// expired-fdt, no-fdt.
    #[arg(long = "fault")]
    faults: Vec<String>,
}

#[derive(Args)]
struct RecvArgs {
    /// Read a pcap or pcapng file instead of the network (capture timestamps are the clock).
    #[arg(long, conflicts_with_all = ["group", "sdp"])]
    pcap: Option<PathBuf>,
    /// The session description: a file or an http:// URL.
    #[arg(long, conflicts_with = "group")]
    sdp: Option<String>,
    /// Channel to join (group or local unicast address, and port).
    #[arg(long)]
    group: Option<SocketAddr>,
    /// The sender's address: an SSM join on the network, a filter everywhere.
    #[arg(long)]
    source: Option<IpAddr>,
    /// The session's TSI (default: the first one seen).
    #[arg(long)]
    tsi: Option<u64>,
    #[arg(long, conflicts_with = "flute")]
    fcast: bool,
    #[arg(long)]
    flute: bool,
    /// FEC Encoding ID when the codepoint does not give it (FCAST).
    #[arg(long)]
    fec_id: Option<u8>,
    /// Captures: UDP ports carrying the session, tshark style (udp.port==P), repeatable.
    #[arg(short = 'd', value_parser = rmt_inspector::inspect::dissect::parse_decode_as)]
    decode_as: Vec<u16>,
    /// Output folder (files and manifest.jsonl).
    #[arg(long)]
    out: PathBuf,
    /// Network: stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Network: stop when nothing arrives for this many seconds.
    #[arg(long, default_value_t = 10.0)]
    idle: f64,
    /// Joining interface (its IPv4 address; for IPv6 the interface index).
    #[arg(long)]
    iface: Option<String>,
    #[arg(long, default_value_t = 1024)]
    max_objects: usize,
    /// Bytes held for objects in flight, all together.
    #[arg(long, default_value_t = 1 << 30)]
    max_buffered: u64,
    #[arg(long, default_value_t = 1 << 30)]
    max_object: u64,
}

fn parse_rate(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1e3),
        Some('m' | 'M') => (&s[..s.len() - 1], 1e6),
        Some('g' | 'G') => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    num.parse::<f64>()
        .ok()
        .filter(|v| *v >= 0.0 && v.is_finite())
        .map(|v| (v * mult) as u64)
        .ok_or_else(|| format!("{s:?} is not a rate (e.g. 10M, 500k, 0)"))
}

fn parse_faults(list: &[String]) -> Result<Faults, String> {
    let mut f = Faults::default();
    for item in list {
        let (k, v) = item
            .split_once('=')
            .map_or((item.as_str(), None), |(k, v)| (k, Some(v)));
        let prob = || -> Result<f64, String> {
            v.and_then(|v| v.parse::<f64>().ok())
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| format!("--fault {item}: needs a probability 0..1"))
        };
        match k {
            "loss" => f.loss = prob()?,
            "duplicate" => f.duplicate = prob()?,
            "reorder" => f.reorder = prob()?,
            "wrong-hdr-len" => f.wrong_hdr_len = prob()?,
            "seed" => f.seed = v.and_then(|v| v.parse().ok()).ok_or("--fault seed=N")?,
            "second-sender" => {
                f.second_sender = Some(
                    v.and_then(|v| v.parse().ok())
                        .ok_or("--fault second-sender=IP")?,
                )
            }
            "changing-oti" => f.changing_oti = true,
            "duplicate-toi" => f.duplicate_toi = true,
            "no-close-session" => f.no_close_session = true,
            "corrupt-checksum" => f.corrupt_checksum = true,
            "cid-wrong-tois" => f.cid_wrong_tois = true,
            "cid-ciid-decreasing" => f.cid_ciid_decreasing = true,
            "cid-ciid-missing" => f.cid_ciid_missing = true,
            "cid-ciid-reused" => f.cid_ciid_reused = true,
            "toi-window-ignored" => f.toi_window_ignored = true,
            "fdt-changes-parameters" => f.fdt_changes_parameters = true,
            "expired-fdt" => f.expired_fdt = true,
            "no-fdt" => f.no_fdt = true,
            other => return Err(format!("unknown fault {other:?}")),
        }
    }
    Ok(f)
}

fn interface(o: &mut SocketOptions, iface: &Option<String>) -> Result<(), String> {
    if let Some(i) = iface {
        if let Ok(a) = i.parse::<Ipv4Addr>() {
            o.interface_v4 = Some(a);
        } else if let Ok(n) = i.parse::<u32>() {
            o.interface_v6 = Some(n);
        } else {
            return Err(format!(
                "--iface {i}: give the interface's IPv4 address or its index"
            ));
        }
    }
    Ok(())
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("rmt-ref: {msg}");
    ExitCode::from(EXIT_USAGE)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { kind } => cli_docs::print(kind, Cli::command()),
        Command::Send(a) => send(a),
        Command::Recv(a) => recv(a),
        Command::RouteSend(a) => route_send(a),
        Command::WebrcSend(a) => webrc_send(a),
        Command::WebrcRecv(a) => webrc_recv(a),
    }
}

fn webrc_send(a: WebrcSendArgs) -> ExitCode {
    let params = a.webrc.params();
    if let Err(e) = params.validate() {
        return usage(e);
    }
    let duration = Duration::from_secs_f64(a.webrc.duration.max(0.0));
    match rmt_reference::driver::webrc::run_sender(
        params,
        a.webrc.group,
        a.source,
        duration,
        a.tsi,
        a.mtu,
    ) {
        Ok(n) => {
            eprintln!("rmt-ref: sent {n} WEBRC packets");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rmt-ref: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn webrc_recv(a: WebrcRecvArgs) -> ExitCode {
    let params = a.webrc.params();
    if let Err(e) = params.validate() {
        return usage(e);
    }
    let mut rp = rmt_reference::webrc::receiver::ReceiverParams::new(params);
    if let Some(m) = a.max_rate {
        rp.mrr_p = m;
    }
    let duration = Duration::from_secs_f64(a.webrc.duration.max(0.0));
    let mut out = std::io::stdout().lock();
    match rmt_reference::driver::webrc::run_receiver(
        rp,
        a.webrc.group,
        a.interface.unwrap_or(if a.webrc.group.is_ipv6() {
            rmt_reference::driver::webrc::McastInterface::V6(0)
        } else {
            rmt_reference::driver::webrc::McastInterface::V4(std::net::Ipv4Addr::UNSPECIFIED)
        }),
        duration,
        Duration::from_secs_f64(a.delay_ms.clamp(0.0, 10_000.0) / 1e3),
        &mut out,
    ) {
        Ok(s) => {
            eprintln!(
                "rmt-ref: {} packets, {} joins, {} leaves{}",
                s.packets,
                s.joins,
                s.leaves,
                if s.left_session {
                    ", left the session"
                } else {
                    ""
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rmt-ref: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn route_send(a: RouteSendArgs) -> ExitCode {
    use rmt_reference::route::{route_session, RepairConfig, RouteConfig, RouteFile};
    let read = |p: &PathBuf| -> Result<RouteFile, ExitCode> {
        let data = std::fs::read(p).map_err(|e| {
            eprintln!("rmt-ref: cannot read {}: {e}", p.display());
            ExitCode::from(EXIT_INPUT)
        })?;
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(RouteFile::new(&name, "application/octet-stream", data))
    };
    let files: Result<Vec<_>, _> = a.files.iter().map(read).collect();
    let entity: Result<Vec<_>, _> = a.entity.iter().map(read).collect();
    let (files, entity) = match (files, entity) {
        (Ok(f), Ok(e)) => (f, e),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let mut cfg = RouteConfig::new(files, entity);
    cfg.destination = a.group;
    cfg.repair = (a.repair > 0).then_some(RepairConfig {
        symbol_size: a.symbol_length,
        source_blocks: 1,
        repair_symbols: a.repair,
    });
    if let Some(p) = &a.mpd {
        match std::fs::read_to_string(p) {
            Ok(m) => cfg.mpd = Some(m),
            Err(e) => {
                eprintln!("rmt-ref: cannot read {}: {e}", p.display());
                return ExitCode::from(EXIT_INPUT);
            }
        }
    }
    let datagrams = match route_session(&cfg) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let source = (cfg.source, 40000);
    let frames = datagrams.iter().enumerate().map(|(i, d)| {
        (
            VIRTUAL_START + std::time::Duration::from_millis(i as u64),
            rmt_inspector::wire::frame::Frame::ipv4_udp(
                source,
                (*d.destination.ip(), d.destination.port()),
                &d.payload,
                false,
            ),
        )
    });
    if let Err(e) = rmt_inspector::capture::writer::write_pcap(&a.pcap_out, frames) {
        eprintln!("rmt-ref: cannot write {}: {e}", a.pcap_out.display());
        return ExitCode::from(EXIT_RUNTIME);
    }
    eprintln!(
        "rmt-ref: {} packets of a ROUTE session to {} written to {}",
        datagrams.len(),
        a.group,
        a.pcap_out.display()
    );
    ExitCode::SUCCESS
}

fn send(a: SendArgs) -> ExitCode {
    let mode = if a.fcast { Mode::Fcast } else { Mode::Flute };
    let faults = match parse_faults(&a.faults) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    let mut specs = Vec::new();
    for p in &a.files {
        match std::fs::read(p) {
            Ok(data) => specs.push(ObjectSpec {
                name: p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                content_type: "application/octet-stream".into(),
                data,
            }),
            Err(e) => {
                eprintln!("rmt-ref: cannot read {}: {e}", p.display());
                return ExitCode::from(EXIT_INPUT);
            }
        }
    }
    let mut cfg = SenderConfig::new(mode, a.group, a.tsi);
    cfg.source = a.source.unwrap_or(match a.group {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
    });
    cfg.widths = FieldWidths {
        tsi_len: a.tsi_bits / 8,
        toi_len: a.toi_bits / 8,
    };
    cfg.first_toi = a.first_toi;
    cfg.fec = a.fec.clone();
    if let Some(e) = a.symbol_length {
        cfg.fec.symbol_length = e;
    }
    cfg.rate_bps = a.rate;
    cfg.cycles = a.cycles;
    cfg.cid = !a.no_cid;
    cfg.packaging = Packaging {
        global_checksum: a.global_checksum,
        gzip_metadata: a.gzip_metadata,
        gzip_content: a.gzip_content,
    };
    cfg.fdt_cenc = a.fdt_cenc;
    cfg.speak(a.flavor);
    cfg.ext_time = a.ext_time.unwrap_or(cfg.ext_time) && !a.no_ext_time;
    cfg.close_session_packet = a.close_session_packet;
    cfg.faults = faults;
    let virtual_clock = a.pcap_out.is_some();
    let start = if virtual_clock {
        VIRTUAL_START
    } else {
        wall_clock()
    };
    let mut sender = match Sender::new(cfg.clone()) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    for s in specs {
        let name = s.name.clone();
        match sender.add_object(s) {
            Ok(toi) => eprintln!("TOI {toi}: {name}"),
            Err(e) => return usage(format!("{name}: {e}")),
        }
    }
    if let Err(e) = sender.commit(start, true) {
        return usage(e);
    }
    let sdp = SessionDescription {
        source: cfg.source,
        tsi: cfg.tsi,
        channels: vec![cfg.destination],
        ttl: a.ttl,
        mode,
        fec_encoding_id: cfg.fec.encoding_id,
        rate_bps: cfg.rate_bps,
        payload_length: cfg.fec.symbol_length,
    }
    .to_sdp(cfg.tsi);
    if let Some(p) = &a.sdp_out {
        if let Err(e) = std::fs::write(p, &sdp) {
            eprintln!("rmt-ref: cannot write {}: {e}", p.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    }
    let _server = match a.serve_sdp.map(|addr| SdpServer::start(addr, sdp.clone())) {
        Some(Ok(s)) => {
            eprintln!("serving the SDP at http://{}/session.sdp", s.addr);
            std::thread::sleep(Duration::from_secs_f64(a.sdp_lead.clamp(0.0, 3600.0)));
            Some(s)
        }
        Some(Err(e)) => {
            eprintln!("rmt-ref: cannot serve the SDP: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
        None => None,
    };
    if let Some(path) = &a.pcap_out {
        return match send_to_capture(&mut sender, path, start, 4000, 100_000_000) {
            Ok(n) => {
                eprintln!("{n} datagrams written to {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rmt-ref: {}: {e}", path.display());
                ExitCode::from(EXIT_RUNTIME)
            }
        };
    }
    let mut o = SocketOptions {
        ttl: Some(a.ttl),
        bind: a.source,
        ..Default::default()
    };
    if let Err(e) = interface(&mut o, &a.iface) {
        return usage(e);
    }
    let socket = match sender_socket(a.group, &o) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rmt-ref: socket for {}: {e}", a.group);
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let tty = std::io::stderr().is_terminal();
    match run_sender(&mut sender, &socket, None, a.gso, |r| {
        if tty {
            eprint!(
                "\r{} datagrams, {:.1} MB, {:.1} s",
                r.datagrams,
                r.bytes as f64 / 1e6,
                r.elapsed.as_secs_f64()
            );
        }
    }) {
        Ok(r) => {
            if tty {
                eprintln!();
            }
            let secs = r.elapsed.as_secs_f64().max(1e-9);
            eprintln!(
                "sent {} datagrams, {} bytes in {:.3} s ({:.1} Mbit/s)",
                r.datagrams,
                r.bytes,
                secs,
                r.bytes as f64 * 8.0 / secs / 1e6
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rmt-ref: sending to {}: {e}", a.group);
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// The SDP server may start a moment after the receiver: try for up to 5 s.
fn fetch_with_retries(url: &str) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..25 {
        match get(url) {
            Ok(body) => return Ok(body),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(last)
}

fn recv(a: RecvArgs) -> ExitCode {
    let mut mode = if a.fcast { Mode::Fcast } else { Mode::Flute };
    let mut group = a.group;
    let mut source = a.source;
    let mut tsi = a.tsi;
    let mut fec_id = a.fec_id;
    if let Some(s) = &a.sdp {
        let text = if s.starts_with("http://") {
            fetch_with_retries(s)
        } else {
            std::fs::read_to_string(s).map_err(|e| format!("{s}: {e}"))
        };
        let d = match text.and_then(|t| SessionDescription::parse(&t)) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("rmt-ref: session description: {e}");
                return ExitCode::from(EXIT_INPUT);
            }
        };
        mode = if a.fcast || a.flute { mode } else { d.mode };
        group = Some(d.channels[0]);
        source = source.or(Some(d.source));
        tsi = tsi.or(Some(d.tsi));
        if d.mode == Mode::Fcast {
            fec_id = fec_id.or(Some(d.fec_encoding_id));
        }
    }
    let mut rc = ReceiverConfig::new(mode, 0);
    rc.tsi = tsi;
    rc.source = source;
    rc.fec_encoding_id = fec_id;
    rc.max_objects = a.max_objects;
    rc.max_buffered_bytes = a.max_buffered;
    rc.max_object_bytes = a.max_object;
    let mut receiver = Receiver::new(rc);
    let mut out = match OutputDir::create(&a.out) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rmt-ref: output folder {}: {e}", a.out.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let mut write_error = None;
    let mut on_event = |e: Event| match e {
        Event::Delivered(d) => match out.write(&d) {
            Ok(m) => println!(
                "TSI {} TOI {} {} {} bytes sha256 {}",
                m.tsi, m.toi, m.path, m.size, m.sha256
            ),
            Err(err) => write_error = Some(format!("{}: {err}", d.name)),
        },
        Event::Abandoned { toi, reason } => eprintln!("TOI {toi} not delivered: {reason}"),
        Event::FdtIgnored {
            instance_id,
            reason,
        } => eprintln!("FDT Instance {instance_id} ignored: {reason}"),
        Event::SessionComplete => eprintln!("session complete"),
        Event::SessionClosed => eprintln!("session closed"),
        Event::FdtInstance { .. } | Event::Cid { .. } => {}
    };
    let mut code = ExitCode::SUCCESS;
    if let Some(path) = &a.pcap {
        let filter = FlowFilter {
            ports: a.decode_as.clone(),
            destination: group.map(|g| g.ip()),
        };
        match receive_capture(path, &filter, &mut receiver, &mut on_event) {
            Ok(r) => {
                eprintln!(
                    "{} frames, {} datagrams of the session",
                    r.frames, r.datagrams
                );
                if let Some(d) = r.damaged {
                    eprintln!("rmt-ref: {}: {d}", path.display());
                    code = ExitCode::from(EXIT_DAMAGED);
                }
            }
            Err(e) => {
                eprintln!("rmt-ref: {}: {e}", path.display());
                return ExitCode::from(EXIT_INPUT);
            }
        }
    } else {
        let Some(g) = group else {
            return usage("give --pcap FILE, --sdp FILE|URL or --group ADDR:PORT");
        };
        let mut o = SocketOptions::default();
        if let Err(e) = interface(&mut o, &a.iface) {
            return usage(e);
        }
        let socket = match receiver_socket(g, source.filter(|_| g.ip().is_multicast()), &o) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rmt-ref: joining {g}: {e}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        };
        let limit = a
            .duration
            .map(|d| Duration::from_secs_f64(d.clamp(0.0, 1e7)));
        let tty = std::io::stderr().is_terminal();
        match run_receiver(
            &mut receiver,
            &socket,
            limit,
            Duration::from_secs_f64(a.idle.clamp(0.1, 1e7)),
            &mut on_event,
            |r, rx| {
                if tty {
                    let s = rx.stats();
                    eprint!(
                        "\r{} datagrams, {:.1} MB, {} delivered, {} in flight   ",
                        r.datagrams,
                        r.bytes as f64 / 1e6,
                        s.delivered,
                        rx.objects_in_flight()
                    );
                }
            },
        ) {
            Ok(r) => {
                eprintln!(
                    "{} datagrams received; stopped: {}",
                    r.datagrams, r.ended_by
                );
                if let (Some(first), Some(last)) = (r.first, r.last) {
                    let secs = last.saturating_sub(first).as_secs_f64().max(1e-6);
                    let delivered: u64 = out.entries.iter().map(|e| e.size).sum();
                    eprintln!(
                        "goodput {:.1} Mbit/s ({delivered} bytes delivered, {:.3} s from first to last datagram)",
                        delivered as f64 * 8.0 / secs / 1e6,
                        secs
                    );
                }
            }
            Err(e) => {
                eprintln!("rmt-ref: receiving on {g}: {e}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        }
    }
    let s = receiver.stats();
    eprintln!(
        "delivered {}, abandoned {}; packets {}, malformed {}, foreign {}, after close {}, capped {}",
        s.delivered, s.abandoned, s.packets, s.malformed, s.foreign, s.after_close, s.capped
    );
    if let Some(e) = write_error {
        eprintln!("rmt-ref: writing {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    code
}
