//! Positioned parse errors: every error names the field, the byte offset and the RFC rule,
//! in the spirit of etherparse's layered errors.

use serde::Serialize;

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
    pub fn new(
        id: &'static str,
        field: &'static str,
        offset: usize,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        WireError {
            id,
            field,
            offset,
            rule,
            detail: detail.into(),
        }
    }

    /// Shifts the offset when an inner parser ran on a sub-slice.
    pub fn at(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }
}
