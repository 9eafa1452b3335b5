//! WEBRC (RFC 3738), the multiple-rate congestion control of ALC: so far the sender's packet
//! schedule; the receiver, the channels on the wire and the lab come with issue 7.

pub mod schedule;
