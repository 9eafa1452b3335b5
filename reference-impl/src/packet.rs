//! Building LCT headers for a session: field widths, flags and extensions (RFC 5651 §5.1).

use rmt_inspector::wire::ext_fti::ExtFti;
use rmt_inspector::wire::lct::{ExtensionBody, HeaderExtension, LctRepr};
use rmt_inspector::wire::WireError;

/// The TSI and TOI field widths of a session, in bytes. S, O and H are derived from them; H
/// halves both fields at once, so the two widths must agree on it (RFC 5651 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldWidths {
    pub tsi_len: usize,
    pub toi_len: usize,
}

impl FieldWidths {
    /// Checks that the widths can be expressed with S, O and H.
    pub fn validate(self) -> Result<Self, String> {
        let half = self.tsi_len % 4 == 2;
        let ok_tsi = matches!(self.tsi_len, 2 | 4 | 6);
        let ok_toi = self.toi_len > 0 && self.toi_len <= 14 && (self.toi_len % 4 == 2) == half;
        if !ok_tsi || !ok_toi || (!self.toi_len.is_multiple_of(4) && !half) {
            return Err(format!(
                "TSI of {} bits and TOI of {} bits: H halves both, so both must be 16/48/80/112 \
                 or both 32/64/96 (TSI: 16, 32 or 48 bits; RFC 5651 §5.1)",
                8 * self.tsi_len,
                8 * self.toi_len
            ));
        }
        Ok(self)
    }

    pub fn toi_bits(self) -> u32 {
        8 * self.toi_len as u32
    }

    fn flags(tsi_len: usize, toi_len: usize) -> (bool, u8, bool) {
        let h = tsi_len % 4 == 2 || toi_len % 4 == 2;
        (tsi_len >= 4, (toi_len / 4) as u8, h)
    }
}

/// An LCT header for one packet (HDR_LEN computed). `toi = None` gives the header-only
/// close-session form of FLUTE (RFC 6726 §3.1: O=0, H=0, so S=1 and a 32-bit TSI).
pub fn lct_header(
    widths: FieldWidths,
    tsi: u64,
    toi: Option<u128>,
    codepoint: u8,
    extensions: Vec<HeaderExtension>,
) -> LctRepr {
    let (tsi_len, toi_len) = match toi {
        Some(_) => (widths.tsi_len, widths.toi_len),
        None => (4, 0),
    };
    let (s, o, h) = FieldWidths::flags(tsi_len, toi_len);
    let mut lct = LctRepr {
        version: 1,
        c: 0,
        psi: 0,
        s,
        o,
        h,
        reserved: 0,
        close_session: false,
        close_object: false,
        hdr_len: 0,
        codepoint,
        cci: rmt_inspector::wire::lct::Cci::zeros(4),
        tsi: Some(tsi),
        toi,
        extensions,
        unwalked: vec![],
    };
    lct.fix_hdr_len();
    lct
}

/// EXT_FTI for `fti` (RFC 5775 §4.2), HEL computed with the padding it needs.
pub fn ext_fti(
    encoding_id: u8,
    oti: &rmt_inspector::wire::ext_fti::FecOti,
) -> Result<HeaderExtension, WireError> {
    let mut content = Vec::new();
    ExtFti {
        encoding_id,
        hel: 0,
        oti: oti.clone(),
        trailing: vec![],
    }
    .emit_content(&mut content)?;
    // HET and HEL take two bytes; pad to a whole number of 32-bit words.
    while (content.len() + 2) % 4 != 0 {
        content.push(0);
    }
    Ok(HeaderExtension {
        het: rmt_inspector::wire::lct::HET_FTI,
        hel: Some(((content.len() + 2) / 4) as u8),
        body: ExtensionBody::Fti { content },
    })
}

/// Where the encoding symbols start in an ALC datagram: after the LCT header and the FEC Payload
/// ID (`None` when the datagram does not parse as ALC with the codepoint as FEC Encoding ID).
/// Faults and packet edits use it to change symbols and nothing else.
pub fn symbol_offset(datagram: &[u8]) -> Option<usize> {
    use rmt_inspector::wire::alc::{AlcContext, AlcPacket};
    let a = AlcPacket::parse(datagram, AlcContext::default()).ok()?;
    Some(datagram.len() - a.value.symbols(datagram).len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_h_flag() {
        for (tsi, toi, ok) in [
            (2, 2, true),
            (4, 4, true),
            (6, 2, true),
            (4, 8, true),
            (2, 4, false),
            (4, 2, false),
            (6, 14, true),
            (8, 4, false),
        ] {
            let w = FieldWidths {
                tsi_len: tsi,
                toi_len: toi,
            };
            assert_eq!(w.validate().is_ok(), ok, "{tsi}/{toi}");
            if ok {
                let lct = lct_header(w, 1, Some(1), 0, vec![]);
                assert_eq!((lct.tsi_len(), lct.toi_len()), (tsi, toi));
            }
        }
        let close = lct_header(
            FieldWidths {
                tsi_len: 2,
                toi_len: 2,
            },
            1,
            None,
            0,
            vec![],
        );
        assert_eq!(
            (close.s, close.o, close.h, close.header_len()),
            (true, 0, false, 12)
        );
    }
}
