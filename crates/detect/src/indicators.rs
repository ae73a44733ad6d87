//! Which indicators a run matches: the latest version of every STIX-pattern
//! indicator in the store or in a file, compiled into one `IndicatorSet`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Not;
use std::sync::Arc;

use serde_json::Value;
use sightline_matcher::{time::parse_micros, IndicatorSet, IndicatorSpec, Rejected};
use sightline_store::{ObjectQuery, Store, VersionFilter};

use crate::DetectError;

/// Where indicators come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The latest indicator versions in the store.
    Store,
    /// A STIX file (bundle, array, JSON Lines; gzip too).
    File(String),
}

impl Source {
    /// `store`, or anything else as a file path (`--indicators`).
    pub fn parse(s: &str) -> Self {
        if s == "store" {
            Source::Store
        } else {
            Source::File(s.to_owned())
        }
    }
}

/// Which of the indicators are matched.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only the indicators in this store collection (id or alias); ignored
    /// for indicators from a file.
    pub collection: Option<String>,
    /// Only indicators whose `confidence` (STIX 2.1 §3.2, 0-100) is at least
    /// this; an indicator without one states no confidence and is left out.
    pub min_confidence: Option<u8>,
    /// The indicator lifecycle (issue 16), with the sightings and verdicts
    /// the store holds at load time: an indicator whose verdict in force
    /// drops it (false positive; benign unless configured otherwise) is
    /// left out; [`Decay`] says what its age does.
    pub lifecycle: Option<Arc<sightline_lifecycle::Evaluator>>,
    pub decay: Decay,
    /// Also keep, per indicator id, whether and how it is matched
    /// ([`Loaded::known`]): for events that name their indicator (Suricata
    /// alerts of exported rules) rather than being matched against patterns.
    pub known_ids: bool,
}

/// What an indicator's decaying score does to matching (issue 16 §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Decay {
    /// Nothing: only `valid_from`/`valid_until` and verdicts.
    #[default]
    Off,
    /// Judged at each event's own time, for historical logs: an indicator
    /// matches events inside its active windows, not in the lapses between
    /// them ([`sightline_lifecycle::Evaluator::active_windows`]).
    EventTime,
    /// Judged at the wall clock, for live data: an indicator inactive now
    /// is left out, and one that decays while following is taken out at
    /// that moment ([`Loaded::next_change`]).
    WallTime,
}

impl Selection {
    fn admits(&self, v: &Value) -> bool {
        match self.min_confidence {
            None => true,
            Some(min) => v
                .get("confidence")
                .and_then(Value::as_u64)
                .is_some_and(|c| c >= u64::from(min)),
        }
    }
}

/// Indicators compiled for a run.
#[derive(Debug)]
pub struct Loaded {
    pub set: IndicatorSet,
    /// The store's highest `date_added` among the indicators read (to notice
    /// changes while following); `None` for a file.
    pub high: Option<i64>,
    /// Indicators whose pattern could not be compiled, with why.
    pub rejected: Vec<Rejected>,
    /// Indicators the lifecycle left out: never active (a verdict in
    /// force, a score below the active threshold) or with a property the
    /// score needs malformed.
    pub inactive: usize,
    /// With the lifecycle: the store's highest `date_added` among verdict
    /// opinions (a new verdict is a change to notice).
    pub verdicts_high: Option<i64>,
    /// With [`Decay::WallTime`]: the wall-clock time (µs) at which the
    /// first of the loaded indicators decays out, when the set must be
    /// loaded again.
    pub next_change: Option<i64>,
    /// Per indicator id, what it indicates: the targets of its `indicates`
    /// relationships (STIX 2.1 §5.1, e.g. an intrusion set, malware, a
    /// campaign), where the store or file has them.
    pub indicates: HashMap<String, Vec<Indicated>>,
    /// With [`Selection::known_ids`]: every indicator selected, by id, and
    /// what the matcher does with it. Indicators not selected (another
    /// collection, below `min_confidence`, another pattern language) are
    /// not here.
    pub known: HashMap<String, Known>,
}

/// What the run does with an indicator named by id (an alert's metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// In the compiled set: matched for events at `t` with
    /// `valid_from <= t < valid_until` (µs) outside its `lapses`, as the
    /// matcher judges them.
    Matched {
        index: usize,
        name: String,
        valid_from: i64,
        valid_until: i64,
        /// Sorted `[from, until)` periods (the spec's `lapses`).
        lapses: Box<[(i64, i64)]>,
    },
    /// Selected but never matched, and why.
    Inactive(Inactive),
}

/// Why a selected indicator is never matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    /// `revoked: true` (STIX 2.1 §3.2).
    Revoked,
    /// The lifecycle leaves it out: a verdict in force, a decayed score, or
    /// a property the score needs malformed.
    Lifecycle,
    /// Its pattern could not be compiled ([`Loaded::rejected`]).
    Rejected,
}

impl Inactive {
    pub fn as_str(self) -> &'static str {
        match self {
            Inactive::Revoked => "revoked",
            Inactive::Lifecycle => "inactive under the lifecycle",
            Inactive::Rejected => "pattern not compiled",
        }
    }
}

impl Known {
    /// Whether the indicator matches an event at `t` (µs).
    pub fn live_at(&self, t: i64) -> bool {
        match self {
            Known::Matched {
                valid_from,
                valid_until,
                lapses,
                ..
            } => {
                *valid_from <= t
                    && t < *valid_until
                    && !lapses.iter().any(|&(from, until)| from <= t && t < until)
            }
            Known::Inactive(_) => false,
        }
    }
}

/// The target of an `indicates` relationship.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Indicated {
    /// The object type (from the id).
    pub ty: String,
    pub name: Option<String>,
    pub id: String,
}

/// `(source_ref, target_ref)` of a relationship that is an `indicates` one
/// and not revoked.
fn indicates_edge(v: &Value) -> Option<(String, String)> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if s("type")? != "relationship"
        || s("relationship_type")? != "indicates"
        || v.get("revoked").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    Some((s("source_ref")?.to_owned(), s("target_ref")?.to_owned()))
}

/// Groups the edges from indicators in `ids` by indicator, with names.
fn group(
    edges: Vec<(String, String)>,
    ids: &HashSet<String>,
    names: &HashMap<String, String>,
) -> HashMap<String, Vec<Indicated>> {
    let mut out: HashMap<String, Vec<Indicated>> = HashMap::new();
    for (from, to) in edges {
        if !ids.contains(&from) {
            continue;
        }
        let v = out.entry(from).or_default();
        if v.iter().any(|i| i.id == to) {
            continue;
        }
        v.push(Indicated {
            ty: to.split("--").next().unwrap_or_default().to_owned(),
            name: names.get(&to).cloned(),
            id: to,
        });
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Reads and compiles the indicators.
pub fn load(
    source: &Source,
    selection: &Selection,
    store: Option<&dyn Store>,
) -> Result<Loaded, DetectError> {
    // Ordered by id: the compiled set's order decides the order of the
    // matches one event completes, and output must not vary between runs.
    let mut latest: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut high = None;
    // From a file: its relationships and the names of its objects.
    let mut edges = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut keep = |v: Value| {
        if v.get("type").and_then(Value::as_str) != Some("indicator") {
            if let Some(e) = indicates_edge(&v) {
                edges.push(e);
            } else if let (Some(id), Some(n)) = (
                v.get("id").and_then(Value::as_str),
                v.get("name").and_then(Value::as_str),
            ) {
                names.insert(id.to_owned(), n.to_owned());
            }
            return;
        }
        let Some(id) = v.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        let key = v
            .get("modified")
            .and_then(Value::as_str)
            .and_then(sightline_matcher::time::order_key)
            .unwrap_or_default();
        // A newer version replaces the older one.
        if latest.get(&id).is_none_or(|(k, _)| key > *k) {
            latest.insert(id, (key, v));
        }
    };
    match (source, store) {
        (Source::Store, Some(s)) => {
            if let Some(c) = &selection.collection {
                if s.collection(c)?.is_none() {
                    return Err(DetectError::NoCollection(c.clone()));
                }
            }
            let q = ObjectQuery {
                collection: selection.collection.clone(),
                types: vec!["indicator".into()],
                versions: VersionFilter::last(),
                limit: 5000,
                ..ObjectQuery::default()
            };
            sightline_store::for_each_page(s, &q, |o| {
                if let Ok(v) = serde_json::from_str::<Value>(o.raw) {
                    keep(v);
                }
                high = high.max(Some(o.date_added));
                Ok::<(), DetectError>(())
            })?;
        }
        (Source::Store, None) => return Err(DetectError::NoStore),
        (Source::File(path), _) => {
            let input = sightline_interchange::read_input(path)?;
            let doc = sightline_interchange::split_objects(&input.name, &input.bytes)?;
            for item in doc.items {
                if let Ok(raw) = item.raw {
                    if let Ok(v) = serde_json::from_str::<Value>(raw) {
                        keep(v);
                    }
                }
            }
        }
    }
    // The latest version decides: an indicator whose confidence was lowered
    // is left out, not matched on an older version.
    latest.retain(|_, (_, v)| selection.admits(v));
    let ids: HashSet<String> = latest.keys().cloned().collect();
    let indicates = match (source, store) {
        (Source::Store, Some(s)) if !ids.is_empty() => {
            let edges = store_edges(s)?;
            let mut targets: Vec<String> = edges
                .iter()
                .filter(|(f, _)| ids.contains(f))
                .map(|(_, t)| t.clone())
                .collect();
            targets.sort();
            targets.dedup();
            let names = crate::listing::names_of(s, &targets)?;
            group(edges, &ids, &names)
        }
        _ => group(edges, &ids, &names),
    };
    let mut inactive = 0;
    let mut verdicts_high = None;
    let mut next_change: Option<i64> = None;
    let now_us = sightline_store::now_micros();
    let windows = match (&selection.lifecycle, source, store) {
        (Some(e), Source::Store, Some(s)) => {
            let h = sightline_lifecycle::bulk::histories(s, e.config(), &ids)?;
            verdicts_high = h.high;
            Some((e, h.events))
        }
        (Some(e), _, _) => Some((e, HashMap::new())),
        (None, _, _) => None,
    };
    // With `known_ids`: the ids the lifecycle leaves out.
    let mut dropped: Vec<String> = Vec::new();
    let specs = latest.into_values().filter_map(|(_, v)| {
        let mut spec = spec_of(&v)?;
        let Some((e, histories)) = &windows else {
            return Some(spec);
        };
        let events = histories.get(&spec.id).map_or(&[][..], Vec::as_slice);
        // Every sighting and verdict known now (i64::MAX: none is "later").
        let Ok(subject) = e.subject(&v) else {
            // Without decay nothing needs the score: matched as before.
            if selection.decay == Decay::Off {
                return Some(spec);
            }
            inactive += 1;
            if selection.known_ids {
                dropped.push(spec.id);
            }
            return None;
        };
        let unrenewed = subject;
        let subject = e.renew(subject, events, i64::MAX);
        let window = match selection.decay {
            Decay::Off => e.verdict_drops(&subject).not().then_some(None),
            Decay::EventTime => {
                // Active at each event's own time: the windows' span, less
                // the lapses between them.
                let w = e.active_windows(&unrenewed, events);
                spec.lapses = w.windows(2).map(|p| (p[0].1, p[1].0)).collect();
                w.first().zip(w.last()).map(|(f, l)| Some((f.0, l.1)))
            }
            Decay::WallTime => e
                .active_window(&subject)
                .filter(|&(from, until)| from <= now_us && now_us < until)
                .map(|(_, until)| {
                    next_change = next_change.min(Some(until)).or(Some(until));
                    None
                }),
        };
        match window {
            // Decay off or judged now: the STIX validity stays.
            Some(None) => Some(spec),
            Some(Some((from, until))) => {
                spec.valid_from = Some(from);
                spec.valid_until = (until < i64::MAX).then_some(until);
                Some(spec)
            }
            None => {
                inactive += 1;
                if selection.known_ids {
                    dropped.push(spec.id);
                }
                None
            }
        }
    });
    let (set, rejected, known) = if selection.known_ids {
        let specs: Vec<IndicatorSpec> = specs.collect();
        let heads: Vec<Head> = specs
            .iter()
            .map(|s| Head {
                id: s.id.clone(),
                name: s.name.clone(),
                valid_from: s.valid_from,
                valid_until: s.valid_until,
                revoked: s.revoked,
                lapses: s.lapses.clone(),
            })
            .collect();
        let (set, rejected) = IndicatorSet::compile(specs);
        let known = known_of(heads, &rejected, dropped);
        (set, rejected, known)
    } else {
        let (set, rejected) = IndicatorSet::compile(specs);
        (set, rejected, HashMap::new())
    };
    Ok(Loaded {
        set,
        high,
        rejected,
        inactive,
        verdicts_high,
        next_change,
        indicates,
        known,
    })
}

/// The [`Known`] state of each indicator compiled (given in compile order,
/// with its validity) or left out by the lifecycle (`dropped`). The set's
/// index of an indicator is its place among those compiled: `compile`
/// keeps the given order and leaves out the revoked and the rejected.
/// What [`known_of`] needs of an indicator spec (not its pattern).
struct Head {
    id: String,
    name: String,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    revoked: bool,
    lapses: Vec<(i64, i64)>,
}

fn known_of(
    heads: Vec<Head>,
    rejected: &[sightline_matcher::Rejected],
    dropped: Vec<String>,
) -> HashMap<String, Known> {
    let rejected: HashSet<&str> = rejected.iter().map(|r| r.id.as_str()).collect();
    let mut known = HashMap::with_capacity(heads.len() + dropped.len());
    let mut index = 0;
    for Head {
        id,
        name,
        valid_from: from,
        valid_until: until,
        revoked,
        mut lapses,
    } in heads
    {
        let k = if revoked {
            Known::Inactive(Inactive::Revoked)
        } else if rejected.contains(id.as_str()) {
            Known::Inactive(Inactive::Rejected)
        } else {
            index += 1;
            Known::Matched {
                index: index - 1,
                name,
                valid_from: from.unwrap_or(i64::MIN),
                valid_until: until.unwrap_or(i64::MAX),
                lapses: {
                    lapses.sort_unstable();
                    lapses.into_boxed_slice()
                },
            }
        };
        known.insert(id, k);
    }
    for id in dropped {
        known.insert(id, Known::Inactive(Inactive::Lifecycle));
    }
    known
}

/// Every `indicates` relationship in the store (latest versions), read once
/// per load rather than asked per indicator.
fn store_edges(store: &dyn Store) -> Result<Vec<(String, String)>, DetectError> {
    let mut edges = Vec::new();
    let q = ObjectQuery {
        types: vec!["relationship".into()],
        versions: VersionFilter::last(),
        limit: 5000,
        ..ObjectQuery::default()
    };
    sightline_store::for_each_page(store, &q, |o| {
        // Cheap test before parsing: most relationships are other kinds.
        if o.raw.contains("indicates") {
            if let Some(e) = serde_json::from_str::<Value>(o.raw)
                .ok()
                .and_then(|v| indicates_edge(&v))
            {
                edges.push(e);
            }
        }
        Ok::<(), DetectError>(())
    })?;
    Ok(edges)
}

/// Whether indicators were added to the store after `high` (or, with the
/// lifecycle, verdict opinions after `verdicts_high`).
pub fn changed_since(
    store: &dyn Store,
    selection: &Selection,
    high: Option<i64>,
    verdicts_high: Option<i64>,
) -> Result<bool, DetectError> {
    let q = ObjectQuery {
        collection: selection.collection.clone(),
        types: vec!["indicator".into()],
        versions: VersionFilter::all(),
        added_after: high,
        limit: 1,
        ..ObjectQuery::default()
    };
    if !store.query(&q)?.items.is_empty() {
        return Ok(true);
    }
    // With the lifecycle, a verdict (an opinion, in any collection) changes
    // what is active too. New sightings renew only at the next reload: they
    // arrive all the time (this matcher writes them) and move windows by
    // days, not seconds.
    if selection.lifecycle.is_some() {
        let q = ObjectQuery {
            collection: None,
            types: vec!["opinion".into()],
            added_after: verdicts_high,
            ..q
        };
        return Ok(!store.query(&q)?.items.is_empty());
    }
    Ok(false)
}

/// What the matcher needs of an indicator; `None` for other pattern languages
/// or an indicator without id or pattern.
fn spec_of(v: &Value) -> Option<IndicatorSpec> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if s("pattern_type").is_some_and(|t| t != "stix") {
        return None;
    }
    let time = |k: &str| s(k).and_then(|t| parse_micros(t).ok());
    Some(IndicatorSpec {
        id: s("id")?.to_owned(),
        name: s("name").unwrap_or("").to_owned(),
        pattern: s("pattern")?.to_owned(),
        valid_from: time("valid_from"),
        valid_until: time("valid_until"),
        revoked: v.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        lapses: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sightline_matcher::{Matcher, Observation};

    fn ind(n: u32, pattern: &str, extra: Value) -> Value {
        let mut v = json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": format!("i{n}"), "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z"});
        if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
            m.extend(e);
        }
        v
    }

    /// `Loaded::known` gives each compiled indicator the index the set
    /// gives it (the index a pattern match reports), and says why the
    /// others are not matched.
    #[test]
    fn known_ids_agree_with_the_compiled_set() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let objects = vec![
            ind(1, "[ipv4-addr:value = '198.51.100.1']", json!({})),
            ind(
                2,
                "[ipv4-addr:value = '198.51.100.2']",
                json!({"revoked": true}),
            ),
            ind(3, "[ipv4-addr:value = ", json!({})),
            ind(4, "[ipv4-addr:value = '198.51.100.4']", json!({})),
            ind(
                5,
                "[ipv4-addr:value = '198.51.100.5']",
                json!({"valid_until": "2026-02-01T00:00:00Z"}),
            ),
            ind(6, "[x:y = 'z']", json!({"pattern_type": "sigma"})),
        ];
        let path = dir.path().join("i.json");
        std::fs::write(&path, serde_json::to_string(&objects).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        let sel = Selection {
            known_ids: true,
            ..Selection::default()
        };
        let path = path.to_str().unwrap_or_default().to_owned();
        let l = load(&Source::File(path), &sel, None).unwrap_or_else(|e| panic!("{e}"));
        let id = |n: u32| format!("indicator--00000000-0000-4000-8000-{n:012}");
        assert_eq!(
            l.known.get(&id(2)),
            Some(&Known::Inactive(Inactive::Revoked))
        );
        assert_eq!(
            l.known.get(&id(3)),
            Some(&Known::Inactive(Inactive::Rejected))
        );
        // Another pattern language is not selected for matching.
        assert_eq!(l.known.get(&id(6)), None);
        let t = 1_767_312_000_000_000; // 2026-01-02
        assert!(l.known[&id(5)].live_at(t));
        assert!(!l.known[&id(5)].live_at(t + 40 * 86_400_000_000));
        let mut m = Matcher::new();
        for n in [1, 4, 5] {
            let o = Observation::from_json(
                t,
                t,
                [(
                    "0".to_owned(),
                    json!({"type": "ipv4-addr", "value": format!("198.51.100.{n}")}),
                )],
            );
            let found = m.scan(&l.set, &o);
            assert_eq!(found.len(), 1, "{n}");
            match &l.known[&id(n)] {
                Known::Matched { index, name, .. } => {
                    assert_eq!(
                        (*index, name.as_str()),
                        (found[0].indicator, found[0].name.as_str())
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        // A lapse (the lifecycle's inactive period between two active
        // windows) is judged as the matcher judges it.
        let k = Known::Matched {
            index: 0,
            name: String::new(),
            valid_from: 10,
            valid_until: 100,
            lapses: vec![(20, 30), (50, 60)].into_boxed_slice(),
        };
        let live: Vec<i64> = (0..110).step_by(5).filter(|&t| k.live_at(t)).collect();
        assert_eq!(
            live,
            [10, 15, 30, 35, 40, 45, 60, 65, 70, 75, 80, 85, 90, 95]
        );
        // Without asking, nothing is kept.
        let path = dir.path().join("i.json");
        let l = load(
            &Source::File(path.to_str().unwrap_or_default().to_owned()),
            &Selection::default(),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(l.known.is_empty());
    }
}
