//! The per-packet hot path of `rmt-inspect -q -z sessions` allocates nothing per packet
//! (issue 3: "no per-packet allocation on the hot path"): dissection into a reused packet slot,
//! the session tracker and the assembler (FDT only) over 20,000 packets allocate no more than
//! over 2,000. Counted with a global allocator wrapper; this file holds one test so that no
//! other thread allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rmt_inspector::capture::reader::RawPacket;
use rmt_inspector::inspect::dissect::{dissect_into, Dissected, FlowSelector};
use rmt_inspector::inspect::inspection::Inspection;
use rmt_inspector::track::assembler::AssemblerConfig;
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::link::LinkType;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The benchmark's packets: 32-bit TSI and TOI, FEC ID 0, 64 objects in turn.
fn frames(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut lct = vec![0x10, 0xA0, 4, 0, 0, 0, 0, 0];
            lct.extend_from_slice(&7u32.to_be_bytes());
            lct.extend_from_slice(&(1 + i % 64).to_be_bytes());
            lct.extend_from_slice(&((i / 64 / 64) as u16).to_be_bytes());
            lct.extend_from_slice(&((i / 64 % 64) as u16).to_be_bytes());
            lct.extend_from_slice(&[0x5A; 1400]);
            Frame::ipv4_udp(
                (Ipv4Addr::new(10, 0, 0, 1), 40000),
                (Ipv4Addr::new(233, 252, 0, 1), 3400),
                &lct,
                false,
            )
        })
        .collect()
}

/// Allocations made while `n` packets go through the hot path.
fn allocations_for(packets: &[Vec<u8>]) -> u64 {
    let mut flows = FlowSelector::new(Vec::new(), AlcContext::default());
    // As `rmt-inspect -q -z sessions` runs it: FDT instances only.
    let mut pipeline = Inspection::new(AssemblerConfig {
        all_objects: false,
        ..AssemblerConfig::default()
    });
    let mut slot: Vec<Dissected> = Vec::with_capacity(1);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for (i, data) in packets.iter().enumerate() {
        let raw = RawPacket {
            frame: i as u64 + 1,
            link_type: LinkType::Ethernet,
            timestamp: Duration::from_micros(i as u64 * 10),
            data,
            orig_len: data.len() as u32,
        };
        slot.clear();
        slot.push(Dissected::new(raw));
        let d = &mut slot[0];
        dissect_into(d, &mut flows);
        assert!(d.alc.is_some() && d.error.is_none());
        pipeline.push(d).expect("nothing to export");
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn the_hot_path_allocates_nothing_per_packet() {
    let many = frames(20_000);
    let few = allocations_for(&many[..2_000]);
    let all = allocations_for(&many);
    // The first packets of each of the 64 objects and the first flow allocate (map entries);
    // 18,000 more packets of the same objects add nothing.
    assert!(few < 1_000, "{few} allocations for 2,000 packets");
    assert!(
        all <= few + 16,
        "{all} allocations for 20,000 packets, {few} for 2,000: something allocates per packet"
    );
}
