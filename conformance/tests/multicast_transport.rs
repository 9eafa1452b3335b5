//! `rmt-conform run` over real multicast in a namespace it makes (root; CI runs them all): a
//! receiver that only joins groups is tested there and not over loopback, the reference
//! receiver as a process passes in every FLUTE flavour, and a receiver that dies on a
//! multicast datagram is a crash naming the frames.

use std::path::{Path, PathBuf};
use std::process::Command;

use rmt_reference::testkit::netns::Namespace;

/// The folder of the workspace binaries, and a PATH that finds them first.
fn path_with_binaries() -> Option<String> {
    let dir = Path::new(env!("CARGO_BIN_EXE_rmt-conform"))
        .parent()
        .unwrap()
        .to_path_buf();
    if !dir.join("rmt-ref").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo test --workspace builds rmt-ref"
        );
        eprintln!("SKIPPED: build rmt-ref first (cargo build --workspace)");
        return None;
    }
    Some(format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    ))
}

fn profile(dir: &Path, name: &str, command: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!("name: {name}\nreceiver:\n  command: {command:?}\n  startup_ms: 300\n  grace_ms: 1500\n"),
    )
    .unwrap();
    p
}

/// `rmt-conform run` with `args`: the JSON report and the exit code; the run's namespace is
/// gone when it returns.
fn run(path: &str, args: &[&str]) -> (serde_json::Value, Option<i32>) {
    let json = std::env::temp_dir().join(format!(
        "rmt-conform-mc-{}-{:?}.json",
        std::process::id(),
        std::thread::current().id()
    ));
    let child = Command::new(env!("CARGO_BIN_EXE_rmt-conform"))
        .arg("run")
        .args(args)
        .args(["--json", json.to_str().unwrap()])
        .env("PATH", path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    no_namespace_left(pid);
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    std::fs::remove_file(&json).ok();
    assert!(
        !report.is_null(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (report, out.status.code())
}

fn outcomes(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["outcome"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The namespace a run of process `pid` made is removed.
fn no_namespace_left(pid: u32) {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    let its = format!("rmtkit-run-{pid}-");
    assert!(!list.contains(&its), "{list}");
}

/// The PATH for runs, when the test can run here (root for namespaces, the binaries built).
fn setup() -> Option<String> {
    if !Namespace::usable_by_test() {
        return None;
    }
    path_with_binaries()
}

#[test]
fn a_receiver_that_only_joins_groups_is_tested_over_multicast_not_over_loopback() {
    let Some(path) = setup() else {
        return;
    };
    let dir = tempdir("joins-only");
    // Like rt-libflute's receiver: it takes a multicast group or nothing.
    let p = profile(
        &dir,
        "joins-only",
        "case {group} in 233.252.*) exec rmt-ref recv --group {group}:{port} --source {source} --tsi {tsi} --{mode} --fec-id {fec_id} --out {out} --idle 1 ;; *) echo \"{group} is not a multicast group\" >&2; exit 1 ;; esac",
    );
    let cases = ["--case", "rfc6726/3/sanity", "--case", "rfc5651/5.1/tsi"];
    let sut = p.to_str().unwrap();
    let mut args = vec!["--sut", sut, "--transport", "loopback"];
    args.extend(cases);
    let (report, code) = run(&path, &args);
    assert_eq!(code, Some(3), "loopback: not tested, {report:#}");
    let first = &outcomes(&report)[0];
    assert_eq!(first.1, "could-not-test", "{first:?}");
    assert!(
        first.2.contains("before the first datagram") && first.2.contains("not a multicast group"),
        "{first:?}"
    );
    let mut args = vec!["--sut", sut, "--transport", "multicast"];
    args.extend(cases);
    let (report, code) = run(&path, &args);
    assert_eq!(report["transport"], "multicast");
    let all = outcomes(&report);
    assert!(
        all.iter().all(|(_, o, _)| o == "pass"),
        "multicast: {all:#?}"
    );
    // The second sender's datagrams came from another address in the namespace: the receiver
    // (an SSM join on {source}) kept the sessions apart.
    assert!(all
        .iter()
        .any(|(id, ..)| id == "rfc5651/5.1/tsi-second-sender-not-merged"));
    assert_eq!(code, Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_reference_receiver_passes_over_multicast_in_every_flute_flavour() {
    let Some(path) = setup() else {
        return;
    };
    for flavor in ["rfc6726", "rfc3926", "3gpp", "3gpp-2022"] {
        let (report, code) = run(
            &path,
            &[
                "--sut",
                "rmt-ref",
                "--transport",
                "multicast",
                "--flavor",
                flavor,
                "--case",
                "rfc6726/3/sanity",
                "--case",
                "rfc6726/3.4.1/",
                "--case",
                "rfc6968/3/sanity",
                "--case",
                "rfc5651/5.1/reserved-bits",
            ],
        );
        assert_eq!(report["flavor"], flavor);
        let all = outcomes(&report);
        assert!(
            all.iter()
                .any(|(id, ..)| id == "rfc6726/3.4.1/fdt-instance-id-wrap"),
            "{all:?}"
        );
        for (id, o, d) in &all {
            // FCAST is RFC 6726's sender's alone; FLUTE v1 (RFC 3451's LCT) has T and R
            // where RFC 5651 reserves two bits.
            let v1 = flavor == "rfc3926" || flavor == "3gpp";
            let expected = if (id.starts_with("rfc6968/") && flavor != "rfc6726")
                || (id == "rfc5651/5.1/reserved-bits-ignored" && v1)
            {
                "not-applicable"
            } else {
                "pass"
            };
            assert_eq!(o, expected, "{flavor} {id}: {d}");
        }
        assert_eq!(code, Some(0), "{flavor}");
    }
}

#[test]
fn a_receiver_that_dies_on_a_multicast_datagram_is_a_crash_naming_the_frames() {
    let Some(path) = setup() else {
        return;
    };
    let dir = tempdir("dies");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/receivers/dies_on_datagram.py");
    let p = profile(
        &dir,
        "dies",
        &format!(
            "exec python3 {} --group {{group}} --port {{port}} --after 3 --signal ABRT",
            script.display()
        ),
    );
    let (report, code) = run(
        &path,
        &[
            "--sut",
            p.to_str().unwrap(),
            "--transport",
            "multicast",
            "--case",
            "rfc6726/3/sanity-first",
        ],
    );
    let (_, o, d) = &outcomes(&report)[0];
    assert_eq!(o, "crash", "{d}");
    assert!(d.contains("signal 6") && d.contains("frames"), "{d}");
    // A sanity case that does not pass leaves the receiver unjudged: exit 3.
    assert_eq!(code, Some(3));
    std::fs::remove_dir_all(&dir).ok();
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rmt-mc-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `Network::ready` says a port is ready only once a socket is bound to it and the group is
/// joined inside the namespace: the run waits on it before each case, so a `ready` that said
/// yes too early would send a case to a receiver that is not listening yet.
#[test]
fn a_port_is_ready_only_once_bound_and_joined_inside_the_namespace() {
    if !Namespace::usable_by_test() {
        return;
    }
    use rmt_conformance::transport::{Network, Transport, GROUP};
    use std::net::{IpAddr, Ipv4Addr};
    let network = Network::open(Transport::Multicast).unwrap();
    let socket = network
        .sender_socket(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    assert!(!network.ready(port), "bound but the group is not joined");
    socket
        .join_multicast_v4(&GROUP, &Ipv4Addr::UNSPECIFIED)
        .unwrap();
    assert!(network.ready(port), "bound and joined");
    let other = if port == u16::MAX { port - 1 } else { port + 1 };
    assert!(
        !network.ready(other),
        "joined, but nothing is bound to {other}"
    );
}
