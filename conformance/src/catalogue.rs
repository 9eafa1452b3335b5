//! The case catalogue: every case has a stable ID `rfcNNNN/section/slug`, the RFC, section,
//! level, a one-line requirement, the role it tests and its check. Sender cases are judged from
//! packets by the inspector's findings; receiver cases are the scenarios of
//! `vectors/scenarios/`.

use serde::Serialize;

use rmt_vectors::scenario::{Level, Scenario};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Sender,
    Receiver,
}

#[derive(Debug, Clone, Serialize)]
pub enum Check {
    /// The sender passes when none of these finding IDs (an ID ending in `*` is a prefix) is
    /// raised on its traffic.
    NoFinding(Vec<&'static str>),
    /// A receiver scenario, by its ID.
    Scenario(String),
    /// A check of the WEBRC lab (`rmt-conform lab webrc`, root): judged from the sender's
    /// schedule, the bridge's memberships and the packets that reached the receiver's host.
    Lab,
}

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: String,
    pub rfc: u16,
    pub section: String,
    pub level: Level,
    pub requirement: String,
    pub role: Role,
    pub check: Check,
}

/// (ID, level, requirement, finding IDs) of the sender cases.
const SENDER_CASES: &[(&str, Level, &str, &[&str])] = &[
    ("rfc5651/5.1/version-1", Level::Must, "LCT version is 1.", &["lct.version.unsupported"]),
    ("rfc5651/5.1/hdr-len-consistent", Level::Must, "HDR_LEN covers the fixed header and the extensions, and no more than the datagram.", &["lct.hdr_len.too_small", "lct.hdr_len.exceeds_datagram", "lct.truncated"]),
    ("rfc5651/5.1/reserved-zero", Level::Must, "Reserved header bits are sent as 0.", &["lct.reserved.nonzero"]),
    ("rfc5651/5.2/extensions-well-formed", Level::Must, "Header extensions have HEL > 0 and fit in HDR_LEN.", &["lct.ext.hel_zero", "lct.ext.overrun"]),
    ("rfc5775/4.1/tsi-present", Level::Must, "S and H are not both 0: every ALC packet carries a TSI.", &["alc.tsi.absent"]),
    ("rfc5651/5.1/toi-presence-consistent", Level::Must, "The TOI is in every packet of a session or in none (FLUTE close-session excepted).", &["lct.toi.presence_mixed"]),
    ("rfc5775/2.2/cci-constant", Level::Must, "The CCI length does not change within a session.", &["alc.cci.length_changed"]),
    ("rfc5651/5.1/close-session-sticky", Level::Should, "Once A=1 is sent, A stays 1 in every later packet of the session.", &["lct.close_session.reverted"]),
    ("rfc5651/5.1/no-data-after-close-session", Level::Should, "No data follows the close-session beyond its last few seconds.", &["lct.after_close_session"]),
    ("rfc5651/5.1/close-object-sticky", Level::Should, "Once B=1 is sent for an object, B stays 1 in its later packets.", &["lct.close_object.reverted"]),
    ("rfc6726/5/cp-constant-per-object", Level::Must, "The codepoint (FEC Encoding ID) is the same in every packet of a TOI.", &["alc.cp.changed_within_object"]),
    ("rfc5775/4.2/oti-constant-per-object", Level::Must, "The FEC OTI of a TOI does not change.", &["alc.oti.changed_within_object"]),
    ("rfc6726/5/fti-and-fdt-agree", Level::Must, "EXT_FTI and the FDT give identical OTI for a TOI.", &["flute.oti.fti_fdt_mismatch"]),
    ("rfc6726/3.4.1/fdt-instance-id-not-reused", Level::Must, "A live FDT Instance ID is not reused for other content.", &["flute.fdt.instance_id.reused"]),
    ("rfc6726/3.4.1/toi0-with-ext-fdt", Level::Must, "Packets of TOI 0 carry EXT_FDT.", &["flute.toi0.without_ext_fdt"]),
    ("rfc6726/3.3/every-file-in-the-fdt", Level::Must, "Every file sent (TOI > 0) has an entry in an FDT Instance.", &["flute.toi.no_fdt_entry"]),
    ("rfc6726/3.3/fdt-parameters-immutable", Level::Must, "Later FDT Instances do not change the parameters of a TOI.", &["flute.fdt.parameters_changed"]),
    ("rfc6726/3.4.2/fdt-toi-unique", Level::Must, "An FDT Instance describes each TOI once.", &["flute.fdt.toi_duplicate"]),
    ("rfc6726/3.4.2/fdt-well-formed", Level::Must, "FDT Instances follow the schema: Expires present, TOI and Content-Location on every File, namespace, encoding.", &["flute.fdt.*"]),
    ("rfc5052/9.1/symbol-length", Level::Must, "Encoding symbols have the OTI's length (only the last source symbol may be shorter).", &["fec.symbol.length_mismatch"]),
    ("rfc5052/9.1/block-partitioning", Level::Must, "SBN and ESI stay within the RFC 5052 §9.1 block partitioning.", &["fec.sbn.out_of_range", "fec.esi.out_of_range"]),
    ("rfc5052/6.2.4/no-instance-id-for-fully-specified", Level::Must, "A Fully-Specified FEC scheme (ID < 128) is not given an FEC Instance ID.", &["flute.fdt.instance_id_with_fully_specified"]),
    ("rfc5052/4.1/oti-valid", Level::Must, "The FEC OTI is valid for its scheme.", &["fec.oti.*", "fec.encoding_id.unknown"]),
    ("rfc3738/3.1.1/no-ip-fragmentation", Level::Should, "ALC packets fit the path MTU: no IP fragmentation.", &["alc.ip.fragmented"]),
    ("rfc3738/3.1.2/ctsi-steps", Level::Must, "CTSI goes up by 1 mod T on all channels at once.", &["webrc.ctsi.not_consecutive"]),
    ("rfc3738/3.1.2/tsd-regular", Level::Should, "Time slots all last TSD seconds.", &["webrc.tsd.irregular"]),
    ("rfc3738/3.1.2/psn-per-channel", Level::Must, "PSNs are consecutive per channel, and a wave's last packet before quiescence has the largest PSN.", &["webrc.psn.not_consecutive", "webrc.wave.last_psn"]),
    ("rfc3738/3.1.2/wave-quiescent", Level::Must, "A wave channel sends nothing in the slots after its last active one.", &["webrc.wave.sent_when_quiescent"]),
    ("rfc3738/3.1.2/base-channel", Level::Must, "The base channel sends L packets per slot, the first with PSN ≡ 0 (mod L).", &["webrc.base.packets_per_slot", "webrc.base.psn_alignment"]),
    ("rfc3738/3.1.2/wave-decay", Level::Must, "A wave's rate drops by a factor P every TSD (its first two slots excepted).", &["webrc.wave.rate_not_decaying"]),
    ("rfc6968/2.1/fcast-checksum", Level::Must, "The FCAST checksum matches what G says it covers.", &["fcast.checksum.bad"]),
    ("rfc6968/2.1/fcast-header", Level::Must, "The FCAST header is well formed: version 0, Header Length, padding, metadata lines.", &["fcast.version.*", "fcast.truncated", "fcast.padding.*", "fcast.metadata.*", "fcast.mdenc.*", "fcast.mdfmt.*"]),
    ("rfc6968/2.2/cid-syntax", Level::Must, "CID Object Lists follow the ABNF and the ordering rules; Fcast-CID-Complete is 0 or 1.", &["fcast.cid.order", "fcast.cid.syntax", "fcast.cid.interval.*", "fcast.cid.equivalence.*", "fcast.cid.complete.invalid", "fcast.cid.id.invalid", "fcast.cid.empty_list_padded", "fcast.cid.number.too_large"]),
    ("rfc6726/3.3/fdt-not-expired-when-sent", Level::Must, "A sender MUST use an expiration time in the future upon creation of an FDT Instance relative to its Sender Current Time: no FDT Instance is sent after its Expires.", &["flute.fdt.expired_when_sent"]),
    ("rfc6968/2.2/ciid-increasing", Level::Must, "CIIDs go up with each Carousel Instance, and are present when there is more than one instance.", &["fcast.cid.ciid.decreased", "fcast.cid.ciid.missing"]),
    ("rfc6968/3.5/empty-instance-new-ciid", Level::Must, "An empty Carousel Instance has a new CIID.", &["fcast.cid.empty.same_ciid"]),
    ("rfc6968/3.6/toi-window", Level::Must, "Active TOIs occupy at most half of the TOI space (an older object is re-sent under a new TOI).", &["fcast.toi.window_exceeded"]),
    ("rfc6968/3.5/cid-lists-sent-objects", Level::Should, "The TOIs a CID lists are objects that are sent.", &["fcast.cid.toi_unseen"]),
    ("rfc5651/5.1/tsi-unique-per-channel", Level::Should, "One sender per TSI on a channel: the same TSI from two senders is two sessions a receiver may mix.", &["lct.tsi.multiple_senders"]),
];

/// (ID, level, requirement) of the WEBRC receiver checks of the lab
/// (`conformance/src/lab/webrc_checks.rs`). RFC 3738 §3.2.3 states the join target and the
/// slot-change leave as what the receiver does, without a keyword; they define the layering
/// every other receiver's rate relies on, and are held as MUST. `reaches-target` has no
/// sentence of its own (§3.2.3.6 "the receiver MAY join" once no rule forbids it): SHOULD,
/// with the threshold in its detail.
pub const LAB_CASES: &[(&str, Level, &str)] = &[
    ("rfc3738/3.2.1/base-channel-first", Level::Must, "The receiver first joins just the base channel, and no wave before the base channel's first packet."),
    ("rfc3738/3.2.3.6/join-next-layer", Level::Must, "Each wave join is of CN = (CTSI + NWC) mod T, CTSI the sender's at the time."),
    ("rfc3738/3.2.3.6/no-join-while-pending", Level::Must, "No join while the previous join waits for its first packet."),
    ("rfc3738/3.2.3.3/leave-lowest-layer", Level::Must, "A wave left during the session is the lowest layer of the previous slot (quiescent now) or a join that timed out."),
    ("rfc3738/3.2.3.3/left-at-slot-change", Level::Must, "A joined wave that goes quiescent at a time slot change is left by the time the receiver sees the new slot."),
    ("rfc3738/3.2.3.6/no-join-in-loss-event", Level::Must, "No join during a loss event (ARTT after a loss at the receiver's host)."),
    ("rfc3738/3.2.3.8/leave-after-silence", Level::Must, "After max{10, TSD} s without packets the receiver leaves the session and every group."),
    ("rfc3738/3.2/membership-on-the-network", Level::Must, "Joins and leaves are group memberships on the network, each one the receiver accounts for."),
    ("rfc3738/3.2.3.6/reaches-target", Level::Should, "A receiver whose link carries the base channel and the first wave twice over joins a wave."),
];

/// The lab's receiver checks as cases (role receiver, listed by `rmt-conform list`).
pub fn lab_cases() -> Vec<Case> {
    LAB_CASES
        .iter()
        .map(|(id, level, req)| Case {
            id: id.to_string(),
            rfc: 3738,
            section: id.split('/').nth(1).unwrap_or("").to_string(),
            level: *level,
            requirement: req.to_string(),
            role: Role::Receiver,
            check: Check::Lab,
        })
        .collect()
}

/// Sender cases that need the CCI decoded as WEBRC (`rmt-conform sender --webrc`), by ID.
pub fn needs_webrc(case_id: &str) -> bool {
    case_id.starts_with("rfc3738/3.1.2/")
}

pub fn sender_cases() -> Vec<Case> {
    SENDER_CASES
        .iter()
        .map(|(id, level, req, findings)| {
            let mut parts = id.split('/');
            let rfc = parts
                .next()
                .unwrap_or("")
                .trim_start_matches("rfc")
                .parse()
                .unwrap_or(0);
            let section = parts.next().unwrap_or("").to_string();
            Case {
                id: id.to_string(),
                rfc,
                section,
                level: *level,
                requirement: req.to_string(),
                role: Role::Sender,
                check: Check::NoFinding(findings.to_vec()),
            }
        })
        .collect()
}

pub fn receiver_cases(scenarios: &[Scenario]) -> Vec<Case> {
    scenarios
        .iter()
        .map(|s| Case {
            id: s.id.clone(),
            rfc: s.rfc,
            section: s.section.clone(),
            level: s.level,
            requirement: s.requirement.clone(),
            role: Role::Receiver,
            check: Check::Scenario(s.id.clone()),
        })
        .collect()
}

/// Whether a case is one of the sanity cases (`*/sanity-*`), which say whether the receiver
/// can be tested at all.
pub fn is_sanity(case_id: &str) -> bool {
    case_id
        .rsplit('/')
        .next()
        .is_some_and(|s| s.starts_with("sanity"))
}

/// Receiver cases in play order: `*/sanity-first`, then the other sanity cases (one per mode),
/// then the rest, `*/sanity-last` last.
pub fn play_order(cases: &mut [Case]) {
    cases.sort_by_key(|c| {
        let rank = if c.id.ends_with("/sanity-first") {
            0
        } else if c.id.ends_with("/sanity-last") {
            3
        } else if is_sanity(&c.id) {
            1
        } else {
            2
        };
        (rank, c.id.clone())
    });
}

/// Whether finding `id` matches a pattern (`x.*` is a prefix).
pub fn matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_keyed_by_rfc_and_section() {
        let scenarios = rmt_vectors::scenario::load_scenarios().unwrap();
        let mut all = sender_cases();
        all.extend(receiver_cases(&scenarios));
        all.extend(lab_cases());
        let mut ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate case IDs");
        for c in &all {
            let parts: Vec<&str> = c.id.split('/').collect();
            assert_eq!(parts.len(), 3, "{}", c.id);
            assert_eq!(parts[0], format!("rfc{}", c.rfc), "{}", c.id);
            assert!(
                parts[1] == c.section
                    || c.section.starts_with(parts[1])
                    || parts[1].starts_with(&c.section),
                "{}: section {}",
                c.id,
                c.section
            );
        }
        assert!(receiver_cases(&scenarios).len() >= 25);
    }

    #[test]
    fn each_webrc_mutant_is_meant_for_a_lab_case_and_each_id_is_one_mutants_at_most() {
        use rmt_reference::webrc::mutant::WebrcMutant;
        let lab: Vec<&str> = LAB_CASES.iter().map(|c| c.0).collect();
        let mut meant: Vec<&str> = WebrcMutant::ALL.iter().map(|m| m.meant_for()).collect();
        for id in &meant {
            assert!(lab.contains(id), "{id}: not a lab case");
        }
        meant.sort_unstable();
        meant.dedup();
        assert_eq!(meant.len(), WebrcMutant::ALL.len());
        for m in WebrcMutant::ALL {
            assert_eq!(m.name().parse::<WebrcMutant>(), Ok(m));
        }
    }

    #[test]
    fn sanity_cases_are_recognised_by_their_last_component_and_played_first() {
        assert!(is_sanity("rfc6726/3/sanity-first"));
        assert!(is_sanity("rfc6968/3/sanity-fcast"));
        assert!(!is_sanity("rfc6726/3.3/expired-fdt-not-used"));
        let scenarios = rmt_vectors::scenario::load_scenarios().unwrap();
        let mut cases = receiver_cases(&scenarios);
        play_order(&mut cases);
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids[..2],
            ["rfc6726/3/sanity-first", "rfc6968/3/sanity-fcast"]
        );
        assert_eq!(ids.last(), Some(&"rfc6726/3/sanity-last"));
    }

    #[test]
    fn every_sender_finding_pattern_names_registry_entries() {
        // A misspelt ID would make its case pass whatever the sender does.
        for (id, _, _, findings) in SENDER_CASES {
            for f in *findings {
                assert!(
                    rmt_inspector::registry::matching(f).next().is_some(),
                    "{id}: {f} names no entry of the findings registry"
                );
            }
        }
        assert!(rmt_inspector::registry::matching("lct.version.unsupportd")
            .next()
            .is_none());
    }
}
