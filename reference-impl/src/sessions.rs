//! Generated sessions with a known right answer, for tests and for the regression captures
//! (`cargo run -p rmt-reference --example regression_captures` writes them to
//! `vectors/captures/long/`).

use std::net::SocketAddr;

use crate::driver::capture::VIRTUAL_START;
use crate::packet::FieldWidths;
use crate::rng::SeededRng;
use crate::sender::{Mode, ObjectSpec, Sender, SenderConfig, Transmit};

/// Objects of [`wrapping_fcast_push`].
pub const WRAPPING_OBJECTS: u64 = 40;

/// A 16-bit FCAST push session (TSI 9 to 233.252.0.1:3400), one object at a time (object `i`
/// is `seg-i.m4s`, 200 + 50·i bytes from seed `i`), whose TOIs, allocated 4096 apart, wrap the
/// TOI space several times and come back for new objects of other sizes (RFC 6968 §3.6 lets a
/// sender reuse a TOI once its object left the window): with a CID per Carousel Instance or
/// without. A conforming receiver delivers all 40 objects; a correct inspector finds nothing.
pub fn wrapping_fcast_push(cid: bool) -> Vec<Transmit> {
    let dest: SocketAddr = "233.252.0.1:3400".parse().expect("address");
    let mut c = SenderConfig::new(Mode::Fcast, dest, 9);
    c.rate_bps = 50_000_000;
    c.widths = FieldWidths {
        tsi_len: 2,
        toi_len: 2,
    };
    c.toi_stride = 4096;
    c.cid = cid;
    let mut s = Sender::new(c).expect("a valid configuration");
    let mut now = VIRTUAL_START;
    let mut frames = Vec::new();
    let mut previous = None;
    for i in 0..WRAPPING_OBJECTS {
        if let Some(t) = previous.take() {
            s.remove_object(t);
        }
        let toi = s
            .add_object(ObjectSpec {
                name: format!("seg-{i}.m4s"),
                content_type: "video/mp4".into(),
                data: SeededRng::new(i).bytes(200 + 50 * i as usize),
            })
            .expect("the sender is open");
        previous = Some(toi);
        s.commit(now, i + 1 == WRAPPING_OBJECTS)
            .expect("the sender is open");
        frames.extend(s.drain(&mut now, 100_000));
    }
    frames
}
