//! One inspection for every caller (`rmt-inspect` on a file or an interface, the conformance
//! suite's sender checks, tests, the soak test): each dissected packet goes to the per-packet
//! findings, the session tracker and the object assembler; objects and FDT Instances that leave
//! the assembler go on at once to the session checks (FDT files, FCAST objects and CIDs), to
//! the export folder if any, to the bounded object log and to an [`Observer`] if one is set.
//! Findings are counted as they are raised. Nothing grows with the length of the capture:
//! memory stays flat on a session of any length.

use crate::registry;
use std::io;

use crate::inspect::dissect::Dissected;
use crate::inspect::output::all_findings;
use std::collections::BTreeMap;

use crate::track::assembler::{Assembler, AssemblerConfig, FdtEvent, ObjectReport};
use crate::track::export::Exporter;
use crate::track::object_log::{FdtRecord, ObjectLog, ObjectRecord, MAX_RECORDS};
use crate::track::session::SessionTracker;
use crate::wire::fcast::CompoundObject;
use crate::wire::finding::Finding;
use crate::wire::Severity;

/// How often one finding ID was raised, and where first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingCount {
    pub severity: Severity,
    /// The RFC rule of its first raise (an entry shared by schemes cites each scheme's).
    pub rule: &'static str,
    pub count: u64,
    pub first_frame: u64,
}

impl FindingCount {
    /// One line for a verdict's detail: `ID (Severity, rule): Nx, first in frame F`.
    pub fn describe(&self, id: &str) -> String {
        format!(
            "{id} ({:?}, {}): {}x, first in frame {}",
            self.severity, self.rule, self.count, self.first_frame
        )
    }
}

/// Findings by ID.
pub type FindingCounts = BTreeMap<&'static str, FindingCount>;

/// Adds a finding raised in `frame` to the per-ID counts.
pub fn count_finding(agg: &mut FindingCounts, frame: u64, f: &Finding) {
    let e = agg.entry(f.id).or_insert(FindingCount {
        severity: f.severity,
        rule: f.rule,
        count: 0,
        first_frame: frame,
    });
    e.count += 1;
    e.first_frame = e.first_frame.min(frame);
}

/// What an inspection hands out as it happens, for a caller that wants more than the counts
/// and logs (every method has a default that ignores the event).
pub trait Observer {
    /// A finding, in the frame that raised it (session-level ones: the frame that completed
    /// what they judge).
    fn finding(&mut self, _frame: u64, _finding: &Finding) {}
    /// A complete FDT Instance, after the session checks have read it.
    fn fdt_instance(&mut self, _event: &FdtEvent) {}
    /// An object that left the assembler, complete or not, with its FCAST header if it has one.
    fn object(&mut self, _report: &ObjectReport, _fcast: Option<&CompoundObject>) {}
}

pub struct Inspection {
    pub sessions: SessionTracker,
    pub assembler: Assembler,
    pub objects: ObjectLog,
    /// Findings by ID: severity, RFC rule, count, first frame.
    pub findings: FindingCounts,
    pub alc_packets: u64,
    pub last_frame: u64,
    exporter: Option<Exporter>,
    observer: Option<Box<dyn Observer + Send>>,
    finished: bool,
}

impl Inspection {
    pub fn new(config: AssemblerConfig) -> Self {
        Inspection {
            sessions: SessionTracker::default(),
            assembler: Assembler::new(config),
            objects: ObjectLog::default(),
            findings: FindingCounts::new(),
            alc_packets: 0,
            last_frame: 0,
            exporter: None,
            observer: None,
            finished: false,
        }
    }

    /// Findings, FDT Instances and objects are handed to `observer` as they happen.
    pub fn with_observer(mut self, observer: Box<dyn Observer + Send>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Rebuilt objects are written to `exporter`'s folder as they complete.
    pub fn with_exporter(mut self, exporter: Exporter) -> Self {
        self.exporter = Some(exporter);
        self
    }

    /// One packet. Fails only when an object cannot be written to the export folder.
    pub fn push(&mut self, d: &Dissected) -> io::Result<()> {
        self.last_frame = d.raw.frame;
        // Most packets have none: skip building the list.
        if !d.findings.is_empty() || d.error.is_some() {
            for f in all_findings(d) {
                Self::tally(&mut self.findings, &mut self.observer, d.raw.frame, &f);
            }
        }
        self.sessions.push(d);
        if let (Some(a), Some(flow)) = (&d.alc, d.flow) {
            self.alc_packets += 1;
            self.assembler.push_to(
                d.raw.frame,
                d.raw.timestamp,
                (flow.src, flow.dst, flow.dst_port),
                a,
                d.symbols(),
            );
            if self.assembler.has_output() {
                self.drain()?;
            }
        }
        self.count_raised();
        Ok(())
    }

    /// Session and object findings are counted as they are raised, so that the counts are
    /// current after every packet and the trackers hold none for long.
    #[inline]
    fn count_raised(&mut self) {
        // Nearly every packet raises none: skip setting up the drains.
        if self.sessions.findings.is_empty() && self.assembler.findings.is_empty() {
            return;
        }
        for (frame, f) in self
            .sessions
            .findings
            .drain(..)
            .chain(self.assembler.findings.drain(..))
        {
            Self::tally(&mut self.findings, &mut self.observer, frame, &f);
        }
    }

    /// A finding is counted, then handed to the observer. (Fields, not `&mut self`: the
    /// callers drain the trackers' lists while they tally.)
    fn tally(
        counts: &mut FindingCounts,
        observer: &mut Option<Box<dyn Observer + Send>>,
        frame: u64,
        f: &Finding,
    ) {
        count_finding(counts, frame, f);
        if let Some(o) = observer.as_mut() {
            o.finding(frame, f);
        }
    }

    /// What left the assembler goes on: FDT Instances first (the files they describe), then
    /// objects.
    fn drain(&mut self) -> io::Result<()> {
        for e in self.assembler.take_fdt_events() {
            self.sessions.fdt_files(
                e.key.sender,
                e.key.tsi,
                e.frame,
                e.time,
                e.key.fdt_instance,
                &e.instance,
            );
            self.objects.push_fdt(FdtRecord::new(&e));
            if let Some(o) = self.observer.as_mut() {
                o.fdt_instance(&e);
            }
        }
        for r in self.assembler.take_reports() {
            let fcast = self.sessions.fcast_object(&r);
            if let Some(x) = self.exporter.as_mut() {
                x.write(&r)?;
            }
            self.objects.push(ObjectRecord::new(&r, fcast.as_ref()));
            if let Some(o) = self.observer.as_mut() {
                o.object(&r, fcast.as_ref());
            }
        }
        Ok(())
    }

    /// End of input: objects still in flight leave as they are, the end-of-capture session
    /// checks run and their findings are counted, and the export manifest is written.
    pub fn finish(&mut self) -> io::Result<()> {
        if std::mem::replace(&mut self.finished, true) {
            return Ok(());
        }
        self.assembler.finish(self.last_frame);
        self.drain()?;
        self.sessions.finish(self.last_frame);
        if self.objects.forgotten > 0 {
            let detail = format!(
                "-z objects lists the last {MAX_RECORDS} of {} objects; every object was checked",
                self.objects.objects
            );
            let f = Finding::of(&registry::track::OBJECTS_RECORDS_CAP, "object", 0, detail);
            self.assembler.findings.push((self.last_frame, f));
        }
        self.count_raised();
        if let Some(x) = self.exporter.as_mut() {
            x.finish()?;
        }
        Ok(())
    }

    /// A finding from outside the packets (the live capture's drops), counted on `frame` and
    /// handed to the observer like any other.
    pub fn note(&mut self, frame: u64, f: &Finding) {
        Self::tally(&mut self.findings, &mut self.observer, frame, f);
    }

    /// Objects exported so far (with an exporter).
    pub fn exported(&self) -> usize {
        self.exporter.as_ref().map_or(0, Exporter::written)
    }
}
