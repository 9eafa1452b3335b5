//! State across packets: object assembly from FEC symbols, FDT instances, FCAST objects.

pub mod assembler;
pub mod export;
pub mod object;
pub mod session;
