//! Object assembly: symbols collected per (sender, TSI, TOI) and per source block, decoded with
//! the FEC codecs as soon as a block can be, FDT instances (TOI 0) decoded when complete and used
//! for the OTI, Content-Location and Content-MD5 of the files they describe.
//!
//! Memory is bounded: a block's decoder is created (and its k * E bytes allocated) only when its
//! first symbol arrives, never from the transfer length alone; symbols that arrive before their
//! object's OTI is known are held up to a cap; and objects in flight, bytes held and object size
//! all have caps. What a cap turns away is reported as a finding, never silently.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::fec::codec::{BlockDecoder, DecodeStatus};
use crate::fec::scheme::FecObject;
use crate::wire::alc::AlcPacket;
use crate::wire::ext_cenc::ContentEncoding;
use crate::wire::fdt::{FdtFile, FdtInstance};
use crate::wire::finding::{Finding, Severity};
use crate::wire::lct::{ExtensionBody, HET_CENC, HET_FDT};

/// Limits on what the assembler holds.
#[derive(Debug, Clone, Copy)]
pub struct AssemblerConfig {
    /// Objects tracked at once.
    pub max_objects: usize,
    /// Bytes held in decoders and pending symbols, all objects together.
    pub max_buffered_bytes: u64,
    /// Largest transfer length accepted.
    pub max_object_bytes: u64,
    /// Largest inflated FDT instance.
    pub max_inflated: usize,
    /// Rebuild every object; when false only FDT instances (TOI 0) are, which is all that the
    /// FDT and session checks need (and keeps memory flat on long captures).
    pub all_objects: bool,
}

impl Default for AssemblerConfig {
    fn default() -> Self {
        AssemblerConfig {
            max_objects: 4096,
            max_buffered_bytes: 2 << 30,
            max_object_bytes: 1 << 32,
            max_inflated: crate::wire::inflate::DEFAULT_MAX_INFLATED,
            all_objects: true,
        }
    }
}

/// A transport object: TOI 0 objects are FDT instances, told apart by their instance ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub sender: IpAddr,
    pub tsi: u64,
    pub toi: u128,
    pub fdt_instance: Option<u32>,
}

#[derive(Debug)]
struct Block {
    decoder: Box<dyn BlockDecoder>,
}

impl Block {
    /// The block's source bytes, once decoded (they live in the decoder: no copy is kept).
    fn decoded(&self) -> Option<&[u8]> {
        (self.decoder.status() == DecodeStatus::Decoded)
            .then(|| self.decoder.source_block())
            .flatten()
    }
}

#[derive(Debug)]
pub struct ObjectState {
    pub codepoint: u8,
    pub fec: Option<FecObject>,
    blocks: BTreeMap<u32, Block>,
    /// (SBN, ESI, SBL, symbol) held until the OTI is known.
    pending: Vec<(u32, u32, Option<u16>, Vec<u8>)>,
    pending_bytes: u64,
    pub cenc: Option<ContentEncoding>,
    pub close_object: bool,
    pub first_frame: u64,
    pub last_frame: u64,
    pub packets: u64,
    /// Why the object cannot be rebuilt, if it cannot.
    pub error: Option<String>,
}

/// What is known about one object at the end.
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
    /// Decoded blocks with zeros for the rest, and the bytes missing, when some are.
    pub partial: Option<(Vec<u8>, u64)>,
    pub fdt_file: Option<FdtFile>,
    pub packets: u64,
    pub first_frame: u64,
    pub close_object: bool,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct Assembler {
    pub config: AssemblerConfig,
    objects: BTreeMap<ObjectKey, ObjectState>,
    /// Per session (sender, TSI): the latest FDT entry per TOI, with the instance that gave it.
    fdt_files: HashMap<(IpAddr, u64), BTreeMap<u128, (FdtInstance, FdtFile)>>,
    pub fdt_instances: Vec<(ObjectKey, u64, FdtInstance)>,
    buffered: u64,
    pub findings: Vec<(u64, Finding)>,
}

fn finding(id: &'static str, severity: Severity, rule: &'static str, detail: String) -> Finding {
    Finding::new(id, severity, "object", 0, rule, detail)
}

impl Assembler {
    pub fn new(config: AssemblerConfig) -> Self {
        Assembler {
            config,
            ..Default::default()
        }
    }

    fn note(&mut self, frame: u64, f: Finding) {
        // One finding per ID and object is enough; bound the list on hostile input.
        if self.findings.len() < 10_000 {
            self.findings.push((frame, f));
        }
    }

    /// Takes one decoded ALC packet and its symbols.
    pub fn push(&mut self, frame: u64, sender: IpAddr, alc: &AlcPacket, symbols: &[u8]) {
        let (Some(tsi), Some(toi), Some(pid)) = (alc.lct.tsi, alc.lct.toi, alc.payload_id) else {
            return;
        };
        if toi != 0 && !self.config.all_objects {
            return;
        }
        let fdt_instance = match alc.lct.extension(HET_FDT).map(|e| &e.body) {
            Some(ExtensionBody::Fdt(f)) => Some(f.instance_id),
            _ => None,
        };
        let key = ObjectKey {
            sender,
            tsi,
            toi,
            fdt_instance: if toi == 0 { fdt_instance } else { None },
        };
        if !self.objects.contains_key(&key) {
            if self.objects.len() >= self.config.max_objects {
                self.note(
                    frame,
                    finding(
                        "track.objects.cap",
                        Severity::Warning,
                        "rmtkit limit",
                        format!(
                            "more than {} objects in flight: TOI {toi} not tracked",
                            self.config.max_objects
                        ),
                    ),
                );
                return;
            }
            let cenc = match alc.lct.extension(HET_CENC).map(|e| &e.body) {
                Some(ExtensionBody::Cenc(c)) => Some(c.cenc),
                _ => None,
            };
            self.objects.insert(
                key,
                ObjectState {
                    codepoint: alc.lct.codepoint,
                    fec: None,
                    blocks: BTreeMap::new(),
                    pending: Vec::new(),
                    pending_bytes: 0,
                    cenc,
                    close_object: false,
                    first_frame: frame,
                    last_frame: frame,
                    packets: 0,
                    error: None,
                },
            );
        }
        // The OTI: EXT_FTI wins over the FDT (RFC 6726 §5).
        let fec = match &alc.fti {
            Some(fti) => Some(FecObject::from_oti(alc.fec_encoding_id, &fti.oti)),
            None => self
                .fdt_files
                .get(&(sender, tsi))
                .and_then(|m| m.get(&toi))
                .map(|(inst, file)| {
                    FecObject::oti_from_fdt(inst, file)
                        .and_then(|(id, oti)| FecObject::from_oti(id, &oti))
                }),
        };
        let max_object = self.config.max_object_bytes;
        let obj = self.objects.get_mut(&key).expect("inserted above");
        obj.packets += 1;
        obj.last_frame = frame;
        obj.close_object |= alc.lct.close_object;
        if obj.fec.is_none() {
            match fec {
                Some(Ok(f)) if f.transfer_length > max_object => {
                    obj.error = Some(format!(
                        "transfer length {} above the {max_object}-byte cap",
                        f.transfer_length
                    ));
                }
                Some(Ok(f)) => obj.fec = Some(f),
                Some(Err(e)) => obj.error = Some(e.to_string()),
                None => {}
            }
        }
        if obj.error.is_some() {
            return;
        }
        let sbl = pid.sbl;
        if obj.fec.is_none() {
            let n = symbols.len() as u64;
            if self.buffered + n > self.config.max_buffered_bytes {
                self.note(
                    frame,
                    finding(
                        "track.buffer.cap",
                        Severity::Warning,
                        "rmtkit limit",
                        format!(
                            "TOI {toi}: symbol dropped, {} bytes already held",
                            self.buffered
                        ),
                    ),
                );
                return;
            }
            obj.pending.push((pid.sbn, pid.esi, sbl, symbols.to_vec()));
            obj.pending_bytes += n;
            self.buffered += n;
            return;
        }
        self.feed(frame, key, pid.sbn, pid.esi, sbl, symbols);
        self.maybe_fdt(frame, key);
    }

    /// Feeds a symbol to its block's decoder, creating the decoder on the block's first symbol.
    // The entry API would hold a borrow of the object across `self.note`.
    #[allow(clippy::map_entry)]
    fn feed(
        &mut self,
        frame: u64,
        key: ObjectKey,
        sbn: u32,
        esi: u32,
        sbl: Option<u16>,
        symbols: &[u8],
    ) {
        let cap = self.config.max_buffered_bytes;
        let buffered = self.buffered;
        let obj = self.objects.get_mut(&key).expect("tracked");
        let fec = obj.fec.as_ref().expect("OTI known");
        if !obj.blocks.contains_key(&sbn) {
            let Some(info) = fec.block(sbn) else {
                let detail = format!(
                    "TOI {}: SBN {sbn} is past the last of {} blocks",
                    key.toi,
                    fec.block_count()
                );
                self.note(
                    frame,
                    finding(
                        "fec.sbn.out_of_range",
                        Severity::Error,
                        "RFC 5052 §9.1",
                        detail,
                    ),
                );
                return;
            };
            let k = sbl.map(u64::from).unwrap_or(info.k);
            let bytes = k * fec.symbol_length;
            if buffered + bytes > cap {
                let detail = format!(
                    "TOI {} SBN {sbn}: block of {bytes} bytes over the {cap}-byte cap",
                    key.toi
                );
                self.note(
                    frame,
                    finding(
                        "track.buffer.cap",
                        Severity::Warning,
                        "rmtkit limit",
                        detail,
                    ),
                );
                return;
            }
            match fec.decoder(sbn, sbl.map(u64::from)) {
                Ok(decoder) => {
                    obj.blocks.insert(sbn, Block { decoder });
                    self.buffered += bytes;
                }
                Err(e) => {
                    obj.error = Some(e.to_string());
                    return;
                }
            }
        }
        let obj = self.objects.get_mut(&key).expect("tracked");
        let block = obj.blocks.get_mut(&sbn).expect("created above");
        if block.decoded().is_some() {
            return;
        }
        let e = obj.fec.as_ref().map_or(1, |f| f.symbol_length as usize);
        if let Err(e) = block.decoder.push_packet(esi, symbols, e) {
            let detail = format!("TOI {} SBN {sbn}: {e}", key.toi);
            self.note(
                frame,
                finding(
                    "fec.symbol.invalid",
                    Severity::Error,
                    "RFC 5052 §9.1",
                    detail,
                ),
            );
        }
    }

    /// When an FDT instance (TOI 0) is complete, decodes it and replays what waited for it.
    fn maybe_fdt(&mut self, frame: u64, key: ObjectKey) {
        if key.toi != 0 || self.fdt_instances.iter().any(|(k, _, _)| *k == key) {
            return;
        }
        let Some(bytes) = self.object_bytes(&key) else {
            return;
        };
        let cenc = self.objects[&key].cenc;
        match FdtInstance::parse_payload(&bytes, cenc, self.config.max_inflated) {
            Ok(d) => {
                for f in d.findings {
                    self.note(frame, f);
                }
                let session = (key.sender, key.tsi);
                let table = self.fdt_files.entry(session).or_default();
                for file in &d.value.files {
                    table.insert(file.toi, (d.value.clone(), file.clone()));
                }
                self.fdt_instances.push((key, frame, d.value));
                self.replay(frame, session);
            }
            Err(e) => {
                let f = Finding::new(e.id, Severity::Error, e.field, e.offset, e.rule, e.detail);
                self.note(frame, f);
                self.fdt_instances.push((
                    key,
                    frame,
                    FdtInstance {
                        namespace: crate::wire::fdt::FdtNamespace::None,
                        expires: None,
                        complete: None,
                        defaults: Default::default(),
                        files: vec![],
                        other_attributes: vec![],
                        child_elements: vec![],
                    },
                ));
            }
        }
    }

    /// Objects of a session that waited for their OTI get it from the FDT and their symbols.
    fn replay(&mut self, frame: u64, session: (IpAddr, u64)) {
        let keys: Vec<ObjectKey> = self
            .objects
            .iter()
            .filter(|(k, o)| (k.sender, k.tsi) == session && o.fec.is_none() && o.error.is_none())
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Some((inst, file)) = self.fdt_files.get(&session).and_then(|m| m.get(&key.toi))
            else {
                continue;
            };
            let fec = FecObject::oti_from_fdt(inst, file)
                .and_then(|(id, oti)| FecObject::from_oti(id, &oti));
            let obj = self.objects.get_mut(&key).expect("listed");
            match fec {
                Ok(f) if f.encoding_id != obj.codepoint => {
                    // RFC 6726 §5: FEC-OTI-FEC-Encoding-ID MUST equal CP for every packet of the TOI.
                    obj.error = Some(format!(
                        "FDT FEC Encoding ID {} differs from codepoint {}",
                        f.encoding_id, obj.codepoint
                    ));
                }
                Ok(f) => obj.fec = Some(f),
                Err(e) => obj.error = Some(e.to_string()),
            }
            let pending = std::mem::take(&mut obj.pending);
            self.buffered -= obj.pending_bytes;
            obj.pending_bytes = 0;
            if obj.fec.is_some() {
                for (sbn, esi, sbl, sym) in pending {
                    self.feed(frame, key, sbn, esi, sbl, &sym);
                }
            }
        }
    }

    /// The whole object, once every block is decoded.
    fn object_bytes(&self, key: &ObjectKey) -> Option<Vec<u8>> {
        let obj = self.objects.get(key)?;
        let fec = obj.fec.as_ref()?;
        let n = fec.block_count();
        if obj.blocks.len() as u64 != n || obj.blocks.values().any(|b| b.decoded().is_none()) {
            return None;
        }
        let mut out = Vec::with_capacity(fec.transfer_length as usize);
        for (sbn, b) in &obj.blocks {
            let len = fec.block(*sbn)?.length as usize;
            out.extend_from_slice(&b.decoded()?[..len]);
        }
        Some(out)
    }

    /// The object with every known source symbol in place and zeros elsewhere, and the number
    /// of bytes missing. Allocates the transfer length, which the object-size cap bounds.
    fn partial(&self, obj: &ObjectState, fec: &FecObject) -> (Vec<u8>, u64) {
        let mut buf = vec![0u8; fec.transfer_length as usize];
        let mut known = 0u64;
        let e = fec.symbol_length;
        for (sbn, b) in &obj.blocks {
            let Some(info) = fec.block(*sbn) else {
                continue;
            };
            for esi in 0..info.k {
                let start = esi * e;
                if start >= info.length {
                    break;
                }
                if let Some(sym) = b.decoder.source_symbol(esi as u32) {
                    let len = e.min(info.length - start) as usize;
                    let at = (info.offset + start) as usize;
                    buf[at..at + len].copy_from_slice(&sym[..len]);
                    known += len as u64;
                }
            }
        }
        (buf, fec.transfer_length - known)
    }

    /// Every object seen, in key order.
    pub fn reports(&self) -> Vec<ObjectReport> {
        self.objects
            .iter()
            .map(|(key, obj)| {
                let fec = obj.fec.as_ref();
                let blocks = fec.map_or(0, FecObject::block_count);
                let blocks_decoded = obj
                    .blocks
                    .values()
                    .filter(|b| b.decoded().is_some())
                    .count() as u64;
                let symbols_needed =
                    fec.map_or(0, |f| f.transfer_length.div_ceil(f.symbol_length.max(1)));
                let per_block: Vec<(u32, u64, u64)> = obj
                    .blocks
                    .iter()
                    .map(|(sbn, b)| {
                        let k = fec.and_then(|f| f.block(*sbn)).map_or(0, |i| i.k);
                        let received = match b.decoder.status() {
                            DecodeStatus::Decoded => k,
                            DecodeStatus::NeedMore { received, .. } => received as u64,
                        };
                        (*sbn, received, k)
                    })
                    .collect();
                let symbols_received = per_block.iter().map(|(_, r, _)| r).sum();
                let data = self.object_bytes(key);
                let partial = match (fec, &data) {
                    (Some(fec), None) => Some(self.partial(obj, fec)),
                    _ => None,
                };
                let fdt_file = self
                    .fdt_files
                    .get(&(key.sender, key.tsi))
                    .and_then(|m| m.get(&key.toi))
                    .map(|(_, f)| f.clone());
                ObjectReport {
                    key: *key,
                    encoding_id: fec.map(|f| f.encoding_id),
                    transfer_length: fec.map(|f| f.transfer_length),
                    blocks,
                    blocks_decoded,
                    symbols_received,
                    symbols_needed,
                    per_block,
                    data,
                    partial,
                    fdt_file,
                    packets: obj.packets,
                    first_frame: obj.first_frame,
                    close_object: obj.close_object,
                    error: obj.error.clone(),
                }
            })
            .collect()
    }

    /// Bytes currently held by decoders and pending symbols.
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered
    }
}
