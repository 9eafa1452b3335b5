//! `-z` statistics: sessions, objects, findings and FDT instances, as tables (comfy-table) or,
//! with `-T json`, as JSON lines that link to each other by IDs (Zeek style: `session` in an
//! object line is the `uid` of its session line).

use std::time::Duration;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde_json::json;

use crate::inspect::inspection::FindingCount;
pub use crate::inspect::inspection::FindingCounts;
use crate::inspect::inspection::Inspection;
use crate::track::object_log::{ObjectLog, ObjectRecord};
use crate::track::route_signalling::RouteSignalling;
use crate::track::session::SessionTracker;
use crate::wire::fdt::{expires_to_ntp_seconds, ntp_seconds};
use crate::wire::route::{DeliveryMode, Profile};

pub struct Stats<'a> {
    pub sessions: &'a SessionTracker,
    pub log: &'a ObjectLog,
    pub findings: &'a FindingCounts,
    /// Which destinations are ROUTE and why (`-z sessions`'s profile column and footer).
    pub signalling: Option<&'a RouteSignalling>,
}

impl<'a> Stats<'a> {
    /// What a finished inspection shows.
    pub fn of(p: &'a Inspection) -> Self {
        Stats {
            sessions: &p.sessions,
            log: &p.objects,
            findings: &p.findings,
            signalling: None,
        }
    }

    /// With the profiles the dissector read each destination with.
    pub fn with_signalling(mut self, s: &'a RouteSignalling) -> Self {
        self.signalling = Some(s);
        self
    }

    /// A ROUTE session's role as its S-TSID says: the SLS (TSI 0), a source flow (with its
    /// payload formats) or a repair flow; `-` when no S-TSID describes it.
    fn route_flow(&self, channel: Option<&(std::net::IpAddr, u16)>, tsi: u64) -> String {
        let (Some(s), Some(c)) = (self.signalling, channel) else {
            return "-".into();
        };
        if !s.profile(*c).is_route() {
            return "-".into();
        }
        if tsi == 0 {
            return "SLS".into();
        }
        match s.stsid_channel(*c, tsi) {
            Some(Some(ch)) => {
                let mut parts = Vec::new();
                if ch.source {
                    let modes: std::collections::BTreeSet<&str> = ch
                        .payloads
                        .iter()
                        .map(|(cp, f)| {
                            DeliveryMode::of_format_id(*f)
                                .or(DeliveryMode::of_codepoint(*cp))
                                .map_or("?", DeliveryMode::name)
                        })
                        .collect();
                    let modes: Vec<&str> = modes.into_iter().collect();
                    parts.push(format!("source ({})", modes.join(", ")));
                }
                if let Some(r) = ch.repair_flow {
                    parts.push(format!("repair of TSI {}", r.protects_tsi));
                } else if ch.repair {
                    parts.push("repair".into());
                }
                parts.join(", ")
            }
            Some(None) => "not in the S-TSID".into(),
            None => "-".into(),
        }
    }

    /// The profile a session's packets were read with, and why.
    fn profile(&self, channel: Option<&(std::net::IpAddr, u16)>) -> (Profile, String) {
        match (self.signalling, channel) {
            (Some(s), Some(c)) => (s.profile(*c), s.why(*c)),
            _ => (
                Profile::Flute,
                "no SLT or S-TSID names this destination".into(),
            ),
        }
    }
}

fn session_uid(stats: &Stats, sender: std::net::IpAddr, tsi: u64) -> String {
    let idx = stats
        .sessions
        .sessions
        .keys()
        .position(|k| *k == (sender, tsi))
        .unwrap_or(usize::MAX);
    format!("S{}", idx.wrapping_add(1))
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

pub fn sessions(stats: &Stats, json: bool) -> String {
    let mut out = String::new();
    let mut t = table(&[
        "uid",
        "sender",
        "TSI",
        "channels",
        "packets",
        "bytes",
        "rate (bit/s)",
        "first",
        "last",
        "close-session",
        "CCI",
        "flavour",
        "profile",
        "ROUTE flow",
    ]);
    let mut reasons = std::collections::BTreeMap::new();
    for (i, s) in stats.sessions.sessions.values().enumerate() {
        let dur = secs(s.last.saturating_sub(s.first));
        let rate = if dur > 0.0 {
            (s.bytes as f64 * 8.0 / dur).round() as u64
        } else {
            0
        };
        let channels: Vec<String> = s
            .channels
            .iter()
            .map(|(ip, port)| format!("{ip}:{port}"))
            .collect();
        let close = s
            .close_session_frame
            .map_or("no".to_string(), |f| format!("frame {f}"));
        let uid = format!("S{}", i + 1);
        let flavor = s.flute_flavor();
        let (profile, why) = stats.profile(s.channels.iter().next());
        let route_flow = stats.route_flow(s.channels.iter().next(), s.tsi);
        if json {
            out.push_str(&json!({"log": "sessions", "uid": uid, "sender": s.sender.to_string(), "tsi": s.tsi, "channels": channels, "packets": s.packets, "bytes": s.bytes, "rate_bps": rate, "first": secs(s.first), "last": secs(s.last), "close_session_frame": s.close_session_frame, "cci_bits": s.cci_bits, "flavor": flavor.map(|f| f.name()), "ext_fdt_version": s.ext_fdt_version, "profile": profile.name(), "profile_why": why, "route_flow": route_flow}).to_string());
            out.push('\n');
        } else {
            t.add_row(vec![
                uid,
                s.sender.to_string(),
                s.tsi.to_string(),
                channels.join(" "),
                s.packets.to_string(),
                s.bytes.to_string(),
                rate.to_string(),
                format!("{:.6}", secs(s.first)),
                format!("{:.6}", secs(s.last)),
                close,
                format!("{} bits", s.cci_bits),
                flavor.map_or("-".to_string(), |f| f.title().to_string()),
                profile.name().to_string(),
                route_flow,
            ]);
            if let Some(c) = s.channels.iter().next() {
                reasons.insert(format!("{}:{}", c.0, c.1), (profile, why));
            }
        }
    }
    if !json {
        out = format!("Sessions\n{t}\n");
        // Why each destination has its profile (ROUTE ones, or all when one is ROUTE).
        if reasons.values().any(|(p, _)| p.is_route()) {
            out.push_str("Profiles\n");
            for (channel, (profile, why)) in reasons {
                out.push_str(&format!("  {channel}: {}: {why}\n", profile.name()));
            }
        }
    }
    out
}

pub fn objects(stats: &Stats, json: bool) -> String {
    let mut out = String::new();
    let mut t = table(&[
        "session",
        "TSI",
        "TOI",
        "incarnation",
        "Content-Location",
        "FEC",
        "length",
        "symbols",
        "recoverable",
        "missing bytes",
        "close-object",
    ]);
    // In the order objects first appeared (they leave the assembler as they complete).
    let mut rows: Vec<&ObjectRecord> = stats
        .log
        .records
        .iter()
        .filter(|r| r.key.fdt_instance.is_none())
        .collect();
    rows.sort_by_key(|r| r.first_frame);
    for r in rows {
        let uid = session_uid(stats, r.key.sender, r.key.tsi);
        let fcast = r.description();
        if json {
            out.push_str(&json!({"log": "objects", "session": uid, "sender": r.key.sender.to_string(), "tsi": r.key.tsi, "toi": r.key.toi.to_string(), "incarnation": r.key.incarnation, "content_location": r.content_location, "fec_encoding_id": r.encoding_id, "transfer_length": r.transfer_length, "symbols_received": r.symbols_received, "symbols_needed": r.symbols_needed, "recoverable": r.recoverable, "missing_bytes": r.missing_bytes, "close_object": r.close_object, "blocks": r.per_block.iter().map(|(sbn, got, k)| json!({"sbn": sbn, "received": got, "needed": k})).collect::<Vec<_>>(), "error": r.error, "fcast": fcast}).to_string());
            out.push('\n');
        } else {
            t.add_row(vec![
                uid,
                r.key.tsi.to_string(),
                r.key.toi.to_string(),
                r.key.incarnation.to_string(),
                match (&r.content_location, &fcast) {
                    (Some(l), _) => l.clone(),
                    (None, Some(f)) => f.clone(),
                    (None, None) => "-".into(),
                },
                r.encoding_id.map_or("-".into(), |e| e.to_string()),
                r.transfer_length.map_or("-".into(), |l| l.to_string()),
                format!("{}/{}", r.symbols_received, r.symbols_needed),
                if r.recoverable {
                    "yes".into()
                } else {
                    r.error.clone().map_or("no".into(), |e| format!("no: {e}"))
                },
                r.missing_bytes.to_string(),
                if r.close_object {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]);
        }
    }
    let log = stats.log;
    if json {
        out.push_str(&json!({"log": "objects_total", "objects": log.objects, "recoverable": log.recoverable, "listed": log.objects - log.forgotten.min(log.objects)}).to_string());
        out.push('\n');
    } else {
        let earlier = if log.forgotten > 0 {
            format!(", the last {} listed", log.records.len())
        } else {
            String::new()
        };
        out = format!(
            "Objects\n{t}\n{} objects, {} recoverable{earlier}\n",
            log.objects, log.recoverable
        );
    }
    out
}

/// `-z cid`: the Carousel Instance Descriptors (RFC 6968 §2.2) of FCAST sessions, one per
/// carousel instance seen, in capture order: CIID, Complete, objects listed (counted without
/// expanding intervals), the Object List, and how many listed TOIs have packets in the capture.
pub fn cid(stats: &Stats, json: bool) -> String {
    let mut out = String::new();
    let mut t = table(&[
        "session",
        "TOI",
        "CIID",
        "complete",
        "objects",
        "seen",
        "object list",
        "first frame",
    ]);
    let mut rows: Vec<&ObjectRecord> = stats
        .log
        .records
        .iter()
        .filter(|r| r.cid.is_some())
        .collect();
    rows.sort_by_key(|r| r.first_frame);
    for r in rows {
        let Some(cid) = &r.cid else { continue };
        let uid = session_uid(stats, r.key.sender, r.key.tsi);
        let seen = stats
            .log
            .records
            .iter()
            .filter(|o| {
                (o.key.sender, o.key.tsi) == (r.key.sender, r.key.tsi)
                    && cid.object_list.contains(o.key.toi)
            })
            .count();
        let list = cid.object_list.emit();
        if json {
            out.push_str(&json!({"log": "cid", "session": uid, "toi": r.key.toi.to_string(), "ciid": cid.ciid, "complete": cid.complete, "objects": cid.object_list.object_count.to_string(), "objects_seen": seen, "object_list": list, "first_frame": r.first_frame}).to_string());
            out.push('\n');
        } else {
            let shown: String = if list.len() > 60 {
                format!("{}...", &list[..57])
            } else {
                list
            };
            t.add_row(vec![
                uid,
                r.key.toi.to_string(),
                cid.ciid.map_or("-".into(), |c| c.to_string()),
                if cid.complete { "yes" } else { "no" }.to_string(),
                cid.object_list.object_count.to_string(),
                seen.to_string(),
                shown,
                r.first_frame.to_string(),
            ]);
        }
    }
    if !json {
        out = format!("Carousel Instance Descriptors (FCAST)\n{t}\n");
    }
    out
}

pub fn findings(stats: &Stats, json: bool) -> String {
    let mut out = String::new();
    let mut t = table(&["ID", "severity", "RFC", "count", "first frame"]);
    for (
        id,
        FindingCount {
            severity: sev,
            rule,
            count,
            first_frame: first,
        },
    ) in stats.findings
    {
        if json {
            out.push_str(&json!({"log": "findings", "id": id, "severity": sev, "rfc": rule, "count": count, "first_frame": first}).to_string());
            out.push('\n');
        } else {
            t.add_row(vec![
                id.to_string(),
                format!("{sev:?}").to_lowercase(),
                rule.to_string(),
                count.to_string(),
                first.to_string(),
            ]);
        }
    }
    if !json {
        out = format!("Findings\n{t}\n");
    }
    out
}

pub fn fdt(stats: &Stats, json: bool) -> String {
    let mut out = String::new();
    let mut t = table(&[
        "session",
        "FDT instance",
        "frame",
        "Expires (s from then)",
        "Complete",
        "files",
    ]);
    for e in &stats.log.fdt {
        let (key, frame) = (&e.key, &e.frame);
        let uid = session_uid(stats, key.sender, key.tsi);
        // Expires is relative to the capture time of the packet that completed the instance.
        let now_ntp = ntp_seconds(e.time);
        let expires_in = e
            .expires
            .map(|x| expires_to_ntp_seconds(x, now_ntp) as i64 - now_ntp as i64);
        let files: Vec<String> = e
            .files
            .iter()
            .map(|(toi, location)| format!("{toi}={location}"))
            .collect();
        if json {
            out.push_str(&json!({"log": "fdt", "session": uid, "instance_id": key.fdt_instance, "frame": frame, "expires_in_s": expires_in, "complete": e.complete, "files": files}).to_string());
            out.push('\n');
        } else {
            t.add_row(vec![
                uid,
                key.fdt_instance.map_or("-".into(), |i| i.to_string()),
                frame.to_string(),
                expires_in.map_or("-".into(), |e| e.to_string()),
                e.complete.map_or("-".into(), |c| c.to_string()),
                files.join(" "),
            ]);
        }
    }
    if !json {
        let earlier = match stats.log.fdt_forgotten {
            0 => String::new(),
            n => format!("{n} earlier FDT Instances not listed\n"),
        };
        out = format!("FDT instances\n{t}\n{earlier}");
    }
    out
}
