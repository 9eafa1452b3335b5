//! What FDT Instances say about the files of a session, written once for the three holders of
//! FDT state: the session checks (`track/session.rs`: parameters never change, RFC 6726 §3.3),
//! the object assembler (`track/assembler.rs`: the object's OTI when EXT_FTI is absent) and the
//! reference receiver (`rmt_reference::receiver::flute`: which description it delivers by).
//! Each holds an [`FdtDescriptions`] table with its policy ([`OnChange`]: the assembler
//! follows the latest description, the receiver and the session checks keep the first) and
//! its own rule for when an instance expires; the table says what each description did
//! ([`Described`]), and the comparison and the OTI come from here.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::fec::codec::FecError;
use crate::fec::scheme::FecObject;
use crate::wire::ext_fti::FecOti;
use crate::wire::fdt::{FdtFile, FdtInstance};

/// The parameters an FDT entry gives a TOI, which later FDT Instances MUST NOT change
/// (RFC 6726 §3.3): location, lengths, MD5, and the FEC Encoding ID with its OTI.
#[derive(Debug, Clone, PartialEq)]
pub struct FileParameters {
    pub content_location: String,
    pub transfer_length: Option<u64>,
    pub content_length: Option<u64>,
    pub content_md5: Option<Vec<u8>>,
    pub oti: Option<(u8, FecOti)>,
}

impl FileParameters {
    pub fn of(inst: &FdtInstance, file: &FdtFile) -> Self {
        FileParameters {
            content_location: file.content_location.clone(),
            transfer_length: file.transfer_length,
            content_length: file.content_length,
            content_md5: file.content_md5.clone(),
            oti: FecObject::oti_from_fdt(inst, file).ok(),
        }
    }
}

/// Why an FDT entry gives no object for packets sent under a codepoint.
#[derive(Debug, Clone, PartialEq)]
pub enum FdtObjectError {
    /// The OTI is incomplete or invalid for its scheme.
    Fec(FecError),
    /// RFC 6726 §5: FEC-OTI-FEC-Encoding-ID equals the codepoint of every packet of the TOI.
    CodepointMismatch { fdt: u8, codepoint: u8 },
}

impl fmt::Display for FdtObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FdtObjectError::Fec(e) => write!(f, "{e}"),
            FdtObjectError::CodepointMismatch { fdt, codepoint } => {
                write!(
                    f,
                    "FDT FEC Encoding ID {fdt} differs from codepoint {codepoint}"
                )
            }
        }
    }
}

/// The FEC object an FDT entry describes, for packets sent under `codepoint`.
pub fn fdt_object(
    inst: &FdtInstance,
    file: &FdtFile,
    codepoint: u8,
) -> Result<FecObject, FdtObjectError> {
    let (id, oti) = FecObject::oti_from_fdt(inst, file).map_err(FdtObjectError::Fec)?;
    if id != codepoint {
        return Err(FdtObjectError::CodepointMismatch { fdt: id, codepoint });
    }
    FecObject::from_oti(id, &oti).map_err(FdtObjectError::Fec)
}

/// What a table does with a description that changes the parameters of a TOI still described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnChange {
    /// Keeps the first: the parameters MUST NOT change while described (RFC 6726 §3.3). The
    /// receiver and the session checks.
    #[default]
    KeepFirst,
    /// Follows the latest, its expiry too: the capture assembler rebuilds what the sender sent.
    FollowLatest,
}

/// A TOI's description: the instance that gave it (shared by its entries, for its defaults),
/// the file entry, its parameters, and when it expires.
#[derive(Debug, Clone)]
pub struct FdtEntry {
    pub instance: Arc<FdtInstance>,
    pub file: FdtFile,
    pub params: FileParameters,
    /// When the last instance that described it so expires (NTP seconds).
    pub expires_ntp: u64,
}

/// What one file entry of an FDT Instance did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Described {
    /// A TOI not described before.
    New,
    /// The same parameters again: described until the later expiry ([`OnChange::KeepFirst`])
    /// or the newer instance's ([`OnChange::FollowLatest`]).
    Again,
    /// Other parameters while the TOI is described, refused ([`OnChange::KeepFirst`]).
    Changed,
    /// Other parameters while the TOI is described, taken ([`OnChange::FollowLatest`]);
    /// the old description expired at `old_expires_ntp`.
    Replaced { old_expires_ntp: u64 },
    /// Every description of the TOI had expired: it names another file now (long sessions
    /// reuse TOIs).
    Reused { old_expires_ntp: u64 },
}

/// The current description of each TOI of one session.
#[derive(Debug, Clone, Default)]
pub struct FdtDescriptions {
    files: BTreeMap<u128, FdtEntry>,
    on_change: OnChange,
}

impl FdtDescriptions {
    pub fn new(on_change: OnChange) -> Self {
        FdtDescriptions {
            files: BTreeMap::new(),
            on_change,
        }
    }

    /// Changes the policy for the descriptions to come.
    pub fn set_on_change(&mut self, on_change: OnChange) {
        self.on_change = on_change;
    }

    pub fn entry(&self, toi: u128) -> Option<&FdtEntry> {
        self.files.get(&toi)
    }

    /// The description of `toi` while it is valid at `now_ntp`: an expired one describes
    /// nothing (RFC 6726 §3.3).
    pub fn valid_entry(&self, toi: u128, now_ntp: u64) -> Option<&FdtEntry> {
        self.files.get(&toi).filter(|e| e.expires_ntp >= now_ntp)
    }

    pub fn tois(&self) -> impl Iterator<Item = u128> + '_ {
        self.files.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Takes `file` of `instance`, valid until `expires_ntp` (the caller's rule), at `now_ntp`.
    pub fn describe(
        &mut self,
        instance: &Arc<FdtInstance>,
        file: &FdtFile,
        expires_ntp: u64,
        now_ntp: u64,
    ) -> Described {
        let params = FileParameters::of(instance, file);
        let described = match self.files.get_mut(&file.toi) {
            None => Described::New,
            Some(old) if old.params == params => {
                // The newer instance stands for it (the parameters are the same): an older one
                // is freed once no entry points to it, so cumulative FDTs, each listing every
                // file so far, do not keep every instance alive.
                if !Arc::ptr_eq(&old.instance, instance) {
                    old.instance = instance.clone();
                    old.file = file.clone();
                }
                old.expires_ntp = match self.on_change {
                    OnChange::KeepFirst => old.expires_ntp.max(expires_ntp),
                    OnChange::FollowLatest => expires_ntp,
                };
                return Described::Again;
            }
            Some(old) if old.expires_ntp < now_ntp => Described::Reused {
                old_expires_ntp: old.expires_ntp,
            },
            Some(_) if self.on_change == OnChange::KeepFirst => return Described::Changed,
            Some(old) => Described::Replaced {
                old_expires_ntp: old.expires_ntp,
            },
        };
        self.files.insert(
            file.toi,
            FdtEntry {
                instance: instance.clone(),
                file: file.clone(),
                params,
                expires_ntp,
            },
        );
        described
    }

    /// Forgets the description of `toi`.
    pub fn forget(&mut self, toi: u128) {
        self.files.remove(&toi);
    }

    /// Forgets the descriptions expired at `now_ntp`; returns their TOIs.
    pub fn forget_expired(&mut self, now_ntp: u64) -> Vec<u128> {
        let gone: Vec<u128> = self
            .files
            .iter()
            .filter(|(_, e)| e.expires_ntp < now_ntp)
            .map(|(t, _)| *t)
            .collect();
        for t in &gone {
            self.files.remove(t);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(location: &str, length: u64) -> Arc<FdtInstance> {
        let xml = format!(
            r#"<FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" Expires="4000000000"><File TOI="1" Content-Location="{location}" Transfer-Length="{length}"/></FDT-Instance>"#
        );
        Arc::new(
            FdtInstance::parse_payload(xml.as_bytes(), None, 1 << 20)
                .unwrap()
                .value,
        )
    }

    #[test]
    fn a_toi_names_another_file_only_once_its_description_expired_or_by_policy() {
        for policy in [OnChange::KeepFirst, OnChange::FollowLatest] {
            let mut t = FdtDescriptions::new(policy);
            let (a, b) = (instance("a", 10), instance("b", 20));
            let describe = |t: &mut FdtDescriptions, i: &Arc<FdtInstance>, expires, now| {
                t.describe(i, &i.files[0], expires, now)
            };
            assert_eq!(describe(&mut t, &a, 110, 100), Described::New);
            // The same again: described until the later expiry, or the newer instance's.
            assert_eq!(describe(&mut t, &a, 150, 105), Described::Again);
            assert_eq!(t.entry(1).unwrap().expires_ntp, 150);
            assert!(t.valid_entry(1, 150).is_some() && t.valid_entry(1, 151).is_none());
            let renewed = instance("a", 10);
            assert_eq!(describe(&mut t, &renewed, 140, 106), Described::Again);
            let e = t.entry(1).unwrap();
            assert!(
                Arc::ptr_eq(&e.instance, &renewed),
                "the newer instance stands for it"
            );
            let expected = match policy {
                OnChange::KeepFirst => 150,
                OnChange::FollowLatest => 140,
            };
            assert_eq!(e.expires_ntp, expected);
            // Other parameters while described: refused, or taken, as the policy says.
            let changed = describe(&mut t, &b, 200, 120);
            let location = &t.entry(1).unwrap().file.content_location;
            match policy {
                OnChange::KeepFirst => {
                    assert_eq!(changed, Described::Changed);
                    assert_eq!(location, "a");
                }
                OnChange::FollowLatest => {
                    assert_eq!(
                        changed,
                        Described::Replaced {
                            old_expires_ntp: expected
                        }
                    );
                    assert_eq!(location, "b");
                }
            }
            // Once every description expired, the TOI names another file whatever the policy.
            let old = t.entry(1).unwrap().expires_ntp;
            let c = instance("c", 30);
            assert_eq!(
                describe(&mut t, &c, 900, old + 1),
                Described::Reused {
                    old_expires_ntp: old
                }
            );
            assert_eq!(t.entry(1).unwrap().file.content_location, "c");
            assert_eq!(t.forget_expired(899), Vec::<u128>::new());
            assert_eq!(t.forget_expired(901), vec![1]);
            assert!(t.is_empty());
        }
    }
}
