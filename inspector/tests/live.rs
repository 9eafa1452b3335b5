//! Live capture with a multicast join, end to end, inside a network namespace this test creates
//! and removes (also on failure): `rmt-inspect -i lo --join 233.252.0.1` in the namespace, and a
//! sender there (a few lines of Python) sending ALC packets to 233.252.0.1 (MCAST-TEST-NET).
//! Nothing is sent from the machine's own namespace. Needs root and ip(8): CI runs as root; run
//! elsewhere, the test says it is skipped.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Namespace(String);

impl Namespace {
    fn create(name: &str) -> Option<Namespace> {
        let ok = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ok(&["netns", "add", name]) {
            return None;
        }
        let ns = Namespace(name.to_string());
        let up = ok(&["-n", name, "link", "set", "lo", "up"])
            && ok(&["-n", name, "link", "set", "lo", "multicast", "on"])
            && ok(&["-n", name, "route", "add", "224.0.0.0/4", "dev", "lo"]);
        up.then_some(ns)
    }

    fn exec(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// True when the test can run here (root, ip(8), python3, for a network namespace); CI runs
/// as root with both, elsewhere the test is skipped with a message.
fn can_run_or_skip() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let can = root && runs("ip") && runs("python3");
    if !can {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root with ip(8) and python3: this test must run there"
        );
        eprintln!(
            "SKIPPED: live capture needs root, ip(8) and python3 (it creates a network namespace)"
        );
    }
    can
}

#[test]
fn live_capture_with_a_join_in_a_network_namespace() {
    if !can_run_or_skip() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-live-{}", std::process::id()))
        .expect("network namespace");
    let fields = ["-e", "lct.tsi", "-e", "lct.toi", "-e", "fec.esi"];
    let mut args = LO_JOINED.to_vec();
    args.extend([
        "-d",
        "udp.port==42001",
        "-T",
        "fields",
        "-Y",
        "lct.tsi == 77",
    ]);
    args.extend(fields);
    let (stdout, stderr) = capture_while(&ns, &args, 5, &[sender(40, 42001, 1)]);
    let mut esis: Vec<u32> = stdout
        .lines()
        .filter_map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            (v.len() == 3 && v[0] == "77" && v[1] == "5")
                .then(|| v[2].parse().ok())
                .flatten()
        })
        .collect();
    esis.sort_unstable();
    // Each datagram once: on a loopback interface the outgoing copy is left out.
    assert_eq!(
        esis,
        (0..40).collect::<Vec<u32>>(),
        "every packet sent was captured and decoded, once\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains("0 dropped by the kernel, 0 by rmt-inspect's queue"),
        "{stderr}"
    );
}

/// The capture of most tests: `lo`, joined to 233.252.0.1.
const LO_JOINED: [&str; 4] = ["-i", "lo", "--join", "233.252.0.1"];

/// A sender of `n` ALC packets (TSI 77, TOI 5, ESI 0..n, 1,400-byte symbols) to port `port`,
/// pausing 1 ms after every `burst` packets (0: never).
fn sender(n: u32, port: u16, burst: u32) -> String {
    format!(
        r#"
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
for esi in range({n}):
    pkt = bytes([0x10, 0xA0, 4, 0]) + bytes(4) + struct.pack(">II", 77, 5) + struct.pack(">HH", esi >> 16, esi & 0xffff) + bytes(1400)
    s.sendto(pkt, ("233.252.0.1", {port}))
    if {burst} and esi % {burst} == 0:
        time.sleep(0.001)
"#
    )
}

/// Runs rmt-inspect with `args` (which name the interface) for `seconds`, the `senders` (Python programs) started once it is capturing; returns its
/// standard output and error. rmt-inspect stops by itself after --duration; the wait is bounded
/// anyway, with its output read meanwhile so that a full pipe cannot stall it.
fn capture_while(
    ns: &Namespace,
    args: &[&str],
    seconds: u32,
    senders: &[String],
) -> (String, String) {
    use std::io::Read;
    let duration = seconds.to_string();
    let mut inspect = ns
        .exec(env!("CARGO_BIN_EXE_rmt-inspect"))
        .args(["--duration", &duration])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = reader(Box::new(inspect.stdout.take().unwrap()));
    let stderr = reader(Box::new(inspect.stderr.take().unwrap()));
    std::thread::sleep(Duration::from_millis(1500));
    for program in senders {
        let sent = ns.exec("python3").args(["-c", program]).status().unwrap();
        assert!(sent.success(), "sender failed");
    }
    let deadline = Instant::now() + Duration::from_secs(u64::from(seconds) + 30);
    let status = loop {
        if let Some(status) = inspect.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = inspect.kill();
            panic!("rmt-inspect did not stop after --duration {seconds}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "rmt-inspect failed: {stderr}");
    (stdout, stderr)
}

/// The `capture` log line of `-T json`.
fn capture_log(stdout: &str) -> serde_json::Value {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["log"] == "capture")
        .unwrap_or_else(|| panic!("no capture log line in {stdout}"))
}

#[test]
fn the_loopback_count_is_exact_and_a_capture_filter_keeps_only_what_it_names() {
    if !can_run_or_skip() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-count-{}", std::process::id()))
        .expect("network namespace");
    // 5,000 datagrams at a moderate rate (about 20,000 a second), and 3,000 to another port
    // that the kernel filter leaves out.
    let (stdout, stderr) = capture_while(
        &ns,
        &[
            LO_JOINED[0],
            LO_JOINED[1],
            LO_JOINED[2],
            LO_JOINED[3],
            "-f",
            "udp dst port 42001",
            "-d",
            "udp.port==42001",
            "-q",
            "-z",
            "sessions",
            "-z",
            "findings",
            "-T",
            "json",
        ],
        8,
        &[sender(3_000, 42002, 20), sender(5_000, 42001, 20)],
    );
    let c = capture_log(&stdout);
    assert_eq!(
        c["stats"]["captured"], 5_000,
        "each datagram once: {c}\n{stderr}"
    );
    assert_eq!(c["stats"]["kernel"]["dropped"], 0, "{c}");
    assert_eq!(c["stats"]["queue_dropped"], 0, "{c}");
    // The kernel saw both copies of each (the filter passed them), we kept one.
    assert_eq!(c["stats"]["loopback_duplicates"], 5_000, "{c}");
    assert_eq!(c["stats"]["kernel"]["received"], 10_000, "{c}");
    // Nothing was dropped, so no finding says so (the drops test shows it when there are).
    assert!(!stdout.contains("capture.dropped"), "{stdout}");
    let session = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["log"] == "sessions")
        .unwrap_or_else(|| panic!("no session in {stdout}"));
    assert_eq!(session["packets"], 5_000, "{session}");
    assert!(
        stderr.contains("lo: 5000 packets captured, 0 dropped by the kernel"),
        "{stderr}"
    );
}

#[test]
fn drops_in_the_ring_and_in_the_queue_are_reported_and_raise_a_finding() {
    if !can_run_or_skip() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-drops-{}", std::process::id()))
        .expect("network namespace");
    // A decoded tree per packet is slower than an unpaced sender. With a 1 MiB ring (about 680
    // frames) the ring overflows; with the default 64 MiB ring, drained by its own thread, the
    // queue to the processing thread overflows instead.
    for (ring, packets, which) in [("1", 30_000, "ring"), ("64", 150_000, "queue")] {
        let (stdout, stderr) = capture_while(
            &ns,
            &[
                &LO_JOINED[..],
                &["-B", ring, "-d", "udp.port==42001", "-V", "-z", "findings"],
            ]
            .concat(),
            10,
            &[sender(packets, 42001, 0)],
        );
        // "lo: N packets captured, K dropped by the kernel, Q by rmt-inspect's queue, ..."
        let count_before = |what: &str| -> u64 {
            let at = stderr
                .find(what)
                .unwrap_or_else(|| panic!("no {what:?}: {stderr}"));
            stderr[..at]
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no count before {what:?}: {stderr}"))
        };
        let (captured, kernel, queue) = (
            count_before(" packets captured"),
            count_before(" dropped by the kernel"),
            count_before(" by rmt-inspect's queue"),
        );
        match which {
            "ring" => assert!(kernel > 0, "-B {ring}: {stderr}"),
            _ => assert!(queue > 0, "-B {ring}: {stderr}"),
        }
        // What was kept and what the queue dropped are every datagram the ring handed on.
        assert!(captured + queue <= u64::from(packets) + 2, "{stderr}");
        let table = &stdout[stdout.rfind("Findings").unwrap_or(0)..];
        assert!(table.contains("capture.dropped"), "the finding: {table}");
    }
}

#[test]
fn nothing_arriving_is_reported() {
    if !can_run_or_skip() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-quiet-{}", std::process::id()))
        .expect("network namespace");
    let out = ns
        .exec(env!("CARGO_BIN_EXE_rmt-inspect"))
        .args(["-i", "lo", "--duration", "6", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no ALC packet on lo after 5 s") && stderr.contains("no --join given"),
        "{stderr}"
    );
    let missing = ns
        .exec(env!("CARGO_BIN_EXE_rmt-inspect"))
        .args(["-i", "nonexistent0", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no interface named"));
}

#[test]
fn outgoing_frames_on_another_interface_are_shown_once_as_sent_by_us() {
    if !can_run_or_skip() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-out-{}", std::process::id()))
        .expect("network namespace");
    // A veth pair inside the namespace; multicast leaves by v0, where the capture runs.
    for args in [
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"][..],
        &["addr", "add", "10.9.0.1/24", "dev", "v0"],
        &["link", "set", "v0", "up"],
        &["link", "set", "v1", "up"],
        &["route", "replace", "224.0.0.0/4", "dev", "v0"],
    ] {
        let ok = ns.exec("ip").args(args).status().unwrap().success();
        assert!(ok, "ip {args:?}");
    }
    let program = sender(50, 42001, 10).replace("127.0.0.1", "10.9.0.1");
    let (stdout, stderr) = capture_while(
        &ns,
        &["-i", "v0", "-d", "udp.port==42001", "-V"],
        5,
        &[program],
    );
    let alc = stdout.matches("\nAsynchronous Layered Coding").count();
    let sent_by_us = stdout.matches("Packet type: Sent by us (4)").count();
    assert_eq!(alc, 50, "each datagram once\n{stderr}");
    assert!(
        sent_by_us >= 50,
        "marked as outgoing: {sent_by_us}\n{stderr}"
    );
    assert!(stderr.contains("outgoing"), "{stderr}");
}
