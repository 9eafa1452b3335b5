//! Link, IP and UDP: the first byte picks the link type.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::link::LinkType;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let link = [LinkType::Ethernet, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::RawIp, LinkType::Ipv4, LinkType::Ipv6][usize::from(sel) % 6];
    if let Ok(f) = Frame::parse(link, rest) {
        let _ = f.value.udp_payload(rest);
    }
});
