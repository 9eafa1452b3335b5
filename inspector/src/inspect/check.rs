//! The inspector's verdict on a whole capture without any output: every per-packet finding,
//! the session-level ones and the assembler's, counted by ID. Tests and the conformance suite
//! use it to judge a sender's traffic the way `rmt-inspect -q -z findings` does.

use crate::capture::reader::{Packets, ReadError};
use crate::inspect::dissect::{dissect, FlowSelector};
pub use crate::inspect::inspection::FindingCounts;
use crate::inspect::inspection::Inspection;
use crate::track::assembler::AssemblerConfig;
use crate::wire::alc::AlcContext;

/// Checks a capture held in memory. `ports` as `-d udp.port==P` (empty: the heuristic).
pub fn check_capture(
    capture: &[u8],
    ports: Vec<u16>,
    ctx: AlcContext,
) -> Result<FindingCounts, ReadError> {
    check_capture_content(capture, ports, ctx).map(|(f, _)| f)
}

/// What a capture holds that a sender's rules can be judged on: a rule about FDT Instances
/// says nothing about a capture without one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureContent {
    pub alc_packets: u64,
    /// TOIs that carried object data (FLUTE's TOI 0 excepted), over all sessions.
    pub data_tois: u64,
    /// Sessions with FDT Instances (FLUTE).
    pub flute_sessions: u64,
    /// Complete objects with an FCAST header, and CIDs among them.
    pub fcast_objects: u64,
    pub cids: u64,
    pub close_session: bool,
    pub close_object: bool,
    /// The FLUTE flavour every FLUTE session of the capture spoke, when they all spoke the
    /// same one (a session with no flavour, or another, leaves it `None`).
    pub flute_flavor: Option<crate::wire::flute_flavor::FluteFlavor>,
}

impl Inspection {
    pub fn content(&self) -> CaptureContent {
        let mut c = CaptureContent {
            alc_packets: self.alc_packets,
            ..CaptureContent::default()
        };
        let mut flavors = std::collections::BTreeSet::new();
        for s in self.sessions.sessions.values() {
            if s.uses_fdt() {
                flavors.insert(s.flute_flavor());
            }
            c.data_tois += s.data_tois() as u64;
            c.flute_sessions += u64::from(s.uses_fdt());
            c.fcast_objects += s.fcast_objects;
            c.cids += s.cids;
            c.close_session |= s.close_session_frame.is_some();
            c.close_object |= s.close_object_seen();
        }
        if flavors.len() == 1 {
            c.flute_flavor = flavors.pop_first().flatten();
        }
        c
    }
}

/// [`check_capture`], with what the capture holds (no ALC packet: nothing to judge).
pub fn check_capture_content(
    capture: &[u8],
    ports: Vec<u16>,
    ctx: AlcContext,
) -> Result<(FindingCounts, CaptureContent), ReadError> {
    track_capture(capture, ports, ctx).map(|t| {
        let content = t.content();
        (t.findings, content)
    })
}

/// The state the inspector keeps over a whole capture: sessions, objects and findings (what
/// `rmt-inspect -q -z ...` reports).
pub type Tracked = Inspection;

pub fn track_capture(
    capture: &[u8],
    ports: Vec<u16>,
    ctx: AlcContext,
) -> Result<Tracked, ReadError> {
    let mut flows = FlowSelector::new(ports, ctx);
    let mut p = Inspection::new(AssemblerConfig::default());
    for raw in Packets::new(capture)? {
        let d = dissect(raw?, &mut flows);
        // Without an exporter nothing is written: pushing cannot fail.
        let _ = p.push(&d);
    }
    let _ = p.finish();
    Ok(p)
}
