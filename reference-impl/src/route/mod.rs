//! ROUTE (ATSC 3.0 A/331 Annex A, RFC 9223): a sender of a whole session (LLS, SLS, File- and
//! Entity-mode source flows, a RaptorQ repair flow) and a receiver that rebuilds it.

pub mod receiver;
pub mod sender;

pub use receiver::{RouteObject, RouteReceiver};
pub use sender::{route_session, Datagram, RepairConfig, RouteConfig, RouteFile};
