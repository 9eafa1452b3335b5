//! Group joins and leaves as the bridge sees them (its IGMP-snooped multicast database): the
//! independent witness of a receiver's layer changes (RFC 3738 §3.2: joins and leaves are
//! group memberships), watched with `bridge monitor mdb` in the switch namespace.

use std::io::{self, BufRead, BufReader};
use std::net::Ipv4Addr;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rmt_reference::testkit::netns::Namespace;

/// A group added to (`joined`) or removed from a bridge port.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MembershipEvent {
    /// Unix time, seconds, when the watcher read it.
    pub at: f64,
    pub port: String,
    pub group: Ipv4Addr,
    pub joined: bool,
}

/// Parses one `bridge monitor mdb` line:
/// `[Deleted ]dev br0 port p2 grp 233.252.0.7 temp [fast_leave]`. IPv6 and router lines: None.
pub fn parse_monitor_line(line: &str, at: f64) -> Option<MembershipEvent> {
    let joined = !line.starts_with("Deleted");
    let mut words = line.split_whitespace();
    let mut port = None;
    let mut group = None;
    while let Some(w) = words.next() {
        match w {
            "port" => port = words.next(),
            "grp" => group = words.next().and_then(|g| g.parse::<Ipv4Addr>().ok()),
            _ => {}
        }
    }
    Some(MembershipEvent {
        at,
        port: port?.to_string(),
        group: group?,
        joined,
    })
}

pub use rmt_reference::driver::webrc::unix_now;

/// A running `bridge monitor mdb`; [`MembershipWatch::stop`] ends it and hands out the events.
pub struct MembershipWatch {
    child: Child,
    events: Arc<Mutex<Vec<MembershipEvent>>>,
    reader: Option<JoinHandle<()>>,
}

impl MembershipWatch {
    pub fn start(switch: &Namespace) -> io::Result<MembershipWatch> {
        // stdbuf: bridge(8) block-buffers its output into a pipe; each event must come at once.
        let mut child = switch
            .command("stdbuf")
            .args(["-oL", "bridge", "monitor", "mdb"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        // Ends when the child's stdout closes (stop or drop kills it).
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(e) = parse_monitor_line(&line, unix_now()) {
                    sink.lock().expect("not poisoned").push(e);
                }
            }
        });
        // The monitor subscribes to netlink a moment after it starts.
        std::thread::sleep(Duration::from_millis(150));
        Ok(MembershipWatch {
            child,
            events,
            reader: Some(reader),
        })
    }

    /// The events so far.
    pub fn events(&self) -> Vec<MembershipEvent> {
        self.events.lock().expect("not poisoned").clone()
    }

    pub fn stop(mut self) -> Vec<MembershipEvent> {
        self.end();
        self.events()
    }

    fn end(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

impl Drop for MembershipWatch {
    fn drop(&mut self) {
        self.end();
    }
}

/// The IPv4 groups per port in the bridge's multicast database now.
pub fn snapshot(switch: &Namespace) -> io::Result<Vec<(String, Ipv4Addr)>> {
    let out = switch
        .command("bridge")
        .args(["-j", "mdb", "show"])
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "bridge mdb show: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| io::Error::other(format!("bridge mdb show: {e}")))?;
    let mut groups = Vec::new();
    for bridge in v.as_array().into_iter().flatten() {
        for e in bridge["mdb"].as_array().into_iter().flatten() {
            if let (Some(port), Some(Ok(group))) = (
                e["port"].as_str(),
                e["grp"].as_str().map(str::parse::<Ipv4Addr>),
            ) {
                groups.push((port.to_string(), group));
            }
        }
    }
    groups.sort();
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_lines_become_events() {
        let j = parse_monitor_line("dev br0 port p2 grp 233.252.0.7 temp", 1.5).unwrap();
        assert_eq!(
            (j.port.as_str(), j.group, j.joined),
            ("p2", Ipv4Addr::new(233, 252, 0, 7), true)
        );
        let l = parse_monitor_line(
            "Deleted dev br0 port t0 grp 233.252.0.9 temp fast_leave",
            2.0,
        )
        .unwrap();
        assert!(!l.joined);
        assert_eq!(l.port, "t0");
        assert!(parse_monitor_line("dev br0 port p1 grp ff02::1:ff81:477b temp", 0.0).is_none());
        assert!(parse_monitor_line("router port dev p1 master br0", 0.0).is_none());
    }
}
