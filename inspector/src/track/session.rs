//! Sessions, keyed by (sender IP, TSI) as RFC 5651 §5.1 and RFC 5775 §2.1 require, with the
//! rules that need more than one packet to check. Each finding has a stable ID, a severity and
//! the RFC rule, and is raised once per session and ID (with the first frame).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use crate::inspect::dissect::Dissected;
use crate::wire::finding::{Finding, Severity};
use crate::wire::lct::HET_FDT;

#[derive(Debug, Clone)]
pub struct SessionStats {
    pub sender: IpAddr,
    pub tsi: u64,
    /// Destination address and port of every channel seen.
    pub channels: BTreeSet<(IpAddr, u16)>,
    pub packets: u64,
    pub bytes: u64,
    pub first: Duration,
    pub last: Duration,
    pub close_session_frame: Option<u64>,
    /// LCT C of the first packet: the CCI is 32*(C+1) bits.
    pub cci_bits: u32,
    /// TOI field width in bits of the first packet that had one, or 0.
    toi_bits: Option<usize>,
    /// Per TOI: codepoint and whether B was seen.
    objects: BTreeMap<u128, (u8, bool)>,
    uses_fdt: bool,
    fdt_tois: BTreeSet<u128>,
    raised: BTreeSet<&'static str>,
}

#[derive(Debug, Default)]
pub struct SessionTracker {
    pub sessions: BTreeMap<(IpAddr, u64), SessionStats>,
    pub findings: Vec<(u64, Finding)>,
}

impl SessionTracker {
    fn raise(
        findings: &mut Vec<(u64, Finding)>,
        s: &mut SessionStats,
        frame: u64,
        id: &'static str,
        severity: Severity,
        rule: &'static str,
        detail: String,
    ) {
        if s.raised.insert(id) {
            findings.push((
                frame,
                Finding::new(
                    id,
                    severity,
                    "session",
                    0,
                    rule,
                    format!("sender {} TSI {}: {detail}", s.sender, s.tsi),
                ),
            ));
        }
    }

    pub fn push(&mut self, d: &Dissected) {
        let (Some(a), Some(flow)) = (&d.alc, d.flow) else {
            return;
        };
        let Some(tsi) = a.lct.tsi else { return };
        let frame = d.raw.frame;
        let s = self
            .sessions
            .entry((flow.src, tsi))
            .or_insert_with(|| SessionStats {
                sender: flow.src,
                tsi,
                channels: BTreeSet::new(),
                packets: 0,
                bytes: 0,
                first: d.raw.timestamp,
                last: d.raw.timestamp,
                close_session_frame: None,
                cci_bits: 32 * (u32::from(a.lct.c) + 1),
                toi_bits: None,
                objects: BTreeMap::new(),
                uses_fdt: false,
                fdt_tois: BTreeSet::new(),
                raised: BTreeSet::new(),
            });
        let f = &mut self.findings;
        s.channels.insert((flow.dst, flow.dst_port));
        s.packets += 1;
        s.bytes += a.symbol_len as u64;
        s.last = d.raw.timestamp;
        if let Some(closed) = s.close_session_frame {
            if !a.lct.close_session {
                Self::raise(
                    f,
                    s,
                    frame,
                    "lct.close_session.reverted",
                    Severity::Warning,
                    "RFC 5651 §5.1",
                    format!("A=0 after A=1 in frame {closed}"),
                );
            }
            if a.payload_id.is_some() {
                Self::raise(
                    f,
                    s,
                    frame,
                    "lct.after_close_session",
                    Severity::Warning,
                    "RFC 5651 §5.1",
                    format!("data after the close-session of frame {closed}"),
                );
            }
        }
        if a.lct.close_session && s.close_session_frame.is_none() {
            s.close_session_frame = Some(frame);
        }
        if 32 * (u32::from(a.lct.c) + 1) != s.cci_bits {
            Self::raise(
                f,
                s,
                frame,
                "alc.cci.length_changed",
                Severity::Error,
                "RFC 5775 §2.2",
                format!(
                    "CCI of {} bits, the session started with {}",
                    32 * (u32::from(a.lct.c) + 1),
                    s.cci_bits
                ),
            );
        }
        let toi_bits = 8 * a.lct.toi_len();
        let is_close = a.lct.close_session && a.payload_id.is_none();
        if !is_close && toi_bits > 0 {
            match s.toi_bits {
                None => s.toi_bits = Some(toi_bits),
                Some(bits) if bits != toi_bits => {
                    Self::raise(f, s, frame, "lct.toi.width_changed", Severity::Info, "RFC 6968 §3.6", format!("{toi_bits}-bit TOI field after {bits}-bit ones (compare TOIs by value)"));
                }
                _ => {}
            }
        } else if !is_close && s.toi_bits.is_some() {
            Self::raise(
                f,
                s,
                frame,
                "lct.toi.presence_mixed",
                Severity::Error,
                "RFC 5651 §5.1",
                "a packet without TOI in a session that uses TOIs".into(),
            );
        }
        let Some(toi) = a.lct.toi else { return };
        let has_fdt = a.lct.extension(HET_FDT).is_some();
        if has_fdt {
            s.uses_fdt = true;
        }
        if toi == 0 && !has_fdt && s.uses_fdt {
            Self::raise(
                f,
                s,
                frame,
                "flute.toi0.without_ext_fdt",
                Severity::Error,
                "RFC 6726 §3.3",
                "TOI 0 packet without EXT_FDT".into(),
            );
        }
        match s.objects.get_mut(&toi) {
            None => {
                s.objects.insert(toi, (a.lct.codepoint, a.lct.close_object));
            }
            Some((cp, b_seen)) => {
                let (cp, b_seen) = (*cp, *b_seen);
                if cp != a.lct.codepoint {
                    Self::raise(
                        f,
                        s,
                        frame,
                        "alc.cp.changed_within_object",
                        Severity::Error,
                        "RFC 5052 §6.1",
                        format!("TOI {toi}: codepoint {} after {cp}", a.lct.codepoint),
                    );
                }
                if b_seen && !a.lct.close_object {
                    Self::raise(
                        f,
                        s,
                        frame,
                        "lct.close_object.reverted",
                        Severity::Warning,
                        "RFC 5651 §5.1",
                        format!("TOI {toi}: B=0 after B=1"),
                    );
                }
                if a.lct.close_object {
                    if let Some(o) = s.objects.get_mut(&toi) {
                        o.1 = true;
                    }
                }
            }
        }
    }

    /// Records the TOIs an FDT instance of the session describes.
    pub fn fdt_files(&mut self, sender: IpAddr, tsi: u64, tois: impl IntoIterator<Item = u128>) {
        if let Some(s) = self.sessions.get_mut(&(sender, tsi)) {
            s.fdt_tois.extend(tois);
        }
    }

    /// End-of-capture checks: file data with no FDT entry (RFC 6726 §3.3).
    pub fn finish(&mut self, last_frame: u64) {
        let f = &mut self.findings;
        for s in self.sessions.values_mut() {
            if !s.uses_fdt {
                continue;
            }
            let orphans: Vec<u128> = s
                .objects
                .keys()
                .copied()
                .filter(|t| *t != 0 && !s.fdt_tois.contains(t))
                .collect();
            if !orphans.is_empty() {
                let mut list = orphans;
                list.sort_unstable();
                Self::raise(
                    f,
                    s,
                    last_frame,
                    "flute.toi.no_fdt_entry",
                    Severity::Error,
                    "RFC 6726 §3.3",
                    format!("TOIs with data but no FDT entry: {list:?}"),
                );
            }
        }
    }
}
