//! State across packets: object assembly from FEC symbols, FDT instances, FCAST objects, the
//! WEBRC schedule of a sender.

pub mod assembler;
pub mod export;
pub mod fdt_description;
pub(crate) mod incarnation;
pub mod object;
pub(crate) mod object_log;
pub(crate) mod session;
pub mod toi_window;
pub(crate) mod webrc;
