//! ROUTE's signalling documents, as far as an inspector needs them:
//!
//! - the SLS bundle on TSI 0: a `multipart/related` MIME object whose parts are the USBD, the
//!   S-TSID, the MPD and a metadata envelope, each with its Content-Type and Content-Location
//!   (A/331 §7.1, RFC 2387);
//! - the S-TSID (A/331 §7.1, Table 7.4): per ROUTE session (`RS`, destination address and
//!   port) its LCT channels (`LS@tsi`), each with a source flow (`SrcFlow`: payload formats
//!   by codepoint, maybe an EFDT) and/or a repair flow (`RepairFlow`; `RprFlow` is read too);
//! - the EFDT (A/331 §A.3.3.2.3): the FDT-Instance of a File-mode source flow, sent on its TOI 0
//!   or inside the S-TSID; its `File` entries name the objects (older ATSC drafts wrap them in
//!   `EFDT/FDTParameters`, which is read the same way).

use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

use super::fdt::{parse_file, FdtFile};
use super::finding::Findings;
use super::lls::{attribute, xml_attributes};
use super::route::RepairFlow;

/// Parts kept from one multipart object, and File entries from one EFDT (bounds memory).
pub const MAX_PARTS: usize = 256;
pub const MAX_FILES: usize = 1 << 16;

/// One part of a multipart/related object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MimePart {
    pub content_type: Option<String>,
    pub content_location: Option<String>,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// Splits a `multipart/related` object (its own headers first, as A/331 §7.1 sends the SLS) into
/// parts. `None` when the object is not multipart.
pub fn multipart_parts(object: &[u8]) -> Option<Vec<MimePart>> {
    let (headers, _) = split_headers(object)?;
    let content_type = header(headers, "content-type")?;
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    let boundary = content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })?;
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut chunks = split_on(object, delimiter.as_bytes()).into_iter().skip(1);
    for chunk in chunks.by_ref() {
        if chunk.starts_with(b"--") || parts.len() == MAX_PARTS {
            break;
        }
        let chunk = strip_line_end(chunk);
        let Some((h, body)) = split_headers(chunk) else {
            continue;
        };
        parts.push(MimePart {
            content_type: header(h, "content-type"),
            content_location: header(h, "content-location"),
            body: trim_trailing_line_ends(body).to_vec(),
        });
    }
    Some(parts)
}

fn strip_line_end(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\r\n")
        .or_else(|| b.strip_prefix(b"\n"))
        .unwrap_or(b)
}

fn trim_trailing_line_ends(mut b: &[u8]) -> &[u8] {
    while let Some(rest) = b.strip_suffix(b"\n") {
        b = rest.strip_suffix(b"\r").unwrap_or(rest);
    }
    b
}

fn split_on<'a>(hay: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if &hay[i..i + needle.len()] == needle {
            out.push(&hay[start..i]);
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&hay[start..]);
    out
}

/// Headers (up to the first empty line) and the body after them.
pub fn split_headers(b: &[u8]) -> Option<(&str, &[u8])> {
    let (end, skip) = [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)]
        .iter()
        .filter_map(|(sep, n)| {
            b.windows(sep.len())
                .position(|w| w == *sep)
                .map(|p| (p, *n))
        })
        .min()?;
    let headers = std::str::from_utf8(&b[..end]).ok()?;
    Some((headers, &b[end + skip..]))
}

/// A header's value (folded lines joined), by case-insensitive name.
pub fn header(headers: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in headers.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}

/// One LCT channel of an S-TSID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StsidChannel {
    /// Whether it has a source flow and a repair flow.
    pub source: bool,
    pub repair: bool,
    /// Source flow payloads: codepoint -> formatId.
    pub payloads: BTreeMap<u8, u8>,
    /// The repair flow's RaptorQ parameters and the TSI it protects (`RepairFlow/FECParameters`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_flow: Option<RepairFlow>,
    /// The EFDT's `@fileTemplate` (or the older `FileTemplate` element): the Content-Location of
    /// objects it does not list, with `$TOI$` replaced (A/331 §A.3.3.2.8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_template: Option<String>,
    /// The EFDT inside the S-TSID, if any: its File entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub efdt_files: Vec<FdtFile>,
}

/// One ROUTE session of an S-TSID: destination (None: the SLS's own) and its channels by TSI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StsidSession {
    pub destination: Option<(IpAddr, u16)>,
    pub source: Option<IpAddr>,
    pub channels: BTreeMap<u64, StsidChannel>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stsid {
    pub sessions: Vec<StsidSession>,
}

impl Stsid {
    /// Reads an S-TSID document (A/331 Table 7.4).
    pub fn parse(xml: &[u8]) -> Result<Stsid, String> {
        let mut reader = XmlReader::from_reader(xml);
        let mut s = Stsid::default();
        let mut root = false;
        let mut tsi: Option<u64> = None;
        let mut in_repair = false;
        let mut in_template = false;
        let mut fec_oti: Option<String> = None;
        let mut protects: Option<u64> = None;
        let mut f = Findings::default();
        loop {
            let event = reader.read_event().map_err(|e| e.to_string())?;
            let (e, start) = match &event {
                Event::Start(e) => (e, true),
                Event::Empty(e) => (e, false),
                Event::End(e) => {
                    match e.local_name().as_ref() {
                        // `RepairFlow` in the S-TSID schemas (2017, 2019); `RprFlow` in some
                        // texts and senders: both are read.
                        b"RepairFlow" | b"RprFlow" => {
                            in_repair = false;
                            close_repair(&mut s, tsi, fec_oti.take(), protects.take());
                        }
                        b"LS" => tsi = None,
                        _ => {}
                    }
                    continue;
                }
                Event::Eof => break,
                Event::Text(t) if in_template => {
                    let text = String::from_utf8_lossy(t.as_ref()).trim().to_string();
                    if let Some(ch) = tsi
                        .and_then(|t| s.sessions.last_mut().and_then(|rs| rs.channels.get_mut(&t)))
                    {
                        ch.file_template.get_or_insert(text);
                    }
                    in_template = false;
                    continue;
                }
                _ => continue,
            };
            let attrs = xml_attributes(e);
            match e.local_name().as_ref() {
                b"S-TSID" => root = true,
                b"RS" if s.sessions.len() < MAX_PARTS => {
                    let dst = attribute(&attrs, "dIpAddr").and_then(|v| v.parse().ok());
                    let port = attribute(&attrs, "dPort").and_then(|v| v.parse().ok());
                    s.sessions.push(StsidSession {
                        destination: dst.zip(port),
                        source: attribute(&attrs, "sIpAddr").and_then(|v| v.parse().ok()),
                        channels: BTreeMap::new(),
                    });
                }
                b"LS" => {
                    tsi = attribute(&attrs, "tsi").and_then(|v| v.parse().ok());
                    if let (Some(t), Some(rs)) = (tsi, s.sessions.last_mut()) {
                        if rs.channels.len() < MAX_FILES {
                            rs.channels.entry(t).or_default();
                        }
                    }
                }
                name => {
                    let Some(ch) = tsi
                        .and_then(|t| s.sessions.last_mut().and_then(|rs| rs.channels.get_mut(&t)))
                    else {
                        continue;
                    };
                    match name {
                        b"SrcFlow" => ch.source = true,
                        b"RepairFlow" | b"RprFlow" => {
                            ch.repair = true;
                            in_repair = start;
                        }
                        b"FECParameters" if in_repair => {
                            fec_oti = attribute(&attrs, "fecOTI").map(str::to_string);
                        }
                        b"ProtectedObject" if in_repair => {
                            protects = attribute(&attrs, "tsi").and_then(|v| v.parse().ok());
                        }
                        b"Payload" if !in_repair => {
                            // The schema's default codePoint is 0 (S-TSID-1.0-20190208.xsd).
                            let cp =
                                attribute(&attrs, "codePoint").map_or(Some(0), |v| v.parse().ok());
                            let format = attribute(&attrs, "formatId").and_then(|v| v.parse().ok());
                            if let Some(cp) = cp {
                                ch.payloads.insert(cp, format.unwrap_or(0));
                            }
                        }
                        b"FDT-Instance" if !in_repair => {
                            if let Some(t) = attribute(&attrs, "fileTemplate") {
                                ch.file_template = Some(t.to_string());
                            }
                        }
                        b"FileTemplate" if !in_repair => in_template = start,
                        b"File" if !in_repair && ch.efdt_files.len() < MAX_FILES => {
                            if let Some(file) = parse_file(attrs, 0, &mut f) {
                                ch.efdt_files.push(file);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        if !root {
            return Err("no S-TSID element".into());
        }
        Ok(s)
    }
}

/// A repair flow's parameters once its `RprFlow` closes: its FECParameters@fecOTI and the TSI
/// its ProtectedObject names (its own LS's otherwise).
fn close_repair(s: &mut Stsid, tsi: Option<u64>, fec_oti: Option<String>, protects: Option<u64>) {
    let Some(t) = tsi else { return };
    let Some(ch) = s.sessions.last_mut().and_then(|rs| rs.channels.get_mut(&t)) else {
        return;
    };
    ch.repair_flow = fec_oti.and_then(|hex| RepairFlow::from_fec_oti(&hex, protects.unwrap_or(t)));
}

/// An EFDT sent on TOI 0 of a File-mode flow (A/331 §A.3.3.2.3): its File entries, wherever
/// they sit under the root, and its file template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Efdt {
    pub files: Vec<FdtFile>,
    pub file_template: Option<String>,
}

/// Reads an EFDT or FDT-Instance document; `None` when the root is neither.
pub fn parse_efdt(xml: &[u8]) -> Option<Efdt> {
    let mut reader = XmlReader::from_reader(xml);
    let mut efdt = Efdt::default();
    let mut root = false;
    let mut in_template = false;
    let mut f = Findings::default();
    loop {
        let event = reader.read_event().ok()?;
        let e = match &event {
            Event::Start(e) | Event::Empty(e) => e,
            Event::Text(t) if in_template => {
                let text = String::from_utf8_lossy(t.as_ref()).trim().to_string();
                efdt.file_template.get_or_insert(text);
                in_template = false;
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = e.local_name().as_ref().to_vec();
        if !root {
            if name != b"EFDT" && name != b"FDT-Instance" {
                return None;
            }
            root = true;
        }
        match name.as_slice() {
            b"FDT-Instance" => {
                if let Some(t) = attribute(&xml_attributes(e), "fileTemplate") {
                    efdt.file_template = Some(t.to_string());
                }
            }
            b"FileTemplate" => in_template = matches!(event, Event::Start(_)),
            b"File" if efdt.files.len() < MAX_FILES => {
                if let Some(file) = parse_file(xml_attributes(e), 0, &mut f) {
                    efdt.files.push(file);
                }
            }
            _ => {}
        }
    }
    root.then_some(efdt)
}

/// The File entries of an EFDT or FDT-Instance document (see [`parse_efdt`]).
pub fn efdt_files(xml: &[u8]) -> Option<Vec<FdtFile>> {
    parse_efdt(xml).map(|e| e.files)
}

/// A file template's name for `toi` (A/331 §A.3.3.2.8): `$TOI$`, or `$TOI%0Nd$` zero-padded to
/// N digits, replaced by the TOI; `$$` is a `$`. `None` when the template has no `$TOI$`.
pub fn expand_template(template: &str, toi: u128) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    let mut used = false;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after.find('$')?;
        let tag = &after[..j];
        match tag {
            "" => out.push('$'),
            "TOI" => {
                out.push_str(&toi.to_string());
                used = true;
            }
            t => {
                let width = t
                    .strip_prefix("TOI%0")?
                    .strip_suffix('d')?
                    .parse::<usize>()
                    .ok()
                    .filter(|&w| w <= 40)?;
                out.push_str(&format!("{toi:0width$}"));
                used = true;
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    used.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLS: &str = "Content-Type:Multipart/related;\n boundary=\"b-c\";\n type=application/mbms-envelope+xml\n\n--b-c\nContent-Type:application/route-usd+xml\nContent-Location:usbd.rusd\n\n<BundleDescriptionROUTE/>\n\n--b-c\nContent-Type:application/route-s-tsid+xml\nContent-Location:stsid.sls\n\n<S-TSID><RS dIpAddr=\"239.255.20.9\" dPort=\"52009\"><LS tsi=\"1\"><SrcFlow rt=\"false\"><EFDT><FDT-Instance Expires=\"1\"><File TOI=\"5\" Content-Location=\"a.mp4\"/></FDT-Instance></EFDT><Payload codePoint=\"128\" formatId=\"1\"/></SrcFlow><RprFlow><Payload codePoint=\"9\" formatId=\"2\"/></RprFlow></LS><LS tsi=\"2\"><RprFlow/></LS></RS></S-TSID>\n\n--b-c--\n";

    #[test]
    fn the_sls_bundle_splits_into_named_parts_and_its_stsid_lists_flows() {
        let parts = multipart_parts(SLS.as_bytes()).unwrap();
        let names: Vec<_> = parts
            .iter()
            .map(|p| p.content_location.clone().unwrap())
            .collect();
        assert_eq!(names, ["usbd.rusd", "stsid.sls"]);
        assert_eq!(parts[0].body, b"<BundleDescriptionROUTE/>");
        let s = Stsid::parse(&parts[1].body).unwrap();
        let rs = &s.sessions[0];
        assert_eq!(
            rs.destination,
            Some(("239.255.20.9".parse().unwrap(), 52009))
        );
        let one = &rs.channels[&1];
        assert!(one.source && one.repair);
        // The repair flow's Payload is not the source flow's.
        assert_eq!(one.payloads, BTreeMap::from([(128, 1)]));
        assert_eq!(one.efdt_files[0].content_location, "a.mp4");
        assert!(!rs.channels[&2].source && rs.channels[&2].repair);
        // The schemas' name, with its parameters; a Payload without codePoint is codepoint 0.
        let schema = br#"<S-TSID><RS><LS tsi="3"><RepairFlow><FECParameters fecOTI="000000400000057804000104"><ProtectedObject tsi="1"/></FECParameters></RepairFlow></LS><LS tsi="1"><SrcFlow><Payload formatId="1"/></SrcFlow></LS></RS></S-TSID>"#;
        let s = Stsid::parse(schema).unwrap();
        let rf = s.sessions[0].channels[&3].repair_flow.unwrap();
        assert_eq!(
            (
                rf.protects_tsi,
                rf.symbol_size,
                rf.source_blocks,
                rf.sub_blocks,
                rf.alignment
            ),
            (1, 1400, 4, 1, 4)
        );
        assert_eq!(
            s.sessions[0].channels[&1].payloads,
            BTreeMap::from([(0, 1)])
        );
        assert!(multipart_parts(b"Content-Type: text/plain\n\nhello").is_none());
        assert!(Stsid::parse(b"<USBD/>").is_err());
    }

    #[test]
    fn file_templates_name_objects_by_toi() {
        assert_eq!(
            expand_template("v-$TOI$.m4s", 42).as_deref(),
            Some("v-42.m4s")
        );
        assert_eq!(
            expand_template("a/$TOI%05d$.mp4", 42).as_deref(),
            Some("a/00042.mp4")
        );
        assert_eq!(expand_template("$$x-$TOI$", 7).as_deref(), Some("$x-7"));
        assert_eq!(expand_template("no-toi.mp4", 7), None);
        assert_eq!(expand_template("broken-$TOI", 7), None);
        assert_eq!(expand_template("w-$TOI%099d$", 7), None);
        let korean = br#"<EFDT version="0"><FileTemplate>video/$TOI$.m4s</FileTemplate><FDTParameters><File TOI="1" Content-Location="init.mp4"/></FDTParameters></EFDT>"#;
        let e = parse_efdt(korean).unwrap();
        assert_eq!(e.file_template.as_deref(), Some("video/$TOI$.m4s"));
        assert_eq!(e.files[0].content_location, "init.mp4");
        let us = br#"<S-TSID><RS><LS tsi="1"><SrcFlow><EFDT><FDT-Instance xmlns:afdt="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/ATSC-FDT/1.0/" afdt:fileTemplate="seg-$TOI$.m4s" Expires="1"/></EFDT><Payload codePoint="8" formatId="1"/></SrcFlow></LS></RS></S-TSID>"#;
        let s = Stsid::parse(us).unwrap();
        assert_eq!(
            s.sessions[0].channels[&1].file_template.as_deref(),
            Some("seg-$TOI$.m4s")
        );
    }

    #[test]
    fn an_efdt_names_files_under_its_root_in_either_form() {
        let old = br#"<EFDT version="252"><FDTParameters><File TOI="3229" Content-Location="sgdu_3229" Transfer-Length="13568"/></FDTParameters></EFDT>"#;
        let files = efdt_files(old).unwrap();
        assert_eq!(
            (files[0].toi, files[0].transfer_length),
            (3229, Some(13568))
        );
        let fdt =
            br#"<FDT-Instance Expires="1"><File TOI="7" Content-Location="x"/></FDT-Instance>"#;
        assert_eq!(efdt_files(fdt).unwrap()[0].content_location, "x");
        assert!(efdt_files(b"<MPD/>").is_none());
    }
}
