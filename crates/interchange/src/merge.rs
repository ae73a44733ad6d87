//! Entity resolution on import (`sightline import --merge-by external-id`):
//! objects from different sources that name the same ATT&CK or CVE entity are
//! linked, never merged.
//!
//! An external id *names* an object when its reference's `source_name` is
//! ATT&CK's (`mitre-attack`, `mitre-mobile-attack`, `mitre-ics-attack`) or
//! `cve`, and the id's kind fits the object's type: `G####` an intrusion set
//! (or threat actor), `S####` malware or a tool, `T####[.###]` an attack
//! pattern, `C####` a campaign, `M####` a course of action, `TA####` a tactic,
//! `CVE-…` a vulnerability. A campaign that merely cites G0032 as a source is
//! not Lazarus Group. Two objects come from different sources unless both
//! carry the same `created_by_ref`; revoked objects are skipped (they no
//! longer stand for the entity).
//!
//! Each pair gets one `related-to` relationship (STIX 2.1 §4.1; `related-to`
//! is the common relationship any two SDOs may have, §5.1) created by the
//! [`MERGE_IDENTITY`], whose description says which id they share. Neither
//! object is changed. A pair already linked by that identity (in either
//! direction) is not linked again, so re-importing is idempotent; finding the
//! link costs one `relationships_of` of the imported object (O(degree)).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};
pub use sightline_stix::entity::named_types;
use sightline_stix::ObjectMeta;
use sightline_store::{NewObject, PutOutcome, Store, StoreError};

/// The identity that creates the links ("Sightline", identity class `system`).
pub const MERGE_IDENTITY: &str = "identity--7d0c3a8e-5b1f-4c52-9a36-2f4e8d1b6c90";

/// Its JSON, fixed so that every store holds the same bytes (a second put is a
/// duplicate, never a conflict).
pub const MERGE_IDENTITY_JSON: &str = r#"{"type":"identity","spec_version":"2.1","id":"identity--7d0c3a8e-5b1f-4c52-9a36-2f4e8d1b6c90","created":"2026-12-07T00:00:00.000Z","modified":"2026-12-07T00:00:00.000Z","name":"Sightline","description":"Sightline's entity resolution (sightline import --merge-by external-id): it links objects from different sources that name the same ATT&CK or CVE entity with related-to relationships, and never changes the objects themselves.","identity_class":"system"}"#;

/// What to resolve entities by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeBy {
    /// ATT&CK and CVE external ids (see the module docs).
    ExternalId,
}

/// The links one merge pass made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Pairs linked now: `(relationship id, imported object, other object, external id)`.
    pub linked: Vec<(String, String, String, String)>,
    /// Pairs found already linked by an earlier run.
    pub already_linked: u64,
}

/// The entity ids (`(source_name, external_id)`) that name an object of type `ty`.
pub fn entity_ids<'a>(ty: &str, external_ids: &'a [(String, String)]) -> Vec<&'a (String, String)> {
    external_ids
        .iter()
        .filter(|(src, ext)| named_types(src, ext).is_some_and(|t| t.contains(&ty)))
        .collect()
}

/// Whether an imported object is worth a merge look-up.
pub fn is_candidate(meta: &ObjectMeta) -> bool {
    !entity_ids(&meta.ty, &meta.external_ids).is_empty()
}

/// The latest stored version of each id, parsed (ids not stored are absent).
fn latest(store: &dyn Store, ids: &[String]) -> Result<HashMap<String, Value>, StoreError> {
    let mut out = HashMap::new();
    sightline_store::for_each_latest_of(store, None, ids, |o| {
        if let Ok(v) = serde_json::from_str::<Value>(o.raw) {
            out.insert(o.id.to_owned(), v);
        }
        Ok::<(), StoreError>(())
    })?;
    Ok(out)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn same_source(a: &Value, b: &Value) -> bool {
    matches!((str_of(a, "created_by_ref"), str_of(b, "created_by_ref")), (Some(x), Some(y)) if x == y)
}

fn revoked(v: &Value) -> bool {
    v.get("revoked").and_then(Value::as_bool).unwrap_or(false)
}

/// Whether `v` (of type `ty`) carries `(source, ext)` as an entity id.
fn names(v: &Value, source: &str, ext: &str) -> bool {
    let ty = str_of(v, "type").unwrap_or("");
    let Some(types) = named_types(source, ext) else {
        return false;
    };
    types.contains(&ty)
        && v.get("external_references")
            .and_then(Value::as_array)
            .is_some_and(|refs| {
                refs.iter().any(|r| {
                    str_of(r, "external_id").is_some_and(|e| e.eq_ignore_ascii_case(ext))
                        && str_of(r, "source_name")
                            .is_some_and(|s| named_types(s, ext).is_some_and(|t| t.contains(&ty)))
                })
            })
}

/// Links each of `imported` (object ids just imported) to the stored objects
/// from other sources that share an entity id with it. The new relationships
/// (and [`MERGE_IDENTITY`], when any is made) go into `collection` when given,
/// in one transaction.
pub fn merge_by_external_id(
    store: &dyn Store,
    imported: &[String],
    collection: Option<&str>,
    now_micros: i64,
) -> Result<MergeReport, StoreError> {
    let mut report = MergeReport::default();
    let mine = latest(store, imported)?;
    // Pairs (ordered ids) linked by an earlier run, and linked by this one.
    let mut linked: BTreeSet<(String, String)> = BTreeSet::new();
    let mut made: BTreeSet<(String, String)> = BTreeSet::new();
    let mut new_links: Vec<(String, String, String, String)> = Vec::new();
    for id in imported {
        let Some(obj) = mine.get(id) else { continue };
        if revoked(obj) {
            continue;
        }
        let ty = str_of(obj, "type").unwrap_or("");
        let ext_ids: Vec<(String, String)> = obj
            .get("external_references")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| {
                        Some((
                            str_of(r, "source_name")?.to_owned(),
                            str_of(r, "external_id")?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Candidates per entity id, in id order.
        let mut cands: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (src, ext) in entity_ids(ty, &ext_ids) {
            for other in store.lookup_external_id(ext)? {
                if other != *id {
                    cands
                        .entry(other)
                        .or_insert_with(|| (src.clone(), ext.clone()));
                }
            }
        }
        if cands.is_empty() {
            continue;
        }
        let other_ids: Vec<String> = cands.keys().cloned().collect();
        let others = latest(store, &other_ids)?;
        // Links this identity already made from or to `id`.
        let rels = store.relationships_of(id)?;
        for r in latest(store, &rels)?.values() {
            if str_of(r, "relationship_type") == Some("related-to")
                && str_of(r, "created_by_ref") == Some(MERGE_IDENTITY)
            {
                if let (Some(a), Some(b)) = (str_of(r, "source_ref"), str_of(r, "target_ref")) {
                    linked.insert(pair(a, b));
                }
            }
        }
        for (other, (src, ext)) in &cands {
            let Some(o) = others.get(other) else { continue };
            if revoked(o) || same_source(obj, o) || !names(o, src, ext) {
                continue;
            }
            let key = pair(id, other);
            if linked.contains(&key) {
                // Counted once per pair, though both ends may be imported.
                if made.insert(key) {
                    report.already_linked += 1;
                }
                continue;
            }
            if !made.insert(key) {
                continue;
            }
            new_links.push((id.clone(), other.clone(), src.clone(), ext.clone()));
        }
    }
    if new_links.is_empty() {
        return Ok(report);
    }
    let stamp = sightline_stix::time::format_micros(now_micros);
    let mut txn = store.begin()?;
    put_json(&mut *txn, MERGE_IDENTITY_JSON, collection)?;
    for (a, b, src, ext) in new_links {
        let rid = format!("relationship--{}", uuid::Uuid::new_v4());
        let rel = json!({
            "type": "relationship",
            "spec_version": "2.1",
            "id": rid,
            "created_by_ref": MERGE_IDENTITY,
            "created": stamp,
            "modified": stamp,
            "relationship_type": "related-to",
            "description": format!(
                "Both objects carry the external id {ext} ({src}) as their own, and come from \
                 different sources; linked by sightline import --merge-by external-id. \
                 Neither object was changed."
            ),
            "source_ref": a,
            "target_ref": b,
        });
        put_json(&mut *txn, &rel.to_string(), collection)?;
        report.linked.push((rid, a, b, ext));
    }
    txn.commit()?;
    Ok(report)
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn put_json(
    txn: &mut dyn sightline_store::WriteTxn,
    raw: &str,
    collection: Option<&str>,
) -> Result<PutOutcome, StoreError> {
    let v: Value = serde_json::from_str(raw).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let meta = ObjectMeta::extract(&v).map_err(|e| StoreError::Invalid(e.to_string()))?;
    txn.put(
        &NewObject {
            meta,
            raw: raw.to_owned(),
        },
        collection,
    )
}
