//! The FLUTE flavours deployed systems speak: RFC 6726 (FLUTE version 2), RFC 3926 (version 1,
//! still what most deployed receivers implement), 3GPP TS 26.346 MBMS (version 1 with the
//! 2005 FDT namespace and 3GPP's extension namespaces) and TS 26.346 Annex L (the consolidated
//! 2022 FDT namespace). They differ on the wire in the EXT_FDT version (RFC 6726 §3.4.1,
//! RFC 3926 §3.4.1), the FDT-Instance's namespace, and the header extensions a sender adds
//! (EXT_TIME, HET 2, exists only since RFC 5651; RFC 3926 builds on RFC 3451, which has none).
//!
//! Senders use [`FluteFlavor`] to speak a flavour; the inspector uses [`FluteFlavor::identify`]
//! to say which one a session spoke.

use serde::Serialize;

use super::fdt::FdtNamespace;

/// The 3GPP TS 26.346 §7.2.10.1 FDT namespace (as rt-libflute's sources cite it; it appears
/// nowhere in RFC 3926).
pub const NS_3GPP_2005: &str = "urn:IETF:metadata:2005:FLUTE:FDT";
/// The 3GPP TS 26.346 Annex L (§L.6.1) consolidated FDT namespace.
pub const NS_3GPP_2022: &str = "urn:3GPP:metadata:2022:FLUTE:FDT";
/// The URI RFC 3926's schema (§3.4.2) declares (`targetNamespace:xs`, a placeholder), which
/// rt-libflute accepts as RFC 3926's; RFC 3926's own example (Appendix B) uses no namespace.
pub const NS_RFC3926_SCHEMA: &str = "http://www.example.com/flute";
/// 3GPP TS 26.346 §7.2.10.2 extension namespaces, declared by 3GPP senders.
pub const NS_MBMS_2007: &str = "urn:3GPP:metadata:2007:MBMS:FLUTE:FDT";
pub const NS_MBMS_2012: &str = "urn:3GPP:metadata:2012:MBMS:FLUTE:FDT";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize, Default,
)]
#[serde(try_from = "String", into = "&'static str")]
pub enum FluteFlavor {
    /// RFC 6726: EXT_FDT V=2, `urn:ietf:params:xml:ns:fdt`; our sender adds EXT_TIME
    /// (optional in RFC 5651).
    #[default]
    Rfc6726,
    /// RFC 3926: EXT_FDT V=1, the FDT-Instance without a namespace as in RFC 3926 Appendix B,
    /// no EXT_TIME.
    Rfc3926,
    /// 3GPP TS 26.346 (MBMS, 5G Broadcast): EXT_FDT V=1, `urn:IETF:metadata:2005:FLUTE:FDT`,
    /// the mbms2007/mbms2012 namespaces declared and the FEC OTI given once for the instance.
    Ts26346,
    /// 3GPP TS 26.346 Annex L: the consolidated `urn:3GPP:metadata:2022:FLUTE:FDT`, carried by
    /// FLUTE version 2 (EXT_FDT V=2).
    Ts26346AnnexL,
}

impl FluteFlavor {
    pub const ALL: [FluteFlavor; 4] = [
        FluteFlavor::Rfc6726,
        FluteFlavor::Rfc3926,
        FluteFlavor::Ts26346,
        FluteFlavor::Ts26346AnnexL,
    ];

    /// The name on command lines and in profiles.
    pub fn name(self) -> &'static str {
        match self {
            FluteFlavor::Rfc6726 => "rfc6726",
            FluteFlavor::Rfc3926 => "rfc3926",
            FluteFlavor::Ts26346 => "3gpp",
            FluteFlavor::Ts26346AnnexL => "3gpp-2022",
        }
    }

    /// What it is, for tables.
    pub fn title(self) -> &'static str {
        match self {
            FluteFlavor::Rfc6726 => "FLUTE v2 (RFC 6726)",
            FluteFlavor::Rfc3926 => "FLUTE v1 (RFC 3926)",
            FluteFlavor::Ts26346 => "3GPP TS 26.346 (FLUTE v1)",
            FluteFlavor::Ts26346AnnexL => "3GPP TS 26.346 Annex L",
        }
    }

    /// The EXT_FDT V field the flavour sends.
    pub fn ext_fdt_version(self) -> u8 {
        match self {
            FluteFlavor::Rfc6726 | FluteFlavor::Ts26346AnnexL => 2,
            FluteFlavor::Rfc3926 | FluteFlavor::Ts26346 => 1,
        }
    }

    /// The FDT-Instance's default namespace.
    pub fn fdt_namespace(self) -> FdtNamespace {
        match self {
            FluteFlavor::Rfc6726 => FdtNamespace::FluteV2,
            FluteFlavor::Rfc3926 => FdtNamespace::None,
            FluteFlavor::Ts26346 => FdtNamespace::FluteV1,
            FluteFlavor::Ts26346AnnexL => FdtNamespace::ThreeGpp2022,
        }
    }

    /// Whether the flavour's LCT knows EXT_TIME (RFC 5651 §5.2.2; RFC 3451 had no HET 2).
    pub fn has_ext_time(self) -> bool {
        self.ext_fdt_version() == 2
    }

    /// Whether the flavour declares 3GPP's extension namespaces and gives the FEC OTI once,
    /// on the FDT-Instance (TS 26.346 §7.2.10).
    pub fn is_3gpp(self) -> bool {
        matches!(self, FluteFlavor::Ts26346 | FluteFlavor::Ts26346AnnexL)
    }

    /// The flavour a session spoke, from its EXT_FDT version and its FDT-Instance's namespace.
    /// The namespace names the flavour; where it does not (none, RFC 3926's schema URI,
    /// another), the version does. `None` when nothing tells (no FDT seen) or when the version
    /// is not the flavour's (V=1 with RFC 6726's namespace, V=0 or V=3): such a sender speaks no
    /// flavour and is judged by RFC 6726.
    pub fn identify(
        ext_fdt_version: Option<u8>,
        namespace: Option<&FdtNamespace>,
    ) -> Option<FluteFlavor> {
        let flavor = match (namespace, ext_fdt_version) {
            (Some(FdtNamespace::ThreeGpp2022), _) => FluteFlavor::Ts26346AnnexL,
            (Some(FdtNamespace::FluteV2), _) => FluteFlavor::Rfc6726,
            // An RFC 6726 sender that kept 3GPP's older namespace (the flute crate).
            (Some(FdtNamespace::FluteV1), Some(2)) => FluteFlavor::Rfc6726,
            (Some(FdtNamespace::FluteV1), _) => FluteFlavor::Ts26346,
            (_, Some(2)) => FluteFlavor::Rfc6726,
            (_, Some(1)) | (Some(_), None) => FluteFlavor::Rfc3926,
            // No namespace names a flavour and no version does: V=0, V=3..15, or nothing seen.
            (_, _) => return None,
        };
        ext_fdt_version
            .is_none_or(|v| v == flavor.ext_fdt_version())
            .then_some(flavor)
    }
}

impl TryFrom<String> for FluteFlavor {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<FluteFlavor> for &'static str {
    fn from(f: FluteFlavor) -> &'static str {
        f.name()
    }
}

impl std::fmt::Display for FluteFlavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for FluteFlavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FluteFlavor::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FluteFlavor::ALL.iter().map(|f| f.name()).collect();
                format!("unknown FLUTE flavour {s:?} (one of {})", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flavour_is_identified_from_what_it_sends() {
        for f in FluteFlavor::ALL {
            assert_eq!(f.name().parse::<FluteFlavor>(), Ok(f));
            let got = FluteFlavor::identify(Some(f.ext_fdt_version()), Some(&f.fdt_namespace()));
            assert_eq!(got, Some(f), "{f}");
        }
        // rt-libflute's RFC 3926 form (the schema's target namespace) and MCLv3's (none).
        let rfc3926 = FdtNamespace::Other(NS_RFC3926_SCHEMA.into());
        assert_eq!(
            FluteFlavor::identify(Some(1), Some(&rfc3926)),
            Some(FluteFlavor::Rfc3926)
        );
        // The flute crate: V=2 with the 2005 namespace is an RFC 6726 sender with an old FDT.
        assert_eq!(
            FluteFlavor::identify(Some(2), Some(&FdtNamespace::FluteV1)),
            Some(FluteFlavor::Rfc6726)
        );
        assert_eq!(FluteFlavor::identify(None, None), None);
        // A flavour's version is its own: no flavour has EXT_FDT V=0 or V=3, and RFC 6726's or
        // Annex L's namespace with V=1 is no flavour either (so nothing is excused as v1).
        for v in [0, 3, 15] {
            assert_eq!(
                FluteFlavor::identify(Some(v), Some(&FdtNamespace::None)),
                None
            );
        }
        for ns in [FdtNamespace::FluteV2, FdtNamespace::ThreeGpp2022] {
            assert_eq!(FluteFlavor::identify(Some(1), Some(&ns)), None);
        }
        assert!("flute-v3".parse::<FluteFlavor>().is_err());
    }
}
