//! Running receiver cases: play the scenario, deliver its datagrams to the system under test
//! (in process, or over UDP on loopback to a command), then judge what it wrote to its output
//! folder, whether it stayed alive and how it ended.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rmt_reference::driver::capture::VIRTUAL_START;
use rmt_reference::driver::output::OutputDir;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::sender::{Mode, Transmit};
use rmt_reference::time::wall_clock;
use rmt_vectors::scenario::{Edit, Level, Scenario};

use crate::catalogue::Case;
use crate::outcome::Outcome;
use crate::play::{play, Played};
use crate::sut::{expand, Profile, ReceiverAdapter};

#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseResult {
    pub id: String,
    pub rfc: u16,
    pub section: String,
    pub level: Level,
    pub role: crate::catalogue::Role,
    pub outcome: Outcome,
    pub detail: String,
    pub duration_ms: u128,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    /// SHOULD failures fail.
    pub strict: bool,
    /// A folder per case with the capture, the logs and the receiver's output.
    pub artifacts: Option<PathBuf>,
    /// Scratch space.
    pub work: PathBuf,
}

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn result(case: &Case, outcome: Outcome, detail: String, started: Instant) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        rfc: case.rfc,
        section: case.section.clone(),
        level: case.level,
        role: case.role,
        outcome,
        detail,
        duration_ms: started.elapsed().as_millis(),
    }
}

/// What the receiver did, seen from outside.
struct Observed {
    /// File name (last path component) -> bytes, for every file in the output folder.
    files: BTreeMap<String, Vec<u8>>,
    /// It ended by itself before being stopped.
    ended_by_itself: bool,
    /// Why it is not judged (crash, unsupported, infrastructure).
    verdict: Option<(Outcome, String)>,
    log: String,
}

fn collect_files(dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else if let (Some(name), Ok(bytes)) = (p.file_name(), std::fs::read(&p)) {
            let name = name.to_string_lossy().into_owned();
            if name != rmt_reference::driver::output::MANIFEST {
                out.insert(name, bytes);
            }
        }
    }
}

fn clock_ahead(s: &Scenario) -> Duration {
    s.edits
        .iter()
        .map(|e| match e {
            Edit::ClockAhead { seconds } => Duration::from_secs(*seconds),
            _ => Duration::ZERO,
        })
        .sum()
}

fn run_builtin(played: &Played, out: &Path) -> Result<Observed, String> {
    let mut rc = ReceiverConfig::new(played.mode, played.tsi);
    rc.source = Some(LOOPBACK);
    let mut r = Receiver::new(rc);
    let mut dir = OutputDir::create(out).map_err(|e| e.to_string())?;
    let mut ended = false;
    let mut log = String::new();
    let mut take = |r: &mut Receiver, ended: &mut bool, log: &mut String| -> Result<(), String> {
        while let Some(e) = r.poll_event() {
            match e {
                Event::Delivered(d) => {
                    dir.write(&d).map_err(|e| e.to_string())?;
                }
                Event::SessionComplete | Event::SessionClosed => *ended = true,
                Event::Abandoned { toi, reason } => {
                    log.push_str(&format!("TOI {toi} abandoned: {reason}\n"))
                }
                Event::FdtIgnored {
                    instance_id,
                    reason,
                } => log.push_str(&format!("FDT {instance_id} ignored: {reason}\n")),
                _ => {}
            }
        }
        Ok(())
    };
    for t in &played.transmits {
        r.handle(t.at + played.clock_ahead, t.source, &t.payload);
        take(&mut r, &mut ended, &mut log)?;
    }
    let ended_by_itself = ended;
    r.close("end of the scenario");
    take(&mut r, &mut ended, &mut log)?;
    log.push_str(&format!("{:?}\n", r.stats()));
    let mut files = BTreeMap::new();
    collect_files(out, &mut files);
    Ok(Observed {
        files,
        ended_by_itself,
        verdict: None,
        log,
    })
}

fn free_udp_port() -> std::io::Result<u16> {
    Ok(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn stop(child: &mut Child) {
    // SAFETY: kill(2) on our own child's PID.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn run_command(
    played: &Played,
    a: &ReceiverAdapter,
    template: &str,
    out: &Path,
    fec_id: u8,
) -> Result<Observed, String> {
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let port = free_udp_port().map_err(|e| e.to_string())?;
    let sdp_path = out.with_extension("sdp");
    let sdp = rmt_reference::sdp::SessionDescription {
        source: LOOPBACK,
        tsi: played.tsi,
        channels: vec![SocketAddr::new(LOOPBACK, port)],
        ttl: 1,
        mode: played.mode,
        fec_encoding_id: fec_id,
        rate_bps: 20_000_000,
        payload_length: 1000,
    };
    std::fs::write(&sdp_path, sdp.to_sdp(played.tsi)).map_err(|e| e.to_string())?;
    let vars: BTreeMap<&str, String> = [
        ("port", port.to_string()),
        ("group", "127.0.0.1".to_string()),
        ("source", "127.0.0.1".to_string()),
        ("tsi", played.tsi.to_string()),
        (
            "mode",
            if played.mode == Mode::Flute {
                "flute"
            } else {
                "fcast"
            }
            .to_string(),
        ),
        ("fec_id", fec_id.to_string()),
        ("out", out.display().to_string()),
        ("sdp", sdp_path.display().to_string()),
        (
            "adapters",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("adapters")
                .display()
                .to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let cmd = expand(template, &vars);
    let mut child = Command::new("sh")
        .args(["-c", &cmd])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    // Ready when the receiver has bound the port (or after startup_ms, whichever is later,
    // bounded at ten times that).
    std::thread::sleep(Duration::from_millis(a.startup_ms));
    let ready_by = Instant::now() + Duration::from_millis(a.startup_ms * 10);
    while Instant::now() < ready_by && UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut sockets: BTreeMap<IpAddr, UdpSocket> = BTreeMap::new();
    let dest = SocketAddr::new(LOOPBACK, port);
    let t0 = Instant::now();
    let first = played.transmits.first().map_or(Duration::ZERO, |t| t.at);
    let mut early_exit = None;
    for t in &played.transmits {
        let due = t.at.saturating_sub(first);
        if let Some(wait) = due.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        let s = match sockets.get(&t.source) {
            Some(s) => s,
            None => {
                let s = UdpSocket::bind((t.source, 0))
                    .map_err(|e| format!("bind {}: {e}", t.source))?;
                sockets.entry(t.source).or_insert(s)
            }
        };
        let _ = s.send_to(&t.payload, dest);
        if let Ok(Some(status)) = child.try_wait() {
            early_exit = Some(status);
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_millis(a.grace_ms);
    let mut status = early_exit;
    while status.is_none() && Instant::now() < deadline {
        status = child.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(20));
    }
    let ended_by_itself = status.is_some();
    if status.is_none() {
        stop(&mut child);
    }
    let mut log = format!("$ {cmd}\n");
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut log);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    use std::os::unix::process::ExitStatusExt;
    let verdict = match status {
        Some(s) if s.code() == Some(127) => Some((
            Outcome::Unsupported,
            "the adapter exited with 127 (unsupported)".to_string(),
        )),
        Some(s) if s.signal().is_some() => Some((
            Outcome::Fail,
            format!("the receiver died with signal {}", s.signal().unwrap_or(0)),
        )),
        Some(s) if s.code().is_some_and(|c| c >= 128) => Some((
            Outcome::Fail,
            format!(
                "the receiver crashed (exit status {})",
                s.code().unwrap_or(0)
            ),
        )),
        _ => None,
    };
    let mut files = BTreeMap::new();
    collect_files(out, &mut files);
    Ok(Observed {
        files,
        ended_by_itself,
        verdict,
        log,
    })
}

/// The requirement failures, empty when the scenario's expectations are met.
fn judge(s: &Scenario, played: &Played, o: &Observed) -> Vec<String> {
    let mut fails = Vec::new();
    for (name, data) in &o.files {
        if let Some(sent) = played.objects.get(name) {
            if sent != data {
                fails.push(format!(
                    "{name} delivered with other bytes ({} bytes, {} sent)",
                    data.len(),
                    sent.len()
                ));
            }
        }
    }
    for name in &s.expect.delivered {
        if !o.files.contains_key(name) {
            fails.push(format!("{name} not delivered"));
        }
    }
    for name in &s.expect.not_delivered {
        if o.files.contains_key(name) {
            fails.push(format!("{name} delivered, and must not be"));
        }
    }
    if let Some(prefix) = &s.expect.delivered_prefix {
        let n = o
            .files
            .keys()
            .filter(|k| k.starts_with(prefix.as_str()))
            .count();
        if n < s.expect.min_delivered {
            fails.push(format!(
                "{n} objects named {prefix}-* delivered, at least {} expected",
                s.expect.min_delivered
            ));
        }
    }
    if s.expect.ends_by_itself && !o.ended_by_itself {
        fails.push("the receiver did not end the session by itself".into());
    }
    fails
}

/// Runs one receiver case against `profile`.
pub fn run_receiver_case(
    case: &Case,
    s: &Scenario,
    profile: &Profile,
    opts: &RunOptions,
) -> CaseResult {
    let started = Instant::now();
    if let Some(r) = profile.disabled.get(&case.id) {
        return result(case, Outcome::Skipped, format!("disabled: {r}"), started);
    }
    if let Some(r) = profile.unsupported.get(&case.id) {
        return result(case, Outcome::Unsupported, r.clone(), started);
    }
    let Some(adapter) = &profile.receiver else {
        return result(
            case,
            Outcome::Unsupported,
            "the profile has no receiver".into(),
            started,
        );
    };
    let slug = case.id.replace('/', "_");
    let work = opts.artifacts.as_ref().unwrap_or(&opts.work).join(&slug);
    let _ = std::fs::remove_dir_all(&work);
    let out = work.join("out");
    let dest = SocketAddr::new(LOOPBACK, 0);
    let builtin = adapter.builtin.is_some();
    let start = if builtin {
        VIRTUAL_START
    } else {
        wall_clock().saturating_sub(clock_ahead(s))
    };
    let played = match play(s, LOOPBACK, dest, start, opts.seed) {
        Ok(p) => p,
        Err(e) => {
            return result(
                case,
                Outcome::CouldNotTest,
                format!("scenario: {e}"),
                started,
            )
        }
    };
    let fec_id = s
        .session
        .fec
        .parse::<rmt_reference::fec_config::FecConfig>()
        .map_or(0, |f| f.encoding_id);
    let observed = match (&adapter.builtin, &adapter.command) {
        (Some(b), _) if b == "reference" => run_builtin(&played, &out),
        (Some(b), _) => Err(format!("unknown builtin adapter {b:?}")),
        (None, Some(cmd)) => run_command(&played, adapter, cmd, &out, fec_id),
        (None, None) => Err("no adapter".into()),
    };
    let observed = match observed {
        Ok(o) => o,
        Err(e) => return result(case, Outcome::CouldNotTest, e, started),
    };
    if let Some(a) = &opts.artifacts {
        let dir = a.join(&slug);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("log.txt"), &observed.log);
        let _ = write_capture(&dir.join("capture.pcap"), &played.transmits);
    }
    if opts.artifacts.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    if let Some((outcome, why)) = observed.verdict {
        return result(case, outcome, why, started);
    }
    let fails = judge(s, &played, &observed);
    let required = case.level == Level::Must || opts.strict;
    let (outcome, detail) = match (fails.is_empty(), profile.xfail.get(&case.id)) {
        (true, Some(r)) => (Outcome::Xpass, format!("expected to fail ({r}) but passed")),
        (true, None) => (Outcome::Pass, String::new()),
        (false, Some(r)) => (
            Outcome::Xfail,
            format!("{} (expected: {r})", fails.join("; ")),
        ),
        (false, None) if required => (Outcome::Fail, fails.join("; ")),
        (false, None) => (Outcome::Warn, fails.join("; ")),
    };
    result(case, outcome, detail, started)
}

/// The datagrams as a pcap (Ethernet/IPv4/UDP), for the artifacts.
pub fn write_capture(path: &Path, transmits: &[Transmit]) -> std::io::Result<()> {
    use rmt_inspector::wire::frame::Frame;
    let frames = transmits
        .iter()
        .filter_map(|t| match (t.source, t.destination) {
            (IpAddr::V4(s), SocketAddr::V4(d)) => Some((
                t.at,
                Frame::ipv4_udp((s, 4000), (*d.ip(), d.port().max(1)), &t.payload, false),
            )),
            _ => None,
        });
    rmt_inspector::capture::writer::write_pcap(path, frames)
}
