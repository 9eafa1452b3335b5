//! The sans-IO receiver. Each datagram goes through the steps of RFC 5775 §4.4 in order:
//! 1. header validation (a malformed packet is dropped, never fatal);
//! 2. session match by (sender address, TSI), before anything else looks at the packet;
//! 3. TOI validation (FLUTE: TOI 0 only with EXT_FDT; after close-session nothing is taken);
//! 4. FEC decoding into the object, which is delivered when complete and then forgotten.
//!
//! Memory is bounded by [`ReceiverConfig`]: objects in flight, bytes held by decoders and by
//! symbols waiting for their OTI, and the largest object, all enforced; what a cap turns away
//! is counted in [`ReceiverStats`].

pub mod content;
pub mod fcast;
pub mod flute;
pub mod mutant;

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

use md5::{Digest, Md5};

use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::track::fdt_description::fdt_object;
use rmt_inspector::track::object::{
    ByteBudget, ObjectAssembly, ObjectBuilder, PushOutcome, Refused,
};
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::cid::CidElement;
use rmt_inspector::wire::ext_cenc::ContentEncoding;
use rmt_inspector::wire::ext_fti::FecOti;
use rmt_inspector::wire::fdt::{FdtAttributes, FdtInstance};
use rmt_inspector::wire::lct::{ExtensionBody, HET_CENC, HET_FDT};
use rmt_inspector::wire::Severity;

use crate::sender::Mode;
use crate::time::Now;
use fcast::Unpacked;
use flute::{FdtOutcome, FdtTable};
use mutant::ReceiverMutant;
use rmt_inspector::track::toi_window::{in_window, is_newer, out_of_window};

#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    pub mode: Mode,
    /// The session's TSI. `None`: the TSI of the first valid packet is the session's.
    pub tsi: Option<u64>,
    /// The sender's address. `None`: the first sender seen with the TSI is the session's.
    pub source: Option<IpAddr>,
    /// FEC Encoding ID from the session description; `None`: the codepoint (FLUTE, RFC 6726 §5).
    pub fec_encoding_id: Option<u8>,
    pub max_objects: usize,
    pub max_buffered_bytes: u64,
    pub max_object_bytes: u64,
    /// Largest FDT Instance or object after content decoding.
    pub max_inflated: usize,
}

impl ReceiverConfig {
    pub fn new(mode: Mode, tsi: u64) -> Self {
        ReceiverConfig {
            mode,
            tsi: Some(tsi),
            source: None,
            fec_encoding_id: None,
            max_objects: 1024,
            max_buffered_bytes: 1 << 30,
            max_object_bytes: 1 << 30,
            max_inflated: 1 << 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub tsi: u64,
    pub toi: u128,
    pub name: String,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
    /// FCAST: the Carousel Instance the object was received in (last CID seen).
    pub ciid: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Delivered(Delivered),
    /// An object that will not be delivered (rejected, removed by the CID, closed unfinished).
    Abandoned {
        toi: u128,
        reason: String,
    },
    FdtInstance {
        instance_id: u32,
        files: usize,
        complete: bool,
    },
    /// An FDT Instance not used (expired, malformed, changing a TOI's parameters).
    FdtIgnored {
        instance_id: u32,
        reason: String,
    },
    Cid {
        ciid: Option<u64>,
        complete: bool,
        objects: u128,
    },
    /// A and the session's end (RFC 5651 §5.1).
    SessionClosed,
    /// Every object of a complete FDT or CID was delivered: the receiver may leave
    /// (RFC 6968 §3.8 step 6).
    SessionComplete,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReceiverStats {
    pub packets: u64,
    pub malformed: u64,
    pub foreign: u64,
    pub after_close: u64,
    /// Packets for objects already delivered (carousel repeats).
    pub repeats: u64,
    pub oti_mismatch: u64,
    /// FCAST without CIDs: packets of a TOI more than half the TOI space behind the newest
    /// (an object no longer sent, RFC 6968 §3.6).
    pub out_of_window: u64,
    pub capped: u64,
    pub delivered: u64,
    pub abandoned: u64,
}

/// Delivered objects whose TOI left the window that are remembered for TOI equivalences: half
/// of a 16-bit TOI space (a CID can list no more objects than that, RFC 6968 §3.6).
const MAX_RETIRED: usize = 32_768;

/// An unfinished object with no packet for this long is abandoned when its key comes back.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// The reason given when it is (followed by the seconds).
pub const STALE_REASON: &str = "abandoned unfinished: no packet for";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Fdt(u32),
    Object(u128),
}

#[derive(Debug)]
struct InFlight {
    /// Its symbols until the OTI is known, its blocks being decoded after.
    assembly: ObjectAssembly,
    cenc: Option<ContentEncoding>,
    close_object: bool,
    /// FCAST: the newest CIID when the object's first packet arrived.
    ciid: Option<u64>,
    /// The first EXT_FTI's FEC Encoding ID and OTI, to compare later packets with.
    first_fti: Option<(u8, FecOti)>,
    /// When its last packet came.
    last: Now,
}

#[derive(Debug)]
pub struct Receiver {
    config: ReceiverConfig,
    source: Option<IpAddr>,
    tsi: Option<u64>,
    objects: BTreeMap<Key, InFlight>,
    /// Delivered objects (FLUTE files, FCAST objects) with the CIID they were delivered under.
    delivered: BTreeMap<u128, Option<u64>>,
    /// FLUTE: complete files waiting for their FDT entry.
    awaiting_fdt: BTreeMap<u128, (Vec<u8>, Now)>,
    fdt: FdtTable,
    /// FCAST: the newest CID.
    cid: Option<fcast::FcastCid>,
    /// FCAST: the newest TOI seen and its field width in bits, for the §3.6 window.
    newest_toi: Option<(u128, u32)>,
    /// FCAST: delivered objects whose TOI left the window (the TOI may now name a new object),
    /// with the CIID they were delivered under: what a CID's TOI equivalence (§3.6) may still
    /// refer to. The oldest are forgotten past [`MAX_RETIRED`].
    retired: BTreeMap<u128, Option<u64>>,
    retired_order: VecDeque<u128>,
    /// A deliberate bug (tests and `rmt-conform mutants` only).
    mutant: Option<ReceiverMutant>,
    closed: bool,
    complete_reported: bool,
    /// Bytes in decoders, symbols waiting for their OTI and files waiting for their FDT entry.
    budget: ByteBudget,
    events: VecDeque<Event>,
    stats: ReceiverStats,
}

fn fec_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Receiver {
    pub fn new(config: ReceiverConfig) -> Self {
        Receiver {
            source: config.source,
            tsi: config.tsi,
            budget: ByteBudget::new(config.max_buffered_bytes),
            config,
            objects: BTreeMap::new(),
            delivered: BTreeMap::new(),
            awaiting_fdt: BTreeMap::new(),
            fdt: FdtTable::default(),
            cid: None,
            newest_toi: None,
            retired: BTreeMap::new(),
            retired_order: VecDeque::new(),
            mutant: None,
            closed: false,
            complete_reported: false,
            events: VecDeque::new(),
            stats: ReceiverStats::default(),
        }
    }

    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }

    /// Switches on one deliberate bug ([`mutant`]): for the conformance suite's mutation runs
    /// and tests only, never set by a normal run.
    #[doc(hidden)]
    pub fn mutate(&mut self, m: ReceiverMutant) {
        self.mutant = Some(m);
        self.fdt.accept_expired = m == ReceiverMutant::ExpiredFdtUsed;
        if m == ReceiverMutant::FdtParameterChangeAccepted {
            self.fdt.accept_changes();
        }
    }

    fn is(&self, m: ReceiverMutant) -> bool {
        self.mutant == Some(m)
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The session (sender address, TSI) once known.
    pub fn session(&self) -> Option<(IpAddr, u64)> {
        self.source.zip(self.tsi)
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes held in decoders and pending symbols.
    pub fn buffered_bytes(&self) -> u64 {
        self.budget.held
    }

    pub fn objects_in_flight(&self) -> usize {
        self.objects.len()
    }

    /// Takes one UDP payload from `source` received at `now`.
    pub fn handle(&mut self, now: Now, source: IpAddr, datagram: &[u8]) {
        self.stats.packets += 1;
        match self.mutant {
            Some(ReceiverMutant::Inert) => return,
            Some(ReceiverMutant::Panics) if self.stats.packets == 10 => {
                panic!("mutant: the tenth datagram")
            }
            _ => {}
        }
        // Step 1: the header.
        // FLUTE carries the FEC Encoding ID in the codepoint (RFC 6726 §5); a session
        // description's value is for the other ALC uses.
        let ctx = AlcContext {
            fec_encoding_id: match self.config.mode {
                Mode::Flute => None,
                Mode::Fcast => self.config.fec_encoding_id,
            },
            rs_m: None,
            webrc: false,
            ..AlcContext::default()
        };
        let alc = match AlcPacket::parse(datagram, ctx) {
            Ok(d) if !d.findings.iter().any(|f| f.severity == Severity::Error) => d.value,
            _ => {
                self.stats.malformed += 1;
                return;
            }
        };
        // Step 2: the session is (sender address, TSI).
        let tsi = alc.lct.tsi;
        let foreign_tsi =
            self.tsi.is_some_and(|t| Some(t) != tsi) && !self.is(ReceiverMutant::TsiIgnored);
        let foreign_source =
            self.source.is_some_and(|s| s != source) && !self.is(ReceiverMutant::SourceIgnored);
        if foreign_tsi || foreign_source {
            self.stats.foreign += 1;
            return;
        }
        self.source = Some(source);
        self.tsi = tsi;
        if self.closed {
            self.stats.after_close += 1;
            return;
        }
        // Step 3: the TOI.
        if let (Some(toi), Some(_)) = (alc.lct.toi, alc.payload_id) {
            let key = match (self.config.mode, toi) {
                (Mode::Flute, 0) => match alc.lct.extension(HET_FDT).map(|e| &e.body) {
                    Some(ExtensionBody::Fdt(f)) => Some(Key::Fdt(f.instance_id)),
                    _ => None, // RFC 6726 §3.4.1: TOI 0 packets carry EXT_FDT
                },
                _ => Some(Key::Object(toi)),
            };
            if self.config.mode == Mode::Fcast
                && !self.slide_toi_window(toi, 8 * alc.lct.toi_len() as u32)
            {
                self.stats.out_of_window += 1;
                return;
            }
            match key {
                Some(key) => self.take_symbols(now, key, &alc, datagram),
                None => self.stats.malformed += 1,
            }
        }
        if let Some(toi) = alc.lct.toi {
            if alc.lct.close_object {
                if let Some(o) = self.objects.get_mut(&Key::Object(toi)) {
                    o.close_object = true;
                }
            }
        }
        if alc.lct.close_session {
            self.close("close-session (A flag) before the object was complete");
        }
    }

    /// The end of input (or A=1): what is not complete is abandoned.
    pub fn close(&mut self, reason: &str) {
        if self.closed {
            return;
        }
        self.closed = true;
        for (key, _) in std::mem::take(&mut self.objects) {
            if let Key::Object(toi) = key {
                self.abandon(toi, reason.to_string());
            }
        }
        for (toi, _) in std::mem::take(&mut self.awaiting_fdt) {
            self.abandon(toi, "no FDT entry for the TOI (RFC 6726 §3.2)".into());
        }
        self.budget.held = 0;
        self.events.push_back(Event::SessionClosed);
    }

    fn abandon(&mut self, toi: u128, reason: String) {
        self.stats.abandoned += 1;
        self.events.push_back(Event::Abandoned { toi, reason });
    }

    fn oti_for(&self, key: Key, alc: &AlcPacket) -> Option<Result<FecObject, String>> {
        if let Some(fti) = &alc.fti {
            return Some(FecObject::from_oti(alc.fec_encoding_id, &fti.oti).map_err(fec_error));
        }
        match (self.config.mode, key) {
            (Mode::Flute, Key::Object(toi)) => self
                .fdt
                .entry(toi)
                .map(|e| fdt_object(&e.instance, &e.file, alc.lct.codepoint).map_err(fec_error)),
            _ => None,
        }
    }

    /// RFC 6968 §3.6: active TOIs occupy at most half of the TOI space, so a TOI that falls
    /// more than half the space behind the newest one belongs to an object that is no longer
    /// sent. In a session without CIDs, delivered ones are forgotten (the TOI may come back for
    /// a new object), partial ones abandoned (their symbols must not be spliced with a new
    /// object's), and late packets of such a TOI dropped: `false`. With CIDs, the CID says which
    /// objects are gone (§3.8 step 4) and which TOIs are renumbered ones (§3.6 equivalences refer
    /// to TOIs outside the window), so this only tracks the newest TOI.
    ///
    /// The window is reckoned in the session's first TOI width: a TOI sent in another width
    /// (§3.6 lets the width change per packet) is compared by value only.
    fn slide_toi_window(&mut self, toi: u128, bits: u32) -> bool {
        if !(16..=112).contains(&bits) {
            return true;
        }
        let forgets = !self.is(ReceiverMutant::ToisRememberedForever);
        let ruled = self.cid.is_none() && forgets;
        if let Some((newest, width)) = self.newest_toi {
            if width != bits {
                return true;
            }
            if !is_newer(toi, newest, bits) {
                // The newest, or behind it: inside the window, or an object no longer sent.
                return !ruled || in_window(toi, newest, bits);
            }
        }
        self.newest_toi = Some((toi, bits));
        // What is out of the window now, as key ranges: a few lookups, not a scan per step.
        let out = out_of_window(toi, None, bits);
        if forgets {
            self.retire_delivered(&out);
        }
        if !ruled {
            return true;
        }
        let stale: Vec<Key> = out
            .iter()
            .flat_map(|(a, b)| self.objects.range(Key::Object(*a)..=Key::Object(*b)))
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.drop_object(
                key,
                "its TOI left the half of the TOI space behind the newest (RFC 6968 §3.6)".into(),
            );
        }
        true
    }

    /// Delivered TOIs that left the window (in the ranges `out`) are forgotten, with or
    /// without CIDs: a packet with such a TOI starts a new object. They are kept aside for TOI
    /// equivalences.
    fn retire_delivered(&mut self, out: &[(u128, u128)]) {
        let gone: Vec<(u128, Option<u64>)> = out
            .iter()
            .flat_map(|(a, b)| self.delivered.range(*a..=*b))
            .map(|(t, c)| (*t, *c))
            .collect();
        for (t, ciid) in gone {
            self.delivered.remove(&t);
            if self.retired.insert(t, ciid).is_none() {
                self.retired_order.push_back(t);
            }
        }
        while self.retired_order.len() > MAX_RETIRED {
            if let Some(t) = self.retired_order.pop_front() {
                self.retired.remove(&t);
            }
        }
    }

    fn take_symbols(&mut self, now: Now, key: Key, alc: &AlcPacket, datagram: &[u8]) {
        if let (Key::Object(t), Some(cid)) = (key, &self.cid) {
            if self.is(ReceiverMutant::FiltersOnCidList) && !cid.list.contains(t) {
                return;
            }
        }
        // FLUTE: a delivered TOI whose description expired may come back for another file
        // (RFC 6726 §3.3); its packets wait for the FDT Instance that describes it.
        // An object still in flight whose description expired is the old file's, unfinished:
        // it is dropped, not spliced with the new file's symbols.
        if let Key::Object(t) = key {
            if self.config.mode == Mode::Flute && self.fdt.expired(t, now) {
                self.delivered.remove(&t);
                self.fdt.forget(t);
                if self.objects.contains_key(&key) {
                    let why = "its FDT description expired unfinished (RFC 6726 §3.3)".to_string();
                    self.drop_object(key, why);
                }
            }
        }
        // A file rebuilt long ago whose FDT entry never came (every copy lost) is given up: its
        // TOI may name another file by now, whose packets are not repeats of it.
        if let Key::Object(t) = key {
            if self
                .awaiting_fdt
                .get(&t)
                .is_some_and(|(_, at)| now.saturating_sub(*at) > STALE_AFTER)
            {
                self.take_awaiting(t, now);
            }
        }
        match key {
            Key::Object(t)
                if self.delivered.contains_key(&t) || self.awaiting_fdt.contains_key(&t) =>
            {
                self.stats.repeats += 1;
                return;
            }
            Key::Fdt(id) if self.fdt.is_live(id, now) => {
                self.stats.repeats += 1;
                return;
            }
            _ => {}
        }
        // An object unfinished and silent for long is given up: its TOI (or FDT Instance ID,
        // which wraps at 2^20) may name another object by now, whose symbols must not reach it.
        if self
            .objects
            .get(&key)
            .is_some_and(|o| now.saturating_sub(o.last) > STALE_AFTER)
        {
            let why = format!("{STALE_REASON} {} s", STALE_AFTER.as_secs());
            self.drop_object(key, why);
        }
        if !self.objects.contains_key(&key) {
            if self.objects.len() >= self.config.max_objects {
                self.stats.capped += 1;
                return;
            }
            let cenc = match alc.lct.extension(HET_CENC).map(|e| &e.body) {
                Some(ExtensionBody::Cenc(c)) => Some(c.cenc),
                _ => None,
            };
            let ciid = self.cid.as_ref().and_then(|c| c.ciid);
            self.objects.insert(
                key,
                InFlight {
                    assembly: ObjectAssembly::new(alc.lct.codepoint),
                    cenc,
                    close_object: false,
                    ciid,
                    first_fti: None,
                    last: now,
                },
            );
        }
        if let Some(o) = self.objects.get_mut(&key) {
            o.last = now;
        }
        // The OTI is resolved (EXT_FTI or FDT, FecObject built) once per object; later packets
        // only compare their EXT_FTI with the first one (RFC 6726 §5, RFC 5775 §4.2: the OTI of
        // a TOI does not change; the first wins).
        if self.objects[&key].assembly.has_oti() {
            if let Some(fti) = &alc.fti {
                let id = alc.fec_encoding_id;
                let obj = self.objects.get_mut(&key).expect("tracked");
                let same = match &obj.first_fti {
                    Some((first_id, first)) => *first_id == id && *first == fti.oti,
                    // Built from the FDT: compare this first EXT_FTI once, then remember it.
                    None => FecObject::from_oti(id, &fti.oti)
                        .is_ok_and(|f| obj.assembly.fec() == Some(&f)),
                };
                if !same {
                    self.stats.oti_mismatch += 1;
                    return;
                }
                obj.first_fti.get_or_insert_with(|| (id, fti.oti.clone()));
            }
        } else {
            let oti = self.oti_for(key, alc);
            let max_object = self.config.max_object_bytes;
            let obj = self.objects.get_mut(&key).expect("inserted above");
            let set = match oti {
                Some(Ok(fec)) => obj.assembly.set_oti(fec, max_object).map_err(|e| (true, e)),
                Some(Err(e)) => Err((false, e)),
                None => Ok(()),
            };
            match set {
                Ok(()) => {
                    obj.first_fti = alc
                        .fti
                        .as_ref()
                        .map(|f| (alc.fec_encoding_id, f.oti.clone()));
                }
                Err((capped, why)) => {
                    self.stats.capped += u64::from(capped);
                    self.drop_object(key, why);
                    return;
                }
            }
        }
        let Some(pid) = alc.payload_id else { return };
        let symbols = alc.symbols(datagram);
        let obj = self.objects.get_mut(&key).expect("tracked");
        match obj
            .assembly
            .take(&mut self.budget, pid.sbn, pid.esi, pid.sbl, symbols)
        {
            Ok(PushOutcome::Completed) => self.complete(now, key),
            Ok(_) => {}
            Err(r) => self.count_refusal(&r),
        }
    }

    /// A refused symbol is counted: over the byte cap, or malformed for its object's OTI.
    fn count_refusal(&mut self, refused: &Refused) {
        match refused {
            Refused::OverBudget { .. } => self.stats.capped += 1,
            _ => self.stats.malformed += 1,
        }
    }

    fn drop_object(&mut self, key: Key, reason: String) {
        if let Some(o) = self.objects.remove(&key) {
            self.budget.release(o.assembly.held());
        }
        match key {
            Key::Object(toi) => self.abandon(toi, reason),
            Key::Fdt(instance_id) => self.events.push_back(Event::FdtIgnored {
                instance_id,
                reason,
            }),
        }
    }

    /// Replays held symbols of objects whose OTI just became known (from a new FDT Instance).
    fn replay_pending(&mut self, now: Now) {
        let keys: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, o)| !o.assembly.has_oti() && o.assembly.has_pending())
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Key::Object(toi) = key else { continue };
            let Some(e) = self.fdt.entry(toi) else {
                continue;
            };
            let obj = self.objects.get_mut(&key).expect("listed");
            let set = fdt_object(&e.instance, &e.file, obj.assembly.codepoint)
                .map_err(fec_error)
                .and_then(|f| obj.assembly.set_oti(f, self.config.max_object_bytes));
            if let Err(e) = set {
                self.drop_object(key, e);
                continue;
            }
            let (done, refused) = obj.assembly.replay(&mut self.budget);
            for r in &refused {
                self.count_refusal(r);
            }
            if done {
                self.complete(now, key);
            }
        }
    }

    /// An object's last needed symbol arrived.
    fn complete(&mut self, now: Now, key: Key) {
        let Some(obj) = self.objects.remove(&key) else {
            return;
        };
        self.budget.release(obj.assembly.held());
        let Some(bytes) = obj.assembly.builder().and_then(ObjectBuilder::bytes) else {
            return;
        };
        match (self.config.mode, key) {
            (_, Key::Fdt(id)) => self.take_fdt(now, id, &bytes, obj.cenc),
            (Mode::Flute, Key::Object(toi)) => {
                if self.fdt.entry(toi).is_some() {
                    self.deliver_flute(toi, bytes);
                } else if self.awaiting_fdt.len() < self.config.max_objects
                    && self.budget.fits(bytes.len() as u64)
                {
                    // Held until an FDT Instance maps the TOI; counted in the byte cap.
                    self.budget.take(bytes.len() as u64);
                    self.awaiting_fdt.insert(toi, (bytes, now));
                } else {
                    self.stats.capped += 1;
                    self.abandon(toi, "no FDT entry, and no room to wait for one".into());
                }
            }
            (Mode::Fcast, Key::Object(toi)) => self.take_fcast(toi, obj.ciid, &bytes),
        }
        self.check_complete();
    }

    fn take_fdt(&mut self, now: Now, id: u32, bytes: &[u8], cenc: Option<ContentEncoding>) {
        let inst = match FdtInstance::parse_payload(bytes, cenc, self.config.max_inflated) {
            Ok(d) if !d.findings.iter().any(|f| f.severity == Severity::Error) => d.value,
            Ok(d) => {
                let f = d
                    .findings
                    .iter()
                    .find(|f| f.severity == Severity::Error)
                    .expect("found");
                let reason = format!("{} ({})", f.id, f.rule);
                self.events.push_back(Event::FdtIgnored {
                    instance_id: id,
                    reason,
                });
                return;
            }
            Err(e) => {
                let reason = format!("{} ({}): {}", e.id, e.rule, e.detail);
                self.events.push_back(Event::FdtIgnored {
                    instance_id: id,
                    reason,
                });
                return;
            }
        };
        let files = inst.files.len();
        let complete = inst.complete == Some(true);
        // Files whose description expired are forgotten, delivered or not.
        for toi in self.fdt.forget_expired(now) {
            self.delivered.remove(&toi);
        }
        match self.fdt.apply(id, inst, now) {
            FdtOutcome::Expired {
                expires_ntp,
                now_ntp,
            } => {
                self.events.push_back(Event::FdtIgnored {
                    instance_id: id,
                    reason: format!(
                        "expired {} s before it was received (RFC 6726 §3.3)",
                        now_ntp - expires_ntp
                    ),
                });
            }
            FdtOutcome::Applied {
                mut new_tois,
                changed_tois,
                reused_tois,
            } => {
                self.events.push_back(Event::FdtInstance {
                    instance_id: id,
                    files,
                    complete,
                });
                if !changed_tois.is_empty() {
                    self.events.push_back(Event::FdtIgnored {
                        instance_id: id,
                        reason: format!("changes the parameters of TOIs {changed_tois:?}; the first ones are kept (RFC 6726 §3.3)"),
                    });
                }
                // A TOI described again after its description expired is a new file: what was
                // delivered or held under it belonged to the old one.
                for toi in reused_tois {
                    self.delivered.remove(&toi);
                    if self.objects.contains_key(&Key::Object(toi)) {
                        let why = "its TOI now names another file (RFC 6726 §3.3)".to_string();
                        self.drop_object(Key::Object(toi), why);
                    }
                    new_tois.push(toi);
                }
                for toi in new_tois {
                    if let Some(bytes) = self.take_awaiting(toi, now) {
                        self.deliver_flute(toi, bytes);
                    }
                }
                self.replay_pending(now);
            }
        }
    }

    /// The bytes of a file held for its FDT entry, taken out; `None` when there are none, or
    /// when they were held longer than [`STALE_AFTER`]: then they are another file's, whose FDT
    /// entry never came, and that file is abandoned.
    fn take_awaiting(&mut self, toi: u128, now: Now) -> Option<Vec<u8>> {
        let (bytes, at) = self.awaiting_fdt.remove(&toi)?;
        self.budget.release(bytes.len() as u64);
        if now.saturating_sub(at) > STALE_AFTER {
            self.abandon(toi, format!("{STALE_REASON} {} s", STALE_AFTER.as_secs()));
            return None;
        }
        Some(bytes)
    }

    fn deliver_flute(&mut self, toi: u128, bytes: Vec<u8>) {
        let entry = self.fdt.entry(toi).expect("checked by the caller").clone();
        let f = &entry.file;
        if f.transfer_length.is_some_and(|t| t != bytes.len() as u64) {
            self.abandon(
                toi,
                format!(
                    "{} bytes received but the FDT's Transfer-Length is {:?} (RFC 6726 §3.4.2)",
                    bytes.len(),
                    f.transfer_length
                ),
            );
            return;
        }
        // A file's attribute, or the instance's default for it (RFC 6726 §3.4.2).
        let inherited = |pick: fn(&FdtAttributes) -> &Option<String>| {
            pick(&f.attributes)
                .clone()
                .or_else(|| pick(&entry.instance.defaults).clone())
        };
        let encoding = inherited(|a| &a.content_encoding);
        let data = match content::decode_content(
            encoding.as_deref(),
            bytes,
            self.config.max_inflated,
            "RFC 6726 §3.4.2",
        ) {
            Ok(d) => d,
            Err(e) => {
                self.abandon(toi, e);
                return;
            }
        };
        if let Some(md5) = f
            .content_md5
            .as_ref()
            .filter(|_| !self.is(ReceiverMutant::DigestNotChecked))
        {
            if Md5::digest(&data).as_slice() != md5.as_slice() {
                self.abandon(toi, "Content-MD5 does not match (RFC 6726 §3.4.2)".into());
                return;
            }
        }
        let content_type = inherited(|a| &a.content_type);
        self.deliver(toi, f.content_location.clone(), content_type, data, None);
    }

    fn deliver(
        &mut self,
        toi: u128,
        name: String,
        content_type: Option<String>,
        data: Vec<u8>,
        ciid: Option<u64>,
    ) {
        let mut data = data;
        if self.is(ReceiverMutant::TruncatesObjects) {
            data.pop();
        }
        self.delivered.insert(toi, ciid);
        self.stats.delivered += 1;
        self.events.push_back(Event::Delivered(Delivered {
            tsi: self.tsi.unwrap_or_default(),
            toi,
            name,
            content_type,
            data,
            ciid,
        }));
    }

    fn take_fcast(&mut self, toi: u128, ciid: Option<u64>, bytes: &[u8]) {
        let checks = fcast::Checks {
            checksum: !self.is(ReceiverMutant::FcastChecksumNotChecked),
            digest: !self.is(ReceiverMutant::DigestNotChecked),
        };
        match fcast::unpack(bytes, self.config.max_inflated, checks) {
            Err(reason) => self.abandon(toi, reason),
            Ok(Unpacked::File(f)) => {
                let name = f.name.unwrap_or_else(|| format!("toi-{toi}"));
                self.deliver(toi, name, f.content_type, f.data, ciid);
            }
            Ok(Unpacked::Cid(cid)) => {
                // The CID is an object too: its TOI is not delivered twice.
                self.delivered.insert(toi, cid.ciid);
                self.take_cid(toi, cid);
            }
        }
    }

    /// RFC 6968 §3.5, §3.8: objects of earlier instances that the new CID no longer lists are
    /// abandoned (not delivered half-done), delivered ones are forgotten (their TOI may be
    /// reused), and equivalences mark re-sent objects as already received. Packets are never
    /// filtered on the list.
    fn take_cid(&mut self, cid_toi: u128, cid: fcast::FcastCid) {
        let newest = self.cid.as_ref().and_then(|c| c.ciid);
        if let (Some(old), Some(new)) = (newest, cid.ciid) {
            if new < old {
                return; // a late copy of an older CID
            }
        }
        if self.cid.is_some() && self.is(ReceiverMutant::FirstCidOnly) {
            return;
        }
        let listed = |toi: u128| cid.list.contains(toi);
        let stale: Vec<Key> = self
            .objects
            .iter()
            .filter(|(k, o)| matches!(k, Key::Object(t) if !listed(*t)) && o.ciid != cid.ciid)
            .filter(|_| !self.is(ReceiverMutant::CidRemovalsIgnored))
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.drop_object(
                key,
                format!(
                    "no longer in the Carousel Instance (CID {:?}, RFC 6968 §3.5)",
                    cid.ciid
                ),
            );
        }
        // Equivalences first: the old TOI is about to be forgotten.
        for e in &cid.list.elements {
            if let CidElement::Equivalence {
                new_toi,
                first_toi,
                first_ciid,
            } = *e
            {
                // The reference tuple {TOI; CIID} of the first transmission (§3.6): a TOI
                // delivered under a later CIID is another object that reused it. (An earlier
                // one is the same object first received before its instance's CID arrived.)
                let same = |c: &Option<u64>| c.is_none_or(|c| c <= first_ciid);
                let received = self.delivered.get(&first_toi).is_some_and(same)
                    || self.retired.get(&first_toi).is_some_and(same);
                if received {
                    self.delivered.insert(new_toi, Some(first_ciid));
                }
            }
        }
        if !self.is(ReceiverMutant::ToisRememberedForever) {
            self.delivered.retain(|t, _| *t == cid_toi || listed(*t));
        }
        self.events.push_back(Event::Cid {
            ciid: cid.ciid,
            complete: cid.complete,
            objects: cid.list.object_count,
        });
        self.cid = Some(cid);
    }

    fn check_complete(&mut self) {
        if self.complete_reported {
            return;
        }
        let done = match self.config.mode {
            Mode::Flute => {
                self.fdt.complete && self.fdt.tois().all(|t| self.delivered.contains_key(&t))
            }
            Mode::Fcast => self.cid.as_ref().is_some_and(|c| {
                c.complete
                    && self
                        .delivered
                        .keys()
                        .filter(|t| c.list.contains(**t))
                        .count() as u128
                        == c.list.object_count
            }),
        };
        if done {
            self.complete_reported = true;
            self.events.push_back(Event::SessionComplete);
        }
    }
}
