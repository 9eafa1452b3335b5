//! FEC building blocks and codecs (RFC 5052 and the scheme RFCs): block partitioning, the codec
//! interface, and one module per scheme.

pub mod codec;
pub(crate) mod gf256;
pub(crate) mod ldpc;
pub mod ldpc_prng;
pub(crate) mod nocode;
pub mod partition;
pub(crate) mod raptor;
pub(crate) mod raptorq;
pub(crate) mod reed_solomon;
pub mod scheme;
