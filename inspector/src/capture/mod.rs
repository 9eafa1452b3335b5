//! Capture input: whole-file loading (`load`) and a streaming reader over a memory-mapped file or
//! standard input (`reader`) that hands out packets without copying them.

#[cfg(feature = "live")]
pub mod live;
pub(crate) mod load;
pub mod reader;
pub mod writer;

pub use load::{parse_capture, read_capture, Capture, CaptureError, CapturedPacket};
