//! EXT_AUTH (HET 1, RFC 5651 §5.2): the content format is set out of band. RFC 6584 defines the
//! layouts used in practice (§3.1, §4.1, §5.1, §6.1): `ASID(4) | rsvd(3) | AR(1)` then an anti-replay
//! Sequence Number of 8 bits (AR=0, MUST be 0) or 40 bits (AR=1), then the signature and/or MAC.
//! The split between signature and MAC depends on the out-of-band scheme, so it is kept as one
//! `authentication_data` field. Content that does not fit the RFC 6584 layout is kept raw.

use crate::registry;
use serde::Serialize;

use super::finding::Findings;
use super::serde_hex;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum ExtAuth {
    Rfc6584 {
        asid: u8,
        reserved: u8,
        anti_replay: bool,
        sequence_number: u64,
        #[serde(serialize_with = "serde_hex::bytes")]
        authentication_data: Vec<u8>,
    },
    /// Content that cannot follow RFC 6584 (too short for the announced sequence number).
    Opaque {
        #[serde(serialize_with = "serde_hex::bytes")]
        content: Vec<u8>,
    },
}

impl ExtAuth {
    pub(crate) fn parse(body: &[u8], base: usize, f: &mut Findings) -> Self {
        let Some(&flags) = body.first() else {
            return ExtAuth::Opaque {
                content: Vec::new(),
            };
        };
        let asid = flags >> 4;
        let reserved = (flags >> 1) & 0x7;
        let anti_replay = flags & 1 == 1;
        let sn_len = if anti_replay { 5 } else { 1 };
        if body.len() < 1 + sn_len {
            f.raise(
                &registry::lct::EXT_AUTH_TOO_SHORT,
                "sequence_number",
                base + 1,
                format!(
                    "AR={} needs a {}-bit sequence number, {} byte(s) left",
                    u8::from(anti_replay),
                    sn_len * 8,
                    body.len() - 1
                ),
            );
            return ExtAuth::Opaque {
                content: body.to_vec(),
            };
        }
        let sequence_number = body[1..1 + sn_len]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        if reserved != 0 {
            f.raise(
                &registry::lct::EXT_AUTH_RESERVED_SET,
                "reserved",
                base,
                format!("rsvd = {reserved}, MUST be 0"),
            );
        }
        if !anti_replay && sequence_number != 0 {
            f.raise(
                &registry::lct::EXT_AUTH_SN_NONZERO,
                "sequence_number",
                base + 1,
                "with AR=0 the 8-bit SN MUST be 0",
            );
        }
        ExtAuth::Rfc6584 {
            asid,
            reserved,
            anti_replay,
            sequence_number,
            authentication_data: body[1 + sn_len..].to_vec(),
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            ExtAuth::Rfc6584 {
                asid,
                reserved,
                anti_replay,
                sequence_number,
                authentication_data,
            } => {
                out.push((asid << 4) | ((reserved & 7) << 1) | u8::from(*anti_replay));
                let n = if *anti_replay { 5 } else { 1 };
                super::reader::put_uint(out, u128::from(*sequence_number), n);
                out.extend_from_slice(authentication_data);
            }
            ExtAuth::Opaque { content } => out.extend_from_slice(content),
        }
    }
}
