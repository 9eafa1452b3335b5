//! Receiver scenarios (`vectors/scenarios/*.yaml`): a session described structurally (mode, TSI,
//! FEC, objects, carousel instances, faults, packet edits, loss, timing) with the deliveries a
//! conforming receiver makes and the RFC section behind them. Any runner can play them; ours is
//! `rmt-conform`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Flute,
    Fcast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
    May,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub mode: Mode,
    #[serde(default = "one")]
    pub tsi: u64,
    /// `nocode`, `rs`, `rs2`, `rs129`, `ldpc`, `raptorq`, optionally `:k/n`.
    #[serde(default = "nocode")]
    pub fec: String,
    #[serde(default = "symbol_length")]
    pub symbol_length: u16,
    #[serde(default = "thirty_two")]
    pub tsi_bits: usize,
    #[serde(default = "thirty_two")]
    pub toi_bits: usize,
    #[serde(default = "one_u128")]
    pub first_toi: u128,
    /// The sender allocates TOIs this far apart (modulo 2^toi_bits), so that a short session
    /// wraps the TOI space and reuses TOIs (RFC 6968 §3.6 leaves TOI management to the sender).
    #[serde(default = "one_u128")]
    pub toi_stride: u128,
    #[serde(default)]
    pub first_fdt_instance_id: u32,
    /// Transmission cycles per carousel instance.
    #[serde(default = "one_u32")]
    pub cycles: u32,
    /// FDT validity in seconds (FLUTE).
    #[serde(default = "hour")]
    pub fdt_validity: u64,
    #[serde(default)]
    pub global_checksum: bool,
    #[serde(default)]
    pub gzip_metadata: bool,
    #[serde(default)]
    pub gzip_content: bool,
    #[serde(default = "yes")]
    pub cid: bool,
}

fn one() -> u64 {
    1
}
fn one_u32() -> u32 {
    1
}
fn one_u128() -> u128 {
    1
}
fn thirty_two() -> usize {
    32
}
fn symbol_length() -> u16 {
    1000
}
fn hour() -> u64 {
    3600
}
fn yes() -> bool {
    true
}
fn nocode() -> String {
    "nocode".into()
}

/// An object: pseudo-random bytes from `seed` (SplitMix64, as `rmt_reference::rng`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    pub name: String,
    pub size: usize,
    #[serde(default)]
    pub seed: u64,
}

/// A carousel instance (FCAST) or FDT Instance (FLUTE): the objects it holds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub objects: Vec<String>,
    #[serde(default)]
    pub complete: bool,
    /// Repeat this instance for this many instances in a row (long sessions), each time with
    /// one new object named `<prefix>-<n>` when `new_object_prefix` is set.
    #[serde(default)]
    pub repeat: u32,
    #[serde(default)]
    pub new_object_prefix: Option<String>,
    #[serde(default)]
    pub new_object_size: usize,
    /// FLUTE: this instance's FDT validity in seconds (default: the session's).
    #[serde(default)]
    pub fdt_validity: Option<u64>,
    /// FLUTE: this instance is sent already expired (its Expires a minute before the sender's
    /// own clock, RFC 6726 §3.3's sender MUST broken on purpose), so that the sender's clock
    /// (EXT_TIME) and the receiver's agree it expired before it was received.
    #[serde(default)]
    pub expired: bool,
}

/// Sender faults, as `rmt_reference::faults::Faults`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub loss: f64,
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub reorder: f64,
    #[serde(default)]
    pub wrong_hdr_len: f64,
    #[serde(default)]
    pub changing_oti: bool,
    #[serde(default)]
    pub duplicate_toi: bool,
    #[serde(default)]
    pub second_sender: Option<String>,
    #[serde(default)]
    pub no_close_session: bool,
    #[serde(default)]
    pub corrupt_checksum: bool,
    #[serde(default)]
    pub cid_wrong_tois: bool,
    #[serde(default)]
    pub fdt_changes_parameters: bool,
    #[serde(default)]
    pub cid_ciid_decreasing: bool,
    #[serde(default)]
    pub toi_window_ignored: bool,
}

/// A packet edit applied after the sender, in order.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "edit", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Adds a copy of every `every`-th data packet with HDR_LEN one word short of the fixed
    /// header (RFC 5651 §5.1).
    HdrLenTooSmall { every: usize },
    /// Adds a copy of every `every`-th packet with a header extension of HEL=0 (RFC 5651 §5.2).
    HelZero { every: usize },
    /// Adds a copy of every `every`-th data packet cut inside its FEC Payload ID.
    TruncatedPayloadId { every: usize },
    /// Inserts an unknown header extension (HET 100, 8 bytes) into every packet: to be skipped.
    UnknownExtension,
    /// Sets the LCT reserved bits and the FCAST-irrelevant PSI bits in every packet.
    ReservedBits,
    /// Re-encodes every `every`-th packet with a TOI field of `toi_bits`.
    ToiWidth { every: usize, toi_bits: usize },
    /// Adds the packets of another session with TSI `tsi` on the same group and port: the same
    /// scenario played again with other object bytes and names (`foreign-<name>`), so valid in
    /// every other respect (same TOIs, FEC Payload IDs and EXT_FTI, its own FDT or CIDs). Each
    /// foreign packet goes just before the genuine packet it mirrors: a receiver that mixes the
    /// sessions delivers wrong bytes or a foreign object.
    ForeignTsi { tsi: u64 },
    /// As `foreign_tsi`, but the other session has the same TSI and another sender address
    /// (RFC 5651 §5.1: a session is (sender address, TSI)).
    SecondSender { source: String },
    /// Shuffles the packets within consecutive runs of `window` packets (seeded; packets with
    /// the close-session flag stay in place): objects sent one after another interleave, as
    /// they do on a carousel that wraps its TOIs.
    Interleave { window: usize, seed: u64 },
    /// Flips one byte of the second source symbol (SBN 0, ESI 1) of `object` in every packet
    /// that carries it: the FEC cannot see it, the object's digest (Content-MD5 in FLUTE,
    /// Fcast-Obj-Digest-SHA256 in FCAST) can.
    CorruptSymbol { object: String },
    /// Moves every packet of object `object` to the end (before the close-session packets).
    LateObject { object: String },
    /// Shuffles the data packets (seeded); FDT packets kept first, packets with B or A last.
    Shuffle { seed: u64 },
    /// Drops every packet of `object` after the first `keep` (to leave it incomplete).
    Truncate { object: String, keep: usize },
    /// Drops the first `count_per_block` source packets of every block of `object` (the
    /// receiver must decode from any k symbols).
    DropSource {
        object: String,
        count_per_block: usize,
    },
    /// Adds packets for `object` with ESIs at and beyond n (block 0), to be tolerated.
    EsiBeyondN { object: String, count: usize },
    /// Sends every packet with the receiver's clock `seconds` ahead of the sender's.
    ClockAhead { seconds: u64 },
}

/// What a conforming receiver does.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Delivered byte-exact (by name, the Content-Location's last component).
    #[serde(default)]
    pub delivered: Vec<String>,
    /// Not delivered (or, if delivered, byte-exact: a wrong object is always a failure).
    #[serde(default)]
    pub not_delivered: Vec<String>,
    /// Objects whose every delivery must be byte-exact; with `prefix`: all named so.
    #[serde(default)]
    pub delivered_prefix: Option<String>,
    /// At least this many objects with `delivered_prefix` delivered.
    #[serde(default)]
    pub min_delivered: usize,
    /// The receiver ends by itself (session complete or closed) before the runner stops it.
    #[serde(default)]
    pub ends_by_itself: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub rfc: u16,
    pub section: String,
    pub level: Level,
    pub requirement: String,
    pub session: Session,
    pub objects: Vec<ObjectSpec>,
    /// Instances in order; default: one Complete instance with every object.
    #[serde(default)]
    pub instances: Vec<Instance>,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub edits: Vec<Edit>,
    /// Network loss after the edits (seeded).
    #[serde(default)]
    pub loss: f64,
    #[serde(default)]
    pub loss_seed: u64,
    /// Sending rate in bit/s.
    #[serde(default = "rate")]
    pub rate_bps: u64,
    pub expect: Expect,
}

fn rate() -> u64 {
    20_000_000
}

/// The folder of the scenario files.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every scenario, sorted by ID.
pub fn load_scenarios() -> Result<Vec<Scenario>, String> {
    load_scenarios_from(&scenarios_dir())
}

pub fn load_scenarios_from(dir: &Path) -> Result<Vec<Scenario>, String> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let list: Vec<Scenario> =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        out.extend(list);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    for w in out.windows(2) {
        if w[0].id == w[1].id {
            return Err(format!("scenario {} defined twice", w[0].id));
        }
    }
    Ok(out)
}
