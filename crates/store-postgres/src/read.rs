//! Reads: object queries (keyset pages), versions, external ids, search,
//! stats, collections, and the consistency check.
//!
//! Every page query is `WHERE <date_added> > cursor ... ORDER BY date_added
//! LIMIT n + 1`; the flag conditions are written exactly as the partial
//! indexes' predicates (`is_latest`, `is_first`) so the planner can use them.
//! Lists (ids, types, spec versions, version keys) are bound as arrays
//! (`= ANY($n)`), so each query shape is one prepared statement. No OFFSET.

use postgres::types::ToSql;
use postgres::Row;
use sightline_store::{
    CollectionInfo, ObjectQuery, ObjectReader, Page, Result, SearchHit, Stats, StoreError,
    StoredObject, VersionReader,
};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::write::resolve_collection;
use crate::{Conn, Ctx, PgStore};

/// The most items one page returns, whatever the query asks.
const MAX_LIMIT: usize = 100_000;

const COLUMNS: &str = "v.id, v.type, v.spec_version, v.version, v.version_key, v.revoked, v.raw";

/// Reads a row of `<date_added>, COLUMNS`.
fn stored(r: &Row) -> Result<StoredObject, postgres::Error> {
    Ok(StoredObject {
        date_added: r.try_get(0)?,
        id: r.try_get(1)?,
        ty: r.try_get(2)?,
        spec_version: r.try_get(3)?,
        version: r.try_get(4)?,
        version_key: r.try_get(5)?,
        revoked: r.try_get(6)?,
        raw: r.try_get(7)?,
    })
}

type Param = Box<dyn ToSql + Sync + Send>;

/// The spec version nearly every stored object has (the validator admits no
/// other, E104); `versions_spec` (V5) indexes only the others.
const COMMON_SPEC: &str = "2.1";

/// Builds the page query and its parameters.
///
/// A filter that matches nothing must cost an index probe, not a scan of the
/// collection (issue 12 §3). One type is `m.type = $n` (`members_type[_latest]`
/// serve it in order); several are one ordered, limited arm per type, merged,
/// since `type = ANY(...)` cannot be read in `date_added` order and the
/// planner would scan the collection for a rare type. Ids use `members_id`
/// (`versions_id` store-wide); spec versions other than 2.1 carry the
/// predicate of the partial `versions_spec`, so the planner can probe it.
pub(crate) fn page_sql(q: &ObjectQuery, cid: Option<i64>, limit: usize) -> (String, Vec<Param>) {
    let mut params: Vec<Param> = Vec::new();
    let lim = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut types: Vec<&String> = Vec::with_capacity(q.types.len());
    for t in &q.types {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.len() > 1 && types.len() <= sightline_store::MAX_TYPE_ARMS {
        let mut arms = Vec::with_capacity(types.len());
        for ty in types {
            let one = ObjectQuery {
                types: vec![ty.clone()],
                ..q.clone()
            };
            arms.push(format!("({})", arm(&one, cid, &mut params, lim)));
        }
        params.push(Box::new(lim));
        let sql = format!(
            "{} ORDER BY 1 LIMIT ${}",
            arms.join(" UNION ALL "),
            params.len()
        );
        return (sql, params);
    }
    let sql = arm(q, cid, &mut params, lim);
    (sql, params)
}

/// One page query (at most one type), its parameters appended to `params`.
fn arm(q: &ObjectQuery, cid: Option<i64>, params: &mut Vec<Param>, lim: i64) -> String {
    let f = &q.versions;
    let cursor = match (q.added_after, q.after) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => i64::MIN,
    };
    let mut p = |v: Param| {
        params.push(v);
        format!("${}", params.len())
    };
    let mut sql = String::with_capacity(400);
    // `t` is the table whose date_added orders the page and carries the flags.
    let t = if cid.is_some() { "m" } else { "v" };
    let rare_spec = !q.spec_versions.is_empty() && q.spec_versions.iter().all(|s| s != COMMON_SPEC);
    if let Some(cid) = cid {
        let (c, d) = (p(Box::new(cid)), p(Box::new(cursor)));
        // From rare versions to their memberships: `members_id` (there is no
        // index by version), which needs the id and key in the join.
        let by_key = if rare_spec {
            " AND m.id = v.id AND m.version_key = v.version_key"
        } else {
            ""
        };
        sql.push_str(&format!(
            "SELECT m.date_added, {COLUMNS} FROM members m
             JOIN versions v ON v.date_added = m.version{by_key}
             WHERE m.cid = {c} AND m.date_added > {d}"
        ));
    } else {
        let d = p(Box::new(cursor));
        sql.push_str(&format!(
            "SELECT v.date_added, {COLUMNS} FROM versions v WHERE v.date_added > {d}"
        ));
    }
    // One value is bound as `=`, so a (type, date_added) index can serve
    // the page in order; several as `= ANY(array)`.
    let mut any_of = |col: String, values: &[String], sql: &mut String| match values {
        [] => {}
        [one] => {
            let a = p(Box::new(one.clone()));
            sql.push_str(&format!(" AND {col} = {a}"));
        }
        many => {
            let a = p(Box::new(many.to_vec()));
            sql.push_str(&format!(" AND {col} = ANY({a})"));
        }
    };
    any_of(format!("{t}.id"), &q.ids, &mut sql);
    any_of(format!("{t}.type"), &q.types, &mut sql);
    any_of("v.spec_version".to_owned(), &q.spec_versions, &mut sql);
    if rare_spec {
        sql.push_str(&format!(" AND v.spec_version <> '{COMMON_SPEC}'"));
    }
    if !f.all {
        let mut parts = Vec::new();
        if f.last {
            parts.push(format!("{t}.is_latest"));
        }
        if f.first {
            parts.push(format!("{t}.is_first"));
        }
        if !f.at.is_empty() {
            let a = p(Box::new(f.at.clone()));
            parts.push(format!("{t}.version_key = ANY({a})"));
        }
        if parts.is_empty() {
            parts.push("false".to_owned());
        }
        if parts.len() == 1 {
            sql.push_str(&format!(" AND {}", parts[0]));
        } else {
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
    }
    let l = p(Box::new(lim));
    sql.push_str(&format!(" ORDER BY {t}.date_added LIMIT {l}"));
    sql
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl PgStore {
    fn resolve(&self, c: &mut Conn, id_or_alias: &str) -> Result<i64> {
        resolve_collection(c, id_or_alias)
            .ctx(self)?
            .ok_or_else(|| StoreError::no_such_collection(id_or_alias.to_owned()))
    }
}

impl ObjectReader for PgStore {
    fn query(&self, q: &ObjectQuery) -> Result<Page> {
        let mut c = self.conn()?;
        let cid = match &q.collection {
            Some(name) => Some(self.resolve(&mut c, name)?),
            None => None,
        };
        let limit = q.limit.min(MAX_LIMIT);
        let (sql, params) = page_sql(q, cid, limit);
        let rows = c.query(&sql, &refs(&params)).ctx(self)?;
        let mut items = rows
            .iter()
            .map(stored)
            .collect::<Result<Vec<_>, _>>()
            .ctx(self)?;
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }

    fn lookup_external_id(&self, external_id: &str) -> Result<Vec<String>> {
        let mut c = self.conn()?;
        // Stored so (`crate::nul_free`): PostgreSQL text has no NUL.
        let key = crate::nul_free(&external_id.to_ascii_lowercase()).into_owned();
        let rows = c
            .query(
                "SELECT DISTINCT id FROM external_ids WHERE external_id = $1 ORDER BY id",
                &[&key],
            )
            .ctx(self)?;
        rows.iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .ctx(self)
    }

    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(tsq) = ts_query(text) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut c = self.conn()?;
        // Objects whose name or aliases match come first (`lazarus` must find
        // the group before the objects whose description mentions it), then by
        // rank. The rank is negated: lower is better, as the trait says.
        let rows = c
            .query(
                "SELECT v.id, v.type, v.name, (-ts_rank(v.search_all, q))::float8
                 FROM versions v, to_tsquery('simple', $1) q
                 WHERE v.search_all @@ q
                 ORDER BY NOT coalesce(v.search_names @@ q, false), ts_rank(v.search_all, q) DESC, v.date_added
                 LIMIT $2",
                &[&tsq, &limit],
            )
            .ctx(self)?;
        rows.iter()
            .map(|r| {
                Ok(SearchHit {
                    id: r.try_get(0)?,
                    ty: r.try_get(1)?,
                    name: r.try_get(2)?,
                    rank: r.try_get(3)?,
                })
            })
            .collect::<Result<_, postgres::Error>>()
            .ctx(self)
    }

    fn stats(&self) -> Result<Stats> {
        let mut c = self.conn()?;
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM versions WHERE is_latest),
                        (SELECT count(*) FROM versions),
                        (SELECT count(*) FROM versions WHERE is_latest AND revoked),
                        (SELECT count(*) FROM collections)",
                &[],
            )
            .ctx(self)?;
        let n = |i: usize| -> Result<u64> { Ok(r.try_get::<_, i64>(i).ctx(self)?.unsigned_abs()) };
        let (objects, versions, revoked, collections) = (n(0)?, n(1)?, n(2)?, n(3)?);
        let by_type = c
            .query(
                "SELECT type, count(*) FROM versions WHERE is_latest GROUP BY type ORDER BY type",
                &[],
            )
            .ctx(self)?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)?.unsigned_abs())))
            .collect::<Result<_, postgres::Error>>()
            .ctx(self)?;
        Ok(Stats {
            objects,
            versions,
            revoked,
            collections,
            by_type,
        })
    }

    fn relationships_of(&self, id: &str) -> Result<Vec<String>> {
        let mut c = self.conn()?;
        let rows = c
            .query(
                "SELECT id FROM versions WHERE source_ref = $1 AND source_ref IS NOT NULL AND is_latest
                 UNION SELECT id FROM versions WHERE target_ref = $1 AND target_ref IS NOT NULL AND is_latest
                 ORDER BY 1",
                &[&id],
            )
            .ctx(self)?;
        rows.iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .ctx(self)
    }

    fn referrers_of(&self, id: &str, limit: usize) -> Result<Vec<String>> {
        let mut c = self.conn()?;
        // Stored so (`crate::nul_free`): PostgreSQL text has no NUL.
        let key = crate::nul_free(id).into_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT DISTINCT v.id FROM refs r JOIN versions v ON v.date_added = r.version
                 WHERE r.target = $1 AND v.is_latest ORDER BY 1 LIMIT $2",
                &[&key, &limit],
            )
            .ctx(self)?;
        rows.iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .ctx(self)
    }

    fn check(&self) -> Result<Vec<String>> {
        let mut c = self.conn()?;
        check(&mut c).ctx(self)
    }
}

impl VersionReader for PgStore {
    fn versions(&self, id: &str, collection: Option<&str>) -> Result<Vec<StoredObject>> {
        if id.contains('\0') {
            // Never stored (PostgreSQL text has no NUL); the collection must still exist.
            if let Some(coll) = collection {
                let mut c = self.conn()?;
                self.resolve(&mut c, coll)?;
            }
            return Ok(Vec::new());
        }
        let mut c = self.conn()?;
        let rows = match collection {
            None => c
                .query(
                    &format!(
                        "SELECT v.date_added, {COLUMNS} FROM versions v WHERE v.id = $1
                         ORDER BY v.version_key, v.date_added"
                    ),
                    &[&id],
                )
                .ctx(self)?,
            Some(name) => {
                let cid = self.resolve(&mut c, name)?;
                c.query(
                    &format!(
                        "SELECT m.date_added, {COLUMNS} FROM members m JOIN versions v ON v.date_added = m.version
                         WHERE m.cid = $1 AND m.id = $2 ORDER BY m.version_key"
                    ),
                    &[&cid, &id],
                )
                .ctx(self)?
            }
        };
        rows.iter().map(stored).collect::<Result<_, _>>().ctx(self)
    }
}

/// Text for a tsvector or a tsquery: canonical decomposition without
/// combining marks (`Évasion` → `Evasion`), as SQLite's `remove_diacritics`,
/// and every character that is not a letter or digit made a space, so words
/// are runs of letters and digits as in SQLite's `unicode61` (PostgreSQL's
/// parser would otherwise keep `T1059.001` or `e.org` as one token, and
/// `001` would not find it). Lowercasing is left to the `simple` configuration.
pub(crate) fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect()
}

/// The tsquery for user text: each word (a run of letters and digits),
/// folded, as a quoted prefix term, all required. Quoting makes tsquery syntax
/// in the input (`&`, `|`, `!`, `:`, `(`…) plain text; words contain no quote.
/// `None` when there are no words.
pub(crate) fn ts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("'{}':*", fold(w).replace('\'', "''").replace('\\', "\\\\")))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" & "))
    }
}

pub(crate) fn collections(
    c: &mut Conn,
    id_or_alias: Option<&str>,
) -> Result<Vec<CollectionInfo>, postgres::Error> {
    let rows = c.query(
        "SELECT id, title, description, alias, media_types FROM collections
         WHERE $1::text IS NULL OR id = $1 OR alias = $1
         ORDER BY (id = $1) IS TRUE DESC, title, id",
        &[&id_or_alias],
    )?;
    rows.iter()
        .map(|r| {
            let media: String = r.try_get(4)?;
            Ok(CollectionInfo {
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                description: r.try_get(2)?,
                alias: r.try_get(3)?,
                media_types: serde_json::from_str(&media).unwrap_or_default(),
            })
        })
        .collect()
}

/// The latest/first flags (exactly one of each per object and per collection
/// membership, on the right version), memberships pointing at the right
/// version, and the search vectors (set on exactly the searchable latest
/// versions). One message per problem; empty means healthy.
pub(crate) fn check(c: &mut Conn) -> Result<Vec<String>, postgres::Error> {
    let mut problems = Vec::new();
    for r in c.query(
        "SELECT id, count(*) FILTER (WHERE is_latest), count(*) FILTER (WHERE is_first)
         FROM versions GROUP BY id
         HAVING count(*) FILTER (WHERE is_latest) != 1 OR count(*) FILTER (WHERE is_first) != 1
         LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "{}: {} latest and {} first versions (want 1 each)",
            r.try_get::<_, String>(0)?,
            r.try_get::<_, i64>(1)?,
            r.try_get::<_, i64>(2)?
        ));
    }
    for r in c.query(
        "SELECT v.id FROM versions v WHERE (v.is_latest AND v.version_key !=
            (SELECT max(w.version_key) FROM versions w WHERE w.id = v.id))
         OR (v.is_first AND v.version_key != (SELECT min(w.version_key) FROM versions w WHERE w.id = v.id))
         LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "{}: the latest/first flag is on the wrong version",
            r.try_get::<_, String>(0)?
        ));
    }
    // Variants (rows after the first arrival of their key) carry no
    // store-wide flag, and never repeat another row's bytes (those share it).
    for r in c.query(
        "SELECT v.id FROM versions v WHERE (v.is_latest OR v.is_first) AND EXISTS
            (SELECT 1 FROM versions w WHERE w.id = v.id AND w.version_key = v.version_key
             AND w.date_added < v.date_added) LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "{}: a later row of a version carries a store-wide latest/first flag",
            r.try_get::<_, String>(0)?
        ));
    }
    for r in c.query(
        "SELECT a.id FROM versions a JOIN versions b ON b.id = a.id
            AND b.version_key = a.version_key AND b.date_added > a.date_added
         WHERE b.raw = a.raw LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "{}: two rows of one version with the same bytes",
            r.try_get::<_, String>(0)?
        ));
    }
    for r in c.query(
        "SELECT c.id, m.id, count(*) FILTER (WHERE m.is_latest), count(*) FILTER (WHERE m.is_first)
         FROM members m JOIN collections c USING (cid)
         GROUP BY c.id, m.cid, m.id
         HAVING count(*) FILTER (WHERE m.is_latest) != 1 OR count(*) FILTER (WHERE m.is_first) != 1
         LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "collection {}: {} has {} latest and {} first memberships (want 1 each)",
            r.try_get::<_, String>(0)?,
            r.try_get::<_, String>(1)?,
            r.try_get::<_, i64>(2)?,
            r.try_get::<_, i64>(3)?
        ));
    }
    for r in c.query(
        "SELECT m.id FROM members m WHERE (m.is_latest AND m.version_key !=
            (SELECT max(n.version_key) FROM members n WHERE n.cid = m.cid AND n.id = m.id))
         OR (m.is_first AND m.version_key !=
            (SELECT min(n.version_key) FROM members n WHERE n.cid = m.cid AND n.id = m.id))
         LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "{}: a membership's latest/first flag is on the wrong version",
            r.try_get::<_, String>(0)?
        ));
    }
    for r in c.query(
        "SELECT m.id FROM members m JOIN versions v ON v.date_added = m.version
         WHERE m.id != v.id OR m.version_key != v.version_key OR m.type != v.type LIMIT 100",
        &[],
    )? {
        problems.push(format!(
            "{}: a membership points at another object's version",
            r.try_get::<_, String>(0)?
        ));
    }
    let r = c.query_one(
        "SELECT (SELECT count(*) FROM versions WHERE search_all IS NOT NULL),
                (SELECT count(*) FROM versions WHERE is_latest AND type NOT IN ('relationship', 'sighting')),
                (SELECT count(*) FROM versions WHERE search_all IS NOT NULL
                    AND NOT (is_latest AND type NOT IN ('relationship', 'sighting')))",
        &[],
    )?;
    let (f, l, stray): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    if f != l || stray != 0 {
        problems.push(format!(
            "search index: {f} entries for {l} searchable latest versions, {stray} not one of them"
        ));
    }
    let r = c.query_one(
        "SELECT (SELECT value FROM meta WHERE key = 'date_added_high'),
                greatest((SELECT max(date_added) FROM versions), (SELECT max(date_added) FROM members))",
        &[],
    )?;
    let (high, max): (Option<i64>, Option<i64>) = (r.try_get(0)?, r.try_get(1)?);
    if let (Some(h), Some(m)) = (high, max) {
        if m > h {
            problems.push(format!(
                "clock: a stored date_added ({m}) is above the recorded high ({h}); new values could collide"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_query_quotes_and_folds() {
        assert_eq!(ts_query("  "), None);
        assert_eq!(
            ts_query("Lazarus grp").as_deref(),
            Some("'Lazarus':* & 'grp':*")
        );
        assert_eq!(ts_query("détectée").as_deref(), Some("'detectee':*"));
        assert_eq!(
            ts_query("a'b&c|!d").as_deref(),
            Some("'a':* & 'b':* & 'c':* & 'd':*")
        );
    }

    /// Filters that match nothing (TAXII 2.1 §3.4.1 `match[type]`,
    /// `match[id]`, `match[spec_version]`) must not read the collection
    /// (issue 12 §3): on 2,000 objects, each such page reads and discards at
    /// most a handful of rows, by its plan as executed. Needs PostgreSQL (`sightline_testkit::pg`).
    #[test]
    fn empty_filters_read_no_collection() {
        use sightline_store::conformance::{sdo, sid};
        use sightline_store::{CollectionStore, ObjectWriter, VersionFilter};
        let db = sightline_testkit::pg::TestDb::new("empty_filters");
        let s = crate::PgStore::open(db.url()).expect("open");
        s.create_collection(&CollectionInfo {
            id: "0e1d2c3b-4a59-4687-8a9b-0c1d2e3f4a5b".into(),
            title: "Big".into(),
            description: None,
            alias: Some("big".into()),
            media_types: vec![],
        })
        .expect("collection");
        let mut t = s.begin().expect("begin");
        for n in 0..2000 {
            t.put(&sdo("indicator", n, 1), Some("big")).expect("put");
        }
        // Elsewhere in the store: a type, an id and a spec version that the
        // collection does not hold must not make its pages scan either.
        t.put(&sdo("tool", 1, 1), None).expect("put");
        t.commit().expect("commit");
        let mut c = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
        c.batch_execute("ANALYZE").expect("analyze");
        let cid: i64 = c
            .query_one("SELECT cid FROM collections", &[])
            .expect("cid")
            .get(0);
        let shapes = [
            ObjectQuery {
                types: vec!["x-nothing".into()],
                ..ObjectQuery::default()
            },
            ObjectQuery {
                types: vec!["tool".into()],
                ..ObjectQuery::default()
            },
            ObjectQuery {
                types: vec!["tool".into(), "x-nothing".into()],
                ..ObjectQuery::default()
            },
            ObjectQuery {
                ids: vec![sid("indicator", 999_999)],
                ..ObjectQuery::default()
            },
            ObjectQuery {
                ids: vec![sid("tool", 1), sid("x", 2)],
                ..ObjectQuery::default()
            },
            ObjectQuery {
                spec_versions: vec!["2.0".into()],
                ..ObjectQuery::default()
            },
        ];
        for q in shapes {
            for versions in [VersionFilter::last(), VersionFilter::all()] {
                for cid in [Some(cid), None] {
                    let q = ObjectQuery {
                        versions: versions.clone(),
                        ..q.clone()
                    };
                    let (sql, params) = page_sql(&q, cid, 100);
                    let plan: Vec<String> = c
                        .query(
                            &format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}"),
                            &refs(&params),
                        )
                        .expect("explain")
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    let plan = plan.join("\n");
                    let discarded: u64 = plan
                        .lines()
                        .filter_map(|l| l.trim().strip_prefix("Rows Removed by Filter: "))
                        .map(|n| n.trim().parse::<u64>().unwrap_or(u64::MAX))
                        .sum();
                    assert!(!plan.contains("Seq Scan"), "{q:?} in {cid:?}:\n{plan}");
                    assert!(discarded < 10, "{q:?} in {cid:?}:\n{plan}");
                }
            }
        }
    }
}
