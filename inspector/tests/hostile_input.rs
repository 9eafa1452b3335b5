//! Every parser entry point on seeded pseudo-random and mutated inputs: no panic, and every
//! successful lax parse of a header re-emits without error. (The coverage-guided fuzz targets of
//! issue 8 go further; this runs in every test pass and needs no nightly flags.)

use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::cid::CidObjectList;
use rmt_inspector::wire::ext_cenc::ContentEncoding;
use rmt_inspector::wire::ext_fti::ExtFti;
use rmt_inspector::wire::fcast::CompoundObject;
use rmt_inspector::wire::fdt::FdtInstance;
use rmt_inspector::wire::fec_payload_id::{FecPayloadId, KNOWN_ENCODING_IDS};
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::lct::{HeaderExtension, LctRepr};
use rmt_inspector::wire::link::LinkType;
use rmt_inspector::wire::route::Profile;
use rmt_inspector::wire::webrc_cci::{CciForm, WebrcCci};
use rmt_vectors::load_all;

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn all_parsers(b: &[u8]) {
    if let Ok(d) = LctRepr::parse(b) {
        let mut out = Vec::new();
        d.value
            .emit(&mut out)
            .expect("a parsed LCT header re-emits");
    }
    let _ = HeaderExtension::parse(b, 0);
    // ROUTE reads the PSI, the FEC Payload ID and extensions 66/67/194 otherwise.
    for profile in [Profile::Flute, Profile::Route] {
        let ctx = AlcContext {
            profile,
            ..AlcContext::default()
        };
        if let Ok(d) = AlcPacket::parse(b, ctx) {
            let mut out = Vec::new();
            d.value
                .emit(d.value.symbols(b), &mut out)
                .expect("a parsed ALC packet re-emits");
        }
    }
    let _ = rmt_inspector::wire::lls::LlsTable::parse(b);
    let _ = rmt_inspector::wire::route_sls::multipart_parts(b);
    let _ = rmt_inspector::wire::route_sls::Stsid::parse(b);
    let _ = rmt_inspector::wire::route_sls::efdt_files(b);
    for id in KNOWN_ENCODING_IDS {
        if let Ok(d) = AlcPacket::parse(
            b,
            AlcContext {
                fec_encoding_id: Some(id),
                rs_m: None,
                webrc: true,
                profile: Default::default(),
            },
        ) {
            let mut out = Vec::new();
            d.value
                .emit(d.value.symbols(b), &mut out)
                .expect("a parsed ALC packet re-emits");
        }
        if let Ok(d) = ExtFti::parse(b, id) {
            let mut out = Vec::new();
            d.value.emit(&mut out).expect("a parsed EXT_FTI re-emits");
            assert_eq!(out, b[..out.len()], "EXT_FTI id {id} round trip");
        }
        if let Ok(p) = FecPayloadId::parse(b, id, None) {
            let mut out = Vec::new();
            p.emit(&mut out).unwrap();
            assert_eq!(out, b[..out.len()]);
        }
    }
    for form in [CciForm::Short, CciForm::Long] {
        let _ = WebrcCci::parse(b, form);
    }
    if let Ok(d) = CompoundObject::parse(b) {
        let mut out = Vec::new();
        d.value.emit(&mut out);
        assert_eq!(out, b, "FCAST round trip");
    }
    if let Ok(d) = CidObjectList::parse(b) {
        // The canonical form parses back to the same elements.
        let again = CidObjectList::parse(d.value.emit().as_bytes()).unwrap();
        assert_eq!(again.value, d.value);
    }
    for cenc in [
        None,
        Some(ContentEncoding::Zlib),
        Some(ContentEncoding::Deflate),
        Some(ContentEncoding::Gzip),
    ] {
        let _ = FdtInstance::parse_payload(b, cenc, 1 << 16);
    }
    for link in [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
    ] {
        let _ = Frame::parse(link, b);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x5eed_2026_1122);
    for _ in 0..20_000 {
        let len = rng.below(96);
        let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        all_parsers(&b);
    }
}

#[test]
fn mutated_vectors_never_panic() {
    let mut rng = Rng(0xfeed_0001);
    let seeds: Vec<Vec<u8>> = load_all()
        .unwrap()
        .into_iter()
        .flat_map(|(_, f)| f.vectors)
        .map(|v| v.bytes())
        .filter(|b| !b.is_empty())
        .collect();
    assert!(seeds.len() > 200);
    for seed in &seeds {
        for _ in 0..40 {
            let mut b = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(b.len());
                match rng.below(3) {
                    0 => b[i] ^= 1 << rng.below(8),
                    1 => b[i] = rng.next() as u8,
                    _ => b.truncate(i),
                }
                if b.is_empty() {
                    break;
                }
            }
            all_parsers(&b);
        }
    }
}
