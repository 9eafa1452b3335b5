//! The FLUTE receiver's FDT state (RFC 6726 §3.3, §3.4): instances by ID with their expiry,
//! and the file entries by TOI, whose parameters never change once given.

use std::collections::BTreeMap;

use rmt_inspector::wire::fdt::{expires_to_ntp_seconds, FdtFile, FdtInstance};

use crate::time::{ntp_seconds, Now};

#[derive(Debug, Clone)]
pub struct FdtEntry {
    pub instance_id: u32,
    /// The instance, for its defaults (FEC attributes, Content-Type, ...).
    pub instance: FdtInstance,
    pub file: FdtFile,
}

#[derive(Debug, Default)]
pub struct FdtTable {
    /// Instance ID -> expiry in NTP seconds.
    instances: BTreeMap<u32, u64>,
    files: BTreeMap<u128, FdtEntry>,
    /// An instance with Complete=true was received (§3.4.2: no new file data after it).
    pub complete: bool,
    /// Mutants only ([`super::mutant`]): expired instances are used; later instances replace
    /// a TOI's parameters.
    pub(super) accept_expired: bool,
    pub(super) accept_changes: bool,
}

/// What an FDT Instance did to the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdtOutcome {
    /// Taken; these TOIs are new.
    Applied {
        new_tois: Vec<u128>,
        changed_tois: Vec<u128>,
    },
    Expired {
        expires_ntp: u64,
        now_ntp: u64,
    },
}

impl FdtTable {
    pub fn entry(&self, toi: u128) -> Option<&FdtEntry> {
        self.files.get(&toi)
    }

    pub fn tois(&self) -> impl Iterator<Item = u128> + '_ {
        self.files.keys().copied()
    }

    /// Whether instance `id` was received and is still valid at `now` (then packets carrying
    /// it are repeats: the carousel, or a forbidden re-use of a live ID, §3.4.1).
    pub fn is_live(&self, id: u32, now: Now) -> bool {
        self.instances
            .get(&id)
            .is_some_and(|&e| e >= ntp_seconds(now))
    }

    /// Takes a decoded FDT Instance received at `now` (the packet's time).
    pub fn apply(&mut self, id: u32, inst: FdtInstance, now: Now) -> FdtOutcome {
        let now_ntp = ntp_seconds(now);
        let expires_ntp = inst
            .expires
            .map_or(0, |e| expires_to_ntp_seconds(e, now_ntp));
        // §3.3: an FDT Instance whose Expires is in the past is not used.
        if expires_ntp < now_ntp && !self.accept_expired {
            return FdtOutcome::Expired {
                expires_ntp,
                now_ntp,
            };
        }
        self.instances.insert(id, expires_ntp);
        self.complete |= inst.complete == Some(true);
        let mut new_tois = Vec::new();
        let mut changed_tois = Vec::new();
        for file in &inst.files {
            if file.toi == 0 {
                continue; // §3.3: TOI 0 is the FDT's own
            }
            let take = match self.files.get(&file.toi) {
                Some(old) if !same_parameters(old, file, &inst) && !self.accept_changes => {
                    changed_tois.push(file.toi);
                    false
                }
                // Only the mutant that accepts changes takes new parameters for a known TOI.
                Some(old) => !same_parameters(old, file, &inst),
                None => {
                    new_tois.push(file.toi);
                    true
                }
            };
            if take {
                self.files.insert(
                    file.toi,
                    FdtEntry {
                        instance_id: id,
                        instance: inst.clone(),
                        file: file.clone(),
                    },
                );
            }
        }
        FdtOutcome::Applied {
            new_tois,
            changed_tois,
        }
    }
}

/// §3.3: later FDT Instances MUST NOT change the parameters of a TOI already described.
fn same_parameters(old: &FdtEntry, new: &FdtFile, new_inst: &FdtInstance) -> bool {
    use rmt_inspector::fec::scheme::FecObject;
    let oti_old = FecObject::oti_from_fdt(&old.instance, &old.file).ok();
    let oti_new = FecObject::oti_from_fdt(new_inst, new).ok();
    old.file.content_location == new.content_location
        && old.file.transfer_length == new.transfer_length
        && old.file.content_length == new.content_length
        && old.file.content_md5 == new.content_md5
        && oti_old == oti_new
}
