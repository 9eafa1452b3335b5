//! Serialisation helpers for the decoded tree: bytes as hex strings, 128-bit values as numbers
//! when they fit in 64 bits (JSON and YAML readers rarely take more) and as decimal strings otherwise.

use serde::Serializer;

pub fn bytes<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Addresses, CCIs and short options (the common case, once per packet) on the stack.
    let mut stack = [0u8; 64];
    let mut heap = Vec::new();
    let out: &mut [u8] = if b.len() * 2 <= stack.len() {
        &mut stack[..b.len() * 2]
    } else {
        heap.resize(b.len() * 2, 0);
        &mut heap
    };
    for (pair, byte) in out.chunks_exact_mut(2).zip(b) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xF)];
    }
    // SAFETY: every byte written is an ASCII hex digit, so the slice is UTF-8.
    s.serialize_str(unsafe { std::str::from_utf8_unchecked(out) })
}

pub fn u128_num<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    match u64::try_from(*v) {
        Ok(small) => s.serialize_u64(small),
        Err(_) => s.serialize_str(&v.to_string()),
    }
}

pub fn opt_u128_num<S: Serializer>(v: &Option<u128>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => u128_num(v, s),
        None => s.serialize_none(),
    }
}
