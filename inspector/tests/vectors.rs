//! Every RFC-derived vector through its parser: verdicts, expected fields, `emit(parse(b)) == b`,
//! truncation at every length, and one reviewed snapshot of decoded trees per vector file.

mod support;

use std::collections::BTreeMap;

use rmt_vectors::{load_all, load_file, Vector, Verdict};
use serde_yaml::Value;
use support::{lookup, run, same, self_delimiting, Reemit};

fn check(v: &Vector) -> Result<(), String> {
    let b = v.bytes();
    let res = run(v, &b);
    let expected_id = v.error.as_deref();
    match v.verdict {
        Verdict::Invalid => {
            let id = expected_id.unwrap();
            match &res {
                Err(e) if e.id == id => return Ok(()),
                Err(e) => return Err(format!("error {} ({e}), expected {id}", e.id)),
                Ok(o) => {
                    if !o.findings.iter().any(|f| f.id == id) {
                        return Err(format!(
                            "no finding {id}; findings: {:?}",
                            o.findings.iter().map(|f| f.id).collect::<Vec<_>>()
                        ));
                    }
                    if o.is_strict_ok() {
                        return Err(format!(
                            "strict mode accepts it (finding {id} is below Warning)"
                        ));
                    }
                }
            }
        }
        Verdict::Valid | Verdict::Acceptable => {
            let o = res.as_ref().map_err(|e| format!("parse failed: {e}"))?;
            if v.verdict == Verdict::Valid && !o.is_strict_ok() {
                return Err(format!(
                    "strict mode rejects a valid vector: {:?}",
                    o.findings
                ));
            }
            if let Some(id) = expected_id {
                if !o.findings.iter().any(|f| f.id == id) {
                    return Err(format!("missing finding {id}"));
                }
            }
            match &o.reemit {
                Reemit::Bytes(out) if *out != b => {
                    return Err(format!(
                        "emit(parse(b)) != b:\n  got  {}\n  want {}",
                        hex::encode(out),
                        hex::encode(&b)
                    ))
                }
                Reemit::SameValue(false) => {
                    return Err("the canonical XML does not decode to the same value".into())
                }
                _ => {}
            }
        }
    }
    if let Ok(o) = &res {
        for (path, want) in &v.expected {
            match lookup(&o.tree, path) {
                Some(got) if same(want, got) => {}
                got => return Err(format!("{path}: expected {want:?}, decoded {got:?}")),
            }
        }
    } else if !v.expected.is_empty() {
        return Err("expected fields given, but the parse failed".into());
    }
    Ok(())
}

#[test]
fn every_vector_meets_its_verdict() {
    let files = load_all().unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for (_, f) in &files {
        for v in &f.vectors {
            count += 1;
            if let Err(e) = check(v) {
                failures.push(format!("{} ({} §{}): {e}", v.id, v.rfc, v.section));
            }
        }
    }
    assert!(count >= 120, "{count} vectors");
    assert!(
        failures.is_empty(),
        "{} of {count} vectors fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn truncating_valid_vectors_is_always_detected() {
    let mut undetected = Vec::new();
    let mut cases = 0;
    for (_, f) in load_all().unwrap() {
        for v in f
            .vectors
            .iter()
            .filter(|v| v.verdict == Verdict::Valid && self_delimiting(&v.layer))
        {
            let b = v.bytes();
            for len in 0..b.len() {
                // Dropping only trailing whitespace leaves the same XML document.
                if v.layer == "fdt"
                    && v.param_str("cenc").is_none()
                    && b[len..].iter().all(u8::is_ascii_whitespace)
                {
                    continue;
                }
                cases += 1;
                if let Ok(o) = run(v, &b[..len]) {
                    if o.is_strict_ok() {
                        undetected.push(format!("{} cut to {len} of {} bytes", v.id, b.len()));
                    }
                }
            }
        }
    }
    assert!(cases > 1000, "only {cases} truncations tried");
    assert!(
        undetected.is_empty(),
        "truncations parsed as valid:\n{}",
        undetected.join("\n")
    );
}

#[test]
fn decoded_trees_per_vector_file() {
    insta::glob!("../../vectors", "*.yaml", |path| {
        let file = load_file(path).unwrap();
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        for v in &file.vectors {
            let entry = match run(v, &v.bytes()) {
                Ok(o) => {
                    let mut m = serde_yaml::Mapping::new();
                    m.insert("decoded".into(), o.tree);
                    if !o.findings.is_empty() {
                        let ids: Vec<Value> = o
                            .findings
                            .iter()
                            .map(|f| {
                                Value::String(format!(
                                    "{} ({:?}, {}, byte {})",
                                    f.id, f.severity, f.rule, f.offset
                                ))
                            })
                            .collect();
                        m.insert("findings".into(), Value::Sequence(ids));
                    }
                    Value::Mapping(m)
                }
                Err(e) => {
                    let mut m = serde_yaml::Mapping::new();
                    m.insert("error".into(), Value::String(e.to_string()));
                    Value::Mapping(m)
                }
            };
            out.insert(v.id.clone(), entry);
        }
        insta::assert_yaml_snapshot!(out);
    });
}

/// The `-V` tree (from the ALC layer on) of every ALC vector, of every header-extension vector
/// placed in a minimal LCT header (S=1, O=1, codepoint 0, a Compact No-Code FEC Payload ID and
/// one byte of payload), and of every FCAST object vector sent whole in one packet, each framed
/// as Ethernet/IPv4/UDP to port 3400: one reviewed snapshot that shows every extension, OTI,
/// CCI and FCAST header layout as the tree prints it.
#[test]
fn verbose_trees_of_alc_and_extension_vectors() {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use rmt_inspector::capture::reader::RawPacket;
    use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
    use rmt_inspector::inspect::tree::tree;
    use rmt_inspector::wire::alc::AlcContext;
    use rmt_inspector::wire::frame::Frame;
    use rmt_inspector::wire::link::LinkType;
    use rmt_inspector::wire::route::Profile;

    let mut out = String::new();
    let files = load_all().unwrap();
    for v in files.iter().flat_map(|(_, f)| &f.vectors) {
        let datagram = match v.layer.as_str() {
            "alc" => v.bytes(),
            "ext" => {
                let ext = v.bytes();
                if ext.len() % 4 != 0 || ext.len() / 4 > 250 {
                    continue;
                }
                let hdr_len = 4 + ext.len() / 4;
                let mut d = vec![
                    0x10,
                    0xA0,
                    hdr_len as u8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    1,
                    0,
                    0,
                    0,
                    2,
                ];
                d.extend_from_slice(&ext);
                d.extend_from_slice(&[0, 0, 0, 0, b'x']);
                d
            }
            "fcast" => {
                // The whole Compound Object as the one Compact No-Code symbol of TOI 3, with
                // its EXT_FTI (RFC 5445 §3.2.2: transfer length, E, B).
                let object = v.bytes();
                if object.is_empty() || object.len() > 1400 {
                    continue;
                }
                let len = object.len() as u64;
                let mut d = vec![0x10, 0xA0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3];
                d.extend_from_slice(&[64, 4]);
                d.extend_from_slice(&len.to_be_bytes()[2..]);
                d.extend_from_slice(&[0, 0]);
                d.extend_from_slice(&(len as u16).to_be_bytes());
                d.extend_from_slice(&1u32.to_be_bytes());
                d.extend_from_slice(&[0, 0, 0, 0]);
                d.extend_from_slice(&object);
                d
            }
            _ => continue,
        };
        let frame = Frame::ipv4_udp(
            (Ipv4Addr::new(10, 0, 0, 1), 4000),
            (Ipv4Addr::new(233, 252, 0, 1), 3400),
            &datagram,
            false,
        );
        let ctx = AlcContext {
            fec_encoding_id: v.param_u64("encoding_id").map(|x| x as u8),
            rs_m: None,
            webrc: v.param_bool("webrc"),
            profile: v
                .param_str("profile")
                .and_then(Profile::from_name)
                .unwrap_or_default(),
        };
        let mut flows = FlowSelector::new(vec![3400], ctx);
        let raw = RawPacket {
            frame: 1,
            link_type: LinkType::Ethernet,
            timestamp: Duration::ZERO,
            data: &frame,
            orig_len: frame.len() as u32,
        };
        let d = dissect(raw, &mut flows);
        let text = tree(&d, Duration::ZERO);
        let from_alc = text
            .find("\nAsynchronous Layered Coding")
            .map_or(text.as_str(), |i| &text[i + 1..]);
        out.push_str(&format!(
            "=== {} ({} {}): {}\n",
            v.id, v.rfc, v.section, v.description
        ));
        out.push_str(from_alc);
    }
    assert!(out.matches("=== ").count() > 40, "vectors rendered");
    insta::assert_snapshot!(out);
}
