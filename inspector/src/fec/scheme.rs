//! From FEC OTI (EXT_FTI, RFC 5775 §4.2, or FDT attributes, RFC 6726 §3.4.2) to a codec: which
//! scheme, how the object splits into source blocks, and an encoder or decoder per block.
//! Block sizes are computed per block, so nothing is allocated from an untrusted transfer length.

use crate::wire::ext_fti::{FecOti, SchemeSpecificOti};
use crate::wire::fdt::{FdtFile, FdtInstance};

use super::codec::{BlockDecoder, BlockEncoder, FecError};
use super::ldpc::{encoding_symbols, LdpcDecoder, LdpcEncoder, LdpcVariant, ParityCheckMatrix};
use super::nocode::{NoCodeDecoder, NoCodeEncoder};
use super::partition::BlockPartition;
use super::raptor::{RaptorDecoder, RaptorEncoder, RaptorParams};
use super::raptorq::{RaptorQDecoder, RaptorQEncoder, RaptorQParams};
use super::reed_solomon::{RsDecoder, RsEncoder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    NoCode,
    ReedSolomon8,
    Ldpc {
        variant: LdpcVariant,
        n1: u8,
        seed: u32,
    },
    Raptor(RaptorParams),
    RaptorQ(RaptorQParams),
}

/// One source block: its number, source symbols, encoding symbols (n, when the scheme fixes
/// one) and byte range in the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub sbn: u32,
    pub k: u64,
    pub n: Option<u64>,
    pub offset: u64,
    pub length: u64,
}

/// An object's FEC parameters, checked to be usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FecObject {
    pub encoding_id: u8,
    pub codec: Codec,
    pub transfer_length: u64,
    pub symbol_length: u64,
    /// B (RFC 5052 §9.1) for the schemes that partition with it.
    pub max_source_block_length: u64,
    pub max_encoding_symbols: Option<u64>,
    /// Encoding symbols per packet announced by the OTI (LDPC G, RS G); decoders take packets
    /// with any number of symbols (`BlockDecoder::push_packet`).
    pub symbols_per_packet: u8,
}

fn unsupported<T>(why: impl Into<String>) -> Result<T, FecError> {
    Err(FecError::Unsupported(why.into()))
}

impl FecObject {
    pub fn from_oti(encoding_id: u8, oti: &FecOti) -> Result<Self, FecError> {
        let tl = oti.transfer_length();
        let e = u64::from(oti.encoding_symbol_length());
        let mut obj = FecObject {
            encoding_id,
            codec: Codec::NoCode,
            transfer_length: tl,
            symbol_length: e,
            max_source_block_length: oti.max_source_block_length().map_or(0, u64::from),
            max_encoding_symbols: None,
            symbols_per_packet: 1,
        };
        match (encoding_id, oti) {
            (0, FecOti::CompactNoCode { .. }) => {}
            (128 | 130, FecOti::UnderSpecified { instance_id: 0, .. }) => {}
            (128 | 130, FecOti::UnderSpecified { instance_id, .. }) => {
                return unsupported(format!("FEC Encoding ID {encoding_id} instance {instance_id}: only the no-code instance 0 is known"))
            }
            (1, FecOti::Raptor { transfer_length, symbol_size, source_blocks, sub_blocks, alignment, .. }) => {
                let p = RaptorParams { transfer_length: *transfer_length, symbol_size: *symbol_size, source_blocks: *source_blocks, sub_blocks: *sub_blocks, alignment: *alignment };
                p.validate()?;
                obj.codec = Codec::Raptor(p);
            }
            (2, FecOti::ReedSolomon { m, g, max_encoding_symbols, .. }) => {
                if *m != 8 {
                    return unsupported(format!("Reed-Solomon over GF(2^{m}): only m = 8 is implemented"));
                }
                obj.codec = Codec::ReedSolomon8;
                obj.max_encoding_symbols = Some(u64::from(*max_encoding_symbols));
                obj.symbols_per_packet = (*g).max(1);
            }
            (5, FecOti::ReedSolomonGf8 { max_encoding_symbols, .. }) => {
                obj.codec = Codec::ReedSolomon8;
                obj.max_encoding_symbols = Some(u64::from(*max_encoding_symbols));
            }
            (129, FecOti::SmallBlockSystematic { instance_id: 0, max_encoding_symbols, .. }) => {
                obj.codec = Codec::ReedSolomon8;
                obj.max_encoding_symbols = Some(u64::from(*max_encoding_symbols));
            }
            (129, FecOti::SmallBlockSystematic { instance_id, .. }) => {
                return unsupported(format!("FEC Encoding ID 129 instance {instance_id}: only instance 0 (RFC 5510 §7) is known"))
            }
            (3 | 4, FecOti::Ldpc { n1m3, g, max_encoding_symbols, prng_seed, .. }) => {
                let variant = if encoding_id == 3 { LdpcVariant::Staircase } else { LdpcVariant::Triangle };
                obj.codec = Codec::Ldpc { variant, n1: n1m3 + 3, seed: *prng_seed };
                obj.max_encoding_symbols = Some(u64::from(*max_encoding_symbols));
                obj.symbols_per_packet = (*g).max(1);
            }
            (6, FecOti::RaptorQ { transfer_length, symbol_size, source_blocks, sub_blocks, alignment, .. }) => {
                let p = RaptorQParams { transfer_length: *transfer_length, symbol_size: *symbol_size, source_blocks: *source_blocks, sub_blocks: *sub_blocks, alignment: *alignment };
                p.validate()?;
                obj.codec = Codec::RaptorQ(p);
            }
            (id, _) => return unsupported(format!("FEC Encoding ID {id} with an OTI of another scheme")),
        }
        if !matches!(obj.codec, Codec::RaptorQ(_) | Codec::Raptor(_))
            && (e == 0 || obj.max_source_block_length == 0)
        {
            return Err(FecError::InvalidParameters(format!(
                "E={e}, B={}: no block partition (RFC 5052 §9.1)",
                obj.max_source_block_length
            )));
        }
        Ok(obj)
    }

    /// The OTI a FLUTE FDT gives for one file (RFC 6726 §3.4.2, §5), instance defaults applied.
    pub fn oti_from_fdt(inst: &FdtInstance, file: &FdtFile) -> Result<(u8, FecOti), FecError> {
        let get = |f: fn(&crate::wire::fdt::FdtAttributes) -> Option<u64>| {
            f(&file.attributes).or(f(&inst.defaults))
        };
        let id = file
            .attributes
            .fec_encoding_id
            .or(inst.defaults.fec_encoding_id)
            .unwrap_or(0);
        let missing = |what: &str| {
            FecError::InvalidParameters(format!("the FDT gives no {what} for TOI {}", file.toi))
        };
        let tl = file
            .transfer_length
            .or(file.content_length)
            .ok_or_else(|| missing("Transfer-Length"))?;
        let e = get(|a| a.encoding_symbol_length)
            .ok_or_else(|| missing("FEC-OTI-Encoding-Symbol-Length"))?;
        let b = get(|a| a.max_source_block_length)
            .ok_or_else(|| missing("FEC-OTI-Maximum-Source-Block-Length"))?;
        let max_n = get(|a| a.max_encoding_symbols);
        let ssi = file
            .attributes
            .scheme_specific_info
            .as_ref()
            .or(inst.defaults.scheme_specific_info.as_ref());
        let instance_id = file
            .attributes
            .fec_instance_id
            .or(inst.defaults.fec_instance_id)
            .unwrap_or(0);
        let narrow = |v: u64, what: &str| {
            u16::try_from(v)
                .map_err(|_| FecError::InvalidParameters(format!("{what}={v} too large")))
        };
        let oti = match id {
            0 => FecOti::CompactNoCode {
                transfer_length: tl,
                reserved: 0,
                encoding_symbol_length: narrow(e, "E")?,
                max_source_block_length: b as u32,
            },
            128 | 130 => FecOti::UnderSpecified {
                transfer_length: tl,
                instance_id,
                encoding_symbol_length: narrow(e, "E")?,
                max_source_block_length: b as u32,
                scheme_specific: None,
            },
            2 => {
                // Scheme-specific info: m and G, one octet each, 0 = absent (RFC 5510 §4.2.4.2).
                let (m, g) = match ssi.map(Vec::as_slice) {
                    Some([m, g, ..]) => {
                        (if *m == 0 { 8 } else { *m }, if *g == 0 { 1 } else { *g })
                    }
                    _ => (8, 1),
                };
                FecOti::ReedSolomon {
                    transfer_length: tl,
                    m,
                    g,
                    encoding_symbol_length: narrow(e, "E")?,
                    max_source_block_length: narrow(b, "B")?,
                    max_encoding_symbols: narrow(max_n.ok_or_else(|| missing("max_n"))?, "max_n")?,
                }
            }
            5 => FecOti::ReedSolomonGf8 {
                transfer_length: tl,
                encoding_symbol_length: narrow(e, "E")?,
                max_source_block_length: b.min(255) as u8,
                max_encoding_symbols: max_n.ok_or_else(|| missing("max_n"))?.min(255) as u8,
            },
            129 => FecOti::SmallBlockSystematic {
                transfer_length: tl,
                instance_id,
                encoding_symbol_length: narrow(e, "E")?,
                max_source_block_length: narrow(b, "B")?,
                max_encoding_symbols: narrow(max_n.ok_or_else(|| missing("max_n"))?, "max_n")?,
                scheme_specific: None::<SchemeSpecificOti>,
            },
            3 | 4 => {
                // Scheme-specific info: seed (32) | N1m3 (3) | G (5) (RFC 5170 §4.2.4.2).
                let Some([s0, s1, s2, s3, ng, ..]) = ssi.map(Vec::as_slice) else {
                    return Err(missing("FEC-OTI-Scheme-Specific-Info (LDPC seed, N1m3, G)"));
                };
                FecOti::Ldpc {
                    transfer_length: tl,
                    encoding_symbol_length: narrow(e, "E")?,
                    n1m3: ng >> 5,
                    g: ng & 0x1F,
                    max_source_block_length: b as u32,
                    max_encoding_symbols: max_n.ok_or_else(|| missing("max_n"))? as u32,
                    prng_seed: u32::from_be_bytes([*s0, *s1, *s2, *s3]),
                }
            }
            other => return unsupported(format!("FEC Encoding ID {other} from FDT attributes")),
        };
        Ok((id, oti))
    }

    /// Number of source blocks.
    pub fn block_count(&self) -> u64 {
        match self.codec {
            Codec::RaptorQ(p) => u64::from(p.source_blocks),
            Codec::Raptor(p) => u64::from(p.source_blocks),
            _ => BlockPartition::new(
                self.transfer_length,
                self.symbol_length,
                self.max_source_block_length,
            )
            .map_or(0, |p| p.blocks),
        }
    }

    /// Block `sbn`, or `None` past the last one.
    pub fn block(&self, sbn: u32) -> Option<BlockInfo> {
        let e = self.symbol_length;
        let (k, offset) = match self.codec {
            Codec::RaptorQ(p) => {
                let sbn8 = u8::try_from(sbn).ok()?;
                let k = p.block_symbols(sbn8)?;
                let before: u64 = (0..sbn8).map(|b| p.block_symbols(b).unwrap_or(0)).sum();
                (k, before * e)
            }
            Codec::Raptor(p) => {
                let sbn16 = u16::try_from(sbn).ok()?;
                let k = p.block_symbols(sbn16)?;
                let before: u64 = (0..sbn16).map(|b| p.block_symbols(b).unwrap_or(0)).sum();
                (k, before * e)
            }
            _ => {
                let part =
                    BlockPartition::new(self.transfer_length, e, self.max_source_block_length)?;
                let sbn = u64::from(sbn);
                let k = part.block_symbols(sbn)?;
                let large = sbn.min(part.large_blocks);
                let before =
                    large * part.large_block_symbols + (sbn - large) * part.small_block_symbols;
                (k, before * e)
            }
        };
        let length = (k * e).min(self.transfer_length.saturating_sub(offset));
        let n = match (self.codec, self.max_encoding_symbols) {
            (Codec::NoCode, _) => Some(k),
            // n = floor(k * max_n / B) (RFC 5170 §5.5, RFC 5510 §6.2).
            (_, Some(max_n)) => Some(encoding_symbols(k, max_n, self.max_source_block_length)),
            _ => None,
        };
        Some(BlockInfo {
            sbn,
            k,
            n,
            offset,
            length,
        })
    }

    /// A decoder for block `sbn`. `k_override` is the Source Block Length an ID 129 packet
    /// carries (RFC 5445 §5.2.1), which wins over the partition (RFC 5510 §7 allows another one).
    pub fn decoder(
        &self,
        sbn: u32,
        k_override: Option<u64>,
    ) -> Result<Box<dyn BlockDecoder>, FecError> {
        let info = self.block(sbn).ok_or_else(|| {
            FecError::InvalidParameters(format!("SBN {sbn} is past the last block"))
        })?;
        let k = k_override.unwrap_or(info.k) as usize;
        let e = self.symbol_length as usize;
        Ok(match self.codec {
            Codec::NoCode => Box::new(NoCodeDecoder::new(k, e)?),
            Codec::ReedSolomon8 => Box::new(RsDecoder::new(k, e)?),
            Codec::Ldpc { variant, n1, seed } => {
                let n = info.n.unwrap_or(info.k) as usize;
                Box::new(LdpcDecoder::new(
                    ParityCheckMatrix::new(k, n, usize::from(n1), seed, variant)?,
                    e,
                )?)
            }
            Codec::RaptorQ(p) => Box::new(RaptorQDecoder::new(&p, sbn as u8)?),
            Codec::Raptor(p) => Box::new(RaptorDecoder::new(&p, sbn as u16)?),
        })
    }

    /// An encoder for block `sbn` given its source bytes.
    pub fn encoder<'a>(
        &self,
        sbn: u32,
        block: &'a [u8],
    ) -> Result<Box<dyn BlockEncoder + 'a>, FecError> {
        let info = self.block(sbn).ok_or_else(|| {
            FecError::InvalidParameters(format!("SBN {sbn} is past the last block"))
        })?;
        let (k, e) = (info.k as usize, self.symbol_length as usize);
        Ok(match self.codec {
            Codec::NoCode => Box::new(NoCodeEncoder::new(block, k, e)?),
            Codec::ReedSolomon8 => Box::new(RsEncoder::new(block, k, e)?),
            Codec::Ldpc { variant, n1, seed } => {
                let n = info.n.unwrap_or(info.k) as usize;
                let matrix = ParityCheckMatrix::new(k, n, usize::from(n1), seed, variant)?;
                Box::new(LdpcEncoder::new(block, &matrix, e)?)
            }
            Codec::RaptorQ(p) => Box::new(RaptorQEncoder::new(&p, sbn as u8, block)?),
            Codec::Raptor(p) => Box::new(RaptorEncoder::new(&p, sbn as u16, block)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_fdt(xml: &str) -> Result<FecObject, FecError> {
        let inst = FdtInstance::parse(xml.as_bytes()).unwrap().value;
        let (id, oti) = FecObject::oti_from_fdt(&inst, &inst.files[0])?;
        FecObject::from_oti(id, &oti)
    }

    #[test]
    fn ldpc_oti_from_fdt_attributes() {
        // Scheme-specific info = base64(seed 32 | N1m3 3 | G 5) (RFC 5170 §4.2.4.2): seed 1234, N1m3 4, G 1.
        let xml = r#"<FDT-Instance Expires="1"><File TOI="1" Content-Location="x" Transfer-Length="100000" FEC-OTI-FEC-Encoding-ID="3" FEC-OTI-Encoding-Symbol-Length="1000" FEC-OTI-Maximum-Source-Block-Length="100" FEC-OTI-Max-Number-of-Encoding-Symbols="150" FEC-OTI-Scheme-Specific-Info="AAAE0oE="/></FDT-Instance>"#;
        let f = from_fdt(xml).unwrap();
        assert_eq!(
            f.codec,
            Codec::Ldpc {
                variant: LdpcVariant::Staircase,
                n1: 7,
                seed: 1234
            }
        );
        assert_eq!(f.block(0).unwrap().n, Some(150));
        assert_eq!(f.block_count(), 1);
    }

    #[test]
    fn rs_oti_from_fdt_defaults_and_m() {
        // Instance-level defaults apply to the file (RFC 6726 §3.4.2); no scheme-specific info
        // means m = 8 (RFC 5510 §4.2.3).
        let xml = r#"<FDT-Instance Expires="1" FEC-OTI-FEC-Encoding-ID="2" FEC-OTI-Encoding-Symbol-Length="500" FEC-OTI-Maximum-Source-Block-Length="50" FEC-OTI-Max-Number-of-Encoding-Symbols="60"><File TOI="1" Content-Location="x" Content-Length="12345"/></FDT-Instance>"#;
        let f = from_fdt(xml).unwrap();
        assert_eq!(
            (f.encoding_id, f.codec, f.transfer_length),
            (2, Codec::ReedSolomon8, 12345)
        );
        // m = 16 in the scheme-specific info: not implemented, and said so.
        let xml16 = xml.replace(
            r#"FEC-OTI-Max-Number-of-Encoding-Symbols="60""#,
            r#"FEC-OTI-Max-Number-of-Encoding-Symbols="60" FEC-OTI-Scheme-Specific-Info="EAE=""#,
        );
        assert!(matches!(from_fdt(&xml16), Err(FecError::Unsupported(_))));
    }

    #[test]
    fn missing_attributes_are_named() {
        let xml = r#"<FDT-Instance Expires="1"><File TOI="1" Content-Location="x" Transfer-Length="10" FEC-OTI-FEC-Encoding-ID="3" FEC-OTI-Encoding-Symbol-Length="1" FEC-OTI-Maximum-Source-Block-Length="10" FEC-OTI-Max-Number-of-Encoding-Symbols="15"/></FDT-Instance>"#;
        let err = from_fdt(xml).unwrap_err().to_string();
        assert!(err.contains("Scheme-Specific-Info"), "{err}");
    }

    #[test]
    fn blocks_follow_rfc5052_partitioning() {
        let oti = FecOti::CompactNoCode {
            transfer_length: 20_400,
            reserved: 0,
            encoding_symbol_length: 1000,
            max_source_block_length: 8,
        };
        let f = FecObject::from_oti(0, &oti).unwrap();
        let blocks: Vec<BlockInfo> = (0..f.block_count() as u32)
            .map(|b| f.block(b).unwrap())
            .collect();
        assert_eq!(
            blocks
                .iter()
                .map(|b| (b.k, b.offset, b.length))
                .collect::<Vec<_>>(),
            vec![(7, 0, 7000), (7, 7000, 7000), (7, 14000, 6400)]
        );
        assert!(f.block(3).is_none());
    }
}
