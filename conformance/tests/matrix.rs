//! `rmt-conform matrix`: receivers × our sender's FLUTE flavours and third-party senders in
//! one run, with real verdicts, a JSON report and one HTML page (root: the multicast transport
//! and the senders' namespaces; CI runs it).

use std::path::Path;
use std::process::Command;

use rmt_reference::testkit::netns::Namespace;

#[test]
fn the_matrix_judges_receivers_per_flavour_and_senders_and_writes_json_and_html() {
    if !Namespace::usable_by_test() {
        return;
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_rmt-conform"))
        .parent()
        .unwrap();
    if !["rmt-ref", "rmt-flute-adapter"]
        .iter()
        .all(|b| bin.join(b).exists())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo test --workspace builds them"
        );
        eprintln!("SKIPPED: cargo build --workspace first");
        return;
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::env::temp_dir().join(format!("rmt-matrix-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    // A receiver set up wrongly: no source filter and no TSI, so it mixes two senders'
    // sessions of one TSI (RFC 5651 §5.1), a MUST failure: a red cell.
    let mixer = out.join("mixer.yaml");
    std::fs::write(
        &mixer,
        "name: mixer\nreceiver:\n  command: \"rmt-ref recv --group {group}:{port} --{mode} --fec-id {fec_id} --out {out} --idle 1\"\n",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_rmt-conform"))
        .args(["matrix", "--out", out.to_str().unwrap()])
        .args(["--receiver", "rmt-ref", "--receiver", "flute-crate"])
        .args([
            "--receiver",
            mixer.to_str().unwrap(),
            "--receiver",
            "rt-libflute",
        ])
        .args(["--flavor", "rfc6726", "--flavor", "rfc3926"])
        .args(["--sender", "rmt-ref", "--sender", "flute-crate"])
        .args([
            "--case",
            "rfc6726/3/sanity",
            "--case",
            "rfc6726/3.3/expired",
        ])
        .args(["--case", "rfc6726/3.4.2/fdt-complete"])
        .args(["--case", "rfc5651/5.1/tsi-second-sender"])
        .args(["--transport", "multicast"])
        .env("PATH", path)
        // rt-libflute is not installed here: its cells are skipped, saying what to set.
        .env_remove("RMT_RTLIBFLUTE_BIN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("matrix.json")).expect(&stderr)).unwrap();
    assert_eq!(m["schema"], "rmt-conform-matrix/1");
    let cells = m["receivers"].as_array().unwrap();
    assert_eq!(cells.len(), 8, "4 receivers × 2 flavours");
    let cell = |rx: &str, flavor: &str| {
        cells
            .iter()
            .find(|c| c["receiver"] == rx && c["flavor"] == flavor)
            .unwrap_or_else(|| panic!("no cell {rx} × {flavor}"))
    };
    let outcome = |c: &serde_json::Value, id: &str| -> String {
        c["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["outcome"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    const EXPIRED: &str = "rfc6726/3.3/expired-fdt-not-used";
    const MIXED: &str = "rfc5651/5.1/tsi-second-sender-not-merged";
    const COMPLETE: &str = "rfc6726/3.4.2/fdt-complete";
    for flavor in ["rfc6726", "rfc3926"] {
        let ours = cell("rmt-ref", flavor);
        assert_eq!(ours["transport"], "multicast");
        assert_eq!(ours["exit_code"], 0, "{ours:#}");
        assert_eq!(outcome(ours, EXPIRED), "pass");
        // The flute crate ends on a close-session, not on a Complete FDT (a SHOULD: warn).
        let crate_cell = cell("flute-crate", flavor);
        assert_eq!(outcome(crate_cell, EXPIRED), "pass", "{crate_cell:#}");
        assert_eq!(outcome(crate_cell, MIXED), "pass", "{crate_cell:#}");
        assert_eq!(outcome(crate_cell, COMPLETE), "warn", "{crate_cell:#}");
        assert_eq!(crate_cell["exit_code"], 0);
        let mixer = cell("mixer", flavor);
        assert_eq!(
            outcome(mixer, "rfc6726/3/sanity-first"),
            "pass",
            "{mixer:#}"
        );
        assert_eq!(outcome(mixer, MIXED), "fail", "{mixer:#}");
        assert_eq!(mixer["exit_code"], 1);
        let absent = cell("rt-libflute", flavor);
        assert_eq!(outcome(absent, "rfc6726/3/sanity-first"), "skipped");
        assert_eq!(absent["exit_code"], 0);
        assert!(absent["results"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("RMT_RTLIBFLUTE_BIN"));
    }
    let senders = m["senders"].as_array().unwrap();
    let sender = |name: &str| senders.iter().find(|s| s["sender"] == name).unwrap();
    let ours = sender("rmt-ref");
    assert_eq!(ours["not_judged"], "", "{ours:#}");
    assert_eq!(ours["exit_code"], 0, "{ours:#}");
    assert_eq!(ours["flavor"], "rfc6726");
    let capture = std::fs::read(out.join(ours["capture"].as_str().unwrap())).unwrap();
    // Sent from the namespace's 127.0.0.1 (its multicast route names the source), not 0.0.0.0.
    let tracked = rmt_inspector::inspect::check::track_capture(
        &capture,
        vec![],
        rmt_inspector::wire::alc::AlcContext::default(),
    )
    .unwrap();
    let senders: Vec<String> = tracked
        .sessions
        .sessions
        .values()
        .map(|s| s.sender.to_string())
        .collect();
    assert_eq!(senders, ["127.0.0.1"]);
    // The flute crate's sender: an FEC Instance ID for a Fully-Specified scheme (interop.md).
    let theirs = sender("flute-crate");
    let fails: Vec<&str> = theirs["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "fail")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        fails,
        ["rfc5052/6.2.4/no-instance-id-for-fully-specified"],
        "{theirs:#}"
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "a failing cell fails the matrix: {stderr}"
    );
    // The page: a coloured cell per run, linking to its cases, their logs and the RFC text.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for (class, anchor) in [
        ("fail", "r-mixer-rfc6726"),
        ("warn", "r-flute-crate-rfc3926"),
        ("pass", "r-rmt-ref-rfc3926"),
        ("none", "r-rt-libflute-rfc6726"),
    ] {
        let td = format!("<td class=\"{class}\"><a href=\"#{anchor}\">");
        assert!(html.contains(&td), "{td} in {html}");
        assert!(html.contains(&format!("id=\"{anchor}\"")));
    }
    let evidence = "receivers/mixer/rfc6726/rfc5651_5.1_tsi-second-sender-not-merged";
    assert!(html.contains(&format!("href=\"{evidence}/log.txt\"")));
    assert!(out.join(evidence).join("capture.pcap").exists());
    assert!(
        html.contains("from a second sender address"),
        "the RFC sentence"
    );
    assert!(!html.contains("<script"), "self-contained, no script");
    std::fs::remove_dir_all(&out).ok();
}
