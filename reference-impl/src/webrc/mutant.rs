//! Broken WEBRC receivers: the reference receiver with one layer-change bug each, so that the
//! lab's checks can be shown to fail a wrong receiver (`rmt-conform lab webrc --mutant`, the lab
//! section of `rmt-conform mutants`). Only tests and those switches select them; each names
//! the lab check written for its bug (RFC 3738 §3.2.3).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebrcMutant {
    /// Never leaves a wave at a time slot change: it stays joined to waves that went
    /// quiescent (§3.2.3.3).
    NeverLeaves,
    /// Joins CN = NWC mod T, as if CTSI were always 0 (§3.2.3.6 says CN = CTSI + NWC mod T).
    JoinIgnoresCtsi,
    /// Joins during a loss event: once half its ARTT into it, whatever TRATE says (§3.2.3.6
    /// "If there is a loss event in progress ... the receiver MUST not join").
    JoinsInLossEvent,
    /// Joins while the previous join still waits for its first packet (§3.2.3.6 "If a join
    /// of a channel is in progress (JOINING = true) the receiver MUST not join").
    JoinsWhilePending,
    /// At a time slot change leaves its highest wave instead of the lowest (§3.2.3.3: "a
    /// leave is sent for the lowest layer in the previous time slot").
    LeavesHighest,
    /// Never joins a wave: the base channel only, whatever its link carries.
    NeverJoins,
}

impl WebrcMutant {
    pub const ALL: [WebrcMutant; 6] = [
        WebrcMutant::NeverLeaves,
        WebrcMutant::JoinIgnoresCtsi,
        WebrcMutant::JoinsInLossEvent,
        WebrcMutant::JoinsWhilePending,
        WebrcMutant::LeavesHighest,
        WebrcMutant::NeverJoins,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WebrcMutant::NeverLeaves => "webrc-never-leaves",
            WebrcMutant::JoinIgnoresCtsi => "webrc-join-ignores-ctsi",
            WebrcMutant::JoinsInLossEvent => "webrc-joins-in-loss-event",
            WebrcMutant::JoinsWhilePending => "webrc-joins-while-pending",
            WebrcMutant::LeavesHighest => "webrc-leaves-highest",
            WebrcMutant::NeverJoins => "webrc-never-joins",
        }
    }

    /// The lab check written for this bug (the catalogue's lab case).
    pub fn meant_for(self) -> &'static str {
        match self {
            WebrcMutant::NeverLeaves => "rfc3738/3.2.3.3/left-at-slot-change",
            WebrcMutant::JoinIgnoresCtsi => "rfc3738/3.2.3.6/join-next-layer",
            WebrcMutant::JoinsInLossEvent => "rfc3738/3.2.3.6/no-join-in-loss-event",
            WebrcMutant::JoinsWhilePending => "rfc3738/3.2.3.6/no-join-while-pending",
            WebrcMutant::LeavesHighest => "rfc3738/3.2.3.3/leave-lowest-layer",
            WebrcMutant::NeverJoins => "rfc3738/3.2.3.6/reaches-target",
        }
    }
}

/// Serialised by its name, as `--mutant` takes it.
impl serde::Serialize for WebrcMutant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for WebrcMutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WebrcMutant {
    type Err = String;

    /// A mutant's name, with or without the `webrc-` prefix.
    fn from_str(s: &str) -> Result<Self, String> {
        WebrcMutant::ALL
            .into_iter()
            .find(|m| m.name() == s || m.name().strip_prefix("webrc-") == Some(s))
            .ok_or_else(|| {
                let names: Vec<&str> = WebrcMutant::ALL.iter().map(|m| m.name()).collect();
                format!("{s:?}: not a WEBRC mutant ({})", names.join(", "))
            })
    }
}
