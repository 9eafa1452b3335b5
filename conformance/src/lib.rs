//! rmt-conformance: an RFC-keyed conformance suite for ALC/FLUTE/FCAST senders and receivers.
//!
//! - [`catalogue`]: the cases, by stable ID `rfcNNNN/section/slug`;
//! - [`play`]: receiver scenarios (`vectors/scenarios/`) turned into datagrams by the reference
//!   sender, with packet edits;
//! - [`runner`]: receiver cases against a system under test ([`sut`] profiles);
//! - [`sender`]: sender cases judged from packets by the inspector's findings;
//! - [`lab`]: the network lab (namespaces, an IGMP-snooping bridge, shaped links, tunnels) and
//!   WEBRC in it;
//! - [`report`], [`outcome`], [`requirements`].

pub mod catalogue;
pub mod lab;
pub mod mutants;
pub mod outcome;
pub mod play;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod sender;
pub mod soak;
pub mod sut;
