//! The FCAST compound object (header, metadata, CID Object List); it re-emits to its bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::fcast::CompoundObject;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = CompoundObject::parse(data) {
        let mut out = Vec::new();
        d.value.emit(&mut out);
        assert_eq!(out, data);
    }
});
