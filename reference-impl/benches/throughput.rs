//! Throughput of one sender process and one receiver process over multicast on loopback, in a
//! network namespace created for the run (root and ip(8) needed; otherwise it says so). Each
//! process is pinned to its own core with taskset when available. Prints the sender's rate,
//! the receiver's goodput (delivered bytes over the time from first to last datagram) and the
//! datagrams lost.
//!
//!     cargo bench -p rmt-reference --bench throughput        # RMT_BENCH_MB=200 by default

use std::process::{Command, Stdio};
use std::time::Duration;

use rmt_reference::rng::SeededRng;
use rmt_reference::testkit::netns::Namespace;

fn pinned(ns: &Namespace, core: u32, args: &[&str]) -> Command {
    let taskset = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut c = if taskset {
        let mut c = ns.command("taskset");
        c.args(["-c", &core.to_string(), env!("CARGO_BIN_EXE_rmt-ref")]);
        c
    } else {
        ns.command(env!("CARGO_BIN_EXE_rmt-ref"))
    };
    c.args(args);
    c
}

fn field<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(prefix))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Err(why) = Namespace::available() {
        println!("throughput: SKIPPED ({why})");
        return;
    }
    let mb: usize = std::env::var("RMT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("rmt-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("object.bin");
    std::fs::write(&file, SeededRng::new(1).bytes(mb << 20)).unwrap();
    let ns = Namespace::create(&format!("rmtkit-bench-{}", std::process::id())).expect("namespace");
    println!("{mb} MiB object, 1400-byte symbols, multicast 233.252.0.1 on lo in a namespace");
    println!(
        "{:<16} {:>10} {:>16} {:>18} {:>10}",
        "FEC", "rate", "sender Mbit/s", "goodput Mbit/s", "lost"
    );
    for (fec, rate) in [
        ("nocode", "0"),
        ("nocode", "2.5G"),
        ("ldpc:2/3", "0"),
        ("ldpc:2/3", "2.5G"),
    ] {
        let out = dir.join("out");
        let _ = std::fs::remove_dir_all(&out);
        let rx = pinned(
            &ns,
            1,
            &[
                "recv",
                "--group",
                "233.252.0.1:3400",
                "--source",
                "127.0.0.1",
                "--out",
                out.to_str().unwrap(),
                "--idle",
                "3",
                "--duration",
                "120",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let tx = pinned(
            &ns,
            0,
            &[
                "send",
                file.to_str().unwrap(),
                "--fec",
                fec,
                "--rate",
                rate,
                "--group",
                "233.252.0.1:3400",
                "--source",
                "127.0.0.1",
                "--gso",
            ],
        )
        .output()
        .unwrap();
        let rx = rx.wait_with_output().unwrap();
        let (tx_err, rx_err) = (
            String::from_utf8_lossy(&tx.stderr),
            String::from_utf8_lossy(&rx.stderr),
        );
        let sent: u64 = field(&tx_err, "sent ")
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        let got: u64 = rx_err
            .lines()
            .find(|l| l.contains("datagrams received"))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        let tx_rate = field(&tx_err, "sent ")
            .and_then(|l| l.rsplit_once('('))
            .map_or("?".into(), |(_, r)| {
                r.trim_end_matches(" Mbit/s)").to_string()
            });
        let goodput = field(&rx_err, "goodput ")
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("?");
        println!(
            "{fec:<16} {rate:>10} {tx_rate:>16} {goodput:>18} {:>10}",
            sent.saturating_sub(got)
        );
        if !rx_err.contains("session complete") {
            println!("  receiver: {}", rx_err.lines().last().unwrap_or(""));
        }
    }
    drop(ns);
    std::fs::remove_dir_all(&dir).ok();
}
