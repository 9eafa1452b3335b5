//! Differential test against an independent dissector, tshark (Debian package `tshark`, which
//! `.ci/run` installs): on the bundled captures, for the fields tshark decodes correctly (TSI,
//! TOI, codepoint, A, B, and SBN/ESI for FEC Encoding ID 0), rmt-inspect's values, asked for by
//! Wireshark's field names, are identical for every packet.

use std::process::Command;

const FIELDS: [&str; 8] = [
    "frame.number",
    "rmt-lct.tsi",
    "rmt-lct.toi",
    "rmt-lct.codepoint",
    "rmt-lct.flags.close_session",
    "rmt-lct.flags.close_object",
    "rmt-fec.sbn",
    "rmt-fec.esi",
];

/// True when tshark runs here; CI must have it (.ci/run installs it), elsewhere the test is
/// skipped with a message.
fn tshark_or_skip() -> bool {
    let available = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have tshark (.ci/run installs it)"
        );
        eprintln!("SKIPPED: tshark is not installed (apt-get install tshark); CI runs this test");
    }
    available
}

/// tshark prints some integers in hex (`0x0000001f`): compare numbers by value.
fn normalise(line: &str) -> String {
    line.split('\t')
        .map(|v| match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).map_or(v.to_string(), |n| n.to_string()),
            None => v.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\t")
}

#[test]
fn same_fields_as_tshark_on_every_packet() {
    if !tshark_or_skip() {
        return;
    }
    for (capture, port) in [
        ("flute-nocode-1.pcap", 42001),
        ("rtlibflute-nocode-1.pcap", 40085),
        ("mclv3-nocode-1.pcap", 44001),
    ] {
        let path = rmt_vectors::captures_dir().join(capture);
        let fields: Vec<String> = FIELDS
            .iter()
            .flat_map(|f| ["-e".to_string(), f.to_string()])
            .collect();
        let theirs = Command::new("tshark")
            .arg("-r")
            .arg(&path)
            .args(["-d", &format!("udp.port=={port},alc"), "-T", "fields"])
            .args(&fields)
            .output()
            .unwrap();
        assert!(
            theirs.status.success(),
            "tshark: {}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let ours = Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
            .arg("-r")
            .arg(&path)
            .args(["-d", &format!("udp.port=={port}"), "-T", "fields"])
            .args(&fields)
            .output()
            .unwrap();
        assert!(ours.status.success());
        let theirs: Vec<String> = String::from_utf8_lossy(&theirs.stdout)
            .lines()
            .map(normalise)
            .collect();
        let ours: Vec<String> = String::from_utf8_lossy(&ours.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert!(
            theirs.len() > 4000,
            "{capture}: tshark printed {} lines",
            theirs.len()
        );
        assert_eq!(theirs.len(), ours.len(), "{capture}: packet counts");
        let differing: Vec<(usize, &String, &String)> = theirs
            .iter()
            .zip(&ours)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| (i + 1, a, b))
            .take(5)
            .collect();
        assert!(
            differing.is_empty(),
            "{capture}: differs from tshark in frames (frame, tshark, ours): {differing:?}"
        );
    }
}

#[test]
fn every_wireshark_alias_exists_in_tshark() {
    if !tshark_or_skip() {
        return;
    }
    let glossary = Command::new("tshark")
        .args(["-G", "fields"])
        .output()
        .unwrap();
    let known: std::collections::HashSet<String> = String::from_utf8_lossy(&glossary.stdout)
        .lines()
        .filter_map(|l| l.split('\t').nth(2).map(str::to_string))
        .collect();
    for field in rmt_inspector::inspect::fields::FIELDS {
        for alias in field.aliases {
            assert!(
                known.contains(*alias),
                "{} has alias {alias}, which tshark does not know",
                field.name
            );
        }
    }
}
