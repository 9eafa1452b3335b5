//! Writes the regression captures of long-session behaviour to `vectors/captures/long/` (or the
//! folder given): `cargo run -p rmt-reference --example regression_captures [DIR]`.
//! `reference-impl/tests/inspected.rs` checks the committed files are what this writes.

use std::path::PathBuf;

use rmt_reference::driver::capture::write_transmits;
use rmt_reference::sessions::wrapping_fcast_push;

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/captures/long"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    for (cid, name) in [
        (true, "fcast-toi-reuse-cid.pcap"),
        (false, "fcast-toi-reuse-nocid.pcap"),
    ] {
        let path = dir.join(name);
        let frames = wrapping_fcast_push(cid);
        write_transmits(&path, &frames, 4000)?;
        println!("{}: {} datagrams", path.display(), frames.len());
    }
    Ok(())
}
