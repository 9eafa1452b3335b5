//! Sessions, keyed by (sender IP, TSI) as RFC 5651 §5.1 and RFC 5775 §2.1 require, with the
//! rules that need more than one packet to check. Each finding has a stable ID, a severity and
//! the RFC rule, and is raised once per session and ID (with the first frame).

use crate::registry;
use crate::wire::finding::FindingKind;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::fec::scheme::{Codec, FecObject};
use crate::packet::Dissected;
use crate::track::assembler::ObjectReport;
use crate::track::fdt_description::{Described, FdtDescriptions, OnChange};
use crate::track::webrc::{WebrcFinding, WebrcSession};
use crate::wire::cid::{CidElement, CidObjectList};
use crate::wire::ext_fti::FecOti;
use crate::wire::fcast::CompoundObject;
use crate::wire::fdt::{expires_to_ntp_seconds, ntp_seconds, FdtFile, FdtInstance, FdtNamespace};
use crate::wire::flute_flavor::FluteFlavor;

use crate::track::toi_window;
use crate::wire::alc::AlcPacket;
use crate::wire::finding::{Finding, Severity};
use crate::wire::lct::{ExtensionBody, HET_FDT};
use crate::wire::route::RouteHeader;

impl SessionStats {
    /// The FLUTE flavour the session spoke (`None`: no FDT seen, e.g. FCAST, or versions or
    /// namespaces that changed within it).
    pub fn flute_flavor(&self) -> Option<FluteFlavor> {
        if self.flavor_mixed {
            return None;
        }
        FluteFlavor::identify(self.ext_fdt_version, self.fdt_namespace.as_ref())
    }
}

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
    close_session_time: Duration,
    /// LCT C of the first packet: the CCI is 32*(C+1) bits.
    pub cci_bits: u32,
    /// FLUTE: the EXT_FDT version of the first FDT packet.
    pub ext_fdt_version: Option<u8>,
    /// FLUTE: the first FDT Instance's namespace.
    pub fdt_namespace: Option<FdtNamespace>,
    /// FLUTE: EXT_FDT versions or FDT namespaces changed within the session: no one flavour.
    flavor_mixed: bool,
    /// TOI field width in bits of the first packet that had one, or 0.
    toi_bits: Option<usize>,
    /// Per TOI: what its packets showed (one map, one lookup per packet), for the TOI's current
    /// object.
    objects: BTreeMap<u128, ObjectSeen>,
    /// FCAST: objects whose TOI came back for a new object after it left the half-space window
    /// (RFC 6968 §3.6): (TOI, what the old object's packets showed), for the end-of-capture
    /// window check and the CID checks.
    retired: VecDeque<(u128, ObjectSeen)>,
    /// Retired objects forgotten past [`MAX_RETIRED`] (said by `track.toi_history.cap`).
    retired_evicted: u64,
    /// FCAST: the newest TOI seen, in the session's first TOI width.
    newest_toi: Option<u128>,
    /// The TOI of the previous packet: packets come in long runs of one object, and a run
    /// changes nothing in the window after its first packet.
    window_toi: Option<u128>,
    /// Objects marked exited and not yet retired: none (the usual case) spares the lookup of
    /// each packet's object.
    exited: usize,
    /// FCAST: the last CID's first frame, CIID and Object List, and the TOI ranges of recent CIDs not yet
    /// seen in the capture (see [`SessionTracker::resolve_cids`]).
    last_cid: Option<(u64, Option<u64>, CidObjectList)>,
    pending_cids: VecDeque<(u64, Vec<(u128, u128)>)>,
    /// The WEBRC schedule, when the CCI is decoded as WEBRC (`--webrc`).
    webrc: Option<Box<WebrcSession>>,
    uses_fdt: bool,
    /// FCAST: complete objects with an FCAST header, and CIDs among them.
    pub fcast_objects: u64,
    pub cids: u64,
    fdt_tois: BTreeSet<u128>,
    /// Per TOI, the first FDT description while it is valid (RFC 6726 §3.3: its parameters
    /// never change).
    fdt: FdtDescriptions,
    /// When each FDT Instance ID was first seen (capture time).
    fdt_first_seen: BTreeMap<u32, Duration>,
    /// Insertion order of `fdt_first_seen`, to keep it to [`MAX_FDT_FIRST_SEEN`] (IDs wrap at
    /// 2^20 in a long session; one completed long ago matters no more).
    fdt_first_seen_order: VecDeque<u32>,
    /// ROUTE: each recent object's transfer length and whether its close-object flag was seen
    /// (a new object may reuse the TOI after it), with their insertion order for the cap.
    route_lengths: BTreeMap<RouteObject, (u64, bool)>,
    route_lengths_order: VecDeque<RouteObject>,
    /// When each recent FDT Instance expires (NTP seconds), by ID: after it, the ID may name a
    /// new instance (RFC 6726 §3.4.1).
    fdt_id_expires: BTreeMap<u32, u64>,
    raised: BTreeSet<&'static str>,
    /// Per TOI (per FDT Instance ID for TOI 0): the first EXT_FTI's encoding ID and OTI.
    ftis: BTreeMap<(u128, Option<u32>), (u8, FecOti)>,
    /// The last object's key, first OTI and codec parameters: packets come in long runs of
    /// one object, and this saves the map lookups and the OTI mapping per packet.
    current: Option<ObjectOti>,
}

/// What the packets of one TOI showed.
#[derive(Debug, Clone, Copy)]
struct ObjectSeen {
    /// The codepoint of its first packet (RFC 5052 §6.1: it does not change within an object).
    codepoint: u8,
    close_object_seen: bool,
    /// Times of its first and last packet.
    first: Duration,
    last: Duration,
    /// FCAST: its TOI fell more than half the TOI space behind the newest (RFC 6968 §3.6).
    exited: bool,
}

/// Objects whose TOI was reused kept for the end-of-capture window check (memory stays flat on
/// a session of any length: the oldest go first, and `track.toi_history.cap` says so).
const MAX_RETIRED: usize = 65_536;

/// FDT Instance IDs whose first packet's time is kept (for the Expires check when the instance
/// completes).
const MAX_FDT_FIRST_SEEN: usize = 4096;

/// A ROUTE object in a session's checks: destination, port and TOI (one gateway sends every
/// service's TSI 0, each to its own destination).
type RouteObject = (IpAddr, u16, u128);

/// CIDs whose listed TOIs are looked for before those still unseen are reported.
const MAX_PENDING_CIDS: usize = 64;

/// How long after the first A=1 packets with A=1 may still carry data (RFC 5651 §5.1: "the
/// last few seconds of packets").
const CLOSE_GRACE: Duration = Duration::from_secs(10);

type ObjectOti = ((u128, Option<u32>), FecOti, Option<FecObject>);

impl SessionStats {
    /// The object of `toi` is over (its TOI left the window, or its FDT description expired):
    /// it is kept with the retired ones, and the TOI's next packet starts a new object.
    fn retire(&mut self, toi: u128) {
        if let Some(o) = self.objects.remove(&toi) {
            self.exited -= usize::from(o.exited);
            self.retired.push_back((toi, o));
            if self.retired.len() > MAX_RETIRED {
                self.retired.pop_front();
                self.retired_evicted += 1;
            }
        }
        self.ftis.remove(&(toi, None));
        if self
            .current
            .as_ref()
            .is_some_and(|(k, _, _)| *k == (toi, None))
        {
            self.current = None;
        }
    }

    /// Whether FDT Instances (TOI 0 with EXT_FDT) were seen: a FLUTE session.
    pub fn uses_fdt(&self) -> bool {
        self.uses_fdt
    }

    /// Objects that carried data (FLUTE's FDT Instances on TOI 0 excepted), each incarnation of
    /// a reused TOI counted.
    pub fn data_tois(&self) -> usize {
        self.objects
            .keys()
            .filter(|t| **t != 0 || !self.uses_fdt)
            .count()
            + self.retired.len()
            + self.retired_evicted as usize
    }

    /// Objects whose packets the session checks hold now.
    pub fn tracked_objects(&self) -> usize {
        self.objects.len()
    }

    /// Whether any packet had the close-object flag (B).
    pub fn close_object_seen(&self) -> bool {
        self.objects
            .values()
            .chain(self.retired.iter().map(|(_, o)| o))
            .any(|o| o.close_object_seen)
    }

    /// RFC 6968 §3.6 in an FCAST (or plain ALC) session: active TOIs occupy at most half of the
    /// TOI space. When `toi` is the newest yet, the objects it leaves more than half the space
    /// behind are marked as exited: they are no longer sent, and their TOI may come back for a
    /// new object (a new incarnation). When an exited TOI comes back, it is a new object if it
    /// is near the newest TOI (less than a quarter of the space away: the sender's counter went
    /// round the space), or the old object was closed (B), or its EXT_FTI differs:
    /// the old one is retired (kept for the end-of-capture window check), its EXT_FTI
    /// forgotten, and the TOI is the newest. Otherwise (about half the space behind the
    /// newest, the same object) the old object is still being sent:
    /// `fcast.toi.window_exceeded` (returned as the detail to raise).
    fn slide_toi_window(
        &mut self,
        toi: u128,
        bits: usize,
        fti: Option<(u8, &FecOti)>,
    ) -> Option<String> {
        if self.uses_fdt
            || !(16..=112).contains(&bits)
            || self.toi_bits != Some(bits)
            || self.window_toi.replace(toi) == Some(toi)
        {
            return None;
        }
        let bits = bits as u32;
        let space = 1u128 << bits;
        let came_back = (self.exited > 0)
            .then(|| self.objects.get(&toi).filter(|o| o.exited))
            .flatten();
        if let Some(o) = came_back {
            // Near the newest on either side: a CID allocated after its objects is often sent
            // before them.
            let ahead = self
                .newest_toi
                .map_or(0, |n| toi_window::forward_distance(n, toi, bits));
            let comes_next = ahead.min(space - ahead) < space / 4;
            let other_oti = fti.is_some_and(|(id, oti)| {
                self.ftis
                    .get(&(toi, None))
                    .is_some_and(|(first_id, first)| *first_id != id || first != oti)
            });
            if !comes_next && !o.close_object_seen && !other_oti {
                return Some(format!(
                    "TOI {toi} is still sent after newer TOIs (up to {}) moved more than half of the {bits}-bit TOI space ahead of it",
                    self.newest_toi.unwrap_or(0)
                ));
            }
            self.retire(toi);
        }
        let newest = match self.newest_toi {
            None => {
                self.newest_toi = Some(toi);
                return None;
            }
            Some(n) => n,
        };
        if !toi_window::is_newer(toi, newest, bits) {
            return None;
        }
        self.newest_toi = Some(toi);
        // Only the TOIs that leave the window with this step: one pass over a capture.
        for (a, b) in toi_window::out_of_window(toi, Some(newest), bits) {
            for (_, o) in self.objects.range_mut(a..=b) {
                self.exited += usize::from(!o.exited);
                o.exited = true;
            }
        }
        None
    }
}

#[derive(Debug)]
pub struct SessionTracker {
    pub sessions: BTreeMap<(IpAddr, u64), SessionStats>,
    pub findings: Vec<(u64, Finding)>,
    /// (source, destination) of IP fragments, to flag fragmented ALC flows at the end.
    fragments: BTreeSet<(IpAddr, IpAddr)>,
    /// Objects tracked per session at most: past it, the half idle longest is retired (a
    /// 16-bit TOI space never reaches it; 32-bit TOIs of a long session would grow without it).
    pub max_tracked_objects: usize,
}

impl Default for SessionTracker {
    fn default() -> Self {
        SessionTracker {
            sessions: BTreeMap::new(),
            findings: Vec::new(),
            fragments: BTreeSet::new(),
            max_tracked_objects: 262_144,
        }
    }
}

impl SessionTracker {
    fn raise(
        findings: &mut Vec<(u64, Finding)>,
        s: &mut SessionStats,
        frame: u64,
        kind: &'static FindingKind,
        detail: String,
    ) {
        Self::raise_found(
            findings,
            s,
            frame,
            &Finding::of(kind, "session", 0, ""),
            detail,
        );
    }

    /// Raises, once per session, a finding of the session's objects (or `raise`'s own) with
    /// the session named in its detail.
    fn raise_found(
        findings: &mut Vec<(u64, Finding)>,
        s: &mut SessionStats,
        frame: u64,
        found: &Finding,
        detail: String,
    ) {
        if s.raised.insert(found.id) {
            findings.push((
                frame,
                Finding {
                    field: "session",
                    offset: 0,
                    detail: format!("sender {} TSI {}: {detail}", s.sender, s.tsi),
                    ..found.clone()
                },
            ));
        }
    }

    /// [`SessionTracker::raise`] for each finding of the WEBRC checks.
    fn raise_all(
        findings: &mut Vec<(u64, Finding)>,
        s: &mut SessionStats,
        found: Vec<WebrcFinding>,
    ) {
        for x in found {
            Self::raise(findings, s, x.frame, x.kind, x.detail);
        }
    }

    pub fn push(&mut self, d: &Dissected) {
        if let Some(ip) = d.frame.as_ref().and_then(|f| f.ip.as_ref()) {
            if ip.is_fragment() {
                self.fragments.insert((ip.src(), ip.dst()));
            }
        }
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
                close_session_time: Duration::ZERO,
                cci_bits: 32 * (u32::from(a.lct.c) + 1),
                ext_fdt_version: None,
                fdt_namespace: None,
                flavor_mixed: false,
                toi_bits: None,
                objects: BTreeMap::new(),
                retired: VecDeque::new(),
                retired_evicted: 0,
                newest_toi: None,
                window_toi: None,
                exited: 0,
                fcast_objects: 0,
                cids: 0,
                last_cid: None,
                pending_cids: VecDeque::new(),
                webrc: None,
                uses_fdt: false,
                fdt_tois: BTreeSet::new(),
                fdt: FdtDescriptions::new(OnChange::KeepFirst),
                fdt_first_seen: BTreeMap::new(),
                fdt_first_seen_order: VecDeque::new(),
                route_lengths: BTreeMap::new(),
                route_lengths_order: VecDeque::new(),
                fdt_id_expires: BTreeMap::new(),
                raised: BTreeSet::new(),
                ftis: BTreeMap::new(),
                current: None,
            });
        if let Some(cci) = &a.webrc {
            let w = s.webrc.get_or_insert_with(Box::default);
            let found = w.push(frame, d.raw.timestamp, cci);
            Self::raise_all(&mut self.findings, s, found);
        }
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
                    &registry::lct::CLOSE_SESSION_REVERTED,
                    format!("A=0 after A=1 in frame {closed}"),
                );
            }
            // §5.1: A MAY be set "in the last few seconds of packets"; data with A=1 shortly
            // after the first A=1 is that, anything else is data after the session's end.
            let late = d.raw.timestamp.saturating_sub(s.close_session_time) > CLOSE_GRACE;
            if a.has_payload_id() && (!a.lct.close_session || late) {
                Self::raise(
                    f,
                    s,
                    frame,
                    &registry::lct::AFTER_CLOSE_SESSION,
                    format!("data after the close-session of frame {closed}"),
                );
            }
        }
        if a.lct.close_session && s.close_session_frame.is_none() {
            s.close_session_frame = Some(frame);
            s.close_session_time = d.raw.timestamp;
        }
        if 32 * (u32::from(a.lct.c) + 1) != s.cci_bits {
            Self::raise(
                f,
                s,
                frame,
                &registry::alc::CCI_LENGTH_CHANGED,
                format!(
                    "CCI of {} bits, the session started with {}",
                    32 * (u32::from(a.lct.c) + 1),
                    s.cci_bits
                ),
            );
        }
        let toi_bits = 8 * a.lct.toi_len();
        let is_close = a.lct.close_session && !a.has_payload_id();
        if !is_close && toi_bits > 0 {
            match s.toi_bits {
                None => s.toi_bits = Some(toi_bits),
                Some(bits) if bits != toi_bits => {
                    Self::raise(f, s, frame, &registry::lct::TOI_WIDTH_CHANGED, format!("{toi_bits}-bit TOI field after {bits}-bit ones (compare TOIs by value)"));
                }
                _ => {}
            }
        } else if !is_close && s.toi_bits.is_some() {
            Self::raise(
                f,
                s,
                frame,
                &registry::lct::TOI_PRESENCE_MIXED,
                "a packet without TOI in a session that uses TOIs".into(),
            );
        }
        let Some(toi) = a.lct.toi else { return };
        // ROUTE has its own rules; RFC 6726's (FDT, EXT_FTI per object, the FCAST window) and
        // the FEC schemes' SBN/ESI ranges do not apply to it.
        if let Some(route) = a.route {
            Self::route_packet(f, s, frame, (flow.dst, flow.dst_port, toi), a, route);
            return;
        }
        let fti = a.fti.as_ref().map(|x| (a.fec_encoding_id, &x.oti));
        if let Some(detail) = s.slide_toi_window(toi, toi_bits, fti) {
            Self::raise(f, s, frame, &registry::fcast::TOI_WINDOW_EXCEEDED, detail);
        }
        let ext_fdt = a.lct.extension(HET_FDT).and_then(|e| {
            if let ExtensionBody::Fdt(x) = &e.body {
                Some(*x)
            } else {
                None
            }
        });
        if let Some(x) = ext_fdt {
            s.flavor_mixed |= *s.ext_fdt_version.get_or_insert(x.version) != x.version;
        }
        let fdt_id = ext_fdt.map(|x| x.instance_id);
        let key = (toi, if toi == 0 { fdt_id } else { None });
        if s.current.as_ref().is_none_or(|(k, _, _)| *k != key) {
            // FLUTE: a TOI whose every FDT description expired names another file now
            // (RFC 6726 §3.3); its packets start a new object.
            let expired = s.uses_fdt
                && toi != 0
                && s.fdt
                    .entry(toi)
                    .is_some_and(|e| e.expires_ntp < ntp_seconds(d.raw.timestamp));
            if expired {
                s.fdt.forget(toi);
                s.retire(toi);
            }
            s.current = s
                .ftis
                .get(&key)
                .map(|(id, oti)| (key, oti.clone(), FecObject::from_oti(*id, oti).ok()));
        }
        if let Some(fti) = &a.fti {
            match &s.current {
                None => {
                    // RFC 6726 §5: the FDT came first; its OTI and EXT_FTI's must be the same.
                    let fdt_oti = s.fdt.entry(toi).and_then(|e| e.params.oti.as_ref());
                    if let Some(diff) = fdt_oti.filter(|_| toi != 0).and_then(|(id, oti)| {
                        oti_disagrees((*id, oti), a.fec_encoding_id, &fti.oti)
                    }) {
                        Self::raise(
                            f,
                            s,
                            frame,
                            &registry::flute::OTI_FTI_FDT_MISMATCH,
                            format!("TOI {toi}: {diff}"),
                        );
                    }
                    s.ftis.insert(key, (a.fec_encoding_id, fti.oti.clone()));
                    s.current = Some((
                        key,
                        fti.oti.clone(),
                        FecObject::from_oti(a.fec_encoding_id, &fti.oti).ok(),
                    ));
                }
                // RFC 6726 §3.4.1: an FDT Instance ID comes back for a new instance once the
                // old one expired (the 2^20 wrap of a long session).
                Some((_, first, _))
                    if *first != fti.oti
                        && toi == 0
                        && fdt_id
                            .and_then(|id| s.fdt_id_expires.get(&id))
                            .is_some_and(|until| *until < ntp_seconds(d.raw.timestamp)) =>
                {
                    s.ftis.insert(key, (a.fec_encoding_id, fti.oti.clone()));
                    s.current = Some((
                        key,
                        fti.oti.clone(),
                        FecObject::from_oti(a.fec_encoding_id, &fti.oti).ok(),
                    ));
                }
                Some((_, first, _)) if *first != fti.oti => {
                    if toi == 0 {
                        // The same FDT Instance ID on an object of other parameters: a re-used ID.
                        Self::raise(
                            f,
                            s,
                            frame,
                            &registry::flute::FDT_INSTANCE_ID_REUSED,
                            format!(
                                "FDT Instance ID {} carries objects with different FEC OTI",
                                fdt_id.unwrap_or(0)
                            ),
                        );
                    } else {
                        Self::raise(
                            f,
                            s,
                            frame,
                            &registry::alc::OTI_CHANGED_WITHIN_OBJECT,
                            format!("TOI {toi}: EXT_FTI differs from the first one of the object"),
                        );
                    }
                }
                _ => {}
            }
        }
        // Symbol length and block partitioning, where EXT_FTI gave the OTI.
        let fec = s.current.as_ref().and_then(|(_, _, f)| f.clone());
        if let (Some(pid), Some(fec)) = (a.payload_id, fec) {
            match fec.block(pid.sbn) {
                None => Self::raise(
                    f,
                    s,
                    frame,
                    &registry::fec::SBN_OUT_OF_RANGE,
                    format!(
                        "TOI {toi}: SBN {} past the {} blocks of the object",
                        pid.sbn,
                        fec.block_count()
                    ),
                ),
                Some(info) => {
                    let e = fec.symbol_length as usize;
                    // Only the object's final source symbol may be short (RFC 5445 §3.4.2).
                    let last_block = u64::from(pid.sbn) + 1 == fec.block_count();
                    let holds_last = last_block
                        && u64::from(pid.esi) + (a.symbol_len.div_ceil(e.max(1)) as u64) >= info.k;
                    if e > 0
                        && a.symbol_len % e != 0
                        && !holds_last
                        && !matches!(fec.codec, Codec::RaptorQ(_) | Codec::Raptor(_))
                    {
                        Self::raise(
                            f,
                            s,
                            frame,
                            &registry::fec::SYMBOL_LENGTH_MISMATCH,
                            format!(
                                "TOI {toi} SBN {} ESI {}: {} bytes of symbols, E is {e}",
                                pid.sbn, pid.esi, a.symbol_len
                            ),
                        );
                    }
                    let limit = match fec.codec {
                        Codec::NoCode => Some(info.k),
                        Codec::Ldpc { .. } => info.n,
                        _ => None,
                    };
                    if limit.is_some_and(|n| u64::from(pid.esi) >= n) {
                        Self::raise(
                            f,
                            s,
                            frame,
                            &registry::fec::ESI_OUT_OF_RANGE,
                            format!(
                                "TOI {toi} SBN {}: ESI {} beyond the {} symbols of the block",
                                pid.sbn,
                                pid.esi,
                                limit.unwrap_or(0)
                            ),
                        );
                    }
                }
            }
        }
        let has_fdt = fdt_id.is_some();
        if let Some(id) = fdt_id {
            s.uses_fdt = true;
            if let std::collections::btree_map::Entry::Vacant(e) = s.fdt_first_seen.entry(id) {
                e.insert(d.raw.timestamp);
                s.fdt_first_seen_order.push_back(id);
                if s.fdt_first_seen_order.len() > MAX_FDT_FIRST_SEEN {
                    if let Some(old) = s.fdt_first_seen_order.pop_front() {
                        s.fdt_first_seen.remove(&old);
                        s.fdt_id_expires.remove(&old);
                        s.ftis.remove(&(0, Some(old)));
                    }
                }
            }
        }
        if toi == 0 && !has_fdt && s.uses_fdt {
            Self::raise(
                f,
                s,
                frame,
                &registry::flute::TOI0_WITHOUT_EXT_FDT,
                "TOI 0 packet without EXT_FDT".into(),
            );
        }
        let t = d.raw.timestamp;
        let (cp, close_object) = (a.lct.codepoint, a.lct.close_object);
        if s.objects.len() >= self.max_tracked_objects && !s.objects.contains_key(&toi) {
            Self::retire_idle_half(f, s, frame);
        }
        let seen = s.objects.entry(toi).or_insert(ObjectSeen {
            codepoint: cp,
            close_object_seen: close_object,
            first: t,
            last: t,
            exited: false,
        });
        seen.last = t;
        let (first_cp, b_seen) = (seen.codepoint, seen.close_object_seen);
        seen.close_object_seen |= close_object;
        if first_cp != cp {
            Self::raise(
                f,
                s,
                frame,
                &registry::alc::CP_CHANGED_WITHIN_OBJECT,
                format!("TOI {toi}: codepoint {cp} after {first_cp}"),
            );
        }
        if b_seen && !close_object {
            Self::raise(
                f,
                s,
                frame,
                &registry::lct::CLOSE_OBJECT_REVERTED,
                format!("TOI {toi}: B=0 after B=1"),
            );
        }
    }

    /// A ROUTE packet's checks: one transfer length per object (EXT_TOL or EXT_FTI), and no
    /// source bytes past it (A/331 §A.3.8.1, §A.3.5.1, §A.3.3.2.7).
    fn route_packet(
        f: &mut Vec<(u64, Finding)>,
        s: &mut SessionStats,
        frame: u64,
        object: RouteObject,
        a: &AlcPacket,
        route: RouteHeader,
    ) {
        let toi = object.2;
        let announced = route
            .tol
            .or(a.fti.as_ref().map(|x| x.oti.transfer_length()));
        let Some(start) = route.start_offset() else {
            return;
        };
        let known = s.route_lengths.get(&object).copied();
        let length = match (known, announced) {
            // After the close-object flag, another length names a new object on the TOI; on
            // TOI 0 (the EFDT) it is the EFDT's next version (A/331 §A.3.3.2.3).
            (Some((old, closed)), Some(new)) if old != new && !closed && toi != 0 => {
                Self::raise(
                    f,
                    s,
                    frame,
                    &registry::route::TOL_CHANGED,
                    format!("TOI {toi}: transfer length {new} after {old}"),
                );
                Some(old)
            }
            // The same object again after its close-object flag: a carousel repeat, said once
            // per round.
            (Some((old, true)), Some(new)) if old == new => {
                Self::raise(
                    f,
                    s,
                    frame,
                    &registry::route::CLOSE_OBJECT_RESENT,
                    format!("TOI {toi}: sent again after B=1"),
                );
                if let Some(e) = s.route_lengths.get_mut(&object) {
                    e.1 = false;
                }
                Some(old)
            }
            (_, Some(new)) => {
                if known.is_none_or(|(old, _)| old != new) {
                    if known.is_none() {
                        s.route_lengths_order.push_back(object);
                    }
                    s.route_lengths.insert(object, (new, false));
                    if s.route_lengths_order.len() > MAX_FDT_FIRST_SEEN {
                        if let Some(old) = s.route_lengths_order.pop_front() {
                            s.route_lengths.remove(&old);
                        }
                    }
                }
                Some(new)
            }
            (Some((old, _)), None) => Some(old),
            (None, None) => None,
        };
        if a.lct.close_object {
            if let Some(e) = s.route_lengths.get_mut(&object) {
                e.1 = true;
            }
        }
        let end = u64::from(start) + a.symbol_len as u64;
        if let Some(l) = length.filter(|&l| end > l) {
            Self::raise(
                f,
                s,
                frame,
                &registry::route::START_OFFSET_PAST_LENGTH,
                format!(
                    "TOI {toi}: bytes {start}..{end} of an object of {l} bytes (start_offset {start}, {} bytes)",
                    a.symbol_len
                ),
            );
        }
    }

    /// Records the files an FDT instance of the session describes, and checks their OTI against
    /// the EXT_FTI seen for the same TOI (RFC 6726 §5: both MUST be identical).
    /// `time`: when the instance completed (capture time).
    #[allow(clippy::too_many_arguments)]
    pub fn fdt_files(
        &mut self,
        sender: IpAddr,
        tsi: u64,
        frame: u64,
        time: Duration,
        instance_id: Option<u32>,
        inst: &Arc<FdtInstance>,
    ) {
        let Some(s) = self.sessions.get_mut(&(sender, tsi)) else {
            return;
        };
        if let Some(first) = &s.fdt_namespace {
            s.flavor_mixed |= *first != inst.namespace;
        } else {
            s.fdt_namespace = Some(inst.namespace.clone());
        }
        // RFC 6726 §3.3: an FDT Instance is valid until it expires, so it is sent before then.
        let sent = instance_id
            .and_then(|id| s.fdt_first_seen.get(&id))
            .copied();
        let now_ntp = ntp_seconds(sent.unwrap_or(time));
        let valid_until = inst.valid_until(now_ntp);
        // Kept beside its first-seen time, and forgotten with it (bounded).
        if let Some(id) = instance_id.filter(|id| s.fdt_first_seen.contains_key(id)) {
            s.fdt_id_expires.insert(id, valid_until);
        }
        if let (Some(sent), Some(expires)) = (sent, inst.expires) {
            let now_ntp = ntp_seconds(sent);
            let expires_ntp = expires_to_ntp_seconds(expires, now_ntp);
            if expires_ntp < now_ntp {
                let detail = format!(
                    "FDT Instance {} sent {} s after its Expires",
                    instance_id.unwrap_or(0),
                    now_ntp - expires_ntp
                );
                Self::raise(
                    &mut self.findings,
                    s,
                    frame,
                    &registry::flute::FDT_EXPIRED_WHEN_SENT,
                    detail,
                );
            }
        }
        let mut in_instance = BTreeSet::new();
        for file in &inst.files {
            s.fdt_tois.insert(file.toi);
            if !in_instance.insert(file.toi) {
                Self::raise(
                    &mut self.findings,
                    s,
                    frame,
                    &registry::flute::FDT_TOI_DUPLICATE,
                    format!("TOI {} is described twice in one FDT Instance", file.toi),
                );
            }
            match s.fdt.describe(inst, file, valid_until, now_ntp) {
                // Every instance that described the TOI expired: it names another file now.
                Described::Reused { .. } => s.retire(file.toi),
                Described::Changed => Self::raise(
                    &mut self.findings,
                    s,
                    frame,
                    &registry::flute::FDT_PARAMETERS_CHANGED,
                    format!(
                        "TOI {}: a later FDT Instance changes its parameters",
                        file.toi
                    ),
                ),
                Described::New | Described::Again | Described::Replaced { .. } => {}
            }
            let Some((fti_id, fti_oti)) = s.ftis.get(&(file.toi, None)).cloned() else {
                continue;
            };
            if let Some(diff) = fdt_disagrees(inst, file, fti_id, &fti_oti) {
                Self::raise(
                    &mut self.findings,
                    s,
                    frame,
                    &registry::flute::OTI_FTI_FDT_MISMATCH,
                    format!("TOI {}: {diff}", file.toi),
                );
            }
        }
    }

    /// FCAST checks on one rebuilt object of a session without an FDT (RFC 6968 §2), as it
    /// leaves the assembler: the Compound Object's own findings (checksum, header, metadata, CID
    /// syntax), CIIDs in order, and CIDs that list TOIs the capture never carries. Returns the
    /// Compound Object when the object is one.
    pub fn fcast_object(&mut self, r: &ObjectReport) -> Option<CompoundObject> {
        let data = r.data.as_ref()?;
        let s = self.sessions.get_mut(&(r.key.sender, r.key.tsi))?;
        if s.uses_fdt || r.fdt_file.is_some() || r.key.fdt_instance.is_some() {
            return None;
        }
        // An object that does not even have an FCAST header's shape is plain ALC.
        let toi_bits = s.toi_bits.map(|b| b as u32);
        let d = CompoundObject::parse_in(data, toi_bits).ok()?;
        s.fcast_objects += 1;
        s.cids += u64::from(d.value.cid.is_some());
        for f in d
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
        {
            let detail = format!("TOI {}: {}", r.key.toi, f.detail);
            Self::raise_found(&mut self.findings, s, r.first_frame, f, detail);
        }
        if let Some(cid) = &d.value.cid {
            let frame = r.first_frame;
            // RFC 6968 §2.2, §3.5: CIIDs go up by one per Carousel Instance; an empty instance
            // takes a new CIID; without a CIID the session is one complete instance, so one list.
            // Compared in the order the CIDs were first sent: one that completes after a later
            // one (loss repaired by a repeat) is not compared.
            let earlier = s.last_cid.as_ref().is_some_and(|(f, _, _)| *f > frame);
            if let Some((_, prev_ciid, prev_list)) = s.last_cid.as_ref().filter(|_| !earlier) {
                let f = &mut self.findings;
                let (a, b) = (*prev_ciid, cid.ciid);
                let changed = *prev_list != cid.object_list;
                match (a, b) {
                    (Some(x), Some(y)) if y < x => Self::raise(f, s, frame, &registry::fcast::CID_CIID_DECREASED, format!("CIID {y} after {x}")),
                    (Some(x), Some(y)) if y == x && changed && cid.object_list.object_count == 0 => Self::raise(f, s, frame, &registry::fcast::CID_EMPTY_SAME_CIID, format!("an empty Carousel Instance keeps CIID {x}")),
                    (None, _) | (_, None) if changed => Self::raise(f, s, frame, &registry::fcast::CID_CIID_MISSING, "CIDs without Fcast-CID-ID list different objects: more than one Carousel Instance".into()),
                    _ => {}
                }
            }
            if !earlier {
                s.last_cid = Some((frame, cid.ciid, cid.object_list.clone()));
            }
            let ranges = cid
                .object_list
                .elements
                .iter()
                .map(|e| match *e {
                    CidElement::Toi { toi } | CidElement::Equivalence { new_toi: toi, .. } => {
                        (toi, toi)
                    }
                    CidElement::Interval { first, last } => (first, last),
                })
                .collect();
            s.pending_cids.push_back((frame, ranges));
            Self::resolve_cids(&mut self.findings, s, false);
        }
        Some(d.value)
    }

    /// RFC 6968 §3.5: a CID lists the objects of its Carousel Instance, which are sent around
    /// it. The TOIs a CID lists are looked for as the capture goes on; one still unseen when
    /// [`MAX_PENDING_CIDS`] later CIDs have come, or at the end, is reported. Bounded: an
    /// interval is checked against the TOIs seen, never expanded.
    fn resolve_cids(findings: &mut Vec<(u64, Finding)>, s: &mut SessionStats, at_end: bool) {
        let objects = &s.objects;
        for (_, ranges) in s.pending_cids.iter_mut() {
            // An interval written backwards (a finding of the CID parser) lists nothing here.
            ranges.retain(|&(a, b)| {
                a <= b && (objects.range(a..=b).count() as u128) < (b - a).saturating_add(1)
            });
        }
        s.pending_cids.retain(|(_, r)| !r.is_empty());
        let keep = if at_end { 0 } else { MAX_PENDING_CIDS };
        while s.pending_cids.len() > keep {
            let Some((frame, ranges)) = s.pending_cids.pop_front() else {
                break;
            };
            let unseen: Vec<u128> = ranges.iter().map(|(a, _)| *a).take(8).collect();
            Self::raise(
                findings,
                s,
                frame,
                &registry::fcast::CID_TOI_UNSEEN,
                format!("the CID lists TOIs with no packet in the capture, from {unseen:?}"),
            );
        }
    }

    /// The half of the session's objects idle longest are retired (kept with the retired ones,
    /// themselves bounded): memory stays flat on a session of 32-bit TOIs of any length. A FLUTE
    /// object retired without an FDT entry is reported now, as the end of the capture would.
    fn retire_idle_half(findings: &mut Vec<(u64, Finding)>, s: &mut SessionStats, frame: u64) {
        let mut lasts: Vec<Duration> = s.objects.values().map(|o| o.last).collect();
        if lasts.is_empty() {
            return;
        }
        let mid = lasts.len() / 2;
        let cut = *lasts.select_nth_unstable(mid).1;
        let idle: Vec<u128> = s
            .objects
            .iter()
            .filter(|(t, o)| o.last <= cut && !(s.uses_fdt && **t == 0))
            .map(|(t, _)| *t)
            .collect();
        Self::check_fdt_entries(findings, s, frame, idle.iter().copied());
        for t in idle {
            s.retire(t);
        }
    }

    /// End-of-capture checks: file data with no FDT entry (RFC 6726 §3.3), fragmented flows.
    /// RFC 6968 §3.6: active TOIs occupy at most half of the TOI space, so that "newer" keeps
    /// a meaning after a wrap. Two TOIs whose packets overlap in time and lie half the space or
    /// more apart break it. Sessions with an FDT (FLUTE) are not FCAST and are not checked.
    fn check_toi_window(findings: &mut Vec<(u64, Finding)>, s: &mut SessionStats, last_frame: u64) {
        let Some(bits) = s.toi_bits else { return };
        if s.uses_fdt || bits >= 128 {
            return;
        }
        let half = 1u128 << (bits - 1);
        let mask = (1u128 << bits) - 1;
        let mut by_first: Vec<(Duration, Duration, u128)> = s
            .objects
            .iter()
            .chain(s.retired.iter().map(|(t, o)| (t, o)))
            .map(|(t, o)| (o.first, o.last, *t))
            .collect();
        by_first.sort_unstable();
        let mut active: Vec<(Duration, u128)> = Vec::new();
        for (first, last, toi) in by_first {
            active.retain(|(l, _)| *l >= first);
            active.push((last, toi));
            if active.len() > 4096 {
                active.remove(0);
            }
            // The active TOIs fit in half the space when the largest cyclic gap between them is
            // more than half of it.
            let mut tois: Vec<u128> = active.iter().map(|(_, t)| *t).collect();
            tois.sort_unstable();
            tois.dedup();
            if tois.len() < 2 {
                continue;
            }
            let largest_gap = (0..tois.len())
                .map(|i| tois[(i + 1) % tois.len()].wrapping_sub(tois[i]) & mask)
                .max()
                .unwrap_or(0);
            if largest_gap <= half {
                let detail = format!("{} TOIs active together at TOI {toi} span more than half of the {bits}-bit TOI space (from {} to {})", tois.len(), tois[0], tois[tois.len() - 1]);
                Self::raise(
                    findings,
                    s,
                    last_frame,
                    &registry::fcast::TOI_WINDOW_EXCEEDED,
                    detail,
                );
                return;
            }
        }
    }

    pub fn finish(&mut self, last_frame: u64) {
        for s in self.sessions.values_mut() {
            Self::resolve_cids(&mut self.findings, s, true);
            Self::check_toi_window(&mut self.findings, s, last_frame);
            if s.retired_evicted > 0 {
                let detail = format!(
                    "the end-of-capture TOI window check covers the last {MAX_RETIRED} objects whose TOI was reused; {} older ones were forgotten (a TOI still sent out of the window is caught when it arrives, whatever its age)",
                    s.retired_evicted
                );
                Self::raise(
                    &mut self.findings,
                    s,
                    last_frame,
                    &registry::track::TOI_HISTORY_CAP,
                    detail,
                );
            }
            let webrc = s
                .webrc
                .as_ref()
                .map(|w| w.finish(last_frame))
                .unwrap_or_default();
            Self::raise_all(&mut self.findings, s, webrc);
        }
        // RFC 5651 §5.1: a session is (sender address, TSI). The same TSI from two senders on
        // the same channel is two sessions, which a receiver keyed on the TSI alone would mix.
        let mut by_channel: BTreeMap<(u64, IpAddr, u16), BTreeSet<IpAddr>> = BTreeMap::new();
        for s in self.sessions.values() {
            for (dst, port) in &s.channels {
                by_channel
                    .entry((s.tsi, *dst, *port))
                    .or_default()
                    .insert(s.sender);
            }
        }
        for ((tsi, dst, port), senders) in by_channel.into_iter().filter(|(_, v)| v.len() > 1) {
            for sender in &senders {
                if let Some(s) = self.sessions.get_mut(&(*sender, tsi)) {
                    let others: Vec<String> = senders
                        .iter()
                        .filter(|o| *o != sender)
                        .map(ToString::to_string)
                        .collect();
                    Self::raise(&mut self.findings, s, last_frame, &registry::lct::TSI_MULTIPLE_SENDERS, format!("TSI {tsi} on {dst}:{port} is also sent by {}: two sessions that must not be merged", others.join(", ")));
                }
            }
        }
        let f = &mut self.findings;
        for s in self.sessions.values_mut() {
            if s.channels
                .iter()
                .any(|(dst, _)| self.fragments.contains(&(s.sender, *dst)))
            {
                Self::raise(f, s, last_frame, &registry::alc::IP_FRAGMENTED, "IP fragments between the sender and a channel of the session: packets larger than the path MTU".into());
            }
            let tois: Vec<u128> = s.objects.keys().copied().collect();
            Self::check_fdt_entries(f, s, last_frame, tois);
        }
    }

    /// RFC 6726 §3.3: in a FLUTE session, file data whose TOI no FDT Instance describes
    /// (`flute.toi.no_fdt_entry`): at the end for the objects held, and for the objects the
    /// session checks retire before then.
    fn check_fdt_entries(
        findings: &mut Vec<(u64, Finding)>,
        s: &mut SessionStats,
        frame: u64,
        tois: impl IntoIterator<Item = u128>,
    ) {
        if !s.uses_fdt {
            return;
        }
        let mut orphans: Vec<u128> = tois
            .into_iter()
            .filter(|t| *t != 0 && !s.fdt_tois.contains(t))
            .collect();
        if orphans.is_empty() {
            return;
        }
        orphans.sort_unstable();
        orphans.truncate(8);
        Self::raise(
            findings,
            s,
            frame,
            &registry::flute::TOI_NO_FDT_ENTRY,
            format!("TOIs with data but no FDT entry: {orphans:?}"),
        );
    }
}

/// How an FDT entry's OTI differs from EXT_FTI's, if it does.
fn fdt_disagrees(inst: &FdtInstance, file: &FdtFile, fti_id: u8, fti: &FecOti) -> Option<String> {
    let (fdt_id, fdt_oti) = FecObject::oti_from_fdt(inst, file).ok()?;
    oti_disagrees((fdt_id, &fdt_oti), fti_id, fti)
}

/// How the OTI an FDT entry gave differs from EXT_FTI's, if it does.
fn oti_disagrees((fdt_id, fdt_oti): (u8, &FecOti), fti_id: u8, fti: &FecOti) -> Option<String> {
    if fdt_id != fti_id {
        return Some(format!(
            "FEC Encoding ID {fdt_id} in the FDT, {fti_id} in EXT_FTI"
        ));
    }
    let pairs = [
        (
            "transfer length",
            fdt_oti.transfer_length(),
            fti.transfer_length(),
        ),
        (
            "encoding symbol length",
            u64::from(fdt_oti.encoding_symbol_length()),
            u64::from(fti.encoding_symbol_length()),
        ),
        (
            "maximum source block length",
            fdt_oti.max_source_block_length().map_or(0, u64::from),
            fti.max_source_block_length().map_or(0, u64::from),
        ),
    ];
    pairs
        .iter()
        .find(|(_, a, b)| a != b)
        .map(|(what, a, b)| format!("{what} {a} in the FDT, {b} in EXT_FTI"))
}
