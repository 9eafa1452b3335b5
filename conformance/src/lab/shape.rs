//! A host link's shape (rate, delay, loss, queue) and the tc netem qdisc that makes it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What a link does to the traffic towards its host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkShape {
    /// Bits per second; `None`: as fast as the veth goes.
    pub rate_bps: Option<u64>,
    pub delay: Duration,
    /// Random loss, 0..=100 percent.
    pub loss_percent: f64,
    /// Queue limit in packets; by default 200 ms of the rate (at least 8 packets), a common
    /// router buffer, so that a shaped link drops instead of building seconds of delay.
    pub queue_packets: Option<u32>,
}

impl LinkShape {
    pub fn rate_mbit(mbit: f64) -> Self {
        LinkShape {
            rate_bps: Some((mbit * 1e6) as u64),
            ..LinkShape::default()
        }
    }

    pub fn is_unshaped(&self) -> bool {
        self.rate_bps.is_none() && self.delay.is_zero() && self.loss_percent == 0.0
    }

    /// The queue limit used, packets of `mtu` bytes.
    pub fn queue_limit(&self, mtu: u32) -> u32 {
        self.queue_packets.unwrap_or_else(|| match self.rate_bps {
            Some(r) => ((r as f64 * 0.200 / 8.0 / f64::from(mtu.max(68))).ceil() as u32).max(8),
            None => 1000,
        })
    }

    /// Whether the shape needs netem (delay or loss); a rate alone is made with tbf, which
    /// kernels without sch_netem have too.
    pub fn needs_netem(&self) -> bool {
        !self.delay.is_zero() || self.loss_percent > 0.0
    }

    /// `tc` arguments that put this shape on `dev`, or `None` for an unshaped link: tbf for a
    /// rate alone (bucket of 4 ms of the rate, at least two packets), netem otherwise.
    pub fn tc_args(&self, dev: &str, mtu: u32) -> Option<Vec<String>> {
        if self.is_unshaped() {
            return None;
        }
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        if let (false, Some(r)) = (self.needs_netem(), self.rate_bps) {
            let burst = (r / 8 / 250).max(2 * u64::from(mtu));
            let limit = u64::from(self.queue_limit(mtu)) * u64::from(mtu);
            let mut a = words(&["qdisc", "add", "dev", dev, "root", "tbf"]);
            a.extend(words(&[
                "rate",
                &format!("{r}bit"),
                "burst",
                &burst.to_string(),
                "limit",
                &limit.to_string(),
            ]));
            return Some(a);
        }
        let mut a = words(&["qdisc", "add", "dev", dev, "root", "netem"]);
        if !self.delay.is_zero() {
            a.push("delay".into());
            a.push(format!("{}us", self.delay.as_micros()));
        }
        if self.loss_percent > 0.0 {
            a.push("loss".into());
            a.push(format!("{}%", self.loss_percent));
        }
        if let Some(r) = self.rate_bps {
            a.push("rate".into());
            a.push(format!("{r}bit"));
        }
        a.push("limit".into());
        a.push(self.queue_limit(mtu).to_string());
        Some(a)
    }
}

impl fmt::Display for LinkShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(r) = self.rate_bps {
            parts.push(format!("{}mbit", r as f64 / 1e6));
        }
        if !self.delay.is_zero() {
            parts.push(format!("delay={}ms", self.delay.as_secs_f64() * 1e3));
        }
        if self.loss_percent > 0.0 {
            parts.push(format!("loss={}%", self.loss_percent));
        }
        if let Some(q) = self.queue_packets {
            parts.push(format!("queue={q}"));
        }
        if parts.is_empty() {
            parts.push("unshaped".into());
        }
        f.write_str(&parts.join(","))
    }
}

/// `8mbit`, `8mbit,delay=20ms,loss=0.5%,queue=40`, `2.5mbit`, `500kbit`, `unshaped`.
impl FromStr for LinkShape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut shape = LinkShape::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let number = |v: &str, unit: &str| -> Result<f64, String> {
                v.strip_suffix(unit)
                    .unwrap_or(v)
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| format!("{part:?}: not a number of {unit}"))
            };
            if part == "unshaped" {
                continue;
            } else if let Some(v) = part.strip_prefix("delay=") {
                shape.delay = Duration::from_secs_f64(number(v, "ms")? / 1e3);
            } else if let Some(v) = part.strip_prefix("loss=") {
                let l = number(v, "%")?;
                if l > 100.0 {
                    return Err(format!("{part:?}: loss is at most 100%"));
                }
                shape.loss_percent = l;
            } else if let Some(v) = part.strip_prefix("queue=") {
                shape.queue_packets = Some(
                    v.parse()
                        .map_err(|_| format!("{part:?}: packets expected"))?,
                );
            } else if let Some(v) = part.strip_suffix("mbit") {
                shape.rate_bps = Some((number(v, "")? * 1e6) as u64);
            } else if let Some(v) = part.strip_suffix("kbit") {
                shape.rate_bps = Some((number(v, "")? * 1e3) as u64);
            } else {
                return Err(format!(
                    "{part:?}: expected RATE (e.g. 8mbit, 500kbit), delay=MS, loss=PERCENT% or queue=PACKETS"
                ));
            }
        }
        if shape.rate_bps == Some(0) {
            return Err("a rate of 0 passes nothing".into());
        }
        Ok(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_print_and_become_netem_arguments() {
        let rate: LinkShape = "8mbit".parse().unwrap();
        assert_eq!(
            rate.tc_args("p1", 1500).unwrap().join(" "),
            "qdisc add dev p1 root tbf rate 8000000bit burst 4000 limit 201000"
        );
        let s: LinkShape = "8mbit,delay=20ms,loss=0.5%".parse().unwrap();
        assert_eq!(s.rate_bps, Some(8_000_000));
        assert_eq!(s.delay, Duration::from_millis(20));
        assert_eq!(s.to_string(), "8mbit,delay=20ms,loss=0.5%");
        assert_eq!(
            s.tc_args("p1", 1500).unwrap().join(" "),
            "qdisc add dev p1 root netem delay 20000us loss 0.5% rate 8000000bit limit 134"
        );
        assert_eq!(
            "500kbit".parse::<LinkShape>().unwrap().rate_bps,
            Some(500_000)
        );
        // 2 Mbit/s: 200 ms is 33.3 packets of 1500 bytes.
        assert_eq!(LinkShape::rate_mbit(2.0).queue_limit(1500), 34);
        assert_eq!(LinkShape::rate_mbit(0.1).queue_limit(1500), 8);
        assert!("unshaped"
            .parse::<LinkShape>()
            .unwrap()
            .tc_args("p0", 1500)
            .is_none());
        for bad in ["fast", "loss=150%", "0mbit", "delay=-3ms", "queue=x"] {
            assert!(bad.parse::<LinkShape>().is_err(), "{bad}");
        }
    }
}
