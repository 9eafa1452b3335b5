//! Systems under test: a YAML profile says how to start the receiver (a built-in adapter or a
//! command with placeholders), which cases it does not support (with a reason), which are
//! disabled, and which are expected to fail.
//!
//! Placeholders in a command: `{port}` (UDP port on 127.0.0.1 the datagrams are sent to),
//! `{group}` (127.0.0.1), `{source}` (the sender's address, 127.0.0.1), `{tsi}`, `{mode}`
//! (`flute` or `fcast`), `{fec_id}`, `{out}` (the folder to write received files in),
//! `{sdp}` (a session description file), `{adapters}` (`conformance/adapters/`), `{case}` (the
//! case ID, also in the environment as `TESTCASE`). Exit code 127 means "unsupported" only from
//! an adapter that answers the unknown-case probe with 127 (docs/conformance.md).

use std::collections::BTreeMap;
use std::path::Path;

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub receiver: Option<ReceiverAdapter>,
    /// Case ID -> reason.
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

/// Fills the placeholders of a command.
pub fn expand(template: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}
