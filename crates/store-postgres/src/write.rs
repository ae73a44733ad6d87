//! Writes: the write transaction (see the crate doc for how `date_added` is
//! assigned under the write lock) and collection management.
//!
//! A put costs one indexed SELECT (the id's latest, first and same-key rows),
//! one INSERT into `versions` (with the search vectors when it is the new
//! latest), one per external id, and an UPDATE of the old latest/first row only
//! when a newer/older version of a known object arrives.

use sightline_stix::object::RELATIONSHIP_TYPES;
use sightline_store::{
    CollectionInfo, CollectionStore, DateAdded, NewObject, ObjectWriter, PutOutcome, Result,
    StatusStore, StoreError, StoredStatus, WriteTxn,
};

use crate::read::fold;
use crate::{Conn, Ctx, PgStore, Pooled, WRITE_LOCK};

/// The next `date_added`: the database's clock in µs, but always after `$1`
/// (the last value handed out). Inlined into each INSERT.
const NEXT: &str =
    "greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, $1::bigint + 1)";

/// Starts a write transaction whose lock waits end after 30 s.
const BEGIN: &str = "BEGIN; SET LOCAL lock_timeout = '30s'";

/// The rows of one id (in `versions`, or in one collection's `members`) that a
/// put must know about.
#[derive(Default)]
struct Neighbours {
    same: Option<DateAdded>,
    latest: Option<(DateAdded, String)>,
    first: Option<(DateAdded, String)>,
}

impl Neighbours {
    fn read(rows: &[postgres::Row], vk: &str) -> Result<Self, postgres::Error> {
        let mut n = Neighbours::default();
        for r in rows {
            let d: DateAdded = r.try_get(0)?;
            let key: String = r.try_get(1)?;
            if key == vk {
                n.same = Some(d);
            }
            if r.try_get::<_, bool>(2)? {
                n.latest = Some((d, key.clone()));
            }
            if r.try_get::<_, bool>(3)? {
                n.first = Some((d, key));
            }
        }
        Ok(n)
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
    c: &mut Conn,
    id_or_alias: &str,
) -> Result<Option<i64>, postgres::Error> {
    Ok(c.query_opt(
        "SELECT cid FROM collections WHERE id = $1 OR alias = $1 ORDER BY (id = $1) DESC LIMIT 1",
        &[&id_or_alias],
    )?
    .map(|r| r.get(0)))
}

pub(crate) struct PgTxn<'a> {
    store: &'a PgStore,
    conn: Pooled<'a>,
    /// The last `date_added` handed out (starts at `meta.date_added_high`).
    last: DateAdded,
    done: bool,
}

impl Drop for PgTxn<'_> {
    fn drop(&mut self) {
        if !self.done && self.conn.batch("ROLLBACK").is_err() {
            // State unknown (e.g. the connection broke): never reuse it.
            self.conn.discard();
        }
    }
}

impl ObjectWriter for PgStore {
    fn begin(&self) -> Result<Box<dyn WriteTxn + '_>> {
        let mut conn = self.conn()?;
        let last = (|| -> Result<DateAdded, postgres::Error> {
            // A writer waits at most LOCK_TIMEOUT for another (then Busy: 503
            // over TAXII), as SQLite's busy timeout does.
            conn.batch(BEGIN)?;
            // Held until COMMIT/ROLLBACK: one writer at a time per database.
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
            conn.query_one("SELECT value FROM meta WHERE key = 'date_added_high'", &[])?
                .try_get(0)
        })();
        match last {
            Ok(last) => Ok(Box::new(PgTxn {
                store: self,
                conn,
                last,
                done: false,
            })),
            Err(e) => {
                if conn.batch("ROLLBACK").is_err() {
                    conn.discard();
                }
                Err(self.err(&e))
            }
        }
    }
}

impl PgTxn<'_> {
    fn put_inner(
        &mut self,
        obj: &NewObject,
        collection: Option<&str>,
    ) -> Result<Result<PutOutcome>, postgres::Error> {
        let m = &obj.meta;
        let vk = m.version_key.as_str();
        let cid = match collection {
            Some(c) => match resolve_collection(&mut self.conn, c)? {
                Some(cid) => Some(cid),
                None => return Ok(Err(StoreError::NoSuchCollection(c.to_owned()))),
            },
            None => None,
        };
        let rows = self.conn.query(
            "SELECT date_added, version_key, is_latest, is_first FROM versions
             WHERE id = $1 AND (is_latest OR is_first OR version_key = $2)",
            &[&m.id, &vk],
        )?;
        let n = Neighbours::read(&rows, vk)?;
        let (version_date, new_version) = match n.same {
            Some(d) => (d, false),
            None => {
                let (is_latest, is_first) = n.flags(vk);
                let d = self.insert_version(obj, None, is_latest, is_first)?;
                self.demote(&n, is_latest, is_first)?;
                (d, true)
            }
        };
        let Some(cid) = cid else {
            return Ok(Ok(if new_version {
                PutOutcome::Added {
                    date_added: version_date,
                }
            } else {
                PutOutcome::Duplicate {
                    date_added: version_date,
                }
            }));
        };
        self.add_member(
            cid,
            &m.id,
            vk,
            version_date,
            new_version.then_some(version_date),
        )
    }

    /// Inserts a version (with `date_added` given, when restoring; else the
    /// next value) and its external ids; returns its `date_added`.
    fn insert_version(
        &mut self,
        obj: &NewObject,
        date_added: Option<DateAdded>,
        is_latest: bool,
        is_first: bool,
    ) -> Result<DateAdded, postgres::Error> {
        let m = &obj.meta;
        // Relationships and sightings are not searched (as on SQLite).
        let searched = is_latest && !RELATIONSHIP_TYPES.contains(&m.ty.as_str());
        let (names, all) = if searched {
            let mut names = m.name.clone().unwrap_or_default();
            for a in &m.aliases {
                names.push('\n');
                names.push_str(a);
            }
            let mut all = names.clone();
            if let Some(d) = &m.description {
                all.push('\n');
                all.push_str(d);
            }
            (Some(fold(&names)), Some(fold(&all)))
        } else {
            (None, None)
        };
        let (date_sql, date_param) = match date_added {
            Some(d) => ("$1::bigint", d),
            None => (NEXT, self.last),
        };
        let d: DateAdded = self
            .conn
            .query_one(
                &format!(
                    "INSERT INTO versions (date_added, id, version_key, type, spec_version, version, revoked,
                        is_latest, is_first, name, source_ref, target_ref, raw, search_names, search_all)
                     VALUES ({date_sql}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                        to_tsvector('simple', $14::text), to_tsvector('simple', $15::text))
                     RETURNING date_added"
                ),
                &[
                    &date_param,
                    &m.id,
                    &m.version_key,
                    &m.ty,
                    &m.spec_version,
                    &m.version,
                    &m.revoked,
                    &is_latest,
                    &is_first,
                    &m.name,
                    &m.source_ref,
                    &m.target_ref,
                    &obj.raw,
                    &names,
                    &all,
                ],
            )?
            .try_get(0)?;
        self.last = self.last.max(d);
        for (_, ext) in &m.external_ids {
            self.conn.execute(
                "INSERT INTO external_ids (external_id, id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&ext.to_ascii_lowercase(), &m.id],
            )?;
        }
        Ok(d)
    }

    /// Clears the flags of the old latest/first version when the new one took them.
    fn demote(
        &mut self,
        n: &Neighbours,
        is_latest: bool,
        is_first: bool,
    ) -> Result<(), postgres::Error> {
        if is_latest {
            if let Some((old, _)) = &n.latest {
                self.conn.execute(
                    "UPDATE versions SET is_latest = false, search_names = NULL, search_all = NULL
                     WHERE date_added = $1",
                    &[old],
                )?;
            }
        }
        if is_first {
            if let Some((old, _)) = &n.first {
                self.conn.execute(
                    "UPDATE versions SET is_first = false WHERE date_added = $1",
                    &[old],
                )?;
            }
        }
        Ok(())
    }

    /// Adds version `(id, vk)` (stored at `version_date`) to collection `cid`,
    /// with membership date `date_added` (else the next value).
    fn add_member(
        &mut self,
        cid: i64,
        id: &str,
        vk: &str,
        version_date: DateAdded,
        date_added: Option<DateAdded>,
    ) -> Result<Result<PutOutcome>, postgres::Error> {
        let rows = self.conn.query(
            "SELECT date_added, version_key, is_latest, is_first FROM members
             WHERE cid = $1 AND id = $2 AND (is_latest OR is_first OR version_key = $3)",
            &[&cid, &id, &vk],
        )?;
        let n = Neighbours::read(&rows, vk)?;
        if let Some(d) = n.same {
            return Ok(Ok(PutOutcome::Duplicate { date_added: d }));
        }
        let (is_latest, is_first) = n.flags(vk);
        let (date_sql, date_param) = match date_added {
            Some(d) => ("$1::bigint", d),
            None => (NEXT, self.last),
        };
        let d: DateAdded = self
            .conn
            .query_one(
                &format!(
                    "INSERT INTO members (date_added, cid, version, id, version_key, is_latest, is_first)
                     VALUES ({date_sql}, $2, $3, $4, $5, $6, $7) RETURNING date_added"
                ),
                &[
                    &date_param,
                    &cid,
                    &version_date,
                    &id,
                    &vk,
                    &is_latest,
                    &is_first,
                ],
            )?
            .try_get(0)?;
        self.last = self.last.max(d);
        if is_latest {
            if let Some((old, _)) = &n.latest {
                self.conn.execute(
                    "UPDATE members SET is_latest = false WHERE date_added = $1",
                    &[old],
                )?;
            }
        }
        if is_first {
            if let Some((old, _)) = &n.first {
                self.conn.execute(
                    "UPDATE members SET is_first = false WHERE date_added = $1",
                    &[old],
                )?;
            }
        }
        Ok(Ok(PutOutcome::Added { date_added: d }))
    }

    fn remove_inner(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<Result<u64>, postgres::Error> {
        let Some(cid) = resolve_collection(&mut self.conn, collection)? else {
            return Ok(Err(StoreError::NoSuchCollection(collection.to_owned())));
        };
        let n = if version_keys.is_empty() {
            self.conn.execute(
                "DELETE FROM members WHERE cid = $1 AND id = $2",
                &[&cid, &id],
            )?
        } else {
            self.conn.execute(
                "DELETE FROM members WHERE cid = $1 AND id = $2 AND version_key = ANY($3)",
                &[&cid, &id, &version_keys],
            )?
        };
        if n > 0 {
            self.conn.execute(
                "UPDATE members SET
                    is_latest = (version_key = (SELECT max(version_key) FROM members WHERE cid = $1 AND id = $2)),
                    is_first = (version_key = (SELECT min(version_key) FROM members WHERE cid = $1 AND id = $2))
                 WHERE cid = $1 AND id = $2",
                &[&cid, &id],
            )?;
        }
        Ok(Ok(n))
    }

    /// See [`WriteTxn::restore_version`].
    fn restore_inner(
        &mut self,
        obj: &NewObject,
        date_added: DateAdded,
    ) -> Result<Result<PutOutcome>, postgres::Error> {
        let m = &obj.meta;
        let vk = m.version_key.as_str();
        let rows = self.conn.query(
            "SELECT date_added, version_key, is_latest, is_first FROM versions
             WHERE id = $1 AND (is_latest OR is_first OR version_key = $2)",
            &[&m.id, &vk],
        )?;
        let n = Neighbours::read(&rows, vk)?;
        if let Some(d) = n.same {
            return Ok(Ok(PutOutcome::Duplicate { date_added: d }));
        }
        let taken = self
            .conn
            .query_opt(
                "SELECT 1 FROM versions WHERE date_added = $1",
                &[&date_added],
            )?
            .is_some();
        if taken {
            return Ok(Err(StoreError::Invalid(format!(
                "date_added {date_added} is taken by another version"
            ))));
        }
        let (is_latest, is_first) = n.flags(vk);
        let d = self.insert_version(obj, Some(date_added), is_latest, is_first)?;
        self.demote(&n, is_latest, is_first)?;
        Ok(Ok(PutOutcome::Added { date_added: d }))
    }

    fn restore_member_inner(
        &mut self,
        collection: &str,
        id: &str,
        version_key: &str,
        date_added: DateAdded,
    ) -> Result<Result<PutOutcome>, postgres::Error> {
        let Some(cid) = resolve_collection(&mut self.conn, collection)? else {
            return Ok(Err(StoreError::NoSuchCollection(collection.to_owned())));
        };
        let Some(version) = self.conn.query_opt(
            "SELECT date_added FROM versions WHERE id = $1 AND version_key = $2",
            &[&id, &version_key],
        )?
        else {
            return Ok(Err(StoreError::Invalid(format!(
                "{id}: no stored version {version_key:?} to add to {collection}"
            ))));
        };
        let version: DateAdded = version.try_get(0)?;
        let taken = self
            .conn
            .query_opt(
                "SELECT 1 FROM members WHERE date_added = $1",
                &[&date_added],
            )?
            .is_some();
        if taken {
            return Ok(Err(StoreError::Invalid(format!(
                "membership date_added {date_added} is taken"
            ))));
        }
        self.add_member(cid, id, version_key, version, Some(date_added))
    }
}

impl WriteTxn for PgTxn<'_> {
    fn put(&mut self, obj: &NewObject, collection: Option<&str>) -> Result<PutOutcome> {
        self.put_inner(obj, collection).ctx(self.store)?
    }

    fn remove_from_collection(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64> {
        self.remove_inner(collection, id, version_keys)
            .ctx(self.store)?
    }

    fn restore_version(&mut self, obj: &NewObject, date_added: DateAdded) -> Result<PutOutcome> {
        self.restore_inner(obj, date_added).ctx(self.store)?
    }

    fn restore_membership(
        &mut self,
        collection: &str,
        id: &str,
        version_key: &str,
        date_added: DateAdded,
    ) -> Result<PutOutcome> {
        self.restore_member_inner(collection, id, version_key, date_added)
            .ctx(self.store)?
    }

    fn put_status(&mut self, status: &StoredStatus) -> Result<()> {
        let expires = i64::try_from(status.expires)
            .map_err(|_| StoreError::Invalid("status expiry out of range".into()))?;
        self.conn
            .execute(
                "INSERT INTO statuses (id, api_root, owner, expires, body) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET api_root = excluded.api_root, owner = excluded.owner,
                    expires = excluded.expires, body = excluded.body",
                &[
                    &status.id,
                    &status.api_root,
                    &status.owner,
                    &expires,
                    &status.body,
                ],
            )
            .ctx(self.store)?;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let last = self.last;
        let r = (|| -> Result<(), postgres::Error> {
            self.conn.execute(
                "UPDATE meta SET value = greatest(value, $1) WHERE key = 'date_added_high'",
                &[&last],
            )?;
            self.conn.batch("COMMIT")
        })();
        self.done = true;
        if let Err(e) = r {
            // A failed COMMIT leaves nothing committed; a broken connection
            // is dropped rather than pooled.
            if self.conn.batch("ROLLBACK").is_err() {
                self.conn.discard();
            }
            return Err(self.store.err(&e));
        }
        Ok(())
    }
}

impl StatusStore for PgStore {
    fn status(&self, id: &str, now: u64) -> Result<Option<StoredStatus>> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let mut c = self.conn()?;
        let row = c
            .query_opt(
                "SELECT id, api_root, owner, expires, body FROM statuses WHERE id = $1 AND expires >= $2",
                &[&id, &now],
            )
            .ctx(self)?;
        row.map(|r| {
            Ok(StoredStatus {
                id: r.try_get(0)?,
                api_root: r.try_get(1)?,
                owner: r.try_get(2)?,
                expires: r.try_get::<_, i64>(3)?.unsigned_abs(),
                body: r.try_get(4)?,
            })
        })
        .transpose()
        .ctx(self)
    }

    fn purge_statuses(&self, now: u64) -> Result<u64> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let mut c = self.conn()?;
        c.execute("DELETE FROM statuses WHERE expires < $1", &[&now])
            .ctx(self)
    }
}

impl CollectionStore for PgStore {
    fn create_collection(&self, c: &CollectionInfo) -> Result<()> {
        c.validate()?;
        let media = serde_json::to_string(&c.media_types)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut conn = self.conn()?;
        for key in std::iter::once(&c.id).chain(c.alias.as_ref()) {
            if resolve_collection(&mut conn, key).ctx(self)?.is_some() {
                return Err(StoreError::CollectionExists(key.clone()));
            }
        }
        let r = conn.execute(
            "INSERT INTO collections (id, alias, title, description, media_types) VALUES ($1, $2, $3, $4, $5)",
            &[&c.id, &c.alias, &c.title, &c.description, &media],
        );
        match r {
            Ok(_) => Ok(()),
            // Another replica created it between our check and insert.
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                Err(StoreError::CollectionExists(c.id.clone()))
            }
            Err(e) => Err(self.err(&e)),
        }
    }

    fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let mut c = self.conn()?;
        crate::read::collections(&mut c, None).ctx(self)
    }

    fn collection(&self, id_or_alias: &str) -> Result<Option<CollectionInfo>> {
        let mut c = self.conn()?;
        Ok(crate::read::collections(&mut c, Some(id_or_alias))
            .ctx(self)?
            .into_iter()
            .next())
    }

    fn remove_collection(&self, id_or_alias: &str) -> Result<bool> {
        let mut c = self.conn()?;
        let Some(cid) = resolve_collection(&mut c, id_or_alias).ctx(self)? else {
            return Ok(false);
        };
        // Memberships go by ON DELETE CASCADE.
        let n = c
            .execute("DELETE FROM collections WHERE cid = $1", &[&cid])
            .ctx(self)?;
        Ok(n > 0)
    }
}
