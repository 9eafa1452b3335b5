//! A whole ALC packet, with the FEC Encoding ID from the codepoint and WEBRC CCI decoding, read
//! as FLUTE and as ROUTE (start_offset, RaptorQ repair Payload ID, EXT_TOL, presentation time).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::route::Profile;

fuzz_target!(|data: &[u8]| {
    for profile in [Profile::Flute, Profile::Route] {
        let ctx = AlcContext { fec_encoding_id: None, rs_m: None, webrc: true, profile };
        if let Ok(d) = AlcPacket::parse(data, ctx) {
            let mut out = Vec::new();
            d.value.emit(d.value.symbols(data), &mut out).expect("a parsed packet emits");
        }
    }
});
