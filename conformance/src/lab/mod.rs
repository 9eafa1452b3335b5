//! The network lab: hosts in network namespaces joined by a Linux bridge with IGMP snooping on,
//! so that a host receives only the groups it has joined (as behind a real switch), each host's
//! link shaped with tc (rate, delay, loss), optionally reached through a tunnel overlay over a
//! unicast-only underlay (gretap, the overlay used to run multicast in clouds without native
//! multicast; VXLAN where the kernel has no GRE). Everything is built by code and removed when
//! the [`Lab`] is dropped, also on failure; nothing is sent from the machine's own namespace.
//!
//! Topology: one switch namespace with bridge `br0` (`mcast_snooping 1`, `mcast_querier 1`);
//! host `i` (0-based) has `eth0` = 10.77.0.(i+1)/24, whose peer in the switch namespace is
//! bridge port `p<i>` (direct) or tunnel `t<i>` (overlay, over the underlay link
//! `u<i>` 10.78.i.1/24 ↔ host `u0` 10.78.i.2/24). Ports have fast leave on (a leave removes the
//! group at once, as WEBRC needs, RFC 3738 §3.2.3.3) and do not flood unregistered multicast.
//! The shaping sits on the switch side of the host's port, so it limits what reaches the host.
//!
//! [`webrc`] runs WEBRC in the lab; [`webrc_checks`] judges its receivers; [`plot`] draws it.

pub mod membership;
pub mod plot;
pub mod shape;
pub mod tap;
pub mod webrc;
pub mod webrc_checks;

use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};

use rmt_reference::testkit::netns::Namespace;

pub use membership::{MembershipEvent, MembershipWatch};
pub use shape::LinkShape;

/// How hosts reach the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlay {
    /// A veth pair straight into the bridge.
    Direct,
    /// Ethernet over GRE (RFC 2784) over a routed unicast underlay: 38 bytes less MTU
    /// (outer IPv4 20, GRE 4, inner Ethernet 14).
    Gretap,
    /// Ethernet over VXLAN (RFC 7348) over a routed unicast underlay: 50 bytes less MTU
    /// (outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14).
    Vxlan,
}

impl Overlay {
    /// Bytes the tunnel takes from the underlay's MTU.
    pub fn mtu_reduction(self) -> u32 {
        match self {
            Overlay::Direct => 0,
            Overlay::Gretap => 38,
            Overlay::Vxlan => 50,
        }
    }

    /// Whether this kernel can build the overlay, or why not (gretap needs CONFIG_NET_IPGRE).
    /// Tries it in a throwaway namespace.
    pub fn available(self) -> Result<(), String> {
        Namespace::available()?;
        if self == Overlay::Direct {
            return Ok(());
        }
        let ns = Namespace::bare(&unique_name("probe"))
            .map_err(|e| format!("cannot create a namespace: {e}"))?;
        let probe = tunnel_args(self, "probe0", "10.78.0.1", "10.78.0.2", "lo", 1);
        let args: Vec<&str> = probe.iter().map(String::as_str).collect();
        ns.ip(&args).map_err(|e| {
            format!(
                "this kernel cannot build a {} tunnel ({e}); {}",
                self.name(),
                match self {
                    Overlay::Gretap => "it needs CONFIG_NET_IPGRE (module ip_gre)",
                    _ => "it needs CONFIG_VXLAN",
                }
            )
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Overlay::Direct => "direct",
            Overlay::Gretap => "gretap",
            Overlay::Vxlan => "vxlan",
        }
    }
}

/// `ip link add` arguments of one tunnel end.
fn tunnel_args(
    overlay: Overlay,
    dev: &str,
    local: &str,
    remote: &str,
    underlay_dev: &str,
    id: usize,
) -> Vec<String> {
    let mut a: Vec<String> = ["link", "add", dev, "type"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match overlay {
        Overlay::Direct => unreachable!("no tunnel for direct links"),
        Overlay::Gretap => a.extend(
            ["gretap", "local", local, "remote", remote]
                .iter()
                .map(|s| s.to_string()),
        ),
        Overlay::Vxlan => {
            // One VNI per host link: every tunnel of the switch shares port 4789.
            let vni = (100 + id).to_string();
            a.extend(
                [
                    "vxlan",
                    "id",
                    &vni,
                    "local",
                    local,
                    "remote",
                    remote,
                    "dstport",
                    "4789",
                    "dev",
                    underlay_dev,
                ]
                .iter()
                .map(|s| s.to_string()),
            );
        }
    }
    a
}

/// One host of the lab.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub name: String,
    pub shape: LinkShape,
}

#[derive(Debug, Clone)]
pub struct LabConfig {
    pub hosts: Vec<HostConfig>,
    pub overlay: Overlay,
    /// MTU of the host links (the underlay's, with an overlay).
    pub link_mtu: u32,
}

impl LabConfig {
    pub fn new(hosts: Vec<HostConfig>) -> Self {
        LabConfig {
            hosts,
            overlay: Overlay::Direct,
            link_mtu: 1500,
        }
    }
}

/// A host: its namespace, its lab address on `dev`, and its bridge port.
#[derive(Debug)]
pub struct Host {
    pub name: String,
    pub ns: Namespace,
    pub address: Ipv4Addr,
    /// The host's interface into the lab (`eth0`).
    pub dev: String,
    /// Its port on the bridge, in the switch namespace.
    pub port: String,
    /// The MTU of `dev`: the link's, less the overlay's reduction.
    pub mtu: u32,
    pub shape: LinkShape,
}

/// A running lab; dropping it removes every namespace, and with them every interface.
#[derive(Debug)]
pub struct Lab {
    pub hosts: Vec<Host>,
    pub switch: Namespace,
    pub overlay: Overlay,
}

/// The query response interval set above, and a margin.
const QUERIER_DELAY: std::time::Duration = std::time::Duration::from_millis(700);

static LABS: AtomicU32 = AtomicU32::new(0);

fn unique_name(role: &str) -> String {
    format!(
        "rmtlab-{}-{}-{role}",
        std::process::id(),
        LABS.fetch_add(1, Ordering::Relaxed)
    )
}

/// Namespaces named `<prefix><pid>-...` by a process of this suite: labs, `rmt-conform run`'s
/// multicast transport, `rmt-conform sender --exec` and the matrix's senders.
const STALE_PREFIXES: &[&str] = &["rmtlab-", "rmtkit-run-", "rmtkit-conform-"];

/// Removes the namespaces of labs and runs whose process is gone (killed before it could drop
/// them, e.g. by Ctrl-C); returns their names ([`STALE_PREFIXES`]).
pub fn remove_stale_labs() -> io::Result<Vec<String>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir("/run/netns") {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(pid) = STALE_PREFIXES
            .iter()
            .find_map(|p| name.strip_prefix(p))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let out = std::process::Command::new("ip")
                .args(["netns", "del", &name])
                .output()?;
            if out.status.success() {
                removed.push(name);
            }
        }
    }
    Ok(removed)
}

impl Lab {
    /// Builds the lab; on any error, what was built is removed before returning. Labs left by
    /// killed processes are removed first.
    pub fn build(config: &LabConfig) -> io::Result<Lab> {
        Namespace::available().map_err(io::Error::other)?;
        remove_stale_labs()?;
        if config.overlay != Overlay::Direct {
            config.overlay.available().map_err(io::Error::other)?;
        }
        if config.hosts.len() > 200 {
            return Err(io::Error::other("at most 200 hosts"));
        }
        let tag = unique_name("lab");
        let switch = Namespace::bare(&format!("{tag}-sw"))?;
        // The bridge forwards by its database only while a querier exists; its own querier
        // counts after a query response interval (10 s by default), until then multicast is
        // flooded, so nowhere with flooding off. 0.5 s here, then the querier is turned on.
        switch.ip(&[
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "1",
            "mcast_query_response_interval",
            "50",
        ])?;
        switch.ip(&["link", "set", "br0", "up"])?;
        switch.ip(&["link", "set", "br0", "type", "bridge", "mcast_querier", "1"])?;
        let querier_from = std::time::Instant::now() + QUERIER_DELAY;
        let mut lab = Lab {
            hosts: Vec::new(),
            switch,
            overlay: config.overlay,
        };
        for (i, h) in config.hosts.iter().enumerate() {
            let host = lab.add_host(&tag, i, h, config)?;
            lab.hosts.push(host);
        }
        std::thread::sleep(querier_from.saturating_duration_since(std::time::Instant::now()));
        Ok(lab)
    }

    fn add_host(
        &self,
        tag: &str,
        i: usize,
        h: &HostConfig,
        config: &LabConfig,
    ) -> io::Result<Host> {
        let ns = Namespace::bare(&format!("{tag}-h{i}"))?;
        let sw = &self.switch;
        let mtu = config.link_mtu.to_string();
        let address = Ipv4Addr::new(10, 77, 0, i as u8 + 1);
        let port = match config.overlay {
            Overlay::Direct => {
                let port = format!("p{i}");
                sw.ip(&[
                    "link", "add", &port, "mtu", &mtu, "type", "veth", "peer", "name", "eth0",
                    "mtu", &mtu, "netns", &ns.name,
                ])?;
                port
            }
            overlay => {
                // The unicast underlay: a routed /24 per host, no bridge, no multicast.
                let under = format!("u{i}");
                let (sw_ip, host_ip) = (format!("10.78.{i}.1"), format!("10.78.{i}.2"));
                sw.ip(&[
                    "link", "add", &under, "mtu", &mtu, "type", "veth", "peer", "name", "u0",
                    "mtu", &mtu, "netns", &ns.name,
                ])?;
                sw.ip(&["addr", "add", &format!("{sw_ip}/24"), "dev", &under])?;
                sw.ip(&["link", "set", &under, "up"])?;
                ns.ip(&["addr", "add", &format!("{host_ip}/24"), "dev", "u0"])?;
                ns.ip(&["link", "set", "u0", "up"])?;
                let port = format!("t{i}");
                let args = tunnel_args(overlay, &port, &sw_ip, &host_ip, &under, i);
                sw.ip(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
                let args = tunnel_args(overlay, "eth0", &host_ip, &sw_ip, "u0", i);
                ns.ip(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
                let inner = (config.link_mtu - overlay.mtu_reduction()).to_string();
                sw.ip(&["link", "set", &port, "mtu", &inner])?;
                ns.ip(&["link", "set", "eth0", "mtu", &inner])?;
                port
            }
        };
        sw.ip(&["link", "set", &port, "master", "br0", "up"])?;
        let out = sw
            .command("bridge")
            .args([
                "link",
                "set",
                "dev",
                &port,
                "fastleave",
                "on",
                "mcast_flood",
                "off",
            ])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "bridge link set {port}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        // A layered receiver joins one group per layer: Linux allows 20 per socket by default
        // (a per-namespace sysctl).
        let out = ns
            .command("sysctl")
            .args(["-qw", "net.ipv4.igmp_max_memberships=1024"])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "sysctl net.ipv4.igmp_max_memberships: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        ns.ip(&["addr", "add", &format!("{address}/24"), "dev", "eth0"])?;
        ns.ip(&["link", "set", "eth0", "up"])?;
        ns.ip(&["route", "add", "224.0.0.0/4", "dev", "eth0"])?;
        if let Some(args) = h.shape.tc_args(&port, config.link_mtu) {
            let out = sw.command("tc").args(&args).output()?;
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let hint = if h.shape.needs_netem() && stderr.contains("unknown") {
                    " (delay and loss need the kernel's sch_netem, CONFIG_NET_SCH_NETEM; a rate \
                     alone uses tbf)"
                } else {
                    ""
                };
                return Err(io::Error::other(format!(
                    "tc {}: {}{hint}",
                    args.join(" "),
                    stderr.trim()
                )));
            }
        }
        let mtu = config.link_mtu - config.overlay.mtu_reduction();
        Ok(Host {
            name: h.name.clone(),
            ns,
            address,
            dev: "eth0".into(),
            port,
            mtu,
            shape: h.shape.clone(),
        })
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The host behind a bridge port.
    pub fn host_of_port(&self, port: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.port == port)
    }

    /// Starts watching the bridge's group memberships (joins and leaves per port).
    pub fn watch_memberships(&self) -> io::Result<MembershipWatch> {
        MembershipWatch::start(&self.switch)
    }

    /// The IPv4 groups joined per port now, from the bridge's multicast database.
    pub fn memberships(&self) -> io::Result<Vec<(String, Ipv4Addr)>> {
        membership::snapshot(&self.switch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_ends_are_built_with_their_addresses_and_ids() {
        assert_eq!(
            tunnel_args(Overlay::Gretap, "t1", "10.78.1.1", "10.78.1.2", "u1", 1).join(" "),
            "link add t1 type gretap local 10.78.1.1 remote 10.78.1.2"
        );
        assert_eq!(
            tunnel_args(Overlay::Vxlan, "eth0", "10.78.3.2", "10.78.3.1", "u0", 3).join(" "),
            "link add eth0 type vxlan id 103 local 10.78.3.2 remote 10.78.3.1 dstport 4789 dev u0"
        );
        // Outer IPv4 20 + GRE 4 + inner Ethernet 14; outer IPv4 20 + UDP 8 + VXLAN 8 + 14.
        assert_eq!(Overlay::Gretap.mtu_reduction(), 38);
        assert_eq!(Overlay::Vxlan.mtu_reduction(), 50);
        assert_eq!(Overlay::Direct.mtu_reduction(), 0);
    }
}
