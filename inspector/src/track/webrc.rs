//! WEBRC checks on a capture of a sender (all channels joined), RFC 3738 §3.1.2 and §5: the
//! CCI of every packet of a session, decoded with `--webrc`.
//!
//! T is the base channel's CN (the highest CN seen: waves are 0..T-1). Checked as packets
//! come: CTSI steps by +1 mod T on all channels at once; PSNs are consecutive per channel (a
//! wave starts a new run after its last PSN 2^16-1 / 2^32-1); a wave does not send in the slot
//! after its last one (CTSI = CN + 1, always quiescent as Q >= 1); a wave's last packet in its
//! final slot has the largest PSN. Checked at the end, from packet counts per slot: the base
//! channel sends the same number L of packets in every complete slot and starts each slot with
//! PSN ≡ 0 (mod L); a wave's rate falls from slot to slot (except its first two slots, which
//! the RFC lets the sender reshape); slots last the same time (TSD).

use crate::registry;
use crate::wire::finding::FindingKind;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::wire::webrc_cci::{CciForm, WebrcCci};

/// A finding of the WEBRC checks: ID, severity, RFC rule, detail, at a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebrcFinding {
    pub frame: u64,
    pub kind: &'static FindingKind,
    pub detail: String,
}

/// Per-slot packet counts kept per session at most (memory stays bounded on long captures).
const MAX_COUNTS: usize = 100_000;

#[derive(Debug, Clone, Default)]
pub struct WebrcSession {
    form: Option<CciForm>,
    /// Highest CN seen: T once the base channel is seen.
    t: u16,
    ctsi: Option<u16>,
    /// Slots seen since the first packet (an absolute slot number, free of the mod-T wrap).
    slot: u64,
    slot_started: Vec<Duration>,
    /// Per CN: last PSN and the slot it was seen in.
    last: BTreeMap<u16, (u32, u64)>,
    /// Per (CN, slot): packets, and for the base channel the slot's first PSN.
    counts: BTreeMap<(u16, u64), u64>,
    base_first_psn: BTreeMap<u64, u32>,
}

impl WebrcSession {
    fn max_psn(&self) -> u32 {
        match self.form {
            Some(CciForm::Long) => u32::MAX,
            _ => u32::from(u16::MAX),
        }
    }

    /// T is the highest CN seen once a whole slot has gone by: the base channel sends in every
    /// slot, but the first packets of a capture may all be waves.
    fn knows_t(&self) -> bool {
        self.slot >= 2
    }

    fn finding(frame: u64, kind: &'static FindingKind, detail: String) -> WebrcFinding {
        WebrcFinding {
            frame,
            kind,
            detail,
        }
    }

    /// A wave's packet in the first slot of its quiescent period (CTSI = CN + 1 mod T): a
    /// wave sends in the N slots from CTSI = CN only (RFC 3738 §3.1.2).
    fn sent_when_quiescent(&self, frame: u64, cci: &WebrcCci, t: u16) -> Option<WebrcFinding> {
        let slot_after = (i64::from(cci.ctsi) - i64::from(cci.cn)).rem_euclid(i64::from(t)) == 1;
        let wave = cci.cn != self.t;
        (self.knows_t() && wave && slot_after).then(|| {
            let detail = format!(
                "wave {} sends in slot {}, the first of its quiescent period",
                cci.cn, cci.ctsi
            );
            Self::finding(frame, &registry::webrc::WAVE_SENT_WHEN_QUIESCENT, detail)
        })
    }

    /// One packet of the session; returns what it breaks.
    pub fn push(&mut self, frame: u64, at: Duration, cci: &WebrcCci) -> Vec<WebrcFinding> {
        let mut out = Vec::new();
        self.form.get_or_insert(cci.form);
        self.t = self.t.max(cci.cn);
        let t = self.t.max(1);
        match self.ctsi {
            None => {
                self.ctsi = Some(cci.ctsi);
                self.slot_started.push(at);
            }
            Some(current) if current != cci.ctsi => {
                let step = (i64::from(cci.ctsi) - i64::from(current)).rem_euclid(i64::from(t));
                if step != 1 {
                    out.push(Self::finding(frame, &registry::webrc::CTSI_NOT_CONSECUTIVE, format!(
                            "CTSI {} after {current} (T = {t}): CTSI steps by 1 mod T on all channels at once",
                            cci.ctsi
                        ), ));
                }
                // The wave that just ended (CN = previous CTSI) ends on the largest PSN.
                if let Some((psn, slot)) = self.last.get(&current) {
                    if self.knows_t()
                        && *slot == self.slot
                        && current < self.t
                        && *psn != self.max_psn()
                    {
                        out.push(Self::finding(
                            frame,
                            &registry::webrc::WAVE_LAST_PSN,
                            format!(
                                "wave {current} ended its slot with PSN {psn}, not {}",
                                self.max_psn()
                            ),
                        ));
                    }
                }
                self.ctsi = Some(cci.ctsi);
                self.slot += 1;
                if self.slot_started.len() < MAX_COUNTS {
                    self.slot_started.push(at);
                }
            }
            Some(_) => {}
        }
        let is_base = cci.cn == self.t;
        out.extend(self.sent_when_quiescent(frame, cci, t));
        if let Some((last, _)) = self.last.get(&cci.cn) {
            let restart = *last == self.max_psn();
            let expected = last.wrapping_add(1) & self.max_psn();
            // Base PSNs wrap at the largest multiple of L (§3.1.2): a return to 0 is allowed.
            let base_wrap = is_base && cci.psn == 0;
            if !restart && !base_wrap && cci.psn != expected {
                out.push(Self::finding(
                    frame,
                    &registry::webrc::PSN_NOT_CONSECUTIVE,
                    format!(
                        "channel {}: PSN {} after {last} (or packets missing from the capture)",
                        cci.cn, cci.psn
                    ),
                ));
            }
        }
        self.last.insert(cci.cn, (cci.psn, self.slot));
        if self.counts.len() < MAX_COUNTS {
            *self.counts.entry((cci.cn, self.slot)).or_default() += 1;
            if is_base {
                self.base_first_psn.entry(self.slot).or_insert(cci.psn);
            }
        }
        out
    }

    /// End of capture: base channel per-slot counts and alignment, wave decay, slot lengths.
    pub fn finish(&self, last_frame: u64) -> Vec<WebrcFinding> {
        let mut out = Vec::new();
        // Complete slots only: not the first or the last of the capture.
        let complete = |slot: u64| slot > 0 && slot < self.slot;
        let base: Vec<(u64, u64)> = self
            .counts
            .iter()
            .filter(|((cn, slot), _)| *cn == self.t && complete(*slot))
            .map(|((_, slot), n)| (*slot, *n))
            .collect();
        if let Some(l) = most_common(base.iter().map(|(_, n)| *n)) {
            if let Some((slot, n)) = base.iter().find(|(_, n)| *n != l) {
                out.push(Self::finding(last_frame, &registry::webrc::BASE_PACKETS_PER_SLOT, format!("the base channel sent {n} packets in slot {slot} of the capture, {l} in most: L packets in every slot")));
            }
            let misaligned = base
                .iter()
                .filter_map(|(slot, _)| self.base_first_psn.get(slot).map(|p| (*slot, *p)))
                .find(|(_, psn)| u64::from(*psn) % l != 0);
            if let Some((slot, psn)) = misaligned {
                out.push(Self::finding(last_frame, &registry::webrc::BASE_PSN_ALIGNMENT, format!("slot {slot} of the capture starts the base channel at PSN {psn}, not a multiple of L = {l}")));
            }
        }
        // Waves: counts per consecutive complete slot; from the third slot of a run on, the
        // rate falls by P per slot.
        let mut runs: BTreeMap<u16, Vec<(u64, u64)>> = BTreeMap::new();
        for ((cn, slot), n) in &self.counts {
            if *cn != self.t && complete(*slot) {
                runs.entry(*cn).or_default().push((*slot, *n));
            }
        }
        'waves: for (cn, slots) in runs {
            let mut in_run = 0;
            for w in slots.windows(2) {
                let ((s0, n0), (s1, n1)) = (w[0], w[1]);
                in_run = if s1 == s0 + 1 { in_run + 1 } else { 0 };
                // One packet of slack for the slot boundary.
                if in_run >= 2 && n1 > n0 + 1 {
                    out.push(Self::finding(last_frame, &registry::webrc::WAVE_RATE_NOT_DECAYING, format!("wave {cn}: {n1} packets in slot {s1} of the capture after {n0} in slot {s0}; a wave's rate drops by P every TSD")));
                    break 'waves;
                }
            }
        }
        let lengths: Vec<f64> = self
            .slot_started
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]).as_secs_f64())
            .collect();
        // The first length starts at the capture's first packet, not at a slot start.
        let inner = lengths.get(1..).unwrap_or(&[]);
        if let Some(median) = median(inner) {
            if let Some(bad) = inner
                .iter()
                .find(|l| (*l - median).abs() > 0.1 * median + 0.005)
            {
                out.push(Self::finding(last_frame, &registry::webrc::TSD_IRREGULAR, format!("a time slot of {bad:.3} s where most last {median:.3} s: CTSI steps every TSD seconds")));
            }
        }
        out
    }
}

fn most_common(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut count: BTreeMap<u64, usize> = BTreeMap::new();
    for v in values {
        *count.entry(v).or_default() += 1;
    }
    count
        .into_iter()
        .max_by_key(|(v, n)| (*n, *v))
        .map(|(v, _)| v)
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}
