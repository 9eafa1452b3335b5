//! The FCAST Compound Object (RFC 6968 §2.1): FCAST Header, optional padding, Object Data.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Ver |Resvd|G|C| MDFmt | MDEnc |           Checksum            |
//! |                      FCAST Header Length                      |
//! |               Object Metadata (variable length)               |
//! |                               |      Padding (optional)       |
//! .          Object Data (optional, variable length)              .
//! ```
//!
//! A CID (C=1, §2.2) carries the Object List as its Object Data; see [`super::cid`].

use crate::registry;
use crate::wire::finding::Finding;
use serde::Serialize;

use super::checksum::internet_checksum_with_zeroed_field;
use super::cid::CidObjectList;
use super::error::WireError;
use super::finding::{Decoded, Findings};
use super::inflate::{inflate, Compression, DEFAULT_MAX_INFLATED};
use super::reader::Reader;
use super::serde_hex;

const CHECKSUM_OFFSET: usize = 2;

/// One `TYPE: VALUE` metadata line (HTTP/1.1 metainformation format, MDFmt 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataEntry {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FcastHeader {
    pub version: u8,
    pub reserved: u8,
    /// G: the checksum covers the whole Compound Object (else the header only).
    pub global_checksum: bool,
    /// C: the object is a Carousel Instance Descriptor (CID; "CIO" in some write-ups).
    pub is_cid: bool,
    pub mdfmt: u8,
    pub mdenc: u8,
    pub checksum: u16,
    /// Bytes of all header fields, padding excluded; 8 means no metadata.
    pub header_length: u32,
    /// The metadata as sent (gzip'd when MDEnc=1).
    #[serde(skip)]
    pub metadata_wire: Vec<u8>,
    /// Decoded metadata lines, in order.
    pub metadata: Vec<MetadataEntry>,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub padding: Vec<u8>,
}

impl FcastHeader {
    /// The first metadata value of `name` (case-insensitive, as HTTP field names are).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .map(|e| e.value.as_str())
    }
}

/// The CID-specific view of a Compound Object with C=1 (RFC 6968 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cid {
    /// `Fcast-CID-Complete`: absent or any value other than "1" means not complete.
    pub complete: bool,
    /// `Fcast-CID-ID`, the Carousel Instance ID.
    pub ciid: Option<u64>,
    pub object_list: CidObjectList,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompoundObject {
    pub header: FcastHeader,
    /// The checksum recomputed over what G says it covers.
    pub computed_checksum: u16,
    #[serde(serialize_with = "serde_hex::bytes")]
    pub data: Vec<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<Cid>,
}

fn parse_metadata(text: &[u8], base: usize, f: &mut Findings) -> Vec<MetadataEntry> {
    let text = match std::str::from_utf8(text) {
        Ok(t) => t,
        Err(e) => {
            f.raise(
                &registry::fcast::METADATA_NOT_UTF8,
                "metadata",
                base + e.valid_up_to(),
                "metadata is not UTF-8",
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let (line, next, terminated) = match text[pos..].find("\r\n") {
            Some(i) => (&text[pos..pos + i], pos + i + 2, true),
            None => (&text[pos..], text.len(), false),
        };
        if !terminated || line.contains('\n') {
            f.raise(
                &registry::fcast::METADATA_LINE_ENDING,
                "metadata",
                base + pos,
                "metadata line not terminated by CR-LF",
            );
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => out
                .push(MetadataEntry {
                    name: name.to_string(),
                    value: value.trim_start_matches([' ', '\t']).trim_end().to_string(),
                }),
            _ => f.raise(
                &registry::fcast::METADATA_LINE_INVALID,
                "metadata",
                base + pos,
                format!("line {line:?} is not TYPE: VALUE"),
            ),
        }
        pos = next;
    }
    out
}

impl CompoundObject {
    /// Decodes a Compound Object from the whole transport object (a CID's wrap judged in the
    /// smallest TOI width that holds its TOIs: [`CompoundObject::parse_in`] takes the session's).
    pub fn parse(object: &[u8]) -> Result<Decoded<CompoundObject>, WireError> {
        Self::parse_in(object, None)
    }

    /// Decodes a Compound Object of a session whose TOI field is `toi_bits` wide.
    pub fn parse_in(
        object: &[u8],
        toi_bits: Option<u32>,
    ) -> Result<Decoded<CompoundObject>, WireError> {
        let mut f = Findings::default();
        let mut r = Reader::new(object, &registry::fcast::TRUNCATED);
        let b0 = r.u8("version")?;
        let b1 = r.u8("mdfmt")?;
        let checksum = r.u16("checksum")?;
        let header_length = r.u32("header_length")?;
        let version = b0 >> 5;
        let reserved = (b0 >> 2) & 7;
        if version != 0 {
            f.raise(
                &registry::fcast::VERSION_UNSUPPORTED,
                "version",
                0,
                format!("Version {version}, MUST be 0"),
            );
        }
        if reserved != 0 {
            f.raise(
                &registry::fcast::RESERVED_NONZERO,
                "reserved",
                0,
                format!("Reserved {reserved}, MUST be 0"),
            );
        }
        if header_length < 8 {
            return Err(WireError::of(
                &registry::fcast::HEADER_LENGTH_TOO_SMALL,
                "header_length",
                4,
                format!("Header Length {header_length} < 8"),
            ));
        }
        let hl = header_length as usize;
        if hl > object.len() {
            return Err(WireError::of(
                &registry::fcast::TRUNCATED,
                "header_length",
                4,
                format!(
                    "Header Length {header_length} > object length {}",
                    object.len()
                ),
            ));
        }
        let metadata_wire = object[8..hl].to_vec();
        // Padding exists only when Object Data follows (RFC 6968 §2.1).
        let pad_needed = if object.len() > hl {
            (4 - hl % 4) % 4
        } else {
            0
        };
        if object.len() - hl < pad_needed {
            return Err(WireError::of(
                &registry::fcast::PADDING_TRUNCATED,
                "padding",
                hl,
                format!(
                    "{pad_needed} padding bytes required before the Object Data, {} present",
                    object.len() - hl
                ),
            ));
        }
        let padding = object[hl..hl + pad_needed].to_vec();
        if padding.iter().any(|&b| b != 0) {
            f.raise(
                &registry::fcast::PADDING_NONZERO,
                "padding",
                hl,
                "padding bytes are not zero",
            );
        }
        let data = object[hl + pad_needed..].to_vec();
        let header = FcastHeader {
            version,
            reserved,
            global_checksum: b0 & 2 != 0,
            is_cid: b0 & 1 != 0,
            mdfmt: b1 >> 4,
            mdenc: b1 & 0xF,
            checksum,
            header_length,
            metadata_wire,
            metadata: Vec::new(),
            padding,
        };
        let covered = if header.global_checksum {
            object
        } else {
            &object[..hl + pad_needed]
        };
        let computed_checksum = internet_checksum_with_zeroed_field(covered, CHECKSUM_OFFSET);
        if computed_checksum != checksum {
            f.raise(
                &registry::fcast::CHECKSUM_BAD,
                "checksum",
                2,
                format!(
                    "Checksum {checksum:#06x}, computed {computed_checksum:#06x} over the {}",
                    if header.global_checksum {
                        "whole object (G=1)"
                    } else {
                        "header (G=0)"
                    }
                ),
            );
        }
        let mut obj = CompoundObject {
            header,
            computed_checksum,
            data,
            cid: None,
        };
        obj.decode_metadata(&mut f);
        obj.check_content_length(&mut f);
        if obj.header.is_cid {
            obj.cid = obj.decode_cid(pad_needed, toi_bits, &mut f);
        }
        Ok(Decoded::new(obj, f.list))
    }

    fn decode_metadata(&mut self, f: &mut Findings) {
        let h = &mut self.header;
        if h.mdfmt != 0 {
            f.raise(
                &registry::fcast::MDFMT_UNKNOWN,
                "mdfmt",
                1,
                format!("MDFmt {} is not registered; metadata not decoded", h.mdfmt),
            );
            return;
        }
        let inflated;
        let text: &[u8] = match h.mdenc {
            0 => &h.metadata_wire,
            1 => match inflate(
                &h.metadata_wire,
                Compression::Gzip,
                DEFAULT_MAX_INFLATED,
                &registry::fcast::METADATA_INFLATE_FAILED,
                &registry::fcast::METADATA_TOO_LARGE,
            ) {
                Ok(t) => {
                    inflated = t;
                    &inflated
                }
                Err(e) => {
                    f.push(Finding {
                        offset: 8,
                        ..e.into()
                    });
                    return;
                }
            },
            n => {
                f.raise(
                    &registry::fcast::MDENC_UNKNOWN,
                    "mdenc",
                    1,
                    format!("MDEnc {n} is not registered"),
                );
                return;
            }
        };
        h.metadata = parse_metadata(text, 8, f);
    }

    fn check_content_length(&self, f: &mut Findings) {
        let Some(cl) = self.header.get("Content-Length") else {
            return;
        };
        let Ok(cl) = cl.trim().parse::<u64>() else {
            f.raise(
                &registry::fcast::METADATA_CONTENT_LENGTH_INVALID,
                "Content-Length",
                8,
                format!("Content-Length {cl:?} is not a number"),
            );
            return;
        };
        // Content-Length is the size before FCAST's content encoding, so it is only comparable
        // with the Object Data when there is none.
        if self.header.get("Content-Encoding").is_none() && cl != self.data.len() as u64 {
            f.raise(
                &registry::fcast::CONTENT_LENGTH_MISMATCH,
                "Content-Length",
                8,
                format!(
                    "Content-Length {cl}, Object Data has {} bytes",
                    self.data.len()
                ),
            );
        }
    }

    fn decode_cid(&self, pad: usize, toi_bits: Option<u32>, f: &mut Findings) -> Option<Cid> {
        let complete = match self.header.get("Fcast-CID-Complete") {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                f.raise(&registry::fcast::CID_COMPLETE_INVALID, "Fcast-CID-Complete", 8, format!("Fcast-CID-Complete: {other:?}; only 0 and 1 are allowed (treated as not complete)"));
                false
            }
        };
        let ciid = match self.header.get("Fcast-CID-ID") {
            None => None,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    f.raise(
                        &registry::fcast::CID_ID_INVALID,
                        "Fcast-CID-ID",
                        8,
                        format!("Fcast-CID-ID {v:?} is not a number"),
                    );
                    None
                }
            },
        };
        if self.data.is_empty() && pad != 0 {
            f.raise(
                &registry::fcast::CID_EMPTY_LIST_PADDED,
                "padding",
                self.header.header_length as usize,
                "an empty Object List MUST NOT be padded",
            );
        }
        let list_start = self.header.header_length as usize + pad;
        let text = match self.header.get("Content-Encoding") {
            None => self.data.clone(),
            Some(enc) if enc.trim().eq_ignore_ascii_case("gzip") => {
                match inflate(
                    &self.data,
                    Compression::Gzip,
                    DEFAULT_MAX_INFLATED,
                    &registry::fcast::CID_INFLATE_FAILED,
                    &registry::fcast::CID_TOO_LARGE,
                ) {
                    Ok(t) => t,
                    Err(e) => {
                        f.push(Finding {
                            offset: list_start,
                            ..e.into()
                        });
                        return None;
                    }
                }
            }
            Some(enc) => {
                f.raise(
                    &registry::fcast::CONTENT_ENCODING_UNSUPPORTED,
                    "Content-Encoding",
                    8,
                    format!("Content-Encoding {enc:?}: Object List not decoded"),
                );
                return None;
            }
        };
        match CidObjectList::parse_in(&text, toi_bits) {
            Ok(d) => {
                f.extend_at(list_start, d.findings);
                Some(Cid {
                    complete,
                    ciid,
                    object_list: d.value,
                })
            }
            Err(e) => {
                f.push(e.at(list_start).into());
                None
            }
        }
    }

    /// Writes the object as recorded (metadata and padding as on the wire).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let h = &self.header;
        out.push(
            (h.version << 5)
                | ((h.reserved & 7) << 2)
                | (u8::from(h.global_checksum) << 1)
                | u8::from(h.is_cid),
        );
        out.push((h.mdfmt << 4) | (h.mdenc & 0xF));
        out.extend_from_slice(&h.checksum.to_be_bytes());
        out.extend_from_slice(&h.header_length.to_be_bytes());
        out.extend_from_slice(&h.metadata_wire);
        out.extend_from_slice(&h.padding);
        out.extend_from_slice(&self.data);
    }

    /// Builds a well-formed Compound Object (for senders and tests): Header Length, padding and
    /// checksum are computed. `metadata` is UTF-8 text of `TYPE: VALUE\r\n` lines.
    pub fn build(metadata: &str, data: &[u8], global_checksum: bool, is_cid: bool) -> Vec<u8> {
        let hl = 8 + metadata.len();
        let pad = if data.is_empty() { 0 } else { (4 - hl % 4) % 4 };
        let mut out = Vec::with_capacity(hl + pad + data.len());
        out.push((u8::from(global_checksum) << 1) | u8::from(is_cid));
        out.push(0);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(hl as u32).to_be_bytes());
        out.extend_from_slice(metadata.as_bytes());
        out.resize(hl + pad, 0);
        out.extend_from_slice(data);
        let covered = if global_checksum { out.len() } else { hl + pad };
        let c = internet_checksum_with_zeroed_field(&out[..covered], CHECKSUM_OFFSET);
        out[2..4].copy_from_slice(&c.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A1_METADATA: &str = "Content-Location: example_1.txt\r\n";

    #[test]
    fn build_gives_the_rfc_a1_layout_and_a_verifying_checksum() {
        for g in [true, false] {
            let bytes = CompoundObject::build(A1_METADATA, b"payload", g, false);
            // 8 + 33 = 41 bytes of header, 3 bytes of padding, then the data (RFC 6968 App. A.1).
            assert_eq!(&bytes[4..8], &41u32.to_be_bytes());
            assert_eq!(&bytes[41..44], &[0, 0, 0]);
            assert_eq!(&bytes[44..], b"payload");
            let obj = CompoundObject::parse(&bytes).unwrap().strict().unwrap();
            assert_eq!(obj.header.global_checksum, g);
            assert_eq!(obj.computed_checksum, obj.header.checksum);
            assert_eq!(obj.header.get("content-location"), Some("example_1.txt"));
        }
    }

    #[test]
    fn global_checksum_covers_the_data_and_header_checksum_does_not() {
        let mut g1 = CompoundObject::build(A1_METADATA, b"payload", true, false);
        let last = g1.len() - 1;
        g1[last] ^= 0x40;
        assert!(CompoundObject::parse(&g1)
            .unwrap()
            .has("fcast.checksum.bad"));
        let mut g0 = CompoundObject::build(A1_METADATA, b"payload", false, false);
        g0[last] ^= 0x40;
        assert!(!CompoundObject::parse(&g0)
            .unwrap()
            .has("fcast.checksum.bad"));
    }

    #[test]
    fn empty_cid_has_no_padding() {
        let bytes = CompoundObject::build("Fcast-CID-ID: 4\r\n", b"", true, true);
        assert_eq!(bytes.len(), 8 + 17);
        let obj = CompoundObject::parse(&bytes).unwrap().strict().unwrap();
        let cid = obj.cid.unwrap();
        assert_eq!((cid.ciid, cid.object_list.object_count), (Some(4), 0));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// A Compound Object (G=1, C=0) whose metadata is `metadata_wire` sent with MDEnc=1 (gzip).
    fn with_gzip_metadata(metadata_wire: &[u8]) -> Vec<u8> {
        let hl = 8 + metadata_wire.len();
        let mut out = vec![0x02, 0x01, 0, 0];
        out.extend_from_slice(&(hl as u32).to_be_bytes());
        out.extend_from_slice(metadata_wire);
        let c = internet_checksum_with_zeroed_field(&out, CHECKSUM_OFFSET);
        out[2..4].copy_from_slice(&c.to_be_bytes());
        out
    }

    #[test]
    fn gzip_metadata_inflating_past_the_cap_is_too_large() {
        let bomb = gzip(&vec![0u8; DEFAULT_MAX_INFLATED + 1]);
        let d = CompoundObject::parse(&with_gzip_metadata(&bomb)).unwrap();
        let ids: Vec<_> = d.findings.iter().map(|f| f.id).collect();
        assert_eq!(ids, [registry::fcast::METADATA_TOO_LARGE.id]);
        assert_eq!(d.findings[0].offset, 8);
        assert!(d.value.header.metadata.is_empty());
        // Small gzip'd metadata inflates and decodes.
        let d = CompoundObject::parse(&with_gzip_metadata(&gzip(A1_METADATA.as_bytes()))).unwrap();
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(
            d.value.header.get("Content-Location"),
            Some("example_1.txt")
        );
    }

    #[test]
    fn a_gzip_cid_object_list_inflating_past_the_cap_is_too_large() {
        let metadata = "Fcast-CID-ID: 4\r\nContent-Encoding: gzip\r\n";
        let bomb = gzip(&vec![0u8; DEFAULT_MAX_INFLATED + 1]);
        let d = CompoundObject::parse(&CompoundObject::build(metadata, &bomb, true, true)).unwrap();
        let ids: Vec<_> = d.findings.iter().map(|f| f.id).collect();
        assert_eq!(ids, [registry::fcast::CID_TOO_LARGE.id]);
        assert!(d.value.cid.is_none());
        // A small gzip'd Object List inflates and decodes.
        let list = gzip(b"1,5-7");
        let d = CompoundObject::parse(&CompoundObject::build(metadata, &list, true, true)).unwrap();
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(d.value.cid.unwrap().object_list.object_count, 4);
    }
}
