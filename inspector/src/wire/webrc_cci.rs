//! WEBRC Congestion Control Information (RFC 3738 §5), carried in the LCT CCI field.
//! Short form (§5.1, 32 bits, LCT C=0): `CTSI 8 | CN 8 | PSN 16`.
//! Long form (§5.2, 64 bits, LCT C=1): `CTSI 16 | CN 16 | PSN 32`.

use crate::registry;
use serde::Serialize;

use super::error::WireError;
use super::finding::Findings;
use super::lct::LctRepr;
use super::reader::{check_width, put_uint, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CciForm {
    Short,
    Long,
}

impl CciForm {
    pub fn len(self) -> usize {
        match self {
            CciForm::Short => 4,
            CciForm::Long => 8,
        }
    }

    pub fn is_empty(self) -> bool {
        false
    }

    fn rule(self) -> &'static str {
        match self {
            CciForm::Short => "RFC 3738 §5.1",
            CciForm::Long => "RFC 3738 §5.2",
        }
    }

    /// The form implied by the LCT C field; other CCI sizes have no WEBRC layout.
    pub fn from_lct_c(c: u8) -> Option<Self> {
        match c {
            0 => Some(CciForm::Short),
            1 => Some(CciForm::Long),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WebrcCci {
    pub form: CciForm,
    /// Current Time Slot Index.
    pub ctsi: u16,
    /// Channel Number: T for the base channel, 0..T-1 for the wave channels.
    pub cn: u16,
    /// Packet Sequence Number, scoped by CN.
    pub psn: u32,
}

impl WebrcCci {
    /// The CCI of an LCT header in a WEBRC session (RFC 3738 §5): `None`, with a finding, when
    /// C gives a CCI of neither WEBRC form.
    pub(crate) fn of_lct(lct: &LctRepr, f: &mut Findings) -> Result<Option<Self>, WireError> {
        match CciForm::from_lct_c(lct.c) {
            Some(form) => Ok(Some(WebrcCci::parse(&lct.cci, form)?)),
            None => {
                f.raise(
                    &registry::webrc::CCI_LENGTH_INVALID,
                    "c",
                    0,
                    format!(
                        "C={} gives a {}-bit CCI; WEBRC uses 32 or 64",
                        lct.c,
                        32 * (lct.c + 1)
                    ),
                );
                Ok(None)
            }
        }
    }

    /// Parses a CCI of the given form; the input must hold exactly that many bytes or more.
    pub fn parse(cci: &[u8], form: CciForm) -> Result<Self, WireError> {
        let mut r = Reader::new(cci, &registry::webrc::CCI_TRUNCATED);
        r.set_rule(form.rule());
        Ok(match form {
            CciForm::Short => WebrcCci {
                form,
                ctsi: u16::from(r.u8("ctsi")?),
                cn: u16::from(r.u8("cn")?),
                psn: u32::from(r.u16("psn")?),
            },
            CciForm::Long => WebrcCci {
                form,
                ctsi: r.u16("ctsi")?,
                cn: r.u16("cn")?,
                psn: r.u32("psn")?,
            },
        })
    }

    /// Whether this packet is on the base channel, given the session's T.
    pub fn is_base_channel(&self, t: u16) -> bool {
        self.cn == t
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let rule = self.form.rule();
        let (w16, w32) = match self.form {
            CciForm::Short => (1, 2),
            CciForm::Long => (2, 4),
        };
        put_uint(
            out,
            check_width(u128::from(self.ctsi), 8 * w16, "ctsi", rule)?,
            w16 as usize,
        );
        put_uint(
            out,
            check_width(u128::from(self.cn), 8 * w16, "cn", rule)?,
            w16 as usize,
        );
        put_uint(
            out,
            check_width(u128::from(self.psn), 8 * w32, "psn", rule)?,
            w32 as usize,
        );
        Ok(())
    }
}
