//! The inspector's WEBRC sender checks (RFC 3738 §3.1.2) against the reference schedule: a
//! capture of every channel of `Schedule` raises no `webrc.*` finding, and each fault raises
//! its own.

use std::net::Ipv4Addr;
use std::time::Duration;

use rmt_inspector::inspect::check::check_capture;
use rmt_inspector::wire::alc::AlcContext;
use rmt_reference::webrc::packet::capture_frames;
use rmt_reference::webrc::schedule::{Schedule, ScheduledPacket, WebrcParams};

/// 40 s of `WebrcParams::fast(6)` (T = 16): every packet of every channel.
fn schedule() -> Vec<ScheduledPacket> {
    let mut s = Schedule::new(WebrcParams::fast(6)).unwrap();
    let mut out = Vec::new();
    // Bounded: schedule times grow.
    loop {
        let p = s.next();
        if p.at > Duration::from_secs(40) {
            return out;
        }
        out.push(p);
    }
}

/// The `webrc.*` findings of a capture of these packets.
fn webrc_findings(packets: &[ScheduledPacket]) -> Vec<&'static str> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "rmtkit-webrc-{}-{}.pcap",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let frames = capture_frames(
        packets,
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(233, 252, 0, 1),
        3400,
        Duration::from_secs(1_800_000_000),
    )
    .unwrap();
    rmt_inspector::capture::writer::write_pcap(&path, frames).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let ctx = AlcContext {
        webrc: true,
        ..AlcContext::default()
    };
    let findings = check_capture(&bytes, vec![3400], ctx).unwrap();
    findings
        .keys()
        .copied()
        .filter(|id| id.starts_with("webrc."))
        .collect()
}

fn t() -> u16 {
    WebrcParams::fast(6).t() as u16
}

#[test]
fn the_reference_schedule_raises_no_webrc_finding() {
    let packets = schedule();
    assert!(packets.len() > 10_000, "{}", packets.len());
    assert_eq!(webrc_findings(&packets), Vec::<&str>::new());
}

#[test]
fn a_skipped_time_slot_index_is_found() {
    let mut packets = schedule();
    // From 20 s on, CTSI is one more than it should be: a jump of 2 at the boundary.
    for p in packets
        .iter_mut()
        .filter(|p| p.at >= Duration::from_secs(20))
    {
        p.cci.ctsi = (p.cci.ctsi + 1) % t();
    }
    assert!(webrc_findings(&packets).contains(&"webrc.ctsi.not_consecutive"));
}

#[test]
fn a_missing_wave_packet_is_found() {
    let mut packets = schedule();
    // In the middle of a slot, so not the first packet of a wave's run (whose PSN starts
    // anew after quiescence).
    let i = packets
        .iter()
        .position(|p| p.at > Duration::from_millis(15_500) && p.cci.cn != t())
        .unwrap();
    packets.remove(i);
    assert!(webrc_findings(&packets).contains(&"webrc.psn.not_consecutive"));
}

#[test]
fn a_wave_sending_in_its_quiescent_slot_is_found() {
    let mut packets = schedule();
    // A copy of a wave packet sent one slot after that wave's last slot.
    let p = *packets
        .iter()
        .find(|p| p.at > Duration::from_secs(10) && p.cci.cn != t())
        .unwrap();
    let mut late = p;
    late.cci.ctsi = (p.cci.cn + 1) % t();
    let i = packets
        .iter()
        .position(|q| q.cci.ctsi == late.cci.ctsi && q.at > p.at)
        .unwrap();
    late.at = packets[i].at;
    packets.insert(i, late);
    let found = webrc_findings(&packets);
    assert!(
        found.contains(&"webrc.wave.sent_when_quiescent"),
        "{found:?}"
    );
}

#[test]
fn base_packets_not_aligned_on_l_are_found() {
    let mut packets = schedule();
    for p in packets.iter_mut().filter(|p| p.cci.cn == t()) {
        p.cci.psn += 1;
    }
    let found = webrc_findings(&packets);
    assert!(found.contains(&"webrc.base.psn_alignment"), "{found:?}");
}

#[test]
fn a_base_slot_with_a_packet_short_is_found() {
    let mut packets = schedule();
    // One base-channel packet of a slot in the middle of the capture is not sent: that slot
    // carries L - 1 packets where every other carries L.
    let i = packets
        .iter()
        .position(|p| p.at > Duration::from_millis(20_500) && p.cci.cn == t())
        .unwrap();
    packets.remove(i);
    let found = webrc_findings(&packets);
    assert!(found.contains(&"webrc.base.packets_per_slot"), "{found:?}");
}

#[test]
fn a_wave_whose_rate_grows_is_found() {
    let mut packets = schedule();
    // Wave 0's packets of one late slot of its run, sent three times over (and the PSN
    // sequence kept consecutive by renumbering).
    let wave = 5u16;
    let slot_of = |p: &ScheduledPacket| p.at.as_secs();
    let slots: Vec<u64> = packets
        .iter()
        .filter(|p| p.cci.cn == wave)
        .map(slot_of)
        .collect();
    let last_slot = *slots.iter().filter(|s| **s < 30).max().unwrap();
    let mut extra = Vec::new();
    for p in packets
        .iter()
        .filter(|p| p.cci.cn == wave && slot_of(p) == last_slot)
    {
        for k in 1..3 {
            let mut q = *p;
            q.at += Duration::from_micros(k * 100);
            extra.push(q);
        }
    }
    packets.extend(extra);
    packets.sort_by_key(|p| p.at);
    let found = webrc_findings(&packets);
    assert!(found.contains(&"webrc.wave.rate_not_decaying"), "{found:?}");
}

#[test]
fn an_irregular_time_slot_is_found() {
    let mut packets = schedule();
    // Slot 20 lasts 1.5 s: every packet from 20 s on is 0.5 s later, and slot 20 also
    // takes those of the next half second.
    for p in packets
        .iter_mut()
        .filter(|p| p.at >= Duration::from_secs(21))
    {
        p.at += Duration::from_millis(500);
    }
    let found = webrc_findings(&packets);
    assert!(found.contains(&"webrc.tsd.irregular"), "{found:?}");
}

#[test]
fn a_wave_ending_before_its_last_psn_is_found() {
    let mut packets = schedule();
    // The last packet of a wave's run (PSN 2^16-1) in the middle of the capture, dropped.
    let i = packets
        .iter()
        .position(|p| p.at > Duration::from_secs(15) && p.cci.cn != t() && p.cci.psn == 65_535)
        .unwrap();
    packets.remove(i);
    let found = webrc_findings(&packets);
    assert!(found.contains(&"webrc.wave.last_psn"), "{found:?}");
}
