//! One header extension (EXT_NOP, EXT_AUTH, EXT_TIME, EXT_FTI, EXT_FDT, EXT_CENC, unknown).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::lct::HeaderExtension;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = HeaderExtension::parse(data, 0) {
        let (ext, len) = d.value;
        let mut out = Vec::new();
        ext.emit(&mut out);
        assert_eq!(out, data[..len], "an extension re-emits to its bytes");
        assert_eq!(ext.buffer_len(), len);
    }
});
