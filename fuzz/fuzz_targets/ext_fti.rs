//! EXT_FTI for each FEC Encoding ID (first byte: the scheme); parsed OTI re-emits to its bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::wire::ext_fti::ExtFti;
use rmt_inspector::wire::fec_payload_id::KNOWN_ENCODING_IDS;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let id = KNOWN_ENCODING_IDS[usize::from(sel) % KNOWN_ENCODING_IDS.len()];
    if let Ok(d) = ExtFti::parse(rest, id) {
        let mut out = Vec::new();
        d.value.emit(&mut out).expect("a parsed EXT_FTI emits");
        assert_eq!(out, rest[..out.len()]);
        // The OTI-to-codec mapping must never panic either, and never allocate from it.
        if let Ok(f) = FecObject::from_oti(id, &d.value.oti) {
            let _ = f.block(0);
            let _ = f.block(u32::MAX);
            let _ = f.block_count();
        }
    }
});
