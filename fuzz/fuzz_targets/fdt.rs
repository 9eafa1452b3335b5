//! The FDT Instance XML, plain or content-encoded (first byte: CENC), inflation capped at 1 MiB.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::ext_cenc::ContentEncoding;
use rmt_inspector::wire::fdt::FdtInstance;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let cenc = [None, Some(ContentEncoding::Zlib), Some(ContentEncoding::Deflate), Some(ContentEncoding::Gzip)][usize::from(sel) % 4];
    if let Ok(d) = FdtInstance::parse_payload(rest, cenc, 1 << 20) {
        // The canonical form decodes to the same value.
        let again = FdtInstance::parse(d.value.to_xml().as_bytes()).expect("canonical XML parses");
        assert_eq!(again.value, d.value);
    }
});
