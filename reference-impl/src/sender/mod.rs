//! The sans-IO sender (quinn-proto style): objects go in, [`Transmit`]s come out at the times
//! the pacing gives, and [`Sender::poll_timeout`] says when the next one is due. No socket, no
//! clock: the caller passes `now` (see [`crate::time`]).
//!
//! Objects are grouped in instances: in FLUTE an instance is an FDT Instance (RFC 6726 §3.4),
//! in FCAST a Carousel Instance with its CID (RFC 6968 §3.5). Each instance is sent for
//! `cycles` transmission cycles (push mode = 1, on-demand = N; RFC 6968 §3.4); a cycle sends
//! every encoding symbol of every member once, objects interleaved packet by packet.

pub mod fcast;
pub mod fdt;
pub mod prepared;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rmt_inspector::fec::codec::FecError;
use rmt_inspector::wire::ext_cenc::ContentEncoding;
use rmt_inspector::wire::ext_fdt::{ExtFdt, FDT_INSTANCE_ID_MODULUS};
use rmt_inspector::wire::ext_time::{ExtTime, USE_SCT_HIGH, USE_SCT_LOW};
use rmt_inspector::wire::flute_flavor::FluteFlavor;
use rmt_inspector::wire::lct::{ExtensionBody, HeaderExtension, HET_CENC, HET_FDT, HET_TIME};

use crate::faults::Faults;
use crate::fec_config::FecConfig;
use crate::packet::{ext_fti, lct_header, FieldWidths};
use crate::rng::SeededRng;
use crate::time::{ntp_seconds, ntp_timestamp, Now};
use crate::toi::TOIAllocator;
use fcast::Packaging;
use prepared::{ObjectKind, PreparedObject};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Flute,
    Fcast,
}

#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The sender's address (the session is identified by it and the TSI, RFC 5651 §5.1).
    pub source: IpAddr,
    pub destination: SocketAddr,
    pub tsi: u64,
    pub widths: FieldWidths,
    /// First TOI to allocate (to start a test near the wrap).
    pub first_toi: u128,
    /// Distance between consecutive TOIs (1: sequential; larger: a short session wraps).
    pub toi_stride: u128,
    pub mode: Mode,
    pub fec: FecConfig,
    /// Bits per second of UDP payload; 0 sends as fast as the caller polls.
    pub rate_bps: u64,
    /// Transmission cycles per instance: 1 is FCAST push mode.
    pub cycles: u32,
    /// FLUTE: the FDT Instance is re-sent after this many data packets (the FDT carousel).
    pub fdt_interval: u32,
    /// FLUTE: how long an FDT Instance stays valid (its Expires).
    pub fdt_validity: Duration,
    /// FLUTE: the first FDT Instance ID (IDs wrap at 2^20, RFC 6726 §3.4.1).
    pub first_fdt_instance_id: u32,
    /// FLUTE: deflate the FDT Instance and say so with EXT_CENC (RFC 6726 §3.4.3).
    pub fdt_cenc: bool,
    /// FCAST: send a CID per Carousel Instance (RFC 6968 §3.5).
    pub cid: bool,
    pub packaging: Packaging,
    /// EXT_TIME with the Sender Current Time in every packet (RFC 5651 §5.2.2).
    pub ext_time: bool,
    /// FLUTE: the flavour spoken (EXT_FDT version, FDT namespace and form).
    pub flavor: FluteFlavor,
    /// End the session with a packet that has A set and no TOI (RFC 5651 §5.1); without it,
    /// the close-session flag rides on the last data packets only.
    pub close_session_packet: bool,
    pub faults: Faults,
}

impl SenderConfig {
    pub fn new(mode: Mode, destination: SocketAddr, tsi: u64) -> Self {
        SenderConfig {
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            destination,
            tsi,
            widths: FieldWidths {
                tsi_len: 4,
                toi_len: 4,
            },
            first_toi: 1,
            toi_stride: 1,
            mode,
            fec: FecConfig::default(),
            rate_bps: 0,
            cycles: 1,
            fdt_interval: 64,
            fdt_validity: Duration::from_secs(3600),
            first_fdt_instance_id: 0,
            fdt_cenc: false,
            cid: true,
            packaging: Packaging::default(),
            ext_time: true,
            flavor: FluteFlavor::Rfc6726,
            close_session_packet: true,
            faults: Faults::default(),
        }
    }

    /// Speak FLUTE in `flavor`: its EXT_FDT version and FDT form, and EXT_TIME where its LCT
    /// has it (RFC 3451's, which FLUTE v1 uses, has none: RFC 6726 §11.1).
    pub fn speak(&mut self, flavor: FluteFlavor) {
        self.flavor = flavor;
        self.ext_time = flavor.has_ext_time();
    }
}

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub at: Now,
    pub source: IpAddr,
    pub destination: SocketAddr,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("FEC: {0}")]
    Fec(#[from] FecError),
    #[error("{0}")]
    Config(String),
    #[error("the session is closing: no object can be added")]
    Closing,
}

/// A file or buffer to send.
#[derive(Debug, Clone)]
pub struct ObjectSpec {
    /// Content-Location (FDT or FCAST metadata).
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderStats {
    pub packets: u64,
    pub bytes: u64,
    pub lost_on_purpose: u64,
    pub cycles: u64,
    pub instances: u64,
}

type ObjId = u64;

/// Packets that carry the close-session flag at the end.
const CLOSE_REPEATS: u32 = 3;

/// A paced sender whose next slot is further behind the clock than this was idle.
const IDLE_AFTER: Duration = Duration::from_millis(100);

#[derive(Debug)]
struct Instance {
    control: Option<ObjId>,
    members: Vec<ObjId>,
    cycles_left: u32,
}

#[derive(Debug, Clone, Copy)]
struct PacketRef {
    obj: ObjId,
    sbn: u32,
    esi: u32,
    /// B flag: the object's last packet in its last cycle (RFC 5651 §5.1).
    close_object: bool,
}

#[derive(Debug)]
pub struct Sender {
    config: SenderConfig,
    objects: BTreeMap<ObjId, PreparedObject>,
    next_obj: ObjId,
    /// The working set: files of the next instance.
    members: Vec<ObjId>,
    toi: TOIAllocator,
    next_ciid: u64,
    next_fdt_id: u32,
    fdt_instances_sent: u32,
    /// NTP seconds at which each FDT Instance object expires.
    fdt_expires: BTreeMap<ObjId, u64>,
    instances: VecDeque<Instance>,
    cycle: VecDeque<PacketRef>,
    closing: bool,
    close_sent: bool,
    /// Close-session packets still to send, and (FCAST) the packet they repeat.
    close_repeats: u32,
    final_packet: Option<PacketRef>,
    next_send: Option<Now>,
    rng: SeededRng,
    held: Option<Transmit>,
    queued: VecDeque<Transmit>,
    /// The first file added (the one some faults apply to).
    first_file: Option<ObjId>,
    stats: SenderStats,
}

impl Sender {
    pub fn new(config: SenderConfig) -> Result<Self, SenderError> {
        config.widths.validate().map_err(SenderError::Config)?;
        if config.tsi >> (8 * config.widths.tsi_len) != 0 {
            return Err(SenderError::Config(format!(
                "TSI {} does not fit {} bits",
                config.tsi,
                8 * config.widths.tsi_len
            )));
        }
        if config.cycles == 0 {
            return Err(SenderError::Config("cycles must be at least 1".into()));
        }
        // A stride of half the TOI space or more would put consecutive TOIs outside each
        // other's window (RFC 6968 §3.6).
        let toi_bits = config.widths.toi_bits();
        if toi_bits < 128 && config.toi_stride >= 1u128 << (toi_bits - 1) {
            return Err(SenderError::Config(format!(
                "a TOI stride of {} is half the {toi_bits}-bit TOI space or more",
                config.toi_stride
            )));
        }
        config.fec.oti(1)?;
        // TOI 0 is the FDT's in FLUTE (RFC 6726 §3.1); in FCAST it is an ordinary TOI, and the
        // CID grammar splits a wrapping run as `a-MAX_TOI,0-b` (RFC 6968 §2.2).
        let toi = TOIAllocator::new(
            config.widths.toi_bits(),
            config.first_toi,
            config.mode == Mode::Flute,
        )
        .with_stride(config.toi_stride);
        let first_fdt_id = config.first_fdt_instance_id % FDT_INSTANCE_ID_MODULUS;
        Ok(Sender {
            rng: SeededRng::new(config.faults.seed),
            config,
            objects: BTreeMap::new(),
            next_obj: 0,
            members: Vec::new(),
            toi,
            next_ciid: 0,
            next_fdt_id: first_fdt_id,
            fdt_instances_sent: 0,
            fdt_expires: BTreeMap::new(),
            instances: VecDeque::new(),
            cycle: VecDeque::new(),
            closing: false,
            close_sent: false,
            close_repeats: CLOSE_REPEATS,
            final_packet: None,
            next_send: None,
            held: None,
            queued: VecDeque::new(),
            first_file: None,
            stats: SenderStats::default(),
        })
    }

    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    pub fn stats(&self) -> &SenderStats {
        &self.stats
    }

    fn insert(&mut self, obj: PreparedObject) -> ObjId {
        let id = self.next_obj;
        self.next_obj += 1;
        self.objects.insert(id, obj);
        id
    }

    /// Adds an object to the working set; it is sent from the next [`Sender::commit`] on.
    /// Returns its TOI.
    pub fn add_object(&mut self, spec: ObjectSpec) -> Result<u128, SenderError> {
        if self.closing {
            return Err(SenderError::Closing);
        }
        let files = self
            .members
            .iter()
            .filter(|id| self.objects[id].kind == ObjectKind::File)
            .count();
        let toi = match (self.config.faults.duplicate_toi, files) {
            (true, 1) => self.objects[&self.members[0]].toi,
            _ => self.toi.allocate(),
        };
        let first_file = self.first_file.is_none();
        let transport = match self.config.mode {
            Mode::Flute => spec.data.clone(),
            Mode::Fcast => {
                let mut bytes = fcast::file_object(
                    &spec.name,
                    &spec.content_type,
                    &spec.data,
                    self.config.packaging,
                );
                if self.config.faults.corrupt_checksum && first_file {
                    bytes[2] ^= 0xFF;
                }
                bytes
            }
        };
        let mut obj = PreparedObject::new(
            ObjectKind::File,
            spec.name,
            toi,
            &self.config.fec,
            transport,
            spec.data.len() as u64,
        )?;
        obj.content_length = spec.data.len() as u64;
        let id = self.insert(obj);
        self.first_file.get_or_insert(id);
        self.members.push(id);
        Ok(toi)
    }

    /// Runs the sender on a virtual clock from `*now` until it has nothing left to send (or
    /// `max` datagrams), advancing `*now` to the last send time: the datagrams of what was
    /// committed, for tests and generated sessions.
    pub fn drain(&mut self, now: &mut Now, max: usize) -> Vec<Transmit> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some(due) = self.poll_timeout() else {
                break;
            };
            *now = (*now).max(due);
            out.extend(self.poll_transmit(*now));
        }
        out
    }

    /// FLUTE: from now on, FDT Instances are sent already expired (the `expired_fdt` fault),
    /// or not.
    pub fn set_fdt_expired(&mut self, expired: bool) {
        self.config.faults.expired_fdt = expired;
    }

    /// The validity of the FDT Instances made from now on (RFC 6726 §3.3 Expires).
    pub fn set_fdt_validity(&mut self, validity: Duration) {
        self.config.fdt_validity = validity;
    }

    /// Removes an object from the working set (it is not in the next instance).
    pub fn remove_object(&mut self, toi: u128) {
        self.members.retain(|id| self.objects[id].toi != toi);
    }

    /// TOIs of the working set.
    pub fn members(&self) -> Vec<u128> {
        self.members.iter().map(|id| self.objects[id].toi).collect()
    }

    /// Makes the working set an instance and schedules its cycles. `complete`: no object will be
    /// added later (FDT `Complete`, `Fcast-CID-Complete: 1`).
    pub fn commit(&mut self, now: Now, complete: bool) -> Result<(), SenderError> {
        self.renew_old_tois()?;
        let control = match self.config.mode {
            Mode::Flute if self.config.faults.no_fdt => None,
            Mode::Flute => Some(self.fdt_object(now, complete)?),
            Mode::Fcast if self.config.cid => Some(self.cid_object(complete)?),
            Mode::Fcast => None,
        };
        let ciid = self.next_ciid;
        self.next_ciid += 1;
        for id in &self.members {
            let o = self.objects.get_mut(id).expect("member");
            o.first_sent.get_or_insert((o.toi, ciid));
        }
        self.instances.push_back(Instance {
            control,
            members: self.members.clone(),
            cycles_left: self.config.cycles,
        });
        self.stats.instances += 1;
        if complete {
            self.closing = true;
        }
        Ok(())
    }

    /// No more instances: after the scheduled cycles, the session is closed (A flag).
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// Everything is sent.
    pub fn is_finished(&self) -> bool {
        self.closing
            && self.instances.is_empty()
            && self.cycle.is_empty()
            && (self.close_sent || self.config.faults.no_close_session)
            && self.held.is_none()
            && self.queued.is_empty()
    }

    /// RFC 6968 §3.6: a member whose TOI left the half-space window gets a new TOI.
    fn renew_old_tois(&mut self) -> Result<(), SenderError> {
        if self.config.faults.toi_window_ignored {
            return Ok(());
        }
        let old: Vec<ObjId> = self
            .members
            .iter()
            .copied()
            // The CID of this instance takes one more TOI.
            .filter(|id| !self.toi.still_valid(self.objects[id].toi, 1))
            .collect();
        for id in old {
            let new_toi = self.toi.allocate();
            self.objects.get_mut(&id).expect("member").toi = new_toi;
        }
        Ok(())
    }

    fn fdt_object(&mut self, now: Now, complete: bool) -> Result<ObjId, SenderError> {
        let instance_id = self.next_fdt_id;
        self.next_fdt_id = (self.next_fdt_id + 1) % FDT_INSTANCE_ID_MODULUS;
        let expires_ntp = if self.config.faults.expired_fdt {
            ntp_seconds(now).saturating_sub(60)
        } else {
            ntp_seconds(now + self.config.fdt_validity)
        };
        // Expires is the low 32 bits of the NTP seconds (RFC 6726 §3.3: the era is implied).
        let expires = expires_ntp as u32;
        let changed = self.config.faults.fdt_changes_parameters && self.fdt_instances_sent > 0;
        self.fdt_instances_sent += 1;
        let files: Vec<&PreparedObject> = self.members.iter().map(|id| &self.objects[id]).collect();
        let xml = fdt::fdt_instance(&files, expires, complete, changed, self.config.flavor);
        let payload = if self.config.fdt_cenc {
            fdt::deflate(xml.as_bytes())
        } else {
            xml.into_bytes()
        };
        let len = payload.len() as u64;
        let obj = PreparedObject::new(
            ObjectKind::Fdt { instance_id },
            format!("FDT Instance {instance_id}"),
            0,
            &FecConfig {
                encoding_id: 0,
                repair_ratio: 0.0,
                ..self.config.fec.clone()
            },
            payload,
            len,
        )?;
        let id = self.insert(obj);
        self.fdt_expires.insert(id, expires_ntp);
        Ok(id)
    }

    fn cid_object(&mut self, complete: bool) -> Result<ObjId, SenderError> {
        let ciid = if self.config.faults.cid_ciid_decreasing {
            1_000_000u64.saturating_sub(self.next_ciid)
        } else if self.config.faults.cid_ciid_reused {
            0
        } else {
            self.next_ciid
        };
        let bits = self.toi.bits();
        let shift = if self.config.faults.cid_wrong_tois {
            1000
        } else {
            0
        };
        let mut tois = Vec::new();
        let mut equivalences = Vec::new();
        for id in &self.members {
            let o = &self.objects[id];
            let toi = (o.toi + shift) & ((1u128 << bits) - 1);
            match o.first_sent {
                Some((first, c)) if first != o.toi => equivalences.push((toi, first, c)),
                _ => tois.push(toi),
            }
        }
        let list = fcast::object_list(&tois, &equivalences, bits);
        let mut md = if self.config.faults.cid_ciid_missing {
            String::new()
        } else {
            format!("Fcast-CID-ID: {ciid}\r\n")
        };
        md.push_str(&format!("Content-Length: {}\r\n", list.len()));
        if complete {
            md.push_str("Fcast-CID-Complete: 1\r\n");
        }
        let bytes = fcast::compound_object(&md, list.as_bytes(), true, self.config.packaging);
        let toi = self.toi.allocate();
        let obj = PreparedObject::new(
            ObjectKind::Cid { ciid },
            format!("CID {ciid}"),
            toi,
            &self.config.fec,
            bytes,
            list.len() as u64,
        )?;
        Ok(self.insert(obj))
    }

    /// Builds the next cycle from the instance queue.
    fn next_cycle(&mut self, now: Now) -> Result<bool, SenderError> {
        let Some(inst) = self.instances.front_mut() else {
            return Ok(false);
        };
        inst.cycles_left -= 1;
        let last_cycle = inst.cycles_left == 0;
        let mut control = inst.control;
        let members = inst.members.clone();
        if last_cycle {
            self.instances.pop_front();
        }
        // An FDT Instance about to expire is replaced by a fresh one (RFC 6726 §3.3: Expires
        // is in the future whenever it is sent).
        if let Some(c) = control {
            if matches!(self.objects[&c].kind, ObjectKind::Fdt { .. })
                && self.fdt_expires_soon(c, now)
            {
                let complete = self.closing && self.instances.is_empty();
                control = Some(self.fdt_object(now, complete)?);
            }
        }
        // An object sends B=1 only when no later instance will send it again.
        let retired = |id: &ObjId, next: &VecDeque<Instance>, closing: bool| -> bool {
            last_cycle
                && match next.front() {
                    Some(n) => !n.members.contains(id),
                    None => closing,
                }
        };
        let mut queues: Vec<VecDeque<PacketRef>> = Vec::new();
        for id in &members {
            let close = retired(id, &self.instances, self.closing);
            let ids = self.objects[id].symbol_ids();
            let n = ids.len();
            queues.push(
                ids.into_iter()
                    .enumerate()
                    .map(|(i, (sbn, esi))| PacketRef {
                        obj: *id,
                        sbn,
                        esi,
                        close_object: close && i + 1 == n,
                    })
                    .collect(),
            );
        }
        let packets_of =
            |objects: &BTreeMap<ObjId, PreparedObject>, c: Option<ObjId>| -> Vec<PacketRef> {
                c.map(|c| {
                    objects[&c]
                        .symbol_ids()
                        .into_iter()
                        .map(|(sbn, esi)| PacketRef {
                            obj: c,
                            sbn,
                            esi,
                            close_object: false,
                        })
                        .collect()
                })
                .unwrap_or_default()
            };
        let first_control = packets_of(&self.objects, control);
        // Fault: the FDT repetitions are a second instance that changes a file's parameters.
        let control_packets =
            if self.config.faults.fdt_changes_parameters && self.config.mode == Mode::Flute {
                let complete = self.closing && self.instances.is_empty();
                let changed = self.fdt_object(now, complete)?;
                packets_of(&self.objects, Some(changed))
            } else {
                first_control.clone()
            };
        // Control object first; in FLUTE it is repeated every `fdt_interval` data packets,
        // in FCAST the CID is sent again at the end of the cycle.
        let mut cycle: VecDeque<PacketRef> = first_control.into_iter().collect();
        let mut since_fdt = 0u32;
        loop {
            let mut any = false;
            for q in queues.iter_mut() {
                if let Some(p) = q.pop_front() {
                    cycle.push_back(p);
                    any = true;
                    since_fdt += 1;
                    if self.config.mode == Mode::Flute && since_fdt >= self.config.fdt_interval {
                        cycle.extend(control_packets.iter().copied());
                        since_fdt = 0;
                    }
                }
            }
            if !any {
                break;
            }
        }
        if self.config.mode == Mode::Fcast && !members.is_empty() {
            cycle.extend(control_packets.iter().copied());
        }
        self.cycle = cycle;
        self.stats.cycles += 1;
        self.forget_sent();
        Ok(true)
    }

    /// Objects that no instance, cycle or working set refers to any more are dropped, so that
    /// a session of any length holds only what it still sends.
    fn forget_sent(&mut self) {
        let mut live: std::collections::BTreeSet<ObjId> = self.members.iter().copied().collect();
        live.extend(self.cycle.iter().map(|p| p.obj));
        for i in &self.instances {
            live.extend(i.members.iter().copied());
            live.extend(i.control);
        }
        live.extend(self.final_packet.map(|p| p.obj));
        live.extend(self.first_file);
        self.objects.retain(|id, _| live.contains(id));
        self.fdt_expires.retain(|id, _| live.contains(id));
    }

    /// Instances are renewed when less than half their validity is left.
    fn fdt_expires_soon(&self, fdt: ObjId, now: Now) -> bool {
        let left = self
            .fdt_expires
            .get(&fdt)
            .map_or(0, |e| e.saturating_sub(ntp_seconds(now)));
        left < self.config.fdt_validity.as_secs() / 2
    }

    /// The next datagram if one is due at `now`.
    pub fn poll_transmit(&mut self, now: Now) -> Option<Transmit> {
        if let Some(t) = self.queued.front() {
            if t.at <= now {
                return self.queued.pop_front();
            }
        }
        loop {
            if self.next_send.is_some_and(|t| t > now) {
                return None;
            }
            // Paced packets go out at their slot; after an idle spell (nothing to send for a
            // while, then a new instance) the first goes out now, not at the old slot: its
            // time stamps and an FDT's Expires follow the clock.
            let at = match self.next_send {
                Some(t) if now.saturating_sub(t) <= IDLE_AFTER => t,
                _ => now,
            };
            let payload = self.next_payload(at)?;
            self.pace(at, payload.len());
            self.stats.packets += 1;
            self.stats.bytes += payload.len() as u64;
            let t = Transmit {
                at,
                source: self.config.source,
                destination: self.config.destination,
                payload,
            };
            if let Some(out) = self.apply_network_faults(t) {
                return Some(out);
            }
        }
    }

    /// When the next datagram is due (`None`: nothing left, or waiting for a commit).
    pub fn poll_timeout(&self) -> Option<Now> {
        if let Some(t) = self.queued.front() {
            return Some(t.at);
        }
        if self.cycle.is_empty()
            && self.instances.is_empty()
            && self.held.is_none()
            && (!self.closing || self.close_sent || self.config.faults.no_close_session)
        {
            return None;
        }
        Some(self.next_send.unwrap_or_default())
    }

    fn pace(&mut self, at: Now, bytes: usize) {
        if self.config.rate_bps > 0 {
            let nanos = (bytes as u128 * 8 * 1_000_000_000) / u128::from(self.config.rate_bps);
            self.next_send = Some(at + Duration::from_nanos(nanos as u64));
        } else {
            self.next_send = Some(at);
        }
    }

    /// Loss, duplication, reordering and the second sender (the packet itself is already built).
    fn apply_network_faults(&mut self, t: Transmit) -> Option<Transmit> {
        let f = self.config.faults.clone();
        if let Some(other) = f.second_sender {
            let mut copy = t.clone();
            copy.source = other;
            // Same headers and FEC Payload ID, other content: the symbols are inverted, so the
            // copies are valid packets that a receiver merging the two senders takes (rather
            // than dropping them as malformed).
            // A packet that does not parse (a fault of its own) keeps its headers only.
            let start = crate::packet::symbol_offset(&copy.payload)
                .or_else(|| {
                    rmt_inspector::wire::lct::LctRepr::parse(&copy.payload)
                        .ok()
                        .map(|d| d.value.header_len())
                })
                .unwrap_or(copy.payload.len())
                .min(copy.payload.len());
            copy.payload[start..].iter_mut().for_each(|b| *b = !*b);
            self.queued.push_back(copy);
        }
        if self.rng.chance(f.loss) {
            self.stats.lost_on_purpose += 1;
            return self.queued.pop_front();
        }
        if self.rng.chance(f.duplicate) {
            self.queued.push_back(t.clone());
        }
        if let Some(h) = self.held.take() {
            self.queued.push_back(h);
            return Some(t);
        }
        if self.rng.chance(f.reorder) {
            self.held = Some(t);
            return self.queued.pop_front();
        }
        Some(t)
    }

    /// Builds the next packet of the schedule; `None` when nothing is left.
    fn next_payload(&mut self, now: Now) -> Option<Vec<u8>> {
        if self.cycle.is_empty() {
            match self.next_cycle(now) {
                Ok(true) => {}
                Ok(false) => {
                    if let Some(h) = self.held.take() {
                        return Some(h.payload);
                    }
                    return self.close_session_packet(now);
                }
                Err(_) => return None,
            }
        }
        let p = self.cycle.pop_front()?;
        if self.cycle.is_empty()
            && self.instances.is_empty()
            && self.closing
            && self.closes_with_data()
            && !self.config.faults.no_close_session
        {
            self.final_packet = Some(p);
            return self.close_session_packet(now);
        }
        Some(self.data_packet(p, now, false))
    }

    /// RFC 5651 §5.1: A=1 ends the session, and stays 1 once set. It is sent in the last
    /// `CLOSE_REPEATS` packets so that one loss does not hide the end. FLUTE uses header-only
    /// packets without TOI (RFC 6726 §3.1); FCAST, which has no TOI-less form, repeats its
    /// last data packet with A=1 (so does FLUTE without `close_session_packet`, for receivers
    /// that drop TOI-less packets).
    fn close_session_packet(&mut self, now: Now) -> Option<Vec<u8>> {
        if !self.closing || self.close_repeats == 0 || self.config.faults.no_close_session {
            return None;
        }
        self.close_repeats -= 1;
        self.close_sent = self.close_repeats == 0;
        if self.closes_with_data() {
            let p = self.final_packet?;
            if !self.close_sent {
                // The schedule is empty: the next poll comes back here for the repeats.
                self.cycle.clear();
            }
            return Some(self.data_packet(p, now, true));
        }
        let mut lct = lct_header(
            self.config.widths,
            self.config.tsi,
            None,
            self.config.fec.encoding_id,
            self.common_extensions(now),
        );
        lct.close_session = true;
        let mut out = Vec::new();
        lct.emit(&mut out).expect("header-only packet");
        Some(out)
    }

    /// Whether the session's end rides on repeats of its last data packet, not on TOI-less
    /// packets.
    fn closes_with_data(&self) -> bool {
        self.config.mode == Mode::Fcast || !self.config.close_session_packet
    }

    fn common_extensions(&self, now: Now) -> Vec<HeaderExtension> {
        let mut ext = Vec::new();
        if self.config.ext_time {
            let (hi, lo) = ntp_timestamp(now);
            ext.push(HeaderExtension {
                het: HET_TIME,
                hel: Some(3),
                body: ExtensionBody::Time(ExtTime {
                    use_field: USE_SCT_HIGH | USE_SCT_LOW,
                    sct_high: Some(hi),
                    sct_low: Some(lo),
                    ert: None,
                    slc: None,
                    extra: vec![],
                }),
            });
        }
        ext
    }

    fn data_packet(&mut self, p: PacketRef, now: Now, close_session: bool) -> Vec<u8> {
        let mut ext = self.common_extensions(now);
        let obj = &self.objects[&p.obj];
        let is_first_file = self.first_file == Some(p.obj);
        if let ObjectKind::Fdt { instance_id } = obj.kind {
            ext.push(HeaderExtension {
                het: HET_FDT,
                hel: None,
                body: ExtensionBody::Fdt(ExtFdt {
                    version: self.config.flavor.ext_fdt_version(),
                    instance_id,
                }),
            });
            if self.config.fdt_cenc {
                ext.push(HeaderExtension {
                    het: HET_CENC,
                    hel: None,
                    body: ExtensionBody::Cenc(rmt_inspector::wire::ext_cenc::ExtCenc {
                        cenc: ContentEncoding::Deflate,
                        reserved: 0,
                    }),
                });
            }
        }
        let fti = if self.config.faults.changing_oti && is_first_file && p.esi % 2 == 1 {
            let mut oti = obj.oti.clone();
            bump_transfer_length(&mut oti);
            ext_fti(obj.encoding_id, &oti).unwrap_or_else(|_| obj.fti.clone())
        } else {
            obj.fti.clone()
        };
        ext.push(fti);
        let mut lct = lct_header(
            self.config.widths,
            self.config.tsi,
            Some(obj.toi),
            obj.encoding_id,
            ext,
        );
        lct.close_object = p.close_object;
        lct.close_session = close_session;
        let mut out = Vec::with_capacity(lct.buffer_len() + 8 + obj.fec.symbol_length as usize);
        lct.emit(&mut out).expect("headers built from valid fields");
        obj.payload_id(p.sbn, p.esi)
            .emit(&mut out)
            .expect("payload ID within its scheme's widths");
        out.extend_from_slice(&obj.symbol(p.sbn, p.esi));
        if self.rng.chance(self.config.faults.wrong_hdr_len) {
            out[2] = out[2].saturating_sub(1);
        }
        out
    }
}

fn bump_transfer_length(oti: &mut rmt_inspector::wire::ext_fti::FecOti) {
    use rmt_inspector::wire::ext_fti::FecOti::*;
    match oti {
        CompactNoCode {
            transfer_length, ..
        }
        | Raptor {
            transfer_length, ..
        }
        | ReedSolomon {
            transfer_length, ..
        }
        | Ldpc {
            transfer_length, ..
        }
        | ReedSolomonGf8 {
            transfer_length, ..
        }
        | RaptorQ {
            transfer_length, ..
        }
        | UnderSpecified {
            transfer_length, ..
        }
        | SmallBlockSystematic {
            transfer_length, ..
        } => *transfer_length += 1,
    }
}
