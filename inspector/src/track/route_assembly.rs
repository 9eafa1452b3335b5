//! ROUTE source objects rebuilt from their packets' byte ranges (A/331 §A.3.5.1), for the
//! capture [`super::assembler::Assembler`]:
//!
//! - an object is (sender, TSI, TOI); its transfer length comes from EXT_TOL or EXT_FTI
//!   (§A.3.8.1, §A.3.3.2.7), the EFDT's `Transfer-Length`, or the close-object flag on the
//!   packet that ends it;
//! - TOI 0 of a File-mode flow is its EFDT (§A.3.3.2.3): when it completes, its `File` entries
//!   name the flow's objects (Content-Location), as an FDT does in FLUTE;
//! - a complete object leaves at once; its carousel repeats are recognised (same length) and
//!   skipped, another length on its TOI is a new object.
//!
//! Memory stays bounded: objects in flight, bytes held and completed objects remembered are
//! capped, and an object idle past the assembler's idle time leaves with what it has.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use crate::registry;
use crate::track::assembler::{AssemblerConfig, ObjectKey, ObjectReport};
use crate::track::byte_ranges::{ByteRangeObject, RangeRefused};
use crate::track::route_repair::RepairSymbols;
use crate::wire::alc::AlcPacket;
use crate::wire::fdt::FdtFile;
use crate::wire::finding::Finding;
use crate::wire::route::DeliveryMode;
use crate::wire::route::RouteHeader;
use crate::wire::route_sls::{
    expand_template, header, parse_efdt, split_headers, Efdt, StsidChannel,
};
use std::sync::Arc;

/// A ROUTE session is its destination too: one gateway sends every service's SLS on TSI 0, each
/// to its own address and port (A/331 §6.3), so (sender, destination, port) scopes a TSI.
pub type Scope = (IpAddr, IpAddr, u16);
type Key = (Scope, u64, u128);

/// Objects remembered (completed, incarnation counters) and flows with EFDT entries, at most.
const MAX_REMEMBERED: usize = 262_144;
const MAX_FLOWS: usize = 4096;

/// What the rest of the assembler holds (ALC/FLUTE objects): the caps on objects in flight and
/// bytes are for both together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outside {
    pub in_flight: usize,
    pub held: u64,
}

#[derive(Debug)]
struct InFlight {
    incarnation: u32,
    object: ByteRangeObject,
    close_object: bool,
    first_frame: u64,
    last_frame: u64,
    last_time: Duration,
    packets: u64,
    /// The delivery mode its packets say (A/331 Table A.3.6, the S-TSID's formatId).
    mode: Option<DeliveryMode>,
    /// Its LCT channel in the S-TSID (an EFDT inside it, a file template).
    stsid: Option<Arc<StsidChannel>>,
    /// Rebuilt with repair symbols.
    repaired: bool,
    /// Why its repair symbols did not rebuild it, if they failed.
    repair_error: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default)]
pub struct RouteAssembler {
    objects: BTreeMap<Key, InFlight>,
    /// Repair symbols by source object.
    repairs: BTreeMap<Key, RepairSymbols>,
    /// Completed objects: their length and incarnation (repeats are skipped).
    done: BTreeMap<Key, (u64, u32)>,
    done_order: VecDeque<(Key, u32)>,
    /// Incarnations handed out per TOI.
    incarnations: BTreeMap<Key, u32>,
    /// The EFDT entries of each flow (sender, TSI), by TOI.
    files: BTreeMap<(Scope, u64), BTreeMap<u128, FdtFile>>,
    /// The file template of each flow's in-band EFDT (A/331 §A.3.3.2.8).
    templates: BTreeMap<(Scope, u64), String>,
    held: u64,
    /// Hand out what incomplete objects have (`--partial`).
    keep_partial: bool,
    /// Bytes this assembler may hold now (the cap less what the rest holds).
    limit: u64,
    pub findings: Vec<(u64, Finding)>,
    /// Complete objects of a flow whose EFDT has not named them yet: held until it does (an
    /// EFDT is repeated, and may come after the objects it describes), up to a cap.
    undescribed: VecDeque<(Scope, ObjectReport)>,
    undescribed_bytes: u64,
}

/// An Entity-mode object's description from its headers, and its body.
fn entity(toi: u128, object: &[u8]) -> Option<(FdtFile, Vec<u8>)> {
    let (headers, body) = split_headers(object)?;
    let location = header(headers, "content-location")?;
    let mut file = FdtFile {
        toi,
        content_location: location,
        content_length: header(headers, "content-length").and_then(|v| v.parse().ok()),
        transfer_length: Some(body.len() as u64),
        content_md5: None,
        attributes: Default::default(),
        other_attributes: Vec::new(),
        child_elements: Vec::new(),
    };
    file.attributes.content_type = header(headers, "content-type");
    Some((file, body.to_vec()))
}

/// Complete objects held for their EFDT, and their bytes.
const MAX_UNDESCRIBED: usize = 256;
const MAX_UNDESCRIBED_BYTES: u64 = 64 << 20;

impl RouteAssembler {
    /// Takes one ROUTE packet; objects that leave are added to `reports`.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        config: &AssemblerConfig,
        frame: u64,
        time: Duration,
        scope: Scope,
        alc: &AlcPacket,
        route: RouteHeader,
        symbols: &[u8],
        outside: Outside,
        reports: &mut Vec<ObjectReport>,
    ) {
        let (Some(tsi), Some(toi)) = (alc.lct.tsi, alc.lct.toi) else {
            return;
        };
        // Only FDT-like objects (TOI 0: the EFDT) are needed when objects are not rebuilt.
        if toi != 0 && !config.all_objects {
            return;
        }
        self.keep_partial = config.partial;
        self.limit = config.max_buffered_bytes.saturating_sub(outside.held);
        let Some(start) = route.start_offset() else {
            self.push_repair(
                config, frame, time, scope, alc, route, symbols, outside, reports,
            );
            return;
        };
        let key = (scope, tsi, toi);
        let described = self.described_length(key);
        let announced = route
            .tol
            .or(alc.fti.as_ref().map(|f| f.oti.transfer_length()))
            .or(described);
        // TOI 0 is the flow's EFDT, sent again with each new version: another length there is
        // the next version, not a broken object (A/331 §A.3.3.2.3).
        if toi == 0 {
            let other = self.objects.get(&key).is_some_and(
                |o| matches!((announced, o.object.length), (Some(a), Some(b)) if a != b),
            );
            if other {
                self.leave(key, Some("superseded by another EFDT version"), reports);
            }
        }
        if !self.start(config, key, announced, frame, time, outside, reports) {
            return;
        }
        let o = self.objects.get_mut(&key).expect("started above");
        o.packets += 1;
        o.last_frame = frame;
        o.last_time = time;
        o.close_object |= alc.lct.close_object;
        if o.mode.is_none() {
            o.mode = route.mode;
        }
        if o.stsid.is_none() {
            o.stsid = alc.stsid.clone();
        }
        if o.error.is_some() {
            return;
        }
        if o.object.length.is_none() {
            o.object.length = announced;
        }
        // Another length for the object: which is right cannot be told, so it is not rebuilt
        // (the session checks report route.tol.changed).
        if let (Some(now), Some(first)) = (announced, o.object.length) {
            if now != first {
                o.error = Some(format!("transfer length {now} after {first}"));
                return;
            }
        }
        if let Some(l) = o.object.length.filter(|&l| l > config.max_object_bytes) {
            o.error = Some(format!(
                "transfer length {l} over the {} bytes accepted",
                config.max_object_bytes
            ));
            return;
        }
        let before = o.object.held();
        let cap = config
            .max_object_bytes
            .min(self.limit.saturating_sub(self.held) + before);
        match o.object.push(u64::from(start), symbols, cap) {
            Ok(()) => {}
            // A stray packet past the length: the session checks report it
            // (route.start_offset.past_length); the object goes on without it.
            Err(RangeRefused::PastLength { .. }) => {}
            Err(e @ (RangeRefused::PastCap { .. } | RangeRefused::TooManyRanges { .. })) => {
                // What a cap turns away is said (as for ALC objects).
                let detail = format!("TSI {tsi} TOI {toi}: {e}; the object is not rebuilt");
                self.findings.push((
                    frame,
                    Finding::of(&registry::track::BUFFER_CAP, "object", 0, detail),
                ));
                o.error = Some(e.to_string());
            }
        }
        if alc.lct.close_object && o.object.length.is_none() {
            o.object.length = Some(u64::from(start) + symbols.len() as u64);
        }
        self.held = self.held + o.object.held() - before;
        if o.object.is_complete() {
            self.leave(key, None, reports);
        } else {
            self.try_repair(config, key, reports);
        }
    }

    /// The object on `key` in flight, started if needed; false when it is a repeat of one
    /// completed (same length), which is skipped.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        config: &AssemblerConfig,
        key: Key,
        announced: Option<u64>,
        frame: u64,
        time: Duration,
        outside: Outside,
        reports: &mut Vec<ObjectReport>,
    ) -> bool {
        if self.objects.contains_key(&key) {
            return true;
        }
        if let Some(&(length, _)) = self.done.get(&key) {
            if announced.is_none_or(|l| l == length) {
                return false;
            }
            self.done.remove(&key);
        }
        // The object idle longest leaves, with what it has (as the ALC objects do).
        while self.objects.len() + outside.in_flight >= config.max_objects {
            let Some((k, last)) = self
                .objects
                .iter()
                .min_by_key(|(_, o)| o.last_frame)
                .map(|(k, o)| (*k, o.last_frame))
            else {
                return false;
            };
            let detail = format!(
                "more than {} objects in flight: TOI {} abandoned unfinished (idle since frame {last})",
                config.max_objects, k.2
            );
            self.findings.push((
                frame,
                Finding::of(&registry::track::OBJECTS_CAP, "object", 0, detail),
            ));
            self.leave(k, Some("abandoned: too many objects in flight"), reports);
        }
        if self.incarnations.len() >= MAX_REMEMBERED && !self.incarnations.contains_key(&key) {
            // Forgotten counters only restart the `-iN` suffixes of names.
            self.incarnations.clear();
        }
        let n = self.incarnations.entry(key).or_insert(0);
        let incarnation = *n;
        *n += 1;
        self.objects.insert(
            key,
            InFlight {
                incarnation,
                object: ByteRangeObject::default(),
                close_object: false,
                first_frame: frame,
                last_frame: frame,
                last_time: time,
                packets: 0,
                mode: None,
                stsid: None,
                repaired: false,
                repair_error: None,
                error: None,
            },
        );
        true
    }

    /// A repair packet (A/331 §A.4): its symbol is kept for the source object of the same TOI
    /// on the flow it protects, which is rebuilt as soon as the source bytes received and the
    /// repair symbols are enough. Without the S-TSID's parameters it cannot be used.
    #[allow(clippy::too_many_arguments)]
    fn push_repair(
        &mut self,
        config: &AssemblerConfig,
        frame: u64,
        time: Duration,
        scope: Scope,
        alc: &AlcPacket,
        route: RouteHeader,
        symbols: &[u8],
        outside: Outside,
        reports: &mut Vec<ObjectReport>,
    ) {
        let (Some(flow), Some(pid), Some(toi)) = (route.repair_flow, alc.payload_id, alc.lct.toi)
        else {
            return;
        };
        let key = (scope, flow.protects_tsi, toi);
        let described = self.described_length(key);
        if self.held + symbols.len() as u64 > self.limit {
            return;
        }
        if !self.start(config, key, None, frame, time, outside, reports) {
            return;
        }
        let r = self
            .repairs
            .entry(key)
            .or_insert_with(|| RepairSymbols::new(flow));
        let before = r.bytes;
        // A packet may carry several consecutive symbols (RFC 6330 §4.4.2), whole ones only.
        let t = usize::from(flow.symbol_size.max(1));
        for (i, symbol) in symbols.chunks_exact(t).enumerate() {
            r.push(pid.sbn as u8, pid.esi.saturating_add(i as u32), symbol);
        }
        self.held += r.bytes - before;
        let o = self.objects.get_mut(&key).expect("started above");
        o.last_frame = frame;
        o.last_time = time;
        if o.object.length.is_none() {
            o.object.length = described;
        }
        self.try_repair(config, key, reports);
    }

    /// Rebuilds the object on `key` from its source bytes and repair symbols if they are enough.
    fn try_repair(&mut self, config: &AssemblerConfig, key: Key, reports: &mut Vec<ObjectReport>) {
        let (Some(o), Some(r)) = (self.objects.get_mut(&key), self.repairs.get_mut(&key)) else {
            return;
        };
        let Some(length) = o.object.length else {
            return;
        };
        match r.try_decode(&o.object, length) {
            None => {}
            Some(Ok(data)) => {
                let before = o.object.held();
                let cap = config
                    .max_object_bytes
                    .min(self.limit.saturating_sub(self.held) + before);
                if o.object.push(0, &data, cap).is_ok() {
                    o.repaired = true;
                    self.held = self.held + o.object.held() - before;
                    self.leave(key, None, reports);
                }
            }
            // Kept for the report; the source flow may still complete the object.
            Some(Err(e)) => o.repair_error = Some(e),
        }
    }

    fn leave(&mut self, key: Key, abandoned: Option<&str>, reports: &mut Vec<ObjectReport>) {
        let Some(o) = self.objects.remove(&key) else {
            return;
        };
        self.held -= o.object.held();
        if let Some(r) = self.repairs.remove(&key) {
            self.held -= r.bytes;
        }
        let (scope, tsi, toi) = key;
        let sender = scope.0;
        let data = o.object.bytes();
        let mut efdt = false;
        if let (Some(d), 0) = (&data, toi) {
            if let Some(Efdt {
                files,
                file_template,
            }) = parse_efdt(d)
            {
                if let Some(t) = file_template {
                    if self.templates.len() < MAX_FLOWS
                        || self.templates.contains_key(&(scope, tsi))
                    {
                        self.templates.insert((scope, tsi), t);
                    }
                }
                if self.files.len() >= MAX_FLOWS && !self.files.contains_key(&(scope, tsi)) {
                    if let Some(k) = self.files.keys().next().copied() {
                        self.files.remove(&k);
                    }
                }
                let m = self.files.entry((scope, tsi)).or_default();
                if m.len() + files.len() > crate::wire::route_sls::MAX_FILES {
                    m.clear();
                }
                m.extend(files.into_iter().map(|f| (f.toi, f)));
                efdt = true;
            }
        }
        let length = o.object.length;
        if let (Some(_), Some(l)) = (&data, length) {
            self.done.insert(key, (l, o.incarnation));
            self.done_order.push_back((key, o.incarnation));
            while self.done.len() > MAX_REMEMBERED {
                let Some((k, inc)) = self.done_order.pop_front() else {
                    break;
                };
                if self.done.get(&k).is_some_and(|d| d.1 == inc) {
                    self.done.remove(&k);
                }
            }
            // Entries already replaced leave the order list once it is twice what is kept.
            if self.done_order.len() > 2 * self.done.len().max(1024) {
                let done = &self.done;
                self.done_order
                    .retain(|(k, inc)| done.get(k).is_some_and(|d| d.1 == *inc));
            }
        }
        let covered = length.map_or(o.object.ranges.end(), |l| o.object.ranges.covered(l));
        let needed = length.unwrap_or(covered);
        // The SLS on TSI 0 is a package (A/331 §7.1); File mode is the default otherwise.
        let mode = o.mode.unwrap_or(if tsi == 0 {
            DeliveryMode::Package
        } else {
            DeliveryMode::File
        });
        let mut fdt_file = self.name_of(scope, tsi, toi, o.stsid.as_deref());
        // Entity mode: the object is HTTP entity headers, an empty line and the body; the
        // headers name it (A/331 §A.3.3.3).
        let data = match (data, mode) {
            (Some(d), DeliveryMode::Entity) => match entity(toi, &d) {
                Some((file, body)) => {
                    fdt_file = Some(file);
                    Some(body)
                }
                None => Some(d),
            },
            (d, _) => d,
        };
        let error = match (&data, abandoned) {
            (Some(_), _) => None,
            (None, Some(why)) => Some(why.to_string()),
            (None, None) => o.error.clone().or(o.repair_error.clone()),
        };
        let report = ObjectReport {
            key: ObjectKey {
                sender,
                tsi,
                toi,
                fdt_instance: None,
                incarnation: o.incarnation,
            },
            // RaptorQ when repair symbols rebuilt it (-z objects' FEC column).
            encoding_id: o.repaired.then_some(6),
            transfer_length: length,
            blocks: 1,
            blocks_decoded: u64::from(data.is_some()),
            symbols_received: covered,
            symbols_needed: needed,
            per_block: Vec::new(),
            partial: (data.is_none() && self.keep_partial).then(|| o.object.partial()),
            data,
            fdt_file,
            packets: o.packets,
            first_frame: o.first_frame,
            last_frame: o.last_frame,
            close_object: o.close_object,
            error,
            route_mode: Some(mode),
        };
        if report.data.is_some()
            && report.fdt_file.is_none()
            && toi != 0
            && mode == DeliveryMode::File
        {
            self.hold(scope, report, reports);
        } else {
            reports.push(report);
        }
        if efdt {
            self.release_described(scope, tsi, reports);
        }
    }

    /// Holds a complete object until its flow's EFDT names it; the oldest held leave unnamed
    /// past the caps.
    fn hold(&mut self, scope: Scope, report: ObjectReport, reports: &mut Vec<ObjectReport>) {
        let bytes = report.data.as_ref().map_or(0, |d| d.len() as u64);
        self.undescribed_bytes += bytes;
        self.held += bytes;
        self.undescribed.push_back((scope, report));
        while self.undescribed.len() > MAX_UNDESCRIBED
            || self.undescribed_bytes > MAX_UNDESCRIBED_BYTES
            || self.held > self.limit
        {
            let Some((_, r)) = self.undescribed.pop_front() else {
                break;
            };
            self.release(&r);
            reports.push(r);
        }
    }

    /// A held object leaves: its bytes are no longer held.
    fn release(&mut self, r: &ObjectReport) {
        let bytes = r.data.as_ref().map_or(0, |d| d.len() as u64);
        self.undescribed_bytes -= bytes;
        self.held -= bytes;
    }

    /// The transfer length the flow's in-band EFDT gives an object (`Transfer-Length`).
    fn described_length(&self, (scope, tsi, toi): Key) -> Option<u64> {
        self.files
            .get(&(scope, tsi))
            .and_then(|m| m.get(&toi))
            .and_then(|f| f.transfer_length)
    }

    /// An object's description: its flow's in-band EFDT entry, else the S-TSID's EFDT entry,
    /// else the file template of either (A/331 §A.3.3.2.3, §A.3.3.2.8). TOI 0 is the EFDT.
    fn name_of(
        &self,
        scope: Scope,
        tsi: u64,
        toi: u128,
        stsid: Option<&StsidChannel>,
    ) -> Option<FdtFile> {
        if toi == 0 {
            return None;
        }
        if let Some(f) = self.files.get(&(scope, tsi)).and_then(|m| m.get(&toi)) {
            return Some(f.clone());
        }
        if let Some(f) = stsid.and_then(|c| c.efdt_files.iter().find(|f| f.toi == toi)) {
            return Some(f.clone());
        }
        let template = self
            .templates
            .get(&(scope, tsi))
            .or(stsid.and_then(|c| c.file_template.as_ref()))?;
        let location = expand_template(template, toi)?;
        Some(FdtFile {
            toi,
            content_location: location,
            content_length: None,
            transfer_length: None,
            content_md5: None,
            attributes: Default::default(),
            other_attributes: Vec::new(),
            child_elements: Vec::new(),
        })
    }

    /// The objects held that the EFDT of (sender, TSI) now names leave, with their names.
    fn release_described(&mut self, scope: Scope, tsi: u64, reports: &mut Vec<ObjectReport>) {
        let mut kept = VecDeque::new();
        let mut named = Vec::new();
        for (sc, mut r) in std::mem::take(&mut self.undescribed) {
            let name = (sc == scope && r.key.tsi == tsi)
                .then(|| self.name_of(sc, tsi, r.key.toi, None))
                .flatten();
            match name {
                Some(f) => {
                    r.fdt_file = Some(f);
                    named.push(r);
                }
                None => kept.push_back((sc, r)),
            }
        }
        self.undescribed = kept;
        for r in named {
            self.release(&r);
            reports.push(r);
        }
    }

    /// Objects idle for longer than `idle` leave with what they have.
    pub fn abandon_idle(&mut self, now: Duration, idle: Duration, reports: &mut Vec<ObjectReport>) {
        for k in super::idle_keys(&self.objects, |o| o.last_time, now, idle) {
            self.leave(k, Some("abandoned: idle"), reports);
        }
    }

    /// End of input: what is in flight leaves as it is.
    pub fn finish(&mut self, reports: &mut Vec<ObjectReport>) {
        let keys: Vec<Key> = self.objects.keys().copied().collect();
        for k in keys {
            self.leave(k, None, reports);
        }
        while let Some((_, r)) = self.undescribed.pop_front() {
            self.release(&r);
            reports.push(r);
        }
    }

    pub fn in_flight(&self) -> usize {
        self.objects.len()
    }

    /// Bytes held: objects in flight, repair symbols, complete objects waiting for their EFDT.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// The object idle longest leaves (the rest of the assembler needs the room).
    pub fn evict_oldest(&mut self, reports: &mut Vec<ObjectReport>) -> bool {
        let oldest = self
            .objects
            .iter()
            .min_by_key(|(_, o)| o.last_frame)
            .map(|(k, _)| *k);
        match oldest {
            Some(k) => {
                self.leave(k, Some("abandoned: too many objects in flight"), reports);
                true
            }
            None => false,
        }
    }
}
