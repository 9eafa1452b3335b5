//! Running receiver cases: play the scenario, deliver its datagrams to the system under test
//! (in process, or over UDP on loopback to a command), then judge what it wrote to its output
//! folder, whether it stayed alive and how it ended.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rmt_inspector::wire::flute_flavor::FluteFlavor;
use rmt_reference::driver::capture::VIRTUAL_START;
use rmt_reference::driver::output::OutputDir;
use rmt_reference::receiver::mutant::ReceiverMutant;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig};
use rmt_reference::sender::{Mode, Transmit};
use rmt_reference::time::wall_clock;
use rmt_vectors::scenario::{self, Edit, Level, Scenario};

use crate::catalogue::{is_sanity, Case};
use crate::outcome::Outcome;
use crate::play::{play, Played, SenderStyle};
use crate::sut::{expand, Profile, ReceiverAdapter};
use crate::transport::Network;

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
    /// Whether the command adapter answered the unknown-case probe with exit 127 (only then
    /// does 127 on a case mean "unsupported"); [`run_receiver_suite`] sets it.
    pub answers_probe: bool,
    /// The built-in reference receiver with this bug switched on (`rmt-conform mutants` and
    /// tests only).
    pub mutant: Option<ReceiverMutant>,
    /// Where a command receiver runs and its datagrams go (loopback unless set).
    pub network: Network,
    /// How our sender plays the scenarios: the FLUTE flavour (FCAST cases are not-applicable
    /// to any flavour but RFC 6726's) and the close-session form.
    pub sender: SenderStyle,
}

impl RunOptions {
    pub fn new(seed: u64, work: PathBuf) -> Self {
        RunOptions {
            seed,
            strict: false,
            artifacts: None,
            work,
            answers_probe: false,
            mutant: None,
            network: Network::loopback(),
            sender: SenderStyle::default(),
        }
    }
}

/// The case name the probe gives an adapter: no case has it, so an adapter that follows the
/// convention (quic-interop-runner's: exit 127 for a test case it does not implement) exits 127.
pub const PROBE_CASE: &str = "rmtkit/probe/no-such-case";

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

fn run_builtin(
    played: &Played,
    out: &Path,
    mutant: Option<ReceiverMutant>,
) -> Result<Observed, String> {
    let mut rc = ReceiverConfig::new(played.mode, played.tsi);
    rc.source = Some(LOOPBACK);
    let mut r = Receiver::new(rc);
    if let Some(m) = mutant {
        r.mutate(m);
    }
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
    for (i, t) in played.transmits.iter().enumerate() {
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.handle(t.at + played.clock_ahead, t.source, &t.payload)
        }));
        if let Err(panic) = handled {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return Ok(Observed {
                files: BTreeMap::new(),
                ended_by_itself: true,
                verdict: Some((
                    Outcome::Crash,
                    format!(
                        "the receiver panicked ({what}) {}",
                        last_sent(i + 1, played.transmits.len())
                    ),
                )),
                log,
            });
        }
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

/// Stops a receiver started by [`spawn_in_group`]: SIGTERM to its whole process group (the
/// shell and whatever it started), SIGKILL two seconds later.
fn stop(child: &mut Child) {
    let group = -(child.id() as libc::pid_t);
    // SAFETY: kill(2) on the process group of our own child (its PID, see spawn_in_group).
    unsafe { libc::kill(group, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            // SAFETY: as above; what the shell left behind goes too.
            unsafe { libc::kill(group, libc::SIGKILL) };
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    unsafe { libc::kill(group, libc::SIGKILL) };
    let _ = child.kill();
    let _ = child.wait();
}

/// The receiver's stdout and stderr, read on threads while it runs; the first
/// [`OUTPUT_KEPT`] bytes of each are kept.
struct OutputReader(Vec<std::thread::JoinHandle<String>>);

/// Bytes of a receiver's stdout (and of its stderr) kept for the case's log.
const OUTPUT_KEPT: usize = 256 * 1024;

impl OutputReader {
    fn start(child: &mut Child) -> OutputReader {
        fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let mut buf = [0u8; 8192];
                let mut dropped = 0usize;
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let room = OUTPUT_KEPT.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                    dropped += n - room;
                }
                let mut s = String::from_utf8_lossy(&kept).into_owned();
                if dropped > 0 {
                    s.push_str(&format!("\n[{dropped} more bytes not kept]\n"));
                }
                s
            })
        }
        let mut threads = Vec::new();
        if let Some(o) = child.stdout.take() {
            threads.push(drain(o));
        }
        if let Some(e) = child.stderr.take() {
            threads.push(drain(e));
        }
        OutputReader(threads)
    }

    /// What was read, once the pipes have closed (bounded: a process that left the group
    /// and still holds a pipe is not waited for past three seconds).
    fn finish(self) -> String {
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && !self.0.iter().all(|t| t.is_finished()) {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.0
            .into_iter()
            .map(|t| {
                if t.is_finished() {
                    t.join().unwrap_or_default()
                } else {
                    "[output still open: a process outside the receiver's group holds it]\n".into()
                }
            })
            .collect()
    }
}

/// `sh -c command` (inside the run's namespace for the multicast transport) in a process group
/// of its own, so that [`stop`] reaches every process the command starts. `ip netns exec`
/// execs the shell, so the group is the shell's.
fn spawn_in_group(
    network: &Network,
    command: &str,
    case: &str,
    quiet: bool,
) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let out = || {
        if quiet {
            Stdio::null()
        } else {
            Stdio::piped()
        }
    };
    network
        .shell(command)
        .env("TESTCASE", case)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out())
        .stderr(out())
        .spawn()
}

/// Which datagrams went out before the receiver ended: frame numbers of the case's capture
/// (`--artifacts`: `capture.pcap`, one frame per datagram in order).
fn last_sent(sent: usize, total: usize) -> String {
    match sent {
        0 => format!("before the first datagram was sent (of {total})"),
        n => format!(
            "after datagram {n} of {total} (the last sent: frames {}-{n} of the case's capture)",
            n.saturating_sub(2).max(1)
        ),
    }
}

/// Words that run the program named after them (with their own options first).
const WRAPPERS: &[&str] = &[
    "exec", "env", "command", "nice", "nohup", "timeout", "stdbuf", "setsid",
];

/// The program a profile command (placeholders filled in) starts: its first word after
/// `NAME=value` assignments and wrappers such as `exec` or `env` (with their options, and
/// `timeout`'s duration), with quotes removed and `$NAME`, `${NAME}` and `${NAME:-default}`
/// expanded from the environment. `None` when that cannot be told without running a shell (a
/// subshell, a redirection, a command substitution, a word from `$NAME` with spaces in it).
pub fn program_of(command: &str) -> Option<String> {
    program_in(command, &|name| std::env::var(name).ok())
}

/// [`program_of`] with the environment given as a lookup.
fn program_in(command: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut rest = command.trim_start();
    let mut wrapper: Option<String> = None;
    loop {
        let (word, after) = first_word(rest, env)?;
        rest = after.trim_start();
        if word.is_empty() || word.starts_with('~') {
            return None;
        }
        let is_assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let is_option = wrapper.is_some() && word.starts_with('-');
        let is_duration = wrapper.as_deref() == Some("timeout")
            && word
                .trim_end_matches(['s', 'm', 'h', 'd'])
                .parse::<f64>()
                .is_ok();
        if is_assignment || is_option || is_duration {
            continue;
        }
        if WRAPPERS.contains(&word.as_str()) {
            wrapper = Some(word);
            continue;
        }
        return Some(word);
    }
}

/// One shell word (quotes and parameter expansions resolved), and what follows it.
fn first_word<'a>(s: &'a str, env: &dyn Fn(&str) -> Option<String>) -> Option<(String, &'a str)> {
    let mut word = String::new();
    let mut chars = s.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => return Some((word, &s[i..])),
            (None, ';' | '|' | '&' | '<' | '>' | '(' | ')' | '`') => return None,
            (_, '$') if s[i + 1..].starts_with('(') => return None,
            (None, '\'') | (None, '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '$') => {
                let rest = &s[i + 1..];
                let (name, default, len) = if let Some(body) = rest.strip_prefix('{') {
                    if body.starts_with('(') {
                        return None;
                    }
                    let end = body.find('}')?;
                    let inner = &body[..end];
                    let (name, default) = match inner.split_once(":-") {
                        Some((n, d)) => (n, Some(d)),
                        None => (inner, None),
                    };
                    (name, default, end + 2)
                } else {
                    let len = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    (&rest[..len], None, len)
                };
                let value = env(name).filter(|v| !v.is_empty());
                let value = value.or(default.map(str::to_string)).unwrap_or_default();
                if quote.is_none() && value.contains(char::is_whitespace) {
                    return None; // split into several words by the shell
                }
                word.push_str(&value);
                for _ in 0..len {
                    chars.next();
                }
            }
            (_, c) => word.push(c),
        }
    }
    (quote.is_none()).then_some((word, ""))
}

/// Whether `program` can be started: a shell builtin or keyword, a path to an executable file,
/// or an executable on PATH.
pub fn program_exists(program: &str) -> bool {
    const BUILTINS: &[&str] = &[
        "exit", "kill", "exec", "true", "false", ":", "echo", "printf", "test", "[", "cd", "sleep",
        "set", "export", "eval", "wait", "read", "trap", "if", "case", "for", "while", "until",
        "{", "!", ".", "source", "ulimit", "umask",
    ];
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if BUILTINS.contains(&program) {
        return true;
    }
    if program.contains('/') {
        return executable(Path::new(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))))
}

/// Runs the adapter once with [`PROBE_CASE`]: `true` when it exits 127 within its start-up
/// time and three seconds (the quic-interop-runner convention that makes 127 mean
/// "unsupported").
pub fn probe(a: &ReceiverAdapter, template: &str, work: &Path, network: &Network) -> bool {
    let out = work.join("probe");
    let _ = std::fs::create_dir_all(&out);
    let vars = placeholders(
        network,
        &CaseVars::probe(network.free_port().unwrap_or(9), &out),
    );
    let Ok(mut child) = spawn_in_group(network, &expand(template, &vars), PROBE_CASE, true) else {
        return false;
    };
    // An interpreter may take a while to start on a loaded machine.
    let deadline = Instant::now() + Duration::from_millis(a.startup_ms + 3000);
    let mut status = None;
    while status.is_none() && Instant::now() < deadline {
        status = child.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(20));
    }
    if status.is_none() {
        stop(&mut child);
    }
    let _ = std::fs::remove_dir_all(&out);
    status.is_some_and(|s| s.code() == Some(127))
}

/// What a case gives its receiver command, besides the network's placeholders.
struct CaseVars<'a> {
    case: &'a str,
    port: u16,
    tsi: u64,
    mode: Mode,
    fec_id: u8,
    out: &'a Path,
    sdp: PathBuf,
}

impl<'a> CaseVars<'a> {
    /// The unknown-case probe's: no real case, FLUTE, TSI 1.
    fn probe(port: u16, out: &'a Path) -> Self {
        CaseVars {
            case: PROBE_CASE,
            port,
            tsi: 1,
            mode: Mode::Flute,
            fec_id: 0,
            out,
            sdp: out.with_extension("sdp"),
        }
    }
}

/// The placeholders of a profile command (docs/sut-contract.md).
fn placeholders(network: &Network, v: &CaseVars) -> BTreeMap<&'static str, String> {
    let CaseVars {
        case,
        port,
        tsi,
        mode,
        fec_id,
        out,
        sdp,
    } = v;
    let (port, tsi, mode, fec_id) = (*port, *tsi, *mode, *fec_id);
    [
        ("case", case.to_string()),
        ("port", port.to_string()),
        ("tsi", tsi.to_string()),
        (
            "mode",
            if mode == Mode::Flute {
                "flute"
            } else {
                "fcast"
            }
            .to_string(),
        ),
        ("fec_id", fec_id.to_string()),
        ("out", out.display().to_string()),
        ("sdp", sdp.display().to_string()),
        (
            "adapters",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("adapters")
                .display()
                .to_string(),
        ),
    ]
    .into_iter()
    .chain(network.placeholders())
    .collect()
}

#[allow(clippy::too_many_arguments)]
fn run_command(
    case: &str,
    played: &Played,
    a: &ReceiverAdapter,
    template: &str,
    out: &Path,
    fec_id: u8,
    answers_probe: bool,
    network: &Network,
) -> Result<Observed, String> {
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let port = network.free_port().map_err(|e| e.to_string())?;
    let dest = network.destination(port);
    let sdp_path = out.with_extension("sdp");
    let sdp = rmt_reference::sdp::SessionDescription {
        source: LOOPBACK,
        tsi: played.tsi,
        channels: vec![dest],
        ttl: 1,
        mode: played.mode,
        fec_encoding_id: fec_id,
        rate_bps: 20_000_000,
        payload_length: 1000,
    };
    std::fs::write(&sdp_path, sdp.to_sdp(played.tsi)).map_err(|e| e.to_string())?;
    let vars = placeholders(
        network,
        &CaseVars {
            case,
            port,
            tsi: played.tsi,
            mode: played.mode,
            fec_id,
            out,
            sdp: sdp_path,
        },
    );
    let cmd = expand(template, &vars);
    let mut child = spawn_in_group(network, &cmd, case, false)
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    // Read while it runs: a receiver that prints more than a pipe holds would block otherwise.
    let output = OutputReader::start(&mut child);
    // Ready when the receiver has bound the port and, over multicast, joined the group (or
    // after startup_ms, whichever is later, bounded at ten times that).
    std::thread::sleep(Duration::from_millis(a.startup_ms));
    let ready_by = Instant::now() + Duration::from_millis(a.startup_ms * 10);
    while Instant::now() < ready_by && !network.ready(port) {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut sockets: BTreeMap<IpAddr, UdpSocket> = BTreeMap::new();
    let t0 = Instant::now();
    let first = played.transmits.first().map_or(Duration::ZERO, |t| t.at);
    let mut early_exit = child.try_wait().ok().flatten();
    let mut sent = 0;
    for t in &played.transmits {
        if early_exit.is_some() {
            break;
        }
        let due = t.at.saturating_sub(first);
        if let Some(wait) = due.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        let s = match sockets.get(&t.source) {
            Some(s) => s,
            None => {
                let s = match network.sender_socket(t.source) {
                    Ok(s) => s,
                    Err(e) => {
                        stop(&mut child);
                        return Err(format!("bind {}: {e}", t.source));
                    }
                };
                sockets.entry(t.source).or_insert(s)
            }
        };
        let _ = s.send_to(&t.payload, dest);
        sent += 1;
        if let Ok(Some(status)) = child.try_wait() {
            early_exit = Some(status);
        }
    }
    let last_datagram = Instant::now();
    let deadline = last_datagram + Duration::from_millis(a.grace_ms);
    let mut status = early_exit;
    while status.is_none() && Instant::now() < deadline {
        status = child.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Ending by itself (a complete session, RFC 6968 §3.8 step 6) is ending when the session
    // is complete, not after an adapter's idle timeout: within half a second of the last
    // datagram, or before it.
    let ended_by_itself = status.is_some()
        && (early_exit.is_some() || last_datagram.elapsed() < Duration::from_millis(500));
    if status.is_none() {
        stop(&mut child);
    }
    // What the shell left behind (it may have ended first) goes too, so the pipes close.
    // SAFETY: kill(2) on the process group of our own child (see spawn_in_group).
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    let mut log = format!("$ {cmd}\n");
    log.push_str(&output.finish());
    let verdict = exit_verdict(status, sent, played.transmits.len(), answers_probe, &log);
    if let (None, Some(code)) = (&verdict, status.and_then(|s| s.code()).filter(|c| *c != 0)) {
        log.push_str(&format!("exit status {code} after the last datagram\n"));
    }
    let mut files = BTreeMap::new();
    collect_files(out, &mut files);
    Ok(Observed {
        files,
        ended_by_itself,
        verdict,
        log,
    })
}

/// What the receiver's exit says before its output is judged:
/// - before the first datagram: it was never tested (could-not-test, with the end of what it
///   printed): a wrong command, a group it cannot join, a missing library;
/// - 127 from an adapter that answered the probe with 127: unsupported;
/// - a signal, or a non-zero status before the last datagram (or 126-255 at any time): a crash,
///   naming the last datagrams sent (frames of the case's capture), the robustness finding a
///   developer of that receiver needs;
/// - otherwise nothing: many receivers exit non-zero after the last datagram to say "not every
///   object received", and their output folder is judged.
fn exit_verdict(
    status: Option<std::process::ExitStatus>,
    sent: usize,
    total: usize,
    answers_probe: bool,
    log: &str,
) -> Option<(Outcome, String)> {
    use std::os::unix::process::ExitStatusExt;
    let s = status?;
    let how = match (s.signal(), s.code()) {
        (Some(sig), _) => format!("died with signal {sig}"),
        (None, Some(c)) => format!("exited with status {c}"),
        (None, None) => "ended".to_string(),
    };
    if s.code() == Some(127) && answers_probe {
        return Some((
            Outcome::Unsupported,
            "the adapter exited with 127 (unsupported)".to_string(),
        ));
    }
    if sent == 0 && total > 0 {
        return Some((
            Outcome::CouldNotTest,
            format!(
                "the receiver {how} before the first datagram was sent, so it was not tested{}",
                last_words(log)
            ),
        ));
    }
    let when = last_sent(sent, total);
    if s.signal().is_some() {
        return Some((Outcome::Crash, format!("the receiver {how} {when}")));
    }
    let code = s.code().unwrap_or(0);
    if code != 0 && (sent < total || code >= 126) {
        let note = if code == 127 {
            " (127 without answering the unknown-case probe with 127: not \"unsupported\")"
        } else {
            ""
        };
        return Some((Outcome::Crash, format!("the receiver {how}{note} {when}")));
    }
    None
}

/// The last line the receiver printed (after the command line), for a could-not-test reason.
fn last_words(log: &str) -> String {
    log.lines()
        .skip(1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| {
            let l: String = l.chars().take(200).collect();
            format!("; its last words: {l:?}")
        })
        .unwrap_or_default()
}

/// The requirement failures, empty when the scenario's expectations are met.
fn judge(s: &Scenario, played: &Played, o: &Observed) -> Vec<String> {
    let mut fails = Vec::new();
    for name in o.files.keys().filter(|n| played.foreign.contains(*n)) {
        fails.push(format!(
            "{name} delivered: an object of the other session on the channel"
        ));
    }
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

/// Why a scenario does not apply when our sender speaks `flavor`, or `None`:
/// - FCAST cases, for every flavour but RFC 6726's (those senders speak FLUTE only);
/// - the reserved-bits case for FLUTE v1 flavours: FLUTE v1 uses RFC 3451's LCT (RFC 6726
///   §11.1), where the two bits RFC 5651 reserves are T and R, which announce a Sender Current
///   Time and an Expected Residual Time in the header: a v1 receiver rightly reads them.
fn not_applicable_in(s: &Scenario, flavor: FluteFlavor) -> Option<String> {
    if flavor != FluteFlavor::Rfc6726 && s.session.mode == scenario::Mode::Fcast {
        return Some(format!(
            "FCAST case; the {} sender speaks FLUTE only",
            flavor.title()
        ));
    }
    let sets_t_and_r = s.edits.iter().any(|e| matches!(e, Edit::ReservedBits));
    if flavor.ext_fdt_version() == 1 && sets_t_and_r {
        return Some(format!(
            "the {} sender uses RFC 3451's LCT (RFC 6726 §11.1), where these bits are T and R (SCT and ERT present), not reserved",
            flavor.title()
        ));
    }
    None
}

/// Runs one receiver case against `profile`.
pub fn run_receiver_case(
    case: &Case,
    s: &Scenario,
    profile: &Profile,
    opts: &RunOptions,
) -> CaseResult {
    let started = Instant::now();
    if let Some(r) = crate::sut::reason(&profile.disabled, &case.id) {
        return result(case, Outcome::Skipped, format!("disabled: {r}"), started);
    }
    if let Some(r) = crate::sut::reason(&profile.unsupported, &case.id) {
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
    if let Some(why) = not_applicable_in(s, opts.sender.flavor) {
        return result(case, Outcome::NotApplicable, why, started);
    }
    let played = match play(s, LOOPBACK, dest, start, opts.seed, opts.sender) {
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
        (Some(b), _) if b == "reference" => run_builtin(&played, &out, opts.mutant),
        (Some(b), _) => Err(format!("unknown builtin adapter {b:?}")),
        (None, Some(cmd)) => run_command(
            &case.id,
            &played,
            adapter,
            cmd,
            &out,
            fec_id,
            opts.answers_probe,
            &opts.network,
        ),
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
    let (outcome, detail) = match (
        fails.is_empty(),
        crate::sut::reason(&profile.xfail, &case.id),
    ) {
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
    rmt_reference::driver::capture::write_transmits(path, transmits, 4000)
}

/// Runs `cases` (in play order) against `profile`, as `rmt-conform run` does:
/// - a command that cannot be found makes every case could-not-test (exit 3), as does a
///   command that cannot be started;
/// - a command adapter is probed once with [`PROBE_CASE`]: only if it answers 127 does 127 on a
///   case mean "unsupported" (quic-interop-runner's convention); otherwise 127 is a crash;
/// - the sanity cases run first (`*/sanity-last` last): when one of a mode (FLUTE, FCAST) does
///   not pass, the receiver cannot be judged in that mode: that mode's other cases are not run
///   but could-not-test, and the run exits 3 ([`suite_exit_code`]).
///
/// `progress` sees each result as it is made.
pub fn run_receiver_suite(
    cases: &[Case],
    scenarios: &[Scenario],
    profile: &Profile,
    opts: &RunOptions,
    mut progress: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let started = Instant::now();
    let mut opts = opts.clone();
    if let Some(why) = profile.missing_env() {
        return cases
            .iter()
            .map(|c| result(c, Outcome::Skipped, why.clone(), started))
            .inspect(|r| progress(r))
            .collect();
    }
    if let Some(cmd) = profile.receiver.as_ref().and_then(|a| a.command.as_ref()) {
        let adapter = profile.receiver.as_ref().expect("checked");
        let filled = expand(
            cmd,
            &placeholders(&opts.network, &CaseVars::probe(9, &opts.work)),
        );
        if let Some(program) = program_of(&filled).filter(|p| !program_exists(p)) {
            let why = format!(
                "the profile's command {program:?} cannot be found (not a file, not on PATH)"
            );
            return cases
                .iter()
                .map(|c| result(c, Outcome::CouldNotTest, why.clone(), started))
                .inspect(|r| progress(r))
                .collect();
        }
        let _ = std::fs::create_dir_all(&opts.work);
        opts.answers_probe = probe(adapter, cmd, &opts.work, &opts.network);
    }
    let mut results: Vec<CaseResult> = Vec::new();
    // Modes whose sanity case did not pass, and why.
    let mut insane: BTreeMap<scenario::Mode, String> = BTreeMap::new();
    for c in cases {
        let s = scenarios.iter().find(|s| s.id == c.id);
        let gate = s.and_then(|s| insane.get(&s.session.mode));
        let r = match (gate, s) {
            (Some(why), _) => result(c, Outcome::CouldNotTest, why.clone(), Instant::now()),
            (None, None) => result(
                c,
                Outcome::CouldNotTest,
                "no scenario with this ID".into(),
                Instant::now(),
            ),
            (None, Some(s)) => run_receiver_case(c, s, profile, &opts),
        };
        if let Some(s) = s.filter(|_| is_sanity(&c.id) && !sanity_passed(r.outcome)) {
            insane.entry(s.session.mode).or_insert_with(|| {
                format!(
                    "not run: the sanity case {} did not pass ({}), so the receiver cannot be judged in this mode",
                    c.id,
                    r.outcome.as_str()
                )
            });
        }
        progress(&r);
        results.push(r);
    }
    results
}

/// A sanity case that leaves the receiver judgeable.
fn sanity_passed(o: Outcome) -> bool {
    matches!(
        o,
        Outcome::Pass
            | Outcome::Unsupported
            | Outcome::Skipped
            | Outcome::Xfail
            | Outcome::NotApplicable
    )
}

/// The run's exit code: that of [`crate::outcome::exit_code`], except that a run whose sanity
/// case did not pass is an infrastructure error (3): nothing else in it was judged.
///
/// Also 3 when the run has sanity cases and none of them passed: a receiver "unsupported" on
/// every sanity case was not tested at all.
pub fn suite_exit_code(results: &[CaseResult]) -> u8 {
    let sanity: Vec<Outcome> = results
        .iter()
        .filter(|r| is_sanity(&r.id))
        .map(|r| r.outcome)
        .collect();
    let insane = sanity.iter().any(|o| !sanity_passed(*o))
        || (!sanity.is_empty()
            && !sanity
                .iter()
                .any(|o| matches!(o, Outcome::Pass | Outcome::Xfail)));
    if insane {
        return 3;
    }
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    crate::outcome::exit_code(&outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_of_a_command_is_its_first_word_after_assignments_and_expansions() {
        assert_eq!(
            program_of("rmt-ref recv --port 1").as_deref(),
            Some("rmt-ref")
        );
        assert_eq!(program_of("A=1 B=x sleep 5").as_deref(), Some("sleep"));
        assert_eq!(program_of("'/opt/my rx' -v").as_deref(), Some("/opt/my rx"));
        // The environment as a lookup: no process-wide variable is set by the test.
        let env = |name: &str| (name == "RX").then(|| "python3 rx.py".to_string());
        assert_eq!(
            program_in("\"${UNSET:-python3}\" a.py", &env).as_deref(),
            Some("python3")
        );
        assert_eq!(
            program_in("\"${RX:-other}\" a.py", &env).as_deref(),
            Some("python3 rx.py")
        );
        assert_eq!(program_of("(cd x && y)"), None);
        assert_eq!(
            program_of("exec env A=1 timeout 5s rx --port 1").as_deref(),
            Some("rx")
        );
        assert_eq!(program_of("\"$(command -v rx)\" --port 1"), None);
        // Unquoted, the shell splits the value into several words: it cannot be told.
        assert_eq!(program_in("$RX --port 1", &env), None);
        assert_eq!(
            program_in("\"$RX\" --port 1", &env).as_deref(),
            Some("python3 rx.py")
        );
        assert!(program_exists("sh"));
        assert!(program_exists("exit"));
        assert!(!program_exists("rmt-no-such-program-anywhere"));
        assert!(!program_exists("/nonexistent/rx"));
    }
}
