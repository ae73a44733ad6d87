//! Writes: the write transaction and collection management.
//!
//! A put costs one indexed SELECT (the id's latest, first and same-key rows;
//! the raw text only of same-key rows, to tell the same bytes from a
//! variant), one INSERT into `versions`, one into `fts` (when it is the new
//! latest) and one per external id; an UPDATE of the old latest/first row
//! only when a newer/older version of a known object arrives. All statements
//! are cached.
//!
//! Rows are content-addressed (ARCHITECTURE.md, invariant 3): the same
//! `(id, version_key)` with other bytes is a row of its own (a variant, with
//! no store-wide latest/first flag), and a collection's membership names the
//! exact row, so a collection never serves bytes put into another.

use std::sync::MutexGuard;

use rusqlite::{named_params, params, Connection, OptionalExtension};
use sightline_store::{
    CollectionInfo, CollectionStore, DateAdded, NewObject, ObjectWriter, PutOutcome, Result,
    StoreError, StoredStatus, WriteTxn,
};

use sightline_stix::object::RELATIONSHIP_TYPES;

use crate::{Ctx, SqliteStore};

// Memberships by id go through the id's versions (`versions_id`) and
// `members_version`: there is no index by collection and id (`schema.rs`).
// The plans are tested (`tests.rs`: `membership_statements_use_indexes`).

/// The memberships of id ?2 in collection ?1 that a put must know about
/// (latest, first, or of version key ?3), with the row each refers to.
pub(crate) const MEMBER_NEIGHBOURS: &str =
    "SELECT m.date_added, m.version_key, m.is_latest, m.is_first, m.version
     FROM versions v INDEXED BY versions_id
     CROSS JOIN members m INDEXED BY members_version ON m.version = v.date_added AND m.cid = ?1
     WHERE v.id = ?2 AND (m.is_latest = 1 OR m.is_first = 1 OR m.version_key = ?3)";

/// Removes every membership of id ?2 from collection ?1.
pub(crate) const REMOVE_MEMBERSHIPS: &str = "DELETE FROM members WHERE cid = ?1
     AND version IN (SELECT date_added FROM versions WHERE id = ?2)";

/// Removes the membership of version ?3 of id ?2 from collection ?1.
pub(crate) const REMOVE_MEMBERSHIP: &str = "DELETE FROM members WHERE cid = ?1
     AND version IN (SELECT date_added FROM versions WHERE id = ?2 AND version_key = ?3)";

/// Sets the latest/first flags of id ?2's memberships left in collection ?1.
pub(crate) const REFLAG_MEMBERSHIPS: &str =
    "WITH left_here AS (SELECT m.date_added, m.version_key FROM versions v INDEXED BY versions_id
         CROSS JOIN members m INDEXED BY members_version ON m.version = v.date_added AND m.cid = ?1
         WHERE v.id = ?2)
     UPDATE members SET
        is_latest = (version_key = (SELECT max(version_key) FROM left_here)),
        is_first = (version_key = (SELECT min(version_key) FROM left_here))
     WHERE date_added IN (SELECT date_added FROM left_here)";

/// The id's rows that a put must know about: the store-wide latest, first
/// and same-key rows (the raw text of those only), newest last.
pub(crate) const VERSION_NEIGHBOURS: &str = "SELECT date_added, version_key, is_latest, is_first,
        CASE WHEN version_key = ?2 THEN raw END
     FROM versions INDEXED BY versions_id
     WHERE id = ?1 AND (is_latest = 1 OR is_first = 1 OR version_key = ?2)";

/// The rows of one id (in `versions`, or in one collection's `members`) that a
/// put must know about.
#[derive(Default)]
struct Neighbours {
    /// A row (membership) with the put's key: (its date_added, the
    /// version row's date_added).
    same: Option<(DateAdded, DateAdded)>,
    /// Store-wide: the row with the put's key and its very bytes.
    identical: Option<DateAdded>,
    /// Store-wide: the rows with the put's key whose bytes differ but hold
    /// the same JSON (`sightline_store::same_json`): the same version
    /// reformatted, a duplicate where that row stands for the key.
    equal: Vec<DateAdded>,
    latest: Option<(DateAdded, String)>,
    first: Option<(DateAdded, String)>,
}

impl Neighbours {
    /// Reads `VERSION_NEIGHBOURS` (`raw`: the bytes being put) or
    /// `MEMBER_NEIGHBOURS` (`raw` None).
    fn read(
        stmt: &mut rusqlite::CachedStatement<'_>,
        p: impl rusqlite::Params,
        vk: &str,
        raw: Option<&str>,
    ) -> rusqlite::Result<Self> {
        let mut n = Neighbours::default();
        let mut rows = stmt.query(p)?;
        while let Some(r) = rows.next()? {
            let d: DateAdded = r.get(0)?;
            let key = r.get_ref(1)?.as_str()?;
            if key == vk {
                match raw {
                    Some(raw) => {
                        // The first arrival (smallest date) stands for the
                        // key; an identical row is reused.
                        if n.same.is_none_or(|(s, _)| d < s) {
                            n.same = Some((d, d));
                        }
                        match r.get_ref(4)?.as_str_or_null()? {
                            Some(held) if held == raw => n.identical = Some(d),
                            Some(held) if sightline_store::same_json(held, raw) => {
                                n.equal.push(d);
                            }
                            _ => {}
                        }
                    }
                    None => n.same = Some((d, r.get(4)?)),
                }
            }
            if r.get::<_, bool>(2)? {
                n.latest = Some((d, key.to_owned()));
            }
            if r.get::<_, bool>(3)? {
                n.first = Some((d, key.to_owned()));
            }
        }
        Ok(n)
    }

    /// No row at all: the id is unknown here.
    fn is_empty(&self) -> bool {
        // (`identical` implies `same`.)
        self.same.is_none() && self.latest.is_none() && self.first.is_none()
    }

    /// (is the new key the latest, is it the first)
    fn flags(&self, vk: &str) -> (bool, bool) {
        (
            self.latest.as_ref().is_none_or(|(_, k)| vk > k.as_str()),
            self.first.as_ref().is_none_or(|(_, k)| vk < k.as_str()),
        )
    }
}

pub(crate) fn resolve_collection(
    conn: &Connection,
    id_or_alias: &str,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT cid FROM collections WHERE id = ?1 UNION ALL SELECT cid FROM collections WHERE alias = ?1 LIMIT 1",
    )?
    .query_row([id_or_alias], |r| r.get(0))
    .optional()
}

/// Where a put goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The store-wide space only (no collection): other bytes under a stored
    /// key are a conflict.
    Store,
    /// Copying a store: other bytes under a stored key are a variant row.
    Restore,
    /// A collection (by `cid`).
    Collection(i64),
}

pub(crate) struct SqliteTxn<'a> {
    store: &'a SqliteStore,
    conn: MutexGuard<'a, Connection>,
    done: bool,
    /// When restoring (copying a store): the `date_added` the next new row
    /// takes instead of a clock value.
    given: std::cell::Cell<Option<DateAdded>>,
    /// Puts so far: a bulk transaction falls back to the small cache.
    puts: usize,
}

impl Drop for SqliteTxn<'_> {
    fn drop(&mut self) {
        if !self.done && !self.conn.is_autocommit() {
            // Errors here (e.g. SQLite already rolled back after a full disk)
            // leave nothing to undo.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl ObjectWriter for SqliteStore {
    fn begin(&self) -> Result<Box<dyn WriteTxn + '_>> {
        if self.read_only {
            return Err(StoreError::no_space(format!(
                "{}: the store was opened read-only",
                self.path.display()
            )));
        }
        let conn = self.lock_writer();
        if !conn.is_autocommit() {
            // A transaction left open by a panic: discard it.
            let _ = conn.execute_batch("ROLLBACK");
        }
        if self.wal_bytes() > crate::BIG_WAL_BYTES {
            // Under sustained writes the checkpointer never catches up with
            // the last frame, so the WAL would never restart and grow without
            // bound (2 GB after 100 POSTs of 1,000 objects). Here no frame can
            // be appended meanwhile: this checkpoint completes (unless a reader
            // still needs old frames) and the next write restarts the WAL.
            // Errors (busy: the checkpointer is at it) only delay it.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
        conn.execute_batch(crate::TXN_CACHE).ctx(&self.path)?;
        conn.execute_batch("BEGIN IMMEDIATE").ctx(&self.path)?;
        self.wake_checkpointer();
        Ok(Box::new(SqliteTxn {
            store: self,
            conn,
            done: false,
            given: std::cell::Cell::new(None),
            puts: 0,
        }))
    }
}

impl SqliteTxn<'_> {
    /// The next `date_added`: the restored one when given, else the clock's.
    fn draw(&self) -> DateAdded {
        match self.given.take() {
            Some(d) => {
                self.store.clock.observe(d);
                d
            }
            None => self.store.clock.next(),
        }
    }

    fn put_inner(
        &mut self,
        obj: &NewObject,
        collection: Option<&str>,
    ) -> rusqlite::Result<Result<PutOutcome>> {
        let target = match collection {
            Some(c) => match resolve_collection(&self.conn, c)? {
                Some(cid) => Target::Collection(cid),
                None => return Ok(Err(StoreError::no_such_collection(c.to_owned()))),
            },
            None if self.given.get().is_some() => Target::Restore,
            None => Target::Store,
        };
        self.put_to(obj, target)
    }

    fn put_to(&mut self, obj: &NewObject, target: Target) -> rusqlite::Result<Result<PutOutcome>> {
        self.puts += 1;
        if self.puts == crate::BULK_PUTS {
            self.conn.execute_batch(crate::BULK_CACHE)?;
        }
        let conn = &*self.conn;
        let m = &obj.meta;
        let vk = m.version_key.as_str();
        let mut stmt = conn.prepare_cached(VERSION_NEIGHBOURS)?;
        let n = Neighbours::read(&mut stmt, params![m.id, vk], vk, Some(&obj.raw))?;
        drop(stmt);
        let known = n.same.is_some();
        let cid = match target {
            Target::Store | Target::Restore => {
                if let Some(d) = n.identical {
                    return Ok(Ok(PutOutcome::Duplicate { date_added: d }));
                }
                if let (Some((first, _)), Target::Store) = (n.same, target) {
                    // The store-wide version keeps its first bytes: the same
                    // JSON reformatted is a duplicate of it, other content a
                    // conflict.
                    return Ok(Ok(if n.equal.contains(&first) {
                        PutOutcome::Duplicate { date_added: first }
                    } else {
                        PutOutcome::Conflict
                    }));
                }
                None
            }
            Target::Collection(cid) => Some(cid),
        };
        // The collection's memberships of the id (none for a brand-new id: a
        // membership references a row; skip a random index probe).
        let mn = match cid {
            Some(cid) if !n.is_empty() => {
                let mut stmt = conn.prepare_cached(MEMBER_NEIGHBOURS)?;
                let mn = Neighbours::read(&mut stmt, params![cid, m.id, vk], vk, None)?;
                drop(stmt);
                if let Some((member, row)) = mn.same {
                    return Ok(Ok(if n.identical == Some(row) || n.equal.contains(&row) {
                        PutOutcome::Duplicate { date_added: member }
                    } else {
                        // This collection holds other bytes under this key.
                        PutOutcome::Conflict
                    }));
                }
                mn
            }
            _ => Neighbours::default(),
        };
        let (version_date, new_version) = match n.identical {
            Some(d) => (d, false),
            None => {
                let d = self.draw();
                // A variant (other bytes under a known key) carries no
                // store-wide flag: store-wide, the first arrival stands.
                let (is_latest, is_first) = if known { (false, false) } else { n.flags(vk) };
                conn.prepare_cached(
                    "INSERT INTO versions (date_added, id, version_key, type, spec_version, version, revoked,
                        is_latest, is_first, name, source_ref, target_ref, raw)
                     VALUES (:d, :id, :vk, :ty, :sv, :v, :rev, :latest, :first, :name, :src, :tgt, :raw)",
                )?
                .execute(named_params! {
                    ":d": d, ":id": m.id, ":vk": vk, ":ty": m.ty, ":sv": m.spec_version, ":v": m.version,
                    ":rev": m.revoked, ":latest": is_latest, ":first": is_first, ":name": m.name,
                    ":src": m.source_ref, ":tgt": m.target_ref, ":raw": obj.raw,
                })?;
                // Relationships and sightings are not searched (see `schema.rs`).
                let searched = !RELATIONSHIP_TYPES.contains(&m.ty.as_str());
                if is_latest {
                    if let Some((old, _)) = &n.latest {
                        conn.prepare_cached(
                            "UPDATE versions SET is_latest = 0 WHERE date_added = ?1",
                        )?
                        .execute([old])?;
                        if searched {
                            conn.prepare_cached("DELETE FROM fts WHERE rowid = ?1")?
                                .execute([old])?;
                        }
                    }
                    if searched {
                        let aliases = m.aliases.join("\n");
                        conn.prepare_cached(
                            "INSERT INTO fts (rowid, name, aliases, description) VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![d, m.name, aliases, m.description])?;
                    }
                }
                if is_first {
                    if let Some((old, _)) = &n.first {
                        conn.prepare_cached(
                            "UPDATE versions SET is_first = 0 WHERE date_added = ?1",
                        )?
                        .execute([old])?;
                    }
                }
                if !m.external_ids.is_empty() {
                    let mut ins = conn.prepare_cached(
                        "INSERT OR IGNORE INTO external_ids (external_id, id) VALUES (?1, ?2)",
                    )?;
                    for (_, ext) in &m.external_ids {
                        ins.execute(params![ext, m.id])?;
                    }
                }
                if !m.refs.is_empty() {
                    let mut ins =
                        conn.prepare_cached("INSERT INTO refs (target, version) VALUES (?1, ?2)")?;
                    for r in &m.refs {
                        ins.execute(params![r, d])?;
                    }
                }
                (d, true)
            }
        };
        match cid {
            None => Ok(Ok(PutOutcome::Added {
                date_added: version_date,
            })),
            Some(cid) => self.add_member(cid, m, vk, (version_date, new_version), mn),
        }
    }

    /// Adds the version of `m` stored at `version_date` (just now when
    /// `new_version`) to collection `cid`, given the id's memberships there
    /// (`n`, none of them with key `vk`).
    fn add_member(
        &self,
        cid: i64,
        m: &sightline_stix::ObjectMeta,
        vk: &str,
        (version_date, new_version): (DateAdded, bool),
        n: Neighbours,
    ) -> rusqlite::Result<Result<PutOutcome>> {
        let conn = &*self.conn;
        let d = if new_version {
            version_date
        } else {
            self.draw()
        };
        let (is_latest, is_first) = n.flags(vk);
        conn.prepare_cached(
            "INSERT INTO members (date_added, cid, version, id, version_key, is_latest, is_first, type)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![d, cid, version_date, m.id, vk, is_latest, is_first, m.ty])?;
        if is_latest {
            if let Some((old, _)) = &n.latest {
                conn.prepare_cached("UPDATE members SET is_latest = 0 WHERE date_added = ?1")?
                    .execute([old])?;
            }
        }
        if is_first {
            if let Some((old, _)) = &n.first {
                conn.prepare_cached("UPDATE members SET is_first = 0 WHERE date_added = ?1")?
                    .execute([old])?;
            }
        }
        Ok(Ok(PutOutcome::Added { date_added: d }))
    }

    fn remove_inner(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> rusqlite::Result<Result<u64>> {
        let conn = &*self.conn;
        let Some(cid) = resolve_collection(conn, collection)? else {
            return Ok(Err(StoreError::no_such_collection(collection.to_owned())));
        };
        let mut n = 0u64;
        if version_keys.is_empty() {
            n += conn
                .prepare_cached(REMOVE_MEMBERSHIPS)?
                .execute(params![cid, id])? as u64;
        } else {
            let mut del = conn.prepare_cached(REMOVE_MEMBERSHIP)?;
            for vk in version_keys {
                n += del.execute(params![cid, id, vk])? as u64;
            }
        }
        if n > 0 {
            conn.prepare_cached(REFLAG_MEMBERSHIPS)?
                .execute(params![cid, id])?;
        }
        Ok(Ok(n))
    }
}

impl WriteTxn for SqliteTxn<'_> {
    fn put(&mut self, obj: &NewObject, collection: Option<&str>) -> Result<PutOutcome> {
        self.put_inner(obj, collection).ctx(&self.store.path)?
    }

    fn remove_from_collection(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64> {
        self.remove_inner(collection, id, version_keys)
            .ctx(&self.store.path)?
    }

    fn restore_version(&mut self, obj: &NewObject, date_added: DateAdded) -> Result<PutOutcome> {
        self.given.set(Some(date_added));
        let r = self.put_inner(obj, None).ctx(&self.store.path);
        self.given.set(None);
        r?
    }

    fn restore_membership(
        &mut self,
        collection: &str,
        id: &str,
        version_key: &str,
        raw: &str,
        date_added: DateAdded,
    ) -> Result<PutOutcome> {
        // The exact row: among variants, the one with these bytes.
        let row: Option<DateAdded> = self
            .conn
            .prepare_cached(
                "SELECT date_added FROM versions INDEXED BY versions_id
                 WHERE id = ?1 AND version_key = ?2 AND raw = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![id, version_key, raw], |r| r.get(0))
                    .optional()
            })
            .ctx(&self.store.path)?;
        if row.is_none() {
            return Err(StoreError::Invalid(format!(
                "{id}: no stored version {version_key:?} with these bytes to add to {collection}"
            )));
        }
        let meta = serde_json::from_str(raw)
            .ok()
            .and_then(|v| sightline_stix::ObjectMeta::extract(&v).ok())
            .ok_or_else(|| {
                StoreError::corrupt(format!(
                    "{}: stored version {version_key:?} of {id} does not parse",
                    self.store.path.display()
                ))
            })?;
        self.given.set(Some(date_added));
        let r = self
            .put_inner(
                &NewObject {
                    meta,
                    raw: raw.to_owned(),
                },
                Some(collection),
            )
            .ctx(&self.store.path);
        self.given.set(None);
        r?
    }

    fn put_status(&mut self, status: &StoredStatus) -> Result<()> {
        crate::status::put(&self.conn, status).ctx(&self.store.path)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let path = &self.store.path;
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('date_added_high', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
            )
            .and_then(|mut s| s.execute([self.store.clock.last()]))
            .ctx(path)?;
        self.conn.execute_batch("COMMIT").ctx(path)?;
        self.done = true;
        self.store.wake_checkpointer();
        Ok(())
    }
}

impl CollectionStore for SqliteStore {
    fn create_collection(&self, c: &CollectionInfo) -> Result<()> {
        c.validate()?;
        let conn = self.lock_writer();
        let media = serde_json::to_string(&c.media_types)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let taken = |key: &str| {
            resolve_collection(&conn, key)
                .map(|c| c.is_some())
                .ctx(&self.path)
        };
        if taken(&c.id)? {
            return Err(StoreError::collection_exists(c.id.clone()));
        }
        if let Some(a) = &c.alias {
            if taken(a)? {
                return Err(StoreError::collection_exists(a.clone()));
            }
        }
        conn.prepare_cached(
            "INSERT INTO collections (id, alias, title, description, media_types) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![c.id, c.alias, c.title, c.description, media]))
        .ctx(&self.path)?;
        Ok(())
    }

    fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let conn = self.reader()?;
        crate::read::collections(&conn, None).ctx(&self.path)
    }

    fn collection(&self, id_or_alias: &str) -> Result<Option<CollectionInfo>> {
        let conn = self.reader()?;
        Ok(crate::read::collections(&conn, Some(id_or_alias))
            .ctx(&self.path)?
            .into_iter()
            .next())
    }

    fn remove_collection(&self, id_or_alias: &str) -> Result<bool> {
        let conn = self.lock_writer();
        let n = (|| -> rusqlite::Result<usize> {
            let Some(cid) = resolve_collection(&conn, id_or_alias)? else {
                return Ok(0);
            };
            // Memberships go by ON DELETE CASCADE.
            conn.prepare_cached("DELETE FROM collections WHERE cid = ?1")?
                .execute([cid])
        })()
        .ctx(&self.path)?;
        Ok(n > 0)
    }
}
