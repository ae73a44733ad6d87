//! Indicators as the exporters see them: the properties a sensor format
//! carries, plus what each indicator `indicates` (STIX 2.1 §5.1), read from
//! the store (latest versions) or from objects in memory.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use sightline_stix::Timestamp;
use sightline_store::{ObjectQuery, ObjectReader, VersionFilter};

use crate::ExportError;

/// What an indicator indicates: the target of an `indicates` relationship.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Indicated {
    /// The object type (from the id).
    pub ty: String,
    pub id: String,
    pub name: Option<String>,
    /// The ATT&CK id (`T1566.001`, `G0032`, ...) from the target's
    /// `external_references` (`source_name` `mitre-attack`), when it has one.
    pub attack_id: Option<String>,
}

/// An indicator (STIX 2.1 §4.7), the parts the exporters use.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub pattern: String,
    pub pattern_type: String,
    pub created: Option<String>,
    pub modified: Option<String>,
    /// µs since the epoch (`sightline_stix::Timestamp::micros`).
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    /// The text of `valid_until`, for the CSV.
    pub valid_until_text: Option<String>,
    pub revoked: bool,
    pub confidence: Option<u8>,
    /// `kill_chain_phases` of the `mitre-attack` kill chain: phase names.
    pub attack_phases: Vec<String>,
    /// `external_references[].url`.
    pub references: Vec<String>,
    pub indicates: Vec<Indicated>,
}

fn micros(v: &Value, key: &str) -> Result<Option<i64>, String> {
    match v.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(t) => Timestamp::parse(t)
            .map(|t| Some(t.micros()))
            .map_err(|e| format!("{key} {t:?}: {e}")),
    }
}

impl Indicator {
    /// Reads an `indicator` object; `indicates` is left empty.
    pub fn from_json(v: &Value) -> Result<Indicator, ExportError> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let id = s("id").unwrap_or_default();
        let bad = |message: String| ExportError::Indicator {
            id: if id.is_empty() {
                "(no id)".into()
            } else {
                id.clone()
            },
            message,
        };
        if s("type").as_deref() != Some("indicator") {
            return Err(bad("not an indicator".into()));
        }
        if !id.starts_with("indicator--") {
            return Err(bad("no indicator id".into()));
        }
        let pattern = s("pattern").ok_or_else(|| bad("no pattern".into()))?;
        let pattern_type = s("pattern_type").unwrap_or_else(|| "stix".into());
        let confidence = match v.get("confidence") {
            None | Some(Value::Null) => None,
            Some(c) => Some(
                c.as_u64()
                    .filter(|c| *c <= 100)
                    .and_then(|c| u8::try_from(c).ok())
                    .ok_or_else(|| bad(format!("confidence {c} is not an integer 0-100")))?,
            ),
        };
        let attack_phases = v
            .get("kill_chain_phases")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|p| {
                        p.get("kill_chain_name").and_then(Value::as_str) == Some("mitre-attack")
                    })
                    .filter_map(|p| p.get("phase_name").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let references = v
            .get("external_references")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.get("url").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Indicator {
            name: s("name"),
            description: s("description"),
            created: s("created"),
            modified: s("modified"),
            valid_from: micros(v, "valid_from").map_err(bad)?,
            valid_until: micros(v, "valid_until").map_err(bad)?,
            valid_until_text: s("valid_until"),
            revoked: v.get("revoked").and_then(Value::as_bool).unwrap_or(false),
            confidence,
            attack_phases,
            references,
            indicates: Vec::new(),
            pattern,
            pattern_type,
            id,
        })
    }
}

/// The ATT&CK id in an object's `external_references`.
fn attack_id(v: &Value) -> Option<String> {
    v.get("external_references")?
        .as_array()?
        .iter()
        .find(|r| r.get("source_name").and_then(Value::as_str) == Some("mitre-attack"))?
        .get("external_id")?
        .as_str()
        .map(str::to_owned)
}

/// `(source_ref, target_ref)` of a non-revoked `indicates` relationship.
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

/// The indicators read, and the objects that were not usable ones.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Ordered by id (every output is in this order, so it does not vary).
    pub indicators: Vec<Indicator>,
    /// Indicator objects that could not be read (bad timestamps, no pattern).
    pub unreadable: Vec<ExportError>,
}

/// Collects objects, keeping the latest version of each indicator, the
/// `indicates` edges and the names and ATT&CK ids of other objects.
#[derive(Debug, Default)]
struct Collector {
    latest: BTreeMap<String, (String, Value)>,
    edges: Vec<(String, String)>,
    targets: HashMap<String, (Option<String>, Option<String>)>,
}

impl Collector {
    fn add(&mut self, v: Value) {
        let ty = v.get("type").and_then(Value::as_str).unwrap_or_default();
        if ty == "indicator" {
            let Some(id) = v.get("id").and_then(Value::as_str).map(str::to_owned) else {
                return;
            };
            let key = v
                .get("modified")
                .and_then(Value::as_str)
                .and_then(|t| Timestamp::parse(t).ok())
                .map(|t| t.sort_key())
                .unwrap_or_default();
            if self.latest.get(&id).is_none_or(|(k, _)| key > *k) {
                self.latest.insert(id, (key, v));
            }
        } else if let Some(e) = indicates_edge(&v) {
            self.edges.push(e);
        } else if let Some(id) = v.get("id").and_then(Value::as_str) {
            let name = v.get("name").and_then(Value::as_str).map(str::to_owned);
            self.targets.insert(id.to_owned(), (name, attack_id(&v)));
        }
    }

    fn finish(self) -> Loaded {
        let mut by_id: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, to) in &self.edges {
            by_id.entry(from.as_str()).or_default().push(to.as_str());
        }
        let mut out = Loaded::default();
        for (id, (_, v)) in &self.latest {
            match Indicator::from_json(v) {
                Ok(mut ind) => {
                    let mut seen = HashSet::new();
                    for to in by_id.get(id.as_str()).into_iter().flatten() {
                        if !seen.insert(*to) {
                            continue;
                        }
                        let (name, attack_id) = self.targets.get(*to).cloned().unwrap_or_default();
                        ind.indicates.push(Indicated {
                            ty: to.split("--").next().unwrap_or_default().to_owned(),
                            id: (*to).to_owned(),
                            name,
                            attack_id,
                        });
                    }
                    ind.indicates.sort();
                    out.indicators.push(ind);
                }
                Err(e) => out.unreadable.push(e),
            }
        }
        out
    }
}

/// Indicators from objects in memory (a bundle's `objects`): the latest
/// version of each, with what they indicate among the same objects.
pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Loaded {
    let mut c = Collector::default();
    for v in objects {
        c.add(v);
    }
    c.finish()
}

/// The latest version of every indicator in the store, or in `collection`,
/// with the targets of their `indicates` relationships (read store-wide, as
/// `sightline match` does) and those targets' names and ATT&CK ids.
pub fn from_store(
    store: &dyn ObjectReader,
    collection: Option<&str>,
) -> Result<Loaded, ExportError> {
    let mut c = Collector::default();
    let q = ObjectQuery {
        collection: collection.map(str::to_owned),
        types: vec!["indicator".into()],
        versions: VersionFilter::last(),
        limit: 5000,
        ..ObjectQuery::default()
    };
    sightline_store::for_each_page(store, &q, |o| {
        if let Ok(v) = serde_json::from_str::<Value>(o.raw) {
            c.add(v);
        }
        Ok::<(), ExportError>(())
    })?;
    if c.latest.is_empty() {
        return Ok(c.finish());
    }
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
                if c.latest.contains_key(&e.0) {
                    c.edges.push(e);
                }
            }
        }
        Ok::<(), ExportError>(())
    })?;
    let mut targets: Vec<String> = c.edges.iter().map(|(_, t)| t.clone()).collect();
    targets.sort();
    targets.dedup();
    for chunk in targets.chunks(500) {
        let q = ObjectQuery {
            ids: chunk.to_vec(),
            versions: VersionFilter::last(),
            limit: 5000,
            ..ObjectQuery::default()
        };
        sightline_store::for_each_page(store, &q, |o| {
            if let Ok(v) = serde_json::from_str::<Value>(o.raw) {
                let name = v.get("name").and_then(Value::as_str).map(str::to_owned);
                c.targets.insert(o.id.to_owned(), (name, attack_id(&v)));
            }
            Ok::<(), ExportError>(())
        })?;
    }
    Ok(c.finish())
}
