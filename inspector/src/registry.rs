//! The findings registry: every finding and error ID the toolkit can raise, with its severity,
//! the rule it enforces and a one-line summary, in one table (compare the `FIELDS` registry
//! of `inspect/fields.rs`, and Suricata's one event table per parser).
//!
//! A finding is raised by naming its entry (`Finding::of(&registry::lct::VERSION_UNSUPPORTED,
//! ...)`, `WireError::of(...)`), so an ID cannot be misspelt at a raise site and its severity
//! and rule are written here only. `rmt-inspect -G findings` prints this table; the
//! conformance catalogue's IDs are checked against it; CI requires every entry to be raised
//! by at least one test (the census of `wire/census.rs`).
//!
//! Entries are grouped by the layer that raises them, in wire order; `emit` entries are the
//! errors of the emitters (a `Repr` that cannot be written), `track` entries say where a
//! bounded tracker forgot something.

use crate::wire::finding::{FindingKind, Severity};

macro_rules! registry {
    ($( $(#[$doc:meta])* $layer:ident {
        $( $name:ident = $id:literal, $severity:ident, $rule:literal, $summary:literal; )*
    } )*) => {
        $(
            $(#[$doc])*
            pub mod $layer {
                use super::{FindingKind, Severity};
                $(
                    #[doc = $summary]
                    pub static $name: FindingKind = FindingKind {
                        id: $id,
                        severity: Severity::$severity,
                        rule: $rule,
                        summary: $summary,
                    };
                )*
            }
        )*
        /// Every entry, in the table's order.
        pub static ALL: &[&FindingKind] = &[ $( $( &$layer::$name, )* )* ];
    };
}

/// The entry with this ID.
pub fn lookup(id: &str) -> Option<&'static FindingKind> {
    ALL.iter().copied().find(|k| k.id == id)
}

/// The entries an ID pattern names: an exact ID, or a prefix ending in `*` (`fcast.cid.*`).
pub fn matching(pattern: &str) -> impl Iterator<Item = &'static FindingKind> + '_ {
    ALL.iter()
        .copied()
        .filter(move |k| match pattern.strip_suffix('*') {
            Some(prefix) => k.id.starts_with(prefix),
            None => k.id == pattern,
        })
}

/// `rmt-inspect -G findings`: one line per entry, tab-separated as tshark's `-G fields`:
/// ID, severity, rule, summary.
pub fn glossary() -> String {
    ALL.iter()
        .map(|k| [k.id, k.severity.name(), k.rule, k.summary].join("\t") + "\n")
        .collect()
}

registry! {
    capture {
        DROPPED = "capture.dropped", Warning, "Linux packet(7) PACKET_STATISTICS",
            "The live capture's ring was full and the kernel dropped packets: what they carried is missing from every other finding";
    }
    frame {
        SNAP_TRUNCATED = "frame.snap_truncated", Warning, "pcap snaplen",
            "Frame was captured shorter than its original length (snaplen)";
    }
    link {
        NOT_IP = "link.not_ip", Info, "IEEE 802.3",
            "Link-layer EtherType or protocol is not IPv4 or IPv6";
        UNSUPPORTED = "link.unsupported", Error, "pcap LINKTYPE registry",
            "Capture link type is not supported";
    }
    eth {
        TRUNCATED = "eth.truncated", Error, "IEEE 802.3",
            "Ethernet header or VLAN tag cut short";
        VLAN_TOO_MANY = "eth.vlan.too_many", Error, "IEEE 802.1Q",
            "Ethernet frame has more than 4 stacked VLAN tags (dissector limit)";
    }
    sll {
        TRUNCATED = "sll.truncated", Error, "LINKTYPE_LINUX_SLL",
            "Linux cooked (SLL) header cut short";
    }
    sll2 {
        TRUNCATED = "sll2.truncated", Error, "LINKTYPE_LINUX_SLL2",
            "Linux cooked v2 (SLL2) header cut short";
    }
    ip {
        NOT_UDP = "ip.not_udp", Info, "RFC 791",
            "IP packet (not a fragment) carries a protocol other than UDP";
        TRUNCATED = "ip.truncated", Error, "RFC 791 §3.1",
            "Raw IP frame is empty: no IP header";
        VERSION_UNKNOWN = "ip.version.unknown", Error, "RFC 791 §3.1",
            "Raw IP frame's version nibble is neither 4 nor 6";
    }
    ipv4 {
        CHECKSUM_BAD = "ipv4.checksum.bad", Warning, "RFC 791 §3.1",
            "IPv4 header checksum does not verify";
        FRAGMENT = "ipv4.fragment", Info, "RFC 791 §3.1",
            "IPv4 fragment (MF set or non-zero offset); upper layers not decoded";
        IHL_TOO_SMALL = "ipv4.ihl.too_small", Error, "RFC 791 §3.1",
            "IPv4 IHL is less than 5";
        TOTAL_LENGTH_TOO_SMALL = "ipv4.total_length.too_small", Error, "RFC 791 §3.1",
            "IPv4 Total Length is smaller than the header length";
        TRUNCATED = "ipv4.truncated", Error, "RFC 791 §3.1",
            "IPv4 header, options or Total Length extend past the captured bytes";
    }
    ipv6 {
        FRAGMENT = "ipv6.fragment", Info, "RFC 8200 §4.5",
            "IPv6 Fragment header present; upper layers not decoded";
        TRUNCATED = "ipv6.truncated", Error, "RFC 8200 §3",
            "IPv6 header, payload or an extension header extends past the available bytes";
    }
    udp {
        LENGTH_TOO_SMALL = "udp.length.too_small", Error, "RFC 768",
            "UDP Length field is less than 8";
        TRUNCATED = "udp.truncated", Error, "RFC 768",
            "UDP header or its Length extends past the IP payload";
    }
    lct {
        AFTER_CLOSE_SESSION = "lct.after_close_session", Warning, "RFC 5651 §5.1",
            "Data packet after close-session (with A=0, or over 10 s after the first A=1)";
        CLOSE_OBJECT_REVERTED = "lct.close_object.reverted", Warning, "RFC 5651 §5.1",
            "B=0 packet for a TOI after a B=1 (close-object) packet for it";
        CLOSE_SESSION_REVERTED = "lct.close_session.reverted", Warning, "RFC 5651 §5.1",
            "A=0 packet after an A=1 (close-session) packet in the session";
        EXT_HEL_ZERO = "lct.ext.hel_zero", Error, "RFC 5651 §5.2",
            "Header extension has HEL=0";
        EXT_OVERRUN = "lct.ext.overrun", Error, "RFC 5651 §5.2",
            "Header extension's HEL runs past the end of the LCT header (HDR_LEN)";
        EXT_AUTH_RESERVED_SET = "lct.ext_auth.reserved_set", Warning, "RFC 6584 §3.1",
            "EXT_AUTH reserved bits are not zero";
        EXT_AUTH_SN_NONZERO = "lct.ext_auth.sn_nonzero", Warning, "RFC 6584 §3.1",
            "EXT_AUTH with AR=0 has a nonzero 8-bit sequence number";
        EXT_AUTH_TOO_SHORT = "lct.ext_auth.too_short", Warning, "RFC 6584 §3.1",
            "EXT_AUTH is too short for the sequence number its AR flag announces";
        EXT_TIME_EXTRA_VALUES = "lct.ext_time.extra_values", Info, "RFC 5651 §5.2.2",
            "EXT_TIME carries more values than its Use field announces";
        EXT_TIME_HEL_TOO_SMALL = "lct.ext_time.hel_too_small", Error, "RFC 5651 §5.2.2",
            "EXT_TIME HEL too small for the times its flags announce";
        EXT_TIME_RESERVED_SET = "lct.ext_time.reserved_set", Warning, "RFC 5651 §5.2.2",
            "EXT_TIME LCT-reserved Use bits are not zero";
        EXT_TIME_SCT_LOW_WITHOUT_HIGH = "lct.ext_time.sct_low_without_high", Error, "RFC 5651 §5.2.2",
            "EXT_TIME has SCT-Low without SCT-High";
        HDR_LEN_EXCEEDS_DATAGRAM = "lct.hdr_len.exceeds_datagram", Error, "RFC 5651 §5.1",
            "HDR_LEN is larger than the datagram";
        HDR_LEN_TOO_SMALL = "lct.hdr_len.too_small", Error, "RFC 5651 §5.1",
            "HDR_LEN is smaller than the fixed header (word 0, CCI, TSI, TOI)";
        RESERVED_NONZERO = "lct.reserved.nonzero", Warning, "RFC 5651 §5.1",
            "LCT header reserved bits are not zero";
        TOI_PRESENCE_MIXED = "lct.toi.presence_mixed", Error, "RFC 5651 §5.1",
            "Packet without a TOI in a session whose earlier packets had one";
        TOI_WIDTH_CHANGED = "lct.toi.width_changed", Info, "RFC 6968 §3.6",
            "TOI field width differs from earlier packets of the session";
        TRUNCATED = "lct.truncated", Error, "RFC 5651 §5.1",
            "Datagram ends inside the LCT fixed header (word 0, CCI, TSI or TOI)";
        TSI_MULTIPLE_SENDERS = "lct.tsi.multiple_senders", Warning, "RFC 5651 §5.1",
            "Same TSI sent to one destination address and port by several senders";
        VERSION_UNSUPPORTED = "lct.version.unsupported", Error, "RFC 5651 §5.1",
            "LCT version field is not 1";
    }
    alc {
        CCI_LENGTH_CHANGED = "alc.cci.length_changed", Error, "RFC 5775 §2.2",
            "CCI length (LCT C field) differs from the session's first packet";
        CP_CHANGED_WITHIN_OBJECT = "alc.cp.changed_within_object", Error, "RFC 5052 §6.1",
            "Codepoint changes between packets of the same TOI";
        IP_FRAGMENTED = "alc.ip.fragmented", Warning, "RFC 3738 §3.1.1",
            "IP fragments seen between the session's sender and one of its channels";
        OTI_CHANGED_WITHIN_OBJECT = "alc.oti.changed_within_object", Error, "RFC 6726 §3.3",
            "EXT_FTI OTI differs from the first EXT_FTI of the same object";
        SPI_SET = "alc.spi.set", Warning, "RFC 5775 §2.1",
            "SPI bit set, but the FEC scheme has only one FEC Payload ID format";
        SYMBOL_EMPTY = "alc.symbol.empty", Warning, "RFC 5052 §6",
            "FEC Payload ID is followed by no encoding symbol";
        TSI_ABSENT = "alc.tsi.absent", Error, "RFC 5775 §4.1",
            "LCT header has no TSI field (S=0 and H=0)";
    }
    fec {
        ENCODING_ID_UNKNOWN = "fec.encoding_id.unknown", Warning, "RFC 5052 §6.1",
            "FEC Encoding ID has no known EXT_FTI or FEC Payload ID layout";
        ESI_OUT_OF_RANGE = "fec.esi.out_of_range", Error, "RFC 5445 §3.4.2, RFC 5170 §5.5",
            "ESI beyond the block's symbols (>= k for No-Code, >= n for LDPC)";
        OTI_B_EXCEEDS_MAX_N = "fec.oti.b_exceeds_max_n", Error, "RFC 5510 §4.2.2",
            "OTI maximum source block length B exceeds max_n (Reed-Solomon, LDPC)";
        OTI_LDPC_G_INVALID = "fec.oti.ldpc.g_invalid", Error, "RFC 5170 §4.2.3",
            "LDPC OTI has G=0 (symbols per packet must be 1..31)";
        OTI_LDPC_SEED_INVALID = "fec.oti.ldpc.seed_invalid", Error, "RFC 5170 §4.2.3",
            "LDPC OTI PRNG seed is 0 or above 2^31-2";
        OTI_MAX_N_TOO_LARGE = "fec.oti.max_n.too_large", Error, "RFC 5510 §6.2",
            "Reed-Solomon OTI max_n exceeds 2^m-1";
        OTI_NOT_EXT_FTI = "fec.oti.not_ext_fti", Error, "RFC 5775 §4.2",
            "Extension parsed as EXT_FTI has a HET other than 64";
        OTI_RAPTORQ_FTI_UNSPECIFIED = "fec.oti.raptorq.fti_unspecified", Warning, "RFC 6330 §3.3",
            "RaptorQ EXT_FTI has a HEL other than the customary 4";
        OTI_RESERVED_NONZERO = "fec.oti.reserved_nonzero", Warning, "RFC 5445 §3.2.2.2",
            "Reserved field of a Compact No-Code or RaptorQ OTI is not zero";
        OTI_RS_M_INVALID = "fec.oti.rs.m_invalid", Error, "RFC 5510 §4.2.3",
            "Reed-Solomon OTI field size m is outside 2..16";
        OTI_SCHEME_SPECIFIC_PADDING_NONZERO = "fec.oti.scheme_specific.padding_nonzero", Warning, "RFC 5445 §4.2.2.3",
            "Scheme-specific OTI with Length 0 is followed by nonzero octets";
        OTI_SOURCE_BLOCKS_ZERO = "fec.oti.source_blocks_zero", Error, "RFC 5053 §5.3.1.2, RFC 6330 §4.4.1.2",
            "Raptor/RaptorQ OTI gives zero source blocks (Z=0)";
        OTI_SYMBOL_SIZE_NOT_ALIGNED = "fec.oti.symbol_size.not_aligned", Error, "RFC 5053 §3.2.1, RFC 6330 §3.3.2",
            "Raptor/RaptorQ symbol size T is not a multiple of the alignment Al (or Al=0)";
        OTI_SYMBOL_SIZE_ZERO = "fec.oti.symbol_size_zero", Error, "RFC 5053 §5.3.1.2, RFC 6330 §4.4.1.2",
            "Raptor/RaptorQ OTI gives symbol size T=0";
        OTI_TOO_MANY_SOURCE_SYMBOLS = "fec.oti.too_many_source_symbols", Error, "RFC 5053 §5.3.1.2, RFC 6330 §4.4.1.2",
            "Raptor/RaptorQ OTI puts more source symbols in a block than the scheme allows";
        OTI_TRAILING_NONZERO = "fec.oti.trailing_nonzero", Warning, "RFC 5775 §4.2",
            "EXT_FTI octets after the OTI are not zero padding";
        OTI_TRANSFER_LENGTH_TOO_LARGE = "fec.oti.transfer_length.too_large", Error, "RFC 5053 §3.2.1",
            "Transfer length exceeds the Raptor (2^45) or RaptorQ maximum";
        OTI_TRUNCATED = "fec.oti.truncated", Error, "RFC 5775 §4.2",
            "EXT_FTI is too short for the FEC scheme's OTI, or its HEL is 0 or overruns";
        PAYLOAD_ID_TRUNCATED = "fec.payload_id.truncated", Error, "RFC 5052 §9.1",
            "FEC Payload ID cut short";
        RS_M_INVALID = "fec.rs.m_invalid", Error, "RFC 5510 §4.2.3",
            "Reed-Solomon field size m is outside 2..16, so the FEC Payload ID is unreadable";
        SBN_OUT_OF_RANGE = "fec.sbn.out_of_range", Error, "RFC 5052 §9.1",
            "SBN is past the last source block the OTI gives for the object";
        SYMBOL_INVALID = "fec.symbol.invalid", Error, "RFC 5052 §9.1",
            "Decoder rejects a symbol whose length does not match the symbol length";
        SYMBOL_LENGTH_MISMATCH = "fec.symbol.length_mismatch", Error, "RFC 5445 §3.4.2",
            "Symbol bytes are not a multiple of E, and the packet does not end the object";
    }
    flute {
        CENC_INFLATE_FAILED = "flute.cenc.inflate_failed", Error, "RFC 6726 §3.4.3",
            "FDT Instance payload (EXT_CENC) does not inflate";
        CENC_TOO_LARGE = "flute.cenc.too_large", Error, "RFC 6726 §3.4.3",
            "FDT Instance payload inflates past the inspector cap";
        EXT_CENC_RESERVED_NONZERO = "flute.ext_cenc.reserved_nonzero", Warning, "RFC 6726 §3.4.3",
            "EXT_CENC Reserved field is not zero";
        EXT_CENC_UNKNOWN = "flute.ext_cenc.unknown", Error, "RFC 6726 §8.4",
            "CENC value is not a registered content encoding (0-3)";
        EXT_CENC_WITHOUT_EXT_FDT = "flute.ext_cenc.without_ext_fdt", Error, "RFC 6726 §3.4.3",
            "EXT_CENC present in a packet without EXT_FDT";
        EXT_FDT_VERSION_UNSUPPORTED = "flute.ext_fdt.version.unsupported", Error, "RFC 6726 §3.4.1",
            "EXT_FDT version is neither 2 (RFC 6726) nor 1 (RFC 3926)";
        EXT_FDT_VERSION1 = "flute.ext_fdt.version1", Warning, "RFC 6726 §3.4.1",
            "EXT_FDT version is 1 (RFC 3926 FLUTE), not 2";
        FDT_ATTRIBUTE_INVALID = "flute.fdt.attribute.invalid", Error, "RFC 6726 §3.4.2",
            "FDT attribute value is not a valid number, base64 string or boolean";
        FDT_ATTRIBUTE_NONSTANDARD = "flute.fdt.attribute.nonstandard", Warning, "RFC 6726 §3.4.2",
            "FDT uses FEC-OTI-Transfer-Length, not the schema's Transfer-Length";
        FDT_CONTENT_MD5_LENGTH = "flute.fdt.content_md5.length", Error, "RFC 1864",
            "FDT Content-MD5 does not decode to 16 bytes";
        FDT_EXPIRED_WHEN_SENT = "flute.fdt.expired_when_sent", Error, "RFC 6726 §3.3",
            "FDT Instance is first sent after its Expires time";
        FDT_EXPIRES_INVALID = "flute.fdt.expires.invalid", Error, "RFC 6726 §3.3",
            "FDT Expires is not a 32-bit NTP seconds value";
        FDT_EXPIRES_MISSING = "flute.fdt.expires.missing", Error, "RFC 6726 §3.4.2",
            "FDT-Instance has no Expires attribute";
        FDT_FILE_CONTENT_LOCATION_MISSING = "flute.fdt.file.content_location_missing", Error, "RFC 6726 §3.4.2",
            "FDT File entry has no Content-Location";
        FDT_FILE_TOI_MISSING = "flute.fdt.file.toi_missing", Error, "RFC 6726 §3.4.2",
            "FDT File entry has no TOI, or one that is not a number";
        FDT_FILE_TOI_TOO_LARGE = "flute.fdt.file.toi_too_large", Error, "RFC 5651 §5.1",
            "FDT File TOI is wider than 112 bits";
        FDT_FILE_TOI_ZERO = "flute.fdt.file.toi_zero", Error, "RFC 6726 §3.3",
            "FDT File entry has TOI 0, which is reserved for FDT Instances";
        FDT_INSTANCE_ID_REUSED = "flute.fdt.instance_id.reused", Error, "RFC 6726 §3.4.1",
            "TOI 0 packets with the same FDT Instance ID carry different EXT_FTI OTI";
        FDT_INSTANCE_ID_WITH_FULLY_SPECIFIED = "flute.fdt.instance_id_with_fully_specified", Warning, "RFC 5052 §6.2.4",
            "FEC Instance ID given for a Fully-Specified FEC Encoding ID (0-127)";
        FDT_NAMESPACE_3GPP2022 = "flute.fdt.namespace.3gpp2022", Info, "3GPP TS 26.346 §L.6.1",
            "FDT uses the 3GPP namespace urn:3GPP:metadata:2022:FLUTE:FDT";
        FDT_NAMESPACE_MISSING = "flute.fdt.namespace.missing", Warning, "RFC 6726 §3.4.2",
            "FDT-Instance has no XML namespace";
        FDT_NAMESPACE_RFC3926 = "flute.fdt.namespace.rfc3926", Info, "RFC 3926 §3.4.2",
            "FDT uses RFC 3926's schema namespace http://www.example.com/flute";
        FDT_NAMESPACE_UNKNOWN = "flute.fdt.namespace.unknown", Warning, "RFC 6726 §3.4.2",
            "FDT-Instance namespace is not one of the known FDT namespaces";
        FDT_NAMESPACE_V1 = "flute.fdt.namespace.v1", Info, "3GPP TS 26.346 §7.2.10.1",
            "FDT uses the 3GPP namespace urn:IETF:metadata:2005:FLUTE:FDT";
        FDT_NO_FILE = "flute.fdt.no_file", Error, "RFC 6726 §3.4.2",
            "FDT-Instance contains no File element";
        FDT_PARAMETERS_CHANGED = "flute.fdt.parameters_changed", Error, "RFC 6726 §3.3",
            "FDT Instance redescribes an unexpired TOI with different parameters";
        FDT_ROOT = "flute.fdt.root", Error, "RFC 6726 §3.4.2",
            "FDT root element is not FDT-Instance, or there is no root element";
        FDT_TOI_DUPLICATE = "flute.fdt.toi_duplicate", Error, "RFC 6726 §3.4.2",
            "Same TOI is described twice in one FDT Instance";
        FDT_TOO_DEEP = "flute.fdt.too_deep", Error, "RFC 6726 §3.4.2",
            "FDT XML elements nest deeper than 32 levels (inspector limit)";
        FDT_TOO_MANY_FILES = "flute.fdt.too_many_files", Error, "RFC 6726 §3.4.2",
            "FDT Instance has more than 65536 File entries (inspector limit)";
        FDT_XML = "flute.fdt.xml", Error, "RFC 6726 §3.4.2",
            "FDT Instance is not well-formed XML";
        OTI_FTI_FDT_MISMATCH = "flute.oti.fti_fdt_mismatch", Error, "RFC 6726 §5",
            "EXT_FTI and the FDT entry give different FEC OTI for a TOI";
        TOI_NO_FDT_ENTRY = "flute.toi.no_fdt_entry", Error, "RFC 6726 §3.3",
            "TOI carries packets in a FLUTE session but no FDT Instance describes it";
        TOI0_WITHOUT_EXT_FDT = "flute.toi0.without_ext_fdt", Error, "RFC 6726 §3.3",
            "TOI 0 packet without EXT_FDT in a session that uses FDT Instances";
    }
    fcast {
        CHECKSUM_BAD = "fcast.checksum.bad", Error, "RFC 6968 §2.1",
            "FCAST checksum does not match the header (G=0) or the whole object (G=1)";
        CID_CIID_DECREASED = "fcast.cid.ciid.decreased", Warning, "RFC 6968 §2.2",
            "CID's Fcast-CID-ID is lower than the previous CID's";
        CID_CIID_MISSING = "fcast.cid.ciid.missing", Error, "RFC 6968 §2.2",
            "CIDs without Fcast-CID-ID list different objects";
        CID_COMPLETE_INVALID = "fcast.cid.complete.invalid", Error, "RFC 6968 §2.2",
            "Fcast-CID-Complete is neither 0 nor 1";
        CID_EMPTY_SAME_CIID = "fcast.cid.empty.same_ciid", Error, "RFC 6968 §3.5",
            "CID with an empty Object List keeps the previous CID's CIID";
        CID_EMPTY_LIST_PADDED = "fcast.cid.empty_list_padded", Error, "RFC 6968 §2.2",
            "CID with an empty Object List has padding after the FCAST header";
        CID_EQUIVALENCE_NOT_LAST = "fcast.cid.equivalence.not_last", Error, "RFC 6968 §2.2",
            "CID Object List has a TOI or interval after a TOI equivalence";
        CID_EQUIVALENCE_ORDER = "fcast.cid.equivalence.order", Error, "RFC 6968 §2.2",
            "CID TOI equivalences are not in increasing newTOI order, or repeat";
        CID_ID_INVALID = "fcast.cid.id.invalid", Error, "RFC 6968 §2.2",
            "Fcast-CID-ID is not a number";
        CID_INFLATE_FAILED = "fcast.cid.inflate_failed", Error, "RFC 6968 §2.2",
            "CID object list (Content-Encoding gzip) does not inflate";
        CID_INTERVAL_NOT_INCREASING = "fcast.cid.interval.not_increasing", Error, "RFC 6968 §2.2",
            "CID interval a-b whose first TOI is not less than its second";
        CID_NUMBER_TOO_LARGE = "fcast.cid.number.too_large", Error, "RFC 6968 §2.2",
            "CID number is wider than 112 bits (TOI) or 64 bits (CIID)";
        CID_ORDER = "fcast.cid.order", Error, "RFC 6968 §2.2",
            "CID TOIs do not increase: a repeat, or a decrease that is not one wrap";
        CID_SYNTAX = "fcast.cid.syntax", Error, "RFC 6968 §2.2",
            "CID Object List does not follow the list syntax";
        CID_TOI_UNSEEN = "fcast.cid.toi_unseen", Warning, "RFC 6968 §3.5",
            "CID lists TOIs that have no packet in the capture";
        CID_TOO_LARGE = "fcast.cid.too_large", Error, "RFC 6968 §2.2",
            "CID object list inflates past the inspector cap";
        CID_TOO_MANY_ELEMENTS = "fcast.cid.too_many_elements", Error, "RFC 6968 §2.2",
            "CID Object List has more than 2^20 elements (inspector limit)";
        CONTENT_ENCODING_UNSUPPORTED = "fcast.content_encoding.unsupported", Warning, "RFC 6968 §3.3",
            "CID Content-Encoding is not gzip, so its Object List is not decoded";
        CONTENT_LENGTH_MISMATCH = "fcast.content_length.mismatch", Error, "RFC 6968 §3.3",
            "Content-Length differs from the Object Data size (no Content-Encoding)";
        HEADER_LENGTH_TOO_SMALL = "fcast.header_length.too_small", Error, "RFC 6968 §2.1",
            "FCAST Header Length is less than 8";
        MDENC_UNKNOWN = "fcast.mdenc.unknown", Error, "RFC 6968 §7",
            "FCAST MDEnc is neither 0 (plain) nor 1 (gzip)";
        MDFMT_UNKNOWN = "fcast.mdfmt.unknown", Warning, "RFC 6968 §7",
            "FCAST MDFmt is not 0 (HTTP/1.1 metainformation); metadata not decoded";
        METADATA_CONTENT_LENGTH_INVALID = "fcast.metadata.content_length.invalid", Error, "RFC 6968 §3.3",
            "FCAST Content-Length metadata value is not a number";
        METADATA_INFLATE_FAILED = "fcast.metadata.inflate_failed", Error, "RFC 6968 §2.1",
            "FCAST metadata (MDENC gzip) does not inflate";
        METADATA_LINE_ENDING = "fcast.metadata.line_ending", Warning, "RFC 6968 §2.1",
            "FCAST metadata line is not terminated by CR-LF, or contains a bare LF";
        METADATA_LINE_INVALID = "fcast.metadata.line_invalid", Error, "RFC 6968 §2.1",
            "FCAST metadata line is not of the form TYPE: VALUE";
        METADATA_NOT_UTF8 = "fcast.metadata.not_utf8", Error, "RFC 6968 §2.1",
            "FCAST metadata (after MDEnc decoding) is not valid UTF-8";
        METADATA_TOO_LARGE = "fcast.metadata.too_large", Error, "RFC 6968 §2.1",
            "FCAST metadata inflates past the inspector cap";
        PADDING_NONZERO = "fcast.padding.nonzero", Warning, "RFC 6968 §2.1",
            "Padding between the FCAST header and the Object Data is not zero";
        PADDING_TRUNCATED = "fcast.padding.truncated", Error, "RFC 6968 §2.1",
            "Object ends inside the padding required after the FCAST header";
        RESERVED_NONZERO = "fcast.reserved.nonzero", Warning, "RFC 6968 §2.1",
            "FCAST header Reserved bits are not zero";
        TOI_WINDOW_EXCEEDED = "fcast.toi.window_exceeded", Error, "RFC 6968 §3.6",
            "TOIs in use span more than half the TOI space";
        TRUNCATED = "fcast.truncated", Error, "RFC 6968 §2.1",
            "Object is shorter than the 8-byte FCAST header or its Header Length";
        VERSION_UNSUPPORTED = "fcast.version.unsupported", Error, "RFC 6968 §2.1",
            "FCAST Version field is not 0";
    }
    webrc {
        BASE_PACKETS_PER_SLOT = "webrc.base.packets_per_slot", Error, "RFC 3738 §3.1.2",
            "Base channel sends a different packet count in a slot than in most slots";
        BASE_PSN_ALIGNMENT = "webrc.base.psn_alignment", Error, "RFC 3738 §3.1.2",
            "Base channel starts a slot with a PSN that is not a multiple of L";
        CCI_LENGTH_INVALID = "webrc.cci.length_invalid", Error, "RFC 3738 §5",
            "CCI is neither 32 nor 64 bits (LCT C not 0 or 1), so WEBRC cannot be decoded";
        CCI_TRUNCATED = "webrc.cci.truncated", Error, "RFC 3738 §5.1",
            "WEBRC CCI field shorter than its form";
        CTSI_NOT_CONSECUTIVE = "webrc.ctsi.not_consecutive", Error, "RFC 3738 §3.1.2",
            "CTSI changes by other than +1 mod T";
        PSN_NOT_CONSECUTIVE = "webrc.psn.not_consecutive", Warning, "RFC 3738 §3.1.2",
            "Channel's PSN is not the previous PSN plus one (or packets missing)";
        TSD_IRREGULAR = "webrc.tsd.irregular", Warning, "RFC 3738 §3.1.2",
            "Time slot length differs from the median slot length by over 10%";
        WAVE_LAST_PSN = "webrc.wave.last_psn", Error, "RFC 3738 §3.1.2",
            "Wave's last packet in its final slot does not carry the largest PSN";
        WAVE_RATE_NOT_DECAYING = "webrc.wave.rate_not_decaying", Warning, "RFC 3738 §3.1.2",
            "Wave's packet count rises from one slot to the next";
        WAVE_SENT_WHEN_QUIESCENT = "webrc.wave.sent_when_quiescent", Error, "RFC 3738 §3.1.2",
            "Wave channel sends in the slot after its last one (quiescent period)";
    }
    /// ROUTE (ATSC A/331 Annex A, RFC 9223): raised on sessions read with a ROUTE profile.
    route {
        CLOSE_OBJECT_RESENT = "route.close_object.resent", Info, "A/331 §A.3.6, RFC 5651 §5.1",
            "A TOI is sent again after a packet with B=1 (a carousel repeat: no text forbids it)";
        CODEPOINT_NOT_IN_STSID = "route.codepoint.not_in_stsid", Warning, "A/331 Table A.3.6",
            "A source packet's codepoint is neither a fixed one (1-9) nor one its S-TSID declares for the TSI";
        EXT_PRESENTATION_TIME_MALFORMED = "route.ext_presentation_time.malformed", Error, "A/331 §A.3.7.1",
            "EXT_ROUTE_PRESENTATION_TIME (HET 66) whose HEL is not 3 (a 64-bit NTP time)";
        PRESENTATION_TIME_WITHOUT_EXT_TIME = "route.presentation_time.without_ext_time", Warning, "A/331 §A.3.7.2",
            "EXT_ROUTE_PRESENTATION_TIME without the EXT_TIME (SCT-High and SCT-Low) it shall come with";
        EXT_TOL_MALFORMED = "route.ext_tol.malformed", Error, "A/331 §A.3.8.1",
            "EXT_TOL (HET 67) whose HEL is not 2 (a 48-bit transfer length)";
        START_OFFSET_PAST_LENGTH = "route.start_offset.past_length", Error, "A/331 §A.3.5.1, §A.3.3.2.7",
            "A source packet's bytes end past its object's transfer length";
        TOL_CHANGED = "route.tol.changed", Error, "A/331 §A.3.8.1, §A.3.3.2.7",
            "An object's transfer length (EXT_TOL or EXT_FTI) differs between its packets";
        TSI_NOT_IN_STSID = "route.tsi.not_in_stsid", Warning, "A/331 Table 7.4",
            "A TSI other than 0 on a ROUTE session whose S-TSID does not list it";
    }
    /// ATSC 3.0 Low Level Signalling (A/331 §6), on 224.0.23.60:4937.
    lls {
        TABLE_UNDECODABLE = "lls.table.undecodable", Warning, "A/331 §6.1",
            "An LLS table that is too short or whose gzip XML does not inflate or parse";
    }
    object {
        CONTENT_ENCODING_INFLATE_FAILED = "object.content_encoding.inflate_failed", Error, "RFC 6726 §3.4.2",
            "Content-Encoding gzip or deflate data of a delivered object does not inflate";
        CONTENT_ENCODING_TOO_LARGE = "object.content_encoding.too_large", Error, "RFC 6726 §3.4.2",
            "A delivered object inflates past the receiver's cap";
    }
    track {
        BUFFER_CAP = "track.buffer.cap", Warning, "rmtkit limit",
            "Symbols of an object dropped at the per-object buffer cap";
        OBJECTS_CAP = "track.objects.cap", Warning, "rmtkit limit",
            "Objects in flight exceed the tracker cap; the oldest is dropped";
        OBJECTS_DONE_CAP = "track.objects.done.cap", Info, "rmtkit limit",
            "Completed objects forgotten past the tracker cap";
        OBJECTS_RECORDS_CAP = "track.objects.records.cap", Info, "rmtkit limit",
            "Object records for -z objects kept only for the newest objects";
        TOI_HISTORY_CAP = "track.toi_history.cap", Info, "rmtkit limit",
            "Reused-TOI history forgotten past the tracker cap";
    }
    emit {
        LENGTH_MISMATCH = "emit.length_mismatch", Error, "RFC 5651 §5.1",
            "A Repr field disagrees with the length or scheme it must be emitted with";
        VALUE_TOO_LARGE = "emit.value_too_large", Error, "RFC 5651 §5.1",
            "A Repr value does not fit its field width on emit";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_lowercase_and_prefixed_by_their_layer() {
        let mut seen = std::collections::HashSet::new();
        for k in ALL {
            assert!(seen.insert(k.id), "{} is registered twice", k.id);
            assert!(
                k.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b)),
                "{} is not a lowercase dotted ID",
                k.id
            );
            assert!(!k.summary.is_empty() && !k.rule.is_empty(), "{}", k.id);
            // A packet comment ends the rule at its first ": " (`capture::writer::finding_comment`).
            assert!(!k.rule.contains(':'), "{}: a rule has no colon", k.id);
        }
        assert_eq!(
            lookup("lct.version.unsupported").map(|k| k.severity),
            Some(Severity::Error)
        );
        assert!(lookup("lct.version").is_none());
        assert!(matching("fcast.cid.*").count() > 5);
        assert_eq!(matching("no.such.*").count(), 0);
    }
}
