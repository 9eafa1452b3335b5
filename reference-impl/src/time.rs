//! Time as the sans-IO state machines see it: a `Duration` since the Unix epoch, given by the
//! caller with every input. Live drivers pass the system clock, the capture driver passes each
//! packet's capture timestamp, tests pass a virtual clock. FDT `Expires` is compared with it
//! (RFC 6726 §3.3), so a replayed capture behaves as it did when it was recorded.

use std::time::{Duration, SystemTime};

/// Time since the Unix epoch.
pub type Now = Duration;

pub use rmt_inspector::wire::fdt::{ntp_seconds, NTP_UNIX_OFFSET};

/// The wall clock as [`Now`].
pub fn wall_clock() -> Now {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The 64-bit NTP timestamp (seconds, fraction) of `now`, as EXT_TIME's SCT carries it
/// (RFC 5651 §5.2.2).
pub fn ntp_timestamp(now: Now) -> (u32, u32) {
    let frac = (u64::from(now.subsec_nanos()) << 32) / 1_000_000_000;
    (ntp_seconds(now) as u32, frac as u32)
}
