//! Sightings (STIX 2.1 §5.6): matches folded into one sighting per
//! indicator, time window (event time) and sensor, written as new versions of
//! that sighting, each with up to [`MAX_REFS`] observed-data (§4.13) and
//! their SCOs for `observed_data_refs`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};
use sightline_matcher::{time::parse_micros, Match, Observation};
use sightline_store::{NewObject, Store};

use crate::DetectError;

/// Observed-data kept per sighting (for `observed_data_refs`).
pub const MAX_REFS: usize = 10;

/// The validator generated objects must pass: STIX patterns checked by
/// `sightline-pattern`, as everywhere else.
fn validator() -> sightline_stix::Validator {
    sightline_stix::Validator::new()
        .with_pattern_checker(Box::new(sightline_pattern::StixPatternChecker))
}

/// One sighting being counted: an indicator in one window.
struct Tally {
    count: u64,
    first_seen: i64,
    last_seen: i64,
    /// Matched observations to store as observed-data (at most MAX_REFS).
    refs: Vec<Observation>,
    dirty: bool,
}

pub struct Sightings {
    sensor: Option<String>,
    /// Window length in seconds of event time.
    window: u64,
    collection: Option<String>,
    tallies: BTreeMap<(String, i64), Tally>,
    /// Sightings already written by this run: (id, modified) of the last version.
    written: HashMap<String, String>,
}

impl Sightings {
    pub fn new(
        sensor: Option<String>,
        window: u64,
        collection: Option<String>,
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
            written: HashMap::new(),
        })
    }

    pub fn add(&mut self, m: &Match, o: &Observation) {
        let w = i64::try_from(self.window)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000);
        let start = o.first_observed.div_euclid(w) * w;
        let t = self
            .tallies
            .entry((m.id.clone(), start))
            .or_insert_with(|| Tally {
                count: 0,
                first_seen: o.first_observed,
                last_seen: o.last_observed,
                refs: Vec::new(),
                dirty: true,
            });
        t.count += o.number_observed.max(1);
        t.first_seen = t.first_seen.min(o.first_observed);
        t.last_seen = t.last_seen.max(o.last_observed);
        if t.refs.len() < MAX_REFS {
            t.refs.push(o.clone());
        }
        t.dirty = true;
    }

    /// Writes every changed sighting as a new version (with the observed-data
    /// it refers to), in one transaction. Returns the versions written.
    pub fn flush(&mut self, store: &dyn Store) -> Result<usize, DetectError> {
        let validator = validator();
        let mut puts: Vec<NewObject> = Vec::new();
        let now = now_micros();
        let mut n = 0;
        for ((indicator, start), t) in self.tallies.iter_mut().filter(|(_, t)| t.dirty) {
            let id = sighting_id(indicator, *start, self.sensor.as_deref());
            let mut refs = Vec::new();
            for o in t.refs.drain(..) {
                let (od, scos) = observed_data(&o);
                if let Some(od_id) = od.get("id").and_then(Value::as_str) {
                    refs.push(od_id.to_owned());
                }
                for v in scos.into_iter().chain(std::iter::once(od)) {
                    puts.push(admit(&validator, &v)?);
                }
            }
            // Counts add up with the stored latest version (another run, or
            // this one's last flush).
            let prev = store
                .versions(&id, None)?
                .into_iter()
                .last()
                .and_then(|o| serde_json::from_str::<Value>(&o.raw).ok());
            let (mut count, mut first, mut last) = (t.count, t.first_seen, t.last_seen);
            let mut modified = now;
            let mut created = fmt_time(*start);
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
            puts.push(admit(&validator, &s)?);
            self.written.insert(id, fmt_time(modified));
            t.count = 0;
            t.first_seen = i64::MAX;
            t.last_seen = i64::MIN;
            t.dirty = false;
            n += 1;
        }
        if puts.is_empty() {
            return Ok(0);
        }
        let mut txn = store.begin()?;
        for p in &puts {
            txn.put(p, self.collection.as_deref())?;
        }
        txn.commit()?;
        // Tallies start again from zero: the stored version holds the sum.
        self.tallies.retain(|_, t| t.dirty);
        Ok(n)
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
            errors: errors.join("; "),
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
    let now = fmt_time(now_micros());
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
        "created": now, "modified": now,
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

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// RFC 3339 with milliseconds, as STIX timestamps are usually written.
fn fmt_time(us: i64) -> String {
    sightline_store::format_date_added(us)
}
