//! WEBRC (RFC 3738), the multiple-rate congestion control of ALC: the sender's packet schedule
//! and the receiver's join/leave state machine, both sans-IO; the channels on the wire and the
//! lab come with issue 7.

pub mod mutant;
pub mod packet;
pub mod population;
pub mod receiver;
pub mod schedule;
