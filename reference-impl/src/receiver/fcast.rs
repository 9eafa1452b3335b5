//! FCAST on the receiving side (RFC 6968 §2, §3.5, §3.8): Compound Objects checked and
//! unpacked, and the CID state that says which objects make up the current Carousel Instance.

use base64::Engine;
use sha2::{Digest, Sha256};

use rmt_inspector::wire::cid::CidObjectList;
use rmt_inspector::wire::fcast::CompoundObject;
use rmt_inspector::wire::Severity;

/// An ordinary object, unpacked.
#[derive(Debug, Clone)]
pub struct FcastFile {
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// A CID, unpacked.
#[derive(Debug, Clone)]
pub struct FcastCid {
    pub ciid: Option<u64>,
    pub complete: bool,
    pub list: CidObjectList,
}

#[derive(Debug, Clone)]
pub enum Unpacked {
    File(FcastFile),
    Cid(FcastCid),
}

/// Which integrity checks [`unpack`] makes: all of them, except in the suite's mutants.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// The FCAST checksum (RFC 6968 §2.1).
    pub checksum: bool,
    /// Fcast-Obj-Digest-SHA256 (RFC 6968 §3.3).
    pub digest: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Checks {
            checksum: true,
            digest: true,
        }
    }
}

/// Checks and unpacks a complete Compound Object. The error says why the object is rejected
/// (with the RFC rule), as a receiver must not deliver an object that fails its checksum.
pub fn unpack(object: &[u8], max_inflated: usize, checks: Checks) -> Result<Unpacked, String> {
    let d = CompoundObject::parse(object)
        .map_err(|e| format!("{} ({}): {}", e.id, e.rule, e.detail))?;
    if let Some(f) = d
        .findings
        .iter()
        .filter(|f| checks.checksum || f.id != rmt_inspector::registry::fcast::CHECKSUM_BAD.id)
        .find(|f| f.severity == Severity::Error)
    {
        return Err(format!("{} ({}): {}", f.id, f.rule, f.detail));
    }
    let obj = d.value;
    if let Some(cid) = obj.cid {
        return Ok(Unpacked::Cid(FcastCid {
            ciid: cid.ciid,
            complete: cid.complete,
            list: cid.object_list,
        }));
    }
    let h = &obj.header;
    let data = super::content::decode_content(
        h.get("Content-Encoding"),
        obj.data.clone(),
        max_inflated,
        "RFC 6968 §3.3",
    )?;
    if let Some(len) = h.get("Content-Length") {
        if len.trim().parse::<u64>().ok() != Some(data.len() as u64) {
            return Err(format!(
                "Content-Length {len} but {} bytes after content decoding (RFC 6968 §3.3)",
                data.len()
            ));
        }
    }
    if let Some(d) = h.get("Fcast-Obj-Digest-SHA256").filter(|_| checks.digest) {
        let ours = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&data));
        if ours != d.trim() {
            return Err("Fcast-Obj-Digest-SHA256 does not match the object (RFC 6968 §3.3)".into());
        }
    }
    Ok(Unpacked::File(FcastFile {
        name: h.get("Content-Location").map(str::to_string),
        content_type: h.get("Content-Type").map(str::to_string),
        data,
    }))
}
