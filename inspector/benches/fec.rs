//! FEC codec throughput on one core, 10 MiB object, 1280-byte symbols (issue 4 targets):
//! LDPC-Staircase N1=7, code rate 2/3: encode, and decode with a seeded 10% loss;
//! Reed-Solomon GF(2^8) k=64, n=80: encode; RaptorQ: our codec against the bare `raptorq` crate.
//!
//!     cargo bench -p rmt-inspector --bench fec
//!
//! Figures are in bytes of object per second ("thrpt").

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmt_inspector::fec::codec::DecodeStatus;
use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::wire::ext_fti::FecOti;

const OBJECT: usize = 10 << 20;
const E: u16 = 1280;

/// Bytes that do not repeat within a symbol (Fibonacci hashing of the offset); the codecs'
/// cost does not depend on the content.
fn object() -> Vec<u8> {
    (0..OBJECT as u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
        .collect()
}

fn ldpc() -> FecObject {
    let k = (OBJECT / usize::from(E)) as u32;
    let oti = FecOti::Ldpc {
        transfer_length: OBJECT as u64,
        encoding_symbol_length: E,
        n1m3: 4,
        g: 1,
        max_source_block_length: k,
        max_encoding_symbols: k * 3 / 2,
        prng_seed: 1,
    };
    FecObject::from_oti(3, &oti).unwrap()
}

/// Encodes every block and produces every repair symbol; returns the symbol count.
fn encode_all(fec: &FecObject, data: &[u8]) -> usize {
    let mut produced = 0;
    for sbn in 0..fec.block_count() as u32 {
        let info = fec.block(sbn).unwrap();
        let block = &data[info.offset as usize..(info.offset + info.length) as usize];
        let enc = fec.encoder(sbn, block).unwrap();
        let (k, n) = (info.k as u32, info.n.unwrap() as u32);
        produced += enc
            .symbols(k, n - k)
            .unwrap()
            .iter()
            .map(|s| s.len())
            .sum::<usize>();
    }
    produced
}

fn bench_ldpc(c: &mut Criterion) {
    let data = object();
    let fec = ldpc();
    let mut g = c.benchmark_group("ldpc_staircase_n1_7_cr_2_3");
    g.throughput(Throughput::Bytes(OBJECT as u64))
        .sample_size(10);
    g.bench_function("encode", |b| b.iter(|| encode_all(&fec, &data)));
    // All n symbols, then a seeded 10% of them lost.
    let info = fec.block(0).unwrap();
    let enc = fec.encoder(0, &data).unwrap();
    let mut symbols: Vec<(u32, Vec<u8>)> = (0..info.n.unwrap() as u32)
        .map(|esi| (esi, enc.symbol(esi).unwrap().into_owned()))
        .collect();
    let mut x = 42u64;
    symbols.retain(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        !x.is_multiple_of(10)
    });
    g.bench_function("decode_10pct_loss", |b| {
        b.iter(|| {
            let mut dec = fec.decoder(0, None).unwrap();
            for (esi, s) in &symbols {
                dec.push(*esi, s).unwrap();
                if dec.status() == DecodeStatus::Decoded {
                    break;
                }
            }
            assert_eq!(dec.status(), DecodeStatus::Decoded);
        })
    });
    g.finish();
}

fn bench_rs(c: &mut Criterion) {
    let data = object();
    let oti = FecOti::ReedSolomonGf8 {
        transfer_length: OBJECT as u64,
        encoding_symbol_length: E,
        max_source_block_length: 64,
        max_encoding_symbols: 80,
    };
    let fec = FecObject::from_oti(5, &oti).unwrap();
    let mut g = c.benchmark_group("reed_solomon_gf256_k64_n80");
    g.throughput(Throughput::Bytes(OBJECT as u64))
        .sample_size(10);
    g.bench_function("encode", |b| b.iter(|| encode_all(&fec, &data)));
    g.finish();
}

fn bench_raptorq(c: &mut Criterion) {
    let data = object();
    let oti = FecOti::RaptorQ {
        transfer_length: OBJECT as u64,
        reserved: 0,
        symbol_size: E,
        source_blocks: 1,
        sub_blocks: 1,
        alignment: 8,
    };
    let fec = FecObject::from_oti(6, &oti).unwrap();
    let k = fec.block(0).unwrap().k as u32;
    let repair = k / 10;
    let mut g = c.benchmark_group("raptorq_10pct_repair");
    g.throughput(Throughput::Bytes(OBJECT as u64))
        .sample_size(10);
    g.bench_with_input(BenchmarkId::new("encode", "rmtkit"), &data, |b, data| {
        b.iter(|| {
            let enc = fec.encoder(0, data).unwrap();
            enc.symbols(k, repair).unwrap().len()
        })
    });
    g.bench_with_input(
        BenchmarkId::new("encode", "raptorq-crate"),
        &data,
        |b, data| {
            b.iter(|| {
                let config = raptorq::ObjectTransmissionInformation::new(OBJECT as u64, E, 1, 1, 8);
                let enc = raptorq::SourceBlockEncoder::new(0, &config, data);
                enc.repair_packets(0, repair).len()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench_ldpc, bench_rs, bench_raptorq);
criterion_main!(benches);
