//! A whole ALC packet, with the FEC Encoding ID from the codepoint and WEBRC CCI decoding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};

fuzz_target!(|data: &[u8]| {
    let ctx = AlcContext { fec_encoding_id: None, rs_m: None, webrc: true };
    if let Ok(d) = AlcPacket::parse(data, ctx) {
        let mut out = Vec::new();
        d.value.emit(d.value.symbols(data), &mut out).expect("a parsed packet emits");
    }
});
