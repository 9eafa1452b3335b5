//! A bounded big-endian reader built on nom 8's *complete* parsers (never `Incomplete`: a short
//! datagram is an error, not a request for more input). Each read names its field, so a failure
//! becomes a [`WireError`] with the field, the byte offset and the RFC rule.

use crate::registry;
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::Parser;

use super::error::WireError;
use super::finding::FindingKind;

type NomErr<'a> = nom::error::Error<&'a [u8]>;

pub(crate) struct Reader<'a> {
    input: &'a [u8],
    rest: &'a [u8],
    base: usize,
    truncated: &'static FindingKind,
    rule: &'static str,
}

impl<'a> Reader<'a> {
    /// `truncated` is the entry raised when the input ends early (e.g. `lct.truncated`).
    pub fn new(input: &'a [u8], truncated: &'static FindingKind) -> Self {
        Reader {
            input,
            rest: input,
            base: 0,
            truncated,
            rule: truncated.rule,
        }
    }

    /// Offsets reported in errors start at `base` (the position of `input` in the outer buffer).
    pub fn with_base(mut self, base: usize) -> Self {
        self.base = base;
        self
    }

    pub fn offset(&self) -> usize {
        self.base + self.input.len() - self.rest.len()
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub fn set_rule(&mut self, rule: &'static str) {
        self.rule = rule;
    }

    #[inline]
    fn run<O>(
        &mut self,
        field: &'static str,
        needed: usize,
        mut parser: impl Parser<&'a [u8], Output = O, Error = NomErr<'a>>,
    ) -> Result<O, WireError> {
        match parser.parse(self.rest) {
            Ok((rest, out)) => {
                self.rest = rest;
                Ok(out)
            }
            Err(_) => Err(self.truncated(field, needed)),
        }
    }

    /// The error of a read past the end, kept out of line: reads are on every packet's hot
    /// path, and errors are rare.
    #[cold]
    #[inline(never)]
    fn truncated(&self, field: &'static str, needed: usize) -> WireError {
        WireError::of(
            self.truncated,
            field,
            self.offset(),
            format!("needs {needed} byte(s), {} left", self.rest.len()),
        )
        .citing(self.rule)
    }

    #[inline]
    pub fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        self.run(field, 1, be_u8)
    }

    #[inline]
    pub fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        self.run(field, 2, be_u16)
    }

    #[inline]
    pub fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        self.run(field, 4, be_u32)
    }

    /// An unsigned big-endian integer of `n` bytes (n <= 16), e.g. 3 for 24-bit fields, 6 for 48.
    #[inline]
    pub fn uint(&mut self, field: &'static str, n: usize) -> Result<u128, WireError> {
        debug_assert!(n <= 16);
        let bytes = self.bytes(field, n)?;
        // TSI and TOI fields are mostly 4 bytes: one load instead of a byte loop.
        if let Ok(word) = <[u8; 4]>::try_from(bytes) {
            return Ok(u128::from(u32::from_be_bytes(word)));
        }
        Ok(bytes
            .iter()
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b)))
    }

    #[inline]
    pub fn bytes(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], WireError> {
        self.run(field, n, take(n))
    }
}

/// Appends the low `n` bytes of `value`, big-endian.
pub(crate) fn put_uint(out: &mut Vec<u8>, value: u128, n: usize) {
    for i in (0..n).rev() {
        out.push((value >> (8 * i)) as u8);
    }
}

/// Returns `value` if it fits in `bits` bits, else an emit error naming the field.
pub(crate) fn check_width(
    value: u128,
    bits: u32,
    field: &'static str,
    rule: &'static str,
) -> Result<u128, WireError> {
    if bits < 128 && value >> bits != 0 {
        Err(WireError::of(
            &registry::emit::VALUE_TOO_LARGE,
            field,
            0,
            format!("{value} does not fit in {bits} bits"),
        )
        .citing(rule))
    } else {
        Ok(value)
    }
}
