//! Event times: Zeek's epoch seconds, ISO 8601 / RFC 3339 text in the forms
//! sensors write (`Z`, `+0000`, `+00:00`, no zone = UTC), and STIX timestamp
//! text for the SCOs built from events. All as µs since the Unix epoch.

use sightline_matcher::EventTime;

/// Latest instant we accept: 9999-12-31T23:59:59.999999Z, so every time prints
/// as a four-digit-year STIX timestamp.
const MAX_US: i64 = sightline_stix::time::MAX_MICROS;
/// Earliest: 0001-01-01T00:00:00Z.
const MIN_US: i64 = sightline_stix::time::MIN_MICROS;

/// Epoch seconds (Zeek `ts`, fractional) to µs; `None` when not finite or out
/// of the year 1..=9999 range.
pub fn from_epoch_secs(secs: f64) -> Option<EventTime> {
    let us = (secs * 1_000_000.0).round();
    // The comparison is false for NaN, so NaN is rejected too.
    if (MIN_US as f64..=MAX_US as f64).contains(&us) {
        Some(us as i64)
    } else {
        None
    }
}

/// Parses `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh[:]mm]` (no zone means UTC).
/// Fraction digits past µs are truncated.
pub fn parse_iso(s: &str) -> Option<EventTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        let mut n = 0u32;
        for &c in part {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        Some(n)
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = num(0..4)? as i32;
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // A leap second (:60) is the next second's start, the rule of
    // `sightline_stix::Timestamp::micros` (validator, matcher, stores).
    let (sec, leap) = if sec == 60 { (59, true) } else { (sec, false) };
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let t = time::Time::from_hms(h as u8, mi as u8, sec as u8).ok()?;
    let mut i = 19;
    let mut frac_us: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                frac_us = frac_us * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..6 {
            frac_us *= 10;
        }
    }
    if leap {
        // :59 plus one whole second, then the fraction.
        frac_us += 1_000_000;
    }
    let offset_secs: i64 = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[i + 1..];
            let (oh, om) = match rest.len() {
                4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                5 if rest.as_bytes()[2] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                2 => (num(i + 1..i + 3)?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let secs = time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp()
        - offset_secs;
    let us = secs.checked_mul(1_000_000)?.checked_add(frac_us)?;
    (MIN_US..=MAX_US).contains(&us).then_some(us)
}

/// µs since the epoch as a STIX timestamp with µs precision
/// (`2024-01-15T10:00:00.123456Z`): [`sightline_stix::format_micros`].
pub fn to_stix(us: EventTime) -> String {
    sightline_stix::format_micros(us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms_sensors_write() {
        let t = 1_705_312_800_123_456; // 2024-01-15T10:00:00.123456Z
        assert_eq!(parse_iso("2024-01-15T10:00:00.123456Z"), Some(t));
        assert_eq!(parse_iso("2024-01-15T10:00:00.123456+0000"), Some(t));
        assert_eq!(parse_iso("2024-01-15T11:00:00.123456+01:00"), Some(t));
        assert_eq!(parse_iso("2024-01-15T05:00:00.123456-0500"), Some(t));
        assert_eq!(parse_iso("2024-01-15 10:00:00.123456"), Some(t));
        assert_eq!(parse_iso("2024-01-15T10:00:00.1234569Z"), Some(t));
        assert_eq!(parse_iso("2024-01-15T10:00:00Z"), Some(t - 123_456));
        assert_eq!(
            parse_iso("2024-01-15T10:00:00.5Z"),
            Some(t - 123_456 + 500_000)
        );
    }

    #[test]
    fn iso_rejects_nonsense() {
        for s in [
            "",
            "2024-01-15",
            "2024-02-30T00:00:00Z",
            "2024-01-15T25:00:00Z",
            "2024-01-15T10:00:00.Z",
            "2024-01-15T10:00:00Zx",
            "2024-01-15T10:00:00+2400",
            "２024-01-15T10:00:00Z",
            "2024-01-15T10:00:00+01:0",
        ] {
            assert_eq!(parse_iso(s), None, "{s}");
        }
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(
            from_epoch_secs(1_705_312_800.123456),
            Some(1_705_312_800_123_456)
        );
        assert_eq!(from_epoch_secs(f64::NAN), None);
        assert_eq!(from_epoch_secs(f64::INFINITY), None);
        assert_eq!(from_epoch_secs(1e300), None);
    }

    #[test]
    fn stix_text_round_trips() {
        let t = 1_705_312_800_123_456;
        assert_eq!(to_stix(t), "2024-01-15T10:00:00.123456Z");
        assert_eq!(parse_iso(&to_stix(t)), Some(t));
        assert_eq!(to_stix(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(to_stix(MIN_US), "0001-01-01T00:00:00.000000Z");
        assert_eq!(to_stix(MAX_US), "9999-12-31T23:59:59.999999Z");
        assert_eq!(to_stix(951_782_400_000_000), "2000-02-29T00:00:00.000000Z");
        // Every day of 1..=9999 agrees with the `time` crate's calendar.
        let mut day = MIN_US / 86_400_000_000;
        while day <= MAX_US / 86_400_000_000 {
            let d = time::OffsetDateTime::from_unix_timestamp(day * 86_400)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                sightline_stix::time::civil_from_days(day),
                (
                    i64::from(d.year()),
                    i64::from(u8::from(d.month())),
                    i64::from(d.day())
                )
            );
            day += 1;
        }
    }
}
