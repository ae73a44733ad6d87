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

/// What `sightline_put` did: (version date, whether the version is new),
/// and the same for the membership when a collection was given.
type Put = (DateAdded, bool, Option<(DateAdded, bool)>);

/// Starts a write transaction whose lock waits end after 30 s.
const BEGIN: &str = "BEGIN; SET LOCAL lock_timeout = '30s'";

pub(crate) fn resolve_collection(
    c: &mut Conn,
    id_or_alias: &str,
) -> Result<Option<i64>, postgres::Error> {
    // PostgreSQL text cannot hold NUL (it would be an error, a 500 upstream);
    // no collection is named with one.
    if id_or_alias.contains('\0') {
        return Ok(None);
    }
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
    /// Collections resolved in this transaction.
    cids: std::collections::HashMap<String, i64>,
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
                cids: std::collections::HashMap::new(),
                done: false,
            })),
            Err(e) => {
                if conn.batch("ROLLBACK").is_err() {
                    conn.discard();
                }
                Err(self.err(e))
            }
        }
    }
}

impl PgTxn<'_> {
    /// A collection's key, resolved once per transaction.
    fn cid(&mut self, collection: &str) -> Result<Option<i64>, postgres::Error> {
        if let Some(c) = self.cids.get(collection) {
            return Ok(Some(*c));
        }
        let cid = resolve_collection(&mut self.conn, collection)?;
        if let Some(c) = cid {
            self.cids.insert(collection.to_owned(), c);
        }
        Ok(cid)
    }

    /// One put through `sightline_put` (see `schema.rs`): one round trip.
    /// Returns (version date, version added, membership date and added), or
    /// `None` for a conflict (nothing written). `variants`: restoring, other
    /// bytes under a stored key make a variant row instead of a conflict.
    fn call_put(
        &mut self,
        obj: &NewObject,
        date: Option<DateAdded>,
        cid: Option<i64>,
        member_date: Option<DateAdded>,
        variants: bool,
    ) -> Result<Option<Put>, postgres::Error> {
        let m = &obj.meta;
        // Relationships and sightings are not searched (as on SQLite).
        let (names, all) = if RELATIONSHIP_TYPES.contains(&m.ty.as_str()) {
            (None, None)
        } else {
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
        };
        let ext: Vec<String> = m
            .external_ids
            .iter()
            .map(|(_, e)| crate::nul_free(&e.to_ascii_lowercase()).into_owned())
            .collect();
        let name = m.name.as_deref().map(crate::nul_free);
        let r = self.conn.query_one(
            "SELECT version_date, version_added, member_date, member_added, last, conflict
             FROM sightline_put(
                $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            &[
                &self.last,
                &date,
                &m.id,
                &m.version_key,
                &m.ty,
                &m.spec_version,
                &m.version,
                &m.revoked,
                &name,
                &m.source_ref,
                &m.target_ref,
                &obj.raw,
                &names,
                &all,
                &ext,
                &cid,
                &member_date,
                &variants,
            ],
        )?;
        self.last = r.try_get(4)?;
        if r.try_get(5)? {
            return Ok(None);
        }
        let member = match r.try_get::<_, Option<DateAdded>>(2)? {
            Some(d) => Some((d, r.try_get(3)?)),
            None => None,
        };
        let (version_date, version_added): (DateAdded, bool) = (r.try_get(0)?, r.try_get(1)?);
        if version_added {
            // A new row: its embedded references (`referrers_of`).
            let refs: Vec<String> = m
                .refs
                .iter()
                .map(|t| crate::nul_free(t).into_owned())
                .collect();
            if !refs.is_empty() {
                self.conn.execute(
                    "INSERT INTO refs (target, version) SELECT unnest($1::text[]), $2",
                    &[&refs, &version_date],
                )?;
            }
        }
        Ok(Some((version_date, version_added, member)))
    }

    fn put_inner(
        &mut self,
        obj: &NewObject,
        collection: Option<&str>,
    ) -> Result<Result<PutOutcome>, postgres::Error> {
        let cid = match collection {
            Some(c) => match self.cid(c)? {
                Some(cid) => Some(cid),
                None => return Ok(Err(StoreError::no_such_collection(c.to_owned()))),
            },
            None => None,
        };
        let Some((d, added, member)) = self.call_put(obj, None, cid, None, false)? else {
            return Ok(Ok(PutOutcome::Conflict));
        };
        Ok(Ok(match member.unwrap_or((d, added)) {
            (d, true) => PutOutcome::Added { date_added: d },
            (d, false) => PutOutcome::Duplicate { date_added: d },
        }))
    }

    fn remove_inner(
        &mut self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<Result<u64>, postgres::Error> {
        let Some(cid) = resolve_collection(&mut self.conn, collection)? else {
            return Ok(Err(StoreError::no_such_collection(collection.to_owned())));
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
        // The same bytes already stored; other bytes make a variant row.
        let same = self.conn.query_opt(
            "SELECT date_added FROM versions WHERE id = $1 AND version_key = $2 AND raw = $3",
            &[&m.id, &m.version_key, &obj.raw],
        )?;
        if let Some(r) = same {
            return Ok(Ok(PutOutcome::Duplicate {
                date_added: r.try_get(0)?,
            }));
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
        Ok(Ok(
            match self.call_put(obj, Some(date_added), None, None, true)? {
                Some((d, _, _)) => PutOutcome::Added { date_added: d },
                None => PutOutcome::Conflict,
            },
        ))
    }

    fn restore_member_inner(
        &mut self,
        collection: &str,
        id: &str,
        version_key: &str,
        raw: &str,
        date_added: DateAdded,
    ) -> Result<Result<PutOutcome>, postgres::Error> {
        let Some(cid) = self.cid(collection)? else {
            return Ok(Err(StoreError::no_such_collection(collection.to_owned())));
        };
        // The exact row: among variants, the one with these bytes.
        if self
            .conn
            .query_opt(
                "SELECT 1 FROM versions WHERE id = $1 AND version_key = $2 AND raw = $3",
                &[&id, &version_key, &raw],
            )?
            .is_none()
        {
            return Ok(Err(StoreError::Invalid(format!(
                "{id}: no stored version {version_key:?} with these bytes to add to {collection}"
            ))));
        }
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
        // The row is stored, so only its id, key and bytes matter to the put.
        let obj = NewObject {
            meta: stored_meta(id, version_key),
            raw: raw.to_owned(),
        };
        Ok(Ok(
            match self.call_put(&obj, None, Some(cid), Some(date_added), false)? {
                Some((_, _, Some((d, true)))) => PutOutcome::Added { date_added: d },
                Some((_, _, Some((d, false)))) => PutOutcome::Duplicate { date_added: d },
                Some((_, _, None)) => PutOutcome::Duplicate { date_added },
                None => PutOutcome::Conflict,
            },
        ))
    }
}

/// Metadata standing for a version already stored: `sightline_put` only
/// reads its id and version key (it finds the same-key row with the same
/// bytes and inserts no row).
fn stored_meta(id: &str, version_key: &str) -> sightline_stix::ObjectMeta {
    sightline_stix::ObjectMeta {
        id: id.to_owned(),
        ty: String::new(),
        category: sightline_stix::object::Category::Domain,
        spec_version: String::new(),
        created: None,
        modified: None,
        version_key: version_key.to_owned(),
        version: None,
        revoked: false,
        name: None,
        aliases: Vec::new(),
        description: None,
        source_ref: None,
        target_ref: None,
        external_ids: Vec::new(),
        refs: Vec::new(),
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
        raw: &str,
        date_added: DateAdded,
    ) -> Result<PutOutcome> {
        self.restore_member_inner(collection, id, version_key, raw, date_added)
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
            return Err(self.store.err(e));
        }
        Ok(())
    }
}

impl StatusStore for PgStore {
    fn status(&self, id: &str, now: u64) -> Result<Option<StoredStatus>> {
        if id.contains('\0') {
            return Ok(None); // never stored: PostgreSQL text has no NUL
        }
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let mut c = self.conn()?;
        let row = c
            .query_opt(
                "SELECT id, api_root, owner, expires, body FROM statuses WHERE id = $1 AND expires >= $2",
                &[&id, &now],
            )
            .ctx(self)?;
        row.as_ref().map(status_row).transpose().ctx(self)
    }

    fn purge_statuses(&self, now: u64) -> Result<u64> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let mut c = self.conn()?;
        c.execute("DELETE FROM statuses WHERE expires < $1", &[&now])
            .ctx(self)
    }

    fn statuses_of_root(&self, api_root: &str) -> Result<Vec<StoredStatus>> {
        if api_root.contains('\0') {
            return Ok(Vec::new()); // never stored: PostgreSQL text has no NUL
        }
        let mut c = self.conn()?;
        let rows = c
            .query(
                "SELECT id, api_root, owner, expires, body FROM statuses WHERE api_root = $1 ORDER BY id",
                &[&api_root],
            )
            .ctx(self)?;
        rows.iter()
            .map(status_row)
            .collect::<Result<Vec<_>, postgres::Error>>()
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
                return Err(StoreError::collection_exists(key.clone()));
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
                Err(StoreError::collection_exists(c.id.clone()))
            }
            Err(e) => Err(self.err(e)),
        }
    }

    fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let mut c = self.conn()?;
        crate::read::collections(&mut c, None).ctx(self)
    }

    fn collection(&self, id_or_alias: &str) -> Result<Option<CollectionInfo>> {
        if id_or_alias.contains('\0') {
            return Ok(None);
        }
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

/// A `statuses` row (`id, api_root, owner, expires, body`).
fn status_row(r: &postgres::Row) -> std::result::Result<StoredStatus, postgres::Error> {
    Ok(StoredStatus {
        id: r.try_get(0)?,
        api_root: r.try_get(1)?,
        owner: r.try_get(2)?,
        expires: r.try_get::<_, i64>(3)?.unsigned_abs(),
        body: r.try_get(4)?,
    })
}
