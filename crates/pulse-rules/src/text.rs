//! The text grammar of the `type` check: whether a string field's text
//! reads as a value of another field type. Timestamps use the schema
//! crate's grammar (ISO-8601 with offset, or epoch milliseconds); numbers
//! and booleans follow the JSON-like forms below.

use pulse_schema::{parse_epoch, parse_iso8601, EpochUnit, FieldType};

/// `[+-]?[0-9]+` within the int64 range.
pub fn is_int64(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = match b.first() {
        Some(b'+') | Some(b'-') => &b[1..],
        _ => b,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && s.parse::<i64>().is_ok()
}

/// `[+-]?(D+[.D*]|.D+)([eE][+-]?D+)?` whose value is finite (no `inf`, `NaN`).
pub fn is_float64(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+') | Some(b'-')));
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
            frac_digits += 1;
        }
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len() && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `true` or `false`, in any letter case.
pub fn is_bool(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
}

/// ISO-8601 with an offset, or a bare number of epoch milliseconds.
pub fn is_timestamp(s: &str) -> bool {
    parse_iso8601(s.as_bytes()).is_some() || parse_epoch(s.as_bytes(), EpochUnit::Ms).is_some()
}

pub fn parses_as(s: &str, t: FieldType) -> bool {
    match t {
        FieldType::String => true,
        FieldType::Int64 => is_int64(s),
        FieldType::Float64 => is_float64(s),
        FieldType::Bool => is_bool(s),
        FieldType::Timestamp => is_timestamp(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        for ok in [
            "0",
            "-12",
            "+7",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert!(is_int64(ok), "{ok}");
        }
        for bad in [
            "",
            "-",
            "1.0",
            "1e3",
            " 1",
            "9223372036854775808",
            "0x10",
            "١",
        ] {
            assert!(!is_int64(bad), "{bad}");
        }
    }

    #[test]
    fn floats() {
        for ok in ["0", "-1.5", "1.", ".5", "+2e10", "1E-3", "12"] {
            assert!(is_float64(ok), "{ok}");
        }
        for bad in [
            "", ".", "e5", "1e", "inf", "NaN", "1e999", "1.2.3", " 1", "1_000",
        ] {
            assert!(!is_float64(bad), "{bad}");
        }
    }

    #[test]
    fn bools_and_timestamps() {
        assert!(is_bool("TRUE") && is_bool("false") && !is_bool("yes") && !is_bool("1"));
        assert!(is_timestamp("2026-01-31T12:00:00.250+01:00"));
        assert!(is_timestamp("1700000000000"));
        assert!(!is_timestamp("2026-01-31T12:00:00"));
        assert!(!is_timestamp("yesterday"));
    }
}
