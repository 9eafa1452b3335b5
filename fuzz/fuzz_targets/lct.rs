//! The LCT header and its extension walk; a header parsed without warnings re-emits to its bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::lct::LctRepr;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = LctRepr::parse(data) else { return };
    let mut out = Vec::new();
    d.value.emit(&mut out).expect("a parsed header emits");
    if d.strict().is_ok() {
        assert_eq!(out, data[..out.len()], "emit(parse(b)) == b");
    }
});
