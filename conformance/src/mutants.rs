//! Mutation runs (`rmt-conform mutants`): every case is only worth something once a broken
//! implementation fails it. The reference receiver with one bug switched on
//! ([`ReceiverMutant`]) plays every receiver case in process; the reference sender with one
//! fault ([`SenderMutant`]) is captured and judged by every sender case. The kill matrix says
//! which cases fail each mutant; each mutant must fail the cases written for its bug, and the
//! reference (no mutant) must pass everything. The lab section (root) runs the WEBRC lab once
//! with the reference receiver and one receiver per [`WebrcMutant`](rmt_reference::webrc::mutant::WebrcMutant), judged by the lab's
//! receiver checks.

use std::path::Path;
use std::time::Duration;

use rmt_inspector::inspect::check::check_capture_content;
use rmt_inspector::wire::alc::AlcContext;
use rmt_reference::driver::capture::transmits_pcap;
use rmt_reference::packet::FieldWidths;
use rmt_reference::receiver::mutant::ReceiverMutant;
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};
use rmt_reference::sessions::one_at_a_time;
use rmt_vectors::scenario::Scenario;

use crate::catalogue::{play_order, receiver_cases, sender_cases, Role, LAB_CASES};
use crate::lab::webrc::WebrcLabConfig;
use crate::lab::LinkShape;
use crate::outcome::Outcome;
use crate::runner::{run_receiver_case, CaseResult, RunOptions};
use crate::sender::{judge_sender, Declared};

/// A broken sender: the reference sender with one fault, in the protocol it claims to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderMutant {
    /// FDT Instances whose Expires is already past when sent.
    ExpiredFdt,
    /// FLUTE without any FDT Instance.
    NoFdt,
    /// An object kept in the carousel keeps its TOI after it left the half-space window.
    ToiKeptPastWindow,
    /// CIDs list TOIs that are never sent.
    CidListsUnsentTois,
}

impl SenderMutant {
    pub const ALL: [SenderMutant; 4] = [
        SenderMutant::ExpiredFdt,
        SenderMutant::NoFdt,
        SenderMutant::ToiKeptPastWindow,
        SenderMutant::CidListsUnsentTois,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SenderMutant::ExpiredFdt => "sender-expired-fdt",
            SenderMutant::NoFdt => "sender-no-fdt",
            SenderMutant::ToiKeptPastWindow => "sender-toi-kept-past-window",
            SenderMutant::CidListsUnsentTois => "sender-cid-lists-unsent-tois",
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            SenderMutant::ExpiredFdt | SenderMutant::NoFdt => Mode::Flute,
            SenderMutant::ToiKeptPastWindow | SenderMutant::CidListsUnsentTois => Mode::Fcast,
        }
    }

    pub fn meant_for(self) -> &'static [&'static str] {
        match self {
            SenderMutant::ExpiredFdt => &["rfc6726/3.3/fdt-not-expired-when-sent"],
            SenderMutant::NoFdt => &["rfc6726/3.3/every-file-in-the-fdt"],
            SenderMutant::ToiKeptPastWindow => &["rfc6968/3.6/toi-window"],
            SenderMutant::CidListsUnsentTois => &["rfc6968/3.5/cid-lists-sent-objects"],
        }
    }

    fn configure(self, c: &mut SenderConfig) {
        match self {
            SenderMutant::ExpiredFdt => c.faults.expired_fdt = true,
            SenderMutant::NoFdt => c.faults.no_fdt = true,
            SenderMutant::ToiKeptPastWindow => c.faults.toi_window_ignored = true,
            SenderMutant::CidListsUnsentTois => c.faults.cid_wrong_tois = true,
        }
    }
}

/// One row of the kill matrix.
#[derive(Debug, Clone)]
pub struct Row {
    pub mutant: String,
    pub role: Role,
    pub meant_for: Vec<String>,
    /// The cases whose requirement the mutant fails (fail, warn or crash), with the outcome.
    pub failed_by: Vec<(String, Outcome)>,
}

impl Row {
    /// Every case written for this bug fails the mutant (fail, warn or crash).
    pub fn killed_as_meant(&self) -> bool {
        self.meant_for
            .iter()
            .all(|m| self.failed_by.iter().any(|(id, _)| id == m))
    }

    /// Killed as meant, but only by warnings (SHOULD or MAY cases): `rmt-conform run` exits 0
    /// on such a mutant unless `--strict`.
    pub fn killed_by_warnings_only(&self) -> bool {
        self.killed_as_meant()
            && !self
                .failed_by
                .iter()
                .any(|(id, o)| self.meant_for.contains(id) && *o != Outcome::Warn)
    }
}

/// The matrix, and what the unmutated reference did on the same cases.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub rows: Vec<Row>,
    /// Reference results that are not a pass (a non-empty list is a defect of the suite).
    pub reference_not_passing: Vec<CaseResult>,
    /// Why the lab section did not run (it needs root and ip(8)), if it did not.
    pub lab_skipped: Option<String>,
}

impl Matrix {
    /// (mutants killed by their intended cases, mutants).
    pub fn score(&self) -> (usize, usize) {
        let killed = self.rows.iter().filter(|r| r.killed_as_meant()).count();
        (killed, self.rows.len())
    }
}

fn failing(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Fail | Outcome::Warn | Outcome::Crash)
}

/// Every receiver case against the reference and against each receiver mutant, in process.
pub fn receiver_rows(scenarios: &[Scenario], work: &Path) -> (Vec<Row>, Vec<CaseResult>) {
    let mut cases = receiver_cases(scenarios);
    play_order(&mut cases);
    let profile = crate::sut::load("reference").expect("the bundled reference profile");
    let run = |mutant: Option<ReceiverMutant>| -> Vec<CaseResult> {
        let mut opts = RunOptions::new(1, work.join(mutant.map_or("reference", |m| m.name())));
        opts.mutant = mutant;
        cases
            .iter()
            .filter_map(|c| {
                let s = scenarios.iter().find(|s| s.id == c.id)?;
                Some(run_receiver_case(c, s, &profile, &opts))
            })
            .collect()
    };
    let reference: Vec<CaseResult> = run(None)
        .into_iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .collect();
    // The panicking mutant's message would otherwise go to stderr once per case; other panics
    // (of other threads, other tests) still reach the previous hook.
    let hook = std::sync::Arc::new(std::panic::take_hook());
    let previous = hook.clone();
    std::panic::set_hook(Box::new(move |info| {
        let ours = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.starts_with("mutant:"));
        if !ours {
            previous(info);
        }
    }));
    let rows = ReceiverMutant::ALL
        .iter()
        .map(|&m| Row {
            mutant: m.name().to_string(),
            role: Role::Receiver,
            meant_for: m.meant_for().iter().map(|s| s.to_string()).collect(),
            failed_by: run(Some(m))
                .into_iter()
                .filter(|r| failing(r.outcome))
                .map(|r| (r.id, r.outcome))
                .collect(),
        })
        .collect();
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| hook(info)));
    (rows, reference)
}

/// The capture of a reference sender session in `mode`, with `mutant`'s fault if any, one
/// object kept in every instance and a new one per instance: FLUTE, three FDT Instances; FCAST,
/// 16-bit TOIs 4096 apart with CIDs, 24 Carousel Instances: the kept object's TOI
/// leaves the half-space window (and is renumbered), and TOIs come back for new objects three
/// times (which the inspector must take as new objects, not as one object changing).
pub fn sender_capture(mode: Mode, mutant: Option<SenderMutant>) -> Result<Vec<u8>, String> {
    let mut c = SenderConfig::new(mode, "233.252.0.1:3400".parse().expect("address"), 3);
    c.rate_bps = 10_000_000;
    c.fdt_validity = Duration::from_secs(3600);
    if mode == Mode::Fcast {
        c.widths = FieldWidths {
            tsi_len: 2,
            toi_len: 2,
        };
        c.toi_stride = 4096;
    }
    if let Some(m) = mutant {
        m.configure(&mut c);
    }
    let mut s = Sender::new(c).map_err(|e| e.to_string())?;
    let spec = |name: String, seed: u64, size: usize| ObjectSpec {
        name,
        content_type: "application/octet-stream".into(),
        data: SeededRng::new(seed).bytes(size),
    };
    let instances = if mode == Mode::Flute { 3 } else { 24 };
    let objects = (0..instances).map(|i| spec(format!("n{i}.bin"), 10 + i, 2500));
    let keep = spec("kept.bin".into(), 1, 3000);
    let frames = one_at_a_time(&mut s, Some(keep), objects, 100_000)?;
    Ok(transmits_pcap(&frames, 4000))
}

/// The sender cases on one capture of `mode`, with that protocol declared or (`declared`
/// false) told from what the capture holds.
pub fn judge_sender_capture(
    bytes: &[u8],
    mode: Mode,
    declared: bool,
) -> Result<Vec<CaseResult>, String> {
    let ctx = AlcContext {
        fec_encoding_id: (mode == Mode::Fcast).then_some(0),
        ..AlcContext::default()
    };
    let (findings, content) =
        check_capture_content(bytes, vec![3400], ctx).map_err(|e| e.to_string())?;
    let cases: Vec<_> = sender_cases()
        .into_iter()
        .filter(|c| !crate::catalogue::needs_webrc(&c.id))
        .collect();
    Ok(judge_sender(
        &cases,
        &findings,
        &content,
        Declared {
            mode: declared.then_some(mode),
            flavor: None,
        },
        false,
    ))
}

/// Every sender case against the reference (FLUTE and FCAST) and each sender mutant.
pub fn sender_rows() -> Result<(Vec<Row>, Vec<CaseResult>), String> {
    let mut reference = Vec::new();
    for mode in [Mode::Flute, Mode::Fcast] {
        let r = judge_sender_capture(&sender_capture(mode, None)?, mode, true)?;
        reference.extend(r.into_iter().filter(|r| failing(r.outcome)));
    }
    let mut rows = Vec::new();
    for m in SenderMutant::ALL {
        let r = judge_sender_capture(&sender_capture(m.mode(), Some(m))?, m.mode(), true)?;
        rows.push(Row {
            mutant: m.name().to_string(),
            role: Role::Sender,
            meant_for: m.meant_for().iter().map(|s| s.to_string()).collect(),
            failed_by: r
                .into_iter()
                .filter(|r| failing(r.outcome))
                .map(|r| (r.id, r.outcome))
                .collect(),
        });
    }
    Ok((rows, reference))
}

/// How long the lab section's sender sends: long enough for every receiver to climb, lose
/// and cross a few dozen slot changes (TSD 1 s).
pub const LAB_SECONDS: u64 = 30;

/// The lab section: one WEBRC lab run of `seconds` with the reference receiver and one
/// receiver per [`WebrcMutant`](rmt_reference::webrc::mutant::WebrcMutant), each behind a 3 Mbit/s link; a row per mutant and the
/// reference's failing checks.
pub fn lab_rows(seconds: u64) -> Result<(Vec<Row>, Vec<CaseResult>), String> {
    let config = WebrcLabConfig::mutants(LinkShape::rate_mbit(3.0), Duration::from_secs(seconds));
    let report = crate::lab::webrc::run(&config).map_err(|e| format!("WEBRC lab: {e}"))?;
    Ok(lab_section(&report))
}

/// The kill-matrix rows of a lab run's mutant receivers, and the failing checks of its
/// receivers without a mutant.
pub fn lab_section(report: &crate::lab::webrc::WebrcLabReport) -> (Vec<Row>, Vec<CaseResult>) {
    let level = |id: &str| {
        LAB_CASES
            .iter()
            .find(|c| c.0 == id)
            .map_or(rmt_vectors::scenario::Level::Must, |c| c.1)
    };
    let failing = |r: &crate::lab::webrc::ReceiverReport| -> Vec<CaseResult> {
        r.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| CaseResult {
                id: c.id.to_string(),
                rfc: 3738,
                section: c.id.split('/').nth(1).unwrap_or("").to_string(),
                level: level(c.id),
                role: Role::Receiver,
                outcome: Outcome::Fail,
                detail: format!("{}: {}", r.label(), c.detail),
                duration_ms: 0,
            })
            .collect()
    };
    let mut rows = Vec::new();
    let mut reference = Vec::new();
    for r in &report.receivers {
        match r.mutant {
            None => reference.extend(failing(r)),
            Some(m) => rows.push(Row {
                mutant: m.name().to_string(),
                role: Role::Receiver,
                meant_for: vec![m.meant_for().to_string()],
                failed_by: failing(r).into_iter().map(|c| (c.id, c.outcome)).collect(),
            }),
        }
    }
    (rows, reference)
}

/// Receiver and sender mutants together, and the lab section when `lab` is Ok (else why
/// not).
pub fn matrix(
    scenarios: &[Scenario],
    work: &Path,
    lab: Result<(), String>,
) -> Result<Matrix, String> {
    let (mut rows, mut reference_not_passing) = receiver_rows(scenarios, work);
    let (sender, sender_reference) = sender_rows()?;
    rows.extend(sender);
    reference_not_passing.extend(sender_reference);
    let lab_skipped = match lab {
        Ok(()) => {
            let (lab_rows, lab_reference) = lab_rows(LAB_SECONDS)?;
            rows.extend(lab_rows);
            reference_not_passing.extend(lab_reference);
            None
        }
        Err(why) => Some(why),
    };
    Ok(Matrix {
        rows,
        reference_not_passing,
        lab_skipped,
    })
}

/// The kill matrix as a table: mutant, role, the cases meant for it (each marked killed or
/// not), every case that fails it, and whether it is killed as meant.
pub fn table(m: &Matrix) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec![
            "mutant",
            "role",
            "meant to be caught by",
            "failed by",
            "killed",
        ]);
    for r in &m.rows {
        let meant: Vec<String> = r
            .meant_for
            .iter()
            .map(|id| {
                let hit = r.failed_by.iter().any(|(f, _)| f == id);
                format!("{id} {}", if hit { "✓" } else { "✗" })
            })
            .collect();
        let failed: Vec<String> = r
            .failed_by
            .iter()
            .map(|(id, o)| format!("{id} ({})", o.as_str()))
            .collect();
        t.add_row(vec![
            r.mutant.clone(),
            format!("{:?}", r.role).to_lowercase(),
            meant.join("\n"),
            if failed.is_empty() {
                "(none)".to_string()
            } else {
                failed.join("\n")
            },
            match (r.killed_as_meant(), r.killed_by_warnings_only()) {
                (true, false) => "yes",
                (true, true) => "yes (warn only)",
                (false, _) => "NO",
            }
            .to_string(),
        ]);
    }
    t.to_string()
}

/// The kill matrix as JSON (`rmt-conform mutants --format json`): the score, one row per
/// mutant (the cases meant for it, every case that fails it, killed, killed by warnings only),
/// and the reference's results that are not a pass.
pub fn json(m: &Matrix) -> String {
    let (killed, total) = m.score();
    let rows: Vec<_> = m
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "mutant": r.mutant,
                "role": r.role,
                "meant_for": r.meant_for,
                "failed_by": r
                    .failed_by
                    .iter()
                    .map(|(id, o)| serde_json::json!({"id": id, "outcome": o}))
                    .collect::<Vec<_>>(),
                "killed": r.killed_as_meant(),
                "warn_only": r.killed_by_warnings_only(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "killed": killed,
        "mutants": total,
        "rows": rows,
        "reference_not_passing": m.reference_not_passing,
        "lab_skipped": m.lab_skipped,
    }))
    .expect("serialisable")
}
