//! Deliberately broken receivers: the reference receiver with one classic bug switched on, so
//! that each conformance case can be shown to fail an implementation with the bug it is meant to
//! catch (`rmt-conform mutants`, the mutation tests of `rmt-conformance`). Nothing in a normal run
//! reaches these switches: no command-line flag, profile or configuration file sets them; only
//! [`super::Receiver::mutate`], which the suite's mutation runner and tests call.

/// One bug per mutant, named after what the broken receiver does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReceiverMutant {
    /// Accepts packets whatever their TSI (merges sessions on one channel; RFC 5775 §4.4).
    TsiIgnored,
    /// Accepts packets of the TSI from any sender address (RFC 5651 §5.1: a session is
    /// (sender address, TSI)).
    SourceIgnored,
    /// Never accepts a TOI again once an object was delivered under it (wrap and reuse,
    /// RFC 6968 §2.2, §3.6).
    ToisRememberedForever,
    /// Drops packets of TOIs that the newest CID does not list (RFC 6968 §3.5: the list is
    /// not a packet filter), and so misses new Carousel Instances.
    FiltersOnCidList,
    /// Takes the first CID and ignores every later one (its removals, equivalences and
    /// Complete flag).
    FirstCidOnly,
    /// Keeps partly received objects that a new CID no longer lists (RFC 6968 §3.8 step 4),
    /// so a reused TOI is spliced onto the old object's symbols.
    CidRemovalsIgnored,
    /// Uses FDT Instances received after their expiry (RFC 6726 §3.3).
    ExpiredFdtUsed,
    /// Lets a later FDT Instance replace the parameters a TOI was given (RFC 6726 §3.3).
    FdtParameterChangeAccepted,
    /// Delivers FCAST objects whose checksum does not match (RFC 6968 §2.1).
    FcastChecksumNotChecked,
    /// Delivers objects whose Content-MD5 (FLUTE) or Fcast-Obj-Digest-SHA256 does not match.
    DigestNotChecked,
    /// Delivers every object one byte short.
    TruncatesObjects,
    /// Receives nothing and delivers nothing.
    Inert,
    /// Panics on the tenth datagram.
    Panics,
}

impl ReceiverMutant {
    pub const ALL: [ReceiverMutant; 13] = [
        ReceiverMutant::TsiIgnored,
        ReceiverMutant::SourceIgnored,
        ReceiverMutant::ToisRememberedForever,
        ReceiverMutant::FiltersOnCidList,
        ReceiverMutant::FirstCidOnly,
        ReceiverMutant::CidRemovalsIgnored,
        ReceiverMutant::ExpiredFdtUsed,
        ReceiverMutant::FdtParameterChangeAccepted,
        ReceiverMutant::FcastChecksumNotChecked,
        ReceiverMutant::DigestNotChecked,
        ReceiverMutant::TruncatesObjects,
        ReceiverMutant::Inert,
        ReceiverMutant::Panics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReceiverMutant::TsiIgnored => "tsi-ignored",
            ReceiverMutant::SourceIgnored => "sender-address-ignored",
            ReceiverMutant::ToisRememberedForever => "tois-remembered-forever",
            ReceiverMutant::FiltersOnCidList => "filters-on-cid-list",
            ReceiverMutant::FirstCidOnly => "first-cid-only",
            ReceiverMutant::CidRemovalsIgnored => "cid-removals-ignored",
            ReceiverMutant::ExpiredFdtUsed => "expired-fdt-used",
            ReceiverMutant::FdtParameterChangeAccepted => "fdt-parameter-change-accepted",
            ReceiverMutant::FcastChecksumNotChecked => "fcast-checksum-not-checked",
            ReceiverMutant::DigestNotChecked => "digest-not-checked",
            ReceiverMutant::TruncatesObjects => "truncates-objects",
            ReceiverMutant::Inert => "does-nothing",
            ReceiverMutant::Panics => "panics",
        }
    }

    /// The receiver cases written to catch this bug: each must fail the mutant.
    pub fn meant_for(self) -> &'static [&'static str] {
        match self {
            ReceiverMutant::TsiIgnored => &["rfc5775/4.4/foreign-tsi-ignored"],
            ReceiverMutant::SourceIgnored => &["rfc5651/5.1/tsi-second-sender-not-merged"],
            ReceiverMutant::ToisRememberedForever => &[
                "rfc6968/3.6/toi-reuse-with-cid",
                "rfc6968/3.6/toi-reuse-without-cid",
            ],
            ReceiverMutant::FiltersOnCidList => &[
                "rfc6968/3.5/no-filtering-on-cid-list",
                "rfc6968/3.5/cid-wrong-list-no-filter",
                "rfc6968/3.5/cid-add-remove-relist",
            ],
            // It ignores later CIDs' removals too, so a reused TOI is spliced.
            ReceiverMutant::FirstCidOnly => &[
                "rfc6968/3.5/complete-in-a-later-instance",
                "rfc6968/2.2/toi-reuse-new-ciid-not-spliced",
            ],
            ReceiverMutant::CidRemovalsIgnored => &["rfc6968/2.2/toi-reuse-new-ciid-not-spliced"],
            ReceiverMutant::ExpiredFdtUsed => &["rfc6726/3.3/expired-fdt-not-used"],
            ReceiverMutant::FdtParameterChangeAccepted => {
                &["rfc6726/3.3/fdt-parameter-change-ignored"]
            }
            ReceiverMutant::FcastChecksumNotChecked => &["rfc6968/2.1/wrong-checksum-rejected"],
            ReceiverMutant::DigestNotChecked => &[
                "rfc6968/4.1/wrong-digest-not-delivered",
                "rfc6726/3.4.2/wrong-content-md5-not-delivered",
            ],
            ReceiverMutant::TruncatesObjects => &["rfc6726/3/sanity-first"],
            ReceiverMutant::Inert => &["rfc6726/3/sanity-first"],
            ReceiverMutant::Panics => &["rfc6726/3/sanity-first"],
        }
    }

    pub fn from_name(name: &str) -> Option<ReceiverMutant> {
        ReceiverMutant::ALL.into_iter().find(|m| m.name() == name)
    }
}
