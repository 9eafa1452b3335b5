//! 10,000 WEBRC receivers with last links from 50 to 2,000 packets/s (log-uniform) and one-way
//! delays of 5-80 ms, on a virtual clock: the distribution of achieved/available rate after a
//! warm-up, and the time the simulation took.
//!
//!     cargo run --release -p rmt-reference --example webrc_population [RECEIVERS [SECONDS]]

use std::time::{Duration, Instant};

use rmt_reference::webrc::population::{percentiles, simulate, PopulationConfig, ReceiverOutcome};

fn main() {
    let mut args = std::env::args().skip(1);
    let receivers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(40);
    let cfg = PopulationConfig::example(receivers, Duration::from_secs(seconds), 1);
    let start = Instant::now();
    let out = match simulate(&cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("webrc_population: {e}");
            std::process::exit(2);
        }
    };
    let took = start.elapsed();
    let ps = [1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0];
    let mut ratios: Vec<f64> = out.iter().map(ReceiverOutcome::ratio).collect();
    let mut losses: Vec<f64> = out.iter().map(|o| o.loss).collect();
    let r = percentiles(&mut ratios, &ps);
    let l = percentiles(&mut losses, &ps);
    println!(
        "{receivers} receivers, {seconds} s of session ({} s warm-up), simulated in {:.1} s",
        cfg.warm_up.as_secs(),
        took.as_secs_f64()
    );
    println!("percentile   achieved/available   loss");
    for (i, p) in ps.iter().enumerate() {
        println!("{p:>9.0}%   {:>18.3}   {:>5.2}%", r[i], 100.0 * l[i]);
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len().max(1) as f64;
    let left = out.iter().filter(|o| o.left_session).count();
    println!("mean achieved/available {mean:.3}; receivers that left the session: {left}");
}
