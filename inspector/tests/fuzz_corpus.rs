//! Writes every YAML vector's bytes into the corpus folder of the fuzz target that parses them
//! (`fuzz/corpus/<target>/<vector id>`), in that target's input format, plus the first packets of
//! each bundled capture for the capture target. Run before fuzzing (the CI smoke step does), so
//! the corpus never drifts from the vectors.

use std::path::PathBuf;

use rmt_inspector::wire::fec_payload_id::KNOWN_ENCODING_IDS;
use rmt_vectors::load_all;

fn corpus(target: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fuzz targets pick the scheme from a selector byte; vectors of unknown schemes (which
/// exist to test the error) seed with the first one.
fn scheme_selector(id: u64) -> u8 {
    KNOWN_ENCODING_IDS
        .iter()
        .position(|&k| u64::from(k) == id)
        .unwrap_or(0) as u8
}

#[test]
fn vectors_seed_the_fuzz_corpus() {
    let mut written = std::collections::BTreeMap::<&str, usize>::new();
    for (_, file) in load_all().unwrap() {
        for v in &file.vectors {
            let b = v.bytes();
            let (target, input): (&str, Vec<u8>) = match v.layer.as_str() {
                "lct" => ("lct", b),
                "ext" => ("lct_extension", b),
                "alc" => ("alc", b),
                "lls" => ("route_signalling", b),
                "fcast" => ("fcast", b),
                "cid_list" => ("cid_list", b),
                "webrc_cci" => ("webrc_cci", b),
                "ext_fti" => (
                    "ext_fti",
                    [
                        vec![scheme_selector(v.param_u64("encoding_id").unwrap())],
                        b,
                    ]
                    .concat(),
                ),
                "fec_payload_id" => (
                    "fec_payload_id",
                    [
                        vec![
                            scheme_selector(v.param_u64("encoding_id").unwrap()),
                            v.param_u64("m").unwrap_or(0) as u8,
                        ],
                        b,
                    ]
                    .concat(),
                ),
                "fdt" => {
                    let sel = match v.param_str("cenc") {
                        None => 0,
                        Some("zlib") => 1,
                        Some("deflate") => 2,
                        Some(_) => 3,
                    };
                    ("fdt", [vec![sel], b].concat())
                }
                "frame" => {
                    let sel = match v.param_str("link").unwrap() {
                        "ethernet" => 0,
                        "sll" => 1,
                        "sll2" => 2,
                        _ => 3,
                    };
                    ("frame", [vec![sel], b].concat())
                }
                _ => continue,
            };
            std::fs::write(corpus(target).join(&v.id), input).unwrap();
            *written.entry(target).or_default() += 1;
        }
    }
    // The capture target: each bundled capture cut after its first 40 packets.
    for name in [
        "flute-nocode-1.pcap",
        "rtlibflute-nocode-1.pcap",
        "mclv3-nocode-1.pcap",
    ] {
        let bytes = std::fs::read(rmt_vectors::captures_dir().join(name)).unwrap();
        let mut end = 24;
        for _ in 0..40 {
            let len = u32::from_le_bytes(bytes[end + 8..end + 12].try_into().unwrap()) as usize;
            end += 16 + len;
        }
        std::fs::write(corpus("capture").join(name), &bytes[..end]).unwrap();
        *written.entry("capture").or_default() += 1;
    }
    // Inputs that once crashed a target (`fuzz/regressions/<target>/`) join its corpus, so
    // every smoke run replays them first.
    let regressions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    for dir in std::fs::read_dir(&regressions).unwrap() {
        let dir = dir.unwrap();
        let target = dir.file_name().into_string().unwrap();
        for input in std::fs::read_dir(dir.path()).unwrap() {
            let input = input.unwrap();
            std::fs::copy(input.path(), corpus(&target).join(input.file_name())).unwrap();
            *written.entry("regressions").or_default() += 1;
        }
    }
    assert!(written.get("regressions").copied().unwrap_or(0) > 0);
    for target in [
        "lct",
        "lct_extension",
        "alc",
        "route_signalling",
        "fcast",
        "cid_list",
        "webrc_cci",
        "ext_fti",
        "fec_payload_id",
        "fdt",
        "frame",
        "capture",
    ] {
        assert!(
            written.get(target).copied().unwrap_or(0) > 0,
            "no seed for {target}"
        );
    }
}
