//! ROUTE signalling documents: an LLS table (header, gzip, SLT XML), and the same bytes as an SLS
//! multipart bundle, an S-TSID and an EFDT.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::lls::LlsTable;
use rmt_inspector::wire::route_sls::{efdt_files, multipart_parts, Stsid};

fuzz_target!(|data: &[u8]| {
    let _ = LlsTable::parse(data);
    if let Some(parts) = multipart_parts(data) {
        for p in parts {
            let _ = Stsid::parse(&p.body);
        }
    }
    let _ = Stsid::parse(data);
    let _ = efdt_files(data);
});
