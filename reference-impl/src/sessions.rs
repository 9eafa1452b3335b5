//! Generated sessions with a known right answer, for tests, the conformance suite's sender
//! mutants and the regression captures (`cargo run -p rmt-reference --example
//! regression_captures` writes them to `vectors/captures/long/`).

use std::net::SocketAddr;

use crate::driver::capture::VIRTUAL_START;
use crate::packet::FieldWidths;
use crate::rng::SeededRng;
use crate::sender::{Mode, ObjectSpec, Sender, SenderConfig, Transmit};

/// A push session one object at a time on the virtual clock from [`VIRTUAL_START`]: `keep`
/// (if any) stays in every Carousel Instance, each of `objects` is in one instance of its own
/// (the previous one removed), and the last instance is Complete. `Err` when the sender refuses
/// an object or the session exceeds `max_datagrams`.
pub fn one_at_a_time(
    sender: &mut Sender,
    keep: Option<ObjectSpec>,
    objects: impl IntoIterator<Item = ObjectSpec>,
    max_datagrams: usize,
) -> Result<Vec<Transmit>, String> {
    if let Some(k) = keep {
        sender.add_object(k).map_err(|e| e.to_string())?;
    }
    let mut now = VIRTUAL_START;
    let mut out = Vec::new();
    let mut previous = None;
    let mut objects = objects.into_iter().peekable();
    while let Some(o) = objects.next() {
        if let Some(t) = previous.take() {
            sender.remove_object(t);
        }
        previous = Some(sender.add_object(o).map_err(|e| e.to_string())?);
        sender
            .commit(now, objects.peek().is_none())
            .map_err(|e| e.to_string())?;
        let left = max_datagrams.saturating_sub(out.len());
        let sent = sender.drain(&mut now, left + 1);
        if sent.len() > left {
            return Err(format!("more than {max_datagrams} datagrams"));
        }
        out.extend(sent);
    }
    Ok(out)
}

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
    let objects = (0..WRAPPING_OBJECTS).map(|i| ObjectSpec {
        name: format!("seg-{i}.m4s"),
        content_type: "video/mp4".into(),
        data: SeededRng::new(i).bytes(200 + 50 * i as usize),
    });
    one_at_a_time(&mut s, None, objects, 100_000).expect("a small session")
}
