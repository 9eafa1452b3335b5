//! One inspection pipeline for every caller (`rmt-inspect` on a file or an interface, the
//! conformance suite's sender checks, tests, the soak test): each dissected packet goes to the
//! per-packet findings, the session tracker and the object assembler; objects and FDT
//! Instances that leave the assembler go on at once to the session checks (FDT files, FCAST
//! objects and CIDs), to the export folder if any, and to the bounded object log. Nothing grows
//! with the length of the capture: memory stays flat on a session of any length.

use crate::registry;
use std::io;

use crate::inspect::dissect::Dissected;
use crate::inspect::output::all_findings;
use crate::inspect::stats::{count_finding, FindingCounts};
use crate::track::assembler::{Assembler, AssemblerConfig};
use crate::track::export::Exporter;
use crate::track::object_log::{FdtRecord, ObjectLog, ObjectRecord, MAX_RECORDS};
use crate::track::session::SessionTracker;
use crate::wire::finding::Finding;

pub struct Pipeline {
    pub sessions: SessionTracker,
    pub assembler: Assembler,
    pub objects: ObjectLog,
    /// Findings by ID: severity, RFC rule, count, first frame.
    pub findings: FindingCounts,
    pub alc_packets: u64,
    pub last_frame: u64,
    exporter: Option<Exporter>,
    finished: bool,
}

impl Pipeline {
    pub fn new(config: AssemblerConfig) -> Self {
        Pipeline {
            sessions: SessionTracker::default(),
            assembler: Assembler::new(config),
            objects: ObjectLog::default(),
            findings: FindingCounts::new(),
            alc_packets: 0,
            last_frame: 0,
            exporter: None,
            finished: false,
        }
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
                count_finding(&mut self.findings, d.raw.frame, &f);
            }
        }
        self.sessions.push(d);
        if let (Some(a), Some(flow)) = (&d.alc, d.flow) {
            self.alc_packets += 1;
            self.assembler
                .push(d.raw.frame, d.raw.timestamp, flow.src, a, d.symbols());
            if self.assembler.has_output() {
                self.drain()?;
            }
        }
        Ok(())
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
        }
        for r in self.assembler.take_reports() {
            let fcast = self.sessions.fcast_object(&r);
            if let Some(x) = self.exporter.as_mut() {
                x.write(&r)?;
            }
            self.objects.push(ObjectRecord::new(&r, fcast.as_ref()));
        }
        Ok(())
    }

    /// End of input: objects still in flight leave as they are, the end-of-capture session
    /// checks run, every finding is counted, and the export manifest is written.
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
        for (frame, f) in self
            .sessions
            .findings
            .iter()
            .chain(self.assembler.findings.iter())
        {
            count_finding(&mut self.findings, *frame, f);
        }
        if let Some(x) = self.exporter.as_mut() {
            x.finish()?;
        }
        Ok(())
    }

    /// Objects exported so far (with an exporter).
    pub fn exported(&self) -> usize {
        self.exporter.as_ref().map_or(0, Exporter::written)
    }
}
