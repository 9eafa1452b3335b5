//! WEBRC on the wire (RFC 3738 §5): the CCI of a scheduled packet in the LCT header of an ALC
//! packet (C = 0 for the short form, 1 for the long form), and the channel's group.

use std::net::Ipv4Addr;

use rmt_inspector::wire::fec_payload_id::FecPayloadId;
use rmt_inspector::wire::lct::Cci;
use rmt_inspector::wire::webrc_cci::{CciForm, WebrcCci};
use rmt_inspector::wire::WireError;

use crate::packet::{lct_header, FieldWidths};

/// An ALC packet (FEC Encoding ID 0) carrying `cci`, with 32-bit TSI and TOI.
pub fn alc_datagram(
    cci: &WebrcCci,
    tsi: u32,
    toi: u32,
    sbn: u16,
    esi: u16,
    payload: &[u8],
) -> Result<Vec<u8>, WireError> {
    let widths = FieldWidths {
        tsi_len: 4,
        toi_len: 4,
    };
    let mut lct = lct_header(widths, u64::from(tsi), Some(u128::from(toi)), 0, Vec::new());
    let mut bytes = Vec::new();
    cci.emit(&mut bytes)?;
    lct.c = match cci.form {
        CciForm::Short => 0,
        CciForm::Long => 1,
    };
    lct.cci = Cci::from_slice(&bytes).unwrap_or_default();
    lct.fix_hdr_len();
    let mut out = Vec::new();
    lct.emit(&mut out)?;
    FecPayloadId {
        encoding_id: 0,
        m: None,
        sbn: u32::from(sbn),
        sbl: None,
        esi: u32::from(esi),
    }
    .emit(&mut out)?;
    out.extend_from_slice(payload);
    Ok(out)
}

/// The group of channel `cn`: consecutive addresses from `base` (one group per channel,
/// RFC 3738 §3: receivers join and leave channels by group).
pub fn channel_group(base: Ipv4Addr, cn: u16) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base).wrapping_add(u32::from(cn)))
}

/// The group and port of channel `cn`, IPv4 or IPv6: the CN-th address after `base`'s.
pub fn channel_addr(base: std::net::SocketAddr, cn: u16) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv6Addr, SocketAddr};
    let ip = match base.ip() {
        IpAddr::V4(v4) => IpAddr::V4(channel_group(v4, cn)),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6).wrapping_add(u128::from(cn)))),
    };
    SocketAddr::new(ip, base.port())
}

/// Capture frames (Ethernet/IPv4/UDP) of scheduled packets from `sender` to their channels'
/// groups from `base` on `port`, each with 64 bytes of payload, timed from `start`: what a
/// capture of a WEBRC sender on every channel holds (tests and conformance).
pub fn capture_frames(
    packets: &[crate::webrc::schedule::ScheduledPacket],
    sender: Ipv4Addr,
    base: Ipv4Addr,
    port: u16,
    start: std::time::Duration,
) -> Result<Vec<(std::time::Duration, Vec<u8>)>, WireError> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let i = i as u32;
            let datagram = alc_datagram(
                &p.cci,
                5,
                1,
                (i / 1000) as u16,
                (i % 1000) as u16,
                &[0x42; 64],
            )?;
            let group = channel_group(base, p.cci.cn);
            Ok((
                start + p.at,
                rmt_inspector::wire::frame::Frame::ipv4_udp(
                    (sender, 40000),
                    (group, port),
                    &datagram,
                    false,
                ),
            ))
        })
        .collect()
}
