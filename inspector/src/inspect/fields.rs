//! The field registry: every field `-e`, `-Y` and `-G fields` know, with its type, description
//! and Wireshark aliases (`rmt-lct.*`, `rmt-fec.*`, `alc.*`) so existing filters carry over. An
//! alias is given only where Wireshark's field means the same thing (its `rmt-lct.fsize.*` are
//! field sizes, not the S/O/H/C flags, so they are not aliases); `tests/tshark.rs` checks that
//! both tools give the same values.
//! (Wireshark's own `lct.*` is H.283, an unrelated protocol, so it is not an alias.)
//! A field can occur several times in a packet (header extensions, findings): values are lists.

use std::net::IpAddr;

use super::dissect::Dissected;
use crate::wire::ext_fti::FecOti;
use crate::wire::lct::ExtensionBody;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Uint(u128),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    Ip(IpAddr),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Uint(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{}", u8::from(*b)),
            Value::Str(s) => write!(f, "{s}"),
            Value::Bytes(b) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
            Value::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uint,
    Bool,
    Str,
    Bytes,
    Ip,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Uint => "uint",
            Kind::Bool => "bool",
            Kind::Str => "string",
            Kind::Bytes => "bytes",
            Kind::Ip => "ip",
        }
    }
}

pub struct Field {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub description: &'static str,
    pub get: fn(&Dissected, &mut Vec<Value>),
}

fn u<T: Into<u128>>(out: &mut Vec<Value>, v: Option<T>) {
    if let Some(v) = v {
        out.push(Value::Uint(v.into()));
    }
}

fn b(out: &mut Vec<Value>, v: Option<bool>) {
    if let Some(v) = v {
        out.push(Value::Bool(v));
    }
}

macro_rules! field {
    ($name:expr, [$($alias:expr),*], $kind:ident, $desc:expr, $get:expr) => {
        Field { name: $name, aliases: &[$($alias),*], kind: Kind::$kind, description: $desc, get: $get }
    };
}

/// Values one kind of header extension gives, in extension order.
fn ext_values(d: &Dissected, o: &mut Vec<Value>, get: impl Fn(&ExtensionBody) -> Option<u128>) {
    if let Some(a) = &d.alc {
        o.extend(
            a.lct
                .extensions
                .iter()
                .filter_map(|e| get(&e.body))
                .map(Value::Uint),
        );
    }
}

fn ext_fti_oti<'a>(d: &'a Dissected<'_>) -> Option<&'a FecOti> {
    d.alc.as_ref()?.fti.as_ref().map(|f| &f.oti)
}

pub static FIELDS: &[Field] = &[
    field!(
        "frame.number",
        [],
        Uint,
        "1-based packet number in the capture",
        |d, o| u(o, Some(d.raw.frame))
    ),
    field!(
        "frame.time_epoch",
        [],
        Str,
        "capture time, seconds since 1970",
        |d, o| o.push(Value::Str(format!(
            "{}.{:09}",
            d.raw.timestamp.as_secs(),
            d.raw.timestamp.subsec_nanos()
        )))
    ),
    field!("frame.len", [], Uint, "length on the wire", |d, o| u(
        o,
        Some(d.raw.orig_len)
    )),
    field!("frame.cap_len", [], Uint, "bytes captured", |d, o| u(
        o,
        Some(d.raw.data.len() as u64)
    )),
    field!("ip.src", [], Ip, "source address", |d, o| o
        .extend(d.flow.map(|f| Value::Ip(f.src)))),
    field!("ip.dst", [], Ip, "destination address", |d, o| o
        .extend(d.flow.map(|f| Value::Ip(f.dst)))),
    field!("udp.srcport", [], Uint, "UDP source port", |d, o| u(
        o,
        d.flow.map(|f| f.src_port)
    )),
    field!("udp.dstport", [], Uint, "UDP destination port", |d, o| u(
        o,
        d.flow.map(|f| f.dst_port)
    )),
    field!(
        "lct.version",
        ["rmt-lct.version", "alc.version"],
        Uint,
        "LCT version V (RFC 5651 §5.1)",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.version))
    ),
    field!(
        "lct.c",
        [],
        Uint,
        "C: CCI length is 32*(C+1) bits",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.c))
    ),
    field!(
        "lct.psi",
        [],
        Uint,
        "PSI bits (ALC: bit 6 is SPI)",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.psi))
    ),
    field!(
        "lct.spi",
        [],
        Bool,
        "ALC Source Packet Indicator (RFC 5775 §2.1)",
        |d, o| b(o, d.alc.as_ref().map(|a| a.lct.spi()))
    ),
    field!(
        "lct.s",
        [],
        Bool,
        "S: TSI has a full 32-bit word",
        |d, o| b(o, d.alc.as_ref().map(|a| a.lct.s))
    ),
    field!(
        "lct.o",
        [],
        Uint,
        "O: full 32-bit words in the TOI",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.o))
    ),
    field!(
        "lct.h",
        [],
        Bool,
        "H: 16 more bits in TSI and TOI",
        |d, o| b(o, d.alc.as_ref().map(|a| a.lct.h))
    ),
    field!(
        "lct.reserved",
        [],
        Uint,
        "reserved bits 12-13 (sent as 0)",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.reserved))
    ),
    field!(
        "lct.close_session",
        ["rmt-lct.flags.close_session"],
        Bool,
        "A: close session",
        |d, o| b(o, d.alc.as_ref().map(|a| a.lct.close_session))
    ),
    field!(
        "lct.close_object",
        ["rmt-lct.flags.close_object"],
        Bool,
        "B: close object",
        |d, o| b(o, d.alc.as_ref().map(|a| a.lct.close_object))
    ),
    field!(
        "lct.hdr_len",
        ["rmt-lct.hlen"],
        Uint,
        "HDR_LEN in 32-bit words",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.hdr_len))
    ),
    field!(
        "lct.cp",
        ["rmt-lct.codepoint"],
        Uint,
        "codepoint",
        |d, o| u(o, d.alc.as_ref().map(|a| a.lct.codepoint))
    ),
    field!(
        "lct.cci",
        ["rmt-lct.cci"],
        Bytes,
        "congestion control information",
        |d, o| o.extend(d.alc.as_ref().map(|a| Value::Bytes(a.lct.cci.to_vec())))
    ),
    field!(
        "lct.tsi",
        ["rmt-lct.tsi"],
        Uint,
        "transport session identifier",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.lct.tsi))
    ),
    field!(
        "lct.toi",
        ["rmt-lct.toi"],
        Uint,
        "transport object identifier",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.lct.toi))
    ),
    field!(
        "lct.ext.het",
        ["rmt-lct.hec.type"],
        Uint,
        "header extension types, in order",
        |d, o| {
            if let Some(a) = &d.alc {
                o.extend(a.lct.extensions.iter().map(|e| Value::Uint(e.het.into())));
            }
        }
    ),
    field!(
        "lct.ext_time.sct_high",
        [],
        Uint,
        "EXT_TIME sender current time, seconds",
        |d, o| ext_values(d, o, |b| if let ExtensionBody::Time(t) = b {
            t.sct_high.map(u128::from)
        } else {
            None
        })
    ),
    field!(
        "lct.ext_time.ert",
        [],
        Uint,
        "EXT_TIME expected residual time",
        |d, o| ext_values(d, o, |b| if let ExtensionBody::Time(t) = b {
            t.ert.map(u128::from)
        } else {
            None
        })
    ),
    field!(
        "flute.fdt.instance_id",
        ["rmt-lct.fdt_instance_id"],
        Uint,
        "EXT_FDT FDT Instance ID",
        |d, o| ext_values(d, o, |b| if let ExtensionBody::Fdt(f) = b {
            Some(f.instance_id.into())
        } else {
            None
        })
    ),
    field!(
        "flute.fdt.version",
        ["rmt-lct.flute_version"],
        Uint,
        "EXT_FDT FLUTE version V",
        |d, o| ext_values(d, o, |b| if let ExtensionBody::Fdt(f) = b {
            Some(f.version.into())
        } else {
            None
        })
    ),
    field!(
        "flute.cenc",
        ["rmt-lct.cenc"],
        Uint,
        "EXT_CENC content encoding",
        |d, o| ext_values(d, o, |b| if let ExtensionBody::Cenc(c) = b {
            Some(u8::from(c.cenc).into())
        } else {
            None
        })
    ),
    field!(
        "fec.encoding_id",
        ["rmt-fec.encoding_id"],
        Uint,
        "FEC Encoding ID (the codepoint in FLUTE)",
        |d, o| u(o, d.alc.as_ref().map(|a| a.fec_encoding_id))
    ),
    field!(
        "fec.sbn",
        ["rmt-fec.sbn"],
        Uint,
        "source block number",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.payload_id).map(|p| p.sbn))
    ),
    field!(
        "fec.esi",
        ["rmt-fec.esi"],
        Uint,
        "encoding symbol ID",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.payload_id).map(|p| p.esi))
    ),
    field!(
        "fec.sbl",
        ["rmt-fec.sbl"],
        Uint,
        "source block length (FEC Encoding ID 129)",
        |d, o| u(
            o,
            d.alc
                .as_ref()
                .and_then(|a| a.payload_id)
                .and_then(|p| p.sbl)
        )
    ),
    field!(
        "fec.transfer_length",
        ["rmt-fec.fti.transfer_length"],
        Uint,
        "EXT_FTI transfer length",
        |d, o| u(o, ext_fti_oti(d).map(|f| f.transfer_length()))
    ),
    field!(
        "fec.symbol_length",
        ["rmt-fec.fti.encoding_symbol_length"],
        Uint,
        "EXT_FTI encoding symbol length",
        |d, o| u(o, ext_fti_oti(d).map(|f| f.encoding_symbol_length()))
    ),
    field!(
        "fec.max_source_block_length",
        ["rmt-fec.fti.max_source_block_length"],
        Uint,
        "EXT_FTI maximum source block length",
        |d, o| u(o, ext_fti_oti(d).and_then(|f| f.max_source_block_length()))
    ),
    field!(
        "fec.instance_id",
        ["rmt-fec.instance_id"],
        Uint,
        "FEC Instance ID (IDs 128-130)",
        |d, o| {
            u(
                o,
                ext_fti_oti(d).and_then(|f| match f {
                    FecOti::UnderSpecified { instance_id, .. }
                    | FecOti::SmallBlockSystematic { instance_id, .. } => Some(*instance_id),
                    _ => None,
                }),
            )
        }
    ),
    field!(
        "alc.payload_len",
        [],
        Uint,
        "bytes of encoding symbols in the packet",
        |d, o| u(o, d.alc.as_ref().map(|a| a.symbol_len as u64))
    ),
    field!(
        "route.start_offset",
        [],
        Uint,
        "ROUTE source packet's start_offset (A/331 §A.3.5.1)",
        |d, o| u(
            o,
            d.alc
                .as_ref()
                .and_then(|a| a.route)
                .and_then(|r| r.start_offset())
        )
    ),
    field!(
        "route.repair",
        [],
        Bool,
        "ROUTE repair packet (PSI's source bit 0, A/331 §A.4.2.4)",
        |d, o| b(
            o,
            d.alc
                .as_ref()
                .and_then(|a| a.route)
                .map(|r| r.start_offset().is_none())
        )
    ),
    field!(
        "route.tol",
        [],
        Uint,
        "ROUTE EXT_TOL transport object length (A/331 §A.3.8.1)",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.route).and_then(|r| r.tol))
    ),
    field!(
        "route.presentation_time",
        [],
        Uint,
        "ROUTE EXT_ROUTE_PRESENTATION_TIME, 64-bit NTP (A/331 §A.3.7.1)",
        |d, o| u(
            o,
            d.alc
                .as_ref()
                .and_then(|a| a.route)
                .and_then(|r| r.presentation_time)
        )
    ),
    field!(
        "webrc.ctsi",
        [],
        Uint,
        "WEBRC current time slot index (with --webrc)",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.webrc).map(|w| w.ctsi))
    ),
    field!(
        "webrc.cn",
        [],
        Uint,
        "WEBRC channel number (with --webrc)",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.webrc).map(|w| w.cn))
    ),
    field!(
        "webrc.psn",
        [],
        Uint,
        "WEBRC packet sequence number (with --webrc)",
        |d, o| u(o, d.alc.as_ref().and_then(|a| a.webrc).map(|w| w.psn))
    ),
    field!(
        "finding",
        ["_ws.expert"],
        Str,
        "finding IDs raised by the packet",
        |d, o| o.extend(d.findings.iter().map(|f| Value::Str(f.id.to_string())))
    ),
];

/// Finds a field by name or alias.
pub fn lookup(name: &str) -> Option<&'static Field> {
    FIELDS
        .iter()
        .find(|f| f.name == name || f.aliases.contains(&name))
}

pub fn values(field: &Field, d: &Dissected) -> Vec<Value> {
    let mut out = Vec::new();
    (field.get)(d, &mut out);
    out
}

/// `-G fields`: one line per field, tab-separated: name, type, aliases, description.
pub fn glossary() -> String {
    let mut s = String::new();
    for f in FIELDS {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            f.name,
            f.kind.name(),
            f.aliases.join(","),
            f.description
        ));
    }
    s
}
