//! STIX timestamps as instants: microseconds since the Unix epoch (observation
//! times, qualifiers) and exact order keys (comparisons with `t'...'`).

use sightline_stix::Timestamp;

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

/// `YYYY-MM-DDTHH:MM:SS[.f+]Z` → µs since the epoch, by the one rule of
/// [`Timestamp::micros`] (fraction beyond µs truncated; a leap second `:60`
/// is the next second's start).
pub fn parse_micros(text: &str) -> Result<i64, TimeError> {
    Timestamp::parse(text)
        .map(|t| t.micros())
        .map_err(|e| TimeError(e.to_string()))
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
