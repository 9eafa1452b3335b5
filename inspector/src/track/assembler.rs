//! Object assembly: symbols collected per object and per source block, decoded with the FEC
//! codecs as soon as a block can be, FDT instances (TOI 0) decoded when complete and used for the
//! OTI, Content-Location and Content-MD5 of the files they describe.
//!
//! An object is (sender, TSI, TOI, incarnation): a TOI names a new object when it comes back
//! after its object left the RFC 6968 §3.6 window (FCAST and plain ALC), when a new FDT
//! Instance maps it to another file (FLUTE, RFC 6726 §3.3), when its EXT_FTI describes another
//! object, and, for an FDT Instance ID, after its instance expired (RFC 6726 §3.4.1).
//!
//! Memory stays flat on a capture of any length: an object leaves the assembler as soon as it
//! is complete (or abandoned: out of the window, superseded, idle, or pushed out by the cap on
//! objects in flight) and is handed out as an [`ObjectReport`] for the caller to check, export
//! and keep as a compact record; only a small `Done` entry stays, to tell carousel repeats
//! from a new object, and those are bounded too. A block's decoder is created (and its k * E
//! bytes allocated) only when its first symbol arrives, never from the transfer length alone;
//! symbols that arrive before their object's OTI is known are held up to a cap. What a cap turns
//! away is reported as a finding, never silently.

use crate::registry;
use crate::track::fdt_description::{fdt_object, Described, FdtDescriptions, FdtEntry, OnChange};
use crate::track::object::{ByteBudget, ObjectAssembly, ObjectBuilder, PushOutcome, Refused};
use crate::wire::finding::FindingKind;
use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::fec::scheme::FecObject;
use crate::track::incarnation::Incarnations;
use crate::track::route_assembly::{Outside, RouteAssembler};
use crate::track::toi_window;
use crate::wire::alc::AlcPacket;
use crate::wire::ext_cenc::ContentEncoding;
use crate::wire::fdt::{ntp_seconds, FdtFile, FdtInstance};
use crate::wire::finding::Finding;
use crate::wire::lct::{ExtensionBody, HET_CENC, HET_FDT};
use crate::wire::route::DeliveryMode;

/// Limits on what the assembler holds.
#[derive(Debug, Clone, Copy)]
pub struct AssemblerConfig {
    /// Objects in flight at once; past it the one idle longest is abandoned (and said).
    pub max_objects: usize,
    /// Bytes held in decoders and pending symbols, all objects together.
    pub max_buffered_bytes: u64,
    /// Largest transfer length accepted.
    pub max_object_bytes: u64,
    /// Largest inflated FDT instance.
    pub max_inflated: usize,
    /// Rebuild every object; when false only FDT instances (TOI 0) are, which is all that the
    /// FDT and session checks need.
    pub all_objects: bool,
    /// Hand out objects not rebuilt with their known bytes in place and zeros elsewhere
    /// (`--export-objects --partial`); this allocates their transfer length.
    pub partial: bool,
    /// Completed objects remembered so that their carousel repeats are not new objects.
    pub max_done: usize,
    /// An incomplete object with no packet for this long (capture time) is abandoned.
    pub idle: Duration,
}

impl Default for AssemblerConfig {
    fn default() -> Self {
        AssemblerConfig {
            max_objects: 4096,
            max_buffered_bytes: 2 << 30,
            max_object_bytes: 1 << 32,
            max_inflated: crate::wire::inflate::DEFAULT_MAX_INFLATED,
            all_objects: true,
            partial: false,
            max_done: 262_144,
            idle: Duration::from_secs(600),
        }
    }
}

/// A transport object: TOI 0 objects of FLUTE are FDT instances, told apart by their instance
/// ID; `incarnation` counts the objects the TOI (or FDT Instance ID) named before this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub sender: IpAddr,
    pub tsi: u64,
    pub toi: u128,
    pub fdt_instance: Option<u32>,
    pub incarnation: u32,
}

impl Done {
    /// Whether it is over at `now_ntp`: past its expiry; in FLUTE, a file never described (its
    /// FDT Instance lost) is over `idle` after it completed, as its TOI may name another by then.
    fn expired(&self, now_ntp: u64, flute: bool, idle: Duration) -> bool {
        match self.expires_ntp {
            Some(e) => now_ntp > e,
            None => flute && now_ntp > self.completed_ntp.saturating_add(idle.as_secs()),
        }
    }
}

impl ObjectKey {
    fn of((sender, tsi, toi, fdt_instance): LiveKey, incarnation: u32) -> Self {
        ObjectKey {
            sender,
            tsi,
            toi,
            fdt_instance,
            incarnation,
        }
    }
}

/// An object in flight or remembered, without its incarnation: (sender, TSI, TOI, FDT ID).
type LiveKey = (IpAddr, u64, u128, Option<u32>);

/// A completed object still remembered: what tells its repeats from a new object on its TOI.
#[derive(Debug, Clone, Copy)]
struct Done {
    incarnation: u32,
    /// Its FEC Encoding ID and transfer length.
    oti: Option<(u8, u64)>,
    /// When it expires (NTP seconds): an FDT Instance's ID, a FLUTE file's TOI may then name
    /// another object.
    expires_ntp: Option<u64>,
    /// When it completed (NTP seconds).
    completed_ntp: u64,
}

/// An FDT Instance as it completed: its object, the frame and capture time that completed it.
#[derive(Debug, Clone)]
pub struct FdtEvent {
    pub key: ObjectKey,
    pub frame: u64,
    pub time: Duration,
    /// Shared with the assembler's descriptions of its files.
    pub instance: Arc<FdtInstance>,
}

/// What the assembler knows of one session (sender, TSI).
#[derive(Debug)]
struct SessionState {
    /// The description of each TOI, following the latest (the assembler rebuilds what the
    /// sender sent, even against RFC 6726 §3.3, which the session checks report).
    fdt: FdtDescriptions,
    tois: Incarnations,
    fdt_ids: Incarnations,
    /// FDT Instances seen: a FLUTE session, where the §3.6 window does not apply.
    flute: bool,
    /// The TOI width of the first packet, the newest TOI and the previous packet's TOI.
    bits: Option<u32>,
    newest: Option<u128>,
    last_toi: Option<u128>,
}

impl Default for SessionState {
    fn default() -> Self {
        SessionState {
            fdt: FdtDescriptions::new(OnChange::FollowLatest),
            tois: Incarnations::default(),
            fdt_ids: Incarnations::default(),
            flute: false,
            bits: None,
            newest: None,
            last_toi: None,
        }
    }
}

#[derive(Debug)]
struct ObjectState {
    incarnation: u32,
    /// Its symbols until the OTI is known, its blocks being decoded after.
    assembly: ObjectAssembly,
    /// FLUTE: when the FDT description that gave the OTI expires (NTP seconds); a packet after
    /// it belongs to another file (RFC 6726 §3.3).
    described_until: Option<u64>,
    cenc: Option<ContentEncoding>,
    close_object: bool,
    first_frame: u64,
    last_frame: u64,
    first_time: Duration,
    last_time: Duration,
    packets: u64,
    /// Why the object cannot be rebuilt, if it cannot.
    error: Option<String>,
}

impl ObjectState {
    fn fec(&self) -> Option<&FecObject> {
        self.assembly.fec()
    }
}

/// What is known about one object when it leaves the assembler.
#[derive(Debug, Clone)]
pub struct ObjectReport {
    pub key: ObjectKey,
    pub encoding_id: Option<u8>,
    pub transfer_length: Option<u64>,
    pub blocks: u64,
    pub blocks_decoded: u64,
    /// Useful symbols received (k for a decoded block), and source symbols in the object.
    pub symbols_received: u64,
    pub symbols_needed: u64,
    /// Per block seen: (SBN, symbols received, source symbols needed).
    pub per_block: Vec<(u32, u64, u64)>,
    /// The object, when every block is decoded.
    pub data: Option<Vec<u8>>,
    /// With [`AssemblerConfig::partial`]: decoded blocks with zeros for the rest, and the bytes
    /// missing, when some are.
    pub partial: Option<(Vec<u8>, u64)>,
    pub fdt_file: Option<FdtFile>,
    pub packets: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub close_object: bool,
    pub error: Option<String>,
    /// ROUTE: how the object was delivered (File, Entity or Package mode); `None` for ALC.
    pub route_mode: Option<DeliveryMode>,
}

impl ObjectReport {
    /// Bytes missing: 0 when rebuilt, the transfer length when nothing (or nothing known) is.
    pub fn missing_bytes(&self) -> u64 {
        match (&self.data, &self.partial, self.transfer_length) {
            (Some(_), _, _) => 0,
            (None, Some((_, m)), _) => *m,
            (None, None, Some(l)) => l,
            _ => 0,
        }
    }
}

#[derive(Debug)]
pub struct Assembler {
    config: AssemblerConfig,
    objects: BTreeMap<LiveKey, ObjectState>,
    /// Looked up by every carousel repeat: hashed, not ordered.
    done: FxHashMap<LiveKey, Done>,
    /// Completion order of `done`, for its cap (entries already gone are skipped).
    done_order: VecDeque<(LiveKey, u32)>,
    sessions: FxHashMap<(IpAddr, u64), SessionState>,
    /// Objects that left since the caller last took them ([`Assembler::take_reports`]).
    reports: Vec<ObjectReport>,
    /// FDT Instances completed since the caller last took them.
    fdt_events: Vec<FdtEvent>,
    /// Bytes in decoders and pending symbols, all objects together.
    budget: ByteBudget,
    pushes: u64,
    /// Completed objects forgotten past [`AssemblerConfig::max_done`] (said at the end by
    /// `track.objects.done.cap`).
    done_forgotten: u64,
    pub findings: Vec<(u64, Finding)>,
    /// ROUTE source objects, rebuilt from byte ranges.
    route: RouteAssembler,
}

fn finding(kind: &'static FindingKind, detail: String) -> Finding {
    Finding::of(kind, "object", 0, detail)
}

/// Packets between two sweeps for idle objects.
const SWEEP_EVERY: u64 = 1 << 16;

/// The in-flight keys of a session whose TOI lies in `first..=last`.
fn toi_range(
    sender: IpAddr,
    tsi: u64,
    first: u128,
    last: u128,
) -> std::ops::RangeInclusive<LiveKey> {
    (sender, tsi, first, None)..=(sender, tsi, last, Some(u32::MAX))
}

impl Default for Assembler {
    fn default() -> Self {
        Assembler::new(AssemblerConfig::default())
    }
}

impl Assembler {
    pub fn new(config: AssemblerConfig) -> Self {
        Assembler {
            config,
            objects: BTreeMap::new(),
            done: FxHashMap::default(),
            done_order: VecDeque::new(),
            sessions: FxHashMap::default(),
            reports: Vec::new(),
            fdt_events: Vec::new(),
            // The cap is the config's from here on (`config` is read-only after `new`).
            budget: ByteBudget::new(config.max_buffered_bytes),
            pushes: 0,
            done_forgotten: 0,
            findings: Vec::new(),
            route: RouteAssembler::default(),
        }
    }

    fn note(&mut self, frame: u64, f: Finding) {
        // Bounds the list on a hostile packet: the inspection drains it after every packet.
        if self.findings.len() < 10_000 {
            self.findings.push((frame, f));
        }
    }

    /// Objects that left the assembler since the last call: complete ones with their bytes,
    /// abandoned ones with what was known.
    pub fn take_reports(&mut self) -> Vec<ObjectReport> {
        std::mem::take(&mut self.reports)
    }

    /// FDT Instances completed since the last call, in order.
    pub fn take_fdt_events(&mut self) -> Vec<FdtEvent> {
        std::mem::take(&mut self.fdt_events)
    }

    /// Whether anything waits to be taken.
    pub fn has_output(&self) -> bool {
        !self.reports.is_empty() || !self.fdt_events.is_empty()
    }

    /// Takes one decoded ALC packet and its symbols, received at capture time `time`.
    pub fn push(
        &mut self,
        frame: u64,
        time: Duration,
        sender: IpAddr,
        alc: &AlcPacket,
        symbols: &[u8],
    ) {
        let unspecified = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        self.push_to(frame, time, (sender, unspecified, 0), alc, symbols);
    }

    /// [`Self::push`] with the packet's destination: ROUTE sessions are scoped by it (one
    /// gateway sends every service's TSI 0), ALC sessions by the sender alone.
    pub fn push_to(
        &mut self,
        frame: u64,
        time: Duration,
        (sender, dst, port): (IpAddr, IpAddr, u16),
        alc: &AlcPacket,
        symbols: &[u8],
    ) {
        if let Some(route) = alc.route {
            self.pushes += 1;
            if self.pushes.is_multiple_of(SWEEP_EVERY) {
                self.abandon_idle(time);
            }
            let outside = Outside {
                in_flight: self.objects.len(),
                held: self.budget.held,
            };
            self.route.push(
                &self.config,
                frame,
                time,
                (sender, dst, port),
                alc,
                route,
                symbols,
                outside,
                &mut self.reports,
            );
            self.findings.append(&mut self.route.findings);
            return;
        }
        // The byte cap is for both together.
        self.budget.cap = self
            .config
            .max_buffered_bytes
            .saturating_sub(self.route.held());
        let (Some(tsi), Some(toi), Some(pid)) = (alc.lct.tsi, alc.lct.toi, alc.payload_id) else {
            return;
        };
        let fdt_instance = match alc.lct.extension(HET_FDT).map(|e| &e.body) {
            Some(ExtensionBody::Fdt(f)) => Some(f.instance_id),
            _ => None,
        };
        if fdt_instance.is_none() && !self.config.all_objects {
            return;
        }
        self.pushes += 1;
        if self.pushes.is_multiple_of(SWEEP_EVERY) {
            self.abandon_idle(time);
            self.forget_expired(time);
        }
        let session = self.sessions.entry((sender, tsi)).or_default();
        session.flute |= fdt_instance.is_some();
        let flute = session.flute;
        let bits = 8 * alc.lct.toi_len() as u32;
        if session.bits.is_none() && bits > 0 {
            session.bits = Some(bits);
        }
        if !session.flute
            && (16..=112).contains(&bits)
            && session.bits == Some(bits)
            && session.last_toi.replace(toi) != Some(toi)
        {
            self.slide_window(sender, tsi, toi, bits);
        }
        let live: LiveKey = (sender, tsi, toi, if toi == 0 { fdt_instance } else { None });
        let fti = alc
            .fti
            .as_ref()
            .map(|f| (alc.fec_encoding_id, f.oti.transfer_length()));
        // EXT_FTI of another object on the TOI of one in flight: the TOI was reused (or the
        // sender changed the OTI within an object, which the session checks report).
        let in_flight = match self.objects.get(&live) {
            Some(o) => {
                let other = fti.is_some_and(|fti| {
                    o.fec()
                        .is_some_and(|f| (f.encoding_id, f.transfer_length) != fti)
                });
                // FLUTE: its description expired, so its TOI may name another file now.
                let expired = o.described_until.is_some_and(|u| u < ntp_seconds(time));
                if other {
                    self.leave(live, Some("its TOI came back with another EXT_FTI".into()));
                } else if expired {
                    self.leave(live, Some("abandoned: its FDT description expired".into()));
                }
                !other && !expired
            }
            None => false,
        };
        if !in_flight {
            if let Some(d) = self.done.get(&live) {
                let other = fti.is_some_and(|f| d.oti.is_some_and(|o| o != f));
                let expired = d.expired(ntp_seconds(time), flute, self.config.idle);
                if !other && !expired {
                    return;
                }
                self.done.remove(&live);
            }
            if !self.start(frame, time, live, alc) {
                return;
            }
        }
        // The OTI: EXT_FTI wins over the FDT (RFC 6726 §5).
        let fec = match &alc.fti {
            Some(fti) => Some(FecObject::from_oti(alc.fec_encoding_id, &fti.oti)),
            None => self.fdt_entry((sender, tsi), toi, time).map(|e| {
                FecObject::oti_from_fdt(&e.instance, &e.file)
                    .and_then(|(id, oti)| FecObject::from_oti(id, &oti))
            }),
        };
        // FLUTE: the file is the one its current description names, until that expires.
        let describe = flute
            && live.3.is_none()
            && self
                .objects
                .get(&live)
                .is_some_and(|o| o.described_until.is_none());
        let described_until = if describe {
            self.fdt_entry((sender, tsi), toi, time)
                .map(|e| e.expires_ntp)
        } else {
            None
        };
        let max_object = self.config.max_object_bytes;
        let obj = self.objects.get_mut(&live).expect("started above");
        if described_until.is_some() {
            obj.described_until = described_until;
        }
        obj.packets += 1;
        obj.last_frame = frame;
        obj.last_time = time;
        obj.close_object |= alc.lct.close_object;
        if !obj.assembly.has_oti() {
            let set = match fec {
                Some(Ok(f)) => obj.assembly.set_oti(f, max_object),
                Some(Err(e)) => Err(e.to_string()),
                None => Ok(()),
            };
            if let Err(e) = set {
                obj.error = Some(e);
            }
        }
        if obj.error.is_some() {
            return;
        }
        if self.feed(frame, live, pid.sbn, pid.esi, pid.sbl, symbols) {
            self.completed_block(frame, time, live);
        }
    }

    /// The FDT entry that describes `toi` at capture time `time`. An expired description is
    /// not used (RFC 6726 §3.3): the TOI may be about to name another file, whose FDT Instance
    /// is on its way.
    fn fdt_entry(&self, session: (IpAddr, u64), toi: u128, time: Duration) -> Option<&FdtEntry> {
        self.sessions
            .get(&session)
            .and_then(|s| s.fdt.valid_entry(toi, ntp_seconds(time)))
    }

    /// A new object on `live`'s TOI; false when it cannot be tracked.
    fn start(&mut self, frame: u64, time: Duration, live: LiveKey, alc: &AlcPacket) -> bool {
        // ROUTE objects count against the same cap: theirs leave first when these have none.
        while self.objects.is_empty()
            && self.route.in_flight() > 0
            && self.route.in_flight() >= self.config.max_objects
        {
            self.route.evict_oldest(&mut self.reports);
        }
        if self.objects.len() + self.route.in_flight() >= self.config.max_objects
            && !self.objects.is_empty()
        {
            // The object idle longest leaves, with what it has: objects in flight stay bounded
            // and a new one is never turned away.
            let oldest = self
                .objects
                .iter()
                .min_by_key(|(_, o)| o.last_frame)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                let detail = format!(
                    "more than {} objects in flight: TOI {} abandoned unfinished (idle since frame {})",
                    self.config.max_objects, k.2, self.objects[&k].last_frame
                );
                self.note(frame, finding(&registry::track::OBJECTS_CAP, detail));
                self.leave(k, Some("abandoned: too many objects in flight".into()));
            }
            if self.objects.len() + self.route.in_flight() >= self.config.max_objects {
                return false;
            }
        }
        let (sender, tsi, toi, fdt_id) = live;
        let session = self.sessions.entry((sender, tsi)).or_default();
        let incarnation = match fdt_id {
            Some(id) => session.fdt_ids.next(u128::from(id)),
            None => session.tois.next(toi),
        };
        let cenc = match alc.lct.extension(HET_CENC).map(|e| &e.body) {
            Some(ExtensionBody::Cenc(c)) => Some(c.cenc),
            _ => None,
        };
        self.objects.insert(
            live,
            ObjectState {
                incarnation,
                assembly: ObjectAssembly::new(alc.lct.codepoint),
                described_until: None,
                cenc,
                close_object: false,
                first_frame: frame,
                last_frame: frame,
                first_time: time,
                last_time: time,
                packets: 0,
                error: None,
            },
        );
        true
    }

    /// RFC 6968 §3.6: with `toi` the newest, the TOIs more than half the space behind it left
    /// the window: their completed objects are forgotten (the TOI may name a new object) and
    /// those still in flight are abandoned (the sender no longer sends them).
    fn slide_window(&mut self, sender: IpAddr, tsi: u64, toi: u128, bits: u32) {
        let Some(session) = self.sessions.get_mut(&(sender, tsi)) else {
            return;
        };
        let newest = match session.newest {
            Some(n) if toi_window::is_newer(toi, n, bits) => n,
            Some(_) => return,
            None => {
                session.newest = Some(toi);
                return;
            }
        };
        session.newest = Some(toi);
        for (a, b) in toi_window::out_of_window(toi, Some(newest), bits) {
            let range = toi_range(sender, tsi, a, b);
            // A step of the newest TOI moves a few TOIs out of the window: looked up one by
            // one; a long jump scans what is remembered.
            if b - a < 1024 {
                for t in a..=b {
                    self.done.remove(&(sender, tsi, t, None));
                }
            } else {
                self.done.retain(|k, _| !range.contains(k));
            }
            let left: Vec<LiveKey> = self.objects.range(range).map(|(k, _)| *k).collect();
            for k in left {
                self.leave(
                    k,
                    Some("abandoned: its TOI left the RFC 6968 §3.6 window".into()),
                );
            }
        }
    }

    /// Objects without a packet for [`AssemblerConfig::idle`] leave, with what they have.
    fn abandon_idle(&mut self, now: Duration) {
        let idle = self.config.idle;
        self.route.abandon_idle(now, idle, &mut self.reports);
        for k in super::idle_keys(&self.objects, |o| o.last_time, now, idle) {
            let why = format!("abandoned: no packet for {} s", idle.as_secs());
            self.leave(k, Some(why));
        }
    }

    /// FLUTE: completed objects whose FDT description expired, and expired FDT Instances, are
    /// forgotten (RFC 6726 §3.3: a sender no longer sends them; their TOI or Instance ID may
    /// then name another object).
    fn forget_expired(&mut self, now: Duration) {
        let now_ntp = ntp_seconds(now);
        let idle = self.config.idle;
        let sessions = &self.sessions;
        self.done.retain(|k, d| {
            let flute = sessions.get(&(k.0, k.1)).is_some_and(|s| s.flute);
            !d.expired(now_ntp, flute, idle)
        });
        // Expired descriptions are never used again (`fdt_entry`): they go too.
        for s in self.sessions.values_mut() {
            s.fdt.forget_expired(now_ntp);
        }
    }

    /// The object in flight on `live` leaves: its report is handed out and its memory freed;
    /// a complete one is remembered so that its repeats are not a new object.
    fn leave(&mut self, live: LiveKey, abandoned: Option<String>) {
        let Some(obj) = self.objects.get(&live) else {
            return;
        };
        let mut report = self.report(live, obj);
        let obj = self.objects.remove(&live).expect("found above");
        self.budget.release(obj.assembly.held());
        if report.data.is_some() {
            // FLUTE: the object is described until its FDT Instance expires.
            let expires_ntp = self
                .fdt_entry((live.0, live.1), live.2, obj.last_time)
                .map(|e| e.expires_ntp);
            self.remember(
                live,
                obj.incarnation,
                report.encoding_id.zip(report.transfer_length),
                expires_ntp,
                obj.last_time,
            );
        } else if let Some(why) = abandoned {
            report.error.get_or_insert(why);
        }
        self.reports.push(report);
    }

    fn remember(
        &mut self,
        live: LiveKey,
        incarnation: u32,
        oti: Option<(u8, u64)>,
        expires_ntp: Option<u64>,
        completed: Duration,
    ) {
        self.done.insert(
            live,
            Done {
                incarnation,
                oti,
                expires_ntp,
                completed_ntp: ntp_seconds(completed),
            },
        );
        self.done_order.push_back((live, incarnation));
        while self.done.len() > self.config.max_done {
            let Some((k, inc)) = self.done_order.pop_front() else {
                break;
            };
            if self.done.get(&k).is_some_and(|d| d.incarnation == inc) {
                self.done.remove(&k);
                self.done_forgotten += 1;
            }
        }
        // Entries already gone leave the order list when it is twice what is remembered.
        if self.done_order.len() > 2 * self.done.len().max(1024) {
            let done = &self.done;
            self.done_order
                .retain(|(k, inc)| done.get(k).is_some_and(|d| d.incarnation == *inc));
        }
    }

    /// `live` was just completed: an FDT Instance is parsed; a complete object leaves.
    fn completed_block(&mut self, frame: u64, time: Duration, live: LiveKey) {
        let Some(obj) = self.objects.get(&live) else {
            return;
        };
        if !obj.assembly.is_complete() {
            return;
        }
        let session_flute = self
            .sessions
            .get(&(live.0, live.1))
            .is_some_and(|s| s.flute);
        if live.3.is_some() || (live.2 == 0 && session_flute) {
            self.take_fdt(frame, time, live);
        } else {
            self.leave(live, None);
        }
    }

    /// Takes a packet's symbols into its object (held until the OTI is known, then fed to
    /// their block's decoder); what is refused is said. True when they completed the object.
    fn feed(
        &mut self,
        frame: u64,
        key: LiveKey,
        sbn: u32,
        esi: u32,
        sbl: Option<u16>,
        symbols: &[u8],
    ) -> bool {
        let obj = self.objects.get_mut(&key).expect("tracked");
        match obj.assembly.take(&mut self.budget, sbn, esi, sbl, symbols) {
            Ok(outcome) => outcome == PushOutcome::Completed,
            Err(refused) => {
                if let Some(f) = self.refusal(key, &refused) {
                    self.note(frame, f);
                }
                false
            }
        }
    }

    /// What a refused symbol means here: a finding, or (a block that cannot be decoded) an
    /// object that cannot be rebuilt.
    fn refusal(&mut self, key: LiveKey, refused: &Refused) -> Option<Finding> {
        let toi = key.2;
        Some(match refused {
            Refused::OverBudget {
                sbn: None, held, ..
            } => finding(
                &registry::track::BUFFER_CAP,
                format!("TOI {toi}: symbol dropped, {held} bytes already held"),
            ),
            Refused::OverBudget {
                sbn: Some(sbn),
                bytes,
                cap,
                ..
            } => finding(
                &registry::track::BUFFER_CAP,
                format!("TOI {toi} SBN {sbn}: block of {bytes} bytes over the {cap}-byte cap"),
            ),
            Refused::SbnPastEnd { sbn, blocks } => finding(
                &registry::fec::SBN_OUT_OF_RANGE,
                format!("TOI {toi}: SBN {sbn} is past the last of {blocks} blocks"),
            ),
            Refused::BlockUndecodable { error, .. } => {
                if let Some(obj) = self.objects.get_mut(&key) {
                    obj.error = Some(error.to_string());
                }
                return None;
            }
            Refused::BadSymbol { sbn, error } => finding(
                &registry::fec::SYMBOL_INVALID,
                format!("TOI {toi} SBN {sbn}: {error}"),
            ),
        })
    }

    /// A complete FDT Instance: decoded, its files recorded (a TOI mapped to another file names
    /// a new object), and what waited for it replayed.
    fn take_fdt(&mut self, frame: u64, time: Duration, live: LiveKey) {
        let Some(bytes) = self.object_bytes(&live) else {
            return;
        };
        let Some(obj) = self.objects.remove(&live) else {
            return;
        };
        self.budget.release(obj.assembly.held());
        let key = ObjectKey::of(live, obj.incarnation);
        let session = (live.0, live.1);
        let instance = match FdtInstance::parse_payload(&bytes, obj.cenc, self.config.max_inflated)
        {
            Ok(d) => {
                for f in d.findings {
                    self.note(frame, f);
                }
                d.value
            }
            Err(e) => {
                let f = Finding::from(e);
                self.note(frame, f);
                FdtInstance {
                    namespace: crate::wire::fdt::FdtNamespace::None,
                    expires: None,
                    complete: None,
                    defaults: Default::default(),
                    files: vec![],
                    other_attributes: vec![],
                    child_elements: vec![],
                }
            }
        };
        let now_ntp = ntp_seconds(time);
        let expires_ntp = instance.valid_until(now_ntp);
        self.remember(live, obj.incarnation, None, Some(expires_ntp), time);
        let shared = Arc::new(instance);
        // TOIs now mapped to another file, with when their old description expired; TOIs
        // described again (a carousel renews its FDT before it expires).
        let mut superseded = Vec::new();
        let mut described_again = Vec::new();
        let table = &mut self.sessions.entry(session).or_default().fdt;
        for file in &shared.files {
            // A file completed before its FDT Instance arrived (the first copies lost) is
            // described from now on: it expires with this instance.
            if let Some(d) = self.done.get_mut(&(live.0, live.1, file.toi, None)) {
                if d.expires_ntp.is_none() {
                    d.expires_ntp = Some(expires_ntp);
                }
            }
            match table.describe(&shared, file, expires_ntp, now_ntp) {
                Described::Again => described_again.push(file.toi),
                Described::Replaced { old_expires_ntp } | Described::Reused { old_expires_ntp } => {
                    superseded.push((file.toi, old_expires_ntp))
                }
                Described::New | Described::Changed => {}
            }
        }
        // A file described again stays described (and its repeats repeats) until the new
        // instance expires.
        for toi in described_again {
            let k = (live.0, live.1, toi, None);
            if let Some(d) = self.done.get_mut(&k) {
                d.expires_ntp = Some(d.expires_ntp.unwrap_or(0).max(expires_ntp));
            }
            if let Some(o) = self.objects.get_mut(&k) {
                o.described_until = o.described_until.map(|u| u.max(expires_ntp));
            }
        }
        for (toi, old_expiry) in superseded {
            let k = (live.0, live.1, toi, None);
            // Only the old file's object is forgotten: one completed after its description
            // expired is the new file's (it came before this instance).
            if self
                .done
                .get(&k)
                .is_some_and(|d| d.completed_ntp <= old_expiry)
            {
                self.done.remove(&k);
            }
            // An object begun while the old description was valid was the old file's; one
            // begun after is the new file's (its first packets came before this instance).
            if self
                .objects
                .get(&k)
                .is_some_and(|o| o.assembly.has_oti() && ntp_seconds(o.first_time) <= old_expiry)
            {
                self.leave(
                    k,
                    Some("abandoned: a new FDT Instance maps its TOI to another file".into()),
                );
            }
        }
        self.fdt_events.push(FdtEvent {
            key,
            frame,
            time,
            instance: shared,
        });
        self.replay(frame, time, session);
    }

    /// Objects of a session that waited for their OTI get it from the FDT and their symbols.
    fn replay(&mut self, frame: u64, time: Duration, session: (IpAddr, u64)) {
        let keys: Vec<LiveKey> = self
            .objects
            .range(toi_range(session.0, session.1, 0, u128::MAX))
            .filter(|(_, o)| !o.assembly.has_oti() && o.error.is_none())
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            // Unfiltered: an instance that completed expired still gives its OTI (the session
            // checks report the expiry).
            let Some(entry) = self.sessions.get(&session).and_then(|s| s.fdt.entry(key.2)) else {
                continue;
            };
            let max_object = self.config.max_object_bytes;
            let obj = self.objects.get_mut(&key).expect("listed");
            let set = fdt_object(&entry.instance, &entry.file, obj.assembly.codepoint)
                .map_err(|e| e.to_string())
                .and_then(|f| obj.assembly.set_oti(f, max_object));
            match set {
                Ok(()) => obj.described_until = Some(entry.expires_ntp),
                Err(e) => {
                    obj.error = Some(e);
                    obj.assembly.discard_pending(&mut self.budget);
                    continue;
                }
            }
            let (complete, refused) = obj.assembly.replay(&mut self.budget);
            for r in refused {
                if let Some(f) = self.refusal(key, &r) {
                    self.note(frame, f);
                }
            }
            if complete {
                self.completed_block(frame, time, key);
            }
        }
    }

    /// The whole object, once every block is decoded.
    fn object_bytes(&self, key: &LiveKey) -> Option<Vec<u8>> {
        self.objects.get(key)?.assembly.builder()?.bytes()
    }

    fn report(&self, live: LiveKey, obj: &ObjectState) -> ObjectReport {
        let key = ObjectKey::of(live, obj.incarnation);
        let fec = obj.fec();
        let blocks = fec.map_or(0, FecObject::block_count);
        let symbols_needed = fec.map_or(0, |f| f.transfer_length.div_ceil(f.symbol_length.max(1)));
        let builder = obj.assembly.builder();
        let per_block = builder.map(ObjectBuilder::per_block).unwrap_or_default();
        let symbols_received = per_block.iter().map(|(_, r, _)| r).sum();
        let data = self.object_bytes(&live);
        let partial = match (builder, &data) {
            (Some(b), None) if self.config.partial => Some(b.partial()),
            _ => None,
        };
        let fdt_file = self
            .fdt_entry((live.0, live.1), live.2, obj.last_time)
            .map(|e| e.file.clone());
        ObjectReport {
            key,
            encoding_id: fec.map(|f| f.encoding_id),
            transfer_length: fec.map(|f| f.transfer_length),
            blocks,
            blocks_decoded: builder.map_or(0, ObjectBuilder::decoded_blocks),
            symbols_received,
            symbols_needed,
            per_block,
            data,
            partial,
            fdt_file,
            packets: obj.packets,
            first_frame: obj.first_frame,
            last_frame: obj.last_frame,
            close_object: obj.close_object,
            error: obj.error.clone(),
            route_mode: None,
        }
    }

    /// End of input: every object still in flight leaves as it is (to [`take_reports`]).
    /// A completed object forgotten past [`AssemblerConfig::max_done`] is said once, here:
    /// a later repeat of it was taken for a new object.
    ///
    /// [`take_reports`]: Assembler::take_reports
    pub fn finish(&mut self, last_frame: u64) {
        let keys: Vec<LiveKey> = self.objects.keys().copied().collect();
        for k in keys {
            self.leave(k, None);
        }
        self.route.finish(&mut self.reports);
        if self.done_forgotten > 0 {
            let detail = format!(
                "{} completed objects forgotten past the {} remembered: a later repeat of one is listed as a new object",
                self.done_forgotten, self.config.max_done
            );
            self.note(
                last_frame,
                finding(&registry::track::OBJECTS_DONE_CAP, detail),
            );
        }
    }

    /// Objects in flight.
    pub fn in_flight(&self) -> usize {
        self.objects.len() + self.route.in_flight()
    }

    /// Completed objects remembered (to tell their repeats from new objects).
    pub fn remembered(&self) -> usize {
        self.done.len()
    }

    /// Bytes currently held by decoders and pending symbols.
    pub fn buffered_bytes(&self) -> u64 {
        self.budget.held + self.route.held()
    }
}
