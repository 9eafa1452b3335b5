//! The WEBRC CCI, short and long forms.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::webrc_cci::{CciForm, WebrcCci};

fuzz_target!(|data: &[u8]| {
    for form in [CciForm::Short, CciForm::Long] {
        if let Ok(c) = WebrcCci::parse(data, form) {
            let mut out = Vec::new();
            c.emit(&mut out).expect("a parsed CCI emits");
            assert_eq!(out, data[..form.len()]);
        }
    }
});
