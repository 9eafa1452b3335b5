//! pcap and pcapng input, every packet dissected and written as a `-T json` line (which must be
//! valid JSON), sessions tracked and objects assembled.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::capture::reader::Packets;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::inspect::output::append_json_line;
use std::time::Duration;
use rmt_inspector::inspect::inspection::Inspection;
use rmt_inspector::track::assembler::AssemblerConfig;
use rmt_inspector::track::route_signalling::RouteSignalling;
use rmt_inspector::wire::route::Profile;

fuzz_target!(|data: &[u8]| {
    // Every ALC flow read as FLUTE (ROUTE only where the input's own signalling says so), then
    // as ROUTE: the ROUTE assembler, repair and naming under the same caps.
    for profile in [None, Some(Profile::Route)] {
        run(data, profile);
    }
});

fn run(data: &[u8], profile: Option<Profile>) {
    let Ok(packets) = Packets::new(data) else { return };
    let mut flows = FlowSelector::default();
    flows.signalling = RouteSignalling::forcing(profile);
    // Small caps: the fuzzer must not be able to make the assembler hold more.
    let mut pipeline = Inspection::new(AssemblerConfig { max_objects: 16, max_buffered_bytes: 1 << 20, max_object_bytes: 1 << 20, max_inflated: 1 << 16, max_done: 64, partial: true, ..AssemblerConfig::default() });
    let mut line = Vec::new();
    for p in packets.take(1000) {
        let Ok(raw) = p else { break };
        let d = dissect(raw, &mut flows);
        line.clear();
        append_json_line(&mut line, &d, Duration::ZERO).expect("writing into a Vec");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&line) {
            panic!("-T json wrote invalid JSON ({e}): {}", String::from_utf8_lossy(&line));
        }
        pipeline.push(&d).expect("nothing to export");
        assert!(pipeline.assembler.buffered_bytes() <= 1 << 20, "the buffer cap holds");
        assert!(pipeline.assembler.in_flight() <= 16, "the object cap holds");
    }
    pipeline.finish().expect("nothing to export");
    assert_eq!(pipeline.assembler.buffered_bytes(), 0, "every object left at the end");
}
