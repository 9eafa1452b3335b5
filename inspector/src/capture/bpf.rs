//! Capture filters (`-f`) compiled to classic BPF for the kernel (SO_ATTACH_FILTER), so that
//! traffic the user did not ask for is dropped before it reaches the ring and costs nothing.
//!
//! The language is the part of pcap-filter(7) a multicast capture needs: the primitives `ip`,
//! `ip6`, `udp`, `tcp`, `[src|dst] port N`, `udp [src|dst] port N`, `[src|dst] host A.B.C.D`,
//! joined by `and` (`&&`) and `or` (`||`), which bind equally and group from the left as in
//! pcap-filter(7) (`a or b and c` is `(a or b) and c`); frames are Ethernet (as on `lo` and
//! veth). A port test, as in libpcap, does not match a non-first IPv4 fragment.
//! Anything else is refused with the word that could not be read, never guessed at.

use std::net::Ipv4Addr;

// Opcodes (linux/filter.h, bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LD_H_IND: u16 = 0x48;
const LDX_B_MSH: u16 = 0xb1;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

const ETHERTYPE: u32 = 12;
const IPV4: u32 = 0x0800;
const IPV6: u32 = 0x86dd;
const IPV4_PROTOCOL: u32 = 14 + 9;
const IPV4_FRAGMENT: u32 = 14 + 6;
const IPV4_SRC: u32 = 14 + 12;
const IPV4_DST: u32 = 14 + 16;
const IPV6_NEXT_HEADER: u32 = 14 + 6;
const IPV6_PORTS: u32 = 14 + 40;
/// Bytes kept of a frame that passes: all of it.
const SNAP: u32 = 0x0004_0000;

/// One instruction, its jumps to labels not yet placed.
#[derive(Clone, Copy)]
enum Op {
    Stmt(u16, u32),
    /// Compare A with k: go to `then` when true, to `otherwise` when false (None: next).
    Jump(u16, u32, Option<Label>, Option<Label>),
    Place(Label),
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Label(usize);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    Src,
    Dst,
    Either,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Primitive {
    Ip,
    Ip6,
    /// IP protocol (17 UDP, 6 TCP) over IPv4 or IPv6.
    Proto(u8),
    /// A port of UDP (Some(17)) or of TCP or UDP (None).
    Port(Option<u8>, Dir, u16),
    Host(Dir, Ipv4Addr),
}

struct Asm {
    ops: Vec<Op>,
    labels: usize,
}

impl Asm {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }
    fn stmt(&mut self, code: u16, k: u32) {
        self.ops.push(Op::Stmt(code, k));
    }
    fn jump(&mut self, code: u16, k: u32, then: Option<Label>, otherwise: Option<Label>) {
        self.ops.push(Op::Jump(code, k, then, otherwise));
    }
    fn place(&mut self, l: Label) {
        self.ops.push(Op::Place(l));
    }

    /// Code that falls through when `p` holds and jumps to `fail` when it does not.
    fn primitive(&mut self, p: Primitive, fail: Label) {
        match p {
            Primitive::Ip => {
                self.stmt(LD_H_ABS, ETHERTYPE);
                self.jump(JEQ_K, IPV4, None, Some(fail));
            }
            Primitive::Ip6 => {
                self.stmt(LD_H_ABS, ETHERTYPE);
                self.jump(JEQ_K, IPV6, None, Some(fail));
            }
            Primitive::Proto(proto) => {
                let (v6, ok) = (self.label(), self.label());
                self.stmt(LD_H_ABS, ETHERTYPE);
                self.jump(JEQ_K, IPV4, None, Some(v6));
                self.stmt(LD_B_ABS, IPV4_PROTOCOL);
                self.jump(JEQ_K, u32::from(proto), Some(ok), Some(fail));
                self.place(v6);
                self.jump(JEQ_K, IPV6, None, Some(fail));
                self.stmt(LD_B_ABS, IPV6_NEXT_HEADER);
                self.jump(JEQ_K, u32::from(proto), Some(ok), Some(fail));
                self.place(ok);
            }
            Primitive::Port(proto, dir, port) => {
                let (v6, v4_ports, v6_ports, ok) =
                    (self.label(), self.label(), self.label(), self.label());
                let protocol = |a: &mut Asm, then: Label| match proto {
                    Some(p) => a.jump(JEQ_K, u32::from(p), Some(then), Some(fail)),
                    None => {
                        a.jump(JEQ_K, 17, Some(then), None);
                        a.jump(JEQ_K, 6, Some(then), Some(fail));
                    }
                };
                self.stmt(LD_H_ABS, ETHERTYPE);
                self.jump(JEQ_K, IPV4, None, Some(v6));
                self.stmt(LD_B_ABS, IPV4_PROTOCOL);
                protocol(self, v4_ports);
                self.place(v4_ports);
                self.stmt(LD_H_ABS, IPV4_FRAGMENT);
                self.jump(JSET_K, 0x1fff, Some(fail), None);
                self.stmt(LDX_B_MSH, 14);
                self.ports(LD_H_IND, 14, dir, port, ok, fail);
                self.place(v6);
                self.jump(JEQ_K, IPV6, None, Some(fail));
                self.stmt(LD_B_ABS, IPV6_NEXT_HEADER);
                protocol(self, v6_ports);
                self.place(v6_ports);
                self.ports(LD_H_ABS, IPV6_PORTS, dir, port, ok, fail);
                self.place(ok);
            }
            Primitive::Host(dir, a) => {
                let ok = self.label();
                let a = u32::from(a);
                self.stmt(LD_H_ABS, ETHERTYPE);
                self.jump(JEQ_K, IPV4, None, Some(fail));
                if dir != Dir::Dst {
                    self.stmt(LD_W_ABS, IPV4_SRC);
                    let miss = if dir == Dir::Src { Some(fail) } else { None };
                    self.jump(JEQ_K, a, Some(ok), miss);
                }
                if dir != Dir::Src {
                    self.stmt(LD_W_ABS, IPV4_DST);
                    self.jump(JEQ_K, a, Some(ok), Some(fail));
                }
                self.place(ok);
            }
        }
    }

    /// Loads the source and/or destination port at `base` (+X for `LD_H_IND`) and compares.
    fn ports(&mut self, load: u16, base: u32, dir: Dir, port: u16, ok: Label, fail: Label) {
        if dir != Dir::Dst {
            self.stmt(load, base);
            let miss = if dir == Dir::Src { Some(fail) } else { None };
            self.jump(JEQ_K, u32::from(port), Some(ok), miss);
        }
        if dir != Dir::Src {
            self.stmt(load, base + 2);
            self.jump(JEQ_K, u32::from(port), Some(ok), Some(fail));
        }
    }

    /// The program with labels resolved to relative jumps.
    fn finish(self) -> Result<Vec<libc::sock_filter>, String> {
        let mut at = vec![0usize; self.labels];
        let mut n = 0;
        for op in &self.ops {
            match op {
                Op::Place(l) => at[l.0] = n,
                _ => n += 1,
            }
        }
        let mut out = Vec::with_capacity(n);
        for op in &self.ops {
            let here = out.len();
            let rel = |l: Option<Label>| -> Result<u8, String> {
                let Some(l) = l else { return Ok(0) };
                u8::try_from(at[l.0] - here - 1).map_err(|_| "the filter is too long".to_string())
            };
            match *op {
                Op::Stmt(code, k) => out.push(libc::sock_filter {
                    code,
                    jt: 0,
                    jf: 0,
                    k,
                }),
                Op::Jump(code, k, t, f) => out.push(libc::sock_filter {
                    code,
                    jt: rel(t)?,
                    jf: rel(f)?,
                    k,
                }),
                Op::Place(_) => {}
            }
        }
        Ok(out)
    }
}

fn direction(words: &[&str], i: &mut usize) -> Dir {
    match words.get(*i) {
        Some(&"src") => {
            *i += 1;
            Dir::Src
        }
        Some(&"dst") => {
            *i += 1;
            Dir::Dst
        }
        _ => Dir::Either,
    }
}

/// Reads one primitive at `words[*i]`.
fn primitive(words: &[&str], i: &mut usize) -> Result<Primitive, String> {
    let word = |i: usize| words.get(i).copied().unwrap_or("<end>");
    let start = *i;
    let proto = match word(*i) {
        "ip" => {
            *i += 1;
            return Ok(Primitive::Ip);
        }
        "ip6" => {
            *i += 1;
            return Ok(Primitive::Ip6);
        }
        "udp" | "tcp" => {
            *i += 1;
            Some(if word(start) == "udp" { 17 } else { 6 })
        }
        _ => None,
    };
    let dir = direction(words, i);
    match word(*i) {
        "port" => {
            let n = word(*i + 1);
            let port = n.parse().map_err(|_| format!("{n:?} is not a port"))?;
            *i += 2;
            Ok(Primitive::Port(proto, dir, port))
        }
        "host" if proto.is_none() => {
            let a = word(*i + 1);
            let addr = a
                .parse()
                .map_err(|_| format!("{a:?} is not an IPv4 address"))?;
            *i += 2;
            Ok(Primitive::Host(dir, addr))
        }
        _ if dir == Dir::Either => match proto {
            Some(p) => Ok(Primitive::Proto(p)),
            None => Err(format!(
                "{:?} is not understood (ip, ip6, udp, tcp, [src|dst] port N, [src|dst] host A.B.C.D, and, or)",
                word(start)
            )),
        },
        other => Err(format!("{other:?} after {:?}: expected port or host", word(*i - 1))),
    }
}

/// Compiles a capture filter; the error names what could not be read.
pub fn compile(filter: &str) -> Result<Vec<libc::sock_filter>, String> {
    let spaced = filter.replace("&&", " and ").replace("||", " or ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    if words.is_empty() {
        return Err("the capture filter is empty".into());
    }
    // Disjunctive form: terms of `or`, each a conjunction of primitives, built from the left
    // (`and` adds its primitive to every term so far, `or` starts a term).
    let mut terms: Vec<Vec<Primitive>> = vec![Vec::new()];
    let mut i = 0;
    let mut op = "and";
    loop {
        let p = primitive(&words, &mut i)?;
        if op == "or" {
            terms.push(vec![p]);
        } else {
            terms.iter_mut().for_each(|t| t.push(p));
        }
        match words.get(i) {
            None => break,
            Some(&w @ ("and" | "or")) => {
                op = w;
                i += 1;
            }
            Some(w) => return Err(format!("{w:?}: expected and, or, or the end")),
        }
        if i >= words.len() {
            return Err("the filter ends after and/or".into());
        }
    }
    if terms.iter().map(Vec::len).sum::<usize>() > 64 {
        return Err("the filter is too long (64 primitives at most, once expanded)".into());
    }
    let mut asm = Asm {
        ops: Vec::new(),
        labels: 0,
    };
    for term in &terms {
        let next = asm.label();
        for &p in term {
            asm.primitive(p, next);
        }
        asm.stmt(RET_K, SNAP);
        asm.place(next);
    }
    asm.stmt(RET_K, 0);
    asm.finish()
}

/// Runs a program on a frame as the kernel would (the instructions [`compile`] emits): the
/// bytes kept, 0 for a frame dropped. For tests, and to check a program before attaching it.
pub fn run(program: &[libc::sock_filter], frame: &[u8]) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let load = |at: u32, n: usize| -> Option<u32> {
        let at = at as usize;
        let b = frame.get(at..at.checked_add(n)?)?;
        Some(b.iter().fold(0u32, |v, &b| v << 8 | u32::from(b)))
    };
    let mut pc = 0;
    // Every jump goes forward, so the program ends within its length.
    while let Some(ins) = program.get(pc) {
        pc += 1;
        let loaded = match ins.code {
            LD_W_ABS => load(ins.k, 4),
            LD_H_ABS => load(ins.k, 2),
            LD_B_ABS => load(ins.k, 1),
            LD_H_IND => load(x.wrapping_add(ins.k), 2),
            LDX_B_MSH => {
                match load(ins.k, 1) {
                    Some(b) => x = 4 * (b & 0xf),
                    None => return 0,
                }
                continue;
            }
            RET_K => return ins.k,
            JEQ_K | JSET_K => {
                let hit = if ins.code == JEQ_K {
                    a == ins.k
                } else {
                    a & ins.k != 0
                };
                pc += usize::from(if hit { ins.jt } else { ins.jf });
                continue;
            }
            _ => return 0,
        };
        match loaded {
            Some(v) => a = v,
            // A load past the end drops the frame, as in the kernel.
            None => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::Frame;

    fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16)) -> Vec<u8> {
        Frame::ipv4_udp(
            (src.0.into(), src.1),
            (dst.0.into(), dst.1),
            b"payload",
            false,
        )
    }

    fn passes(filter: &str, frame: &[u8]) -> bool {
        run(&compile(filter).unwrap(), frame) > 0
    }

    #[test]
    fn filters_keep_what_they_name_and_drop_the_rest() {
        let f = udp(([10, 0, 0, 1], 4000), ([233, 252, 0, 1], 3400));
        for yes in [
            "udp port 3400",
            "udp dst port 3400",
            "port 4000",
            "src port 4000",
            "udp",
            "ip",
            "host 233.252.0.1",
            "dst host 233.252.0.1 and udp port 3400",
            "src host 10.0.0.1",
            "udp port 9 or udp port 3400",
            "tcp || udp dst port 3400",
            // pcap-filter groups from the left: (udp port 9 or udp) and host 10.0.0.1.
            "udp port 9 or udp and host 10.0.0.1",
        ] {
            assert!(passes(yes, &f), "{yes} keeps it");
        }
        for no in [
            "udp port 3401",
            "udp src port 3400",
            "dst port 4000",
            "tcp",
            "ip6",
            "host 10.0.0.2",
            "src host 233.252.0.1",
            "udp port 3400 and host 10.0.0.9",
            "udp port 9 or tcp port 3400",
            // (udp or tcp) and host 10.0.0.9, not udp or (tcp and host 10.0.0.9).
            "udp or tcp and host 10.0.0.9",
        ] {
            assert!(!passes(no, &f), "{no} drops it");
        }
        // A later fragment carries no UDP header: a port test does not match it.
        let mut frag = f.clone();
        frag[14 + 6] = 0x00;
        frag[14 + 7] = 0x10;
        assert!(!passes("udp port 3400", &frag) && passes("udp", &frag));
        // Not IP, and a frame cut short: dropped.
        let mut arp = f.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(!passes("udp", &arp) && !passes("port 3400", &arp));
        assert!(!passes("udp port 3400", &f[..30]));
        assert_eq!(
            run(&compile("udp").unwrap(), &f),
            SNAP,
            "the whole frame kept"
        );
    }

    #[test]
    fn ipv6_ports_and_protocols() {
        let mut f = vec![0u8; 14 + 40 + 8];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[14 + 6] = 17;
        f[14 + 40..14 + 42].copy_from_slice(&4000u16.to_be_bytes());
        f[14 + 42..14 + 44].copy_from_slice(&3400u16.to_be_bytes());
        assert!(passes("ip6 and udp dst port 3400", &f));
        assert!(passes("udp", &f) && !passes("ip", &f) && !passes("tcp", &f));
        assert!(!passes("udp port 3401", &f) && !passes("host 10.0.0.1", &f));
    }

    #[test]
    fn errors_name_what_could_not_be_read() {
        for (filter, says) in [
            ("", "empty"),
            ("udp port x", "\"x\" is not a port"),
            ("vlan", "\"vlan\" is not understood"),
            ("host 2001:db8::1", "not an IPv4 address"),
            ("udp port 3400 and", "ends after"),
            ("udp port 3400 xor udp", "\"xor\": expected and"),
            ("src udp", "\"udp\" after \"src\""),
        ] {
            let e = compile(filter).unwrap_err();
            assert!(e.contains(says), "{filter:?}: {e}");
        }
    }
}
