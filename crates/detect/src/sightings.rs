//! Sightings (STIX 2.1 §5.6): matches folded into one sighting per
//! indicator, time window (event time) and sensor, written as new versions of
//! that sighting, each with up to [`MAX_REFS`] observed-data (§4.13) and
//! their SCOs for `observed_data_refs`.
//!
//! Recording is idempotent. Every event is read at a [`Position`]: a source
//! (the identity of the log: a hash of its first event line, so a renamed or
//! re-read file is the same source and a rotated-in file a new one) and a
//! line in it. Each sighting version carries, in [`COUNTED`], for each source
//! the last line that had been processed when it was written: every match of
//! that sighting up to that line is in its `count`. A later run (the same
//! log again, the log grown since, a restart after a crash) skips matches at
//! or before that mark, so each event is counted once. The marks are written
//! in the same transaction as the count, so a crash loses neither or both,
//! and there are at most [`MAX_SOURCES`] per sighting (the oldest go first).

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};
use sightline_matcher::{time::parse_micros, Match, Observation};
use sightline_store::{now_micros, CollectionInfo, NewObject, PutOutcome, Store};

use crate::DetectError;

/// Observed-data kept per sighting (for `observed_data_refs`).
pub const MAX_REFS: usize = 10;

/// The sighting's custom property holding what its count already includes:
/// `[{"source": S, "line": N}, …]`, most recently counted source last.
pub const COUNTED: &str = "x_sightline_counted";

/// Sources whose marks a sighting keeps; re-reading a source older than
/// the last this many counts it again.
pub const MAX_SOURCES: usize = 64;

/// The collection sightings go to when none is named.
pub const DEFAULT_COLLECTION: &str = "sightings";

/// The validator generated objects must pass: STIX patterns checked by
/// `sightline-pattern`, as everywhere else.
fn validator() -> sightline_stix::Validator {
    sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker))
}

/// Where an event was read: its source and line there (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub source: String,
    pub line: u64,
}

impl Position {
    /// The source identity of a log whose first event line is `first_line`.
    pub fn source_of(first_line: &[u8]) -> String {
        uuid::Uuid::new_v5(&NS, first_line).simple().to_string()
    }
}

/// One sighting being counted: an indicator in one window.
struct Tally {
    count: u64,
    first_seen: i64,
    last_seen: i64,
    /// Matched observations to store as observed-data (at most MAX_REFS).
    refs: Vec<Observation>,
    dirty: bool,
    /// The marks of the stored latest version when this tally started.
    counted: Vec<(String, u64)>,
}

/// What a flush wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Sighting versions written.
    pub versions: usize,
    /// Objects not written because the collection holds other bytes under
    /// their id and version (`PutOutcome::Conflict`).
    pub conflicts: u64,
}

/// The sightings of a run being counted, written by [`Sightings::flush`].
#[derive(Debug)]
pub struct Sightings {
    sensor: Option<String>,
    /// Window length in seconds of event time.
    window: u64,
    collection: String,
    tallies: BTreeMap<(String, i64), Tally>,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally")
            .field("count", &self.count)
            .field("dirty", &self.dirty)
            .finish_non_exhaustive()
    }
}

impl Sightings {
    /// Checks the settings; `collection` is where every object is put.
    pub fn new(
        sensor: Option<String>,
        window: u64,
        collection: String,
    ) -> Result<Self, DetectError> {
        if let Some(s) = &sensor {
            let ok = s.starts_with("identity--") && sightline_stix::StixId::parse(s).is_ok();
            if !ok {
                return Err(DetectError::BadSensor(s.clone()));
            }
        }
        if window == 0 {
            return Err(DetectError::ZeroWindow);
        }
        Ok(Self {
            sensor,
            window,
            collection,
            tallies: BTreeMap::new(),
        })
    }

    /// The collection the sightings go to.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Creates the collection when the store has none by that id or alias.
    pub fn ensure_collection(&self, store: &dyn Store) -> Result<(), DetectError> {
        if store.collection(&self.collection)?.is_some() {
            return Ok(());
        }
        let name = &self.collection;
        let is_uuid = uuid::Uuid::parse_str(name).is_ok();
        let info = CollectionInfo {
            id: if is_uuid {
                name.clone()
            } else {
                uuid::Uuid::new_v4().to_string()
            },
            title: name.clone(),
            description: Some("Sightings recorded by sightline match".into()),
            alias: (!is_uuid).then(|| name.clone()),
            media_types: vec!["application/stix+json;version=2.1".to_owned()],
        };
        match store.create_collection(&info) {
            Ok(()) => Ok(()),
            // Another run created it meanwhile.
            Err(_) if store.collection(name)?.is_some() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Counts a match of `m` on `o`, read at `at`, unless a stored version of
    /// its sighting already counted that position. Returns whether it counted.
    pub fn add(
        &mut self,
        store: &dyn Store,
        m: &Match,
        o: &Observation,
        at: &Position,
    ) -> Result<bool, DetectError> {
        let w = i64::try_from(self.window)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000);
        let start = o.first_observed.div_euclid(w) * w;
        let key = (m.id.clone(), start);
        if !self.tallies.contains_key(&key) {
            let id = sighting_id(&m.id, start, self.sensor.as_deref());
            let counted = self
                .latest(store, &id)?
                .map(|p| counted_of(&p))
                .unwrap_or_default();
            self.tallies.insert(
                key.clone(),
                Tally {
                    count: 0,
                    first_seen: i64::MAX,
                    last_seen: i64::MIN,
                    refs: Vec::new(),
                    dirty: false,
                    counted,
                },
            );
        }
        let Some(t) = self.tallies.get_mut(&key) else {
            return Ok(false);
        };
        if t.counted
            .iter()
            .any(|(s, line)| *s == at.source && at.line <= *line)
        {
            return Ok(false);
        }
        t.count += o.number_observed.max(1);
        t.first_seen = t.first_seen.min(o.first_observed);
        t.last_seen = t.last_seen.max(o.last_observed);
        if t.refs.len() < MAX_REFS {
            t.refs.push(o.clone());
        }
        t.dirty = true;
        Ok(true)
    }

    /// The latest stored version of sighting `id` in the collection.
    fn latest(&self, store: &dyn Store, id: &str) -> Result<Option<Value>, DetectError> {
        Ok(store
            .versions(id, Some(&self.collection))?
            .into_iter()
            .last()
            .and_then(|o| serde_json::from_str::<Value>(&o.raw).ok()))
    }

    /// Writes every changed sighting as a new version (with the observed-data
    /// it refers to), in one transaction. `at` are the positions up to which
    /// every event of their source has been processed (the source being read,
    /// and those rotated away since the last flush): the new versions' marks.
    pub fn flush(
        &mut self,
        store: &dyn Store,
        at: impl IntoIterator<Item = Position>,
    ) -> Result<Flushed, DetectError> {
        let marks: Vec<Position> = at.into_iter().collect();
        let validator = validator();
        let mut puts: Vec<NewObject> = Vec::new();
        let now = now_micros();
        let mut n = 0;
        let mut dirty: Vec<((String, i64), Tally)> = Vec::new();
        // Tallies start again from zero: the stored version holds the sum,
        // and the next match reads it back.
        for (k, t) in std::mem::take(&mut self.tallies) {
            if t.dirty {
                dirty.push((k, t));
            }
        }
        for ((indicator, start), t) in dirty {
            let id = sighting_id(&indicator, start, self.sensor.as_deref());
            let mut refs = Vec::new();
            for o in &t.refs {
                let (od, scos) = observed_data(o);
                if let Some(od_id) = od.get("id").and_then(Value::as_str) {
                    refs.push(od_id.to_owned());
                }
                for v in scos.into_iter().chain(std::iter::once(od)) {
                    puts.push(admit(&validator, &v)?);
                }
            }
            // Counts add up with the stored latest version (another run, or
            // this one's last flush).
            let prev = self.latest(store, &id)?;
            let (mut count, mut first, mut last) = (t.count, t.first_seen, t.last_seen);
            let mut modified = now;
            let mut created = fmt_time(start);
            let mut counted = Vec::new();
            if let Some(p) = &prev {
                if let Some(c) = p.get("count").and_then(Value::as_u64) {
                    count += c;
                }
                let ts = |k: &str| {
                    p.get(k)
                        .and_then(Value::as_str)
                        .and_then(|s| parse_micros(s).ok())
                };
                if let Some(f) = ts("first_seen") {
                    first = first.min(f);
                }
                if let Some(l) = ts("last_seen") {
                    last = last.max(l);
                }
                if let Some(m) = ts("modified") {
                    // Versions must move forward even if the clock does not.
                    modified = modified.max(m + 1000);
                }
                if let Some(c) = p.get("created").and_then(Value::as_str) {
                    created = c.to_owned();
                }
                for r in p
                    .get("observed_data_refs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if refs.len() < MAX_REFS && !refs.iter().any(|x| x == r) {
                        refs.push(r.to_owned());
                    }
                }
                counted = counted_of(p);
            }
            for at in &marks {
                mark(&mut counted, at);
            }
            let mut s = json!({
                "type": "sighting", "spec_version": "2.1", "id": id,
                "created": created, "modified": fmt_time(modified),
                "sighting_of_ref": indicator, "count": count.min(999_999_999),
                "first_seen": fmt_time(first), "last_seen": fmt_time(last.max(first)),
            });
            if !refs.is_empty() {
                s["observed_data_refs"] = json!(refs);
            }
            if let Some(sensor) = &self.sensor {
                s["where_sighted_refs"] = json!([sensor]);
            }
            if !counted.is_empty() {
                s[COUNTED] = counted
                    .iter()
                    .map(|(source, line)| json!({"source": source, "line": line}))
                    .collect();
            }
            puts.push(admit(&validator, &s)?);
            n += 1;
        }
        let mut flushed = Flushed {
            versions: n,
            conflicts: 0,
        };
        if puts.is_empty() {
            return Ok(flushed);
        }
        let mut txn = store.begin()?;
        for p in &puts {
            if let PutOutcome::Conflict = txn.put(p, Some(&self.collection))? {
                flushed.conflicts += 1;
            }
        }
        txn.commit()?;
        Ok(flushed)
    }
}

/// The marks of a stored sighting version ([`COUNTED`]).
fn counted_of(v: &Value) -> Vec<(String, u64)> {
    v.get(COUNTED)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                m.get("source")?.as_str()?.to_owned(),
                m.get("line")?.as_u64()?,
            ))
        })
        .collect()
}

/// Raises the mark of `at.source` to `at.line` and makes it the most recent,
/// keeping at most [`MAX_SOURCES`].
fn mark(counted: &mut Vec<(String, u64)>, at: &Position) {
    let mut line = at.line;
    if let Some(i) = counted.iter().position(|(s, _)| *s == at.source) {
        line = line.max(counted.remove(i).1);
    }
    counted.push((at.source.clone(), line));
    if counted.len() > MAX_SOURCES {
        counted.drain(..counted.len() - MAX_SOURCES);
    }
}

fn admit(validator: &sightline_stix::Validator, v: &Value) -> Result<NewObject, DetectError> {
    match validator.admit(v) {
        Ok((meta, _)) => Ok(NewObject {
            meta,
            raw: v.to_string(),
        }),
        Err(errors) => Err(DetectError::Generated {
            ty: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("object")
                .to_owned(),
            errors,
        }),
    }
}

const NS: uuid::Uuid = uuid::Uuid::from_u128(0x5e7c_1a9b_2f3d_4e6f_8a0b_1c2d_3e4f_5a6b);

/// One sighting id per indicator, window and sensor, the same on every run.
fn sighting_id(indicator: &str, start: i64, sensor: Option<&str>) -> String {
    let key = format!("{indicator}|{start}|{}", sensor.unwrap_or(""));
    format!("sighting--{}", uuid::Uuid::new_v5(&NS, key.as_bytes()))
}

/// An observed-data object (STIX 2.1 §4.13) for an observation, with its SCOs
/// given deterministic ids (§6.1) and `*_ref`s rewritten to them.
fn observed_data(o: &Observation) -> (Value, Vec<Value>) {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut scos: Vec<(String, Map<String, Value>)> = o
        .objects
        .iter()
        .filter_map(|(k, v)| match v.to_json() {
            Value::Object(m) => Some((k.to_string(), m)),
            _ => None,
        })
        .collect();
    // Objects whose references are all resolved get their id; repeat for
    // objects referring to those (a few rounds cover every SCO graph built
    // by the adapters), and anything left gets a random id.
    for _ in 0..4 {
        for (key, m) in &mut scos {
            if ids.contains_key(key.as_str()) || !refs_resolved(m, &ids) {
                continue;
            }
            rewrite_refs(m, &ids);
            let id = if key.contains("--") {
                key.clone()
            } else {
                sightline_stix::ids::sco_deterministic_id(m).unwrap_or_else(|| random_id(m))
            };
            ids.insert(key.clone(), id);
        }
    }
    let mut out = Vec::new();
    for (key, mut m) in scos {
        rewrite_refs(&mut m, &ids);
        let id = ids.get(&key).cloned().unwrap_or_else(|| random_id(&m));
        m.insert("id".into(), json!(id));
        m.entry("spec_version").or_insert(json!("2.1"));
        out.push(Value::Object(m));
    }
    let refs: Vec<&Value> = out.iter().filter_map(|v| v.get("id")).collect();
    let first = fmt_time(o.first_observed);
    let last = fmt_time(o.last_observed.max(o.first_observed));
    let od_id = match &o.id {
        Some(id) => id.clone(),
        None => {
            let key = format!(
                "{first}|{}",
                serde_json::to_string(&refs).unwrap_or_default()
            );
            format!("observed-data--{}", uuid::Uuid::new_v5(&NS, key.as_bytes()))
        }
    };
    let od = json!({
        "type": "observed-data", "spec_version": "2.1", "id": od_id,
        // Deterministic, so recording the same event again stores nothing new.
        "created": first, "modified": first,
        "first_observed": first, "last_observed": last,
        "number_observed": o.number_observed.clamp(1, 999_999_999),
        "object_refs": refs,
    });
    (od, out)
}

/// A UUIDv4 id for an SCO whose deterministic id cannot be computed.
fn random_id(m: &Map<String, Value>) -> String {
    sightline_stix::StixId::new_v4(m.get("type").and_then(Value::as_str).unwrap_or("x-unknown"))
}

fn is_ref(k: &str) -> bool {
    k.ends_with("_ref") || k.ends_with("_refs")
}

fn refs_resolved(m: &Map<String, Value>, ids: &HashMap<String, String>) -> bool {
    m.iter().filter(|(k, _)| is_ref(k)).all(|(_, v)| match v {
        Value::String(s) => s.contains("--") || ids.contains_key(s),
        Value::Array(a) => a.iter().all(|x| {
            x.as_str()
                .is_some_and(|s| s.contains("--") || ids.contains_key(s))
        }),
        _ => true,
    })
}

fn rewrite_refs(m: &mut Map<String, Value>, ids: &HashMap<String, String>) {
    let swap = |v: &mut Value| {
        if let Some(new) = v.as_str().and_then(|s| ids.get(s)) {
            *v = Value::String(new.clone());
        }
    };
    for (k, v) in m.iter_mut() {
        if !is_ref(k) {
            continue;
        }
        match v {
            Value::Array(a) => a.iter_mut().for_each(swap),
            v => swap(v),
        }
    }
}

/// RFC 3339 with milliseconds, as STIX timestamps are usually written.
fn fmt_time(us: i64) -> String {
    sightline_store::format_date_added(us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_store::{MemoryStore, VersionReader};

    const IND: &str = "indicator--1a0c1bd5-7a59-4d3b-9d1c-1f8b6c0f0001";

    fn hit() -> Match {
        Match {
            indicator: 0,
            id: IND.into(),
            name: "C2".into(),
            reasons: Vec::new(),
            observations: Vec::new(),
            took_part: None,
        }
    }

    fn obs(sec: i64) -> Observation {
        Observation::from_json(
            sec * 1_000_000,
            sec * 1_000_000,
            [(
                "0".to_owned(),
                json!({"type": "ipv4-addr", "value": "198.51.100.7"}),
            )],
        )
    }

    /// A generated object the validator refuses is an error carrying its
    /// findings as data, not stored (issue 17 §2).
    #[test]
    fn an_invalid_generated_object_is_refused_with_its_diagnostics() {
        let v = json!({"type": "sighting", "spec_version": "2.1"});
        let e = admit(&sightline_stix::Validator::new(), &v).expect_err("no id");
        let DetectError::Generated { ty, errors } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(ty, "sighting");
        assert!(
            errors
                .iter()
                .any(|d| d.code == "E101" && d.pointer() == "/id"),
            "{errors:#?}"
        );
        assert!(
            e.to_string()
                .starts_with("a generated sighting is invalid: E101 /"),
            "{e}"
        );
    }

    fn at(source: &str, line: u64) -> Position {
        Position {
            source: source.into(),
            line,
        }
    }

    /// The stored sighting of IND (one window).
    fn stored(store: &MemoryStore) -> Value {
        let id = sighting_id(IND, 1_705_312_800_000_000, None);
        let v = store
            .versions(&id, Some("sightings"))
            .unwrap_or_else(|e| panic!("{e}"));
        serde_json::from_str(&v.last().unwrap_or_else(|| panic!("no sighting")).raw)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs one "run": the events at `lines` of `source`, read up to `last`.
    fn run(store: &MemoryStore, source: &str, lines: &[u64], last: u64) -> (u64, Flushed) {
        let mut s =
            Sightings::new(None, 3600, DEFAULT_COLLECTION.into()).unwrap_or_else(|e| panic!("{e}"));
        s.ensure_collection(store).unwrap_or_else(|e| panic!("{e}"));
        let mut counted = 0;
        for &l in lines {
            let o = obs(1_705_312_800 + i64::try_from(l).unwrap_or(0));
            if s.add(store, &hit(), &o, &at(source, l))
                .unwrap_or_else(|e| panic!("{e}"))
            {
                counted += 1;
            }
        }
        let f = s
            .flush(store, [at(source, last)])
            .unwrap_or_else(|e| panic!("{e}"));
        (counted, f)
    }

    #[test]
    fn each_position_counts_once() {
        let store = MemoryStore::new();
        assert_eq!(run(&store, "a", &[1, 3], 4).0, 2);
        assert_eq!(stored(&store)["count"], 2);
        // The same log again: nothing counted, nothing written.
        let (n, f) = run(&store, "a", &[1, 3], 4);
        assert_eq!((n, f.versions), (0, 0));
        // The log grown: only the new lines count.
        assert_eq!(run(&store, "a", &[1, 3, 6], 7).0, 1);
        assert_eq!(stored(&store)["count"], 3);
        // Another source with the same line numbers is other events.
        assert_eq!(run(&store, "b", &[1], 1).0, 1);
        let s = stored(&store);
        assert_eq!(s["count"], 4);
        assert_eq!(
            s[COUNTED],
            json!([{"source": "a", "line": 7}, {"source": "b", "line": 1}])
        );
    }

    /// The marks stay bounded: the oldest sources go first.
    #[test]
    fn marks_are_bounded() {
        let store = MemoryStore::new();
        for i in 0..MAX_SOURCES + 5 {
            run(&store, &format!("s{i}"), &[1], 1);
        }
        let s = stored(&store);
        let marks = s[COUNTED].as_array().map(Vec::len);
        assert_eq!(marks, Some(MAX_SOURCES));
        assert_eq!(s[COUNTED][0]["source"], "s5");
        assert_eq!(s["count"], MAX_SOURCES + 5);
    }

    #[test]
    fn settings_are_checked() {
        assert!(matches!(
            Sightings::new(Some("identity--nope".into()), 60, "c".into()),
            Err(DetectError::BadSensor(_))
        ));
        assert!(matches!(
            Sightings::new(None, 0, "c".into()),
            Err(DetectError::ZeroWindow)
        ));
    }
}
