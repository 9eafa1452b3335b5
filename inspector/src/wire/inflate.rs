//! Capped decompression for FDT payloads (RFC 6726 §3.4.3: ZLIB RFC 1950, DEFLATE RFC 1951,
//! GZIP RFC 1952) and gzip'd FCAST metadata (RFC 6968 §2.1). The cap bounds memory: a few hundred
//! bytes of hostile input can otherwise inflate to gigabytes.

use std::io::Read;

use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};

use super::error::WireError;
use super::finding::FindingKind;

/// Default cap on an inflated FDT instance or FCAST metadata block (16 MiB).
pub const DEFAULT_MAX_INFLATED: usize = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zlib,
    Deflate,
    Gzip,
}

pub fn inflate(
    data: &[u8],
    how: Compression,
    max: usize,
    failed: &'static FindingKind,
    too_large: &'static FindingKind,
) -> Result<Vec<u8>, WireError> {
    let reader: Box<dyn Read + '_> = match how {
        Compression::Zlib => Box::new(ZlibDecoder::new(data)),
        Compression::Deflate => Box::new(DeflateDecoder::new(data)),
        Compression::Gzip => Box::new(GzDecoder::new(data)),
    };
    let mut out = Vec::new();
    let limit = max as u64 + 1;
    reader.take(limit).read_to_end(&mut out).map_err(|e| {
        WireError::of(
            failed,
            "payload",
            0,
            format!("{how:?} data does not inflate: {e}"),
        )
    })?;
    if out.len() > max {
        return Err(WireError::of(
            too_large,
            "payload",
            0,
            format!("inflates to more than the {max}-byte cap"),
        ));
    }
    Ok(out)
}
