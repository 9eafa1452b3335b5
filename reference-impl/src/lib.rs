//! rmt-reference: a sans-IO ALC/FLUTE/FCAST sender and receiver with fault injection, and the
//! thin drivers (UDP, capture files) that move their datagrams.

pub mod driver;
pub mod faults;
pub mod fec_config;
pub mod http;
pub mod packet;
pub mod receiver;
pub mod rng;
pub mod route;
pub mod sdp;
pub mod sender;
pub mod sessions;
pub mod sim;
pub mod testkit;
pub mod time;
pub mod toi;
pub mod webrc;

pub use faults::Faults;
pub use receiver::{Delivered, Event, Receiver, ReceiverConfig};
pub use sender::{Mode, ObjectSpec, Sender, SenderConfig, Transmit};
