//! Reads: object queries (keyset pages), versions, external ids, search,
//! stats, collections, and the consistency check.
//!
//! Every page query is `WHERE <key> > cursor ... ORDER BY <key> LIMIT n + 1`
//! over an index whose order is `date_added` (the rowid, a partial
//! `is_latest`/`is_first` index, or the collection's membership indexes), so a
//! page costs the same at any depth. No OFFSET anywhere.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, Row};
use sightline_store::{
    CollectionInfo, ObjectQuery, ObjectReader, ObjectRow, Page, PageSummary, Result, SearchHit,
    Stats, StoreError, StoredObject, VersionReader,
};

use crate::write::resolve_collection;
use crate::{Ctx, SqliteStore};

/// The most items one page returns, whatever the query asks.
const MAX_LIMIT: usize = 100_000;

const COLUMNS: &str = "v.id, v.type, v.spec_version, v.version, v.version_key, v.revoked, v.raw";

/// Reads a row of `<date_added>, COLUMNS`.
fn stored(r: &Row<'_>) -> rusqlite::Result<StoredObject> {
    Ok(StoredObject {
        date_added: r.get(0)?,
        id: r.get(1)?,
        ty: r.get(2)?,
        spec_version: r.get(3)?,
        version: r.get(4)?,
        version_key: r.get(5)?,
        revoked: r.get(6)?,
        raw: r.get(7)?,
    })
}

fn placeholders(sql: &mut String, params: &mut Vec<Value>, values: &[String]) {
    sql.push('(');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('?');
        params.push(Value::Text(v.clone()));
    }
    sql.push(')');
}

/// Every version of id ?2 in collection ?1, by version key.
pub(crate) fn versions_in_collection_sql() -> String {
    format!(
        "SELECT m.date_added, {COLUMNS} FROM versions v INDEXED BY versions_id
         CROSS JOIN members m INDEXED BY members_version ON m.version = v.date_added AND m.cid = ?1
         WHERE v.id = ?2 ORDER BY m.version_key"
    )
}

/// The spec version nearly every stored object has: the validator admits no
/// other (E104). `versions_spec` indexes only the others (V6), so it costs a
/// put nothing and a filter on another spec version is a probe of it.
const COMMON_SPEC: &str = "2.1";

/// Builds the page query. Which index serves it is chosen explicitly (with
/// `INDEXED BY`, or `+` to rule an index out) so the plan never depends on
/// statistics: always a range scan in `date_added` order from the cursor, or,
/// when a filter is selective (ids, a rare spec version), the filter's index
/// then a sort of what it found. A filter that matches nothing then costs an
/// index probe, not a scan of the collection (issue 12):
/// - ids: `versions_id` (then `members_version`);
/// - spec versions other than 2.1: `versions_spec` (then `members_version`);
/// - types: one ordered range of `members_type` (`versions_type[_latest]`
///   store-wide) per type, merged: a page reads at most `types × (limit + 1)`
///   rows, however rare or common each type is.
pub(crate) fn page_sql(q: &ObjectQuery, cid: Option<i64>, limit: usize) -> (String, Vec<Value>) {
    let f = &q.versions;
    let only_last = !f.all && f.last && !f.first && f.at.is_empty();
    let only_first = !f.all && f.first && !f.last && f.at.is_empty();
    let cursor = match (q.added_after, q.after) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => i64::MIN,
    };
    let lim = Value::Integer(i64::try_from(limit + 1).unwrap_or(i64::MAX));
    let mut params: Vec<Value> = Vec::new();
    // `t` is the table whose date_added orders the page and carries the flags.
    let t = if cid.is_some() { "m" } else { "v" };
    let rare_spec = !q.spec_versions.is_empty() && q.spec_versions.iter().all(|s| s != COMMON_SPEC);
    let types = distinct(&q.types);
    if q.ids.is_empty()
        && !rare_spec
        && !types.is_empty()
        && types.len() <= sightline_store::MAX_TYPE_ARMS
    {
        // Several types: each arm yields only keys (no spec filter needs
        // the version), so merging sorts integers, not objects, and the
        // versions are read for the page's rows alone.
        let slim = types.len() > 1 && q.spec_versions.is_empty();
        let mut arms = Vec::with_capacity(types.len());
        for ty in types {
            let mut sql = String::with_capacity(400);
            let what = if slim {
                format!(
                    "{t}.date_added AS d, {t}.{} AS r",
                    if cid.is_some() {
                        "version"
                    } else {
                        "date_added"
                    }
                )
            } else {
                format!("{t}.date_added, {COLUMNS}")
            };
            if let Some(cid) = cid {
                let join = if slim {
                    ""
                } else {
                    "JOIN versions v ON v.date_added = m.version"
                };
                sql.push_str(&format!(
                    "SELECT {what} FROM members m INDEXED BY members_type {join}
                     WHERE m.cid = ? AND m.type = ? AND m.date_added > ?"
                ));
                params.push(Value::Integer(cid));
            } else {
                let index = if only_last {
                    "versions_type_latest"
                } else {
                    "versions_type"
                };
                sql.push_str(&format!(
                    "SELECT {what} FROM versions v INDEXED BY {index}
                     WHERE v.type = ? AND v.date_added > ?"
                ));
            }
            params.push(Value::Text(ty.to_owned()));
            params.push(Value::Integer(cursor));
            filters(&mut sql, &mut params, q, t, false);
            sql.push_str(&format!(" ORDER BY {t}.date_added LIMIT ?"));
            params.push(lim.clone());
            arms.push(sql);
        }
        if arms.len() == 1 {
            return (arms.remove(0), params);
        }
        let merged = arms
            .iter()
            .map(|a| format!("SELECT * FROM ({a})"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        params.push(lim);
        let sql = if slim {
            format!(
                "SELECT p.d, {COLUMNS} FROM ({merged} ORDER BY 1 LIMIT ?) p
                 JOIN versions v ON v.date_added = p.r ORDER BY p.d"
            )
        } else {
            format!("{merged} ORDER BY 1 LIMIT ?")
        };
        return (sql, params);
    }
    let mut sql = String::with_capacity(400);
    let driver = if !q.ids.is_empty() {
        Some("versions_id")
    } else if rare_spec {
        Some("versions_spec")
    } else {
        None
    };
    if let (Some(cid), Some(index)) = (cid, driver) {
        // By id or rare spec version: those versions, then their memberships
        // here (there is no index by collection and id: see `schema.rs`,
        // `members`).
        sql.push_str(&format!(
            "SELECT m.date_added, {COLUMNS} FROM versions v INDEXED BY {index}
             CROSS JOIN members m INDEXED BY members_version ON m.version = v.date_added
             WHERE m.cid = ? AND m.date_added > ?"
        ));
        params.push(Value::Integer(cid));
        params.push(Value::Integer(cursor));
    } else if let Some(cid) = cid {
        let index = if only_last {
            "members_latest"
        } else if only_first {
            "members_first"
        } else {
            "members_all"
        };
        sql.push_str(&format!(
            "SELECT m.date_added, {COLUMNS} FROM members m INDEXED BY {index}
             JOIN versions v ON v.date_added = m.version
             WHERE m.cid = ? AND m.date_added > ?"
        ));
        params.push(Value::Integer(cid));
        params.push(Value::Integer(cursor));
    } else {
        let index = if let Some(index) = driver {
            format!("INDEXED BY {index}")
        } else if only_last {
            "INDEXED BY versions_latest".to_owned()
        } else if only_first {
            "INDEXED BY versions_first".to_owned()
        } else {
            "NOT INDEXED".to_owned()
        };
        sql.push_str(&format!(
            "SELECT v.date_added, {COLUMNS} FROM versions v {index} WHERE v.date_added > ?"
        ));
        params.push(Value::Integer(cursor));
    }
    if driver == Some("versions_spec") {
        // The partial index's own predicate, so SQLite may use it.
        sql.push_str(&format!(" AND v.spec_version <> '{COMMON_SPEC}'"));
    }
    filters(&mut sql, &mut params, q, t, true);
    // One id with only its latest (or only its first) version: at most one
    // row (one latest and one first membership per id and collection, one
    // per id store-wide). Its index (`versions_id`) is not in `date_added`
    // order, so an ORDER BY would build a temporary B-tree for
    // that one row: a tenth of the instructions of a TAXII GET by id.
    let at_most_one_row = q.ids.len() == 1 && (only_last || only_first);
    if !at_most_one_row {
        sql.push_str(&format!(" ORDER BY {t}.date_added"));
    }
    sql.push_str(" LIMIT ?");
    params.push(lim);
    (sql, params)
}

/// `values` without repeats, in their order (a repeated type would be a
/// second arm returning the same rows).
fn distinct(values: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(&v.as_str()) {
            out.push(v);
        }
    }
    out
}

/// Appends the query's filters (the types too, unless the caller's index
/// already holds one type) as `AND` terms on `v` (the version) and `t` (the
/// table that carries the flags).
fn filters(sql: &mut String, params: &mut Vec<Value>, q: &ObjectQuery, t: &str, types: bool) {
    let f = &q.versions;
    if !q.ids.is_empty() {
        sql.push_str(" AND v.id IN ");
        placeholders(sql, params, &q.ids);
    }
    if types && !q.types.is_empty() {
        sql.push_str(" AND v.type IN ");
        placeholders(sql, params, &q.types);
    }
    if !q.spec_versions.is_empty() {
        sql.push_str(" AND v.spec_version IN ");
        placeholders(sql, params, &q.spec_versions);
    }
    if !f.all {
        let mut parts = Vec::new();
        if f.last {
            parts.push(format!("{t}.is_latest = 1"));
        }
        if f.first {
            parts.push(format!("{t}.is_first = 1"));
        }
        if !f.at.is_empty() {
            let mut s = format!("{t}.version_key IN ");
            placeholders(&mut s, params, &f.at);
            parts.push(s);
        }
        if parts.is_empty() {
            parts.push("0".to_owned());
        }
        sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
    }
}

impl ObjectReader for SqliteStore {
    fn query(&self, q: &ObjectQuery) -> Result<Page> {
        let mut items = Vec::with_capacity(q.limit.min(1024));
        let summary = self.query_each(q, &mut |r| items.push(r.to_stored()))?;
        Ok(Page {
            items,
            more: summary.more,
        })
    }

    fn query_each(
        &self,
        q: &ObjectQuery,
        each: &mut dyn FnMut(&ObjectRow<'_>),
    ) -> Result<PageSummary> {
        let conn = self.reader()?;
        let txn = match &q.collection {
            Some(_) => Some(ReadTxn::begin(&conn).ctx(&self.path)?),
            None => None,
        };
        let cid = match &q.collection {
            Some(c) => Some(
                resolve_collection(&conn, c)
                    .ctx(&self.path)?
                    .ok_or_else(|| StoreError::no_such_collection(c.clone()))?,
            ),
            None => None,
        };
        let limit = q.limit.min(MAX_LIMIT);
        let (sql, params) = page_sql(q, cid, limit);
        let summary = (|| -> rusqlite::Result<PageSummary> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(params))?;
            let mut summary = PageSummary::default();
            while let Some(r) = rows.next()? {
                if summary.count == limit {
                    summary.more = true;
                    break;
                }
                // Borrowed straight from SQLite's row buffer: no copy but the
                // caller's own.
                let text = |i: usize| r.get_ref(i).and_then(|v| Ok(v.as_str()?));
                let row = ObjectRow {
                    date_added: r.get(0)?,
                    id: text(1)?,
                    ty: text(2)?,
                    spec_version: text(3)?,
                    version: r.get_ref(4)?.as_str_or_null()?,
                    version_key: text(5)?,
                    revoked: r.get(6)?,
                    raw: text(7)?,
                };
                summary.saw(row.date_added);
                each(&row);
            }
            Ok(summary)
        })()
        .ctx(&self.path)?;
        if let Some(t) = txn {
            t.end().ctx(&self.path)?;
        }
        Ok(summary)
    }

    fn lookup_external_id(&self, external_id: &str) -> Result<Vec<String>> {
        let conn = self.reader()?;
        (|| -> rusqlite::Result<Vec<String>> {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT id FROM external_ids WHERE external_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([external_id], |r| r.get(0))?;
            rows.collect()
        })()
        .ctx(&self.path)
    }

    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(expr) = fts_query(text) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let conn = self.reader()?;
        (|| -> rusqlite::Result<Vec<SearchHit>> {
            let mut stmt = conn.prepare_cached(
                // Objects whose name or aliases match come first (`lazarus` must
                // find the group before the techniques whose text mentions it);
                // BM25 cannot be relied on for that with `detail=column`.
                "SELECT v.id, v.type, v.name, f.rank FROM fts f JOIN versions v ON v.date_added = f.rowid
                 WHERE fts MATCH ?1
                 ORDER BY f.rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?3), f.rank
                 LIMIT ?2",
            )?;
            let in_names = format!("{{name aliases}} : ({expr})");
            let rows = stmt.query_map(params![expr, i64::try_from(limit).unwrap_or(i64::MAX), in_names], |r| {
                Ok(SearchHit { id: r.get(0)?, ty: r.get(1)?, name: r.get(2)?, rank: r.get(3)? })
            })?;
            rows.collect()
        })()
        .ctx(&self.path)
    }

    fn stats(&self) -> Result<Stats> {
        let conn = self.reader()?;
        (|| -> rusqlite::Result<Stats> {
            let (objects, versions, revoked, collections): (i64, i64, i64, i64) = conn
                .prepare_cached(
                    "SELECT (SELECT count(*) FROM versions WHERE is_latest = 1),
                            (SELECT count(*) FROM versions),
                            (SELECT count(*) FROM versions WHERE is_latest = 1 AND revoked = 1),
                            (SELECT count(*) FROM collections)",
                )?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            let mut stmt = conn.prepare_cached(
                "SELECT type, count(*) FROM versions INDEXED BY versions_type_latest
                 WHERE is_latest = 1 GROUP BY type ORDER BY type",
            )?;
            let by_type = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.unsigned_abs()))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Stats {
                objects: objects.unsigned_abs(),
                versions: versions.unsigned_abs(),
                revoked: revoked.unsigned_abs(),
                collections: collections.unsigned_abs(),
                by_type,
            })
        })()
        .ctx(&self.path)
    }

    fn relationships_of(&self, id: &str) -> Result<Vec<String>> {
        let conn = self.reader()?;
        (|| -> rusqlite::Result<Vec<String>> {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM versions WHERE source_ref = ?1 AND is_latest = 1
                 UNION SELECT id FROM versions WHERE target_ref = ?1 AND is_latest = 1
                 ORDER BY 1",
            )?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect()
        })()
        .ctx(&self.path)
    }

    fn referrers_of(&self, id: &str, limit: usize) -> Result<Vec<String>> {
        let conn = self.reader()?;
        (|| -> rusqlite::Result<Vec<String>> {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT v.id FROM refs r JOIN versions v ON v.date_added = r.version
                 WHERE r.target = ?1 AND v.is_latest = 1 ORDER BY 1 LIMIT ?2",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![id, limit], |r| r.get(0))?;
            rows.collect()
        })()
        .ctx(&self.path)
    }

    fn check(&self) -> Result<Vec<String>> {
        SqliteStore::check(self)
    }
}

impl VersionReader for SqliteStore {
    fn versions(&self, id: &str, collection: Option<&str>) -> Result<Vec<StoredObject>> {
        let conn = self.reader()?;
        let txn = match collection {
            Some(_) => Some(ReadTxn::begin(&conn).ctx(&self.path)?),
            None => None,
        };
        let cid = match collection {
            Some(c) => Some(
                resolve_collection(&conn, c)
                    .ctx(&self.path)?
                    .ok_or_else(|| StoreError::no_such_collection(c.to_owned()))?,
            ),
            None => None,
        };
        let versions = (|| -> rusqlite::Result<Vec<StoredObject>> {
            match cid {
                None => {
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT v.date_added, {COLUMNS} FROM versions v INDEXED BY versions_id
                         WHERE v.id = ?1 ORDER BY v.version_key, v.date_added"
                    ))?;
                    let rows = stmt.query_map([id], stored)?;
                    rows.collect()
                }
                Some(cid) => {
                    let mut stmt = conn.prepare_cached(&versions_in_collection_sql())?;
                    let rows = stmt.query_map(params![cid, id], stored)?;
                    rows.collect()
                }
            }
        })()
        .ctx(&self.path)?;
        if let Some(t) = txn {
            t.end().ctx(&self.path)?;
        }
        Ok(versions)
    }
}

/// One read transaction around the statements of a collection read (resolve
/// the collection, then the page). Each statement outside a transaction is
/// its own read transaction, and each takes and drops SQLite's locks: two
/// `fcntl` on the database file and its WAL index, an `fstat`, a WAL read
/// mark. That was a seventh of the server's CPU for a TAXII GET by id (two
/// such statements per request; `perf`, issue 3 in BENCHMARKS.md). One
/// transaction also reads both statements from one snapshot.
///
/// Ended by [`ReadTxn::end`]; dropped without it (an error on the way), it
/// rolls back, so a pooled connection never keeps an old snapshot.
struct ReadTxn<'c> {
    conn: &'c Connection,
}

impl<'c> ReadTxn<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        conn.prepare_cached("BEGIN")?.execute([])?;
        Ok(ReadTxn { conn })
    }

    fn end(self) -> rusqlite::Result<()> {
        // Drop then finds the connection in autocommit mode and does nothing.
        self.conn.prepare_cached("COMMIT")?.execute([]).map(drop)
    }
}

impl Drop for ReadTxn<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            // Nothing was written: rolling back only ends the snapshot. On
            // failure the pool drops the connection (`Reader`: not autocommit).
            let _ = self
                .conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut s| s.execute([]));
        }
    }
}

/// The FTS5 query for user text: each word (a run of letters and digits) as
/// a quoted prefix term, all required. Quoting makes FTS5 syntax (`AND`, `*`,
/// `"`, `:`, `NEAR(`…) in the input plain text. `None` when there are no words.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" AND "))
    }
}

pub(crate) fn collections(
    conn: &Connection,
    id_or_alias: Option<&str>,
) -> rusqlite::Result<Vec<CollectionInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, title, description, alias, media_types FROM collections
         WHERE ?1 IS NULL OR id = ?1 OR alias = ?1 ORDER BY (id = ?1) DESC, title, id",
    )?;
    let rows = stmt.query_map([id_or_alias], |r| {
        let media: String = r.get(4)?;
        Ok(CollectionInfo {
            id: r.get(0)?,
            title: r.get(1)?,
            description: r.get(2)?,
            alias: r.get(3)?,
            media_types: serde_json::from_str(&media).unwrap_or_default(),
        })
    })?;
    rows.collect()
}

/// See [`SqliteStore::check`].
pub(crate) fn check(conn: &Connection, read_only: bool) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut collect =
        |sql: &str, what: &dyn Fn(&Row<'_>) -> rusqlite::Result<String>| -> rusqlite::Result<()> {
            let mut stmt = conn.prepare(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                problems.push(what(r)?);
            }
            Ok(())
        };
    collect("PRAGMA integrity_check", &|r| {
        let s: String = r.get(0)?;
        Ok(if s == "ok" {
            String::new()
        } else {
            format!("integrity: {s}")
        })
    })?;
    collect("PRAGMA foreign_key_check", &|r| {
        Ok(format!(
            "foreign key: row {} of {} has no parent in {}",
            r.get::<_, i64>(1)?,
            r.get::<_, String>(0)?,
            r.get::<_, String>(2)?
        ))
    })?;
    collect(
        "SELECT id, sum(is_latest), sum(is_first) FROM versions GROUP BY id
         HAVING sum(is_latest) != 1 OR sum(is_first) != 1 LIMIT 100",
        &|r| {
            Ok(format!(
                "{}: {} latest and {} first versions (want 1 each)",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?
            ))
        },
    )?;
    collect(
        "SELECT v.id FROM versions v WHERE (v.is_latest = 1 AND v.version_key !=
            (SELECT max(w.version_key) FROM versions w WHERE w.id = v.id))
         OR (v.is_first = 1 AND v.version_key != (SELECT min(w.version_key) FROM versions w WHERE w.id = v.id)) LIMIT 100",
        &|r| Ok(format!("{}: the latest/first flag is on the wrong version", r.get::<_, String>(0)?)),
    )?;
    // Variants (rows after the first arrival of their key) carry no
    // store-wide flag, and never repeat another row's bytes (those share it).
    collect(
        "SELECT v.id FROM versions v WHERE (v.is_latest = 1 OR v.is_first = 1) AND EXISTS
            (SELECT 1 FROM versions w INDEXED BY versions_id WHERE w.id = v.id
             AND w.version_key = v.version_key AND w.date_added < v.date_added) LIMIT 100",
        &|r| {
            Ok(format!(
                "{}: a later row of a version carries a store-wide latest/first flag",
                r.get::<_, String>(0)?
            ))
        },
    )?;
    collect(
        "SELECT a.id FROM versions a JOIN versions b INDEXED BY versions_id
            ON b.id = a.id AND b.version_key = a.version_key AND b.date_added > a.date_added
         WHERE b.raw = a.raw LIMIT 100",
        &|r| {
            Ok(format!(
                "{}: two rows of one version with the same bytes",
                r.get::<_, String>(0)?
            ))
        },
    )?;
    // One membership per key and collection (invariant 3).
    collect(
        "SELECT c.id, m.id FROM members m JOIN collections c USING (cid)
         GROUP BY m.cid, m.id, m.version_key HAVING count(*) > 1 LIMIT 100",
        &|r| {
            Ok(format!(
                "collection {}: {} holds two rows of one version",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        },
    )?;
    collect(
        "SELECT c.id, m.id, sum(m.is_latest), sum(m.is_first) FROM members m JOIN collections c USING (cid)
         GROUP BY m.cid, m.id HAVING sum(m.is_latest) != 1 OR sum(m.is_first) != 1 LIMIT 100",
        &|r| {
            Ok(format!(
                "collection {}: {} has {} latest and {} first memberships (want 1 each)",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?
            ))
        },
    )?;
    collect(
        "SELECT id FROM (SELECT id, version_key, is_latest, is_first,
                max(version_key) OVER w AS newest, min(version_key) OVER w AS oldest
                FROM members WINDOW w AS (PARTITION BY cid, id))
         WHERE (is_latest = 1 AND version_key != newest) OR (is_first = 1 AND version_key != oldest) LIMIT 100",
        &|r| Ok(format!("{}: a membership's latest/first flag is on the wrong version", r.get::<_, String>(0)?)),
    )?;
    collect(
        "SELECT m.id FROM members m JOIN versions v ON v.date_added = m.version
         WHERE m.id != v.id OR m.version_key != v.version_key OR m.type != v.type LIMIT 100",
        &|r| {
            Ok(format!(
                "{}: a membership points at another object's version",
                r.get::<_, String>(0)?
            ))
        },
    )?;
    collect(
        "SELECT (SELECT count(*) FROM fts),
                (SELECT count(*) FROM versions WHERE is_latest = 1 AND type NOT IN ('relationship', 'sighting')),
                (SELECT count(*) FROM fts f WHERE NOT EXISTS
                    (SELECT 1 FROM versions v WHERE v.date_added = f.rowid AND v.is_latest = 1
                     AND v.type NOT IN ('relationship', 'sighting')))",
        &|r| {
            let (f, l, stray): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(if f == l && stray == 0 {
                String::new()
            } else {
                format!("search index: {f} entries for {l} searchable latest versions, {stray} not one of them")
            })
        },
    )?;
    if !read_only {
        if let Err(e) = conn.execute("INSERT INTO fts (fts) VALUES ('integrity-check')", []) {
            problems.push(format!("search index: {e}"));
        }
    }
    problems.retain(|p| !p.is_empty());
    Ok(problems)
}
