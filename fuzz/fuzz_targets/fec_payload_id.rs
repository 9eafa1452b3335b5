//! The FEC Payload ID of each FEC Encoding ID (first byte: the scheme, second: m for ID 2).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::fec_payload_id::{FecPayloadId, KNOWN_ENCODING_IDS};

fuzz_target!(|data: &[u8]| {
    let [sel, m, rest @ ..] = data else { return };
    let id = KNOWN_ENCODING_IDS[usize::from(*sel) % KNOWN_ENCODING_IDS.len()];
    let m = (id == 2 && *m != 0).then_some(*m);
    if let Ok(p) = FecPayloadId::parse(rest, id, m) {
        let mut out = Vec::new();
        p.emit(&mut out).expect("a parsed payload ID emits");
        assert_eq!(out, rest[..out.len()]);
    }
});
