//! Content-Encoding undone on delivery: FLUTE's FDT attribute (RFC 6726 §3.4.2) and FCAST's
//! metadata (RFC 6968 §3.3) name it the HTTP way; inflation is capped.

use rmt_inspector::registry;
use rmt_inspector::wire::inflate::{inflate, Compression};

/// The object's bytes with `encoding` undone (`None` or `identity`: as they are).
pub fn decode_content(
    encoding: Option<&str>,
    data: Vec<u8>,
    max_inflated: usize,
    rule: &'static str,
) -> Result<Vec<u8>, String> {
    let how = match encoding.map(str::to_ascii_lowercase).as_deref() {
        None | Some("identity") => return Ok(data),
        Some("gzip" | "x-gzip") => Compression::Gzip,
        Some("deflate") => Compression::Zlib,
        Some(other) => {
            return Err(format!(
                "Content-Encoding {other:?} is not supported ({rule})"
            ))
        }
    };
    inflate(
        &data,
        how,
        max_inflated,
        &registry::object::CONTENT_ENCODING_INFLATE_FAILED,
        &registry::object::CONTENT_ENCODING_TOO_LARGE,
    )
    .map_err(|e| format!("{}: {} ({rule})", e.id, e.detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_gzip_and_unknown() {
        assert_eq!(decode_content(None, b"x".to_vec(), 10, "r").unwrap(), b"x");
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(b"hello").unwrap();
            e.finish().unwrap()
        };
        assert_eq!(
            decode_content(Some("GZIP"), gz.clone(), 10, "r").unwrap(),
            b"hello"
        );
        assert!(
            decode_content(Some("gzip"), gz, 2, "r").is_err(),
            "the cap holds"
        );
        assert!(decode_content(Some("br"), vec![], 10, "r")
            .unwrap_err()
            .contains("not supported"));
    }

    #[test]
    fn gzip_content_that_is_not_gzip_fails_to_inflate() {
        let id = registry::object::CONTENT_ENCODING_INFLATE_FAILED.id;
        assert_eq!(id, "object.content_encoding.inflate_failed");
        let err = decode_content(
            Some("gzip"),
            b"not gzip at all".to_vec(),
            1 << 10,
            "RFC 6726 §3.4.2",
        )
        .unwrap_err();
        assert!(err.starts_with(&format!("{id}: ")), "{err}");
        assert!(err.ends_with("(RFC 6726 §3.4.2)"), "{err}");
        // The same bytes unencoded are delivered as they are.
        assert_eq!(
            decode_content(Some("identity"), b"not gzip at all".to_vec(), 1 << 10, "r").unwrap(),
            b"not gzip at all"
        );
        // A deflate (zlib) label on gzip bytes fails the same way.
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(b"hello").unwrap();
            e.finish().unwrap()
        };
        assert!(decode_content(Some("deflate"), gz, 1 << 10, "r")
            .unwrap_err()
            .starts_with(id));
    }
}
