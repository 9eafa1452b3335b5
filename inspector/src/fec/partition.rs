//! Block partitioning (RFC 5052 §9.1), used by FEC Encoding IDs 0, 2, 3, 4, 5, 128 and 130, and
//! the symbol mapping of Compact No-Code (RFC 5445 §3.4.1).

use serde::Serialize;

/// The partition of an object of `transfer_length` bytes into source blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockPartition {
    /// T: source symbols in the object.
    pub total_symbols: u64,
    /// N: source blocks.
    pub blocks: u64,
    /// A_large: symbols in each of the first `large_blocks` blocks.
    pub large_block_symbols: u64,
    /// A_small: symbols in the other blocks.
    pub small_block_symbols: u64,
    /// I: number of blocks of A_large symbols.
    pub large_blocks: u64,
    /// Bytes of the object's final source symbol.
    pub last_symbol_length: u64,
}

impl BlockPartition {
    /// `None` when E or B is 0 (no partition exists). An empty object has no block.
    pub fn new(transfer_length: u64, symbol_length: u64, max_block_symbols: u64) -> Option<Self> {
        if symbol_length == 0 || max_block_symbols == 0 {
            return None;
        }
        let t = transfer_length.div_ceil(symbol_length);
        if t == 0 {
            return Some(BlockPartition {
                total_symbols: 0,
                blocks: 0,
                large_block_symbols: 0,
                small_block_symbols: 0,
                large_blocks: 0,
                last_symbol_length: 0,
            });
        }
        let n = t.div_ceil(max_block_symbols);
        let a_large = t.div_ceil(n);
        let a_small = t / n;
        let i = t - a_small * n;
        // RFC 5052 §9.1 (its parentheses are unbalanced): L - floor((L-1)/E)*E.
        let last = transfer_length - ((transfer_length - 1) / symbol_length) * symbol_length;
        Some(BlockPartition {
            total_symbols: t,
            blocks: n,
            large_block_symbols: a_large,
            small_block_symbols: a_small,
            large_blocks: i,
            last_symbol_length: last,
        })
    }

    /// Source symbols in block `sbn`.
    pub fn block_symbols(&self, sbn: u64) -> Option<u64> {
        (sbn < self.blocks).then_some(if sbn < self.large_blocks {
            self.large_block_symbols
        } else {
            self.small_block_symbols
        })
    }
}

/// Compact No-Code (RFC 5445 §3.4.1): the byte range `[start, end)` of symbol `esi` in a block
/// of `block_length` bytes with symbols of `symbol_length` bytes, and the zero padding after the
/// last symbol. `None` if `esi` is past the block (N = ceil(X/L) symbols).
pub fn compact_no_code_symbol(
    block_length: u64,
    symbol_length: u64,
    esi: u64,
) -> Option<(u64, u64, u64)> {
    if symbol_length == 0 || esi >= block_length.div_ceil(symbol_length) {
        return None;
    }
    let start = esi * symbol_length;
    let end = (start + symbol_length).min(block_length);
    Some((start, end, symbol_length - (end - start)))
}
