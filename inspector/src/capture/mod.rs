//! Capture input: whole-file loading (`load`) and a streaming reader over a memory-mapped file or
//! standard input (`reader`) that hands out packets without copying them; live capture (`live`)
//! through a TPACKET_V3 ring (`ring`) with kernel capture filters (`bpf`).

#[cfg(feature = "live")]
pub mod bpf;
#[cfg(feature = "live")]
pub mod live;
pub(crate) mod load;
pub mod reader;
#[cfg(feature = "live")]
pub mod ring;
pub mod writer;

pub use load::{parse_capture, read_capture, Capture, CaptureError, CapturedPacket};
