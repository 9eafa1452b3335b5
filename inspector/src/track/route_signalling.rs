//! Which UDP destinations carry ROUTE, and why: the profile of each channel (destination
//! address and port), learnt from signalling as a ROUTE receiver learns it (A/331 §5.2):
//!
//! 1. the LLS's SLT (224.0.23.60:4937) names each service's SLS destination and protocol; a
//!    service with `slsProtocol` 1 has its ROUTE session there (profile `atsc3`);
//! 2. the SLS on TSI 0 of that session is a multipart bundle whose S-TSID lists the session's
//!    LCT channels (TSIs) and their source and repair flows, maybe on other destinations; an
//!    S-TSID found without an SLT makes its sessions `route`.
//!
//! To find an S-TSID before knowing the session is ROUTE, TSI 0 packets whose PSI says "source"
//! (a bit FLUTE senders leave at 0, RFC 5775 §2.1) are rebuilt here by start_offset, a few small
//! objects at a time. A capture file is read once for this before it is inspected
//! (`rmt-inspect`), so that the profile applies from its first packet; a live capture applies it
//! from the packet after the signalling.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use crate::capture::reader::RawPacket;
use crate::packet::Flow;
use crate::registry;
use crate::track::byte_ranges::ByteRangeObject;
use crate::wire::alc::{AlcContext, AlcPacket};
use crate::wire::frame::Frame;
use crate::wire::inflate::{inflate, Compression};
use crate::wire::link::LinkType;
use crate::wire::lls::{LlsTable, SLS_PROTOCOL_ROUTE};
use crate::wire::route::Profile;
use crate::wire::route_sls::{multipart_parts, Stsid, StsidChannel};
use crate::wire::Finding;
use std::time::Duration;

/// A channel: destination address and UDP port.
pub type Channel = (IpAddr, u16);

/// TSI 0 objects rebuilt at once while looking for an S-TSID, and the largest one.
const MAX_SCOUTED: usize = 16;
const MAX_SCOUT_BYTES: u64 = 1 << 20;
/// Destinations with a profile or an S-TSID, at most (an SLT lists tens of services; the cap
/// bounds memory on hostile input, and `-z sessions` says a destination past it is FLUTE).
const MAX_CHANNELS: usize = 4096;

/// A channel's profile and where it was learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChoice {
    pub profile: Profile,
    /// Why, in words (`-z sessions` prints it).
    pub why: String,
    /// The frame that decided it (0: the command line).
    pub frame: u64,
}

#[derive(Debug, Default)]
pub struct RouteSignalling {
    /// `--profile`: every ALC channel, whatever the signalling says.
    pub forced: Option<Profile>,
    pub channels: BTreeMap<Channel, ProfileChoice>,
    /// The S-TSID's channels by destination and TSI (the latest S-TSID wins).
    pub flows: BTreeMap<Channel, BTreeMap<u64, Arc<StsidChannel>>>,
    /// TSI 0 objects being rebuilt: (channel, TOI) -> the frame of its last packet, the object.
    scouts: HashMap<(Channel, u128), (u64, ByteRangeObject)>,
    /// SLS objects already read (their carousel repeats are skipped).
    read: HashMap<(Channel, u128), u64>,
    /// LLS tables decoded, and the SLTs among them.
    pub lls_tables: u64,
    pub slts: u64,
}

impl RouteSignalling {
    pub fn forcing(profile: Option<Profile>) -> Self {
        RouteSignalling {
            forced: profile,
            ..Default::default()
        }
    }

    /// The profile packets to `channel` are read with now.
    pub fn profile(&self, channel: Channel) -> Profile {
        self.profile_or(channel, Profile::Flute)
    }

    /// The same, with `default` where nothing decided one.
    pub fn profile_or(&self, channel: Channel, default: Profile) -> Profile {
        match self.forced {
            Some(p) => p,
            None => self.channels.get(&channel).map_or(default, |c| c.profile),
        }
    }

    /// Why `channel` has its profile (`-z sessions`).
    pub fn why(&self, channel: Channel) -> String {
        match (self.forced, self.channels.get(&channel)) {
            (Some(p), _) => format!("--profile {}", p.name()),
            (None, Some(c)) => c.why.clone(),
            (None, None) => "no SLT or S-TSID names this destination".into(),
        }
    }

    /// Keeps what was learnt (the decisions), without the objects in flight: for a second pass
    /// over the same capture.
    pub fn learnt(&self) -> RouteSignalling {
        RouteSignalling {
            forced: self.forced,
            channels: self.channels.clone(),
            flows: self.flows.clone(),
            ..Default::default()
        }
    }

    /// Reads a UDP datagram to an LLS destination: `None` if `flow` is not one, else the
    /// table (if its header decodes) and its findings (offsets in the datagram).
    pub fn observe_lls(
        &mut self,
        frame: u64,
        flow: Flow,
        udp_payload: &[u8],
    ) -> Option<(Option<LlsTable>, Vec<Finding>)> {
        if !LlsTable::is_lls(flow.dst, flow.dst_port) {
            return None;
        }
        let t = match LlsTable::parse(udp_payload) {
            Ok(t) => t,
            Err(e) => return Some((None, vec![e.into()])),
        };
        self.lls_tables += 1;
        if let Some(slt) = &t.value.slt {
            self.slts += 1;
            for s in &slt.services {
                let Some(sls) = s.sls.filter(|l| l.protocol == SLS_PROTOCOL_ROUTE) else {
                    continue;
                };
                let why = format!(
                    "the LLS SLT (frame {frame}) sends service {}{} SLS here over ROUTE",
                    s.service_id.map_or("?".into(), |i| i.to_string()),
                    s.short_name
                        .as_ref()
                        .map_or(String::new(), |n| format!(" \"{n}\"'s")),
                );
                self.decide((sls.destination, sls.port), Profile::Atsc3, why, frame);
            }
        }
        Some((Some(t.value), t.findings))
    }

    /// Reads an ALC packet: a TSI 0 source packet of a possible ROUTE session is rebuilt, and
    /// an S-TSID in it read.
    pub fn observe_alc(&mut self, frame: u64, flow: Flow, a: &AlcPacket, udp_payload: &[u8]) {
        if a.lct.tsi != Some(0) || !a.lct.spi() {
            return;
        }
        let channel = (flow.dst, flow.dst_port);
        // Read as ROUTE whatever the channel's profile is now (the point is to find out); a
        // packet already read so is not parsed again.
        let reparsed;
        let p = if a.route.is_some() {
            a
        } else {
            let ctx = AlcContext {
                profile: Profile::Route,
                ..AlcContext::default()
            };
            let Ok(d) = AlcPacket::parse(udp_payload, ctx) else {
                return;
            };
            reparsed = d.value;
            &reparsed
        };
        let (Some(toi), Some(start)) = (p.lct.toi, p.route.and_then(|r| r.start_offset())) else {
            return;
        };
        let key = (channel, toi);
        if self.read.contains_key(&key) {
            return;
        }
        if !self.scouts.contains_key(&key) && self.scouts.len() >= MAX_SCOUTED {
            // The one untouched longest gives way: an object never completed (lost packets,
            // or not signalling at all) must not stop the search for the rest of the capture.
            if let Some(k) = self
                .scouts
                .iter()
                .min_by_key(|(_, (f, _))| *f)
                .map(|(k, _)| *k)
            {
                self.scouts.remove(&k);
            }
        }
        let (last, o) = self.scouts.entry(key).or_default();
        *last = frame;
        let length = p
            .route
            .and_then(|r| r.tol)
            .or(p.fti.as_ref().map(|f| f.oti.transfer_length()));
        if o.length.is_none() {
            o.length = length;
        }
        let symbols = &udp_payload[p.symbol_offset..p.symbol_offset + p.symbol_len];
        if o.push(u64::from(start), symbols, MAX_SCOUT_BYTES).is_err() {
            self.scouts.remove(&key);
            return;
        }
        if p.lct.close_object && o.length.is_none() {
            o.length = Some(u64::from(start) + symbols.len() as u64);
        }
        let Some(object) = o.bytes() else { return };
        self.scouts.remove(&key);
        if self.read.len() > 4096 {
            self.read.clear();
        }
        self.read.insert(key, frame);
        self.read_sls(channel, &object, frame);
    }

    /// An SLS object: the S-TSID, alone or in the multipart bundle, maybe gzip-compressed.
    fn read_sls(&mut self, channel: Channel, object: &[u8], frame: u64) {
        let inflated;
        let object = if object.starts_with(&[0x1f, 0x8b]) {
            match inflate(
                object,
                Compression::Gzip,
                MAX_SCOUT_BYTES as usize * 4,
                &registry::lls::TABLE_UNDECODABLE,
                &registry::lls::TABLE_UNDECODABLE,
            ) {
                Ok(x) => {
                    inflated = x;
                    &inflated[..]
                }
                Err(_) => return,
            }
        } else {
            object
        };
        let stsid = match multipart_parts(object) {
            Some(parts) => parts
                .iter()
                .filter(|p| {
                    p.content_type
                        .as_deref()
                        .is_some_and(|t| t.to_ascii_lowercase().contains("s-tsid"))
                })
                .find_map(|p| Stsid::parse(&p.body).ok()),
            None => Stsid::parse(object).ok(),
        };
        let Some(stsid) = stsid else { return };
        for rs in stsid.sessions {
            let dest = rs.destination.unwrap_or(channel);
            let tsis: Vec<String> = rs.channels.keys().map(u64::to_string).collect();
            let why = format!(
                "the S-TSID on {}:{} TSI 0 (frame {frame}) lists TSI {} here",
                channel.0,
                channel.1,
                tsis.join(", ")
            );
            self.decide(dest, Profile::Route, why, frame);
            if self.flows.len() < MAX_CHANNELS || self.flows.contains_key(&dest) {
                let channels = rs.channels.into_iter().map(|(t, c)| (t, Arc::new(c)));
                self.flows.insert(dest, channels.collect());
            }
        }
        // The SLS's own channel is ROUTE too.
        let why = format!("its TSI 0 carries an S-TSID (frame {frame})");
        self.decide(channel, Profile::Route, why, frame);
    }

    /// Records a channel's profile: the first reason is kept; an SLT's `atsc3` is not turned
    /// into `route` by the S-TSID it leads to.
    fn decide(&mut self, channel: Channel, profile: Profile, why: String, frame: u64) {
        if self.channels.len() >= MAX_CHANNELS && !self.channels.contains_key(&channel) {
            return;
        }
        self.channels.entry(channel).or_insert(ProfileChoice {
            profile,
            why,
            frame,
        });
    }

    /// The S-TSID's entry for `tsi` on `channel`, if an S-TSID describes that channel.
    pub fn stsid_channel(&self, channel: Channel, tsi: u64) -> Option<Option<&Arc<StsidChannel>>> {
        self.flows.get(&channel).map(|m| m.get(&tsi))
    }
}

/// How far [`prescan`] reads: the SLT is sent at least every 5 s (A/331 §6.3) and the SLS as
/// often, so the first seconds of a capture hold them; past this, signalling is learnt in line.
pub const PRESCAN_WINDOW: Duration = Duration::from_secs(10);
/// And at most this many bytes of packets: 10 s of a 50 Mbit/s broadcast (a fast capture's 10 s
/// would cost its page faults twice).
pub const PRESCAN_MAX_BYTES: u64 = 64 << 20;

/// Reads the start of a capture for its signalling before it is inspected (up to
/// [`PRESCAN_WINDOW`] of capture time and [`PRESCAN_MAX_BYTES`]): the LLS tables and the TSI 0
/// source packets only; the rest is skipped after a look at a few header bytes (an
/// Ethernet/IPv4/UDP frame whose payload does not start as a ROUTE source packet, to a port
/// other than the LLS's). What it learns is the [`RouteSignalling`] to inspect the capture with.
/// `done_with` is called now and then with the last packet read, so that the caller can let the
/// pages before it go.
pub fn prescan<'a>(
    packets: impl Iterator<Item = RawPacket<'a>>,
    forced: Option<Profile>,
    mut done_with: impl FnMut(&RawPacket<'a>),
) -> RouteSignalling {
    let mut s = RouteSignalling::forcing(forced);
    if forced.is_some() {
        return s;
    }
    let mut first: Option<Duration> = None;
    let mut bytes = 0u64;
    for raw in packets {
        let t0 = *first.get_or_insert(raw.timestamp);
        bytes += raw.data.len() as u64;
        if raw.frame.is_multiple_of(4096) {
            done_with(&raw);
        }
        if raw.timestamp.saturating_sub(t0) > PRESCAN_WINDOW || bytes > PRESCAN_MAX_BYTES {
            break;
        }
        if raw.link_type == LinkType::Ethernet && !maybe_signalling(raw.data) {
            continue;
        }
        let Ok(frame) = Frame::parse(raw.link_type, raw.data) else {
            continue;
        };
        let Some(flow) = Flow::of_frame(&frame.value) else {
            continue;
        };
        let payload = frame.value.udp_payload(raw.data).unwrap_or(&[]);
        if s.observe_lls(raw.frame, flow, payload).is_some() {
            continue;
        }
        // LCT V = 1 and the PSI's source bit (word 0, bit 6) before decoding anything.
        if payload.len() < 12 || payload[0] >> 4 != 1 || payload[0] & 0x02 == 0 {
            continue;
        }
        if let Ok(a) = AlcPacket::parse(payload, AlcContext::default()) {
            s.observe_alc(raw.frame, flow, &a.value, payload);
        }
    }
    s.learnt()
}

/// A quick look at an Ethernet frame: false only for an untagged IPv4/UDP frame to a port other
/// than the LLS's whose payload does not start with a ROUTE source packet's first byte (V = 1,
/// PSI source bit set); anything else is decoded in full.
fn maybe_signalling(f: &[u8]) -> bool {
    if f.len() < 14 + 20 + 8 + 1 || f[12..14] != [0x08, 0x00] || f[14] >> 4 != 4 || f[23] != 17 {
        return true;
    }
    let udp = 14 + usize::from(f[14] & 0x0F) * 4;
    let Some(h) = f.get(udp..udp + 9) else {
        return true;
    };
    u16::from_be_bytes([h[2], h[3]]) == crate::wire::lls::LLS_PORT
        || (h[8] >> 4 == 1 && h[8] & 0x02 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_stays_and_a_forced_profile_wins() {
        let mut s = RouteSignalling::default();
        let ch: Channel = ("239.255.20.9".parse().unwrap(), 52009);
        assert_eq!(s.profile(ch), Profile::Flute);
        s.decide(ch, Profile::Atsc3, "the SLT".into(), 3);
        s.decide(ch, Profile::Route, "the S-TSID".into(), 9);
        assert_eq!(
            (s.profile(ch), s.why(ch)),
            (Profile::Atsc3, "the SLT".into())
        );
        let forced = RouteSignalling::forcing(Some(Profile::DvbMabr));
        assert_eq!(forced.profile(ch), Profile::DvbMabr);
        assert_eq!(forced.why(ch), "--profile dvb-mabr");
    }
}
