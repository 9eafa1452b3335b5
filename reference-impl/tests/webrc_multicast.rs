//! WEBRC over real multicast, in a network namespace the test creates (root; skipped with a
//! message otherwise): `rmt-ref webrc-send` sends every channel's group, `rmt-ref webrc-recv`
//! joins and leaves them. From the receiver's log: the base channel is joined first and alone
//! until a CTSI is known, waves are joined in order CN = (CTSI + NWC) mod T, the lowest wave is
//! left at slot changes, and packets come from the joined waves at the rate they add up to; a
//! 40 ms receive delay shows in the round trip the receiver measures.

use std::process::Stdio;
use std::time::Duration;

use rmt_reference::testkit::netns::Namespace;
use rmt_reference::webrc::schedule::WebrcParams;

/// Runs `rmt-ref webrc-recv` and, 200 ms later, `rmt-ref webrc-send` in `ns` with the `common`
/// arguments and their own; both stop by themselves after `--duration`. Returns the receiver's
/// JSON lines.
fn run_pair(
    ns: &Namespace,
    common: &[&str],
    receiver_args: &[&str],
    sender_args: &[&str],
) -> Vec<serde_json::Value> {
    let spawn = |subcommand: &str, args: &[&str], stdout: Stdio| {
        ns.command(env!("CARGO_BIN_EXE_rmt-ref"))
            .arg(subcommand)
            .args(common)
            .args(args)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let receiver = spawn("webrc-recv", receiver_args, Stdio::piped());
    std::thread::sleep(Duration::from_millis(200));
    let sender = spawn("webrc-send", sender_args, Stdio::null());
    // The waits are bounded by --duration.
    let rx = receiver.wait_with_output().unwrap();
    let tx = sender.wait_with_output().unwrap();
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
    String::from_utf8(rx.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

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
    let lines = run_pair(
        &ns,
        &common,
        &[
            "--interface",
            "127.0.0.1",
            "--max-rate",
            "400",
            "--delay-ms",
            "40",
        ],
        &["--source", "127.0.0.1"],
    );
    drop(ns);
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

#[test]
fn an_ipv6_receiver_joins_and_leaves_wave_channels_with_mld() {
    if !Namespace::usable_by_test() {
        return;
    }
    let ns =
        Namespace::create(&format!("rmtkit-webrc6-{}", std::process::id())).expect("namespace");
    // IPv6 multicast is not looped back on lo: a veth pair, sender on one end, receiver on
    // the other.
    let (tx_if, rx_if) = ns.veth("wb0", "wb1").expect("veth pair");
    ns.add_address("wb0", "fd00::1/64").unwrap();
    ns.add_address("wb1", "fd00::2/64").unwrap();
    let common = [
        "--group",
        "[ff3e::db8:100]:3402",
        "--waves",
        "8",
        "--duration",
        "7",
    ];
    let lines = run_pair(
        &ns,
        &common,
        &["--interface", &rx_if.to_string(), "--max-rate", "300"],
        &["--source", &tx_if.to_string()],
    );
    drop(ns);
    let t = u64::from(WebrcParams::fast(8).t());
    let actions: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["action"].is_string()).collect();
    assert_eq!(actions[0]["cn"], t, "the base channel first");
    let wave_joins = actions
        .iter()
        .filter(|a| a["action"] == "join" && a["cn"] != t)
        .count();
    assert!(wave_joins >= 2, "{actions:?}");
    // The waves' packets arrived over MLD memberships: well above the base channel's 20/s.
    let per_second: Vec<u64> = lines.iter().filter_map(|l| l["packets"].as_u64()).collect();
    let late: u64 = per_second[3..6].iter().sum();
    assert!(late / 3 > 60, "{per_second:?} {actions:?}");
}
