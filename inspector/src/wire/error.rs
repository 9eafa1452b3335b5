//! Positioned parse errors: every error names the field, the byte offset and the RFC rule,
//! in the spirit of etherparse's layered errors.

use serde::Serialize;

use super::finding::FindingKind;

/// A fatal decoding error: the bytes cannot be read as the header they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{id}: field `{field}` at byte {offset}: {detail} ({rule})")]
pub struct WireError {
    /// Stable identifier, e.g. `lct.truncated` or `lct.hdr_len.too_small`.
    pub id: &'static str,
    /// The header field that could not be read.
    pub field: &'static str,
    /// Byte offset of the field from the start of the input handed to the parser.
    pub offset: usize,
    /// The RFC rule that defines the field, e.g. `RFC 5651 §5.1`.
    pub rule: &'static str,
    /// What was wrong, with the numbers involved.
    pub detail: String,
}

impl WireError {
    /// Raises the registry entry `kind` at `field` as a fatal error: the header cannot be read
    /// further, whatever the entry's severity as a finding (`fec.encoding_id.unknown` is a
    /// warning where an opaque payload can be skipped, an error where EXT_FTI cannot be read).
    pub fn of(
        kind: &'static FindingKind,
        field: &'static str,
        offset: usize,
        detail: impl Into<String>,
    ) -> Self {
        super::finding::Finding::of(kind, field, offset, detail).into_error()
    }

    /// Cites a more precise rule than the registry's (see [`super::finding::Finding::citing`]).
    pub fn citing(mut self, rule: &'static str) -> Self {
        self.rule = rule;
        self
    }

    /// Shifts the offset when an inner parser ran on a sub-slice.
    pub fn at(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }
}
