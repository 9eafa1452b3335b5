//! ATSC 3.0 Low Level Signalling (A/331 §6.1): UDP datagrams to 224.0.23.60:4937, each one table
//! whose 4-byte header is followed by gzip-compressed XML.
//!
//! ```text
//! | LLS_table_id (8) | LLS_group_id (8) | group_count_minus1 (8) | LLS_table_version (8) | gzip XML
//! ```
//!
//! The Service List Table (table ID 1, A/331 §6.3) is what a ROUTE receiver starts from: each
//! service's `BroadcastSvcSignaling` names the protocol (1 ROUTE, 2 MMTP) and the destination of
//! its service layer signalling, which is where its ROUTE session is.

use crate::registry;
use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

use super::error::WireError;
use super::finding::{Decoded, Findings};
use super::inflate::{inflate, Compression};
use super::reader::Reader;

/// The LLS destination (A/331 §6.1).
pub const LLS_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 23, 60);
pub const LLS_PORT: u16 = 4937;
/// An inflated table larger than this is refused (tables are a few kB).
pub const MAX_INFLATED: usize = 1 << 20;
/// Services kept from one SLT (bounds memory on hostile input).
pub const MAX_SERVICES: usize = 4096;

/// `BroadcastSvcSignaling@slsProtocol` (A/331 Table 6.2).
pub const SLS_PROTOCOL_ROUTE: u8 = 1;
pub const SLS_PROTOCOL_MMTP: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LlsTable {
    pub table_id: u8,
    pub group_id: u8,
    pub group_count_minus1: u8,
    pub version: u8,
    /// The table's XML, inflated, when it inflates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xml: Option<String>,
    /// The SLT, for table ID 1 when its XML parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slt: Option<Slt>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Slt {
    pub bsid: Option<u32>,
    pub services: Vec<SltService>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SltService {
    pub service_id: Option<u32>,
    pub short_name: Option<String>,
    pub category: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sls: Option<SlsLocation>,
}

/// Where a service's SLS is sent (`BroadcastSvcSignaling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlsLocation {
    pub protocol: u8,
    pub destination: IpAddr,
    pub port: u16,
    pub source: Option<IpAddr>,
}

impl SlsLocation {
    pub fn protocol_name(&self) -> &'static str {
        match self.protocol {
            SLS_PROTOCOL_ROUTE => "ROUTE",
            SLS_PROTOCOL_MMTP => "MMTP",
            _ => "reserved",
        }
    }
}

/// The name of an LLS table ID (A/331 Table 6.1).
pub fn table_name(id: u8) -> &'static str {
    match id {
        1 => "SLT",
        2 => "RRT",
        3 => "SystemTime",
        4 => "AEAT",
        5 => "OnscreenMessageNotification",
        6 => "CertificationData",
        0xFE => "SignedMultiTable",
        0xFF => "user defined",
        _ => "reserved",
    }
}

impl LlsTable {
    /// Whether a UDP datagram to `dst`:`port` is LLS.
    pub fn is_lls(dst: IpAddr, port: u16) -> bool {
        port == LLS_PORT && dst == IpAddr::V4(LLS_GROUP)
    }

    /// Decodes one LLS datagram. A header shorter than 4 bytes is an error; XML that does not
    /// inflate or parse is a finding (the header still decodes).
    pub fn parse(datagram: &[u8]) -> Result<Decoded<LlsTable>, WireError> {
        let mut r = Reader::new(datagram, &registry::lls::TABLE_UNDECODABLE);
        let table_id = r.u8("lls_table_id")?;
        let group_id = r.u8("lls_group_id")?;
        let group_count_minus1 = r.u8("group_count_minus1")?;
        let version = r.u8("lls_table_version")?;
        let mut f = Findings::default();
        let mut table = LlsTable {
            table_id,
            group_id,
            group_count_minus1,
            version,
            xml: None,
            slt: None,
        };
        // Signed multi-tables and user-defined tables are not gzip XML.
        if matches!(table_id, 0xFE | 0xFF) {
            return Ok(Decoded::new(table, f.list));
        }
        let xml = match inflate(
            r.rest(),
            Compression::Gzip,
            MAX_INFLATED,
            &registry::lls::TABLE_UNDECODABLE,
            &registry::lls::TABLE_UNDECODABLE,
        ) {
            Ok(x) => String::from_utf8_lossy(&x).into_owned(),
            Err(e) => {
                f.raise(
                    &registry::lls::TABLE_UNDECODABLE,
                    "lls_table",
                    4,
                    format!("{} table: {}", table_name(table_id), e.detail),
                );
                return Ok(Decoded::new(table, f.list));
            }
        };
        if table_id == 1 {
            match Slt::parse(xml.as_bytes()) {
                Ok(slt) => table.slt = Some(slt),
                Err(e) => f.raise(
                    &registry::lls::TABLE_UNDECODABLE,
                    "slt",
                    4,
                    format!("SLT XML: {e}"),
                ),
            }
        }
        table.xml = Some(xml);
        Ok(Decoded::new(table, f.list))
    }
}

/// The attributes of an XML element, by local name.
pub(crate) fn xml_attributes(e: &quick_xml::events::BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            (key, value)
        })
        .collect()
}

pub(crate) fn attribute<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
}

impl Slt {
    /// Reads the services and where their SLS is from SLT XML (A/331 §6.3).
    pub fn parse(xml: &[u8]) -> Result<Slt, String> {
        let mut reader = XmlReader::from_reader(xml);
        let mut slt = Slt::default();
        let mut root_seen = false;
        // Whether the Service being read was kept (not past MAX_SERVICES).
        let mut kept = false;
        loop {
            let event = reader.read_event().map_err(|e| e.to_string())?;
            let e = match &event {
                Event::Start(e) | Event::Empty(e) => e,
                Event::Eof => break,
                _ => continue,
            };
            let attrs = xml_attributes(e);
            match e.local_name().as_ref() {
                b"SLT" => {
                    root_seen = true;
                    slt.bsid = attribute(&attrs, "bsid").and_then(|v| v.parse().ok());
                }
                b"Service" => {
                    kept = slt.services.len() < MAX_SERVICES;
                    if !kept {
                        continue;
                    }
                    slt.services.push(SltService {
                        service_id: attribute(&attrs, "serviceId").and_then(|v| v.parse().ok()),
                        short_name: attribute(&attrs, "shortServiceName").map(str::to_string),
                        category: attribute(&attrs, "serviceCategory").and_then(|v| v.parse().ok()),
                        sls: None,
                    });
                }
                b"BroadcastSvcSignaling" => {
                    let location = (|| {
                        Some(SlsLocation {
                            protocol: attribute(&attrs, "slsProtocol")?.parse().ok()?,
                            destination: attribute(&attrs, "slsDestinationIpAddress")?
                                .parse()
                                .ok()?,
                            port: attribute(&attrs, "slsDestinationUdpPort")?.parse().ok()?,
                            source: attribute(&attrs, "slsSourceIpAddress")
                                .and_then(|v| v.parse().ok()),
                        })
                    })();
                    // Not a service past the cap's: it belongs to the Service just read.
                    if let Some(s) = slt.services.last_mut().filter(|_| kept) {
                        s.sls = location;
                    }
                }
                _ => {}
            }
        }
        if !root_seen {
            return Err("no SLT element".into());
        }
        Ok(slt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    pub(crate) fn lls_datagram(table_id: u8, xml: &str) -> Vec<u8> {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(xml.as_bytes()).unwrap();
        let mut d = vec![table_id, 1, 0, 7];
        d.extend(gz.finish().unwrap());
        d
    }

    #[test]
    fn an_slt_names_each_services_sls_destination() {
        let xml = r#"<?xml version="1.0"?><SLT xmlns="tag:atsc.org,2016:XMLSchemas/ATSC3/Delivery/SLT/1.0/" bsid="50"><Service serviceId="5009" shortServiceName="ESG" serviceCategory="4"><BroadcastSvcSignaling slsProtocol="1" slsDestinationIpAddress="239.255.20.9" slsDestinationUdpPort="52009" slsSourceIpAddress="172.16.200.1"/></Service><Service serviceId="1001"><BroadcastSvcSignaling slsProtocol="2" slsDestinationIpAddress="239.255.10.1" slsDestinationUdpPort="51001"/></Service></SLT>"#;
        let t = LlsTable::parse(&lls_datagram(1, xml)).unwrap();
        assert!(t.findings.is_empty(), "{:?}", t.findings);
        assert_eq!(
            (t.value.table_id, t.value.version),
            (1, 7),
            "the header's fields"
        );
        let slt = t.value.slt.unwrap();
        assert_eq!(slt.bsid, Some(50));
        let sls = slt.services[0].sls.unwrap();
        assert_eq!(
            (sls.protocol_name(), sls.destination, sls.port),
            ("ROUTE", "239.255.20.9".parse::<IpAddr>().unwrap(), 52009)
        );
        assert_eq!(slt.services[1].sls.unwrap().protocol_name(), "MMTP");
    }

    #[test]
    fn a_table_that_does_not_inflate_is_a_finding_and_a_short_one_an_error() {
        let t = LlsTable::parse(&[1, 1, 0, 1, 0x1f, 0x8b, 0, 0]).unwrap();
        assert_eq!(t.findings[0].id, "lls.table.undecodable");
        assert!(t.value.slt.is_none());
        let e = LlsTable::parse(&[1, 1, 0]).unwrap_err();
        assert_eq!(
            (e.id, e.field),
            ("lls.table.undecodable", "lls_table_version")
        );
        let t = LlsTable::parse(&lls_datagram(1, "<NotAnSlt/>")).unwrap();
        assert_eq!(t.findings[0].field, "slt");
    }
}
