//! The CID Object List text; its canonical form parses back to the same elements.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::cid::CidObjectList;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = CidObjectList::parse(data) {
        let again = CidObjectList::parse(d.value.emit().as_bytes()).expect("canonical list parses");
        assert_eq!(again.value, d.value);
        let _ = d.value.contains(0);
    }
});
