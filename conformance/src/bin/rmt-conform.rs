//! `rmt-conform`: run the RFC-keyed conformance suite.
//!
//! Exit codes: 0 every required case passed; 1 a conformance failure (or an xpass); 2 usage
//! error or an empty selection; 3 an infrastructure error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use rmt_inspector::cli_docs::{self, Generated};
use rmt_inspector::progress;

use rmt_conformance::catalogue::{play_order, receiver_cases, sender_cases, Case};
use rmt_conformance::html::{self, Evidence};
use rmt_conformance::outcome::exit_code;
use rmt_conformance::report;
use rmt_conformance::runner::{run_receiver_suite, suite_exit_code, CaseResult, RunOptions};
use rmt_conformance::sender::{judge_sender, Declared};
use rmt_conformance::sut;
use rmt_conformance::transport::{Network, Transport};
use rmt_inspector::inspect::check::check_capture_content;
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::flute_flavor::FluteFlavor;

#[derive(Parser)]
#[command(
    name = "rmt-conform",
    version,
    about = "RFC-keyed conformance suite for ALC/FLUTE/FCAST senders and receivers"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the cases.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Receiver conformance: play the scenarios against a system under test.
    Run(RunArgs),
    /// Sender conformance from a capture.
    Sender(SenderArgs),
    /// The network lab: hosts in network namespaces behind an IGMP-snooping bridge, shaped
    /// links, optional tunnels (root and ip(8), tc(8), bridge(8)).
    Lab {
        #[command(subcommand)]
        command: LabCmd,
    },
    /// The suite against deliberately broken receivers and senders (the reference with one bug
    /// each): prints the kill matrix and the mutation score. Exit 1 when a mutant survives the
    /// cases meant for it or the reference fails a case.
    Mutants {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// The lab section (the WEBRC receiver mutants in a lab run of 30 s, root): auto runs
        /// it where a network namespace can be made.
        #[arg(long, value_enum, default_value = "auto")]
        lab: LabSection,
    },
    /// The interop matrix (quic-interop-runner style): each receiver profile played each FLUTE
    /// flavour of our sender, and each third-party sender profile run in a namespace and
    /// judged by the sender cases. Writes OUT/matrix.json and OUT/index.html (one page, a
    /// coloured cell per run linking to its cases, logs, captures and RFC sentences). Exit 1
    /// when a cell fails, 3 when one could not be tested.
    Matrix(MatrixArgs),
    /// Print docs/requirements.md (or check that FILE is current).
    Requirements {
        #[arg(long)]
        check: Option<PathBuf>,
    },
    /// Print rmt-conform's man page or its completions for a shell.
    Generate {
        #[arg(value_enum)]
        kind: Generated,
    },
}

#[derive(Subcommand)]
enum LabCmd {
    /// WEBRC (RFC 3738): the reference sender and one reference receiver per shaped link;
    /// each receiver's rate against its capacity, its loss, and its layer changes judged from
    /// the network: the sender's schedule, the joins and leaves seen on the bridge and the
    /// packets that reached the receiver's host.
    Webrc(Box<LabWebrcArgs>),
    /// Remove the namespaces of labs and runs whose process was killed (each lab build, run and
    /// matrix does it too).
    Clean,
}

#[derive(clap::Args)]
struct LabWebrcArgs {
    /// A receiver behind a link of this shape (repeatable): `RATE[,delay=MS][,loss=P%][,queue=N]`,
    /// e.g. 8mbit,delay=10ms (delay and loss need sch_netem). Default: 1, 3, 6, 12, 25 and 50
    /// Mbit/s; the sender's waves reach the fastest.
    #[arg(long = "link")]
    links: Vec<rmt_conformance::lab::LinkShape>,
    /// Also a receiver host whose link of this shape carries a competing TCP flow from the
    /// sender's host (RFC 3738's TCP-friendliness; default 8mbit).
    #[arg(long)]
    tcp: Option<rmt_conformance::lab::LinkShape>,
    /// No TCP-shared link.
    #[arg(long, conflicts_with = "tcp")]
    no_tcp: bool,
    /// Seconds the sender sends (default 240; 40 with `--mutant all`).
    #[arg(long)]
    duration: Option<f64>,
    /// Seconds at the start left out of the averages (default 90; half the run with
    /// `--mutant all`).
    #[arg(long)]
    warmup: Option<f64>,
    /// A WEBRC bug switched on in every receiver, to see the checks fail it (webrc-never-leaves,
    /// webrc-join-ignores-ctsi, webrc-joins-in-loss-event, webrc-joins-while-pending,
    /// webrc-leaves-highest, webrc-never-joins); `all`: the reference and one receiver per
    /// mutant, each behind the first --link (default 3mbit), the sender starting at CTSI 5.
    /// Exit 0 when each mutant fails the check written for its bug and each receiver without
    /// one passes every check.
    #[arg(long)]
    mutant: Option<String>,
    /// The time slot the sender starts in (its first CTSI is this mod T).
    #[arg(long)]
    start_slot: Option<u64>,
    /// N: active wave channels of the sender (TSD 1 s, QD 10 s; default: the fewest whose top
    /// rate reaches the fastest link at P 0.92 and BCR_P 5 packets/s; 12 at P 0.85 and BCR_P
    /// 20 with `--mutant all`).
    #[arg(long)]
    waves: Option<u32>,
    /// How hosts reach the bridge: direct (veth), gretap or vxlan (tunnels over a routed
    /// unicast underlay; 38 or 50 bytes less MTU).
    #[arg(long, value_enum, default_value = "direct")]
    overlay: OverlayArg,
    /// One-way delay, ms, added after each receiver's link by the reference receiver (the
    /// path's round trip, which WEBRC's rate equation needs; works without tc netem).
    #[arg(long, default_value_t = 150.0)]
    receiver_delay_ms: f64,
    /// P: the sender's rate decay per slot (RFC 3738's default is 0.75, layers a factor 1.33
    /// apart; default 0.92, a factor 1.09: docs/webrc.md shows why).
    #[arg(long)]
    p: Option<f64>,
    /// Write the receivers' logs, the bridge's membership events and the plots (waves.svg,
    /// receivers.svg) here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also fail (exit 1) when a receiver gets less than 90% of its link or more than 1% loss
    /// (on the TCP-shared link: when WEBRC and TCP are more than a factor 2 apart); with
    /// --repeat, on the mean of the runs.
    #[arg(long)]
    require_targets: bool,
    /// Run the lab N times (the sender starting in slots 0, 7, 14, ... after --start-slot) and
    /// report per receiver the mean, min and max over the runs; with --out, run K's files go
    /// to OUT/run-K.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    repeat: u32,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum LabSection {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum OverlayArg {
    Direct,
    Gretap,
    Vxlan,
}

#[derive(clap::Args)]
struct Common {
    /// Cases whose ID starts with this (repeatable; default: all).
    #[arg(long = "case")]
    cases: Vec<String>,
    /// SHOULD failures fail.
    #[arg(long)]
    strict: bool,
    #[arg(long)]
    json: Option<PathBuf>,
    #[arg(long)]
    junit: Option<PathBuf>,
    /// An HTML report: one self-contained page with the summary and, per case, the outcome,
    /// level, the RFC sentence, the detail and links to its evidence (the artifacts of
    /// --artifacts, or the capture a sender was judged from).
    #[arg(long)]
    html: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// A bundled profile (reference, rmt-ref) or a profile file (.yaml).
    #[arg(long, default_value = "reference")]
    sut: String,
    /// Seed of loss and faults (recorded in the reports; the default is 1).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A folder per case with the capture, the logs and the receiver's output.
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// How the datagrams reach a command receiver: multicast to 233.252.0.1 in a network
    /// namespace made for the run (root), or unicast on 127.0.0.1 (loopback); auto is
    /// multicast where a namespace can be made. Default: the profile's, else auto.
    #[arg(long, value_enum)]
    transport: Option<Transport>,
    /// The FLUTE flavour the scenarios are sent in (rfc6726, rfc3926, 3gpp, 3gpp-2022).
    /// Default: the profile's, else rfc6726.
    #[arg(long)]
    flavor: Option<FluteFlavor>,
    /// FLUTE sessions end with header-only close-session packets without TOI (on, as RFC 6726
    /// §3.1 and RFC 3926 §3 have it) or with A=1 on the last data packets (off): to tell
    /// whether a receiver's trouble at the end of a session comes from those packets.
    #[arg(long, value_parser = rmt_reference::driver::options::parse_on_off, default_value = "on", action = clap::ArgAction::Set)]
    close_session_packet: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct MatrixArgs {
    /// Receiver profiles (bundled name or .yaml; repeatable). Default: every bundled profile
    /// with a receiver.
    #[arg(long = "receiver")]
    receivers: Vec<String>,
    /// FLUTE flavours of our sender (repeatable). Default: all four.
    #[arg(long = "flavor")]
    flavors: Vec<FluteFlavor>,
    /// Third-party sender profiles (repeatable). Default: every bundled profile with a sender.
    #[arg(long = "sender")]
    senders: Vec<String>,
    /// No third-party senders.
    #[arg(long, conflicts_with = "senders")]
    no_senders: bool,
    /// Receiver cases whose ID starts with this (repeatable; default: all).
    #[arg(long = "case")]
    cases: Vec<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How datagrams reach command receivers (a profile's own `transport:` wins).
    #[arg(long, value_enum, default_value = "auto")]
    transport: Transport,
    /// The folder for matrix.json, index.html and every cell's artifacts.
    #[arg(long, default_value = "matrix")]
    out: PathBuf,
}

#[derive(clap::Args)]
struct SenderArgs {
    /// A capture of the sender's traffic.
    #[arg(long, required_unless_present_any = ["iface", "exec"])]
    pcap: Option<PathBuf>,
    /// Capture live on this interface (root or CAP_NET_RAW).
    #[arg(long, conflicts_with_all = ["pcap", "exec"])]
    iface: Option<String>,
    /// With --iface: join this group (`GROUP[,SOURCE]`), so that IGMP snooping delivers it.
    #[arg(long, requires = "iface")]
    join: Vec<rmt_inspector::capture::live::Join>,
    /// With --iface or --exec: capture for this many seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Run this sender command in a network namespace created for it (root and ip(8)),
    /// capture what it sends on the namespace's loopback, and stop it after --duration.
    /// Placeholders: {group} (233.252.0.1), {port} (3400).
    #[arg(long, conflicts_with = "pcap")]
    exec: Option<String>,
    /// UDP ports carrying ALC, tshark style (udp.port==P); default: the heuristic.
    #[arg(short = 'd', value_parser = rmt_inspector::inspect::dissect::parse_decode_as)]
    decode_as: Vec<u16>,
    /// The sender uses WEBRC: decode the CCI as WEBRC (RFC 3738 §5) and run the WEBRC cases
    /// (skipped otherwise).
    #[arg(long)]
    webrc: bool,
    /// The protocol the sender is meant to speak: its rules then apply even when the capture
    /// lacks what they judge (a FLUTE sender that never sends an FDT fails); the other
    /// protocol's cases are not-applicable. Default: what the capture shows.
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// The FLUTE flavour the sender speaks (rfc6726, rfc3926, 3gpp, 3gpp-2022): a v1 sender is
    /// judged by RFC 3926, not failed for lacking RFC 6726's forms. Default: what the capture
    /// shows (EXT_FDT version, FDT namespace).
    #[arg(long)]
    flavor: Option<FluteFlavor>,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Flute,
    Fcast,
}

fn select(cases: Vec<Case>, prefixes: &[String]) -> Vec<Case> {
    cases
        .into_iter()
        .filter(|c| prefixes.is_empty() || prefixes.iter().any(|p| c.id.starts_with(p.as_str())))
        .collect()
}

/// What a run hands to [`finish`] for its reports.
struct Run<'a> {
    sut: &'a str,
    seed: Option<u64>,
    context: &'a [(&'a str, String)],
    results: &'a [CaseResult],
    cases: &'a [Case],
    evidence: Evidence<'a>,
}

fn finish(run: Run, common: &Common, code: u8) -> ExitCode {
    let results = run.results;
    println!("{}", report::table(results));
    println!("{}", report::summary(results));
    let write = |p: &Path, text: String| {
        std::fs::write(p, text).map_err(|e| {
            eprintln!("rmt-conform: {}: {e}", p.display());
            ExitCode::from(3)
        })
    };
    if let Some(p) = &common.json {
        let doc = report::json(run.sut, run.seed.unwrap_or(0), run.context, results);
        if let Err(code) = write(p, doc) {
            return code;
        }
    }
    if let Some(p) = &common.junit {
        if let Err(code) = write(p, report::junit(run.sut, results)) {
            return code;
        }
    }
    if let Some(p) = &common.html {
        let mut siblings = Vec::new();
        siblings.extend(common.json.as_deref().map(|j| ("JSON report", j)));
        siblings.extend(common.junit.as_deref().map(|j| ("JUnit report", j)));
        let page = html::Report {
            sut: run.sut,
            seed: run.seed,
            context: run.context,
            results,
            cases: run.cases,
            evidence: run.evidence,
            siblings,
        };
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let _ = std::fs::create_dir_all(dir);
        if let Err(code) = write(p, html::report(&page, dir)) {
            return code;
        }
        eprintln!("rmt-conform: HTML report: {}", p.display());
    }
    ExitCode::from(code)
}

/// The capture to judge: a file, a live capture, or the traffic of a command in a namespace.
fn sender_capture(a: &SenderArgs) -> Result<(Vec<u8>, String), String> {
    if let Some(p) = &a.pcap {
        let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        return Ok((b, p.display().to_string()));
    }
    if let Some(iface) = &a.iface {
        let duration = std::time::Duration::from_secs_f64(a.duration.clamp(0.5, 3600.0));
        let b = rmt_inspector::capture::live::record(iface, &a.join, duration, || {})
            .map_err(|e| format!("the live capture failed: {e}"))?;
        return Ok((b, iface.clone()));
    }
    let cmd = a
        .exec
        .as_deref()
        .unwrap_or_default()
        .replace("{group}", "233.252.0.1")
        .replace("{port}", "3400");
    let b = rmt_conformance::sender_exec::capture_command(&cmd, a.duration)?;
    Ok((b, cmd))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Cmd::Generate { kind } = cli.command {
        return cli_docs::print(kind, Cli::command());
    }
    let scenarios = match rmt_vectors::scenario::load_scenarios() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rmt-conform: scenarios: {e}");
            return ExitCode::from(3);
        }
    };
    match cli.command {
        Cmd::Generate { .. } => unreachable!("handled before the scenarios are loaded"),
        Cmd::List { format } => {
            let mut all = sender_cases();
            all.extend(receiver_cases(&scenarios));
            all.extend(rmt_conformance::catalogue::lab_cases());
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&all).expect("serialisable")
                ),
                Format::Table => {
                    let mut t = comfy_table::Table::new();
                    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                        .set_header(vec!["case", "RFC", "§", "level", "role", "requirement"]);
                    for c in &all {
                        t.add_row(vec![
                            c.id.clone(),
                            c.rfc.to_string(),
                            c.section.clone(),
                            format!("{:?}", c.level).to_uppercase(),
                            format!("{:?}", c.role).to_lowercase(),
                            c.requirement.clone(),
                        ]);
                    }
                    println!("{t}");
                }
            }
            ExitCode::SUCCESS
        }
        Cmd::Lab {
            command: LabCmd::Webrc(a),
        } => lab_webrc(*a),
        Cmd::Lab {
            command: LabCmd::Clean,
        } => match rmt_conformance::lab::remove_stale_labs() {
            Ok(removed) => {
                for n in &removed {
                    println!("removed {n}");
                }
                eprintln!(
                    "rmt-conform: {} stale lab namespace(s) removed",
                    removed.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rmt-conform: lab clean: {e}");
                ExitCode::from(3)
            }
        },
        Cmd::Mutants { format, lab } => {
            let work = std::env::temp_dir().join(format!("rmt-mutants-{}", std::process::id()));
            let lab = match lab {
                LabSection::Never => Err("--lab never".to_string()),
                LabSection::Always => Ok(()),
                LabSection::Auto => rmt_reference::testkit::netns::Namespace::available()
                    .map_err(|why| format!("{why} (the lab needs root and ip(8))")),
            };
            let m = rmt_conformance::mutants::matrix(&scenarios, &work, lab);
            let _ = std::fs::remove_dir_all(&work);
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("rmt-conform: mutants: {e}");
                    return ExitCode::from(3);
                }
            };
            let (killed, total) = m.score();
            match format {
                Format::Table => {
                    println!("{}", rmt_conformance::mutants::table(&m));
                    println!(
                        "mutation score: {killed}/{total} mutants killed by the cases meant for them"
                    );
                    for r in &m.reference_not_passing {
                        println!("reference: {} {} ({})", r.id, r.outcome.as_str(), r.detail);
                    }
                    if let Some(why) = &m.lab_skipped {
                        println!("lab section (WEBRC receiver mutants) skipped: {why}");
                    }
                }
                Format::Json => println!("{}", rmt_conformance::mutants::json(&m)),
            }
            if killed == total && m.reference_not_passing.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Cmd::Matrix(a) => matrix(a, &scenarios),
        Cmd::Requirements { check } => {
            let digest = include_str!("../../../docs/rfc-digest.md");
            let mut all = sender_cases();
            all.extend(receiver_cases(&scenarios));
            all.extend(rmt_conformance::catalogue::lab_cases());
            let doc = rmt_conformance::requirements::document(digest, &all);
            match check {
                None => {
                    print!("{doc}");
                    ExitCode::SUCCESS
                }
                Some(p) => match std::fs::read_to_string(&p) {
                    Ok(existing) if existing == doc => ExitCode::SUCCESS,
                    Ok(_) => {
                        eprintln!("rmt-conform: {} is not current: run `cargo run -p rmt-conformance --bin rmt-conform -- requirements > {}`", p.display(), p.display());
                        ExitCode::from(1)
                    }
                    Err(e) => {
                        eprintln!("rmt-conform: {}: {e}", p.display());
                        ExitCode::from(2)
                    }
                },
            }
        }
        Cmd::Sender(a) => {
            let cases = select(sender_cases(), &a.common.cases);
            if cases.is_empty() {
                eprintln!("rmt-conform: no case matches {:?}", a.common.cases);
                return ExitCode::from(2);
            }
            let (bytes, label) = match sender_capture(&a) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("rmt-conform: {e}");
                    return ExitCode::from(3);
                }
            };
            let (findings, content) = match check_capture_content(
                &bytes,
                a.decode_as.clone(),
                AlcContext {
                    webrc: a.webrc,
                    ..AlcContext::default()
                },
            ) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("rmt-conform: {label}: {e}");
                    return ExitCode::from(3);
                }
            };
            let declared = Declared {
                mode: a.mode.map(|m| match m {
                    ModeArg::Flute => rmt_reference::sender::Mode::Flute,
                    ModeArg::Fcast => rmt_reference::sender::Mode::Fcast,
                }),
                flavor: a.flavor,
            };
            if let Some(f) = a.flavor.or(content.flute_flavor) {
                eprintln!(
                    "rmt-conform: FLUTE flavour {} ({})",
                    f.title(),
                    if a.flavor.is_some() {
                        "declared"
                    } else {
                        "what the capture shows"
                    }
                );
            }
            let mut results = judge_sender(&cases, &findings, &content, declared, a.common.strict);
            if !a.webrc {
                for r in &mut results {
                    if rmt_conformance::catalogue::needs_webrc(&r.id) {
                        r.outcome = rmt_conformance::outcome::Outcome::Skipped;
                        r.detail = "a WEBRC case: run with --webrc".into();
                    }
                }
            }
            if declared.mode.is_none()
                && content.data_tois > 0
                && content.flute_sessions == 0
                && content.fcast_objects == 0
            {
                eprintln!("rmt-conform: objects but no FDT Instance and no FCAST object: the FLUTE and FCAST cases are not-applicable; give --mode flute|fcast to judge the sender as one");
            }
            if content.alc_packets == 0 {
                for r in &mut results {
                    r.outcome = rmt_conformance::outcome::Outcome::CouldNotTest;
                    r.detail = "no ALC packet in the capture".into();
                }
            }
            let outcomes: Vec<_> = results.iter().map(|r| r.outcome).collect();
            // The capture the cases were judged from, for the HTML report to link: the file
            // given, or what was captured live, written beside the report.
            let kept = match (&a.pcap, &a.common.html) {
                (Some(p), _) => Some(p.clone()),
                (None, Some(h)) => {
                    let p = h.with_extension("pcap");
                    std::fs::write(&p, &bytes).ok().map(|_| p)
                }
                (None, None) => None,
            };
            let run = Run {
                sut: &label,
                seed: None,
                context: &[],
                results: &results,
                cases: &cases,
                evidence: kept.as_deref().map_or(Evidence::None, Evidence::Capture),
            };
            finish(run, &a.common, exit_code(&outcomes))
        }
        Cmd::Run(a) => {
            let profile = match sut::load(&a.sut) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("rmt-conform: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut cases = select(receiver_cases(&scenarios), &a.common.cases);
            if cases.is_empty() {
                eprintln!("rmt-conform: no case matches {:?}", a.common.cases);
                return ExitCode::from(2);
            }
            play_order(&mut cases);
            let work = std::env::temp_dir().join(format!("rmt-conform-{}", std::process::id()));
            let mut opts = RunOptions::new(a.seed, work.clone());
            opts.strict = a.common.strict;
            opts.artifacts = a.artifacts.clone();
            opts.sender.flavor = a.flavor.or(profile.flavor).unwrap_or_default();
            opts.sender.close_session_packet = a.close_session_packet;
            let transport = a.transport.or(profile.transport).unwrap_or(Transport::Auto);
            if profile
                .receiver
                .as_ref()
                .is_some_and(|r| r.command.is_some())
            {
                opts.network = match Network::open(transport) {
                    Ok(n) => n,
                    Err(e) => {
                        eprintln!("rmt-conform: {e}");
                        return ExitCode::from(3);
                    }
                };
            }
            eprintln!(
                "rmt-conform: {} cases against {} (seed {}, FLUTE flavour {}, {})",
                cases.len(),
                profile.name,
                a.seed,
                opts.sender.flavor,
                match opts.network.namespace() {
                    Some(ns) => format!(
                        "multicast to {} in namespace {ns}",
                        rmt_conformance::transport::GROUP
                    ),
                    None if profile
                        .receiver
                        .as_ref()
                        .is_some_and(|r| r.builtin.is_some()) =>
                        "in process".to_string(),
                    None => "unicast on loopback".to_string(),
                }
            );
            let bar = progress::bar(cases.len() as u64, "rmt-conform run", progress::Unit::Items);
            let results = run_receiver_suite(&cases, &scenarios, &profile, &opts, |r| {
                progress::println(&bar, format!("  {:<60} {}", r.id, r.outcome.as_str()));
                bar.inc(1);
            });
            bar.finish_and_clear();
            let _ = std::fs::remove_dir_all(&work);
            let transport = match profile.receiver.as_ref() {
                Some(r) if r.builtin.is_some() => "in-process",
                _ => opts.network.transport().as_str(),
            };
            let context = [
                ("transport", transport.to_string()),
                ("flavor", opts.sender.flavor.to_string()),
            ];
            let run = Run {
                sut: &profile.name,
                seed: Some(a.seed),
                context: &context,
                results: &results,
                cases: &cases,
                evidence: a
                    .artifacts
                    .as_deref()
                    .map_or(Evidence::None, Evidence::PerCase),
            };
            finish(run, &a.common, suite_exit_code(&results))
        }
    }
}

/// The bundled profiles (`conformance/suts/`) that `keep` selects, by name.
fn bundled_profiles(keep: impl Fn(&sut::Profile) -> bool) -> Result<Vec<String>, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suts");
    let mut names = Vec::new();
    for e in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let profile = sut::load(p.to_str().unwrap_or_default())?;
            if keep(&profile) {
                names.push(profile.name);
            }
        }
    }
    names.sort();
    Ok(names)
}

fn matrix(a: MatrixArgs, scenarios: &[rmt_vectors::scenario::Scenario]) -> ExitCode {
    let load_all = |names: Vec<String>| -> Result<Vec<sut::Profile>, String> {
        names.iter().map(|n| sut::load(n)).collect()
    };
    let receivers = if a.receivers.is_empty() {
        bundled_profiles(|p| p.receiver.is_some())
    } else {
        Ok(a.receivers.clone())
    };
    let senders = if a.no_senders {
        Ok(vec![])
    } else if a.senders.is_empty() {
        bundled_profiles(|p| p.sender.is_some())
    } else {
        Ok(a.senders.clone())
    };
    let (receivers, senders) = match (receivers.and_then(load_all), senders.and_then(load_all)) {
        (Ok(r), Ok(s)) => (r, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("rmt-conform: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = rmt_conformance::matrix::MatrixConfig {
        receivers,
        flavors: if a.flavors.is_empty() {
            FluteFlavor::ALL.to_vec()
        } else {
            a.flavors
        },
        senders,
        cases: a.cases,
        seed: a.seed,
        transport: a.transport,
        out: a.out.clone(),
    };
    let cells = (cfg.receivers.len() * cfg.flavors.len() + cfg.senders.len()) as u64;
    let bar = progress::bar(cells, "rmt-conform matrix", progress::Unit::Items);
    let mut started = 0;
    let run = rmt_conformance::matrix::run(&cfg, scenarios, |what| {
        // Called as each cell starts: the cells before it are done.
        bar.set_position(started);
        started += 1;
        bar.set_message(what.to_string());
        progress::println(&bar, format!("rmt-conform: matrix: {what}"));
    });
    bar.finish_and_clear();
    let m = match run {
        Ok(m) => m,
        Err(e) => {
            eprintln!("rmt-conform: matrix: {e}");
            return ExitCode::from(3);
        }
    };
    if let Err(e) = rmt_conformance::matrix::write(&m, &a.out) {
        eprintln!("rmt-conform: {}: {e}", a.out.display());
        return ExitCode::from(3);
    }
    for c in &m.receivers {
        let counts: Vec<String> = c.summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!(
            "{:<14} × {:<10} {}",
            c.receiver,
            c.flavor.name(),
            counts.join(", ")
        );
    }
    for s in &m.senders {
        let counts: Vec<String> = s.summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let what = if s.not_judged.is_empty() {
            counts.join(", ")
        } else {
            s.not_judged.clone()
        };
        println!("sender {:<14} {what}", s.sender);
    }
    println!("{}", a.out.join("index.html").display());
    ExitCode::from(m.exit_code())
}

fn lab_webrc(a: LabWebrcArgs) -> ExitCode {
    use rmt_conformance::lab::{plot, webrc, LinkShape, Overlay};
    use rmt_reference::webrc::mutant::WebrcMutant;
    let all_mutants = a.mutant.as_deref() == Some("all");
    let duration = a.duration.unwrap_or(if all_mutants { 40.0 } else { 240.0 });
    if !(duration > 0.0 && duration <= 3600.0) {
        eprintln!("rmt-conform: need 0 < --duration <= 3600");
        return ExitCode::from(2);
    }
    let mut config = if all_mutants {
        let link = a
            .links
            .first()
            .cloned()
            .unwrap_or_else(|| LinkShape::rate_mbit(3.0));
        webrc::WebrcLabConfig::mutants(link, std::time::Duration::from_secs_f64(duration))
    } else {
        let mut c = webrc::WebrcLabConfig::example();
        if !a.links.is_empty() {
            c.receivers = a.links.clone();
        }
        c
    };
    if config.receivers.iter().any(|l| l.rate_bps.is_none()) {
        eprintln!(
            "rmt-conform: every --link needs a rate (e.g. 8mbit): the report compares with it"
        );
        return ExitCode::from(2);
    }
    if a.tcp.is_some() {
        config.tcp = a.tcp.clone();
    }
    if a.no_tcp {
        config.tcp = None;
    }
    if !all_mutants {
        // The waves reach the fastest link (the TCP-shared one too), at P 0.92 or --p.
        let fastest = config
            .receivers
            .iter()
            .chain(config.tcp.iter())
            .filter_map(|l| l.rate_bps)
            .max()
            .unwrap_or(0);
        config.sender = rmt_reference::webrc::schedule::WebrcParams::reaching(
            webrc::packets_per_second(fastest as f64, 1500),
            a.p.unwrap_or(config.sender.p),
            config.sender.bcr_p,
        );
    } else if let Some(p) = a.p {
        config.sender.p = p;
    }
    if let Some(n) = a.waves {
        config.sender.n = n;
    }
    match a.mutant.as_deref() {
        None | Some("all") => {}
        Some(name) => match name.parse::<WebrcMutant>() {
            Ok(m) => config.mutants = vec![Some(m); config.receivers.len()],
            Err(e) => {
                eprintln!("rmt-conform: --mutant {e}");
                return ExitCode::from(2);
            }
        },
    }
    if let Some(slot) = a.start_slot {
        config.start_slot = slot;
    }
    let warmup = a.warmup.unwrap_or(config.warmup.as_secs_f64());
    if !(0.0..=1000.0).contains(&a.receiver_delay_ms) {
        eprintln!("rmt-conform: --receiver-delay-ms is 0 to 1000");
        return ExitCode::from(2);
    }
    config.receiver_delay = std::time::Duration::from_secs_f64(a.receiver_delay_ms / 1e3);
    if !(warmup >= 0.0 && warmup < duration) {
        eprintln!("rmt-conform: need 0 <= --warmup < --duration");
        return ExitCode::from(2);
    }
    config.duration = std::time::Duration::from_secs_f64(duration);
    config.warmup = std::time::Duration::from_secs_f64(warmup);
    config.overlay = match a.overlay {
        OverlayArg::Direct => Overlay::Direct,
        OverlayArg::Gretap => Overlay::Gretap,
        OverlayArg::Vxlan => Overlay::Vxlan,
    };
    config.out_dir = a.out.clone();
    eprintln!(
        "rmt-conform: WEBRC lab, {} receiver(s){}, {} s ({} s warm-up) over {} links",
        config.receivers.len(),
        if config.tcp.is_some() {
            " + a TCP-shared link"
        } else {
            ""
        },
        duration,
        warmup,
        config.overlay.name()
    );
    let mut reports = Vec::new();
    let first_slot = config.start_slot;
    for run in 0..a.repeat {
        if a.repeat > 1 {
            config.start_slot = first_slot + 7 * u64::from(run);
            config.out_dir = a.out.as_ref().map(|o| o.join(format!("run-{}", run + 1)));
            eprintln!(
                "rmt-conform: run {} of {} (start slot {})",
                run + 1,
                a.repeat,
                config.start_slot
            );
        }
        let report = match lab_webrc_once(&config, duration) {
            Ok(r) => r,
            Err(code) => return code,
        };
        if let Some(dir) = &config.out_dir {
            let plots = plot::plot_waves(&config.sender, &dir.join("waves.svg"))
                .and_then(|()| plot::plot_receivers(&report, &dir.join("receivers.svg")));
            if let Err(e) = plots {
                eprintln!("rmt-conform: {e}");
                return ExitCode::from(3);
            }
        }
        if matches!(a.format, Format::Table) {
            print!("{}", webrc::render_table(&report));
        }
        reports.push(report);
    }
    let rows = webrc::repeated(&reports);
    match a.format {
        Format::Json if a.repeat == 1 => println!(
            "{}",
            serde_json::to_string(&reports[0]).expect("serialisable")
        ),
        Format::Json => println!(
            "{}",
            serde_json::json!({ "runs": reports, "receivers": rows })
        ),
        Format::Table if a.repeat > 1 => {
            print!(
                "\nover {} runs (the target judged on the mean):\n{}",
                a.repeat,
                webrc::render_repeated(&rows)
            )
        }
        Format::Table => {}
    }
    let checks = reports.iter().all(|r| r.checks_passed());
    let targets = rows.iter().all(|r| r.meets_target());
    if !checks || (a.require_targets && !targets) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// One run of the WEBRC lab with its progress bar; the exit code on an error.
fn lab_webrc_once(
    config: &rmt_conformance::lab::webrc::WebrcLabConfig,
    duration: f64,
) -> Result<rmt_conformance::lab::webrc::WebrcLabReport, ExitCode> {
    // The lab runs on the wall clock: the bar follows the seconds of the run.
    let bar = progress::bar(
        duration.ceil() as u64,
        "rmt-conform lab",
        progress::Unit::Seconds,
    );
    let ticking = (!bar.is_hidden()).then(|| {
        let bar = bar.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while !bar.is_finished() {
                bar.set_position(start.elapsed().as_secs().min(bar.length().unwrap_or(0)));
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })
    });
    let report = rmt_conformance::lab::webrc::run(config);
    bar.finish_and_clear();
    if let Some(t) = ticking {
        let _ = t.join();
    }
    match report {
        Ok(r) => Ok(r),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("rmt-conform: {e}");
            Err(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!("rmt-conform: lab: {e}");
            Err(ExitCode::from(3))
        }
    }
}
