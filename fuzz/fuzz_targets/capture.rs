//! pcap and pcapng input, every packet dissected, sessions tracked and objects assembled.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::capture::reader::Packets;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::track::assembler::{Assembler, AssemblerConfig};
use rmt_inspector::track::session::SessionTracker;

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = Packets::new(data) else { return };
    let mut flows = FlowSelector::default();
    let mut sessions = SessionTracker::default();
    // Small caps: the fuzzer must not be able to make the assembler hold more.
    let mut assembler = Assembler::new(AssemblerConfig { max_objects: 16, max_buffered_bytes: 1 << 20, max_object_bytes: 1 << 20, max_inflated: 1 << 16, all_objects: true });
    for p in packets.take(1000) {
        let Ok(raw) = p else { break };
        let d = dissect(raw, &mut flows);
        sessions.push(&d);
        if let (Some(a), Some(flow)) = (&d.alc, d.flow) {
            assembler.push(raw.frame, flow.src, a, d.symbols());
        }
        assert!(assembler.buffered_bytes() <= 1 << 20, "the buffer cap holds");
    }
    sessions.finish(0);
    let _ = assembler.reports();
});
