//! Checks the findings census of a test run: every entry of the findings registry must have
//! been raised by at least one test. CI runs the test command with `RMT_FINDING_CENSUS=DIR`
//! (each test process appends the IDs it raised to `DIR/<pid>.txt`, see `wire/census.rs`),
//! then this:
//!
//! ```sh
//! cargo run -q -p rmt-inspector --example finding_census -- DIR
//! ```
//!
//! Exit 0 when every entry was raised, 1 with the list of those never raised, 2 when DIR
//! holds no census (the variable was not set, or no test ran).

use std::collections::BTreeSet;
use std::process::ExitCode;

use rmt_inspector::registry;

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: finding_census DIR (the RMT_FINDING_CENSUS directory of a test run)");
        return ExitCode::from(2);
    };
    let mut raised = BTreeSet::new();
    let mut files = 0;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                files += 1;
                raised.extend(text.lines().map(str::to_owned));
            }
        }
    }
    if files == 0 {
        eprintln!("{dir}: no census (was RMT_FINDING_CENSUS set for the test run?)");
        return ExitCode::from(2);
    }
    let never: Vec<_> = registry::ALL
        .iter()
        .filter(|k| !raised.contains(k.id))
        .collect();
    println!(
        "findings census: {} of {} registry entries raised by the tests ({files} processes)",
        registry::ALL.len() - never.len(),
        registry::ALL.len()
    );
    if never.is_empty() {
        return ExitCode::SUCCESS;
    }
    for k in &never {
        println!("  never raised: {}\t{}", k.id, k.summary);
    }
    ExitCode::from(1)
}
