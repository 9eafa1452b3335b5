//! FLUTE FDT Instances for the sender (RFC 6726 §3.4.2).

use std::io::Write;

use md5::{Digest, Md5};

use rmt_inspector::wire::fdt::{FdtAttributes, FdtFile, FdtInstance};
use rmt_inspector::wire::flute_flavor::{FluteFlavor, NS_MBMS_2007, NS_MBMS_2012};

use super::prepared::PreparedObject;
use crate::fec_config::fdt_attributes;

/// The FDT Instance describing `files`, in the namespace and form of `flavor`. `changed`: the
/// fault that alters the first file's Transfer-Length in a later instance.
pub fn fdt_instance(
    files: &[&PreparedObject],
    expires: u32,
    complete: bool,
    changed: bool,
    flavor: FluteFlavor,
) -> String {
    let mut entries: Vec<FdtFile> = files
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
    let mut defaults = FdtAttributes::default();
    let mut other_attributes = vec![];
    if flavor.is_3gpp() {
        // TS 26.346 §7.2.10: 3GPP senders declare the MBMS extension namespaces and give the
        // FEC OTI once for the instance when every file shares it (rt-libflute's form).
        other_attributes = vec![
            ("xmlns:mbms2007".to_string(), NS_MBMS_2007.to_string()),
            ("xmlns:mbms2012".to_string(), NS_MBMS_2012.to_string()),
        ];
        let shared = entries
            .first()
            .map(|f| f.attributes.clone())
            .filter(|first| entries.iter().all(|f| f.attributes == *first));
        if let Some(shared) = shared {
            for f in &mut entries {
                f.attributes = FdtAttributes::default();
            }
            defaults = shared;
        }
    }
    let inst = FdtInstance {
        namespace: flavor.fdt_namespace(),
        expires: Some(expires),
        complete: complete.then_some(true),
        defaults,
        files: entries,
        other_attributes,
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
