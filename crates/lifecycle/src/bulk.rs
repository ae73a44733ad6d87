//! Histories of many indicators at once, for a matcher's (re)load: every
//! sighting and every verdict opinion in the store read in one pass each
//! (paged, latest versions), instead of two store queries per indicator as
//! [`crate::history`] does for one.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sightline_store::{ObjectQuery, ObjectReader, VersionFilter};

use crate::score::Event;
use crate::verdict::{in_order, opinion_verdict, sighting_events};
use crate::{Evaluator, LifecycleConfig, LifecycleError};

/// Rows per page of the passes.
const PAGE: usize = 5000;

/// Every indicator's renewing events and verdicts, read in one pass.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    /// Per indicator (those with none are absent), oldest first.
    pub events: HashMap<String, Vec<Event>>,
    /// The highest `date_added` among the verdict opinions read (to notice
    /// a new verdict later).
    pub high: Option<i64>,
}

/// Calls `f` with the `date_added` and the parsed JSON of the latest version
/// of every object of type `ty` (paged; an object whose JSON does not parse
/// is skipped).
pub(crate) fn each_latest(
    store: &dyn ObjectReader,
    ty: &str,
    f: &mut dyn FnMut(i64, &Value),
) -> Result<(), LifecycleError> {
    let q = ObjectQuery {
        types: vec![ty.to_owned()],
        versions: VersionFilter::last(),
        limit: PAGE,
        ..ObjectQuery::default()
    };
    sightline_store::for_each_page(store, &q, |o| {
        if let Ok(v) = serde_json::from_str::<Value>(o.raw) {
            f(o.date_added, &v);
        }
        Ok::<(), LifecycleError>(())
    })?;
    Ok(())
}

/// The renewing events and verdicts of each of `indicators`, oldest first,
/// as [`crate::history`] gives them one by one: each sighting at its `first_seen` and `last_seen` (trusted when a
/// `where_sighted_refs` sensor is in `trusted_sensors`), each verdict at its
/// opinion's `created`.
pub fn histories(
    store: &dyn ObjectReader,
    config: &LifecycleConfig,
    indicators: &HashSet<String>,
) -> Result<Histories, LifecycleError> {
    let mut out: HashMap<String, Vec<Event>> = HashMap::new();
    let mut high = None;
    let mut pass = |ty: &str, f: &mut dyn FnMut(&Value)| {
        each_latest(store, ty, &mut |date_added, v| {
            if ty == "opinion" {
                high = high.max(Some(date_added));
            }
            f(v);
        })
    };
    pass("sighting", &mut |v| {
        if let Some((of, events)) = sighting_events(v, config) {
            if indicators.contains(of) {
                out.entry(of.to_owned()).or_default().extend(events);
            }
        }
    })?;
    pass("opinion", &mut |v| {
        let Some((event, refs)) = opinion_verdict(v) else {
            return;
        };
        for r in refs.into_iter().filter(|r| indicators.contains(*r)) {
            out.entry(r.to_owned()).or_default().push(event);
        }
    })?;
    out.values_mut().for_each(in_order);
    Ok(Histories { events: out, high })
}

/// The state now (`now_us`) of every indicator in `collection` (or the whole
/// store) that is NOT active, with why, judged with its sightings and
/// verdicts: what an export or a sensor feed leaves out beside the STIX
/// validity rules (issue 16 §1: "inactive everywhere"). Two passes for the
/// histories, one for the indicators; no query per indicator.
pub fn not_active(
    store: &dyn ObjectReader,
    eval: &Evaluator,
    collection: Option<&str>,
    now_us: i64,
) -> Result<HashMap<String, crate::Score>, LifecycleError> {
    let mut subjects = Vec::new();
    let q = ObjectQuery {
        collection: collection.map(str::to_owned),
        types: vec!["indicator".into()],
        versions: VersionFilter::last(),
        limit: PAGE,
        ..ObjectQuery::default()
    };
    sightline_store::for_each_page(store, &q, |o| {
        // A malformed one is left to the caller's own checks (an export
        // reports it as rejected).
        if let Some(s) = serde_json::from_str::<Value>(o.raw)
            .ok()
            .and_then(|v| eval.subject(&v).ok())
        {
            subjects.push((o.id.to_owned(), s));
        }
        Ok::<(), LifecycleError>(())
    })?;
    let ids: HashSet<String> = subjects.iter().map(|(id, _)| id.clone()).collect();
    let h = histories(store, eval.config(), &ids)?;
    let mut out = HashMap::new();
    for (id, s) in subjects {
        let events = h.events.get(&id).map_or(&[][..], Vec::as_slice);
        let score = eval.score(&eval.renew(s, events, now_us), now_us);
        if score.state != crate::State::Active {
            out.insert(id, score);
        }
    }
    Ok(out)
}
