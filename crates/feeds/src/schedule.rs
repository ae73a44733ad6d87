//! Syncing feeds on their `interval` (what `serve` runs on a thread of its
//! own): a feed is due `interval` after its last run started; after a failed
//! run, sooner: 1 min, 2, 4, ... doubling with each failure in a row, never
//! later than the interval. Feeds run one at a time.
//!
//! Each replica sharing a PostgreSQL store runs its own schedule: two may
//! pull the same feed at about the same time, which costs a re-read but
//! stores nothing twice (versions already held are duplicates).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sightline_stix::Validator;
use sightline_store::Store;

use crate::registry::{self, FeedState};
use crate::{sync_feed, FeedConfig, Result, SyncOptions};

/// The first wait after a failure; it doubles with each failure in a row.
pub const FAILURE_BACKOFF_SECS: i64 = 60;

/// When (µs since the epoch) `feed` is next due; None without an interval.
pub fn next_due(feed: &FeedConfig, st: &FeedState) -> Option<i64> {
    let every = i64::try_from(feed.interval_secs().ok()??).ok()?;
    let Some(last) = st
        .last_run
        .as_deref()
        .and_then(|t| sightline_stix::Timestamp::parse(t).ok())
        .map(|t| t.micros())
    else {
        return Some(0); // never ran: now
    };
    let wait = if st.consecutive_failures > 0 {
        let shift = (st.consecutive_failures - 1).min(20);
        (FAILURE_BACKOFF_SECS << shift).min(every)
    } else {
        every
    };
    Some(last.saturating_add(wait.saturating_mul(1_000_000)))
}

/// The feeds due at `now` (µs): stored ones and `extra` (a config's
/// `[[feeds]]`, which win over a stored feed of the same name).
pub fn due(store: &dyn Store, extra: &[FeedConfig], now: i64) -> Result<Vec<FeedConfig>> {
    let mut feeds = registry::list(store)?;
    feeds.retain(|f| !extra.iter().any(|e| e.name == f.name));
    feeds.extend(extra.iter().cloned());
    let mut out = Vec::new();
    for f in feeds {
        let st = registry::state(store, &f.name)?;
        if next_due(&f, &st).is_some_and(|t| t <= now) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Runs due feeds until `stop` is set, looking every `tick`.
pub fn run(
    store: &dyn Store,
    validator: &Validator,
    extra: &[FeedConfig],
    stop: &AtomicBool,
    tick: Duration,
) {
    while !stop.load(Ordering::Relaxed) {
        match due(store, extra, crate::now_micros()) {
            Ok(feeds) => {
                for f in feeds {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    match sync_feed(store, validator, &f, &SyncOptions::default()) {
                        Ok(r) => match &r.error {
                            None => tracing::info!(
                                feed = %r.feed, new = r.counts.new, updated = r.counts.updated,
                                rejected = r.counts.rejected, "feed synced"
                            ),
                            Some(e) => {
                                tracing::warn!(feed = %r.feed, error = %e, "feed sync failed")
                            }
                        },
                        Err(e) => tracing::warn!(feed = %f.name, error = %e, "feed sync failed"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the feeds failed"),
        }
        // Sleep in short steps so a stop is seen promptly.
        let mut left = tick;
        while !left.is_zero() && !stop.load(Ordering::Relaxed) {
            let step = left.min(Duration::from_millis(200));
            std::thread::sleep(step);
            left -= step;
        }
    }
}

/// The hook for `serve`: [`run`] on a thread of its own, every 10 s, until
/// `stop` is set (then join the handle).
pub fn spawn(
    store: Arc<dyn Store>,
    validator: Arc<Validator>,
    extra: Vec<FeedConfig>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sightline-feeds".into())
        .spawn(move || {
            run(
                store.as_ref(),
                &validator,
                &extra,
                &stop,
                Duration::from_secs(10),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FeedKind;

    #[test]
    fn due_times() {
        let mut f = FeedConfig::new("a", FeedKind::Csv, "/x");
        let mut st = FeedState::default();
        assert_eq!(next_due(&f, &st), None, "no interval: on demand only");
        f.interval = Some("1h".into());
        assert_eq!(next_due(&f, &st), Some(0), "never ran");
        st.last_run = Some("2024-01-01T00:00:00Z".into());
        let t0 = 1_704_067_200_000_000;
        assert_eq!(next_due(&f, &st), Some(t0 + 3_600_000_000));
        st.consecutive_failures = 1;
        assert_eq!(next_due(&f, &st), Some(t0 + 60_000_000));
        st.consecutive_failures = 3;
        assert_eq!(next_due(&f, &st), Some(t0 + 240_000_000));
        st.consecutive_failures = 30;
        assert_eq!(
            next_due(&f, &st),
            Some(t0 + 3_600_000_000),
            "never later than the interval"
        );
    }

    /// A CSV feed with an interval is synced by the scheduler; one without is not.
    #[test]
    fn the_scheduler_syncs_due_feeds() {
        let dir =
            std::env::temp_dir().join(format!("sightline-feeds-sched-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let list = dir.join("l.txt");
        std::fs::write(&list, "1.2.3.4\n").expect("list");
        let store = sightline_store::MemoryStore::new();
        let mut a = FeedConfig::new("a", FeedKind::Csv, &list.display().to_string());
        a.interval = Some("1h".into());
        let b = FeedConfig::new("b", FeedKind::Csv, &list.display().to_string());
        registry::put(&store, &a, false).expect("a");
        let stop = AtomicBool::new(false);
        let validator = Validator::new();
        std::thread::scope(|s| {
            s.spawn(|| run(&store, &validator, &[b], &stop, Duration::from_millis(20)));
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while registry::state(&store, "a")
                .map(|s| s.outcome)
                .ok()
                .flatten()
                .as_deref()
                != Some("ok")
            {
                assert!(std::time::Instant::now() < deadline, "never synced");
                std::thread::sleep(Duration::from_millis(10));
            }
            stop.store(true, Ordering::Relaxed);
        });
        assert_eq!(registry::state(&store, "a").expect("a").run.new, 1);
        assert_eq!(
            registry::state(&store, "b").expect("b").outcome,
            None,
            "no interval"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
