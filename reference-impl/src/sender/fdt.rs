//! FLUTE FDT Instances for the sender (RFC 6726 §3.4.2).

use std::io::Write;

use md5::{Digest, Md5};

use rmt_inspector::wire::fdt::{FdtFile, FdtInstance, FdtNamespace};

use super::prepared::PreparedObject;
use crate::fec_config::fdt_attributes;

/// The FDT Instance describing `files`. `changed`: the fault that alters the first file's
/// Transfer-Length in a later instance.
pub fn fdt_instance(
    files: &[&PreparedObject],
    expires: u32,
    complete: bool,
    changed: bool,
) -> String {
    let entries = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let md5 = Md5::digest(&f.transport);
            let tl = f.transport.len() as u64 + u64::from(changed && i == 0);
            FdtFile {
                toi: f.toi,
                content_location: f.name.clone(),
                content_length: Some(f.content_length),
                transfer_length: Some(tl),
                content_md5: Some(md5.to_vec()),
                attributes: fdt_attributes(f.encoding_id, &f.oti).unwrap_or_default(),
                other_attributes: vec![],
                child_elements: vec![],
            }
        })
        .collect();
    let inst = FdtInstance {
        namespace: FdtNamespace::FluteV2,
        expires: Some(expires),
        complete: complete.then_some(true),
        defaults: Default::default(),
        files: entries,
        other_attributes: vec![],
        child_elements: vec![],
    };
    inst.to_xml()
}

/// DEFLATE (RFC 1951) for an FDT sent with EXT_CENC = 2.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}
