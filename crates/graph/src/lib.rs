//! Following what the store knows: the neighbours of an object, through
//! relationship objects (STIX 2.1 §5) and through embedded references (the
//! `*_ref` and `*_refs` properties, §3.1 "Reference properties"); the
//! sightings of an indicator (§5.2); a bounded neighbourhood graph; and the
//! ATT&CK matrix of an intrusion set, threat actor, campaign or malware.
//!
//! Reads go through [`ObjectReader`] only, never a backend: look-ups are the
//! store's indexed ones (`relationships_of`, by id, `lookup_external_id`), so
//! each step costs O(degree) of the object it expands, never a scan.
//!
//! # Who may read what
//! Every entry point works for a *reader*: [`Graph::new`] takes the set of
//! collection ids (or aliases) the caller may read, or `None` for an
//! administrator (the whole store, every version's store-wide latest). The
//! rule:
//! - an object is visible when a readable collection holds it; its latest
//!   version among those collections is the one used;
//! - a relationship (or sighting) the caller may not read is left out, as if
//!   it did not exist;
//! - a visible relationship, or a visible object's embedded reference, to an
//!   object the caller may not read is shown with the referenced id only: no
//!   name, no type beyond the id's prefix, [`Presence::Missing`] — exactly as
//!   an object the store lacks, so a caller cannot tell "not readable" from
//!   "not in the store";
//! - a seed or subject the caller may not read is [`GraphError::NotFound`].

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;
use sightline_store::{ObjectQuery, ObjectReader, StoreError, VersionFilter};

mod matrix;
mod neighbourhood;

pub use matrix::{AttackMatrix, MatrixTechnique, Step, Tactic, TechniquePath, SUBJECT_TYPES};
pub use neighbourhood::{Edge, Neighbourhood, NeighbourhoodQuery, Node, DEFAULT_NODE_LIMIT};

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such object, or none the caller may read.
    #[error("no object {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = GraphError> = std::result::Result<T, E>;

/// Which way an edge runs from the object asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The object is the relationship's `source_ref`, or holds the reference.
    Out,
    /// The object is the relationship's `target_ref` (a sighting's
    /// `sighting_of_ref`), or is referred to.
    In,
    Both,
}

impl Direction {
    fn admits(self, d: Direction) -> bool {
        self == Direction::Both || self == d
    }
}

/// What an object is known as, when the caller may read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// `name`, else `abstract` (notes), else `value` (observables), else none.
    pub name: Option<String>,
    /// The ATT&CK or CVE external id naming it (`G0032`, `T1486`, `CVE-…`).
    pub external_id: Option<String>,
    pub revoked: bool,
    /// ATT&CK's `x_mitre_deprecated`.
    pub deprecated: bool,
}

/// Whether the caller can see the object at the other end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "presence", rename_all = "kebab-case")]
pub enum Presence {
    Present(NodeInfo),
    /// Not in the store, or not readable by the caller (deliberately the same).
    Missing,
}

impl Presence {
    pub fn info(&self) -> Option<&NodeInfo> {
        match self {
            Presence::Present(i) => Some(i),
            Presence::Missing => None,
        }
    }
}

/// How a neighbour is linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Via {
    /// A relationship object (or sighting) with this id.
    Relationship {
        #[serde(rename = "relationship")]
        id: String,
        relationship_type: String,
    },
    /// An embedded reference property (`created_by_ref`, `object_refs`, …).
    Property {
        #[serde(rename = "property")]
        name: String,
    },
}

impl Via {
    /// The relationship type or the property name: what `--type` filters on.
    pub fn label(&self) -> &str {
        match self {
            Via::Relationship {
                relationship_type, ..
            } => relationship_type,
            Via::Property { name } => name,
        }
    }
}

/// One neighbour of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    pub direction: Direction,
    #[serde(flatten)]
    pub via: Via,
    pub id: String,
    /// From the id (STIX ids begin with their type), so known even when missing.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(flatten)]
    pub presence: Presence,
}

/// Which neighbours to return.
#[derive(Debug, Clone, Default)]
pub struct NeighbourQuery {
    pub direction: Option<Direction>,
    /// Relationship types or reference property names; empty: all.
    pub edge_types: Vec<String>,
    /// Types of the neighbour; empty: all.
    pub target_types: Vec<String>,
}

/// One sighting of an indicator (or any object: `sighting_of_ref`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sighting {
    pub id: String,
    pub count: Option<u64>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// `where_sighted_refs` with their names (none when not readable).
    pub where_sighted: Vec<(String, Option<String>)>,
    pub observed_data_refs: Vec<String>,
}

/// An object read for the graph: its latest visible version, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub id: String,
    pub ty: String,
    pub json: Value,
}

impl Obj {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }
    pub fn revoked(&self) -> bool {
        self.json.get("revoked").and_then(Value::as_bool) == Some(true)
    }
    pub fn deprecated(&self) -> bool {
        self.json.get("x_mitre_deprecated").and_then(Value::as_bool) == Some(true)
    }
    pub fn info(&self) -> NodeInfo {
        let name = ["name", "abstract", "value"]
            .iter()
            .find_map(|k| self.str(k))
            .map(str::to_owned);
        NodeInfo {
            name,
            external_id: entity_external_id(&self.json),
            revoked: self.revoked(),
            deprecated: self.deprecated(),
        }
    }
}

/// A relationship or sighting as the graph needs it: its ends, not its
/// text (a relationship's description is most of its JSON).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Rel {
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub ty: String,
    #[serde(default)]
    relationship_type: Option<String>,
    #[serde(default)]
    source_ref: Option<String>,
    #[serde(default)]
    target_ref: Option<String>,
    #[serde(default)]
    sighting_of_ref: Option<String>,
    #[serde(default)]
    revoked: Option<bool>,
}

impl Rel {
    pub fn str(&self, key: &str) -> Option<&str> {
        match key {
            "relationship_type" => self.relationship_type.as_deref(),
            "source_ref" => self.source_ref.as_deref(),
            "target_ref" => self.target_ref.as_deref(),
            "sighting_of_ref" => self.sighting_of_ref.as_deref(),
            _ => None,
        }
    }
    pub fn revoked(&self) -> bool {
        self.revoked == Some(true)
    }
}

/// The ATT&CK or CVE external id that names the object (a campaign citing
/// G0032 has none: `sightline_stix::entity`).
pub fn entity_external_id(v: &Value) -> Option<String> {
    sightline_stix::entity::own_external_id(v).map(str::to_owned)
}

/// The strings of a list property (`object_marking_refs`, …); none when it
/// is absent or not a list, non-strings skipped.
pub fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The type a STIX id names (`intrusion-set--…` → `intrusion-set`).
pub fn type_of_id(id: &str) -> &str {
    id.split_once("--").map_or(id, |(t, _)| t)
}

pub use sightline_store::refs::embedded_refs;

/// At most this many objects referring to one object (`referrers_of`) are
/// followed: a producer identity or a marking is referred to by everything.
pub const REFERRER_LIMIT: usize = 1_000;

/// The graph over one store, for one reader (see the module docs).
pub struct Graph<'a> {
    reader: &'a dyn ObjectReader,
    readable: Option<&'a BTreeSet<String>>,
}

impl std::fmt::Debug for Graph<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("readable", &self.readable)
            .finish_non_exhaustive()
    }
}

/// Ids per store query: well under SQLite's variable limit.
const ID_CHUNK: usize = 200;

impl<'a> Graph<'a> {
    /// `readable`: the collection ids (or aliases) the caller may read;
    /// `None` for the whole store (an administrator, the CLI).
    pub fn new(reader: &'a dyn ObjectReader, readable: Option<&'a BTreeSet<String>>) -> Self {
        Self { reader, readable }
    }

    /// The latest visible version of each id (ids not visible are absent).
    pub(crate) fn load(&self, ids: &[String]) -> Result<HashMap<String, Obj>> {
        Ok(self
            .load_as::<Value>(ids)?
            .into_iter()
            .map(|(id, (ty, _, json))| {
                let obj = Obj {
                    id: id.clone(),
                    ty,
                    json,
                };
                (id, obj)
            })
            .collect())
    }

    /// [`Graph::load`] parsed as `T`: `(type, version key, T)` by id. A
    /// narrow `T` (a relationship's ends) skips the rest of each object's
    /// JSON without building it.
    pub(crate) fn load_as<T: serde::de::DeserializeOwned>(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, (String, String, T)>> {
        let mut out: HashMap<String, (String, String, T)> = HashMap::new();
        let mut wanted: Vec<String> = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let collections: Vec<Option<String>> = match self.readable {
            None => vec![None],
            Some(set) => set.iter().cloned().map(Some).collect(),
        };
        for chunk in wanted.chunks(ID_CHUNK) {
            for c in &collections {
                let q = ObjectQuery {
                    collection: c.clone(),
                    ids: chunk.to_vec(),
                    versions: VersionFilter::last(),
                    limit: 1000,
                    ..ObjectQuery::default()
                };
                sightline_store::for_each_page(self.reader, &q, |row| {
                    let newer = out
                        .get(row.id)
                        .is_none_or(|(_, vk, _)| vk.as_str() < row.version_key);
                    if newer {
                        if let Ok(t) = serde_json::from_str::<T>(row.raw) {
                            out.insert(
                                row.id.to_owned(),
                                (row.ty.to_owned(), row.version_key.to_owned(), t),
                            );
                        }
                    }
                    Ok::<_, StoreError>(())
                })?;
            }
        }
        Ok(out)
    }

    /// One visible object, or [`GraphError::NotFound`].
    pub(crate) fn load_one(&self, id: &str) -> Result<Obj> {
        self.load(&[id.to_owned()])?
            .remove(id)
            .ok_or_else(|| GraphError::NotFound(id.to_owned()))
    }

    /// The ids a STIX id or an external id (`G0032`, `CVE-2017-0144`) stands
    /// for, visible ones only, sorted.
    pub fn resolve(&self, id_or_external: &str) -> Result<Vec<String>> {
        let ids = if sightline_stix::StixId::parse(id_or_external).is_ok() {
            vec![id_or_external.to_owned()]
        } else {
            self.reader.lookup_external_id(id_or_external)?
        };
        let found = self.load(&ids)?;
        let mut out: Vec<String> = ids.into_iter().filter(|i| found.contains_key(i)).collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// [`Graph::resolve`], where an external id cited by several objects
    /// names the one it belongs to (G0032 is Lazarus Group, not the
    /// campaigns citing it); when none of them owns it, all of them.
    pub fn resolve_owners(&self, id_or_external: &str) -> Result<Vec<String>> {
        let ids = self.resolve(id_or_external)?;
        if ids.len() < 2 {
            return Ok(ids);
        }
        let infos = self.infos(&ids)?;
        let owners: Vec<String> = ids
            .iter()
            .filter(|i| {
                infos
                    .get(*i)
                    .and_then(|n| n.external_id.as_deref())
                    .is_some_and(|e| e.eq_ignore_ascii_case(id_or_external))
            })
            .cloned()
            .collect();
        Ok(if owners.is_empty() { ids } else { owners })
    }

    /// What the caller can see of one object: its info, or `Missing`.
    pub fn presence(&self, id: &str) -> Result<Presence> {
        Ok(match self.load(&[id.to_owned()])?.get(id) {
            Some(o) => Presence::Present(o.info()),
            None => Presence::Missing,
        })
    }

    /// What the caller can see of each id (absent: [`Presence::Missing`]).
    pub fn infos(&self, ids: &[String]) -> Result<HashMap<String, NodeInfo>> {
        Ok(self
            .load(ids)?
            .into_iter()
            .map(|(id, o)| (id, o.info()))
            .collect())
    }

    /// Counts of the visible, unrevoked relationships of `id` by type:
    /// `(relationship type, out, in)`, sorted by type; sightings of it count
    /// as type `sighting`, in.
    pub fn relationship_counts(&self, id: &str) -> Result<Vec<(String, u64, u64)>> {
        let mut counts: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for r in self.relationships(id)? {
            if r.revoked() {
                continue;
            }
            if r.ty == "sighting" {
                counts.entry("sighting".into()).or_default().1 += 1;
                continue;
            }
            let e = counts
                .entry(r.str("relationship_type").unwrap_or("").to_owned())
                .or_default();
            if r.str("source_ref") == Some(id) {
                e.0 += 1;
            }
            if r.str("target_ref") == Some(id) {
                e.1 += 1;
            }
        }
        Ok(counts.into_iter().map(|(t, (o, i))| (t, o, i)).collect())
    }

    /// The visible relationships and sightings naming `id` as source, target
    /// or `sighting_of_ref`.
    pub(crate) fn relationships(&self, id: &str) -> Result<Vec<Rel>> {
        let ids = self.reader.relationships_of(id)?;
        let mut rels: Vec<Rel> = self
            .load_as::<Rel>(&ids)?
            .into_iter()
            .map(|(id, (ty, _, mut r))| {
                r.id = id;
                r.ty = ty;
                r
            })
            .collect();
        rels.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rels)
    }

    /// The links of `me` matching `q`, before their other ends are read:
    /// `(direction, via, other id)`. One `relationships_of`.
    pub(crate) fn links(
        &self,
        me: &Obj,
        q: &NeighbourQuery,
    ) -> Result<Vec<(Direction, Via, String)>> {
        let id = me.id.as_str();
        let direction = q.direction.unwrap_or(Direction::Both);
        // (direction, via, other id) before the other ends are read.
        let mut raw: Vec<(Direction, Via, String)> = Vec::new();
        for r in self.relationships(id)? {
            if r.revoked() {
                continue;
            }
            if r.ty == "sighting" {
                raw.push((
                    Direction::In,
                    Via::Property {
                        name: "sighting_of_ref".into(),
                    },
                    r.id.clone(),
                ));
                continue;
            }
            let rtype = r.str("relationship_type").unwrap_or("").to_owned();
            let via = Via::Relationship {
                id: r.id.clone(),
                relationship_type: rtype,
            };
            if r.str("source_ref") == Some(id) {
                if let Some(t) = r.str("target_ref") {
                    raw.push((Direction::Out, via.clone(), t.to_owned()));
                }
            }
            if r.str("target_ref") == Some(id) {
                if let Some(s) = r.str("source_ref") {
                    raw.push((Direction::In, via, s.to_owned()));
                }
            }
        }
        for (prop, target) in embedded_refs(&me.json) {
            raw.push((Direction::Out, Via::Property { name: prop }, target));
        }
        // Objects whose embedded references name this one (reports' and
        // notes' `object_refs`, `created_by_ref`, sightings' `where_sighted_refs`,
        // …): an index look-up, then each visible referrer read for the
        // property that names it. Skipped when the edge filter names only
        // relationship types (a property label always ends in `_ref(s)`):
        // a producer's referrers are every object it made.
        let wants_properties = q.edge_types.is_empty()
            || q.edge_types
                .iter()
                .any(|t| t.ends_with("_ref") || t.ends_with("_refs"));
        if direction.admits(Direction::In) && wants_properties {
            let referrers = self.reader.referrers_of(id, REFERRER_LIMIT)?;
            let mut found: Vec<Obj> = self.load(&referrers)?.into_values().collect();
            found.sort_by(|a, b| a.id.cmp(&b.id));
            for r in found {
                let top = r.json.as_object();
                let mut props: Vec<String> = embedded_refs(&r.json)
                    .into_iter()
                    .filter(|(k, t)| {
                        t == id
                            && !(["source_ref", "target_ref", "sighting_of_ref"]
                                .contains(&k.as_str())
                                && top.and_then(|m| m.get(k.as_str())).and_then(Value::as_str)
                                    == Some(id))
                    })
                    .map(|(k, _)| k)
                    .collect();
                props.dedup();
                for name in props {
                    raw.push((Direction::In, Via::Property { name }, r.id.clone()));
                }
            }
        }
        raw.retain(|(d, via, other)| {
            direction.admits(*d)
                && (q.edge_types.is_empty() || q.edge_types.iter().any(|t| t == via.label()))
                && (q.target_types.is_empty()
                    || q.target_types.iter().any(|t| t == type_of_id(other)))
        });
        Ok(raw)
    }

    /// The neighbours of `id` (see [`NeighbourQuery`]): the other end of each
    /// relationship, each embedded reference it holds (out), each sighting
    /// of it (in). Sorted by edge label, neighbour type, name, id.
    pub fn neighbours(&self, id: &str, q: &NeighbourQuery) -> Result<Vec<Neighbour>> {
        let me = self.load_one(id)?;
        let raw = self.links(&me, q)?;
        let others: Vec<String> = raw.iter().map(|(_, _, o)| o.clone()).collect();
        let found = self.load(&others)?;
        let mut out: Vec<Neighbour> = raw
            .into_iter()
            .map(|(d, via, other)| Neighbour {
                direction: d,
                ty: type_of_id(&other).to_owned(),
                presence: match found.get(&other) {
                    Some(o) => Presence::Present(o.info()),
                    None => Presence::Missing,
                },
                via,
                id: other,
            })
            .collect();
        out.sort_by(|a, b| {
            let name = |n: &Neighbour| {
                n.presence
                    .info()
                    .and_then(|i| i.name.clone())
                    .unwrap_or_default()
            };
            (a.via.label(), &a.ty, name(a), &a.id, a.direction).cmp(&(
                b.via.label(),
                &b.ty,
                name(b),
                &b.id,
                b.direction,
            ))
        });
        out.dedup();
        Ok(out)
    }

    /// The visible sightings of `id` (STIX 2.1 §5.2 `sighting_of_ref`), latest
    /// `last_seen` first.
    pub fn sightings(&self, id: &str) -> Result<Vec<Sighting>> {
        self.load_one(id)?;
        let mut out = Vec::new();
        let mut places = Vec::new();
        let ids: Vec<String> = self
            .relationships(id)?
            .into_iter()
            .filter(|r| r.ty == "sighting" && r.str("sighting_of_ref") == Some(id))
            .map(|r| r.id)
            .collect();
        let mut found: Vec<Obj> = self.load(&ids)?.into_values().collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        for s in &found {
            {
                let list = |k: &str| str_list(&s.json, k);
                places.extend(list("where_sighted_refs"));
                out.push(Sighting {
                    id: s.id.clone(),
                    count: s.json.get("count").and_then(Value::as_u64),
                    first_seen: s.str("first_seen").map(str::to_owned),
                    last_seen: s.str("last_seen").map(str::to_owned),
                    where_sighted: list("where_sighted_refs")
                        .into_iter()
                        .map(|r| (r, None))
                        .collect(),
                    observed_data_refs: list("observed_data_refs"),
                });
            }
        }
        let names = self.load(&places)?;
        for s in &mut out {
            for (id, name) in &mut s.where_sighted {
                *name = names.get(id).and_then(|o| o.info().name);
            }
        }
        // Timestamps compare by instant only when equally precise; the sort
        // key does that (Timestamp::sort_key).
        let key = |s: &Sighting| {
            s.last_seen
                .as_deref()
                .and_then(|t| sightline_stix::Timestamp::parse(t).ok())
                .map(|t| t.sort_key())
                .unwrap_or_default()
        };
        out.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}
