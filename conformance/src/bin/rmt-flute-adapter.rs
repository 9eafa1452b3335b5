//! `rmt-flute-adapter`: the `flute` crate's receiver (a third-party FLUTE implementation) in the
//! rmt-conform system-under-test contract.
//!
//!     rmt-flute-adapter recv [--group G] --port P --source IP --tsi T --mode flute|fcast --out DIR [--idle S]
//!     rmt-flute-adapter send --group ADDR:PORT --tsi T FILE...
//!
//! It receives UDP datagrams on 127.0.0.1:P, hands them to `flute::receiver::MultiReceiver`
//! listening to (source IP, TSI) only (as a source-specific join would), and writes each object
//! the crate completes without error to DIR under the last component of its Content-Location.
//! FCAST is not something the crate does: exit code 127 (unsupported).

use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use flute::core::UDPEndpoint;
use flute::receiver::writer::ObjectWriterBufferBuilder;
use flute::receiver::{MultiReceiver, MultiReceiverListener, ReceiverEndpoint};

/// Notes the crate's "session closed" callback, so that the adapter ends with the session
/// (the suite's "ends by itself") instead of on its idle timeout.
struct SessionEnd(Rc<std::cell::Cell<bool>>);

impl MultiReceiverListener for SessionEnd {
    fn on_session_open(&self, _: &ReceiverEndpoint) {}
    fn on_session_closed(&self, _: &ReceiverEndpoint) {
        self.0.set(true);
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The crate's sender: every file as one object, no-code FEC, the datagrams to ADDR:PORT at
/// about 20 Mbit/s.
fn send(args: &[String]) -> ExitCode {
    use flute::core::Oti;
    use flute::sender::{ObjectDesc, Sender};
    let Some(group) = arg(args, "--group").and_then(|g| g.parse::<std::net::SocketAddr>().ok())
    else {
        eprintln!("--group ADDR:PORT is required");
        return ExitCode::from(2);
    };
    let tsi: u64 = arg(args, "--tsi").and_then(|t| t.parse().ok()).unwrap_or(1);
    let files: Vec<&String> = args[2..]
        .iter()
        .filter(|a| !a.starts_with("--"))
        .filter(|a| std::path::Path::new(a).is_file())
        .collect();
    let endpoint = UDPEndpoint::new(None, group.ip().to_string(), group.port());
    let mut sender = Sender::new(endpoint, tsi, &Oti::default(), &Default::default());
    for f in files {
        let Ok(data) = std::fs::read(f) else {
            return ExitCode::from(3);
        };
        let name = std::path::Path::new(f)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(url) = url::Url::parse(&format!("file:///{name}")) else {
            return ExitCode::from(2);
        };
        match ObjectDesc::create_from_buffer(
            data,
            "application/octet-stream",
            &url,
            true,
            Default::default(),
        ) {
            Ok(o) => {
                if sender.add_object(0, o).is_err() {
                    return ExitCode::from(1);
                }
            }
            Err(_) => return ExitCode::from(1),
        }
    }
    let Ok(socket) = UdpSocket::bind(("0.0.0.0", 0)) else {
        return ExitCode::from(1);
    };
    let _ = socket.set_multicast_ttl_v4(1);
    let now = SystemTime::now();
    if sender.publish(now).is_err() {
        return ExitCode::from(1);
    }
    let mut sent = 0u64;
    while let Some(p) = sender.read(SystemTime::now()) {
        let _ = socket.send_to(&p, group);
        sent += 1;
        if sent.is_multiple_of(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("send") {
        return send(&args);
    }
    if args.get(1).map(String::as_str) != Some("recv") {
        eprintln!("usage: rmt-flute-adapter recv --port P --source IP --tsi T --mode flute|fcast --out DIR [--idle S]");
        return ExitCode::from(2);
    }
    // The unknown-case probe (quic-interop-runner's convention): rmt-conform names each case in
    // TESTCASE, and a case this adapter does not know gets 127, "unsupported".
    if std::env::var("TESTCASE").is_ok_and(|c| !c.starts_with("rfc")) {
        eprintln!("unknown test case");
        return ExitCode::from(127);
    }
    if arg(&args, "--mode").as_deref() == Some("fcast") {
        eprintln!("the flute crate implements FLUTE, not FCAST");
        return ExitCode::from(127);
    }
    let (Some(port), Some(out)) = (
        arg(&args, "--port").and_then(|p| p.parse::<u16>().ok()),
        arg(&args, "--out"),
    ) else {
        eprintln!("--port and --out are required");
        return ExitCode::from(2);
    };
    let tsi: u64 = arg(&args, "--tsi")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let source = arg(&args, "--source").unwrap_or_else(|| "127.0.0.1".into());
    let idle = Duration::from_secs_f64(
        arg(&args, "--idle")
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0),
    );
    // `--group`: a multicast group to join (rmt-conform's multicast transport), or the
    // unicast address to listen on (127.0.0.1, the loopback transport).
    let group: std::net::Ipv4Addr = arg(&args, "--group")
        .and_then(|g| g.parse().ok())
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST);
    let socket = match listen(group, port) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bind {group}:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
    big_receive_buffer(&socket);
    std::fs::create_dir_all(&out).ok();
    let writer = Rc::new(ObjectWriterBufferBuilder::new(true));
    let mut receiver = MultiReceiver::new(writer.clone(), None, true);
    receiver.add_listen_tsi(UDPEndpoint::new(Some(source), group.to_string(), port), tsi);
    let closed = Rc::new(std::cell::Cell::new(false));
    receiver.add_listener(SessionEnd(closed.clone()));
    let mut written = BTreeSet::new();
    let mut buf = vec![0u8; 65_536];
    let mut last = Instant::now();
    while last.elapsed() < idle && !closed.get() {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        last = Instant::now();
        let endpoint = UDPEndpoint::new(Some(from.ip().to_string()), group.to_string(), port);
        if let Err(e) = receiver.push(&endpoint, &buf[..n], SystemTime::now()) {
            eprintln!("flute receiver: {e:?}");
        }
        for (i, o) in writer.objects.borrow().iter().enumerate() {
            let o = o.borrow();
            if o.complete && !o.error && written.insert(i) {
                let name = o
                    .meta
                    .content_location
                    .rsplit('/')
                    .next()
                    .unwrap_or("object")
                    .to_string();
                let name = if name.is_empty() || name == ".." {
                    format!("object-{i}")
                } else {
                    name
                };
                if let Err(e) = std::fs::write(std::path::Path::new(&out).join(&name), &o.data) {
                    eprintln!("{name}: {e}");
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// A large buffer, so that a receiver briefly without CPU loses nothing (SO_RCVBUFFORCE goes
/// past net.core.rmem_max as root).
fn big_receive_buffer(s: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let v: libc::c_int = 16 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: valid fd, pointer to an int and its size.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &v as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// A socket on `group:port`: joined on any interface when `group` is multicast.
fn listen(group: std::net::Ipv4Addr, port: u16) -> std::io::Result<UdpSocket> {
    if group.is_multicast() {
        let s = UdpSocket::bind((group, port))?;
        s.join_multicast_v4(&group, &std::net::Ipv4Addr::UNSPECIFIED)?;
        Ok(s)
    } else {
        UdpSocket::bind((group, port))
    }
}
