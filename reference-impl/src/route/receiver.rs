//! A ROUTE receiver, sans-IO: datagrams in, named objects out. It learns the session as an
//! ATSC 3.0 receiver does (the LLS's SLT, then the S-TSID of the SLS on TSI 0), rebuilds source
//! objects from their byte ranges, with the repair flow's RaptorQ symbols when source packets
//! were lost, names File-mode objects from their EFDT and Entity-mode objects from their
//! headers. It runs on the inspector's engine (the dissector with its ROUTE signalling, and the
//! object assembly), as the FLUTE receiver does on the shared object assembly.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmt_inspector::capture::reader::RawPacket;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::inspect::inspection::{Inspection, Observer};
use rmt_inspector::track::assembler::{AssemblerConfig, ObjectReport};
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::fcast::CompoundObject;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::link::LinkType;
use rmt_inspector::wire::Finding;

/// An object the receiver rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteObject {
    pub tsi: u64,
    pub toi: u128,
    /// Its Content-Location (EFDT or entity headers), if known.
    pub name: Option<String>,
    pub data: Vec<u8>,
    /// Rebuilt with repair symbols.
    pub repaired: bool,
}

#[derive(Default)]
struct Collected {
    objects: Vec<RouteObject>,
    findings: Vec<(u64, Finding)>,
}

struct Collector(Arc<Mutex<Collected>>);

impl Observer for Collector {
    fn finding(&mut self, frame: u64, finding: &Finding) {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if c.findings.len() < 10_000 {
            c.findings.push((frame, finding.clone()));
        }
    }

    fn object(&mut self, r: &ObjectReport, _fcast: Option<&CompoundObject>) {
        let Some(data) = &r.data else { return };
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        c.objects.push(RouteObject {
            tsi: r.key.tsi,
            toi: r.key.toi,
            name: r.fdt_file.as_ref().map(|f| f.content_location.clone()),
            data: data.clone(),
            repaired: r.encoding_id == Some(6),
        });
    }
}

pub struct RouteReceiver {
    flows: FlowSelector,
    inspection: Inspection,
    collected: Arc<Mutex<Collected>>,
    frame: u64,
}

impl Default for RouteReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl RouteReceiver {
    pub fn new() -> Self {
        let collected = Arc::new(Mutex::new(Collected::default()));
        RouteReceiver {
            // Every UDP flow is looked at (the LLS is not ALC; the heuristic keeps ALC flows).
            flows: FlowSelector::new(vec![], AlcContext::default()),
            inspection: Inspection::new(AssemblerConfig::default())
                .with_observer(Box::new(Collector(collected.clone()))),
            collected,
            frame: 0,
        }
    }

    /// One datagram from `source` to `destination`, received at `time`.
    pub fn push(
        &mut self,
        source: SocketAddrV4,
        destination: SocketAddrV4,
        payload: &[u8],
        time: Duration,
    ) {
        self.frame += 1;
        let frame = Frame::ipv4_udp(
            (*source.ip(), source.port()),
            (*destination.ip(), destination.port()),
            payload,
            false,
        );
        let raw = RawPacket {
            frame: self.frame,
            link_type: LinkType::Ethernet,
            timestamp: time,
            data: &frame,
            orig_len: frame.len() as u32,
        };
        let d = dissect(raw, &mut self.flows);
        // An object that cannot be written is impossible here: no export folder.
        let _ = self.inspection.push(&d);
    }

    /// End of input: objects still in flight leave; returns every object rebuilt.
    pub fn finish(&mut self) -> Vec<RouteObject> {
        let _ = self.inspection.finish();
        std::mem::take(
            &mut self
                .collected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .objects,
        )
    }

    /// The findings raised so far (frame, finding).
    pub fn findings(&self) -> Vec<(u64, Finding)> {
        self.collected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .findings
            .clone()
    }

    /// The profile the session's destination is read with, and why.
    pub fn profile_of(&self, destination: SocketAddrV4) -> (String, String) {
        let ch = (std::net::IpAddr::V4(*destination.ip()), destination.port());
        let s = &self.flows.signalling;
        (s.profile(ch).name().to_string(), s.why(ch))
    }
}

/// The source address the reference sender's datagrams come from.
pub const SENDER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000);
