//! What an FDT Instance says about one file, written once for the three holders of FDT state:
//! the session checks (`track/session.rs`: parameters never change, RFC 6726 §3.3), the
//! object assembler (`track/assembler.rs`: the object's OTI when EXT_FTI is absent) and the
//! reference receiver (`rmt_reference::receiver::flute`: which description it delivers by).
//! Each keeps its own table and policy (the assembler follows the latest description, the
//! receiver and the session checks keep the first); the comparison and the OTI come from here.

use std::fmt;

use crate::fec::codec::FecError;
use crate::fec::scheme::FecObject;
use crate::wire::ext_fti::FecOti;
use crate::wire::fdt::{FdtFile, FdtInstance};

/// The parameters an FDT entry gives a TOI, which later FDT Instances MUST NOT change
/// (RFC 6726 §3.3): location, lengths, MD5, and the FEC Encoding ID with its OTI.
#[derive(Debug, Clone, PartialEq)]
pub struct FileParameters {
    pub content_location: String,
    pub transfer_length: Option<u64>,
    pub content_length: Option<u64>,
    pub content_md5: Option<Vec<u8>>,
    pub oti: Option<(u8, FecOti)>,
}

impl FileParameters {
    pub fn of(inst: &FdtInstance, file: &FdtFile) -> Self {
        FileParameters {
            content_location: file.content_location.clone(),
            transfer_length: file.transfer_length,
            content_length: file.content_length,
            content_md5: file.content_md5.clone(),
            oti: FecObject::oti_from_fdt(inst, file).ok(),
        }
    }
}

/// Whether two descriptions of a TOI give it the same parameters (RFC 6726 §3.3).
pub fn same_parameters(a: (&FdtInstance, &FdtFile), b: (&FdtInstance, &FdtFile)) -> bool {
    FileParameters::of(a.0, a.1) == FileParameters::of(b.0, b.1)
}

/// Why an FDT entry gives no object for packets sent under a codepoint.
#[derive(Debug, Clone, PartialEq)]
pub enum FdtObjectError {
    /// The OTI is incomplete or invalid for its scheme.
    Fec(FecError),
    /// RFC 6726 §5: FEC-OTI-FEC-Encoding-ID equals the codepoint of every packet of the TOI.
    CodepointMismatch { fdt: u8, codepoint: u8 },
}

impl fmt::Display for FdtObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FdtObjectError::Fec(e) => write!(f, "{e}"),
            FdtObjectError::CodepointMismatch { fdt, codepoint } => {
                write!(
                    f,
                    "FDT FEC Encoding ID {fdt} differs from codepoint {codepoint}"
                )
            }
        }
    }
}

/// The FEC object an FDT entry describes, for packets sent under `codepoint`.
pub fn fdt_object(
    inst: &FdtInstance,
    file: &FdtFile,
    codepoint: u8,
) -> Result<FecObject, FdtObjectError> {
    let (id, oti) = FecObject::oti_from_fdt(inst, file).map_err(FdtObjectError::Fec)?;
    if id != codepoint {
        return Err(FdtObjectError::CodepointMismatch { fdt: id, codepoint });
    }
    FecObject::from_oti(id, &oti).map_err(FdtObjectError::Fec)
}
