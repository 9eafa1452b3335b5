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
    c.flavor = flavor;
    c.ext_time = flavor.has_ext_time();
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

#[test]
fn each_flavour_sends_its_ext_fdt_version_namespace_and_ext_time() {
    for flavor in FluteFlavor::ALL {
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
            ext_fdt
                .iter()
                .all(|x| x.version == flavor.ext_fdt_version()),
            "{flavor}: {ext_fdt:?}"
        );
        let with_time = headers.iter().filter(|h| h.extension(2).is_some()).count();
        if flavor.has_ext_time() {
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
        assert_eq!(inst.namespace, flavor.fdt_namespace(), "{flavor}");
        let declares_mbms = inst
            .other_attributes
            .iter()
            .any(|(k, v)| k == "xmlns:mbms2007" && v.starts_with("urn:3GPP:"));
        assert_eq!(declares_mbms, flavor.is_3gpp(), "{flavor}");
        if flavor.is_3gpp() {
            assert!(
                inst.defaults.fec_encoding_id.is_some(),
                "OTI on the instance"
            );
            assert!(inst
                .files
                .iter()
                .all(|f| f.attributes.fec_encoding_id.is_none()));
        }
        if flavor == FluteFlavor::Rfc3926 {
            assert_eq!(inst.namespace, FdtNamespace::None);
        }
    }
}

#[test]
fn the_close_session_rides_on_data_packets_when_toi_less_packets_are_off() {
    let toi_less = |packets: &[Vec<u8>]| {
        packets
            .iter()
            .map(|p| LctRepr::parse(p).unwrap().value)
            .filter(|h| h.close_session && h.toi.is_none())
            .count()
    };
    let closing_data = |packets: &[Vec<u8>]| {
        packets
            .iter()
            .map(|p| LctRepr::parse(p).unwrap().value)
            .filter(|h| h.close_session && h.toi.is_some())
            .count()
    };
    let with = datagrams(FluteFlavor::Rfc3926, true);
    assert!(toi_less(&with) > 0);
    let without = datagrams(FluteFlavor::Rfc3926, false);
    assert_eq!(toi_less(&without), 0);
    assert!(closing_data(&without) > 0, "A=1 on the last data packets");
}
