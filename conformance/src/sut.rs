//! Systems under test: a YAML profile says how to start the receiver (a built-in adapter or a
//! command with placeholders), which cases it does not support (with a reason), which are
//! disabled, and which are expected to fail.
//!
//! Placeholders in a command: `{port}` (the UDP port the datagrams are sent to), `{group}`
//! (233.252.0.1 over multicast, 127.0.0.1 over loopback), `{source}` (the sender's address,
//! for SSM), `{iface}` and `{iface_addr}` (the interface to join on and its address), `{tsi}`,
//! `{mode}` (`flute` or `fcast`), `{fec_id}`, `{out}` (the folder to write received files in),
//! `{sdp}` (a session description file), `{adapters}` (`conformance/adapters/`), `{case}` (the
//! case ID, also in the environment as `TESTCASE`). Exit code 127 means "unsupported" only from
//! an adapter that answers the unknown-case probe with 127. The contract for third parties:
//! docs/sut-contract.md.

use std::collections::BTreeMap;
use std::path::Path;

use rmt_inspector::wire::flute_flavor::FluteFlavor;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverAdapter {
    /// `reference`: rmtkit's own receiver, in process.
    #[serde(default)]
    pub builtin: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    /// Time the receiver needs before datagrams are sent.
    #[serde(default = "startup")]
    pub startup_ms: u64,
    /// Time it gets after the last datagram before it is stopped.
    #[serde(default = "grace")]
    pub grace_ms: u64,
}

fn startup() -> u64 {
    400
}
fn grace() -> u64 {
    1500
}

/// A sender run as a command in the run's namespace (`rmt-conform matrix`), judged by the
/// sender cases from what it sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderAdapter {
    /// Placeholders: `{group}`, `{port}`, `{tsi}`, `{iface}`, `{iface_addr}`, `{files}` (the
    /// files to send, space-separated), `{dir}` (their folder).
    pub command: String,
    /// `flute` or `fcast`: the protocol the sender is meant to speak.
    #[serde(default = "flute")]
    pub mode: String,
    /// Seconds it gets to send the files (it is stopped after that).
    #[serde(default = "send_seconds")]
    pub seconds: f64,
}

fn flute() -> String {
    "flute".into()
}
fn send_seconds() -> f64 {
    8.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Environment variables the profile needs (name -> what to set it to): when one is unset
    /// or empty, every case is skipped with that message instead of failing to start.
    #[serde(default)]
    pub requires_env: BTreeMap<String, String>,
    /// The FLUTE flavour the receiver is played by default (`rfc6726`, `rfc3926`, `3gpp`,
    /// `3gpp-2022`); `--flavor` overrides it.
    #[serde(default)]
    pub flavor: Option<FluteFlavor>,
    /// The transport it needs (`multicast`, `loopback`); `--transport` overrides it.
    #[serde(default)]
    pub transport: Option<crate::transport::Transport>,
    pub receiver: Option<ReceiverAdapter>,
    #[serde(default)]
    pub sender: Option<SenderAdapter>,
    /// Case ID (or a prefix ending in `*`) -> reason.
    #[serde(default)]
    pub unsupported: BTreeMap<String, String>,
    #[serde(default)]
    pub disabled: BTreeMap<String, String>,
    #[serde(default)]
    pub xfail: BTreeMap<String, String>,
}

/// The bundled profiles (`conformance/suts/`), by name, or a profile file.
pub fn load(name_or_path: &str) -> Result<Profile, String> {
    let p = Path::new(name_or_path);
    let path = if p.extension().is_some_and(|e| e == "yaml") {
        p.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("suts")
            .join(format!("{name_or_path}.yaml"))
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("SUT profile {}: {e}", path.display()))?;
    let profile: Profile =
        serde_yaml::from_str(&text).map_err(|e| format!("SUT profile {}: {e}", path.display()))?;
    if let Some(r) = &profile.receiver {
        if r.builtin.is_some() == r.command.is_some() {
            return Err(format!(
                "SUT profile {}: the receiver needs one of builtin or command",
                path.display()
            ));
        }
    }
    Ok(profile)
}

/// The reason a profile map gives for `case_id`: its own entry, or that of a key ending in `*`
/// that prefixes it (`rfc6968/*`: every FCAST case).
pub fn reason<'a>(map: &'a BTreeMap<String, String>, case_id: &str) -> Option<&'a String> {
    map.get(case_id).or_else(|| {
        map.iter()
            .find(|(k, _)| k.ends_with('*') && crate::catalogue::matches(k, case_id))
            .map(|(_, v)| v)
    })
}

impl Profile {
    /// Why the profile cannot run here (a required environment variable unset), or `None`.
    pub fn missing_env(&self) -> Option<String> {
        let missing: Vec<String> = self
            .requires_env
            .iter()
            .filter(|(k, _)| std::env::var_os(k).is_none_or(|v| v.is_empty()))
            .map(|(k, what)| format!("{k} ({what})"))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "profile {} needs {} (docs/sut-contract.md)",
                self.name,
                missing.join(", ")
            )
        })
    }
}

/// Fills the placeholders of a command.
pub fn expand(template: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_key_ending_in_a_star_covers_the_cases_it_prefixes() {
        let map: BTreeMap<String, String> = [
            ("rfc6968/*".to_string(), "no FCAST".to_string()),
            ("rfc5052/9.1/any-k-symbols".to_string(), "no RS".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(reason(&map, "rfc6968/3.5/empty-cid").unwrap(), "no FCAST");
        assert_eq!(reason(&map, "rfc5052/9.1/any-k-symbols").unwrap(), "no RS");
        assert_eq!(reason(&map, "rfc5052/9.1/out-of-order"), None);
        assert_eq!(reason(&map, "rfc6726/3/sanity-first"), None);
    }
}
