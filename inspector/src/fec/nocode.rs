//! Compact No-Code (FEC Encoding ID 0, RFC 5445 §3; also IDs 128 and 130 when the instance is a
//! no-code one): the encoding symbols are the source symbols, ESI Y is bytes E*Y..E*(Y+1)-1 of
//! the block (§3.4.1), and a receiver ignores ESIs past N-1 (§3.4.2).

use std::borrow::Cow;

use super::codec::{BlockDecoder, BlockEncoder, DecodeStatus, FecError, SourceBlock, SymbolUse};

#[derive(Debug)]
pub struct NoCodeEncoder<'a> {
    source: SourceBlock<'a>,
}

impl<'a> NoCodeEncoder<'a> {
    pub fn new(block: &'a [u8], k: usize, symbol_length: usize) -> Result<Self, FecError> {
        Ok(NoCodeEncoder {
            source: SourceBlock::new(block, symbol_length, k)?,
        })
    }
}

impl BlockEncoder for NoCodeEncoder<'_> {
    fn k(&self) -> usize {
        self.source.k
    }

    fn symbol(&self, esi: u32) -> Result<Cow<'_, [u8]>, FecError> {
        let y = esi as usize;
        if y >= self.source.k {
            return Err(FecError::InvalidParameters(format!(
                "Compact No-Code has no repair symbol (ESI {esi} >= k)"
            )));
        }
        Ok(Cow::Borrowed(self.source.symbol(y)))
    }
}

#[derive(Debug)]
pub struct NoCodeDecoder {
    k: usize,
    symbol_length: usize,
    block: Vec<u8>,
    received: Vec<bool>,
    count: usize,
}

impl NoCodeDecoder {
    pub fn new(k: usize, symbol_length: usize) -> Result<Self, FecError> {
        if k == 0 || symbol_length == 0 {
            return Err(FecError::InvalidParameters(format!(
                "k={k}, E={symbol_length}"
            )));
        }
        Ok(NoCodeDecoder {
            k,
            symbol_length,
            block: vec![0; k * symbol_length],
            received: vec![false; k],
            count: 0,
        })
    }
}

impl BlockDecoder for NoCodeDecoder {
    fn push(&mut self, esi: u32, symbol: &[u8]) -> Result<SymbolUse, FecError> {
        let y = esi as usize;
        if y >= self.k {
            return Ok(SymbolUse::Ignored);
        }
        // RFC 5445 §3.4.2: the symbol length equals E except for the block's last symbol.
        if symbol.len() > self.symbol_length
            || (symbol.len() < self.symbol_length && y != self.k - 1)
        {
            return Err(FecError::InvalidSymbol(format!(
                "ESI {esi}: {} bytes, symbol length is {}",
                symbol.len(),
                self.symbol_length
            )));
        }
        if self.received[y] {
            return Ok(SymbolUse::Duplicate);
        }
        self.block[y * self.symbol_length..y * self.symbol_length + symbol.len()]
            .copy_from_slice(symbol);
        self.received[y] = true;
        self.count += 1;
        Ok(SymbolUse::Accepted)
    }

    fn status(&self) -> DecodeStatus {
        DecodeStatus::of(self.count == self.k, self.count, self.k)
    }

    fn source_block(&self) -> Option<&[u8]> {
        (self.count == self.k).then_some(&self.block[..])
    }

    fn source_symbol(&self, esi: u32) -> Option<&[u8]> {
        let y = esi as usize;
        let e = self.symbol_length;
        (*self.received.get(y)?).then(|| &self.block[y * e..(y + 1) * e])
    }
}
