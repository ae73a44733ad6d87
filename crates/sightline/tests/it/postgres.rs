//! The real binary on PostgreSQL (issue 5 §1): every store command with
//! `--store postgres://…`, `copy` both ways giving identical stores, and two
//! `serve` replicas on one database where a client paging through one while
//! objects are POSTed through the other neither skips nor repeats anything
//! (TAXII 2.1 §3.4 `added_after`, §3.5 `next`).
//!
//! Needs PostgreSQL: SIGHTLINE_TEST_PG, or a private cluster `sightline_testkit::pg`
//! starts; without PostgreSQL these tests fail and say how to get it.

use crate::common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{basic, client, ok, sightline, Serve, TAXII};
use serde_json::{json, Value};
use sightline_store::{CollectionStore, ObjectQuery, ObjectReader, Store, VersionFilter};
use sightline_testkit::config::OneCollection;
use sightline_testkit::pg::{Cluster, TestDb};

/// `[collections.c1]` of the servers below.
const ALICE_READS_AND_WRITES: &str = "can_read = [\"alice\"]\ncan_write = [\"alice\"]";

fn run(store: &str, args: &[&str], stdin: Option<&str>) -> Output {
    sightline(&["--store", store], args, stdin)
}

/// `DIR/sightline.toml`: a server on store `s` serving c1, which alice reads and writes.
fn alice_config(dir: &Path, s: &str) -> std::path::PathBuf {
    let config = dir.join("sightline.toml");
    std::fs::write(
        &config,
        OneCollection {
            top: &format!("store = \"{s}\"\ndefault_api_root = \"api1\""),
            rights: ALICE_READS_AND_WRITES,
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    config
}

/// A STIX id with a UUIDv4 numbered `n`.
fn sid(ty: &str, n: u64) -> String {
    format!("{ty}--{:08x}-0000-4000-8000-{:012x}", n >> 16, n & 0xffff)
}

fn identity(n: u64, m: u32) -> Value {
    json!({
        "type": "identity", "spec_version": "2.1", "id": sid("identity", n),
        "created": "2021-01-01T00:00:00.000Z",
        "modified": format!("2021-01-01T00:00:{:02}.000Z", m),
        "name": format!("Org {n}"), "identity_class": "organization",
        "external_references": [{"source_name": "test", "external_id": format!("ORG-{n}")}]
    })
}

fn bundle(objects: &[Value]) -> String {
    json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": objects})
        .to_string()
}

/// `export --all-versions` without the (random) bundle id: the objects as stored.
fn export(store: &str, extra: &[&str]) -> String {
    let mut args = vec!["export", "--all-versions"];
    args.extend_from_slice(extra);
    let text = ok(&run(store, &args, None));
    let v: Value = serde_json::from_str(&text).expect("export is JSON");
    assert!(v["objects"].is_array(), "{text}");
    serde_json::to_string(&v["objects"]).expect("json")
}

/// Everything a store holds, as the store traits show it, dates included.
fn snapshot(s: &dyn Store) -> String {
    let q = |collection: Option<String>| ObjectQuery {
        collection,
        versions: VersionFilter::all(),
        limit: 100_000,
        ..ObjectQuery::default()
    };
    let mut out = format!(
        "{:?}\n{:?}\n{:?}\n",
        s.users().expect("users"),
        s.tokens(None).expect("tokens"),
        s.collections().expect("collections")
    );
    out.push_str(&format!("{:?}\n", s.query(&q(None)).expect("all").items));
    for c in s.collections().expect("collections") {
        out.push_str(&format!(
            "{:?}\n",
            s.query(&q(Some(c.id))).expect("coll").items
        ));
    }
    out
}

/// sqlite → PostgreSQL → sqlite: all three hold the same versions with the
/// same dates, the same memberships with their dates, the same accounts, and
/// export the same objects byte for byte.
#[test]
fn copy_both_ways_is_identical() {
    let dir = tempfile::tempdir().expect("dir");
    let a = format!("sqlite:{}", dir.path().join("a").display());
    let c = format!("sqlite:{}", dir.path().join("c").display());
    let db = TestDb::new("copy");
    let b = db.url().to_owned();

    // A source with versions, two collections (one membership removed), accounts.
    let v1: Vec<Value> = (0..40).map(|n| identity(n, 1)).collect();
    let v2: Vec<Value> = (0..40).step_by(3).map(|n| identity(n, 2)).collect();
    let f1 = dir.path().join("v1.json");
    let f2 = dir.path().join("v2.json");
    std::fs::write(&f1, bundle(&v1)).expect("write");
    std::fs::write(&f2, bundle(&v2)).expect("write");
    ok(&run(
        &a,
        &["collection", "add", "feed", "--title", "Feed"],
        None,
    ));
    ok(&run(&a, &["collection", "add", "other"], None));
    ok(&run(
        &a,
        &["import", "--collection", "feed", &f1.to_string_lossy()],
        None,
    ));
    ok(&run(&a, &["import", &f2.to_string_lossy()], None));
    ok(&run(
        &a,
        &["import", "--collection", "other", &f2.to_string_lossy()],
        None,
    ));
    ok(&run(
        &a,
        &[
            "user",
            "add",
            "alice",
            "--group",
            "analysts",
            "--password-stdin",
        ],
        Some("pw one, long enough\n"),
    ));
    ok(&run(
        &a,
        &["user", "add", "root", "--admin", "--password-stdin"],
        Some("pw two, long enough\n"),
    ));
    ok(&run(&a, &["token", "create", "alice"], None));
    ok(&run(&a, &["token", "create", "root"], None));
    let list = ok(&run(&a, &["token", "list"], None));
    let first = list.split('\t').next().expect("a token id").to_owned();
    ok(&run(&a, &["token", "revoke", &first], None));

    let out = ok(&run(&a, &["copy", "--from", &a, "--to", &b], None));
    assert!(out.contains("54 versions"), "{out}");
    let out = ok(&run(&a, &["copy", "--from", &b, "--to", &c], None));
    assert!(out.contains("54 versions"), "{out}");

    // Copying into a store that is not empty is refused, and changes nothing.
    let again = run(&a, &["copy", "--from", &a, "--to", &b], None);
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let sa = sightline_server::store::open_store(&a).expect("open a");
    let sb = sightline_server::store::open_store(&b).expect("open b");
    let sc = sightline_server::store::open_store(&c).expect("open c");
    let snap = snapshot(sa.as_ref());
    assert_eq!(snap, snapshot(sb.as_ref()), "sqlite → postgres differs");
    assert_eq!(snap, snapshot(sc.as_ref()), "postgres → sqlite differs");
    assert_eq!(sa.stats().expect("stats"), sb.stats().expect("stats"));
    for extra in [
        &[][..],
        &["--collection", "feed"][..],
        &["--collection", "other"][..],
    ] {
        let want = export(&a, extra);
        assert_eq!(
            export(&b, extra),
            want,
            "export {extra:?} differs on postgres"
        );
        assert_eq!(
            export(&c, extra),
            want,
            "export {extra:?} differs after the round trip"
        );
    }
    // The copies work as stores: search, external ids, integrity.
    assert_eq!(
        sb.lookup_external_id("org-7").expect("lookup"),
        vec![sid("identity", 7)]
    );
    assert!(ok(&run(&b, &["check"], None)).starts_with("ok: postgres://"));
    assert!(ok(&run(&c, &["check"], None)).starts_with("ok: "));
    // New dates on the copy come after the copied ones.
    let last = sb
        .query(&ObjectQuery {
            versions: VersionFilter::all(),
            limit: 100_000,
            ..ObjectQuery::default()
        })
        .expect("all")
        .items
        .last()
        .expect("items")
        .date_added;
    let mut t = sb.begin().expect("begin");
    let o = sightline_store::conformance::obj(&identity(999, 1));
    match t.put(&o, Some("feed")).expect("put") {
        sightline_store::PutOutcome::Added { date_added } => assert!(date_added > last),
        other => panic!("{other:?}"),
    }
    t.commit().expect("commit");
}

/// Every store command with `--store postgres://…`.
#[test]
fn store_commands_on_postgres() {
    let db = TestDb::new("cli");
    let s = db.url();
    let dir = tempfile::tempdir().expect("dir");
    let f = dir.path().join("objs.json");
    let objs: Vec<Value> = (0..5).map(|n| identity(n, 1)).collect();
    std::fs::write(&f, bundle(&objs)).expect("write");
    let m = ok(&run(s, &["migrate"], None));
    assert!(m.contains("schema version"), "{m}");
    assert!(!m.contains("password"), "{m}");
    ok(&run(s, &["collection", "add", "feed"], None));
    assert!(ok(&run(s, &["collection", "list"], None)).contains("feed"));
    let out = run(
        s,
        &["import", "--collection", "feed", &f.to_string_lossy()],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("5 new"),
        "{out:?}"
    );
    ok(&out);
    let got = ok(&run(s, &["get", &sid("identity", 3)], None));
    assert!(got.contains("Org 3"), "{got}");
    assert!(ok(&run(s, &["get", "ORG-4"], None)).contains("Org 4"));
    let hits = ok(&run(s, &["search", "org"], None));
    // A header, then one row per hit (issue 14 §4: an aligned table).
    assert_eq!(
        hits.lines().filter(|l| l.contains("identity--")).count(),
        5,
        "{hits}"
    );
    let stats = ok(&run(s, &["stats"], None));
    assert!(stats.contains("objects      5"), "{stats}");
    assert!(ok(&run(s, &["check"], None)).starts_with("ok: "));
    let e = export(s, &["--collection", "feed"]);
    assert_eq!(
        serde_json::from_str::<Value>(&e)
            .expect("json")
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    ok(&run(
        s,
        &["user", "add", "bob", "--password-stdin"],
        Some("hunter22-hunter22\n"),
    ));
    assert!(ok(&run(s, &["user", "list"], None)).contains("bob"));
    ok(&run(s, &["token", "create", "bob"], None));
    assert!(ok(&run(s, &["token", "list"], None)).contains("bob"));
    ok(&run(s, &["collection", "remove", "feed"], None));
    // A bad or unreachable database is a store failure (exit 3) naming it, without a password.
    let bad = run(
        "postgres://nobody:secret@127.0.0.1:1/none?connect_timeout=2",
        &["stats"],
        None,
    );
    assert_eq!(bad.status.code(), Some(3));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("127.0.0.1:1") && !err.contains("secret"),
        "{err}"
    );
}

// ---------------------------------------------------------------- replicas

/// The server with `--data data --config config`.
fn serve(data: &Path, config: &Path) -> Serve {
    let config = config.to_str().expect("UTF-8 path");
    Serve::start(&common::data(data), &["--config", config], Stdio::inherit())
}

const AUTH: &str = "alice:correct horse";

fn auth() -> String {
    let (user, pw) = AUTH.split_once(':').expect("user:password");
    basic(user, pw)
}

/// One GET of the objects endpoint: (ids, more, next, date-added first, last).
type PageOut = (
    Vec<String>,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn get_page(c: &reqwest::blocking::Client, url: &str) -> PageOut {
    let r = c
        .get(url)
        .header("Accept", TAXII)
        .header("Authorization", auth())
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200, "{url}");
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (first, last) = (h("x-taxii-date-added-first"), h("x-taxii-date-added-last"));
    let v: Value = r.json().expect("envelope");
    let ids = v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().expect("id").to_owned())
                .collect()
        })
        .unwrap_or_default();
    let more = v["more"] == true;
    let next = v["next"].as_str().map(str::to_owned);
    (ids, more, next, first, last)
}

/// Checks one reader's pages: ascending date-added headers across pages, no
/// id twice; returns the ids.
#[derive(Default)]
struct Seen {
    ids: Vec<String>,
    last: Option<String>,
}

impl Seen {
    fn add(&mut self, p: &PageOut) {
        if let (Some(prev), Some(first)) = (&self.last, &p.3) {
            assert!(
                prev < first,
                "pages out of date_added order: {prev} then {first}"
            );
        }
        if p.4.is_some() {
            self.last.clone_from(&p.4);
        }
        self.ids.extend(p.0.iter().cloned());
    }

    fn check(&self, want: usize, how: &str) {
        let uniq: HashSet<&String> = self.ids.iter().collect();
        assert_eq!(uniq.len(), self.ids.len(), "{how}: an object was repeated");
        assert_eq!(self.ids.len(), want, "{how}: objects were skipped");
    }
}

/// Issue 5 §1: objects POSTed through replica A while clients page through
/// replica B, one following `next` (TAXII 2.1 §3.5) then polling with
/// `added_after` (§3.4.1), one polling with `added_after` only: each sees
/// every object exactly once, in date_added order.
#[test]
fn two_replicas_paging_while_posting() {
    let db = TestDb::new("replicas");
    let dir = tempfile::tempdir().expect("dir");
    let s = db.url();
    ok(&run(s, &["collection", "add", "c1"], None));
    ok(&run(
        s,
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse\n"),
    ));
    // Seed objects so the first walk has pages to follow.
    let seed: Vec<Value> = (0..30).map(|n| identity(n, 1)).collect();
    let f = dir.path().join("seed.json");
    std::fs::write(&f, bundle(&seed)).expect("write");
    ok(&run(
        s,
        &["import", "--collection", "c1", &f.to_string_lossy()],
        None,
    ));
    let config = dir.path().join("sightline.toml");
    std::fs::write(
        &config,
        OneCollection {
            top: &format!(
                "store = \"{s}\"\ndefault_api_root = \"api1\"\n\
                 cursor_key = \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""
            ),
            rights: ALICE_READS_AND_WRITES,
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    let a = serve(&dir.path().join("a"), &config);
    let b = serve(&dir.path().join("b"), &config);
    let c1 = sightline_store_postgres::PgStore::open(s)
        .expect("open")
        .collection("c1")
        .expect("collection")
        .expect("c1 exists")
        .id;
    let objects = |srv: &Serve| format!("{}/api1/collections/{c1}/objects/", srv.base);

    // The writer: 40 envelopes of 3 objects through A.
    let post_url = objects(&a);
    let writer = std::thread::spawn(move || {
        let c = client();
        for i in 0..40u64 {
            let objs: Vec<Value> = (0..3).map(|j| identity(1000 + i * 3 + j, 1)).collect();
            let r = c
                .post(&post_url)
                .header("Accept", TAXII)
                .header("Content-Type", TAXII)
                .header("Authorization", auth())
                .body(json!({ "objects": objs }).to_string())
                .send()
                .expect("POST");
            assert_eq!(r.status(), 202, "POST {i}");
            let st: Value = r.json().expect("status");
            assert_eq!(st["success_count"], 3, "{st}");
            std::thread::sleep(Duration::from_millis(5));
        }
    });

    let c = client();
    let base = objects(&b);
    let mut by_next = Seen::default();
    let mut by_added_after = Seen::default();
    let mut next: Option<String> = None;
    let mut walking = true; // reader 1 follows `next` until `more` is false
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let writer_done = writer.is_finished();
        // Reader 1.
        let url = match (&next, walking, &by_next.last) {
            (Some(n), true, _) => format!("{base}?limit=4&next={n}"),
            (None, true, _) => format!("{base}?limit=4"),
            (_, false, Some(l)) => format!("{base}?limit=4&added_after={l}"),
            (_, false, None) => format!("{base}?limit=4"),
        };
        let p = get_page(&c, &url);
        by_next.add(&p);
        let empty1 = p.0.is_empty();
        if walking {
            if p.1 {
                next = Some(p.2.clone().expect("next when more"));
            } else {
                walking = false;
            }
        }
        // Reader 2.
        let url = match &by_added_after.last {
            Some(l) => format!("{base}?limit=5&added_after={l}"),
            None => format!("{base}?limit=5"),
        };
        let p = get_page(&c, &url);
        by_added_after.add(&p);
        if writer_done && !walking && empty1 && p.0.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "paging did not finish");
    }
    writer.join().expect("writer");
    by_next.check(150, "next then added_after");
    by_added_after.check(150, "added_after");
    // Both readers saw the same order: the store's.
    assert_eq!(by_next.ids, by_added_after.ids);
    drop((a, b));
}

/// Issue 5 §3 (the store's part): when PostgreSQL drops the server's
/// connections (a restart, a failover), a request that hits a dead connection
/// is answered 503 (TAXII 2.1 §3.6.1: retry later), never 500, and the
/// server reconnects by itself: the next request succeeds.
#[test]
fn lost_database_connections_are_503_then_reconnected() {
    let db = TestDb::new("lost");
    let dir = tempfile::tempdir().expect("dir");
    let s = db.url();
    ok(&run(s, &["collection", "add", "c1"], None));
    ok(&run(
        s,
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse\n"),
    ));
    let config = alice_config(dir.path(), s);
    let srv = serve(&dir.path().join("a"), &config);
    let url = format!("{}/api1/collections/c1/objects/", srv.base);
    let c = client();
    let get = || {
        c.get(&url)
            .header("Accept", TAXII)
            .header("Authorization", auth())
            .send()
            .expect("GET")
    };
    // Several requests, so the server holds several pooled connections.
    for _ in 0..5 {
        assert_eq!(get().status(), 200);
    }
    let mut admin =
        postgres::Client::connect(&sightline_testkit::pg::cluster_url(), postgres::NoTls)
            .expect("admin");
    let dbname = s.rsplit('/').next().expect("db name").to_owned();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&dbname],
        )
        .expect("terminate");
    let first = get();
    let status = first.status();
    let ctype = first
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        status == 503 || status == 200,
        "a lost connection must be 503 (or already reconnected), got {status}: {}",
        first.text().unwrap_or_default()
    );
    if status == 503 {
        assert!(ctype.starts_with("application/taxii+json"), "{ctype}");
    }
    assert_eq!(get().status(), 200, "the server reconnected by itself");
    assert_eq!(get().status(), 200);
}

/// Issue 5 §3: PostgreSQL restarted while a client POSTs envelopes through
/// `serve`: requests during the outage fail with 503 (never 500, never a
/// hang), the server reconnects by itself, and every object whose POST was
/// acknowledged (202 with success_count, TAXII 2.1 §5.5) is stored.
#[test]
fn postgres_restart_under_load_loses_nothing_acknowledged() {
    // A cluster of its own: restarting it disturbs no other test.
    let pg = Cluster::start();
    let s = pg.url();
    let dir = tempfile::tempdir().expect("dir");
    ok(&run(s, &["collection", "add", "c1"], None));
    ok(&run(
        s,
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse\n"),
    ));
    let config = alice_config(dir.path(), s);
    let srv = serve(&dir.path().join("a"), &config);
    let url = format!("{}/api1/collections/c1/objects/", srv.base);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let restarted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, restarted) = (stop.clone(), restarted.clone());
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering::Acquire;
            let c = client();
            let (mut acked, mut unavailable, mut after_restart) = (Vec::new(), 0u32, 0u32);
            let deadline = Instant::now() + Duration::from_secs(90);
            for i in 0..100_000u64 {
                if stop.load(Acquire) || Instant::now() > deadline {
                    break;
                }
                let ids = [5000 + 2 * i, 5001 + 2 * i];
                let objs: Vec<Value> = ids.iter().map(|n| identity(*n, 1)).collect();
                let r = c
                    .post(&url)
                    .header("Accept", TAXII)
                    .header("Content-Type", TAXII)
                    .header("Authorization", auth())
                    .body(json!({ "objects": objs }).to_string())
                    .send()
                    .expect("POST (the server must answer, not hang or drop)");
                match r.status().as_u16() {
                    202 => {
                        let st: Value = r.json().expect("status");
                        assert_eq!(st["success_count"], 2, "{st}");
                        acked.extend(ids.iter().map(|n| sid("identity", *n)));
                        if restarted.load(Acquire) {
                            after_restart += 1;
                        }
                    }
                    503 => unavailable += 1,
                    other => panic!(
                        "POST {i} during the restart: {other} {}",
                        r.text().unwrap_or_default()
                    ),
                }
            }
            (acked, unavailable, after_restart)
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    pg.restart();
    restarted.store(true, std::sync::atomic::Ordering::Release);
    // Let the writer get through again after the restart.
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::Release);
    let (acked, unavailable, after_restart) = writer.join().expect("writer");
    eprintln!(
        "{} objects acknowledged, {unavailable} answers 503, {after_restart} envelopes after the restart",
        acked.len()
    );
    assert!(!acked.is_empty());
    assert!(
        after_restart > 0,
        "the server never reconnected ({unavailable} answers 503)"
    );
    let store = sightline_store_postgres::PgStore::open(s).expect("open");
    let stored: HashSet<String> = store
        .query(&ObjectQuery {
            collection: Some("c1".into()),
            limit: 100_000,
            ..ObjectQuery::default()
        })
        .expect("query")
        .items
        .into_iter()
        .map(|o| o.id)
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(store.check().expect("check").is_empty());
    drop(srv);
}
