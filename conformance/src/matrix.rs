//! `rmt-conform matrix`, in the manner of quic-interop-runner: every receiver (a profile) is
//! played every FLUTE flavour of our sender, and every third-party sender (a profile with a
//! `sender:` command) is run in a namespace and judged by the sender cases, in one run. The
//! result is a JSON document (schema [`SCHEMA`], docs/sut-contract.md) and one self-contained
//! HTML page: a matrix of coloured cells, each linking to its cases, their logs and captures,
//! and the RFC sentence behind each case.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rmt_inspector::inspect::check::check_capture_content;
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::flute_flavor::FluteFlavor;
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::Mode;
use rmt_vectors::scenario::Scenario;
use serde::Serialize;

use crate::catalogue::{play_order, receiver_cases, sender_cases, Case};
use crate::html::{case_rows, esc, head, verdict};
use crate::outcome::Outcome;
use crate::runner::{run_receiver_suite, suite_exit_code, CaseResult, RunOptions};
use crate::sender::{judge_sender, Declared};
use crate::sut::{expand, Profile};
use crate::transport::{Network, Transport};

pub const SCHEMA: &str = "rmt-conform-matrix/1";

/// What to run.
pub struct MatrixConfig {
    pub receivers: Vec<Profile>,
    pub flavors: Vec<FluteFlavor>,
    pub senders: Vec<Profile>,
    /// Receiver case ID prefixes (empty: all).
    pub cases: Vec<String>,
    pub seed: u64,
    pub transport: Transport,
    /// Where the report, the page and each cell's artifacts go.
    pub out: PathBuf,
}

/// One receiver × flavour cell.
#[derive(Debug, Serialize)]
pub struct ReceiverCell {
    pub receiver: String,
    pub flavor: FluteFlavor,
    pub transport: String,
    /// The run's exit code (`rmt-conform run`'s): 0, 1 or 3.
    pub exit_code: u8,
    pub summary: BTreeMap<String, usize>,
    /// The cell's artifacts, relative to the report.
    pub artifacts: String,
    pub results: Vec<CaseResult>,
}

/// One third-party sender, judged by the sender cases.
#[derive(Debug, Serialize)]
pub struct SenderRow {
    pub sender: String,
    /// The flavour its traffic showed.
    pub flavor: Option<FluteFlavor>,
    /// Why it was not judged (a missing binary, no packet captured), or empty.
    pub not_judged: String,
    pub exit_code: u8,
    pub summary: BTreeMap<String, usize>,
    /// Its capture, relative to the report.
    pub capture: String,
    pub results: Vec<CaseResult>,
}

#[derive(Debug, Serialize)]
pub struct Matrix {
    pub schema: &'static str,
    pub seed: u64,
    pub flavors: Vec<FluteFlavor>,
    /// Every case that appears, with its RFC, section, level and requirement.
    pub cases: Vec<Case>,
    pub receivers: Vec<ReceiverCell>,
    pub senders: Vec<SenderRow>,
}

impl Matrix {
    /// 1 when a cell has a failure, else 3 when a cell could not be tested, else 0.
    pub fn exit_code(&self) -> u8 {
        let codes = self
            .receivers
            .iter()
            .map(|c| c.exit_code)
            .chain(self.senders.iter().map(|s| s.exit_code));
        codes.fold(0, |acc, c| match (acc, c) {
            (1, _) | (_, 1) => 1,
            (0, 0) => 0,
            // 3, or a code no cell should have: not everything was tested.
            _ => 3,
        })
    }
}

fn summary(results: &[CaseResult]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in results {
        *m.entry(r.outcome.as_str().to_string()).or_default() += 1;
    }
    m
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The files a third-party sender is given (`{files}`): three sizes, seeded.
fn sender_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    [
        ("small.bin", 1_000),
        ("medium.bin", 40_000),
        ("large.bin", 150_000),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, size))| {
        let p = dir.join(name);
        std::fs::write(&p, SeededRng::new(100 + i as u64).bytes(*size))?;
        Ok(p)
    })
    .collect()
}

/// Runs the matrix; `progress` hears of each cell as it starts.
pub fn run(
    cfg: &MatrixConfig,
    scenarios: &[Scenario],
    mut progress: impl FnMut(&str),
) -> Result<Matrix, String> {
    std::fs::create_dir_all(&cfg.out).map_err(|e| format!("{}: {e}", cfg.out.display()))?;
    let mut cases: Vec<Case> = receiver_cases(scenarios)
        .into_iter()
        .filter(|c| cfg.cases.is_empty() || cfg.cases.iter().any(|p| c.id.starts_with(p)))
        .collect();
    play_order(&mut cases);
    // Opened once: every command receiver of the run shares the namespace (one port per case).
    let mut networks: BTreeMap<&'static str, Network> = BTreeMap::new();
    let mut receivers = Vec::new();
    for profile in &cfg.receivers {
        for &flavor in &cfg.flavors {
            progress(&format!("receiver {} × {}", profile.name, flavor.name()));
            let dir = format!("receivers/{}/{}", slug(&profile.name), flavor.name());
            let mut opts = RunOptions::new(
                cfg.seed,
                std::env::temp_dir().join(format!("rmt-matrix-{}", std::process::id())),
            );
            opts.sender.flavor = flavor;
            opts.artifacts = Some(cfg.out.join(&dir));
            let _ = std::fs::remove_dir_all(cfg.out.join(&dir));
            let builtin = profile
                .receiver
                .as_ref()
                .is_some_and(|r| r.builtin.is_some());
            let transport = profile.transport.unwrap_or(cfg.transport);
            let mut transport_name = "in-process".to_string();
            if !builtin && profile.missing_env().is_none() {
                let key = transport.as_str();
                let network = match networks.get(key) {
                    Some(n) => n.clone(),
                    None => {
                        let n = Network::open(transport)?;
                        networks.insert(key, n.clone());
                        n
                    }
                };
                transport_name = network.transport().as_str().to_string();
                opts.network = network;
            }
            let results = run_receiver_suite(&cases, scenarios, profile, &opts, |_| {});
            let _ = std::fs::remove_dir_all(&opts.work);
            // A profile whose program is not installed here is skipped, not a failed run.
            let exit_code = if profile.missing_env().is_some() {
                0
            } else {
                suite_exit_code(&results)
            };
            receivers.push(ReceiverCell {
                receiver: profile.name.clone(),
                flavor,
                transport: transport_name,
                exit_code,
                summary: summary(&results),
                artifacts: dir,
                results,
            });
        }
    }
    drop(networks);
    let files_dir = cfg.out.join("senders/files");
    let files = sender_files(&files_dir).map_err(|e| format!("{}: {e}", files_dir.display()))?;
    let mut senders = Vec::new();
    for profile in &cfg.senders {
        progress(&format!("sender {}", profile.name));
        senders.push(judge_third_party_sender(cfg, profile, &files, &files_dir));
    }
    let mut all_cases = sender_cases();
    all_cases.extend(cases);
    Ok(Matrix {
        schema: SCHEMA,
        seed: cfg.seed,
        flavors: cfg.flavors.clone(),
        cases: all_cases,
        receivers,
        senders,
    })
}

fn judge_third_party_sender(
    cfg: &MatrixConfig,
    profile: &Profile,
    files: &[PathBuf],
    files_dir: &Path,
) -> SenderRow {
    let capture_rel = format!("senders/{}/capture.pcapng", slug(&profile.name));
    let mut row = SenderRow {
        sender: profile.name.clone(),
        flavor: None,
        not_judged: String::new(),
        exit_code: 3,
        summary: BTreeMap::new(),
        // Set once the capture is written.
        capture: String::new(),
        results: Vec::new(),
    };
    let Some(adapter) = &profile.sender else {
        row.not_judged = "the profile has no sender".into();
        return row;
    };
    if let Some(why) = profile.missing_env() {
        row.not_judged = format!("skipped: {why}");
        row.exit_code = 0;
        return row;
    }
    let vars: BTreeMap<&str, String> = [
        ("group", crate::transport::GROUP.to_string()),
        ("port", "3400".to_string()),
        ("tsi", "7".to_string()),
        ("iface", "lo".to_string()),
        ("iface_addr", "127.0.0.1".to_string()),
        (
            "files",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("dir", files_dir.display().to_string()),
    ]
    .into_iter()
    .collect();
    let cmd = expand(&adapter.command, &vars);
    let capture = match crate::sender_exec::capture_command(&cmd, adapter.seconds) {
        Ok(c) => c,
        Err(e) => {
            row.not_judged = e;
            return row;
        }
    };
    let path = cfg.out.join(&capture_rel);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if std::fs::write(&path, &capture).is_ok() {
        row.capture = capture_rel;
    }
    let (findings, content) = match check_capture_content(&capture, vec![], AlcContext::default()) {
        Ok(x) => x,
        Err(e) => {
            row.not_judged = format!("the capture cannot be read: {e}");
            return row;
        }
    };
    if content.alc_packets == 0 {
        row.not_judged = format!(
            "no ALC packet captured in {} s from `{cmd}`",
            adapter.seconds
        );
        return row;
    }
    let declared = Declared::mode(match adapter.mode.as_str() {
        "fcast" => Mode::Fcast,
        _ => Mode::Flute,
    });
    row.flavor = content.flute_flavor;
    let results = judge_sender(&sender_cases(), &findings, &content, declared, false)
        .into_iter()
        // The WEBRC cases need --webrc; a matrix sender is not asked to speak WEBRC.
        .filter(|r| !crate::catalogue::needs_webrc(&r.id))
        .collect::<Vec<_>>();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    row.exit_code = crate::outcome::exit_code(&outcomes);
    row.summary = summary(&results);
    row.results = results;
    row
}

pub fn json(m: &Matrix) -> String {
    serde_json::to_string_pretty(m).expect("serialisable")
}

fn counts(summary: &BTreeMap<String, usize>) -> String {
    summary
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One self-contained page: no script, no external style or font. `out`: where the report
/// and the artifacts are, to link only what exists.
pub fn html(m: &Matrix, out: &Path) -> String {
    let cases: BTreeMap<&str, &Case> = m.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut h = head("rmtkit interop matrix");
    let _ = writeln!(
        h,
        "<h1>rmtkit interop matrix</h1>\n<p>Seed {}. Receivers (rows) played each FLUTE flavour of rmtkit's sender (columns); third-party senders judged by the sender cases. Green: every judged case passed; red: a MUST failure or a crash; yellow: a SHOULD/MAY warning; grey: not tested (the reason is in the cell). Report: <a href=\"matrix.json\">matrix.json</a> (schema <code>{SCHEMA}</code>).</p>",
        m.seed
    );
    h.push_str(
        "<h2>Receivers × our sender's flavours</h2>\n<table class=\"matrix\"><tr><th>receiver</th>",
    );
    for f in &m.flavors {
        let _ = write!(
            h,
            "<th>{}<br/><small>{}</small></th>",
            f.name(),
            esc(f.title())
        );
    }
    h.push_str("</tr>\n");
    let mut rows: Vec<&str> = m.receivers.iter().map(|c| c.receiver.as_str()).collect();
    rows.dedup();
    for rcv in rows {
        let _ = write!(h, "<tr><th>{}</th>", esc(rcv));
        for f in &m.flavors {
            match m
                .receivers
                .iter()
                .find(|c| c.receiver == rcv && c.flavor == *f)
            {
                Some(c) => {
                    let why = c
                        .results
                        .iter()
                        .find(|r| matches!(r.outcome, Outcome::Skipped | Outcome::CouldNotTest))
                        .filter(|_| verdict(&c.results) == "none")
                        .map(|r| format!("<br/><small>{}</small>", esc(&r.detail)))
                        .unwrap_or_default();
                    let _ = write!(
                        h,
                        "<td class=\"{}\"><a href=\"#r-{}-{}\">{}</a>{}</td>",
                        verdict(&c.results),
                        slug(rcv),
                        f.name(),
                        esc(&counts(&c.summary)),
                        why
                    );
                }
                None => h.push_str("<td class=\"none\">—</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if !m.senders.is_empty() {
        h.push_str("<h2>Third-party senders, judged by the sender cases</h2>\n<table class=\"matrix\"><tr><th>sender</th><th>flavour seen</th><th>sender cases</th></tr>\n");
        for s in &m.senders {
            let text = if s.not_judged.is_empty() {
                counts(&s.summary)
            } else {
                s.not_judged.clone()
            };
            let _ = writeln!(
                h,
                "<tr><th>{}</th><td>{}</td><td class=\"{}\"><a href=\"#s-{}\">{}</a></td></tr>",
                esc(&s.sender),
                s.flavor.map_or("—", |f| f.title()),
                verdict(&s.results),
                slug(&s.sender),
                esc(&text)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Cells</h2>\n");
    for c in &m.receivers {
        let _ = writeln!(
            h,
            "<h3 id=\"r-{}-{}\">{} × {} <small>({}, exit {}; <a href=\"{}\">artifacts</a>)</small></h3>",
            slug(&c.receiver),
            c.flavor.name(),
            esc(&c.receiver),
            c.flavor.name(),
            esc(&c.transport),
            c.exit_code,
            esc(&c.artifacts)
        );
        // Only what the case wrote: an unsupported, gated or skipped case has no log.
        let evidence = |r: &CaseResult| -> Vec<(String, String)> {
            let d = format!("{}/{}", c.artifacts, r.id.replace('/', "_"));
            ["log.txt", "capture.pcap"]
                .iter()
                .filter(|f| out.join(&d).join(f).exists())
                .map(|f| (f.to_string(), format!("{d}/{f}")))
                .collect()
        };
        case_rows(&mut h, &c.results, &cases, &evidence);
    }
    for s in &m.senders {
        let capture = if s.capture.is_empty() {
            String::new()
        } else {
            format!(
                " <small>(<a href=\"{}\">capture</a>)</small>",
                esc(&s.capture)
            )
        };
        let _ = writeln!(
            h,
            "<h3 id=\"s-{}\">sender {}{capture}</h3>",
            slug(&s.sender),
            esc(&s.sender),
        );
        if !s.not_judged.is_empty() {
            let _ = writeln!(h, "<p>{}</p>", esc(&s.not_judged));
        }
        case_rows(&mut h, &s.results, &cases, &|_| Vec::new());
    }
    h.push_str("</body></html>\n");
    h
}

/// Writes `matrix.json` and `index.html` in `cfg.out`.
pub fn write(m: &Matrix, out: &Path) -> std::io::Result<()> {
    std::fs::write(out.join("matrix.json"), json(m))?;
    std::fs::write(out.join("index.html"), html(m, out))
}
