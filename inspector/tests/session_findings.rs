//! Session-level findings through rmt-inspect: each crafted capture breaks one rule that needs
//! more than one packet to see, and the finding with its ID must come out of `-z findings`.
//! Packets are built with the wire layer's emitters.

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rmt_inspector::wire::ext_fdt::ExtFdt;
use rmt_inspector::wire::ext_fti::{ExtFti, FecOti};
use rmt_inspector::wire::fec_payload_id::FecPayloadId;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::lct::{ExtensionBody, HeaderExtension, LctRepr};

/// One ALC packet: TSI 1, FEC Encoding ID 0, optional EXT_FTI (transfer length) and EXT_FDT.
#[derive(Clone)]
struct Pkt {
    toi: Option<u128>,
    sbn: u32,
    esi: u32,
    len: usize,
    fti_tl: Option<u64>,
    fdt: Option<u32>,
    a: bool,
    b: bool,
    cp: u8,
    payload: Option<Vec<u8>>,
    /// LCT O (TOI width in 32-bit words, with H = 0) and C (CCI width).
    o: u8,
    c: u8,
}

fn pkt(toi: u128, sbn: u32, esi: u32, len: usize) -> Pkt {
    Pkt {
        toi: Some(toi),
        sbn,
        esi,
        len,
        fti_tl: Some(10_000),
        fdt: None,
        a: false,
        b: false,
        cp: 0,
        payload: None,
        o: 1,
        c: 0,
    }
}

fn alc(p: &Pkt) -> Vec<u8> {
    let mut exts = Vec::new();
    if let Some(id) = p.fdt {
        let mut c = Vec::new();
        ExtFdt {
            version: 2,
            instance_id: id,
        }
        .emit(&mut c);
        exts.push(HeaderExtension {
            het: 192,
            hel: None,
            body: ExtensionBody::Fdt(ExtFdt {
                version: 2,
                instance_id: id,
            }),
        });
    }
    if let Some(tl) = p.fti_tl {
        let fti = ExtFti {
            encoding_id: 0,
            hel: 4,
            oti: FecOti::CompactNoCode {
                transfer_length: tl,
                reserved: 0,
                encoding_symbol_length: 1000,
                max_source_block_length: 4,
            },
            trailing: vec![],
        };
        let mut content = Vec::new();
        fti.emit_content(&mut content).unwrap();
        exts.push(HeaderExtension {
            het: 64,
            hel: Some(4),
            body: ExtensionBody::Fti { content },
        });
    }
    let (o, toi) = match p.toi {
        Some(t) => (p.o, Some(t)),
        None => (0, None),
    };
    let mut lct = LctRepr {
        version: 1,
        c: p.c,
        psi: 0,
        s: true,
        o,
        h: false,
        reserved: 0,
        close_session: p.a,
        close_object: p.b,
        hdr_len: 0,
        codepoint: p.cp,
        cci: rmt_inspector::wire::lct::Cci::zeros(4 * (usize::from(p.c) + 1)),
        tsi: Some(1),
        toi,
        extensions: exts,
        unwalked: vec![],
    };
    lct.fix_hdr_len();
    let mut out = Vec::new();
    lct.emit(&mut out).unwrap();
    if p.len > 0 || p.payload.is_some() {
        FecPayloadId {
            encoding_id: 0,
            m: None,
            sbn: p.sbn,
            sbl: None,
            esi: p.esi,
        }
        .emit(&mut out)
        .unwrap();
        match &p.payload {
            Some(data) => out.extend_from_slice(data),
            None => out.extend(std::iter::repeat_n(0xAB, p.len)),
        }
    }
    out
}

/// Ethernet/IPv4/UDP from 10.0.0.1 to 233.252.0.1:3400; `fragment` sets MF.
fn frame(payload: &[u8], fragment: bool) -> Vec<u8> {
    Frame::ipv4_udp(
        (Ipv4Addr::new(10, 0, 0, 1), 40000),
        (Ipv4Addr::new(233, 252, 0, 1), 3400),
        payload,
        fragment,
    )
}

fn findings_of(name: &str, frames: &[Vec<u8>]) -> Vec<String> {
    let timed: Vec<(Duration, Vec<u8>)> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (Duration::from_millis(i as u64), f.clone()))
        .collect();
    findings_at(name, &timed)
}

/// `rmt-inspect -q -T json -z findings` (and `extra` arguments) on frames captured at the
/// given times, written to `path` as pcap.
fn inspect_findings(
    timed: &[(Duration, Vec<u8>)],
    path: &std::path::Path,
    extra: &[&OsStr],
) -> std::process::Output {
    rmt_inspector::capture::writer::write_pcap(path, timed.iter().cloned()).unwrap();
    let mut args: Vec<&OsStr> = ["-r"].map(OsStr::new).to_vec();
    args.push(path.as_os_str());
    args.extend(["-d", "udp.port==3400", "-q", "-T", "json", "-z", "findings"].map(OsStr::new));
    args.extend(extra);
    Command::new(env!("CARGO_BIN_EXE_rmt-inspect"))
        .args(args)
        .output()
        .unwrap()
}

/// The finding IDs of frames captured at the given times (since the Unix epoch).
fn findings_at(name: &str, timed: &[(Duration, Vec<u8>)]) -> Vec<String> {
    let path: PathBuf =
        std::env::temp_dir().join(format!("rmtkit-sf-{}-{name}.pcap", std::process::id()));
    let out = inspect_findings(timed, &path, &[]);
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// An FDT Instance (TOI 0, ID 1) that says TOI 1 has 9,000 bytes in 1,000-byte symbols.
fn fdt_of_toi_1_in_9000_bytes() -> Pkt {
    let xml = br#"<FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" Expires="4000000000"><File TOI="1" Content-Location="a" Transfer-Length="9000" FEC-OTI-Encoding-Symbol-Length="1000" FEC-OTI-Maximum-Source-Block-Length="4"/></FDT-Instance>"#;
    Pkt {
        fdt: Some(1),
        fti_tl: Some(xml.len() as u64),
        payload: Some(xml.to_vec()),
        ..pkt(0, 0, 0, 0)
    }
}

fn frames(pkts: &[Pkt]) -> Vec<Vec<u8>> {
    pkts.iter().map(|p| frame(&alc(p), false)).collect()
}

/// A well-formed object: 10,000 bytes, E = 1000, B = 4: 3 blocks of 4, 3, 3 symbols.
fn good_object(toi: u128) -> Vec<Pkt> {
    let mut v = Vec::new();
    for (sbn, k) in [(0, 4), (1, 3), (2, 3)] {
        for esi in 0..k {
            v.push(pkt(toi, sbn, esi, 1000));
        }
    }
    v
}

#[test]
fn a_well_formed_session_raises_nothing() {
    assert_eq!(
        findings_of("good", &frames(&good_object(1))),
        Vec::<String>::new()
    );
}

#[test]
fn each_rule_breach_is_reported_with_its_id() {
    let mut cases: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    let mut v = good_object(1);
    v[5].fti_tl = Some(20_000);
    cases.push(("alc.oti.changed_within_object", frames(&v)));
    let mut v = good_object(1);
    v[1].len = 700;
    cases.push(("fec.symbol.length_mismatch", frames(&v)));
    let mut v = good_object(1);
    v[2].sbn = 7;
    cases.push(("fec.sbn.out_of_range", frames(&v)));
    let mut v = good_object(1);
    v[8].esi = 5;
    cases.push(("fec.esi.out_of_range", frames(&v)));
    let mut v = good_object(1);
    v[3].b = true;
    cases.push(("lct.close_object.reverted", frames(&v)));
    let mut v = good_object(1);
    v[4].cp = 5;
    cases.push(("alc.cp.changed_within_object", frames(&v)));
    let mut v = good_object(1);
    v.insert(
        3,
        Pkt {
            toi: None,
            len: 0,
            fti_tl: None,
            a: true,
            ..pkt(0, 0, 0, 0)
        },
    );
    cases.push(("lct.after_close_session", frames(&v)));
    cases.push(("lct.close_session.reverted", frames(&v)));
    let mut v = good_object(1);
    v.insert(
        2,
        Pkt {
            toi: None,
            ..pkt(0, 0, 0, 1000)
        },
    );
    cases.push(("lct.toi.presence_mixed", frames(&v)));
    let mut v = good_object(1);
    v.extend(good_object(2).into_iter().map(|p| Pkt { o: 2, ..p }));
    cases.push(("lct.toi.width_changed", frames(&v)));
    let mut v = good_object(1);
    v[6].c = 1;
    cases.push(("alc.cci.length_changed", frames(&v)));
    let mut f = frames(&good_object(1));
    f.push(frame(&alc(&pkt(1, 0, 0, 1000))[..40], true));
    cases.push(("alc.ip.fragmented", f));
    // FLUTE: an FDT (TOI 0) that says TOI 1 has 9,000 bytes while EXT_FTI says 10,000, and
    // object data for TOI 2 that no FDT describes.
    let fdt = fdt_of_toi_1_in_9000_bytes();
    let mut v = vec![fdt.clone()];
    v.extend(good_object(1));
    let mut f = frames(&v);
    cases.push(("flute.oti.fti_fdt_mismatch", f.clone()));
    f.extend(frames(&good_object(2)));
    cases.push(("flute.toi.no_fdt_entry", f));
    // The same FDT Instance ID on two different objects.
    let mut fdt2 = fdt.clone();
    fdt2.fti_tl = fdt2.fti_tl.map(|l| l + 10);
    cases.push(("flute.fdt.instance_id.reused", frames(&[fdt.clone(), fdt2])));
    // A FLUTE session (it sent an FDT Instance) with a TOI 0 packet that lacks EXT_FDT.
    let mut v = vec![fdt.clone()];
    v.extend(good_object(1));
    v.push(Pkt {
        fdt: None,
        ..fdt.clone()
    });
    cases.push(("flute.toi0.without_ext_fdt", frames(&v)));
    for (id, f) in cases {
        let found = findings_of(id, &f);
        assert!(
            found.iter().any(|x| x == id),
            "{id} not reported; got {found:?}"
        );
    }
}

#[test]
fn an_fdt_instance_id_may_name_a_new_instance_once_the_old_one_expired() {
    // RFC 6726 §3.4.1: IDs wrap at 2^20 and are reused after their instance expired. Before the
    // session checks kept each ID's expiry, the new instance's other EXT_FTI was reported as
    // flute.fdt.instance_id.reused however long after.
    let ntp_epoch = rmt_inspector::wire::fdt::NTP_UNIX_OFFSET; // NTP seconds at the Unix epoch, where these frames are
    let fdt = |location: &str, expires_in: u64| {
        let xml = format!(
            r#"<FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" Expires="{}"><File TOI="1" Content-Location="{location}" Transfer-Length="1000" FEC-OTI-Encoding-Symbol-Length="1000" FEC-OTI-Maximum-Source-Block-Length="4"/></FDT-Instance>"#,
            ntp_epoch + expires_in
        );
        Pkt {
            fdt: Some(7),
            fti_tl: Some(xml.len() as u64),
            payload: Some(xml.into_bytes()),
            ..pkt(0, 0, 0, 0)
        }
    };
    let at = |secs: u64, p: &Pkt| (Duration::from_secs(secs), frame(&alc(p), false));
    let first = fdt("a", 10);
    let second = fdt("a-much-longer-name", 1000);
    // After the first instance expired (10 s): a new instance, nothing to report.
    let after = findings_at("fdt-id-after", &[at(1, &first), at(20, &second)]);
    assert!(
        !after.iter().any(|id| id == "flute.fdt.instance_id.reused"),
        "{after:?}"
    );
    // While it is valid: the ID is reused, an error.
    let during = findings_at("fdt-id-during", &[at(1, &first), at(5, &second)]);
    assert!(
        during.iter().any(|id| id == "flute.fdt.instance_id.reused"),
        "{during:?}"
    );
}

/// The comments of each packet of a pcapng file, in order.
fn packet_comments(path: &std::path::Path) -> Vec<Vec<String>> {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut reader = PcapNgReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(epb) = block.unwrap() {
            out.push(
                epb.options
                    .iter()
                    .filter_map(|o| match o {
                        EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                        _ => None,
                    })
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn findings_are_packet_comments_in_the_pcapng_written_on_the_frames_that_raised_them() {
    // An FDT Instance for TOI 1, TOI 1 whose EXT_FTI disagrees with it (raised while the
    // packets are read) and TOI 2 that no FDT describes (raised at the end of the capture,
    // after its packets were written).
    let fdt = fdt_of_toi_1_in_9000_bytes();
    let mut v = vec![fdt];
    v.extend(good_object(1));
    v.extend(good_object(2));
    let timed: Vec<(Duration, Vec<u8>)> = frames(&v)
        .into_iter()
        .enumerate()
        .map(|(i, f)| (Duration::from_millis(i as u64), f))
        .collect();
    let dir = std::env::temp_dir().join(format!("rmtkit-comments-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, written) = (dir.join("in.pcap"), dir.join("out.pcapng"));
    let out = inspect_findings(&timed, &input, &[OsStr::new("-w"), written.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&"flute.oti.fti_fdt_mismatch") && ids.contains(&"flute.toi.no_fdt_entry"),
        "{ids:?}"
    );
    let comments = packet_comments(&written);
    assert_eq!(comments.len(), v.len(), "every packet written");
    // Each finding on the frame it names first (frames are numbered from 1), in the form
    // "rmt: ID SEVERITY RULE: DETAIL".
    for f in &findings {
        let (id, frame) = (
            f["id"].as_str().unwrap(),
            f["first_frame"].as_u64().unwrap(),
        );
        let prefix = format!(
            "rmt: {id} {} {}: ",
            f["severity"].as_str().unwrap(),
            f["rfc"].as_str().unwrap()
        );
        let on_frame = &comments[frame as usize - 1];
        assert!(
            on_frame.iter().any(|c| c.starts_with(&prefix)),
            "{id}: no comment {prefix:?}... on frame {frame}: {on_frame:?}"
        );
    }
    let total: usize = comments.iter().map(Vec::len).sum();
    let raised: u64 = findings.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    assert_eq!(
        total as u64, raised,
        "one comment per finding raised: {comments:?}"
    );
    // What Wireshark users see (CI has tshark): the comments, and with the Lua post-dissector
    // (contrib/wireshark/rmtkit.lua) the findings as fields and Expert Info.
    let lua = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../contrib/wireshark/rmtkit.lua"
    );
    let tshark = |args: &[&str]| {
        Command::new("tshark")
            .args([OsStr::new("-r"), written.as_os_str()])
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(comments) = tshark(&[
        "-Y",
        "frame.comment contains \"rmt:\"",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "frame.comment",
    ]) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have tshark (.ci/run installs it)"
        );
        eprintln!("SKIPPED the tshark half: tshark is not installed");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let script = format!("lua_script:{lua}");
    let fields = tshark(&[
        "-X",
        &script,
        "-Y",
        "rmt.finding.id",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "rmt.finding.id",
        "-e",
        "rmt.finding.rfc",
    ])
    .expect("tshark with the Lua post-dissector");
    let expert = tshark(&["-X", &script, "-q", "-z", "expert,note"]).expect("tshark -z expert");
    for f in &findings {
        let (id, frame) = (
            f["id"].as_str().unwrap(),
            f["first_frame"].as_u64().unwrap(),
        );
        let rfc = f["rfc"].as_str().unwrap();
        let on_frame = |text: &str| {
            text.lines()
                .any(|l| l.starts_with(&format!("{frame}\t")) && l.contains(id))
        };
        assert!(
            on_frame(&comments),
            "tshark shows no comment {id} on frame {frame}:\n{comments}"
        );
        assert!(
            on_frame(&fields)
                && fields.lines().any(|l| {
                    l.starts_with(&format!("{frame}\t")) && l.contains(id) && l.contains(rfc)
                }),
            "rmt.finding.id/rfc {id} ({rfc}) not on frame {frame}:\n{fields}"
        );
        // Under the finding's own severity heading (Errors, Warns, Notes).
        let heading = match f["severity"].as_str().unwrap() {
            "error" => "Errors",
            "warning" => "Warns",
            _ => "Notes",
        };
        let section = expert
            .split("\n\n")
            .find(|s| s.trim_start().starts_with(heading));
        assert!(
            section.is_some_and(|s| s.contains(&format!("RMT  {id}: "))),
            "{id} is not an Expert Info entry under {heading}:\n{expert}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
