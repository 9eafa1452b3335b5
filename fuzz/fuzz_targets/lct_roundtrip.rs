//! Structure-aware: an arbitrary LCT header (any widths, flags, CCI, extensions) emits, and the
//! bytes parse back to the same header.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rmt_inspector::wire::ext_fdt::ExtFdt;
use rmt_inspector::wire::lct::{Cci, ExtensionBody, HeaderExtension, LctRepr};

#[derive(Arbitrary, Debug)]
struct Header {
    c: u8,
    psi: u8,
    s: bool,
    o: u8,
    h: bool,
    reserved: u8,
    a: bool,
    b: bool,
    cp: u8,
    cci: [u8; 16],
    tsi: u64,
    toi: u128,
    nops: Vec<Vec<u8>>,
    fdt: Option<u32>,
}

fuzz_target!(|h: Header| {
    let (c, o) = (h.c % 4, h.o % 4);
    let tsi_bits = 32 * u32::from(h.s) + 16 * u32::from(h.h);
    let toi_bits = 32 * u32::from(o) + 16 * u32::from(h.h);
    let mask = |bits: u32| if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 };
    let mut exts: Vec<HeaderExtension> = h
        .nops
        .iter()
        .take(8)
        .map(|n| {
            // EXT_NOP: content padded to whole words, HEL counts words (<= 255).
            let mut content = n.clone();
            content.truncate(250 * 4);
            content.resize((content.len() + 2).div_ceil(4) * 4 - 2, 0);
            HeaderExtension { het: 0, hel: Some(((content.len() + 2) / 4) as u8), body: ExtensionBody::Nop { content } }
        })
        .collect();
    if let Some(id) = h.fdt {
        exts.push(HeaderExtension { het: 192, hel: None, body: ExtensionBody::Fdt(ExtFdt { version: 2, instance_id: id & 0xF_FFFF }) });
    }
    let mut lct = LctRepr {
        version: 1,
        c,
        psi: h.psi % 4,
        s: h.s,
        o,
        h: h.h,
        reserved: h.reserved % 4,
        close_session: h.a,
        close_object: h.b,
        hdr_len: 0,
        codepoint: h.cp,
        cci: Cci::from_slice(&h.cci[..4 * (usize::from(c) + 1)]).unwrap_or_default(),
        tsi: (tsi_bits > 0).then(|| (u128::from(h.tsi) & mask(tsi_bits)) as u64),
        toi: (toi_bits > 0).then(|| h.toi & mask(toi_bits)),
        extensions: exts,
        unwalked: vec![],
    };
    if lct.buffer_len() > 255 * 4 {
        return;
    }
    lct.fix_hdr_len();
    let mut bytes = Vec::new();
    lct.emit(&mut bytes).expect("a consistent header emits");
    let back = LctRepr::parse(&bytes).expect("emitted bytes parse").value;
    assert_eq!(back, lct);
});
