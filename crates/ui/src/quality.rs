//! The home page's quality summary (`#quality`, issue 16 §2): per feed, the
//! indicators matched, the analysts' verdicts and the precision over the
//! last 30 days, from [`sightline_lifecycle::quality::report`].
//!
//! The report passes over the whole store (indicators, sightings, opinions)
//! and cannot be narrowed to some collections without a pass per
//! collection, so it is shown to administrators only (who read the whole
//! store), and others are told so. It is kept ([`Cache`]): a home page load
//! does not cost three store passes, and says when the report was made.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maud::{html, Markup};
use sightline_lifecycle::quality::Report;

/// How long a computed report is fresh; older, it is still shown while a
/// new one is made in the background.
const KEEP: Duration = Duration::from_secs(60);
/// The window counted.
pub(crate) const DAYS: i64 = 30;

/// The last report and when it was made.
#[derive(Debug)]
pub(crate) struct Cache {
    last: Mutex<Option<(Instant, Report)>>,
    refreshing: AtomicBool,
    keep: Duration,
}

impl Default for Cache {
    fn default() -> Self {
        Self::with_keep(KEEP)
    }
}

impl Cache {
    fn with_keep(keep: Duration) -> Self {
        Self {
            last: Mutex::new(None),
            refreshing: AtomicBool::new(false),
            keep,
        }
    }

    /// The report: the kept one while fresh; a stale one at once, with a
    /// new one made on another thread (one at a time); none yet: made now.
    /// A report costs about a second per 100,000 indicators (three store
    /// passes), so only the first home page after a start waits for it.
    /// Blocking.
    pub(crate) fn get(
        self: &Arc<Self>,
        make: impl Fn() -> Result<Report, crate::UiError> + Send + 'static,
    ) -> Result<Report, crate::UiError> {
        let kept = self.last.lock().ok().and_then(|g| g.clone());
        if let Some((at, r)) = kept {
            if at.elapsed() >= self.keep && !self.refreshing.swap(true, Ordering::AcqRel) {
                let me = self.clone();
                std::thread::spawn(move || {
                    match make() {
                        Ok(r) => me.put(r),
                        Err(e) => tracing::warn!(error = %e, "quality report refresh failed"),
                    }
                    me.refreshing.store(false, Ordering::Release);
                });
            }
            return Ok(r);
        }
        let r = make()?;
        self.put(r.clone());
        Ok(r)
    }

    fn put(&self, r: Report) {
        if let Ok(mut g) = self.last.lock() {
            *g = Some((Instant::now(), r));
        }
    }
}

fn precision(p: Option<f64>) -> String {
    p.map_or("—".to_owned(), |p| format!("{:.0} %", p * 100.0))
}

/// `None`: the caller is not an administrator.
pub(crate) fn markup(report: Option<&Report>) -> Markup {
    html! {
        section #quality aria-labelledby="h-quality" {
            h2 #h-quality { "Indicator quality, last " (DAYS) " days" }
            @if let Some(r) = report {
                p.muted { "As of " (sightline_stix::format_micros(r.now_us)) "." }
            }
            @match report {
                None => p.muted { "Shown to administrators only: the report covers the whole store." },
                Some(r) if r.by_feed.is_empty() => p { "No indicators yet." },
                Some(r) => table {
                    thead { tr {
                        th scope="col" { "Feed" }
                        th scope="col" .num { "Indicators" }
                        th scope="col" .num { "Matched" }
                        th scope="col" .num { "True positive" }
                        th scope="col" .num { "False positive" }
                        th scope="col" .num { "Benign" }
                        th scope="col" .num { "Precision" }
                    } }
                    tbody {
                        @for row in r.by_feed.iter().chain([&r.total]) {
                            tr {
                                th scope="row" { (row.key) }
                                td.num { (row.indicators) }
                                td.num { (row.matched) }
                                td.num { (row.true_positive) }
                                td.num { (row.false_positive) }
                                td.num { (row.benign) }
                                td.num { (precision(row.precision)) }
                            }
                        }
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(n: i64) -> Result<Report, crate::UiError> {
        Ok(Report {
            now_us: n,
            ..Report::default()
        })
    }

    #[test]
    fn a_stale_report_is_shown_while_a_new_one_is_made() {
        let made = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let make = {
            let made = made.clone();
            move || report(made.fetch_add(1, Ordering::SeqCst) + 1)
        };
        let c = Arc::new(Cache::with_keep(Duration::ZERO));
        // None yet: made now.
        assert_eq!(c.get(make.clone()).expect("first").now_us, 1);
        // Stale at once (keep 0): the old one, a new one on the way.
        assert_eq!(c.get(make.clone()).expect("stale").now_us, 1);
        let deadline = Instant::now() + Duration::from_secs(10);
        while (made.load(Ordering::SeqCst) < 2 || c.refreshing.load(Ordering::Acquire))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(c.get(make).expect("refreshed").now_us, 2);
        // Fresh reports are not made again.
        let fresh = Arc::new(Cache::with_keep(Duration::from_secs(3600)));
        let calls = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let counting = {
            let calls = calls.clone();
            move || report(calls.fetch_add(1, Ordering::SeqCst))
        };
        fresh.get(counting.clone()).expect("one");
        fresh.get(counting).expect("two");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
