//! A simulated network on a virtual clock: the sender's datagrams go to receivers with seeded
//! loss, so that sender and receiver logic are tested together without sockets or real time.

use std::time::Duration;

use crate::receiver::{Event, Receiver};
use crate::rng::SeededRng;
use crate::sender::{Sender, Transmit};
use crate::time::Now;

#[derive(Debug, Clone)]
pub struct SimNetwork {
    pub loss: f64,
    pub seed: u64,
    /// Delay from sender to receiver.
    pub delay: Duration,
    /// Bound on datagrams, so that a sender that never finishes cannot hang a test.
    pub max_datagrams: u64,
}

impl Default for SimNetwork {
    fn default() -> Self {
        SimNetwork {
            loss: 0.0,
            seed: 1,
            delay: Duration::from_millis(5),
            max_datagrams: 10_000_000,
        }
    }
}

/// What a run produced.
#[derive(Debug, Default)]
pub struct SimRun {
    pub datagrams: u64,
    pub lost: u64,
    pub end: Now,
    /// Events per receiver, in order.
    pub events: Vec<Vec<Event>>,
    /// Every datagram the sender produced (when recorded).
    pub transmits: Vec<Transmit>,
}

impl SimNetwork {
    /// Runs `sender` from `start` until it is finished, feeding every receiver. `on_tick` is
    /// called before each datagram with the sender and the current time (to commit new
    /// instances as time goes by); it returns false to stop early.
    pub fn run(
        &self,
        sender: &mut Sender,
        receivers: &mut [&mut Receiver],
        start: Now,
        record: bool,
        mut on_tick: impl FnMut(&mut Sender, Now) -> bool,
    ) -> SimRun {
        let mut rng = SeededRng::new(self.seed);
        let mut run = SimRun {
            events: vec![Vec::new(); receivers.len()],
            ..Default::default()
        };
        let mut now = start;
        let mut stalls = 0;
        while run.datagrams < self.max_datagrams && stalls < 1000 {
            if !on_tick(sender, now) {
                break;
            }
            let Some(due) = sender.poll_timeout() else {
                break;
            };
            now = now.max(due);
            let Some(t) = sender.poll_transmit(now) else {
                stalls += 1;
                continue;
            };
            stalls = 0;
            run.datagrams += 1;
            if rng.chance(self.loss) {
                run.lost += 1;
            } else {
                for (i, r) in receivers.iter_mut().enumerate() {
                    r.handle(t.at + self.delay, t.source, &t.payload);
                    while let Some(e) = r.poll_event() {
                        run.events[i].push(e);
                    }
                }
            }
            if record {
                run.transmits.push(t);
            }
        }
        run.end = now;
        run
    }
}
