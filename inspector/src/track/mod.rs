//! State across packets: object assembly from FEC symbols, FDT instances, FCAST objects, the
//! WEBRC schedule of a sender.

pub mod assembler;
pub mod byte_ranges;
pub mod export;
pub mod fdt_description;
pub(crate) mod incarnation;
pub mod object;
pub(crate) mod object_log;
pub mod route_assembly;
pub mod route_repair;
pub mod route_signalling;
pub(crate) mod session;
pub mod toi_window;
pub(crate) mod webrc;

/// The keys of the entries idle for longer than `idle` at `now` (capture time), by each entry's
/// last packet time: what a tracker abandons.
pub(crate) fn idle_keys<K: Copy, V>(
    map: &std::collections::BTreeMap<K, V>,
    last: impl Fn(&V) -> std::time::Duration,
    now: std::time::Duration,
    idle: std::time::Duration,
) -> Vec<K> {
    map.iter()
        .filter(|(_, v)| now.saturating_sub(last(v)) > idle)
        .map(|(k, _)| *k)
        .collect()
}
