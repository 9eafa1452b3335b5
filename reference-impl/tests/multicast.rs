//! A real multicast run inside a network namespace this test creates and removes: `rmt-ref send`
//! serves its SDP over HTTP and sends to 233.252.0.1 (MCAST-TEST-NET) from 127.0.0.1;
//! `rmt-ref recv --sdp http://...` fetches it, joins source-specific, and writes the files.
//! Nothing is sent from the machine's own namespace. Needs root and ip(8): CI runs as root;
//! elsewhere the test says it is skipped.

use std::process::Stdio;
use std::time::{Duration, Instant};

use rmt_reference::driver::output::{hex_digest, read_manifest};
use rmt_reference::rng::SeededRng;
use rmt_reference::testkit::netns::Namespace;

fn wait(child: &mut std::process::Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sender_and_receiver_processes_over_multicast_with_the_sdp_over_http() {
    if !Namespace::usable_by_test() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-ref-{}", std::process::id())).expect("namespace");
    let dir = std::env::temp_dir().join(format!("rmt-ref-mc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<(String, Vec<u8>)> = [(1usize, 3_000_000usize), (2, 777), (3, 65_536)]
        .iter()
        .map(|(seed, n)| {
            (
                format!("file{seed}.bin"),
                SeededRng::new(*seed as u64).bytes(*n),
            )
        })
        .collect();
    for (name, data) in &files {
        std::fs::write(dir.join(name), data).unwrap();
    }
    for (mode, fec) in [("--fcast", "ldpc:2/3"), ("--flute", "rs")] {
        let out = dir.join(format!("out{mode}"));
        let mut send = ns.command(env!("CARGO_BIN_EXE_rmt-ref"));
        send.arg("send")
            .args(files.iter().map(|(n, _)| dir.join(n)))
            .args([
                mode,
                "--fec",
                fec,
                "--group",
                "233.252.0.1:3400",
                "--source",
                "127.0.0.1",
                "--rate",
                "40M",
            ])
            .args([
                "--serve-sdp",
                "127.0.0.1:8080",
                "--sdp-lead",
                "1.5",
                "--cycles",
                "2",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut sender = send.spawn().unwrap();
        let receiver = ns
            .command(env!("CARGO_BIN_EXE_rmt-ref"))
            .args([
                "recv",
                "--sdp",
                "http://127.0.0.1:8080/session.sdp",
                "--out",
                out.to_str().unwrap(),
                "--idle",
                "5",
                "--duration",
                "30",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = receiver.wait_with_output().unwrap();
        let status = wait(&mut sender, Duration::from_secs(30), "the sender");
        let rx_err = String::from_utf8_lossy(&rx.stderr);
        assert!(status.success(), "sender failed");
        assert!(rx.status.success(), "{mode}: receiver: {rx_err}");
        assert!(rx_err.contains("session complete"), "{mode}: {rx_err}");
        let m = read_manifest(&out).unwrap();
        for (name, data) in &files {
            let e = m
                .iter()
                .find(|e| e.path == *name)
                .unwrap_or_else(|| panic!("{mode}: {name} not delivered: {rx_err}"));
            assert_eq!(e.sha256, hex_digest(data), "{mode}: {name}");
            assert_eq!(std::fs::read(out.join(name)).unwrap(), *data);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    drop(ns);
}

#[test]
fn ipv6_source_specific_multicast_between_two_interfaces_of_a_namespace() {
    if !Namespace::usable_by_test() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-ref6-{}", std::process::id())).expect("namespace");
    let (tx_if, rx_if) = ns.veth("rmt0", "rmt1").expect("veth pair");
    ns.add_address("rmt0", "fd00::1/64").unwrap();
    ns.add_address("rmt1", "fd00::2/64").unwrap();
    let dir = std::env::temp_dir().join(format!("rmt-ref-mc6-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = SeededRng::new(9).bytes(400_000);
    std::fs::write(dir.join("six.bin"), &data).unwrap();
    // ff3e::db8:1: a source-specific group (RFC 4607 §1) with the documentation prefix.
    let group = "[ff3e::db8:1]:3400";
    let receiver = |source: &str, out: &std::path::Path| {
        ns.command(env!("CARGO_BIN_EXE_rmt-ref"))
            .args([
                "recv",
                "--fcast",
                "--tsi",
                "6",
                "--group",
                group,
                "--source",
                source,
                "--iface",
                &rx_if.to_string(),
            ])
            .args([
                "--out",
                out.to_str().unwrap(),
                "--idle",
                "4",
                "--duration",
                "30",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // One receiver joins the sender's (source, group); another joins another source's.
    let right = receiver("fd00::1", &dir.join("right"));
    let wrong = receiver("fd00::9", &dir.join("wrong"));
    std::thread::sleep(Duration::from_millis(500));
    let sent = ns
        .command(env!("CARGO_BIN_EXE_rmt-ref"))
        .args([
            "send",
            dir.join("six.bin").to_str().unwrap(),
            "--fcast",
            "--fec",
            "rs",
            "--tsi",
            "6",
            "--group",
            group,
        ])
        .args([
            "--source",
            "fd00::1",
            "--iface",
            &tx_if.to_string(),
            "--rate",
            "20M",
        ])
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let rx = right.wait_with_output().unwrap();
    let rx_err = String::from_utf8_lossy(&rx.stderr);
    assert!(
        rx.status.success() && rx_err.contains("session complete"),
        "{rx_err}"
    );
    assert_eq!(std::fs::read(dir.join("right/six.bin")).unwrap(), data);
    let other = wrong.wait_with_output().unwrap();
    let other_err = String::from_utf8_lossy(&other.stderr);
    assert!(
        other_err.contains("nothing arrived"),
        "the other source's join receives nothing: {other_err}"
    );
    assert!(!dir.join("wrong/six.bin").exists());
    std::fs::remove_dir_all(&dir).ok();
    drop(ns);
}
