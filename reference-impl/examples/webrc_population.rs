//! WEBRC receivers on a virtual clock: last links of 0.5-100 Mbit/s (log-uniform, 1,500-byte
//! packets), one-way delays of 5-150 ms, one link in ten shared with a TCP-like flow, the
//! sender of `WebrcParams::for_top_rate` (P 0.92, BCR_P 5/s, TSD 1 s). Prints the
//! distribution of achieved/available rate after the warm-up, the loss, WEBRC/TCP on the
//! shared links, the time the simulation took and its peak memory. docs/performance.md.
//!
//!     cargo run --release -p rmt-reference --example webrc_population -- \
//!         [--receivers N] [--seconds S] [--warm-up S] [--threads T] [--seed N] [--p P]
//!         [--tcp-share F] [--links LO,HI (Mbit/s)]

use std::time::{Duration, Instant};

use rmt_reference::webrc::population::{
    mbit_per_second, packets_per_second, percentiles, simulate, PopulationConfig, ReceiverOutcome,
};
use rmt_reference::webrc::schedule::WebrcParams;

struct Args {
    receivers: usize,
    seconds: f64,
    warm_up: Option<f64>,
    threads: usize,
    seed: u64,
    p: Option<f64>,
    tcp_share: f64,
    links: Option<(f64, f64)>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        receivers: 10_000,
        seconds: 200.0,
        warm_up: None,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        seed: 1,
        p: None,
        tcp_share: 0.1,
        links: None,
    };
    let mut args = std::env::args().skip(1);
    // Bounded: each turn consumes two arguments.
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = format!("{flag}: not a number: {value}");
        match flag.as_str() {
            "--receivers" => a.receivers = value.parse().map_err(|_| bad.clone())?,
            "--seconds" => a.seconds = value.parse().map_err(|_| bad.clone())?,
            "--warm-up" => a.warm_up = Some(value.parse().map_err(|_| bad.clone())?),
            "--threads" => a.threads = value.parse().map_err(|_| bad.clone())?,
            "--seed" => a.seed = value.parse().map_err(|_| bad.clone())?,
            "--p" => a.p = Some(value.parse().map_err(|_| bad.clone())?),
            "--links" => {
                let (lo, hi) = value.split_once(',').unwrap_or((&value, &value));
                let lo: f64 = lo.parse().map_err(|_| bad.clone())?;
                let hi: f64 = hi.parse().map_err(|_| bad.clone())?;
                if !(lo > 0.0 && lo <= hi) {
                    return Err("--links LO,HI Mbit/s with 0 < LO <= HI".into());
                }
                a.links = Some((lo, hi));
            }
            "--tcp-share" => a.tcp_share = value.parse().map_err(|_| bad.clone())?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if !(a.seconds > 0.0 && a.seconds <= 86_400.0) || a.receivers == 0 || a.threads == 0 {
        return Err("need --receivers >= 1, --threads >= 1, 0 < --seconds <= 86400".into());
    }
    if !(0.0..=1.0).contains(&a.tcp_share) {
        return Err("--tcp-share is a fraction, 0 to 1".into());
    }
    Ok(a)
}

/// Peak resident memory of this process (VmHWM), MiB, where /proc tells it.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("webrc_population: {e}");
            std::process::exit(2);
        }
    };
    let mut cfg =
        PopulationConfig::example(a.receivers, Duration::from_secs_f64(a.seconds), a.seed);
    if let Some(w) = a.warm_up {
        cfg.warm_up = Duration::from_secs_f64(w.clamp(0.0, a.seconds));
    }
    if let Some((lo, hi)) = a.links {
        cfg.capacity = (packets_per_second(lo), packets_per_second(hi));
        cfg.sender = WebrcParams::for_top_rate(packets_per_second(hi.max(100.0)));
    }
    if let Some(p) = a.p {
        // The same base rate and top rate under another P.
        cfg.sender = WebrcParams::reaching(cfg.sender.top_rate(), p, cfg.sender.bcr_p);
    }
    cfg.threads = a.threads;
    cfg.tcp_share = a.tcp_share;
    let s: &WebrcParams = &cfg.sender;
    println!(
        "{} receivers, {} s of session ({} s warm-up), {} thread(s); sender P {}, BCR_P {}/s, \
         TSD {} s, N {} (top {:.0} packets/s, {:.1} Mbit/s)",
        a.receivers,
        a.seconds,
        cfg.warm_up.as_secs_f64(),
        cfg.threads,
        s.p,
        s.bcr_p,
        s.tsd.as_secs_f64(),
        s.n,
        s.top_rate(),
        mbit_per_second(s.top_rate())
    );
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
    let table = |name: &str, group: &[&ReceiverOutcome]| {
        let mut ratios: Vec<f64> = group.iter().map(|o| o.ratio()).collect();
        let mut losses: Vec<f64> = group.iter().map(|o| o.loss).collect();
        let (m, lm) = (mean(&ratios), mean(&losses));
        let r = percentiles(&mut ratios, &ps);
        let l = percentiles(&mut losses, &ps);
        println!("\n{name}: {} receivers", group.len());
        println!("percentile   achieved/available   loss");
        for (i, p) in ps.iter().enumerate() {
            println!("{p:>9.0}%   {:>18.3}   {:>5.2}%", r[i], 100.0 * l[i]);
        }
        println!("     mean   {m:>18.3}   {:>5.2}%", 100.0 * lm);
    };
    let all: Vec<&ReceiverOutcome> = out.iter().collect();
    let alone: Vec<&ReceiverOutcome> = out.iter().filter(|o| o.tcp.is_none()).collect();
    table(
        "all receivers (available: the link, half of it when shared with TCP)",
        &all,
    );
    table("links without TCP", &alone);
    let mut shares: Vec<f64> = out
        .iter()
        .filter_map(|o| o.tcp.map(|t| o.achieved / t.max(1e-9)))
        .collect();
    if !shares.is_empty() {
        let within = shares.iter().filter(|x| (0.5..=2.0).contains(*x)).count();
        let n = shares.len();
        let q = percentiles(&mut shares, &[10.0, 50.0, 90.0]);
        println!(
            "\nWEBRC/TCP on the {n} shared links: 10th percentile {:.2}, median {:.2}, 90th {:.2}; \
             within a factor 2: {within} ({:.0}%)",
            q[0],
            q[1],
            q[2],
            100.0 * within as f64 / n as f64
        );
    }
    // Convergence: the first whole second at 90% of the available rate, by link.
    let mut by_link: Vec<(f64, Option<f64>)> = alone
        .iter()
        .map(|o| (o.capacity, o.converged.map(|c| c.as_secs_f64())))
        .collect();
    by_link.sort_by(|x, y| x.0.total_cmp(&y.0));
    println!(
        "
convergence (first second at 90% of the link), links without TCP:"
    );
    println!("links (Mbit/s)   receivers   median s   90th percentile s   never");
    for part in by_link.chunks(by_link.len().div_ceil(5).max(1)) {
        let mut times: Vec<f64> = part.iter().filter_map(|x| x.1).collect();
        let never = part.len() - times.len();
        let q = percentiles(&mut times, &[50.0, 90.0]);
        println!(
            "{:>6.1}-{:<6.1}   {:>9}   {:>8.0}   {:>17.0}   {never:>5}",
            mbit_per_second(part[0].0),
            mbit_per_second(part[part.len() - 1].0),
            part.len(),
            q[0],
            q[1]
        );
    }
    let left = out.iter().filter(|o| o.left_session).count();
    println!(
        "\nreceivers that left the session: {left}; simulated in {:.1} s; peak memory {}",
        took.as_secs_f64(),
        peak_memory_mib().map_or("unknown".into(), |m| format!("{m:.0} MiB"))
    );
}
