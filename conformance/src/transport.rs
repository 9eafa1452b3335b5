//! How a case's datagrams reach a receiver run as a command.
//!
//! - **multicast**: in a network namespace made for the run (its `lo` up with multicast and
//!   the route 224.0.0.0/4), the receiver is started inside it and the datagrams go to a group
//!   of 233.252.0.0/24 (RFC 5771's documentation block), as deployed receivers (MBMS
//!   middleware, set-top boxes, edge caches) expect: they join a group, they do not listen on
//!   a unicast port. Needs root and ip(8); the namespace goes when the run ends, also on
//!   failure (`Drop`). Nothing is sent from the machine's own namespace.
//! - **loopback**: unicast to 127.0.0.1 in the machine's namespace, for receivers that take a
//!   unicast port and for runs without root.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rmt_reference::testkit::netns::Namespace;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// Multicast where network namespaces can be made (root), loopback otherwise.
    Auto,
    Multicast,
    Loopback,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Auto => "auto",
            Transport::Multicast => "multicast",
            Transport::Loopback => "loopback",
        }
    }
}

/// The group the cases are sent to in the multicast transport (each case on its own port).
pub const GROUP: Ipv4Addr = Ipv4Addr::new(233, 252, 0, 1);
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Where a run's datagrams go: [`Network::open`] makes it once per run.
#[derive(Debug, Clone)]
pub struct Network {
    namespace: Option<Arc<Namespace>>,
}

static RUNS: AtomicU32 = AtomicU32::new(0);

impl Network {
    /// Unicast on the machine's loopback.
    pub fn loopback() -> Network {
        Network { namespace: None }
    }

    /// The network of `t`: `Auto` is multicast where a namespace can be made. `Err` says why
    /// multicast cannot run (not root, no ip(8), the namespace failed).
    pub fn open(t: Transport) -> Result<Network, String> {
        match t {
            Transport::Loopback => Ok(Network::loopback()),
            Transport::Auto if Namespace::available().is_err() => Ok(Network::loopback()),
            Transport::Auto | Transport::Multicast => {
                Namespace::available().map_err(|why| {
                    format!("the multicast transport needs a network namespace: {why} (--transport loopback sends unicast on 127.0.0.1)")
                })?;
                // Those of runs killed before they could remove theirs.
                let _ = crate::lab::remove_stale_labs();
                let name = format!(
                    "rmtkit-run-{}-{}",
                    std::process::id(),
                    RUNS.fetch_add(1, Ordering::Relaxed)
                );
                let ns = Namespace::create(&name)
                    .map_err(|e| format!("network namespace {name}: {e}"))?;
                Ok(Network {
                    namespace: Some(Arc::new(ns)),
                })
            }
        }
    }

    pub fn transport(&self) -> Transport {
        if self.namespace.is_some() {
            Transport::Multicast
        } else {
            Transport::Loopback
        }
    }

    /// The namespace's name (multicast only).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref().map(|n| n.name.as_str())
    }

    /// Where the datagrams of a case on `port` go.
    pub fn destination(&self, port: u16) -> SocketAddr {
        match self.namespace {
            Some(_) => SocketAddr::new(IpAddr::V4(GROUP), port),
            None => SocketAddr::new(LOOPBACK, port),
        }
    }

    /// `{group}`, `{source}`, `{iface}` and `{iface_addr}` of the adapter contract.
    pub fn placeholders(&self) -> [(&'static str, String); 4] {
        let group = match self.namespace {
            Some(_) => GROUP.to_string(),
            None => LOOPBACK.to_string(),
        };
        [
            ("group", group),
            ("source", LOOPBACK.to_string()),
            ("iface", "lo".to_string()),
            ("iface_addr", LOOPBACK.to_string()),
        ]
    }

    /// Runs `f` where the receiver lives: inside the namespace, or here.
    fn inside<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> io::Result<R> {
        match &self.namespace {
            None => Ok(f()),
            Some(ns) => ns
                .run(f)?
                .join()
                .map_err(|_| io::Error::other("a thread in the namespace panicked")),
        }
    }

    /// A UDP port no one uses where the receiver runs.
    pub fn free_port(&self) -> io::Result<u16> {
        self.inside(|| {
            Ok(UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?
                .local_addr()?
                .port())
        })?
    }

    /// Whether the receiver is ready for a case on `port`: a UDP socket is bound to the port
    /// where it runs and, over multicast, the group is joined there. Read from
    /// `/proc/thread-self/net/{udp,udp6,igmp}` (the namespace of the thread that reads them), not
    /// by binding the port, which would race with the receiver's own bind.
    pub fn ready(&self, port: u16) -> bool {
        let multicast = self.namespace.is_some();
        self.inside(move || {
            let table = |name: &str| {
                std::fs::read_to_string(format!("/proc/thread-self/net/{name}")).unwrap_or_default()
            };
            let bound = udp_port_bound(&table("udp"), port) || udp_port_bound(&table("udp6"), port);
            bound && (!multicast || group_joined(&table("igmp"), GROUP))
        })
        .unwrap_or(false)
    }

    /// A socket that sends as `source` (the scenario's sender, or its second sender), opened
    /// inside the namespace for the multicast transport: multicast leaves by the namespace's
    /// `lo` (its 224.0.0.0/4 route) with TTL 1.
    pub fn sender_socket(&self, source: IpAddr) -> io::Result<UdpSocket> {
        self.inside(move || {
            let s = UdpSocket::bind((source, 0))?;
            s.set_multicast_ttl_v4(1)?;
            s.set_multicast_loop_v4(true)?;
            Ok(s)
        })?
    }

    /// `sh -c command`, inside the namespace for the multicast transport.
    pub fn shell(&self, command: &str) -> Command {
        let mut c = match &self.namespace {
            Some(ns) => ns.command("sh"),
            None => Command::new("sh"),
        };
        c.args(["-c", command]);
        c
    }
}

/// Whether a `/proc/net/udp` (or `udp6`) table has a socket bound to `port`: the local address
/// column is `ADDR:PORT` with the port in hexadecimal.
fn udp_port_bound(table: &str, port: u16) -> bool {
    table.lines().skip(1).any(|line| {
        line.split_whitespace()
            .nth(1)
            .and_then(|local| local.rsplit_once(':'))
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            == Some(port)
    })
}

/// Whether `/proc/net/igmp` lists `group` as joined on an interface: group lines hold the
/// address as the kernel prints its network-order word with `%08X`, i.e. the native-endian
/// integer of its octets (reversed on a little-endian host).
fn group_joined(table: &str, group: Ipv4Addr) -> bool {
    let form = format!("{:08X}", u32::from_ne_bytes(group.octets()));
    table
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .any(|w| w == form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proc_tables_say_which_port_is_bound_and_which_group_is_joined() {
        let udp = "  sl  local_address rem_address   st\n   0: 0100FCE9:0D48 00000000:0000 07\n";
        assert!(udp_port_bound(udp, 3400));
        assert!(!udp_port_bound(udp, 3401));
        let igmp = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n1\tlo        :     2      V3\n\t\t\t\t0100FCE9     1 0:00000000\t\t0\n\t\t\t\t010000E0     1 0:00000000\t\t0\n";
        assert!(group_joined(igmp, GROUP));
        assert!(!group_joined(igmp, Ipv4Addr::new(233, 252, 0, 2)));
    }
}
