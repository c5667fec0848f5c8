//! Timestamp grammar shared by the parser, the rule engine and the windows.
//!
//! Timestamps are stored as milliseconds since the Unix epoch, UTC. Input is
//! either a bare number (epoch ms or s, per the field's `unit`) or ISO-8601
//! with an explicit offset: `2026-01-31T12:00:00Z`, `…T12:00:00.123+02:00`,
//! `…T12:00:00-0500`, a space instead of `T` is accepted. A local time without
//! offset is ambiguous and therefore rejected.

use crate::EpochUnit;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses ISO-8601 date-time with offset into epoch ms; `None` when the text
/// is not one (including a missing offset or an impossible date).
pub fn parse_iso8601(b: &[u8]) -> Option<i64> {
    let year = digits(b, 0, 4)? as i64;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let (second, mut i) = if b.get(16) == Some(&b':') {
        (digits(b, 17, 2)?, 19)
    } else {
        (0, 16)
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut millis = 0i64;
    if matches!(b.get(i), Some(b'.') | Some(b',')) {
        i += 1;
        let start = i;
        let mut scale = 100;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            millis += (*c - b'0') as i64 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_min: i64 = match b.get(i)? {
        b'Z' | b'z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let oh = digits(b, i + 1, 2)? as i64;
            let (om, next) = if b.get(i + 3) == Some(&b':') {
                (digits(b, i + 4, 2)? as i64, i + 6)
            } else if b.len() > i + 3 {
                (digits(b, i + 3, 2)? as i64, i + 5)
            } else {
                (0, i + 3)
            };
            if oh > 23 || om > 59 {
                return None;
            }
            i = next;
            let off = oh * 60 + om;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour as i64 * 3600 + minute as i64 * 60 + second as i64;
    Some((secs - offset_min * 60) * 1000 + millis)
}

/// Parses a bare decimal number (`-12`, `1700000000.5`, `1.7e12`) as epoch
/// time in `unit`, floored to whole milliseconds.
pub fn parse_epoch(b: &[u8], unit: EpochUnit) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    let (neg, body) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if body.is_empty() {
        return None;
    }
    if body.iter().all(|c| c.is_ascii_digit()) {
        let mut v: i64 = 0;
        for &c in body {
            v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
        }
        let v = v.checked_mul(unit.millis())?;
        return Some(if neg { -v } else { v });
    }
    // Fractions and exponents: go through f64, exact for any realistic epoch.
    let text = std::str::from_utf8(b).ok()?;
    if !text
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
    {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    let ms = (v * unit.millis() as f64).floor();
    if !ms.is_finite() || ms.abs() > 9.0e15 {
        return None;
    }
    Some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_with_offsets() {
        assert_eq!(parse_iso8601(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_iso8601(b"1970-01-01T00:00:00.5-0100"),
            Some(3_600_500)
        );
        assert_eq!(
            parse_iso8601(b"2024-02-29 12:00:00.123Z"),
            Some(1_709_208_000_123)
        );
        assert_eq!(parse_iso8601(b"2023-02-29T00:00:00Z"), None);
        assert_eq!(
            parse_iso8601(b"2024-01-01T00:00:00"),
            None,
            "offset is required"
        );
        assert_eq!(parse_iso8601(b"2024-01-01T00:00:00Zjunk"), None);
    }

    #[test]
    fn epochs() {
        assert_eq!(
            parse_epoch(b"1700000000000", EpochUnit::Ms),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_epoch(b"1700000000", EpochUnit::S),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_epoch(b"1700000000.25", EpochUnit::S),
            Some(1_700_000_000_250)
        );
        assert_eq!(parse_epoch(b"-5", EpochUnit::Ms), Some(-5));
        assert_eq!(parse_epoch(b"12a", EpochUnit::Ms), None);
        assert_eq!(parse_epoch(b"", EpochUnit::Ms), None);
        assert_eq!(parse_epoch(b"99999999999999999999", EpochUnit::Ms), None);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in -62_000_000_000_000i64..250_000_000_000_000i64) {
            prop_assert_eq!(parse_iso8601(format_iso_ms(ms).as_bytes()), Some(ms));
        }
    }
}
