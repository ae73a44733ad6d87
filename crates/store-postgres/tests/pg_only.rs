//! PostgreSQL-only behaviour: several handles on one database (as replicas
//! are), reconnecting after the server drops connections, migrations.
//! Needs PostgreSQL (`sightline_testkit::pg`: SIGHTLINE_TEST_PG, or a private
//! cluster it starts).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sightline_store::conformance::{sdo, sid};
use sightline_store::{
    ObjectQuery, ObjectReader, ObjectWriter, PutOutcome, StoreError, VersionFilter,
};
use sightline_store_postgres::PgStore;
use sightline_testkit::pg::TestDb;

fn all_q(limit: usize) -> ObjectQuery {
    ObjectQuery {
        versions: VersionFilter::all(),
        limit,
        ..ObjectQuery::default()
    }
}

/// Two handles (two replicas) write concurrently while a third pages with the
/// keyset cursor and with `added_after` (TAXII 2.1 §3.4.1 / §3.6): every page
/// is ascending, nothing is repeated, and once the writers are done a final
/// walk from the last cursor finds exactly the rest: nothing committed late
/// with a smaller `date_added` was skipped.
#[test]
fn concurrent_writers_on_two_handles_never_make_a_reader_skip() {
    let db = TestDb::new("replicas");
    let a = Arc::new(PgStore::open(db.url()).expect("open"));
    let b = Arc::new(PgStore::open(db.url()).expect("second handle"));
    let reader = PgStore::open(db.url()).expect("reader handle");
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = [(a.clone(), 0u64), (b.clone(), 1_000_000u64)]
        .into_iter()
        .map(|(s, base)| {
            std::thread::spawn(move || {
                for i in 0..60u64 {
                    let mut t = s.begin().expect("begin");
                    for j in 0..5u64 {
                        t.put(&sdo("indicator", base + i * 10 + j, 1), None)
                            .expect("put");
                    }
                    t.commit().expect("commit");
                }
            })
        })
        .collect();
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut cursor: Option<i64> = None;
    let mut by_added_after: Option<i64> = None;
    let mut seen_aa: Vec<i64> = Vec::new();
    loop {
        let finished = done.load(Ordering::Acquire);
        // Paging with `next` (our cursor).
        let p = reader
            .query(&ObjectQuery {
                after: cursor,
                ..all_q(7)
            })
            .expect("page");
        for o in &p.items {
            seen.push((o.date_added, o.id.clone()));
        }
        if let Some(l) = p.items.last() {
            cursor = Some(l.date_added);
        }
        // Paging with `added_after` only, as a polling TAXII client does.
        let p2 = reader
            .query(&ObjectQuery {
                added_after: by_added_after,
                ..all_q(11)
            })
            .expect("page");
        for o in &p2.items {
            seen_aa.push(o.date_added);
        }
        if let Some(l) = p2.items.last() {
            by_added_after = Some(l.date_added);
        }
        if finished && p.items.is_empty() && p2.items.is_empty() {
            break;
        }
        if writers.iter().all(|w| w.is_finished()) {
            done.store(true, Ordering::Release);
        }
    }
    for w in writers {
        w.join().expect("writer");
    }
    let total = reader.query(&all_q(100_000)).expect("all").items;
    assert_eq!(total.len(), 600);
    for w in seen.windows(2) {
        assert!(w[0].0 < w[1].0, "not ascending: {w:?}");
    }
    for w in seen_aa.windows(2) {
        assert!(w[0] < w[1], "not ascending: {w:?}");
    }
    let ids: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "an object was repeated");
    assert_eq!(seen.len(), 600, "paging with the cursor skipped objects");
    assert_eq!(
        seen_aa.len(),
        600,
        "paging with added_after skipped objects"
    );
}

/// The server dropping our connections (a restart, a failover) is a
/// [`StoreError::Busy`] saying the database is unavailable (503 over TAXII),
/// and the next call reconnects by itself.
#[test]
fn reconnects_after_the_server_drops_connections() {
    let db = TestDb::new("reconnect");
    let s = PgStore::open(db.url()).expect("open");
    let mut t = s.begin().expect("begin");
    t.put(&sdo("malware", 1, 1), None).expect("put");
    t.commit().expect("commit");
    assert_eq!(s.query(&all_q(10)).expect("query").items.len(), 1);
    let mut admin =
        postgres::Client::connect(&sightline_testkit::pg::cluster_url(), postgres::NoTls)
            .expect("admin");
    let dbname = db.url().rsplit('/').next().expect("db name").to_owned();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&dbname],
        )
        .expect("terminate");
    // The pooled connection is dead: the first call reports it…
    match s.query(&all_q(10)) {
        Err(StoreError::Busy { message: m, source }) => {
            assert!(m.contains("unavailable"), "{m}");
            // The driver's error is the cause, for code that wants it.
            let cause = source.expect("a cause");
            assert!(
                cause.downcast_ref::<postgres::Error>().is_some(),
                "{cause:?}"
            );
        }
        Ok(p) => panic!("a dropped connection went unnoticed: {p:?}"),
        Err(e) => panic!("want Busy (unavailable), got {e:?}"),
    }
    // …and the next ones work again, reads and writes.
    assert_eq!(s.query(&all_q(10)).expect("query").items.len(), 1);
    let mut t = s.begin().expect("begin after reconnect");
    assert!(matches!(
        t.put(&sdo("malware", 2, 1), None).expect("put"),
        PutOutcome::Added { .. }
    ));
    t.commit().expect("commit");
    assert_eq!(s.query(&all_q(10)).expect("query").items.len(), 2);
}

#[test]
fn migrations_are_versioned_and_a_newer_schema_is_refused() {
    let db = TestDb::new("migrations");
    let s = PgStore::open(db.url()).expect("open");
    let (have, known) = s.schema_version().expect("version");
    assert_eq!(have, known);
    assert!(s.migrate().expect("migrate again").is_empty());
    // Opening again (another replica starting) changes nothing.
    drop(PgStore::open(db.url()).expect("reopen"));
    let mut admin = postgres::Client::connect(db.url(), postgres::NoTls).expect("admin");
    admin
        .execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&(i32::try_from(known).expect("small") + 1)],
        )
        .expect("pretend a newer release migrated");
    match PgStore::open(db.url()) {
        Err(StoreError::Corrupt { message: m, .. }) => assert!(m.contains("newer"), "{m}"),
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}

/// Words are runs of letters and digits, diacritics ignored, as SQLite's
/// `unicode61 remove_diacritics 2` tokenizer makes them.
#[test]
fn search_words_as_sqlite_finds_them() {
    let db = TestDb::new("diacritics");
    let s = PgStore::open(db.url()).expect("open");
    let o = sightline_store::conformance::obj(&serde_json::json!({
        "type": "indicator", "spec_version": "2.1", "id": sid("indicator", 4),
        "created": "2020-01-01T00:00:00Z", "modified": "2020-01-01T00:00:00Z",
        "name": "Évasion détectée T1059.001", "description": "see e.org", "pattern": "[x:y = 'z']", "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z"
    }));
    let mut t = s.begin().expect("begin");
    t.put(&o, None).expect("put");
    t.commit().expect("commit");
    for q in [
        "evasion",
        "DÉTECT",
        "detectee",
        "évasion détectée",
        "t1059.001",
        "001",
        "T1059",
        "e.org",
        "org",
    ] {
        let hits = s.search(q, 10).expect("search");
        assert_eq!(hits.len(), 1, "{q:?} finds the indicator");
    }
}

/// The CA of the test cluster's server certificate (scripts/pg makes it
/// beside the certificate).
fn test_ca() -> String {
    let mut admin =
        postgres::Client::connect(&sightline_testkit::pg::cluster_url(), postgres::NoTls)
            .expect("admin");
    let ssl: String = admin.query_one("SHOW ssl", &[]).expect("ssl").get(0);
    assert_eq!(
        ssl, "on",
        "the test cluster has no TLS: start it with scripts/pg (scripts/test does)"
    );
    let cert: String = admin
        .query_one("SHOW ssl_cert_file", &[])
        .expect("cert")
        .get(0);
    let dir = std::path::Path::new(&cert)
        .parent()
        .expect("cert dir")
        .to_owned();
    dir.join("ca.crt").display().to_string()
}

/// `sslmode=verify-full&sslrootcert=CA`: the store talks TLS (the server
/// says so), and a server whose certificate is not trusted is refused.
#[test]
fn tls_when_asked_for_and_verified() {
    let db = TestDb::new("tls");
    let ca = test_ca();
    let url = format!("{}?sslmode=verify-full&sslrootcert={ca}", db.url());
    let s = PgStore::open(&url).expect("open over TLS");
    let mut t = s.begin().expect("begin");
    t.put(&sdo("malware", 1, 1), None).expect("put");
    t.commit().expect("commit");
    assert_eq!(s.query(&all_q(10)).expect("query").items.len(), 1);
    let mut admin = postgres::Client::connect(db.url(), postgres::NoTls).expect("admin");
    let dbname = db.url().rsplit('/').next().expect("db name").to_owned();
    let (tls, plain): (i64, i64) = {
        let r = admin
            .query_one(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
                 FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                 WHERE a.datname = $1 AND a.application_name = 'sightline'",
                &[&dbname],
            )
            .expect("pg_stat_ssl");
        (r.get(0), r.get(1))
    };
    assert!(
        tls >= 1 && plain == 0,
        "{tls} TLS and {plain} plain connections"
    );
    // Without our CA the (self-signed) chain is not trusted: refused, not downgraded.
    let e = PgStore::open(&format!("{}?sslmode=require", db.url()))
        .expect_err("an untrusted certificate is refused");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}

/// Replicas may run as a role that cannot create tables once an operator has
/// migrated (`sightline migrate`): opening a current schema does no DDL.
#[test]
fn a_role_without_create_rights_opens_a_migrated_store() {
    let db = TestDb::new("roles");
    drop(PgStore::open(db.url()).expect("open"));
    let mut admin = postgres::Client::connect(db.url(), postgres::NoTls).expect("admin");
    // Unique per test database (roles are cluster-wide).
    let role = format!(
        "sl_app_{}",
        db.url()
            .rsplit('/')
            .next()
            .expect("db name")
            .trim_start_matches("sl_")
    );
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role};
             CREATE ROLE {role} LOGIN;
             REVOKE CREATE ON SCHEMA public FROM PUBLIC;
             GRANT USAGE ON SCHEMA public TO {role};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
             GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role};"
        ))
        .expect("role");
    let url = db.url().replacen("postgres@", &format!("{role}@"), 1);
    let s = PgStore::open(&url).expect("a migrated store opens without CREATE rights");
    let mut t = s.begin().expect("begin");
    t.put(&sdo("malware", 1, 1), None).expect("put");
    t.commit().expect("commit");
    assert_eq!(s.query(&all_q(10)).expect("query").items.len(), 1);
    drop(s);
    // Roles are cluster-wide: leave none behind.
    admin
        .batch_execute(&format!(
            "REASSIGN OWNED BY {role} TO postgres; DROP OWNED BY {role}; DROP ROLE {role};"
        ))
        .expect("drop role");
}

/// A V7 database opens as V8: `refs` is filled from the stored versions
/// (`backfill_refs`, the same extraction as a put), so `referrers_of`
/// answers the same before and after.
#[test]
fn v7_database_migrates_to_indexed_references() {
    use sightline_store::conformance::{obj, ts};
    let db = TestDb::new("refs_v8");
    let target = sid("intrusion-set", 1);
    let marking = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    let ids = [
        target.clone(),
        marking.to_owned(),
        sid("identity", 3),
        sid("malware", 5),
    ];
    let before: Vec<Vec<String>> = {
        let s = PgStore::open(db.url()).expect("open");
        let mut t = s.begin().expect("begin");
        for o in [
            serde_json::json!({"type": "report", "spec_version": "2.1", "id": sid("report", 2),
                "created": ts(0), "modified": ts(0), "name": "r", "published": ts(0),
                "object_refs": [target], "created_by_ref": sid("identity", 3)}),
            serde_json::json!({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", 4),
                "created": ts(0), "modified": ts(0), "relationship_type": "uses",
                "source_ref": target, "target_ref": sid("malware", 5),
                "granular_markings": [{"marking_ref": marking, "selectors": ["relationship_type"]}]}),
        ] {
            t.put(&obj(&o), None).expect("put");
        }
        t.commit().expect("commit");
        ids.iter()
            .map(|id| s.referrers_of(id, 10).expect("referrers"))
            .collect()
    };
    assert_eq!(before[0], vec![sid("report", 2)]);
    assert_eq!(before[1], vec![sid("relationship", 4)]);
    assert!(
        before[3].is_empty(),
        "a relationship's target is not an embedded reference"
    );
    {
        let mut c = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
        c.batch_execute("DROP TABLE refs; DELETE FROM schema_migrations WHERE version = 8;")
            .expect("to V7");
    }
    let s = PgStore::open(db.url()).expect("reopen");
    let after: Vec<Vec<String>> = ids
        .iter()
        .map(|id| s.referrers_of(id, 10).expect("referrers"))
        .collect();
    assert_eq!(after, before);
}
