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

const SENDER: &str = r#"
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
for esi in range(40):
    # LCT: V=1 C=0 S=1 O=1 H=0, HDR_LEN=4, CP=0; CCI; TSI 77; TOI 5; FEC ID 0 payload ID; symbol
    pkt = bytes([0x10, 0xA0, 4, 0]) + bytes(4) + struct.pack(">II", 77, 5) + struct.pack(">HH", 0, esi) + bytes(100)
    s.sendto(pkt, ("233.252.0.1", 42001))
    time.sleep(0.05)
"#;

#[test]
fn live_capture_with_a_join_in_a_network_namespace() {
    if !can_run_or_skip() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-live-{}", std::process::id()))
        .expect("network namespace");
    let mut inspect = ns
        .exec(env!("CARGO_BIN_EXE_rmt-inspect"))
        .args([
            "-i",
            "lo",
            "--join",
            "233.252.0.1",
            "-d",
            "udp.port==42001",
            "--duration",
            "15",
            "-T",
            "fields",
            "-e",
            "lct.tsi",
            "-e",
            "lct.toi",
            "-e",
            "fec.esi",
            "-Y",
            "lct.tsi == 77",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = ns.exec("python3").args(["-c", SENDER]).status().unwrap();
    assert!(sent.success(), "sender failed");
    // rmt-inspect stops by itself after --duration; bound the wait anyway.
    let deadline = Instant::now() + Duration::from_secs(40);
    while inspect.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = inspect.kill();
            panic!("rmt-inspect did not stop after --duration");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = inspect.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rmt-inspect failed: {stderr}");
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
    esis.dedup();
    assert_eq!(
        esis,
        (0..40).collect::<Vec<u32>>(),
        "every packet sent was captured and decoded\nstdout: {stdout}\nstderr: {stderr}"
    );
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
