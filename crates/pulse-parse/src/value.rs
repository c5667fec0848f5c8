//! Typed values from text: the JSON number grammar (used by both formats),
//! exact integers, floats, booleans and timestamps, with the contract's
//! reject codes.

use pulse_schema::{parse_epoch, parse_iso8601, EpochUnit};

use crate::reject::{RecordError, RejectCode};

/// A number token found by [`scan_number`]: where it ends and, for a plain
/// integer of at most 18 digits (the common case), its value; for a plain
/// decimal (no exponent) whose digits fit 2^53 with at most 22 after the
/// point, its `f64` value, else NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberToken {
    pub end: usize,
    pub small_int: Option<i64>,
    pub decimal: f64,
}

/// Exact powers of ten as `f64` (10^22 is the largest exact one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Scans the longest JSON-grammar number starting at `pos`
/// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`); `None` when the text
/// there does not start one. Digits are summed in the same pass, so plain
/// integers and short decimals need no second parse: a decimal with an
/// exact mantissa m ≤ 2^53 and k ≤ 22 fraction digits is m / 10^k, one
/// correctly rounded division of two exact values (Clinger's fast path).
/// Always inlined: returned through memory, the token was written in parts
/// and read back whole, a store-forwarding stall per number.
#[inline(always)]
pub fn scan_number(b: &[u8], pos: usize) -> Option<NumberToken> {
    let mut i = pos;
    let neg = b.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    let int_start = i;
    let mut m: u64 = 0;
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while i < b.len() && b[i].is_ascii_digit() {
                if i - int_start < 19 {
                    m = m * 10 + (b[i] - b'0') as u64;
                }
                i += 1;
            }
        }
        _ => return None,
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut integral = true;
    if b.get(i) == Some(&b'.') {
        integral = false;
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if int_digits + (i - s) < 19 {
                m = m * 10 + (b[i] - b'0') as u64;
            }
            i += 1;
        }
        if i == s {
            return None;
        }
        frac_digits = i - s;
    }
    let mut exponent = false;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        integral = false;
        exponent = true;
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    let small_int = (integral && int_digits <= 18).then(|| {
        let v = m as i64;
        if neg {
            -v
        } else {
            v
        }
    });
    let exact = !integral
        && !exponent
        && int_digits + frac_digits <= 19
        && frac_digits <= 22
        && m <= 1 << 53;
    let decimal = if exact {
        let v = m as f64 / POW10[frac_digits];
        if neg {
            -v
        } else {
            v
        }
    } else {
        f64::NAN
    };
    Some(NumberToken {
        end: i,
        small_int,
        decimal,
    })
}

/// Whether the whole of `b` is one JSON-grammar number.
#[inline(always)]
pub fn whole_number(b: &[u8]) -> Option<NumberToken> {
    scan_number(b, 0).filter(|t| t.end == b.len())
}

/// Why a number token is not an int64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntError {
    Fractional,
    OutOfRange,
}

/// The exact integer value of a number token (`3`, `3.0`, `3e2`, `-0`), or
/// why it has none. Decided on the decimal digits, never through f64.
pub fn exact_int(tok: &[u8]) -> Result<i64, IntError> {
    let (neg, body) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        _ => (false, tok),
    };
    let (mantissa, exp) = match body.iter().position(|&c| c == b'e' || c == b'E') {
        Some(p) => (&body[..p], parse_exponent(&body[p + 1..])),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&c| c == b'.') {
        Some(p) => (&mantissa[..p], &mantissa[p + 1..]),
        None => (mantissa, &mantissa[..0]),
    };
    let digit = |k: usize| -> u8 {
        if k < int_part.len() {
            int_part[k] - b'0'
        } else {
            frac_part[k - int_part.len()] - b'0'
        }
    };
    let len = int_part.len() + frac_part.len();
    let Some(first) = (0..len).find(|&k| digit(k) != 0) else {
        return Ok(0);
    };
    let last = (0..len).rev().find(|&k| digit(k) != 0).unwrap_or(first);
    let significant = (last - first + 1) as i64;
    let trailing_zeros = (len - 1 - last) as i64;
    let scale = exp - frac_part.len() as i64 + trailing_zeros;
    if scale < 0 {
        return Err(IntError::Fractional);
    }
    if significant + scale > 19 {
        return Err(IntError::OutOfRange);
    }
    let mut v: u128 = 0;
    for k in first..=last {
        v = v * 10 + digit(k) as u128;
    }
    v *= 10u128.pow(scale as u32);
    let limit = if neg {
        i64::MAX as u128 + 1
    } else {
        i64::MAX as u128
    };
    if v > limit {
        return Err(IntError::OutOfRange);
    }
    Ok(if neg {
        (v as i128).wrapping_neg() as i64
    } else {
        v as i64
    })
}

/// An exponent's value, saturated far beyond any meaningful scale.
fn parse_exponent(b: &[u8]) -> i64 {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut v: i64 = 0;
    for &c in digits {
        v = (v * 10 + (c - b'0') as i64).min(1_000_000_000);
    }
    if neg {
        -v
    } else {
        v
    }
}

/// Text of a token for a reason message, shortened when long.
pub fn shown(b: &[u8]) -> String {
    const MAX: usize = 40;
    let s = String::from_utf8_lossy(&b[..b.len().min(MAX)]);
    if b.len() > MAX {
        format!("{s}…")
    } else {
        s.into_owned()
    }
}

/// An int64 from a number token.
#[inline]
pub fn int64_from_number(name: &str, tok: &[u8], small: Option<i64>) -> Result<i64, RecordError> {
    if let Some(v) = small {
        return Ok(v);
    }
    exact_int(tok).map_err(|e| match e {
        IntError::Fractional => RecordError::field(
            RejectCode::TypeMismatch,
            name,
            format!(
                "field '{name}': expected int64, got fractional number {}",
                shown(tok)
            ),
        ),
        IntError::OutOfRange => RecordError::field(
            RejectCode::OutOfRange,
            name,
            format!("field '{name}': {} is out of int64 range", shown(tok)),
        ),
    })
}

/// A float64 from a number token, correctly rounded (the same value as
/// Rust's `str::parse::<f64>` and JavaScript's `JSON.parse`).
#[inline]
pub fn float64_from_number(
    name: &str,
    tok: &[u8],
    small: Option<i64>,
    decimal: f64,
) -> Result<f64, RecordError> {
    if !decimal.is_nan() {
        return Ok(decimal);
    }
    if let Some(v) = small {
        // Rounds to nearest like the parsers do; only "-0" needs its sign.
        return Ok(if v == 0 && tok.first() == Some(&b'-') {
            -0.0
        } else {
            v as f64
        });
    }
    match fast_float2::parse::<f64, _>(tok) {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(RecordError::field(
            RejectCode::OutOfRange,
            name,
            format!("field '{name}': {} is out of float64 range", shown(tok)),
        )),
    }
}

/// The widest timestamp accepted: JavaScript's `Date` range (±10^8 days),
/// so every parsed time is also a safe JS number.
pub const MAX_EPOCH_MS: i64 = 8_640_000_000_000_000;

/// Epoch milliseconds from a number token read in `unit`.
#[inline]
pub fn timestamp_from_number(
    name: &str,
    tok: &[u8],
    small: Option<i64>,
    unit: EpochUnit,
) -> Result<i64, RecordError> {
    let ms = match small {
        Some(v) => v.checked_mul(unit.millis()),
        None => parse_epoch(tok, unit),
    };
    ms.filter(|ms| ms.abs() <= MAX_EPOCH_MS).ok_or_else(|| {
        RecordError::field(
            RejectCode::OutOfRange,
            name,
            format!("field '{name}': epoch {} is out of range", shown(tok)),
        )
    })
}

/// Epoch milliseconds from ISO-8601 text with an offset.
#[inline]
pub fn timestamp_from_text(name: &str, text: &[u8]) -> Result<i64, RecordError> {
    parse_iso8601(text).ok_or_else(|| {
        RecordError::field(
            RejectCode::InvalidTimestamp,
            name,
            format!(
                "field '{name}': '{}' is not ISO-8601 with an offset (e.g. 2026-01-31T12:00:00Z) nor an epoch number",
                shown(text)
            ),
        )
    })
}

/// The reject for a value of the wrong JSON kind.
pub fn mismatch(name: &str, expected: &str, got: &str) -> RecordError {
    RecordError::field(
        RejectCode::TypeMismatch,
        name,
        format!("field '{name}': expected {expected}, got {got}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tok(s: &str) -> Option<usize> {
        scan_number(s.as_bytes(), 0).map(|t| t.end)
    }

    #[test]
    fn number_grammar() {
        assert_eq!(tok("0"), Some(1));
        assert_eq!(tok("-12.5e+3,"), Some(8));
        assert_eq!(tok("01"), Some(1), "a leading zero ends the number");
        assert_eq!(tok("1."), None);
        assert_eq!(tok(".5"), None);
        assert_eq!(tok("-"), None);
        assert_eq!(tok("1e"), None);
        assert_eq!(tok("+1"), None);
        assert_eq!(tok("NaN"), None);
        assert_eq!(
            scan_number(b"123", 0).unwrap().small_int,
            Some(123),
            "plain integers carry their value"
        );
        assert_eq!(scan_number(b"-7", 0).unwrap().small_int, Some(-7));
        assert_eq!(scan_number(b"1.0", 0).unwrap().small_int, None);
        assert_eq!(
            scan_number(b"1234567890123456789", 0).unwrap().small_int,
            None
        );
        assert!(whole_number(b"12").is_some());
        assert!(whole_number(b"12 ").is_none());
    }

    #[test]
    fn exact_integers() {
        assert_eq!(exact_int(b"3.0"), Ok(3));
        assert_eq!(exact_int(b"3e2"), Ok(300));
        assert_eq!(exact_int(b"-0"), Ok(0));
        assert_eq!(exact_int(b"0.000e5"), Ok(0));
        assert_eq!(exact_int(b"100e-2"), Ok(1));
        assert_eq!(exact_int(b"0.0001e4"), Ok(1));
        assert_eq!(exact_int(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(exact_int(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(exact_int(b"9223372036854775808"), Err(IntError::OutOfRange));
        assert_eq!(exact_int(b"1e19"), Err(IntError::OutOfRange));
        assert_eq!(
            exact_int(b"1e999999999999999999999"),
            Err(IntError::OutOfRange)
        );
        assert_eq!(exact_int(b"3.5"), Err(IntError::Fractional));
        assert_eq!(exact_int(b"1e-1"), Err(IntError::Fractional));
        assert_eq!(exact_int(b"1e-99999999999999"), Err(IntError::Fractional));
    }

    #[test]
    fn typed_errors_carry_codes() {
        let e = int64_from_number("n", b"2.5", None).unwrap_err();
        assert_eq!(e.code, RejectCode::TypeMismatch);
        assert_eq!(e.field.as_deref(), Some("n"));
        let e = float64_from_number("x", b"1e400", None, f64::NAN).unwrap_err();
        assert_eq!(e.code, RejectCode::OutOfRange);
        assert_eq!(float64_from_number("x", b"1e-400", None, f64::NAN), Ok(0.0));
        let neg_zero = float64_from_number("x", b"-0", Some(0), f64::NAN).unwrap();
        assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
        let e = timestamp_from_text("ts", b"2026-01-01T00:00:00").unwrap_err();
        assert_eq!(e.code, RejectCode::InvalidTimestamp);
        assert_eq!(
            timestamp_from_number("ts", b"1.5", None, EpochUnit::S),
            Ok(1500)
        );
        let e = timestamp_from_number("ts", b"1e300", None, EpochUnit::Ms).unwrap_err();
        assert_eq!(e.code, RejectCode::OutOfRange);
        let max = MAX_EPOCH_MS.to_string();
        assert_eq!(
            timestamp_from_number("ts", max.as_bytes(), Some(MAX_EPOCH_MS), EpochUnit::Ms),
            Ok(MAX_EPOCH_MS)
        );
        let e = timestamp_from_number(
            "ts",
            b"8640000000000001",
            Some(8_640_000_000_000_001),
            EpochUnit::Ms,
        )
        .unwrap_err();
        assert_eq!(e.code, RejectCode::OutOfRange);
        let e = timestamp_from_number("ts", b"8640000000000001", None, EpochUnit::S).unwrap_err();
        assert_eq!(e.code, RejectCode::OutOfRange);
    }

    proptest! {
        #[test]
        fn integers_round_trip(v in any::<i64>()) {
            let s = v.to_string();
            prop_assert_eq!(exact_int(s.as_bytes()), Ok(v));
            let t = whole_number(s.as_bytes()).unwrap();
            prop_assert_eq!(int64_from_number("v", s.as_bytes(), t.small_int), Ok(v));
        }

        #[test]
        fn floats_match_std(mant in -1_000_000_000_000i64..1_000_000_000_000, frac in 0u32..100_000, exp in -330i32..330) {
            let s = format!("{mant}.{frac}e{exp}");
            let t = whole_number(s.as_bytes()).unwrap();
            let ours = float64_from_number("v", s.as_bytes(), t.small_int, t.decimal);
            let std: f64 = s.parse().unwrap();
            if std.is_finite() {
                prop_assert_eq!(ours.unwrap().to_bits(), std.to_bits());
            } else {
                prop_assert!(ours.is_err());
            }
        }

        #[test]
        fn plain_decimals_match_std(neg in any::<bool>(), int in "(0|[1-9][0-9]{0,20})", frac in "[0-9]{1,25}") {
            let s = format!("{}{int}.{frac}", if neg { "-" } else { "" });
            let t = whole_number(s.as_bytes()).unwrap();
            let ours = float64_from_number("v", s.as_bytes(), t.small_int, t.decimal).unwrap();
            let std: f64 = s.parse().unwrap();
            prop_assert_eq!(ours.to_bits(), std.to_bits(), "{}", s);
        }

        #[test]
        fn displayed_floats_round_trip(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            // `{x}` never uses an exponent: long plain decimals both ways.
            let s = format!("{x}");
            let t = whole_number(s.as_bytes()).unwrap();
            prop_assert_eq!(float64_from_number("v", s.as_bytes(), t.small_int, t.decimal).unwrap().to_bits(), x.to_bits());
        }

        #[test]
        fn shortest_floats_round_trip(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let s = format!("{x:e}");
            let t = whole_number(s.as_bytes()).unwrap();
            prop_assert_eq!(float64_from_number("v", s.as_bytes(), t.small_int, t.decimal).unwrap().to_bits(), x.to_bits());
        }
    }
}
