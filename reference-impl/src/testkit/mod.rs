//! Test and lab infrastructure, not protocol logic: network namespaces for the lab, the
//! multicast transport of `rmt-conform` and the root tests (`netns`), and the framed datagram
//! format of the receiver fuzz target and its regression replays (`framed`).

pub mod framed;
#[cfg(feature = "drivers")]
pub mod netns;
