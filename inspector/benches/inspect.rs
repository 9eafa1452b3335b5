//! rmt-inspect throughput and memory on a synthetic capture (figures and targets in
//! docs/performance.md): 200,000 packets of Ethernet/IPv4/UDP, LCT with 32-bit TSI and TOI, FEC Encoding ID 0, 1400-byte payloads (about
//! 300 MB), written to a temporary file; then `-q -z sessions` and `-T json` to /dev/null, timed,
//! with the child's peak resident set; and `-q -z sessions` on a capture five times longer, to
//! show that memory stays flat.
//!
//!     cargo bench -p rmt-inspector --bench inspect
//!
//! Each measurement is repeated (RMT_BENCH_RUNS, 7 by default) with the capture read through
//! first, so that it sits in the page cache, and the best and the median run are printed with
//! their CPU time (all threads) and the peak resident set.
//!
//! Set RMT_BENCH_PACKETS to change the packet count, RMT_BENCH_KEEP=1 to keep the captures (for
//! profiling; their paths are printed).

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn frame(tsi: u32, toi: u32, sbn: u16, esi: u16, payload: &[u8]) -> Vec<u8> {
    let mut lct = vec![0x10, 0xA0, 4, 0];
    lct.extend_from_slice(&[0; 4]);
    lct.extend_from_slice(&tsi.to_be_bytes());
    lct.extend_from_slice(&toi.to_be_bytes());
    lct.extend_from_slice(&sbn.to_be_bytes());
    lct.extend_from_slice(&esi.to_be_bytes());
    lct.extend_from_slice(payload);
    rmt_inspector::wire::frame::Frame::ipv4_udp(
        (Ipv4Addr::new(10, 0, 0, 1), 40000),
        (Ipv4Addr::new(233, 252, 0, 1), 3400),
        &lct,
        false,
    )
}

/// Classic pcap: 24-byte header, then 16-byte record headers.
fn write_capture(path: &Path, packets: usize) {
    let payload = vec![0x5Au8; 1400];
    // 64 objects in turn, blocks of 64 symbols; 100,000 packets a second.
    let frames = (0..packets).map(|i| {
        let n = i / 64;
        (
            Duration::from_micros(i as u64 * 10),
            frame(
                7,
                1 + (i % 64) as u32,
                (n / 64) as u16,
                (n % 64) as u16,
                &payload,
            ),
        )
    });
    rmt_inspector::capture::writer::write_pcap(path, frames).unwrap();
}

/// One run of rmt-inspect: wall time, CPU time (user + system, all threads) and peak resident
/// set in KiB.
struct Run {
    wall: Duration,
    cpu: Duration,
    rss_kib: i64,
}

/// Runs rmt-inspect once.
// The child is reaped by wait4 (which also gives its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
fn run_once(bin: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child's pid fills `status` and `usage` for that child only.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert!(
        pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?}"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        rss_kib: usage.ru_maxrss,
    }
}

/// Reads the file through, so that the runs measure the inspector on a capture in the page
/// cache ("memory-bound"), not the disk: some machines drop cached pages within seconds.
fn warm(path: &Path) {
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 22];
    while std::io::Read::read(&mut f, &mut buf).unwrap() > 0 {}
}

/// `runs` runs, each on a warm page cache; prints the best and the median.
fn measure(name: &str, bin: &Path, capture: &Path, args: &[&str], packets: usize, runs: usize) {
    let path = capture.to_str().unwrap();
    let mut all: Vec<Run> = (0..runs)
        .map(|_| {
            warm(capture);
            run_once(bin, &[&["-r", path], args].concat())
        })
        .collect();
    all.sort_by_key(|r| r.wall);
    let rss = all.iter().map(|r| r.rss_kib).max().unwrap_or(0);
    let line = |what: &str, r: &Run| {
        println!(
            "{name:<36} {what:<6} {:>6.3} s {:>5.2} M packets/s  (CPU {:.3} s)  peak RSS {:>3} MiB",
            r.wall.as_secs_f64(),
            packets as f64 / r.wall.as_secs_f64() / 1e6,
            r.cpu.as_secs_f64(),
            rss / 1024
        );
    };
    line("best", &all[0]);
    line("median", &all[all.len() / 2]);
}

fn main() {
    // Criterion passes flags like --bench; ignore them.
    let packets: usize = std::env::var("RMT_BENCH_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "rmt-inspector",
            "--bin",
            "rmt-inspect",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/rmt-inspect");
    let dir = std::env::temp_dir();
    let small = dir.join(format!("rmtkit-bench-{}.pcap", std::process::id()));
    let large = dir.join(format!("rmtkit-bench-{}-x5.pcap", std::process::id()));
    write_capture(&small, packets);
    let size = std::fs::metadata(&small).unwrap().len();
    println!(
        "synthetic capture: {packets} packets, {:.0} MB",
        size as f64 / 1e6
    );
    let runs: usize = std::env::var("RMT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(1);
    println!("{runs} runs each, page cache warmed before each run");
    measure(
        "-q -z sessions",
        &bin,
        &small,
        &["-q", "-z", "sessions"],
        packets,
        runs,
    );
    measure(
        "-T json > /dev/null",
        &bin,
        &small,
        &["-T", "json"],
        packets,
        runs,
    );
    write_capture(&large, packets * 5);
    measure(
        "-q -z sessions (5x longer capture)",
        &bin,
        &large,
        &["-q", "-z", "sessions"],
        packets * 5,
        runs.min(3),
    );
    if std::env::var_os("RMT_BENCH_KEEP").is_some() {
        println!("kept {} and {}", small.display(), large.display());
    } else {
        let _ = std::fs::remove_file(&small);
        let _ = std::fs::remove_file(&large);
    }
}
