//! Serialisation helpers for the decoded tree: bytes as hex strings, 128-bit values as numbers
//! when they fit in 64 bits (JSON and YAML readers rarely take more) and as decimal strings otherwise.

use serde::Serializer;

pub fn bytes<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(b.len() * 2);
    for byte in b {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xF)] as char);
    }
    s.serialize_str(&out)
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
