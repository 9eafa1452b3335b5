//! EXT_FTI (HET 64, RFC 5775 §4.2): the encoded FEC Object Transmission Information of the FEC
//! scheme, laid out as each scheme defines it. Which layout applies depends on the FEC Encoding ID,
//! known from the codepoint (FLUTE, RFC 6726 §5) or the session description.
//!
//! Layouts after HET and HEL (sizes in bits):
//! - ID 0   (RFC 5445 §3.2.2.2): TL 48 | Reserved 16 | E 16 | B 32                       (HEL 4)
//! - ID 1   (RFC 5053 §3.2):     TL 48 | Reserved 16 | T 16 | Z 16 | N 8 | Al 8           (HEL 4)
//! - ID 2   (RFC 5510 §4.2.4.1): TL 48 | m 8 | G 8 | E 16 | B 16 | max_n 16               (HEL 4)
//! - ID 3,4 (RFC 5170 §4.2.4.1): TL 48 | E 16 | N1m3 3 | G 5 | B 20 | max_n 20 | seed 32  (HEL 5)
//! - ID 5   (RFC 5510 §5.2.4.1): TL 48 | E 16 | B 8 | max_n 8                              (HEL 3)
//! - ID 6   (RFC 6330 §3.3):     F 40 | Reserved 8 | T 16 | Z 8 | N 16 | Al 8 (12 octets; RFC 6330
//!   defines no EXT_FTI, HEL 4 with two trailing zero octets is what senders use)
//! - ID 128, 130 (RFC 5445 §4.2.2, §6.2.2): TL 48 | Instance ID 16 | E 16 | B 32 [| scheme-specific]
//! - ID 129 (RFC 5445 §5.2.2):   TL 48 | Instance ID 16 | E 16 | B 16 | max_n 16 [| scheme-specific]

use crate::registry;
use crate::wire::finding::Finding;
use serde::Serialize;

use super::error::WireError;
use super::finding::{Decoded, Findings};
use super::lct::HET_FTI;
use super::reader::{check_width, put_uint, Reader};
use super::serde_hex;

const RULE: &str = "RFC 5775 §4.2";
/// RFC 6330 §3.3.2: F <= 56403 * 65535 * 256.
pub const RAPTORQ_MAX_TRANSFER_LENGTH: u64 = 946_270_874_880;
/// RFC 6330 §4.4.1.2 (K'_max).
pub const RAPTORQ_MAX_SOURCE_SYMBOLS: u64 = 56_403;
/// RFC 5053 §5.3.1.2 (K_max).
pub const RAPTOR_MAX_SOURCE_SYMBOLS: u64 = 8_192;

/// The Under-Specified schemes' optional scheme-specific part (RFC 5445 §4.2.2.3): `Length` in
/// 4-octet words including itself; 0 means none and is followed by three zero octets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeSpecificOti {
    pub length: u8,
    /// The instance-specific octets (or the three padding octets when `length` is 0).
    #[serde(serialize_with = "serde_hex::bytes")]
    pub info: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum FecOti {
    /// ID 0.
    CompactNoCode {
        transfer_length: u64,
        reserved: u16,
        encoding_symbol_length: u16,
        max_source_block_length: u32,
    },
    /// ID 1.
    Raptor {
        transfer_length: u64,
        reserved: u16,
        symbol_size: u16,
        source_blocks: u16,
        sub_blocks: u8,
        alignment: u8,
    },
    /// ID 2.
    ReedSolomon {
        transfer_length: u64,
        m: u8,
        g: u8,
        encoding_symbol_length: u16,
        max_source_block_length: u16,
        max_encoding_symbols: u16,
    },
    /// IDs 3 and 4.
    Ldpc {
        transfer_length: u64,
        encoding_symbol_length: u16,
        n1m3: u8,
        g: u8,
        max_source_block_length: u32,
        max_encoding_symbols: u32,
        prng_seed: u32,
    },
    /// ID 5.
    ReedSolomonGf8 {
        transfer_length: u64,
        encoding_symbol_length: u16,
        max_source_block_length: u8,
        max_encoding_symbols: u8,
    },
    /// ID 6.
    RaptorQ {
        transfer_length: u64,
        reserved: u8,
        symbol_size: u16,
        source_blocks: u8,
        sub_blocks: u16,
        alignment: u8,
    },
    /// IDs 128 and 130.
    UnderSpecified {
        transfer_length: u64,
        instance_id: u16,
        encoding_symbol_length: u16,
        max_source_block_length: u32,
        scheme_specific: Option<SchemeSpecificOti>,
    },
    /// ID 129 (instance 0 is Reed-Solomon per RFC 5510 §7; the Instance ID is 16 bits).
    SmallBlockSystematic {
        transfer_length: u64,
        instance_id: u16,
        encoding_symbol_length: u16,
        max_source_block_length: u16,
        max_encoding_symbols: u16,
        scheme_specific: Option<SchemeSpecificOti>,
    },
}

impl FecOti {
    pub fn transfer_length(&self) -> u64 {
        match *self {
            FecOti::CompactNoCode {
                transfer_length, ..
            }
            | FecOti::Raptor {
                transfer_length, ..
            }
            | FecOti::ReedSolomon {
                transfer_length, ..
            }
            | FecOti::Ldpc {
                transfer_length, ..
            }
            | FecOti::ReedSolomonGf8 {
                transfer_length, ..
            }
            | FecOti::RaptorQ {
                transfer_length, ..
            }
            | FecOti::UnderSpecified {
                transfer_length, ..
            }
            | FecOti::SmallBlockSystematic {
                transfer_length, ..
            } => transfer_length,
        }
    }

    /// E (or T, the symbol size, for Raptor and RaptorQ).
    pub fn encoding_symbol_length(&self) -> u16 {
        match *self {
            FecOti::CompactNoCode {
                encoding_symbol_length,
                ..
            }
            | FecOti::ReedSolomon {
                encoding_symbol_length,
                ..
            }
            | FecOti::Ldpc {
                encoding_symbol_length,
                ..
            }
            | FecOti::ReedSolomonGf8 {
                encoding_symbol_length,
                ..
            }
            | FecOti::UnderSpecified {
                encoding_symbol_length,
                ..
            }
            | FecOti::SmallBlockSystematic {
                encoding_symbol_length,
                ..
            } => encoding_symbol_length,
            FecOti::Raptor { symbol_size, .. } | FecOti::RaptorQ { symbol_size, .. } => symbol_size,
        }
    }

    /// B, where the scheme has one (Raptor and RaptorQ derive their blocks from Z instead).
    pub fn max_source_block_length(&self) -> Option<u32> {
        match *self {
            FecOti::CompactNoCode {
                max_source_block_length,
                ..
            }
            | FecOti::Ldpc {
                max_source_block_length,
                ..
            }
            | FecOti::UnderSpecified {
                max_source_block_length,
                ..
            } => Some(max_source_block_length),
            FecOti::ReedSolomon {
                max_source_block_length,
                ..
            }
            | FecOti::SmallBlockSystematic {
                max_source_block_length,
                ..
            } => Some(u32::from(max_source_block_length)),
            FecOti::ReedSolomonGf8 {
                max_source_block_length,
                ..
            } => Some(u32::from(max_source_block_length)),
            FecOti::Raptor { .. } | FecOti::RaptorQ { .. } => None,
        }
    }
}

/// A decoded EXT_FTI: HEL, the scheme's OTI, and any octets after it (padding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtFti {
    pub encoding_id: u8,
    pub hel: u8,
    pub oti: FecOti,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub trailing: Vec<u8>,
}

fn scheme_specific(
    r: &mut Reader<'_>,
    f: &mut Findings,
) -> Result<Option<SchemeSpecificOti>, WireError> {
    if r.remaining() == 0 {
        return Ok(None);
    }
    r.set_rule("RFC 5445 §4.2.2.3");
    let at = r.offset();
    let length = r.u8("scheme_specific.length")?;
    let n = if length == 0 {
        3
    } else {
        4 * usize::from(length) - 1
    };
    let info = r.bytes("scheme_specific.info", n)?.to_vec();
    if length == 0 && info.iter().any(|&b| b != 0) {
        f.raise(
            &registry::fec::OTI_SCHEME_SPECIFIC_PADDING_NONZERO,
            "scheme_specific.info",
            at + 1,
            "Length 0 SHALL be followed by three zero octets",
        );
    }
    Ok(Some(SchemeSpecificOti { length, info }))
}

impl ExtFti {
    /// Parses a whole EXT_FTI extension (HET, HEL, content) for `encoding_id`.
    pub fn parse(ext: &[u8], encoding_id: u8) -> Result<Decoded<ExtFti>, WireError> {
        let mut r = Reader::new(ext, &registry::fec::OTI_TRUNCATED);
        let het = r.u8("het")?;
        if het != HET_FTI {
            return Err(WireError::of(
                &registry::fec::OTI_NOT_EXT_FTI,
                "het",
                0,
                format!("HET {het}, EXT_FTI is 64"),
            ));
        }
        let hel = r.u8("hel")?;
        let len = 4 * usize::from(hel);
        if hel == 0 || len > ext.len() {
            return Err(WireError::of(
                &registry::fec::OTI_TRUNCATED,
                "hel",
                1,
                format!("HEL={hel} ({len} bytes), {} bytes present", ext.len()),
            ));
        }
        Self::parse_content(&ext[2..len], hel, encoding_id, 2)
    }

    /// Parses the content after HET and HEL; `base` is its offset for findings.
    pub fn parse_content(
        content: &[u8],
        hel: u8,
        encoding_id: u8,
        base: usize,
    ) -> Result<Decoded<ExtFti>, WireError> {
        let mut f = Findings::default();
        let mut r = Reader::new(content, &registry::fec::OTI_TRUNCATED).with_base(base);
        let tl48 = |r: &mut Reader<'_>| r.uint("transfer_length", 6).map(|v| v as u64);
        let oti = match encoding_id {
            0 => {
                r.set_rule("RFC 5445 §3.2.2.2");
                let transfer_length = tl48(&mut r)?;
                let at = r.offset();
                let reserved = r.u16("reserved")?;
                if reserved != 0 {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_RESERVED_NONZERO,
                            "reserved",
                            at,
                            format!("Reserved = {reserved:#06x}, MUST be 0"),
                        )
                        .citing("RFC 5445 §3.2.2.2"),
                    );
                }
                FecOti::CompactNoCode {
                    transfer_length,
                    reserved,
                    encoding_symbol_length: r.u16("encoding_symbol_length")?,
                    max_source_block_length: r.u32("max_source_block_length")?,
                }
            }
            1 => {
                r.set_rule("RFC 5053 §3.2");
                let transfer_length = tl48(&mut r)?;
                let reserved = r.u16("reserved")?;
                let symbol_size = r.u16("symbol_size")?;
                let source_blocks = r.u16("source_blocks")?;
                let sub_blocks = r.u8("sub_blocks")?;
                let alignment = r.u8("alignment")?;
                if transfer_length >= 1 << 45 {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_TRANSFER_LENGTH_TOO_LARGE,
                            "transfer_length",
                            base,
                            format!("{transfer_length} >= 2^45"),
                        )
                        .citing("RFC 5053 §3.2.1"),
                    );
                }
                check_alignment(&mut f, symbol_size, alignment, base + 8, "RFC 5053 §3.2.1");
                check_blocks(
                    &mut f,
                    transfer_length,
                    symbol_size,
                    u64::from(source_blocks),
                    RAPTOR_MAX_SOURCE_SYMBOLS,
                    base + 10,
                    "RFC 5053 §5.3.1.2",
                );
                FecOti::Raptor {
                    transfer_length,
                    reserved,
                    symbol_size,
                    source_blocks,
                    sub_blocks,
                    alignment,
                }
            }
            2 => {
                r.set_rule("RFC 5510 §4.2.4.1");
                let transfer_length = tl48(&mut r)?;
                let at = r.offset();
                let m = r.u8("m")?;
                let g = r.u8("g")?;
                let encoding_symbol_length = r.u16("encoding_symbol_length")?;
                let max_source_block_length = r.u16("max_source_block_length")?;
                let max_encoding_symbols = r.u16("max_encoding_symbols")?;
                if !(2..=16).contains(&m) {
                    f.raise(
                        &registry::fec::OTI_RS_M_INVALID,
                        "m",
                        at,
                        format!("m={m}, must be 2..16"),
                    );
                } else if u32::from(max_encoding_symbols) > (1u32 << m) - 1 {
                    f.raise(
                        &registry::fec::OTI_MAX_N_TOO_LARGE,
                        "max_encoding_symbols",
                        at + 6,
                        format!("max_n={max_encoding_symbols} > 2^{m}-1"),
                    );
                }
                if max_source_block_length > max_encoding_symbols {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_B_EXCEEDS_MAX_N,
                            "max_source_block_length",
                            at + 4,
                            format!("B={max_source_block_length} > max_n={max_encoding_symbols}"),
                        )
                        .citing("RFC 5510 §4.2.2"),
                    );
                }
                FecOti::ReedSolomon {
                    transfer_length,
                    m,
                    g,
                    encoding_symbol_length,
                    max_source_block_length,
                    max_encoding_symbols,
                }
            }
            3 | 4 => {
                r.set_rule("RFC 5170 §4.2.4.1");
                let transfer_length = tl48(&mut r)?;
                let encoding_symbol_length = r.u16("encoding_symbol_length")?;
                let at = r.offset();
                let n1m3_g = r.u8("n1m3_g")?;
                // B is split: 8 MSB in this word, 12 LSB in the next (RFC 5170 §4.2.4.1).
                let b_max_n = r.uint("max_source_block_length", 5)?;
                let prng_seed = r.u32("prng_seed")?;
                let n1m3 = n1m3_g >> 5;
                let g = n1m3_g & 0x1F;
                let max_source_block_length = (b_max_n >> 20) as u32;
                let max_encoding_symbols = (b_max_n & 0xF_FFFF) as u32;
                if g == 0 {
                    f.raise(
                        &registry::fec::OTI_LDPC_G_INVALID,
                        "g",
                        at,
                        "G=0, must be 1..31",
                    );
                }
                if prng_seed == 0 || prng_seed > 0x7FFF_FFFE {
                    f.raise(
                        &registry::fec::OTI_LDPC_SEED_INVALID,
                        "prng_seed",
                        at + 6,
                        format!("seed {prng_seed} outside 1..2^31-2"),
                    );
                }
                if max_source_block_length > max_encoding_symbols {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_B_EXCEEDS_MAX_N,
                            "max_source_block_length",
                            at,
                            format!("B={max_source_block_length} > max_n={max_encoding_symbols}"),
                        )
                        .citing("RFC 5170 §4.2.2"),
                    );
                }
                FecOti::Ldpc {
                    transfer_length,
                    encoding_symbol_length,
                    n1m3,
                    g,
                    max_source_block_length,
                    max_encoding_symbols,
                    prng_seed,
                }
            }
            5 => {
                r.set_rule("RFC 5510 §5.2.4.1");
                let transfer_length = tl48(&mut r)?;
                let encoding_symbol_length = r.u16("encoding_symbol_length")?;
                let at = r.offset();
                let max_source_block_length = r.u8("max_source_block_length")?;
                let max_encoding_symbols = r.u8("max_encoding_symbols")?;
                if max_source_block_length > max_encoding_symbols {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_B_EXCEEDS_MAX_N,
                            "max_source_block_length",
                            at,
                            format!("B={max_source_block_length} > max_n={max_encoding_symbols}"),
                        )
                        .citing("RFC 5510 §5.2.2"),
                    );
                }
                FecOti::ReedSolomonGf8 {
                    transfer_length,
                    encoding_symbol_length,
                    max_source_block_length,
                    max_encoding_symbols,
                }
            }
            6 => {
                r.set_rule("RFC 6330 §3.3");
                let transfer_length = r.uint("transfer_length", 5)? as u64;
                let at = r.offset();
                let reserved = r.u8("reserved")?;
                let symbol_size = r.u16("symbol_size")?;
                let source_blocks = r.u8("source_blocks")?;
                let sub_blocks = r.u16("sub_blocks")?;
                let alignment = r.u8("alignment")?;
                if reserved != 0 {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_RESERVED_NONZERO,
                            "reserved",
                            at,
                            format!("Reserved = {reserved:#04x}"),
                        )
                        .citing("RFC 6330 §3.3.2"),
                    );
                }
                if transfer_length > RAPTORQ_MAX_TRANSFER_LENGTH {
                    f.push(
                        Finding::of(
                            &registry::fec::OTI_TRANSFER_LENGTH_TOO_LARGE,
                            "transfer_length",
                            base,
                            format!("F={transfer_length} > {RAPTORQ_MAX_TRANSFER_LENGTH}"),
                        )
                        .citing("RFC 6330 §3.3.2"),
                    );
                }
                check_alignment(&mut f, symbol_size, alignment, at + 1, "RFC 6330 §3.3.2");
                check_blocks(
                    &mut f,
                    transfer_length,
                    symbol_size,
                    u64::from(source_blocks),
                    RAPTORQ_MAX_SOURCE_SYMBOLS,
                    at + 3,
                    "RFC 6330 §4.4.1.2",
                );
                if hel != 4 {
                    f.raise(&registry::fec::OTI_RAPTORQ_FTI_UNSPECIFIED, "hel", base.saturating_sub(1), format!("RFC 6330 gives no EXT_FTI layout; HEL={hel} differs from the usual 4 (12 octets + 2 zero octets)"));
                }
                FecOti::RaptorQ {
                    transfer_length,
                    reserved,
                    symbol_size,
                    source_blocks,
                    sub_blocks,
                    alignment,
                }
            }
            128 | 130 => {
                r.set_rule("RFC 5445 §4.2.2");
                let transfer_length = tl48(&mut r)?;
                let instance_id = r.u16("instance_id")?;
                let encoding_symbol_length = r.u16("encoding_symbol_length")?;
                let max_source_block_length = r.u32("max_source_block_length")?;
                let scheme_specific = scheme_specific(&mut r, &mut f)?;
                FecOti::UnderSpecified {
                    transfer_length,
                    instance_id,
                    encoding_symbol_length,
                    max_source_block_length,
                    scheme_specific,
                }
            }
            129 => {
                r.set_rule("RFC 5445 §5.2.2");
                let transfer_length = tl48(&mut r)?;
                let instance_id = r.u16("instance_id")?;
                let encoding_symbol_length = r.u16("encoding_symbol_length")?;
                let max_source_block_length = r.u16("max_source_block_length")?;
                let max_encoding_symbols = r.u16("max_encoding_symbols")?;
                let scheme_specific = scheme_specific(&mut r, &mut f)?;
                FecOti::SmallBlockSystematic {
                    transfer_length,
                    instance_id,
                    encoding_symbol_length,
                    max_source_block_length,
                    max_encoding_symbols,
                    scheme_specific,
                }
            }
            other => {
                return Err(WireError::of(
                    &registry::fec::ENCODING_ID_UNKNOWN,
                    "fec_encoding_id",
                    base,
                    format!("no EXT_FTI layout known for FEC Encoding ID {other}"),
                ))
            }
        };
        let trailing = r.rest().to_vec();
        if trailing.iter().any(|&b| b != 0) {
            f.raise(
                &registry::fec::OTI_TRAILING_NONZERO,
                "trailing",
                r.offset(),
                format!(
                    "{} octet(s) after the OTI are not zero padding",
                    trailing.len()
                ),
            );
        }
        Ok(Decoded::new(
            ExtFti {
                encoding_id,
                hel,
                oti,
                trailing,
            },
            f.list,
        ))
    }

    /// Writes the whole extension: HET, HEL as recorded, the OTI, the trailing octets.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.push(HET_FTI);
        out.push(self.hel);
        self.emit_content(out)
    }

    pub fn emit_content(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let tl48 = |out: &mut Vec<u8>, v: u64| -> Result<(), WireError> {
            put_uint(
                out,
                check_width(u128::from(v), 48, "transfer_length", RULE)?,
                6,
            );
            Ok(())
        };
        let ss = |out: &mut Vec<u8>, s: &Option<SchemeSpecificOti>| {
            if let Some(s) = s {
                out.push(s.length);
                out.extend_from_slice(&s.info);
            }
        };
        match &self.oti {
            FecOti::CompactNoCode {
                transfer_length,
                reserved,
                encoding_symbol_length,
                max_source_block_length,
            } => {
                tl48(out, *transfer_length)?;
                out.extend_from_slice(&reserved.to_be_bytes());
                out.extend_from_slice(&encoding_symbol_length.to_be_bytes());
                out.extend_from_slice(&max_source_block_length.to_be_bytes());
            }
            FecOti::Raptor {
                transfer_length,
                reserved,
                symbol_size,
                source_blocks,
                sub_blocks,
                alignment,
            } => {
                tl48(out, *transfer_length)?;
                out.extend_from_slice(&reserved.to_be_bytes());
                out.extend_from_slice(&symbol_size.to_be_bytes());
                out.extend_from_slice(&source_blocks.to_be_bytes());
                out.push(*sub_blocks);
                out.push(*alignment);
            }
            FecOti::ReedSolomon {
                transfer_length,
                m,
                g,
                encoding_symbol_length,
                max_source_block_length,
                max_encoding_symbols,
            } => {
                tl48(out, *transfer_length)?;
                out.push(*m);
                out.push(*g);
                out.extend_from_slice(&encoding_symbol_length.to_be_bytes());
                out.extend_from_slice(&max_source_block_length.to_be_bytes());
                out.extend_from_slice(&max_encoding_symbols.to_be_bytes());
            }
            FecOti::Ldpc {
                transfer_length,
                encoding_symbol_length,
                n1m3,
                g,
                max_source_block_length,
                max_encoding_symbols,
                prng_seed,
            } => {
                tl48(out, *transfer_length)?;
                out.extend_from_slice(&encoding_symbol_length.to_be_bytes());
                let n1m3 = check_width(u128::from(*n1m3), 3, "n1m3", "RFC 5170 §4.2.4.1")? as u8;
                let g = check_width(u128::from(*g), 5, "g", "RFC 5170 §4.2.4.1")? as u8;
                out.push((n1m3 << 5) | g);
                let b = check_width(
                    u128::from(*max_source_block_length),
                    20,
                    "max_source_block_length",
                    "RFC 5170 §4.2.4.1",
                )?;
                let n = check_width(
                    u128::from(*max_encoding_symbols),
                    20,
                    "max_encoding_symbols",
                    "RFC 5170 §4.2.4.1",
                )?;
                put_uint(out, (b << 20) | n, 5);
                out.extend_from_slice(&prng_seed.to_be_bytes());
            }
            FecOti::ReedSolomonGf8 {
                transfer_length,
                encoding_symbol_length,
                max_source_block_length,
                max_encoding_symbols,
            } => {
                tl48(out, *transfer_length)?;
                out.extend_from_slice(&encoding_symbol_length.to_be_bytes());
                out.push(*max_source_block_length);
                out.push(*max_encoding_symbols);
            }
            FecOti::RaptorQ {
                transfer_length,
                reserved,
                symbol_size,
                source_blocks,
                sub_blocks,
                alignment,
            } => {
                put_uint(
                    out,
                    check_width(
                        u128::from(*transfer_length),
                        40,
                        "transfer_length",
                        "RFC 6330 §3.3.2",
                    )?,
                    5,
                );
                out.push(*reserved);
                out.extend_from_slice(&symbol_size.to_be_bytes());
                out.push(*source_blocks);
                out.extend_from_slice(&sub_blocks.to_be_bytes());
                out.push(*alignment);
            }
            FecOti::UnderSpecified {
                transfer_length,
                instance_id,
                encoding_symbol_length,
                max_source_block_length,
                scheme_specific,
            } => {
                tl48(out, *transfer_length)?;
                out.extend_from_slice(&instance_id.to_be_bytes());
                out.extend_from_slice(&encoding_symbol_length.to_be_bytes());
                out.extend_from_slice(&max_source_block_length.to_be_bytes());
                ss(out, scheme_specific);
            }
            FecOti::SmallBlockSystematic {
                transfer_length,
                instance_id,
                encoding_symbol_length,
                max_source_block_length,
                max_encoding_symbols,
                scheme_specific,
            } => {
                tl48(out, *transfer_length)?;
                out.extend_from_slice(&instance_id.to_be_bytes());
                out.extend_from_slice(&encoding_symbol_length.to_be_bytes());
                out.extend_from_slice(&max_source_block_length.to_be_bytes());
                out.extend_from_slice(&max_encoding_symbols.to_be_bytes());
                ss(out, scheme_specific);
            }
        }
        out.extend_from_slice(&self.trailing);
        Ok(())
    }
}

fn check_alignment(
    f: &mut Findings,
    symbol_size: u16,
    alignment: u8,
    at: usize,
    rule: &'static str,
) {
    if alignment == 0 || !symbol_size.is_multiple_of(u16::from(alignment)) {
        f.push(
            Finding::of(
                &registry::fec::OTI_SYMBOL_SIZE_NOT_ALIGNED,
                "alignment",
                at,
                format!("T={symbol_size} is not a multiple of Al={alignment}"),
            )
            .citing(rule),
        );
    }
}

/// Raptor/RaptorQ: Z >= 1 and ceil(ceil(F/T)/Z) <= the scheme's K limit.
#[allow(clippy::too_many_arguments)]
fn check_blocks(
    f: &mut Findings,
    transfer_length: u64,
    symbol_size: u16,
    z: u64,
    k_max: u64,
    at: usize,
    rule: &'static str,
) {
    if z == 0 {
        f.push(
            Finding::of(
                &registry::fec::OTI_SOURCE_BLOCKS_ZERO,
                "source_blocks",
                at,
                "Z=0: no source block",
            )
            .citing(rule),
        );
        return;
    }
    if symbol_size == 0 {
        f.push(
            Finding::of(
                &registry::fec::OTI_SYMBOL_SIZE_ZERO,
                "symbol_size",
                at,
                "T=0",
            )
            .citing(rule),
        );
        return;
    }
    let kt = transfer_length.div_ceil(u64::from(symbol_size));
    let per_block = kt.div_ceil(z);
    if per_block > k_max {
        f.push(
            Finding::of(
                &registry::fec::OTI_TOO_MANY_SOURCE_SYMBOLS,
                "source_blocks",
                at,
                format!("ceil(ceil(F/T)/Z) = {per_block} > {k_max}"),
            )
            .citing(rule),
        );
    }
}
