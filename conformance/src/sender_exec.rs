//! A sender run as a command in a network namespace made for it, and what it sent captured on
//! the namespace's loopback in this process (`rmt_inspector::capture::live::record` on a
//! thread inside the namespace) for `rmt-conform sender --exec` and the sender column of
//! `rmt-conform matrix`. Third-party programs only ever run inside such a namespace; it goes
//! when the capture ends, also on failure (`Drop`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rmt_inspector::capture::live::record;
use rmt_reference::testkit::netns::Namespace;

static CAPTURES: AtomicU32 = AtomicU32::new(0);

/// How long the capture may take to open before the run is given up.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `command` (placeholders already filled in) with `sh -c` inside a new namespace whose
/// `lo` carries multicast, captures `seconds` of what it sends on `lo`, stops it, and returns
/// the capture (pcapng). The command starts once the capture is open, so nothing it sends is
/// missed. `Err` says why nothing could be captured.
pub fn capture_command(command: &str, seconds: f64) -> Result<Vec<u8>, String> {
    Namespace::available()?;
    let _ = crate::lab::remove_stale_labs();
    let n = CAPTURES.fetch_add(1, Ordering::Relaxed);
    let ns = Namespace::create(&format!("rmtkit-conform-{}-{n}", std::process::id()))
        .map_err(|e| e.to_string())?;
    let duration = Duration::from_secs_f64(seconds.clamp(0.5, 3600.0));
    let (opened_tx, opened) = std::sync::mpsc::channel();
    let capture = ns
        .run(move || {
            record("lo", &[], duration, move || {
                let _ = opened_tx.send(());
            })
        })
        .map_err(|e| format!("the live capture: {e}"))?;
    match opened.recv_timeout(OPEN_TIMEOUT) {
        Ok(()) => {}
        // It ended without opening: its error is the thread's result, at once.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            return match capture.join() {
                Ok(Err(e)) => Err(format!("the live capture failed: {e}")),
                _ => Err("the live capture did not open".into()),
            };
        }
        // Still opening: not waited for (the namespace goes with this error, and the thread
        // ends at its own deadline).
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            return Err(format!(
                "the live capture did not open within {} s",
                OPEN_TIMEOUT.as_secs()
            ));
        }
    }
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
    // Bounded: the capture ends at its deadline (each read waits at most 200 ms).
    let captured = capture.join();
    // The whole process group, also when `sh` itself has exited: what it started in the
    // background would otherwise outlive the run.
    // SAFETY: kill(2) on the process group of our own child (process_group(0) above).
    unsafe { libc::kill(-(sender.id() as libc::pid_t), libc::SIGKILL) };
    let _ = sender.kill();
    let _ = sender.wait();
    drop(ns);
    match captured {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(format!("the live capture failed: {e}")),
        Err(_) => Err("the live capture panicked".into()),
    }
}
