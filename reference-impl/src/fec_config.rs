//! The sender's FEC choice: a scheme, a symbol length, a maximum block and a repair ratio, turned
//! into the FEC OTI of each object (RFC 5052 §4.1) and, where FLUTE can carry it, the FDT
//! attributes (RFC 6726 §3.4.2).

use std::str::FromStr;

use rmt_inspector::fec::codec::FecError;
use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::wire::ext_fti::FecOti;
use rmt_inspector::wire::fdt::FdtAttributes;
use rmt_inspector::wire::fec_payload_id::PayloadIdLayout;

/// Largest n of the GF(2^8) Reed-Solomon codes (RFC 5510 §8.1: n <= 2^m - 1).
const RS8_MAX_N: u64 = 255;
/// RaptorQ blocks are cut at this many source symbols (RFC 6330 allows 56403).
const RAPTORQ_BLOCK_SYMBOLS: u64 = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct FecConfig {
    /// FEC Encoding ID: 0, 2 (m=8), 3, 4, 5, 6 or 129 (instance 0).
    pub encoding_id: u8,
    /// E, bytes per encoding symbol (one symbol per packet).
    pub symbol_length: u16,
    /// B, source symbols per block at most (RFC 5052 §9.1).
    pub max_source_block_length: u32,
    /// Repair symbols sent per source symbol (LDPC at code rate 2/3 is 0.5).
    pub repair_ratio: f64,
    /// LDPC: N1 (RFC 5170 §5.3) and the PRNG seed.
    pub ldpc_n1: u8,
    pub ldpc_seed: u32,
}

impl Default for FecConfig {
    fn default() -> Self {
        FecConfig {
            encoding_id: 0,
            symbol_length: 1400,
            max_source_block_length: 64,
            repair_ratio: 0.0,
            ldpc_n1: 3,
            ldpc_seed: 1,
        }
    }
}

/// One configuration of every scheme the sender speaks, as `--fec` takes them: for tests and
/// examples that go through all of them.
pub const EVERY_SCHEME: &[&str] = &[
    "nocode",
    "rs",
    "rs2",
    "rs129",
    "ldpc:2/3",
    "ldpc-triangle",
    "raptorq",
];

impl FromStr for FecConfig {
    type Err = String;

    /// `nocode`, `rs` (ID 5), `rs2` (ID 2, m=8), `rs129`, `ldpc` (ID 3), `ldpc-triangle` (ID 4),
    /// `raptorq` (ID 6), optionally followed by `:RATE` as a code rate `k/n` (e.g. `ldpc:2/3`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, rate) = match s.split_once(':') {
            Some((n, r)) => (n, Some(r)),
            None => (s, None),
        };
        let mut c = FecConfig::default();
        let default_rate;
        (c.encoding_id, c.max_source_block_length, default_rate) = match name {
            "nocode" | "0" => (0, 64, None),
            "rs" | "5" => (5, 200, Some((4, 5))),
            "rs2" | "2" => (2, 200, Some((4, 5))),
            "rs129" | "129" => (129, 200, Some((4, 5))),
            "ldpc" | "3" => (3, 1000, Some((2, 3))),
            "ldpc-triangle" | "4" => (4, 1000, Some((2, 3))),
            "raptorq" | "6" => (6, RAPTORQ_BLOCK_SYMBOLS as u32, Some((4, 5))),
            other => return Err(format!("unknown FEC scheme {other:?} (nocode, rs, rs2, rs129, ldpc, ldpc-triangle, raptorq)")),
        };
        let rate = match (rate, default_rate) {
            (Some(r), _) => {
                let (k, n) = r
                    .split_once('/')
                    .and_then(|(k, n)| Some((k.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
                    .filter(|(k, n)| *k > 0 && n >= k)
                    .ok_or_else(|| format!("code rate {r:?} is not k/n with 0 < k <= n"))?;
                Some((k, n))
            }
            (None, d) => d,
        };
        if let Some((k, n)) = rate {
            if c.encoding_id == 0 && n != k {
                return Err("no-code FEC sends no repair symbols".into());
            }
            c.repair_ratio = f64::from(n - k) / f64::from(k);
        }
        if c.encoding_id == 6 {
            c.symbol_length = 1400; // a multiple of the alignment (4)
        }
        Ok(c)
    }
}

impl FecConfig {
    /// Repair symbols to send for a block of `k` source symbols and `n` encoding symbols.
    pub fn repair_count(&self, k: u64, n: Option<u64>) -> u64 {
        let want = (k as f64 * self.repair_ratio).ceil() as u64;
        match n {
            Some(n) => want.min(n.saturating_sub(k)),
            None => want,
        }
    }

    /// B and max_n for the block codes, so that n stays within the code's limit.
    fn block_code_sizes(&self, limit: u64) -> (u64, u64) {
        let b = u64::from(self.max_source_block_length).max(1);
        let per_k = 1.0 + self.repair_ratio;
        let b = b.min((limit as f64 / per_k).floor().max(1.0) as u64);
        let max_n = ((b as f64 * per_k).ceil() as u64).clamp(b, limit);
        (b, max_n)
    }

    /// The OTI for an object of `transfer_length` bytes.
    pub fn oti(&self, transfer_length: u64) -> Result<FecOti, FecError> {
        let e = self.symbol_length;
        let oti = match self.encoding_id {
            0 => FecOti::CompactNoCode {
                transfer_length,
                reserved: 0,
                encoding_symbol_length: e,
                max_source_block_length: self.max_source_block_length,
            },
            2 => {
                let (b, n) = self.block_code_sizes(RS8_MAX_N);
                FecOti::ReedSolomon {
                    transfer_length,
                    m: 8,
                    g: 1,
                    encoding_symbol_length: e,
                    max_source_block_length: b as u16,
                    max_encoding_symbols: n as u16,
                }
            }
            5 => {
                let (b, n) = self.block_code_sizes(RS8_MAX_N);
                FecOti::ReedSolomonGf8 {
                    transfer_length,
                    encoding_symbol_length: e,
                    max_source_block_length: b as u8,
                    max_encoding_symbols: n as u8,
                }
            }
            129 => {
                let (b, n) = self.block_code_sizes(RS8_MAX_N);
                FecOti::SmallBlockSystematic {
                    transfer_length,
                    instance_id: 0,
                    encoding_symbol_length: e,
                    max_source_block_length: b as u16,
                    max_encoding_symbols: n as u16,
                    scheme_specific: None,
                }
            }
            3 | 4 => {
                // B no larger than the object, so that n - k >= N1 holds for a small object's
                // one block too (n = floor(k * max_n / B), RFC 5170 §5.5; N1 <= n - k, §6.2).
                let kt = transfer_length.div_ceil(u64::from(e.max(1))).max(1);
                let limited = FecConfig {
                    max_source_block_length: (u64::from(self.max_source_block_length).min(kt))
                        as u32,
                    ..self.clone()
                };
                let (b, n) = limited.block_code_sizes(u64::from(u32::MAX));
                // A one-symbol block has no parity matrix (§6.2 needs two ones per row):
                // it is sent without repair, and the carousel repeats it.
                let n = if b == 1 {
                    1
                } else {
                    n.max(b + u64::from(self.ldpc_n1))
                };
                FecOti::Ldpc {
                    transfer_length,
                    encoding_symbol_length: e,
                    n1m3: self.ldpc_n1.saturating_sub(3),
                    g: 1,
                    max_source_block_length: b as u32,
                    max_encoding_symbols: n as u32,
                    prng_seed: self.ldpc_seed,
                }
            }
            6 => {
                let kt = transfer_length.div_ceil(u64::from(e)).max(1);
                let block = u64::from(self.max_source_block_length).clamp(1, 56_403);
                let z = kt.div_ceil(block).min(255) as u8;
                FecOti::RaptorQ {
                    transfer_length,
                    reserved: 0,
                    symbol_size: e,
                    source_blocks: z.max(1),
                    sub_blocks: 1,
                    alignment: 4,
                }
            }
            other => {
                return Err(FecError::Unsupported(format!(
                    "the sender does not encode FEC Encoding ID {other}"
                )))
            }
        };
        let fec = FecObject::from_oti(self.encoding_id, &oti)?;
        // The FEC Payload ID must be able to carry every SBN and ESI the object needs.
        let layout = PayloadIdLayout::for_scheme(self.encoding_id, None)
            .map_err(|e| FecError::Unsupported(e.to_string()))?;
        let blocks = fec.block_count();
        let max_n = (0..blocks.min(2) as u32)
            .filter_map(|sbn| fec.block(sbn))
            .map(|b| b.k + self.repair_count(b.k, b.n))
            .max()
            .unwrap_or(0);
        if blocks > 1u64 << layout.sbn_bits.min(63) || max_n > 1u64 << layout.esi_bits.min(63) {
            return Err(FecError::InvalidParameters(format!(
                "{transfer_length} bytes need {blocks} blocks of up to {max_n} symbols: more than \
                 the FEC Payload ID of ID {} carries ({} SBN bits, {} ESI bits; {}); use a larger \
                 symbol or block",
                self.encoding_id, layout.sbn_bits, layout.esi_bits, layout.rule
            )));
        }
        Ok(oti)
    }
}

/// The FDT attributes that carry `oti` (RFC 6726 §3.4.2), or `None` when FLUTE's FDT has no
/// attribute for the scheme (RaptorQ: the OTI goes in EXT_FTI only).
pub fn fdt_attributes(encoding_id: u8, oti: &FecOti) -> Option<FdtAttributes> {
    let mut a = FdtAttributes {
        fec_encoding_id: Some(encoding_id),
        encoding_symbol_length: Some(u64::from(oti.encoding_symbol_length())),
        max_source_block_length: oti.max_source_block_length().map(u64::from),
        ..Default::default()
    };
    match *oti {
        FecOti::CompactNoCode { .. } => {}
        FecOti::ReedSolomon {
            m,
            g,
            max_encoding_symbols,
            ..
        } => {
            a.max_encoding_symbols = Some(u64::from(max_encoding_symbols));
            a.scheme_specific_info = Some(vec![m, g]);
        }
        FecOti::ReedSolomonGf8 {
            max_encoding_symbols,
            ..
        } => a.max_encoding_symbols = Some(u64::from(max_encoding_symbols)),
        FecOti::SmallBlockSystematic {
            instance_id,
            max_encoding_symbols,
            ..
        } => {
            a.fec_instance_id = Some(instance_id);
            a.max_encoding_symbols = Some(u64::from(max_encoding_symbols));
        }
        FecOti::Ldpc {
            n1m3,
            g,
            max_encoding_symbols,
            prng_seed,
            ..
        } => {
            a.max_encoding_symbols = Some(u64::from(max_encoding_symbols));
            let mut ssi = prng_seed.to_be_bytes().to_vec();
            ssi.push((n1m3 << 5) | (g & 0x1F));
            a.scheme_specific_info = Some(ssi);
        }
        _ => return None,
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmt_inspector::wire::fdt::{FdtFile, FdtInstance, FdtNamespace};

    #[test]
    fn every_scheme_gives_a_usable_oti_and_the_fdt_round_trips_it() {
        for name in EVERY_SCHEME {
            let c: FecConfig = name.parse().unwrap();
            let oti = c.oti(1_000_000).unwrap();
            let fec = FecObject::from_oti(c.encoding_id, &oti).unwrap();
            assert_eq!(fec.transfer_length, 1_000_000, "{name}");
            let Some(attrs) = fdt_attributes(c.encoding_id, &oti) else {
                assert_eq!(c.encoding_id, 6);
                continue;
            };
            let inst = FdtInstance {
                namespace: FdtNamespace::FluteV2,
                expires: Some(1),
                complete: None,
                defaults: Default::default(),
                files: vec![FdtFile {
                    toi: 1,
                    content_location: "x".into(),
                    content_length: Some(1_000_000),
                    transfer_length: Some(1_000_000),
                    content_md5: None,
                    attributes: attrs,
                    other_attributes: vec![],
                    child_elements: vec![],
                }],
                other_attributes: vec![],
                child_elements: vec![],
            };
            let (id, back) = FecObject::oti_from_fdt(&inst, &inst.files[0]).unwrap();
            assert_eq!((id, back), (c.encoding_id, oti), "{name}");
        }
    }

    #[test]
    fn ldpc_small_objects_get_enough_parity_rows() {
        let c: FecConfig = "ldpc:2/3".parse().unwrap();
        for len in [1u64, 1400, 2000, 3000, 5000, 1_400_000, 1_401_401] {
            let fec = FecObject::from_oti(3, &c.oti(len).unwrap()).unwrap();
            for sbn in 0..fec.block_count() as u32 {
                let b = fec.block(sbn).unwrap();
                if b.k > 1 {
                    assert!(
                        b.n.unwrap() >= b.k + 3,
                        "{len} bytes, block {sbn}: k={} n={:?}",
                        b.k,
                        b.n
                    );
                }
                let data = vec![0u8; b.length as usize];
                fec.encoder(sbn, &data).unwrap();
            }
        }
    }

    #[test]
    fn an_object_too_large_for_the_payload_id_is_refused_not_a_panic_later() {
        // No-code: 16-bit SBN; 64 symbols of 1400 bytes per block: at most 65,536 blocks.
        let c: FecConfig = "nocode".parse().unwrap();
        assert!(c.oti(65_536 * 64 * 1400).is_ok());
        let e = c.oti(65_536 * 64 * 1400 + 1).unwrap_err().to_string();
        assert!(e.contains("SBN bits"), "{e}");
    }

    #[test]
    fn block_codes_stay_within_n_255_and_rate_parses() {
        let c: FecConfig = "rs:1/2".parse().unwrap();
        assert_eq!(c.repair_ratio, 1.0);
        let FecOti::ReedSolomonGf8 {
            max_source_block_length,
            max_encoding_symbols,
            ..
        } = c.oti(10).unwrap()
        else {
            panic!()
        };
        assert_eq!((max_source_block_length, max_encoding_symbols), (127, 254));
        assert!("ldpc:3/2".parse::<FecConfig>().is_err());
        assert!("nocode:1/2".parse::<FecConfig>().is_err());
        assert!("turbo".parse::<FecConfig>().is_err());
    }
}
