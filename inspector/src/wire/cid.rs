//! The CID Object List (RFC 6968 §2.2): TOIs, TOI intervals and TOI equivalences.
//!
//! ```text
//! cid-list     =  *(list-elem *( "," list-elem))
//! list-elem    =  toi-elem / toieq-elem
//! toi-elem     =  toi-value / toi-interval
//! toi-interval =  toi-value "-" toi-value      ; first < second
//! toieq-elem   =  "(" toi-value "=" toi-value "/" ciid-value ")"
//! ```
//! TOIs are listed in increasing order, wrap-aware (a wrapping interval is split into
//! `a-MAX_TOI,0-b`); equivalences come last in increasing newTOI order; nothing repeats.

use crate::registry;
use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::digit1;
use nom::combinator::{map, opt};
use nom::sequence::{delimited, preceded, separated_pair};
use nom::{IResult, Parser};
use serde::Serialize;

use super::error::WireError;
use super::finding::{Decoded, Findings};
use super::serde_hex;

/// Digits accepted for one number: 112-bit TOIs have at most 34 decimal digits.
const MAX_DIGITS: usize = 34;
/// Elements accepted in one list (bounds memory on hostile input).
pub const MAX_ELEMENTS: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CidElement {
    Toi {
        #[serde(serialize_with = "serde_hex::u128_num")]
        toi: u128,
    },
    Interval {
        #[serde(serialize_with = "serde_hex::u128_num")]
        first: u128,
        #[serde(serialize_with = "serde_hex::u128_num")]
        last: u128,
    },
    Equivalence {
        #[serde(serialize_with = "serde_hex::u128_num")]
        new_toi: u128,
        #[serde(serialize_with = "serde_hex::u128_num")]
        first_toi: u128,
        first_ciid: u64,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CidObjectList {
    pub elements: Vec<CidElement>,
    /// Distinct objects in the carousel instance (TOIs, interval members and equivalences' new
    /// TOIs, each counted once).
    #[serde(serialize_with = "serde_hex::u128_num")]
    pub object_count: u128,
}

type Res<'a, O> = IResult<&'a [u8], O>;
/// One list element's numbers: the first TOI, then the interval end or the equivalence's first
/// TOI, then the equivalence's CIID.
type ElementDigits<'a> = (&'a [u8], Option<&'a [u8]>, Option<&'a [u8]>);

fn number(i: &[u8]) -> Res<'_, &[u8]> {
    digit1(i)
}

fn element(i: &[u8]) -> Res<'_, ElementDigits<'_>> {
    alt((
        map(
            delimited(
                tag("("),
                separated_pair(number, tag("="), separated_pair(number, tag("/"), number)),
                tag(")"),
            ),
            |(n, (t, c))| (n, Some(t), Some(c)),
        ),
        map((number, opt(preceded(tag("-"), number))), |(a, b)| {
            (a, b, None)
        }),
    ))
    .parse(i)
}

fn to_u128(digits: &[u8], at: usize) -> Result<u128, WireError> {
    let too_big = || {
        WireError::of(
            &registry::fcast::CID_NUMBER_TOO_LARGE,
            "object_list",
            at,
            "number wider than 112 bits",
        )
    };
    if digits.len() > MAX_DIGITS {
        return Err(too_big());
    }
    let v = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<u128>().ok())
        .ok_or_else(too_big)?;
    if v >> 112 != 0 {
        return Err(too_big());
    }
    Ok(v)
}

impl CidElement {
    /// The TOI range this element adds to the carousel instance.
    fn range(&self) -> (u128, u128) {
        match *self {
            CidElement::Toi { toi } => (toi, toi),
            CidElement::Interval { first, last } => (first, last),
            CidElement::Equivalence { new_toi, .. } => (new_toi, new_toi),
        }
    }
}

impl CidObjectList {
    /// Parses an Object List on its own: a wrap of the TOI space is judged in the smallest TOI
    /// width that holds every TOI listed. [`CidObjectList::parse_in`] takes the session's.
    pub fn parse(text: &[u8]) -> Result<Decoded<CidObjectList>, WireError> {
        Self::parse_in(text, None)
    }

    /// Parses an Object List of a session whose TOI field is `toi_bits` wide (the LCT header's
    /// width, RFC 5651 §5.1): a decrease in the list reads as the wrap of that TOI space.
    pub fn parse_in(
        text: &[u8],
        toi_bits: Option<u32>,
    ) -> Result<Decoded<CidObjectList>, WireError> {
        let mut f = Findings::default();
        let mut elements = Vec::new();
        let mut rest = text;
        let offset = |rest: &[u8]| text.len() - rest.len();
        while !rest.is_empty() {
            if !elements.is_empty() {
                match tag::<_, _, nom::error::Error<&[u8]>>(",").parse(rest) {
                    Ok((r, _)) => rest = r,
                    Err(_) => {
                        return Err(WireError::of(
                            &registry::fcast::CID_SYNTAX,
                            "object_list",
                            offset(rest),
                            "expected ',' between list elements",
                        ))
                    }
                }
            }
            if elements.len() == MAX_ELEMENTS {
                return Err(WireError::of(
                    &registry::fcast::CID_TOO_MANY_ELEMENTS,
                    "object_list",
                    offset(rest),
                    format!("more than {MAX_ELEMENTS} elements"),
                ));
            }
            let at = offset(rest);
            let (r, (a, b, c)) = element(rest).map_err(|_| {
                WireError::of(
                    &registry::fcast::CID_SYNTAX,
                    "object_list",
                    at,
                    "expected a TOI, an interval a-b or an equivalence (new=first/ciid)",
                )
            })?;
            rest = r;
            let a = to_u128(a, at)?;
            let el = match (b, c) {
                (Some(t), Some(ciid)) => {
                    let ciid = to_u128(ciid, at)?;
                    let first_ciid = u64::try_from(ciid).map_err(|_| {
                        WireError::of(
                            &registry::fcast::CID_NUMBER_TOO_LARGE,
                            "object_list",
                            at,
                            "CIID wider than 64 bits",
                        )
                    })?;
                    CidElement::Equivalence {
                        new_toi: a,
                        first_toi: to_u128(t, at)?,
                        first_ciid,
                    }
                }
                (Some(b), None) => {
                    let b = to_u128(b, at)?;
                    if a >= b {
                        f.raise(&registry::fcast::CID_INTERVAL_NOT_INCREASING, "object_list", at, format!("interval {a}-{b}: the first TOI MUST be strictly less than the second"));
                    }
                    CidElement::Interval { first: a, last: b }
                }
                _ => CidElement::Toi { toi: a },
            };
            elements.push(el);
        }
        Self::check_order(&elements, toi_bits, &mut f);
        let object_count = Self::count(&elements);
        Ok(Decoded::new(
            CidObjectList {
                elements,
                object_count,
            },
            f.list,
        ))
    }

    fn check_order(elements: &[CidElement], toi_bits: Option<u32>, f: &mut Findings) {
        let mut prev_end: Option<u128> = None;
        let mut first_start: Option<u128> = None;
        let mut max_toi = 0u128;
        // Index of the one decrease accepted as the wrap of the TOI space.
        let mut wrapped: Option<usize> = None;
        let mut prev_eq: Option<u128> = None;
        for (i, el) in elements.iter().enumerate() {
            match el {
                CidElement::Equivalence { new_toi, .. } => {
                    if prev_eq.is_some_and(|p| *new_toi <= p) {
                        f.raise(&registry::fcast::CID_EQUIVALENCE_ORDER, "object_list", i, format!("equivalence for newTOI {new_toi} is not in increasing newTOI order, or repeats"));
                    }
                    prev_eq = Some(*new_toi);
                }
                _ => {
                    if prev_eq.is_some() {
                        f.raise(
                            &registry::fcast::CID_EQUIVALENCE_NOT_LAST,
                            "object_list",
                            i,
                            "TOI equivalences MUST be grouped at the end of the list",
                        );
                    }
                    let (start, end) = el.range();
                    first_start.get_or_insert(start);
                    max_toi = max_toi.max(end);
                    if let Some(p) = prev_end {
                        if start <= p {
                            if start < p && wrapped.is_none() {
                                wrapped = Some(i);
                            } else {
                                f.raise(&registry::fcast::CID_ORDER, "object_list", i, format!("TOI {start} is not after {p}: TOIs MUST increase and MUST NOT repeat"));
                            }
                        }
                    }
                    prev_end = Some(end.max(start));
                }
            }
        }
        // A decrease is the wrap of the TOI space only if the list then spans at most half of
        // it (RFC 6968 §3.6: active TOIs occupy half the space). The field width is the
        // session's when known; otherwise the smallest LCT TOI width (16-bit steps) that holds
        // every TOI listed.
        if let (Some(i), Some(first), Some(last)) = (wrapped, first_start, prev_end) {
            let guessed = (128 - max_toi.leading_zeros()).div_ceil(16).max(1) * 16;
            let bits = toi_bits
                .filter(|b| (16..=128).contains(b))
                .unwrap_or(guessed)
                .max(guessed);
            let space = if bits >= 128 {
                u128::MAX
            } else {
                1u128 << bits
            };
            let span = (space - first).saturating_add(last + 1);
            if span > space / 2 {
                f.raise(&registry::fcast::CID_ORDER, "object_list", i, format!("TOIs decrease at element {i} and do not read as one wrap of a {bits}-bit TOI space within half of it (RFC 6968 §2.2, §3.6): TOIs MUST increase"));
            }
        }
    }

    /// Counts distinct TOIs without expanding intervals (which may span 2^112 values).
    fn count(elements: &[CidElement]) -> u128 {
        let mut ranges: Vec<(u128, u128)> = elements
            .iter()
            .map(CidElement::range)
            .filter(|(a, b)| a <= b)
            .collect();
        ranges.sort_unstable();
        let mut total = 0u128;
        let mut current: Option<(u128, u128)> = None;
        for (a, b) in ranges {
            match current {
                Some((ca, cb)) if a <= cb.saturating_add(1) => current = Some((ca, cb.max(b))),
                Some((ca, cb)) => {
                    total += cb - ca + 1;
                    current = Some((a, b));
                }
                None => current = Some((a, b)),
            }
        }
        if let Some((a, b)) = current {
            total += b - a + 1;
        }
        total
    }

    /// Whether the carousel instance lists `toi` (directly, in an interval, or as a new TOI).
    pub fn contains(&self, toi: u128) -> bool {
        self.elements.iter().any(|e| {
            let (a, b) = e.range();
            a <= toi && toi <= b
        })
    }

    /// The list in its canonical text form (which is the ABNF's only form).
    pub fn emit(&self) -> String {
        self.elements
            .iter()
            .map(|e| match e {
                CidElement::Toi { toi } => toi.to_string(),
                CidElement::Interval { first, last } => format!("{first}-{last}"),
                CidElement::Equivalence {
                    new_toi,
                    first_toi,
                    first_ciid,
                } => format!("({new_toi}={first_toi}/{first_ciid})"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_covers_values_intervals_and_equivalences() {
        let l = CidObjectList::parse(b"1,5-7,(9=2/0)").unwrap().value;
        for toi in [1, 5, 6, 7, 9] {
            assert!(l.contains(toi), "{toi}");
        }
        for toi in [0, 2, 4, 8, 10] {
            assert!(!l.contains(toi), "{toi}");
        }
        assert_eq!(l.object_count, 5);
    }

    #[test]
    fn errors_give_the_offset_in_the_list() {
        let e = CidObjectList::parse(b"1,2,x").unwrap_err();
        assert_eq!((e.id, e.offset), ("fcast.cid.syntax", 4));
    }

    #[test]
    fn a_wrap_is_judged_in_the_sessions_toi_width() {
        // One wrap of a 16-bit space; in a 32-bit session the same list goes backwards.
        let wrap = b"65000,65535,1,7";
        let order =
            |d: Decoded<CidObjectList>| d.findings.iter().any(|f| f.id == "fcast.cid.order");
        assert!(!order(CidObjectList::parse(wrap).unwrap()));
        assert!(!order(CidObjectList::parse_in(wrap, Some(16)).unwrap()));
        assert!(order(CidObjectList::parse_in(wrap, Some(32)).unwrap()));
    }

    /// The list `0,1,2,...` of `n` increasing TOIs.
    fn increasing_list(n: usize) -> Vec<u8> {
        let mut text = Vec::with_capacity(n * 8);
        for toi in 0..n {
            if toi > 0 {
                text.push(b',');
            }
            text.extend_from_slice(toi.to_string().as_bytes());
        }
        text
    }

    #[test]
    fn a_list_of_more_than_max_elements_is_refused() {
        let mut text = increasing_list(MAX_ELEMENTS);
        let l = CidObjectList::parse(&text).unwrap();
        assert_eq!(l.value.elements.len(), MAX_ELEMENTS);
        assert!(l.findings.is_empty(), "{:?}", &l.findings[..1]);
        let at = text.len() + 1;
        text.extend_from_slice(format!(",{MAX_ELEMENTS}").as_bytes());
        let err = CidObjectList::parse(&text).unwrap_err();
        assert_eq!(
            (err.id, err.offset),
            (registry::fcast::CID_TOO_MANY_ELEMENTS.id, at)
        );
    }
}
