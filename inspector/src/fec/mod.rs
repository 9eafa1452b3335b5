//! FEC building blocks and codecs (RFC 5052 and the scheme RFCs): block partitioning, the codec
//! interface, and one module per scheme.

pub mod codec;
pub mod gf256;
pub mod ldpc;
pub mod ldpc_prng;
pub mod nocode;
pub mod partition;
pub mod raptor;
pub mod raptorq;
pub mod reed_solomon;
pub mod scheme;
