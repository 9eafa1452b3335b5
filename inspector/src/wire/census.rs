//! The findings census: which registry entries a run raised. Off unless the environment
//! variable `RMT_FINDING_CENSUS` names a directory; then each process appends every ID it
//! raises, the first time, to `<dir>/<pid>.txt`. CI sets it for the test command and then
//! requires every registry entry to appear (`cargo run -p rmt-inspector --example
//! finding_census -- <dir>`), so an entry no test raises is caught.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

pub const ENV: &str = "RMT_FINDING_CENSUS";

struct Census {
    file: PathBuf,
    seen: Mutex<HashSet<&'static str>>,
}

static CENSUS: OnceLock<Option<Census>> = OnceLock::new();

/// Called by every raise (out of line: raises are rare and their call sites are in hot
/// parsers); one atomic load when the census is off.
#[inline(never)]
pub(crate) fn record(id: &'static str) {
    let census = CENSUS.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os(ENV)?);
        let _ = std::fs::create_dir_all(&dir);
        Some(Census {
            file: dir.join(format!("{}.txt", std::process::id())),
            seen: Mutex::new(HashSet::new()),
        })
    });
    let Some(c) = census else { return };
    let mut seen = c.seen.lock().unwrap_or_else(|e| e.into_inner());
    if seen.insert(id) {
        // Best effort: a census that cannot be written shows up as entries never raised.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&c.file)
        {
            let _ = writeln!(f, "{id}");
        }
    }
}
