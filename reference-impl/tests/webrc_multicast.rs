//! WEBRC over real multicast, in a network namespace the test creates (root; skipped with a
//! message otherwise): `rmt-ref webrc-send` sends every channel's group, `rmt-ref webrc-recv`
//! joins and leaves them. From the receiver's log: the base channel is joined first and alone
//! until a CTSI is known, waves are joined in order CN = (CTSI + NWC) mod T, the lowest wave is
//! left at slot changes, and packets come from the joined waves at the rate they add up to; a
//! 40 ms receive delay shows in the round trip the receiver measures.

use std::process::Stdio;
use std::time::Duration;

use rmt_reference::netns::Namespace;
use rmt_reference::webrc::schedule::WebrcParams;

#[test]
fn a_receiver_joins_and_leaves_wave_channels_over_multicast() {
    if !Namespace::usable_by_test() {
        return;
    }
    let ns = Namespace::create(&format!("rmtkit-webrc-{}", std::process::id())).expect("namespace");
    let common = [
        "--group",
        "233.252.0.1:3400",
        "--waves",
        "8",
        "--duration",
        "9",
    ];
    let receiver = ns
        .command(env!("CARGO_BIN_EXE_rmt-ref"))
        .arg("webrc-recv")
        .args(common)
        .args([
            "--interface",
            "127.0.0.1",
            "--max-rate",
            "400",
            "--delay-ms",
            "40",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sender = ns
        .command(env!("CARGO_BIN_EXE_rmt-ref"))
        .arg("webrc-send")
        .args(common)
        .args(["--source", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both stop by themselves after --duration; the waits are bounded by it.
    let rx = receiver.wait_with_output().unwrap();
    let tx = sender.wait_with_output().unwrap();
    drop(ns);
    assert!(
        tx.status.success(),
        "{}",
        String::from_utf8_lossy(&tx.stderr)
    );
    assert!(
        rx.status.success(),
        "{}",
        String::from_utf8_lossy(&rx.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(rx.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let t = u64::from(WebrcParams::fast(8).t());
    let actions: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["action"].is_string()).collect();
    assert_eq!(actions[0]["action"], "join");
    assert_eq!(actions[0]["cn"], t, "the base channel first");
    let mut nwc = 0u64;
    let mut wave_joins = 0;
    for a in &actions[1..] {
        let cn = a["cn"].as_u64().unwrap();
        let ctsi = a["ctsi"]
            .as_u64()
            .expect("a CTSI is known before any wave action");
        match a["action"].as_str().unwrap() {
            "join" => {
                assert_eq!(cn, (ctsi + nwc) % t, "{a}");
                nwc += 1;
                wave_joins += 1;
            }
            "leave" => {
                assert_ne!(cn, t, "the base channel stays joined");
                nwc -= 1;
            }
            other => panic!("{other}: {a}"),
        }
        assert_eq!(a["nwc"].as_u64().unwrap(), nwc, "{a}");
    }
    assert!(wave_joins >= 3, "{actions:?}");
    // --delay-ms 40 holds packets 40 ms: the round trip the receiver measures from its joins
    // (ARTT, RFC 3738 §3.2.2.2) includes it, where loopback alone takes microseconds.
    let artt = actions.last().unwrap()["artt"].as_f64().unwrap();
    assert!((0.03..0.2).contains(&artt), "ARTT {artt}");
    assert!(
        actions.iter().any(|a| a["action"] == "leave"),
        "a wave left at a slot change"
    );
    let per_second: Vec<u64> = lines.iter().filter_map(|l| l["packets"].as_u64()).collect();
    let late: u64 = per_second[4..8].iter().sum();
    // Waves joined: well above the base channel's 20 packets/s, and near the 400 allowed.
    assert!(late / 4 > 100, "{per_second:?} {actions:?}");
    assert!(late / 4 < 700, "{per_second:?}");
}
