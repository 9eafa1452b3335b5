//! FEC building blocks shared by every codec. The codecs themselves (No-Code, Reed-Solomon,
//! LDPC, RaptorQ) belong to a later issue; what is here is complete and tested on its own.

pub mod ldpc_prng;
pub mod partition;
