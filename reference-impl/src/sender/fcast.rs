//! FCAST packaging (RFC 6968 §2): Compound Objects for files and the CID's Object List.

use std::io::Write;

use base64::Engine;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use rmt_inspector::wire::checksum::internet_checksum_with_zeroed_field;
use rmt_inspector::wire::fcast::CompoundObject;

use crate::toi::forward_distance;

/// How a Compound Object is packaged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Packaging {
    /// G=1: the checksum covers the whole object, not only the header (RFC 6968 §2.1).
    pub global_checksum: bool,
    /// MDEnc=1: the metadata is gzip'd (RFC 6968 §2.1).
    pub gzip_metadata: bool,
    /// `Content-Encoding: gzip` on the object data (RFC 6968 §3.3).
    pub gzip_content: bool,
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}

/// A Compound Object: `metadata` lines (`TYPE: VALUE\r\n`), `data`, the C flag.
pub fn compound_object(metadata: &str, data: &[u8], is_cid: bool, p: Packaging) -> Vec<u8> {
    if !p.gzip_metadata {
        return CompoundObject::build(metadata, data, p.global_checksum, is_cid);
    }
    let md = gzip(metadata.as_bytes());
    let hl = 8 + md.len();
    let pad = if data.is_empty() { 0 } else { (4 - hl % 4) % 4 };
    let mut out = Vec::with_capacity(hl + pad + data.len());
    out.push((u8::from(p.global_checksum) << 1) | u8::from(is_cid));
    out.push(1); // MDFmt 0 (HTTP/1.1 metainformation), MDEnc 1 (gzip)
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(hl as u32).to_be_bytes());
    out.extend_from_slice(&md);
    out.resize(hl + pad, 0);
    out.extend_from_slice(data);
    let covered = if p.global_checksum {
        out.len()
    } else {
        hl + pad
    };
    let c = internet_checksum_with_zeroed_field(&out[..covered], 2);
    out[2..4].copy_from_slice(&c.to_be_bytes());
    out
}

/// A file's Compound Object with the RFC 6968 §3.3 metadata (location, type, length before
/// content encoding, SHA-256 digest of the content).
pub fn file_object(name: &str, content_type: &str, content: &[u8], p: Packaging) -> Vec<u8> {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(content));
    let mut md = format!(
        "Content-Location: {name}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nFcast-Obj-Digest-SHA256: {digest}\r\n",
        content.len()
    );
    if p.gzip_content {
        md.push_str("Content-Encoding: gzip\r\n");
        compound_object(&md, &gzip(content), false, p)
    } else {
        compound_object(&md, content, false, p)
    }
}

/// The Object List of a CID (RFC 6968 §2.2): TOIs in increasing order modulo 2^bits (runs as
/// intervals `a-b` with a < b), then the equivalences `(new=first/ciid)` in increasing new TOI.
pub fn object_list(tois: &[u128], equivalences: &[(u128, u128, u64)], bits: u32) -> String {
    // All active TOIs lie within half the TOI space (§3.6), so the oldest is the one after the
    // largest cyclic gap between them.
    let mut all: Vec<u128> = tois
        .iter()
        .chain(equivalences.iter().map(|e| &e.0))
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    let origin = (0..all.len())
        .max_by_key(|&i| {
            let prev = all[(i + all.len() - 1) % all.len()];
            let gap = forward_distance(prev, all[i], bits);
            if all.len() == 1 {
                u128::MAX
            } else {
                gap
            }
        })
        .map_or(0, |i| all[i]);
    let key = |t: &u128| forward_distance(origin, *t, bits);
    let mut sorted = tois.to_vec();
    sorted.sort_by_key(key);
    sorted.dedup();
    let mut items: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
            j += 1;
        }
        items.push(if j > i {
            format!("{}-{}", sorted[i], sorted[j])
        } else {
            sorted[i].to_string()
        });
        i = j + 1;
    }
    let mut eq = equivalences.to_vec();
    eq.sort_by_key(|e| key(&e.0));
    items.extend(eq.iter().map(|(n, f, c)| format!("({n}={f}/{c})")));
    items.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmt_inspector::wire::cid::CidObjectList;

    #[test]
    fn object_lists_follow_the_rfc_grammar_across_a_wrap() {
        assert_eq!(object_list(&[1, 2, 4, 5, 6], &[], 16), "1-2,4-6");
        let l = object_list(&[65_534, 65_535, 0, 1], &[(3, 10, 2)], 16);
        assert_eq!(l, "65534-65535,0-1,(3=10/2)");
        let parsed = CidObjectList::parse(l.as_bytes())
            .unwrap()
            .strict()
            .unwrap();
        assert_eq!(parsed.object_count, 5);
        assert_eq!(object_list(&[], &[], 16), "");
    }

    #[test]
    fn gzip_metadata_and_content_parse_back() {
        let p = Packaging {
            global_checksum: true,
            gzip_metadata: true,
            gzip_content: true,
        };
        let bytes = file_object("a.bin", "application/octet-stream", b"hello hello hello", p);
        let obj = CompoundObject::parse(&bytes).unwrap().strict().unwrap();
        assert_eq!(obj.header.mdenc, 1);
        assert_eq!(obj.header.get("Content-Encoding"), Some("gzip"));
        assert_eq!(obj.header.get("Content-Length"), Some("17"));
        assert_eq!(obj.computed_checksum, obj.header.checksum);
    }
}
