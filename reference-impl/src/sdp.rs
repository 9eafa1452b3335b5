//! The session description (SDP, RFC 4566) with what LCT and ALC say a receiver must learn
//! out of band (RFC 5651 §6.1, RFC 5775 §2.4): the sender's address, the TSI, the channels
//! (addresses and ports), the rate, the FEC scheme and the payload length.
//!
//! The attribute names follow 3GPP MBMS and the FLUTE SDP drafts where one exists
//! (`source-filter` from RFC 4570, `flute-tsi`, `FEC-declaration`); the rest are `x-rmt-*`.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

use crate::sender::Mode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub source: IpAddr,
    pub tsi: u64,
    /// Channels (group or unicast address and port); the first is the base channel.
    pub channels: Vec<SocketAddr>,
    pub ttl: u32,
    pub mode: Mode,
    pub fec_encoding_id: u8,
    /// Bits per second, all channels together.
    pub rate_bps: u64,
    /// Bytes of encoding symbol per packet.
    pub payload_length: u16,
}

fn ip_kind(a: &IpAddr) -> &'static str {
    if a.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    }
}

impl SessionDescription {
    pub fn to_sdp(&self, session_id: u64) -> String {
        let mut s = String::new();
        let src = self.source;
        let (proto, delivery) = match self.mode {
            Mode::Flute => ("FLUTE/UDP", "FLUTE"),
            Mode::Fcast => ("ALC/UDP", "FCAST"),
        };
        let _ = writeln!(s, "v=0");
        let _ = writeln!(s, "o=- {session_id} 1 IN {} {src}", ip_kind(&src));
        let _ = writeln!(s, "s=rmtkit {delivery} session");
        let _ = writeln!(s, "t=0 0");
        let _ = writeln!(s, "a=flute-tsi:{}", self.tsi);
        let _ = writeln!(s, "a=x-rmt-object-delivery:{}", delivery.to_lowercase());
        let _ = writeln!(
            s,
            "a=FEC-declaration:0 encoding-id={}",
            self.fec_encoding_id
        );
        for ch in &self.channels {
            let _ = writeln!(s, "m=application {} {proto} 0", ch.port());
            let ttl = if ch.ip().is_ipv4() && ch.ip().is_multicast() {
                format!("/{}", self.ttl)
            } else {
                String::new()
            };
            let _ = writeln!(s, "c=IN {} {}{ttl}", ip_kind(&ch.ip()), ch.ip());
            let _ = writeln!(
                s,
                "b=AS:{}",
                self.rate_bps.div_ceil(1000) / self.channels.len().max(1) as u64
            );
            let _ = writeln!(
                s,
                "a=source-filter: incl IN {} {} {src}",
                ip_kind(&ch.ip()),
                ch.ip()
            );
            let _ = writeln!(s, "a=x-rmt-payload-length:{}", self.payload_length);
            let _ = writeln!(s, "a=FEC:0");
        }
        s.replace('\n', "\r\n")
    }

    /// Parses an SDP written by [`SessionDescription::to_sdp`] or by hand with the same
    /// attributes. Unknown `a=` attributes are ignored; an unknown line type voids the whole
    /// description (RFC 4566 §5).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut source = None;
        let mut tsi = None;
        let mut channels = Vec::new();
        let mut ttl = 1;
        let mut mode = None;
        let mut fec = 0u8;
        let mut rate_kbps = 0u64;
        let mut payload_length = 1400u16;
        let mut port: Option<u16> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let err = |what: &str| format!("SDP line {}: {what}: {line:?}", n + 1);
            let (ty, value) = line
                .split_once('=')
                .ok_or_else(|| err("not <type>=<value>"))?;
            match ty {
                "v" | "s" | "i" | "u" | "e" | "p" | "t" | "r" | "z" | "k" => {}
                "o" => {
                    let f: Vec<&str> = value.split_whitespace().collect();
                    if let Some(a) = f.get(5) {
                        source.get_or_insert(
                            a.parse::<IpAddr>().map_err(|_| err("bad origin address"))?,
                        );
                    }
                }
                "m" => {
                    let f: Vec<&str> = value.split_whitespace().collect();
                    port = Some(
                        f.get(1)
                            .and_then(|p| p.split('/').next()?.parse().ok())
                            .ok_or_else(|| err("bad port"))?,
                    );
                    if let Some(p) = f.get(2) {
                        mode.get_or_insert(if p.starts_with("FLUTE") {
                            Mode::Flute
                        } else {
                            Mode::Fcast
                        });
                    }
                }
                "c" => {
                    let f: Vec<&str> = value.split_whitespace().collect();
                    let addr = f.get(2).ok_or_else(|| err("no address"))?;
                    let mut parts = addr.split('/');
                    let ip: IpAddr = parts
                        .next()
                        .unwrap_or("")
                        .parse()
                        .map_err(|_| err("bad address"))?;
                    if let Some(t) = parts.next() {
                        ttl = t.parse().map_err(|_| err("bad TTL"))?;
                    }
                    let p = port.ok_or_else(|| err("c= before m="))?;
                    channels.push(SocketAddr::new(ip, p));
                }
                "b" => {
                    if let Some(v) = value.strip_prefix("AS:") {
                        rate_kbps += v.trim().parse::<u64>().map_err(|_| err("bad bandwidth"))?;
                    }
                }
                "a" => {
                    let (name, v) = value.split_once(':').unwrap_or((value, ""));
                    match name {
                        "flute-tsi" | "x-rmt-tsi" => {
                            tsi = Some(v.trim().parse().map_err(|_| err("bad TSI"))?)
                        }
                        "source-filter" => {
                            let f: Vec<&str> = v.split_whitespace().collect();
                            if let Some(a) = f.get(4) {
                                source =
                                    Some(a.parse().map_err(|_| err("bad source-filter address"))?);
                            }
                        }
                        "x-rmt-object-delivery" => {
                            mode = Some(if v.trim() == "flute" {
                                Mode::Flute
                            } else {
                                Mode::Fcast
                            })
                        }
                        "FEC-declaration" => {
                            if let Some(id) = v
                                .split_whitespace()
                                .find_map(|t| t.strip_prefix("encoding-id="))
                            {
                                fec = id.parse().map_err(|_| err("bad encoding-id"))?;
                            }
                        }
                        "x-rmt-payload-length" => {
                            payload_length =
                                v.trim().parse().map_err(|_| err("bad payload length"))?
                        }
                        _ => {} // §5: unknown attributes are ignored
                    }
                }
                _ => return Err(err("unknown line type (RFC 4566 §5)")),
            }
        }
        Ok(SessionDescription {
            source: source.ok_or("SDP gives no source address (RFC 5651 §6.1)")?,
            tsi: tsi.ok_or("SDP gives no TSI (a=flute-tsi, RFC 5651 §6.1)")?,
            channels: if channels.is_empty() {
                return Err("SDP gives no channel (m= and c=)".into());
            } else {
                channels
            },
            ttl,
            mode: mode.unwrap_or(Mode::Flute),
            fec_encoding_id: fec,
            rate_bps: rate_kbps * 1000,
            payload_length,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_sdp_parses_back() {
        for mode in [Mode::Flute, Mode::Fcast] {
            let d = SessionDescription {
                source: "10.0.0.1".parse().unwrap(),
                tsi: 42,
                channels: vec![
                    "233.252.0.1:3400".parse().unwrap(),
                    "233.252.0.2:3401".parse().unwrap(),
                ],
                ttl: 4,
                mode,
                fec_encoding_id: 3,
                rate_bps: 8_000_000,
                payload_length: 1400,
            };
            let text = d.to_sdp(7);
            assert!(text.contains("a=source-filter: incl IN IP4 233.252.0.1 10.0.0.1\r\n"));
            assert_eq!(SessionDescription::parse(&text).unwrap(), d);
        }
    }

    #[test]
    fn an_unknown_line_type_voids_the_description_and_missing_tsi_is_named() {
        let ok = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\na=flute-tsi:1\r\nm=application 3400 FLUTE/UDP 0\r\nc=IN IP4 233.252.0.1/1\r\na=unknown-thing:3\r\n";
        assert!(SessionDescription::parse(ok).is_ok());
        let e = SessionDescription::parse(&format!("{ok}x=1\r\n")).unwrap_err();
        assert!(e.contains("unknown line type"), "{e}");
        let e = SessionDescription::parse(&ok.replace("a=flute-tsi:1\r\n", "")).unwrap_err();
        assert!(e.contains("TSI"), "{e}");
    }
}
