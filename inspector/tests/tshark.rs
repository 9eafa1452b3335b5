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

/// tshark (decoding `port` as ALC) and rmt-inspect (`-d udp.port==port`) on one capture with
/// the same further arguments; both must succeed.
fn tshark_and_ours(
    path: &std::path::Path,
    port: u16,
    args: &[&str],
) -> (std::process::Output, std::process::Output) {
    let run = |program: &str, decode_as: String| {
        let out = Command::new(program)
            .arg("-r")
            .arg(path)
            .args(["-d", &decode_as])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    (
        run("tshark", format!("udp.port=={port},alc")),
        run(
            env!("CARGO_BIN_EXE_rmt-inspect"),
            format!("udp.port=={port}"),
        ),
    )
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
        let mut args = vec!["-T", "fields"];
        args.extend(fields.iter().map(String::as_str));
        let (theirs, ours) = tshark_and_ours(&path, port, &args);
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

/// One packet of `-V` output per element (split at the `Frame N:` lines).
fn packets(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Frame ") {
            out.push(Vec::new());
        }
        if let Some(p) = out.last_mut() {
            if !line.trim().is_empty() {
                p.push(line.to_string());
            }
        }
    }
    out
}

/// A tree line without its indentation and without the RFC abbreviation in parentheses that
/// rmt-inspect adds to a label (`Close Object flag (B): Set` reads `Close Object flag: Set`).
fn without_abbreviation(line: &str) -> String {
    let line = line.trim();
    let (head, label_and_value) = match line.split_once(" = ") {
        Some((bits, rest)) => (format!("{bits} = "), rest),
        None => (String::new(), line),
    };
    let Some((label, value)) = label_and_value.split_once(": ") else {
        return line.to_string();
    };
    let label = match label.rsplit_once(" (") {
        Some((short, abbrev)) if abbrev.ends_with(')') && !abbrev.contains(' ') => short,
        _ => label,
    };
    format!("{head}{label}: {value}")
}

/// The integer a value starts with (`48`, `0x00000003`, `1604 bytes`, `12 (48 bytes)`).
fn leading_number(value: &str) -> Option<u64> {
    let v = value.trim();
    if let Some(hex) = v.strip_prefix("0x") {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        return u64::from_str_radix(&digits, 16).ok();
    }
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The value of the first line labelled `label` (after indentation and abbreviations).
fn value_of(lines: &[String], label: &str) -> Option<String> {
    lines.iter().map(|l| without_abbreviation(l)).find_map(|l| {
        let rest = l
            .split_once(" = ")
            .map_or(l.as_str(), |(_, r)| r)
            .to_string();
        rest.strip_prefix(&format!("{label}: ")).map(str::to_string)
    })
}

#[test]
fn verbose_tree_reads_like_tsharks_on_the_bundled_captures() {
    if !tshark_or_skip() {
        return;
    }
    // (our label, tshark's label, how many of our bytes one unit of tshark's value is): the
    // labelled values both trees print, compared by value.
    const SAME_VALUES: [(&str, &str, u64); 9] = [
        (
            "Transport Session Identifier",
            "Transport Session Identifier",
            1,
        ),
        (
            "Transport Object Identifier",
            "Transport Object Identifier",
            1,
        ),
        ("Codepoint", "Codepoint", 1),
        ("Source Block Number", "Source Block Number", 1),
        ("Encoding Symbol ID", "Encoding Symbol ID", 1),
        ("Transfer Length", "Transfer Length", 1),
        ("Encoding Symbol Length", "Encoding Symbol Length", 1),
        (
            "Maximum Source Block Length",
            "Maximum Source Block Length",
            1,
        ),
        // Ours counts 32-bit words, as HDR_LEN does; tshark prints bytes.
        ("Header length", "Header length", 4),
    ];
    let mut compared = std::collections::BTreeMap::<String, usize>::new();
    for (capture, port) in [
        ("flute-nocode-1.pcap", 42001),
        ("rtlibflute-nocode-1.pcap", 40085),
        ("mclv3-nocode-1.pcap", 44001),
    ] {
        let path = rmt_vectors::captures_dir().join(capture);
        // The first 30 frames hold FDT Instances and object packets of every capture.
        let (theirs, ours) = tshark_and_ours(&path, port, &["-V", "-c", "30"]);
        let theirs = packets(&String::from_utf8_lossy(&theirs.stdout));
        let ours = packets(&String::from_utf8_lossy(&ours.stdout));
        assert_eq!(theirs.len(), 30, "{capture}: tshark's packets");
        assert_eq!(ours.len(), 30, "{capture}: our packets");
        for (n, (t, o)) in theirs.iter().zip(&ours).enumerate() {
            let at = format!("{capture} frame {}", n + 1);
            // Layers in wire order, the Frame, IP and UDP titles word for word.
            let titles = |p: &[String]| -> Vec<String> {
                p.iter()
                    .filter(|l| !l.starts_with(' '))
                    .map(|l| l.split(',').next().unwrap_or("").to_string())
                    .collect()
            };
            assert_eq!(
                titles(o),
                [
                    format!(
                        "Frame {}: {}",
                        n + 1,
                        t[0].split(": ").nth(1).unwrap().split(',').next().unwrap()
                    ),
                    "Ethernet II".to_string(),
                    "Internet Protocol Version 4".to_string(),
                    "User Datagram Protocol".to_string(),
                    "Asynchronous Layered Coding (ALC".to_string(),
                ],
                "{at}: layers"
            );
            for title in o.iter().filter(|l| !l.starts_with(' ')) {
                if !title.starts_with("Ethernet") && !title.starts_with("Asynchronous") {
                    assert!(t.contains(title), "{at}: tshark has no line {title:?}");
                }
            }
            // Every IPv4 and UDP line that does not judge a checksum is tshark's, word for
            // word and in the same order (tshark has more lines in between).
            let split = |p: &[String]| -> (Vec<String>, Vec<String>) {
                let alc = p
                    .iter()
                    .position(|l| l.starts_with("Asynchronous Layered Coding"))
                    .unwrap_or(p.len());
                (p[..alc].to_vec(), p[alc..].to_vec())
            };
            let (t_ip, t_alc) = split(t);
            let (o_ip, o_alc) = split(o);
            let ip_start = o_ip.iter().position(|l| l.starts_with("Internet")).unwrap();
            let mut from = 0;
            for line in &o_ip[ip_start..] {
                if line.contains("Checksum") {
                    continue;
                }
                match t_ip[from..].iter().position(|l| l == line) {
                    Some(i) => from += i + 1,
                    None => panic!("{at}: tshark has no line {line:?} (in order)\n{t_ip:#?}"),
                }
                *compared.entry("IP/UDP lines".into()).or_default() += 1;
            }
            // Bit fields both draw (LCT's version and flags, EXT_FDT's fields) are drawn alike.
            for line in o_alc.iter().filter(|l| l.contains(" = ")) {
                let ours = without_abbreviation(line);
                let label = ours
                    .split(" = ")
                    .nth(1)
                    .unwrap()
                    .split(": ")
                    .next()
                    .unwrap();
                let theirs = t_alc.iter().map(|l| without_abbreviation(l)).find(|l| {
                    l.split(" = ")
                        .nth(1)
                        .is_some_and(|r| r.starts_with(&format!("{label}: ")))
                });
                if let Some(theirs) = theirs {
                    assert_eq!(ours, theirs, "{at}: bit field {label}");
                    *compared.entry(format!("bits: {label}")).or_default() += 1;
                }
            }
            for (mine, tsharks, unit) in SAME_VALUES {
                let (Some(a), Some(b)) = (value_of(&o_alc, mine), value_of(&t_alc, tsharks)) else {
                    continue;
                };
                assert_eq!(
                    leading_number(&a).map(|v| v * unit),
                    leading_number(&b),
                    "{at}: {mine}: ours {a:?}, tshark {b:?}"
                );
                *compared.entry(mine.to_string()).or_default() += 1;
            }
        }
    }
    // The comparison must have happened: each label met, on many packets.
    for label in SAME_VALUES.iter().map(|s| s.0.to_string()).chain(
        [
            "Version",
            "Close Session flag",
            "Close Object flag",
            "FLUTE version",
            "FDT Instance ID",
        ]
        .iter()
        .map(|l| format!("bits: {l}")),
    ) {
        assert!(
            compared.get(&label).is_some_and(|&n| n > 0),
            "never compared: {label}; {compared:?}"
        );
    }
    assert!(compared["IP/UDP lines"] > 90 * 15, "{compared:?}");
}
