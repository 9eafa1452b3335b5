//! The wire layer: one file per header, each with a parser (lax: value plus findings; strict:
//! findings become errors) and an emitter that reproduces the parsed bytes.

pub mod alc;
pub(crate) mod census;
pub mod checksum;
pub mod cid;
pub(crate) mod error;
pub mod ext_auth;
pub mod ext_cenc;
pub mod ext_fdt;
pub mod ext_fti;
pub mod ext_time;
pub mod fcast;
pub mod fdt;
pub mod fec_payload_id;
pub mod finding;
pub mod flute_flavor;
pub mod frame;
pub mod inflate;
pub mod ip;
pub mod lct;
pub mod link;
pub mod lls;
pub(crate) mod reader;
pub mod route;
pub mod route_sls;
pub(crate) mod serde_hex;
pub mod udp;
pub mod webrc_cci;

pub use error::WireError;
pub use finding::{Decoded, Finding, Severity};
