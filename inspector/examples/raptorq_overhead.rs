//! Encodes a 10 MiB object with RaptorQ (1280-byte symbols, 10% repair) once, either through
//! rmtkit's codec or through the bare `raptorq` crate, so that instruction counts (which do not
//! depend on machine noise) compare the two:
//!
//!     cargo build --release -p rmt-inspector --example raptorq_overhead
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/raptorq_overhead rmtkit
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/raptorq_overhead crate
//!
//! ("I refs" is the figure to compare.)

use rmt_inspector::fec::scheme::FecObject;
use rmt_inspector::wire::ext_fti::FecOti;

fn main() {
    const OBJECT: usize = 10 << 20;
    const T: u16 = 1280;
    let data: Vec<u8> = (0..OBJECT as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let k = (OBJECT / usize::from(T)) as u32;
    let repair = k / 10;
    let produced = match std::env::args().nth(1).as_deref() {
        Some("rmtkit") => {
            let oti = FecOti::RaptorQ {
                transfer_length: OBJECT as u64,
                reserved: 0,
                symbol_size: T,
                source_blocks: 1,
                sub_blocks: 1,
                alignment: 8,
            };
            let fec = FecObject::from_oti(6, &oti).unwrap();
            let enc = fec.encoder(0, &data).unwrap();
            enc.symbols(k, repair).unwrap().len()
        }
        Some("crate") => {
            let config = raptorq::ObjectTransmissionInformation::new(OBJECT as u64, T, 1, 1, 8);
            raptorq::SourceBlockEncoder::new(0, &config, &data)
                .repair_packets(0, repair)
                .len()
        }
        _ => {
            eprintln!("usage: raptorq_overhead rmtkit|crate");
            std::process::exit(2);
        }
    };
    println!("{produced} repair symbols");
}
