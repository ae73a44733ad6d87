//! Indicators as the exporters see them: the properties a sensor format
//! carries, plus what each indicator `indicates` (STIX 2.1 §5.1), read from
//! the store (latest versions) or from objects in memory.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::Deserialize;
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
    /// `created_by_ref` (the lifecycle's per-feed default confidence).
    pub created_by: Option<String>,
    /// The indicator lifecycle's score and state at the export's instant,
    /// when the caller scored ([`crate::lifecycle::score`]; issue 16).
    pub scored: Option<crate::lifecycle::Scored>,
}

/// The properties read from an indicator's JSON; everything else is skipped
/// unparsed (a `serde_json::Value` per indicator cost more than the export).
#[derive(Debug, Deserialize)]
struct RawIndicator<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pattern: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pattern_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created: Option<Cow<'a, str>>,
    #[serde(borrow)]
    modified: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_by_ref: Option<Cow<'a, str>>,
    #[serde(borrow)]
    valid_from: Option<Cow<'a, str>>,
    #[serde(borrow)]
    valid_until: Option<Cow<'a, str>>,
    revoked: Option<bool>,
    confidence: Option<serde_json::Number>,
    #[serde(borrow)]
    kill_chain_phases: Option<Vec<RawPhase<'a>>>,
    #[serde(borrow)]
    external_references: Option<Vec<RawRef<'a>>>,
}

#[derive(Debug, Deserialize)]
struct RawPhase<'a> {
    #[serde(borrow)]
    kill_chain_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    phase_name: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct RawRef<'a> {
    #[serde(borrow)]
    source_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    external_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
}

/// Any other object: what an `indicates` edge or its target needs.
#[derive(Debug, Deserialize)]
struct RawOther<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    relationship_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source_ref: Option<Cow<'a, str>>,
    #[serde(borrow)]
    target_ref: Option<Cow<'a, str>>,
    revoked: Option<bool>,
    #[serde(borrow)]
    external_references: Option<Vec<RawRef<'a>>>,
}

fn micros(t: Option<&str>, key: &str) -> Result<Option<i64>, String> {
    match t {
        None => Ok(None),
        Some(t) => Timestamp::parse(t)
            .map(|t| Some(t.micros()))
            .map_err(|e| format!("{key} {t:?}: {e}")),
    }
}

fn owned(c: &Option<Cow<'_, str>>) -> Option<String> {
    c.as_deref().map(str::to_owned)
}

impl Indicator {
    /// Reads an `indicator` object; `indicates` is left empty.
    pub fn from_json(v: &Value) -> Result<Indicator, ExportError> {
        match RawIndicator::deserialize(v) {
            Ok(r) => Indicator::from_raw(r),
            Err(e) => Err(ExportError::Indicator {
                id: v
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("(no id)")
                    .to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// Reads an `indicator` object from its JSON text.
    pub fn from_json_text(raw: &str) -> Result<Indicator, ExportError> {
        match serde_json::from_str::<RawIndicator<'_>>(raw) {
            Ok(r) => Indicator::from_raw(r),
            Err(e) => Err(ExportError::Indicator {
                id: "(unreadable JSON)".into(),
                message: e.to_string(),
            }),
        }
    }

    fn from_raw(r: RawIndicator<'_>) -> Result<Indicator, ExportError> {
        let id = owned(&r.id).unwrap_or_default();
        let bad = |message: String| ExportError::Indicator {
            id: if id.is_empty() {
                "(no id)".into()
            } else {
                id.clone()
            },
            message,
        };
        if r.ty.as_deref() != Some("indicator") {
            return Err(bad("not an indicator".into()));
        }
        if !id.starts_with("indicator--") {
            return Err(bad("no indicator id".into()));
        }
        let pattern = owned(&r.pattern).ok_or_else(|| bad("no pattern".into()))?;
        let confidence = match &r.confidence {
            None => None,
            Some(c) => Some(
                c.as_u64()
                    .filter(|c| *c <= 100)
                    .and_then(|c| u8::try_from(c).ok())
                    .ok_or_else(|| bad(format!("confidence {c} is not an integer 0-100")))?,
            ),
        };
        let attack_phases = r
            .kill_chain_phases
            .iter()
            .flatten()
            .filter(|p| p.kill_chain_name.as_deref() == Some("mitre-attack"))
            .filter_map(|p| owned(&p.phase_name))
            .collect();
        let references = r
            .external_references
            .iter()
            .flatten()
            .filter_map(|x| owned(&x.url))
            .collect();
        Ok(Indicator {
            name: owned(&r.name),
            description: owned(&r.description),
            created: owned(&r.created),
            modified: owned(&r.modified),
            valid_from: micros(r.valid_from.as_deref(), "valid_from").map_err(bad)?,
            valid_until: micros(r.valid_until.as_deref(), "valid_until").map_err(bad)?,
            valid_until_text: owned(&r.valid_until),
            revoked: r.revoked.unwrap_or(false),
            confidence,
            attack_phases,
            references,
            indicates: Vec::new(),
            created_by: owned(&r.created_by_ref),
            scored: None,
            pattern,
            pattern_type: owned(&r.pattern_type).unwrap_or_else(|| "stix".into()),
            id,
        })
    }
}

/// The ATT&CK id in an object's `external_references`.
fn attack_id(refs: &Option<Vec<RawRef<'_>>>) -> Option<String> {
    refs.iter()
        .flatten()
        .find(|r| r.source_name.as_deref() == Some("mitre-attack"))
        .and_then(|r| owned(&r.external_id))
}

/// `(source_ref, target_ref)` of a non-revoked `indicates` relationship.
fn indicates_edge(o: &RawOther<'_>) -> Option<(String, String)> {
    if o.ty.as_deref()? != "relationship"
        || o.relationship_type.as_deref()? != "indicates"
        || o.revoked == Some(true)
    {
        return None;
    }
    Some((owned(&o.source_ref)?, owned(&o.target_ref)?))
}

/// The indicators read, and the objects that were not usable ones.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Ordered by id (every output is in this order, so it does not vary).
    pub indicators: Vec<Indicator>,
    /// Indicator objects that could not be read (bad timestamps, no pattern).
    pub unreadable: Vec<ExportError>,
}

/// Collects objects: indicators (the latest version of each), the
/// `indicates` edges, and the names and ATT&CK ids of other objects.
#[derive(Debug, Default)]
struct Collector {
    /// In pages as read (one growing vector of 100,000 large structs is
    /// copied at each doubling, into freshly zeroed memory); each taken out
    /// once, in id order, by `finish`.
    pages: Vec<Vec<Option<Indicator>>>,
    unreadable: Vec<ExportError>,
    edges: Vec<(String, String)>,
    targets: HashMap<String, (Option<String>, Option<String>)>,
}

/// A version's place in time, for keeping the latest of one id.
fn version_key(ind: &Indicator) -> String {
    ind.modified
        .as_deref()
        .and_then(|t| Timestamp::parse(t).ok())
        .map(|t| t.sort_key())
        .unwrap_or_default()
}

impl Collector {
    fn indicator(&mut self, r: Result<Indicator, ExportError>) {
        match r {
            Ok(ind) => match self.pages.last_mut() {
                Some(p) if p.len() < p.capacity() => p.push(Some(ind)),
                _ => {
                    let mut p = Vec::with_capacity(PAGE);
                    p.push(Some(ind));
                    self.pages.push(p);
                }
            },
            Err(e) => self.unreadable.push(e),
        }
    }

    fn other(&mut self, o: &RawOther<'_>) {
        if let Some(e) = indicates_edge(o) {
            self.edges.push(e);
        } else if let Some(id) = &o.id {
            self.targets.insert(
                id.to_string(),
                (owned(&o.name), attack_id(&o.external_references)),
            );
        }
    }

    fn finish(mut self) -> Loaded {
        // By id (an index is sorted, not the large structs), the latest
        // version of an id last; keep that one. Versions are only compared
        // when an id repeats (never for a store's latest versions).
        let order: Vec<(u32, u32)> = {
            let mut keyed: Vec<(&Indicator, u32, u32)> =
                Vec::with_capacity(self.pages.iter().map(Vec::len).sum());
            for (p, page) in self.pages.iter().enumerate() {
                for (i, ind) in page.iter().enumerate() {
                    if let Some(ind) = ind {
                        keyed.push((ind, p as u32, i as u32));
                    }
                }
            }
            keyed.sort_unstable_by(|(x, ..), (y, ..)| {
                x.id.cmp(&y.id)
                    .then_with(|| version_key(x).cmp(&version_key(y)))
            });
            // `dedup_by` keeps the first of a run; keep the latest instead.
            keyed.dedup_by(|later, earlier| {
                let same = later.0.id == earlier.0.id;
                if same {
                    std::mem::swap(later, earlier);
                }
                same
            });
            keyed.into_iter().map(|(_, p, i)| (p, i)).collect()
        };
        let mut latest: Vec<Indicator> = Vec::with_capacity(order.len());
        for (p, i) in order {
            if let Some(ind) = self
                .pages
                .get_mut(p as usize)
                .and_then(|page| page.get_mut(i as usize))
                .and_then(Option::take)
            {
                latest.push(ind);
            }
        }
        self.pages = Vec::new();
        let mut by_id: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, to) in &self.edges {
            by_id.entry(from.as_str()).or_default().push(to.as_str());
        }
        for ind in &mut latest {
            let mut seen = HashSet::new();
            for to in by_id.get(ind.id.as_str()).into_iter().flatten() {
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
        }
        Loaded {
            indicators: latest,
            unreadable: self.unreadable,
        }
    }
}

/// Store rows per page, and per batch handed to the parsing thread.
const PAGE: usize = 5000;
const BATCH: usize = 1000;

/// Rows copied out of the store for the parsing thread: ids and JSON texts
/// end to end in one buffer.
#[derive(Default)]
struct Batch {
    text: String,
    /// (end of the id, end of the JSON) in `text`.
    ends: Vec<(usize, usize)>,
}

/// Indicators from objects in memory (a bundle's `objects`): the latest
/// version of each, with what they indicate among the same objects.
pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Loaded {
    let mut c = Collector::default();
    for v in objects {
        if v.get("type").and_then(Value::as_str) == Some("indicator") {
            c.indicator(Indicator::from_json(&v));
        } else if let Ok(o) = RawOther::deserialize(&v) {
            c.other(&o);
        }
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
    from_store_visible(store, collection, None)
}

/// [`from_store`] for a caller who may read only `visible` collections
/// (`None`: all): the `indicates` relationships and their targets' names are
/// read from those collections only, so a sensor feed never names an object
/// its poller may not see.
pub fn from_store_visible(
    store: &dyn ObjectReader,
    collection: Option<&str>,
    visible: Option<&[String]>,
) -> Result<Loaded, ExportError> {
    let q = ObjectQuery {
        collection: collection.map(str::to_owned),
        types: vec!["indicator".into()],
        versions: VersionFilter::last(),
        limit: PAGE,
        ..ObjectQuery::default()
    };
    // The store is read on this thread while another parses what it read
    // (about a third of reading 100,000 indicators is the JSON).
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    let (read, mut c) = std::thread::scope(|s| {
        let parser = s.spawn(move || {
            let mut c = Collector::default();
            for b in rx {
                let mut from = 0;
                for &(id_end, end) in &b.ends {
                    let (id, raw) = (&b.text[from..id_end], &b.text[id_end..end]);
                    from = end;
                    c.indicator(Indicator::from_json_text(raw).map_err(|e| match e {
                        ExportError::Indicator { message, .. } => ExportError::Indicator {
                            id: id.to_owned(),
                            message,
                        },
                        e => e,
                    }));
                }
            }
            c
        });
        let mut b = Batch::default();
        let read = sightline_store::for_each_page(store, &q, |o| {
            b.text.push_str(o.id);
            let id_end = b.text.len();
            b.text.push_str(o.raw);
            b.ends.push((id_end, b.text.len()));
            if b.ends.len() == BATCH {
                // The parser only stops by panicking (re-raised at join).
                let _ = tx.send(std::mem::take(&mut b));
            }
            Ok::<(), ExportError>(())
        });
        if !b.ends.is_empty() {
            let _ = tx.send(b);
        }
        drop(tx);
        let c = parser
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (read, c)
    });
    read?;
    if c.pages.iter().all(Vec::is_empty) {
        return Ok(c.finish());
    }
    let ids: HashSet<&str> = c
        .pages
        .iter()
        .flatten()
        .flatten()
        .map(|i| i.id.as_str())
        .collect();
    // One pass store-wide, or one per visible collection (a relationship in
    // two of them is taken once).
    let scopes: Vec<Option<String>> = match visible {
        None => vec![None],
        Some(v) => v.iter().cloned().map(Some).collect(),
    };
    let mut seen_edges = HashSet::new();
    for scope in &scopes {
        let q = ObjectQuery {
            collection: scope.clone(),
            types: vec!["relationship".into()],
            versions: VersionFilter::last(),
            limit: 5000,
            ..ObjectQuery::default()
        };
        sightline_store::for_each_page(store, &q, |o| {
            // Cheap test before parsing: most relationships are other kinds.
            if o.raw.contains("indicates") {
                if let Some(e) = serde_json::from_str::<RawOther<'_>>(o.raw)
                    .ok()
                    .and_then(|r| indicates_edge(&r))
                {
                    if ids.contains(e.0.as_str())
                        && (visible.is_none() || seen_edges.insert(e.clone()))
                    {
                        c.edges.push(e);
                    }
                }
            }
            Ok::<(), ExportError>(())
        })?;
    }
    let mut targets: Vec<String> = c.edges.iter().map(|(_, t)| t.clone()).collect();
    targets.sort();
    targets.dedup();
    let mut target = |o: &sightline_store::ObjectRow<'_>| {
        if let Ok(r) = serde_json::from_str::<RawOther<'_>>(o.raw) {
            c.targets.insert(
                o.id.to_owned(),
                (owned(&r.name), attack_id(&r.external_references)),
            );
        }
        Ok::<(), ExportError>(())
    };
    for scope in &scopes {
        sightline_store::for_each_latest_of(store, scope.as_deref(), &targets, &mut target)?;
    }
    Ok(c.finish())
}
