//! One captured packet, decoded as far as it goes: link, IP, UDP, then ALC/LCT for the UDP flows
//! that carry it.
//!
//! Which flows carry ALC: the ports given with `-d udp.port==P`, or else a heuristic that reads
//! the first datagram of each flow as LCT and keeps the flow if it decodes with no error-severity
//! finding (V = 1, HDR_LEN consistent, extensions walk to the end, FEC Payload ID present). The
//! choice is made once per flow and remembered, so a flow is either decoded in full or not at all.

use crate::registry;
use std::collections::HashMap;

use crate::capture::reader::RawPacket;
pub use crate::packet::{Dissected, Flow};
use crate::track::route_signalling::RouteSignalling;
use crate::wire::alc::{AlcContext, AlcPacket};
use crate::wire::frame::Frame;
use crate::wire::route::DeliveryMode;
use crate::wire::{Finding, Severity};

/// Reads a decode-as rule, `-d udp.port==P` as tshark writes it (`udp.port==3400,alc`; the
/// protocol after the comma is optional, spaces around the parts are allowed): the port whose
/// flows are decoded as ALC.
pub fn parse_decode_as(s: &str) -> Result<u16, String> {
    let port = s
        .split_once("==")
        .filter(|(field, _)| field.trim() == "udp.port")
        .map(|(_, value)| value.split(',').next().unwrap_or("").trim())
        .ok_or_else(|| format!("{s:?}: expected udp.port==PORT"))?;
    port.parse()
        .map_err(|_| format!("{s:?}: {port:?} is not a UDP port"))
}

/// Decides which UDP flows are decoded as ALC, and remembers it.
#[derive(Debug, Default)]
pub struct FlowSelector {
    /// `-d udp.port==P`: flows to or from these ports, nothing else.
    pub ports: Vec<u16>,
    /// Heuristic decisions: flow -> (decoded as ALC, packets).
    pub decided: HashMap<Flow, (bool, u64)>,
    pub ctx: AlcContext,
    /// Which destinations carry ROUTE (from the LLS and S-TSIDs, or `--profile`): the profile
    /// each ALC packet is read with.
    pub signalling: RouteSignalling,
    /// The last flow looked up and its decision: captures are long runs of one flow, and this
    /// saves a hash lookup per packet.
    last: Option<(Flow, bool)>,
    /// Packets of `last` not yet added to its count in `decided`.
    last_pending: u64,
}

impl FlowSelector {
    pub fn new(ports: Vec<u16>, ctx: AlcContext) -> Self {
        FlowSelector {
            ports,
            decided: HashMap::new(),
            ctx,
            signalling: RouteSignalling::default(),
            last: None,
            last_pending: 0,
        }
    }

    fn flush_last(&mut self) {
        if let Some((flow, _)) = self.last {
            if let Some(e) = self.decided.get_mut(&flow) {
                e.1 += self.last_pending;
            }
        }
        self.last_pending = 0;
    }

    /// Whether `flow` carries ALC, deciding from `payload` the first time.
    fn decide(&mut self, flow: Flow, payload: &[u8]) -> bool {
        if let Some((f, yes)) = self.last {
            if f == flow {
                self.last_pending += 1;
                return yes;
            }
        }
        self.flush_last();
        // Read as the destination's profile says: a ROUTE packet read as FLUTE may not decode.
        let ctx = AlcContext {
            profile: self
                .signalling
                .profile_or((flow.dst, flow.dst_port), self.ctx.profile),
            ..self.ctx
        };
        let entry = self.decided.entry(flow).or_insert_with(|| {
            let ok = AlcPacket::parse(payload, ctx)
                .is_ok_and(|a| !a.findings.iter().any(|f| f.severity == Severity::Error));
            (ok, 0)
        });
        entry.1 += 1;
        let yes = entry.0;
        self.last = Some((flow, yes));
        yes
    }

    /// The flows the heuristic took, for the report on standard error.
    pub fn chosen(&mut self) -> Vec<(Flow, u64)> {
        self.flush_last();
        let mut v: Vec<(Flow, u64)> = self
            .decided
            .iter()
            .filter(|(_, (yes, _))| *yes)
            .map(|(f, (_, n))| (*f, *n))
            .collect();
        v.sort();
        v
    }
}

pub fn dissect<'a>(raw: RawPacket<'a>, flows: &mut FlowSelector) -> Dissected<'a> {
    let mut d = Dissected::new(raw);
    dissect_into(&mut d, flows);
    d
}

/// [`dissect`] into a packet already in place (e.g. in a batch), so that the decoded layers
/// are not moved again.
pub fn dissect_into(d: &mut Dissected<'_>, flows: &mut FlowSelector) {
    let raw = d.raw;
    if (raw.orig_len as usize) > raw.data.len() {
        d.findings.push(Finding::of(
            &registry::frame::SNAP_TRUNCATED,
            "frame",
            raw.data.len(),
            format!("{} of {} bytes captured", raw.data.len(), raw.orig_len),
        ));
    }
    let frame = match Frame::parse(raw.link_type, raw.data) {
        Ok(f) => f,
        Err(e) => {
            d.error = Some(Box::new(e));
            return;
        }
    };
    d.findings.extend(frame.findings);
    let frame = frame.value;
    let (Some(flow), Some(udp)) = (Flow::of_frame(&frame), frame.udp) else {
        d.frame = Some(frame);
        return;
    };
    d.flow = Some(flow);
    d.alc_offset = frame.payload_offset;
    let payload = frame.udp_payload(raw.data).unwrap_or(&[]);
    d.frame = Some(frame);
    if let Some((table, found)) = flows.signalling.observe_lls(raw.frame, flow, payload) {
        let at = d.alc_offset;
        d.findings.extend(found.into_iter().map(|mut f| {
            f.offset += at;
            f
        }));
        d.lls = table.map(Box::new);
        return;
    }
    let wanted = if flows.ports.is_empty() {
        flows.decide(flow, payload)
    } else {
        flows.ports.contains(&udp.dst_port) || flows.ports.contains(&udp.src_port)
    };
    if !wanted {
        return;
    }
    let ctx = AlcContext {
        profile: flows
            .signalling
            .profile_or((flow.dst, flow.dst_port), flows.ctx.profile),
        ..flows.ctx
    };
    match AlcPacket::parse(payload, ctx) {
        Ok(mut a) => {
            // A repair packet's RaptorQ parameters are its S-TSID's (A/331 §A.4.3.2).
            if let (Some(r), Some(tsi)) = (a.value.route.as_mut(), a.value.lct.tsi) {
                let described = flows
                    .signalling
                    .stsid_channel((flow.dst, flow.dst_port), tsi)
                    .flatten();
                if r.start_offset().is_none() {
                    r.repair_flow = described.and_then(|c| c.repair_flow);
                } else {
                    if r.mode.is_none() {
                        let cp = a.value.lct.codepoint;
                        r.mode = described
                            .and_then(|c| c.payloads.get(&cp))
                            .and_then(|&id| DeliveryMode::of_format_id(id));
                    }
                    a.value.stsid = described.cloned();
                }
            }
            d.findings.extend(a.findings.into_iter().map(|mut f| {
                f.offset += d.alc_offset;
                f
            }));
            flows
                .signalling
                .observe_alc(raw.frame, flow, &a.value, payload);
            if a.value.route.is_some() {
                route_flow_checks(d, &flows.signalling, flow, &a.value);
            }
            d.alc = Some(a.value);
        }
        Err(e) => d.error = Some(Box::new(e.at(d.alc_offset))),
    }
}

/// A ROUTE source packet against its session's S-TSID, when one was seen: its TSI is listed
/// (A/331 Table 7.4), and its codepoint is a fixed one or one the S-TSID declares for it (Table
/// A.3.6).
fn route_flow_checks(d: &mut Dissected, s: &RouteSignalling, flow: Flow, a: &AlcPacket) {
    let (Some(tsi), Some(route)) = (a.lct.tsi, a.route) else {
        return;
    };
    if tsi == 0 || route.start_offset().is_none() {
        return;
    }
    let Some(listed) = s.stsid_channel((flow.dst, flow.dst_port), tsi) else {
        return;
    };
    let cp = a.lct.codepoint;
    match listed {
        None => d.findings.push(Finding::of(
            &registry::route::TSI_NOT_IN_STSID,
            "tsi",
            d.alc_offset + 4 + 4 * (usize::from(a.lct.c) + 1),
            format!(
                "TSI {tsi}: the S-TSID for {}:{} lists no such LS",
                flow.dst, flow.dst_port
            ),
        )),
        Some(ch) if !(1..=9).contains(&cp) && !ch.payloads.contains_key(&cp) => {
            d.findings.push(Finding::of(
                &registry::route::CODEPOINT_NOT_IN_STSID,
                "codepoint",
                d.alc_offset + 3,
                format!(
                    "TSI {tsi}: codepoint {cp}, the S-TSID declares {:?}",
                    ch.payloads.keys().collect::<Vec<_>>()
                ),
            ))
        }
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::parse_decode_as;

    #[test]
    fn decode_as_reads_tsharks_form_and_names_what_is_wrong() {
        assert_eq!(parse_decode_as("udp.port==3400"), Ok(3400));
        assert_eq!(parse_decode_as("udp.port==3400,alc"), Ok(3400));
        assert_eq!(parse_decode_as("udp.port == 3400, alc"), Ok(3400));
        assert!(parse_decode_as("tcp.port==3400")
            .unwrap_err()
            .contains("udp.port==PORT"));
        assert!(parse_decode_as("udp.port==70000")
            .unwrap_err()
            .contains("not a UDP port"));
        assert!(parse_decode_as("3400").is_err());
    }
}
