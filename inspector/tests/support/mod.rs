//! Runs one vector through the parser its `layer` names.

#![allow(dead_code)]

use rmt_inspector::fec::ldpc_prng::LdpcPrng;
use rmt_inspector::fec::partition::{compact_no_code_symbol, BlockPartition};
use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
use rmt_inspector::wire::cid::CidObjectList;
use rmt_inspector::wire::ext_cenc::ContentEncoding;
use rmt_inspector::wire::ext_fti::ExtFti;
use rmt_inspector::wire::fcast::CompoundObject;
use rmt_inspector::wire::fdt::{expires_to_ntp_seconds, FdtInstance};
use rmt_inspector::wire::fec_payload_id::FecPayloadId;
use rmt_inspector::wire::frame::Frame;
use rmt_inspector::wire::inflate::DEFAULT_MAX_INFLATED;
use rmt_inspector::wire::lct::{HeaderExtension, LctRepr};
use rmt_inspector::wire::link::LinkType;
use rmt_inspector::wire::lls::LlsTable;
use rmt_inspector::wire::route::Profile;
use rmt_inspector::wire::webrc_cci::{CciForm, WebrcCci};
use rmt_inspector::wire::{Decoded, Finding, Severity, WireError};
use rmt_vectors::Vector;
use serde::Serialize;
use serde_yaml::Value;

/// How a decoded value is written back.
pub enum Reemit {
    /// The bytes must equal the input.
    Bytes(Vec<u8>),
    /// Re-parsing the emitted form gives the same value (FDT XML documents).
    SameValue(bool),
    /// Computed vectors have no wire form.
    None,
}

pub struct Outcome {
    pub tree: Value,
    pub findings: Vec<Finding>,
    pub reemit: Reemit,
}

impl Outcome {
    pub fn is_strict_ok(&self) -> bool {
        !self
            .findings
            .iter()
            .any(|f| f.severity >= Severity::Warning)
    }
}

fn tree<T: Serialize>(v: &T) -> Value {
    serde_yaml::to_value(v).expect("decoded values serialise")
}

fn done<T: Serialize>(d: Decoded<T>, reemit: impl FnOnce(&T) -> Reemit) -> Outcome {
    let reemit = reemit(&d.value);
    Outcome {
        tree: tree(&d.value),
        findings: d.findings,
        reemit,
    }
}

fn emitted(f: impl FnOnce(&mut Vec<u8>) -> Result<(), WireError>) -> Reemit {
    let mut out = Vec::new();
    match f(&mut out) {
        Ok(()) => Reemit::Bytes(out),
        Err(e) => panic!("emit failed: {e}"),
    }
}

/// The error a vector of a computed layer (a partition, not a header) names when the function
/// returns nothing: written here, since the library raises none.
fn computed_error(id: &'static str, rule: &'static str) -> WireError {
    WireError {
        id,
        field: "params",
        offset: 0,
        rule,
        detail: "out of range".into(),
    }
}

pub fn run(v: &Vector, b: &[u8]) -> Result<Outcome, WireError> {
    let encoding_id = v.param_u64("encoding_id").map(|x| x as u8);
    match v.layer.as_str() {
        "lct" => LctRepr::parse(b).map(|d| done(d, |r| emitted(|o| r.emit(o)))),
        "ext" => HeaderExtension::parse(b, 0).map(|d| {
            let len = d.value.1;
            assert_eq!(len, b.len(), "{}: the extension must span the vector", v.id);
            done(d.map(|(e, _)| e), |e| {
                emitted(|o| {
                    e.emit(o);
                    Ok(())
                })
            })
        }),
        "ext_fti" => ExtFti::parse(b, encoding_id.expect("encoding_id"))
            .map(|d| done(d, |r| emitted(|o| r.emit(o)))),
        "fec_payload_id" => FecPayloadId::parse(
            b,
            encoding_id.expect("encoding_id"),
            v.param_u64("m").map(|m| m as u8),
        )
        .map(|p| done(Decoded::new(p, vec![]), |p| emitted(|o| p.emit(o)))),
        "webrc_cci" => {
            let form = if v.param_str("form") == Some("long") {
                CciForm::Long
            } else {
                CciForm::Short
            };
            WebrcCci::parse(b, form)
                .map(|c| done(Decoded::new(c, vec![]), |c| emitted(|o| c.emit(o))))
        }
        "alc" => {
            let ctx = AlcContext {
                fec_encoding_id: encoding_id,
                rs_m: None,
                webrc: v.param_bool("webrc"),
                profile: v
                    .param_str("profile")
                    .and_then(Profile::from_name)
                    .unwrap_or_default(),
            };
            AlcPacket::parse(b, ctx).map(|d| done(d, |p| emitted(|o| p.emit(p.symbols(b), o))))
        }
        // The gzip bytes are not kept: the table is written again with its XML recompressed,
        // and must decode to the same table.
        "lls" => LlsTable::parse(b).map(|d| {
            done(d, |t| {
                let mut again = vec![t.table_id, t.group_id, t.group_count_minus1, t.version];
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                std::io::Write::write_all(&mut gz, t.xml.as_deref().unwrap_or("").as_bytes())
                    .expect("in memory");
                again.extend(gz.finish().expect("in memory"));
                Reemit::SameValue(LlsTable::parse(&again).is_ok_and(|d| &d.value == t))
            })
        }),
        "fcast" => CompoundObject::parse(b).map(|d| {
            done(d, |c| {
                emitted(|o| {
                    c.emit(o);
                    Ok(())
                })
            })
        }),
        "cid_list" => {
            CidObjectList::parse(b).map(|d| done(d, |l| Reemit::Bytes(l.emit().into_bytes())))
        }
        "fdt" => {
            let cenc = v.param_str("cenc").map(|c| match c {
                "zlib" => ContentEncoding::Zlib,
                "deflate" => ContentEncoding::Deflate,
                "gzip" => ContentEncoding::Gzip,
                other => panic!("unknown cenc {other}"),
            });
            let max = v
                .param_u64("max_inflated")
                .map_or(DEFAULT_MAX_INFLATED, |m| m as usize);
            FdtInstance::parse_payload(b, cenc, max).map(|d| {
                done(d, |inst| {
                    let again =
                        FdtInstance::parse(inst.to_xml().as_bytes()).expect("canonical XML parses");
                    Reemit::SameValue(&again.value == inst)
                })
            })
        }
        "frame" => {
            let link = match v.param_str("link").expect("link") {
                "ethernet" => LinkType::Ethernet,
                "sll" => LinkType::LinuxSll,
                "sll2" => LinkType::LinuxSll2,
                "raw" => LinkType::RawIp,
                other => panic!("unknown link {other}"),
            };
            Frame::parse(link, b).map(|d| {
                done(d, |fr| {
                    emitted(|o| {
                        fr.link.emit(o);
                        if let Some(ip) = &fr.ip {
                            ip.emit(o);
                        }
                        if let Some(u) = &fr.udp {
                            u.emit(o);
                        }
                        o.extend_from_slice(&b[o.len().min(b.len())..]);
                        Ok(())
                    })
                })
            })
        }
        "partition" => {
            let p = BlockPartition::new(
                v.param_u64("transfer_length").unwrap(),
                v.param_u64("symbol_length").unwrap(),
                v.param_u64("max_block_symbols").unwrap(),
            )
            .ok_or_else(|| computed_error("fec.partition.invalid", "RFC 5052 §9.1"))?;
            Ok(Outcome {
                tree: tree(&p),
                findings: vec![],
                reemit: Reemit::None,
            })
        }
        "no_code_symbol" => {
            let (start, end, padding) = compact_no_code_symbol(
                v.param_u64("block_length").unwrap(),
                v.param_u64("symbol_length").unwrap(),
                v.param_u64("esi").unwrap(),
            )
            .ok_or_else(|| computed_error("fec.esi.out_of_range", "RFC 5445 §3.4.2"))?;
            let t: Value = serde_yaml::from_str(&format!(
                "{{start: {start}, end: {end}, padding: {padding}}}"
            ))
            .unwrap();
            Ok(Outcome {
                tree: t,
                findings: vec![],
                reemit: Reemit::None,
            })
        }
        "ldpc_prng" => {
            let mut prng = LdpcPrng::new(v.param_u64("seed").unwrap() as u32)
                .ok_or_else(|| computed_error("fec.oti.ldpc.seed_invalid", "RFC 5170 §4.2.3"))?;
            let mut value = 0;
            for _ in 0..v.param_u64("count").unwrap() {
                value = prng.next_raw();
            }
            let t: Value = serde_yaml::from_str(&format!("{{value: {value}}}")).unwrap();
            Ok(Outcome {
                tree: t,
                findings: vec![],
                reemit: Reemit::None,
            })
        }
        "fdt_expires" => {
            let n = expires_to_ntp_seconds(
                v.param_u64("expires").unwrap() as u32,
                v.param_u64("now").unwrap(),
            );
            let t: Value = serde_yaml::from_str(&format!("{{ntp_seconds: {n}}}")).unwrap();
            Ok(Outcome {
                tree: t,
                findings: vec![],
                reemit: Reemit::None,
            })
        }
        other => panic!("{}: unknown layer {other}", v.id),
    }
}

/// Layers whose input delimits itself, so any truncation must be detected.
pub fn self_delimiting(layer: &str) -> bool {
    matches!(
        layer,
        "lct" | "ext" | "ext_fti" | "fec_payload_id" | "webrc_cci" | "fcast" | "fdt" | "frame"
    )
}

/// Looks up a dotted path (`extensions.0.hel`) in a decoded tree.
pub fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = tree;
    for part in path.split('.') {
        cur = match cur {
            Value::Mapping(m) => m.get(Value::String(part.to_string()))?,
            Value::Sequence(s) => s.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Compares an expected value with a decoded one (numbers by value, sequences element-wise).
pub fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => {
            a.as_u64() == b.as_u64() && a.as_i64() == b.as_i64() && a.as_f64() == b.as_f64()
        }
        (Value::Sequence(a), Value::Sequence(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Tagged(a), _) => same(&a.value, actual),
        (a, b) => a == b,
    }
}
