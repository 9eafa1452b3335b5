//! Live capture at the reference sender's top rate: `rmt-ref send` (unpaced, 1,400-byte
//! symbols) pushes an object to 233.252.0.1:3400 on `lo` in a network namespace created for the
//! run, while `rmt-inspect -i lo -q -z sessions` (decoding every packet) and then tshark
//! (`-i lo -q -f "udp port 3400"`, where installed) capture it. Prints, per capturer, the
//! datagrams sent, the ALC packets it counted (rmt-inspect) or the packets it captured
//! (tshark), and the drops each reports. Root and ip(8) needed; otherwise it says so.
//!
//!     cargo bench -p rmt-reference --bench live_capture        # RMT_BENCH_MB=300 by default

use std::process::{Command, Stdio};
use std::time::Duration;

use rmt_reference::rng::SeededRng;
use rmt_reference::testkit::netns::Namespace;

/// The first number in the line of `text` that contains `marker`, and the number before
/// `after` in it.
fn number_before(text: &str, after: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let i = l.find(after)?;
        l[..i].split_whitespace().last()?.parse().ok()
    })
}

/// Sends the object while `capturer` runs in the namespace; returns the datagrams sent and the
/// capturer's standard output and error.
fn run(ns: &Namespace, file: &str, capturer: Command) -> (u64, f64, String, String) {
    let mut capturer = capturer;
    let cap = capturer
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let tx = ns
        .command(env!("CARGO_BIN_EXE_rmt-ref"))
        .args(["send", file, "--rate", "0", "--group", "233.252.0.1:3400"])
        .args(["--source", "127.0.0.1"])
        .output()
        .unwrap();
    let tx = String::from_utf8_lossy(&tx.stderr).into_owned();
    let out = cap.wait_with_output().unwrap();
    let sent = number_before(&tx, " datagrams").unwrap_or(0);
    // "sent N datagrams, B bytes in S s (R Mbit/s)"
    let seconds: f64 = tx
        .split(" bytes in ")
        .nth(1)
        .and_then(|r| r.split(' ').next()?.parse().ok())
        .unwrap_or(f64::NAN);
    (
        sent,
        sent as f64 / seconds,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Err(why) = Namespace::available() {
        println!("live_capture: SKIPPED ({why})");
        return;
    }
    let mb: usize = std::env::var("RMT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let inspect =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/rmt-inspect");
    if !inspect.exists() {
        println!("live_capture: SKIPPED (build rmt-inspect first: cargo build --release -p rmt-inspector)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rmt-bench-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("object.bin");
    std::fs::write(&file, SeededRng::new(1).bytes(mb << 20)).unwrap();
    let file = file.to_str().unwrap().to_string();
    let ns =
        Namespace::create(&format!("rmtkit-live-bench-{}", std::process::id())).expect("namespace");
    let secs = (mb / 40 + 10).to_string();
    println!("{mb} MiB object, 1400-byte symbols, unpaced, multicast 233.252.0.1:3400 on lo");
    println!(
        "{:<44} {:>9} {:>12} {:>10} {:>10} {:>9}",
        "capturer", "sent", "sender pps", "captured", "ALC", "dropped"
    );
    let mut ours = ns.command(inspect.to_str().unwrap());
    ours.args(["-i", "lo", "--join", "233.252.0.1", "-d", "udp.port==3400"])
        .args(["-q", "-z", "sessions", "-T", "json", "--duration", &secs]);
    let (sent, pps, out, err) = run(&ns, &file, ours);
    let captured = number_before(&err, " packets captured").unwrap_or(0);
    // The kernel's drops (ring full) and our queue's (processing behind).
    let dropped = number_before(&err, " dropped by the kernel").unwrap_or(0)
        + number_before(&err, " by rmt-inspect's queue").unwrap_or(0);
    // ALC packets decoded: the sessions' packet counts.
    let alc: u64 = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["log"] == "sessions")
        .filter_map(|v| v["packets"].as_u64())
        .sum();
    println!(
        "{:<44} {sent:>9} {pps:>12.0} {captured:>10} {alc:>10} {dropped:>9}",
        "rmt-inspect -i lo -q -z sessions"
    );
    let tshark = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if tshark {
        let mut theirs = ns.command("tshark");
        theirs
            .args(["-i", "lo", "-q", "-f", "udp port 3400", "-a"])
            .arg(format!("duration:{secs}"));
        let (sent, pps, _, err) = run(&ns, &file, theirs);
        let captured = number_before(&err, " packets captured").unwrap_or(0);
        let dropped = number_before(&err, " packets dropped").unwrap_or(0);
        println!(
            "{:<44} {sent:>9} {pps:>12.0} {captured:>10} {:>10} {dropped:>9}",
            "tshark -i lo -q -f \"udp port 3400\"", "-"
        );
    } else {
        println!("tshark: not installed, not compared");
    }
    drop(ns);
    std::fs::remove_dir_all(&dir).ok();
}
