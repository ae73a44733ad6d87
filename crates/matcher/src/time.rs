//! STIX timestamps as instants: microseconds since the Unix epoch (observation
//! times, qualifiers) and exact order keys (comparisons with `t'...'`).

use sightline_stix::Timestamp;

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

/// `YYYY-MM-DDTHH:MM:SS[.f+]Z` → µs since the epoch (fraction beyond µs
/// truncated). A leap second (`:60`) counts as the next second's start.
pub fn parse_micros(text: &str) -> Result<i64, TimeError> {
    Timestamp::parse(text).map_err(|e| TimeError(e.to_string()))?;
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> i64 {
        b[r].iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
    };
    let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
    let (h, mi, s) = (num(11..13), num(14..16), num(17..19));
    let mut micros = 0i64;
    if b.len() > 21 {
        let frac = &b[20..b.len() - 1];
        for i in 0..6 {
            micros = micros * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
        }
    }
    let days = days_from_civil(y, mo, d);
    Ok(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A key whose byte order is the instant order, keeping every fractional
/// digit (STIX 2.1 Part 9 §9.4: timestamps compare as instants, not as text).
pub fn order_key(text: &str) -> Option<String> {
    Timestamp::parse(text).ok().map(|t| t.sort_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_fractions() {
        assert_eq!(parse_micros("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_micros("1970-01-01T00:00:01.5Z"), Ok(1_500_000));
        assert_eq!(
            parse_micros("2024-02-29T12:00:00.123456789Z"),
            Ok(1_709_208_000_123_456)
        );
        assert_eq!(parse_micros("1969-12-31T23:59:59Z"), Ok(-1_000_000));
        assert!(parse_micros("2023-02-29T00:00:00Z").is_err());
        assert!(parse_micros("2023-01-01 00:00:00Z").is_err());
    }

    #[test]
    fn order_keys_keep_nanoseconds() {
        let a = order_key("2024-01-01T00:00:00.123456789Z");
        let b = order_key("2024-01-01T00:00:00.123456Z");
        assert!(a > b);
        assert_eq!(
            order_key("2024-01-01T00:00:00.1Z"),
            order_key("2024-01-01T00:00:00.100Z")
        );
    }
}
