//! The FLUTE receiver's FDT state (RFC 6726 §3.3, §3.4): instances by ID with their expiry,
//! and the file entries by TOI, whose parameters never change while an instance describing
//! them is valid. Once every instance that described a TOI has expired, a later instance may
//! describe it again with other parameters: the TOI names a new file (long sessions reuse TOIs).

use std::collections::BTreeMap;
use std::sync::Arc;

use rmt_inspector::track::fdt_description::{Described, FdtDescriptions, OnChange};
use rmt_inspector::wire::fdt::{expires_to_ntp_seconds, FdtInstance};

pub use rmt_inspector::track::fdt_description::FdtEntry;

use crate::time::{ntp_seconds, Now};

/// The FDT state of the receiver's session: the files' descriptions (the first while valid,
/// [`OnChange::KeepFirst`]), and the instances with their expiry.
#[derive(Debug, Default)]
pub struct FdtTable {
    /// Instance ID -> expiry in NTP seconds.
    instances: BTreeMap<u32, u64>,
    /// Instances and files left by the last pruning of expired ones.
    live_after_prune: usize,
    files_after_prune: usize,
    files: FdtDescriptions,
    /// An instance with Complete=true was received (§3.4.2: no new file data after it).
    pub complete: bool,
    /// Mutants only ([`super::mutant`]): expired instances are used.
    pub(super) accept_expired: bool,
}

/// What an FDT Instance did to the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdtOutcome {
    /// Taken; these TOIs are new.
    Applied {
        new_tois: Vec<u128>,
        changed_tois: Vec<u128>,
        /// TOIs whose description had expired, described again for another file.
        reused_tois: Vec<u128>,
    },
    Expired {
        expires_ntp: u64,
        now_ntp: u64,
    },
}

impl FdtTable {
    /// Mutant only ([`super::mutant`]): later instances replace a TOI's parameters.
    pub(super) fn accept_changes(&mut self) {
        self.files.set_on_change(OnChange::FollowLatest);
    }

    pub fn entry(&self, toi: u128) -> Option<&FdtEntry> {
        self.files.entry(toi)
    }

    pub fn tois(&self) -> impl Iterator<Item = u128> + '_ {
        self.files.tois()
    }

    /// Whether every instance that described `toi` has expired at `now` (then its packets are
    /// no longer the described file's).
    pub fn expired(&self, toi: u128, now: Now) -> bool {
        // The mutant that uses expired instances keeps using them.
        !self.accept_expired
            && self
                .files
                .entry(toi)
                .is_some_and(|e| e.expires_ntp < ntp_seconds(now))
    }

    /// Forgets the descriptions that expired before `now`, when the table has doubled since it
    /// last did: memory stays flat on a session of any length (one pass per doubling, not per
    /// instance). Returns the TOIs forgotten.
    pub fn forget_expired(&mut self, now: Now) -> Vec<u128> {
        if self.accept_expired || self.files.len() <= 2 * self.files_after_prune.max(64) {
            return Vec::new();
        }
        let gone = self.files.forget_expired(ntp_seconds(now));
        self.files_after_prune = self.files.len();
        gone
    }

    /// Forgets the description of `toi` (expired): memory stays flat as TOIs are reused.
    pub fn forget(&mut self, toi: u128) {
        self.files.forget(toi);
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
        // Expired instances leave (their IDs may come back, §3.4.1), checked each time the
        // table doubles: a pass per instance would cost the square of a long session.
        if self.instances.len() > 2 * self.live_after_prune.max(64) {
            self.instances.retain(|_, e| *e >= now_ntp);
            self.live_after_prune = self.instances.len();
        }
        self.complete |= inst.complete == Some(true);
        let shared = Arc::new(inst);
        let mut new_tois = Vec::new();
        let mut changed_tois = Vec::new();
        let mut reused_tois = Vec::new();
        for file in &shared.files {
            if file.toi == 0 {
                continue; // §3.3: TOI 0 is the FDT's own
            }
            match self.files.describe(&shared, file, expires_ntp, now_ntp) {
                Described::New => new_tois.push(file.toi),
                Described::Changed => changed_tois.push(file.toi),
                Described::Reused { .. } => reused_tois.push(file.toi),
                // Only the mutant that accepts changes replaces a known TOI's parameters.
                Described::Again | Described::Replaced { .. } => {}
            }
        }
        FdtOutcome::Applied {
            new_tois,
            changed_tois,
            reused_tois,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::time::NTP_UNIX_OFFSET;

    fn instance(location: &str, expires_ntp: u64) -> FdtInstance {
        let xml = format!(
            r#"<FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" Expires="{expires_ntp}"><File TOI="1" Content-Location="{location}" Transfer-Length="10"/></FDT-Instance>"#
        );
        FdtInstance::parse_payload(xml.as_bytes(), None, 1 << 20)
            .unwrap()
            .value
    }

    #[test]
    fn a_toi_names_another_file_only_once_its_description_expired() {
        let t0 = Duration::from_secs(1_800_000_000);
        let ntp = t0.as_secs() + NTP_UNIX_OFFSET;
        let mut table = FdtTable::default();
        let first = table.apply(1, instance("a", ntp + 10), t0);
        assert!(matches!(first, FdtOutcome::Applied { ref new_tois, .. } if new_tois == &[1]));
        // While "a" is described (RFC 6726 §3.3), another file on TOI 1 is refused.
        let early = table.apply(2, instance("b", ntp + 100), t0 + Duration::from_secs(5));
        assert!(
            matches!(early, FdtOutcome::Applied { ref changed_tois, .. } if changed_tois == &[1]),
            "{early:?}"
        );
        assert!(!table.expired(1, t0 + Duration::from_secs(5)));
        assert!(table.expired(1, t0 + Duration::from_secs(11)));
        // After it expired, the TOI is reused for "b".
        let later = table.apply(3, instance("b", ntp + 100), t0 + Duration::from_secs(20));
        assert!(
            matches!(later, FdtOutcome::Applied { ref reused_tois, .. } if reused_tois == &[1]),
            "{later:?}"
        );
        assert_eq!(table.entry(1).unwrap().file.content_location, "b");
    }
}
