//! A small HTTP/1.1 server for the session description (the "well-known web page" of the
//! seed design) and the matching client, for local (loopback or lab) URLs. Bounded: requests
//! are read up to 8 KiB, responses up to 1 MiB.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const MAX_REQUEST: usize = 8 << 10;
const MAX_RESPONSE: u64 = 1 << 20;

/// Serves `body` as `application/sdp` on every GET until dropped.
pub struct SdpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SdpServer {
    pub fn start(addr: SocketAddr, body: String) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let _ = serve_one(s, &body);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(SdpServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for SdpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(mut s: TcpStream, body: &str) -> io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < MAX_REQUEST {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let ok = req.starts_with(b"GET ");
    let (status, body) = if ok {
        ("200 OK", body)
    } else {
        ("405 Method Not Allowed", "")
    };
    write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// GETs an `http://host:port/path` URL and returns the body (status 200 only).
pub fn get(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(
        &(if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:80")
        }),
    )
    .map_err(|e| format!("{url}: {e}"))?
    .next()
    .ok_or_else(|| format!("{url}: no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("{url}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{url}: {e}"))?;
    let mut resp = Vec::new();
    s.take(MAX_RESPONSE)
        .read_to_end(&mut resp)
        .map_err(|e| format!("{url}: {e}"))?;
    let text = String::from_utf8_lossy(&resp);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{url}: malformed HTTP response"))?;
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{url}: {status}"));
    }
    Ok(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_and_fetches_over_loopback() {
        let server = SdpServer::start("127.0.0.1:0".parse().unwrap(), "v=0\r\n".into()).unwrap();
        let body = get(&format!("http://{}/session.sdp", server.addr)).unwrap();
        assert_eq!(body, "v=0\r\n");
        assert!(get("ftp://x").is_err());
    }
}
