//! rmt-inspector: understands every byte of LCT/ALC/FLUTE/FCAST/WEBRC traffic.
//!
//! - [`wire`]: lossless parsers and emitters for every header, with findings.
//! - [`fec`]: FEC building blocks (block partitioning, the LDPC PRNG); the codecs come later.

pub mod capture;
pub mod fec;
pub mod inspect;
pub mod registry;
pub mod track;
pub mod wire;
