//! Sender conformance from packets: the inspector's findings on a capture (or a live capture,
//! or the traffic of a command run in a namespace) decide each sender case.

use std::time::Instant;

use rmt_inspector::inspect::check::FindingCounts;
use rmt_inspector::wire::Severity;

use crate::catalogue::{matches, Case, Check};
use crate::outcome::Outcome;
use crate::runner::CaseResult;
use rmt_vectors::scenario::Level;

/// Judges every sender case on the findings of one capture.
pub fn judge_sender(cases: &[Case], findings: &FindingCounts, strict: bool) -> Vec<CaseResult> {
    let explicit: std::collections::BTreeSet<&str> = crate::catalogue::sender_cases()
        .iter()
        .filter_map(|c| match &c.check {
            Check::NoFinding(p) => Some(p.clone()),
            Check::Scenario(_) => None,
        })
        .flatten()
        .filter(|p| !p.ends_with('*'))
        .collect();
    cases
        .iter()
        .filter_map(|c| {
            let started = Instant::now();
            let Check::NoFinding(patterns) = &c.check else {
                return None;
            };
            // Info findings break no rule; a prefix pattern leaves to other cases the IDs they
            // name explicitly.
            let hits: Vec<String> = findings
                .iter()
                .filter(|(_, (sev, ..))| *sev >= Severity::Warning)
                .filter(|(id, _)| {
                    patterns
                        .iter()
                        .any(|p| matches(p, id) && (!p.ends_with('*') || !explicit.contains(*id)))
                })
                .map(|(id, (sev, rule, count, frame))| {
                    format!("{id} ({sev:?}, {rule}): {count}x, first in frame {frame}")
                })
                .collect();
            let required = c.level == Level::Must || strict;
            let outcome = match (hits.is_empty(), required) {
                (true, _) => Outcome::Pass,
                (false, true) => Outcome::Fail,
                (false, false) => Outcome::Warn,
            };
            Some(CaseResult {
                id: c.id.clone(),
                rfc: c.rfc,
                section: c.section.clone(),
                level: c.level,
                role: c.role,
                outcome,
                detail: hits.join("; "),
                duration_ms: started.elapsed().as_millis(),
            })
        })
        .collect()
}
