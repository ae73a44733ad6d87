//! Analyst verdicts as STIX 2.1, and an indicator's history from the store.
//!
//! A verdict is an `opinion` (§4.12) whose `object_refs` are the sighting
//! (when the verdict was given on one) and its indicator, `created_by_ref`
//! the analyst's `identity` (§4.5, `identity_class` `individual`, id a
//! UUIDv5 of the name, so one analyst is one identity on every machine;
//! created in the same transaction when the store lacks it), the verdict
//! word in [`VERDICT_PROPERTY`] and the note in `explanation`. The
//! `opinion` value maps the verdict ([`Verdict::opinion`]): true-positive
//! `strongly-agree`, false-positive `strongly-disagree`, benign `disagree`.
//! Opinions are shared over TAXII like any object; other tools see the
//! standard `opinion`, Sightline reads its own property.
//!
//! Every verdict is kept: two analysts disagreeing give two opinions, and
//! the lifecycle uses the one `[lifecycle] verdict_conflict` puts in force
//! at the evaluated time (the latest by `created` by default;
//! [`crate::Evaluator::verdict_in_force`]); [`History::conflict`] says when
//! the kept verdicts disagree.

use serde_json::{json, Value};
use sightline_store::{NewObject, ObjectQuery, ObjectReader, Store, StoredObject, VersionFilter};
use sightline_warninglist::{ListType, WarningList};

use crate::score::{Analyst, Event, EventKind, Verdict};
use crate::{LifecycleConfig, LifecycleError};

/// The opinion's custom property holding the verdict word.
pub const VERDICT_PROPERTY: &str = "x_sightline_verdict";

/// The namespace of analysts' identity ids (UUIDv5 of the name).
const ANALYST_NS: uuid::Uuid = uuid::Uuid::from_u128(0x7a1f_3c5e_9b2d_4e80_a6c4_d2e1_f0b3_9c57);

/// Opinions read per indicator (`referrers_of` limit).
pub const MAX_OPINIONS: usize = 1000;

/// The name of the local warninglist false-positive verdicts add values to
/// (`verdict --warninglist`); its file in `<data>/warninglists/` is
/// [`LOCAL_LIST_FILE`].
pub const LOCAL_LIST_NAME: &str = "local: analyst verdicts";
pub const LOCAL_LIST_FILE: &str = "local-analyst-verdicts.json";

/// What a verdict is about: an indicator, and the sighting it was given on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub indicator: String,
    pub sighting: Option<String>,
}

/// One kept verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRecord {
    pub opinion_id: String,
    pub verdict: Verdict,
    /// `created_by_ref`.
    pub analyst: Option<String>,
    /// The first of `authors`, the analyst's name as given.
    pub analyst_name: Option<String>,
    pub created: String,
    pub at_us: i64,
    pub note: Option<String>,
    pub sighting: Option<String>,
}

/// An indicator's history: renewing events and verdicts, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub events: Vec<Event>,
    pub verdicts: Vec<VerdictRecord>,
}

impl History {
    /// Whether kept verdicts disagree (different verdicts by different analysts).
    pub fn conflict(&self) -> bool {
        self.verdicts.iter().any(|a| {
            self.verdicts
                .iter()
                .any(|b| a.verdict != b.verdict && a.analyst != b.analyst)
        })
    }
}

/// The latest version of each of `ids` (absent ids left out).
fn latest(store: &dyn ObjectReader, ids: &[String]) -> Result<Vec<StoredObject>, LifecycleError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let q = ObjectQuery {
            ids: chunk.to_vec(),
            versions: VersionFilter::last(),
            limit: chunk.len(),
            ..ObjectQuery::default()
        };
        out.extend(store.query(&q)?.items);
    }
    Ok(out)
}

fn parse(o: &StoredObject) -> Result<Value, LifecycleError> {
    serde_json::from_str(&o.raw).map_err(|e| LifecycleError::Target {
        id: o.id.clone(),
        message: format!("stored JSON does not parse: {e}"),
    })
}

/// A timestamp property in µs since the epoch; `None` when absent or malformed.
pub(crate) fn micros(v: &Value, field: &str) -> Option<i64> {
    v.get(field)
        .and_then(Value::as_str)
        .and_then(|s| sightline_stix::Timestamp::parse(s).ok())
        .map(|t| t.micros())
}

/// A sighting's indicator (`sighting_of_ref`) and the renewing events it
/// gives: at its `first_seen` and `last_seen` (else `modified`), trusted when
/// a `where_sighted_refs` sensor is in `trusted_sensors`. The one reading of
/// a sighting for every history (one indicator's, or the store's in bulk).
pub(crate) fn sighting_events<'v>(
    v: &'v Value,
    config: &LifecycleConfig,
) -> Option<(&'v str, Vec<Event>)> {
    let of = v.get("sighting_of_ref").and_then(Value::as_str)?;
    let trusted = v
        .get("where_sighted_refs")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().filter_map(Value::as_str).any(|s| config.trusts(s)));
    let first = micros(v, "first_seen");
    let last = micros(v, "last_seen")
        .or(first)
        .or_else(|| micros(v, "modified"));
    let events = first
        .into_iter()
        .chain(last)
        .map(|at_us| Event {
            at_us,
            kind: EventKind::Sighting { trusted },
        })
        .collect();
    Some((of, events))
}

/// A verdict opinion's event (the verdict by its analyst, `created_by_ref`,
/// at its `created`) and the ids it refers to; `None` for an opinion that
/// carries no Sightline verdict.
pub(crate) fn opinion_verdict(v: &Value) -> Option<(Event, Vec<&str>)> {
    let verdict = v
        .get(VERDICT_PROPERTY)
        .and_then(Value::as_str)
        .and_then(Verdict::parse)?;
    let at_us = micros(v, "created")?;
    let analyst = Analyst::of(v.get("created_by_ref").and_then(Value::as_str));
    let refs = v
        .get("object_refs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let event = Event {
        at_us,
        kind: EventKind::Verdict(verdict, analyst),
    };
    Some((event, refs))
}

/// Oldest first; at one instant a sighting comes before the verdict on it
/// (a stable sort), the same event once.
pub(crate) fn in_order(events: &mut Vec<Event>) {
    events.sort_by_key(|e| e.at_us);
    events.dedup();
}

/// The latest stored version of `id`, parsed; [`LifecycleError::UnknownId`] when none.
pub fn object(store: &dyn ObjectReader, id: &str) -> Result<Value, LifecycleError> {
    match latest(store, &[id.to_owned()])?.first() {
        Some(o) => parse(o),
        None => Err(LifecycleError::UnknownId(id.to_owned())),
    }
}

/// What a verdict on `id` is about: a sighting and the indicator it is a
/// sighting of, or an indicator. Unknown ids, other types and sightings of
/// something else are errors naming the id.
pub fn resolve(store: &dyn ObjectReader, id: &str) -> Result<Target, LifecycleError> {
    let target = |message: String| LifecycleError::Target {
        id: id.to_owned(),
        message,
    };
    let parsed =
        sightline_stix::StixId::parse(id).map_err(|e| target(format!("not a STIX id: {e}")))?;
    match parsed.ty {
        "sighting" => {
            let s = object(store, id)?;
            let of = s
                .get("sighting_of_ref")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !of.starts_with("indicator--") {
                return Err(target(format!(
                    "a sighting of {of:?}, not of an indicator: verdicts are on indicators' sightings"
                )));
            }
            object(store, of)
                .map_err(|_| target(format!("its indicator {of} is not in the store")))?;
            Ok(Target {
                indicator: of.to_owned(),
                sighting: Some(id.to_owned()),
            })
        }
        "indicator" => {
            object(store, id)?;
            Ok(Target {
                indicator: id.to_owned(),
                sighting: None,
            })
        }
        other => Err(target(format!(
            "a verdict is on a sighting or an indicator, not a {other}"
        ))),
    }
}

/// The deterministic identity id of an analyst's name (trimmed).
pub fn analyst_id(name: &str) -> String {
    format!(
        "identity--{}",
        uuid::Uuid::new_v5(&ANALYST_NS, name.trim().as_bytes())
    )
}

fn check_analyst(name: &str) -> Result<&str, LifecycleError> {
    let n = name.trim();
    let bad = |m: &str| LifecycleError::Input {
        field: "analyst".into(),
        message: format!("{name:?}: {m}"),
    };
    if n.is_empty() {
        return Err(bad("an analyst needs a name"));
    }
    if n.chars().count() > 256 {
        return Err(bad("longer than 256 characters"));
    }
    if n.chars().any(char::is_control) {
        return Err(bad("holds control characters"));
    }
    Ok(n)
}

/// The analyst's identity object.
pub fn analyst_identity(name: &str, now_us: i64) -> Result<Value, LifecycleError> {
    let n = check_analyst(name)?;
    let t = sightline_stix::format_micros(now_us);
    Ok(json!({
        "type": "identity", "spec_version": "2.1", "id": analyst_id(n),
        "created": t, "modified": t,
        "name": n, "identity_class": "individual",
    }))
}

/// The opinion recording `verdict` on `target` by `analyst` at `now_us`.
pub fn opinion(
    target: &Target,
    verdict: Verdict,
    analyst: &str,
    note: Option<&str>,
    now_us: i64,
) -> Result<Value, LifecycleError> {
    let n = check_analyst(analyst)?;
    let t = sightline_stix::format_micros(now_us);
    let refs: Vec<&str> = target
        .sighting
        .iter()
        .map(String::as_str)
        .chain([target.indicator.as_str()])
        .collect();
    let mut o = json!({
        "type": "opinion", "spec_version": "2.1",
        "id": sightline_stix::StixId::new_v4("opinion"),
        "created": t, "modified": t,
        "created_by_ref": analyst_id(n),
        "opinion": verdict.opinion(),
        "authors": [n],
        "object_refs": refs,
        VERDICT_PROPERTY: verdict.as_str(),
    });
    if let Some(note) = note {
        o["explanation"] = Value::from(note);
    }
    Ok(o)
}

/// What [`record`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub opinion: String,
    pub analyst: String,
    /// Whether the analyst's identity was new to the store.
    pub identity_created: bool,
}

pub(crate) fn admit(v: &Value) -> Result<NewObject, LifecycleError> {
    let validator = sightline_stix::Validator::new();
    match validator.admit(v) {
        Ok((meta, _)) => Ok(NewObject {
            meta,
            raw: v.to_string(),
        }),
        Err(errors) => Err(LifecycleError::Input {
            field: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("object")
                .to_owned(),
            message: sightline_stix::diag::summary(&errors, 3),
        }),
    }
}

/// Writes a verdict on `id` (a sighting or an indicator) into `collection`
/// (which must exist): the analyst's identity when the store lacks it and
/// the opinion, in one transaction. Nothing is written on any error.
pub fn record(
    store: &dyn Store,
    collection: &str,
    id: &str,
    verdict: Verdict,
    analyst: &str,
    note: Option<&str>,
    now_us: i64,
) -> Result<Recorded, LifecycleError> {
    let target = resolve(store, id)?;
    let identity = analyst_identity(analyst, now_us)?;
    let opinion = opinion(&target, verdict, analyst, note, now_us)?;
    let analyst_id = analyst_id(analyst);
    let identity_created = latest(store, std::slice::from_ref(&analyst_id))?.is_empty();
    let mut puts = Vec::new();
    if identity_created {
        puts.push(admit(&identity)?);
    }
    puts.push(admit(&opinion)?);
    let mut txn = store.begin()?;
    for p in &puts {
        txn.put(p, Some(collection))?;
    }
    txn.commit()?;
    Ok(Recorded {
        opinion: opinion
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        analyst: analyst_id,
        identity_created,
    })
}

/// The verdicts kept on an indicator (opinions referring to it that carry
/// [`VERDICT_PROPERTY`]), oldest first (`created`, then id).
pub fn verdicts_of(
    store: &dyn ObjectReader,
    indicator: &str,
) -> Result<Vec<VerdictRecord>, LifecycleError> {
    let ids: Vec<String> = store
        .referrers_of(indicator, MAX_OPINIONS)?
        .into_iter()
        .filter(|i| i.starts_with("opinion--"))
        .collect();
    let mut out = Vec::new();
    for o in latest(store, &ids)? {
        let Ok(v) = serde_json::from_str::<Value>(&o.raw) else {
            continue;
        };
        let Some(verdict) = v
            .get(VERDICT_PROPERTY)
            .and_then(Value::as_str)
            .and_then(Verdict::parse)
        else {
            continue;
        };
        let Some(at_us) = micros(&v, "created") else {
            continue;
        };
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let sighting = v
            .get("object_refs")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .find(|r| r.starts_with("sighting--"))
            })
            .map(str::to_owned);
        out.push(VerdictRecord {
            opinion_id: o.id.clone(),
            verdict,
            analyst: s("created_by_ref"),
            analyst_name: v
                .get("authors")
                .and_then(|a| a.get(0))
                .and_then(Value::as_str)
                .map(str::to_owned),
            created: s("created").unwrap_or_default(),
            at_us,
            note: s("explanation"),
            sighting,
        });
    }
    out.sort_by(|a, b| {
        a.at_us
            .cmp(&b.at_us)
            .then_with(|| a.opinion_id.cmp(&b.opinion_id))
    });
    Ok(out)
}

/// An indicator's history from the store, oldest first: each of its
/// sightings (latest version) at its `first_seen` and `last_seen`, trusted
/// when a `where_sighted_refs` sensor is in `trusted_sensors`; each verdict
/// at its `created`.
pub fn history(
    store: &dyn ObjectReader,
    config: &LifecycleConfig,
    indicator: &str,
) -> Result<History, LifecycleError> {
    let ids: Vec<String> = store
        .relationships_of(indicator)?
        .into_iter()
        .filter(|i| i.starts_with("sighting--"))
        .collect();
    let mut events = Vec::new();
    for o in latest(store, &ids)? {
        let Ok(v) = serde_json::from_str::<Value>(&o.raw) else {
            continue;
        };
        if let Some((of, e)) = sighting_events(&v, config) {
            if of == indicator {
                events.extend(e);
            }
        }
    }
    let verdicts = verdicts_of(store, indicator)?;
    events.extend(verdicts.iter().map(|r| Event {
        at_us: r.at_us,
        kind: EventKind::Verdict(r.verdict, Analyst::of(r.analyst.as_deref())),
    }));
    in_order(&mut events);
    Ok(History { events, verdicts })
}

/// The (object type, property) pairs a pattern compares by value: `value`
/// and `hashes.*` of its comparisons, with the string constants of its `=`
/// and `IN` comparisons on them.
fn pattern_values(pattern: &str) -> (Vec<(String, String)>, Vec<String>) {
    use sightline_pattern::{CmpKind, Constant, ObsKind, Op, Operand, PathStep};
    fn prop(steps: &[PathStep]) -> Option<String> {
        let key = |s: &PathStep| match s {
            PathStep::Key { name, .. } => Some(name.clone()),
            _ => None,
        };
        match steps {
            [one] => key(one).filter(|k| k == "value"),
            [h, alg] => match (key(h)?.as_str(), key(alg)) {
                ("hashes", Some(a)) => Some(format!("hashes.{a}")),
                _ => None,
            },
            _ => None,
        }
    }
    fn walk_cmp(c: &sightline_pattern::CmpExpr, out: &mut (Vec<(String, String)>, Vec<String>)) {
        match &c.kind {
            CmpKind::Comparison(cmp) => {
                let Some(p) = prop(&cmp.path.steps) else {
                    return;
                };
                out.0.push((cmp.path.object_type.clone(), p));
                if cmp.negated {
                    return;
                }
                match (&cmp.op, &cmp.operand) {
                    (Op::Eq, Operand::Constant(Constant::Str(s), _)) => out.1.push(s.clone()),
                    (Op::In, Operand::Set(set, _)) => {
                        out.1.extend(set.iter().filter_map(|(c, _)| match c {
                            Constant::Str(s) => Some(s.clone()),
                            _ => None,
                        }))
                    }
                    _ => {}
                }
            }
            CmpKind::Group(g) => walk_cmp(g, out),
            CmpKind::And(v) | CmpKind::Or(v) => v.iter().for_each(|c| walk_cmp(c, out)),
        }
    }
    fn walk(o: &sightline_pattern::ObsExpr, out: &mut (Vec<(String, String)>, Vec<String>)) {
        match &o.kind {
            ObsKind::Observation(c) => walk_cmp(c, out),
            ObsKind::Group(g) => walk(g, out),
            ObsKind::And(v) | ObsKind::Or(v) | ObsKind::FollowedBy(v) => {
                v.iter().for_each(|e| walk(e, out))
            }
            ObsKind::Qualified { expr, .. } => walk(expr, out),
        }
    }
    let mut out = (Vec::new(), Vec::new());
    if let Ok(p) = sightline_pattern::parse(pattern) {
        walk(&p.expr, &mut out);
    }
    out
}

/// The values a verdict on `target` is about, for the local warninglist:
/// the string constants the indicator's pattern compares `value` or
/// `hashes.*` with by `=` or `IN` (`[ipv4-addr:value = '198.51.100.7']`);
/// for a sighting, those of them its observed-data hold (an `IN` list is
/// narrowed to what was seen; other SCOs in the observed-data, such as the
/// other end of a connection, are never taken). Sorted, deduplicated;
/// empty for patterns without such constants (`MATCHES`, `ISSUBSET`, …),
/// where no single value stands for the match.
pub fn sighted_values(
    store: &dyn ObjectReader,
    target: &Target,
) -> Result<Vec<String>, LifecycleError> {
    let ind = object(store, &target.indicator)?;
    let pattern = ind.get("pattern").and_then(Value::as_str).unwrap_or("");
    let (props, constants) = pattern_values(pattern);
    let mut out = Vec::new();
    match &target.sighting {
        None => out = constants,
        Some(s) => {
            let sighting = object(store, s)?;
            let od_ids: Vec<String> = str_list(&sighting, "observed_data_refs");
            let mut sco_ids = Vec::new();
            for od in latest(store, &od_ids)? {
                sco_ids.extend(str_list(&parse(&od)?, "object_refs"));
            }
            for sco in latest(store, &sco_ids)? {
                let v = parse(&sco)?;
                for (ty, p) in &props {
                    if *ty != sco.ty {
                        continue;
                    }
                    let found = match p.strip_prefix("hashes.") {
                        Some(alg) => v.get("hashes").and_then(|h| h.get(alg)),
                        None => v.get(p.as_str()),
                    };
                    // Only what the pattern names: the other address of
                    // a connection may be one of ours.
                    if let Some(s) = found.and_then(Value::as_str) {
                        if constants.iter().any(|c| c == s) {
                            out.push(s.to_owned());
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn str_list(v: &Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The local warninglist with `values` added (a new one when `existing` is
/// `None`): exact-string entries, every kind of value; returns how many
/// were new.
pub fn add_to_local_list(existing: Option<WarningList>, values: &[String]) -> (WarningList, usize) {
    let mut l = existing.unwrap_or_else(|| WarningList {
        name: LOCAL_LIST_NAME.to_owned(),
        version: None,
        description: "Values analysts judged false positives (sightline verdict --warninglist)"
            .to_owned(),
        kind: ListType::String,
        list: Vec::new(),
        matching_attributes: Vec::new(),
        category: Some("false-positive".to_owned()),
    });
    let mut added = 0;
    for v in values {
        if !l.list.contains(v) {
            l.list.push(v.clone());
            added += 1;
        }
    }
    (l, added)
}

/// The effective score of a stored object at `now_us` with its history
/// (sightings and verdicts from the store), as [`crate::Evaluator::describe`]
/// writes it, plus `conflict` when kept verdicts disagree; `None` for an
/// object that is not an indicator. For output wrappers (`get --json`'s
/// `x_sightline_score`): the stored object is never changed.
pub fn score_of_stored(
    store: &dyn ObjectReader,
    eval: &crate::Evaluator,
    raw: &str,
    now_us: i64,
) -> Result<Option<Value>, LifecycleError> {
    let Ok(v) = serde_json::from_str::<Value>(raw) else {
        return Ok(None);
    };
    if v.get("type").and_then(Value::as_str) != Some("indicator") {
        return Ok(None);
    }
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
    let h = history(store, eval.config(), id)?;
    let score = eval.evaluate(&v, &h.events, now_us)?;
    let mut out = eval.describe(&score);
    out["verdicts"] = Value::from(h.verdicts.len());
    if h.conflict() {
        out["conflict"] = Value::Bool(true);
    }
    Ok(Some(out))
}
