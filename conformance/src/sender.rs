//! Sender conformance from packets: the inspector's findings on a capture (or a live capture,
//! or the traffic of a command run in a namespace) decide each sender case.

use rmt_inspector::registry;
use rmt_inspector::wire::finding::FindingKind;
use std::time::Instant;

use rmt_inspector::inspect::check::{CaptureContent, FindingCounts};
use rmt_inspector::wire::flute_flavor::FluteFlavor;
use rmt_inspector::wire::Severity;
use rmt_reference::sender::Mode;

use crate::catalogue::{matches, Case, Check};
use crate::outcome::Outcome;
use crate::runner::CaseResult;
use rmt_vectors::scenario::Level;

/// What a sender case needs in the capture to have anything to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    AlcPackets,
    Objects,
    Flute,
    Fcast,
    Cids,
    CloseSession,
    CloseObject,
}

fn needs(case_id: &str) -> Needs {
    match case_id {
        "rfc5651/5.1/close-session-sticky" | "rfc5651/5.1/no-data-after-close-session" => {
            Needs::CloseSession
        }
        "rfc5651/5.1/close-object-sticky" => Needs::CloseObject,
        "rfc5052/6.2.4/no-instance-id-for-fully-specified" => Needs::Flute,
        id if id.starts_with("rfc6726/") => Needs::Flute,
        id if id.starts_with("rfc6968/2.2/") || id.starts_with("rfc6968/3.5/") => Needs::Cids,
        id if id.starts_with("rfc6968/") => Needs::Fcast,
        id if id.starts_with("rfc5052/") || id == "rfc5775/4.2/oti-constant-per-object" => {
            Needs::Objects
        }
        _ => Needs::AlcPackets,
    }
}

/// Why a case has nothing to judge in a capture with `content`, if it has not. `declared`: the
/// protocol the sender is said to speak (`rmt-conform sender --mode`); a FLUTE sender that sends
/// no FDT, or an FCAST sender whose objects have no FCAST header, is then judged, not excused.
fn not_applicable(case_id: &str, c: &CaptureContent, declared: Option<Mode>) -> Option<String> {
    let n = needs(case_id);
    let other_protocol = match (n, declared) {
        (Needs::Flute, Some(Mode::Fcast)) => Some("FLUTE"),
        (Needs::Fcast | Needs::Cids, Some(Mode::Flute)) => Some("FCAST"),
        _ => None,
    };
    if let Some(p) = other_protocol {
        return Some(format!(
            "a {p} rule, and the sender is declared to speak the other protocol"
        ));
    }
    let missing = match n {
        Needs::AlcPackets => c.alc_packets == 0,
        Needs::Objects => c.data_tois == 0,
        Needs::Flute => c.flute_sessions == 0 && declared != Some(Mode::Flute),
        Needs::Fcast => c.fcast_objects == 0 && declared != Some(Mode::Fcast),
        Needs::Cids => c.cids == 0,
        Needs::CloseSession => !c.close_session,
        Needs::CloseObject => !c.close_object,
    };
    missing.then(|| {
        match n {
            Needs::AlcPackets => "no ALC packet in the capture",
            Needs::Objects => "no object data in the capture",
            Needs::Flute => "no FDT Instance in the capture (give --mode flute to require one)",
            Needs::Fcast => "no FCAST object in the capture (give --mode fcast to require one)",
            Needs::Cids => "no CID in the capture",
            Needs::CloseSession => "no packet with the close-session flag (A) in the capture",
            Needs::CloseObject => "no packet with the close-object flag (B) in the capture",
        }
        .to_string()
    })
}

/// Failures the findings cannot show because the thing judged is missing altogether: a
/// declared FLUTE sender with object data and no FDT Instance, a declared FCAST sender whose
/// objects have no FCAST header.
fn missing_signalling(case_id: &str, c: &CaptureContent, declared: Option<Mode>) -> Option<String> {
    match (case_id, declared) {
        ("rfc6726/3.3/every-file-in-the-fdt", Some(Mode::Flute))
            if c.data_tois > 0 && c.flute_sessions == 0 =>
        {
            Some(format!(
                "{} TOIs carry data and no FDT Instance was sent (RFC 6726 §3.3)",
                c.data_tois
            ))
        }
        ("rfc6968/2.1/fcast-header", Some(Mode::Fcast))
            if c.data_tois > 0 && c.fcast_objects == 0 =>
        {
            Some(format!(
                "{} TOIs carry data and no complete object has an FCAST header (RFC 6968 §2.1)",
                c.data_tois
            ))
        }
        _ => None,
    }
}

/// The inspector's caps: what they turned away was not judged.
const CAP_FINDINGS: &[&FindingKind] =
    &[&registry::track::OBJECTS_CAP, &registry::track::BUFFER_CAP];

/// What the sender is declared to speak (`rmt-conform sender --mode`, `--flavor`), where the
/// capture alone would not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declared {
    /// Its protocol: the rules of the other are not-applicable, and its own apply even when
    /// the capture lacks what they judge.
    pub mode: Option<Mode>,
    /// The FLUTE flavour it is judged by, instead of the one its capture shows.
    pub flavor: Option<FluteFlavor>,
}

impl Declared {
    pub fn mode(mode: Mode) -> Self {
        Declared {
            mode: Some(mode),
            flavor: None,
        }
    }
}

/// Findings that break RFC 6726 but not the rules of the flavour the sender speaks: a FLUTE v1
/// sender is judged by RFC 3926, not failed for lacking RFC 6726's namespace. (finding,
/// flavour, why). Only findings a sender case counts belong here.
const FLAVOR_EXCUSES: &[(&FindingKind, FluteFlavor, &str)] = &[(
    &registry::flute::FDT_NAMESPACE_MISSING,
    FluteFlavor::Rfc3926,
    "RFC 3926's own FDT example (Appendix B) has no namespace",
)];

/// Whether `finding` is excused for a sender whose capture shows `seen` and which is judged by
/// `judged` (the declared flavour, else `seen`), and why. Only when the capture shows the
/// judged flavour's EXT_FDT version: declaring a v1 flavour does not excuse a sender that
/// sends V=2, nor one that speaks no one flavour.
fn excused(
    finding: &str,
    seen: Option<FluteFlavor>,
    judged: Option<FluteFlavor>,
) -> Option<&'static str> {
    let (seen, judged) = (seen?, judged?);
    if seen.ext_fdt_version() != judged.ext_fdt_version() {
        return None;
    }
    FLAVOR_EXCUSES
        .iter()
        .find(|(kind, f, _)| kind.id == finding && *f == judged)
        .map(|(_, _, why)| *why)
}

/// Whether a case judges objects (their data, FDT or CID), which a cap may have turned away.
fn judges_objects(case_id: &str) -> bool {
    !matches!(
        needs(case_id),
        Needs::AlcPackets | Needs::CloseSession | Needs::CloseObject
    )
}

/// Judges every sender case on the findings of one capture: pass, fail (warn for SHOULD), or
/// not-applicable when the capture holds nothing the case judges. A case about objects that
/// would pass is could-not-test when one of the inspector's caps turned objects away: what
/// was not tracked was not judged.
pub fn judge_sender(
    cases: &[Case],
    findings: &FindingCounts,
    content: &CaptureContent,
    declared: Declared,
    strict: bool,
) -> Vec<CaseResult> {
    let seen = content.flute_flavor;
    let judged = declared.flavor.or(seen);
    // The inspector's caps that turned something away, once for every case.
    let capped: Vec<String> = CAP_FINDINGS
        .iter()
        .filter_map(|kind| {
            findings.get(kind.id).map(|c| {
                format!(
                    "{}: {}x, first in frame {}",
                    kind.id, c.count, c.first_frame
                )
            })
        })
        .collect();
    let explicit: std::collections::BTreeSet<&str> = crate::catalogue::sender_cases()
        .iter()
        .filter_map(|c| match &c.check {
            Check::NoFinding(p) => Some(p.clone()),
            Check::Scenario(_) | Check::Lab => None,
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
            let named = |id: &&str| {
                patterns
                    .iter()
                    .any(|p| matches(p, id) && (!p.ends_with('*') || !explicit.contains(*id)))
            };
            let mut hits: Vec<String> = findings
                .iter()
                .filter(|(_, c)| c.severity >= Severity::Warning)
                .filter(|(id, _)| named(id) && excused(id, seen, judged).is_none())
                .map(|(id, c)| c.describe(id))
                .collect();
            let excuses: Vec<String> = findings
                .keys()
                .filter(|id| named(id))
                .filter_map(|id| {
                    let why = excused(id, seen, judged)?;
                    let flavor = judged?.title();
                    Some(format!("{id} not counted: a {flavor} sender ({why})"))
                })
                .collect();
            hits.extend(missing_signalling(&c.id, content, declared.mode));
            let required = c.level == Level::Must || strict;
            let excuse = not_applicable(&c.id, content, declared.mode);
            let outcome = match (hits.is_empty(), required, &excuse) {
                (true, _, Some(_)) => Outcome::NotApplicable,
                (true, _, None) => Outcome::Pass,
                (false, true, _) => Outcome::Fail,
                (false, false, _) => Outcome::Warn,
            };
            if let (Outcome::NotApplicable, Some(why)) = (outcome, excuse) {
                hits.push(why);
            }
            if outcome == Outcome::Pass {
                hits.extend(excuses);
            }
            let outcome = if outcome == Outcome::Pass && judges_objects(&c.id) && !capped.is_empty() {
                hits.push(format!(
                    "not judged: the inspector turned objects away ({}); what it did not track may break the rule",
                    capped.join("; ")
                ));
                Outcome::CouldNotTest
            } else {
                outcome
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flavour_excuses_only_a_capture_that_shows_its_ext_fdt_version() {
        let missing = "flute.fdt.namespace.missing";
        let (v1, v2) = (Some(FluteFlavor::Rfc3926), Some(FluteFlavor::Rfc6726));
        // MCLv3: V=1 and no namespace, judged as what it shows.
        assert!(excused(missing, v1, v1).is_some());
        // Declared RFC 3926 on a sender that sends V=2, or that speaks no one flavour:
        // nothing excused.
        assert!(excused(missing, v2, v1).is_none());
        assert!(excused(missing, None, v1).is_none());
        // Judged by RFC 6726: nothing excused either.
        assert!(excused(missing, v1, v2).is_none());
        assert!(excused("flute.fdt.expires.missing", v1, v1).is_none());
    }
}
