//! STIX timestamps (STIX 2.1 §3.2): RFC 3339, UTC with a literal `Z`, any
//! number of fractional digits, kept exactly as given.

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("timestamp {0:?} is not of the form YYYY-MM-DDTHH:MM:SS[.s+]Z")]
    Form(String),
    #[error("timestamp {0:?} is not a real calendar date and time")]
    Range(String),
}

/// A validated STIX timestamp. Keeps the original text (so exports are byte-exact)
/// and compares by instant: `...00.1Z` equals `...00.100Z`.
#[derive(Debug, Clone)]
pub struct Timestamp<'a> {
    text: &'a str,
}

impl<'a> Timestamp<'a> {
    pub fn parse(text: &'a str) -> Result<Self, TimestampError> {
        let b = text.as_bytes();
        let form = || TimestampError::Form(text.to_owned());
        if b.len() < 20 || b[b.len() - 1] != b'Z' {
            return Err(form());
        }
        let digits = |r: std::ops::Range<usize>| -> Result<u32, TimestampError> {
            let s = &b[r];
            if s.iter().all(u8::is_ascii_digit) {
                Ok(s.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
            } else {
                Err(form())
            }
        };
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(form());
        }
        let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (h, mi, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        match b.len() {
            20 => {}
            n if n >= 22 && b[19] == b'.' => {
                if !b[20..n - 1].iter().all(u8::is_ascii_digit) {
                    return Err(form());
                }
            }
            _ => return Err(form()),
        }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mdays = match mo {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        // Leap seconds (:60) are legal in RFC 3339.
        if d == 0 || d > mdays || h > 23 || mi > 59 || s > 60 {
            return Err(TimestampError::Range(text.to_owned()));
        }
        Ok(Timestamp { text })
    }

    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Number of fractional-second digits as written (0 when there are none).
    pub fn fraction_digits(&self) -> usize {
        self.text.len().saturating_sub(21)
    }

    /// A string whose byte order is the instant's order and which is equal for
    /// equal instants: `YYYY-MM-DDTHH:MM:SS.fffffffff`, the fraction padded to 9
    /// digits, extra digits kept, trailing zeros beyond the 9th dropped.
    /// Stores index versions by this.
    pub fn sort_key(&self) -> String {
        let base = &self.text[..19];
        let frac = if self.text.len() > 20 {
            &self.text[20..self.text.len() - 1]
        } else {
            ""
        };
        let frac = frac.trim_end_matches('0');
        let mut key = String::with_capacity(31);
        key.push_str(base);
        key.push('.');
        key.push_str(frac);
        for _ in frac.len()..9 {
            key.push('0');
        }
        // No trailing 'Z': a shorter key must be a prefix of a longer one to sort first.
        key
    }
}

impl Timestamp<'_> {
    /// Microseconds since the Unix epoch. The one conversion every part of
    /// Sightline uses (validator, matcher, stores, telemetry): digits past the
    /// sixth are truncated, and a leap second (`:60`) is the start of the next
    /// second, as POSIX time has no leap seconds.
    pub fn micros(&self) -> i64 {
        let b = self.text.as_bytes();
        let num = |r: std::ops::Range<usize>| -> i64 {
            b[r].iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
        };
        let days = days_from_civil(num(0..4), num(5..7), num(8..10));
        let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
        let mut frac = 0i64;
        if b.len() > 21 {
            let digits = &b[20..b.len() - 1];
            for i in 0..6 {
                frac = frac * 10 + digits.get(i).map_or(0, |c| i64::from(c - b'0'));
            }
        }
        secs * 1_000_000 + frac
    }
}

/// Latest instant [`format_micros`] writes: 9999-12-31T23:59:59.999999Z.
pub const MAX_MICROS: i64 = 253_402_300_799_999_999;
/// Earliest: 0001-01-01T00:00:00Z.
pub const MIN_MICROS: i64 = -62_135_596_800_000_000;

/// µs since the epoch as a STIX timestamp with exactly six fractional digits
/// (`2024-01-15T10:00:00.123456Z`, as TAXII's `date_added` wants, TAXII 2.1
/// §2.1), clamped to years 1..=9999. Written digit by digit: it runs for every
/// network event the matcher turns into SCOs.
pub fn format_micros(us: i64) -> String {
    let us = us.clamp(MIN_MICROS, MAX_MICROS);
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    put(20, 6, frac);
    // Only ASCII digits and separators were written.
    String::from_utf8_lossy(&b).into_owned()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`, public domain).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl PartialEq for Timestamp<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Timestamp<'_> {}
impl PartialOrd for Timestamp<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl fmt::Display for Timestamp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_utc() {
        for ok in [
            "2016-04-06T20:03:48Z",
            "2016-04-06T20:03:48.000Z",
            "2016-04-06T20:03:48.123456789123Z",
            "2016-02-29T00:00:00Z",
        ] {
            assert!(Timestamp::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2016-04-06 20:03:48Z",
            "2016-04-06T20:03:48+00:00",
            "2016-04-06T20:03:48.Z",
            "2015-02-29T00:00:00Z",
            "2016-13-01T00:00:00Z",
            "2016-04-06T24:00:00Z",
            "2016-04-06T20:03:48z",
            "2016-04-06",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compares_by_instant_keeping_text() {
        let a = Timestamp::parse("2020-01-01T00:00:00.1Z").expect("valid");
        let b = Timestamp::parse("2020-01-01T00:00:00.100Z").expect("valid");
        let c = Timestamp::parse("2020-01-01T00:00:00.1000000001Z").expect("valid");
        assert_eq!(a, b);
        assert!(c > a);
        assert_eq!(a.as_str(), "2020-01-01T00:00:00.1Z");
        assert_eq!(a.sort_key(), "2020-01-01T00:00:00.100000000");
        assert_eq!(c.sort_key(), "2020-01-01T00:00:00.1000000001");
    }
}
