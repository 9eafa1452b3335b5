//! Thin drivers around the sans-IO state machines: capture files and UDP sockets move the
//! datagrams; the output folder keeps what the receiver delivers.

pub mod capture;
pub mod options;
pub mod output;
#[cfg(feature = "drivers")]
pub mod udp;
#[cfg(feature = "drivers")]
pub mod webrc;
