//! A sender run as a command in a network namespace made for it, and what it sent captured on
//! the namespace's loopback by `rmt-inspect` (`rmt-conform sender --exec`, the sender column of
//! `rmt-conform matrix`). Third-party programs only ever run inside such a namespace; it goes
//! when the capture ends, also on failure (`Drop`).

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rmt_reference::netns::Namespace;

static CAPTURES: AtomicU32 = AtomicU32::new(0);

/// Runs `command` (placeholders already filled in) with `sh -c` inside a new namespace whose
/// `lo` carries multicast, captures `seconds` of what it sends with `rmt_inspect -i lo`, stops
/// it, and returns the capture (pcapng). `Err` says why nothing could be captured.
pub fn capture_command(command: &str, seconds: f64, rmt_inspect: &Path) -> Result<Vec<u8>, String> {
    Namespace::available()?;
    let _ = crate::lab::remove_stale_labs();
    let n = CAPTURES.fetch_add(1, Ordering::Relaxed);
    let ns = Namespace::create(&format!("rmtkit-conform-{}-{n}", std::process::id()))
        .map_err(|e| e.to_string())?;
    let tmp = std::env::temp_dir().join(format!(
        "rmt-conform-sender-{}-{n}.pcapng",
        std::process::id()
    ));
    let secs = seconds.clamp(0.5, 3600.0).to_string();
    let mut capture = ns
        .command(rmt_inspect.to_str().unwrap_or("rmt-inspect"))
        .args([
            "-i",
            "lo",
            "--duration",
            &secs,
            "-q",
            "-w",
            tmp.to_str().unwrap_or_default(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("rmt-inspect: {e}"))?;
    std::thread::sleep(Duration::from_millis(500));
    let mut sender = {
        use std::os::unix::process::CommandExt;
        ns.command("sh")
            .args(["-c", command])
            .process_group(0)
            // The same for every run: a sender that needs an open stdin says so in its command.
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{command}: {e}"))?
    };
    // Bounded: the capture ends after `seconds`; a capture that hangs is killed a little later.
    let deadline = Instant::now() + Duration::from_secs_f64(seconds.clamp(0.5, 3600.0) + 10.0);
    let status = loop {
        if let Some(s) = capture.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = capture.kill();
            let _ = capture.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if sender.try_wait().ok().flatten().is_none() {
        // SAFETY: kill(2) on the process group of our own child (process_group(0) above).
        unsafe { libc::kill(-(sender.id() as libc::pid_t), libc::SIGKILL) };
        let _ = sender.kill();
    }
    let _ = sender.wait();
    drop(ns);
    match status {
        Some(s) if s.success() => {}
        Some(s) => return Err(format!("the live capture failed ({s})")),
        None => return Err("the live capture did not end".into()),
    }
    let b = std::fs::read(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let _ = std::fs::remove_file(&tmp);
    Ok(b)
}
