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

/// The wall clock in µs since the epoch (0 before 1970): the one helper for
/// "now" in the store's unit, for every crate.
pub fn now_micros() -> DateAdded {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 with exactly six fractional digits, as TAXII wants (TAXII 2.1 §2.1).
pub fn format_date_added(us: DateAdded) -> String {
    sightline_stix::format_micros(us)
}

/// Parses a STIX/TAXII timestamp into microseconds (digits beyond the sixth are
/// truncated; [`sightline_stix::Timestamp::micros`]). `None` when it is not a
/// valid STIX timestamp.
pub fn parse_date_added(s: &str) -> Option<DateAdded> {
    sightline_stix::Timestamp::parse(s).ok().map(|t| t.micros())
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
