//! Playing a receiver scenario: the reference sender makes the session the scenario describes
//! (instances, faults), then the packet edits and the loss are applied. The result is the list
//! of datagrams with their times, and the objects by name, to judge deliveries against.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::flute_flavor::FluteFlavor;
use rmt_inspector::wire::lct::LctRepr;
use rmt_reference::faults::Faults;
use rmt_reference::packet::FieldWidths;
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::fcast::Packaging;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig, Transmit};
use rmt_reference::time::Now;
use rmt_vectors::scenario::{self, Edit, Scenario};

/// A scenario turned into datagrams.
#[derive(Debug)]
pub struct Played {
    pub transmits: Vec<Transmit>,
    /// Every object sent, by name.
    pub objects: BTreeMap<String, Vec<u8>>,
    /// Objects of another session on the channel (`foreign_tsi`, `second_sender`): a receiver
    /// that delivers one has mixed sessions.
    pub foreign: std::collections::BTreeSet<String>,
    /// How far the receiver's clock is ahead of the sender's.
    pub clock_ahead: Duration,
    pub mode: Mode,
    pub tsi: u64,
}

/// Bound on the datagrams of one scenario.
const MAX_DATAGRAMS: usize = 2_000_000;

fn mode(m: scenario::Mode) -> Mode {
    match m {
        scenario::Mode::Flute => Mode::Flute,
        scenario::Mode::Fcast => Mode::Fcast,
    }
}

fn faults(f: &scenario::Faults, seed: u64) -> Result<Faults, String> {
    Ok(Faults {
        seed: f.seed ^ seed,
        loss: f.loss,
        duplicate: f.duplicate,
        reorder: f.reorder,
        wrong_hdr_len: f.wrong_hdr_len,
        changing_oti: f.changing_oti,
        duplicate_toi: f.duplicate_toi,
        second_sender: match &f.second_sender {
            Some(a) => Some(
                a.parse::<IpAddr>()
                    .map_err(|e| format!("second_sender {a}: {e}"))?,
            ),
            None => None,
        },
        no_close_session: f.no_close_session,
        corrupt_checksum: f.corrupt_checksum,
        cid_wrong_tois: f.cid_wrong_tois,
        fdt_changes_parameters: f.fdt_changes_parameters,
        cid_ciid_decreasing: f.cid_ciid_decreasing,
        toi_window_ignored: f.toi_window_ignored,
        ..Faults::default()
    })
}

/// How our sender speaks FLUTE in a run: the flavour (EXT_FDT version, FDT namespace, EXT_TIME
/// where the flavour has it) and whether the session ends with header-only close-session
/// packets without TOI (RFC 6726 §3.1, RFC 3926 §3) or with A=1 on its last data packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderStyle {
    pub flavor: FluteFlavor,
    pub close_session_packet: bool,
}

impl Default for SenderStyle {
    fn default() -> Self {
        SenderStyle {
            flavor: FluteFlavor::Rfc6726,
            close_session_packet: true,
        }
    }
}

/// The sender configuration of a scenario, sending from `source` to `destination`, in `style`.
pub fn sender_config(
    s: &Scenario,
    source: IpAddr,
    destination: SocketAddr,
    seed: u64,
    style: SenderStyle,
) -> Result<SenderConfig, String> {
    let ss = &s.session;
    let mut c = SenderConfig::new(mode(ss.mode), destination, ss.tsi);
    c.source = source;
    c.speak(style.flavor);
    c.close_session_packet = style.close_session_packet;
    c.widths = FieldWidths {
        tsi_len: ss.tsi_bits / 8,
        toi_len: ss.toi_bits / 8,
    };
    c.first_toi = ss.first_toi;
    c.toi_stride = ss.toi_stride;
    c.first_fdt_instance_id = ss.first_fdt_instance_id;
    c.fec = ss.fec.parse()?;
    c.fec.symbol_length = ss.symbol_length;
    c.rate_bps = s.rate_bps;
    c.cycles = ss.cycles;
    c.fdt_validity = Duration::from_secs(ss.fdt_validity);
    c.cid = ss.cid;
    c.packaging = Packaging {
        global_checksum: ss.global_checksum,
        gzip_metadata: ss.gzip_metadata,
        gzip_content: ss.gzip_content,
    };
    c.faults = faults(&s.faults, seed)?;
    Ok(c)
}

/// What makes a twin session's objects differ from the scenario's (same names and sizes, so
/// the same TOIs and FEC Payload IDs).
const TWIN_SALT: u64 = 0x7f4a_7c15_9e37_79b9;

/// Generates the datagrams of `s` from `start` (the sender's clock), FLUTE in `style`.
pub fn play(
    s: &Scenario,
    source: IpAddr,
    destination: SocketAddr,
    start: Now,
    seed: u64,
    style: SenderStyle,
) -> Result<Played, String> {
    let mut played = play_session(s, source, destination, start, seed, 0, style)?;
    // A second session on the same channel: the scenario played again, other bytes.
    for e in &s.edits {
        let (tsi, twin_source) = match e {
            Edit::ForeignTsi { tsi } => (*tsi, source),
            Edit::SecondSender { source: other } => (
                s.session.tsi,
                other
                    .parse::<IpAddr>()
                    .map_err(|e| format!("second_sender {other}: {e}"))?,
            ),
            _ => continue,
        };
        // Same sizes (so the same TOIs and FEC Payload IDs), other bytes and other names: a
        // receiver that mixes the sessions delivers wrong bytes or a foreign object.
        let foreign = |n: &String| format!("foreign-{n}");
        let mut twin = s.clone();
        twin.session.tsi = tsi;
        twin.edits.clear();
        twin.loss = 0.0;
        for o in &mut twin.objects {
            o.name = foreign(&o.name);
        }
        for i in &mut twin.instances {
            i.objects = i.objects.iter().map(foreign).collect();
            i.new_object_prefix = i.new_object_prefix.as_ref().map(foreign);
        }
        let other = play_session(
            &twin,
            twin_source,
            destination,
            start,
            seed,
            TWIN_SALT,
            style,
        )?;
        played.foreign.extend(other.objects.into_keys());
        let mut mixed = Vec::with_capacity(played.transmits.len() + other.transmits.len());
        let mut theirs = other.transmits.into_iter();
        for t in played.transmits.drain(..) {
            if let Some(mut o) = theirs.next() {
                o.at = t.at;
                mixed.push(o);
            }
            mixed.push(t);
        }
        mixed.extend(theirs);
        played.transmits = mixed;
    }
    Ok(played)
}

/// One session of `s`; `salt` changes every object's bytes (not its name or size).
fn play_session(
    s: &Scenario,
    source: IpAddr,
    destination: SocketAddr,
    start: Now,
    seed: u64,
    salt: u64,
    style: SenderStyle,
) -> Result<Played, String> {
    let cfg = sender_config(s, source, destination, seed, style)?;
    let session_validity = cfg.fdt_validity;
    let mut sender = Sender::new(cfg).map_err(|e| e.to_string())?;
    let mut specs: BTreeMap<String, Vec<u8>> = s
        .objects
        .iter()
        .map(|o| (o.name.clone(), SeededRng::new(o.seed ^ salt).bytes(o.size)))
        .collect();
    let mut instances = s.instances.clone();
    if instances.is_empty() {
        instances.push(scenario::Instance {
            objects: s.objects.iter().map(|o| o.name.clone()).collect(),
            complete: true,
            repeat: 0,
            new_object_prefix: None,
            new_object_size: 0,
            fdt_validity: None,
            expired: false,
        });
    }
    // Expand repeats: each repetition adds one new object and drops the previous new one.
    let mut plan: Vec<(Vec<String>, bool, Option<u64>, bool)> = Vec::new();
    for inst in &instances {
        if inst.repeat == 0 {
            plan.push((
                inst.objects.clone(),
                inst.complete,
                inst.fdt_validity,
                inst.expired,
            ));
            continue;
        }
        for n in 0..inst.repeat {
            let mut names = inst.objects.clone();
            if let Some(prefix) = &inst.new_object_prefix {
                let name = format!("{prefix}-{n}.bin");
                specs.insert(
                    name.clone(),
                    SeededRng::new((1_000_000 + u64::from(n)) ^ salt).bytes(inst.new_object_size),
                );
                names.push(name);
            }
            plan.push((
                names,
                inst.complete && n + 1 == inst.repeat,
                inst.fdt_validity,
                inst.expired,
            ));
        }
    }
    let mut tois: BTreeMap<String, Vec<Incarnation>> = BTreeMap::new();
    let mut current: BTreeMap<String, u128> = BTreeMap::new();
    let mut transmits = Vec::new();
    let mut now = start;
    for (names, complete, validity, expired) in &plan {
        sender.set_fdt_validity(validity.map_or(session_validity, Duration::from_secs));
        sender.set_fdt_expired(*expired);
        for (name, toi) in current.clone() {
            if !names.contains(&name) {
                sender.remove_object(toi);
                current.remove(&name);
                if let Some(i) = tois.get_mut(&name).and_then(|v| v.last_mut()) {
                    i.until = Some(now);
                }
            }
        }
        for name in names {
            if current.contains_key(name) {
                continue;
            }
            let data = specs
                .get(name)
                .ok_or_else(|| format!("instance names unknown object {name}"))?;
            let toi = sender
                .add_object(ObjectSpec {
                    name: name.clone(),
                    content_type: "application/octet-stream".into(),
                    data: data.clone(),
                })
                .map_err(|e| e.to_string())?;
            current.insert(name.clone(), toi);
            tois.entry(name.clone()).or_default().push(Incarnation {
                toi,
                from: now,
                until: None,
            });
        }
        sender.commit(now, *complete).map_err(|e| e.to_string())?;
        while let Some(due) = sender.poll_timeout() {
            now = now.max(due);
            if let Some(t) = sender.poll_transmit(now) {
                transmits.push(t);
            }
            if transmits.len() > MAX_DATAGRAMS {
                return Err(format!("more than {MAX_DATAGRAMS} datagrams"));
            }
        }
    }
    let mut clock_ahead = Duration::ZERO;
    for e in &s.edits {
        apply(e, &mut transmits, &tois, &mut clock_ahead, &specs)?;
    }
    if s.loss > 0.0 {
        let mut loss = SeededRng::new(s.loss_seed ^ seed);
        transmits.retain(|_| !loss.chance(s.loss));
    }
    Ok(Played {
        transmits,
        objects: specs,
        foreign: Default::default(),
        clock_ahead,
        mode: mode(s.session.mode),
        tsi: s.session.tsi,
    })
}

fn lct(t: &Transmit) -> Option<LctRepr> {
    LctRepr::parse(&t.payload).ok().map(|d| d.value)
}

fn is_data(t: &Transmit) -> bool {
    lct(t).is_some_and(|l| l.toi.is_some())
}

fn is_close(t: &Transmit) -> bool {
    lct(t).is_some_and(|l| l.close_session)
}

fn is_fdt(t: &Transmit) -> bool {
    lct(t).is_some_and(|l| l.extension(rmt_inspector::wire::lct::HET_FDT).is_some())
}

fn toi_of(t: &Transmit) -> Option<u128> {
    lct(t).and_then(|l| l.toi)
}

/// A copy of `t` with `bytes` inserted right after the fixed LCT header, HDR_LEN grown to match.
fn with_extension(t: &Transmit, bytes: &[u8]) -> Option<Transmit> {
    let l = lct(t)?;
    let at = l.fixed_len();
    let mut p = t.payload.clone();
    p.splice(at..at, bytes.iter().copied());
    p[2] = p[2].checked_add((bytes.len() / 4) as u8)?;
    Some(Transmit {
        payload: p,
        ..t.clone()
    })
}

/// Inserts the copies made by `f` for every `every`-th data packet, before the original.
fn add_copies(
    transmits: &mut Vec<Transmit>,
    every: usize,
    f: impl Fn(&Transmit) -> Option<Transmit>,
) {
    let mut out = Vec::with_capacity(transmits.len() * 2);
    let mut n = 0;
    for t in transmits.drain(..) {
        if is_data(&t) {
            n += 1;
            if n % every.max(1) == 0 {
                if let Some(c) = f(&t) {
                    out.push(c);
                }
            }
        }
        out.push(t);
    }
    *transmits = out;
}

/// One object's TOI while it was in the carousel: a reused TOI names another object before
/// `from` and after `until`, so edits select an object's packets by TOI and send time.
#[derive(Debug, Clone, Copy)]
struct Incarnation {
    toi: u128,
    from: Now,
    until: Option<Now>,
}

/// Whether `t` carries data of the object with these incarnations.
fn of_object(incarnations: &[Incarnation], t: &Transmit) -> bool {
    toi_of(t).is_some_and(|x| {
        incarnations
            .iter()
            .any(|i| i.toi == x && t.at >= i.from && i.until.is_none_or(|u| t.at < u))
    })
}

fn object_tois<'a>(
    tois: &'a BTreeMap<String, Vec<Incarnation>>,
    name: &str,
) -> Result<&'a [Incarnation], String> {
    tois.get(name)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("edit names unknown object {name}"))
}

fn apply(
    e: &Edit,
    transmits: &mut Vec<Transmit>,
    tois: &BTreeMap<String, Vec<Incarnation>>,
    clock_ahead: &mut Duration,
    specs: &BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    match e {
        Edit::HdrLenTooSmall { every } => add_copies(transmits, *every, |t| {
            let l = lct(t)?;
            let mut p = t.payload.clone();
            p[2] = (l.fixed_len() / 4).saturating_sub(1) as u8;
            Some(Transmit {
                payload: p,
                ..t.clone()
            })
        }),
        // HET 0 (EXT_NOP, variable size) with HEL 0, then two bytes of padding.
        Edit::HelZero { every } => {
            add_copies(transmits, *every, |t| with_extension(t, &[0, 0, 0, 0]))
        }
        Edit::TruncatedPayloadId { every } => add_copies(transmits, *every, |t| {
            let l = lct(t)?;
            let mut p = t.payload.clone();
            p.truncate(l.header_len() + 1);
            Some(Transmit {
                payload: p,
                ..t.clone()
            })
        }),
        // HET 100 is unassigned; HEL 2: 8 bytes.
        Edit::UnknownExtension => {
            for t in transmits.iter_mut() {
                if let Some(c) = with_extension(t, &[100, 2, 0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45]) {
                    *t = c;
                }
            }
        }
        Edit::ReservedBits => {
            for t in transmits.iter_mut() {
                if t.payload.len() > 1 {
                    t.payload[1] |= 0x0C;
                }
            }
        }
        Edit::ToiWidth { every, toi_bits } => {
            let mut n = 0;
            for t in transmits.iter_mut() {
                let Some(mut l) = lct(t) else { continue };
                if l.toi.is_none() {
                    continue;
                }
                n += 1;
                if n % every.max(&1) != 0 {
                    continue;
                }
                let toi_len = toi_bits / 8;
                if (toi_len % 4 == 2) != l.h || toi_len > 14 {
                    return Err(format!("a {toi_bits}-bit TOI does not go with H={}", l.h));
                }
                let rest = t.payload[l.header_len()..].to_vec();
                l.o = (toi_len / 4) as u8;
                l.fix_hdr_len();
                let mut out = Vec::new();
                l.emit(&mut out).map_err(|e| e.to_string())?;
                out.extend_from_slice(&rest);
                t.payload = out;
            }
        }
        Edit::LateObject { object } => {
            let ts = object_tois(tois, object)?;
            let (late, rest): (Vec<Transmit>, Vec<Transmit>) = transmits
                .drain(..)
                .partition(|t| of_object(ts, t) && !is_close(t));
            let (close, mut data): (Vec<Transmit>, Vec<Transmit>) =
                rest.into_iter().partition(is_close);
            data.extend(late);
            data.extend(close);
            *transmits = data;
        }
        Edit::Shuffle { seed } => {
            // FDT packets stay first (RFC 6726 §3.3 lets a receiver discard file data that
            // arrives before its FDT entry) and packets with B or A last (RFC 5651 §5.1: after
            // them a receiver may assume no more packets): this edit is about symbol order only.
            let (close, rest): (Vec<Transmit>, Vec<Transmit>) = transmits
                .drain(..)
                .partition(|t| is_close(t) || lct(t).is_some_and(|l| l.close_object));
            let (mut out, mut data): (Vec<Transmit>, Vec<Transmit>) =
                rest.into_iter().partition(is_fdt);
            let mut r = SeededRng::new(*seed);
            for i in (1..data.len()).rev() {
                let j = (r.next_u64() % (i as u64 + 1)) as usize;
                data.swap(i, j);
            }
            out.extend(data);
            out.extend(close);
            *transmits = out;
        }
        Edit::Truncate { object, keep } => {
            let ts = object_tois(tois, object)?;
            let mut seen = 0;
            transmits.retain(|t| {
                if of_object(ts, t) && !is_close(t) {
                    seen += 1;
                    seen <= *keep
                } else {
                    true
                }
            });
        }
        Edit::DropSource {
            object,
            count_per_block,
        } => {
            let ts = object_tois(tois, object)?;
            transmits.retain(|t| {
                if !of_object(ts, t) || is_close(t) {
                    return true;
                }
                let pid = AlcPacket::parse(&t.payload, AlcContext::default())
                    .ok()
                    .and_then(|d| d.value.payload_id);
                pid.is_none_or(|p| (p.esi as usize) >= *count_per_block)
            });
        }
        Edit::EsiBeyondN { object, count } => {
            let ts = object_tois(tois, object)?;
            let pos = transmits
                .iter()
                .position(|t| of_object(ts, t))
                .ok_or_else(|| format!("no packet of {object}"))?;
            let t = transmits[pos].clone();
            let a = AlcPacket::parse(&t.payload, AlcContext::default())
                .map_err(|e| e.to_string())?
                .value;
            let fti = a
                .fti
                .as_ref()
                .ok_or("the object's packets carry no EXT_FTI")?;
            let fec =
                FecObject::from_oti(a.fec_encoding_id, &fti.oti).map_err(|e| e.to_string())?;
            let block = fec.block(0).ok_or("no block 0")?;
            let n = block.n.ok_or("the scheme has no n")? as u32;
            // Genuine encoding symbols beyond n: a sender may use another n-algorithm, and the
            // receiver must use or drop them (RFC 5510 §6.2). FLUTE only: the object is the file.
            let data = specs
                .get(object)
                .ok_or_else(|| format!("no object {object}"))?;
            let block = &data[block.offset as usize..(block.offset + block.length) as usize];
            let enc = fec.encoder(0, block).map_err(|e| e.to_string())?;
            let mut extra = Vec::new();
            for i in 0..*count as u32 {
                let mut pid = a.payload_id.ok_or("no payload ID")?;
                pid.esi = n + i;
                let mut alc = a.clone();
                alc.payload_id = Some(pid);
                let mut p = Vec::new();
                let symbol = enc.symbol(n + i).map_err(|e| e.to_string())?;
                alc.emit(&symbol, &mut p).map_err(|e| e.to_string())?;
                extra.push(Transmit {
                    payload: p,
                    ..t.clone()
                });
            }
            transmits.splice(pos..pos, extra);
        }
        Edit::ClockAhead { seconds } => *clock_ahead += Duration::from_secs(*seconds),
        // Played by `play` as a second session.
        Edit::ForeignTsi { .. } | Edit::SecondSender { .. } => {}
        Edit::Interleave { window, seed } => {
            // Packets with A stay where they are (RFC 5651 §5.1: after them a receiver may
            // assume the session is over).
            let mut r = SeededRng::new(*seed);
            for run in transmits.chunks_mut((*window).max(1)) {
                let movable: Vec<usize> = (0..run.len()).filter(|&i| !is_close(&run[i])).collect();
                for n in (1..movable.len()).rev() {
                    let m = (r.next_u64() % (n as u64 + 1)) as usize;
                    run.swap(movable[n], movable[m]);
                }
            }
        }
        Edit::CorruptSymbol { object } => {
            let ts = object_tois(tois, object)?;
            let mut hit = 0;
            for t in transmits.iter_mut() {
                if !of_object(ts, t) || is_close(t) {
                    continue;
                }
                let Ok(a) = AlcPacket::parse(&t.payload, AlcContext::default()) else {
                    continue;
                };
                let second = a.value.payload_id.is_some_and(|p| p.sbn == 0 && p.esi == 1);
                let at = t.payload.len() - a.value.symbols(&t.payload).len();
                if second && at < t.payload.len() {
                    t.payload[at] ^= 0x5A;
                    hit += 1;
                }
            }
            if hit == 0 {
                return Err(format!("no packet carries the second symbol of {object}"));
            }
        }
    }
    Ok(())
}
