//! Network namespaces for tests and labs: created and removed by code (also on failure, by
//! `Drop`), so that multicast is never sent from the machine's own namespace. Needs root and
//! ip(8); [`Namespace::available`] says why not when it cannot run.

use std::io;
use std::process::Command;

#[derive(Debug)]
pub struct Namespace {
    pub name: String,
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Namespace {
    /// Whether namespaces can be made here (root and ip(8)), or why not.
    pub fn available() -> Result<(), String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("network namespaces need root".into());
        }
        Command::new("ip")
            .arg("-V")
            .output()
            .map_err(|e| format!("ip(8) is not available: {e}"))
            .map(|_| ())
    }

    /// For tests that need namespaces: true when they can run. In CI (`CI` set, as root) they
    /// must, so this panics there; elsewhere it says the test is skipped.
    pub fn usable_by_test() -> bool {
        match Self::available() {
            Ok(()) => true,
            Err(why) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI runs as root with ip(8): {why}"
                );
                eprintln!("SKIPPED: {why}");
                false
            }
        }
    }

    /// A namespace whose loopback is up with multicast routed to it (IPv4 and IPv6), so that
    /// processes inside can send and join groups on `lo`.
    pub fn create(name: &str) -> io::Result<Namespace> {
        ip(&["netns", "add", name])?;
        let ns = Namespace {
            name: name.to_string(),
        };
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        ip(&["-n", name, "link", "set", "lo", "multicast", "on"])?;
        // With `src`: a sender that does not bind its socket sends from 127.0.0.1, not from
        // 0.0.0.0 (the kernel finds no source for a multicast route on lo without it).
        ip(&[
            "-n",
            name,
            "route",
            "add",
            "224.0.0.0/4",
            "dev",
            "lo",
            "src",
            "127.0.0.1",
        ])?;
        // IPv6 multicast on lo: a route in the main table (best effort on kernels without it).
        let _ = ip(&[
            "-n", name, "-6", "route", "add", "ff00::/8", "dev", "lo", "table", "main",
        ]);
        Ok(ns)
    }

    /// A namespace with only its loopback up: for lab hosts, whose multicast goes out of the
    /// interfaces the lab gives them.
    pub fn bare(name: &str) -> io::Result<Namespace> {
        ip(&["netns", "add", name])?;
        let ns = Namespace {
            name: name.to_string(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Runs `ip -n <this namespace> args...`; the error carries ip's message.
    pub fn ip(&self, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Runs `f` on a thread that has entered this namespace (setns(2)): sockets it opens belong
    /// to the namespace, the calling thread stays where it is. `f` never runs when setns fails:
    /// that error is returned here.
    pub fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> io::Result<NamespaceThread<R>> {
        let file = std::fs::File::open(format!("/run/netns/{}", self.name))?;
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid namespace file descriptor; setns only changes this thread.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                let _ = entered_tx.send(Err(io::Error::last_os_error()));
                return None;
            }
            let _ = entered_tx.send(Ok(()));
            Some(f())
        });
        match entered_rx.recv() {
            Ok(Ok(())) => Ok(NamespaceThread(handle)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("namespace thread ended before setns")),
        }
    }

    /// A veth pair `a`–`b` inside the namespace, both up, IPv6 link-local addresses usable at
    /// once (duplicate address detection off). Returns the interface indexes of `a` and `b`.
    pub fn veth(&self, a: &str, b: &str) -> io::Result<(u32, u32)> {
        let n = self.name.as_str();
        for conf in ["default", "all"] {
            let key = format!("net.ipv6.conf.{conf}.accept_dad=0");
            let _ = self.command("sysctl").args(["-qw", &key]).status();
        }
        ip(&["-n", n, "link", "add", a, "type", "veth", "peer", "name", b])?;
        ip(&["-n", n, "link", "set", a, "up"])?;
        ip(&["-n", n, "link", "set", b, "up"])?;
        let index = |dev: &str| -> io::Result<u32> {
            let out = self
                .command("cat")
                .arg(format!("/sys/class/net/{dev}/ifindex"))
                .output()?;
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .map_err(|_| io::Error::other(format!("no interface index for {dev}")))
        };
        Ok((index(a)?, index(b)?))
    }

    /// Adds an address (`fd00::1/64`, `10.0.0.1/24`) to an interface of the namespace.
    pub fn add_address(&self, dev: &str, cidr: &str) -> io::Result<()> {
        ip(&["-n", &self.name, "addr", "add", cidr, "dev", dev, "nodad"])
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

/// A thread running inside a namespace ([`Namespace::run`]).
pub struct NamespaceThread<R>(std::thread::JoinHandle<Option<R>>);

impl<R> NamespaceThread<R> {
    /// Waits for it; `Err` when it panicked.
    pub fn join(self) -> std::thread::Result<R> {
        // `None` only when setns failed, which `run` has already returned as its error.
        self.0
            .join()
            .map(|r| r.expect("the thread entered the namespace"))
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}
