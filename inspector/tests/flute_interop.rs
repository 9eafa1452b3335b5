//! FEC wire compatibility with a third-party implementation, the `flute` crate, for Reed-Solomon
//! (IDs 2 with m=8, 5, 129/0; RFC 5510 §8.2) and RaptorQ (ID 6): its sender's repair symbols must
//! be byte-identical to ours, our decoder must rebuild objects from its repair symbols, and its
//! receiver must rebuild objects from ours.
//! Packets go through our wire layer in both directions; nothing touches a network.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::SystemTime;

use flute::core::{Oti, UDPEndpoint};
use flute::receiver::writer::ObjectWriterBufferBuilder;
use flute::receiver::MultiReceiver;
use flute::sender::{ObjectDesc, Sender};
use rmt_inspector::fec::codec::DecodeStatus;
use rmt_inspector::fec::scheme::{Codec, FecObject};
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};

/// A fixed pseudo-random object (SplitMix64), so failures reproduce.
fn object(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

fn endpoint() -> UDPEndpoint {
    UDPEndpoint::new(None, "233.252.0.1".to_string(), 3400)
}

fn flute_packets(oti: &Oti, content: &[u8]) -> Vec<Vec<u8>> {
    let mut sender = Sender::new(endpoint(), 1, oti, &Default::default());
    let url = url::Url::parse("file:///object.bin").unwrap();
    let obj = ObjectDesc::create_from_buffer(
        content.to_vec(),
        "application/octet-stream",
        &url,
        true,
        Default::default(),
    )
    .unwrap();
    sender.add_object(0, obj).unwrap();
    let now = SystemTime::now();
    sender.publish(now).unwrap();
    let mut packets = Vec::new();
    while let Some(p) = sender.read(now) {
        packets.push(p);
        assert!(packets.len() < 100_000, "the sender does not stop");
    }
    packets
}

/// The object's symbols by block, its FEC parameters, and the object itself.
struct Received {
    fec: FecObject,
    blocks: BTreeMap<u32, BTreeMap<u32, Vec<u8>>>,
    content: Vec<u8>,
}

fn collect(packets: &[Vec<u8>], content: &[u8]) -> Received {
    let mut fec = None;
    let mut blocks: BTreeMap<u32, BTreeMap<u32, Vec<u8>>> = BTreeMap::new();
    for p in packets {
        let a = AlcPacket::parse(p, AlcContext::default())
            .unwrap()
            .strict()
            .unwrap();
        if a.lct.toi != Some(1) {
            continue;
        }
        if let Some(fti) = &a.fti {
            fec = Some(FecObject::from_oti(a.fec_encoding_id, &fti.oti).unwrap());
        }
        let pid = a.payload_id.unwrap();
        blocks
            .entry(pid.sbn)
            .or_default()
            .insert(pid.esi, a.symbols(p).to_vec());
    }
    Received {
        fec: fec.expect("EXT_FTI on object packets"),
        blocks,
        content: content.to_vec(),
    }
}

impl Received {
    /// Source symbols to drop from a block: as many as repair symbols were sent, less the
    /// reception overhead a fountain code may need (Raptor is not MDS: k symbols can fail to
    /// decode, RFC 5053 §5.4; Reed-Solomon is MDS).
    fn dropped(&self, sbn: u32) -> usize {
        let repairs = self.blocks[&sbn].len() - self.k(sbn);
        let overhead = if matches!(self.fec.codec, Codec::Raptor(_) | Codec::RaptorQ(_)) {
            2
        } else {
            0
        };
        repairs.saturating_sub(overhead)
    }

    fn k(&self, sbn: u32) -> usize {
        self.fec.block(sbn).unwrap().k as usize
    }

    /// The block's source bytes. (With Raptor sub-blocks, a source symbol on the wire is an
    /// interleaving of sub-symbols, not contiguous bytes, so this comes from the object.)
    fn source(&self, sbn: u32) -> Vec<u8> {
        let info = self.fec.block(sbn).unwrap();
        self.content[info.offset as usize..(info.offset + info.length) as usize].to_vec()
    }
}

/// Our encoder reproduces every repair symbol; our decoder rebuilds each block from repair symbols
/// with the first sources dropped. Returns the rebuilt object.
fn check_ours_against_theirs(r: &Received) -> Vec<u8> {
    assert_eq!(r.fec.block_count() as usize, r.blocks.len(), "block count");
    let mut rebuilt = Vec::new();
    let mut repairs_checked = 0;
    for (&sbn, symbols) in &r.blocks {
        let k = r.k(sbn);
        let source = r.source(sbn);
        let enc = r.fec.encoder(sbn, &source).unwrap();
        for (&esi, sym) in symbols.range(k as u32..) {
            assert_eq!(
                &enc.symbol(esi).unwrap()[..],
                sym,
                "SBN {sbn} ESI {esi}: repair symbol differs from the flute crate's"
            );
            repairs_checked += 1;
        }
        let dropped = r.dropped(sbn);
        let mut dec = r.fec.decoder(sbn, None).unwrap();
        for (&esi, sym) in symbols.iter().skip(dropped) {
            dec.push(esi, sym).unwrap();
        }
        assert_eq!(dec.status(), DecodeStatus::Decoded, "SBN {sbn}");
        rebuilt.extend_from_slice(
            &dec.source_block().unwrap()[..r.fec.block(sbn).unwrap().length as usize],
        );
    }
    assert!(repairs_checked > 0, "the sender sent no repair symbol");
    rebuilt
}

/// Feeds the flute receiver the sender's packets with, in each block, as many source packets
/// dropped as there are repair packets, and every repair packet's symbol replaced by ours.
fn theirs_decode_ours(packets: &[Vec<u8>], r: &Received) -> Vec<u8> {
    let writer = Rc::new(ObjectWriterBufferBuilder::new(true));
    let mut receiver = MultiReceiver::new(writer.clone(), None, false);
    let now = SystemTime::now();
    for p in packets {
        let a = AlcPacket::parse(p, AlcContext::default()).unwrap().value;
        let mut out = p.clone();
        if a.lct.toi == Some(1) {
            let pid = a.payload_id.unwrap();
            let k = r.k(pid.sbn);
            let dropped = r.dropped(pid.sbn) as u32;
            if pid.esi < dropped {
                continue; // dropped source packet
            }
            if pid.esi as usize >= k {
                let source = r.source(pid.sbn);
                let enc = r.fec.encoder(pid.sbn, &source).unwrap();
                let ours = enc.symbol(pid.esi).unwrap();
                out.clear();
                a.emit(&ours, &mut out).unwrap();
            }
        }
        receiver.push(&endpoint(), &out, now).unwrap();
    }
    let objects = writer.objects.borrow();
    assert_eq!(
        objects.len(),
        1,
        "the flute receiver delivered {} objects",
        objects.len()
    );
    let o = objects[0].borrow();
    assert!(
        o.complete && !o.error,
        "complete={} error={}",
        o.complete,
        o.error
    );
    o.data.clone()
}

fn round_trip(oti: Oti, len: usize, expect_id: u8) {
    let content = object(len);
    let packets = flute_packets(&oti, &content);
    let r = collect(&packets, &content);
    assert_eq!(r.fec.encoding_id, expect_id);
    assert_eq!(check_ours_against_theirs(&r), content, "our decoder");
    assert_eq!(
        theirs_decode_ours(&packets, &r),
        content,
        "the flute receiver with our repair symbols"
    );
}

#[test]
fn rs_id5_matches_the_flute_crate() {
    round_trip(
        Oti::new_reed_solomon_rs28(1024, 40, 12).unwrap(),
        100_000,
        5,
    );
}

#[test]
fn rs_id129_instance0_matches_the_flute_crate() {
    round_trip(
        Oti::new_reed_solomon_rs28_under_specified(512, 60, 20).unwrap(),
        70_001,
        129,
    );
}

#[test]
fn rs_id2_m8_matches_the_flute_crate() {
    round_trip(
        Oti::new_reed_solomon_rs2m(800, 100, 30, 8).unwrap(),
        123_457,
        2,
    );
}

#[test]
fn raptorq_id6_matches_the_flute_crate() {
    round_trip(Oti::new_raptorq(1024, 60, 10, 1, 4).unwrap(), 150_000, 6);
}

#[test]
fn raptor_id1_matches_the_flute_crate() {
    round_trip(Oti::new_raptor(1024, 60, 10, 1, 4).unwrap(), 150_000, 1);
}

#[test]
fn raptor_id1_with_sub_blocks_matches_the_flute_crate() {
    round_trip(Oti::new_raptor(1024, 40, 8, 4, 8).unwrap(), 90_000, 1);
}
