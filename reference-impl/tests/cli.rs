//! `rmt-ref` as users run it: the bundled captures through `recv --pcap` byte-exact, a
//! send-to-capture and receive round trip, the manifest, and the documented exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use rmt_reference::driver::output::read_manifest;

const OBJECTS: [(&str, u64, &str); 3] = [
    (
        "obj1-10240.bin",
        10240,
        "e39ba85cb109260fe41dc47c9f5c46cf01b24d0d9efe708f0aab310fbaef7799",
    ),
    (
        "obj2-1048576.bin",
        1048576,
        "f95dfc1a39c55c0f5900119018da4c0cabd87aa6a485e0cd84bf355d56742dfa",
    ),
    (
        "obj3-5242880.bin",
        5242880,
        "fb372a425e11874f3853b941dc1cfbccbf6878ed371ecf0e13a6ea85adc37add",
    ),
];

fn captures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/captures")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rmt-ref-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rmt_ref(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rmt-ref"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bundled_captures_are_received_byte_exact() {
    for (capture, tsi) in [
        ("flute-nocode-1.pcap", 1),
        ("rtlibflute-nocode-1.pcap", 16),
        ("mclv3-nocode-1.pcap", 5),
    ] {
        let out = tmp(capture);
        let o = rmt_ref(&[
            "recv",
            "--pcap",
            captures().join(capture).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{capture}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let m = read_manifest(&out).unwrap();
        assert_eq!(m.len(), 3, "{capture}");
        for (name, size, sha) in OBJECTS {
            let e = m
                .iter()
                .find(|e| e.path.ends_with(name))
                .unwrap_or_else(|| panic!("{capture}: {name}"));
            assert_eq!(
                (e.size, e.sha256.as_str(), e.tsi),
                (size, sha, tsi),
                "{capture}: {name}"
            );
            let written = std::fs::read(out.join(&e.path)).unwrap();
            assert_eq!(rmt_reference::driver::output::hex_digest(&written), sha);
        }
        std::fs::remove_dir_all(&out).ok();
    }
}

#[test]
fn send_to_a_capture_then_receive_it_in_both_modes() {
    let dir = tmp("roundtrip");
    let a = dir.join("a.bin");
    let b = dir.join("b.txt");
    std::fs::write(&a, rmt_reference::rng::SeededRng::new(3).bytes(250_000)).unwrap();
    std::fs::write(&b, b"hello, multicast\n").unwrap();
    for (mode, fec) in [("--flute", "ldpc:2/3"), ("--fcast", "rs")] {
        let pcap = dir.join(format!("s{mode}.pcap"));
        let o = rmt_ref(&[
            "send",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            mode,
            "--fec",
            fec,
            "--group",
            "233.252.0.1:3400",
            "--pcap-out",
            pcap.to_str().unwrap(),
            "--sdp-out",
            dir.join("s.sdp").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = dir.join(format!("out{mode}"));
        let o = rmt_ref(&[
            "recv",
            "--pcap",
            pcap.to_str().unwrap(),
            mode,
            "-d",
            "udp.port==3400",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("session complete"), "{stderr}");
        assert_eq!(
            std::fs::read(out.join("a.bin")).unwrap(),
            std::fs::read(&a).unwrap()
        );
        assert_eq!(
            std::fs::read(out.join("b.txt")).unwrap(),
            b"hello, multicast\n"
        );
        // The SDP describes the session (RFC 5651 §6.1): TSI, source, channel.
        let sdp = std::fs::read_to_string(dir.join("s.sdp")).unwrap();
        assert!(
            sdp.contains("a=flute-tsi:1\r\n") && sdp.contains("c=IN IP4 233.252.0.1/1\r\n"),
            "{sdp}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_gets_a_clear_error_and_its_exit_code() {
    let dir = tmp("bad");
    let out = dir.join("out");
    // Usage error: 2.
    let o = rmt_ref(&["recv", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--pcap"));
    let o = rmt_ref(&["send", "x", "--fec", "turbo"]);
    assert_eq!(o.status.code(), Some(2));
    // Unusable input: 3.
    let o = rmt_ref(&[
        "recv",
        "--pcap",
        dir.join("missing.pcap").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    std::fs::write(dir.join("junk.pcap"), b"not a capture at all").unwrap();
    let o = rmt_ref(&[
        "recv",
        "--pcap",
        dir.join("junk.pcap").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a pcap"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A truncated capture: 4, and what came before the cut is delivered.
    let full = std::fs::read(captures().join("flute-nocode-1.pcap")).unwrap();
    std::fs::write(dir.join("cut.pcap"), &full[..full.len() - 700]).unwrap();
    let o = rmt_ref(&[
        "recv",
        "--pcap",
        dir.join("cut.pcap").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m = read_manifest(&out).unwrap();
    assert!(m.iter().any(|e| e.path == "obj1-10240.bin"), "{m:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn man_page_and_completions_list_the_subcommands() {
    let generate = |kind: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_rmt-ref"))
            .args(["generate", kind])
            .output()
            .unwrap();
        assert!(out.status.success(), "generate {kind}");
        String::from_utf8(out.stdout).unwrap()
    };
    let (man, bash) = (generate("man"), generate("bash"));
    assert!(
        man.contains(".TH rmt-ref") && man.contains("webrc\\-send"),
        "{man}"
    );
    assert!(
        ["send", "recv", "webrc-recv", "generate"]
            .iter()
            .all(|c| bash.contains(c)),
        "{bash}"
    );
}
