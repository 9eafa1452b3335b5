//! LDPC-Staircase (FEC Encoding ID 3) and LDPC-Triangle (ID 4), RFC 5170.
//!
//! The parity check matrix has n-k rows (one per repair symbol) and n columns (source symbols
//! 0..k-1, then repair symbols k..n-1). Its left side comes from `left_matrix_init` (§6.2) and its
//! right side from the staircase (§6.2) or triangle (§7.2) functions, driven by the §5.7 PRNG;
//! both are followed call for call, because sender and receiver must build the same matrix.
//!
//! Decoding peels equations with one unknown left (§6.4, [ZP74]); when that stalls with at least
//! k symbols received, a Gaussian elimination over GF(2) solves what remains.

use std::borrow::Cow;

use super::codec::{BlockDecoder, BlockEncoder, DecodeStatus, FecError, SourceBlock, SymbolUse};
use super::ldpc_prng::LdpcPrng;

/// Which right side the matrix has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdpcVariant {
    Staircase,
    Triangle,
}

/// ESIs are 20 bits (RFC 5170 §4.1), and max_n <= 2^20.
pub const MAX_ENCODING_SYMBOLS: usize = 1 << 20;
/// Repair symbols per source symbol accepted (code rate down to 1/16).
pub const MAX_REPAIR_PER_SOURCE: usize = 15;

/// The parity check matrix, stored sparse both ways.
#[derive(Debug, Clone)]
pub struct ParityCheckMatrix {
    pub k: usize,
    pub n: usize,
    /// Column indices (0..n) of each row, in insertion order.
    pub rows: Vec<Vec<u32>>,
    /// Row indices of each column.
    pub cols: Vec<Vec<u32>>,
    /// The PRNG right after the matrix was built: the symbol-group tables continue its stream
    /// (RFC 5170 §5.6).
    prng: Option<LdpcPrng>,
}

impl ParityCheckMatrix {
    fn has_entry(&self, row: usize, col: usize) -> bool {
        self.cols[col].contains(&(row as u32))
    }

    fn insert(&mut self, row: usize, col: usize) {
        // Set semantics: inserting an existing entry changes nothing.
        if !self.has_entry(row, col) {
            self.rows[row].push(col as u32);
            self.cols[col].push(row as u32);
        }
    }

    /// Builds the matrix for a block of k source symbols and n encoding symbols.
    /// `n1` is N1 = N1m3 + 3 ones per source column.
    pub fn new(
        k: usize,
        n: usize,
        n1: usize,
        seed: u32,
        variant: LdpcVariant,
    ) -> Result<Self, FecError> {
        let bad = |why: String| Err(FecError::InvalidParameters(why));
        if k == 0 || n < k || n > MAX_ENCODING_SYMBOLS {
            return bad(format!(
                "LDPC needs 0 < k <= n <= 2^20, got k={k}, n={n} (RFC 5170 §4.2.2)"
            ));
        }
        // A matrix costs O(n) to build, whatever the block's size: a hostile OTI with a tiny
        // k and n near 2^20 would cost seconds per block. Codes below rate 1/16 are refused.
        if n - k > MAX_REPAIR_PER_SOURCE * k + 64 {
            return Err(FecError::Unsupported(format!(
                "LDPC with k={k}, n={n}: code rates below 1/{} are not supported",
                MAX_REPAIR_PER_SOURCE + 1
            )));
        }
        let mut prng = LdpcPrng::new(seed).ok_or_else(|| {
            FecError::InvalidParameters(format!(
                "PRNG seed {seed} outside 1..2^31-2 (RFC 5170 §4.2.3)"
            ))
        })?;
        let r = n - k;
        let mut m = ParityCheckMatrix {
            k,
            n,
            // Capacities from the expected degrees: N1 per source column, 2 (staircase) per repair
            // column, N1*k/(n-k) + 2 per row; they save most reallocations of a large matrix.
            rows: (0..r)
                .map(|_| Vec::with_capacity(n1 * k / r.max(1) + 4))
                .collect(),
            cols: (0..n)
                .map(|c| Vec::with_capacity(if c < k { n1 } else { 2 }))
                .collect(),
            prng: None,
        };
        if r == 0 {
            return Ok(m);
        }
        // The RFC's functions never end for these: a column cannot hold N1 distinct rows, or a
        // row of degree 1 cannot find a second source column.
        if n1 > r {
            return bad(format!(
                "N1={n1} ones per column do not fit in n-k={r} rows (RFC 5170 §6.2)"
            ));
        }
        if k < 2 {
            return bad("k=1 with repair symbols: left_matrix_init cannot give a row two ones (RFC 5170 §6.2)".into());
        }
        m.left_matrix_init(n1, &mut prng);
        match variant {
            LdpcVariant::Staircase => {
                m.insert(0, k);
                for i in 1..r {
                    m.insert(i, k + i);
                    m.insert(i, k + i - 1);
                }
            }
            LdpcVariant::Triangle => {
                m.insert(0, k);
                for i in 1..r {
                    m.insert(i, k + i);
                    m.insert(i, k + i - 1);
                    // Literally as RFC 5170 §7.2: j shrinks inside its own loop bound.
                    let mut j = i - 1;
                    let mut l = 0;
                    while l < j {
                        j = prng.rand(j as u32) as usize;
                        m.insert(i, k + j);
                        l += 1;
                    }
                }
            }
        }
        m.prng = Some(prng);
        Ok(m)
    }

    /// RFC 5170 §5.6 `initialize_tables`: (txseqToID, IDtoTxseq), the random permutation of the
    /// n-k repair symbols used when G > 1. `None` without repair symbols.
    pub fn group_tables(&self) -> Option<(Vec<u32>, Vec<u32>)> {
        let mut prng = self.prng.clone()?;
        let r = self.n - self.k;
        let mut id_to_txseq: Vec<u32> = (0..r as u32).collect();
        let mut txseq_to_id: Vec<u32> = (0..r as u32).collect();
        for i in 0..r {
            let rand_ind = prng.rand(r as u32) as usize;
            id_to_txseq.swap(i, rand_ind);
            txseq_to_id[id_to_txseq[i] as usize] = i as u32;
            txseq_to_id[id_to_txseq[rand_ind] as usize] = rand_ind as u32;
        }
        Some((txseq_to_id, id_to_txseq))
    }

    /// RFC 5170 §5.6 `sender_find_ESIs_of_group`: the ESIs of packet `pkt_idx` of a block
    /// (the grouping of a sender that sends several symbols per packet; checked against the
    /// RFC's procedure in the tests).
    #[cfg(test)]
    pub fn sender_group_esis(
        &self,
        tables: &(Vec<u32>, Vec<u32>),
        g: usize,
        pkt_idx: usize,
    ) -> Vec<u32> {
        let (k, r) = (self.k, self.n - self.k);
        let source_packets = k.div_ceil(g);
        if pkt_idx < source_packets {
            let first = pkt_idx * g;
            (0..g).map(|i| ((first + i) % k) as u32).collect()
        } else {
            (0..g)
                .map(|i| (k as u32) + tables.0[(i + (pkt_idx - source_packets) * g) % r])
                .collect()
        }
    }

    /// RFC 5170 §5.6 `receiver_find_ESIs_of_group`: the ESIs of a packet whose FEC Payload ID
    /// names `esi0`. `None` if `esi0` is not a symbol of the block.
    pub fn receiver_group_esis(
        &self,
        tables: &(Vec<u32>, Vec<u32>),
        g: usize,
        esi0: u32,
    ) -> Option<Vec<u32>> {
        let (k, r) = (self.k, self.n - self.k);
        let e0 = esi0 as usize;
        if e0 < k {
            Some((0..g).map(|i| ((e0 + i) % k) as u32).collect())
        } else if e0 < self.n {
            let base = tables.1[e0 - k] as usize;
            Some(
                (0..g)
                    .map(|i| (k as u32) + tables.0[(i + base) % r])
                    .collect(),
            )
        } else {
            None
        }
    }

    /// RFC 5170 §6.2 `left_matrix_init`.
    fn left_matrix_init(&mut self, n1: usize, prng: &mut LdpcPrng) {
        let (k, r) = (self.k, self.n - self.k);
        let total = n1 * k;
        let mut u: Vec<usize> = (0..total).map(|h| h % r).collect();
        let mut t = 0usize;
        for j in 0..k {
            for _ in 0..n1 {
                let available = (t..total).any(|i| !self.has_entry(u[i], j));
                if available {
                    let i = loop {
                        let i = t + prng.rand((total - t) as u32) as usize;
                        if !self.has_entry(u[i], j) {
                            break i;
                        }
                    };
                    self.insert(u[i], j);
                    u[i] = u[t];
                    t += 1;
                } else {
                    let i = loop {
                        let i = prng.rand(r as u32) as usize;
                        if !self.has_entry(i, j) {
                            break i;
                        }
                    };
                    self.insert(i, j);
                }
            }
        }
        for i in 0..r {
            if self.rows[i].is_empty() {
                let j = prng.rand(k as u32) as usize;
                self.insert(i, j);
            }
            if self.rows[i].len() == 1 {
                let j = loop {
                    let j = prng.rand(k as u32) as usize;
                    if !self.has_entry(i, j) {
                        break j;
                    }
                };
                self.insert(i, j);
            }
        }
    }
}

/// n = floor(k * max_n / B) (RFC 5170 §5.5).
pub fn encoding_symbols(k: u64, max_n: u64, b: u64) -> u64 {
    (k * max_n).checked_div(b).unwrap_or(0)
}

fn xor_into(dst: &mut [u8], src: &[u8]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d ^= s);
}

#[derive(Debug)]
pub struct LdpcEncoder<'a> {
    source: SourceBlock<'a>,
    n: usize,
    /// The n-k repair symbols, computed at construction: each depends on the previous ones, so
    /// they are made in ESI order (RFC 5170 §6.3, §7.3).
    parity: Vec<u8>,
}

impl<'a> LdpcEncoder<'a> {
    pub fn new(
        block: &'a [u8],
        matrix: &ParityCheckMatrix,
        symbol_length: usize,
    ) -> Result<Self, FecError> {
        let (k, n, e) = (matrix.k, matrix.n, symbol_length);
        let source = SourceBlock::new(block, e, k)?;
        let mut parity = vec![0u8; (n - k) * e];
        for i in 0..n - k {
            let (done, rest) = parity.split_at_mut(i * e);
            let p = &mut rest[..e];
            for &c in &matrix.rows[i] {
                let c = c as usize;
                if c < k {
                    xor_into(p, source.symbol(c));
                } else if c != k + i {
                    xor_into(p, &done[(c - k) * e..(c - k + 1) * e]);
                }
            }
        }
        Ok(LdpcEncoder { source, n, parity })
    }
}

impl BlockEncoder for LdpcEncoder<'_> {
    fn k(&self) -> usize {
        self.source.k
    }

    fn symbol(&self, esi: u32) -> Result<Cow<'_, [u8]>, FecError> {
        let (c, k, e) = (esi as usize, self.source.k, self.source.e);
        if c >= self.n {
            return Err(FecError::InvalidParameters(format!(
                "ESI {esi} >= n={} (RFC 5170 §5.5)",
                self.n
            )));
        }
        Ok(Cow::Borrowed(if c < k {
            self.source.symbol(c)
        } else {
            &self.parity[(c - k) * e..(c - k + 1) * e]
        }))
    }
}

#[derive(Debug)]
pub struct LdpcDecoder {
    matrix: ParityCheckMatrix,
    symbol_length: usize,
    /// Which symbols are known (received or decoded), by column. A known symbol's value lives on
    /// only in the sums of its rows, and for source symbols in `block`.
    known: Vec<bool>,
    /// The source block, filled as source symbols become known.
    block: Vec<u8>,
    /// Per row: the XOR of its known symbols (one buffer, (n-k) * E bytes, zeroed lazily by the
    /// allocator), and how many of its symbols are still unknown.
    row_sums: Vec<u8>,
    row_unknown: Vec<u32>,
    received: usize,
    known_sources: usize,
    /// Received count at the last failed Gaussian elimination.
    last_elimination: usize,
    /// RFC 5170 §5.6 tables, built on the first packet with more than one symbol.
    groups: Option<(Vec<u32>, Vec<u32>)>,
}

impl LdpcDecoder {
    pub fn new(matrix: ParityCheckMatrix, symbol_length: usize) -> Result<Self, FecError> {
        if symbol_length == 0 {
            return Err(FecError::InvalidParameters("E=0".into()));
        }
        let row_unknown = matrix.rows.iter().map(|r| r.len() as u32).collect();
        let r = matrix.n - matrix.k;
        Ok(LdpcDecoder {
            known: vec![false; matrix.n],
            block: vec![0u8; matrix.k * symbol_length],
            row_sums: vec![0u8; r * symbol_length],
            row_unknown,
            symbol_length,
            received: 0,
            known_sources: 0,
            last_elimination: 0,
            groups: None,
            matrix,
        })
    }

    /// Records a symbol's value and propagates it through the equations (peeling): an equation
    /// left with one unknown symbol gives that symbol, the XOR of its known ones.
    fn learn(&mut self, col: usize, value: &[u8]) {
        let mut queue: Vec<(usize, Vec<u8>)> = Vec::new();
        self.learn_one(col, value, &mut queue);
        while let Some((c, v)) = queue.pop() {
            self.learn_one(c, &v, &mut queue);
        }
    }

    fn learn_one(&mut self, c: usize, v: &[u8], queue: &mut Vec<(usize, Vec<u8>)>) {
        let e = self.symbol_length;
        let LdpcDecoder {
            matrix,
            known,
            block,
            row_sums,
            row_unknown,
            known_sources,
            ..
        } = self;
        if known[c] {
            return;
        }
        known[c] = true;
        for &row in &matrix.cols[c] {
            let row = row as usize;
            let sum = &mut row_sums[row * e..(row + 1) * e];
            xor_into(sum, v);
            row_unknown[row] -= 1;
            if row_unknown[row] == 1 {
                if let Some(&last) = matrix.rows[row].iter().find(|&&x| !known[x as usize]) {
                    queue.push((last as usize, sum.to_vec()));
                }
            }
        }
        if c < matrix.k {
            *known_sources += 1;
            block[c * e..(c + 1) * e].copy_from_slice(v);
        }
    }

    /// Solves the remaining equations over GF(2) (RFC 5170 §6.4 allows any technique).
    fn eliminate(&mut self) {
        let unknown: Vec<usize> = (0..self.matrix.n).filter(|&c| !self.known[c]).collect();
        let index: std::collections::HashMap<usize, usize> =
            unknown.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let words = unknown.len().div_ceil(64);
        // Each equation: a bit row over the unknowns, and its constant (the XOR of known symbols).
        let mut eqs: Vec<(Vec<u64>, Vec<u8>)> = Vec::new();
        for (row, cols) in self.matrix.rows.iter().enumerate() {
            if self.row_unknown[row] == 0 {
                continue;
            }
            let mut bits = vec![0u64; words];
            for &c in cols {
                if let Some(&i) = index.get(&(c as usize)) {
                    bits[i / 64] |= 1 << (i % 64);
                }
            }
            let e = self.symbol_length;
            let rhs = self.row_sums[row * e..(row + 1) * e].to_vec();
            eqs.push((bits, rhs));
        }
        let mut pivot_of = vec![usize::MAX; unknown.len()];
        let mut next = 0;
        for (var, pivot_slot) in pivot_of.iter_mut().enumerate() {
            let (w, b) = (var / 64, 1u64 << (var % 64));
            let Some(p) = (next..eqs.len()).find(|&e| eqs[e].0[w] & b != 0) else {
                continue;
            };
            eqs.swap(next, p);
            let pivot = std::mem::take(&mut eqs[next]);
            for (ei, e) in eqs.iter_mut().enumerate() {
                if ei != next && e.0[w] & b != 0 {
                    e.0.iter_mut().zip(&pivot.0).for_each(|(x, y)| *x ^= y);
                    xor_into(&mut e.1, &pivot.1);
                }
            }
            eqs[next] = pivot;
            *pivot_slot = next;
            next += 1;
        }
        // Reduced row echelon form: a pivot row with no other unknown left gives its variable.
        let solvable: Vec<(usize, Vec<u8>)> = (0..unknown.len())
            .filter(|&v| pivot_of[v] != usize::MAX)
            .filter(|&v| {
                let bits = &eqs[pivot_of[v]].0;
                bits.iter().enumerate().all(|(wi, &word)| {
                    let own = if wi == v / 64 { 1u64 << (v % 64) } else { 0 };
                    word & !own == 0
                })
            })
            .map(|v| (unknown[v], eqs[pivot_of[v]].1.clone()))
            .collect();
        for (c, value) in solvable {
            self.learn(c, &value);
        }
    }
}

impl BlockDecoder for LdpcDecoder {
    fn push(&mut self, esi: u32, symbol: &[u8]) -> Result<SymbolUse, FecError> {
        let c = esi as usize;
        let k = self.matrix.k;
        if c >= self.matrix.n {
            return Ok(SymbolUse::Ignored);
        }
        if self.known_sources == k {
            return Ok(SymbolUse::Ignored);
        }
        let short_last_source = c == k - 1 && symbol.len() < self.symbol_length;
        if symbol.len() != self.symbol_length && !short_last_source {
            return Err(FecError::InvalidSymbol(format!(
                "ESI {esi}: {} bytes, symbol length is {}",
                symbol.len(),
                self.symbol_length
            )));
        }
        if self.known[c] {
            return Ok(SymbolUse::Duplicate);
        }
        self.received += 1;
        if symbol.len() == self.symbol_length {
            self.learn(c, symbol);
        } else {
            let mut padded = symbol.to_vec();
            padded.resize(self.symbol_length, 0);
            self.learn(c, &padded);
        }
        // Elimination costs far more than peeling: try it once k symbols are in, then again only
        // after 1% more have arrived.
        if self.known_sources < k
            && self.received >= k
            && self.received >= self.last_elimination + (k / 100).max(1)
        {
            self.eliminate();
            self.last_elimination = self.received;
        }
        Ok(SymbolUse::Accepted)
    }

    fn status(&self) -> DecodeStatus {
        DecodeStatus::of(
            self.known_sources == self.matrix.k,
            self.received,
            self.matrix.k,
        )
    }

    fn source_block(&self) -> Option<&[u8]> {
        (self.known_sources == self.matrix.k).then_some(&self.block[..])
    }

    fn source_symbol(&self, esi: u32) -> Option<&[u8]> {
        let (c, e) = (esi as usize, self.symbol_length);
        (c < self.matrix.k && self.known[c]).then(|| &self.block[c * e..(c + 1) * e])
    }

    fn push_packet(
        &mut self,
        esi0: u32,
        payload: &[u8],
        symbol_length: usize,
    ) -> Result<usize, FecError> {
        let g = payload.len().div_ceil(symbol_length.max(1));
        if g <= 1 {
            self.push(esi0, payload)?;
            return Ok(1);
        }
        if self.groups.is_none() {
            self.groups = self.matrix.group_tables();
        }
        let esis = match &self.groups {
            Some(t) => self.matrix.receiver_group_esis(t, g, esi0),
            // No repair symbols: source groups are consecutive anyway.
            None => Some(
                (0..g as u32)
                    .map(|i| (esi0 + i) % self.matrix.k as u32)
                    .collect(),
            ),
        };
        let Some(esis) = esis else { return Ok(0) };
        for (esi, chunk) in esis.into_iter().zip(payload.chunks(symbol_length)) {
            self.push(esi, chunk)?;
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding (receiver target): k=15 with n=790,689 took seconds to build per block.
    #[test]
    fn fuzz_regression_very_low_rates_are_refused_before_building() {
        let t = std::time::Instant::now();
        let r = ParityCheckMatrix::new(15, 790_689, 3, 201_523_200, LdpcVariant::Staircase);
        assert!(matches!(r, Err(FecError::Unsupported(_))), "{r:?}");
        assert!(t.elapsed() < std::time::Duration::from_millis(100));
        assert!(
            ParityCheckMatrix::new(15, 15 + 15 * 15 + 64, 3, 1, LdpcVariant::Staircase).is_ok()
        );
    }

    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn every_parity_equation_holds() {
        for variant in [LdpcVariant::Staircase, LdpcVariant::Triangle] {
            let (k, n, e) = (100, 150, 8);
            let m = ParityCheckMatrix::new(k, n, 3, 1234, variant).unwrap();
            for (j, col) in m.cols.iter().take(k).enumerate() {
                assert!(col.len() >= 3, "source column {j} has {} ones", col.len());
            }
            assert!(m.rows.iter().all(|r| r.len() >= 2));
            let block = data(k * e - 3, 9);
            let enc = LdpcEncoder::new(&block, &m, e).unwrap();
            for row in &m.rows {
                let mut acc = vec![0u8; e];
                for &c in row {
                    xor_into(&mut acc, &enc.symbol(c).unwrap());
                }
                assert!(
                    acc.iter().all(|&b| b == 0),
                    "{variant:?}: an equation does not sum to zero"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_matrix_other_seed_other_matrix() {
        let a = ParityCheckMatrix::new(50, 75, 3, 7, LdpcVariant::Staircase).unwrap();
        let b = ParityCheckMatrix::new(50, 75, 3, 7, LdpcVariant::Staircase).unwrap();
        let c = ParityCheckMatrix::new(50, 75, 3, 8, LdpcVariant::Staircase).unwrap();
        assert_eq!(a.rows, b.rows);
        assert_ne!(a.rows, c.rows);
    }

    #[test]
    fn hanging_parameters_are_rejected() {
        assert!(ParityCheckMatrix::new(10, 12, 3, 1, LdpcVariant::Staircase).is_err());
        assert!(ParityCheckMatrix::new(1, 5, 3, 1, LdpcVariant::Staircase).is_err());
        assert!(ParityCheckMatrix::new(10, 20, 3, 0, LdpcVariant::Staircase).is_err());
        assert!(ParityCheckMatrix::new(10, 10, 3, 1, LdpcVariant::Staircase)
            .unwrap()
            .rows
            .is_empty());
    }

    /// Random loss patterns: with every symbol received but a seeded fraction, the block decodes.
    #[test]
    fn decodes_under_seeded_loss() {
        for (variant, seed) in [
            (LdpcVariant::Staircase, 1u64),
            (LdpcVariant::Triangle, 2),
            (LdpcVariant::Staircase, 3),
        ] {
            let (k, n, e) = (400usize, 600usize, 16usize);
            let m = ParityCheckMatrix::new(k, n, 3, 4242 + seed as u32, variant).unwrap();
            let block = data(k * e, seed);
            let enc = LdpcEncoder::new(&block, &m, e).unwrap();
            let mut order: Vec<u32> = (0..n as u32).collect();
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for i in (1..order.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut dec = LdpcDecoder::new(m, e).unwrap();
            let mut used = 0;
            for &esi in &order {
                dec.push(esi, &enc.symbol(esi).unwrap()).unwrap();
                used += 1;
                if dec.status() == DecodeStatus::Decoded {
                    break;
                }
            }
            assert_eq!(
                dec.status(),
                DecodeStatus::Decoded,
                "{variant:?} seed {seed}"
            );
            assert_eq!(dec.source_block().unwrap(), &block[..]);
            assert!(
                used <= k * 115 / 100,
                "{variant:?}: needed {used} symbols for k={k}"
            );
        }
    }

    /// Property: for random k, N1, seeds and both variants, every symbol but a random 10%
    /// decodes the block, and what comes out is the source.
    #[test]
    fn random_parameters_decode_with_ten_percent_loss() {
        let mut x = 0x1234_5678_9ABC_DEF1u64;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..40 {
            let k = 20 + next(500) as usize;
            let n = k * 3 / 2 + next(k as u64 / 2) as usize;
            let n1 = 3 + next(5) as usize;
            let seed = 1 + next(0x7FFF_FFFD) as u32;
            let variant = if case % 2 == 0 {
                LdpcVariant::Staircase
            } else {
                LdpcVariant::Triangle
            };
            let e = 4 + next(20) as usize;
            let m = match ParityCheckMatrix::new(k, n, n1, seed, variant) {
                Ok(m) => m,
                Err(_) => continue,
            };
            let block = data(k * e - next(e as u64) as usize, case);
            let enc = LdpcEncoder::new(&block, &m, e).unwrap();
            let mut dec = LdpcDecoder::new(m, e).unwrap();
            for esi in 0..n as u32 {
                if next(10) != 0 {
                    let s = enc.symbol(esi).unwrap();
                    let s = if esi as usize == k - 1 {
                        &s[..block.len() - (k - 1) * e]
                    } else {
                        &s[..]
                    };
                    dec.push(esi, s).unwrap();
                }
            }
            assert_eq!(
                dec.status(),
                DecodeStatus::Decoded,
                "case {case}: k={k} n={n} N1={n1} seed={seed} {variant:?}"
            );
            assert_eq!(&dec.source_block().unwrap()[..block.len()], &block[..]);
        }
    }

    #[test]
    fn symbol_groups_round_trip_rfc5170_5_6() {
        let (k, n, e, g) = (120usize, 180usize, 8usize, 4usize);
        let m = ParityCheckMatrix::new(k, n, 3, 777, LdpcVariant::Staircase).unwrap();
        let tables = m.group_tables().unwrap();
        // The tables are inverse permutations of the n-k repair indexes.
        for (txseq, &id) in tables.0.iter().enumerate() {
            assert_eq!(tables.1[id as usize] as usize, txseq);
        }
        let block = data(k * e, 11);
        let enc = LdpcEncoder::new(&block, &m, e).unwrap();
        let packets = k.div_ceil(g) + (n - k).div_ceil(g);
        let mut dec = LdpcDecoder::new(m.clone(), e).unwrap();
        // Receive every packet but every seventh, in reverse order, each as (first ESI, payload).
        // (Dropping every fifth leaves a stopping set for this matrix: two sources that only
        // appear together; no decoder can rebuild them.)
        for idx in (0..packets).rev().filter(|i| i % 7 != 2) {
            let esis = m.sender_group_esis(&tables, g, idx);
            assert_eq!(
                m.receiver_group_esis(&tables, g, esis[0]).unwrap(),
                esis,
                "packet {idx}"
            );
            let payload: Vec<u8> = esis
                .iter()
                .flat_map(|&x| enc.symbol(x).unwrap().into_owned())
                .collect();
            dec.push_packet(esis[0], &payload, e).unwrap();
        }
        assert_eq!(dec.status(), DecodeStatus::Decoded);
        assert_eq!(dec.source_block().unwrap(), &block[..]);
    }

    #[test]
    fn fewer_than_k_symbols_never_decode() {
        let (k, n, e) = (50usize, 80usize, 4usize);
        let m = ParityCheckMatrix::new(k, n, 3, 99, LdpcVariant::Staircase).unwrap();
        let block = data(k * e, 5);
        let enc = LdpcEncoder::new(&block, &m, e).unwrap();
        let mut dec = LdpcDecoder::new(m, e).unwrap();
        for esi in (1..n as u32).step_by(2).take(k - 1) {
            dec.push(esi, &enc.symbol(esi).unwrap()).unwrap();
        }
        assert_ne!(dec.status(), DecodeStatus::Decoded);
        assert!(dec.source_block().is_none());
    }
}
