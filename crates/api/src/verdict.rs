//! Indicator scores and analyst verdicts over HTTP (issue 16): the one
//! implementation behind `POST /api/v1/verdicts` and the web UI's verdict
//! buttons, so both apply the same rights rule.
//!
//! The rule: a caller may give a verdict on a sighting or an indicator it may
//! READ (else 404, exactly like an unreadable object) when it may WRITE a
//! collection holding the indicator among those it may read; the opinion
//! goes into the first such collection (by id), so the TAXII consumers of
//! the indicator's collection receive the judgement beside it. No such
//! collection: 403. The analyst is the signed-in principal's name.
//!
//! The score shown beside an indicator is the one matchers apply: its
//! history (sightings and verdicts) is read store-wide
//! ([`sightline_lifecycle::verdict::score_of_stored`]); the verdicts listed
//! to a caller are only the opinions it may read.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;
use sightline_lifecycle::verdict::{self as lv, LOCAL_LIST_FILE};
use sightline_lifecycle::{Evaluator, LifecycleConfig, LifecycleError, Verdict, VerdictRecord};
use sightline_store::Store;
use sightline_taxii::{AccessPolicy, Principal};
use sightline_warninglist::WarningList;

use crate::ApiError;

/// Characters a verdict's note may hold (the opinion's `explanation`).
pub const MAX_NOTE_CHARS: usize = 10_000;

/// The server's `[lifecycle]` settings, compiled, and where the local
/// warninglist lives (`<data>/warninglists/`; none: verdicts cannot add to it).
#[derive(Debug)]
pub struct Lifecycle {
    pub evaluator: Evaluator,
    pub warninglists: Option<PathBuf>,
    /// One read-modify-write of the local list at a time.
    list_lock: Mutex<()>,
}

impl Lifecycle {
    /// `config` checked (an error names the field).
    pub fn new(
        config: &LifecycleConfig,
        warninglists: Option<PathBuf>,
    ) -> Result<Self, LifecycleError> {
        Ok(Self {
            evaluator: Evaluator::new(config)?,
            warninglists,
            list_lock: Mutex::new(()),
        })
    }

    /// The built-in settings, no warninglist directory.
    pub fn builtin() -> Option<Self> {
        Self::new(&LifecycleConfig::default(), None).ok()
    }
}

/// Wall time in µs: live data is judged at wall time.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A verdict as asked for (the API's JSON body, the UI's form).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictRequest {
    /// A sighting or indicator id.
    pub target: String,
    /// `true-positive`, `false-positive` or `benign`.
    pub verdict: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Also add the judged value to the local warninglist (false-positive
    /// and benign only).
    #[serde(default)]
    pub warninglist: bool,
}

/// What was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerdictOutcome {
    pub opinion: String,
    pub analyst: String,
    pub collection: String,
    pub indicator: String,
    pub sighting: Option<String>,
    pub verdict: &'static str,
    /// Values new to the local warninglist (with `warninglist`).
    pub warninglist_added: Option<Vec<String>>,
    /// The indicator's score after the verdict.
    pub x_sightline_score: Option<Value>,
}

fn bad(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("{field}: {message}"))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no object {id} that you may read"))
}

/// A verdict's target that does not exist or that the caller may not read:
/// the same answer for both, naming the field.
fn target_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("target: no object {id} that you may read"))
}

fn readable_latest(
    store: &dyn Store,
    id: &str,
    readable: Option<&BTreeSet<String>>,
) -> Result<Option<Value>, ApiError> {
    Ok(crate::readable_versions(store, id, readable)?
        .last()
        .and_then(|o| serde_json::from_str(&o.raw).ok()))
}

/// The collection a verdict on `indicator` by `who` goes to: the first (by
/// id) collection holding it that `who` may read and write; `None` when
/// there is none. Blocking.
pub fn verdict_collection(
    store: &dyn Store,
    policy: &dyn AccessPolicy,
    who: &Principal,
    readable: Option<&BTreeSet<String>>,
    indicator: &str,
) -> Result<Option<String>, ApiError> {
    let mut ids: Vec<String> = match readable {
        Some(r) => r.iter().cloned().collect(),
        None => store.collections()?.into_iter().map(|c| c.id).collect(),
    };
    ids.sort();
    for c in ids {
        if !policy.can_write(Some(who), &c) {
            continue;
        }
        match store.versions(indicator, Some(&c)) {
            Ok(v) if !v.is_empty() => return Ok(Some(c)),
            Ok(_) | Err(sightline_store::StoreError::NoSuchCollection { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// The verdicts kept on `indicator` whose opinions `readable` covers,
/// oldest first, and whether analysts disagree among them. Blocking.
pub fn readable_verdicts(
    store: &dyn Store,
    readable: Option<&BTreeSet<String>>,
    indicator: &str,
) -> Result<(Vec<VerdictRecord>, bool), ApiError> {
    let all = lv::verdicts_of(store, indicator).map_err(lifecycle_error)?;
    let mut kept = Vec::new();
    for r in all {
        if readable.is_none()
            || !crate::readable_versions(store, &r.opinion_id, readable)?.is_empty()
        {
            kept.push(r);
        }
    }
    let h = sightline_lifecycle::History {
        events: Vec::new(),
        verdicts: kept,
    };
    let conflict = h.conflict();
    Ok((h.verdicts, conflict))
}

/// A lifecycle error as the API answers it: bad input names its field (400),
/// the store's faults are the store's.
pub fn lifecycle_error(e: LifecycleError) -> ApiError {
    match e {
        LifecycleError::Store(s) => s.into(),
        LifecycleError::UnknownId(id) => not_found(&id),
        LifecycleError::Target { id, message } => bad("target", format!("{id}: {message}")),
        LifecycleError::Input { field, message } => bad(&field, message),
        other => ApiError::Internal(other.to_string()),
    }
}

/// The score of a stored indicator now, as `get --json` shows it
/// (`x_sightline_score`); `None` for other objects. Blocking.
pub fn score(
    store: &dyn Store,
    lifecycle: &Lifecycle,
    raw: &str,
) -> Result<Option<Value>, ApiError> {
    match lv::score_of_stored(store, &lifecycle.evaluator, raw, now_micros()) {
        Ok(v) => Ok(v),
        // A malformed stored indicator: shown without a score.
        Err(LifecycleError::Indicator { .. }) => Ok(None),
        Err(e) => Err(lifecycle_error(e)),
    }
}

/// The lifecycle state now (`active`, `inactive`, `revoked`) of each of
/// `ids` (indicators; a search page's), as [`score`] gives it for the latest
/// version the caller may read, with bounded reads: the latest readable
/// versions in one query per readable collection, each indicator's sighting
/// and opinion ids by an index look-up (`relationships_of`,
/// `referrers_of`), then those sightings and opinions in one batched read,
/// scored by the lifecycle's bulk reading (`bulk::histories`, the one
/// reading of how a sighting or verdict renews) over just them. Ids without
/// a readable version or a valid indicator are absent. Blocking.
pub fn states(
    store: &dyn Store,
    lifecycle: &Lifecycle,
    readable: Option<&BTreeSet<String>>,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    use sightline_store::{ObjectQuery, ObjectWriter, StoreError, StoredObject, VersionFilter};
    use std::collections::{HashMap, HashSet};
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // The latest readable version of each: `readable_versions(..).last()`.
    let mut latest: HashMap<String, StoredObject> = HashMap::new();
    let scopes: Vec<Option<&String>> = match readable {
        None => vec![None],
        Some(set) => set.iter().map(Some).collect(),
    };
    for scope in scopes {
        let q = ObjectQuery {
            collection: scope.cloned(),
            ids: ids.to_vec(),
            versions: VersionFilter::all(),
            limit: 5000,
            ..ObjectQuery::default()
        };
        let read = sightline_store::for_each_page(store, &q, |o| {
            let newer = latest.get(o.id).is_none_or(|l| {
                (o.version_key, o.date_added) > (l.version_key.as_str(), l.date_added)
            });
            if newer {
                latest.insert(o.id.to_owned(), o.to_stored());
            }
            Ok::<(), StoreError>(())
        });
        match read {
            Ok(_) | Err(StoreError::NoSuchCollection { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Their histories: ids by index, objects in one batch (latest versions).
    let mut related: Vec<String> = Vec::new();
    for id in latest.keys() {
        related.extend(
            store
                .relationships_of(id)?
                .into_iter()
                .filter(|i| i.starts_with("sighting--")),
        );
        related.extend(
            store
                .referrers_of(id, lv::MAX_OPINIONS)?
                .into_iter()
                .filter(|i| i.starts_with("opinion--")),
        );
    }
    related.sort_unstable();
    related.dedup();
    let mut fetched: Vec<(i64, String, sightline_store::NewObject)> = Vec::new();
    sightline_store::for_each_latest_of(store, None, &related, |o| {
        // An object that does not parse renews nothing, as in `history`.
        if let Ok(v) = serde_json::from_str::<Value>(o.raw) {
            if let Ok(meta) = sightline_stix::ObjectMeta::extract(&v) {
                let created = v
                    .get("created")
                    .and_then(Value::as_str)
                    .and_then(|t| sightline_stix::Timestamp::parse(t).ok())
                    .map_or(i64::MIN, |t| t.micros());
                let raw = o.raw.to_owned();
                fetched.push((
                    created,
                    o.id.to_owned(),
                    sightline_store::NewObject { meta, raw },
                ));
            }
        }
        Ok::<(), StoreError>(())
    })?;
    // Stored in `history`'s order (`created`, then id), which the bulk
    // passes keep for verdicts given at one instant.
    fetched.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let page = sightline_store::MemoryStore::new();
    let mut txn = page.begin()?;
    for (_, _, o) in &fetched {
        txn.put(o, None)?;
    }
    txn.commit()?;
    let eval = &lifecycle.evaluator;
    let wanted: HashSet<String> = latest.keys().cloned().collect();
    let h = sightline_lifecycle::bulk::histories(&page, eval.config(), &wanted)
        .map_err(lifecycle_error)?;
    let now = now_micros();
    for (id, o) in latest {
        let Ok(v) = serde_json::from_str::<Value>(&o.raw) else {
            continue;
        };
        if v.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let events = h.events.get(&id).map_or(&[][..], Vec::as_slice);
        match eval.evaluate(&v, events, now) {
            Ok(score) => {
                out.insert(id, score.state.as_str().to_owned());
            }
            // A malformed stored indicator: shown without a score.
            Err(LifecycleError::Indicator { .. }) => {}
            Err(e) => return Err(lifecycle_error(e)),
        }
    }
    Ok(out)
}

/// Checks `req` and records it as `who`'s verdict: everything is checked
/// before anything is written (target readable, verdict word, note, the
/// write right, warninglist values). Blocking.
pub fn give(
    store: &dyn Store,
    policy: &dyn AccessPolicy,
    who: &Principal,
    readable: Option<&BTreeSet<String>>,
    lifecycle: &Lifecycle,
    req: &VerdictRequest,
) -> Result<VerdictOutcome, ApiError> {
    let target_id = req.target.trim();
    if target_id.is_empty() {
        return Err(bad("target", "a sighting or indicator id is required"));
    }
    let verdict = Verdict::parse(req.verdict.trim()).ok_or_else(|| {
        bad(
            "verdict",
            format!(
                "{:?} is not true-positive, false-positive or benign",
                req.verdict
            ),
        )
    })?;
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        if n.chars().count() > MAX_NOTE_CHARS {
            return Err(bad(
                "note",
                format!("longer than {MAX_NOTE_CHARS} characters"),
            ));
        }
    }
    if req.warninglist && verdict == Verdict::TruePositive {
        return Err(bad(
            "warninglist",
            "only false-positive and benign verdicts add to the warninglist",
        ));
    }
    // Only what the caller may read is found; the rest is absent.
    if sightline_stix::StixId::parse(target_id).is_err() {
        return Err(bad("target", format!("{target_id:?} is not a STIX id")));
    }
    let Some(target_json) = readable_latest(store, target_id, readable)? else {
        return Err(target_not_found(target_id));
    };
    let target = lv::resolve(store, target_id).map_err(lifecycle_error)?;
    if target.sighting.is_some() {
        let of = target_json.get("sighting_of_ref").and_then(Value::as_str);
        if of != Some(target.indicator.as_str()) {
            return Err(target_not_found(target_id));
        }
    }
    if readable_latest(store, &target.indicator, readable)?.is_none() {
        return Err(target_not_found(target_id));
    }
    let Some(collection) = verdict_collection(store, policy, who, readable, &target.indicator)?
    else {
        return Err(ApiError::Forbidden(format!(
            "you may not write to any collection holding {}: a verdict is stored beside the indicator",
            target.indicator
        )));
    };
    lv::analyst_identity(&who.name, 0).map_err(lifecycle_error)?;
    let (list_path, values) = if req.warninglist {
        let Some(dir) = &lifecycle.warninglists else {
            return Err(bad(
                "warninglist",
                "this server keeps no local warninglist (no data directory)",
            ));
        };
        let values = lv::sighted_values(store, &target).map_err(lifecycle_error)?;
        if values.is_empty() {
            return Err(bad(
                "warninglist",
                format!(
                    "{} compares no value with = or IN, so no single value stands for the match",
                    target.indicator
                ),
            ));
        }
        (Some(dir.join(LOCAL_LIST_FILE)), values)
    } else {
        (None, Vec::new())
    };
    let now = now_micros();
    let rec = lv::record(store, &collection, target_id, verdict, &who.name, note, now)
        .map_err(lifecycle_error)?;
    let added = match &list_path {
        Some(p) => Some(add_to_list(lifecycle, p, &values)?),
        None => None,
    };
    let score = match lv::object(store, &target.indicator) {
        Ok(ind) => score(store, lifecycle, &ind.to_string())?,
        Err(_) => None,
    };
    Ok(VerdictOutcome {
        opinion: rec.opinion,
        analyst: rec.analyst,
        collection,
        indicator: target.indicator,
        sighting: target.sighting,
        verdict: verdict.as_str(),
        warninglist_added: added,
        x_sightline_score: score,
    })
}

/// Adds `values` to the local list at `path` (written whole to a temporary
/// file and renamed, so a matcher never reads half of it); returns the new ones.
fn add_to_list(
    lifecycle: &Lifecycle,
    path: &std::path::Path,
    values: &[String],
) -> Result<Vec<String>, ApiError> {
    let _one = lifecycle
        .list_lock
        .lock()
        .map_err(|_| ApiError::Internal("warninglist lock poisoned".into()))?;
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(
            WarningList::from_json(&t)
                .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(ApiError::Internal(format!("{}: {e}", path.display()))),
    };
    let before: BTreeSet<String> = existing
        .as_ref()
        .map(|l| l.list.iter().cloned().collect())
        .unwrap_or_default();
    let (list, _) = lv::add_to_local_list(existing, values);
    let fail = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", path.display()));
    let dir = path
        .parent()
        .ok_or_else(|| ApiError::Internal("warninglist path without a directory".into()))?;
    let tmp = dir.join(format!(".{LOCAL_LIST_FILE}.tmp"));
    let text = serde_json::to_vec(&list).map_err(|e| ApiError::Internal(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(fail)?;
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)?;
    Ok(values
        .iter()
        .filter(|v| !before.contains(*v))
        .cloned()
        .collect())
}
