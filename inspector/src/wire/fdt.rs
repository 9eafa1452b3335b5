//! The FLUTE FDT Instance (RFC 6726 §3.4.2), decoded from its XML into typed values.
//!
//! Three forms are met in practice: the RFC 6726 namespace `urn:ietf:params:xml:ns:fdt`, the
//! 3GPP TS 26.346 one `urn:IETF:metadata:2005:FLUTE:FDT` (sent by the flute crate and rt-libflute),
//! and no namespace at all (MCLv3); 3GPP TS 26.346 Annex L adds `urn:3GPP:metadata:2022:FLUTE:FDT`
//! and rt-libflute sends RFC 3926's schema namespace. All decode; all but the first are reported
//! (the flavours: `flute_flavor.rs`).
//!
//! The XML text is a document, not a packed header: its byte form (attribute order, quoting,
//! whitespace) is kept by keeping the payload itself, and [`FdtInstance::to_xml`] writes a
//! canonical document that decodes to the same values.

use crate::registry;
use base64::Engine;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader as XmlReader;
use serde::Serialize;

use super::error::WireError;
use super::ext_cenc::ContentEncoding;
use super::finding::{Decoded, Findings};
use super::inflate::{inflate, Compression};
use super::serde_hex;

use super::flute_flavor::{NS_3GPP_2022, NS_RFC3926_SCHEMA};

pub const NS_FLUTE_V2: &str = "urn:ietf:params:xml:ns:fdt";
pub const NS_FLUTE_V1: &str = "urn:IETF:metadata:2005:FLUTE:FDT";
/// File entries accepted in one instance (bounds memory on hostile input).
pub const MAX_FILES: usize = 1 << 16;
/// Element nesting accepted (the schema needs 3).
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FdtNamespace {
    FluteV2,
    FluteV1,
    /// 3GPP TS 26.346 Annex L's consolidated namespace ([`NS_3GPP_2022`]).
    ThreeGpp2022,
    None,
    Other(String),
}

/// Attributes that the FDT-Instance gives as defaults and a File may override (§3.4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FdtAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fec_encoding_id: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fec_instance_id: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_source_block_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_symbol_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_encoding_symbols: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_hex")]
    pub scheme_specific_info: Option<Vec<u8>>,
}

fn opt_hex<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => serde_hex::bytes(b, s),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdtFile {
    #[serde(serialize_with = "serde_hex::u128_num")]
    pub toi: u128,
    pub content_location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_hex")]
    pub content_md5: Option<Vec<u8>>,
    #[serde(flatten)]
    pub attributes: FdtAttributes,
    /// Attributes outside the schema (private extensions, other namespaces), in document order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_attributes: Vec<(String, String)>,
    /// Names of child elements (the schema allows any in other namespaces).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub child_elements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdtInstance {
    pub namespace: FdtNamespace,
    /// Top 32 bits of an NTP timestamp (§3.3); required.
    pub expires: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    #[serde(flatten)]
    pub defaults: FdtAttributes,
    pub files: Vec<FdtFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_attributes: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub child_elements: Vec<String>,
}

fn xml_error(e: impl std::fmt::Display, at: u64) -> WireError {
    WireError::of(
        &registry::flute::FDT_XML,
        "xml",
        at as usize,
        format!("not well-formed XML: {e}"),
    )
}

fn parse_num<T: std::str::FromStr>(
    value: &str,
    name: &'static str,
    at: usize,
    f: &mut Findings,
) -> Option<T> {
    match value.trim().parse::<T>() {
        Ok(v) => Some(v),
        Err(_) => {
            f.raise(
                &registry::flute::FDT_ATTRIBUTE_INVALID,
                name,
                at,
                format!("{name}=\"{value}\" is not a valid number"),
            );
            None
        }
    }
}

fn parse_b64(value: &str, name: &'static str, at: usize, f: &mut Findings) -> Option<Vec<u8>> {
    match base64::engine::general_purpose::STANDARD.decode(value.trim()) {
        Ok(v) => Some(v),
        Err(e) => {
            f.raise(
                &registry::flute::FDT_ATTRIBUTE_INVALID,
                name,
                at,
                format!("{name} is not base64: {e}"),
            );
            None
        }
    }
}

/// Sets a shared attribute; returns false if `key` is not one of them.
fn shared_attribute(
    a: &mut FdtAttributes,
    key: &str,
    value: &str,
    at: usize,
    f: &mut Findings,
) -> bool {
    match key {
        "Content-Type" => a.content_type = Some(value.to_string()),
        "Content-Encoding" => a.content_encoding = Some(value.to_string()),
        "FEC-OTI-FEC-Encoding-ID" => {
            a.fec_encoding_id = parse_num(value, "FEC-OTI-FEC-Encoding-ID", at, f)
        }
        "FEC-OTI-FEC-Instance-ID" => {
            a.fec_instance_id = parse_num(value, "FEC-OTI-FEC-Instance-ID", at, f)
        }
        "FEC-OTI-Maximum-Source-Block-Length" => {
            a.max_source_block_length =
                parse_num(value, "FEC-OTI-Maximum-Source-Block-Length", at, f)
        }
        "FEC-OTI-Encoding-Symbol-Length" => {
            a.encoding_symbol_length = parse_num(value, "FEC-OTI-Encoding-Symbol-Length", at, f)
        }
        "FEC-OTI-Max-Number-of-Encoding-Symbols" => {
            a.max_encoding_symbols =
                parse_num(value, "FEC-OTI-Max-Number-of-Encoding-Symbols", at, f)
        }
        "FEC-OTI-Scheme-Specific-Info" => {
            a.scheme_specific_info = parse_b64(value, "FEC-OTI-Scheme-Specific-Info", at, f)
        }
        _ => return false,
    }
    true
}

/// Attributes of an element as (qualified name, unescaped value).
fn attributes(e: &BytesStart<'_>, at: u64) -> Result<Vec<(String, String)>, WireError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| xml_error(err, at))?;
        // A lossy conversion could map two distinct raw names onto one (found by fuzzing:
        // `Conten\xb3t-Type` next to `Conten\u{fffd}t-Type`), and the emitted XML would then
        // repeat an attribute.
        if !is_xml_name(a.key.as_ref()) {
            return Err(xml_error(
                format!(
                    "attribute name {:?} is not an XML Name",
                    String::from_utf8_lossy(a.key.as_ref())
                ),
                at,
            ));
        }
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|err| xml_error(err, at))?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

/// XML 1.0 §2.3 `Name` in UTF-8 (ASCII subset checked; any non-ASCII character is accepted
/// as a name character) with at most one namespace-prefix colon (Namespaces in XML §3). quick-xml hands out
/// whatever sits between `<` and whitespace, including an empty name, and an element we
/// cannot write back would break `emit(parse(x))`.
fn is_xml_name(name: &[u8]) -> bool {
    let start = |b: u8| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80;
    let rest = |b: u8| start(b) || b.is_ascii_digit() || b == b'-' || b == b'.';
    let mut parts = name.split(|&b| b == b':');
    let valid_part = |p: &[u8]| p.first().is_some_and(|&b| start(b)) && p.iter().all(|&b| rest(b));
    let parts_ok = parts.all(valid_part);
    parts_ok
        && name.iter().filter(|&&b| b == b':').count() <= 1
        && std::str::from_utf8(name).is_ok()
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn nonstandard_or_other(
    key: &str,
    value: &str,
    at: usize,
    f: &mut Findings,
    other: &mut Vec<(String, String)>,
) {
    if key.eq_ignore_ascii_case("FEC-OTI-Transfer-Length") {
        // RFC 5170 §4.2.4.2 and RFC 5510 §4.2.4.2 name it; the RFC 6726 schema has Transfer-Length.
        f.raise(
            &registry::flute::FDT_ATTRIBUTE_NONSTANDARD,
            "FEC-OTI-Transfer-Length",
            at,
            "FEC-OTI-Transfer-Length is not in the RFC 6726 schema (use Transfer-Length)",
        );
    }
    other.push((key.to_string(), value.to_string()));
}

pub(crate) fn parse_file(
    attrs: Vec<(String, String)>,
    at: usize,
    f: &mut Findings,
) -> Option<FdtFile> {
    let mut toi = None;
    let mut location: Option<String> = None;
    let mut file = FdtFile {
        toi: 0,
        content_location: String::new(),
        content_length: None,
        transfer_length: None,
        content_md5: None,
        attributes: FdtAttributes::default(),
        other_attributes: Vec::new(),
        child_elements: Vec::new(),
    };
    for (key, value) in attrs {
        match key.as_str() {
            "TOI" => toi = parse_num::<u128>(&value, "TOI", at, f),
            "Content-Location" => location = Some(value),
            "Content-Length" => file.content_length = parse_num(&value, "Content-Length", at, f),
            "Transfer-Length" => file.transfer_length = parse_num(&value, "Transfer-Length", at, f),
            "Content-MD5" => {
                file.content_md5 = parse_b64(&value, "Content-MD5", at, f);
                if let Some(d) = &file.content_md5 {
                    if d.len() != 16 {
                        f.raise(
                            &registry::flute::FDT_CONTENT_MD5_LENGTH,
                            "Content-MD5",
                            at,
                            format!("decodes to {} bytes, an MD5 digest has 16", d.len()),
                        );
                    }
                }
            }
            k => {
                if !shared_attribute(&mut file.attributes, k, &value, at, f) {
                    nonstandard_or_other(k, &value, at, f, &mut file.other_attributes);
                }
            }
        }
    }
    let Some(content_location) = location else {
        f.raise(
            &registry::flute::FDT_FILE_CONTENT_LOCATION_MISSING,
            "Content-Location",
            at,
            "File without Content-Location",
        );
        return None;
    };
    match toi {
        None => {
            f.raise(
                &registry::flute::FDT_FILE_TOI_MISSING,
                "TOI",
                at,
                format!("File {content_location} has no valid TOI"),
            );
            None
        }
        Some(0) => {
            f.raise(
                &registry::flute::FDT_FILE_TOI_ZERO,
                "TOI",
                at,
                format!("File {content_location} has TOI 0, reserved for FDT Instances"),
            );
            None
        }
        Some(t) if t >> 112 != 0 => {
            f.raise(
                &registry::flute::FDT_FILE_TOI_TOO_LARGE,
                "TOI",
                at,
                "TOI wider than 112 bits",
            );
            None
        }
        Some(t) => {
            file.toi = t;
            file.content_location = content_location;
            Some(file)
        }
    }
}

impl FdtInstance {
    /// Decodes an FDT Instance from its (already inflated) XML text.
    pub fn parse(xml: &[u8]) -> Result<Decoded<FdtInstance>, WireError> {
        let mut f = Findings::default();
        let mut reader = XmlReader::from_reader(xml);
        reader.config_mut().check_end_names = true;
        let mut root: Option<FdtInstance> = None;
        let mut root_at = 0usize;
        // File elements met, whether or not they decoded to an entry.
        let mut file_elements = 0usize;
        let mut depth = 0usize;
        let mut closed = false;
        loop {
            let at = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| xml_error(e, reader.error_position()))?;
            let (start, empty) = match &event {
                Event::Start(e) => (Some(e.clone()), false),
                Event::Empty(e) => (Some(e.clone()), true),
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        closed = true;
                        break;
                    }
                    continue;
                }
                Event::Eof => break,
                Event::Text(t) => {
                    if root.is_none() && !t.iter().all(u8::is_ascii_whitespace) {
                        return Err(xml_error("text before the root element", at));
                    }
                    continue;
                }
                _ => continue,
            };
            let Some(e) = start else { continue };
            let name = e.name();
            if !is_xml_name(name.as_ref()) {
                return Err(xml_error(
                    format!(
                        "element name {:?} is not an XML Name",
                        String::from_utf8_lossy(name.as_ref())
                    ),
                    at,
                ));
            }
            let local_name = local(name.as_ref()).to_vec();
            if depth == 0 {
                if local_name != b"FDT-Instance" {
                    return Err(WireError::of(
                        &registry::flute::FDT_ROOT,
                        "root",
                        at as usize,
                        format!(
                            "root element is {}, not FDT-Instance",
                            String::from_utf8_lossy(name.as_ref())
                        ),
                    ));
                }
                let attrs = attributes(&e, at)?;
                // Namespaces in XML §5 (NSC: Prefix Declared). An undeclared prefix on the root
                // leaves its namespace undefined, and the canonical (unprefixed) form could not
                // say the same thing (found by fuzzing: a prefixed root next to a default
                // declaration that does not apply to it).
                if let Some(i) = name.as_ref().iter().position(|&b| b == b':') {
                    let declaration =
                        format!("xmlns:{}", String::from_utf8_lossy(&name.as_ref()[..i]));
                    if !attrs.iter().any(|(k, _)| *k == declaration) {
                        return Err(xml_error(
                            format!(
                                "the prefix of {} is not declared",
                                String::from_utf8_lossy(name.as_ref())
                            ),
                            at,
                        ));
                    }
                }
                root_at = at as usize;
                root = Some(Self::parse_root(attrs, name.as_ref(), root_at, &mut f));
                if empty {
                    closed = true;
                    break;
                }
            } else {
                let inst = root.as_mut().expect("depth > 0 implies a root");
                if depth == 1 && local_name == b"File" {
                    file_elements += 1;
                    if inst.files.len() == MAX_FILES {
                        return Err(WireError::of(
                            &registry::flute::FDT_TOO_MANY_FILES,
                            "File",
                            at as usize,
                            format!("more than {MAX_FILES} File entries"),
                        ));
                    }
                    if let Some(file) = parse_file(attributes(&e, at)?, at as usize, &mut f) {
                        inst.files.push(file);
                    }
                } else if depth == 1 {
                    inst.child_elements
                        .push(String::from_utf8_lossy(name.as_ref()).into_owned());
                } else if depth == 2 {
                    if let Some(file) = inst.files.last_mut() {
                        file.child_elements
                            .push(String::from_utf8_lossy(name.as_ref()).into_owned());
                    }
                }
            }
            if !empty {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(WireError::of(
                        &registry::flute::FDT_TOO_DEEP,
                        "xml",
                        at as usize,
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
            }
        }
        let Some(inst) = root else {
            return Err(WireError::of(
                &registry::flute::FDT_ROOT,
                "root",
                xml.len(),
                "no FDT-Instance element",
            ));
        };
        if !closed {
            return Err(xml_error(
                "the document ends before </FDT-Instance>",
                xml.len() as u64,
            ));
        }
        if file_elements == 0 {
            // The schema's `<xs:element name="File" type="FileType" maxOccurs="unbounded"/>`
            // has the default minOccurs="1"; §3.2: "Each FDT Instance contains at least a
            // single file description entry".
            f.raise(
                &registry::flute::FDT_NO_FILE,
                "File",
                root_at,
                "FDT-Instance without a File element (the schema's File has minOccurs 1)",
            );
        }
        inst.check_instance_ids(&mut f);
        Ok(Decoded::new(inst, f.list))
    }

    fn parse_root(
        attrs: Vec<(String, String)>,
        qname: &[u8],
        at: usize,
        f: &mut Findings,
    ) -> FdtInstance {
        let prefix = qname
            .iter()
            .position(|&b| b == b':')
            .map(|i| String::from_utf8_lossy(&qname[..i]).into_owned());
        let ns_attr = match &prefix {
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        let mut inst = FdtInstance {
            namespace: FdtNamespace::None,
            expires: None,
            complete: None,
            defaults: FdtAttributes::default(),
            files: Vec::new(),
            other_attributes: Vec::new(),
            child_elements: Vec::new(),
        };
        for (key, value) in attrs {
            if key == ns_attr {
                inst.namespace = match value.as_str() {
                    NS_FLUTE_V2 => FdtNamespace::FluteV2,
                    NS_FLUTE_V1 => FdtNamespace::FluteV1,
                    NS_3GPP_2022 => FdtNamespace::ThreeGpp2022,
                    other => FdtNamespace::Other(other.to_string()),
                };
                // Represented by `namespace`; the prefix chosen for it carries no meaning.
                continue;
            }
            match key.as_str() {
                "Expires" => match value.trim().parse::<u64>() {
                    Ok(v) if v <= u64::from(u32::MAX) => inst.expires = Some(v as u32),
                    _ => f.raise(
                        &registry::flute::FDT_EXPIRES_INVALID,
                        "Expires",
                        at,
                        format!("Expires=\"{value}\" is not a 32-bit NTP seconds value"),
                    ),
                },
                "Complete" => match value.trim() {
                    "true" | "1" => inst.complete = Some(true),
                    "false" | "0" => inst.complete = Some(false),
                    _ => f.raise(
                        &registry::flute::FDT_ATTRIBUTE_INVALID,
                        "Complete",
                        at,
                        format!("Complete=\"{value}\" is not an xs:boolean"),
                    ),
                },
                k => {
                    if !shared_attribute(&mut inst.defaults, k, &value, at, f) {
                        nonstandard_or_other(k, &value, at, f, &mut inst.other_attributes);
                    }
                }
            }
        }
        match &inst.namespace {
            FdtNamespace::FluteV2 => {}
            FdtNamespace::FluteV1 => f.raise(
                &registry::flute::FDT_NAMESPACE_V1,
                "xmlns",
                at,
                format!("FLUTE v1 / 3GPP namespace {NS_FLUTE_V1}"),
            ),
            FdtNamespace::ThreeGpp2022 => f.raise(
                &registry::flute::FDT_NAMESPACE_3GPP2022,
                "xmlns",
                at,
                format!("3GPP consolidated namespace {NS_3GPP_2022}"),
            ),
            FdtNamespace::Other(ns) if ns == NS_RFC3926_SCHEMA => f.raise(
                &registry::flute::FDT_NAMESPACE_RFC3926,
                "xmlns",
                at,
                format!("RFC 3926's schema namespace {NS_RFC3926_SCHEMA}"),
            ),
            FdtNamespace::None => f.raise(
                &registry::flute::FDT_NAMESPACE_MISSING,
                "xmlns",
                at,
                format!("FDT-Instance has no namespace; RFC 6726 uses {NS_FLUTE_V2}"),
            ),
            FdtNamespace::Other(ns) => f.raise(
                &registry::flute::FDT_NAMESPACE_UNKNOWN,
                "xmlns",
                at,
                format!("unknown namespace {ns}"),
            ),
        }
        if inst.expires.is_none()
            && !f
                .list
                .iter()
                .any(|x| x.id == registry::flute::FDT_EXPIRES_INVALID.id)
        {
            f.raise(
                &registry::flute::FDT_EXPIRES_MISSING,
                "Expires",
                at,
                "FDT-Instance without Expires",
            );
        }
        inst
    }

    /// RFC 5052 §6.2.4: the FEC Instance ID is used only with Under-Specified schemes (128-255).
    fn check_instance_ids(&self, f: &mut Findings) {
        for file in &self.files {
            let id = self.effective(file, |a| &a.fec_encoding_id);
            let instance = self.effective(file, |a| &a.fec_instance_id);
            if let (Some(id @ 0..=127), Some(instance)) = (id, instance) {
                // A MUST NOT, but receivers ignore the value for Fully-Specified schemes, so the
                // OTI still decodes: a warning (the flute crate sends Instance ID 0 with ID 0).
                f.raise(&registry::flute::FDT_INSTANCE_ID_WITH_FULLY_SPECIFIED, "FEC-OTI-FEC-Instance-ID", 0, format!("TOI {}: FEC Instance ID {instance} given for Fully-Specified FEC Encoding ID {id}", file.toi), );
            }
        }
    }

    /// Decodes an FDT Instance object as carried in TOI 0, inflating it per EXT_CENC.
    pub fn parse_payload(
        payload: &[u8],
        cenc: Option<ContentEncoding>,
        max_inflated: usize,
    ) -> Result<Decoded<FdtInstance>, WireError> {
        let rule = "RFC 6726 §3.4.3";
        let how = match cenc {
            None | Some(ContentEncoding::Null) => return Self::parse(payload),
            Some(ContentEncoding::Zlib) => Compression::Zlib,
            Some(ContentEncoding::Deflate) => Compression::Deflate,
            Some(ContentEncoding::Gzip) => Compression::Gzip,
            Some(ContentEncoding::Unknown(n)) => {
                return Err(WireError::of(
                    &registry::flute::EXT_CENC_UNKNOWN,
                    "cenc",
                    0,
                    format!("CENC {n} is not registered"),
                )
                .citing(rule))
            }
        };
        let xml = inflate(
            payload,
            how,
            max_inflated,
            &registry::flute::CENC_INFLATE_FAILED,
            &registry::flute::CENC_TOO_LARGE,
        )?;
        Self::parse(&xml)
    }

    /// A file's effective value of a shared attribute: its own, else the instance default.
    pub fn effective<'a, T>(
        &'a self,
        file: &'a FdtFile,
        get: impl Fn(&'a FdtAttributes) -> &'a Option<T>,
    ) -> &'a Option<T> {
        match get(&file.attributes) {
            Some(_) => get(&file.attributes),
            None => get(&self.defaults),
        }
    }

    /// Writes a canonical XML document with the same values.
    pub fn to_xml(&self) -> String {
        use quick_xml::escape::escape;
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FDT-Instance");
        let mut attr = |s: &mut String, k: &str, v: &str| {
            s.push_str(&format!(" {k}=\"{}\"", escape(v)));
        };
        let uri = match &self.namespace {
            FdtNamespace::FluteV2 => Some(NS_FLUTE_V2),
            FdtNamespace::FluteV1 => Some(NS_FLUTE_V1),
            FdtNamespace::ThreeGpp2022 => Some(NS_3GPP_2022),
            FdtNamespace::Other(ns) => Some(ns.as_str()),
            FdtNamespace::None => None,
        };
        if let Some(uri) = uri {
            attr(&mut s, "xmlns", uri);
        }
        // A default declaration kept from a prefixed root would now clash with the one above.
        for (k, v) in self.other_attributes.iter().filter(|(k, _)| k != "xmlns") {
            attr(&mut s, k, v);
        }
        if let Some(e) = self.expires {
            attr(&mut s, "Expires", &e.to_string());
        }
        if let Some(c) = self.complete {
            attr(&mut s, "Complete", if c { "true" } else { "false" });
        }
        write_shared(&mut s, &self.defaults, &mut attr);
        s.push_str(">\n");
        for file in &self.files {
            s.push_str("  <File");
            attr(&mut s, "TOI", &file.toi.to_string());
            attr(&mut s, "Content-Location", &file.content_location);
            if let Some(v) = file.content_length {
                attr(&mut s, "Content-Length", &v.to_string());
            }
            if let Some(v) = file.transfer_length {
                attr(&mut s, "Transfer-Length", &v.to_string());
            }
            if let Some(v) = &file.content_md5 {
                attr(
                    &mut s,
                    "Content-MD5",
                    &base64::engine::general_purpose::STANDARD.encode(v),
                );
            }
            write_shared(&mut s, &file.attributes, &mut attr);
            for (k, v) in &file.other_attributes {
                attr(&mut s, k, v);
            }
            // Child elements are kept by name only (the schema allows any in other
            // namespaces); they are written back empty so the document decodes the same.
            if file.child_elements.is_empty() {
                s.push_str("/>\n");
            } else {
                s.push('>');
                for name in &file.child_elements {
                    s.push_str(&format!("<{name}/>"));
                }
                s.push_str("</File>\n");
            }
        }
        for name in &self.child_elements {
            s.push_str(&format!("  <{name}/>\n"));
        }
        s.push_str("</FDT-Instance>");
        s
    }
}

fn write_shared(s: &mut String, a: &FdtAttributes, attr: &mut impl FnMut(&mut String, &str, &str)) {
    let nums = [
        ("FEC-OTI-FEC-Encoding-ID", a.fec_encoding_id.map(u64::from)),
        ("FEC-OTI-FEC-Instance-ID", a.fec_instance_id.map(u64::from)),
        (
            "FEC-OTI-Maximum-Source-Block-Length",
            a.max_source_block_length,
        ),
        ("FEC-OTI-Encoding-Symbol-Length", a.encoding_symbol_length),
        (
            "FEC-OTI-Max-Number-of-Encoding-Symbols",
            a.max_encoding_symbols,
        ),
    ];
    if let Some(v) = &a.content_type {
        attr(s, "Content-Type", v);
    }
    if let Some(v) = &a.content_encoding {
        attr(s, "Content-Encoding", v);
    }
    for (k, v) in nums {
        if let Some(v) = v {
            attr(s, k, &v.to_string());
        }
    }
    if let Some(v) = &a.scheme_specific_info {
        attr(
            s,
            "FEC-OTI-Scheme-Specific-Info",
            &base64::engine::general_purpose::STANDARD.encode(v),
        );
    }
}

impl FdtInstance {
    /// When the instance expires, in NTP seconds, its 32-bit Expires read in the era nearest to
    /// `now_ntp` (RFC 6726 §3.3); never (`u64::MAX`) without an Expires.
    pub fn valid_until(&self, now_ntp: u64) -> u64 {
        self.expires
            .map_or(u64::MAX, |e| expires_to_ntp_seconds(e, now_ntp))
    }
}

/// Seconds in one NTP era (2^32).
const NTP_ERA: i128 = 1 << 32;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A capture time (since the Unix epoch) in NTP seconds, as an FDT's Expires is compared.
pub fn ntp_seconds(since_unix_epoch: std::time::Duration) -> u64 {
    since_unix_epoch.as_secs() + NTP_UNIX_OFFSET
}

/// Expands a 32-bit `Expires` (top 32 bits of NTP time) to full NTP seconds, choosing the era
/// that puts it closest to `now` (RFC 6726 §3.3, which works the 2036 wrap as its example).
/// `now_ntp_seconds` counts from the NTP prime epoch (1900) and may exceed 2^32.
pub fn expires_to_ntp_seconds(expires: u32, now_ntp_seconds: u64) -> u64 {
    let now = i128::from(now_ntp_seconds);
    let era = now / NTP_ERA;
    let best = [era - 1, era, era + 1]
        .into_iter()
        .filter(|e| *e >= 0)
        .map(|e| e * NTP_ERA + i128::from(expires))
        .min_by_key(|t| (t - now).abs())
        .unwrap_or(i128::from(expires));
    best as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::finding::Severity;

    fn finding_ids(xml: &str) -> Vec<&'static str> {
        let d = FdtInstance::parse(xml.as_bytes()).unwrap();
        d.findings.iter().map(|f| f.id).collect()
    }

    /// RFC 6726 §3.4.2: the schema's File element has the default minOccurs="1" (§3.2: "Each
    /// FDT Instance contains at least a single file description entry").
    #[test]
    fn an_instance_without_a_file_element_is_an_error() {
        let ns = NS_FLUTE_V2;
        for xml in [
            format!(r#"<FDT-Instance xmlns="{ns}" Expires="1"/>"#),
            format!(r#"<FDT-Instance xmlns="{ns}" Expires="1" Complete="true"></FDT-Instance>"#),
            format!(
                r#"<FDT-Instance xmlns="{ns}" xmlns:x="urn:x" Expires="1"><x:Note/></FDT-Instance>"#
            ),
        ] {
            let d = FdtInstance::parse(xml.as_bytes()).unwrap();
            let f = d
                .findings
                .iter()
                .find(|f| f.id == "flute.fdt.no_file")
                .unwrap_or_else(|| panic!("no flute.fdt.no_file for {xml}"));
            assert_eq!(
                (f.severity, f.rule, f.offset),
                (Severity::Error, "RFC 6726 §3.4.2", 0)
            );
            assert!(d.strict().is_err(), "{xml}");
        }
        // One File: nothing to report.
        let xml = format!(
            r#"<FDT-Instance xmlns="{ns}" Expires="1"><File TOI="1" Content-Location="a"/></FDT-Instance>"#
        );
        assert_eq!(finding_ids(&xml), Vec::<&str>::new());
        // A File element that does not decode is reported for its own fault, not as missing.
        let xml = format!(
            r#"<FDT-Instance xmlns="{ns}" Expires="1"><File Content-Location="a"/></FDT-Instance>"#
        );
        assert_eq!(finding_ids(&xml), ["flute.fdt.file.toi_missing"]);
    }

    /// Found by the `fdt` fuzz target: a child element other than File was dropped by
    /// `to_xml`, so the canonical document decoded to another value.
    #[test]
    fn fuzz_regressions_keep_child_elements_and_refuse_non_xml_names() {
        let xml = br#"<FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" Expires="1"><Fil =IO3Te""/></FDT-Instance>"#;
        // quick-xml reads `Fil =IO3Te""` as an element named Fil whose attributes it does not
        // check; we keep it as an unknown child element and its canonical form parses back equal.
        let d = FdtInstance::parse(xml).unwrap().value;
        assert_eq!(d.child_elements.len(), 1);
        assert_eq!(FdtInstance::parse(d.to_xml().as_bytes()).unwrap().value, d);
        let xml = br#"<FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" xmlns:sv="urn:x" Expires="1"><File TOI="1" Content-Location="a"><sv:delimiter>0</sv:delimiter></File><sv:schemaVersion>4</sv:schemaVersion></FDT-Instance>"#;
        let d = FdtInstance::parse(xml).unwrap().value;
        assert_eq!(
            (d.child_elements.len(), d.files[0].child_elements.len()),
            (1, 1)
        );
        assert_eq!(FdtInstance::parse(d.to_xml().as_bytes()).unwrap().value, d);
        // An empty or doubly-prefixed element name is not XML and is refused, not echoed.
        for bad in [
            &br#"<FDT-Instance Expires="1">< /></FDT-Instance>"#[..],
            br#"<FDT-Instance Expires="1"><a:b:c/></FDT-Instance>"#,
            br#"<FDT-Instance Expires="1"><1x/></FDT-Instance>"#,
            b"<FDT-Instance Expires=\"1\" a\xb3=\"1\"/>",
            b"<FDT-Instance Expires=\"1\"><a\xb3/></FDT-Instance>",
            br#"<p:FDT-Instance xmlns="urn:ietf:params:xml:ns:fdt" Expires="1"/>"#,
        ] {
            let err = FdtInstance::parse(bad).unwrap_err();
            assert_eq!(err.id, "flute.fdt.xml", "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn the_rfc3926_schema_namespace_is_reported_as_rfc3926() {
        let doc = |ns: &str| {
            format!(
                r#"<FDT-Instance xmlns="{ns}" Expires="1"><File TOI="1" Content-Location="a"/></FDT-Instance>"#
            )
        };
        let d = FdtInstance::parse(doc(NS_RFC3926_SCHEMA).as_bytes()).unwrap();
        assert_eq!(
            d.value.namespace,
            FdtNamespace::Other("http://www.example.com/flute".into())
        );
        assert_eq!(
            finding_ids(&doc(NS_RFC3926_SCHEMA)),
            [registry::flute::FDT_NAMESPACE_RFC3926.id]
        );
        // Any other URI is unknown, not RFC 3926's.
        assert_eq!(
            finding_ids(&doc("http://www.example.com/flute/")),
            [registry::flute::FDT_NAMESPACE_UNKNOWN.id]
        );
        assert_eq!(finding_ids(&doc(NS_FLUTE_V2)), Vec::<&str>::new());
    }

    /// The root plus `nested` elements, each inside the one before, closed properly.
    fn nested_instance(nested: usize) -> String {
        let mut xml = format!(
            r#"<FDT-Instance xmlns="{NS_FLUTE_V2}" Expires="1"><File TOI="1" Content-Location="a"/>"#
        );
        xml.push_str(&"<x>".repeat(nested));
        xml.push_str(&"</x>".repeat(nested));
        xml.push_str("</FDT-Instance>");
        xml
    }

    #[test]
    fn elements_nested_deeper_than_max_depth_are_refused() {
        // The root counts as one level: MAX_DEPTH - 1 nested elements are accepted.
        let d = FdtInstance::parse(nested_instance(MAX_DEPTH - 1).as_bytes()).unwrap();
        assert_eq!(d.value.child_elements, ["x"]);
        let err = FdtInstance::parse(nested_instance(MAX_DEPTH).as_bytes()).unwrap_err();
        assert_eq!(err.id, registry::flute::FDT_TOO_DEEP.id);
        assert_eq!(err.field, "xml");
    }

    /// An instance of `files` valid File entries.
    fn instance_of_files(files: usize) -> String {
        let mut xml = String::with_capacity(64 + files * 40);
        xml.push_str(&format!(
            r#"<FDT-Instance xmlns="{NS_FLUTE_V2}" Expires="1">"#
        ));
        for toi in 1..=files {
            xml.push_str(&format!(r#"<File TOI="{toi}" Content-Location="{toi}"/>"#));
        }
        xml.push_str("</FDT-Instance>");
        xml
    }

    #[test]
    fn more_than_max_files_entries_are_refused() {
        let d = FdtInstance::parse(instance_of_files(MAX_FILES).as_bytes()).unwrap();
        assert_eq!(d.value.files.len(), MAX_FILES);
        assert!(d.findings.is_empty(), "{:?}", &d.findings[..1]);
        let xml = instance_of_files(MAX_FILES + 1);
        let err = FdtInstance::parse(xml.as_bytes()).unwrap_err();
        assert_eq!(err.id, registry::flute::FDT_TOO_MANY_FILES.id);
        // Raised at the last File element, not before.
        assert_eq!(err.offset, xml.rfind("<File").unwrap());
    }
}
