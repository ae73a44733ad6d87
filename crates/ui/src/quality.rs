//! The home page's quality summary (`#quality`, issue 16 §2): per feed, the
//! indicators matched, the analysts' verdicts and the precision over the
//! last 30 days, from [`sightline_lifecycle::quality::report`].
//!
//! The report passes over the whole store (indicators, sightings, opinions)
//! and cannot be narrowed to some collections without a pass per
//! collection, so it is shown to administrators only (who read the whole
//! store), and others are told so. It is kept for a minute: a home page
//! load does not cost three store passes each time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use maud::{html, Markup};
use sightline_lifecycle::quality::Report;

/// How long a computed report is shown again.
const KEEP: Duration = Duration::from_secs(60);
/// The window counted.
pub(crate) const DAYS: i64 = 30;

/// The last report and when it was made.
#[derive(Debug, Default)]
pub(crate) struct Cache(Mutex<Option<(Instant, Report)>>);

impl Cache {
    /// The report kept, or a new one from `make`. Blocking.
    pub(crate) fn get_or(
        &self,
        make: impl FnOnce() -> Result<Report, crate::UiError>,
    ) -> Result<Report, crate::UiError> {
        if let Ok(g) = self.0.lock() {
            if let Some((at, r)) = g.as_ref() {
                if at.elapsed() < KEEP {
                    return Ok(r.clone());
                }
            }
        }
        let r = make()?;
        if let Ok(mut g) = self.0.lock() {
            *g = Some((Instant::now(), r.clone()));
        }
        Ok(r)
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
