//! The quality report (issue 16 §2, `sightline report quality`): per feed
//! and per indicator type, how the indicators fared: how many matched
//! (had sightings) since a time, the sightings counted, the analysts'
//! verdicts, precision where verdicts exist, indicators never matched and
//! stale ones (not active now).
//!
//! A feed is the indicator's `created_by_ref` (the identity a feed stamps
//! on what it converts, or the producer's own), shown by name when the store
//! has the identity. One pass over each type the report reads (sightings,
//! opinions, identities, indicators; latest versions, paged): the counts and
//! each indicator's renewals and verdicts come from the same passes, no
//! query per indicator.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;
use sightline_store::ObjectReader;

use crate::score::{Evaluator, Event, EventKind, State, Subject, Verdict};
use crate::verdict::{in_order, micros, opinion_verdict, sighting_events};
use crate::LifecycleError;

/// One row of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Row {
    /// The feed (`created_by_ref`, with its name) or the observable type.
    pub key: String,
    pub indicators: u64,
    /// Active now (the lifecycle's score at or above the active threshold).
    pub active: u64,
    /// Not active now: decayed, expired, revoked or judged false.
    pub stale: u64,
    /// Indicators with no sighting at all.
    pub never_matched: u64,
    /// Indicators with a sighting whose `last_seen` is at or after `since`.
    pub matched: u64,
    /// The `count` of those sightings, summed.
    pub sightings: u64,
    pub true_positive: u64,
    pub false_positive: u64,
    pub benign: u64,
    /// true positives / (true + false positives), when there are any.
    pub precision: Option<f64>,
}

/// The report: rows per feed and per observable type, and the totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// µs since the epoch; sightings and verdicts before it are not counted.
    pub since_us: i64,
    pub now_us: i64,
    pub by_feed: Vec<Row>,
    pub by_type: Vec<Row>,
    pub total: Row,
}

#[derive(Default)]
struct Seen {
    any: bool,
    since: bool,
    count: u64,
}

fn pass(
    store: &dyn ObjectReader,
    ty: &str,
    f: &mut dyn FnMut(&Value),
) -> Result<(), LifecycleError> {
    crate::bulk::each_latest(store, ty, &mut |_, v| f(v))
}

/// The report over the whole store, sightings and verdicts counted from
/// `since_us`, states judged at `now_us` with `eval`'s rules.
pub fn report(
    store: &dyn ObjectReader,
    eval: &Evaluator,
    since_us: i64,
    now_us: i64,
) -> Result<Report, LifecycleError> {
    // Sightings per indicator, and every indicator's renewals and verdicts
    // for its state now (one pass each over sightings and opinions).
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut history: HashMap<String, Vec<Event>> = HashMap::new();
    pass(store, "sighting", &mut |v| {
        let Some((of, events)) = sighting_events(v, eval.config()) else {
            return;
        };
        let last = micros(v, "last_seen")
            .or_else(|| micros(v, "first_seen"))
            .or_else(|| micros(v, "modified"));
        let s = seen.entry(of.to_owned()).or_default();
        s.any = true;
        if last.is_some_and(|t| t >= since_us) {
            s.since = true;
            s.count += v.get("count").and_then(Value::as_u64).unwrap_or(1);
        }
        history.entry(of.to_owned()).or_default().extend(events);
    })?;
    // Verdicts per indicator since `since` (each opinion once); all of them
    // count for the state.
    let mut verdicts: HashMap<String, Vec<Verdict>> = HashMap::new();
    pass(store, "opinion", &mut |v| {
        let Some((event, refs)) = opinion_verdict(v) else {
            return;
        };
        let EventKind::Verdict(verdict, _) = event.kind else {
            return;
        };
        for r in refs.into_iter().filter(|r| r.starts_with("indicator--")) {
            history.entry(r.to_owned()).or_default().push(event);
            if event.at_us >= since_us {
                verdicts.entry(r.to_owned()).or_default().push(verdict);
            }
        }
    })?;
    history.values_mut().for_each(in_order);
    // The feeds' names.
    let mut names: HashMap<String, String> = HashMap::new();
    pass(store, "identity", &mut |v| {
        if let (Some(id), Some(n)) = (
            v.get("id").and_then(Value::as_str),
            v.get("name").and_then(Value::as_str),
        ) {
            names.insert(id.to_owned(), n.to_owned());
        }
    })?;
    // The indicators: what the rows need of each (not their JSON).
    struct Ind {
        id: String,
        feed: String,
        ty: String,
        subject: Option<Subject>,
    }
    let mut inds = Vec::new();
    pass(store, "indicator", &mut |v| {
        let Some(id) = v.get("id").and_then(Value::as_str) else {
            return;
        };
        let feed = match v.get("created_by_ref").and_then(Value::as_str) {
            Some(c) => match names.get(c) {
                Some(n) => format!("{n} ({c})"),
                None => c.to_owned(),
            },
            None => "(no created_by_ref)".to_owned(),
        };
        let ty = match v.get("pattern_type").and_then(Value::as_str) {
            Some(t) if t != "stix" => format!("({t} pattern)"),
            _ => v
                .get("pattern")
                .and_then(Value::as_str)
                .and_then(crate::main_observable_type)
                .unwrap_or_else(|| "(unparsed pattern)".to_owned()),
        };
        inds.push(Ind {
            id: id.to_owned(),
            feed,
            ty,
            subject: eval.subject(v).ok(),
        });
    })?;
    let mut by_feed: BTreeMap<String, Row> = BTreeMap::new();
    let mut by_type: BTreeMap<String, Row> = BTreeMap::new();
    let mut total = Row {
        key: "all".into(),
        ..Row::default()
    };
    for Ind {
        id,
        feed,
        ty,
        subject,
    } in inds
    {
        // Stale when not active now; a malformed indicator counts stale.
        let events = history.get(&id).map_or(&[][..], Vec::as_slice);
        let active = subject.is_some_and(|s| {
            eval.score(&eval.renew(s, events, now_us), now_us).state == State::Active
        });
        let s = seen.get(&id);
        let judged = verdicts.get(&id).map_or(&[][..], Vec::as_slice);
        for row in [
            by_feed.entry(feed.clone()).or_insert_with(|| Row {
                key: feed.clone(),
                ..Row::default()
            }),
            by_type.entry(ty.clone()).or_insert_with(|| Row {
                key: ty.clone(),
                ..Row::default()
            }),
            &mut total,
        ] {
            row.indicators += 1;
            if active {
                row.active += 1;
            } else {
                row.stale += 1;
            }
            match s {
                None => row.never_matched += 1,
                Some(s) if s.since => {
                    row.matched += 1;
                    row.sightings += s.count;
                }
                Some(_) => {}
            }
            for v in judged {
                match v {
                    Verdict::TruePositive => row.true_positive += 1,
                    Verdict::FalsePositive => row.false_positive += 1,
                    Verdict::Benign => row.benign += 1,
                }
            }
        }
    }
    let finish = |mut r: Row| {
        let judged = r.true_positive + r.false_positive;
        r.precision = (judged > 0).then(|| r.true_positive as f64 / judged as f64);
        r
    };
    Ok(Report {
        since_us,
        now_us,
        by_feed: by_feed.into_values().map(finish).collect(),
        by_type: by_type.into_values().map(finish).collect(),
        total: finish(total),
    })
}
