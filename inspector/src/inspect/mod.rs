//! The inspector's per-packet pipeline, shared by `rmt-inspect` and its tests: dissection with
//! flow selection, the field registry and display filter, output modes and statistics.

pub mod check;
pub mod dissect;
pub mod fields;
pub mod filter;
pub mod inspection;
pub(crate) mod json;
mod json_line;
pub mod output;
#[cfg(feature = "tables")]
pub mod stats;
pub mod tree;
