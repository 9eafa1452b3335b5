//! `rmt-conform`: run the RFC-keyed conformance suite.
//!
//! Exit codes: 0 every required case passed; 1 a conformance failure (or an xpass); 2 usage
//! error or an empty selection; 3 an infrastructure error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use rmt_conformance::catalogue::{play_order, receiver_cases, sender_cases, Case};
use rmt_conformance::outcome::exit_code;
use rmt_conformance::report;
use rmt_conformance::runner::{run_receiver_suite, suite_exit_code, CaseResult, RunOptions};
use rmt_conformance::sender::judge_sender;
use rmt_conformance::sut;
use rmt_inspector::inspect::check::check_capture_content;
use rmt_inspector::wire::alc::AlcContext;
use rmt_reference::netns::Namespace;

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
    },
    /// Print docs/requirements.md (or check that FILE is current).
    Requirements {
        #[arg(long)]
        check: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LabCmd {
    /// WEBRC (RFC 3738): the reference sender and one reference receiver per shaped link;
    /// each receiver's rate against its capacity, its loss, and its layer changes judged from
    /// its log and from the joins and leaves seen on the bridge.
    Webrc(LabWebrcArgs),
    /// Remove the namespaces of labs whose process was killed (each lab build does it too).
    Clean,
}

#[derive(clap::Args)]
struct LabWebrcArgs {
    /// A receiver behind a link of this shape (repeatable): `RATE[,delay=MS][,loss=P%][,queue=N]`,
    /// e.g. 8mbit,delay=10ms (delay and loss need sch_netem). Default: 2, 8 and 30 Mbit/s.
    #[arg(long = "link")]
    links: Vec<rmt_conformance::lab::LinkShape>,
    /// Also a receiver host whose link of this shape carries a competing TCP flow from the
    /// sender's host (RFC 3738's TCP-friendliness).
    #[arg(long)]
    tcp: Option<rmt_conformance::lab::LinkShape>,
    /// Seconds the sender sends.
    #[arg(long, default_value_t = 270.0)]
    duration: f64,
    /// Seconds at the start left out of the averages (convergence).
    #[arg(long, default_value_t = 150.0)]
    warmup: f64,
    /// N: active wave channels of the sender (TSD 1 s, BCR_P 20 packets/s, QD 10 s).
    #[arg(long, default_value_t = 22)]
    waves: u32,
    /// How hosts reach the bridge: direct (veth), gretap or vxlan (tunnels over a routed
    /// unicast underlay; 38 or 50 bytes less MTU).
    #[arg(long, value_enum, default_value = "direct")]
    overlay: OverlayArg,
    /// One-way delay, ms, added after each receiver's link by the reference receiver (the
    /// path's round trip, which WEBRC's rate equation needs; works without tc netem).
    #[arg(long, default_value_t = 150.0)]
    receiver_delay_ms: f64,
    /// P: the sender's rate decay per slot (RFC 3738's default is 0.75; 0.85 makes layers a
    /// factor 1.18 apart instead of 1.33).
    #[arg(long, default_value_t = 0.85)]
    p: f64,
    /// Write the receivers' logs, the bridge's membership events and the plots (waves.svg,
    /// receivers.svg) here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also fail (exit 1) when a receiver gets less than 90% of its link or more than 1% loss
    /// (on the TCP-shared link: when WEBRC and TCP are more than a factor 2 apart).
    #[arg(long)]
    require_targets: bool,
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
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct SenderArgs {
    /// A capture of the sender's traffic.
    #[arg(long, required_unless_present_any = ["iface", "exec"])]
    pcap: Option<PathBuf>,
    /// Capture live on this interface (with rmt-inspect; root or CAP_NET_RAW).
    #[arg(long, conflicts_with_all = ["pcap", "exec"])]
    iface: Option<String>,
    /// With --iface: join this group (`GROUP[,SOURCE]`), so that IGMP snooping delivers it.
    #[arg(long, requires = "iface")]
    join: Vec<String>,
    /// With --iface or --exec: capture for this many seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Run this sender command in a network namespace created for it (root and ip(8)),
    /// capture what it sends on the namespace's loopback, and stop it after --duration.
    /// Placeholders: {group} (233.252.0.1), {port} (3400).
    #[arg(long, conflicts_with = "pcap")]
    exec: Option<String>,
    /// UDP ports carrying ALC, tshark style (udp.port==P); default: the heuristic.
    #[arg(short = 'd', value_parser = parse_decode_as)]
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
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Flute,
    Fcast,
}

fn parse_decode_as(s: &str) -> Result<u16, String> {
    s.strip_prefix("udp.port==")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("{s:?}: expected udp.port==PORT"))
}

fn select(cases: Vec<Case>, prefixes: &[String]) -> Vec<Case> {
    cases
        .into_iter()
        .filter(|c| prefixes.is_empty() || prefixes.iter().any(|p| c.id.starts_with(p.as_str())))
        .collect()
}

fn finish(sut: &str, seed: u64, results: &[CaseResult], common: &Common, code: u8) -> ExitCode {
    println!("{}", report::table(results));
    println!("{}", report::summary(results));
    if let Some(p) = &common.json {
        if let Err(e) = std::fs::write(p, report::json(sut, seed, results)) {
            eprintln!("rmt-conform: {}: {e}", p.display());
            return ExitCode::from(3);
        }
    }
    if let Some(p) = &common.junit {
        if let Err(e) = std::fs::write(p, report::junit(sut, results)) {
            eprintln!("rmt-conform: {}: {e}", p.display());
            return ExitCode::from(3);
        }
    }
    ExitCode::from(code)
}

/// `rmt-inspect`: next to this binary, else on PATH.
fn rmt_inspect() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.join("rmt-inspect")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("rmt-inspect"))
}

/// The capture to judge: a file, a live capture, or the traffic of a command in a namespace.
fn sender_capture(a: &SenderArgs) -> Result<(Vec<u8>, String), String> {
    if let Some(p) = &a.pcap {
        let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        return Ok((b, p.display().to_string()));
    }
    let tmp =
        std::env::temp_dir().join(format!("rmt-conform-sender-{}.pcapng", std::process::id()));
    let secs = a.duration.clamp(0.5, 3600.0).to_string();
    let status = if let Some(iface) = &a.iface {
        let mut c = std::process::Command::new(rmt_inspect());
        c.args([
            "-i",
            iface,
            "--duration",
            &secs,
            "-q",
            "-w",
            tmp.to_str().unwrap_or_default(),
        ]);
        for j in &a.join {
            c.args(["--join", j]);
        }
        c.status().map_err(|e| format!("rmt-inspect: {e}"))?
    } else {
        let cmd = a
            .exec
            .as_deref()
            .unwrap_or_default()
            .replace("{group}", "233.252.0.1")
            .replace("{port}", "3400");
        Namespace::available()?;
        let ns = Namespace::create(&format!("rmtkit-conform-{}", std::process::id()))
            .map_err(|e| e.to_string())?;
        let mut capture = ns
            .command(rmt_inspect().to_str().unwrap_or("rmt-inspect"))
            .args([
                "-i",
                "lo",
                "--duration",
                &secs,
                "-q",
                "-w",
                tmp.to_str().unwrap_or_default(),
            ])
            .spawn()
            .map_err(|e| format!("rmt-inspect: {e}"))?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut sender = ns
            .command("sh")
            .args(["-c", &cmd])
            .spawn()
            .map_err(|e| format!("{cmd}: {e}"))?;
        let status = capture.wait().map_err(|e| e.to_string())?;
        if sender.try_wait().ok().flatten().is_none() {
            let _ = sender.kill();
        }
        let _ = sender.wait();
        drop(ns);
        status
    };
    if !status.success() {
        return Err(format!("the live capture failed ({status})"));
    }
    let b = std::fs::read(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let _ = std::fs::remove_file(&tmp);
    Ok((b, a.iface.clone().or(a.exec.clone()).unwrap_or_default()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let scenarios = match rmt_vectors::scenario::load_scenarios() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rmt-conform: scenarios: {e}");
            return ExitCode::from(3);
        }
    };
    match cli.command {
        Cmd::List { format } => {
            let mut all = sender_cases();
            all.extend(receiver_cases(&scenarios));
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
        } => lab_webrc(a),
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
        Cmd::Mutants { format } => {
            let work = std::env::temp_dir().join(format!("rmt-mutants-{}", std::process::id()));
            let m = rmt_conformance::mutants::matrix(&scenarios, &work);
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
                }
                Format::Json => println!("{}", rmt_conformance::mutants::json(&m)),
            }
            if killed == total && m.reference_not_passing.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Cmd::Requirements { check } => {
            let digest = include_str!("../../../docs/rfc-digest.md");
            let mut all = sender_cases();
            all.extend(receiver_cases(&scenarios));
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
            let declared = a.mode.map(|m| match m {
                ModeArg::Flute => rmt_reference::sender::Mode::Flute,
                ModeArg::Fcast => rmt_reference::sender::Mode::Fcast,
            });
            let mut results = judge_sender(&cases, &findings, &content, declared, a.common.strict);
            if !a.webrc {
                for r in &mut results {
                    if rmt_conformance::catalogue::needs_webrc(&r.id) {
                        r.outcome = rmt_conformance::outcome::Outcome::Skipped;
                        r.detail = "a WEBRC case: run with --webrc".into();
                    }
                }
            }
            if declared.is_none()
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
            finish(&label, 0, &results, &a.common, exit_code(&outcomes))
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
            eprintln!(
                "rmt-conform: {} cases against {} (seed {})",
                cases.len(),
                profile.name,
                a.seed
            );
            let results = run_receiver_suite(&cases, &scenarios, &profile, &opts, |r| {
                eprintln!("  {:<60} {}", r.id, r.outcome.as_str())
            });
            let _ = std::fs::remove_dir_all(&work);
            finish(
                &profile.name,
                a.seed,
                &results,
                &a.common,
                suite_exit_code(&results),
            )
        }
    }
}

fn lab_webrc(a: LabWebrcArgs) -> ExitCode {
    use rmt_conformance::lab::{plot, webrc, Overlay};
    let mut config = webrc::WebrcLabConfig::example();
    if !a.links.is_empty() {
        config.receivers = a.links;
    }
    if config.receivers.iter().any(|l| l.rate_bps.is_none()) {
        eprintln!(
            "rmt-conform: every --link needs a rate (e.g. 8mbit): the report compares with it"
        );
        return ExitCode::from(2);
    }
    config.tcp = a.tcp;
    config.sender = rmt_reference::webrc::schedule::WebrcParams {
        p: a.p,
        ..rmt_reference::webrc::schedule::WebrcParams::fast(a.waves)
    };
    if !(0.0..=1000.0).contains(&a.receiver_delay_ms) {
        eprintln!("rmt-conform: --receiver-delay-ms is 0 to 1000");
        return ExitCode::from(2);
    }
    config.receiver_delay = std::time::Duration::from_secs_f64(a.receiver_delay_ms / 1e3);
    if !(a.duration > 0.0 && a.duration <= 3600.0 && a.warmup >= 0.0 && a.warmup < a.duration) {
        eprintln!("rmt-conform: need 0 < --duration <= 3600 and 0 <= --warmup < --duration");
        return ExitCode::from(2);
    }
    config.duration = std::time::Duration::from_secs_f64(a.duration);
    config.warmup = std::time::Duration::from_secs_f64(a.warmup);
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
        a.duration,
        a.warmup,
        config.overlay.name()
    );
    let report = match webrc::run(&config) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("rmt-conform: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("rmt-conform: lab: {e}");
            return ExitCode::from(3);
        }
    };
    if let Some(dir) = &a.out {
        let plots = plot::plot_waves(&config.sender, &dir.join("waves.svg"))
            .and_then(|()| plot::plot_receivers(&report, &dir.join("receivers.svg")));
        if let Err(e) = plots {
            eprintln!("rmt-conform: {e}");
            return ExitCode::from(3);
        }
    }
    match a.format {
        Format::Json => println!("{}", serde_json::to_string(&report).expect("serialisable")),
        Format::Table => print!("{}", webrc::render_table(&report)),
    }
    let targets = report.receivers.iter().all(|r| r.meets_target());
    if !report.checks_passed() || (a.require_targets && !targets) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
