//! rmt-inspect through its binary: output modes, display filters and aliases, the glossary,
//! statistics tables (snapshots, reviewed), exit codes, and bad input that keeps what was read.

use std::path::PathBuf;
use std::process::{Command, Output};

fn capture(name: &str) -> PathBuf {
    rmt_vectors::captures_dir().join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn flute() -> String {
    capture("flute-nocode-1.pcap").display().to_string()
}

#[test]
fn statistics_tables_for_the_bundled_captures() {
    for name in [
        "flute-nocode-1.pcap",
        "rtlibflute-nocode-1.pcap",
        "mclv3-nocode-1.pcap",
    ] {
        let o = run(&[
            "-r",
            capture(name).to_str().unwrap(),
            "-q",
            "-z",
            "sessions",
            "-z",
            "objects",
            "-z",
            "findings",
            "-z",
            "fdt",
        ]);
        assert!(o.status.success());
        insta::assert_snapshot!(format!("z_tables_{name}"), stdout(&o));
    }
}

#[test]
fn json_lines_one_per_packet_numbered_from_one() {
    let o = run(&["-r", &flute(), "-T", "json"]);
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 4430);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["frame"], i as u64 + 1);
        assert!(v["findings"].is_array());
    }
    assert_eq!(lines[0]["layers"]["lct"]["tsi"], 1);
    let exts = lines[0]["layers"]["lct"]["extensions"]
        .as_array()
        .expect("repeated fields are arrays");
    assert!(
        exts.len() >= 3 && exts.iter().any(|e| e["ext"] == "fdt"),
        "{exts:?}"
    );
    assert_eq!(lines[4429]["layers"]["lct"]["close_session"], true);
}

#[test]
fn json_statistics_link_objects_to_sessions() {
    let o = run(&[
        "-r",
        &flute(),
        "-q",
        "-T",
        "json",
        "-z",
        "sessions",
        "-z",
        "objects",
    ]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let session = lines.iter().find(|l| l["log"] == "sessions").unwrap();
    let objects: Vec<&serde_json::Value> = lines.iter().filter(|l| l["log"] == "objects").collect();
    assert_eq!(objects.len(), 3);
    assert!(objects
        .iter()
        .all(|o| o["session"] == session["uid"] && o["recoverable"] == true));
    for o in &objects {
        let blocks = o["blocks"].as_array().unwrap();
        let received: u64 = blocks.iter().map(|b| b["received"].as_u64().unwrap()).sum();
        assert_eq!(
            received,
            o["symbols_received"].as_u64().unwrap(),
            "per-block counts add up"
        );
        assert!(blocks.iter().all(|b| b["received"] == b["needed"]));
    }
    let toi3 = objects.iter().find(|o| o["toi"] == "3").unwrap();
    // 5,242,880 bytes / 1424 = 3682 symbols, B = 64: 58 blocks (RFC 5052 §9.1).
    assert_eq!(toi3["blocks"].as_array().unwrap().len(), 58);
}

#[test]
fn fields_with_aliases_and_empty_values() {
    let o = run(&[
        "-r",
        &flute(),
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "rmt-lct.toi",
        "-e",
        "fec.esi",
        "-e",
        "flute.fdt.instance_id",
        "-E",
        "separator=;",
        "-c",
        "3",
    ]);
    assert_eq!(stdout(&o), "1;0;0;1\n2;0;1;1\n3;1;0;\n");
    let last = run(&[
        "-r",
        &flute(),
        "-T",
        "fields",
        "-e",
        "lct.toi",
        "-e",
        "lct.close_session",
        "-Y",
        "lct.close_session == 1",
    ]);
    assert_eq!(
        stdout(&last),
        "\t1\n",
        "the close-session packet has no TOI: an empty column"
    );
}

#[test]
fn display_filters_select_packets() {
    let count = |f: &str| stdout(&run(&["-r", &flute(), "-Y", f])).lines().count();
    assert_eq!(count("lct.toi == 1"), 8);
    assert_eq!(count("rmt-lct.toi == 1"), 8, "Wireshark alias");
    assert_eq!(count("lct.toi == 1 && fec.esi >= 6"), 2);
    assert_eq!(count("lct.toi == 1 && !(fec.esi < 7)"), 1);
    assert_eq!(count("lct.toi == 0 || lct.close_session == 1"), 3);
    // As in Wireshark, a bare field tests presence: a flag is present (0 or 1) in every packet.
    assert_eq!(count("lct.close_session"), 4430);
    assert_eq!(count("lct.close_object == 1 and lct.toi > 2"), 1);
    assert_eq!(count("flute.fdt.instance_id"), 2);
    assert_eq!(
        count("lct.toi != 3"),
        4430 - 3682 - 1,
        "!= needs the field present"
    );
    assert_eq!(count("ip.dst == 127.0.0.1 && udp.dstport == 42001"), 4430);
}

#[test]
fn bad_filters_and_fields_are_usage_errors() {
    for (args, needle) in [
        (vec!["-Y", "lct.toi =="], "column"),
        (vec!["-Y", "lct.tio == 1"], "unknown field"),
        (vec!["-Y", "lct.toi == abc"], "not an unsigned number"),
        (vec!["-Y", "(lct.toi == 1"], "expected ')'"),
        (vec!["-T", "fields", "-e", "nope"], "unknown field"),
        (vec!["-T", "fields"], "-e FIELD"),
    ] {
        let mut a = vec!["-r", "/nonexistent-not-read.pcap"];
        a.extend(args);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2), "{a:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{a:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn glossary_lists_fields_with_aliases() {
    let o = run(&["-G", "fields"]);
    let g = stdout(&o);
    assert!(g
        .lines()
        .any(|l| l.starts_with("lct.tsi\tuint\trmt-lct.tsi\t")));
    assert!(g.lines().any(|l| l.starts_with("fec.esi\t")));
    assert!(g.lines().count() >= 40);
}

#[test]
fn glossary_lists_every_registry_entry_with_severity_rule_and_summary() {
    let o = run(&["-G", "findings"]);
    assert!(o.status.success());
    let g = stdout(&o);
    let lines: Vec<&str> = g.lines().collect();
    assert_eq!(lines.len(), rmt_inspector::registry::ALL.len());
    for (line, kind) in lines.iter().zip(rmt_inspector::registry::ALL) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[0], kind.id, "{line}");
        assert_eq!(cols[2], kind.rule, "{line}");
        assert_eq!(cols[3], kind.summary, "{line}");
    }
    assert!(lines
        .iter()
        .any(|l| l.starts_with("lct.version.unsupported\terror\tRFC 5651 §5.1\t")));
}

#[test]
fn missing_file_is_exit_1_and_truncated_capture_is_exit_3_after_processing() {
    assert_eq!(run(&["-r", "/nonexistent.pcap"]).status.code(), Some(1));
    let bytes = std::fs::read(capture("flute-nocode-1.pcap")).unwrap();
    let cut = std::env::temp_dir().join(format!("rmtkit-cut-{}.pcap", std::process::id()));
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&[
        "-r",
        cut.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("truncated or corrupt after frame"), "{err}");
    let frames = stdout(&o).lines().count();
    assert!(
        frames > 2000,
        "the packets before the break are processed ({frames})"
    );
    assert!(err.contains(&format!("after frame {frames}")), "{err}");
    let _ = std::fs::remove_file(&cut);
    let garbage = std::env::temp_dir().join(format!("rmtkit-garbage-{}.pcap", std::process::id()));
    std::fs::write(&garbage, b"this is not a capture").unwrap();
    assert_eq!(
        run(&["-r", garbage.to_str().unwrap()]).status.code(),
        Some(1)
    );
    let _ = std::fs::remove_file(&garbage);
}

#[test]
fn decode_as_selects_flows() {
    let tsis = |decode_as: &str| {
        let out = run(&[
            "-r",
            &flute(),
            "-d",
            decode_as,
            "-T",
            "fields",
            "-e",
            "lct.tsi",
            "-c",
            "2",
        ]);
        stdout(&out)
    };
    assert_eq!(tsis("udp.port==9"), "\n\n", "port 9 carries no ALC");
    assert_eq!(tsis("udp.port==42001"), "1\n1\n");
    let heuristic = run(&["-r", &flute(), "-c", "2"]);
    assert!(String::from_utf8_lossy(&heuristic.stderr)
        .contains("decoded as ALC: 127.0.0.1:59688 -> 127.0.0.1:42001"));
}

#[test]
fn verbose_tree_and_hex_dump() {
    let o = stdout(&run(&["-r", &flute(), "-V", "-x", "-c", "1"]));
    assert!(o.starts_with("Frame 1: 1518 bytes on wire"), "{o}");
    assert!(o.contains("\n        Transport Session Identifier (TSI): 1\n"));
    assert!(o.contains("\n0000  "), "hex dump");
}

/// The `-V` trees of the first frames of each bundled capture (FDT Instance and object
/// packets; a FLUTE v1 finding on the MCLv3 and rt-libflute FDT packets), reviewed side by side
/// with `tshark -V` of the same frames (`tshark.rs` checks the shared lines automatically).
#[test]
fn verbose_trees_of_the_bundled_captures() {
    for capture in [
        "flute-nocode-1.pcap",
        "rtlibflute-nocode-1.pcap",
        "mclv3-nocode-1.pcap",
    ] {
        let path = rmt_vectors::captures_dir().join(capture);
        let o = run(&["-r", path.to_str().unwrap(), "-V", "-c", "3"]);
        assert!(o.status.success());
        insta::assert_snapshot!(format!("verbose_{capture}"), stdout(&o));
    }
}

#[test]
fn write_filtered_packets_as_pcapng_and_read_them_back() {
    let out = std::env::temp_dir().join(format!("rmtkit-w-{}.pcapng", std::process::id()));
    let o = run(&[
        "-r",
        &flute(),
        "-Y",
        "lct.toi == 2 && fec.sbn == 3",
        "-w",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let fields = [
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "lct.toi",
        "-e",
        "fec.sbn",
        "-e",
        "fec.esi",
        "-e",
        "frame.len",
    ];
    let flute_path = flute();
    let mut direct_args = vec![
        "-r",
        flute_path.as_str(),
        "-Y",
        "lct.toi == 2 && fec.sbn == 3",
    ];
    direct_args.extend(fields);
    let direct = stdout(&run(&direct_args));
    let mut back_args = vec!["-r", out.to_str().unwrap()];
    back_args.extend(fields);
    let back = stdout(&run(&back_args));
    // TOI 2: 1,048,576 bytes = 737 symbols of 1424, B = 64: 12 blocks, the first 5 of 62
    // symbols (RFC 5052 §9.1), so block 3 has 62.
    assert_eq!(back.lines().count(), 62);
    assert_eq!(
        back, direct,
        "same packets, times and lengths after the pcapng round trip"
    );
    let _ = std::fs::remove_file(&out);
}

/// A capture long enough for several batches between the reading and the processing threads
/// (each prints part of every batch): the output is every packet once, in capture order, in
/// every mode, with and without a filter, and -c stops at the right packet.
#[test]
fn long_captures_print_every_packet_once_in_order() {
    use std::net::Ipv4Addr;
    use std::time::Duration;
    let n = 5000u32;
    let frames = (0..n).map(|i| {
        let mut lct = vec![0x10, 0xA0, 4, 0, 0, 0, 0, 0];
        lct.extend_from_slice(&9u32.to_be_bytes());
        lct.extend_from_slice(&(1 + i % 7).to_be_bytes());
        lct.extend_from_slice(&((i / 7) as u16).to_be_bytes());
        lct.extend_from_slice(&0u16.to_be_bytes());
        lct.extend_from_slice(&[0xAB; 100]);
        (
            Duration::from_micros(u64::from(i) * 10),
            rmt_inspector::wire::frame::Frame::ipv4_udp(
                (Ipv4Addr::new(10, 0, 0, 1), 40000),
                (Ipv4Addr::new(233, 252, 0, 1), 3400),
                &lct,
                false,
            ),
        )
    });
    let path = std::env::temp_dir().join(format!("rmtkit-cli-long-{}.pcap", std::process::id()));
    rmt_inspector::capture::writer::write_pcap(&path, frames).unwrap();
    let p = path.to_str().unwrap();
    let frame_numbers = |args: &[&str]| -> Vec<u64> {
        let o = run(&[&["-r", p], args].concat());
        assert!(o.status.success(), "{args:?}");
        stdout(&o)
            .lines()
            .map(|l| {
                let first = l.split(['\t', ',', ' ']).find(|w| !w.is_empty()).unwrap();
                first
                    .trim_start_matches("{\"frame\":")
                    .parse()
                    .unwrap_or_else(|_| panic!("{l}"))
            })
            .collect()
    };
    let all: Vec<u64> = (1..=u64::from(n)).collect();
    assert_eq!(frame_numbers(&["-T", "fields", "-e", "frame.number"]), all);
    assert_eq!(frame_numbers(&["-T", "json"]), all);
    assert_eq!(frame_numbers(&[]), all);
    let toi3: Vec<u64> = all.iter().copied().filter(|f| (f - 1) % 7 == 2).collect();
    assert_eq!(frame_numbers(&["-T", "json", "-Y", "lct.toi == 3"]), toi3);
    assert_eq!(
        frame_numbers(&["-T", "fields", "-e", "frame.number", "-c", "2345"]),
        all[..2345]
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn man_page_and_shell_completions_come_from_the_options() {
    let man = run(&["--generate", "man"]);
    assert!(man.status.success());
    let page = stdout(&man);
    assert!(page.contains(".TH rmt-inspect"), "{page}");
    // Every option is in the page (roff writes a hyphen as \-).
    for option in ["export\\-objects", "\\-\\-generate", "\\-G"] {
        assert!(page.contains(option), "{option} missing from the man page");
    }
    let bash = stdout(&run(&["--generate", "bash"]));
    assert!(
        bash.contains("complete -F _rmt__inspect") && bash.contains("--export-objects"),
        "{bash}"
    );
    assert!(stdout(&run(&["--generate", "zsh"])).starts_with("#compdef rmt-inspect"));
    assert!(stdout(&run(&["--generate", "fish"])).contains("complete -c rmt-inspect"));
    assert!(
        !run(&["--generate", "tcsh"]).status.success(),
        "an unknown kind is a usage error"
    );
}

/// Runs `args` with standard error on a pseudo-terminal (util-linux `script`, which Debian
/// always has) and returns what the terminal showed.
fn on_a_terminal(program: &str, args: &[&str]) -> String {
    let command = std::iter::once(program)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_progress_bar_on_a_terminal_and_none_in_a_pipe() {
    // The bundled captures (6.4 MiB) are over the 4 MiB from which reading shows a bar.
    let args = ["-r", &flute(), "-q", "-z", "sessions"];
    let tty = on_a_terminal(env!("CARGO_BIN_EXE_rmt-inspect"), &args);
    assert!(
        tty.contains("rmt-inspect [") && tty.contains("MiB/6.39 MiB"),
        "a bar on the terminal: {tty:?}"
    );
    let piped = run(&args);
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !err.contains('\r') && !err.contains('\u{1b}') && !err.contains("rmt-inspect ["),
        "no bar in a pipe: {err:?}"
    );
    // The table is printed either way.
    assert!(stdout(&piped).contains("42001") && tty.contains("42001"));
}
