//! rmt-conformance: an RFC-keyed conformance suite for ALC/FLUTE/FCAST senders and receivers.
//!
//! - [`catalogue`]: the cases, by stable ID `rfcNNNN/section/slug`;
//! - [`play`]: receiver scenarios (`vectors/scenarios/`) turned into datagrams by the reference
//!   sender, with packet edits;
//! - [`runner`]: receiver cases against a system under test ([`sut`] profiles), delivered
//!   over real multicast in a namespace or unicast on loopback ([`transport`]);
//! - [`sender`]: sender cases judged from packets by the inspector's findings;
//! - [`lab`]: the network lab (namespaces, an IGMP-snooping bridge, shaped links, tunnels) and
//!   WEBRC in it;
//! - [`matrix`]: receivers × our sender's FLUTE flavours, and third-party senders, in one
//!   run (JSON and an HTML page);
//! - [`report`] and [`html`] (console table, JSON, JUnit, an HTML page), [`outcome`],
//!   [`requirements`].

pub mod catalogue;
pub mod html;
pub mod lab;
pub mod matrix;
pub mod mutants;
pub mod outcome;
pub mod play;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod sender;
pub mod sender_exec;
pub mod soak;
pub mod sut;
pub mod transport;
