//! Case outcomes and the run's exit code.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    /// A MUST requirement is not met (or a SHOULD with `--strict`).
    Fail,
    /// A SHOULD or MAY requirement is not met.
    Warn,
    /// The receiver died of a signal, exited with a status of 126 or more, or exited non-zero
    /// before the last datagram was sent (a failure whatever the case's level; the detail
    /// names the last datagrams sent).
    Crash,
    /// A sender case with nothing to judge in the capture (no FDT for a FLUTE rule, no FCAST
    /// object for an FCAST rule): neither a pass nor a failure.
    NotApplicable,
    /// Nothing to judge, for information.
    Info,
    /// The system under test declares it does not support the case: the profile lists it, or
    /// its adapter exited 127 on it after answering the unknown-case probe with 127.
    Unsupported,
    /// The case could not be run (infrastructure).
    CouldNotTest,
    /// Disabled in the profile.
    Skipped,
    /// Failed as the profile expects.
    Xfail,
    /// Expected to fail, but passed: fails the run.
    Xpass,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Crash => "crash",
            Outcome::NotApplicable => "not-applicable",
            Outcome::Info => "info",
            Outcome::Unsupported => "unsupported",
            Outcome::CouldNotTest => "could-not-test",
            Outcome::Skipped => "skipped",
            Outcome::Xfail => "xfail",
            Outcome::Xpass => "xpass",
        }
    }
}

/// 0 every required case passed; 1 a conformance failure; 3 an infrastructure error (2, usage,
/// is decided before running). A receiver run whose sanity case did not pass is an
/// infrastructure error too: see [`crate::runner::suite_exit_code`].
pub fn exit_code(outcomes: &[Outcome]) -> u8 {
    if outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Fail | Outcome::Xpass | Outcome::Crash))
    {
        1
    } else if outcomes.contains(&Outcome::CouldNotTest) {
        3
    } else {
        0
    }
}
