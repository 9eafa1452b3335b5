//! The sender's FLUTE flavours on the wire: EXT_FDT version, FDT namespace, EXT_TIME, and the
//! close-session form, as docs/sut-contract.md's table says.

use std::net::SocketAddr;

use rmt_inspector::wire::ext_fdt::ExtFdt;
use rmt_inspector::wire::fdt::{FdtInstance, FdtNamespace};
use rmt_inspector::wire::flute_flavor::FluteFlavor;
use rmt_inspector::wire::lct::{ExtensionBody, LctRepr, HET_FDT};
use rmt_reference::driver::capture::VIRTUAL_START;
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig};

/// Every datagram of a two-file FLUTE session in `flavor`.
fn datagrams(flavor: FluteFlavor, close_session_packet: bool) -> Vec<Vec<u8>> {
    let dest: SocketAddr = "233.252.0.1:3400".parse().unwrap();
    let mut c = SenderConfig::new(Mode::Flute, dest, 4);
    c.speak(flavor);
    c.close_session_packet = close_session_packet;
    let mut s = Sender::new(c).unwrap();
    for i in 0..2u64 {
        s.add_object(ObjectSpec {
            name: format!("f{i}.bin"),
            content_type: "application/octet-stream".into(),
            data: SeededRng::new(i).bytes(5_000),
        })
        .unwrap();
    }
    s.commit(VIRTUAL_START, true).unwrap();
    let mut out = Vec::new();
    let mut now = VIRTUAL_START;
    // Bounded: a two-file session is a few dozen datagrams.
    for _ in 0..10_000 {
        let Some(due) = s.poll_timeout() else { break };
        now = now.max(due);
        if let Some(t) = s.poll_transmit(now) {
            out.push(t.payload);
        }
    }
    out
}

/// docs/sut-contract.md's table, written out: (flavour, EXT_FDT V, FDT namespace, EXT_TIME,
/// 3GPP form).
const TABLE: [(FluteFlavor, u8, &str, bool, bool); 4] = [
    (
        FluteFlavor::Rfc6726,
        2,
        "urn:ietf:params:xml:ns:fdt",
        true,
        false,
    ),
    (FluteFlavor::Rfc3926, 1, "", false, false),
    (
        FluteFlavor::Ts26346,
        1,
        "urn:IETF:metadata:2005:FLUTE:FDT",
        false,
        true,
    ),
    (
        FluteFlavor::Ts26346AnnexL,
        2,
        "urn:3GPP:metadata:2022:FLUTE:FDT",
        true,
        true,
    ),
];

fn namespace_uri(ns: &FdtNamespace) -> &str {
    match ns {
        FdtNamespace::FluteV2 => "urn:ietf:params:xml:ns:fdt",
        FdtNamespace::FluteV1 => "urn:IETF:metadata:2005:FLUTE:FDT",
        FdtNamespace::ThreeGpp2022 => "urn:3GPP:metadata:2022:FLUTE:FDT",
        FdtNamespace::None => "",
        FdtNamespace::Other(o) => o,
    }
}

#[test]
fn each_flavour_sends_its_ext_fdt_version_namespace_and_ext_time() {
    for (flavor, version, namespace, ext_time, is_3gpp) in TABLE {
        let packets = datagrams(flavor, true);
        let headers: Vec<LctRepr> = packets
            .iter()
            .map(|p| LctRepr::parse(p).unwrap().value)
            .collect();
        let ext_fdt: Vec<ExtFdt> = headers
            .iter()
            .filter_map(|h| match &h.extension(HET_FDT)?.body {
                ExtensionBody::Fdt(x) => Some(*x),
                _ => None,
            })
            .collect();
        assert!(!ext_fdt.is_empty(), "{flavor}: no FDT packet");
        assert!(
            ext_fdt.iter().all(|x| x.version == version),
            "{flavor}: {ext_fdt:?}"
        );
        let with_time = headers.iter().filter(|h| h.extension(2).is_some()).count();
        if ext_time {
            assert_eq!(
                with_time,
                headers.len(),
                "{flavor}: EXT_TIME in every packet"
            );
        } else {
            assert_eq!(with_time, 0, "{flavor}: RFC 3451's LCT has no EXT_TIME");
        }
        // The FDT Instance's namespace, and 3GPP's form.
        let fdt_packet = packets
            .iter()
            .zip(&headers)
            .find(|(_, h)| h.extension(HET_FDT).is_some())
            .unwrap();
        let xml = &fdt_packet.0[fdt_packet.1.header_len() + 4..];
        let inst = FdtInstance::parse(xml).unwrap().value;
        assert_eq!(namespace_uri(&inst.namespace), namespace, "{flavor}");
        let declares_mbms = inst
            .other_attributes
            .iter()
            .any(|(k, v)| k == "xmlns:mbms2007" && v.starts_with("urn:3GPP:"));
        assert_eq!(declares_mbms, is_3gpp, "{flavor}");
        if is_3gpp {
            assert!(
                inst.defaults.fec_encoding_id.is_some(),
                "OTI on the instance"
            );
            assert!(inst
                .files
                .iter()
                .all(|f| f.attributes.fec_encoding_id.is_none()));
        }
    }
}

#[test]
fn the_close_session_rides_on_data_packets_when_toi_less_packets_are_off() {
    // Packets with the close-session flag (A), with or without a TOI.
    let closing = |packets: &[Vec<u8>], with_toi: bool| {
        packets
            .iter()
            .map(|p| LctRepr::parse(p).unwrap().value)
            .filter(|h| h.close_session && h.toi.is_some() == with_toi)
            .count()
    };
    let toi_less = |packets: &[Vec<u8>]| closing(packets, false);
    let closing_data = |packets: &[Vec<u8>]| closing(packets, true);
    let with = datagrams(FluteFlavor::Rfc3926, true);
    assert!(toi_less(&with) > 0);
    let without = datagrams(FluteFlavor::Rfc3926, false);
    assert_eq!(toi_less(&without), 0);
    assert!(closing_data(&without) > 0, "A=1 on the last data packets");
}

#[test]
fn rmt_ref_send_takes_the_flavour_and_the_close_session_form() {
    let dir = std::env::temp_dir().join(format!("rmt-ref-flavor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("f.bin");
    std::fs::write(&file, SeededRng::new(7).bytes(3_000)).unwrap();
    let pcap = dir.join("out.pcap");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rmt-ref"))
            .args(["send", "--pcap-out", pcap.to_str().unwrap()])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap()
    };
    let ok = run(&["--flavor", "rfc3926", "--close-session-packet", "off"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bytes = std::fs::read(&pcap).unwrap();
    let (_, content) = rmt_inspector::inspect::check::check_capture_content(
        &bytes,
        vec![],
        rmt_inspector::wire::alc::AlcContext::default(),
    )
    .unwrap();
    assert_eq!(content.flute_flavor, Some(FluteFlavor::Rfc3926));
    assert!(content.close_session, "A=1 on the last data packets");
    for bad in [
        &["--flavor", "flute-v3"][..],
        &["--close-session-packet", "maybe"],
    ] {
        assert_eq!(run(bad).status.code(), Some(2), "{bad:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
