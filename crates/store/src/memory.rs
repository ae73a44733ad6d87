//! The in-memory backend: everything in ordered maps behind a lock. Used by
//! tests and as the executable specification the other backends are held to
//! (through `crate::conformance`).
//!
//! Layout: every stored row lives in `objects[id][version_key]`, a list whose
//! first entry arrived first (store-wide it *is* the version); later entries
//! are variants: other bytes under the same key, put into some collection
//! (see [`crate::PutOutcome`] and ARCHITECTURE.md, invariant 3). `by_added`
//! maps each row's `date_added` to its key, so a store-wide page is a range
//! scan from the cursor. Each collection keeps its memberships (key → the
//! membership's and the row's `date_added`) and the same index. "Latest"/
//! "first" are the last/first key of an id's ordered version map, so they
//! cost O(log n) per row and nothing per page depth.
//!
//! Transactions are staged: a [`WriteTxn`] records its operations (and a small
//! view of what it has added or removed, to answer duplicates and removals
//! within the transaction) and applies them all under the write lock at
//! commit. Readers never see uncommitted data and are never blocked by an
//! open transaction; one writer at a time is enforced by a mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use sightline_stix::object::RELATIONSHIP_TYPES;
use sightline_stix::ObjectMeta;

use crate::accounts::{AccountStore, ApiToken, User};
use crate::{
    CollectionInfo, CollectionStore, DateAdded, DateAddedClock, NewObject, ObjectQuery,
    ObjectReader, ObjectWriter, Page, PutOutcome, Result, SearchHit, Stats, StatusStore,
    StoreError, StoredObject, StoredStatus, VersionReader, WriteTxn,
};

#[derive(Debug)]
struct Version {
    meta: Arc<ObjectMeta>,
    raw: Arc<str>,
    date_added: DateAdded,
}

/// A membership: its own `date_added` and that of the row it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    date_added: DateAdded,
    row: DateAdded,
}

#[derive(Debug)]
struct Coll {
    info: CollectionInfo,
    /// id → version_key → membership (at most one per key: invariant 3).
    members: HashMap<String, BTreeMap<String, Member>>,
    by_added: BTreeMap<DateAdded, (String, String)>,
}

/// The rows of one `(id, version_key)`: the first arrival, then variants.
type Rows = Vec<Version>;

fn row(rows: &Rows, date_added: DateAdded) -> Option<&Version> {
    rows.iter().find(|v| v.date_added == date_added)
}

#[derive(Debug, Default)]
struct State {
    /// id → version_key → rows, first arrival first.
    objects: HashMap<String, BTreeMap<String, Rows>>,
    by_added: BTreeMap<DateAdded, (String, String)>,
    /// Keyed by collection id.
    collections: HashMap<String, Coll>,
    /// Lower-cased external id → object ids.
    ext_ids: BTreeMap<String, BTreeSet<String>>,
    versions: u64,
    /// TAXII status resources by id.
    statuses: HashMap<String, StoredStatus>,
}

impl State {
    fn coll_id(&self, id_or_alias: &str) -> Option<&str> {
        if let Some((k, _)) = self.collections.get_key_value(id_or_alias) {
            return Some(k);
        }
        self.collections
            .values()
            .find(|c| c.info.alias.as_deref() == Some(id_or_alias))
            .map(|c| c.info.id.as_str())
    }

    fn coll(&self, id_or_alias: &str) -> Result<&Coll> {
        self.coll_id(id_or_alias)
            .and_then(|id| self.collections.get(id))
            .ok_or_else(|| StoreError::no_such_collection(id_or_alias.to_owned()))
    }
}

/// The in-memory store. Cheap to create; nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    writer: Mutex<()>,
    clock: DateAddedClock,
    accounts: Mutex<Accounts>,
}

/// Users and tokens, under their own lock: they change rarely and never
/// together with objects.
#[derive(Debug, Default)]
struct Accounts {
    users: BTreeMap<String, User>,
    tokens: BTreeMap<String, ApiToken>,
    generation: u64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn stored(v: &Version, date_added: DateAdded) -> StoredObject {
    StoredObject {
        id: v.meta.id.clone(),
        ty: v.meta.ty.clone(),
        spec_version: v.meta.spec_version.clone(),
        version: v.meta.version.clone(),
        version_key: v.meta.version_key.clone(),
        date_added,
        revoked: v.meta.revoked,
        raw: v.raw.to_string(),
    }
}

/// The store-wide latest version of an id: the first arrival of its highest key.
fn latest(versions: &BTreeMap<String, Rows>) -> Option<&Version> {
    versions.values().next_back().and_then(|r| r.first())
}

/// Lower-cased alphanumeric words of `text` (the memory backend's tokenizer,
/// close to SQLite FTS5's `unicode61`).
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

impl ObjectReader for MemoryStore {
    fn query(&self, q: &ObjectQuery) -> Result<Page> {
        let st = self.read();
        let start = match (q.added_after, q.after) {
            (Some(a), Some(b)) => Bound::Excluded(a.max(b)),
            (Some(a), None) | (None, Some(a)) => Bound::Excluded(a),
            (None, None) => Bound::Unbounded,
        };
        let coll = match &q.collection {
            Some(c) => Some(st.coll(c)?),
            None => None,
        };
        let index = coll.map_or(&st.by_added, |c| &c.by_added);
        let mut items = Vec::new();
        let mut more = false;
        for (&date_added, (id, vk)) in index.range((start, Bound::Unbounded)) {
            if !q.ids.is_empty() && !q.ids.contains(id) {
                continue;
            }
            let Some(versions) = st.objects.get(id) else {
                continue;
            };
            let Some(rows) = versions.get(vk) else {
                continue;
            };
            // The row this entry stands for: the membership's, or (store-wide)
            // the one with this date; only a first arrival carries the
            // store-wide latest/first flags.
            let (v, flagged) = match coll {
                Some(c) => {
                    let Some(m) = c.members.get(id).and_then(|m| m.get(vk)) else {
                        continue;
                    };
                    (row(rows, m.row), true)
                }
                None => (
                    row(rows, date_added),
                    rows.first().is_some_and(|f| f.date_added == date_added),
                ),
            };
            let Some(v) = v else { continue };
            if !q.types.is_empty() && !q.types.contains(&v.meta.ty) {
                continue;
            }
            if !q.spec_versions.is_empty() && !q.spec_versions.contains(&v.meta.spec_version) {
                continue;
            }
            let f = &q.versions;
            if !f.all {
                let (first, last) = match coll.and_then(|c| c.members.get(id)) {
                    Some(m) => (m.keys().next(), m.keys().next_back()),
                    None => (versions.keys().next(), versions.keys().next_back()),
                };
                let ok = (flagged && f.last && last == Some(vk))
                    || (flagged && f.first && first == Some(vk))
                    || f.at.contains(vk);
                if !ok {
                    continue;
                }
            }
            if items.len() >= q.limit {
                more = true;
                break;
            }
            items.push(stored(v, date_added));
        }
        Ok(Page { items, more })
    }

    fn lookup_external_id(&self, external_id: &str) -> Result<Vec<String>> {
        let st = self.read();
        Ok(st
            .ext_ids
            .get(&external_id.to_lowercase())
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let terms: Vec<String> = words(text).collect();
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let st = self.read();
        let mut hits = Vec::new();
        for versions in st.objects.values() {
            let Some(v) = latest(versions) else {
                continue;
            };
            let m = &v.meta;
            if RELATIONSHIP_TYPES.contains(&m.ty.as_str()) {
                continue;
            }
            let doc: Vec<String> = m
                .name
                .iter()
                .chain(m.aliases.iter())
                .chain(m.description.iter())
                .flat_map(|t| words(t))
                .collect();
            let mut score = 0usize;
            let all = terms.iter().all(|t| {
                let n = doc.iter().filter(|w| w.starts_with(t.as_str())).count();
                score += n;
                n > 0
            });
            if all {
                #[allow(clippy::cast_precision_loss)]
                let rank = -(score as f64) / (1.0 + doc.len() as f64).ln().max(1.0);
                hits.push(SearchHit {
                    id: m.id.clone(),
                    ty: m.ty.clone(),
                    name: m.name.clone(),
                    rank,
                });
            }
        }
        hits.sort_by(|a, b| a.rank.total_cmp(&b.rank).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        Ok(hits)
    }

    fn stats(&self) -> Result<Stats> {
        let st = self.read();
        let mut by_type: BTreeMap<&str, u64> = BTreeMap::new();
        let mut revoked = 0;
        for versions in st.objects.values() {
            if let Some(v) = latest(versions) {
                *by_type.entry(v.meta.ty.as_str()).or_default() += 1;
                revoked += u64::from(v.meta.revoked);
            }
        }
        Ok(Stats {
            objects: st.objects.len() as u64,
            versions: st.versions,
            revoked,
            collections: st.collections.len() as u64,
            by_type: by_type
                .into_iter()
                .map(|(t, n)| (t.to_owned(), n))
                .collect(),
        })
    }

    fn relationships_of(&self, id: &str) -> Result<Vec<String>> {
        let st = self.read();
        let mut out: Vec<String> = st
            .objects
            .values()
            .filter_map(latest)
            .filter(|v| {
                v.meta.source_ref.as_deref() == Some(id) || v.meta.target_ref.as_deref() == Some(id)
            })
            .map(|v| v.meta.id.clone())
            .collect();
        out.sort();
        Ok(out)
    }

    // A scan: the memory store is the executable specification, not built for size.
    fn referrers_of(&self, id: &str, limit: usize) -> Result<Vec<String>> {
        let st = self.read();
        let mut out: Vec<String> = st
            .objects
            .values()
            .filter_map(latest)
            .filter(|v| v.meta.refs.iter().any(|r| r == id))
            .map(|v| v.meta.id.clone())
            .collect();
        out.sort();
        out.truncate(limit);
        Ok(out)
    }

    fn check(&self) -> Result<Vec<String>> {
        let st = self.read();
        let mut problems = Vec::new();
        let n: usize = st
            .objects
            .values()
            .flat_map(BTreeMap::values)
            .map(Vec::len)
            .sum();
        if n != st.by_added.len() || n as u64 != st.versions {
            problems.push(format!(
                "{n} versions but {} in the date_added index",
                st.by_added.len()
            ));
        }
        for (d, (id, vk)) in &st.by_added {
            if st
                .objects
                .get(id)
                .and_then(|m| m.get(vk))
                .and_then(|r| row(r, *d))
                .is_none()
            {
                problems.push(format!(
                    "date_added index entry {d} for {id} {vk:?} has no matching version"
                ));
            }
        }
        for (id, versions) in &st.objects {
            for (vk, rows) in versions {
                // Variants come after their first arrival, and differ from
                // every other row of their key (identical bytes share a row).
                let ordered = rows.windows(2).all(|w| w[0].date_added < w[1].date_added);
                let distinct = rows
                    .iter()
                    .enumerate()
                    .all(|(i, a)| rows[i + 1..].iter().all(|b| a.raw != b.raw));
                if rows.is_empty() || !ordered || !distinct {
                    problems.push(format!("{id} {vk:?}: rows out of order or repeated"));
                }
            }
        }
        for c in st.collections.values() {
            for (d, (id, vk)) in &c.by_added {
                let m = c.members.get(id).and_then(|m| m.get(vk));
                if m.map(|m| m.date_added) != Some(*d) {
                    problems.push(format!(
                        "collection {}: index entry {d} for {id} has no membership",
                        c.info.id
                    ));
                }
                let stored = m.and_then(|m| {
                    st.objects
                        .get(id)
                        .and_then(|v| v.get(vk))
                        .and_then(|r| row(r, m.row))
                });
                if stored.is_none() {
                    problems.push(format!(
                        "collection {}: membership of {id} {vk:?} has no version",
                        c.info.id
                    ));
                }
            }
        }
        Ok(problems)
    }
}

impl VersionReader for MemoryStore {
    fn versions(&self, id: &str, collection: Option<&str>) -> Result<Vec<StoredObject>> {
        let st = self.read();
        let Some(versions) = st.objects.get(id) else {
            if let Some(c) = collection {
                st.coll(c)?;
            }
            return Ok(Vec::new());
        };
        match collection {
            // Store-wide: every row, variants after their first arrival.
            None => Ok(versions
                .values()
                .flatten()
                .map(|v| stored(v, v.date_added))
                .collect()),
            Some(c) => {
                let coll = st.coll(c)?;
                Ok(coll
                    .members
                    .get(id)
                    .into_iter()
                    .flatten()
                    .filter_map(|(vk, m)| {
                        versions
                            .get(vk)
                            .and_then(|r| row(r, m.row))
                            .map(|v| stored(v, m.date_added))
                    })
                    .collect())
            }
        }
    }
}

#[derive(Debug)]
enum Op {
    Put {
        meta: Arc<ObjectMeta>,
        raw: Arc<str>,
        new_version: Option<DateAdded>,
        membership: Option<(String, Member)>,
    },
    Remove {
        coll: String,
        id: String,
        version_keys: Vec<String>,
    },
    Status(StoredStatus),
}

/// A row this transaction added: its date_added and bytes.
type StagedRow = (DateAdded, Arc<str>);

struct MemTxn<'a> {
    store: &'a MemoryStore,
    _writer: MutexGuard<'a, ()>,
    ops: Vec<Op>,
    /// Rows added by this transaction: (id, version_key) → (date_added, raw).
    new_versions: HashMap<(String, String), Vec<StagedRow>>,
    /// Memberships changed by this transaction: (collection id, id, version_key)
    /// → `Some(membership)` when added, `None` when removed.
    members: BTreeMap<(String, String, String), Option<Member>>,
}

impl ObjectWriter for MemoryStore {
    fn begin(&self) -> Result<Box<dyn WriteTxn + '_>> {
        let guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Box::new(MemTxn {
            store: self,
            _writer: guard,
            ops: Vec::new(),
            new_versions: HashMap::new(),
            members: BTreeMap::new(),
        }))
    }
}

impl WriteTxn for MemTxn<'_> {
    fn put(&mut self, obj: &NewObject, collection: Option<&str>) -> Result<PutOutcome> {
        let st = self.store.read();
        let meta = &obj.meta;
        let coll = match collection {
            Some(c) => Some(st.coll(c)?),
            None => None,
        };
        let key = (meta.id.clone(), meta.version_key.clone());
        // Every row of this (id, version_key): committed, then this
        // transaction's, each with its date and bytes.
        let committed = st
            .objects
            .get(&meta.id)
            .and_then(|m| m.get(&meta.version_key))
            .into_iter()
            .flatten()
            .map(|v| (v.date_added, &*v.raw));
        let staged = self
            .new_versions
            .get(&key)
            .into_iter()
            .flatten()
            .map(|(d, r)| (*d, &**r));
        let rows: Vec<(DateAdded, &str)> = committed.chain(staged).collect();
        let identical = rows
            .iter()
            .find(|(_, raw)| *raw == obj.raw)
            .map(|(d, _)| *d);
        // The same JSON reformatted is the same version (a duplicate), judged
        // against the row that stands for the key where the put goes.
        let equal_to = |row: DateAdded| {
            rows.iter()
                .any(|(d, raw)| *d == row && crate::same_json(raw, &obj.raw))
        };
        let first = rows.first().map(|(d, _)| *d);
        let mut membership = None;
        let (new_version, outcome) = match coll {
            None => match (identical, first) {
                (Some(d), _) => (None, PutOutcome::Duplicate { date_added: d }),
                (None, Some(f)) if equal_to(f) => (None, PutOutcome::Duplicate { date_added: f }),
                // The store-wide version keeps its first bytes.
                (None, Some(_)) => (None, PutOutcome::Conflict),
                (None, None) => {
                    let d = self.store.clock.next();
                    (Some(d), PutOutcome::Added { date_added: d })
                }
            },
            Some(coll) => {
                let cid = coll.info.id.clone();
                let mkey = (cid.clone(), meta.id.clone(), meta.version_key.clone());
                let member = match self.members.get(&mkey) {
                    Some(m) => *m,
                    None => coll
                        .members
                        .get(&meta.id)
                        .and_then(|m| m.get(&meta.version_key))
                        .copied(),
                };
                match member {
                    Some(m) if identical == Some(m.row) || equal_to(m.row) => (
                        None,
                        PutOutcome::Duplicate {
                            date_added: m.date_added,
                        },
                    ),
                    // This collection holds other bytes under this key.
                    Some(_) => (None, PutOutcome::Conflict),
                    None => {
                        // Identical bytes share their row; other bytes get a
                        // row of their own (a variant when the key is known),
                        // never another collection's.
                        let new_version = match identical {
                            Some(_) => None,
                            None => Some(self.store.clock.next()),
                        };
                        let row = new_version.or(identical).unwrap_or_default();
                        let d = new_version.unwrap_or_else(|| self.store.clock.next());
                        let m = Member { date_added: d, row };
                        self.members.insert(mkey, Some(m));
                        membership = Some((cid, m));
                        (new_version, PutOutcome::Added { date_added: d })
                    }
                }
            }
        };
        drop(st);
        if let Some(d) = new_version {
            self.new_versions
                .entry(key)
                .or_default()
                .push((d, Arc::from(obj.raw.as_str())));
        }
        if new_version.is_some() || membership.is_some() {
            self.ops.push(Op::Put {
                meta: Arc::new(meta.clone()),
                raw: Arc::from(obj.raw.as_str()),
                new_version,
                membership,
            });
        }
        Ok(outcome)
    }

    fn remove_from_collection(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64> {
        let st = self.store.read();
        let coll = st.coll(collection)?;
        let cid = coll.info.id.clone();
        // The transaction's view of the memberships of `id`: committed ones,
        // overridden by what this transaction added or removed.
        let mut view: BTreeMap<String, bool> = coll
            .members
            .get(id)
            .into_iter()
            .flatten()
            .map(|(vk, _)| (vk.clone(), true))
            .collect();
        let lo = (cid.clone(), id.to_owned(), String::new());
        for ((c, i, vk), m) in self.members.range(lo..) {
            if c != &cid || i != id {
                break;
            }
            view.insert(vk.clone(), m.is_some());
        }
        drop(st);
        let removed: Vec<String> = view
            .into_iter()
            .filter(|(vk, present)| {
                *present && (version_keys.is_empty() || version_keys.contains(vk))
            })
            .map(|(vk, _)| vk)
            .collect();
        for vk in &removed {
            self.members
                .insert((cid.clone(), id.to_owned(), vk.clone()), None);
        }
        let n = removed.len() as u64;
        if n > 0 {
            self.ops.push(Op::Remove {
                coll: cid,
                id: id.to_owned(),
                version_keys: removed,
            });
        }
        Ok(n)
    }

    fn put_status(&mut self, status: &StoredStatus) -> Result<()> {
        self.ops.push(Op::Status(status.clone()));
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut st = self.store.write();
        let st = &mut *st;
        for op in self.ops {
            match op {
                Op::Put {
                    meta,
                    raw,
                    new_version,
                    membership,
                } => {
                    if let Some(d) = new_version {
                        for (_, ext) in &meta.external_ids {
                            st.ext_ids
                                .entry(ext.to_lowercase())
                                .or_default()
                                .insert(meta.id.clone());
                        }
                        st.by_added
                            .insert(d, (meta.id.clone(), meta.version_key.clone()));
                        st.versions += 1;
                        st.objects
                            .entry(meta.id.clone())
                            .or_default()
                            .entry(meta.version_key.clone())
                            .or_default()
                            .push(Version {
                                meta: meta.clone(),
                                raw,
                                date_added: d,
                            });
                    }
                    if let Some((cid, m)) = membership {
                        // The collection may have been removed meanwhile.
                        if let Some(c) = st.collections.get_mut(&cid) {
                            c.members
                                .entry(meta.id.clone())
                                .or_default()
                                .insert(meta.version_key.clone(), m);
                            c.by_added
                                .insert(m.date_added, (meta.id.clone(), meta.version_key.clone()));
                        }
                    }
                }
                Op::Remove {
                    coll,
                    id,
                    version_keys,
                } => {
                    if let Some(c) = st.collections.get_mut(&coll) {
                        if let Some(m) = c.members.get_mut(&id) {
                            for vk in &version_keys {
                                if let Some(d) = m.remove(vk) {
                                    c.by_added.remove(&d.date_added);
                                }
                            }
                            if m.is_empty() {
                                c.members.remove(&id);
                            }
                        }
                    }
                }
                Op::Status(s) => {
                    st.statuses.insert(s.id.clone(), s);
                }
            }
        }
        Ok(())
    }
}

impl StatusStore for MemoryStore {
    fn status(&self, id: &str, now: u64) -> Result<Option<StoredStatus>> {
        Ok(self
            .read()
            .statuses
            .get(id)
            .filter(|s| s.expires >= now)
            .cloned())
    }

    fn purge_statuses(&self, now: u64) -> Result<u64> {
        let mut st = self.write();
        let before = st.statuses.len();
        st.statuses.retain(|_, s| s.expires >= now);
        Ok((before - st.statuses.len()) as u64)
    }

    fn statuses_of_root(&self, api_root: &str) -> Result<Vec<StoredStatus>> {
        let mut out: Vec<StoredStatus> = self
            .read()
            .statuses
            .values()
            .filter(|s| s.api_root == api_root)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

impl CollectionStore for MemoryStore {
    fn create_collection(&self, c: &CollectionInfo) -> Result<()> {
        c.validate()?;
        let mut st = self.write();
        if st.coll_id(&c.id).is_some() {
            return Err(StoreError::collection_exists(c.id.clone()));
        }
        if let Some(a) = &c.alias {
            if st.coll_id(a).is_some() {
                return Err(StoreError::collection_exists(a.clone()));
            }
        }
        st.collections.insert(
            c.id.clone(),
            Coll {
                info: c.clone(),
                members: HashMap::new(),
                by_added: BTreeMap::new(),
            },
        );
        Ok(())
    }

    fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let st = self.read();
        let mut out: Vec<CollectionInfo> =
            st.collections.values().map(|c| c.info.clone()).collect();
        out.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    fn collection(&self, id_or_alias: &str) -> Result<Option<CollectionInfo>> {
        let st = self.read();
        Ok(st.coll(id_or_alias).ok().map(|c| c.info.clone()))
    }

    fn remove_collection(&self, id_or_alias: &str) -> Result<bool> {
        let mut st = self.write();
        let Some(id) = st.coll_id(id_or_alias).map(str::to_owned) else {
            return Ok(false);
        };
        Ok(st.collections.remove(&id).is_some())
    }
}

impl MemoryStore {
    fn accounts(&self) -> MutexGuard<'_, Accounts> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AccountStore for MemoryStore {
    fn add_user(&self, user: &User) -> Result<()> {
        user.validate()?;
        let mut a = self.accounts();
        if a.users.contains_key(&user.name) {
            return Err(StoreError::Invalid(format!(
                "user {:?} already exists",
                user.name
            )));
        }
        a.users.insert(user.name.clone(), user.clone());
        a.generation += 1;
        Ok(())
    }

    fn remove_user(&self, name: &str) -> Result<bool> {
        let mut a = self.accounts();
        if a.users.remove(name).is_none() {
            return Ok(false);
        }
        a.tokens.retain(|_, t| t.user != name);
        a.generation += 1;
        Ok(true)
    }

    fn users(&self) -> Result<Vec<User>> {
        Ok(self.accounts().users.values().cloned().collect())
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        Ok(self.accounts().users.get(name).cloned())
    }

    fn create_token(&self, token: &ApiToken) -> Result<()> {
        token.validate()?;
        let mut a = self.accounts();
        if !a.users.contains_key(&token.user) {
            return Err(StoreError::Invalid(format!("no user {:?}", token.user)));
        }
        if a.tokens.contains_key(&token.id) {
            return Err(StoreError::Invalid(format!(
                "token id {:?} is taken",
                token.id
            )));
        }
        a.tokens.insert(token.id.clone(), token.clone());
        a.generation += 1;
        Ok(())
    }

    fn revoke_token(&self, id: &str) -> Result<bool> {
        let mut a = self.accounts();
        match a.tokens.get_mut(id) {
            Some(t) if !t.revoked => {
                t.revoked = true;
                a.generation += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        Ok(self.accounts().tokens.get(id).cloned())
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<ApiToken>> {
        let mut out: Vec<ApiToken> = self
            .accounts()
            .tokens
            .values()
            .filter(|t| user.is_none_or(|u| t.user == u))
            .cloned()
            .collect();
        out.sort_by(|x, y| (x.created, &x.id).cmp(&(y.created, &y.id)));
        Ok(out)
    }

    fn accounts_generation(&self) -> Result<u64> {
        Ok(self.accounts().generation)
    }

    fn touch_token(&self, id: &str, at: u64) -> Result<()> {
        if let Some(t) = self.accounts().tokens.get_mut(id) {
            t.last_used = Some(t.last_used.map_or(at, |l| l.max(at)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    crate::conformance_tests!(crate::MemoryStore::new);
}
