//! pcap and pcapng input, every packet dissected and written as a `-T json` line (which must be
//! valid JSON), sessions tracked and objects assembled.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::capture::reader::Packets;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::inspect::output::append_json_line;
use std::time::Duration;
use rmt_inspector::track::assembler::{Assembler, AssemblerConfig};
use rmt_inspector::track::session::SessionTracker;

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = Packets::new(data) else { return };
    let mut flows = FlowSelector::default();
    let mut sessions = SessionTracker::default();
    // Small caps: the fuzzer must not be able to make the assembler hold more.
    let mut assembler = Assembler::new(AssemblerConfig { max_objects: 16, max_buffered_bytes: 1 << 20, max_object_bytes: 1 << 20, max_inflated: 1 << 16, all_objects: true });
    let mut line = Vec::new();
    for p in packets.take(1000) {
        let Ok(raw) = p else { break };
        let d = dissect(raw, &mut flows);
        line.clear();
        append_json_line(&mut line, &d, Duration::ZERO).expect("writing into a Vec");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&line) {
            panic!("-T json wrote invalid JSON ({e}): {}", String::from_utf8_lossy(&line));
        }
        sessions.push(&d);
        if let (Some(a), Some(flow)) = (&d.alc, d.flow) {
            assembler.push(raw.frame, flow.src, a, d.symbols());
        }
        assert!(assembler.buffered_bytes() <= 1 << 20, "the buffer cap holds");
    }
    sessions.finish(0);
    let _ = assembler.reports();
});
