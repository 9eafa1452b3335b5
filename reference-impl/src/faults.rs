//! Fault injection for the reference sender, in the spirit of a bug-injectable peer: each knob
//! breaks one rule on purpose so that a receiver under test (or `rmt-inspect`) can be judged on
//! how it copes. Every random choice comes from `seed`.

use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub seed: u64,
    /// Probability that a packet is lost (it is still paced, as if sent).
    pub loss: f64,
    /// Probability that a packet is sent twice.
    pub duplicate: f64,
    /// Probability that a packet is held back and sent after the next one.
    pub reorder: f64,
    /// Probability that a data packet's HDR_LEN is one word too small (RFC 5651 §5.1).
    pub wrong_hdr_len: f64,
    /// Odd-numbered packets of the first file give another transfer length in EXT_FTI
    /// (RFC 6726 §5: the OTI of a TOI does not change).
    pub changing_oti: bool,
    /// The second file is sent under the first file's TOI (RFC 5775 §4.3: one TOI per object).
    pub duplicate_toi: bool,
    /// Every packet is also sent from this address with the same TSI and other bytes
    /// (RFC 5651 §5.1: the session is (sender address, TSI)).
    pub second_sender: Option<IpAddr>,
    /// No close-session (A flag) at the end.
    pub no_close_session: bool,
    /// The first file's FCAST checksum is wrong (RFC 6968 §2.1).
    pub corrupt_checksum: bool,
    /// The CID lists TOIs 1000 above the real ones (RFC 6968 §2.2).
    pub cid_wrong_tois: bool,
    /// Objects kept in the carousel keep their TOI past half the TOI space (RFC 6968 §3.6).
    pub toi_window_ignored: bool,
    /// CIIDs count down instead of up (RFC 6968 §2.2).
    pub cid_ciid_decreasing: bool,
    /// CIDs carry no Fcast-CID-ID although the carousel changes (RFC 6968 §2.2: the CIID
    /// tells Carousel Instances apart).
    pub cid_ciid_missing: bool,
    /// Every CID keeps the first CIID (RFC 6968 §3.5: a new Carousel Instance, an empty one
    /// too, takes a new CIID).
    pub cid_ciid_reused: bool,
    /// From the second FDT instance on, the first file's Transfer-Length changes
    /// (RFC 6726 §3.3: parameters given for a TOI never change).
    pub fdt_changes_parameters: bool,
    /// FLUTE: every FDT Instance's Expires is a minute in the past when it is sent
    /// (RFC 6726 §3.3: "A sender MUST use an expiration time in the future").
    pub expired_fdt: bool,
    /// FLUTE: no FDT Instance is sent at all (RFC 6726 §3.3: every file has an FDT entry).
    pub no_fdt: bool,
}
