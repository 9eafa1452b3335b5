//! The long-session soak (issue 15): the reference sender streams a session of days on the
//! virtual clock — 16-bit TOIs that wrap and are reused (RFC 6968 §3.6), FCAST with or without
//! CIDs, or FLUTE whose FDT Instances expire before their TOIs come back and whose FDT Instance
//! IDs wrap (RFC 6726 §3.3, §3.4.1) — through seeded loss into the reference receiver, the
//! inspector's pipeline and the sender cases of `rmt-conform sender`, without ever holding
//! the session in memory. A correct run finds nothing, delivers every object once with its own
//! bytes, and keeps memory flat. `tests/soak.rs` runs a short form (3 wraps); the full 30-day
//! form and the benchmark are `cargo run --release -p rmt-conformance --example soak`.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rmt_inspector::capture::reader::RawPacket;
use rmt_inspector::inspect::dissect::{dissect, FlowSelector};
use rmt_inspector::inspect::inspection::FindingCounts;
use rmt_inspector::inspect::inspection::Inspection;
use rmt_inspector::track::assembler::AssemblerConfig;
use rmt_inspector::wire::alc::AlcContext;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::lct::{ExtensionBody, HET_FDT};
use rmt_inspector::wire::link::LinkType;
use rmt_inspector::wire::Severity;
use rmt_reference::driver::capture::VIRTUAL_START;
use rmt_reference::fec_config::FecConfig;
use rmt_reference::packet::FieldWidths;
use rmt_reference::receiver::{Event, Receiver, ReceiverConfig, STALE_REASON};
use rmt_reference::rng::SeededRng;
use rmt_reference::sender::{Mode, ObjectSpec, Sender, SenderConfig, Transmit};

use crate::catalogue::sender_cases;
use crate::outcome::Outcome;
use crate::runner::CaseResult;
use crate::sender::{judge_sender, Declared};

/// The session's flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    FcastCid,
    FcastNoCid,
    Flute,
}

impl Flavour {
    pub const ALL: [Flavour; 3] = [Flavour::FcastCid, Flavour::FcastNoCid, Flavour::Flute];

    pub fn name(self) -> &'static str {
        match self {
            Flavour::FcastCid => "fcast-cid",
            Flavour::FcastNoCid => "fcast-nocid",
            Flavour::Flute => "flute",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    fn mode(self) -> Mode {
        match self {
            Flavour::Flute => Mode::Flute,
            _ => Mode::Fcast,
        }
    }
}

/// What runs on the session's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub receiver: bool,
    pub inspector: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        receiver: true,
        inspector: true,
    };
}

#[derive(Debug, Clone)]
pub struct SoakConfig {
    pub flavour: Flavour,
    /// Objects sent, one at a time (FCAST push mode; FLUTE with an FDT Instance each).
    pub objects: u64,
    /// Virtual time from one object to the next.
    pub period: Duration,
    /// Bytes per object, and the FEC that carries it through `loss`.
    pub object_bytes: usize,
    pub fec: FecConfig,
    /// Share of packets lost (seeded), the same for the receiver and the capture.
    pub loss: f64,
    pub seed: u64,
    /// FLUTE: FDT Instances valid this long (shorter than a TOI wrap, so that a TOI comes back
    /// only after the instances describing its last object expired), and the first ID (near
    /// 2^20 to wrap early).
    pub fdt_validity: Duration,
    pub first_fdt_instance_id: u32,
    /// Distance between consecutive TOIs (1: every TOI is used; larger: quick wraps, for
    /// debugging).
    pub toi_stride: u128,
    /// FLUTE: the FDT Instance is sent again after this many data packets.
    pub fdt_interval: u32,
    pub parts: Parts,
}

/// 2^16: 16-bit TOIs.
pub const TOI_SPACE: u64 = 1 << 16;

impl SoakConfig {
    /// A session whose 16-bit TOIs wrap `wraps` times (at least), an object every 375 ms of
    /// the virtual clock.
    pub fn new(flavour: Flavour, wraps: u64) -> Self {
        // With CIDs every Carousel Instance takes a TOI for its CID as well.
        let tois_per_object = if flavour == Flavour::FcastCid { 2 } else { 1 };
        let objects = (wraps * TOI_SPACE).div_ceil(tois_per_object) + 10;
        SoakConfig {
            flavour,
            objects,
            period: Duration::from_millis(375),
            object_bytes: 300,
            fec: FecConfig {
                encoding_id: 2,
                symbol_length: 128,
                max_source_block_length: 64,
                repair_ratio: 1.0,
                ..FecConfig::default()
            },
            loss: 0.01,
            seed: 1,
            fdt_validity: Duration::from_secs(3600),
            first_fdt_instance_id: (1 << 20) - 2_000,
            toi_stride: 1,
            fdt_interval: 2,
            parts: Parts::ALL,
        }
        .flute_tuned()
    }

    /// FLUTE: an object cannot be delivered without its FDT entry, and the FDT Instance goes
    /// without FEC (RFC 6726 §3.3): one-packet instances (E = 512) sent after every data packet,
    /// and the 300-byte object in one source and three repair symbols. Losing every packet of
    /// either is then about 1e-8 at 1% loss, against 8e-7 for three-packet instances sent every
    /// other packet (a few objects in a 30-day session).
    fn flute_tuned(mut self) -> Self {
        if self.flavour == Flavour::Flute {
            self.fec.symbol_length = 512;
            self.fec.repair_ratio = 3.0;
            self.fdt_interval = 1;
        }
        self
    }

    /// The virtual duration of the session.
    pub fn duration(&self) -> Duration {
        self.period * self.objects as u32
    }
}

/// Object `i`: its name and bytes (its index in the first 8 bytes, so a spliced object shows).
fn object(i: u64, len: usize) -> ObjectSpec {
    let mut data = i.to_be_bytes().to_vec();
    data.extend(SeededRng::new(i ^ 0x5eed).bytes(len.saturating_sub(8)));
    ObjectSpec {
        name: format!("soak/{i}"),
        content_type: "application/octet-stream".into(),
        data,
    }
}

/// What a run saw.
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    pub objects_sent: u64,
    /// Transport objects the inspector should rebuild: the objects, and a CID per Carousel
    /// Instance with CIDs.
    pub objects_expected: u64,
    pub packets_sent: u64,
    pub packets_lost: u64,
    pub toi_wraps: u64,
    /// FDT Instance ID wraps seen on the wire (with the inspector part).
    pub fdt_id_wraps: u64,
    pub virtual_duration: Duration,
    /// Receiver: delivered once with the right bytes; not delivered; delivered again; with
    /// another object's bytes or name.
    pub delivered: u64,
    pub missing: u64,
    pub duplicates: u64,
    pub spliced: u64,
    /// Events the receiver raised that a clean session should not: (abandoned, FDT ignored).
    pub receiver_rejections: Vec<String>,
    /// Unfinished objects the receiver gave up when their key came back much later.
    pub receiver_stale: u64,
    /// The largest number of objects the receiver held in flight.
    pub receiver_max_in_flight: usize,
    /// Inspector: findings by ID; objects rebuilt and objects seen; the most objects in flight
    /// and remembered at once.
    pub findings: FindingCounts,
    pub inspector_objects: u64,
    pub inspector_recoverable: u64,
    pub inspector_max_in_flight: usize,
    pub inspector_max_remembered: usize,
    /// Sender cases that did not pass (or were not applicable).
    pub case_failures: Vec<CaseResult>,
    /// Wall time spent in the inspector and in the receiver, and in all.
    pub inspector_time: Duration,
    pub receiver_time: Duration,
    pub wall_time: Duration,
}

impl SoakReport {
    /// Findings of Warning or Error level: none in a correct run.
    pub fn false_findings(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|(_, c)| c.severity >= Severity::Warning)
            .map(|(id, c)| c.describe(id))
            .collect()
    }

    /// Everything wrong with the run, in words (empty: a clean run).
    pub fn problems(&self, parts: Parts) -> Vec<String> {
        let mut out = Vec::new();
        if parts.receiver {
            if self.missing + self.duplicates + self.spliced > 0 {
                out.push(format!(
                    "receiver: {} missing, {} delivered twice, {} spliced (of {})",
                    self.missing, self.duplicates, self.spliced, self.objects_sent
                ));
            }
            out.extend(self.receiver_rejections.iter().take(5).cloned());
        }
        if parts.inspector {
            out.extend(self.false_findings());
            if self.inspector_recoverable != self.objects_expected {
                out.push(format!(
                    "inspector: {} objects rebuilt of {} sent ({} objects seen)",
                    self.inspector_recoverable, self.objects_expected, self.inspector_objects
                ));
            }
            out.extend(
                self.case_failures
                    .iter()
                    .map(|c| format!("{} {}: {}", c.id, c.outcome.as_str(), c.detail)),
            );
        }
        out
    }
}

/// Checks each delivery against the object sent under its name, in order.
#[derive(Default)]
struct Deliveries {
    next: u64,
    report_missing: u64,
    duplicates: u64,
    spliced: u64,
    delivered: u64,
}

impl Deliveries {
    fn take(&mut self, name: &str, data: &[u8], object_bytes: usize) {
        let Some(i) = name
            .strip_prefix("soak/")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            self.spliced += 1;
            return;
        };
        if i < self.next {
            self.duplicates += 1;
            return;
        }
        if data != object(i, object_bytes).data {
            self.spliced += 1;
            return;
        }
        self.report_missing += i - self.next;
        self.next = i + 1;
        self.delivered += 1;
    }
}

/// Runs the soak. `progress` is called about every `1/100` of the session with the objects
/// sent so far.
pub fn run(config: &SoakConfig, mut progress: impl FnMut(u64, &SoakReport)) -> SoakReport {
    let started = Instant::now();
    let mode = config.flavour.mode();
    let dest: SocketAddr = "233.252.0.1:3400".parse().expect("address");
    let source: IpAddr = "10.0.0.1".parse().expect("address");
    let mut c = SenderConfig::new(mode, dest, 9);
    c.source = source;
    c.widths = FieldWidths {
        tsi_len: 2,
        toi_len: 2,
    };
    c.cid = config.flavour == Flavour::FcastCid;
    c.toi_stride = config.toi_stride;
    c.fec = config.fec.clone();
    c.rate_bps = 100_000_000;
    c.ext_time = false;
    c.fdt_validity = config.fdt_validity;
    c.first_fdt_instance_id = config.first_fdt_instance_id;
    c.fdt_interval = config.fdt_interval;
    let mut sender = Sender::new(c).expect("a valid configuration");
    let mut rc = ReceiverConfig::new(mode, 9);
    if mode == Mode::Fcast {
        rc.fec_encoding_id = Some(config.fec.encoding_id);
    }
    let mut receiver = Receiver::new(rc);
    let ctx = AlcContext {
        fec_encoding_id: (mode == Mode::Fcast).then_some(config.fec.encoding_id),
        ..AlcContext::default()
    };
    let mut flows = FlowSelector::new(vec![dest.port()], ctx);
    let mut pipeline = Inspection::new(AssemblerConfig::default());
    let mut loss = SeededRng::new(config.seed);
    let mut report = SoakReport::default();
    let mut deliveries = Deliveries::default();
    let mut frame = 0u64;
    let mut previous: Option<u128> = None;
    let mut last_toi: Option<u128> = None;
    let mut last_fdt_id: Option<u32> = None;
    let mut now = VIRTUAL_START;
    let step = (config.objects / 100).max(1);
    for i in 0..config.objects {
        if let Some(t) = previous.take() {
            sender.remove_object(t);
        }
        let toi = sender
            .add_object(object(i, config.object_bytes))
            .expect("the sender takes every object");
        if last_toi.is_some_and(|l| toi < l) {
            report.toi_wraps += 1;
        }
        last_toi = Some(toi);
        previous = Some(toi);
        sender
            .commit(now, i + 1 == config.objects)
            .expect("the sender commits every instance");
        let sent: Vec<Transmit> = sender.drain(&mut now, 100_000);
        for t in &sent {
            report.packets_sent += 1;
            if loss.chance(config.loss) {
                report.packets_lost += 1;
                continue;
            }
            if config.parts.receiver {
                let r = Instant::now();
                receiver.handle(t.at, t.source, &t.payload);
                while let Some(e) = receiver.poll_event() {
                    match e {
                        Event::Delivered(d) => {
                            deliveries.take(&d.name, &d.data, config.object_bytes)
                        }
                        // Under loss an object (an FDT Instance's last copy, say) may stay
                        // unfinished: given up when its key comes back much later, as it should.
                        Event::Abandoned { reason, .. } | Event::FdtIgnored { reason, .. }
                            if reason.starts_with(STALE_REASON) =>
                        {
                            report.receiver_stale += 1
                        }
                        Event::Abandoned { toi, reason } => report
                            .receiver_rejections
                            .push(format!("receiver abandoned TOI {toi}: {reason}")),
                        Event::FdtIgnored {
                            instance_id,
                            reason,
                        } => report.receiver_rejections.push(format!(
                            "receiver ignored FDT Instance {instance_id}: {reason}"
                        )),
                        _ => {}
                    }
                }
                report.receiver_max_in_flight = report
                    .receiver_max_in_flight
                    .max(receiver.objects_in_flight());
                report.receiver_time += r.elapsed();
            }
            if config.parts.inspector {
                if let (IpAddr::V4(s), SocketAddr::V4(d)) = (t.source, t.destination) {
                    let bytes = Frame::ipv4_udp((s, 4000), (*d.ip(), d.port()), &t.payload, false);
                    let r = Instant::now();
                    frame += 1;
                    let raw = RawPacket {
                        frame,
                        link_type: LinkType::Ethernet,
                        timestamp: t.at,
                        data: &bytes,
                        orig_len: bytes.len() as u32,
                    };
                    let d = dissect(raw, &mut flows);
                    // FDT Instance IDs as they went by: a decrease is a wrap (RFC 6726 §3.4.1).
                    if let Some(ExtensionBody::Fdt(x)) = d
                        .alc
                        .as_ref()
                        .and_then(|a| a.lct.extension(HET_FDT))
                        .map(|e| &e.body)
                    {
                        if last_fdt_id.is_some_and(|l| x.instance_id < l) {
                            report.fdt_id_wraps += 1;
                        }
                        last_fdt_id = Some(x.instance_id);
                    }
                    // Nothing is exported: pushing cannot fail.
                    let _ = pipeline.push(&d);
                    report.inspector_time += r.elapsed();
                }
            }
        }
        report.objects_sent += 1;
        report.objects_expected += if config.flavour == Flavour::FcastCid {
            2
        } else {
            1
        };
        report.inspector_max_in_flight = report
            .inspector_max_in_flight
            .max(pipeline.assembler.in_flight());
        report.inspector_max_remembered = report
            .inspector_max_remembered
            .max(pipeline.assembler.remembered());
        now = now.max(VIRTUAL_START + config.period * (i + 1) as u32);
        if (i + 1) % step == 0 {
            report.delivered = deliveries.delivered;
            progress(i + 1, &report);
        }
    }
    report.virtual_duration = now - VIRTUAL_START;
    report.delivered = deliveries.delivered;
    report.duplicates = deliveries.duplicates;
    report.spliced = deliveries.spliced;
    report.missing = deliveries.report_missing + (config.objects - deliveries.next);
    if config.parts.inspector {
        let r = Instant::now();
        let _ = pipeline.finish();
        report.inspector_time += r.elapsed();
        report.findings = pipeline.findings.clone();
        report.inspector_objects = pipeline.objects.objects;
        report.inspector_recoverable = pipeline.objects.recoverable;
        let content = pipeline.content();
        report.case_failures = judge_sender(
            &sender_cases(),
            &pipeline.findings,
            &content,
            Declared::mode(mode),
            false,
        )
        .into_iter()
        .filter(|r| !matches!(r.outcome, Outcome::Pass | Outcome::NotApplicable))
        .collect();
    }
    report.wall_time = started.elapsed();
    report
}

/// Peak resident memory of this process (VmHWM), in KiB, where /proc tells it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
