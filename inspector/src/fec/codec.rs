//! The codec interface shared by every FEC scheme: a block encoder that produces repair symbols
//! and a block decoder fed with any received symbols, saying "not enough yet" until it can.

use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FecError {
    /// The scheme or one of its parameters is not supported by this implementation.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The parameters break the scheme's rules (with the RFC rule).
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),
    /// A symbol does not fit the block (wrong length).
    #[error("invalid symbol: {0}")]
    InvalidSymbol(String),
}

/// What a decoder can say after a symbol arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeStatus {
    /// More symbols are needed; `received` distinct useful symbols so far, at least `needed` in all.
    NeedMore { received: usize, needed: usize },
    /// The source block is rebuilt.
    Decoded,
}

impl DecodeStatus {
    /// Decoded, or `received` of at least `needed` symbols.
    pub fn of(decoded: bool, received: usize, needed: usize) -> Self {
        if decoded {
            DecodeStatus::Decoded
        } else {
            DecodeStatus::NeedMore { received, needed }
        }
    }
}

/// What happened to one pushed symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolUse {
    Accepted,
    /// Already had it.
    Duplicate,
    /// Outside what the decoder can use (e.g. ESI >= n: RFC 5510 §6.2 and RFC 5170 §5.5 ask
    /// receivers to tolerate and drop these).
    Ignored,
}

/// Decodes one source block of `k` symbols of `symbol_length` bytes.
pub trait BlockDecoder: fmt::Debug + Send {
    /// Adds a received encoding symbol. A symbol shorter than the symbol length is accepted
    /// only as the block's last source symbol (the padding is not sent).
    fn push(&mut self, esi: u32, symbol: &[u8]) -> Result<SymbolUse, FecError>;
    fn status(&self) -> DecodeStatus;
    /// The rebuilt block (k * symbol_length bytes, padding included) once decoded.
    fn source_block(&self) -> Option<&[u8]>;
    /// Source symbol `esi` if it is known (received or decoded), for partial objects.
    fn source_symbol(&self, esi: u32) -> Option<&[u8]>;
    /// Adds every symbol of a packet. The FEC Payload ID names the first; by default the others
    /// follow with consecutive ESIs (RFC 5510 §4.1, RFC 5053 §5.3.2, RFC 6330 §4.4.2); LDPC
    /// groups follow RFC 5170 §5.6. Symbols are stored back to back, the last may be short.
    fn push_packet(
        &mut self,
        esi0: u32,
        payload: &[u8],
        symbol_length: usize,
    ) -> Result<usize, FecError> {
        let mut n = 0;
        for (i, chunk) in payload.chunks(symbol_length.max(1)).enumerate() {
            self.push(esi0.saturating_add(i as u32), chunk)?;
            n += 1;
        }
        Ok(n)
    }
}

/// Encodes one source block.
pub trait BlockEncoder: fmt::Debug + Send {
    /// Source symbols in the block.
    fn k(&self) -> usize;
    /// The encoding symbol `esi` (source symbols for ESI < k, padded to the symbol length).
    fn symbol(&self, esi: u32) -> Result<Cow<'_, [u8]>, FecError>;
    /// `count` consecutive symbols from `first` (schemes that make repair symbols in batches
    /// override this).
    fn symbols(&self, first: u32, count: u32) -> Result<Vec<Cow<'_, [u8]>>, FecError> {
        (first..first.saturating_add(count))
            .map(|esi| self.symbol(esi))
            .collect()
    }
}

/// A source block borrowed from the caller, as k symbols of e bytes: only a short last symbol is
/// copied (zero-padded, RFC 5052 §9.1), so encoders need no copy of the block.
#[derive(Debug, Clone)]
pub struct SourceBlock<'a> {
    data: &'a [u8],
    last: Vec<u8>,
    pub k: usize,
    pub e: usize,
}

impl<'a> SourceBlock<'a> {
    pub fn new(data: &'a [u8], e: usize, k: usize) -> Result<Self, FecError> {
        if e == 0 || k == 0 || data.len() > k * e || data.len() <= (k - 1) * e {
            return Err(FecError::InvalidParameters(format!(
                "a block of {} bytes is not {k} symbols of {e} bytes",
                data.len()
            )));
        }
        let mut last = data[(k - 1) * e..].to_vec();
        last.resize(e, 0);
        Ok(SourceBlock { data, last, k, e })
    }

    /// Source symbol `i` (< k), padded.
    pub fn symbol(&self, i: usize) -> &[u8] {
        if i + 1 == self.k {
            &self.last
        } else {
            &self.data[i * self.e..(i + 1) * self.e]
        }
    }
}
