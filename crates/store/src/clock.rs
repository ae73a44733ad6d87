//! `date_added`: microseconds since the Unix epoch, strictly increasing per store.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type DateAdded = i64;

/// Hands out strictly increasing `date_added` values: the wall clock, bumped by
/// 1 µs whenever it would not exceed the last value handed out (TAXII paging
/// with `added_after` relies on no two versions sharing a value).
#[derive(Debug, Default)]
pub struct DateAddedClock {
    last: AtomicI64,
}

impl DateAddedClock {
    /// A clock that will never hand out a value `<= last` (the highest value
    /// already stored, so restarts and a clock stepping back cannot reuse one).
    pub fn starting_after(last: DateAdded) -> Self {
        Self {
            last: AtomicI64::new(last),
        }
    }

    pub fn next(&self) -> DateAdded {
        let now = now_micros();
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(p) => prev = p,
            }
        }
    }

    /// Makes sure no value `<= d` is handed out from now on (a value stored
    /// from elsewhere, as when copying a store).
    pub fn observe(&self, d: DateAdded) {
        self.last.fetch_max(d, Ordering::AcqRel);
    }

    /// Moves the clock back to `last` (used when a transaction that drew values is
    /// rolled back is NOT needed: values may be skipped, never reused).
    pub fn last(&self) -> DateAdded {
        self.last.load(Ordering::Acquire)
    }
}

fn now_micros() -> DateAdded {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 with exactly six fractional digits, as TAXII wants (TAXII 2.1 §2.1).
pub fn format_date_added(us: DateAdded) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Parses a STIX/TAXII timestamp into microseconds (digits beyond the sixth are
/// truncated). `None` when it is not a valid STIX timestamp.
pub fn parse_date_added(s: &str) -> Option<DateAdded> {
    let ts = sightline_stix::Timestamp::parse(s).ok()?;
    let b = ts.as_str().as_bytes();
    let num = |r: std::ops::Range<usize>| -> i64 {
        b[r].iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'))
    };
    let days = days_from_civil(num(0..4), num(5..7), num(8..10));
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    let mut micros = 0i64;
    if b.len() > 21 {
        let frac = &b[20..b.len() - 1];
        for i in 0..6 {
            micros = micros * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    Some(secs * 1_000_000 + micros)
}

// Howard Hinnant's civil-date algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictly_increasing() {
        let c = DateAddedClock::starting_after(i64::MAX / 2);
        let a = c.next();
        let b = c.next();
        assert_eq!(a, i64::MAX / 2 + 1);
        assert_eq!(b, a + 1);
    }

    #[test]
    fn formats_and_parses() {
        let us = parse_date_added("2016-11-01T03:04:05.123456789Z").expect("valid");
        assert_eq!(format_date_added(us), "2016-11-01T03:04:05.123456Z");
        assert_eq!(parse_date_added("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_date_added(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(parse_date_added("not a time"), None);
    }
}
