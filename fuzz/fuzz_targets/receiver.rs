//! The reference receiver as a state machine: sequences of datagrams and time steps, from the
//! session's sender or another one (framing: `rmt_reference::testkit::framed`). Never a panic or an
//! endless loop, and after every datagram the memory it holds stays under its caps.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_reference::testkit::framed::{run_framed, MAX_BUFFERED, MAX_OBJECTS};

fuzz_target!(|data: &[u8]| {
    let r = run_framed(data, |r| {
        assert!(r.buffered_bytes() <= MAX_BUFFERED, "{} bytes held", r.buffered_bytes());
        assert!(r.objects_in_flight() <= MAX_OBJECTS);
    });
    assert_eq!(r.buffered_bytes(), 0);
});
