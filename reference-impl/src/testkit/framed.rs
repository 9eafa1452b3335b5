//! A framed sequence of datagrams and time steps, fed to a receiver: the input format of the
//! `receiver` fuzz target and of its regression replays. One byte of configuration (bit 0:
//! FCAST, else FLUTE; bit 1: TSI fixed to 1, else the first seen; bit 2: FEC Encoding ID 0
//! given, else the codepoint), then records
//! `[time step in ms: u8][sender: u8, 0 = the session's][length: u16 BE][datagram]`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::receiver::{Receiver, ReceiverConfig};
use crate::sender::Mode;

/// The caps the fuzz target runs the receiver with.
pub const MAX_OBJECTS: usize = 8;
pub const MAX_BUFFERED: u64 = 4 << 20;

/// Runs `data` through a receiver with small caps; `after_each` sees it after every datagram.
pub fn run_framed(data: &[u8], mut after_each: impl FnMut(&Receiver)) -> Receiver {
    let (cfg, mut rest) = data.split_first().map_or((0, &[][..]), |(c, r)| (*c, r));
    let mode = if cfg & 1 != 0 {
        Mode::Fcast
    } else {
        Mode::Flute
    };
    let mut rc = ReceiverConfig::new(mode, 1);
    rc.tsi = (cfg & 2 != 0).then_some(1);
    rc.fec_encoding_id = (cfg & 4 != 0).then_some(0);
    rc.max_objects = MAX_OBJECTS;
    rc.max_buffered_bytes = MAX_BUFFERED;
    rc.max_object_bytes = 16 << 20;
    rc.max_inflated = 1 << 20;
    let mut r = Receiver::new(rc);
    let mut now = Duration::from_secs(1_800_000_000);
    while rest.len() >= 4 {
        let (dt, who) = (rest[0], rest[1]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        rest = &rest[4..];
        let datagram = &rest[..len.min(rest.len())];
        rest = &rest[datagram.len()..];
        now += Duration::from_millis(u64::from(dt));
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + who % 3));
        r.handle(now, source, datagram);
        after_each(&r);
        while r.poll_event().is_some() {}
    }
    r.close("end of input");
    while r.poll_event().is_some() {}
    r
}

/// Frames one datagram (for writing seeds).
pub fn frame(out: &mut Vec<u8>, dt_ms: u8, other_sender: bool, datagram: &[u8]) {
    out.push(dt_ms);
    out.push(u8::from(other_sender));
    out.extend_from_slice(&(datagram.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(&datagram[..datagram.len().min(usize::from(u16::MAX))]);
}
