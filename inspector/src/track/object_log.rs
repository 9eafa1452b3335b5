//! What the inspector keeps of each object once it left the assembler: a compact record (no
//! bytes) with its verdict, for `-z objects` and `-z cid`. The log is bounded: past
//! [`MAX_RECORDS`] the oldest records go (counted in the totals, and said by
//! `track.objects.records.cap`), so a capture of any length keeps flat memory.

use std::collections::VecDeque;
use std::time::Duration;

use crate::track::assembler::{FdtEvent, ObjectKey, ObjectReport};
use crate::wire::cid::CidObjectList;
use crate::wire::fcast::CompoundObject;

/// Records kept for `-z objects` (the most recent).
pub const MAX_RECORDS: usize = 65_536;

/// FDT Instances kept for `-z fdt` (the most recent).
pub const MAX_FDT_RECORDS: usize = 4_096;

/// A Carousel Instance Descriptor (RFC 6968 §2.2), as a record keeps it.
#[derive(Debug, Clone)]
pub struct CidRecord {
    pub ciid: Option<u64>,
    pub complete: bool,
    pub object_list: CidObjectList,
}

/// One object's verdict, without its bytes.
#[derive(Debug, Clone)]
pub struct ObjectRecord {
    pub key: ObjectKey,
    pub encoding_id: Option<u8>,
    pub transfer_length: Option<u64>,
    pub symbols_received: u64,
    pub symbols_needed: u64,
    /// Per block seen: (SBN, symbols received, source symbols needed).
    pub per_block: Vec<(u32, u64, u64)>,
    pub recoverable: bool,
    pub missing_bytes: u64,
    /// From the FDT, or else from the FCAST metadata of a valid Compound Object.
    pub content_location: Option<String>,
    /// A valid FCAST CID object.
    pub cid: Option<CidRecord>,
    pub packets: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub close_object: bool,
    pub error: Option<String>,
}

impl ObjectRecord {
    /// The record of `r`; `fcast` is its Compound Object when it is one (RFC 6968 §1.2).
    pub fn new(r: &ObjectReport, fcast: Option<&CompoundObject>) -> Self {
        // Only a Compound Object with a valid checksum and version names itself.
        let valid =
            fcast.filter(|o| o.header.version == 0 && o.computed_checksum == o.header.checksum);
        let (content_location, cid) = match (&r.fdt_file, valid) {
            (Some(f), _) => (Some(f.content_location.clone()), None),
            (None, Some(o)) => match &o.cid {
                Some(c) => (
                    None,
                    Some(CidRecord {
                        ciid: c.ciid,
                        complete: c.complete,
                        object_list: c.object_list.clone(),
                    }),
                ),
                None => (o.header.get("Content-Location").map(str::to_string), None),
            },
            (None, None) => (None, None),
        };
        ObjectRecord {
            key: r.key,
            encoding_id: r.encoding_id,
            transfer_length: r.transfer_length,
            symbols_received: r.symbols_received,
            symbols_needed: r.symbols_needed,
            per_block: r.per_block.clone(),
            recoverable: r.data.is_some(),
            missing_bytes: r.missing_bytes(),
            content_location,
            cid,
            packets: r.packets,
            first_frame: r.first_frame,
            last_frame: r.last_frame,
            close_object: r.close_object,
            error: r.error.clone(),
        }
    }

    /// A CID's carousel instance in words, for the objects table.
    pub fn description(&self) -> Option<String> {
        self.cid.as_ref().map(|c| {
            format!(
                "FCAST CID {}, {}complete, {} objects",
                c.ciid.map_or("-".into(), |x| x.to_string()),
                if c.complete { "" } else { "not " },
                c.object_list.object_count
            )
        })
    }
}

/// An FDT Instance as `-z fdt` shows it: its object, when it completed, Expires, Complete and
/// its files (TOI, Content-Location), without the rest of the instance.
#[derive(Debug, Clone)]
pub struct FdtRecord {
    pub key: ObjectKey,
    pub frame: u64,
    pub time: Duration,
    pub expires: Option<u32>,
    pub complete: Option<bool>,
    pub files: Vec<(u128, String)>,
}

impl FdtRecord {
    pub fn new(e: &FdtEvent) -> Self {
        FdtRecord {
            key: e.key,
            frame: e.frame,
            time: e.time,
            expires: e.instance.expires,
            complete: e.instance.complete,
            files: e
                .instance
                .files
                .iter()
                .map(|f| (f.toi, f.content_location.clone()))
                .collect(),
        }
    }
}

/// The most recent records, and totals over all objects.
#[derive(Debug, Default)]
pub struct ObjectLog {
    pub records: VecDeque<ObjectRecord>,
    pub fdt: VecDeque<FdtRecord>,
    /// Objects (FDT Instances excepted) that left the assembler, and of them rebuilt.
    pub objects: u64,
    pub recoverable: u64,
    /// Records and FDT Instances dropped past the caps.
    pub forgotten: u64,
    pub fdt_forgotten: u64,
}

impl ObjectLog {
    pub fn push(&mut self, r: ObjectRecord) {
        if r.key.fdt_instance.is_none() {
            self.objects += 1;
            self.recoverable += u64::from(r.recoverable);
        }
        self.records.push_back(r);
        if self.records.len() > MAX_RECORDS {
            self.records.pop_front();
            self.forgotten += 1;
        }
    }

    pub fn push_fdt(&mut self, e: FdtRecord) {
        self.fdt.push_back(e);
        if self.fdt.len() > MAX_FDT_RECORDS {
            self.fdt.pop_front();
            self.fdt_forgotten += 1;
        }
    }
}
