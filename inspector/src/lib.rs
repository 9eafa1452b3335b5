//! rmt-inspector: understands every byte of LCT/ALC/FLUTE/FCAST/WEBRC traffic.
//!
//! Floors, each using only those above it in this list (see docs/architecture.md):
//! - [`registry`]: every finding and error ID with its severity, rule and summary;
//! - [`wire`]: lossless parsers and emitters for every header, with findings;
//! - [`fec`]: FEC block partitioning and the decoders of every scheme;
//! - [`capture`]: pcap/pcapng reading and writing, live capture (feature `live`);
//! - [`packet`]: a packet decoded as far as it goes, and its UDP flow;
//! - [`track`]: state across packets (sessions, WEBRC, object assembly, export);
//! - [`inspect`]: dissecting, the one [`Inspection`], output, filters, `-z` tables;
//! - `progress` (feature `cli`): progress bars on standard error when it is a terminal.
//!
//! The items most callers need are re-exported here.

pub mod capture;
#[cfg(feature = "cli")]
pub mod cli_docs;
pub mod fec;
pub mod inspect;
pub mod packet;
#[cfg(feature = "cli")]
pub mod progress;
pub mod registry;
pub mod track;
pub mod wire;

pub use capture::reader::{Packets, RawPacket, ReadError};
pub use inspect::check::{check_capture, check_capture_content, CaptureContent};
pub use inspect::dissect::{dissect, FlowSelector};
pub use inspect::inspection::{FindingCount, FindingCounts, Inspection, Observer};
pub use packet::{Dissected, Flow};
pub use track::assembler::{AssemblerConfig, FdtEvent, ObjectReport};
pub use wire::alc::{AlcContext, AlcPacket};
pub use wire::finding::{Decoded, Finding, FindingKind, Severity};
pub use wire::WireError;
