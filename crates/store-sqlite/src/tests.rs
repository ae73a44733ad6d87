//! SQLite-only behaviour: persistence, the clock across restarts, errors on
//! read-only and full disks, schema versions.

use std::path::Path;

use sightline_store::conformance::{sdo, sid};
use sightline_store::{
    CollectionInfo, CollectionStore, ObjectQuery, ObjectReader, ObjectWriter, PutOutcome,
    StoreError, VersionFilter, VersionReader,
};

use crate::{SqliteStore, DB_FILE};

fn all(s: &SqliteStore) -> Vec<sightline_store::StoredObject> {
    s.query(&ObjectQuery {
        versions: VersionFilter::all(),
        limit: 100_000,
        ..ObjectQuery::default()
    })
    .expect("query")
    .items
}

fn put(s: &SqliteStore, n: u64, m: u32, coll: Option<&str>) -> PutOutcome {
    let mut t = s.begin().expect("begin");
    let o = t.put(&sdo("malware", n, m), coll).expect("put");
    t.commit().expect("commit");
    o
}

/// A collection `feed` (alias) with this id.
fn feed(id: &str) -> CollectionInfo {
    CollectionInfo {
        id: id.into(),
        title: "Feed".into(),
        description: None,
        alias: Some("feed".into()),
        media_types: vec!["application/stix+json;version=2.1".into()],
    }
}

/// A store in `dir` with collection `feed` (id `coll`).
fn open_with_feed(dir: &Path, coll: &str) -> SqliteStore {
    let s = SqliteStore::open(dir).expect("open");
    s.create_collection(&feed(coll)).expect("collection");
    s
}

fn date(o: PutOutcome) -> i64 {
    match o {
        PutOutcome::Added { date_added } | PutOutcome::Duplicate { date_added } => date_added,
        PutOutcome::Conflict => panic!("unexpected conflict"),
    }
}

#[test]
fn data_and_clock_survive_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    let sub = dir.path().join("not/yet/there");
    let coll = feed("6f0b7a4e-4c3d-4b8e-9a55-0c1f2d3e4f50");
    let (before, last) = {
        let s = SqliteStore::open(&sub).expect("open creates the directory");
        s.create_collection(&coll).expect("collection");
        put(&s, 1, 1, None);
        put(&s, 1, 2, Some("feed"));
        let last = date(put(&s, 2, 1, Some("feed")));
        let mut t = s.begin().expect("begin");
        t.remove_from_collection("feed", &sid("malware", 2), &[])
            .expect("remove");
        t.commit().expect("commit");
        (all(&s), last)
    };
    assert!(sub.join(DB_FILE).exists());
    let s = SqliteStore::open(&sub).expect("reopen");
    assert_eq!(all(&s), before);
    assert_eq!(s.collection("feed").expect("get"), Some(coll));
    assert_eq!(
        s.versions(&sid("malware", 1), Some("feed"))
            .expect("versions")
            .len(),
        1
    );
    // The clock starts after the highest value ever handed out, including the
    // removed membership's.
    let d = date(put(&s, 3, 1, None));
    assert!(d > last, "{d} <= {last}");
    assert!(matches!(put(&s, 1, 1, None), PutOutcome::Duplicate { .. }));
    assert!(s.check().expect("check").is_empty());
}

#[test]
fn clock_never_goes_back_even_if_wall_clock_does() {
    let dir = tempfile::tempdir().expect("tmp");
    let future = {
        let s = SqliteStore::open(dir.path()).expect("open");
        put(&s, 1, 1, None);
        // Pretend a value far in the future was handed out (a clock that stepped back since).
        let w = s.lock_writer();
        w.execute(
            "UPDATE versions SET date_added = date_added + 3600000000000",
            [],
        )
        .expect("shift");
        drop(w);
        all(&s)[0].date_added
    };
    let s = SqliteStore::open(dir.path()).expect("reopen");
    assert!(date(put(&s, 2, 1, None)) > future);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    drop(SqliteStore::open(dir.path()).expect("open"));
    {
        let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw open");
        c.pragma_update(None, "user_version", 999).expect("bump");
    }
    match SqliteStore::open(dir.path()) {
        Err(StoreError::Corrupt { message: m, .. }) => {
            assert!(m.contains("999") && m.contains(DB_FILE), "{m}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(matches!(
        SqliteStore::open_read_only(dir.path()),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join(DB_FILE), vec![0x5a; 65536]).expect("write junk");
    match SqliteStore::open(dir.path()) {
        Err(StoreError::Corrupt { message: m, .. }) => assert!(m.contains(DB_FILE), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn full_disk_is_a_clear_error_and_keeps_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    put(&s, 1, 1, None);
    let before = all(&s);
    let pages: u64 = s
        .lock_writer()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    s.set_max_pages(pages + 2).expect("limit");
    let mut t = s.begin().expect("begin");
    let mut err = None;
    for n in 10..5000 {
        let mut o = sdo("malware", n, 1);
        o.raw = format!(
            "{}{}",
            &o.raw[..o.raw.len() - 1],
            format_args!(",\"x_pad\":\"{}\"}}", "p".repeat(4000))
        );
        if let Err(e) = t.put(&o, None) {
            err = Some(e);
            break;
        }
    }
    drop(t);
    match err {
        Some(StoreError::NoSpace { message: m, source }) => {
            assert!(m.contains(DB_FILE), "{m}");
            // The driver's error is kept as the cause, for code to inspect.
            let cause = source.expect("a cause");
            let e = cause.downcast_ref::<rusqlite::Error>().expect("rusqlite's");
            assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull));
        }
        other => panic!("expected NoSpace, got {other:?}"),
    }
    assert_eq!(all(&s), before);
    // Usable again once there is room.
    s.set_max_pages(1 << 30).expect("unlimit");
    put(&s, 2, 1, None);
    assert_eq!(all(&s).len(), 2);
    assert!(s.check().expect("check").is_empty());
}

/// Whether this process ignores file permissions (root): chmod tests then
/// cannot make a directory read-only.
fn permissions_bypassed(dir: &Path) -> bool {
    std::fs::write(dir.join("probe"), b"x").is_ok()
}

#[test]
fn read_only_store_is_a_clear_error_and_keeps_data() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let before = {
        let s = SqliteStore::open(dir.path()).expect("open");
        put(&s, 1, 1, None);
        all(&s)
    };
    // Opened read-only: reads work, writes fail clearly.
    {
        let s = SqliteStore::open_read_only(dir.path()).expect("open read-only");
        assert_eq!(all(&s), before);
        match s.begin().map(|_| ()) {
            Err(StoreError::NoSpace { message: m, .. }) => assert!(m.contains(DB_FILE), "{m}"),
            other => panic!("expected NoSpace, got {other:?}"),
        }
        assert!(s.check().expect("check").is_empty());
    }
    // A read-only directory and file (where permissions apply).
    let ro = std::fs::Permissions::from_mode(0o555);
    std::fs::set_permissions(
        dir.path().join(DB_FILE),
        std::fs::Permissions::from_mode(0o444),
    )
    .expect("chmod");
    std::fs::set_permissions(dir.path(), ro).expect("chmod");
    if !permissions_bypassed(dir.path()) {
        let r = SqliteStore::open(dir.path()).and_then(|s| {
            let mut t = s.begin()?;
            t.put(&sdo("malware", 2, 1), None)?;
            t.commit()
        });
        match r {
            Err(StoreError::NoSpace { message: m, .. } | StoreError::Io { message: m, .. }) => {
                assert!(m.contains("sightline"), "{m}")
            }
            other => panic!("expected NoSpace or Io, got {other:?}"),
        }
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        dir.path().join(DB_FILE),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let s = SqliteStore::open(dir.path()).expect("reopen");
    assert_eq!(all(&s), before);
}

#[test]
fn uncreatable_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    match SqliteStore::open(&file.join("sub")) {
        Err(StoreError::Io { message: m, source } | StoreError::NoSpace { message: m, source }) => {
            assert!(m.contains("a-file"), "{m}");
            let cause = source.expect("a cause");
            assert!(
                cause.downcast_ref::<std::io::Error>().is_some(),
                "{cause:?}"
            );
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn second_writer_waits_then_proceeds() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = std::sync::Arc::new(SqliteStore::open(dir.path()).expect("open"));
    let mut t = s.begin().expect("begin");
    t.put(&sdo("malware", 1, 1), None).expect("put");
    let s2 = s.clone();
    let h = std::thread::spawn(move || date(put(&s2, 2, 1, None)));
    std::thread::sleep(std::time::Duration::from_millis(50));
    t.commit().expect("commit");
    let d2 = h.join().expect("join");
    assert!(d2 > all(&s)[0].date_added);
    assert_eq!(all(&s).len(), 2);
}

#[test]
fn page_plans_are_range_scans() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    let conn = s.lock_writer();
    for (q, cid) in [
        (ObjectQuery::default(), None),
        (
            ObjectQuery {
                versions: VersionFilter::all(),
                ..ObjectQuery::default()
            },
            None,
        ),
        (
            ObjectQuery {
                types: vec!["malware".into()],
                ..ObjectQuery::default()
            },
            None,
        ),
        (ObjectQuery::default(), Some(1)),
        (
            ObjectQuery {
                versions: VersionFilter::all(),
                ..ObjectQuery::default()
            },
            Some(1),
        ),
    ] {
        let plan = plan_of(&conn, &q, cid);
        assert!(!plan.contains("TEMP B-TREE"), "page query sorts: {plan}");
        assert!(
            plan.contains("date_added>?") || plan.contains("rowid>?"),
            "not a range scan: {plan}"
        );
    }
}

/// The plan of a page query, one step per line.
fn plan_of(conn: &rusqlite::Connection, q: &ObjectQuery, cid: Option<i64>) -> String {
    let (sql, params) = crate::read::page_sql(q, cid, 10);
    plan_of_sql(conn, &sql, Some(params))
}

/// The plan of `sql`, one step per line, with `params` bound (`None`: each
/// parameter a text; the plan does not depend on the values, see `open_conn`).
fn plan_of_sql(
    conn: &rusqlite::Connection,
    sql: &str,
    params: Option<Vec<rusqlite::types::Value>>,
) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("prepare");
    let params = params
        .unwrap_or_else(|| vec![rusqlite::types::Value::Text("x".into()); stmt.parameter_count()]);
    let plan: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .expect("plan")
        .collect::<Result<_, _>>()
        .expect("rows");
    plan.join("; ")
}

/// GET one object (TAXII 2.1 §5.6, latest version by default) is at most one
/// row: its query must not build a temporary B-tree to sort it (issue 3:
/// a tenth of a GET by id). Several versions, or several ids, still sort.
#[test]
fn one_id_latest_or_first_pages_do_not_sort() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    let conn = s.lock_writer();
    let one = |versions: VersionFilter| ObjectQuery {
        ids: vec![sid("malware", 1)],
        versions,
        ..ObjectQuery::default()
    };
    let first = VersionFilter {
        first: true,
        last: false,
        ..VersionFilter::last()
    };
    for cid in [None, Some(1)] {
        for q in [one(VersionFilter::last()), one(first.clone())] {
            let plan = plan_of(&conn, &q, cid);
            assert!(!plan.contains("TEMP B-TREE"), "sorts one row: {plan}");
            assert!(plan.contains("id=?"), "not an id lookup: {plan}");
        }
        let many_versions = one(VersionFilter::all());
        let many_ids = ObjectQuery {
            ids: vec![sid("malware", 1), sid("malware", 2)],
            ..ObjectQuery::default()
        };
        for q in [many_versions, many_ids] {
            let plan = plan_of(&conn, &q, cid);
            assert!(
                plan.contains("TEMP B-TREE FOR ORDER BY"),
                "unsorted: {plan}"
            );
        }
    }
}

/// The answers of the unsorted one-row query: the latest (or first) version
/// of the one id, in and outside a collection, whose membership order
/// differs from the version order.
#[test]
fn one_id_pages_answer_the_right_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = open_with_feed(dir.path(), "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98");
    // Version 3 joins the collection before version 2; another id beside it.
    put(&s, 1, 3, Some("feed"));
    put(&s, 1, 2, Some("feed"));
    put(&s, 1, 1, None);
    put(&s, 2, 1, Some("feed"));
    let page = |collection: Option<&str>, versions: VersionFilter| {
        s.query(&ObjectQuery {
            collection: collection.map(Into::into),
            ids: vec![sid("malware", 1)],
            versions,
            limit: 10,
            ..ObjectQuery::default()
        })
        .expect("query")
        .items
        .into_iter()
        .map(|o| o.version.unwrap_or_default())
        .collect::<Vec<_>>()
    };
    let first = VersionFilter {
        first: true,
        last: false,
        ..VersionFilter::last()
    };
    let v = |m: u32| sightline_store::conformance::ts(m);
    assert_eq!(page(Some("feed"), VersionFilter::last()), vec![v(3)]);
    assert_eq!(page(Some("feed"), first.clone()), vec![v(2)]);
    assert_eq!(page(None, VersionFilter::last()), vec![v(3)]);
    assert_eq!(page(None, first), vec![v(1)]);
    // All versions still come in date_added order (membership order here).
    assert_eq!(page(Some("feed"), VersionFilter::all()), vec![v(3), v(2)]);
}

/// A server and the CLI are two handles (two processes) on one store: a user
/// removed through one must show as a new generation through the other.
#[test]
fn accounts_generation_is_seen_by_another_handle() {
    use sightline_store::{AccountStore, User};
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SqliteStore::open(dir.path()).expect("open");
    let cli = SqliteStore::open(dir.path()).expect("open again");
    let g0 = server.accounts_generation().expect("generation");
    cli.add_user(&User {
        name: "bob".into(),
        password_hash: "$argon2id$v=19$x".into(),
        groups: vec!["g".into()],
        admin: false,
    })
    .expect("add");
    let g1 = server.accounts_generation().expect("generation");
    assert_ne!(g0, g1);
    assert_eq!(
        server.user("bob").expect("user").map(|u| u.groups),
        Some(vec!["g".to_owned()])
    );
    assert!(cli.remove_user("bob").expect("remove"));
    assert_ne!(server.accounts_generation().expect("generation"), g1);
    drop((server, cli));
    // Reopening keeps the schema at V2 and the counter.
    let again = SqliteStore::open(dir.path()).expect("reopen");
    assert!(again.accounts_generation().expect("generation") >= 2);
    assert!(again.check().expect("check").is_empty());
}

/// A name match outranks a mention in a long description.
#[test]
fn search_ranks_names_before_descriptions() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    let mk = |ty: &str, id: &str, name: &str, desc: &str| {
        let v = serde_json::json!({"type": ty, "spec_version": "2.1", "id": id,
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": name, "description": desc});
        sightline_store::NewObject {
            meta: sightline_stix::ObjectMeta::extract(&v).expect("meta"),
            raw: v.to_string(),
        }
    };
    let mut t = s.begin().expect("begin");
    for i in 0..5 {
        let id = format!("attack-pattern--{i:08x}-0000-4000-8000-000000000000");
        t.put(
            &mk(
                "attack-pattern",
                &id,
                "Drive-by",
                "Lazarus used it. Lazarus again.",
            ),
            None,
        )
        .expect("put");
    }
    // Unrelated objects, as in any real store (BM25's IDF is ~0 when every
    // document matches).
    for i in 0..20 {
        let id = format!("malware--{i:08x}-0000-4000-8000-000000000000");
        t.put(&mk("malware", &id, "Other", "Nothing to see."), None)
            .expect("put");
    }
    let group = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a";
    let long = "A group with a long history of operations ".repeat(20);
    t.put(&mk("intrusion-set", group, "Lazarus Group", &long), None)
        .expect("put");
    t.commit().expect("commit");
    let hits = s.search("lazarus", 10).expect("search");
    assert_eq!(hits.len(), 6);
    assert_eq!(hits[0].id, group, "{hits:?}");
}

#[test]
fn new_store_uses_8k_pages_and_a_txn_cache_that_shrinks_for_bulk_loads() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    let pragma = |name: &str| -> i64 {
        s.lock_writer()
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .expect("pragma")
    };
    assert_eq!(pragma("page_size"), 8192);
    // The cache a transaction ran with stays set until the next begins.
    put(&s, 0, 1, None);
    assert_eq!(pragma("cache_size"), -65536, "TXN_CACHE");
    let mut t = s.begin().expect("begin");
    for n in 0..crate::BULK_PUTS as u64 {
        t.put(&sdo("malware", n, 2), None).expect("put");
    }
    t.commit().expect("commit");
    assert_eq!(pragma("cache_size"), -16384, "BULK_CACHE after a bulk load");
    put(&s, 0, 3, None);
    assert_eq!(pragma("cache_size"), -65536, "small again");
}

#[test]
fn new_ids_and_known_ids_get_their_memberships() {
    // A brand-new id skips the membership lookup (`put_inner`); an id known
    // in the store but new to the collection, or a newer version, must not.
    let dir = tempfile::tempdir().expect("tmp");
    let s = open_with_feed(dir.path(), "6f0b7a4e-4c3d-4b8e-9a55-0c1f2d3e4f51");
    assert!(matches!(put(&s, 1, 1, None), PutOutcome::Added { .. }));
    // Known version, new to the collection: a membership with its own date.
    let v1 = date(put(&s, 1, 1, None));
    let m1 = date(put(&s, 1, 1, Some("feed")));
    assert!(m1 > v1);
    assert!(matches!(
        put(&s, 1, 1, Some("feed")),
        PutOutcome::Duplicate { .. }
    ));
    // Brand-new id straight into the collection, then a newer version.
    assert!(matches!(
        put(&s, 2, 1, Some("feed")),
        PutOutcome::Added { .. }
    ));
    assert!(matches!(
        put(&s, 2, 2, Some("feed")),
        PutOutcome::Added { .. }
    ));
    let latest = s
        .query(&ObjectQuery {
            collection: Some("feed".into()),
            limit: 100,
            ..ObjectQuery::default()
        })
        .expect("query")
        .items;
    let keys: Vec<(String, String)> = latest
        .iter()
        .map(|o| (o.id.clone(), o.version_key.clone()))
        .collect();
    assert_eq!(keys.len(), 2, "one latest membership per id: {keys:?}");
    assert!(s.check().expect("check").is_empty());
}

/// A collection read is one explicit read transaction (`read::ReadTxn`):
/// whether it succeeds or fails, the pooled connection must come back in
/// autocommit mode, or it would keep serving its old snapshot and never see
/// later writes.
#[test]
fn collection_reads_end_their_transaction() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = open_with_feed(dir.path(), "0d6e3c1a-5b2f-4a7e-8c9d-1e2f3a4b5c6d");
    put(&s, 1, 1, Some("feed"));
    let page = |collection: &str| {
        s.query(&ObjectQuery {
            collection: Some(collection.into()),
            limit: 100,
            ..ObjectQuery::default()
        })
    };
    let pooled_idle = || {
        let pool = s.readers.lock().expect("pool");
        assert_eq!(pool.len(), 1, "one reader, reused");
        pool.iter().all(rusqlite::Connection::is_autocommit)
    };
    assert_eq!(page("feed").expect("page").items.len(), 1);
    assert!(pooled_idle(), "after a page");
    assert!(matches!(
        page("nope"),
        Err(StoreError::NoSuchCollection { id: c }) if c == "nope"
    ));
    assert!(pooled_idle(), "after an unknown collection");
    assert_eq!(
        s.versions(&sid("malware", 1), Some("feed"))
            .expect("versions")
            .len(),
        1
    );
    assert!(matches!(
        s.versions(&sid("malware", 1), Some("nope")),
        Err(StoreError::NoSuchCollection { .. })
    ));
    assert!(pooled_idle(), "after versions");
    // Later writes are seen: no read kept its snapshot.
    put(&s, 2, 1, Some("feed"));
    put(&s, 1, 2, Some("feed"));
    assert_eq!(page("feed").expect("page").items.len(), 2);
    assert_eq!(
        s.versions(&sid("malware", 1), Some("feed"))
            .expect("versions")
            .len(),
        2
    );
}

/// Memberships by id have no index by (collection, id) since V4 (`schema.rs`:
/// it cost a random leaf per POSTed object): every statement that finds them
/// goes through `versions_id` then `members_version`, never a scan of a table.
#[test]
fn membership_statements_use_indexes() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    let conn = s.lock_writer();
    let by_id = ObjectQuery {
        ids: vec![sid("malware", 1)],
        versions: VersionFilter::all(),
        ..ObjectQuery::default()
    };
    let page = crate::read::page_sql(&by_id, Some(1), 10).0;
    for sql in [
        crate::write::MEMBER_NEIGHBOURS,
        crate::write::REMOVE_MEMBERSHIPS,
        crate::write::REMOVE_MEMBERSHIP,
        crate::write::REFLAG_MEMBERSHIPS,
        &crate::read::versions_in_collection_sql(),
        &page,
    ] {
        let plan = plan_of_sql(&conn, sql, None);
        assert!(plan.contains("versions_id"), "not by id: {plan}\n{sql}");
        assert!(
            plan.contains("members_version") || plan.contains("INTEGER PRIMARY KEY"),
            "memberships not by version: {plan}\n{sql}"
        );
        for step in plan.split("; ") {
            assert!(
                !step.starts_with("SCAN") || step.contains("left_here"),
                "scans a table: {plan}\n{sql}"
            );
        }
    }
    // The put's own lookup of the id's rows (with the same-key bytes).
    let plan = plan_of_sql(&conn, crate::write::VERSION_NEIGHBOURS, None);
    assert!(plan.contains("USING INDEX versions_id"), "{plan}");
    assert!(!plan.contains("SCAN"), "{plan}");
}

/// Whether `versions_id` is a unique index.
fn versions_id_unique(s: &SqliteStore) -> bool {
    s.lock_writer()
        .query_row(
            "SELECT \"unique\" FROM pragma_index_list('versions') WHERE name = 'versions_id'",
            [],
            |r| r.get(0),
        )
        .expect("versions_id")
}

/// Puts `raw` (an indicator, id n, version m, its description `who`) into `coll`.
fn put_marked(s: &SqliteStore, n: u64, m: u32, who: &str, coll: &str) -> PutOutcome {
    let o = sightline_store::conformance::obj(&serde_json::json!({
        "type": "malware", "spec_version": "2.1", "id": sid("malware", n),
        "created": sightline_store::conformance::ts(0),
        "modified": sightline_store::conformance::ts(m),
        "name": format!("malware {n}"), "description": who, "is_family": false
    }));
    let mut t = s.begin().expect("begin");
    let r = t.put(&o, Some(coll)).expect("put");
    t.commit().expect("commit");
    r
}

/// A V4 store (one row per id and version: `versions_id` unique) opens as V5:
/// the index is the same name, not unique, so another collection's bytes for
/// the same version are a row of their own; old data stays readable, and
/// `check` is clean.
#[test]
fn v4_store_migrates_to_content_addressed_versions() {
    let dir = tempfile::tempdir().expect("tmp");
    let other = CollectionInfo {
        id: "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d".into(),
        title: "Other".into(),
        description: None,
        alias: Some("other".into()),
        media_types: vec!["application/stix+json;version=2.1".into()],
    };
    {
        let s = open_with_feed(dir.path(), "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e");
        s.create_collection(&other).expect("other");
        for n in 1..=3 {
            put(&s, n, 1, Some("feed"));
        }
    }
    {
        let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw");
        undo_to_v5(&c);
        c.execute_batch(
            "DROP INDEX versions_id;
                 CREATE UNIQUE INDEX versions_id ON versions (id, version_key);
                 PRAGMA user_version = 4;",
        )
        .expect("to V4");
    }
    let s = SqliteStore::open(dir.path()).expect("reopen");
    assert!(!versions_id_unique(&s), "versions_id still unique");
    let version: i64 = s
        .lock_writer()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, crate::schema::MIGRATIONS.len() as i64);
    assert_eq!(all(&s).len(), 3);
    // The read-across put: other bytes for malware 1's version, into `other`.
    assert!(matches!(
        put_marked(&s, 1, 1, "other bytes", "other"),
        PutOutcome::Added { .. }
    ));
    let feed = s.versions(&sid("malware", 1), Some("feed")).expect("feed");
    let other = s
        .versions(&sid("malware", 1), Some("other"))
        .expect("other");
    assert_eq!(feed.len(), 1);
    assert_eq!(other.len(), 1);
    assert_eq!(feed[0].raw, sdo("malware", 1, 1).raw);
    assert!(other[0].raw.contains("other bytes"));
    assert_eq!(all(&s).len(), 4);
    assert!(s.check().expect("check").is_empty(), "{:?}", s.check());
}

/// `check` finds what the isolation model rules out: a later row of a
/// version with a store-wide flag, two rows with the same bytes, and two
/// rows of one version in one collection.
#[test]
fn check_finds_broken_variants() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = open_with_feed(dir.path(), "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f");
    s.create_collection(&CollectionInfo {
        id: "3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a".into(),
        title: "Other".into(),
        description: None,
        alias: Some("other".into()),
        media_types: vec![],
    })
    .expect("other");
    put_marked(&s, 1, 1, "a", "feed");
    put_marked(&s, 1, 1, "b", "other");
    assert!(s.check().expect("check").is_empty(), "{:?}", s.check());
    let broken = |sql: &str, want: &str| {
        let c = s.lock_writer();
        c.execute_batch(&format!("SAVEPOINT t; {sql}"))
            .expect("break");
        drop(c);
        let problems = s.check().expect("check");
        s.lock_writer()
            .execute_batch("ROLLBACK TO t; RELEASE t")
            .expect("undo");
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:?}"
        );
    };
    // The variant (the later row) flagged latest instead of the first arrival.
    broken(
        "UPDATE versions SET is_latest = (date_added = (SELECT max(date_added) FROM versions))",
        "store-wide latest/first flag",
    );
    broken(
        "UPDATE versions SET raw = (SELECT raw FROM versions ORDER BY date_added LIMIT 1)",
        "same bytes",
    );
    broken(
        "UPDATE members SET cid = (SELECT cid FROM collections WHERE alias = 'feed')",
        "two rows of one version",
    );
    assert!(s.check().expect("check").is_empty(), "{:?}", s.check());
}

/// Copying a store (`restore_version`, `restore_membership`) carries
/// variants: each membership names its row by its bytes.
#[test]
fn restore_carries_variants_and_their_memberships() {
    let src_dir = tempfile::tempdir().expect("tmp");
    let dst_dir = tempfile::tempdir().expect("tmp");
    let colls = [
        feed("4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b"),
        CollectionInfo {
            alias: Some("other".into()),
            id: "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c".into(),
            ..feed("")
        },
    ];
    let src = SqliteStore::open(src_dir.path()).expect("src");
    let dst = SqliteStore::open(dst_dir.path()).expect("dst");
    for c in &colls {
        src.create_collection(c).expect("src coll");
        dst.create_collection(c).expect("dst coll");
    }
    put_marked(&src, 1, 1, "planted", "other");
    put_marked(&src, 1, 1, "legit", "feed");
    put_marked(&src, 2, 1, "shared", "feed");
    put_marked(&src, 2, 1, "shared", "other");
    let mut t = dst.begin().expect("begin");
    for o in all(&src) {
        let obj = sightline_store::conformance::raw_obj(&o.raw);
        assert!(matches!(
            t.restore_version(&obj, o.date_added).expect("restore"),
            PutOutcome::Added { date_added } if date_added == o.date_added
        ));
    }
    for c in &colls {
        let members = src
            .query(&ObjectQuery {
                collection: Some(c.id.clone()),
                versions: VersionFilter::all(),
                limit: 100,
                ..ObjectQuery::default()
            })
            .expect("members")
            .items;
        for o in members {
            assert!(matches!(
                t.restore_membership(&c.id, &o.id, &o.version_key, &o.raw, o.date_added)
                    .expect("membership"),
                PutOutcome::Added { date_added } if date_added == o.date_added
            ));
        }
    }
    // Bytes no row has: refused, not a new row.
    assert!(matches!(
        t.restore_membership(&colls[0].id, &sid("malware", 1), "x", "{}", 1),
        Err(StoreError::Invalid(_))
    ));
    t.commit().expect("commit");
    assert_eq!(all(&dst), all(&src));
    for c in &colls {
        for n in [1, 2] {
            assert_eq!(
                dst.versions(&sid("malware", n), Some(&c.id)).expect("dst"),
                src.versions(&sid("malware", n), Some(&c.id)).expect("src")
            );
        }
    }
    assert!(dst.check().expect("check").is_empty(), "{:?}", dst.check());
}

/// A V3 store (memberships indexed by collection and id) opens as V4 with
/// every membership found by id, removable, and `check` clean.
#[test]
fn v3_store_migrates_to_memberships_by_version() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let s = open_with_feed(dir.path(), "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
        for n in 1..=3 {
            put(&s, n, 1, Some("feed"));
            put(&s, n, 2, Some("feed"));
        }
        put(&s, 4, 1, None);
    }
    // The same rows under V3's index, as a V3 release left them.
    {
        let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw");
        undo_to_v5(&c);
        c.execute_batch(
            "DROP INDEX members_version;
             CREATE UNIQUE INDEX members_id ON members (cid, id, version_key);
             DROP INDEX versions_id;
             CREATE UNIQUE INDEX versions_id ON versions (id, version_key);
             PRAGMA user_version = 3;",
        )
        .expect("to V3");
    }
    let s = SqliteStore::open(dir.path()).expect("reopen");
    let indexes: Vec<String> = s
        .lock_writer()
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'members'")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("indexes");
    assert!(
        indexes.iter().any(|i| i == "members_version"),
        "{indexes:?}"
    );
    assert!(!indexes.iter().any(|i| i == "members_id"), "{indexes:?}");
    // And on through V5: one row per version is no longer enforced.
    assert!(!versions_id_unique(&s), "versions_id still unique");
    let id = sid("malware", 2);
    let latest_here = || -> Vec<String> {
        s.query(&ObjectQuery {
            collection: Some("feed".into()),
            ids: vec![id.clone()],
            ..ObjectQuery::default()
        })
        .expect("by id")
        .items
        .into_iter()
        .map(|o| o.version_key)
        .collect()
    };
    let versions = s.versions(&id, Some("feed")).expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(latest_here(), [versions[1].version_key.clone()]);
    // Remove the latest version: the older one becomes the latest here.
    let mut t = s.begin().expect("begin");
    let removed = t
        .remove_from_collection("feed", &id, std::slice::from_ref(&versions[1].version_key))
        .expect("remove");
    t.commit().expect("commit");
    assert_eq!(removed, 1);
    assert_eq!(latest_here(), [versions[0].version_key.clone()]);
    // An id outside the collection has no membership; a new put still works.
    assert!(s
        .versions(&sid("malware", 4), Some("feed"))
        .expect("v")
        .is_empty());
    assert!(matches!(
        put(&s, 4, 1, Some("feed")),
        PutOutcome::Added { .. }
    ));
    assert!(s.check().expect("check").is_empty(), "{:?}", s.check());
}

/// Every filter shape of a page: a query whose filters match nothing
/// (TAXII 2.1 §3.4.1 `match[type]`, `match[id]`, `match[spec_version]`)
/// must cost an index probe, not a scan of the collection or the store
/// (issue 12 §3: 28 ms instead of 1.1 ms at 25k objects).
#[test]
fn filtered_pages_never_scan() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = SqliteStore::open(dir.path()).expect("open");
    let conn = s.lock_writer();
    let versions = [
        VersionFilter::last(),
        VersionFilter::all(),
        VersionFilter {
            first: true,
            last: false,
            all: false,
            at: vec![],
        },
        VersionFilter {
            first: true,
            last: true,
            all: false,
            at: vec!["x".into()],
        },
    ];
    let filters = [
        ObjectQuery {
            types: vec!["x-nothing".into()],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            types: vec!["x-nothing".into(), "malware".into(), "indicator".into()],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            ids: vec![sid("malware", 1)],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            ids: vec![sid("malware", 1), sid("malware", 2)],
            types: vec!["malware".into()],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            spec_versions: vec!["2.0".into()],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            spec_versions: vec!["2.0".into(), "2.2".into()],
            types: vec!["malware".into()],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            types: vec!["malware".into()],
            spec_versions: vec!["2.1".into()],
            added_after: Some(5),
            after: Some(7),
            ..ObjectQuery::default()
        },
    ];
    for q in filters {
        for v in &versions {
            for cid in [None, Some(1)] {
                let q = ObjectQuery {
                    versions: v.clone(),
                    ..q.clone()
                };
                let plan = plan_of(&conn, &q, cid);
                for step in plan.split("; ") {
                    // A subquery's rows (`p`: the merged arms) are bounded
                    // by its LIMIT.
                    assert!(
                        !step.starts_with("SCAN")
                            || step.starts_with("SCAN (subquery")
                            || step == "SCAN p",
                        "scans: {plan}\n{q:?} in {cid:?}"
                    );
                }
                assert!(
                    plan.contains("members_type")
                        || plan.contains("versions_type")
                        || plan.contains("versions_id")
                        || plan.contains("versions_spec"),
                    "not driven by the filter: {plan}\n{q:?} in {cid:?}"
                );
            }
        }
    }
}

/// Takes a store's schema back from the latest to V5 (what a V5 release
/// left): V7's token columns (expiry, last use) when present, then V6.
fn undo_to_v5(c: &rusqlite::Connection) {
    c.execute_batch("DROP TABLE IF EXISTS refs;")
        .expect("undo V8");
    for col in ["last_used", "expires"] {
        let has: bool = c
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('tokens') WHERE name = ?1",
                [col],
                |r| r.get(0),
            )
            .expect("table_info");
        if has {
            c.execute_batch(&format!("ALTER TABLE tokens DROP COLUMN {col};"))
                .expect("undo V7");
        }
    }
    c.execute_batch(
        "DROP INDEX members_type;
         DROP INDEX versions_spec;
         ALTER TABLE members DROP COLUMN type;",
    )
    .expect("undo V6");
}

/// A V5 store opens as V6: its memberships get their versions' types, so a
/// collection page by type (TAXII 2.1 §3.4.1 `match[type]`) finds exactly
/// what it found before, and `check` is clean.
#[test]
fn v5_store_migrates_to_typed_memberships() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let s = open_with_feed(dir.path(), "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f");
        for n in 1..=3 {
            put(&s, n, 1, Some("feed"));
            put(&s, n, 2, Some("feed"));
        }
    }
    {
        let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw");
        undo_to_v5(&c);
        c.execute_batch("PRAGMA user_version = 5;").expect("to V5");
    }
    let s = SqliteStore::open(dir.path()).expect("reopen");
    let of_type = |ty: &str| {
        s.query(&ObjectQuery {
            collection: Some("feed".into()),
            types: vec![ty.into()],
            versions: VersionFilter::all(),
            ..ObjectQuery::default()
        })
        .expect("by type")
        .items
        .len()
    };
    assert_eq!(of_type("malware"), 6);
    assert_eq!(of_type("indicator"), 0);
    assert!(matches!(
        put(&s, 4, 1, Some("feed")),
        PutOutcome::Added { .. }
    ));
    assert_eq!(of_type("malware"), 7);
    assert!(s.check().expect("check").is_empty(), "{:?}", s.check());
}

/// A V7 store opens as V8: `refs` is filled from the stored versions by the
/// migration's `json_tree` exactly as puts fill it (`indexed_refs`), so
/// `referrers_of` answers the same before and after.
#[test]
fn v7_store_migrates_to_indexed_references() {
    let dir = tempfile::tempdir().expect("tmp");
    let target = sid("intrusion-set", 1);
    let marking = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    let objects = [
        serde_json::json!({"type": "report", "spec_version": "2.1", "id": sid("report", 2),
            "created": sightline_store::conformance::ts(0), "modified": sightline_store::conformance::ts(0),
            "name": "r", "published": sightline_store::conformance::ts(0), "object_refs": [target],
            "created_by_ref": sid("identity", 3)}),
        serde_json::json!({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", 4),
            "created": sightline_store::conformance::ts(0), "modified": sightline_store::conformance::ts(0),
            "relationship_type": "uses", "source_ref": target, "target_ref": sid("malware", 5),
            "granular_markings": [{"marking_ref": marking, "selectors": ["relationship_type"]}]}),
    ];
    let before = {
        let s = SqliteStore::open(dir.path()).expect("open");
        let mut t = s.begin().expect("begin");
        for o in &objects {
            t.put(&sightline_store::conformance::obj(o), None)
                .expect("put");
        }
        t.commit().expect("commit");
        [&target, marking, &sid("identity", 3), &sid("malware", 5)]
            .map(|id| s.referrers_of(id, 10).expect("referrers"))
    };
    assert_eq!(before[0], vec![sid("report", 2)]);
    assert_eq!(before[1], vec![sid("relationship", 4)]);
    assert!(
        before[3].is_empty(),
        "a relationship's target is not an embedded reference"
    );
    {
        let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw");
        c.execute_batch("DROP TABLE refs; PRAGMA user_version = 7;")
            .expect("to V7");
    }
    let s = SqliteStore::open(dir.path()).expect("reopen");
    let after = [&target, marking, &sid("identity", 3), &sid("malware", 5)]
        .map(|id| s.referrers_of(id, 10).expect("referrers"));
    assert_eq!(after, before);
}
